// SPDX-License-Identifier: MIT
/*
 * Check suite: Xen's page-type accounting and the MMU hypercalls (hypervisor/mmu.c) from a
 * hostile guest.  Every refusal is Xen's errno and changes nothing (frame table, tables), and
 * every accepted change reaches the engine once per hypercall.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/hypercall.h"
#include "../../hypervisor/mmu.h"
#include "../../hypervisor/kvm/kvm.h"
#include "hv_harness.h"

#define FRAMES 512ULL /* 2 MiB of RAM */
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
#define DATA 0x10000ULL	    /* 16 frames mapped writable at VA_DATA */
#define VA_DATA 0x400000ULL /* L2 entry 2 */
#define VA_REQ (VA_DATA + 14 * 4096ULL)
#define VA_DONE (VA_DATA + 13 * 4096ULL)
#define FREE 0x30000ULL /* frames nothing maps or links */
#define RW 7ULL		/* present, writable, user */
#define RO 5ULL
#define G 0x100ULL	/* _PAGE_GLOBAL: Xen adds it to an L1 entry the guest made a user page */
#define GK (1ULL << 52) /* Xen's _PAGE_GUEST_KERNEL marker */
#define US 4ULL
#define ACC 0x20ULL

static struct hv_domain *d;
static struct hv_vcpu *v;
static unsigned ranges_calls, base_calls, l4_installs;
static struct hv_va_range last_range[32];
static unsigned last_n;

static int fake_ptes_changed(struct hv_vcpu *x, const struct hv_va_range *r, unsigned n)
{
	ranges_calls++;
	last_n = n;
	memcpy(last_range, r, n * sizeof(*r));
	return 0;
}

static int fake_new_baseptr(struct hv_vcpu *x)
{
	base_calls++;
	return 0;
}

static unsigned syncs;

static int fake_sync(struct hv_vcpu *x)
{
	syncs++;
	return 0;
}

static int fake_install_l4(struct hv_domain *x, uint64_t l4)
{
	l4_installs++;
	return 0;
}

