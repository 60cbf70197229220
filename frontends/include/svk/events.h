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

/*
 * events_enable: unmask event delivery for the boot vCPU (the domain
 * builder starts it masked).  After events_init.
 */
void events_enable(void);

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

/*
 * Channel set-up, each a thin EVTCHNOP_* wrapper that checks the port the
 * hypervisor hands back (below EVTCHN_MAX_PORTS).  None binds a handler:
 * call evtchn_bind on the new port.  All return 0 or -errno.
 *
 * evtchn_alloc_unbound: a port that @remote may bind to (ours in *@port).
 * evtchn_bind_interdomain: connect to @remote's unbound @remote_port.
 * evtchn_bind_virq: @virq (VIRQ_TIMER...) of vCPU @vcpu.
 * evtchn_bind_ipi: a port that signals vCPU @vcpu of this domain.
 */
int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port);
int evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
int evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);

/* evtchn_close: forget the handler and EVTCHNOP_close.  Returns 0 or -errno. */
int evtchn_close(evtchn_port_t port);

/* evtchn_status: EVTCHNOP_status of @port into *@st.  Returns 0 or -errno. */
int evtchn_status(evtchn_port_t port, struct evtchn_status *st);

/*
 * events_mask/events_unmask: this vCPU's evtchn_upcall_mask.
 * events_unmask delivers what arrived while masked (a no-op hypercall
 * makes the hypervisor bounce to the callback), as Linux does.
 */
void events_mask(void);
void events_unmask(void);

/* Whether this vCPU has events masked now. */
bool events_masked(void);

/* Whether this vCPU is running the upcall (handlers must not block). */
bool events_in_upcall(void);

/*
 * events_fifo_init: switch to Xen's FIFO ABI (EVTCHNOP_init_control for
 * the boot vCPU, then expand_array pages for our ports); after
 * events_init, before any port is bound.  0, or -errno with the 2-level
 * ABI kept (-XEN_ENOSYS: not offered).  events_fifo: in use;
 * events_fifo_ports: ports its array pages cover; events_fifo_why_not:
 * init_control's error when it was refused (0 when FIFO is on).
 * evtchn_set_priority: EVTCHNOP_set_priority (0 highest .. 15).
 */
int events_fifo_init(void);
bool events_fifo(void);
unsigned events_fifo_ports(void);
int events_fifo_why_not(void);
int evtchn_set_priority(evtchn_port_t port, unsigned priority);

/*
 * Every vCPU (events.c with smp.c).  events_vcpu_prepare: on the boot
 * vCPU, before secondary @cpu first runs: under FIFO its control block
 * (EVTCHNOP_init_control for @cpu), as Linux prepares each CPU; 0 under
 * 2-level.  events_vcpu_start: on the secondary itself, its callbacks
 * (CALLBACKOP_register is per vCPU in Xen) and its events unmasked.
 * events_vcpu_fifo: whether @cpu has its control block.
 * evtchn_bind_on: evtchn_bind for a port that notifies vCPU @cpu (an IPI
 * or a per-vCPU VIRQ bound there), so that vCPU's upcall runs it.
 * evtchn_move: EVTCHNOP_bind_vcpu (interdomain ports and global VIRQs),
 * then @cpu's upcall runs it.  All 0 or -errno.
 */
int events_vcpu_prepare(unsigned int cpu);
int events_vcpu_start(void);
bool events_vcpu_fifo(unsigned int cpu);
int evtchn_bind_on(evtchn_port_t port, unsigned int cpu, evtchn_handler_t handler, void *data);
int evtchn_move(evtchn_port_t port, unsigned int cpu);
/* The evtchn-smp word (evtchn_smp.c): events on every vCPU; docs/guest-kernel.md. */
void evtchn_smp_word(const start_info_t *si, const char *arg);
/*
 * events_resume: in a restored domain (suspend.c), on the boot vCPU with
 * its events masked: forget every handler (no hypercall: the numbers may
 * already be the new domain's ports), register vCPU 0's callbacks again,
 * and under FIFO give every vCPU that had one its control block again and
 * the event array its pages (2-level if the hypervisor now refuses).
 * Each secondary registers its own callbacks (events_vcpu_start).  0 or
 * -errno.
 */
int events_resume(void);
/* Upcalls taken, and pending ports seen that had no handler. */
unsigned long events_upcalls(void);
unsigned long events_spurious(void);

#endif
