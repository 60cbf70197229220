// SPDX-License-Identifier: MIT
/*
 * The usermode-smp word: a process on every vCPU at once (up to 4), as a
 * Xen x86-64 PV kernel runs them.  Every process lives at the same
 * address (L4 slot 2) in tables of its own, with its own pages; every
 * vCPU has its own kernel L4 (a clone of the boot one that maps its
 * process too, as Linux's per-process tables), its own kernel stack for
 * entries from user mode and its own syscall callback: vCPU 0 registers
 * its own with callback_op, the others get theirs from VCPUOP_initialise's
 * context (syscall_callback_eip, VGCF_syscall_disables_events, trap_ctxt,
 * kernel_sp).  Each process waits until all have started (system calls in
 * a loop), then asks, ROUNDS times, which vCPU's callback took its
 * `syscall` (each vCPU's entry says its number), and checks each time that
 * the answer is its own number, that its %gs and its page still show its
 * own number, and counts in its page.  The kernel checks each entry came
 * on the stack of the vCPU whose callback it is.  Before that, hostile
 * calls get Xen's errors and change nothing.  "usermode-smp: ok".
 */
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/pvmmu.h>
#include <svk/sched.h>
#include <svk/time.h>
#include <svk/usermode.h>

#define UMS_MAX 4
#define USER_VA 0x10000000000UL /* L4 slot 2, the same for every process */
#define USER_SLOT 2
#define DATA_VA (USER_VA + PAGE_SIZE) /* its number, its count, the rounds; its %gs base */
#define STACK_TOP (USER_VA + 2 * PAGE_SIZE)
#define PAGE_USER_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PAGE_USER_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define PAGE_KERNEL_RO PAGE_USER_RO /* the kernel runs at CPL3 too */
#define KSTACK_SIZE 16384
#define DEFAULT_ROUNDS 2000
#define MAGIC 0x5100UL	/* process c's number is MAGIC + c */
#define SYS_WHICH 500	/* which vCPU's callback took this syscall */
#define SYS_ARRIVE 501	/* this process has started: how many have */
#define SYS_ARRIVED 502 /* how many have started */
#define SYS_EXIT 60
#define ENOSYS 38

static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long sp)
{
	return _hypercall2(__HYPERVISOR_stack_switch, ss, sp);
}

static inline long HYPERVISOR_set_segment_base(int which, unsigned long base)
{
	return _hypercall2(__HYPERVISOR_set_segment_base, which, base);
}

extern char ums_prog_start[], ums_prog_end[];
extern char ums_entry0[], ums_entry1[], ums_entry2[], ums_entry3[];
extern char ums_trap_ud[], ums_trap_gp[], ums_trap_pf[], ums_secondary_entry[];
long ums_run(unsigned long c, unsigned long rip, unsigned long rsp, unsigned long arg);
long ums_syscall(unsigned long *saved, unsigned long c);
long ums_trap(unsigned long vec, unsigned long *saved, unsigned long has_err);
void ums_secondary_main(unsigned long c) __noreturn;

/* Per vCPU: where its ums_run keeps the kernel's stack, its process's exit code. */
unsigned long ums_kctx_rsp[UMS_MAX];
long ums_exit_code[UMS_MAX];
/* Entries from user mode (stack_switch / kernel_sp) and the secondaries' own stacks. */
static char ums_kstack[UMS_MAX][KSTACK_SIZE] __attribute__((aligned(16)));
static char ums_mainstack[UMS_MAX][KSTACK_SIZE] __attribute__((aligned(16)));

static uint64_t *ul4[UMS_MAX], *ul3[UMS_MAX], *ul2[UMS_MAX], *ul1[UMS_MAX], *kl4[UMS_MAX];
static void *code[UMS_MAX], *data[UMS_MAX];
static unsigned ums_n, ums_calls[UMS_MAX], ums_bad[UMS_MAX], ums_arrived, ums_done[UMS_MAX];
static unsigned ums_switches, ums_last = ~0u, ums_exited;
static uint64_t ums_t0, ums_t1; /* all started, the last one ended (time_now_ns) */
static long ums_result[UMS_MAX];
static bool ums_ran;

