// SPDX-License-Identifier: MIT
/*
 * The hypervisor's host cgroups: found once at start-up (cgroup v2 with
 * its cpu controller, else v1's cpu hierarchy, with v1's memory hierarchy
 * beside it), one group per domain holding what runs its vCPUs (the
 * process engine's runner, or the KVM engine's vCPU threads), and Xen's
 * credit parameters mapped onto it.  Layout and mapping: cgroup.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hv.h"
#include "cgroup.h"

/*
 * What the runner needs beside guest RAM.  Measured on the v1 memory
 * hierarchy (memory.max_usage_in_bytes of dom<N> with a 64 MiB guest
 * running smp, grant-selftest, xs-selftest and spin): 256 KiB with one
 * vCPU, 512 KiB with four, of which under 64 KiB are guest pages (the
 * kernel image and start pages were written, so charged, by xl).  The
 * rest is the runner's kernel objects: thread stacks, task structures and
 * page tables, which grow to 1/512 of guest RAM once it is all mapped.  So
 * the limit is RAM + RAM/256 + 16 MiB: twice the page tables, and room for
 * 128 vCPUs many times over.
 */
#define RUNNER_MEM_MARGIN (16ull << 20)

static struct cg_tree tree;
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t owner_gen[HV_MAX_DOMAINS]; /* which domain made dom<N>, under tree_lock */
static bool mem_warned;

struct mnt {
	char point[256];
	char root[256];
};

/* A mount of cgroup2 (ctrl NULL) or of the v1 hierarchy that has ctrl. */
static bool find_mount(const char *ctrl, struct mnt *m)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char root[256], point[256], fstype[64], src[256], opts[512];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*d %*d %*s %255s %255s", root, point) != 2 ||
		    sscanf(dash + 3, "%63s %255s %511s", fstype, src, opts) != 3)
			continue;
		if (!ctrl) {
			found = !strcmp(fstype, "cgroup2");
		} else if (!strcmp(fstype, "cgroup")) {
			for (char *save, *tok = strtok_r(opts, ",", &save); tok && !found;
			     tok = strtok_r(NULL, ",", &save))
				found = !strcmp(tok, ctrl);
		}
		if (found) {
			snprintf(m->point, sizeof(m->point), "%s", point);
			snprintf(m->root, sizeof(m->root), "%s", root);
		}
	}
	fclose(f);
	return found;
}

/* Our own group in the hierarchy of ctrl (NULL: v2) as a directory under its mount. */
static bool own_dir(const char *ctrl, const struct mnt *m, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[1024], path[768] = "";
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (!ctrl) {
			found = !strcmp(c1 + 1, "");
		} else {
			for (char *save, *tok = strtok_r(c1 + 1, ",", &save); tok && !found;
			     tok = strtok_r(NULL, ",", &save))
				found = !strcmp(tok, ctrl);
		}
		if (found)
			snprintf(path, sizeof(path), "%s", c2 + 1);
	}
	fclose(f);
	if (!found)
		return false;
	/* The mount shows the hierarchy from m->root down. */
	size_t rl = strlen(m->root);
	const char *rel = path;
	if (strcmp(m->root, "/") && !strncmp(path, m->root, rl) && (path[rl] == '/' || !path[rl]))
		rel = path + rl;
	if (!strcmp(rel, "/"))
		rel = "";
	return (size_t)snprintf(out, len, "%s%s", m->point, rel) < len;
}

static bool has_word(const char *file, const char *word)
{
	char buf[512] = "";
	FILE *f = fopen(file, "r");
	bool ok = false;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			for (char *save, *tok = strtok_r(buf, " \n", &save); tok && !ok;
			     tok = strtok_r(NULL, " \n", &save))
				ok = !strcmp(tok, word);
		fclose(f);
	}
	return ok;
}

