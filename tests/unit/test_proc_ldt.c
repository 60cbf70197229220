// SPDX-License-Identifier: MIT
/*
 * Check suite: the guest's LDT in the process engine's runner
 * (hypervisor/proc/proc_ldt.c).  Each descriptor a guest may have in its
 * LDT becomes a modify_ldt entry that makes this host's kernel write the
 * same segment (checked for real, in a child: written, read back, compared
 * bit for bit but the accessed bit), or none when the kernel cannot make
 * it (code segments: it clears L; gates; DPL below 3).  And the LDT the
 * runner's process has follows the vCPU that goes in: a vCPU's own copy
 * (from real SET_LDT and update_descriptor hypercalls, the core's
 * ldt_changed hook), the entries that differ queued once and only once,
 * cleared ones in the kernel's "no segment" form, a vCPU with no LDT told
 * apart from one with this LDT.
 */
#include <asm/ldt.h>
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/hypercall.h"
#include "../../hypervisor/mmu.h"
#include "../../hypervisor/proc/proc.h"
#include "hv_harness.h"

#define FRAMES 256ULL
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
#define ARGS 0x10000ULL	 /* mapped writable at VA_ARGS: hypercall arguments */
#define LDTPG 0x11000ULL /* mapped read-only at VA_LDT: the guest's LDT */
#define VA_ARGS 0x400000ULL
#define VA_LDT 0x401000ULL
#define RW 7ULL
#define RO 5ULL

#define DATA_RW 0x00cff2000000ffffULL	  /* flat 32-bit data, 4 KiB granules */
#define DATA_BASED 0x12cff2345678ffffULL  /* based at 0x12345678 */
#define DATA_RO_16 0x0000f0abcd000fffULL  /* read-only, 16-bit, byte granules */
#define DATA_DOWN 0x0040f6001000ffffULL	  /* expanding down, 32-bit */
#define DATA_AVL_NP 0x00d0720000000010ULL /* AVL set, not present */
#define CODE64 0x00affa000000ffffULL
#define CODE32 0x00cffa000000ffffULL
#define DATA_DPL0 0x00cf92000000ffffULL
#define GATE 0x0000ec0000101000ULL	       /* a call gate, DPL 3 */
#define EMPTY_SHAPE 0x0000700000000000ULL /* not present, read-only, base/limit 0 */

static struct hv_domain *d;
static struct hv_vcpu *v0, *v1;
static struct proc_dom pd;
static struct proc_vcpu pv[2];
static void *saved_priv, *saved_eng[2];

static int nop_baseptr(struct hv_vcpu *x)
{
	return 0;
}

static int nop_ptes(struct hv_vcpu *x, const struct hv_va_range *r, unsigned n)
{
	return 0;
}

static void setup(void)
{
	static const struct hv_engine hooks = {
		.new_baseptr = nop_baseptr,
		.ptes_changed = nop_ptes,
		.ldt_changed = proc_ldt_changed,
		.guest_ldt = true,
	};

	d = hvh_setup(&(struct hvh_spec){ .domid = 9, .vcpus = 2, .frames = FRAMES,
					  .hooks = &hooks });
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[2] = L1 | RW;
	hvh_pt(L1)[0] = ARGS | RW;
	hvh_pt(L1)[1] = LDTPG | RO;
	v0 = d->vcpus[0];
	v1 = d->vcpus[1];
	memset(&pd, 0, sizeof(pd));
	memset(pv, 0, sizeof(pv));
	pthread_mutex_init(&pd.map_lock, NULL);
	saved_priv = d->eng_priv;
	d->eng_priv = &pd;
	for (unsigned i = 0; i < 2; i++) {
		struct hv_vcpu *v = d->vcpus[i];
		saved_eng[i] = v->eng;
		v->eng = &pv[i];
		v->state = VCPU_RUNNABLE;
		v->ran = true;
		v->cr3 = L4;
		v->has_context = true;
		ck_assert_int_eq(mmu_vcpu_context(v, L4), 0);
	}
}

