// SPDX-License-Identifier: MIT
/*
 * Check suite: the save and restore ops (hypervisor/save.c) with hostile
 * requests, as a save file or a toolstack could make them.  Pins are
 * validated as the guest's own (no writable page table, no frame outside
 * the domain), contexts are checked as VCPUOP_initialise's (user base and
 * LDT included), every refusal changes nothing, and the harness's leak
 * check passes at the end of each case.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/mmu.h"
#include "hv_harness.h"

#define FRAMES 512ULL
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
#define L4B 0x5000ULL /* a second L4 (a user base) linking the same L3 */
#define DATA 0x10000ULL
#define FREE 0x30000ULL
#define RW 7ULL
#define RO 5ULL

static struct hv_domain *d;

static int fake_install_l4(struct hv_domain *x, uint64_t l4)
{
	(void)x;
	(void)l4;
	return 0;
}

static void setup(void)
{
	static const struct hv_engine hooks = { .install_l4 = fake_install_l4 };

	d = hvh_setup(&(struct hvh_spec){ .domid = 9,
					  .vcpus = 2,
					  .frames = FRAMES,
					  .memop_boot = FRAMES,
					  .shinfo_gpa = SV_SHARED_INFO_GPA,
					  .gnttab = true,
					  .domain_table = true,
					  .hooks = &hooks });
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L4B)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[2] = L1 | RW;
	for (int i = 0; i < 16; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | RW;
	hvh_pt(L1)[16] = L4 | RO;
	hvh_pt(L1)[17] = L3 | RO;
	hvh_pt(L1)[18] = L2 | RO;
	hvh_pt(L1)[19] = L1 | RO;
	hvh_pt(L1)[20] = L4B | RO;
	d->state = DOM_CREATED; /* a new domain a restore builds: its vCPUs never ran */
	for (unsigned i = 0; i < d->max_vcpus; i++)
		d->vcpus[i]->runstate.state = RUNSTATE_offline;
}

static void teardown(void)
{
	hvh_teardown();
}

static int op(uint32_t nr, void *req)
{
	const void *out;
	uint32_t len;

	return save_op(d, nr, req, &out, &len);
}

static int pin(uint32_t level, uint64_t mfn)
{
	struct sv_ctl_pin_table q = { .domid = d->domid, .level = level, .mfn = mfn };

	return op(SV_CTL_PIN_TABLE, &q);
}

static uint32_t type_of(uint64_t gpa)
{
	static struct sv_ctl_page_types q;

	memset(&q, 0, sizeof(q));
	q.count = 1;
	q.first = gpa >> 12;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), 0);
	return q.type[0];
}

static struct mmu_frame frame(uint64_t gpa)
{
	struct mmu_frame f;

	ck_assert(mmu_frame_info(d, gpa, &f));
	return f;
}

START_TEST(pin_validates_as_the_guests_own)
{
	ck_assert_int_eq(pin(4, L4 >> 12), 0);
	ck_assert_uint_eq(type_of(L4), SV_PFINFO_LPINTAB | (4u << 28));
	ck_assert_uint_eq(type_of(L3), 3u << 28);
	ck_assert_uint_eq(type_of(L1), 1u << 28);
	ck_assert_uint_eq(type_of(DATA), SV_PFINFO_NOTAB);
	ck_assert_uint_eq(type_of(FRAMES * 4096 + (1ULL << 30)), SV_PFINFO_XTAB);
	ck_assert_int_eq(pin(4, L4 >> 12), -EINVAL); /* already pinned */
	ck_assert_int_eq(pin(1, L1 >> 12), 0);	     /* the same type: a second pin */
}
END_TEST

