// SPDX-License-Identifier: MIT
/*
 * Host cgroup files for domains: the mapping of Xen's credit parameters
 * onto the CPU controller and the directory work, with no state of its
 * own beyond the struct cg_tree the caller holds (cgroup_hv.c holds the
 * hypervisor's; tests/unit/test_cgroup.c a temporary one).
 *
 * Layout (v1 per hierarchy, v2 once):
 *   <parent>/splitvisor-<pid>/            the stack
 *   <parent>/splitvisor-<pid>/guests/     every guest together: v2 weight 25, v1 shares 256
 *   <parent>/splitvisor-<pid>/guests/dom<N>/   one domain
 * and, v2 with KVM vCPU threads only (threads of one process may sit in
 * different v2 groups only inside a threaded subtree):
 *   <parent>/splitvisor-<pid>/hv/         the hypervisor process (a threaded domain)
 *   <parent>/splitvisor-<pid>/hv/guests/  threaded, weight 25
 *   <parent>/splitvisor-<pid>/hv/guests/dom<N>/  threaded: that domain's vCPU threads
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"

uint32_t cg_weight_v2(uint32_t weight)
{
	uint64_t w = ((uint64_t)weight * 100 + 128) / 256;

	return w < 1 ? 1 : w > 10000 ? 10000 : (uint32_t)w;
}

uint64_t cg_weight_v1(uint32_t weight)
{
	uint64_t s = (uint64_t)weight * 4;

	return s < 2 ? 2 : s > 262144 ? 262144 : s;
}

uint64_t cg_cap_quota_us(uint32_t cap)
{
	return (uint64_t)cap * CG_PERIOD_US / 100;
}

int cg_sched_check(uint32_t weight, uint32_t cap, uint32_t vcpus)
{
	if (weight < 1 || weight > 65535)
		return -EINVAL;
	if ((uint64_t)cap > (uint64_t)vcpus * 100)
		return -EINVAL;
	return 0;
}

int cg_write(const struct cg_tree *t, const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, ret = 0;
	size_t len = strlen(val);

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC | (t->plain ? O_CREAT | O_TRUNC : 0), 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/* A test tree holds plain files: they go before the directory can. */
static void plain_clear(const struct cg_tree *t, const char *dir)
{
	DIR *d;
	struct dirent *e;

	if (!t->plain || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		char p[800];
		if (e->d_type != DT_REG)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
}

/* rmdir, waiting up to ~1 s for tasks that are still exiting (v1 EBUSY). */
static int remove_dir(const struct cg_tree *t, const char *dir)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };

	plain_clear(t, dir);
	for (int i = 0; i < 100; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&nap, NULL);
	}
	return -EBUSY;
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void sub(char *out, size_t len, const char *base, const char *leaf)
{
	snprintf(out, len, "%s/%s", base, leaf);
}

void cg_dom_dir(const struct cg_tree *t, uint32_t domid, bool threads, bool mem, char *out,
		size_t len)
{
	const char *base = mem ? t->mem : t->cpu;
	bool in_hv = t->version == 2 && threads && !mem;

	snprintf(out, len, "%s%s/guests/dom%" PRIu32, base, in_hv ? "/hv" : "", domid);
}

