// SPDX-License-Identifier: MIT
// xenconsoled's control plane: domains and their console keys in xenstore.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv/svxs.h"
#include "cons_daemon.h"

/*
 * Keys read, per domain N (written by the toolstack for PV guests):
 *   /local/domain/N/console/ring-ref   gfn (mfn for PV) of the ring page
 *   /local/domain/N/console/port       the guest's end of the event channel
 *   /local/domain/N/name               the name used for guest-NAME.log
 * Watches: @introduceDomain and @releaseDomain (full rescan) and
 * /local/domain (the one domain a path names is checked again).  The PV
 * console is no xenbus device (no backend directory, no states): it uses
 * the core's store helpers, not its device model.
 */
#define CONS_XS_ROOT "/local/domain"
#define CONS_XS_TOKEN_DOM "dom"
#define CONS_XS_TOKEN_INTRO "intro"
#define CONS_XS_TOKEN_RELEASE "release"

int cons_xs_watch(struct cons_daemon *d)
{
	errno = 0;
	if (!xs_watch(d->xs, "@introduceDomain", CONS_XS_TOKEN_INTRO) ||
	    !xs_watch(d->xs, "@releaseDomain", CONS_XS_TOKEN_RELEASE) ||
	    !xs_watch(d->xs, CONS_XS_ROOT, CONS_XS_TOKEN_DOM))
		return errno ? -errno : -EIO;
	return 0;
}

/* The pty's path in console/tty once (libxl's `xl create` waits for it, as with Xen's xenconsoled).
 */
static void cons_xs_publish_tty(struct cons_daemon *d, struct cons_domain *dom)
{
	char path[64], tty[64];

	if (dom->tty_published || dom->pty_master < 0)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/console/tty", dom->domid);
	if (ptsname_r(dom->pty_master, tty, sizeof(tty)) ||
	    !xs_write(d->xs, XBT_NULL, path, tty, strlen(tty))) {
		cons_log("domain %u: cannot write %s: %m", dom->domid, path);
		return;
	}
	dom->tty_published = true;
}

/*
 * Bring our view of domain DOMID in line with xenstore: drop it when its
 * console keys are gone (or the whole /local/domain/N went), connect it
 * when they appear, reconnect when they change.
 */
static void cons_xs_recheck(struct cons_daemon *d, uint32_t domid)
{
	struct cons_domain *dom = cons_domain_find(d, domid);
	uint64_t ref = 0, port = 0;
	char dir[32], *name;
	int ret;

	snprintf(dir, sizeof(dir), CONS_XS_ROOT "/%u", domid);
	ret = svxs_read_uint(d->xs, XBT_NULL, dir, "console/ring-ref", UINT64_MAX, &ref);
	if (!ret)
		ret = svxs_read_uint(d->xs, XBT_NULL, dir, "console/port", SVXS_MAX_PORT, &port);
	if (ret && svxs_lost(ret)) {
		/* Not the domain's fault: keep it, and let the loop end. */
		cons_log("xenstore failed reading domain %u: %s", domid, strerror(-ret));
		d->xs_failed = true;
		if (dom)
			dom->seen = true;
		return;
	}
	if (ret) {
		if (ret != -ENOENT)
			cons_log("domain %u: unusable console keys: %s", domid, strerror(-ret));
		if (dom)
			cons_domain_free(dom, ret == -ENOENT ? "its console keys are gone"
							     : "its console keys are unusable");
		return;
	}
	if (dom && dom->ring_ref == ref && dom->remote_port == port) {
		/* Unchanged: retry a connection that failed before. */
		if (!dom->intf && !dom->disabled)
			cons_domain_connect(dom);
		cons_xs_publish_tty(d, dom);
		dom->seen = true;
		return;
	}
	if (dom) {
		cons_log("domain %u: console keys changed (page %#llx, port %llu)", domid,
			 (unsigned long long)ref, (unsigned long long)port);
		cons_domain_reconnect(dom, ref, (uint32_t)port);
		cons_xs_publish_tty(d, dom);
		dom->seen = true;
		return;
	}
	/* Keys outlive their domain until the toolstack cleans up. */
	if (cons_dominfo_dead(d, domid))
		return;
	name = svxs_read(d->xs, XBT_NULL, dir, "name");
	dom = cons_domain_new(d, domid, name, ref, (uint32_t)port);
	free(name);
	if (!dom) {
		cons_log("domain %u: %m", domid);
		return;
	}
	dom->seen = true;
	cons_domain_connect(dom);
	cons_xs_publish_tty(d, dom);
}

