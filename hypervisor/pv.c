// SPDX-License-Identifier: MIT
/* PV mode, whatever the engine: the private pages and M2P, the hypercall page, event upcalls, iret,
 * guest faults. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xen/arch-x86/xen-x86_64.h>
#include <xen/memory.h>
#include "hv.h"
#include "hypercall.h"
#include "mmu.h"

#define PTE_P (1ULL << 0)
#define PTE_US (1ULL << 2)
#define PTE_NX (1ULL << 63)

/*
 * The private pages, SV_PRIV_GPA onwards: shared_info first, then what
 * the KVM engine needs for the CPU (its page tables for the private slot,
 * IDT, stubs, per-vCPU GDT/TSS/stack: PV_PRIV_*), the grant-table frames,
 * the KVM engine's per-vCPU LDT copies (PV_LDT_PAGES each, after their
 * level-1 page), and the M2P.  The process engine uses only shared_info, the grant
 * frames and the M2P, but keeps the same layout so that dom0 and the
 * toolstack see one.
 */
uint64_t pv_priv_ldt_l1(unsigned max_vcpus)
{
	return PV_PRIV_VCPU0 + (uint64_t)PV_PRIV_PER_VCPU * max_vcpus + SV_GNT_MAX_FRAMES;
}

uint64_t pv_priv_pages(unsigned max_vcpus)
{
	return pv_priv_ldt_l1(max_vcpus) + 1 + (uint64_t)PV_LDT_PAGES * max_vcpus;
}

static uint64_t priv_gpa(uint64_t page)
{
	return SV_PRIV_GPA + page * PAGE_SIZE;
}

/*
 * After the grant frames: the read-only M2P table (machine frame -> pseudo-
 * physical frame, one 8-byte entry per frame up to the highest RAM frame)
 * with the page tables that map it at SV_M2P_VA for the KVM engine: one
 * level-3 page, one level-2 page (1 GiB of table is plenty) and a level-1
 * page per 512 table pages.  Guests too large for the private area get no
 * M2P (XENMEM_machphys_mapping then says so).
 */
