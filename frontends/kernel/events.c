// SPDX-License-Identifier: MIT
// Event-channel upcall of the guest kernel: 2-level pending bitmaps to per-port handlers.
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/shinfo.h>

/* head.S: the entry points Xen bounces to. */
extern char hypervisor_callback[], failsafe_callback[];

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
	do {
		WRITE_ONCE(vi->evtchn_upcall_pending, 0);
		sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0,
					  __ATOMIC_SEQ_CST);
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
						   ~((xen_ulong_t)1 << b),
						   __ATOMIC_SEQ_CST);
				if (ports[port].handler)
					ports[port].handler(port,
							    ports[port].data);
				else
					nr_spurious++;
			}
		}
	} while (READ_ONCE(vi->evtchn_upcall_pending));
}

void evtchn_failsafe(void)
{
	printk("events: failsafe callback (bad segment on return)\n");
	sched_shutdown(SHUTDOWN_crash);
}

static void port_mask(evtchn_port_t port)
{
	__atomic_fetch_or(&shared_info->evtchn_mask[port / BITS_PER_WORD],
			  (xen_ulong_t)1 << (port % BITS_PER_WORD),
			  __ATOMIC_SEQ_CST);
}

int evtchn_bind(evtchn_port_t port, evtchn_handler_t handler, void *data)
{
	struct evtchn_unmask op = { .port = port };

	if (!shared_info || port >= EVTCHN_MAX_PORTS || !handler)
		return -XEN_EINVAL;
	if (ports[port].handler)
		return -XEN_EBUSY;
	ports[port].data = data;
	WRITE_ONCE(ports[port].handler, handler);
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
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
