// SPDX-License-Identifier: MIT
/*
 * The usermode word: a process of our own, run in guest user mode as a Xen
 * x86-64 PV kernel runs one.  Its address space is a user L4 that maps only
 * its pages (L4 slot 2, MMUEXT_NEW_USER_BASEPTR); our own L4 maps them too,
 * beside the kernel.  We give Xen the kernel stack for entries from user
 * mode (stack_switch), a syscall callback and a trap table, and iret to
 * the process (CS with RPL 3).  Its `syscall`s come to um_syscall_entry
 * on that stack: write (printed on our console), getpid and exit; a #PF
 * in its demand-zero page is served, any other fault kills it.
 */
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/pvmmu.h>
#include <svk/sched.h>
#include <svk/shinfo.h>
#include <svk/usermode.h>

#define USER_VA 0x10000000000UL /* L4 slot 2: nothing of the kernel's is there */
#define USER_SLOT 2
#define CODE_VA USER_VA
#define STACK_TOP (USER_VA + 3 * PAGE_SIZE) /* its stack page is the third */
#define DZ_VA (USER_VA + 5 * PAGE_SIZE)	    /* demand-zero: mapped on its first fault */
#define GS_PAGE (USER_VA + 2 * PAGE_SIZE)   /* the user %gs base: its stack page */
#define GS_MAGIC 0x75736572UL		    /* "user" */
#define PID 42
#define PAGE_USER_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PAGE_USER_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define PTE_ADDR 0x000ffffffffff000UL
#define KSTACK_SIZE 16384

/* Our system call numbers (Linux's, for the reader). */
#define SYS_WRITE 1
#define SYS_GETPID 39
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

/* The process's code (usermode_prog.S-like, here): copied to its code page. */
extern char um_prog_start[], um_prog_main[], um_prog_gp[], um_prog_ud[], um_prog_peek[],
    um_prog_end[];
/* Kernel entries (below). */
extern char um_syscall_entry[], um_trap_ud[], um_trap_gp[], um_trap_pf[];
long um_run(unsigned long rip, unsigned long rsp, unsigned long arg);
long um_syscall(unsigned long *saved);
long um_trap(unsigned long vec, unsigned long err, unsigned long *saved);

/* um_run's kernel stack pointer, where a process's exit returns. */
unsigned long um_kctx_rsp;
long um_exit_code;
unsigned long um_err_scratch;
static char um_kstack[KSTACK_SIZE] __attribute__((aligned(16)));

/* The process: its tables and pages, machine addresses for the tables. */
static uint64_t *ul4, *ul3, *ul2, *ul1;
static void *code, *stack, *dz_page;
static unsigned syscalls, dz_faults;

/*
 * The process's code, position-independent.  main: write a line, getpid,
 * read %gs:0 (its own %gs base), touch the demand-zero page (read 0,
 * write, read back), an unknown call (-ENOSYS), then exit with a mask of
 * what went wrong (0: all as expected).  gp: `hlt` (privileged: #GP).
 * ud: ud2.  peek: read the kernel address in rdi (not in its tables: #PF).
 */
