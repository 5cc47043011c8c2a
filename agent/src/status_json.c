// SPDX-License-Identifier: MIT
/*
 * `status --json`: the same content as the text screen in a stable schema
 * (documented in agent/README.md, "status --json schema").  Unknown values
 * are JSON null, never a made-up default.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "status.h"
#include "util.h"

#define STATUS_SCHEMA_VERSION 1

static struct json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static struct json_object *tri_json(enum tri t)
{
	return t == TRI_UNKNOWN ? NULL : json_object_new_boolean(t == TRI_YES);
}

static struct json_object *long_or_null(long v)
{
	return v == LONG_MIN ? NULL : json_object_new_int64(v);
}

static struct json_object *cpulist_json(const struct cpuset *s)
{
	char buf[4096];

	if (cpuset_format_list(s, buf, sizeof(buf)) < 0)
		return NULL;
	return json_object_new_string(buf);
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *platform_json(const struct platform_facts *p)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	add(o, "hyperv", tri_json(p->hyperv));
	add(e, "dmi", tri_json(p->dmi_hyperv));
	add(e, "vmbus", tri_json(p->vmbus));
	add(e, "cpu_hypervisor_flag", tri_json(p->cpu_hypervisor));
	add(e, "cpuid_vendor", str_or_null(p->cpuid_vendor));
	add(o, "evidence", e);
	add(o, "sys_vendor", str_or_null(p->sys_vendor));
	add(o, "product_name", str_or_null(p->product_name));
	add(o, "generation", p->generation ? json_object_new_int(p->generation) : NULL);
	add(o, "vm_id", str_or_null(p->vm_id));
	add(o, "vm_size", str_or_null(p->vm_size));
	add(o, "vm_size_source", str_or_null(p->vm_size_source));
	add(o, "kernel", str_or_null(p->kernel));
	return o;
}

static struct json_object *modules_json(const struct vm_facts *f)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < f->nmodules; i++)
		add(o, f->modules[i].name,
		    json_object_new_string(module_state_name(f->modules[i].state)));
	return o;
}

static struct json_object *topology_json(const struct topology_facts *t)
{
	struct json_object *o = json_object_new_object(), *nodes;

	add(o, "cpus_online", t->known ? cpulist_json(&t->online) : NULL);
	add(o, "cpu_count", t->known ? json_object_new_int((int)cpuset_count(&t->online)) : NULL);
	add(o, "cpus_possible", t->known ? cpulist_json(&t->possible) : NULL);
	add(o, "cpus_isolated", cpulist_json(&t->isolated));
	add(o, "cpus_nohz_full", cpulist_json(&t->nohz_full));
	nodes = t->numa_known ? json_object_new_array() : NULL;
	for (size_t i = 0; nodes && i < t->nnodes; i++) {
		struct json_object *n = json_object_new_object();

		add(n, "node", json_object_new_int(t->nodes[i].id));
		add(n, "cpus", cpulist_json(&t->nodes[i].cpus));
		add(n, "cpu_count", json_object_new_int((int)cpuset_count(&t->nodes[i].cpus)));
		json_object_array_add(nodes, n);
	}
	add(o, "nodes", nodes);
	return o;
}

static struct json_object *class_json(const struct class_summary *c)
{
	struct json_object *o = json_object_new_object(), *per = json_object_new_object();
	char key[16];

	add(o, "kind", json_object_new_string(c->kind));
	add(o, "description", json_object_new_string(c->description));
	add(o, "perf", json_object_new_boolean(c->perf));
	add(o, "devices", json_object_new_int64((int64_t)c->devices));
	add(o, "channels", json_object_new_int64((int64_t)c->channels));
	add(o, "cpus", cpulist_json(&c->cpus));
	for (size_t n = 0; n < STATUS_MAX_NODES; n++) {
		if (!c->on_node[n])
			continue;
		snprintf(key, sizeof(key), "%zu", n);
		add(per, key, json_object_new_int64((int64_t)c->on_node[n]));
	}
	add(o, "channels_per_node", per);
	return o;
}

static struct json_object *device_json(const struct vmbus_device_fact *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ch = d->channels_known ? json_object_new_array() : NULL;

	add(o, "instance", json_object_new_string(d->instance));
	add(o, "class_id", str_or_null(d->class_id));
	add(o, "kind", json_object_new_string(d->cls ? d->cls->kind : "unknown"));
	add(o, "relid", d->relid >= 0 ? json_object_new_int64(d->relid) : NULL);
	add(o, "numa_node", long_or_null(d->numa_node));
	add(o, "driver", str_or_null(d->driver));
	for (size_t k = 0; k < d->nchannels; k++) {
		struct json_object *c = json_object_new_object();

		add(c, "relid", json_object_new_int64(d->channels[k].relid));
		add(c, "cpu", json_object_new_int64(d->channels[k].cpu));
		json_object_array_add(ch, c);
	}
	add(o, "channels", ch);
	return o;
}

static struct json_object *vmbus_json(const struct status *s)
{
	const struct vm_facts *f = s->facts;
	struct json_object *o = json_object_new_object();
	struct json_object *classes = json_object_new_array(), *devs = json_object_new_array();

	add(o, "present", tri_json(f->platform.vmbus));
	add(o, "source", str_or_null(f->vmbus.source));
	add(o, "device_count", json_object_new_int64((int64_t)f->vmbus.n));
	add(o, "channel_cpus", cpulist_json(&s->channel_cpus));
	for (size_t i = 0; i < s->nclasses; i++)
		json_object_array_add(classes, class_json(&s->classes[i]));
	add(o, "classes", classes);
	for (size_t i = 0; i < f->vmbus.n; i++)
		json_object_array_add(devs, device_json(&f->vmbus.devs[i]));
	add(o, "devices", devs);
	return o;
}

static struct json_object *nics_json(const struct nic_facts *nf)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < nf->n; i++) {
		const struct nic_fact *n = &nf->nics[i];
		const struct nic_fact *vf = n->vf[0] ? nic_find(nf, n->vf) : NULL;
		struct json_object *o = json_object_new_object();
		bool synthetic = nic_is_synthetic(n);

		add(o, "name", json_object_new_string(n->name));
		add(o, "driver", str_or_null(n->driver));
		add(o, "mac", str_or_null(n->mac));
		add(o, "role", json_object_new_string(synthetic ? "synthetic" :
						      n->is_vf ? "vf" : "other"));
		add(o, "pci", str_or_null(n->pci_addr));
		add(o, "master", str_or_null(n->master));
		add(o, "vf", str_or_null(n->vf));
		add(o, "vf_driver", vf ? str_or_null(vf->driver) : NULL);
		add(o, "vf_pci", vf ? str_or_null(vf->pci_addr) : NULL);
		add(o, "accelerated_networking",
		    synthetic ? json_object_new_boolean(n->vf[0] != '\0') : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *accel_json(const struct pci_facts *p)
{
	struct json_object *a = json_object_new_array();
	char id[8];

	for (size_t i = 0; i < p->n; i++) {
		const struct pci_fact *d = &p->devs[i];
		struct json_object *o;

		if (d->kind != PCI_GPU && d->kind != PCI_HCA)
			continue;
		o = json_object_new_object();
		add(o, "kind", json_object_new_string(pci_kind_name(d->kind)));
		add(o, "pci", json_object_new_string(d->addr));
		snprintf(id, sizeof(id), "%04x", d->vendor);
		add(o, "vendor", json_object_new_string(id));
		snprintf(id, sizeof(id), "%04x", d->device);
		add(o, "device", json_object_new_string(id));
		add(o, "numa_node", long_or_null(d->numa_node));
		add(o, "driver", str_or_null(d->driver));
		add(o, "vpci", json_object_new_boolean(d->vpci));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *agent_json(const struct agent_facts *a)
{
	struct json_object *o = json_object_new_object(), *pools = json_object_new_array();
	struct json_object *holder = NULL;

	add(o, "provisioned", tri_json(a->provisioned));
	add(o, "provisioned_at", str_or_null(a->provisioned_at));
	add(o, "kvp_device", tri_json(a->kvp_device));
	add(o, "kvp_holder_known", json_object_new_boolean(a->kvp_holder_pid >= 0));
	if (a->kvp_holder_pid > 0) {
		holder = json_object_new_object();
		add(holder, "pid", json_object_new_int64(a->kvp_holder_pid));
		add(holder, "comm", str_or_null(a->kvp_holder_comm));
	}
	add(o, "kvp_holder", holder);
	for (int i = 0; i < KVP_POOLS; i++) {
		struct json_object *p = json_object_new_object();

		add(p, "pool", json_object_new_int(i));
		add(p, "exists", json_object_new_boolean(a->pools[i].exists));
		add(p, "bytes", a->pools[i].exists ? json_object_new_int64(a->pools[i].bytes) : NULL);
		add(p, "records", a->pools[i].exists ?
			json_object_new_int64(a->pools[i].bytes / KVP_RECORD_SIZE) : NULL);
		add(p, "partial_bytes", a->pools[i].exists ?
			json_object_new_int64(a->pools[i].bytes % KVP_RECORD_SIZE) : NULL);
		json_object_array_add(pools, p);
	}
	add(o, "kvp_pools", pools);
	return o;
}

static struct json_object *irqs_json(const struct irq_facts *i)
{
	struct json_object *o = json_object_new_object();

	add(o, "known", json_object_new_boolean(i->known));
	add(o, "device_irqs", i->known ? json_object_new_int64((int64_t)i->device_irqs) : NULL);
	add(o, "vmbus_interrupt_cpus", i->known && i->hyp_line ? cpulist_json(&i->hyp_cpus) : NULL);
	return o;
}

/* null on a machine the planner was not asked about (not Hyper-V). */
static struct json_object *placement_json(const struct placement_summary *p)
{
	struct json_object *o;

