// SPDX-License-Identifier: MIT
// State-file records for client connections: who each socket or ring client is and its watches, to
// restore them after a restart.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_persist_priv.h"

struct xs_rec_conn {
	uint64_t key;
	uint32_t domid, flags;
};

struct xs_rec_watch {
	uint64_t key;
	uint32_t rel, plen;
};

static void xs_persist_conn_rec(struct xs_persist *p, const struct xs_conn *c)
{
	struct xs_rec_conn r = {
		.key = c->key,
		.domid = c->domid,
		.flags = (c->restricted ? 1u : 0u) | (c->readonly ? 2u : 0u),
	};

	xs_persist_append(p, 'C', &r, sizeof(r), NULL, 0, NULL, 0, NULL, 0);
}

static void xs_persist_watch_rec(struct xs_persist *p, uint32_t type, const struct xs_conn *c,
				 const struct xs_watch *w)
{
	struct xs_rec_watch r = {
		.key = c->key,
		.rel = (uint32_t)w->rel_prefix,
		.plen = (uint32_t)strlen(w->path),
	};

	xs_persist_append(p, type, &r, sizeof(r), w->path, r.plen, w->token, strlen(w->token), NULL,
			  0);
}

void xs_persist_conn(struct xs_daemon *d, const struct xs_conn *c)
{
	if (d->persist)
		xs_persist_conn_rec(d->persist, c);
}

void xs_persist_conn_gone(struct xs_daemon *d, const struct xs_conn *c)
{
	if (d->persist)
		xs_persist_append(d->persist, 'X', &c->key, sizeof(c->key), NULL, 0, NULL, 0, NULL,
				  0);
}

void xs_persist_watch(struct xs_daemon *d, const struct xs_conn *c, const struct xs_watch *w,
		      bool added)
{
	if (d->persist)
		xs_persist_watch_rec(d->persist, added ? 'W' : 'U', c, w);
}

static struct xs_saved_conn *xs_persist_saved(struct xs_persist *p, uint64_t key, bool create)
{
	struct xs_saved_conn *s;
	uint32_t i;

	for (i = 0; i < p->nsaved; i++)
		if (p->saved[i].key == key && !p->saved[i].gone)
			return &p->saved[i];
	if (!create)
		return NULL;
	s = realloc(p->saved, (p->nsaved + 1) * sizeof(*s));
	if (!s)
		return NULL;
	p->saved = s;
	s = &p->saved[p->nsaved++];
	memset(s, 0, sizeof(*s));
	s->key = key;
	return s;
}

static void xs_saved_clear_watches(struct xs_saved_conn *s)
{
	uint32_t i;

	for (i = 0; i < s->nw; i++) {
		free(s->w[i].path);
		free(s->w[i].token);
	}
	free(s->w);
	s->w = NULL;
	s->nw = 0;
}

/* 'C', 'X', 'W', 'U' records: rebuild the saved connection table. */
int xs_persist_apply_conn(struct xs_daemon *d, uint32_t type, const uint8_t *b, uint32_t len)
{
	struct xs_persist *p = d->persist;
	struct xs_saved_conn *s;

	if (type == 'C') {
		struct xs_rec_conn r;

		if (len != sizeof(r))
			return -EINVAL;
		memcpy(&r, b, sizeof(r));
		if (r.domid >= XS_NR_DOMAINS || r.flags > 3)
			return -EINVAL;
		s = xs_persist_saved(p, r.key, true);
		if (!s)
			return -ENOMEM;
		/* New connections must never reuse a saved key. */
		if (r.key >= d->next_conn_key && r.key < (1ULL << 62))
			d->next_conn_key = r.key;
		s->domid = r.domid;
		s->flags = r.flags;
		return 0;
	}
	if (type == 'X') {
		uint64_t key;

		if (len != sizeof(key))
			return -EINVAL;
		memcpy(&key, b, sizeof(key));
		s = xs_persist_saved(p, key, false);
		if (s) {
			xs_saved_clear_watches(s);
			s->gone = true;
		}
		return 0;
	} else {
		struct xs_rec_watch r;
		char path[XENSTORE_ABS_PATH_MAX + 1], token[XENSTORE_PAYLOAD_MAX + 1];
		uint32_t tlen, i;

		if (len < sizeof(r))
			return -EINVAL;
		memcpy(&r, b, sizeof(r));
		if (r.plen > XENSTORE_ABS_PATH_MAX || r.plen > len - sizeof(r) ||
		    len - sizeof(r) - r.plen > XENSTORE_PAYLOAD_MAX || r.rel > r.plen)
			return -EINVAL;
		tlen = len - (uint32_t)sizeof(r) - r.plen;
		memcpy(path, b + sizeof(r), r.plen);
		path[r.plen] = '\0';
		memcpy(token, b + sizeof(r) + r.plen, tlen);
		token[tlen] = '\0';
		if (!xs_wire_path_valid(path, true) || strlen(token) != tlen)
			return -EINVAL;
		s = xs_persist_saved(p, r.key, type == 'W');
		if (!s)
			return type == 'W' ? -ENOMEM : 0;
		for (i = 0; i < s->nw; i++) {
			if (!strcmp(s->w[i].path, path) && !strcmp(s->w[i].token, token)) {
				if (type == 'U') {
					free(s->w[i].path);
					free(s->w[i].token);
					s->w[i] = s->w[--s->nw];
				}
				return 0;
			}
		}
		if (type == 'U')
			return 0;
		{
			struct xs_saved_watch *nw = realloc(s->w, (s->nw + 1) * sizeof(*nw));

			if (!nw)
				return -ENOMEM;
			s->w = nw;
			nw = &s->w[s->nw];
			nw->path = strdup(path);
			nw->token = strdup(token);
			nw->rel = r.rel;
			if (!nw->path || !nw->token) {
				free(nw->path);
				free(nw->token);
				return -ENOMEM;
			}
			s->nw++;
		}
		return 0;
	}
}

