// SPDX-License-Identifier: MIT
// The fd keeper: a tiny helper process that holds the listening and client sockets (and client
// buffers) so they outlive a crashed xenstored.
#ifndef XS_KEEPER_H
#define XS_KEEPER_H

#include <stdbool.h>
#include <stdint.h>

/* Keys of the two listening sockets; client connections use their conn key. */
#define XS_KEEPER_LISTEN_RW (1ULL << 63)
#define XS_KEEPER_LISTEN_RO ((1ULL << 63) + 1)

/* One socket handed back by the keeper after a restart. */
struct xs_kept_fd {
	uint64_t key;
	int fd;
	int cbuf_fd; /* its connection buffers (xs_cbuf.c), or -1 */
	bool readonly;
};

struct xs_keeper {
	int fd;			 /* stream to the keeper, -1 if none */
	char path[4096];	 /* its socket, removed on a clean stop */
	struct xs_kept_fd *kept; /* sockets handed back at start-up */
	unsigned int nkept;
};

/*
 * Connects to the keeper in @rundir, or starts one. Sockets a previous
 * daemon left with it are returned in k->kept. Returns 0 or -errno (the
 * daemon then runs without one: sockets do not survive a crash).
 */
int xs_keeper_open(struct xs_keeper *k, const char *rundir);
/* Gives the keeper a duplicate of @fd (and of @cbuf_fd unless -1) under @key. */
int xs_keeper_add(struct xs_keeper *k, uint64_t key, int fd, int cbuf_fd, bool readonly);
/* The socket under @key was closed for good: the keeper drops its copy. */
void xs_keeper_del(struct xs_keeper *k, uint64_t key);
/* Clean shutdown: the keeper closes everything and exits; its socket goes. */
void xs_keeper_bye(struct xs_keeper *k);

#endif
