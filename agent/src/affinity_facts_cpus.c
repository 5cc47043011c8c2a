// SPDX-License-Identifier: MIT
/*
 * affinity_gather(), the CPUs: which are online and possible, their cores
 * and NUMA nodes, and which the kernel keeps interrupts off (isolated,
 * nohz_full, isolcpus=managed_irq).  Also the CPU set reader every part
 * uses: a list or mask that names a CPU the machine cannot have is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity_facts_internal.h"
#include "kernel_cmdline.h"
#include "util.h"

#define CPU_DIR "devices/system/cpu"
#define NODE_DIR "devices/system/node"
#define CPUFILE_MAX 4096 /* a cpulist or mask of 8192 CPUs fits */

/* ---- CPU sets ---------------------------------------------------------- */

/* The lowest member of a that b lacks, or -1. */
static int first_outside(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < CPUSET_WORDS; i++) {
		uint64_t x = a->w[i] & ~b->w[i];

		if (x)
			return (int)(i * 64 + (size_t)__builtin_ctzll(x));
	}
	return -1;
}

/* See affinity_facts_internal.h. */
int gather_read_cpus(struct gather *g, const struct sys_dir *h, const char *name,
		     enum cpu_format fmt, bool optional, struct cpuset *out)
{
	char buf[CPUFILE_MAX], what[64];
	int ret, bad;

	cpuset_zero(out);
	ret = sys_dir_read_text(h, name, buf, sizeof(buf));
	if (ret == -ENOENT && optional)
		return 1;
	if (ret < 0)
		return gather_fail_at(g, ret, h, name, NULL);
	/* nohz_full reads "(null)" on kernels built with it but booted without. */
	if (strcmp(buf, "(null)") == 0)
		return 0;
	ret = fmt == CPU_LIST ? cpuset_parse_list(buf, out) : cpuset_parse_mask(buf, out);
	if (ret == -ERANGE)
		return gather_fail_at(g, ret, h, name, "CPU number out of range");
	if (ret < 0)
		return gather_fail_at(g, ret, h, name,
				      fmt == CPU_LIST ? "not a CPU list" : "not a CPU mask");
	bad = first_outside(out, &g->possible);
	if (bad >= 0) {
		snprintf(what, sizeof(what), "CPU %d is not a possible CPU", bad);
		return gather_fail_at(g, -ERANGE, h, name, what);
	}
	return 0;
}

/* "isolated 2-3, nohz_full 4": the online CPUs of s under a label. */
static void why_append(char *buf, size_t len, const char *label, const struct cpuset *s,
		       const struct cpuset *online)
{
	struct cpuset x;
	char list[48];
	size_t used = strlen(buf);

	for (size_t i = 0; i < CPUSET_WORDS; i++)
		x.w[i] = s->w[i] & online->w[i];
	if (cpuset_empty(&x) || used >= len)
		return;
	if (cpuset_format_list(&x, list, sizeof(list)) < 0)
		snprintf(list, sizeof(list), "(%u CPUs)", cpuset_count(&x));
	snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", label, list);
}

/* ---- CPUs and nodes ---------------------------------------------------- */

/* isolcpus=[flag,…]<cpulist>: adds the CPUs to managed when a flag is managed_irq. */
static int parse_isolcpus(const char *v, struct cpuset *managed)
{
	struct cpuset cpus;
	bool has_managed = false;
	const char *p = v;
	int ret;

	while (isalpha((unsigned char)*p)) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 11 && strncmp(p, "managed_irq", n) == 0)
			has_managed = true;
		else if (!(n == 4 && strncmp(p, "nohz", n) == 0) &&
			 !(n == 6 && strncmp(p, "domain", n) == 0))
			return -EINVAL;
		if (!e)
			return -EINVAL; /* flags but no CPU list */
		p = e + 1;
	}
	if (!*p)
		return -EINVAL;
	ret = cpuset_parse_list(p, &cpus);
	if (ret < 0)
		return ret;
	if (has_managed)
		for (size_t i = 0; i < CPUSET_WORDS; i++)
			managed->w[i] |= cpus.w[i];
	return 0;
}

