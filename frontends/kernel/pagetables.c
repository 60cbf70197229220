// SPDX-License-Identifier: MIT
// The mmu word: our own address space, built with mmu_update and pinning, as a Xen PV kernel does.
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/m2p.h>
#include <svk/mm.h>
#include <svk/pagetables.h>
#include <svk/printk.h>
#include <svk/pvmmu.h>
#include <svk/time.h>

#define PTE_ADDR 0x000ffffffffff000UL
#define _PAGE_PSE 0x080UL
#define _PAGE_PCD 0x010UL
#define _PAGE_GLOBAL 0x100UL
#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
/* L4 slot 1: nothing of the boot tables lives there. */
#define TEST_VA 0x8000000000UL
/* A hypervisor-private page (the IDT; sv/pvabi.h's SV_PRIV_GPA + 4 pages). */
#define HV_PRIVATE_GPA 0xFD004000UL
/* Guest-physical memory no domain has (past 3 GiB of RAM, below the hole's private pages). */
#define NO_MEMORY_GPA 0xF0000000UL

/* Machine address of va's level-1 entry, read through our (read-only) tables; 0: none. */
static uint64_t l1e_of(const start_info_t *si, unsigned long va)
{
	const uint64_t *t = (const uint64_t *)si->pt_base;
	uint64_t e = 0;

	for (int level = 4; level > 1; level--) {
		e = t[(va >> (12 + 9 * (level - 1))) & 511];
		if (!(e & _PAGE_PRESENT))
			return 0;
		t = mfn_to_virt((e & PTE_ADDR) >> PAGE_SHIFT);
		if (!t)
			return 0;
	}
	return (e & PTE_ADDR) + ((va >> 12) & 511) * 8;
}

static bool ok_all;

static void check(bool ok, const char *what, long rc)
{
	if (!ok) {
		printk("mmu: FAIL %s (rc %ld)\n", what, rc);
		ok_all = false;
	}
}

#define EXPECT(call, want, what)                                                                   \
	do {                                                                                       \
		long __rc = (call);                                                                \
		check(__rc == (want), what, __rc);                                                 \
	} while (0)