START_TEST(pin_refuses_writable_tables_and_foreign_frames)
{
	struct mmu_frame before;

	/* DATA is mapped writable once L1 is validated: it cannot be a table. */
	ck_assert_int_eq(pin(1, L1 >> 12), 0);
	before = frame(DATA);
	ck_assert_int_eq(pin(1, DATA >> 12), -EINVAL);
	ck_assert_uint_eq(frame(DATA).refs, before.refs);
	ck_assert_uint_eq(frame(DATA).type_count, before.type_count);
	ck_assert_uint_eq(frame(DATA).type, MMU_T_WRITABLE);
	/* A table that maps itself writable. */
	uint64_t self = FREE;
	hvh_pt(self)[0] = self | RW;
	ck_assert_int_eq(pin(1, self >> 12), -EINVAL);
	ck_assert_uint_eq(frame(self).type_count, 0);
	ck_assert_uint_eq(frame(self).refs, 0);
	/* A table that maps a frame outside the domain's memory. */
	hvh_pt(self)[0] = 0x7ff00000000ULL | RW;
	ck_assert_int_eq(pin(1, self >> 12), -EINVAL);
	ck_assert_uint_eq(frame(self).refs, 0);
	/* Frames outside RAM, silly levels. */
	ck_assert_int_eq(pin(4, FRAMES + 5), -EINVAL);
	ck_assert_int_eq(pin(4, ~0ULL), -EINVAL);
	ck_assert_int_eq(pin(0, L1 >> 12), -EINVAL);
	ck_assert_int_eq(pin(5, L1 >> 12), -EINVAL);
	/* Once it ran, a domain takes no restore op. */
	d->state = DOM_ACTIVE;
	ck_assert_int_eq(pin(4, L4 >> 12), -EBUSY);
	d->state = DOM_CREATED;
}
END_TEST

START_TEST(page_types_bounds)
{
	static struct sv_ctl_page_types q;

	memset(&q, 0, sizeof(q));
	q.count = 0;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), -EINVAL);
	q.count = SV_PFINFO_MAX + 1;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), -EINVAL);
	q.count = 2;
	q.first = ~0ULL - 1;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), -EINVAL);
	q.first = 0;
	q.count = SV_PFINFO_MAX;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), 0);
	ck_assert_uint_eq(q.type[FRAMES + 1], SV_PFINFO_XTAB);
	/* A running domain is not read. */
	d->state = DOM_ACTIVE;
	d->pause_count = 0;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), -EBUSY);
	d->pause_count = 1;
	ck_assert_int_eq(op(SV_CTL_PAGE_TYPES, &q), 0);
	d->state = DOM_CREATED;
}
END_TEST

START_TEST(m2p_set_own_frames_only)
{
	static struct sv_ctl_m2p q;

	memset(&q, 0, sizeof(q));
	q.domid = d->domid;
	q.first = 3;
	q.count = 2;
	q.entry[0] = 77;
	q.entry[1] = 78;
	ck_assert_int_eq(op(SV_CTL_M2P_SET, &q), 0);
	memset(q.entry, 0, 16);
	ck_assert_int_eq(op(SV_CTL_M2P_GET, &q), 0);
	ck_assert_uint_eq(q.entry[0], 77);
	ck_assert_uint_eq(q.entry[1], 78);
	/* One frame past RAM: nothing written. */
	q.first = FRAMES - 1;
	q.count = 2;
	q.entry[0] = 5;
	ck_assert_int_eq(op(SV_CTL_M2P_SET, &q), -EINVAL);
	ck_assert_uint_eq(pv_m2p_get(d, (FRAMES - 1) * 4096), FRAMES - 1);
	q.count = 0;
	ck_assert_int_eq(op(SV_CTL_M2P_SET, &q), -EINVAL);
	q.count = SV_M2P_MAX + 1;
	ck_assert_int_eq(op(SV_CTL_M2P_GET, &q), -EINVAL);
	q.count = 1;
	q.first = 1ULL << 52;
	ck_assert_int_eq(op(SV_CTL_M2P_SET, &q), -EINVAL);
	d->state = DOM_ACTIVE;
	d->pause_count = 1;
	q.first = 3;
	ck_assert_int_eq(op(SV_CTL_M2P_SET, &q), -EBUSY);
	ck_assert_int_eq(op(SV_CTL_M2P_GET, &q), 0);
	d->state = DOM_CREATED;
}
END_TEST

static struct sv_ctl_vcpu_restore *good_ctx(uint32_t vcpu)
{
	static struct sv_ctl_vcpu_restore q;

	memset(&q, 0, sizeof(q));
	q.domid = d->domid;
	q.vcpu = vcpu;
	q.online = 1;
	q.ctx.flags = VGCF_in_kernel | VGCF_online;
	q.ctx.user_regs.rip = 0xffffffff80001000ULL;
	q.ctx.user_regs.rsp = 0xffffffff80002000ULL;
	q.ctx.user_regs.rax = 0;
	q.ctx.user_regs.rdx = 7;
	q.ctx.ctrlreg[3] = xen_pfn_to_cr3(L4 >> 12);
	return &q;
}

