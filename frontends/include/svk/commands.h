// SPDX-License-Identifier: MIT
// The command words the guest kernel runs from its command line (commands.c).
#ifndef SVK_COMMANDS_H
#define SVK_COMMANDS_H

#include <svk/compiler.h>
#include <svk/xen.h>

/* Whether @cmdline holds the word @word (exactly, as a whole word). */
bool commands_has_word(const char *cmdline, const char *word);

/*
 * commands_run: run each word of @cmdline in order (see
 * docs/guest-kernel.md), then print "poweroff" and power off.  Commands
 * such as halt, reboot and crash end the domain before that.
 */
void commands_run(const start_info_t *si, const char *cmdline) __noreturn;

#endif
