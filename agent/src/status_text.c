// SPDX-License-Identifier: MIT
/* `azl-agent status`: one screen an operator reads in ten seconds. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "util.h"

#define LABEL "%-14s"
#define TEXT_WIDTH 100 /* columns the screen is laid out for */

/* A cpulist, cut to fit a line. */
static const char *cpus_str(const struct cpuset *s, char *buf, size_t len)
{
	if (cpuset_format_list(s, buf, len) < 0) {
		/* Too long for the line: say how many instead. */
		snprintf(buf, len, "%u CPUs", cpuset_count(s));
	}
	return buf[0] ? buf : "none";
}

static const char *tri_word(enum tri t)
{
	return t == TRI_YES ? "yes" : t == TRI_NO ? "no" : "unknown";
}

static void print_platform(const struct platform_facts *p, FILE *out)
{
	fprintf(out, LABEL "%s  (DMI %s / %s; VMBus %s; hypervisor flag %s", "Hyper-V guest",
		tri_word(p->hyperv), p->sys_vendor[0] ? p->sys_vendor : "unknown",
		p->product_name[0] ? p->product_name : "unknown",
		p->vmbus == TRI_YES ? "present" : "absent", tri_word(p->cpu_hypervisor));
	if (p->cpuid_vendor[0])
		fprintf(out, "; CPUID \"%s\"", p->cpuid_vendor);
	fprintf(out, ")\n");
	if (p->hyperv == TRI_YES) {
		fprintf(out, LABEL, "VM");
		fprintf(out, p->generation ? "Gen%d" : "Gen?", p->generation);
		fprintf(out, "  vmId %s  size %s\n", p->vm_id[0] ? p->vm_id : "unknown",
			p->vm_size[0] ? p->vm_size : "unknown");
	}
	fprintf(out, LABEL "%s\n", "Kernel", p->kernel[0] ? p->kernel : "unknown");
}

/* One line per state: "built-in: hv_vmbus hv_netvsc …", "absent: azl_vmbus …". */
static void print_modules(const struct vm_facts *f, FILE *out)
{
	static const enum module_state order[] = { MOD_LOADED, MOD_BUILTIN, MOD_ABSENT, MOD_UNKNOWN };
	const char *label = "Modules";

	for (size_t k = 0; k < ELEMENTSOF(order); k++) {
		bool any = false;

		for (size_t i = 0; i < f->nmodules; i++) {
			if (f->modules[i].state != order[k])
				continue;
			if (!any)
				fprintf(out, LABEL "%s:", label, module_state_name(order[k]));
			fprintf(out, " %s", f->modules[i].name);
			any = true;
			label = "";
		}
		if (any)
			fprintf(out, "\n");
	}
}

static void print_topology(const struct topology_facts *t, FILE *out)
{
	char buf[256];

	if (!t->known) {
		fprintf(out, LABEL "unknown\n", "Topology");
		return;
	}
	fprintf(out, LABEL "%u CPUs online (%s)", "Topology", cpuset_count(&t->online),
		cpus_str(&t->online, buf, sizeof(buf)));
	if (!t->numa_known)
		fprintf(out, ", NUMA nodes unknown\n");
	else if (t->nnodes == 0)
		fprintf(out, ", no NUMA\n");
	else
		fprintf(out, ", %zu NUMA node%s\n", t->nnodes, t->nnodes == 1 ? "" : "s");
	for (size_t i = 0; i < t->nnodes && i < 8; i++)
		fprintf(out, LABEL "node %d: %s (%u CPUs)\n", "", t->nodes[i].id,
			cpus_str(&t->nodes[i].cpus, buf, sizeof(buf)),
			cpuset_count(&t->nodes[i].cpus));
	if (!cpuset_empty(&t->isolated))
		fprintf(out, LABEL "isolated: %s\n", "", cpus_str(&t->isolated, buf, sizeof(buf)));
}