static void teardown(void)
{
	/* No LDT left held: hvh_teardown checks every frame came back. */
	for (unsigned i = 0; i < 2; i++) {
		pv_ldt_release(d->vcpus[i], false);
		free(pv[i].ldt);
		d->vcpus[i]->eng = saved_eng[i];
	}
	proc_ldt_reset(&pd);
	pthread_mutex_destroy(&pd.map_lock);
	d->eng_priv = saved_priv;
	hvh_teardown();
}

static long set_ldt(struct hv_vcpu *v, uint64_t va, unsigned ents)
{
	struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };

	op.arg1.linear_addr = va;
	op.arg2.nr_ents = ents;
	memcpy(mem_gpa(&d->mem, ARGS, sizeof(op)), &op, sizeof(op));
	return hvh_hypercall(v, __HYPERVISOR_mmuext_op, VA_ARGS, 1, 0, DOMID_SELF);
}

/* The modify_ldt entries q holds, in order, as struct user_desc. */
static unsigned ops(const struct proc_map_queue *q, struct user_desc *u, unsigned max)
{
	unsigned n = 0;

	for (size_t i = 0; i < q->nr; i++) {
		ck_assert_uint_eq(q->ops[i].op, SV_PROC_OP_LDT);
		if (n < max)
			memcpy(&u[n], q->ops[i].ldt, sizeof(u[n]));
		n++;
	}
	return n;
}

static bool cleared(const struct user_desc *u)
{
	return !u->base_addr && !u->limit && !u->contents && u->read_exec_only &&
	       u->seg_not_present && !u->seg_32bit && !u->limit_in_pages && !u->useable;
}

/* In a child: write u with modify_ldt, read the LDT back: 0 when its entry is want. */
static int host_round_trip(const struct user_desc *u, uint64_t want)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint64_t back[8] = { 0 };
		if (syscall(SYS_modify_ldt, 0x11, u, sizeof(*u)) != 0)
			_exit(2);
		if (syscall(SYS_modify_ldt, 0, back, sizeof(back)) <= 0)
			_exit(3);
		_exit(back[u->entry_number] == want ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(data_segments_written_as_they_are)
{
	static const uint64_t good[] = { DATA_RW, DATA_BASED, DATA_RO_16, DATA_DOWN, DATA_AVL_NP };
	struct user_desc u;

	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(proc_ldt_user_desc(good[i], 5, &u), "descriptor %#llx",
			      (unsigned long long)good[i]);
		ck_assert_uint_eq(u.entry_number, 5);
		/* The same, with the accessed bit the kernel sets (so the LDT can be read-only). */
		ck_assert_msg(host_round_trip(&u, good[i] | 1ULL << 40) == 0,
			      "descriptor %#llx not as written",
			      (unsigned long long)good[i]);
	}
	ck_assert(proc_ldt_user_desc(DATA_BASED, 2, &u));
	ck_assert_uint_eq(u.base_addr, 0x12345678);
	ck_assert_uint_eq(u.limit, 0xfffff);
	/* Nothing: the kernel's empty form, which clears the entry. */
	ck_assert(proc_ldt_user_desc(0, 3, &u));
	ck_assert(cleared(&u));
	ck_assert_uint_eq(u.entry_number, 3);
	ck_assert_int_eq(host_round_trip(&u, 0), 0);
}
END_TEST

START_TEST(what_the_kernel_cannot_make_is_refused)
{
	static const uint64_t bad[] = { CODE64, CODE32, DATA_DPL0, GATE, EMPTY_SHAPE };
	struct user_desc u;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!proc_ldt_user_desc(bad[i], 1, &u), "descriptor %#llx taken",
			      (unsigned long long)bad[i]);
}
END_TEST

