// SPDX-License-Identifier: MIT
/*
 * tsc_mode (xl.cfg): Xen 4.17's tsc_set_info and pv_soft_rdtsc for a PV
 * domain.  The domain's rdtsc/rdtscp is native or emulated ("vtsc"):
 *
 *   default         native when the host TSC is safe (invariant), else emulated
 *   always_emulate  emulated
 *   native          native (Xen's XEN_CPUID_TSC_MODE_NEVER_EMULATE)
 *
 * An emulated TSC counts at the host's rate (Xen: tsc_khz = cpu_khz when
 * no rate is given) from 0 at the domain's creation, and never goes back
 * across vCPUs.  The engines make rdtsc fault for a vtsc domain (process
 * engine: the runner's PR_SET_TSC; KVM: CR4.TSD) and pv_emul.c answers
 * with tsc_guest_now; vcpu_time_info's tsc_timestamp is in the same units.
 */
#include <stdint.h>
#include <errno.h>
#include <cpuid.h>
#include "hv.h"

static uint64_t stime_ns(void)
{
	return hv_now_ns() - hv_host.start_ns;
}

bool tsc_host_safe(void)
{
	unsigned a, b, c, dx;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &dx) || a < 0x80000007)
		return false;
	__cpuid(0x80000007, a, b, c, dx);
	return dx & (1u << 8); /* invariant TSC */
}

int tsc_domain_init(struct hv_domain *d, uint32_t mode, const struct hv_engine *eng)
{
	char why[160] = "";
	bool can = !eng->tsc_trap_ok || eng->tsc_trap_ok(why, sizeof(why));

	switch (mode) {
	case SV_TSC_MODE_DEFAULT:
	case SV_TSC_MODE_ALWAYS_EMULATE:
		d->vtsc_offset_ns = stime_ns();
		d->vtsc = mode == SV_TSC_MODE_ALWAYS_EMULATE || !tsc_host_safe();
		if (d->vtsc && !can && mode == SV_TSC_MODE_ALWAYS_EMULATE) {
			hv_log("create '%s': tsc_mode always_emulate: %s", d->name, why);
			return -EOPNOTSUPP;
		}
		if (d->vtsc && !can) {
			/* default on a host whose TSC is not safe: native is all there is */
			hv_log("create '%s': tsc_mode default would emulate rdtsc (the host TSC is "
			       "not invariant), but %s: native",
			       d->name, why);
			d->vtsc = false;
		}
		break;
	case SV_TSC_MODE_NATIVE:
		d->vtsc = false;
		break;
	default: /* native_paravirt (PVRDTSCP) was removed from Xen; xl refuses it first */
		return -EINVAL;
	}
	d->tsc_mode = mode;
	d->vtsc_last_ns = 0;
	return 0;
}

/* Xen's gtime_to_gtsc for PV: system time to the guest's TSC. */
uint64_t tsc_guest_at(const struct hv_domain *d, uint64_t stime)
{
	unsigned __int128 t;

	if (stime < d->vtsc_offset_ns) {
		t = (unsigned __int128)(d->vtsc_offset_ns - stime) * hv_host.tsc_khz / 1000000u;
		return -(uint64_t)t;
	}
	t = (unsigned __int128)(stime - d->vtsc_offset_ns) * hv_host.tsc_khz / 1000000u;
	return (uint64_t)t;
}

uint64_t tsc_guest_now(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	uint64_t now, last, n;

	if (!d->vtsc)
		return d->eng->vcpu_tsc(v);
	/* Xen's pv_soft_rdtsc: the domain's last value, or one past it, never less. */
	now = stime_ns();
	last = __atomic_load_n(&d->vtsc_last_ns, __ATOMIC_RELAXED);
	do
		n = now > last ? now : last + 1;
	while (!__atomic_compare_exchange_n(&d->vtsc_last_ns, &last, n, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED));
	if (__atomic_fetch_add(&d->rdtsc_emulated, 1, __ATOMIC_RELAXED) == 0)
		hv_log("d%u: rdtsc emulated (tsc_mode %s)", d->domid, tsc_mode_name(d->tsc_mode));
	return tsc_guest_at(d, n);
}

const char *tsc_mode_name(uint32_t mode)
{
	static const char *const names[] = { "default", "always_emulate", "native",
					     "native_paravirt" };

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "unknown";
}
