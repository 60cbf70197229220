/* SPDX-License-Identifier: MIT */
/*
 * Host cgroups for domains (cgroup.c): the credit scheduler's weight and
 * cap become cpu.weight/cpu.max (v2) or cpu.shares/cpu.cfs_* (v1), and a
 * process-engine domain's memory a limit on its runner.  The layout is in
 * docs/architecture.md ("Host cgroups").  The functions on struct cg_tree
 * touch only the directories it names, so a test can point one at a
 * temporary directory of plain files.
 */
#ifndef HV_CGROUP_H
#define HV_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Xen's credit scheduler: weight 1..65535 (default 256); cap 0 (none) or percent of one CPU. */
#define CG_PERIOD_US 100000u	 /* the CFS period a cap is a share of */
#define CG_GUESTS_WEIGHT_V2 "25" /* all guests together, against dom0's daemons */
#define CG_GUESTS_SHARES_V1 "256"

/* 256 -> 100, clamped to cgroup v2's 1..10000. */
uint32_t cg_weight_v2(uint32_t weight);
/* 256 -> 1024, clamped to v1's 2..262144. */
uint64_t cg_weight_v1(uint32_t weight);
/* The CFS quota of a cap over CG_PERIOD_US; 0 for no cap. */
uint64_t cg_cap_quota_us(uint32_t cap);
/* 0, or -EINVAL unless weight is 1..65535 and cap 0..100 x vcpus. */
int cg_sched_check(uint32_t weight, uint32_t cap, uint32_t vcpus);

struct cg_tree {
	int version;	/* 0: no usable cgroup; 1 or 2 */
	char cpu[256];	/* the stack's group: v1 cpu hierarchy, or v2 */
	char mem[256];	/* v1: the stack's group in the memory hierarchy; v2: = cpu; "": none */
	bool plain;	/* a test tree of plain files: create them, remove them */
	bool threaded;	/* v2: the hypervisor moved to cpu/hv for KVM vCPU threads */
	char home[256]; /* v2: the hypervisor's cgroup before that move */
	pid_t self;
};

/*
 * Create the stack's groups below cpu_parent (and mem_parent, v1): the
 * stack's own splitvisor-<self>, and in it guests/ at a quarter of the
 * default weight.  0 or -errno; on failure nothing is left behind.
 */
int cg_tree_init(struct cg_tree *t, int version, const char *cpu_parent, const char *mem_parent,
		 pid_t self, bool plain);
/* Remove the stack's groups (empty by then). */
void cg_tree_fini(struct cg_tree *t);
/*
 * v2: move the hypervisor process into cpu/hv and make cpu/hv/guests a
 * threaded group, so vCPU threads (KVM) can go to groups of their own.
 * v1 needs nothing.  0 or -errno.
 */
int cg_tree_threaded(struct cg_tree *t);

/* The group of domain domid: its vCPUs run as threads of ours (KVM) or in a process of their own.
 */
int cg_dom_create(struct cg_tree *t, uint32_t domid, bool threads);
int cg_dom_sched(struct cg_tree *t, uint32_t domid, bool threads, uint32_t weight, uint32_t cap);
/* The memory limit (bytes, 0: none) of a process domain's group; -ENOENT without a memory
 * hierarchy. */
int cg_dom_memory(struct cg_tree *t, uint32_t domid, uint64_t bytes);
/* Move a process (all its threads) or one thread into the domain's group. */
int cg_dom_add(struct cg_tree *t, uint32_t domid, bool threads, pid_t id);
/* Remove the group; its tasks must be gone (retries briefly while exiting ones leave). */
int cg_dom_remove(struct cg_tree *t, uint32_t domid, bool threads);
/* Directory of the domain's group in the CPU (mem false) or memory hierarchy. */
void cg_dom_dir(const struct cg_tree *t, uint32_t domid, bool threads, bool mem, char *out,
		size_t len);

/* Remove the trees of stacks that are gone: splitvisor-<pid> under parent with pid dead. */
void cg_sweep(const char *parent, pid_t self);

/* One value into dir/file; -errno. */
int cg_write(const struct cg_tree *t, const char *dir, const char *file, const char *val);

/*
 * The hypervisor's tree (cgroup_hv.c).  Failures are logged, never fatal:
 * a host without writable cgroups runs guests with nice alone.
 */
struct hv_domain;
struct sv_ctl_sched;
void hv_cgroup_init(void);
/* After d has its domid: its group, the default parameters, its runner (process engine). */
void hv_cgroup_domain_create(struct hv_domain *d);
/* After d's tasks are gone (runner reaped, vCPU threads joined). */
void hv_cgroup_domain_remove(struct hv_domain *d);
/* A vCPU thread of ours (KVM) joins its domain's group; call from that thread. */
void hv_cgroup_add_thread(struct hv_domain *d);
/* d's runner process changed (d->lock held): the new one joins d's group. */
void hv_cgroup_runner_moved(struct hv_domain *d);
/* SV_CTL_SCHED_GET / SET: 0 or -errno (-ESRCH, -EINVAL, -EPERM for dom0). */
int hv_sched_get(uint32_t domid, struct sv_ctl_sched *out);
int hv_sched_set(const struct sv_ctl_sched *in, struct sv_ctl_sched *out);

#endif
