/* SPDX-License-Identifier: MIT */
/* The control-socket protocol between dom0 tools and the hypervisor core. */
#ifndef SV_CTL_H
#define SV_CTL_H

#include <stdint.h>
#include <xen/xen.h>

/*
 * One UNIX stream socket, $SPLITVISOR_RUNDIR/hypervisor.sock, mode 0600:
 * whoever can connect is dom0 (the privileged control domain), as with
 * Xen's privcmd.  Each request is a header plus a fixed payload for its op;
 * each reply is a header (status 0 or -errno) plus the op's reply payload.
 * Some replies carry a file descriptor (SCM_RIGHTS).  Requests on one
 * connection are answered in order; a request may block (waits).
 */
#define SV_CTL_SOCKET "hypervisor.sock"
#define SV_CTL_MAX_PAYLOAD (64 * 1024)

struct sv_ctl_hdr {
	uint32_t op;	/* SV_CTL_* */
	uint32_t len;	/* payload bytes that follow */
	int32_t status; /* reply: 0 or -errno */
	uint32_t seq;	/* echoed in the reply */
	uint32_t flags; /* request: SV_CTL_F_* */
	uint32_t pad;
};

/* No reply is sent (hot one-way ops: event notify and unmask); errors are logged. */
#define SV_CTL_F_NOREPLY (1u << 0)

enum sv_ctl_op {
	SV_CTL_HOST_INFO = 1,	      /* - -> sv_host_info */
	SV_CTL_DOMAIN_CREATE,	      /* sv_ctl_create -> sv_ctl_domid */
	SV_CTL_DOMAIN_MEMORY,	      /* sv_ctl_domid -> sv_ctl_memory + memfd */
	SV_CTL_DOMAIN_SET_HCALL_PAGE, /* sv_ctl_hcall_page -> - */
	SV_CTL_VCPU_SET_CONTEXT,      /* sv_ctl_vcpu_context -> - */
	SV_CTL_DOMAIN_UNPAUSE,	      /* sv_ctl_domid -> - */
	SV_CTL_DOMAIN_PAUSE,	      /* sv_ctl_domid -> - */
	SV_CTL_DOMAIN_SHUTDOWN,	      /* sv_ctl_shutdown -> - (forced, no guest help) */
	SV_CTL_DOMAIN_DESTROY,	      /* sv_ctl_domid -> - */
	SV_CTL_DOMAIN_INFO,	      /* sv_ctl_domid -> sv_dominfo */
	SV_CTL_DOMAIN_LIST,	      /* sv_ctl_list -> sv_ctl_list_reply */
	SV_CTL_DOMAIN_WAIT,	      /* sv_ctl_wait -> sv_dominfo */
	SV_CTL_CONSOLE_READ,	      /* sv_ctl_console_read -> sv_ctl_console_data */
	SV_CTL_DOMAIN_FIND,	      /* sv_ctl_find -> sv_ctl_domid */

	/*
	 * Event channels of dom0.  A connection that sends EVTCHN_OPEN becomes
	 * one event-channel handle (as /dev/xen/evtchn is for Xen's
	 * libxenevtchn): the reply carries the read end of a pipe on which the
	 * hypervisor writes each port that fires, as a uint32_t.  A port that
	 * fired is masked until EVTCHN_UNMASK, so each port is in the pipe at
	 * most once.  Ports bound through the connection are closed with it.
	 */
	SV_CTL_EVTCHN_OPEN,		/* - -> - + pipe fd */
	SV_CTL_EVTCHN_BIND_INTERDOMAIN, /* sv_ctl_evtchn_bind -> sv_ctl_evtchn_port */
	SV_CTL_EVTCHN_BIND_UNBOUND,	/* sv_ctl_evtchn_bind (remote_dom) -> sv_ctl_evtchn_port */
	SV_CTL_EVTCHN_BIND_VIRQ,	/* sv_ctl_evtchn_bind (virq) -> sv_ctl_evtchn_port */
	SV_CTL_EVTCHN_UNBIND,		/* sv_ctl_evtchn_port -> - */
	SV_CTL_EVTCHN_NOTIFY,		/* sv_ctl_evtchn_port -> - (usually NOREPLY) */
	SV_CTL_EVTCHN_UNMASK,		/* sv_ctl_evtchn_port -> - (usually NOREPLY) */
	/* Toolstack: a port in domain dom, unbound, that remote_dom may bind
	   (xc_evtchn_alloc_unbound). */
	SV_CTL_EVTCHN_ALLOC_UNBOUND, /* sv_ctl_evtchn_alloc -> sv_ctl_evtchn_port */

