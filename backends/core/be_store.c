// SPDX-License-Identifier: MIT
/* Typed xenstore helpers shared by the host backends (see be_store.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "be_store.h"

int be_path(char *buf, size_t cap, const char *dir, const char *node)
{
	int n;

	if (node && node[0])
		n = snprintf(buf, cap, "%s/%s", dir, node);
	else
		n = snprintf(buf, cap, "%s", dir);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

char *be_read(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node)
{
	char path[512];
	unsigned int len = 0;
	char *v;

	if (be_path(path, sizeof(path), dir, node)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	errno = 0;
	v = xs_read(xs, t, path, &len);
	if (!v) {
		if (!errno)
			errno = ENOENT;
		return NULL;
	}
	/* A guest may write anything: a value with an embedded NUL is no value. */
	if (strlen(v) != len) {
		free(v);
		errno = EINVAL;
		return NULL;
	}
	return v;
}

int be_parse_uint(const char *s, size_t len, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= limit)
		return -ERANGE;
	*out = v;
	return 0;
}

bool be_parse_dirent(const char *s, size_t len, uint64_t limit, uint32_t *out)
{
	uint64_t v;

	if ((len > 1 && s[0] == '0') || limit > (uint64_t)UINT32_MAX + 1)
		return false;
	if (be_parse_uint(s, len, limit, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

int be_read_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		 uint64_t limit, uint64_t *out)
{
	char *v = be_read(xs, t, dir, node);
	int ret;

	if (!v)
		return -errno;
	ret = be_parse_uint(v, strlen(v), limit, out);
	free(v);
	return ret;
}

bool be_read_flag(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		  bool def)
{
	uint64_t v;

	return be_read_uint(xs, t, dir, node, UINT64_MAX, &v) ? def : v != 0;
}

int be_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
	      const char *fmt, ...)
{
	char path[512], val[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val) || be_path(path, sizeof(path), dir, node))
		return -ENAMETOOLONG;
	errno = 0;
	if (!xs_write(xs, t, path, val, (unsigned int)n))
		return errno ? -errno : -EIO;
	return 0;
}

int be_transaction(struct xs_handle *xs,
		   int (*fn)(struct xs_handle *xs, xs_transaction_t t, void *arg), void *arg)
{
	for (int tries = 0;; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		int ret;

		if (t == XBT_NULL)
			return errno ? -errno : -EIO;
		ret = fn(xs, t, arg);
		if (ret) {
			xs_transaction_end(xs, t, true);
			return ret;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN || tries >= 10)
			return errno ? -errno : -EIO;
	}
}

bool be_store_lost(int err)
{
	return err != -ENOENT && err != -EACCES && err != -EINVAL && err != -ERANGE &&
	       err != -E2BIG && err != -ENAMETOOLONG && err != 0;
}

int be_watch_drain(struct xs_handle *xs, void (*fn)(void *arg, const char *path, const char *token),
		   void *arg)
{
	int n = 0;
	char **ev;

	while ((ev = xs_check_watch(xs)) != NULL) {
		if (fn)
			fn(arg, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		free(ev);
		n++;
	}
	/* Anything but "no more events": the connection to xenstored is gone. */
	if (errno != EAGAIN)
		return errno ? -errno : -EIO;
	return n;
}

int be_store_canary_open(void)
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
