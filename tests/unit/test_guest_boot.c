// SPDX-License-Identifier: MIT
// Check suite that boots the guest kernel (linked low) in a child process against a fake Xen PV
// hypervisor.
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/elfnote.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/errno.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>

#include "guest_boot.h"
#include "../fakes/fakexen_guest.h"

/*
 * The harness plays the domain builder and the hypervisor for one guest in
 * a forked child: guest "machine" memory is a memfd (mfn == pfn, plus one
 * frame for shared_info), mapped at the address the hosted kernel is
 * linked at.  Each hypercall stub jumps to hc_entry, which calls
 * hc_dispatch with the Xen x86-64 argument registers.  The guest ends the
 * child: SCHEDOP_shutdown exits with EXIT_SHUTDOWN + reason, SCHEDOP_block
 * exits with EXIT_BLOCKED (as if destroyed from outside), a fault kills it.
 */
#define GUEST_BASE 0x40000000UL
#define NR_PAGES 2048UL /* 8 MiB */
#define PAGE 4096UL
#define SHINFO_MFN NR_PAGES
#define GNT_MFN (SHINFO_MFN + 1) /* the fake's grant table frames */
#define GNT_FRAMES 4

static const char *kernel_path(void)
{
	static char path[512];
	const char *b = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/guest/svkernel-hosted", b && *b ? b : "build");
	return path;
}

/* ---- ELF image ---------------------------------------------------------- */

struct image {
	unsigned char *data;
	size_t size;
	uint64_t entry;
	uint64_t end; /* highest PT_LOAD vaddr + memsz */
	/* Xen notes found (value or string), by type. */
	bool has[XEN_ELFNOTE_MAX + 1];
	uint64_t num[XEN_ELFNOTE_MAX + 1];
	char str[XEN_ELFNOTE_MAX + 1][64];
};

static void image_read(struct image *im)
{
	struct stat st;
	int fd = open(kernel_path(), O_RDONLY);

	memset(im, 0, sizeof(*im));
	ck_assert_msg(fd >= 0, "open %s: %s", kernel_path(), strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	im->size = (size_t)st.st_size;
	im->data = malloc(im->size);
	ck_assert_ptr_nonnull(im->data);
	ck_assert_int_eq(read(fd, im->data, im->size), (ssize_t)im->size);
	close(fd);
}

/* Parse the ELF header, the PT_LOADs and the Xen notes in PT_NOTE. */
static void image_parse(struct image *im)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)im->data;

	ck_assert(im->size > sizeof(*eh));
	ck_assert(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
	ck_assert_int_eq(eh->e_ident[EI_CLASS], ELFCLASS64);
	ck_assert_int_eq(eh->e_machine, EM_X86_64);
	ck_assert(eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= im->size);
	im->entry = eh->e_entry;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(im->data + eh->e_phoff) + i;
		if (ph->p_type == PT_LOAD) {
			ck_assert(ph->p_offset + ph->p_filesz <= im->size);
			ck_assert_uint_eq(ph->p_paddr, ph->p_vaddr - GUEST_BASE);
			if (ph->p_vaddr + ph->p_memsz > im->end)
				im->end = ph->p_vaddr + ph->p_memsz;
		}
		if (ph->p_type != PT_NOTE)
			continue;
		for (uint64_t off = 0; off + 12 <= ph->p_filesz;) {
			const uint32_t *n = (const uint32_t *)(im->data + ph->p_offset + off);
			uint32_t namesz = n[0], descsz = n[1], type = n[2];
			const char *name = (const char *)(n + 3);
			const unsigned char *desc =
			    (const unsigned char *)name + ((namesz + 3) & ~3U);

			if (namesz == 4 && !memcmp(name, "Xen", 4) && type <= XEN_ELFNOTE_MAX) {
				im->has[type] = true;
				if (descsz == 8)
					memcpy(&im->num[type], desc, 8);
				if (descsz < sizeof(im->str[0]))
					memcpy(im->str[type], desc, descsz);
			}
			off += 12 + ((namesz + 3) & ~3U) + ((descsz + 3) & ~3U);
		}
	}
}

