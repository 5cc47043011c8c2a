// SPDX-License-Identifier: GPL-2.0
/*
 * What the policy may set, and setting it on one device the way the
 * ethtool core would (ethnl_set_channels(), ethnl_set_rings()): the
 * driver's own operations, between its begin and complete, with the
 * netdev instance lock held for drivers that take it (6.15 on), bounded by
 * the maxima the driver reports, followed by the ethtool netlink
 * notification.  All of it runs with RTNL held (the work item, or a dump).
 *
 * RPS is not set here: store_rps_map() is not exported, so the agent
 * writes rps_cpus itself.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/hyperv.h>
#include <linux/jhash.h>
#include <linux/pm_runtime.h>
#include <linux/rtnetlink.h>
#include <linux/sort.h>
#include <linux/topology.h>
#include <net/xdp_sock_drv.h>

#include "../include/azl_compat.h"
#include "../include/azl_hv_channels.h"
#include "azl_netvsc.h"

/* ---- the channel counts image validation accepts ---- */

static int azl_u32_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Microsoft's image validation (LISA verify_vmbus_devices_channels) wants
 * the netvsc channel count in {min(T,8)}, plus T when T <= 16, plus
 * min(64, max(16, C/2)) and min(64, max(16, T/2)) when T > 16; T online
 * CPUs, C physical cores.  Fills @set (AZL_NETVSC_ALLOWED_MAX entries),
 * sorted and without repeats; returns how many.  @online gets T.
 */
unsigned int azl_netvsc_allowed(u32 *set, unsigned int *online)
{
	unsigned int t = num_online_cpus(), c = 0, cpu, n = 0, i, k = 0;
	u32 cand[4];

	/* A core counts once: at the first online CPU of its siblings. */
	for_each_online_cpu(cpu)
		if (cpumask_first_and(topology_sibling_cpumask(cpu), cpu_online_mask) == cpu)
			c++;
	cand[n++] = min(t, 8U);
	if (t <= 16) {
		cand[n++] = t;
	} else {
		cand[n++] = min(64U, max(16U, c / 2));
		cand[n++] = min(64U, max(16U, t / 2));
	}
	sort(cand, n, sizeof(cand[0]), azl_u32_cmp, NULL);
	for (i = 0; i < n && k < AZL_NETVSC_ALLOWED_MAX; i++)
		if (!k || set[k - 1] != cand[i])
			set[k++] = cand[i];
	if (online)
		*online = t;
	return k;
}

bool azl_netvsc_channels_allowed(u32 n)
{
	u32 set[AZL_NETVSC_ALLOWED_MAX];
	unsigned int i, k = azl_netvsc_allowed(set, NULL);

	for (i = 0; i < k; i++)
		if (set[i] == n)
			return true;
	return false;
}

/*
 * 0 (keep the kernel's) or an allowed count; else -EINVAL, said through
 * @extack, or in the kernel log for a parameter write (no @extack).
 */
int azl_netvsc_check_channels(u32 n, struct netlink_ext_ack *extack)
{
	u32 set[AZL_NETVSC_ALLOWED_MAX];
	unsigned int i, k, online;
	char list[40];
	int len = 0;

	if (!n)
		return 0;
	k = azl_netvsc_allowed(set, &online);
	for (i = 0; i < k; i++) {
		if (set[i] == n)
			return 0;
		len += scnprintf(list + len, sizeof(list) - len, "%s%u", i ? "," : "", set[i]);
	}
	if (extack)
		AZL_SET_ERR_MSG_FMT(extack,
				    "channel count not accepted by image validation on this VM (GET_POLICY lists ALLOWED)",
				    "channels %u not allowed: T=%u online CPUs, allowed %s",
				    n, online, list);
	else
		pr_notice("channels=%u refused: with %u online CPUs image validation accepts %s\n",
			  n, online, list);
	return -EINVAL;
}

/* ---- ethtool operations the way the ethtool core calls them ---- */

/*
 * The order of ethnl_default_set_doit() from 6.15: RTNL (the caller's),
 * the instance lock, then ethnl_ops_begin(): runtime PM, presence, begin.
 */
static int azl_ethtool_begin(struct net_device *dev)
{
	int ret = 0;

	azl_netdev_lock_ops(dev);
	if (dev->dev.parent)
		pm_runtime_get_sync(dev->dev.parent);
	if (!netif_device_present(dev) || dev->reg_state != NETREG_REGISTERED)
		ret = -ENODEV;
	else if (dev->ethtool_ops->begin)
		ret = dev->ethtool_ops->begin(dev);
	if (ret) {
		if (dev->dev.parent)
			pm_runtime_put(dev->dev.parent);
		azl_netdev_unlock_ops(dev);
	}
	return ret;
}