__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".globl um_prog_start, um_prog_main, um_prog_gp, um_prog_ud, um_prog_peek, um_prog_end\n"
	"um_prog_start:\n"
	"um_prog_main:\n"
	"	xorl %r15d, %r15d\n"
	"	movl $1, %eax\n" /* write(msg, len) */
	"	leaq 9f(%rip), %rdi\n"
	"	movl $10f - 9f, %esi\n"
	"	syscall\n"
	"	cmpq $10f - 9f, %rax\n"
	"	je 1f\n"
	"	orl $1, %r15d\n"
	"1:	movl $39, %eax\n" /* getpid */
	"	syscall\n"
	"	cmpq $42, %rax\n"
	"	je 1f\n"
	"	orl $2, %r15d\n"
	"1:	movq %gs:0, %rax\n"
	"	cmpq $0x75736572, %rax\n"
	"	je 1f\n"
	"	orl $4, %r15d\n"
	"1:	movabsq $0x10000005000, %rdi\n"
	"	movq (%rdi), %rax\n" /* #PF: the kernel maps a zeroed page */
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	orl $8, %r15d\n"
	"1:	movq $0x55, (%rdi)\n"
	"	cmpq $0x55, (%rdi)\n"
	"	je 1f\n"
	"	orl $16, %r15d\n"
	"1:	movl $999, %eax\n"
	"	syscall\n"
	"	cmpq $-38, %rax\n"
	"	je 1f\n"
	"	orl $32, %r15d\n"
	"1:	movl $60, %eax\n" /* exit(mask) */
	"	movl %r15d, %edi\n"
	"	syscall\n"
	"	ud2\n"
	"um_prog_gp:\n"
	"	hlt\n"
	"	movl $60, %eax\n"
	"	syscall\n"
	"um_prog_ud:\n"
	"	ud2\n"
	"um_prog_peek:\n"
	"	movq (%rdi), %rax\n"
	"	movl $60, %eax\n"
	"	syscall\n"
	"9:	.ascii \"hello from user mode\"\n"
	"10:\n"
	"um_prog_end:\n"
	".popsection\n");

/*
 * Kernel side.  Xen left on um_kstack: rcx, r11, [error code,] then the
 * frame rip, cs, rflags, rsp, ss.  As head.S's entries: restore rcx and
 * r11, save what C clobbers (9 qwords: the call stays 16-byte aligned),
 * call the handler; nonzero: the process is gone, back into um_run's
 * caller; else return through HYPERVISOR_iret (frame rax, r11, rcx,
 * flags 0, then the frame: CS RPL 3 takes us back to user mode).
 */
__asm__(".text\n"
	".macro UM_SAVE\n"
	"	pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi\n"
	"	pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"
	".endm\n"
	".macro UM_RESTORE_IRET\n"
	"	popq %r11; popq %r10; popq %r9; popq %r8; popq %rdi\n"
	"	popq %rsi; popq %rdx; popq %rcx; popq %rax\n"
	"	pushq $0\n"
	"	cmpb $0, iret_guest_pushes_regs(%rip)\n"
	"	je 1f\n"
	"	pushq %rcx\n"
	"	pushq %r11\n"
	"1:	jmp hypercall_page + 23 * 32\n"
	".endm\n"
	".globl um_syscall_entry\n"
	"um_syscall_entry:\n"
	"	popq %rcx\n"
	"	popq %r11\n"
	"	UM_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	cld\n"
	"	call um_syscall\n"
	"	testq %rax, %rax\n"
	"	jnz um_exit_to_kernel\n"
	"	UM_RESTORE_IRET\n"
	".macro UM_TRAP name, vec, err\n"
	".globl \\name\n"
	"\\name:\n"
	"	popq %rcx\n"
	"	popq %r11\n"
	"	.if \\err\n"
	"	popq um_err_scratch(%rip)\n"
	"	.else\n"
	"	movq $0, um_err_scratch(%rip)\n"
	"	.endif\n"
	"	UM_SAVE\n"
	"	movl $\\vec, %edi\n"
	"	movq um_err_scratch(%rip), %rsi\n"
	"	movq %rsp, %rdx\n"
	"	cld\n"
	"	call um_trap\n"
	"	testq %rax, %rax\n"
	"	jnz um_exit_to_kernel\n"
	"	UM_RESTORE_IRET\n"
	".endm\n"
	"	UM_TRAP um_trap_ud, 6, 0\n"
	"	UM_TRAP um_trap_gp, 13, 1\n"
	"	UM_TRAP um_trap_pf, 14, 1\n"
	/*
	 * um_run(rip, rsp, arg): keep our callee-saved registers and stack,
	 * then iret to user mode at rip on rsp with arg in rdi, events on.
	 * The process's exit comes back here (um_exit_to_kernel) with its
	 * code in rax.
	 */
	".globl um_run\n"
	"um_run:\n"
	"	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
	"	movq %rsp, um_kctx_rsp(%rip)\n"
	"	pushq $0xe02b\n" /* FLAT_USER_SS64 */
	"	pushq %rsi\n"
	"	pushq $0x202\n" /* IF */
	"	pushq $0xe033\n" /* FLAT_USER_CS64: RPL 3 */
	"	pushq %rdi\n"
	"	pushq $0\n" /* flags */
	"	movq %rdx, %rdi\n"
	"	xorl %eax, %eax; xorl %ebx, %ebx; xorl %ecx, %ecx; xorl %edx, %edx\n"
	"	xorl %esi, %esi; xorl %ebp, %ebp; xorl %r8d, %r8d; xorl %r9d, %r9d\n"
	"	xorl %r10d, %r10d; xorl %r11d, %r11d; xorl %r12d, %r12d; xorl %r13d, %r13d\n"
	"	xorl %r14d, %r14d; xorl %r15d, %r15d\n"
	"	cmpb $0, iret_guest_pushes_regs(%rip)\n"
	"	je 1f\n"
	"	pushq %rcx\n"
	"	pushq %r11\n"
	"1:	jmp hypercall_page + 23 * 32\n"
	"um_exit_to_kernel:\n"
	"	movq um_kctx_rsp(%rip), %rsp\n"
	"	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
	"	movq um_exit_code(%rip), %rax\n"
	"	ret\n");