/*
 * The kernel keeps managed IRQs and VMBus channels off the CPUs of
 * isolcpus=managed_irq,…; cpu/isolated shows only the "domain" ones.
 */
static int read_cmdline(struct gather *g, struct cpuset *managed)
{
	_cleanup_free_ char *text = NULL;
	struct cmdline_param p;
	int ret;

	cpuset_zero(managed);
	ret = root_read_all(g->r, ROOT_PROC, &text, NULL, "cmdline");
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return gather_failf(g, ret, "%s/cmdline: %s", root_dir_name(ROOT_PROC),
				    gather_why(ret));
	for (const char *pos = text; cmdline_next(&pos, &p);) {
		_cleanup_free_ char *v = NULL;

		if (!cmdline_param_is(&p, "isolcpus") || !p.value)
			continue;
		v = strndup(p.value, p.value_len);
		if (!v)
			return gather_failf(g, -ENOMEM, "%s/cmdline: %s", root_dir_name(ROOT_PROC),
					    gather_why(-ENOMEM));
		if (parse_isolcpus(v, managed) < 0)
			return gather_failf(g, -EBADMSG, "%s/cmdline: malformed isolcpus=%.40s",
					    root_dir_name(ROOT_PROC), v);
	}
	/* The kernel ignores CPUs it does not have; so do we. */
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		managed->w[i] &= g->possible.w[i];
	return 0;
}

static int read_online(struct gather *g, const struct sys_dir *cpu)
{
	int ret, bad;

	/* Checked against possible below: every CPU is possible until then. */
	memset(&g->possible, 0xff, sizeof(g->possible));
	ret = gather_read_cpus(g, cpu, "online", CPU_LIST, false, &g->online);
	if (ret < 0)
		return ret;
	if (cpuset_empty(&g->online))
		return gather_fail_at(g, -EBADMSG, cpu, "online", "no CPU online");
	ret = gather_read_cpus(g, cpu, "possible", CPU_LIST, true, &g->possible);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		g->possible = g->online;
		return 0;
	}
	bad = first_outside(&g->online, &g->possible);
	if (bad >= 0) {
		char what[64];

		snprintf(what, sizeof(what), "CPU %d is not possible", bad);
		return gather_fail_at(g, -EBADMSG, cpu, "online", what);
	}
	return 0;
}

static int read_siblings(struct gather *g, const struct sys_dir *cpu, struct aff_cpu *c)
{
	struct cpuset sib;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "cpu%u/topology/thread_siblings_list", c->id);
	ret = gather_read_cpus(g, cpu, name, CPU_LIST, true, &sib);
	if (ret < 0)
		return ret;
	c->thread = 0;
	if (ret == 1) {
		c->core = c->id; /* no topology: every CPU is its own core */
		return 0;
	}
	if (!cpuset_has(&sib, c->id))
		return gather_fail_at(g, -EBADMSG, cpu, name, "does not list the CPU itself");
	c->core = (unsigned int)first_cpu(&sib);
	for (unsigned int s = c->core; s < c->id; s++)
		c->thread += cpuset_has(&sib, s);
	return 0;
}

/* One nodeN/cpulist: its online CPUs get the node. */
static int read_node(struct gather *g, const struct sys_dir *nodes, const char *name, long id,
		     struct cpuset *seen)
{
	struct aff_input *in = g->in;
	struct cpuset cpus;
	char rel[64];
	int ret;

	snprintf(rel, sizeof(rel), "%s/cpulist", name);
	ret = gather_read_cpus(g, nodes, rel, CPU_LIST, false, &cpus);
	if (ret < 0)
		return ret;
	for (int c = first_cpu(&cpus); c >= 0; c = first_cpu(&cpus)) {
		int k = g->cpu_index[c];

		cpus.w[c / 64] &= ~(UINT64_C(1) << (c % 64));
		if (k < 0)
			continue; /* offline */
		if (in->cpus[k].node >= 0) {
			char what[64];

			snprintf(what, sizeof(what), "CPU %d is also in node %d", c,
				 in->cpus[k].node);
			return gather_fail_at(g, -EBADMSG, nodes, rel, what);
		}
		in->cpus[k].node = (int)id;
		if (!cpuset_has(seen, (unsigned int)id)) {
			cpuset_set(seen, (unsigned int)id);
			in->nnodes++;
		}
	}
	return 0;
}

