/* SPDX-License-Identifier: MIT */
/* What xctl.c shares with the files of its op groups: the peer's memory, guest handles, and
 * each group's entry points (xctl_build.c, xctl_save.c, xctl_cpuid.c). */
#ifndef HV_XCTL_PRIV_H
#define HV_XCTL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/sysctl.h>
#include <xen/domctl.h>
#include "hv.h"
#include "xctl.h"

/*
 * The peer's memory, as Xen's copy_from_guest/copy_to_guest (xctl.c): 0,
 * -XEN_EFAULT (not mapped), -XEN_E2BIG (past XCTL_MAX_COPY) or -XEN_ESRCH
 * (the peer has exited).
 */
int xctl_copy_from(const struct xctl_peer *p, void *dst, uint64_t addr, size_t len);
int xctl_copy_to(const struct xctl_peer *p, uint64_t addr, const void *src, size_t len);

/* A guest handle's address in the peer (on x86-64 a handle is one pointer). */
#define GH(h) ((uint64_t)(uintptr_t)(h).p)

/* The RAM createdomain lays out: 2 GiB, below the PCI hole, so mfn == pfn. */
#define XCTL_XEN_RAM_KB (2ULL << 20)

/*
 * xctl_build.c: libxl's domain builder.  The domctl group (max_vcpus,
 * setvcpucontext, hypercall_init, settscinfo/gettscinfo,
 * set/get_address_size) returns Xen's result and sets *copyback when c
 * goes back to the caller; the rest are whole hypercalls, as xctl_one.
 */
int xctl_createdomain(struct xen_domctl *c);
int xctl_build_domctl(const struct xctl_peer *p, struct hv_domain *d, struct xen_domctl *c,
		      bool *copyback);
long xctl_populate_physmap(const struct xctl_peer *p, unsigned start, uint64_t arg);
long xctl_set_memory_map(const struct xctl_peer *p, uint64_t arg);
long xctl_claim_pages(const struct xctl_peer *p, uint64_t arg);
long xctl_mmuext_op(const struct xctl_peer *p, const uint64_t *a);
long xctl_grant_table_op(const struct xctl_peer *p, const uint64_t *a);

/*
 * xctl_save.c: libxc's save of a PV domain.  The domctl group
 * (getpageframeinfo3, getvcpucontext, shadow_op, get_ext_vcpucontext,
 * getvcpuextstate, get_vcpu_msrs) as xctl_build_domctl; the M2P and
 * memory_op reads as whole hypercalls.
 */
int xctl_save_domctl(const struct xctl_peer *p, struct hv_domain *d, struct xen_domctl *c,
		     bool *copyback);
uint64_t xctl_max_ram_page(void);
long xctl_machphys_mfn_list(const struct xctl_peer *p, uint64_t arg);
long xctl_get_vnumainfo(const struct xctl_peer *p, uint64_t arg);
long xctl_maximum_gpfn(const struct xctl_peer *p, uint64_t arg);

/* xctl_cpuid.c: CPU policies and featuresets, pv_cpuid's view. */
int xctl_cpu_featureset(const struct xctl_peer *p, struct xen_sysctl_cpu_featureset *fs);
int xctl_sys_cpu_policy(const struct xctl_peer *p, struct xen_sysctl_cpu_policy *cp);
int xctl_cpu_policy_out(const struct xctl_peer *p, struct hv_vcpu *v, uint32_t *nr_leaves,
			uint64_t leaves, uint32_t *nr_msrs);
int xctl_set_cpu_policy(const struct xctl_peer *p, struct hv_domain *d,
			struct xen_domctl_cpu_policy *cp);

#endif
