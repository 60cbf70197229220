// SPDX-License-Identifier: MIT
/* Validates and loads an ELF64 x86-64 kernel with its Xen ELF notes. */
#include "elf.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/elfnote.h>

/*
 * The file is hostile until proven otherwise: every offset and size is
 * checked against the file before it is read, headers are copied out
 * with memcpy (the image may be unaligned), and address arithmetic is
 * done with overflow checks.  Only little-endian hosts are supported,
 * like the ELF files we accept.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host");

#define PAGE_SIZE_4K 4096ULL
#define NOTE_MAX_SCANNED 4096 /* notes per file, bounds the work done */

int sv_errf(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

#define FAIL(...) sv_errf(-EINVAL, err, errlen, __VA_ARGS__)

/* True if [off, off+len) lies inside a file of size bytes. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

bool sv_is_bzimage(const void *data, size_t size)
{
	const uint8_t *p = data;

	/* Linux/x86 boot protocol: 0xAA55 at 0x1FE, "HdrS" at 0x202. */
	return data && size >= 0x206 && p[0x1fe] == 0x55 && p[0x1ff] == 0xaa &&
	       !memcmp(p + 0x202, "HdrS", 4);
}

int sv_bzimage_payload(const void *data, size_t size, size_t *off, size_t *len)
{
	const uint8_t *p = data;
	uint32_t poff, plen;
	uint64_t start;
	uint16_t version;

	if (!sv_is_bzimage(data, size) || size < 0x250)
		return -EINVAL;
	memcpy(&version, p + 0x206, 2);
	if (version < 0x208) /* payload fields appeared in 2.08 */
		return -EINVAL;
	/* The protected-mode code follows the boot sector and setup. */
	start = ((uint64_t)(p[0x1f1] ? p[0x1f1] : 4) + 1) * 512;
	memcpy(&poff, p + 0x248, 4);
	memcpy(&plen, p + 0x24c, 4);
	if (!plen || !in_file(start + poff, plen, size))
		return -EINVAL;
	*off = (size_t)(start + poff);
	*len = plen;
	return 0;
}

static const char *note_name(uint32_t type)
{
	switch (type) {
	case XEN_ELFNOTE_ENTRY:
		return "ENTRY";
	case XEN_ELFNOTE_HYPERCALL_PAGE:
		return "HYPERCALL_PAGE";
	case XEN_ELFNOTE_VIRT_BASE:
		return "VIRT_BASE";
	case XEN_ELFNOTE_PADDR_OFFSET:
		return "PADDR_OFFSET";
	case XEN_ELFNOTE_XEN_VERSION:
		return "XEN_VERSION";
	case XEN_ELFNOTE_GUEST_OS:
		return "GUEST_OS";
	case XEN_ELFNOTE_GUEST_VERSION:
		return "GUEST_VERSION";
	case XEN_ELFNOTE_LOADER:
		return "LOADER";
	case XEN_ELFNOTE_PAE_MODE:
		return "PAE_MODE";
	case XEN_ELFNOTE_FEATURES:
		return "FEATURES";
	case XEN_ELFNOTE_INIT_P2M:
		return "INIT_P2M";
	case XEN_ELFNOTE_MOD_START_PFN:
		return "MOD_START_PFN";
	case XEN_ELFNOTE_SUPPORTED_FEATURES:
		return "SUPPORTED_FEATURES";
	case XEN_ELFNOTE_PHYS32_ENTRY:
		return "PHYS32_ENTRY";
	default:
		return "?";
	}
}

/* A numeric note: 4 or 8 little-endian bytes. */
static int note_number(const uint8_t *desc, uint32_t descsz, uint32_t type, uint64_t *v, char *err,
		       size_t errlen)
{
	uint32_t v32;

	if (descsz == 8) {
		memcpy(v, desc, 8);
	} else if (descsz == 4) {
		memcpy(&v32, desc, 4);
		*v = v32;
	} else {
		return FAIL("Xen note %s has size %" PRIu32 " (expected 4 or 8)", note_name(type),
			    descsz);
	}
	return 0;
}

/*
 * A string note: up to its first NUL, or all descsz bytes when it has
 * none (Linux's FEATURES note is built with .ascii: 41 bytes, no NUL).
 * Either way it is read within the note, and must fit dst.
 */
