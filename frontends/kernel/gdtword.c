// SPDX-License-Identifier: MIT
/*
 * The gdt word: set_gdt and update_descriptor as a Xen PV kernel uses them
 * (Linux: set_gdt for every CPU, update_descriptor for TLS and GDT entries,
 * often in multicalls), with good and hostile arguments and Xen's answers.
 * Prints "gdt: FAIL what (rc)" per wrong answer and "gdt: ok" or "gdt: FAIL".
 * With "gdt=keep" the last GDT stays set (the domain's end releases it).
 * With "gdt=load" it also uses the GDT as Xen loads it: its selectors in
 * %ds/%es/%fs/%gs (a read through %fs with the descriptor's base, again
 * after update_descriptor rebases it), a far return to its code segment,
 * and our own #GP for an empty entry or one past the GDT.  With
 * "gdt=noload" (an engine that loads no guest GDT) each gives our #GP.
 */
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/privops.h>
#include <svk/pvmmu.h>
#include <svk/segload.h>

#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define CODE64_DPL0 0x00af9a000000ffffUL
#define CODE64_DPL3 0x00affa000000ffffUL
#define DATA_DPL0 0x00cf92000000ffffUL
#define DATA_DPL3 0x00cff2000000ffffUL
#define TSS64 0x0000890000000067UL
#define GATE(sel, dpl)                                                                             \
	(0x00008c0000001000UL | ((unsigned long)(sel) << 16) | ((unsigned long)(dpl) << 45))

static inline long HYPERVISOR_set_gdt(const unsigned long *frames, unsigned int entries)
{
	return _hypercall2(__HYPERVISOR_set_gdt, frames, entries);
}

static inline long HYPERVISOR_update_descriptor(uint64_t ma, uint64_t desc)
{
	return _hypercall2(__HYPERVISOR_update_descriptor, ma, desc);
}

static bool ok_all;

static void expect(long rc, long want, const char *what)
{
	if (rc != want) {
		printk("gdt: FAIL %s (rc %ld, want %ld)\n", what, rc, want);
		ok_all = false;
	}
}

/* GDT selectors (RPL 3) of the GDT gdt_use runs on. */
#define SEL_CODE 0x0b  /* entry 1: 64-bit code */
#define SEL_DATA 0x13  /* entry 2: flat data */
#define SEL_BASED 0x4b /* entry 9: data based at 0x1000, then 0x2000 */
#define SEL_EMPTY 0x53 /* entry 10: nothing there */
#define SEL_PAST 0xa3  /* entry 20: past the GDT's 16 entries */

static void must_load(enum seg_reg reg, uint16_t sel, uint64_t off, const char *what)
{
	ok_all &= seg_must_load("gdt", reg, sel, off, what);
}

static void must_gp(struct seg_try t, uint16_t sel, const char *what)
{
	ok_all &= seg_must_gp("gdt", t, sel, what);
}

