// SPDX-License-Identifier: MIT
// Wire-format helpers for the xenstore protocol: header checks, payload string splitting, path
// rules, error names.
#ifndef XS_WIRE_H
#define XS_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

/* Most strings any request carries (SET_PERMS: path + perms, CONTROL: argv). */
#define XS_MAX_ARGS 64

/* Header size on the wire. */
#define XS_HDR_SIZE ((uint32_t)sizeof(struct xsd_sockmsg))

/* Domain path prefix; relative paths are taken below /local/domain/<domid>. */
#define XS_DOMAIN_ROOT "/local/domain/"

/* What xs_wire_check_header() decided about a header. */
enum xs_hdr_verdict {
	XS_HDR_OK = 0,	 /* well-formed; payload of hdr->len bytes follows */
	XS_HDR_TOO_LONG, /* len over XENSTORE_PAYLOAD_MAX: drop the client */
	XS_HDR_BAD_TYPE, /* unknown type: answer EINVAL, keep the client */
};

/* A request split into its NUL-terminated strings; pointers into the copy. */
struct xs_args {
	unsigned int n; /* strings found */
	const char *s[XS_MAX_ARGS];
	const char *tail; /* bytes after the last NUL (may be none) */
	uint32_t tail_len;
};

enum xs_hdr_verdict xs_wire_check_header(const struct xsd_sockmsg *hdr);

/*
 * Split @len bytes of @buf into NUL-terminated strings. Returns the number
 * found (at most @max) and sets @args->tail to the unterminated rest.
 */
unsigned int xs_wire_split(const char *buf, uint32_t len, unsigned int max, struct xs_args *args);

/* Xen's errno name ("EINVAL") for an errno value; "EIO" if it has none. */
const char *xs_wire_errname(int err);

/* Message type name for logs ("READ"), or "UNKNOWN". */
const char *xs_wire_typename(uint32_t type);

/* True if @name is a well-formed absolute path (or "@special" if allowed). */
bool xs_wire_path_valid(const char *name, bool allow_special);

/*
 * Turn a request path into an absolute path in @out (size @outsz): relative
 * paths are placed under /local/domain/<domid>/. Returns 0, or -EINVAL when
 * the path is malformed or too long.
 */
int xs_wire_canonical(const char *name, unsigned int domid, bool allow_special, char *out,
		      size_t outsz);

/* True if @child equals @parent or lies below it ("/" is everyone's parent). */
bool xs_wire_is_child(const char *child, const char *parent);

/* Parse a decimal domid 0..65535 (whole string). Returns 0 or -EINVAL. */
int xs_wire_parse_domid(const char *s, unsigned int *domid);

#endif
