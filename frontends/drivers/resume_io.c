// SPDX-License-Identifier: MIT
// The resume-io word: a disk, the vifs and every vCPU kept busy across saves and restores.
#include <svk/blkfront.h>
#include <svk/netfront.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/smp.h>
#include <svk/suspend.h>
#include <svk/time.h>
#include <svk/wait.h>

#define XVDA 51712
#define SEC 1000000000ULL
/* The block it writes: one page at 1 MiB into the disk. */
#define RIO_SECTOR 2048
#define RIO_SECTORS (PAGE_SIZE / BLKFRONT_SECTOR)
#define RIO_MAX_VCPUS 8

/* State of the word (boot vCPU, one run at a time). */
static struct {
	struct blkfront_dev *d;
	uint64_t gen;	    /* generation the block holds */
	int slot;	    /* the read kept in flight, or -1 */
	unsigned long good, bad;
	unsigned int vcpus; /* kept online, the boot vCPU included */
	unsigned long ran[RIO_MAX_VCPUS];
} rio;

/* The block of generation @gen: its number and the byte offset in every word. */
static void rio_fill(uint8_t *page, uint64_t gen)
{
	for (size_t i = 0; i < PAGE_SIZE; i += 16)
		ksnprintf((char *)page + i, 16, "g%06lu@%06lu", (unsigned long)gen,
			  (unsigned long)i);
}

static bool rio_check(const uint8_t *page, uint64_t gen)
{
	static uint8_t want[PAGE_SIZE];

	rio_fill(want, gen);
	return !memcmp(page, want, PAGE_SIZE);
}

/* The kept read came back: it must hold the current generation. */
static void rio_done(void *arg, struct blkfront_dev *d, unsigned int id)
{
	if (d->slot[id].status == BLKIF_RSP_OKAY && rio_check(blkfront_slot_page(d, id, 0), rio.gen))
		rio.good++;
	else if (rio.bad++ < 3)
		printk("resume-io: FAIL kept read: status %d, %s\n", d->slot[id].status,
		       d->slot[id].status == BLKIF_RSP_OKAY ? "wrong data" : "error");
	blkfront_slot_put(d, id);
	rio.slot = -1;
}

/* One read of the block left in flight while the word waits (a suspend may come meanwhile). */
static void rio_read_start(void)
{
	int id;

	if (!rio.d || rio.slot >= 0 || !blkfront_usable(rio.d))
		return;
	id = blkfront_slot_get(rio.d, 1);
	if (id < 0)
		return;
	if (blkfront_queue_rw(rio.d, (unsigned)id, false, RIO_SECTOR, RIO_SECTORS)) {
		blkfront_slot_put(rio.d, (unsigned)id);
		return;
	}
	rio.slot = id;
	blkfront_kick(rio.d);
}

static void rio_read_finish(bool wait)
{
	while (rio.d && rio.slot >= 0) {
		if (blkfront_reap(rio.d, rio_done, NULL) < 0) {
			rio.slot = -1; /* broken: the device said so */
			return;
		}
		if (!wait || rio.slot < 0 || blkfront_wait(rio.d, 30 * SEC))
			return;
	}
}

static void rio_vcpu_ran(void *arg)
{
	rio.ran[smp_this_cpu()]++;
}

/* Write generation @gen and read it back.  0 or -errno (-XEN_EILSEQ: wrong data). */
static int rio_write_gen(uint64_t gen)
{
	static uint8_t page[PAGE_SIZE];
	int rc;

	rio_fill(page, gen);
	rc = blkfront_write(rio.d, RIO_SECTOR, page, PAGE_SIZE);
	if (!rc && rio.d->flush)
		rc = blkfront_flush(rio.d);
	if (rc)
		return rc;
	rio.gen = gen;
	memset(page, 0, sizeof(page));
	rc = blkfront_read(rio.d, RIO_SECTOR, page, PAGE_SIZE);
	if (rc)
		return rc;
	return rio_check(page, gen) ? 0 : -XEN_EILSEQ;
}

