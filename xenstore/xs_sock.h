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
/* Takes back a client socket the keeper held across a restart. */
struct xs_conn *xs_sock_adopt(struct xs_daemon *d, int fd, uint64_t key,
			      bool readonly);

#endif
