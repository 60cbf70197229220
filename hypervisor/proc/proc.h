/* SPDX-License-Identifier: MIT */
/* The process engine's private state: one sv-runner process per domain, one shared block per vCPU.
 */
#ifndef PROC_ENGINE_H
#define PROC_ENGINE_H

#include <sys/types.h>
#include "../hv.h"
#include "sv/procabi.h"

struct proc_map_queue {
	struct sv_proc_map *ops;
	size_t nr, cap;
};

struct proc_dom {
	pid_t pid;	      /* the runner; 0 before it is started */
	int pidfd;	      /* signals reach that process only, even after it is reaped */
	atomic_bool stopping; /* the domain is going: the runner's end is no crash */
	int shared_fd;
	uint8_t *shared;  /* SV_PROC_SHARED_SIZE bytes, mapped here too */
	pthread_t reaper; /* waits for the runner to end */
	bool reaper_started;
	atomic_bool dead;	  /* the runner has ended */
	int status;		  /* its wait status, once dead */
	/*
	 * The one address space its vCPUs share (proc_as.c).  map_lock is a
	 * leaf lock (taken after d->lock and the MMU lock, never before) over:
	 * mapped_cr3, the queue, and which vCPUs are let in or wait.
	 */
	pthread_mutex_t map_lock;
	pthread_cond_t as_cond;	  /* with map_lock: someone left, a waiter went, a kick */
	uint64_t mapped_cr3;	  /* the tables the runner's address space follows; 0: none */
	uint64_t va_lo;		  /* the guest window's start: 0 (low window) or one page */
	struct proc_map_queue queue; /* changes to them not yet handed to the runner, in order */
	unsigned nr_in;		  /* vCPUs let in: running guest code on mapped_cr3's tables */
	bool applying;		  /* a vCPU's runner thread applies a batch: nobody else goes in */
	uint64_t epoch_ns;	  /* when the runner's tables last changed hands */
	uint64_t tickets;	  /* waiters' arrival order */
	/*
	 * The LDT the runner's process has (proc_ldt.c), under map_lock: its
	 * descriptors (PV_LDT_ENTS, zero past ldt_n; NULL: none), and the
	 * vCPU copy it was loaded from (ldt_gen; 0: none), ldt_gens the last
	 * copy's number.
	 */
	uint64_t *ldt;
	unsigned ldt_n;
	uint64_t ldt_gen, ldt_gens;
	bool ldt_logged; /* an LDT it could not load was logged */
};

struct proc_vcpu {
	struct sv_proc_vcpu *blk; /* shared with the runner (and so the guest) */
	pid_t tid;		  /* its host thread, read once at start-up */
	uint64_t spin_budget;	  /* TSC cycles handoff spins before it sleeps (adaptive) */
	/* Under map_lock (proc_as.c): let in, waiting (since ticket), kicked for a waiter. */
	bool in, waiting, kicked;
	uint64_t ticket;
	uint64_t pend_root; /* its thread: the tables mmu.c's current batch is relative to */
	/*
	 * The registers as the block holds them (read at the last exit or
	 * written at the last run): a run writes only those that changed, so
	 * the cache lines of the others stay with the runner's CPU.
	 */
	uint64_t regs_in_blk[SV_PROC_NR_REGS];
	bool regs_in_blk_ok;
	uint32_t fast_in_blk; /* SV_PROC_FAST_* as last written */
	/* Its LDT's descriptors, as proc_dom's (proc_ldt.c; under map_lock). */
	uint64_t *ldt;
	unsigned ldt_n;
	uint64_t ldt_gen;
};

static inline struct proc_dom *proc_dom(struct hv_domain *d)
{
	return d->eng_priv;
}

static inline struct proc_vcpu *proc_vcpu(struct hv_vcpu *v)
{
	return v->eng;
}

/* proc_spawn.c */
int proc_spawn_init(char *why, size_t len);
/* Start the runner for d and wait until every vCPU thread waits; -errno and why if not. */
/* Whether PR_SET_TSC makes rdtsc fault on this host (probed once, in a child). */
bool proc_tsc_trap_ok(char *why, size_t len);
int proc_spawn(struct hv_domain *d, char *why, size_t len);
/* SIGKILL the runner; the reaper sees it go. */
void proc_kill(struct hv_domain *d);
void proc_reap(struct hv_domain *d);
/* d (never run, d->lock held): its runner ended and started again as proc_spawn would now. */
int proc_relaunch(struct hv_domain *d, char *why, size_t len);

/*
 * proc_map.c: the runner's address space follows the guest's page tables.
 * Each queues the operations on q; the caller holds map_lock.
 */
int proc_map_queue_op(struct proc_map_queue *q, const struct sv_proc_map *op);
/* The whole address space of the tables at cr3 (replacing what was mapped); they are followed. */
int proc_map_rebuild(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3);
/* The new mapping of one page of the followed tables at cr3 after its level-1 entry changed. */
int proc_map_page(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3, uint64_t va);
/* What differs between the followed tables and those at cr3; cr3's are followed from now on. */
int proc_map_switch(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3);
/* The mappings of [va, va + len) of the followed tables at cr3 afresh (a batch of updates). */
int proc_map_range(struct hv_domain *d, struct proc_map_queue *q, uint64_t cr3, uint64_t va,
		   uint64_t len);
void proc_map_queue_free(struct proc_map_queue *q);

/*
 * proc_as.c: which vCPUs may run guest code on the runner's one address
 * space.  proc_as_enter: 0 when v may run now, with in *batch the queued
 * changes (and the switch to v's tables) its run must apply first, and
 * *sync when they must be applied alone before it runs (proc_as_applied
 * after); 1 when a kick or the domain's end came first (v did not go in);
 * -errno when no batch could be made.  proc_as_leave after every run v
 * went in for.  proc_as_kicked: wake v if it waits.
 */
int proc_as_enter(struct hv_vcpu *v, struct proc_map_queue *batch, bool *sync);
void proc_as_applied(struct hv_vcpu *v);
void proc_as_leave(struct hv_vcpu *v);
void proc_as_kicked(struct hv_vcpu *v);
/*
 * proc_ldt.c: the guest's LDT in the runner's process.  proc_ldt_changed
 * is the engine's ldt_changed hook.  Under map_lock: whether v's LDT is
 * the one loaded; the entries that differ queued on q (v's LDT is the
 * loaded one once q has run); none loaded (a new runner).
 * proc_ldt_user_desc: the modify_ldt entry for one descriptor (0: the
 * entry cleared); false when it cannot be one, *u then clearing the entry.
 */
struct user_desc;
void proc_ldt_changed(struct hv_vcpu *v);
bool proc_ldt_same(const struct proc_dom *pd, struct proc_vcpu *pv);
int proc_ldt_load(struct hv_domain *d, struct proc_vcpu *pv, struct proc_map_queue *q);
void proc_ldt_reset(struct proc_dom *pd);
bool proc_ldt_user_desc(uint64_t desc, unsigned entry, struct user_desc *u);

/* The hooks of mmu.c: the followed tables, and the changes of a batch relative to them. */
uint64_t proc_as_mapped_base(struct hv_vcpu *v);
int proc_as_ptes_changed(struct hv_vcpu *v, const struct hv_va_range *r, unsigned n);
int proc_as_pte_changed(struct hv_vcpu *v, uint64_t va);

#endif