static uint64_t m2p_pages(uint64_t ram_bytes)
{
	uint64_t low = ram_bytes < SV_RAM_LOW_MAX ? ram_bytes : SV_RAM_LOW_MAX;
	uint64_t top = ram_bytes > low ? SV_RAM_HIGH_BASE + (ram_bytes - low) : low;

	return (top / PAGE_SIZE * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint64_t m2p_total_pages(uint64_t ram_bytes)
{
	uint64_t t = m2p_pages(ram_bytes);

	return t + 2 + (t + 511) / 512;
}

static bool m2p_fits(unsigned max_vcpus, uint64_t ram_bytes)
{
	return (pv_priv_pages(max_vcpus) + m2p_total_pages(ram_bytes)) * PAGE_SIZE <=
	       SV_PRIV_MAX_SIZE;
}

uint64_t pv_priv_size(unsigned max_vcpus, uint64_t ram_bytes)
{
	uint64_t n = pv_priv_pages(max_vcpus);

	if (m2p_fits(max_vcpus, ram_bytes))
		n += m2p_total_pages(ram_bytes);
	return n * PAGE_SIZE;
}

/* Build the M2P and its page tables; sets d->m2p_* (none when it does not fit). */
static int m2p_init(struct hv_domain *d)
{
	const struct hv_mem *m = &d->mem;
	uint64_t first = pv_priv_pages(d->max_vcpus), n = m2p_pages(m->ram_size);
	uint64_t nl1 = (n + 511) / 512;
	uint64_t tab_gpa = priv_gpa(first);
	uint64_t l3_gpa = tab_gpa + n * PAGE_SIZE, l2_gpa = l3_gpa + PAGE_SIZE;
	uint64_t l1_gpa = l2_gpa + PAGE_SIZE;
	uint64_t *tab, *l3, *l2;

	d->m2p_l3_gpa = 0;
	if (!m2p_fits(d->max_vcpus, m->ram_size))
		return 0;
	tab = mem_gpa(m, tab_gpa, n * PAGE_SIZE);
	l3 = mem_gpa(m, l3_gpa, PAGE_SIZE);
	l2 = mem_gpa(m, l2_gpa, PAGE_SIZE);
	if (!tab || !l3 || !l2 || !mem_gpa(m, l1_gpa, nl1 * PAGE_SIZE))
		return -EINVAL;
	memset(tab, 0xff, n * PAGE_SIZE); /* HV_M2P_INVALID */
	uint64_t pfn = 0;
	for (unsigned r = 0; r < m->nr_ram; r++)
		for (uint64_t g = m->ram[r].gpa; g < m->ram[r].gpa + m->ram[r].size; g += PAGE_SIZE)
			tab[g / PAGE_SIZE] = pfn++;
	l3[(SV_M2P_VA >> 30) & 511] = l2_gpa | PTE_P | PTE_US;
	for (uint64_t i = 0; i < nl1; i++) {
		uint64_t *l1 = mem_gpa(m, l1_gpa + i * PAGE_SIZE, PAGE_SIZE);
		l2[((SV_M2P_VA >> 21) & 511) + i] = (l1_gpa + i * PAGE_SIZE) | PTE_P | PTE_US;
		for (uint64_t j = 0; j < 512 && i * 512 + j < n; j++)
			l1[j] = (tab_gpa + (i * 512 + j) * PAGE_SIZE) | PTE_P | PTE_US | PTE_NX;
	}
	d->m2p_l3_gpa = l3_gpa;
	d->m2p_tab_gpa = tab_gpa;
	d->m2p_entries = n * PAGE_SIZE / 8;
	return 0;
}

/* The M2P entry of the frame at gpa, where the hypervisor keeps one (memop.c, mmu.c). */
void pv_m2p_set(struct hv_domain *d, uint64_t gpa, uint64_t value)
{
	uint64_t *e;

	if (!d->m2p_l3_gpa || gpa / PAGE_SIZE >= d->m2p_entries)
		return;
	e = mem_gpa(&d->mem, d->m2p_tab_gpa + gpa / PAGE_SIZE * 8, 8);
	if (e)
		__atomic_store_n(e, value, __ATOMIC_RELAXED);
}

uint64_t pv_m2p_get(struct hv_domain *d, uint64_t gpa)
{
	uint64_t *e;

	if (!d->m2p_l3_gpa || gpa / PAGE_SIZE >= d->m2p_entries)
		return HV_M2P_INVALID;
	e = mem_gpa(&d->mem, d->m2p_tab_gpa + gpa / PAGE_SIZE * 8, 8);
	return e ? __atomic_load_n(e, __ATOMIC_RELAXED) : HV_M2P_INVALID;
}

uint64_t pv_gnttab_gpa(struct hv_domain *d)
{
	return priv_gpa(PV_PRIV_VCPU0 + (uint64_t)PV_PRIV_PER_VCPU * d->max_vcpus);
}

int pv_domain_init(struct hv_domain *d)
{
	int ret = m2p_init(d);

	return ret ? ret : mmu_domain_init(d);
}

/* The engine decides what a stub does; the page must be guest RAM. */
int pv_write_hypercall_page(struct hv_domain *d, uint64_t gpa)
{
	uint8_t *p;

	if (gpa & (PAGE_SIZE - 1) || !mem_is_ram(&d->mem, gpa, PAGE_SIZE))
		return -EINVAL;
	p = mem_gpa(&d->mem, gpa, PAGE_SIZE);
	d->eng->hypercall_page(d, p);
	d->hcall_page_gpa = gpa;
	return 0;
}

static const char *const vec_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved 15",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD error",
	"#VE virtualization",
	"#CP control protection",
};

/* Are the bytes at rip a `syscall` instruction, 0f 05? */
static bool syscall_insn(struct hv_vcpu *v, uint64_t rip)
{
	uint8_t b[2];

	return !vcpu_copy_from_guest(v, b, rip, 2) && b[0] == 0x0f && b[1] == 0x05;
}

/* `int $N` (CD ib) at rip: N. */
static bool int_n_insn(struct hv_vcpu *v, uint64_t rip, unsigned *n)
{
	uint8_t b[2];

	if (vcpu_copy_from_guest(v, b, rip, 2) || b[0] != 0xcd)
		return false;
	*n = b[1];
	return true;
}

/*
 * A guest exception.  Xen would bounce it to the guest's trap table;
 * until trap bouncing exists every guest fault crashes the guest alone,
 * with a register dump in the log.
 */
void pv_fault(struct hv_vcpu *v, const struct hv_exit *e)
{
	/*
	 * Privileged instructions are the guest kernel's: user mode gets its own fault,
	 * except rdtsc/rdtscp under an emulated TSC (tsc_mode), emulated for it too.
	 */
	if ((!v->user_mode || v->dom->vtsc) && pv_emul_fault(v, e)) {
		atomic_fetch_add_explicit(&v->dom->stats.emulated, 1, memory_order_relaxed);
		return;
	}
	if (e->vector == 6 && syscall_insn(v, e->frame[0])) {
		/*
		 * An engine that leaves EFER.SCE clear (KVM) sees `syscall` as
		 * #UD: a process's system call in user mode, a hypercall in
		 * kernel mode (as the process engine's SIGSYS, pv_user.c).
		 */
		v->regs.rip = e->frame[0] + 2;
		v->regs.rflags = e->frame[2];
		v->regs.rsp = e->frame[3];
		if (v->user_mode)
			pv_user_syscall(v);
		else
			pv_kernel_syscall(v);
		return;
	}
	struct hv_exit gp;
	unsigned n;
	if (e->vector == 6 && int_n_insn(v, e->frame[0], &n)) {
		/*
		 * A PVM host raises #UD for a CPL3 `int $N` whatever the
		 * gate (measured): it is the CPU's #GP(N << 3 | 2) for a gate
		 * the guest may not use, which pv_trap_bounce takes as the
		 * software interrupt where the trap table allows it (DPL 3).
		 */
		gp = *e;
		gp.vector = 13;
		gp.error_code = (uint64_t)n << 3 | 2;
		e = &gp;
	}
	if (e->vector == 7 && v->fpu_ts) {
		/* Xen clears the virtual CR0.TS as it delivers the #NM it caused. */
		v->fpu_ts = false;
		v->fpu_ts_dirty = true;
	}
	if (pv_trap_bounce(v, e)) {
		atomic_fetch_add_explicit(&v->dom->stats.bounced[e->vector & 31], 1,
					  memory_order_relaxed);
		return;
	}
	const struct hv_regs *r = &v->regs;
	unsigned vec = e->vector < 32 ? e->vector : 15;
	const char *name = vec_names[vec] ? vec_names[vec] : "exception";
	char why[160];

	hv_log("d%u v%u: %s (vector %u) error %#llx at rip %#llx cs %#llx rflags %#llx rsp %#llx "
	       "ss %#llx cr2 %#llx",
	       v->dom->domid, v->id, name, e->vector, (unsigned long long)e->error_code,
	       (unsigned long long)e->frame[0], (unsigned long long)e->frame[1],
	       (unsigned long long)e->frame[2], (unsigned long long)e->frame[3],
	       (unsigned long long)e->frame[4], (unsigned long long)e->cr2);
	hv_log("d%u v%u: rax %016llx rbx %016llx rcx %016llx rdx %016llx", v->dom->domid, v->id,
	       (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
	       (unsigned long long)r->rdx);
	hv_log("d%u v%u: rsi %016llx rdi %016llx rbp %016llx r8  %016llx", v->dom->domid, v->id,
	       (unsigned long long)r->rsi, (unsigned long long)r->rdi, (unsigned long long)r->rbp,
	       (unsigned long long)r->r8);
	hv_log("d%u v%u: r9  %016llx r10 %016llx r11 %016llx r12 %016llx", v->dom->domid, v->id,
	       (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11,
	       (unsigned long long)r->r12);
	hv_log("d%u v%u: r13 %016llx r14 %016llx r15 %016llx cr3 %016llx", v->dom->domid, v->id,
	       (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15,
	       (unsigned long long)v->cr3);
	{
		/* The top of the guest's stack, as Xen's show_guest_stack: where it was called from. */
		uint64_t st[8];
		if (!vcpu_copy_from_guest(v, st, e->frame[3], sizeof(st)))
			hv_log("d%u v%u: stack %016llx %016llx %016llx %016llx %016llx %016llx "
			       "%016llx %016llx",
			       v->dom->domid, v->id, (unsigned long long)st[0],
			       (unsigned long long)st[1], (unsigned long long)st[2],
			       (unsigned long long)st[3], (unsigned long long)st[4],
			       (unsigned long long)st[5], (unsigned long long)st[6],
			       (unsigned long long)st[7]);
	}
	snprintf(why, sizeof(why), "unhandled %s at rip %#llx", name,
		 (unsigned long long)e->frame[0]);
	domain_crash(v->dom, why);
}

#define RFLAGS_IF 0x200ULL
#define RFLAGS_GUEST 0x40cd5ULL /* CF PF AF ZF SF DF OF AC: the guest's to keep */

/*
 * Bounce into a guest entry point as Xen does for x86-64 PV (its
 * create_bounce_frame with TBF_INTERRUPT): on the guest kernel stack
 * (aligned to 16) a frame of rcx, r11, rip, cs (with the saved upcall mask
 * in bits 32-39), rflags (IF = events were enabled), rsp, ss; events are
 * then masked until the guest's iret or its own unmask.  Runs on the
 * vCPU's thread between runs.  Returns 0, or -EFAULT when the stack is not
 * writable (the domain is crashed then).
 */
int pv_bounce(struct hv_vcpu *v, uint64_t entry, const char *what)
{
	return pv_bounce_frame(v, entry, what, false, 0, true);
}

/*
 * The same with an exception's error code (between r11 and rip, as Xen
 * puts it) when @has_err, and events masked only when @mask (a trap
 * table entry without TI_GET_IF leaves them as they were).
 */
int pv_bounce_frame(struct hv_vcpu *v, uint64_t entry, const char *what, bool has_err, uint64_t err,
		    bool mask)
{
	struct vcpu_info *vi = vcpu_info_of(v);
	struct hv_regs *r = &v->regs;
	uint64_t frame[8], top, cs;
	unsigned n = 0;
	bool masked = vi && __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE);

	/*
	 * From user mode: to kernel mode first, the frame on the stack_switch
	 * stack, its CS with RPL 3.  From kernel mode: on the current stack,
	 * CS with RPL 0 ("kernel context" to the guest, as Xen clears it).
	 */
	if (v->user_mode) {
		if (pv_toggle_mode(v))
			return -EFAULT;
		top = v->kernel_sp & ~0xfULL;
		cs = FLAT_USER_CS64;
	} else {
		top = r->rsp & ~0xfULL;
		cs = FLAT_KERNEL_CS64 & ~3ULL;
	}
	frame[n++] = r->rcx;
	frame[n++] = r->r11;
	if (has_err)
		frame[n++] = err;
	frame[n++] = r->rip;
	frame[n++] = cs | ((uint64_t)masked << 32); /* bits 32-39: the saved upcall mask */
	frame[n++] = (r->rflags & RFLAGS_GUEST) | (masked ? 0 : RFLAGS_IF) | 2;
	frame[n++] = r->rsp;
	frame[n++] = FLAT_KERNEL_SS;
	if (top < n * 8 || vcpu_copy_to_guest(v, top - n * 8, frame, n * 8)) {
		char why[112];
		snprintf(why, sizeof(why), "%s delivery: kernel stack %#llx is not writable", what,
			 (unsigned long long)(cs & 3 ? v->kernel_sp : r->rsp));
		vcpu_dump_and_crash(v, why);
		return -EFAULT;
	}
	if (vi && mask)
		__atomic_store_n(&vi->evtchn_upcall_mask, 1, __ATOMIC_RELEASE);
	r->rsp = top - n * 8;
	r->rip = entry;
	r->rflags = (r->rflags & RFLAGS_GUEST & ~0x400ULL /* DF */) | RFLAGS_IF | 2;
	v->regs_dirty = true;
	return 0;
}

/* Exceptions that push an error code (#DF #TS #NP #SS #GP #PF #AC #CP #VC #SX). */
static bool vector_has_err(unsigned vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 ||
	       vec == 30;
}

#define PFEC_USER 4ULL

/*
 * Xen's exception bouncing for x86-64 PV: a fault whose vector has an entry
 * in the vCPU's trap table goes to that entry with Xen's frame, the
 * faulting address of a #PF in vcpu_info.arch.cr2 (its error code without
 * the user bit: the guest kernel runs at CPL3, the guest must see kernel
 * mode), events masked when the entry asks (TI_GET_IF).  A #GP raised by
 * `int $N` (error code: IDT entry N) is the software interrupt N when the
 * table lets the guest kernel raise it (DPL 3), returning after the
 * two-byte instruction, as Xen's emulation of it does.
 */
bool pv_trap_bounce(struct hv_vcpu *v, const struct hv_exit *e)
{
	unsigned vec = e->vector;
	uint64_t err = e->error_code;
	struct hv_regs *r = &v->regs;
	bool has_err;

	if (vec >= 32)
		return false;
	if (vec == 13 && (err & 2) && !(err & 1) && (err >> 3) < 256 && v->trap_addr[err >> 3] &&
	    (v->trap_flags[err >> 3] & 3) == 3) {
		unsigned soft = (unsigned)(err >> 3);

		r->rip = e->frame[0] + 2; /* int $N is CD ib */
		r->rsp = e->frame[3];
		r->rflags = e->frame[2];
		v->regs_dirty = true;
		(void)pv_bounce_frame(v, v->trap_addr[soft], "software interrupt", false, 0,
				      v->trap_flags[soft] & 4);
		return true;
	}
	if (!v->trap_addr[vec])
		return false;
	has_err = vector_has_err(vec);
	if (vec == 14) {
		struct vcpu_info *vi = vcpu_info_of(v);

		if (vi)
			__atomic_store_n(&vi->arch.cr2, e->cr2, __ATOMIC_RELEASE);
		/* The guest kernel runs unprivileged too: the U bit says which mode faulted. */
		err = v->user_mode ? err | PFEC_USER : err & ~PFEC_USER;
	}
	r->rip = e->frame[0];
	r->rflags = e->frame[2];
	r->rsp = e->frame[3];
	v->regs_dirty = true;
	/* A stack we cannot write crashes the domain (in pv_bounce_frame): handled either way. */
	(void)pv_bounce_frame(v, v->trap_addr[vec], "exception", has_err, err,
			      v->trap_flags[vec] & 4);
	return true;
}

/* The event callback, when an upcall is pending and events are not masked. */
void pv_deliver_upcall(struct hv_vcpu *v)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	if (!vi || !v->event_callback || !v->ran)
		return;
	if (!__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE))
		return;
	if (!pv_bounce(v, v->event_callback, "event"))
		v->upcalls++;
}

/*
 * An engine that can run HYPERVISOR_iret without the core (the process
 * engine's runner, runner.c fast_iret) may do so while this holds: the
 * vCPU is in kernel mode (a return to user mode toggles the mode and the
 * tables: the core's), ends no NMI handler, takes no I/O privilege from
 * the frame (VMASST_TYPE_architectural_iopl) and has its vcpu_info in
 * shared_info, where the engine finds it.  The engine itself leaves to
 * pv_iret a frame that returns to user mode or that the CPU would refuse
 * (the failsafe), and a return that unmasks pending events (their upcall
 * is delivered next).  What it does is pv_iret's, below.
 */
bool pv_iret_engine_may(struct hv_vcpu *v)
{
	return !v->user_mode && !v->nmi_masked && v->id < XEN_LEGACY_MAX_VCPUS && v->dom->shinfo &&
	       !__atomic_load_n(&v->vinfo, __ATOMIC_ACQUIRE) &&
	       !(__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
		 (1ULL << VMASST_TYPE_architectural_iopl));
}

/*
 * VMASST_CMD_enable/disable: the domain's vm_assist gets the @set bits and
 * loses the @clear ones (checked by the caller), under the domain's lock
 * (which the caller does not hold).  The other writer, a vCPU 0 context
 * (pv_callback.c), comes before the domain first runs or while vCPU 0, its
 * boot vCPU, has none: no vCPU is in guest code then.  pv_iret_engine_may depends on it
 * (VMASST_TYPE_architectural_iopl): a vCPU in guest code may hold an
 * engine's fast iret granted under the old value, and would use it until
 * its next exit.  So when that bit changes every vCPU in guest code is
 * kicked, before the caller returns to the guest: the process engine's
 * fast_iret reads the kick flag after everything else and leaves the
 * iret to pv_iret while it is set, the flag stays set until the vCPU has
 * left the guest, and the next run asks pv_iret_engine_may afresh.  A
 * vCPU not in guest code now reads the new value before it goes in:
 * in_guest is set under the same lock (vcpu.c, vcpu_thread), after which
 * the engine decides.  An iret that began before the change may finish
 * under the old rules, as on Xen, where it would have come first.
 */
void pv_vm_assist_update(struct hv_domain *d, uint64_t set, uint64_t clear)
{
	const uint64_t revokes = 1ULL << VMASST_TYPE_architectural_iopl;

	pthread_mutex_lock(&d->lock);
	uint64_t old = __atomic_load_n(&d->vm_assist, __ATOMIC_RELAXED);
	uint64_t bits = (old | set) & ~clear;
	__atomic_store_n(&d->vm_assist, bits, __ATOMIC_SEQ_CST);
	if ((old ^ bits) & revokes)
		for (unsigned i = 0; i < d->max_vcpus; i++)
			if (d->vcpus[i] && atomic_load(&d->vcpus[i]->in_guest))
				vcpu_kick(d->vcpus[i]);
	pthread_mutex_unlock(&d->lock);
}

/*
 * A selector an iretq would load for the guest: Xen's flat ring-3 ones,
 * or, where the engine loads the guest's own descriptors of that table,
 * one of its GDT or LDT whose descriptor the CPU takes: present, DPL 3, for CS 64-bit
 * code (the engine runs no compatibility mode), for SS writable data.
 * The vCPU then runs on the flat segment of that kind, which is the same
 * 64-bit segment (bases and limits do not apply to CS and SS).
 */
static bool iret_sel_ok(struct hv_vcpu *v, uint16_t sel, bool code)
{
	uint64_t desc;

	if (sel == (code ? FLAT_RING3_CS64 : FLAT_RING3_SS64))
		return true;
	const struct hv_engine *eng = v->dom->eng;

	if (!eng || !((sel & 4) ? eng->guest_ldt : eng->guest_gdt) || !pv_seg_desc(v, sel, &desc))
		return false;
	unsigned type = (desc >> 40) & 0xf, s = (desc >> 44) & 1, dpl = (desc >> 45) & 3;
	if (!s || dpl != 3 || !((desc >> 47) & 1))
		return false;
	if (code) /* code (type bit 3), L set, D clear */
		return (type & 8) && ((desc >> 53) & 1) && !((desc >> 54) & 1);
	return !(type & 8) && (type & 2); /* writable data */
}

/*
 * HYPERVISOR_iret: the guest pushed flags and the return frame, the stub
 * rcx, r11 and rax, so rsp points at Xen's iret_context.  A CS with RPL 3
 * returns to user mode (the user tables must exist, else the domain is
 * crashed as Xen does); RPL 0 stays in kernel mode.  Restores the
 * interrupted state and the event mask from the saved IF, as Xen's
 * do_iret: rax always; rcx and r11 from the frame unless VGCF_in_syscall,
 * in which case the return is Xen's sysret (rcx = rip, r11 = rflags);
 * IOPL and VM never from the frame (IOPL becomes the vCPU's I/O privilege
 * under VMASST_TYPE_architectural_iopl).  Returns nonzero when the frame
 * could not be read (the domain is crashed then).
 */
int pv_iret(struct hv_vcpu *v)
{
	struct hv_regs *r = &v->regs;
	struct vcpu_info *vi = vcpu_info_of(v);
	struct iret_context ic;

	if (vcpu_copy_from_guest(v, &ic, r->rsp, sizeof(ic))) {
		domain_crash(v->dom, "HYPERVISOR_iret with an unreadable frame");
		return -1;
	}
	/* RPL 3 in the frame's CS: a return to user mode (Xen's do_iret). */
	if ((ic.cs & 3) == 3) {
		if (!pv_user_base(v)) {
			vcpu_dump_and_crash(v, "iret to user mode with no user page tables");
			return -1;
		}
		if (pv_toggle_mode(v))
			return -1;
	}
	r->rax = ic.rax;
	r->rip = ic.rip;
	r->rsp = ic.rsp;
	r->rflags = (ic.rflags & RFLAGS_GUEST) | RFLAGS_IF | 2;
	if (ic.flags & VGCF_in_syscall) {
		r->rcx = r->rip;
		r->r11 = r->rflags;
	} else {
		r->r11 = ic.r11;
		r->rcx = ic.rcx;
	}
	if (__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
	    (1ULL << VMASST_TYPE_architectural_iopl))
		v->iopl = (uint32_t)((ic.rflags >> 12) & 3);
	/*
	 * Xen forces RPL 3 and lets the CPU's iretq judge the rest; an iretq
	 * that faults goes to the failsafe callback.  Our vCPUs run on the
	 * flat 64-bit ring-3 selectors, or on the guest's own 64-bit ones
	 * where the engine loads them (iret_sel_ok), or on the guest GDT's
	 * flat 64-bit ring-3 segments on any engine (Linux returns to user
	 * mode on its __USER_CS/__USER_DS), so any other (compat mode
	 * included) and a non-canonical rip are what would fault here.
	 */
	uint16_t cs = (uint16_t)(ic.cs | 3), ss = (uint16_t)(ic.ss | 3);
	bool cs_ok = iret_sel_ok(v, cs, true) ||
		     ((ic.cs & 3) == 3 && pv_gdt_user_seg(v, cs, true));
	bool ss_ok = iret_sel_ok(v, ss, false) ||
		     ((ic.cs & 3) == 3 && pv_gdt_user_seg(v, ss, false));
	if (!cs_ok || !ss_ok ||
	    (uint64_t)((int64_t)(ic.rip << 16) >> 16) != ic.rip) {
		if (vi)
			__atomic_store_n(&vi->evtchn_upcall_mask, !(ic.rflags & RFLAGS_IF),
					 __ATOMIC_RELEASE);
		v->nmi_masked = false;
		v->regs_dirty = true;
		return pv_failsafe(v, cs, ss);
	}
	if (vi)
		__atomic_store_n(&vi->evtchn_upcall_mask, !(ic.rflags & RFLAGS_IF),
				 __ATOMIC_RELEASE);
	v->nmi_masked = false; /* as Xen's iret ends an NMI handler */
	v->regs_dirty = true;
	return 0;
}
