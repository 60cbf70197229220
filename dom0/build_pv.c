// SPDX-License-Identifier: MIT
/* The x86-64 PV domain builder: memory layout, bootstrap page tables, start_info, vCPU 0. */
#include <stdint.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "build.h"
#include "sv/pvabi.h"

#define PAGE 4096ULL
#define PTE_P 0x001ULL
#define PTE_RW 0x002ULL
#define PTE_US 0x004ULL
#define PTE_A 0x020ULL
#define PTE_D 0x040ULL
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

struct builder {
	uint8_t *mem; /* the whole memfd */
	struct sv_ctl_memory m;
	uint64_t nr_pages;  /* populated at start (start_info's nr_pages) */
	uint64_t nr_frames; /* RAM frames laid out (up to maxmem) */
	uint64_t virt_base;
};

/* Pseudo-physical to machine (= guest-physical) frame, via the RAM ranges. */
static uint64_t pfn_to_mfn(const struct builder *b, uint64_t pfn)
{
	uint64_t off = pfn * PAGE;

	for (unsigned i = 0; i < b->m.nr_ranges; i++) {
		const struct sv_mem_range *r = &b->m.ram[i];
		if (off >= r->offset && off < r->offset + r->size)
			return (r->gpa + (off - r->offset)) / PAGE;
	}
	return ~0ULL;
}

/* RAM is laid in the memfd in pfn order, so a pfn's bytes are at pfn * 4 KiB. */
static void *pfn_ptr(const struct builder *b, uint64_t pfn)
{
	return b->mem + pfn * PAGE;
}

static uint64_t va_of(const struct builder *b, uint64_t pfn)
{
	return b->virt_base + pfn * PAGE;
}

/* Whether pfn holds a page table of ours: mapped read-only, as a PV guest must not write them. */
static bool is_table(const struct sv_pv_plan *p, uint64_t pfn)
{
	return (pfn >= p->pt_pfn && pfn < p->pt_pfn + p->nr_pt) ||
	       (p->p2m_mapped && pfn >= p->p2m_pt_pfn && pfn < p->p2m_pt_pfn + p->p2m_nr_pt);
}

/*
 * Maps [va, va_end) to the pfns from pfn0 on, in the tables under the L4
 * at pt_pfn, taking new tables from *next; pfns past the populated ones
 * get their tables but no entry.
 */
static void map_range(struct builder *b, const struct sv_pv_plan *p, uint64_t va, uint64_t va_end,
		      uint64_t pfn0, uint64_t *next)
{
	uint64_t *l4 = pfn_ptr(b, p->pt_pfn);

	for (uint64_t pfn = pfn0; va < va_end; va += PAGE, pfn++) {
		uint64_t *l3, *l2, *l1;
		unsigned i4 = (va >> 39) & 511, i3 = (va >> 30) & 511, i2 = (va >> 21) & 511,
			 i1 = (va >> 12) & 511;

		if (!(l4[i4] & PTE_P))
			l4[i4] = (pfn_to_mfn(b, (*next)++) * PAGE) | PTE_TABLE;
		l3 = pfn_ptr(b, (l4[i4] & ~0xfffULL) / PAGE); /* mfn == pfn below 3 GiB */
		if (!(l3[i3] & PTE_P))
			l3[i3] = (pfn_to_mfn(b, (*next)++) * PAGE) | PTE_TABLE;
		l2 = pfn_ptr(b, (l3[i3] & ~0xfffULL) / PAGE);
		if (!(l2[i2] & PTE_P))
			l2[i2] = (pfn_to_mfn(b, (*next)++) * PAGE) | PTE_TABLE;
		l1 = pfn_ptr(b, (l2[i2] & ~0xfffULL) / PAGE);

		uint64_t flags = PTE_P | PTE_US | PTE_A | PTE_D;
		if (pfn >= b->nr_pages)
			continue; /* not populated: the table exists, the entry stays empty */
		if (!is_table(p, pfn))
			flags |= PTE_RW;
		l1[i1] = (pfn_to_mfn(b, pfn) * PAGE) | flags;
	}
}

