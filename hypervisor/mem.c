// SPDX-License-Identifier: MIT
/* Guest memory: one memfd per domain (so dom0 can map it), its KVM memslots, and lookups. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "hv.h"

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

/*
 * RAM is [0, 3 GiB) then [4 GiB, ...); the private pages sit in the hole
 * (SV_PRIV_GPA).  The memfd holds RAM first, then the private pages.
 */
int mem_init(struct hv_mem *m, int vm_fd, uint64_t ram_bytes, uint64_t priv_bytes)
{
	uint64_t low = ram_bytes < SV_RAM_LOW_MAX ? ram_bytes : SV_RAM_LOW_MAX;
	int ret;

	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (!ram_bytes || (ram_bytes & (PAGE_SIZE - 1)) || priv_bytes > SV_PRIV_MAX_SIZE)
		return -EINVAL;
	m->ram_size = ram_bytes;
	m->memfd_size = ram_bytes + priv_bytes;
	m->memfd = memfd_create("splitvisor-guest", MFD_CLOEXEC);
	if (m->memfd < 0)
		return -errno;
	if (ftruncate(m->memfd, (off_t)m->memfd_size) < 0) {
		ret = -errno;
		goto out_close;
	}
	m->base = mmap(NULL, m->memfd_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       m->memfd, 0);
	if (m->base == MAP_FAILED) {
		ret = -errno;
		m->base = NULL;
		goto out_close;
	}
	m->ram[0] = (struct sv_mem_range){ .gpa = 0, .size = low, .offset = 0 };
	m->nr_ram = 1;
	if (ram_bytes > low) {
		m->ram[1] = (struct sv_mem_range){ .gpa = SV_RAM_HIGH_BASE, .size = ram_bytes - low,
						   .offset = low };
		m->nr_ram = 2;
	}
	m->priv = (struct sv_mem_range){ .gpa = SV_PRIV_GPA, .size = priv_bytes, .offset = ram_bytes };
	for (unsigned i = 0; i < m->nr_ram; i++) {
		ret = set_slot(vm_fd, SLOT_RAM_LOW + i, m->ram[i].gpa, m->ram[i].size,
			       m->base + m->ram[i].offset);
		if (ret)
			goto out_unmap;
	}
	ret = set_slot(vm_fd, SLOT_PRIV, m->priv.gpa, m->priv.size, m->base + m->priv.offset);
	if (ret)
		goto out_unmap;
	return 0;

out_unmap:
	munmap(m->base, m->memfd_size);
	m->base = NULL;
out_close:
	close(m->memfd);
	m->memfd = -1;
	return ret;
}

void mem_fini(struct hv_mem *m)
{
	if (m->base)
		munmap(m->base, m->memfd_size);
	if (m->memfd >= 0)
		close(m->memfd);
	m->base = NULL;
	m->memfd = -1;
}

static void *range_ptr(const struct hv_mem *m, const struct sv_mem_range *r, uint64_t gpa,
		       uint64_t len)
{
	if (gpa < r->gpa || len > r->size || gpa - r->gpa > r->size - len)
		return NULL;
	return m->base + r->offset + (gpa - r->gpa);
}

void *mem_gpa(const struct hv_mem *m, uint64_t gpa, uint64_t len)
{
	void *p;

	for (unsigned i = 0; i < m->nr_ram; i++)
		if ((p = range_ptr(m, &m->ram[i], gpa, len)))
			return p;
	return range_ptr(m, &m->priv, gpa, len);
}

bool mem_is_ram(const struct hv_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr_ram; i++)
		if (range_ptr(m, &m->ram[i], gpa, len))
			return true;
	return false;
}

/*
 * KVM's shadow MMU (the only MMU on PVM hosts) does not see writes this
 * process makes to guest page tables: a shadowed table stays stale.  Adding
 * and removing a memslot makes KVM discard every shadow page, so the next
 * guest access re-reads the tables.  Costly, so only page-table updates
 * made on the guest's behalf use it.
 */
int mem_flush_shadow(struct hv_mem *m, int vm_fd)
{
	void *page = m->base + m->priv.offset; /* any host page will do */
	int ret;

	ret = set_slot(vm_fd, SLOT_FLUSH, FLUSH_GPA, PAGE_SIZE, page);
	if (ret)
		return ret;
	return set_slot(vm_fd, SLOT_FLUSH, FLUSH_GPA, 0, page);
}
