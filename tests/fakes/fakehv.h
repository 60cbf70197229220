/* SPDX-License-Identifier: MIT */
/* The fake hypervisor behind the control socket: real libsvxen (and backends on it) talk to it.
 * One of the two front doors of fakexen_core.h (fakexen_libs.h is the other, in-process). */
#ifndef SVXEN_FAKEHV_H
#define SVXEN_FAKEHV_H

#include <stdbool.h>
#include <stdint.h>

/*
 * It listens on <rundir>/hypervisor.sock, serves each connection in its own
 * thread and speaks the control protocol for DOMAIN_MEMORY, the EVTCHN_*
 * and the GNT_* ops.  dom0's ports live in one table; domain FAKEHV_DOMID
 * exists with FAKEHV_PAGES pages of RAM in a memfd, laid out as two RAM
 * ranges (see fakehv.c), and a grant table the test fills with
 * fakehv_grant().
 */
#define FAKEHV_DOMID 1
#define FAKEHV_PAGES 16
#define FAKEHV_NR_PORTS 64
#define FAKEHV_NR_GREFS 32

struct fakehv;

/* NULL and errno on failure. */
struct fakehv *fakehv_start(const char *rundir);
/* The hypervisor goes away: every connection is cut, then everything is freed. */
void fakehv_stop(struct fakehv *hv);

/*
 * The fixture every suite wants: rundir (a mkdtemp template, filled in) made,
 * SPLITVISOR_RUNDIR pointed at it for libsvxen, and a fake hypervisor serving it.
 * NULL on failure.  fakehv_stop_private stops hv (unless NULL: a test stopped it)
 * and removes the socket and the directory.
 */
struct fakehv *fakehv_start_private(char *rundir);
void fakehv_stop_private(struct fakehv *hv, const char *rundir);

/* The domain's memory, for checking what a mapping or copy did. */
int fakehv_memfd(struct fakehv *hv);
/* Grant ref (< FAKEHV_NR_GREFS) of FAKEHV_DOMID to dom0: memfd page frame. */
void fakehv_grant(struct fakehv *hv, uint32_t ref, uint32_t frame, bool readonly);
/* Mappings of ref currently held. */
unsigned fakehv_ref_maps(struct fakehv *hv, uint32_t ref);
/* Grant handles held over all connections. */
unsigned fakehv_live_handles(struct fakehv *hv);
/* Raise virq: the port bound to it fires. */
void fakehv_fire_virq(struct fakehv *hv, uint32_t virq);
/* One-way requests received, and how many of them named a bad port. */
unsigned fakehv_noreply_count(struct fakehv *hv);
unsigned fakehv_noreply_errors(struct fakehv *hv);
/* Make GNT_MAP report offsets outside the memfd (a lying hypervisor). */
void fakehv_set_bad_offsets(struct fakehv *hv, bool on);
/* The next n grant maps of valid refs answer GNTST_eagain (the guest changed the entry). */
void fakehv_set_eagain(struct fakehv *hv, unsigned n);
/* Wait until n NOREPLY requests arrived (no answer comes to wait on); false on timeout. */
bool fakehv_wait_noreply(struct fakehv *hv, unsigned n, int timeout_ms);

#endif
