// SPDX-License-Identifier: MIT
/* Check suite: the FIFO event-channel ABI (hypervisor/evtchn_fifo.c) from a hostile guest: Xen's
 * errors for bad arguments, nothing changed by them, delivery in queue order, and a guest that
 * scribbles on its event words and queue heads hurting only itself. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/physdev.h>
#include <xen/vcpu.h>
#include <xen/xen.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/evtchn_priv.h"
#include "../../hypervisor/mmu.h"
#include "hv_harness.h"

#define FRAMES 512
#define VA_DATA 0x400000ULL /* 16 user pages, read-write, frames 0x10.. */
#define DATA_FRAME 0x10
#define CB_GFN 0x30	/* vCPU 0's control block */
#define CB1_GFN 0x31	/* vCPU 1's */
#define ARRAY_GFN 0x32	/* the event array's first page */
#define ARRAY2_GFN 0x33 /* one page too many */
#define SHINFO_GFN 0x40
#define TABLE_GFN 0x34 /* a free frame the guest pins as a page table */
#define VINFO_GFN 0x35 /* vcpu_info's new home */
#define EOI_GFN 0x36   /* the pirq EOI map */

#define PENDING (1U << EVTCHN_FIFO_PENDING)
#define MASKED (1U << EVTCHN_FIFO_MASKED)
#define LINKED (1U << EVTCHN_FIFO_LINKED)
#define BUSY (1U << EVTCHN_FIFO_BUSY)
#define LINK ((uint32_t)EVTCHN_FIFO_LINK_MASK)

static struct hv_domain *d;
static struct hv_vcpu *vc[2];

static void setup(void)
{
	d = hvh_setup(&(struct hvh_spec){ .domid = 7,
					  .vcpus = 2,
					  .frames = FRAMES,
					  .memop_boot = FRAMES,
					  .shinfo_gpa = SHINFO_GFN * 4096ULL,
					  .evtchn = true });

	/* Page tables: L4 0x1000, L3 0x2000, L2 0x3000, L1 0x4000. */
	hvh_pt(0x1000)[0] = 0x2000 | 7;
	hvh_pt(0x2000)[0] = 0x3000 | 7;
	hvh_pt(0x3000)[2] = 0x4000 | 7;
	for (int i = 0; i < 16; i++)
		hvh_pt(0x4000)[i] = ((DATA_FRAME + i) * 4096ULL) | 7;

	for (unsigned i = 0; i < 2; i++) {
		vc[i] = d->vcpus[i];
		vc[i]->cr3 = 0x1000;
		vc[i]->state = VCPU_RUNNABLE;
	}
}

static void *guest(uint64_t va)
{
	return mem_gpa(&d->mem, DATA_FRAME * 4096ULL + (va - VA_DATA), 1);
}

/* EVTCHNOP_cmd with its argument (len bytes of arg) at VA_DATA; the result, arg updated. */
static long evop(unsigned cmd, void *arg, size_t len)
{
	struct hv_regs *r = &vc[0]->regs;

	memcpy(guest(VA_DATA), arg, len);
	memset(r, 0, sizeof(*r));
	r->rax = __HYPERVISOR_event_channel_op;
	r->rdi = cmd;
	r->rsi = VA_DATA;
	hypercall_dispatch(vc[0]);
	memcpy(arg, guest(VA_DATA), len);
	return (long)r->rax;
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits)
{
	struct evtchn_init_control op = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
	long r = evop(EVTCHNOP_init_control, &op, sizeof(op));

	if (link_bits)
		*link_bits = op.link_bits;
	return r;
}

static long expand(uint64_t gfn)
{
	struct evtchn_expand_array op = { .array_gfn = gfn };

	return evop(EVTCHNOP_expand_array, &op, sizeof(op));
}

static long set_priority(uint32_t port, uint32_t prio)
{
	struct evtchn_set_priority op = { .port = port, .priority = prio };

	return evop(EVTCHNOP_set_priority, &op, sizeof(op));
}

static long send(uint32_t port)
{
	struct evtchn_send op = { .port = port };

	return evop(EVTCHNOP_send, &op, sizeof(op));
}

static long unmask(uint32_t port)
{
	struct evtchn_unmask op = { .port = port };

	return evop(EVTCHNOP_unmask, &op, sizeof(op));
}

static struct evtchn_fifo_control_block *cb(uint64_t gfn)
{
	return mem_gpa(&d->mem, gfn * 4096ULL, 4096);
}

