// SPDX-License-Identifier: MIT
/*
 * A PV guest's own descriptor table, as Xen 4.17 keeps it for a 64-bit PV
 * guest (docs/mmu.md "Descriptor tables"): set_gdt, update_descriptor, and
 * the GDT a vCPU context carries (gdt_frames, gdt_ents).
 *
 * Each GDT frame is held with a reference and Xen's segment-descriptor page
 * type (mmu.c MMU_T_SEG_DESC): while it is, the frame can be neither mapped
 * writable nor a page table, and the reverse; its 512 descriptors were
 * validated (and fixed up) when it took the type, and the guest changes
 * them only through update_descriptor, which checks each new one the same
 * way.  The rules are Xen's check_descriptor for a 64-bit guest:
 *  - a descriptor that is not present is accepted as it is;
 *  - a DPL below 3 (the guest kernel runs in ring 3) is raised to 3;
 *  - code and data segments are accepted (no base or limit checks);
 *  - of system descriptors only type 0 (the upper half of a 16-byte gate)
 *    and the 64-bit call gate; a call gate's target selector must be one
 *    of the guest's own (a GDT entry below Xen's reserved area, an LDT
 *    selector, or FLAT_KERNEL_CS), its DPL is forced to 0 with the original
 *    in the selector's RPL (Xen emulates gates), its reserved bits clear.
 *
 * Engines: the process engine runs guest code with the host's GDT, so the
 * GDT is accepted and recorded only (ABI, type rules, save/restore);
 * docs/pv-usermode.md says what a guest selector does there.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "hypercall.h"
#include "mmu.h"

/* The descriptor's high word, as Xen's seg_desc_t.b. */
#define SEG_P (1u << 15)
#define SEG_DPL (3u << 13)
#define SEG_S (1u << 12)
#define SEG_TYPE (15u << 8)
#define SEG_CALL_GATE (12u << 8)
#define MFN_MAX (0x000ffffffffff000ULL >> PAGE_SHIFT)

static bool gate_selector_ok(uint16_t sel)
{
	return (sel >> 3) < FIRST_RESERVED_GDT_ENTRY || sel == FLAT_KERNEL_CS || (sel & 4);
}

bool pv_desc_check(uint64_t *desc)
{
	uint32_t a = (uint32_t)*desc, b = (uint32_t)(*desc >> 32);
	unsigned dpl;
	uint16_t cs;

	if (!(b & SEG_P))
		return true;
	dpl = (b >> 13) & 3;
	if (dpl < 3) /* Xen's __fixup_guest_selector: GUEST_KERNEL_RPL is 3 */
		dpl = 3;
	b = (b & ~SEG_DPL) | (dpl << 13);
	if (!(b & SEG_S)) {
		if ((b & SEG_TYPE) == 0)
			return true; /* harmless: a gate's upper half */
		if ((b & SEG_TYPE) != SEG_CALL_GATE)
			return false;
		cs = (uint16_t)(a >> 16);
		if (!gate_selector_ok(cs))
			return false;
		b &= ~SEG_DPL;
		cs = (uint16_t)((cs & ~3) | dpl);
		a = (a & 0xffffu) | ((uint32_t)cs << 16);
		if (b & 0xff)
			return false;
	}
	*desc = (uint64_t)b << 32 | a;
	return true;
}

bool pv_desc_check_page(struct hv_domain *d, uint64_t *page)
{
	uint64_t copy[PAGE_SIZE / 8];

	(void)d;
	/* Each read once; nothing is written unless all 512 are acceptable. */
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
		copy[i] = __atomic_load_n(&page[i], __ATOMIC_RELAXED);
		if (!pv_desc_check(&copy[i]))
			return false;
	}
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++) /* Xen fixes the frame itself up */
		if (__atomic_load_n(&page[i], __ATOMIC_RELAXED) != copy[i])
			__atomic_store_n(&page[i], copy[i], __ATOMIC_RELAXED);
	return true;
}

static void release(struct hv_domain *d, const uint64_t *frames, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		mmu_release_writable(d, frames[i] << PAGE_SHIFT);
}

/* Hold the frames of a GDT of `entries` entries; all or none, -EINVAL as Xen's pv_set_gdt. */
static int take(struct hv_domain *d, const uint64_t *frames, unsigned entries)
{
	unsigned n = (entries + 511) / 512, i;

	if (entries > FIRST_RESERVED_GDT_ENTRY)
		return -XEN_EINVAL;
	for (i = 0; i < n; i++)
		if (frames[i] > MFN_MAX || mmu_hold_desc(d, frames[i] << PAGE_SHIFT))
			break;
	if (i == n)
		return 0;
	release(d, frames, i);
	return -XEN_EINVAL;
}

bool pv_gdt_user_seg(struct hv_vcpu *v, uint16_t sel, bool code)
{
	struct hv_domain *d = v->dom;
	unsigned idx = sel >> 3;
	uint64_t desc = 0, *p = NULL;
	uint32_t b;

	if ((sel & 7) != 3) /* the GDT, RPL 3 */
		return false;
	pthread_mutex_lock(&d->lock);
	if (idx < v->gdt_ents && v->gdt_frames[idx / 512])
		p = mem_gpa(&d->mem, (v->gdt_frames[idx / 512] << PAGE_SHIFT) + (idx % 512) * 8, 8);
	if (p)
		desc = __atomic_load_n(p, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->lock);
	b = (uint32_t)(desc >> 32);
	if (!(b & SEG_P) || (b & SEG_DPL) != SEG_DPL || !(b & SEG_S))
		return false;
	if (code) /* executable, 64-bit (L set, D clear) */
		return (b & (1u << 11)) && (b & (1u << 21)) && !(b & (1u << 22));
	return !(b & (1u << 11)) && (b & (1u << 9)); /* writable data */
}