static void tables(void)
{
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[2] = L1 | RW;
	for (int i = 0; i < 16; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | RW;
	hvh_pt(L1)[16] = L4 | RO; /* the tables themselves, read-only as Xen wants them */
	hvh_pt(L1)[17] = L3 | RO;
	hvh_pt(L1)[18] = L2 | RO;
	hvh_pt(L1)[19] = L1 | RO;
	hvh_pt(L1)[24] = (DATA + 8 * 4096ULL) | RW; /* with nothing after it */
}

static void setup(void)
{
	static const struct hv_engine hooks = {
		.ptes_changed = fake_ptes_changed,
		.new_baseptr = fake_new_baseptr,
		.install_l4 = fake_install_l4,
		.sync_mappings = fake_sync,
	};

	/* The KVM engine's va_reserved: Xen's own slots 256..271. */
	d = hvh_setup(&(struct hvh_spec){ .domid = 7,
					  .vcpus = 2,
					  .frames = FRAMES,
					  .gnttab = true,
					  .domain_table = true,
					  .hooks = &hooks });
	tables();
	v = d->vcpus[0];
	v->cr3 = L4;
	/* The domain starts: its boot L4 validated and pinned. */
	ck_assert_int_eq(mmu_vcpu_context(v, L4), 0);
	ranges_calls = base_calls = l4_installs = last_n = syncs = 0;
}

static long hc4(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return hvh_hypercall(v, nr, a0, a1, a2, a3);
}

static void *guest(uint64_t va)
{
	return mem_gpa(&d->mem, DATA + (va - VA_DATA), 1);
}

static uint32_t *done_word(void)
{
	return guest(VA_DONE);
}

/* mmu_update of n requests (ptr, val pairs), pdone at VA_DONE. */
static long mu_n(const uint64_t *pairs, unsigned n)
{
	memcpy(guest(VA_REQ), pairs, n * 16);
	*done_word() = 0xdeadbeef;
	return hc4(__HYPERVISOR_mmu_update, VA_REQ, n, VA_DONE, DOMID_SELF);
}

static long mu(uint64_t ptr, uint64_t val)
{
	uint64_t p[2] = { ptr, val };

	return mu_n(p, 1);
}

static long ext(unsigned cmd, uint64_t arg1, uint64_t arg2)
{
	struct mmuext_op op = { .cmd = cmd };

	op.arg1.mfn = arg1;
	op.arg2.src_mfn = arg2;
	memcpy(guest(VA_REQ), &op, sizeof(op));
	*done_word() = 0xdeadbeef;
	return hc4(__HYPERVISOR_mmuext_op, VA_REQ, 1, VA_DONE, DOMID_SELF);
}

static long uvm(uint64_t va, uint64_t val, uint64_t flags)
{
	return hc4(__HYPERVISOR_update_va_mapping, va, val, flags, 0);
}

static struct mmu_frame info(uint64_t gpa)
{
	struct mmu_frame f;

	ck_assert(mmu_frame_info(d, gpa, &f));
	return f;
}

/* "Nothing changed": the frame table and the first 64 frames of RAM, as they were. */
static struct mmu_frame *snap_f;
static uint8_t *snap_mem;

static void snap(void)
{
	free(snap_f);
	free(snap_mem);
	snap_f = malloc(FRAMES * sizeof(*snap_f));
	memcpy(snap_f, d->mmu->f, FRAMES * sizeof(*snap_f));
	snap_mem = malloc(64 * 4096);
	memcpy(snap_mem, d->mem.base, 64 * 4096);
	/* The request and done pages change on every call: not part of the guest's state. */
	memset(snap_mem + (VA_REQ - VA_DATA + DATA), 0, 4096);
	memset(snap_mem + (VA_DONE - VA_DATA + DATA), 0, 4096);
}

static void unchanged(void)
{
	uint8_t *now = malloc(64 * 4096);

	memcpy(now, d->mem.base, 64 * 4096);
	memset(now + (VA_REQ - VA_DATA + DATA), 0, 4096);
	memset(now + (VA_DONE - VA_DATA + DATA), 0, 4096);
	for (unsigned i = 0; i < FRAMES; i++)
		if (memcmp(&snap_f[i], &d->mmu->f[i], sizeof(*snap_f)))
			fprintf(
			    stderr,
			    "frame %u: refs %u/%u type %u/%u count %u/%u links %u/%u flags %u/%u\n",
			    i, snap_f[i].refs, d->mmu->f[i].refs, snap_f[i].type, d->mmu->f[i].type,
			    snap_f[i].type_count, d->mmu->f[i].type_count, snap_f[i].links,
			    d->mmu->f[i].links, snap_f[i].flags, d->mmu->f[i].flags);
	ck_assert(memcmp(snap_f, d->mmu->f, FRAMES * sizeof(*snap_f)) == 0);
	ck_assert(memcmp(snap_mem, now, 64 * 4096) == 0);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	free(now);
}

START_TEST(boot_tables_validated_and_pinned)
{
	struct mmu_frame f = info(L4);

	ck_assert_uint_eq(f.type, MMU_T_L4);
	ck_assert(f.flags & MMU_F_PINNED);
	ck_assert(f.flags & MMU_F_VALIDATED);
	ck_assert_uint_eq(f.type_count, 2); /* the pin and vCPU 0's base */
	ck_assert_uint_eq(info(L3).type, MMU_T_L3);
	ck_assert_uint_eq(info(L2).type, MMU_T_L2);
	ck_assert_uint_eq(info(L1).type, MMU_T_L1);
	ck_assert_uint_eq(info(DATA).type, MMU_T_WRITABLE);
	ck_assert_uint_eq(info(L1).refs, 2); /* linked from L2, mapped read-only by itself */
	ck_assert_uint_eq(info(FREE).type, MMU_T_NONE);
	/* The second vCPU on the same tables: one more reference, nothing revalidated. */
	ck_assert_int_eq(mmu_vcpu_context(d->vcpus[1], L4), 0);
	ck_assert_uint_eq(info(L4).type_count, 3);
}
END_TEST

START_TEST(bad_boot_tables_refused)
{
	/* A fresh domain whose boot L4 links a frame its own tables map writable, as an L3. */
	mmu_domain_fini(d);
	ck_assert_int_eq(mmu_domain_init(d), 0);
	hvh_pt(FREE)[0] = L3 | RW;
	hvh_pt(FREE)[1] = DATA | RW;
	snap();
	ck_assert_int_eq(mmu_vcpu_context(v, FREE), -XEN_EINVAL);
	unchanged();
	ck_assert(!d->mmu->started);
	/* A boot table mapping itself writable: -EBUSY, as Xen. */
	hvh_pt(FREE)[1] = 0;
	hvh_pt(L1)[20] = FREE | RW;
	snap();
	ck_assert_int_eq(mmu_vcpu_context(v, FREE), -XEN_EBUSY);
	unchanged();
	hvh_pt(L1)[20] = 0;
	ck_assert_int_eq(mmu_vcpu_context(v, FREE), 0);
	ck_assert(info(FREE).flags & MMU_F_PINNED);
}
END_TEST

/*
 * Xen's adjust_guest_l1e..l4e: a 64-bit PV guest's present entries get _PAGE_USER wherever
 * they are validated.  The domain is made again on tables written without it (as libxc's
 * builder and Mini-OS write them).
 */
#define KRW 3ULL /* present, writable, no user bit: a kernel page */
#define KRO 1ULL

static void kernel_tables(void)
{
	mmu_domain_fini(d);
	ck_assert_int_eq(mmu_domain_init(d), 0);
	memset(hvh_pt(L4), 0, 4 * 4096);
	hvh_pt(L4)[0] = L3 | KRW;
	hvh_pt(L3)[0] = L2 | KRW;
	hvh_pt(L2)[2] = L1 | KRW;
	for (int i = 0; i < 16; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | KRW;
	hvh_pt(L1)[16] = L4 | KRO;
	hvh_pt(L1)[17] = L3 | KRO;
	hvh_pt(L1)[18] = L2 | KRO;
	hvh_pt(L1)[19] = L1 | KRO;
	hvh_pt(L1)[20] = (DATA + 15 * 4096ULL) | RO | (1ULL << 63); /* a user page, NX */
	hvh_pt(L1)[21] = 0x5000ULL | 2 | 0x600;			    /* not present */
	hvh_pt(L2)[5] = 0x6000ULL | 6;				    /* not present */
}

START_TEST(boot_tables_get_the_user_bit)
{
	kernel_tables();
	ck_assert_int_eq(mmu_vcpu_context(v, L4), 0);
	ck_assert_uint_eq(hvh_pt(L4)[0], L3 | KRW | US | ACC);
	ck_assert_uint_eq(hvh_pt(L3)[0], L2 | KRW | US);
	ck_assert_uint_eq(hvh_pt(L2)[2], L1 | KRW | US);
	ck_assert_uint_eq(hvh_pt(L1)[3], (DATA + 3 * 4096ULL) | KRW | US | GK);
	ck_assert_uint_eq(hvh_pt(L1)[19], L1 | KRO | US | GK);
	/* A user page gets _PAGE_GLOBAL, not the kernel marker; NX and the address stay. */
	ck_assert_uint_eq(hvh_pt(L1)[20], (DATA + 15 * 4096ULL) | RO | G | (1ULL << 63));
	/* Entries that are not present are not touched, nor the hypervisor's L4 slots. */
	ck_assert_uint_eq(hvh_pt(L1)[21], 0x5000ULL | 2 | 0x600);
	ck_assert_uint_eq(hvh_pt(L2)[5], 0x6000ULL | 6);
	ck_assert_uint_eq(hvh_pt(L4)[1], 0);
	for (unsigned i = 256; i < 272; i++)
		ck_assert_uint_eq(hvh_pt(L4)[i] & (US | ACC), 0);
	/* Validating again (a second vCPU) changes nothing: adjusted entries stay as they are. */
	snap();
	d->vcpus[1]->cr3 = L4;
	ck_assert_int_eq(mmu_vcpu_context(d->vcpus[1], L4), 0);
	ck_assert(memcmp(snap_mem, d->mem.base, 16 * 4096) == 0);
}
END_TEST

START_TEST(refused_tables_keep_their_entries)
{
	kernel_tables();
	hvh_pt(L1)[22] = L2 | KRW; /* a table mapped writable: the boot tables are refused */
	snap();
	ck_assert_int_eq(mmu_vcpu_context(v, L4), -XEN_EBUSY);
	ck_assert(memcmp(snap_mem, d->mem.base, 64 * 4096) == 0);
	ck_assert(!d->mmu->started);
}
END_TEST

START_TEST(mmu_update_and_pins_get_the_user_bit)
{
	kernel_tables();
	ck_assert_int_eq(mmu_vcpu_context(v, L4), 0);
	/* mmu_update of an L1 entry, and of a user one (which keeps its bits, plus G). */
	ck_assert_int_eq(mu(L1 + 30 * 8, DATA | KRW), 0);
	ck_assert_uint_eq(hvh_pt(L1)[30], DATA | KRW | US | GK);
	ck_assert_int_eq(mu(L1 + 31 * 8, DATA | RO | GK), 0); /* marked kernel: no G */
	ck_assert_uint_eq(hvh_pt(L1)[31], DATA | RO | GK);
	ck_assert_int_eq(mu(L1 + 32 * 8, 0x7000 | 2), 0); /* not present: as written */
	ck_assert_uint_eq(hvh_pt(L1)[32], 0x7000 | 2);
	/* An L2 entry linking a new L1, whose entries the link validates. */
	hvh_pt(FREE)[0] = DATA | KRO;
	ck_assert_int_eq(mu(L2 + 3 * 8, FREE | KRW), 0);
	ck_assert_uint_eq(hvh_pt(L2)[3], FREE | KRW | US);
	ck_assert_uint_eq(hvh_pt(FREE)[0], DATA | KRO | US | GK);
	/* L3 and L4 entries, each linking a table below. */
	hvh_pt(FREE + 0x1000)[0] = (FREE + 0x2000) | KRW;
	hvh_pt(FREE + 0x2000)[7] = DATA | KRW;
	ck_assert_int_eq(mu(L3 + 1 * 8, (FREE + 0x1000) | KRW), 0);
	ck_assert_uint_eq(hvh_pt(L3)[1], (FREE + 0x1000) | KRW | US);
	ck_assert_uint_eq(hvh_pt(FREE + 0x1000)[0], (FREE + 0x2000) | KRW | US);
	ck_assert_uint_eq(hvh_pt(FREE + 0x2000)[7], DATA | KRW | US | GK);
	hvh_pt(FREE + 0x3000)[0] = 0;
	ck_assert_int_eq(mu(L4 + 1 * 8, (FREE + 0x3000) | KRW), 0);
	ck_assert_uint_eq(hvh_pt(L4)[1], (FREE + 0x3000) | KRW | US | ACC);
	/* MMUEXT_PIN_Ln_TABLE validates (and adjusts) at each level. */
	for (unsigned lvl = 1; lvl <= 4; lvl++) {
		uint64_t t = FREE + (3 + lvl) * 0x1000ULL;
		memset(hvh_pt(t), 0, 4096);
		uint64_t e = (lvl == 1 ? DATA : FREE + (3 + lvl - 1) * 0x1000ULL) | KRO;
		hvh_pt(t)[9] = e;
		ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE + lvl - 1, t >> 12, 0), 0);
		ck_assert_uint_eq(hvh_pt(t)[9],
				  e | US | (lvl == 1 ? GK : 0) | (lvl == 4 ? ACC : 0));
	}
	/* A restore's pin (mmu_pin_table) as well. */
	uint64_t t = FREE + 0x8000;
	memset(hvh_pt(t), 0, 4096);
	hvh_pt(t)[1] = DATA | KRO;
	ck_assert_int_eq(mmu_pin_table(d, 1, t >> 12), 0);
	ck_assert_uint_eq(hvh_pt(t)[1], DATA | KRO | US | GK);
	/* update_va_mapping. */
	ck_assert_int_eq(uvm(VA_DATA + 2 * 4096, (DATA + 2 * 4096) | KRW, UVMF_INVLPG), 0);
	ck_assert_uint_eq(hvh_pt(L1)[2], (DATA + 2 * 4096) | KRW | US | GK);
	/* A refused update writes nothing. */
	snap();
	ck_assert_int_eq(mu(L1 + 33 * 8, L4 | KRW), -XEN_EBUSY);
	unchanged();
}
END_TEST


