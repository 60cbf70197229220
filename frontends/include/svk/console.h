// SPDX-License-Identifier: MIT
// The guest kernel's one console output function (console.c).
#ifndef SVK_CONSOLE_H
#define SVK_CONSOLE_H

#include <stddef.h>

/*
 * console_write: write @len bytes.  Today this goes through
 * HYPERVISOR_console_io(CONSOLEIO_write); a console-ring frontend can
 * replace the body later without touching callers.  The host side is
 * line-based, so callers end their lines with "\n".
 */
void console_write(const char *buf, size_t len);

#endif
