// SPDX-License-Identifier: MIT
// xs-client: a test and scripting client built on Debian's libxenstore, plus raw-socket
// hostile-client checks.
//
//   xs-client [--as DOMID] COMMAND ARGS...
//     --as DOMID            drop this connection to DOMID first (CONTROL restrict)
//     read PATH | write PATH VALUE | rm PATH | ls PATH | perms PATH
//     setperms PATH PERM... (as "b0" "r5")
//     watch PATH TOKEN N    print the first N events as "PATH TOKEN"
//     introduce DOMID MFN PORT | release DOMID | set-target DOMID TARGET
//     is-introduced DOMID | domain-path DOMID | control CMD [ARGS...]
//     txn-conflict PATH     prove a conflicting commit gets EAGAIN
//     txn-add PATH N        add 1 to PATH N times, retrying on EAGAIN
//     hostile SOCKET        send malformed requests on raw connections
//     hostile-raw SOCKET    copy stdin's bytes to a raw connection
// Exit status 0 on success; errors are printed as their errno names.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include "xs_client_raw.h"
#include "xs_wire.h"

static int fail(const char *what)
{
	int e = errno;

	printf("%s\n", xs_wire_errname(e ? e : EIO));
	fprintf(stderr, "xs-client: %s: %s\n", what, strerror(e));
	return 1;
}

static struct xs_handle *open_as(int domid)
{
	struct xs_handle *h = xs_open(0);
	char arg[16];
	char *r;

	if (!h || domid < 0)
		return h;
	snprintf(arg, sizeof(arg), "%d", domid);
	r = xs_control_command(h, "restrict", arg, (unsigned int)strlen(arg) + 1);
	if (!r) {
		xs_close(h);
		return NULL;
	}
	free(r);
	return h;
}

static int cmd_txn_conflict(struct xs_handle *a, const char *path)
{
	struct xs_handle *b = xs_open(0);
	xs_transaction_t t;
	unsigned int len;
	char *v;

	if (!b)
		return fail("open");
	if (!xs_write(a, XBT_NULL, path, "0", 1))
		return fail("write");
	t = xs_transaction_start(a);
	if (t == XBT_NULL)
		return fail("transaction_start");
	v = xs_read(a, t, path, &len);
	free(v);
	if (!xs_write(a, t, path, "from-transaction", 16))
		return fail("write in transaction");
	if (!xs_write(b, XBT_NULL, path, "outside", 7))
		return fail("write outside");
	if (xs_transaction_end(a, t, false)) {
		printf("committed (expected EAGAIN)\n");
		return 1;
	}
	if (errno != EAGAIN)
		return fail("transaction_end");
	v = xs_read(b, XBT_NULL, path, &len);
	printf("EAGAIN %s\n", v ? v : "?");
	free(v);
	xs_close(b);
	return 0;
}

static int cmd_txn_add(struct xs_handle *h, const char *path, int n)
{
	int i, retries = 0;

	for (i = 0; i < n; i++) {
		for (;;) {
			xs_transaction_t t = xs_transaction_start(h);
			unsigned int len;
			char *v, buf[32];
			long cur;

			if (t == XBT_NULL)
				return fail("transaction_start");
			v = xs_read(h, t, path, &len);
			cur = v ? strtol(v, NULL, 10) : 0;
			free(v);
			snprintf(buf, sizeof(buf), "%ld", cur + 1);
			if (!xs_write(h, t, path, buf, (unsigned int)strlen(buf))) {
				xs_transaction_end(h, t, true);
				return fail("write");
			}
			if (xs_transaction_end(h, t, false))
				break;
			if (errno != EAGAIN)
				return fail("transaction_end");
			retries++;
		}
	}
	printf("done %d retries %d\n", n, retries);
	return 0;
}

static int raw_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends one message; reads one reply header + payload into @out. */
static int raw_call(int fd, uint32_t type, const void *p, uint32_t len, uint32_t claimed_len,
		    struct xsd_sockmsg *rh, char *out, size_t outsz)
{
	struct xsd_sockmsg h = { .type = type, .req_id = 9, .len = claimed_len };
	size_t got = 0;