static uint32_t *word(uint32_t port)
{
	return (uint32_t *)mem_gpa(&d->mem, ARRAY_GFN * 4096ULL, 4096) + port;
}

static uint8_t upcall_pending(unsigned vcpu)
{
	return d->shinfo->vcpu_info[vcpu].evtchn_upcall_pending;
}

/* A loopback pair: *rx is notified by sends on *tx; *tx starts pending (Xen's bind does so). */
static void pair(uint32_t *rx, uint32_t *tx)
{
	ck_assert_int_eq(evtchn_alloc_unbound(d, d->domid, rx, NULL), 0);
	ck_assert_int_eq(evtchn_bind_interdomain(d, d->domid, *rx, tx, NULL), 0);
}

/* The guest side of Linux's consume_one_event for queue q: the port taken, 0 when none. */
static uint32_t consume(struct evtchn_fifo_control_block *c, uint32_t *head, unsigned q)
{
	uint32_t port = head[q], w;

	if (!port) { /* at the tail last time: a new head only if the queue is ready again */
		if (!(c->ready & (1U << q)))
			return 0;
		port = c->head[q];
	}
	w = __atomic_fetch_and(word(port), ~(LINKED | LINK), __ATOMIC_SEQ_CST);
	head[q] = w & LINK;
	if (!head[q])
		__atomic_fetch_and(&c->ready, ~(1U << q), __ATOMIC_SEQ_CST);
	__atomic_fetch_and(word(port), ~PENDING, __ATOMIC_SEQ_CST);
	return port;
}

static void fifo_on(void)
{
	uint8_t bits = 0;

	ck_assert_int_eq(init_control(CB_GFN, 0, 0, &bits), 0);
	ck_assert_uint_eq(bits, EVTCHN_FIFO_LINK_BITS);
	ck_assert_int_eq(expand(ARRAY_GFN), 0);
}

START_TEST(hostile_arguments)
{
	uint32_t rx, tx;

	/* Before the switch: no array to expand, no priorities. */
	ck_assert_int_eq(expand(ARRAY_GFN), -XEN_EOPNOTSUPP);
	ck_assert_int_eq(set_priority(1, 3), -XEN_ENOSYS);
	/* init_control: bad gfns, offsets, vCPUs. */
	ck_assert_int_eq(init_control(FRAMES, 0, 0, NULL), -XEN_EINVAL);     /* past RAM */
	ck_assert_int_eq(init_control(1ULL << 60, 0, 0, NULL), -XEN_EINVAL); /* huge */
	ck_assert_int_eq(init_control(~0ULL, 0, 0, NULL), -XEN_EINVAL);
	ck_assert_int_eq(init_control(CB_GFN, 4096 - 64 + 8, 0, NULL), -XEN_EINVAL); /* crosses */
	ck_assert_int_eq(init_control(CB_GFN, 4096, 0, NULL), -XEN_EINVAL);
	ck_assert_int_eq(init_control(CB_GFN, 0xffffffff, 0, NULL), -XEN_EINVAL);
	ck_assert_int_eq(init_control(CB_GFN, 4, 0, NULL), -XEN_EINVAL); /* not 8-aligned */
	ck_assert_int_eq(init_control(CB_GFN, 0, 2, NULL), -XEN_ENOENT);
	ck_assert_int_eq(init_control(CB_GFN, 0, 0xffffffff, NULL), -XEN_ENOENT);
	/* A frame given back to the hypervisor. */
	ck_assert_int_eq(mem_frame_present(&d->mem, CB_GFN * 4096ULL), true);
	/* Nothing changed: still 2-level, a send sets the 2-level bit. */
	ck_assert_ptr_null(d->ev.fifo);
	pair(&rx, &tx);
	ck_assert(d->shinfo->evtchn_pending[0] & (1UL << tx));
	ck_assert_uint_eq(*word(tx), 0);

	/* The switch, at the highest offset allowed; then double init, as Xen: -EINVAL. */
	ck_assert_int_eq(
	    init_control(CB_GFN, 4096 - sizeof(struct evtchn_fifo_control_block), 0, NULL), 0);
	ck_assert_int_eq(init_control(CB_GFN, 0, 0, NULL), -XEN_EINVAL);
	ck_assert_int_eq(init_control(CB1_GFN, 0, 1, NULL), 0); /* the other vCPU: its own */
	ck_assert_int_eq(init_control(CB1_GFN, 0, 1, NULL), -XEN_EINVAL);
	/* expand_array: a bad gfn, then one page (1024 ports), then no more. */
	ck_assert_int_eq(expand(FRAMES + 5), -XEN_EINVAL);
	ck_assert_int_eq(expand(1ULL << 55), -XEN_EINVAL);
	ck_assert_int_eq(expand(ARRAY_GFN), 0);
	ck_assert_int_eq(expand(ARRAY2_GFN), -XEN_ENOSPC);
	ck_assert_int_eq(expand(ARRAY2_GFN), -XEN_ENOSPC);
	/* set_priority: range, port. */
	ck_assert_int_eq(set_priority(rx, EVTCHN_FIFO_PRIORITY_MIN + 1), -XEN_EINVAL);
	ck_assert_int_eq(set_priority(rx, 0xffffffff), -XEN_EINVAL);
	ck_assert_int_eq(set_priority(EVTCHN_GUEST_PORTS, 3), -XEN_EINVAL);
	ck_assert_int_eq(set_priority(0xffffffff, 3), -XEN_EINVAL);
	ck_assert_int_eq(set_priority(rx, EVTCHN_FIFO_PRIORITY_MAX), 0);
	/* Unknown op, and an argument the guest does not map. */
	ck_assert_int_eq(evop(99, &rx, sizeof(rx)), -XEN_ENOSYS);
	{
		struct hv_regs *r = &vc[0]->regs;

		memset(r, 0, sizeof(*r));
		r->rax = __HYPERVISOR_event_channel_op;
		r->rdi = EVTCHNOP_init_control;
		r->rsi = 0x7000000;
		hypercall_dispatch(vc[0]);
		ck_assert_int_eq((long)r->rax, -XEN_EFAULT);
	}
}
END_TEST

