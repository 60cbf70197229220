// SPDX-License-Identifier: MIT
/*
 * Check suite for dom0/elf_unpack.c: kernels as Linux's build makes them
 * (a bzImage whose payload is the ELF vmlinux compressed with gzip, xz,
 * lzma, bzip2, lz4 or zstd, the size appended), compressed here with the
 * same libraries, then broken: payload past the file's end, every format
 * truncated and corrupted, decompression bombs against the cap.
 */
#include <bzlib.h>
#include <check.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "../../dom0/elf.h"

enum fmt { GZ, XZ, LZMA, BZ2, LZ4, ZST, NFMT };
static const char *const names[NFMT] = { "gzip", "xz", "lzma", "bzip2", "lz4", "zstd" };

static char err[512];

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* in[0..n) compressed as Linux's arch/x86/boot/compressed does it; a new buffer. */
static uint8_t *pack(enum fmt f, const uint8_t *in, size_t n, size_t *out_len)
{
	size_t cap = n + n / 2 + (1 << 16), len = 0;
	uint8_t *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	switch (f) {
	case GZ: {
		z_stream zs = { 0 };
		ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
				 Z_OK);
		zs.next_in = (Bytef *)in;
		zs.avail_in = (uInt)n;
		zs.next_out = out;
		zs.avail_out = (uInt)cap;
		ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
		len = zs.total_out;
		deflateEnd(&zs);
		*out_len = len;
		return out; /* gzip carries its size (ISIZE): nothing appended */
	}
	case XZ:
		ck_assert_int_eq(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC32, NULL, in, n, out, &len,
							 cap),
				 LZMA_OK);
		break;
	case LZMA: {
		lzma_stream s = LZMA_STREAM_INIT;
		lzma_options_lzma opt;
		ck_assert(!lzma_lzma_preset(&opt, 0));
		ck_assert_int_eq(lzma_alone_encoder(&s, &opt), LZMA_OK);
		s.next_in = in;
		s.avail_in = n;
		s.next_out = out;
		s.avail_out = cap;
		ck_assert_int_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
		len = s.total_out;
		lzma_end(&s);
		break;
	}
	case BZ2: {
		unsigned dl = (unsigned)cap;
		ck_assert_int_eq(BZ2_bzBuffToBuffCompress((char *)out, &dl, (char *)in, (unsigned)n,
							  1, 0, 0),
				 BZ_OK);
		len = dl;
		break;
	}
	case LZ4: { /* the legacy frame: magic, then [le32 size][block] per 8 MiB */
		put32(out, 0x184c2102);
		len = 4;
		for (size_t off = 0; off < n; off += 8u << 20) {
			size_t chunk = n - off < (8u << 20) ? n - off : 8u << 20;
			int c = LZ4_compress_default((const char *)in + off, (char *)out + len + 4,
						     (int)chunk, (int)(cap - len - 4));
			ck_assert_int_gt(c, 0);
			put32(out + len, (uint32_t)c);
			len += 4 + (size_t)c;
		}
		break;
	}
	case ZST:
		len = ZSTD_compress(out, cap, in, n, 1);
		ck_assert(!ZSTD_isError(len));
		break;
	default:
		ck_abort();
	}
	put32(out + len, (uint32_t)n); /* the size Linux's build appends */
	*out_len = len + 4;
	return out;
}

/* A bzImage (boot protocol 2.15) with payload[0..n) at 0x400 + 0x10. */
static uint8_t *bzimage(const uint8_t *payload, size_t n, size_t *size)
{
	uint8_t *bz = calloc(1, 0x410 + n);

	ck_assert_ptr_nonnull(bz);
	bz[0x1f1] = 1; /* one setup sector: code at 0x400 */
	bz[0x1fe] = 0x55;
	bz[0x1ff] = 0xaa;
	memcpy(bz + 0x202, "HdrS", 4);
	bz[0x206] = 0x0f;
	bz[0x207] = 0x02;
	put32(bz + 0x248, 0x10);
	put32(bz + 0x24c, (uint32_t)n);
	memcpy(bz + 0x410, payload, n);
	*size = 0x410 + n;
	return bz;
}

/* A stand-in for vmlinux: ELF magic, then bytes that compress but not to nothing. */
static uint8_t *kernel(size_t n)
{
	uint8_t *k = malloc(n);
	uint32_t x = 12345;

	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		k[i] = (uint8_t)((x >> 16) & 0x0f); /* low entropy */
	}
	memcpy(k, "\177ELF", 4);
	return k;
}

#define MAX (64u << 20)

START_TEST(every_format_round_trips)
{
	const size_t n = (9u << 20) + 123; /* two lz4 blocks */
	uint8_t *k = kernel(n);

	for (int f = 0; f < NFMT; f++) {
		size_t zlen, bzlen, outlen;
		uint8_t *z = pack(f, k, n, &zlen), *bz;
		void *out;

		ck_assert(sv_is_compressed(z, zlen));
		/* Bare, as a compressed file. */
		ck_assert_int_eq(sv_kernel_unpack(z, zlen, MAX, &out, &outlen, err, sizeof(err)), 0);
		ck_assert_msg(out && outlen == n && !memcmp(out, k, n), "%s bare", names[f]);
		free(out);
		/* In a bzImage, as Debian's vmlinuz. */
		bz = bzimage(z, zlen, &bzlen);
		ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
				 0);
		ck_assert_msg(out && outlen == n && !memcmp(out, k, n), "%s bzImage", names[f]);
		free(out);
		free(bz);
		free(z);
	}
	free(k);
}
END_TEST

