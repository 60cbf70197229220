// SPDX-License-Identifier: MIT
/* vCPUs: one thread each around its engine's run, exits dispatched, guest memory reached through
 * its page tables. */
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "mmu.h"
#include "hypercall.h"

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7)
#define PTE_ADDR 0x000ffffffffff000ULL

struct hv_vcpu *vcpu_create(struct hv_domain *d, unsigned id, int *err)
{
	struct hv_vcpu *v = calloc(1, sizeof(*v));
	int ret;

	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	v->dom = d;
	v->id = id;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* timer deadlines are monotonic */
	pthread_cond_init(&v->wake, &ca);
	pthread_condattr_destroy(&ca);
	ret = d->eng->vcpu_init(v);
	if (ret) {
		d->eng->vcpu_fini(v);
		pthread_cond_destroy(&v->wake);
		free(v);
		*err = ret;
		return NULL;
	}
	v->state = VCPU_OFFLINE;
	v->runstate.state = RUNSTATE_offline; /* entered at time 0: nothing counted before */
	return v;
}

/* The thread must have been joined (domain_destroy does it). */
void vcpu_destroy(struct hv_vcpu *v)
{
	if (!v)
		return;
	v->dom->eng->vcpu_fini(v);
	pthread_cond_destroy(&v->wake);
	free(v);
}

/* Make a vCPU thread leave its run soon, or wake it where it waits. */
void vcpu_kick(struct hv_vcpu *v)
{
	if (!v->thread_started)
		return;
	v->dom->eng->vcpu_kick(v);
	pthread_cond_broadcast(&v->wake);
}

/*
 * A checked context's registers, bases, CR0.TS and kernel stack to v, as
 * Xen's arch_set_info_guest takes them for both a new and a running vCPU:
 * arithmetic flags, DF and AC from the guest, IF on, the IOPL virtual
 * (v->iopl, as Xen's v->arch.pv.iopl).  Selectors are not taken: a 64-bit
 * PV vCPU here runs on the flat ring-3 ones whatever the context names
 * (Xen forces their RPL to 3 the same way).
 */
static void context_regs(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	const struct cpu_user_regs *u = &ctx->user_regs;
	struct hv_regs *r = &v->regs;

	memset(r, 0, sizeof(*r));
	r->rax = u->rax;
	r->rbx = u->rbx;
	r->rcx = u->rcx;
	r->rdx = u->rdx;
	r->rsi = u->rsi;
	r->rdi = u->rdi;
	r->rbp = u->rbp;
	r->rsp = u->rsp;
	r->r8 = u->r8;
	r->r9 = u->r9;
	r->r10 = u->r10;
	r->r11 = u->r11;
	r->r12 = u->r12;
	r->r13 = u->r13;
	r->r14 = u->r14;
	r->r15 = u->r15;
	r->rip = u->rip;
	r->rflags = (u->rflags & 0x40cd5ULL) | 0x202;
	v->iopl = (uint32_t)(u->rflags >> 12) & 3;
	v->fs_base = ctx->fs_base;
	v->gs_base_kernel = ctx->gs_base_kernel;
	v->gs_base_user = ctx->gs_base_user;
	v->fpu_ts = (ctx->ctrlreg[0] & 8) != 0; /* CR0.TS, as a save left it */
	/* As Xen's arch_set_info_guest: the entry stack for user mode. */
	v->kernel_ss = ctx->kernel_ss;
	v->kernel_sp = ctx->kernel_sp;
}

/*
 * Xen's vcpu_guest_context to the start state.  Segments are Xen's flat
 * ring-3 ones: a PV kernel has no others on x86-64.  The page table must
 * be guest RAM; the engine writes the hypervisor's slots into it.
 */