static int note_string(const uint8_t *desc, uint32_t descsz, uint32_t type, char *dst,
		       size_t dstlen, char *err, size_t errlen)
{
	const uint8_t *nul = memchr(desc, '\0', descsz);
	size_t len = nul ? (size_t)(nul - desc) : descsz;

	if (len >= dstlen)
		return FAIL("Xen note %s is too long (%zu bytes, at most %zu)", note_name(type),
			    len, dstlen - 1);
	memcpy(dst, desc, len);
	dst[len] = '\0';
	return 0;
}

/* Records one note named "Xen". */
static int xen_note(struct sv_xen_notes *n, uint32_t type, const uint8_t *desc, uint32_t descsz,
		    char *err, size_t errlen)
{
	uint64_t v = 0;
	int r = 0;

	n->found = true;
	switch (type) {
#define NUM(field)                                                                                 \
	r = note_number(desc, descsz, type, &v, err, errlen);                                      \
	if (!r) {                                                                                  \
		n->field = v;                                                                      \
		n->has_##field = true;                                                             \
	}                                                                                          \
	break
	case XEN_ELFNOTE_ENTRY:
		NUM(entry);
	case XEN_ELFNOTE_HYPERCALL_PAGE:
		NUM(hypercall_page);
	case XEN_ELFNOTE_VIRT_BASE:
		NUM(virt_base);
	case XEN_ELFNOTE_PADDR_OFFSET:
		NUM(paddr_offset);
	case XEN_ELFNOTE_INIT_P2M:
		NUM(init_p2m);
	case XEN_ELFNOTE_PHYS32_ENTRY:
		NUM(phys32_entry);
#undef NUM
	case XEN_ELFNOTE_MOD_START_PFN:
		r = note_number(desc, descsz, type, &v, err, errlen);
		if (!r) {
			n->mod_start_pfn = v != 0;
			n->has_mod_start_pfn = true;
		}
		break;
	case XEN_ELFNOTE_SUPPORTED_FEATURES:
		r = note_number(desc, descsz, type, &v, err, errlen);
		if (!r)
			n->supported_features = (uint32_t)v;
		break;
#define STR(field)                                                                                 \
	r = note_string(desc, descsz, type, n->field, sizeof(n->field), err, errlen);              \
	break
	case XEN_ELFNOTE_GUEST_OS:
		STR(guest_os);
	case XEN_ELFNOTE_GUEST_VERSION:
		STR(guest_version);
	case XEN_ELFNOTE_XEN_VERSION:
		STR(xen_version);
	case XEN_ELFNOTE_LOADER:
		STR(loader);
	case XEN_ELFNOTE_FEATURES:
		STR(features);
	case XEN_ELFNOTE_PAE_MODE:
		STR(pae_mode);
#undef STR
	default:
		break; /* BSD_SYMTAB, HV_START_LOW, ...: not used here */
	}
	return r;
}

/*
 * Walks the notes in file[off, off+len): each a 12-byte header, then the
 * name and the descriptor, each padded to 4 bytes.  what names the
 * container ("segment 3", "section 7") in messages.
 */
static int scan_notes(struct sv_elf *elf, uint64_t off, uint64_t len, const char *what,
		      unsigned *budget, char *err, size_t errlen)
{
	const uint8_t *p = elf->data + off;
	uint64_t pos = 0, namesz_pad, descsz_pad;
	uint32_t hdr[3];
	int r;

	while (pos < len) {
		if (!(*budget)--)
			return FAIL("too many ELF notes");
		if (len - pos < sizeof(hdr))
			return FAIL("%s: truncated note header", what);
		memcpy(hdr, p + pos, sizeof(hdr));
		pos += sizeof(hdr);
		namesz_pad = ((uint64_t)hdr[0] + 3) & ~3ULL;
		descsz_pad = ((uint64_t)hdr[1] + 3) & ~3ULL;
		if (namesz_pad > len - pos)
			return FAIL("%s: note name runs past the end of its %s", what, "notes");
		if (descsz_pad > len - pos - namesz_pad)
			return FAIL("%s: note descriptor runs past the end of its %s", what,
				    "notes");
		if (hdr[0] == 4 && !memcmp(p + pos, "Xen", 4)) {
			r = xen_note(&elf->notes, hdr[2], p + pos + namesz_pad, hdr[1], err,
				     errlen);
			if (r)
				return r;
		}
		pos += namesz_pad + descsz_pad;
	}
	return 0;
}