/* What was pending under 2-level is delivered once the array page exists. */
START_TEST(switch_keeps_pending)
{
	struct evtchn_fifo_control_block *c = cb(CB_GFN);
	uint32_t head[16] = { 0 }, rx, tx;

	pair(&rx, &tx);
	ck_assert_int_eq(init_control(CB_GFN, 0, 0, NULL), 0);
	ck_assert_uint_eq(c->ready, 0);
	ck_assert_int_eq(expand(ARRAY_GFN), 0);
	ck_assert_uint_eq(*word(tx) & (PENDING | LINKED), PENDING | LINKED);
	ck_assert_uint_eq(c->ready, 1U << EVTCHN_FIFO_PRIORITY_DEFAULT);
	ck_assert_uint_eq(c->head[EVTCHN_FIFO_PRIORITY_DEFAULT], tx);
	ck_assert_uint_eq(upcall_pending(0), 1);
	ck_assert_uint_eq(consume(c, head, EVTCHN_FIFO_PRIORITY_DEFAULT), tx);
	ck_assert_uint_eq(consume(c, head, EVTCHN_FIFO_PRIORITY_DEFAULT), 0);
	ck_assert(!evtchn_port_pending(d, tx));
	ck_assert(!evtchn_port_pending(d, rx));
}
END_TEST