/*
 * The bootstrap tables: [virt_base, map_end) to pfn 0.., in the pfns from
 * pt_pfn on; with INIT_P2M also the p2m list at p2m_base, in its own
 * tables after it (sharing the L4).
 */
static void build_tables(struct builder *b, const struct sv_pv_plan *p)
{
	uint64_t next = p->pt_pfn + 1;

	memset(pfn_ptr(b, p->pt_pfn), 0, p->nr_pt * PAGE);
	map_range(b, p, p->virt_base, p->map_end, 0, &next);
	if (p->p2m_mapped) {
		next = p->p2m_pt_pfn;
		memset(pfn_ptr(b, p->p2m_pt_pfn), 0, p->p2m_nr_pt * PAGE);
		map_range(b, p, p->p2m_base, p->p2m_base + p->p2m_pages * PAGE, p->p2m_pfn, &next);
	}
}

int sv_build_pv(struct svctl *c, uint32_t domid, const struct sv_pv_image *img,
		struct sv_pv_layout *out, char *err, size_t errlen)
{
	const struct sv_elf *elf = img->kernel;
	struct builder b = { 0 };
	int memfd = -1, ret;
	struct sv_pv_plan plan;
	uint64_t kern_end_pfn, rd_pfn, p2m_pfn, si_pfn, store_pfn, cons_pfn, pt_pfn, nr_pt,
	    stack_pfn, virt_end;

