// SPDX-License-Identifier: MIT
/*
 * The provisioning plan is a pure merge (research/provisioning.md §7.4):
 * IMDS wins for host name, user and the password flag; keys from both,
 * OpenSSH-validated and deduplicated; the password by configuration.
 * Fingerprints are those ssh-keygen -l prints.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "provision_plan.h"
#include "ssh_key.h"

/* Two real keys; fingerprints from ssh-keygen -lf. */
#define KEY_ED "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICowvPOCeNqV6BB36YjU4DvesqriyvWhKnRB1kbRVTAw alice@example"
#define KEY_ED_FP "SHA256:bNGNGyyBG8w/1RHHeHBUz5VRxHuZexXDlYG2j39mkTk"
#define KEY_RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC5Dn0/ftHtcbv7XrFYsCZDqtmjfS+UjgjcfDWwGxfrHqyx4xhqZucyiFLSvHqOcZzQCSVq+oKyftZJ/TfS2jrehOp30hKF2bLp5rcwUpoYplFcHStQ2ZrtRUYxfjWdRLSivGOYL8ETxI9EbS9mPKu8oCGfNIhJzTF/ESAobyjbfk3EguncYkH5BnaHt52yZcHkWARWsDMlYik20NSlE9fVEfdHuujw0ijAy7Ja5T9zmGSXpv+EEJgHOjoqMKt6OAkvDf52/xCtm7Tr8pQWcVCYdek+cTtNnDb8EgB/0CazOGSwdnFLec+hVOUVJiU7Lnc4xZXGyt3AV50E2E4ctnGn"
#define KEY_RSA_FP "SHA256:alUPzQ9Es8NIbv7jJHJaMIjfumQOhE+gC6JKdgFFxy0"

struct sources {
	struct imds_instance imds;
	struct ovf_env ovf;
	struct agent_config cfg;
	char err[256];
};

static struct sources *sources(void)
{
	struct sources *s = calloc(1, sizeof(*s));

	s->imds.disable_password_auth = -1;
	s->ovf.disable_ssh_password_auth = -1;
	config_defaults(&s->cfg);
	return s;
}

static void test_fingerprints_match_ssh_keygen(void **state)
{
	char fp[64];

	(void)state;
	assert_int_equal(ssh_key_fingerprint(KEY_ED, fp, sizeof(fp)), 0);
	assert_string_equal(fp, KEY_ED_FP);
	assert_int_equal(ssh_key_fingerprint(KEY_RSA, fp, sizeof(fp)), 0);
	assert_string_equal(fp, KEY_RSA_FP);
	assert_int_equal(ssh_key_fingerprint("ssh-ed25519 not*base64", fp, sizeof(fp)), -EINVAL);
	assert_int_equal(ssh_key_fingerprint("nokey", fp, sizeof(fp)), -EINVAL);
}

static void test_imds_wins(void **state)
{
	struct sources *s = sources();
	struct provision_plan p;

	(void)state;
	s->imds.computer_name = "from-imds";
	s->imds.admin_username = "imdsuser";
	s->ovf.hostname = "from-ovf";
	s->ovf.username = "ovfuser";
	strcpy(s->imds.vm_id, "8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31");
	assert_int_equal(provision_merge(&s->imds, &s->ovf, &s->cfg, "other", &p, s->err,
					 sizeof(s->err)), 0);
	assert_string_equal(p.hostname, "from-imds");
	assert_int_equal(p.hostname_from, SRC_IMDS);
	assert_string_equal(p.username, "imdsuser");
	assert_string_equal(p.vm_id, "8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31");
	free(s);
}

static void test_ovf_fills_gaps_and_empty_is_absent(void **state)
{
	struct sources *s = sources();
	struct provision_plan p;

	(void)state;
	s->imds.computer_name = ""; /* IMDS says "" for not applicable */
	s->ovf.hostname = "from-ovf";
	s->ovf.username = "ovfuser";
	assert_int_equal(provision_merge(&s->imds, &s->ovf, &s->cfg, "dmi-id", &p, s->err,
					 sizeof(s->err)), 0);
	assert_string_equal(p.hostname, "from-ovf");
	assert_int_equal(p.hostname_from, SRC_OVF);
	assert_int_equal(p.username_from, SRC_OVF);
	assert_string_equal(p.vm_id, "dmi-id"); /* no IMDS vmId: DMI's */
	free(s);
}

