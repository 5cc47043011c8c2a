// SPDX-License-Identifier: MIT
/*
 * The placement planner: a pure function from facts to moves.
 *
 * Policy (research/tuning.md §3, lisa.md §2):
 * - Each performance channel and each device IRQ the kernel does not manage
 *   goes to an allowed CPU of its device's NUMA node.  A PCI device's node is
 *   sysfs numa_node; when the host gave none (-1), the SKU table's node for
 *   its PCI domain, else node 0 (what current kernels default a vPCI device
 *   to).  A synthetic NIC lives where its AN VF lives; other VMBus devices
 *   have no node and spread over all nodes.
 * - Within the candidates the least loaded CPU wins; ties go to the first in
 *   an order that lists each core's first thread before any SMT sibling (and,
 *   across nodes, alternates nodes).  One device's queues take distinct CPUs
 *   while its node has CPUs it does not use yet.
 * - CPU 0 keeps the non-performance channels and the VMBus message traffic;
 *   it starts with one unit of load for them.
 * - Minimal moves: a source already pinned to a candidate CPU whose load is
 *   at most one above the best candidate stays.  Because the walk order and
 *   the loads are the same on every run, a second run over the applied
 *   placement keeps everything.
 * - Only Hyper-V's own interrupts are ours: VMBus channels and the IRQs of
 *   passed-through (vPCI) devices.  Emulated and foreign devices are left to
 *   the kernel and irqbalance.
 * - Isolated, nohz_full and managed_irq-excluded CPUs are never targets;
 *   kernel-managed IRQs are never touched; no CPU is ever taken offline.
 * - VMBus channels always end on at least min(online CPUs, 4) CPUs (the HYP
 *   interrupt spread Microsoft's image validation checks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity.h"
#include "config.h"
#include "util.h"

void aff_policy_defaults(struct aff_policy *p)
{
	*p = (struct aff_policy){
		.enabled = true, .channels = true, .irqs = true, .xps = true, .rps = false,
	};
}

void aff_policy_from_config(const struct agent_config *cfg, struct aff_policy *p)
{
	aff_policy_defaults(p);
	p->enabled = cfg->affinity.enabled;
	p->channels = cfg->affinity.channels;
	p->irqs = cfg->affinity.irqs;
	p->xps = cfg->affinity.xps;
	p->rps = cfg->affinity.rps;
}

struct planner {
	const struct aff_input *in;
	const struct aff_policy *pol;
	struct aff_plan *plan;
	size_t cap;
	unsigned int *load;     /* by position in in->cpus */
	bool *used;             /* by position: taken by the current device */
	int *node_ids;          /* distinct nodes of the online CPUs, ascending */
	size_t nnodes;
	size_t **node_order;    /* allowed positions of each node, cores first */
	size_t *node_len;
	size_t *any_order;      /* all allowed positions, nodes interleaved */
	size_t any_len;
	bool no_pref;           /* choose as if no source were anywhere yet */
	long *chan_cpu;         /* planned CPU per (device, channel), flattened */
	size_t *chan_base;      /* index of a device's first channel in chan_cpu */
};

/* ---- CPU lookup and candidate orders ----------------------------------- */

static int node_index(const struct planner *pl, int node)
{
	for (size_t i = 0; i < pl->nnodes; i++)
		if (pl->node_ids[i] == node)
			return (int)i;
	return -1;
}

static const struct aff_input *sort_in; /* qsort has no context argument */

/* Cores before SMT siblings: (thread, core, id). */
static int cmp_cores_first(const void *a, const void *b)
{
	const struct aff_cpu *x = &sort_in->cpus[*(const size_t *)a];
	const struct aff_cpu *y = &sort_in->cpus[*(const size_t *)b];

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->core != y->core)
		return x->core < y->core ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void add_node(struct planner *pl, int node)
{
	size_t i = 0;

	while (i < pl->nnodes && pl->node_ids[i] < node)
		i++;
	if (i < pl->nnodes && pl->node_ids[i] == node)
		return;
	memmove(&pl->node_ids[i + 1], &pl->node_ids[i], (pl->nnodes - i) * sizeof(int));
	pl->node_ids[i] = node;
	pl->nnodes++;
}