/* After suspend number @n came back: the disk, the vCPUs. */
static void rio_after(unsigned long n)
{
	static uint8_t page[PAGE_SIZE];
	unsigned int ok = 1;
	int rc;

	rio_read_finish(true);
	if (rio.d) {
		rc = blkfront_read(rio.d, RIO_SECTOR, page, PAGE_SIZE);
		if (rc || !rio_check(page, rio.gen))
			printk("resume-io: FAIL resume %lu: read back gen %lu: %d\n", n,
			       (unsigned long)rio.gen, rc ? rc : -XEN_EILSEQ);
		else
			printk("resume-io: resume %lu: read back gen %lu ok\n", n,
			       (unsigned long)rio.gen);
		rc = rio_write_gen(rio.gen + 1);
		printk("resume-io: resume %lu: %s gen %lu%s (%d)\n", n, rc ? "FAIL write" : "wrote",
		       (unsigned long)rio.gen + (rc ? 1 : 0), rc ? "" : " ok", rc);
	}
	for (unsigned int cpu = 1; cpu < rio.vcpus; cpu++) {
		unsigned long before = rio.ran[cpu];

		if (!smp_call(cpu, rio_vcpu_ran, NULL, 10 * SEC) && rio.ran[cpu] == before + 1)
			ok++;
		else
			printk("resume-io: FAIL resume %lu: vcpu %u does not run calls\n", n, cpu);
	}
	printk("resume-io: resume %lu: %u of %u vcpus ok, %u vifs up, kept reads %lu ok %lu bad\n",
	       n, ok, rio.vcpus, netfront_count(), rio.good, rio.bad);
}

static bool rio_wake(void *arg)
{
	const unsigned long *seen = arg;

	if (suspend_wakes() != *seen || netfront_has_work())
		return true;
	return rio.d && rio.slot >= 0 &&
	       (RING_HAS_UNCONSUMED_RESPONSES(&rio.d->ring) || rio.d->nr_failed || rio.d->broken);
}

void resume_io_word(const start_info_t *si, const char *arg)
{
	uint64_t secs = 600, end;
	unsigned long seen = suspend_wakes();
	unsigned int ids[BLKFRONT_MAX_DEVS];
	int n, rc;

	if (arg && (parse_u64(arg, &secs) || secs == 0 || secs > 86400)) {
		printk("resume-io: bad number of seconds '%s'\n", arg);
		return;
	}
	if (!time_available()) {
		printk("resume-io: FAIL no time\n");
		return;
	}
	memset(&rio, 0, sizeof(rio));
	rio.slot = -1;
	rio.vcpus = sched_vcpu_count();
	if (rio.vcpus > RIO_MAX_VCPUS)
		rio.vcpus = RIO_MAX_VCPUS;
	for (unsigned int cpu = 1; cpu < rio.vcpus; cpu++) {
		rc = smp_cpu_up(si, cpu, 10 * SEC);
		if (rc) {
			printk("resume-io: FAIL vcpu %u up: %d\n", cpu, rc);
			rio.vcpus = cpu;
		}
	}
	n = blkfront_list(ids, BLKFRONT_MAX_DEVS);
	for (int i = 0; i < n; i++) {
		if (ids[i] != XVDA)
			continue;
		rc = blkfront_open(XVDA, &rio.d);
		if (!rc)
			rc = rio_write_gen(0);
		if (rc) {
			printk("resume-io: FAIL xvda: %d\n", rc);
			if (rio.d)
				blkfront_close(rio.d);
			rio.d = NULL;
		}
	}
	n = netfront_scan();
	printk("resume-io: ready (disk %s, %d vifs, %u vcpus)\n", rio.d ? "xvda gen 0" : "none",
	       n < 0 ? 0 : n, rio.vcpus);
	end = time_now_ns() + secs * SEC;
	while (time_now_ns() < end) {
		rio_read_start();
		(void)wait_until(rio_wake, &seen, SEC / 5);
		netfront_poll();
		rio_read_finish(false);
		if (suspend_wakes() != seen) {
			seen = suspend_wakes();
			rio_after(seen);
		}
	}
	rio_read_finish(true);
	if (rio.d)
		blkfront_close(rio.d);
	for (unsigned int cpu = 1; cpu < rio.vcpus; cpu++)
		(void)smp_cpu_down(cpu, 5 * SEC);
	printk("resume-io: done (%lu suspends, kept reads %lu ok %lu bad)\n", suspend_wakes(),
	       rio.good, rio.bad);
}
