// SPDX-License-Identifier: MIT
/*
 * set_debugreg and get_debugreg, as Xen 4.17 answers a 64-bit PV guest
 * (Linux reads and clears its debug registers at boot).  The values are
 * kept per vCPU with Xen's checks and reserved-bit fixups; no engine loads
 * them into the CPU, so an enabled breakpoint never fires (logged once).
 */
#include <stdint.h>
#include <xen/errno.h>

#include "hv.h"
#include "hypercall.h"

#define CR4_DE 0x8ULL
#define DR6_DEFAULT 0xffff0ff0ULL /* reads as one */
#define DR6_ZEROS 0x1000ULL	  /* reads as zero */
#define DR7_DEFAULT 0x400ULL
#define DR7_ZEROS 0xd800ULL
#define DR7_ACTIVE 0xffULL /* L0-3, G0-3 */
#define DR_IO 2u	   /* R/W field value for an I/O breakpoint */

static uint64_t dr6_of(uint64_t v)
{
	return (v | DR6_DEFAULT) & ~DR6_ZEROS;
}

static uint64_t dr7_of(uint64_t v)
{
	return (v | DR7_DEFAULT) & ~DR7_ZEROS;
}

/* An address the guest may watch: canonical and outside the hypervisor's hole (access_ok). */
static bool watchable(uint64_t va)
{
	if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
		return false;
	return va < HYPERVISOR_VIRT_START || va >= HYPERVISOR_VIRT_END;
}

long hc_set_debugreg(struct hv_vcpu *v, const uint64_t *a)
{
	unsigned reg = (unsigned)a[0];
	uint64_t val = a[1];
	bool de = v->cr4_guest & CR4_DE;

	switch (reg) {
	case 0:
	case 1:
	case 2:
	case 3:
		if (!watchable(val))
			return -XEN_EPERM;
		v->dr[reg] = val;
		return 0;
	case 4:
	case 6:
		if (reg == 4 && de)
			return -XEN_ENODEV;
		if (val != (uint32_t)val)
			return -XEN_EINVAL;
		v->dr6 = dr6_of(val);
		return 0;
	case 5:
	case 7:
		if (reg == 5 && de)
			return -XEN_ENODEV;
		if (val != (uint32_t)val)
			return -XEN_EINVAL;
		val = dr7_of(val);
		if (val & DR7_ACTIVE) {
			for (unsigned i = 16; i < 32; i += 4)
				if (((val >> i) & 3) == DR_IO && !de)
					return -XEN_EPERM;
			if (!v->dr_logged) {
				v->dr_logged = true;
				hv_log("d%u v%u: debug breakpoints (DR7 %#llx) are kept but never "
				       "fire here",
				       v->dom->domid, v->id, (unsigned long long)val);
			}
		}
		v->dr7 = val;
		return 0;
	default:
		return -XEN_ENODEV;
	}
}

long hc_get_debugreg(struct hv_vcpu *v, const uint64_t *a)
{
	unsigned reg = (unsigned)a[0];
	bool de = v->cr4_guest & CR4_DE;

	switch (reg) {
	case 0:
	case 1:
	case 2:
	case 3:
		return (long)v->dr[reg];
	case 4:
	case 6:
		if (reg == 4 && de)
			return -XEN_ENODEV;
		return (long)dr6_of(v->dr6);
	case 5:
	case 7:
		if (reg == 5 && de)
			return -XEN_ENODEV;
		return (long)dr7_of(v->dr7);
	default:
		return -XEN_EINVAL;
	}
}
