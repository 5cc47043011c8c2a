/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * /etc/azl-agent.conf, then the *.conf files of /etc/azl-agent.conf.d in version order
 * (ini, read with inih; a later setting wins).  Every key has a default, so
 * no file at all is a complete configuration; an unknown key or a bad value
 * is an error naming file, line and key.
 */

#include <stdbool.h>
#include <stddef.h>

#include "root.h"

enum ip_renderer {
	IP_RENDERER_AUTO,           /* NetworkManager where it manages the NIC, else networkd */
	IP_RENDERER_NETWORKD,
	IP_RENDERER_NETWORKMANAGER,
};

struct agent_config {
	struct {
		bool enabled;             /* [kvp] enabled = yes */
		bool set_ip_info;         /* [kvp] set_ip_info = yes: accept host IP injection */
		enum ip_renderer renderer; /* [kvp] ip_renderer = auto */
		unsigned resolve_timeout_ms; /* [kvp] resolve_timeout_ms = 1000: FQDN lookups */
		bool durable;             /* [kvp] durable = yes: fsync around in-place updates */
	} kvp;
};

void config_defaults(struct agent_config *cfg);
/*
 * Read the configuration under the root prefix (or only `path` when not
 * NULL).  Missing files leave the defaults.  On error returns a negative
 * errno and writes a message into err.
 */
int config_load(const struct root *r, const char *path, struct agent_config *cfg,
		char *err, size_t errlen);