/* Domain id of a directory entry under /local/domain, strict decimal, not 0. */
static bool cons_xs_domid(const char *s, size_t len, uint32_t *domid)
{
	return svxs_parse_dirent(s, len, DOMID_FIRST_RESERVED, domid) && *domid != 0;
}

void cons_xs_rescan(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;
	unsigned int num = 0;
	char **ents;

	ents = xs_directory(d->xs, XBT_NULL, CONS_XS_ROOT, &num);
	if (!ents && errno != ENOENT) {
		cons_log("listing " CONS_XS_ROOT ": %m");
		if (svxs_lost(-errno))
			d->xs_failed = true;
		return;
	}
	sv_list_for_each_safe(pos, tmp, &d->domains) sv_container_of(pos, struct cons_domain, link)
	    ->seen = false;
	for (unsigned int i = 0; ents && i < num; i++) {
		uint32_t domid;

		if (cons_xs_domid(ents[i], strlen(ents[i]), &domid))
			cons_xs_recheck(d, domid);
	}
	free(ents);
	if (d->xs_failed)
		return; /* what we did not read may still be there */
	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (!dom->seen)
			cons_domain_free(dom, "it left xenstore");
	}
}

/*
 * Domain a watched path names ("/local/domain/N" or below), when the path
 * could matter to a console: N itself, N/name or N/console/...
 */
static bool cons_xs_path_domid(const char *path, uint32_t *domid)
{
	static const char root[] = CONS_XS_ROOT "/";
	const char *p, *end;

	if (strncmp(path, root, sizeof(root) - 1) != 0)
		return false;
	p = path + sizeof(root) - 1;
	end = strchr(p, '/');
	if (!end)
		end = p + strlen(p);
	if (!cons_xs_domid(p, (size_t)(end - p), domid))
		return false;
	return *end == '\0' || strcmp(end, "/name") == 0 || strcmp(end, "/console") == 0 ||
	       strncmp(end, "/console/", 9) == 0;
}

/*
 * @releaseDomain: drop every domain the hypervisor says is gone or dying,
 * whether or not the toolstack has removed its xenstore keys yet (so a
 * later domain given the same domid starts afresh).
 */
static void cons_xs_drop_dead(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (cons_dominfo_dead(d, dom->domid))
			cons_domain_free(dom, "@releaseDomain: the domain is gone");
	}
}

/* What one wakeup's watch events ask for. */
struct cons_xs_events {
	struct cons_daemon *d;
	bool rescan, released;
};

/*
 * Routes one event: paths under /local/domain are coalesced per domain, so
 * a toolstack writing many keys costs one check each.
 */
static void cons_xs_event(void *arg, const char *path, const char *token)
{
	struct cons_xs_events *e = arg;
	uint32_t domid;

	if (strcmp(token, CONS_XS_TOKEN_RELEASE) == 0)
		e->released = true;
	if (strcmp(token, CONS_XS_TOKEN_DOM) != 0 || strcmp(path, CONS_XS_ROOT) == 0)
		e->rescan = true;
	else if (cons_xs_path_domid(path, &domid))
		e->d->recheck[domid / 64] |= 1ull << (domid % 64);
}

/* Check again each domain marked in d->recheck. */
static void cons_xs_recheck_marked(struct cons_daemon *d)
{
	for (uint32_t w = 0; w < sizeof(d->recheck) / sizeof(d->recheck[0]); w++) {
		while (d->recheck[w]) {
			uint32_t bit = (uint32_t)__builtin_ctzll(d->recheck[w]);

			d->recheck[w] &= d->recheck[w] - 1;
			cons_xs_recheck(d, w * 64 + bit);
		}
	}
}

/*
 * The watch pipe is readable.  Returns 0, or -errno when the connection to
 * xenstored failed (the daemon then exits and its supervisor restarts it).
 */
int cons_xs_handle(struct cons_daemon *d)
{
	struct cons_xs_events e = { .d = d };
	int ret;

	memset(d->recheck, 0, sizeof(d->recheck));
	ret = svxs_watch_drain(d->xs, cons_xs_event, &e);
	if (ret < 0) {
		cons_log("xenstore connection failed: %s", strerror(-ret));
		return ret;
	}
	if (e.released)
		cons_xs_drop_dead(d);
	if (e.rescan)
		cons_xs_rescan(d);
	else
		cons_xs_recheck_marked(d);
	return d->xs_failed ? -EPIPE : 0;
}
