// SPDX-License-Identifier: MIT
/* Check suite for dom0/elf.c: images built in memory, then broken field by field. */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/elfnote.h>
#include <zlib.h>

#include "../../dom0/build.h"
#include "../../dom0/elf.h"

#define BASE 0xffffffff80000000ULL
#define TEXT_OFF 0x1000
#define TEXT_SIZE 0x2000
#define DATA_OFF 0x3000
#define DATA_FILESZ 0x800
#define DATA_MEMSZ 0x1800
#define NOTE_OFF 0x200
#define IMG_SIZE (DATA_OFF + DATA_FILESZ)
#define SHDR_OFF IMG_SIZE /* only in images built with sections */

static uint8_t img[IMG_SIZE + 4 * sizeof(Elf64_Shdr)];
static size_t img_size;
static size_t note_len;
static char err[512];

static Elf64_Ehdr *ehdr(void)
{
	return (Elf64_Ehdr *)img;
}
static Elf64_Phdr *phdr(int i)
{
	return (Elf64_Phdr *)(img + 64) + i;
}

/* Appends one note named "Xen" at NOTE_OFF + note_len. */
static void add_note(uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t hdr[3] = { 4, descsz, type };
	uint8_t *p = img + NOTE_OFF + note_len;

	memcpy(p, hdr, 12);
	memcpy(p + 12, "Xen", 4);
	memcpy(p + 16, desc, descsz);
	note_len += 16 + ((descsz + 3) & ~3u);
}

static void add_note64(uint32_t type, uint64_t v)
{
	add_note(type, &v, 8);
}
static void add_note32(uint32_t type, uint32_t v)
{
	add_note(type, &v, 4);
}
static void add_note_str(uint32_t type, const char *s)
{
	add_note(type, s, strlen(s) + 1);
}

/*
 * A valid PV kernel: text (R+X) at BASE, data+bss (RW) after it, a
 * PT_NOTE with every Xen note we read, and an unrelated "GNU" note.
 */
static void build(void)
{
	Elf64_Ehdr *e = ehdr();
	uint32_t gnu[3] = { 4, 4, 3 };

	memset(img, 0, sizeof(img));
	note_len = 0;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_EXEC;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = BASE + 0x40;
	e->e_phoff = 64;
	e->e_ehsize = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 3;

	*phdr(0) = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_flags = PF_R | PF_X,
				 .p_offset = TEXT_OFF,
				 .p_vaddr = BASE,
				 .p_paddr = 0,
				 .p_filesz = TEXT_SIZE,
				 .p_memsz = TEXT_SIZE,
				 .p_align = 4096 };
	*phdr(1) = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_flags = PF_R | PF_W,
				 .p_offset = DATA_OFF,
				 .p_vaddr = BASE + TEXT_SIZE,
				 .p_paddr = TEXT_SIZE,
				 .p_filesz = DATA_FILESZ,
				 .p_memsz = DATA_MEMSZ,
				 .p_align = 4096 };

	memcpy(img + NOTE_OFF, gnu, 12); /* a foreign note is skipped */
	memcpy(img + NOTE_OFF + 12, "GNU", 4);
	note_len = 20;
	add_note_str(XEN_ELFNOTE_GUEST_OS, "linux");
	add_note_str(XEN_ELFNOTE_GUEST_VERSION, "2.6");
	add_note_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
	add_note_str(XEN_ELFNOTE_LOADER, "generic");
	add_note64(XEN_ELFNOTE_VIRT_BASE, BASE);
	add_note64(XEN_ELFNOTE_PADDR_OFFSET, 0);
	add_note64(XEN_ELFNOTE_ENTRY, BASE + 0x100);
	add_note64(XEN_ELFNOTE_HYPERCALL_PAGE, BASE + 0x1000);
	add_note64(XEN_ELFNOTE_INIT_P2M, 0x8000000000ULL);
	add_note_str(XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb");
	add_note_str(XEN_ELFNOTE_PAE_MODE, "yes");
	add_note32(XEN_ELFNOTE_SUPPORTED_FEATURES, 0x3);
	add_note32(XEN_ELFNOTE_PHYS32_ENTRY, 0x1000200);
	add_note32(XEN_ELFNOTE_MOD_START_PFN, 1);
	add_note32(XEN_ELFNOTE_SUSPEND_CANCEL, 1); /* known, unused */
	*phdr(2) = (Elf64_Phdr){ .p_type = PT_NOTE,
				 .p_flags = PF_R,
				 .p_offset = NOTE_OFF,
				 .p_filesz = note_len,
				 .p_memsz = note_len,
				 .p_align = 4 };

	memset(img + TEXT_OFF, 0x90, TEXT_SIZE);
	memset(img + DATA_OFF, 0xda, DATA_FILESZ);
	img_size = IMG_SIZE;
}

static void set_note64(uint32_t t, uint64_t v);

static int parse(struct sv_elf *elf)
{
	return sv_elf_parse(elf, img, img_size, err, sizeof(err));
}

/* Parsing must fail with a message containing want. */
static void parse_bad(const char *want)
{
	struct sv_elf elf;
	int r = parse(&elf);

	ck_assert_msg(r == -EINVAL, "gave %d, wanted '%s'", r, want);
	ck_assert_msg(strstr(err, want), "message '%s' lacks '%s'", err, want);
	ck_assert_uint_eq(elf.nr_segs, 0);
}

START_TEST(valid_kernel)
{
	struct sv_elf elf;
	const struct sv_xen_notes *n = &elf.notes;

	build();
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_uint_eq(elf.nr_segs, 2);
	ck_assert_uint_eq(elf.ehdr_entry, BASE + 0x40);
	ck_assert_uint_eq(elf.segs[1].vaddr, BASE + TEXT_SIZE);
	ck_assert_uint_eq(elf.segs[1].filesz, DATA_FILESZ);
	ck_assert_uint_eq(elf.segs[1].memsz, DATA_MEMSZ);
	ck_assert_uint_eq(elf.segs[0].flags, PF_R | PF_X);
	ck_assert_uint_eq(elf.vstart, BASE);
	ck_assert_uint_eq(elf.vend, BASE + 0x4000);
	ck_assert(n->found);
	ck_assert_str_eq(n->guest_os, "linux");
	ck_assert_str_eq(n->guest_version, "2.6");
	ck_assert_str_eq(n->xen_version, "xen-3.0");
	ck_assert_str_eq(n->loader, "generic");
	ck_assert_str_eq(n->features, "!writable_page_tables|pae_pgdir_above_4gb");
	ck_assert_str_eq(n->pae_mode, "yes");
	ck_assert(n->has_virt_base && n->virt_base == BASE);
	ck_assert(n->has_paddr_offset && n->paddr_offset == 0);
	ck_assert(n->has_entry && n->entry == BASE + 0x100);
	ck_assert(n->has_hypercall_page && n->hypercall_page == BASE + 0x1000);
	ck_assert(n->has_init_p2m && n->init_p2m == 0x8000000000ULL);
	ck_assert(n->has_phys32_entry && n->phys32_entry == 0x1000200);
	ck_assert(n->has_mod_start_pfn && n->mod_start_pfn);
	ck_assert_uint_eq(n->supported_features, 3);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);
	ck_assert_uint_eq(sv_elf_pv_entry(&elf), BASE + 0x100);
	ck_assert(!sv_is_bzimage(img, img_size));
}
END_TEST

