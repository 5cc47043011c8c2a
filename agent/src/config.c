// SPDX-License-Identifier: MIT
/* The agent's configuration: azl-agent.conf and its drop-ins, read with inih. */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include <azl_netvsc.h>
#include <azl_storvsc.h>

#include "config.h"
#include "sysfile.h"

#define CONFIG_FILE "azl-agent.conf"
#define CONFIG_DROPINS "azl-agent.conf.d"

void config_defaults(struct agent_config *cfg)
{
	*cfg = (struct agent_config){
		.kvp = {
			.enabled = true,
			.set_ip_info = true,
			.renderer = IP_RENDERER_AUTO,
			.resolve_timeout_ms = 1000,
			.durable = true,
		},
		.provision = {
			.imds_url = "http://169.254.169.254",
			.wireserver_url = "http://168.63.129.16",
			.imds_budget_s = 300,
			.report_budget_s = 1200,
			.retry_ms = 1000,
			.groups = "wheel",
			.sudo_nopasswd = true,
			.password = PASSWORD_SET,
			.eject_media = true,
			.media = true,
		},
		.resource_disk = {
			.enabled = true,
			.mount_point = "/mnt",
			.filesystem = "ext4",
			.swap_mb = 0,
		},
		.affinity = {
			.enabled = true,
			.channels = true,
			.irqs = true,
			.xps = true,
			.rps = false,
			.live = true,
			.debounce_ms = 50,
		},
		.modules = {
			.push = true,
			/* What azl_storvsc loads with: WALinuxAgent's OS.RootDeviceScsiTimeout. */
			.storvsc_timeout = 300,
			.netvsc_channels_mode = NETVSC_CHANNELS_KERNEL,
			/* hv_netvsc never reads XPS: only the VF's maps matter. */
			.netvsc_xps = false,
			.netvsc_vf_xps = false,
			.accel_numa = true,
		},
	};
}

struct config_parse {
	struct agent_config *cfg;
	const char *file;
	char *err;
	size_t errlen;
};

static int parse_renderer(const char *v, enum ip_renderer *out)
{
	if (strcmp(v, "auto") == 0)
		*out = IP_RENDERER_AUTO;
	else if (strcmp(v, "networkd") == 0)
		*out = IP_RENDERER_NETWORKD;
	else if (strcmp(v, "networkmanager") == 0)
		*out = IP_RENDERER_NETWORKMANAGER;
	else
		return -EINVAL;
	return 0;
}

static int parse_kvp_key(struct agent_config *cfg, const char *key, const char *v)
{
	unsigned long long n;

	if (strcmp(key, "enabled") == 0)
		return parse_bool(v, &cfg->kvp.enabled);
	if (strcmp(key, "set_ip_info") == 0)
		return parse_bool(v, &cfg->kvp.set_ip_info);
	if (strcmp(key, "durable") == 0)
		return parse_bool(v, &cfg->kvp.durable);
	if (strcmp(key, "ip_renderer") == 0)
		return parse_renderer(v, &cfg->kvp.renderer);
	if (strcmp(key, "resolve_timeout_ms") == 0) {
		/* The kernel gives up on us after 30 s; stay far below. */
		if (parse_unsigned(v, 10000, &n) < 0)
			return -EINVAL;
		cfg->kvp.resolve_timeout_ms = (unsigned)n;
		return 0;
	}
	return -ENOENT;
}

static int parse_string(const char *v, char *out, size_t len)
{
	if (strlen(v) >= len)
		return -EINVAL;
	snprintf(out, len, "%s", v);
	return 0;
}

