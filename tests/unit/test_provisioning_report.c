// SPDX-License-Identifier: MIT
/* PROVISIONING_REPORT: cloud-init's encoding, the 1022-byte cut, the pool 1 upsert. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kvp_pool.h"
#include "provisioning_report.h"
#include "root.h"
#include "util.h"

#define VMID "0b1a7c3e-5d2f-4e6a-9c8b-7f6e5d4c3b2a"
#define TS "2024-05-01T12:00:00Z"
#define AGENT "agent=azl-agent/" AZL_VERSION

static void encodes_success(void **state)
{
	_cleanup_free_ char *v = provisioning_report_encode(true, NULL, NULL, 0, VMID, TS);

	(void)state;
	assert_string_equal(v, "result=success|" AGENT "|pps_type=None|vm_id=" VMID "|timestamp=" TS);
}

static void encodes_error_in_cloud_init_order(void **state)
{
	const struct report_kv extra[] = { { "duration", "300.1" }, { "url", "http://127.0.0.1:1/x" } };
	_cleanup_free_ char *v = provisioning_report_encode(false, "connection timeout querying IMDS", extra, 2,
							    VMID, TS);

	(void)state;
	assert_string_equal(v, "result=error|reason=connection timeout querying IMDS|" AGENT
			       "|duration=300.1|url=http://127.0.0.1:1/x|vm_id=" VMID "|timestamp=" TS
			       "|documentation_url=https://aka.ms/linuxprovisioningerror");
}

static void quotes_like_python_csv(void **state)
{
	const struct report_kv extra[] = { { "exception", "a|b" }, { "q", "it's" }, { "eq", "a=b" } };
	_cleanup_free_ char *v = provisioning_report_encode(false, "x'|y", extra, 3, VMID, TS);

	(void)state;
	/* The whole pair is quoted (csv quotes fields), a quote doubled; '=' alone is not special. */
	assert_non_null(strstr(v, "result=error|'reason=x''|y'|" AGENT "|'exception=a|b'|'q=it''s'|eq=a=b|vm_id="));
}

static void controls_and_bad_utf8_are_cleaned(void **state)
{
	_cleanup_free_ char *v = provisioning_report_encode(false, "line1\nline2\r\t\x01\xff\xc3\xa9", NULL, 0, VMID, TS);

	(void)state;
	assert_non_null(strstr(v, "|reason=line1 line2   ?\xc3\xa9|"));
	assert_null(strpbrk(v, "\n\r\t"));
}

static void null_timestamp_is_now_in_utc(void **state)
{
	_cleanup_free_ char *v = provisioning_report_encode(true, NULL, NULL, 0, VMID, NULL);
	const char *ts;

	(void)state;
	ts = strstr(v, "|timestamp=");
	assert_non_null(ts);
	ts += strlen("|timestamp=");
	assert_int_equal(strlen(ts), strlen(TS));
	assert_int_equal(ts[strlen(ts) - 1], 'Z');
}

/* Fields of v split at '|' outside quotes: the cut must leave whole pairs. */
static size_t count_pairs(const char *v)
{
	size_t n = 1;
	bool in = false;

	for (; *v; v++) {
		if (*v == '\'')
			in = !in;
		else if (*v == '|' && !in)
			n++;
	}
	assert_false(in);
	return n;
}

static void extras_cut_at_a_pair_boundary(void **state)
{
	struct report_kv extra[40];
	char vals[40][64];
	_cleanup_free_ char *v = NULL;
	const char *tail = "|vm_id=" VMID "|timestamp=" TS "|documentation_url=https://aka.ms/linuxprovisioningerror";

	(void)state;
	for (size_t i = 0; i < 40; i++) {
		snprintf(vals[i], sizeof(vals[i]), "%02zu-%s", i, "0123456789012345678901234567890123456789");
		extra[i] = (struct report_kv){ "k", vals[i] };
	}
	v = provisioning_report_encode(false, "HTTP status 500 querying IMDS", extra, 40, VMID, TS);
	assert_true(strlen(v) <= 1022);
	assert_true(strlen(v) > 1022 - 60);
	/* The identifying pairs stay, in order, at the end. */
	assert_string_equal(v + strlen(v) - strlen(tail), tail);
	assert_non_null(strstr(v, "|k=00-0123"));
	assert_null(strstr(v, "|k=39-"));
	/* A prefix of the extras, no gaps. */
	for (size_t i = 0; i < 40; i++) {
		char probe[16];

		snprintf(probe, sizeof(probe), "|k=%02zu-", i);
		if (!strstr(v, probe)) {
			for (size_t j = i; j < 40; j++) {
				snprintf(probe, sizeof(probe), "|k=%02zu-", j);
				assert_null(strstr(v, probe));
			}
			break;
		}
	}
	assert_true(count_pairs(v) > 6 && count_pairs(v) < 46);
}

static void long_reason_is_shortened_not_the_ids(void **state)
{
	_cleanup_free_ char *reason = malloc(10 * 1024 + 1), *v = NULL;
	const char *tail = "|vm_id=" VMID "|timestamp=" TS "|documentation_url=https://aka.ms/linuxprovisioningerror";

	(void)state;
	/* Quotes everywhere: doubling must not push the value past the limit nor split a pair. */
	for (size_t i = 0; i < 10 * 1024; i++)
		reason[i] = i % 3 == 0 ? '\'' : 'r';
	reason[10 * 1024] = '\0';
	v = provisioning_report_encode(false, reason, NULL, 0, VMID, TS);
	assert_true(strlen(v) <= 1022);
	assert_true(strlen(v) >= 1020);
	assert_string_equal(v + strlen(v) - strlen(tail), tail);
	assert_int_equal(count_pairs(v), 6);
	assert_memory_equal(v, "result=error|'reason=", 21);
}