static bool try_v2(void)
{
	struct mnt m;
	char f[320];
	struct cg_tree probe = { .version = 2 };

	if (!find_mount(NULL, &m))
		return false;
	snprintf(f, sizeof(f), "%s/cgroup.controllers", m.point);
	if (!has_word(f, "cpu"))
		return false; /* cpu is bound to v1 (or absent) */
	snprintf(f, sizeof(f), "%s/cgroup.subtree_control", m.point);
	if (!has_word(f, "cpu") && cg_write(&probe, m.point, "cgroup.subtree_control", "+cpu"))
		return false;
	if (!has_word(f, "memory"))
		cg_write(&probe, m.point, "cgroup.subtree_control", "+memory");
	cg_sweep(m.point, getpid());
	int ret = cg_tree_init(&tree, 2, m.point, NULL, getpid(), false);
	if (ret) {
		hv_log("cgroups: cannot set up %s/splitvisor-%d: %s", m.point, (int)getpid(),
		       strerror(-ret));
		return false;
	}
	own_dir(NULL, &m, tree.home, sizeof(tree.home));
	return true;
}

static bool try_v1(void)
{
	struct mnt cm, mm;
	char cpu[320], mem[320], f[400];
	bool have_mem;

	if (!find_mount("cpu", &cm) || !own_dir("cpu", &cm, cpu, sizeof(cpu)))
		return false;
	snprintf(f, sizeof(f), "%s/cgroup.procs", cpu);
	if (access(f, W_OK))
		return false;
	have_mem = find_mount("memory", &mm) && own_dir("memory", &mm, mem, sizeof(mem));
	cg_sweep(cpu, getpid());
	if (have_mem)
		cg_sweep(mem, getpid());
	int ret = cg_tree_init(&tree, 1, cpu, have_mem ? mem : NULL, getpid(), false);
	if (ret) {
		hv_log("cgroups: cannot set up %s/splitvisor-%d: %s", cpu, (int)getpid(),
		       strerror(-ret));
		return false;
	}
	if (have_mem && !tree.mem[0])
		hv_log("cgroups: the memory hierarchy (%s) is not writable: no memory limits", mem);
	return true;
}

static void cgroup_fini(void)
{
	pthread_mutex_lock(&tree_lock);
	cg_tree_fini(&tree);
	pthread_mutex_unlock(&tree_lock);
}

void hv_cgroup_init(void)
{
	if (!try_v2() && !try_v1()) {
		hv_log(
		    "cgroups: no writable CPU cgroup (v2 cpu controller or v1 cpu hierarchy); "
		    "guests are bounded by nice alone and sched-credit settings are only recorded");
		return;
	}
	hv_log("cgroups: v%d, domains run in %s/guests/dom<N> (guests together: %s %s)%s%s",
	       tree.version, tree.cpu, tree.version == 2 ? "cpu.weight" : "cpu.shares",
	       tree.version == 2 ? CG_GUESTS_WEIGHT_V2 : CG_GUESTS_SHARES_V1,
	       tree.mem[0] && strcmp(tree.mem, tree.cpu) ? ", memory in " : "",
	       tree.mem[0] && strcmp(tree.mem, tree.cpu) ? tree.mem : "");
	atexit(cgroup_fini);
}

void hv_cgroup_domain_create(struct hv_domain *d)
{
	bool threads = d->host_pid == 0;
	int ret;

	pthread_mutex_lock(&tree_lock);
	pthread_mutex_lock(&d->lock);
	if (!d->sched_weight)
		d->sched_weight = SV_SCHED_WEIGHT_DEFAULT;
	if (!tree.version)
		goto out;
	ret = cg_dom_create(&tree, d->domid, threads);
	if (ret) {
		hv_log("d%u: no cgroup of its own: %s", d->domid, strerror(-ret));
		goto out;
	}
	d->cg_made = true;
	owner_gen[d->domid] = d->gen;
	ret = cg_dom_sched(&tree, d->domid, threads, d->sched_weight, d->sched_cap);
	if (ret)
		hv_log("d%u: cannot set its CPU weight and cap: %s", d->domid, strerror(-ret));
	d->cg_applied = !ret;
	if (!threads) {
		if (tree.mem[0]) {
			uint64_t limit =
			    d->mem.memfd_size + d->mem.memfd_size / 256 + RUNNER_MEM_MARGIN;
			int r = cg_dom_memory(&tree, d->domid, limit);
			if (r && !mem_warned) {
				mem_warned = true;
				hv_log(
				    "cgroups: cannot set a memory limit (%s); runners go without",
				    strerror(-r));
			}
		}
		ret = cg_dom_add(&tree, d->domid, false, d->host_pid);
		if (ret)
			hv_log("d%u: cannot move its runner %d into its cgroup: %s", d->domid,
			       (int)d->host_pid, strerror(-ret));
	}
out:
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&tree_lock);
}