static void azl_ethtool_complete(struct net_device *dev)
{
	if (dev->ethtool_ops->complete)
		dev->ethtool_ops->complete(dev);
	if (dev->dev.parent)
		pm_runtime_put(dev->dev.parent);
	azl_netdev_unlock_ops(dev);
}

/*
 * Whether @dev is one of @driver's NICs, without calling the driver (every
 * new netdev of the namespace comes through here): the driver bound to its
 * parent device (hv_netvsc's is the VMBus device; a PCI VF's is mlx5_core
 * or mana), else, for a device without one, its rtnl link kind (veth,
 * bridge: the test stand-ins).  Both are the names `ethtool -i` reports for
 * these drivers.  RTNL keeps them stable: the netdev is registered, and
 * unbinding the parent's driver unregisters it, under RTNL, first.
 */
bool azl_netvsc_driver_matches(const struct net_device *dev, const char *driver)
{
	const struct device *parent = dev->dev.parent;

	if (parent && parent->driver && !strcmp(parent->driver->name, driver))
		return true;
	return !parent && dev->rtnl_link_ops && !strcmp(dev->rtnl_link_ops->kind, driver);
}

/*
 * netvsc (and most NICs) report combined channels only; veth reports
 * separate rx and tx counts, which the policy sets to the same number.
 */
static bool azl_channels_combined(const struct ethtool_channels *ch)
{
	return ch->max_combined && !ch->max_rx && !ch->max_tx;
}

static void azl_channels_summary(const struct ethtool_channels *ch, u32 *cur, u32 *max)
{
	if (azl_channels_combined(ch)) {
		*cur = ch->combined_count;
		*max = ch->max_combined;
	} else {
		*cur = max(ch->rx_count, ch->tx_count);
		*max = min(ch->max_rx, ch->max_tx);
	}
}

int azl_netvsc_read_channels(struct net_device *dev, u32 *cur, u32 *max)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	int ret;

	if (!dev->ethtool_ops->get_channels)
		return -EOPNOTSUPP;
	ret = azl_ethtool_begin(dev);
	if (ret)
		return ret;
	dev->ethtool_ops->get_channels(dev, &ch);
	azl_ethtool_complete(dev);
	azl_channels_summary(&ch, cur, max);
	return 0;
}

int azl_netvsc_read_rings(struct net_device *dev, u32 *rx, u32 *tx)
{
	struct ethtool_ringparam rp = { .cmd = ETHTOOL_GRINGPARAM };
	struct kernel_ethtool_ringparam krp = {};
	int ret;

	if (!dev->ethtool_ops->get_ringparam)
		return -EOPNOTSUPP;
	ret = azl_ethtool_begin(dev);
	if (ret)
		return ret;
	dev->ethtool_ops->get_ringparam(dev, &rp, &krp, NULL);
	azl_ethtool_complete(dev);
	*rx = rp.rx_pending;
	*tx = rp.tx_pending;
	return 0;
}

/*
 * The checks ethnl_set_channels() makes before it lowers a count: a
 * user-configured RSS indirection table may point at the queues that
 * would go (the core compares with its highest entry, which it does not
 * export; any lowering is refused here), and so may AF_XDP zero-copy
 * sockets.
 */
static int azl_channels_busy(struct net_device *dev, u32 from, u32 to)
{
	u32 q;

	if (to >= from)
		return 0;
	if (netif_is_rxfh_configured(dev))
		return -EBUSY;
	for (q = to; q < from; q++)
		if (xsk_get_pool_from_qid(dev, q))
			return -EBUSY;
	return 0;
}

/* Set @want channels; *from and *to say what the count was and is. */
static int azl_apply_channels(struct net_device *dev, u32 want, u32 *from, u32 *to)
{
	const struct ethtool_ops *ops = dev->ethtool_ops;
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	bool combined;
	u32 cur, max;
	int ret;

	if (!want)
		return 0;
	if (!ops->get_channels || !ops->set_channels)
		return -EOPNOTSUPP;
	/* The CPUs may have changed since the policy was set. */
	if (!azl_netvsc_channels_allowed(want))
		return -EINVAL;
	ret = azl_ethtool_begin(dev);
	if (ret)
		return ret;
	ops->get_channels(dev, &ch);
	combined = azl_channels_combined(&ch);
	azl_channels_summary(&ch, &cur, &max);
	*from = *to = cur;
	if (!combined && (!ch.max_rx || !ch.max_tx)) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (want > max) {
		ret = -ERANGE;
		goto out;
	}
	if (combined ? ch.combined_count == want
		     : ch.rx_count == want && ch.tx_count == want)
		goto out;
	ret = azl_channels_busy(dev, cur, want);
	if (ret)
		goto out;
	if (combined)
		ch.combined_count = want;
	else
		ch.rx_count = ch.tx_count = want;
	ch.cmd = ETHTOOL_SCHANNELS;
	ret = ops->set_channels(dev, &ch);
	if (!ret) {
		*to = want;
		ethtool_notify(dev, ETHTOOL_MSG_CHANNELS_NTF, NULL);
	}
out:
	azl_ethtool_complete(dev);
	return ret;
}

