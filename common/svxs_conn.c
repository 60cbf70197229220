// SPDX-License-Identifier: MIT
/*
 * The typed xenstore helpers' calls beyond values (see include/sv/svxs.h):
 * connecting, a node's permissions, the canary.  Apart from svxs.c so a
 * suite that fakes libxenstore's value calls links svxs.c alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sv/daemon.h"
#include "sv/svxs.h"

struct xs_handle *svxs_open(void)
{
	char path[4096];

	if (!getenv("XENSTORED_PATH")) {
		snprintf(path, sizeof(path), "%s/xenstored.sock", svd_rundir_default());
		setenv("XENSTORED_PATH", path, 0);
	}
	return xs_open(XS_OPEN_SOCKETONLY);
}

void svxs_close(struct xs_handle *xs)
{
	if (xs)
		xs_close(xs);
}

int svxs_write_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		     const char *value, const struct xs_permissions *perms, unsigned nperms)
{
	char path[512];
	int ret = svxs_write(xs, t, dir, node, value);

	if (ret || !perms)
		return ret;
	if (svxs_path(path, sizeof(path), dir, node))
		return -ENAMETOOLONG;
	errno = 0;
	/* libxenstore's prototype takes a non-const array it does not change. */
	if (!xs_set_permissions(xs, t, path, (struct xs_permissions *)perms, nperms))
		return errno ? -errno : -EIO;
	return 0;
}

int svxs_printf_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		      const struct xs_permissions *perms, unsigned nperms, const char *fmt, ...)
{
	char val[4097];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -ENAMETOOLONG;
	return svxs_write_perms(xs, t, dir, node, val, perms, nperms);
}

int svxs_canary_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("XENSTORED_PATH");
	int fd, ret;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}