START_TEST(test_elf_notes)
{
	struct image im;

	image_read(&im);
	image_parse(&im);
	ck_assert_str_eq(im.str[XEN_ELFNOTE_GUEST_OS], "Splitvisor");
	ck_assert(im.has[XEN_ELFNOTE_GUEST_VERSION]);
	ck_assert_str_eq(im.str[XEN_ELFNOTE_XEN_VERSION], "xen-3.0");
	ck_assert_str_eq(im.str[XEN_ELFNOTE_LOADER], "generic");
	ck_assert_uint_eq(im.num[XEN_ELFNOTE_VIRT_BASE], GUEST_BASE);
	ck_assert(im.has[XEN_ELFNOTE_PADDR_OFFSET]);
	ck_assert_uint_eq(im.num[XEN_ELFNOTE_PADDR_OFFSET], 0);
	ck_assert_uint_eq(im.num[XEN_ELFNOTE_ENTRY], im.entry);
	ck_assert(im.has[XEN_ELFNOTE_HYPERCALL_PAGE]);
	ck_assert_uint_eq(im.num[XEN_ELFNOTE_HYPERCALL_PAGE] % PAGE, 0);
	ck_assert(im.num[XEN_ELFNOTE_HYPERCALL_PAGE] >= GUEST_BASE &&
		  im.num[XEN_ELFNOTE_HYPERCALL_PAGE] + PAGE <= im.end);
	ck_assert_str_eq(im.str[XEN_ELFNOTE_FEATURES], "!writable_page_tables");
	free(im.data);
}
END_TEST

/* ---- the fake hypervisor (runs in the child) ----------------------------- */

struct vcpu {
	bool initialised, up, thread;
	struct vcpu_guest_context ctx;
};

static struct {
	int memfd;
	int out; /* console pipe */
	unsigned int nr_vcpus;
	unsigned long pt_base, mapped_end;
	bool map_shinfo_fails;
	unsigned int events_to_send; /* upcalls to deliver at SCHEDOP_block */
	bool refuse_first_initialise[MAX_VCPUS];
	unsigned long event_cb, failsafe_cb;
	struct shared_info *sh; /* the harness's own mapping */
	unsigned long xen_version_calls;
	struct vcpu vcpu[MAX_VCPUS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_mutex_t fx_lock; /* the fake Xen services, any vCPU */
} hv = { .lock = PTHREAD_MUTEX_INITIALIZER,
	 .cond = PTHREAD_COND_INITIALIZER,
	 .fx_lock = PTHREAD_MUTEX_INITIALIZER };

static __thread unsigned int hc_vcpu;

/* Read by the asm below: deliver an upcall on return; the mask to restore. */
unsigned char hv_deliver;
unsigned long hv_event_cb;
uint8_t *hv_mask_ptr;
void hc_iret(void);

/*
 * End the child from a hypercall.  That runs on the guest's stack, which
 * ASan does not know, so go straight to exit_group: no libc or sanitizer
 * exit path that would check the stack or run handlers.
 */
static void hv_exit(int code)
{
	__asm__ __volatile__("syscall"
			     :
			     : "a"(231 /* SYS_exit_group */), "D"(code)
			     : "rcx", "r11", "memory");
}

long hc_dispatch(long nr, long a1, long a2, long a3, long a4, long a5);
void hc_entry(void);
void guest_enter(unsigned long entry, void *si, unsigned long sp) __attribute__((noreturn));
void guest_enter_secondary(unsigned long rip, unsigned long rdi, unsigned long sp)
    __attribute__((noreturn));

/* The stub's target: Xen's argument registers to the SysV C convention. */
__asm__(".text\n"
	".globl hc_entry\n"
	"hc_entry:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	and $-16, %rsp\n"
	"	mov %r8, %r9\n"
	"	mov %r10, %r8\n"
	"	mov %rdx, %rcx\n"
	"	mov %rsi, %rdx\n"
	"	mov %rdi, %rsi\n"
	"	mov %eax, %edi\n"
	"	call hc_dispatch\n"
	"	leave\n"
	"	cmpb $0, hv_deliver(%rip)\n"
	"	jne 1f\n"
	"	ret\n"
	/*
	 * Return into the event callback instead, as Xen does: a bounce
	 * frame of rcx, r11, rip, cs, rflags (IF set), rsp, ss on the
	 * guest's stack aligned to 16.  rcx and r11 are hypercall-clobbered.
	 */
	"1:	movb $0, hv_deliver(%rip)\n"
	"	pop %rcx\n"
	"	mov %rsp, %r11\n"
	"	and $-16, %rsp\n"
	"	pushq $0xe02b\n"
	"	push %r11\n"
	"	pushq $0x202\n"
	"	pushq $0xe033\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	push %rcx\n"
	"	jmp *hv_event_cb(%rip)\n"
	/*
	 * HYPERVISOR_iret: the guest jumped here with rsp at rax, r11, rcx,
	 * flags, rip, cs, rflags, rsp, ss.  Restore the mask from rflags.IF,
	 * put rip on the target stack and return there.
	 */
	".globl hc_iret\n"
	"hc_iret:\n"
	"	mov hv_mask_ptr(%rip), %rcx\n"
	"	testq $0x200, 48(%rsp)\n"
	"	setz (%rcx)\n"
	"	mov 56(%rsp), %rcx\n"
	"	sub $8, %rcx\n"
	"	mov 32(%rsp), %rax\n"
	"	mov %rax, (%rcx)\n"
	"	mov %rcx, 24(%rsp)\n"
	"	mov 0(%rsp), %rax\n"
	"	mov 8(%rsp), %r11\n"
	"	mov 16(%rsp), %rcx\n"
	"	mov 24(%rsp), %rsp\n"
	"	ret\n"
	".globl guest_enter\n"
	"guest_enter:\n"
	"	mov %rdx, %rsp\n"
	"	jmp *%rdi\n"
	".globl guest_enter_secondary\n"
	"guest_enter_secondary:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsp\n"
	"	jmp *%rax\n");

static void hv_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hv_say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(hv.out, line, (size_t)n) < 0)
		hv_exit(2);
}

