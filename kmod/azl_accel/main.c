// SPDX-License-Identifier: GPL-2.0
/*
 * azl_accel: give accelerators that Hyper-V passes through (vPCI) their
 * NUMA node before their driver probes, when the host gave them none.
 *
 * pci-hyperv learns a device's node from the host only with vPCI protocol
 * 1.3 or later and only when the host sets HV_PCI_DEVICE_FLAG_NUMA_AFFINITY.
 * Otherwise numa_node stays what the PCI core gave the device: -1 on arm64,
 * and on x86_64 0, because pcibus_to_node() reads the node of pci-hyperv's
 * zeroed sysdata (newer kernels set 0 explicitly on both).  mlx5, MANA and
 * the GPU drivers then allocate their queues and interrupts without
 * locality.  Azure's own topology files say which node each PCI domain
 * belongs to for the sizes that matter; the agent pushes that table here
 * (SET_POLICY, or nodes= at load).
 *
 * When: pci-hyperv assigns the host's node after the device is added
 * (create_root_hv_pci_bus() and pci_devices_present_work() scan, which
 * sends BUS_NOTIFY_ADD_DEVICE, then call hv_pci_assign_numa_node(), then
 * add the devices to drivers), so the module decides at
 * BUS_NOTIFY_BIND_DRIVER: driver_sysfs_add() sends it under the device
 * lock, after all of that and before the driver's probe, and before
 * pci_call_probe() picks a CPU of the device's node to run the probe on.
 *
 * It watches the PCI bus through a bus notifier and touches only devices
 * behind pci-hyperv (the host bridge of the device's root bus hangs off a
 * device on the bus named "vmbus"; no symbol of pci-hyperv or hv_vmbus is
 * used, so both stay reloadable) of the kinds listed in
 * kmod/include/uapi/azl_accel.h, plus test_match= IDs on any bus for tests.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../include/azl_compat.h"
#include "azl_accel.h"

DEFINE_MUTEX(azl_accel_lock);
LIST_HEAD(azl_accel_devs);
/* Starts at 1: a dump's consistency check is off while it is 0. */
unsigned int azl_accel_generation = 1;

static struct azl_accel_entry azl_table[AZL_ACCEL_NODES_MAX];
static unsigned int azl_table_len;
/* zero_is_unset=; under azl_accel_lock. */
static bool azl_zero_is_unset = true;
/*
 * True between init and exit; the nodes= and zero_is_unset= parameters
 * can be written before init runs (at load) and, through sysfs, until the
 * module's files go away after exit.  Only for the log line of a change.
 */
static bool azl_ready;

/*
 * The walk at load: while it runs, removals of matched devices it has not
 * tracked (yet) are remembered, with a reference, so it does not track a
 * device whose BUS_NOTIFY_DEL_DEVICE / REMOVED_DEVICE it has missed.  All
 * under azl_accel_lock.
 */
struct azl_gone {
	struct list_head node;
	struct pci_dev *pdev;		/* holds a reference */
};

static bool azl_walking;
static LIST_HEAD(azl_gone_list);
/* A removal could not be remembered (no memory): track nothing more. */
static bool azl_walk_lost;

/* ---- test_match=: IDs matched on any bus (tests only) ---- */

#define AZL_TEST_MATCH_MAX 8

struct azl_pci_id {
	u16 vendor;
	u16 device;
};

static struct azl_pci_id azl_test_ids[AZL_TEST_MATCH_MAX];
static unsigned int azl_test_len;

/*
 * Split "a:b[,a:b...]" and hand each pair to @item, at most @max of them.
 * One trailing newline (as echo writes) is forgiven; any other blank, an
 * empty item or a pair @item refuses is -EINVAL.  "" has no item.
 */
