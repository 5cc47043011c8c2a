// SPDX-License-Identifier: MIT
/* Push the agent's policy to its kernel modules: see kmod_push.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azl_accel.h>
#include <azl_netvsc.h>
#include <azl_storvsc.h>

#include "kmod_push.h"

static const char *const module_names[KMOD_COUNT] = {
	[KMOD_STORVSC] = "azl_storvsc",
	[KMOD_NETVSC] = "azl_netvsc",
	[KMOD_ACCEL] = "azl_accel",
};

static const char *const family_names[KMOD_COUNT] = {
	[KMOD_STORVSC] = AZL_STORVSC_GENL_NAME,
	[KMOD_NETVSC] = AZL_NETVSC_GENL_NAME,
	[KMOD_ACCEL] = AZL_ACCEL_GENL_NAME,
};

const char *kmod_module_name(enum kmod_module m)
{
	return m < KMOD_COUNT ? module_names[m] : NULL;
}

enum kmod_module kmod_module_of_family(const char *family)
{
	for (int m = 0; m < KMOD_COUNT; m++)
		if (family && strcmp(family, family_names[m]) == 0)
			return (enum kmod_module)m;
	return KMOD_COUNT;
}

/* The kernel's refusal, with its extack text when it gave one. */
static void refused(struct kmod_push_result *r, const struct genl_client *c, int ret)
{
	char why[320];

	r->status = ret;
	snprintf(r->detail, sizeof(r->detail), "refused: %.200s",
		 genl_client_describe(c, ret, why, sizeof(why)));
}

/* The module's default layer, as GET_POLICY's first message gives it. */
static int storvsc_default(struct genl_client *c, struct storvsc_knobs *out)
{
	struct storvsc_rule *rules = NULL;
	size_t n = 0;
	int ret = storvsc_get_policy(c, &rules, &n);

	for (size_t i = 0; ret == 0 && i < n; i++)
		if (!rules[i].has_host)
			*out = rules[i].knobs;
	free(rules);
	return ret;
}

/*
 * A SET re-applies its knobs to every disk, so a value that is already the
 * module's is not sent again: a daemon restart must not undo what an
 * administrator set on one disk since.
 */
static void push_storvsc(const struct kmod_policy *p, struct kmod_push_result *r)
{
	struct storvsc_knobs cur = { 0 };
	struct genl_client c;
	uint32_t applied = 0;
	int ret = storvsc_open(&c);

	if (ret < 0) {
		r->status = ret;
		return;
	}
	ret = storvsc_default(&c, &cur);
	if (ret == 0 && cur.timeout == p->storvsc_rule.knobs.timeout) {
		snprintf(r->detail, sizeof(r->detail), "timeout %u s, unchanged",
			 cur.timeout);
		goto out;
	}
	if (ret == 0)
		ret = storvsc_set_policy(&c, &p->storvsc_rule, &applied);
	if (ret < 0)
		refused(r, &c, ret);
	else
		snprintf(r->detail, sizeof(r->detail), "timeout %u s%s (%" PRIu32 " disk%s)",
			 p->storvsc_rule.knobs.timeout,
			 p->storvsc_rule.knobs.timeout ? "" : " (the kernel's)", applied,
			 applied == 1 ? "" : "s");
out:
	genl_client_close(&c);
}

static void format_allowed(const struct netvsc_policy *cur, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cur->nallowed && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%" PRIu32, i ? ", " : "",
					cur->allowed[i]);
}

/* "channels 2, xps on, vf_xps off" ("the kernel's" for a count of 0). */
static void describe_netvsc(const struct netvsc_policy *p, char *buf, size_t len)
{
	char count[16];

	snprintf(count, sizeof(count), "%" PRIu32, p->channels);
	snprintf(buf, len, "channels %s, xps %s, vf_xps %s", p->channels ? count : "the kernel's",
		 p->xps ? "on" : "off", p->vf_xps ? "on" : "off");
}