/*
 * The process (position-independent; rdi: how many processes).  r12 its
 * number (%gs:0), r13 its data page, r14 the count, rbx the rounds; r15
 * collects what went wrong: 1 its page did not show its number at the
 * start, 2 a syscall taken by another vCPU's callback, 4 its page showed
 * another number, 8 its %gs showed another number.
 */
__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".globl ums_prog_start, ums_prog_end\n"
	"ums_prog_start:\n"
	"	xorl %r15d, %r15d\n"
	"	movq %rdi, %r14\n"
	"	movq %gs:0, %r12\n"
	"	movabsq $0x10000001000, %r13\n"
	"	cmpq (%r13), %r12\n"
	"	je 1f\n"
	"	orl $1, %r15d\n"
	"1:	movq 16(%r13), %rbx\n"
	"	movl $501, %eax\n"
	"	syscall\n"
	"2:	movl $502, %eax\n"
	"	syscall\n"
	"	cmpq %r14, %rax\n"
	"	jb 2b\n"
	"3:	movl $500, %eax\n"
	"	syscall\n"
	"	addq $0x5100, %rax\n"
	"	cmpq %r12, %rax\n"
	"	je 4f\n"
	"	orl $2, %r15d\n"
	"4:	cmpq (%r13), %r12\n"
	"	je 5f\n"
	"	orl $4, %r15d\n"
	"5:	movq %gs:0, %rax\n"
	"	cmpq %rax, %r12\n"
	"	je 6f\n"
	"	orl $8, %r15d\n"
	"6:	incq 8(%r13)\n"
	"	decq %rbx\n"
	"	jnz 3b\n"
	"	movl $60, %eax\n"
	"	movl %r15d, %edi\n"
	"	syscall\n"
	"	ud2\n"
	"ums_prog_end:\n"
	".popsection\n");

/*
 * Kernel side, as usermode.c's: Xen left rcx, r11, [error code,] then the
 * frame on the vCPU's kernel stack.  A handler's 0 returns to the process
 * through HYPERVISOR_iret; c + 1 ends vCPU c's process (back into its
 * ums_run).
 */
