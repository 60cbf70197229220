// SPDX-License-Identifier: MIT
/* Event channels, Xen's FIFO ABI (public/event_channel.h): per-vCPU control blocks with 16
 * priority queues, event words in guest pages, linked by the hypervisor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include "evtchn_priv.h"
#include "mmu.h"

/*
 * The event words, the control blocks and the queue heads live in guest
 * memory, which the guest may change at any moment: each word is read
 * and changed only with atomics, every value read back is checked before
 * use, and no loop follows a guest value.  What the hypervisor relies on
 * is its own: the tail of each queue (a port below the domain's port
 * count), the array pages' host addresses and the ports' priorities.
 * A guest that scribbles on its words or heads loses or scrambles only
 * its own events; linking gives up after a bounded number of tries, as
 * Xen's does.
 *
 * Lock: everything here runs under d->ev.lock except the lock-free reads
 * (evtchn_fifo_active, evtchn_fifo_is_pending), which use release/acquire
 * on `on` and `nr_pages`; page pointers stay valid for the domain's life
 * (guest RAM is mapped for as long as the domain exists).
 *
 * The control blocks and array pages are held as Xen's map_guest_page
 * holds them (mmu_hold_writable: a reference and a writable type), so the
 * guest can neither make one a page table nor give it back while the
 * hypervisor writes it; EVTCHNOP_reset and the domain's end release them.
 */

#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))
#define MAX_PAGES (EVTCHN_FIFO_NR_CHANNELS / WORDS_PER_PAGE)
#define W_PENDING (1U << EVTCHN_FIFO_PENDING)
#define W_MASKED (1U << EVTCHN_FIFO_MASKED)
#define W_LINKED (1U << EVTCHN_FIFO_LINKED)
#define W_BUSY (1U << EVTCHN_FIFO_BUSY)
#define W_LINK ((event_word_t)EVTCHN_FIFO_LINK_MASK)
#define LINK_TRIES 4 /* as Xen: the guest can change a linked word in only 4 ways */

struct fifo_vcpu {
	struct evtchn_fifo_control_block *cb;  /* in guest memory; NULL until init_control */
	uint64_t cb_gpa;		       /* its frame, held while cb is set */
	uint32_t tail[EVTCHN_FIFO_MAX_QUEUES]; /* ours: 0 = empty */
};

struct evtchn_fifo {
	bool on;	   /* atomic: the domain uses the FIFO ABI */
	unsigned nr_pages; /* atomic: event-array pages added */
	event_word_t *pages[MAX_PAGES];
	uint64_t page_gpa[MAX_PAGES]; /* their frames, held */
	struct fifo_vcpu vcpu[SV_MAX_VCPUS];
	bool warned_no_cb;
};

bool evtchn_fifo_active(struct hv_domain *d)
{
	struct evtchn_fifo *f = __atomic_load_n(&d->ev.fifo, __ATOMIC_ACQUIRE);

	return f && __atomic_load_n(&f->on, __ATOMIC_ACQUIRE);
}

/* The pages a domain may add: enough for its ports, at least one. */
static unsigned max_pages(const struct hv_domain *d)
{
	unsigned n = (d->ev.nr + WORDS_PER_PAGE - 1) / WORDS_PER_PAGE;

	return n ? (n < MAX_PAGES ? n : MAX_PAGES) : 1;
}

/* The word of port, or NULL when its page was not added (or port is out of range). */
static event_word_t *word_of(struct evtchn_fifo *f, uint32_t port)
{
	unsigned n = __atomic_load_n(&f->nr_pages, __ATOMIC_ACQUIRE);

	if (port / WORDS_PER_PAGE >= n)
		return NULL;
	return f->pages[port / WORDS_PER_PAGE] + port % WORDS_PER_PAGE;
}

/*
 * A guest frame the hypervisor may write: RAM the guest holds.  Returns
 * its host address, or NULL.
 */
static void *guest_frame(struct hv_domain *d, uint64_t gfn, uint64_t *gpa_out)
{
	uint64_t gpa;

	if (gfn >= (1ULL << (64 - PAGE_SHIFT)))
		return NULL;
	gpa = gfn << PAGE_SHIFT;
	*gpa_out = gpa;
	if (!mem_is_ram(&d->mem, gpa, PAGE_SIZE) || !mem_frame_present(&d->mem, gpa))
		return NULL;
	return mem_gpa(&d->mem, gpa, PAGE_SIZE);
}