int vcpu_set_context(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	uint64_t cr3 = (uint64_t)xen_cr3_to_pfn(ctx->ctrlreg[3]) << PAGE_SHIFT;
	uint64_t ucr3 = (uint64_t)xen_cr3_to_pfn(ctx->ctrlreg[1]) << PAGE_SHIFT;
	int ret;

	if (!(ctx->flags & VGCF_in_kernel))
		return -EINVAL;
	ret = vcpu_context_check(v, ctx);
	if (ret)
		return ret;
	ret = pv_gdt_context_take(v, ctx); /* its GDT frames, as Xen's pv_set_gdt */
	if (ret)
		return ret;
	ret = v->dom->eng->install_l4(v->dom, cr3);
	if (!ret)
		/* Validated (the first one pinned), the user tables too, as Xen. */
		ret = mmu_vcpu_context_full(v, cr3, ucr3, ctx->ldt_base, ctx->ldt_ents);
	if (ret) {
		pv_gdt_context_undo(v, ctx);
		return ret;
	}
	pv_gdt_context_install(v, ctx);
	context_regs(v, ctx);
	v->fpu_ts_dirty = v->fpu_ts;
	vcpu_context_callbacks(v, ctx); /* per vCPU, as Xen: this vCPU's own */
	v->user_mode = false;
	v->cr3 = cr3;
	pv_ldt_changed(v, true); /* its LDT's frames, on these tables (pv_ldt.c) */
	v->has_context = true;
	v->load_state = true;
	v->ran = false;
	if (vcpu_info_of(v)) /* events start masked, as Xen starts PV vCPUs */
		vcpu_info_of(v)->evtchn_upcall_mask = 1;
	return 0;
}

/*
 * Does ctx keep what an initialised vCPU holds, as Xen's
 * arch_set_info_guest demands of one (else -EOPNOTSUPP): the same kernel
 * and user tables, GDT frames and entries, LDT base and entries.  Here it
 * must also be in kernel mode, as the context says it is.  d->lock held.
 */
static bool context_keeps_tables(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	struct hv_domain *d = v->dom;
	uint64_t kbase = v->cr3, ubase = 0, ldt_base, ldt_ents;
	bool same = !v->user_mode;

	if (d->mmu) {
		pthread_mutex_lock(&d->mmu->lock);
		kbase = d->mmu->base[v->id];
		ubase = d->mmu->user_base[v->id];
		pthread_mutex_unlock(&d->mmu->lock);
	}
	mmu_vcpu_ldt(d, v->id, &ldt_base, &ldt_ents);
	same = same && ctx->ctrlreg[3] == xen_pfn_to_cr3(kbase >> PAGE_SHIFT) &&
	       ctx->ctrlreg[1] == (ubase ? xen_pfn_to_cr3(ubase >> PAGE_SHIFT) : 0) &&
	       ctx->gdt_ents == v->gdt_ents && ctx->ldt_base == ldt_base &&
	       ctx->ldt_ents == ldt_ents;
	for (unsigned i = 0; same && i < PV_GDT_FRAMES; i++)
		same = ctx->gdt_frames[i] == v->gdt_frames[i];
	return same;
}

/*
 * XEN_DOMCTL_setvcpucontext and SV_CTL_VCPU_SET_CONTEXT: the toolstack's
 * context for a vCPU of a domain that runs no guest code (not yet run,
 * paused or shut down, the vCPU's thread asleep; else -EBUSY, as
 * getvcpucontext here: Xen's domctl pauses the domain itself for the
 * call, our toolstacks pause first).  As Xen's arch_set_info_guest: the
 * context is checked whole first (-EINVAL, nothing changed); a vCPU with
 * no context yet takes it as VCPUOP_initialise would; one that has one
 * keeps its tables, GDT and LDT (a context naming others is -EOPNOTSUPP)
 * and takes the registers, bases, CR0.TS, kernel stack, callbacks and
 * trap table (libxc's xc_domain_resume sets rax so).  vm_assist is vCPU
 * 0's first context's, as Xen's.  d->lock held.
 */