void mmu_selftest(const start_info_t *si, const char *arg)
{
	void *l4, *l3, *l2, *l1, *data, *spare;
	uint64_t *t, boot_l4 = virt_to_mfn((void *)si->pt_base), l1e;
	struct mmu_update batch[32];
	unsigned done;
	domid_t self = DOMID_SELF;
	struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
	xen_pfn_t frame;
	unsigned long mask = 1;
	volatile uint64_t *probe;

	ok_all = true;
	l4 = page_alloc();
	l3 = page_alloc();
	l2 = page_alloc();
	l1 = page_alloc();
	data = page_alloc();
	spare = page_alloc();
	if (!l4 || !l3 || !l2 || !l1 || !data || !spare) {
		printk("mmu: FAIL no pages\n");
		return;
	}
	/* The boot L4 was pinned by the hypervisor as the domain started, as Xen's builder does. */
	EXPECT(pv_mmuext1(MMUEXT_PIN_L4_TABLE, boot_l4), -XEN_EINVAL, "second pin of the boot L4");
	/* A page table mapped writable: refused, nothing done. */
	l1e = l1e_of(si, si->pt_base);
	done = 99;
	EXPECT(pv_mmu_update1(l1e, ((uint64_t)boot_l4 << PAGE_SHIFT) | PAGE_KERNEL_RW, &done),
	       -XEN_EBUSY, "mapping the boot L4 writable");
	check(done == 0, "done count after a refused update", done);
	/* A frame mapped writable cannot become a table; what is not pinned cannot be unpinned. */
	EXPECT(pv_mmuext1(MMUEXT_PIN_L1_TABLE, virt_to_mfn(spare)), -XEN_EINVAL,
	       "pinning a frame mapped writable");
	EXPECT(pv_mmuext1(MMUEXT_UNPIN_TABLE, virt_to_mfn(spare)), -XEN_EINVAL,
	       "unpinning an unpinned frame");
	EXPECT(pv_mmuext1(MMUEXT_NEW_BASEPTR, virt_to_mfn(spare)), -XEN_EINVAL,
	       "switching to a writable frame");

	/* A clone of the boot L4 and a private slot: L3 -> L2 -> L1 -> data at TEST_VA. */
	memcpy(l4, (void *)si->pt_base, PAGE_SIZE);
	*(volatile uint64_t *)data = 0x6d6d7521;
	((uint64_t *)l1)[0] = pv_ma(data) | PAGE_KERNEL_RW;
	((uint64_t *)l2)[0] = pv_ma(l1) | PAGE_KERNEL_RW;
	((uint64_t *)l3)[0] = pv_ma(l2) | PAGE_KERNEL_RW;
	EXPECT(pv_remap(l4, PAGE_KERNEL_RO) | pv_remap(l3, PAGE_KERNEL_RO) |
		   pv_remap(l2, PAGE_KERNEL_RO) | pv_remap(l1, PAGE_KERNEL_RO),
	       0, "tables made read-only");
	EXPECT(pv_mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(l4)), 0, "pinning the clone");
	EXPECT(pv_mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(l4)), -XEN_EINVAL, "double pin");
	EXPECT(pv_mmu_update1(pv_ma(l4) + 8, pv_ma(l3) | PAGE_KERNEL_RW, &done), 0,
	       "linking the private slot");
	/* Now validated: a table of the clone is not writable, and stays one. */
	EXPECT(pv_remap(l1, PAGE_KERNEL_RW), -XEN_EBUSY, "mapping a linked L1 writable");
	EXPECT(pv_mmuext1(MMUEXT_PIN_L2_TABLE, virt_to_mfn(l1)), -XEN_EINVAL,
	       "pinning an L1 as an L2");
	EXPECT(pv_mmu_update1(pv_ma(l2) + 8, pv_ma(spare) | _PAGE_PRESENT | _PAGE_PSE | _PAGE_USER,
			      &done),
	       -XEN_EINVAL, "a 2 MiB superpage");
	EXPECT(pv_mmu_update1(pv_ma(l1) + 8, NO_MEMORY_GPA | PAGE_KERNEL_RW, &done), -XEN_EPERM,
	       "a frame where there is no memory");
	EXPECT(pv_mmu_update1(pv_ma(l1) + 8, HV_PRIVATE_GPA | PAGE_KERNEL_RO, &done), -XEN_EBUSY,
	       "a hypervisor page");
	EXPECT(pv_mmu_update1(pv_ma(l2) + 8, pv_ma(spare) | PAGE_KERNEL_RW | _PAGE_GLOBAL, &done),
	       -XEN_EINVAL, "a global L2 entry");
	EXPECT(pv_mmu_update1(pv_ma(l1) + 8, pv_ma(l2) | PAGE_KERNEL_RW, &done), -XEN_EBUSY,
	       "an L2 mapped writable");
	EXPECT(pv_mmu_update1(pv_ma(l4) + 8 * 256, pv_ma(l3) | PAGE_KERNEL_RW, &done), -XEN_EINVAL,
	       "the hypervisor's L4 slots");
	/* A table is not given back while it is one (Xen frees it later; we refuse). */
	frame = virt_to_mfn(l3);
	set_xen_guest_handle(r.extent_start, &frame);
	EXPECT(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 0,
	       "decrease_reservation of a page table");
	EXPECT(pv_mmuext1(MMUEXT_CLEAR_PAGE, virt_to_mfn(l1)), -XEN_EINVAL,
	       "clearing a page table");

	/* Switch to the clone: the kernel runs on, and TEST_VA shows the data page. */
	EXPECT(pv_mmuext1(MMUEXT_NEW_BASEPTR, virt_to_mfn(l4)), 0, "NEW_BASEPTR to the clone");
	probe = (volatile uint64_t *)TEST_VA;
	check(*probe == 0x6d6d7521, "data page through the clone's private slot", (long)*probe);
	/* 32 mappings of it in one call, then 32 unmappings. */
	for (unsigned i = 0; i < 32; i++)
		batch[i] = (struct mmu_update){ .ptr = pv_ma(l1) + 8 * (i + 1),
						.val = pv_ma(data) | PAGE_KERNEL_RO };
	done = 0;
	EXPECT(HYPERVISOR_mmu_update(batch, 32, &done, DOMID_SELF), 0, "a batch of 32 maps");
	check(done == 32, "done count of the batch", done);
	for (unsigned i = 0; i < 32; i++)
		if (probe[(i + 1) * 512] != 0x6d6d7521)
			check(false, "a page mapped by the batch", i);
	for (unsigned i = 0; i < 32; i++)
		batch[i].val = 0;
	EXPECT(HYPERVISOR_mmu_update(batch, 32, &done, DOMID_SELF), 0, "a batch of 32 unmaps");
	/*
	 * A list that runs off its page into nothing: the data page at
	 * TEST_VA + 4 KiB (nothing after it) ends with one harmless request
	 * (clear an empty entry); a count of 2 makes it, then -EFAULT.
	 */
	t = (uint64_t *)((char *)data + PAGE_SIZE - 16);
	t[0] = pv_ma(l1) + 8 * 3;
	t[1] = 0;
	batch[0] = (struct mmu_update){ .ptr = pv_ma(l1) + 8, .val = pv_ma(data) | PAGE_KERNEL_RO };
	EXPECT(HYPERVISOR_mmu_update(batch, 1, &done, DOMID_SELF), 0, "one more map");
	EXPECT(HYPERVISOR_mmu_update((void *)(TEST_VA + 2 * PAGE_SIZE - 16), 2, &done, DOMID_SELF),
	       -XEN_EFAULT, "a count past the array");
	check(done == 1, "done count of a list past its end", done);
	/* Unpin in use: Xen unpins, and the clone stays an L4 while it is the base. */
	EXPECT(pv_mmuext1(MMUEXT_UNPIN_TABLE, virt_to_mfn(l4)), 0, "unpinning the table in use");
	EXPECT(pv_remap(l4, PAGE_KERNEL_RW), -XEN_EBUSY,
	       "the unpinned table in use mapped writable");
	EXPECT(pv_mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0) | pv_mmuext1(MMUEXT_TLB_FLUSH_ALL, 0) |
		   pv_mmuext1(MMUEXT_INVLPG_LOCAL, TEST_VA) |
		   pv_mmuext1(MMUEXT_INVLPG_ALL, TEST_VA),
	       0, "TLB flushes");
	{
		struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_MULTI };
		set_xen_guest_handle(op.arg2.vcpumask, &mask);
		EXPECT(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0, "TLB_FLUSH_MULTI");
		op.arg2.vcpumask.p = (void *)8;
		EXPECT(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL,
		       "TLB_FLUSH_MULTI with a bad mask");
		op = (struct mmuext_op){ .cmd = MMUEXT_SET_LDT };
		EXPECT(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0, "SET_LDT 0/0");
		op.arg1.linear_addr = 0x123;
		EXPECT(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0,
		       "SET_LDT of no entries, any address");
		op.arg1.linear_addr = 0x123;
		op.arg2.nr_ents = 1;
		EXPECT(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL,
		       "SET_LDT misaligned");
	}
	EXPECT(pv_mmuext1(MMUEXT_NEW_BASEPTR, boot_l4), 0, "NEW_BASEPTR back to the boot tables");

	/* The clone is no table any more: its pages are plain memory again. */
	EXPECT(pv_remap(l4, PAGE_KERNEL_RW) | pv_remap(l3, PAGE_KERNEL_RW) |
		   pv_remap(l2, PAGE_KERNEL_RW) | pv_remap(l1, PAGE_KERNEL_RW),
	       0, "the clone's pages writable again");
	((uint64_t *)data)[1] = 7;
	EXPECT(pv_mmuext1(MMUEXT_CLEAR_PAGE, virt_to_mfn(data)), 0, "CLEAR_PAGE");
	check(((uint64_t *)data)[1] == 0, "CLEAR_PAGE cleared", (long)((uint64_t *)data)[1]);
	EXPECT(pv_mmu_update1(pv_ma(data) | MMU_MACHPHYS_UPDATE, virt_to_pfn(data), &done), 0,
	       "MMU_MACHPHYS_UPDATE");
	/* Other domains: not ours to touch. */
	EXPECT(HYPERVISOR_mmu_update(batch, 1, &done, 0), -XEN_EPERM, "mmu_update for dom0");
	EXPECT(HYPERVISOR_mmu_update(batch, 1, &done, 0x7fef), -XEN_ESRCH,
	       "mmu_update for a domain that does not exist");
	EXPECT(HYPERVISOR_update_va_mapping_otherdomain((unsigned long)spare,
							pv_ma(spare) | PAGE_KERNEL_RW, 0, 0),
	       -XEN_EPERM, "update_va_mapping_otherdomain");
	EXPECT(HYPERVISOR_update_va_mapping((unsigned long)spare, pv_ma(spare) | PAGE_KERNEL_RW,
					    UVMF_TLB_FLUSH | UVMF_ALL),
	       0, "UVMF_TLB_FLUSH|UVMF_ALL");
	EXPECT(HYPERVISOR_update_va_mapping((unsigned long)spare, pv_ma(spare) | PAGE_KERNEL_RW,
					    UVMF_INVLPG | (unsigned long)&mask),
	       0, "UVMF_INVLPG|UVMF_MULTI");
	EXPECT(HYPERVISOR_update_va_mapping((unsigned long)spare, pv_ma(spare) | PAGE_KERNEL_RW,
					    UVMF_INVLPG | 8),
	       -XEN_EFAULT, "UVMF_MULTI with a bad mask");
	EXPECT(HYPERVISOR_update_va_mapping((unsigned long)spare, pv_ma(spare) | PAGE_KERNEL_RW, 3),
	       0, "flush type 3 (no flush, as Xen)");
	EXPECT(HYPERVISOR_update_va_mapping((unsigned long)spare,
					    pv_ma(spare) | PAGE_KERNEL_RW | _PAGE_PCD, 0),
	       -XEN_EINVAL, "a cache-disabled mapping");
	EXPECT(HYPERVISOR_update_va_mapping(0x800000000000UL, pv_ma(spare) | PAGE_KERNEL_RW, 0),
	       -XEN_EINVAL, "a non-canonical address");
	(void)self;
	page_free(l4);
	page_free(l3);
	page_free(l2);
	page_free(l1);
	page_free(data);
	page_free(spare);
	if (ok_all)
		printk(
		    "mmu: clone of the boot L4 pinned, switched to and back; 32 pages mapped and "
		    "unmapped in one mmu_update; every refusal Xen's\n");
	printk(ok_all ? "mmu: ok\n" : "mmu: FAIL\n");
	if (arg && !strcmp(arg, "touch")) {
		/* Back on the boot tables, TEST_VA maps nothing: this faults, unhandled. */
		printk("mmu: touching 0x%lx after the switch back\n", TEST_VA);
		(void)*(volatile uint64_t *)TEST_VA;
		printk("mmu: FAIL 0x%lx still mapped after the switch back\n", TEST_VA);
	}
}

