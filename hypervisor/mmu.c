// SPDX-License-Identifier: MIT
/*
 * Xen's page-type and reference accounting for x86-64 PV guests, and the
 * MMU hypercalls (docs/mmu.md).
 *
 * Each RAM frame has a general reference count (every mapping, table
 * link, pin and base pointer holds one) and a type with its own count: a
 * page table of one level, or writable, never both at once.  A frame
 * becomes a table when it gains its first type reference of that level
 * (a pin, a base pointer, or an entry of a validated table one level up),
 * and is validated then: every present entry must be accepted as if it
 * were written by mmu_update, taking its own references.  So a validated
 * table only maps the domain's own present frames, reaches lower tables
 * only through entries that are validated tables themselves, and maps
 * no table writable.  When its last type reference goes, its entries'
 * references go with it.
 *
 * Errors are Xen's: a frame that is not the domain's own in an L1 entry
 * -EBUSY (Xen's "could not pin"), no memory there at all -EPERM, a
 * superpage or a table that does not validate -EINVAL.
 *
 * Every update happens under mmu->lock; the engines hear of the
 * mappings a hypercall changed once, at its end (ptes_changed).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include "hv.h"
#include "mmu.h"
#include "hypercall.h"

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_G (1ULL << 8)
/*
 * Xen's base_disallow_mask for a 64-bit PV domain without devices: only P,
 * RW, US, A, D, the available bits and NX may be set.  An L1 entry may
 * also set G (user mappings); PAT (bit 7 there) is refused with the
 * caching bits; above L1 bit 7 is PSE.
 */
#define L1_DISALLOW (PTE_PWT | PTE_PCD | PTE_PS)
#define LN_DISALLOW (PTE_PWT | PTE_PCD | PTE_PS | PTE_G)
/* Xen's INVALID_MFN test in get_page_from_l1e: the all-ones frame is -EINVAL, not -EPERM. */
#define MFN_ALL_ONES (PTE_ADDR >> 12)
/* Xen's _PAGE_GUEST_KERNEL: flag bit 12, which Xen keeps in a PTE's bit 52 (available). */
#define PTE_GUEST_KERNEL (1ULL << 52)
#define PTE_ADDR 0x000ffffffffff000ULL
#define NO_PFN UINT32_MAX
#define REF_MAX (UINT32_MAX - 1)
/* Xen's continuation mark in a count (xen/include/asm-x86/mm.h, not in the public headers). */
#define MMU_UPDATE_PREEMPTED (~(~0U >> 1))

/* What a frame named by an entry is. */
enum frame_kind {
	FR_RAM,	  /* the domain's own present RAM frame: accounted */
	FR_EXTRA, /* shared_info or a grant-table frame: mappable, not accounted */
};

static struct hv_mmu *M(struct hv_domain *d)
{
	return d->mmu;
}

int mmu_domain_init(struct hv_domain *d)
{
	struct hv_mmu *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->nr = d->mem.nr_frames;
	m->f = calloc(m->nr ? m->nr : 1, sizeof(*m->f));
	if (!m->f) {
		free(m);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < m->nr; i++)
		m->f[i].up_pfn[0] = m->f[i].up_pfn[1] = NO_PFN;
	pthread_mutex_init(&m->lock, NULL);
	d->mmu = m;
	return 0;
}

void mmu_domain_fini(struct hv_domain *d)
{
	struct hv_mmu *m = d->mmu;

	if (!m)
		return;
	if (m->held) /* every holder releases before this: a bug if not */
		hv_log("d%u: %llu guest frames still held by the hypervisor at destroy", d->domid,
		       (unsigned long long)m->held);
	pthread_mutex_destroy(&m->lock);
	free(m->f);
	free(m);
	d->mmu = NULL;
}

/*
 * The frame at gpa: FR_RAM with its pfn, FR_EXTRA, or Xen's error for a
 * frame the domain may not map: -EBUSY for one that is not its own (a
 * frame it gave back, a hypervisor page), -EPERM where there is no memory.
 */
static int classify(struct hv_domain *d, uint64_t gpa, uint64_t *pfn)
{
	const struct hv_mem *mem = &d->mem;

	gpa &= PTE_ADDR;
	if (mem_is_ram(mem, gpa, PAGE_SIZE)) {
		uint64_t p = (uint64_t)mem_offset(mem, gpa) / PAGE_SIZE;
		if (!mem_frame_present(mem, gpa) || p >= M(d)->nr)
			return -XEN_EBUSY;
		*pfn = p;
		return FR_RAM;
	}
	if (gpa == SV_SHARED_INFO_GPA || gnttab_is_frame(d, gpa))
		return FR_EXTRA;
	if (mem_gpa(mem, gpa, PAGE_SIZE))
		return -XEN_EBUSY; /* the hypervisor's own page */
	return -XEN_EPERM;
}

static uint64_t pfn_gpa(struct hv_domain *d, uint64_t pfn)
{
	const struct hv_mem *mem = &d->mem;
	uint64_t off = pfn * PAGE_SIZE;

	for (unsigned i = 0; i < mem->nr_ram; i++)
		if (off >= mem->ram[i].offset && off - mem->ram[i].offset < mem->ram[i].size)
			return mem->ram[i].gpa + (off - mem->ram[i].offset);
	return ~0ULL;
}

static uint64_t *table_of(struct hv_domain *d, uint64_t pfn)
{
	return (uint64_t *)(d->mem.base + pfn * PAGE_SIZE); /* RAM is first in the memfd */
}

/* An L4 slot the hypervisor owns (its entries are the engine's, never the guest's). */
static bool slot_reserved(struct hv_domain *d, unsigned slot)
{
	uint64_t va = (uint64_t)slot << 39;

	if (slot >= 256)
		va |= 0xffff000000000000ULL;
	return d->eng->va_reserved(va);
}

static int get_ref(struct mmu_frame *f)
{
	if (f->refs >= REF_MAX)
		return -XEN_EBUSY;
	f->refs++;
	return 0;
}