static int azl_parse_pairs(const char *val, unsigned int max, unsigned int *n,
			   int (*item)(const char *a, const char *b, unsigned int i,
				       void *ctx),
			   void *ctx)
{
	char *buf, *p, *pair, *colon;
	size_t len = strlen(val);
	int ret = 0;

	*n = 0;
	if (len && val[len - 1] == '\n')
		len--;
	buf = kmemdup_nul(val, len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = buf;
	if (strpbrk(buf, " \t\n"))
		ret = -EINVAL;
	while (!ret && len && (pair = strsep(&p, ",")) != NULL) {
		colon = strchr(pair, ':');
		if (*n == max || !colon || colon == pair) {
			ret = -EINVAL;
			break;
		}
		*colon = '\0';
		ret = item(pair, colon + 1, (*n)++, ctx) ? -EINVAL : 0;
	}
	kfree(buf);
	return ret;
}

static int azl_test_id_parse(const char *a, const char *b, unsigned int i, void *ctx)
{
	struct azl_pci_id *ids = ctx;

	return kstrtou16(a, 16, &ids[i].vendor) ?: kstrtou16(b, 16, &ids[i].device);
}

/* "vvvv:dddd[,vvvv:dddd...]", hexadecimal. */
static int azl_test_match_set(const char *val, const struct kernel_param *kp)
{
	struct azl_pci_id ids[AZL_TEST_MATCH_MAX];
	unsigned int n;
	int ret;

	ret = azl_parse_pairs(val, AZL_TEST_MATCH_MAX, &n, azl_test_id_parse, ids);
	if (ret)
		return ret;
	memcpy(azl_test_ids, ids, n * sizeof(ids[0]));
	azl_test_len = n;
	return 0;
}

static int azl_test_match_get(char *buffer, const struct kernel_param *kp)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < azl_test_len; i++)
		len += sysfs_emit_at(buffer, len, "%s%04x:%04x", i ? "," : "",
				     azl_test_ids[i].vendor, azl_test_ids[i].device);
	return len + sysfs_emit_at(buffer, len, "\n");
}

static const struct kernel_param_ops azl_test_match_ops = {
	.set = azl_test_match_set,
	.get = azl_test_match_get,
};

__MODULE_PARM_TYPE(test_match, "string");
module_param_cb(test_match, &azl_test_match_ops, NULL, 0444);
MODULE_PARM_DESC(test_match,
		 "For tests only: also match these PCI IDs on any bus, \"vvvv:dddd[,...]\" (hex, up to 8; kind \"test\")");

/* ---- the table and nodes= ---- */

enum azl_entry_check azl_accel_entry_check(const struct azl_accel_entry *e,
					   unsigned int i)
{
	unsigned int j;

	if (e[i].domain > 0xffff)
		return AZL_ENTRY_BAD_DOMAIN;
	/* node_online() must not index past its bitmap. */
	if (e[i].node < 0 || e[i].node >= MAX_NUMNODES || !node_online(e[i].node))
		return AZL_ENTRY_BAD_NODE;
	for (j = 0; j < i; j++)
		if (e[j].domain == e[i].domain)
			return AZL_ENTRY_DUPLICATE;
	return AZL_ENTRY_OK;
}

static int azl_entry_parse(const char *a, const char *b, unsigned int i, void *ctx)
{
	struct azl_accel_entry *e = ctx;

	return kstrtou32(a, 16, &e[i].domain) ?: kstrtoint(b, 10, &e[i].node) ?:
	       (azl_accel_entry_check(e, i) == AZL_ENTRY_OK ? 0 : -EINVAL);
}

/* "dom:node,..." (hexadecimal domain, decimal node); "" clears. */
static int azl_parse_nodes(const char *val, struct azl_accel_entry *e,
			   unsigned int *n)
{
	return azl_parse_pairs(val, AZL_ACCEL_NODES_MAX, n, azl_entry_parse, e);
}

unsigned int azl_accel_table_copy(struct azl_accel_entry *out)
{
	memcpy(out, azl_table, azl_table_len * sizeof(azl_table[0]));
	return azl_table_len;
}