	ret = svctl_domain_memory(c, domid, &b.m, &memfd);
	if (ret)
		return fail(err, errlen, ret, "cannot get the memory of domain %u: %s", domid,
			    strerror(-ret));
	if (b.m.nr_ranges < 1 || b.m.nr_ranges > 2 || b.m.ram[0].offset != 0) {
		ret = fail(err, errlen, -EPROTO, "hypervisor reported a bad memory layout");
		goto out_close;
	}
	b.nr_frames = b.m.ram_kb / 4;
	b.nr_pages = (b.m.boot_kb ? b.m.boot_kb : b.m.ram_kb) / 4;
	if (b.nr_pages > b.nr_frames) {
		ret = fail(err, errlen, -EPROTO, "hypervisor reported a bad memory layout");
		goto out_close;
	}
	b.mem = mmap(NULL, b.m.memfd_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (b.mem == MAP_FAILED) {
		ret = fail(err, errlen, -errno, "cannot map guest memory: %s", strerror(errno));
		goto out_close;
	}
	ret = sv_pv_plan(elf, b.nr_pages, b.nr_frames, img->ramdisk_size, &plan, err, errlen);
	if (ret)
		goto out_unmap;
	b.virt_base = plan.virt_base;
	kern_end_pfn = plan.kernel_end_pfn;
	rd_pfn = plan.ramdisk_pfn;
	p2m_pfn = plan.p2m_pfn;
	si_pfn = plan.start_info_pfn;
	store_pfn = plan.store_pfn;
	cons_pfn = plan.console_pfn;
	pt_pfn = plan.pt_pfn;
	nr_pt = plan.nr_pt;
	stack_pfn = plan.stack_pfn;
	virt_end = plan.map_end;
	ret = sv_elf_load(elf, pfn_ptr(&b, 0), b.virt_base, kern_end_pfn * PAGE, err, errlen);
	if (ret)
		goto out_unmap;
	if (img->ramdisk_size)
		memcpy(pfn_ptr(&b, rd_pfn), img->ramdisk, img->ramdisk_size);

	/* The p2m list: pfn -> mfn for every page of the domain. */
	uint64_t *p2m = pfn_ptr(&b, p2m_pfn);
	for (uint64_t pfn = 0; pfn < b.nr_pages; pfn++)
		p2m[pfn] = pfn_to_mfn(&b, pfn);

	build_tables(&b, &plan);

	start_info_t *si = pfn_ptr(&b, si_pfn);
	memset(si, 0, PAGE);
	snprintf(si->magic, sizeof(si->magic), "xen-3.0-x86_64");
	si->nr_pages = b.nr_pages;
	si->shared_info = SV_SHARED_INFO_GPA;
	si->flags = 0;
	si->store_mfn = pfn_to_mfn(&b, store_pfn);
	si->store_evtchn = img->store_evtchn;
	si->console.domU.mfn = pfn_to_mfn(&b, cons_pfn);
	si->console.domU.evtchn = img->console_evtchn;
	si->pt_base = va_of(&b, pt_pfn);
	si->nr_pt_frames = nr_pt;
	si->mfn_list = va_of(&b, p2m_pfn);
	if (plan.p2m_mapped) { /* INIT_P2M, as Xen's start_info_x86_64 says it */
		si->mfn_list = plan.p2m_base;
		si->first_p2m_pfn = p2m_pfn;
		si->nr_p2m_frames = plan.p2m_pages + plan.p2m_nr_pt;
	}
	if (img->ramdisk_size) {
		si->mod_start = va_of(&b, rd_pfn);
		si->mod_len = img->ramdisk_size;
	}
	if (img->cmdline)
		snprintf((char *)si->cmd_line, sizeof(si->cmd_line), "%s", img->cmdline);
	memset(pfn_ptr(&b, store_pfn), 0, PAGE);
	memset(pfn_ptr(&b, cons_pfn), 0, PAGE);

	if (elf->notes.has_hypercall_page) {
		uint64_t hp = elf->notes.hypercall_page;
		ret = svctl_set_hypercall_page(c, domid,
					       pfn_to_mfn(&b, (hp - b.virt_base) / PAGE) * PAGE);
		if (ret) {
			ret = fail(err, errlen, ret, "cannot install the hypercall page: %s",
				   strerror(-ret));
			goto out_unmap;
		}
	}

	struct vcpu_guest_context *ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		ret = fail(err, errlen, -ENOMEM, "out of memory");
		goto out_unmap;
	}
	ctx->flags = VGCF_in_kernel | VGCF_online;
	ctx->user_regs.rip = sv_elf_pv_entry(elf);
	ctx->user_regs.rsp = va_of(&b, stack_pfn) + PAGE;
	ctx->user_regs.rsi = va_of(&b, si_pfn);
	ctx->user_regs.rflags = 0x200;
	ctx->user_regs.cs = FLAT_KERNEL_CS;
	ctx->user_regs.ss = FLAT_KERNEL_SS;
	ctx->user_regs.ds = ctx->user_regs.es = FLAT_KERNEL_DS;
	ctx->kernel_ss = FLAT_KERNEL_SS;
	ctx->kernel_sp = ctx->user_regs.rsp;
	ctx->ctrlreg[3] = xen_pfn_to_cr3(pfn_to_mfn(&b, pt_pfn));
	ret = svctl_vcpu_set_context(c, domid, 0, ctx);
	free(ctx);
	if (ret) {
		ret = fail(err, errlen, ret, "cannot set vCPU 0's registers: %s", strerror(-ret));
		goto out_unmap;
	}
	if (out) {
		out->nr_pages = b.nr_pages;
		out->virt_base = b.virt_base;
		out->virt_end = virt_end;
		out->start_info_va = va_of(&b, si_pfn);
		out->p2m_va = si->mfn_list;
		out->pt_va = va_of(&b, pt_pfn);
		out->stack_top_va = va_of(&b, stack_pfn) + PAGE;
		out->store_mfn = si->store_mfn;
		out->console_mfn = si->console.domU.mfn;
		out->nr_pt_frames = nr_pt;
	}
	ret = 0;
out_unmap:
	munmap(b.mem, b.m.memfd_size);
out_close:
	close(memfd);
	return ret;
}