	/*
	 * Grant mappings for dom0.  MAP checks each grant entry of domain domid
	 * (GTF_permit_access, granted to dom0, GTF_readonly against the wish to
	 * write), marks it GTF_reading/GTF_writing and counts the mapping; the
	 * reply gives, per ref, a handle and the frame's offset in the domain's
	 * memfd (from DOMAIN_MEMORY), which the caller maps.  UNMAP drops the
	 * mappings; the flags clear when a ref's last mapping goes.  Mappings
	 * still held when the connection closes are dropped with it.
	 */
	SV_CTL_GNT_MAP,	  /* sv_ctl_gnt_map -> sv_ctl_gnt_map_reply */
	SV_CTL_GNT_UNMAP, /* sv_ctl_gnt_unmap -> sv_ctl_gnt_unmap_reply */
	/* GNTTABOP_copy for dom0: both sides named by (domid, grant ref) or (domid, gfn). */
	SV_CTL_GNT_COPY, /* sv_ctl_gnt_copy -> sv_ctl_gnt_copy_reply */
	/* vCPUs of a domain (xl vcpu-list, vcpu-pin): hypervisor/vcpu_pin.c. */
	SV_CTL_VCPU_INFO, /* sv_ctl_domid -> sv_ctl_vcpu_info */
	SV_CTL_VCPU_PIN,  /* sv_ctl_vcpu_pin -> - */
	/* Credit scheduler parameters of a domain (xl sched-credit); dom0 reads 256/0. */
	SV_CTL_SCHED_GET, /* sv_ctl_domid -> sv_ctl_sched */
	SV_CTL_SCHED_SET, /* sv_ctl_sched -> sv_ctl_sched (as now in force) */
	/*
	 * XEN_DOMCTL_max_mem: the most the domain may hold.  It may be set
	 * below what the domain holds now: it keeps that, and may only shrink
	 * (populate and increase_reservation fail) until it is under.
	 */
	SV_CTL_DOMAIN_SET_MAXMEM, /* sv_ctl_maxmem -> - */
	/* xl dmesg: the hypervisor's log ring; SV_HVLOG_F_CLEAR drops what was read. */
	SV_CTL_HVLOG_READ, /* sv_ctl_hvlog_read -> sv_ctl_hvlog_data */
	/* xl rename: a new name, unique among live domains (-EEXIST), valid (-EINVAL). */
	SV_CTL_DOMAIN_RENAME, /* sv_ctl_rename -> - */
	/* xl trigger: SV_TRIGGER_NMI for PV; the others are HVM-only (-EINVAL, -ENOSYS). */
	SV_CTL_DOMAIN_TRIGGER, /* sv_ctl_trigger -> - */
	/*
	 * One Xen hypercall from a dom0 process, as privcmd's
	 * IOCTL_PRIVCMD_HYPERCALL (libxencall): pointer arguments are addresses
	 * in the caller's own memory, which the hypervisor reads and writes
	 * (the process is the socket's peer, SO_PEERCRED at connect time).
	 * hypervisor/xctl.c: xen_version, sysctl, domctl.
	 */
	SV_CTL_XEN_HYPERCALL, /* sv_ctl_hypercall -> sv_ctl_hypercall_ret */
	/*
	 * XEN_DOMCTL_resumedomain: a shut-down domain (a suspended one, as a
	 * save or migration that failed or checkpointed leaves it) runs again.
	 * SV_RESUME_CANCEL: libxc's fast resume, the suspending SCHEDOP_shutdown
	 * returns 1 (-EINVAL unless the domain shut down with SHUTDOWN_suspend).
	 */
	SV_CTL_DOMAIN_RESUME, /* sv_ctl_resume -> - */
	/*
	 * Save and restore (hypervisor/save.c, docs/save-restore.md).  The
	 * reading ops need a domain that is paused or shut down (-EBUSY); the
	 * writing ones a new domain that never ran (DOM_CREATED, -EBUSY).
	 */
	SV_CTL_VCPU_GET_CONTEXT,     /* sv_ctl_vcpu_get -> sv_ctl_vcpu_context */
	SV_CTL_DOMAIN_SAVE_INFO,     /* sv_ctl_domid -> sv_ctl_save_info */
	SV_CTL_PAGE_TYPES,	     /* sv_ctl_page_types -> sv_ctl_page_types (types filled) */
	SV_CTL_PIN_TABLE,	     /* sv_ctl_pin_table -> - */
	SV_CTL_M2P_GET,		     /* sv_ctl_m2p -> sv_ctl_m2p (entries filled) */
	SV_CTL_M2P_SET,		     /* sv_ctl_m2p -> - */
	SV_CTL_VCPU_RESTORE_CONTEXT, /* sv_ctl_vcpu_restore -> - */
	SV_CTL_DOMAIN_RESTORE_INFO,  /* sv_ctl_restore_info -> - */
	SV_CTL_FRAME_RELEASE,	     /* sv_ctl_frames -> - */
	SV_CTL_OP_MAX
};

