// SPDX-License-Identifier: MIT
/*
 * The process engine: each PV domain is an sv-runner process (see
 * runner/runner.c), each vCPU one of its threads, and a vCPU runs by
 * handing its block of shared registers to that thread and waiting on a
 * futex until the thread hands it back: at a hypercall, a fault, a denied
 * system call, or a kick.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include "proc.h"
#include <xen/arch-x86/xen-x86_64.h>

/*
 * Spin budgets, grown and shrunk per vCPU as in runner.c (sv_exchange).
 * This side waits for a whole guest turn, which for a bounced exception
 * the runner returns from itself (fast_iret) is the signal return, the
 * guest handler and the next fault's signal (about 35k cycles on a PVM
 * host): twice the runner's ceiling, or it would sleep on every one.
 */
#define SPIN_MAX 100000
#define SPIN_MIN 10000

_Static_assert(sizeof(struct hv_regs) == 8 * SV_PROC_NR_REGS, "hv_regs is the block's order");
_Static_assert(offsetof(struct sv_proc_vcpu, state) == SV_PROC_OFF_STATE, "block layout");
_Static_assert(offsetof(struct sv_proc_vcpu, reason) == SV_PROC_OFF_REASON, "block layout");
_Static_assert(offsetof(struct sv_proc_vcpu, kick) == SV_PROC_OFF_KICK, "block layout");
_Static_assert(offsetof(struct sv_proc_vcpu, regs) == SV_PROC_OFF_REGS, "block layout");
_Static_assert(sizeof(struct sv_proc_vcpu) <= 4096, "a block's first page");
_Static_assert(sizeof(struct sv_proc_hdr) <= 4096, "the header page");
_Static_assert(SV_PROC_MAX_VCPUS >= SV_MAX_VCPUS, "a block for every vCPU");
/* What runner.c's fast_iret assumes of Xen's layout. */
_Static_assert(sizeof(struct vcpu_info) == 64 && offsetof(struct shared_info, vcpu_info) == 0,
	       "vcpu_info slots");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "vcpu_info layout");
_Static_assert(FLAT_RING3_CS64 == 0xe033 && FLAT_RING3_SS64 == 0xe02b && VGCF_in_syscall == 256 &&
		   __HYPERVISOR_iret == 23 && XEN_LEGACY_MAX_VCPUS == 32,
	       "runner.c's copy of the ABI");

static long futex(uint32_t *addr, int op, uint32_t val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* The TSC rate, measured against CLOCK_MONOTONIC_RAW over 50 ms. */
static uint64_t measure_tsc_khz(void)
{
	struct timespec a, b, nap = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };
	uint64_t c0, c1, ns;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	c0 = __rdtsc();
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	c1 = __rdtsc();
	ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ULL + (uint64_t)b.tv_nsec -
	     (uint64_t)a.tv_nsec;
	return ns ? (c1 - c0) * 1000000ULL / ns : 0;
}

int proc_engine_probe(struct hv_host *h, char *why, size_t len)
{
	int ret;

	if (prctl(PR_GET_SECCOMP) < 0) {
		snprintf(why, len, "the kernel has no seccomp: %s", strerror(errno));
		return -ENOTSUP;
	}
	ret = proc_spawn_init(why, len);
	if (ret)
		return ret;
	if (!h->tsc_khz)
		h->tsc_khz = measure_tsc_khz();
	if (!h->tsc_khz) {
		snprintf(why, len, "cannot measure the TSC rate");
		return -EINVAL;
	}
	hv_log("process engine: runner ready, TSC %llu kHz", (unsigned long long)h->tsc_khz);
	return 0;
}

static struct sv_proc_vcpu *block_of(struct proc_dom *pd, unsigned i)
{
	return (struct sv_proc_vcpu *)(pd->shared + 4096 * (1 + SV_PROC_VCPU_PAGES * i));
}

