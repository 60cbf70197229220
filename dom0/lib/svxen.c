// SPDX-License-Identifier: MIT
/* Logging, errno conventions and the domain memfd cache shared by the three libraries. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

int svxen_handle_init(struct xentoollog_logger *lg, const char *ctx, pthread_mutex_t *lock,
		      struct svctl **ctl)
{
	int ret = pthread_mutex_init(lock, NULL);

	if (ret)
		return -ret;
	*ctl = svctl_open(svctl_rundir());
	if (!*ctl) {
		ret = errno;
		svxen_log(lg, ret, ctx, "cannot connect to the hypervisor in %s", svctl_rundir());
		pthread_mutex_destroy(lock);
		return -ret;
	}
	return 0;
}

static uint64_t dommem_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int svxen_dommem_get(struct svxen_dommem_cache *cache, struct svctl *c, uint32_t domid,
		     struct svxen_dommem **out)
{
	struct svxen_dommem *e;
	int ret;

	for (size_t i = 0; i < cache->n; i++) {
		if (cache->v[i]->domid == domid && !cache->v[i]->stale) {
			*out = cache->v[i];
			cache->v[i]->last_used_ns = dommem_now_ns();
			return 0;
		}
	}
	if (cache->n == cache->cap) {
		size_t cap = cache->cap ? cache->cap * 2 : 4;
		struct svxen_dommem **v = realloc(cache->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cache->v = v;
		cache->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->domid = domid;
	e->memfd = -1;
	ret = svctl_domain_memory(c, domid, &e->mem, &e->memfd);
	if (!ret && !dommem_sane(&e->mem)) {
		close(e->memfd);
		ret = -EPROTO;
	}
	if (ret) {
		free(e);
		return ret;
	}
	e->last_used_ns = dommem_now_ns();
	/* Fetched again right after its last mapping closed it: keep it from now on. */
	e->cycling = cache->closed_domid == domid && cache->closed_ns &&
		     e->last_used_ns - cache->closed_ns < SVXEN_DOMMEM_IDLE_NS;
	cache->v[cache->n++] = e;
	*out = e;
	return 0;
}

void svxen_dommem_hold(struct svxen_dommem *m)
{
	m->users++;
}

static void dommem_remove(struct svxen_dommem_cache *cache, size_t i)
{
	close(cache->v[i]->memfd);
	free(cache->v[i]);
	cache->v[i] = cache->v[--cache->n];
}

void svxen_dommem_put(struct svxen_dommem_cache *cache, struct svxen_dommem *m)
{
	if (m->users && --m->users)
		return;
	m->last_used_ns = dommem_now_ns();
	/*
	 * The last mapping of the domain is gone: let go of its memory now.
	 * Kept "for reuse", a dead domain's memfd stayed open (and its RAM
	 * pinned) until some later call trimmed the cache, which in a daemon
	 * whose other guests keep their grants mapped never came.  A live
	 * device keeps its ring mapped, so a backend does not get here
	 * between requests.  Only a caller that maps and unmaps one grant at
	 * a time (its memfd fetched again within a second of being closed)
	 * keeps it, until an idle trim; grant copies (never held) do too.
	 */
	if (m->cycling && !m->stale)
		return;
	cache->closed_domid = m->domid;
	cache->closed_ns = m->last_used_ns;
	for (size_t i = 0; i < cache->n; i++) {
		if (cache->v[i] == m) {
			dommem_remove(cache, i);
			return;
		}
	}
}

void svxen_dommem_trim(struct svxen_dommem_cache *cache)
{
	uint64_t now = dommem_now_ns();

	for (size_t i = 0; i < cache->n;) {
		const struct svxen_dommem *m = cache->v[i];
		if (!m->users && (m->stale || now - m->last_used_ns >= SVXEN_DOMMEM_IDLE_NS))
			dommem_remove(cache, i);
		else
			i++;
	}
}

void svxen_dommem_trim_unused(struct svxen_dommem_cache *cache)
{
	for (size_t i = 0; i < cache->n;) {
		if (!cache->v[i]->users)
			dommem_remove(cache, i);
		else
			i++;
	}
}

void svxen_dommem_clear(struct svxen_dommem_cache *cache)
{
	while (cache->n)
		dommem_remove(cache, 0);
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
	/*
	 * The shared_info page (the first private page) and the grant-table
	 * frames (GNTTABOP_setup_table's gfns), which Xen lets dom0 map too.
	 */
	if (m->mem.priv.size >= SVXEN_PAGE_SIZE && gpa == m->mem.priv.gpa) {
		*off = m->mem.priv.offset;
		return true;
	}
	if (gpa >= m->mem.gnttab_gpa &&
	    (gpa - m->mem.gnttab_gpa) >> SVXEN_PAGE_SHIFT < m->mem.gnttab_frames &&
	    gpa >= m->mem.priv.gpa && gpa - m->mem.priv.gpa < m->mem.priv.size) {
		*off = m->mem.priv.offset + (gpa - m->mem.priv.gpa);
		return true;
	}
	return false;
}

bool svxen_dommem_page_ok(const struct svxen_dommem *m, uint64_t off)
{
	return !(off & (SVXEN_PAGE_SIZE - 1)) && off < m->mem.memfd_size &&
	       m->mem.memfd_size - off >= SVXEN_PAGE_SIZE;
}
