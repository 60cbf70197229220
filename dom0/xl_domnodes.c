// SPDX-License-Identifier: MIT
/* A domain's xenstore nodes: written and introduced at create, removed after destroy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>
#include "sv/svxs.h"
#include "xl.h"
#include "xl_domnodes.h"

/* Now as libxl writes /vm/<uuid>/start_time: seconds and hundredths since the epoch. */
static void start_time_text(char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "%llu.%02ld", (unsigned long long)ts.tv_sec, ts.tv_nsec / 10000000);
}

struct setup {
	const struct xl_domnodes *dom;
	char base[SVXS_DOMAIN_DIR_MAX], vm[128];
	int failed; /* the -errno of the write that failed, if one did */
};

/* Every node, inside the transaction svxs_transaction_at runs (again on a conflict). */
static int setup_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct setup *s = arg;
	const struct xl_domnodes *dom = s->dom;
	const char *base = s->base, *vm = s->vm;
	/* dom0 owns, the guest reads: the base and what the toolstack decides. */
	const struct xs_permissions ro[2] = { { .id = 0, .perms = XS_PERM_NONE },
					      { .id = dom->domid, .perms = XS_PERM_READ } };
	/* The guest owns: what it writes (control answers, data, devices' frontends). */
	const struct xs_permissions rw[1] = { { .id = dom->domid, .perms = XS_PERM_NONE } };
	/* The guest's writable directories, each empty. */
	static const char *const guest_dirs[] = { "control/shutdown",
						  "control/feature-poweroff",
						  "control/feature-reboot",
						  "control/feature-suspend",
						  "control/feature-balloon",
						  "control/sysrq",
						  "data",
						  "drivers",
						  "feature",
						  "attr",
						  "error" };
	char v[64];
	int ret;

	start_time_text(v, sizeof(v));
	ret = svxs_write_perms(xs, t, base, NULL, "", ro, 2);
	ret = ret ?: svxs_write_perms(xs, t, base, "name", dom->name, ro, 2);
	ret = ret ?: svxs_printf_perms(xs, t, base, "domid", ro, 2, "%u", dom->domid);
	ret = ret ?: svxs_write(xs, t, vm, NULL, "");
	ret = ret ?: svxs_write(xs, t, vm, "uuid", dom->uuid);
	ret = ret ?: svxs_write(xs, t, vm, "name", dom->name);
	ret = ret ?: svxs_write(xs, t, vm, "start_time", v);
	ret = ret ?: svxs_write_perms(xs, t, base, "vm", vm, ro, 2);
	ret = ret
		  ?: svxs_printf_perms(xs, t, base, "memory/target", ro, 2, "%llu",
				       (unsigned long long)dom->memory_kb);
	ret = ret
		  ?: svxs_printf_perms(xs, t, base, "memory/static-max", ro, 2, "%llu",
				       (unsigned long long)dom->maxmem_kb);
	ret = ret
		  ?: svxs_printf_perms(xs, t, base, "store/ring-ref", ro, 2, "%llu",
				       (unsigned long long)dom->store_mfn);
	ret = ret ?: svxs_printf_perms(xs, t, base, "store/port", ro, 2, "%u", dom->store_port);
	ret = ret
		  ?: svxs_printf_perms(xs, t, base, "console/ring-ref", ro, 2, "%llu",
				       (unsigned long long)dom->console_mfn);
	ret = ret ?: svxs_printf_perms(xs, t, base, "console/port", ro, 2, "%u", dom->console_port);
	ret = ret ?: svxs_write_perms(xs, t, base, "console/limit", "1048576", ro, 2);
	ret = ret ?: svxs_write_perms(xs, t, base, "console/type", "xenconsoled", ro, 2);
	ret = ret ?: svxs_write_perms(xs, t, base, "console/output", "pty", ro, 2);
	ret = ret ?: svxs_write_perms(xs, t, base, "control", "", ro, 2);
	for (size_t i = 0; !ret && i < sizeof(guest_dirs) / sizeof(guest_dirs[0]); i++)
		ret = svxs_write_perms(xs, t, base, guest_dirs[i], "", rw, 1);
	ret = ret ?: svxs_write_perms(xs, t, base, "device", "", ro, 2);
	for (unsigned c = 0; !ret && c < dom->maxvcpus; c++) {
		snprintf(v, sizeof(v), "cpu/%u/availability", c);
		ret =
		    svxs_write_perms(xs, t, base, v, c < dom->vcpus ? "online" : "offline", ro, 2);
	}
	s->failed = ret;
	return ret;
}

void xl_domnodes_tx_error(char *err, size_t errlen, enum svxs_tx_step step, const char *dir,
			  int ret)
{
	if (step == SVXS_TX_START)
		snprintf(err, errlen, "xenstore: cannot start a transaction: %s", strerror(-ret));
	else
		snprintf(err, errlen, "xenstore: cannot %s %s: %s",
			 step == SVXS_TX_FN ? "write" : "commit", dir, strerror(-ret));
}

int xl_domnodes_setup(struct xs_handle *xs, const struct xl_domnodes *dom, char *err, size_t errlen)
{
	struct setup s = { .dom = dom };
	enum svxs_tx_step step;
	int ret;

	svxs_domain_dir(s.base, dom->domid);
	snprintf(s.vm, sizeof(s.vm), "/vm/%s", dom->uuid);
	ret = svxs_transaction_at(xs, setup_tx, &s, &step);
	if (ret) {
		xl_domnodes_tx_error(err, errlen, step, s.base, ret);
		return ret;
	}
	if (!xs_introduce_domain(xs, dom->domid, dom->store_mfn, dom->store_port)) {
		snprintf(err, errlen, "xenstore: cannot introduce domain %u: %s", dom->domid,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

void xl_domnodes_cleanup(struct xs_handle *xs, uint32_t domid)
{
	char path[64], base[SVXS_DOMAIN_DIR_MAX];
	char *vm;

	xl_userdata_remove(domid); /* libxl's record of it, beside its nodes */
	if (!xs)
		return;
	svxs_domain_dir(base, domid);
	vm = svxs_read(xs, XBT_NULL, base, "vm");
	xs_release_domain(xs, domid);
	xs_rm(xs, XBT_NULL, base);
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