START_TEST(context_hostile_values)
{
	struct sv_ctl_vcpu_restore *q;
	struct mmu_frame data = frame(DATA);

	q = good_ctx(0);
	q->ctx.user_regs.rip = 0x8000000000000000ULL;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(0);
	q->ctx.ldt_ents = 8193; /* Xen's limit is 8192 */
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(0);
	q->ctx.ldt_base = 0x600800; /* not page aligned */
	q->ctx.ldt_ents = 1;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(0);
	q->ctx.ldt_base = 0x0000800000000000ULL; /* not canonical */
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(0);
	q->ctx.ctrlreg[1] = ~0ULL; /* a frame no entry can name */
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(0);
	q->ctx.ctrlreg[1] = xen_pfn_to_cr3(DATA >> 12); /* mapped writable: not a table */
	ck_assert_int_ne(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), 0);
	q = good_ctx(0);
	q->ctx.ctrlreg[1] = xen_pfn_to_cr3(FRAMES + 7); /* outside RAM */
	ck_assert_int_ne(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), 0);
	q = good_ctx(0);
	q->ctx.flags = VGCF_online; /* user mode: a restore sets kernel contexts only */
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(2);
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(1);
	q->online = 2;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	/* Nothing of that took: no base held, DATA as it was, no context. */
	ck_assert(!d->vcpus[0]->has_context);
	ck_assert_uint_eq(d->mmu->base[0], 0);
	ck_assert_uint_eq(d->mmu->user_base[0], 0);
	ck_assert_uint_eq(frame(DATA).refs, data.refs);
	ck_assert_uint_eq(frame(DATA).type_count, data.type_count);
}
END_TEST

START_TEST(context_carries_user_base_and_ldt)
{
	struct sv_ctl_vcpu_restore *q = good_ctx(0);
	/* ctl.c's request buffer: the reply is built in it. */
	static union {
		struct sv_ctl_vcpu_get g;
		uint8_t payload[SV_CTL_MAX_PAYLOAD];
	} buf;
	struct sv_ctl_vcpu_get *gp = &buf.g;
#define g (*gp)
	const void *out;
	uint32_t len;

	q->ctx.ctrlreg[1] = xen_pfn_to_cr3(L4B >> 12);
	q->ctx.ldt_base = 0xffff880000000000ULL;
	q->ctx.ldt_ents = 700; /* not mapped: recorded all the same, as Xen (pv_ldt.c) */
	q->ctx.user_regs.rax = 0x1234;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), 0);
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EEXIST);
	ck_assert_uint_eq(frame(L4B).type, MMU_T_L4);
	ck_assert(d->vcpus[0]->start_online);
	g.domid = d->domid;
	g.vcpu = 0;
	/* While its thread is in guest code (the harness's vCPUs "run") it is not read. */
	d->vcpus[0]->runstate.state = RUNSTATE_running;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &g, &out, &len), -EBUSY);
	d->vcpus[0]->runstate.state = RUNSTATE_offline;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &g, &out, &len), 0);
	const struct sv_ctl_vcpu_context *c = out;
	ck_assert_uint_eq(len, sizeof(*c));
	ck_assert_uint_eq(c->ctx.ctrlreg[3], xen_pfn_to_cr3(L4 >> 12));
	ck_assert_uint_eq(c->ctx.ctrlreg[1], xen_pfn_to_cr3(L4B >> 12));
	ck_assert_uint_eq(c->ctx.ldt_base, 0xffff880000000000ULL);
	ck_assert_uint_eq(c->ctx.ldt_ents, 700);
	ck_assert_uint_eq(d->vcpus[0]->ldt_nframes, 0);
	ck_assert_uint_eq(c->ctx.user_regs.rax, 0x1234);
	ck_assert_uint_eq(c->ctx.user_regs.rip, 0xffffffff80001000ULL);
	/* vCPU 1 never had one: nothing to save; beyond the vCPUs: refused. */
	g.vcpu = 1;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &g, &out, &len), -ENODATA);
	g.vcpu = 9;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &g, &out, &len), -EINVAL);
	/* A running domain's vCPU is not read. */
	d->state = DOM_ACTIVE;
	g.vcpu = 0;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &g, &out, &len), -EBUSY);
	d->state = DOM_CREATED;
