// SPDX-License-Identifier: MIT
// Compiler helpers for the PV guest kernel: attributes, barriers, atomics.
#ifndef SVK_COMPILER_H
#define SVK_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define __noreturn __attribute__((noreturn))
#define __aligned(x) __attribute__((aligned(x)))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused __attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ROUND_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ROUND_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))

/*
 * Barriers for memory shared with the hypervisor and other vCPUs.  x86 keeps
 * loads and stores in order except store->load, so read and write barriers
 * only have to stop the compiler; a full barrier needs a fence.
 */
#define barrier() __asm__ __volatile__("" ::: "memory")
#define xen_mb() __asm__ __volatile__("mfence" ::: "memory")
#define xen_rmb() barrier()
#define xen_wmb() barrier()

/* Reads and writes the compiler must emit exactly once. */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
