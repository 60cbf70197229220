/* SPDX-License-Identifier: MIT */
/* Xen's shutdown reasons by name, as the hypervisor logs them and xl prints them. */
#ifndef SV_SHUTDOWN_H
#define SV_SHUTDOWN_H

#include <stdint.h>
#include <xen/sched.h>

static inline const char *sv_shutdown_reason_name(uint32_t reason)
{
	switch (reason) {
	case SHUTDOWN_poweroff:
		return "poweroff";
	case SHUTDOWN_reboot:
		return "reboot";
	case SHUTDOWN_suspend:
		return "suspend";
	case SHUTDOWN_crash:
		return "crash";
	case SHUTDOWN_watchdog:
		return "watchdog";
	case SHUTDOWN_soft_reset:
		return "soft_reset";
	default:
		return "unknown";
	}
}

#endif
