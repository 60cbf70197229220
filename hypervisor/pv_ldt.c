// SPDX-License-Identifier: MIT
/*
 * A PV guest's LDT, as Xen 4.17 keeps it for a 64-bit PV guest (docs/mmu.md
 * "Descriptor tables").  MMUEXT_SET_LDT and a vCPU context record the LDT
 * per vCPU (mmu.c: the base and number of entries, Xen's argument checks);
 * here its frames are resolved: the vCPU's page tables are walked over
 * ldt_base .. ldt_base + ldt_ents * 8 and each frame is held with Xen's
 * segment-descriptor page type (mmu.c MMU_T_SEG_DESC, its 512 descriptors
 * validated by pv_desc.c's check_descriptor rules), as Xen's
 * pv_map_ldt_shadow_page does.  The frames stay held until the LDT changes
 * (the next SET_LDT or context) or the domain ends.
 *
 * When: Xen takes an LDT page lazily, at the guest's first use of an LDT
 * selector.  Our engines never fault on an LDT page (each loads a copy of
 * the held frames, told through the engine's ldt_changed hook: the KVM
 * engine into its own tables, kvm/kvm_ldt.c, the process engine into the
 * runner's with modify_ldt, proc/proc_ldt.c): it is resolved at once when
 * it is set.  A set that does not resolve (a page
 * not mapped, a page table, a page mapped writable, a descriptor Xen
 * refuses) still succeeds, as on Xen, and leaves nothing held nor
 * loaded; the guest's use of an LDT selector then faults with #GP (Xen
 * would deliver #PF at the LDT address for the page it could not take).
 */
#include <stdint.h>
#include <string.h>
#include <xen/errno.h>
#include "hv.h"
#include "hypercall.h"
#include "mmu.h"

#define PTE_P (1ULL << 0)
#define PTE_ADDR 0x000ffffffffff000ULL

static void drop(struct hv_domain *d, const uint64_t *frames, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		mmu_release_writable(d, frames[i] << PAGE_SHIFT);
}

/* v's held frames become frames[0..n); the old ones go back. */
static void swap(struct hv_vcpu *v, const uint64_t *frames, unsigned n, bool locked)
{
	struct hv_domain *d = v->dom;
	uint64_t old[PV_GDT_FRAMES];
	unsigned old_n;

	if (!locked)
		pthread_mutex_lock(&d->lock);
	old_n = v->ldt_nframes;
	memcpy(old, v->ldt_frames, sizeof(old));
	memset(v->ldt_frames, 0, sizeof(v->ldt_frames));
	if (n)
		memcpy(v->ldt_frames, frames, n * sizeof(frames[0]));
	v->ldt_nframes = n;
	if (!locked)
		pthread_mutex_unlock(&d->lock);
	/* Before the old frames go back: the engine stops using them first. */
	if (d->eng && d->eng->ldt_changed)
		d->eng->ldt_changed(v);
	drop(d, old, old_n);
}

void pv_ldt_release(struct hv_vcpu *v, bool locked)
{
	swap(v, NULL, 0, locked);
}

