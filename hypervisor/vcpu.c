// SPDX-License-Identifier: MIT
/* vCPUs: one thread each running KVM_RUN, exits dispatched, guest memory reached through its page tables. */
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"

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
	v->fd = ioctl(d->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		ret = -errno;
		goto out_free;
	}
	v->run = mmap(NULL, (size_t)hv_host.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		v->run = NULL;
		goto out_close;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, hv_host.cpuid) < 0) {
		ret = -errno;
		goto out_unmap;
	}
	ret = pv_vcpu_init(v);
	if (ret)
		goto out_unmap;
	v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	v->state = VCPU_OFFLINE;
	return v;

out_unmap:
	munmap(v->run, (size_t)hv_host.vcpu_mmap_size);
out_close:
	close(v->fd);
out_free:
	pthread_cond_destroy(&v->wake);
	free(v);
	*err = ret;
	return NULL;
}

/* The thread must have been joined (domain_destroy does it). */
void vcpu_destroy(struct hv_vcpu *v)
{
	if (!v)
		return;
	if (v->run)
		munmap(v->run, (size_t)hv_host.vcpu_mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	pthread_cond_destroy(&v->wake);
	free(v);
}

/*
 * Make a vCPU thread leave KVM_RUN soon: immediate_exit covers the window
 * before it enters, the signal (a no-op handler) the time inside.
 */
void vcpu_kick(struct hv_vcpu *v)
{
	if (!v->thread_started)
		return;
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, SIGUSR1);
	pthread_cond_broadcast(&v->wake);
}

/*
 * Xen's vcpu_guest_context to KVM registers.  Segments are forced to
 * Xen's flat ring-3 ones: a PV kernel has no others on x86-64.  The page
 * table must be guest RAM; the hypervisor's slot is written into it.
 */
int vcpu_set_context(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	const struct cpu_user_regs *u = &ctx->user_regs;
	uint64_t cr3 = (uint64_t)xen_cr3_to_pfn(ctx->ctrlreg[3]) << PAGE_SHIFT;
	struct kvm_regs *r = &v->regs;
	int ret;

	if (!(ctx->flags & VGCF_in_kernel))
		return -EINVAL;
	ret = pv_install_l4(v->dom, cr3);
	if (ret)
		return ret;
	memset(r, 0, sizeof(*r));
	r->rax = u->rax; r->rbx = u->rbx; r->rcx = u->rcx; r->rdx = u->rdx;
	r->rsi = u->rsi; r->rdi = u->rdi; r->rbp = u->rbp; r->rsp = u->rsp;
	r->r8 = u->r8; r->r9 = u->r9; r->r10 = u->r10; r->r11 = u->r11;
	r->r12 = u->r12; r->r13 = u->r13; r->r14 = u->r14; r->r15 = u->r15;
	r->rip = u->rip;
	/* Arithmetic flags, DF and AC from the guest; IF on, IOPL 0. */
	r->rflags = (u->rflags & 0x40cd5ULL) | 0x202;
	v->sregs.cr3 = cr3;
	v->sregs.fs.base = ctx->fs_base;
	v->sregs.gs.base = ctx->gs_base_kernel;
	v->cr3 = cr3;
	v->has_context = true;
	v->load_state = true;
	v->ran = false;
	if (vcpu_info_of(v)) /* events start masked, as Xen starts PV vCPUs */
		vcpu_info_of(v)->evtchn_upcall_mask = 1;
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
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	*gpa = table | (gva & (PAGE_SIZE - 1));
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

static int copy_guest(struct hv_vcpu *v, void *host, uint64_t gva, size_t len, bool to_guest)
{
	uint8_t *h = host;

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

static void dump_and_crash(struct hv_vcpu *v, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &s) == 0)
		hv_log("d%u v%u: rip %#llx rsp %#llx rax %#llx cs %#x cpl %u cr3 %#llx cr2 %#llx",
		       v->dom->domid, v->id, r.rip, r.rsp, r.rax, s.cs.selector, s.cs.dpl, s.cr3,
		       s.cr2);
	domain_crash(v->dom, why);
}

static void handle_exit(struct hv_vcpu *v)
{
	struct kvm_run *run = v->run;
	char why[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == SV_PORT_HYPERCALL) {
			hypercall_dispatch(v);
			return;
		}
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == SV_PORT_FAULT) {
			pv_fault(v);
			return;
		}
		snprintf(why, sizeof(why), "I/O %s port %#x, which no device claims",
			 run->io.direction == KVM_EXIT_IO_OUT ? "write to" : "read from",
			 run->io.port);
		dump_and_crash(v, why);
		return;
	case KVM_EXIT_INTR:
		return;
	case KVM_EXIT_SHUTDOWN:
		dump_and_crash(v, "triple fault");
		return;
	case KVM_EXIT_HLT:
		dump_and_crash(v, "hlt with interrupts it cannot receive");
		return;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error, suberror %u",
			 run->internal.suberror);
		dump_and_crash(v, why);
		return;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		dump_and_crash(v, why);
		return;
	default:
		snprintf(why, sizeof(why), "unexpected KVM exit %u", run->exit_reason);
		dump_and_crash(v, why);
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

	for (;;) {
		pthread_mutex_lock(&d->lock);
		bool slept = !may_run(v);
		wait_runnable(v);
		if (d->state == DOM_DYING) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		v->run->immediate_exit = 0;
		if (v->load_state) {
			v->load_state = false;
			if (ioctl(v->fd, KVM_SET_SREGS, &v->sregs) < 0 ||
			    ioctl(v->fd, KVM_SET_REGS, &v->regs) < 0) {
				pthread_mutex_unlock(&d->lock);
				dump_and_crash(v, "cannot load the vCPU's start state");
				continue;
			}
			v->run->kvm_dirty_regs = 0;
			time_update(v);
		}
		atomic_store(&v->in_guest, true);
		pthread_mutex_unlock(&d->lock);
		if (slept && v->ran)
			time_update(v); /* keep vcpu_time_info current across sleeps */
		pv_deliver_upcall(v);

		uint64_t t0 = hv_now_ns();
		int ret = ioctl(v->fd, KVM_RUN, 0);
		int err = errno;
		v->cpu_ns += hv_now_ns() - t0;
		atomic_store(&v->in_guest, false);
		v->ran = true;
		if (ret < 0) {
			if (err == EINTR || err == EAGAIN)
				continue;
			char why[96];
			snprintf(why, sizeof(why), "KVM_RUN failed: %s", strerror(err));
			dump_and_crash(v, why);
			continue;
		}
		handle_exit(v);
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
