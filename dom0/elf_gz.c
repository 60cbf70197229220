// SPDX-License-Identifier: MIT
/* gzip-compressed kernels, as Xen's xc_dom_try_gzip takes them: inflated with zlib, bounded. */
#include "elf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

bool sv_is_gzip(const void *data, size_t size)
{
	const uint8_t *p = data;

	return data && size >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/*
 * Like Xen, the output size is the gzip trailer's ISIZE (the last four
 * bytes, little endian).  Xen trusts it up to 1 GiB; we trust it up to
 * max, allocate exactly that, and require the stream to fill it exactly:
 * a member that inflates to more stops at the buffer's end and is
 * refused, so neither a lie nor a "bomb" makes us allocate more.
 */
int sv_gunzip(const void *data, size_t size, size_t max, void **out, size_t *out_size, char *err,
	      size_t errlen)
{
	const uint8_t *p = data;
	uint32_t isize;
	z_stream zs;
	uint8_t *buf;
	int zr, ret;

	*out = NULL;
	*out_size = 0;
	if (!sv_is_gzip(data, size))
		return sv_errf(-EINVAL, err, errlen, "not gzip data");
	if (size < 18) /* 10-byte header, empty deflate block, 8-byte trailer */
		return sv_errf(-EINVAL, err, errlen, "gzip data is truncated (%zu bytes)", size);
	if (size > UINT32_MAX)
		return sv_errf(-EFBIG, err, errlen, "compressed kernel is larger than 4 GiB");
	memcpy(&isize, p + size - 4, 4);
	if (isize > max)
		return sv_errf(-EFBIG, err, errlen,
			       "kernel decompresses to %u bytes, more than the %zu MiB allowed",
			       isize, max >> 20);
	if (isize == 0)
		return sv_errf(-EINVAL, err, errlen, "gzip data decompresses to nothing");
	buf = malloc(isize);
	if (!buf)
		return sv_errf(-ENOMEM, err, errlen, "out of memory for a %u-byte kernel", isize);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip wrapper only */
		free(buf);
		return sv_errf(-ENOMEM, err, errlen, "cannot start zlib");
	}
	/* One call: all the input, exactly isize bytes of room. */
	zs.next_in = (Bytef *)p;
	zs.avail_in = (uInt)size;
	zs.next_out = buf;
	zs.avail_out = isize;
	zr = inflate(&zs, Z_FINISH);
	if (zr == Z_STREAM_END && zs.total_out == isize && zs.avail_in == 0) {
		inflateEnd(&zs);
		*out = buf;
		*out_size = isize;
		return 0;
	}
	if (zr == Z_STREAM_END || (zr != Z_DATA_ERROR && zs.avail_out == 0))
		ret = sv_errf(-EINVAL, err, errlen,
			      "gzip data does not decompress to the %u bytes its trailer says",
			      isize);
	else if (zr == Z_BUF_ERROR && zs.avail_in == 0)
		ret = sv_errf(-EINVAL, err, errlen, "gzip data is truncated");
	else
		ret = sv_errf(-EINVAL, err, errlen, "gzip data is corrupt (%s)",
			      zs.msg ? zs.msg : "zlib error");
	inflateEnd(&zs);
	free(buf);
	return ret;
}
