// SPDX-License-Identifier: MIT
/*
 * A PV guest's LDT on the process engine.  The runner is one host
 * process, and a process has one LDT (Linux keeps it per address space,
 * every thread's), which it writes an entry at a time with modify_ldt: so
 * the LDT goes with the address space of proc_as.c.  Each vCPU keeps a
 * copy of its own LDT's descriptors (pv_ldt_snapshot, whenever the core
 * says it changed: SET_LDT, a context, update_descriptor into one of its
 * frames); the domain keeps what the runner's process has loaded.  A vCPU
 * whose LDT differs from that goes in as a vCPU on other tables does:
 * when nobody else is in, with the entries that differ written first
 * (SV_PROC_OP_LDT in its batch).  vCPUs of one guest process share their
 * LDT (Linux's is per mm), so they run together.
 *
 * Each descriptor (already accepted by check_descriptor and fixed up,
 * pv_desc.c) becomes the struct user_desc that makes the kernel write the
 * same segment: base, limit, granularity, D/B, L, AVL, type.  What
 * modify_ldt cannot express is left empty, so its selector raises #GP
 * where Xen would load it: system descriptors (call gates: Xen emulates
 * a far call through one, neither engine does), DPL below 3 (which
 * faults at CPL 3 anyway, as on Xen, but with the same #GP), and every
 * code segment: Linux's modify_ldt always clears the L bit, so a 64-bit
 * code segment would become a compatibility-mode one, which this engine
 * does not run (HYPERVISOR_iret refuses those too, pv.c).  So an LDT
 * code selector is #GP here (lret, far jmp and call); HYPERVISOR_iret to
 * a 64-bit one is still taken, as on Xen, running on the host's flat
 * 64-bit code segment, the same segment.  Logged once per domain.  The accessed bit is always set (the
 * kernel sets it so the LDT can be read-only), as the CPU would set it at
 * the first load.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "../hypercall.h"
#include "proc.h"

#define DESC_S (1ULL << 44)
#define DESC_P (1ULL << 47)

bool proc_ldt_user_desc(uint64_t desc, unsigned entry, struct user_desc *u)
{
	unsigned type = (unsigned)(desc >> 40) & 0xf, dpl = (unsigned)(desc >> 45) & 3;
	bool code = type & 8;

	/* The kernel's form of "no segment" (LDT_empty): it clears the entry. */
	memset(u, 0, sizeof(*u));
	u->entry_number = entry;
	u->read_exec_only = 1;
	u->seg_not_present = 1;
	if (!desc)
		return true;
	if (!(desc & DESC_S) || dpl != 3)
		return false; /* a gate or system entry, DPL < 3 */
	if (code)
		return false; /* Linux's modify_ldt clears L: no 64-bit code segment */
	u->base_addr = (unsigned)(((desc >> 16) & 0xffffff) | ((desc >> 56) & 0xff) << 24);
	u->limit = (unsigned)((desc & 0xffff) | ((desc >> 48) & 0xf) << 16);
	u->contents = (type >> 2) & 1; /* data expanding down */
	u->read_exec_only = !(type & 2); /* read-only data */
	u->seg_not_present = !(desc & DESC_P);
	u->useable = (desc >> 52) & 1;
	u->seg_32bit = (desc >> 54) & 1;
	u->limit_in_pages = (desc >> 55) & 1;
	/* What the kernel takes as "no segment at all" would drop a real one. */
	if (!u->base_addr && !u->limit && !u->contents && u->read_exec_only && !u->seg_32bit &&
	    !u->limit_in_pages && u->seg_not_present && !u->useable)
		return false;
	return true;
}

/* One copy at a time, taken before the MMU lock (the snapshot's), never under map_lock. */
static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;

void proc_ldt_changed(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);
	struct proc_vcpu *pv = proc_vcpu(v);
	uint64_t *copy, *old;
	unsigned n = 0;

	if (!pd || !pv)
		return;
	pthread_mutex_lock(&fill_lock);
	copy = malloc(PV_LDT_ENTS * sizeof(*copy));
	if (copy)
		n = pv_ldt_snapshot(v, copy); /* takes the MMU lock: map_lock is a leaf */
	else if (!__atomic_exchange_n(&pd->ldt_logged, true, __ATOMIC_RELAXED))
		hv_log("d%u: no memory for vCPU %u's LDT: not loaded, its selectors fault",
		       v->dom->domid, v->id);
	pthread_mutex_lock(&pd->map_lock);
	old = pv->ldt;
	pv->ldt = copy;
	pv->ldt_n = n;
	pv->ldt_gen = ++pd->ldt_gens;
	pthread_mutex_unlock(&pd->map_lock);
	pthread_mutex_unlock(&fill_lock);
	free(old);
}

static uint64_t at(const uint64_t *ldt, unsigned i)
{
	return ldt ? ldt[i] : 0;
}

bool proc_ldt_same(const struct proc_dom *pd, struct proc_vcpu *pv)
{
	unsigned n = pv->ldt_n > pd->ldt_n ? pv->ldt_n : pd->ldt_n;

	if (pv->ldt_gen == pd->ldt_gen)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (at(pv->ldt, i) != at(pd->ldt, i))
			return false;
	/*
	 * The same descriptors under another number (each vCPU of a process
	 * sets the LDT itself): take the loaded copy's, so that its next
	 * entries compare numbers only.  Any change gives it a new one.
	 */
	pv->ldt_gen = pd->ldt_gen;
	return true;
}

int proc_ldt_load(struct hv_domain *d, struct proc_vcpu *pv, struct proc_map_queue *q)
{
	struct proc_dom *pd = proc_dom(d);
	unsigned n = pv->ldt_n > pd->ldt_n ? pv->ldt_n : pd->ldt_n;
	unsigned refused = 0, first = 0;

	if (n && !pd->ldt && !(pd->ldt = calloc(PV_LDT_ENTS, sizeof(*pd->ldt))))
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = at(pv->ldt, i);
		struct user_desc u;
		struct sv_proc_map op = { .op = SV_PROC_OP_LDT };
		int ret;

		if (want == pd->ldt[i])
			continue;
		if (!proc_ldt_user_desc(want, i, &u) && !refused++)
			first = i; /* u clears the entry */
		memcpy(op.ldt, &u, sizeof(op.ldt));
		ret = proc_map_queue_op(q, &op);
		if (ret)
			return ret; /* the batch is not run: the process keeps what it had */
	}
	/* The batch runs before v does: the process will have v's LDT. */
	for (unsigned i = 0; i < n; i++)
		pd->ldt[i] = at(pv->ldt, i);
	pd->ldt_n = pv->ldt_n;
	pd->ldt_gen = pv->ldt_gen;
	if (refused && !__atomic_exchange_n(&pd->ldt_logged, true, __ATOMIC_RELAXED))
		hv_log("d%u: %u LDT entries the process engine cannot load (the first: %u, "
		       "%#llx): their selectors fault",
		       d->domid, refused, first, (unsigned long long)at(pv->ldt, first));
	return 0;
}

void proc_ldt_reset(struct proc_dom *pd)
{
	free(pd->ldt);
	pd->ldt = NULL;
	pd->ldt_n = 0;
	pd->ldt_gen = 0;
}
