# SPDX-License-Identifier: MIT
# Entry points of the guest kernel, its Xen ELF notes and the hypercall page.
#include <xen/elfnote.h>
#include <xen/xen.h>

#ifdef SVK_VIRT_BASE
#define VIRT_BASE SVK_VIRT_BASE
#else
#define VIRT_BASE 0x40000000
#endif

/*
 * One ELF note named "Xen" (namesz 4 with the NUL), of the given type,
 * whose descriptor is the rest of the line.  Name and descriptor are each
 * padded to 4 bytes, as the ELF note format wants.
 */
.macro XEN_NOTE type, desc:vararg
	.balign 4
	.long 2f - 1f
	.long 4f - 3f
	.long \type
1:	.asciz "Xen"
2:	.balign 4
3:	\desc
4:	.balign 4
.endm

	.section .note.Xen, "a", @note
	XEN_NOTE XEN_ELFNOTE_GUEST_OS, .asciz "Splitvisor"
	XEN_NOTE XEN_ELFNOTE_GUEST_VERSION, .asciz "0.1"
	XEN_NOTE XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0"
	XEN_NOTE XEN_ELFNOTE_LOADER, .asciz "generic"
	XEN_NOTE XEN_ELFNOTE_VIRT_BASE, .quad VIRT_BASE
	XEN_NOTE XEN_ELFNOTE_PADDR_OFFSET, .quad 0
	XEN_NOTE XEN_ELFNOTE_ENTRY, .quad _start
	XEN_NOTE XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page
	XEN_NOTE XEN_ELFNOTE_PAE_MODE, .asciz "yes"
	XEN_NOTE XEN_ELFNOTE_FEATURES, .asciz "!writable_page_tables"
	XEN_NOTE XEN_ELFNOTE_BSD_SYMTAB, .asciz "no"
	XEN_NOTE XEN_ELFNOTE_SUSPEND_CANCEL, .long 1

/*
 * _start: the domain builder enters here in long mode at CPL3 with rsi =
 * start_info and rsp = the top of its boot stack, the bootstrap region
 * mapped at VIRT_BASE.  Zero .bss (the builder did, but it is cheap), move
 * to our own stack and call kernel_main(start_info, builder's rsp).
 */
	.section .text.head, "ax"
	.globl _start
_start:
	cld
	movq %rsi, %r12
	movq %rsp, %r13
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	leaq boot_stack_top(%rip), %rsp
	movq %r12, %rdi
	movq %r13, %rsi
	call kernel_main
	ud2

/*
 * smp_secondary_entry: where VCPUOP_initialise starts each secondary vCPU,
 * rdi = its id, rsp = the top of its own stack (16-byte aligned).
 */
	.globl smp_secondary_entry
smp_secondary_entry:
	cld
	call smp_secondary_main
	ud2

/*
 * XEN_BOUNCE_ENTRY: an entry Xen bounces to on x86-64 PV.  Xen left, from
 * the stack pointer up: rcx, r11, then an iret frame (rip, cs, rflags,
 * rsp, ss) with events masked.  Restore rcx and r11, save the registers C
 * may clobber, run the handler, and return with HYPERVISOR_iret, whose
 * frame is rax, r11, rcx, flags (0: not a syscall return), then the iret
 * frame; it also restores the event mask from the saved rflags.IF.
 * Xen aligned the frame to 16 bytes: 5 qwords + 9 saved = 112 keeps the
 * call aligned.
 */
/* The registers C may clobber (9 qwords), saved around a handler's call. */
.macro SAVE_CALLER_REGS
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
.endm

/*
 * Restore them and return with HYPERVISOR_iret, whose frame is rax, r11,
 * rcx, flags (0: not a syscall return), then the iret frame.
 */
.macro RESTORE_AND_IRET
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	pushq $0
	cmpb $0, iret_guest_pushes_regs(%rip)
	je 1f
	pushq %rcx
	pushq %r11
1:	jmp hypercall_page + __HYPERVISOR_iret * 32
.endm

.macro XEN_BOUNCE_ENTRY name, handler
	.globl \name
\name:
	popq %rcx
	popq %r11
	SAVE_CALLER_REGS
	cld
	call \handler
	RESTORE_AND_IRET
.endm

/* hypervisor_callback: the event upcall (events.c). */
	XEN_BOUNCE_ENTRY hypervisor_callback, evtchn_do_upcall

/* nmi_callback: an NMI (nmi.c); Xen sends no other until our iret. */
	XEN_BOUNCE_ENTRY nmi_callback, nmi_do

/*
 * XEN_TRAP_ENTRY: an exception Xen bounces to through our trap table
 * (traps.c).  Xen left rcx, r11, the error code when the vector has one,
 * then the iret frame.  trap_do(vector, error code, saved registers with
 * the iret frame after them) may change the frame's rip; we return as
 * from an upcall.  5 qwords + 9 saved keep the call 16-byte aligned, as in
 * XEN_BOUNCE_ENTRY.
 */
.macro XEN_TRAP_ENTRY name, vec, err
	.globl \name
\name:
	popq %rcx
	popq %r11
	.if \err
	popq trap_err_scratch(%rip)
	.else
	movq $0, trap_err_scratch(%rip)
	.endif
	SAVE_CALLER_REGS
	movl $\vec, %edi
	movq trap_err_scratch(%rip), %rsi
	movq %rsp, %rdx
	cld
	call trap_do
	RESTORE_AND_IRET
.endm

	XEN_TRAP_ENTRY trap_divide_error, 0, 0
	XEN_TRAP_ENTRY trap_int3, 3, 0
	XEN_TRAP_ENTRY trap_invalid_op, 6, 0
	XEN_TRAP_ENTRY trap_general_protection, 13, 1
	XEN_TRAP_ENTRY trap_page_fault, 14, 1
	XEN_TRAP_ENTRY trap_soft_0x80, 0x80, 0

/*
 * failsafe_callback: Xen could not load a segment register on return to
 * us.  We never change segments, so this is a bug: report and crash.
 */
	.globl failsafe_callback
failsafe_callback:
	andq $-16, %rsp
	call evtchn_failsafe
	ud2

/*
 * The hypercall page: the hypervisor overwrites it with 32-byte stubs.
 * Until then it holds int3, so a call into an unfilled page faults.
 */
	.text
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xcc
	.size hypercall_page, 4096

/* The boot vCPU's stack. */
	.section .bss.stack, "aw", @nobits
	.balign 16
	.globl boot_stack, boot_stack_top
boot_stack:
	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