void hv_cgroup_domain_remove(struct hv_domain *d)
{
	if (!d->cg_made)
		return;
	pthread_mutex_lock(&tree_lock);
	if (owner_gen[d->domid] == d->gen) {
		int ret = cg_dom_remove(&tree, d->domid, d->host_pid == 0);
		if (ret)
			hv_log("d%u: cannot remove its cgroup: %s", d->domid, strerror(-ret));
		owner_gen[d->domid] = 0;
	}
	d->cg_made = false;
	pthread_mutex_unlock(&tree_lock);
}

void hv_cgroup_add_thread(struct hv_domain *d)
{
	pid_t tid = gettid();

	pthread_mutex_lock(&tree_lock);
	if (d->cg_made && owner_gen[d->domid] == d->gen) {
		int ret = cg_dom_add(&tree, d->domid, true, tid);
		if (ret)
			hv_log("d%u: cannot move vCPU thread %d into its cgroup: %s", d->domid,
			       (int)tid, strerror(-ret));
	}
	pthread_mutex_unlock(&tree_lock);
}

/*
 * d's runner was started again (proc_relaunch, d->lock held): the new
 * process joins the domain's group, as hv_cgroup_domain_create put the
 * first one there.  The tree is fixed after hv_cgroup_init, as
 * hv_sched_set relies on too.
 */
void hv_cgroup_runner_moved(struct hv_domain *d)
{
	if (!d->cg_made || !d->host_pid)
		return;
	int ret = cg_dom_add(&tree, d->domid, false, d->host_pid);
	if (ret)
		hv_log("d%u: cannot move its runner %d into its cgroup: %s", d->domid,
		       (int)d->host_pid, strerror(-ret));
}

int hv_sched_get(uint32_t domid, struct sv_ctl_sched *out)
{
	struct hv_domain *d;

	memset(out, 0, sizeof(*out));
	out->domid = domid;
	if (domid == 0) {
		/* dom0's daemons keep the host's own scheduling: reported as Xen's defaults. */
		out->weight = SV_SCHED_WEIGHT_DEFAULT;
		return 0;
	}
	d = domain_get(domid);
	if (!d)
		return -ESRCH;
	pthread_mutex_lock(&d->lock);
	out->weight = d->sched_weight ? d->sched_weight : SV_SCHED_WEIGHT_DEFAULT;
	out->cap = d->sched_cap;
	out->flags = d->cg_applied ? SV_SCHED_F_CGROUP : 0;
	pthread_mutex_unlock(&d->lock);
	domain_put(d);
	return 0;
}

int hv_sched_set(const struct sv_ctl_sched *in, struct sv_ctl_sched *out)
{
	const uint32_t domid = in->domid, weight = in->weight, cap = in->cap;
	struct hv_domain *d;
	int ret = 0;

	if (domid == 0)
		return -EPERM;
	d = domain_get(domid);
	if (!d)
		return -ESRCH;
	if (cg_sched_check(weight, cap, d->max_vcpus)) {
		domain_put(d);
		return -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	if (d->cg_made) {
		bool threads = d->host_pid == 0;
		ret = cg_dom_sched(&tree, domid, threads, weight, cap);
		if (ret) /* the host refused: put back what was in force */
			cg_dom_sched(&tree, domid, threads, d->sched_weight, d->sched_cap);
		else
			d->cg_applied = true;
	}
	if (!ret) {
		d->sched_weight = weight;
		d->sched_cap = cap;
		hv_log("d%u: credit weight %u cap %u", domid, weight, cap);
	}
	pthread_mutex_unlock(&d->lock);
	domain_put(d);
	if (ret)
		return ret;
	return hv_sched_get(domid, out);
}
