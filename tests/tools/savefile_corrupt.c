// SPDX-License-Identifier: MIT
/*
 * savefile-corrupt MODE IN OUT: a hostile copy of a real checkpoint file of
 * xl save (tests/integration/xl_save.sh), one field or table broken:
 *
 *   magic      the magic's first byte
 *   version    version 99
 *   truncate   the first half of the file only
 *   cfglen     a config length past the end of the file
 *   count      the first frame record says 100000 frames
 *   outside    the first frame record's first frame is far past the domain's RAM
 *   twice      the first frame record names its first frame twice
 *   rip        vCPU 0's rip is not canonical
 *   usercr3    vCPU 0's user page-table base (ctrlreg[1]) is start_info's frame, a
 *              plain page mapped writable
 *   wrtable    an L1 table maps the pinned L4 table writable
 *   mapout     an L1 table maps a frame outside the domain's memory
 *   trailing   bytes after the end record
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../dom0/xl_savefile.h"

static uint8_t *buf;
static size_t len;

static void die(const char *m)
{
	fprintf(stderr, "savefile-corrupt: %s\n", m);
	exit(2);
}

static uint64_t pad8(uint64_t n)
{
	return (n + 7) & ~7ULL;
}

/* The data of frame gfn (NULL when absent), scanning every frame record. */
static uint8_t *frame_data(uint64_t first_rec, uint64_t gfn, uint32_t *type)
{
	uint64_t off = first_rec;

	while (off + sizeof(struct sv_save_rec) <= len) {
		struct sv_save_rec r;
		memcpy(&r, buf + off, sizeof(r));
		uint64_t body = off + sizeof(r);
		if (r.type == SV_REC_END)
			break;
		if (r.type == SV_REC_PAGE_DATA) {
			uint64_t count, *e = (uint64_t *)(buf + body + 8), data = body + 8;
			memcpy(&count, buf + body, 8);
			data += 8 * count;
			for (uint64_t i = 0; i < count; i++) {
				uint32_t t = (uint32_t)(e[i] >> 60);
				if ((e[i] & SV_SAVE_GFN_MASK) == gfn) {
					*type = t;
					return t == 0xf ? NULL : buf + data;
				}
				if (t != 0xf)
					data += 4096;
			}
		}
		off = body + pad8(r.length);
	}
	return NULL;
}

/* The first frame whose type nibble satisfies want (mask, value). */
static uint64_t find_type(uint64_t first_rec, uint32_t mask, uint32_t value)
{
	uint64_t off = first_rec;

	while (off + sizeof(struct sv_save_rec) <= len) {
		struct sv_save_rec r;
		memcpy(&r, buf + off, sizeof(r));
		uint64_t body = off + sizeof(r);
		if (r.type == SV_REC_END)
			break;
		if (r.type == SV_REC_PAGE_DATA) {
			uint64_t count, *e = (uint64_t *)(buf + body + 8);
			memcpy(&count, buf + body, 8);
			for (uint64_t i = 0; i < count; i++)
				if (((uint32_t)(e[i] >> 60) & mask) == value)
					return e[i] & SV_SAVE_GFN_MASK;
		}
		off = body + pad8(r.length);
	}
	die("no such frame");
	return 0;
}

/* The offset of the first record of type t. */
static uint64_t find_rec(uint64_t first_rec, uint32_t t)
{
	uint64_t off = first_rec;

	while (off + sizeof(struct sv_save_rec) <= len) {
		struct sv_save_rec r;
		memcpy(&r, buf + off, sizeof(r));
		if (r.type == t)
			return off;
		if (r.type == SV_REC_END)
			break;
		off += sizeof(r) + pad8(r.length);
	}
	die("no such record");
	return 0;
}

int main(int argc, char **argv)
{
	struct sv_save_header h;
	FILE *f;
	const char *mode;
	uint64_t first_rec, off;
	uint32_t t;

	if (argc != 4)
		die("usage: savefile-corrupt MODE IN OUT");
	mode = argv[1];
	f = fopen(argv[2], "rb");
	if (!f || fseek(f, 0, SEEK_END))
		die("cannot read IN");
	len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(len + 64);
	if (!buf || fread(buf, 1, len, f) != len)
		die("cannot read IN");
	fclose(f);
	memcpy(&h, buf, sizeof(h));
	first_rec = sizeof(h) + pad8(h.config_len);
	struct sv_save_domain sd;
	memcpy(&sd, buf + first_rec + sizeof(struct sv_save_rec), sizeof(sd));

	if (!strcmp(mode, "magic")) {
		buf[0] ^= 0x20;
	} else if (!strcmp(mode, "version")) {
		h.version = 99;
		memcpy(buf, &h, sizeof(h));
	} else if (!strcmp(mode, "truncate")) {
		len /= 2;
	} else if (!strcmp(mode, "cfglen")) {
		h.config_len = 0xfffff0;
		memcpy(buf, &h, sizeof(h));
	} else if (!strcmp(mode, "count")) {
		off = find_rec(first_rec, SV_REC_PAGE_DATA) + sizeof(struct sv_save_rec);
		uint64_t c = 100000;
		memcpy(buf + off, &c, 8);
	} else if (!strcmp(mode, "outside") || !strcmp(mode, "twice")) {
		off = find_rec(first_rec, SV_REC_PAGE_DATA) + sizeof(struct sv_save_rec) + 8;
		uint64_t e[2];
		memcpy(e, buf + off, 16);
		if (!strcmp(mode, "outside"))
			e[0] = (e[0] & ~SV_SAVE_GFN_MASK) | 0xfffffff;
		else
			e[1] = (e[1] & ~SV_SAVE_GFN_MASK) | (e[0] & SV_SAVE_GFN_MASK);
		memcpy(buf + off, e, 16);
	} else if (!strcmp(mode, "rip") || !strcmp(mode, "usercr3")) {
		off = find_rec(first_rec, SV_REC_VCPU) + sizeof(struct sv_save_rec);
		struct sv_save_vcpu v;
		memcpy(&v, buf + off, sizeof(v));
		if (!strcmp(mode, "rip"))
			v.ctx.user_regs.rip = 0x8000000000000000ULL;
		else
			v.ctx.ctrlreg[1] = sd.start_info_gfn << 12;
		memcpy(buf + off, &v, sizeof(v));
	} else if (!strcmp(mode, "wrtable") || !strcmp(mode, "mapout")) {
		uint64_t l4 = find_type(first_rec, 0xf, 0x8 | 4); /* a pinned L4 */
		uint64_t l1 = find_type(first_rec, 0x7, 1);	  /* an L1 */
		uint64_t *pt = (uint64_t *)frame_data(first_rec, l1, &t);
		unsigned i;
		if (!pt)
			die("no L1 data");
		for (i = 0; i < 512 && pt[i]; i++)
			;
		if (i == 512)
			i = 511; /* every entry used: the last one goes */
		pt[i] = (!strcmp(mode, "wrtable") ? l4 << 12 : 0x7ff00000000ULL) | 0x7;
	} else if (!strcmp(mode, "trailing")) {
		memcpy(buf + len, "trailing", 8);
		len += 8;
	} else {
		die("unknown mode");
	}
	f = fopen(argv[3], "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		die("cannot write OUT");
	free(buf);
	return 0;
}
