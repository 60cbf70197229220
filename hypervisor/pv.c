// SPDX-License-Identifier: MIT
/* PV mode on KVM: the hypervisor's private pages (GDT, IDT, TSS, stubs) and the CPL3 start state. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"

/*
 * The private pages, SV_PRIV_GPA onwards, in this order.  They are mapped
 * supervisor-only at SV_PRIV_VA through PML4 slot SV_PRIV_L4_SLOT, which
 * the hypervisor installs in every top-level table a vCPU runs on, so the
 * CPU finds its descriptor tables while the CPL3 guest kernel cannot touch
 * them.  Page i is at SV_PRIV_VA + i * 4 KiB.
 */
enum {
	PRIV_SHARED_INFO = 0, /* Xen's shared_info, mapped by the guest itself */
	PRIV_L3,              /* PDPT for the private slot */
	PRIV_L2,
	PRIV_L1,              /* maps the private pages (at most 512) */
	PRIV_IDT,
	PRIV_STUBS,           /* CPL0 exception stubs */
	PRIV_VCPU0,           /* then PRIV_PER_VCPU pages for each vCPU, */
};                            /* then SV_GNT_MAX_FRAMES grant-table frames */
enum { VCPU_GDT = 0, VCPU_TSS = 16, VCPU_STACK = 19, PRIV_PER_VCPU = 20 };

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_NX (1ULL << 63)

/* GDT selectors of the hypervisor's own (CPL0) segments. */
#define SEL_CPL0_CS 0x08
#define SEL_CPL0_DS 0x10
#define SEL_TSS 0x20

#define TSS_BASE_SIZE 104
#define TSS_IOMAP_SIZE 8192
#define TSS_LIMIT (TSS_BASE_SIZE + TSS_IOMAP_SIZE) /* covers the trailing 0xFF byte */
#define STUB_SIZE 16

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

/*
 * After the grant frames: the read-only M2P table (machine frame -> pseudo-
 * physical frame, one 8-byte entry per frame up to the highest RAM frame)
 * that every PV address space sees at SV_M2P_VA, with its page tables:
 * one level-3 page, one level-2 page (1 GiB of table is plenty) and a
 * level-1 page per 512 table pages.  Guests too large for the private
 * area get no M2P (XENMEM_machphys_mapping then says so).
 */