START_TEST(queues_in_order)
{
	struct evtchn_fifo_control_block *c = cb(CB_GFN);
	uint32_t head[16] = { 0 }, rx[3], tx[3], q = EVTCHN_FIFO_PRIORITY_DEFAULT;

	fifo_on();
	for (int i = 0; i < 3; i++)
		pair(&rx[i], &tx[i]);
	/* The binds queued tx[0..2] (a new bound port starts pending) in order. */
	ck_assert_uint_eq(c->head[q], tx[0]);
	ck_assert_uint_eq(*word(tx[0]) & LINK, tx[1]);
	ck_assert_uint_eq(*word(tx[1]) & LINK, tx[2]);
	ck_assert_uint_eq(*word(tx[2]) & LINK, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(consume(c, head, q), tx[i]);
	ck_assert_uint_eq(c->ready, 0);

	/* Priorities: the lowest first in the ready word, each queue its own head. */
	ck_assert_int_eq(set_priority(rx[0], EVTCHN_FIFO_PRIORITY_MIN), 0);
	ck_assert_int_eq(set_priority(rx[2], EVTCHN_FIFO_PRIORITY_MAX), 0);
	ck_assert_int_eq(send(tx[0]), 0);
	ck_assert_int_eq(send(tx[1]), 0);
	ck_assert_int_eq(send(tx[2]), 0);
	ck_assert_uint_eq(c->ready, (1U << 15) | (1U << q) | 1U);
	ck_assert_uint_eq(c->head[0], rx[2]);
	ck_assert_uint_eq(c->head[15], rx[0]);
	ck_assert_uint_eq(c->head[q], rx[1]);
	ck_assert(evtchn_port_pending(d, rx[1]));
	ck_assert_uint_eq(consume(c, head, 0), rx[2]);
	ck_assert_uint_eq(consume(c, head, q), rx[1]);
	ck_assert_uint_eq(consume(c, head, 15), rx[0]);
	ck_assert_uint_eq(c->ready, 0);

	/* A send while pending and linked does not link twice. */
	ck_assert_int_eq(send(tx[1]), 0);
	ck_assert_int_eq(send(tx[1]), 0);
	ck_assert_uint_eq(consume(c, head, q), rx[1]);
	ck_assert_uint_eq(consume(c, head, q), 0);
}
END_TEST

START_TEST(mask_and_unmask)
{
	struct evtchn_fifo_control_block *c = cb(CB_GFN);
	uint32_t head[16] = { 0 }, rx, tx, q = EVTCHN_FIFO_PRIORITY_DEFAULT;

	fifo_on();
	pair(&rx, &tx);
	ck_assert_uint_eq(consume(c, head, q), tx);
	__atomic_fetch_or(word(rx), MASKED, __ATOMIC_SEQ_CST); /* the guest masks it */
	d->shinfo->vcpu_info[0].evtchn_upcall_pending = 0;
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(*word(rx), PENDING | MASKED); /* pending, not linked */
	ck_assert_uint_eq(c->ready, 0);
	ck_assert_uint_eq(upcall_pending(0), 0);
	ck_assert(evtchn_port_pending(d, rx)); /* SCHEDOP_poll sees it */
	ck_assert_int_eq(unmask(rx), 0);
	ck_assert_uint_eq(*word(rx), PENDING | LINKED);
	ck_assert_uint_eq(upcall_pending(0), 1);
	ck_assert_uint_eq(consume(c, head, q), rx);
	/* Closing clears pending; the port comes back at the default priority. */
	ck_assert_int_eq(set_priority(rx, 2), 0);
	ck_assert_int_eq(send(tx), 0);
	ck_assert_int_eq(evtchn_close(d, rx, NULL), 0);
	ck_assert_uint_eq(*word(rx) & PENDING, 0);
	ck_assert_int_eq(unmask(rx), -XEN_EINVAL);
}
END_TEST

/* Events to a vCPU with no control block are dropped (Xen), the hypervisor fine. */
START_TEST(no_control_block)
{
	uint32_t rx, tx;
	struct evtchn_bind_vcpu bv;

	fifo_on();
	pair(&rx, &tx);
	bv = (struct evtchn_bind_vcpu){ .port = rx, .vcpu = 1 };
	ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), 0);
	*word(rx) = 0;
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(*word(rx), PENDING);
	ck_assert_uint_eq(upcall_pending(1), 0);
	/* With its block, vCPU 1 gets it on its own queue. */
	ck_assert_int_eq(init_control(CB1_GFN, 64, 1, NULL), 0);
	ck_assert_int_eq(unmask(rx), 0);
	ck_assert_uint_eq(((struct evtchn_fifo_control_block *)((uint8_t *)cb(CB1_GFN) + 64))
			      ->head[EVTCHN_FIFO_PRIORITY_DEFAULT],
			  rx);
	ck_assert_uint_eq(upcall_pending(1), 1);
}
END_TEST

