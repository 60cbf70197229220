// SPDX-License-Identifier: MIT
// Magic SysRq from the toolstack (`xl sysrq`): control/sysrq, as Linux's Xen driver serves it
// (sysrq.c).
#ifndef SVK_SYSRQ_H
#define SVK_SYSRQ_H

/*
 * sysrq_init: watch control/sysrq (sent without waiting, as control_init
 * does).  When a letter appears the kernel clears the key in the same
 * transaction (the toolstack's acknowledgement, as Linux does) and acts
 * on it at the next wait: h help, b reboot, o poweroff, c crash, m memory
 * summary, t vCPU states; any other key gets a line saying it is unknown.
 * Returns 0 or -errno.
 */
int sysrq_init(void);

/* Act on one key, as if it came through control/sysrq. */
void sysrq_handle(char key);

#endif
