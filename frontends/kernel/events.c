// SPDX-License-Identifier: MIT
// Event-channel upcall of the guest kernel: 2-level pending bitmaps, or the FIFO ABI's queues
// when the hypervisor offers it, to per-port handlers.
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
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

/*
 * The FIFO ABI (Xen's public/event_channel.h), boot vCPU only: one
 * control block, event-array pages for our ports, and our own copy of
 * each queue's head (0: read the next one from the control block).
 */
#define FIFO_WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))
#define FIFO_MAX_PAGES (EVTCHN_MAX_PORTS / FIFO_WORDS_PER_PAGE)
#define FIFO_W(bit) ((event_word_t)1 << (bit))
static struct {
	bool on;
	struct evtchn_fifo_control_block *cb;
	event_word_t *pages[FIFO_MAX_PAGES];
	unsigned nr_pages;
	uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
	int why_not;	   /* init_control's error when 2-level is used, 1 when not tried */
} fifo = { .why_not = 1 }; /* 1: not tried (evtchn=2l) */

static event_word_t *fifo_word(evtchn_port_t port)
{
	if (port / FIFO_WORDS_PER_PAGE >= fifo.nr_pages)
		return NULL;
	return fifo.pages[port / FIFO_WORDS_PER_PAGE] + port % FIFO_WORDS_PER_PAGE;
}

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
static void port_run(evtchn_port_t port)
{
	if (ports[port].handler)
		ports[port].handler(port, ports[port].data);
	else
		nr_spurious++;
}

/* 2-level: the selector, then each word's pending & ~mask. */
static void upcall_2l(struct vcpu_info *vi)
{
	xen_ulong_t sel, pending;
	unsigned int w, b;

	sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		w = (unsigned int)__builtin_ctzl(sel);
		sel &= sel - 1;
		pending = READ_ONCE(shared_info->evtchn_pending[w]) &
			  ~READ_ONCE(shared_info->evtchn_mask[w]);
		while (pending) {
			b = (unsigned int)__builtin_ctzl(pending);
			pending &= pending - 1;
			__atomic_fetch_and(&shared_info->evtchn_pending[w], ~((xen_ulong_t)1 << b),
					   __ATOMIC_SEQ_CST);
			port_run(w * BITS_PER_WORD + b);
		}
	}
}

/*
 * FIFO: take one event off queue q (Linux's consume_one_event): the head
 * is ours, or the control block's when we reached the tail last time;
 * unlinking the word gives the next one; 0 ends the queue.
 */
static void fifo_consume(unsigned q, uint32_t *ready)
{
	uint32_t port = fifo.head[q], next;
	event_word_t *word, w;

	if (!port) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		port = READ_ONCE(fifo.cb->head[q]);
	}
	word = port ? fifo_word(port) : NULL;
	if (!word || port >= EVTCHN_MAX_PORTS) { /* nothing sane there: drop the queue */
		*ready &= ~(1U << q);
		fifo.head[q] = 0;
		return;
	}
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	while (!__atomic_compare_exchange_n(
	    word, &w, w & ~(FIFO_W(EVTCHN_FIFO_LINKED) | EVTCHN_FIFO_LINK_MASK), false,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	next = w & EVTCHN_FIFO_LINK_MASK;
	if (!next)
		*ready &= ~(1U << q);
	if ((w & FIFO_W(EVTCHN_FIFO_PENDING)) && !(w & FIFO_W(EVTCHN_FIFO_MASKED))) {
		__atomic_fetch_and(word, ~FIFO_W(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
		port_run(port);
	}
	fifo.head[q] = next;
}

static void upcall_fifo(void)
{
	uint32_t ready = __atomic_exchange_n(&fifo.cb->ready, 0, __ATOMIC_SEQ_CST);

	while (ready) {
		fifo_consume((unsigned)__builtin_ctz(ready), &ready);
		ready |= __atomic_exchange_n(&fifo.cb->ready, 0, __ATOMIC_SEQ_CST);
	}
}

/*
 * The upcall, entered with events masked (Xen set evtchn_upcall_mask; the
 * HYPERVISOR_iret in head.S restores it).  Clear upcall_pending first,
 * then look at what is pending (the 2-level selector or the FIFO ready
 * word), so that an event arriving meanwhile sets both again and is seen
 * on the next pass; clear a port's pending bit before running its handler
 * for the same reason.
 */
void evtchn_do_upcall(void)
{
	struct vcpu_info *vi = &shared_info->vcpu_info[0];

	nr_upcalls++;
	upcall_depth++;
	do {
		WRITE_ONCE(vi->evtchn_upcall_pending, 0);
		if (fifo.on)
			upcall_fifo();
		else
			upcall_2l(vi);
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
	event_word_t *word;

	if (fifo.on) {
		word = fifo_word(port);
		if (word)
			__atomic_fetch_or(word, FIFO_W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
		return;
	}
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

/*
 * Switch to the FIFO ABI, before any port is bound (what is pending at
 * the switch may be lost, says Xen's header): a control block for vCPU 0,
 * then event-array pages, each all MASKED first (as Linux fills them),
 * until our table is covered or the hypervisor says -ENOSPC.  On
 * -ENOSYS (or any failure of init_control) the 2-level ABI stays.
 */
int events_fifo_init(void)
{
	struct evtchn_init_control init = { 0 };
	struct evtchn_expand_array exp;
	void *cb, *page;
	int rc;

	if (!events_on)
		return -XEN_ENODEV;
	cb = page_alloc();
	if (!cb)
		return fifo.why_not = -XEN_ENOMEM;
	init.control_gfn = virt_to_mfn(cb);
	init.offset = 0;
	init.vcpu = 0;
	rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &init);
	if (rc) {
		page_free(cb);
		return fifo.why_not = rc;
	}
	fifo.cb = cb;
	memset(fifo.head, 0, sizeof(fifo.head));
	while (fifo.nr_pages < FIFO_MAX_PAGES) {
		page = page_alloc();
		if (!page)
			break;
		for (unsigned i = 0; i < FIFO_WORDS_PER_PAGE; i++)
			((event_word_t *)page)[i] = FIFO_W(EVTCHN_FIFO_MASKED);
		exp.array_gfn = virt_to_mfn(page);
		rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &exp);
		if (rc) {
			page_free(page);
			break;
		}
		fifo.pages[fifo.nr_pages++] = page;
	}
	fifo.on = true;
	fifo.why_not = 0;
	return fifo.nr_pages ? 0 : rc;
}

bool events_fifo(void)
{
	return fifo.on;
}

unsigned events_fifo_ports(void)
{
	return fifo.nr_pages * FIFO_WORDS_PER_PAGE;
}

int events_fifo_why_not(void)
{
	return fifo.why_not;
}

int evtchn_set_priority(evtchn_port_t port, unsigned priority)
{
	struct evtchn_set_priority op = { .port = port, .priority = priority };

	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &op);
}
