// SPDX-License-Identifier: MIT
/*
 * The runner's address space follows the guest's page tables: a walk of
 * the tables becomes a list of mmap/munmap operations on the guest memfd,
 * which the runner applies before it next runs guest code.  Only frames a
 * PV guest may map (its RAM, its shared_info, its grant-table frames) are
 * ever mapped; anything else in a table is left out, so a bad entry makes
 * a hole the guest faults on, never a window onto something else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "proc.h"

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define QUEUE_MAX (1u << 20)

int proc_map_queue_op(struct proc_map_queue *q, const struct sv_proc_map *op)
{
	if (q->nr == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct sv_proc_map *n;

		if (cap > QUEUE_MAX)
			return -ENOMEM;
		n = realloc(q->ops, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		q->ops = n;
		q->cap = cap;
	}
	q->ops[q->nr++] = *op;
	return 0;
}

void proc_map_queue_free(struct proc_map_queue *q)
{
	free(q->ops);
	memset(q, 0, sizeof(*q));
}

/* Offset in the memfd of a frame the guest may map, or -EINVAL. */
static int64_t frame_offset(struct hv_domain *d, uint64_t gpa, uint64_t len)
{
	if (mem_is_ram(&d->mem, gpa, len)) {
		/* A frame the guest gave back is not mapped: a hole it faults on (memop.c). */
		for (uint64_t o = 0; o < len; o += PAGE_SIZE)
			if (!mem_frame_present(&d->mem, gpa + o))
				return -EINVAL;
		return mem_offset(&d->mem, gpa);
	}
	if (len == PAGE_SIZE && (gpa == SV_SHARED_INFO_GPA || gnttab_is_frame(d, gpa)))
		return mem_offset(&d->mem, gpa);
	return -EINVAL;
}

/* Runs of pages with consecutive offsets and the same protection become one mmap. */
struct run_builder {
	struct hv_domain *d;
	struct proc_map_queue *q;
	struct sv_proc_map cur;
	bool have;
	int err;
};

static void flush_run(struct run_builder *b)
{
	if (b->have && !b->err)
		b->err = proc_map_queue_op(b->q, &b->cur);
	b->have = false;
}

static void emit(struct run_builder *b, uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags)
{
	int64_t off = frame_offset(b->d, gpa, len);
	uint32_t prot = PROT_READ;

	if (off < 0)
		return;
	if (flags & PTE_RW)
		prot |= PROT_WRITE;
	if (!(flags & PTE_NX))
		prot |= PROT_EXEC;
	if (b->have && b->cur.va + b->cur.len == va &&
	    b->cur.offset + b->cur.len == (uint64_t)off && b->cur.prot == prot) {
		b->cur.len += len;
		return;
	}
	flush_run(b);
	b->cur = (struct sv_proc_map){
		.va = va, .len = len, .offset = (uint64_t)off, .op = SV_PROC_OP_MAP, .prot = prot
	};
	b->have = true;
}

static const uint64_t *table(struct hv_domain *d, uint64_t entry)
{
	uint64_t gpa = entry & PTE_ADDR;

	if (!mem_is_ram(&d->mem, gpa, PAGE_SIZE))
		return NULL;
	return mem_gpa(&d->mem, gpa, PAGE_SIZE);
}

static uint64_t rd(const uint64_t *t, unsigned i)
{
	return __atomic_load_n(&t[i], __ATOMIC_RELAXED);
}

/*
 * Effective flags down a walk: writable only if every level is, no-exec
 * if any level says so (a PV guest's user bit means nothing here: its
 * kernel and its processes are all the runner's user mode).
 */
static uint64_t combine(uint64_t acc, uint64_t e)
{
	return (acc & ~PTE_RW & ~PTE_NX) | (acc & e & PTE_RW) | ((acc | e) & PTE_NX);
}

