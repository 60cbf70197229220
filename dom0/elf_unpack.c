// SPDX-License-Identifier: MIT
/*
 * Compressed kernels and bzImages, as Xen's libxc takes them
 * (xc_dom_probe_bzimage_kernel, then xc_dom_try_gzip/xz/lzma/lz4/zstd/bzip2):
 * a bzImage's payload, or a bare compressed file, is decompressed by its
 * magic into a buffer that never grows past a cap.
 */
#include "elf.h"

#include <bzlib.h>
#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20) /* the legacy format's fixed block size */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)

/* The output: grows by doubling, never past max. */
struct obuf {
	uint8_t *p;
	size_t len, cap, max;
};

/* Room for at least one more byte (or want more); -EFBIG when the cap is reached. */
static int ob_room(struct obuf *o, size_t want)
{
	size_t ncap;
	uint8_t *np;

	if (o->cap - o->len >= want && o->cap > o->len)
		return 0;
	if (o->cap >= o->max)
		return -EFBIG;
	ncap = o->cap ? o->cap : (size_t)1 << 20;
	while (ncap - o->len < want || ncap <= o->len) {
		if (ncap >= o->max / 2) {
			ncap = o->max;
			break;
		}
		ncap *= 2;
	}
	if (ncap > o->max)
		ncap = o->max;
	np = realloc(o->p, ncap);
	if (!np)
		return -ENOMEM;
	o->p = np;
	o->cap = ncap;
	return 0;
}

static int too_big(const struct obuf *o, const char *fmt, char *err, size_t errlen)
{
	return sv_errf(-EFBIG, err, errlen, "%s kernel decompresses to more than the %zu MiB allowed",
		       fmt, o->max >> 20);
}

static int no_mem(char *err, size_t errlen)
{
	return sv_errf(-ENOMEM, err, errlen, "out of memory decompressing the kernel");
}

static int room_or_fail(struct obuf *o, size_t want, const char *fmt, char *err, size_t errlen)
{
	int r = ob_room(o, want);

	if (r == -EFBIG)
		return too_big(o, fmt, err, errlen);
	if (r)
		return no_mem(err, errlen);
	return 0;
}

/* xz (lzma_stream_decoder) and lzma "alone" (lzma_alone_decoder): one stream, what follows ignored. */
static int un_lzma(const uint8_t *in, size_t size, bool xz, struct obuf *o, char *err,
		   size_t errlen)
{
	const char *fmt = xz ? "xz" : "lzma";
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret lr;
	int r = 0;

	lr = xz ? lzma_stream_decoder(&s, XZ_MEMLIMIT, 0) : lzma_alone_decoder(&s, XZ_MEMLIMIT);
	if (lr != LZMA_OK)
		return no_mem(err, errlen);
	s.next_in = in;
	s.avail_in = size;
	for (;;) {
		r = room_or_fail(o, 1, fmt, err, errlen);
		if (r)
			break;
		s.next_out = o->p + o->len;
		s.avail_out = o->cap - o->len;
		lr = lzma_code(&s, LZMA_FINISH);
		o->len = o->cap - s.avail_out;
		if (lr == LZMA_STREAM_END)
			break;
		if (lr == LZMA_OK)
			continue;
		if (lr == LZMA_BUF_ERROR && s.avail_out)
			r = sv_errf(-EINVAL, err, errlen, "%s data is truncated", fmt);
		else if (lr == LZMA_MEMLIMIT_ERROR || lr == LZMA_MEM_ERROR)
			r = sv_errf(-EINVAL, err, errlen,
				    "%s data needs more than %llu MiB to decompress", fmt,
				    (unsigned long long)(XZ_MEMLIMIT >> 20));
		else
			r = sv_errf(-EINVAL, err, errlen, "%s data is corrupt (liblzma error %d)",
				    fmt, (int)lr);
		break;
	}
	lzma_end(&s);
	return r;
}