#undef g
}
END_TEST

/*
 * A saved vCPU's GDT (gdt_frames/gdt_ents) comes back with its context: the frames held
 * with the seg-desc type again (its descriptors checked), given back in the next save; a
 * record naming a page table or too many entries is refused with nothing held.
 */
START_TEST(context_carries_the_gdt)
{
	struct sv_ctl_vcpu_restore *q;
	static union {
		struct sv_ctl_vcpu_get g;
		uint8_t payload[SV_CTL_MAX_PAYLOAD];
	} buf;
	const void *out;
	uint32_t len;

	hvh_pt(FREE)[1] = 0x00af9a000000ffffULL; /* DPL 0: comes back DPL 3 */
	q = good_ctx(0);
	q->ctx.gdt_frames[0] = L1 >> 12;
	q->ctx.gdt_ents = 16;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	q = good_ctx(0);
	q->ctx.gdt_frames[0] = FREE >> 12;
	q->ctx.gdt_ents = FIRST_RESERVED_GDT_ENTRY + 1;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), -EINVAL);
	ck_assert_uint_eq(frame(FREE).refs, 0);
	ck_assert(!d->vcpus[0]->has_context);
	q = good_ctx(0);
	q->ctx.gdt_frames[0] = FREE >> 12;
	q->ctx.gdt_ents = 32;
	ck_assert_int_eq(op(SV_CTL_VCPU_RESTORE_CONTEXT, q), 0);
	ck_assert_uint_eq(frame(FREE).type, MMU_T_SEG_DESC);
	ck_assert_uint_eq(hvh_pt(FREE)[1], 0x00affa000000ffffULL);
	buf.g.domid = d->domid;
	buf.g.vcpu = 0;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &buf.g, &out, &len), 0);
	const struct sv_ctl_vcpu_context *c = out;
	ck_assert_uint_eq(c->ctx.gdt_ents, 32);
	ck_assert_uint_eq(c->ctx.gdt_frames[0], FREE >> 12);
	/* The domain's end gives the frame back (the harness checks nothing stays held). */
}
END_TEST

/* vCPU 0's context as a save reads it (SV_CTL_VCPU_GET_CONTEXT), into out. */
static void context_of(struct vcpu_guest_context *out)
{
	static union {
		struct sv_ctl_vcpu_get g;
		uint8_t payload[SV_CTL_MAX_PAYLOAD];
	} buf;
	const void *reply;
	uint32_t len;

	memset(&buf, 0, sizeof(buf));
	buf.g.domid = d->domid;
	buf.g.vcpu = 0;
	ck_assert_int_eq(save_op(d, SV_CTL_VCPU_GET_CONTEXT, &buf.g, &reply, &len), 0);
	memcpy(out, &((const struct sv_ctl_vcpu_context *)reply)->ctx, sizeof(*out));
}