START_TEST(the_runner_follows_the_vcpu_that_goes_in)
{
	struct proc_map_queue q = { 0 };
	struct user_desc u[16];

	hvh_pt(LDTPG)[1] = DATA_RW;
	hvh_pt(LDTPG)[2] = CODE64;
	hvh_pt(LDTPG)[3] = DATA_BASED;
	hvh_pt(LDTPG)[20] = DATA_RW; /* past the 16 entries set */
	/* Nothing set anywhere: every vCPU runs on what the runner has. */
	ck_assert(proc_ldt_same(&pd, &pv[0]) && proc_ldt_same(&pd, &pv[1]));
	ck_assert_int_eq(set_ldt(v0, VA_LDT, 16), 0);
	ck_assert_uint_eq(pv[0].ldt_n, 16);
	ck_assert(!proc_ldt_same(&pd, &pv[0]));
	ck_assert(proc_ldt_same(&pd, &pv[1]));
	/* v0 goes in: entries 1..3 (the code segment as nothing), none past 16. */
	ck_assert_int_eq(proc_ldt_load(d, &pv[0], &q), 0);
	ck_assert_uint_eq(ops(&q, u, 16), 3);
	ck_assert_uint_eq(u[0].entry_number, 1);
	ck_assert(u[0].seg_32bit && u[0].limit_in_pages && !u[0].seg_not_present);
	ck_assert_uint_eq(u[1].entry_number, 2);
	ck_assert(cleared(&u[1]));
	ck_assert_uint_eq(u[2].entry_number, 3);
	ck_assert_uint_eq(u[2].base_addr, 0x12345678);
	proc_map_queue_free(&q);
	ck_assert(proc_ldt_same(&pd, &pv[0]));
	ck_assert(!proc_ldt_same(&pd, &pv[1])); /* v1 has none: not the same */
	/* Again for the same LDT: nothing to write. */
	ck_assert_int_eq(proc_ldt_load(d, &pv[0], &q), 0);
	ck_assert_uint_eq(q.nr, 0);
	/* update_descriptor into the LDT: only that entry, once. */
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_update_descriptor, LDTPG + 3 * 8, DATA_RW,
				       0, 0),
			 0);
	ck_assert(!proc_ldt_same(&pd, &pv[0]));
	ck_assert_int_eq(proc_ldt_load(d, &pv[0], &q), 0);
	ck_assert_uint_eq(ops(&q, u, 16), 1);
	ck_assert_uint_eq(u[0].entry_number, 3);
	ck_assert_uint_eq(u[0].base_addr, 0);
	proc_map_queue_free(&q);
	/* v1 (no LDT) goes in: what v0 had is cleared, entry by entry. */
	ck_assert_int_eq(proc_ldt_load(d, &pv[1], &q), 0);
	ck_assert_uint_eq(ops(&q, u, 16), 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(cleared(&u[i]));
	proc_map_queue_free(&q);
	ck_assert(proc_ldt_same(&pd, &pv[1]) && !proc_ldt_same(&pd, &pv[0]));
	/* v1 takes the same LDT: the same as what v0 has, whatever the copies' numbers. */
	ck_assert_int_eq(set_ldt(v1, VA_LDT, 16), 0);
	ck_assert_int_eq(proc_ldt_load(d, &pv[0], &q), 0);
	proc_map_queue_free(&q);
	ck_assert(proc_ldt_same(&pd, &pv[1]));
	/* SET_LDT 0: no LDT, as a vCPU that never had one. */
	ck_assert_int_eq(set_ldt(v0, 0, 0), 0);
	ck_assert_uint_eq(pv[0].ldt_n, 0);
	ck_assert(!proc_ldt_same(&pd, &pv[0]));
	/* A new runner has no LDT: v1's is written whole again. */
	proc_ldt_reset(&pd);
	ck_assert_int_eq(proc_ldt_load(d, &pv[1], &q), 0);
	ck_assert_uint_eq(ops(&q, u, 16), 3);
	proc_map_queue_free(&q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc_ldt");
	TCase *tc = tcase_create("ldt");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, data_segments_written_as_they_are);
	tcase_add_test(tc, what_the_kernel_cannot_make_is_refused);
	tcase_add_test(tc, the_runner_follows_the_vcpu_that_goes_in);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
