// SPDX-License-Identifier: MIT
/* The configuration file: defaults, every [kvp] key, and clear errors. */
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

static char *write_conf(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/azl-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_missing_file_is_the_defaults(void **state)
{
	struct agent_config cfg;
	struct root r;
	char err[256];

	(void)state;
	assert_int_equal(root_init(&r, "/nonexistent-azl-root"), 0);
	assert_int_equal(config_load(&r, NULL, &cfg, err, sizeof(err)), 0);
	assert_true(cfg.kvp.enabled);
	assert_true(cfg.kvp.set_ip_info);
	assert_true(cfg.kvp.durable);
	assert_int_equal(cfg.kvp.renderer, IP_RENDERER_AUTO);
	assert_int_equal(cfg.kvp.resolve_timeout_ms, 1000);
}

static void test_every_kvp_key(void **state)
{
	char *path = write_conf("# comment\n[kvp]\nenabled = no\nset_ip_info = false\n"
				"durable = off\nip_renderer = networkmanager\n"
				"resolve_timeout_ms = 250\n");
	struct agent_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_load(NULL, path, &cfg, err, sizeof(err)), 0);
	assert_false(cfg.kvp.enabled);
	assert_false(cfg.kvp.set_ip_info);
	assert_false(cfg.kvp.durable);
	assert_int_equal(cfg.kvp.renderer, IP_RENDERER_NETWORKMANAGER);
	assert_int_equal(cfg.kvp.resolve_timeout_ms, 250);
	unlink(path);
}

static void expect_error(const char *text, const char *needle)
{
	char *path = write_conf(text);
	struct agent_config cfg;
	char err[256];

	assert_int_equal(config_load(NULL, path, &cfg, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_non_null(strstr(err, path));
	unlink(path);
}

static void test_errors_name_key_and_line(void **state)
{
	(void)state;
	expect_error("[kvp]\nenabled = maybe\n", "enabled: bad value (line 2)");
	expect_error("[kvp]\nenable = yes\n", "enable: unknown key");
	expect_error("[kvp]\nresolve_timeout_ms = 60000\n", "resolve_timeout_ms: bad value");
	expect_error("[kvp]\nresolve_timeout_ms = -1\n", "resolve_timeout_ms: bad value");
	expect_error("[kvp]\nip_renderer = ifupdown\n", "ip_renderer: bad value");
	expect_error("[nosuch]\nkey = 1\n", "[nosuch] key: unknown key");
	expect_error("[kvp\n", "bad syntax");
}

static void test_provision_and_resource_disk_keys(void **state)
{
	char *path = write_conf("[provision]\nimds_url = http://127.0.0.1:8080\n"
				"wireserver_url = http://127.0.0.1:8081\nimds_budget_s = 5\n"
				"report_budget_s = 6\nretry_ms = 20\ngroups = sudo,adm\n"
				"sudo_nopasswd = no\npassword = refuse\neject_media = no\nmedia = no\n"
				"[resource_disk]\nenabled = no\nmount_point = /mnt/resource\n"
				"filesystem = xfs\nswap_mb = 2048\n");
	struct agent_config cfg;
	char err[256];

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.provision.imds_url, "http://169.254.169.254");
	assert_int_equal(cfg.provision.password, PASSWORD_SET);
	assert_true(cfg.provision.sudo_nopasswd);
	assert_int_equal(config_load(NULL, path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.provision.imds_url, "http://127.0.0.1:8080");
	assert_string_equal(cfg.provision.wireserver_url, "http://127.0.0.1:8081");
	assert_int_equal(cfg.provision.imds_budget_s, 5);
	assert_int_equal(cfg.provision.report_budget_s, 6);
	assert_int_equal(cfg.provision.retry_ms, 20);
	assert_string_equal(cfg.provision.groups, "sudo,adm");
	assert_false(cfg.provision.sudo_nopasswd);
	assert_int_equal(cfg.provision.password, PASSWORD_REFUSE);
	assert_false(cfg.provision.eject_media);
	assert_false(cfg.provision.media);
	assert_false(cfg.resource_disk.enabled);
	assert_string_equal(cfg.resource_disk.mount_point, "/mnt/resource");
	assert_string_equal(cfg.resource_disk.filesystem, "xfs");
	assert_int_equal(cfg.resource_disk.swap_mb, 2048);
	unlink(path);
	expect_error("[provision]\nimds_url = https://x\n", "imds_url: bad value");
	expect_error("[provision]\nimds_url = http://x/\n", "imds_url: bad value");
	expect_error("[provision]\npassword = maybe\n", "password: bad value");
	expect_error("[resource_disk]\nmount_point = relative\n", "mount_point: bad value");
	expect_error("[resource_disk]\nfilesystem = ntfs\n", "filesystem: bad value");
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* azl-agent.conf first, then the .conf files of azl-agent.conf.d in version order. */
static void test_dropins_override_in_order(void **state)
{
	char dir[64], cmd[128], err[256];
	struct agent_config cfg;
	struct root r;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/azl-config-root-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/etc/azl-agent.conf.d", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(root_init(&r, dir), 0);
	put(dir, "etc/azl-agent.conf", "[kvp]\nresolve_timeout_ms = 100\nset_ip_info = no\n");
	put(dir, "etc/azl-agent.conf.d/10-a.conf", "[kvp]\nresolve_timeout_ms = 200\n");
	put(dir, "etc/azl-agent.conf.d/9-b.conf", "[kvp]\nresolve_timeout_ms = 300\ndurable = no\n");
	put(dir, "etc/azl-agent.conf.d/50-c.conf.disabled", "[kvp]\nenabled = no\n");
	assert_int_equal(config_load(&r, NULL, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.kvp.resolve_timeout_ms, 200); /* 9-b, then 10-a */
	assert_false(cfg.kvp.set_ip_info);
	assert_false(cfg.kvp.durable);
	assert_true(cfg.kvp.enabled); /* not a .conf file */

	put(dir, "etc/azl-agent.conf.d/20-bad.conf", "[kvp]\nip_renderer = wicked\n");
	assert_int_equal(config_load(&r, NULL, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "azl-agent.conf.d/20-bad.conf: [kvp] ip_renderer: bad value (line 2)"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file_is_the_defaults),
		cmocka_unit_test(test_every_kvp_key),
		cmocka_unit_test(test_errors_name_key_and_line),
		cmocka_unit_test(test_dropins_override_in_order),
		cmocka_unit_test(test_provision_and_resource_disk_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
