// SPDX-License-Identifier: MIT
// Splitting the guest command line into words and "name=arg" pairs (cmdline.c).
#ifndef SVK_CMDLINE_H
#define SVK_CMDLINE_H

#include <stddef.h>

/* One command word, split at its first '='. */
struct cmd_word {
	char *name; /* the word up to '=' (the whole word if none) */
	char *arg;  /* after '=', or NULL when the word has no '=' */
};

/*
 * cmdline_next: skip blanks (space, tab, newline) at *@pos, copy the next
 * word into @buf (NUL-terminated) and advance *@pos past it.  Returns the
 * word's length, 0 at the end of the line, or -XEN_ENAMETOOLONG when the
 * word does not fit in @size - 1 bytes (the word is then skipped and @buf
 * holds its truncated start).
 */
int cmdline_next(const char **pos, char *buf, size_t size);

/* cmdline_split: split @word in place at its first '=' into @out. */
void cmdline_split(char *word, struct cmd_word *out);

#endif
