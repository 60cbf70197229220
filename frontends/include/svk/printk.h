// SPDX-License-Identifier: MIT
// Formatted output of the guest kernel: kvsnprintf and printk (printk.c).
#ifndef SVK_PRINTK_H
#define SVK_PRINTK_H

#include <stdarg.h>
#include <svk/compiler.h>

/*
 * kvsnprintf: format into @buf (always NUL-terminated when @size > 0).
 * Conversions: %d %i %u %x %X %o %c %s %p %%, with the length modifiers
 * hh h l ll z, the flags '-' and '0', a field width and (for %s) a
 * precision; '*' reads either from the arguments.  Returns the length the
 * full output has, like C99 vsnprintf, so a result >= @size means the
 * output was truncated.  Unknown conversions are copied literally.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __printf(3, 0);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Longest line printk emits in one console write; longer output is cut. */
#define PRINTK_MAX 512

/* printk: format and write to the console in one console_write call. */
void printk(const char *fmt, ...) __printf(1, 2);

#endif
