// SPDX-License-Identifier: MIT
/* CPU policies for dom0 processes (libxc's xc_cpuid_apply_policy): sysctl's featureset and
 * policies, domctl's get/set_cpu_policy, all from pv_cpuid's view. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/sysctl.h>
#include <xen/domctl.h>
#include "hv.h"
#include "xctl_priv.h"

/*
 * The policy a PV guest sees, serialised as Xen's x86_cpuid_copy_to_buffer
 * does: the basic leaves up to 0xd (4, 7, 0xb and 0xd by subleaf), the
 * extended ones up to 0x80000008, no MSRs.  It is pv_cpuid's view, which
 * does not change: a policy set later is checked and accepted, and the
 * guest keeps seeing this one.
 */
#define XCTL_CPUID_MAX 128
#define XCTL_CPUID_SERIALISED 160 /* >= Xen 4.17's CPUID_MAX_SERIALISED_LEAVES */
#define XCTL_MSR_SERIALISED 8
static unsigned cpu_policy_leaves(struct hv_vcpu *v, xen_cpuid_leaf_t *out)
{
	unsigned n = 0;
	uint32_t r[4], max_basic, max_ext;

	/*
	 * Every subleaf libxc's x86_cpuid_copy_to_buffer may emit is here
	 * (libxc serialises its edited policy into a buffer of our count), and
	 * leaf 0 and 0x80000000 say no more than what is here.
	 */
#define ADD(l, s)                                                                                  \
	do {                                                                                       \
		pv_cpuid(v, (l), (s) == XEN_CPUID_NO_SUBLEAF ? 0 : (s), r);                        \
		if ((l) == 0)                                                                      \
			r[0] = max_basic;                                                          \
		if ((l) == 7 && (s) == 0 && r[0] > 1)                                              \
			r[0] = 1;                                                                  \
		if ((l) == 0x80000000)                                                             \
			r[0] = max_ext;                                                            \
		if (n < XCTL_CPUID_MAX)                                                            \
			out[n++] = (xen_cpuid_leaf_t){ (l), (s), r[0], r[1], r[2], r[3] };         \
	} while (0)
	pv_cpuid(v, 0, 0, r);
	max_basic = r[0] < 0xd ? r[0] : 0xd;
	pv_cpuid(v, 0x80000000, 0, r);
	max_ext = r[0] >= 0x80000000 && r[0] <= 0x80000008 ? r[0] : 0x80000008;
	for (uint32_t l = 0; l <= max_basic; l++) {
		switch (l) {
		case 4:
			for (uint32_t s = 0; s < 5; s++)
				ADD(4, s);
			break;
		case 7:
			ADD(7, 0);
			ADD(7, 1);
			break;
		case 0xb:
			ADD(0xb, 0);
			ADD(0xb, 1);
			break;
		case 0xd:
			for (uint32_t s = 0; s < 63; s++)
				ADD(0xd, s);
			break;
		default:
			ADD(l, XEN_CPUID_NO_SUBLEAF);
		}
	}
	ADD(0x40000000, XEN_CPUID_NO_SUBLEAF);
	for (uint32_t l = 0x80000000; l <= max_ext; l++)
		ADD(l, XEN_CPUID_NO_SUBLEAF);
#undef ADD
	return n;
}

/*
 * Out to the caller's arrays: a NULL leaves handle asks the counts; a
 * short array is -ENOBUFS, as Xen's.  v: whose view (APIC ids).
 */
int xctl_cpu_policy_out(const struct xctl_peer *p, struct hv_vcpu *v, uint32_t *nr_leaves,
			uint64_t leaves, uint32_t *nr_msrs)
{
	xen_cpuid_leaf_t *buf = calloc(XCTL_CPUID_MAX, sizeof(*buf));
	unsigned n;
	int r = 0;

	if (!buf)
		return -XEN_ENOMEM;
	n = cpu_policy_leaves(v, buf);
	if (!leaves) {
		/* Xen's maxima: what a policy may serialise to (libxc sizes its buffers so). */
		free(buf);
		*nr_leaves = XCTL_CPUID_SERIALISED;
		*nr_msrs = XCTL_MSR_SERIALISED;
		return 0;
	}
	{
		if (*nr_leaves < n)
			r = -XEN_ENOBUFS;
		else
			r = xctl_copy_to(p, leaves, buf, n * sizeof(*buf));
	}
	free(buf);
	if (r)
		return r;
	*nr_leaves = n;
	*nr_msrs = 0;
	return 0;
}

/*
 * XEN_SYSCTL_get_cpu_featureset: Xen's feature words (leaf 1 edx/ecx,
 * 0x80000001 edx/ecx, 0xd:1 eax, 7:0 ebx/ecx, 0x80000007 edx, 0x80000008
 * ebx, 7:0 edx, 7:1 eax; the later words 0) from the PV guest's view, for
 * every index.  A NULL handle asks the count; fewer words than ours get
 * the first ones.
 */
