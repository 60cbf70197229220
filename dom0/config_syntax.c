// SPDX-License-Identifier: MIT
/* xl.cfg(5) syntax: the lexer and parser that turn config text into settings. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_priv.h"

/* ---- messages ---- */

void cfg_msg_at(char *err, size_t errlen, const char *src, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", src, line);
	else
		n = snprintf(err, errlen, "%s: ", src);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/* ---- values ---- */

void cfg_value_free(struct cfg_value *v)
{
	size_t i;

	free(v->str);
	for (i = 0; i < v->n; i++)
		cfg_value_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

void cfg_setting_free(struct cfg_setting *s)
{
	free(s->key);
	free(s->source);
	cfg_value_free(&s->val);
}

/* ---- lexer ---- */

enum tok_kind {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_SEMI,
	TOK_EQ,
	TOK_PLUSEQ,
	TOK_LBRACK,
	TOK_RBRACK,
	TOK_COMMA,
	TOK_STRING,
	TOK_WORD,
};

struct lexer {
	const char *p, *end;
	int line; /* of the next character */
	const char *source;
	bool with_lines; /* false for overrides */
	char *err;
	size_t errlen;
	/* current token */
	enum tok_kind kind;
	int tok_line;
	char *text; /* STRING/WORD, malloc'd, owned until taken */
};

#define LEX_ERR(lx, ...)                                                                           \
	cfg_msg_at((lx)->err, (lx)->errlen, (lx)->source, (lx)->with_lines ? (lx)->tok_line : 0,   \
		   __VA_ARGS__)

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == ':' ||
	       c == '/';
}

/* Reads a quoted string with xl's escapes; 0 or -errno. */
static int lex_string(struct lexer *lx)
{
	char quote = *lx->p++, c, *out;
	size_t n = 0, i;
	const char *s;
	unsigned v;

	/* The decoded string is never longer than the source. */
	for (s = lx->p; s < lx->end && *s != quote && *s != '\n'; s++)
		if (*s == '\\' && s + 1 < lx->end && s[1] != '\n')
			s++;
	if (s >= lx->end || *s != quote) {
		LEX_ERR(lx, "syntax error: unterminated string");
		return -EINVAL;
	}
	out = malloc(s - lx->p + 1);
	if (!out) {
		LEX_ERR(lx, "out of memory");
		return -ENOMEM;
	}
	while (lx->p < s) {
		c = *lx->p++;
		if (c != '\\') {
			if (c == '\0')
				goto bad_nul;
			out[n++] = c;
			continue;
		}
		c = *lx->p++;
		switch (c) {
		case '"':
		case '\'':
		case '\\':
			out[n++] = c;
			break;
		case 'a':
			out[n++] = '\a';
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'v':
			out[n++] = '\v';
			break;
		case 'x':
			v = 0;
			for (i = 0; i < 2; i++) {
				if (lx->p >= s || !isxdigit((unsigned char)*lx->p))
					goto bad_escape;
				c = (char)tolower((unsigned char)*lx->p++);
				v = v * 16 +
				    (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
			}
			if (!v)
				goto bad_nul;
			out[n++] = (char)v;
			break;
		default:
			if (c < '0' || c > '7')
				goto bad_escape;
			v = (unsigned)(c - '0');
			for (i = 0; i < 2 && lx->p < s && *lx->p >= '0' && *lx->p <= '7'; i++)
				v = v * 8 + (unsigned)(*lx->p++ - '0');
			if (!v || v > 255)
				goto bad_nul;
			out[n++] = (char)v;
		}
	}
	lx->p = s + 1;
	out[n] = '\0';
	lx->text = out;
	lx->kind = TOK_STRING;
	return 0;

bad_escape:
	LEX_ERR(lx, "syntax error: invalid escape sequence in string");
	free(out);
	return -EINVAL;
bad_nul:
	LEX_ERR(lx, "syntax error: NUL character in string");
	free(out);
	return -EINVAL;
}

/* Advances to the next token; 0 or -errno. */
static int lex_next(struct lexer *lx)
{
	const char *start;
	char c;

	free(lx->text);
	lx->text = NULL;
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '#') { /* a comment, to end of line */
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	}
	lx->tok_line = lx->line;
	if (lx->p >= lx->end) {
		lx->kind = TOK_EOF;
		return 0;
	}
	c = *lx->p;
	switch (c) {
	case '\n':
		lx->p++;
		lx->line++;
		lx->kind = TOK_NEWLINE;
		return 0;
	case ';':
		lx->p++;
		lx->kind = TOK_SEMI;
		return 0;
	case '=':
		lx->p++;
		lx->kind = TOK_EQ;
		return 0;
	case '[':
		lx->p++;
		lx->kind = TOK_LBRACK;
		return 0;
	case ']':
		lx->p++;
		lx->kind = TOK_RBRACK;
		return 0;
	case ',':
		lx->p++;
		lx->kind = TOK_COMMA;
		return 0;
	case '"':
	case '\'':
		return lex_string(lx);
	case '+':
		if (lx->p + 1 < lx->end && lx->p[1] == '=') {
			lx->p += 2;
			lx->kind = TOK_PLUSEQ;
			return 0;
		}
		break;
	default:
		break;
	}
	if (is_word_char(c)) {
		start = lx->p;
		while (lx->p < lx->end && is_word_char(*lx->p))
			lx->p++;
		lx->text = strndup(start, lx->p - start);
		if (!lx->text) {
			LEX_ERR(lx, "out of memory");
			return -ENOMEM;
		}
		lx->kind = TOK_WORD;
		return 0;
	}
	if (isprint((unsigned char)c))
		LEX_ERR(lx, "syntax error: unexpected character '%c'%s", c,
			c == '(' || c == '{' ? " (Python syntax is not supported)" : "");
	else
		LEX_ERR(lx, "syntax error: unexpected byte 0x%02x", (unsigned char)c);
	return -EINVAL;
}

/* ---- parser ---- */

static int skip_newlines(struct lexer *lx)
{
	int r = 0;

	while (!r && lx->kind == TOK_NEWLINE)
		r = lex_next(lx);
	return r;
}

static int parse_value(struct lexer *lx, struct cfg_value *out, int depth);

/* Parses "[ v, v, ... ]" (newlines and a trailing comma allowed). */
static int parse_list(struct lexer *lx, struct cfg_value *out, int depth)
{
	struct cfg_value *grown;
	size_t cap;
	int r;

	out->kind = VAL_LIST;
	out->line = lx->tok_line;
	if (depth >= MAX_NESTING) {
		LEX_ERR(lx, "syntax error: lists nested too deeply");
		return -EINVAL;
	}
	r = lex_next(lx);
	if (!r)
		r = skip_newlines(lx);
	while (!r && lx->kind != TOK_RBRACK) {
		if (lx->kind == TOK_EOF) {
			LEX_ERR(lx, "syntax error: missing ']'");
			return -EINVAL;
		}
		if (out->n == out->cap) {
			if (out->n >= MAX_LIST_ITEMS) {
				LEX_ERR(lx, "syntax error: list too long");
				return -EINVAL;
			}
			cap = out->cap ? out->cap * 2 : 4;
			grown = realloc(out->items, cap * sizeof(*grown));
			if (!grown) {
				LEX_ERR(lx, "out of memory");
				return -ENOMEM;
			}
			out->items = grown;
			out->cap = cap;
		}
		memset(&out->items[out->n], 0, sizeof(out->items[0]));
		r = parse_value(lx, &out->items[out->n++], depth + 1);
		if (!r)
			r = skip_newlines(lx);
		if (r)
			return r;
		if (lx->kind == TOK_COMMA) {
			r = lex_next(lx);
			if (!r)
				r = skip_newlines(lx);
		} else if (lx->kind != TOK_RBRACK) {
			LEX_ERR(lx, lx->kind == TOK_EOF
					? "syntax error: missing ']'"
					: "syntax error: expected ',' or ']' in list");
			return -EINVAL;
		}
	}
	if (r)
		return r;
	return lex_next(lx);
}

static int parse_value(struct lexer *lx, struct cfg_value *out, int depth)
{
	switch (lx->kind) {
	case TOK_STRING:
	case TOK_WORD:
		out->kind = lx->kind == TOK_STRING ? VAL_STRING : VAL_WORD;
		out->line = lx->tok_line;
		out->str = lx->text;
		lx->text = NULL;
		return lex_next(lx);
	case TOK_LBRACK:
		return parse_list(lx, out, depth);
	case TOK_EOF:
	case TOK_NEWLINE:
	case TOK_SEMI:
		LEX_ERR(lx, "syntax error: missing value");
		return -EINVAL;
	default:
		LEX_ERR(lx, "syntax error: expected a value");
		return -EINVAL;
	}
}

static bool is_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Appends one setting to the store, taking ownership of *s. */
int cfg_store_add(struct sv_config_store *st, struct cfg_setting *s)
{
	struct cfg_setting *grown;
	size_t cap;

	if (st->n == st->cap) {
		cap = st->cap ? st->cap * 2 : 16;
		grown = realloc(st->v, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		st->v = grown;
		st->cap = cap;
	}
	st->v[st->n++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

/*
 * Parses text into settings appended to cfg->store.  On error the
 * store is left as it was.
 */
int cfg_parse_text(struct sv_config *cfg, const char *text, size_t len, const char *source,
		   bool with_lines, char *err, size_t errlen)
{
	struct lexer lx = { .p = text,
			    .end = text + len,
			    .line = 1,
			    .source = source,
			    .with_lines = with_lines,
			    .err = err,
			    .errlen = errlen };
	struct sv_config_store *st = cfg->store;
	struct cfg_setting s;
	size_t first = st->n, i;
	int r;

	memset(&s, 0, sizeof(s));
	r = lex_next(&lx);
	while (!r && lx.kind != TOK_EOF) {
		if (lx.kind == TOK_NEWLINE || lx.kind == TOK_SEMI) {
			r = lex_next(&lx);
			continue;
		}
		if (lx.kind != TOK_WORD || !is_ident(lx.text)) {
			LEX_ERR(&lx, "syntax error: expected 'key = value'");
			r = -EINVAL;
			break;
		}
		s.key = lx.text;
		lx.text = NULL;
		s.line = with_lines ? lx.tok_line : 0;
		r = lex_next(&lx);
		if (r)
			break;
		if (lx.kind != TOK_EQ && lx.kind != TOK_PLUSEQ) {
			LEX_ERR(&lx, "syntax error: expected '=' after '%s'", s.key);
			r = -EINVAL;
			break;
		}
		s.append = lx.kind == TOK_PLUSEQ;
		r = lex_next(&lx);
		if (!r)
			r = parse_value(&lx, &s.val, 0);
		if (r)
			break;
		if (lx.kind != TOK_NEWLINE && lx.kind != TOK_SEMI && lx.kind != TOK_EOF) {
			LEX_ERR(&lx,
				"syntax error: unexpected text after the "
				"value of '%s'",
				s.key);
			r = -EINVAL;
			break;
		}
		s.source = strdup(source);
		if (!s.source) {
			r = -ENOMEM;
			break;
		}
		r = cfg_store_add(st, &s);
	}
	free(lx.text);
	if (r == -ENOMEM)
		cfg_msg_at(err, errlen, source, 0, "out of memory");
	if (r) {
		cfg_setting_free(&s);
		for (i = first; i < st->n; i++)
			cfg_setting_free(&st->v[i]);
		st->n = first;
		return r;
	}
	return 0;
}