static void *vcpu_thread(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	struct vcpu *v = &hv.vcpu[id];

	hc_vcpu = id;
	guest_enter_secondary(v->ctx.user_regs.rip, v->ctx.user_regs.rdi, v->ctx.user_regs.rsp);
}

static long hc_vcpu_op(long cmd, unsigned int id, void *arg)
{
	struct vcpu *v;
	long rc = 0;

	if (id >= hv.nr_vcpus)
		return -XEN_ENOENT;
	v = &hv.vcpu[id];
	pthread_mutex_lock(&hv.lock);
	switch (cmd) {
	case VCPUOP_is_up:
		rc = id == 0 || v->up;
		break;
	case VCPUOP_initialise: {
		const struct vcpu_guest_context *c = arg;

		if (v->initialised) {
			rc = -XEN_EEXIST;
		} else if (hv.refuse_first_initialise[id]) {
			hv.refuse_first_initialise[id] = false;
			rc = -XEN_ENOMEM;
		} else if (!(c->flags & VGCF_in_kernel) || c->user_regs.cs != FLAT_KERNEL_CS ||
			   c->user_regs.ss != FLAT_KERNEL_SS || c->kernel_ss != FLAT_KERNEL_SS ||
			   c->kernel_sp != c->user_regs.rsp || c->user_regs.rsp % 16 != 0 ||
			   c->user_regs.rdi != id ||
			   c->ctrlreg[3] != xen_pfn_to_cr3((hv.pt_base - GUEST_BASE) / PAGE)) {
			hv_say("[hv] vcpu %u: bad context\n", id);
			rc = -XEN_EINVAL;
		} else {
			v->ctx = *c;
			v->initialised = true;
		}
		break;
	}
	case VCPUOP_up:
		if (!v->initialised) {
			rc = -XEN_EINVAL;
			break;
		}
		v->up = true;
		if (!v->thread) {
			pthread_t t;

			if (pthread_create(&t, NULL, vcpu_thread, (void *)(uintptr_t)id))
				hv_exit(3);
			v->thread = true;
		}
		pthread_cond_broadcast(&hv.cond);
		break;
	case VCPUOP_set_singleshot_timer:
		rc = id == hc_vcpu ? fakexen_set_timer(
					 ((struct vcpu_set_singleshot_timer *)arg)->timeout_abs_ns)
				   : -XEN_EINVAL;
		break;
	case VCPUOP_down:
		v->up = false;
		/* Taking ourselves down: sleep until someone ups us again. */
		while (id == hc_vcpu && !v->up)
			pthread_cond_wait(&hv.cond, &hv.lock);
		break;
	default:
		rc = -XEN_ENOSYS;
	}
	pthread_mutex_unlock(&hv.lock);
	return rc;
}

static long hc_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
	uint64_t mfn = (pte & 0x000ffffffffff000ULL) / PAGE;

	if (va % PAGE || va < GUEST_BASE || va >= hv.mapped_end || !(pte & 1) ||
	    mfn >= GNT_MFN + GNT_FRAMES || flags != UVMF_INVLPG)
		return -XEN_EINVAL;
	if (mfn == SHINFO_MFN && hv.map_shinfo_fails)
		return -XEN_EPERM;
	if (mmap((void *)va, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_FIXED,
		 hv.memfd, (off_t)(mfn * PAGE)) == MAP_FAILED)
		hv_exit(4);
	return 0;
}

