// SPDX-License-Identifier: MIT
// The console: HYPERVISOR_console_io early, then the xencons_interface ring with its event channel.
#include <svk/console.h>
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/m2p.h>
#include <svk/mm.h>
#include <svk/sched.h>
#include <svk/time.h>
#include <svk/wait.h>

/*
 * CONSOLEIO_write takes at most what the hypervisor copies in one go;
 * write in chunks so long buffers are not refused.  Errors are dropped:
 * there is nowhere else to report them.
 */
#define CONSOLE_CHUNK 1024
/* Without a clock, a stall is this many rounds of SCHEDOP_yield. */
#define CONSOLE_STALL_ROUNDS 2000000UL

/* head.S: the boot vCPU's stack, to tell it from the secondaries'. */
extern char boot_stack[], boot_stack_top[];

/* State owned by this file; out_lock serialises writers of all vCPUs. */
static struct xencons_interface *ring;
static evtchn_port_t ring_port;
static bool ring_on;
static int out_lock;
static struct {
	char cur[CONSOLE_LINE_MAX];
	size_t cur_len;
	char line[CONSOLE_LINES][CONSOLE_LINE_MAX];
	unsigned int head, count;
	unsigned long dropped;
	bool last_cr;
} in;

static void io_write(const char *buf, size_t len)
{
	while (len) {
		size_t n = len < CONSOLE_CHUNK ? len : CONSOLE_CHUNK;

		(void)HYPERVISOR_console_io(CONSOLEIO_write, n, buf);
		buf += n;
		len -= n;
	}
}

static bool on_boot_stack(void)
{
	char here;

	return &here >= boot_stack && &here < boot_stack_top;
}

/* Room in out[], or -1 when the backend's index is out of range. */
static long out_space(void)
{
	XENCONS_RING_IDX cons = READ_ONCE(ring->out_cons);
	XENCONS_RING_IDX prod = ring->out_prod;

	if (prod - cons > sizeof(ring->out))
		return -1;
	return (long)(sizeof(ring->out) - (prod - cons));
}

/*
 * Wait for the backend to free space: block on the boot vCPU outside the
 * upcall with events on (the console port's event or the timer wakes us),
 * otherwise yield.  Not
 * wait_until: its hook could print, and we hold out_lock.
 */
static void out_wait(void)
{
	/* A caller that masked events keeps them masked: it only yields. */
	if (on_boot_stack() && !events_in_upcall() && events_ready() && !events_masked()) {
		events_mask();
		/* The timer bounds the block, so a stall is noticed. */
		if (out_space() == 0 && wait_timer_arm(time_now_ns() + CONSOLE_STALL_NS / 20)) {
			if (sched_block())
				(void)sched_yield();
		} else {
			events_unmask();
			(void)sched_yield();
		}
		events_unmask();
	} else {
		(void)sched_yield();
	}
}

/* Returns false if the ring stalled or broke (the rest goes by console_io). */
static bool ring_write(const char *buf, size_t len)
{
	uint64_t start = time_now_ns();
	unsigned long rounds = 0;

	while (len) {
		long space = out_space();
		XENCONS_RING_IDX prod = ring->out_prod;
		size_t n, off;

		if (space < 0)
			return false;
		if (space == 0) {
			(void)evtchn_notify(ring_port);
			if (time_available() ? time_now_ns() - start > CONSOLE_STALL_NS
					     : ++rounds > CONSOLE_STALL_ROUNDS)
				return false;
			out_wait();
			continue;
		}
		off = prod % sizeof(ring->out);
		n = (size_t)space;
		if (n > sizeof(ring->out) - off)
			n = sizeof(ring->out) - off;
		if (n > len)
			n = len;
		/* Space seen before we write over what it frees. */
		xen_mb();
		memcpy(ring->out + off, buf, n);
		xen_wmb(); /* bytes before the index that publishes them */
		WRITE_ONCE(ring->out_prod, prod + (XENCONS_RING_IDX)n);
		buf += n;
		len -= n;
		start = time_now_ns();
		rounds = 0;
	}
	(void)evtchn_notify(ring_port);
	return true;
}

void console_write(const char *buf, size_t len)
{
	static const char stalled[] = "console: ring stalled or broken; back to console_io\n";

	if (!READ_ONCE(ring_on)) {
		io_write(buf, len);
		return;
	}
	/*
	 * The upcall may not spin on a lock its own vCPU holds.  The upcall
	 * runs on the boot vCPU only: a secondary that finds the lock taken
	 * waits for it even while the boot vCPU is in an upcall, or its line
	 * would leave the ring for console_io.
	 */
	while (__atomic_exchange_n(&out_lock, 1, __ATOMIC_ACQUIRE)) {
		if (events_in_upcall() && on_boot_stack()) {
			io_write(buf, len);
			return;
		}
		__asm__ __volatile__("pause");
	}
	if (READ_ONCE(ring_on) && !ring_write(buf, len)) {
		WRITE_ONCE(ring_on, false);
		io_write(stalled, sizeof(stalled) - 1);
		/* What did not make it into the ring is not lost. */
		io_write(buf, len);
	} else if (!READ_ONCE(ring_on)) {
		io_write(buf, len);
	}
	__atomic_store_n(&out_lock, 0, __ATOMIC_RELEASE);
}