__asm__(".text\n"
	".macro UMS_SAVE\n"
	"	pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi\n"
	"	pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"
	".endm\n"
	".macro UMS_BACK\n"
	"	testq %rax, %rax\n"
	"	jnz 2f\n"
	"	popq %r11; popq %r10; popq %r9; popq %r8; popq %rdi\n"
	"	popq %rsi; popq %rdx; popq %rcx; popq %rax\n"
	"	pushq $0\n"
	"	cmpb $0, iret_guest_pushes_regs(%rip)\n"
	"	je 1f\n"
	"	pushq %rcx\n"
	"	pushq %r11\n"
	"1:	jmp hypercall_page + 23 * 32\n"
	"2:	leaq -1(%rax), %rdi\n"
	"	jmp ums_exit_to_kernel\n"
	".endm\n"
	".macro UMS_ENTRY c\n"
	".globl ums_entry\\c\n"
	"ums_entry\\c:\n"
	"	popq %rcx\n"
	"	popq %r11\n"
	"	UMS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	movl $\\c, %esi\n"
	"	cld\n"
	"	call ums_syscall\n"
	"	UMS_BACK\n"
	".endm\n"
	"	UMS_ENTRY 0\n"
	"	UMS_ENTRY 1\n"
	"	UMS_ENTRY 2\n"
	"	UMS_ENTRY 3\n"
	".macro UMS_TRAP name, vec, err\n"
	".globl \\name\n"
	"\\name:\n"
	"	popq %rcx\n"
	"	popq %r11\n"
	"	UMS_SAVE\n"
	"	movl $\\vec, %edi\n"
	"	movq %rsp, %rsi\n"
	"	movl $\\err, %edx\n"
	"	.if \\err\n"
	"	subq $8, %rsp\n" /* the error code is above the saved registers: realign */
	"	.endif\n"
	"	cld\n"
	"	call ums_trap\n" /* always ends the process */
	"	leaq -1(%rax), %rdi\n"
	"	jmp ums_exit_to_kernel\n"
	".endm\n"
	"	UMS_TRAP ums_trap_ud, 6, 0\n"
	"	UMS_TRAP ums_trap_gp, 13, 1\n"
	"	UMS_TRAP ums_trap_pf, 14, 1\n"
	/* ums_run(c, rip, rsp, arg): iret to vCPU c's process; its end comes back here. */
	".globl ums_run\n"
	"ums_run:\n"
	"	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
	"	leaq ums_kctx_rsp(%rip), %rax\n"
	"	movq %rsp, (%rax,%rdi,8)\n"
	"	pushq $0xe02b\n" /* FLAT_USER_SS64 */
	"	pushq %rdx\n"
	"	pushq $0x202\n"	 /* IF */
	"	pushq $0xe033\n" /* FLAT_USER_CS64: RPL 3 */
	"	pushq %rsi\n"
	"	pushq $0\n" /* flags */
	"	movq %rcx, %rdi\n"
	"	xorl %eax, %eax; xorl %ebx, %ebx; xorl %ecx, %ecx; xorl %edx, %edx\n"
	"	xorl %esi, %esi; xorl %ebp, %ebp; xorl %r8d, %r8d; xorl %r9d, %r9d\n"
	"	xorl %r10d, %r10d; xorl %r11d, %r11d; xorl %r12d, %r12d; xorl %r13d, %r13d\n"
	"	xorl %r14d, %r14d; xorl %r15d, %r15d\n"
	"	cmpb $0, iret_guest_pushes_regs(%rip)\n"
	"	je 1f\n"
	"	pushq %rcx\n"
	"	pushq %r11\n"
	"1:	jmp hypercall_page + 23 * 32\n"
	"ums_exit_to_kernel:\n" /* rdi: c */
	"	leaq ums_kctx_rsp(%rip), %rax\n"
	"	movq (%rax,%rdi,8), %rsp\n"
	"	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
	"	leaq ums_exit_code(%rip), %rax\n"
	"	movq (%rax,%rdi,8), %rax\n"
	"	ret\n"
	/* Where VCPUOP_initialise starts a secondary: rdi its number, rsp its own stack. */
	".globl ums_secondary_entry\n"
	"ums_secondary_entry:\n"
	"	cld\n"
	"	call ums_secondary_main\n"
	"	ud2\n");

/* Which vCPU's kernel stack is saved on?  UMS_MAX when none. */
static unsigned stack_of(const unsigned long *saved)
{
	for (unsigned c = 0; c < UMS_MAX; c++)
		if ((const char *)saved >= ums_kstack[c] &&
		    (const char *)saved < ums_kstack[c] + KSTACK_SIZE)
			return c;
	return UMS_MAX;
}

/* saved: r11 r10 r9 r8 rdi rsi rdx rcx rax, then rip cs rflags rsp ss. */
long ums_syscall(unsigned long *saved, unsigned long c)
{
	unsigned long nr = saved[8];

	if (!(saved[10] & 3)) {
		printk("usermode-smp: FAIL syscall callback of vcpu %lu entered from kernel mode\n",
		       c);
		sched_shutdown(SHUTDOWN_crash);
	}
	/* Xen put the frame on the kernel stack of the vCPU this callback belongs to. */
	if (stack_of(saved) != c)
		__atomic_add_fetch(&ums_bad[c], 1, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&ums_last, (unsigned)c, __ATOMIC_SEQ_CST) != c)
		__atomic_add_fetch(&ums_switches, 1, __ATOMIC_SEQ_CST);
	switch (nr) {
	case SYS_WHICH:
		ums_calls[c]++;
		saved[8] = c;
		return 0;
	case SYS_ARRIVE:
		saved[8] = __atomic_add_fetch(&ums_arrived, 1, __ATOMIC_SEQ_CST);
		if (saved[8] == ums_n && time_available())
			ums_t0 = time_now_ns();
		return 0;
	case SYS_ARRIVED:
		saved[8] = __atomic_load_n(&ums_arrived, __ATOMIC_SEQ_CST);
		return 0;
	case SYS_EXIT:
		ums_exit_code[c] = (long)saved[4];
		if (__atomic_add_fetch(&ums_exited, 1, __ATOMIC_SEQ_CST) == ums_n &&
		    time_available())
			ums_t1 = time_now_ns();
		return (long)c + 1;
	default:
		saved[8] = (unsigned long)-ENOSYS;
		return 0;
	}
}

