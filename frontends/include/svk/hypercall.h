// SPDX-License-Identifier: MIT
// Hypercall wrappers: calls into the 32-byte stubs of the hypercall page.
#ifndef SVK_HYPERCALL_H
#define SVK_HYPERCALL_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * The hypervisor fills this page (named by XEN_ELFNOTE_HYPERCALL_PAGE) with
 * one 32-byte stub per hypercall number.  The x86-64 PV convention: number
 * fixed by the stub, arguments in rdi, rsi, rdx, r10, r8, result in rax
 * (0 or a negative Xen errno).  The stub may clobber rcx and r11 (syscall
 * path) and the argument registers, so all of them are outputs here.
 */
extern char hypercall_page[4096];

#define _hypercall5(nr, a1, a2, a3, a4, a5)                                                        \
	({                                                                                         \
		long __a1 = (long)(a1), __a2 = (long)(a2), __a3 = (long)(a3);                      \
		long __a4 = (long)(a4), __a5 = (long)(a5), __res;                                  \
		register long __r10 __asm__("r10") = __a4;                                         \
		register long __r8 __asm__("r8") = __a5;                                           \
		__asm__ __volatile__("call hypercall_page + %c[off]"                               \
				     : "=a"(__res), "+D"(__a1), "+S"(__a2), "+d"(__a3),            \
				       "+r"(__r10), "+r"(__r8)                                     \
				     : [off] "i"((nr)*32)                                          \
				     : "rcx", "r9", "r11", "memory", "cc");                        \
		__res;                                                                             \
	})

#define _hypercall0(nr) _hypercall5(nr, 0, 0, 0, 0, 0)
#define _hypercall1(nr, a1) _hypercall5(nr, a1, 0, 0, 0, 0)
#define _hypercall2(nr, a1, a2) _hypercall5(nr, a1, a2, 0, 0, 0)
#define _hypercall3(nr, a1, a2, a3) _hypercall5(nr, a1, a2, a3, 0, 0)
#define _hypercall4(nr, a1, a2, a3, a4) _hypercall5(nr, a1, a2, a3, a4, 0)

static inline long HYPERVISOR_console_io(int cmd, unsigned long count, const char *buf)
{
	return _hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
	return _hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
	return _hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
	return _hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

/* Rewrite the PTE mapping @va to @pte (a machine address plus _PAGE_* bits). */
static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
	return _hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

/* mmu_update: @count (ptr, val) requests; *@done gets how many were made (mmu.c in the hypervisor).
 */
static inline long HYPERVISOR_mmu_update(const void *reqs, unsigned int count, unsigned int *done,
					 unsigned int foreigndom)
{
	return _hypercall4(__HYPERVISOR_mmu_update, reqs, count, done, foreigndom);
}

static inline long HYPERVISOR_mmuext_op(const void *ops, unsigned int count, unsigned int *done,
					unsigned int foreigndom)
{
	return _hypercall4(__HYPERVISOR_mmuext_op, ops, count, done, foreigndom);
}

static inline long HYPERVISOR_update_va_mapping_otherdomain(unsigned long va, uint64_t pte,
							    unsigned long flags, unsigned int domid)
{
	return _hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, va, pte, flags, domid);
}

static inline long HYPERVISOR_callback_op(int cmd, void *arg)
{
	return _hypercall2(__HYPERVISOR_callback_op, cmd, arg);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
	return _hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_memory_op(int cmd, void *arg)
{
	return _hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_set_trap_table(const void *table)
{
	return _hypercall1(__HYPERVISOR_set_trap_table, table);
}

static inline long HYPERVISOR_multicall(void *entries, unsigned int nr)
{
	return _hypercall2(__HYPERVISOR_multicall, entries, nr);
}

static inline long HYPERVISOR_grant_table_op(int cmd, void *uop, unsigned int count)
{
	return _hypercall3(__HYPERVISOR_grant_table_op, cmd, uop, count);
}

#endif
