// SPDX-License-Identifier: MIT
/*
 * The ldt word: MMUEXT_SET_LDT with entries as a Xen PV kernel uses it
 * (Linux maps its LDT pages read-only, then sets the LDT; update_descriptor
 * writes its entries), with good and hostile arguments and Xen's answers.
 * Prints "ldt: FAIL what (rc)" per wrong answer and "ldt: ok" or "ldt: FAIL".
 * With "ldt=keep" the last LDT stays set (the domain's end releases it).
 */
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/privops.h>
#include <svk/pvmmu.h>

#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define CODE64_DPL0 0x00af9a000000ffffUL
#define CODE64_DPL3 0x00affa000000ffffUL
#define DATA_DPL0 0x00cf92000000ffffUL
#define DATA_DPL3 0x00cff2000000ffffUL

static bool ok_all;

static void expect(long rc, long want, const char *what)
{
	if (rc != want) {
		printk("ldt: FAIL %s (rc %ld, want %ld)\n", what, rc, want);
		ok_all = false;
	}
}

static long set_ldt(unsigned long va, unsigned int ents)
{
	struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };

	op.arg1.linear_addr = va;
	op.arg2.nr_ents = ents;
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static long update_descriptor(uint64_t ma, uint64_t desc)
{
	return _hypercall2(__HYPERVISOR_update_descriptor, ma, desc);
}

void ldt_word(const start_info_t *si, const char *arg)
{
	uint64_t *g = page_alloc();
	unsigned long va = (unsigned long)g;

	(void)si;
	ok_all = true;
	if (!g) {
		printk("ldt: FAIL no pages\n");
		return;
	}
	memset(g, 0, PAGE_SIZE);
	g[0] = CODE64_DPL0; /* as a native kernel writes them: Xen raises DPL 0 to 3 */
	g[1] = DATA_DPL0;

	/* Xen's checks first: refused, nothing changed. */
	expect(set_ldt(va + 8, 1), -XEN_EINVAL, "SET_LDT misaligned");
	expect(set_ldt(va, 8193), -XEN_EINVAL, "SET_LDT of 8193 entries");
	expect(set_ldt(0x0000800000000000UL, 1), -XEN_EINVAL, "SET_LDT not canonical");
	expect(set_ldt(0xffff800000000000UL, 1), -XEN_EINVAL, "SET_LDT in Xen's range");

	/* Still mapped writable: accepted as on Xen, but the page is not taken. */
	expect(set_ldt(va, 16), 0, "SET_LDT of a writable-mapped page");
	expect(g[0] == CODE64_DPL0, 1, "a writable-mapped LDT page left alone");
	expect(set_ldt(0, 0), 0, "SET_LDT 0/0");

	/* As Linux: read-only first.  Then it is a descriptor page, checked and fixed up. */
	expect(pv_remap(g, PAGE_KERNEL_RO), 0, "map read-only");
	expect(set_ldt(va, 16), 0, "SET_LDT");
	expect(g[0] == CODE64_DPL3 && g[1] == DATA_DPL3, 1, "DPL fixed up to 3");
	expect(pv_remap(g, PAGE_KERNEL_RW) != 0, 1, "mapping an LDT page writable");
	expect(update_descriptor(pv_ma(g) + 2 * 8, DATA_DPL0), 0, "update_descriptor in the LDT");
	expect(g[2] == DATA_DPL3, 1, "update_descriptor's DPL fixed up");
	expect(set_ldt(va + 8, 1), -XEN_EINVAL, "a bad SET_LDT with an LDT set");
	expect(pv_remap(g, PAGE_KERNEL_RW) != 0, 1, "the LDT in place after a bad SET_LDT");
	if (arg && !strcmp(arg, "keep")) {
		/* Leave the LDT in place: the domain's end must release its frame. */
		printk("ldt: %s (LDT kept)\n", ok_all ? "ok" : "FAIL");
		return;
	}
	/* No LDT: its page goes back and may be writable again. */
	expect(set_ldt(0, 0), 0, "SET_LDT 0/0 after");
	expect(pv_remap(g, PAGE_KERNEL_RW), 0, "the LDT page writable again");
	page_free(g);
	printk("ldt: %s\n", ok_all ? "ok" : "FAIL");
}