/*
 * A fault in a process kills it (its exit code -vector); one in the kernel
 * is fatal.  saved: the registers, [the error code,] then Xen's frame.
 */
long ums_trap(unsigned long vec, unsigned long *saved, unsigned long has_err)
{
	const unsigned long *f = saved + 9 + has_err;
	unsigned c = stack_of(saved);

	if (!(f[1] & 3) || c == UMS_MAX) {
		printk("usermode-smp: FAIL kernel-mode fault %lu at rip 0x%lx\n", vec, f[0]);
		sched_shutdown(SHUTDOWN_crash);
	}
	printk("usermode-smp: process %u killed: vector %lu error 0x%lx at rip 0x%lx\n", c, vec,
	       has_err ? saved[9] : 0, f[0]);
	ums_exit_code[c] = -(long)vec;
	return (long)c + 1;
}

/* The process of vCPU c: its %gs, its user tables, then run it. */
static long run_process(unsigned long c)
{
	long rc = HYPERVISOR_set_segment_base(SEGBASE_GS_USER, DATA_VA);

	if (!rc)
		rc = pv_mmuext1(MMUEXT_NEW_USER_BASEPTR, virt_to_mfn(ul4[c]));
	if (rc)
		return rc;
	return ums_run(c, USER_VA, STACK_TOP, ums_n);
}

void ums_secondary_main(unsigned long c)
{
	ums_result[c] = run_process(c);
	__atomic_store_n(&ums_done[c], 1, __ATOMIC_SEQ_CST);
	for (;;) {
		(void)HYPERVISOR_vcpu_op(VCPUOP_down, (unsigned)c, NULL);
		(void)sched_yield();
	}
}

static bool ums_check(bool ok, const char *what, long v)
{
	if (!ok)
		printk("usermode-smp: FAIL %s (%ld)\n", what, v);
	return ok;
}

/* A process's pages and tables, and vCPU c's kernel L4: a clone of ours with it in slot 2. */
static bool build(const start_info_t *si, unsigned c, uint64_t rounds)
{
	uint64_t *d;

	ul4[c] = page_alloc(), ul3[c] = page_alloc(), ul2[c] = page_alloc();
	ul1[c] = page_alloc(), kl4[c] = page_alloc();
	code[c] = page_alloc(), data[c] = page_alloc();
	if (!ul4[c] || !ul3[c] || !ul2[c] || !ul1[c] || !kl4[c] || !code[c] || !data[c])
		return ums_check(false, "no pages", c);
	memset(code[c], 0xcc, PAGE_SIZE);
	memcpy(code[c], ums_prog_start, (size_t)(ums_prog_end - ums_prog_start));
	d = data[c];
	d[0] = MAGIC + c;
	d[1] = 0;
	d[2] = rounds;
	ul1[c][0] = pv_ma(code[c]) | PAGE_USER_RO;
	ul1[c][1] = pv_ma(data[c]) | PAGE_USER_RW;
	ul2[c][0] = pv_ma(ul1[c]) | PAGE_USER_RW;
	ul3[c][0] = pv_ma(ul2[c]) | PAGE_USER_RW;
	ul4[c][USER_SLOT] = pv_ma(ul3[c]) | PAGE_USER_RW;
	memcpy(kl4[c], (void *)si->pt_base, PAGE_SIZE);
	kl4[c][USER_SLOT] = pv_ma(ul3[c]) | PAGE_USER_RW;
	long rc = pv_remap(ul4[c], PAGE_USER_RO) | pv_remap(ul3[c], PAGE_USER_RO) |
		  pv_remap(ul2[c], PAGE_USER_RO) | pv_remap(ul1[c], PAGE_USER_RO) |
		  pv_remap(kl4[c], PAGE_KERNEL_RO);
	if (!ums_check(!rc, "tables made read-only", rc))
		return false;
	rc = pv_mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(ul4[c]));
	if (!ums_check(!rc, "pin a user L4", rc))
		return false;
	rc = pv_mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(kl4[c]));
	return ums_check(!rc, "pin a kernel L4", rc);
}