static void print_class(const struct class_summary *c, FILE *out)
{
	char buf[64];

	fprintf(out, "  %-11s%3zu device%s %4zu channel%s  CPUs %s", c->kind, c->devices,
		c->devices == 1 ? " " : "s", c->channels, c->channels == 1 ? " " : "s",
		cpus_str(&c->cpus, buf, sizeof(buf)));
	for (size_t n = 0; n < STATUS_MAX_NODES; n++)
		if (c->on_node[n])
			fprintf(out, "  node%zu: %zu", n, c->on_node[n]);
	fprintf(out, "\n");
}

static void print_vmbus(const struct status *s, FILE *out)
{
	const struct vm_facts *f = s->facts;
	struct cpuset other_cpus;
	size_t other = 0;
	char buf[64];
	int col, start;

	if (f->platform.vmbus != TRI_YES)
		return;
	fprintf(out, LABEL "%zu devices, channels on %u CPUs (read from %s)\n", "VMBus",
		f->vmbus.n, cpuset_count(&s->channel_cpus), f->vmbus.source);
	cpuset_zero(&other_cpus);
	for (size_t i = 0; i < s->nclasses; i++) {
		const struct class_summary *c = &s->classes[i];

		if (c->perf) {
			print_class(c, out);
			continue;
		}
		other += c->devices;
		for (int cpu = 0; cpu <= cpuset_last(&c->cpus); cpu++)
			if (cpuset_has(&c->cpus, (unsigned int)cpu))
				cpuset_set(&other_cpus, (unsigned int)cpu);
	}
	if (!other)
		return;
	col = fprintf(out, "  %-11s%3zu devices on CPU%s %s:", "other", other,
		      cpuset_count(&other_cpus) == 1 ? "" : "s",
		      cpus_str(&other_cpus, buf, sizeof(buf)));
	start = col;
	for (size_t i = 0; i < s->nclasses; i++) {
		const struct class_summary *c = &s->classes[i];
		char word[48];
		int n;

		if (c->perf)
			continue;
		n = snprintf(word, sizeof(word), c->devices > 1 ? " %s×%zu" : " %s", c->kind,
			     c->devices);
		if (col + n > TEXT_WIDTH) /* wrap under the list, not past the screen */
			col = fprintf(out, "\n%*s", start, "") - 1;
		col += fprintf(out, "%s", word);
	}
	fprintf(out, "\n");
}

/* "eth0 hv_netvsc <mac>  accelerated networking: on", its VF on the next line. */
static void print_nics(const struct nic_facts *nf, FILE *out)
{
	const char *label = "NICs";
	bool any = false;

	for (size_t i = 0; i < nf->n; i++) {
		const struct nic_fact *n = &nf->nics[i], *vf;

		if (n->is_vf)
			continue; /* shown with its synthetic NIC */
		any = true;
		fprintf(out, LABEL "%s %s %s", label, n->name, n->driver[0] ? n->driver : "virtual",
			n->mac);
		label = "";
		if (!nic_is_synthetic(n)) {
			fprintf(out, "\n");
			continue;
		}
		fprintf(out, "  accelerated networking: %s\n", n->vf[0] ? "on" : "off");
		if (!n->vf[0])
			continue;
		vf = nic_find(nf, n->vf);
		fprintf(out, LABEL "  VF %s %s PCI %s\n", "", n->vf,
			vf && vf->driver[0] ? vf->driver : "(no driver)",
			vf && vf->pci_addr[0] ? vf->pci_addr : "unknown");
	}
	if (!any)
		fprintf(out, LABEL "none\n", "NICs");
}

/* vPCI gives every device a PCI domain of its own: then the domain names it. */
static bool domains_unique(const struct pci_facts *p, enum pci_kind kind)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = i + 1; k < p->n; k++)
			if (p->devs[i].kind == kind && p->devs[k].kind == kind &&
			    strncmp(p->devs[i].addr, p->devs[k].addr, 5) == 0)
				return false;
	return true;
}

