// SPDX-License-Identifier: MIT
/* blkback's I/O engine: one io_uring shared by every ring, submissions and completions in batches.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "blkback.h"

int blk_io_init(struct blk_io *io, unsigned entries)
{
	struct io_uring_params p = { 0 };
	int ret;

	memset(io, 0, sizeof(*io));
	io->efd = -1;
	/* A CQ twice the SQ: completions of several rings' batches fit. */
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 2;
	ret = io_uring_queue_init_params(entries, &io->uring, &p);
	if (ret < 0)
		return ret;
	io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->efd < 0) {
		ret = -errno;
		goto out_exit;
	}
	ret = io_uring_register_eventfd(&io->uring, io->efd);
	if (ret < 0)
		goto out_close;
	return 0;

out_close:
	close(io->efd);
	io->efd = -1;
out_exit:
	io_uring_queue_exit(&io->uring);
	return ret;
}

void blk_io_fini(struct blk_io *io)
{
	if (io->efd < 0)
		return;
	io_uring_queue_exit(&io->uring);
	close(io->efd);
	io->efd = -1;
}

struct io_uring_sqe *blk_io_sqe(struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->uring);

	if (!sqe) {
		/* SQ full: send this batch now and take the next slot. */
		if (blk_io_submit(io) < 0)
			return NULL;
		sqe = io_uring_get_sqe(&io->uring);
	}
	if (sqe)
		io->queued++;
	return sqe;
}

int blk_io_submit(struct blk_io *io)
{
	while (io->queued) {
		int n = io_uring_submit(&io->uring);

		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EBUSY) {
			/* The kernel wants completions reaped first. */
			blk_io_reap(io, true);
			continue;
		}
		if (n < 0)
			return n;
		io->inflight += (unsigned)n;
		io->queued -= (unsigned)n < io->queued ? (unsigned)n : io->queued;
		if (n == 0)
			break;
	}
	return 0;
}

unsigned blk_io_reap(struct blk_io *io, bool wait)
{
	struct io_uring_cqe *cqe;
	unsigned done = 0;
	uint64_t cnt;

	/*
	 * From epoll (not waiting): clear the eventfd first, so a completion
	 * after this read signals it again.  A waiting caller leaves it set;
	 * the next epoll round clears it with a reap that may find nothing.
	 */
	if (!wait && read(io->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		blk_log("reading the completion eventfd: %m");
	if (wait && io->inflight) {
		int ret;

		do
			ret = io_uring_wait_cqe(&io->uring, &cqe);
		while (ret == -EINTR);
	}
	for (;;) {
		unsigned head, n = 0;
		struct blk_pending *batch[64];
		int res[64];

		io_uring_for_each_cqe(&io->uring, head, cqe)
		{
			batch[n] = io_uring_cqe_get_data(cqe);
			res[n] = cqe->res;
			if (++n == 64)
				break;
		}
		if (!n)
			break;
		io_uring_cq_advance(&io->uring, n);
		io->inflight -= n < io->inflight ? n : io->inflight;
		/* Handlers may queue more SQEs (the fdatasync after a flush-write). */
		for (unsigned i = 0; i < n; i++)
			if (batch[i])
				blk_ring_io_done(batch[i], res[i]);
		done += n;
	}
	return done;
}