/* Port the harness raises at SCHEDOP_block; the guest has no handler. */
#define TEST_PORT 70

/*
 * SCHEDOP_block: enables events, as Xen does.  While there are events to
 * send, raise TEST_PORT (pending bit, selector, upcall_pending) and
 * return into the callback; after that, end as a destroyed domain.
 */
static long hc_block(void)
{
	struct vcpu_info *vi = &hv.sh->vcpu_info[0];

	hv_say("[hv] block: mask %u\n", vi->evtchn_upcall_mask);
	vi->evtchn_upcall_mask = 0;
	/*
	 * Something pending returns at once (delivered by hc_dispatch);
	 * otherwise the fake dom0 and timer get their turn.
	 */
	pthread_mutex_lock(&hv.fx_lock);
	while (!vi->evtchn_upcall_pending && !hv.events_to_send) {
		if (!fakexen_idle()) {
			fakexen_console_drain();
			hv_exit(EXIT_BLOCKED);
		}
	}
	pthread_mutex_unlock(&hv.fx_lock);
	if (!hv.events_to_send)
		return 0;
	if (!hv.event_cb) {
		hv_say("[hv] event with no callback: crash\n");
		hv_exit(EXIT_SHUTDOWN + SHUTDOWN_crash);
		return 0;
	}
	hv.events_to_send--;
	hv.sh->evtchn_pending[TEST_PORT / 64] |= 1UL << (TEST_PORT % 64);
	vi->evtchn_pending_sel |= 1UL << (TEST_PORT / 64);
	vi->evtchn_upcall_pending = 1;
	vi->evtchn_upcall_mask = 1;
	hv_event_cb = hv.event_cb;
	hv_deliver = 1;
	return 0;
}

static long hc_callback_op(long cmd, const struct callback_register *cb)
{
	if (cmd != CALLBACKOP_register)
		return -XEN_ENOSYS;
	if (cb->type == CALLBACKTYPE_event)
		hv.event_cb = cb->address;
	else if (cb->type == CALLBACKTYPE_failsafe)
		hv.failsafe_cb = cb->address;
	else if (cb->type != CALLBACKTYPE_nmi) /* NMIs: accepted, never sent here */
		return -XEN_EINVAL;
	return 0;
}

static long hc_fake(long (*fn)(long, void *, long), long a1, long a2, long a3)
{
	long rc;

	pthread_mutex_lock(&hv.fx_lock);
	rc = fn(a1, (void *)a2, a3);
	pthread_mutex_unlock(&hv.fx_lock);
	return rc;
}

static long evtchn_op(long cmd, void *arg, long unused)
{
	return fakexen_event_channel_op(cmd, arg);
}

static long hc_dispatch_one(long nr, long a1, long a2, long a3, long a4, long a5);

/*
 * After a hypercall on vCPU 0, bounce into the event callback when an
 * event is pending and not masked, as Xen does on every return to a guest.
 */
long hc_dispatch(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long rc = hc_dispatch_one(nr, a1, a2, a3, a4, a5);
	struct vcpu_info *vi = &hv.sh->vcpu_info[0];

	if (hc_vcpu == 0 && hv.event_cb && !hv_deliver && vi->evtchn_upcall_pending &&
	    !vi->evtchn_upcall_mask) {
		vi->evtchn_upcall_mask = 1;
		hv_event_cb = hv.event_cb;
		hv_deliver = 1;
	}
	return rc;
}

static long hc_dispatch_one(long nr, long a1, long a2, long a3, long a4, long a5)
{
	switch (nr) {
	case __HYPERVISOR_console_io:
		if (a1 != CONSOLEIO_write)
			return -XEN_ENOSYS;
		if (write(hv.out, (const void *)a3, (size_t)a2) < 0)
			hv_exit(5);
		return 0;
	case __HYPERVISOR_sched_op:
		if (a1 == SCHEDOP_shutdown) {
			unsigned int reason = ((struct sched_shutdown *)a2)->reason;

			pthread_mutex_lock(&hv.fx_lock);
			fakexen_console_drain();
			pthread_mutex_unlock(&hv.fx_lock);
			hv_say("[hv] xen_version calls: %lu\n", hv.xen_version_calls);
			hv_exit(EXIT_SHUTDOWN + (int)reason);
			return 0;
		}
		if (a1 == SCHEDOP_block)
			return hc_block();
		if (a1 == SCHEDOP_yield) {
			sched_yield();
			return 0;
		}
		return -XEN_ENOSYS;
	case __HYPERVISOR_vcpu_op:
		return hc_vcpu_op(a1, (unsigned int)a2, (void *)a3);
	case __HYPERVISOR_xen_version:
		__atomic_fetch_add(&hv.xen_version_calls, 1, __ATOMIC_RELAXED);
		return a1 == XENVER_version ? (4 << 16) | 14 : -XEN_ENOSYS;
	case __HYPERVISOR_callback_op:
		return hc_callback_op(a1, (const struct callback_register *)a2);
	case __HYPERVISOR_update_va_mapping:
		return hc_update_va_mapping((unsigned long)a1, (uint64_t)a2, (unsigned long)a3);
	case __HYPERVISOR_event_channel_op:
		return hc_fake(evtchn_op, a1, a2, 0);
	case __HYPERVISOR_grant_table_op:
		return hc_fake(fakexen_grant_table_op, a1, a2, a3);
	case __HYPERVISOR_memory_op:
		return -XEN_ENOSYS; /* no M2P here: the guest scans its p2m */
	default:
		hv_say("[hv] unknown hypercall %ld\n", nr);
		return -XEN_ENOSYS;
	}
}

