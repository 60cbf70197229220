// SPDX-License-Identifier: MIT
/* xl mem-set and mem-max: a domain's balloon target and its maximum, as libxl keeps them. */
#include <stdint.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "xl.h"
#include "sv/svxs.h"

/* How long mem-set waits for a guest that stopped moving, and at most. */
#define MEMSET_STALL_MS 10000
#define MEMSET_MAX_MS 120000
#define MEMSET_POLL_MS 100

/*
 * Xen's memory syntax (xl(1), parse_mem_size_kb): a number with an
 * optional suffix b, k, m, g or t (either case); no suffix means MiB.
 * Returns KiB, or -1 for anything else (no digits, a sign, junk after
 * the suffix, more than 2^63 KiB).
 */
int64_t xl_parse_mem_kb(const char *s)
{
	uint64_t v = 0;
	unsigned shift = 10; /* MiB -> KiB */
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p && p[1])
		return -1;
	switch (tolower((unsigned char)*p)) {
	case 't':
		shift = 30;
		break;
	case 'g':
		shift = 20;
		break;
	case '\0':
	case 'm':
		shift = 10;
		break;
	case 'k':
		shift = 0;
		break;
	case 'b':
		return (int64_t)(v >> 10);
	default:
		return -1;
	}
	if (v > ((uint64_t)INT64_MAX >> shift))
		return -1;
	return (int64_t)(v << shift);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A number xl wrote to the domain's store directory, or def when absent or junk. */
static uint64_t xs_kb(struct xs_handle *xs, uint32_t domid, const char *rel, uint64_t def)
{
	char dom[SVXS_DOMAIN_DIR_MAX];
	uint64_t v;

	svxs_domain_dir(dom, domid);
	return svxs_read_uint(xs, XBT_NULL, dom, rel, UINT64_MAX, &v) ? def : v;
}

static bool has_balloon(struct xs_handle *xs, uint32_t domid)
{
	char dom[SVXS_DOMAIN_DIR_MAX];
	char *f;
	bool yes;

	svxs_domain_dir(dom, domid);
	f = svxs_read(xs, XBT_NULL, dom, "control/feature-balloon");
	yes = f && !strcmp(f, "1");
	free(f);
	return yes;
}

/* RAM the domain was laid out with at create (its maxmem): no balloon grows past it. */
static int laid_out_kb(struct svctl *c, uint32_t domid, uint64_t *kb)
{
	struct sv_ctl_memory m;
	int fd = -1, ret = svctl_domain_memory(c, domid, &m, &fd);

	if (fd >= 0)
		close(fd);
	if (!ret)
		*kb = m.ram_kb;
	return ret;
}

/*
 * Wait until the domain's reservation is the target, showing it on a
 * terminal.  Gives up when it has not moved for MEMSET_STALL_MS (or after
 * MEMSET_MAX_MS): a warning then, as the target is set all the same.
 */
static int wait_target(struct svctl *c, uint32_t domid, const char *name, uint64_t target_kb)
{
	bool tty = isatty(STDERR_FILENO);
	uint64_t start = now_ms(), moved = start, last = UINT64_MAX;
	struct sv_dominfo di;
	int ret;

	for (;;) {
		ret = svctl_domain_info(c, domid, &di);
		if (ret) {
			if (tty)
				fputc('\n', stderr);
			xl_err("domain '%s' went away while ballooning: %s", name, strerror(-ret));
			return 1;
		}
		if (di.mem_kb != last) {
			last = di.mem_kb;
			moved = now_ms();
			if (tty)
				fprintf(stderr, "\rdomain '%s': %llu MiB, target %llu MiB   ", name,
					(unsigned long long)(di.mem_kb / 1024),
					(unsigned long long)(target_kb / 1024));
		}
		if (di.mem_kb == target_kb)
			break;
		if (now_ms() - moved >= MEMSET_STALL_MS || now_ms() - start >= MEMSET_MAX_MS) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr,
				"xl: warning: domain '%s' holds %llu KiB, not its target %llu KiB: "
				"its balloon driver stopped short\n",
				name, (unsigned long long)di.mem_kb, (unsigned long long)target_kb);
			return 0;
		}
		usleep(MEMSET_POLL_MS * 1000);
	}
	if (tty)
		fputc('\n', stderr);
	return 0;
}