START_TEST(load)
{
	struct sv_elf elf;
	size_t sz = 0x4000;
	uint8_t *mem = malloc(sz + 0x1000);
	size_t i;

	build();
	ck_assert_int_eq(parse(&elf), 0);
	memset(mem, 0xee, sz + 0x1000);
	ck_assert_int_eq(sv_elf_load(&elf, mem, BASE, sz, err, sizeof(err)), 0);
	for (i = 0; i < TEXT_SIZE; i++)
		ck_assert_uint_eq(mem[i], 0x90);
	for (i = 0; i < DATA_FILESZ; i++)
		ck_assert_uint_eq(mem[TEXT_SIZE + i], 0xda);
	for (i = DATA_FILESZ; i < DATA_MEMSZ; i++)
		ck_assert_uint_eq(mem[TEXT_SIZE + i], 0);
	ck_assert_uint_eq(mem[TEXT_SIZE + DATA_MEMSZ], 0xee); /* no more */

	/* A load area too small, or starting too high: -ERANGE, untouched. */
	memset(mem, 0xee, sz);
	ck_assert_int_eq(sv_elf_load(&elf, mem, BASE, TEXT_SIZE + DATA_MEMSZ - 1, err, sizeof(err)),
			 -ERANGE);
	ck_assert_ptr_nonnull(
	    strstr(err, "segment 1 (0xffffffff80002000-0xffffffff80003800) does not fit"));
	ck_assert_uint_eq(mem[0], 0xee);
	ck_assert_int_eq(sv_elf_load(&elf, mem, BASE + 1, sz, err, sizeof(err)), -ERANGE);
	free(mem);
}
END_TEST

START_TEST(header_corruption)
{
	build();
	img[0] = 0x7e;
	parse_bad("not an ELF file");
	build();
	img_size = 3;
	parse_bad("not an ELF file");
	build();
	img_size = 10;
	parse_bad("truncated ELF header");
	build();
	img_size = 40;
	parse_bad("truncated ELF header");
	build();
	img[EI_CLASS] = ELFCLASS32;
	parse_bad("32-bit ELF kernels are not supported");
	build();
	img[EI_CLASS] = 7;
	parse_bad("unknown ELF class 7");
	build();
	img[EI_DATA] = ELFDATA2MSB;
	parse_bad("big-endian ELF files are not supported");
	build();
	img[EI_VERSION] = 2;
	parse_bad("unknown ELF version 2");
	build();
	ehdr()->e_machine = EM_386;
	parse_bad("not an x86-64 ELF file (machine 3)");
	build();
	ehdr()->e_machine = EM_AARCH64;
	parse_bad("not an x86-64 ELF file");
	build();
	ehdr()->e_type = ET_DYN;
	parse_bad("not an executable ELF file (type 3, a shared object or PIE)");
	build();
	ehdr()->e_type = ET_REL;
	parse_bad("an object file");
	build();
	ehdr()->e_phnum = 0;
	parse_bad("no program headers");
	build();
	ehdr()->e_phnum = PN_XNUM;
	parse_bad("no program headers");
	build();
	ehdr()->e_phentsize = 32;
	parse_bad("unexpected program header size 32");
	build();
	ehdr()->e_phoff = IMG_SIZE - 100;
	parse_bad("program header table runs past the end of the file");
	build();
	ehdr()->e_phoff = UINT64_MAX - 10;
	parse_bad("program header table runs past the end of the file");
	build();
	ehdr()->e_phnum = 0xfffe;
	parse_bad("program header table runs past the end of the file");
}
END_TEST

START_TEST(segment_corruption)
{
	build();
	phdr(1)->p_offset = IMG_SIZE - 10;
	parse_bad("segment 1 runs past the end of the file");
	build();
	phdr(1)->p_offset = UINT64_MAX - 4;
	parse_bad("segment 1 runs past the end of the file");
	build();
	phdr(0)->p_filesz = UINT64_MAX;
	phdr(0)->p_memsz = UINT64_MAX;
	parse_bad("segment 0 runs past the end of the file");
	build();
	phdr(2)->p_filesz = IMG_SIZE;
	parse_bad("segment 2 runs past the end of the file");
	build();
	phdr(1)->p_filesz = DATA_MEMSZ + 1;
	parse_bad("segment 1 has a file size larger than its memory size");
	build();
	phdr(1)->p_vaddr = UINT64_MAX - 0x100;
	parse_bad("segment 1 wraps around the address space");
	build();
	phdr(1)->p_paddr = UINT64_MAX - 0x100;
	parse_bad("segment 1 wraps around the address space");
	/* With Xen notes, segments are placed by paddr + VIRT_BASE. */
	build();
	phdr(1)->p_paddr = (UINT64_MAX - BASE) - DATA_MEMSZ - 10;
	parse_bad("segment 1 ends too close to the top of the address space");
	build();
	phdr(1)->p_paddr = TEXT_SIZE - 1;
	parse_bad("segment 1 overlaps another loadable segment");
	build();
	phdr(1)->p_paddr = 0x100;
	parse_bad("segment 1 overlaps another loadable segment");
	build();
	phdr(1)->p_type = PT_NULL;
	phdr(0)->p_type = PT_NULL;
	parse_bad("no loadable segments");
	build();
	phdr(0)->p_memsz = 0;
	phdr(0)->p_filesz = 0;
	phdr(1)->p_type = PT_NULL;
	parse_bad("no loadable segments");
}
END_TEST

START_TEST(placement)
{
	struct sv_elf elf;

	/* Linux's per-cpu segment: vaddr 0, placed by its paddr. */
	build();
	phdr(1)->p_vaddr = 0;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_uint_eq(elf.segs[1].vaddr, 0);
	ck_assert_uint_eq(elf.segs[1].load, BASE + TEXT_SIZE);
	ck_assert_uint_eq(elf.vstart, BASE);
	ck_assert_uint_eq(elf.vend, BASE + 0x4000);

	/* PADDR_OFFSET is subtracted. */
	build();
	phdr(0)->p_paddr = BASE;
	phdr(1)->p_paddr = BASE + TEXT_SIZE;
	set_note64(XEN_ELFNOTE_PADDR_OFFSET, BASE);
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_uint_eq(elf.segs[0].load, BASE);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);

	/* No Xen notes: placed by vaddr. */
	build();
	phdr(2)->p_type = PT_NULL;
	phdr(0)->p_paddr = 0x1000000;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!elf.notes.found);
	ck_assert_uint_eq(elf.segs[0].load, BASE);
	ck_assert_uint_eq(elf.vstart, BASE);
}
END_TEST