static int build_orders(struct planner *pl)
{
	const struct aff_input *in = pl->in;
	size_t n = in->ncpus, k = 0;

	pl->node_ids = calloc(n + 1, sizeof(int));
	pl->node_order = calloc(n + 1, sizeof(size_t *));
	pl->node_len = calloc(n + 1, sizeof(size_t));
	pl->any_order = calloc(n + 1, sizeof(size_t));
	if (!pl->node_ids || !pl->node_order || !pl->node_len || !pl->any_order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		add_node(pl, in->cpus[i].node);
	for (size_t j = 0; j < pl->nnodes; j++) {
		pl->node_order[j] = calloc(n + 1, sizeof(size_t));
		if (!pl->node_order[j])
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			if (in->cpus[i].allowed && in->cpus[i].node == pl->node_ids[j])
				pl->node_order[j][pl->node_len[j]++] = i;
		sort_in = in;
		qsort(pl->node_order[j], pl->node_len[j], sizeof(size_t), cmp_cores_first);
	}
	/* Interleave: the first of each node, then the second of each … */
	for (size_t round = 0; k < n; round++) {
		bool any = false;

		for (size_t j = 0; j < pl->nnodes; j++) {
			if (round >= pl->node_len[j])
				continue;
			pl->any_order[k++] = pl->node_order[j][round];
			any = true;
		}
		if (!any)
			break;
	}
	pl->any_len = k;
	return 0;
}

/* ---- nodes of devices ----------------------------------------------------- */

/* The node a PCI device's interrupts belong on, and why. */
static int pci_node(const struct aff_input *in, int dev, const char **why)
{
	const struct aff_pci_dev *d = &in->pci[dev];
	const char *role = NULL;
	int node;

	if (d->numa_node >= 0) {
		*why = "on its device's node";
		return (int)d->numa_node;
	}
	node = sku_node_of_domain(in->sku, d->domain, &role);
	if (node >= 0) {
		*why = "on the node the SKU table gives its PCI domain (host reported none)";
		return node;
	}
	*why = "on node 0: the host reported no node (the kernel's default for vPCI)";
	return 0;
}

/* A synthetic NIC's channels follow its AN VF; other devices have no node. */
static int vmbus_node(const struct aff_input *in, size_t dev, const char **why)
{
	for (size_t i = 0; i < in->nnics; i++) {
		const struct aff_nic *nic = &in->nics[i];

		if (nic->vmbus_dev == (int)dev && nic->vf >= 0) {
			const char *vf_why; /* the VF's own reason is not the channels' */

			*why = "on the node of its NIC's accelerated-networking VF";
			return pci_node(in, nic->vf, &vf_why);
		}
	}
	*why = "spread over all nodes (a synthetic device has no node)";
	return -1;
}

/* ---- actions -------------------------------------------------------------- */

static struct aff_action *new_action(struct planner *pl)
{
	struct aff_plan *plan = pl->plan;

	if (plan->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		struct aff_action *v = realloc(plan->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		plan->v = v;
		pl->cap = cap;
	}
	memset(&plan->v[plan->n], 0, sizeof(plan->v[0]));
	return &plan->v[plan->n++];
}

/* One source of a device waiting for its CPU. */
struct source {
	enum aff_target target;
	long id;                /* relid or IRQ number */
	struct cpuset from;
	long cur;               /* its one CPU now, -1 when spread or unknown */
};

/* Less load first; at equal load a core's first thread; then where the device is. */
static bool better(const struct planner *pl, size_t p, size_t q, const unsigned int *pref)
{
	unsigned int tp = pl->in->cpus[p].thread, tq = pl->in->cpus[q].thread;

	if (pl->load[p] != pl->load[q])
		return pl->load[p] < pl->load[q];
	if ((tp > 0) != (tq > 0))
		return tp == 0;
	return pref[p] && !pref[q];
}

/*
 * The next CPU for a device: the least loaded candidate it does not use yet;
 * ties go to a core's first thread, then to a CPU where one of its sources
 * already is (pref), then to the candidate order.  While a device has fewer
 * sources than candidates the loads of its unused candidates do not change,
 * so it takes the k least loaded; preferring its current CPUs among equals
 * makes the plan of an applied plan the same plan.
 */
static long pick(struct planner *pl, const size_t *order, size_t len, unsigned int *pref)
{
	long best = -1;

	for (size_t i = 0; i < len; i++) {
		size_t p = order[i];

		if (pl->used[p])
			continue;
		if (best < 0 || better(pl, p, (size_t)best, pref))
			best = (long)p;
	}
	if (best < 0) { /* every candidate taken once: the next round */
		for (size_t i = 0; i < len; i++)
			pl->used[order[i]] = false;
		return pick(pl, order, len, pref);
	}
	pl->used[best] = true;
	pl->load[best]++;
	if (pref[best])
		pref[best]--;
	return best;
}

static void clear_used(struct planner *pl)
{
	memset(pl->used, 0, pl->in->ncpus * sizeof(bool));
}

static int record(struct planner *pl, const struct source *s, int dev, int node, long pos,
		  bool kept, const char *why)
{
	struct aff_action *a = new_action(pl);

	if (!a)
		return -ENOMEM;
	a->target = s->target;
	a->dev = dev;
	a->id = s->id;
	a->node = node;
	if (pos < 0) {
		a->to = s->from;
		a->local = s->cur >= 0 && aff_cpu_on_node(pl->in, s->cur, node);
		a->reason = "kept: no CPU is allowed (all isolated)";
		return 0;
	}
	cpuset_zero(&a->to);
	cpuset_set(&a->to, pl->in->cpus[pos].id);
	a->move = !kept;
	a->local = aff_cpu_on_node(pl->in, (long)pl->in->cpus[pos].id, node);
	a->reason = why;
	return 0;
}

/*
 * Place the n sources of one device on its node: choose n CPUs, then let
 * every source already on one of them keep it and give the others the rest
 * in the order chosen.  Moves are only the sources that must move.
 */
static int place_device(struct planner *pl, int dev, int node, bool any_node,
			const struct source *src, size_t n, const char *why)
{
	_cleanup_free_ long *picks = calloc(n + 1, sizeof(long));
	_cleanup_free_ long *given = calloc(n + 1, sizeof(long));
	_cleanup_free_ unsigned int *pref = calloc(pl->in->ncpus + 1, sizeof(unsigned int));
	const size_t *order = pl->any_order;
	size_t len = pl->any_len, next = 0;
	int ni = node >= 0 && !any_node ? node_index(pl, node) : -1, ret = 0;

	if (!picks || !given || !pref)
		return -ENOMEM;
	if (ni >= 0 && pl->node_len[ni]) {
		order = pl->node_order[ni];
		len = pl->node_len[ni];
	} else if (node >= 0 && !any_node) {
		/* A node without online CPUs, or all of them isolated. */
		why = "spread over all nodes: no CPU of its node may be used";
	}
	for (size_t i = 0; i < n && !pl->no_pref; i++) {
		long pos = src[i].cur >= 0 ? aff_cpu_index(pl->in, src[i].cur) : -1;

		if (pos >= 0)
			pref[pos]++;
	}
	clear_used(pl);
	for (size_t i = 0; i < n; i++)
		picks[i] = len ? pick(pl, order, len, pref) : -1;
	/* Sources already on a chosen CPU keep it … */
	for (size_t i = 0; i < n; i++) {
		long pos = src[i].cur >= 0 ? aff_cpu_index(pl->in, src[i].cur) : -1;

		given[i] = -1;
		for (size_t k = 0; pos >= 0 && k < n; k++) {
			if (picks[k] == pos) {
				given[i] = k;
				picks[k] = -2; /* taken */
				break;
			}
		}
	}
	/* … the others take the remaining CPUs in the order they were chosen. */
	for (size_t i = 0; i < n && ret == 0; i++) {
		bool kept = given[i] >= 0;
		long pos;

		if (kept) {
			pos = aff_cpu_index(pl->in, src[i].cur);
		} else {
			while (next < n && picks[next] == -2)
				next++;
			pos = next < n ? picks[next++] : -1;
		}
		ret = record(pl, &src[i], dev, node, pos, kept, why);
	}
	return ret;
}

/* ---- channels ------------------------------------------------------------- */

/* Channels are placed when the policy says so and the kernel lets us. */
static bool channels_movable(const struct planner *pl)
{
	return pl->pol->channels && pl->in->channels_writable;
}

/* Non-performance channels stay on (or return to) CPU 0. */
static int plan_utility_channel(struct planner *pl, size_t dev, const struct aff_channel *ch,
				const struct cpuset *from)
{
	struct aff_action *a = new_action(pl);
	long cpu0 = aff_cpu_index(pl->in, 0);

	if (!a)
		return -ENOMEM;
	a->target = AFF_CHANNEL;
	a->dev = (int)dev;
	a->id = ch->relid;
	a->node = -1;
	a->local = true;
	if (!channels_movable(pl) || cpu0 < 0 || !pl->in->cpus[cpu0].allowed) {
		a->to = *from;
		a->reason = !pl->pol->channels ? "left alone: [affinity] channels = no" :
			    !pl->in->channels_writable ? "kept: this kernel cannot move channels" :
			    "kept: CPU 0 is not allowed";
		return 0;
	}
	cpuset_zero(&a->to);
	cpuset_set(&a->to, 0);
	a->move = ch->cpu != 0;
	a->reason = "utility channel: CPU 0 keeps the non-performance channels";
	return 0;
}

/* A source the policy leaves alone still loads the CPU it is on. */
static int keep_source(struct planner *pl, const struct source *src, int dev, int node,
		       const char *why)
{
	struct aff_action *a = new_action(pl);
	long pos = src->cur >= 0 ? aff_cpu_index(pl->in, src->cur) : -1;

	if (!a)
		return -ENOMEM;
	a->target = src->target;
	a->dev = dev;
	a->id = src->id;
	a->node = node;
	a->to = src->from;
	a->local = src->cur >= 0 && aff_cpu_on_node(pl->in, src->cur, node);
	a->reason = why;
	if (pos >= 0)
		pl->load[pos]++;
	return 0;
}

static int cmp_vmbus_idx(const void *a, const void *b)
{
	const struct aff_vmbus_dev *x = &sort_in->vmbus[*(const size_t *)a];
	const struct aff_vmbus_dev *y = &sort_in->vmbus[*(const size_t *)b];

	return strcmp(x->instance, y->instance);
}

static int plan_device_channels(struct planner *pl, size_t dev, bool ignore_nodes)
{
	const struct aff_vmbus_dev *d = &pl->in->vmbus[dev];
	_cleanup_free_ struct source *src = calloc(d->nchannels + 1, sizeof(*src));
	const char *why;
	int node = vmbus_node(pl->in, dev, &why);
	size_t base = pl->plan->n;
	int ret = 0;

	if (!src)
		return -ENOMEM;
	if (ignore_nodes && node >= 0)
		why = "spread over all nodes: on its node the channels would reach fewer than min(vCPUs, 4) CPUs";
	for (size_t c = 0; c < d->nchannels; c++) {
		const struct aff_channel *ch = &d->channels[c];

		src[c].target = AFF_CHANNEL;
		src[c].id = ch->relid;
		src[c].cur = ch->cpu >= 0 && ch->cpu < CPUSET_MAX ? ch->cpu : -1;
		cpuset_zero(&src[c].from);
		if (src[c].cur >= 0)
			cpuset_set(&src[c].from, (unsigned int)ch->cpu);
	}
	if (!d->perf) {
		for (size_t c = 0; c < d->nchannels && ret == 0; c++)
			ret = plan_utility_channel(pl, dev, &d->channels[c], &src[c].from);
	} else if (!channels_movable(pl)) {
		for (size_t c = 0; c < d->nchannels && ret == 0; c++)
			ret = keep_source(pl, &src[c], (int)dev, node, pl->pol->channels ?
					  "kept: this kernel cannot move channels (no channels/<relid>/cpu)" :
					  "left alone: [affinity] channels = no");
	} else {
		ret = place_device(pl, (int)dev, node, ignore_nodes, src, d->nchannels, why);
	}
	for (size_t c = 0; ret == 0 && c < d->nchannels; c++)
		pl->chan_cpu[pl->chan_base[dev] + c] = cpuset_single(&pl->plan->v[base + c].to);
	return ret;
}

static int plan_channels(struct planner *pl, bool ignore_nodes)
{
	const struct aff_input *in = pl->in;
	_cleanup_free_ size_t *idx = calloc(in->nvmbus + 1, sizeof(size_t));
	int ret;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < in->nvmbus; i++)
		idx[i] = i;
	sort_in = in;
	qsort(idx, in->nvmbus, sizeof(size_t), cmp_vmbus_idx);
	for (size_t k = 0; k < in->nvmbus; k++) {
		ret = plan_device_channels(pl, idx[k], ignore_nodes);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Distinct CPUs the planned channels interrupt. */
static unsigned int channel_cpus(const struct planner *pl)
{
	struct cpuset s;
	size_t total = pl->in->nvmbus ? pl->chan_base[pl->in->nvmbus] : 0;

	cpuset_zero(&s);
	for (size_t i = 0; i < total; i++)
		if (pl->chan_cpu[i] >= 0)
			cpuset_set(&s, (unsigned int)pl->chan_cpu[i]);
	return cpuset_count(&s);
}

static unsigned int allowed_cpus(const struct aff_input *in)
{
	unsigned int n = 0;

	for (size_t i = 0; i < in->ncpus; i++)
		n += in->cpus[i].allowed;
	return n;
}

static void reset_loads(struct planner *pl)
{
	long cpu0 = aff_cpu_index(pl->in, 0);

	memset(pl->load, 0, pl->in->ncpus * sizeof(unsigned int));
	if (cpu0 >= 0)
		pl->load[cpu0] = 1; /* VMBus messages and the utility channels */
}

/* Plan every channel afresh, with or without regard to where they are. */
static int replan_channels(struct planner *pl, bool spread, bool no_pref)
{
	int ret;

	pl->plan->n = 0;
	reset_loads(pl);
	pl->no_pref = no_pref;
	ret = plan_channels(pl, spread);
	pl->no_pref = false;
	return ret;
}

/*
 * Channels first.  If NUMA-local placement leaves them on fewer than
 * min(vCPUs, 4) CPUs, they are placed ignoring nodes.  Both that choice and
 * the fallback when keeping current CPUs costs the spread are made on plans
 * that ignore where the channels are now, which the plan of an applied plan
 * reproduces: so it makes the same choice and moves nothing.
 */
static int plan_all_channels(struct planner *pl)
{
	unsigned int want = pl->plan->min_channel_cpus;
	size_t total = pl->in->nvmbus ? pl->chan_base[pl->in->nvmbus] : 0;
	bool spread = false;
	int ret;

	/* A VM without VMBus (or channels we cannot move) has nothing to spread. */
	if (!channels_movable(pl) || !total)
		return plan_channels(pl, false);
	ret = replan_channels(pl, false, true);
	if (ret < 0)
		return ret;
	spread = channel_cpus(pl) < want;
	ret = replan_channels(pl, spread, false);
	if (ret == 0 && channel_cpus(pl) < want) /* current CPUs tipped it: rare */
		ret = replan_channels(pl, spread, true);
	if (ret == 0 && channel_cpus(pl) < want)
		snprintf(pl->plan->note, sizeof(pl->plan->note),
			 "VMBus channels reach %u CPUs, fewer than min(vCPUs, 4) = %u: only %u CPUs are allowed",
			 channel_cpus(pl), want, allowed_cpus(pl->in));
	return ret;
}

/* ---- device IRQs ------------------------------------------------------------ */

/*
 * Devices that carry the workload choose first: GPUs, HCAs, NICs, then NVMe
 * admin queues and the rest.  A device whose node is a guess then cannot
 * shift the others.
 */
static int kind_rank(enum pci_kind k)
{
	switch (k) {
	case PCI_GPU: return 0;
	case PCI_HCA: return 1;
	case PCI_NIC: return 2;
	case PCI_NVME: return 3;
	default: return 4;
	}
}

static int cmp_irq_idx(const void *a, const void *b)
{
	const struct aff_irq *x = &sort_in->irqs[*(const size_t *)a];
	const struct aff_irq *y = &sort_in->irqs[*(const size_t *)b];
	int rx = kind_rank(sort_in->pci[x->dev].kind), ry = kind_rank(sort_in->pci[y->dev].kind);
	int c = rx != ry ? rx - ry : strcmp(sort_in->pci[x->dev].addr, sort_in->pci[y->dev].addr);

	if (c)
		return c;
	if (x->queue != y->queue)
		return x->queue < y->queue ? -1 : 1;
	return x->irq < y->irq ? -1 : x->irq > y->irq;
}

/* The IRQs of one PCI device: idx[0..n) index in->irqs. */
static int plan_device_irqs(struct planner *pl, const size_t *idx, size_t n)
{
	const struct aff_input *in = pl->in;
	_cleanup_free_ struct source *src = calloc(n + 1, sizeof(*src));
	int dev = in->irqs[idx[0]].dev, ret = 0;
	const char *why;
	int node = pci_node(in, dev, &why);

	if (!src)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		const struct aff_irq *q = &in->irqs[idx[k]];

		src[k].target = AFF_IRQ;
		src[k].id = q->irq;
		src[k].from = q->affinity;
		src[k].cur = cpuset_single(&q->affinity);
	}
	if (pl->pol->irqs)
		return place_device(pl, dev, node, false, src, n, why);
	for (size_t k = 0; k < n && ret == 0; k++) {
		if (src[k].cur < 0)
			src[k].cur = in->irqs[idx[k]].effective;
		ret = keep_source(pl, &src[k], dev, node, "left alone: [affinity] irqs = no");
	}
	return ret;
}

static int plan_irqs(struct planner *pl)
{
	const struct aff_input *in = pl->in;
	_cleanup_free_ size_t *idx = calloc(in->nirqs + 1, sizeof(size_t));
	size_t n = 0, start = 0;
	int ret = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < in->nirqs; i++)
		if (in->irqs[i].dev >= 0 && (size_t)in->irqs[i].dev < in->npci &&
		    in->pci[in->irqs[i].dev].vpci && !in->irqs[i].managed)
			idx[n++] = i;
	sort_in = in;
	qsort(idx, n, sizeof(size_t), cmp_irq_idx);
	for (size_t k = 1; k <= n && ret == 0; k++) {
		if (k < n && in->irqs[idx[k]].dev == in->irqs[idx[start]].dev)
			continue;
		ret = plan_device_irqs(pl, &idx[start], k - start);
		start = k;
	}
	return ret;
}

/* ---- netvsc queues ------------------------------------------------------------ */

static long channel_cpu_of_queue(const struct planner *pl, int dev, unsigned int q)
{
	const struct aff_vmbus_dev *d;

	if (dev < 0 || (size_t)dev >= pl->in->nvmbus)
		return -1;
	d = &pl->in->vmbus[dev];
	for (size_t c = 0; c < d->nchannels; c++)
		if (d->channels[c].subchannel == (long)q)
			return pl->chan_cpu[pl->chan_base[dev] + c];
	return -1;
}

static int queue_action(struct planner *pl, enum aff_target t, size_t nic,
			const struct aff_queue *q, const struct cpuset *to, int node,
			const char *why)
{
	struct aff_action *a = new_action(pl);

	if (!a)
		return -ENOMEM;
	a->target = t;
	a->dev = (int)nic;
	a->id = q->index;
	a->node = node;
	a->to = *to;
	a->move = memcmp(&q->cpus, to, sizeof(*to)) != 0;
	a->local = true;
	a->reason = why;
	return 0;
}

static int plan_nic(struct planner *pl, size_t i)
{
	const struct aff_nic *nic = &pl->in->nics[i];
	const char *why;
	int node = vmbus_node(pl->in, (size_t)nic->vmbus_dev, &why), ret;
	struct cpuset to;

	for (size_t k = 0; pl->pol->xps && k < nic->ntx; k++) {
		long cpu = channel_cpu_of_queue(pl, nic->vmbus_dev, nic->tx[k].index);
		long pos = cpu >= 0 ? aff_cpu_index(pl->in, cpu) : -1;

		/* No channel for the queue, or it sits on a CPU we must not use. */
		if (pos < 0 || !pl->in->cpus[pos].allowed)
			continue;
		cpuset_zero(&to);
		cpuset_set(&to, (unsigned int)cpu);
		ret = queue_action(pl, AFF_XPS, i, &nic->tx[k], &to, node,
				   "transmit queue sends from its channel's CPU");
		if (ret < 0)
			return ret;
	}
	if (!pl->pol->rps)
		return 0;
	cpuset_zero(&to);
	for (size_t c = 0; c < pl->in->ncpus; c++)
		if (pl->in->cpus[c].allowed && (node < 0 || pl->in->cpus[c].node == node))
			cpuset_set(&to, pl->in->cpus[c].id);
	if (cpuset_empty(&to))
		return 0; /* no CPU of the NIC's node may be used: leave RPS alone */
	for (size_t k = 0; k < nic->nrx; k++) {
		ret = queue_action(pl, AFF_RPS, i, &nic->rx[k], &to, node,
				   "receive packets steered over the NIC's node");
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- entry points ---------------------------------------------------------------- */

static void planner_free(struct planner *pl)
{
	free(pl->load);
	free(pl->used);
	for (size_t j = 0; pl->node_order && j < pl->nnodes; j++)
		free(pl->node_order[j]);
	free(pl->node_order);
	free(pl->node_len);
	free(pl->node_ids);
	free(pl->any_order);
	free(pl->chan_cpu);
	free(pl->chan_base);
}

static int planner_init(struct planner *pl)
{
	const struct aff_input *in = pl->in;
	size_t total = 0;

	pl->load = calloc(in->ncpus + 1, sizeof(unsigned int));
	pl->used = calloc(in->ncpus + 1, sizeof(bool));
	pl->chan_base = calloc(in->nvmbus + 1, sizeof(size_t));
	if (!pl->load || !pl->used || !pl->chan_base)
		return -ENOMEM;
	for (size_t i = 0; i < in->nvmbus; i++) {
		pl->chan_base[i] = total;
		total += in->vmbus[i].nchannels;
	}
	pl->chan_base[in->nvmbus] = total;
	/* Every channel, IRQ and queue gets one action: allocate them once. */
	pl->cap = total + in->nirqs;
	for (size_t i = 0; i < in->nnics; i++)
		pl->cap += in->nics[i].ntx + in->nics[i].nrx;
	pl->plan->v = calloc(pl->cap + 1, sizeof(*pl->plan->v));
	if (!pl->plan->v)
		return -ENOMEM;
	pl->chan_cpu = calloc(total + 1, sizeof(long));
	if (!pl->chan_cpu)
		return -ENOMEM;
	for (size_t i = 0; i < in->nvmbus; i++)
		for (size_t c = 0; c < in->vmbus[i].nchannels; c++)
			pl->chan_cpu[pl->chan_base[i] + c] = in->vmbus[i].channels[c].cpu;
	reset_loads(pl);
	return build_orders(pl);
}

int affinity_plan(const struct aff_input *in, const struct aff_policy *p,
		  struct aff_plan *plan)
{
	struct planner pl = { .in = in, .pol = p, .plan = plan };
	_cleanup_free_ unsigned int *per_cpu = calloc(in->ncpus + 1, sizeof(unsigned int));
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->min_channel_cpus = in->ncpus < 4 ? (unsigned int)in->ncpus : 4;
	ret = per_cpu ? planner_init(&pl) : -ENOMEM;
	if (ret == 0)
		ret = plan_all_channels(&pl);
	if (ret == 0)
		ret = plan_irqs(&pl);
	for (size_t i = 0; ret == 0 && i < in->nnics; i++)
		ret = plan_nic(&pl, i);
	planner_free(&pl);
	if (ret < 0) {
		affinity_plan_free(plan);
		return ret;
	}
	for (size_t i = 0; i < plan->n; i++)
		plan->moves += plan->v[i].move;
	aff_quality_compute(in, plan, false, per_cpu, &plan->before);
	aff_quality_compute(in, plan, true, per_cpu, &plan->after);
	return 0;
}

void affinity_plan_free(struct aff_plan *plan)
{
	free(plan->v);
	memset(plan, 0, sizeof(*plan));
}