bool evtchn_fifo_is_pending(struct hv_domain *d, uint32_t port)
{
	struct evtchn_fifo *f = __atomic_load_n(&d->ev.fifo, __ATOMIC_ACQUIRE);
	event_word_t *w;

	if (!f || !__atomic_load_n(&f->on, __ATOMIC_ACQUIRE))
		return false;
	w = word_of(f, port);
	return w && (__atomic_load_n(w, __ATOMIC_SEQ_CST) & W_PENDING);
}

/*
 * Xen's try_set_link: set the LINK field of the (tail) word to port if
 * the word is still LINKED; clears BUSY in the same exchange.  1 linked,
 * 0 not linked (the guest consumed it: the queue is empty), -1 changed
 * under us.
 */
static int try_set_link(event_word_t *word, event_word_t *w, uint32_t port)
{
	event_word_t old = *w, new;

	if (!(old & W_LINKED))
		return 0;
	new = (old & ~(W_BUSY | W_LINK)) | port;
	if (__atomic_compare_exchange_n(word, w, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 1;
	return -1; /* *w holds the new value */
}

/* Links port after the tail word; false when the queue turned out empty. */
static bool set_link(struct hv_domain *d, event_word_t *word, uint32_t port)
{
	event_word_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	int r = try_set_link(word, &w, port);

	if (r >= 0)
		return r;
	/* BUSY keeps a guest from unmasking it meanwhile (its cmpxchg expects BUSY clear). */
	__atomic_fetch_or(word, W_BUSY, __ATOMIC_SEQ_CST);
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < LINK_TRIES; i++) {
		r = try_set_link(word, &w, port);
		if (r >= 0) {
			if (r == 0)
				__atomic_fetch_and(word, ~W_BUSY, __ATOMIC_SEQ_CST);
			return r;
		}
	}
	/* The guest keeps changing it: give up as Xen does; only its queue suffers. */
	__atomic_fetch_and(word, ~W_BUSY, __ATOMIC_SEQ_CST);
	hv_log("d%u: evtchn fifo: port %u not linked (guest keeps changing its tail)", d->domid,
	       port);
	return true;
}

/* Sets LINKED and clears LINK unless already LINKED; false if it was (or kept changing). */
static bool claim_link(event_word_t *word)
{
	event_word_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);

	for (unsigned i = 0; i <= LINK_TRIES; i++) {
		if (w & W_LINKED)
			return false;
		if (__atomic_compare_exchange_n(word, &w, (w | W_LINKED) & ~W_LINK, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return true;
	}
	return false;
}

/* Xen's evtchn_fifo_set_pending. */
void evtchn_fifo_set_pending(struct hv_domain *d, uint32_t port)
{
	struct evtchn_fifo *f = d->ev.fifo;
	struct evtchn *ch = &d->ev.ports[port];
	uint32_t vcpu = ch->vcpu < d->max_vcpus ? ch->vcpu : 0;
	unsigned prio =
	    ch->priority <= EVTCHN_FIFO_PRIORITY_MIN ? ch->priority : EVTCHN_FIFO_PRIORITY_DEFAULT;
	struct fifo_vcpu *fv = &f->vcpu[vcpu];
	event_word_t *word = word_of(f, port), *tail_word, w;
	uint32_t *old_tail;
	bool was_pending, linked = false;

	if (!word) { /* no page yet: raised again when it is added */
		ch->fifo_saved = 1;
		return;
	}
	was_pending = __atomic_fetch_or(word, W_PENDING, __ATOMIC_SEQ_CST) & W_PENDING;
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	if (w & (W_MASKED | W_LINKED))
		goto out;
	if (!fv->cb) {
		/* The guest must not unmask before its control block exists: dropped. */
		if (!f->warned_no_cb)
			hv_log("d%u: evtchn fifo: vCPU %u has no control block", d->domid, vcpu);
		f->warned_no_cb = true;
		goto out;
	}
	if (!claim_link(word))
		goto out;
	/* Last linked elsewhere as the tail: that queue is empty now. */
	if (ch->last_vcpu < SV_MAX_VCPUS && ch->last_prio < EVTCHN_FIFO_MAX_QUEUES) {
		old_tail = &f->vcpu[ch->last_vcpu].tail[ch->last_prio];
		if (*old_tail == port)
			*old_tail = 0;
	}
	ch->last_vcpu = (uint16_t)vcpu;
	ch->last_prio = (uint8_t)prio;
	if (fv->tail[prio] && (tail_word = word_of(f, fv->tail[prio])))
		linked = set_link(d, tail_word, port);
	if (!linked)
		__atomic_store_n(&fv->cb->head[prio], port, __ATOMIC_SEQ_CST);
	fv->tail[prio] = port;
	if (!linked &&
	    !(__atomic_fetch_or(&fv->cb->ready, 1U << prio, __ATOMIC_SEQ_CST) & (1U << prio)))
		evtchn_vcpu_mark_pending(d->vcpus[vcpu]);
out:
	if (!was_pending)
		evtchn_wake_pollers(d);
}

/* Xen's evtchn_fifo_unmask: clear MASKED, link again if pending. */
void evtchn_fifo_unmask(struct hv_domain *d, uint32_t port)
{
	event_word_t *word = word_of(d->ev.fifo, port);

	if (!word)
		return;
	__atomic_fetch_and(word, ~W_MASKED, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(word, __ATOMIC_SEQ_CST) & W_PENDING)
		evtchn_fifo_set_pending(d, port);
}

void evtchn_fifo_clear_pending(struct hv_domain *d, uint32_t port)
{
	event_word_t *word = word_of(d->ev.fifo, port);

	d->ev.ports[port].fifo_saved = 0;
	if (word)
		__atomic_fetch_and(word, ~W_PENDING, __ATOMIC_SEQ_CST);
}

/*
 * The switch (Xen's setup_ports): bound ports keep what was pending in
 * the 2-level bitmap, raised again once their array page exists, and
 * get the default priority.
 */
static void switch_ports(struct hv_domain *d)
{
	struct shared_info *si = d->shinfo;

	for (uint32_t p = 1; p < d->ev.nr; p++) {
		struct evtchn *ch = &d->ev.ports[p];

		ch->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
		ch->last_vcpu = 0;
		ch->last_prio = EVTCHN_FIFO_PRIORITY_DEFAULT;
		ch->fifo_saved = 0;
		if (ch->state != ECS_FREE && si &&
		    (__atomic_load_n(&si->evtchn_pending[p / 64], __ATOMIC_SEQ_CST) &
		     (1UL << (p % 64))))
			ch->fifo_saved = 1;
	}
}

long evtchn_fifo_init_control(struct hv_domain *d, struct evtchn_init_control *op)
{
	struct evtchn_fifo *f;
	uint64_t gpa = 0;
	void *page;
	long ret = 0;

	op->link_bits = EVTCHN_FIFO_LINK_BITS;
	if (op->vcpu >= d->max_vcpus)
		return -XEN_ENOENT;
	if (op->offset > PAGE_SIZE - sizeof(struct evtchn_fifo_control_block) || (op->offset & 7))
		return -XEN_EINVAL;
	page = guest_frame(d, op->control_gfn, &gpa);
	if (!page)
		return -XEN_EINVAL;
	pthread_mutex_lock(&d->ev.lock);
	f = d->ev.fifo;
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f) {
			ret = -XEN_ENOMEM;
			goto out;
		}
		__atomic_store_n(&d->ev.fifo, f, __ATOMIC_RELEASE);
	}
	if (f->vcpu[op->vcpu].cb) {
		ret = -XEN_EINVAL; /* Xen's map_control_block: one per vCPU */
		goto out;
	}
	if (mmu_hold_writable(d, gpa)) {
		ret = -XEN_EINVAL; /* a page table (or given back meanwhile) */
		goto out;
	}
	f->vcpu[op->vcpu].cb_gpa = gpa;
	f->vcpu[op->vcpu].cb = (struct evtchn_fifo_control_block *)((uint8_t *)page + op->offset);
	memset(f->vcpu[op->vcpu].tail, 0, sizeof(f->vcpu[op->vcpu].tail));
	if (!f->on) {
		switch_ports(d);
		__atomic_store_n(&f->on, true, __ATOMIC_RELEASE);
		hv_log("d%u: event channels: FIFO ABI", d->domid);
	}
out:
	pthread_mutex_unlock(&d->ev.lock);
	return ret;
}

