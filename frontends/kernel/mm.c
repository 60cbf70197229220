// SPDX-License-Identifier: MIT
// Guest memory: the p2m list and a page allocator for the frames after the bootstrap region.
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/shinfo.h>

/* Linker-script symbol: end of the kernel image (bss included). */
extern char _end[];

/*
 * The allocator's state, owned by this file.  Frames [mm_next, mm_limit)
 * have never been handed out; freed pages go on a list threaded through
 * their first word.  mm_limit drops to mm_next the first time a fresh frame
 * cannot be mapped.
 */
static unsigned long *p2m;
static unsigned long nr_pages;

/*
 * Frames past start_info's nr_pages (RAM laid out up to maxmem, ballooned
 * in later): their machine frames, in pages of 512 entries that
 * mm_p2m_grow takes from the allocator.  Owned by this file.
 */
#define P2M_PER_PAGE (PAGE_SIZE / sizeof(unsigned long))
#define P2M_EXT_PAGES 512
static unsigned long *p2m_ext[P2M_EXT_PAGES];
static unsigned long p2m_ext_nr;
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

	p2m = (unsigned long *)si->mfn_list;
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
	return nr_pages + p2m_ext_nr;
}

unsigned long pfn_to_mfn(unsigned long pfn)
{
	if (!p2m)
		return ~0UL;
	if (pfn < nr_pages)
		return p2m[pfn];
	pfn -= nr_pages;
	if (pfn >= p2m_ext_nr)
		return ~0UL;
	return p2m_ext[pfn / P2M_PER_PAGE][pfn % P2M_PER_PAGE];
}

void mm_p2m_set(unsigned long pfn, unsigned long mfn)
{
	if (!p2m)
		return;
	if (pfn < nr_pages) {
		p2m[pfn] = mfn;
		return;
	}
	pfn -= nr_pages;
	if (pfn < p2m_ext_nr)
		p2m_ext[pfn / P2M_PER_PAGE][pfn % P2M_PER_PAGE] = mfn;
}

int mm_p2m_grow(unsigned long frames)
{
	while (p2m && nr_pages + p2m_ext_nr < frames) {
		unsigned long i = p2m_ext_nr / P2M_PER_PAGE;
		unsigned long *page;

		if (i >= P2M_EXT_PAGES)
			return -XEN_E2BIG;
		page = page_alloc();
		if (!page)
			return -XEN_ENOMEM;
		for (unsigned long j = 0; j < P2M_PER_PAGE; j++)
			page[j] = ~0UL;
		p2m_ext[i] = page;
		p2m_ext_nr += P2M_PER_PAGE;
	}
	mm_p2m_publish();
	return 0;
}

/*
 * Xen's p2m frame-list tree, as Linux publishes it in shared_info for the
 * toolstack's save (libxc walks it): arch.pfn_to_mfn_frame_list_list is
 * the machine frame of a page listing the frames of the frame-list pages,
 * each listing the frames of up to 512 p2m pages (the leaves, 512 pfns
 * each), and arch.max_pfn is how many pfns the p2m covers.  The leaves are
 * the p2m's own pages: start_info's list, then mm_p2m_grow's pages, which
 * line up with leaves only when nr_pages is a multiple of 512 (otherwise
 * only start_info's pfns are published).  Owned by this file.
 */
#define P2M_FL_PAGES 4
static unsigned long *p2m_fll;
static unsigned long *p2m_fl[P2M_FL_PAGES];

static const void *p2m_leaf(unsigned long i)
{
	unsigned long pfn = i * P2M_PER_PAGE;

	if (pfn < nr_pages)
		return (const char *)p2m + i * PAGE_SIZE;
	return p2m_ext[(pfn - nr_pages) / P2M_PER_PAGE];
}

void mm_p2m_publish(void)
{
	unsigned long frames = mm_nr_pages(), leaves, fls;

	if (!p2m || !shared_info)
		return;
	if (p2m_ext_nr && nr_pages % P2M_PER_PAGE)
		frames = nr_pages;
	leaves = (frames + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	fls = (leaves + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	if (fls > P2M_FL_PAGES)
		return;
	if (!p2m_fll && !(p2m_fll = page_alloc()))
		return;
	for (unsigned long j = 0; j < fls; j++)
		if (!p2m_fl[j] && !(p2m_fl[j] = page_alloc()))
			return;
	for (unsigned long i = 0; i < leaves; i++)
		p2m_fl[i / P2M_PER_PAGE][i % P2M_PER_PAGE] = virt_to_mfn(p2m_leaf(i));
	for (unsigned long j = 0; j < fls; j++)
		p2m_fll[j] = virt_to_mfn(p2m_fl[j]);
	shared_info->arch.max_pfn = frames;
	shared_info->arch.pfn_to_mfn_frame_list_list = virt_to_mfn(p2m_fll);
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
