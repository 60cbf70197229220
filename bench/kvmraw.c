// SPDX-License-Identifier: MIT
// kvmraw: raw /dev/kvm baselines (VM start to first exit, CPL3 I/O exit round trip, ioeventfd
// write) that benchmarks divide by.
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * The guest is a few bytes of 64-bit code at CPL3, entered directly in long
 * mode through KVM_SET_SREGS, the way KVM-NOTES.md says works on PVM hosts:
 * identity-mapped 4-level page tables with the U bit at every level, a real
 * GDT in guest memory, and a 64-bit TSS with RSP0 and an I/O permission
 * bitmap that allows every port (PVM ignores IOPL for CPL3 `out`).
 *
 * Guest physical memory (identity-mapped, 2 MiB):
 */
#define KR_MEM_SIZE 0x200000
#define KR_PML4 0x1000
#define KR_PDPT 0x2000
#define KR_PD 0x3000
#define KR_PT 0x4000
#define KR_GDT 0x5000
#define KR_TSS 0x6000	     /* 104-byte TSS, then the I/O bitmap */
#define KR_KSTACK_TOP 0xb000 /* RSP0 */
#define KR_CODE 0x10000
#define KR_USTACK_TOP 0x20000

#define KR_TSS_IOMAP_OFF 104
#define KR_TSS_LIMIT (KR_TSS_IOMAP_OFF + 8192) /* bitmap + 0xff terminator */

/* GDT selectors. */
#define KR_SEL_KCODE 0x08
#define KR_SEL_KDATA 0x10
#define KR_SEL_UDATA 0x1b /* index 3, RPL 3 */
#define KR_SEL_UCODE 0x23 /* index 4, RPL 3 */
#define KR_SEL_TSS 0x28	  /* index 5-6 */

/* Ports: one that exits to us, one bound to an ioeventfd. */
#define KR_PORT_EXIT 0xe0
#define KR_PORT_EVT 0xe2
#define KR_EVT_DATA 0x42

/* Entry points in the guest code below. */
#define KR_ENTRY_EXIT (KR_CODE + 0x00)
#define KR_ENTRY_EVT (KR_CODE + 0x10)

/*
 * 0x00: out %al,$0xe0 ; jmp 0x00           -- first instruction exits
 * 0x10: out %al,$0xe2 ; dec %rcx ; jnz 0x10 -- rcx writes to the ioeventfd
 * 0x17: out %al,$0xe0 ; jmp 0x10           -- then one exit per batch
 */
static const uint8_t kr_guest_code[] = {
	[0x00] = 0xe6, KR_PORT_EXIT,	   /* out %al, $0xe0 */
	[0x02] = 0xeb, 0xfc,		   /* jmp 0x00 */
	[0x10] = 0xe6, KR_PORT_EVT,	   /* out %al, $0xe2 */
	[0x12] = 0x48, 0xff,	     0xc9, /* dec %rcx */
	[0x15] = 0x75, 0xf9,		   /* jnz 0x10 */
	[0x17] = 0xe6, KR_PORT_EXIT,	   /* out %al, $0xe0 */
	[0x19] = 0xeb, 0xf5,		   /* jmp 0x10 */
};

/* Batch sizes: exits timed together, and ioeventfd writes per batch. */
#define KR_EXITS_PER_BATCH 100
#define KR_WRITES_PER_BATCH 1000

/* One VM with one vCPU. */
struct kr_vm {
	int vmfd;
	int vcpufd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
};

/* Process-wide facts about /dev/kvm, gathered once before timing. */
struct kr_kvm {
	int fd;
	int run_size;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
	bool sync_regs;
};

static double kr_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int kr_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n samples (sorts them). */
static double kr_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), kr_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A GDT code/data descriptor: flat 4 GiB, given access byte and flags nibble. */
static uint64_t kr_gdt_entry(uint8_t access, uint8_t flags)
{
	return 0xffffULL | (uint64_t)access << 40 | (uint64_t)(flags | 0xf) << 48;
}

