// SPDX-License-Identifier: MIT
// Connection buffers: a connection's request and reply bytes in memory that outlives the daemon, so
// a restart answers what a crash left unanswered.
//
// A socket connection's buffers live in a memfd that the fd keeper holds
// beside the socket. Both are circular, indexed by free-running stream
// offsets, and never moved (no memmove a crash could tear). Each loop pass
// ends with one journal batch (xs_persist_flush): before it, every
// connection that moved records where it stands (pend); after it, that
// mark is committed. A restarted daemon rolls each connection back to the
// last committed mark: committed output not yet sent is sent, and every
// request after the mark is handled again (its effects were never
// journaled, so the store does not have them). Received and sent byte
// counts are stored by the kernel itself (recvmmsg/sendmmsg msg_len), so a
// kill right after an I/O call loses neither.
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_cbuf.h"

#define XS_CBUF_HDR_SPACE 4096u

static size_t xs_cbuf_len(void)
{
	return XS_CBUF_HDR_SPACE + XS_CBUF_IN_SIZE + XS_CBUF_OUT_SIZE;
}

static void xs_cbuf_setup(struct xs_cbuf *b, void *mem, uint64_t key)
{
	struct xs_cbuf_hdr *h = mem;

	_Static_assert(sizeof(struct xs_cbuf_hdr) <= XS_CBUF_HDR_SPACE, "header fits its page");
	b->h = h;
	b->in = (uint8_t *)mem + XS_CBUF_HDR_SPACE;
	b->out = b->in + XS_CBUF_IN_SIZE;
	b->in_floor = 0;
	b->dirty = false;
	h->key = key;
	h->in_size = XS_CBUF_IN_SIZE;
	h->out_size = XS_CBUF_OUT_SIZE;
	xs_cbuf_order();
	h->magic = XS_CBUF_MAGIC;
}

/*
 * Private buffers freed lately, reused before mapping new ones (short-lived
 * connections: tests, the fuzzer). This file's only mutable global.
 */
#define XS_CBUF_SPARE 4
static void *xs_cbuf_spare[XS_CBUF_SPARE];
static unsigned int xs_cbuf_nspare;

/*
 * Private anonymous memory: pages are zero and cost nothing until touched,
 * so a connection that never queues much never pays for 4 MiB.
 */
int xs_cbuf_init_heap(struct xs_cbuf *b)
{
	size_t len = xs_cbuf_len();
	void *mem;

	if (xs_cbuf_nspare) {
		mem = xs_cbuf_spare[--xs_cbuf_nspare];
		memset(mem, 0, sizeof(struct xs_cbuf_hdr));
	} else {
		mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED)
			return -ENOMEM;
	}
	b->memfd = -1;
	b->map_len = len;
	xs_cbuf_setup(b, mem, 0);
	return 0;
}

int xs_cbuf_init_shared(struct xs_cbuf *b, uint64_t key)
{
	size_t len = xs_cbuf_len();
	int fd = memfd_create("xenstored-conn", MFD_CLOEXEC), err;
	void *mem;

	if (fd < 0)
		return -errno;
	/* Sparse: only the pages the traffic touches take memory. */
	if (ftruncate(fd, (off_t)len))
		goto out_close;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		goto out_close;
	b->memfd = fd;
	b->map_len = len;
	xs_cbuf_setup(b, mem, key);
	return 0;

out_close:
	err = errno;
	close(fd);
	return -err;
}

void xs_cbuf_free(struct xs_cbuf *b)
{
	if (!b->h)
		return;
	if (b->memfd >= 0) {
		munmap(b->h, b->map_len);
		close(b->memfd);
	} else if (xs_cbuf_nspare < XS_CBUF_SPARE) {
		xs_cbuf_spare[xs_cbuf_nspare++] = b->h;
	} else {
		munmap(b->h, b->map_len);
	}
	b->h = NULL;
	b->memfd = -1;
}

/* Where stream offset @s of a buffer based at @base sits. */
static size_t xs_cbuf_pos(uint64_t s, uint64_t base, uint32_t size)
{
	return (size_t)((s - base) & (size - 1));
}

void xs_cbuf_in_copy(const struct xs_cbuf *b, uint64_t at, void *dst, size_t n)
{
	const struct xs_cbuf_hdr *h = b->h;
	size_t pos = xs_cbuf_pos(at, h->in_base, h->in_size);
	size_t first = h->in_size - pos;

	if (first > n)
		first = n;
	memcpy(dst, b->in + pos, first);
	memcpy((uint8_t *)dst + first, b->in, n - first);
}

int xs_cbuf_in_space(struct xs_cbuf *b, struct iovec iov[2])
{
	struct xs_cbuf_hdr *h = b->h;
	size_t used = (size_t)(h->in_tail - b->in_floor);
	size_t free = h->in_size - used, pos, first;

	if (!free)
		return 0;
	pos = xs_cbuf_pos(h->in_tail, h->in_base, h->in_size);
	first = h->in_size - pos;
	if (first >= free) {
		iov[0] = (struct iovec){ b->in + pos, free };
		return 1;
	}
	iov[0] = (struct iovec){ b->in + pos, first };
	iov[1] = (struct iovec){ b->in, free - first };
	return 2;
}

int xs_cbuf_out_put(struct xs_cbuf *b, const void *src, size_t n)
{
	struct xs_cbuf_hdr *h = b->h;
	size_t pos, first;

	if (n > h->out_size - (size_t)(h->out_head - h->out_sent))
		return -ENOSPC;
	pos = xs_cbuf_pos(h->out_head, h->out_base, h->out_size);
	first = h->out_size - pos;
	if (first > n)
		first = n;
	memcpy(b->out + pos, src, first);
	memcpy(b->out, (const uint8_t *)src + first, n - first);
	xs_cbuf_order(); /* the bytes before the offset that counts them */
	h->out_head += n;
	return 0;
}

