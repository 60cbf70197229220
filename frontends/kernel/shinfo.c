// SPDX-License-Identifier: MIT
// Maps the domain's shared_info page over a reserved bss page.
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/shinfo.h>

/* The page whose mapping is replaced; owned by this file. */
static char shinfo_page[PAGE_SIZE] __aligned(PAGE_SIZE);

struct shared_info *shared_info;

int shinfo_map(const start_info_t *si)
{
	uint64_t pte = (si->shared_info & ~(PAGE_SIZE - 1)) | PAGE_KERNEL_RW;
	long rc;

	rc =
	    HYPERVISOR_update_va_mapping((unsigned long)shinfo_page, pte, UVMF_INVLPG | UVMF_LOCAL);
	if (rc)
		return (int)rc;
	shared_info = (struct shared_info *)shinfo_page;
	mm_p2m_publish();
	return 0;
}

/*
 * As Linux's pre-suspend: the page tables must not keep the hypervisor's
 * shared_info frame (a restored domain has another), so the page's own
 * frame goes back under it, every vcpu_info there masked, until
 * shinfo_map maps the real one again.  The caller masked this vCPU's
 * events in the real page first and parked the others.
 */
int shinfo_suspend(void)
{
	uint64_t pte = ((uint64_t)virt_to_mfn(shinfo_page) << PAGE_SHIFT) | PAGE_KERNEL_RW;
	long rc;

	rc =
	    HYPERVISOR_update_va_mapping((unsigned long)shinfo_page, pte, UVMF_INVLPG | UVMF_LOCAL);
	if (rc)
		return (int)rc;
	memset(shinfo_page, 0, sizeof(shinfo_page));
	for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
		((struct shared_info *)shinfo_page)->vcpu_info[i].evtchn_upcall_mask = 1;
	return 0;
}
