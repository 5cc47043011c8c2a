// SPDX-License-Identifier: MIT
/* The agent's configuration file, read with inih. */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "sysfile.h"

#define CONFIG_FILE "azl-agent/azl-agent.conf"

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
	};
}

struct config_parse {
	struct agent_config *cfg;
	const char *file;
	char *err;
	size_t errlen;
};

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -EINVAL;
}

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

/* inih callback: nonzero means "line accepted". */
static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct config_parse *p = user;
	int ret = -ENOENT;

	if (strcmp(section, "kvp") == 0)
		ret = parse_kvp_key(p->cfg, key, value);
	if (ret == 0)
		return 1;
	snprintf(p->err, p->errlen, "%s: [%s] %s: %s", p->file, section, key,
		 ret == -ENOENT ? "unknown key" : "bad value");
	return 0;
}

int config_load(const struct root *r, const char *path, struct agent_config *cfg,
		char *err, size_t errlen)
{
	struct config_parse p = { .cfg = cfg, .err = err, .errlen = errlen };
	char file[512];
	FILE *f;
	int line;

	config_defaults(cfg);
	err[0] = '\0';
	if (!path) {
		if (root_path(r, ROOT_ETC, file, sizeof(file), CONFIG_FILE) < 0) {
			snprintf(err, errlen, "configuration path too long");
			return -ENAMETOOLONG;
		}
		path = file;
	}
	p.file = path;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", p.file, strerror(errno));
		return -errno;
	}
	line = ini_parse_file(f, on_entry, &p);
	fclose(f);
	if (line == 0)
		return 0;
	if (!err[0])
		snprintf(err, errlen, "%s: syntax error", p.file);
	/* inih reports the first bad line; put it in front of the message. */
	if (line > 0) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s (line %d)", err, line);
		snprintf(err, errlen, "%s", tmp);
	}
	return -EINVAL;
}