static int un_zstd(const uint8_t *in, size_t size, struct obuf *o, char *err, size_t errlen)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, size, 0 };
	size_t zr;
	int r = 0;

	if (!d)
		return no_mem(err, errlen);
	for (;;) {
		r = room_or_fail(o, 1, "zstd", err, errlen);
		if (r)
			break;
		ZSTD_outBuffer ob = { o->p, o->cap, o->len };
		zr = ZSTD_decompressStream(d, &ob, &ib);
		o->len = ob.pos;
		if (ZSTD_isError(zr)) {
			r = sv_errf(-EINVAL, err, errlen, "zstd data is corrupt (%s)",
				    ZSTD_getErrorName(zr));
			break;
		}
		if (zr == 0) /* the frame is complete */
			break;
		if (ib.pos == ib.size && ob.pos < ob.size) {
			r = sv_errf(-EINVAL, err, errlen, "zstd data is truncated");
			break;
		}
	}
	ZSTD_freeDStream(d);
	return r;
}

static int un_bzip2(const uint8_t *in, size_t size, struct obuf *o, char *err, size_t errlen)
{
	bz_stream s;
	int br, r = 0;

	memset(&s, 0, sizeof(s));
	if (size > UINT32_MAX)
		return sv_errf(-EFBIG, err, errlen, "compressed kernel is larger than 4 GiB");
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return no_mem(err, errlen);
	s.next_in = (char *)in;
	s.avail_in = (unsigned)size;
	for (;;) {
		r = room_or_fail(o, 1, "bzip2", err, errlen);
		if (r)
			break;
		size_t room = o->cap - o->len;
		if (room > UINT32_MAX)
			room = UINT32_MAX;
		s.next_out = (char *)o->p + o->len;
		s.avail_out = (unsigned)room;
		br = BZ2_bzDecompress(&s);
		o->len += room - s.avail_out;
		if (br == BZ_STREAM_END)
			break;
		if (br != BZ_OK) {
			r = sv_errf(-EINVAL, err, errlen, "bzip2 data is corrupt (libbz2 error %d)",
				    br);
			break;
		}
		if (s.avail_in == 0 && s.avail_out) {
			r = sv_errf(-EINVAL, err, errlen, "bzip2 data is truncated");
			break;
		}
	}
	BZ2_bzDecompressEnd(&s);
	return r;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * LZ4's legacy frame, which Linux's lz4 kernels use: the magic, then
 * blocks of [le32 compressed size][data], each up to 8 MiB decompressed;
 * the magic may repeat.  Four bytes left after a block are the size the
 * kernel build appends.
 */
static int un_lz4(const uint8_t *in, size_t size, struct obuf *o, char *err, size_t errlen)
{
	size_t pos = 4;
	char *blk;
	int n, r = 0;

	blk = malloc(LZ4_LEGACY_BLOCK);
	if (!blk)
		return no_mem(err, errlen);
	while (size - pos >= 4) {
		uint32_t chunk = le32(in + pos);

		pos += 4;
		if (chunk == LZ4_LEGACY_MAGIC)
			continue;
		if (pos == size && o->len) /* the appended size */
			break;
		if (chunk == 0 || chunk > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK)) {
			r = sv_errf(-EINVAL, err, errlen,
				    "lz4 data is corrupt (a block of %u bytes)", chunk);
			break;
		}
		if (chunk > size - pos) {
			r = sv_errf(-EINVAL, err, errlen, "lz4 data is truncated");
			break;
		}
		n = LZ4_decompress_safe((const char *)in + pos, blk, (int)chunk,
					(int)LZ4_LEGACY_BLOCK);
		if (n < 0) {
			r = sv_errf(-EINVAL, err, errlen, "lz4 data is corrupt");
			break;
		}
		if ((size_t)n > o->max - o->len) {
			r = too_big(o, "lz4", err, errlen);
			break;
		}
		r = room_or_fail(o, (size_t)n, "lz4", err, errlen);
		if (r)
			break;
		memcpy(o->p + o->len, blk, (size_t)n);
		o->len += (size_t)n;
		pos += chunk;
	}
	free(blk);
	if (!r && pos != size)
		r = sv_errf(-EINVAL, err, errlen, "lz4 data is truncated");
	return r;
}

