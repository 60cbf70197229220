// SPDX-License-Identifier: MIT
// libFuzzer target for the hypercall argument decoders: the real hypervisor
// core (hypercall.c, evtchn.c, gnttab.c, sched.c, pv.c, ...) behind an engine
// that runs nothing, as a hostile PV guest would drive it.
//
// The guest: one domain, 1 MiB of RAM, two vCPUs, page tables mapping 16
// user pages at DATA_VA (frames 0x10..0x1f), a supervisor-only page, a
// read-only page and a page outside guest memory (as tests/unit/
// test_hypercall.c lays them).  Input: bytes 0-1 say how many of the next
// bytes fill the data pages (so hypercall structures are fuzzed too); then
// records of one hypercall each: number (1 byte), how to form each argument
// (2 bytes, 2 bits an argument: raw, a pointer into the data pages, a small
// number, or raw again), five 8-byte arguments.
//
// Beyond ASan/UBSan, it checks what any hypercall must keep: a result that is
// a value or one of Xen's errnos, the domain's private pages (shared_info
// aside) not mapped by the guest's tables, and the M2P's page tables
// unchanged (its entries only invalidated for frames given back).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../hypervisor/hv.h"
#include "sv/procabi.h"
#include "../tests/fakes/hv_fake_engine.h"

/* main.c's and ctl.c's globals (not linked). */
struct hv_host hv_host = { .tsc_khz = 2000000 };
const char *hv_rundir = "/tmp";

#define RAM (1u << 20)
#define DATA_VA 0x400000ULL
#define DATA_GPA 0x10000ULL
#define DATA_LEN (16 * 4096)
#define MAX_CALLS 64
#define RECORD (1 + 2 + 5 * 8)

static struct hv_domain *d;
static struct hv_engine fz_engine;
static char rundir[] = "/tmp/sv-hc-fuzz.XXXXXX";
static uint8_t *m2p_snapshot;
static uint64_t m2p_snapshot_len;

static uint64_t *table(uint64_t gpa)
{
	return mem_gpa(&d->mem, gpa, 4096);
}

/* Memory, page tables, vCPUs, events and grants as a fresh guest has them. */
static void guest_reset(void)
{
	memset(d->mem.base, 0, d->mem.ram_size);
	table(0x1000)[0] = 0x2000 | 7;
	table(0x2000)[0] = 0x3000 | 7;
	table(0x3000)[2] = 0x4000 | 7;
	for (int i = 0; i < 16; i++)
		table(0x4000)[i] = (DATA_GPA + i * 4096ULL) | 7;
	table(0x4000)[16] = 0x20000 | 3;    /* supervisor only */
	table(0x4000)[17] = 0x21000 | 5;    /* read-only */
	table(0x4000)[18] = 0x7f000000 | 7; /* outside guest memory */
	memset(d->shinfo, 0, 4096);
	/* Every frame present again, the M2P as the builder left it. */
	memset(d->mem.absent, 0, (d->mem.nr_frames + 63) / 64 * sizeof(uint64_t));
	d->mem.cur_pages = d->mem.max_pages = d->mem.boot_pages = d->mem.nr_frames;
	memcpy(mem_gpa(&d->mem, d->m2p_tab_gpa, m2p_snapshot_len), m2p_snapshot, m2p_snapshot_len);
	d->state = DOM_ACTIVE;
	d->shutdown_reason = 0;
	memset(d->watchdog_ns, 0, sizeof(d->watchdog_ns));
	d->vm_assist = 0;
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		struct hv_vcpu *v = d->vcpus[i];

		memset(&v->regs, 0, sizeof(v->regs));
		v->cr3 = 0x1000;
		v->state = i == 0 ? VCPU_RUNNABLE : VCPU_OFFLINE;
		v->has_context = i == 0;
		v->timer_deadline_ns = v->poll_deadline_ns = 0;
		v->polling = false;
		v->nr_poll_ports = 0;
		v->period_ns = v->period_next_ns = 0;
		memset(&v->runstate, 0, sizeof(v->runstate));
		v->runstate.state = RUNSTATE_offline;
		v->runstate_area = 0;
		v->vinfo = NULL;
		v->event_callback = v->failsafe_callback = v->syscall_callback = 0;
		v->syscall32_callback = v->sysenter_callback = 0;
		memset(v->trap_addr, 0, sizeof(v->trap_addr));
		memset(v->trap_flags, 0, sizeof(v->trap_flags));
		v->nmi_callback = 0;
		v->nmi_pending = false;
		v->nmi_masked = false;
	}
	if (evtchn_init(d, EVTCHN_GUEST_PORTS) || gnttab_init(d))
		abort();
}

static void guest_release(void)
{
	evtchn_close_all(d);
	evtchn_fini(d);
	gnttab_fini(d);
}