	if (!p->known && !p->error[0])
		return NULL;
	o = json_object_new_object();
	add(o, "known", json_object_new_boolean(p->known));
	if (!p->known) {
		add(o, "error", json_object_new_string(p->error));
		return o;
	}
	add(o, "score", json_object_new_int((int)p->score));
	add(o, "planned_score", json_object_new_int((int)p->planned_score));
	add(o, "moves", json_object_new_int((int)p->moves));
	add(o, "sku", str_or_null(p->sku));
	add(o, "sku_source", json_object_new_string(p->sku_source));
	return o;
}

/*
 * null under --root (a tree has no kernel to ask); then null for each
 * module that is not loaded.
 */
static struct json_object *kmods_json(const struct kmod_summary *k)
{
	static const char *const sources[] = { "host", "table", "none", "late", "pending" };
	struct json_object *o, *m = NULL, *a;

	if (!k->asked)
		return NULL;
	o = json_object_new_object();
	if (k->storvsc) {
		m = json_object_new_object();
		add(m, "timeout", json_object_new_int64(k->storvsc_timeout));
		add(m, "eh_timeout", json_object_new_int64(k->storvsc_eh_timeout));
		add(m, "queue_depth", json_object_new_int64(k->storvsc_queue_depth));
		add(m, "rules", json_object_new_int64((int64_t)k->storvsc_rules));
		add(m, "disks", json_object_new_int64((int64_t)k->storvsc_disks));
	}
	add(o, "azl_storvsc", m);
	m = NULL;
	if (k->netvsc) {
		m = json_object_new_object();
		add(m, "channels", json_object_new_int64(k->netvsc_channels));
		a = json_object_new_array();
		for (size_t i = 0; i < k->netvsc_nallowed; i++)
			json_object_array_add(a, json_object_new_int64(k->netvsc_allowed[i]));
		add(m, "allowed_channels", a);
		add(m, "xps", json_object_new_boolean(k->netvsc_xps));
		add(m, "vf_xps", json_object_new_boolean(k->netvsc_vf_xps));
		add(m, "nics", json_object_new_int64((int64_t)k->netvsc_nics));
		add(m, "vfs", json_object_new_int64((int64_t)k->netvsc_vfs));
	}
	add(o, "azl_netvsc", m);
	m = NULL;
	if (k->accel) {
		m = json_object_new_object();
		add(m, "table_domains", json_object_new_int64((int64_t)k->accel_table));
		add(m, "devices", json_object_new_int64((int64_t)k->accel_devices));
		a = json_object_new_object();
		for (size_t i = 0; i < ELEMENTSOF(sources); i++)
			add(a, sources[i], json_object_new_int64((int64_t)k->accel_by_source[i]));
		add(m, "node_source", a);
	}
	add(o, "azl_accel", m);
	return o;
}

