// SPDX-License-Identifier: MIT
// Node permissions: the owner + ACL rules of Xen's xenstored, and the "b0"/"r5" wire strings.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xenstored.h"

/*
 * Xen's rule: privileged callers and the owner (or a domain targeting the
 * owner) get everything; otherwise the first ACL entry naming the caller or
 * its target decides; otherwise entry 0's bits are everyone's default.
 */
unsigned int xs_perms_for(const struct xs_caller *who, const struct xs_perm *p, uint32_t np)
{
	uint32_t i;

	if (who->privileged || p[0].id == who->domid ||
	    (who->target >= 0 && p[0].id == (unsigned int)who->target))
		return XS_PERM_BOTH;
	for (i = 1; i < np; i++)
		if (p[i].id == who->domid ||
		    (who->target >= 0 && p[i].id == (unsigned int)who->target))
			return p[i].perm;
	return p[0].perm;
}

bool xs_perms_can(const struct xs_caller *who, const struct xs_node *n, unsigned int want)
{
	return (xs_perms_for(who, n->perms, n->nperms) & want) == want;
}

int xs_perms_parse(const char *s, struct xs_perm *out)
{
	unsigned int domid;

	switch (s[0]) {
	case 'n':
		out->perm = XS_PERM_NONE;
		break;
	case 'r':
		out->perm = XS_PERM_READ;
		break;
	case 'w':
		out->perm = XS_PERM_WRITE;
		break;
	case 'b':
		out->perm = XS_PERM_BOTH;
		break;
	default:
		return -EINVAL;
	}
	if (xs_wire_parse_domid(s + 1, &domid))
		return -EINVAL;
	out->id = (uint16_t)domid;
	return 0;
}

int xs_perms_format(const struct xs_perm *p, uint32_t np, char *buf, size_t len)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	size_t off = 0;
	uint32_t i;

	for (i = 0; i < np; i++) {
		int n = snprintf(buf + off, len - off, "%c%u", letter[p[i].perm & 3], p[i].id);

		if (n < 0 || (size_t)n + 1 > len - off)
			return -E2BIG;
		off += (size_t)n + 1; /* keep the NUL as separator */
	}
	return (int)off;
}
