// SPDX-License-Identifier: MIT
/*
 * sv-runner: one PV domain as a host process.  Started by the hypervisor's
 * process engine with the guest's memory (fd 3) and the shared pages
 * (fd 4), it clears its address space down to itself, makes one thread per
 * vCPU, shuts itself in with seccomp and then only runs guest code and
 * trades vCPUs with the hypervisor.  Freestanding: no libc, raw system calls.
 */
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <asm/sigcontext.h>
#include <asm/unistd.h>
#include "sv/procabi.h"
#include "filter.h"
#include "low_window.h"

/* One static image: every symbol is local, so -fpie code addresses it RIP-relative. */
#pragma GCC visibility push(hidden)

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 0x01
#define MAP_FIXED 0x10
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define O_RDONLY 0
#define PR_SET_PDEATHSIG 1
#define PR_SET_DUMPABLE 4
#define PR_SET_NO_NEW_PRIVS 38
#define PR_SET_TSC 26
#define PR_TSC_SIGSEGV 2
#define SIGKILL 9
#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGFPE 8
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGSYS 31
#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define RLIMIT_CORE 4
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9
#define PRIO_PROCESS 0
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002

#define ALT_STACK_SIZE 16384
#define THREAD_STACK_SIZE 16384
/*
 * How long a side spins on the block before it sleeps, in TSC cycles.
 * A cross-CPU futex wake costs about 12 us on an idle VM host, so a busy
 * vCPU that trades by spinning is ten times faster; but a spin that ends
 * in sleep anyway only burns a CPU others need.  So each vCPU's budget
 * doubles (up to SPIN_MAX, about 25 us at 2 GHz) when spinning caught the
 * other side and halves (down to SPIN_MIN) when it did not, as KVM's halt
 * polling grows and shrinks.
 */
#define SPIN_MAX 50000
#define SPIN_MIN 10000

/* Linker-script and entry.S symbols. */
extern char sv_text_start[], sv_text_end[], sv_restore_0[], sv_restore_end[];
extern char sv_peek_start[], sv_peek_fault[];
extern long sv_peek(uint64_t *dst, uint64_t src, long words);
extern void sv_restorer(void);
extern void sv_enter_guest(long index) __attribute__((noreturn));
extern long sv_clone_thread(unsigned long flags, void *stack_top, uint32_t *child_tid,
			    void (*fn)(long), long arg);

/*
 * Thread id of each vCPU, read by sv_entry.  Like everything here it is
 * writable by the guest, which can only confuse itself with it.
 */