static bool out_drained(void)
{
	return READ_ONCE(ring->out_cons) == ring->out_prod;
}

void console_flush(void)
{
	uint64_t start = time_now_ns();
	unsigned long rounds = 0;

	if (!READ_ONCE(ring_on))
		return;
	(void)evtchn_notify(ring_port);
	while (!out_drained()) {
		if (time_available() ? time_now_ns() - start > CONSOLE_STALL_NS
				     : ++rounds > CONSOLE_STALL_ROUNDS) {
			static const char msg[] = "console: the backend left output in the ring\n";

			io_write(msg, sizeof(msg) - 1);
			return;
		}
		(void)sched_yield();
	}
}

/* A finished input line goes to the queue; when full, the oldest goes. */
static void in_push_line(void)
{
	unsigned int slot;

	if (in.count == CONSOLE_LINES) {
		in.head = (in.head + 1) % CONSOLE_LINES;
		in.count--;
		in.dropped++;
	}
	slot = (in.head + in.count) % CONSOLE_LINES;
	memcpy(in.line[slot], in.cur, in.cur_len);
	in.line[slot][in.cur_len] = '\0';
	in.count++;
	in.cur_len = 0;
}

/*
 * The console port's upcall handler: take the input bytes (indices copied
 * once and checked against the size of in[]) into lines, and free them.
 */
static void console_handler(evtchn_port_t port, void *data)
{
	XENCONS_RING_IDX cons = ring->in_cons;
	XENCONS_RING_IDX prod = READ_ONCE(ring->in_prod);

	xen_rmb(); /* the index before the bytes it covers */
	if (prod - cons > sizeof(ring->in))
		return; /* a backend out of its mind: ignore the input */
	if (prod == cons)
		return;
	while (cons != prod) {
		char c = ring->in[cons % sizeof(ring->in)];

		cons++;
		/* "\r", "\n" and "\r\n" each end one line. */
		if (c == '\n' && in.last_cr) {
			in.last_cr = false;
			continue;
		}
		in.last_cr = c == '\r';
		if (c == '\n' || c == '\r') {
			in_push_line();
			continue;
		}
		if (in.cur_len < CONSOLE_LINE_MAX - 1)
			in.cur[in.cur_len++] = c;
	}
	xen_mb(); /* done reading before the space is given back */
	WRITE_ONCE(ring->in_cons, cons);
	(void)evtchn_notify(ring_port);
}

int console_ring_init(const start_info_t *si)
{
	struct xencons_interface *r;
	int rc;

	if (!si->console.domU.mfn || !si->console.domU.evtchn || !events_ready())
		return -XEN_ENODEV;
	r = mfn_to_virt(si->console.domU.mfn);
	if (!r)
		return -XEN_ENODEV;
	ring = r;
	ring_port = si->console.domU.evtchn;
	rc = evtchn_bind(ring_port, console_handler, NULL);
	if (rc)
		return rc;
	WRITE_ONCE(ring_on, true);
	return 0;
}

/*
 * Across a suspend: output goes by console_io from console_suspend on, so
 * nothing notifies a port that a restored domain gives to another
 * channel.  console_resume: with @new_domain, the same ring page (its
 * contents and indexes kept) on start_info's new port; otherwise the port
 * we had.  Only a ring that was in use at the suspend comes back.
 */
static bool was_on;

void console_suspend(void)
{
	was_on = READ_ONCE(ring_on);
	WRITE_ONCE(ring_on, false);
}

int console_resume(const start_info_t *si, bool new_domain)
{
	evtchn_port_t port = si->console.domU.evtchn;
	int rc;

	if (!was_on)
		return 0;
	if (new_domain) {
		if (!port || si->console.domU.mfn != virt_to_mfn(ring))
			return -XEN_ENODEV;
		rc = evtchn_bind(port, console_handler, NULL);
		if (rc)
			return rc;
		ring_port = port;
	}
	WRITE_ONCE(ring_on, true);
	/* The backend may have missed our last notification. */
	(void)evtchn_notify(ring_port);
	return 0;
}

bool console_ring_active(void)
{
	return READ_ONCE(ring_on);
}

static bool line_ready(void *arg)
{
	return in.count != 0;
}

int console_read_line(char *buf, size_t size, uint64_t timeout_ns)
{
	size_t n;
	int rc;

	if (!ring)
		return -XEN_ENODEV;
	rc = wait_until(line_ready, NULL, timeout_ns);
	if (rc)
		return rc;
	events_mask();
	n = strnlen(in.line[in.head], CONSOLE_LINE_MAX);
	if (size) {
		if (n > size - 1)
			n = size - 1;
		memcpy(buf, in.line[in.head], n);
		buf[n] = '\0';
	}
	in.head = (in.head + 1) % CONSOLE_LINES;
	in.count--;
	events_unmask();
	return (int)n;
}
