// SPDX-License-Identifier: MIT
/* The KVM engine's view of guest memory: memslots over the domain's memfd, and shadow flushes. */
#include <errno.h>
#include <sys/ioctl.h>
#include "kvm.h"

#define FLUSH_GPA (SV_PRIV_GPA - PAGE_SIZE)

static int set_slot(int vm_fd, unsigned slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

/* RAM ranges and the private pages, as mem.c laid them out in the memfd. */
int kvm_mem_slots(struct hv_domain *d)
{
	struct hv_mem *m = &d->mem;
	int vm_fd = kvm_dom(d)->vm_fd, ret;

	for (unsigned i = 0; i < m->nr_ram; i++) {
		ret = set_slot(vm_fd, KVM_SLOT_RAM_LOW + i, m->ram[i].gpa, m->ram[i].size,
			       m->base + m->ram[i].offset);
		if (ret)
			return ret;
	}
	return set_slot(vm_fd, KVM_SLOT_PRIV, m->priv.gpa, m->priv.size, m->base + m->priv.offset);
}

/*
 * KVM's shadow MMU (the only MMU on PVM hosts) does not see writes this
 * process makes to guest page tables: a shadowed table stays stale.  Adding
 * and removing a memslot makes KVM discard every shadow page, so the next
 * guest access re-reads the tables.  Costly (it waits for KVM's SRCU
 * readers, and every vCPU then faults its working set in again), so it is
 * kvm_sync.c's fallback only.
 */
int kvm_mem_toggle(struct hv_domain *d)
{
	struct hv_mem *m = &d->mem;
	void *page = m->base + m->priv.offset; /* any host page will do */
	struct kvm_dom *kd = kvm_dom(d);
	int ret;

	ret = set_slot(kd->vm_fd, KVM_SLOT_FLUSH, FLUSH_GPA, PAGE_SIZE, page);
	if (!ret)
		ret = set_slot(kd->vm_fd, KVM_SLOT_FLUSH, FLUSH_GPA, 0, page);
	return ret;
}