/* Checks and records the PT_LOAD program headers. */
static int parse_phdrs(struct sv_elf *elf, const Elf64_Ehdr *eh, char *err, size_t errlen)
{
	Elf64_Phdr ph;
	struct sv_elf_seg *s;
	unsigned i;

	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, elf->data + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (ph.p_filesz > ph.p_memsz && ph.p_type == PT_LOAD)
			return FAIL("segment %u has a file size larger than its "
				    "memory size",
				    i);
		if (!in_file(ph.p_offset, ph.p_filesz, elf->size))
			return FAIL("segment %u runs past the end of the file", i);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_vaddr > UINT64_MAX - ph.p_memsz || ph.p_paddr > UINT64_MAX - ph.p_memsz)
			return FAIL("segment %u wraps around the address space", i);
		if (elf->nr_segs == SV_ELF_MAX_SEGS)
			return FAIL("more than %u loadable segments", SV_ELF_MAX_SEGS);
		s = &elf->segs[elf->nr_segs++];
		s->vaddr = ph.p_vaddr;
		s->paddr = ph.p_paddr;
		s->filesz = ph.p_filesz;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->flags = ph.p_flags;
		s->index = i;
	}
	if (!elf->nr_segs)
		return FAIL("no loadable segments");
	return 0;
}

/*
 * Places the segments (see struct sv_elf_seg.load), checks they neither
 * overlap nor run off the top of the address space, and sets
 * vstart/vend.  Needs the notes.
 */