uint32_t sv_tids[SV_PROC_MAX_VCPUS];
/* How many vCPUs (threads) there are, for sv_entry: with one, no gettid is needed. */
uint32_t sv_nr_vcpus;
static uint8_t alt_stacks[SV_PROC_MAX_VCPUS][ALT_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t thread_stacks[SV_PROC_MAX_VCPUS][THREAD_STACK_SIZE] __attribute__((aligned(16)));
uint8_t main_stack[65536] __attribute__((aligned(16), used));
static uint32_t threads_up;
static uint64_t spin_budget[SV_PROC_MAX_VCPUS]; /* per vCPU, see SPIN_MAX */

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define sys(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static void __attribute__((noreturn)) die(int code)
{
	for (;;)
		sys(__NR_exit_group, code, 0, 0);
}

static struct sv_proc_hdr *hdr(void)
{
	return (struct sv_proc_hdr *)SV_PROC_SHARED_VA;
}

static struct sv_proc_vcpu *block(long i)
{
	return (struct sv_proc_vcpu *)SV_PROC_VCPU_VA(i);
}

static void copy_str(char *dst, const char *src, unsigned max)
{
	unsigned i = 0;

	for (; src[i] && i + 1 < max; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* A setup step failed: say which in the header, and stop. */
static void __attribute__((noreturn)) fail(const char *step, long err)
{
	hdr()->error = (int32_t)err;
	copy_str(hdr()->error_msg, step, sizeof(hdr()->error_msg));
	__atomic_store_n(&hdr()->ready, 2, __ATOMIC_SEQ_CST);
	sys(__NR_futex, &hdr()->ready, FUTEX_WAKE, 1);
	die(1);
}

static uint64_t fake_tsc;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	if (hdr()->tsc_trap) /* rdtsc faults here too (PR_SET_TSC): count instead */
		return fake_tsc += 64;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* hdr.test_entry_delay, read once at start (the header is the guest's to write later). */
static uint32_t entry_delay;

/*
 * Tests only (procabi.h, test_entry_delay): spin after the runner's last
 * look at the kick flag in C, before the way into the guest, so that a
 * test can make a kick land there at will.  Normally 0: nothing.
 */
static void test_entry_spin(void)
{
	uint64_t t0;

	if (!entry_delay)
		return;
	t0 = rdtsc();
	while (rdtsc() - t0 < entry_delay)
		__asm__ volatile("pause");
}

/*
 * One entry of the process's LDT (every thread's: the kernel reloads it on
 * each CPU running this process).  An entry the kernel refuses is left
 * empty, so its selector faults: no failure of the run.
 */
static long ldt_entry(const uint8_t desc[16])
{
	/* The kernel's "no segment" (LDT_empty): read_exec_only and seg_not_present alone. */
	uint32_t empty[4] = { 0, 0, 0, 1u << 3 | 1u << 5 };

	if (sys(__NR_modify_ldt, 0x11, desc, 16) == 0)
		return 0;
	empty[0] = (uint32_t)desc[0] | (uint32_t)desc[1] << 8 | (uint32_t)desc[2] << 16 |
		   (uint32_t)desc[3] << 24; /* the same entry_number */
	sys(__NR_modify_ldt, 0x11, empty, 16);
	return 0;
}

static void apply_maps(struct sv_proc_vcpu *c)
{
	uint32_t n = __atomic_load_n(&c->nr_maps, __ATOMIC_ACQUIRE);

	if (n > SV_PROC_MAX_MAPS)
		n = SV_PROC_MAX_MAPS;
	for (uint32_t i = 0; i < n; i++) {
		struct sv_proc_map m = c->maps[i];
		long r;

		if (m.op == SV_PROC_OP_MAP)
			r = sys6(__NR_mmap, (long)m.va, (long)m.len, m.prot, MAP_SHARED | MAP_FIXED,
				 SV_PROC_MEMFD, (long)m.offset);
		else if (m.op == SV_PROC_OP_LDT)
			r = ldt_entry(m.ldt);
		else
			r = sys(__NR_munmap, m.va, m.len, 0);
		if (r < 0 && r > -4096 && !c->map_error)
			c->map_error = r;
	}
	c->nr_maps = 0;
}

/*
 * The guest's %fs and %gs bases, when the hypervisor changed them: this
 * host gives user space no wrfsbase, so arch_prctl (which the filter
 * allows with these two codes only).  The runner itself never uses %fs or
 * %gs.  A base the kernel refuses stays as it was: the hypervisor only
 * sends lower-half ones (seg_base_max).
 */
static void load_segs(struct sv_proc_vcpu *c)
{
	uint32_t load = __atomic_exchange_n(&c->seg_load, 0, __ATOMIC_ACQUIRE);

	if (load & SV_PROC_SEG_FS)
		sys(__NR_arch_prctl, ARCH_SET_FS, c->fs_base, 0);
	if (load & SV_PROC_SEG_GS)
		sys(__NR_arch_prctl, ARCH_SET_GS, c->gs_base, 0);
}

/*
 * Hand the vCPU to the hypervisor (state EXIT, reason already set) and
 * wait for it to come back.  Returns with the registers to run in the
 * block, the maps applied and no kick pending.
 */
void sv_exchange(struct sv_proc_vcpu *c);
void sv_exchange(struct sv_proc_vcpu *c)
{
	for (;;) {
		uint32_t s;

		/*
		 * Registers and reason are written before the hypervisor may
		 * look.  Each side says when it sleeps, and the other wakes it
		 * only then: state and the sleep flag are written and read in
		 * opposite orders, all seq_cst, so no wake-up is lost.
		 */
		__atomic_store_n(&c->state, SV_PROC_EXIT, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->hv_sleeps, __ATOMIC_SEQ_CST))
			sys(__NR_futex, &c->state, FUTEX_WAKE, 1);
		uint64_t *budget = &spin_budget[((uint64_t)c - SV_PROC_VCPU_VA(0)) /
						(4096 * SV_PROC_VCPU_PAGES) % SV_PROC_MAX_VCPUS];
		uint64_t t0 = rdtsc();
		bool slept = false;
		if (*budget < SPIN_MIN || *budget > SPIN_MAX)
			*budget = SPIN_MAX;
		for (;;) {
			s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
			if (s != SV_PROC_EXIT)
				break;
			if (!slept && rdtsc() - t0 < *budget) {
				__asm__ volatile("pause");
				continue;
			}
			slept = true;
			__atomic_store_n(&c->rt_sleeps, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->state, __ATOMIC_SEQ_CST) == SV_PROC_EXIT)
				sys(__NR_futex, &c->state, FUTEX_WAIT, SV_PROC_EXIT);
			__atomic_store_n(&c->rt_sleeps, 0, __ATOMIC_SEQ_CST);
		}
		*budget = slept ? (*budget / 2 > SPIN_MIN ? *budget / 2 : SPIN_MIN)
				: (*budget * 2 < SPIN_MAX ? *budget * 2 : SPIN_MAX);
		if (s != SV_PROC_RUN)
			continue; /* not ours to act on: hand it back */
		apply_maps(c);
		if (__atomic_load_n(&c->maps_only, __ATOMIC_ACQUIRE)) {
			c->reason = SV_PROC_R_MAPPED;
			continue;
		}
		load_segs(c);
		if (__atomic_exchange_n(&c->kick, 0, __ATOMIC_SEQ_CST)) {
			c->reason = SV_PROC_R_KICK;
			continue;
		}
		return;
	}
}

/*
 * Xen's x86-64 PV ABI, as far as the runner's own HYPERVISOR_iret needs it
 * (xen/arch-x86/xen-x86_64.h and xen.h; the runner is freestanding).
 */
#define HYPERCALL_IRET 23
#define FLAT_RING3_CS64 0xe033
#define FLAT_RING3_SS64 0xe02b
#define VGCF_IN_SYSCALL (1u << 8)
#define RFLAGS_IF 0x200ull
#define RFLAGS_GUEST 0x40cd5ull /* CF PF AF ZF SF DF OF AC, as pv.c */
#define LEGACY_VCPUS 32		/* XEN_LEGACY_MAX_VCPUS: vcpu_info slots in shared_info */
#define VCPU_INFO_SIZE 64	/* struct vcpu_info on x86-64 */

/* The start of struct vcpu_info: what an iret reads and writes. */
struct vcpu_info_head {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
};

/*
 * HYPERVISOR_iret without handing the vCPU to the hypervisor, for the
 * common case only: the hypervisor allows it for this run (SV_PROC_FAST_IRET:
 * the vCPU is in kernel mode, ends no NMI handler, keeps its I/O privilege
 * and its vcpu_info in shared_info) and the frame returns to kernel mode
 * on the flat selectors at a canonical rip.  Then it does what pv_iret
 * does: rax, rip, rsp and the guest's rflags bits from the frame, rcx and
 * r11 too unless VGCF_in_syscall (then sysret's: rip and rflags), and the
 * upcall mask from the frame's IF.  Anything else -- a return to user
 * mode, a frame the CPU would refuse (the failsafe callback), a frame the
 * runner cannot read, events pending as they are unmasked, a kick -- is
 * the hypervisor's, as before: false, and nothing but the mask (set to
 * what pv_iret sets it to again) has changed.  The frame is the guest's
 * own stack and every register it gives is one the guest could load
 * itself: nothing the hypervisor decides is taken from it.
 */
static bool fast_iret(struct sv_proc_vcpu *c)
{
	uint64_t *r = c->regs, f[9], rflags;
	uint64_t idx = ((uint64_t)c - SV_PROC_VCPU_VA(0)) / (4096 * SV_PROC_VCPU_PAGES);
	struct vcpu_info_head *vi;
	bool mask;

	if (r[SV_PROC_RAX] != HYPERCALL_IRET || idx >= LEGACY_VCPUS ||
	    !(__atomic_load_n(&c->fast, __ATOMIC_ACQUIRE) & SV_PROC_FAST_IRET))
		return false;
	/* rax r11 rcx flags rip cs rflags rsp ss: Xen's struct iret_context, at rsp. */
	if (r[SV_PROC_RSP] < 4096 || r[SV_PROC_RSP] > SV_PROC_GUEST_VA_END - sizeof(f) ||
	    sv_peek(f, r[SV_PROC_RSP], 9))
		return false;
	if ((f[5] & 3) == 3 || (f[5] | 3) != FLAT_RING3_CS64 || (f[8] | 3) != FLAT_RING3_SS64 ||
	    (uint64_t)((int64_t)(f[4] << 16) >> 16) != f[4])
		return false;
	vi = (struct vcpu_info_head *)(SV_PROC_SHINFO_VA + VCPU_INFO_SIZE * idx);
	mask = !(f[6] & RFLAGS_IF);
	/* Stored, then pending read (the hypervisor sets pending, then kicks): no event is missed. */
	__atomic_store_n(&vi->evtchn_upcall_mask, mask, __ATOMIC_SEQ_CST);
	if (!mask && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
		return false; /* an upcall is due: pv_iret, then its delivery */
	if (__atomic_load_n(&c->kick, __ATOMIC_SEQ_CST))
		return false;
	rflags = (f[6] & RFLAGS_GUEST) | RFLAGS_IF | 2;
	r[SV_PROC_RAX] = f[0];
	r[SV_PROC_RIP] = f[4];
	r[SV_PROC_RSP] = f[7];
	r[SV_PROC_RFLAGS] = rflags;
	r[SV_PROC_RCX] = f[3] & VGCF_IN_SYSCALL ? f[4] : f[2];
	r[SV_PROC_R11] = f[3] & VGCF_IN_SYSCALL ? rflags : f[1];
	return true;
}

/* The hypercall entry (entry.S), registers in the block: the runner's iret, else the hypervisor. */
void sv_hypercall(struct sv_proc_vcpu *c);
void sv_hypercall(struct sv_proc_vcpu *c)
{
	if (!fast_iret(c))
		sv_exchange(c);
	test_entry_spin();
}

/*
 * A restore block (entry.S) found the kick flag set as its last look before
 * the guest: no guest instruction ran, the block holds the registers to
 * report.  Leave as on_signal does for a kick; entry.S then goes through
 * the restore block again.
 */
void sv_kicked(long idx);
void sv_kicked(long idx)
{
	struct sv_proc_vcpu *c = block(idx);

	__atomic_store_n(&c->kick, 0, __ATOMIC_SEQ_CST);
	c->reason = SV_PROC_R_KICK;
	sv_exchange(c);
	test_entry_spin();
}

/* The kernel's x86-64 ucontext, up to the machine context we use. */
struct k_ucontext {
	unsigned long uc_flags;
	struct k_ucontext *uc_link;
	void *ss_sp;
	int ss_flags;
	unsigned long ss_size;
	struct sigcontext mc;
};

struct k_siginfo {
	int si_signo, si_errno, si_code, pad;
	union {
		void *addr; /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
		struct {
			void *call_addr;
			int syscall;
			unsigned arch;
		} sys; /* SIGSYS */
	};
};

static void regs_from_mc(uint64_t *r, const struct sigcontext *mc)
{
	r[SV_PROC_RAX] = mc->rax;
	r[SV_PROC_RBX] = mc->rbx;
	r[SV_PROC_RCX] = mc->rcx;
	r[SV_PROC_RDX] = mc->rdx;
	r[SV_PROC_RSI] = mc->rsi;
	r[SV_PROC_RDI] = mc->rdi;
	r[SV_PROC_RSP] = mc->rsp;
	r[SV_PROC_RBP] = mc->rbp;
	r[SV_PROC_R8] = mc->r8;
	r[SV_PROC_R9] = mc->r9;
	r[SV_PROC_R10] = mc->r10;
	r[SV_PROC_R11] = mc->r11;
	r[SV_PROC_R12] = mc->r12;
	r[SV_PROC_R13] = mc->r13;
	r[SV_PROC_R14] = mc->r14;
	r[SV_PROC_R15] = mc->r15;
	r[SV_PROC_RIP] = mc->rip;
	r[SV_PROC_RFLAGS] = mc->eflags;
}

static void regs_to_mc(struct sigcontext *mc, const uint64_t *r)
{
	mc->rax = r[SV_PROC_RAX];
	mc->rbx = r[SV_PROC_RBX];
	mc->rcx = r[SV_PROC_RCX];
	mc->rdx = r[SV_PROC_RDX];
	mc->rsi = r[SV_PROC_RSI];
	mc->rdi = r[SV_PROC_RDI];
	mc->rsp = r[SV_PROC_RSP];
	mc->rbp = r[SV_PROC_RBP];
	mc->r8 = r[SV_PROC_R8];
	mc->r9 = r[SV_PROC_R9];
	mc->r10 = r[SV_PROC_R10];
	mc->r11 = r[SV_PROC_R11];
	mc->r12 = r[SV_PROC_R12];
	mc->r13 = r[SV_PROC_R13];
	mc->r14 = r[SV_PROC_R14];
	mc->r15 = r[SV_PROC_R15];
	mc->rip = r[SV_PROC_RIP];
	mc->eflags = r[SV_PROC_RFLAGS]; /* the kernel keeps only what user mode may set */
}

/*
 * Every signal the guest can cause, and the hypervisor's kick (SIGUSR1),
 * on the vCPU's own alternate stack, with SIGUSR1 blocked (sa_mask).
 * Faults and denied system calls are reported with the registers of the
 * moment.  A kick is never lost (entry.S, above the restore blocks): one
 * that lands while the runner itself runs is left to the runner, whose
 * next look at the kick flag (sv_exchange, fast_iret, or the restore
 * block's, the last before the guest) sees it; one inside a restore
 * block, past that last look, is a kick exit with the block's registers
 * as the state to report; one in guest code is a kick exit with the
 * registers of the moment.  A kick sent while a handler runs stays
 * pending until rt_sigreturn, which unblocks SIGUSR1 as it enters the
 * guest: it is then taken at the guest's rip.  On return the kernel
 * loads whatever the hypervisor put in the block.
 */
/* The host's flat user code and stack selectors (the runner's own, read at start). */
static uint16_t flat_cs, flat_ss;

static void on_signal(int sig, struct k_siginfo *si, void *uctx)
{
	struct k_ucontext *uc = uctx;
	uint8_t *sp = (uint8_t *)__builtin_frame_address(0);
	long idx = (sp - &alt_stacks[0][0]) / ALT_STACK_SIZE;
	uint64_t rip = uc->mc.rip;
	int in_runner = rip >= (uint64_t)sv_text_start && rip < (uint64_t)sv_text_end;
	int in_restore = rip >= (uint64_t)sv_restore_0 && rip < (uint64_t)sv_restore_end;
	struct sv_proc_vcpu *c;

	if (idx < 0 || idx >= SV_PROC_MAX_VCPUS)
		die(2);
	if ((sig == SIGSEGV || sig == SIGBUS) && rip >= (uint64_t)sv_peek_start &&
	    rip < (uint64_t)sv_peek_fault) {
		uc->mc.rip = (uint64_t)sv_peek_fault; /* sv_peek of memory the guest does not map */
		return;
	}
	c = block(idx);
	if (sig == SIGUSR1) {
		if (in_runner && !in_restore)
			return;
		__atomic_store_n(&c->kick, 0, __ATOMIC_SEQ_CST);
		if (!in_restore)
			regs_from_mc(c->regs, &uc->mc);
		c->reason = SV_PROC_R_KICK;
	} else {
		regs_from_mc(c->regs, &uc->mc);
		if (sig == SIGSYS) {
			c->trapno = (uint64_t)(uint32_t)si->sys.syscall;
			c->err = si->sys.arch;
			c->reason = SV_PROC_R_SYSCALL;
		} else {
			c->trapno = uc->mc.trapno;
			c->err = uc->mc.err;
			c->cr2 = uc->mc.cr2;
			c->reason = in_runner ? SV_PROC_R_RUNTIME : SV_PROC_R_FAULT;
		}
	}
	sv_exchange(c);
	test_entry_spin();
	/*
	 * Back on the host's flat 64-bit code and stack segments, as Xen
	 * returns from a hypercall or bounce on FLAT_RING3_*: the guest may
	 * have gone to one of its LDT's (64-bit: the same code) by lret,
	 * whose entry may be gone by now.  Only a kick that changed nothing
	 * returns where it was, as an interrupt would.
	 */
	if (sig != SIGUSR1 || c->regs[SV_PROC_RIP] != rip) {
		uc->mc.cs = flat_cs;
		uc->mc.ss = flat_ss;
	}
	regs_to_mc(&uc->mc, c->regs);
}

struct k_sigaction {
	void (*handler)(int, struct k_siginfo *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void set_alt_stack(long idx)
{
	struct {
		void *sp;
		int flags;
		unsigned long size;
	} ss = { alt_stacks[idx], 0, ALT_STACK_SIZE };
	long r = sys(__NR_sigaltstack, &ss, 0, 0);

	if (r < 0)
		fail("sigaltstack", r);
}

static void vcpu_thread(long idx)
{
	struct sv_proc_vcpu *c = block(idx);

	set_alt_stack(idx);
	sv_tids[idx] = (uint32_t)sys(__NR_gettid, 0, 0, 0);
	c->tid = sv_tids[idx];
	c->reason = SV_PROC_R_READY;
	__atomic_fetch_add(&threads_up, 1, __ATOMIC_SEQ_CST);
	sv_exchange(c);
	sv_enter_guest(idx);
}

static int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static uint64_t hex_val(char ch)
{
	return ch <= '9' ? (uint64_t)(ch - '0') : (uint64_t)(ch - 'a' + 10);
}

/*
 * Unmap everything the kernel gave us that is not the runner itself or the
 * shared pages: the exec stack, vdso and vvar.  Read from /proc/self/maps
 * before the filter forbids open and read.
 */
static void unmap_foreign(void)
{
	static char buf[16384];
	long fd = sys(__NR_open, "/proc/self/maps", O_RDONLY, 0), n = 0, r;
	uint64_t ranges[32][2];
	unsigned nr = 0;

	if (fd < 0)
		fail("open /proc/self/maps", fd);
	while (n < (long)sizeof(buf) - 1 &&
	       (r = sys(__NR_read, fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	sys(__NR_close, fd, 0, 0);
	buf[n] = '\0';
	for (char *p = buf; *p && nr < 32;) {
		uint64_t lo = 0, hi = 0;
		while (is_hex(*p))
			lo = lo * 16 + hex_val(*p++);
		if (*p++ != '-')
			break;
		while (is_hex(*p))
			hi = hi * 16 + hex_val(*p++);
		if ((lo < SV_PROC_RUNNER_VA || lo >= SV_PROC_SHARED_VA + SV_PROC_SHARED_SIZE) &&
		    lo < 0x800000000000ULL && (lo < SV_PROC_M2P_VA || lo >= SV_PROC_RUNNER_VA)) {
			ranges[nr][0] = lo;
			ranges[nr][1] = hi;
			nr++;
		}
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
	}
	for (unsigned i = 0; i < nr; i++)
		sys(__NR_munmap, ranges[i][0], ranges[i][1] - ranges[i][0], 0);
}

static void setup_limits(struct sv_proc_hdr *h)
{
	struct {
		uint64_t cur, max;
	} rl;

	rl.cur = rl.max = 0;
	sys(__NR_setrlimit, RLIMIT_CORE, &rl, 0);
	rl.cur = rl.max = SV_PROC_MEMFD + 1;
	sys(__NR_setrlimit, RLIMIT_NOFILE, &rl, 0);
	rl.cur = rl.max = 4 * h->memfd_size + (512ULL << 20);
	sys(__NR_setrlimit, RLIMIT_AS, &rl, 0);
	if (h->nice)
		sys(__NR_setpriority, PRIO_PROCESS, 0, h->nice);
}

static long sys3(long nr, long a, long b, long c)
{
	return sys6(nr, a, b, c, 0, 0, 0);
}

/* The low window (procabi.h): a uid of its own and CAP_SYS_RAWIO alone, instead of a user ns. */
static void low_window_creds(struct sv_proc_hdr *h)
{
	uint32_t id = SV_PROC_LOW_UID_BASE + (uint32_t)sys(__NR_getpid, 0, 0, 0);
	const char *step = "";
	long r = sv_low_window_creds(sys3, id, &step);

	if (r < 0)
		fail(step, r);
	h->low_uid = id;
}

void sv_main(void) __attribute__((noreturn));
void sv_main(void)
{
	struct sv_proc_hdr *h;
	long r;

	r = sys6(__NR_mmap, (long)SV_PROC_SHARED_VA, (long)SV_PROC_SHARED_SIZE,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, SV_PROC_SHAREDFD, 0);
	if (r != (long)SV_PROC_SHARED_VA)
		die(3);
	sys(__NR_close, SV_PROC_SHAREDFD, 0, 0);
	h = hdr();
	if (h->magic != SV_PROC_MAGIC || h->version != SV_PROC_VERSION || h->nr_vcpus < 1 ||
	    h->nr_vcpus > SV_PROC_MAX_VCPUS)
		fail("header", -22);
	/*
	 * Its own user namespace where the host allows it: no capability on
	 * the host.  A low window needs one, CAP_SYS_RAWIO, in the host's.
	 */
	if (h->low_window)
		low_window_creds(h);
	else
		h->userns = sys(__NR_unshare, CLONE_NEWUSER, 0, 0) == 0;
	/* After any credential change, which clears it: die with the hypervisor. */
	sys(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL, 0);
	if (sys(__NR_getppid, 0, 0, 0) != h->parent_pid)
		die(4);
	sys(__NR_setsid, 0, 0, 0);
	if ((r = sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0)) < 0)
		fail("no_new_privs", r);
	sys(__NR_prctl, PR_SET_DUMPABLE, 0, 0);
	setup_limits(h);
	/* tsc_mode: rdtsc faults (SIGSEGV) and the hypervisor emulates it; inherited by the
	 * vCPU threads cloned below; the filter refuses prctl from then on. */
	if (h->tsc_trap && (r = sys(__NR_prctl, PR_SET_TSC, PR_TSC_SIGSEGV, 0)) < 0)
		fail("PR_SET_TSC", r);
	unmap_foreign();
	if (h->shinfo_offset != UINT64_MAX) {
		r = sys6(__NR_mmap, (long)SV_PROC_SHINFO_VA, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD, (long)h->shinfo_offset);
		if (r != (long)SV_PROC_SHINFO_VA)
			fail("map shared_info", r);
	}
	if (h->m2p_len) {
		r = sys6(__NR_mmap, (long)SV_PROC_M2P_VA, (long)h->m2p_len, PROT_READ,
			 MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD, (long)h->m2p_offset);
		if (r != (long)SV_PROC_M2P_VA)
			fail("map the M2P", r);
	}

	struct k_sigaction sa = {
		.handler = on_signal,
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = sv_restorer,
		.mask = 1ULL << (SIGUSR1 - 1), /* a kick waits for the signal return (on_signal) */
	};
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGUSR1 };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		r = sys6(__NR_rt_sigaction, sigs[i], (long)&sa, 0, 8, 0, 0);
		if (r < 0)
			fail("rt_sigaction", r);
	}

	__asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(flat_cs), "=r"(flat_ss));
	entry_delay = h->test_entry_delay;
	sv_nr_vcpus = h->nr_vcpus; /* read once: the header is the guest's to write from now on */
	/* vCPU 0 is this thread; the others wait for their first run. */
	set_alt_stack(0);
	sv_tids[0] = (uint32_t)sys(__NR_gettid, 0, 0, 0);
	block(0)->tid = sv_tids[0];
	sys(__NR_set_tid_address, &block(0)->state, 0, 0);
	for (long i = 1; i < (long)h->nr_vcpus; i++) {
		r = sv_clone_thread(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
					CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
				    thread_stacks[i] + THREAD_STACK_SIZE, &block(i)->state,
				    vcpu_thread, i);
		if (r < 0)
			fail("clone", r);
	}
	while (__atomic_load_n(&threads_up, __ATOMIC_SEQ_CST) + 1 < h->nr_vcpus)
		sys(__NR_sched_yield, 0, 0, 0);

	struct sock_fprog prog = {
		.len = sizeof(sv_runner_filter) / sizeof(sv_runner_filter[0]),
		.filter = (struct sock_filter *)sv_runner_filter,
	};
	r = sys(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r != 0)
		fail("seccomp", r);

	struct sv_proc_vcpu *c = block(0);
	c->reason = SV_PROC_R_READY;
	__atomic_store_n(&h->ready, 1, __ATOMIC_SEQ_CST);
	sys(__NR_futex, &h->ready, FUTEX_WAKE, 1);
	sv_exchange(c);
	sv_enter_guest(0);
}

/* The exec entry: onto a stack of our own, so the kernel's can go. */
__asm__(".section .text\n"
	".globl _start\n"
	"_start:\n"
	"	lea main_stack+65536(%rip), %rsp\n"
	"	call sv_main\n"
	"	ud2\n");
