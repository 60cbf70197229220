// SPDX-License-Identifier: MIT
// blkfront's command words: blk-info, blk-selftest, blk-write-ro, blk-discard, blk-hostile,
// blk-config.
#include <svk/blkfront.h>
#include <svk/driver_words.h>
#include <svk/gnttab.h>
#include <svk/printk.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>
#include <svk/xenbus_state.h>

#define XVDA 51712
#define MS 1000000ULL

int blk_parse_vdev(const char *s, unsigned int *devid)
{
	uint64_t v;

	if (!strncmp(s, "xvd", 3) && s[3] >= 'a' && s[3] <= 'p' && !s[4]) {
		*devid = XVDA + 16u * (unsigned int)(s[3] - 'a');
		return 0;
	}
	if (parse_u64(s, &v) || v > UINT32_MAX)
		return -XEN_EINVAL;
	*devid = (unsigned int)v;
	return 0;
}

/* The device a word names (@arg), or @def; false (said) when unusable. */
static bool word_devid(const char *word, const char *arg, unsigned int def, unsigned int *devid)
{
	*devid = def;
	if (arg && blk_parse_vdev(arg, devid)) {
		printk("%s: FAIL bad device '%s' (xvdX or a devid)\n", word, arg);
		return false;
	}
	return true;
}

static struct blkfront_dev *word_open(const char *word, unsigned int devid)
{
	struct blkfront_dev *d;
	int rc = blkfront_open(devid, &d);

	if (rc && !xenbus_ready()) {
		printk("%s: FAIL no xenbus\n", word);
		return NULL;
	}
	if (rc && !gnttab_ready()) {
		printk("%s: FAIL no grant table\n", word);
		return NULL;
	}
	if (rc) {
		printk("%s: FAIL vbd %u: %s: %d\n", word, devid,
		       rc == -XEN_ENOENT ? "no such device" : "cannot connect", rc);
		return NULL;
	}
	return d;
}

/* ---- blk-info ------------------------------------------------------------ */

static void word_info(const start_info_t *si, const char *arg)
{
	unsigned int ids[16];
	int n = blkfront_list(ids, ARRAY_SIZE(ids));

	if (n < 0) {
		printk("blk-info: FAIL listing device/vbd: %d\n", n);
		return;
	}
	if (n == 0)
		printk("blk-info: no vbds\n");
	for (int i = 0; i < n; i++) {
		struct blkfront_dev *d = word_open("blk-info", ids[i]);

		if (!d)
			continue;
		printk("blk-info: vbd %u sectors=%llu sector-size=%u info=%u ro=%d ring-pages=%u "
		       "persistent=%d max-segments=%u flush=%d discard=%d backend=%s\n",
		       d->devid, (unsigned long long)d->sectors, d->sector_size, d->info,
		       d->readonly, 1u << d->ring_order, d->persistent, d->max_segs, d->flush,
		       d->discard, d->be);
		blkfront_close(d);
	}
}

/* ---- blk-selftest -------------------------------------------------------- */

/* docs/blkback.md: 1 MiB at sector 2048, byte i of sector s = ((s * 31 + i) & 0xff) ^ 0x5a. */
#define ST_SECTOR 2048
#define ST_BYTES (1024 * 1024)

static uint8_t st_byte(uint64_t off)
{
	uint64_t s = ST_SECTOR + off / BLKFRONT_SECTOR;

	return (uint8_t)(((s * 31 + off % BLKFRONT_SECTOR) & 0xff) ^ 0x5a);
}

static int st_fill(void *arg, uint64_t off, void *page, size_t len)
{
	uint8_t *p = page;

	for (size_t i = 0; i < len; i++)
		p[i] = st_byte(off + i);
	return 0;
}

static int st_check(void *arg, uint64_t off, void *page, size_t len)
{
	const uint8_t *p = page;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != st_byte(off + i)) {
			*(uint64_t *)arg = off + i;
			return -XEN_EILSEQ;
		}
	}
	return 0;
}

static bool never(void *arg)
{
	return false;
}

