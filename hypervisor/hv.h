/* SPDX-License-Identifier: MIT */
/* Internal interfaces of the hypervisor core: host, domains, vCPUs, memory. */
#ifndef HV_H
#define HV_H

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/xen.h>
#include <xen/vcpu.h>
#include "sv/ctl.h"
#include "sv/pvabi.h"
#include "sv/rate.h"

#define HV_MAX_DOMAINS 1024
/* The Xen release whose ABI we answer with (xen_version, xl info). */
#define HV_XEN_MAJOR 4
#define HV_XEN_MINOR 17
#define HV_XEN_EXTRA ".0-splitvisor"
#define HV_XEN_CAPS "xen-3.0-x86_64"
#define PAGE_SIZE 4096ULL
#define PAGE_SHIFT 12

/* log.c: timestamped lines to stderr (the supervisor sends it to a file). */
void hv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define hv_err(...) hv_log("error: " __VA_ARGS__)

/*
 * A ring of log text (log.c): what `xl dmesg` reads.  Offsets count every
 * byte ever appended; what is kept is [start, head), at most size bytes,
 * beginning at a line.  Every call takes lock: any thread may log.
 */
struct hv_logring {
	pthread_mutex_t lock;
	char *buf;
	size_t size;
	uint64_t head;	/* bytes ever appended */
	uint64_t start; /* oldest byte kept (moved by overflow and clear) */
};
extern struct hv_logring hv_log_ring; /* hv_log's lines, SV_HVLOG_BUF bytes */
int hv_logring_init(struct hv_logring *r, size_t size);
void hv_logring_fini(struct hv_logring *r);
void hv_logring_append(struct hv_logring *r, const char *s, size_t len);
/*
 * Up to max bytes from *offset on (from the oldest kept when *offset is
 * older); *offset becomes where they start, *next the offset after them.
 * With clear, everything before *next is dropped.  Returns the count.
 */
uint32_t hv_logring_read(struct hv_logring *r, uint64_t *offset, uint64_t *next, char *out,
			 uint32_t max, bool clear);

struct hv_domain;
struct hv_vcpu;

/* The host: which engines it has, set once at start-up by main.c, then read-only. */
struct hv_host {
	enum sv_kvm_kind kind; /* SV_KVM_NONE without a usable /dev/kvm */
	char kind_detail[64];
	uint64_t tsc_khz; /* the TSC rate guests see (KVM's, or measured) */
	uint64_t start_ns;
	const struct hv_engine *engine; /* a create that names none gets this one */
	uint32_t engines;		/* SV_ENGINE_BIT() of each usable engine */
	char engine_detail[128];	/* why the default is what it is */
};
extern struct hv_host hv_host;

uint64_t hv_now_ns(void);

/*
 * A vCPU's general registers, in the order of KVM's struct kvm_regs (the
 * KVM engine copies them as one block) and of the process engine's
 * shared block.
 */
struct hv_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

/* Why an engine's vcpu_run returned. */
enum hv_exit_kind {
	HV_EXIT_NONE,	   /* kicked, interrupted: nothing to do */
	HV_EXIT_HYPERCALL, /* number in rax, arguments in rdi rsi rdx r10 r8 */
	HV_EXIT_FAULT,	   /* a guest exception: vector, error_code, cr2, frame */
	HV_EXIT_SYSCALL,   /* a host system call the engine denied: sys_nr, sys_abi */
	HV_EXIT_CRASH,	   /* the engine found the vCPU unrunnable: why */
};

struct hv_exit {
	enum hv_exit_kind kind;
	unsigned vector;
	uint64_t error_code, cr2;
	uint64_t frame[5]; /* rip, cs, rflags, rsp, ss at the fault */
	uint64_t sys_nr;
	const char *sys_abi;
	char why[160];
};

/* A range of guest-virtual addresses whose mappings changed (mmu.c to the engines). */
struct hv_va_range {
	uint64_t va, len;
};

/*
 * An engine runs vCPUs (DESIGN.md, "Engines"): the core above it knows
 * domains, memory, hypercalls, events and grants, and nothing of how a
 * vCPU executes.  Every domain names its engine; both may serve at once.
 */
