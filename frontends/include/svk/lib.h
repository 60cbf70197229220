// SPDX-License-Identifier: MIT
// Freestanding string and number helpers of the guest kernel (lib.c).
#ifndef SVK_LIB_H
#define SVK_LIB_H

#include <stddef.h>
#include <stdint.h>

/*
 * The C names are kept because the compiler emits calls to memcpy, memset,
 * memmove and memcmp on its own.  lib.c also builds hosted, for the unit
 * test, where these definitions take the place of libc's.
 */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/*
 * parse_u64: parse all of @s as an unsigned number (decimal, or hex after
 * "0x").  Returns 0 and sets *@out, -XEN_EINVAL for an empty string or junk,
 * -XEN_ERANGE when the value does not fit in 64 bits.
 */
int parse_u64(const char *s, uint64_t *out);

#endif
