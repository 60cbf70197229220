// SPDX-License-Identifier: MIT
// Watches: registration, matching a change against every watch, and WATCH_EVENT delivery.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

int xs_watch_add(struct xs_daemon *d, struct xs_conn *c, const char *path, const char *token,
		 size_t rel_prefix)
{
	struct sv_list *pos, *tmp;
	struct xs_watch *w;
	struct xs_caller who;

	sv_list_for_each_safe(pos, tmp, &c->watches)
	{
		w = sv_container_of(pos, struct xs_watch, conn_link);
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0)
			return -EEXIST;
	}
	xs_caller_of(d, c, &who);
	if (xs_quota_exceeded(d, &who, XS_Q_WATCHES, (long)c->nwatches + 1))
		return -E2BIG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = strdup(path);
	w->token = strdup(token);
	if (!w->path || !w->token) {
		free(w->path);
		free(w->token);
		free(w);
		return -ENOMEM;
	}
	w->conn = c;
	w->rel_prefix = rel_prefix;
	sv_list_add_tail(&c->watches, &w->conn_link);
	sv_list_add_tail(&d->watches, &w->all_link);
	c->nwatches++;
	if (c->persistent)
		xs_persist_watch(d, c, w, true);
	return 0;
}

static void xs_watch_free(struct xs_daemon *d, struct xs_watch *w)
{
	if (w->conn->persistent)
		xs_persist_watch(d, w->conn, w, false);
	sv_list_del(&w->conn_link);
	sv_list_del(&w->all_link);
	w->conn->nwatches--;
	free(w->path);
	free(w->token);
	free(w);
}

int xs_watch_del(struct xs_daemon *d, struct xs_conn *c, const char *path, const char *token)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &c->watches)
	{
		struct xs_watch *w = sv_container_of(pos, struct xs_watch, conn_link);

		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
			xs_watch_free(d, w);
			return 0;
		}
	}
	return -ENOENT;
}

void xs_watch_del_all(struct xs_daemon *d, struct xs_conn *c)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &c->watches)
	    xs_watch_free(d, sv_container_of(pos, struct xs_watch, conn_link));
}

void xs_watch_send(struct xs_watch *w, const char *path)
{
	const char *p = path;

	/* Relative watches see relative paths, when the event lies below. */
	if (w->rel_prefix && strncmp(path, w->path, w->rel_prefix) == 0 &&
	    strlen(path) > w->rel_prefix)
		p = path + w->rel_prefix;
	xs_conn_send(w->conn, XS_WATCH_EVENT, 0, 0, p, (uint32_t)strlen(p) + 1, w->token,
		     (uint32_t)strlen(w->token) + 1);
}

void xs_watch_fire(struct xs_daemon *d, const char *path, bool recursive, const struct xs_perm *p,
		   uint32_t np)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->watches)
	{
		struct xs_watch *w = sv_container_of(pos, struct xs_watch, all_link);
		const char *epath;
		struct xs_caller who;

		if (w->conn->dead)
			continue;
		if (xs_wire_is_child(path, w->path))
			epath = path;
		else if (recursive && path[0] == '/' && xs_wire_is_child(w->path, path))
			epath = w->path;
		else
			continue;
		xs_caller_of(d, w->conn, &who);
		if (path[0] == '@') {
			/* Domain events are for the toolstack. */
			if (!who.privileged)
				continue;
		} else if (np && !(xs_perms_for(&who, p, np) & XS_PERM_READ)) {
			continue;
		}
		xs_watch_send(w, epath);
	}
}