static inline uint64_t host_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Fill vcpu 0's time record from a TSC calibration against the host clock. */
static void fill_time(struct shared_info *sh)
{
	uint64_t t0 = now_ns(), c0 = host_rdtsc(), t1, c1;
	struct vcpu_time_info *ti = &sh->vcpu_info[0].time;
	unsigned __int128 mul;
	int shift = 0;

	usleep(20000);
	t1 = now_ns();
	c1 = host_rdtsc();
	/* ns per tick as a 32.32 fixed-point number, shifted below 2^32. */
	mul = ((unsigned __int128)(t1 - t0) << 32) / (c1 - c0);
	while (mul >= (1ULL << 32)) {
		mul >>= 1;
		shift++;
	}
	ti->tsc_timestamp = c1;
	ti->system_time = 1000;
	ti->tsc_to_system_mul = (uint32_t)mul;
	ti->tsc_shift = (int8_t)shift;
	ti->version = 2;
}

/* Child: build the domain as Xen's PV builder lays it out, and enter it. */
static void child_boot(const struct boot_opts *o, int out)
{
	struct image im;
	unsigned char *mem;
	unsigned long pfn, p2m_pfn, si_pfn, pt_pfn, stack_pfn, *p2m;
	struct start_info *si;
	const Elf64_Ehdr *eh;
	unsigned char *hpage;
	void *gnt;

	hv.out = out;
	hv.nr_vcpus = o->vcpus ? o->vcpus : 1;
	hv.map_shinfo_fails = o->map_shinfo_fails;
	hv.events_to_send = o->events;
	for (unsigned int i = 0; i < MAX_VCPUS; i++)
		hv.refuse_first_initialise[i] = o->refuse_first_initialise;
	image_read(&im);
	image_parse(&im);

	hv.memfd = memfd_create("guest", 0);
	if (hv.memfd < 0 || ftruncate(hv.memfd, (off_t)((GNT_MFN + GNT_FRAMES) * PAGE)))
		hv_exit(6);
	mem = mmap((void *)GUEST_BASE, NR_PAGES * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		   MAP_SHARED | MAP_FIXED_NOREPLACE, hv.memfd, 0);
	if (mem != (void *)GUEST_BASE)
		hv_exit(7);

	eh = (const Elf64_Ehdr *)im.data;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(im.data + eh->e_phoff) + i;
		if (ph->p_type == PT_LOAD)
			memcpy((void *)ph->p_vaddr, im.data + ph->p_offset, ph->p_filesz);
	}
	/* Garbage in .bss: the kernel must zero it itself. */
	memset((void *)((im.end - 64) & ~7UL), 0x5a, 64);

	hpage = (unsigned char *)im.num[XEN_ELFNOTE_HYPERCALL_PAGE];
	for (unsigned int nr = 0; nr < PAGE / 32; nr++) {
		unsigned char *s = hpage + nr * 32;
		uint64_t target = (uint64_t)(uintptr_t)hc_entry;

		if (nr == __HYPERVISOR_iret) {
			/*
			 * Xen's iret stub: push %rcx; push %r11; push %rax,
			 * then (here) jump to hc_iret; the guest pushed flags.
			 */
			static const unsigned char iret[] = { 0x51, 0x41, 0x53, 0x50, 0x49, 0xbb };

			target = (uint64_t)(uintptr_t)hc_iret;
			memcpy(s, iret, sizeof(iret));
			memcpy(s + 6, &target, 8);
			s[14] = 0x41; /* jmp *%r11 */
			s[15] = 0xff;
			s[16] = 0xe3;
			continue;
		}
		s[0] = 0x49; /* movabs $hc_entry, %r11 */
		s[1] = 0xbb;
		memcpy(s + 2, &target, 8);
		s[10] = 0xb8; /* mov $nr, %eax */
		memcpy(s + 11, &nr, 4);
		s[15] = 0x41; /* jmp *%r11 */
		s[16] = 0xff;
		s[17] = 0xe3;
	}

	pfn = ((im.end + PAGE - 1) - GUEST_BASE) / PAGE;
	p2m_pfn = pfn;
	p2m = (unsigned long *)(GUEST_BASE + p2m_pfn * PAGE);
	for (unsigned long i = 0; i < NR_PAGES; i++)
		p2m[i] = i;
	pfn += (NR_PAGES * sizeof(long) + PAGE - 1) / PAGE;
	si_pfn = pfn++;
	pfn += 2; /* xenstore and console rings */
	pt_pfn = pfn;
	pfn += 4;
	stack_pfn = pfn++;
	hv.pt_base = GUEST_BASE + pt_pfn * PAGE;
	/* Xen: at least 512 KiB after the last element, to 4 MiB. */
	hv.mapped_end =
	    GUEST_BASE + ((pfn * PAGE + (512 << 10) + (4 << 20) - 1) & ~((4UL << 20) - 1));

	si = (struct start_info *)(GUEST_BASE + si_pfn * PAGE);
	snprintf(si->magic, sizeof(si->magic), "xen-3.0-x86_64");
	si->nr_pages = NR_PAGES;
	si->shared_info = SHINFO_MFN * PAGE;
	si->store_mfn = si_pfn + 1;
	si->store_evtchn = 1;
	si->console.domU.mfn = si_pfn + 2;
	si->console.domU.evtchn = 2;
	si->pt_base = hv.pt_base;
	si->nr_pt_frames = 4;
	si->mfn_list = GUEST_BASE + p2m_pfn * PAGE;
	snprintf((char *)si->cmd_line, sizeof(si->cmd_line), "%s", o->cmdline ? o->cmdline : "");
	/* The bootstrap page tables are read-only for the guest. */
	if (mprotect((void *)hv.pt_base, 4 * PAGE, PROT_READ))
		hv_exit(8);

	hv.sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, hv.memfd,
		     (off_t)(SHINFO_MFN * PAGE));
	if (hv.sh == MAP_FAILED)
		hv_exit(9);
	hv_mask_ptr = &hv.sh->vcpu_info[0].evtchn_upcall_mask;
	hv.sh->vcpu_info[0].evtchn_upcall_mask = 1;
	if (!o->no_time)
		fill_time(hv.sh);
	gnt = mmap(NULL, GNT_FRAMES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, hv.memfd,
		   (off_t)(GNT_MFN * PAGE));
	if (gnt == MAP_FAILED)
		hv_exit(10);
	fakexen_init(&o->xen, hv.sh, (void *)(GUEST_BASE + (si_pfn + 1) * PAGE),
		     (void *)(GUEST_BASE + (si_pfn + 2) * PAGE), gnt, GNT_FRAMES, GNT_MFN, out,
		     hv_say);
	guest_enter(im.entry, si, GUEST_BASE + (stack_pfn + 1) * PAGE);
}