static void put_ref(struct mmu_frame *f)
{
	if (f->refs)
		f->refs--;
}

static int get_type(struct hv_domain *d, uint64_t pfn, unsigned type);
static void put_type(struct hv_domain *d, uint64_t pfn);

/*
 * Which tables link a table, for the engines (pend_entry): the first two
 * are remembered, enough for a table shared by a clone and its original.
 */
static void link_add(struct mmu_frame *f, uint64_t table_pfn, unsigned idx)
{
	if (f->links++ == 0)
		f->up_pfn[0] = f->up_pfn[1] = NO_PFN;
	for (unsigned k = 0; k < 2; k++) {
		if (f->up_pfn[k] == NO_PFN) {
			f->up_pfn[k] = (uint32_t)table_pfn;
			f->up_idx[k] = (uint16_t)idx;
			return;
		}
	}
}

static void link_del(struct mmu_frame *f, uint64_t table_pfn, unsigned idx)
{
	if (f->links)
		f->links--;
	for (unsigned k = 0; k < 2; k++) {
		if (f->up_pfn[k] == table_pfn && f->up_idx[k] == idx) {
			f->up_pfn[k] = NO_PFN;
			f->up_idx[k] = 0;
			return;
		}
	}
}

/* The links remembered: all of them, or fewer than there are (-1). */
static int links_known(const struct mmu_frame *f)
{
	int n = (f->up_pfn[0] != NO_PFN) + (f->up_pfn[1] != NO_PFN);

	return (uint32_t)n == f->links ? n : -1;
}

/*
 * The references a present entry of a level-`level` table holds: on the
 * frame it maps (and its writable type when it maps it writable), or on
 * the table it links (and that table's type of the level below).
 */
static int get_entry(struct hv_domain *d, unsigned level, uint64_t e, uint64_t table_pfn,
		     unsigned idx)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;
	int kind, ret;

	if (!(e & PTE_P))
		return 0;
	/* Xen's "Bad L%d flags": superpages (PSE), caching bits, G above L1. */
	if (e & (level > 1 ? LN_DISALLOW : L1_DISALLOW))
		return -XEN_EINVAL;
	kind = classify(d, e, &pfn);
	if (level > 1) {
		if (kind != FR_RAM)
			return -XEN_EINVAL; /* Xen: no page to take for a table */
		ret = get_ref(&m->f[pfn]);
		if (ret)
			return ret;
		ret = get_type(d, pfn, level - 1);
		if (ret) {
			put_ref(&m->f[pfn]);
			return ret;
		}
		link_add(&m->f[pfn], table_pfn, idx);
		return 0;
	}
	if (kind == -XEN_EPERM && ((e & PTE_ADDR) >> 12) == MFN_ALL_ONES)
		return -XEN_EINVAL;
	if (kind < 0)
		return kind;
	if (kind == FR_EXTRA)
		return 0;
	ret = get_ref(&m->f[pfn]);
	if (ret)
		return ret;
	if ((e & PTE_RW) && get_type(d, pfn, MMU_T_WRITABLE)) {
		put_ref(&m->f[pfn]);
		return -XEN_EBUSY; /* a table (or being one) mapped writable */
	}
	return 0;
}

static void put_entry(struct hv_domain *d, unsigned level, uint64_t e, uint64_t table_pfn,
		      unsigned idx)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;

	if (!(e & PTE_P) || classify(d, e, &pfn) != FR_RAM)
		return;
	if (level > 1) {
		link_del(&m->f[pfn], table_pfn, idx);
		put_type(d, pfn);
	} else if (e & PTE_RW) {
		put_type(d, pfn);
	}
	put_ref(&m->f[pfn]);
}

/*
 * A present entry of a level-`level` table as a 64-bit PV guest's entries
 * are kept (Xen's adjust_guest_l1e..l4e): the guest kernel runs in ring 3,
 * so every level gets _PAGE_USER.  An L1 entry the guest wrote without it
 * is a kernel page: it gets the user bit and Xen's guest-kernel marker
 * (bit 52, which the CPU ignores) and no _PAGE_GLOBAL; one written as a
 * user page (no marker) gets _PAGE_GLOBAL too.  (Neither engine turns on
 * CR4.PGE, so the global bit only reads back, as on Xen.)  An L4 entry also gets _PAGE_ACCESSED.
 * Idempotent: an adjusted entry adjusts to itself.  Nothing else changes.
 */
static uint64_t adjust_entry(unsigned level, uint64_t e)
{
	if (!(e & PTE_P))
		return e;
	if (level == 1) {
		if (!(e & PTE_US))
			e |= PTE_US | PTE_GUEST_KERNEL;
		if (!(e & PTE_GUEST_KERNEL))
			e |= PTE_G;
		return e;
	}
	return e | PTE_US | (level == 4 ? PTE_A : 0);
}

/*
 * The table's entries as they are now, each adjusted and taking its
 * references; all or none.  When all validate, the adjusted entries are
 * written back, as Xen's alloc_lN_table writes them; a refused table is
 * left as it was.
 */
static int validate(struct hv_domain *d, uint64_t pfn, unsigned level)
{
	uint64_t copy[512], add[512];
	uint64_t *t = table_of(d, pfn);
	int ret = 0;
	unsigned i;

	for (i = 0; i < 512; i++) {
		uint64_t e = __atomic_load_n(&t[i], __ATOMIC_RELAXED);
		copy[i] = adjust_entry(level, e);
		add[i] = copy[i] & ~e;
	}
	for (i = 0; i < 512; i++) {
		if (level == 4 && slot_reserved(d, i))
			continue;
		ret = get_entry(d, level, copy[i], pfn, i);
		if (ret)
			break;
	}
	if (!ret) {
		/*
		 * Only the bits added, OR-ed in: the frame is mapped nowhere
		 * writable now, but a CPU may still set A/D in it.
		 */
		for (i = 0; i < 512; i++)
			if (add[i] && !(level == 4 && slot_reserved(d, i)))
				__atomic_fetch_or(&t[i], add[i], __ATOMIC_RELAXED);
		return 0;
	}
	while (i--)
		if (!(level == 4 && slot_reserved(d, i)))
			put_entry(d, level, copy[i], pfn, i);
	return ret;
}