START_TEST(plain_files_are_left_alone)
{
	uint8_t *k = kernel(4096);
	size_t bzlen, outlen = 1;
	void *out = (void *)1;
	uint8_t *bz;

	ck_assert(!sv_is_compressed(k, 4096));
	ck_assert_int_eq(sv_kernel_unpack(k, 4096, MAX, &out, &outlen, err, sizeof(err)), 0);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(outlen, 0);
	/* An uncompressed payload is the ELF itself, copied. */
	bz = bzimage(k, 4096, &bzlen);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)), 0);
	ck_assert(out && outlen == 4096 && !memcmp(out, k, 4096));
	free(out);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, 4095, &out, &outlen, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_null(out);
	free(bz);
	free(k);
}
END_TEST

START_TEST(hostile_bzimage_headers)
{
	uint8_t *k = kernel(1 << 16), *z, *bz;
	size_t zlen, bzlen, outlen;
	void *out;

	z = pack(ZST, k, 1 << 16, &zlen);
	bz = bzimage(z, zlen, &bzlen);
	/* The payload runs past the end of the file (a cut download). */
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen - 1, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	{
		char want[96];
		snprintf(want, sizeof(want), "bzImage payload lies outside the file (%zu bytes)",
			 bzlen - 1);
		ck_assert_str_eq(err, want);
	}
	ck_assert_ptr_null(out);
	/* An offset or length that wraps. */
	put32(bz + 0x248, 0xfffffff0);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	put32(bz + 0x248, 0x10);
	put32(bz + 0x24c, 0xffffffff);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	put32(bz + 0x24c, 0);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	put32(bz + 0x24c, (uint32_t)zlen);
	/* A protocol older than 2.08 has no payload fields. */
	bz[0x206] = 0x07;
	bz[0x207] = 0x02;
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "bzImage boot protocol 2.07 is older than 2.08: no payload to load "
			      "as a PV kernel");
	bz[0x206] = 0x0f;
	/* A payload in no format we know, and LZO (which Xen takes and we do not). */
	memcpy(bz + 0x410, "JUNK", 4);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "bzImage payload is neither an ELF kernel nor compressed in a known "
			      "format");
	memcpy(bz + 0x410, "\x89LZO", 4);
	ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, MAX, &out, &outlen, err, sizeof(err)),
			 -EOPNOTSUPP);
	ck_assert_ptr_null(out);
	/* A setup header cut short. */
	ck_assert_int_eq(sv_kernel_unpack(bz, 0x207, MAX, &out, &outlen, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(sv_kernel_unpack(NULL, 0, MAX, &out, &outlen, err, sizeof(err)), -EINVAL);
	free(bz);
	free(z);
	free(k);
}
END_TEST

START_TEST(truncated_and_corrupt_streams)
{
	const size_t n = 1 << 18;
	uint8_t *k = kernel(n);

	for (int f = 0; f < NFMT; f++) {
		size_t zlen, outlen;
		uint8_t *z = pack(f, k, n, &zlen);
		void *out;
		int r;

		/* Cut in the middle: never a success, never a crash, nothing left allocated. */
		for (size_t cut = 1; cut < zlen - 8; cut += zlen / 37 + 1) {
			r = sv_kernel_unpack(z, cut, MAX, &out, &outlen, err, sizeof(err));
			if (r == 0) { /* too short to be recognised: left as it is */
				ck_assert_msg(out == NULL, "%s cut %zu", names[f], cut);
				continue;
			}
			ck_assert_msg(r == -EINVAL || r == -EFBIG, "%s cut %zu: %d", names[f], cut, r);
			ck_assert_ptr_null(out);
		}
		r = sv_kernel_unpack(z, zlen / 2, MAX, &out, &outlen, err, sizeof(err));
		if (f == GZ) /* gzip's size is its last four bytes: here, whatever the cut left */
			ck_assert(r == -EINVAL || r == -EFBIG);
		else
			ck_assert_msg(r == -EINVAL && strstr(err, names[f]) &&
					  (strstr(err, "truncated") || strstr(err, "corrupt")),
				      "%s: %d %s", names[f], r, err);
		/* Bytes flipped in the middle of the data. */
		for (size_t i = zlen / 3; i < zlen / 3 + 16; i++)
			z[i] ^= 0xa5;
		r = sv_kernel_unpack(z, zlen, MAX, &out, &outlen, err, sizeof(err));
		if (r == 0) { /* a stream without a checksum may still decode: never to the original */
			ck_assert_msg(outlen != n || memcmp(out, k, n), "%s", names[f]);
			free(out);
		} else {
			ck_assert_ptr_null(out);
		}
		free(z);
	}
	free(k);
}
END_TEST

START_TEST(bombs_stop_at_the_cap)
{
	const size_t n = 24u << 20;
	uint8_t *zero = calloc(1, n);

	ck_assert_ptr_nonnull(zero);
	memcpy(zero, "\177ELF", 4);
	for (int f = 0; f < NFMT; f++) {
		size_t zlen, bzlen, outlen;
		uint8_t *z = pack(f, zero, n, &zlen), *bz;
		void *out;

		ck_assert_uint_lt(zlen, n / 100); /* a real bomb */
		bz = bzimage(z, zlen, &bzlen);
		ck_assert_int_eq(sv_kernel_unpack(bz, bzlen, 8u << 20, &out, &outlen, err, sizeof(err)),
				 -EFBIG);
		ck_assert_ptr_null(out);
		ck_assert_msg(strstr(err, "more than the 8 MiB allowed"), "%s: %s", names[f], err);
		free(bz);
		free(z);
	}
	free(zero);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf_unpack");
	TCase *tc = tcase_create("unpack");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_format_round_trips);
	tcase_add_test(tc, plain_files_are_left_alone);
	tcase_add_test(tc, hostile_bzimage_headers);
	tcase_add_test(tc, truncated_and_corrupt_streams);
	tcase_add_test(tc, bombs_stop_at_the_cap);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
