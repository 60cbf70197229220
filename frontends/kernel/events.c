// SPDX-License-Identifier: MIT
// Event-channel upcall of the guest kernel: 2-level pending bitmaps to per-port handlers.
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/shinfo.h>

/* head.S: the entry points Xen bounces to. */
extern char hypervisor_callback[], failsafe_callback[];

/*
 * Read by head.S: whether the guest pushes rcx and r11 before jumping to
 * the iret stub.  Xen's stub begins "push %rcx; push %r11; push %rax"
 * (0x51); a stub that begins with "push %rax" (0x50) leaves rcx and r11 to
 * us.  Set once by events_init, before any upcall.
 */
unsigned char iret_guest_pushes_regs;

/* Called from head.S. */
void evtchn_do_upcall(void);
void evtchn_failsafe(void) __noreturn;

#define BITS_PER_WORD (sizeof(xen_ulong_t) * 8)

/* The handler table and counters, owned by this file (boot vCPU only). */
static struct {
	evtchn_handler_t handler;
	void *data;
} ports[EVTCHN_MAX_PORTS];
static bool events_on;
static unsigned long nr_upcalls, nr_spurious;
static unsigned int upcall_depth;

static int register_callback(uint16_t type, void *address)
{
	struct callback_register cb = {
		.type = type,
		.flags = 0,
		.address = (xen_callback_t)address,
	};

	return (int)HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
}

int events_init(void)
{
	int rc;

	if (!shared_info)
		return -XEN_ENODEV;
	iret_guest_pushes_regs = (unsigned char)hypercall_page[__HYPERVISOR_iret * 32] == 0x50;
	rc = register_callback(CALLBACKTYPE_event, hypervisor_callback);
	if (rc)
		return rc;
	rc = register_callback(CALLBACKTYPE_failsafe, failsafe_callback);
	if (rc)
		return rc;
	events_on = true;
	return 0;
}

bool events_ready(void)
{
	return events_on;
}

/*
 * The upcall, entered with events masked (Xen set evtchn_upcall_mask; the
 * HYPERVISOR_iret in head.S restores it).  The 2-level protocol: clear
 * upcall_pending first, then take the selector word, so that an event
 * arriving meanwhile sets both again and is seen on the next pass; clear a
 * port's pending bit before running its handler for the same reason.
 */
void evtchn_do_upcall(void)
{
	struct vcpu_info *vi = &shared_info->vcpu_info[0];
	xen_ulong_t sel, pending;
	unsigned int w, b;

	nr_upcalls++;
	upcall_depth++;
	do {
		WRITE_ONCE(vi->evtchn_upcall_pending, 0);
		sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		while (sel) {
			w = (unsigned int)__builtin_ctzl(sel);
			sel &= sel - 1;
			pending = READ_ONCE(shared_info->evtchn_pending[w]) &
				  ~READ_ONCE(shared_info->evtchn_mask[w]);
			while (pending) {
				evtchn_port_t port;

				b = (unsigned int)__builtin_ctzl(pending);
				pending &= pending - 1;
				port = w * BITS_PER_WORD + b;
				__atomic_fetch_and(&shared_info->evtchn_pending[w],
						   ~((xen_ulong_t)1 << b), __ATOMIC_SEQ_CST);
				if (ports[port].handler)
					ports[port].handler(port, ports[port].data);
				else
					nr_spurious++;
			}
		}
	} while (READ_ONCE(vi->evtchn_upcall_pending));
	upcall_depth--;
}

bool events_in_upcall(void)
{
	return upcall_depth != 0;
}

void evtchn_failsafe(void)
{
	printk("events: failsafe callback (bad segment on return)\n");
	sched_shutdown(SHUTDOWN_crash);
}

static void port_mask(evtchn_port_t port)
{
	__atomic_fetch_or(&shared_info->evtchn_mask[port / BITS_PER_WORD],
			  (xen_ulong_t)1 << (port % BITS_PER_WORD), __ATOMIC_SEQ_CST);
}

int evtchn_bind(evtchn_port_t port, evtchn_handler_t handler, void *data)
{
	struct evtchn_unmask op = { .port = port };
	int rc;

	if (!shared_info || port == 0 || port >= EVTCHN_MAX_PORTS || !handler)
		return -XEN_EINVAL;
	if (ports[port].handler)
		return -XEN_EBUSY;
	ports[port].data = data;
	WRITE_ONCE(ports[port].handler, handler);
	rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
	if (rc)
		evtchn_unbind(port);
	return rc;
}

void evtchn_unbind(evtchn_port_t port)
{
	if (!shared_info || port >= EVTCHN_MAX_PORTS)
		return;
	port_mask(port);
	WRITE_ONCE(ports[port].handler, NULL);
	ports[port].data = NULL;
}

int evtchn_notify(evtchn_port_t port)
{
	struct evtchn_send op = { .port = port };

	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

unsigned long events_upcalls(void)
{
	return nr_upcalls;
}

unsigned long events_spurious(void)
{
	return nr_spurious;
}

/* A port the hypervisor handed back must fit our table; 0 is never valid. */
static int port_checked(evtchn_port_t in, evtchn_port_t *out)
{
	if (in == 0 || in >= EVTCHN_MAX_PORTS)
		return -XEN_ERANGE;
	*out = in;
	return 0;
}

int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
	struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);

	return rc ? rc : port_checked(op.port, port);
}

int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port)
{
	struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = remote_port };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);

	return rc ? rc : port_checked(op.local_port, port);
}

int evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);

	return rc ? rc : port_checked(op.port, port);
}

int evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_ipi op = { .vcpu = vcpu };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);

	return rc ? rc : port_checked(op.port, port);
}

int evtchn_close(evtchn_port_t port)
{
	struct evtchn_close op = { .port = port };

	evtchn_unbind(port);
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

int evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
	memset(st, 0, sizeof(*st));
	st->dom = DOMID_SELF;
	st->port = port;
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

void events_mask(void)
{
	if (!shared_info)
		return;
	WRITE_ONCE(shared_info->vcpu_info[0].evtchn_upcall_mask, 1);
	barrier();
}

void events_unmask(void)
{
	if (!shared_info || !events_on)
		return;
	barrier();
	WRITE_ONCE(shared_info->vcpu_info[0].evtchn_upcall_mask, 0);
	/* Unmask before looking at pending, or an event could be missed. */
	xen_mb();
	if (READ_ONCE(shared_info->vcpu_info[0].evtchn_upcall_pending))
		(void)HYPERVISOR_xen_version(XENVER_version, NULL);
}

bool events_masked(void)
{
	return !shared_info || READ_ONCE(shared_info->vcpu_info[0].evtchn_upcall_mask);
}

void events_enable(void)
{
	events_unmask();
}