	if (write(fd, &h, sizeof(h)) != sizeof(h) || (len && write(fd, p, len) != (ssize_t)len))
		return -1;
	while (got < sizeof(*rh)) {
		ssize_t n = read(fd, (char *)rh + got, sizeof(*rh) - got);

		if (n <= 0)
			return -1; /* disconnected */
		got += (size_t)n;
	}
	if (rh->len >= outsz)
		return -1;
	got = 0;
	while (got < rh->len) {
		ssize_t n = read(fd, out + got, rh->len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	out[rh->len] = '\0';
	return 0;
}

static int check(const char *what, bool ok)
{
	printf("%s %s\n", ok ? "ok" : "FAILED", what);
	return ok ? 0 : 1;
}

static int cmd_hostile(const char *sock)
{
	struct xsd_sockmsg rh;
	char out[8192], big[5000];
	int fd, bad = 0, i;

	memset(big, 'a', sizeof(big));
	/* Unknown type: an error, the connection stays. */
	fd = raw_connect(sock);
	bad |= check("unknown type gets EINVAL",
		     fd >= 0 && !raw_call(fd, 1234, "", 0, 0, &rh, out, sizeof(out)) &&
			 rh.type == XS_ERROR && !strcmp(out, "EINVAL"));
	bad |=
	    check("connection usable after error",
		  !raw_call(fd, XS_READ, "/", 2, 2, &rh, out, sizeof(out)) && rh.type == XS_READ);
	/* Path without NUL. */
	bad |= check("path without NUL gets EINVAL",
		     !raw_call(fd, XS_READ, "/tool", 5, 5, &rh, out, sizeof(out)) &&
			 rh.type == XS_ERROR && !strcmp(out, "EINVAL"));
	close(fd);
	/* Over-long payload: disconnected. */
	fd = raw_connect(sock);
	bad |= check("payload over 4096 disconnects",
		     fd >= 0 && raw_call(fd, XS_WRITE, big, sizeof(big), sizeof(big), &rh, out,
					 sizeof(out)) < 0);
	close(fd);
	/* Half a header, then hang up. */
	fd = raw_connect(sock);
	if (fd >= 0) {
		if (write(fd, "\1\0\0", 3) != 3)
			bad = 1;
		close(fd);
	}
	/* A flood of pipelined requests with nobody reading. */
	fd = raw_connect(sock);
	for (i = 0; fd >= 0 && i < 20000; i++) {
		struct xsd_sockmsg h = { .type = XS_READ, .req_id = (uint32_t)i, .len = 2 };
		char msg[18];
		struct timeval tv = { 0, 200000 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		memcpy(msg, &h, 16);
		memcpy(msg + 16, "/", 2);
		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			break; /* the daemon stopped reading us: that is the point */
	}
	close(fd);
	/* Everyone else carries on. */
	fd = raw_connect(sock);
	bad |= check("daemon still answers",
		     fd >= 0 &&
			 !raw_call(fd, XS_WRITE, "/hostile\0ok", 11, 11, &rh, out, sizeof(out)) &&
			 rh.type == XS_WRITE);
	close(fd);
	return bad;
}

/* Streams stdin to the daemon, reading whatever comes back. */
static int cmd_hostile_raw(const char *sock)
{
	char buf[4096];
	int fd = raw_connect(sock);
	ssize_t n;

	if (fd < 0)
		return fail("connect");
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		struct timeval tv = { 0, 100000 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (write(fd, buf, (size_t)n) != n)
			break;
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 0)
			break; /* disconnected, as expected */
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct xs_handle *h;
	int as = -1, ret = 0;
	unsigned int len, i, n;
	char *v, **list;

	/* Hostile modes write into sockets the daemon closes on purpose. */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 && strcmp(argv[1], "--as") == 0) {
		as = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: xs-client [--as DOMID] COMMAND ARGS...\n");
		return 2;
	}
	if (strcmp(argv[1], "hostile") == 0 && argc == 3)
		return cmd_hostile(argv[2]);
	if (strcmp(argv[1], "hostile-raw") == 0 && argc == 3)
		return cmd_hostile_raw(argv[2]);
	ret = xs_client_raw(argc, argv);
	if (ret >= 0)
		return ret;
	ret = 0;
	h = open_as(as);
	if (!h)
		return fail("open");
#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (argc < (k)) {                                                                  \
			fprintf(stderr, "missing arguments\n");                                    \
			return 2;                                                                  \
		}                                                                                  \
	} while (0)
	if (!strcmp(argv[1], "read")) {
		NEED(3);
		v = xs_read(h, XBT_NULL, argv[2], &len);
		if (!v)
			return fail("read");
		printf("%.*s\n", (int)len, v);
		free(v);
	} else if (!strcmp(argv[1], "write")) {
		NEED(4);
		if (!xs_write(h, XBT_NULL, argv[2], argv[3], (unsigned int)strlen(argv[3])))
			return fail("write");
		printf("OK\n");
	} else if (!strcmp(argv[1], "rm")) {
		NEED(3);
		if (!xs_rm(h, XBT_NULL, argv[2]))
			return fail("rm");
		printf("OK\n");
	} else if (!strcmp(argv[1], "ls")) {
		NEED(3);
		list = xs_directory(h, XBT_NULL, argv[2], &n);
		if (!list)
			return fail("directory");
		for (i = 0; i < n; i++)
			printf("%s\n", list[i]);
		free(list);
	} else if (!strcmp(argv[1], "perms")) {
		struct xs_permissions *p;

		NEED(3);
		p = xs_get_permissions(h, XBT_NULL, argv[2], &n);
		if (!p)
			return fail("get_permissions");
		for (i = 0; i < n; i++)
			printf("%s%c%u", i ? " " : "", "nrwb"[p[i].perms & 3], p[i].id);
		printf("\n");
		free(p);
	} else if (!strcmp(argv[1], "setperms")) {
		struct xs_permissions p[16];
		int k;

		NEED(4);
		for (k = 3; k < argc && k - 3 < 16; k++) {
			const char *s = argv[k];

			p[k - 3].perms = s[0] == 'r'   ? XS_PERM_READ
					 : s[0] == 'w' ? XS_PERM_WRITE
					 : s[0] == 'b' ? XS_PERM_READ | XS_PERM_WRITE
						       : XS_PERM_NONE;
			p[k - 3].id = (unsigned int)atoi(s + 1);
		}
		if (!xs_set_permissions(h, XBT_NULL, argv[2], p, (unsigned int)(k - 3)))
			return fail("set_permissions");
		printf("OK\n");
	} else if (!strcmp(argv[1], "watch")) {
		int want;

		NEED(5);
		want = atoi(argv[4]);
		if (!xs_watch(h, argv[2], argv[3]))
			return fail("watch");
		printf("watching\n");
		fflush(stdout);
		while (want-- > 0) {
			list = xs_read_watch(h, &n);
			if (!list)
				return fail("read_watch");
			printf("%s %s\n", list[XS_WATCH_PATH], list[XS_WATCH_TOKEN]);
			fflush(stdout);
			free(list);
		}
	} else if (!strcmp(argv[1], "introduce")) {
		NEED(5);
		if (!xs_introduce_domain(h, (unsigned int)atoi(argv[2]), strtoul(argv[3], NULL, 10),
					 (unsigned int)atoi(argv[4])))
			return fail("introduce");
		printf("OK\n");
	} else if (!strcmp(argv[1], "release")) {
		NEED(3);
		if (!xs_release_domain(h, (unsigned int)atoi(argv[2])))
			return fail("release");
		printf("OK\n");
	} else if (!strcmp(argv[1], "set-target")) {
		NEED(4);
		if (!xs_set_target(h, (unsigned int)atoi(argv[2]), (unsigned int)atoi(argv[3])))
			return fail("set_target");
		printf("OK\n");
	} else if (!strcmp(argv[1], "is-introduced")) {
		NEED(3);
		printf("%s\n", xs_is_domain_introduced(h, (unsigned int)atoi(argv[2])) ? "T" : "F");
	} else if (!strcmp(argv[1], "domain-path")) {
		NEED(3);
		v = xs_get_domain_path(h, (unsigned int)atoi(argv[2]));
		if (!v)
			return fail("get_domain_path");
		printf("%s\n", v);
		free(v);
	} else if (!strcmp(argv[1], "control")) {
		char buf[4096];
		size_t off = 0;
		int k;

		NEED(3);
		for (k = 3; k < argc; k++) {
			size_t l = strlen(argv[k]) + 1;

			if (off + l > sizeof(buf))
				return 2;
			memcpy(buf + off, argv[k], l);
			off += l;
		}
		v = xs_control_command(h, argv[2], buf, (unsigned int)off);
		if (!v)
			return fail("control");
		printf("%s", v);
		free(v);
	} else if (!strcmp(argv[1], "txn-conflict")) {
		NEED(3);
		ret = cmd_txn_conflict(h, argv[2]);
	} else if (!strcmp(argv[1], "txn-add")) {
		NEED(4);
		ret = cmd_txn_add(h, argv[2], atoi(argv[3]));
	} else {
		fprintf(stderr, "xs-client: unknown command %s\n", argv[1]);
		ret = 2;
	}
	xs_close(h);
	return ret;
}
