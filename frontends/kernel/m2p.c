// SPDX-License-Identifier: MIT
// Machine-to-physical lookups through the hypervisor's M2P, falling back to scanning the p2m.
#include <svk/hypercall.h>
#include <svk/m2p.h>
#include <svk/mm.h>

/* The M2P table the hypervisor maps read-only, owned by this file. */
static const unsigned long *m2p;
static unsigned long m2p_max_mfn;

int m2p_init(void)
{
	struct xen_machphys_mapping map = { 0 };
	int rc;

	rc = (int)HYPERVISOR_memory_op(XENMEM_machphys_mapping, &map);
	if (rc)
		return rc;
	if (!map.v_start || map.v_end <= map.v_start ||
	    (map.v_end - map.v_start) / sizeof(unsigned long) < map.max_mfn)
		return -XEN_EINVAL;
	m2p = (const unsigned long *)map.v_start;
	m2p_max_mfn = map.max_mfn;
	return 0;
}

unsigned long mfn_to_pfn(unsigned long mfn)
{
	unsigned long pfn, n = mm_nr_pages();

	if (m2p && mfn < m2p_max_mfn) {
		pfn = READ_ONCE(m2p[mfn]);
		if (pfn < n && pfn_to_mfn(pfn) == mfn)
			return pfn;
	}
	/* The slow way: a linear scan of our own p2m list. */
	for (pfn = 0; pfn < n; pfn++) {
		if (pfn_to_mfn(pfn) == mfn)
			return pfn;
	}
	return ~0UL;
}

void *mfn_to_virt(unsigned long mfn)
{
	unsigned long pfn = mfn_to_pfn(mfn);

	return pfn == ~0UL ? NULL : pfn_to_virt(pfn);
}