static void devalidate(struct hv_domain *d, uint64_t pfn, unsigned level)
{
	const uint64_t *t = table_of(d, pfn);

	for (unsigned i = 0; i < 512; i++)
		if (!(level == 4 && slot_reserved(d, i)))
			put_entry(d, level, __atomic_load_n(&t[i], __ATOMIC_RELAXED), pfn, i);
}

/* One more reference of the type; the first of a table type validates it. */
static int get_type(struct hv_domain *d, uint64_t pfn, unsigned type)
{
	struct mmu_frame *f = &M(d)->f[pfn];
	int ret;

	if (f->type_count == 0) {
		if (type != MMU_T_WRITABLE && M(d)->writable_dropped && M(d)->cur &&
		    d->eng->sync_mappings) {
			/*
			 * Some writable mapping went since the engine last synced:
			 * no vCPU may still write this frame through it once it is
			 * a table (Xen flushes TLBs on such a type change).
			 */
			if (d->eng->sync_mappings(M(d)->cur))
				return -XEN_EFAULT;
			M(d)->writable_dropped = false;
		}
		f->type = (uint8_t)type;
		f->type_count = 1;
		if (type == MMU_T_WRITABLE)
			return 0;
		f->flags &= (uint8_t)~MMU_F_VALIDATED;
		if (type == MMU_T_SEG_DESC) /* Xen's alloc_segdesc_page */
			ret = pv_desc_check_page(d, table_of(d, pfn)) ? 0 : -XEN_EINVAL;
		else
			ret = validate(d, pfn, type);
		/* The hypervisor's slots in every top-level table (Xen's init_xen_l4_slots). */
		if (!ret && type == MMU_T_L4 && d->eng->install_l4(d, pfn_gpa(d, pfn))) {
			devalidate(d, pfn, type);
			ret = -XEN_EINVAL;
		}
		if (ret) {
			f->type = MMU_T_NONE;
			f->type_count = 0;
			return ret;
		}
		f->flags |= MMU_F_VALIDATED;
		if (type != MMU_T_SEG_DESC && d->eng->table_written)
			d->eng->table_written(d, pfn_gpa(d, pfn), true);
		return 0;
	}
	if (f->type != type)
		return -XEN_EINVAL;
	if (type != MMU_T_WRITABLE && !(f->flags & MMU_F_VALIDATED))
		return -XEN_EINVAL; /* met again while it validates: a loop */
	if (f->type_count >= REF_MAX)
		return -XEN_EBUSY;
	f->type_count++;
	return 0;
}

static void put_type(struct hv_domain *d, uint64_t pfn)
{
	struct mmu_frame *f = &M(d)->f[pfn];
	unsigned type = f->type;

	if (!f->type_count || --f->type_count)
		return;
	if (type == MMU_T_WRITABLE)
		M(d)->writable_dropped = true;
	if (type >= MMU_T_L1 && type <= MMU_T_L4 && (f->flags & MMU_F_VALIDATED)) {
		f->flags &= (uint8_t)~MMU_F_VALIDATED;
		devalidate(d, pfn, type);
	}
	f->type = MMU_T_NONE;
}

/* A reference and a type reference of a table frame named by machine frame mfn. */
static int get_table(struct hv_domain *d, uint64_t mfn, unsigned level, uint64_t *pfn)
{
	int ret;

	if (mfn > (PTE_ADDR >> PAGE_SHIFT) || classify(d, mfn << PAGE_SHIFT, pfn) != FR_RAM)
		return -XEN_EINVAL;
	ret = get_ref(&M(d)->f[*pfn]);
	if (ret)
		return ret;
	ret = get_type(d, *pfn, level);
	if (ret)
		put_ref(&M(d)->f[*pfn]);
	return ret;
}

static void put_table(struct hv_domain *d, uint64_t pfn)
{
	put_type(d, pfn);
	put_ref(&M(d)->f[pfn]);
}

/* ---- Mapping changes for the engine, gathered per hypercall. ---- */

static void pend_range(struct hv_mmu *m, uint64_t va, uint64_t len)
{
	struct hv_va_range *last = m->nr_pend ? &m->pend[m->nr_pend - 1] : NULL;

	if (m->pend_all)
		return;
	if (last && last->va + last->len == va) {
		last->len += len;
		return;
	}
	if (last && va + len == last->va) {
		last->va = va;
		last->len += len;
		return;
	}
	if (m->nr_pend == sizeof(m->pend) / sizeof(m->pend[0])) {
		m->pend_all = true;
		return;
	}
	m->pend[m->nr_pend++] = (struct hv_va_range){ va, len };
}

/*
 * Entry idx of the level-`level` table at pfn changed: which addresses of
 * v's current tables does that move?  Walks up the remembered links (a
 * table linked from more places than remembered makes it "anything").
 */
static void pend_up(struct hv_vcpu *v, uint64_t pfn, unsigned level, uint64_t va, uint64_t len,
		    unsigned depth)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	const struct mmu_frame *f = &m->f[pfn];
	int n;

	if (level == 4) {
		if (!m->pend_root_set) {
			/* The tables the engine maps now (the process engine's runner: one set). */
			m->pend_root =
			    d->eng->mapped_base ? d->eng->mapped_base(v) : (v->cr3 & PTE_ADDR);
			m->pend_root_set = true;
		}
		if (pfn_gpa(d, pfn) != m->pend_root)
			return; /* another address space: seen when it is loaded */
		if (va & (1ULL << 47))
			va |= 0xffff000000000000ULL;
		pend_range(m, va, len);
		return;
	}
	if (!f->links)
		return; /* linked nowhere: mapped nowhere */
	n = links_known(f);
	if (n < 0 || depth > 8) {
		m->pend_all = true;
		return;
	}
	for (unsigned k = 0; k < 2; k++)
		if (f->up_pfn[k] != NO_PFN)
			pend_up(v, f->up_pfn[k], level + 1,
				va | ((uint64_t)f->up_idx[k] << (12 + 9 * level)), len, depth + 1);
}

