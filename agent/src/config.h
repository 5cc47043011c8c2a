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

enum password_policy {
	PASSWORD_SET,    /* hash an OVF password with libxcrypt and set it */
	PASSWORD_REFUSE, /* never set one (keys only); a password in OVF is ignored */
};

/* [modules] netvsc_channels: kernel, max (the largest count image validation accepts), or N. */
enum netvsc_channels_mode {
	NETVSC_CHANNELS_KERNEL,
	NETVSC_CHANNELS_MAX,
	NETVSC_CHANNELS_COUNT,
};

struct agent_config {
	struct {
		bool enabled;             /* [kvp] enabled = yes */
		bool set_ip_info;         /* [kvp] set_ip_info = yes: accept host IP injection */
		enum ip_renderer renderer; /* [kvp] ip_renderer = auto */
		unsigned resolve_timeout_ms; /* [kvp] resolve_timeout_ms = 1000: FQDN lookups */
		bool durable;             /* [kvp] durable = yes: fsync around in-place updates */
	} kvp;
	struct {
		char imds_url[256];       /* [provision] imds_url = http://169.254.169.254 */
		char wireserver_url[256]; /* [provision] wireserver_url = http://168.63.129.16 */
		unsigned imds_budget_s;   /* [provision] imds_budget_s = 300 */
		unsigned report_budget_s; /* [provision] report_budget_s = 1200 */
		unsigned retry_ms;        /* [provision] retry_ms = 1000 (1000..2000 in production) */
		char groups[256];         /* [provision] groups = wheel (comma-separated) */
		bool sudo_nopasswd;       /* [provision] sudo_nopasswd = yes */
		enum password_policy password; /* [provision] password = set | refuse */
		bool eject_media;         /* [provision] eject_media = yes */
		bool media;               /* [provision] media = yes: look for ovf-env.xml */
	} provision;
	struct {
		bool enabled;             /* [resource_disk] enabled = yes */
		char mount_point[256];    /* [resource_disk] mount_point = /mnt */
		char filesystem[16];      /* [resource_disk] filesystem = ext4 */
		unsigned swap_mb;         /* [resource_disk] swap_mb = 0 (no swap file) */
	} resource_disk;
	struct {
		bool enabled;             /* [affinity] enabled = yes: the daemon places interrupts */
		bool channels;            /* [affinity] channels = yes: VMBus channel CPUs */
		bool irqs;                /* [affinity] irqs = yes: device IRQs */
		bool xps;                 /* [affinity] xps = yes: netvsc tx queues follow channels */
		bool rps;                 /* [affinity] rps = no: netvsc rx queues over the NIC's node */
		bool live;                /* [affinity] live = yes: re-place on hotplug */
		unsigned debounce_ms;     /* [affinity] debounce_ms = 50 (max 100) */
	} affinity;
	struct {
		bool push;                /* [modules] push = yes: the daemon pushes policy */
		unsigned storvsc_timeout; /* [modules] storvsc_timeout = 300 (s; 0 keeps the kernel's) */
		enum netvsc_channels_mode netvsc_channels_mode; /* [modules] netvsc_channels = kernel */
		unsigned netvsc_channels; /* the N of netvsc_channels = N */
		bool netvsc_xps;          /* [modules] netvsc_xps = yes */
		bool netvsc_vf_xps;       /* [modules] netvsc_vf_xps = no */
		bool accel_numa;          /* [modules] accel_numa = yes: the SKU's vPCI node table */
	} modules;
};

void config_defaults(struct agent_config *cfg);
/*
 * Read the configuration under the root prefix (or only `path` when not
 * NULL).  Missing files leave the defaults.  On error returns a negative
 * errno and writes a message into err.
 */
int config_load(const struct root *r, const char *path, struct agent_config *cfg,
		char *err, size_t errlen);
