/* SPDX-License-Identifier: MIT */
/* Event channels inside the hypervisor: the port table entry, shared by evtchn.c (2-level, ports)
 * and evtchn_fifo.c (the FIFO ABI). */
#ifndef SV_HV_EVTCHN_PRIV_H
#define SV_HV_EVTCHN_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/event_channel.h>
#include "hv.h"

enum { ECS_FREE, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
	uint8_t state;
	uint8_t virq;
	uint8_t dom0_masked;  /* dom0: fired, waiting for unmask */
	uint8_t dom0_pending; /* dom0: fired again while masked */
	uint32_t vcpu;	      /* notify vCPU (guests) */
	uint32_t remote_dom;  /* UNBOUND: who may bind; INTERDOMAIN: peer */
	uint32_t remote_port;
	struct hv_domain *peer;	      /* INTERDOMAIN: referenced */
	struct evtchn_client *client; /* dom0: owning connection */
	/* FIFO ABI (evtchn_fifo.c). */
	uint8_t priority;   /* queue for the next link; EVTCHN_FIFO_PRIORITY_DEFAULT when bound */
	uint8_t fifo_saved; /* pending while its event-array page was missing */
	/* The queue it was last linked on (kept across close, as Xen keeps it). */
	uint8_t last_prio;
	uint16_t last_vcpu;
};

/* evtchn.c */
void evtchn_wake_pollers(struct hv_domain *d);

/* evtchn_fifo.c: each with d->ev.lock held unless it says otherwise. */
bool evtchn_fifo_active(struct hv_domain *d); /* any thread, no lock */
void evtchn_fifo_set_pending(struct hv_domain *d, uint32_t port);
void evtchn_fifo_unmask(struct hv_domain *d, uint32_t port);
void evtchn_fifo_clear_pending(struct hv_domain *d, uint32_t port);
bool evtchn_fifo_is_pending(struct hv_domain *d, uint32_t port); /* no lock */
/* The hypercalls, taking d->ev.lock themselves; 0 or -XEN_E*. */
long evtchn_fifo_init_control(struct hv_domain *d, struct evtchn_init_control *op);
long evtchn_fifo_expand_array(struct hv_domain *d, uint64_t array_gfn);
long evtchn_fifo_set_priority(struct hv_domain *d, uint32_t port, uint32_t priority);
/* EVTCHNOP_reset: back to 2-level (ports already closed).  Takes the lock. */
void evtchn_fifo_reset(struct hv_domain *d);
void evtchn_fifo_fini(struct hv_domain *d);

#endif
