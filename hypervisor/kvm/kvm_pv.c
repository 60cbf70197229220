// SPDX-License-Identifier: MIT
/* PV at CPL3 on KVM: the hypervisor's private pages (GDT, IDT, TSS, stubs), the CPL3 start state,
 * faults. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "kvm.h"

/*
 * The private pages, SV_PRIV_GPA onwards, in this order.  They are mapped
 * supervisor-only at SV_PRIV_VA through PML4 slot SV_PRIV_L4_SLOT, which
 * the hypervisor installs in every top-level table a vCPU runs on, so the
 * CPU finds its descriptor tables while the CPL3 guest kernel cannot touch
 * them.  Page i is at SV_PRIV_VA + i * 4 KiB.
 */
#define PRIV_L3 PV_PRIV_L3 /* PDPT for the private slot */
#define PRIV_L2 PV_PRIV_L2
#define PRIV_L1 PV_PRIV_L1 /* maps the private pages (at most 512) */
#define PRIV_IDT PV_PRIV_IDT
#define PRIV_STUBS PV_PRIV_STUBS /* CPL0 exception stubs */
/*
 * LSTAR's (and CSTAR's) stub, "out %al,$SV_PORT_SYSCALL; jmp .": a guest
 * `syscall` enters it on the guest's own stack, which it never touches,
 * with the return rip in rcx and the flags in r11.  Hardware enters it at
 * CPL0; PVM keeps a `syscall` at CPL3, so the page is user-executable and
 * the port open to CPL3.  Jumping there directly gains nothing a
 * `syscall` would not.
 */
#define PRIV_SYSCALL PV_PRIV_SYSCALL
#define PRIV_VCPU0 PV_PRIV_VCPU0 /* then PRIV_PER_VCPU pages for each vCPU */
#define PRIV_PER_VCPU PV_PRIV_PER_VCPU
#define VCPU_GDT PV_VCPU_GDT
#define VCPU_TSS PV_VCPU_TSS
#define VCPU_STACK PV_VCPU_STACK

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_NX (1ULL << 63)

/*
 * GDT selectors of the hypervisor's own (CPL0) segments: in Xen's reserved
 * area (FIRST_RESERVED_GDT_ENTRY on, Xen's own __HYPERVISOR_CS/DS and TSS
 * places), so entries 0..FIRST_RESERVED_GDT_ENTRY-1 are the guest's GDT
 * (kvm_pv_gdt_fill), as in Xen's per-vCPU GDT.
 */
#define SEL_CPL0_CS 0xe008
#define SEL_CPL0_DS 0xe010
#define SEL_TSS 0xe040

#define TSS_BASE_SIZE 104
#define TSS_IOMAP_SIZE 8192
#define TSS_LIMIT (TSS_BASE_SIZE + TSS_IOMAP_SIZE) /* covers the trailing 0xFF byte */
#define STUB_SIZE 16
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_FMASK 0xc0000084u
#define EFER_SCE 0x1ULL
/* Flags a `syscall` clears on the way in: TF, IF, DF, NT, AC (as Linux and Xen do). */
#define SYSCALL_FMASK 0x44700ULL

static uint64_t priv_gpa(unsigned page)
{
	return SV_PRIV_GPA + (uint64_t)page * PAGE_SIZE;
}

static uint64_t priv_va(unsigned page)
{
	return SV_PRIV_VA + (uint64_t)page * PAGE_SIZE;
}

static void *priv_ptr(struct hv_domain *d, unsigned page)
{
	return mem_gpa(&d->mem, priv_gpa(page), PAGE_SIZE);
}

/* An IDT gate to a CPL0 stub, on IST1 so a bad guest stack cannot hurt. */
static void set_gate(uint8_t *idt, unsigned vec, uint64_t target)
{
	uint8_t *g = idt + vec * 16;
	uint16_t sel = SEL_CPL0_CS;

	memset(g, 0, 16);
	g[0] = target & 0xff;
	g[1] = (target >> 8) & 0xff;
	memcpy(g + 2, &sel, 2);
	g[4] = 1;    /* IST1 */
	g[5] = 0x8e; /* present, DPL0, 64-bit interrupt gate */
	g[6] = (target >> 16) & 0xff;
	g[7] = (target >> 24) & 0xff;
	uint32_t hi = (uint32_t)(target >> 32);
	memcpy(g + 8, &hi, 4);
}