/* Rings the policy names (non-zero); the others keep their size. */
static int azl_apply_rings(struct net_device *dev, u32 rx, u32 tx, struct ethtool_ringparam *old,
			   struct ethtool_ringparam *now)
{
	const struct ethtool_ops *ops = dev->ethtool_ops;
	struct kernel_ethtool_ringparam krp = {};
	int ret;

	if (!rx && !tx)
		return 0;
	if (!ops->get_ringparam || !ops->set_ringparam)
		return -EOPNOTSUPP;
	ret = azl_ethtool_begin(dev);
	if (ret)
		return ret;
	ops->get_ringparam(dev, old, &krp, NULL);
	*now = *old;
	if ((rx && rx > old->rx_max_pending) || (tx && tx > old->tx_max_pending)) {
		ret = -ERANGE;
		goto out;
	}
	if (rx)
		now->rx_pending = rx;
	if (tx)
		now->tx_pending = tx;
	if (now->rx_pending == old->rx_pending && now->tx_pending == old->tx_pending)
		goto out;
	now->cmd = ETHTOOL_SRINGPARAM;
	ret = ops->set_ringparam(dev, now, &krp, NULL);
	if (ret) {
		*now = *old;
		goto out;
	}
	ethtool_notify(dev, ETHTOOL_MSG_RINGS_NTF, NULL);
out:
	azl_ethtool_complete(dev);
	return ret;
}

/* ---- XPS ---- */

/*
 * hv_netvsc never reads these maps: its ndo_select_queue picks the queue
 * from the socket or the host's send indirection table ("TODO support
 * XPS" there), and hands the choice to the VF when a VF carries the
 * traffic, whose netdev_pick_tx() does read the VF's maps.  So on Hyper-V
 * only vf_xps has an effect; xps is for drivers that honour XPS (the veth
 * stand-in among them).
 */

/*
 * The target CPU of each VMBus channel of a synthetic NIC, by sub-channel
 * index (0 is the primary; netvsc's queue i is channel i), or -1.  The
 * channels are the kobjects of the device's "channels" kset, read under
 * the kset's lock with the accessor azl_vmbus uses (azl_hv_channels.h); the
 * VMBus device outlives its registered netdev, and RTNL keeps the netdev
 * registered.
 */
static void azl_vmbus_channel_cpus(struct net_device *dev, int *cpu, unsigned int n)
{
	struct device *parent = dev->dev.parent;
	struct kset *kset;
	struct kobject *k;
	unsigned int i;

	for (i = 0; i < n; i++)
		cpu[i] = -1;
	if (!parent || !parent->bus || strcmp(parent->bus->name, "vmbus"))
		return;
	/* The channels appear just after the driver's probe; none until then. */
	kset = azl_hv_channels_kset(device_to_hv_device(parent));
	if (!kset)
		return;
	spin_lock(&kset->list_lock);
	list_for_each_entry(k, &kset->list, entry) {
		const struct vmbus_channel *c = azl_hv_kobj_channel(k);
		u16 idx = c->offermsg.offer.sub_channel_index;
		u32 target = READ_ONCE(c->target_cpu);

		if (idx < n && !READ_ONCE(c->rescind) && target < nr_cpu_ids)
			cpu[idx] = target;
	}
	spin_unlock(&kset->list_lock);
}

/*
 * Queue @q of @nq over the @w CPUs of @pool: with at least as many CPUs as
 * queues every CPU sends from exactly one queue; with fewer, queues share.
 */
static void azl_round_robin(const struct cpumask *pool, unsigned int w, unsigned int q,
			    unsigned int nq, struct cpumask *mask)
{
	unsigned int cpu, j = 0;

	for_each_cpu(cpu, pool) {
		if (w >= nq ? j % nq == q : j == q % w)
			cpumask_set_cpu(cpu, mask);
		j++;
	}
}

/*
 * XPS for every real transmit queue; *queues: how many got a map, *sig: a
 * hash of the maps, so that applying the same maps again is not logged.
 */
