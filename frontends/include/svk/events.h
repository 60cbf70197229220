// SPDX-License-Identifier: MIT
// Event channels of the guest kernel: the upcall and per-port handlers (events.c).
#ifndef SVK_EVENTS_H
#define SVK_EVENTS_H

#include <svk/compiler.h>
#include <svk/xen.h>

/* Called in the upcall, events masked, for each pending port it is bound to. */
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *data);

/* Ports the handler table covers (the 2-level ABI's 4096 on x86-64). */
#define EVTCHN_MAX_PORTS (sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8)

/*
 * events_init: register the event and failsafe callbacks (head.S) with
 * CALLBACKOP_register for the boot vCPU.  Needs shared_info mapped.
 * Returns 0 or -errno.  Until it succeeds, an event would be delivered to
 * address 0, so SCHEDOP_block is only safe after it.
 */
int events_init(void);

/* Whether events_init succeeded. */
bool events_ready(void);

/*
 * evtchn_bind: call @handler(@port, @data) whenever @port fires, then
 * unmask it (EVTCHNOP_unmask, which also redelivers a pending event).
 * Returns 0, -XEN_EINVAL for a bad port, -XEN_EBUSY if already bound, or
 * the hypercall's -errno.
 */
int evtchn_bind(evtchn_port_t port, evtchn_handler_t handler, void *data);

/* evtchn_unbind: mask @port and forget its handler. */
void evtchn_unbind(evtchn_port_t port);

/* evtchn_notify: EVTCHNOP_send on @port.  Returns 0 or -errno. */
int evtchn_notify(evtchn_port_t port);

/* Upcalls taken, and pending ports seen that had no handler. */
unsigned long events_upcalls(void);
unsigned long events_spurious(void);

#endif