/* Xen's ptwr (mmu_ptwr): a kernel's own write to an L1 entry, checked as an mmu_update. */
START_TEST(ptwr_writes_l1_entries_as_mmu_update)
{
	uint64_t old = 0;

	hvh_pt(L1)[30] = 0;
	hvh_pt(L1)[31] = 0;
	ck_assert_int_eq(mmu_ptwr(v, L1 + 30 * 8, false, 0, DATA | RW, &old), 0);
	ck_assert_uint_eq(old, 0);
	ck_assert_int_eq(mu(L1 + 31 * 8, DATA | RW), 0);
	ck_assert_uint_eq(hvh_pt(L1)[30], hvh_pt(L1)[31]); /* the same checks and bits */
	/* xchg to clear: the old entry back, the new one written. */
	ck_assert_int_eq(mmu_ptwr(v, L1 + 30 * 8, false, 0, 0, &old), 0);
	ck_assert_uint_eq(old, hvh_pt(L1)[31]);
	ck_assert_uint_eq(hvh_pt(L1)[30], 0);
	/* cmpxchg that loses: nothing written, the current entry reported. */
	ck_assert_int_eq(mmu_ptwr(v, L1 + 31 * 8, true, 12345, 0, &old), 0);
	ck_assert_uint_eq(old, hvh_pt(L1)[31]);
	ck_assert_uint_ne(hvh_pt(L1)[31], 0);
	ck_assert_int_eq(mmu_ptwr(v, L1 + 31 * 8, true, old, 0, &old), 0);
	ck_assert_uint_eq(hvh_pt(L1)[31], 0);
	/* Hostile: a table mapped writable, a frame that is no L1, unaligned: refused, unchanged. */
	snap();
	ck_assert_int_eq(mmu_ptwr(v, L1 + 32 * 8, false, 0, L4 | RW, &old), -XEN_EBUSY);
	ck_assert_int_eq(mmu_ptwr(v, L2 + 5 * 8, false, 0, L1 | RW, &old), -XEN_EINVAL);
	ck_assert_int_eq(mmu_ptwr(v, DATA + 8, false, 0, 1, &old), -XEN_EINVAL);
	ck_assert_int_eq(mmu_ptwr(v, L1 + 33 * 8 + 4, false, 0, 0, &old), -XEN_EINVAL);
	ck_assert_int_eq(mmu_ptwr(v, FRAMES * 4096ULL, false, 0, 0, &old), -XEN_EINVAL);
	unchanged();
}
END_TEST

/* A #PF at a kernel store into the L1 (mapped read-only at L1 entry 19), as pv_emul.c gets it. */
static bool ptwr_fault(const char *bytes, size_t n, uint64_t cr2)
{
	struct hv_exit e = { .kind = HV_EXIT_FAULT, .vector = 14, .error_code = 7, .cr2 = cr2 };

	memcpy(guest(VA_REQ), bytes, n); /* a page the snapshots ignore */
	e.frame[0] = VA_REQ;
	e.frame[1] = FLAT_KERNEL_CS;
	e.frame[2] = 0x202;
	e.frame[3] = VA_DATA + 0x8000;
	e.frame[4] = FLAT_KERNEL_SS;
	v->regs.rip = e.frame[0];
	return pv_emul_fault(v, &e);
}

/* What Linux does to its entries through the read-only mapping: xchg, lock cmpxchg, and/btr. */
START_TEST(ptwr_emulates_the_kernels_stores)
{
	const uint64_t va_l1 = VA_DATA + 19 * 4096; /* the L1 itself */
	uint64_t e30;

	v->user_mode = false;
	d->vm_assist |= 1ULL << VMASST_TYPE_writable_pagetables;
	hvh_pt(L1)[30] = 0;
	ck_assert_int_eq(mu(L1 + 30 * 8, DATA | RW), 0);
	e30 = hvh_pt(L1)[30];
	/* xchg %rdx,(%rax): the entry cleared, the old one in rdx. */
	v->regs.rax = va_l1 + 30 * 8;
	v->regs.rdx = 0;
	ck_assert(ptwr_fault("\x48\x87\x10", 3, va_l1 + 30 * 8));
	ck_assert_uint_eq(hvh_pt(L1)[30], 0);
	ck_assert_uint_eq(v->regs.rdx, e30);
	ck_assert_uint_eq(v->regs.rip, VA_REQ + 3);
	/* lock cmpxchg %rdx,(%rax) that wins: ZF set. */
	v->regs.rax = 0;
	v->regs.rdx = DATA | RW;
	v->regs.rbx = va_l1 + 30 * 8;
	ck_assert(ptwr_fault("\xf0\x48\x0f\xb1\x13", 5, va_l1 + 30 * 8));
	ck_assert_uint_eq(hvh_pt(L1)[30], e30);
	ck_assert(v->regs.rflags & 0x40);
	/* ds andb $0xfd,(%rbx): the RW bit off (Linux's ptep_set_wrprotect on one CPU). */
	ck_assert(ptwr_fault("\x3e\x80\x23\xfd", 4, va_l1 + 30 * 8));
	ck_assert_uint_eq(hvh_pt(L1)[30], e30 & ~2ULL);
	/* lock btr $5,(%rbx): Accessed cleared, its old value in CF. */
	hvh_pt(L1)[30] |= 0x20;
	ck_assert(ptwr_fault("\xf0\x48\x0f\xba\x33\x05", 6, va_l1 + 30 * 8));
	ck_assert_uint_eq(hvh_pt(L1)[30] & 0x20, 0);
	ck_assert(v->regs.rflags & 1);
	/* Hostile: making an entry map a table writable is refused, nothing written. */
	snap();
	v->regs.rdx = L4 | RW;
	ck_assert(!ptwr_fault("\x48\x89\x13", 3, va_l1 + 30 * 8));
	/* or $2 on an entry that maps the L4 read-only (entry 16): would make it writable. */
	ck_assert(!ptwr_fault("\x80\x0b\x02", 3, va_l1 + 16 * 8));
	/* Without the vm_assist, a cr2 that is not the operand, a 4-byte store: left to the guest. */
	v->regs.rdx = 0;
	ck_assert(!ptwr_fault("\x89\x13", 2, va_l1 + 30 * 8));
	ck_assert(!ptwr_fault("\x48\x89\x13", 3, va_l1 + 31 * 8));
	d->vm_assist &= ~(1ULL << VMASST_TYPE_writable_pagetables);
	ck_assert(!ptwr_fault("\x48\x89\x13", 3, va_l1 + 30 * 8));
	unchanged();
}
END_TEST

