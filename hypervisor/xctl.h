/* SPDX-License-Identifier: MIT */
/* Xen hypercalls from dom0 processes (libxencall over the control socket): xen_version, sysctl,
 * domctl. */
#ifndef HV_XCTL_H
#define HV_XCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "sv/ctl.h"

/*
 * The dom0 process at the other end of a control connection, as the
 * kernel saw it at connect time (SO_PEERCRED).  pidfd pins that process:
 * once it has exited, its pid may name another process, so every copy
 * first checks that the pidfd is not yet readable (the process lives).
 */
struct xctl_peer {
	pid_t pid;
	uid_t uid;
	int pidfd; /* -1: unknown peer, every hypercall is -EPERM */
};

/* Fills p from a connected socket (pidfd -1 when the peer cannot be known). */
void xctl_peer_init(struct xctl_peer *p, int sock);
void xctl_peer_fini(struct xctl_peer *p);
/* A peer whose memory the hypervisor may touch: alive, root or our own user. */
bool xctl_peer_privileged(const struct xctl_peer *p);

/* The most one buffer of a hypercall may be; larger ones are -E2BIG (Xen: -EFAULT/-EINVAL). */
#define XCTL_MAX_COPY (1u << 20)

/*
 * One hypercall on behalf of the peer: its pointer arguments are the
 * peer's addresses, read and written with process_vm_readv/writev, each
 * buffer copied once and checked before use.  Returns the hypercall's
 * result: >= 0, or -errno as Xen gives it (-EPERM: not privileged,
 * -EFAULT: a bad pointer, -EACCES: wrong interface version, -ENOSYS: an
 * op not served, logged once per call).
 */
long xctl_hypercall(const struct xctl_peer *p, const struct sv_ctl_hypercall *hc);

#endif