static int proc_domain_init(struct hv_domain *d)
{
	struct proc_dom *pd = calloc(1, sizeof(*pd));
	char why[200];
	int ret;

	if (!pd)
		return -ENOMEM;
	pd->pidfd = -1;
	pd->shared = MAP_FAILED;
	pthread_mutex_init(&pd->map_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* proc_as.c waits by that clock */
	pthread_cond_init(&pd->as_cond, &ca);
	pthread_condattr_destroy(&ca);
	d->eng_priv = pd;
	pd->shared_fd = memfd_create("splitvisor-runner", MFD_CLOEXEC);
	if (pd->shared_fd < 0)
		return -errno; /* proc_domain_fini cleans up */
	if (ftruncate(pd->shared_fd, (off_t)SV_PROC_SHARED_SIZE) < 0)
		return -errno;
	pd->shared =
	    mmap(NULL, SV_PROC_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, pd->shared_fd, 0);
	if (pd->shared == MAP_FAILED)
		return -errno;
	uint64_t t0 = hv_now_ns();
	ret = proc_spawn(d, why, sizeof(why));
	if (ret)
		hv_log("create '%s': %s", d->name, why);
	else
		hv_log("create '%s': runner %d ready in %.1f ms", d->name, (int)pd->pid,
		       (double)(hv_now_ns() - t0) / 1e6);
	return ret;
}

static void proc_domain_stop(struct hv_domain *d)
{
	proc_kill(d);
}

static void proc_domain_fini(struct hv_domain *d)
{
	struct proc_dom *pd = proc_dom(d);

	if (!pd)
		return;
	if (pd->pid > 0)
		proc_reap(d);
	if (pd->pidfd >= 0)
		close(pd->pidfd);
	if (pd->shared != MAP_FAILED)
		munmap(pd->shared, SV_PROC_SHARED_SIZE);
	if (pd->shared_fd >= 0)
		close(pd->shared_fd);
	pthread_mutex_destroy(&pd->map_lock);
	pthread_cond_destroy(&pd->as_cond);
	proc_map_queue_free(&pd->queue);
	proc_ldt_reset(pd);
	free(pd);
	d->eng_priv = NULL;
}

static int proc_vcpu_init(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);
	struct proc_vcpu *pv = calloc(1, sizeof(*pv));

	if (!pv)
		return -ENOMEM;
	v->eng = pv;
	pv->blk = block_of(pd, v->id);
	/* Read once, before any guest code ran: kicks go to this thread only. */
	pv->tid = (pid_t)__atomic_load_n(&pv->blk->tid, __ATOMIC_ACQUIRE);
	if (pv->tid <= 0)
		return -EIO;
	if (__atomic_load_n(&v->ldt_nframes, __ATOMIC_RELAXED))
		proc_ldt_changed(v); /* set before this engine's vCPU was */
	return 0;
}

static void proc_vcpu_fini(struct hv_vcpu *v)
{
	struct proc_vcpu *pv = proc_vcpu(v);

	if (pv)
		free(pv->ldt);
	free(v->eng);
	v->eng = NULL;
}

/* The start state.  Its tables are mapped when it first goes in (proc_as.c). */
static int proc_vcpu_load(struct hv_vcpu *v)
{
	v->regs_dirty = true;
	v->segs_dirty = true; /* the start state's %fs and %gs bases */
	return 0;
}

/* Give the block to the runner and wait until it comes back (or the runner is gone). */
static uint32_t handoff(struct proc_dom *pd, struct proc_vcpu *pv)
{
	struct sv_proc_vcpu *b = pv->blk;
	bool slept = false;
	uint32_t s;

	if (pv->spin_budget < SPIN_MIN || pv->spin_budget > SPIN_MAX)
		pv->spin_budget = SPIN_MAX;

	/* The sleep flags' protocol is described in runner.c, sv_exchange. */
	__atomic_store_n(&b->state, SV_PROC_RUN, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&b->rt_sleeps, __ATOMIC_SEQ_CST))
		futex(&b->state, FUTEX_WAKE, 1);
	uint64_t t0 = __rdtsc();
	for (;;) {
		s = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
		if (s != SV_PROC_RUN || atomic_load(&pd->dead)) {
			pv->spin_budget =
			    slept
				? (pv->spin_budget / 2 > SPIN_MIN ? pv->spin_budget / 2 : SPIN_MIN)
				: (pv->spin_budget * 2 < SPIN_MAX ? pv->spin_budget * 2 : SPIN_MAX);
			return atomic_load(&pd->dead) ? SV_PROC_DEAD : s;
		}
		if (!slept && __rdtsc() - t0 < pv->spin_budget) {
			__builtin_ia32_pause();
			continue;
		}
		slept = true;
		__atomic_store_n(&b->hv_sleeps, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&b->state, __ATOMIC_SEQ_CST) == SV_PROC_RUN &&
		    !atomic_load(&pd->dead))
			futex(&b->state, FUTEX_WAIT, SV_PROC_RUN);
		__atomic_store_n(&b->hv_sleeps, 0, __ATOMIC_SEQ_CST);
	}
}

