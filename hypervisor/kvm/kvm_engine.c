// SPDX-License-Identifier: MIT
/* The KVM engine: a VM per domain, a vCPU fd per vCPU, KVM_RUN and its exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kvm.h"
#include "../cgroup.h"
#include <xen/arch-x86/xen-x86_64.h>

static int kvm_domain_init(struct hv_domain *d)
{
	struct kvm_dom *kd = calloc(1, sizeof(*kd));
	int ret;

	if (!kd)
		return -ENOMEM;
	pthread_mutex_init(&kd->flush_lock, NULL);
	d->eng_priv = kd;
	kd->vm_fd = ioctl(kvm_host.kvm_fd, KVM_CREATE_VM, 0);
	if (kd->vm_fd < 0)
		return -errno; /* kvm_domain_fini cleans up */
	kd->sync.fd = -1;
	ret = kvm_mem_slots(d);
	if (ret)
		return ret;
	ret = kvm_pv_domain_init(d);
	if (ret)
		return ret;
	kvm_sync_init(d);
	return 0;
}

/* A kick reaches every vCPU in KVM_RUN: nothing more to do. */
static void kvm_domain_stop(struct hv_domain *d)
{
}

static void kvm_domain_fini(struct hv_domain *d)
{
	struct kvm_dom *kd = kvm_dom(d);

	if (!kd)
		return;
	kvm_sync_fini(d);
	if (kd->vm_fd >= 0)
		close(kd->vm_fd);
	kvm_sync_free(d);
	if (kd->sync.toggles) /* the fallback was taken: say how often */
		hv_log("d%u: shadow syncs %llu, memslot toggles %llu", d->domid,
		       (unsigned long long)kd->sync.runs, (unsigned long long)kd->sync.toggles);
	pthread_mutex_destroy(&kd->flush_lock);
	free(kd);
	d->eng_priv = NULL;
}

static int kvm_vcpu_init(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	v->eng = k;
	k->fd = -1;
	k->fd = ioctl(kvm_dom(v->dom)->vm_fd, KVM_CREATE_VCPU, v->id);
	if (k->fd < 0)
		return -errno; /* kvm_vcpu_fini cleans up */
	k->run = mmap(NULL, (size_t)kvm_host.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      k->fd, 0);
	if (k->run == MAP_FAILED) {
		k->run = NULL;
		return -errno;
	}
	if (ioctl(k->fd, KVM_SET_CPUID2, kvm_host.cpuid) < 0)
		return -errno;
	ret = kvm_pv_vcpu_init(v);
	if (ret)
		return ret;
	k->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	return 0;
}

static void kvm_vcpu_fini(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);

	if (!k)
		return;
	if (k->run)
		munmap(k->run, (size_t)kvm_host.vcpu_mmap_size);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
	v->eng = NULL;
}