/*
 * The shape of Debian's 6.1 vmlinux (checked against the real one):
 * per-cpu segment at vaddr 0, e_entry physical, no HYPERCALL_PAGE
 * (XSA-466), a FEATURES note without NUL, an 8-byte PHYS32_ENTRY and a
 * 16-byte L1_MFN_VALID.
 */
START_TEST(linux_like)
{
	static const char feat[] = "!writable_page_tables|pae_pgdir_above_4gb";
	uint64_t l1[2] = { 1, 1 };
	struct sv_elf elf;

	build();
	note_len = 20;
	add_note_str(XEN_ELFNOTE_GUEST_OS, "linux");
	add_note_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
	add_note64(XEN_ELFNOTE_VIRT_BASE, BASE);
	add_note64(XEN_ELFNOTE_ENTRY, BASE + 0x1c0);
	add_note(XEN_ELFNOTE_FEATURES, feat, sizeof(feat) - 1);
	add_note32(XEN_ELFNOTE_SUPPORTED_FEATURES, 0x8801);
	add_note(XEN_ELFNOTE_L1_MFN_VALID, l1, sizeof(l1));
	add_note64(XEN_ELFNOTE_HV_START_LOW, 0xffff800000000000ULL);
	add_note64(XEN_ELFNOTE_PADDR_OFFSET, 0);
	add_note64(XEN_ELFNOTE_PHYS32_ENTRY, 0x1000850);
	phdr(2)->p_filesz = phdr(2)->p_memsz = note_len;
	phdr(1)->p_vaddr = 0;
	ehdr()->e_entry = 0x1000000;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_str_eq(elf.notes.features, feat);
	ck_assert(!elf.notes.has_hypercall_page);
	ck_assert_uint_eq(elf.notes.phys32_entry, 0x1000850);
	ck_assert_uint_eq(elf.notes.supported_features, 0x8801);
	ck_assert_uint_eq(elf.segs[1].load, BASE + TEXT_SIZE);
	ck_assert_uint_eq(sv_elf_pv_entry(&elf), BASE + 0x1c0);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);
}
END_TEST

START_TEST(too_many_segments)
{
	static uint8_t big[64 + 17 * sizeof(Elf64_Phdr)];
	Elf64_Phdr *ph = (Elf64_Phdr *)(big + 64);
	struct sv_elf elf;
	int i;

	build();
	memcpy(big, img, 64);
	((Elf64_Ehdr *)big)->e_phnum = 17;
	for (i = 0; i < 17; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD,
				      .p_flags = PF_R | PF_X,
				      .p_vaddr = BASE + i * 0x1000ULL,
				      .p_memsz = 0x1000 };
	ck_assert_int_eq(sv_elf_parse(&elf, big, sizeof(big), err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "more than 16 loadable segments");
	((Elf64_Ehdr *)big)->e_phnum = 16;
	ck_assert_int_eq(sv_elf_parse(&elf, big, sizeof(big), err, sizeof(err)), 0);
	ck_assert_uint_eq(elf.nr_segs, 16);
	ck_assert_uint_eq(elf.vend, BASE + 0x10000);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "no Xen ELF notes: not a PV kernel");
}
END_TEST

/* Offset of the first Xen note's header (after the 20-byte GNU note). */
#define XEN_NOTE0 (NOTE_OFF + 20)

START_TEST(note_corruption)
{
	struct sv_elf elf;
	uint32_t v;

	build();
	v = 0x7fffffff;
	memcpy(img + XEN_NOTE0, &v, 4);
	parse_bad("segment 2: note name runs past the end of its notes");
	build();
	v = 0xffffffff;
	memcpy(img + XEN_NOTE0 + 4, &v, 4);
	parse_bad("segment 2: note descriptor runs past the end of its notes");
	build();
	phdr(2)->p_filesz = note_len - 1;
	parse_bad("segment 2: note");
	build();
	phdr(2)->p_filesz = 20 + 5;
	parse_bad("segment 2: truncated note header");
	/* GUEST_OS "linux\0" -> "linuxx" with no NUL: read to its size. */
	build();
	img[XEN_NOTE0 + 16 + 5] = 'x';
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_str_eq(elf.notes.guest_os, "linuxx");
	/* ENTRY with a 3-byte descriptor. */
	build();
	note_len = 20;
	add_note(XEN_ELFNOTE_ENTRY, "abc", 3);
	phdr(2)->p_filesz = note_len;
	parse_bad("Xen note ENTRY has size 3 (expected 4 or 8)");
	/* An over-long string note. */
	{
		char s[100];

		build();
		memset(s, 'a', 99);
		s[99] = 0;
		note_len = 20;
		add_note_str(XEN_ELFNOTE_GUEST_OS, s);
		phdr(2)->p_filesz = note_len;
		parse_bad("Xen note GUEST_OS is too long (99 bytes, at most 63)");
	}
}
END_TEST

START_TEST(notes_from_sections)
{
	struct sv_elf elf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + SHDR_OFF);

	build();
	phdr(2)->p_type = PT_NULL; /* notes only reachable through sections */
	ehdr()->e_shoff = SHDR_OFF;
	ehdr()->e_shentsize = sizeof(Elf64_Shdr);
	ehdr()->e_shnum = 2;
	sh[1] = (Elf64_Shdr){
		.sh_type = SHT_NOTE, .sh_offset = NOTE_OFF, .sh_size = note_len, .sh_addralign = 4
	};
	img_size = SHDR_OFF + 2 * sizeof(Elf64_Shdr);
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(elf.notes.found);
	ck_assert_str_eq(elf.notes.guest_os, "linux");
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);

	sh[1].sh_size = 1 << 20;
	parse_bad("section 1 runs past the end of the file");
	sh[1].sh_size = note_len;
	ehdr()->e_shnum = 3;
	parse_bad("section header table runs past the end of the file");
	ehdr()->e_shnum = 2;
	ehdr()->e_shentsize = 10;
	parse_bad("unexpected section header size 10");

	/* No notes at all: parses, but is not a PV kernel. */
	ehdr()->e_shnum = 0;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!elf.notes.found);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "no Xen ELF notes: not a PV kernel");
}
END_TEST

/* Rewrites the 8-byte value of the numeric note of type t. */
static void set_note64(uint32_t t, uint64_t v)
{
	size_t pos = 20;
	uint32_t hdr[3];

	while (pos < note_len) {
		memcpy(hdr, img + NOTE_OFF + pos, 12);
		if (hdr[2] == t) {
			memcpy(img + NOTE_OFF + pos + 16, &v, 8);
			return;
		}
		pos += 16 + ((hdr[1] + 3) & ~3u);
	}
	ck_abort_msg("note %u not found", t);
}

