// SPDX-License-Identifier: MIT
/*
 * A hostile dom0 client of SV_CTL_VCPU_INFO and SV_CTL_VCPU_PIN, run by
 * tests/integration/xl_vcpu.sh against a live domain: bad domids, vCPU
 * indices, CPU maps and payload sizes must each be refused with their
 * errno, leave every vCPU's affinity as it was, and leave the connection
 * and the hypervisor serving.  Prints one line per case; exits 1 if any
 * answer was not the expected one.
 *
 *   vcpu-ctl-hostile DOMID NR_HOST_CPUS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sv/svctl.h"

static int failures;

static void expect(const char *what, int got, int want)
{
	if (got == want) {
		printf("ok   %s: %s\n", what, got ? strerror(-got) : "0");
	} else {
		printf("BAD  %s: got %d (%s), want %d (%s)\n", what, got, strerror(-got), want,
		       strerror(-want));
		failures++;
	}
}

static int info(struct svctl *c, uint32_t domid, struct sv_ctl_vcpu_info *out)
{
	struct sv_ctl_domid q = { .domid = domid };
	uint32_t got = 0;
	int r = svctl_call(c, SV_CTL_VCPU_INFO, &q, sizeof(q), out, sizeof(*out), &got, NULL);

	if (!r && got != sizeof(*out))
		return -EPROTO;
	return r;
}

static int pin(struct svctl *c, uint32_t domid, uint32_t vcpu, const uint8_t *hard)
{
	struct sv_ctl_vcpu_pin p = { .domid = domid, .vcpu = vcpu };

	memcpy(p.hard, hard, sizeof(p.hard));
	return svctl_call(c, SV_CTL_VCPU_PIN, &p, sizeof(p), NULL, 0, NULL, NULL);
}

int main(int argc, char **argv)
{
	static struct sv_ctl_vcpu_info before, after;
	uint8_t map[SV_CPUMAP_BYTES], raw[sizeof(struct sv_ctl_vcpu_pin) + 8] = { 0 };
	struct svctl *c;
	uint32_t domid, nr;

	if (argc != 3) {
		fprintf(stderr, "usage: vcpu-ctl-hostile DOMID NR_HOST_CPUS\n");
		return 2;
	}
	domid = (uint32_t)strtoul(argv[1], NULL, 10);
	nr = (uint32_t)strtoul(argv[2], NULL, 10);
	c = svctl_open(svctl_rundir());
	if (!c) {
		perror("svctl_open");
		return 2;
	}
	expect("info of the live domain", info(c, domid, &before), 0);
	expect("info reports the host's CPUs", (int)before.nr_cpus, (int)nr);
	expect("info of dom0", info(c, 0, &after), -ESRCH);
	expect("info of domid 0x7ff0", info(c, 0x7ff0, &after), -ESRCH);
	expect("info of domid 0xffffffff", info(c, 0xffffffff, &after), -ESRCH);
	expect("info with a short payload",
	       svctl_call(c, SV_CTL_VCPU_INFO, &domid, 4, &after, sizeof(after), NULL, NULL),
	       -EINVAL);
	expect("info with a long payload",
	       svctl_call(c, SV_CTL_VCPU_INFO, raw, 64, &after, sizeof(after), NULL, NULL),
	       -EINVAL);

	memset(map, 0, sizeof(map));
	map[0] = 1;
	expect("pin in dom0", pin(c, 0, 0, map), -ESRCH);
	expect("pin in domid 0xffffffff", pin(c, 0xffffffff, 0, map), -ESRCH);
	expect("pin of vCPU max", pin(c, domid, before.nr, map), -EINVAL);
	expect("pin of vCPU 64", pin(c, domid, 64, map), -EINVAL);
	expect("pin of vCPU 0x7fffffff", pin(c, domid, 0x7fffffff, map), -EINVAL);
	expect("pin of vCPU 0xfffffffe", pin(c, domid, 0xfffffffe, map), -EINVAL);
	memset(map, 0, sizeof(map));
	expect("pin to no CPU", pin(c, domid, 0, map), -EINVAL);
	expect("pin of all to no CPU", pin(c, domid, SV_VCPU_ALL, map), -EINVAL);
	map[nr / 8] = (uint8_t)(1u << (nr % 8));
	expect("pin to the CPU past the host's", pin(c, domid, 0, map), -EINVAL);
	map[0] |= 1;
	expect("pin to CPU 0 and one past the host's", pin(c, domid, SV_VCPU_ALL, map), -EINVAL);
	memset(map, 0, sizeof(map));
	map[SV_CPUMAP_BYTES - 1] = 0x80;
	expect("pin to CPU 1023", pin(c, domid, 0, map), -EINVAL);
	memset(map, 0xff, sizeof(map));
	expect("pin to every bit of the map", pin(c, domid, 0, map), -EINVAL);
	expect("pin with a short payload",
	       svctl_call(c, SV_CTL_VCPU_PIN, raw, sizeof(struct sv_ctl_vcpu_pin) - 1, NULL, 0,
			  NULL, NULL),
	       -EINVAL);
	expect("pin with a long payload",
	       svctl_call(c, SV_CTL_VCPU_PIN, raw, sizeof(raw), NULL, 0, NULL, NULL), -EINVAL);

	/* Nothing changed, and the same connection still answers. */
	expect("info after it all", info(c, domid, &after), 0);
	expect("the same vCPUs", (int)after.nr, (int)before.nr);
	for (uint32_t i = 0; i < before.nr && i < SV_CTL_VCPU_MAX; i++) {
		char what[64];
		snprintf(what, sizeof(what), "vCPU %u's affinity unchanged", i);
		expect(what,
		       memcmp(before.vcpu[i].hard, after.vcpu[i].hard, SV_CPUMAP_BYTES) ? -EIO : 0,
		       0);
	}
	svctl_close(c);
	return failures ? 1 : 0;
}