int kvm_pv_domain_init(struct hv_domain *d)
{
	/* Mapped for the CPU at SV_PRIV_VA, up to the LDT copies' level-1 page. */
	unsigned nr_pages = (unsigned)pv_priv_ldt_l1(d->max_vcpus);
	unsigned ldt_pages = PV_LDT_PAGES * d->max_vcpus; /* at KVM_LDT_VA */
	uint64_t *l3 = priv_ptr(d, PRIV_L3), *l2 = priv_ptr(d, PRIV_L2), *l1 = priv_ptr(d, PRIV_L1);
	uint64_t *ldt_l1 = priv_ptr(d, nr_pages);
	uint8_t *idt = priv_ptr(d, PRIV_IDT), *stubs = priv_ptr(d, PRIV_STUBS);
	uint8_t *sysc = priv_ptr(d, PRIV_SYSCALL);

	if (nr_pages > 512 || ldt_pages > 512 || !l3 || !l2 || !l1 || !ldt_l1 || !idt || !stubs ||
	    !sysc)
		return -EINVAL;
	/* SV_PRIV_VA is 1 GiB aligned: entry 0 at each lower level. */
	/* U at the upper levels for the syscall page; every other leaf is supervisor-only. */
	l3[(SV_PRIV_VA >> 30) & 511] = priv_gpa(PRIV_L2) | PTE_P | PTE_RW | PTE_US;
	l2[(SV_PRIV_VA >> 21) & 511] = priv_gpa(PRIV_L1) | PTE_P | PTE_RW | PTE_US;
	for (unsigned i = 0; i < nr_pages; i++) {
		uint64_t nx = i == PRIV_STUBS ? 0 : PTE_NX;
		l1[i] = priv_gpa(i) | PTE_P | PTE_RW | nx;
	}
	l1[PRIV_SYSCALL] = priv_gpa(PRIV_SYSCALL) | PTE_P | PTE_US;
	/* The LDT copies (kvm_ldt.c): supervisor-only data, as the GDT. */
	l2[(KVM_LDT_VA >> 21) & 511] = priv_gpa(nr_pages) | PTE_P | PTE_RW | PTE_US;
	for (unsigned i = 0; i < ldt_pages; i++)
		ldt_l1[i] = priv_gpa(nr_pages + 1 + i) | PTE_P | PTE_RW | PTE_NX;
	/*
	 * Exception stubs: "out %al, $SV_PORT_FAULT; jmp ." at vector * 16.
	 * The VMM reads the vector back from RIP and the frame from IST1.
	 */
	for (unsigned vec = 0; vec < 32; vec++) {
		uint8_t *s = stubs + vec * STUB_SIZE;
		s[0] = 0xe6;
		s[1] = SV_PORT_FAULT;
		s[2] = 0xeb;
		s[3] = 0xfe;
		set_gate(idt, vec, priv_va(PRIV_STUBS) + vec * STUB_SIZE);
	}
	memset(sysc, 0xcc, PAGE_SIZE);
	sysc[0] = 0xe6;
	sysc[1] = SV_PORT_SYSCALL;
	sysc[2] = 0xeb;
	sysc[3] = 0xfe;
	d->priv_l3_gpa = priv_gpa(PRIV_L3);
	return 0;
}

/* A code or data descriptor: base 0, limit 4 GiB. */
static uint64_t seg_desc(unsigned dpl, bool code, bool l64)
{
	uint64_t type = code ? 0xb : 0x3; /* accessed, so the CPU never writes it */
	uint64_t d = 0xffffULL | (0xfULL << 48);

	d |= (type | 0x10 | ((uint64_t)dpl << 5) | 0x80) << 40; /* S, DPL, P */
	d |= (l64 ? 1ULL << 53 : 1ULL << 54) | (1ULL << 55);	/* L or D/B, G */
	return d;
}

static struct kvm_segment kseg(uint16_t sel, unsigned dpl, bool code, bool l64)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = code ? 0xb : 0x3,
		.present = 1,
		.dpl = (uint8_t)dpl,
		.db = !l64,
		.s = 1,
		.l = l64,
		.g = 1,
	};
}

static struct kvm_segment null_seg(void)
{
	return (struct kvm_segment){ .unusable = 1, .type = 3 };
}

