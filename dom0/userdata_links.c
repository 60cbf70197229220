// SPDX-License-Identifier: MIT
/* The run directory's notes of libxl records (userdata_links.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "userdata_links.h"

#define RECORD_PREFIX SV_XEN_LIB_DIR "/userdata-d."

static int link_path(char *buf, size_t len, const char *rundir, uint32_t domid)
{
	int n = snprintf(buf, len, "%s/" SV_USERDATA_DIR "/d%u", rundir, domid);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

void sv_userdata_link(const char *rundir, uint32_t domid, const char *path)
{
	char dir[PATH_MAX], link[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s/" SV_USERDATA_DIR, rundir) >= (int)sizeof(dir) ||
	    link_path(link, sizeof(link), rundir, domid))
		return;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return;
	unlink(link);
	if (symlink(path, link))
		return; /* the record stays until xl destroy or the monitor remove it */
}

void sv_userdata_unlink(const char *rundir, uint32_t domid)
{
	char link[PATH_MAX];

	if (!link_path(link, sizeof(link), rundir, domid))
		unlink(link);
}

/*
 * Remove libxl's files of the domain a record names: userdata-?.DOMID.UUID.*
 * (the record, and the lock libxl keeps beside it).  1 if the record went.
 */
static int remove_records(const char *record)
{
	const char *id = record + strlen(RECORD_PREFIX), *dot;
	char key[96];
	struct dirent *e;
	int n, removed = 0;
	DIR *d;

	dot = strchr(id, '.');
	dot = dot ? strchr(dot + 1, '.') : NULL; /* after DOMID.UUID */
	if (!dot || strchr(id, '/') || dot - id + 3 > (long)sizeof(key))
		return 0;
	n = snprintf(key, sizeof(key), ".%.*s.", (int)(dot - id), id);
	d = opendir(SV_XEN_LIB_DIR);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "userdata-", 9) && e->d_name[9] &&
		    !strncmp(e->d_name + 10, key, (size_t)n) && !unlinkat(dirfd(d), e->d_name, 0) &&
		    e->d_name[9] == 'd')
			removed = 1;
	}
	closedir(d);
	return removed;
}

int sv_userdata_sweep(const char *rundir)
{
	char dir[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	int removed = 0;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/" SV_USERDATA_DIR, rundir) >= (int)sizeof(dir))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] != 'd')
			continue;
		n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			/* Only libxl's files, never another path a link was bent to. */
			if (!strncmp(target, RECORD_PREFIX, strlen(RECORD_PREFIX)))
				removed += remove_records(target);
		}
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	rmdir(dir);
	return removed;
}
