// SPDX-License-Identifier: MIT
/* Typed xenstore helpers shared by the backends and xl (see include/sv/svxs.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv/svxs.h"

int svxs_path(char *buf, size_t cap, const char *dir, const char *node)
{
	int n;

	if (node && node[0])
		n = snprintf(buf, cap, "%s/%s", dir, node);
	else
		n = snprintf(buf, cap, "%s", dir);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

char *svxs_read(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node)
{
	char path[512];
	unsigned int len = 0;
	char *v;

	if (svxs_path(path, sizeof(path), dir, node)) {
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

int svxs_parse_uint(const char *s, size_t len, uint64_t limit, uint64_t *out)
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

bool svxs_parse_dirent(const char *s, size_t len, uint64_t limit, uint32_t *out)
{
	uint64_t v;

	if ((len > 1 && s[0] == '0') || limit > (uint64_t)UINT32_MAX + 1)
		return false;
	if (svxs_parse_uint(s, len, limit, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

int svxs_read_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		   uint64_t limit, uint64_t *out)
{
	char *v = svxs_read(xs, t, dir, node);
	int ret;

	if (!v)
		return -errno;
	ret = svxs_parse_uint(v, strlen(v), limit, out);
	free(v);
	return ret;
}

int64_t svxs_read_num(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		      int64_t def)
{
	uint64_t v;

	return svxs_read_uint(xs, t, dir, node, (uint64_t)INT64_MAX, &v) ? def : (int64_t)v;
}

bool svxs_read_flag(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		    bool def)
{
	uint64_t v;

	return svxs_read_uint(xs, t, dir, node, UINT64_MAX, &v) ? def : v != 0;
}

void svxs_domain_dir(char *buf, uint32_t domid)
{
	snprintf(buf, SVXS_DOMAIN_DIR_MAX, "/local/domain/%u", domid);
}

/* DIR/NODE = the len bytes of val. */
static int write_len(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		     const char *val, size_t len)
{
	char path[512];

	if (svxs_path(path, sizeof(path), dir, node))
		return -ENAMETOOLONG;
	errno = 0;
	if (!xs_write(xs, t, path, val, (unsigned int)len))
		return errno ? -errno : -EIO;
	return 0;
}

int svxs_write(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
	       const char *value)
{
	return write_len(xs, t, dir, node, value, strlen(value));
}

int svxs_vformat(char *val, const char *fmt, va_list ap)
{
	int n = vsnprintf(val, SVXS_VALUE_MAX + 1, fmt, ap);

	return n < 0 || n > SVXS_VALUE_MAX ? -ENAMETOOLONG : n;
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

/* DIR/NODE = the printf-formatted value, then (perms not NULL) its permissions. */
static int vprintf_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir,
			 const char *node, const struct xs_permissions *perms, unsigned nperms,
			 const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));
static int vprintf_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir,
			 const char *node, const struct xs_permissions *perms, unsigned nperms,
			 const char *fmt, va_list ap)
{
	char val[SVXS_VALUE_MAX + 1];
	int n = svxs_vformat(val, fmt, ap);

	return n < 0 ? n : svxs_write_perms(xs, t, dir, node, val, perms, nperms);
}

int svxs_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vprintf_perms(xs, t, dir, node, NULL, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int svxs_printf_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		      const struct xs_permissions *perms, unsigned nperms, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vprintf_perms(xs, t, dir, node, perms, nperms, fmt, ap);
	va_end(ap);
	return ret;
}

int svxs_transaction_at(struct xs_handle *xs, svxs_tx_fn *fn, void *arg, enum svxs_tx_step *step)
{
	enum svxs_tx_step dummy;

	if (!step)
		step = &dummy;
	for (int tries = 0;; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		int ret;

		if (t == XBT_NULL) {
			*step = SVXS_TX_START;
			return errno ? -errno : -EIO;
		}
		ret = fn(xs, t, arg);
		if (ret) {
			int saved = errno;

			xs_transaction_end(xs, t, true);
			errno = saved;
			*step = SVXS_TX_FN;
			return ret;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN || tries >= 9) {
			*step = SVXS_TX_COMMIT;
			return errno ? -errno : -EIO;
		}
	}
}

int svxs_transaction(struct xs_handle *xs, svxs_tx_fn *fn, void *arg)
{
	return svxs_transaction_at(xs, fn, arg, NULL);
}

bool svxs_lost(int err)
{
	return err != -ENOENT && err != -EACCES && err != -EINVAL && err != -ERANGE &&
	       err != -E2BIG && err != -ENAMETOOLONG && err != 0;
}

int svxs_watch_drain(struct xs_handle *xs,
		     void (*fn)(void *arg, const char *path, const char *token), void *arg)
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