struct hv_engine {
	const char *name;
	enum sv_engine id;
	uint64_t m2p_va;       /* where the guest finds the M2P */
	uint64_t virt_start;   /* XENVER_platform_parameters: where the hypervisor's range begins */
	uint64_t seg_base_max; /* %fs/%gs bases it can load lie below this; 0: any canonical */
	/*
	 * The guest runs without CR4.OSXSAVE (KVM: its CR4 is ours), so
	 * XSAVE and every VEX/EVEX-encoded extension would #UD: cpuid hides
	 * them (pv_emul.c), and the guest keeps to FXSAVE and SSE.
	 */
	bool no_xsave;
	/* The guest-virtual range the hypervisor owns: update_va_mapping refuses it. */
	bool (*va_reserved)(uint64_t va);
	/* After memory and the PV private pages exist: the address space. */
	int (*domain_init)(struct hv_domain *d);
	/* The domain is dying: every vcpu_run must return, now or soon. */
	void (*domain_stop)(struct hv_domain *d);
	void (*domain_fini)(struct hv_domain *d);
	int (*vcpu_init)(struct hv_vcpu *v);
	void (*vcpu_fini)(struct hv_vcpu *v);
	/*
	 * Apply the start state: v->regs, v->cr3, the segment bases.  Later
	 * changes (segs_dirty, fpu_ts_dirty) are loaded by vcpu_run.
	 */
	int (*vcpu_load)(struct hv_vcpu *v);
	/* Run until something needs the core; registers in v->regs on return. */
	int (*vcpu_run)(struct hv_vcpu *v, struct hv_exit *e);
	/* Any thread: make a running vcpu_run return soon. */
	void (*vcpu_kick)(struct hv_vcpu *v);
	/* The vCPU's own thread, before it decides to run: forget old kicks. */
	void (*vcpu_unkick)(struct hv_vcpu *v);
	/*
	 * Optional: the vCPU stopped (a kick) between a guest instruction and
	 * its fault's delivery, or inside one of the engine's stubs: no event
	 * or NMI may be bounced onto that state; the next run goes on first.
	 */
	bool (*vcpu_mid_stub)(struct hv_vcpu *v);
	uint64_t (*vcpu_tsc)(struct hv_vcpu *v);
	/*
	 * Whether this engine can make a guest's rdtsc fault on this host, so
	 * that tsc_mode can emulate it (tsc.c); NULL: it always can (KVM: CR4.TSD).
	 * why: a line for the log when it cannot.
	 */
	bool (*tsc_trap_ok)(char *why, size_t len);
	/* Fill the guest's hypercall page. */
	void (*hypercall_page)(struct hv_domain *d, uint8_t *page);
	/* A top-level table the guest will run on: the hypervisor's slots in it. */
	int (*install_l4)(struct hv_domain *d, uint64_t l4_gpa);
	/* The hypervisor changed the level-1 entry of va in v's tables. */
	int (*pte_changed)(struct hv_vcpu *v, uint64_t va);
	/*
	 * Optional (else pte_changed per page): a batch of page-table updates
	 * (mmu.c) changed the mappings of these ranges of v's current tables;
	 * n == 0: anything may have changed.  Called once per hypercall.
	 */
	int (*ptes_changed)(struct hv_vcpu *v, const struct hv_va_range *r, unsigned n);
	/*
	 * Optional: the hypervisor wrote the entry at gpa of a page table (mmu.c,
	 * the MMU lock held); page: the frame at gpa just became a table, and
	 * anything in it may differ from what it held when it last was one.
	 */
	void (*table_written)(struct hv_domain *d, uint64_t gpa, bool page);
	/*
	 * Optional: the top-level table (gpa) whose mappings the engine keeps
	 * for v now; ptes_changed's ranges are relative to it (else to v->cr3).
	 * The process engine's runner follows one set of tables for all vCPUs.
	 */
	uint64_t (*mapped_base)(struct hv_vcpu *v);
	/* Optional: v->cr3 now names other (validated) tables: v runs on them from now on. */
	int (*new_baseptr)(struct hv_vcpu *v);
	/*
	 * Optional: a frame that was mapped writable is about to become a page
	 * table: on return no vCPU of the domain may still write it through a
	 * stale mapping (Xen's TLB flush on a type change).
	 */
	int (*sync_mappings)(struct hv_vcpu *v);
	/*
	 * The host thread that runs v's guest code: its tid, and in *pid the
	 * process it belongs to (for /proc/PID/task/TID); 0 while there is none.
	 */
	pid_t (*vcpu_host_tid)(struct hv_vcpu *v, pid_t *pid);
	/*
	 * Optional: v's guest GDT (v->gdt_frames, v->gdt_ents) changed, or a
	 * descriptor in one of its frames did (update_descriptor): an engine
	 * whose vCPUs load the guest's descriptors takes them from there.
	 */
	void (*gdt_changed)(struct hv_vcpu *v);
	/*
	 * Optional (NULL: nothing to do, as KVM): d, which has never run,
	 * turns out to map VAs below SV_LOW_VA_END (d->low_va was just set,
	 * as SV_CTL_CREATE_F_LOW_VA would have set it): make its engine
	 * instance the one a low-VA domain is created with.  d->lock held.
	 * 0, or -errno and why; on failure the domain cannot run.
	 */
	int (*low_va_late)(struct hv_domain *d, char *why, size_t len);
	/*
	 * Optional: v's LDT changed (MMUEXT_SET_LDT or a context: v->ldt_frames
	 * and mmu_vcpu_ldt), or a descriptor in one of its frames did
	 * (update_descriptor): an engine whose vCPUs load the guest's LDT
	 * takes it from there.  Any thread; d->lock may be held.
	 */
	void (*ldt_changed)(struct hv_vcpu *v);
	/*
	 * Its vCPUs load the guest's own GDT descriptors (the KVM engine's
	 * per-vCPU tables), its own LDT descriptors (both engines): an
	 * instruction and HYPERVISOR_iret may use those selectors.
	 */
	bool guest_gdt, guest_ldt;
};

extern const struct hv_engine hv_kvm_engine;  /* kvm/ */
extern const struct hv_engine hv_proc_engine; /* proc/ */
/* Start-up probes: 0 when the engine can run guests here, else -errno and why. */
int kvm_engine_probe(struct hv_host *h, char *why, size_t len);
int proc_engine_probe(struct hv_host *h, char *why, size_t len);
const struct hv_engine *hv_engine_by_id(enum sv_engine id);
int hv_engines_init(const char *want);