/* How /dev/kvm does its work: decides what `xl info` reports (0: no usable /dev/kvm). */
enum sv_kvm_kind { SV_KVM_NONE = 0, SV_KVM_HARDWARE = 1, SV_KVM_PVM = 2 };

/*
 * The engines that run a domain's vCPUs (DESIGN.md, "Engines").  In a
 * create request 0 means the host's default engine.
 */
enum sv_engine { SV_ENGINE_DEFAULT = 0, SV_ENGINE_KVM = 1, SV_ENGINE_PROCESS = 2 };
#define SV_ENGINE_BIT(e) (1u << (e))

struct sv_host_info {
	uint32_t kvm_kind; /* sv_kvm_kind */
	uint32_t nr_cpus;
	uint64_t total_kb;
	uint64_t free_kb;
	uint64_t tsc_khz;
	uint32_t xen_major, xen_minor;
	char xen_extra[16];
	char xen_caps[128];
	uint32_t max_vcpus;
	uint32_t nr_domains; /* guests, not counting dom0 */
	uint64_t uptime_ns;
	char kvm_detail[64];	 /* e.g. "kvm_pvm (shadow paging)" */
	uint32_t engine;	 /* sv_engine: what a create without one gets */
	uint32_t engines;	 /* SV_ENGINE_BIT() of each engine this host can run */
	char engine_detail[128]; /* why that default, e.g. "no /dev/kvm: No such file or directory"
				  */
};

enum sv_guest_kind { SV_DOM_PV = 1, SV_DOM_PVH = 2, SV_DOM_HVM = 3 };

/* tsc_mode, Xen's numbers (XEN_CPUID_TSC_MODE_*; libxl's enum has the same order). */
#define SV_TSC_MODE_DEFAULT 0
#define SV_TSC_MODE_ALWAYS_EMULATE 1
#define SV_TSC_MODE_NATIVE 2	      /* Xen's NEVER_EMULATE */
#define SV_TSC_MODE_NATIVE_PARAVIRT 3 /* removed from Xen: refused */

struct sv_ctl_create {
	uint32_t kind; /* sv_guest_kind */
	uint32_t max_vcpus;
	uint64_t mem_kb;
	char name[64];	    /* NUL-terminated, unique among live domains */
	uint8_t handle[16]; /* UUID */
	uint32_t engine;    /* sv_engine; SV_ENGINE_DEFAULT: the host's */
	uint32_t flags;	    /* SV_CTL_CREATE_F_*; unknown bits: -EINVAL */
	/*
	 * RAM laid out for the domain (0: mem_kb).  When above mem_kb, only
	 * the first mem_kb are populated at start; the guest may balloon the
	 * rest in (populate_physmap) up to its maximum, which starts here.
	 */
	uint64_t max_kb;
	uint32_t tsc_mode; /* SV_TSC_MODE_*: xl.cfg's tsc_mode (0: default) */
	uint32_t pad;
};

/*
 * The kernel maps virtual addresses below SV_LOW_VA_END (Mini-OS-style
 * kernels such as PV GRUB are linked at 0).  The process engine then runs
 * the domain with its guest window from VA 0, below the host's
 * vm.mmap_min_addr (docs/third-party-kernels.md); the KVM engine needs
 * nothing and ignores it.
 */
#define SV_CTL_CREATE_F_LOW_VA 1u
#define SV_LOW_VA_END 0x100000ULL /* 1 MiB: above any vm.mmap_min_addr a distribution sets */