static long upd(uint64_t ptr, uint64_t val)
{
	return pv_mmu_update1(ptr, val, NULL);
}

/* Is [va, va + len) inside the process's mapped pages (code..stack)? */
static bool user_range(unsigned long va, unsigned long len)
{
	return va >= USER_VA && len <= 3 * PAGE_SIZE && va + len <= USER_VA + 3 * PAGE_SIZE &&
	       va + len >= va;
}

/* saved: r11 r10 r9 r8 rdi rsi rdx rcx rax, then rip cs rflags rsp ss. */
long um_syscall(unsigned long *saved)
{
	unsigned long nr = saved[8], a0 = saved[4], a1 = saved[5];
	char buf[128];

	syscalls++;
	if (!(saved[10] & 3)) {
		printk("usermode: FAIL syscall callback entered from kernel mode\n");
		sched_shutdown(SHUTDOWN_crash);
	}
	switch (nr) {
	case SYS_WRITE:
		/* Our L4 maps the process's pages too: read them where it sees them. */
		if (!user_range(a0, a1) || a1 >= sizeof(buf)) {
			saved[8] = (unsigned long)-14; /* -EFAULT */
			return 0;
		}
		memcpy(buf, (const void *)a0, a1);
		buf[a1] = 0;
		printk("usermode: process %d says: %s\n", PID, buf);
		saved[8] = a1;
		return 0;
	case SYS_GETPID:
		saved[8] = PID;
		return 0;
	case SYS_EXIT:
		um_exit_code = (long)a0;
		return 1;
	default:
		saved[8] = (unsigned long)-ENOSYS;
		return 0;
	}
}