/* Fill guest memory: page tables, GDT, TSS with I/O bitmap, code. */
static void kr_build_memory(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + KR_PML4);
	uint64_t *pdpt = (uint64_t *)(mem + KR_PDPT);
	uint64_t *pd = (uint64_t *)(mem + KR_PD);
	uint64_t *pt = (uint64_t *)(mem + KR_PT);
	uint64_t *gdt = (uint64_t *)(mem + KR_GDT);
	uint8_t *tss = mem + KR_TSS;
	const uint64_t pte = 0x7; /* present, writable, user: at every level for CPL3 */
	uint64_t base = KR_TSS, rsp0 = KR_KSTACK_TOP;
	uint16_t iomap = KR_TSS_IOMAP_OFF;
	int i;

	pml4[0] = KR_PDPT | pte;
	pdpt[0] = KR_PD | pte;
	pd[0] = KR_PT | pte;
	for (i = 0; i < 512; i++)
		pt[i] = (uint64_t)i * 0x1000 | pte;

	gdt[0] = 0;
	gdt[1] = kr_gdt_entry(0x9a, 0xa0); /* kernel code, L */
	gdt[2] = kr_gdt_entry(0x92, 0xc0); /* kernel data */
	gdt[3] = kr_gdt_entry(0xf2, 0xc0); /* user data, DPL3 */
	gdt[4] = kr_gdt_entry(0xfa, 0xa0); /* user code, DPL3, L */
	/* 64-bit TSS descriptor (busy, type 0xb), 16 bytes. */
	gdt[5] = (KR_TSS_LIMIT & 0xffffULL) | (base & 0xffffffULL) << 16 | 0x8bULL << 40 |
		 (uint64_t)((KR_TSS_LIMIT >> 16) & 0xf) << 48 | ((base >> 24) & 0xffULL) << 56;
	gdt[6] = base >> 32;

	memset(tss, 0, KR_TSS_LIMIT + 1);
	/* The TSS is packed: RSP0 at offset 4 is not 8-byte aligned. */
	memcpy(tss + 4, &rsp0, sizeof(rsp0));
	memcpy(tss + 0x66, &iomap, sizeof(iomap)); /* I/O bitmap base */
	tss[KR_TSS_LIMIT] = 0xff; /* all ports allowed (clear bits), then the terminator */

	memcpy(mem + KR_CODE, kr_guest_code, sizeof(kr_guest_code));
}

static void kr_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = sel & 3;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