/* The GDT at ma (16 entries, set) in use.  load: the engine loads it, as Xen; else #GP. */
static void gdt_use(uint64_t ma, bool load)
{
	uint64_t *data = page_alloc();
	uint64_t at = (uint64_t)data;

	if (!data || !seg_traps_on()) {
		printk("gdt: FAIL no page or #GP entry for the GDT loads\n");
		ok_all = false;
		return;
	}
	*data = SEG_MAGIC;
	expect(HYPERVISOR_update_descriptor(ma + 9 * 8, SEG_DATA_BASE(0x1000)), 0,
	       "a based data descriptor");
	if (load) {
		must_load(SEG_DS, SEL_DATA, at, "GDT selector into %ds, read through it");
		must_load(SEG_ES, SEL_DATA, 0, "GDT selector into %es");
		must_load(SEG_GS, SEL_DATA, 0, "GDT selector into %gs");
		must_load(SEG_FS, SEL_BASED, at - 0x1000, "GDT selector into %fs, its base 0x1000");
		expect((long)seg_lret(SEL_CODE).traps, 0, "lret to the guest's GDT code segment");
		expect(HYPERVISOR_update_descriptor(ma + 9 * 8, SEG_DATA_BASE(0x2000)), 0,
		       "rebase the descriptor");
		must_load(SEG_FS, SEL_BASED, at - 0x2000, "the rebased GDT selector into %fs");
		must_gp(seg_load(SEG_FS, SEL_EMPTY, 0), SEL_EMPTY, "an empty GDT entry into %fs");
		must_gp(seg_load(SEG_DS, SEL_PAST, 0), SEL_PAST, "past the GDT's entries into %ds");
		must_gp(seg_lret(SEL_EMPTY), SEL_EMPTY, "lret to an empty GDT entry");
		if (ok_all)
			printk("gdt: loaded: %%ds %%es %%gs %%fs (read 0x%lx through base 0x2000), "
			       "lret to 0x%x, bad selectors #GP\n",
			       SEG_MAGIC, SEL_CODE);
	} else {
		must_gp(seg_load(SEG_DS, SEL_DATA, at), SEL_DATA, "GDT selector into %ds (no GDT)");
		must_gp(seg_load(SEG_FS, SEL_BASED, 0), SEL_BASED, "GDT selector into %fs (no GDT)");
		must_gp(seg_lret(SEL_CODE), SEL_CODE, "lret to a GDT code segment (no GDT)");
		if (ok_all)
			printk("gdt: not loaded by this engine: GDT selectors #GP\n");
	}
	expect(HYPERVISOR_update_descriptor(ma + 9 * 8, 0), 0, "clear the based descriptor");
	seg_traps_off();
	page_free(data);
}

