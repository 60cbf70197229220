// SPDX-License-Identifier: MIT
// libFuzzer target for the ELF kernel loader (dom0/elf.c): the input is
// the kernel file.  A parsed image is checked as a PV kernel and, when
// its span is small, loaded into a buffer of exactly that span, and laid
// out by the PV builder's planner.  A gzip input (1f 8b) is inflated first,
// with an 8 MiB bound, as xl does with a 1 GiB one.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dom0/build.h"
#include "../dom0/elf.h"

#define EF_MAX_SPAN (8u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_elf elf;
	char err[256];

	void *raw = NULL;
	size_t raw_size;
	struct sv_pv_plan plan;

	(void)sv_is_bzimage(data, size);
	if (sv_kernel_unpack(data, size, EF_MAX_SPAN, &raw, &raw_size, err, sizeof(err)) != 0)
		return 0;
	if (raw) {
		if (raw_size > EF_MAX_SPAN)
			abort();
		data = raw;
		size = raw_size;
	}
	if (sv_elf_parse(&elf, data, size, err, sizeof(err)) != 0) {
		free(raw);
		return 0;
	}
	if (elf.nr_segs > SV_ELF_MAX_SEGS || elf.vend < elf.vstart)
		abort();
	if (sv_elf_check_pv(&elf, err, sizeof(err)) == 0) {
		(void)sv_elf_pv_entry(&elf);
		if (sv_pv_plan(&elf, 8192, 8192, size, &plan, err, sizeof(err)) == 0 &&
		    (plan.stack_pfn >= 8192 || plan.pt_pfn <= plan.console_pfn ||
		     plan.boot_end <= plan.virt_base + plan.stack_pfn * 4096))
			abort();
	}
	if (elf.vend - elf.vstart <= EF_MAX_SPAN) {
		size_t span = (size_t)(elf.vend - elf.vstart);
		uint8_t *mem = malloc(span ? span : 1);

		if (!mem)
			abort();
		if (sv_elf_load(&elf, mem, elf.vstart, span, err, sizeof(err)) == 0) {
			/* Loading a second time, one byte short, must be refused, not overrun. */
			if (span)
				(void)sv_elf_load(&elf, mem, elf.vstart, span - 1, err,
						  sizeof(err));
		}
		free(mem);
	}
	free(raw);
	return 0;
}