/* Does [va, va + len) meet [lo, hi)? */
static bool meets(uint64_t va, uint64_t len, uint64_t lo, uint64_t hi)
{
	return va < hi && va + len > lo;
}

/* The mappings of [lo, hi) in the tables at cr3 (hi <= SV_PROC_GUEST_VA_END). */
static void walk(struct run_builder *b, uint64_t cr3, uint64_t lo, uint64_t hi)
{
	const uint64_t *l4 = table(b->d, cr3);
	unsigned n4 = (unsigned)(SV_PROC_GUEST_VA_END >> 39);

	if (!l4)
		return;
	for (unsigned i4 = 0; i4 < n4; i4++) {
		uint64_t e4 = rd(l4, i4);
		const uint64_t *l3 = (e4 & PTE_P) ? table(b->d, e4) : NULL;
		if (!l3 || !meets((uint64_t)i4 << 39, 1ULL << 39, lo, hi))
			continue;
		for (unsigned i3 = 0; i3 < 512; i3++) {
			uint64_t e3 = rd(l3, i3), va3 = ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30);
			uint64_t f3 = combine(combine(PTE_RW, e4), e3);
			if (!(e3 & PTE_P) || !meets(va3, 1ULL << 30, lo, hi))
				continue;
			if (e3 & PTE_PS) {
				emit(b, va3, 1ULL << 30, e3 & PTE_ADDR & ~((1ULL << 30) - 1), f3);
				continue;
			}
			const uint64_t *l2 = table(b->d, e3);
			if (!l2)
				continue;
			for (unsigned i2 = 0; i2 < 512; i2++) {
				uint64_t e2 = rd(l2, i2), va2 = va3 | ((uint64_t)i2 << 21);
				uint64_t f2 = combine(f3, e2);
				if (!(e2 & PTE_P) || !meets(va2, 1ULL << 21, lo, hi))
					continue;
				if (e2 & PTE_PS) {
					emit(b, va2, 1ULL << 21,
					     e2 & PTE_ADDR & ~((1ULL << 21) - 1), f2);
					continue;
				}
				const uint64_t *l1 = table(b->d, e2);
				if (!l1)
					continue;
				for (unsigned i1 = 0; i1 < 512; i1++) {
					uint64_t e1 = rd(l1, i1);
					if ((e1 & PTE_P) &&
					    meets(va2 | ((uint64_t)i1 << 12), PAGE_SIZE, lo, hi))
						emit(b, va2 | ((uint64_t)i1 << 12), PAGE_SIZE,
						     e1 & PTE_ADDR, combine(f2, e1));
				}
			}
		}
	}
	flush_run(b);
}

int proc_map_rebuild(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3)
{
	struct proc_dom *pd = proc_dom(d);
	struct run_builder b = { .d = d, .q = q };

	if (pd->mapped_cr3) {
		/* Drop the old address space, in pieces the seccomp filter allows. */
		for (uint64_t va = pd->va_lo; va < SV_PROC_GUEST_VA_END && !b.err;) {
			uint64_t len = SV_PROC_MAP_LEN_MAX / 2;
			if (len > SV_PROC_GUEST_VA_END - va)
				len = SV_PROC_GUEST_VA_END - va;
			struct sv_proc_map op = { .va = va, .len = len, .op = SV_PROC_OP_UNMAP };
			b.err = proc_map_queue_op(b.q, &op);
			va += len;
		}
	}
	walk(&b, cr3 & PTE_ADDR, 0, SV_PROC_GUEST_VA_END);
	if (!b.err)
		pd->mapped_cr3 = cr3 & PTE_ADDR;
	return b.err;
}

