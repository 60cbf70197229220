/* SPDX-License-Identifier: MIT */
/*
 * sv-runner's way in and out of the guest: the hypercall entry the guest's
 * hypercall page jumps to, one restore block per vCPU, the signal
 * restorer and a bare thread-creating clone.
 */
#include "sv/procabi.h"

	.section .text.entry, "ax"
	.globl sv_entry
/*
 * At SV_PROC_RUNNER_VA exactly (the linker script puts it first): the
 * hypercall stub left the number in %rax and its return address in %rcx
 * and jumped here through %r11 (Xen's hypercalls clobber %rcx and %r11).
 * Which vCPU this is comes from the host thread id (a system call, so
 * only when the runner has more than one).  The two words pushed
 * on the guest stack lie below its return address, where any call would
 * write.
 */
sv_entry:
	push	%rax
	push	%rcx
	xor	%r11d, %r11d		/* a runner with one vCPU: it is vCPU 0, no gettid */
	cmpl	$1, sv_nr_vcpus(%rip)
	je	2f
	mov	$186, %eax		/* gettid; clobbers %rcx and %r11 */
	syscall
	lea	sv_tids(%rip), %rcx
	xor	%r11d, %r11d
1:	cmp	(%rcx,%r11,4), %eax
	je	2f
	inc	%r11d
	cmp	$SV_PROC_MAX_VCPUS, %r11d
	jb	1b
	ud2				/* a thread that is no vCPU: the runner faults */
2:	mov	%r11, %rax		/* vCPU index */
	shl	$12 + 1, %r11		/* SV_PROC_VCPU_PAGES pages a block */
	mov	$SV_PROC_VCPU_VA(0), %rcx
	add	%rcx, %r11
	popq	SV_PROC_REG(SV_PROC_RIP)(%r11)
	popq	SV_PROC_REG(SV_PROC_RAX)(%r11)
	mov	%rsp, SV_PROC_REG(SV_PROC_RSP)(%r11)
	mov	%rbx, SV_PROC_REG(SV_PROC_RBX)(%r11)
	mov	%rdx, SV_PROC_REG(SV_PROC_RDX)(%r11)
	mov	%rsi, SV_PROC_REG(SV_PROC_RSI)(%r11)
	mov	%rdi, SV_PROC_REG(SV_PROC_RDI)(%r11)
	mov	%rbp, SV_PROC_REG(SV_PROC_RBP)(%r11)
	mov	%r8, SV_PROC_REG(SV_PROC_R8)(%r11)
	mov	%r9, SV_PROC_REG(SV_PROC_R9)(%r11)
	mov	%r10, SV_PROC_REG(SV_PROC_R10)(%r11)
	mov	%r12, SV_PROC_REG(SV_PROC_R12)(%r11)
	mov	%r13, SV_PROC_REG(SV_PROC_R13)(%r11)
	mov	%r14, SV_PROC_REG(SV_PROC_R14)(%r11)
	mov	%r15, SV_PROC_REG(SV_PROC_R15)(%r11)
	movq	$0, SV_PROC_REG(SV_PROC_RCX)(%r11)
	movq	$0, SV_PROC_REG(SV_PROC_R11)(%r11)
	lea	SV_PROC_OFF_STACK_TOP(%r11), %rsp
	pushfq
	popq	SV_PROC_REG(SV_PROC_RFLAGS)(%r11)
	cld
	movl	$SV_PROC_R_HYPERCALL, SV_PROC_OFF_REASON(%r11)
	mov	%rax, %rbx
	mov	%r11, %rdi
	call	sv_hypercall
	mov	%rbx, %rdi
	jmp	sv_enter_guest

/* sv_enter_guest(index): on the vCPU's block stack, into its restore block. */
	.globl sv_enter_guest
sv_enter_guest:
	mov	%rdi, %rax
	shl	$12 + 1, %rdi
	mov	$SV_PROC_VCPU_VA(0), %rcx
	add	%rcx, %rdi
	lea	SV_PROC_OFF_STACK_TOP(%rdi), %rsp
	shl	$8, %rax		/* SV_PROC_RESTORE_STRIDE */
	lea	sv_restore_0(%rip), %rcx
	add	%rcx, %rax
	jmp	*%rax