#define XCTL_FEATURE_WORDS 16
int xctl_cpu_featureset(const struct xctl_peer *p, struct xen_sysctl_cpu_featureset *fs)
{
	static const struct {
		uint32_t leaf, sub;
		uint8_t reg; /* 0..3: a b c d */
	} words[] = { { 1, 0, 3 },	    { 1, 0, 2 }, { 0x80000001, 0, 3 }, { 0x80000001, 0, 2 },
		      { 0xd, 1, 0 },	    { 7, 0, 1 }, { 7, 0, 2 },	       { 0x80000007, 0, 3 },
		      { 0x80000008, 0, 1 }, { 7, 0, 3 }, { 7, 1, 0 } };
	struct hv_vcpu v0 = { .id = 0 };
	uint32_t out[XCTL_FEATURE_WORDS] = { 0 }, r[4], n;

	if (fs->index > XEN_SYSCTL_cpu_featureset_hvm_max)
		return -XEN_EINVAL;
	if (!GH(fs->features)) {
		fs->nr_features = XCTL_FEATURE_WORDS;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		pv_cpuid(&v0, words[i].leaf, words[i].sub, r);
		out[i] = r[words[i].reg];
	}
	n = fs->nr_features < XCTL_FEATURE_WORDS ? fs->nr_features : XCTL_FEATURE_WORDS;
	fs->nr_features = n;
	return xctl_copy_to(p, GH(fs->features), out, n * sizeof(out[0]));
}

/* XEN_SYSCTL_get_cpu_policy: every index gives the PV guest's view (no HVM here). */
int xctl_sys_cpu_policy(const struct xctl_peer *p, struct xen_sysctl_cpu_policy *cp)
{
	struct hv_vcpu v0 = { .id = 0 };

	if (cp->index > XEN_SYSCTL_cpu_policy_hvm_default || cp->_rsvd)
		return -XEN_EINVAL;
	return xctl_cpu_policy_out(p, &v0, &cp->nr_leaves, GH(cp->leaves), &cp->nr_msrs);
}

/*
 * XEN_DOMCTL_set_cpu_policy: the arrays are read and checked as Xen's
 * x86_cpuid_copy_from_buffer does (each leaf one it knows, each MSR one it
 * serialises); the guest's view stays pv_cpuid's.
 */
int xctl_set_cpu_policy(const struct xctl_peer *p, struct hv_domain *d,
			struct xen_domctl_cpu_policy *cp)
{
	xen_cpuid_leaf_t *lv;
	xen_msr_entry_t ms[XCTL_MSR_SERIALISED];
	int r = 0;

	cp->err_leaf = cp->err_subleaf = XEN_CPUID_NO_SUBLEAF;
	cp->err_msr = ~0u;
	if (cp->nr_leaves > XCTL_CPUID_SERIALISED || cp->nr_msrs > XCTL_MSR_SERIALISED)
		return -XEN_ENOBUFS;
	if (d->state != DOM_CREATED)
		return -XEN_EEXIST; /* as Xen once the domain has run */
	lv = calloc(cp->nr_leaves ? cp->nr_leaves : 1, sizeof(*lv));
	if (!lv)
		return -XEN_ENOMEM;
	r = xctl_copy_from(p, lv, GH(cp->leaves), cp->nr_leaves * sizeof(*lv));
	if (!r)
		r = xctl_copy_from(p, ms, GH(cp->msrs), cp->nr_msrs * sizeof(*ms));
	for (uint32_t i = 0; !r && i < cp->nr_leaves; i++) {
		uint32_t l = lv[i].leaf, s = lv[i].subleaf;
		bool ok;

		if (l <= 0x1f)
			ok = l == 4	? s < 5
			     : l == 7	? s < 3
			     : l == 0xb ? s < 2
			     : l == 0xd ? s < 63
					: s == XEN_CPUID_NO_SUBLEAF;
		else
			ok = (l == 0x40000000 || l == 0x40000100 ||
			      (l >= 0x80000000 && l <= 0x80000021)) &&
			     s == XEN_CPUID_NO_SUBLEAF;
		if (!ok) {
			cp->err_leaf = l;
			cp->err_subleaf = s;
			r = -XEN_ERANGE;
		}
	}
	for (uint32_t i = 0; !r && i < cp->nr_msrs; i++) {
		if ((ms[i].idx != 0xce && ms[i].idx != 0x10a) || ms[i].flags) {
			cp->err_msr = ms[i].idx;
			r = ms[i].flags ? -XEN_EINVAL : -XEN_ERANGE;
		}
	}
	free(lv);
	return r;
}
