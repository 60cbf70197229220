// SPDX-License-Identifier: MIT
/* dom0's own xenstore nodes, written once the store is up (what Xen's xen-init-dom0 does). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <xenstore.h>
#include "svc.h"

/*
 * Xen's toolstack learns dom0's name from /local/domain/0/name (libxl's
 * libxl_domid_to_name): on Xen, xen-init-dom0 writes it at boot.  Our xl
 * knows dom0 is "Domain-0" by itself; Debian's xl and xentop read the
 * node.  Writes /local/domain/0/name and /local/domain/0/domid, owned by
 * dom0 and readable by nobody else ("n0", the store's default for a new
 * node dom0 writes).  Existing values (a restarted xenstored keeps its
 * tree) are simply written again.  0 or -errno.
 */
int svc_dom0_xenstore(void)
{
	struct xs_handle *xs = xs_open(XS_OPEN_SOCKETONLY);
	bool ok;

	if (!xs)
		return errno ? -errno : -EIO;
	ok = xs_write(xs, XBT_NULL, "/local/domain/0/name", "Domain-0", strlen("Domain-0")) &&
	     xs_write(xs, XBT_NULL, "/local/domain/0/domid", "0", 1);
	int err = errno;
	xs_close(xs);
	return ok ? 0 : -(err ? err : EIO);
}