static void long_utf8_reason_cut_between_characters(void **state)
{
	char reason[3000];
	_cleanup_free_ char *v = NULL;
	const char *r;

	(void)state;
	for (size_t i = 0; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[sizeof(reason) - 2] = '\0';
	v = provisioning_report_encode(false, reason, NULL, 0, VMID, TS);
	assert_true(strlen(v) <= 1022);
	r = strstr(v, "reason=") + strlen("reason=");
	for (size_t i = 0; report_utf8_char((const unsigned char *)r + i, 2) == 2; i += 2)
		assert_memory_equal(r + i, "\xc3\xa9", 2);
	assert_non_null(strstr(v, "\xc3\xa9|" AGENT "|"));
}

static void utf8_validation(void **state)
{
	(void)state;
	assert_int_equal(report_utf8_char((const unsigned char *)"a", 1), 1);
	assert_int_equal(report_utf8_char((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(report_utf8_char((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(report_utf8_char((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(report_utf8_char((const unsigned char *)"\xc0\xaf", 2), 0);     /* overlong */
	assert_int_equal(report_utf8_char((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
	assert_int_equal(report_utf8_char((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(report_utf8_char((const unsigned char *)"\xe2\x82", 2), 0);     /* cut short */
	assert_int_equal(report_utf8_char((const unsigned char *)"\x80", 1), 0);
}

/* ---- the pool ------------------------------------------------------------ */

struct tree {
	char dir[64];
	struct root root;
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/azl-prov-report-XXXXXX");
	if (!mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static int records_of(struct kvp_pool *p, const char *key)
{
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];
	int n = 0;

	for (uint32_t i = 0; kvp_pool_enumerate(p, i, k, v) == 0; i++)
		n += strcmp(k, key) == 0;
	return n;
}

static void writes_then_upserts(void **state)
{
	struct tree *t = *state;
	_cleanup_free_ char *ok = provisioning_report_encode(true, NULL, NULL, 0, VMID, TS);
	_cleanup_free_ char *bad = provisioning_report_encode(false, "user not found", NULL, 0, VMID, TS);
	char value[KVP_VALUE_SIZE];
	struct kvp_pool *p;

	assert_int_equal(provisioning_report_write(&t->root, bad), 0);
	assert_int_equal(kvp_pool_open(&t->root, 1, false, &p), 0);
	assert_int_equal(kvp_pool_set(p, "other", "kept"), 0);
	kvp_pool_close(p);
	assert_int_equal(provisioning_report_write(&t->root, ok), 0);

	assert_int_equal(kvp_pool_open(&t->root, 1, false, &p), 0);
	assert_int_equal(kvp_pool_get(p, "PROVISIONING_REPORT", value), 0);
	assert_string_equal(value, ok);
	assert_int_equal(records_of(p, "PROVISIONING_REPORT"), 1);
	assert_int_equal(kvp_pool_get(p, "other", value), 0);
	assert_string_equal(value, "kept");
	kvp_pool_close(p);
}

/* cloud-init appends: a pool may already hold several reports; we leave one. */
static void duplicates_collapse_to_one(void **state)
{
	struct tree *t = *state;
	char value[KVP_VALUE_SIZE], path[512];
	struct kvp_pool *p;
	FILE *f;

	assert_int_equal(kvp_pool_open(&t->root, 1, false, &p), 0);
	kvp_pool_close(p);
	assert_int_equal(root_path(&t->root, ROOT_VAR, path, sizeof(path), "lib/hyperv/.kvp_pool_1"), 0);
	f = fopen(path, "ab");
	assert_non_null(f);
	for (int i = 0; i < 3; i++) {
		char rec[KVP_POOL_RECORD_SIZE] = { 0 };

		strcpy(rec, "PROVISIONING_REPORT");
		snprintf(rec + KVP_KEY_SIZE, KVP_VALUE_SIZE, "result=error|reason=old %d", i);
		assert_int_equal(fwrite(rec, sizeof(rec), 1, f), 1);
	}
	fclose(f);
	assert_int_equal(provisioning_report_write(&t->root, "result=success"), 0);
	assert_int_equal(kvp_pool_open(&t->root, 1, false, &p), 0);
	assert_int_equal(records_of(p, "PROVISIONING_REPORT"), 1);
	assert_int_equal(kvp_pool_get(p, "PROVISIONING_REPORT", value), 0);
	assert_string_equal(value, "result=success");
	kvp_pool_close(p);
}

static void refuses_values_the_host_would_cut(void **state)
{
	struct tree *t = *state;
	char big[1100];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(provisioning_report_write(&t->root, big), -EINVAL);
	big[1022] = '\0';
	assert_int_equal(provisioning_report_write(&t->root, big), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encodes_success),
		cmocka_unit_test(encodes_error_in_cloud_init_order),
		cmocka_unit_test(quotes_like_python_csv),
		cmocka_unit_test(controls_and_bad_utf8_are_cleaned),
		cmocka_unit_test(null_timestamp_is_now_in_utc),
		cmocka_unit_test(extras_cut_at_a_pair_boundary),
		cmocka_unit_test(long_reason_is_shortened_not_the_ids),
		cmocka_unit_test(long_utf8_reason_cut_between_characters),
		cmocka_unit_test(utf8_validation),
		cmocka_unit_test_setup_teardown(writes_then_upserts, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicates_collapse_to_one, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_values_the_host_would_cut, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
