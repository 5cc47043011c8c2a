// SPDX-License-Identifier: GPL-2.0
/*
 * azl_vmbus: an inventory of VMBus devices and channels, answered over
 * generic netlink (kmod/include/uapi/azl_vmbus.h) in one dump instead of
 * thousands of sysfs reads, and events when devices and channels come and
 * go.
 *
 * The route to the bus is the exported one: a VMBus driver with an empty
 * ID table (no modalias, so nothing autoloads or binds it; a probe forced
 * through new_id or driver_override is declined).  Registering it hands
 * back the bus, on which a bus notifier observes devices.  Nothing here
 * touches vmbus_connection or any layout private to drivers/hv.  (A bind
 * forced through driver_override is declined; hv_vmbus then logs its own
 * probe message, which no normal operation causes.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/hyperv.h>
#include <linux/module.h>

#include "../include/azl_compat.h"
#include "azl_vmbus.h"

static const struct hv_vmbus_device_id azl_vmbus_no_ids[] = {
	{ },
};

static int azl_vmbus_probe(struct hv_device *hdev,
			   const struct hv_vmbus_device_id *id)
{
	return -ENODEV;
}

static struct hv_driver azl_vmbus_driver = {
	.name = KBUILD_MODNAME,
	.id_table = azl_vmbus_no_ids,
	.probe = azl_vmbus_probe,
	.driver = {
		/* No bind/unbind files: there is nothing to bind. */
		.suppress_bind_attrs = true,
	},
};

static int azl_vmbus_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct hv_device *hdev = device_to_hv_device(data);

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		azl_vmbus_track(hdev);
		break;
	case BUS_NOTIFY_BOUND_DRIVER:
		/* The driver now opens its channels and asks for more. */
		azl_vmbus_driver_changed(hdev);
		azl_vmbus_kick(hdev);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
		azl_vmbus_driver_changed(hdev);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
	case BUS_NOTIFY_REMOVED_DEVICE:
		azl_vmbus_untrack(hdev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block azl_vmbus_nb = {
	.notifier_call = azl_vmbus_notify,
};

static int azl_vmbus_track_existing(struct device *dev, void *unused)
{
	azl_vmbus_track(device_to_hv_device(dev));
	/* The device lock keeps dev->driver stable while we copy its name. */
	device_lock(dev);
	azl_vmbus_driver_changed(device_to_hv_device(dev));
	device_unlock(dev);
	return 0;
}

static int __init azl_vmbus_init(void)
{
	int ret = azl_vmbus_netlink_init();

	if (ret)
		return ret;
	/* -ENODEV here means hv_vmbus found no VMBus: not a Hyper-V guest. */
	ret = vmbus_driver_register(&azl_vmbus_driver);
	if (ret)
		goto out_netlink;
	ret = bus_register_notifier(azl_vmbus_driver.driver.bus, &azl_vmbus_nb);
	if (ret)
		goto out_driver;
	bus_for_each_dev(azl_vmbus_driver.driver.bus, NULL, NULL,
			 azl_vmbus_track_existing);
	pr_info("watching VMBus devices and channels (VMBus protocol %u.%u)\n",
		vmbus_proto_version >> 16, vmbus_proto_version & 0xffff);
	return 0;

out_driver:
	vmbus_driver_unregister(&azl_vmbus_driver);
out_netlink:
	azl_vmbus_netlink_exit();
	return ret;
}

static void __exit azl_vmbus_exit(void)
{
	bus_unregister_notifier(azl_vmbus_driver.driver.bus, &azl_vmbus_nb);
	vmbus_driver_unregister(&azl_vmbus_driver);
	azl_vmbus_untrack_all();	/* stops the settle work: no more events */
	azl_vmbus_netlink_exit();
}

module_init(azl_vmbus_init);
module_exit(azl_vmbus_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("azl-guest developers");
MODULE_DESCRIPTION("VMBus device and channel inventory and events over generic netlink");
MODULE_VERSION(AZL_VERSION);