static int kvm_vcpu_load(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	struct kvm_regs r;

	k->sregs.cr3 = v->cr3;
	k->sregs.fs.base = v->fs_base;
	k->sregs.gs.base = pv_gs_active(v);
	k->sregs.ldt = kvm_ldt_seg(v); /* the context's LDT (kvm_ldt.c) */
	memcpy(&r, &v->regs, sizeof(r));
	if (ioctl(k->fd, KVM_SET_SREGS, &k->sregs) < 0 || ioctl(k->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	k->run->kvm_dirty_regs = 0;
	v->regs_dirty = false;
	k->in_stub = false;   /* the start state's CPL3 segments are loaded */
	v->segs_dirty = true; /* the user %gs base goes into its MSR at the next run */
	v->fpu_ts_dirty = v->fpu_ts;
	return 0;
}

#define MSR_KERNEL_GS_BASE 0xc0000102u
#define CR0_TS (1ULL << 3)

/*
 * Privileged state the core changed (pv_priv.c): the %fs and kernel %gs
 * bases, the user %gs base (the inactive one, in KERNEL_GS_BASE as
 * swapgs would find it) and the virtual CR0.TS, which here is the
 * vCPU's own: a CPL3 FPU/SSE instruction then raises #NM.  After a fault
 * the vCPU stands in a CPL0 stub; the core has put the guest's registers
 * to resume with (a bounce, an emulated instruction), and CPL3's CS and
 * SS go back with them.
 */
static int kvm_sync_priv(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	struct kvm_sregs sr;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msr = { .hdr.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE, .e.data = pv_gs_inactive(v) };

	if (ioctl(k->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.fs.base = v->fs_base;
	sr.gs.base = pv_gs_active(v);
	sr.cr0 = v->fpu_ts ? sr.cr0 | CR0_TS : sr.cr0 & ~CR0_TS;
	if (k->in_stub) {
		sr.cs = k->sregs.cs;
		sr.ss = k->sregs.ss;
	}
	if (ioctl(k->fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	if (v->segs_dirty && ioctl(k->fd, KVM_SET_MSRS, &msr) != 1)
		return -EIO;
	v->segs_dirty = false;
	v->fpu_ts_dirty = false;
	k->in_stub = false;
	return 0;
}

_Static_assert(sizeof(struct hv_regs) == sizeof(struct kvm_regs), "hv_regs is kvm_regs' layout");

/*
 * Before an entry: what the MMU hypercalls since the last one asked for
 * (mmu.c): the new cr3 of NEW_BASEPTR (its hypervisor slots are in it
 * already), then whatever page-table writes of the domain are still
 * queued for KVM's shadow (kvm_sync.c), however many there were.
 */
static int kvm_apply_pending(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	int ret;

	if (k->cr3_pending) {
		struct kvm_sregs sr;
		if (ioctl(k->fd, KVM_GET_SREGS, &sr) < 0)
			return -errno;
		sr.cr3 = v->cr3;
		if (ioctl(k->fd, KVM_SET_SREGS, &sr) < 0)
			return -errno;
		k->cr3_pending = false;
	}
	ret = kvm_ldt_apply(v); /* MMUEXT_SET_LDT */
	if (ret)
		return ret;
	if (__atomic_load_n(&kvm_dom(v->dom)->sync.pending, __ATOMIC_ACQUIRE)) {
		ret = kvm_sync_flush(v->dom);
		if (ret)
			return ret;
	}
	return 0;
}

static int kvm_vcpu_run(struct hv_vcpu *v, struct hv_exit *e)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	struct kvm_run *run = k->run;
	int ret, err;

	e->kind = HV_EXIT_NONE;
	if (!k->in_cgroup) {
		/* This thread is the vCPU: the domain's weight and cap apply to it. */
		hv_cgroup_add_thread(v->dom);
		k->in_cgroup = true;
	}
	ret = kvm_apply_pending(v);
	if (ret) {
		e->kind = HV_EXIT_CRASH;
		snprintf(e->why, sizeof(e->why), "cannot apply page-table changes: %s",
			 strerror(-ret));
		return 0;
	}
	if (v->segs_dirty || v->fpu_ts_dirty || k->in_stub) {
		ret = kvm_sync_priv(v);
		if (ret) {
			e->kind = HV_EXIT_CRASH;
			snprintf(e->why, sizeof(e->why), "cannot load segment bases or CR0.TS: %s",
				 strerror(-ret));
			return 0;
		}
	}
	if (v->regs_dirty) {
		memcpy(&run->s.regs.regs, &v->regs, sizeof(v->regs));
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		v->regs_dirty = false;
	}
	k->cut_short = false;
	ret = ioctl(k->fd, KVM_RUN, 0);
	err = errno;
	memcpy(&v->regs, &run->s.regs.regs, sizeof(v->regs));
	if (ret < 0) {
		if (err == EINTR || err == EAGAIN) {
			k->cut_short = true;
			return 0;
		}
		e->kind = HV_EXIT_CRASH;
		snprintf(e->why, sizeof(e->why), "KVM_RUN failed: %s", strerror(err));
		return 0;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == SV_PORT_HYPERCALL) {
			e->kind = HV_EXIT_HYPERCALL;
			return 0;
		}
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == SV_PORT_FAULT) {
			kvm_pv_fault(v, e);
			return 0;
		}
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == SV_PORT_SYSCALL) {
			kvm_pv_syscall(v, e);
			return 0;
		}
		e->kind = HV_EXIT_CRASH;
		snprintf(e->why, sizeof(e->why), "I/O %s port %#x, which no device claims",
			 run->io.direction == KVM_EXIT_IO_OUT ? "write to" : "read from",
			 run->io.port);
		return 0;
	case KVM_EXIT_INTR:
		k->cut_short = true;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		snprintf(e->why, sizeof(e->why), "triple fault");
		break;
	case KVM_EXIT_HLT:
		snprintf(e->why, sizeof(e->why), "hlt with interrupts it cannot receive");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(e->why, sizeof(e->why), "KVM internal error, suberror %u",
			 run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(e->why, sizeof(e->why), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		snprintf(e->why, sizeof(e->why), "unexpected KVM exit %u", run->exit_reason);
		break;
	}
	e->kind = HV_EXIT_CRASH;
	return 0;
}

/*
 * Make a vCPU thread leave KVM_RUN soon: immediate_exit covers the window
 * before it enters, the signal (a no-op handler) the time inside.
 */
static void kvm_vcpu_kick(struct hv_vcpu *v)
{
	kvm_vcpu(v)->run->immediate_exit = 1;
	pthread_kill(v->thread, SIGUSR1);
}

static void kvm_vcpu_unkick(struct hv_vcpu *v)
{
	kvm_vcpu(v)->run->immediate_exit = 0;
}

static uint64_t kvm_vcpu_tsc(struct hv_vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msr = { .hdr.nmsrs = 1, .e.index = 0x10 /* IA32_TSC */ };

	if (ioctl(kvm_vcpu(v)->fd, KVM_GET_MSRS, &msr) != 1)
		return 0;
	return msr.e.data;
}

/*
 * The hypervisor wrote guest page tables (mmu.c): each write was queued
 * for KVM's shadow as it was made (kvm_table_written), and the queue is
 * flushed before the next entry of any vCPU, so a hypercall's changes
 * reach every vCPU when its caller enters again (another vCPU may see
 * them sooner, never later than its own next entry).
 */
static int kvm_ptes_changed(struct hv_vcpu *v, const struct hv_va_range *r, unsigned n)
{
	return 0;
}

static void kvm_table_written(struct hv_domain *d, uint64_t gpa, bool page)
{
	kvm_sync_note(d, gpa, page);
}

/*
 * A frame that was writable becomes a page table: the flush cannot wait
 * for an entry, as another vCPU could still write the frame through a
 * stale shadow entry; so it is made now (the entry that dropped the
 * writable mapping is in the queue), for the whole VM.
 */
static int kvm_sync_mappings(struct hv_vcpu *v)
{
	return kvm_sync_flush(v->dom);
}

/* MMUEXT_NEW_BASEPTR: cr3 is loaded (KVM_SET_SREGS) once, before the next KVM_RUN. */
static int kvm_new_baseptr(struct hv_vcpu *v)
{
	kvm_vcpu(v)->cr3_pending = true;
	return 0;
}

/*
 * Can a guest's rdtsc be made to fault (CR4.TSD, tsc.c)?  Under PVM the
 * guest's CPL3 runs natively with the host's CR4, so TSD is ignored
 * (measured: an always_emulate guest read the host's TSC and waited
 * forever on a clock in emulated units); hardware KVM honours it.
 */
static bool kvm_tsc_trap_ok(char *why, size_t len)
{
	if (hv_host.kind != SV_KVM_PVM)
		return true;
	snprintf(why, len, "the kvm engine cannot make rdtsc trap on this host (PVM runs CPL3 "
			   "natively and ignores CR4.TSD)");
	return false;
}

/* KVM_RUN runs on the core's own vCPU thread. */
static pid_t kvm_vcpu_host_tid(struct hv_vcpu *v, pid_t *pid)
{
	*pid = getpid();
	return v->host_tid;
}

const struct hv_engine hv_kvm_engine = {
	.name = "kvm",
	.id = SV_ENGINE_KVM,
	.m2p_va = SV_M2P_VA,
	.virt_start = HYPERVISOR_VIRT_START,
	.no_xsave = true, /* the guest CR4 (kvm_pv.c) has no OSXSAVE */
	.va_reserved = kvm_pv_va_reserved,
	.domain_init = kvm_domain_init,
	.domain_stop = kvm_domain_stop,
	.domain_fini = kvm_domain_fini,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_fini = kvm_vcpu_fini,
	.vcpu_load = kvm_vcpu_load,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_unkick = kvm_vcpu_unkick,
	.vcpu_mid_stub = kvm_pv_mid_stub,
	.vcpu_tsc = kvm_vcpu_tsc,
	.tsc_trap_ok = kvm_tsc_trap_ok,
	.hypercall_page = kvm_pv_hypercall_page,
	.install_l4 = kvm_pv_install_l4,
	.ptes_changed = kvm_ptes_changed,
	.table_written = kvm_table_written,
	.new_baseptr = kvm_new_baseptr,
	.sync_mappings = kvm_sync_mappings,
	.vcpu_host_tid = kvm_vcpu_host_tid,
	.gdt_changed = kvm_pv_gdt_changed,
	.ldt_changed = kvm_ldt_changed,
	.guest_gdt = true,
	.guest_ldt = true,
};
