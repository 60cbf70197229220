/* SPDX-License-Identifier: MIT */
/* CPU lists as xl reads and writes them (vcpu-pin, vcpu-list), and vcpu-list's rows. */
#ifndef SV_XL_CPUMAP_H
#define SV_XL_CPUMAP_H

#include <stddef.h>
#include <stdint.h>
#include "sv/ctl.h"

/*
 * xl_cpulist_parse: a CPU list as Xen's xl takes it: comma-separated
 * items, each "all", "N" or "N-M", an item with a leading '^' removed from
 * what the items before it added ("0-3,^1" is 0, 2, 3).  Fills map
 * (SV_CPUMAP_BYTES, bit i = host CPU i).  Returns 0, or -EINVAL with a
 * one-line reason in err ("cpu 7 out of range (host has 2 CPUs)") for a
 * malformed item, a CPU at or beyond nr_cpus, "^all", or an empty result.
 */
int xl_cpulist_parse(const char *s, unsigned nr_cpus, uint8_t map[SV_CPUMAP_BYTES], char *err,
		     size_t errlen);

/*
 * xl_cpumap_text: the first nr_cpus bits of map as Xen prints them: "all"
 * when every one is set, "none" when none is, else ascending ranges
 * ("0-1,3").  Truncated to fit len.
 */
void xl_cpumap_text(const uint8_t map[SV_CPUMAP_BYTES], unsigned nr_cpus, char *buf, size_t len);

/* vcpu-list's header, and one row (no newline) in Xen 4.17's columns; soft affinity is "all". */
extern const char xl_vcpu_header[];
void xl_vcpu_row(char *buf, size_t len, const char *name, uint32_t domid,
		 const struct sv_vcpu_info *vi, unsigned nr_cpus);

#endif
