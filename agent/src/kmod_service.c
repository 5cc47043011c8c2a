// SPDX-License-Identifier: MIT
/* The daemon's side of the kernel modules: see kmod_service.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include <azl_accel.h>
#include <azl_netvsc.h>
#include <azl_vmbus.h>

#include "affinity.h"
#include "kmod_accel.h"
#include "kmod_netvsc.h"
#include "kmod_push.h"
#include "kmod_service.h"
#include "kmod_vmbus.h"
#include "log.h"

bool kmod_event_relevant(enum kmod_event_family f, uint8_t cmd)
{
	switch (f) {
	case KMOD_EV_NETVSC:
		return cmd == AZL_NETVSC_CMD_DEV_ADD || cmd == AZL_NETVSC_CMD_DEV_REMOVE ||
		       cmd == AZL_NETVSC_CMD_VF_JOIN || cmd == AZL_NETVSC_CMD_VF_LEAVE ||
		       cmd == AZL_NETVSC_CMD_APPLIED;
	case KMOD_EV_ACCEL:
		/* DEV_ADD is too early: the IRQs come with the driver's probe. */
		return cmd == AZL_ACCEL_CMD_DEV_BOUND || cmd == AZL_ACCEL_CMD_DEV_UNBOUND ||
		       cmd == AZL_ACCEL_CMD_DEV_REMOVE || cmd == AZL_ACCEL_CMD_NODE_SET;
	case KMOD_EV_VMBUS:
		return cmd == AZL_VMBUS_CMD_CHANNEL_ADD || cmd == AZL_VMBUS_CMD_CHANNEL_REMOVE ||
		       cmd == AZL_VMBUS_CMD_CHANNEL_RESCIND || cmd == AZL_VMBUS_CMD_DEVICE_ADD ||
		       cmd == AZL_VMBUS_CMD_DEVICE_REMOVE || cmd == AZL_VMBUS_CMD_DEVICE_RESCIND;
	case KMOD_EV_ETHTOOL:
		return cmd == ETHTOOL_MSG_CHANNELS_NTF;
	case KMOD_EV_COUNT:
		break;
	}
	return false;
}

/*
 * The ethtool family's notifications are read only for their command: any
 * attribute passes (NLA_UNSPEC), none is decoded.
 */
static struct nla_policy ethtool_ntf_policy[ETHTOOL_A_CHANNELS_MAX + 1];

static int ethtool_open(struct genl_client *c)
{
	return genl_client_open(c, ETHTOOL_GENL_NAME, ETHTOOL_A_CHANNELS_MAX, ethtool_ntf_policy);
}

static int ethtool_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size)
{
	(void)tb;
	if (cmd != ETHTOOL_MSG_CHANNELS_NTF)
		return -ENOENT;
	snprintf(buf, size, "ethtool channels changed");
	return 0;
}

static const struct {
	const char *family, *group;
	int (*open)(struct genl_client *c);
	int (*format)(struct nlattr **tb, uint8_t cmd, char *buf, size_t size);
} event_families[KMOD_EV_COUNT] = {
	[KMOD_EV_NETVSC] = { AZL_NETVSC_GENL_NAME, AZL_NETVSC_MCGRP_EVENTS, netvsc_open,
			     netvsc_event_format },
	[KMOD_EV_ACCEL] = { AZL_ACCEL_GENL_NAME, AZL_ACCEL_MCGRP_EVENTS, accel_open,
			    accel_event_format },
	[KMOD_EV_VMBUS] = { AZL_VMBUS_GENL_NAME, AZL_VMBUS_MCGRP_EVENTS, vmbus_kmod_open,
			    vmbus_event_format },
	[KMOD_EV_ETHTOOL] = { ETHTOOL_GENL_NAME, ETHTOOL_MCGRP_MONITOR_NAME, ethtool_open,
			      ethtool_event_format },
};

/* ---- pushing ---------------------------------------------------------------- */

/*
 * A module's family is registered first thing in its init, so the daemon
 * hears of it before the module can take a policy: such a module answers
 * -ENODEV ("loading or unloading"), and the push is tried again a little
 * later, for a few seconds at most.
 */
#define KMOD_RETRY_USEC (100 * 1000)
#define KMOD_RETRY_MAX 50

static void push(struct kmod_service *s, unsigned int which);

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kmod_service *s = userdata;
	unsigned int mask = s->retry_mask;

	(void)src;
	(void)usec;
	s->retry_mask = 0;
	push(s, mask);
	return 0;
}