/* Boot a guest in a child and collect its console and how it ended. */
void boot(const struct boot_opts *o, struct boot_result *r)
{
	int p[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	uint64_t t0 = now_ns();

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		alarm(20);
		/* A guest fault kills the child, whatever a sanitizer installed. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		child_boot(o, p[1]);
	}
	close(p[1]);
	while ((n = read(p[0], r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += (size_t)n;
	r->out[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &r->status, 0), pid);
	r->ns = now_ns() - t0;
	/* GUEST_BOOT_SHOW=1: show each guest's console, for debugging. */
	if (getenv("GUEST_BOOT_SHOW"))
		fprintf(stderr, "---- %s (status %#x)\n%s", o->cmdline, r->status, r->out);
}

bool exited_with(const struct boot_result *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

/* Whether the console holds @line as a whole line. */
bool has_line(const struct boot_result *r, const char *line)
{
	size_t n = strlen(line);
	const char *p = r->out;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == r->out || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/* How many whole lines of the console are @line. */
int count_lines(const struct boot_result *r, const char *line)
{
	size_t n = strlen(line);
	const char *p = r->out;
	int count = 0;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == r->out || p[-1] == '\n') && p[n] == '\n')
			count++;
		p++;
	}
	return count;
}

START_TEST(test_boot_banner_and_poweroff)
{
	struct boot_opts o = { .cmdline = "" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff),
		      "status %#x, console:\n%s", r.status, r.out);
	ck_assert_msg(!strncmp(r.out, "Splitvisor PV kernel ", 21), "%s", r.out);
	ck_line(&r, "cmdline: ");
	ck_line(&r, "memory: 8 MiB (2048 pages)");
	ck_line(&r, "vcpus: 1");
	ck_line(&r, "poweroff");
	ck_assert_ptr_null(strstr(r.out, "shared_info:"));
	ck_assert_ptr_null(strstr(r.out, "time:"));
}
END_TEST

