/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The daemon's side of the kernel modules:
 *   - pushes the policy (kmod_policy.h) to azl_storvsc, azl_netvsc and
 *     azl_accel at start, and to a module again whenever its generic
 *     netlink family appears (the module was loaded or reloaded after the
 *     daemon started: nlctrl's "notify" group says so);
 *   - listens to the events of azl_netvsc, azl_accel and azl_vmbus (and
 *     the kernel's ethtool notifications, for channel counts) and
 *     turns those that change what there is to place into an affinity
 *     re-plan (affinity_live_trigger), with the event named in the run's
 *     log line.
 * Nothing polls: sockets are sd-event IO sources.
 */
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "affinity_live.h"
#include "config.h"
#include "genl_client.h"
#include "kmod_policy.h"
#include "kmod_push.h"
#include "root.h"

/* Families whose events the service reads. */
enum kmod_event_family {
	KMOD_EV_NETVSC,
	KMOD_EV_ACCEL,
	KMOD_EV_VMBUS,
	KMOD_EV_ETHTOOL,	/* the kernel's "ethtool" family, "monitor" group */
	KMOD_EV_COUNT,
};

/*
 * Pure: does this event change what interrupt placement sees?  netvsc:
 * every event (a NIC or VF came or went, or channels changed); accel: a
 * driver bound or unbound (its probe allocates the IRQs), a removal, a node
 * set; vmbus: channels and devices coming and going; ethtool: a channel
 * count changed (`ethtool -L`, which no uevent and no module event shows).
 */
bool kmod_event_relevant(enum kmod_event_family f, uint8_t cmd);

struct kmod_service {
	sd_event *event;
	struct affinity_live *aff;           /* NULL: events are only counted
					      * ([affinity] live = no, or off) */
	struct kmod_policy policy;
	struct genl_client ev[KMOD_EV_COUNT];
	sd_event_source *ev_src[KMOD_EV_COUNT]; /* non-NULL: subscribed */
	struct nl_sock *ctrl;                /* nlctrl "notify": families coming and going */
	sd_event_source *ctrl_src;
	sd_event_source *retry;              /* a push to a module still initialising */
	unsigned int retry_mask;             /* KMOD_BIT()s to push again */
	unsigned int retries[KMOD_COUNT];    /* per module, while not ready */
};

/*
 * Start: plan the policy from @cfg and the SKU seen under @r, push it to
 * every loaded module (a line in the log each), subscribe.  Only an
 * sd-event failure is returned; a module that is not loaded is noted.
 */
int kmod_service_start(struct kmod_service *s, sd_event *e, const struct root *r,
		       const struct agent_config *cfg, struct affinity_live *aff);
/*
 * SIGHUP: plan again from a re-read configuration (and the SKU as it is
 * now) and push what differs.  The caller keeps the old configuration
 * when the new one does not parse.
 */
void kmod_service_reload(struct kmod_service *s, const struct root *r,
			 const struct agent_config *cfg);
void kmod_service_stop(struct kmod_service *s);