struct sv_ctl_domid {
	uint32_t domid;
	uint32_t pad;
};

/* One contiguous run of guest-physical memory inside the domain's memfd. */
struct sv_mem_range {
	uint64_t gpa;
	uint64_t size;
	uint64_t offset; /* in the memfd */
};

struct sv_ctl_memory {
	uint64_t ram_kb;
	uint32_t nr_ranges; /* RAM ranges, in pfn order */
	uint32_t pad;
	struct sv_mem_range ram[2];
	struct sv_mem_range priv; /* hypervisor-private pages (shared_info first) */
	uint64_t memfd_size;
	uint64_t gnttab_gpa;	/* the grant-table frames (inside priv) */
	uint32_t gnttab_frames; /* how many the guest may set up */
	uint32_t pad2;
	uint64_t gen;	  /* this domain's creation number: never reused, unlike domids */
	uint64_t boot_kb; /* RAM populated at create (the first boot_kb, pfn order); 0: ram_kb */
};

struct sv_ctl_hcall_page {
	uint32_t domid;
	uint32_t pad;
	uint64_t gpa; /* page-aligned guest RAM address */
};

struct sv_ctl_vcpu_context {
	uint32_t domid;
	uint32_t vcpu;
	struct vcpu_guest_context ctx; /* Xen's, as for VCPUOP_initialise */
};

struct sv_ctl_shutdown {
	uint32_t domid;
	uint32_t reason; /* SHUTDOWN_* from xen/sched.h */
};

/* Domain state bits, as Xen's XEN_DOMINF_* express them in `xl list`. */
#define SV_DOMF_RUNNING (1u << 0) /* a vCPU is in the guest */
#define SV_DOMF_BLOCKED (1u << 1) /* every online vCPU is blocked */
#define SV_DOMF_PAUSED (1u << 2)
#define SV_DOMF_SHUTDOWN (1u << 3) /* see shutdown_reason */
#define SV_DOMF_DYING (1u << 4)
#define SV_DOMF_PRIVILEGED (1u << 5)

struct sv_dominfo {
	uint32_t domid;
	uint32_t flags;		  /* SV_DOMF_* */
	uint32_t shutdown_reason; /* SHUTDOWN_*, valid with SV_DOMF_SHUTDOWN */
	uint32_t kind;		  /* sv_guest_kind; 0 for dom0 */
	uint32_t max_vcpus;
	uint32_t online_vcpus;
	uint64_t mem_kb;
	uint64_t cpu_time_ns; /* guest run time summed over vCPUs */
	char name[64];
	uint8_t handle[16];
	uint32_t engine;   /* sv_engine that runs it; 0 for dom0 */
	uint32_t tsc_mode; /* SV_TSC_MODE_* it was created with */
	/* mem_kb above is the current reservation (what the guest holds, as Xen's tot_pages). */
	uint64_t max_mem_kb; /* its maximum (XEN_DOMCTL_max_mem) */
	uint64_t host_kb;    /* what the host really holds for it: its memory's allocated blocks */
};

struct sv_ctl_list {
	uint32_t first_domid;
	uint32_t max; /* at most SV_CTL_LIST_MAX */
};

#define SV_CTL_LIST_MAX 256
struct sv_ctl_list_reply {
	uint32_t nr;
	uint32_t pad;
	struct sv_dominfo info[]; /* nr entries, ascending domid */
};

struct sv_ctl_wait {
	uint32_t domid;
	uint32_t timeout_ms; /* 0: forever */
};

/*
 * Console output a domain wrote through console_io, kept in a ring of
 * SV_CONSOLE_BUF bytes per domain.  `offset` counts every byte the domain
 * ever wrote; a reader asks from its offset and gets what is still there.
 */
#define SV_CONSOLE_BUF (64 * 1024)
struct sv_ctl_console_read {
	uint32_t domid;
	uint32_t timeout_ms; /* wait this long for new output; 0: do not wait */
	uint64_t offset;
	uint32_t max; /* at most SV_CTL_MAX_PAYLOAD - header */
	uint32_t pad;
};

#define SV_CONSOLE_F_GONE (1u << 0) /* domain is shut down or dying: no more output */
struct sv_ctl_console_data {
	uint64_t offset; /* of data[0] (> asked when bytes were lost) */
	uint64_t next;	 /* offset to ask next */
	uint32_t len;
	uint32_t flags; /* SV_CONSOLE_F_* */
	char data[];
};

