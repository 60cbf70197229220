// SPDX-License-Identifier: MIT
/* CPU lists for xl: parsing "0-3,^1", printing "all" or "0-1,3", and vcpu-list's row format. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xl_cpumap.h"

/* "N" or "N-M" (N <= M), decimal; 0 or -EINVAL. */
static int parse_range(const char *s, size_t n, unsigned long *a, unsigned long *b)
{
	char buf[32], *end;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	*a = strtoul(buf, &end, 10);
	*b = *a;
	if (*end == '-') {
		const char *m = end + 1;
		if (*m < '0' || *m > '9')
			return -EINVAL;
		*b = strtoul(m, &end, 10);
	}
	if (errno || *end || *a > *b)
		return -EINVAL;
	return 0;
}

int xl_cpulist_parse(const char *s, unsigned nr_cpus, uint8_t map[SV_CPUMAP_BYTES], char *err,
		     size_t errlen)
{
	const char *p = s;
	bool any = false;

	memset(map, 0, SV_CPUMAP_BYTES);
	if (nr_cpus > SV_CPUMAP_BYTES * 8)
		nr_cpus = SV_CPUMAP_BYTES * 8;
	if (!*s) {
		snprintf(err, errlen, "empty CPU list");
		return -EINVAL;
	}
	for (;;) {
		size_t n = strcspn(p, ",");
		bool not = n && *p == '^';
		const char *item = p + not ;
		size_t len = n - not ;
		unsigned long a, b;

		if (len == 3 && !strncmp(item, "all", 3)) {
			if (not ) {
				snprintf(err, errlen, "can't combine \"^\" and \"all\"");
				return -EINVAL;
			}
			a = 0;
			b = nr_cpus - 1;
		} else if (parse_range(item, len, &a, &b)) {
			snprintf(err, errlen, "invalid CPU range '%.*s' in '%s'", (int)n, p, s);
			return -EINVAL;
		} else if (b >= nr_cpus) {
			snprintf(err, errlen, "cpu %lu out of range (host has %u CPU%s)", b,
				 nr_cpus, nr_cpus == 1 ? "" : "s");
			return -EINVAL;
		}
		for (unsigned long i = a; i <= b; i++) {
			if (not )
				map[i / 8] &= (uint8_t) ~(1u << (i % 8));
			else
				map[i / 8] |= (uint8_t)(1u << (i % 8));
		}
		any |= !not ;
		if (!p[n])
			break;
		p += n + 1;
	}
	for (unsigned i = 0; i < nr_cpus; i++)
		if (map[i / 8] & (1u << (i % 8)))
			return 0;
	snprintf(err, errlen, "'%s' leaves no CPU%s", s, any ? "" : " (it only removes CPUs)");
	return -EINVAL;
}

static bool bit(const uint8_t *map, unsigned i)
{
	return map[i / 8] & (1u << (i % 8));
}

void xl_cpumap_text(const uint8_t map[SV_CPUMAP_BYTES], unsigned nr_cpus, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i = 0, set = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (nr_cpus > SV_CPUMAP_BYTES * 8)
		nr_cpus = SV_CPUMAP_BYTES * 8;
	for (unsigned j = 0; j < nr_cpus; j++)
		set += bit(map, j);
	if (set == 0 || set == nr_cpus) {
		snprintf(buf, len, "%s", set ? "all" : "none");
		return;
	}
	while (i < nr_cpus) {
		unsigned first;
		int n;

		if (!bit(map, i)) {
			i++;
			continue;
		}
		first = i;
		while (i + 1 < nr_cpus && bit(map, i + 1))
			i++;
		if (i > first)
			n = snprintf(buf + used, len - used, "%s%u-%u", used ? "," : "", first, i);
		else
			n = snprintf(buf + used, len - used, "%s%u", used ? "," : "", first);
		if (n < 0 || (size_t)n >= len - used)
			return; /* truncated: what fits */
		used += (size_t)n;
		i++;
	}
}

const char xl_vcpu_header[] =
    "Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)";

void xl_vcpu_row(char *buf, size_t len, const char *name, uint32_t domid,
		 const struct sv_vcpu_info *vi, unsigned nr_cpus)
{
	char hard[256], cpu[16];
	bool online = vi->flags & SV_VCPUF_ONLINE;

	xl_cpumap_text(vi->hard, nr_cpus, hard, sizeof(hard));
	if (online && vi->cpu >= 0)
		snprintf(cpu, sizeof(cpu), "%5d", vi->cpu);
	else
		snprintf(cpu, sizeof(cpu), "%5c", '-');
	/* Columns as Xen 4.17's print_vcpuinfo: CPU follows VCPU with no blank of its own. */
	snprintf(buf, len, "%-32s %5u %5u%s %3c%c%c %9.1f  %s / all", name, domid, vi->vcpu, cpu,
		 online && (vi->flags & SV_VCPUF_RUNNING) ? 'r' : '-',
		 online && (vi->flags & SV_VCPUF_BLOCKED) ? 'b' : '-', online ? '-' : 'p',
		 (double)vi->cpu_time_ns / 1e9, hard);
}