static void test_no_user_is_an_error(void **state)
{
	struct sources *s = sources();
	struct provision_plan p;

	(void)state;
	assert_int_equal(provision_merge(&s->imds, NULL, &s->cfg, NULL, &p, s->err,
					 sizeof(s->err)), -EINVAL);
	assert_non_null(strstr(s->err, "administrator"));
	assert_int_equal(provision_merge(NULL, NULL, &s->cfg, NULL, &p, s->err, sizeof(s->err)),
			 -EINVAL);
	free(s);
}

static void test_keys_validated_and_deduplicated(void **state)
{
	struct sources *s = sources();
	struct provision_plan p;

	(void)state;
	s->imds.admin_username = "u";
	s->imds.keys[0].key_data = KEY_ED;
	s->imds.keys[1].key_data = "ssh-rsa AAAAnotakey";
	s->imds.n_keys = 2;
	s->ovf.keys[0].value = KEY_ED; /* the same key again */
	s->ovf.keys[1].value = KEY_RSA;
	s->ovf.keys[2].fingerprint = "ABCDEF"; /* a fingerprint alone: no key to write */
	s->ovf.n_keys = 3;
	assert_int_equal(provision_merge(&s->imds, &s->ovf, &s->cfg, NULL, &p, s->err,
					 sizeof(s->err)), 0);
	assert_int_equal(p.n_keys, 2);
	assert_string_equal(p.keys[0], KEY_ED);
	assert_string_equal(p.keys[1], KEY_RSA);
	assert_int_equal(p.keys_rejected, 1);
	free(s);
}

static void test_password_policy_and_ssh_password_auth(void **state)
{
	struct sources *s = sources();
	struct provision_plan p;

	(void)state;
	s->ovf.username = "u";
	s->ovf.password = "secret";
	assert_int_equal(provision_merge(NULL, &s->ovf, &s->cfg, NULL, &p, s->err, sizeof(s->err)), 0);
	assert_string_equal(p.password, "secret");
	assert_true(p.ssh_password_auth); /* a password and nobody said otherwise */
	s->cfg.provision.password = PASSWORD_REFUSE;
	assert_int_equal(provision_merge(NULL, &s->ovf, &s->cfg, NULL, &p, s->err, sizeof(s->err)), 0);
	assert_null(p.password);
	assert_true(p.password_refused);
	assert_false(p.ssh_password_auth);
	/* IMDS's flag wins over OVF's. */
	s->cfg.provision.password = PASSWORD_SET;
	s->ovf.disable_ssh_password_auth = 0;
	s->imds.disable_password_auth = 1;
	s->imds.admin_username = "u";
	assert_int_equal(provision_merge(&s->imds, &s->ovf, &s->cfg, NULL, &p, s->err,
					 sizeof(s->err)), 0);
	assert_false(p.ssh_password_auth);
	free(s);
}

/* The printed plan has fingerprints and never the password. */
static void test_plan_print_never_shows_the_password(void **state)
{
	struct sources *s = sources();
	struct provision_plan p;
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	struct json_object *j;

	(void)state;
	s->ovf.username = "u";
	s->ovf.password = "hunter2-secret";
	s->ovf.keys[0].value = KEY_ED;
	s->ovf.n_keys = 1;
	assert_int_equal(provision_merge(NULL, &s->ovf, &s->cfg, NULL, &p, s->err, sizeof(s->err)), 0);
	provision_plan_print(&p, f);
	fclose(f);
	assert_non_null(strstr(buf, KEY_ED_FP));
	assert_null(strstr(buf, "hunter2"));
	j = provision_plan_json(&p);
	assert_null(strstr(json_object_to_json_string(j), "hunter2"));
	assert_string_equal(json_object_get_string(json_object_object_get(j, "password")), "set");
	json_object_put(j);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprints_match_ssh_keygen),
		cmocka_unit_test(test_imds_wins),
		cmocka_unit_test(test_ovf_fills_gaps_and_empty_is_absent),
		cmocka_unit_test(test_no_user_is_an_error),
		cmocka_unit_test(test_keys_validated_and_deduplicated),
		cmocka_unit_test(test_password_policy_and_ssh_password_auth),
		cmocka_unit_test(test_plan_print_never_shows_the_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
