// SPDX-License-Identifier: MIT
/*
 * IMDS: the instance document parser, the OpenSSH key check, the retry
 * table, and the fetch loop and HTTP client against a scripted HTTP server
 * on 127.0.0.1 (a thread of this test; the full simulator is elsewhere).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "http_client.h"
#include "imds.h"

/* Real keys made with ssh-keygen; the sk ones built by hand (no token here). */
#define KEY_ED25519 \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfBQPTd/fIvVj73EMookIVJu+JNcTJg6zVWcMNrGmJ8 test@ed25519"
#define KEY_RSA2048                                                                                      \
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCpRyCARdOxqzCY/WEccClt8i65hRs34u64+TfBOuJK/YVNkho02tz2nCHXtR3" \
	"zhGkq9Gh3qz99Ezj+IQyJNotMdLfIvpct188mz9AwISzBc/GQiFtUBtJaiDkdLNVydWlsZqMYYDwvSknfKn/TELed9n7D7jUuK+" \
	"esj8L3XsJxBZtYjugUUB8S7ku1VY4plLSicFgNvfKfV8Y/Ssej0azRzwmzmWpoaC/c6uIb8T29Gxk8vQeb2PHke4U3WH+/JIyK" \
	"Zm5f3XTZ282FW+jzZYE6WiejJ1var+Cl7PNuUZUtHpLG4lYBwc/QAzaa3VJ9PZ4EYwNOJk8PdonsIzOAfNhb test@rsab2048"
#define KEY_ECDSA256                                                                                   \
	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA2j0s6qO/z/J6Jzg2RQ2jz0NOc" \
	"vUBkEHFRWBJKPXmbfqpdcTZd025Z+2TO0UMby5EwHeFcD9QLdu3+sXm6MHzc= test@ecdsab256"
#define KEY_ECDSA521                                                                                   \
	"ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBADsqBa9LDawyt8K8C8ItWsAhaJ" \
	"8BqA726S5XtgCfeiKPqqvZ8wz4W/h8EdcJ0BZlZ/0nw6+oFePVy6N4htaNaDpoAG3hSiGkiUHPFLGz6YbrXL/k6Xze9NtoUMkuY" \
	"lUJdnFVfNNY6Ytl3y3mTpTLJY6wT929X364I9a8NpgCkq/hJMv2A== test@ecdsab521"
#define KEY_RSA1024                                                                                    \
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMGDd8B//QffFwG0tTpUZQy8VT4t9JyskCiizqOGfGJG4OAESIuQHFQ3lIYEY" \
	"IQl4Hf7nyoQ0IsvZSAdafjWGPMJ8uzrEJtuupB+fIQrA0VDoJdeYuny9yM47BYozO5IVb0Cm3G2AU0ulKnCrl37tZE9jk0UNNZ6" \
	"7hoTjlxoIhvQ== test@rsab1024"
#define KEY_SK_ED25519                                                                                 \
	"sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCwwNDg8QERI" \
	"TFBUWFxgZGhscHR4fAAAABHNzaDo= yubi@test"
#define KEY_SK_ECDSA                                                                                    \
	"sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAy" \
	"NTYAAABBBAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8AAA" \
	"AEc3NoOg=="
#define KEY_DSA_PREFIX "ssh-dss AAAAB3NzaC1kc3MAAACBAId+pRbs5jmhxS6+p9rgP12EprAL"
#define ED25519_B64 "AAAAC3NzaC1lZDI1NTE5AAAAINfBQPTd/fIvVj73EMookIVJu+JNcTJg6zVWcMNrGmJ8"

static int parse(const char *json, struct imds_instance *inst, char *err, size_t errlen)
{
	return imds_parse(json, strlen(json), inst, err, errlen);
}

/* ---- ssh_public_key_valid ------------------------------------------------ */

static void test_keys_valid(void **state)
{
	(void)state;
	assert_true(ssh_public_key_valid(KEY_ED25519));
	assert_true(ssh_public_key_valid(KEY_RSA2048));
	assert_true(ssh_public_key_valid(KEY_RSA1024));
	assert_true(ssh_public_key_valid(KEY_ECDSA256));
	assert_true(ssh_public_key_valid(KEY_ECDSA521));
	assert_true(ssh_public_key_valid(KEY_SK_ED25519));
	assert_true(ssh_public_key_valid(KEY_SK_ECDSA));
	/* No comment, or a tab as separator, or spaces in the comment. */
	assert_true(ssh_public_key_valid("ssh-ed25519 " ED25519_B64));
	assert_true(ssh_public_key_valid("ssh-ed25519\t" ED25519_B64 "\tmy laptop key"));
}