static int azl_table_node(u32 domain)
{
	unsigned int i;

	for (i = 0; i < azl_table_len; i++)
		if (azl_table[i].domain == domain)
			return azl_table[i].node;
	return NUMA_NO_NODE;
}

/* ---- matching ---- */

/*
 * pci-hyperv makes one host bridge per passed-through function and hangs
 * it off that function's VMBus device.  The bus name is all we compare:
 * no symbol of pci-hyperv or hv_vmbus.
 */
static bool azl_behind_vmbus(struct pci_dev *pdev)
{
	struct pci_host_bridge *bridge = pci_find_host_bridge(pdev->bus);
	struct device *parent = bridge ? bridge->dev.parent : NULL;

	return parent && parent->bus && parent->bus->name &&
	       !strcmp(parent->bus->name, "vmbus");
}

/* enum azl_accel_kind, or -1 for a device we must not touch. */
static int azl_kind(struct pci_dev *pdev)
{
	u32 cls = pdev->class >> 8;	/* base class and subclass */
	unsigned int i;

	if (azl_behind_vmbus(pdev)) {
		if (pdev->vendor == PCI_VENDOR_ID_NVIDIA && cls == 0x0302)
			return AZL_ACCEL_KIND_GPU_NVIDIA;
		if (pdev->vendor == PCI_VENDOR_ID_MELLANOX)
			return AZL_ACCEL_KIND_HCA;
		if (pdev->vendor == PCI_VENDOR_ID_MICROSOFT && pdev->device == 0x00ba)
			return AZL_ACCEL_KIND_MANA;
		/* Instinct: processing accelerator (1200) or display (0380). */
		if (pdev->vendor == PCI_VENDOR_ID_ATI &&
		    (cls == 0x1200 || cls == 0x0380))
			return AZL_ACCEL_KIND_GPU_AMD;
	}
	for (i = 0; i < azl_test_len; i++)
		if (pdev->vendor == azl_test_ids[i].vendor &&
		    pdev->device == azl_test_ids[i].device)
			return AZL_ACCEL_KIND_TEST;
	return -1;
}

/* ---- the decision ---- */

/*
 * The node @d should have when a driver binds, given @host, the node the
 * host gave it: sets *node and returns the source.  With azl_accel_lock
 * held.
 *
 * -1: the host gave none; the table's node.
 * 0, when the table says another node: pci-hyperv leaves 0 when the host
 *   gives no affinity (x86_64's zeroed sysdata; the explicit default of
 *   newer kernels), which cannot be told from a host that said 0.  The
 *   table is Azure's published topology for this size, so it wins unless
 *   zero_is_unset=0.  Every matched device is behind pci-hyperv, or a
 *   test_match stand-in that follows the same rules.
 * Any other node is the host's and stays.
 */
static u8 azl_decide(const struct azl_accel_dev *d, int host, int *node)
{
	int n = azl_table_node(pci_domain_nr(d->pdev->bus));

	*node = host;
	if (n == NUMA_NO_NODE || !node_online(n))
		return host == NUMA_NO_NODE ? AZL_ACCEL_SOURCE_NONE : AZL_ACCEL_SOURCE_HOST;
	if (host == NUMA_NO_NODE || (host == 0 && n != 0 && azl_zero_is_unset)) {
		*node = n;
		return AZL_ACCEL_SOURCE_TABLE;
	}
	return AZL_ACCEL_SOURCE_HOST;
}

/* The host's node of a decided device: a node we set is not the host's. */
static int azl_host_now(const struct azl_accel_dev *d, int cur)
{
	return d->set_node != NUMA_NO_NODE && cur == d->set_node ? d->host_node : cur;
}

/*
 * Say what the next bind would do to @d under the current table, without
 * touching the device: the source when nothing would change, PENDING when
 * no driver is bound (the next bind changes the node), LATE when one is
 * (its probe allocated with the node it saw; a later bind changes it).
 * Devices no bind has decided yet stay PENDING.  Returns true for a device
 * without a driver whose node the next bind changes.
 *
 * d->bound, not dev->driver: the bind notifications set it under
 * azl_accel_lock, so with the lock held a table change comes wholly
 * before a bind (which then decides with the new table) or after it
 * (which this reports LATE), and no device lock is needed.
 */