static int parse_uint_max(const char *v, unsigned long long max, unsigned *out)
{
	unsigned long long n;

	if (parse_unsigned(v, max, &n) < 0)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* An http:// URL without a trailing slash (the platform speaks plain HTTP). */
static int parse_url(const char *v, char *out, size_t len)
{
	size_t n = strlen(v);

	if (strncmp(v, "http://", 7) != 0 || n <= 7 || v[n - 1] == '/' || strpbrk(v, " \t\r\n"))
		return -EINVAL;
	return parse_string(v, out, len);
}

static int parse_provision_key(struct agent_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "imds_url") == 0)
		return parse_url(v, cfg->provision.imds_url, sizeof(cfg->provision.imds_url));
	if (strcmp(key, "wireserver_url") == 0)
		return parse_url(v, cfg->provision.wireserver_url, sizeof(cfg->provision.wireserver_url));
	if (strcmp(key, "imds_budget_s") == 0)
		return parse_uint_max(v, 3600, &cfg->provision.imds_budget_s);
	if (strcmp(key, "report_budget_s") == 0)
		return parse_uint_max(v, 7200, &cfg->provision.report_budget_s);
	if (strcmp(key, "retry_ms") == 0) {
		/* Below 10 ms a retry loop is a flood of the platform endpoints. */
		if (parse_uint_max(v, 60000, &cfg->provision.retry_ms) < 0 || cfg->provision.retry_ms < 10)
			return -EINVAL;
		return 0;
	}
	if (strcmp(key, "groups") == 0)
		return parse_string(v, cfg->provision.groups, sizeof(cfg->provision.groups));
	if (strcmp(key, "sudo_nopasswd") == 0)
		return parse_bool(v, &cfg->provision.sudo_nopasswd);
	if (strcmp(key, "eject_media") == 0)
		return parse_bool(v, &cfg->provision.eject_media);
	if (strcmp(key, "media") == 0)
		return parse_bool(v, &cfg->provision.media);
	if (strcmp(key, "password") == 0) {
		if (strcmp(v, "set") == 0)
			cfg->provision.password = PASSWORD_SET;
		else if (strcmp(v, "refuse") == 0)
			cfg->provision.password = PASSWORD_REFUSE;
		else
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

static int parse_resource_disk_key(struct agent_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "enabled") == 0)
		return parse_bool(v, &cfg->resource_disk.enabled);
	if (strcmp(key, "mount_point") == 0)
		return v[0] == '/' ? parse_string(v, cfg->resource_disk.mount_point,
						  sizeof(cfg->resource_disk.mount_point)) : -EINVAL;
	if (strcmp(key, "filesystem") == 0) {
		if (strcmp(v, "ext4") != 0 && strcmp(v, "xfs") != 0)
			return -EINVAL;
		return parse_string(v, cfg->resource_disk.filesystem,
				    sizeof(cfg->resource_disk.filesystem));
	}
	if (strcmp(key, "swap_mb") == 0)
		return parse_uint_max(v, 1u << 20, &cfg->resource_disk.swap_mb);
	return -ENOENT;
}

static int parse_affinity_key(struct agent_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "enabled") == 0)
		return parse_bool(v, &cfg->affinity.enabled);
	if (strcmp(key, "channels") == 0)
		return parse_bool(v, &cfg->affinity.channels);
	if (strcmp(key, "irqs") == 0)
		return parse_bool(v, &cfg->affinity.irqs);
	if (strcmp(key, "xps") == 0)
		return parse_bool(v, &cfg->affinity.xps);
	if (strcmp(key, "rps") == 0)
		return parse_bool(v, &cfg->affinity.rps);
	if (strcmp(key, "live") == 0)
		return parse_bool(v, &cfg->affinity.live);
	/* The bound: a re-plan within 100 ms of the event. */
	if (strcmp(key, "debounce_ms") == 0)
		return parse_uint_max(v, 100, &cfg->affinity.debounce_ms);
	return -ENOENT;
}

static int parse_netvsc_channels(struct agent_config *cfg, const char *v)
{
	if (strcmp(v, "kernel") == 0) {
		cfg->modules.netvsc_channels_mode = NETVSC_CHANNELS_KERNEL;
		return 0;
	}
	if (strcmp(v, "max") == 0) {
		cfg->modules.netvsc_channels_mode = NETVSC_CHANNELS_MAX;
		return 0;
	}
	/* azl_netvsc refuses counts outside what image validation accepts. */
	if (parse_uint_max(v, AZL_NETVSC_CHANNELS_MAX, &cfg->modules.netvsc_channels) < 0 ||
	    cfg->modules.netvsc_channels == 0)
		return -EINVAL;
	cfg->modules.netvsc_channels_mode = NETVSC_CHANNELS_COUNT;
	return 0;
}