int proc_map_page(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3, uint64_t va)
{
	struct run_builder b = { .d = d, .q = q };
	uint64_t flags = PTE_RW, e = 0, entry = cr3 & PTE_ADDR;
	int level;

	va &= ~(PAGE_SIZE - 1);
	if (va >= SV_PROC_GUEST_VA_END)
		return -EINVAL;
	for (level = 4; level >= 1; level--) {
		const uint64_t *t = table(d, entry);
		e = t ? rd(t, (unsigned)(va >> (12 + 9 * (level - 1))) & 511) : 0;
		if (!(e & PTE_P) || (level > 1 && (e & PTE_PS)))
			break;
		flags = combine(flags, e);
		entry = e;
	}
	if (level == 0)
		emit(&b, va, PAGE_SIZE, e & PTE_ADDR, flags);
	flush_run(&b);
	if (!b.err && level != 0) {
		struct sv_proc_map op = { .va = va, .len = PAGE_SIZE, .op = SV_PROC_OP_UNMAP };
		b.err = proc_map_queue_op(b.q, &op);
	} else if (!b.err && frame_offset(d, e & PTE_ADDR, PAGE_SIZE) < 0) {
		struct sv_proc_map op = { .va = va, .len = PAGE_SIZE, .op = SV_PROC_OP_UNMAP };
		b.err = proc_map_queue_op(b.q, &op);
	}
	return b.err;
}

/* Queue the unmapping of [va, end) in pieces the filter allows, then its walk in the tables at cr3.
 */
static void remap_range(struct run_builder *b, uint64_t cr3, uint64_t va, uint64_t end)
{
	uint64_t lo = proc_dom(b->d)->va_lo;

	if (va < lo)
		va = lo; /* page 0 is the guest's only in a low window */
	for (uint64_t at = va; at < end && !b->err;) {
		uint64_t n =
		    end - at < SV_PROC_MAP_LEN_MAX / 2 ? end - at : SV_PROC_MAP_LEN_MAX / 2;
		struct sv_proc_map op = { .va = at, .len = n, .op = SV_PROC_OP_UNMAP };
		b->err = proc_map_queue_op(b->q, &op);
		at += n;
	}
	if (!b->err)
		walk(b, cr3 & PTE_ADDR, va, end);
}

/*
 * The runner follows the tables at cr3 from now on (proc_as.c, when a
 * vCPU on other tables than the mapped ones is let in).  Only the
 * top-level slots whose entries differ from the tables it followed are
 * remapped: an entry naming the same lower table with the same flags maps
 * the same (every change below it was applied as it was made).  Switching
 * between address spaces that share their kernel half costs their
 * differences, not a rebuild.
 */
int proc_map_switch(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3)
{
	struct proc_dom *pd = proc_dom(d);
	struct run_builder b = { .d = d, .q = q };
	const uint64_t *old, *new;
	unsigned n4 = (unsigned)(SV_PROC_GUEST_VA_END >> 39);

	old = pd->mapped_cr3 ? table(d, pd->mapped_cr3) : NULL;
	new = table(d, cr3);
	if (!old || !new)
		return proc_map_rebuild(d, q, cr3);
	for (unsigned i = 0; i < n4 && !b.err; i++)
		if (rd(old, i) != rd(new, i))
			remap_range(&b, cr3, (uint64_t)i << 39, (uint64_t)(i + 1) << 39);
	if (!b.err)
		pd->mapped_cr3 = cr3 & PTE_ADDR;
	return b.err;
}

/*
 * Queue on v the mappings of [va, va + len) afresh (mmu.c's batches): the
 * range is unmapped, in pieces the filter allows, and walked again, so
 * a batch of N updates to neighbouring entries costs one walk and the
 * runs it finds, not N remaps.  cr3 must be the tables the runner follows.
 */
int proc_map_range(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3, uint64_t va,
		   uint64_t len)
{
	struct run_builder b = { .d = d, .q = q };
	uint64_t end;

	if (va >= SV_PROC_GUEST_VA_END || !len)
		return 0;
	end = len > SV_PROC_GUEST_VA_END - va ? SV_PROC_GUEST_VA_END : va + len;
	remap_range(&b, cr3, va, end);
	return b.err;
}
