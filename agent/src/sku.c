// SPDX-License-Identifier: MIT
/*
 * The SKU table.  Sources: research/tuning.md §3.5-3.6 (Azure's HPC image
 * topology files and size names).  Only facts that change placement are
 * here: the NUMA node of each passed-through GPU and HCA by PCI domain.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "sku.h"
#include "util.h"

#define NVIDIA 0x10de

/* ND H100 v5 and ND H200 v5 share the ndv5 topology: GPU i pairs with HCA i. */
static const struct sku_pci_node ndv5_pci[] = {
	{ 0x0001, 0, "gpu0" }, { 0x0002, 0, "gpu1" }, { 0x0003, 0, "gpu2" }, { 0x0008, 0, "gpu3" },
	{ 0x0009, 1, "gpu4" }, { 0x000a, 1, "gpu5" }, { 0x000b, 1, "gpu6" }, { 0x000c, 1, "gpu7" },
	{ 0x0101, 0, "ib0" }, { 0x0102, 0, "ib1" }, { 0x0103, 0, "ib2" }, { 0x0104, 0, "ib3" },
	{ 0x0105, 1, "ib4" }, { 0x0106, 1, "ib5" }, { 0x0107, 1, "ib6" }, { 0x0108, 1, "ib7" },
};

/* ND A100 v4: four nodes, two GPUs and two HCAs each (ndv4-topo.xml). */
static const struct sku_pci_node ndv4_pci[] = {
	{ 0x0003, 0, "gpu0" }, { 0x0004, 0, "gpu1" }, { 0x0103, 0, "ib2" }, { 0x0104, 0, "ib3" },
	{ 0x0001, 1, "gpu2" }, { 0x0002, 1, "gpu3" }, { 0x0101, 1, "ib0" }, { 0x0102, 1, "ib1" },
	{ 0x000d, 2, "gpu4" }, { 0x000e, 2, "gpu5" }, { 0x0107, 2, "ib6" }, { 0x0108, 2, "ib7" },
	{ 0x000b, 3, "gpu6" }, { 0x000c, 3, "gpu7" }, { 0x0105, 3, "ib4" }, { 0x0106, 3, "ib5" },
};

/* NC A100 v4 (96 vCPUs): one A100 PCIe per node. */
static const struct sku_pci_node ncv4_pci[] = {
	{ 0x0001, 0, "gpu0" }, { 0x0002, 1, "gpu1" }, { 0x0003, 2, "gpu2" }, { 0x0004, 3, "gpu3" },
};

static const char *const nd_h100_v5_sizes[] = { "standard_nd96is*_h100_v5", NULL };
static const char *const nd_h200_v5_sizes[] = { "standard_nd96is*_h200_v5", NULL };
static const char *const ndv4_sizes[] = { "standard_nd96as*_v4", "standard_nd96ams*_a100_v4", NULL };
static const char *const ncv4_sizes[] = { "standard_nc96ads_a100_v4", NULL };
static const char *const hbv3_sizes[] = { "standard_hb120*rs_v3", NULL };
static const char *const hbv4_sizes[] = { "standard_hb176*rs_v4", NULL };

static const struct sku_policy table[] = {
	{
		.name = "ND H100 v5", .family = "ndv5", .sizes = nd_h100_v5_sizes,
		.vcpus = 96, .nodes = 2,
		.gpu_vendor = NVIDIA, .gpu_devices = { 0x2330 }, .ngpus = 8,
		.pci = ndv5_pci, .npci = ELEMENTSOF(ndv5_pci),
	},
	{
		.name = "ND H200 v5", .family = "ndv5", .sizes = nd_h200_v5_sizes,
		.vcpus = 96, .nodes = 2,
		.gpu_vendor = NVIDIA, .gpu_devices = { 0x2335 }, .ngpus = 8,
		.pci = ndv5_pci, .npci = ELEMENTSOF(ndv5_pci),
	},
	{
		/* A100 SXM4 40 GB and 80 GB (NDm A100 v4). */
		.name = "ND A100 v4", .family = "ndv4", .sizes = ndv4_sizes,
		.vcpus = 96, .nodes = 4,
		.gpu_vendor = NVIDIA, .gpu_devices = { 0x20b0, 0x20b2 }, .ngpus = 8,
		.pci = ndv4_pci, .npci = ELEMENTSOF(ndv4_pci),
	},
	{
		.name = "NC A100 v4", .family = "ncv4", .sizes = ncv4_sizes,
		.vcpus = 96, .nodes = 4,
		.gpu_vendor = NVIDIA, .gpu_devices = { 0x20b5 }, .ngpus = 4,
		.pci = ncv4_pci, .npci = ELEMENTSOF(ncv4_pci),
	},
	{
		/* Constrained sizes (HB120-96rs_v3 …) keep the four nodes. */
		.name = "HBv3", .family = "hbv3", .sizes = hbv3_sizes,
		.vcpus = 0, .nodes = 4,
	},
	{
		.name = "HBv4", .family = "hbv4", .sizes = hbv4_sizes,
		.vcpus = 0, .nodes = 4,
	},
};

const struct sku_policy *sku_table(size_t *n)
{
	*n = ELEMENTSOF(table);
	return table;
}

const struct sku_policy *sku_by_vm_size(const char *vm_size)
{
	char lower[64];
	size_t i;

	if (!vm_size || !*vm_size || strlen(vm_size) >= sizeof(lower))
		return NULL;
	for (i = 0; vm_size[i]; i++)
		lower[i] = (char)tolower((unsigned char)vm_size[i]);
	lower[i] = '\0';
	for (i = 0; i < ELEMENTSOF(table); i++)
		for (const char *const *p = table[i].sizes; *p; p++)
			if (fnmatch(*p, lower, 0) == 0)
				return &table[i];
	return NULL;
}

static bool is_sku_gpu(const struct sku_policy *s, const struct sku_gpu_id *g)
{
	if (g->vendor != s->gpu_vendor)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(s->gpu_devices) && s->gpu_devices[i]; i++)
		if (g->device == s->gpu_devices[i])
			return true;
	return false;
}

/*
 * A size is recognised when CPU count, node count and its full set of GPUs
 * all match: a VM without the GPUs (or with foreign ones) is not that size.
 */
static bool matches(const struct sku_policy *s, unsigned int vcpus, unsigned int nodes,
		    const struct sku_gpu_id *gpus, size_t ngpus)
{
	if (!s->ngpus || s->vcpus != vcpus || s->nodes != nodes || ngpus != s->ngpus)
		return false;
	for (size_t i = 0; i < ngpus; i++)
		if (!is_sku_gpu(s, &gpus[i]))
			return false;
	return true;
}

const struct sku_policy *sku_recognise(unsigned int vcpus, unsigned int nodes,
				       const struct sku_gpu_id *gpus, size_t ngpus)
{
	const struct sku_policy *found = NULL;

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		if (!matches(&table[i], vcpus, nodes, gpus, ngpus))
			continue;
		if (found)
			return NULL; /* ambiguous */
		found = &table[i];
	}
	return found;
}

int sku_node_of_domain(const struct sku_policy *s, unsigned int domain,
		       const char **role)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < s->npci; i++) {
		if (s->pci[i].domain != domain)
			continue;
		if (role)
			*role = s->pci[i].role;
		return s->pci[i].node;
	}
	return -1;
}
