// SPDX-License-Identifier: MIT
/*
 * physdev_op for an unprivileged PV domain with no physical device: what
 * Xen 4.17 says to a domU for each sub-op.  The per-vCPU I/O privilege
 * calls are taken (there is no port I/O to grant, so they change nothing
 * else); the pirq calls find no pirq; the device and interrupt-routing
 * calls are the privileged domain's (-EPERM, XSM's default).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/errno.h>
#include <xen/physdev.h>
#include "hv.h"
#include "hypercall.h"
#include "mmu.h"

/* Xen's IOBMP_BYTES: the bitmap of 65536 ports. */
#define IOBMP_BYTES 8192

static long physdev_unknown(struct hv_vcpu *v, unsigned cmd)
{
	struct hv_domain *d = v->dom;
	uint64_t bit = 1ULL << __HYPERVISOR_physdev_op;

	if (!(__atomic_fetch_or(&d->enosys_logged, bit, __ATOMIC_RELAXED) & bit))
		hv_log("d%u: hypercall %u not implemented: -ENOSYS (physdev_op sub-op %u)",
		       d->domid, __HYPERVISOR_physdev_op, cmd);
	return -XEN_ENOSYS;
}

long hc_physdev_op(struct hv_vcpu *v, const uint64_t *a)
{
	unsigned cmd = (unsigned)a[0];
	uint64_t arg = a[1];

	switch (cmd) {
	case PHYSDEVOP_set_iopl: {
		struct physdev_set_iopl op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.iopl > 3)
			return -XEN_EINVAL;
		v->iopl = op.iopl;
		return 0;
	}
	case PHYSDEVOP_set_iobitmap: {
		struct physdev_set_iobitmap op;
		uint64_t bm;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		bm = (uint64_t)(uintptr_t)op.bitmap.p;
		/* Xen checks the range is a guest address, not that it is mapped. */
		if (op.nr_ports > 65536 || bm + IOBMP_BYTES < bm || v->dom->eng->va_reserved(bm) ||
		    v->dom->eng->va_reserved(bm + IOBMP_BYTES - 1))
			return -XEN_EINVAL;
		v->iobmp = bm;
		v->iobmp_ports = op.nr_ports;
		return 0;
	}
	case PHYSDEVOP_irq_status_query: {
		struct physdev_irq_status_query op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return -XEN_EINVAL; /* irq >= nr_pirqs: the domain has none */
	}
	case PHYSDEVOP_eoi: {
		struct physdev_eoi op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return -XEN_EINVAL;
	}
	case PHYSDEVOP_pirq_eoi_gmfn_v1:
	case PHYSDEVOP_pirq_eoi_gmfn_v2: {
		struct physdev_pirq_eoi_gmfn op;
		struct hv_domain *d = v->dom;
		uint64_t gpa, none = 0;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		gpa = (uint64_t)op.gmfn << PAGE_SHIFT;
		if (op.gmfn >= (1ULL << 40) || !mem_is_ram(&d->mem, gpa, PAGE_SIZE) ||
		    !mem_frame_present(&d->mem, gpa))
			return -XEN_EINVAL;
		/* Xen holds the map's frame writable while it is set (-EINVAL for a table). */
		if (mmu_hold_writable(d, gpa))
			return -XEN_EINVAL;
		/* Once per domain, as Xen's cmpxchg on the map. */
		if (!__atomic_compare_exchange_n(&d->pirq_eoi_gmfn, &none, op.gmfn + 1, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			mmu_release_writable(d, gpa);
			return -XEN_EBUSY;
		}
		return 0;
	}
	case PHYSDEVOP_alloc_irq_vector: {
		/* A dummy in Xen: the vector is the irq. */
		struct physdev_irq op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		op.vector = op.irq;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case PHYSDEVOP_get_free_pirq: {
		struct physdev_get_free_pirq op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return -XEN_ENOSPC; /* no pirq space */
	}
	case PHYSDEVOP_apic_read:
	case PHYSDEVOP_apic_write:
	case PHYSDEVOP_map_pirq:
	case PHYSDEVOP_unmap_pirq:
	case PHYSDEVOP_manage_pci_add:
	case PHYSDEVOP_manage_pci_remove:
	case PHYSDEVOP_manage_pci_add_ext:
	case PHYSDEVOP_pci_device_add:
	case PHYSDEVOP_pci_device_remove:
	case PHYSDEVOP_restore_msi:
	case PHYSDEVOP_restore_msi_ext:
	case PHYSDEVOP_setup_gsi:
	case PHYSDEVOP_pci_mmcfg_reserved:
	case PHYSDEVOP_dbgp_op:
	case PHYSDEVOP_prepare_msix:
	case PHYSDEVOP_release_msix:
		return -XEN_EPERM; /* the hardware domain's, by XSM's default policy */
	default:
		return physdev_unknown(v, cmd);
	}
}

/*
 * __HYPERVISOR_physdev_op_compat (19), the pre-3.0.2 form: one struct
 * physdev_op { cmd; union } argument.  As Xen's compat path: the whole
 * structure must be readable (-EFAULT otherwise), then physdev_op runs on
 * the union, which sits right after cmd, so each sub-op answers exactly
 * as it does through hypercall 33.
 */
long hc_physdev_op_compat(struct hv_vcpu *v, const uint64_t *a)
{
	struct physdev_op op;
	uint64_t args[5] = { 0 };

	if (vcpu_copy_from_guest(v, &op, a[0], sizeof(op)))
		return -XEN_EFAULT;
	args[0] = op.cmd;
	args[1] = a[0] + offsetof(struct physdev_op, u);
	return hc_physdev_op(v, args);
}