static void check_pv_bad(const char *want)
{
	struct sv_elf elf;

	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, want), "message '%s' lacks '%s'", err, want);
}

START_TEST(pv_checks)
{
	struct sv_elf elf;

	build();
	set_note64(XEN_ELFNOTE_ENTRY, BASE + TEXT_SIZE + 8);
	check_pv_bad("entry point 0xffffffff80002008 is not inside an executable loadable segment");
	build();
	set_note64(XEN_ELFNOTE_ENTRY, 0x1234);
	check_pv_bad("entry point 0x1234 is not inside");
	build();
	set_note64(XEN_ELFNOTE_HYPERCALL_PAGE, BASE + 0x1008);
	check_pv_bad("HYPERCALL_PAGE 0xffffffff80001008 is not page aligned");
	build();
	set_note64(XEN_ELFNOTE_HYPERCALL_PAGE, BASE + 0x4000);
	check_pv_bad("HYPERCALL_PAGE 0xffffffff80004000 is not inside a loadable segment");
	build();
	set_note64(XEN_ELFNOTE_PADDR_OFFSET, 0x1000);
	check_pv_bad(
	    "VIRT_BASE 0xffffffff80000000 is above the kernel's lowest address 0xffffffff7ffff000");

	/* Without the ENTRY note, e_entry is used. */
	build();
	set_note64(XEN_ELFNOTE_ENTRY, 0);
	ck_assert_int_eq(parse(&elf), 0);
	elf.notes.has_entry = false;
	ck_assert_uint_eq(sv_elf_pv_entry(&elf), BASE + 0x40);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);
	ck_assert_int_eq(sv_elf_check_pv(&(struct sv_elf){ 0 }, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(bzimage)
{
	static uint8_t bz[0x1000];
	struct sv_elf elf;

	bz[0x1fe] = 0x55;
	bz[0x1ff] = 0xaa;
	memcpy(bz + 0x202, "HdrS", 4);
	ck_assert(sv_is_bzimage(bz, sizeof(bz)));
	ck_assert(!sv_is_bzimage(bz, 0x205));
	ck_assert(!sv_is_bzimage(NULL, 0));
	ck_assert_int_eq(sv_elf_parse(&elf, bz, sizeof(bz), err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(
	    err, "this is a bzImage, not an ELF kernel: bzImage kernels need type = \"hvm\"");
	bz[0x202] = 'X';
	ck_assert(!sv_is_bzimage(bz, sizeof(bz)));
	ck_assert_int_eq(sv_elf_parse(&elf, bz, sizeof(bz), err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "not an ELF file");
	ck_assert_int_eq(sv_elf_parse(&elf, NULL, 0, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(bzimage_payload)
{
	static uint8_t bz[0x2000];
	uint16_t version = 0x20f;
	uint32_t poff = 0x100, plen = 0x400;
	size_t off = 0, len = 0;

	bz[0x1fe] = 0x55;
	bz[0x1ff] = 0xaa;
	memcpy(bz + 0x202, "HdrS", 4);
	memcpy(bz + 0x206, &version, 2);
	bz[0x1f1] = 3; /* code at (3 + 1) * 512 */
	memcpy(bz + 0x248, &poff, 4);
	memcpy(bz + 0x24c, &plen, 4);
	ck_assert_int_eq(sv_bzimage_payload(bz, sizeof(bz), &off, &len), 0);
	ck_assert_uint_eq(off, 0x800 + 0x100);
	ck_assert_uint_eq(len, 0x400);
	bz[0x1f1] = 0; /* 0 means 4 setup sectors */
	ck_assert_int_eq(sv_bzimage_payload(bz, sizeof(bz), &off, &len), 0);
	ck_assert_uint_eq(off, 0xa00 + 0x100);

	/* Payload out of the file, empty, too old a protocol, not a bzImage. */
	ck_assert_int_eq(sv_bzimage_payload(bz, 0xa00 + 0x100 + 0x3ff, &off, &len), -EINVAL);
	poff = 0xfffffff0;
	memcpy(bz + 0x248, &poff, 4);
	ck_assert_int_eq(sv_bzimage_payload(bz, sizeof(bz), &off, &len), -EINVAL);
	poff = 0x100;
	memcpy(bz + 0x248, &poff, 4);
	plen = 0;
	memcpy(bz + 0x24c, &plen, 4);
	ck_assert_int_eq(sv_bzimage_payload(bz, sizeof(bz), &off, &len), -EINVAL);
	plen = 0x400;
	memcpy(bz + 0x24c, &plen, 4);
	version = 0x207;
	memcpy(bz + 0x206, &version, 2);
	ck_assert_int_eq(sv_bzimage_payload(bz, sizeof(bz), &off, &len), -EINVAL);
	ck_assert_int_eq(sv_bzimage_payload(bz, 0x240, &off, &len), -EINVAL);
	build();
	ck_assert_int_eq(sv_bzimage_payload(img, img_size, &off, &len), -EINVAL);
}
END_TEST

START_TEST(every_truncation)
{
	struct sv_elf elf;
	size_t n;
	uint8_t *copy;

	/* Each prefix in its own exact-size heap buffer, so ASan sees overreads. */
	build();
	for (n = 0; n < IMG_SIZE; n++) {
		copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		ck_assert_int_eq(sv_elf_parse(&elf, copy, n, err, sizeof(err)), -EINVAL);
		ck_assert_uint_ne(strlen(err), 0);
		free(copy);
	}
}
END_TEST

START_TEST(random_corruption)
{
	struct sv_elf elf;
	unsigned i, j, seed = 12345;
	uint8_t *copy = malloc(IMG_SIZE);
	size_t pos;
	unsigned k;

	/* Flip random bytes in the headers and notes; never crash, always a verdict. */
	for (i = 0; i < 20000; i++) {
		build();
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245 + 12345;
			pos = (seed >> 8) % (NOTE_OFF + note_len);
			seed = seed * 1103515245 + 12345;
			img[pos] = (uint8_t)(seed >> 16);
		}
		memcpy(copy, img, IMG_SIZE);
		if (sv_elf_parse(&elf, copy, IMG_SIZE, err, sizeof(err)))
			continue;
		for (k = 0; k < elf.nr_segs; k++) {
			ck_assert(elf.segs[k].offset + elf.segs[k].filesz <= IMG_SIZE);
			ck_assert(elf.segs[k].filesz <= elf.segs[k].memsz);
		}
		sv_elf_check_pv(&elf, err, sizeof(err));
	}
	free(copy);
}
END_TEST

/*
 * Gives the image a section table: [0] NULL, [1] a section named name
 * of type type holding contents, [2] .shstrtab.  Contents and names go
 * in the (unused) note area, which loses its PT_NOTE.
 */
static void add_sections(const char *name, uint32_t type, const void *contents, size_t len)
{
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + SHDR_OFF);
	size_t str_off = NOTE_OFF + ((len + 15) & ~(size_t)15), name_len = strlen(name) + 1;

	ck_assert_uint_le(str_off + 1 + name_len + 10, TEXT_OFF);
	phdr(2)->p_type = PT_NULL;
	memset(img + NOTE_OFF, 0, TEXT_OFF - NOTE_OFF);
	memcpy(img + NOTE_OFF, contents, len);
	/* "\0" name "\0" ".shstrtab\0" */
	memcpy(img + str_off + 1, name, name_len);
	memcpy(img + str_off + 1 + name_len, ".shstrtab", 10);
	memset(sh, 0, 3 * sizeof(*sh));
	sh[1] =
	    (Elf64_Shdr){ .sh_name = 1, .sh_type = type, .sh_offset = NOTE_OFF, .sh_size = len };
	sh[2] = (Elf64_Shdr){ .sh_name = 1 + (uint32_t)name_len,
			      .sh_type = SHT_STRTAB,
			      .sh_offset = str_off,
			      .sh_size = 1 + name_len + 10 };
	ehdr()->e_shoff = SHDR_OFF;
	ehdr()->e_shentsize = sizeof(Elf64_Shdr);
	ehdr()->e_shnum = 3;
	ehdr()->e_shstrndx = 2;
	img_size = SHDR_OFF + 3 * sizeof(Elf64_Shdr);
}

static void add_xen_guest(const char *str)
{
	add_sections("__xen_guest", SHT_PROGBITS, str, strlen(str) + 1);
}

/* A PT_NOTE at file offset 0 is skipped (libelf: old binutils); the sections are used. */
START_TEST(notes_segment_at_offset_zero)
{
	uint8_t notes[0x400];
	size_t len;
	struct sv_elf elf;

	build();
	len = note_len;
	memcpy(notes, img + NOTE_OFF, len);
	add_sections(".note.Xen", SHT_NOTE, notes, len);
	phdr(2)->p_type = PT_NOTE; /* back, but pointing at offset 0 */
	phdr(2)->p_offset = 0;
	phdr(2)->p_filesz = 64;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(elf.notes.found && !elf.notes.legacy);
	ck_assert_str_eq(elf.notes.loader, "generic");
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);
}
END_TEST

START_TEST(xen_guest_section)
{
	struct sv_elf elf;
	const struct sv_xen_notes *n = &elf.notes;

	/* The legacy string, with every key libelf reads. */
	build();
	add_xen_guest("GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,"
		      "ELF_PADDR_OFFSET=0x0,HYPERCALL_PAGE=0x1,LOADER=generic,PAE=yes,"
		      "FEATURES=writable_page_tables,BSD_SYMTAB,UNKNOWN_KEY=whatever");
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(n->found && n->legacy);
	ck_assert_str_eq(n->guest_os, "linux");
	ck_assert_str_eq(n->guest_version, "2.6");
	ck_assert_str_eq(n->xen_version, "xen-3.0");
	ck_assert_str_eq(n->loader, "generic");
	ck_assert_str_eq(n->pae_mode, "yes");
	ck_assert_str_eq(n->features, "writable_page_tables");
	ck_assert(n->has_virt_base && n->virt_base == BASE);
	ck_assert(n->has_paddr_offset && n->paddr_offset == 0);
	ck_assert(n->has_hypercall_page && n->hypercall_page == BASE + 0x1000);
	ck_assert(!n->has_entry);
	ck_assert_uint_eq(elf.segs[1].load, BASE + TEXT_SIZE);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);
	ck_assert_uint_eq(sv_elf_pv_entry(&elf), BASE + 0x40); /* e_entry */

	/* VIRT_ENTRY; no ELF_PADDR_OFFSET: it defaults to VIRT_BASE (paddr = vaddr). */
	build();
	phdr(0)->p_paddr = BASE;
	phdr(1)->p_paddr = BASE + TEXT_SIZE;
	add_xen_guest("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,"
		      "VIRT_ENTRY=0xffffffff80000200");
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!n->has_paddr_offset);
	ck_assert_uint_eq(elf.segs[0].load, BASE);
	ck_assert_uint_eq(elf.segs[1].load, BASE + TEXT_SIZE);
	ck_assert_uint_eq(sv_elf_pv_entry(&elf), BASE + 0x200);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);

	/* Only read when there are no notes: notes win. */
	build();
	{
		uint8_t notes[0x400];
		size_t len = note_len;

		memcpy(notes, img + NOTE_OFF, len);
		add_sections(".note.Xen", SHT_NOTE, notes, len);
		ck_assert_int_eq(parse(&elf), 0);
		ck_assert(!n->legacy);
	}

	/* What is refused, each with its own message. */
	build();
	add_xen_guest("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=zzz");
	parse_bad("__xen_guest: VIRT_BASE value 'zzz' is not a number");
	build();
	add_xen_guest("GUEST_OS=linux,VIRT_BASE=-1");
	parse_bad("__xen_guest: VIRT_BASE value '-1' is not a number");
	build();
	add_xen_guest("GUEST_OS=linux,HYPERCALL_PAGE=");
	parse_bad("__xen_guest: HYPERCALL_PAGE value '' is not a number");
	build();
	add_xen_guest("GUEST_OS=linux,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=1");
	parse_bad("__xen_guest: a key is longer than 31 bytes");
	{
		char big[300];

		strcpy(big, "GUEST_OS=");
		memset(big + 9, 'l', 200);
		big[209] = 0;
		build();
		add_xen_guest(big);
		parse_bad("__xen_guest: the value of GUEST_OS is longer than 127 bytes");
		strcpy(big, "GUEST_OS=");
		memset(big + 9, 'l', 100);
		big[109] = 0;
		build();
		add_xen_guest(big);
		parse_bad("__xen_guest: GUEST_OS is too long (100 bytes, at most 63)");
	}
	build();
	add_xen_guest("GUEST_OS=linux,XEN_VER=xen-2.0,VIRT_BASE=0xffffffff80000000");
	check_pv_bad("kernel is built for Xen 'xen-2.0', not xen-3.0");
	build();
	add_xen_guest("GUEST_OS=netbsd,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000");
	check_pv_bad("kernel is built for neither the generic loader nor Linux (LOADER '', "
		     "GUEST_OS 'netbsd')");
	build();
	add_xen_guest("GUEST_OS=linux,XEN_VER=xen-3.0,ELF_PADDR_OFFSET=0");
	parse_bad("ELF_PADDR_OFFSET is set but VIRT_BASE is not");
	/* HYPERCALL_PAGE page number past the kernel. */
	build();
	add_xen_guest("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,"
		      "ELF_PADDR_OFFSET=0,HYPERCALL_PAGE=9");
	check_pv_bad("HYPERCALL_PAGE 0xffffffff80009000 is not inside a loadable segment");
	/* A section without contents, one past the file, no NUL: bounded by its size. */
	build();
	add_sections("__xen_guest", SHT_NOBITS, "x", 1);
	parse_bad("section 1 (__xen_guest) has no contents");
	build();
	add_xen_guest("GUEST_OS=linux");
	((Elf64_Shdr *)(img + SHDR_OFF))[1].sh_size = 1 << 20;
	parse_bad("section 1 runs past the end of the file");
	build();
	add_sections("__xen_guest", SHT_PROGBITS, "GUEST_OS=linuxXEN", 14);
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_str_eq(n->guest_os, "linux");
	/* A name table that is not one, or an index past the table: no legacy string. */
	build();
	add_xen_guest("GUEST_OS=linux");
	ehdr()->e_shstrndx = 7;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!n->found);
	((Elf64_Shdr *)(img + SHDR_OFF))[2].sh_name = 0xffffffff;
	ehdr()->e_shstrndx = 2;
	((Elf64_Shdr *)(img + SHDR_OFF))[1].sh_name = 0xfffffff0;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!n->found);
}
END_TEST

