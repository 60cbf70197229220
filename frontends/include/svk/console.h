// SPDX-License-Identifier: MIT
// The guest kernel's console: console_io early, then the xencons ring (console.c).
#ifndef SVK_CONSOLE_H
#define SVK_CONSOLE_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * console_write: write @len bytes.  Until console_ring_init succeeds (and
 * whenever there is no ring) this is HYPERVISOR_console_io(CONSOLEIO_write);
 * afterwards the bytes go into the ring's out[] and the backend is
 * notified, waiting for space as long as the backend consumes.  Nothing is
 * dropped: if the backend makes no progress for CONSOLE_STALL_NS the
 * console goes back to console_io for good and says so.  Callers end
 * their lines with "\n".  Any vCPU; from the upcall too.
 */
void console_write(const char *buf, size_t len);

/*
 * console_flush: wait (yielding) until the backend has taken everything in
 * out[], at most CONSOLE_STALL_NS, so the last lines before a shutdown
 * are not lost with the domain.  No-op without a ring.
 */
void console_flush(void);

#define CONSOLE_STALL_NS (2ULL * 1000000000ULL)

/*
 * console_ring_init: use the ring at start_info->console.domU.mfn with port
 * console.domU.evtchn.  Needs events_init.  Returns 0, -XEN_ENODEV when
 * either is 0 (no console backend: console_io stays), or -errno.
 */
int console_ring_init(const start_info_t *si);

/*
 * console_suspend: from now on output goes by console_io (the port will
 * not survive a restore).  console_resume: back on the ring, with
 * @new_domain on start_info's port (a restored domain's; the ring page
 * and its contents are the same), else on the port it had.  Only a ring
 * in use at console_suspend comes back.  0 or -errno (console_io stays).
 */
void console_suspend(void);
int console_resume(const start_info_t *si, bool new_domain);

/* Whether output goes through the ring now. */
bool console_ring_active(void);

/* Longest input line kept (longer lines are cut); lines queued at most. */
#define CONSOLE_LINE_MAX 256
#define CONSOLE_LINES 8

/*
 * console_read_line: the next line typed on the ring's input (without its
 * "\n" or "\r"), NUL-terminated in @buf.  Waits up to @timeout_ns (0: no
 * limit).  Returns the length, -XEN_ETIMEDOUT, or -XEN_ENODEV without a
 * ring.  Boot vCPU only.
 */
int console_read_line(char *buf, size_t size, uint64_t timeout_ns);

#endif
