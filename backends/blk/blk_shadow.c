// SPDX-License-Identifier: MIT
/* The shadow of a ring: in-flight requests kept in a mapped file so a restarted blkback can finish
 * them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blkback.h"

/*
 * Why: the shared ring holds requests and responses in the same slots, and
 * responses may go out of order, so after a crash the ring alone cannot
 * say which consumed requests were answered, and an answered slot no
 * longer holds its request.  The shadow is a MAP_SHARED file in the run
 * directory: stores into it survive the process (they are in the page
 * cache), with no system call on the I/O path.
 *
 * Protocol (blk_ring.c keeps it):
 *  - a request is copied into a free entry (INFLIGHT, req_idx), and only
 *    then hdr->req_cons moves past it;
 *  - before its response is written to the ring, the entry records the
 *    response's ring index (rsp_idx) and becomes ANSWERED;
 *  - after rsp_prod is pushed past rsp_idx the entry is FREE again.
 * On restart: entries with req_idx >= req_cons are dropped (the ring still
 * has them); ANSWERED entries with rsp_idx < the ring's rsp_prod were
 * delivered; every other entry is done again and answered.
 */
#define BLK_SHADOW_MAGIC 0x53564262u /* "bBVS" */
#define BLK_SHADOW_VERSION 1u

int blk_shadow_open(struct blk_shadow *s, const char *path, const struct blk_shadow_id *id,
		    bool *recovered)
{
	size_t len = sizeof(struct blk_shadow_hdr) + (size_t)id->ring_size * sizeof(*s->ent);
	struct stat st;
	void *p;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	*recovered = false;
	if (snprintf(s->path, sizeof(s->path), "%s", path) >= (int)sizeof(s->path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out_close;
	}
	if ((size_t)st.st_size != len && ftruncate(fd, 0) < 0) {
		ret = -errno;
		goto out_close;
	}
	if (ftruncate(fd, (off_t)len) < 0) {
		ret = -errno;
		goto out_close;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	close(fd);
	s->hdr = p;
	s->ent = (struct blk_shadow_ent *)(s->hdr + 1);
	s->len = len;
	if (s->hdr->magic == BLK_SHADOW_MAGIC && s->hdr->version == BLK_SHADOW_VERSION &&
	    !memcmp(&s->hdr->id, id, sizeof(*id))) {
		*recovered = true;
		return 0;
	}
	/* Someone else's ring (or a new one): start empty. */
	memset(p, 0, len);
	s->hdr->id = *id;
	s->hdr->version = BLK_SHADOW_VERSION;
	__atomic_store_n(&s->hdr->magic, BLK_SHADOW_MAGIC, __ATOMIC_RELEASE);
	return 0;

out_close:
	close(fd);
	return ret;
}

void blk_shadow_close(struct blk_shadow *s, bool remove)
{
	if (!s->hdr)
		return;
	munmap(s->hdr, s->len);
	s->hdr = NULL;
	s->ent = NULL;
	if (remove && unlink(s->path) < 0 && errno != ENOENT)
		blk_log("cannot remove %s: %m", s->path);
}
