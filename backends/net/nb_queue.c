// SPDX-License-Identifier: MIT
/* Helpers shared by both data plane directions of a queue: buffers, notifications, fatal errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nb.h"

int nb_queue_buffers_alloc(struct nb_queue *q)
{
	q->tx_buf = malloc(NB_ARENA_SIZE);
	q->rx_buf = malloc(NB_ARENA_SIZE);
	q->segs = calloc(NB_MAX_SEGS, sizeof(*q->segs));
	if (!q->tx_buf || !q->rx_buf || !q->segs) {
		nb_queue_buffers_free(q);
		return -ENOMEM;
	}
	return 0;
}

void nb_queue_buffers_free(struct nb_queue *q)
{
	free(q->tx_buf);
	free(q->rx_buf);
	free(q->segs);
	q->tx_buf = q->rx_buf = NULL;
	q->segs = NULL;
}

int nb_queue_rings_sane(struct nb_queue *q)
{
	RING_IDX txp = q->tx.sring->req_prod, rxp = q->rx.sring->req_prod;

	/* Fresh rings: no more requests than slots since the (zero) start. */
	if (txp - q->tx.rsp_prod_pvt > NB_TX_RING_SIZE)
		return nb_queue_fatal(q, "tx ring not initialised: producer at %u", txp);
	if (rxp - q->rx.rsp_prod_pvt > NB_RX_RING_SIZE)
		return nb_queue_fatal(q, "rx ring not initialised: producer at %u", rxp);
	return 0;
}

int nb_queue_fatal(struct nb_queue *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

void nb_queue_notify(struct nb_queue *q, evtchn_port_t port)
{
	q->st.notifies++;
	if (xenevtchn_notify(q->xce, port) < 0)
		nb_log("%s: notify on port %u failed: %m", q->name, port);
}
