// SPDX-License-Identifier: MIT
/* The image behind a virtual block device: open, size, sector sizes, O_DIRECT and discard support.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blkback.h"

/*
 * O_DIRECT is used when the file system says (statx STATX_DIOALIGN) that
 * 512-byte aligned buffers and offsets are enough: guest segments are
 * 512-byte sectors inside granted pages.  Otherwise the page cache is used;
 * either way an acknowledged write is in the host kernel, so a blkback
 * crash cannot lose it, and a flush (fdatasync) puts it on stable storage.
 */
static bool blk_disk_dio_ok(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_DIOALIGN, &sx) < 0 || !(sx.stx_mask & STATX_DIOALIGN))
		return false;
	return sx.stx_dio_mem_align && sx.stx_dio_mem_align <= 512 && sx.stx_dio_offset_align &&
	       sx.stx_dio_offset_align <= 512;
}

int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, char *err, size_t errlen)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (stat(path, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	d->direct = blk_disk_dio_ok(path);
	d->fd = open(path, flags | (d->direct ? O_DIRECT : 0));
	if (d->fd < 0 && d->direct && errno == EINVAL) {
		d->direct = false;
		d->fd = open(path, flags);
	}
	if (d->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	d->readonly = readonly;
	d->sector_size = 512;
	d->physical_sector_size = 512;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		int lss = 512;
		unsigned pss = 512;

		d->is_bdev = true;
		if (ioctl(d->fd, BLKGETSIZE64, &bytes) < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: cannot get its size: %s", path, strerror(errno));
			goto out_close;
		}
		if (ioctl(d->fd, BLKSSZGET, &lss) == 0 && lss >= 512 && lss <= 65536)
			d->sector_size = (uint32_t)lss;
		if (ioctl(d->fd, BLKPBSZGET, &pss) == 0 && pss >= 512 && pss <= 65536)
			d->physical_sector_size = pss;
		d->sectors = bytes >> BLK_SECTOR_SHIFT;
	} else {
		d->sectors = (uint64_t)st.st_size >> BLK_SECTOR_SHIFT;
		if (st.st_blksize >= 512 && st.st_blksize <= 65536)
			d->physical_sector_size = (uint32_t)st.st_blksize;
	}
	/* Holes in files (fallocate PUNCH_HOLE); zeroing for block devices. */
	d->can_discard = !readonly;
	d->discard_granularity = d->physical_sector_size;
	return 0;

out_close:
	close(d->fd);
	d->fd = -1;
	return ret;
}

void blk_disk_close(struct blk_disk *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}
