// SPDX-License-Identifier: GPL-2.0
/*
 * azl_storvsc: give every disk of a Hyper-V storvsc controller its policy
 * (command timeout, error-handling timeout, queue depth) the moment the
 * SCSI core adds it: after the host driver configured the device, before
 * the "add" uevent reaches udev and before sd binds.
 *
 * How it sees devices without private symbols: it registers a SCSI
 * upper-level driver whose probe declines every device.  Registration
 * hands back the SCSI bus, on which a bus notifier then observes
 * BUS_NOTIFY_ADD_DEVICE / BUS_NOTIFY_DEL_DEVICE.  It never binds, so sd,
 * sr and sg see nothing different, and it holds no symbol of hv_storvsc:
 * hosts are matched by their template's proc_name ("storvsc_host"), which
 * keeps hv_storvsc reloadable.  match_host= names another template for
 * tests (scsi_debug).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>

#include "../include/azl_compat.h"
#include "../include/uapi/azl_storvsc.h"
#include "azl_storvsc.h"

DEFINE_MUTEX(azl_storvsc_lock);
LIST_HEAD(azl_storvsc_devs);
/* Starts at 1: a dump's consistency check is off while it is 0. */
unsigned int azl_storvsc_generation = 1;
struct azl_storvsc_policy azl_storvsc_default = {
	/*
	 * Azure images have shipped 300 s through WALinuxAgent's
	 * OS.RootDeviceScsiTimeout; storvsc's own is 180 s.
	 */
	.timeout = 300,
};

/* ---- module parameters: the default layer ---- */

struct azl_knob {
	u32 *value;
	u32 max;
	unsigned int mask;	/* AZL_KNOB_* */
};

static int azl_knob_set(const char *val, const struct kernel_param *kp)
{
	const struct azl_knob *knob = kp->arg;
	u32 v;
	int ret = kstrtou32(val, 0, &v);

	if (ret)
		return ret;
	if (v > knob->max)
		return -ERANGE;
	mutex_lock(&azl_storvsc_lock);
	*knob->value = v;
	azl_storvsc_reapply(true, 0, false, 0, knob->mask);
	mutex_unlock(&azl_storvsc_lock);
	return 0;
}

static int azl_knob_get(char *buffer, const struct kernel_param *kp)
{
	const struct azl_knob *knob = kp->arg;

	return sysfs_emit(buffer, "%u\n", READ_ONCE(*knob->value));
}

static const struct kernel_param_ops azl_knob_ops = {
	.set = azl_knob_set,
	.get = azl_knob_get,
};

static struct azl_knob azl_timeout_knob = {
	&azl_storvsc_default.timeout, AZL_STORVSC_TIMEOUT_MAX, AZL_KNOB_TIMEOUT
};
static struct azl_knob azl_eh_timeout_knob = {
	&azl_storvsc_default.eh_timeout, AZL_STORVSC_EH_TIMEOUT_MAX, AZL_KNOB_EH_TIMEOUT
};
static struct azl_knob azl_queue_depth_knob = {
	&azl_storvsc_default.queue_depth, AZL_STORVSC_QUEUE_DEPTH_MAX, AZL_KNOB_QUEUE_DEPTH
};

__MODULE_PARM_TYPE(timeout, "uint");
module_param_cb(timeout, &azl_knob_ops, &azl_timeout_knob, 0644);
MODULE_PARM_DESC(timeout,
		 "Command timeout in seconds for disks of matched hosts (0 keeps the kernel's; default 300, max 3600)");
__MODULE_PARM_TYPE(eh_timeout, "uint");
module_param_cb(eh_timeout, &azl_knob_ops, &azl_eh_timeout_knob, 0644);
MODULE_PARM_DESC(eh_timeout,
		 "Error-handling timeout in seconds (0 keeps the kernel's, the default; max 3600)");
__MODULE_PARM_TYPE(queue_depth, "uint");
module_param_cb(queue_depth, &azl_knob_ops, &azl_queue_depth_knob, 0644);
MODULE_PARM_DESC(queue_depth,
		 "Queue depth, clamped by the host (0 keeps the kernel's, the default; max 65535)");

static char match_host[32] = "storvsc_host";
module_param_string(match_host, match_host, sizeof(match_host), 0444);
MODULE_PARM_DESC(match_host,
		 "proc_name of the SCSI host template to tune (default storvsc_host; tests use scsi_debug)");

/* ---- the device list ---- */

static bool azl_host_matches(const struct Scsi_Host *shost)
{
	return shost->hostt->proc_name &&
	       !strcmp(shost->hostt->proc_name, match_host);
}

bool azl_storvsc_host_exists(u32 host)
{
	struct Scsi_Host *shost = scsi_host_lookup(host);
	bool ok;

	if (IS_ERR_OR_NULL(shost))
		return false;
	ok = azl_host_matches(shost) && scsi_host_scan_allowed(shost);
	scsi_host_put(shost);
	return ok;
}

/* Disks only: sr sets its own timeout at probe, after our notifier. */
static bool azl_sdev_wanted(const struct scsi_device *sdev)
{
	return azl_host_matches(sdev->host) &&
	       (sdev->type == TYPE_DISK || sdev->type == TYPE_ZBC);
}

static struct azl_storvsc_dev *azl_dev_find(struct scsi_device *sdev)
{
	struct azl_storvsc_dev *d;

	list_for_each_entry(d, &azl_storvsc_devs, node)
		if (d->sdev == sdev)
			return d;
	return NULL;
}

