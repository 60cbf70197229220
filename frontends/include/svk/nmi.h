// SPDX-License-Identifier: MIT
// NMIs from the toolstack (`xl trigger <domain> nmi`): Xen's NMI callback (nmi.c).
#ifndef SVK_NMI_H
#define SVK_NMI_H

#include <svk/compiler.h>

/*
 * nmi_init: register the boot vCPU's NMI callback (CALLBACKOP_register,
 * CALLBACKTYPE_nmi; head.S's nmi_callback).  Needs the hypercall page.
 * Returns 0 or -errno.
 *
 * The handler runs whenever the hypervisor delivers an NMI, even inside
 * the event upcall, so it takes no lock and prints nothing: it counts, and
 * flags an upcall so that a SCHEDOP_block in progress returns.  The next
 * wait (wait_until's hook, the wait word) prints
 * "nmi: NMI received on vCPU 0 (N so far)".
 */
int nmi_init(void);

/* Whether an NMI came that nmi_report has not printed yet. */
bool nmi_report_pending(void);
/* Print the line for NMIs not reported yet (outside the upcall). */
void nmi_report(void);
/* NMIs received so far. */
unsigned long nmi_count(void);

#endif
