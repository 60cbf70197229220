// SPDX-License-Identifier: MIT
/* The toolstack's xenstore side: writes a new domain's nodes, introduces it, cleans up after it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>
#include "sv/svctl.h"
#include "xl.h"
#include "xl_xs.h"

struct xs_handle *xl_xs_open(void)
{
	char path[4096];

	if (!getenv("XENSTORED_PATH")) {
		snprintf(path, sizeof(path), "%s/xenstored.sock", svctl_rundir());
		setenv("XENSTORED_PATH", path, 0);
	}
	return xs_open(XS_OPEN_SOCKETONLY);
}

void xl_xs_close(struct xs_handle *xs)
{
	if (xs)
		xs_close(xs);
}

/* Write path=value (printf-formatted path) with the given permissions. */
static bool put(struct xs_handle *xs, xs_transaction_t t, struct xs_permissions *perms,
		unsigned nperms, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static bool put(struct xs_handle *xs, xs_transaction_t t, struct xs_permissions *perms,
		unsigned nperms, const char *value, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (!xs_write(xs, t, path, value, (unsigned)strlen(value)))
		return false;
	return !perms || xs_set_permissions(xs, t, path, perms, nperms);
}

/* Now as libxl writes /vm/<uuid>/start_time: seconds and hundredths since the epoch. */
static void start_time_text(char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "%llu.%02ld", (unsigned long long)ts.tv_sec, ts.tv_nsec / 10000000);
}

int xl_xs_domain_setup(struct xs_handle *xs, const struct xl_xs_domain *dom, char *err,
		       size_t errlen)
{
	unsigned id = dom->domid;
	/* dom0 owns, the guest reads: the base and what the toolstack decides. */
	struct xs_permissions ro[2] = { { .id = 0, .perms = XS_PERM_NONE },
					{ .id = id, .perms = XS_PERM_READ } };
	/* The guest owns: what it writes (control answers, data, devices' frontends). */
	struct xs_permissions rw[1] = { { .id = id, .perms = XS_PERM_NONE } };
	char v[64], base[64];
	int tries = 0;

	snprintf(base, sizeof(base), "/local/domain/%u", id);
again:;
	xs_transaction_t t = xs_transaction_start(xs);
	if (t == XBT_NULL) {
		snprintf(err, errlen, "xenstore: cannot start a transaction: %s", strerror(errno));
		return -errno;
	}
	bool ok =
	    put(xs, t, ro, 2, "", "%s", base) && put(xs, t, ro, 2, dom->name, "%s/name", base) &&
	    (snprintf(v, sizeof(v), "%u", id), put(xs, t, ro, 2, v, "%s/domid", base)) &&
	    put(xs, t, NULL, 0, "", "/vm/%s", dom->uuid) &&
	    put(xs, t, NULL, 0, dom->uuid, "/vm/%s/uuid", dom->uuid) &&
	    put(xs, t, NULL, 0, dom->name, "/vm/%s/name", dom->uuid) &&
	    (start_time_text(v, sizeof(v)),
	     put(xs, t, NULL, 0, v, "/vm/%s/start_time", dom->uuid)) &&
	    (snprintf(v, sizeof(v), "/vm/%s", dom->uuid), put(xs, t, ro, 2, v, "%s/vm", base)) &&
	    (snprintf(v, sizeof(v), "%llu", (unsigned long long)dom->memory_kb),
	     put(xs, t, ro, 2, v, "%s/memory/target", base)) &&
	    (snprintf(v, sizeof(v), "%llu", (unsigned long long)dom->maxmem_kb),
	     put(xs, t, ro, 2, v, "%s/memory/static-max", base)) &&
	    (snprintf(v, sizeof(v), "%llu", (unsigned long long)dom->store_mfn),
	     put(xs, t, ro, 2, v, "%s/store/ring-ref", base)) &&
	    (snprintf(v, sizeof(v), "%u", dom->store_port),
	     put(xs, t, ro, 2, v, "%s/store/port", base)) &&
	    (snprintf(v, sizeof(v), "%llu", (unsigned long long)dom->console_mfn),
	     put(xs, t, ro, 2, v, "%s/console/ring-ref", base)) &&
	    (snprintf(v, sizeof(v), "%u", dom->console_port),
	     put(xs, t, ro, 2, v, "%s/console/port", base)) &&
	    put(xs, t, ro, 2, "1048576", "%s/console/limit", base) &&
	    put(xs, t, ro, 2, "xenconsoled", "%s/console/type", base) &&
	    put(xs, t, ro, 2, "pty", "%s/console/output", base) &&
	    put(xs, t, ro, 2, "", "%s/control", base) &&
	    put(xs, t, rw, 1, "", "%s/control/shutdown", base) &&
	    put(xs, t, rw, 1, "", "%s/control/feature-poweroff", base) &&
	    put(xs, t, rw, 1, "", "%s/control/feature-reboot", base) &&
	    put(xs, t, rw, 1, "", "%s/control/feature-balloon", base) &&
	    put(xs, t, rw, 1, "", "%s/control/sysrq", base) &&
	    put(xs, t, rw, 1, "", "%s/data", base) && put(xs, t, rw, 1, "", "%s/drivers", base) &&
	    put(xs, t, rw, 1, "", "%s/feature", base) && put(xs, t, rw, 1, "", "%s/attr", base) &&
	    put(xs, t, rw, 1, "", "%s/error", base) && put(xs, t, ro, 2, "", "%s/device", base);
	for (unsigned c = 0; ok && c < dom->maxvcpus; c++)
		ok = put(xs, t, ro, 2, c < dom->vcpus ? "online" : "offline",
			 "%s/cpu/%u/availability", base, c);
	if (!ok) {
		int e = errno;
		xs_transaction_end(xs, t, true);
		snprintf(err, errlen, "xenstore: cannot write %s: %s", base, strerror(e));
		return -e;
	}
	if (!xs_transaction_end(xs, t, false)) {
		if (errno == EAGAIN && ++tries < 10)
			goto again;
		snprintf(err, errlen, "xenstore: cannot commit %s: %s", base, strerror(errno));
		return -errno;
	}
	if (!xs_introduce_domain(xs, id, dom->store_mfn, dom->store_port)) {
		snprintf(err, errlen, "xenstore: cannot introduce domain %u: %s", id,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

void xl_xs_domain_cleanup(struct xs_handle *xs, uint32_t domid)
{
	char path[64];
	char *vm;

	xl_userdata_remove(domid); /* libxl's record of it, beside its nodes */
	if (!xs)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	vm = xs_read(xs, XBT_NULL, path, NULL);
	xs_release_domain(xs, domid);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	/* The backends' directories for it, as libxl removes them. */
	static const char *const kinds[] = { "vbd", "vif", "console" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kinds[i], domid);
		xs_rm(xs, XBT_NULL, path);
	}
	if (vm && !strncmp(vm, "/vm/", 4))
		xs_rm(xs, XBT_NULL, vm);
	free(vm);
}

char *xl_xs_read(struct xs_handle *xs, uint32_t domid, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
	return xs_read(xs, XBT_NULL, path, NULL);
}

bool xl_xs_write(struct xs_handle *xs, uint32_t domid, const char *rel, const char *value)
{
	char path[512];

	snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
	return xs_write(xs, XBT_NULL, path, value, (unsigned)strlen(value));
}
