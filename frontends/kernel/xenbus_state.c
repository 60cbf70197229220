// SPDX-License-Identifier: MIT
// Split-driver helpers: device backend paths and XenbusState reads, writes and waits.
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/xenbus_state.h>

#define XS_PATH 256

int xenbus_read_backend(const char *type, unsigned int id, char *buf, size_t size)
{
	char path[XS_PATH];

	if ((size_t)ksnprintf(path, sizeof(path), "device/%s/%u/backend", type, id) >= sizeof(path))
		return -XEN_E2BIG;
	return xenbus_read(XBT_NIL, path, buf, size);
}

int xenbus_read_state(const char *dir)
{
	char path[XS_PATH];
	uint64_t v;
	int rc;

	if ((size_t)ksnprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
		return -XEN_E2BIG;
	rc = xenbus_read_u64(XBT_NIL, path, &v);
	if (rc == -XEN_ENOENT)
		return XenbusStateUnknown;
	if (rc)
		return rc;
	/* Whatever the other end wrote, only the states Xen defines. */
	return v <= XenbusStateReconfigured ? (int)v : -XEN_EINVAL;
}

int xenbus_switch_state(const char *dir, enum xenbus_state state)
{
	char path[XS_PATH];

	if ((size_t)ksnprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
		return -XEN_E2BIG;
	return xenbus_printf(XBT_NIL, path, "%d", (int)state);
}

int xenbus_wait_state(const char *dir, enum xenbus_state want, uint64_t timeout_ns)
{
	char path[XS_PATH];
	int id, st, rc;

	if ((size_t)ksnprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
		return -XEN_E2BIG;
	id = xenbus_watch(path, NULL, NULL);
	if (id < 0)
		return id;
	for (;;) {
		/* The first event comes at once, as for every new watch. */
		rc = xenbus_watch_wait(id, NULL, 0, timeout_ns);
		if (rc) {
			st = rc;
			break;
		}
		st = xenbus_read_state(dir);
		if (st < 0 || st == (int)want || st == XenbusStateClosing ||
		    st == XenbusStateClosed)
			break;
	}
	(void)xenbus_unwatch(id);
	return st;
}
