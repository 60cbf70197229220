// SPDX-License-Identifier: MIT
// libFuzzer target for the ELF kernel loader (dom0/elf.c): the input is
// the kernel file.  A parsed image is checked as a PV kernel and, when
// its span is small, loaded into a buffer of exactly that span.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dom0/elf.h"

#define EF_MAX_SPAN (8u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_elf elf;
	char err[256];

	(void)sv_is_bzimage(data, size);
	if (sv_elf_parse(&elf, data, size, err, sizeof(err)) != 0)
		return 0;
	if (elf.nr_segs > SV_ELF_MAX_SEGS || elf.vend < elf.vstart)
		abort();
	if (sv_elf_check_pv(&elf, err, sizeof(err)) == 0)
		(void)sv_elf_pv_entry(&elf);
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
	return 0;
}