/* Guest memory (mem.c). */
struct hv_mem {
	int memfd;
	uint8_t *base; /* whole memfd mapped in this process */
	uint64_t memfd_size;
	uint64_t ram_size;
	unsigned nr_ram;
	struct sv_mem_range ram[2];
	struct sv_mem_range priv;
	/*
	 * Ballooning (memop.c), under the domain's lock: which RAM frames
	 * the guest gave back (one bit per frame, in pfn = memfd order; their
	 * memory went back to the host), how many it holds, and how many it
	 * may hold (XEN_DOMCTL_max_mem's figure).
	 */
	uint64_t *absent;
	uint64_t nr_frames; /* RAM frames: ram_size / PAGE_SIZE */
	uint64_t cur_pages;
	uint64_t max_pages;
	uint64_t boot_pages; /* populated at create: the first boot_pages frames */
};

int mem_init(struct hv_mem *m, uint64_t ram_bytes, uint64_t priv_bytes);
/* The balloon state of mem_init's memory: every frame present, the maximum at all of them. */
int mem_balloon_setup(struct hv_mem *m);
void mem_fini(struct hv_mem *m);
/* Host pointer for [gpa, gpa+len) if it lies inside one range, else NULL. */
void *mem_gpa(const struct hv_mem *m, uint64_t gpa, uint64_t len);
bool mem_is_ram(const struct hv_mem *m, uint64_t gpa, uint64_t len);
/* Offset in the memfd of the page at gpa (RAM or private), or -EINVAL. */
int64_t mem_offset(const struct hv_mem *m, uint64_t gpa);
/* gpa is in a RAM frame the guest has not given back (any thread; no lock needed). */
bool mem_frame_present(const struct hv_mem *m, uint64_t gpa);

struct evtchn;
struct evtchn_client;

/* A domain's event-channel table (evtchn.c). */
struct hv_evtchn {
	pthread_mutex_t lock;
	unsigned nr; /* ports 1..nr-1 usable */
	struct evtchn *ports;
	uint32_t virq_port[SV_MAX_VCPUS][NR_VIRQS];
	atomic_int nr_polling;	  /* vCPUs in SCHEDOP_poll */
	struct evtchn_fifo *fifo; /* FIFO ABI state from the first init_control (evtchn_fifo.c) */
};

#define EVTCHN_GUEST_PORTS 1024
#define EVTCHN_DOM0_PORTS 4096

enum hv_vcpu_state {
	VCPU_OFFLINE, /* not brought up (or downed) */
	VCPU_RUNNABLE,
	VCPU_BLOCKED, /* SCHEDOP_block: waits for an event or its timer */
	VCPU_STOPPED, /* domain shut down, crashed or dying */
};

/* A vCPU context's gdt_frames: Xen's 16 (only FIRST_RESERVED_GDT_PAGE of them usable). */
#define PV_GDT_FRAMES 16

