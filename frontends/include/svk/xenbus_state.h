// SPDX-License-Identifier: MIT
// Split-driver helpers over xenbus: device paths and the XenbusState machine (xenbus_state.c).
#ifndef SVK_XENBUS_STATE_H
#define SVK_XENBUS_STATE_H

#include <svk/xenbus.h>

/*
 * xenbus_read_backend: the backend path of frontend device @type/@id, read
 * from "device/<type>/<id>/backend" (relative: our home), into @buf.
 * Returns its length or -errno.
 */
int xenbus_read_backend(const char *type, unsigned int id, char *buf, size_t size);

/* xenbus_read_state: XenbusState at "<dir>/state" (XenbusStateUnknown when absent), or -errno. */
int xenbus_read_state(const char *dir);

/*
 * xenbus_switch_state: write @state to "<dir>/state", as the frontend or
 * backend owning @dir announces each step.  0 or -errno.
 */
int xenbus_switch_state(const char *dir, enum xenbus_state state);

/*
 * xenbus_wait_state: watch "<dir>/state" until it reads @want, or
 * XenbusStateClosing/Closed (the other end gave up), or @timeout_ns runs
 * out.  Returns the state seen (>= 0) or -errno.
 */
int xenbus_wait_state(const char *dir, enum xenbus_state want, uint64_t timeout_ns);

#endif