static void word_selftest(const start_info_t *si, const char *arg)
{
	struct blkfront_dev *d;
	uint64_t bad = 0;
	int rc;

	d = word_open("blk-selftest", XVDA);
	if (!d)
		return;
	if (d->readonly || d->sectors < ST_SECTOR + ST_BYTES / BLKFRONT_SECTOR) {
		printk("blk-selftest: FAIL xvda is read-only or too small (%llu sectors)\n",
		       (unsigned long long)d->sectors);
		goto out_close;
	}
	rc = blkfront_rw(d, true, ST_SECTOR, ST_BYTES, st_fill, NULL);
	if (rc) {
		printk("blk-selftest: FAIL write: %d\n", rc);
		goto out_close;
	}
	rc = blkfront_flush(d);
	if (rc) {
		printk("blk-selftest: FAIL flush: %d\n", rc);
		goto out_close;
	}
	printk("blk-selftest: flushed\n");
	/* The integration test kills blkback now; the reads go to its successor. */
	(void)blkfront_wait_until(never, NULL, 1000 * MS);
	rc = blkfront_rw(d, false, ST_SECTOR, ST_BYTES, st_check, &bad);
	if (rc == -XEN_EILSEQ) {
		printk("blk-selftest: FAIL byte %llu of sector %llu reads back wrong\n",
		       (unsigned long long)(bad % BLKFRONT_SECTOR),
		       (unsigned long long)(ST_SECTOR + bad / BLKFRONT_SECTOR));
		goto out_close;
	}
	if (rc) {
		printk("blk-selftest: FAIL read back: %d\n", rc);
		goto out_close;
	}
	printk("blk-selftest: ok (%u ring pages, persistent %d, %u segments per request, %lu "
	       "requests)\n",
	       1u << d->ring_order, d->persistent, d->max_segs, d->reqs);
out_close:
	blkfront_close(d);
}

/* ---- blk-write-ro[=VDEV] ------------------------------------------------- */

static const char *rc_name(int rc)
{
	switch (rc) {
	case 0:
		return "BLKIF_RSP_OKAY";
	case -XEN_EIO:
		return "BLKIF_RSP_ERROR";
	case -XEN_EOPNOTSUPP:
		return "BLKIF_RSP_EOPNOTSUPP";
	default:
		return "no answer";
	}
}

/* The first read-only vbd, or 0. */
static unsigned int first_readonly(void)
{
	unsigned int ids[16], found = 0;
	int n = blkfront_list(ids, ARRAY_SIZE(ids));

	for (int i = 0; i < n && !found; i++) {
		struct blkfront_dev *d;

		if (blkfront_open(ids[i], &d))
			continue;
		if (d->readonly)
			found = ids[i];
		blkfront_close(d);
	}
	return found;
}

static void word_write_ro(const start_info_t *si, const char *arg)
{
	static uint8_t buf[PAGE_SIZE];
	struct blkfront_dev *d;
	unsigned int devid;
	int wrc, rrc;

	if (!word_devid("blk-write-ro", arg, 0, &devid))
		return;
	if (!devid)
		devid = first_readonly();
	if (!devid) {
		printk("blk-write-ro: FAIL no read-only vbd\n");
		return;
	}
	d = word_open("blk-write-ro", devid);
	if (!d)
		return;
	if (!d->readonly)
		printk("blk-write-ro: note: vbd %u is not read-only (info=%u)\n", devid, d->info);
	/* Sent anyway: the point is that the backend refuses it. */
	memset(buf, 0xee, sizeof(buf));
	wrc = blkfront_write(d, 0, buf, sizeof(buf));
	rrc = blkfront_usable(d) ? blkfront_read(d, 0, buf, sizeof(buf)) : -XEN_ENOTCONN;
	printk("blk-write-ro: vbd %u write answered %s (%d), read answered %s (%d)\n", devid,
	       rc_name(wrc), wrc, rc_name(rrc), rrc);
	if (wrc == -XEN_EIO && rrc == 0 && d->readonly)
		printk("blk-write-ro: ok\n");
	else
		printk("blk-write-ro: FAIL\n");
	blkfront_close(d);
}

/* ---- blk-discard[=VDEV] -------------------------------------------------- */

#define DISCARD_SECTOR 8192
#define DISCARD_BYTES (1024 * 1024)

static int fill_a5(void *arg, uint64_t off, void *page, size_t len)
{
	memset(page, 0xa5, len);
	return 0;
}

static int check_zero(void *arg, uint64_t off, void *page, size_t len)
{
	const uint8_t *p = page;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return -XEN_EILSEQ;
	return 0;
}

