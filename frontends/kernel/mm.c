// SPDX-License-Identifier: MIT
// Guest memory: the p2m list and a page allocator for the frames after the bootstrap region.
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>

/* Linker-script symbol: end of the kernel image (bss included). */
extern char _end[];

/*
 * The allocator's state, owned by this file.  Frames [mm_next, mm_limit)
 * have never been handed out; freed pages go on a list threaded through
 * their first word.  mm_limit drops to mm_next the first time a fresh frame
 * cannot be mapped.
 */
static const unsigned long *p2m;
static unsigned long nr_pages;
static unsigned long mm_next, mm_limit;
static void *free_list;
static unsigned long free_count;

static unsigned long max_ul(unsigned long a, unsigned long b)
{
	return a > b ? a : b;
}

/*
 * Xen's bootstrap layout (xen/xen.h, start_info): kernel, initrd, p2m list,
 * start_info, xenstore and console pages, page tables, boot stack, packed
 * in that order from VIRT_BASE; the stack is last.  Take the highest end
 * of everything we are told about, so the allocator never hands out a
 * frame in use even if a builder orders them differently.
 */
void mm_init(const start_info_t *si, unsigned long boot_sp)
{
	unsigned long end = (unsigned long)_end;

	p2m = (const unsigned long *)si->mfn_list;
	nr_pages = si->nr_pages;
	end = max_ul(end, si->mfn_list + si->nr_pages * sizeof(unsigned long));
	end = max_ul(end, (unsigned long)si + PAGE_SIZE);
	end = max_ul(end, si->pt_base + si->nr_pt_frames * PAGE_SIZE);
	end = max_ul(end, boot_sp);
	if (si->mod_len && !(si->flags & SIF_MOD_START_PFN))
		end = max_ul(end, si->mod_start + si->mod_len);
	mm_next = (ROUND_UP(end, PAGE_SIZE) - VIRT_BASE) >> PAGE_SHIFT;
	mm_limit = nr_pages;
	if (mm_next > mm_limit)
		mm_next = mm_limit;
}

unsigned long mm_nr_pages(void)
{
	return nr_pages;
}

unsigned long pfn_to_mfn(unsigned long pfn)
{
	if (!p2m || pfn >= nr_pages)
		return ~0UL;
	return p2m[pfn];
}

void *page_alloc(void)
{
	void *page;

	if (free_list) {
		page = free_list;
		free_list = *(void **)page;
		free_count--;
		memset(page, 0, PAGE_SIZE);
		return page;
	}
	while (mm_next < mm_limit) {
		unsigned long pfn = mm_next, mfn = pfn_to_mfn(pfn);
		uint64_t pte = ((uint64_t)mfn << PAGE_SHIFT) | PAGE_KERNEL_RW;

		if (mfn == ~0UL || mfn >> (52 - PAGE_SHIFT)) {
			mm_limit = mm_next; /* a hole or junk in the p2m */
			break;
		}
		page = pfn_to_virt(pfn);
		/*
		 * Xen maps at least 512 KiB past the bootstrap region, to a
		 * 4 MiB boundary; past that the L1 table may not exist, and
		 * the hypercall fails instead of us faulting.
		 */
		if (HYPERVISOR_update_va_mapping((unsigned long)page, pte,
						 UVMF_INVLPG | UVMF_LOCAL)) {
			mm_limit = mm_next;
			break;
		}
		mm_next++;
		memset(page, 0, PAGE_SIZE);
		return page;
	}
	return NULL;
}

void page_free(void *page)
{
	if (!page)
		return;
	*(void **)page = free_list;
	free_list = page;
	free_count++;
}

unsigned long mm_free_pages(void)
{
	return free_count + (mm_limit - mm_next);
}