static void push_netvsc(const struct kmod_policy *p, struct kmod_push_result *r)
{
	struct netvsc_policy want = p->netvsc_policy, cur;
	struct genl_client c;
	char allowed[64] = "";
	uint32_t applied = 0;
	int ret = netvsc_open(&c);

	if (ret < 0) {
		r->status = ret;
		return;
	}
	ret = netvsc_get_policy(&c, &cur);
	if (ret < 0) {
		refused(r, &c, ret);
		goto out;
	}
	format_allowed(&cur, allowed, sizeof(allowed));
	if (kmod_netvsc_channels(p, cur.allowed, cur.nallowed, &want.channels) < 0) {
		/* Never a count image validation would fail: keep the kernel's. */
		r->status = -ERANGE;

		char n[16] = "max";

		if (p->channels_mode == NETVSC_CHANNELS_COUNT)
			snprintf(n, sizeof(n), "%u", p->channels);
		snprintf(r->detail, sizeof(r->detail),
			 "[modules] netvsc_channels = %s: not a count image validation accepts "
			 "on this VM (%s); nothing pushed", n, allowed[0] ? allowed : "none");
		goto out;
	}
	/*
	 * Only what differs: a SET naming the channel count re-applies it to
	 * every NIC, and a daemon restart must not undo a count set by hand
	 * since (image validation checks that `ethtool -L` sticks).
	 */
	want.mask = kmod_netvsc_changed(&cur, &want);
	describe_netvsc(&want, r->detail, sizeof(r->detail));
	if (!want.mask) {
		strncat(r->detail, ", unchanged", sizeof(r->detail) - strlen(r->detail) - 1);
		goto out;
	}
	ret = netvsc_set_policy(&c, &want, &applied);
	if (ret < 0) {
		refused(r, &c, ret);
		goto out;
	}
	snprintf(r->detail + strlen(r->detail), sizeof(r->detail) - strlen(r->detail),
		 " (%" PRIu32 " device%s)", applied, applied == 1 ? "" : "s");
out:
	genl_client_close(&c);
}

static void push_accel(const struct kmod_policy *p, struct kmod_push_result *r)
{
	struct accel_node_entry *cur = NULL;
	struct genl_client c;
	uint32_t applied = 0;
	size_t ncur = 0;
	int ret = accel_open(&c);

	if (ret < 0) {
		r->status = ret;
		return;
	}
	ret = accel_get_policy(&c, &cur, &ncur);
	if (ret == 0 && kmod_accel_same_table(p->accel_nodes, p->naccel, cur, ncur)) {
		snprintf(r->detail, sizeof(r->detail), "%zu PCI domain%s from the %s table, unchanged",
			 p->naccel, p->naccel == 1 ? "" : "s", p->sku ? p->sku : "SKU");
		goto out;
	}
	if (ret == 0)
		ret = accel_set_policy(&c, p->accel_nodes, p->naccel, &applied);
	if (ret < 0)
		refused(r, &c, ret);
	else
		snprintf(r->detail, sizeof(r->detail),
			 "%zu PCI domain%s from the %s table (%" PRIu32 " unbound device%s to "
			 "change at bind)", p->naccel, p->naccel == 1 ? "" : "s",
			 p->sku ? p->sku : "SKU", applied, applied == 1 ? "" : "s");
out:
	free(cur);
	genl_client_close(&c);
}

void kmod_push(const struct kmod_policy *p, unsigned int which,
	       struct kmod_push_result res[KMOD_COUNT])
{
	static void (*const push[KMOD_COUNT])(const struct kmod_policy *,
					      struct kmod_push_result *) = {
		[KMOD_STORVSC] = push_storvsc,
		[KMOD_NETVSC] = push_netvsc,
		[KMOD_ACCEL] = push_accel,
	};
	const bool wanted[KMOD_COUNT] = {
		[KMOD_STORVSC] = p->storvsc,
		[KMOD_NETVSC] = p->netvsc,
		[KMOD_ACCEL] = p->accel,
	};

	memset(res, 0, sizeof(*res) * KMOD_COUNT);
	for (int m = 0; m < KMOD_COUNT; m++) {
		if (!(which & KMOD_BIT(m)) || !wanted[m])
			continue;
		res[m].tried = true;
		push[m](p, &res[m]);
		if (res[m].status == -ENOENT && !res[m].detail[0])
			snprintf(res[m].detail, sizeof(res[m].detail), "not loaded");
	}
}