START_TEST(test_boot_words_in_order)
{
	struct boot_opts o = { .cmdline = "print=one frob print=two", .vcpus = 3 };
	static struct boot_result r;
	char *a, *b, *c;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "cmdline: print=one frob print=two");
	ck_line(&r, "vcpus: 3");
	ck_line(&r, "unknown command 'frob'");
	a = strstr(r.out, "\none\n");
	b = strstr(r.out, "unknown command");
	c = strstr(r.out, "\ntwo\n");
	ck_assert(a && b && c && a < b && b < c);
	ck_assert(strstr(r.out, "\npoweroff\n") > c);
}
END_TEST

START_TEST(test_boot_bench_boot_right_after_banner)
{
	struct boot_opts o = { .cmdline = "bench-boot" };
	static struct boot_result r;
	char *nl;

	boot(&o, &r);
	nl = strchr(r.out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(!strncmp(nl + 1, "bench-boot: ready\n", 18), "%s", r.out);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
}
END_TEST

START_TEST(test_boot_halt_stops)
{
	struct boot_opts o = { .cmdline = "halt print=after" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "poweroff");
	ck_assert(!has_line(&r, "after"));
}
END_TEST

START_TEST(test_boot_reboot)
{
	struct boot_opts o = { .cmdline = "reboot" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_reboot));
	ck_line(&r, "reboot");
}
END_TEST

START_TEST(test_boot_crash_faults)
{
	struct boot_opts o = { .cmdline = "crash print=after" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSEGV, "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "crashing on purpose");
	ck_assert(!has_line(&r, "after"));
}
END_TEST

START_TEST(test_boot_crash_shutdown)
{
	struct boot_opts o = { .cmdline = "crash=shutdown" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_crash));
}
END_TEST

START_TEST(test_boot_spin)
{
	struct boot_opts o = { .cmdline = "spin=150" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "spin: 150 ms done");
	ck_assert_msg(r.ns >= 150000000ULL, "took %llu ns", (unsigned long long)r.ns);
}
END_TEST

START_TEST(test_boot_spin_without_time_crashes)
{
	struct boot_opts o = { .cmdline = "spin=10", .no_time = true };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_crash));
	ck_assert_ptr_nonnull(strstr(r.out, "time:"));
	ck_assert_ptr_nonnull(strstr(r.out, "spin: no time source"));
}
END_TEST

START_TEST(test_boot_shinfo_map_failure_reported)
{
	struct boot_opts o = { .cmdline = "print=ok", .map_shinfo_fails = true };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_assert_ptr_nonnull(strstr(r.out, "shared_info: mapping"));
	ck_line(&r, "ok");
}
END_TEST

START_TEST(test_boot_bench_hypercall)
{
	struct boot_opts o = { .cmdline = "bench-hypercall=1000" };
	static struct boot_result r;
	unsigned long long calls, ns;
	const char *l;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	l = strstr(r.out, "bench-hypercall: ");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "bench-hypercall: calls=%llu ns_per_call=%llu", &calls, &ns), 2);
	ck_assert_uint_eq(calls, 1000);
	ck_line(&r, "[hv] xen_version calls: 1000");
}
END_TEST

