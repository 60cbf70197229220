// SPDX-License-Identifier: MIT
// The balloon: follows memory/target by giving pages back to the hypervisor or taking them again.
#include <svk/balloon.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

/*
 * As Linux's xen-balloon: the toolstack writes memory/target (KiB); the
 * kernel takes pages from its allocator, unmaps them and hands their
 * machine frames back (XENMEM_decrease_reservation), or asks for frames
 * again (XENMEM_populate_physmap with the pfns it gave back, or that
 * maxmem added past start_info's nr_pages), maps them and frees them to
 * the allocator, until its reservation is the target.  Boot vCPU only;
 * the work runs from the watch callback (at a wait).  State owned here.
 */
#define BAL_BATCH 256
#define BAL_MAX_FRAMES (1UL << 18) /* pfns we can track: 1 GiB */
#define BAL_KEEP_FREE 64	   /* pages the kernel keeps, whatever the target */
#define BITS (8 * sizeof(unsigned long))

static int init_rc = -XEN_ENODEV;		 /* balloon_init's result */
static unsigned long frames;			 /* pfn space: nr_pages, or more with maxmem */
static unsigned long out[BAL_MAX_FRAMES / BITS]; /* pfn given back (or never populated) */
static unsigned long nr_out;
static unsigned long target; /* pages; valid once have_target */
static bool have_target, at_target, stuck;
static unsigned long reached; /* times the target was reached */
static xen_pfn_t frame_list[BAL_BATCH];
static unsigned long pfn_list[BAL_BATCH];
static void *page_list[BAL_BATCH];
static unsigned long not_zero; /* frames that came back with data in them */

static bool is_out(unsigned long pfn)
{
	return out[pfn / BITS] & (1UL << (pfn % BITS));
}

static void set_out(unsigned long pfn, bool v)
{
	if (v)
		out[pfn / BITS] |= 1UL << (pfn % BITS);
	else
		out[pfn / BITS] &= ~(1UL << (pfn % BITS));
}

static long reservation(int cmd)
{
	domid_t self = DOMID_SELF;

	return HYPERVISOR_memory_op(cmd, &self);
}

static long memop(int cmd, xen_pfn_t *list, unsigned long n)
{
	struct xen_memory_reservation r = { .nr_extents = n,
					    .extent_order = 0,
					    .domid = DOMID_SELF };

	set_xen_guest_handle(r.extent_start, list);
	return HYPERVISOR_memory_op(cmd, &r);
}

/* Give back up to @n pages from the allocator; returns how many went. */
static unsigned long balloon_out(unsigned long n)
{
	unsigned long k = 0, done;
	long rc;

	while (k < n && k < BAL_BATCH && mm_free_pages() > BAL_KEEP_FREE) {
		void *p = page_alloc();
		if (!p)
			break;
		if (virt_to_pfn(p) >= frames) { /* past what we track: keep it */
			page_free(p);
			break;
		}
		page_list[k] = p;
		frame_list[k] = virt_to_mfn(p);
		k++;
	}
	for (unsigned long i = 0; i < k; i++)
		(void)HYPERVISOR_update_va_mapping((unsigned long)page_list[i], 0,
						   UVMF_INVLPG | UVMF_LOCAL);
	rc = k ? memop(XENMEM_decrease_reservation, frame_list, k) : 0;
	done = rc < 0 ? 0 : (unsigned long)rc;
	if (done > k)
		done = k;
	for (unsigned long i = 0; i < k; i++) {
		unsigned long pfn = virt_to_pfn(page_list[i]);
		if (i < done) {
			mm_p2m_set(pfn, ~0UL);
			set_out(pfn, true);
			nr_out++;
			continue;
		}
		/* Not taken: map it again and keep it. */
		(void)HYPERVISOR_update_va_mapping((unsigned long)page_list[i],
						   ((uint64_t)frame_list[i] << PAGE_SHIFT) |
						       PAGE_KERNEL_RW,
						   UVMF_INVLPG | UVMF_LOCAL);
		page_free(page_list[i]);
	}
	return done;
}

/* Take back up to @n of the frames given back; returns how many came. */
static unsigned long balloon_in(unsigned long n)
{
	unsigned long k = 0, done;
	long rc;

	for (unsigned long pfn = 0; pfn < frames && k < n && k < BAL_BATCH; pfn++) {
		if (!is_out(pfn))
			continue;
		pfn_list[k] = pfn;
		frame_list[k] = pfn;
		k++;
	}
	rc = k ? memop(XENMEM_populate_physmap, frame_list, k) : 0;
	done = rc < 0 ? 0 : (unsigned long)rc;
	if (done > k)
		done = k;
	for (unsigned long i = 0; i < done; i++) {
		unsigned long pfn = pfn_list[i], *page = pfn_to_virt(pfn);

		set_out(pfn, false);
		nr_out--;
		mm_p2m_set(pfn, frame_list[i]);
		if (HYPERVISOR_update_va_mapping((unsigned long)page,
						 ((uint64_t)frame_list[i] << PAGE_SHIFT) |
						     PAGE_KERNEL_RW,
						 UVMF_INVLPG | UVMF_LOCAL))
			continue; /* ours, but out of our page tables' reach: held unused */
		for (unsigned long j = 0; j < PAGE_SIZE / sizeof(*page); j++) {
			if (page[j]) {
				not_zero++;
				break;
			}
		}
		page_free(page);
	}
	return done;
}

