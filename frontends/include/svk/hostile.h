// SPDX-License-Identifier: MIT
// Containment-test words of the guest kernel: raw host system calls and bench-cpu (hostile.c).
#ifndef SVK_HOSTILE_H
#define SVK_HOSTILE_H

#include <svk/driver_words.h>

/*
 * hostile-syscall=NAME, hostile-int80=NAME, hostile-sysenter=NAME,
 * hostile-path=PATH, hostile-pid=N and bench-cpu=N (docs/guest-kernel.md).
 * commands.c looks words up here after its own table.
 */
extern const struct driver_word hostile_words[];
extern const unsigned hostile_nwords;

#endif