struct sv_ctl_maxmem {
	uint32_t domid;
	uint32_t pad;
	uint64_t max_kb; /* rounded down to whole pages; at most 1 TiB */
};

struct sv_ctl_find {
	char name[64];
};

struct sv_ctl_evtchn_bind {
	uint32_t remote_dom;  /* BIND_INTERDOMAIN, BIND_UNBOUND */
	uint32_t remote_port; /* BIND_INTERDOMAIN */
	uint32_t virq;	      /* BIND_VIRQ (VIRQ_DOM_EXC, ...) */
	uint32_t pad;
};

struct sv_ctl_evtchn_port {
	uint32_t port;
	uint32_t pad;
};

struct sv_ctl_evtchn_alloc {
	uint32_t dom;	     /* where the port is allocated */
	uint32_t remote_dom; /* who may bind it */
};

#define SV_GNT_MAX_BATCH 256
struct sv_ctl_gnt_map {
	uint32_t domid;	   /* the granting domain */
	uint32_t count;	   /* 1..SV_GNT_MAX_BATCH */
	uint32_t readonly; /* map for reading only */
	uint32_t pad;
	uint32_t refs[SV_GNT_MAX_BATCH];
};

struct sv_gnt_mapping {
	int32_t status;	 /* GNTST_* (0 = okay) */
	uint32_t handle; /* for UNMAP */
	uint64_t offset; /* of the granted frame in the domain's memfd */
};

struct sv_ctl_gnt_map_reply {
	uint32_t count;
	uint32_t pad;
	uint64_t gen; /* of the granting domain, as in DOMAIN_MEMORY */
	struct sv_gnt_mapping map[SV_GNT_MAX_BATCH];
};

struct sv_ctl_gnt_unmap {
	uint32_t count;
	uint32_t domid; /* the granting domain the handles belong to */
	uint32_t handles[SV_GNT_MAX_BATCH];
};

struct sv_ctl_gnt_unmap_reply {
	uint32_t count;
	uint32_t pad;
	int32_t status[SV_GNT_MAX_BATCH]; /* GNTST_* per handle */
};

/* One side of a copy: a grant ref of domid, or (with SV_GNT_COPY_GFN) a frame of domid. */
struct sv_gnt_copy_ptr {
	uint32_t domid;
	uint32_t ref; /* grant ref, or the gfn with SV_GNT_COPY_GFN */
	uint32_t offset;
	uint32_t flags; /* SV_GNT_COPY_GFN */
};
#define SV_GNT_COPY_GFN 1u

#define SV_GNT_MAX_COPY 64
struct sv_gnt_copy_seg {
	struct sv_gnt_copy_ptr source, dest;
	uint32_t len;	/* source and dest each stay within one page */
	int32_t status; /* reply: GNTST_* */
};

struct sv_ctl_gnt_copy {
	uint32_t count; /* 1..SV_GNT_MAX_COPY */
	uint32_t pad;
	struct sv_gnt_copy_seg seg[SV_GNT_MAX_COPY];
};
/* The reply is the same structure with each seg's status filled in. */

/*
 * vCPU placement.  A CPU map has bit i (byte i / 8, bit i % 8) set for host
 * CPU i, as Xen's cpumaps; only the first nr_cpus bits mean anything.
 */
#define SV_CPUMAP_BYTES 128	/* host CPUs 0..1023 */
#define SV_CTL_VCPU_MAX 64	/* entries in one VCPU_INFO reply */
#define SV_VCPU_ALL 0xffffffffu /* VCPU_PIN: every vCPU of the domain */

#define SV_VCPUF_ONLINE (1u << 0)  /* up (VCPUOP_up), not down */
#define SV_VCPUF_RUNNING (1u << 1) /* running: not blocked, paused, or waiting its turn */
#define SV_VCPUF_BLOCKED (1u << 2) /* SCHEDOP_block or poll */

struct sv_vcpu_info {
	uint32_t vcpu;
	uint32_t flags; /* SV_VCPUF_* */
	int32_t cpu;	/* host CPU its thread runs or last ran on (a thread asleep since
			   a pin moved it: the first it may use); -1: not known */
	uint32_t pad;
	uint64_t cpu_time_ns;	       /* guest run time of this vCPU */
	uint8_t hard[SV_CPUMAP_BYTES]; /* host CPUs it may run on */
};

