// SPDX-License-Identifier: MIT
// The UNIX socket transport: listening sockets and accepted client connections.
#ifndef XS_SOCK_H
#define XS_SOCK_H

#include "xenstored.h"

extern const struct xs_transport_ops xs_sock_ops;

/* Binds and listens on @path with file mode @mode; fd or -errno. */
int xs_sock_listen(const char *path, mode_t mode);
/* Accepts one client as a dom0 connection; NULL on failure. */
struct xs_conn *xs_sock_accept(struct xs_daemon *d, int lfd, bool readonly);
/*
 * Takes back a client socket the keeper held across a restart, with its
 * buffers (@cbuf_fd, or -1): committed replies not yet sent are queued
 * and requests the journal does not cover are handled again.
 */
struct xs_conn *xs_sock_adopt(struct xs_daemon *d, int fd, int cbuf_fd, uint64_t key,
			      bool readonly);

#endif
