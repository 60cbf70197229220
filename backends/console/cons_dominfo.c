// SPDX-License-Identifier: MIT
// Whether a domain still lives, asked of the hypervisor (Xen's xenconsoled uses xc_domain_getinfo).
#include <errno.h>
#include <string.h>

#include "sv/svctl.h"
#include "cons_daemon.h"

/*
 * True when the hypervisor says DOMID is gone or dying.  Unknown answers
 * (no hypervisor connection) keep the domain: xenstore still removes it
 * when the toolstack cleans up.  The control connection is opened on first
 * use and reopened after a transport error.
 */
bool cons_dominfo_dead(struct cons_daemon *d, uint32_t domid)
{
	struct sv_dominfo info;
	int ret;

	if (!d->ctl) {
		d->ctl = svctl_open(d->rundir);
		if (!d->ctl) {
			cons_log("hypervisor control socket: %m");
			return false;
		}
	}
	ret = svctl_domain_info(d->ctl, domid, &info);
	if (ret == -ESRCH)
		return true;
	if (ret < 0) {
		cons_log("domain %u: asking the hypervisor: %s", domid, strerror(-ret));
		svctl_close(d->ctl);
		d->ctl = NULL;
		return false;
	}
	return (info.flags & SV_DOMF_DYING) != 0;
}

void cons_dominfo_close(struct cons_daemon *d)
{
	if (d->ctl)
		svctl_close(d->ctl);
	d->ctl = NULL;
}
