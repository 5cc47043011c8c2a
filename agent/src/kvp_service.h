/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The KVP service: holds /dev/vmbus/hv_kvp (under the root prefix),
 * registers with the kernel and answers its requests on an sd-event loop.
 * Where there is no device (not Hyper-V, or Data Exchange switched off on
 * the host) it waits for one with inotify, costing nothing; a torn-down,
 * hibernated or confused device is reopened and registered again.
 */

#include <systemd/sd-event.h>

#include "config.h"
#include "kvp_handler.h"
#include "root.h"

enum kvp_state {
	KVP_WAITING,     /* no device yet: inotify watch or retry timer armed */
	KVP_REGISTERING, /* REGISTER1 written, waiting for the kernel's reply */
	KVP_READY,       /* answering requests */
};

struct kvp_service {
	sd_event *event;
	struct kvp_handler handler;
	char device[512];
	int fd;
	enum kvp_state state;
	sd_event_source *io, *watch, *retry;
	unsigned long requests, registrations;
	int open_error; /* the last open() error, logged once until it changes */
	struct hv_kvp_msg msg; /* the one message in flight (7432 bytes) */
};

int kvp_service_start(struct kvp_service *s, sd_event *e, const struct root *r,
		      const struct agent_config *cfg);
void kvp_service_stop(struct kvp_service *s);
