// SPDX-License-Identifier: MIT
// Xen as the guest kernel sees it (hypercalls, shared pages), for the guest boot test: event
// channels, grant table, a tiny xenstored, a console backend, a scripted dom0.
#ifndef SV_TESTS_FAKEXEN_GUEST_H
#define SV_TESTS_FAKEXEN_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>

/* What the fake dom0 and backends do; all off by default. */
struct fakexen_opts {
	bool on;			 /* offer event channels, grants, store, console */
	unsigned int domid;		 /* written to "domid" (home /local/domain/<id>) */
	bool tx_eagain_once;		 /* first transaction end says EAGAIN */
	const char *watch_key;		 /* data/<key> the dom0 script writes ... */
	const char *const *watch_values; /* ... one value per idle, NULL-ended */
	bool grant_peer;		 /* dom0 answers grant-selftest */
	const char *grant_peer_says;	 /* what it writes to grant-done ("ok") */
	bool grant_peer_keeps_mapping;	 /* leaves GTF_reading|writing set */
	unsigned int pingpong;		 /* dom0 connects and pings this many times */
	bool pingpong_echo;		 /* dom0 answers the guest's pings instead */
	const char *console_input;	 /* typed into the console ring when idle */
	bool console_stalls;		 /* the console backend never consumes */
	const char *shutdown;		 /* written to control/shutdown when idle */
	bool hostile_store;		 /* the store answers with a bad rsp_prod */
	bool hostile_console;		 /* in_prod far ahead of in_cons, once */
	const char *const *nodes;	 /* "abs-path", "value", ..., NULL */
};

/* Output of the harness: the guest's console and the fake's remarks. */
typedef void (*fakexen_say_fn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * fakexen_init: @sh is the domain's shared_info, @store and @cons the
 * store and console ring pages, @gnt the grant frames (@nr_gnt of them,
 * machine frames from @gnt_mfn on), @out the console fd.
 */
void fakexen_init(const struct fakexen_opts *o, struct shared_info *sh, void *store, void *cons,
		  void *gnt, unsigned int nr_gnt, unsigned long gnt_mfn, int out,
		  fakexen_say_fn say);

/* The hypercalls, as hc_dispatch sees them. */
long fakexen_event_channel_op(long cmd, void *arg);
long fakexen_grant_table_op(long cmd, void *arg, long count);
long fakexen_set_timer(uint64_t deadline_ns);

/* Guest system time as the guest computes it from vCPU 0's record. */
uint64_t fakexen_now_ns(void);

/*
 * fakexen_idle: the guest blocked.  Fire the timer (sleeping until it is
 * due) or let dom0 take its next scripted step.  Returns true when that
 * raised an event, false when nothing is left to happen.
 */
bool fakexen_idle(void);

/* fakexen_console_drain: pass what the console ring holds to @out. */
void fakexen_console_drain(void);

#endif
