// SPDX-License-Identifier: MIT
// Glue to the hypervisor (Xen's xenevtchn and xenforeignmemory APIs, from libsvxen): guest rings
// for xs_domain_attach_ring().
#ifndef XS_XEN_H
#define XS_XEN_H

#include "xenstored.h"

/* Opens event channels and foreign memory; 0 or -errno (no hypervisor). */
int xs_xen_open(struct xs_daemon *d);
/* The event channel fd to poll, -1 if not open. */
int xs_xen_fd(struct xs_daemon *d);
/* Serves every event channel that fired; -EPIPE once the hypervisor is gone. */
int xs_xen_events(struct xs_daemon *d);
void xs_xen_close(struct xs_daemon *d);
/* Fires @releaseDomain for domains that shut down, releases dead ones. */
void xs_xen_check_domains(struct xs_daemon *d);
/* The tick's timer fd (-1 if none), and its handler: the ring poll, the domain check. */
int xs_xen_timer_fd(struct xs_daemon *d);
void xs_xen_tick(struct xs_daemon *d);
/* Reads every ring holding requests no event announced (from the tick). */
void xs_xen_poll_rings(struct xs_daemon *d);

#endif
