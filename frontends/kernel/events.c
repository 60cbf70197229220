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
#include <svk/smp.h>

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

/*
 * The handler table (written by the boot vCPU, read by every vCPU's
 * upcall), each port with the vCPU it notifies (2-level: only that vCPU's
 * upcall runs it, as Linux's per-CPU masks do), and the counters.
 */
static struct {
	evtchn_handler_t handler;
	void *data;
	unsigned int cpu;
} ports[EVTCHN_MAX_PORTS];
static bool events_on;
static unsigned long nr_upcalls, nr_spurious;
static unsigned int upcall_depth[SCHED_MAX_VCPUS];

/*
 * The FIFO ABI (Xen's public/event_channel.h): the event-array pages for
 * our ports, shared by every vCPU, and per vCPU a control block (Xen's
 * EVTCHNOP_init_control is per vCPU: the boot vCPU's at the switch, each
 * secondary's before it first runs) and our own copy of each of its
 * queue's heads (0: read the next one from the control block).  A vCPU
 * only ever consumes its own queues.
 */
#define FIFO_WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))
#define FIFO_MAX_PAGES (EVTCHN_MAX_PORTS / FIFO_WORDS_PER_PAGE)
#define FIFO_W(bit) ((event_word_t)1 << (bit))
struct fifo_cpu {
	struct evtchn_fifo_control_block *cb;
	uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};
static struct {
	bool on;
	event_word_t *pages[FIFO_MAX_PAGES];
	unsigned nr_pages;
	struct fifo_cpu cpu[SCHED_MAX_VCPUS];
	int why_not;	   /* init_control's error when 2-level is used, 1 when not tried */
} fifo = { .why_not = 1 }; /* 1: not tried (evtchn=2l) */

/* This vCPU's vcpu_info (the legacy slots in shared_info: up to 32 vCPUs). */
static struct vcpu_info *this_vcpu_info(void)
{
	unsigned int cpu = smp_this_cpu();

	return &shared_info->vcpu_info[cpu < XEN_LEGACY_MAX_VCPUS ? cpu : 0];
}

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

/* 2-level: the selector, then each word's pending & ~mask, the ports that notify this vCPU. */
static void upcall_2l(struct vcpu_info *vi, unsigned int cpu)
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
			if (READ_ONCE(ports[w * BITS_PER_WORD + b].cpu) != cpu)
				continue; /* another vCPU's: its upcall takes it */
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
static void fifo_consume(struct fifo_cpu *fc, unsigned q, uint32_t *ready)
{
	uint32_t port = fc->head[q], next;
	event_word_t *word, w;

	if (!port) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		port = READ_ONCE(fc->cb->head[q]);
	}
	word = port ? fifo_word(port) : NULL;
	if (!word || port >= EVTCHN_MAX_PORTS) { /* nothing sane there: drop the queue */
		*ready &= ~(1U << q);
		fc->head[q] = 0;
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
	fc->head[q] = next;
}

static void upcall_fifo(struct fifo_cpu *fc)
{
	uint32_t ready;

	if (!fc->cb)
		return; /* no block for this vCPU: Xen drops its events */
	ready = __atomic_exchange_n(&fc->cb->ready, 0, __ATOMIC_SEQ_CST);
	while (ready) {
		fifo_consume(fc, (unsigned)__builtin_ctz(ready), &ready);
		ready |= __atomic_exchange_n(&fc->cb->ready, 0, __ATOMIC_SEQ_CST);
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
	unsigned int cpu = smp_this_cpu();
	struct vcpu_info *vi = this_vcpu_info();

	__atomic_fetch_add(&nr_upcalls, 1, __ATOMIC_RELAXED);
	upcall_depth[cpu]++;
	do {
		WRITE_ONCE(vi->evtchn_upcall_pending, 0);
		if (fifo.on)
			upcall_fifo(&fifo.cpu[cpu]);
		else
			upcall_2l(vi, cpu);
	} while (READ_ONCE(vi->evtchn_upcall_pending));
	upcall_depth[cpu]--;
}

bool events_in_upcall(void)
{
	return upcall_depth[smp_this_cpu()] != 0;
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
	WRITE_ONCE(ports[port].cpu, 0);
}

int evtchn_bind_on(evtchn_port_t port, unsigned int cpu, evtchn_handler_t handler, void *data)
{
	if (port == 0 || port >= EVTCHN_MAX_PORTS || cpu >= SCHED_MAX_VCPUS)
		return -XEN_EINVAL;
	if (ports[port].handler)
		return -XEN_EBUSY;
	WRITE_ONCE(ports[port].cpu, cpu);
	return evtchn_bind(port, handler, data);
}

int evtchn_move(evtchn_port_t port, unsigned int cpu)
{
	struct evtchn_bind_vcpu op = { .port = port, .vcpu = cpu };
	int rc;

	if (port == 0 || port >= EVTCHN_MAX_PORTS || cpu >= SCHED_MAX_VCPUS)
		return -XEN_EINVAL;
	/*
	 * As Linux rebinds: masked across the move, then unmasked by the
	 * hypervisor, which raises it again where it now belongs if it is
	 * pending and not queued (a FIFO event already linked stays on the
	 * old vCPU's queue and is taken there).
	 */
	port_mask(port);
	rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &op);
	if (!rc)
		WRITE_ONCE(ports[port].cpu, cpu);
	if (READ_ONCE(ports[port].handler)) {
		struct evtchn_unmask um = { .port = port };
		(void)HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &um);
	}
	return rc;
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
	WRITE_ONCE(this_vcpu_info()->evtchn_upcall_mask, 1);
	barrier();
}