static void test_keys_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"ssh-ed25519",
		"ssh-ed25519 ",
		/* Declared type differs from the type inside the blob. */
		"ssh-rsa " ED25519_B64,
		"ecdsa-sha2-nistp384 " ED25519_B64,
		/* Garbage and damaged base64. */
		"ssh-ed25519 !!!notbase64!!!",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfBQPTd/fIvVj73EMookIVJu+JNcTJg6zVWcMNrGmJ",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfBQPTd/fIvVj73EMookIVJu+JNcTJg6zVWcMNrGm==",
		"ssh-ed25519 AAAA",
		/* Options prefixes are not accepted from the platform. */
		"no-pty " KEY_ED25519,
		"command=\"/bin/sh\" " KEY_ED25519,
		/* Line breaks: two entries where one was validated. */
		KEY_ED25519 "\nssh-ed25519 " ED25519_B64,
		KEY_ED25519 "\r",
		"ssh-ed25519 " ED25519_B64 " a\x7f",
		/* DSA: refused by today's sshd. */
		KEY_DSA_PREFIX,
		"unknown-type " ED25519_B64,
		"SSH-ED25519 " ED25519_B64,
		" ssh-ed25519 " ED25519_B64,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ssh_public_key_valid(bad[i]))
			fail_msg("accepted bad key %zu: %s", i, bad[i]);
	}
	assert_false(ssh_public_key_valid(NULL));
}

/* Keys generated now, when ssh-keygen is here: the check is OpenSSH's, not ours. */
static void test_keys_generated(void **state)
{
	static const char *const types[] = { "ed25519", "rsa", "ecdsa" };
	char dir[] = "/tmp/azl-imds-keys-XXXXXX", cmd[512], line[8192];

	(void)state;
	if (system("command -v ssh-keygen >/dev/null 2>&1") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < 3; i++) {
		FILE *f;

		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t %s -N '' -C 'gen key' -f %s/k%zu >/dev/null 2>&1",
			 types[i], dir, i);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s/k%zu.pub", dir, i);
		f = fopen(cmd, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (!ssh_public_key_valid(line))
			fail_msg("ssh-keygen %s key refused: %s", types[i], line);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- imds_parse ------------------------------------------------------------ */

static void test_parse_minimal(void **state)
{
	struct imds_instance inst;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"compute\":{}}", &inst, err, sizeof(err)), 0);
	assert_string_equal(inst.vm_id, "");
	assert_null(inst.vm_size);
	assert_null(inst.computer_name);
	assert_null(inst.admin_username);
	assert_int_equal(inst.disable_password_auth, -1);
	assert_int_equal(inst.n_keys, 0);
	assert_null(inst.user_data);
	assert_string_equal(inst.compute_json, "{}");
	imds_instance_free(&inst);
}

/* The shape IMDS answers with extended=true: every primitive a string. */
static const char full_doc[] =
	"{\n"
	"  \"compute\": {\n"
	"    \"azEnvironment\": \"AzurePublicCloud\",\n"
	"    \"extendedLocation\": {\"type\": \"\", \"name\": \"\"},\n"
	"    \"location\": \"westus2\",\n"
	"    \"name\": \"vm0\",\n"
	"    \"offer\": \"azure-linux-3\",\n"
	"    \"osProfile\": {\n"
	"      \"adminUsername\": \"azureuser\",\n"
	"      \"computerName\": \"vm0-host\",\n"
	"      \"disablePasswordAuthentication\": \"true\"\n"
	"    },\n"
	"    \"osType\": \"Linux\",\n"
	"    \"platformFaultDomain\": \"0\",\n"
	"    \"platformUpdateDomain\": \"0\",\n"
	"    \"publicKeys\": [\n"
	"      {\"keyData\": \"" KEY_ED25519 "\", \"path\": \"/home/azureuser/.ssh/authorized_keys\"},\n"
	"      {\"keyData\": \"" KEY_RSA2048 "\\r\\n\", \"path\": \"/home/azureuser/.ssh/authorized_keys\"}\n"
	"    ],\n"
	"    \"securityProfile\": {\"secureBootEnabled\": \"true\", \"virtualTpmEnabled\": \"false\"},\n"
	"    \"storageProfile\": {\"resourceDisk\": {\"size\": \"16384\"}, \"dataDisks\": []},\n"
	"    \"tags\": \"a:b;c:d\",\n"
	"    \"tagsList\": [{\"name\": \"a\", \"value\": \"b\"}],\n"
	"    \"userData\": \"I2Nsb3VkLWNvbmZpZwo=\",\n"
	"    \"vmId\": \"5C8E4B5A-1F2D-4E3C-9A8B-7D6C5B4A3F2E\",\n"
	"    \"vmSize\": \"Standard_D2s_v5\",\n"
	"    \"zone\": \"\"\n"
	"  },\n"
	"  \"network\": {\"interface\": [{\"macAddress\": \"000D3A123456\", \"ipv4\": {\"ipAddress\": "
	"[{\"privateIpAddress\": \"10.0.0.4\", \"publicIpAddress\": \"\"}], \"subnet\": [{\"address\": "
	"\"10.0.0.0\", \"prefix\": \"24\"}]}, \"ipv6\": {\"ipAddress\": []}}]},\n"
	"  \"extended\": {\"compute\": {\"ppsType\": \"None\", \"hasCustomData\": false}}\n"
	"}\n";