static int layout(struct sv_elf *elf, char *err, size_t errlen)
{
	const struct sv_xen_notes *n = &elf->notes;
	uint64_t offset = 0, end, vmin = UINT64_MAX, vmax = 0;
	struct sv_elf_seg *s, *o;
	unsigned i, j;

	if (n->has_paddr_offset && !n->has_virt_base)
		return FAIL("ELF_PADDR_OFFSET is set but VIRT_BASE is not");
	/*
	 * libelf's defaults: VIRT_BASE 0; PADDR_OFFSET 0 with notes, and
	 * VIRT_BASE with the legacy __xen_guest string (whose kernels had
	 * physical addresses equal to their virtual ones).  The sum wraps
	 * like Xen's unsigned arithmetic.
	 */
	if (n->found)
		offset = (n->has_virt_base ? n->virt_base : 0) -
			 (n->has_paddr_offset ? n->paddr_offset
			  : n->legacy	      ? (n->has_virt_base ? n->virt_base : 0)
					      : 0);
	for (i = 0; i < elf->nr_segs; i++) {
		s = &elf->segs[i];
		s->load = n->found ? s->paddr + offset : s->vaddr;
		if (s->load > UINT64_MAX - s->memsz ||
		    s->load + s->memsz > UINT64_MAX - (PAGE_SIZE_4K - 1))
			return FAIL("segment %u ends too close to the top of the "
				    "address space",
				    s->index);
		end = s->load + s->memsz;
		for (j = 0; j < i; j++) {
			o = &elf->segs[j];
			if (s->load < o->load + o->memsz && o->load < end)
				return FAIL("segment %u overlaps another loadable "
					    "segment",
					    s->index);
		}
		if (s->load < vmin)
			vmin = s->load;
		if (end > vmax)
			vmax = end;
	}
	elf->vstart = vmin & ~(PAGE_SIZE_4K - 1);
	elf->vend = (vmax + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
	return 0;
}

/* Xen notes from the PT_NOTE segments. */
static int notes_from_phdrs(struct sv_elf *elf, const Elf64_Ehdr *eh, unsigned *budget, char *err,
			    size_t errlen)
{
	Elf64_Phdr ph;
	char what[32];
	unsigned i;
	int r;

	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, elf->data + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		/* libelf skips these: some binutils left p_offset 0 in them. */
		if (ph.p_type != PT_NOTE || ph.p_offset == 0)
			continue;
		snprintf(what, sizeof(what), "segment %u", i);
		r = scan_notes(elf, ph.p_offset, ph.p_filesz, what, budget, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Xen notes from SHT_NOTE sections, for files whose program headers
 * carry none.  The section table is optional (e_shnum 0), but when
 * present it is checked like the rest.
 */
static int notes_from_shdrs(struct sv_elf *elf, const Elf64_Ehdr *eh, unsigned *budget, char *err,
			    size_t errlen)
{
	Elf64_Shdr sh;
	char what[32];
	unsigned i;
	int r;

	if (eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return FAIL("unexpected section header size %u", eh->e_shentsize);
	if (!in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(sh), elf->size))
		return FAIL("section header table runs past the end of the file");
	for (i = 0; i < eh->e_shnum; i++) {
		memcpy(&sh, elf->data + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_NOTE)
			continue;
		if (!in_file(sh.sh_offset, sh.sh_size, elf->size))
			return FAIL("section %u runs past the end of the file", i);
		snprintf(what, sizeof(what), "section %u", i);
		r = scan_notes(elf, sh.sh_offset, sh.sh_size, what, budget, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/* Longest __xen_guest key and value, as libelf's name[32] and value[128]. */
#define GUEST_KEY_MAX 31
#define GUEST_VALUE_MAX 127

/* A number in a __xen_guest value: strtoull base 0 (0x.., 0.., decimal). */
static int guest_number(const char *key, const char *value, uint64_t *v, char *err, size_t errlen)
{
	char *end;

	if (!value[0] || value[0] == '-' || value[0] == '+' || value[0] == ' ')
		return FAIL("__xen_guest: %s value '%s' is not a number", key, value);
	errno = 0;
	*v = strtoull(value, &end, 0);
	if (errno || *end)
		return FAIL("__xen_guest: %s value '%s' is not a number", key, value);
	return 0;
}

static int guest_string(const char *key, const char *value, char *dst, size_t dstlen, char *err,
			size_t errlen)
{
	size_t len = strlen(value);

	if (len >= dstlen)
		return FAIL("__xen_guest: %s is too long (%zu bytes, at most %zu)", key, len,
			    dstlen - 1);
	memcpy(dst, value, len + 1);
	return 0;
}

/*
 * One KEY=VALUE item of the legacy string, named as libelf names them
 * (GUEST_VER and XEN_VER, not the notes' GUEST_VERSION/XEN_VERSION;
 * VIRT_ENTRY for the entry; HYPERCALL_PAGE a page number from
 * VIRT_BASE, stored in *hc_page).  Unknown keys are ignored, as there.
 */
static int guest_item(struct sv_xen_notes *n, const char *key, const char *value, uint64_t *hc_page,
		      bool *has_hc, char *err, size_t errlen)
{
	uint64_t v;
	int r;

#define GNUM(name, field)                                                                          \
	if (!strcmp(key, name)) {                                                                  \
		r = guest_number(key, value, &v, err, errlen);                                     \
		if (!r) {                                                                          \
			n->field = v;                                                              \
			n->has_##field = true;                                                     \
		}                                                                                  \
		return r;                                                                          \
	}
#define GSTR(name, field)                                                                          \
	if (!strcmp(key, name))                                                                    \
		return guest_string(key, value, n->field, sizeof(n->field), err, errlen);
	GSTR("LOADER", loader)
	GSTR("GUEST_OS", guest_os)
	GSTR("GUEST_VER", guest_version)
	GSTR("XEN_VER", xen_version)
	GSTR("PAE", pae_mode)
	GSTR("FEATURES", features)
	GNUM("VIRT_BASE", virt_base)
	GNUM("VIRT_ENTRY", entry)
	GNUM("ELF_PADDR_OFFSET", paddr_offset)
#undef GNUM
#undef GSTR
	if (!strcmp(key, "HYPERCALL_PAGE")) {
		r = guest_number(key, value, hc_page, err, errlen);
		if (!r)
			*has_hc = true;
		return r;
	}
	return 0;
}

/*
 * Parses the __xen_guest string s[0..len) (up to its first NUL):
 * comma-separated KEY or KEY=VALUE items.
 */
static int parse_xen_guest(struct sv_xen_notes *n, const char *s, size_t len, char *err,
			   size_t errlen)
{
	char key[GUEST_KEY_MAX + 1], value[GUEST_VALUE_MAX + 1];
	const char *nul = memchr(s, '\0', len), *end, *item_end, *eq;
	uint64_t hc_page = 0;
	bool has_hc = false;
	int r;

	end = nul ? nul : s + len;
	n->found = true;
	n->legacy = true;
	while (s < end) {
		item_end = memchr(s, ',', (size_t)(end - s));
		if (!item_end)
			item_end = end;
		eq = memchr(s, '=', (size_t)(item_end - s));
		if (!eq)
			eq = item_end;
		if (eq - s > GUEST_KEY_MAX)
			return FAIL("__xen_guest: a key is longer than %d bytes", GUEST_KEY_MAX);
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = '\0';
		value[0] = '\0';
		if (eq < item_end) {
			if (item_end - eq - 1 > GUEST_VALUE_MAX)
				return FAIL("__xen_guest: the value of %s is longer than %d bytes",
					    key, GUEST_VALUE_MAX);
			memcpy(value, eq + 1, (size_t)(item_end - eq - 1));
			value[item_end - eq - 1] = '\0';
		}
		if (key[0]) {
			r = guest_item(n, key, value, &hc_page, &has_hc, err, errlen);
			if (r)
				return r;
		}
		s = item_end < end ? item_end + 1 : end;
	}
	if (has_hc) { /* wraps like libelf's (page << 12) + virt_base */
		n->hypercall_page = (hc_page << 12) + (n->has_virt_base ? n->virt_base : 0);
		n->has_hypercall_page = true;
	}
	return 0;
}

/*
 * The legacy "__xen_guest" section, for kernels with neither note
 * segments nor note sections: found by name through the section-name
 * string table (e_shstrndx).  Section headers were checked by
 * notes_from_shdrs() already.
 */
static int notes_from_xen_guest(struct sv_elf *elf, const Elf64_Ehdr *eh, char *err, size_t errlen)
{
	static const char want[] = "__xen_guest";
	Elf64_Shdr sh, strs;
	unsigned i;

	if (eh->e_shnum == 0 || eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return 0;
	memcpy(&strs, elf->data + eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(strs),
	       sizeof(strs));
	if (strs.sh_type != SHT_STRTAB || !in_file(strs.sh_offset, strs.sh_size, elf->size))
		return 0;
	for (i = 1; i < eh->e_shnum; i++) {
		memcpy(&sh, elf->data + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_name >= strs.sh_size || strs.sh_size - sh.sh_name < sizeof(want) ||
		    memcmp(elf->data + strs.sh_offset + sh.sh_name, want, sizeof(want)))
			continue;
		if (sh.sh_type == SHT_NOBITS)
			return FAIL("section %u (__xen_guest) has no contents", i);
		if (!in_file(sh.sh_offset, sh.sh_size, elf->size))
			return FAIL("section %u runs past the end of the file", i);
		return parse_xen_guest(&elf->notes, (const char *)elf->data + sh.sh_offset,
				       sh.sh_size, err, errlen);
	}
	return 0;
}

int sv_elf_parse(struct sv_elf *elf, const void *data, size_t size, char *err, size_t errlen)
{
	const uint8_t *p = data;
	unsigned budget = NOTE_MAX_SCANNED;
	Elf64_Ehdr eh;
	int r;

	memset(elf, 0, sizeof(*elf));
	if (err && errlen)
		err[0] = '\0';
	if (!data || size < SELFMAG || memcmp(p, ELFMAG, SELFMAG)) {
		if (sv_is_bzimage(data, size))
			return sv_errf(-EINVAL, err, errlen,
				       "this is a bzImage, not an ELF kernel: "
				       "bzImage kernels need type = \"hvm\"");
		return sv_errf(-EINVAL, err, errlen, "not an ELF file");
	}
	if (size < EI_NIDENT)
		return FAIL("truncated ELF header");
	if (p[EI_CLASS] == ELFCLASS32)
		return FAIL("32-bit ELF kernels are not supported");
	if (p[EI_CLASS] != ELFCLASS64)
		return FAIL("unknown ELF class %u", p[EI_CLASS]);
	if (p[EI_DATA] != ELFDATA2LSB)
		return FAIL("big-endian ELF files are not supported");
	if (p[EI_VERSION] != EV_CURRENT)
		return FAIL("unknown ELF version %u", p[EI_VERSION]);
	if (size < sizeof(eh))
		return FAIL("truncated ELF header");
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_machine != EM_X86_64)
		return FAIL("not an x86-64 ELF file (machine %u)", eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return FAIL("not an executable ELF file (type %u%s)", eh.e_type,
			    eh.e_type == ET_DYN	  ? ", a shared object or PIE"
			    : eh.e_type == ET_REL ? ", an object file"
						  : "");
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return FAIL("no program headers");
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return FAIL("unexpected program header size %u", eh.e_phentsize);
	if (!in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size))
		return FAIL("program header table runs past the end of the file");

	elf->data = p;
	elf->size = size;
	elf->ehdr_entry = eh.e_entry;
	r = parse_phdrs(elf, &eh, err, errlen);
	if (!r)
		r = notes_from_phdrs(elf, &eh, &budget, err, errlen);
	if (!r && !elf->notes.found)
		r = notes_from_shdrs(elf, &eh, &budget, err, errlen);
	if (!r && !elf->notes.found)
		r = notes_from_xen_guest(elf, &eh, err, errlen);
	if (!r)
		r = layout(elf, err, errlen);
	if (r) {
		memset(elf, 0, sizeof(*elf));
		return r;
	}
	return 0;
}

int sv_elf_load(const struct sv_elf *elf, void *dst, uint64_t dst_vaddr, size_t dst_size, char *err,
		size_t errlen)
{
	const struct sv_elf_seg *s;
	uint8_t *out = dst;
	unsigned i;

	if (err && errlen)
		err[0] = '\0';
	/* Check everything first, so a failure leaves dst untouched. */
	for (i = 0; i < elf->nr_segs; i++) {
		s = &elf->segs[i];
		if (s->load < dst_vaddr || !in_file(s->load - dst_vaddr, s->memsz, dst_size))
			return sv_errf(-ERANGE, err, errlen,
				       "segment %u (0x%" PRIx64 "-0x%" PRIx64
				       ") does not fit in 0x%" PRIx64 "-0x%" PRIx64,
				       s->index, s->load, s->load + s->memsz, dst_vaddr,
				       dst_vaddr + dst_size);
		if (!in_file(s->offset, s->filesz, elf->size))
			return FAIL("segment %u runs past the end of the file", s->index);
	}
	for (i = 0; i < elf->nr_segs; i++) {
		s = &elf->segs[i];
		memcpy(out + (s->load - dst_vaddr), elf->data + s->offset, s->filesz);
		memset(out + (s->load - dst_vaddr) + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

uint64_t sv_elf_pv_entry(const struct sv_elf *elf)
{
	return elf->notes.has_entry ? elf->notes.entry : elf->ehdr_entry;
}

/* The PT_LOAD holding [addr, addr+len), or NULL. */
static const struct sv_elf_seg *seg_holding(const struct sv_elf *elf, uint64_t addr, uint64_t len)
{
	const struct sv_elf_seg *s;
	unsigned i;

	for (i = 0; i < elf->nr_segs; i++) {
		s = &elf->segs[i];
		if (addr >= s->load && len <= s->memsz && addr - s->load <= s->memsz - len)
			return s;
	}
	return NULL;
}

int sv_elf_check_pv(const struct sv_elf *elf, char *err, size_t errlen)
{
	const struct sv_xen_notes *n = &elf->notes;
	const struct sv_elf_seg *s;
	uint64_t entry = sv_elf_pv_entry(elf);

	if (err && errlen)
		err[0] = '\0';
	if (!elf->nr_segs)
		return FAIL("no ELF kernel parsed");
	if (!n->found)
		return FAIL("no Xen ELF notes: not a PV kernel");
	/* libelf's elf_xen_note_check, prefixes and all. */
	if (strncmp(n->loader, "generic", 7) && strncmp(n->guest_os, "linux", 5))
		return FAIL("kernel is built for neither the generic loader nor Linux "
			    "(LOADER '%s', GUEST_OS '%s')",
			    n->loader, n->guest_os);
	if (strncmp(n->xen_version, "xen-3.0", 7))
		return FAIL("kernel is built for Xen '%s', not xen-3.0", n->xen_version);
	if (n->has_init_p2m && n->init_p2m >= elf->vstart && n->init_p2m < elf->vend)
		return FAIL("INIT_P2M 0x%" PRIx64 " is inside the kernel", n->init_p2m);
	if (n->has_virt_base && n->virt_base > elf->vstart)
		return FAIL("VIRT_BASE 0x%" PRIx64 " is above the kernel's "
			    "lowest address 0x%" PRIx64,
			    n->virt_base, elf->vstart);
	s = seg_holding(elf, entry, 1);
	if (!s || !(s->flags & PF_X))
		return FAIL("entry point 0x%" PRIx64 " is not inside an "
			    "executable loadable segment",
			    entry);
	if (n->has_hypercall_page) {
		if (n->hypercall_page & (PAGE_SIZE_4K - 1))
			return FAIL("HYPERCALL_PAGE 0x%" PRIx64 " is not page "
				    "aligned",
				    n->hypercall_page);
		if (!seg_holding(elf, n->hypercall_page, PAGE_SIZE_4K))
			return FAIL("HYPERCALL_PAGE 0x%" PRIx64 " is not inside "
				    "a loadable segment",
				    n->hypercall_page);
	}
	return 0;
}
