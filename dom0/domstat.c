// SPDX-License-Identifier: MIT
/* Per-domain device statistics shared by xl top and our libxenstat. */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>
#include "domstat.h"

int domstat_parse_vbds(char *buf, struct domstat_vbd *out, int max)
{
	char *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned domid, devid;
		const char *r = strstr(line, " reads "), *w = strstr(line, " writes ");
		char *end;
		unsigned long long rd, wr;

		if (sscanf(line, "vbd %u/%u ", &domid, &devid) != 2 || !r || !w)
			continue;
		errno = 0;
		rd = strtoull(r + 7, &end, 10);
		if (errno || end == r + 7 || !isdigit((unsigned char)r[7]))
			continue;
		wr = strtoull(w + 8, &end, 10);
		if (errno || end == w + 8 || !isdigit((unsigned char)w[8]))
			continue;
		out[n].domid = domid;
		out[n].devid = devid;
		out[n].reads = rd;
		out[n].writes = wr;
		n++;
	}
	return n;
}

int domstat_read_vbds(const char *rundir, struct domstat_vbd *out, int max)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	enum { BUFSZ = 65536 };
	char *buf = malloc(BUFSZ);
	size_t got = 0;
	int fd, nvbd;

	if (!buf)
		return 0;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/blkback.sock", rundir) >=
	    sizeof(sa.sun_path))
		goto none;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto none;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (got == BUFSZ - 1 || poll(&p, 1, 1000) <= 0)
				break;
			n = read(fd, buf + got, BUFSZ - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	close(fd);
	buf[got] = '\0';
	nvbd = domstat_parse_vbds(buf, out, max);
	free(buf);
	return nvbd;
none:
	free(buf);
	return 0;
}

uint64_t domstat_if_counter(const char *ifname, const char *which)
{
	char path[160];
	unsigned long long v = 0;
	FILE *f;

	if (!*ifname || strchr(ifname, '/') || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, which);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

void domstat_vif_ifname(struct xs_handle *xs, uint32_t domid, const char *dev, char *out,
			unsigned outlen)
{
	char key[160];
	char *v;

	snprintf(key, sizeof(key), "/local/domain/0/backend/vif/%u/%s/vifname", domid, dev);
	v = xs ? xs_read(xs, XBT_NULL, key, NULL) : NULL;
	if (v && *v && strlen(v) < 16)
		snprintf(out, outlen, "%s", v);
	else
		snprintf(out, outlen, "vif%u.%.8s", domid, dev);
	free(v);
}

uint64_t domstat_maxmem_kb(struct xs_handle *xs, uint32_t domid, uint64_t fallback)
{
	char key[96];
	char *text, *end;
	unsigned long long v;
	int ok;

	snprintf(key, sizeof(key), "/local/domain/%u/memory/static-max", domid);
	text = xs ? xs_read(xs, XBT_NULL, key, NULL) : NULL;
	if (!text)
		return fallback;
	errno = 0;
	v = strtoull(text, &end, 10);
	ok = !errno && end != text && !*end && text[0] != '-';
	free(text);
	return ok ? v : fallback;
}

uint64_t domstat_host_cpu_ns(void)
{
	unsigned long long user, nice, sys;
	FILE *f = fopen("/proc/stat", "re");
	uint64_t ns = 0;

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu", &user, &nice, &sys) == 3)
			ns = (uint64_t)((double)(user + nice + sys) * 1e9 /
					(double)sysconf(_SC_CLK_TCK));
		fclose(f);
	}
	return ns;
}