static void test_parse_full(void **state)
{
	struct imds_instance inst;
	char err[256];

	(void)state;
	assert_int_equal(parse(full_doc, &inst, err, sizeof(err)), 0);
	assert_string_equal(inst.vm_id, "5c8e4b5a-1f2d-4e3c-9a8b-7d6c5b4a3f2e");
	assert_string_equal(inst.vm_size, "Standard_D2s_v5");
	assert_string_equal(inst.location, "westus2");
	assert_string_equal(inst.computer_name, "vm0-host");
	assert_string_equal(inst.admin_username, "azureuser");
	assert_int_equal(inst.disable_password_auth, 1);
	assert_int_equal(inst.n_keys, 2);
	assert_int_equal(inst.n_invalid_keys, 0);
	assert_string_equal(inst.keys[0].key_data, KEY_ED25519);
	assert_string_equal(inst.keys[0].path, "/home/azureuser/.ssh/authorized_keys");
	/* The CRLF a key pasted from Windows carries is trimmed. */
	assert_string_equal(inst.keys[1].key_data, KEY_RSA2048);
	assert_string_equal(inst.user_data, "I2Nsb3VkLWNvbmZpZwo=");
	assert_non_null(strstr(inst.compute_json, "\"vmSize\":\"Standard_D2s_v5\""));
	assert_non_null(strstr(inst.compute_json, "\"tagsList\""));
	assert_null(strstr(inst.compute_json, "macAddress"));
	imds_instance_free(&inst);
	/* Freeing twice is harmless. */
	imds_instance_free(&inst);
}

static void test_parse_keys_dropped(void **state)
{
	struct imds_instance inst;
	char err[256];
	const char *doc = "{\"compute\":{\"publicKeys\":["
			  "{\"keyData\":\"no-pty " KEY_ED25519 "\"},"
			  "{\"keyData\":\"" KEY_ED25519 "\\n" KEY_RSA2048 "\"},"
			  "{\"keyData\":\"ssh-rsa " ED25519_B64 "\"},"
			  "{\"keyData\":\"\"},"
			  "{\"path\":\"/x\"},"
			  "{\"keyData\":\"  " KEY_SK_ED25519 " \\r\\n\",\"path\":null},"
			  "{\"keyData\":\"" KEY_DSA_PREFIX "\"}"
			  "]}}";

	(void)state;
	assert_int_equal(parse(doc, &inst, err, sizeof(err)), 0);
	assert_int_equal(inst.n_keys, 1);
	assert_int_equal(inst.n_invalid_keys, 6);
	assert_string_equal(inst.keys[0].key_data, KEY_SK_ED25519);
	assert_null(inst.keys[0].path);
	imds_instance_free(&inst);
}

static void test_parse_bool_forms(void **state)
{
	static const struct {
		const char *value;
		int want;
	} cases[] = {
		{ "true", 1 }, { "false", 0 }, { "\"true\"", 1 }, { "\"false\"", 0 }, { "\"True\"", 1 },
		{ "\"FALSE\"", 0 }, { "\"\"", -1 }, { "null", -1 },
	};
	struct imds_instance inst;
	char doc[256], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "{\"compute\":{\"osProfile\":{\"disablePasswordAuthentication\":%s}}}",
			 cases[i].value);
		assert_int_equal(parse(doc, &inst, err, sizeof(err)), 0);
		assert_int_equal(inst.disable_password_auth, cases[i].want);
		imds_instance_free(&inst);
	}
}

