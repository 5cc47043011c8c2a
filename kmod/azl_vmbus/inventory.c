// SPDX-License-Identifier: GPL-2.0
/*
 * The device list and its channels.
 *
 * Channels are found the way sysfs shows them: each channel is a kobject
 * in its device's "channels" kset.  A walk copies what it needs while it
 * holds the kset's list_lock and takes no reference: a reference would
 * keep channels/<relid> in sysfs after the host released the relid, and a
 * new offer of the same relid would then collide with it.  The kset
 * itself stays alive while our reference on the device keeps the primary
 * channel, a member of the kset, alive.
 *
 * Channel events are the difference between two walks.  A walk runs when a
 * device is added or bound, 0.1 s, 1 s and 5 s after that (sub-channels are
 * offered asynchronously after the driver asks for them), and at the start
 * of every part of a dump.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "../include/azl_hv_channels.h"
#include "azl_vmbus.h"

DEFINE_MUTEX(azl_vmbus_lock);
LIST_HEAD(azl_vmbus_devs);
/* Starts at 1: a dump's consistency check is off while it is 0. */
unsigned int azl_vmbus_generation = 1;

static const unsigned int azl_settle_ms[] = { 100, 1000, 5000 };

static const struct {
	const char *guid;
	const char *name;
} azl_vmbus_classes[] = {
	/* The names azl-agent uses for the same classes (vmbus_class.c). */
	{ "f8615163-df3e-46c5-913f-f2d2f965ed0e", "network" },
	{ "ba6163d9-04a1-4d29-b605-72e2ffb1dc7f", "storage" },
	{ "32412632-86cb-44a2-9b5c-50d1417354f5", "ide" },
	{ "2f9bcc4a-0069-4af3-b76b-6fd0be528cda", "fibre-channel" },
	{ "8c2eaf3d-32a7-4b09-ab99-bd1f1c86b501", "rdma" },
	{ "44c4f61d-4444-4400-9d52-802e27ede19f", "vpci" },
	{ "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6", "kvp" },
	{ "35fa2e29-ea23-4236-96ae-3a6ebacba440", "vss" },
	{ "34d14be3-dee4-41c8-9ae7-6b174977c192", "fcopy" },
	{ "57164f39-9115-4e78-ab55-382f3bd5422d", "heartbeat" },
	{ "0e0b6031-5213-4934-818b-38d90ced39db", "shutdown" },
	{ "9527e630-d0ae-497b-adce-e80ab0175caf", "timesync" },
	{ "525074dc-8985-46e2-8057-a307dc18a502", "dynamic-memory" },
	{ "f912ad6d-2b17-48ea-bd65-f927a61c7684", "keyboard" },
	{ "cfa8b69e-5b4a-4cc0-b98b-8ba1a1f3f95a", "mouse" },
	{ "da0a7802-e377-4aac-8e77-0558eb1073f8", "video" },
};

const char *azl_vmbus_class_name(const struct hv_device *hdev)
{
	char guid[UUID_STRING_LEN + 1];
	size_t i;

	snprintf(guid, sizeof(guid), "%pUl", &hdev->dev_type);
	for (i = 0; i < ARRAY_SIZE(azl_vmbus_classes); i++)
		if (!strcmp(guid, azl_vmbus_classes[i].guid))
			return azl_vmbus_classes[i].name;
	return "unknown";
}

static struct azl_vmbus_dev *azl_dev_find(struct hv_device *hdev)
{
	struct azl_vmbus_dev *d;

	list_for_each_entry(d, &azl_vmbus_devs, node)
		if (d->hdev == hdev)
			return d;
	return NULL;
}

struct azl_vmbus_chan_snap *azl_vmbus_snapshot_alloc(void)
{
	return kvmalloc_array(AZL_VMBUS_MAX_CHANNELS, sizeof(struct azl_vmbus_chan_snap),
			      GFP_KERNEL);
}

static void azl_snap_one(struct azl_vmbus_chan_snap *s, const struct vmbus_channel *c)
{
	s->relid = c->offermsg.child_relid;
	s->subchannel = c->offermsg.offer.sub_channel_index;
	s->rescind = READ_ONCE(c->rescind);
	s->target_cpu = READ_ONCE(c->target_cpu);
	s->out_ring_size = c->outbound.ring_datasize;
	s->in_ring_size = c->inbound.ring_datasize;
	s->interrupts = READ_ONCE(c->interrupts);
	s->sig_events = READ_ONCE(c->sig_events);
	s->out_full_total = READ_ONCE(c->out_full_total);
	s->out_full_first = READ_ONCE(c->out_full_first);
	s->intr_in_full = READ_ONCE(c->intr_in_full);
	s->intr_out_empty = READ_ONCE(c->intr_out_empty);
}