START_TEST(table_mapped_writable_refused)
{
	snap();
	/* Through mmu_update, an L1 entry that would map each table writable. */
	ck_assert_int_eq(mu(L1 + 30 * 8, L4 | RW), -XEN_EBUSY);
	ck_assert_uint_eq(*done_word(), 0);
	ck_assert_int_eq(mu(L1 + 30 * 8, L1 | RW), -XEN_EBUSY);
	ck_assert_int_eq(mu(L1 + 30 * 8, L2 | RW), -XEN_EBUSY);
	/* Making the read-only mapping of the L4 writable. */
	ck_assert_int_eq(uvm(VA_DATA + 16 * 4096, L4 | RW, 0), -XEN_EBUSY);
	ck_assert_int_eq(mu(L1 + 16 * 8, L4 | RW), -XEN_EBUSY);
	unchanged();
	ck_assert_uint_eq(ranges_calls, 0);
	/* Read-only is fine. */
	ck_assert_int_eq(mu(L1 + 30 * 8, L2 | RO), 0);
	ck_assert_uint_eq(*done_word(), 1);
}
END_TEST

START_TEST(pinning_a_writable_frame_refused)
{
	snap();
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, DATA >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_PIN_L4_TABLE, DATA >> 12, 0), -XEN_EINVAL);
	ck_assert_uint_eq(*done_word(), 0);
	/* An L1 as an L2, the L4 as an L3, frames outside RAM. */
	ck_assert_int_eq(ext(MMUEXT_PIN_L2_TABLE, L1 >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_PIN_L3_TABLE, L4 >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FRAMES, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, SV_PRIV_GPA >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, ~0ULL, 0), -XEN_EINVAL);
	unchanged();
}
END_TEST

START_TEST(double_pin_and_unpin)
{
	ck_assert_int_eq(ext(MMUEXT_PIN_L4_TABLE, L4 >> 12, 0), -XEN_EINVAL); /* pinned at boot */
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), 0);
	ck_assert_uint_eq(*done_word(), 1);
	snap();
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), -XEN_EINVAL);
	unchanged();
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, FREE >> 12, 0), 0);
	ck_assert_uint_eq(info(FREE).type, MMU_T_NONE);
	snap();
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, FREE >> 12, 0), -XEN_EINVAL); /* not pinned */
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, DATA >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, FRAMES, 0), -XEN_EINVAL);
	unchanged();
}
END_TEST

START_TEST(unpin_in_use_keeps_the_type)
{
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), 0);
	ck_assert_int_eq(mu(L2 + 5 * 8, FREE | RW), 0); /* linked */
	/* Xen unpins a table in use; it stays a table while linked. */
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, FREE >> 12, 0), 0);
	ck_assert_uint_eq(info(FREE).type, MMU_T_L1);
	ck_assert_int_eq(mu(L1 + 30 * 8, FREE | RW), -XEN_EBUSY);
	ck_assert_int_eq(mu(L2 + 5 * 8, 0), 0); /* unlinked: plain memory again */
	ck_assert_uint_eq(info(FREE).type, MMU_T_NONE);
	ck_assert_uint_eq(info(FREE).refs, 0);
	ck_assert_int_eq(mu(L1 + 30 * 8, FREE | RW), 0);
	ck_assert_uint_eq(info(FREE).type, MMU_T_WRITABLE);
	/*
	 * Writable, then read-only, then a table: the engine is made to drop
	 * every stale writable mapping first (once), as Xen flushes TLBs.
	 */
	ck_assert_uint_eq(syncs, 0);
	ck_assert_int_eq(mu(L1 + 30 * 8, FREE | RO), 0);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), 0);
	ck_assert_uint_eq(syncs, 1);
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, FREE >> 12, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), 0);
	ck_assert_uint_eq(syncs, 1); /* no writable mapping went since */
	/* The boot L4 in use by vCPU 0, unpinned: still an L4, still not writable. */
	ck_assert_int_eq(ext(MMUEXT_UNPIN_TABLE, L4 >> 12, 0), 0);
	ck_assert_uint_eq(info(L4).type, MMU_T_L4);
	ck_assert_int_eq(mu(L1 + 16 * 8, L4 | RW), -XEN_EBUSY);
}
END_TEST

START_TEST(frames_not_the_domains_refused)
{
	snap();
	ck_assert_int_eq(mu(L1 + 30 * 8, 0x7f000000ULL | RW), -XEN_EPERM); /* no memory there */
	ck_assert_int_eq(mu(L1 + 30 * 8, (FRAMES * 4096) | RO), -XEN_EPERM);
	ck_assert_int_eq(mu(L1 + 30 * 8, (SV_PRIV_GPA + 4 * 4096) | RO), -XEN_EBUSY); /* IDT */
	ck_assert_int_eq(uvm(VA_DATA, (SV_PRIV_GPA + 4 * 4096) | RW, 0), -XEN_EBUSY);
	/* The all-ones frame (Xen's INVALID_MFN test) is -EINVAL, not -EPERM. */
	ck_assert_int_eq(mu(L1 + 30 * 8, 0x000ffffffffff000ULL | RO), -XEN_EINVAL);
	ck_assert_int_eq(mu(L1 + 30 * 8, 0x000fffffffffe000ULL | RO), -XEN_EPERM);
	/* As a table: a private page, shared_info, a frame past RAM. */
	ck_assert_int_eq(mu(L2 + 5 * 8, (SV_PRIV_GPA + 4 * 4096) | RW), -XEN_EINVAL);
	ck_assert_int_eq(mu(L2 + 5 * 8, SV_SHARED_INFO_GPA | RW), -XEN_EINVAL);
	ck_assert_int_eq(mu(L3 + 5 * 8, (FRAMES * 4096) | RW), -XEN_EINVAL);
	/* The update's own target: not a frame of the domain. */
	ck_assert_int_eq(mu(SV_PRIV_GPA + 4 * 4096, 0), -XEN_EINVAL);
	ck_assert_int_eq(mu(0x7f000000ULL, 0), -XEN_EINVAL);
	unchanged();
	/* shared_info may be mapped (not accounted). */
	ck_assert_int_eq(mu(L1 + 30 * 8, SV_SHARED_INFO_GPA | RW), 0);
}
END_TEST

START_TEST(superpages_refused)
{
	snap();
	ck_assert_int_eq(mu(L2 + 5 * 8, 0x200000ULL | 0x80 | RW), -XEN_EINVAL);
	ck_assert_int_eq(mu(L3 + 5 * 8, 0x0ULL | 0x80 | RW), -XEN_EINVAL);
	ck_assert_int_eq(mu(L4 + 5 * 8, L3 | 0x80 | RW), -XEN_EINVAL);
	/* A table with a PSE entry does not validate. */
	hvh_pt(FREE)[3] = 0x200000ULL | 0x80 | RW;
	ck_assert_int_eq(ext(MMUEXT_PIN_L2_TABLE, FREE >> 12, 0), -XEN_EINVAL);
	hvh_pt(FREE)[3] = 0;
	unchanged();
}
END_TEST

