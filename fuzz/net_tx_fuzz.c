// SPDX-License-Identifier: MIT
// libFuzzer target for netback's transmit-request checks (backends/net/nb_tx.c):
// a hostile frontend's chain of tx requests and extra-info slots, parsed as
// the data plane does, then each accepted frame's offload header.
//
// Input: bytes 0-3 the consumer index (little-endian, so the 32-bit ring
// index wraps too), bytes 4-5 how many slots the frontend produced (mod
// ring size + 1); then that many 12-byte netif_tx_request_t slots
// (zero-padded); the rest is the frame bytes handed to nb_tx_vnet_hdr().
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "../backends/net/nb.h"

static netif_tx_request_t nf_copy[NB_TX_RING_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RING_IDX cons, end, i;
	unsigned count;
	char why[128];

	if (size < 6)
		return 0;
	cons = (RING_IDX)data[0] | (RING_IDX)data[1] << 8 | (RING_IDX)data[2] << 16 |
	       (RING_IDX)data[3] << 24;
	count = ((unsigned)data[4] | (unsigned)data[5] << 8) % (NB_TX_RING_SIZE + 1);
	data += 6, size -= 6;
	end = cons + count;
	memset(nf_copy, 0, sizeof(nf_copy));
	for (unsigned k = 0; k < count; k++) {
		size_t n = size < sizeof(nf_copy[0]) ? size : sizeof(nf_copy[0]);

		memcpy(&nf_copy[(cons + k) & (NB_TX_RING_SIZE - 1)], data, n);
		data += n, size -= n;
	}

	/* As tx_gather: one packet after another until one is incomplete or bad. */
	for (i = cons; i != end;) {
		struct nb_txpkt p;
		uint32_t sum = 0;
		int ret = nb_tx_parse(nf_copy, i, end, &p, why, sizeof(why));

		if (ret <= 0) {
			if (ret < 0 && !why[0])
				abort(); /* -EPROTO always says why */
			break;
		}
		if (p.first != i || p.nr_slots == 0 || p.nr_slots > end - i || p.nr_data == 0 ||
		    p.nr_data > NB_MAX_SLOTS || p.nr_data > p.nr_slots)
			abort();
		for (unsigned d = 0; d < p.nr_data; d++) {
			if (p.data_idx[d] - i >= p.nr_slots)
				abort();
			sum += p.data_len[d];
		}
		if (!p.drop) {
			const netif_tx_request_t *first = &nf_copy[i & (NB_TX_RING_SIZE - 1)];
			struct virtio_net_hdr h;
			uint8_t *frame;

			if (sum != p.len || (uint32_t)first->offset + p.data_len[0] > NB_PAGE_SIZE)
				abort();
			/* The frame exactly as long as the guest said: ASan sees overreads. */
			frame = malloc(p.len ? p.len : 1);
			if (!frame)
				abort();
			memset(frame, 0, p.len);
			memcpy(frame, data, size < p.len ? size : p.len);
			if (nb_tx_vnet_hdr(frame, p.len, &p, &h) == 0 &&
			    (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
			    (uint32_t)h.csum_start + h.csum_offset + 2 > p.len)
				abort(); /* the kernel would write the sum past the frame */
			free(frame);
		}
		i += p.nr_slots;
	}
	return 0;
}
