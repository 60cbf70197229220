// SPDX-License-Identifier: MIT
/*
 * The typed xenstore helpers' connections (see include/sv/svxs.h): opening
 * and closing, the canary.  Apart from svxs.c so a suite that fakes
 * libxenstore's node calls links svxs.c alone.
 */
#include <errno.h>
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