long evtchn_fifo_expand_array(struct hv_domain *d, uint64_t array_gfn)
{
	struct evtchn_fifo *f;
	unsigned slot;
	uint64_t gpa = 0;
	void *page;
	long ret = 0;

	pthread_mutex_lock(&d->ev.lock);
	f = d->ev.fifo;
	if (!f || !f->on) {
		ret = -XEN_EOPNOTSUPP;
		goto out;
	}
	slot = f->nr_pages;
	if (slot >= max_pages(d)) {
		ret = -XEN_ENOSPC;
		goto out;
	}
	page = guest_frame(d, array_gfn, &gpa);
	if (!page || mmu_hold_writable(d, gpa)) {
		ret = -XEN_EINVAL;
		goto out;
	}
	f->pages[slot] = page;
	f->page_gpa[slot] = gpa;
	__atomic_store_n(&f->nr_pages, slot + 1, __ATOMIC_RELEASE);
	/* Events raised while this page was missing. */
	for (uint32_t p = slot * WORDS_PER_PAGE; p < (slot + 1) * WORDS_PER_PAGE && p < d->ev.nr;
	     p++) {
		if (p && d->ev.ports[p].fifo_saved && d->ev.ports[p].state != ECS_FREE) {
			d->ev.ports[p].fifo_saved = 0;
			evtchn_fifo_set_pending(d, p);
		}
	}
out:
	pthread_mutex_unlock(&d->ev.lock);
	return ret;
}