/* A guest that sets LINKED on its words and writes junk in heads, links and ready. */
START_TEST(scribbled_words_and_heads)
{
	struct evtchn_fifo_control_block *c = cb(CB_GFN);
	uint32_t rx, tx, rx2, tx2, q = EVTCHN_FIFO_PRIORITY_DEFAULT;

	fifo_on();
	pair(&rx, &tx);	  /* queue q: tx ... */
	pair(&rx2, &tx2); /* ... then tx2, the tail */
	/* Heads and ready are the guest's to break: never read back by the hypervisor. */
	c->head[q] = 0xdeadbeef;
	c->ready = 0xffffffff;
	/* rx claims to be linked already: it is left alone, only marked pending. */
	*word(rx) = LINKED | BUSY | 12345;
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(*word(rx), LINKED | BUSY | 12345 | PENDING);
	/* The tail tx2 with a bogus link: replaced by rx, BUSY never left behind. */
	*word(tx2) = LINKED | 0x1ffff;
	*word(rx) = 0;
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(*word(tx2), LINKED | rx);
	ck_assert_uint_eq(*word(rx), LINKED | PENDING);
	/* The tail rx consumed (LINKED gone, BUSY scribbled): the next event heads a new queue. */
	*word(rx) = BUSY;
	ck_assert_int_eq(send(tx2), 0);
	ck_assert_uint_eq(c->head[q], rx2);
	ck_assert_uint_eq(*word(rx), BUSY);
	/* Every word of the page set to junk: sends still return, in bounded time. */
	for (unsigned i = 0; i < 1024; i++)
		*word(i) = 0x3fffffff;
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(send(tx), 0);
		ck_assert_int_eq(send(tx2), 0);
		ck_assert_int_eq(unmask(rx), 0);
	}
}
END_TEST

static volatile bool stop_scribbler;

/* Writes random words (LINKED, BUSY, links, all of it) as fast as it can. */
static void *scribbler(void *arg)
{
	uint32_t **w = arg, x = 1;

	while (!__atomic_load_n(&stop_scribbler, __ATOMIC_SEQ_CST)) {
		x = x * 1103515245 + 12345;
		__atomic_store_n(w[x >> 31], x, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Sends and unmasks while the guest rewrites both words: each call returns. */
START_TEST(racing_guest_cannot_hang_linking)
{
	uint32_t rx, tx, rx2, tx2, *words[2];
	pthread_t t;

	fifo_on();
	pair(&rx, &tx);
	pair(&rx2, &tx2);
	words[0] = word(rx);
	words[1] = word(rx2);
	stop_scribbler = false;
	ck_assert_int_eq(pthread_create(&t, NULL, scribbler, words), 0);
	for (int i = 0; i < 20000; i++) {
		ck_assert_int_eq(send(tx), 0);
		ck_assert_int_eq(send(tx2), 0);
		ck_assert_int_eq(unmask(rx2), 0);
	}
	stop_scribbler = true;
	pthread_join(t, NULL);
}
END_TEST

START_TEST(reset_goes_back_to_2level)
{
	struct evtchn_reset r = { .dom = DOMID_SELF };
	uint32_t rx, tx;

	fifo_on();
	ck_assert_int_eq(evop(EVTCHNOP_reset, &r, sizeof(r)), 0);
	ck_assert_int_eq(set_priority(1, 3), -XEN_ENOSYS);
	ck_assert_int_eq(expand(ARRAY_GFN), -XEN_EOPNOTSUPP);
	memset(d->shinfo->evtchn_pending, 0, sizeof(d->shinfo->evtchn_pending));
	memset(word(0), 0, 4096);
	pair(&rx, &tx);
	ck_assert(d->shinfo->evtchn_pending[0] & (1UL << tx));
	ck_assert(evtchn_port_pending(d, tx));
	ck_assert_uint_eq(*word(tx), 0);
	/* And FIFO again after it: what was pending is carried over. */
	fifo_on();
	ck_assert(evtchn_port_pending(d, tx));
	ck_assert(!evtchn_port_pending(d, rx));
	ck_assert_int_eq(send(tx), 0);
	ck_assert(evtchn_port_pending(d, rx));
}
END_TEST

/* ---- Guest frames the hypervisor holds (Xen's get_page_and_type, PGT_writable_page). ---- */

/* A hypercall from vCPU 0 with its arguments in registers. */
static long hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return hvh_hypercall(vc[0], nr, a0, a1, a2, a3);
}

/* One mmuext_op (cmd on frame gfn) at VA_DATA + 512, its count done at VA_DATA + 1024. */
static long ext(unsigned cmd, uint64_t gfn)
{
	struct mmuext_op op = { .cmd = cmd };

	op.arg1.mfn = gfn;
	memcpy(guest(VA_DATA + 512), &op, sizeof(op));
	return hc(__HYPERVISOR_mmuext_op, VA_DATA + 512, 1, VA_DATA + 1024, DOMID_SELF);
}

/* XENMEM_decrease_reservation of one frame: the extents done (0 refused, 1 given back). */
static long give_back(uint64_t gfn)
{
	struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
	xen_pfn_t frame = gfn;

	set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(VA_DATA + 2048));
	memcpy(guest(VA_DATA + 1536), &r, sizeof(r));
	memcpy(guest(VA_DATA + 2048), &frame, sizeof(frame));
	return hc(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, VA_DATA + 1536, 0, 0);
}

static struct mmu_frame frame_info(uint64_t gfn)
{
	struct mmu_frame f;

	ck_assert(mmu_frame_info(d, gfn * 4096ULL, &f));
	return f;
}

/* Held by the hypervisor n times: n references, writable with n type references. */
static void held(uint64_t gfn, unsigned n)
{
	struct mmu_frame f = frame_info(gfn);

	ck_assert_uint_eq(f.refs, n);
	ck_assert_uint_eq(f.type_count, n);
	ck_assert_uint_eq(f.type, n ? MMU_T_WRITABLE : MMU_T_NONE);
}

/* The guest may not pin a held frame as any level of table, nor give it back. */
static void guest_cannot_take(uint64_t gfn)
{
	struct mmu_frame before = frame_info(gfn);

	for (unsigned l = 0; l < 4; l++)
		ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE + l, gfn), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, gfn), -XEN_EINVAL);
	ck_assert_int_eq(give_back(gfn), 0);
	ck_assert(mem_frame_present(&d->mem, gfn * 4096ULL));
	ck_assert_uint_eq(frame_info(gfn).refs, before.refs);
	ck_assert_uint_eq(frame_info(gfn).type_count, before.type_count);
}