static bool azl_refresh(struct azl_accel_dev *d)
{
	int cur = dev_to_node(&d->pdev->dev);
	int node;
	u8 src;

	if (!d->decided) {
		d->host_node = cur;
		d->source = AZL_ACCEL_SOURCE_PENDING;
		azl_decide(d, cur, &node);
		return node != cur;
	}
	src = azl_decide(d, azl_host_now(d, cur), &node);
	if (node == cur)
		d->source = src;
	else
		d->source = d->bound ? AZL_ACCEL_SOURCE_LATE : AZL_ACCEL_SOURCE_PENDING;
	return !d->bound && node != cur;
}

/* After a table or zero_is_unset change: how many devices change at their next bind. */
static unsigned int azl_refresh_all(void)
{
	struct azl_accel_dev *d;
	unsigned int count = 0;

	list_for_each_entry(d, &azl_accel_devs, node)
		count += azl_refresh(d);
	azl_accel_generation++;
	return count;
}

/*
 * The kernel's own override, a write to the numa_node file in sysfs,
 * taints the kernel with TAINT_FIRMWARE_WORKAROUND and logs a FW_BUG line:
 * there the node contradicts what the firmware said.  Here the host said
 * nothing: a node is not part of vPCI before protocol 1.3, nor when the
 * host leaves the affinity flag clear, which is a documented limit of the
 * protocol rather than broken firmware.  So this does not taint, but it
 * logs every change it makes, with the node and the domain it came from.
 */
static void azl_log_change(const struct azl_accel_dev *d, int from, int to, u8 src)
{
	struct pci_dev *pdev = d->pdev;
	u32 domain = pci_domain_nr(pdev->bus);

	if (src != AZL_ACCEL_SOURCE_TABLE)
		pci_info(pdev, "numa_node %d -> %d, the host's: the SKU table no longer applies (domain %04x)\n",
			 from, to, domain);
	else if (from == 0 && d->host_node == 0)
		pci_info(pdev, "numa_node 0 (pci-hyperv's default when the host gives none) -> %d from the SKU table (domain %04x)\n",
			 to, domain);
	else
		pci_info(pdev, "numa_node %d -> %d from the SKU table (domain %04x)\n",
			 from, to, domain);
}

/* ---- the device list ---- */

static struct azl_accel_dev *azl_find(struct pci_dev *pdev)
{
	struct azl_accel_dev *d;

	list_for_each_entry(d, &azl_accel_devs, node)
		if (d->pdev == pdev)
			return d;
	return NULL;
}

/* Start tracking @pdev, undecided; with azl_accel_lock held.  NULL: no memory. */
static struct azl_accel_dev *azl_add(struct pci_dev *pdev, int kind)
{
	struct azl_accel_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return NULL;
	d->pdev = pci_dev_get(pdev);
	d->kind = kind;
	d->host_node = dev_to_node(&pdev->dev);
	d->set_node = NUMA_NO_NODE;
	d->source = AZL_ACCEL_SOURCE_PENDING;
	list_add_tail(&d->node, &azl_accel_devs);
	azl_accel_generation++;
	return d;
}

static void azl_forget(struct azl_accel_dev *d)
{
	list_del(&d->node);
	azl_accel_generation++;
	pci_dev_put(d->pdev);
	kfree(d);
}

/*
 * BUS_NOTIFY_ADD_DEVICE.  No device lock: PCI lets no driver match a
 * device before pci_bus_add_device(), which comes later.  The node is not
 * decided here (pci-hyperv has not assigned it yet): the device is PENDING.
 */