static int read_nodes(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sys_dir nodes = SYS_DIR_INIT;
	struct cpuset seen;
	char **names = NULL;
	size_t n = 0;
	bool any = false;
	int ret;

	cpuset_zero(&seen);
	ret = sys_dir_open(g->r, ROOT_SYS, &nodes, NODE_DIR);
	if (ret == 0)
		ret = sys_dir_list(&nodes, ".", &names, &n);
	if (ret == -ENOENT)
		ret = 0; /* CONFIG_NUMA=n */
	else if (ret < 0)
		ret = gather_fail_at(g, ret, &nodes, NULL, NULL);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		long id;

		if (strncmp(names[i], "node", 4) != 0 || !isdigit((unsigned char)names[i][4]) ||
		    parse_long(names[i] + 4, &id) < 0)
			continue; /* online, possible, has_cpu, power … */
		if (id > AFF_MAX_NODE)
			ret = gather_fail_at(g, -ERANGE, &nodes, names[i],
					     "node number out of range");
		else
			ret = read_node(g, &nodes, names[i], id, &seen);
		any = true;
	}
	strv_free(names, n);
	sys_dir_close(&nodes);
	if (ret < 0)
		return ret;
	if (!any) {
		/* A kernel without NUMA: one node that holds every CPU. */
		for (size_t i = 0; i < in->ncpus; i++)
			in->cpus[i].node = 0;
		in->nnodes = 1;
	}
	return 0;
}

static int read_exclusions(struct gather *g, const struct sys_dir *cpu)
{
	struct aff_input *in = g->in;
	struct cpuset isolated, nohz, managed;
	int ret;

	ret = gather_read_cpus(g, cpu, "isolated", CPU_LIST, true, &isolated);
	if (ret >= 0)
		ret = gather_read_cpus(g, cpu, "nohz_full", CPU_LIST, true, &nohz);
	if (ret >= 0)
		ret = read_cmdline(g, &managed);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		in->excluded.w[i] = (isolated.w[i] | nohz.w[i] | managed.w[i]) & g->online.w[i];
	for (size_t i = 0; i < in->ncpus; i++)
		in->cpus[i].allowed = !cpuset_has(&in->excluded, in->cpus[i].id);
	in->excluded_why[0] = '\0';
	why_append(in->excluded_why, sizeof(in->excluded_why), "isolated", &isolated, &g->online);
	why_append(in->excluded_why, sizeof(in->excluded_why), "nohz_full", &nohz, &g->online);
	why_append(in->excluded_why, sizeof(in->excluded_why), "isolcpus managed_irq", &managed,
		   &g->online);
	return 0;
}

int gather_cpus(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sys_dir cpu = SYS_DIR_INIT;
	size_t k = 0;
	int ret;

	ret = sys_dir_open(g->r, ROOT_SYS, &cpu, CPU_DIR);
	if (ret < 0)
		return gather_fail_at(g, ret, &cpu, "online", NULL);
	ret = read_online(g, &cpu);
	if (ret == 0) {
		in->ncpus = cpuset_count(&g->online);
		in->cpus = calloc(in->ncpus, sizeof(*in->cpus));
		g->cpu_index = malloc(CPUSET_MAX * sizeof(*g->cpu_index));
		if (!in->cpus || !g->cpu_index)
			ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	for (unsigned int c = 0; ret == 0 && c < CPUSET_MAX; c++) {
		g->cpu_index[c] = -1;
		if (!cpuset_has(&g->online, c))
			continue;
		g->cpu_index[c] = (int)k;
		in->cpus[k] = (struct aff_cpu){ .id = c, .node = -1 };
		ret = read_siblings(g, &cpu, &in->cpus[k++]);
	}
	if (ret == 0)
		ret = read_nodes(g);
	if (ret == 0)
		ret = read_exclusions(g, &cpu);
	sys_dir_close(&cpu);
	return ret;
}