void gdt_word(const start_info_t *si, const char *arg)
{
	uint64_t *g = page_alloc(), *g2 = page_alloc();
	uint64_t ma, l4 = virt_to_mfn((void *)si->pt_base);
	unsigned long fr[2];
	struct multicall_entry mc[2];

	ok_all = true;
	if (!g || !g2) {
		printk("gdt: FAIL no pages\n");
		return;
	}
	memset(g, 0, PAGE_SIZE);
	memset(g2, 0, PAGE_SIZE);
	g[1] = CODE64_DPL0; /* as a native kernel writes them: Xen raises DPL 0 to 3 */
	g[2] = DATA_DPL0;
	g[6] = CODE64_DPL3;
	g2[1] = CODE64_DPL3;
	ma = pv_ma(g);
	fr[0] = ma >> PAGE_SHIFT;

	/* A frame still mapped writable cannot be a GDT frame. */
	expect(HYPERVISOR_set_gdt(fr, 16), -XEN_EINVAL, "set_gdt of a writable-mapped frame");
	expect(pv_remap(g, PAGE_KERNEL_RO) | pv_remap(g2, PAGE_KERNEL_RO), 0, "map read-only");
	expect(HYPERVISOR_set_gdt(fr, 16), 0, "set_gdt");
	expect(g[1] == CODE64_DPL3 && g[2] == DATA_DPL3, 1, "DPL fixed up to 3");
	/* Now it cannot be mapped writable (Xen: it has another type). */
	expect(pv_remap(g, PAGE_KERNEL_RW) != 0, 1, "mapping a GDT frame writable");

	/* update_descriptor: checked, fixed up, written; hostile ones refused. */
	expect(HYPERVISOR_update_descriptor(ma + 3 * 8, DATA_DPL0), 0, "update_descriptor");
	expect(g[3] == DATA_DPL3, 1, "update_descriptor's DPL fixed up");
	expect(HYPERVISOR_update_descriptor(ma + 4 * 8, GATE(FLAT_KERNEL_CS, 3)), 0,
	       "a call gate to FLAT_KERNEL_CS");
	expect(g[4] == GATE(FLAT_KERNEL_CS, 0), 1, "the gate's DPL forced to 0");
	expect(HYPERVISOR_update_descriptor(ma + 3 * 8 + 4, DATA_DPL3), -XEN_EINVAL,
	       "update_descriptor misaligned");
	expect(HYPERVISOR_update_descriptor(ma + 5 * 8, GATE(0xe008, 3)), -XEN_EINVAL,
	       "a call gate to Xen's ring-0 code");
	expect(HYPERVISOR_update_descriptor(ma + 5 * 8, TSS64), -XEN_EINVAL, "a TSS descriptor");
	expect(HYPERVISOR_update_descriptor(l4 << PAGE_SHIFT, DATA_DPL3), -XEN_EINVAL,
	       "update_descriptor into the L4");
	expect(HYPERVISOR_update_descriptor(0xfffffff000UL, DATA_DPL3), -XEN_EINVAL,
	       "update_descriptor where there is no memory");
	expect(g[5] == 0, 1, "refused updates changed nothing");

	/* In a multicall, as Linux batches them: each entry its own result. */
	memset(mc, 0, sizeof(mc));
	mc[0].op = __HYPERVISOR_update_descriptor;
	mc[0].args[0] = ma + 7 * 8;
	mc[0].args[1] = DATA_DPL3;
	mc[1].op = __HYPERVISOR_update_descriptor;
	mc[1].args[0] = ma + 8 * 8;
	mc[1].args[1] = TSS64;
	expect(HYPERVISOR_multicall(mc, 2), 0, "multicall");
	expect((long)mc[0].result, 0, "multicall's good update_descriptor");
	expect((long)mc[1].result, -XEN_EINVAL, "multicall's hostile update_descriptor");
	expect(g[7] == DATA_DPL3 && g[8] == 0, 1, "multicall's writes");
	if (arg && (!strcmp(arg, "load") || !strcmp(arg, "noload")))
		gdt_use(ma, !strcmp(arg, "load"));

	/* Hostile set_gdt: the GDT in place stays. */
	expect(HYPERVISOR_set_gdt(fr, FIRST_RESERVED_GDT_ENTRY + 1), -XEN_EINVAL,
	       "set_gdt into Xen's reserved entries");
	expect(HYPERVISOR_set_gdt((const unsigned long *)0x0000800000000000UL, 16), -XEN_EFAULT,
	       "set_gdt with an unreadable list");
	fr[0] = l4;
	expect(HYPERVISOR_set_gdt(fr, 16), -XEN_EINVAL, "set_gdt of the L4");
	fr[0] = 0xfffffffUL;
	expect(HYPERVISOR_set_gdt(fr, 16), -XEN_EINVAL, "set_gdt of no memory");
	fr[0] = ma >> PAGE_SHIFT;
	fr[1] = l4;
	expect(HYPERVISOR_set_gdt(fr, 1024), -XEN_EINVAL, "set_gdt with a bad second frame");

	/* A new GDT releases the old one's frame: writable again. */
	fr[0] = pv_ma(g2) >> PAGE_SHIFT;
	expect(HYPERVISOR_set_gdt(fr, 16), 0, "set_gdt of a second frame");
	expect(pv_remap(g, PAGE_KERNEL_RW), 0, "the old GDT frame writable again");
	/* A frame with a bad descriptor does not become a GDT. */
	g[12] = GATE(0xe008, 3);
	expect(pv_remap(g, PAGE_KERNEL_RO), 0, "map read-only again");
	fr[0] = ma >> PAGE_SHIFT;
	expect(HYPERVISOR_set_gdt(fr, 16), -XEN_EINVAL, "set_gdt of a frame with a gate to Xen");
	expect(HYPERVISOR_set_gdt(fr, 0), 0, "set_gdt with no entries");
	if (arg && !strcmp(arg, "keep")) {
		/* Leave a GDT in place: the domain's end must release its frame. */
		fr[0] = pv_ma(g2) >> PAGE_SHIFT;
		expect(HYPERVISOR_set_gdt(fr, 16), 0, "set_gdt kept to the end");
		printk("gdt: %s (GDT kept)\n", ok_all ? "ok" : "FAIL");
		return;
	}
	expect(pv_remap(g, PAGE_KERNEL_RW) | pv_remap(g2, PAGE_KERNEL_RW), 0,
	       "both frames writable after");
	page_free(g);
	page_free(g2);
	printk("gdt: %s\n", ok_all ? "ok" : "FAIL");
}
