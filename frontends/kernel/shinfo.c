// SPDX-License-Identifier: MIT
// Maps the domain's shared_info page over a reserved bss page.
#include <svk/hypercall.h>
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
	return 0;
}
