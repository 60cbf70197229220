// SPDX-License-Identifier: MIT
/* Guest memory: one memfd per domain (so dom0 and the engines can map it), and lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "hv.h"

/*
 * RAM is [0, 3 GiB) then [4 GiB, ...); the private pages sit in the hole
 * (SV_PRIV_GPA).  The memfd holds RAM first, then the private pages.
 */
int mem_init(struct hv_mem *m, uint64_t ram_bytes, uint64_t priv_bytes)
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
		m->ram[1] = (struct sv_mem_range){ .gpa = SV_RAM_HIGH_BASE,
						   .size = ram_bytes - low,
						   .offset = low };
		m->nr_ram = 2;
	}
	m->priv =
	    (struct sv_mem_range){ .gpa = SV_PRIV_GPA, .size = priv_bytes, .offset = ram_bytes };
	ret = mem_balloon_setup(m);
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

int mem_balloon_setup(struct hv_mem *m)
{
	m->nr_frames = m->ram_size / PAGE_SIZE;
	m->absent = calloc((m->nr_frames + 63) / 64, sizeof(uint64_t));
	if (!m->absent)
		return -ENOMEM;
	m->cur_pages = m->max_pages = m->boot_pages = m->nr_frames;
	return 0;
}

bool mem_frame_present(const struct hv_mem *m, uint64_t gpa)
{
	int64_t off;
	uint64_t pfn;

	if (!mem_is_ram(m, gpa & ~(PAGE_SIZE - 1), PAGE_SIZE))
		return false;
	off = mem_offset(m, gpa);
	pfn = (uint64_t)off / PAGE_SIZE;
	if (!m->absent || pfn >= m->nr_frames)
		return m->absent == NULL;
	return !(__atomic_load_n(&m->absent[pfn / 64], __ATOMIC_RELAXED) & (1ULL << (pfn % 64)));
}

void mem_fini(struct hv_mem *m)
{
	free(m->absent);
	m->absent = NULL;
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

int64_t mem_offset(const struct hv_mem *m, uint64_t gpa)
{
	const struct sv_mem_range *r;

	for (unsigned i = 0; i < m->nr_ram + 1; i++) {
		r = i < m->nr_ram ? &m->ram[i] : &m->priv;
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return (int64_t)(r->offset + (gpa - r->gpa));
	}
	return -EINVAL;
}