struct hv_vcpu {
	struct hv_domain *dom;
	unsigned id;
	void *eng; /* the engine's per-vCPU state */
	pthread_t thread;
	bool thread_started;
	enum hv_vcpu_state state;	  /* under dom->lock */
	enum hv_vcpu_state before_shutdown; /* what domain_resume gives back (under dom->lock) */
	bool has_context;		  /* registers set, may go online */
	bool start_online;		  /* a restored context: runs at the first unpause */
	struct hv_regs regs;		  /* the vCPU's registers whenever it is not running */
	bool regs_dirty;		  /* regs changed by the core: the engine must load them */
	bool load_state;		  /* apply the start state before the next run */
	uint64_t fs_base, gs_base_kernel; /* the segment bases (pv_priv.c keeps them) */
	uint64_t cr3; /* the guest's page-table base (a PV guest cannot change it behind us) */
	uint64_t timer_deadline_ns;	    /* singleshot timer (host monotonic ns), 0 = none */
	uint64_t period_ns;		    /* VCPUOP_set_periodic_timer; 0 = stopped */
	uint64_t period_next_ns;	    /* its next tick (host monotonic ns) */
	struct vcpu_runstate_info runstate; /* under dom->lock; times in Xen system ns */
	uint64_t runstate_area;		    /* guest VA of its registered copy, 0 = none */
	uint64_t time_area; /* guest VA of its vcpu_time_info copy (register_vcpu_time_memory_area) */
	struct vcpu_info
	    *vinfo;	    /* VCPUOP_register_vcpu_info: where it lives now; NULL: shared_info */
	uint64_t vinfo_gpa; /* and its address (the frame is held: mmu_hold_writable) */
	/* set_trap_table (its own thread only): entry and flags (DPL, TI_GET_IF) per vector. */
	uint64_t trap_addr[256];
	uint8_t trap_flags[256];
	uint64_t kernel_ss, kernel_sp; /* stack_switch: the stack entries from user mode start on */
	/*
	 * The PV callbacks, per vCPU as Xen keeps them (v->arch.pv.*_callback_eip):
	 * set_callbacks and callback_op register the calling vCPU's,
	 * VCPUOP_initialise and the builder's context set a new vCPU's.  *_masks:
	 * CALLBACKF_mask_events (the context's VGCF_*_disables_events).  The
	 * syscall32 and sysenter ones are kept for a 32-bit process, which
	 * never runs here.  Its own thread only, or before it first runs.
	 */
	uint64_t event_callback, failsafe_callback, syscall_callback;
	uint64_t syscall32_callback, sysenter_callback;
	bool failsafe_masks, syscall_masks, syscall32_masks, sysenter_masks;
	/*
	 * Xen's TF_kernel_mode, inverted (pv_user.c): the vCPU runs its guest
	 * kernel's process on the user tables (MMUEXT_NEW_USER_BASEPTR) with
	 * the user %gs; v->cr3 is then the user base.  Its own thread only.
	 */
	bool user_mode;
	uint64_t poll_deadline_ns;     /* SCHEDOP_poll timeout, 0 = none */
	bool polling;		       /* in SCHEDOP_poll on poll_ports */
	unsigned nr_poll_ports;
	uint32_t poll_ports[128];
	uint64_t cpu_ns; /* time spent running guest code */
	uint64_t turn_wait_ns; /* of it, waiting for the engine to let it in (runstate_wait_turn) */
	atomic_bool in_guest;
	bool ran;	  /* has run once: regs hold its live registers */
	uint64_t upcalls; /* event callbacks entered */
	/* NMIs (nmi.c): set by a trigger under dom->lock, taken by the vCPU's own thread. */
	uint64_t nmi_callback; /* CALLBACKTYPE_nmi of this vCPU; 0: NMIs are dropped */
	atomic_bool nmi_pending;
	bool nmi_masked;     /* in the guest's NMI handler until its iret */
	uint64_t nmis;	     /* NMI callbacks entered */
	pthread_cond_t wake; /* with dom->lock: state changes, events */
	/* Placement (vcpu_pin.c), under dom->lock. */
	pid_t host_tid; /* the core's thread for this vCPU; 0 before it started */
	bool pinned;	/* hard set by SV_CTL_VCPU_PIN: applied to every thread */
	uint8_t hard[SV_CPUMAP_BYTES];
	/* Privileged state (pv_priv.c, pv_emul.c, physdev.c): the vCPU's own thread only. */
	uint64_t gs_base_user; /* SEGBASE_GS_USER, MSR_SHADOW_GS_BASE: user mode's %gs */
	uint16_t gs_sel_user;  /* SEGBASE_GS_USER_SEL */
	bool segs_dirty;       /* a base changed: the engine loads them before guest code runs */
	bool fpu_ts;	       /* the virtual CR0.TS (fpu_taskswitch) */
	bool fpu_ts_dirty;     /* it changed: the engine that can trap FPU use applies it */
	uint64_t cr4_guest;    /* the CR4 bits the guest chose (pv_emul.c: DE, OSXSAVE) */
	uint64_t dr[4], dr6, dr7; /* set_debugreg (pv_debugreg.c), never loaded */
	bool dr_logged;		  /* an enabled breakpoint was logged */
	bool msr_logged;       /* a refused MSR access was logged (once per vCPU) */
	uint32_t iopl;	       /* PHYSDEVOP_set_iopl (no port I/O exists to grant) */
	uint64_t iobmp;	       /* PHYSDEVOP_set_iobitmap, kept */
	uint32_t iobmp_ports;
	/* Its GDT (pv_desc.c): set_gdt's or its context's frames, each held; under dom->lock. */
	uint64_t gdt_frames[PV_GDT_FRAMES];
	uint32_t gdt_ents;
	/* Its LDT's frames (pv_ldt.c), each held; under dom->lock.  0: none resolved. */
	uint64_t ldt_frames[PV_GDT_FRAMES];
	uint32_t ldt_nframes;
};

enum hv_dom_state { DOM_CREATED, DOM_ACTIVE, DOM_SHUTDOWN, DOM_DYING };

#define HV_STAT_HC 64 /* Xen's hypercall numbers are below; the rest count in the last */

