// SPDX-License-Identifier: MIT
/* Grant tables v1: frames in guest-visible memory, dom0 mappings with pin counts, GNTTABOP_copy. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include "hv.h"
#include "hypercall.h"

/*
 * The grant frames are hypervisor pages (like shared_info) the guest maps
 * itself after GNTTABOP_setup_table.  Entries are guest memory: each is
 * read once (one 8-byte load) and changed only by compare-and-swap on its
 * flags+domid word, as Xen does.  pins count dom0 mappings per ref; the
 * maptrack records each mapping and who holds it.
 */
#define GNT_PER_FRAME (PAGE_SIZE / sizeof(grant_entry_v1_t))
#define GNT_MAX_ENTRIES (SV_GNT_MAX_FRAMES * GNT_PER_FRAME)
/*
 * dom0 mappings of one domain's grants, at most: below the default
 * vm.max_map_count (65530) of the dom0 process that maps them, as Xen
 * bounds its maptrack.  Pin counts are wide enough never to wrap below it.
 */
#define GNT_MAX_MAPS 65536u
#define GNT_NO_MAP UINT32_MAX

struct gnt_pin {
	uint32_t readers, writers;
};

struct gnt_map {
	uint32_t ref;
	bool used, readonly;
	uint32_t next_free; /* unused: the next free handle, or GNT_NO_MAP */
	const void *owner;
};

struct hv_gnttab {
	pthread_mutex_t lock;
	unsigned nr_frames;
	uint64_t frames_gpa;
	grant_entry_v1_t *entries;
	struct gnt_pin pins[GNT_MAX_ENTRIES];
	struct gnt_map *maps;
	unsigned nr_maps;
	uint32_t free_head; /* free handles, a stack threaded through maps */
	bool limit_logged;  /* said once that GNT_MAX_MAPS was reached */
};

int gnttab_init(struct hv_domain *d)
{
	struct hv_gnttab *gt = calloc(1, sizeof(*gt));

	if (!gt)
		return -ENOMEM;
	gt->frames_gpa = pv_gnttab_gpa(d);
	gt->entries = mem_gpa(&d->mem, gt->frames_gpa, SV_GNT_MAX_FRAMES * PAGE_SIZE);
	if (!gt->entries) {
		free(gt);
		return -EINVAL;
	}
	pthread_mutex_init(&gt->lock, NULL);
	gt->free_head = GNT_NO_MAP;
	d->gt = gt;
	return 0;
}

void gnttab_fini(struct hv_domain *d)
{
	if (!d->gt)
		return;
	pthread_mutex_destroy(&d->gt->lock);
	free(d->gt->maps);
	free(d->gt);
	d->gt = NULL;
}

/* Is gpa one of the grant frames the guest has set up (so it may map it)? */
bool gnttab_is_frame(struct hv_domain *d, uint64_t gpa)
{
	struct hv_gnttab *gt = d->gt;

	return gt && gpa >= gt->frames_gpa && gpa < gt->frames_gpa + gt->nr_frames * PAGE_SIZE &&
	       !(gpa & (PAGE_SIZE - 1));
}

unsigned gnttab_nr_frames(struct hv_domain *d)
{
	unsigned n = 0;

	if (d->gt) {
		pthread_mutex_lock(&d->gt->lock);
		n = d->gt->nr_frames;
		pthread_mutex_unlock(&d->gt->lock);
	}
	return n;
}

int gnttab_restore_frames(struct hv_domain *d, unsigned n)
{
	struct hv_gnttab *gt = d->gt;

	if (!gt || n > SV_GNT_MAX_FRAMES)
		return -EINVAL;
	pthread_mutex_lock(&gt->lock);
	memset(gt->entries, 0, SV_GNT_MAX_FRAMES * PAGE_SIZE); /* no grant survives */
	gt->nr_frames = n;
	pthread_mutex_unlock(&gt->lock);
	return 0;
}

static uint32_t *entry_word(struct hv_gnttab *gt, uint32_t ref)
{
	return (uint32_t *)&gt->entries[ref]; /* flags (low 16) and domid (high 16) */
}

/*
 * Check ref of d grants access to `to` (read-only allowed when !write) and
 * give its frame's guest-physical address.  Returns GNTST_*.
 */
