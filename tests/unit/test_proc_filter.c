// SPDX-License-Identifier: MIT
/*
 * sv-runner's seccomp filter, installed for real in a child process: the
 * calls the runner needs pass, and everything a hostile guest might try
 * (other calls, other ABIs, mmap of anything but its memory or outside
 * its window) raises SIGSYS.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../hypervisor/proc/runner/filter.h"

#define DENIED 42
#define ALLOWED 7

/*
 * Run fn in a child under the filter: ALLOWED if the call went through,
 * DENIED if SIGSYS killed it.  No handler: a sanitizer's signal wrappers
 * would make system calls of their own under the filter.
 */
static int under_filter(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int memfd = memfd_create("filter-test", 0);
		if (memfd < 0 || ftruncate(memfd, 1 << 20) < 0 || dup2(memfd, SV_PROC_MEMFD) < 0)
			_exit(1);
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		signal(SIGSYS, SIG_DFL);
		struct sock_fprog prog = {
			.len = sizeof(sv_runner_filter) / sizeof(sv_runner_filter[0]),
			.filter = (struct sock_filter *)sv_runner_filter,
		};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(2);
		fn();
		syscall(SYS_exit_group, ALLOWED);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return DENIED;
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static long raw_mmap(uint64_t addr, uint64_t len, long prot, long flags, long fd, long off)
{
	return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void do_gettid(void)
{
	syscall(SYS_gettid);
}
static void do_futex_wake(void)
{
	static uint32_t w;
	syscall(SYS_futex, &w, FUTEX_WAKE, 1, 0, 0, 0);
}
static void do_futex_requeue(void)
{
	static uint32_t w;
	syscall(SYS_futex, &w, FUTEX_CMP_REQUEUE, 1, 0, &w, 0);
}
static void do_mmap_guest(void)
{
	raw_mmap(0x40000000, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_FIXED,
		 SV_PROC_MEMFD, 0);
}
static void do_munmap_guest(void)
{
	syscall(SYS_munmap, 0x40000000, 1 << 20);
}
static void do_open(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/sv-filter-test", O_CREAT | O_WRONLY, 0600);
}
static void do_socket(void)
{
	syscall(SYS_socket, 2, 1, 0);
}
static void do_kill(void)
{
	syscall(SYS_kill, 1, 0);
}
static void do_clone(void)
{
	syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}
static void do_execve(void)
{
	static char *const argv[] = { "/bin/true", NULL };
	syscall(SYS_execve, "/bin/true", argv, NULL);
}
static void do_mprotect(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
}
static void do_mmap_anon(void)
{
	raw_mmap(0x40000000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}
static void do_mmap_other_fd(void)
{
	raw_mmap(0x40000000, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, 0, 0);
}
static void do_mmap_private(void)
{
	raw_mmap(0x40000000, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, SV_PROC_MEMFD, 0);
}
static void do_mmap_not_fixed(void)
{
	raw_mmap(0, 4096, PROT_READ, MAP_SHARED, SV_PROC_MEMFD, 0);
}
static void do_mmap_runner(void)
{
	raw_mmap(SV_PROC_RUNNER_VA, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED,
		 SV_PROC_MEMFD, 0);
}
static void do_mmap_long(void)
{
	raw_mmap(0x40000000, SV_PROC_MAP_LEN_MAX, PROT_READ, MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD,
		 0);
}
static void do_mmap_growsdown(void)
{
	raw_mmap(0x40000000, 4096, PROT_READ | PROT_GROWSDOWN, MAP_SHARED | MAP_FIXED,
		 SV_PROC_MEMFD, 0);
}
static void do_mmap_high_flags(void)
{
	raw_mmap(0x40000000, 4096, PROT_READ, (1L << 32) | MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD,
		 0);
}
static void do_munmap_runner(void)
{
	syscall(SYS_munmap, SV_PROC_SHARED_VA, 4096);
}
/* tsc_mode's PR_SET_TSC is the runner's before the filter; never after (nor from a guest). */
static void do_prctl_set_tsc(void)
{
	syscall(SYS_prctl, 26 /* PR_SET_TSC */, 1 /* PR_TSC_ENABLE */, 0, 0, 0);
}
static void do_x32(void)
{
	syscall(0x40000000 | SYS_getpid);
}

/* arch_prctl: the two codes the runner loads guest segment bases with, and no other. */
static void do_arch_set_fs(void)
{
	uint64_t self;
	/* glibc's TCB starts with a pointer to itself: the current %fs base, kept as it is. */
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	if (syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, self) != 0)
		syscall(SYS_exit_group, 3);
}
static void do_arch_set_gs(void)
{
	if (syscall(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, 0x12345000UL) != 0)
		syscall(SYS_exit_group, 3);
}
static void do_arch_get_fs(void)
{
	uint64_t base;
	syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &base);
}
static void do_arch_set_cpuid(void)
{
	syscall(SYS_arch_prctl, 0x1012 /* ARCH_SET_CPUID */, 0);
}
static void do_arch_set_fs_high(void)
{
	/* The code compared as 64 bits: ARCH_SET_FS with a high word is another code. */
	syscall(SYS_arch_prctl, (1UL << 32) | 0x1002, 0);
}
static void do_arch_map_vdso(void)
{
	syscall(SYS_arch_prctl, 0x2001 /* ARCH_MAP_VDSO_64 */, 0x40000000UL);
}

START_TEST(arch_prctl_set_fs_gs_only)
{
	ck_assert_int_eq(under_filter(do_arch_set_fs), ALLOWED);
	ck_assert_int_eq(under_filter(do_arch_set_gs), ALLOWED);
	ck_assert_int_eq(under_filter(do_arch_get_fs), DENIED);
	ck_assert_int_eq(under_filter(do_arch_set_cpuid), DENIED);
	ck_assert_int_eq(under_filter(do_arch_set_fs_high), DENIED);
	ck_assert_int_eq(under_filter(do_arch_map_vdso), DENIED);
}
END_TEST

START_TEST(runner_calls_pass)
{
	ck_assert_int_eq(under_filter(do_gettid), ALLOWED);
	ck_assert_int_eq(under_filter(do_futex_wake), ALLOWED);
	ck_assert_int_eq(under_filter(do_mmap_guest), ALLOWED);
	ck_assert_int_eq(under_filter(do_munmap_guest), ALLOWED);
}
END_TEST

/* Code in the guest window: gettid, which the runner's own code may make. */
#define GUEST_CODE_VA 0x30000000ULL /* low: clear of ASan's shadow too */
static void do_gettid_from_guest_window(void)
{
	((void (*)(void))GUEST_CODE_VA)();
}

START_TEST(calls_from_the_guest_window_are_denied)
{
	/* mov $__NR_gettid, %eax; syscall; ret */
	static const uint8_t code[] = { 0xb8, __NR_gettid, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	void *p = mmap((void *)GUEST_CODE_VA, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	ck_assert_ptr_eq(p, (void *)GUEST_CODE_VA);
	memcpy(p, code, sizeof(code));
	ck_assert_int_eq(under_filter(do_gettid_from_guest_window), DENIED);
	ck_assert_int_eq(under_filter(do_gettid), ALLOWED); /* the same call from the runner's */
	munmap(p, 4096);
}
END_TEST

START_TEST(host_calls_are_denied)
{
	ck_assert_int_eq(under_filter(do_open), DENIED);
	ck_assert_int_eq(access("/tmp/sv-filter-test", F_OK), -1);
	ck_assert_int_eq(under_filter(do_socket), DENIED);
	ck_assert_int_eq(under_filter(do_kill), DENIED);
	ck_assert_int_eq(under_filter(do_clone), DENIED);
	ck_assert_int_eq(under_filter(do_execve), DENIED);
	ck_assert_int_eq(under_filter(do_mprotect), DENIED);
	ck_assert_int_eq(under_filter(do_futex_requeue), DENIED);
	ck_assert_int_eq(under_filter(do_x32), DENIED);
	ck_assert_int_eq(under_filter(do_prctl_set_tsc), DENIED);
}
END_TEST

START_TEST(mmap_only_guest_memory_in_the_window)
{
	ck_assert_int_eq(under_filter(do_mmap_anon), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_other_fd), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_private), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_not_fixed), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_runner), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_long), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_growsdown), DENIED);
	ck_assert_int_eq(under_filter(do_mmap_high_flags), DENIED);
	ck_assert_int_eq(under_filter(do_munmap_runner), DENIED);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc_filter");
	TCase *tc = tcase_create("filter");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, runner_calls_pass);
	tcase_add_test(tc, host_calls_are_denied);
	tcase_add_test(tc, calls_from_the_guest_window_are_denied);
	tcase_add_test(tc, mmap_only_guest_memory_in_the_window);
	tcase_add_test(tc, arch_prctl_set_fs_gs_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
