// SPDX-License-Identifier: MIT
// A small vsnprintf for the guest kernel, and printk on top of the console.
#include <svk/console.h>
#include <svk/lib.h>
#include <svk/printk.h>

/* Output cursor: counts every byte, stores those that fit. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* One conversion's flags, width and precision. */
struct spec {
	bool left; /* '-': pad on the right */
	bool zero; /* '0': pad numbers with zeros */
	int width;
	int prec; /* -1: none */
};

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	if (!sp->left)
		pad(o, ' ', sp->width - (int)n);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - (int)n);
}

/*
 * Print @v in @base; @neg adds a '-'.  Zero padding goes between the sign
 * (or "0x" @prefix) and the digits, as C does.
 */
static void put_num(struct out *o, unsigned long long v, unsigned int base, bool neg, bool upper,
		    const char *prefix, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, total;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	total = n + (neg ? 1 : 0) + (int)strlen(prefix);
	if (!sp->left && !sp->zero)
		pad(o, ' ', sp->width - total);
	if (neg)
		put(o, '-');
	for (; *prefix; prefix++)
		put(o, *prefix);
	if (!sp->left && sp->zero)
		pad(o, '0', sp->width - total);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

/* Length modifiers. */
enum len_mod { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

static unsigned long long arg_unsigned(va_list *ap, enum len_mod m)
{
	switch (m) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:
		return va_arg(*ap, size_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static long long arg_signed(va_list *ap, enum len_mod m)
{
	switch (m) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE:
		return (long long)va_arg(*ap, size_t);
	default:
		return va_arg(*ap, int);
	}
}

/* Read a width or precision: digits, or '*' from the arguments. */
static int read_count(const char **fmt, va_list *ap)
{
	int v = 0;

	if (**fmt == '*') {
		(*fmt)++;
		return va_arg(*ap, int);
	}
	while (**fmt >= '0' && **fmt <= '9') {
		if (v < 100000)
			v = v * 10 + (**fmt - '0');
		(*fmt)++;
	}
	return v;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };
	va_list ap;

	/* A copy, so that its address is a real va_list pointer. */
	va_copy(ap, ap_in);
	while (*fmt) {
		struct spec sp = { .prec = -1 };
		enum len_mod m = LEN_INT;
		const char *start = fmt;
		long long sv;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		sp.width = read_count(&fmt, &ap);
		if (sp.width < 0) {
			sp.left = true;
			sp.width = -sp.width;
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = read_count(&fmt, &ap);
		}
		if (*fmt == 'h') {
			fmt++;
			m = LEN_SHORT;
			if (*fmt == 'h') {
				fmt++;
				m = LEN_CHAR;
			}
		} else if (*fmt == 'l') {
			fmt++;
			m = LEN_LONG;
			if (*fmt == 'l') {
				fmt++;
				m = LEN_LLONG;
			}
		} else if (*fmt == 'z') {
			fmt++;
			m = LEN_SIZE;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			sv = arg_signed(&ap, m);
			put_num(&o, sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv, 10,
				sv < 0, false, "", &sp);
			break;
		case 'u':
			put_num(&o, arg_unsigned(&ap, m), 10, false, false, "", &sp);
			break;
		case 'x':
		case 'X':
			put_num(&o, arg_unsigned(&ap, m), 16, false, *fmt == 'X', "", &sp);
			break;
		case 'o':
			put_num(&o, arg_unsigned(&ap, m), 8, false, false, "", &sp);
			break;
		case 'p':
			put_num(&o, (unsigned long)va_arg(ap, void *), 16, false, false, "0x", &sp);
			break;
		case 'c': {
			char c[2] = { (char)va_arg(ap, int), '\0' };
			struct spec one = sp;

			one.prec = 1;
			put_str(&o, c, &one);
			break;
		}
		case 's':
			put_str(&o, va_arg(ap, const char *), &sp);
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			/* Unknown or truncated: copy the text as it stands. */
			while (start < fmt)
				put(&o, *start++);
			if (!*fmt)
				goto out;
			put(&o, *fmt);
			break;
		}
		fmt++;
	}
out:
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void printk(const char *fmt, ...)
{
	char line[PRINTK_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		/* Cut: keep the line a line for the line-based host side. */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	console_write(line, (size_t)n);
}
