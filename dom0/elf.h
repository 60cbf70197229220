// SPDX-License-Identifier: MIT
/* Validates and loads an ELF64 x86-64 kernel with its Xen ELF notes. */
#ifndef SV_DOM0_ELF_H
#define SV_DOM0_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Thread safety: no global state; a parsed struct sv_elf is only read by
 * sv_elf_load() and sv_elf_check_pv(), so threads may share it.
 * Messages go to err (errlen bytes, always NUL-terminated when errlen > 0).
 */

/* The message into err (when there is room for one), and ret: the builders' error returns. */
int __attribute__((format(printf, 4, 5)))
sv_errf(int ret, char *err, size_t errlen, const char *fmt, ...);

/* One PT_LOAD segment (p_flags: PF_X, PF_W, PF_R). */
struct sv_elf_seg {
	uint64_t vaddr, paddr, filesz, memsz, offset;
	uint32_t flags;
	/*
	 * Where the segment goes in the guest's (virtual) address space,
	 * by Xen's libelf rule: with Xen notes, paddr + VIRT_BASE -
	 * PADDR_OFFSET (each 0 when absent); without, vaddr.  Equal to
	 * vaddr for any consistent kernel, and right for Linux, whose
	 * per-cpu segment has vaddr 0.  sv_elf_load() and
	 * sv_elf_check_pv() use this address.
	 */
	uint64_t load;
	unsigned index; /* its program header's index, for messages */
};

/* The Xen ELF notes (xen/elfnote.h) a kernel carries; has_* say which. */
struct sv_xen_notes {
	bool has_entry, has_hypercall_page, has_virt_base, has_paddr_offset, has_phys32_entry,
	    has_init_p2m, has_mod_start_pfn;
	uint64_t entry, hypercall_page, virt_base, paddr_offset, phys32_entry, init_p2m;
	bool mod_start_pfn;
	char guest_os[64], guest_version[64], xen_version[64], loader[64], features[512],
	    pae_mode[32];
	uint32_t supported_features; /* XEN_ELFNOTE_SUPPORTED_FEATURES */
	bool found;		     /* any Xen note present (or a __xen_guest section) */
	/*
	 * The notes came from the legacy "__xen_guest" section string
	 * (GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x...,...), read only
	 * when no note was found: then a missing ELF_PADDR_OFFSET defaults
	 * to VIRT_BASE, not 0, as in Xen's libelf.
	 */
	bool legacy;
};

#define SV_ELF_MAX_SEGS 16

struct sv_elf {
	const uint8_t *data; /* caller-owned file image */
	size_t size;
	uint64_t ehdr_entry;
	struct sv_elf_seg segs[SV_ELF_MAX_SEGS]; /* PT_LOAD only, file order */
	unsigned nr_segs;
	uint64_t vstart, vend;	   /* lowest load, highest load+memsz; 4K-rounded out */
	struct sv_xen_notes notes; /* PT_NOTE segments, else SHT_NOTE sections */
};

/*
 * Where the Xen notes are looked for, in libelf's order: PT_NOTE program
 * headers (those at file offset 0 are skipped, as libelf does for old
 * binutils), else SHT_NOTE sections, else the "__xen_guest" section.
 * Missing values take libelf's defaults: VIRT_BASE 0, PADDR_OFFSET 0
 * (VIRT_BASE with __xen_guest), the entry e_entry; PADDR_OFFSET without
 * VIRT_BASE is refused.
 *
 * Parses and checks the ELF image data[0..size) (kept by the caller for
 * as long as elf is used): ELF64, little endian, x86-64, ET_EXEC, the
 * program header table and each segment inside the file, filesz <= memsz,
 * no address overflow, no two PT_LOAD overlapping, at most
 * SV_ELF_MAX_SEGS of them, every note inside its segment and every
 * string note fitting its field (a string note is read up to its first
 * NUL or its size, whichever comes first: Linux's FEATURES note has no
 * NUL).  Returns 0, or -EINVAL with a message such as "not an ELF file", "32-bit ELF
 * kernels are not supported", "segment 2 runs past the end of the file"
 * or, for a Linux bzImage, "bzImage kernels need type = \"hvm\"".
 */
int sv_elf_parse(struct sv_elf *elf, const void *data, size_t size, char *err, size_t errlen);

