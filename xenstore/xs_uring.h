// SPDX-License-Identifier: MIT
// The io_uring event loop for socket clients: every pass's replies, the next receives and the
// wait in one system call, with its completion queue in memory the fd keeper holds.
#ifndef XS_URING_H
#define XS_URING_H

#include <stdbool.h>

#include "xenstored.h"
#include "xs_keeper.h"

/* The keeper's key for the ring memory (after the two listening sockets). */
#define XS_KEEPER_URING ((1ULL << 63) + 2)

/*
 * Sets up the ring (d->uring) polling @epfd for everything else. 0, or
 * -errno when io_uring is unavailable or disabled (XENSTORED_IO_URING=0):
 * the daemon then runs the epoll loop. @why names the cause.
 */
int xs_uring_open(struct xs_daemon *d, const char **why);
void xs_uring_close(struct xs_daemon *d);
/* The memfd holding the ring memory, for the keeper. */
int xs_uring_memfd(const struct xs_daemon *d);
/*
 * After a crash: completions the dead daemon had not reaped (in its ring
 * memory @memfd) give each kept connection's interrupted receive or send
 * its byte count, as recvmmsg/sendmmsg would have left it. Before the
 * connections' buffers are recovered. Returns how many were applied.
 */
unsigned int xs_uring_recover(struct xs_daemon *d, int memfd, const struct xs_kept_fd *kept,
			      unsigned int nkept);
/* A new socket connection: served by the ring if it has room. */
bool xs_uring_attach(struct xs_conn *c);
/* Before its socket closes: cancels its receive and send, synchronously. */
void xs_uring_detach(struct xs_conn *c);
/* Queues one send of out[] up to @limit unless one is in flight. */
void xs_uring_send(struct xs_conn *c, uint64_t limit);
/*
 * One pass: arms the receives, submits everything queued and waits for an
 * event, in one io_uring_enter; then takes each completion and handles
 * the input that arrived. *@epoll_ready: the epoll fd (listeners, signals,
 * event channels, guest rings) has events. 0 or -errno.
 */
int xs_uring_wait(struct xs_daemon *d, bool *epoll_ready);
/* Arms the receives and hands the kernel what is queued, taking no completion (tests). */
int xs_uring_submit(struct xs_daemon *d);

#endif