struct sv_ctl_vcpu_info {
	uint32_t nr;	  /* entries that follow: the domain's max vCPUs */
	uint32_t nr_cpus; /* host CPUs, as in sv_host_info */
	struct sv_vcpu_info vcpu[SV_CTL_VCPU_MAX];
};

/*
 * Hard affinity of one vCPU (or SV_VCPU_ALL): every host thread that runs
 * it is bound to these CPUs (sched_setaffinity), now and whenever such a
 * thread starts later.  -EINVAL for a vCPU beyond the domain's, an empty
 * map or a CPU beyond the host's; then nothing changed.
 */
struct sv_ctl_vcpu_pin {
	uint32_t domid;
	uint32_t vcpu; /* or SV_VCPU_ALL */
	uint8_t hard[SV_CPUMAP_BYTES];
};

/*
 * Xen's credit scheduler parameters.  weight: relative share,
 * SV_SCHED_WEIGHT_MIN..MAX; cap: 0 for none, else the most CPU the domain
 * may use, in percent of one host CPU, at most 100 x its vCPUs.  SET takes
 * both (read them first to change one); anything out of range is -EINVAL
 * and changes nothing.
 */
#define SV_SCHED_WEIGHT_MIN 1
#define SV_SCHED_WEIGHT_MAX 65535
#define SV_SCHED_WEIGHT_DEFAULT 256
#define SV_SCHED_F_CGROUP (1u << 0) /* reply: in force through a host cgroup (else only recorded)  \
				     */
struct sv_ctl_sched {
	uint32_t domid;
	uint32_t weight;
	uint32_t cap;
	uint32_t flags; /* reply: SV_SCHED_F_*; request: 0 */
};

/*
 * The hypervisor's log lines (as in its log file) are also kept in a ring
 * of SV_HVLOG_BUF bytes, as Xen keeps its console ring.  `offset` counts
 * every byte ever logged; a reader asks from its offset and gets what is
 * still kept (from the oldest whole line).  With SV_HVLOG_F_CLEAR, what
 * the reply carries is dropped from the ring (`xl dmesg -c`).
 */
#define SV_HVLOG_BUF (64 * 1024)
#define SV_HVLOG_F_CLEAR (1u << 0)
struct sv_ctl_hvlog_read {
	uint64_t offset;
	uint32_t max;	/* at most SV_CTL_MAX_PAYLOAD - sizeof(sv_ctl_hvlog_data) */
	uint32_t flags; /* SV_HVLOG_F_* */
};

struct sv_ctl_hvlog_data {
	uint64_t offset; /* of data[0] (> asked when older lines are gone) */
	uint64_t next;	 /* offset to ask next */
	uint32_t len;
	uint32_t pad;
	char data[];
};

struct sv_ctl_rename {
	uint32_t domid;
	uint32_t pad;
	char name[64]; /* NUL-terminated */
};

/* The values of Xen's XEN_DOMCTL_SENDTRIGGER_* (xen/domctl.h). */
enum sv_trigger {
	SV_TRIGGER_NMI = 0,
	SV_TRIGGER_RESET = 1,
	SV_TRIGGER_INIT = 2,
	SV_TRIGGER_POWER = 3,
	SV_TRIGGER_SLEEP = 4,
};

#define SV_RESUME_CANCEL 1u
struct sv_ctl_resume {
	uint32_t domid;
	uint32_t flags; /* SV_RESUME_* */
};

/* VCPU_GET_CONTEXT: Xen's XEN_DOMCTL_getvcpucontext; reply ctx, with vcpu's has_context. */
struct sv_ctl_vcpu_get {
	uint32_t domid;
	uint32_t vcpu;
};

