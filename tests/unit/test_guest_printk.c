// SPDX-License-Identifier: MIT
// Check suite for the guest kernel's printk formatting, string helpers and command-line splitting.
#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <svk/cmdline.h>
#include <svk/console.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <xen/errno.h>

/* Harness: printk's console, captured. */
static char console_buf[4096];
static size_t console_len;
static int console_calls;

void console_write(const char *buf, size_t len)
{
	if (console_len + len < sizeof(console_buf)) {
		memcpy(console_buf + console_len, buf, len);
		console_len += len;
		console_buf[console_len] = '\0';
	}
	console_calls++;
}

static void console_reset(void)
{
	console_len = 0;
	console_calls = 0;
	console_buf[0] = '\0';
}

/* Format with ours and compare with the expected text and length. */
static void expect(const char *want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void expect(const char *want, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(n, (int)strlen(want));
}

START_TEST(test_integers)
{
	expect("42", "%d", 42);
	expect("-42", "%i", -42);
	expect("0", "%d", 0);
	expect("-2147483648", "%d", INT_MIN);
	expect("4294967295", "%u", UINT_MAX);
	expect("-9223372036854775808", "%ld", LONG_MIN);
	expect("18446744073709551615", "%lu", ULONG_MAX);
	expect("18446744073709551615", "%llu", ULLONG_MAX);
	expect("123456789012", "%lld", 123456789012LL);
	expect("255", "%zu", (size_t)255);
	expect("-1 255", "%hhd %hhu", (signed char)-1, (unsigned char)255);
}
END_TEST

START_TEST(test_hex)
{
	expect("ff", "%x", 255);
	expect("FF", "%X", 255);
	expect("deadbeefcafe", "%lx", 0xdeadbeefcafeUL);
	expect("ffffffffffffffff", "%llx", ~0ULL);
	expect("17", "%o", 15);
	expect("0xffffffff80000000", "%p", (void *)0xffffffff80000000UL);
	expect("0x0", "%p", NULL);
}
END_TEST

START_TEST(test_width_and_padding)
{
	expect("   42", "%5d", 42);
	expect("00042", "%05d", 42);
	expect("-0042", "%05d", -42);
	expect("42   |", "%-5d|", 42);
	expect("0000ff", "%06x", 255);
	expect("00000000deadbeef", "%016lx", 0xdeadbeefUL);
	expect("  abc", "%5s", "abc");
	expect("abc  |", "%-5s|", "abc");
	expect("ab", "%.2s", "abcdef");
	expect("  7", "%*d", 3, 7);
	expect("7  |", "%*d|", -3, 7);
	expect("12345", "%3d", 12345);
}
END_TEST

START_TEST(test_strings_chars_percent)
{
	expect("x=a", "x=%c", 'a');
	expect("hello world", "%s %s", "hello", "world");
	const char *volatile nothing = NULL; /* hidden from -Wformat */

	expect("(null)", "%s", nothing);
	expect("100%", "%d%%", 100);
	expect("", "%s", "");
	expect(" z", "%2c", 'z');
}
END_TEST

/* Formats the compiler would reject, checked at run time only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
START_TEST(test_unknown_conversion_copied)
{
	char buf[32];

	/* Deliberately not a format the compiler accepts: build it at run time. */
	const char *fmt = "a%qb";
	ck_assert_int_eq(ksnprintf(buf, sizeof(buf), fmt, 1), 4);
	ck_assert_str_eq(buf, "a%qb");
	fmt = "end%";
	ksnprintf(buf, sizeof(buf), fmt, 1);
	ck_assert_str_eq(buf, "end%");
}
END_TEST
#pragma GCC diagnostic pop

START_TEST(test_truncation)
{
	char buf[8];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = ksnprintf(buf, sizeof(buf), "%s", "0123456789");
	ck_assert_int_eq(n, 10);
	ck_assert_str_eq(buf, "0123456");
	n = ksnprintf(buf, 1, "%d", 12345);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(buf, "");
	/* size 0: nothing written, the length still counted. */
	buf[0] = 'Q';
	n = ksnprintf(buf, 0, "%d", 12345);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(buf[0], 'Q');
}
END_TEST

START_TEST(test_printk_one_write)
{
	console_reset();
	printk("bench-hypercall: calls=%llu ns_per_call=%llu\n", 1000ULL, 27ULL);
	ck_assert_int_eq(console_calls, 1);
	ck_assert_str_eq(console_buf, "bench-hypercall: calls=1000 ns_per_call=27\n");
}
END_TEST

