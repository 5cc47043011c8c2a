// SPDX-License-Identifier: MIT
/*
 * affinity_plan() is pure: inputs built here by hand (topologies of 1 to 64
 * CPUs, 1 to 4 nodes) and, when AZL_FIXTURES is set, gathered from every SKU
 * fixture.  The properties are the policy of affinity_plan.c: NUMA-local,
 * spread, cores before siblings, CPU 0 for utility channels, isolated CPUs
 * untouched, minimal moves, deterministic, at least min(vCPUs, 4) channel CPUs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "affinity.h"

#define STORAGE_KIND "storage"

static struct aff_input *mk_input(unsigned int ncpus, unsigned int nnodes, bool smt)
{
	struct aff_input *in = calloc(1, sizeof(*in));

	in->ncpus = ncpus;
	in->nnodes = nnodes;
	in->cpus = calloc(ncpus, sizeof(*in->cpus));
	for (unsigned int i = 0; i < ncpus; i++) {
		in->cpus[i].id = i;
		in->cpus[i].node = (int)(i / (ncpus / nnodes));
		in->cpus[i].core = smt ? i & ~1u : i;
		in->cpus[i].thread = smt ? i & 1u : 0;
		in->cpus[i].allowed = true;
	}
	in->channels_writable = true;
	in->sku_source = "none";
	return in;
}

static void free_input(struct aff_input *in)
{
	for (size_t i = 0; i < in->nvmbus; i++)
		free(in->vmbus[i].channels);
	for (size_t i = 0; i < in->nnics; i++) {
		free(in->nics[i].tx);
		free(in->nics[i].rx);
	}
	free(in->vmbus);
	free(in->pci);
	free(in->irqs);
	free(in->nics);
	free(in->cpus);
	free(in);
}

/* A VMBus device whose channels sit on cpus[] (subchannel = index). */
static int add_vmbus(struct aff_input *in, const char *kind, bool perf, size_t n,
		     const long *cpus)
{
	struct aff_vmbus_dev *d;

	in->vmbus = realloc(in->vmbus, (in->nvmbus + 1) * sizeof(*d));
	d = &in->vmbus[in->nvmbus];
	memset(d, 0, sizeof(*d));
	snprintf(d->instance, sizeof(d->instance), "00000000-0000-0000-0000-%012zu", in->nvmbus);
	d->kind = kind;
	d->perf = perf;
	d->nchannels = n;
	d->channels = calloc(n, sizeof(*d->channels));
	for (size_t i = 0; i < n; i++)
		d->channels[i] = (struct aff_channel){ .relid = (long)(100 * in->nvmbus + i + 1),
						       .subchannel = (long)i, .cpu = cpus[i] };
	return (int)in->nvmbus++;
}

static int add_pci(struct aff_input *in, unsigned int domain, enum pci_kind kind, long node)
{
	struct aff_pci_dev *d;

	in->pci = realloc(in->pci, (in->npci + 1) * sizeof(*d));
	d = &in->pci[in->npci];
	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%04x:00:00.0", domain);
	d->domain = domain;
	d->kind = kind;
	d->numa_node = node;
	d->vpci = true;
	return (int)in->npci++;
}

/* n IRQs of a device, numbered from first, with the default affinity (all CPUs). */
static void add_irqs(struct aff_input *in, int dev, size_t n, long first, bool managed)
{
	in->irqs = realloc(in->irqs, (in->nirqs + n) * sizeof(*in->irqs));
	for (size_t i = 0; i < n; i++) {
		struct aff_irq *q = &in->irqs[in->nirqs++];

		memset(q, 0, sizeof(*q));
		q->irq = first + (long)i;
		snprintf(q->action, sizeof(q->action), "q%zu@pci:%s", i, in->pci[dev].addr);
		q->dev = dev;
		q->queue = (long)i;
		q->managed = managed;
		for (size_t c = 0; c < in->ncpus; c++)
			cpuset_set(&q->affinity, in->cpus[c].id);
		q->effective = 0;
	}
}

static long one_cpu(const struct cpuset *s)
{
	return cpuset_count(s) == 1 ? cpuset_last(s) : -1;
}

static const struct aff_policy *defaults(void)
{
	static struct aff_policy p;

	aff_policy_defaults(&p);
	return &p;
}