START_TEST(fifo_frames_held_while_used)
{
	uint64_t h0 = mmu_held(d);
	struct evtchn_reset r = { .dom = DOMID_SELF };

	/* A frame that is a page table cannot become a control block or array page. */
	memset(mem_gpa(&d->mem, TABLE_GFN * 4096ULL, 4096), 0, 4096);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, TABLE_GFN), 0);
	ck_assert_int_eq(init_control(TABLE_GFN, 0, 0, NULL), -XEN_EINVAL);
	ck_assert(!evtchn_fifo_active(d)); /* still 2-level */
	fifo_on();
	ck_assert_int_eq(init_control(TABLE_GFN, 0, 1, NULL), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, TABLE_GFN), 0);
	ck_assert_uint_eq(frame_info(TABLE_GFN).refs, 0);
	ck_assert_uint_eq(mmu_held(d), h0 + 2);
	held(CB_GFN, 1);
	held(ARRAY_GFN, 1);
	/* Refusals hold nothing: a second block for vCPU 0, a page past the limit. */
	ck_assert_int_eq(init_control(CB1_GFN, 0, 0, NULL), -XEN_EINVAL);
	ck_assert_int_eq(expand(ARRAY2_GFN), -XEN_ENOSPC);
	held(CB1_GFN, 0);
	held(ARRAY2_GFN, 0);
	/* vCPU 1's block in vCPU 0's frame: the frame is held twice. */
	ck_assert_int_eq(init_control(CB_GFN, 512, 1, NULL), 0);
	held(CB_GFN, 2);
	ck_assert_uint_eq(mmu_held(d), h0 + 3);
	/* What the guest may try on them meanwhile. */
	guest_cannot_take(CB_GFN);
	guest_cannot_take(ARRAY_GFN);
	/* Still delivered into the same frames. */
	{
		uint32_t rx, tx;
		pair(&rx, &tx);
		ck_assert(*word(tx) & LINKED);
	}
	/* EVTCHNOP_reset lets go of them all: the guest may pin or give them back again. */
	ck_assert_int_eq(evop(EVTCHNOP_reset, &r, sizeof(r)), 0);
	ck_assert_uint_eq(mmu_held(d), h0);
	held(CB_GFN, 0);
	held(ARRAY_GFN, 0);
	memset(mem_gpa(&d->mem, CB_GFN * 4096ULL, 4096), 0, 4096);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, CB_GFN), 0);
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, CB_GFN), 0);
	ck_assert_int_eq(give_back(ARRAY_GFN), 1);
	ck_assert(!mem_frame_present(&d->mem, ARRAY_GFN * 4096ULL));
	/* A frame given back cannot be used; FIFO again elsewhere, left for the teardown
	 * (the domain's end) to release: hvh_teardown fails the case on any leak. */
	ck_assert_int_eq(init_control(CB_GFN, 0, 0, NULL), 0);
	ck_assert_int_eq(expand(ARRAY_GFN), -XEN_EINVAL);
	ck_assert_int_eq(expand(ARRAY2_GFN), 0);
	held(CB_GFN, 1);
	held(ARRAY2_GFN, 1);
	ck_assert_uint_eq(mmu_held(d), h0 + 2);
}
END_TEST