long evtchn_fifo_set_priority(struct hv_domain *d, uint32_t port, uint32_t priority)
{
	long ret = 0;

	pthread_mutex_lock(&d->ev.lock);
	if (port >= d->ev.nr)
		ret = -XEN_EINVAL;
	else if (!d->ev.fifo || !d->ev.fifo->on)
		ret = -XEN_ENOSYS; /* 2-level has no priorities */
	else if (priority > EVTCHN_FIFO_PRIORITY_MIN)
		ret = -XEN_EINVAL;
	else
		d->ev.ports[port].priority = (uint8_t)priority; /* for the next link, as Xen */
	pthread_mutex_unlock(&d->ev.lock);
	return ret;
}

/* Every frame held goes back (Xen's evtchn_fifo_destroy); d->ev.lock held or the domain gone. */
static void release_frames(struct hv_domain *d, struct evtchn_fifo *f)
{
	unsigned n = __atomic_load_n(&f->nr_pages, __ATOMIC_ACQUIRE);

	__atomic_store_n(&f->on, false, __ATOMIC_RELEASE);
	__atomic_store_n(&f->nr_pages, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++)
		mmu_release_writable(d, f->page_gpa[i]);
	for (unsigned i = 0; i < SV_MAX_VCPUS; i++)
		if (f->vcpu[i].cb)
			mmu_release_writable(d, f->vcpu[i].cb_gpa);
	memset(f->pages, 0, sizeof(f->pages));
	memset(f->page_gpa, 0, sizeof(f->page_gpa));
	memset(f->vcpu, 0, sizeof(f->vcpu));
}

void evtchn_fifo_reset(struct hv_domain *d)
{
	struct evtchn_fifo *f;

	pthread_mutex_lock(&d->ev.lock);
	f = d->ev.fifo;
	if (f && f->on) {
		release_frames(d, f);
		hv_log("d%u: event channels: back to the 2-level ABI (EVTCHNOP_reset)", d->domid);
	}
	pthread_mutex_unlock(&d->ev.lock);
}

void evtchn_fifo_fini(struct hv_domain *d)
{
	if (d->ev.fifo)
		release_frames(d, d->ev.fifo);
	free(d->ev.fifo);
	d->ev.fifo = NULL;
}
