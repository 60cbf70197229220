// SPDX-License-Identifier: MIT
// xenconsoled's control plane: domains and their console keys in xenstore.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cons_daemon.h"

/*
 * Keys read, per domain N (written by the toolstack for PV guests):
 *   /local/domain/N/console/ring-ref   gfn (mfn for PV) of the ring page
 *   /local/domain/N/console/port       the guest's end of the event channel
 *   /local/domain/N/name               the name used for guest-NAME.log
 * Watches: @introduceDomain and @releaseDomain (full rescan) and
 * /local/domain (the one domain a path names is checked again).
 */
#define CONS_XS_ROOT "/local/domain"
#define CONS_XS_TOKEN_DOM "dom"
#define CONS_XS_TOKEN_INTRO "intro"
#define CONS_XS_TOKEN_RELEASE "release"
/* Highest event channel port of any Xen ABI (FIFO: 2^17). */
#define CONS_XS_MAX_PORT (1u << 17)

/*
 * An idle second connection to xenstored, used only to learn that
 * xenstored went away: libxenstore notices end of file in its reader
 * thread but never wakes the watch fd, so a daemon that only waits for
 * watches would go deaf.  Sent nothing and read nothing, it shares the
 * fate of libxenstore's connection (both kept or both lost when xenstored
 * restarts).  Returns the fd or -errno.
 */
int cons_xs_canary_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("XENSTORED_PATH");
	int fd, ret;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int cons_xs_watch(struct cons_daemon *d)
{
	if (!xs_watch(d->xs, "@introduceDomain", CONS_XS_TOKEN_INTRO) ||
	    !xs_watch(d->xs, "@releaseDomain", CONS_XS_TOKEN_RELEASE) ||
	    !xs_watch(d->xs, CONS_XS_ROOT, CONS_XS_TOKEN_DOM))
		return errno ? -errno : -EIO;
	return 0;
}

/* Strict unsigned decimal of at most 20 digits, below LIMIT. */
static int cons_xs_number(const char *s, size_t len, uint64_t limit,
			  uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= limit)
		return -ERANGE;
	*out = v;
	return 0;
}

/*
 * Errors that say the connection to xenstored is gone (libxenstore closes
 * its socket on EOF and then answers EBADF), not that a key is missing,
 * unreadable or malformed.
 */
static bool cons_xs_broken(int err)
{
	return err != -ENOENT && err != -EACCES && err != -EINVAL &&
	       err != -ERANGE && err != -E2BIG;
}

/* Read one key of domain DOMID as a number.  -ENOENT when absent. */
static int cons_xs_read_number(struct cons_daemon *d, uint32_t domid,
			       const char *key, uint64_t limit, uint64_t *out)
{
	char path[96];
	unsigned int len = 0;
	char *val;
	int ret;

	snprintf(path, sizeof(path), CONS_XS_ROOT "/%u/%s", domid, key);
	val = xs_read(d->xs, XBT_NULL, path, &len);
	if (!val)
		return errno == ENOENT || errno == 0 ? -ENOENT : -errno;
	/* A value is guest-writable: embedded NULs or junk are refused. */
	ret = strlen(val) == len ? cons_xs_number(val, len, limit, out) : -EINVAL;
	free(val);
	return ret;
}

static char *cons_xs_read_name(struct cons_daemon *d, uint32_t domid)
{
	char path[96];
	unsigned int len = 0;

	snprintf(path, sizeof(path), CONS_XS_ROOT "/%u/name", domid);
	return xs_read(d->xs, XBT_NULL, path, &len);
}

/*
 * Bring our view of domain DOMID in line with xenstore: drop it when its
 * console keys are gone (or the whole /local/domain/N went), connect it
 * when they appear, reconnect when they change.
 */
static void cons_xs_recheck(struct cons_daemon *d, uint32_t domid)
{
	struct cons_domain *dom = cons_domain_find(d, domid);
	uint64_t ref = 0, port = 0;
	char *name;
	int ret;

	ret = cons_xs_read_number(d, domid, "console/ring-ref", UINT64_MAX, &ref);
	if (!ret)
		ret = cons_xs_read_number(d, domid, "console/port",
					  CONS_XS_MAX_PORT, &port);
	if (ret && cons_xs_broken(ret)) {
		/* Not the domain's fault: keep it, and let the loop end. */
		cons_log("xenstore failed reading domain %u: %s", domid, strerror(-ret));
		d->xs_failed = true;
		if (dom)
			dom->seen = true;
		return;
	}
	if (ret) {
		if (ret != -ENOENT)
			cons_log("domain %u: unusable console keys: %s", domid,
				 strerror(-ret));
		if (dom)
			cons_domain_free(dom, ret == -ENOENT ?
					 "its console keys are gone" :
					 "its console keys are unusable");
		return;
	}
	if (dom && dom->ring_ref == ref && dom->remote_port == port) {
		/* Unchanged: retry a connection that failed before. */
		if (!dom->intf && !dom->disabled)
			cons_domain_connect(dom);
		dom->seen = true;
		return;
	}
	if (dom) {
		cons_log("domain %u: console keys changed (page %#llx, port %llu)",
			 domid, (unsigned long long)ref, (unsigned long long)port);
		cons_domain_reconnect(dom, ref, (uint32_t)port);
		dom->seen = true;
		return;
	}
	/* Keys outlive their domain until the toolstack cleans up. */
	if (cons_dominfo_dead(d, domid))
		return;
	name = cons_xs_read_name(d, domid);
	dom = cons_domain_new(d, domid, name, ref, (uint32_t)port);
	free(name);
	if (!dom) {
		cons_log("domain %u: %s", domid, strerror(errno));
		return;
	}
	dom->seen = true;
	cons_domain_connect(dom);
}

