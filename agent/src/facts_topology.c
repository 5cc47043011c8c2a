// SPDX-License-Identifier: MIT
/* CPUs and NUMA nodes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "sysfile.h"
#include "util.h"

/* A cpulist file; optional files (absent on some kernels) read as empty. */
static int read_cpulist(const struct root *r, const char *rel,
			struct cpuset *out, bool optional, struct warnings *w)
{
	char buf[4096];
	int ret;

	cpuset_zero(out);
	ret = root_read_text(r, ROOT_SYS, buf, sizeof(buf), "%s", rel);
	if (ret == -ENOENT && optional)
		return 0;
	/* nohz_full reads "(null)" on kernels built with it but booted without. */
	if (ret >= 0 && strcmp(buf, "(null)") != 0)
		ret = cpuset_parse_list(buf, out);
	else if (ret >= 0)
		ret = 0;
	if (ret < 0)
		warn_unreadable(w, "topology", ROOT_SYS, rel, ret);
	return ret;
}

static void read_nodes(const struct root *r, struct topology_facts *t,
		       struct warnings *w)
{
	char **names;
	size_t n;
	int ret;

	ret = root_list_dir(r, ROOT_SYS, &names, &n, "devices/system/node");
	if (ret == -ENOENT) {
		t->numa_known = true; /* a kernel without NUMA: one implicit node */
		return;
	}
	if (ret < 0) {
		warn_unreadable(w, "topology", ROOT_SYS, "devices/system/node", ret);
		return;
	}
	t->nodes = calloc(n ? n : 1, sizeof(*t->nodes));
	if (!t->nodes) {
		strv_free(names, n);
		return;
	}
	t->numa_known = true;
	for (size_t i = 0; i < n; i++) {
		struct node_fact *nd = &t->nodes[t->nnodes];
		char rel[96];
		long id;

		/* CONFIG_NODES_SHIFT=10: node ids are 0..1023. */
		if (strncmp(names[i], "node", 4) != 0 || parse_long(names[i] + 4, &id) < 0 ||
		    id < 0 || id >= 1024)
			continue;
		snprintf(rel, sizeof(rel), "devices/system/node/%s/cpulist", names[i]);
		if (read_cpulist(r, rel, &nd->cpus, false, w) < 0) {
			t->numa_known = false;
			continue;
		}
		nd->id = (int)id;
		t->nnodes++;
	}
	strv_free(names, n);
}

void facts_topology(const struct root *r, struct topology_facts *t,
		    struct warnings *w)
{
	memset(t, 0, sizeof(*t));
	t->known = read_cpulist(r, "devices/system/cpu/online", &t->online, false, w) == 0;
	read_cpulist(r, "devices/system/cpu/possible", &t->possible, false, w);
	read_cpulist(r, "devices/system/cpu/present", &t->present, false, w);
	read_cpulist(r, "devices/system/cpu/isolated", &t->isolated, true, w);
	read_cpulist(r, "devices/system/cpu/nohz_full", &t->nohz_full, true, w);
	read_nodes(r, t, w);
}

int topology_node_of_cpu(const struct topology_facts *t, unsigned int cpu)
{
	for (size_t i = 0; i < t->nnodes; i++)
		if (cpuset_has(&t->nodes[i].cpus, cpu))
			return t->nodes[i].id;
	return -1;
}