int xs_persist_restore_conn(struct xs_daemon *d, struct xs_conn *c)
{
	struct xs_saved_conn *s;
	uint32_t i;

	if (!d->persist)
		return -ENOENT;
	s = xs_persist_saved(d->persist, c->key, false);
	if (!s)
		return -ENOENT;
	c->domid = s->domid;
	c->restricted = (s->flags & 1) != 0;
	c->readonly = (s->flags & 2) != 0;
	for (i = 0; i < s->nw; i++) {
		if (xs_watch_add(d, c, s->w[i].path, s->w[i].token, s->w[i].rel))
			continue;
		/* Events during the outage are lost: say "re-read" once. */
		xs_watch_send(sv_container_of(c->watches.prev, struct xs_watch, conn_link),
			      s->w[i].path);
	}
	xs_saved_clear_watches(s);
	s->gone = true;
	return 0;
}

void xs_persist_forget_saved(struct xs_daemon *d)
{
	struct xs_persist *p = d->persist;
	uint32_t i;

	if (!p)
		return;
	for (i = 0; i < p->nsaved; i++) {
		/* Not handed back: that client is gone. */
		if (!p->saved[i].gone)
			xs_persist_append(p, 'X', &p->saved[i].key, sizeof(p->saved[i].key), NULL,
					  0, NULL, 0, NULL, 0);
		xs_saved_clear_watches(&p->saved[i]);
	}
	free(p->saved);
	p->saved = NULL;
	p->nsaved = 0;
}

void xs_persist_snap_conns(struct xs_daemon *d)
{
	struct xs_persist *p = d->persist;
	struct sv_list *pos, *tmp;
	uint32_t i;

	/* Live socket connections and their watches. */
	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);
		struct sv_list *wp, *wt;

		if (!c->persistent || c->dead)
			continue;
		xs_persist_conn_rec(p, c);
		sv_list_for_each_safe(wp, wt, &c->watches) xs_persist_watch_rec(
		    p, 'W', c, sv_container_of(wp, struct xs_watch, conn_link));
	}
	/* Connections saved but not restored yet stay saved. */
	for (i = 0; i < p->nsaved; i++) {
		struct xs_saved_conn *s = &p->saved[i];
		struct xs_rec_conn r = { s->key, s->domid, s->flags };
		uint32_t k;

		if (s->gone)
			continue;
		xs_persist_append(p, 'C', &r, sizeof(r), NULL, 0, NULL, 0, NULL, 0);
		for (k = 0; k < s->nw; k++) {
			struct xs_rec_watch w = { s->key, s->w[k].rel,
						  (uint32_t)strlen(s->w[k].path) };

			xs_persist_append(p, 'W', &w, sizeof(w), s->w[k].path, w.plen,
					  s->w[k].token, strlen(s->w[k].token), NULL, 0);
		}
	}
}