void kvm_pv_gdt_fill(uint64_t *gdt, const struct hv_mem *mem, const uint64_t *frames, unsigned ents)
{
	if (ents > FIRST_RESERVED_GDT_ENTRY)
		ents = 0; /* cannot be: set_gdt refuses it */
	for (unsigned i = 0; i < FIRST_RESERVED_GDT_ENTRY; i++) {
		uint64_t e = 0;
		if (i < ents) {
			/* A held seg-desc frame of the guest's RAM, validated (pv_desc.c). */
			const uint64_t *f = mem_gpa(mem, frames[i / 512] << PAGE_SHIFT, PAGE_SIZE);
			e = f ? __atomic_load_n(&f[i % 512], __ATOMIC_RELAXED) : 0;
		}
		__atomic_store_n(&gdt[i], e, __ATOMIC_RELAXED);
	}
}

/*
 * v's guest GDT changed: its descriptors are copied into the guest part of
 * the vCPU's GDT (Xen maps the frames there; a copy here, redone on every
 * update_descriptor to one of them).  The reserved entries stay.
 */
void kvm_pv_gdt_changed(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	unsigned base = PRIV_VCPU0 + v->id * PRIV_PER_VCPU;
	uint64_t *gdt = mem_gpa(&d->mem, priv_gpa(base + VCPU_GDT), 16 * PAGE_SIZE);
	uint64_t frames[PV_GDT_FRAMES];
	unsigned ents;

	if (!gdt)
		return;
	/* The caller may hold d->lock (a context) or not (a hypercall): read as it is. */
	memcpy(frames, v->gdt_frames, sizeof(frames));
	ents = __atomic_load_n(&v->gdt_ents, __ATOMIC_RELAXED);
	kvm_pv_gdt_fill(gdt, &d->mem, frames, ents);
}

