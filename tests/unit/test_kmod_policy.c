// SPDX-License-Identifier: MIT
/* What the agent pushes to its modules: [modules] keys and the SKU table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "kmod_policy.h"

static int load(const char *text, struct agent_config *cfg, char *err, size_t len)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/tmp/azl-kmod-policy-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ret = config_load(NULL, path, cfg, err, len);
	unlink(path);
	return ret;
}

static void test_defaults_on_general_purpose(void **state)
{
	struct agent_config cfg;
	struct kmod_policy p;

	(void)state;
	config_defaults(&cfg);
	kmod_policy_plan(&cfg, NULL, &p);
	assert_null(p.sku);
	assert_true(p.storvsc);
	assert_int_equal(p.storvsc_rule.mask, STORVSC_KNOB_TIMEOUT);
	assert_int_equal(p.storvsc_rule.knobs.timeout, 300);
	assert_false(p.storvsc_rule.has_host);
	assert_true(p.netvsc);
	assert_int_equal(p.netvsc_policy.mask,
			 NETVSC_KNOB_CHANNELS | NETVSC_KNOB_XPS | NETVSC_KNOB_VF_XPS);
	assert_int_equal(p.channels_mode, NETVSC_CHANNELS_KERNEL);
	assert_false(p.netvsc_policy.xps);
	assert_false(p.netvsc_policy.vf_xps);
	/* No SKU: no table, so one given with nodes= stays. */
	assert_false(p.accel);
	assert_int_equal(p.naccel, 0);
}

static void test_nd_h200_table(void **state)
{
	const struct sku_policy *sku = sku_by_vm_size("Standard_ND96isr_H200_v5");
	struct agent_config cfg;
	struct kmod_policy p;

	(void)state;
	assert_non_null(sku);
	config_defaults(&cfg);
	kmod_policy_plan(&cfg, sku, &p);
	assert_string_equal(p.sku, sku->name);
	assert_true(p.accel);
	assert_true(p.naccel >= 16); /* 8 GPUs and 8 HCAs at least */
	for (size_t i = 0; i < p.naccel; i++) {
		assert_int_equal(p.accel_nodes[i].node,
				 sku_node_of_domain(sku, p.accel_nodes[i].domain, NULL));
		for (size_t k = 0; k < i; k++)
			assert_int_not_equal(p.accel_nodes[k].domain, p.accel_nodes[i].domain);
	}
	/* research/tuning.md §3.6: GPU 0001 and IB 0101 on node 0, 0009 and 0105 on 1. */
	for (size_t i = 0; i < p.naccel; i++) {
		if (p.accel_nodes[i].domain == 0x0001 || p.accel_nodes[i].domain == 0x0101)
			assert_int_equal(p.accel_nodes[i].node, 0);
		if (p.accel_nodes[i].domain == 0x0009 || p.accel_nodes[i].domain == 0x0105)
			assert_int_equal(p.accel_nodes[i].node, 1);
	}

	cfg.modules.accel_numa = false;
	kmod_policy_plan(&cfg, sku, &p);
	assert_false(p.accel);
	assert_true(p.netvsc);

	cfg.modules.push = false;
	kmod_policy_plan(&cfg, sku, &p);
	assert_false(p.storvsc);
	assert_false(p.netvsc);
	assert_false(p.accel);
	assert_string_equal(p.sku, sku->name);
}