int vcpu_tools_set_context(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	struct hv_domain *d = v->dom;
	uint64_t vm_assist;
	bool ts;
	int ret;

	if (!domain_quiet(d) || v->runstate.state == RUNSTATE_running)
		return -EBUSY;
	if (!v->has_context)
		return vcpu_set_context(v, ctx);
	if (!(ctx->flags & VGCF_in_kernel))
		return -EINVAL;
	ret = vcpu_context_check(v, ctx);
	if (ret)
		return ret;
	if (!context_keeps_tables(v, ctx)) {
		hv_log("d%u v%u: a new context names other tables, GDT or LDT: not offered, as Xen",
		       d->domid, v->id);
		return -EOPNOTSUPP;
	}
	ts = v->fpu_ts;
	context_regs(v, ctx);
	v->fpu_ts_dirty |= v->fpu_ts != ts;
	v->regs_dirty = true;
	v->segs_dirty = true;
	vm_assist = __atomic_load_n(&d->vm_assist, __ATOMIC_RELAXED);
	vcpu_context_callbacks(v, ctx);
	__atomic_store_n(&d->vm_assist, vm_assist, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Translate a guest virtual address with the vCPU's page tables.  The
 * guest kernel runs at CPL3, so every level must allow user access (and
 * writes when writing).  Each entry is read once.
 */
static int walk(struct hv_vcpu *v, uint64_t gva, bool write, uint64_t *gpa)
{
	const struct hv_mem *m = &v->dom->mem;
	uint64_t table = v->cr3 & PTE_ADDR;
	int level;

	if ((uint64_t)((int64_t)(gva << 16) >> 16) != gva)
		return -EFAULT; /* not canonical */
	for (level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t *p = mem_gpa(m, table + ((gva >> shift) & 511) * 8, 8);
		uint64_t pte;

		if (!p || !mem_is_ram(m, table, PAGE_SIZE))
			return -EFAULT;
		pte = __atomic_load_n(p, __ATOMIC_RELAXED);
		if (!(pte & PTE_P) || !(pte & PTE_US) || (write && !(pte & PTE_RW)))
			return -EFAULT;
		if ((level == 2 || level == 3) && (pte & PTE_PS)) {
			uint64_t size = 1ULL << shift;
			*gpa = (pte & PTE_ADDR & ~(size - 1)) | (gva & (size - 1));
			break;
		}
		table = pte & PTE_ADDR;
	}
	if (level < 1)
		*gpa = table | (gva & (PAGE_SIZE - 1));
	/* A frame the guest gave back (memop.c) is not there to copy to or from. */
	if (mem_is_ram(m, *gpa & PTE_ADDR, PAGE_SIZE) && !mem_frame_present(m, *gpa))
		return -EFAULT;
	return 0;
}

int vcpu_walk_l1(struct hv_vcpu *v, uint64_t gva, uint64_t *pte_gpa)
{
	const struct hv_mem *m = &v->dom->mem;
	uint64_t table = v->cr3 & PTE_ADDR;

	if ((uint64_t)((int64_t)(gva << 16) >> 16) != gva)
		return -EINVAL;
	for (int level = 4; level >= 2; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t *p = mem_gpa(m, table + ((gva >> shift) & 511) * 8, 8);
		uint64_t pte;

		if (!p || !mem_is_ram(m, table, PAGE_SIZE))
			return -EINVAL;
		pte = __atomic_load_n(p, __ATOMIC_RELAXED);
		if (!(pte & PTE_P) || (pte & PTE_PS))
			return -EINVAL;
		table = pte & PTE_ADDR;
	}
	if (!mem_is_ram(m, table, PAGE_SIZE))
		return -EINVAL;
	*pte_gpa = table + ((gva >> 12) & 511) * 8;
	return 0;
}

/*
 * Copies len bytes between host and the guest's virtual range [gva, gva + len),
 * page by page through the vCPU's page tables.  A range that runs past the
 * top of the address space is refused whole (-EFAULT) rather than carried
 * on at VA 0, even when both ends are mapped.
 */
static int copy_guest(struct hv_vcpu *v, void *host, uint64_t gva, size_t len, bool to_guest)
{
	uint8_t *h = host;

	if (len && gva + (len - 1) < gva)
		return -EFAULT;
	while (len) {
		size_t chunk = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
		uint64_t gpa;
		void *p;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = walk(v, gva, to_guest, &gpa);
		if (ret)
			return ret;
		p = mem_gpa(&v->dom->mem, gpa, chunk);
		if (!p)
			return -EFAULT;
		if (to_guest)
			memcpy(p, h, chunk);
		else
			memcpy(h, p, chunk);
		h += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}

int vcpu_copy_from_guest(struct hv_vcpu *v, void *dst, uint64_t gva, size_t len)
{
	return copy_guest(v, dst, gva, len, false);
}

int vcpu_copy_to_guest(struct hv_vcpu *v, uint64_t gva, const void *src, size_t len)
{
	return copy_guest(v, (void *)src, gva, len, true);
}

void vcpu_dump_and_crash(struct hv_vcpu *v, const char *why)
{
	const struct hv_regs *r = &v->regs;

	hv_log("d%u v%u: rip %#llx rsp %#llx rax %#llx rflags %#llx cr3 %#llx", v->dom->domid,
	       v->id, (unsigned long long)r->rip, (unsigned long long)r->rsp,
	       (unsigned long long)r->rax, (unsigned long long)r->rflags,
	       (unsigned long long)v->cr3);
	domain_crash(v->dom, why);
}

/* What the engine reported, handed to the core. */
static void handle_exit(struct hv_vcpu *v, const struct hv_exit *e)
{
	atomic_fetch_add_explicit(&v->dom->stats.exits, 1, memory_order_relaxed);
	switch (e->kind) {
	case HV_EXIT_NONE:
		return;
	case HV_EXIT_HYPERCALL:
		hypercall_dispatch(v);
		return;
	case HV_EXIT_FAULT:
		pv_fault(v, e);
		return;
	case HV_EXIT_SYSCALL:
		pv_syscall_exit(v, e);
		return;
	case HV_EXIT_CRASH:
		vcpu_dump_and_crash(v, e->why);
		return;
	}
}

static bool may_run(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;

	return d->state == DOM_ACTIVE && d->pause_count == 0 && v->state == VCPU_RUNNABLE;
}

/* A poll ends when a port is pending or its timeout passes. */
static void end_poll(struct hv_vcpu *v)
{
	v->polling = false;
	v->poll_deadline_ns = 0;
	atomic_fetch_sub(&v->dom->ev.nr_polling, 1);
	v->state = VCPU_RUNNABLE;
}

/* Sleep (d->lock held) until v may run or the domain dies. */
static void wait_runnable(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;

	while (!may_run(v) && d->state != DOM_DYING) {
		if (v->state == VCPU_BLOCKED && v->polling) {
			if (sched_poll_ready(v) ||
			    (v->poll_deadline_ns && hv_now_ns() >= v->poll_deadline_ns)) {
				end_poll(v);
				continue;
			}
		}
		if (v->state == VCPU_RUNNABLE && v->polling)
			end_poll(v); /* woken by an event on another port */
		if (v->state == VCPU_BLOCKED && v->poll_deadline_ns) {
			struct timespec ts;
			uint64_t now = hv_now_ns();
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ns = (uint64_t)ts.tv_nsec + (v->poll_deadline_ns - now);
			ts.tv_sec += (time_t)(ns / 1000000000ULL);
			ts.tv_nsec = (long)(ns % 1000000000ULL);
			pthread_cond_timedwait(&v->wake, &d->lock, &ts);
		} else {
			pthread_cond_wait(&v->wake, &d->lock);
		}
	}
	if (v->polling && v->state == VCPU_RUNNABLE)
		end_poll(v);
}

static void *vcpu_thread(void *arg)
{
	struct hv_vcpu *v = arg;
	struct hv_domain *d = v->dom;
	const struct hv_engine *eng = d->eng;
	struct hv_exit e;

	vcpu_pin_thread_start(v);
	for (;;) {
		pthread_mutex_lock(&d->lock);
		bool slept = !may_run(v);
		if (slept)
			runstate_set(v, v->state == VCPU_BLOCKED    ? RUNSTATE_blocked
					: v->state == VCPU_RUNNABLE ? RUNSTATE_runnable
								    : RUNSTATE_offline);
		wait_runnable(v);
		if (d->state == DOM_DYING) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		runstate_set(v, RUNSTATE_running);
		eng->vcpu_unkick(v);
		if (v->load_state) {
			v->load_state = false;
			int ret = eng->vcpu_load(v);
			if (ret) {
				pthread_mutex_unlock(&d->lock);
				char why[96];
				snprintf(why, sizeof(why), "cannot load the vCPU's start state: %s",
					 strerror(-ret));
				vcpu_dump_and_crash(v, why);
				continue;
			}
			time_update(v);
		}
		atomic_store(&v->in_guest, true);
		pthread_mutex_unlock(&d->lock);
		if (slept && v->ran)
			time_update(v); /* keep vcpu_time_info current across sleeps */
		if (slept) {
			atomic_fetch_add_explicit(&d->stats.wakes, 1, memory_order_relaxed);
			runstate_publish(v);
		}
		if (!eng->vcpu_mid_stub || !eng->vcpu_mid_stub(v)) {
			nmi_deliver(v);
			pv_deliver_upcall(v);
		}

		uint64_t t0 = hv_now_ns(), w0 = v->turn_wait_ns;
		memset(&e, 0, sizeof(e));
		eng->vcpu_run(v, &e);
		/* Not the time it waited for its turn (runnable then, not running). */
		v->cpu_ns += hv_now_ns() - t0 - (v->turn_wait_ns - w0);
		atomic_store(&v->in_guest, false);
		v->ran = true;
		handle_exit(v, &e);
	}
	return NULL;
}

int vcpu_start_thread(struct hv_vcpu *v)
{
	int ret = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (ret)
		return -ret;
	v->thread_started = true;
	return 0;
}
