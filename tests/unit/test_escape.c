// SPDX-License-Identifier: MIT
/*
 * escape_controls(): control bytes as \xNN, the rest kept, and a short
 * buffer cut before an escape that would not fit, never in one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "escape.h"

static void test_controls_escaped(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(escape_controls("eth0", out, sizeof(out)), 4);
	assert_string_equal(out, "eth0");
	assert_int_equal(escape_controls("a\nb\x1b[2J\x7f\t", out, sizeof(out)), 21);
	assert_string_equal(out, "a\\x0ab\\x1b[2J\\x7f\\x09");
	/* Only controls: UTF-8 and a backslash are the terminal's to show. */
	assert_string_equal((escape_controls("\xc3\xa9\\", out, sizeof(out)), out), "\xc3\xa9\\");
	assert_int_equal(escape_controls("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_short_buffer(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(escape_controls("abcdefghij", out, sizeof(out)), 7);
	assert_string_equal(out, "abcdefg");
	/* "ab" and "\x01" need 6 bytes and the NUL: 6 do not hold them. */
	assert_int_equal(escape_controls("ab\x01" "c", out, 6), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(escape_controls("ab\x01" "c", out, 7), 6);
	assert_string_equal(out, "ab\\x01");
	assert_int_equal(escape_controls("ab\x01" "c", out, 8), 7);
	assert_string_equal(out, "ab\\x01c");
	out[0] = 'x';
	assert_int_equal(escape_controls("abc", out, 1), 0);
	assert_string_equal(out, "");
	out[0] = 'x';
	assert_int_equal(escape_controls("abc", out, 0), 0);
	assert_int_equal(out[0], 'x');
}

/* ESCAPED_SIZE holds a string of nothing but controls, filling its buffer. */
/* Only the ASCII variant escapes bytes >= 0x80 (UTF-8 elsewhere is kept). */
static void test_non_ascii(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(escape_non_ascii("tag\x9b""1m\xc3\xa9\n", out, sizeof(out)), 21);
	assert_string_equal(out, "tag\\x9b1m\\xc3\\xa9\\x0a");
	escape_controls("\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "\xc3\xa9");
}

static void test_escaped_size(void **state)
{
	char in[16], out[ESCAPED_SIZE(sizeof(in))];

	(void)state;
	memset(in, '\x01', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(escape_controls(in, out, sizeof(out)), 4 * (sizeof(in) - 1));
	assert_string_equal(out + 4 * (sizeof(in) - 2), "\\x01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_escaped_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