int xs_cbuf_out_data(struct xs_cbuf *b, struct iovec iov[2])
{
	struct xs_cbuf_hdr *h = b->h;
	size_t n = (size_t)(h->out_head - h->out_sent), pos, first;

	if (!n)
		return 0;
	pos = xs_cbuf_pos(h->out_sent, h->out_base, h->out_size);
	first = h->out_size - pos;
	if (first >= n) {
		iov[0] = (struct iovec){ b->out + pos, n };
		return 1;
	}
	iov[0] = (struct iovec){ b->out + pos, first };
	iov[1] = (struct iovec){ b->out, n - first };
	return 2;
}

/*
 * Rebasing is one aligned 8-byte store: a restart reads no data from an
 * empty buffer, so either value of the base is right.
 */
void xs_cbuf_rebase(struct xs_cbuf *b)
{
	struct xs_cbuf_hdr *h = b->h;

	if (h->out_sent == h->out_head && h->out_base != h->out_head)
		h->out_base = h->out_head;
	if (b->in_floor == h->in_tail && h->in_head == h->in_tail && h->in_base != h->in_tail)
		h->in_base = h->in_tail;
}

void xs_cbuf_mark_pending(struct xs_cbuf *b, uint64_t pass)
{
	struct xs_cbuf_hdr *h = b->h;

	if (b->memfd < 0)
		return;
	/* Invalid while torn: a restart then uses the older "done" mark. */
	h->pend.pass = XS_CBUF_NO_PASS;
	xs_cbuf_order();
	h->pend.in = h->in_head;
	h->pend.out = h->out_head;
	xs_cbuf_order();
	h->pend.pass = pass;
	xs_cbuf_order();
}

void xs_cbuf_mark_committed(struct xs_cbuf *b, uint64_t pass)
{
	struct xs_cbuf_hdr *h = b->h;

	if (b->memfd < 0) {
		b->in_floor = h->in_head;
		return;
	}
	h->committed_pass = pass;
	xs_cbuf_order(); /* pend is now the truth; done may be rewritten */
	h->done.in = h->pend.in;
	h->done.out = h->pend.out;
	h->done.pass = pass;
	xs_cbuf_order();
	b->in_floor = h->pend.in;
}

/* Where an I/O call the crash interrupted really left the stream. */
static uint64_t xs_cbuf_io_end(const struct xs_cbuf_io *io, uint64_t cur, uint64_t limit)
{
	uint64_t end;

	if (!io->pending)
		return cur;
	end = io->from + io->mh.msg_len;
	return end <= limit ? end : cur;
}

int xs_cbuf_peek(int memfd, struct xs_cbuf_hdr *out)
{
	ssize_t n = pread(memfd, out, sizeof(*out), 0);

	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*out) && out->magic == XS_CBUF_MAGIC ? 0 : -EINVAL;
}

int xs_cbuf_recover(struct xs_cbuf *b, int memfd, uint64_t key, uint64_t journal_pass,
		    uint64_t *max_pass)
{
	size_t len = xs_cbuf_len();
	struct xs_cbuf_hdr *h;
	struct xs_cbuf_mark m;
	uint64_t committed;
	struct stat st;
	void *mem;

	if (fstat(memfd, &st))
		return -errno;
	if ((size_t)st.st_size != len)
		return -EINVAL;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	h = mem;
	if (h->magic != XS_CBUF_MAGIC || h->key != key || h->in_size != XS_CBUF_IN_SIZE ||
	    h->out_size != XS_CBUF_OUT_SIZE || h->in_head > h->in_tail || h->out_sent > h->out_head)
		goto out_bad;
	/* The kernel counted what the last calls moved. */
	h->in_tail = xs_cbuf_io_end(&h->io_in, h->in_tail, h->io_in.from + h->in_size);
	h->out_sent = xs_cbuf_io_end(&h->io_out, h->out_sent, h->out_head);
	h->io_in.pending = h->io_out.pending = 0;

	committed = h->committed_pass > journal_pass ? h->committed_pass : journal_pass;
	m = (h->pend.pass != XS_CBUF_NO_PASS && h->pend.pass <= committed) ? h->pend : h->done;
	if (m.in > h->in_tail || h->in_tail - m.in > h->in_size || m.out > h->out_head ||
	    m.in < h->in_base || m.out < h->out_base)
		goto out_bad;
	/* Nothing leaves before its journal: a later send is a bug; keep it. */
	if (h->out_sent > m.out)
		m.out = h->out_sent;
	*max_pass = committed;
	if (h->pend.pass != XS_CBUF_NO_PASS && h->pend.pass > *max_pass)
		*max_pass = h->pend.pass;

	/* Output of requests the journal does not have is made again. */
	h->out_head = m.out;
	h->in_head = m.in;
	h->done = (struct xs_cbuf_mark){ 0, m.in, m.out };
	h->pend = h->done;
	h->committed_pass = 0;
	b->h = h;
	b->in = (uint8_t *)mem + XS_CBUF_HDR_SPACE;
	b->out = b->in + XS_CBUF_IN_SIZE;
	b->map_len = len;
	b->memfd = memfd;
	b->in_floor = m.in;
	b->dirty = true;
	return 0;

out_bad:
	munmap(mem, len);
	return -EINVAL;
}