static int azl_apply_xps(struct net_device *dev, bool synthetic, unsigned int *queues, u32 *sig)
{
	int chan_cpu[AZL_NETVSC_CHANNELS_MAX];
	unsigned int nq, q, w;
	cpumask_var_t pool, mask;
	int node = dev->dev.parent ? dev_to_node(dev->dev.parent) : NUMA_NO_NODE;
	int ret = 0;

	*queues = 0;
	if (!zalloc_cpumask_var(&pool, GFP_KERNEL))
		return -ENOMEM;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL)) {
		free_cpumask_var(pool);
		return -ENOMEM;
	}
	if (node != NUMA_NO_NODE)
		cpumask_and(pool, cpumask_of_node(node), cpu_online_mask);
	if (cpumask_empty(pool))
		cpumask_copy(pool, cpu_online_mask);
	w = cpumask_weight(pool);
	if (synthetic)
		azl_vmbus_channel_cpus(dev, chan_cpu, ARRAY_SIZE(chan_cpu));
	else
		memset(chan_cpu, 0xff, sizeof(chan_cpu));	/* all -1 */
	/* A driver of the instance lock changes its queues under it. */
	azl_netdev_lock_ops(dev);
	nq = dev->real_num_tx_queues;
	for (q = 0; q < nq; q++) {
		cpumask_clear(mask);
		if (q < ARRAY_SIZE(chan_cpu) && chan_cpu[q] >= 0 && cpu_online(chan_cpu[q]))
			cpumask_set_cpu(chan_cpu[q], mask);
		else
			azl_round_robin(pool, w, q, nq, mask);
		ret = netif_set_xps_queue(dev, mask, q);
		if (ret)
			break;
		*sig = jhash(cpumask_bits(mask), cpumask_size(), *sig ^ q);
	}
	azl_netdev_unlock_ops(dev);
	*queues = q;
	free_cpumask_var(mask);
	free_cpumask_var(pool);
	return ret;
}

/* ---- one application ---- */

/*
 * Apply the parts @mask of the policy to @d, record the results, log what
 * changed, and tell listeners.  A VF gets XPS only (vf_xps).  XPS off
 * (xps or vf_xps 0) leaves the maps as they are, ours included: clearing
 * them would also clear those a VF's driver set itself.
 */
void azl_netvsc_apply(struct azl_netvsc_dev *d, unsigned int mask)
{
	const struct azl_netvsc_policy *p = &azl_netvsc_policy;
	struct ethtool_ringparam old = {}, now = {};
	struct net_device *dev = d->dev;
	bool vf = d->state == AZL_DEV_VF;
	u32 ch_from = 0, ch_to = 0, sig = 0;
	unsigned int xps_queues = 0;
	char msg[128];
	int len = 0;

	if (!vf && (mask & AZL_APPLY_CHANNELS)) {
		d->result_channels = azl_apply_channels(dev, p->channels, &ch_from, &ch_to);
		/* New queues have no XPS map; removed ones lost theirs. */
		if (ch_from != ch_to)
			mask |= AZL_APPLY_XPS;
	}
	if (!vf && (mask & AZL_APPLY_RINGS))
		d->result_rings = azl_apply_rings(dev, p->rx_ring, p->tx_ring, &old, &now);
	if (mask & AZL_APPLY_XPS) {
		d->result_xps = 0;
		if (vf ? p->vf_xps : p->xps) {
			d->result_xps = azl_apply_xps(dev, !vf, &xps_queues, &sig);
			/* The same maps again: nothing to say. */
			if (!d->result_xps && sig == d->xps_sig)
				xps_queues = 0;
			d->xps_sig = d->result_xps ? 0 : sig;
		}
	}
	d->apply_count++;

	if (ch_from != ch_to)
		len += scnprintf(msg + len, sizeof(msg) - len, ", channels %u -> %u",
				 ch_from, ch_to);
	if (now.rx_pending != old.rx_pending)
		len += scnprintf(msg + len, sizeof(msg) - len, ", rx ring %u -> %u",
				 old.rx_pending, now.rx_pending);
	if (now.tx_pending != old.tx_pending)
		len += scnprintf(msg + len, sizeof(msg) - len, ", tx ring %u -> %u",
				 old.tx_pending, now.tx_pending);
	if (xps_queues)
		len += scnprintf(msg + len, sizeof(msg) - len, ", xps set on %u queue%s",
				 xps_queues, xps_queues == 1 ? "" : "s");
	if (len)
		netdev_info(dev, KBUILD_MODNAME ": %s\n", msg + 2);
	azl_netvsc_notify(d, AZL_NETVSC_CMD_APPLIED);
}
