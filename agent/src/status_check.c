// SPDX-License-Identifier: MIT
/* The verdict of `azl-agent status`: summaries and warnings from facts. */
#include <stdio.h>
#include <string.h>

#include "status.h"
#include "util.h"

static struct class_summary *class_slot(struct status *s, const struct vmbus_class *cls)
{
	const char *kind = cls ? cls->kind : "unknown";

	for (size_t i = 0; i < s->nclasses; i++)
		if (strcmp(s->classes[i].kind, kind) == 0)
			return &s->classes[i];
	if (s->nclasses == STATUS_MAX_CLASSES)
		return NULL;
	s->classes[s->nclasses] = (struct class_summary){
		.kind = kind,
		.description = cls ? cls->description : "Unknown device class",
		.perf = cls && cls->perf,
	};
	return &s->classes[s->nclasses++];
}

static void summarize_vmbus(const struct vm_facts *f, struct status *s)
{
	for (size_t i = 0; i < f->vmbus.n; i++) {
		const struct vmbus_device_fact *d = &f->vmbus.devs[i];
		struct class_summary *c = class_slot(s, d->cls);

		if (!c)
			continue;
		c->devices++;
		for (size_t k = 0; k < d->nchannels; k++) {
			unsigned int cpu = (unsigned int)d->channels[k].cpu;
			int node = topology_node_of_cpu(&f->topo, cpu);

			c->channels++;
			cpuset_set(&c->cpus, cpu);
			cpuset_set(&s->channel_cpus, cpu);
			if (node >= 0 && node < STATUS_MAX_NODES)
				c->on_node[node]++;
			else
				c->nodeless++;
		}
	}
}

static void summarize_accel(const struct vm_facts *f, struct status *s)
{
	for (size_t i = 0; i < f->pci.n; i++) {
		const struct pci_fact *d = &f->pci.devs[i];

		if (d->kind == PCI_GPU) {
			s->accel.gpus++;
			s->accel.gpus_nodeless += d->numa_node == -1;
		} else if (d->kind == PCI_HCA) {
			s->accel.hcas++;
			s->accel.hcas_nodeless += d->numa_node == -1;
		}
	}
}

static void check_platform(const struct vm_facts *f, struct status *s)
{
	const struct platform_facts *p = &f->platform;

	if (p->hyperv == TRI_NO) {
		s->error = true;
		warn_add(&s->warnings, "platform", "not a Hyper-V guest (DMI \"%s\" / \"%s\"%s%s)",
			 p->sys_vendor[0] ? p->sys_vendor : "unknown",
			 p->product_name[0] ? p->product_name : "unknown",
			 p->cpuid_vendor[0] ? ", CPUID " : "", p->cpuid_vendor);
		return;
	}
	if (p->hyperv == TRI_UNKNOWN) {
		s->error = true;
		warn_add(&s->warnings, "platform",
			 "cannot tell whether this is a Hyper-V guest: DMI and VMBus unreadable");
		return;
	}
	if (p->vmbus != TRI_YES)
		warn_add(&s->warnings, "vmbus", "no VMBus: hv_vmbus is not loaded or failed to start");
	if (p->vm_id[0] && p->imds_vm_id[0] && strcmp(p->vm_id, p->imds_vm_id) != 0)
		warn_add(&s->warnings, "platform",
			 "vmId from DMI %s differs from the cached IMDS vmId %s", p->vm_id,
			 p->imds_vm_id);
}

static void check_topology(const struct vm_facts *f, struct status *s)
{
	struct cpuset offline;
	char list[256];

	/* Present, not possible: empty hotplug slots are not offline CPUs. */
	if (!f->topo.known || cpuset_empty(&f->topo.present))
		return;
	cpuset_zero(&offline);
	for (int c = 0; c <= cpuset_last(&f->topo.present); c++)
		if (cpuset_has(&f->topo.present, (unsigned)c) &&
		    !cpuset_has(&f->topo.online, (unsigned)c))
			cpuset_set(&offline, (unsigned)c);
	if (cpuset_empty(&offline) || cpuset_format_list(&offline, list, sizeof(list)) < 0)
		return;
	warn_add(&s->warnings, "topology",
		 "CPUs %s are offline: channels cannot use them and image validation counts them",
		 list);
}

/* "16 of 16 storage channels on node 0": a perf class that ignores a node. */
static void check_class_nodes(const struct vm_facts *f, struct status *s)
{
	if (f->topo.nnodes < 2)
		return;
	for (size_t i = 0; i < s->nclasses; i++) {
		const struct class_summary *c = &s->classes[i];

		if (!c->perf || c->channels < 2)
			continue;
		for (size_t n = 0; n < STATUS_MAX_NODES; n++)
			if (c->on_node[n] == c->channels)
				warn_add(&s->warnings, "vmbus",
					 "%zu of %zu %s channels on node %zu", c->on_node[n],
					 c->channels, c->kind, n);
	}
}