static void azl_added(struct pci_dev *pdev)
{
	struct azl_accel_dev *d;
	int kind = azl_kind(pdev);

	if (kind < 0)
		return;
	mutex_lock(&azl_accel_lock);
	d = azl_find(pdev) ?: azl_add(pdev, kind);
	if (d)
		azl_accel_notify(d, AZL_ACCEL_CMD_DEV_ADD);
	mutex_unlock(&azl_accel_lock);
}

/*
 * BUS_NOTIFY_BIND_DRIVER, under the device lock: decide the node and set
 * it before the probe.  A device the walk at load has not reached yet is
 * tracked here.
 */
static void azl_bind(struct pci_dev *pdev)
{
	struct azl_accel_dev *d;
	int kind = azl_kind(pdev);
	int cur, node;
	u8 src;

	if (kind < 0)
		return;
	mutex_lock(&azl_accel_lock);
	d = azl_find(pdev);
	if (!d && !azl_walk_lost)
		d = azl_add(pdev, kind);
	if (!d)
		goto out;
	cur = dev_to_node(&pdev->dev);
	d->host_node = azl_host_now(d, cur);
	src = azl_decide(d, d->host_node, &node);
	d->decided = true;
	d->bound = true;
	d->set_node = src == AZL_ACCEL_SOURCE_TABLE ? node : NUMA_NO_NODE;
	d->source = src;
	azl_accel_generation++;
	if (node != cur) {
		set_dev_node(&pdev->dev, node);
		azl_log_change(d, cur, node, src);
		azl_accel_notify(d, AZL_ACCEL_CMD_NODE_SET);
	}
out:
	mutex_unlock(&azl_accel_lock);
}

/* BUS_NOTIFY_BOUND_DRIVER, UNBOUND_DRIVER, DRIVER_NOT_BOUND; under the device lock. */
static void azl_driver_changed(struct pci_dev *pdev, unsigned long action)
{
	struct azl_accel_dev *d;

	mutex_lock(&azl_accel_lock);
	d = azl_find(pdev);
	if (!d)
		goto out;
	azl_accel_generation++;
	if (action == BUS_NOTIFY_BOUND_DRIVER) {
		if (pdev->dev.driver)
			strscpy(d->driver, pdev->dev.driver->name, sizeof(d->driver));
		azl_accel_notify(d, AZL_ACCEL_CMD_DEV_BOUND);
		goto out;
	}
	/*
	 * A probe that failed, or an unbind: the next bind decides again.
	 * Both are DEV_UNBOUND, so a listener told NODE_SET learns that no
	 * DEV_BOUND follows.
	 */
	d->bound = false;
	d->driver[0] = '\0';
	azl_refresh(d);
	azl_accel_notify(d, AZL_ACCEL_CMD_DEV_UNBOUND);
out:
	mutex_unlock(&azl_accel_lock);
}

static struct azl_gone *azl_gone_find(struct pci_dev *pdev)
{
	struct azl_gone *g;

	list_for_each_entry(g, &azl_gone_list, node)
		if (g->pdev == pdev)
			return g;
	return NULL;
}

/* BUS_NOTIFY_DEL_DEVICE and REMOVED_DEVICE. */
static void azl_removed(struct pci_dev *pdev)
{
	struct azl_accel_dev *d;
	struct azl_gone *g = NULL;

	if (azl_kind(pdev) < 0)
		return;
	/* Allocated outside the lock; only the walk at load needs it. */
	if (READ_ONCE(azl_walking))
		g = kzalloc(sizeof(*g), GFP_KERNEL);
	mutex_lock(&azl_accel_lock);
	d = azl_find(pdev);
	if (d) {
		azl_accel_notify(d, AZL_ACCEL_CMD_DEV_REMOVE);
		azl_forget(d);
	}
	/*
	 * Remembered during the walk even when it was tracked: it stays
	 * registered until its kobject goes, after this DEL, and the walk
	 * must not track it again.
	 */
	if (azl_walking && !azl_gone_find(pdev)) {
		if (g) {
			g->pdev = pci_dev_get(pdev);
			list_add(&g->node, &azl_gone_list);
			g = NULL;
		} else {
			azl_walk_lost = true;
		}
	}
	mutex_unlock(&azl_accel_lock);
	kfree(g);
}

