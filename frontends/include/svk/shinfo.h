// SPDX-License-Identifier: MIT
// The domain's shared_info page, mapped into the kernel (shinfo.c).
#ifndef SVK_SHINFO_H
#define SVK_SHINFO_H

#include <svk/xen.h>

/* The mapped shared_info, or NULL before shinfo_map or after it failed. */
extern struct shared_info *shared_info;

/*
 * shinfo_map: map the machine page start_info->shared_info over a
 * page-aligned bss page with update_va_mapping.  Returns 0 or the
 * hypercall's -errno (shared_info stays NULL then).
 */
int shinfo_map(const start_info_t *si);

/*
 * shinfo_suspend: before SCHEDOP_shutdown(SHUTDOWN_suspend), put the bss
 * page's own frame back under the mapping (zeroed, every vcpu_info
 * masked), as Linux unmaps shared_info before suspending: saved page
 * tables then hold no hypervisor frame.  shinfo_map maps the real page
 * again afterwards (start_info says where).  0 or -errno.
 */
int shinfo_suspend(void);

#endif
