// SPDX-License-Identifier: MIT
// Words that try host system calls from guest code (containment tests), and bench-cpu.
#include <svk/console.h>
#include <svk/cpuloop.h>
#include <svk/driver_words.h>
#include <svk/hostile.h>
#include <svk/lib.h>
#include <svk/printk.h>

/*
 * A PV guest has no business making a host system call: on Xen or the KVM
 * engine the instruction faults into the hypervisor, on the process engine
 * the host kernel's seccomp filter stops it.  These words make the call
 * anyway, with the real Linux numbers and plausible arguments, so a test
 * can check the host keeps no trace: `int $0x80` and `sysenter` crash the
 * domain alone; a kernel-mode `syscall` is a hypercall (as on Xen): most
 * of these numbers are none (-ENOSYS); open's 2 is set_gdt, which refuses
 * the path string as a frame list (-EINVAL).
 *
 * Should the call ever get through, it must not hurt the host: files go
 * to hostile-path (a marker the test looks for), signals are signal 0 to
 * hostile-pid (by default a pid that cannot exist), ptrace attaches to
 * that pid, mmap refuses to replace anything, clone is a plain fork, and
 * execve runs a shell that only creates the marker.
 */

/* Linux's flag values (include/uapi); the same for both ABIs. */
#define L_O_WRONLY 01
#define L_O_CREAT 0100
#define L_AF_INET 2
#define L_SOCK_STREAM 1
#define L_PTRACE_ATTACH 16
#define L_PROT_RW 3
#define L_MAP_PRIVATE 0x02
#define L_MAP_ANONYMOUS 0x20
#define L_MAP_FIXED_NOREPLACE 0x100000
#define L_SIGCHLD 17
#define MODE_0644 0644

/* Where mmap asks for a page: above guest memory for either ABI. */
#define MMAP_ADDR64 0x100000000000ULL
#define MMAP_ADDR32 0x70000000U

/* The ways into the host kernel, and the ABI each one speaks. */
enum hostile_way {
	WAY_SYSCALL,  /* x86_64 */
	WAY_INT80,    /* i386 */
	WAY_SYSENTER, /* i386 (#UD on AMD in 64-bit mode) */
};

static const char *const way_names[] = {
	[WAY_SYSCALL] = "syscall",
	[WAY_INT80] = "int80",
	[WAY_SYSENTER] = "sysenter",
};

enum hostile_call {
	CALL_OPEN,
	CALL_CREAT,
	CALL_EXECVE,
	CALL_SOCKET,
	CALL_KILL,
	CALL_PTRACE,
	CALL_MMAP,
	CALL_CLONE,
	CALL_COUNT,
};

/* Each call's name and its numbers (arch/x86/entry/syscalls/syscall_{64,32}.tbl). */
static const struct {
	const char *name;
	unsigned int nr64;
	unsigned int nr32;
} calls[CALL_COUNT] = {
	[CALL_OPEN] = { "open", 2, 5 },
	[CALL_CREAT] = { "creat", 85, 8 },
	[CALL_EXECVE] = { "execve", 59, 11 },
	[CALL_SOCKET] = { "socket", 41, 359 },
	[CALL_KILL] = { "kill", 62, 37 },
	[CALL_PTRACE] = { "ptrace", 101, 26 },
	/* i386: old_mmap (one pointer to six words); it needs no ebp. */
	[CALL_MMAP] = { "mmap", 9, 90 },
	[CALL_CLONE] = { "clone", 56, 120 },
};

/*
 * The arguments the calls point at.  Mutable state owned by this file:
 * hostile-path and hostile-pid set it, the calls read it.  Boot vCPU only.
 */
#define PATH_MAX_LEN 128
#define SH_CMD_MAX (PATH_MAX_LEN + 8)
static char hostile_path[PATH_MAX_LEN] = "/tmp/sv-hostile-marker";
static uint64_t hostile_pid = 999999;
static const char sh_path[] = "/bin/sh";
static const char sh_dash_c[] = "-c";
static char sh_cmd[SH_CMD_MAX];
static const char *argv64[4];
static const char *envp64[1];
static uint32_t argv32[4];
static uint32_t envp32[1];
/* old_mmap's struct mmap_arg_struct: addr, len, prot, flags, fd, offset. */
static uint32_t mmap_args32[6];
/* sysenter takes the sixth argument from the 32-bit address in ebp. */
static uint32_t sysenter_frame[2];

/*
 * A pointer as an i386 argument.  The process engine runs guests linked
 * low, where this is the pointer; a guest above 4 GiB passes a cut one.
 */
static uint32_t ptr32(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* x86_64 ABI: rax = nr, rdi, rsi, rdx, r10, r8; rcx and r11 clobbered. */
static long raw_syscall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	uint64_t ret = nr;

	__asm__ __volatile__("syscall"
			     : "+a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
			     :
			     : "rcx", "r11", "memory", "cc");
	return (long)ret;
}