/* The toolstack's set (vcpu_tools_set_context) under the domain's lock, as ctl.c and xctl do. */
static int tools_set(const struct vcpu_guest_context *ctx)
{
	int r;

	pthread_mutex_lock(&d->lock);
	r = vcpu_tools_set_context(d->vcpus[0], ctx);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* vCPU 0 with good_ctx's context (a GDT frame and a user base too), then the domain ran and paused.
 */
static void paused_with_context(void)
{
	struct vcpu_guest_context *ctx = &good_ctx(0)->ctx;

	ctx->ctrlreg[1] = xen_pfn_to_cr3(L4B >> 12);
	ctx->gdt_frames[0] = FREE >> 12;
	ctx->gdt_ents = 32;
	ctx->event_callback_eip = 0xffffffff80003000ULL;
	ck_assert_int_eq(tools_set(ctx), 0);
	ck_assert(d->vcpus[0]->has_context);
	d->state = DOM_ACTIVE;
	d->pause_count = 1;
	d->vcpus[0]->regs_dirty = false;
	d->vcpus[0]->segs_dirty = false;
}

/*
 * A paused domain's vCPU takes a new context with the same tables (Xen's
 * rule for an initialised vCPU): registers, bases, kernel stack, callbacks
 * and trap table change, the engine is told to load them, the tables and
 * their references stay as they were.  So libxc's xc_domain_resume's rax.
 */
START_TEST(tools_context_replaced_while_paused)
{
	static struct vcpu_guest_context cur, got;
	struct mmu_frame l4, l4b, gdt;
	struct hv_vcpu *v = d->vcpus[0];

	paused_with_context();
	l4 = frame(L4), l4b = frame(L4B), gdt = frame(FREE);
	context_of(&cur);
	cur.user_regs.rax = 1; /* xc_domain_resume: "the suspend was cancelled" */
	cur.user_regs.rip = 0xffffffff80005000ULL;
	cur.user_regs.rsp = 0xffffffff80006000ULL;
	cur.user_regs.r15 = 0x1515;
	cur.fs_base = 0x7f0000001000ULL;
	cur.kernel_sp = 0xffffffff80007000ULL;
	cur.event_callback_eip = 0xffffffff80008000ULL;
	cur.trap_ctxt[14].vector = 14;
	cur.trap_ctxt[14].address = 0xffffffff80009000ULL;
	ck_assert_int_eq(tools_set(&cur), 0);
	ck_assert(v->regs_dirty);
	ck_assert(v->segs_dirty);
	ck_assert_uint_eq(v->regs.rax, 1);
	context_of(&got);
	ck_assert_uint_eq(got.user_regs.rip, 0xffffffff80005000ULL);
	ck_assert_uint_eq(got.user_regs.rsp, 0xffffffff80006000ULL);
	ck_assert_uint_eq(got.user_regs.r15, 0x1515);
	ck_assert_uint_eq(got.fs_base, 0x7f0000001000ULL);
	ck_assert_uint_eq(got.kernel_sp, 0xffffffff80007000ULL);
	ck_assert_uint_eq(got.event_callback_eip, 0xffffffff80008000ULL);
	ck_assert_uint_eq(got.trap_ctxt[14].address, 0xffffffff80009000ULL);
	ck_assert_uint_eq(got.ctrlreg[3], xen_pfn_to_cr3(L4 >> 12));
	ck_assert_uint_eq(got.ctrlreg[1], xen_pfn_to_cr3(L4B >> 12));
	ck_assert_uint_eq(frame(L4).refs, l4.refs);
	ck_assert_uint_eq(frame(L4B).refs, l4b.refs);
	ck_assert_uint_eq(frame(FREE).refs, gdt.refs);
	/* A suspended (shut-down) domain's, and a new one's second context, the same way. */
	d->state = DOM_SHUTDOWN;
	d->pause_count = 0;
	cur.user_regs.rax = 0;
	ck_assert_int_eq(tools_set(&cur), 0);
	ck_assert_uint_eq(v->regs.rax, 0);
	d->state = DOM_CREATED;
	cur.user_regs.rax = 5;
	ck_assert_int_eq(tools_set(&cur), 0);
	ck_assert_uint_eq(v->regs.rax, 5);
}
END_TEST

/*
 * Hostile contexts for a paused domain's vCPU: each refused with Xen's
 * error (-EINVAL for what arch_set_info_guest's checks refuse,
 * -EOPNOTSUPP for other tables, GDT or LDT), nothing changed.  Ring-0
 * selectors and kernel-only flags are taken as Xen takes them: the vCPU
 * still runs on its ring-3 selectors, with IF on, IOPL 0 (virtual), no TF,
 * NT, RF or VM.
 */
START_TEST(tools_context_hostile_refused)
{
	static struct vcpu_guest_context before, bad, after;
	struct mmu_frame l4, l4b, data;
	struct hv_vcpu *v = d->vcpus[0];

	paused_with_context();
	l4 = frame(L4), l4b = frame(L4B), data = frame(DATA);
	context_of(&before);
#define REFUSED(err, change)                                                                       \
	do {                                                                                       \
		bad = before;                                                                      \
		change;                                                                            \
		ck_assert_int_eq(tools_set(&bad), (err));                                          \
		context_of(&after);                                                                \
		ck_assert_mem_eq(&after, &before, sizeof(before));                                 \
		ck_assert(!v->regs_dirty);                                                         \
	} while (0)
	REFUSED(-EINVAL, bad.user_regs.rip = 0x0000800000000000ULL);
	REFUSED(-EINVAL, bad.user_regs.rsp = 0xfff0000000000000ULL);
	REFUSED(-EINVAL, bad.kernel_sp = 0x8000000000000000ULL);
	REFUSED(-EINVAL, bad.gs_base_kernel = 0x0000900000000000ULL);
	REFUSED(-EINVAL, bad.syscall_callback_eip = 0x0001000000000000ULL);
	REFUSED(-EINVAL, bad.trap_ctxt[3].address = 0x0000800000000000ULL);
	REFUSED(-EINVAL, bad.ctrlreg[3] = ~0ULL);	/* a frame no entry can name */
	REFUSED(-EINVAL, bad.flags &= ~VGCF_in_kernel); /* user mode: not offered */
	REFUSED(-EINVAL, bad.ldt_ents = 8193);
	REFUSED(-EOPNOTSUPP, bad.ctrlreg[3] = xen_pfn_to_cr3(L4B >> 12));
	REFUSED(-EOPNOTSUPP, bad.ctrlreg[3] = xen_pfn_to_cr3(DATA >> 12)); /* writable data */
	REFUSED(-EOPNOTSUPP, bad.ctrlreg[1] = 0);
	REFUSED(-EOPNOTSUPP, bad.gdt_frames[0] = L1 >> 12);
	REFUSED(-EOPNOTSUPP, bad.gdt_ents = 16);
	REFUSED(-EOPNOTSUPP, (bad.ldt_base = 0xffff880000000000ULL, bad.ldt_ents = 1));
#undef REFUSED
	ck_assert_uint_eq(frame(L4).refs, l4.refs);
	ck_assert_uint_eq(frame(L4B).refs, l4b.refs);
	ck_assert_uint_eq(frame(DATA).refs, data.refs);
	ck_assert_uint_eq(frame(DATA).type, data.type);
	/* Ring-0 selectors, IOPL 3, TF, NT, RF, VM, IF clear: neutralised, as Xen's fixups. */
	bad = before;
	bad.user_regs.cs = 0x08;
	bad.user_regs.ss = 0x10;
	bad.user_regs.rflags = 0x3000 | 0x100 | 0x4000 | 0x10000 | 0x20000 | 0x1;
	ck_assert_int_eq(tools_set(&bad), 0);
	ck_assert_uint_eq(v->regs.rflags, 0x203);
	context_of(&after);
	ck_assert_uint_eq(after.user_regs.cs, FLAT_KERNEL_CS64);
	ck_assert_uint_eq(after.user_regs.ss, FLAT_KERNEL_SS64);
}
END_TEST

/*
 * A running domain's vCPU is not set (-EBUSY, as its context is not read:
 * Xen's domctl would pause it for the call, our toolstacks pause first);
 * nor one whose thread is still in guest code after the pause.
 */
START_TEST(tools_context_running_is_ebusy)
{
	static struct vcpu_guest_context before, after;
	struct hv_vcpu *v = d->vcpus[0];

	paused_with_context();
	context_of(&before);
	before.user_regs.rax = 42;
	d->pause_count = 0;
	ck_assert_int_eq(tools_set(&before), -EBUSY);
	d->pause_count = 1;
	v->runstate.state = RUNSTATE_running;
	ck_assert_int_eq(tools_set(&before), -EBUSY);
	v->runstate.state = RUNSTATE_offline;
	ck_assert(!v->regs_dirty);
	context_of(&after);
	ck_assert_uint_eq(after.user_regs.rax, 0);
	/* A vCPU with no context yet, of a running domain: refused the same way. */
	d->pause_count = 0;
	pthread_mutex_lock(&d->lock);
	ck_assert_int_eq(vcpu_tools_set_context(d->vcpus[1], &good_ctx(1)->ctx), -EBUSY);
	pthread_mutex_unlock(&d->lock);
	ck_assert(!d->vcpus[1]->has_context);
}
END_TEST

START_TEST(restore_info_and_grant_frames)
{
	struct sv_ctl_restore_info q = { .domid = d->domid,
					 .gnttab_frames = SV_GNT_MAX_FRAMES + 1,
					 .max_pfn = 512,
					 .pfn_to_mfn_frame_list_list = 0x42 };

	ck_assert_int_eq(op(SV_CTL_DOMAIN_RESTORE_INFO, &q), -EINVAL);
	ck_assert_uint_eq(gnttab_nr_frames(d), 0);
	q.gnttab_frames = 4;
	ck_assert_int_eq(op(SV_CTL_DOMAIN_RESTORE_INFO, &q), 0);
	ck_assert_uint_eq(gnttab_nr_frames(d), 4);
	ck_assert_uint_eq(d->shinfo->arch.max_pfn, 512);
	ck_assert_uint_eq(d->shinfo->arch.pfn_to_mfn_frame_list_list, 0x42);
	static struct sv_ctl_save_info si;
	d->state = DOM_ACTIVE;
	ck_assert_int_eq(op(SV_CTL_DOMAIN_RESTORE_INFO, &q), -EBUSY);
	d->pause_count = 1;
	ck_assert_int_eq(op(SV_CTL_DOMAIN_SAVE_INFO, &si), 0);
	ck_assert_uint_eq(si.gnttab_frames, 4);
	ck_assert_uint_eq(si.max_pfn, 512);
	ck_assert_uint_eq(si.cur_pages, FRAMES);
	ck_assert_uint_eq(si.flags & SV_SAVE_F_SUSPENDED, 0);
	d->pause_count = 0;
	ck_assert_int_eq(op(SV_CTL_DOMAIN_SAVE_INFO, &si), -EBUSY);
	d->state = DOM_CREATED;
}
END_TEST

START_TEST(frame_release_checks_all_first)
{
	static struct sv_ctl_frames q;

	ck_assert_int_eq(pin(4, L4 >> 12), 0);
	memset(&q, 0, sizeof(q));
	q.domid = d->domid;
	q.count = 2;
	q.gfn[0] = 100;
	q.gfn[1] = FRAMES + 3; /* not RAM: the first stays too */
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), -EINVAL);
	ck_assert_uint_eq(type_of(100 * 4096), SV_PFINFO_NOTAB);
	q.gfn[1] = 100; /* twice */
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), -EINVAL);
	q.count = 0;
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), -EINVAL);
	q.count = SV_FRAMES_MAX + 1;
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), -EINVAL);
	q.count = 1;
	q.gfn[0] = L1 >> 12; /* a page table */
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), -EBUSY);
	ck_assert_uint_eq(type_of(L1), 1u << 28);
	q.count = 2;
	q.gfn[0] = 100;
	q.gfn[1] = 101;
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), 0);
	ck_assert_uint_eq(type_of(100 * 4096), SV_PFINFO_XTAB);
	ck_assert_uint_eq(d->mem.cur_pages, FRAMES - 2);
	ck_assert_uint_eq(pv_m2p_get(d, 100 * 4096), HV_M2P_INVALID);
	ck_assert_int_eq(op(SV_CTL_FRAME_RELEASE, &q), -EINVAL); /* already absent */
}
END_TEST