int pv_ldt_resolve(struct hv_vcpu *v, bool locked)
{
	struct hv_domain *d = v->dom;
	uint64_t base, ents, frames[PV_GDT_FRAMES];
	unsigned n, i;
	int ret = 0;

	pv_ldt_release(v, locked);
	mmu_vcpu_ldt(d, v->id, &base, &ents);
	if (ents > 8192)
		return -XEN_EINVAL; /* cannot be: mmu.c refuses it */
	n = (unsigned)((ents * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
	for (i = 0; i < n; i++) {
		uint64_t pte_gpa, pte;
		const uint64_t *p;

		uint64_t va = base + (uint64_t)i * PAGE_SIZE;

		/* The guest kernel's tables (SET_LDT and contexts run in its mode). */
		if ((d->eng && d->eng->va_reserved && d->eng->va_reserved(va)) ||
		    vcpu_walk_l1(v, va, &pte_gpa) || !(p = mem_gpa(&d->mem, pte_gpa, 8))) {
			ret = -XEN_EFAULT;
			break;
		}
		pte = __atomic_load_n(p, __ATOMIC_RELAXED); /* read once */
		if (!(pte & PTE_P)) {
			ret = -XEN_EFAULT;
			break;
		}
		frames[i] = (pte & PTE_ADDR) >> PAGE_SHIFT;
		/* The domain's present RAM, no other type; validated on taking the type. */
		ret = mmu_hold_desc(d, pte & PTE_ADDR);
		if (ret)
			break;
	}
	if (ret) {
		drop(d, frames, i);
		return ret;
	}
	swap(v, frames, n, locked);
	return 0;
}

void pv_ldt_changed(struct hv_vcpu *v, bool locked)
{
	uint64_t base, ents;
	int ret = pv_ldt_resolve(v, locked);

	/* Once per domain: the guest chooses how often this happens. */
	if (ret && v->dom->mmu &&
	    !__atomic_exchange_n(&v->dom->mmu->ldt_logged, 1, __ATOMIC_RELAXED)) {
		mmu_vcpu_ldt(v->dom, v->id, &base, &ents);
		hv_log("d%u: vCPU %u's LDT at %#llx (%llu entries) does not resolve (%d): "
		       "its selectors fault",
		       v->dom->domid, v->id, (unsigned long long)base, (unsigned long long)ents,
		       ret);
	}
}

bool pv_seg_desc(struct hv_vcpu *v, uint16_t sel, uint64_t *desc)
{
	struct hv_domain *d = v->dom;
	unsigned idx = sel >> 3;
	uint64_t frame = 0, base, ents = 0;
	const uint64_t *f;
	bool found = false;

	if (sel & 4)
		mmu_vcpu_ldt(d, v->id, &base, &ents);
	pthread_mutex_lock(&d->lock);
	if (sel & 4) {
		if (idx < ents && idx / 512 < v->ldt_nframes && idx / 512 < PV_GDT_FRAMES) {
			frame = v->ldt_frames[idx / 512];
			found = true;
		}
	} else if (idx < v->gdt_ents && idx / 512 < PV_GDT_FRAMES) {
		frame = v->gdt_frames[idx / 512];
		found = true;
	}
	pthread_mutex_unlock(&d->lock);
	/* A held descriptor frame (validated, never writable): read as it is. */
	if (!found || !(f = mem_gpa(&d->mem, frame << PAGE_SHIFT, PAGE_SIZE)))
		return false;
	*desc = __atomic_load_n(&f[idx % 512], __ATOMIC_RELAXED);
	return true;
}

unsigned pv_ldt_snapshot(struct hv_vcpu *v, uint64_t *copy)
{
	uint64_t frames[PV_GDT_FRAMES], base, ents;
	unsigned nframes, n = 0;

	/* The caller may hold d->lock (a context) or not (a hypercall): read as it is. */
	memcpy(frames, v->ldt_frames, sizeof(frames));
	nframes = __atomic_load_n(&v->ldt_nframes, __ATOMIC_RELAXED);
	if (nframes > PV_GDT_FRAMES)
		nframes = 0;
	mmu_vcpu_ldt(v->dom, v->id, &base, &ents);
	/* Only an LDT whose every frame is held is loaded. */
	if (ents <= PV_LDT_ENTS && ents <= (uint64_t)nframes * 512)
		n = (unsigned)ents;
	for (unsigned i = 0; i < PV_LDT_ENTS; i++) {
		uint64_t e = 0;
		if (i < n) {
			const uint64_t *f =
			    mem_gpa(&v->dom->mem, frames[i / 512] << PAGE_SHIFT, PAGE_SIZE);
			e = f ? __atomic_load_n(&f[i % 512], __ATOMIC_RELAXED) : 0;
		}
		__atomic_store_n(&copy[i], e, __ATOMIC_RELAXED);
	}
	return n;
}
