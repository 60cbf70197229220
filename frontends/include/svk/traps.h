/* SPDX-License-Identifier: MIT */
/* The traps word (traps.c): a trap table and the guest's own exception handlers. */
#ifndef SVK_TRAPS_H
#define SVK_TRAPS_H

#include <xen/xen.h>

/* Registers a trap table, raises #UD #DE #BP #GP #PF and int $0x80, handles each, says "traps: ok".
 */
void traps_selftest(const start_info_t *si, const char *arg);

#endif