/* Wrong type for each key: -EINVAL and cloud-init's wording with the key. */
static void test_parse_wrong_types(void **state)
{
	static const struct {
		const char *doc, *key;
	} cases[] = {
		{ "{\"compute\":{\"osProfile\":{\"adminUsername\":42}}}", "compute.osProfile.adminUsername" },
		{ "{\"compute\":{\"osProfile\":{\"adminUsername\":[\"a\"]}}}", "compute.osProfile.adminUsername" },
		{ "{\"compute\":{\"osProfile\":{\"computerName\":{}}}}", "compute.osProfile.computerName" },
		{ "{\"compute\":{\"osProfile\":{\"disablePasswordAuthentication\":1}}}",
		  "compute.osProfile.disablePasswordAuthentication" },
		{ "{\"compute\":{\"osProfile\":{\"disablePasswordAuthentication\":\"yes\"}}}",
		  "compute.osProfile.disablePasswordAuthentication" },
		{ "{\"compute\":{\"osProfile\":\"x\"}}", "compute.osProfile" },
		{ "{\"compute\":{\"vmId\":1}}", "compute.vmId" },
		{ "{\"compute\":{\"vmId\":\"not-a-uuid\"}}", "compute.vmId" },
		{ "{\"compute\":{\"vmId\":\"5c8e4b5a-1f2d-4e3c-9a8b-7d6c5b4a3f2\"}}", "compute.vmId" },
		{ "{\"compute\":{\"vmId\":\"5c8e4b5a-1f2d-4e3c-9a8b-7d6c5b4a3f2e0\"}}", "compute.vmId" },
		{ "{\"compute\":{\"vmSize\":true}}", "compute.vmSize" },
		{ "{\"compute\":{\"location\":1.5}}", "compute.location" },
		{ "{\"compute\":{\"userData\":{}}}", "compute.userData" },
		{ "{\"compute\":{\"publicKeys\":{}}}", "compute.publicKeys" },
		{ "{\"compute\":{\"publicKeys\":[\"" KEY_ED25519 "\"]}}", "compute.publicKeys[0]" },
		{ "{\"compute\":{\"publicKeys\":[{\"keyData\":\"" KEY_ED25519 "\"},{\"keyData\":7}]}}",
		  "compute.publicKeys[1].keyData" },
		{ "{\"compute\":{\"publicKeys\":[{\"keyData\":\"" KEY_ED25519 "\",\"path\":[]}]}}",
		  "compute.publicKeys[0].path" },
		{ "{\"compute\":{\"osProfile\":{\"adminUsername\":\"a\\u0000b\"}}}", "compute.osProfile.adminUsername" },
		{ "{\"compute\":[]}", "compute" },
		{ "{\"network\":{}}", "compute" },
		{ "{\"compute\":null}", "compute" },
	};
	struct imds_instance inst;
	char err[256], want[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].doc, &inst, err, sizeof(err));

		if (r != -EINVAL)
			fail_msg("case %zu: %d, not -EINVAL: %s", i, r, cases[i].doc);
		snprintf(want, sizeof(want), "invalid IMDS metadata for key=%s:", cases[i].key);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err, want);
		/* On error nothing is left to free and nothing half-filled. */
		assert_null(inst.compute_json);
		assert_int_equal(inst.n_keys, 0);
		imds_instance_free(&inst);
	}
}

static void test_parse_syntax(void **state)
{
	static const char *const docs[] = {
		"", "{", "{\"compute\":{\"vmSize\":\"Standard", "[]", "\"compute\"", "42", "null",
		"{\"compute\":{}} trailing", "{\"compute\":{}}{\"compute\":{}}",
		"{\"compute\":{},}", "{\"compute\":{\"vmSize\":\"\xff\xfe\"}}", "{\"compute\":{}} // comment",
	};
	struct imds_instance inst;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int r = parse(docs[i], &inst, err, sizeof(err));

		if (r != -EINVAL)
			fail_msg("doc %zu accepted: %s", i, docs[i]);
		assert_non_null(strstr(err, "IMDS metadata"));
	}
	/* A NUL byte inside the body (length given) is not the end of it. */
	assert_int_equal(imds_parse("{\"compute\":{}}\0{}", 17, &inst, err, sizeof(err)), -EINVAL);
	/* Blank lines after the document are fine. */
	assert_int_equal(parse("{\"compute\":{}}\r\n\n", &inst, err, sizeof(err)), 0);
	imds_instance_free(&inst);
	assert_int_equal(imds_parse(NULL, 0, &inst, err, sizeof(err)), -EINVAL);
}

static char *doc_with_string(const char *key_json_prefix, size_t n, const char *suffix)
{
	size_t len = strlen(key_json_prefix) + n + strlen(suffix) + 1;
	char *doc = malloc(len);

	assert_non_null(doc);
	strcpy(doc, key_json_prefix);
	memset(doc + strlen(key_json_prefix), 'a', n);
	strcpy(doc + strlen(key_json_prefix) + n, suffix);
	return doc;
}