void events_unmask(void)
{
	struct vcpu_info *vi;

	if (!shared_info || !events_on)
		return;
	vi = this_vcpu_info();
	barrier();
	WRITE_ONCE(vi->evtchn_upcall_mask, 0);
	/* Unmask before looking at pending, or an event could be missed. */
	xen_mb();
	if (READ_ONCE(vi->evtchn_upcall_pending))
		(void)HYPERVISOR_xen_version(XENVER_version, NULL);
}

bool events_masked(void)
{
	return !shared_info || READ_ONCE(this_vcpu_info()->evtchn_upcall_mask);
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
/* EVTCHNOP_init_control for @cpu with a fresh page: 0 or -errno (the page given back). */
static int fifo_control_block(unsigned int cpu)
{
	struct evtchn_init_control init = { 0 };
	void *cb = page_alloc();
	int rc;

	if (!cb)
		return -XEN_ENOMEM;
	init.control_gfn = virt_to_mfn(cb);
	init.offset = 0;
	init.vcpu = cpu;
	rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &init);
	if (rc) {
		page_free(cb);
		return rc;
	}
	memset(fifo.cpu[cpu].head, 0, sizeof(fifo.cpu[cpu].head));
	WRITE_ONCE(fifo.cpu[cpu].cb, cb);
	return 0;
}

int events_fifo_init(void)
{
	struct evtchn_expand_array exp;
	void *page;
	int rc;

	if (!events_on)
		return -XEN_ENODEV;
	rc = fifo_control_block(0);
	if (rc)
		return fifo.why_not = rc;
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

/* EVTCHNOP_init_control for @cpu on the page it had, zeroed (its queues start empty). */
static int fifo_control_again(unsigned int cpu)
{
	struct evtchn_init_control init = { 0 };
	struct evtchn_fifo_control_block *cb = fifo.cpu[cpu].cb;

	memset(cb, 0, PAGE_SIZE);
	memset(fifo.cpu[cpu].head, 0, sizeof(fifo.cpu[cpu].head));
	init.control_gfn = virt_to_mfn(cb);
	init.offset = 0;
	init.vcpu = cpu;
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &init);
}

/*
 * A restored domain (Xen keeps no channel, callback registration nor FIFO
 * block across it): every handler is forgotten without a hypercall (the
 * port numbers may already be the new domain's store and console ports),
 * the boot vCPU's callbacks are registered again, and under FIFO each
 * vCPU that had a control block gets it back and the event array its
 * pages, as Linux's evtchn_fifo_resume.  If the new hypervisor refuses
 * FIFO, 2-level it is.  The owners bind their channels afresh.
 */
int events_resume(void)
{
	struct evtchn_expand_array exp;
	unsigned int i, kept = 0;
	int rc;

	for (i = 0; i < EVTCHN_MAX_PORTS; i++) {
		WRITE_ONCE(ports[i].handler, NULL);
		ports[i].data = NULL;
		ports[i].cpu = 0;
	}
	rc = register_callback(CALLBACKTYPE_event, hypervisor_callback);
	if (!rc)
		rc = register_callback(CALLBACKTYPE_failsafe, failsafe_callback);
	if (rc || !fifo.on)
		return rc;
	rc = fifo_control_again(0);
	if (rc) {
		printk("events: FIFO refused after the restore (%d): 2-level\n", rc);
		fifo.on = false;
		fifo.why_not = rc;
		for (i = 0; i < SCHED_MAX_VCPUS; i++)
			fifo.cpu[i].cb = NULL; /* their pages are lost: rare, and small */
		return 0;
	}
	for (i = 1; i < SCHED_MAX_VCPUS; i++) {
		if (fifo.cpu[i].cb && fifo_control_again(i)) {
			printk("events: vcpu %u: FIFO control block refused\n", i);
			fifo.cpu[i].cb = NULL;
		}
	}
	for (i = 0; i < fifo.nr_pages; i++) {
		for (unsigned w = 0; w < FIFO_WORDS_PER_PAGE; w++)
			fifo.pages[i][w] = FIFO_W(EVTCHN_FIFO_MASKED);
		exp.array_gfn = virt_to_mfn(fifo.pages[i]);
		if (HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &exp))
			break;
		kept++;
	}
	fifo.nr_pages = kept;
	return 0;
}

int events_vcpu_prepare(unsigned int cpu)
{
	if (cpu == 0 || cpu >= SCHED_MAX_VCPUS)
		return -XEN_EINVAL;
	if (!fifo.on || fifo.cpu[cpu].cb)
		return 0; /* 2-level needs nothing; a block stays across down and up */
	return fifo_control_block(cpu);
}

int events_vcpu_start(void)
{
	int rc;

	if (!events_on)
		return -XEN_ENODEV;
	rc = register_callback(CALLBACKTYPE_event, hypervisor_callback);
	if (!rc)
		rc = register_callback(CALLBACKTYPE_failsafe, failsafe_callback);
	if (!rc)
		events_unmask();
	return rc;
}

bool events_vcpu_fifo(unsigned int cpu)
{
	return fifo.on && cpu < SCHED_MAX_VCPUS && READ_ONCE(fifo.cpu[cpu].cb);
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