void mmu_bench(const start_info_t *si, const char *arg)
{
	uint64_t n = 0, t0, t1, t2, t3, t4, t5, boot_l4 = virt_to_mfn((void *)si->pt_base);
	void *p = page_alloc(), *q = page_alloc(), *l4;
	struct multicall_entry mc[32];
	uint64_t l1e;
	unsigned done;

	if (!arg || parse_u64(arg, &n) || !n || !p || !q || !time_available()) {
		printk("mmu-bench: needs mmu-bench=N, two pages and a time source\n");
		return;
	}
	l1e = l1e_of(si, (unsigned long)p);
	t0 = time_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		(void)pv_mmu_update1(l1e, pv_ma(q) | PAGE_KERNEL_RW, &done);
		(void)pv_mmu_update1(l1e, 0, &done);
	}
	t1 = time_now_ns();
	(void)pv_remap(p, PAGE_KERNEL_RW);
	for (unsigned i = 0; i < 32; i++)
		mc[i] = (struct multicall_entry){ .op = __HYPERVISOR_xen_version,
						  .args = { XENVER_version } };
	for (uint64_t i = 0; i < n; i++)
		(void)HYPERVISOR_multicall(mc, 32);
	t2 = time_now_ns();
	for (uint64_t i = 0; i < n; i++)
		for (unsigned j = 0; j < 32; j++)
			(void)HYPERVISOR_xen_version(XENVER_version, NULL);
	t3 = time_now_ns();
	/* NEW_BASEPTR to a pinned clone of the boot L4 and back (the engine follows each). */
	l4 = page_alloc();
	if (!l4)
		return;
	memcpy(l4, (void *)si->pt_base, PAGE_SIZE);
	if (pv_remap(l4, PAGE_KERNEL_RO) || pv_mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(l4))) {
		printk("mmu-bench: cannot pin a clone of the boot L4\n");
		return;
	}
	t4 = time_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		(void)pv_mmuext1(MMUEXT_NEW_BASEPTR, virt_to_mfn(l4));
		(void)pv_mmuext1(MMUEXT_NEW_BASEPTR, boot_l4);
	}
	t5 = time_now_ns();
	(void)pv_mmuext1(MMUEXT_UNPIN_TABLE, virt_to_mfn(l4));
	(void)pv_remap(l4, PAGE_KERNEL_RW);
	page_free(l4);
	printk("mmu-bench: n=%llu mapunmap_ns=%llu multicall32_ns=%llu calls32_ns=%llu "
	       "baseptr2_ns=%llu\n",
	       (unsigned long long)n, (unsigned long long)((t1 - t0) / n),
	       (unsigned long long)((t2 - t1) / n), (unsigned long long)((t3 - t2) / n),
	       (unsigned long long)((t5 - t4) / n));
	page_free(p);
	page_free(q);
}
