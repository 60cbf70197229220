/* SPDX-License-Identifier: MIT */
/* What config.c (settings to fields) and config_syntax.c (text to settings) share. */
#ifndef SV_DOM0_CONFIG_PRIV_H
#define SV_DOM0_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

#define MAX_NESTING 8	    /* lists inside lists */
#define MAX_LIST_ITEMS 4096 /* per list, and disks + vifs per domain */

enum val_kind { VAL_STRING, VAL_WORD, VAL_LIST };

/* One value: "quoted", bare word (numbers), or [ list ]. */
struct cfg_value {
	enum val_kind kind;
	int line;
	char *str;		 /* STRING and WORD */
	struct cfg_value *items; /* LIST */
	size_t n, cap;
};

struct cfg_setting {
	char *key;
	bool append; /* "+=" */
	int line;    /* 0 for command-line overrides */
	char *source;
	struct cfg_value val;
};

struct sv_config_store {
	struct cfg_setting *v;
	size_t n, cap;
};

/* "src:line: message" (or "src: message" for line 0) into err. */
void cfg_msg_at(char *err, size_t errlen, const char *src, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cfg_value_free(struct cfg_value *v);
void cfg_setting_free(struct cfg_setting *s);
/* Appends one setting to the store, taking ownership of *s. */
int cfg_store_add(struct sv_config_store *st, struct cfg_setting *s);
/*
 * Parses text into settings appended to cfg->store (line numbers when
 * with_lines).  Returns 0 or -errno with a message; on error the store is
 * left as it was.
 */
int cfg_parse_text(struct sv_config *cfg, const char *text, size_t len, const char *source,
		   bool with_lines, char *err, size_t errlen);

#endif