static int azl_snap_cmp(const void *a, const void *b)
{
	const struct azl_vmbus_chan_snap *x = a, *y = b;

	return (int)x->subchannel - (int)y->subchannel;
}

/*
 * Copy the channels of @hdev into @snap (room for AZL_VMBUS_MAX_CHANNELS),
 * primary first, then by sub-channel index.  Returns how many.
 */
int azl_vmbus_snapshot(struct hv_device *hdev, struct azl_vmbus_chan_snap *snap)
{
	struct kset *kset = azl_hv_channels_kset(hdev);
	struct kobject *k;
	int n = 0;

	if (!kset)
		return 0;
	spin_lock(&kset->list_lock);
	list_for_each_entry(k, &kset->list, entry) {
		if (n == AZL_VMBUS_MAX_CHANNELS) {
			pr_notice_once("a device has more than %d channels; the rest are not reported\n",
				       AZL_VMBUS_MAX_CHANNELS);
			break;
		}
		azl_snap_one(&snap[n++], azl_hv_kobj_channel(k));
	}
	spin_unlock(&kset->list_lock);
	sort(snap, n, sizeof(*snap), azl_snap_cmp, NULL);
	return n;
}

/*
 * Bytes free in the outbound ring and waiting in the inbound ring of the
 * channel @relid of @hdev.  This needs the rings' mutexes, so it holds a
 * reference on that one channel for the two reads only, and never on a
 * channel the host already rescinded.  -ENOENT when there is no such open
 * channel.
 */
int azl_vmbus_ring_avail(struct hv_device *hdev, u32 relid, u32 *out_write_avail,
			 u32 *in_read_avail)
{
	struct hv_ring_buffer_debug_info out, in;
	struct kset *kset = azl_hv_channels_kset(hdev);
	struct vmbus_channel *chan = NULL;
	struct kobject *k;
	int ret;

	if (!kset)
		return -ENOENT;
	spin_lock(&kset->list_lock);
	list_for_each_entry(k, &kset->list, entry) {
		struct vmbus_channel *c = azl_hv_kobj_channel(k);

		if (c->offermsg.child_relid == relid && !READ_ONCE(c->rescind) &&
		    kobject_get_unless_zero(k)) {
			chan = c;
			break;
		}
	}
	spin_unlock(&kset->list_lock);
	if (!chan)
		return -ENOENT;
	ret = hv_ringbuffer_get_debuginfo(&chan->outbound, &out);
	if (!ret)
		ret = hv_ringbuffer_get_debuginfo(&chan->inbound, &in);
	kobject_put(&chan->kobj);
	if (ret)
		return ret;
	*out_write_avail = out.bytes_avail_towrite;
	*in_read_avail = in.bytes_avail_toread;
	return 0;
}

static struct azl_vmbus_chan_id *azl_known_find(struct azl_vmbus_dev *d, u32 relid)
{
	unsigned int i;

	for (i = 0; i < d->nr_known; i++)
		if (d->known[i].relid == relid)
			return &d->known[i];
	return NULL;
}

/* Compare a fresh walk with what we knew; send the differences. */
static bool azl_diff_channels(struct azl_vmbus_dev *d,
			      const struct azl_vmbus_chan_snap *snap, int n,
			      struct azl_vmbus_chan_id *now)
{
	bool changed = n != d->nr_known;
	unsigned int i, j;
	int k;

	for (k = 0; k < n; k++) {
		struct azl_vmbus_chan_id *old = azl_known_find(d, now[k].relid);

		now[k].rescind_sent = old && old->rescind_sent;
		if (!old) {
			azl_vmbus_notify_channel(d, AZL_VMBUS_CMD_CHANNEL_ADD,
						 &now[k], &snap[k]);
			changed = true;
		}
		if (snap[k].rescind && !now[k].rescind_sent) {
			azl_vmbus_notify_channel(d, AZL_VMBUS_CMD_CHANNEL_RESCIND,
						 &now[k], NULL);
			now[k].rescind_sent = true;
		}
	}
	for (i = 0; i < d->nr_known; i++) {
		for (j = 0; j < n; j++)
			if (now[j].relid == d->known[i].relid)
				break;
		if (j == n) {
			azl_vmbus_notify_channel(d, AZL_VMBUS_CMD_CHANNEL_REMOVE,
						 &d->known[i], NULL);
			changed = true;
		}
	}
	return changed;
}

/* Walk @d's channels again and report what changed.  Lock held. */
void azl_vmbus_rescan(struct azl_vmbus_dev *d)
{
	struct azl_vmbus_chan_snap *snap;
	struct azl_vmbus_chan_id *now;
	int n, k;

	lockdep_assert_held(&azl_vmbus_lock);
	snap = azl_vmbus_snapshot_alloc();
	if (!snap)
		return;
	n = azl_vmbus_snapshot(d->hdev, snap);
	now = kcalloc(max(n, 1), sizeof(*now), GFP_KERNEL);
	if (!now)
		goto out;
	for (k = 0; k < n; k++) {
		now[k].relid = snap[k].relid;
		now[k].subchannel = snap[k].subchannel;
	}
	if (azl_diff_channels(d, snap, n, now))
		azl_vmbus_generation++;
	kfree(d->known);
	d->known = now;
	d->nr_known = n;
out:
	kvfree(snap);
}