static const char *abi_name(uint64_t arch, uint64_t nr)
{
	if (arch == AUDIT_ARCH_X86_64)
		return nr & 0x40000000 ? "x32" : "x86_64";
	if (arch == AUDIT_ARCH_I386)
		return "i386";
	return "unknown ABI";
}

static int proc_vcpu_run(struct hv_vcpu *v, struct hv_exit *e)
{
	struct proc_dom *pd = proc_dom(v->dom);
	struct proc_vcpu *pv = proc_vcpu(v);
	struct sv_proc_vcpu *b = pv->blk;
	struct proc_map_queue q;
	struct sv_proc_vcpu got;
	size_t done = 0;
	uint32_t s;
	bool sync;
	int in;

	/*
	 * A runner the hypervisor ended itself (destroy, shutdown: stopping
	 * is set before the kill) is no crash: the vCPU just stops.
	 */
	e->kind = atomic_load(&pd->stopping) ? HV_EXIT_NONE : HV_EXIT_CRASH;
	if (atomic_load(&pd->dead)) {
		snprintf(e->why, sizeof(e->why), "its process is gone");
		return 0;
	}
	/* Only on its own tables, with every queued change to them applied (proc_as.c). */
	in = proc_as_enter(v, &q, &sync);
	if (in < 0) {
		snprintf(e->why, sizeof(e->why), "cannot map its page tables: %s", strerror(-in));
		proc_map_queue_free(&q);
		return 0;
	}
	if (in > 0) {
		e->kind = HV_EXIT_NONE;
		return 0;
	}
	for (;;) {
		size_t n = q.nr - done < SV_PROC_MAX_MAPS ? q.nr - done : SV_PROC_MAX_MAPS;
		bool last = done + n == q.nr && !sync;

		if (sync && !n) {
			/* The batch is in: the others may go in again, this vCPU runs. */
			proc_as_applied(v);
			sync = false;
			last = true;
		}

		if (n)
			memcpy(b->maps, q.ops + done, n * sizeof(q.ops[0]));
		b->nr_maps = (uint32_t)n;
		if (b->map_error)
			b->map_error = 0;
		b->maps_only = !last;
		if (last) {
			const uint64_t *r = (const uint64_t *)&v->regs;
			uint32_t fast = pv_iret_engine_may(v) ? SV_PROC_FAST_IRET : 0;

			for (unsigned i = 0; i < SV_PROC_NR_REGS; i++)
				if (!pv->regs_in_blk_ok || r[i] != pv->regs_in_blk[i])
					b->regs[i] = r[i];
			memcpy(pv->regs_in_blk, r, sizeof(pv->regs_in_blk));
			pv->regs_in_blk_ok = true;
			if (fast != pv->fast_in_blk) {
				__atomic_store_n(&b->fast, fast, __ATOMIC_RELEASE);
				pv->fast_in_blk = fast;
			}
			if (v->segs_dirty) {
				b->fs_base = v->fs_base;
				b->gs_base = pv_gs_active(v);
				__atomic_store_n(&b->seg_load, SV_PROC_SEG_FS | SV_PROC_SEG_GS,
						 __ATOMIC_RELEASE);
				v->segs_dirty = false;
			}
		}
		s = handoff(pd, proc_vcpu(v));
		/* Everything the runner (and so the guest) wrote is read once, here. */
		memcpy(&got, b, offsetof(struct sv_proc_vcpu, maps));
		memcpy(pv->regs_in_blk, got.regs, sizeof(pv->regs_in_blk));
		pv->fast_in_blk = got.fast;
		if (s == SV_PROC_DEAD || atomic_load(&pd->dead)) {
			if (atomic_load(&pd->stopping))
				e->kind = HV_EXIT_NONE;
			snprintf(e->why, sizeof(e->why), "its process or vCPU thread is gone");
			goto out;
		}
		if (got.map_error) {
			snprintf(e->why, sizeof(e->why), "the runner cannot map guest memory: %s",
				 strerror((int)-got.map_error));
			goto out;
		}
		done += n;
		if (last)
			break;
		if (got.reason != SV_PROC_R_MAPPED) {
			snprintf(e->why, sizeof(e->why),
				 "runner protocol error: reason %u for a map request", got.reason);
			goto out;
		}
	}
	memcpy(&v->regs, got.regs, sizeof(v->regs));
	v->regs_dirty = false;
	switch (got.reason) {
	case SV_PROC_R_HYPERCALL:
		e->kind = HV_EXIT_HYPERCALL;
		break;
	case SV_PROC_R_KICK:
		e->kind = HV_EXIT_NONE;
		break;
	case SV_PROC_R_FAULT:
		if (got.trapno >= 32) {
			snprintf(e->why, sizeof(e->why), "host fault with trap number %llu",
				 (unsigned long long)got.trapno);
			break;
		}
		e->kind = HV_EXIT_FAULT;
		e->vector = (unsigned)got.trapno;
		e->error_code = got.err;
		e->cr2 = got.cr2;
		e->frame[0] = v->regs.rip;
		e->frame[1] = v->user_mode ? FLAT_USER_CS64 : FLAT_KERNEL_CS;
		e->frame[2] = v->regs.rflags;
		e->frame[3] = v->regs.rsp;
		e->frame[4] = FLAT_KERNEL_SS;
		break;
	case SV_PROC_R_SYSCALL:
		e->kind = HV_EXIT_SYSCALL;
		e->sys_nr = got.trapno & ~0x40000000ULL;
		e->sys_abi = abi_name(got.err, got.trapno);
		break;
	case SV_PROC_R_RUNTIME:
		snprintf(e->why, sizeof(e->why),
			 "the runner faulted at %#llx (trap %llu, address %#llx): a hypercall with "
			 "an unusable stack?",
			 (unsigned long long)v->regs.rip, (unsigned long long)got.trapno,
			 (unsigned long long)got.cr2);
		break;
	default:
		snprintf(e->why, sizeof(e->why), "runner protocol error: reason %u", got.reason);
		break;
	}
out:
	if (sync)
		proc_as_applied(v);
	proc_as_leave(v);
	proc_map_queue_free(&q);
	return 0;
}