static void test_parse_huge(void **state)
{
	struct imds_instance inst;
	char err[256];
	char *doc;

	(void)state;
	doc = doc_with_string("{\"compute\":{\"osProfile\":{\"computerName\":\"", 300, "\"}}}");
	assert_int_equal(parse(doc, &inst, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "key=compute.osProfile.computerName: longer than"));
	free(doc);
	doc = doc_with_string("{\"compute\":{\"vmSize\":\"", 100000, "\"}}");
	assert_int_equal(parse(doc, &inst, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "key=compute.vmSize"));
	free(doc);
	/* userData may be large (Azure allows 64 KiB before base64). */
	doc = doc_with_string("{\"compute\":{\"userData\":\"", 200000, "\"}}");
	assert_int_equal(parse(doc, &inst, err, sizeof(err)), 0);
	assert_int_equal(strlen(inst.user_data), 200000);
	imds_instance_free(&inst);
	free(doc);
	/* A document above the HTTP body limit is refused before parsing. */
	doc = doc_with_string("{\"compute\":{\"userData\":\"", HTTP_BODY_MAX, "\"}}");
	assert_int_equal(parse(doc, &inst, err, sizeof(err)), -EINVAL);
	free(doc);
	/* Deep nesting stops at json-c's depth limit, not the stack. */
	doc = malloc(200001);
	memset(doc, '[', 200000);
	doc[200000] = '\0';
	assert_int_equal(parse(doc, &inst, err, sizeof(err)), -EINVAL);
	free(doc);
}

static void test_parse_key_count(void **state)
{
	struct imds_instance inst;
	char err[256];
	size_t cap = 64 * 200 + 64, len;
	char *doc = malloc(cap);

	(void)state;
	for (size_t n = IMDS_MAX_KEYS; n <= IMDS_MAX_KEYS + 1; n++) {
		len = (size_t)snprintf(doc, cap, "{\"compute\":{\"publicKeys\":[");
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(doc + len, cap - len, "%s{\"keyData\":\"%s\"}", i ? "," : "",
						"ssh-ed25519 " ED25519_B64);
		snprintf(doc + len, cap - len, "]}}");
		if (n == IMDS_MAX_KEYS) {
			assert_int_equal(parse(doc, &inst, err, sizeof(err)), 0);
			assert_int_equal(inst.n_keys, IMDS_MAX_KEYS);
			imds_instance_free(&inst);
		} else {
			assert_int_equal(parse(doc, &inst, err, sizeof(err)), -EINVAL);
			assert_non_null(strstr(err, "key=compute.publicKeys: more than"));
		}
	}
	free(doc);
}

static void test_parse_nulls_and_empty(void **state)
{
	struct imds_instance inst;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"compute\":{\"vmId\":\"\",\"vmSize\":null,\"osProfile\":{\"computerName\":\"\","
			       "\"adminUsername\":null,\"extra\":[1,2]},\"publicKeys\":null,\"userData\":\"\","
			       "\"unknown\":{\"deep\":[{}]}}}",
			       &inst, err, sizeof(err)),
			 0);
	assert_string_equal(inst.vm_id, "");
	assert_null(inst.vm_size);
	assert_null(inst.computer_name);
	assert_null(inst.admin_username);
	assert_null(inst.user_data);
	assert_int_equal(inst.n_keys, 0);
	imds_instance_free(&inst);
}

/* ---- imds_next_step ---------------------------------------------------------- */