/*
 * i386 ABI through int $0x80: eax = nr, ebx, ecx, edx, esi, edi.  From a
 * 64-bit process Linux zeroes r8-r11 on the way back.
 */
static long raw_int80(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
	uint64_t rax = nr, rbx = a1, rcx = a2, rdx = a3, rsi = a4, rdi = a5;

	__asm__ __volatile__("int $0x80"
			     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+S"(rsi), "+D"(rdi)
			     :
			     : "r8", "r9", "r10", "r11", "memory", "cc");
	return (int32_t)(uint32_t)rax;
}

/*
 * i386 ABI through sysenter: as int $0x80, and ebp holds the address of
 * the sixth argument (the user stack the vDSO would have pushed).  The CPU
 * saves no return address: Linux "returns" to its own vDSO landing pad, so
 * coming back here is up to whatever caught the instruction.  rbp is the
 * frame pointer, hence saved around it by hand (no red zone: -mno-red-zone).
 */
static long raw_sysenter(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4,
			 uint32_t a5)
{
	uint64_t rax = nr, rbx = a1, rcx = a2, rdx = a3, rsi = a4, rdi = a5;
	uint64_t frame = ptr32(sysenter_frame);

	__asm__ __volatile__("push %%rbp\n\t"
			     "mov %k[frame], %%ebp\n\t"
			     "sysenter\n\t"
			     "pop %%rbp"
			     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+S"(rsi),
			       "+D"(rdi), [frame] "+r"(frame)
			     :
			     : "r8", "r9", "r10", "r11", "memory", "cc");
	return (int32_t)(uint32_t)rax;
}

/* Fill the argument blocks the calls point at from hostile-path. */
static void prepare_args(void)
{
	ksnprintf(sh_cmd, sizeof(sh_cmd), ": > %s", hostile_path);
	argv64[0] = sh_path;
	argv64[1] = sh_dash_c;
	argv64[2] = sh_cmd;
	argv64[3] = NULL;
	envp64[0] = NULL;
	argv32[0] = ptr32(sh_path);
	argv32[1] = ptr32(sh_dash_c);
	argv32[2] = ptr32(sh_cmd);
	argv32[3] = 0;
	envp32[0] = 0;
	mmap_args32[0] = MMAP_ADDR32;
	mmap_args32[1] = 4096;
	mmap_args32[2] = L_PROT_RW;
	mmap_args32[3] = L_MAP_PRIVATE | L_MAP_ANONYMOUS | L_MAP_FIXED_NOREPLACE;
	mmap_args32[4] = (uint32_t)-1;
	mmap_args32[5] = 0;
	sysenter_frame[0] = 0;
	sysenter_frame[1] = 0;
}

/* The five arguments of @c for the x86_64 ABI. */
static void args64(enum hostile_call c, uint64_t a[5])
{
	uint64_t path = (uintptr_t)hostile_path;

	memset(a, 0, 5 * sizeof(a[0]));
	switch (c) {
	case CALL_OPEN:
		a[0] = path, a[1] = L_O_WRONLY | L_O_CREAT, a[2] = MODE_0644;
		break;
	case CALL_CREAT:
		a[0] = path, a[1] = MODE_0644;
		break;
	case CALL_EXECVE:
		a[0] = (uintptr_t)sh_path, a[1] = (uintptr_t)argv64, a[2] = (uintptr_t)envp64;
		break;
	case CALL_SOCKET:
		a[0] = L_AF_INET, a[1] = L_SOCK_STREAM, a[2] = 0;
		break;
	case CALL_KILL:
		a[0] = hostile_pid, a[1] = 0;
		break;
	case CALL_PTRACE:
		a[0] = L_PTRACE_ATTACH, a[1] = hostile_pid;
		break;
	case CALL_MMAP:
		/* The sixth argument (offset, r9) is 0 either way. */
		a[0] = MMAP_ADDR64, a[1] = 4096, a[2] = L_PROT_RW,
		a[3] = L_MAP_PRIVATE | L_MAP_ANONYMOUS | L_MAP_FIXED_NOREPLACE, a[4] = (uint64_t)-1;
		break;
	case CALL_CLONE:
		/* flags, newsp, parent_tid, child_tid, tls: a plain fork. */
		a[0] = L_SIGCHLD;
		break;
	case CALL_COUNT:
		break;
	}
}

/* The five arguments of @c for the i386 ABI. */
static void args32(enum hostile_call c, uint32_t a[5])
{
	memset(a, 0, 5 * sizeof(a[0]));
	switch (c) {
	case CALL_OPEN:
		a[0] = ptr32(hostile_path), a[1] = L_O_WRONLY | L_O_CREAT, a[2] = MODE_0644;
		break;
	case CALL_CREAT:
		a[0] = ptr32(hostile_path), a[1] = MODE_0644;
		break;
	case CALL_EXECVE:
		a[0] = ptr32(sh_path), a[1] = ptr32(argv32), a[2] = ptr32(envp32);
		break;
	case CALL_SOCKET:
		a[0] = L_AF_INET, a[1] = L_SOCK_STREAM, a[2] = 0;
		break;
	case CALL_KILL:
		a[0] = (uint32_t)hostile_pid, a[1] = 0;
		break;
	case CALL_PTRACE:
		a[0] = L_PTRACE_ATTACH, a[1] = (uint32_t)hostile_pid;
		break;
	case CALL_MMAP:
		a[0] = ptr32(mmap_args32);
		break;
	case CALL_CLONE:
		/* flags, newsp, parent_tid, tls, child_tid: a plain fork. */
		a[0] = L_SIGCHLD;
		break;
	case CALL_COUNT:
		break;
	}
}

