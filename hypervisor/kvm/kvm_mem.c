// SPDX-License-Identifier: MIT
/* The KVM engine's view of guest memory: memslots over the domain's memfd, and shadow flushes. */
#include <errno.h>
#include <sys/ioctl.h>
#include "kvm.h"

enum { SLOT_RAM_LOW, SLOT_RAM_HIGH, SLOT_PRIV, SLOT_FLUSH };
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
		ret = set_slot(vm_fd, SLOT_RAM_LOW + i, m->ram[i].gpa, m->ram[i].size,
			       m->base + m->ram[i].offset);
		if (ret)
			return ret;
	}
	return set_slot(vm_fd, SLOT_PRIV, m->priv.gpa, m->priv.size, m->base + m->priv.offset);
}

/*
 * KVM's shadow MMU (the only MMU on PVM hosts) does not see writes this
 * process makes to guest page tables: a shadowed table stays stale.  Adding
 * and removing a memslot makes KVM discard every shadow page, so the next
 * guest access re-reads the tables.  Costly, so only page-table updates
 * made on the guest's behalf use it.
 */
int kvm_mem_flush_shadow(struct hv_domain *d)
{
	struct hv_mem *m = &d->mem;
	void *page = m->base + m->priv.offset; /* any host page will do */
	struct kvm_dom *kd = kvm_dom(d);
	int ret;

	pthread_mutex_lock(&kd->flush_lock);
	ret = set_slot(kd->vm_fd, SLOT_FLUSH, FLUSH_GPA, PAGE_SIZE, page);
	if (!ret)
		ret = set_slot(kd->vm_fd, SLOT_FLUSH, FLUSH_GPA, 0, page);
	pthread_mutex_unlock(&kd->flush_lock);
	return ret;
}