/* libelf's defaults: VIRT_BASE 0, PADDR_OFFSET 0 with notes, entry e_entry. */
START_TEST(defaults)
{
	struct sv_elf elf;
	const struct sv_xen_notes *n = &elf.notes;

	build();
	note_len = 20;
	add_note_str(XEN_ELFNOTE_GUEST_OS, "Mini-OS");
	add_note_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
	add_note_str(XEN_ELFNOTE_LOADER, "generic");
	phdr(2)->p_filesz = phdr(2)->p_memsz = note_len;
	/* A kernel linked at 0, as Xen's small PV kernels are. */
	phdr(0)->p_vaddr = 0;
	phdr(0)->p_paddr = 0;
	phdr(1)->p_vaddr = TEXT_SIZE;
	phdr(1)->p_paddr = TEXT_SIZE;
	ehdr()->e_entry = 0x10;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!n->has_virt_base && !n->has_paddr_offset && !n->has_entry);
	ck_assert_uint_eq(elf.segs[0].load, 0);
	ck_assert_uint_eq(elf.segs[1].load, TEXT_SIZE);
	ck_assert_uint_eq(elf.vstart, 0);
	ck_assert_uint_eq(sv_elf_pv_entry(&elf), 0x10);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);

	/* PADDR_OFFSET without VIRT_BASE: refused, as libelf does. */
	add_note64(XEN_ELFNOTE_PADDR_OFFSET, 0);
	phdr(2)->p_filesz = phdr(2)->p_memsz = note_len;
	parse_bad("ELF_PADDR_OFFSET is set but VIRT_BASE is not");

	/* INIT_P2M inside the kernel. */
	build();
	set_note64(XEN_ELFNOTE_INIT_P2M, BASE + 0x2000);
	check_pv_bad("INIT_P2M 0xffffffff80002000 is inside the kernel");
}
END_TEST