static void retry_later(struct kmod_service *s, unsigned int mask)
{
	int ret;

	for (int m = 0; m < KMOD_COUNT; m++) {
		if (!(mask & KMOD_BIT(m)))
			continue;
		if (++s->retries[m] > KMOD_RETRY_MAX) {
			log_warning("modules: %s stayed not ready for %u s; it keeps its own policy",
				    kmod_module_name(m), KMOD_RETRY_MAX * KMOD_RETRY_USEC / 1000000);
			s->retries[m] = 0;
			mask &= ~KMOD_BIT(m);
		}
	}
	if (!mask)
		return;
	s->retry_mask |= mask;
	if (s->retry)
		ret = sd_event_source_set_time_relative(s->retry, KMOD_RETRY_USEC) ?:
		      sd_event_source_set_enabled(s->retry, SD_EVENT_ONESHOT);
	else
		ret = sd_event_add_time_relative(s->event, &s->retry, CLOCK_MONOTONIC,
						 KMOD_RETRY_USEC, 0, on_retry, s);
	if (ret < 0)
		log_warning("modules: cannot arm the retry timer: %s", strerror(-ret));
}

static void push(struct kmod_service *s, unsigned int which)
{
	struct kmod_push_result res[KMOD_COUNT];
	unsigned int again = 0;

	kmod_push(&s->policy, which, res);
	for (int m = 0; m < KMOD_COUNT; m++) {
		if (!res[m].tried)
			continue;
		if (res[m].status == -ENODEV) {
			again |= KMOD_BIT(m);
			continue;
		}
		s->retries[m] = 0;
		if (res[m].status == 0)
			log_info("modules: %s: %s", kmod_module_name(m), res[m].detail);
		else if (res[m].status == -ENOENT)
			log_debug("modules: %s is not loaded", kmod_module_name(m));
		else
			log_warning("modules: %s: %s", kmod_module_name(m), res[m].detail);
	}
	if (again)
		retry_later(s, again);
}

/* A re-plan, when placement follows changes ([affinity] live = yes). */
static void replan(struct kmod_service *s, const char *why)
{
	if (s->aff)
		affinity_live_trigger(s->aff, why);
	else
		log_debug("modules: %s", why);
}

/* ---- module events -------------------------------------------------------------- */

struct event_ctx {
	struct kmod_service *s;
	enum kmod_event_family f;
};

static int on_module_event(struct nlattr **tb, uint8_t cmd, void *userdata)
{
	struct event_ctx *ctx = userdata;
	struct kmod_service *s = ctx->s;
	char line[200];

	if (!kmod_event_relevant(ctx->f, cmd))
		return 0;
	if (event_families[ctx->f].format(tb, cmd, line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "%s event %u", event_families[ctx->f].family, cmd);
	replan(s, line);
	return 0;
}

static int on_event_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct kmod_service *s = userdata;

	(void)fd;
	(void)revents;
	for (int f = 0; f < KMOD_EV_COUNT; f++) {
		if (s->ev_src[f] != src)
			continue;
		struct event_ctx ctx = { s, (enum kmod_event_family)f };
		int ret = genl_client_receive(&s->ev[f], on_module_event, &ctx);

		/* Events were dropped: a re-plan covers whatever they said. */
		if (ret == -ENOBUFS)
			replan(s, "module events lost");
		else if (ret < 0 && ret != -EAGAIN)
			log_debug("modules: %s events: %s", event_families[f].family, strerror(-ret));
	}
	return 0;
}

static void unsubscribe(struct kmod_service *s, enum kmod_event_family f)
{
	if (!s->ev_src[f])
		return;
	s->ev_src[f] = sd_event_source_disable_unref(s->ev_src[f]);
	genl_client_close(&s->ev[f]);
}

/* Subscribe to one family's events; quietly nothing when its module is not loaded. */
static int subscribe(struct kmod_service *s, enum kmod_event_family f)
{
	struct genl_client *c = &s->ev[f];
	int ret;

	unsubscribe(s, f);
	if (event_families[f].open(c) < 0)
		return 0;
	if (genl_client_subscribe(c, event_families[f].group) < 0 ||
	    nl_socket_set_nonblocking(c->sk) < 0) {
		log_warning("modules: cannot listen to %s events", event_families[f].family);
		genl_client_close(c);
		return 0;
	}
	ret = sd_event_add_io(s->event, &s->ev_src[f], nl_socket_get_fd(c->sk), EPOLLIN,
			      on_event_readable, s);
	if (ret < 0) {
		genl_client_close(c);
		return ret;
	}
	return 0;
}

/* ---- families coming and going (nlctrl "notify") ------------------------------------ */

static void family_changed(struct kmod_service *s, uint8_t cmd, const char *family)
{
	enum kmod_module m = kmod_module_of_family(family);
	bool ours = false;

	for (int f = 0; f < KMOD_EV_COUNT; f++) {
		if (strcmp(family, event_families[f].family) != 0)
			continue;
		ours = true;
		if (cmd == CTRL_CMD_NEWFAMILY)
			subscribe(s, (enum kmod_event_family)f);
		else
			unsubscribe(s, (enum kmod_event_family)f);
	}
	if (cmd == CTRL_CMD_NEWFAMILY && m != KMOD_COUNT) {
		log_info("modules: %s appeared", kmod_module_name(m));
		s->retries[m] = 0;
		push(s, KMOD_BIT(m));
	}
	/* What the module said before we listened (its first devices) is missed. */
	if (cmd == CTRL_CMD_NEWFAMILY && ours) {
		char why[64];

		snprintf(why, sizeof(why), "%s appeared", family);
		replan(s, why);
	}
}

