// SPDX-License-Identifier: MIT
/* dom0's own xenstore nodes, written once the store is up (what Xen's xen-init-dom0 does). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>
#include "svc.h"

/*
 * The supervisor must never hang on a store that does not answer (a
 * wedged or stand-in xenstored): the whole exchange gets
 * SVC_DOM0_XS_TIMEOUT_MS, spoken directly on the socket with poll rather
 * than through libxenstore, whose calls block without limit.
 */
#define SVC_DOM0_XS_TIMEOUT_MS 1000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move len bytes in direction POLLIN/POLLOUT before the deadline; 0 or -errno. */
static int xfer(int fd, void *buf, size_t len, short ev, int64_t deadline)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = ev };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = ev == POLLIN ? read(fd, p, len) : send(fd, p, len, MSG_NOSIGNAL);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One XS_WRITE of path=value, and its answer; 0 or -errno. */
static int xs_put(int fd, uint32_t id, const char *path, const char *value, int64_t deadline)
{
	size_t plen = strlen(path) + 1, vlen = strlen(value);
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = id, .len = (uint32_t)(plen + vlen) };
	char body[256], reply[64];
	int ret;

	if (plen + vlen > sizeof(body))
		return -EINVAL;
	memcpy(body, path, plen);
	memcpy(body + plen, value, vlen);
	ret = xfer(fd, &h, sizeof(h), POLLOUT, deadline);
	if (!ret)
		ret = xfer(fd, body, plen + vlen, POLLOUT, deadline);
	if (!ret)
		ret = xfer(fd, &h, sizeof(h), POLLIN, deadline);
	if (ret)
		return ret;
	if (h.len > sizeof(reply))
		return -EPROTO;
	ret = xfer(fd, reply, h.len, POLLIN, deadline);
	if (ret)
		return ret;
	return h.type == XS_WRITE && h.req_id == id ? 0 : -EPROTO;
}

/*
 * Xen's toolstack learns dom0's name from /local/domain/0/name (libxl's
 * libxl_domid_to_name): on Xen, xen-init-dom0 writes it at boot.  Our xl
 * knows dom0 is "Domain-0" by itself; Debian's xl and xentop read the
 * node.  Writes /local/domain/0/name and /local/domain/0/domid (and the
 * pool name, /local/pool/0/name) through the
 * store at XENSTORED_PATH (owned by dom0, readable by nobody else: the
 * store's default for a node dom0 creates).  Values already there (a
 * restarted xenstored keeps its tree) are written again.  0 or -errno.
 */
int svc_dom0_xenstore(void)
{
	const char *path = getenv("XENSTORED_PATH");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + SVC_DOM0_XS_TIMEOUT_MS;
	int fd, ret;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = xs_put(fd, 1, "/local/domain/0/name", "Domain-0", deadline);
	if (!ret)
		ret = xs_put(fd, 2, "/local/domain/0/domid", "0", deadline);
	/* The one CPU pool's name, as Xen's toolstack keeps it (libxl asks it of each domain). */
	if (!ret)
		ret = xs_put(fd, 3, "/local/pool/0/name", "Pool-0", deadline);
	close(fd);
	return ret;
}