static void word_discard(const start_info_t *si, const char *arg)
{
	struct blkfront_dev *d;
	unsigned int devid;
	int rc;

	if (!word_devid("blk-discard", arg, XVDA, &devid))
		return;
	d = word_open("blk-discard", devid);
	if (!d)
		return;
	if (!d->discard) {
		printk("blk-discard: vbd %u: not offered by the backend\n", devid);
		goto out_close;
	}
	if (d->sectors < DISCARD_SECTOR + DISCARD_BYTES / BLKFRONT_SECTOR) {
		printk("blk-discard: FAIL vbd %u too small\n", devid);
		goto out_close;
	}
	rc = blkfront_rw(d, true, DISCARD_SECTOR, DISCARD_BYTES, fill_a5, NULL);
	if (!rc)
		rc = blkfront_flush(d);
	if (rc) {
		printk("blk-discard: FAIL writing the range first: %d\n", rc);
		goto out_close;
	}
	rc = blkfront_discard(d, DISCARD_SECTOR, DISCARD_BYTES / BLKFRONT_SECTOR);
	if (rc) {
		printk("blk-discard: FAIL discard answered %d\n", rc);
		goto out_close;
	}
	rc = blkfront_rw(d, false, DISCARD_SECTOR, DISCARD_BYTES, check_zero, NULL);
	if (rc) {
		printk("blk-discard: FAIL %s: %d\n",
		       rc == -XEN_EILSEQ ? "the range does not read back as zeroes" : "read back",
		       rc);
		goto out_close;
	}
	printk("blk-discard: ok (vbd %u sectors %u+%u, granularity %u)\n", devid, DISCARD_SECTOR,
	       DISCARD_BYTES / BLKFRONT_SECTOR, d->discard_granularity);
out_close:
	blkfront_close(d);
}

/* ---- blk-hostile[=VDEV] -------------------------------------------------- */

static void word_hostile(const start_info_t *si, const char *arg)
{
	static uint8_t buf[PAGE_SIZE];
	struct blkfront_dev *d;
	unsigned int devid;
	int rc;

	if (!word_devid("blk-hostile", arg, XVDA, &devid))
		return;
	d = word_open("blk-hostile", devid);
	if (!d)
		return;
	rc = blkfront_read(d, 0, buf, sizeof(buf));
	if (rc) {
		printk("blk-hostile: FAIL read before: %d\n", rc);
		blkfront_close(d);
		return;
	}
	/* A producer index far ahead: blkback must shut this device down, only it. */
	blkfront_corrupt_ring(d, 1000 * RING_SIZE(&d->ring));
	printk("blk-hostile: req_prod pushed %u entries ahead\n", 1000 * RING_SIZE(&d->ring));
	rc = blkfront_wait(d, 10000 * MS);
	if (rc != -XEN_ENOTCONN) {
		printk("blk-hostile: FAIL backend still connected (%d, state %d)\n", rc,
		       d->be_state);
		blkfront_close(d);
		return;
	}
	printk("blk-hostile: backend closed the device (state %d)\n", d->be_state);
	blkfront_close(d);
	/* The device comes back for a well-behaved frontend. */
	d = word_open("blk-hostile", devid);
	if (!d)
		return;
	rc = blkfront_read(d, 0, buf, sizeof(buf));
	blkfront_close(d);
	if (rc)
		printk("blk-hostile: FAIL read after reconnecting: %d\n", rc);
	else
		printk("blk-hostile: ok (reconnected, read ok)\n");
}

/* ---- blk-watch=SECONDS ---------------------------------------------------- */

static volatile bool watch_changed;

/* Runs from the wait hook for every change under device/vbd. */
static void watch_cb(const char *path, void *data)
{
	watch_changed = true;
}

static bool watch_cond(void *arg)
{
	return watch_changed;
}

/* Whether vbd @devid's backend waits for a frontend (InitWait). */
static bool backend_waiting(unsigned int devid)
{
	char be[128];

	if (xenbus_read_backend("vbd", devid, be, sizeof(be)) < 0)
		return false;
	return xenbus_read_state(be) == XenbusStateInitWait;
}

/*
 * Hot attach and detach as the guest sees them: for SECONDS, connect
 * every vbd whose backend waits for us, and close each one whose backend
 * leaves Connected (xl block-detach).
 */
