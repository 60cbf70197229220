// SPDX-License-Identifier: MIT
/*
 * A CPU cgroup per runner where the host offers one: cgroup v2 where its
 * cpu controller is enabled at the root, else v1's cpu hierarchy.  The
 * stack's runners live under splitvisor-<hypervisor pid>/runner-<pid> with a
 * quarter of the default weight, so guests that spin give way to dom0.
 * Where neither is writable the engine says so once and goes on with
 * nice alone.  State is owned by this file and set once at start-up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "proc.h"

static char parent[256];     /* the stack's cgroup; empty: none */
static const char *weight_file, *weight_value;

void proc_cgroup_fini(void);

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static bool v2_has_cpu(void)
{
	char buf[256] = "";
	FILE *f = fopen("/sys/fs/cgroup/cgroup.subtree_control", "r");
	bool ok = false;

	if (f) {
		ok = fgets(buf, sizeof(buf), f) && strstr(buf, "cpu");
		fclose(f);
	}
	return ok;
}

/* Remove what dead stacks left: splitvisor-<pid> dirs whose pid is gone. */
static void sweep(const char *root)
{
	DIR *dir = opendir(root);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		int pid;
		char path[512];
		if (sscanf(e->d_name, "splitvisor-%d", &pid) != 1 || pid == getpid() ||
		    kill(pid, 0) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		DIR *sub = opendir(path);
		struct dirent *c;
		while (sub && (c = readdir(sub))) {
			char child[800];
			if (strncmp(c->d_name, "runner-", 7) || c->d_type != DT_DIR)
				continue;
			snprintf(child, sizeof(child), "%s/%s", path, c->d_name);
			rmdir(child);
		}
		if (sub)
			closedir(sub);
		rmdir(path);
	}
	closedir(dir);
}

void proc_cgroup_init(void)
{
	const char *root = NULL;

	if (v2_has_cpu()) {
		root = "/sys/fs/cgroup";
		weight_file = "cpu.weight";
		weight_value = "25";
	} else if (access("/sys/fs/cgroup/cpu/cpu.shares", W_OK) == 0 ||
		   access("/sys/fs/cgroup/cpu/cgroup.procs", W_OK) == 0) {
		root = "/sys/fs/cgroup/cpu";
		weight_file = "cpu.shares";
		weight_value = "256";
	}
	if (!root) {
		hv_log("process engine: no writable CPU cgroup; guests are bounded by nice alone");
		return;
	}
	sweep(root);
	snprintf(parent, sizeof(parent), "%s/splitvisor-%d", root, (int)getpid());
	if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
		hv_log("process engine: cannot create %s (%s); guests are bounded by nice alone", parent,
		       strerror(errno));
		parent[0] = '\0';
		return;
	}
	hv_log("process engine: guests run in %s/runner-<pid> (%s %s)", parent, weight_file,
	       weight_value);
	atexit(proc_cgroup_fini);
}

/* Put the runner in its own cgroup; failures are logged, never fatal. */
void proc_cgroup_add(struct hv_domain *d, pid_t pid)
{
	char dir[320], num[32];
	int ret;

	if (!parent[0])
		return;
	snprintf(dir, sizeof(dir), "%s/runner-%d", parent, (int)pid);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		hv_log("create '%s': cannot create %s: %s", d->name, dir, strerror(errno));
		return;
	}
	snprintf(num, sizeof(num), "%d", (int)pid);
	ret = write_str(dir, weight_file, weight_value);
	if (!ret)
		ret = write_str(dir, "cgroup.procs", num);
	if (ret)
		hv_log("create '%s': cannot place its runner in %s: %s", d->name, dir, strerror(-ret));
}

/* After the runner is gone: its cgroup goes too. */
void proc_cgroup_remove(pid_t pid)
{
	char dir[320];

	if (!parent[0])
		return;
	snprintf(dir, sizeof(dir), "%s/runner-%d", parent, (int)pid);
	rmdir(dir);
}

void proc_cgroup_fini(void)
{
	if (parent[0])
		rmdir(parent);
}