/* VCPUOP_register_vcpu_info and PHYSDEVOP_pirq_eoi_gmfn hold their frames as Xen does. */
START_TEST(vcpu_info_and_eoi_frames_held)
{
	struct vcpu_register_vcpu_info *ri = guest(VA_DATA + 512);
	uint64_t *gmfn = guest(VA_DATA + 512);

	/* A page table is refused; nothing held. */
	memset(mem_gpa(&d->mem, TABLE_GFN * 4096ULL, 4096), 0, 4096);
	ck_assert_int_eq(ext(MMUEXT_PIN_L2_TABLE, TABLE_GFN), 0);
	*ri = (struct vcpu_register_vcpu_info){ .mfn = TABLE_GFN, .offset = 64 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA + 512, 0),
			 -XEN_EINVAL);
	ck_assert_ptr_null(vc[0]->vinfo);
	*gmfn = TABLE_GFN;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pirq_eoi_gmfn_v2, VA_DATA + 512, 0, 0),
	    -XEN_EINVAL);
	ck_assert_uint_eq(d->pirq_eoi_gmfn, 0);
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, TABLE_GFN), 0);
	ck_assert_uint_eq(mmu_held(d), 0);

	/* Both vCPUs' vcpu_info in one frame (vCPU 1 is down): held twice. */
	vc[1]->state = VCPU_OFFLINE;
	*ri = (struct vcpu_register_vcpu_info){ .mfn = VINFO_GFN, .offset = 64 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA + 512, 0),
			 0);
	*ri = (struct vcpu_register_vcpu_info){ .mfn = VINFO_GFN, .offset = 1024 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, VA_DATA + 512, 0),
			 0);
	held(VINFO_GFN, 2);
	/* Once per vCPU: the refusal holds nothing more. */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, VA_DATA + 512, 0),
			 -XEN_EINVAL);
	held(VINFO_GFN, 2);
	guest_cannot_take(VINFO_GFN);

	/* The EOI map: held once; a second registration is -EBUSY and holds nothing. */
	*gmfn = EOI_GFN;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pirq_eoi_gmfn_v2, VA_DATA + 512, 0, 0), 0);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pirq_eoi_gmfn_v1, VA_DATA + 512, 0, 0),
	    -XEN_EBUSY);
	held(EOI_GFN, 1);
	guest_cannot_take(EOI_GFN);
	ck_assert_uint_eq(mmu_held(d), 3);

	/* The domain's end lets go of all of them (hvh_teardown checks the count too). */
	domain_release_frames(d);
	ck_assert_uint_eq(mmu_held(d), 0);
	held(VINFO_GFN, 0);
	held(EOI_GFN, 0);
	ck_assert_ptr_null(vc[0]->vinfo);
	ck_assert_int_eq(give_back(EOI_GFN), 1);
}
END_TEST

/*
 * EVTCHNOP_bind_vcpu while the port is LINKED on vCPU 0's queue: it stays
 * there until vCPU 0 takes it (Xen's lock_old_queue), then the next event
 * goes to vCPU 1's queue; vCPU 0's queue is not corrupted by the move.
 */