START_TEST(test_printk_long_line_cut_keeps_newline)
{
	char big[PRINTK_MAX * 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	console_reset();
	printk("%s\n", big);
	ck_assert_int_eq(console_calls, 1);
	ck_assert_uint_eq(console_len, PRINTK_MAX - 1);
	ck_assert_int_eq(console_buf[console_len - 1], '\n');
}
END_TEST

START_TEST(test_lib_strings)
{
	char a[16] = "abcdef";

	ck_assert_uint_eq(strlen("hello"), 5);
	ck_assert_uint_eq(strnlen("hello", 3), 3);
	ck_assert_int_lt(strcmp("abc", "abd"), 0);
	ck_assert_int_gt(strcmp("b", "abc"), 0);
	ck_assert_int_eq(strcmp("same", "same"), 0);
	ck_assert_int_eq(strncmp("spin=5", "spin", 4), 0);
	ck_assert_int_ne(strncmp("spin", "spun", 4), 0);
	ck_assert_str_eq(strchr("a=b", '='), "=b");
	ck_assert_ptr_null(strchr("abc", '='));
	memmove(a + 2, a, 6); /* overlapping, forwards */
	ck_assert_str_eq(a, "ababcdef");
	memmove(a, a + 2, 7); /* overlapping, backwards */
	ck_assert_str_eq(a, "abcdef");
	memset(a, 'z', 3);
	ck_assert_int_eq(memcmp(a, "zzzdef", 7), 0);
	memcpy(a, "xy", 2);
	ck_assert_int_eq(memcmp(a, "xyzdef", 7), 0);
	ck_assert_int_lt(memcmp("\x01", "\xff", 1), 0);
}
END_TEST

START_TEST(test_parse_u64)
{
	uint64_t v = 7;

	ck_assert_int_eq(parse_u64("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_u64("1500", &v), 0);
	ck_assert_uint_eq(v, 1500);
	ck_assert_int_eq(parse_u64("0x1F", &v), 0);
	ck_assert_uint_eq(v, 31);
	ck_assert_int_eq(parse_u64("18446744073709551615", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	v = 7;
	ck_assert_int_eq(parse_u64("18446744073709551616", &v), -XEN_ERANGE);
	ck_assert_int_eq(parse_u64("", &v), -XEN_EINVAL);
	ck_assert_int_eq(parse_u64("0x", &v), -XEN_EINVAL);
	ck_assert_int_eq(parse_u64("12ab", &v), -XEN_EINVAL);
	ck_assert_int_eq(parse_u64("-1", &v), -XEN_EINVAL);
	ck_assert_uint_eq(v, 7); /* untouched on failure */
}
END_TEST

START_TEST(test_cmdline_words)
{
	const char *pos = "  spin=100\tsmp  print=hi\n";
	char w[32];

	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 8);
	ck_assert_str_eq(w, "spin=100");
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 3);
	ck_assert_str_eq(w, "smp");
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 8);
	ck_assert_str_eq(w, "print=hi");
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 0);
	ck_assert_str_eq(w, "");
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 0);
}
END_TEST

START_TEST(test_cmdline_empty)
{
	const char *pos = "";
	char w[8];

	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 0);
	pos = "   \t ";
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 0);
}
END_TEST

START_TEST(test_cmdline_too_long_word_skipped)
{
	const char *pos = "abcdefghij halt";
	char w[5];

	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), -XEN_ENAMETOOLONG);
	ck_assert_str_eq(w, "abcd");
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 4);
	ck_assert_str_eq(w, "halt");
	/* A word of exactly size - 1 bytes fits. */
	pos = "abcd";
	ck_assert_int_eq(cmdline_next(&pos, w, sizeof(w)), 4);
}
END_TEST

START_TEST(test_cmdline_split)
{
	char a[] = "bench-hypercall=1000";
	char b[] = "smp";
	char c[] = "print=a=b";
	char d[] = "crash=";
	struct cmd_word w;

	cmdline_split(a, &w);
	ck_assert_str_eq(w.name, "bench-hypercall");
	ck_assert_str_eq(w.arg, "1000");
	cmdline_split(b, &w);
	ck_assert_str_eq(w.name, "smp");
	ck_assert_ptr_null(w.arg);
	cmdline_split(c, &w);
	ck_assert_str_eq(w.name, "print");
	ck_assert_str_eq(w.arg, "a=b");
	cmdline_split(d, &w);
	ck_assert_str_eq(w.name, "crash");
	ck_assert_str_eq(w.arg, "");
}
END_TEST

static Suite *guest_printk_suite(void)
{
	Suite *s = suite_create("guest_printk");
	TCase *tc = tcase_create("printk");

	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_hex);
	tcase_add_test(tc, test_width_and_padding);
	tcase_add_test(tc, test_strings_chars_percent);
	tcase_add_test(tc, test_unknown_conversion_copied);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_printk_one_write);
	tcase_add_test(tc, test_printk_long_line_cut_keeps_newline);
	suite_add_tcase(s, tc);

	tc = tcase_create("lib");
	tcase_add_test(tc, test_lib_strings);
	tcase_add_test(tc, test_parse_u64);
	suite_add_tcase(s, tc);

	tc = tcase_create("cmdline");
	tcase_add_test(tc, test_cmdline_words);
	tcase_add_test(tc, test_cmdline_empty);
	tcase_add_test(tc, test_cmdline_too_long_word_skipped);
	tcase_add_test(tc, test_cmdline_split);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_printk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