/* A segment that is all bss (filesz 0) is zeroed over whatever was there. */
START_TEST(bss_only_segment)
{
	struct sv_elf elf;
	uint8_t *mem = malloc(0x5000);

	build();
	phdr(1)->p_filesz = 0;
	ck_assert_int_eq(parse(&elf), 0);
	memset(mem, 0xee, 0x5000);
	ck_assert_int_eq(sv_elf_load(&elf, mem, BASE, 0x5000, err, sizeof(err)), 0);
	for (size_t i = 0; i < DATA_MEMSZ; i++)
		ck_assert_uint_eq(mem[TEXT_SIZE + i], 0);
	ck_assert_uint_eq(mem[TEXT_SIZE + DATA_MEMSZ], 0xee);
	free(mem);
}
END_TEST

/* gzip-compresses in[0..n) repeated reps times; returns the stream (malloc'd). */
static uint8_t *gz(const void *in, size_t n, unsigned reps, size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap = n + 1024 + (size_t)reps * (n / 100 + 64);
	uint8_t *out = malloc(cap);

	ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	for (unsigned i = 0; i < reps; i++) {
		zs.next_in = (Bytef *)in;
		zs.avail_in = (uInt)n;
		ck_assert_int_eq(deflate(&zs, i + 1 == reps ? Z_FINISH : Z_NO_FLUSH),
				 i + 1 == reps ? Z_STREAM_END : Z_OK);
		ck_assert_uint_eq(zs.avail_in, 0);
	}
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

START_TEST(gzip_kernels)
{
	struct sv_elf elf;
	size_t zlen, outlen;
	void *out;
	uint8_t *z, *zero;
	uint32_t isize;

	/* A good one: inflates to the very image, which parses. */
	build();
	z = gz(img, img_size, 1, &zlen);
	ck_assert(sv_is_gzip(z, zlen));
	ck_assert(!sv_is_gzip(img, img_size));
	ck_assert_int_eq(sv_gunzip(z, zlen, 1 << 20, &out, &outlen, err, sizeof(err)), 0);
	ck_assert_uint_eq(outlen, img_size);
	ck_assert_mem_eq(out, img, img_size);
	ck_assert_int_eq(sv_elf_parse(&elf, out, outlen, err, sizeof(err)), 0);
	ck_assert_int_eq(sv_elf_check_pv(&elf, err, sizeof(err)), 0);
	free(out);

	/* Larger than allowed (the trailer says so): refused before allocating. */
	ck_assert_int_eq(sv_gunzip(z, zlen, img_size - 1, &out, &outlen, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_null(out);

	/* Truncated anywhere: refused, never a crash. */
	for (size_t cut = 0; cut < zlen; cut++) {
		int r = sv_gunzip(z, cut, 1 << 20, &out, &outlen, err, sizeof(err));

		ck_assert_msg(r == -EINVAL || r == -EFBIG, "cut %zu gave %d", cut, r);
		ck_assert_ptr_null(out);
	}
	/* Cut inside the deflate data, the trailer kept: truncated. */
	{
		uint8_t *cut = malloc(zlen);

		memcpy(cut, z, zlen / 2);
		memcpy(cut + zlen / 2, z + zlen - 8, 8);
		ck_assert_int_eq(
		    sv_gunzip(cut, zlen / 2 + 8, 1 << 20, &out, &outlen, err, sizeof(err)),
		    -EINVAL);
		free(cut);
	}

	/* A trailer that lies, low or high: the stream must fill it exactly. */
	memcpy(&isize, z + zlen - 4, 4);
	isize -= 1;
	memcpy(z + zlen - 4, &isize, 4);
	ck_assert_int_eq(sv_gunzip(z, zlen, 1 << 20, &out, &outlen, err, sizeof(err)), -EINVAL);
	isize += 100;
	memcpy(z + zlen - 4, &isize, 4);
	ck_assert_int_eq(sv_gunzip(z, zlen, 1 << 20, &out, &outlen, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(out);
	/* Corrupt data. */
	isize -= 99;
	memcpy(z + zlen - 4, &isize, 4);
	z[zlen / 2] ^= 0x55;
	ck_assert_int_eq(sv_gunzip(z, zlen, 1 << 20, &out, &outlen, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(out);
	free(z);

	/* A bomb: 64 MiB of zeros in ~64 KiB, against a 16 MiB limit. */
	zero = calloc(1, 1 << 20);
	z = gz(zero, 1 << 20, 64, &zlen);
	ck_assert_uint_lt(zlen, 1 << 20);
	ck_assert_int_eq(sv_gunzip(z, zlen, 16 << 20, &out, &outlen, err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err,
			 "kernel decompresses to 67108864 bytes, more than the 16 MiB allowed");
	ck_assert_ptr_null(out);
	/* The same bomb lying that it is small: stops at the announced size. */
	isize = 4096;
	memcpy(z + zlen - 4, &isize, 4);
	ck_assert_int_eq(sv_gunzip(z, zlen, 16 << 20, &out, &outlen, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "gzip data does not decompress to the 4096 bytes its trailer says");
	ck_assert_ptr_null(out);
	free(z);
	free(zero);

	/* Not gzip at all; too short to be. */
	ck_assert_int_eq(sv_gunzip(img, img_size, 1 << 20, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(sv_gunzip("\x1f\x8b\x08", 3, 1 << 20, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "gzip data is truncated (3 bytes)");
}
END_TEST

#define MIB (1ULL << 20)
#define VA(pfn) (BASE + (uint64_t)(pfn)*4096)

/* Xen's start-of-day order and its 4 MiB / 512 KiB rule (xc_dom_x86.c alloc_pgtables_pv). */
/*
 * Which kernels need the process engine's low window (SV_CTL_CREATE_F_LOW_VA):
 * those whose boot mapping starts below 1 MiB, by VIRT_BASE or by segment.
 */
START_TEST(low_va_kernels)
{
	struct sv_elf elf;

	build();
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert(!sv_pv_low_va(&elf)); /* Linux's: VIRT_BASE in the upper half */
	/* PV GRUB: VIRT_BASE 0, one segment at 0. */
	elf.notes.virt_base = 0;
	elf.vstart = 0;
	ck_assert(sv_pv_low_va(&elf));
	/* VIRT_BASE 0 but linked at 1 GiB: the tables still map from 0. */
	elf.vstart = 1ULL << 30;
	ck_assert(sv_pv_low_va(&elf));
	/* No VIRT_BASE note: libelf's default 0. */
	elf.notes.has_virt_base = false;
	ck_assert(sv_pv_low_va(&elf));
	/* Ours: VIRT_BASE and segments at 1 GiB. */
	elf.notes.has_virt_base = true;
	elf.notes.virt_base = 1ULL << 30;
	ck_assert(!sv_pv_low_va(&elf));
	/* The edge: 1 MiB is not low, a page below it is. */
	elf.notes.virt_base = elf.vstart = SV_LOW_VA_END;
	ck_assert(!sv_pv_low_va(&elf));
	elf.notes.virt_base = elf.vstart = SV_LOW_VA_END - 4096;
	ck_assert(sv_pv_low_va(&elf));
}
END_TEST

START_TEST(start_of_day_layout)
{
	struct sv_elf elf;
	struct sv_pv_plan p;
	const uint64_t big = (1ULL << 18) + 512; /* past the map-all size: Xen's rule alone */

	build();
	ck_assert_int_eq(parse(&elf), 0);
	elf.notes.has_init_p2m = false; /* the p2m list in the region (init_p2m_layout: not) */

	/* Kernel 4 pages, p2m 513, then start_info, xenstore, console, tables, stack. */
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 0, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.virt_base, BASE);
	ck_assert_uint_eq(p.kernel_pfn, 0);
	ck_assert_uint_eq(p.kernel_end_pfn, 4);
	ck_assert_uint_eq(p.ramdisk_pages, 0);
	ck_assert_uint_eq(p.p2m_pfn, 4);
	ck_assert_uint_eq(p.p2m_pages, 513);
	ck_assert_uint_eq(p.start_info_pfn, 517);
	ck_assert_uint_eq(p.store_pfn, 518);
	ck_assert_uint_eq(p.console_pfn, 519);
	ck_assert_uint_eq(p.pt_pfn, 520);
	/* [BASE, BASE + 4 MiB): one L4, one L3, one L2, two L1. */
	ck_assert_uint_eq(p.nr_pt, 5);
	ck_assert_uint_eq(p.stack_pfn, 525);
	ck_assert_uint_eq(p.alloc_end_pfn, 526);
	ck_assert_uint_eq(p.boot_end, BASE + 4 * MIB);
	ck_assert_uint_eq(p.map_end, p.boot_end);
	/* The padding: the stack and 512 KiB fit below the end. */
	ck_assert_uint_ge(p.boot_end - VA(p.alloc_end_pfn), 512 * 1024 - 4096);

	/* A ramdisk comes between the kernel and the p2m list. */
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 3 * 4096 + 1, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.ramdisk_pfn, 4);
	ck_assert_uint_eq(p.ramdisk_pages, 4);
	ck_assert_uint_eq(p.p2m_pfn, 8);
	ck_assert_uint_eq(p.start_info_pfn, 521);
	ck_assert_uint_eq(p.pt_pfn, 524);

	/*
	 * Tables, stack and padding ending exactly on 4 MiB: Xen's
	 * round_up is "| mask", so the region gets the next 4 MiB too
	 * (alloc 890 + 129 pages = 1019 < 1024: first guess 4 MiB, 5 tables,
	 * 890 + 134 = 1024 fits exactly).
	 */
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 370 * 4096, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.pt_pfn, 890);
	ck_assert_uint_eq(p.nr_pt, 5);
	ck_assert_uint_eq(p.boot_end, BASE + 4 * MIB);
	/* alloc 895 + 129 = 1024 exactly: 8 MiB, 1 + 1 + 1 + 4 tables. */
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 375 * 4096, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.pt_pfn, 895);
	ck_assert_uint_eq(p.boot_end, BASE + 8 * MIB);
	ck_assert_uint_eq(p.nr_pt, 7);
	ck_assert_uint_eq(p.stack_pfn, 902);

	/* Any other kernel of our kernel's size: Xen's region alone (PV GRUB's tables go above). */
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 8192, 0, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.boot_end, BASE + 4 * MIB);
	ck_assert_uint_eq(p.map_end, p.boot_end);
	ck_assert_uint_eq(p.nr_pt, 1 + 1 + 1 + 2);
	/* Our own kernel (GUEST_OS "Splitvisor"): the tables also map all RAM (32 MiB: 16 L1s). */
	snprintf(elf.notes.guest_os, sizeof(elf.notes.guest_os), "%s", SV_PV_MAP_ALL_GUEST_OS);
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 8192, 0, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.p2m_pages, 16);
	ck_assert_uint_eq(p.start_info_pfn, 20);
	ck_assert_uint_eq(p.pt_pfn, 23);
	ck_assert_uint_eq(p.boot_end, BASE + 4 * MIB);
	ck_assert_uint_eq(p.map_end, BASE + 32 * MIB);
	ck_assert_uint_eq(p.nr_pt, 1 + 1 + 1 + 16);
	ck_assert_uint_eq(p.stack_pfn, 23 + 19);
	/* maxmem above memory: frames up to maxmem get tables too. */
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 16384, 0, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.map_end, BASE + 64 * MIB);
	ck_assert_uint_eq(p.nr_pt, 1 + 1 + 1 + 32);

	/* What does not fit. */
	ck_assert_int_eq(sv_pv_plan(&elf, 600, 600, 0, &p, err, sizeof(err)), -ENOMEM);
	ck_assert_str_eq(err,
			 "2400 KiB of memory is too little for this kernel's bootstrap region");
	ck_assert_int_eq(sv_pv_plan(&elf, 19, 19, 0, &p, err, sizeof(err)), -ENOMEM);
	ck_assert_str_eq(err, "kernel (16 KiB) does not fit in 76 KiB of memory");
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 8192, 64 * MIB, &p, err, sizeof(err)), -ENOMEM);
	ck_assert_str_eq(err, "ramdisk (67108864 bytes) does not fit in memory");
	ck_assert_int_eq(sv_pv_plan(&elf, 0, 8192, 0, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_pv_plan(&elf, 9000, 8192, 0, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 1ULL << 40, 0, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 8192, SIZE_MAX, &p, err, sizeof(err)), -ENOMEM);
}
END_TEST

/* XEN_ELFNOTE_INIT_P2M: the p2m list after the stack, mapped at its own address. */
START_TEST(init_p2m_layout)
{
	struct sv_elf elf;
	struct sv_pv_plan p;
	const uint64_t big = (1ULL << 18) + 512;

	build(); /* INIT_P2M 0x8000000000, as Linux's */
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 0, &p, err, sizeof(err)), 0);
	ck_assert(p.p2m_mapped);
	ck_assert_uint_eq(p.p2m_base, 0x8000000000ULL);
	ck_assert_uint_eq(p.start_info_pfn, 4);
	ck_assert_uint_eq(p.store_pfn, 5);
	ck_assert_uint_eq(p.console_pfn, 6);
	ck_assert_uint_eq(p.pt_pfn, 7);
	ck_assert_uint_eq(p.nr_pt, 5);
	ck_assert_uint_eq(p.stack_pfn, 12);
	ck_assert_uint_eq(p.boot_end, BASE + 4 * MIB);
	ck_assert_uint_eq(p.p2m_pfn, 13);
	ck_assert_uint_eq(p.p2m_pages, 513);
	ck_assert_uint_eq(p.p2m_pt_pfn, 13 + 513);
	ck_assert_uint_eq(p.p2m_nr_pt, 1 + 1 + 2); /* L3, L2, two L1s; the L4 is shared */
	ck_assert_uint_eq(p.alloc_end_pfn, 13 + 513 + 4);

	/* Ignored as Xen ignores it (not below VIRT_BASE, unaligned), or too close to it. */
	set_note64(XEN_ELFNOTE_INIT_P2M, BASE + 0x40000000ULL);
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 0, &p, err, sizeof(err)), 0);
	ck_assert(!p.p2m_mapped);
	ck_assert_uint_eq(p.p2m_pfn, 4);
	set_note64(XEN_ELFNOTE_INIT_P2M, 0x8000000800ULL);
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 0, &p, err, sizeof(err)), 0);
	ck_assert(!p.p2m_mapped);
	set_note64(XEN_ELFNOTE_INIT_P2M, BASE - 0x40000000ULL); /* the kernel's L4 slot */
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_int_eq(sv_pv_plan(&elf, big, big, 0, &p, err, sizeof(err)), 0);
	ck_assert(!p.p2m_mapped);

	/* Whatever the ramdisk, it all fits in memory or is refused with -ENOMEM. */
	set_note64(XEN_ELFNOTE_INIT_P2M, 0x8000000000ULL);
	ck_assert_int_eq(parse(&elf), 0);
	for (uint64_t rd = 63000; rd < 65536; rd += 7) {
		int r = sv_pv_plan(&elf, 65536, 65536, rd * 4096, &p, err, sizeof(err));

		if (r) {
			ck_assert_int_eq(r, -ENOMEM);
			continue;
		}
		ck_assert(p.p2m_mapped);
		ck_assert_uint_le(p.alloc_end_pfn, 65536);
		ck_assert_uint_le(p.boot_end, BASE + 65536 * 4096ULL);
		ck_assert_uint_eq(p.p2m_pfn, p.stack_pfn + 1);
	}
}
END_TEST

