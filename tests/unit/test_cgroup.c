// SPDX-License-Identifier: MIT
/*
 * hypervisor/cgroup.c: the mapping of Xen's credit weight and cap onto the
 * CPU controller, and the files and directories it writes, against a
 * temporary directory laid out as a cgroup tree (v1 and v2).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../hypervisor/cgroup.h"

static char tmp[64];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_cgroup.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

/* The content of base/rel ("" if missing), without a trailing newline. */
static const char *slurp(const char *base, const char *rel)
{
	static char buf[256];
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static bool is_dir(const char *base, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void mk(const char *base, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

START_TEST(weight_maps_to_v2_and_v1)
{
	ck_assert_uint_eq(cg_weight_v2(256), 100);
	ck_assert_uint_eq(cg_weight_v2(512), 200);
	ck_assert_uint_eq(cg_weight_v2(128), 50);
	ck_assert_uint_eq(cg_weight_v2(1), 1); /* 0.39 rounds to 0: clamped up */
	ck_assert_uint_eq(cg_weight_v2(25600), 10000);
	ck_assert_uint_eq(cg_weight_v2(65535), 10000); /* clamped to v2's top */
	ck_assert_uint_eq(cg_weight_v1(256), 1024);
	ck_assert_uint_eq(cg_weight_v1(512), 2048);
	ck_assert_uint_eq(cg_weight_v1(1), 4);
	ck_assert_uint_eq(cg_weight_v1(65535), 262140);
}
END_TEST

START_TEST(cap_maps_to_quota)
{
	ck_assert_uint_eq(cg_cap_quota_us(0), 0);
	ck_assert_uint_eq(cg_cap_quota_us(1), 1000);
	ck_assert_uint_eq(cg_cap_quota_us(25), 25000);
	ck_assert_uint_eq(cg_cap_quota_us(100), CG_PERIOD_US);
	ck_assert_uint_eq(cg_cap_quota_us(400), 4 * CG_PERIOD_US);
	ck_assert_uint_eq(cg_cap_quota_us(12800), 128ull * CG_PERIOD_US);
}
END_TEST

START_TEST(ranges_are_checked)
{
	ck_assert_int_eq(cg_sched_check(256, 0, 1), 0);
	ck_assert_int_eq(cg_sched_check(1, 100, 1), 0);
	ck_assert_int_eq(cg_sched_check(65535, 200, 2), 0);
	ck_assert_int_eq(cg_sched_check(0, 0, 1), -EINVAL);
	ck_assert_int_eq(cg_sched_check(65536, 0, 1), -EINVAL);
	ck_assert_int_eq(cg_sched_check(UINT32_MAX, 0, 1), -EINVAL);
	ck_assert_int_eq(cg_sched_check(256, 101, 1), -EINVAL);
	ck_assert_int_eq(cg_sched_check(256, 201, 2), -EINVAL);
	ck_assert_int_eq(cg_sched_check(256, UINT32_MAX, 128), -EINVAL);
}
END_TEST

START_TEST(v1_tree_files)
{
	struct cg_tree t;
	char cpu[128], mem[128];

	mk(tmp, "cpu");
	mk(tmp, "mem");
	snprintf(cpu, sizeof(cpu), "%s/cpu", tmp);
	snprintf(mem, sizeof(mem), "%s/mem", tmp);
	ck_assert_int_eq(cg_tree_init(&t, 1, cpu, mem, 4242, true), 0);
	ck_assert(is_dir(cpu, "splitvisor-4242/guests"));
	ck_assert(is_dir(mem, "splitvisor-4242/guests"));
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/cpu.shares"), "256");

	/* A process domain: cpu and memory groups, weight and cap, its runner in both. */
	ck_assert_int_eq(cg_dom_create(&t, 7, false), 0);
	ck_assert_int_eq(cg_dom_sched(&t, 7, false, 512, 25), 0);
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom7/cpu.shares"), "2048");
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom7/cpu.cfs_period_us"), "100000");
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom7/cpu.cfs_quota_us"), "25000");
	ck_assert_int_eq(cg_dom_sched(&t, 7, false, 256, 0), 0);
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom7/cpu.shares"), "1024");
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom7/cpu.cfs_quota_us"), "-1");
	ck_assert_int_eq(cg_dom_memory(&t, 7, 48ull << 20), 0);
	ck_assert_str_eq(slurp(mem, "splitvisor-4242/guests/dom7/memory.limit_in_bytes"),
			 "50331648");
	ck_assert_int_eq(cg_dom_add(&t, 7, false, 1234), 0);
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom7/cgroup.procs"), "1234");
	ck_assert_str_eq(slurp(mem, "splitvisor-4242/guests/dom7/cgroup.procs"), "1234");

	/* A KVM domain on v1: the same place, one thread at a time through tasks; no memory group.
	 */
	ck_assert_int_eq(cg_dom_create(&t, 8, true), 0);
	ck_assert(!is_dir(mem, "splitvisor-4242/guests/dom8"));
	ck_assert_int_eq(cg_dom_add(&t, 8, true, 5555), 0);
	ck_assert_str_eq(slurp(cpu, "splitvisor-4242/guests/dom8/tasks"), "5555");

	ck_assert_int_eq(cg_dom_remove(&t, 7, false), 0);
	ck_assert_int_eq(cg_dom_remove(&t, 8, true), 0);
	ck_assert(!is_dir(cpu, "splitvisor-4242/guests/dom7"));
	ck_assert(!is_dir(mem, "splitvisor-4242/guests/dom7"));
	ck_assert(!is_dir(cpu, "splitvisor-4242/guests/dom8"));
	cg_tree_fini(&t);
	ck_assert(!is_dir(cpu, "splitvisor-4242"));
	ck_assert(!is_dir(mem, "splitvisor-4242"));
}
END_TEST

START_TEST(v2_tree_files)
{
	struct cg_tree t;
	char root[128];

	mk(tmp, "v2");
	mk(tmp, "v2/home");
	snprintf(root, sizeof(root), "%s/v2", tmp);
	ck_assert_int_eq(cg_tree_init(&t, 2, root, NULL, 4243, true), 0);
	ck_assert_str_eq(t.mem, t.cpu); /* one hierarchy */
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/cpu.weight"), "25");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/cgroup.subtree_control"),
			 "+cpu +memory");

	ck_assert_int_eq(cg_dom_create(&t, 3, false), 0);
	ck_assert_int_eq(cg_dom_sched(&t, 3, false, 512, 25), 0);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/dom3/cpu.weight"), "200");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/dom3/cpu.max"), "25000 100000");
	ck_assert_int_eq(cg_dom_sched(&t, 3, false, 1, 0), 0);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/dom3/cpu.weight"), "1");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/dom3/cpu.max"), "max 100000");
	ck_assert_int_eq(cg_dom_memory(&t, 3, 1ull << 30), 0);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/dom3/memory.max"), "1073741824");
	ck_assert_int_eq(cg_dom_add(&t, 3, false, 99), 0);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/guests/dom3/cgroup.procs"), "99");

	/* KVM vCPU threads: the hypervisor moves into hv/, a threaded subtree below it. */
	snprintf(t.home, sizeof(t.home), "%s/home", root);
	ck_assert_int_eq(cg_dom_create(&t, 4, true), 0);
	ck_assert(t.threaded);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/cgroup.procs"), "4243");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/cgroup.subtree_control"), "+cpu");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/guests/cgroup.type"), "threaded");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/guests/cpu.weight"), "25");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/guests/dom4/cgroup.type"), "threaded");
	ck_assert_int_eq(cg_dom_sched(&t, 4, true, 65535, 150), 0);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/guests/dom4/cpu.weight"), "10000");
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/guests/dom4/cpu.max"), "150000 100000");
	ck_assert_int_eq(cg_dom_add(&t, 4, true, 4250), 0);
	ck_assert_str_eq(slurp(root, "splitvisor-4243/hv/guests/dom4/cgroup.threads"), "4250");
	/* A memory limit is for process domains only (memory is no threaded controller). */
	ck_assert(!is_dir(root, "splitvisor-4243/guests/dom4"));

	ck_assert_int_eq(cg_dom_remove(&t, 3, false), 0);
	ck_assert_int_eq(cg_dom_remove(&t, 4, true), 0);
	cg_tree_fini(&t);
	ck_assert(!is_dir(root, "splitvisor-4243"));
	/* It went home before hv/ could go. */
	ck_assert_str_eq(slurp(root, "home/cgroup.procs"), "4243");
}
END_TEST