static uint64_t m2p_pages(uint64_t ram_bytes)
{
	uint64_t low = ram_bytes < SV_RAM_LOW_MAX ? ram_bytes : SV_RAM_LOW_MAX;
	uint64_t top = ram_bytes > low ? SV_RAM_HIGH_BASE + (ram_bytes - low) : low;

	return (top / PAGE_SIZE * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint64_t base_pages(unsigned max_vcpus)
{
	return PRIV_VCPU0 + (uint64_t)PRIV_PER_VCPU * max_vcpus + SV_GNT_MAX_FRAMES;
}

static uint64_t m2p_total_pages(uint64_t ram_bytes)
{
	uint64_t t = m2p_pages(ram_bytes);

	return t + 2 + (t + 511) / 512;
}

static bool m2p_fits(unsigned max_vcpus, uint64_t ram_bytes)
{
	return (base_pages(max_vcpus) + m2p_total_pages(ram_bytes)) * PAGE_SIZE <= SV_PRIV_MAX_SIZE;
}

uint64_t pv_priv_size(unsigned max_vcpus, uint64_t ram_bytes)
{
	uint64_t n = base_pages(max_vcpus);

	if (m2p_fits(max_vcpus, ram_bytes))
		n += m2p_total_pages(ram_bytes);
	return n * PAGE_SIZE;
}

/* Build the M2P and its page tables; sets d->m2p_* (none when it does not fit). */
static int m2p_init(struct hv_domain *d)
{
	const struct hv_mem *m = &d->mem;
	uint64_t first = base_pages(d->max_vcpus), n = m2p_pages(m->ram_size);
	uint64_t nl1 = (n + 511) / 512;
	uint64_t tab_gpa = priv_gpa((unsigned)first);
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
	memset(tab, 0xff, n * PAGE_SIZE); /* INVALID_M2P_ENTRY */
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
	d->m2p_entries = n * PAGE_SIZE / 8;
	return 0;
}

uint64_t pv_gnttab_gpa(struct hv_domain *d)
{
	return SV_PRIV_GPA + (PRIV_VCPU0 + (uint64_t)PRIV_PER_VCPU * d->max_vcpus) * PAGE_SIZE;
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

int pv_domain_init(struct hv_domain *d)
{
	unsigned nr_pages = (unsigned)base_pages(d->max_vcpus); /* mapped for the CPU at SV_PRIV_VA */
	uint64_t *l3 = priv_ptr(d, PRIV_L3), *l2 = priv_ptr(d, PRIV_L2), *l1 = priv_ptr(d, PRIV_L1);
	uint8_t *idt = priv_ptr(d, PRIV_IDT), *stubs = priv_ptr(d, PRIV_STUBS);

	if (nr_pages > 512 || !l3 || !l2 || !l1 || !idt || !stubs)
		return -EINVAL;
	/* SV_PRIV_VA is 1 GiB aligned: entry 0 at each lower level. */
	l3[(SV_PRIV_VA >> 30) & 511] = priv_gpa(PRIV_L2) | PTE_P | PTE_RW;
	l2[(SV_PRIV_VA >> 21) & 511] = priv_gpa(PRIV_L1) | PTE_P | PTE_RW;
	for (unsigned i = 0; i < nr_pages; i++) {
		uint64_t nx = i == PRIV_STUBS ? 0 : PTE_NX;
		l1[i] = priv_gpa(i) | PTE_P | PTE_RW | nx;
	}
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
	d->priv_l3_gpa = priv_gpa(PRIV_L3);
	return m2p_init(d);
}

/* A code or data descriptor: base 0, limit 4 GiB. */
static uint64_t seg_desc(unsigned dpl, bool code, bool l64)
{
	uint64_t type = code ? 0xb : 0x3; /* accessed, so the CPU never writes it */
	uint64_t d = 0xffffULL | (0xfULL << 48);

	d |= (type | 0x10 | ((uint64_t)dpl << 5) | 0x80) << 40; /* S, DPL, P */
	d |= (l64 ? 1ULL << 53 : 1ULL << 54) | (1ULL << 55);   /* L or D/B, G */
	return d;
}

static struct kvm_segment kseg(uint16_t sel, unsigned dpl, bool code, bool l64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = code ? 0xb : 0x3,
		.present = 1, .dpl = (uint8_t)dpl, .db = !l64, .s = 1, .l = l64, .g = 1,
	};
}

static struct kvm_segment null_seg(void)
{
	return (struct kvm_segment){ .unusable = 1, .type = 3 };
}

int pv_vcpu_init(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	unsigned base = PRIV_VCPU0 + v->id * PRIV_PER_VCPU;
	uint64_t *gdt = mem_gpa(&d->mem, priv_gpa(base + VCPU_GDT), 16 * PAGE_SIZE);
	uint8_t *tss = mem_gpa(&d->mem, priv_gpa(base + VCPU_TSS), 3 * PAGE_SIZE);
	uint8_t *stack = priv_ptr(d, base + VCPU_STACK);
	struct kvm_sregs *s = &v->sregs;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (!gdt || !tss || !stack)
		return -EINVAL;
	v->gdt_va = priv_va(base + VCPU_GDT);
	v->tss_va = priv_va(base + VCPU_TSS);
	v->ist_top_va = priv_va(base + VCPU_STACK) + PAGE_SIZE;
	v->ist_top = stack + PAGE_SIZE;

	/* Hypervisor segments, the TSS, and Xen's FLAT_RING3_* selectors. */
	gdt[SEL_CPL0_CS >> 3] = seg_desc(0, true, true);
	gdt[SEL_CPL0_DS >> 3] = seg_desc(0, false, false);
	uint64_t lo = TSS_LIMIT & 0xffff;
	lo |= (v->tss_va & 0xffffff) << 16;
	lo |= 0x8bULL << 40; /* present, busy 64-bit TSS */
	lo |= (uint64_t)((TSS_LIMIT >> 16) & 0xf) << 48;
	lo |= ((v->tss_va >> 24) & 0xff) << 56;
	gdt[SEL_TSS >> 3] = lo;
	gdt[(SEL_TSS >> 3) + 1] = v->tss_va >> 32;
	gdt[FLAT_RING3_CS32 >> 3] = seg_desc(3, true, false);
	gdt[FLAT_RING3_DS32 >> 3] = seg_desc(3, false, false);
	gdt[FLAT_RING3_CS64 >> 3] = seg_desc(3, true, true);

	/*
	 * TSS: RSP0 and IST1 on the fault stack; an I/O bitmap that lets CPL3
	 * reach the hypercall port only (PVM ignores IOPL for CPL3 `out`).
	 */
	memset(tss, 0, TSS_BASE_SIZE);
	memcpy(tss + 4, &v->ist_top_va, 8);
	memcpy(tss + 0x24, &v->ist_top_va, 8);
	uint16_t iomap = TSS_BASE_SIZE;
	memcpy(tss + 0x66, &iomap, 2);
	memset(tss + TSS_BASE_SIZE, 0xff, TSS_IOMAP_SIZE + 1);
	tss[TSS_BASE_SIZE + SV_PORT_HYPERCALL / 8] &= (uint8_t)~(1u << (SV_PORT_HYPERCALL % 8));

	memset(s, 0, sizeof(*s));
	s->cs = kseg(FLAT_RING3_CS64, 3, true, true);
	s->ss = kseg(FLAT_RING3_SS64, 3, false, false);
	s->ds = s->es = s->fs = s->gs = null_seg();
	s->tr = (struct kvm_segment){ .base = v->tss_va, .limit = TSS_LIMIT, .selector = SEL_TSS,
				      .type = 0xb, .present = 1 };
	s->ldt = (struct kvm_segment){ .unusable = 1, .type = 2 };
	s->gdt.base = v->gdt_va;
	s->gdt.limit = 0xffff;
	s->idt.base = priv_va(PRIV_IDT);
	s->idt.limit = 0xfff;
	s->cr0 = 0x80010033; /* PG, WP, NE, ET, MP, PE */
	s->cr4 = 0x620;      /* OSXMMEXCPT, OSFXSR, PAE */
	s->efer = 0xd01;     /* NXE, LMA, LME, SCE */
	s->apic_base = 0xfee00900;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

/* Put the hypervisor's slot into a top-level table the guest will run on. */
int pv_install_l4(struct hv_domain *d, uint64_t l4_gpa)
{
	uint64_t *l4;

	if (l4_gpa & (PAGE_SIZE - 1) || !mem_is_ram(&d->mem, l4_gpa, PAGE_SIZE))
		return -EINVAL;
	l4 = mem_gpa(&d->mem, l4_gpa, PAGE_SIZE);
	__atomic_store_n(&l4[SV_PRIV_L4_SLOT], d->priv_l3_gpa | PTE_P | PTE_RW, __ATOMIC_RELAXED);
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
int pv_write_hypercall_page(struct hv_domain *d, uint64_t gpa)
{
	uint8_t *p;

	if (gpa & (PAGE_SIZE - 1) || !mem_is_ram(&d->mem, gpa, PAGE_SIZE))
		return -EINVAL;
	p = mem_gpa(&d->mem, gpa, PAGE_SIZE);
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
	const uint8_t stub[] = { 0x51, 0x41, 0x53, 0x50, 0xb8, __HYPERVISOR_iret, 0, 0, 0,
				 0xe6, SV_PORT_HYPERCALL, 0x0f, 0x0b };
	memcpy(iret, stub, sizeof(stub));
	d->hcall_page_gpa = gpa;
	return 0;
}

static const char *const vec_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15", "#MF x87 error",
	"#AC alignment check", "#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection",
};

static bool has_error_code(unsigned vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 ||
	       vec == 30;
}

/*
 * A CPL0 exception stub reported a fault.  Xen would bounce it to the
 * guest's trap table; until trap bouncing exists every guest fault crashes
 * the guest alone, with a register dump in the log.
 */
void pv_fault(struct hv_vcpu *v)
{
	struct kvm_regs *r = &v->run->s.regs.regs;
	struct kvm_sregs sr;
	uint64_t stub = r->rip - 2 - priv_va(PRIV_STUBS);
	uint64_t frame[6] = { 0 };
	unsigned vec, n;
	char why[160];

	if (r->rip < priv_va(PRIV_STUBS) + 2 || stub % STUB_SIZE || stub / STUB_SIZE >= 32) {
		domain_crash(v->dom, "fault port written from outside the exception stubs");
		return;
	}
	vec = (unsigned)(stub / STUB_SIZE);
	n = has_error_code(vec) ? 6 : 5;
	if (v->ist_top_va - r->rsp == n * 8)
		memcpy(frame, v->ist_top - n * 8, n * 8);
	const uint64_t *f = has_error_code(vec) ? frame + 1 : frame;
	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		memset(&sr, 0, sizeof(sr));
	hv_log("d%u v%u: %s (vector %u) error %#llx at rip %#llx cs %#llx rflags %#llx rsp %#llx ss %#llx cr2 %#llx",
	       v->dom->domid, v->id, vec_names[vec] ? vec_names[vec] : "exception", vec,
	       has_error_code(vec) ? (unsigned long long)frame[0] : 0ULL,
	       (unsigned long long)f[0], (unsigned long long)f[1], (unsigned long long)f[2],
	       (unsigned long long)f[3], (unsigned long long)f[4], (unsigned long long)sr.cr2);
	hv_log("d%u v%u: rax %016llx rbx %016llx rcx %016llx rdx %016llx", v->dom->domid, v->id,
	       r->rax, r->rbx, r->rcx, r->rdx);
	hv_log("d%u v%u: rsi %016llx rdi %016llx rbp %016llx r8  %016llx", v->dom->domid, v->id,
	       r->rsi, r->rdi, r->rbp, r->r8);
	hv_log("d%u v%u: r9  %016llx r10 %016llx r11 %016llx r12 %016llx", v->dom->domid, v->id,
	       r->r9, r->r10, r->r11, r->r12);
	hv_log("d%u v%u: r13 %016llx r14 %016llx r15 %016llx cr3 %016llx", v->dom->domid, v->id,
	       r->r13, r->r14, r->r15, sr.cr3);
	snprintf(why, sizeof(why), "unhandled %s at rip %#llx",
		 vec_names[vec] ? vec_names[vec] : "exception", (unsigned long long)f[0]);
	domain_crash(v->dom, why);
}

#define RFLAGS_IF 0x200ULL
#define RFLAGS_GUEST 0x40cd5ULL /* CF PF AF ZF SF DF OF AC: the guest's to keep */

/*
 * Bounce into the guest's event callback, as Xen does for x86-64 PV: on
 * the guest kernel stack (aligned to 16) a frame of rcx, r11, rip, cs
 * (with the saved upcall mask in bits 32-39), rflags (IF = events were
 * enabled), rsp, ss; events are then masked until the guest's iret or
 * its own unmask.  Runs on the vCPU's thread between KVM_RUNs.
 */
void pv_deliver_upcall(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	struct vcpu_info *vi = vcpu_info_of(v);
	struct kvm_regs *r = &v->run->s.regs.regs;
	uint64_t frame[7], top;

	if (!vi || !d->event_callback || !v->ran)
		return;
	if (!__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE))
		return;
	top = r->rsp & ~0xfULL;
	frame[0] = r->rcx;
	frame[1] = r->r11;
	frame[2] = r->rip;
	frame[3] = FLAT_KERNEL_CS;
	frame[4] = (r->rflags & RFLAGS_GUEST) | RFLAGS_IF | 2;
	frame[5] = r->rsp;
	frame[6] = FLAT_KERNEL_SS;
	if (vcpu_copy_to_guest(v, top - sizeof(frame), frame, sizeof(frame))) {
		char why[96];
		snprintf(why, sizeof(why), "event delivery: kernel stack %#llx is not writable",
			 (unsigned long long)r->rsp);
		domain_crash(d, why);
		return;
	}
	__atomic_store_n(&vi->evtchn_upcall_mask, 1, __ATOMIC_RELEASE);
	r->rsp = top - sizeof(frame);
	r->rip = d->event_callback;
	r->rflags = (r->rflags & RFLAGS_GUEST & ~0x400ULL /* DF */) | RFLAGS_IF | 2;
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	v->upcalls++;
}

/*
 * HYPERVISOR_iret: the guest pushed flags and the return frame, the stub
 * rcx, r11 and rax, so rsp points at Xen's iret_context.  Restores the interrupted state and the event mask from
 * the saved IF.  Returns nonzero when the frame could not be read (the
 * domain is crashed then).
 */
int pv_iret(struct hv_vcpu *v)
{
	struct kvm_regs *r = &v->run->s.regs.regs;
	struct vcpu_info *vi = vcpu_info_of(v);
	struct iret_context ic;

	if (vcpu_copy_from_guest(v, &ic, r->rsp, sizeof(ic))) {
		domain_crash(v->dom, "HYPERVISOR_iret with an unreadable frame");
		return -1;
	}
	r->rax = ic.rax;
	if (!(ic.flags & VGCF_in_syscall)) {
		r->r11 = ic.r11;
		r->rcx = ic.rcx;
	}
	r->rip = ic.rip;
	r->rsp = ic.rsp;
	r->rflags = (ic.rflags & RFLAGS_GUEST) | RFLAGS_IF | 2;
	if (vi)
		__atomic_store_n(&vi->evtchn_upcall_mask, !(ic.rflags & RFLAGS_IF), __ATOMIC_RELEASE);
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	return 0;
}