/* Write the plan back into the input, as the applier would to the system. */
static void apply_in_memory(struct aff_input *in, const struct aff_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct aff_action *a = &plan->v[i];

		if (!a->move)
			continue;
		if (a->target == AFF_CHANNEL) {
			struct aff_vmbus_dev *d = &in->vmbus[a->dev];

			for (size_t c = 0; c < d->nchannels; c++)
				if (d->channels[c].relid == a->id)
					d->channels[c].cpu = one_cpu(&a->to);
		} else if (a->target == AFF_IRQ) {
			for (size_t k = 0; k < in->nirqs; k++)
				if (in->irqs[k].irq == a->id)
					in->irqs[k].affinity = a->to;
		} else if (a->target == AFF_XPS) {
			struct aff_nic *n = &in->nics[a->dev];

			for (size_t k = 0; k < n->ntx; k++)
				if (n->tx[k].index == a->id)
					n->tx[k].cpus = a->to;
		}
	}
}

static void assert_second_run_keeps_all(struct aff_input *in)
{
	struct aff_plan p1, p2;

	assert_int_equal(affinity_plan(in, defaults(), &p1), 0);
	apply_in_memory(in, &p1);
	assert_int_equal(affinity_plan(in, defaults(), &p2), 0);
	assert_int_equal(p2.moves, 0);
	assert_int_equal(p1.n, p2.n);
	for (size_t i = 0; i < p1.n; i++)
		assert_memory_equal(&p1.v[i].to, &p2.v[i].to, sizeof(struct cpuset));
	affinity_plan_free(&p1);
	affinity_plan_free(&p2);
}

/* ---- hand-built topologies ------------------------------------------------------ */