static int parse_modules_key(struct agent_config *cfg, const char *key, const char *v)
{
	if (strcmp(key, "push") == 0)
		return parse_bool(v, &cfg->modules.push);
	if (strcmp(key, "storvsc_timeout") == 0)
		return parse_uint_max(v, AZL_STORVSC_TIMEOUT_MAX, &cfg->modules.storvsc_timeout);
	if (strcmp(key, "netvsc_channels") == 0)
		return parse_netvsc_channels(cfg, v);
	if (strcmp(key, "netvsc_xps") == 0)
		return parse_bool(v, &cfg->modules.netvsc_xps);
	if (strcmp(key, "netvsc_vf_xps") == 0)
		return parse_bool(v, &cfg->modules.netvsc_vf_xps);
	if (strcmp(key, "accel_numa") == 0)
		return parse_bool(v, &cfg->modules.accel_numa);
	return -ENOENT;
}

/* inih callback: nonzero means "line accepted". */
static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct config_parse *p = user;
	int ret = -ENOENT;

	if (strcmp(section, "kvp") == 0)
		ret = parse_kvp_key(p->cfg, key, value);
	else if (strcmp(section, "provision") == 0)
		ret = parse_provision_key(p->cfg, key, value);
	else if (strcmp(section, "resource_disk") == 0)
		ret = parse_resource_disk_key(p->cfg, key, value);
	else if (strcmp(section, "affinity") == 0)
		ret = parse_affinity_key(p->cfg, key, value);
	else if (strcmp(section, "modules") == 0)
		ret = parse_modules_key(p->cfg, key, value);
	if (ret == 0)
		return 1;
	snprintf(p->err, p->errlen, "%s: [%s] %s: %s", p->file, section, key,
		 ret == -ENOENT ? "unknown key" : "bad value");
	return 0;
}

/* One ini file into cfg; a missing file is not an error. */
static int config_load_file(const char *path, struct agent_config *cfg, char *err, size_t errlen)
{
	struct config_parse p = { .cfg = cfg, .file = path, .err = err, .errlen = errlen };
	FILE *f = fopen(path, "re");
	int line;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	line = ini_parse_file(f, on_entry, &p);
	fclose(f);
	if (line == 0)
		return 0;
	if (!err[0])
		snprintf(err, errlen, "%s: bad syntax", path);
	/* inih reports the first bad line; put it after the message. */
	if (line > 0) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s (line %d)", err, line);
		snprintf(err, errlen, "%s", tmp);
	}
	return -EINVAL;
}

static bool is_dropin(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The drop-ins, in version order: a later file overrides an earlier one. */
static int config_load_dropins(const struct root *r, struct agent_config *cfg, char *err,
			       size_t errlen)
{
	char path[512], **names;
	size_t n;
	int ret = 0;

	if (root_list_dir(r, ROOT_ETC, &names, &n, CONFIG_DROPINS) < 0)
		return 0; /* no directory: nothing to add */
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (!is_dropin(names[i]))
			continue;
		if (root_path(r, ROOT_ETC, path, sizeof(path), CONFIG_DROPINS "/%s", names[i]) < 0) {
			snprintf(err, errlen, "configuration path too long");
			ret = -ENAMETOOLONG;
		} else {
			ret = config_load_file(path, cfg, err, errlen);
		}
	}
	strv_free(names, n);
	return ret;
}

int config_load(const struct root *r, const char *path, struct agent_config *cfg,
		char *err, size_t errlen)
{
	char file[512];
	int ret;

	config_defaults(cfg);
	err[0] = '\0';
	if (path)
		return config_load_file(path, cfg, err, errlen);
	if (root_path(r, ROOT_ETC, file, sizeof(file), CONFIG_FILE) < 0) {
		snprintf(err, errlen, "configuration path too long");
		return -ENAMETOOLONG;
	}
	ret = config_load_file(file, cfg, err, errlen);
	return ret < 0 ? ret : config_load_dropins(r, cfg, err, errlen);
}
