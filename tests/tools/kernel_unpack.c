// SPDX-License-Identifier: MIT
/*
 * kernel-unpack KERNEL OUT: the ELF inside a kernel file (a bzImage's
 * payload, or a compressed file, decompressed by its magic) written to
 * OUT, by the code `xl create` loads kernels with (dom0/elf_unpack.c).
 * tests/linux_lib.sh's linux_vmlinux gives Debian's PV GRUB the ELF inside
 * Debian's bzImage with it.  Exits 0, or 1 with one line on stderr and no
 * OUT.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../dom0/elf.h"

/* As xl create's XL_KERNEL_INFLATE_MAX (Xen's XC_DOM_DECOMPRESS_MAX). */
#define UNPACK_MAX ((size_t)1 << 30)

static void __attribute__((noreturn)) die(const char *path, const char *what)
{
	fprintf(stderr, "kernel-unpack: %s: %s\n", path, what);
	exit(1);
}

/* The whole of path, malloc'd; dies when it cannot be read. */
static void *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;
	void *buf;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die(path, strerror(errno));
	buf = malloc(n ? (size_t)n : 1);
	if (!buf)
		die(path, "out of memory");
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		die(path, ferror(f) ? strerror(errno) : "changed size while read");
	fclose(f);
	*size = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	const char *in, *out;
	void *data, *raw, *elf;
	size_t size, raw_size, elf_size;
	char err[256];
	bool written;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: kernel-unpack KERNEL OUT\n");
		return 2;
	}
	in = argv[1];
	out = argv[2];
	data = read_whole(in, &size);
	if (sv_kernel_unpack(data, size, UNPACK_MAX, &raw, &raw_size, err, sizeof(err)))
		die(in, err);
	/* Neither a bzImage nor compressed: the file as it is. */
	elf = raw ? raw : data;
	elf_size = raw ? raw_size : size;
	if (elf_size < 4 || memcmp(elf, "\x7f" "ELF", 4))
		die(in, "no ELF inside");
	f = fopen(out, "wb");
	if (!f)
		die(out, strerror(errno));
	written = fwrite(elf, 1, elf_size, f) == elf_size;
	if (fclose(f) || !written) {
		unlink(out);
		die(out, strerror(errno));
	}
	free(raw);
	free(data);
	return 0;
}
