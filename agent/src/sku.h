/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Azure VM sizes whose topology the agent knows (research/tuning.md §3.6).
 * The table matters when the host gave a passed-through device no NUMA node
 * (numa_node -1, vPCI before protocol 1.3): it supplies the node by PCI
 * domain, the way Azure's NCCL topology files do.
 */

struct sku_pci_node {
	unsigned int domain; /* PCI domain of the vPCI device, e.g. 0x0101 */
	int node;
	const char *role;    /* "gpu0", "ib0" … (documentation and reasons) */
};

struct sku_policy {
	const char *name;        /* "ND H200 v5" */
	const char *family;      /* "ndv5": the NCCL topology family */
	const char *const *sizes; /* fnmatch patterns on the lower-case vmSize */
	unsigned int vcpus;      /* the full size: 0 = any */
	unsigned int nodes;      /* NUMA nodes the size exposes: 0 = any */
	/* Recognition from the topology alone (no vmSize known): */
	unsigned int gpu_vendor, gpu_devices[4]; /* PCI ids of its GPUs, 0-terminated */
	unsigned int ngpus;
	const struct sku_pci_node *pci;
	size_t npci;
};

/* The policy for an IMDS vmSize ("Standard_ND96isr_H200_v5"), any case; NULL: general purpose. */
const struct sku_policy *sku_by_vm_size(const char *vm_size);

/*
 * Recognise a size from what the VM shows: online CPU count, NUMA node count
 * and the PCI ids of its GPUs (vendor, device pairs).  NULL when nothing
 * matches unambiguously.
 */
struct sku_gpu_id {
	unsigned int vendor, device;
};
const struct sku_policy *sku_recognise(unsigned int vcpus, unsigned int nodes,
				       const struct sku_gpu_id *gpus, size_t ngpus);

/* The node the table gives a PCI domain, or -1. */
int sku_node_of_domain(const struct sku_policy *s, unsigned int domain,
		       const char **role);

/* Every entry, for the README table and tests. */
const struct sku_policy *sku_table(size_t *n);