START_TEST(addresses_the_guest_cannot_use)
{
	snap();
	ck_assert_int_eq(uvm(0x0000800000000000ULL, DATA | RW, 0), -XEN_EINVAL); /* not canonical */
	ck_assert_int_eq(uvm(0xffff800000000000ULL, DATA | RW, 0), -XEN_EINVAL); /* Xen's own */
	ck_assert_int_eq(uvm(0x40000000ULL, DATA | RW, 0), -XEN_EINVAL);	 /* no L1 */
	/* A failed update reads no mask: -EINVAL, not -EFAULT. */
	ck_assert_int_eq(uvm(0x40000000ULL, DATA | RW, UVMF_INVLPG | 0x8), -XEN_EINVAL);
	/* The hypervisor's L4 slots. */
	ck_assert_int_eq(mu(L4 + 256 * 8, L3 | RW), -XEN_EINVAL);
	ck_assert_int_eq(mu(L4 + 271 * 8, 0), -XEN_EINVAL);
	unchanged();
	/* Every other flag combination is accepted. */
	uint64_t mask = 1;
	memcpy(guest(VA_DATA + 12 * 4096), &mask, 8);
	ck_assert_int_eq(uvm(VA_DATA, DATA | RW, UVMF_TLB_FLUSH | UVMF_ALL), 0);
	ck_assert_int_eq(uvm(VA_DATA, DATA | RW, UVMF_INVLPG | UVMF_LOCAL), 0);
	ck_assert_int_eq(uvm(VA_DATA, DATA | RW, UVMF_INVLPG | (VA_DATA + 12 * 4096)), 0);
	ck_assert_int_eq(uvm(VA_DATA, DATA | RW, UVMF_NONE), 0);
}
END_TEST

START_TEST(counts_past_the_array_and_pdone)
{
	uint64_t pairs[6] = { L1 + 30 * 8, DATA | RW, L1 + 31 * 8, DATA | RO,
			      L1 + 32 * 8, L4 | RW /* refused: the 3rd stops the batch */ };

	ck_assert_int_eq(mu_n(pairs, 3), -XEN_EBUSY);
	ck_assert_uint_eq(*done_word(), 2);
	ck_assert_uint_eq(hvh_pt(L1)[30], DATA | RW | G);
	ck_assert_uint_eq(hvh_pt(L1)[32], 0);
	/* One engine call for the batch, one range for both entries. */
	ck_assert_uint_eq(ranges_calls, 1);
	ck_assert_uint_eq(last_n, 1);
	ck_assert_uint_eq(last_range[0].va, VA_DATA + 30 * 4096);
	ck_assert_uint_eq(last_range[0].len, 2 * 4096);
	/* A list whose end runs into unmapped memory: what fits is made, then -EFAULT. */
	uint64_t *end = guest(VA_DATA + 9 * 4096 - 16); /* the frame at VA_DATA + 24 pages */
	end[0] = L1 + 33 * 8;
	end[1] = DATA | RO;
	*done_word() = 0;
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_mmu_update, VA_DATA + 25 * 4096 - 16, 3, VA_DONE, DOMID_SELF),
	    -XEN_EFAULT);
	ck_assert_uint_eq(*done_word(), 1);
	ck_assert_uint_eq(hvh_pt(L1)[33], DATA | RO | G);
	snap();
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_mmu_update, 0xffffffffffff0000ULL, 0x7fffffff, VA_DONE, DOMID_SELF),
	    -XEN_EFAULT);
	ck_assert_uint_eq(*done_word(), 0);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, 0, 0x7fffffff, VA_DONE, DOMID_SELF),
			 -XEN_EFAULT);
	/* Unknown commands. */
	ck_assert_int_eq(ext(99, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(ext(MMUEXT_MARK_SUPER, DATA >> 12, 0), -XEN_EOPNOTSUPP); /* gone from Xen */
	ck_assert_int_eq(ext(MMUEXT_UNMARK_SUPER, DATA >> 12, 0), -XEN_EOPNOTSUPP);
	unchanged();
	/* Zero requests: nothing, and a pdone of 0. */
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 0, VA_DONE, DOMID_SELF), 0);
	ck_assert_uint_eq(*done_word(), 0);
}
END_TEST

/*
 * Xen's get_pg_owner and XSM for a domU: its own id or a domain that does
 * not exist is -ESRCH; one that exists (Domain-0), DOMID_XEN or DOMID_IO
 * is -EPERM (mmu_update: at the first request, *pdone written; mmuext_op
 * and update_va_mapping_otherdomain: before anything).
 */
START_TEST(foreign_domains_refused)
{
	snap();
	memcpy(guest(VA_REQ), (uint64_t[2]){ L1 + 30 * 8, DATA | RW }, 16);
	*done_word() = 0xdeadbeef;
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, 0), -XEN_EPERM);
	ck_assert_uint_eq(*done_word(), 0);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, DOMID_XEN), -XEN_EPERM);
	*done_word() = 0xdeadbeef;
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, 7), -XEN_ESRCH);
	ck_assert_uint_eq(*done_word(), 0); /* Xen writes *pdone on this one */
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, 99), -XEN_ESRCH);
	*done_word() = 0xdeadbeef;
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, (100u << 16) | DOMID_SELF),
	    -XEN_ESRCH);
	ck_assert_uint_eq(*done_word(), 0xdeadbeef); /* ... but not on this one */
	/* Domain-0's tables: -EPERM per request; none asked, nothing refused. */
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, (1u << 16) | DOMID_SELF),
			 -XEN_EPERM);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 0, VA_DONE, (1u << 16) | DOMID_SELF),
			 0);
	memcpy(guest(VA_REQ), (uint64_t[2]){ FREE | MMU_MACHPHYS_UPDATE, 1 }, 16);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, (1u << 16) | DOMID_SELF),
			 -XEN_EPERM);
	memcpy(guest(VA_REQ), (uint64_t[2]){ L1 + 30 * 8, DATA | RW }, 16);
	*done_word() = 0xdeadbeef;
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, VA_REQ, 1, VA_DONE, 0), -XEN_EPERM);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, VA_REQ, 1, VA_DONE, DOMID_IO), -XEN_EPERM);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, VA_REQ, 1, VA_DONE, 7), -XEN_ESRCH);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, VA_REQ, 1, VA_DONE, 99), -XEN_ESRCH);
	ck_assert_uint_eq(*done_word(), 0xdeadbeef);
	ck_assert_int_eq(hc4(__HYPERVISOR_update_va_mapping_otherdomain, VA_DATA, DATA | RW, 0, 0),
			 -XEN_EPERM);
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_update_va_mapping_otherdomain, VA_DATA, DATA | RW, 0, DOMID_IO),
	    -XEN_EPERM);
	ck_assert_int_eq(hc4(__HYPERVISOR_update_va_mapping_otherdomain, VA_DATA, DATA | RW, 0, 7),
			 -XEN_ESRCH);
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_update_va_mapping_otherdomain, VA_DATA, DATA | RW, 0, 99), -XEN_ESRCH);
	unchanged();
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, (8u << 16) | DOMID_SELF),
			 0); /* the tables' owner named as itself (7 + 1) */
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_update_va_mapping_otherdomain, VA_DATA, DATA | RW, 0, DOMID_SELF), 0);
}
END_TEST

