// SPDX-License-Identifier: MIT
/*
 * affinity_gather(), the VMBus devices: their class, their channels with
 * each one's target CPU, and a netvsc device's interface.  Each device's
 * files are read through its own directory, opened once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity_facts_internal.h"
#include "util.h"

#define VMBUS_DEVICES "bus/vmbus/devices"

static int cmp_channel(const void *a, const void *b)
{
	const struct aff_channel *x = a, *y = b;

	if (x->subchannel != y->subchannel)
		return x->subchannel < y->subchannel ? -1 : 1;
	return (x->relid > y->relid) - (x->relid < y->relid);
}

/* A channel's CPU must be online: the kernel refuses anything else. */
static int check_channel_cpu(struct gather *g, const struct sys_dir *h, const char *name, long cpu)
{
	char what[64];

	if (cpu >= 0 && cpu < CPUSET_MAX && cpuset_has(&g->online, (unsigned int)cpu))
		return 0;
	snprintf(what, sizeof(what), "CPU %ld is not online", cpu);
	return gather_fail_at(g, -ERANGE, h, name, what);
}

/*
 * Without channels/ (older kernels): channel_vp_mapping, "relid:cpu" lines in
 * offer order, primary first, which is sub-channel order: the position
 * stands in for subchannel_id.
 */
static int read_vp_mapping(struct gather *g, const struct sys_dir *dev, struct aff_vmbus_dev *d)
{
	_cleanup_free_ char *map = NULL;
	struct vmbus_device_fact f = { 0 };
	const char *name = "channel_vp_mapping";
	int ret;

	ret = sys_dir_read_all(dev, name, &map, NULL);
	if (ret == 0)
		ret = vmbus_parse_vp_mapping(map, &f);
	if (ret < 0)
		ret = gather_fail_at(g, ret, dev, name, ret == -E2BIG ? "too many channels" : NULL);
	if (ret == 0 && f.nchannels) {
		d->channels = calloc(f.nchannels, sizeof(*d->channels));
		if (!d->channels)
			ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < f.nchannels; i++) {
		ret = check_channel_cpu(g, dev, name, f.channels[i].cpu);
		d->channels[i] = (struct aff_channel){ f.channels[i].relid, (long)i,
						       f.channels[i].cpu };
		d->nchannels++;
	}
	free(f.channels);
	return ret;
}

/* channels/<relid>/{cpu,subchannel_id}; a lone channel is the primary (0). */
static int read_channel(struct gather *g, const struct sys_dir *dev, const char *relid,
			bool only, struct aff_channel *c)
{
	unsigned long long id;
	char name[64];
	long v;
	int ret;

	snprintf(name, sizeof(name), "channels/%.16s", relid);
	if (parse_dir_number(relid, INT_MAX, &id) < 0)
		return gather_fail_at(g, -EBADMSG, dev, name, "not a channel relid");
	c->relid = (long)id;
	snprintf(name, sizeof(name), "channels/%s/cpu", relid);
	ret = sys_dir_read_long(dev, name, &v);
	if (ret < 0)
		return gather_fail_at(g, ret, dev, name, NULL);
	ret = check_channel_cpu(g, dev, name, v);
	if (ret < 0)
		return ret;
	c->cpu = v;
	c->subchannel = 0;
	if (only)
		return 0;
	snprintf(name, sizeof(name), "channels/%s/subchannel_id", relid);
	ret = sys_dir_read_long(dev, name, &v);
	if (ret == -ENOENT)
		return 0;
	if (ret == 0 && (v < 0 || v > 0xffff)) /* a u16 in the offer */
		ret = -ERANGE;
	if (ret < 0)
		return gather_fail_at(g, ret, dev, name, NULL);
	c->subchannel = v;
	return 0;
}