static struct json_object *warnings_json(const struct warnings *w)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < w->n; i++) {
		struct json_object *o = json_object_new_object();

		add(o, "area", json_object_new_string(w->v[i].area));
		add(o, "message", json_object_new_string(w->v[i].text));
		json_object_array_add(a, o);
	}
	return a;
}

static const char *health_name(enum status_exit e)
{
	return e == STATUS_HEALTHY ? "healthy" : e == STATUS_WARNINGS ? "warnings" : "error";
}

int status_print_json(const struct status *s, FILE *out)
{
	const struct vm_facts *f = s->facts;
	struct json_object *o = json_object_new_object();
	int ret;

	add(o, "schema_version", json_object_new_int(STATUS_SCHEMA_VERSION));
	add(o, "health", json_object_new_string(health_name(s->exit_code)));
	add(o, "exit_status", json_object_new_int(s->exit_code));
	add(o, "platform", platform_json(&f->platform));
	add(o, "modules", modules_json(f));
	add(o, "topology", topology_json(&f->topo));
	add(o, "vmbus", vmbus_json(s));
	add(o, "nics", nics_json(&f->net));
	add(o, "accelerators", accel_json(&f->pci));
	add(o, "agent", agent_json(&f->agent));
	add(o, "interrupts", irqs_json(&f->irqs));
	add(o, "placement", placement_json(&s->placement));
	add(o, "module_policy", kmods_json(&s->kmods));
	add(o, "warnings", warnings_json(&s->warnings));
	add(o, "warnings_dropped", json_object_new_int64((int64_t)s->warnings.dropped));
	ret = fprintf(out, "%s\n",
		      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ret < 0 ? -1 : 0;
}
