// SPDX-License-Identifier: MIT
// NMIs of the guest kernel: the callback Xen enters, a count, a line printed later.
#include <svk/hypercall.h>
#include <svk/nmi.h>
#include <svk/printk.h>
#include <svk/shinfo.h>

/* head.S: the entry point Xen bounces an NMI to. */
extern char nmi_callback[];

/* Called from head.S. */
void nmi_do(void);

/* Owned by this file; nr_nmis is written only by the handler. */
static unsigned long nr_nmis, nr_reported;

int nmi_init(void)
{
	struct callback_register cb = {
		.type = CALLBACKTYPE_nmi,
		.flags = 0,
		.address = (xen_callback_t)nmi_callback,
	};

	return (int)HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
}

/*
 * Entered with events masked; Xen sends no further NMI until the iret in
 * head.S.  Flagging an upcall makes a SCHEDOP_block about to sleep (or
 * asleep: the hypervisor woke us for the NMI) return, so the wait loop
 * comes round to nmi_report.
 */
void nmi_do(void)
{
	WRITE_ONCE(nr_nmis, nr_nmis + 1);
	if (shared_info)
		WRITE_ONCE(shared_info->vcpu_info[0].evtchn_upcall_pending, 1);
}

bool nmi_report_pending(void)
{
	return READ_ONCE(nr_nmis) != nr_reported;
}

void nmi_report(void)
{
	unsigned long n = READ_ONCE(nr_nmis);

	if (n == nr_reported)
		return;
	nr_reported = n;
	printk("nmi: NMI received on vCPU 0 (%lu so far)\n", n);
}

unsigned long nmi_count(void)
{
	return READ_ONCE(nr_nmis);
}