/* Look @arg up among the calls; say so (for @word) and return false if absent. */
static bool find_call(const char *word, const char *arg, enum hostile_call *out)
{
	for (unsigned i = 0; i < CALL_COUNT; i++) {
		if (arg && !strcmp(arg, calls[i].name)) {
			*out = (enum hostile_call)i;
			return true;
		}
	}
	printk("%s: unknown call '%s' (open creat execve socket kill ptrace mmap clone)\n", word,
	       arg ? arg : "");
	return false;
}

/*
 * Issue call @arg the way @way says.  The line before goes out (flushed)
 * before the instruction, since the domain may not outlive it; the line
 * after appears only where something let the call return.
 */
static void hostile_issue(enum hostile_way way, const char *word, const char *arg)
{
	enum hostile_call c;
	uint64_t a[5];
	uint32_t b[5];
	long ret;

	if (!find_call(word, arg, &c))
		return;
	prepare_args();
	printk("hostile: issuing %s via %s\n", calls[c].name, way_names[way]);
	console_flush();
	switch (way) {
	case WAY_SYSCALL:
		args64(c, a);
		ret = raw_syscall(calls[c].nr64, a[0], a[1], a[2], a[3], a[4]);
		break;
	case WAY_INT80:
		args32(c, b);
		ret = raw_int80(calls[c].nr32, b[0], b[1], b[2], b[3], b[4]);
		break;
	case WAY_SYSENTER:
	default:
		args32(c, b);
		ret = raw_sysenter(calls[c].nr32, b[0], b[1], b[2], b[3], b[4]);
		break;
	}
	printk("hostile: %s returned %ld\n", calls[c].name, ret);
}

static void word_syscall(const start_info_t *si, const char *arg)
{
	hostile_issue(WAY_SYSCALL, "hostile-syscall", arg);
}

static void word_int80(const start_info_t *si, const char *arg)
{
	hostile_issue(WAY_INT80, "hostile-int80", arg);
}

static void word_sysenter(const start_info_t *si, const char *arg)
{
	hostile_issue(WAY_SYSENTER, "hostile-sysenter", arg);
}

/* hostile-path=PATH: the file open, creat and execve's shell aim at. */
static void word_path(const start_info_t *si, const char *arg)
{
	size_t len = arg ? strlen(arg) : 0;

	if (len == 0 || len >= sizeof(hostile_path)) {
		printk("hostile-path: needs a path of 1 to %zu bytes\n", sizeof(hostile_path) - 1);
		return;
	}
	memcpy(hostile_path, arg, len + 1);
	printk("hostile-path: %s\n", hostile_path);
}

/* hostile-pid=N: the process kill (signal 0) and ptrace aim at. */
static void word_pid(const start_info_t *si, const char *arg)
{
	uint64_t pid;

	if (!arg || parse_u64(arg, &pid) || pid == 0 || pid > INT32_MAX) {
		printk("hostile-pid: needs a pid from 1 to %d\n", INT32_MAX);
		return;
	}
	hostile_pid = pid;
	printk("hostile-pid: %llu\n", (unsigned long long)hostile_pid);
}

/* bench-cpu=N: svk_cpuloop(N), timed with rdtsc. */
static void word_bench_cpu(const start_info_t *si, const char *arg)
{
	uint64_t n, t0, t1, res;

	if (!arg || parse_u64(arg, &n)) {
		printk("bench-cpu: needs a number (bench-cpu=N)\n");
		return;
	}
	t0 = svk_rdtsc();
	res = svk_cpuloop(n);
	t1 = svk_rdtsc();
	/* The result is unused otherwise; this keeps the loop. */
	__asm__ __volatile__("" : : "r"(res));
	printk("bench-cpu: iterations=%llu cycles=%llu\n", (unsigned long long)n,
	       (unsigned long long)(t1 - t0));
}

const struct driver_word hostile_words[] = {
	{ .name = "hostile-syscall", .run = word_syscall },
	{ .name = "hostile-int80", .run = word_int80 },
	{ .name = "hostile-sysenter", .run = word_sysenter },
	{ .name = "hostile-path", .run = word_path },
	{ .name = "hostile-pid", .run = word_pid },
	{ .name = "bench-cpu", .run = word_bench_cpu },
};
const unsigned hostile_nwords = ARRAY_SIZE(hostile_words);