START_TEST(new_baseptr_switches_and_counts)
{
	/* A clone of the boot L4 in a free frame. */
	memcpy(hvh_pt(FREE), hvh_pt(L4), 4096);
	snap();
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, DATA >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, L1 >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, FRAMES, 0), -XEN_EINVAL);
	unchanged();
	ck_assert_uint_eq(v->cr3, L4);
	ck_assert_uint_eq(base_calls, 0);
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, FREE >> 12, 0), 0);
	ck_assert_uint_eq(v->cr3, FREE);
	ck_assert_uint_eq(base_calls, 1);
	ck_assert_uint_eq(l4_installs, 1); /* the hypervisor's slots in the new top-level table */
	ck_assert_uint_eq(info(FREE).type, MMU_T_L4);
	ck_assert_uint_eq(info(L3).links, 2);
	/* A change under the shared L3 is found through the current tables. */
	ranges_calls = 0;
	ck_assert_int_eq(mu(L1 + 40 * 8, DATA | RO), 0);
	ck_assert_uint_eq(ranges_calls, 1);
	ck_assert_uint_eq(last_n, 1);
	ck_assert_uint_eq(last_range[0].va, VA_DATA + 40 * 4096);
	/* A user base pointer is kept (and counted). */
	ck_assert_int_eq(ext(MMUEXT_NEW_USER_BASEPTR, L4 >> 12, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_NEW_USER_BASEPTR, DATA >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_NEW_USER_BASEPTR, 0, 0), 0);
	/* Back: the clone is plain memory, the L3 linked once again. */
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, L4 >> 12, 0), 0);
	ck_assert_uint_eq(info(FREE).type, MMU_T_NONE);
	ck_assert_uint_eq(info(FREE).refs, 0);
	ck_assert_uint_eq(info(L3).links, 1);
	ck_assert_int_eq(mu(L1 + 30 * 8, FREE | RW), 0);
}
END_TEST

START_TEST(page_ops_and_flushes)
{
	uint64_t mask = 3;

	memcpy(guest(VA_DATA + 12 * 4096), &mask, 8);
	snap();
	ck_assert_int_eq(ext(MMUEXT_CLEAR_PAGE, L1 >> 12, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_COPY_PAGE, L2 >> 12, DATA >> 12), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_COPY_PAGE, DATA >> 12, FRAMES), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_CLEAR_PAGE, (SV_PRIV_GPA >> 12) + 4, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_SET_LDT, 0x1001, 1), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_SET_LDT, 0x1000, 8193), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_SET_LDT, 0xffff800000000000ULL, 1), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_FLUSH_CACHE, 0, 0), -XEN_EACCES);
	ck_assert_int_eq(ext(MMUEXT_FLUSH_CACHE_GLOBAL, 0, 0), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_TLB_FLUSH_MULTI, 0, 8), -XEN_EINVAL);
	ck_assert_int_eq(ext(MMUEXT_INVLPG_MULTI, VA_DATA, 8), -XEN_EINVAL);
	unchanged();
	ck_assert_int_eq(ext(MMUEXT_SET_LDT, 0, 0), 0);
	/* No entries: no LDT, whatever the address (Xen ignores it). */
	ck_assert_int_eq(ext(MMUEXT_SET_LDT, 0x1001, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_SET_LDT, 0xffff800000000000ULL, 0), 0);
	ck_assert_uint_eq(d->mmu->ldt_base[0], 0);
	ck_assert_int_eq(ext(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_TLB_FLUSH_ALL, 0, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_INVLPG_LOCAL, VA_DATA, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_INVLPG_ALL, VA_DATA, 0), 0);
	ck_assert_int_eq(ext(MMUEXT_TLB_FLUSH_MULTI, 0, VA_DATA + 12 * 4096), 0);
	ck_assert_int_eq(ext(MMUEXT_INVLPG_MULTI, VA_DATA, VA_DATA + 12 * 4096), 0);
	/* COPY_PAGE and CLEAR_PAGE into a plain frame. */
	memset(guest(VA_DATA + 1 * 4096), 0x42, 4096);
	ck_assert_int_eq(ext(MMUEXT_COPY_PAGE, (DATA >> 12) + 2, (DATA >> 12) + 1), 0);
	ck_assert_uint_eq(*(uint8_t *)guest(VA_DATA + 2 * 4096 + 100), 0x42);
	ck_assert_int_eq(ext(MMUEXT_CLEAR_PAGE, (DATA >> 12) + 2, 0), 0);
	ck_assert_uint_eq(*(uint8_t *)guest(VA_DATA + 2 * 4096 + 100), 0);
	ck_assert_uint_eq(info(DATA + 2 * 4096).type, MMU_T_WRITABLE); /* its mapping's type */
}
END_TEST

START_TEST(plain_writes_preserve_ad_and_m2p)
{
	/* A frame that is no table: mmu_update writes it as memory. */
	ck_assert_int_eq(mu(FREE + 8, 0x1234), 0);
	ck_assert_uint_eq(hvh_pt(FREE)[1], 0x1234);
	ck_assert_uint_eq(info(FREE).type, MMU_T_NONE);
	/* PRESERVE_AD keeps what the hardware set. */
	hvh_pt(L1)[0] |= 0x60;
	ck_assert_int_eq(mu((L1 + 0) | MMU_PT_UPDATE_PRESERVE_AD, (DATA + 4096) | RW), 0);
	ck_assert_uint_eq(hvh_pt(L1)[0], (DATA + 4096) | RW | G | 0x60);
	/* MACHPHYS: only for the domain's own frames. */
	ck_assert_int_eq(mu(FREE | MMU_MACHPHYS_UPDATE, 0x55), 0);
	ck_assert_int_eq(mu((FRAMES * 4096) | MMU_MACHPHYS_UPDATE, 0x55), -XEN_EINVAL);
	ck_assert_int_eq(mu((SV_PRIV_GPA + 4 * 4096) | MMU_MACHPHYS_UPDATE, 0x55), -XEN_EINVAL);
	/* shared_info is the domain's (Xen shares it writable): its M2P entry and its memory. */
	ck_assert_int_eq(mu(SV_SHARED_INFO_GPA | MMU_MACHPHYS_UPDATE, 0x55), 0);
	ck_assert_int_eq(mu(SV_SHARED_INFO_GPA + 0x800, 0x77), 0);
	ck_assert_uint_eq(*(uint64_t *)mem_gpa(&d->mem, SV_SHARED_INFO_GPA + 0x800, 8), 0x77);
	ck_assert_int_eq(mu(SV_PRIV_GPA + 4 * 4096, 0x77), -XEN_EINVAL); /* the IDT is not */
}
END_TEST

START_TEST(tables_not_given_back)
{
	struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
	xen_pfn_t frame = L1 >> 12;

	set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(VA_DATA + 11 * 4096));
	memcpy(guest(VA_DATA + 10 * 4096), &r, sizeof(r));
	memcpy(guest(VA_DATA + 11 * 4096), &frame, sizeof(frame));
	snap();
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, VA_DATA + 10 * 4096, 0, 0), 0);
	unchanged();
	/* A frame still mapped (the data page at VA_DATA + 5 pages): refused too. */
	frame = (DATA >> 12) + 5;
	memcpy(guest(VA_DATA + 11 * 4096), &frame, sizeof(frame));
	snap();
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, VA_DATA + 10 * 4096, 0, 0), 0);
	unchanged();
	ck_assert(mem_frame_present(&d->mem, L1));
	/* Unmapped first, as a balloon driver does: given back, and no longer mappable. */
	ck_assert_int_eq(uvm(VA_DATA + 5 * 4096, 0, UVMF_INVLPG), 0);
	ck_assert_int_eq(
	    hc4(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, VA_DATA + 10 * 4096, 0, 0), 1);
	ck_assert_int_eq(uvm(VA_DATA + 5 * 4096, (DATA + 5 * 4096) | RW, 0), -XEN_EBUSY);
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, (DATA >> 12) + 5, 0), -XEN_EINVAL);
}
END_TEST