int kvm_pv_vcpu_init(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	struct kvm_vcpu *k = kvm_vcpu(v);
	unsigned base = PRIV_VCPU0 + v->id * PRIV_PER_VCPU;
	uint64_t *gdt = mem_gpa(&d->mem, priv_gpa(base + VCPU_GDT), 16 * PAGE_SIZE);
	uint8_t *tss = mem_gpa(&d->mem, priv_gpa(base + VCPU_TSS), 3 * PAGE_SIZE);
	uint8_t *stack = priv_ptr(d, base + VCPU_STACK);
	struct kvm_sregs *s = &k->sregs;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (!gdt || !tss || !stack)
		return -EINVAL;
	k->gdt_va = priv_va(base + VCPU_GDT);
	k->tss_va = priv_va(base + VCPU_TSS);
	k->ist_top_va = priv_va(base + VCPU_STACK) + PAGE_SIZE;
	k->ist_top = stack + PAGE_SIZE;

	/* Hypervisor segments, the TSS, and Xen's FLAT_RING3_* selectors. */
	gdt[SEL_CPL0_CS >> 3] = seg_desc(0, true, true);
	gdt[SEL_CPL0_DS >> 3] = seg_desc(0, false, false);
	uint64_t lo = TSS_LIMIT & 0xffff;
	lo |= (k->tss_va & 0xffffff) << 16;
	lo |= 0x8bULL << 40; /* present, busy 64-bit TSS */
	lo |= (uint64_t)((TSS_LIMIT >> 16) & 0xf) << 48;
	lo |= ((k->tss_va >> 24) & 0xff) << 56;
	gdt[SEL_TSS >> 3] = lo;
	gdt[(SEL_TSS >> 3) + 1] = k->tss_va >> 32;
	gdt[FLAT_RING3_CS32 >> 3] = seg_desc(3, true, false);
	gdt[FLAT_RING3_DS32 >> 3] = seg_desc(3, false, false);
	gdt[FLAT_RING3_CS64 >> 3] = seg_desc(3, true, true);

	/*
	 * TSS: RSP0 and IST1 on the fault stack; an I/O bitmap that lets CPL3
	 * reach the hypercall port only (PVM ignores IOPL for CPL3 `out`).
	 */
	memset(tss, 0, TSS_BASE_SIZE);
	memcpy(tss + 4, &k->ist_top_va, 8);
	memcpy(tss + 0x24, &k->ist_top_va, 8);
	uint16_t iomap = TSS_BASE_SIZE;
	memcpy(tss + 0x66, &iomap, 2);
	memset(tss + TSS_BASE_SIZE, 0xff, TSS_IOMAP_SIZE + 1);
	tss[TSS_BASE_SIZE + SV_PORT_HYPERCALL / 8] &= (uint8_t) ~(1u << (SV_PORT_HYPERCALL % 8));
	tss[TSS_BASE_SIZE + SV_PORT_SYSCALL / 8] &= (uint8_t) ~(1u << (SV_PORT_SYSCALL % 8));

	memset(s, 0, sizeof(*s));
	s->cs = kseg(FLAT_RING3_CS64, 3, true, true);
	s->ss = kseg(FLAT_RING3_SS64, 3, false, false);
	s->ds = s->es = s->fs = s->gs = null_seg();
	s->tr = (struct kvm_segment){ .base = k->tss_va,
				      .limit = TSS_LIMIT,
				      .selector = SEL_TSS,
				      .type = 0xb,
				      .present = 1 };
	kvm_ldt_changed(v); /* the LDT copy and LDTR as the vCPU's LDT stands (none at first) */
	s->ldt = kvm_ldt_seg(v);
	s->gdt.base = k->gdt_va;
	s->gdt.limit = 0xffff;
	s->idt.base = priv_va(PRIV_IDT);
	s->idt.limit = 0xfff;
	s->cr0 = 0x80010033; /* PG, WP, NE, ET, MP, PE */
	s->cr4 = 0x620;	     /* OSXMMEXCPT, OSFXSR, PAE */
	if (d->vtsc)
		s->cr4 |= 0x4; /* TSD: the guest (ring 3) rdtsc/rdtscp is #GP, emulated (tsc.c) */
	/*
	 * NXE, LMA, LME and SCE: a guest `syscall` (a hypercall in kernel
	 * mode, a process's system call in user mode) enters the syscall stub
	 * at CPL0.  With SCE clear, hardware raises #UD, which the core would
	 * take the same way (pv.c); PVM ignores SCE and jumps to LSTAR, so
	 * LSTAR must be ours either way.
	 */
	s->efer = 0xd00 | EFER_SCE;
	s->apic_base = 0xfee00900;
	uint64_t stub = priv_va(PRIV_SYSCALL);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[4];
	} msrs = { .hdr.nmsrs = 4,
		   .e = { { .index = MSR_STAR, .data = (uint64_t)SEL_CPL0_CS << 32 },
			  { .index = MSR_LSTAR, .data = stub },
			  { .index = MSR_CSTAR, .data = stub },
			  { .index = MSR_FMASK, .data = SYSCALL_FMASK } } };
	if (ioctl(k->fd, KVM_SET_MSRS, &msrs) != 4)
		return -EIO;
	if (ioctl(k->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

/* Put the hypervisor's slot into a top-level table the guest will run on. */
int kvm_pv_install_l4(struct hv_domain *d, uint64_t l4_gpa)
{
	uint64_t *l4;

	if (l4_gpa & (PAGE_SIZE - 1) || !mem_is_ram(&d->mem, l4_gpa, PAGE_SIZE))
		return -EINVAL;
	l4 = mem_gpa(&d->mem, l4_gpa, PAGE_SIZE);
	__atomic_store_n(&l4[SV_PRIV_L4_SLOT], d->priv_l3_gpa | PTE_P | PTE_RW | PTE_US,
			 __ATOMIC_RELAXED);
	if (d->m2p_l3_gpa) /* read-only for the guest kernel */
		__atomic_store_n(&l4[(SV_M2P_VA >> 39) & 511], d->m2p_l3_gpa | PTE_P | PTE_US,
				 __ATOMIC_RELAXED);
	return 0;
}

/*
 * Fill the guest's hypercall page: stub nr is "mov $nr,%eax; out %al,$port;
 * ret" (8 bytes), the rest of its 32 bytes int3.  The iret stub first
 * pushes rcx, r11 and rax, as Xen's does, and never returns.
 */
void kvm_pv_hypercall_page(struct hv_domain *d, uint8_t *p)
{
	memset(p, 0xcc, PAGE_SIZE);
	for (unsigned nr = 0; nr < PAGE_SIZE / SV_HYPERCALL_STUB_SIZE; nr++) {
		uint8_t *s = p + nr * SV_HYPERCALL_STUB_SIZE;
		s[0] = 0xb8;
		memcpy(s + 1, &nr, 4);
		s[5] = 0xe6;
		s[6] = SV_PORT_HYPERCALL;
		s[7] = 0xc3;
	}
	uint8_t *iret = p + __HYPERVISOR_iret * SV_HYPERCALL_STUB_SIZE;
	/* push %rcx; push %r11; push %rax: the frame's first three words, as in Xen's stub. */
	const uint8_t stub[] = {
		0x51, 0x41, 0x53, 0x50, 0xb8, __HYPERVISOR_iret, 0, 0, 0, 0xe6, SV_PORT_HYPERCALL,
		0x0f, 0x0b
	};
	memcpy(iret, stub, sizeof(stub));
}

/*
 * May an event or NMI be bounced onto v's registers now?  Not after a
 * KVM_RUN that a kick cut short while KVM still held an exception for the
 * guest (a #PF or #GP it raised, not yet delivered through the IDT to our
 * stub), nor while v stands inside one of our stubs: KVM would deliver
 * that exception on the rewritten registers, and the guest would see its
 * own fault at its event callback (Debian's kernel did, now and then,
 * with ptwr writes and its PCI probe's port I/O).  The next run delivers
 * the exception first; the event waits for the exit after it.
 */
bool kvm_pv_mid_stub(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	struct kvm_vcpu_events ev;
	uint64_t rip = v->regs.rip;

	if (!k->cut_short || k->in_stub)
		return false; /* an exit of ours: the registers are at a guest instruction */
	if ((rip >= priv_va(PRIV_STUBS) && rip < priv_va(PRIV_STUBS) + PAGE_SIZE) ||
	    (rip >= priv_va(PRIV_SYSCALL) && rip < priv_va(PRIV_SYSCALL) + PAGE_SIZE))
		return true;
	if (ioctl(k->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return false;
	return ev.exception.injected || ev.exception.pending || ev.nmi.injected ||
	       ev.interrupt.injected;
}

bool kvm_pv_va_reserved(uint64_t va)
{
	return va >= HYPERVISOR_VIRT_START && va < HYPERVISOR_VIRT_END;
}

static bool has_error_code(unsigned vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 ||
	       vec == 30;
}

/*
 * A CPL0 exception stub wrote the fault port: the vector from where it
 * stands, the frame from the IST stack, cr2 from the vCPU.
 */
void kvm_pv_fault(struct hv_vcpu *v, struct hv_exit *e)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	struct hv_regs *r = &v->regs;
	struct kvm_sregs sr;
	uint64_t stub = r->rip - 2 - priv_va(PRIV_STUBS);
	uint64_t frame[6] = { 0 };
	unsigned vec, n;

	if (r->rip < priv_va(PRIV_STUBS) + 2 || stub % STUB_SIZE || stub / STUB_SIZE >= 32) {
		e->kind = HV_EXIT_CRASH;
		snprintf(e->why, sizeof(e->why),
			 "fault port written from outside the exception stubs");
		return;
	}
	vec = (unsigned)(stub / STUB_SIZE);
	n = has_error_code(vec) ? 6 : 5;
	if (k->ist_top_va - r->rsp == n * 8)
		memcpy(frame, k->ist_top - n * 8, n * 8);
	const uint64_t *f = has_error_code(vec) ? frame + 1 : frame;
	if (ioctl(k->fd, KVM_GET_SREGS, &sr) < 0)
		memset(&sr, 0, sizeof(sr));
	k->in_stub = true;
	e->kind = HV_EXIT_FAULT;
	e->vector = vec;
	e->error_code = has_error_code(vec) ? frame[0] : 0;
	e->cr2 = sr.cr2;
	memcpy(e->frame, f, sizeof(e->frame));
}

/*
 * The syscall stub wrote its port: the core knows a `syscall` as the #UD
 * it raises where SCE is clear (pv_fault), so it is told so, at the
 * instruction, with the flags the CPU saved in r11.  rcx and r11 are
 * clobbered, as a `syscall` into Xen clobbers them.  Whether the bytes
 * there are a `syscall` the core checks (a guest that jumps to the stub
 * gets a #UD of its own).
 */
void kvm_pv_syscall(struct hv_vcpu *v, struct hv_exit *e)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	const struct hv_regs *r = &v->regs;

	if (r->rip != priv_va(PRIV_SYSCALL) + 2) {
		e->kind = HV_EXIT_CRASH;
		snprintf(e->why, sizeof(e->why), "syscall port written from outside its stub");
		return;
	}
	k->in_stub = true;
	e->kind = HV_EXIT_FAULT;
	e->vector = 6;
	e->error_code = 0;
	e->cr2 = 0;
	e->frame[0] = r->rcx - 2;
	e->frame[1] = k->sregs.cs.selector;
	e->frame[2] = r->r11;
	e->frame[3] = r->rsp;
	e->frame[4] = k->sregs.ss.selector;
}
