// SPDX-License-Identifier: MIT
// Guest memory: address translation and the page allocator (mm.c).
#ifndef SVK_MM_H
#define SVK_MM_H

#include <svk/compiler.h>
#include <svk/xen.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)

/*
 * Where the kernel is linked and the bootstrap region is mapped: 1 GiB, in
 * the lower half, so one image runs on both engines (the process engine
 * can only give a guest lower-half addresses; KVM runs it anywhere).  The
 * host test builds its own copy with SVK_VIRT_BASE.
 */
#ifdef SVK_VIRT_BASE
#define VIRT_BASE SVK_VIRT_BASE
#else
#define VIRT_BASE 0x40000000UL
#endif

/* x86 PTE bits (the PV guest writes PTEs only through hypercalls). */
#define _PAGE_PRESENT 0x001UL
#define _PAGE_RW 0x002UL
#define _PAGE_USER 0x004UL
#define _PAGE_ACCESSED 0x020UL
#define _PAGE_DIRTY 0x040UL
#define PAGE_KERNEL_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

/*
 * The bootstrap region maps pseudo-physical frame N at VIRT_BASE + N pages
 * (Xen's PV layout), so these are plain arithmetic.
 */
static inline unsigned long virt_to_pfn(const void *va)
{
	return ((unsigned long)va - VIRT_BASE) >> PAGE_SHIFT;
}

static inline void *pfn_to_virt(unsigned long pfn)
{
	return (void *)(VIRT_BASE + (pfn << PAGE_SHIFT));
}

/*
 * mm_init: remember the p2m list and find the free frames after the
 * bootstrap region (which ends above every element start_info names and
 * above @boot_sp, the stack pointer the domain builder gave us).
 */
void mm_init(const start_info_t *si, unsigned long boot_sp);

/*
 * Pfns the p2m covers (start_info's nr_pages, more once the balloon grew
 * it for maxmem), and the machine frame of a pfn (~0UL: none).
 */
unsigned long mm_nr_pages(void);
unsigned long pfn_to_mfn(unsigned long pfn);

/*
 * The p2m as the balloon changes it: mm_p2m_set records pfn's machine
 * frame (~0UL: given back); mm_p2m_grow makes room for pfns up to
 * @frames, past start_info's nr_pages (0, or -errno).
 */
void mm_p2m_set(unsigned long pfn, unsigned long mfn);
int mm_p2m_grow(unsigned long frames);

/*
 * Publish the p2m in shared_info as Xen's frame-list tree
 * (arch.pfn_to_mfn_frame_list_list, arch.max_pfn) for the toolstack's
 * save; again after shared_info is mapped anew (resume) and as the p2m grows.
 */
void mm_p2m_publish(void);

static inline unsigned long virt_to_mfn(const void *va)
{
	return pfn_to_mfn(virt_to_pfn(va));
}

/*
 * page_alloc: one zeroed, mapped, writable page, or NULL when none is left.
 * Pages come from the frames after the bootstrap region; each fresh frame
 * is (re)mapped with update_va_mapping first, so a frame the builder did
 * not map is found and never touched.  Boot vCPU only (no locking yet).
 */
void *page_alloc(void);

/* page_free: give back a page from page_alloc. */
void page_free(void *page);

/* Pages page_alloc could still hand out without a failed mapping. */
unsigned long mm_free_pages(void);

#endif