struct hv_domain {
	uint32_t domid;
	uint64_t gen; /* creation number, never reused */
	char name[64];
	uint8_t handle[16];
	enum sv_guest_kind kind;
	bool low_va; /* SV_CTL_CREATE_F_LOW_VA: its kernel maps VAs below SV_LOW_VA_END */
	const struct hv_engine *eng; /* runs its vCPUs; NULL for dom0 */
	void *eng_priv;		     /* the engine's per-domain state */
	struct hv_mem mem;
	unsigned max_vcpus;
	struct hv_vcpu *vcpus[SV_MAX_VCPUS];
	pthread_mutex_t lock;	/* state, pause, vCPU states, console */
	pthread_cond_t changed; /* broadcast on state/console changes */
	enum hv_dom_state state;
	unsigned pause_count; /* toolstack pauses; created paused (1) */
	uint32_t shutdown_reason;
	bool has_shutdown_code; /* SCHEDOP_shutdown_code gave the next shutdown's reason */
	uint8_t shutdown_code;	/* that reason (under lock) */
	int32_t suspend_vcpu;	/* the vCPU that asked for SHUTDOWN_suspend, -1: none */
	atomic_int refs;
	/*
	 * What the guest made us do, counted by its vCPU threads (relaxed) and
	 * logged when it is destroyed (hypercall.c): where a guest's time goes.
	 */
	struct hv_dom_stats {
		atomic_ullong exits;	      /* returns from the engine's run */
		atomic_ullong wakes;	      /* runs after the vCPU slept */
		atomic_ullong emulated;	      /* privileged instructions done for it */
		atomic_ullong hc[HV_STAT_HC]; /* hypercalls and multicall entries, by number */
		atomic_ullong bounced[32];    /* exceptions bounced to its handlers */
	} stats;
	/* PV */
	uint64_t hcall_page_gpa;
	uint64_t enosys_logged;	 /* hypercall numbers < 64 said -ENOSYS to, logged once */
	bool vcpu_op_logged;	 /* an unimplemented vcpu_op sub-op said -ENOSYS to, logged once */
	uint64_t vm_assist;	 /* VMASST_TYPE_* bits enabled */
	uint64_t watchdog_ns[2]; /* SCHEDOP_watchdog deadlines (host monotonic ns), 0 = unused */
	uint64_t priv_l3_gpa; /* hypervisor's PDPT for SV_PRIV_L4_SLOT */
	uint64_t m2p_l3_gpa;  /* the M2P's PDPT for slot 257; 0: no M2P */
	uint64_t m2p_tab_gpa; /* first page of the M2P table itself */
	uint64_t m2p_entries;
	struct shared_info *shinfo; /* host view of the shared_info page */
	struct hv_evtchn ev;
	struct hv_gnttab *gt;	/* gnttab.c */
	struct hv_mmu *mmu;	/* mmu.c: page types and references */
	pthread_t timer_thread; /* singleshot timers -> VIRQ_TIMER */
	bool timer_started;
	pthread_cond_t timer_cond; /* with lock: a deadline changed */
	/* console_io output (console.c) */
	char *cons_buf;
	uint64_t cons_written; /* bytes ever written */
	int cons_log_fd;
	char cons_line[256]; /* partial line for the hypervisor log */
	unsigned cons_line_len;
	/* What console_io output may cost the host (console.c, under lock). */
	char *cons_log_path;	      /* console/guest-NAME.log, for rotation */
	struct sv_rate cons_rate;     /* bytes kept: per second, and at once */
	uint64_t cons_dropped;	      /* bytes dropped since the limit was hit; 0: not limited */
	uint64_t cons_log_max;	      /* guest log size at which it becomes guest-NAME.log.1 */
	uint64_t cons_hvlog;	      /* bytes of its lines given to the hypervisor log */
	uint64_t (*cons_clock)(void); /* monotonic ns (a test sets its own) */
	/* Credit parameters and the host cgroup that applies them (cgroup_hv.c, under lock). */
	uint32_t sched_weight, sched_cap;
	bool cg_made;		/* its group exists */
	bool cg_applied;	/* the parameters are in force there */
	pid_t host_pid;		/* process engine: the runner; 0: its vCPUs are our threads */
	uint64_t pirq_eoi_gmfn; /* PHYSDEVOP_pirq_eoi_gmfn: the frame + 1; 0: none (physdev.c) */
	/* tsc_mode (tsc.c), fixed at create. */
	uint32_t tsc_mode;	 /* SV_TSC_MODE_* */
	bool vtsc;		 /* rdtsc/rdtscp emulated */
	uint64_t vtsc_offset_ns; /* system time at create: the emulated TSC's 0 */
	uint64_t vtsc_last_ns;	 /* the last emulated read (atomic) */
	uint64_t rdtsc_emulated; /* how many (atomic) */
};

/* tsc.c: tsc_mode, as Xen's tsc_set_info / pv_soft_rdtsc for a PV domain. */
bool tsc_host_safe(void); /* the host TSC is invariant: default mode runs rdtsc natively */
/* 0, -EINVAL (no such mode), -EOPNOTSUPP (always_emulate where eng cannot trap rdtsc). */
int tsc_domain_init(struct hv_domain *d, uint32_t mode, const struct hv_engine *eng);
uint64_t tsc_guest_at(const struct hv_domain *d, uint64_t stime); /* vtsc: system time -> TSC */
uint64_t tsc_guest_now(struct hv_vcpu *v); /* what the guest's rdtsc reads now */
const char *tsc_mode_name(uint32_t mode);

/* domain.c */
int domain_table_init(void);
struct hv_domain *domain_create(const struct sv_ctl_create *req, int *err);
struct hv_domain *domain_get(uint32_t domid); /* takes a reference; NULL if none */
void domain_table_locked_reads(bool on);      /* bench only: lookups under the writers' lock */
struct hv_domain *domain_find(const char *name);
/* The domain's new name: 0, -EINVAL (not a valid name, or dom0's), -EEXIST (another live domain's).
 */
int domain_rename(struct hv_domain *d, const char *name);
void domain_put(struct hv_domain *d);
int domain_destroy(uint32_t domid);
int domain_unpause(struct hv_domain *d);
int domain_pause(struct hv_domain *d);
void domain_shutdown(struct hv_domain *d, uint32_t reason);
/* SCHEDOP_shutdown from v: as domain_shutdown, remembering who suspended. */
void domain_shutdown_from(struct hv_vcpu *v, uint32_t reason);
/* SCHEDOP_shutdown_code: the reason the next shutdown reports. */
void domain_set_shutdown_code(struct hv_domain *d, uint32_t code);
/* The control socket's flag itself: SHUTDOWN_suspend returns 1 to the guest (a cancelled suspend). */
#define HV_RESUME_CANCEL SV_RESUME_CANCEL
/* XEN_DOMCTL_resumedomain: a shut-down domain runs again; -EINVAL, -ESRCH. */
int domain_resume(struct hv_domain *d, unsigned flags);
void domain_crash(struct hv_domain *d, const char *why);
void domain_info(struct hv_domain *d, struct sv_dominfo *out);
int domain_list(uint32_t first, struct sv_dominfo *out, unsigned max);
int domain_wait(struct hv_domain *d, uint32_t timeout_ms);
unsigned domain_count(void);
void domain_destroy_all(void);
void domain_kick_vcpus(struct hv_domain *d);
/* Nothing of d runs guest code: paused, shut down or not yet started.  d->lock held. */
bool domain_quiet(const struct hv_domain *d);