/* Domain id of a directory entry under /local/domain, strict decimal. */
static bool cons_xs_domid(const char *s, size_t len, uint32_t *domid)
{
	uint64_t v;

	if (len > 1 && s[0] == '0')
		return false;
	if (cons_xs_number(s, len, DOMID_FIRST_RESERVED, &v))
		return false;
	*domid = (uint32_t)v;
	return v != 0;
}

void cons_xs_rescan(struct cons_daemon *d)
{
	struct cons_list *pos, *tmp;
	unsigned int num = 0;
	char **ents;

	ents = xs_directory(d->xs, XBT_NULL, CONS_XS_ROOT, &num);
	if (!ents && errno != ENOENT) {
		cons_log("listing " CONS_XS_ROOT ": %s", strerror(errno));
		if (cons_xs_broken(-errno))
			d->xs_failed = true;
		return;
	}
	cons_list_for_each_safe(pos, tmp, &d->domains)
		cons_container_of(pos, struct cons_domain, link)->seen = false;
	for (unsigned int i = 0; ents && i < num; i++) {
		uint32_t domid;

		if (cons_xs_domid(ents[i], strlen(ents[i]), &domid))
			cons_xs_recheck(d, domid);
	}
	free(ents);
	if (d->xs_failed)
		return;		/* what we did not read may still be there */
	cons_list_for_each_safe(pos, tmp, &d->domains) {
		struct cons_domain *dom = cons_container_of(pos, struct cons_domain, link);

		if (!dom->seen)
			cons_domain_free(dom, "it left xenstore");
	}
}

/*
 * Domain a watched path names ("/local/domain/N" or below), when the path
 * could matter to a console: N itself, N/name or N/console/...
 */
static bool cons_xs_path_domid(const char *path, uint32_t *domid)
{
	static const char root[] = CONS_XS_ROOT "/";
	const char *p, *end;

	if (strncmp(path, root, sizeof(root) - 1) != 0)
		return false;
	p = path + sizeof(root) - 1;
	end = strchr(p, '/');
	if (!end)
		end = p + strlen(p);
	if (!cons_xs_domid(p, (size_t)(end - p), domid))
		return false;
	return *end == '\0' || strcmp(end, "/name") == 0 ||
	       strcmp(end, "/console") == 0 || strncmp(end, "/console/", 9) == 0;
}

static void cons_xs_recheck_marked(struct cons_daemon *d);

/*
 * @releaseDomain: drop every domain the hypervisor says is gone or dying,
 * whether or not the toolstack has removed its xenstore keys yet (so a
 * later domain given the same domid starts afresh).
 */
static void cons_xs_drop_dead(struct cons_daemon *d)
{
	struct cons_list *pos, *tmp;

	cons_list_for_each_safe(pos, tmp, &d->domains) {
		struct cons_domain *dom = cons_container_of(pos, struct cons_domain, link);

		if (cons_dominfo_dead(d, dom->domid))
			cons_domain_free(dom, "@releaseDomain: the domain is gone");
	}
}

/*
 * The watch pipe is readable.  Returns 0, or -errno when the connection to
 * xenstored failed (the daemon then exits and its supervisor restarts it).
 */
int cons_xs_handle(struct cons_daemon *d)
{
	bool rescan = false, released = false;
	char **ev;

	memset(d->recheck, 0, sizeof(d->recheck));
	/*
	 * Drain every queued event: libxenstore may stop signalling the fd
	 * while events remain.  Paths under /local/domain are coalesced per
	 * domain, so a toolstack writing many keys costs one check each.
	 */
	while ((ev = xs_check_watch(d->xs)) != NULL) {
		const char *path = ev[XS_WATCH_PATH];
		const char *token = ev[XS_WATCH_TOKEN];
		uint32_t domid;

		if (strcmp(token, CONS_XS_TOKEN_RELEASE) == 0)
			released = true;
		if (strcmp(token, CONS_XS_TOKEN_DOM) != 0 ||
		    strcmp(path, CONS_XS_ROOT) == 0)
			rescan = true;
		else if (cons_xs_path_domid(path, &domid))
			d->recheck[domid / 64] |= 1ull << (domid % 64);
		free(ev);
	}
	if (errno != EAGAIN) {
		cons_log("xenstore connection failed: %s", strerror(errno));
		return errno ? -errno : -EIO;
	}
	if (released)
		cons_xs_drop_dead(d);
	if (rescan)
		cons_xs_rescan(d);
	else
		cons_xs_recheck_marked(d);
	return d->xs_failed ? -EPIPE : 0;
}

/* Check again each domain marked in d->recheck. */
static void cons_xs_recheck_marked(struct cons_daemon *d)
{
	for (uint32_t w = 0; w < sizeof(d->recheck) / sizeof(d->recheck[0]); w++) {
		while (d->recheck[w]) {
			uint32_t bit = (uint32_t)__builtin_ctzll(d->recheck[w]);

			d->recheck[w] &= d->recheck[w] - 1;
			cons_xs_recheck(d, w * 64 + bit);
		}
	}
}
