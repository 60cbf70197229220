/* SPDX-License-Identifier: MIT */
/* Client side of the hypervisor control socket, for xl and the domain builder. */
#ifndef SV_SVCTL_H
#define SV_SVCTL_H

#include <stddef.h>
#include <stdint.h>
#include "sv/ctl.h"

/*
 * One connection.  Calls on a handle are not thread-safe: use one handle
 * per thread.  Every call returns 0 (or a count) on success and -errno on
 * failure: the hypervisor's answer (-ESRCH: no such domain, -EINVAL: bad
 * argument...) or a transport error (-ECONNREFUSED: no hypervisor, -EPIPE:
 * it went away).
 */
struct svctl;

/* Rundir from SPLITVISOR_RUNDIR, else /run/splitvisor. */
const char *svctl_rundir(void);
/* NULL and errno set on failure. */
struct svctl *svctl_open(const char *rundir);
void svctl_close(struct svctl *c);
/* The connection's socket (for poll or fcntl; do not read or write it). */
int svctl_fd(const struct svctl *c);

/* The raw call: request payload out, reply payload in (up to rep_max), an fd if one came. */
int svctl_call(struct svctl *c, uint32_t op, const void *req, uint32_t req_len, void *rep,
	       uint32_t rep_max, uint32_t *rep_len, int *fd_out);
/*
 * A one-way request (SV_CTL_F_NOREPLY: event notify, unmask): header and
 * payload leave in one send, nothing is read back.  0 or -errno (-EPIPE:
 * the hypervisor went away); errors in the request itself are only logged
 * by the hypervisor.
 */
int svctl_send_noreply(struct svctl *c, uint32_t op, const void *req, uint32_t req_len);

int svctl_host_info(struct svctl *c, struct sv_host_info *out);
int svctl_domain_create(struct svctl *c, const struct sv_ctl_create *req, uint32_t *domid);
/* The domain's memory layout and its memfd (caller closes it). */
int svctl_domain_memory(struct svctl *c, uint32_t domid, struct sv_ctl_memory *out, int *memfd);
int svctl_set_hypercall_page(struct svctl *c, uint32_t domid, uint64_t gpa);
int svctl_vcpu_set_context(struct svctl *c, uint32_t domid, uint32_t vcpu,
			   const struct vcpu_guest_context *ctx);
int svctl_domain_unpause(struct svctl *c, uint32_t domid);
int svctl_domain_pause(struct svctl *c, uint32_t domid);
int svctl_domain_shutdown(struct svctl *c, uint32_t domid, uint32_t reason);
/* XEN_DOMCTL_resumedomain; flags SV_RESUME_CANCEL: the guest's suspend returns 1. */
int svctl_domain_resume(struct svctl *c, uint32_t domid, uint32_t flags);
int svctl_domain_destroy(struct svctl *c, uint32_t domid);
int svctl_domain_info(struct svctl *c, uint32_t domid, struct sv_dominfo *out);
/* Fills up to max entries from first_domid on; returns how many. */
int svctl_domain_list(struct svctl *c, uint32_t first_domid, struct sv_dominfo *out, unsigned max);
/* Waits until the domain shuts down or dies; -ETIMEDOUT after timeout_ms (0: forever). */
int svctl_domain_wait(struct svctl *c, uint32_t domid, uint32_t timeout_ms, struct sv_dominfo *out);
/* Console bytes from *offset on into buf; advances *offset; *gone when no more will come. */
int svctl_console_read(struct svctl *c, uint32_t domid, uint64_t *offset, uint32_t timeout_ms,
		       char *buf, uint32_t max, uint32_t *len, int *gone);
int svctl_domain_find(struct svctl *c, const char *name, uint32_t *domid);
/* XEN_DOMCTL_max_mem: the most the domain may hold, in KiB (whole pages count). 0 or -errno. */
int svctl_domain_set_maxmem(struct svctl *c, uint32_t domid, uint64_t max_kb);

#endif
