// SPDX-License-Identifier: MIT
/*
 * The "Module policy" lines of `status`: what azl_storvsc, azl_netvsc and
 * azl_accel were told (their policy) and what they did with it (devices
 * and outcomes), asked over generic netlink.  Live systems only: a --root
 * tree has no kernel to ask.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmod_accel.h"
#include "kmod_netvsc.h"
#include "kmod_storvsc.h"
#include "status.h"

static void note_error(struct kmod_summary *k, const char *module, const struct genl_client *c,
		       int ret)
{
	char why[320];

	if (!k->error[0])
		snprintf(k->error, sizeof(k->error), "%s: %.160s", module,
			 genl_client_describe(c, ret, why, sizeof(why)));
}

static void storvsc_summary(struct kmod_summary *k)
{
	struct storvsc_rule *rules = NULL;
	struct storvsc_dev *devs = NULL;
	size_t nrules = 0, ndevs = 0;
	struct genl_client c;
	int ret;

	if (storvsc_open(&c) < 0)
		return;
	ret = storvsc_get_policy(&c, &rules, &nrules);
	if (ret == 0)
		ret = storvsc_get_devices(&c, &devs, &ndevs);
	if (ret < 0) {
		note_error(k, "azl_storvsc", &c, ret);
	} else {
		k->storvsc = true;
		for (size_t i = 0; i < nrules; i++) {
			if (rules[i].has_host) {
				k->storvsc_rules++;
				continue;
			}
			k->storvsc_timeout = rules[i].knobs.timeout;
			k->storvsc_eh_timeout = rules[i].knobs.eh_timeout;
			k->storvsc_queue_depth = rules[i].knobs.queue_depth;
		}
		k->storvsc_disks = ndevs;
	}
	free(rules);
	free(devs);
	genl_client_close(&c);
}

static void netvsc_summary(struct kmod_summary *k, struct warnings *w)
{
	struct netvsc_dev *devs = NULL;
	struct netvsc_policy p;
	struct genl_client c;
	size_t n = 0;
	int ret;

	if (netvsc_open(&c) < 0)
		return;
	ret = netvsc_get_policy(&c, &p);
	if (ret == 0)
		ret = netvsc_get_devices(&c, &devs, &n);
	if (ret < 0) {
		note_error(k, "azl_netvsc", &c, ret);
		goto out;
	}
	k->netvsc = true;
	k->netvsc_channels = p.channels;
	k->netvsc_xps = p.xps;
	k->netvsc_vf_xps = p.vf_xps;
	k->netvsc_nallowed = p.nallowed < 8 ? p.nallowed : 8;
	memcpy(k->netvsc_allowed, p.allowed, k->netvsc_nallowed * sizeof(p.allowed[0]));
	for (size_t i = 0; i < n; i++) {
		const struct netvsc_dev *d = &devs[i];
		const int32_t results[] = { d->result_channels, d->result_rings, d->result_xps };
		const char *const what[] = { "channels", "rings", "XPS" };

		if (d->kind == AZL_NETVSC_KIND_VF)
			k->netvsc_vfs++;
		else
			k->netvsc_nics++;
		/* A driver without the operation is not a failure of the policy. */
		for (size_t r = 0; r < 3; r++)
			if (results[r] < 0 && results[r] != -EOPNOTSUPP)
				warn_add(w, "modules", "azl_netvsc could not set %s on %s: %s",
					 what[r], d->ifname, strerror(-results[r]));
	}
out:
	free(devs);
	genl_client_close(&c);
}

static void accel_summary(struct kmod_summary *k, struct warnings *w)
{
	struct accel_node_entry *table = NULL;
	struct accel_dev *devs = NULL;
	struct genl_client c;
	size_t n = 0;
	int ret;

	if (accel_open(&c) < 0)
		return;
	ret = accel_get_policy(&c, &table, &k->accel_table);
	if (ret == 0)
		ret = accel_get_devices(&c, &devs, &n);
	if (ret < 0) {
		note_error(k, "azl_accel", &c, ret);
		goto out;
	}
	k->accel = true;
	k->accel_devices = n;
	for (size_t i = 0; i < n; i++) {
		if (devs[i].source <= AZL_ACCEL_SOURCE_PENDING)
			k->accel_by_source[devs[i].source]++;
		if (devs[i].source == AZL_ACCEL_SOURCE_LATE)
			warn_add(w, "modules",
				 "%s keeps NUMA node %d: its driver %s bound before azl_accel's table "
				 "had its domain (it applies at the next bind; the table belongs in "
				 "azl_accel's nodes= option)",
				 devs[i].bdf, (int)devs[i].node, devs[i].driver[0] ? devs[i].driver : "?");
	}
out:
	free(table);
	free(devs);
	genl_client_close(&c);
}

void status_kmods(struct status *s)
{
	struct kmod_summary *k = &s->kmods;

	memset(k, 0, sizeof(*k));
	k->asked = true;
	storvsc_summary(k);
	netvsc_summary(k, &s->warnings);
	accel_summary(k, &s->warnings);
	if (k->error[0])
		warn_add(&s->warnings, "modules", "%s", k->error);
	/* The verdict counts the warnings added here too. */
	status_verdict(s);
}