/*
 * A running vCPU leaves the guest on SIGUSR1; one that is on its way in
 * or out sees the flag (runner.c, on_signal and sv_exchange).
 */
static void proc_vcpu_kick(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);
	struct proc_vcpu *pv = proc_vcpu(v);

	__atomic_store_n(&pv->blk->kick, 1, __ATOMIC_SEQ_CST);
	if (atomic_load(&v->in_guest) && !atomic_load(&pd->dead))
		syscall(SYS_tgkill, pd->pid, pv->tid, SIGUSR1);
	proc_as_kicked(v); /* it may wait for the address space */
}

static void proc_vcpu_unkick(struct hv_vcpu *v)
{
	__atomic_store_n(&proc_vcpu(v)->blk->kick, 0, __ATOMIC_SEQ_CST);
}

/* The guest reads the host's TSC itself: no offset, no scaling. */
static uint64_t proc_vcpu_tsc(struct hv_vcpu *v)
{
	return __rdtsc();
}

/*
 * Stub nr: "mov $nr,%eax; lea 1f(%rip),%rcx; movabs $entry,%r11;
 * jmp *%r11; 1: ret".  Like Xen's syscall stubs it clobbers rcx and r11.
 * The iret stub pushes rcx, r11 and rax first, as Xen's does, and never
 * returns.
 */