static const struct trap_info ums_traps[] = {
	{ .vector = 6, .flags = 0, .cs = FLAT_KERNEL_CS, .address = (unsigned long)ums_trap_ud },
	{ .vector = 13, .flags = 0, .cs = FLAT_KERNEL_CS, .address = (unsigned long)ums_trap_gp },
	{ .vector = 14, .flags = 0, .cs = FLAT_KERNEL_CS, .address = (unsigned long)ums_trap_pf },
	{ 0 },
};

static const char *const ums_entries[UMS_MAX] = { ums_entry0, ums_entry1, ums_entry2, ums_entry3 };

/* Secondary c's first context: its kernel L4, its stacks, its own callback and traps. */
static void context_of(struct vcpu_guest_context *ctx, unsigned c)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->flags = VGCF_in_kernel | VGCF_online | VGCF_syscall_disables_events;
	ctx->user_regs.rip = (unsigned long)ums_secondary_entry;
	ctx->user_regs.rsp = (unsigned long)ums_mainstack[c] + KSTACK_SIZE;
	ctx->user_regs.rdi = c;
	ctx->user_regs.cs = FLAT_KERNEL_CS;
	ctx->user_regs.ss = FLAT_KERNEL_SS;
	ctx->user_regs.rflags = 0x202;
	ctx->kernel_ss = FLAT_KERNEL_SS;
	ctx->kernel_sp = (unsigned long)ums_kstack[c] + KSTACK_SIZE;
	ctx->ctrlreg[3] = xen_pfn_to_cr3(virt_to_mfn(kl4[c]));
	ctx->syscall_callback_eip = (unsigned long)ums_entries[c];
	for (const struct trap_info *t = ums_traps; t->address; t++)
		ctx->trap_ctxt[t->vector] = *t;
}

/*
 * Hostile calls first, each with Xen's error and nothing changed: a
 * non-canonical callback, unregistering what cannot be (the syscall
 * callback) or does not exist (type 99), a context with a non-canonical
 * syscall callback (the vCPU stays uninitialised: the good one after it
 * is not -EEXIST).
 */
static bool hostile(unsigned n)
{
	static struct vcpu_guest_context ctx;
	struct callback_register bad = { .type = CALLBACKTYPE_syscall,
					 .address = 0x800000000000UL };
	struct callback_unregister un = { .type = 99 };
	bool ok = true;
	long rc;

	rc = HYPERVISOR_callback_op(CALLBACKOP_register, &bad);
	ok &= ums_check(rc == -XEN_EINVAL, "a non-canonical syscall callback: -EINVAL", rc);
	rc = HYPERVISOR_callback_op(CALLBACKOP_unregister, &un);
	ok &= ums_check(rc == -XEN_ENOSYS, "unregistering callback type 99: -ENOSYS", rc);
	un.type = CALLBACKTYPE_syscall;
	rc = HYPERVISOR_callback_op(CALLBACKOP_unregister, &un);
	ok &= ums_check(rc == -XEN_EINVAL, "unregistering the syscall callback: -EINVAL", rc);
	if (n > 1) {
		context_of(&ctx, 1);
		ctx.syscall_callback_eip = 0x800000000000UL;
		rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx);
		ok &= ums_check(rc == -XEN_EINVAL,
				"VCPUOP_initialise with a non-canonical syscall callback: -EINVAL",
				rc);
		rc = HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL);
		ok &= ums_check(rc == 0, "vcpu 1 still down after the bad context", rc);
	}
	if (ok)
		printk("usermode-smp: hostile callbacks refused as Xen: -EINVAL, -ENOSYS, -EINVAL, "
		       "-EINVAL\n");
	return ok;
}