/* Start tuning @sdev: remember what the kernel chose, then apply. */
static void azl_dev_track(struct scsi_device *sdev)
{
	struct azl_storvsc_dev *d;

	mutex_lock(&azl_storvsc_lock);
	/*
	 * A device being deleted already left SDEV_RUNNING & co. for
	 * SDEV_CANCEL before its BUS_NOTIFY_DEL_DEVICE.
	 */
	if (azl_dev_find(sdev) || sdev->sdev_state == SDEV_CANCEL ||
	    sdev->sdev_state == SDEV_DEL)
		goto out;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		goto out;
	get_device(&sdev->sdev_gendev);
	d->sdev = sdev;
	d->orig_timeout = sdev->request_queue->rq_timeout;
	d->orig_eh_timeout = sdev->eh_timeout;
	d->orig_queue_depth = sdev->queue_depth;
	list_add_tail(&d->node, &azl_storvsc_devs);
	azl_storvsc_generation++;
	azl_storvsc_apply(d, AZL_KNOB_ALL);
out:
	mutex_unlock(&azl_storvsc_lock);
}

static void azl_dev_forget(struct azl_storvsc_dev *d)
{
	list_del(&d->node);
	azl_storvsc_generation++;
	put_device(&d->sdev->sdev_gendev);
	kfree(d);
}

static void azl_dev_untrack(struct scsi_device *sdev)
{
	struct azl_storvsc_dev *d;

	mutex_lock(&azl_storvsc_lock);
	d = azl_dev_find(sdev);
	if (d)
		azl_dev_forget(d);
	mutex_unlock(&azl_storvsc_lock);
}

/* ---- the SCSI bus observer ---- */

static int azl_scsi_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct device *dev = data;

	if (scsi_is_sdev_device(dev)) {
		struct scsi_device *sdev = to_scsi_device(dev);

		if (!azl_sdev_wanted(sdev))
			return NOTIFY_DONE;
		if (action == BUS_NOTIFY_ADD_DEVICE)
			azl_dev_track(sdev);
		else if (action == BUS_NOTIFY_DEL_DEVICE ||
			 action == BUS_NOTIFY_REMOVED_DEVICE)
			azl_dev_untrack(sdev);
	} else if (scsi_is_host_device(dev) &&
		   action == BUS_NOTIFY_DEL_DEVICE) {
		/* Any host: its number may come back as one of ours. */
		mutex_lock(&azl_storvsc_lock);
		azl_storvsc_rules_drop_host(dev_to_shost(dev)->host_no);
		mutex_unlock(&azl_storvsc_lock);
	}
	return NOTIFY_DONE;
}

static struct notifier_block azl_scsi_nb = {
	.notifier_call = azl_scsi_notify,
};

/* Declining every device is what makes this driver a pure observer. */
static int azl_observer_probe(struct device *dev)
{
	return -ENODEV;
}

static struct azl_scsi_observer azl_observer = AZL_SCSI_OBSERVER_INIT(
	KBUILD_MODNAME, azl_observer_probe);

static int azl_track_existing(struct device *dev, void *unused)
{
	if (scsi_is_sdev_device(dev) && azl_sdev_wanted(to_scsi_device(dev)))
		azl_dev_track(to_scsi_device(dev));
	return 0;
}

static int __init azl_storvsc_init(void)
{
	int ret;

	ret = azl_storvsc_netlink_init();
	if (ret)
		return ret;
	ret = azl_scsi_observer_register(&azl_observer);
	if (ret)
		goto out_netlink;
	ret = bus_register_notifier(azl_scsi_observer_bus(&azl_observer), &azl_scsi_nb);
	if (ret)
		goto out_driver;
	/*
	 * Disks that were there before us; the notifier covers the rest,
	 * and azl_dev_track() ignores a disk seen by both.
	 */
	bus_for_each_dev(azl_scsi_observer_bus(&azl_observer), NULL, NULL,
			 azl_track_existing);
	pr_info("tuning disks of SCSI hosts \"%s\": timeout %us, eh_timeout %us, queue_depth %u (0 keeps the kernel's)\n",
		match_host, azl_storvsc_default.timeout,
		azl_storvsc_default.eh_timeout, azl_storvsc_default.queue_depth);
	return 0;

out_driver:
	azl_scsi_observer_unregister(&azl_observer);
out_netlink:
	azl_storvsc_netlink_exit();
	return ret;
}

static void __exit azl_storvsc_exit(void)
{
	struct azl_storvsc_dev *d, *tmp;

	bus_unregister_notifier(azl_scsi_observer_bus(&azl_observer), &azl_scsi_nb);
	azl_scsi_observer_unregister(&azl_observer);
	/*
	 * Disks keep the values they have; only our bookkeeping goes, before
	 * the family does, so a late parameter write finds no disk to report.
	 */
	mutex_lock(&azl_storvsc_lock);
	list_for_each_entry_safe(d, tmp, &azl_storvsc_devs, node)
		azl_dev_forget(d);
	azl_storvsc_rules_free();
	mutex_unlock(&azl_storvsc_lock);
	azl_storvsc_netlink_exit();
}

module_init(azl_storvsc_init);
module_exit(azl_storvsc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("azl-guest developers");
MODULE_DESCRIPTION("Disk policy (timeouts, queue depth) for Hyper-V storvsc controllers");
MODULE_VERSION(AZL_VERSION);