long um_trap(unsigned long vec, unsigned long err, unsigned long *saved)
{
	unsigned long cr2 = 0;
	static const char *const names[] = { [6] = "#UD", [13] = "#GP", [14] = "#PF" };

	if (vec == 14)
		cr2 = READ_ONCE(shared_info->vcpu_info[0].arch.cr2);
	if (!(saved[10] & 3)) {
		printk("usermode: FAIL kernel-mode %s error 0x%lx at rip 0x%lx cr2 0x%lx\n",
		       names[vec], err, saved[9], cr2);
		sched_shutdown(SHUTDOWN_crash);
	}
	if (vec == 14 && (err & 4) && cr2 >= DZ_VA && cr2 < DZ_VA + PAGE_SIZE && !dz_page) {
		/* Demand-zero: a fresh zeroed page, mapped into the process's L1. */
		dz_page = page_alloc();
		if (dz_page) {
			memset(dz_page, 0, PAGE_SIZE);
			if (!upd(pv_ma(ul1) + 5 * 8, pv_ma(dz_page) | PAGE_USER_RW)) {
				dz_faults++;
				return 0; /* the access runs again, on the new page */
			}
		}
		printk("usermode: FAIL cannot map the demand-zero page\n");
	}
	printk("usermode: process %d killed: %s error 0x%lx at rip 0x%lx", PID, names[vec], err,
	       saved[9]);
	if (vec == 14)
		printk(" cr2 0x%lx", cr2);
	printk(" (cs 0x%lx)\n", saved[10] & 0xffff);
	um_exit_code = -(long)vec;
	return 1;
}

static bool um_check(bool ok, const char *what, long v)
{
	if (!ok)
		printk("usermode: FAIL %s (%ld)\n", what, v);
	return ok;
}

#define STEP(call, what)                                                                           \
	do {                                                                                       \
		rc = (call);                                                                       \
		ok &= um_check(!rc, what, rc);                                                     \
	} while (0)

void usermode_word(const start_info_t *si, const char *arg)
{
	const struct trap_info table[] = {
		{ .vector = 6, .flags = 0, .cs = FLAT_KERNEL_CS, .address = (unsigned long)um_trap_ud },
		{ .vector = 13, .flags = 0, .cs = FLAT_KERNEL_CS, .address = (unsigned long)um_trap_gp },
		{ .vector = 14, .flags = 4, .cs = FLAT_KERNEL_CS, .address = (unsigned long)um_trap_pf },
		{ 0 },
	};
	struct callback_register cb = { .type = CALLBACKTYPE_syscall,
					.flags = CALLBACKF_mask_events,
					.address = (unsigned long)um_syscall_entry };
	uint64_t kl4 = pv_ma((void *)si->pt_base);
	unsigned long off;
	bool ok = true;
	long rc;

	ul4 = page_alloc();
	ul3 = page_alloc();
	ul2 = page_alloc();
	ul1 = page_alloc();
	code = page_alloc();
	stack = page_alloc();
	if (!ul4 || !ul3 || !ul2 || !ul1 || !code || !stack) {
		printk("usermode: FAIL no pages\n");
		return;
	}
	memset(ul4, 0, PAGE_SIZE);
	memset(ul3, 0, PAGE_SIZE);
	memset(ul2, 0, PAGE_SIZE);
	memset(ul1, 0, PAGE_SIZE);
	memset(code, 0xcc, PAGE_SIZE);
	memset(stack, 0, PAGE_SIZE);
	memcpy(code, um_prog_start, (size_t)(um_prog_end - um_prog_start));
	*(uint64_t *)stack = GS_MAGIC; /* %gs:0 for the process */
	dz_page = NULL;
	syscalls = dz_faults = 0;
	/* Its code read-only, its stack writable, both user pages; nothing else. */
	ul1[0] = pv_ma(code) | PAGE_USER_RO;
	ul1[2] = pv_ma(stack) | PAGE_USER_RW;
	ul2[0] = pv_ma(ul1) | PAGE_USER_RW;
	ul3[0] = pv_ma(ul2) | PAGE_USER_RW;
	ul4[USER_SLOT] = pv_ma(ul3) | PAGE_USER_RW;
	rc = pv_remap(ul4, PAGE_USER_RO) | pv_remap(ul3, PAGE_USER_RO) |
	     pv_remap(ul2, PAGE_USER_RO) | pv_remap(ul1, PAGE_USER_RO);
	ok &= um_check(!rc, "tables made read-only", rc);
	STEP(pv_mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(ul4)), "pin the user L4");
	/* Our own L4 maps the process too (Xen's convention: the kernel's sees both). */
	STEP(upd(kl4 + USER_SLOT * 8, pv_ma(ul3) | PAGE_USER_RW), "link the process into our L4");
	STEP(pv_mmuext1(MMUEXT_NEW_USER_BASEPTR, virt_to_mfn(ul4)), "NEW_USER_BASEPTR");
	STEP(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)um_kstack + KSTACK_SIZE),
	     "stack_switch");
	STEP(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), "register the syscall callback");
	STEP(HYPERVISOR_set_trap_table(table), "set_trap_table");
	STEP(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, GS_PAGE), "SEGBASE_GS_USER");
	if (!ok)
		goto out;
	printk("usermode: user L4 maps 0x%lx..0x%lx only; kernel stack 0x%lx\n", USER_VA,
	       USER_VA + 6 * PAGE_SIZE, (unsigned long)um_kstack + KSTACK_SIZE);

	/* The process proper: syscalls, %gs, demand-zero, -ENOSYS. */
	off = (unsigned long)(um_prog_main - um_prog_start);
	rc = um_run(CODE_VA + off, STACK_TOP, 0);
	events_unmask(); /* the syscall callback masked them */
	ok &= um_check(rc == 0, "the process's checks (mask: 1 write, 2 getpid, 4 %gs, "
				"8 demand-zero read, 16 its write, 32 -ENOSYS)",
		       rc);
	ok &= um_check(syscalls == 4 && dz_faults == 1, "4 syscalls and 1 demand-zero fault",
		       (long)(syscalls * 100 + dz_faults));
	if (ok)
		printk("usermode: process %d exited with %ld after %u syscalls, %u demand-zero "
		       "fault\n",
		       PID, rc, syscalls, dz_faults);

	/* Faults it cannot survive: the kernel kills it and carries on. */
	off = (unsigned long)(um_prog_gp - um_prog_start);
	rc = um_run(CODE_VA + off, STACK_TOP, 0);
	events_unmask();
	ok &= um_check(rc == -13, "hlt in user mode killed by #GP", rc);
	off = (unsigned long)(um_prog_ud - um_prog_start);
	rc = um_run(CODE_VA + off, STACK_TOP, 0);
	events_unmask();
	ok &= um_check(rc == -6, "ud2 in user mode killed by #UD", rc);
	/* The kernel's memory is not in the process's tables. */
	off = (unsigned long)(um_prog_peek - um_prog_start);
	rc = um_run(CODE_VA + off, STACK_TOP, (unsigned long)si->pt_base);
	events_unmask();
	ok &= um_check(rc == -14, "a kernel address read from user mode: #PF", rc);

