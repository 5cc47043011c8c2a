// SPDX-License-Identifier: MIT
/* VMBus devices and the CPUs their channels interrupt. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "kmod_vmbus.h"
#include "sysfile.h"
#include "util.h"

#define VMBUS_DEVICES "bus/vmbus/devices"
#define MAX_CHANNELS 1024 /* VMBus caps sub-channels far lower; guards hostile input */

int vmbus_fact_add_channel(struct vmbus_device_fact *d, long relid, long cpu)
{
	struct channel_fact *c;

	if (d->nchannels >= MAX_CHANNELS)
		return -E2BIG;
	c = realloc(d->channels, (d->nchannels + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	d->channels = c;
	d->channels[d->nchannels++] = (struct channel_fact){ relid, cpu };
	return 0;
}

/* channel_vp_mapping: one "relid:cpu" line per channel, primary first. */
int vmbus_parse_vp_mapping(const char *text, struct vmbus_device_fact *d)
{
	const char *l = text;

	while (*l) {
		char *colon, *end;
		long relid, cpu;
		int ret;

		/* Digits only: strtol alone would take blanks and signs. */
		if (!isdigit((unsigned char)*l))
			return -EBADMSG;
		relid = strtol(l, &colon, 10);
		if (*colon != ':' || !isdigit((unsigned char)colon[1]) || relid > INT_MAX)
			return -EBADMSG;
		cpu = strtol(colon + 1, &end, 10);
		if ((*end && *end != '\n') || cpu >= CPUSET_MAX)
			return -EBADMSG;
		ret = vmbus_fact_add_channel(d, relid, cpu);
		if (ret < 0)
			return ret;
		l = *end ? end + 1 : end;
	}
	return 0;
}

/* Older kernels or odd files: one channels/<relid>/cpu per channel instead. */
static int read_channel_dirs(const struct root *r, struct vmbus_device_fact *d)
{
	char **names;
	size_t n;
	int ret;

	ret = root_list_dir(r, ROOT_SYS, &names, &n, VMBUS_DEVICES "/%s/channels",
			    d->instance);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		long relid, cpu;

		if (parse_long(names[i], &relid) < 0)
			continue;
		ret = root_read_long(r, ROOT_SYS, &cpu, VMBUS_DEVICES "/%s/channels/%s/cpu",
				     d->instance, names[i]);
		if (ret == 0 && (cpu < 0 || cpu >= CPUSET_MAX))
			ret = -ERANGE;
		if (ret == 0)
			ret = vmbus_fact_add_channel(d, relid, cpu);
	}
	strv_free(names, n);
	return ret;
}

static void read_channels(const struct root *r, struct vmbus_device_fact *d,
			  struct warnings *w)
{
	_cleanup_free_ char *map = NULL;
	char rel[128];
	int ret;

	ret = root_read_all(r, ROOT_SYS, &map, NULL, VMBUS_DEVICES "/%s/channel_vp_mapping",
			    d->instance);
	if (ret == 0) {
		ret = vmbus_parse_vp_mapping(map, d);
		if (ret == 0) {
			d->channels_known = true;
			return;
		}
		free(d->channels);
		d->channels = NULL;
		d->nchannels = 0;
	}
	if (read_channel_dirs(r, d) == 0) {
		d->channels_known = true;
		return;
	}
	free(d->channels);
	d->channels = NULL;
	d->nchannels = 0;
	snprintf(rel, sizeof(rel), VMBUS_DEVICES "/%s/channel_vp_mapping", d->instance);
	warn_unreadable(w, "vmbus", ROOT_SYS, rel, ret);
}

static void read_device(const struct root *r, struct vmbus_device_fact *d,
			struct warnings *w)
{
	char buf[64], rel[128];
	int ret;

	ret = root_read_text(r, ROOT_SYS, buf, sizeof(buf), VMBUS_DEVICES "/%s/class_id",
			     d->instance);
	if (ret < 0 || guid_normalize(buf, d->class_id) < 0) {
		d->class_id[0] = '\0';
		snprintf(rel, sizeof(rel), VMBUS_DEVICES "/%s/class_id", d->instance);
		warn_unreadable(w, "vmbus", ROOT_SYS, rel, ret < 0 ? ret : -EBADMSG);
	}
	d->cls = d->class_id[0] ? vmbus_class_lookup(d->class_id) : NULL;
	if (root_read_long(r, ROOT_SYS, &d->relid, VMBUS_DEVICES "/%s/id", d->instance) < 0)
		d->relid = -1;
	if (root_read_long(r, ROOT_SYS, &d->numa_node, VMBUS_DEVICES "/%s/numa_node",
			   d->instance) < 0)
		d->numa_node = LONG_MIN; /* absent before 4.19 */
	if (root_read_link_name(r, ROOT_SYS, d->driver, sizeof(d->driver),
				VMBUS_DEVICES "/%s/driver", d->instance) < 0)
		d->driver[0] = '\0';
	read_channels(r, d, w);
}

void vmbus_facts_free(struct vmbus_facts *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->devs[i].channels);
	free(v->devs);
	v->devs = NULL;
	v->n = 0;
}

/*
 * With azl_vmbus loaded, one netlink dump replaces the sysfs walk.  Only
 * on the live root: a fixture tree has no kernel behind it.
 */
static bool read_from_kmod(struct vmbus_facts *v, struct warnings *w)
{
	struct genl_client c;
	int ret = vmbus_kmod_open(&c);

	if (ret == -ENOENT)
		return false; /* not loaded: sysfs is the normal path */
	if (ret == 0) {
		ret = vmbus_kmod_read(&c, v);
		genl_client_close(&c);
	}
	if (ret < 0) {
		warn_add(w, "vmbus", "azl_vmbus did not answer (%s); read sysfs instead",
			 strerror(-ret));
		return false;
	}
	v->source = "azl_vmbus";
	return true;
}

void facts_vmbus(const struct root *r, struct vmbus_facts *v, struct warnings *w)
{
	char **names;
	size_t n;
	int ret;

	memset(v, 0, sizeof(*v));
	if (root_is_live(r) && read_from_kmod(v, w))
		return;
	v->source = "sysfs";
	ret = root_list_dir(r, ROOT_SYS, &names, &n, VMBUS_DEVICES);
	if (ret == -ENOENT)
		return; /* no VMBus: the platform facts say so */
	if (ret < 0) {
		warn_unreadable(w, "vmbus", ROOT_SYS, VMBUS_DEVICES, ret);
		return;
	}
	v->devs = calloc(n ? n : 1, sizeof(*v->devs));
	for (size_t i = 0; v->devs && i < n; i++) {
		struct vmbus_device_fact *d = &v->devs[v->n];

		/* Device names are instance GUIDs; anything else is not ours to read. */
		if (guid_normalize(names[i], d->instance) < 0 || strcmp(names[i], d->instance))
			continue;
		read_device(r, d, w);
		v->n++;
	}
	strv_free(names, n);
}