START_TEST(test_boot_bad_arguments_continue)
{
	struct boot_opts o = { .cmdline =
				   "spin=abc bench-hypercall spin=99999999999999999999 print=end" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_assert_ptr_nonnull(strstr(r.out, "spin: bad number 'abc'"));
	ck_assert_ptr_nonnull(strstr(r.out, "bench-hypercall: needs a number"));
	ck_line(&r, "end");
}
END_TEST

START_TEST(test_boot_long_word)
{
	static char cl[400];
	struct boot_opts o = { .cmdline = cl };
	static struct boot_result r;

	memset(cl, 'w', 300);
	strcpy(cl + 300, " print=end");
	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_assert_ptr_nonnull(strstr(r.out, "unknown command 'www"));
	ck_line(&r, "end");
}
END_TEST

START_TEST(test_boot_smp)
{
	struct boot_opts o = { .cmdline = "smp smp smp", .vcpus = MAX_VCPUS };
	static struct boot_result r;
	const char *p = r.out;
	char line[32];

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	/* Three runs, each with every secondary reporting once before it. */
	for (int run = 0; run < 3; run++) {
		const char *end = strstr(p, "smp: 8 vcpus ran\n");

		ck_assert_msg(end != NULL, "run %d:\n%s", run, r.out);
		for (int cpu = 1; cpu < MAX_VCPUS; cpu++) {
			const char *l;

			snprintf(line, sizeof(line), "vcpu %d: online\n", cpu);
			l = strstr(p, line);
			ck_assert_msg(l && l < end, "run %d cpu %d:\n%s", run, cpu, r.out);
		}
		p = end + 1;
	}
	ck_assert_ptr_null(strstr(r.out, "only"));
	ck_assert_ptr_null(strstr(r.out, "bad context"));
}
END_TEST

START_TEST(test_boot_smp_initialise_refused_then_retried)
{
	struct boot_opts o = { .cmdline = "smp smp", .vcpus = 3, .refuse_first_initialise = true };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "smp: vcpu 1: initialise failed: -12");
	ck_line(&r, "smp: vcpu 2: initialise failed: -12");
	ck_line(&r, "smp: failed: -19");
	/* The stacks went back to the allocator and came out usable again. */
	ck_line(&r, "smp: 3 vcpus ran");
	ck_line(&r, "vcpu 2: online");
}
END_TEST

START_TEST(test_boot_smp_single_vcpu)
{
	struct boot_opts o = { .cmdline = "smp" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "smp: 1 vcpus ran");
}
END_TEST

START_TEST(test_boot_wait_survives_events)
{
	struct boot_opts o = { .cmdline = "wait", .events = 4 };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_BLOCKED), "status %#x:\n%s", r.status, r.out);
	ck_line(&r, "wait: woke (upcalls=1 spurious=1)");
	ck_line(&r, "wait: woke (upcalls=3 spurious=3)");
	/* Only the first three wake-ups are reported. */
	ck_assert_ptr_null(strstr(r.out, "upcalls=4"));
	/*
	 * The wait loop masks events before it checks for watch callbacks and
	 * blocks (SCHEDOP_block unmasks), so no wake-up is lost in between.
	 */
	ck_assert_ptr_nonnull(strstr(r.out, "block: mask 1"));
	ck_assert_ptr_null(strstr(r.out, "block: mask 0"));
	ck_assert_ptr_null(strstr(r.out, "events: registering"));
}
END_TEST

START_TEST(test_boot_wait_blocks)
{
	struct boot_opts o = { .cmdline = "wait print=never" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_BLOCKED));
	ck_assert(!has_line(&r, "never"));
}
END_TEST

static Suite *guest_boot_suite(void)
{
	Suite *s = suite_create("guest_boot");
	TCase *tc = tcase_create("elf");

	tcase_add_test(tc, test_elf_notes);
	suite_add_tcase(s, tc);

	tc = tcase_create("boot");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_boot_banner_and_poweroff);
	tcase_add_test(tc, test_boot_words_in_order);
	tcase_add_test(tc, test_boot_bench_boot_right_after_banner);
	tcase_add_test(tc, test_boot_halt_stops);
	tcase_add_test(tc, test_boot_reboot);
	tcase_add_test(tc, test_boot_crash_faults);
	tcase_add_test(tc, test_boot_crash_shutdown);
	tcase_add_test(tc, test_boot_spin);
	tcase_add_test(tc, test_boot_spin_without_time_crashes);
	tcase_add_test(tc, test_boot_shinfo_map_failure_reported);
	tcase_add_test(tc, test_boot_bench_hypercall);
	tcase_add_test(tc, test_boot_bad_arguments_continue);
	tcase_add_test(tc, test_boot_long_word);
	tcase_add_test(tc, test_boot_smp);
	tcase_add_test(tc, test_boot_smp_single_vcpu);
	tcase_add_test(tc, test_boot_smp_initialise_refused_then_retried);
	tcase_add_test(tc, test_boot_wait_blocks);
	tcase_add_test(tc, test_boot_wait_survives_events);
	suite_add_tcase(s, tc);

	suite_add_tcase(s, guest_xen_tcase());
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_boot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
