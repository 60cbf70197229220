// SPDX-License-Identifier: MIT
/* xl_boot: a kernel or ramdisk named by a bare file name is looked up beside xl's own installation.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "xl_boot.h"

/* The folder of the running xl into dir; 0 or -errno. */
static int xl_boot_self_dir(char *dir, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(dir, len, "%s", self) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int xl_boot_path(const char *given, char *out, size_t len)
{
	static const char *const dirs[] = { XL_BOOT_DIR_INSTALLED, XL_BOOT_DIR_BUILD };
	char self[PATH_MAX], path[PATH_MAX];
	size_t i;

	if ((size_t)snprintf(out, len, "%s", given) >= len)
		return -ENAMETOOLONG;
	if (!given[0] || strchr(given, '/') || access(given, F_OK) == 0)
		return 0;
	if (xl_boot_self_dir(self, sizeof(self)))
		return 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", self, dirs[i], given) >=
		    sizeof(path))
			continue;
		if (access(path, R_OK) == 0) {
			if ((size_t)snprintf(out, len, "%s", path) >= len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	return 0;
}