/* "8 GPUs (PCI domain)  node 0: 0001 0002 …  node 1: …" — grouped by node. */
static void print_accel_kind(const struct pci_facts *p, enum pci_kind kind,
			     const char *label, size_t count, FILE *out)
{
	long nodes[STATUS_MAX_NODES + 2];
	bool by_domain = domains_unique(p, kind);
	size_t nn = 0;

	if (!count)
		return;
	for (size_t i = 0; i < p->n; i++) {
		long nd = p->devs[i].numa_node;
		bool seen = false;

		if (p->devs[i].kind != kind)
			continue;
		for (size_t k = 0; k < nn; k++)
			seen |= nodes[k] == nd;
		if (!seen && nn < ELEMENTSOF(nodes))
			nodes[nn++] = nd;
	}
	fprintf(out, LABEL "%zu %s%s (PCI %s)", label, count, kind == PCI_GPU ? "GPU" : "HCA",
		count == 1 ? "" : "s", by_domain ? "domain" : "address");
	for (size_t k = 0; k < nn; k++) {
		if (nodes[k] == LONG_MIN)
			fprintf(out, "  node ?:");
		else
			fprintf(out, "  node %ld%s:", nodes[k], nodes[k] == -1 ? " (none!)" : "");
		for (size_t i = 0; i < p->n; i++)
			if (p->devs[i].kind == kind && p->devs[i].numa_node == nodes[k])
				fprintf(out, " %.*s", by_domain ? 4 : (int)sizeof(p->devs[i].addr),
					p->devs[i].addr);
	}
	fprintf(out, "\n");
}

static void print_accel(const struct status *s, FILE *out)
{
	const struct pci_facts *p = &s->facts->pci;

	if (!s->accel.gpus && !s->accel.hcas)
		return;
	print_accel_kind(p, PCI_GPU, "Accelerators", s->accel.gpus, out);
	print_accel_kind(p, PCI_HCA, s->accel.gpus ? "" : "Accelerators", s->accel.hcas, out);
}

static void print_agent(const struct agent_facts *a, FILE *out)
{
	fprintf(out, LABEL, "Agent");
	if (a->provisioned == TRI_YES)
		fprintf(out, "provisioned %s", a->provisioned_at);
	else
		fprintf(out, "provisioned: %s", tri_word(a->provisioned));
	if (a->kvp_device != TRI_YES)
		fprintf(out, "; no KVP device");
	else if (a->kvp_holder_pid > 0)
		fprintf(out, "; KVP device held by %s (pid %ld)",
			a->kvp_holder_comm[0] ? a->kvp_holder_comm : "?", a->kvp_holder_pid);
	else if (a->kvp_holder_pid == 0)
		fprintf(out, "; KVP device held by nobody");
	else
		fprintf(out, "; KVP device holder unknown (needs root)");
	fprintf(out, "\n" LABEL "KVP pool records:", "");
	for (int i = 0; i < KVP_POOLS; i++) {
		if (a->pools[i].exists)
			fprintf(out, " %d:%lld%s", i, a->pools[i].bytes / KVP_RECORD_SIZE,
				a->pools[i].bytes % KVP_RECORD_SIZE ? "+partial" : "");
		else
			fprintf(out, " %d:-", i);
	}
	fprintf(out, "\n");
}

static void print_verdict(const struct status *s, FILE *out)
{
	if (s->exit_code == STATUS_HEALTHY)
		fprintf(out, LABEL "healthy\n", "Verdict");
	else if (s->exit_code == STATUS_ERROR)
		fprintf(out, LABEL "error\n", "Verdict");
	else
		fprintf(out, LABEL "%zu warning%s\n", "Verdict", s->warnings.n + s->warnings.dropped,
			s->warnings.n + s->warnings.dropped == 1 ? "" : "s");
	for (size_t i = 0; i < s->warnings.n; i++)
		fprintf(out, "  ! %s: %s\n", s->warnings.v[i].area, s->warnings.v[i].text);
	if (s->warnings.dropped)
		fprintf(out, "  ! … and %zu more (see --json)\n", s->warnings.dropped);
}

/* "Placement  NUMA-local score 98%; 149 moves would make it 100% (affinity plan)" */
static void print_placement(const struct placement_summary *p, FILE *out)
{
	if (!p->known) {
		if (p->error[0])
			fprintf(out, LABEL "unknown: %s\n", "Placement", p->error);
		return;
	}
	fprintf(out, LABEL "NUMA-local score %u%%", "Placement", p->score);
	if (p->moves)
		fprintf(out, "; %u move%s would make it %u%% (azl-agent affinity plan)\n", p->moves,
			p->moves == 1 ? "" : "s", p->planned_score);
	else
		fprintf(out, "; nothing to move\n");
	if (p->sku)
		fprintf(out, LABEL "SKU policy %s (%s)\n", "", p->sku,
			strcmp(p->sku_source, "imds") == 0 ? "from vmSize" : "recognised from the topology");
}

