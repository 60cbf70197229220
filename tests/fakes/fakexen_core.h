/* SPDX-License-Identifier: MIT */
/*
 * The fake hypervisor's state and semantics, once: one guest domain's memory
 * (a memfd), its grant table, the grant maps dom0 holds, and dom0's event
 * channel ports.  Two front doors sit on it: fakehv.c serves it behind the
 * control socket (the real libsvxen talks to it), fakexen_libs.c is dom0's
 * Xen libraries themselves, in-process.  A door names each of its clients
 * with a struct fakexen_owner: what an owner holds goes when it is released.
 * Thread-safe (one lock); a door's deliver callback runs under it.
 */
#ifndef SV_TESTS_FAKEXEN_CORE_H
#define SV_TESTS_FAKEXEN_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include "sv/ctl.h"

struct fakexen;

struct fakexen_owner {
	/*
	 * A port of this owner fired (it is masked now); called with the fake's
	 * lock held.  false: not taken, the port stays pending.
	 */
	bool (*deliver)(struct fakexen_owner *o, uint32_t port);
};

struct fakexen_params {
	uint32_t domid;	      /* the guest domain */
	unsigned pages;	      /* its memory */
	unsigned nr_grefs;    /* its grant table */
	unsigned nr_ports;    /* dom0's ports (0 is never used) */
	unsigned nr_handles;  /* grant maps dom0 may hold at once */
	bool any_peer_domain; /* interdomain binds to any domid (the suite plays every guest) */
};

/* NULL and errno on failure. */
struct fakexen *fakexen_new(const struct fakexen_params *p);
void fakexen_free(struct fakexen *x);
int fakexen_memfd(struct fakexen *x);
uint32_t fakexen_domid(struct fakexen *x);

/* Grant ref of the guest to dom0: memfd page frame; fakexen_grants_clear revokes every one. */
void fakexen_grant(struct fakexen *x, uint32_t ref, uint32_t frame, bool readonly);
void fakexen_grants_clear(struct fakexen *x);
/* Maps one ref for o: GNTST_okay with *handle and the page's memfd *offset, or a GNTST_ error. */
int fakexen_gnt_map(struct fakexen *x, struct fakexen_owner *o, uint32_t domid, uint32_t ref,
		    bool readonly, uint32_t *handle, uint64_t *offset);
/* GNTST_okay, or GNTST_bad_handle for a handle o does not hold. */
int fakexen_gnt_unmap(struct fakexen *x, struct fakexen_owner *o, uint32_t handle);
/* One copy segment between grant refs; its status is set. */
void fakexen_gnt_copy(struct fakexen *x, struct sv_gnt_copy_seg *s);
unsigned fakexen_ref_maps(struct fakexen *x, uint32_t ref);
unsigned fakexen_live_handles(struct fakexen *x);
/* A lying hypervisor: map offsets past the memfd; the next n maps answer GNTST_eagain. */
void fakexen_set_bad_offsets(struct fakexen *x, bool on);
void fakexen_set_eagain(struct fakexen *x, unsigned n);

/*
 * Binds a port of o (op: SV_CTL_EVTCHN_BIND_INTERDOMAIN, _UNBOUND or _VIRQ,
 * with b's fields as the control socket has them).  want: a port to take
 * when free (0: the lowest free).  The port or -errno.
 */
int fakexen_evtchn_bind(struct fakexen *x, struct fakexen_owner *o, uint32_t op,
			const struct sv_ctl_evtchn_bind *b, uint32_t want);
/* 0, or -EINVAL for a port o does not hold (or cannot notify). */
int fakexen_evtchn_unbind(struct fakexen *x, struct fakexen_owner *o, uint32_t port);
int fakexen_evtchn_notify(struct fakexen *x, struct fakexen_owner *o, uint32_t port);
int fakexen_evtchn_unmask(struct fakexen *x, struct fakexen_owner *o, uint32_t port);
/* Raise virq: the port bound to it fires. */
void fakexen_fire_virq(struct fakexen *x, uint32_t virq);

/* Everything o holds (ports, grant maps) goes, as the real hypervisor promises. */
void fakexen_release(struct fakexen *x, struct fakexen_owner *o);

#endif
