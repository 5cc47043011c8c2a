// SPDX-License-Identifier: MIT
/*
 * Log lines carry host-chosen strings: a newline in one must not start a
 * second journal entry (with a "<0>" priority of the host's choosing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

/* Run log_msg() with stderr redirected to a file; return what it wrote. */
static char *capture(int priority, const char *arg)
{
	static char buf[4096];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	log_msg(priority, "kvp: SET_IP_INFO %s: refused", arg);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void test_control_bytes_are_escaped(void **state)
{
	(void)state;
	setenv("JOURNAL_STREAM", "8:1", 1);
	assert_string_equal(capture(LOG_WARNING, "{x}\n<0>kernel: FORGED\r\t\x7f"),
			    "<4>kvp: SET_IP_INFO {x}\\x0a<0>kernel: FORGED\\x0d\\x09\\x7f: refused\n");
}

static void test_plain_text_unchanged_and_debug_filtered(void **state)
{
	(void)state;
	assert_string_equal(capture(LOG_INFO, "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"),
			    "<6>kvp: SET_IP_INFO {f8615163-df3e-46c5-913f-f2d2f965ed0e}: refused\n");
	assert_string_equal(capture(LOG_DEBUG, "x"), "");
	log_set_debug(true);
	assert_string_equal(capture(LOG_DEBUG, "x"), "<7>kvp: SET_IP_INFO x: refused\n");
	log_set_debug(false);
}

/* LISA rejects a journal line with a lowercase "error": libc's texts are reworded. */
static void test_libc_texts_reworded(void **state)
{
	static char big[2100];

	(void)state;
	setenv("JOURNAL_STREAM", "8:1", 1);
	assert_string_equal(capture(LOG_ERR, "Input/output error; Protocol error"),
			    "<3>kvp: SET_IP_INFO Input/output problem (EIO); Protocol problem (EPROTO): "
			    "refused\n");
	assert_string_equal(capture(LOG_ERR, "Temporary failure in name resolution"),
			    "<3>kvp: SET_IP_INFO Name resolution temporarily unavailable: refused\n");
	/* At the end of a full buffer the longer text is cut, never overflows. */
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big + 2000, "Remote I/O error", 16);
	assert_int_equal(strlen(capture(LOG_ERR, big)), strlen("<3>") + 2047 + strlen("\n"));
	assert_null(strstr(capture(LOG_ERR, big), "error"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_bytes_are_escaped),
		cmocka_unit_test(test_plain_text_unchanged_and_debug_filtered),
		cmocka_unit_test(test_libc_texts_reworded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