static void proc_hypercall_page(struct hv_domain *d, uint8_t *p)
{
	uint64_t entry = SV_PROC_RUNNER_VA;

	memset(p, 0xcc, PAGE_SIZE);
	for (unsigned nr = 0; nr < PAGE_SIZE / SV_HYPERCALL_STUB_SIZE; nr++) {
		uint8_t *s = p + nr * SV_HYPERCALL_STUB_SIZE;
		unsigned o = 0;

		if (nr == __HYPERVISOR_iret) {
			s[o++] = 0x51; /* push %rcx */
			s[o++] = 0x41;
			s[o++] = 0x53; /* push %r11 */
			s[o++] = 0x50; /* push %rax */
		}
		s[o++] = 0xb8; /* mov $nr, %eax */
		memcpy(s + o, &nr, 4);
		o += 4;
		const uint8_t lea[] = { 0x48, 0x8d, 0x0d, 13, 0, 0, 0 }; /* lea 13(%rip), %rcx */
		memcpy(s + o, lea, sizeof(lea));
		o += sizeof(lea);
		s[o++] = 0x49;
		s[o++] = 0xbb; /* movabs $entry, %r11 */
		memcpy(s + o, &entry, 8);
		o += 8;
		s[o++] = 0x41;
		s[o++] = 0xff;
		s[o++] = 0xe3; /* jmp *%r11 */
		if (nr == __HYPERVISOR_iret) {
			s[o++] = 0x0f;
			s[o++] = 0x0b; /* ud2: iret never returns */
		} else {
			s[o++] = 0xc3; /* ret */
		}
	}
}

/* No slots to install: the hypervisor's pages are outside the guest window. */
static int proc_install_l4(struct hv_domain *d, uint64_t l4_gpa)
{
	if (l4_gpa & (PAGE_SIZE - 1) || !mem_is_ram(&d->mem, l4_gpa, PAGE_SIZE))
		return -EINVAL;
	return 0;
}

/*
 * MMUEXT_NEW_BASEPTR and the kernel/user toggle: v->cr3 names the tables
 * v runs on; the runner is switched to them when v next goes in
 * (proc_as.c), not now: other vCPUs may be running on the mapped ones.
 */
static int proc_new_baseptr(struct hv_vcpu *v)
{
	return 0;
}

/* Guest code runs on the runner's thread for the vCPU, named at start-up. */
static pid_t proc_vcpu_host_tid(struct hv_vcpu *v, pid_t *pid)
{
	*pid = proc_dom(v->dom)->pid;
	return proc_vcpu(v)->tid;
}

static bool proc_va_reserved(uint64_t va)
{
	return va >= SV_PROC_GUEST_VA_END;
}

const struct hv_engine hv_proc_engine = {
	.name = "process",
	.id = SV_ENGINE_PROCESS,
	.m2p_va = SV_PROC_M2P_VA,
	.virt_start = SV_PROC_GUEST_VA_END,
	.seg_base_max = SV_PROC_GUEST_VA_END, /* arch_prctl takes lower-half bases only */
	.va_reserved = proc_va_reserved,
	.domain_init = proc_domain_init,
	.domain_stop = proc_domain_stop,
	.domain_fini = proc_domain_fini,
	.vcpu_init = proc_vcpu_init,
	.vcpu_fini = proc_vcpu_fini,
	.vcpu_load = proc_vcpu_load,
	.vcpu_run = proc_vcpu_run,
	.vcpu_kick = proc_vcpu_kick,
	.vcpu_unkick = proc_vcpu_unkick,
	.vcpu_tsc = proc_vcpu_tsc,
	.tsc_trap_ok = proc_tsc_trap_ok,
	.hypercall_page = proc_hypercall_page,
	.install_l4 = proc_install_l4,
	.pte_changed = proc_as_pte_changed,
	.ptes_changed = proc_as_ptes_changed,
	.mapped_base = proc_as_mapped_base,
	.new_baseptr = proc_new_baseptr,
	.vcpu_host_tid = proc_vcpu_host_tid,
	.low_va_late = proc_relaunch, /* the runner again, with the low window */
	.ldt_changed = proc_ldt_changed,
	.guest_ldt = true,
};
