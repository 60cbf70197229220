// SPDX-License-Identifier: MIT
// The tsc command word (tscword.c): Xen's time leaf and the TSC the guest sees.
#ifndef SVK_TSCWORD_H
#define SVK_TSCWORD_H
#include <svk/xen.h>
/* docs/guest-kernel.md says what it prints. */
void tsc_word(const start_info_t *si, const char *arg);
#endif