void usermode_smp_word(const start_info_t *si, const char *arg)
{
	static struct vcpu_guest_context ctx;
	struct callback_register cb = { .type = CALLBACKTYPE_syscall,
					.flags = CALLBACKF_mask_events,
					.address = (unsigned long)ums_entry0 };
	uint64_t rounds = DEFAULT_ROUNDS;
	uint64_t boot_l4 = virt_to_mfn((void *)si->pt_base), deadline;
	unsigned n = sched_vcpu_count(), c;
	bool ok = true;
	long rc;

	if (ums_ran) {
		printk("usermode-smp: FAIL runs once per boot (its vCPUs keep their contexts)\n");
		return;
	}
	ums_ran = true;
	if (n > UMS_MAX)
		n = UMS_MAX;
	if (arg && *arg && (parse_u64(arg, &rounds) || !rounds || rounds > 10000000)) {
		printk("usermode-smp: FAIL bad rounds '%s'\n", arg);
		return;
	}
	ums_n = n;
	/* vCPU 0's own callback, stack and traps first: the hostile calls must leave them. */
	rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
	ok &= ums_check(!rc, "register vcpu 0's syscall callback", rc);
	rc = HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)ums_kstack[0] + KSTACK_SIZE);
	ok &= ums_check(!rc, "stack_switch", rc);
	rc = HYPERVISOR_set_trap_table(ums_traps);
	ok &= ums_check(!rc, "set_trap_table", rc);
	ok &= hostile(n);
	for (c = 0; c < n && ok; c++)
		ok &= build(si, c, rounds);
	if (!ok)
		goto out;
	printk("usermode-smp: %u processes at 0x%lx, each in its own tables; %lu rounds each\n", n,
	       USER_VA, (unsigned long)rounds);
	for (c = 1; c < n && ok; c++) {
		context_of(&ctx, c);
		rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, c, &ctx);
		if (ums_check(!rc, "VCPUOP_initialise with its own callback", rc)) {
			rc = HYPERVISOR_vcpu_op(VCPUOP_up, c, NULL);
			ok &= ums_check(!rc, "VCPUOP_up", rc);
		} else {
			ok = false;
		}
	}
	if (!ok)
		goto out;
	/* vCPU 0 on its own kernel L4, then its process, beside the others. */
	rc = pv_mmuext1(MMUEXT_NEW_BASEPTR, virt_to_mfn(kl4[0]));
	ok &= ums_check(!rc, "NEW_BASEPTR to vcpu 0's kernel L4", rc);
	if (ok)
		ums_result[0] = run_process(0);
	events_unmask(); /* the syscall callback masked them */
	deadline = time_available() ? time_now_ns() + 120ULL * 1000000000ULL : 0;
	for (c = 1; c < n; c++)
		while (!__atomic_load_n(&ums_done[c], __ATOMIC_SEQ_CST)) {
			if (deadline && time_now_ns() > deadline) {
				ok = ums_check(false, "a secondary's process did not end", c);
				break;
			}
			(void)sched_yield();
		}
	for (c = 0; c < n; c++) {
		const uint64_t *d = data[c];
		bool good = ums_result[c] == 0 && ums_calls[c] == rounds && ums_bad[c] == 0 &&
			    d[1] == rounds;

		if (good)
			printk(
			    "usermode-smp: vcpu %u: process %u made %u syscalls through vcpu %u's "
			    "callback and stack, exit 0\n",
			    c, c, ums_calls[c], c);
		else
			printk("usermode-smp: FAIL vcpu %u: exit %ld (mask: 1 start page, 2 other "
			       "callback, 4 other page, 8 other %%gs), %u syscalls, %u on another "
			       "stack, count %lu\n",
			       c, ums_result[c], ums_calls[c], ums_bad[c], (unsigned long)d[1]);
		ok &= good;
	}
	if (ok)
		printk("usermode-smp: %u processes ran at once; syscalls changed vcpu %u times; "
		       "%lu ns per syscall\n",
		       n, ums_switches,
		       ums_t1 > ums_t0 ? (unsigned long)((ums_t1 - ums_t0) / (n * rounds)) : 0UL);
out:
	(void)pv_mmuext1(MMUEXT_NEW_BASEPTR, boot_l4);
	(void)pv_mmuext1(MMUEXT_NEW_USER_BASEPTR, 0);
	(void)HYPERVISOR_set_trap_table(NULL);
	cb.address = 0; /* Xen cannot unregister it: register none */
	cb.flags = 0;
	(void)HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
	(void)HYPERVISOR_set_segment_base(SEGBASE_GS_USER, 0);
	printk(ok ? "usermode-smp: ok\n" : "usermode-smp: FAIL\n");
}