static void check_channel_cpus(const struct vm_facts *f, struct status *s)
{
	if (!f->topo.known)
		return;
	/* One warning per device, however many of its channels are off. */
	for (size_t i = 0; i < f->vmbus.n; i++) {
		const struct vmbus_device_fact *d = &f->vmbus.devs[i];
		size_t off = 0, first = 0;

		for (size_t k = 0; k < d->nchannels; k++)
			if (!cpuset_has(&f->topo.online, (unsigned int)d->channels[k].cpu) && !off++)
				first = k;
		if (off)
			warn_add(&s->warnings, "vmbus",
				 "%zu channel(s) of %s device %s target offline CPUs (relid %ld on CPU %ld)",
				 off, d->cls ? d->cls->kind : "unknown", d->instance,
				 d->channels[first].relid, d->channels[first].cpu);
	}
}

/*
 * Microsoft's image validation wants VMBus interrupts on at least min(vCPUs, 4)
 * CPUs; fewer also means one CPU carries all synthetic I/O.
 */
static void check_channel_spread(const struct vm_facts *f, struct status *s)
{
	unsigned int online = cpuset_count(&f->topo.online);
	unsigned int want = online < 4 ? online : 4;
	unsigned int used = cpuset_count(&s->channel_cpus);

	if (!f->topo.known || f->vmbus.n == 0)
		return;
	for (size_t i = 0; i < f->vmbus.n; i++)
		if (!f->vmbus.devs[i].channels_known)
			return; /* judging a partial list would invent a problem */
	if (used < want)
		warn_add(&s->warnings, "vmbus",
			 "VMBus channels target only %u CPU(s); at least %u expected", used, want);
	if (f->irqs.known && f->irqs.hyp_line && cpuset_count(&f->irqs.hyp_cpus) < want)
		warn_add(&s->warnings, "irq",
			 "VMBus (HYP) interrupts arrived on only %u CPU(s); at least %u expected",
			 cpuset_count(&f->irqs.hyp_cpus), want);
}

static void check_accel(const struct vm_facts *f, struct status *s)
{
	if (f->topo.nnodes < 2)
		return; /* on one node, "no node" cannot be the wrong node */
	if (s->accel.gpus_nodeless)
		warn_add(&s->warnings, "accel",
			 "%zu of %zu GPUs report NUMA node -1: the host gave no affinity",
			 s->accel.gpus_nodeless, s->accel.gpus);
	if (s->accel.hcas_nodeless)
		warn_add(&s->warnings, "accel",
			 "%zu of %zu InfiniBand HCAs report NUMA node -1: the host gave no affinity",
			 s->accel.hcas_nodeless, s->accel.hcas);
}

static void check_nics(const struct vm_facts *f, struct status *s)
{
	bool synthetic = false;

	for (size_t i = 0; i < f->net.n; i++) {
		const struct nic_fact *n = &f->net.nics[i];

		synthetic |= nic_is_synthetic(n);
		/* An AN VF is a PCI NIC that netvsc enslaved (IFF_SLAVE, 0x800). */
		if (n->pci_addr[0] && n->flags >= 0 && (n->flags & 0x800) && !n->master[0])
			warn_add(&s->warnings, "net",
				 "VF %s is marked as a slave but has no synthetic NIC", n->name);
	}
	if (!synthetic && f->platform.hyperv == TRI_YES && f->net.n > 0)
		warn_add(&s->warnings, "net", "no synthetic (hv_netvsc) NIC");
}

static void check_agent(const struct vm_facts *f, struct status *s)
{
	const struct agent_facts *a = &f->agent;

	if (a->kvp_device == TRI_YES && a->kvp_holder_pid == 0)
		warn_add(&s->warnings, "kvp",
			 "no process holds the KVP device: the host sees Data Exchange as not responding");
	for (int i = 0; i < KVP_POOLS; i++)
		if (a->pools[i].exists && a->pools[i].bytes % KVP_RECORD_SIZE)
			warn_add(&s->warnings, "kvp",
				 "pool %d ends in a partial record (%lld bytes, records are %d)", i,
				 a->pools[i].bytes, KVP_RECORD_SIZE);
}

static void copy_fact_warnings(const struct vm_facts *f, struct status *s)
{
	for (size_t i = 0; i < f->warnings.n; i++)
		warn_add(&s->warnings, f->warnings.v[i].area, "%s", f->warnings.v[i].text);
	s->warnings.dropped += f->warnings.dropped;
}

void status_evaluate(const struct vm_facts *f, struct status *s)
{
	memset(s, 0, sizeof(*s));
	s->facts = f;
	check_platform(f, s); /* the deciding word comes first */
	copy_fact_warnings(f, s);
	summarize_vmbus(f, s);
	summarize_accel(f, s);
	if (!s->error) {
		check_topology(f, s);
		check_class_nodes(f, s);
		check_channel_cpus(f, s);
		check_channel_spread(f, s);
		check_accel(f, s);
		check_nics(f, s);
		check_agent(f, s);
	}
	status_verdict(s);
}

void status_verdict(struct status *s)
{
	if (s->error)
		s->exit_code = STATUS_ERROR;
	else
		s->exit_code = s->warnings.n || s->warnings.dropped ? STATUS_WARNINGS :
								      STATUS_HEALTHY;
}

void status_free(struct status *s)
{
	warnings_free(&s->warnings);
}
