// SPDX-License-Identifier: MIT
/*
 * KVM's shadow MMU and the page tables the hypervisor writes (docs/mmu.md, "Engines").
 *
 * The hypervisor writes a guest's page tables through its own mapping of
 * the memfd, which KVM's shadow MMU (the only MMU of PVM hosts) does not
 * see: it would go on using shadow entries made from the old contents.
 * KVM does see a write the guest's CPU makes to a table it shadows, and
 * drops the shadow of what was written (an 8-byte store: that one entry;
 * a narrower one: every shadow page of the frame), on every vCPU, before
 * the write completes.
 *
 * So each domain has one more KVM vCPU that no guest code ever runs on:
 * the sync vCPU.  The written places are queued (kvm_sync_note); before a
 * vCPU next enters the guest (or at once, where Xen's rules need it) the
 * queue is turned into straight-line CPL0 code, one atomic "or $0" per
 * place, which changes no value, and the sync vCPU runs it on tables of
 * its own that map guest-physical memory at the same virtual addresses,
 * supervisor-only, in a memslot of its own outside the guest's.  KVM
 * emulates CPL0 code on PVM, so each store goes through KVM's write
 * tracking.  Where that cannot be (no sync vCPU, more places than fit in
 * one run, a run that fails) the old way is taken: a memslot toggle,
 * which drops every shadow page of the VM (kvm_mem.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kvm.h"

/* The sync vCPU's memslot: its L4, L3, code page, then one L2 per GiB of guest-physical space. */
#define SYNC_GPA (SV_PRIV_GPA - 0x1000000ULL)
#define SYNC_SIZE 0x200000ULL
#define SYNC_L4 0
#define SYNC_L3 1
#define SYNC_CODE 2
#define SYNC_L2 3
#define SYNC_MAX_GIB (SYNC_SIZE / PAGE_SIZE - SYNC_L2)
#define SYNC_PORT 0xED
#define SYNC_VCPU_ID SV_MAX_VCPUS /* past the guest's ids */
#define SYNC_TRIES 1000		  /* signals (kicks) may cut a run short: it is run again */

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)

#define SYNC_TAIL 7 /* out; jmp rel32 */

_Static_assert(KVM_SYNC_MAX * 15 + SYNC_TAIL <= PAGE_SIZE, "the sync code fits in its page");
_Static_assert(SYNC_GPA >= SV_RAM_LOW_MAX && SYNC_GPA + SYNC_SIZE <= SV_PRIV_GPA - PAGE_SIZE,
	       "the sync slot sits in the hole below the private pages, clear of the flush slot");

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

size_t kvm_sync_code(uint8_t *code, size_t size, const uint64_t *q, unsigned n)
{
	size_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = q[i] & ~(uint64_t)KVM_SYNC_PAGE;
		bool page = q[i] & KVM_SYNC_PAGE;

		if (o + 15 + SYNC_TAIL > size)
			return 0;
		if (gpa < 0x80000000ULL) {
			/* lock orq $0, gpa  /  lock orw $0, gpa (absolute, sign-extended disp32) */
			code[o++] = page ? 0x66 : 0xf0;
			code[o++] = page ? 0xf0 : 0x48;
			code[o++] = 0x83;
			code[o++] = 0x0c;
			code[o++] = 0x25;
			put32(code + o, (uint32_t)gpa);
			o += 4;
			code[o++] = 0;
			continue;
		}
		/* movabs $gpa, %rax; lock orq $0, (%rax)  /  lock orw $0, (%rax) */
		code[o++] = 0x48;
		code[o++] = 0xb8;
		memcpy(code + o, &gpa, 8);
		o += 8;
		code[o++] = page ? 0x66 : 0xf0;
		code[o++] = page ? 0xf0 : 0x48;
		code[o++] = 0x83;
		code[o++] = 0x08;
		code[o++] = 0;
	}
	if (o + SYNC_TAIL > size)
		return 0;
	code[o++] = 0xe6; /* out %al, $SYNC_PORT */
	code[o++] = SYNC_PORT;
	/*
	 * jmp back to the start: where KVM completes the `out` by skipping it
	 * when the vCPU is entered again at the same place (hardware KVM's
	 * fast PIO, an empty queue), this exits again, and running the
	 * stores twice changes nothing.
	 */
	code[o++] = 0xe9;
	put32(code + o, (uint32_t)(-(int32_t)(o + 4)));
	o += 4;
	return o;
}

