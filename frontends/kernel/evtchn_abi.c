// SPDX-License-Identifier: MIT
// The evtchn-fifo word: which event-channel ABI delivers, proved with loopback ports.
#include <svk/events.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/selftests.h>
#include <svk/wait.h>

#define ORDER_MAX 8
static evtchn_port_t order[ORDER_MAX];
static unsigned nr_seen;

static void abi_handler(evtchn_port_t port, void *data)
{
	(void)data;
	if (nr_seen < ORDER_MAX)
		order[nr_seen] = port;
	nr_seen++;
}

static bool seen_two(void *arg)
{
	(void)arg;
	return READ_ONCE(nr_seen) >= 2;
}

/* A loopback pair: *rx gets the handler, sends go on *tx. */
static int pair(evtchn_port_t *rx, evtchn_port_t *tx)
{
	int rc = evtchn_alloc_unbound(DOMID_SELF, rx);

	if (rc)
		return rc;
	rc = evtchn_bind_interdomain(DOMID_SELF, *rx, tx);
	if (!rc)
		rc = evtchn_bind(*rx, abi_handler, NULL);
	return rc;
}

/*
 * Two loopback pairs, the first port given the lowest priority and the
 * second the highest; both are sent while events are masked.  Under FIFO
 * the second is delivered first (its queue is served first), under
 * 2-level the lower port number is.  Then set_priority's refusals.
 */
void selftest_evtchn_abi(const char *arg)
{
	evtchn_port_t lo_rx, lo_tx, hi_rx, hi_tx;
	bool fifo = events_fifo();
	int rc, bad_prio, bad_port;

	(void)arg;
	if (fifo)
		printk("evtchn-fifo: abi fifo, %u ports\n", events_fifo_ports());
	else if (events_fifo_why_not() == 1)
		printk("evtchn-fifo: abi 2-level (FIFO not asked for)\n");
	else
		printk("evtchn-fifo: abi 2-level (init_control: %d)\n", events_fifo_why_not());
	nr_seen = 0;
	rc = pair(&lo_rx, &lo_tx);
	if (!rc)
		rc = pair(&hi_rx, &hi_tx);
	if (rc) {
		printk("evtchn-fifo: FAIL loopback ports: %d\n", rc);
		return;
	}
	if (fifo) {
		rc = evtchn_set_priority(lo_rx, EVTCHN_FIFO_PRIORITY_MIN);
		if (!rc)
			rc = evtchn_set_priority(hi_rx, EVTCHN_FIFO_PRIORITY_MAX);
	} else {
		rc = evtchn_set_priority(lo_rx, 1) == -XEN_ENOSYS ? 0 : -XEN_EINVAL;
	}
	if (rc) {
		printk("evtchn-fifo: FAIL set_priority: %d\n", rc);
		goto out;
	}
	/* The binds raised both rx ports once (a new interdomain port starts pending). */
	(void)wait_until(seen_two, NULL, 1000000000ULL);
	nr_seen = 0;
	events_mask();
	(void)evtchn_notify(lo_tx);
	(void)evtchn_notify(hi_tx);
	events_unmask();
	if (wait_until(seen_two, NULL, 5000000000ULL) || nr_seen != 2) {
		printk("evtchn-fifo: FAIL %u events delivered, not 2\n", nr_seen);
		goto out;
	}
	printk("evtchn-fifo: delivered port %u then %u (%s)\n", order[0], order[1],
	       order[0] == (fifo ? hi_rx : (lo_rx < hi_rx ? lo_rx : hi_rx)) ? "as the ABI orders"
									    : "WRONG ORDER");
	bad_prio = evtchn_set_priority(lo_rx, EVTCHN_FIFO_PRIORITY_MIN + 1);
	bad_port = evtchn_set_priority(100000, EVTCHN_FIFO_PRIORITY_DEFAULT);
	printk("evtchn-fifo: set_priority 16: %d, port 100000: %d\n", bad_prio, bad_port);
	printk("evtchn-fifo: %s\n", fifo ? "fifo ok" : "2-level ok");
out:
	(void)evtchn_close(lo_rx);
	(void)evtchn_close(lo_tx);
	(void)evtchn_close(hi_rx);
	(void)evtchn_close(hi_tx);
}
