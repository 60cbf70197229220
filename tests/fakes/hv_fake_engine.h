// SPDX-License-Identifier: MIT
/*
 * An engine for a hypervisor domain with no VM behind it (unit suites, the
 * hypercall fuzzer): the KVM engine's guest-visible ABI (name, id, m2p_va,
 * virt_start, va_reserved, hypercall_page) and a fake for every host hook
 * the core calls unconditionally; ptes_changed, new_baseptr and
 * sync_mappings, which the core treats as optional, are absent.  Never a
 * copy of hv_kvm_engine: a hook the KVM engine gains later is absent here,
 * not a call into KVM state the domain does not have.
 */
#ifndef SV_TESTS_HV_FAKE_ENGINE_H
#define SV_TESTS_HV_FAKE_ENGINE_H

#include "../../hypervisor/hv.h"

void hv_fake_engine(struct hv_engine *e);

#endif