void kvm_sync_note(struct hv_domain *d, uint64_t gpa, bool page)
{
	struct kvm_dom *kd = kvm_dom(d);
	struct kvm_sync *s;
	uint64_t e;

	if (!kd)
		return;
	s = &kd->sync;
	e = page ? (gpa & ~(PAGE_SIZE - 1)) | KVM_SYNC_PAGE : gpa & ~7ULL;
	pthread_mutex_lock(&kd->flush_lock);
	if (!s->all && !(s->nr && s->q[s->nr - 1] == e)) {
		if (s->nr == KVM_SYNC_MAX)
			s->all = true;
		else
			s->q[s->nr++] = e;
	}
	__atomic_store_n(&s->pending, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&kd->flush_lock);
}

static int sync_run(struct kvm_sync *s)
{
	struct kvm_run *run = s->run;

	for (unsigned t = 0; t < SYNC_TRIES; t++) {
		memset(&run->s.regs.regs, 0, sizeof(run->s.regs.regs));
		run->s.regs.regs.rip = SYNC_GPA + SYNC_CODE * PAGE_SIZE;
		run->s.regs.regs.rflags = 2; /* IF clear: nothing interrupts it */
		run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
		if (ioctl(s->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* a kick meant for the vCPU this thread runs */
			return -errno;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == SYNC_PORT)
			return 0;
		return -EIO;
	}
	return -EINTR;
}

int kvm_sync_flush(struct hv_domain *d)
{
	struct kvm_dom *kd = kvm_dom(d);
	struct kvm_sync *s = &kd->sync;
	int ret = 0;

	pthread_mutex_lock(&kd->flush_lock);
	if (!s->nr && !s->all)
		goto out;
	if (!s->all && s->fd >= 0 &&
	    kvm_sync_code(s->mem + SYNC_CODE * PAGE_SIZE, PAGE_SIZE, s->q, s->nr)) {
		ret = sync_run(s);
		if (ret) {
			hv_log("d%u: the shadow sync vCPU failed (%s): memslot toggles from now on",
			       d->domid, strerror(-ret));
			s->fail = true;
			close(s->fd);
			s->fd = -1;
		}
		s->runs++;
	}
	if (s->all || s->fd < 0) {
		ret = kvm_mem_toggle(d);
		s->toggles++;
	}
	s->nr = 0;
	s->all = false;
out:
	__atomic_store_n(&s->pending, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&kd->flush_lock);
	return ret;
}

static struct kvm_segment flat(uint16_t sel, bool code)
{
	return (struct kvm_segment){ .limit = 0xffffffff,
				     .selector = sel,
				     .type = code ? 0xb : 0x3,
				     .present = 1,
				     .db = !code,
				     .s = 1,
				     .l = code,
				     .g = 1 };
}

/*
 * The sync vCPU and its memslot.  Not an error when it cannot be made:
 * the domain then flushes with memslot toggles.
 */
void kvm_sync_init(struct hv_domain *d)
{
	struct kvm_dom *kd = kvm_dom(d);
	struct kvm_sync *s = &kd->sync;
	const struct hv_mem *m = &d->mem;
	uint64_t end = SYNC_GPA + SYNC_SIZE, gib, *l4, *l3;
	struct kvm_sregs sr;
	struct kvm_userspace_memory_region slot = { .slot = KVM_SLOT_SYNC,
						    .guest_phys_addr = SYNC_GPA,
						    .memory_size = SYNC_SIZE };
	const char *why = NULL;

	s->fd = -1;
	for (unsigned i = 0; i < m->nr_ram; i++)
		if (m->ram[i].gpa + m->ram[i].size > end)
			end = m->ram[i].gpa + m->ram[i].size;
	gib = (end + (1ULL << 30) - 1) >> 30;
	if (gib > SYNC_MAX_GIB) {
		why = "guest-physical space too large";
		goto fail;
	}
	s->mem = mmap(NULL, SYNC_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		why = "no memory";
		goto fail;
	}
	/* Guest-physical memory at the same virtual addresses, 2 MiB pages, supervisor-only. */
	l4 = (uint64_t *)(s->mem + SYNC_L4 * PAGE_SIZE);
	l3 = (uint64_t *)(s->mem + SYNC_L3 * PAGE_SIZE);
	l4[0] = (SYNC_GPA + SYNC_L3 * PAGE_SIZE) | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < gib; g++) {
		uint64_t *l2 = (uint64_t *)(s->mem + (SYNC_L2 + g) * PAGE_SIZE);
		l3[g] = (SYNC_GPA + (SYNC_L2 + g) * PAGE_SIZE) | PTE_P | PTE_RW;
		for (uint64_t i = 0; i < 512; i++)
			l2[i] = (g << 30) | (i << 21) | PTE_P | PTE_RW | PTE_PS;
	}
	slot.userspace_addr = (uint64_t)(uintptr_t)s->mem;
	if (ioctl(kd->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		why = "memslot refused";
		goto fail;
	}
	s->fd = ioctl(kd->vm_fd, KVM_CREATE_VCPU, SYNC_VCPU_ID);
	if (s->fd < 0) {
		why = "vCPU refused";
		goto fail;
	}
	s->run = mmap(NULL, (size_t)kvm_host.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->fd, 0);
	if (s->run == MAP_FAILED) {
		s->run = NULL;
		why = "cannot map its run area";
		goto fail;
	}
	if (ioctl(s->fd, KVM_SET_CPUID2, kvm_host.cpuid) < 0 ||
	    ioctl(s->fd, KVM_GET_SREGS, &sr) < 0) {
		why = "cannot set it up";
		goto fail;
	}
	/* 64-bit CPL0, its own tables; no IDT: a fault is a triple fault, which fails the run. */
	sr.cs = flat(0x8, true);
	sr.ss = sr.ds = sr.es = sr.fs = sr.gs = flat(0x10, false);
	sr.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1 };
	sr.ldt = (struct kvm_segment){ .unusable = 1, .type = 2 };
	sr.gdt.base = sr.idt.base = 0;
	sr.gdt.limit = sr.idt.limit = 0;
	sr.cr0 = 0x80010033; /* PG, WP, NE, ET, MP, PE */
	sr.cr4 = 0x620;	     /* OSXMMEXCPT, OSFXSR, PAE */
	sr.efer = 0xd00;     /* NXE, LMA, LME */
	sr.cr3 = SYNC_GPA + SYNC_L4 * PAGE_SIZE;
	if (ioctl(s->fd, KVM_SET_SREGS, &sr) < 0) {
		why = "cannot load its registers";
		goto fail;
	}
	s->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	/* A first, empty run: a sync vCPU that cannot run is found now, not at the first flush. */
	if (!kvm_sync_code(s->mem + SYNC_CODE * PAGE_SIZE, PAGE_SIZE, NULL, 0) || sync_run(s)) {
		why = "its first run failed";
		goto fail;
	}
	return;
fail:
	hv_log("d%u: no shadow sync vCPU (%s): page-table writes flush with memslot toggles",
	       d->domid, why);
	s->fail = true;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void kvm_sync_fini(struct hv_domain *d)
{
	struct kvm_sync *s = &kvm_dom(d)->sync;

	if (s->run)
		munmap(s->run, (size_t)kvm_host.vcpu_mmap_size);
	if (s->fd >= 0)
		close(s->fd);
	s->run = NULL;
	s->fd = -1;
}

/* After the VM is closed: its memslot's memory. */
void kvm_sync_free(struct hv_domain *d)
{
	struct kvm_sync *s = &kvm_dom(d)->sync;

	if (s->mem)
		munmap(s->mem, SYNC_SIZE);
	s->mem = NULL;
}