/* Long mode, CPL3 at rip: sregs then regs. 0 or -errno. */
static int kr_set_cpu(struct kr_vm *vm, uint64_t rip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vm->vcpufd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	kr_seg(&sregs.cs, KR_SEL_UCODE, 0xb, true);
	kr_seg(&sregs.ss, KR_SEL_UDATA, 0x3, false);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.base = KR_TSS;
	sregs.tr.limit = KR_TSS_LIMIT;
	sregs.tr.selector = KR_SEL_TSS;
	sregs.tr.type = 0xb;
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.unusable = 1;
	sregs.gdt.base = KR_GDT;
	sregs.gdt.limit = 7 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	sregs.cr3 = KR_PML4;
	sregs.cr4 = 0x20;   /* PAE */
	sregs.efer = 0x500; /* LMA LME */
	if (ioctl(vm->vcpufd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = KR_USTACK_TOP;
	regs.rflags = 0x2;
	regs.rax = KR_EVT_DATA;
	if (ioctl(vm->vcpufd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void kr_vm_destroy(struct kr_vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, vm->run_size);
	if (vm->vcpufd >= 0)
		close(vm->vcpufd);
	if (vm->vmfd >= 0)
		close(vm->vmfd);
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, KR_MEM_SIZE);
	vm->run = NULL;
	vm->mem = NULL;
	vm->vcpufd = vm->vmfd = -1;
}

/*
 * Create a VM ready to run at rip: what a minimal VMM does before its first
 * KVM_RUN.  0 or -errno; *what names the step that failed.
 */
static int kr_vm_create(struct kr_kvm *kvm, struct kr_vm *vm, uint64_t rip, const char **what)
{
	struct kvm_userspace_memory_region region = { 0 };
	int err;

	vm->vcpufd = -1;
	vm->run = NULL;
	vm->mem = NULL;
	*what = "KVM_CREATE_VM";
	vm->vmfd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (vm->vmfd < 0)
		return -errno;
	*what = "guest memory";
	vm->mem = mmap(NULL, KR_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		goto out_errno;
	kr_build_memory(vm->mem);
	*what = "KVM_SET_USER_MEMORY_REGION";
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = KR_MEM_SIZE;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto out_errno;
	*what = "KVM_CREATE_VCPU";
	vm->vcpufd = ioctl(vm->vmfd, KVM_CREATE_VCPU, 0);
	if (vm->vcpufd < 0)
		goto out_errno;
	*what = "mmap of kvm_run";
	vm->run_size = kvm->run_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpufd, 0);
	if (vm->run == MAP_FAILED)
		goto out_errno;
	*what = "KVM_SET_CPUID2";
	if (ioctl(vm->vcpufd, KVM_SET_CPUID2, kvm->cpuid) < 0)
		goto out_errno;
	*what = "KVM_SET_SREGS/KVM_SET_REGS";
	err = kr_set_cpu(vm, rip);
	if (err)
		goto out_destroy;
	return 0;

out_errno:
	err = -errno;
out_destroy:
	kr_vm_destroy(vm);
	return err;
}

/* Explain an exit that is not the `out` we expected. */
static void kr_explain_exit(struct kr_vm *vm, uint16_t port)
{
	struct kvm_run *run = vm->run;

	fprintf(stderr, "kvmraw: expected an `out` to port 0x%x, got exit reason %u", port,
		run->exit_reason);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		fprintf(stderr, " (I/O %s port 0x%x size %u)",
			run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
			run->io.size);
		break;
	case KVM_EXIT_SHUTDOWN:
		fprintf(stderr, " (shutdown: the guest triple-faulted)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, " (entry failed, hardware reason 0x%llx)",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, " (internal error, suberror %u)", run->internal.suberror);
		break;
	}
	fputc('\n', stderr);
}

/* KVM_RUN until the next exit; 0 if it is an `out` to port, else -EIO (explained). */
static int kr_run_to_port(struct kr_vm *vm, uint16_t port)
{
	struct kvm_run *run = vm->run;

	for (;;) {
		if (ioctl(vm->vcpufd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "kvmraw: KVM_RUN: %s\n", strerror(errno));
			return -errno;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == port)
			return 0;
		kr_explain_exit(vm, port);
		return -EIO;
	}
}

/* VM create to first exit, `runs` times; median into *out. 0 or -errno. */
static int kr_bench_enter(struct kr_kvm *kvm, int runs, double *out)
{
	double *t = calloc(runs, sizeof(*t));
	const char *what;
	struct kr_vm vm;
	int i, err = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < runs; i++) {
		double t0 = kr_now_us();

		err = kr_vm_create(kvm, &vm, KR_ENTRY_EXIT, &what);
		if (err) {
			fprintf(stderr, "kvmraw: cannot set up a VM: %s: %s\n", what,
				strerror(-err));
			break;
		}
		err = kr_run_to_port(&vm, KR_PORT_EXIT);
		t[i] = kr_now_us() - t0;
		kr_vm_destroy(&vm);
		if (err)
			break;
	}
	if (!err) {
		*out = kr_median(t, runs);
		fprintf(stderr,
			"kvmraw: KVM_CREATE_VM to first KVM_EXIT_IO: median %.1f us "
			"(min %.1f, max %.1f) over %d runs\n",
			*out, t[0], t[runs - 1], runs);
	}
	free(t);
	return err;
}

/* Run to the first exit and check that the guest really runs at CPL3. */
static int kr_check_cpl3(struct kr_vm *vm)
{
	struct kvm_sregs sregs;
	int err = kr_run_to_port(vm, KR_PORT_EXIT);

	if (err)
		return err;
	if (ioctl(vm->vcpufd, KVM_GET_SREGS, &sregs) < 0) {
		fprintf(stderr, "kvmraw: KVM_GET_SREGS: %s\n", strerror(errno));
		return -errno;
	}
	if (sregs.cs.dpl != 3 || (sregs.cs.selector & 3) != 3 || !sregs.cs.l) {
		fprintf(stderr,
			"kvmraw: the guest is not running 64-bit code at CPL3 "
			"(cs 0x%x dpl %u l %u)\n",
			sregs.cs.selector, sregs.cs.dpl, sregs.cs.l);
		return -EPROTO;
	}
	return 0;
}

/*
 * `out` exit round trips from CPL3: batches of KR_EXITS_PER_BATCH, each exit
 * reading rax from the sync area and writing it back changed (what a
 * hypercall return does).  Median per-exit cost over `runs` batches.
 */
static int kr_bench_exit(struct kr_vm *vm, int runs, double *out)
{
	double *t = calloc(runs, sizeof(*t));
	struct kvm_run *run = vm->run;
	uint64_t seen = 0;
	int i, j, err = 0;

	if (!t)
		return -ENOMEM;
	/* Warm up. */
	for (j = 0; j < 10 && !err; j++)
		err = kr_run_to_port(vm, KR_PORT_EXIT);
	for (i = 0; i < runs && !err; i++) {
		double t0 = kr_now_us();

		for (j = 0; j < KR_EXITS_PER_BATCH; j++) {
			run->kvm_valid_regs = KVM_SYNC_X86_REGS;
			err = kr_run_to_port(vm, KR_PORT_EXIT);
			if (err)
				break;
			seen += run->s.regs.regs.rax;
			run->s.regs.regs.rax = KR_EVT_DATA;
			run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
		}
		t[i] = (kr_now_us() - t0) / KR_EXITS_PER_BATCH;
	}
	run->kvm_dirty_regs = 0;
	if (!err) {
		*out = kr_median(t, runs);
		fprintf(stderr,
			"kvmraw: CPL3 `out` exit + re-entry with SYNC_REGS: median %.2f us "
			"(min %.2f, max %.2f) over %d batches of %d exits\n",
			*out, t[0], t[runs - 1], runs, KR_EXITS_PER_BATCH);
	}
	if (seen != (uint64_t)KR_EVT_DATA * KR_EXITS_PER_BATCH * runs && !err)
		fprintf(stderr, "kvmraw: warning: sync regs did not round-trip rax\n");
	free(t);
	return err;
}

/*
 * ioeventfd writes from CPL3: the guest does KR_WRITES_PER_BATCH `out`s to a
 * port bound with KVM_IOEVENTFD (datamatch), then one exiting `out`.  The
 * per-write cost is (batch time - one exit) / writes; the eventfd counter
 * must show every write.
 */
static int kr_bench_ioeventfd(struct kr_vm *vm, int runs, double exit_us, double *out)
{
	struct kvm_ioeventfd io = { 0 };
	double *t = calloc(runs, sizeof(*t));
	struct kvm_run *run = vm->run;
	int i, efd, err = 0;
	uint64_t count;

	if (!t)
		return -ENOMEM;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		err = -errno;
		fprintf(stderr, "kvmraw: eventfd: %s\n", strerror(errno));
		goto out_free;
	}
	io.addr = KR_PORT_EVT;
	io.len = 1;
	io.fd = efd;
	io.datamatch = KR_EVT_DATA;
	io.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (ioctl(vm->vmfd, KVM_IOEVENTFD, &io) < 0) {
		err = -errno;
		fprintf(stderr, "kvmraw: KVM_IOEVENTFD on port 0x%x: %s\n", KR_PORT_EVT,
			strerror(errno));
		goto out_close;
	}
	/* Move the vCPU to the ioeventfd loop (it sits after an `out` at 0x00). */
	run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	run->s.regs.regs.rip = KR_ENTRY_EVT;
	run->s.regs.regs.rcx = 1;
	run->s.regs.regs.rax = KR_EVT_DATA;
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	err = kr_run_to_port(vm, KR_PORT_EXIT);
	for (i = 0; i < runs && !err; i++) {
		double t0;

		if (read(efd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
			err = -errno;
			break;
		}
		run->s.regs.regs.rcx = KR_WRITES_PER_BATCH;
		run->s.regs.regs.rax = KR_EVT_DATA;
		run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
		t0 = kr_now_us();
		err = kr_run_to_port(vm, KR_PORT_EXIT);
		t[i] = kr_now_us() - t0;
		if (err)
			break;
		if (read(efd, &count, sizeof(count)) != sizeof(count) ||
		    count != KR_WRITES_PER_BATCH) {
			fprintf(stderr, "kvmraw: the eventfd counted %llu writes, expected %d\n",
				(unsigned long long)count, KR_WRITES_PER_BATCH);
			err = -EIO;
			break;
		}
		t[i] = (t[i] - exit_us) / KR_WRITES_PER_BATCH;
	}
	run->kvm_dirty_regs = 0;
	if (!err) {
		*out = kr_median(t, runs);
		fprintf(stderr,
			"kvmraw: CPL3 `out` to an ioeventfd port (no exit): median %.2f us "
			"per write (min %.2f, max %.2f) over %d batches of %d\n",
			*out, t[0], t[runs - 1], runs, KR_WRITES_PER_BATCH);
	}
	io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	ioctl(vm->vmfd, KVM_IOEVENTFD, &io);
out_close:
	close(efd);
out_free:
	free(t);
	return err;
}

/* Open /dev/kvm and learn what every VM needs; 0 or -errno (explained). */
static int kr_kvm_open(struct kr_kvm *kvm)
{
	int version, nent = 256, caps;

	kvm->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0) {
		fprintf(stderr, "kvmraw: cannot open /dev/kvm: %s\n", strerror(errno));
		return -errno;
	}
	version = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (version < 0) {
		fprintf(stderr,
			"kvmraw: /dev/kvm is not a usable KVM device "
			"(KVM_GET_API_VERSION: %s)\n",
			strerror(errno));
		return -ENODEV;
	}
	if (version != KVM_API_VERSION) {
		fprintf(stderr, "kvmraw: /dev/kvm speaks API version %d, not %d\n", version,
			KVM_API_VERSION);
		return -ENOTSUP;
	}
	caps = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	kvm->sync_regs = caps > 0 && (caps & KVM_SYNC_X86_REGS);
	if (!kvm->sync_regs) {
		fprintf(stderr, "kvmraw: /dev/kvm lacks KVM_CAP_SYNC_REGS\n");
		return -ENOTSUP;
	}
	if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) <= 0) {
		fprintf(stderr, "kvmraw: /dev/kvm lacks KVM_CAP_IOEVENTFD\n");
		return -ENOTSUP;
	}
	kvm->run_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size < (int)sizeof(struct kvm_run)) {
		fprintf(stderr, "kvmraw: KVM_GET_VCPU_MMAP_SIZE: %s\n", strerror(errno));
		return -ENOTSUP;
	}
	for (;;) {
		kvm->cpuid = calloc(1, sizeof(*kvm->cpuid) + nent * sizeof(kvm->cpuid->entries[0]));
		if (!kvm->cpuid)
			return -ENOMEM;
		kvm->cpuid->nent = nent;
		if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, kvm->cpuid) == 0)
			return 0;
		free(kvm->cpuid);
		kvm->cpuid = NULL;
		if (errno != E2BIG || nent >= 4096) {
			fprintf(stderr, "kvmraw: KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
			return -errno;
		}
		nent *= 2;
	}
}