static void azl_settle_work(struct work_struct *work)
{
	struct azl_vmbus_dev *d = container_of(to_delayed_work(work),
					       struct azl_vmbus_dev, settle);

	mutex_lock(&azl_vmbus_lock);
	if (!d->gone) {
		azl_vmbus_rescan(d);
		if (++d->settle_step < ARRAY_SIZE(azl_settle_ms))
			schedule_delayed_work(&d->settle,
				msecs_to_jiffies(azl_settle_ms[d->settle_step]));
	}
	mutex_unlock(&azl_vmbus_lock);
}

/* Restart the settle schedule of @d (lock held). */
static void azl_settle_restart(struct azl_vmbus_dev *d)
{
	d->settle_step = 0;
	mod_delayed_work(system_wq, &d->settle,
			 msecs_to_jiffies(azl_settle_ms[0]));
}

void azl_vmbus_track(struct hv_device *hdev)
{
	struct azl_vmbus_dev *d;

	mutex_lock(&azl_vmbus_lock);
	/*
	 * Every unregister path sets rescind before device_del(); a device
	 * our init walk meets that late must not be held until unload.
	 */
	if (azl_dev_find(hdev) || !device_is_registered(&hdev->device) ||
	    READ_ONCE(hdev->channel->rescind))
		goto out;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		goto out;
	get_device(&hdev->device);
	d->hdev = hdev;
	INIT_DELAYED_WORK(&d->settle, azl_settle_work);
	list_add_tail(&d->node, &azl_vmbus_devs);
	azl_vmbus_generation++;
	azl_vmbus_notify_device(d, AZL_VMBUS_CMD_DEVICE_ADD);
	azl_vmbus_rescan(d);
	azl_settle_restart(d);
out:
	mutex_unlock(&azl_vmbus_lock);
}

/*
 * Called with the device lock held (bus notifier for bind and unbind, or
 * our own walk), which is what makes dev->driver safe to read.  Lock
 * order: device lock, then azl_vmbus_lock; never the other way round.
 */
void azl_vmbus_driver_changed(struct hv_device *hdev)
{
	struct device_driver *drv = hdev->device.driver;
	struct azl_vmbus_dev *d;

	mutex_lock(&azl_vmbus_lock);
	d = azl_dev_find(hdev);
	if (d)
		strscpy(d->driver, drv ? drv->name : "", sizeof(d->driver));
	mutex_unlock(&azl_vmbus_lock);
}

void azl_vmbus_kick(struct hv_device *hdev)
{
	struct azl_vmbus_dev *d;

	mutex_lock(&azl_vmbus_lock);
	d = azl_dev_find(hdev);
	if (d)
		azl_settle_restart(d);
	mutex_unlock(&azl_vmbus_lock);
}

/* Unlink @d (lock held); the caller frees it with azl_dev_free(). */
static void azl_dev_unlink(struct azl_vmbus_dev *d)
{
	list_del(&d->node);
	d->gone = true;
	azl_vmbus_generation++;
}

/* Lock not held: the settle work takes it. */
static void azl_dev_free(struct azl_vmbus_dev *d)
{
	cancel_delayed_work_sync(&d->settle);
	put_device(&d->hdev->device);
	kfree(d->known);
	kfree(d);
}

void azl_vmbus_untrack(struct hv_device *hdev)
{
	struct azl_vmbus_dev *d;

	mutex_lock(&azl_vmbus_lock);
	d = azl_dev_find(hdev);
	if (d) {
		/*
		 * The host rescinds the primary channel before it removes a
		 * device; only a guest-side teardown that does not (none in
		 * current kernels) is reported as a plain removal.
		 */
		azl_vmbus_notify_device(d, READ_ONCE(hdev->channel->rescind) ?
					AZL_VMBUS_CMD_DEVICE_RESCIND :
					AZL_VMBUS_CMD_DEVICE_REMOVE);
		azl_dev_unlink(d);
	}
	mutex_unlock(&azl_vmbus_lock);
	if (d)
		azl_dev_free(d);
}

void azl_vmbus_untrack_all(void)
{
	struct azl_vmbus_dev *d;

	for (;;) {
		mutex_lock(&azl_vmbus_lock);
		d = list_first_entry_or_null(&azl_vmbus_devs,
					     struct azl_vmbus_dev, node);
		if (d)
			azl_dev_unlink(d);
		mutex_unlock(&azl_vmbus_lock);
		if (!d)
			return;
		azl_dev_free(d);
	}
}