/* vcpu.c */
struct hv_vcpu *vcpu_create(struct hv_domain *d, unsigned id, int *err);
void vcpu_destroy(struct hv_vcpu *v);
int vcpu_start_thread(struct hv_vcpu *v);
void vcpu_kick(struct hv_vcpu *v);
/*
 * Xen's arch_set_info_guest for a 64-bit PV vCPU (VCPUOP_initialise, the
 * builder's context): a context with a non-canonical address (rip, rsp,
 * kernel_sp, bases, callbacks, trap table) or a bad LDT is refused with
 * -EINVAL before anything changes.
 */
int vcpu_set_context(struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
/*
 * The toolstack's context (XEN_DOMCTL_setvcpucontext, SV_CTL_VCPU_SET_CONTEXT):
 * the domain quiet (domain_quiet) and the vCPU asleep, else -EBUSY; checked
 * whole first (-EINVAL); a vCPU with a context keeps its tables, GDT and
 * LDT (others: -EOPNOTSUPP).  Nothing changes on an error.  d->lock held.
 */
int vcpu_tools_set_context(struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
/* Xen's arch_get_info_guest: what a save or XEN_DOMCTL_getvcpucontext copies (pv_callback.c). */
void vcpu_get_context(struct hv_vcpu *v, struct vcpu_guest_context *ctx);
/* pv_callback.c: the checks of vcpu_set_context; 0 or -EINVAL. */
int vcpu_context_check(const struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
/* pv_callback.c: a checked context's callbacks, trap table (and vCPU 0's vm_assist) to v. */
void vcpu_context_callbacks(struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
/* Guest virtual memory through the vCPU's page tables (user-accessible pages only). */
int vcpu_copy_from_guest(struct hv_vcpu *v, void *dst, uint64_t gva, size_t len);
int vcpu_copy_to_guest(struct hv_vcpu *v, uint64_t gva, const void *src, size_t len);
/* Walk to the level-1 entry of gva: its guest-physical address, or -errno. */
int vcpu_walk_l1(struct hv_vcpu *v, uint64_t gva, uint64_t *pte_gpa);

void vcpu_dump_and_crash(struct hv_vcpu *v, const char *why);

/* vcpu_pin.c: where vCPUs run on the host. */
int vcpu_pin_info(struct hv_domain *d, struct sv_ctl_vcpu_info *out);
/* Hard affinity of vCPU vcpu (or SV_VCPU_ALL); 0 or -errno, and then nothing changed. */
int vcpu_pin_set(struct hv_domain *d, uint32_t vcpu, const uint8_t hard[SV_CPUMAP_BYTES]);
/* On the vCPU's own thread as it starts: note its tid, apply an earlier pin. */
void vcpu_pin_thread_start(struct hv_vcpu *v);
/* Host CPU a thread last ran on (field 39 of /proc/PID/task/TID/stat), or -1. */
int vcpu_pin_thread_cpu(pid_t pid, pid_t tid);

/* pv.c */
uint64_t pv_priv_size(unsigned max_vcpus, uint64_t ram_bytes);
int pv_domain_init(struct hv_domain *d);
int pv_write_hypercall_page(struct hv_domain *d, uint64_t gpa);
uint64_t pv_gnttab_gpa(struct hv_domain *d);
void pv_m2p_set(struct hv_domain *d, uint64_t gpa, uint64_t value);
#define HV_M2P_INVALID (~0ULL) /* Xen's INVALID_M2P_ENTRY */
/* The M2P entry of the frame at gpa (HV_M2P_INVALID past the table or without one). */
uint64_t pv_m2p_get(struct hv_domain *d, uint64_t gpa);
/* Private pages the KVM engine lays out between shared_info and the grant frames. */
enum {
	PV_PRIV_SHARED_INFO = 0,
	PV_PRIV_L3,
	PV_PRIV_L2,
	PV_PRIV_L1,
	PV_PRIV_IDT,
	PV_PRIV_STUBS,
	PV_PRIV_SYSCALL, /* LSTAR's stub: user-executable, read-only */
	PV_PRIV_VCPU0
};
enum { PV_VCPU_GDT = 0, PV_VCPU_TSS = 16, PV_VCPU_STACK = 19, PV_PRIV_PER_VCPU = 20 };
/*
 * After the grant frames, the KVM engine's copies of each vCPU's LDT: one
 * level-1 page that maps them, then PV_LDT_PAGES pages (8192 descriptors)
 * per vCPU.  pv_priv_ldt_l1 is that level-1 page's index.
 */
#define PV_LDT_PAGES 16
#define PV_LDT_ENTS (PV_LDT_PAGES * PAGE_SIZE / 8) /* Xen's most: 8192 */
uint64_t pv_priv_ldt_l1(unsigned max_vcpus);
uint64_t pv_priv_pages(unsigned max_vcpus); /* mapped for the CPU by the KVM engine */
/* Enter the guest's event callback if an upcall is pending and unmasked. */
void pv_deliver_upcall(struct hv_vcpu *v);
/* Enter entry with Xen's bounce frame, events masked; -EFAULT: the domain is crashed. */
int pv_bounce(struct hv_vcpu *v, uint64_t entry, const char *what);
int pv_bounce_frame(struct hv_vcpu *v, uint64_t entry, const char *what, bool has_err, uint64_t err,
		    bool mask);

/* nmi.c: Xen's PV NMIs (xl trigger nmi). */
int nmi_send(struct hv_domain *d, uint32_t vcpu);
/* The vCPU's thread, before it runs: enter the NMI callback if one is pending. */
void nmi_deliver(struct hv_vcpu *v);
/* HYPERVISOR_iret: returns nonzero when it could not (the domain is crashed). */
int pv_iret(struct hv_vcpu *v);
/* May the engine make a kernel-to-kernel HYPERVISOR_iret itself until the vCPU next exits? */
bool pv_iret_engine_may(struct hv_vcpu *v);
/* pv.c: VMASST_CMD_*: set and clear bits; vCPUs whose engine fast path a change revokes are kicked. */
void pv_vm_assist_update(struct hv_domain *d, uint64_t set, uint64_t clear);
/* A guest exception the engine caught: log it with the registers, crash the domain. */
void pv_fault(struct hv_vcpu *v, const struct hv_exit *e);
/* pv_emul.c: a #GP(0), #UD or #PF emulated as Xen does (true: done, rip past it). */
bool pv_emul_fault(struct hv_vcpu *v, const struct hv_exit *e);
/* The guest's view of cpuid leaf/subleaf: Xen's leaves, the host's filtered for PV. */
void pv_cpuid(struct hv_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* pv_priv.c: SEGBASE_* as set_segment_base; 0 or -XEN_EINVAL. */
long pv_set_segment_base(struct hv_vcpu *v, unsigned which, uint64_t base);
/*
 * The return HYPERVISOR_iret set up (v->regs) cannot be made with these
 * selectors: enter the failsafe callback as Xen does, or crash the domain
 * (-EFAULT) when there is none or its frame cannot be written.
 */
int pv_failsafe(struct hv_vcpu *v, uint16_t cs, uint16_t ss);
/* A guest exception its trap table handles: bounced to it (true), else false. */
bool pv_trap_bounce(struct hv_vcpu *v, const struct hv_exit *e);

/* pv_user.c: guest user mode (Xen's toggle_guest_mode, switch_to_kernel). */
/* Kernel <-> user: the other base pointer and %gs; 0, or -EFAULT (the domain is crashed). */
int pv_toggle_mode(struct hv_vcpu *v);
/* MMUEXT_NEW_USER_BASEPTR's table of v (0: none, user mode cannot be entered). */
uint64_t pv_user_base(struct hv_vcpu *v);
/* The %gs base the vCPU runs with now, and the one swapgs would bring in. */
static inline uint64_t pv_gs_active(const struct hv_vcpu *v)
{
	return v->user_mode ? v->gs_base_user : v->gs_base_kernel;
}
static inline uint64_t pv_gs_inactive(const struct hv_vcpu *v)
{
	return v->user_mode ? v->gs_base_kernel : v->gs_base_user;
}
/* A `syscall` instruction in user mode (rip after it): the syscall callback, else #UD. */
void pv_user_syscall(struct hv_vcpu *v);
/* The engine stopped a host system call (HV_EXIT_SYSCALL): user mode's, or a crash. */
void pv_syscall_exit(struct hv_vcpu *v, const struct hv_exit *e);
/* A `syscall` in guest kernel mode (rip past it): a hypercall, as on Xen. */
void pv_kernel_syscall(struct hv_vcpu *v);

/* evtchn.c */
extern struct hv_domain *hv_dom0; /* dom0's event channels; no vCPUs, no memory */
int evtchn_init(struct hv_domain *d, unsigned nr_ports);
void evtchn_fini(struct hv_domain *d);
void evtchn_close_all(struct hv_domain *d);
int evtchn_alloc_unbound(struct hv_domain *d, uint32_t remote_dom, uint32_t *port,
			 struct evtchn_client *owner);
int evtchn_bind_interdomain(struct hv_domain *d, uint32_t remote_dom, uint32_t remote_port,
			    uint32_t *port, struct evtchn_client *owner);
int evtchn_bind_virq(struct hv_domain *d, uint32_t virq, uint32_t vcpu, uint32_t *port,
		     struct evtchn_client *owner);
int evtchn_close(struct hv_domain *d, uint32_t port, struct evtchn_client *owner);
int evtchn_send(struct hv_domain *d, uint32_t port);
int evtchn_unmask(struct hv_domain *d, uint32_t port);
/* Is port pending (masked or not), 2-level or FIFO?  Any thread, no lock (SCHEDOP_poll). */
bool evtchn_port_pending(struct hv_domain *d, uint32_t port);
int evtchn_send_owned(struct hv_domain *d, uint32_t port, struct evtchn_client *owner);
int evtchn_unmask_owned(struct hv_domain *d, uint32_t port, struct evtchn_client *owner);
void evtchn_send_virq(struct hv_domain *d, unsigned vcpu, unsigned virq);
struct evtchn_status;
int evtchn_status(struct hv_domain *d, struct evtchn_status *op); /* EVTCHNOP_status */
void evtchn_vcpu_mark_pending(struct hv_vcpu *v);
struct evtchn_client *evtchn_client_new(int *read_fd);
void evtchn_client_free(struct evtchn_client *c);

static inline struct vcpu_info *vcpu_info_of(struct hv_vcpu *v)
{
	struct vcpu_info *moved = __atomic_load_n(&v->vinfo, __ATOMIC_ACQUIRE);

	if (moved)
		return moved;
	return v->id < XEN_LEGACY_MAX_VCPUS && v->dom->shinfo ? &v->dom->shinfo->vcpu_info[v->id]
							      : NULL;
}

/* gnttab.c */
#define SV_GNT_MAX_FRAMES 32
struct hv_gnttab;
int gnttab_init(struct hv_domain *d);
/* dom0's GNTTABOP_setup_table for d: nr frames at least in use; 0 and the first gfn, -EINVAL. */
int gnttab_setup_dom0(struct hv_domain *d, uint32_t nr, uint64_t *first_gfn);
void gnttab_fini(struct hv_domain *d);
bool gnttab_is_frame(struct hv_domain *d, uint64_t gpa);
/* The frames set up (GNTTABOP_setup_table); a restore sets up n (0..SV_GNT_MAX_FRAMES) empty ones. */
unsigned gnttab_nr_frames(struct hv_domain *d);
int gnttab_restore_frames(struct hv_domain *d, unsigned n);
int gnttab_map_dom0(struct hv_domain *d, uint32_t ref, bool readonly, const void *owner,
		    uint32_t *handle, uint64_t *offset);
int gnttab_unmap_dom0(struct hv_domain *d, uint32_t handle, const void *owner);
void gnttab_release_owner(struct hv_domain *d, const void *owner);
int gnttab_copy_one(struct hv_domain *self, uint32_t caller, const struct sv_gnt_copy_seg *s);

/* sched.c */
void time_update(struct hv_vcpu *v);
/* The vCPU enters RUNSTATE_* @state now (d->lock held). */
void runstate_set(struct hv_vcpu *v, int state);
/* Its own thread, about to run guest code: the registered runstate copy brought up to date. */
void runstate_publish(struct hv_vcpu *v);
/* Its own thread waits for the engine to let it in (true), or got in (false): runnable meanwhile. */
void runstate_wait_turn(struct hv_vcpu *v, bool waiting);
bool sched_poll_ready(struct hv_vcpu *v);
int sched_timer_start(struct hv_domain *d);
void sched_timer_stop(struct hv_domain *d);
/*
 * The domain ends: the guest frames its vCPUs' vcpu_info and the pirq EOI
 * map were held in (mmu_hold_writable) go back.  Before mmu_domain_fini.
 */
void domain_release_frames(struct hv_domain *d);

/* hypercall.c */
void hypercall_dispatch(struct hv_vcpu *v);
/* The domain's counters (struct hv_dom_stats), one line in the log. */
void hypercall_log_stats(struct hv_domain *d);

/* memop.c: reservations, as Xen's XENMEM_* and XEN_DOMCTL_max_mem. */
/* At create: only the first boot_pages RAM frames are populated; the rest wait for the balloon. */
int memop_domain_init(struct hv_domain *d, uint64_t boot_pages);
long memop_reservation(struct hv_vcpu *v, unsigned op, unsigned start, uint64_t arg);
/* The domain's current or maximum reservation (pages), read under its lock. */
uint64_t memop_current(struct hv_domain *d);
uint64_t memop_maximum(struct hv_domain *d);
/* XEN_DOMCTL_max_mem: may go below the current reservation (allocations then fail). */
int memop_set_max(struct hv_domain *d, uint64_t max_kb);
/*
 * A restore: frames (gfns) of a new domain that were ballooned out when it
 * was saved go back, as decrease_reservation would give them.  All are
 * checked first (present RAM, each once, at least one frame left): -EINVAL
 * and nothing changed; -EBUSY if one is in use (a table), with the earlier
 * ones gone.
 */
int memop_release_frames(struct hv_domain *d, const uint64_t *gfn, unsigned n);
/* XEN_DOMCTL_createdomain's domain: every frame absent, maximum 0 (xctl.c populates it). */
void memop_domain_empty(struct hv_domain *d);
/* dom0 populates 2^order frames from pfn of d: 0 and the first mfn, -EINVAL, -ENOMEM. */
int memop_populate(struct hv_domain *d, uint64_t pfn, unsigned order, uint64_t *mfn);
/* Bytes of the domain's memfd the host really holds (its allocated blocks). */
uint64_t memop_host_bytes(struct hv_domain *d);

/* console.c */
int console_init(struct hv_domain *d, const char *rundir);
void console_fini(struct hv_domain *d);
void console_write(struct hv_domain *d, const char *buf, size_t len);
/*
 * Sets the domain's console limits: rate bytes per second with bursts of
 * burst bytes (the bucket starts full), and the guest log's size before
 * rotation.  clock (monotonic ns) may be NULL for the real one.
 */
void console_set_limits(struct hv_domain *d, uint64_t rate, uint64_t burst, uint64_t log_max,
			uint64_t (*clock)(void));
int console_read(struct hv_domain *d, uint64_t offset, uint32_t timeout_ms,
		 struct sv_ctl_console_data *out, uint32_t max);

/* save.c: the save and restore ops of the control socket. */
/* The payload size of a save/restore op, or UINT32_MAX when op is not one. */
uint32_t save_req_size(uint32_t op);
/*
 * Carries out op on d with the request p, a buffer of SV_CTL_MAX_PAYLOAD
 * bytes as ctl.c reads requests into (the reply is built in it): 0 or
 * -errno; *out and *out_len: the reply payload (inside p), none when NULL.
 */
int save_op(struct hv_domain *d, uint32_t op, void *p, const void **out, uint32_t *out_len);

/* ctl.c */
int ctl_serve(const char *rundir);
extern const char *hv_rundir;

#endif