static void test_irqs_go_to_their_node_and_spread(void **state)
{
	struct aff_input *in = mk_input(16, 2, false);
	int nic = add_pci(in, 0xcf63, PCI_NIC, 1);
	struct aff_plan plan;
	struct cpuset seen;

	(void)state;
	add_irqs(in, nic, 8, 24, false);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	assert_int_equal(plan.n, 8);
	assert_int_equal(plan.moves, 8);
	cpuset_zero(&seen);
	for (size_t i = 0; i < plan.n; i++) {
		long cpu = one_cpu(&plan.v[i].to);

		assert_true(cpu >= 8 && cpu <= 15);
		assert_false(cpuset_has(&seen, (unsigned int)cpu)); /* one queue per CPU */
		cpuset_set(&seen, (unsigned int)cpu);
		assert_true(plan.v[i].local);
		assert_int_equal(plan.v[i].node, 1);
	}
	assert_int_equal(plan.after.irqs_local, 8);
	assert_int_equal(aff_quality_score(&plan.after), 100);
	assert_true(aff_quality_score(&plan.before) < 100); /* effective CPU 0: node 0 */
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_cores_before_siblings(void **state)
{
	struct aff_input *in = mk_input(16, 1, true); /* 8 cores, siblings (2k, 2k+1) */
	int gpu = add_pci(in, 0x0001, PCI_GPU, 0);
	struct aff_plan plan;
	struct cpuset cores;

	(void)state;
	add_irqs(in, gpu, 7, 30, false);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	cpuset_zero(&cores);
	for (size_t i = 0; i < plan.n; i++) {
		long cpu = one_cpu(&plan.v[i].to);

		assert_int_equal(in->cpus[cpu].thread, 0); /* first threads only */
		assert_false(cpuset_has(&cores, in->cpus[cpu].core));
		cpuset_set(&cores, in->cpus[cpu].core);
	}
	/* CPU 0 carries VMBus messages: seven queues use the other seven cores. */
	assert_false(cpuset_has(&cores, 0));
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_utility_channels_on_cpu0(void **state)
{
	struct aff_input *in = mk_input(8, 1, false);
	long at3[] = { 3 }, at0[] = { 0 };
	struct aff_plan plan;

	(void)state;
	add_vmbus(in, "kvp", false, 1, at3);
	add_vmbus(in, "heartbeat", false, 1, at0);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	assert_int_equal(plan.n, 2);
	assert_true(plan.v[0].move);
	assert_int_equal(one_cpu(&plan.v[0].to), 0);
	assert_false(plan.v[1].move);
	assert_int_equal(one_cpu(&plan.v[1].to), 0);
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_isolated_cpus_untouched(void **state)
{
	struct aff_input *in = mk_input(8, 1, false);
	long chans[] = { 2, 3, 4, 5 };
	int nic = add_pci(in, 0x0101, PCI_HCA, 0);
	struct aff_plan plan;

	(void)state;
	for (unsigned int c = 1; c <= 3; c++) {
		in->cpus[c].allowed = false;
		cpuset_set(&in->excluded, c);
	}
	add_vmbus(in, STORAGE_KIND, true, 4, chans);
	add_irqs(in, nic, 6, 40, false);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		long cpu = one_cpu(&plan.v[i].to);

		assert_true(cpu == 0 || cpu >= 4);
	}
	/* The channels on isolated 2 and 3 moved; 4 and 5 stayed. */
	assert_true(plan.v[0].move);
	assert_true(plan.v[1].move);
	assert_false(plan.v[2].move);
	assert_false(plan.v[3].move);
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_managed_irqs_left_alone(void **state)
{
	struct aff_input *in = mk_input(4, 1, false);
	int nvme = add_pci(in, 0x1234, PCI_NVME, 0);
	struct aff_plan plan;

	(void)state;
	add_irqs(in, nvme, 4, 50, true);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	assert_int_equal(plan.n, 0);
	assert_int_equal(plan.before.managed, 4);
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_sku_table_supplies_missing_node(void **state)
{
	struct aff_input *in = mk_input(96, 2, false);
	int ib7 = add_pci(in, 0x0108, PCI_HCA, -1);
	int other = add_pci(in, 0x7777, PCI_NIC, -1);
	struct aff_plan plan;

	(void)state;
	in->sku = sku_by_vm_size("Standard_ND96isr_H200_v5");
	assert_non_null(in->sku);
	add_irqs(in, ib7, 4, 60, false);
	add_irqs(in, other, 2, 70, false);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		long cpu = one_cpu(&plan.v[i].to);

		if (plan.v[i].dev == ib7) {
			assert_true(cpu >= 48); /* ib7 is on node 1 */
			assert_non_null(strstr(plan.v[i].reason, "SKU table"));
		} else {
			assert_true(cpu < 48); /* unknown: node 0, as the kernel defaults */
		}
	}
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_minimal_moves_keep_good_placement(void **state)
{
	struct aff_input *in = mk_input(8, 2, false);
	int nic = add_pci(in, 0x0002, PCI_NIC, 1);
	struct aff_plan plan;

	(void)state;
	add_irqs(in, nic, 4, 24, false);
	for (size_t i = 0; i < 4; i++) {
		cpuset_zero(&in->irqs[i].affinity);
		cpuset_set(&in->irqs[i].affinity, (unsigned int)(4 + i));
	}
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	assert_int_equal(plan.moves, 0);
	assert_int_equal(aff_quality_score(&plan.before), 100);
	affinity_plan_free(&plan);
	free_input(in);
}

/* The kernel's own layout: perf channels over nodes, utilities on CPU 0. */
static struct aff_input *mk_vm(unsigned int ncpus, unsigned int nnodes, bool with_vf)
{
	struct aff_input *in = mk_input(ncpus, nnodes, ncpus > 1 && ncpus % 2 == 0);
	long cpus[64], zero = 0;
	size_t nstor = (ncpus + 3) / 4, nnet = ncpus < 8 ? ncpus : 8;
	int net;

	for (size_t i = 0; i < 64; i++)
		cpus[i] = (long)(i % ncpus);
	add_vmbus(in, "kvp", false, 1, &zero);
	add_vmbus(in, STORAGE_KIND, true, nstor, cpus);
	add_vmbus(in, STORAGE_KIND, true, nstor, cpus);
	net = add_vmbus(in, "network", true, nnet, cpus);
	in->nics = calloc(1, sizeof(*in->nics));
	in->nnics = 1;
	strcpy(in->nics[0].name, "eth0");
	in->nics[0].vmbus_dev = net;
	in->nics[0].vf = -1;
	in->nics[0].ntx = nnet;
	in->nics[0].tx = calloc(nnet, sizeof(struct aff_queue));
	for (size_t q = 0; q < nnet; q++)
		in->nics[0].tx[q].index = (unsigned int)q;
	if (with_vf) {
		int vf = add_pci(in, 0xcf63, PCI_NIC, 0);

		in->nics[0].vf = vf;
		add_irqs(in, vf, ncpus, 24, false);
	}
	return in;
}

static void test_channel_spread_lisa_rule(void **state)
{
	static const unsigned int sizes[][2] = {
		{ 1, 1 }, { 2, 1 }, { 4, 1 }, { 4, 2 }, { 8, 1 }, { 8, 2 }, { 16, 2 }, { 64, 2 },
		{ 64, 4 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (int vf = 0; vf <= 1; vf++) {
			struct aff_input *in = mk_vm(sizes[k][0], sizes[k][1], vf);
			unsigned int want = sizes[k][0] < 4 ? sizes[k][0] : 4;
			struct aff_plan plan;

			assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
			if (plan.after.channel_cpus < want)
				fail_msg("%u CPUs, %u nodes, vf %d: channels on %u CPUs",
					 sizes[k][0], sizes[k][1], vf, plan.after.channel_cpus);
			assert_int_equal(plan.note[0], '\0');
			affinity_plan_free(&plan);
			assert_second_run_keeps_all(in);
			free_input(in);
		}
	}
}

/* netvsc with a VF on node 0 of a 4-CPU, 2-node VM: local alone gives 2 CPUs. */
static void test_spread_beats_locality_for_channels(void **state)
{
	struct aff_input *in = mk_input(4, 2, false);
	long zero[4] = { 0, 0, 0, 0 };
	int net = add_vmbus(in, "network", true, 4, zero);
	int vf = add_pci(in, 0xcf63, PCI_NIC, 0);
	struct aff_plan plan;

	(void)state;
	in->nics = calloc(1, sizeof(*in->nics));
	in->nnics = 1;
	in->nics[0].vmbus_dev = net;
	in->nics[0].vf = vf;
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	assert_int_equal(plan.after.channel_cpus, 4);
	assert_non_null(strstr(plan.v[0].reason, "min(vCPUs, 4)"));
	affinity_plan_free(&plan);
	free_input(in);
}

/*
 * Whether channels must leave their node to reach min(vCPUs, 4) CPUs must
 * not depend on where they are now: this layout used to flip between the
 * two answers on every apply (found by review with a random-input harness).
 */
static void test_spread_choice_is_stable(void **state)
{
	struct aff_input *in = mk_input(4, 1, false);
	long a[] = { 2 }, b[] = { 3, 1, 1 }, c[] = { 3 };
	int net;

	(void)state;
	in->nnodes = 2;
	in->cpus[2].node = 1;
	net = add_vmbus(in, "network", true, 1, a);
	add_vmbus(in, STORAGE_KIND, true, 3, b);
	add_vmbus(in, STORAGE_KIND, true, 1, c);
	in->nics = calloc(1, sizeof(*in->nics));
	in->nnics = 1;
	in->nics[0].vmbus_dev = net;
	in->nics[0].vf = add_pci(in, 0xcf63, PCI_NIC, 0);
	assert_second_run_keeps_all(in);
	free_input(in);
}

/* A channel the host cannot move keeps its CPU, and its queue follows it. */
static void test_unmovable_channels_keep_xps_with_them(void **state)
{
	struct aff_input *in = mk_vm(8, 2, true);
	struct aff_plan plan;

	(void)state;
	in->channels_writable = false;
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		const struct aff_action *a = &plan.v[i];

		if (a->target == AFF_CHANNEL)
			assert_false(a->move);
		if (a->target == AFF_XPS) /* channel q sits on CPU q in mk_vm */
			assert_int_equal(one_cpu(&a->to), a->id % 8);
	}
	affinity_plan_free(&plan);
	free_input(in);
}

/* A device whose node has no usable CPU: spread, said so, and not local. */
static void test_node_without_cpus(void **state)
{
	struct aff_input *in = mk_input(8, 2, false);
	int gpu = add_pci(in, 0x0001, PCI_GPU, 1);
	struct aff_plan plan;

	(void)state;
	for (size_t c = 4; c < 8; c++)
		in->cpus[c].allowed = false;
	add_irqs(in, gpu, 2, 40, false);
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		assert_true(one_cpu(&plan.v[i].to) < 4);
		assert_false(plan.v[i].local);
		assert_non_null(strstr(plan.v[i].reason, "no CPU of its node"));
	}
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_xps_follows_channels(void **state)
{
	struct aff_input *in = mk_vm(8, 1, false);
	struct aff_plan plan;
	size_t xps = 0;

	(void)state;
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		const struct aff_action *a = &plan.v[i];
		const struct aff_vmbus_dev *net = &in->vmbus[in->nics[0].vmbus_dev];

		if (a->target != AFF_XPS)
			continue;
		xps++;
		for (size_t j = 0; j < plan.n; j++)
			if (plan.v[j].target == AFF_CHANNEL && plan.v[j].dev == in->nics[0].vmbus_dev &&
			    plan.v[j].id == net->channels[a->id].relid)
				assert_memory_equal(&plan.v[j].to, &a->to, sizeof(a->to));
	}
	assert_int_equal(xps, 8);
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_policy_switches(void **state)
{
	struct aff_input *in = mk_vm(16, 2, true);
	struct aff_policy p;
	struct aff_plan plan;

	(void)state;
	aff_policy_defaults(&p);
	p.irqs = false;
	p.channels = false;
	p.xps = false;
	assert_int_equal(affinity_plan(in, &p, &plan), 0);
	assert_int_equal(plan.moves, 0);
	assert_true(plan.before.irqs > 0); /* still measured */
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_deterministic(void **state)
{
	struct aff_input *in = mk_vm(64, 2, true);
	struct aff_plan a, b;

	(void)state;
	assert_int_equal(affinity_plan(in, defaults(), &a), 0);
	assert_int_equal(affinity_plan(in, defaults(), &b), 0);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_memory_equal(&a.v[i].to, &b.v[i].to, sizeof(struct cpuset));
		assert_int_equal(a.v[i].move, b.v[i].move);
	}
	affinity_plan_free(&a);
	affinity_plan_free(&b);
	free_input(in);
}

static void test_no_allowed_cpu(void **state)
{
	struct aff_input *in = mk_vm(2, 1, true);
	struct aff_plan plan;

	(void)state;
	for (size_t c = 0; c < in->ncpus; c++)
		in->cpus[c].allowed = false;
	assert_int_equal(affinity_plan(in, defaults(), &plan), 0);
	assert_int_equal(plan.moves, 0);
	affinity_plan_free(&plan);
	free_input(in);
}

static void test_sku_lookup(void **state)
{
	struct sku_gpu_id h200[8], h100[8];
	const char *role = NULL;

	(void)state;
	for (int i = 0; i < 8; i++) {
		h200[i] = (struct sku_gpu_id){ 0x10de, 0x2335 };
		h100[i] = (struct sku_gpu_id){ 0x10de, 0x2330 };
	}
	assert_string_equal(sku_by_vm_size("Standard_ND96isr_H100_v5")->name, "ND H100 v5");
	assert_string_equal(sku_by_vm_size("standard_nd96is_h200_v5")->name, "ND H200 v5");
	assert_string_equal(sku_by_vm_size("Standard_ND96amsr_A100_v4")->family, "ndv4");
	assert_string_equal(sku_by_vm_size("Standard_HB120-64rs_v3")->name, "HBv3");
	assert_string_equal(sku_by_vm_size("Standard_HB176-24rs_v4")->name, "HBv4");
	assert_string_equal(sku_by_vm_size("Standard_NC96ads_A100_v4")->name, "NC A100 v4");
	assert_null(sku_by_vm_size("Standard_D2s_v5"));
	assert_null(sku_by_vm_size(""));
	assert_string_equal(sku_recognise(96, 2, h200, 8)->name, "ND H200 v5");
	assert_string_equal(sku_recognise(96, 2, h100, 8)->name, "ND H100 v5");
	assert_null(sku_recognise(96, 2, h200, 7));
	assert_null(sku_recognise(64, 2, h200, 8));
	assert_int_equal(sku_node_of_domain(sku_by_vm_size("Standard_ND96isr_H200_v5"), 0x000c,
					    &role), 1);
	assert_string_equal(role, "gpu7");
	assert_int_equal(sku_node_of_domain(sku_by_vm_size("Standard_ND96asr_v4"), 0x0101, NULL), 1);
	assert_int_equal(sku_node_of_domain(NULL, 0x0101, NULL), -1);
}

/* ---- SKU fixtures (AZL_FIXTURES) ---------------------------------------------- */

static const char *const fixtures[] = {
	"d2s-v5", "d64ds-v5-mlx5", "d64ds-v5-mana", "nd96isr-h200-v5",
	"nd96isr-h200-v5-numa-none", "not-hyperv",
};

static bool gather_fixture(const char *name, struct aff_input *in)
{
	const char *dir = getenv("AZL_FIXTURES");
	char path[512], err[512];
	struct root r;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(root_init(&r, path), 0);
	if (affinity_gather(&r, in, err, sizeof(err)) < 0)
		fail_msg("%s: %s", name, err);
	return true;
}

static void free_gathered(struct aff_input *in)
{
	affinity_input_free(in);
}

/*
 * Within each node the planned sources per CPU differ by at most 2 (one for
 * the greedy spread, one for CPU 0's VMBus message load).
 */
static void assert_node_balance(const char *name, const struct aff_input *in,
				const struct aff_plan *plan)
{
	unsigned int *per = calloc(in->ncpus, sizeof(unsigned int));

	for (size_t i = 0; i < plan->n; i++) {
		const struct aff_action *a = &plan->v[i];
		long cpu = one_cpu(&a->to);

		if (a->target == AFF_IRQ || (a->target == AFF_CHANNEL && in->vmbus[a->dev].perf))
			for (size_t c = 0; cpu >= 0 && c < in->ncpus; c++)
				if (in->cpus[c].id == (unsigned int)cpu)
					per[c]++;
	}
	for (size_t x = 0; x < in->ncpus; x++)
		for (size_t y = 0; y < in->ncpus; y++)
			if (in->cpus[x].node == in->cpus[y].node && per[x] > per[y] + 2)
				fail_msg("%s: CPU %u has %u sources, CPU %u of the same node %u",
					 name, in->cpus[x].id, per[x], in->cpus[y].id, per[y]);
	free(per);
}

static void test_fixtures_policy(void **state)
{
	(void)state;
	if (!getenv("AZL_FIXTURES"))
		skip();
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		struct aff_input in;
		struct aff_plan plan;
		unsigned int want;

		assert_true(gather_fixture(fixtures[f], &in));
		assert_int_equal(affinity_plan(&in, defaults(), &plan), 0);
		want = in.ncpus < 4 ? (unsigned int)in.ncpus : 4;
		if (in.nvmbus && plan.after.channel_cpus < want)
			fail_msg("%s: channels on %u CPUs", fixtures[f], plan.after.channel_cpus);
		if (aff_quality_score(&plan.after) != 100)
			fail_msg("%s: planned score %u%%", fixtures[f], aff_quality_score(&plan.after));
		for (size_t i = 0; i < plan.n; i++) {
			const struct aff_action *a = &plan.v[i];

			if (a->target == AFF_CHANNEL && !in.vmbus[a->dev].perf)
				assert_int_equal(one_cpu(&a->to), 0);
			if (a->target == AFF_IRQ || a->target == AFF_CHANNEL)
				assert_int_equal(cpuset_count(&a->to), 1);
		}
		assert_node_balance(fixtures[f], &in, &plan);
		affinity_plan_free(&plan);
		assert_second_run_keeps_all(&in);
		free_gathered(&in);
	}
}

/* Isolating CPUs on a fixture: none of them is ever a target. */
static void test_fixture_isolated(void **state)
{
	struct aff_input in;
	struct aff_plan plan;

	(void)state;
	if (!gather_fixture("nd96isr-h200-v5", &in))
		skip();
	for (size_t c = 0; c < in.ncpus; c++)
		if (in.cpus[c].id % 3 == 1)
			in.cpus[c].allowed = false;
	assert_int_equal(affinity_plan(&in, defaults(), &plan), 0);
	for (size_t i = 0; i < plan.n; i++)
		if (plan.v[i].move)
			assert_int_not_equal(one_cpu(&plan.v[i].to) % 3, 1);
	assert_int_equal(aff_quality_score(&plan.after), 100);
	affinity_plan_free(&plan);
	assert_second_run_keeps_all(&in);
	free_gathered(&in);
}

/* The node an IRQ is planned on (IRQ numbers are the same in both fixtures). */
static int planned_node(const struct aff_input *in, const struct aff_plan *plan, long irq)
{
	for (size_t i = 0; i < plan->n; i++) {
		long cpu = one_cpu(&plan->v[i].to);

		if (plan->v[i].target != AFF_IRQ || plan->v[i].id != irq || cpu < 0)
			continue;
		for (size_t c = 0; c < in->ncpus; c++)
			if (in->cpus[c].id == (unsigned int)cpu)
				return in->cpus[c].node;
	}
	return -2;
}

/*
 * The host gave no NUMA node (vPCI before 1.3): the SKU table must give the
 * same placement as the host's nodes: every GPU, HCA and VF interrupt on the
 * same node, channels on the same CPUs, the same figures.  Individual CPUs
 * within a node may differ: the kernel spread the IRQs differently in the two
 * fixtures, and the planner keeps what is already good.
 */
static void test_numa_none_same_placement(void **state)
{
	struct aff_input a, b;
	struct aff_plan pa, pb;
	size_t compared = 0;

	(void)state;
	if (!gather_fixture("nd96isr-h200-v5", &a))
		skip();
	assert_true(gather_fixture("nd96isr-h200-v5-numa-none", &b));
	assert_non_null(b.sku);
	assert_int_equal(affinity_plan(&a, defaults(), &pa), 0);
	assert_int_equal(affinity_plan(&b, defaults(), &pb), 0);
	for (size_t i = 0; i < a.nirqs; i++) {
		const struct aff_irq *q = &a.irqs[i];
		enum pci_kind k = q->dev >= 0 ? a.pci[q->dev].kind : PCI_OTHER;
		int na = planned_node(&a, &pa, q->irq), nb = planned_node(&b, &pb, q->irq);

		if (q->managed || (k != PCI_GPU && k != PCI_HCA && k != PCI_NIC))
			continue;
		if (na != nb || na != a.pci[q->dev].numa_node)
			fail_msg("irq %ld %s: node %d with nodes, %d without (device node %ld)",
				 q->irq, q->action, na, nb, a.pci[q->dev].numa_node);
		compared++;
	}
	assert_true(compared >= 8 * 33 + 8 + 33);
	for (size_t i = 0; i < pa.n && i < pb.n; i++)
		if (pa.v[i].target == AFF_CHANNEL)
			assert_memory_equal(&pa.v[i].to, &pb.v[i].to, sizeof(struct cpuset));
	assert_int_equal(aff_quality_score(&pb.after), 100);
	assert_int_equal(pa.after.irqs, pb.after.irqs);
	assert_int_equal(pa.after.src_max, pb.after.src_max);
	assert_int_equal(pa.after.src_min, pb.after.src_min);
	assert_true(aff_quality_score(&pb.before) < aff_quality_score(&pa.before));
	affinity_plan_free(&pa);
	affinity_plan_free(&pb);
	free_gathered(&a);
	free_gathered(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irqs_go_to_their_node_and_spread),
		cmocka_unit_test(test_cores_before_siblings),
		cmocka_unit_test(test_utility_channels_on_cpu0),
		cmocka_unit_test(test_isolated_cpus_untouched),
		cmocka_unit_test(test_managed_irqs_left_alone),
		cmocka_unit_test(test_sku_table_supplies_missing_node),
		cmocka_unit_test(test_minimal_moves_keep_good_placement),
		cmocka_unit_test(test_channel_spread_lisa_rule),
		cmocka_unit_test(test_spread_beats_locality_for_channels),
		cmocka_unit_test(test_spread_choice_is_stable),
		cmocka_unit_test(test_unmovable_channels_keep_xps_with_them),
		cmocka_unit_test(test_node_without_cpus),
		cmocka_unit_test(test_xps_follows_channels),
		cmocka_unit_test(test_policy_switches),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_no_allowed_cpu),
		cmocka_unit_test(test_sku_lookup),
		cmocka_unit_test(test_fixtures_policy),
		cmocka_unit_test(test_fixture_isolated),
		cmocka_unit_test(test_numa_none_same_placement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