static const char *magic_name(const uint8_t *p, size_t size)
{
	if (size >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return "gzip";
	if (size >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return "xz";
	if (size >= 3 && !memcmp(p, "\x5d\0\0", 3))
		return "lzma";
	if (size >= 3 && !memcmp(p, "BZh", 3))
		return "bzip2";
	if (size >= 4 && le32(p) == LZ4_LEGACY_MAGIC)
		return "lz4";
	if (size >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		return "zstd";
	if (size >= 4 && !memcmp(p, "\x89LZO", 4))
		return "lzo";
	return NULL;
}

bool sv_is_compressed(const void *data, size_t size)
{
	return data && magic_name(data, size) != NULL;
}

static int decompress(const uint8_t *in, size_t size, size_t max, void **out, size_t *out_size,
		      char *err, size_t errlen)
{
	const char *fmt = magic_name(in, size);
	struct obuf o = { .max = max };
	int r;

	if (!strcmp(fmt, "gzip"))
		return sv_gunzip(in, size, max, out, out_size, err, errlen);
	if (!strcmp(fmt, "lzo"))
		return sv_errf(-EOPNOTSUPP, err, errlen,
			       "LZO-compressed kernels are not supported (gzip, xz, lzma, bzip2, "
			       "lz4 and zstd are)");
	if (!max)
		return too_big(&o, fmt, err, errlen);
	if (!strcmp(fmt, "xz") || !strcmp(fmt, "lzma"))
		r = un_lzma(in, size, fmt[0] == 'x', &o, err, errlen);
	else if (!strcmp(fmt, "bzip2"))
		r = un_bzip2(in, size, &o, err, errlen);
	else if (!strcmp(fmt, "lz4"))
		r = un_lz4(in, size, &o, err, errlen);
	else
		r = un_zstd(in, size, &o, err, errlen);
	if (!r && !o.len)
		r = sv_errf(-EINVAL, err, errlen, "%s data decompresses to nothing", fmt);
	if (r) {
		free(o.p);
		return r;
	}
	*out = o.p;
	*out_size = o.len;
	return 0;
}

int sv_kernel_unpack(const void *data, size_t size, size_t max, void **out, size_t *out_size,
		     char *err, size_t errlen)
{
	const uint8_t *p = data;
	size_t off, len;

	*out = NULL;
	*out_size = 0;
	if (err && errlen)
		err[0] = '\0';
	if (!data)
		return sv_errf(-EINVAL, err, errlen, "no kernel image");
	if (sv_is_bzimage(data, size)) {
		uint16_t version = size >= 0x208 ? (uint16_t)(p[0x206] | p[0x207] << 8) : 0;

		if (version < 0x208)
			return sv_errf(-EINVAL, err, errlen,
				       "bzImage boot protocol %u.%02u is older than 2.08: no payload "
				       "to load as a PV kernel",
				       version >> 8, version & 0xff);
		if (sv_bzimage_payload(data, size, &off, &len))
			return sv_errf(-EINVAL, err, errlen,
				       "bzImage payload lies outside the file (%zu bytes)", size);
		if (len >= SELFMAG && !memcmp(p + off, ELFMAG, SELFMAG)) {
			/* An uncompressed payload: the ELF itself, copied so the caller owns it. */
			if (len > max)
				return sv_errf(-EFBIG, err, errlen,
					       "bzImage payload is larger than the %zu MiB allowed",
					       max >> 20);
			*out = malloc(len);
			if (!*out)
				return no_mem(err, errlen);
			memcpy(*out, p + off, len);
			*out_size = len;
			return 0;
		}
		if (!magic_name(p + off, len))
			return sv_errf(-EINVAL, err, errlen,
				       "bzImage payload is neither an ELF kernel nor compressed in a "
				       "known format");
		return decompress(p + off, len, max, out, out_size, err, errlen);
	}
	if (!magic_name(p, size))
		return 0; /* as it is */
	return decompress(p, size, max, out, out_size, err, errlen);
}