int cg_tree_init(struct cg_tree *t, int version, const char *cpu_parent, const char *mem_parent,
		 pid_t self, bool plain)
{
	char g[320];
	int ret;

	memset(t, 0, sizeof(*t));
	t->plain = plain;
	t->self = self;
	if (version != 1 && version != 2)
		return -EINVAL;
	if ((size_t)snprintf(t->cpu, sizeof(t->cpu), "%s/splitvisor-%d", cpu_parent, (int)self) >=
	    sizeof(t->cpu))
		return -ENAMETOOLONG;
	ret = make_dir(t->cpu);
	if (ret)
		return ret;
	t->version = version;
	sub(g, sizeof(g), t->cpu, "guests");
	if (version == 2) {
		/* The memory controller where the root offers it; cpu is required. */
		ret = cg_write(t, t->cpu, "cgroup.subtree_control", "+cpu");
		if (!ret && !cg_write(t, t->cpu, "cgroup.subtree_control", "+memory"))
			snprintf(t->mem, sizeof(t->mem), "%s", t->cpu);
		if (!ret)
			ret = make_dir(g);
		if (!ret)
			ret = cg_write(t, g, "cpu.weight", CG_GUESTS_WEIGHT_V2);
		if (!ret)
			ret = cg_write(t, g, "cgroup.subtree_control",
				       t->mem[0] ? "+cpu +memory" : "+cpu");
	} else {
		ret = make_dir(g);
		if (!ret)
			ret = cg_write(t, g, "cpu.shares", CG_GUESTS_SHARES_V1);
		if (!ret && mem_parent &&
		    (size_t)snprintf(t->mem, sizeof(t->mem), "%s/splitvisor-%d", mem_parent,
				     (int)self) < sizeof(t->mem)) {
			char mg[320];
			sub(mg, sizeof(mg), t->mem, "guests");
			if (make_dir(t->mem) || make_dir(mg)) {
				rmdir(t->mem);
				t->mem[0] = '\0';
			}
		}
	}
	if (ret) {
		cg_tree_fini(t);
		t->version = 0;
	}
	return ret;
}

void cg_tree_fini(struct cg_tree *t)
{
	char g[320];

	if (!t->version)
		return;
	if (t->threaded) {
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", (int)t->self);
		sub(g, sizeof(g), t->cpu, "hv/guests");
		remove_dir(t, g);
		/* Back where it came from, so hv/ can go. */
		if (t->home[0])
			cg_write(t, t->home, "cgroup.procs", pid);
		sub(g, sizeof(g), t->cpu, "hv");
		remove_dir(t, g);
		t->threaded = false;
	}
	if (t->mem[0] && strcmp(t->mem, t->cpu)) {
		sub(g, sizeof(g), t->mem, "guests");
		remove_dir(t, g);
		remove_dir(t, t->mem);
	}
	sub(g, sizeof(g), t->cpu, "guests");
	remove_dir(t, g);
	remove_dir(t, t->cpu);
}

int cg_tree_threaded(struct cg_tree *t)
{
	char hv[320], g[320], pid[32];
	int ret;

	if (t->version != 2 || t->threaded)
		return t->version ? 0 : -ENOENT;
	sub(hv, sizeof(hv), t->cpu, "hv");
	sub(g, sizeof(g), t->cpu, "hv/guests");
	snprintf(pid, sizeof(pid), "%d", (int)t->self);
	/*
	 * Order matters to the kernel: hv/ becomes a thread root (a threaded
	 * child) before it has tasks and controllers; the cpu controller,
	 * threaded, may then be enabled in it beside the hypervisor's threads.
	 */
	ret = make_dir(hv);
	if (!ret)
		ret = make_dir(g);
	if (!ret)
		ret = cg_write(t, g, "cgroup.type", "threaded");
	if (!ret)
		ret = cg_write(t, hv, "cgroup.procs", pid);
	if (!ret)
		ret = cg_write(t, hv, "cgroup.subtree_control", "+cpu");
	if (!ret)
		ret = cg_write(t, g, "cpu.weight", CG_GUESTS_WEIGHT_V2);
	if (!ret)
		ret = cg_write(t, g, "cgroup.subtree_control", "+cpu");
	if (ret) {
		if (t->home[0])
			cg_write(t, t->home, "cgroup.procs", pid);
		remove_dir(t, g);
		remove_dir(t, hv);
		return ret;
	}
	t->threaded = true;
	return 0;
}

int cg_dom_create(struct cg_tree *t, uint32_t domid, bool threads)
{
	char dir[320];
	int ret;

	if (!t->version)
		return -ENOENT;
	if (t->version == 2 && threads) {
		ret = cg_tree_threaded(t);
		if (ret)
			return ret;
	}
	cg_dom_dir(t, domid, threads, false, dir, sizeof(dir));
	ret = make_dir(dir);
	if (!ret && t->version == 2 && threads)
		ret = cg_write(t, dir, "cgroup.type", "threaded");
	if (ret)
		return ret;
	if (t->mem[0] && !threads && strcmp(t->mem, t->cpu)) {
		cg_dom_dir(t, domid, threads, true, dir, sizeof(dir));
		if (make_dir(dir))
			t->mem[0] = '\0'; /* not writable after all: go on without */
	}
	return 0;
}