START_TEST(bind_vcpu_while_linked)
{
	struct evtchn_fifo_control_block *c0 = cb(CB_GFN), *c1 = cb(CB1_GFN);
	uint32_t head0[16] = { 0 }, head1[16] = { 0 }, rx, tx, rx2, tx2;
	uint32_t q = EVTCHN_FIFO_PRIORITY_DEFAULT;
	struct evtchn_bind_vcpu bv;

	fifo_on();
	ck_assert_int_eq(init_control(CB1_GFN, 0, 1, NULL), 0);
	pair(&rx, &tx);
	pair(&rx2, &tx2);
	ck_assert_uint_eq(consume(c0, head0, q), tx);
	ck_assert_uint_eq(consume(c0, head0, q), tx2);
	ck_assert_uint_eq(consume(c0, head0, q), 0);
	/* rx linked on vCPU 0 (the tail there), then moved. */
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(*word(rx) & (PENDING | LINKED), PENDING | LINKED);
	bv = (struct evtchn_bind_vcpu){ .port = rx, .vcpu = 1 };
	ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), 0);
	d->shinfo->vcpu_info[1].evtchn_upcall_pending = 0;
	/* Sent again while linked: nothing moves, nothing is linked twice. */
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(c1->ready, 0);
	ck_assert_uint_eq(upcall_pending(1), 0);
	/* rx2 (still vCPU 0's) links behind rx in vCPU 0's queue. */
	ck_assert_int_eq(send(tx2), 0);
	ck_assert_uint_eq(*word(rx) & LINK, rx2);
	ck_assert_uint_eq(consume(c0, head0, q), rx);
	ck_assert_uint_eq(consume(c0, head0, q), rx2);
	ck_assert_uint_eq(consume(c0, head0, q), 0);
	/* Now rx goes to vCPU 1's queue, with its upcall. */
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(c1->head[q], rx);
	ck_assert_uint_eq(c1->ready, 1U << q);
	ck_assert_uint_eq(upcall_pending(1), 1);
	/* rx was vCPU 0's tail: that queue starts afresh, never linked behind rx. */
	c0->head[q] = 0;
	ck_assert_int_eq(send(tx2), 0);
	ck_assert_uint_eq(c0->head[q], rx2);
	ck_assert_uint_eq(*word(rx) & LINK, 0);
	ck_assert_uint_eq(consume(c1, head1, q), rx);
	ck_assert_uint_eq(consume(c1, head1, q), 0);
	ck_assert_uint_eq(consume(c0, head0, q), rx2);
	/* Moved back while linked on vCPU 1: delivered there once, then on vCPU 0. */
	ck_assert_int_eq(send(tx), 0);
	bv.vcpu = 0;
	ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), 0);
	ck_assert_uint_eq(consume(c1, head1, q), rx);
	ck_assert_int_eq(send(tx), 0);
	ck_assert_uint_eq(consume(c0, head0, q), rx);
	ck_assert_uint_eq(consume(c1, head1, q), 0);
	/* IPIs and per-vCPU VIRQs do not move (Xen: -EINVAL); no such vCPU: -ENOENT. */
	{
		struct evtchn_bind_ipi bi = { .vcpu = 1 };
		struct evtchn_bind_virq bvq = { .virq = VIRQ_TIMER, .vcpu = 1 };
		ck_assert_int_eq(evop(EVTCHNOP_bind_ipi, &bi, sizeof(bi)), 0);
		bv = (struct evtchn_bind_vcpu){ .port = bi.port, .vcpu = 0 };
		ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), -XEN_EINVAL);
		ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bvq, sizeof(bvq)), 0);
		bv = (struct evtchn_bind_vcpu){ .port = bvq.port, .vcpu = 0 };
		ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), -XEN_EINVAL);
		bv = (struct evtchn_bind_vcpu){ .port = rx, .vcpu = 2 };
		ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), -XEN_ENOENT);
		/* The IPI and the timer VIRQ land on vCPU 1's queue. */
		c1->ready = 0;
		memset(head1, 0, sizeof(head1));
		*word(bi.port) &= ~MASKED;
		*word(bvq.port) &= ~MASKED;
		struct evtchn_send sd = { .port = bi.port };
		ck_assert_int_eq(evop(EVTCHNOP_send, &sd, sizeof(sd)), 0);
		evtchn_send_virq(d, 1, VIRQ_TIMER);
		ck_assert_uint_eq(consume(c1, head1, q), bi.port);
		ck_assert_uint_eq(consume(c1, head1, q), bvq.port);
		ck_assert_uint_eq(consume(c1, head1, q), 0);
		ck_assert_uint_eq(consume(c0, head0, q), 0);
	}
}
END_TEST

static Suite *fifo_suite(void)
{
	Suite *s = suite_create("evtchn_fifo");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hostile_arguments);
	tcase_add_test(tc, switch_keeps_pending);
	tcase_add_test(tc, queues_in_order);
	tcase_add_test(tc, mask_and_unmask);
	tcase_add_test(tc, no_control_block);
	tcase_add_test(tc, scribbled_words_and_heads);
	tcase_add_test(tc, racing_guest_cannot_hang_linking);
	tcase_add_test(tc, reset_goes_back_to_2level);
	tcase_add_test(tc, fifo_frames_held_while_used);
	tcase_add_test(tc, vcpu_info_and_eoi_frames_held);
	tcase_add_test(tc, bind_vcpu_while_linked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fifo_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
