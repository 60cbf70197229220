// SPDX-License-Identifier: MIT
// The client protocol of xenconsoled.sock: the one request line a client sends.
#ifndef SV_CONS_PROTO_H
#define SV_CONS_PROTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * A client connects to DIR/xenconsoled.sock and sends one line:
 *   "attach <domid>\n"     domid decimal, 1..DOMID_FIRST_RESERVED-1
 * and reads back "ok\n" or "error <message>\n".  After "ok" the socket
 * carries raw console bytes both ways.
 */
#define CONS_PROTO_MAX_LINE 64

enum cons_proto_cmd {
	CONS_PROTO_ATTACH = 1,
};

struct cons_proto_req {
	enum cons_proto_cmd cmd;
	uint32_t domid;
};

/*
 * Parse the request line at the start of BUF (LEN bytes received so far).
 * Returns 1 with *REQ filled and *CONSUMED the line length including '\n'
 * (later bytes are console input); 0 when more bytes are needed;
 * -EINVAL for a malformed line, -E2BIG for a line longer than
 * CONS_PROTO_MAX_LINE, -ERANGE for a domid out of range.  *ERR (if non-NULL)
 * then names the problem for the "error" reply.
 */
int cons_proto_parse(const char *buf, size_t len, struct cons_proto_req *req, size_t *consumed,
		     const char **err);

#endif
