// SPDX-License-Identifier: MIT
// Command words that drivers outside frontends/kernel/ add (blkfront, netfront).
#ifndef SVK_DRIVER_WORDS_H
#define SVK_DRIVER_WORDS_H

#include <svk/xen.h>

/* One word: its name (the part before '='), and what runs it. */
struct driver_word {
	const char *name;
	void (*run)(const start_info_t *si, const char *arg);
};

/*
 * Each driver defines its own table and count; they are weak here so the
 * kernel links without the driver.  commands.c looks a word up in its own
 * table first, then in these.
 */
extern const struct driver_word blk_words[] __attribute__((weak));
extern const unsigned blk_nwords __attribute__((weak));
extern const struct driver_word net_words[] __attribute__((weak));
extern const unsigned net_nwords __attribute__((weak));
extern const struct driver_word hostile_ring_words[] __attribute__((weak));
extern const unsigned hostile_ring_nwords __attribute__((weak));

#endif
