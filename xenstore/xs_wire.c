// SPDX-License-Identifier: MIT
// Wire-format helpers for the xenstore protocol: header checks, payload string splitting, path
// rules, error names.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_wire.h"

static const char *const xs_type_names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

enum xs_hdr_verdict xs_wire_check_header(const struct xsd_sockmsg *hdr)
{
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return XS_HDR_TOO_LONG;
	if (hdr->type >= XS_TYPE_COUNT || !xs_type_names[hdr->type])
		return XS_HDR_BAD_TYPE;
	/* Replies and events are never valid requests. */
	if (hdr->type == XS_WATCH_EVENT || hdr->type == XS_ERROR)
		return XS_HDR_BAD_TYPE;
	return XS_HDR_OK;
}

unsigned int xs_wire_split(const char *buf, uint32_t len, unsigned int max, struct xs_args *args)
{
	uint32_t off = 0;

	args->n = 0;
	while (off < len && args->n < max) {
		const char *nul = memchr(buf + off, '\0', len - off);

		if (!nul)
			break;
		args->s[args->n++] = buf + off;
		off = (uint32_t)(nul - buf) + 1;
	}
	args->tail = buf + off;
	args->tail_len = len - off;
	return args->n;
}

const char *xs_wire_errname(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EIO";
}

const char *xs_wire_typename(uint32_t type)
{
	if (type < XS_TYPE_COUNT && xs_type_names[type])
		return xs_type_names[type];
	return "UNKNOWN";
}

static bool xs_wire_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '/' || c == '_' || c == '@';
}

bool xs_wire_path_valid(const char *name, bool allow_special)
{
	size_t len = strlen(name);
	size_t i;

	if (len == 0 || len > XENSTORE_ABS_PATH_MAX)
		return false;
	if (name[0] == '@') {
		/* Special watch paths: any printable name after '@'. */
		if (!allow_special || len < 2)
			return false;
		for (i = 1; i < len; i++)
			if (!xs_wire_char_ok(name[i]) || name[i] == '@')
				return false;
		return true;
	}
	if (name[0] != '/')
		return false;
	if (len > 1 && name[len - 1] == '/')
		return false;
	for (i = 0; i < len; i++) {
		if (!xs_wire_char_ok(name[i]))
			return false;
		if (name[i] == '/' && name[i + 1] == '/')
			return false;
	}
	return true;
}

int xs_wire_canonical(const char *name, unsigned int domid, bool allow_special, char *out,
		      size_t outsz)
{
	int n;

	if (name[0] == '/' || name[0] == '@') {
		n = snprintf(out, outsz, "%s", name);
	} else {
		if (strlen(name) > XENSTORE_REL_PATH_MAX || name[0] == '\0')
			return -EINVAL;
		n = snprintf(out, outsz, XS_DOMAIN_ROOT "%u/%s", domid, name);
	}
	if (n < 0 || (size_t)n >= outsz)
		return -EINVAL;
	return xs_wire_path_valid(out, allow_special) ? 0 : -EINVAL;
}

bool xs_wire_is_child(const char *child, const char *parent)
{
	size_t plen = strlen(parent);

	if (parent[0] == '/' && parent[1] == '\0')
		return child[0] == '/';
	if (strncmp(child, parent, plen) != 0)
		return false;
	return child[plen] == '\0' || child[plen] == '/';
}

int xs_wire_parse_domid(const char *s, unsigned int *domid)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*domid = (unsigned int)v;
	return 0;
}