/*
 * v's GDT becomes the (held) frames; the old one's frames are released.
 * `lock`: take d->lock for the change (a hypercall); else the caller holds it.
 */
static void install(struct hv_vcpu *v, const uint64_t *frames, unsigned entries, bool lock)
{
	struct hv_domain *d = v->dom;
	uint64_t old[PV_GDT_FRAMES];
	unsigned old_n;

	if (lock)
		pthread_mutex_lock(&d->lock);
	old_n = (v->gdt_ents + 511) / 512;
	memcpy(old, v->gdt_frames, sizeof(old));
	memset(v->gdt_frames, 0, sizeof(v->gdt_frames));
	memcpy(v->gdt_frames, frames, (entries + 511) / 512 * sizeof(frames[0]));
	v->gdt_ents = entries;
	if (lock)
		pthread_mutex_unlock(&d->lock);
	release(d, old, old_n);
	if (d->eng && d->eng->gdt_changed)
		d->eng->gdt_changed(v);
}

int pv_gdt_context_take(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	uint64_t frames[PV_GDT_FRAMES];

	if (ctx->gdt_ents > FIRST_RESERVED_GDT_ENTRY)
		return -XEN_EINVAL;
	for (unsigned i = 0; i < PV_GDT_FRAMES; i++)
		frames[i] = ctx->gdt_frames[i];
	return take(v->dom, frames, (unsigned)ctx->gdt_ents);
}

void pv_gdt_context_undo(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	uint64_t frames[PV_GDT_FRAMES];

	for (unsigned i = 0; i < PV_GDT_FRAMES; i++)
		frames[i] = ctx->gdt_frames[i];
	release(v->dom, frames, ((unsigned)ctx->gdt_ents + 511) / 512);
}

void pv_gdt_context_install(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	uint64_t frames[PV_GDT_FRAMES] = { 0 };
	unsigned n = ((unsigned)ctx->gdt_ents + 511) / 512;

	for (unsigned i = 0; i < n; i++)
		frames[i] = ctx->gdt_frames[i];
	install(v, frames, (unsigned)ctx->gdt_ents, false);
}

void pv_gdt_context_get(struct hv_vcpu *v, struct vcpu_guest_context *ctx)
{
	for (unsigned i = 0; i < PV_GDT_FRAMES; i++)
		ctx->gdt_frames[i] = v->gdt_frames[i];
	ctx->gdt_ents = v->gdt_ents;
}

void pv_gdt_release(struct hv_vcpu *v)
{
	uint64_t none[PV_GDT_FRAMES] = { 0 };

	if (v->gdt_ents)
		install(v, none, 0, false);
}

/*
 * set_gdt(frame_list, entries): Xen's do_set_gdt.  More entries than the
 * guest's part of the GDT -EINVAL, a list it cannot read -EFAULT, a frame
 * that is not its own RAM or will not take the type -EINVAL; nothing
 * changes on an error.  The same frame twice is accepted, as on Xen (each
 * slot holds its own references).
 */
long hc_set_gdt(struct hv_vcpu *v, const uint64_t *a)
{
	unsigned entries = (unsigned)a[1], n;
	uint64_t frames[PV_GDT_FRAMES] = { 0 };
	long ret;

	if (entries > FIRST_RESERVED_GDT_ENTRY)
		return -XEN_EINVAL;
	n = (entries + 511) / 512;
	if (n && (a[0] + n * sizeof(frames[0]) < a[0] ||
		  vcpu_copy_from_guest(v, frames, a[0], n * sizeof(frames[0]))))
		return -XEN_EFAULT;
	ret = take(v->dom, frames, entries);
	if (!ret)
		install(v, frames, entries, true);
	return ret;
}

/*
 * update_descriptor(ma, desc): Xen's do_update_descriptor.  ma 8-byte
 * aligned and desc acceptable (fixed up as above), else -EINVAL; the
 * frame the domain's RAM, a GDT frame or one that may be writable (not a
 * page table), else -EINVAL; the write is one 8-byte store.
 */
long hc_update_descriptor(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	uint64_t ma = a[0], desc = a[1];
	long ret;

	if ((ma & 7) || !pv_desc_check(&desc) || (ma >> PAGE_SHIFT) > MFN_MAX)
		return -XEN_EINVAL;
	ret = mmu_write_desc(d, ma, desc);
	if (!ret && d->eng && (d->eng->gdt_changed || d->eng->ldt_changed)) {
		for (unsigned i = 0; i < d->max_vcpus; i++) {
			struct hv_vcpu *t = d->vcpus[i];
			bool in_gdt = false, in_ldt = false;
			if (!t)
				continue;
			pthread_mutex_lock(&d->lock);
			for (unsigned k = 0; k < (t->gdt_ents + 511) / 512; k++)
				in_gdt |= t->gdt_frames[k] == ma >> PAGE_SHIFT;
			for (unsigned k = 0; k < t->ldt_nframes && k < PV_GDT_FRAMES; k++)
				in_ldt |= t->ldt_frames[k] == ma >> PAGE_SHIFT;
			pthread_mutex_unlock(&d->lock);
			if (in_gdt && d->eng->gdt_changed)
				d->eng->gdt_changed(t);
			if (in_ldt && d->eng->ldt_changed)
				d->eng->ldt_changed(t); /* the vCPU's LDT copy follows */
		}
	}
	return ret;
}