static void kr_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: kvmraw [--runs N] [--json]\n"
	    "Measures raw /dev/kvm baselines and prints, one per line on stdout:\n"
	    "  kvm_enter_us=M      KVM_CREATE_VM, memory and vCPU setup to the first\n"
	    "                      KVM_EXIT_IO of a CPL3 guest whose first instruction is `out`\n"
	    "  kvm_io_exit_us=M    one CPL3 `out` exit and re-entry with SYNC_REGS\n"
	    "  kvm_ioeventfd_us=M  one CPL3 `out` to a KVM_IOEVENTFD port (no exit)\n"
	    "M is a median in microseconds over N runs (enter) or N batches of %d exits\n"
	    "or %d writes (default N = 20). --json prints one JSON object instead.\n"
	    "A human line per figure goes to stderr.\n",
	    KR_EXITS_PER_BATCH, KR_WRITES_PER_BATCH);
}

int main(int argc, char **argv)
{
	struct kr_kvm kvm = { .fd = -1 };
	double enter_us = 0, exit_us = 0, evt_us = 0;
	struct kr_vm vm;
	const char *what;
	bool json = false;
	int i, runs = 20, err;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 100000) {
				fprintf(stderr,
					"kvmraw: --runs wants a number from 1 to 100000, "
					"not '%s'\n",
					argv[i]);
				return 2;
			}
			runs = (int)v;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			kr_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "kvmraw: unknown argument '%s'\n", argv[i]);
			kr_usage(stderr);
			return 2;
		}
	}

	if (kr_kvm_open(&kvm) < 0)
		return 1;
	err = kr_bench_enter(&kvm, runs, &enter_us);
	if (err)
		return 1;
	err = kr_vm_create(&kvm, &vm, KR_ENTRY_EXIT, &what);
	if (err) {
		fprintf(stderr, "kvmraw: cannot set up a VM: %s: %s\n", what, strerror(-err));
		return 1;
	}
	err = kr_check_cpl3(&vm);
	if (!err)
		err = kr_bench_exit(&vm, runs, &exit_us);
	if (!err)
		err = kr_bench_ioeventfd(&vm, runs, exit_us, &evt_us);
	kr_vm_destroy(&vm);
	free(kvm.cpuid);
	close(kvm.fd);
	if (err)
		return 1;

	if (json)
		printf("{\"kvm_enter_us\": %.2f, \"kvm_io_exit_us\": %.2f, "
		       "\"kvm_ioeventfd_us\": %.2f, \"runs\": %d}\n",
		       enter_us, exit_us, evt_us, runs);
	else
		printf("kvm_enter_us=%.2f\nkvm_io_exit_us=%.2f\nkvm_ioeventfd_us=%.2f\n", enter_us,
		       exit_us, evt_us);
	return 0;
}