/*
 * Restore block n: the last look at vCPU n's kick flag, then every
 * register from its block, addressed RIP-relative (sv_shared is
 * SV_PROC_SHARED_VA, from the linker script) so that no register is needed
 * to find it, then the jump into guest code.  Every way into the guest
 * that does not end in a signal return (sv_entry's hand-off and the
 * runner's own iret, a vCPU's first run) comes through here.
 *
 * No kick is lost (the "about to enter" window, as a kernel's check for a
 * signal interrupted on its way back to user mode, or a restartable
 * sequence): the hypervisor sets the kick flag, then sends SIGUSR1.
 *  - A SIGUSR1 that lands anywhere in runner code before the cmpl below
 *    is left alone by on_signal (runner.c): the flag is still set, and
 *    this cmpl (or sv_exchange's look, if it comes first) sees it.
 *  - A SIGUSR1 that lands from the cmpl up to and including the final jmp
 *    (rip inside this block: sv_restore_0 <= rip < sv_restore_end) is
 *    turned by on_signal into a kick exit: the block's registers are the
 *    state to report, nothing here has changed them, and the registers
 *    half restored are thrown away; the signal return then enters the
 *    guest with whatever the hypervisor gave back.
 *  - One that lands after the jmp interrupts guest code: a kick exit.
 * The flag is seen set by the cmpl, so the way in goes to sv_kicked
 * instead (no guest instruction ran): the same kick exit, then the
 * restore block again.  The cmpl comes before the popfq: it sets flags.
 * A signal return into guest code needs none of this: every handler runs
 * with SIGUSR1 blocked, and rt_sigreturn unblocks it as it loads the guest
 * state, so a kick that came meanwhile is taken at the guest's rip.
 */
	.macro RESTORE n
	.balign SV_PROC_RESTORE_STRIDE
.Lrestore_\n:
	cmpl	$0, sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_OFF_KICK(%rip)
	jne	1f
	pushq	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RFLAGS)(%rip)
	popfq
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RAX)(%rip), %rax
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RBX)(%rip), %rbx
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RCX)(%rip), %rcx
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RDX)(%rip), %rdx
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RSI)(%rip), %rsi
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RDI)(%rip), %rdi
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RBP)(%rip), %rbp
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R8)(%rip), %r8
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R9)(%rip), %r9
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R10)(%rip), %r10
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R11)(%rip), %r11
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R12)(%rip), %r12
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R13)(%rip), %r13
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R14)(%rip), %r14
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_R15)(%rip), %r15
	mov	sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RSP)(%rip), %rsp
	jmp	*sv_shared + 4096 * (1 + SV_PROC_VCPU_PAGES * \n) + SV_PROC_REG(SV_PROC_RIP)(%rip)
1:	mov	$\n, %ebx		/* kicked: still on the block stack, no register restored */
	jmp	sv_restore_kicked
	.org	.Lrestore_\n + SV_PROC_RESTORE_STRIDE, 0xcc	/* fails if it is longer */
	.endm

	.balign SV_PROC_RESTORE_STRIDE
	.globl sv_restore_0, sv_restore_end
sv_restore_0:
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	RESTORE \n
	.endr
	.balign SV_PROC_RESTORE_STRIDE
sv_restore_end:

/* A restore block saw its kick flag (%rbx: the vCPU): the kick exit, then in again. */
sv_restore_kicked:
	mov	%rbx, %rdi
	call	sv_kicked
	mov	%rbx, %rdi
	jmp	sv_enter_guest

/*
 * long sv_peek(uint64_t *dst, uint64_t src, long words): copy words from
 * guest memory; -1 when src faults (on_signal moves a fault between
 * sv_peek_start and sv_peek_fault to sv_peek_fault), else 0.  A leaf: no
 * stack of its own, so the fault path returns as the copy would.
 */
	.globl sv_peek, sv_peek_start, sv_peek_fault
sv_peek:
sv_peek_start:
	xor	%eax, %eax
1:	test	%rdx, %rdx
	jz	2f
	mov	(%rsi), %rcx
	mov	%rcx, (%rdi)
	add	$8, %rsi
	add	$8, %rdi
	dec	%rdx
	jmp	1b
2:	ret
sv_peek_fault:
	mov	$-1, %rax
	ret

/* Signal return: what the kernel calls when a handler returns. */
	.globl sv_restorer
sv_restorer:
	mov	$15, %eax		/* rt_sigreturn */
	syscall
	ud2

/*
 * long sv_clone_thread(flags, stack_top, child_tid, fn, arg): a new thread
 * on stack_top that runs fn(arg) and exits; returns its id or -errno.
 */
	.globl sv_clone_thread
sv_clone_thread:
	sub	$16, %rsi
	mov	%rcx, (%rsi)
	mov	%r8, 8(%rsi)
	mov	%rdx, %r10		/* child_tid */
	xor	%edx, %edx		/* parent_tid */
	xor	%r8d, %r8d		/* tls */
	mov	$56, %eax		/* clone */
	syscall
	test	%rax, %rax
	jnz	1f
	pop	%rax
	pop	%rdi
	call	*%rax
	mov	$60, %eax		/* exit */
	xor	%edi, %edi
	syscall
	ud2
1:	ret

	.section .note.GNU-stack, "", @progbits