static void test_channels(void **state)
{
	const uint32_t allowed96[] = { 8, 48 };
	const uint32_t allowed2[] = { 2 };
	struct agent_config cfg;
	struct kmod_policy p;
	char err[256];
	uint32_t n;

	(void)state;
	config_defaults(&cfg);
	kmod_policy_plan(&cfg, NULL, &p);
	assert_int_equal(kmod_netvsc_channels(&p, allowed96, 2, &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(load("[modules]\nnetvsc_channels = max\n", &cfg, err, sizeof(err)), 0);
	kmod_policy_plan(&cfg, NULL, &p);
	assert_int_equal(p.channels_mode, NETVSC_CHANNELS_MAX);
	assert_int_equal(kmod_netvsc_channels(&p, allowed96, 2, &n), 0);
	assert_int_equal(n, 48);
	assert_int_equal(kmod_netvsc_channels(&p, allowed2, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(kmod_netvsc_channels(&p, NULL, 0, &n), -ERANGE);

	assert_int_equal(load("[modules]\nnetvsc_channels = 8\n", &cfg, err, sizeof(err)), 0);
	kmod_policy_plan(&cfg, NULL, &p);
	assert_int_equal(kmod_netvsc_channels(&p, allowed96, 2, &n), 0);
	assert_int_equal(n, 8);
	/* 8 is not what image validation accepts on a 2-vCPU VM. */
	assert_int_equal(kmod_netvsc_channels(&p, allowed2, 1, &n), -ERANGE);
	assert_int_equal(n, 0);
}

static void test_only_changed_knobs_are_sent(void **state)
{
	struct netvsc_policy cur = { .channels = 2, .xps = true, .vf_xps = false };
	struct netvsc_policy want = cur;

	(void)state;
	want.mask = NETVSC_KNOB_CHANNELS | NETVSC_KNOB_XPS | NETVSC_KNOB_VF_XPS;
	/* A daemon restart with the same policy sends nothing. */
	assert_int_equal(kmod_netvsc_changed(&cur, &want), 0);
	want.channels = 0;
	assert_int_equal(kmod_netvsc_changed(&cur, &want), NETVSC_KNOB_CHANNELS);
	want.channels = 2;
	want.vf_xps = true;
	want.xps = false;
	assert_int_equal(kmod_netvsc_changed(&cur, &want), NETVSC_KNOB_XPS | NETVSC_KNOB_VF_XPS);
	/* A knob outside the mask is never sent, however it differs. */
	want.mask = NETVSC_KNOB_XPS;
	assert_int_equal(kmod_netvsc_changed(&cur, &want), NETVSC_KNOB_XPS);
}

static void test_same_accel_table(void **state)
{
	const struct accel_node_entry a[] = { { 0x0001, 0 }, { 0x0101, 0 }, { 0x0009, 1 } };
	const struct accel_node_entry b[] = { { 0x0009, 1 }, { 0x0001, 0 }, { 0x0101, 0 } };
	const struct accel_node_entry c[] = { { 0x0009, 0 }, { 0x0001, 0 }, { 0x0101, 0 } };
	const struct accel_node_entry d[] = { { 0x0009, 1 }, { 0x0001, 0 }, { 0x0102, 0 } };

	(void)state;
	assert_true(kmod_accel_same_table(a, 3, b, 3));	/* order does not matter */
	assert_false(kmod_accel_same_table(a, 3, c, 3));	/* a node differs */
	assert_false(kmod_accel_same_table(a, 3, d, 3));	/* a domain differs */
	assert_false(kmod_accel_same_table(a, 3, b, 2));
	assert_false(kmod_accel_same_table(a, 2, b, 3));
	assert_true(kmod_accel_same_table(NULL, 0, NULL, 0));
}

static void test_config_keys_and_errors(void **state)
{
	struct agent_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load("[modules]\npush = no\nstorvsc_timeout = 0\nnetvsc_xps = yes\n"
			      "netvsc_vf_xps = yes\naccel_numa = no\n",
			      &cfg, err, sizeof(err)), 0);
	assert_false(cfg.modules.push);
	assert_int_equal(cfg.modules.storvsc_timeout, 0);
	assert_true(cfg.modules.netvsc_xps);
	assert_true(cfg.modules.netvsc_vf_xps);
	assert_false(cfg.modules.accel_numa);
	static const char *const bad[] = {
		"[modules]\nstorvsc_timeout = 3601\n", "[modules]\nnetvsc_channels = 0\n",
		"[modules]\nnetvsc_channels = 65\n",  "[modules]\nnetvsc_channels = most\n",
		"[modules]\nnetvsc_channels = -1\n",  "[modules]\npush = maybe\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(bad[i], &cfg, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "[modules]"));
		assert_non_null(strstr(err, "bad value"));
	}
	assert_int_equal(load("[modules]\nchannels = 2\n", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[modules] channels: unknown key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_on_general_purpose),
		cmocka_unit_test(test_nd_h200_table),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_only_changed_knobs_are_sent),
		cmocka_unit_test(test_same_accel_table),
		cmocka_unit_test(test_config_keys_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