static void test_next_step(void **state)
{
	static const struct {
		long status;
		bool transport, fallback;
		enum imds_next want;
	} t[] = {
		{ 200, false, false, IMDS_DONE },     { 200, false, true, IMDS_DONE },
		{ 400, false, false, IMDS_FALLBACK }, { 400, false, true, IMDS_FAIL },
		{ 404, false, false, IMDS_RETRY },    { 410, false, true, IMDS_RETRY },
		{ 429, false, false, IMDS_RETRY },    { 500, false, false, IMDS_RETRY },
		{ 503, false, true, IMDS_RETRY },     { 502, false, false, IMDS_RETRY },
		{ 504, false, false, IMDS_RETRY },    { 401, false, false, IMDS_FAIL },
		{ 403, false, false, IMDS_FAIL },     { 405, false, false, IMDS_FAIL },
		{ 302, false, false, IMDS_FAIL },     { 0, true, false, IMDS_RETRY },
		{ 0, true, true, IMDS_RETRY },        { 0, false, false, IMDS_RETRY },
		{ 600, false, false, IMDS_FAIL },     { 100, false, false, IMDS_FAIL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (imds_next_step(t[i].status, t[i].transport, t[i].fallback) != t[i].want)
			fail_msg("row %zu: status %ld", i, t[i].status);
}

/* ---- a scripted HTTP server on 127.0.0.1 ------------------------------------ */

struct reply {
	int status;               /* 0: close the connection without answering */
	const char *headers;      /* extra header lines, each ending in \r\n */
	const char *body;
	size_t body_len;          /* 0: strlen(body) */
};

#define MAX_REQS 64

struct server {
	int fd, port;
	pthread_t thread;
	const struct reply *script;
	size_t n_script;          /* the last reply repeats */
	atomic_bool stop;
	atomic_size_t served;
	char requests[MAX_REQS][2048];
};

static void read_request(int c, char *out, size_t len)
{
	size_t n = 0;
	char *end;

	while (n + 1 < len) {
		ssize_t r = recv(c, out + n, len - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = '\0';
		end = strstr(out, "\r\n\r\n");
		if (end) {
			const char *cl = strcasestr(out, "Content-Length:");
			size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;

			if (n >= (size_t)(end + 4 - out) + want)
				break;
		}
	}
	out[n] = '\0';
}

static void send_all(int c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void answer(int c, const struct reply *r)
{
	char head[512];
	size_t blen = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
	int n;

	if (r->status == 0)
		return;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		     r->status, blen, r->headers ? r->headers : "");
	send_all(c, head, (size_t)n);
	if (blen)
		send_all(c, r->body, blen);
}

static void *serve(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		size_t i;
		int c;

		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		i = atomic_load(&s->served);
		read_request(c, s->requests[i < MAX_REQS ? i : MAX_REQS - 1], sizeof(s->requests[0]));
		answer(c, &s->script[i < s->n_script ? i : s->n_script - 1]);
		atomic_store(&s->served, i + 1);
		close(c);
	}
	return NULL;
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct server *server_start(const struct reply *script, size_t n)
{
	struct server *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->script = script;
	s->n_script = n;
	s->fd = listen_loopback(&s->port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	return s;
}

static size_t server_stop(struct server *s)
{
	size_t n;

	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	n = atomic_load(&s->served);
	return n;
}

static void options_for(const struct server *s, char *url, size_t len, struct imds_options *o, unsigned budget)
{
	snprintf(url, len, "http://127.0.0.1:%d/", s->port);
	*o = (struct imds_options){ .base_url = url, .budget_ms = budget, .retry_ms = 5 };
}

#define OK_DOC "{\"compute\":{\"vmId\":\"5c8e4b5a-1f2d-4e3c-9a8b-7d6c5b4a3f2e\"}}"

static void header_value(const char *req, const char *name, char *out, size_t len)
{
	const char *h = strcasestr(req, name);

	out[0] = '\0';
	if (!h)
		return;
	h += strlen(name);
	while (*h == ' ')
		h++;
	snprintf(out, len, "%.*s", (int)strcspn(h, "\r\n"), h);
}

static void test_fetch_500_500_200(void **state)
{
	static const struct reply script[] = { { 500, NULL, "oops", 0 }, { 500, NULL, NULL, 0 },
					       { 200, NULL, OK_DOC, 0 } };
	struct server *s = server_start(script, 3);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256], ids[3][64], meta[16];

	(void)state;
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), 0);
	assert_int_equal(server_stop(s), 3);
	assert_string_equal(inst.vm_id, "5c8e4b5a-1f2d-4e3c-9a8b-7d6c5b4a3f2e");
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(strstr(s->requests[i], "GET /metadata/instance?api-version=2021-08-01&extended=true "));
		header_value(s->requests[i], "\r\nMetadata:", meta, sizeof(meta));
		assert_string_equal(meta, "true");
		header_value(s->requests[i], "\r\nx-ms-client-request-id:", ids[i], sizeof(ids[i]));
		assert_int_equal(strlen(ids[i]), 36);
		assert_int_equal(ids[i][14], '4'); /* version 4 */
		assert_non_null(strchr("89ab", ids[i][19]));
		assert_null(strcasestr(s->requests[i], "X-Forwarded-For"));
	}
	/* A fresh id for every attempt. */
	assert_string_not_equal(ids[0], ids[1]);
	assert_string_not_equal(ids[1], ids[2]);
	imds_instance_free(&inst);
	free(s);
}

static void test_fetch_fallback(void **state)
{
	static const struct reply script[] = { { 400, NULL, "{\"error\":\"Bad request. api-version is invalid\"}", 0 },
					       { 200, NULL, OK_DOC, 0 } };
	struct server *s = server_start(script, 2);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), 0);
	assert_int_equal(server_stop(s), 2);
	assert_non_null(strstr(s->requests[0], "api-version=2021-08-01&extended=true "));
	assert_non_null(strstr(s->requests[1], "GET /metadata/instance?api-version=2019-06-01 "));
	imds_instance_free(&inst);
	free(s);
}

static void test_fetch_400_twice(void **state)
{
	static const struct reply script[] = { { 400, NULL, "{\"error\":\"no\"}", 0 } };
	struct server *s = server_start(script, 1);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -EPROTO);
	assert_int_equal(server_stop(s), 2);
	assert_non_null(strstr(err, "HTTP status 400 querying IMDS"));
	free(s);
}

static void test_fetch_403(void **state)
{
	static const struct reply script[] = { { 403, NULL, "{\"error\":\"Forbidden\nproxy\"}", 0 },
					       { 200, NULL, OK_DOC, 0 } };
	struct server *s = server_start(script, 2);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -EPROTO);
	assert_int_equal(server_stop(s), 1);
	/* The reason IMDS gave, on one line. */
	assert_string_equal(err, "HTTP status 403 querying IMDS: {\"error\":\"Forbidden?proxy\"}");
	assert_null(inst.compute_json);
	free(s);
}