/*
 * Move towards the target until there, or until no step makes progress.
 * Says so (and counts it for balloon_wait) only when pages moved: the
 * watch's first event at boot finds the target met and stays quiet.
 */
static void balloon_work(void)
{
	bool moved_any = false;

	while (have_target) {
		long cur = reservation(XENMEM_current_reservation);
		unsigned long moved;

		if (cur < 0) {
			printk("balloon: cannot read the reservation: %ld\n", cur);
			return;
		}
		if ((unsigned long)cur == target) {
			if (!moved_any)
				return;
			printk(
			    "balloon: reached target %lu KiB (holds %lu pages, %lu given back)\n",
			    target * 4, frames - nr_out, nr_out);
			if (not_zero)
				printk("balloon: %lu frames came back not zeroed\n", not_zero);
			not_zero = 0;
			at_target = true;
			stuck = false;
			reached++;
			return;
		}
		at_target = false;
		if ((unsigned long)cur > target)
			moved = balloon_out((unsigned long)cur - target);
		else
			moved = balloon_in(target - (unsigned long)cur);
		if (!moved) {
			if (!stuck)
				printk("balloon: stopped at %lu KiB, target %lu KiB (%s)\n",
				       (unsigned long)cur * 4, target * 4,
				       (unsigned long)cur > target
					   ? "keeping the last free pages"
					   : "the hypervisor gives no more");
			stuck = true;
			reached++; /* as far as it goes: a waiter may go on */
			return;
		}
		moved_any = true;
	}
}

static void target_cb(const char *path, void *data)
{
	uint64_t kb;

	if (xenbus_read_u64(XBT_NIL, "memory/target", &kb))
		return; /* absent or junk: keep what we have */
	if (kb / 4 != target || !have_target) {
		target = kb / 4;
		have_target = true;
		at_target = stuck = false;
	}
	balloon_work();
}

int balloon_init(const start_info_t *si)
{
	long max = reservation(XENMEM_maximum_reservation);
	int rc;

	if (max < 0)
		return init_rc = (int)max;
	if (si->nr_pages > BAL_MAX_FRAMES)
		return init_rc = -XEN_E2BIG;
	frames = si->nr_pages;
	if ((unsigned long)max > frames)
		frames = (unsigned long)max < BAL_MAX_FRAMES ? (unsigned long)max : BAL_MAX_FRAMES;
	rc = mm_p2m_grow(frames);
	if (rc)
		return init_rc = rc;
	for (unsigned long pfn = si->nr_pages; pfn < frames; pfn++)
		set_out(pfn, true);
	nr_out = frames - si->nr_pages;
	rc = xenbus_write_async("control/feature-balloon", "1");
	if (!rc) {
		rc = xenbus_watch_async("memory/target", target_cb, NULL);
		rc = rc < 0 ? rc : 0;
	}
	init_rc = rc;
	return rc;
}

static bool reached_since(void *arg)
{
	return reached != *(unsigned long *)arg;
}

int balloon_wait(uint64_t timeout_ns)
{
	unsigned long seen = reached;

	if (init_rc)
		return -XEN_ENODEV;
	return wait_until(reached_since, &seen, timeout_ns);
}

int balloon_status(unsigned long *held, unsigned long *given_back)
{
	*held = frames - nr_out;
	*given_back = nr_out;
	return init_rc;
}

/*
 * Write a pattern over every free page the allocator has (the pfn in each
 * word), then read it all back: the memory the kernel holds is all there
 * and all its own.  The pages go back to the allocator after.
 */
void balloon_memcheck(void)
{
	void *head = NULL;
	unsigned long n = 0, bad = 0, first_bad = 0;

	for (;;) {
		unsigned long *p = page_alloc();
		if (!p)
			break;
		p[0] = (unsigned long)head;
		head = p;
		n++;
	}
	for (unsigned long *p = head; p; p = (unsigned long *)p[0]) {
		unsigned long pfn = virt_to_pfn(p);
		for (unsigned long j = 1; j < PAGE_SIZE / sizeof(*p); j++)
			p[j] = (pfn << 12) ^ j ^ 0x5a5a5a5a00000000UL;
	}
	for (unsigned long *p = head; p; p = (unsigned long *)p[0]) {
		unsigned long pfn = virt_to_pfn(p);
		for (unsigned long j = 1; j < PAGE_SIZE / sizeof(*p); j++) {
			if (p[j] != ((pfn << 12) ^ j ^ 0x5a5a5a5a00000000UL)) {
				if (!bad++)
					first_bad = pfn;
				break;
			}
		}
	}
	while (head) {
		void *next = (void *)((unsigned long *)head)[0];
		page_free(head);
		head = next;
	}
	if (bad)
		printk("memcheck: %lu of %lu pages bad (first pfn %#lx)\n", bad, n, first_bad);
	else
		printk("memcheck: %lu pages (%lu KiB) ok\n", n, n * 4);
}