static void pend_entry(struct hv_vcpu *v, uint64_t pfn, unsigned level, unsigned idx)
{
	unsigned shift = 12 + 9 * (level - 1);

	pend_up(v, pfn, level, (uint64_t)idx << shift, 1ULL << shift, 0);
}

/* Hand what the hypercall changed to the engine; the MMU lock is held. */
static int pend_flush(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	int ret = 0;

	m->pend_root_set = false; /* the next batch asks again */
	if (!m->pend_all && !m->nr_pend)
		return 0;
	if (d->eng->ptes_changed) {
		ret = d->eng->ptes_changed(v, m->pend, m->pend_all ? 0 : m->nr_pend);
	} else {
		for (unsigned i = 0; i < m->nr_pend && !ret; i++)
			for (uint64_t o = 0; o < m->pend[i].len && !ret; o += PAGE_SIZE)
				ret = d->eng->pte_changed(v, m->pend[i].va + o);
		if (m->pend_all && !ret)
			ret = d->eng->pte_changed(v, 0);
	}
	m->nr_pend = 0;
	m->pend_all = false;
	return ret;
}

/* ---- Entry updates. ---- */

/*
 * Entry idx of the validated level-`level` table at pfn becomes e: the new
 * entry's references are taken before the old one's go, so a table that
 * stays linked is never devalidated on the way.
 */
static int mod_entry(struct hv_vcpu *v, uint64_t pfn, unsigned level, unsigned idx, uint64_t e,
		     bool preserve_ad)
{
	struct hv_domain *d = v->dom;
	uint64_t *slot = &table_of(d, pfn)[idx], old;
	int ret;

	if (level == 4 && slot_reserved(d, idx))
		return -XEN_EINVAL; /* Xen: "Illegal L4 update attempt in Xen-private area" */
	old = __atomic_load_n(slot, __ATOMIC_RELAXED);
	e = adjust_entry(level, e); /* the kernel runs at CPL3 (Xen's adjust_guest_lNe) */
	if (preserve_ad)
		e |= old & (PTE_A | PTE_D);
	ret = get_entry(d, level, e, pfn, idx);
	if (ret)
		return ret;
	__atomic_store_n(slot, e, __ATOMIC_RELEASE);
	put_entry(d, level, old, pfn, idx);
	if (old != e) {
		pend_entry(v, pfn, level, idx);
		if (d->eng->table_written)
			d->eng->table_written(d, pfn_gpa(d, pfn) + idx * 8ULL, false);
	}
	return 0;
}

/*
 * The vCPU's tables are held (a root reference): taken here if they are
 * not yet, as for a domain whose vCPU was set up without a context.
 */
static int hold_base(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	uint64_t cr3 = v->cr3 & PTE_ADDR, pfn, old;
	int ret;

	if (m->base[v->id] == cr3 && cr3)
		return 0;
	ret = get_table(d, cr3 >> PAGE_SHIFT, MMU_T_L4, &pfn);
	if (ret)
		return ret;
	old = m->base[v->id];
	m->base[v->id] = cr3;
	if (old && classify(d, old, &pfn) == FR_RAM)
		put_table(d, pfn);
	return 0;
}

int mmu_vcpu_context(struct hv_vcpu *v, uint64_t cr3)
{
	return mmu_vcpu_context_full(v, cr3, 0, 0, 0);
}

int mmu_vcpu_context_full(struct hv_vcpu *v, uint64_t cr3, uint64_t ucr3, uint64_t ldt_base,
			  uint64_t ldt_ents)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	uint64_t pfn, upfn = 0, oldpfn, old;
	bool pinned = false;
	int ret;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	m->cur = NULL; /* no vCPU runs this domain's guest code yet on these tables */
	if (!m->started) {
		/* The boot L4, pinned as Xen's builder pins pt_base. */
		ret = get_table(d, cr3 >> PAGE_SHIFT, MMU_T_L4, &pfn);
		if (ret)
			goto out;
		if (m->f[pfn].flags & MMU_F_PINNED) {
			put_table(d, pfn);
		} else {
			m->f[pfn].flags |= MMU_F_PINNED;
			pinned = true;
		}
	}
	ret = get_table(d, cr3 >> PAGE_SHIFT, MMU_T_L4, &pfn);
	/* The user tables (ctrlreg[1]), as Xen's arch_set_info_guest: a validated L4 too. */
	if (!ret && ucr3) {
		ret = get_table(d, ucr3 >> PAGE_SHIFT, MMU_T_L4, &upfn);
		if (ret)
			put_table(d, pfn);
	}
	if (ret) {
		if (pinned) {
			m->f[pfn].flags &= (uint8_t)~MMU_F_PINNED;
			put_table(d, pfn);
		}
		goto out;
	}
	old = m->base[v->id];
	m->base[v->id] = cr3 & PTE_ADDR;
	if (old && classify(d, old, &oldpfn) == FR_RAM)
		put_table(d, oldpfn);
	old = m->user_base[v->id];
	m->user_base[v->id] = ucr3 & PTE_ADDR;
	if (old && classify(d, old, &oldpfn) == FR_RAM)
		put_table(d, oldpfn);
	m->ldt_base[v->id] = ldt_base;
	m->ldt_ents[v->id] = ldt_ents; /* its frames: pv_ldt_changed, once the context is set */
	m->started = true;
out:
	pthread_mutex_unlock(&m->lock);
	if (ret)
		hv_log("d%u: vCPU %u's page tables at %#llx (user %#llx) do not validate (%d)",
		       d->domid, v->id, (unsigned long long)cr3, (unsigned long long)ucr3, ret);
	return ret;
}