/*
 * Copies each PT_LOAD segment to dst + (load - dst_vaddr) and zeroes its
 * memsz - filesz tail.  dst spans dst_size bytes for guest addresses
 * dst_vaddr..; returns 0, or -ERANGE (with a message) when a segment
 * does not fit, before anything is copied.
 */
int sv_elf_load(const struct sv_elf *elf, void *dst, uint64_t dst_vaddr, size_t dst_size, char *err,
		size_t errlen);

/*
 * Checks what a Xen PV kernel needs, as libelf's note check does: Xen
 * notes present, LOADER "generic" or GUEST_OS "linux..." and XEN_VERSION
 * "xen-3.0...", INIT_P2M (when given) not inside the kernel, an entry point
 * (XEN_ELFNOTE_ENTRY or else e_entry) inside an executable PT_LOAD,
 * VIRT_BASE <= vstart, a HYPERCALL_PAGE (when given) page aligned and
 * inside a PT_LOAD.  Returns 0 or -EINVAL with a message such as
 * "no Xen ELF notes: not a PV kernel".
 */
int sv_elf_check_pv(const struct sv_elf *elf, char *err, size_t errlen);

/* The entry a PV guest starts at: XEN_ELFNOTE_ENTRY, else e_entry. */
uint64_t sv_elf_pv_entry(const struct sv_elf *elf);

/* True if data looks like a Linux/x86 bzImage ("HdrS" boot header). */
bool sv_is_bzimage(const void *data, size_t size);

/*
 * Finds the compressed kernel (an ELF vmlinux, compressed with gzip, xz,
 * lz4, zstd...) inside a bzImage of boot protocol 2.08 or later, as Xen's
 * PV loader does before decompressing it.  Sets *off and *len to its
 * place in data.  Returns 0, or -EINVAL if data is no such bzImage or
 * the payload lies outside it.
 */
int sv_bzimage_payload(const void *data, size_t size, size_t *off, size_t *len);

/* True if data starts with the gzip magic (1f 8b), as Xen's try_gzip tests. */
bool sv_is_gzip(const void *data, size_t size);

/*
 * Inflates a gzip-compressed kernel (Xen's xc_dom_try_gzip) into a new
 * malloc'd buffer (*out, *out_size; the caller frees it).  At most max
 * bytes are ever allocated: the size the gzip trailer announces is
 * checked against max first, and the inflated data must end exactly at
 * that size, so a stream that lies about it is refused, never followed.
 * Returns 0, -EFBIG ("kernel decompresses to more than N MiB") or
 * -EINVAL (truncated or corrupt data) with a one-line message.
 * Defined in dom0/elf_gz.c (links -lz).
 */
int sv_gunzip(const void *data, size_t size, size_t max, void **out, size_t *out_size, char *err,
	      size_t errlen);

/* True if data starts with the magic of a format sv_kernel_unpack() knows (gzip, xz, lzma, bzip2, lz4, zstd, lzo). */
bool sv_is_compressed(const void *data, size_t size);

/*
 * The ELF kernel inside a kernel file, as Xen's libxc finds it: a bzImage
 * (boot protocol 2.08 or later) gives its payload; that payload, or the
 * whole file, is decompressed by its magic: gzip (sv_gunzip), xz and lzma
 * (liblzma), bzip2, LZ4's legacy frame (Linux's lz4 kernels, with the
 * size the build appends) and zstd; what follows the end of an xz, lzma,
 * zstd or bzip2 stream (Linux appends the size) is ignored.  A file that is
 * neither a bzImage nor compressed is left as it is: returns 0 with *out
 * NULL.  Otherwise *out is a new malloc'd buffer (the caller frees it) of
 * *out_size bytes, never more than max: output past max stops the
 * decompression with -EFBIG ("... decompresses to more than N MiB").
 * Errors, each with a one-line message: -EINVAL (payload outside the
 * file, truncated or corrupt data, an unknown payload), -EOPNOTSUPP (LZO),
 * -ENOMEM.  Defined in dom0/elf_unpack.c (links -lz -llzma -lbz2 -llz4
 * -lzstd).
 */
int sv_kernel_unpack(const void *data, size_t size, size_t max, void **out, size_t *out_size,
		     char *err, size_t errlen);

#endif /* SV_DOM0_ELF_H */
