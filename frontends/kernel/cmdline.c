// SPDX-License-Identifier: MIT
// Splits the guest command line into blank-separated words and name=arg pairs.
#include <stdbool.h>
#include <svk/cmdline.h>
#include <svk/lib.h>
#include <svk/xen.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_next(const char **pos, char *buf, size_t size)
{
	const char *p = *pos;
	size_t len = 0;
	bool too_long = false;

	while (*p && is_blank(*p))
		p++;
	for (; *p && !is_blank(*p); p++) {
		if (size && len < size - 1)
			buf[len++] = *p;
		else
			too_long = true;
	}
	if (size)
		buf[len] = '\0';
	*pos = p;
	if (too_long)
		return -XEN_ENAMETOOLONG;
	return (int)len;
}

void cmdline_split(char *word, struct cmd_word *out)
{
	char *eq = strchr(word, '=');

	out->name = word;
	out->arg = NULL;
	if (eq) {
		*eq = '\0';
		out->arg = eq + 1;
	}
}