int mmu_pin_table(struct hv_domain *d, unsigned level, uint64_t mfn)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;
	int ret;

	if (!m || level < 1 || level > 4)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	m->cur = NULL;
	/* Exactly the guest's MMUEXT_PIN_Ln_TABLE: validated, taking its references. */
	ret = get_table(d, mfn, level, &pfn);
	if (!ret && (m->f[pfn].flags & MMU_F_PINNED)) {
		put_table(d, pfn);
		ret = -XEN_EINVAL;
	} else if (!ret) {
		m->f[pfn].flags |= MMU_F_PINNED;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void mmu_vcpu_ldt(struct hv_domain *d, unsigned vcpu, uint64_t *base, uint64_t *ents)
{
	struct hv_mmu *m = M(d);

	*base = *ents = 0;
	if (!m || vcpu >= SV_MAX_VCPUS)
		return;
	pthread_mutex_lock(&m->lock);
	*base = m->ldt_base[vcpu];
	*ents = m->ldt_ents[vcpu];
	pthread_mutex_unlock(&m->lock);
}

bool mmu_frames_free_lock(struct hv_domain *d, uint64_t pfn, uint64_t n)
{
	struct hv_mmu *m = M(d);

	if (!m)
		return true;
	pthread_mutex_lock(&m->lock);
	for (uint64_t j = 0; j < n; j++) {
		const struct mmu_frame *f = pfn + j < m->nr ? &m->f[pfn + j] : NULL;
		if (f && (f->refs || f->type_count)) {
			pthread_mutex_unlock(&m->lock);
			return false;
		}
	}
	return true;
}

void mmu_unlock(struct hv_domain *d)
{
	if (M(d))
		pthread_mutex_unlock(&M(d)->lock);
}

/* A reference and a type of one of the domain's RAM frames, kept until released. */
static int hold_typed(struct hv_domain *d, uint64_t gpa, unsigned type)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;
	int ret = -XEN_EINVAL;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	if (classify(d, gpa & PTE_ADDR, &pfn) == FR_RAM && !get_ref(&m->f[pfn])) {
		if (!get_type(d, pfn, type)) {
			m->held++;
			ret = 0;
		} else {
			put_ref(&m->f[pfn]); /* another type (a page table): Xen's "Bad type", -EINVAL */
		}
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int mmu_hold_writable(struct hv_domain *d, uint64_t gpa)
{
	return hold_typed(d, gpa, MMU_T_WRITABLE);
}

int mmu_hold_desc(struct hv_domain *d, uint64_t gpa)
{
	return hold_typed(d, gpa, MMU_T_SEG_DESC);
}

int mmu_write_desc(struct hv_domain *d, uint64_t gpa, uint64_t val)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;
	int ret = -XEN_EINVAL;

	if (!m || (gpa & 7))
		return -XEN_EINVAL;
	pthread_mutex_lock(&m->lock);
	if (classify(d, gpa & PTE_ADDR, &pfn) == FR_RAM && !get_ref(&m->f[pfn])) {
		unsigned t = m->f[pfn].type_count && m->f[pfn].type == MMU_T_SEG_DESC
				     ? MMU_T_SEG_DESC
				     : MMU_T_WRITABLE;
		if (!get_type(d, pfn, t)) {
			__atomic_store_n(&table_of(d, pfn)[(gpa & 0xfff) / 8], val,
					 __ATOMIC_RELEASE);
			put_type(d, pfn);
			ret = 0;
		}
		put_ref(&m->f[pfn]);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void mmu_release_writable(struct hv_domain *d, uint64_t gpa)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	/* Held frames cannot be given back, so the frame is still the domain's RAM. */
	if (m->held && classify(d, gpa & PTE_ADDR, &pfn) == FR_RAM) {
		put_type(d, pfn);
		put_ref(&m->f[pfn]);
		m->held--;
	}
	pthread_mutex_unlock(&m->lock);
}

uint64_t mmu_held(struct hv_domain *d)
{
	struct hv_mmu *m = M(d);
	uint64_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->held;
	pthread_mutex_unlock(&m->lock);
	return n;
}

bool mmu_frame_info(struct hv_domain *d, uint64_t gpa, struct mmu_frame *out)
{
	struct hv_mmu *m = M(d);
	uint64_t pfn;

	if (!m || !mem_is_ram(&d->mem, gpa & PTE_ADDR, PAGE_SIZE))
		return false;
	pfn = (uint64_t)mem_offset(&d->mem, gpa & PTE_ADDR) / PAGE_SIZE;
	if (pfn >= m->nr)
		return false;
	pthread_mutex_lock(&m->lock);
	*out = m->f[pfn];
	pthread_mutex_unlock(&m->lock);
	return true;
}

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * Who Xen's get_pg_owner finds when an unprivileged domain names domid as
 * the foreign domain (the low 16 bits of foreigndom, or
 * update_va_mapping_otherdomain's domid): itself for DOMID_SELF; nobody
 * for its own id ("Cannot specify itself as foreign domain") or a domain
 * that does not exist (-ESRCH); DOMID_IO, or any other domain (XSM then
 * refuses it -EPERM).  Domain-0 always exists.
 */
enum pg_owner { PG_SELF, PG_IO, PG_OTHER, PG_NONE };

static bool domain_exists(uint32_t domid)
{
	struct hv_domain *o;

	if (domid == 0)
		return true;
	if (domid >= DOMID_FIRST_RESERVED)
		return false;
	o = domain_get(domid);
	if (!o)
		return false;
	domain_put(o);
	return true;
}

static enum pg_owner pg_owner_of(struct hv_domain *d, uint16_t domid)
{
	if (domid == DOMID_SELF)
		return PG_SELF;
	if (domid == d->domid)
		return PG_NONE;
	if (domid == DOMID_IO)
		return PG_IO;
	if (domid == DOMID_XEN || domain_exists(domid))
		return PG_OTHER;
	return PG_NONE;
}

/* The owners a batch names: the page owner, and whether the tables are another domain's. */
struct mmu_owner {
	enum pg_owner pg;
	bool pt_other;
};

/*
 * A present L1 entry written with DOMID_IO as the page owner: Xen's
 * get_page_from_l1e finds no frame of dom_io to map (the domain's own
 * frames and the hypervisor's are -EBUSY, no memory at all -EPERM), after
 * its flags check.
 */
static long io_l1_error(struct hv_domain *d, uint64_t e)
{
	uint64_t pfn;
	int kind;

	if (e & L1_DISALLOW)
		return -XEN_EINVAL;
	kind = classify(d, e, &pfn);
	if (kind != -XEN_EPERM)
		return -XEN_EBUSY;
	return ((e & PTE_ADDR) >> 12) == MFN_ALL_ONES ? -XEN_EINVAL : -XEN_EPERM;
}

static long one_update(struct hv_vcpu *v, uint64_t ptr, uint64_t val, const struct mmu_owner *o)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	unsigned cmd = (unsigned)(ptr & 7);
	uint64_t pfn, *extra;
	int ret, kind;

	ptr &= ~7ULL;
	switch (cmd) {
	case MMU_NORMAL_PT_UPDATE:
	case MMU_PT_UPDATE_PRESERVE_AD:
	case MMU_PT_UPDATE_NO_TRANSLATE: /* nothing is translated for PV */
		if (o->pt_other || o->pg == PG_OTHER)
			return -XEN_EPERM; /* XSM, before the frame is looked at */
		kind = classify(d, ptr, &pfn);
		if (kind == FR_EXTRA) {
			/* shared_info, a grant frame: always writable, written as memory (Xen). */
			extra = mem_gpa(&d->mem, ptr, 8);
			if (!extra)
				return -XEN_EINVAL;
			__atomic_store_n(extra, val, __ATOMIC_RELAXED);
			return 0;
		}
		if (kind != FR_RAM)
			return -XEN_EINVAL; /* Xen: "Could not get page for normal update" */
		if (m->f[pfn].type_count && m->f[pfn].type >= MMU_T_L1 &&
		    m->f[pfn].type <= MMU_T_L4) {
			if (o->pg == PG_IO && m->f[pfn].type != MMU_T_L1)
				return -XEN_EINVAL; /* Xen: page owner is not the tables' owner */
			if (o->pg == PG_IO && (val & PTE_P))
				return io_l1_error(d, val);
			return mod_entry(v, pfn, m->f[pfn].type, (unsigned)(ptr & 0xfff) / 8, val,
					 cmd == MMU_PT_UPDATE_PRESERVE_AD);
		}
		/* Not a table: a plain write, which needs the frame writable (as Xen). */
		ret = get_type(d, pfn, MMU_T_WRITABLE);
		if (ret)
			return ret;
		__atomic_store_n(&table_of(d, pfn)[(ptr & 0xfff) / 8], val, __ATOMIC_RELAXED);
		put_type(d, pfn);
		return 0;
	case MMU_MACHPHYS_UPDATE:
		if (o->pt_other || o->pg == PG_OTHER)
			return -XEN_EPERM;
		kind = classify(d, ptr, &pfn);
		/* Xen: the frame must be the page owner's (dom_io owns none of the domain's). */
		if (o->pg == PG_IO || (kind != FR_RAM && kind != FR_EXTRA))
			return -XEN_EINVAL;
		pv_m2p_set(d, ptr & PTE_ADDR, val);
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

/* One request of a batch, as mmu_batch copied it from the guest. */
typedef long (*mmu_one_fn)(struct hv_vcpu *v, const void *req, const struct mmu_owner *o);

/*
 * The batch of mmu_update and mmuext_op: (reqs, count, pdone, foreigndom),
 * each request copied once, in order under the MMU lock, stopping at the
 * first failure; *pdone gets the number done (a continuation's count added).
 *
 * Before any request, in Xen's order: a list that starts where the guest
 * has no addresses is -EFAULT; mmu_update's tables' owner (foreigndom's
 * upper half, plus one) that does not exist is -ESRCH; then the page owner
 * (pg_owner_of): none is -ESRCH (mmu_update writes *pdone first), and for
 * mmuext_op anyone but the caller -EPERM.  mmu_update refuses another
 * domain's tables or pages per request, -EPERM (Xen's XSM check), so a
 * batch of none is 0.
 */
static long mmu_batch(struct hv_vcpu *v, const uint64_t *a, bool is_update, size_t size,
		      mmu_one_fn one, const char *crash_why)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	uint64_t reqs = a[0], count = a[1] & 0xffffffffu, pdone = a[2], i = 0;
	uint32_t foreigndom = (uint32_t)a[3], done = 0;
	struct mmu_owner o = { .pg = PG_SELF };
	long ret, ret2;
	bool ldt;

	if (count & MMU_UPDATE_PREEMPTED) {
		/* A continuation: we never make one, but honour it as Xen would. */
		count &= ~(uint64_t)MMU_UPDATE_PREEMPTED;
		if (pdone && vcpu_copy_from_guest(v, &done, pdone, sizeof(done)))
			done = 0;
	}
	if (!canonical(reqs) || d->eng->va_reserved(reqs))
		return -XEN_EFAULT; /* Xen's guest_handle_okay */
	if (is_update && (foreigndom >> 16) && (foreigndom >> 16) - 1 != d->domid) {
		if (!domain_exists((foreigndom >> 16) - 1))
			return -XEN_ESRCH;
		o.pt_other = true;
	}
	o.pg = pg_owner_of(d, (uint16_t)foreigndom);
	if (o.pg == PG_NONE) {
		if (is_update && pdone)
			(void)vcpu_copy_to_guest(v, pdone, &done, sizeof(done));
		return -XEN_ESRCH;
	}
	if (!is_update && o.pg != PG_SELF)
		return -XEN_EPERM;
	pthread_mutex_lock(&m->lock);
	m->cur = v;
	ret = hold_base(v);
	for (; !ret && i < count; i++) {
		union {
			struct mmu_update update;
			struct mmuext_op ext;
		} req;
		uint64_t at = reqs + i * size;

		if (at < reqs || vcpu_copy_from_guest(v, &req, at, size)) {
			ret = -XEN_EFAULT;
			break;
		}
		ret = one(v, &req, &o);
		if (ret)
			break;
	}
	ret2 = pend_flush(v);
	ldt = m->ldt_pending[v->id];
	m->ldt_pending[v->id] = false;
	pthread_mutex_unlock(&m->lock);
	if (ldt) /* an MMUEXT_SET_LDT, whether or not a later op failed */
		pv_ldt_changed(v, false);
	done += (uint32_t)i;
	if (pdone && vcpu_copy_to_guest(v, pdone, &done, sizeof(done)) && !ret)
		ret = -XEN_EFAULT;
	if (ret2) {
		domain_crash(d, crash_why);
		return -XEN_EFAULT;
	}
	return ret;
}

static long one_update_req(struct hv_vcpu *v, const void *req, const struct mmu_owner *o)
{
	const struct mmu_update *u = req;

	return one_update(v, u->ptr, u->val, o);
}

/* mmu_update(reqs, count, pdone, foreigndom): in order, stopping at the first failure. */
long hc_mmu_update(struct hv_vcpu *v, const uint64_t *a)
{
	return mmu_batch(v, a, true, sizeof(struct mmu_update), one_update_req,
			 "cannot apply mmu_update to the address space");
}

long mmu_ptwr(struct hv_vcpu *v, uint64_t gpa, bool use_cmp, uint64_t cmp, uint64_t val,
	      uint64_t *old)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	struct mmu_owner o = { .pg = PG_SELF };
	uint64_t pfn;
	long ret, ret2;

	if (!m || !m->f || (gpa & 7))
		return -XEN_EINVAL;
	pthread_mutex_lock(&m->lock);
	m->cur = v;
	ret = hold_base(v);
	if (!ret) {
		/* Xen's ptwr takes writes to the domain's own L1 tables only. */
		if (classify(d, gpa, &pfn) != FR_RAM || !m->f[pfn].type_count ||
		    m->f[pfn].type != MMU_T_L1) {
			ret = -XEN_EINVAL;
		} else {
			*old = __atomic_load_n(&table_of(d, pfn)[(gpa & 0xfff) / 8],
					       __ATOMIC_RELAXED);
			if (!use_cmp || *old == cmp)
				ret = one_update(v, gpa | MMU_NORMAL_PT_UPDATE, val, &o);
		}
	}
	ret2 = pend_flush(v);
	pthread_mutex_unlock(&m->lock);
	if (ret2) {
		domain_crash(d, "cannot apply a page-table write to the address space");
		return -XEN_EFAULT;
	}
	return ret;
}

/* A vCPU mask (TLB_FLUSH_MULTI, INVLPG_MULTI, UVMF_MULTI) must be readable: -EFAULT if not. */
static long read_vcpumask(struct hv_vcpu *v, uint64_t gva)
{
	uint64_t words[(SV_MAX_VCPUS + 63) / 64];
	size_t n = (v->dom->max_vcpus + 63) / 64;

	if (!n)
		n = 1;
	if (n > sizeof(words) / sizeof(words[0]))
		n = sizeof(words) / sizeof(words[0]);
	return vcpu_copy_from_guest(v, words, gva, n * 8) ? -XEN_EFAULT : 0;
}

static long new_baseptr(struct hv_vcpu *v, uint64_t mfn)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	uint64_t pfn, old = m->base[v->id], oldpfn;
	int ret;

	ret = get_table(d, mfn, MMU_T_L4, &pfn);
	if (ret)
		return ret;
	m->base[v->id] = mfn << PAGE_SHIFT;
	if (old && classify(d, old, &oldpfn) == FR_RAM)
		put_table(d, oldpfn);
	v->cr3 = mfn << PAGE_SHIFT;
	m->nr_pend = 0; /* the whole space changes: what was pending goes with it */
	m->pend_all = false;
	if (d->eng->new_baseptr)
		return d->eng->new_baseptr(v) ? -XEN_EFAULT : 0;
	m->pend_all = true;
	return 0;
}

static long one_ext(struct hv_vcpu *v, const struct mmuext_op *op)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	uint64_t pfn, src;
	long ret;

	switch (op->cmd) {
	case MMUEXT_PIN_L1_TABLE:
	case MMUEXT_PIN_L2_TABLE:
	case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		ret = get_table(d, op->arg1.mfn, op->cmd - MMUEXT_PIN_L1_TABLE + 1, &pfn);
		if (ret)
			return ret;
		if (m->f[pfn].flags & MMU_F_PINNED) {
			put_table(d, pfn);
			return -XEN_EINVAL; /* Xen: "already pinned" */
		}
		m->f[pfn].flags |= MMU_F_PINNED;
		return 0;
	case MMUEXT_UNPIN_TABLE:
		if (op->arg1.mfn > (PTE_ADDR >> PAGE_SHIFT) ||
		    classify(d, op->arg1.mfn << PAGE_SHIFT, &pfn) != FR_RAM)
			return -XEN_EINVAL;
		if (!(m->f[pfn].flags & MMU_F_PINNED))
			return -XEN_EINVAL; /* Xen: "mfn not pinned" */
		/* Still in use (cr3, linked): Xen unpins and the type stays while used. */
		m->f[pfn].flags &= (uint8_t)~MMU_F_PINNED;
		put_table(d, pfn);
		return 0;
	case MMUEXT_NEW_BASEPTR:
		return new_baseptr(v, op->arg1.mfn);
	case MMUEXT_NEW_USER_BASEPTR: {
		uint64_t old = m->user_base[v->id], oldpfn;
		if (op->arg1.mfn) {
			ret = get_table(d, op->arg1.mfn, MMU_T_L4, &pfn);
			if (ret)
				return ret;
		}
		m->user_base[v->id] = op->arg1.mfn << PAGE_SHIFT;
		if (old && classify(d, old, &oldpfn) == FR_RAM)
			put_table(d, oldpfn);
		return 0;
	}
	case MMUEXT_TLB_FLUSH_LOCAL:
	case MMUEXT_TLB_FLUSH_ALL:
	case MMUEXT_INVLPG_LOCAL:
	case MMUEXT_INVLPG_ALL:
		/* Updates reach the engines as they are made (pend_flush): nothing is stale. */
		return 0;
	case MMUEXT_TLB_FLUSH_MULTI:
	case MMUEXT_INVLPG_MULTI:
		/* Xen: a mask it cannot read is -EINVAL here (-EFAULT for update_va_mapping). */
		return read_vcpumask(v, (uint64_t)(uintptr_t)op->arg2.vcpumask.p) ? -XEN_EINVAL : 0;
	case MMUEXT_FLUSH_CACHE:
		return -XEN_EACCES; /* Xen: only for a domain with physical devices */
	case MMUEXT_FLUSH_CACHE_GLOBAL:
		return -XEN_EINVAL; /* the same refusal, with Xen's other errno */
	case MMUEXT_MARK_SUPER:
	case MMUEXT_UNMARK_SUPER:
		return -XEN_EOPNOTSUPP; /* Xen 4.17: superpage marking is gone */
	case MMUEXT_SET_LDT: {
		/* Xen: no entries means no LDT at all, whatever the address. */
		uint64_t ents = op->arg2.nr_ents, base = ents ? op->arg1.linear_addr : 0;
		if ((base & (PAGE_SIZE - 1)) || !canonical(base) || ents > 8192 ||
		    d->eng->va_reserved(base))
			return -XEN_EINVAL; /* Xen: "Bad args to SET_LDT" */
		m->ldt_base[v->id] = base;
		m->ldt_ents[v->id] = ents;
		/* Its frames are resolved once the batch lets go of the lock (pv_ldt.c). */
		m->ldt_pending[v->id] = true;
		return 0;
	}
	case MMUEXT_CLEAR_PAGE:
	case MMUEXT_COPY_PAGE:
		if (op->arg1.mfn > (PTE_ADDR >> PAGE_SHIFT) ||
		    classify(d, op->arg1.mfn << PAGE_SHIFT, &pfn) != FR_RAM)
			return -XEN_EINVAL;
		if (op->cmd == MMUEXT_COPY_PAGE &&
		    (op->arg2.src_mfn > (PTE_ADDR >> PAGE_SHIFT) ||
		     classify(d, op->arg2.src_mfn << PAGE_SHIFT, &src) != FR_RAM))
			return -XEN_EINVAL;
		if (get_type(d, pfn, MMU_T_WRITABLE))
			return -XEN_EINVAL; /* a page table is not written to */
		if (op->cmd == MMUEXT_COPY_PAGE)
			memmove(table_of(d, pfn), table_of(d, src), PAGE_SIZE);
		else
			memset(table_of(d, pfn), 0, PAGE_SIZE);
		put_type(d, pfn);
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

static long one_ext_req(struct hv_vcpu *v, const void *req, const struct mmu_owner *o)
{
	(void)o; /* only the caller's own (mmu_batch) */
	return one_ext(v, req);
}

/* mmuext_op(ops, count, pdone, foreigndom). */
long hc_mmuext_op(struct hv_vcpu *v, const uint64_t *a)
{
	return mmu_batch(v, a, false, sizeof(struct mmuext_op), one_ext_req,
			 "cannot apply mmuext_op to the address space");
}

/*
 * update_va_mapping(va, val, flags): the level-1 entry of va in the
 * caller's tables, as one MMU_NORMAL_PT_UPDATE.  Flags: a flush type
 * (UVMF_NONE, _TLB_FLUSH, _INVLPG; 3 flushes nothing, as Xen's switch
 * has no case for it) and UVMF_LOCAL, UVMF_ALL or a pointer to a vCPU
 * mask (UVMF_MULTI).  As Xen, the flush comes after the update: a mask
 * it cannot read is -EFAULT with the entry already changed, and a failed
 * update reads no mask.  Updates reach the engine at once, so every
 * flush type is honoured.
 */
static long update_va(struct hv_vcpu *v, uint64_t va, uint64_t val, uint64_t flags)
{
	struct hv_domain *d = v->dom;
	struct hv_mmu *m = M(d);
	uint64_t pte_gpa, pfn, mask = flags & ~(UVMF_FLUSHTYPE_MASK);
	uint64_t type = flags & UVMF_FLUSHTYPE_MASK;
	long ret, ret2;

	if (!canonical(va) || d->eng->va_reserved(va))
		return -XEN_EINVAL;
	pthread_mutex_lock(&m->lock);
	m->cur = v;
	ret = hold_base(v);
	if (!ret && vcpu_walk_l1(v, va, &pte_gpa))
		ret = -XEN_EINVAL;
	if (!ret && (classify(d, pte_gpa, &pfn) != FR_RAM || m->f[pfn].type != MMU_T_L1 ||
		     !m->f[pfn].type_count))
		ret = -XEN_EINVAL;
	if (!ret)
		ret = mod_entry(v, pfn, 1, (unsigned)(pte_gpa & 0xfff) / 8, val, false);
	ret2 = pend_flush(v);
	pthread_mutex_unlock(&m->lock);
	if (ret2) {
		domain_crash(d, "cannot apply update_va_mapping to the address space");
		return -XEN_EFAULT;
	}
	if (ret)
		return ret;
	if ((type == UVMF_TLB_FLUSH || type == UVMF_INVLPG) && mask != UVMF_LOCAL &&
	    mask != UVMF_ALL)
		return read_vcpumask(v, mask);
	return 0;
}

long hc_update_va_mapping(struct hv_vcpu *v, const uint64_t *a)
{
	return update_va(v, a[0], a[1], a[2]);
}

/*
 * Only for the caller's own tables: a domain that does not exist (or its
 * own id) is -ESRCH, any other (DOMID_IO, another domain) -EPERM, as Xen's
 * get_pg_owner and XSM answer a domU.
 */
long hc_update_va_mapping_otherdomain(struct hv_vcpu *v, const uint64_t *a)
{
	switch (pg_owner_of(v->dom, (uint16_t)a[3])) {
	case PG_SELF:
		return update_va(v, a[0], a[1], a[2]);
	case PG_NONE:
		return -XEN_ESRCH;
	default:
		return -XEN_EPERM;
	}
}