static int on_ctrl_msg(struct nl_msg *msg, void *userdata)
{
	static struct nla_policy policy[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_NAME] = { .type = NLA_STRING, .maxlen = GENL_NAMSIZ },
	};
	struct kmod_service *s = userdata;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, policy) < 0 || !tb[CTRL_ATTR_FAMILY_NAME])
		return NL_SKIP;
	if (gh->cmd == CTRL_CMD_NEWFAMILY || gh->cmd == CTRL_CMD_DELFAMILY)
		family_changed(s, gh->cmd, nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]));
	return NL_OK;
}

/*
 * Family notifications were lost: catch up with whatever is loaded now
 * (subscribe where not yet, push everywhere: a push of what a module has
 * sends nothing) and re-plan once.
 */
static void resync(struct kmod_service *s)
{
	log_notice("modules: generic netlink notifications were lost; catching up");
	for (int f = 0; f < KMOD_EV_COUNT; f++)
		if (!s->ev_src[f])
			subscribe(s, (enum kmod_event_family)f);
	push(s, KMOD_ALL);
	replan(s, "module notifications lost");
}

static int on_ctrl_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct kmod_service *s = userdata;

	(void)src;
	(void)fd;
	(void)revents;
	if (nl_recvmsgs_default(s->ctrl) == -NLE_NOMEM)
		resync(s);
	return 0;
}

static int watch_families(struct kmod_service *s)
{
	int grp;

	s->ctrl = nl_socket_alloc();
	if (!s->ctrl || genl_connect(s->ctrl) < 0)
		goto fail;
	grp = genl_ctrl_resolve_grp(s->ctrl, "nlctrl", "notify");
	if (grp < 0 || nl_socket_add_membership(s->ctrl, grp) < 0)
		goto fail;
	nl_socket_disable_seq_check(s->ctrl);
	nl_socket_modify_cb(s->ctrl, NL_CB_VALID, NL_CB_CUSTOM, on_ctrl_msg, s);
	if (nl_socket_set_nonblocking(s->ctrl) < 0)
		goto fail;
	return sd_event_add_io(s->event, &s->ctrl_src, nl_socket_get_fd(s->ctrl), EPOLLIN,
			       on_ctrl_readable, s);
fail:
	/* Not fatal: modules loaded later just get no policy until a restart. */
	log_warning("modules: cannot watch generic netlink families; "
		    "modules loaded later get their policy at the next start");
	nl_socket_free(s->ctrl);
	s->ctrl = NULL;
	return 0;
}

/*
 * The SKU, as placement decides it: the vmSize cache (one file), else the
 * topology (a whole gather, which fails on a malformed file).
 */
static const struct sku_policy *current_sku(const struct root *r)
{
	const struct sku_policy *sku;
	const char *source;
	char err[256] = "";

	sku = affinity_detect_sku(r, &source, err, sizeof(err));
	if (!sku && err[0])
		log_warning("modules: SKU unknown (%s): no NUMA table for azl_accel", err);
	return sku;
}

int kmod_service_start(struct kmod_service *s, sd_event *e, const struct root *r,
		       const struct agent_config *cfg, struct affinity_live *aff)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->event = sd_event_ref(e);
	s->aff = aff;
	kmod_policy_plan(cfg, cfg->modules.push ? current_sku(r) : NULL, &s->policy);
	if (!cfg->modules.push)
		log_notice("daemon: no policy pushed to the kernel modules ([modules] push = no)");
	/* Watch first: a module loaded between the push and the watch is not missed. */
	ret = watch_families(s);
	for (int f = 0; ret >= 0 && f < KMOD_EV_COUNT; f++)
		ret = subscribe(s, (enum kmod_event_family)f);
	if (ret < 0)
		return ret;
	push(s, KMOD_ALL);
	return 0;
}

void kmod_service_reload(struct kmod_service *s, const struct root *r,
			 const struct agent_config *cfg)
{
	log_info("modules: configuration reloaded");
	kmod_policy_plan(cfg, cfg->modules.push ? current_sku(r) : NULL, &s->policy);
	if (!cfg->modules.push)
		log_notice("modules: nothing pushed ([modules] push = no); modules keep what they have");
	push(s, KMOD_ALL);
}

void kmod_service_stop(struct kmod_service *s)
{
	for (int f = 0; f < KMOD_EV_COUNT; f++)
		unsubscribe(s, (enum kmod_event_family)f);
	s->ctrl_src = sd_event_source_disable_unref(s->ctrl_src);
	s->retry = sd_event_source_disable_unref(s->retry);
	nl_socket_free(s->ctrl);
	s->ctrl = NULL;
	s->event = sd_event_unref(s->event);
}
