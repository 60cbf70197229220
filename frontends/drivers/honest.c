// SPDX-License-Identifier: MIT
// The honest guest beside the hostile ones: disk, xenstore and network used round after round.
#include <svk/blkfront.h>
#include <svk/hostile_rings.h>
#include <svk/netfront.h>
#include <svk/printk.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

#define XVDA 51712
#define MS 1000000ULL
#define SEC 1000000000ULL
/* The blocks it writes: 64 of them from sector 4096 (2 MiB into the disk). */
#define HONEST_SECTOR 4096
#define HONEST_BLOCKS 64

/* Byte @i of round @round's block: the round in every byte, so stale data shows. */
static uint8_t honest_byte(uint64_t round, size_t i)
{
	return (uint8_t)((round * 131 + i * 7 + (i >> 8)) ^ (round >> 8));
}

static bool net_work(void *arg)
{
	return netfront_has_work();
}

/* Answer ARP and ping on every vif for @ns. */
static void serve_net(uint64_t ns)
{
	uint64_t end = time_now_ns() + ns;

	for (;;) {
		uint64_t now;

		netfront_poll();
		now = time_now_ns();
		if (now >= end)
			return;
		(void)wait_until(net_work, NULL, end - now);
	}
}

/* One round's disk check: 0, or -errno (-XEN_EILSEQ: read back wrong). */
static int disk_round(struct blkfront_dev *d, uint64_t round)
{
	static uint8_t out[PAGE_SIZE], in[PAGE_SIZE];
	uint64_t sector = HONEST_SECTOR + (round % HONEST_BLOCKS) * (PAGE_SIZE / BLKFRONT_SECTOR);
	int rc;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = honest_byte(round, i);
	rc = blkfront_write(d, sector, out, sizeof(out));
	if (rc)
		return rc;
	memset(in, 0, sizeof(in));
	rc = blkfront_read(d, sector, in, sizeof(in));
	if (rc)
		return rc;
	return memcmp(in, out, sizeof(in)) ? -XEN_EILSEQ : 0;
}

void honest_word(const start_info_t *si, const char *arg)
{
	struct blkfront_dev *d = NULL;
	uint64_t secs, end, next_report, round = 0;
	unsigned long fails = 0;
	char domid[16];
	int rc, vifs;

	if (!arg || parse_u64(arg, &secs) || !secs || secs > 24 * 3600) {
		printk("honest: needs seconds (honest=SECONDS)\n");
		return;
	}
	if (!time_available()) {
		printk("honest: FAIL no time source\n");
		return;
	}
	vifs = netfront_scan();
	printk("honest: %d vif(s) up; rounds of disk, xenstore and network for %llu s\n", vifs,
	       (unsigned long long)secs);
	end = time_now_ns() + secs * SEC;
	next_report = 0;
	while (time_now_ns() < end) {
		round++;
		if (!d || !blkfront_usable(d)) {
			if (d)
				blkfront_close(d);
			d = NULL;
			rc = blkfront_open(XVDA, &d);
			if (rc) {
				d = NULL;
				fails++;
				printk("honest: round %llu FAIL opening xvda: %d\n",
				       (unsigned long long)round, rc);
				serve_net(SEC);
				continue;
			}
		}
		rc = disk_round(d, round);
		if (rc) {
			fails++;
			printk("honest: round %llu FAIL disk: %d\n", (unsigned long long)round, rc);
		}
		rc = xenbus_read(XBT_NIL, "domid", domid, sizeof(domid));
		if (rc < 0) {
			fails++;
			printk("honest: round %llu FAIL xenstore read: %d\n",
			       (unsigned long long)round, rc);
		}
		serve_net(100 * MS);
		if (time_now_ns() >= next_report) {
			printk("honest: round %llu ok (failures %lu)\n", (unsigned long long)round,
			       fails);
			next_report = time_now_ns() + SEC;
		}
	}
	if (d)
		blkfront_close(d);
	printk("honest: %llu rounds, %lu failures\n", (unsigned long long)round, fails);
}