static int check_entry(struct hv_domain *d, uint32_t ref, uint32_t to, bool write, uint64_t *gpa,
		       uint32_t *word)
{
	struct hv_gnttab *gt = d->gt;
	uint64_t e;

	if (!gt || ref >= gt->nr_frames * GNT_PER_FRAME)
		return GNTST_bad_gntref;
	e = __atomic_load_n((uint64_t *)&gt->entries[ref], __ATOMIC_ACQUIRE);
	uint16_t flags = (uint16_t)e, domid = (uint16_t)(e >> 16);
	uint32_t frame = (uint32_t)(e >> 32);
	if ((flags & GTF_type_mask) != GTF_permit_access || domid != to)
		return GNTST_permission_denied;
	if (write && (flags & GTF_readonly))
		return GNTST_permission_denied;
	*gpa = (uint64_t)frame << PAGE_SHIFT;
	/* RAM the guest holds: a frame it gave back (memop.c) is no page to grant. */
	if (!mem_is_ram(&d->mem, *gpa, PAGE_SIZE) || !mem_frame_present(&d->mem, *gpa))
		return GNTST_bad_page;
	*word = (uint32_t)e;
	return GNTST_okay;
}

/* Map ref of d for dom0: returns GNTST_* and fills handle and memfd offset. */
int gnttab_map_dom0(struct hv_domain *d, uint32_t ref, bool readonly, const void *owner,
		    uint32_t *handle, uint64_t *offset)
{
	struct hv_gnttab *gt = d->gt;
	uint64_t gpa;
	uint32_t word;
	int st = GNTST_general_error;

	if (!gt)
		return GNTST_bad_domain;
	pthread_mutex_lock(&gt->lock);
	for (int tries = 0; tries < 16; tries++) {
		st = check_entry(d, ref, 0, !readonly, &gpa, &word);
		if (st != GNTST_okay)
			goto out;
		uint32_t want = word | GTF_reading | (readonly ? 0 : GTF_writing);
		if (__atomic_compare_exchange_n(entry_word(gt, ref), &word, want, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
		st = GNTST_eagain; /* the guest changed the entry under us: look again */
	}
	if (st != GNTST_okay && st != GNTST_eagain)
		goto out;
	if (st == GNTST_eagain) {
		goto out;
	}
	if (gt->free_head == GNT_NO_MAP) {
		unsigned n = gt->nr_maps ? gt->nr_maps * 2 : 64;
		struct gnt_map *m = n <= GNT_MAX_MAPS ? realloc(gt->maps, n * sizeof(*m)) : NULL;
		if (!m) {
			if (!gt->limit_logged)
				hv_log("d%u: dom0 holds %u grant mappings, the most it may: "
				       "refusing more",
				       d->domid, gt->nr_maps);
			gt->limit_logged = true;
			st = GNTST_no_space;
			goto out_unpin_flags;
		}
		for (unsigned i = n; i-- > gt->nr_maps;) {
			m[i] = (struct gnt_map){ .next_free = gt->free_head };
			gt->free_head = i;
		}
		gt->maps = m;
		gt->nr_maps = n;
	}
	uint32_t h = gt->free_head;
	gt->free_head = gt->maps[h].next_free;
	gt->maps[h] = (struct gnt_map){ .ref = ref,
					.used = true,
					.readonly = readonly,
					.next_free = GNT_NO_MAP,
					.owner = owner };
	if (readonly)
		gt->pins[ref].readers++;
	else
		gt->pins[ref].writers++;
	*handle = h;
	*offset = (uint64_t)mem_offset(&d->mem, gpa); /* RAM: check_entry said so */
	st = GNTST_okay;
	goto out;

out_unpin_flags:
	if (!gt->pins[ref].readers && !gt->pins[ref].writers)
		__atomic_fetch_and(entry_word(gt, ref), ~(uint32_t)(GTF_reading | GTF_writing),
				   __ATOMIC_ACQ_REL);
	else if (!gt->pins[ref].writers)
		__atomic_fetch_and(entry_word(gt, ref), ~(uint32_t)GTF_writing, __ATOMIC_ACQ_REL);
out:
	pthread_mutex_unlock(&gt->lock);
	return st;
}

static void unpin(struct hv_gnttab *gt, uint32_t h)
{
	struct gnt_map *m = &gt->maps[h];
	struct gnt_pin *p = &gt->pins[m->ref];

	if (m->readonly)
		p->readers--;
	else
		p->writers--;
	if (!p->writers) {
		uint32_t clear = GTF_writing | (p->readers ? 0 : GTF_reading);
		__atomic_fetch_and(entry_word(gt, m->ref), ~clear, __ATOMIC_ACQ_REL);
	}
	m->used = false;
	m->next_free = gt->free_head;
	gt->free_head = h;
	gt->limit_logged = false;
}

int gnttab_unmap_dom0(struct hv_domain *d, uint32_t handle, const void *owner)
{
	struct hv_gnttab *gt = d->gt;
	int st = GNTST_bad_handle;

	if (!gt)
		return GNTST_bad_domain;
	pthread_mutex_lock(&gt->lock);
	if (handle < gt->nr_maps && gt->maps[handle].used && gt->maps[handle].owner == owner) {
		unpin(gt, handle);
		st = GNTST_okay;
	}
	pthread_mutex_unlock(&gt->lock);
	return st;
}

/* Drop every mapping `owner` holds in d (its connection closed). */
void gnttab_release_owner(struct hv_domain *d, const void *owner)
{
	struct hv_gnttab *gt = d->gt;

	if (!gt)
		return;
	pthread_mutex_lock(&gt->lock);
	for (unsigned h = 0; h < gt->nr_maps; h++)
		if (gt->maps[h].used && gt->maps[h].owner == owner)
			unpin(gt, h);
	pthread_mutex_unlock(&gt->lock);
}

/*
 * One side of a copy to a host pointer.  By grant ref: the entry of domid
 * must grant `caller` (writable for the destination).  By frame: only the
 * caller's own frames, or any guest frame when dom0 (privileged) asks.
 */
static int copy_side(struct hv_domain *self, uint32_t caller, uint32_t domid, bool is_ref,
		     uint64_t ref_or_gfn, uint32_t offset, uint32_t len, bool write,
		     struct hv_domain **held, void **ptr)
{
	struct hv_domain *d;
	uint64_t gpa;
	uint32_t word;
	int st;

	if (offset >= PAGE_SIZE || len > PAGE_SIZE - offset)
		return GNTST_bad_copy_arg;
	if (domid == 0 || (!is_ref && caller != 0 && domid != caller))
		return GNTST_permission_denied;
	if (self && domid == self->domid) {
		d = self;
		atomic_fetch_add(&d->refs, 1);
	} else {
		d = domain_get(domid);
	}
	if (!d)
		return GNTST_bad_domain;
	if (is_ref) {
		if (ref_or_gfn > UINT32_MAX) {
			domain_put(d);
			return GNTST_bad_gntref;
		}
		pthread_mutex_lock(&d->gt->lock);
		st = check_entry(d, (uint32_t)ref_or_gfn, caller, write, &gpa, &word);
		pthread_mutex_unlock(&d->gt->lock);
	} else {
		gpa = ref_or_gfn << PAGE_SHIFT;
		st = ref_or_gfn < (1ULL << 40) && mem_is_ram(&d->mem, gpa, PAGE_SIZE) &&
			     mem_frame_present(&d->mem, gpa)
			 ? GNTST_okay
			 : GNTST_bad_page;
	}
	if (st != GNTST_okay) {
		domain_put(d);
		return st;
	}
	*ptr = mem_gpa(&d->mem, gpa + offset, len ? len : 1);
	*held = d;
	return *ptr ? GNTST_okay : GNTST_bad_page;
}

/* One copy for `caller` (self: its domain, NULL for dom0); returns GNTST_*. */
int gnttab_copy_one(struct hv_domain *self, uint32_t caller, const struct sv_gnt_copy_seg *s)
{
	struct hv_domain *sd = NULL, *dd = NULL;
	void *src, *dst;
	int st;

	st = copy_side(self, caller, s->source.domid, !(s->source.flags & SV_GNT_COPY_GFN),
		       s->source.ref, s->source.offset, s->len, false, &sd, &src);
	if (st != GNTST_okay)
		return st;
	st = copy_side(self, caller, s->dest.domid, !(s->dest.flags & SV_GNT_COPY_GFN), s->dest.ref,
		       s->dest.offset, s->len, true, &dd, &dst);
	if (st == GNTST_okay)
		memmove(dst, src, s->len);
	domain_put(sd);
	domain_put(dd);
	return st;
}

/* The guest's grant_table_op: cmd, argument array, count. */
long hc_grant_table_op(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	struct hv_gnttab *gt = d->gt;
	uint64_t arg = a[1], count = a[2];

	if (count > 512)
		return -XEN_EINVAL;
	switch (a[0]) {
	case GNTTABOP_setup_table: {
		struct gnttab_setup_table op;
		if (count != 1)
			return -XEN_EINVAL;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.dom != DOMID_SELF && op.dom != d->domid) {
			op.status = GNTST_permission_denied;
		} else if (op.nr_frames > SV_GNT_MAX_FRAMES) {
			op.status = GNTST_general_error;
		} else {
			pthread_mutex_lock(&gt->lock);
			if (op.nr_frames > gt->nr_frames)
				gt->nr_frames = op.nr_frames;
			pthread_mutex_unlock(&gt->lock);
			op.status = GNTST_okay;
			for (uint32_t i = 0; i < op.nr_frames; i++) {
				xen_pfn_t mfn = (gt->frames_gpa >> PAGE_SHIFT) + i;
				uint64_t at =
				    (uint64_t)(uintptr_t)op.frame_list.p + i * sizeof(mfn);
				if (vcpu_copy_to_guest(v, at, &mfn, sizeof(mfn)))
					return -XEN_EFAULT;
			}
		}
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case GNTTABOP_query_size: {
		struct gnttab_query_size op;
		if (count != 1)
			return -XEN_EINVAL;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.dom != DOMID_SELF && op.dom != d->domid) {
			op.status = GNTST_permission_denied;
		} else {
			op.nr_frames = gt->nr_frames;
			op.max_nr_frames = SV_GNT_MAX_FRAMES;
			op.status = GNTST_okay;
		}
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case GNTTABOP_set_version: {
		struct gnttab_set_version op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		bool ok = op.version == 0 || op.version == 1;
		op.version = 1;
		if (vcpu_copy_to_guest(v, arg, &op, sizeof(op)))
			return -XEN_EFAULT;
		return ok ? 0 : -XEN_EINVAL; /* only v1 exists here */
	}
	case GNTTABOP_get_version: {
		struct gnttab_get_version op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.dom != DOMID_SELF && op.dom != d->domid)
			return -XEN_EPERM;
		op.version = 1;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case GNTTABOP_dump_table: {
		/*
		 * Xen prints the table on its own console (debugging); PV GRUB
		 * asks for it as it sets up its framebuffer.  Nothing is
		 * printed here (a guest could flood the log with it): the
		 * status is what Xen would say.
		 */
		struct gnttab_dump_table op;
		if (count != 1)
			return -XEN_EINVAL;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		op.status = op.dom == DOMID_SELF || op.dom == d->domid ? GNTST_okay
								       : GNTST_permission_denied;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case GNTTABOP_get_status_frames: {
		struct gnttab_get_status_frames op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		op.status = GNTST_general_error; /* status frames are v2 only */
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case GNTTABOP_copy:
		for (uint64_t i = 0; i < count; i++) {
			struct gnttab_copy op;
			uint64_t at = arg + i * sizeof(op);
			if (vcpu_copy_from_guest(v, &op, at, sizeof(op)))
				return -XEN_EFAULT;
			struct sv_gnt_copy_seg s = {
				.source = { .domid = op.source.domid == DOMID_SELF
							 ? d->domid
							 : op.source.domid,
					    .ref = (uint32_t)op.source.u.gmfn,
					    .offset = op.source.offset,
					    .flags = op.flags & GNTCOPY_source_gref
							 ? 0
							 : SV_GNT_COPY_GFN },
				.dest = { .domid = op.dest.domid == DOMID_SELF ? d->domid
									       : op.dest.domid,
					  .ref = (uint32_t)op.dest.u.gmfn,
					  .offset = op.dest.offset,
					  .flags =
					      op.flags & GNTCOPY_dest_gref ? 0 : SV_GNT_COPY_GFN },
				.len = op.len,
			};
			if (op.flags & GNTCOPY_source_gref)
				s.source.ref = op.source.u.ref;
			else if (op.source.u.gmfn > UINT32_MAX)
				s.source.ref = UINT32_MAX; /* no guest frame is that high */
			if (op.flags & GNTCOPY_dest_gref)
				s.dest.ref = op.dest.u.ref;
			else if (op.dest.u.gmfn > UINT32_MAX)
				s.dest.ref = UINT32_MAX;
			op.status = (int16_t)gnttab_copy_one(d, d->domid, &s);
			if (vcpu_copy_to_guest(v, at + offsetof(struct gnttab_copy, status),
					       &op.status, sizeof(op.status)))
				return -XEN_EFAULT;
		}
		return 0;
	default:
		/* Guests mapping each other's grants (driver domains) and transfers: not offered.
		 */
		return -XEN_ENOSYS;
	}
}
