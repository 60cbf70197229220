// SPDX-License-Identifier: MIT
/*
 * sv-runner's seccomp filter, installed for real in a child process: the
 * calls the runner needs pass, and everything a hostile guest might try
 * (other calls, other ABIs, mmap of anything but its memory or outside
 * its window) raises SIGSYS.  The same for a low-window runner (uid of its
 * own, CAP_SYS_RAWIO alone): its memory maps at VA 0, nothing else more.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
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
#include "../../hypervisor/proc/runner/low_window.h"

#define DENIED 42
#define ALLOWED 7

#define NO_CREDS 5
#define LOW_UID (SV_PROC_LOW_UID_BASE + 4242)

/* As the runner's: the unused argument registers are 0 (prctl checks them). */
static long libc_sys3(long nr, long a, long b, long c)
{
	long r = syscall(nr, a, b, c, 0L, 0L, 0L);
	return r < 0 ? -errno : r;
}

/*
 * Run fn in a child under the filter: ALLOWED if the call went through,
 * DENIED if SIGSYS killed it.  No handler: a sanitizer's signal wrappers
 * would make system calls of their own under the filter.  low: first take
 * the low window's credentials as the runner does (NO_CREDS if they
 * cannot be had).
 */
static int under_filter_as(void (*fn)(void), bool low)
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
		const char *step;
		if (low && sv_low_window_creds(libc_sys3, LOW_UID, &step) < 0)
			_exit(NO_CREDS);
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

static int under_filter(void (*fn)(void))
{
	return under_filter_as(fn, false);
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

/* modify_ldt: one 16-byte entry written (the guest's LDT), nothing else of it. */
static long ldt_call(long func, unsigned long len)
{
	static struct {
		uint32_t entry, base, limit, flags;
	} desc = { 1, 0x2000, 0xfffff, 0x11 }; /* 32-bit data, limit in pages */
	return syscall(SYS_modify_ldt, func, &desc, len);
}
static void do_ldt_write(void)
{
	if (ldt_call(0x11, 16) != 0)
		syscall(SYS_exit_group, 3);
	/* The entry is in this process's LDT: its selector (index 1, TI, RPL 3) loads. */
	__asm__ volatile("mov %0, %%gs" : : "r"(0xf) : "memory");
}
static void do_ldt_write_old_mode(void)
{
	ldt_call(1, 16);
}
static void do_ldt_read(void)
{
	ldt_call(0, 16);
}
static void do_ldt_write_short(void)
{
	ldt_call(0x11, 12);
}
static void do_ldt_write_high(void)
{
	ldt_call((1L << 32) | 0x11, 16);
}

/* The low window: the guest's memory at VA 0, below vm.mmap_min_addr. */
static void do_mmap_guest_at_0(void)
{
	if (raw_mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_FIXED,
		     SV_PROC_MEMFD, 0) != 0)
		syscall(SYS_exit_group, 3);
	/* ...and again over itself, as the runner remaps a changed range. */
	if (raw_mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD, 4096) != 0)
		syscall(SYS_exit_group, 4);
}
static void do_drop_rawio_then_mmap_at_0(void)
{
	struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	/* Not under the filter (capset is denied there): see under_filter_as's caller. */
	if (syscall(SYS_capset, &ch, cd))
		syscall(SYS_exit_group, 5);
	if (raw_mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD, 0) != -1 ||
	    errno != EPERM)
		syscall(SYS_exit_group, 6);
}
static void do_mmap_anon_at_0(void)
{
	raw_mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}
static void do_capset_all(void)
{
	struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2] = { { ~0u, ~0u, 0 }, { ~0u, ~0u, 0 } };
	syscall(SYS_capset, &ch, cd);
}
static void do_setuid_0(void)
{
	syscall(SYS_setresuid, 0, 0, 0);
}
static void do_ioperm(void)
{
	syscall(SYS_ioperm, 0x80, 1, 1);
}
static void do_iopl(void)
{
	syscall(SYS_iopl, 3);
}
static void do_open_dev_mem(void)
{
	syscall(SYS_openat, AT_FDCWD, "/dev/mem", O_RDONLY);
}
static void do_mremap_to_0(void)
{
	syscall(SYS_mremap, 0x40000000, 4096, 4096, 3 /* MAYMOVE | FIXED */, 0);
}
static void do_ptrace_attach(void)
{
	syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0);
}

/*
 * A low-window runner: the filter is the same, and it still refuses
 * everything but the guest's memory, even at 0; what the credentials
 * grant is only that mapping.  Needs a root test (CAP_SETUID, CAP_SETPCAP)
 * to take them; without, taking them must fail.
 */
START_TEST(low_window_maps_guest_memory_at_0_only)
{
	if (geteuid() != 0) {
		ck_assert_int_eq(under_filter_as(do_gettid, true), NO_CREDS);
		return;
	}
	ck_assert_int_eq(under_filter_as(do_gettid, true), ALLOWED);
	ck_assert_int_eq(under_filter_as(do_mmap_guest_at_0, true), ALLOWED);
	ck_assert_int_eq(under_filter_as(do_mmap_guest, true), ALLOWED);
	ck_assert_int_eq(under_filter_as(do_munmap_guest, true), ALLOWED);
	ck_assert_int_eq(under_filter_as(do_mmap_anon_at_0, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_mmap_other_fd, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_mmap_private, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_mmap_runner, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_mmap_long, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_mprotect, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_mremap_to_0, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_capset_all, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_setuid_0, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_ioperm, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_iopl, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_open_dev_mem, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_ptrace_attach, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_kill, true), DENIED);
	ck_assert_int_eq(under_filter_as(do_execve, true), DENIED);
}
END_TEST

/* What makes the mapping at 0 possible is CAP_SYS_RAWIO: without it the kernel refuses. */
START_TEST(low_window_needs_cap_sys_rawio)
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		return;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *step;
		int memfd = memfd_create("filter-test", 0);
		if (memfd < 0 || ftruncate(memfd, 1 << 20) < 0 || dup2(memfd, SV_PROC_MEMFD) < 0)
			_exit(1);
		if (sv_low_window_creds(libc_sys3, LOW_UID, &step) < 0)
			_exit(NO_CREDS);
		/* uid and securebits as the runner's, and nothing to map at 0 with. */
		if (getuid() != LOW_UID || prctl(PR_GET_SECUREBITS) != SV_LOW_WINDOW_SECUREBITS)
			_exit(2);
		do_drop_rawio_then_mmap_at_0();
		_exit(ALLOWED);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), ALLOWED);
}
END_TEST

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

START_TEST(modify_ldt_writes_one_entry_only)
{
	ck_assert_int_eq(under_filter(do_ldt_write), ALLOWED);
	ck_assert_int_eq(under_filter(do_ldt_write_old_mode), DENIED);
	ck_assert_int_eq(under_filter(do_ldt_read), DENIED);
	ck_assert_int_eq(under_filter(do_ldt_write_short), DENIED);
	ck_assert_int_eq(under_filter(do_ldt_write_high), DENIED);
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
	tcase_add_test(tc, modify_ldt_writes_one_entry_only);
	tcase_add_test(tc, low_window_maps_guest_memory_at_0_only);
	tcase_add_test(tc, low_window_needs_cap_sys_rawio);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