static void word_watch(const start_info_t *si, const char *arg)
{
	struct blkfront_dev *open[BLKFRONT_MAX_DEVS] = { 0 };
	unsigned int ids[16];
	uint64_t seconds, end;
	int id, n;

	if (!arg || parse_u64(arg, &seconds) || seconds > 3600) {
		printk("blk-watch: needs seconds (blk-watch=SECONDS)\n");
		return;
	}
	if (!xenbus_ready() || !time_available()) {
		printk("blk-watch: FAIL no xenbus or no time\n");
		return;
	}
	watch_changed = true;
	id = xenbus_watch("device/vbd", watch_cb, NULL);
	if (id < 0) {
		printk("blk-watch: FAIL watch device/vbd: %d\n", id);
		return;
	}
	printk("blk-watch: watching device/vbd for %llu s\n", (unsigned long long)seconds);
	end = time_now_ns() + seconds * 1000 * MS;
	for (;;) {
		for (unsigned int i = 0; i < ARRAY_SIZE(open); i++) {
			if (open[i] && !blkfront_usable(open[i])) {
				printk("blk-watch: detached vbd %u (backend state %d)\n",
				       open[i]->devid, open[i]->be_state);
				blkfront_close(open[i]);
				open[i] = NULL;
			}
		}
		watch_changed = false;
		n = blkfront_list(ids, ARRAY_SIZE(ids));
		for (int k = 0; k < n; k++) {
			unsigned int i, slot = ARRAY_SIZE(open);

			for (i = 0; i < ARRAY_SIZE(open); i++) {
				if (open[i] && open[i]->devid == ids[k])
					break;
				if (!open[i] && slot == ARRAY_SIZE(open))
					slot = i;
			}
			if (i < ARRAY_SIZE(open) || slot == ARRAY_SIZE(open) ||
			    !backend_waiting(ids[k]))
				continue;
			if (blkfront_open(ids[k], &open[slot])) {
				open[slot] = NULL;
				continue;
			}
			printk("blk-watch: attached vbd %u sectors=%llu ro=%d\n", ids[k],
			       (unsigned long long)open[slot]->sectors, open[slot]->readonly);
		}
		if (time_now_ns() >= end)
			break;
		/* A change, or a look every second (a backend reaching InitWait). */
		(void)blkfront_wait_until(watch_cond, NULL, 1000 * MS);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(open); i++)
		if (open[i])
			blkfront_close(open[i]);
	(void)xenbus_unwatch(id);
	printk("blk-watch: done\n");
}

/* ---- blk-config=OPT[,OPT...] --------------------------------------------- */

/* Options for the next opens: order=N, nopersistent, noindirect, default. */
static void word_config(const start_info_t *si, const char *arg)
{
	const char *p = arg;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char opt[32];
		uint64_t v;

		if (len >= sizeof(opt))
			len = sizeof(opt) - 1;
		memcpy(opt, p, len);
		opt[len] = '\0';
		if (!strncmp(opt, "order=", 6) && !parse_u64(opt + 6, &v) &&
		    v <= BLKFRONT_MAX_RING_ORDER)
			blkfront_opts.max_ring_order = (unsigned int)v;
		else if (!strcmp(opt, "nopersistent"))
			blkfront_opts.no_persistent = true;
		else if (!strcmp(opt, "noindirect"))
			blkfront_opts.no_indirect = true;
		else if (!strcmp(opt, "default"))
			blkfront_opts =
			    (struct blkfront_opts){ .max_ring_order = BLKFRONT_MAX_RING_ORDER };
		else
			printk("blk-config: unknown option '%s'\n", opt);
		p = end ? end + 1 : NULL;
	}
	printk("blk-config: max-ring-order=%u persistent=%s indirect=%s\n",
	       blkfront_opts.max_ring_order, blkfront_opts.no_persistent ? "off" : "on",
	       blkfront_opts.no_indirect ? "off" : "on");
}

const struct driver_word blk_words[] = {
	{ .name = "blk-info", .run = word_info },
	{ .name = "blk-selftest", .run = word_selftest },
	{ .name = "blk-bench", .run = blk_word_bench },
	{ .name = "blk-write-ro", .run = word_write_ro },
	{ .name = "blk-discard", .run = word_discard },
	{ .name = "blk-hostile", .run = word_hostile },
	{ .name = "blk-config", .run = word_config },
	{ .name = "blk-watch", .run = word_watch },
};
const unsigned blk_nwords = ARRAY_SIZE(blk_words);