int cg_dom_sched(struct cg_tree *t, uint32_t domid, bool threads, uint32_t weight, uint32_t cap)
{
	char dir[320], val[64];
	uint64_t quota = cg_cap_quota_us(cap);
	int ret;

	if (!t->version)
		return -ENOENT;
	cg_dom_dir(t, domid, threads, false, dir, sizeof(dir));
	if (t->version == 2) {
		snprintf(val, sizeof(val), "%" PRIu32, cg_weight_v2(weight));
		ret = cg_write(t, dir, "cpu.weight", val);
		if (quota)
			snprintf(val, sizeof(val), "%" PRIu64 " %u", quota, CG_PERIOD_US);
		else
			snprintf(val, sizeof(val), "max %u", CG_PERIOD_US);
		if (!ret)
			ret = cg_write(t, dir, "cpu.max", val);
		return ret;
	}
	snprintf(val, sizeof(val), "%" PRIu64, cg_weight_v1(weight));
	ret = cg_write(t, dir, "cpu.shares", val);
	/* The period first: a quota is checked against the period in place. */
	snprintf(val, sizeof(val), "%u", CG_PERIOD_US);
	if (!ret)
		ret = cg_write(t, dir, "cpu.cfs_period_us", val);
	snprintf(val, sizeof(val), "%" PRId64, quota ? (int64_t)quota : (int64_t)-1);
	if (!ret)
		ret = cg_write(t, dir, "cpu.cfs_quota_us", val);
	return ret;
}

int cg_dom_memory(struct cg_tree *t, uint32_t domid, uint64_t bytes)
{
	char dir[320], val[32];

	if (!t->version || !t->mem[0])
		return -ENOENT;
	cg_dom_dir(t, domid, false, true, dir, sizeof(dir));
	if (t->version == 2) {
		if (bytes)
			snprintf(val, sizeof(val), "%" PRIu64, bytes);
		else
			snprintf(val, sizeof(val), "max");
		return cg_write(t, dir, "memory.max", val);
	}
	snprintf(val, sizeof(val), "%" PRId64, bytes ? (int64_t)bytes : (int64_t)-1);
	return cg_write(t, dir, "memory.limit_in_bytes", val);
}

int cg_dom_add(struct cg_tree *t, uint32_t domid, bool threads, pid_t id)
{
	char dir[320], val[32];
	int ret;

	if (!t->version)
		return -ENOENT;
	snprintf(val, sizeof(val), "%d", (int)id);
	cg_dom_dir(t, domid, threads, false, dir, sizeof(dir));
	/* v1: tasks takes one thread, cgroup.procs a whole process; v2: cgroup.threads,
	 * cgroup.procs. */
	ret = cg_write(
	    t, dir, threads ? (t->version == 2 ? "cgroup.threads" : "tasks") : "cgroup.procs", val);
	if (!ret && !threads && t->mem[0] && strcmp(t->mem, t->cpu)) {
		cg_dom_dir(t, domid, false, true, dir, sizeof(dir));
		ret = cg_write(t, dir, "cgroup.procs", val);
	}
	return ret;
}

int cg_dom_remove(struct cg_tree *t, uint32_t domid, bool threads)
{
	char dir[320];
	int ret, r2 = 0;

	if (!t->version)
		return -ENOENT;
	cg_dom_dir(t, domid, threads, false, dir, sizeof(dir));
	ret = remove_dir(t, dir);
	if (t->mem[0] && !threads && strcmp(t->mem, t->cpu)) {
		cg_dom_dir(t, domid, false, true, dir, sizeof(dir));
		r2 = remove_dir(t, dir);
	}
	return ret ? ret : r2;
}

/* Depth first: a group goes once its children have. */
static void remove_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d && depth < 4) {
		while ((e = readdir(d))) {
			char p[1024];
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			remove_tree(p, depth + 1);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

void cg_sweep(const char *parent, pid_t self)
{
	DIR *dir = opendir(parent);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		int pid;
		char tail, path[800];
		if (sscanf(e->d_name, "splitvisor-%d%c", &pid, &tail) != 1 || pid <= 0 ||
		    pid == self || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		remove_tree(path, 0);
	}
	closedir(dir);
}
