// SPDX-License-Identifier: MIT
/* Logging, errno conventions and the domain memfd cache shared by the three libraries. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "svxen.h"
#include <xentoollog.h>
#include <xen/grant_table.h>

void svxen_log(struct xentoollog_logger *lg, int errnoval, const char *ctx, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (!lg || !lg->vmessage)
		return;
	va_start(ap, fmt);
	lg->vmessage(lg, XTL_ERROR, errnoval, ctx, fmt, ap);
	va_end(ap);
	errno = saved;
}

int svxen_fail(int neg_errno)
{
	errno = neg_errno < 0 ? -neg_errno : EIO;
	return -1;
}

int svxen_gntst_errno(int32_t gntst)
{
	switch (gntst) {
	case GNTST_okay:
		return 0;
	case GNTST_bad_domain:
		return ESRCH;
	case GNTST_permission_denied:
		return EPERM;
	case GNTST_no_space:
	case GNTST_no_device_space:
		return ENOMEM;
	case GNTST_eagain:
		return EAGAIN;
	default:
		return EINVAL;
	}
}

/* A reply is trusted only after its ranges are page-aligned and inside the memfd. */
static bool dommem_sane(const struct sv_ctl_memory *m)
{
	if (m->nr_ranges > sizeof(m->ram) / sizeof(m->ram[0]))
		return false;
	for (uint32_t i = 0; i < m->nr_ranges; i++) {
		const struct sv_mem_range *r = &m->ram[i];

		if ((r->gpa | r->size | r->offset) & (SVXEN_PAGE_SIZE - 1))
			return false;
		if (r->gpa + r->size < r->gpa || r->offset + r->size < r->offset ||
		    r->offset + r->size > m->memfd_size)
			return false;
	}
	return true;
}

int svxen_dommem_get(struct svxen_dommem_cache *cache, struct svctl *c, uint32_t domid,
		     const struct svxen_dommem **out)
{
	struct svxen_dommem e = { .domid = domid, .memfd = -1 };
	int ret;

	for (size_t i = 0; i < cache->n; i++) {
		if (cache->v[i].domid == domid) {
			*out = &cache->v[i];
			return 0;
		}
	}
	if (cache->n == cache->cap) {
		size_t cap = cache->cap ? cache->cap * 2 : 4;
		struct svxen_dommem *v = realloc(cache->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cache->v = v;
		cache->cap = cap;
	}
	ret = svctl_domain_memory(c, domid, &e.mem, &e.memfd);
	if (ret)
		return ret;
	if (!dommem_sane(&e.mem)) {
		close(e.memfd);
		return -EPROTO;
	}
	cache->v[cache->n] = e;
	*out = &cache->v[cache->n++];
	return 0;
}

void svxen_dommem_drop(struct svxen_dommem_cache *cache, uint32_t domid)
{
	for (size_t i = 0; i < cache->n; i++) {
		if (cache->v[i].domid == domid) {
			close(cache->v[i].memfd);
			cache->v[i] = cache->v[--cache->n];
			return;
		}
	}
}

void svxen_dommem_clear(struct svxen_dommem_cache *cache)
{
	for (size_t i = 0; i < cache->n; i++)
		close(cache->v[i].memfd);
	free(cache->v);
	memset(cache, 0, sizeof(*cache));
}

bool svxen_dommem_gfn_offset(const struct svxen_dommem *m, uint64_t gfn, uint64_t *off)
{
	uint64_t gpa;

	if (gfn > (UINT64_MAX >> SVXEN_PAGE_SHIFT))
		return false;
	gpa = gfn << SVXEN_PAGE_SHIFT;
	for (uint32_t i = 0; i < m->mem.nr_ranges; i++) {
		const struct sv_mem_range *r = &m->mem.ram[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*off = r->offset + (gpa - r->gpa);
			return true;
		}
	}
	return false;
}

bool svxen_dommem_page_ok(const struct svxen_dommem *m, uint64_t off)
{
	return !(off & (SVXEN_PAGE_SIZE - 1)) && off < m->mem.memfd_size &&
	       m->mem.memfd_size - off >= SVXEN_PAGE_SIZE;
}
