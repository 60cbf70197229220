// SPDX-License-Identifier: MIT
// Grant tables v1: the shared table frames, a free-ref list, granting and revoking.
#include <svk/gnttab.h>
#include <svk/hypercall.h>
#include <svk/mm.h>

#define ENTRIES_PER_FRAME (PAGE_SIZE / sizeof(grant_entry_v1_t))
#define MAX_REFS (GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME)

/*
 * The table: a page-aligned bss area whose pages are remapped onto the
 * frames GNTTABOP_setup_table hands out.  The free refs form a list
 * threaded through free_next; state owned by this file (boot vCPU only).
 */
static char table_area[GNTTAB_MAX_FRAMES][PAGE_SIZE] __aligned(PAGE_SIZE);
static grant_entry_v1_t *table;
static unsigned int nr_refs;
static uint16_t free_next[MAX_REFS];
static bool in_use[MAX_REFS];
static unsigned int free_head; /* 0: empty (ref 0 is reserved) */

/* GNTTABOP_setup_table for @n frames, each mapped over table_area.  0 or -errno. */
static int map_frames(unsigned int n)
{
	struct gnttab_setup_table st = { .dom = DOMID_SELF };
	xen_pfn_t frames[GNTTAB_MAX_FRAMES];
	unsigned int i;
	int rc;

	st.nr_frames = n;
	set_xen_guest_handle(st.frame_list, frames);
	rc = (int)HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	if (rc)
		return rc;
	if (st.status != GNTST_okay)
		return -XEN_EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t pte = ((uint64_t)frames[i] << PAGE_SHIFT) | PAGE_KERNEL_RW;

		if (frames[i] >> (52 - PAGE_SHIFT))
			return -XEN_EINVAL;
		rc = (int)HYPERVISOR_update_va_mapping((unsigned long)table_area[i], pte,
						       UVMF_INVLPG | UVMF_LOCAL);
		if (rc)
			return rc;
	}
	return 0;
}

int gnttab_init(void)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };
	unsigned int n, i;
	int rc;

	rc = (int)HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
	if (rc)
		return rc;
	if (q.status != GNTST_okay)
		return -XEN_EINVAL;
	n = q.max_nr_frames < GNTTAB_MAX_FRAMES ? q.max_nr_frames : GNTTAB_MAX_FRAMES;
	if (n == 0)
		return -XEN_ENOSPC;
	rc = map_frames(n);
	if (rc)
		return rc;
	table = (grant_entry_v1_t *)table_area;
	nr_refs = n * ENTRIES_PER_FRAME;
	/* Free list: 8, 9, ..., nr_refs - 1. */
	free_head = 0;
	for (i = nr_refs; i-- > GNTTAB_RESERVED_REFS;) {
		free_next[i] = (uint16_t)free_head;
		free_head = i;
	}
	return 0;
}

/*
 * As Linux's gnttab_suspend: the table's pages get their own bss frames
 * back, so the saved page tables hold no hypervisor frame.  Nothing
 * touches the table until gnttab_resume.
 */
int gnttab_suspend(void)
{
	int rc;

	if (!table)
		return 0;
	for (unsigned int i = 0; i < nr_refs / ENTRIES_PER_FRAME; i++) {
		uint64_t pte = ((uint64_t)virt_to_mfn(table_area[i]) << PAGE_SHIFT) |
			       PAGE_KERNEL_RW;

		rc = (int)HYPERVISOR_update_va_mapping((unsigned long)table_area[i], pte,
						       UVMF_INVLPG | UVMF_LOCAL);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * After the suspend, cancelled or not: setup_table again and map its
 * frames.  In a restored domain the table is new and empty: every ref we
 * had granted is void there (its entry reads 0), so the owners' ends of
 * access succeed and free them; refs stay allocated until then.
 */
int gnttab_resume(void)
{
	if (!table)
		return 0;
	return map_frames(nr_refs / ENTRIES_PER_FRAME);
}

bool gnttab_ready(void)
{
	return table != NULL;
}

unsigned int gnttab_nr_refs(void)
{
	return nr_refs;
}

int gnttab_grant_access(domid_t domid, unsigned long mfn, bool readonly)
{
	grant_ref_t ref;

	if (!table)
		return -XEN_ENODEV;
	if (!free_head)
		return -XEN_ENOSPC;
	if (mfn > UINT32_MAX) /* v1 entries hold 32-bit frames */
		return -XEN_ERANGE;
	ref = free_head;
	free_head = free_next[ref];
	in_use[ref] = true;
	table[ref].frame = (uint32_t)mfn;
	table[ref].domid = domid;
	/* Frame and domid before the flag that makes the entry valid. */
	xen_wmb();
	WRITE_ONCE(table[ref].flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
	return (int)ref;
}

int gnttab_end_access(grant_ref_t ref)
{
	uint16_t flags;

	if (!table || ref < GNTTAB_RESERVED_REFS || ref >= nr_refs || !in_use[ref])
		return -XEN_EINVAL;
	flags = READ_ONCE(table[ref].flags);
	do {
		if (flags & (GTF_reading | GTF_writing))
			return -XEN_EBUSY;
	} while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	in_use[ref] = false;
	free_next[ref] = (uint16_t)free_head;
	free_head = ref;
	return 0;
}

int gnttab_revoke_force(grant_ref_t ref)
{
	if (!table || ref < GNTTAB_RESERVED_REFS || ref >= nr_refs || !in_use[ref])
		return -XEN_EINVAL;
	return __atomic_exchange_n(&table[ref].flags, (uint16_t)0, __ATOMIC_SEQ_CST);
}

uint16_t gnttab_entry_flags(grant_ref_t ref)
{
	if (!table || ref >= nr_refs)
		return 0;
	return READ_ONCE(table[ref].flags);
}

int gnttab_copy(struct gnttab_copy *ops, unsigned int n)
{
	return (int)HYPERVISOR_grant_table_op(GNTTABOP_copy, ops, n);
}