/* ---- the table, nodes= and zero_is_unset= ---- */

unsigned int azl_accel_table_replace(const struct azl_accel_entry *e, unsigned int n)
{
	unsigned int count;
	bool ready;

	mutex_lock(&azl_accel_lock);
	memcpy(azl_table, e, n * sizeof(*e));
	azl_table_len = n;
	count = azl_refresh_all();
	ready = azl_ready;
	mutex_unlock(&azl_accel_lock);
	if (ready)
		pr_info("NUMA table replaced: %u entr%s; %u device%s without a driver change node at their next bind\n",
			n, n == 1 ? "y" : "ies", count, count == 1 ? "" : "s");
	return count;
}

static int azl_nodes_set(const char *val, const struct kernel_param *kp)
{
	struct azl_accel_entry *e;
	unsigned int n;
	int ret;

	e = kcalloc(AZL_ACCEL_NODES_MAX, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	ret = azl_parse_nodes(val, e, &n);
	if (!ret)
		azl_accel_table_replace(e, n);
	kfree(e);
	return ret;
}

static int azl_nodes_get(char *buffer, const struct kernel_param *kp)
{
	unsigned int i;
	int len = 0;

	mutex_lock(&azl_accel_lock);
	for (i = 0; i < azl_table_len; i++)
		len += sysfs_emit_at(buffer, len, "%s%04x:%d", i ? "," : "",
				     azl_table[i].domain, azl_table[i].node);
	mutex_unlock(&azl_accel_lock);
	return len + sysfs_emit_at(buffer, len, "\n");
}

static const struct kernel_param_ops azl_nodes_ops = {
	.set = azl_nodes_set,
	.get = azl_nodes_get,
};

__MODULE_PARM_TYPE(nodes, "string");
module_param_cb(nodes, &azl_nodes_ops, NULL, 0644);
MODULE_PARM_DESC(nodes,
		 "NUMA node by PCI domain, \"dom:node,...\" (hex domain, decimal node); writing replaces the table");

/* A bool (y/n/1/0 as kstrtobool reads it) that also re-reports the devices. */
static int azl_zero_set(const char *val, const struct kernel_param *kp)
{
	bool v;
	int ret = kstrtobool(val ?: "1", &v);

	if (ret)
		return ret;
	mutex_lock(&azl_accel_lock);
	azl_zero_is_unset = v;
	azl_refresh_all();
	mutex_unlock(&azl_accel_lock);
	return 0;
}

static int azl_zero_get(char *buffer, const struct kernel_param *kp)
{
	bool v;

	mutex_lock(&azl_accel_lock);
	v = azl_zero_is_unset;
	mutex_unlock(&azl_accel_lock);
	return sysfs_emit(buffer, "%c\n", v ? 'Y' : 'N');
}

static const struct kernel_param_ops azl_zero_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = azl_zero_set,
	.get = azl_zero_get,
};

__MODULE_PARM_TYPE(zero_is_unset, "bool");
module_param_cb(zero_is_unset, &azl_zero_ops, NULL, 0644);
MODULE_PARM_DESC(zero_is_unset,
		 "Treat numa_node 0 of a vPCI device as pci-hyperv's default, not the host's answer, when the table says another node (default: Y)");

/* ---- the PCI bus notifier ---- */