out:
	/* Undo: no trap table, no callback, no user tables; the pages plain memory again. */
	cb.address = 0;
	(void)HYPERVISOR_callback_op(CALLBACKOP_unregister, &cb);
	(void)HYPERVISOR_set_trap_table(NULL);
	(void)HYPERVISOR_set_segment_base(SEGBASE_GS_USER, 0);
	(void)upd(kl4 + USER_SLOT * 8, 0);
	(void)pv_mmuext1(MMUEXT_NEW_USER_BASEPTR, 0);
	(void)pv_mmuext1(MMUEXT_UNPIN_TABLE, virt_to_mfn(ul4));
	if (dz_page)
		(void)upd(pv_ma(ul1) + 5 * 8, 0);
	rc = pv_remap(ul4, PAGE_KERNEL_RW) | pv_remap(ul3, PAGE_KERNEL_RW) |
	     pv_remap(ul2, PAGE_KERNEL_RW) | pv_remap(ul1, PAGE_KERNEL_RW);
	ok &= um_check(!rc, "tables writable again", rc);
	if (!rc) {
		page_free(ul4);
		page_free(ul3);
		page_free(ul2);
		page_free(ul1);
	}
	page_free(code);
	page_free(stack);
	if (dz_page)
		page_free(dz_page);
	printk(ok ? "usermode: ok\n" : "usermode: FAIL\n");
}