/* What a save needs beyond frames and contexts (XEN_DOMCTL_getdomaininfo and shared_info's arch). */
#define SV_SAVE_F_SUSPENDED 1u /* shut down with SHUTDOWN_suspend by suspend_vcpu */
#define SV_SAVE_F_LOW_VA 2u    /* created with SV_CTL_CREATE_F_LOW_VA */
struct sv_ctl_save_info {
	uint32_t flags;	       /* SV_SAVE_F_* */
	int32_t suspend_vcpu;  /* -1: none */
	uint32_t max_vcpus;
	uint32_t tsc_mode;
	uint32_t engine;
	uint32_t gnttab_frames; /* grant-table frames the guest set up (it may map them) */
	uint64_t ram_kb;       /* RAM laid out (the create's max_kb) */
	uint64_t cur_pages;    /* frames populated now */
	uint64_t max_pages;    /* XEN_DOMCTL_max_mem's, in frames */
	uint64_t hcall_page_gpa; /* 0: none */
	uint64_t vm_assist;
	/* shared_info's arch_shared_info, as the guest left it. */
	uint64_t max_pfn, pfn_to_mfn_frame_list_list, p2m_cr3, p2m_vaddr, p2m_generation;
	uint64_t m2p_entries;  /* the M2P's size: entries past it read INVALID_M2P_ENTRY */
};

/*
 * PAGE_TYPES: XEN_DOMCTL_getpageframeinfo3 for gfns first..first+count-1:
 * SV_PFINFO_* per frame (Xen's XEN_DOMCTL_PFINFO_* values): the table level
 * and LPINTAB when pinned, NOTAB for a plain present frame, XTAB for a
 * frame that is absent (ballooned out) or not RAM.
 */
#define SV_PFINFO_NOTAB (0x0U << 28)
#define SV_PFINFO_L1TAB (0x1U << 28) /* ..L4TAB: (level << 28) */
#define SV_PFINFO_LTABTYPE_MASK (0x7U << 28)
#define SV_PFINFO_LPINTAB (0x1U << 31)
#define SV_PFINFO_XTAB (0xfU << 28)
#define SV_PFINFO_MAX 4096 /* frames in one request */
struct sv_ctl_page_types {
	uint32_t domid;
	uint32_t count; /* 1..SV_PFINFO_MAX */
	uint64_t first; /* gfn */
	uint32_t type[SV_PFINFO_MAX];
};

/* PIN_TABLE: MMUEXT_PIN_Ln_TABLE of mfn in a new domain, validated as the guest's own pin. */
struct sv_ctl_pin_table {
	uint32_t domid;
	uint32_t level; /* 1..4 */
	uint64_t mfn;
};

/* M2P_GET/SET: the domain's M2P entries of mfns first..first+count-1 (RAM frames only). */
#define SV_M2P_MAX 4096
struct sv_ctl_m2p {
	uint32_t domid;
	uint32_t count; /* 1..SV_M2P_MAX */
	uint64_t first;
	uint64_t entry[SV_M2P_MAX];
};

/*
 * VCPU_RESTORE_CONTEXT: a saved context to a vCPU of a new domain, checked
 * as VCPUOP_initialise's (with its user base and rax as given); online:
 * the vCPU runs when the domain is first unpaused (vCPU 0 always does).
 */
struct sv_ctl_vcpu_restore {
	uint32_t domid;
	uint32_t vcpu;
	uint32_t online;
	uint32_t pad;
	struct vcpu_guest_context ctx;
};

/*
 * RESTORE_INFO: shared_info's arch fields of a new domain (as save_info
 * gave them), and its grant-table frames: as many as the saved domain had
 * set up, every entry empty, so that the guest's old mappings of them
 * still validate (it sets the table up again; old refs are void).
 */
struct sv_ctl_restore_info {
	uint32_t domid;
	uint32_t gnttab_frames; /* at most SV_GNT_MAX_FRAMES (32) */
	uint64_t max_pfn, pfn_to_mfn_frame_list_list, p2m_cr3, p2m_vaddr, p2m_generation;
};

/* FRAME_RELEASE: frames of a new domain that were ballooned out when it was saved. */
#define SV_FRAMES_MAX 512
struct sv_ctl_frames {
	uint32_t domid;
	uint32_t count; /* 1..SV_FRAMES_MAX */
	uint64_t gfn[SV_FRAMES_MAX];
};

struct sv_ctl_trigger {
	uint32_t domid;
	uint32_t trigger; /* sv_trigger */
	uint32_t vcpu;
	uint32_t pad;
};

/* __HYPERVISOR_* and its arguments, as privcmd_hypercall_t. */
struct sv_ctl_hypercall {
	uint64_t op;
	uint64_t arg[5];
};

/* The hypercall's result: >= 0, or -errno (Xen's); the reply's status is 0 unless the request was
 * bad. */
struct sv_ctl_hypercall_ret {
	int64_t ret;
};

#endif