/* Xen's disallow masks: caching bits and PAT in L1, PSE, caching bits and G above it. */
START_TEST(entry_flags_xen_refuses)
{
	snap();
	ck_assert_int_eq(mu(L1 + 30 * 8, DATA | RO | 0x08), -XEN_EINVAL); /* PWT */
	ck_assert_int_eq(mu(L1 + 30 * 8, DATA | RO | 0x10), -XEN_EINVAL); /* PCD */
	ck_assert_int_eq(mu(L1 + 30 * 8, DATA | RO | 0x80), -XEN_EINVAL); /* PAT */
	ck_assert_int_eq(uvm(VA_DATA + 30 * 4096, DATA | RO | 0x10, 0), -XEN_EINVAL);
	/* Checked before the frame: even one that is not the domain's says -EINVAL. */
	ck_assert_int_eq(mu(L1 + 30 * 8, 0x7f000000ULL | RO | 0x10), -XEN_EINVAL);
	ck_assert_int_eq(mu(L2 + 5 * 8, FREE | RW | 0x100), -XEN_EINVAL); /* G above L1 */
	ck_assert_int_eq(mu(L3 + 5 * 8, FREE | RW | 0x08), -XEN_EINVAL);
	ck_assert_int_eq(mu(L4 + 5 * 8, FREE | RW | 0x10), -XEN_EINVAL);
	/* A table with such an entry does not validate. */
	hvh_pt(FREE)[3] = DATA | RO | 0x10;
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), -XEN_EINVAL);
	hvh_pt(FREE)[3] = 0;
	unchanged();
	/* G in an L1 entry, the available bits (9-11, 52-62) and NX are the guest's. */
	ck_assert_int_eq(mu(L1 + 30 * 8, DATA | RO | 0x100), 0);
	ck_assert_int_eq(mu(L1 + 31 * 8, DATA | RO | 0xe00 | (0x7ffULL << 52) | (1ULL << 63)), 0);
	ck_assert_int_eq(mu(L2 + 5 * 8, FREE | RW | 0xe00 | (1ULL << 63)), 0);
}
END_TEST

/*
 * update_va_mapping's flush, as Xen: type 3 is no flush (accepted); the
 * flush comes after the update, so a mask that cannot be read is -EFAULT
 * with the entry changed, and no mask is read for UVMF_NONE.  (A user page
 * reads back with the _PAGE_GLOBAL Xen's validation adds: UG.)
 */
#define UG 0x100ULL
START_TEST(uvmf_flush_after_the_update)
{
	ck_assert_int_eq(uvm(VA_DATA + 30 * 4096, (DATA + 3 * 4096) | RO, 3), 0);
	ck_assert_uint_eq(hvh_pt(L1)[30], (DATA + 3 * 4096) | RO | UG);
	ck_assert_int_eq(uvm(VA_DATA + 31 * 4096, (DATA + 4 * 4096) | RO, UVMF_INVLPG | 0x8),
			 -XEN_EFAULT);
	ck_assert_uint_eq(hvh_pt(L1)[31], (DATA + 4 * 4096) | RO | UG);
	ck_assert_int_eq(uvm(VA_DATA + 32 * 4096, (DATA + 5 * 4096) | RO, UVMF_TLB_FLUSH | 0x8),
			 -XEN_EFAULT);
	ck_assert_uint_eq(hvh_pt(L1)[32], (DATA + 5 * 4096) | RO | UG);
	ck_assert_int_eq(uvm(VA_DATA + 33 * 4096, (DATA + 6 * 4096) | RO, UVMF_NONE | 0x8), 0);
	ck_assert_uint_eq(hvh_pt(L1)[33], (DATA + 6 * 4096) | RO | UG);
	ck_assert_uint_eq(info(DATA + 4 * 4096).refs, 2); /* its RW mapping and this one */
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

/*
 * A list that starts where the guest has no addresses (the hypervisor's
 * slots, non-canonical) is -EFAULT before anything else, *pdone untouched;
 * a list that is only unmapped fails at its first request, *pdone written.
 */
START_TEST(list_outside_the_guest_addresses)
{
	snap();
	*done_word() = 0xdeadbeef;
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, 0xffff800000000000ULL, 1, VA_DONE, DOMID_SELF),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmu_update, 0x0000800000000000ULL, 1, VA_DONE, 99),
			 -XEN_EFAULT); /* before the foreign domain */
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, 0xffff800000000000ULL, 1, VA_DONE, DOMID_SELF),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, 0xffff800000000000ULL, 0, VA_DONE, 99),
			 -XEN_EFAULT);
	ck_assert_uint_eq(*done_word(), 0xdeadbeef);
	ck_assert_int_eq(hc4(__HYPERVISOR_mmuext_op, 0x40000000ULL, 1, VA_DONE, DOMID_SELF),
			 -XEN_EFAULT);
	ck_assert_uint_eq(*done_word(), 0);
	unchanged();
}
END_TEST

/*
 * DOMID_IO as mmu_update's page owner: allowed by Xen's XSM, but dom_io
 * owns none of the domain's frames: a present L1 entry is refused
 * (-EBUSY for the domain's own frames, -EPERM where there is no memory),
 * an entry of a higher table -EINVAL, an M2P update -EINVAL; clearing an
 * L1 entry and a plain write go through.
 */
START_TEST(domid_io_as_page_owner)
{
	uint64_t req[2];

#define MU_IO(p, val)                                                                              \
	(req[0] = (p), req[1] = (val), memcpy(guest(VA_REQ), req, 16),                             \
	 hc4(__HYPERVISOR_mmu_update, VA_REQ, 1, VA_DONE, DOMID_IO))
	snap();
	ck_assert_int_eq(MU_IO(L1 + 30 * 8, DATA | RO), -XEN_EBUSY);
	ck_assert_int_eq(MU_IO(L1 + 30 * 8, SV_SHARED_INFO_GPA | RO), -XEN_EBUSY);
	ck_assert_int_eq(MU_IO(L1 + 30 * 8, 0x7f000000ULL | RO), -XEN_EPERM);
	ck_assert_int_eq(MU_IO(L1 + 30 * 8, DATA | RO | 0x10), -XEN_EINVAL);
	ck_assert_int_eq(MU_IO(L2 + 5 * 8, 0), -XEN_EINVAL);
	ck_assert_int_eq(MU_IO(FREE | MMU_MACHPHYS_UPDATE, 1), -XEN_EINVAL);
	unchanged();
	ck_assert_int_eq(MU_IO(L1 + 24 * 8, 0), 0);
	ck_assert_uint_eq(hvh_pt(L1)[24], 0);
	ck_assert_int_eq(MU_IO(FREE + 8, 0x99), 0);
	ck_assert_uint_eq(hvh_pt(FREE)[1], 0x99);
#undef MU_IO
}
END_TEST

START_TEST(multicall_of_mmu_ops)
{
	struct multicall_entry mc[2] = {
		{ .op = __HYPERVISOR_mmu_update, .args = { VA_REQ, 1, VA_DONE, DOMID_SELF } },
		{ .op = __HYPERVISOR_update_va_mapping, .args = { VA_DATA, L4 | RW, 0 } },
	};

	memcpy(guest(VA_REQ), (uint64_t[2]){ L1 + 30 * 8, DATA | RO }, 16);
	memcpy(guest(VA_DATA + 9 * 4096), mc, sizeof(mc));
	ck_assert_int_eq(hc4(__HYPERVISOR_multicall, VA_DATA + 9 * 4096, 2, 0, 0), 0);
	memcpy(mc, guest(VA_DATA + 9 * 4096), sizeof(mc));
	ck_assert_int_eq((long)mc[0].result, 0);
	ck_assert_int_eq((long)mc[1].result, -XEN_EBUSY);
	ck_assert_uint_eq(hvh_pt(L1)[30], DATA | RO | G);
	ck_assert_uint_eq(hvh_pt(L1)[0], DATA | RW | G);
}
END_TEST