START_TEST(nothing_without_a_tree)
{
	struct cg_tree t;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(cg_dom_create(&t, 1, false), -ENOENT);
	ck_assert_int_eq(cg_dom_sched(&t, 1, false, 256, 0), -ENOENT);
	ck_assert_int_eq(cg_dom_memory(&t, 1, 1), -ENOENT);
	ck_assert_int_eq(cg_dom_add(&t, 1, false, 1), -ENOENT);
	ck_assert_int_eq(cg_tree_init(&t, 3, tmp, NULL, 1, true), -EINVAL);
	/* A parent that is not there: an error, and nothing made. */
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/nope", tmp);
	ck_assert_int_eq(cg_tree_init(&t, 1, missing, NULL, 1, true), -ENOENT);
	ck_assert_int_eq(t.version, 0);
}
END_TEST

START_TEST(sweep_removes_dead_stacks_only)
{
	pid_t dead = fork();

	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);

	char d[64], live[64];
	snprintf(d, sizeof(d), "splitvisor-%d", (int)dead);
	snprintf(live, sizeof(live), "splitvisor-%d", (int)getppid()); /* alive: our parent */
	mk(tmp, d);
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/guests", d);
	mk(tmp, sub);
	snprintf(sub, sizeof(sub), "%s/guests/dom5", d);
	mk(tmp, sub);
	mk(tmp, live);
	mk(tmp, "splitvisor-12x");
	mk(tmp, "other");
	cg_sweep(tmp, getpid());
	ck_assert(!is_dir(tmp, d));
	ck_assert(is_dir(tmp, live));
	ck_assert(is_dir(tmp, "splitvisor-12x"));
	ck_assert(is_dir(tmp, "other"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("cgroup");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, weight_maps_to_v2_and_v1);
	tcase_add_test(tc, cap_maps_to_quota);
	tcase_add_test(tc, ranges_are_checked);
	tcase_add_test(tc, v1_tree_files);
	tcase_add_test(tc, v2_tree_files);
	tcase_add_test(tc, nothing_without_a_tree);
	tcase_add_test(tc, sweep_removes_dead_stacks_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