static void test_fetch_429_retry_after(void **state)
{
	static const struct reply script[] = { { 429, "Retry-After: 1\r\n", NULL, 0 }, { 200, NULL, OK_DOC, 0 } };
	struct server *s = server_start(script, 2);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), 0);
	assert_int_equal(server_stop(s), 2);
	imds_instance_free(&inst);
	free(s);
}

/* A Retry-After beyond the budget ends the loop at once rather than sleeping in vain. */
/*
 * A Retry-After beyond the budget: wait what is left of it, then try once
 * more (giving up at once would throw away the time we were given).
 */
static void test_fetch_retry_after_beyond_budget(void **state)
{
	static const struct reply script[] = { { 503, "Retry-After: 3600\r\n", NULL, 0 }, { 200, NULL, OK_DOC, 0 } };
	struct server *s = server_start(script, 2);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 1000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), 0);
	assert_int_equal(server_stop(s), 2);
	imds_instance_free(&inst);
	free(s);
}

/* "Retry-After: 0" does not shorten the configured pause into a flood. */
static void test_fetch_retry_after_zero_keeps_the_pause(void **state)
{
	static const struct reply script[] = { { 503, "Retry-After: 0\r\n", NULL, 0 } };
	struct server *s = server_start(script, 1);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];
	int requests;

	(void)state;
	options_for(s, url, sizeof(url), &o, 1000);
	o.retry_ms = 250;
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -ETIMEDOUT);
	requests = server_stop(s);
	/* 1 s of budget at one attempt per 250 ms: a handful, not thousands. */
	if (requests < 2 || requests > 8)
		fail_msg("%d requests in a 1 s budget with a 250 ms pause", requests);
	free(s);
}

static void test_fetch_truncated(void **state)
{
	static const struct reply script[] = { { 200, NULL, "{\"compute\":{\"osProfile\":{\"adminUsername\":\"az", 0 },
					       { 200, NULL, OK_DOC, 0 } };
	static const struct reply wrong[] = { { 200, NULL, "{\"compute\":{\"osProfile\":{\"adminUsername\":false}}}",
						0 } };
	struct server *s = server_start(script, 2);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 10000);
	/* Not retried: the same bytes would come again. */
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -EINVAL);
	assert_int_equal(server_stop(s), 1);
	assert_non_null(strstr(err, "unusable IMDS metadata"));
	free(s);
	s = server_start(wrong, 1);
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -EINVAL);
	assert_int_equal(server_stop(s), 1);
	assert_string_equal(err, "invalid IMDS metadata for key=compute.osProfile.adminUsername: not a string");
	free(s);
}

static void test_fetch_budget_500(void **state)
{
	static const struct reply script[] = { { 500, NULL, NULL, 0 } };
	struct server *s = server_start(script, 1);
	struct imds_instance inst;
	struct imds_options o;
	char url[64], err[256];

	(void)state;
	options_for(s, url, sizeof(url), &o, 150);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -ETIMEDOUT);
	assert_true(server_stop(s) >= 1);
	assert_non_null(strstr(err, "HTTP status 500 querying IMDS"));
	free(s);
}

/* Connection refused and a peer that hangs up are retried until the budget ends. */
static void test_fetch_transport_errors(void **state)
{
	static const struct reply hangup[] = { { 0, NULL, NULL, 0 }, { 0, NULL, NULL, 0 }, { 200, NULL, OK_DOC, 0 } };
	struct imds_instance inst;
	struct imds_options o;
	struct server *s;
	char url[64], err[256];
	int port, fd = listen_loopback(&port);

	(void)state;
	close(fd); /* nothing listens there now */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	o = (struct imds_options){ .base_url = url, .budget_ms = 100, .retry_ms = 5 };
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "connection problem querying IMDS"));
	s = server_start(hangup, 3);
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), 0);
	assert_int_equal(server_stop(s), 3);
	imds_instance_free(&inst);
	free(s);
	o.base_url = NULL;
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -EINVAL);
}

/* ---- http_do ------------------------------------------------------------------ */

static void test_http_huge_body(void **state)
{
	static struct reply script[] = { { 200, NULL, NULL, HTTP_BODY_MAX + 1 } };
	char *big = malloc(HTTP_BODY_MAX + 1);
	struct imds_instance inst;
	struct imds_options o;
	struct server *s;
	char url[64], err[256];

	(void)state;
	memset(big, ' ', HTTP_BODY_MAX + 1);
	script[0].body = big;
	s = server_start(script, 1);
	options_for(s, url, sizeof(url), &o, 10000);
	assert_int_equal(imds_fetch(&o, &inst, err, sizeof(err)), -EINVAL);
	assert_int_equal(server_stop(s), 1);
	assert_non_null(strstr(err, "larger than"));
	free(s);
	free(big);
}