/*
 * The KVM engine's own hooks, with no VM behind them: every entry a batch
 * writes is queued for the sync vCPU (kvm_sync.c) in order, once, and a
 * frame that becomes a table is queued whole; nothing runs until the next
 * entry (a flush now would need the VM: this test would crash); more
 * than the queue holds turns into one memslot toggle; NEW_BASEPTR marks
 * cr3 for one reload.
 */
START_TEST(kvm_engine_queues_table_writes)
{
	struct kvm_vcpu *k = calloc(1, sizeof(*k));
	struct kvm_dom *kd = calloc(1, sizeof(*kd));
	void *saved = d->eng_priv;
	uint64_t pairs[64];

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(kd);
	pthread_mutex_init(&kd->flush_lock, NULL);
	kd->sync.fd = -1;
	hvh_engine.ptes_changed = hv_kvm_engine.ptes_changed;
	hvh_engine.new_baseptr = hv_kvm_engine.new_baseptr;
	hvh_engine.table_written = hv_kvm_engine.table_written;
	v->eng = k;
	d->eng_priv = kd;
	for (unsigned i = 0; i < 32; i++) {
		pairs[2 * i] = L1 + (30 + i) * 8;
		pairs[2 * i + 1] = DATA | RO;
	}
	ck_assert_int_eq(mu_n(pairs, 32), 0);
	ck_assert_uint_eq(*done_word(), 32);
	ck_assert(kd->sync.pending);
	ck_assert_uint_eq(kd->sync.nr, 32);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_uint_eq(kd->sync.q[i], L1 + (30 + i) * 8);
	/* The same values again change nothing: nothing queued. */
	ck_assert_int_eq(mu_n(pairs, 32), 0);
	ck_assert_uint_eq(kd->sync.nr, 32);
	/* A refused update queues nothing. */
	ck_assert_int_eq(mu(L1 + 16 * 8, L4 | RW), -XEN_EBUSY);
	ck_assert_uint_eq(kd->sync.nr, 32);
	/* A fresh table: the whole frame (KVM may know it from an earlier life). */
	ck_assert_int_eq(ext(MMUEXT_PIN_L1_TABLE, FREE >> 12, 0), 0);
	ck_assert_uint_eq(kd->sync.nr, 33);
	ck_assert_uint_eq(kd->sync.q[32], FREE | KVM_SYNC_PAGE);
	ck_assert(!kd->sync.all);
	/* Past the queue: everything (a memslot toggle at the flush). */
	for (unsigned r = 0; r < KVM_SYNC_MAX / 32 + 1; r++) {
		for (unsigned i = 0; i < 32; i++)
			pairs[2 * i + 1] = r % 2 ? DATA | RO : 0;
		ck_assert_int_eq(mu_n(pairs, 32), 0);
	}
	ck_assert(kd->sync.all);
	ck_assert(!k->cr3_pending);
	memcpy(hvh_pt(FREE + 4096), hvh_pt(L4), 4096);
	ck_assert_int_eq(ext(MMUEXT_NEW_BASEPTR, (FREE + 4096) >> 12, 0), 0);
	ck_assert(k->cr3_pending);
	ck_assert_uint_eq(v->cr3, FREE + 4096);
	v->eng = NULL;
	d->eng_priv = saved;
	pthread_mutex_destroy(&kd->flush_lock);
	free(kd);
	free(k);
}
END_TEST

/* The sync vCPU's code: one atomic "or $0" per place, 8 bytes wide for an entry, 2 for a frame. */
START_TEST(kvm_sync_code_encodes_each_place)
{
	uint8_t code[PAGE_SIZE];
	const uint64_t q[] = { 0x12348, 0x5000 | KVM_SYNC_PAGE, 0x100000008ULL,
			       0x100002000ULL | KVM_SYNC_PAGE };
	const uint8_t want[] = {
		0xf0, 0x48, 0x83, 0x0c, 0x25, 0x48, 0x23, 0x01, 0x00, 0x00, /* lock orq $0,0x12348 */
		0x66, 0xf0, 0x83, 0x0c, 0x25, 0x00, 0x50, 0x00, 0x00, 0x00, /* lock orw $0,0x5000 */
		0x48, 0xb8, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* movabs */
		0xf0, 0x48, 0x83, 0x08, 0x00,				    /* lock orq $0,(%rax) */
		0x48, 0xb8, 0x00, 0x20, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* movabs */
		0x66, 0xf0, 0x83, 0x08, 0x00,				    /* lock orw $0,(%rax) */
		0xe6, 0xed, 0xe9, 0xc7, 0xff, 0xff, 0xff,		    /* out; jmp start */
	};
	uint64_t many[KVM_SYNC_MAX];

	ck_assert_uint_eq(kvm_sync_code(code, sizeof(code), q, 4), sizeof(want));
	ck_assert_mem_eq(code, want, sizeof(want));
	ck_assert_uint_eq(kvm_sync_code(code, sizeof(code), NULL, 0), 7);
	ck_assert_mem_eq(code, ((const uint8_t[]){ 0xe6, 0xed, 0xe9, 0xf9, 0xff, 0xff, 0xff }), 7);
	/* A full queue of the longest form fits its page; a page too small is refused. */
	for (unsigned i = 0; i < KVM_SYNC_MAX; i++)
		many[i] = 0x100000000ULL + i * 8;
	ck_assert_uint_eq(kvm_sync_code(code, sizeof(code), many, KVM_SYNC_MAX),
			  KVM_SYNC_MAX * 15 + 7);
	ck_assert_uint_eq(kvm_sync_code(code, 100, many, KVM_SYNC_MAX), 0);
	ck_assert_uint_eq(kvm_sync_code(code, 6, NULL, 0), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mmu");
	TCase *tc = tcase_create("hostile");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, boot_tables_validated_and_pinned);
	tcase_add_test(tc, bad_boot_tables_refused);
	tcase_add_test(tc, boot_tables_get_the_user_bit);
	tcase_add_test(tc, refused_tables_keep_their_entries);
	tcase_add_test(tc, mmu_update_and_pins_get_the_user_bit);
	tcase_add_test(tc, table_mapped_writable_refused);
	tcase_add_test(tc, ptwr_writes_l1_entries_as_mmu_update);
	tcase_add_test(tc, ptwr_emulates_the_kernels_stores);
	tcase_add_test(tc, pinning_a_writable_frame_refused);
	tcase_add_test(tc, double_pin_and_unpin);
	tcase_add_test(tc, unpin_in_use_keeps_the_type);
	tcase_add_test(tc, frames_not_the_domains_refused);
	tcase_add_test(tc, superpages_refused);
	tcase_add_test(tc, addresses_the_guest_cannot_use);
	tcase_add_test(tc, counts_past_the_array_and_pdone);
	tcase_add_test(tc, foreign_domains_refused);
	tcase_add_test(tc, new_baseptr_switches_and_counts);
	tcase_add_test(tc, page_ops_and_flushes);
	tcase_add_test(tc, plain_writes_preserve_ad_and_m2p);
	tcase_add_test(tc, tables_not_given_back);
	tcase_add_test(tc, multicall_of_mmu_ops);
	tcase_add_test(tc, kvm_engine_queues_table_writes);
	tcase_add_test(tc, kvm_sync_code_encodes_each_place);
	tcase_add_test(tc, entry_flags_xen_refuses);
	tcase_add_test(tc, uvmf_flush_after_the_update);
	tcase_add_test(tc, list_outside_the_guest_addresses);
	tcase_add_test(tc, domid_io_as_page_owner);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