START_TEST(request_sizes)
{
	ck_assert_uint_eq(save_req_size(SV_CTL_PIN_TABLE), sizeof(struct sv_ctl_pin_table));
	ck_assert_uint_eq(save_req_size(SV_CTL_M2P_SET), sizeof(struct sv_ctl_m2p));
	ck_assert_uint_eq(save_req_size(SV_CTL_OP_MAX), UINT32_MAX);
	ck_assert_uint_eq(save_req_size(SV_CTL_DOMAIN_CREATE), UINT32_MAX);
	for (uint32_t o = SV_CTL_VCPU_GET_CONTEXT; o <= SV_CTL_FRAME_RELEASE; o++)
		ck_assert_uint_le(save_req_size(o), SV_CTL_MAX_PAYLOAD);
	ck_assert_int_eq(op(SV_CTL_DOMAIN_CREATE, &(struct sv_ctl_domid){ 0 }), -ENOSYS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("save");
	TCase *tc = tcase_create("ops");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pin_validates_as_the_guests_own);
	tcase_add_test(tc, pin_refuses_writable_tables_and_foreign_frames);
	tcase_add_test(tc, page_types_bounds);
	tcase_add_test(tc, m2p_set_own_frames_only);
	tcase_add_test(tc, context_hostile_values);
	tcase_add_test(tc, context_carries_user_base_and_ldt);
	tcase_add_test(tc, context_carries_the_gdt);
	tcase_add_test(tc, tools_context_replaced_while_paused);
	tcase_add_test(tc, tools_context_hostile_refused);
	tcase_add_test(tc, tools_context_running_is_ebusy);
	tcase_add_test(tc, restore_info_and_grant_frames);
	tcase_add_test(tc, frame_release_checks_all_first);
	tcase_add_test(tc, request_sizes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