static void test_http_basics(void **state)
{
	static const struct reply script[] = {
		{ 302, "Location: http://127.0.0.1:1/elsewhere\r\n", NULL, 0 },
		{ 503, "Retry-After: 7\r\n", NULL, 0 },
		{ 503, "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n", NULL, 0 },
		{ 503, "Retry-After: soon\r\n", NULL, 0 },
		{ 201, NULL, "made", 0 },
	};
	struct server *s = server_start(script, 5);
	const char *hdrs[] = { "x-ms-version: 2012-11-30", NULL };
	struct http_request req = { .method = "GET", .headers = hdrs, .timeout_ms = 5000 };
	struct http_response resp;
	char url[64];

	(void)state;
	/* The proxy variables are ignored: IMDS refuses proxied requests. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	setenv("all_proxy", "http://127.0.0.1:1", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/machine?comp=goalstate", s->port);
	req.url = url;
	/* Redirects are answers, not followed. */
	assert_int_equal(http_do(&req, &resp), 0);
	assert_int_equal(resp.status, 302);
	assert_int_equal(resp.retry_after_s, -1);
	assert_string_equal(resp.body, "");
	http_response_free(&resp);
	assert_int_equal(http_do(&req, &resp), 0);
	assert_int_equal(resp.retry_after_s, 7);
	http_response_free(&resp);
	assert_int_equal(http_do(&req, &resp), 0);
	assert_int_equal(resp.retry_after_s, 0); /* a date in the past: now */
	http_response_free(&resp);
	assert_int_equal(http_do(&req, &resp), 0);
	assert_int_equal(resp.retry_after_s, -1);
	http_response_free(&resp);
	req.method = "POST";
	req.body = "<Health/>";
	req.body_len = 9;
	assert_int_equal(http_do(&req, &resp), 0);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body, "made");
	assert_int_equal(resp.body_len, 4);
	http_response_free(&resp);
	assert_int_equal(server_stop(s), 5);
	assert_non_null(strstr(s->requests[4], "POST /machine?comp=goalstate "));
	assert_non_null(strstr(s->requests[4], "\r\n\r\n<Health/>"));
	assert_non_null(strstr(s->requests[4], "x-ms-version: 2012-11-30\r\n"));
	assert_null(strcasestr(s->requests[4], "Expect:"));
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	free(s);
}

static void test_http_errors(void **state)
{
	const char *bad_hdrs[] = { "X: a\r\nInjected: b", NULL };
	struct http_request req = { .method = "GET", .url = "http://127.0.0.1:1/", .timeout_ms = 2000 };
	struct http_response resp;
	int port, fd = listen_loopback(&port);
	char url[64];

	(void)state;
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	req.url = url;
	assert_true(http_do(&req, &resp) < 0);
	assert_int_equal(resp.status, 0);
	assert_true(resp.error[0] != '\0');
	http_response_free(&resp);
	req.headers = bad_hdrs;
	assert_int_equal(http_do(&req, &resp), -EINVAL);
	req.headers = NULL;
	req.method = "DELETE";
	assert_int_equal(http_do(&req, &resp), -EINVAL);
	req.method = "GET";
	req.url = "file:///nonexistent/x";
	assert_true(http_do(&req, &resp) < 0);
	assert_null(resp.body);
	http_response_free(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_valid),
		cmocka_unit_test(test_keys_invalid),
		cmocka_unit_test(test_keys_generated),
		cmocka_unit_test(test_parse_minimal),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_keys_dropped),
		cmocka_unit_test(test_parse_bool_forms),
		cmocka_unit_test(test_parse_wrong_types),
		cmocka_unit_test(test_parse_syntax),
		cmocka_unit_test(test_parse_huge),
		cmocka_unit_test(test_parse_key_count),
		cmocka_unit_test(test_parse_nulls_and_empty),
		cmocka_unit_test(test_next_step),
		cmocka_unit_test(test_fetch_500_500_200),
		cmocka_unit_test(test_fetch_fallback),
		cmocka_unit_test(test_fetch_400_twice),
		cmocka_unit_test(test_fetch_403),
		cmocka_unit_test(test_fetch_429_retry_after),
		cmocka_unit_test(test_fetch_retry_after_beyond_budget),
		cmocka_unit_test(test_fetch_retry_after_zero_keeps_the_pause),
		cmocka_unit_test(test_fetch_truncated),
		cmocka_unit_test(test_fetch_budget_500),
		cmocka_unit_test(test_fetch_transport_errors),
		cmocka_unit_test(test_http_huge_body),
		cmocka_unit_test(test_http_basics),
		cmocka_unit_test(test_http_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