/* 1 when the device has no channels/ directory. */
static int read_channel_dirs(struct gather *g, const struct sys_dir *dev, struct aff_vmbus_dev *d)
{
	char **names;
	size_t n;
	int ret;

	ret = sys_dir_list(dev, "channels", &names, &n);
	if (ret == -ENOENT)
		return 1;
	if (ret < 0)
		return gather_fail_at(g, ret, dev, "channels", NULL);
	if (n > AFF_MAX_CHANNELS)
		ret = gather_fail_at(g, -E2BIG, dev, "channels", "too many channels");
	if (ret == 0 && n) {
		d->channels = calloc(n, sizeof(*d->channels));
		if (!d->channels)
			ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = read_channel(g, dev, names[i], n == 1, &d->channels[i]);
		d->nchannels += ret == 0;
	}
	strv_free(names, n);
	return ret;
}

static int read_vmbus_dev(struct gather *g, const struct sys_dir *dev, struct aff_vmbus_dev *d,
			  bool *dirs)
{
	const struct vmbus_class *cls;
	char buf[64], guid[37], **names;
	size_t n;
	int ret;

	ret = sys_dir_read_text(dev, "class_id", buf, sizeof(buf));
	if (ret >= 0 && guid_normalize(buf, guid) < 0)
		return gather_fail_at(g, -EBADMSG, dev, "class_id", "not a GUID");
	if (ret < 0)
		return gather_fail_at(g, ret, dev, "class_id", NULL);
	cls = vmbus_class_lookup(guid);
	d->kind = cls ? cls->kind : "unknown";
	d->perf = cls && cls->perf;

	ret = read_channel_dirs(g, dev, d);
	*dirs = ret == 0;
	if (ret == 1)
		ret = read_vp_mapping(g, dev, d);
	if (ret < 0)
		return ret;
	if (d->nchannels)
		qsort(d->channels, d->nchannels, sizeof(*d->channels), cmp_channel);

	if (!cls || strcmp(cls->kind, "network") != 0)
		return 0;
	/* netvsc: its interface sits in the device's net/ directory. */
	if (sys_dir_list(dev, "net", &names, &n) < 0)
		return 0; /* unbound, or the interface is gone */
	if (n && strlen(names[0]) < sizeof(d->nic))
		strcpy(d->nic, names[0]);
	strv_free(names, n);
	return 0;
}

/*
 * One entry of the bus directory.  dirs: a device had channels/; mapping: one
 * had channel_vp_mapping only.
 */
static int read_vmbus_entry(struct gather *g, const struct sys_dir *bus, const char *name,
			    bool *dirs, bool *mapping)
{
	struct aff_input *in = g->in;
	struct aff_vmbus_dev *d = &in->vmbus[in->nvmbus];
	struct sys_dir dev = SYS_DIR_INIT;
	bool had_dirs = false;
	int ret;

	/* Device names are instance GUIDs; anything else is not ours to read. */
	if (guid_normalize(name, d->instance) < 0 || strcmp(name, d->instance))
		return 0;
	in->nvmbus++;
	ret = sys_dir_open_sub(bus, name, &dev);
	if (ret < 0)
		ret = gather_fail_at(g, ret, &dev, NULL, NULL);
	else
		ret = read_vmbus_dev(g, &dev, d, &had_dirs);
	sys_dir_close(&dev);
	*dirs |= had_dirs;
	*mapping |= !had_dirs && d->nchannels;
	return ret;
}

int gather_vmbus(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sys_dir bus = SYS_DIR_INIT;
	bool dirs = false, mapping = false;
	char **names = NULL;
	size_t n = 0;
	int ret;

	ret = sys_dir_open(g->r, ROOT_SYS, &bus, VMBUS_DEVICES);
	if (ret == 0)
		ret = sys_dir_list(&bus, ".", &names, &n);
	if (ret == -ENOENT)
		ret = 0; /* not Hyper-V, or no VMBus driver */
	else if (ret < 0)
		ret = gather_fail_at(g, ret, &bus, NULL, NULL);
	if (ret == 0 && n > AFF_MAX_VMBUS)
		ret = gather_fail_at(g, -E2BIG, &bus, NULL, "too many devices");
	if (ret == 0 && n) {
		in->vmbus = calloc(n, sizeof(*in->vmbus));
		if (!in->vmbus)
			ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = read_vmbus_entry(g, &bus, names[i], &dirs, &mapping);
	strv_free(names, n);
	sys_dir_close(&bus);
	in->channels_writable = dirs && !mapping;
	return ret;
}
