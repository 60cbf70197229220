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
#include "../../hypervisor/hv.h"
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