int xl_cmd_mem_set(int argc, char **argv)
{
	struct xs_handle *xs = NULL;
	struct svctl *c = NULL;
	uint64_t static_max, target_kb;
	struct sv_dominfo di;
	uint32_t domid;
	int64_t kb;
	int rc = 1, ret;
	char dom[SVXS_DOMAIN_DIR_MAX];

	if (argc != 3) {
		xl_err("usage: xl mem-set <Domain> <Memory>");
		return 2;
	}
	kb = xl_parse_mem_kb(argv[2]);
	if (kb < 0) {
		xl_err("invalid memory size: %s", argv[2]);
		return 1;
	}
	target_kb = (uint64_t)kb & ~3ULL; /* whole pages */
	c = xl_connect();
	if (!c)
		return 1;
	if (xl_domid(c, argv[1], &domid))
		goto out;
	ret = svctl_domain_info(c, domid, &di);
	if (ret) {
		xl_err("cannot read domain '%s': %s", argv[1], strerror(-ret));
		goto out;
	}
	xs = svxs_open();
	if (!xs) {
		xl_err("cannot set the memory of '%s': xenstored is not running", argv[1]);
		goto out;
	}
	static_max = xs_kb(xs, domid, "memory/static-max", di.max_mem_kb);
	if (target_kb > static_max) {
		xl_err("cannot set the memory of '%s' to %s: memory_dynamic_max must be less than "
		       "or equal to memory_static_max (%llu KiB)",
		       argv[1], argv[2], (unsigned long long)static_max);
		goto out;
	}
	svxs_domain_dir(dom, domid);
	ret =
	    svxs_printf(xs, XBT_NULL, dom, "memory/target", "%llu", (unsigned long long)target_kb);
	if (ret) {
		xl_err("cannot set the memory target of '%s': %s", argv[1], strerror(-ret));
		goto out;
	}
	if (!has_balloon(xs, domid)) {
		fprintf(stderr,
			"xl: warning: domain '%s' has no balloon driver (no "
			"control/feature-balloon): target set to %llu KiB, it holds %llu KiB\n",
			argv[1], (unsigned long long)target_kb, (unsigned long long)di.mem_kb);
		rc = 0;
		goto out;
	}
	rc = wait_target(c, domid, argv[1], target_kb);
out:
	if (xs)
		svxs_close(xs);
	svctl_close(c);
	return rc;
}

int xl_cmd_mem_max(int argc, char **argv)
{
	struct xs_handle *xs = NULL;
	struct svctl *c = NULL;
	uint64_t max_kb, target_kb, room_kb;
	struct sv_dominfo di;
	uint32_t domid;
	int64_t kb;
	int rc = 1, ret;
	char dom[SVXS_DOMAIN_DIR_MAX];

	if (argc != 3) {
		xl_err("usage: xl mem-max <Domain> <Memory>");
		return 2;
	}
	kb = xl_parse_mem_kb(argv[2]);
	if (kb < 0) {
		xl_err("invalid memory size: %s", argv[2]);
		return 1;
	}
	max_kb = (uint64_t)kb & ~3ULL;
	c = xl_connect();
	if (!c)
		return 1;
	if (xl_domid(c, argv[1], &domid))
		goto out;
	ret = svctl_domain_info(c, domid, &di);
	if (!ret)
		ret = laid_out_kb(c, domid, &room_kb);
	if (ret) {
		xl_err("cannot read domain '%s': %s", argv[1], strerror(-ret));
		goto out;
	}
	xs = svxs_open();
	if (!xs) {
		xl_err("cannot set the maximum memory of '%s': xenstored is not running", argv[1]);
		goto out;
	}
	target_kb = xs_kb(xs, domid, "memory/target", di.mem_kb);
	if (max_kb < target_kb) {
		xl_err("cannot set the maximum memory of '%s' to %s: memory_static_max must be "
		       "greater than or equal to memory_dynamic_max (%llu KiB)",
		       argv[1], argv[2], (unsigned long long)target_kb);
		goto out;
	}
	if (max_kb > room_kb) {
		xl_err("cannot set the maximum memory of '%s' to %s: it was created with room for "
		       "%llu KiB (maxmem)",
		       argv[1], argv[2], (unsigned long long)room_kb);
		goto out;
	}
	ret = svctl_domain_set_maxmem(c, domid, max_kb);
	if (ret) {
		xl_err("cannot set the maximum memory of '%s': %s", argv[1], strerror(-ret));
		goto out;
	}
	svxs_domain_dir(dom, domid);
	ret =
	    svxs_printf(xs, XBT_NULL, dom, "memory/static-max", "%llu", (unsigned long long)max_kb);
	if (ret) {
		xl_err("cannot record the maximum memory of '%s': %s", argv[1], strerror(-ret));
		svctl_domain_set_maxmem(c, domid, di.max_mem_kb); /* as it was */
		goto out;
	}
	rc = 0;
out:
	if (xs)
		svxs_close(xs);
	svctl_close(c);
	return rc;
}