static int azl_pci_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		azl_added(pdev);
		break;
	case BUS_NOTIFY_BIND_DRIVER:
		azl_bind(pdev);
		break;
	case BUS_NOTIFY_BOUND_DRIVER:
	case BUS_NOTIFY_UNBOUND_DRIVER:
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		azl_driver_changed(pdev, action);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
	case BUS_NOTIFY_REMOVED_DEVICE:
		/* Both: the walk at load must hear of a removal half done. */
		azl_removed(pdev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block azl_pci_nb = {
	.notifier_call = azl_pci_notify,
};

/*
 * One device that was there before the notifier, under its lock: no bind
 * or unbind can run meanwhile, and device_del() takes the lock before its
 * notifications.  A device device_del() has finished with is no longer
 * registered; one it is in the middle of (DEL or REMOVED already sent,
 * the device still on the bus list) is in azl_gone_list.  A bound device
 * is decided now (its probe is over: HOST, NONE or LATE); an unbound one
 * at its next bind.
 */
static int azl_track_existing(struct device *dev, void *unused)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	struct azl_accel_dev *d;
	int kind = azl_kind(pdev);

	if (kind < 0)
		return 0;
	device_lock(dev);
	if (!device_is_registered(dev))
		goto out;
	mutex_lock(&azl_accel_lock);
	if (!azl_walk_lost && !azl_gone_find(pdev) && !azl_find(pdev)) {
		d = azl_add(pdev, kind);
		if (d && dev->driver) {
			strscpy(d->driver, dev->driver->name, sizeof(d->driver));
			d->decided = true;
			d->bound = true;
			azl_refresh(d);
		}
	}
	mutex_unlock(&azl_accel_lock);
out:
	device_unlock(dev);
	return 0;
}

static void azl_walk(void)
{
	struct azl_gone *g, *tmp;
	LIST_HEAD(gone);
	bool lost;

	bus_for_each_dev(&pci_bus_type, NULL, NULL, azl_track_existing);
	mutex_lock(&azl_accel_lock);
	WRITE_ONCE(azl_walking, false);
	list_splice_init(&azl_gone_list, &gone);
	lost = azl_walk_lost;
	azl_walk_lost = false;
	mutex_unlock(&azl_accel_lock);
	list_for_each_entry_safe(g, tmp, &gone, node) {
		pci_dev_put(g->pdev);
		kfree(g);
	}
	if (lost)
		pr_notice("out of memory while looking at the devices present at load; some are tracked only once added again\n");
}

static int __init azl_accel_init(void)
{
	unsigned int ndevs = 0, nentries;
	struct azl_accel_dev *d;
	int ret;

	ret = azl_accel_netlink_init();
	if (ret)
		return ret;
	mutex_lock(&azl_accel_lock);
	azl_ready = true;
	WRITE_ONCE(azl_walking, true);
	mutex_unlock(&azl_accel_lock);
	ret = bus_register_notifier(&pci_bus_type, &azl_pci_nb);
	if (ret) {
		azl_accel_netlink_exit();
		return ret;
	}
	/*
	 * Devices that were there before us; the notifier covers the rest,
	 * and a device seen by both is tracked once.
	 */
	azl_walk();
	mutex_lock(&azl_accel_lock);
	list_for_each_entry(d, &azl_accel_devs, node)
		ndevs++;
	nentries = azl_table_len;
	mutex_unlock(&azl_accel_lock);
	pr_info("watching Hyper-V vPCI accelerators%s: %u present, NUMA table of %u entr%s\n",
		azl_test_len ? " and test_match IDs" : "", ndevs, nentries,
		nentries == 1 ? "y" : "ies");
	return 0;
}

static void __exit azl_accel_exit(void)
{
	struct azl_accel_dev *d, *tmp;

	bus_unregister_notifier(&pci_bus_type, &azl_pci_nb);
	/* Devices keep the nodes they have; only the bookkeeping goes. */
	mutex_lock(&azl_accel_lock);
	azl_ready = false;
	list_for_each_entry_safe(d, tmp, &azl_accel_devs, node)
		azl_forget(d);
	mutex_unlock(&azl_accel_lock);
	azl_accel_netlink_exit();
}

module_init(azl_accel_init);
module_exit(azl_accel_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("azl-guest developers");
MODULE_DESCRIPTION("NUMA node for Hyper-V vPCI accelerators the host gave none, before their drivers probe");
MODULE_VERSION(AZL_VERSION);