/* "  azl_storvsc: timeout 300 s …" or "the kernel's" for a knob at 0. */
static void print_knob(FILE *out, const char *name, uint32_t v, const char *unit)
{
	if (v)
		fprintf(out, "%s %u%s", name, v, unit);
	else
		fprintf(out, "%s the kernel's", name);
}

static void print_kmods(const struct kmod_summary *k, FILE *out)
{
	static const char *const sources[] = { "from the host", "from the table", "none",
					       "not the table's, driver bound first",
					       "decided when a driver binds" };
	const char *label = "Module policy";

	if (k->storvsc) {
		fprintf(out, LABEL "azl_storvsc: ", label);
		print_knob(out, "timeout", k->storvsc_timeout, " s");
		print_knob(out, ", eh_timeout", k->storvsc_eh_timeout, " s");
		print_knob(out, ", queue_depth", k->storvsc_queue_depth, "");
		fprintf(out, "; %zu rule%s; %zu disk%s\n", k->storvsc_rules,
			k->storvsc_rules == 1 ? "" : "s", k->storvsc_disks,
			k->storvsc_disks == 1 ? "" : "s");
		label = "";
	}
	if (k->netvsc) {
		fprintf(out, LABEL "azl_netvsc: ", label);
		print_knob(out, "channels", k->netvsc_channels, "");
		fprintf(out, " (allowed here:");
		for (size_t i = 0; i < k->netvsc_nallowed; i++)
			fprintf(out, " %u", k->netvsc_allowed[i]);
		fprintf(out, "), xps %s, vf_xps %s; %zu NIC%s, %zu VF%s\n", k->netvsc_xps ? "on" : "off",
			k->netvsc_vf_xps ? "on" : "off", k->netvsc_nics, k->netvsc_nics == 1 ? "" : "s",
			k->netvsc_vfs, k->netvsc_vfs == 1 ? "" : "s");
		label = "";
	}
	if (k->accel) {
		fprintf(out, LABEL "azl_accel: %zu PCI domain%s in the NUMA table; %zu device%s", label,
			k->accel_table, k->accel_table == 1 ? "" : "s", k->accel_devices,
			k->accel_devices == 1 ? "" : "s");
		for (size_t i = 0; i < ELEMENTSOF(sources); i++)
			if (k->accel_by_source[i])
				fprintf(out, ", %zu node %s", k->accel_by_source[i], sources[i]);
		fprintf(out, "\n");
	}
}

static int print_screen(const struct status *s, const char *root_name, FILE *out)
{
	const struct vm_facts *f = s->facts;

	if (strcmp(root_name, "/") != 0)
		fprintf(out, LABEL "%s\n", "Root", root_name);
	print_platform(&f->platform, out);
	if (f->platform.hyperv == TRI_YES) {
		print_modules(f, out);
		print_topology(&f->topo, out);
		print_vmbus(s, out);
		print_nics(&f->net, out);
		print_accel(s, out);
		print_placement(&s->placement, out);
		print_agent(&f->agent, out);
	}
	/* Outside the Hyper-V block: the kernel tests load them on stand-ins. */
	print_kmods(&s->kmods, out);
	print_verdict(s, out);
	return ferror(out) ? -1 : 0;
}

/*
 * Every string on the screen came from files an attacker may control (DMI,
 * process names, interface names): render into memory, then let no control
 * character but the newline reach the terminal.
 */
int status_print_text(const struct status *s, const char *root_name, FILE *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ret;

	if (!mem)
		return -1;
	ret = print_screen(s, root_name, mem);
	if (fclose(mem) != 0)
		ret = -1;
	for (size_t i = 0; ret == 0 && i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			buf[i] = '?';
	}
	if (ret == 0 && fwrite(buf, 1, len, out) != len)
		ret = -1;
	free(buf);
	return ret;
}