/* A kernel at the very top of the address space: refused, not wrapped. */
START_TEST(layout_at_the_top)
{
	struct sv_elf elf;
	struct sv_pv_plan p;
	const uint64_t top = 0xfffffffffff00000ULL;

	build();
	set_note64(XEN_ELFNOTE_VIRT_BASE, top);
	set_note64(XEN_ELFNOTE_ENTRY, top + 0x100);
	set_note64(XEN_ELFNOTE_HYPERCALL_PAGE, top + 0x1000);
	set_note64(XEN_ELFNOTE_INIT_P2M, 0);
	phdr(0)->p_vaddr = top;
	phdr(1)->p_vaddr = top + TEXT_SIZE;
	ck_assert_int_eq(parse(&elf), 0);
	ck_assert_int_eq(sv_pv_plan(&elf, 8192, 8192, 0, &p, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "the bootstrap region runs past the top of the address space");
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, valid_kernel);
	tcase_add_test(tc, load);
	tcase_add_test(tc, header_corruption);
	tcase_add_test(tc, segment_corruption);
	tcase_add_test(tc, placement);
	tcase_add_test(tc, linux_like);
	tcase_add_test(tc, too_many_segments);
	tcase_add_test(tc, note_corruption);
	tcase_add_test(tc, notes_from_sections);
	tcase_add_test(tc, pv_checks);
	tcase_add_test(tc, bzimage);
	tcase_add_test(tc, bzimage_payload);
	tcase_add_test(tc, every_truncation);
	tcase_add_test(tc, random_corruption);
	tcase_add_test(tc, notes_segment_at_offset_zero);
	tcase_add_test(tc, xen_guest_section);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, bss_only_segment);
	tcase_add_test(tc, gzip_kernels);
	tcase_add_test(tc, low_va_kernels);
	tcase_add_test(tc, start_of_day_layout);
	tcase_add_test(tc, layout_at_the_top);
	tcase_add_test(tc, init_p2m_layout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(elf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
