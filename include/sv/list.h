/* SPDX-License-Identifier: MIT */
/* An intrusive doubly linked list (xenstored's connections and watches, xenconsoled's domains). */
#ifndef SV_LIST_H
#define SV_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct sv_list {
	struct sv_list *next, *prev;
};

/* The structure of type that holds member at ptr. */
#define sv_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Every entry of head; pos may be deleted inside the loop (tmp is the next one). */
#define sv_list_for_each_safe(pos, tmp, head)                                                      \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                           \
	     (pos) = (tmp), (tmp) = (pos)->next)

static inline void sv_list_init(struct sv_list *h)
{
	h->next = h->prev = h;
}

static inline bool sv_list_empty(const struct sv_list *h)
{
	return h->next == h;
}

static inline void sv_list_add_tail(struct sv_list *h, struct sv_list *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

/* Unlinks n and leaves it an empty list of its own (a second delete is harmless). */
static inline void sv_list_del(struct sv_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#endif
