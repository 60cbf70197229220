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
	pthread_mutex_t map_lock; /* mapped_cr3, and walks of the tables it names */
	uint64_t mapped_cr3;	  /* the tables the runner's address space follows; 0: none */
};

struct proc_vcpu {
	struct sv_proc_vcpu *blk; /* shared with the runner (and so the guest) */
	pid_t tid;		  /* its host thread, read once at start-up */
	uint64_t spin_budget;	  /* TSC cycles handoff spins before it sleeps (adaptive) */
	/*
	 * Mapping changes this vCPU's hypercalls made, applied by its next
	 * run before it runs guest code again (the address space is shared,
	 * so every vCPU sees them from then on).  Only its thread touches it.
	 */
	struct proc_map_queue queue;
	/*
	 * The registers as the block holds them (read at the last exit or
	 * written at the last run): a run writes only those that changed, so
	 * the cache lines of the others stay with the runner's CPU.
	 */
	uint64_t regs_in_blk[SV_PROC_NR_REGS];
	bool regs_in_blk_ok;
	uint32_t fast_in_blk; /* SV_PROC_FAST_* as last written */
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
int proc_spawn(struct hv_domain *d, char *why, size_t len);
/* SIGKILL the runner; the reaper sees it go. */
void proc_kill(struct hv_domain *d);
void proc_reap(struct hv_domain *d);

/* proc_map.c: the runner's address space follows the guest's page tables. */
int proc_map_queue_op(struct proc_map_queue *q, const struct sv_proc_map *op);
/* Queue on v the whole address space of the tables at cr3 (replacing what was mapped). */
int proc_map_rebuild(struct hv_vcpu *v, uint64_t cr3);
/* Queue on v the new mapping of one page after its level-1 entry changed. */
int proc_map_page(struct hv_vcpu *v, uint64_t cr3, uint64_t va);
/* Queue on v what differs between the tables it follows and those at cr3, and follow cr3. */
int proc_map_switch(struct hv_vcpu *v, uint64_t cr3);
/* Queue on v the mappings of [va, va + len) afresh, after a batch of table updates. */
int proc_map_range(struct hv_vcpu *v, uint64_t cr3, uint64_t va, uint64_t len);
void proc_map_queue_free(struct proc_map_queue *q);

#endif
