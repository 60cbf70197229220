// SPDX-License-Identifier: MIT
// The client protocol of xenconsoled.sock: the one request line a client sends.
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <xen/xen.h>

#include "cons_proto.h"

static int cons_proto_fail(const char **err, const char *msg, int ret)
{
	if (err)
		*err = msg;
	return ret;
}

/* Strict decimal: digits only, no sign, no leading zeros, below LIMIT. */
static int cons_proto_number(const char *s, size_t len, uint32_t limit, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= limit)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int cons_proto_parse(const char *buf, size_t len, struct cons_proto_req *req, size_t *consumed,
		     const char **err)
{
	static const char attach[] = "attach ";
	const char *nl = memchr(buf, '\n', len < CONS_PROTO_MAX_LINE ? len : CONS_PROTO_MAX_LINE);
	size_t line, alen = sizeof(attach) - 1;
	int ret;

	if (!nl) {
		if (len >= CONS_PROTO_MAX_LINE)
			return cons_proto_fail(err, "request line too long", -E2BIG);
		return 0;
	}
	line = (size_t)(nl - buf);
	/* Tolerate a CR before the LF (telnet-ish clients). */
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	if (line < alen || memcmp(buf, attach, alen) != 0)
		return cons_proto_fail(err, "unknown request (expected: attach <domid>)", -EINVAL);
	ret = cons_proto_number(buf + alen, line - alen, DOMID_FIRST_RESERVED, &req->domid);
	if (ret == -ERANGE)
		return cons_proto_fail(err, "domid out of range", ret);
	if (ret)
		return cons_proto_fail(err, "bad domid", ret);
	if (req->domid == 0)
		return cons_proto_fail(err, "domain 0 has no console ring", -ERANGE);
	req->cmd = CONS_PROTO_ATTACH;
	*consumed = (size_t)(nl - buf) + 1;
	return 1;
}
