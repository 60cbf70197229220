// SPDX-License-Identifier: MIT
// Grant tables v1 of the guest kernel: table set-up, granting and revoking access (gnttab.c).
#ifndef SVK_GNTTAB_H
#define SVK_GNTTAB_H

#include <svk/compiler.h>
#include <svk/xen.h>

/* Frames of the table we ask for at most (512 v1 entries each). */
#define GNTTAB_MAX_FRAMES 4
/* Refs 0..7 are the toolstack's (console 0, xenstore 1), as in Xen. */
#define GNTTAB_RESERVED_REFS 8

/*
 * gnttab_init: GNTTABOP_query_size, then GNTTABOP_setup_table for the most
 * frames the hypervisor allows (at most GNTTAB_MAX_FRAMES), each mapped
 * with update_va_mapping into a reserved area of the kernel.  Returns 0
 * or -errno (the hypercall's, or the status it set).
 */
int gnttab_init(void);

/*
 * gnttab_suspend: before the suspend, map the table's bss pages back over
 * the hypervisor's frames (saved page tables must not hold them).
 * gnttab_resume: afterwards, GNTTABOP_setup_table again and remap (a
 * restored domain's table is new and empty: old refs are void, their
 * entries read 0, so gnttab_end_access frees them at once).  0 or -errno.
 */
int gnttab_suspend(void);
int gnttab_resume(void);

/* Whether gnttab_init succeeded, and how many refs the table has. */
bool gnttab_ready(void);
unsigned int gnttab_nr_refs(void);

/*
 * gnttab_grant_access: let domain @domid map or copy our machine frame
 * @mfn (read-only if @readonly).  Returns the grant ref (>= 8) or
 * -XEN_ENOSPC when every ref is in use, -XEN_ENODEV before gnttab_init.
 */
int gnttab_grant_access(domid_t domid, unsigned long mfn, bool readonly);

/*
 * gnttab_end_access: revoke @ref and free it.  Refuses with -XEN_EBUSY
 * while the other domain has it mapped (GTF_reading/GTF_writing set by the
 * hypervisor): the flags are cleared with a compare-and-exchange so a
 * mapping that starts meanwhile is seen.  -XEN_EINVAL for a ref not ours.
 */
int gnttab_end_access(grant_ref_t ref);

/*
 * gnttab_revoke_force: for the hostile words (hostile_rings.c): clear
 * @ref's flags whatever the other domain holds, as a guest can always do
 * by writing its own table.  The ref stays allocated (gnttab_end_access
 * frees it).  Returns the flags it found, or -XEN_EINVAL for a ref not ours.
 */
int gnttab_revoke_force(grant_ref_t ref);

/* gnttab_entry_flags: the current flags of @ref (for tests and reports). */
uint16_t gnttab_entry_flags(grant_ref_t ref);

/*
 * gnttab_copy: GNTTABOP_copy of @n ops.  Returns the hypercall's -errno, or
 * 0 when it ran; each op's status says how it went.
 */
int gnttab_copy(struct gnttab_copy *ops, unsigned int n);

#endif