/* At exit: the console log directory console_init made goes with the run. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_rundir(void)
{
	nftw(rundir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void setup_once(void)
{
	if (!mkdtemp(rundir))
		abort();
	atexit(remove_rundir);
	d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->domid = 7;
	d->gen = 1;
	strcpy(d->name, "fuzz");
	/*
	 * The KVM engine's guest-visible ABI (layout, hypercall page) and
	 * nothing that touches a VM: every host hook is a fake here or absent
	 * (the core treats ptes_changed, new_baseptr and sync_mappings as
	 * optional), so a hook added to the engine later cannot reach KVM
	 * state this domain does not have.
	 */
	hv_fake_engine(&fz_engine);
	d->eng = &fz_engine;
	d->max_vcpus = 2;
	d->kind = SV_DOM_PV;
	atomic_init(&d->refs, 1);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->changed, NULL);
	pthread_cond_init(&d->timer_cond, NULL);
	if (mem_init(&d->mem, RAM, pv_priv_size(2, RAM)) || pv_domain_init(d) ||
	    console_init(d, rundir))
		abort();
	d->shinfo = mem_gpa(&d->mem, SV_SHARED_INFO_GPA, 4096);
	if (domain_table_init())
		abort();
	for (unsigned i = 0; i < 2; i++) {
		struct hv_vcpu *v = calloc(1, sizeof(*v));

		if (!v)
			abort();
		v->dom = d;
		v->id = i;
		pthread_cond_init(&v->wake, NULL);
		d->vcpus[i] = v;
	}
	/* The M2P and its page tables are the hypervisor's: no hypercall may change them. */
	m2p_snapshot_len = d->mem.priv.size - (d->m2p_tab_gpa - SV_PRIV_GPA);
	m2p_snapshot = malloc(m2p_snapshot_len);
	if (!m2p_snapshot || !d->m2p_l3_gpa)
		abort();
	memcpy(m2p_snapshot, mem_gpa(&d->mem, d->m2p_tab_gpa, m2p_snapshot_len), m2p_snapshot_len);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

static uint64_t form_arg(unsigned how, uint64_t raw)
{
	switch (how) {
	case 1:
		return DATA_VA + raw % (DATA_LEN + 64); /* may run off the end */
	case 2:
		return raw & 0xff;
	default:
		return raw;
	}
}

/* Every level-1 entry the guest's tables hold names RAM, shared_info or a grant frame. */
static void check_mappings(void)
{
	const uint64_t *l1 = table(0x4000);

	for (int i = 0; i < 512; i++) {
		uint64_t e = __atomic_load_n(&l1[i], __ATOMIC_RELAXED),
			 frame = e & 0x000ffffffffff000ULL;

		if (!(e & 1) || i == 18) /* 18: the test layout's own bad entry */
			continue;
		if (!mem_is_ram(&d->mem, frame, 4096) && frame != SV_SHARED_INFO_GPA &&
		    !gnttab_is_frame(d, frame)) {
			fprintf(stderr, "entry %d maps 0x%llx, not the guest's\n", i,
				(unsigned long long)frame);
			abort();
		}
	}
}

/*
 * The M2P's page tables are the hypervisor's and never change; an entry of
 * the table itself changes only to INVALID while its frame is given back
 * (the frame-to-pfn mapping never moves).
 */
static void check_m2p(void)
{
	const uint64_t *now = mem_gpa(&d->mem, d->m2p_tab_gpa, m2p_snapshot_len);
	const uint64_t *was = (const uint64_t *)m2p_snapshot;

	for (uint64_t i = 0; i < m2p_snapshot_len / 8; i++) {
		if (now[i] == was[i])
			continue;
		if (i < d->m2p_entries && now[i] == ~0ULL && !mem_frame_present(&d->mem, i * 4096))
			continue;
		fprintf(stderr, "M2P word %llu changed\n", (unsigned long long)i);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t fill;

	if (!d)
		setup_once();
	if (size < 2)
		return 0;
	guest_reset();
	fill = ((size_t)data[0] | (size_t)data[1] << 8) % (DATA_LEN + 1);
	data += 2, size -= 2;
	if (fill > size)
		fill = size;
	memcpy(mem_gpa(&d->mem, DATA_GPA, DATA_LEN), data, fill);
	data += fill, size -= fill;

	for (int n = 0; n < MAX_CALLS && size >= RECORD; n++, data += RECORD, size -= RECORD) {
		struct hv_vcpu *v = d->vcpus[n & 1 ? 1 : 0];
		unsigned how = (unsigned)data[1] | (unsigned)data[2] << 8;
		struct hv_regs *r = &v->regs;
		long ret;

		if (v->state == VCPU_OFFLINE)
			v = d->vcpus[0];
		r = &v->regs;
		memset(r, 0, sizeof(*r));
		r->rsp = DATA_VA + DATA_LEN - 256; /* iret reads its frame there */
		r->rax = data[0] % 48;
		r->rdi = form_arg(how & 3, le64(data + 3));
		r->rsi = form_arg(how >> 2 & 3, le64(data + 11));
		r->rdx = form_arg(how >> 4 & 3, le64(data + 19));
		r->r10 = form_arg(how >> 6 & 3, le64(data + 27));
		r->r8 = form_arg(how >> 8 & 3, le64(data + 35));
		v->regs_dirty = false;
		hypercall_dispatch(v);
		ret = (long)r->rax;
		/* iret returns to the guest without a result; everything else has one. */
		if (data[0] % 48 != __HYPERVISOR_iret && !v->regs_dirty)
			abort();
		/* get_debugreg answers a register's value: a breakpoint address reads negative. */
		if (data[0] % 48 != __HYPERVISOR_iret && data[0] % 48 != __HYPERVISOR_get_debugreg &&
		    v->regs_dirty && ret < 0 && ret < -200)
			abort(); /* not one of Xen's errnos */
		check_mappings();
		if (d->state != DOM_ACTIVE)
			break; /* shut down or crashed: the guest runs no more */
	}
	check_m2p();
	guest_release();
	return 0;
}
