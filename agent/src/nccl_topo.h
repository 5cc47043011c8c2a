/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The NCCL topology of an ND-class VM (research/tuning.md §3.5, §3.6, §4.3).
 *
 * Inside Hyper-V every passed-through GPU and HCA is the only device of its
 * own PCI root bus, so NCCL cannot see which HCA sits beside which GPU nor,
 * when the host gave no node (numa_node -1), on which NUMA node either
 * sits.  Azure's HPC images therefore ship NCCL_TOPO_FILE: a <cpu> per
 * node and, under it, a made-up PCIe switch ("ffff:ff:0N.0", class
 * 0x060400) holding one GPU and the HCA it pairs with.  This file builds the
 * same structure from facts instead of a per-size file:
 *
 *   facts (affinity_gather(), link files, /proc/cpuinfo)  -> nccl_topo_build()
 *   struct nccl_topo (the model, pure)                     -> nccl_topo_xml()
 *
 * Everything here is pure; reading the files is cmd_accel_topo.c's.
 */

#include <stdbool.h>
#include <stddef.h>

#include "affinity.h"
#include "cpuset.h"

/*
 * NCCL's own topology parser (src/graph/xml.cc) reads attribute values of at
 * most 255 characters and at most 256 elements, including the <gpu>, <nvlink>,
 * <nic> and <net> elements it adds itself (about 60 on an 8-GPU VM): a file
 * beyond these is refused rather than written.
 */
#define NT_ATTR_MAX 255
#define NT_MAX_ELEMENTS 128

/* PCIe link figures as sysfs spells them: "32.0 GT/s PCIe", 16.  Unknown: "", 0. */
struct nt_link {
	char speed[24];
	unsigned int width;
};

/* What the CPU element says: the vendor, family and model of /proc/cpuinfo. */
struct nt_cpu_id {
	char arch[16];      /* "x86_64", "arm64" */
	char vendor[16];    /* CPUID vendor ("GenuineIntel"); "" when not x86 */
	int family, model;  /* "cpu family", "model"; -1 when not x86 */
};

enum nt_node_source {
	NT_NODE_SYSFS,      /* its numa_node */
	NT_NODE_SKU,        /* numa_node -1: the SKU table by PCI domain */
	NT_NODE_DEFAULT,    /* neither: the lowest node, as the kernel now defaults */
};

enum nt_link_source {
	NT_LINK_MAX,        /* max_link_speed/max_link_width, what NCCL itself reads */
	NT_LINK_CURRENT,    /* current_link_*: without max_link_* */
	NT_LINK_SKU,        /* the size's documented figures */
	NT_LINK_NONE,       /* left out: NCCL reads the device's sysfs itself */
};

/* What sysfs adds per device, one per device of the input (same index as in->pci). */
struct nt_sys_dev {
	unsigned int class_code;      /* "class": 0x030200; 0 unknown (then by kind) */
	struct nt_link max, current;  /* max_link_*, current_link_* */
};

struct nt_dev {
	char addr[32];          /* "0001:00:00.0" */
	unsigned int domain;
	unsigned int vendor, device, class_code;
	bool gpu;               /* else an InfiniBand HCA */
	int node;
	enum nt_node_source node_source;
	long sys_node;          /* numa_node as sysfs said it */
	struct nt_link link;
	enum nt_link_source link_source;
	int sw;                 /* index into switches[], -1: directly under its CPU */
};

struct nt_switch {
	char busid[16];         /* "ffff:ff:01.0" */
	struct nt_link link;    /* its GPU's figures, its HCA's when the GPU's are unknown */
	size_t gpu, hca;        /* indexes into devs[] */
};

struct nt_node {
	int node;
	struct cpuset cpus;     /* its online CPUs */
	size_t first, n;        /* its devices: devs[first .. first + n), GPUs first */
	size_t first_sw, nsw;   /* its switches */
};

struct nccl_topo {
	struct nt_cpu_id cpu;
	unsigned int mask_bits; /* width of the affinity masks (the kernel's nr_cpu_ids) */
	size_t nnodes;
	struct nt_node *nodes;  /* every node with online CPUs, ascending */
	size_t ndevs;
	struct nt_dev *devs;    /* by node, GPUs then HCAs, each by PCI domain */
	size_t nswitches;
	struct nt_switch *switches;
	unsigned int ngpus, nhcas, npairs;
	unsigned int nodes_default; /* devices placed by NT_NODE_DEFAULT */
	const char *sku;        /* the SKU's name, NULL general purpose */
};

/*
 * Does this PCI function go into the topology?  NVIDIA GPUs (vendor 10de,
 * a display class: NCCL is NVIDIA's) and NVIDIA/Mellanox InfiniBand HCAs
 * (15b3, class 0x0207); accelerated-networking Ethernet VFs (0x0200) carry
 * no GPUDirect traffic and stay out.
 */
bool nt_is_gpu(const struct aff_pci_dev *d);
bool nt_is_hca(const struct aff_pci_dev *d);

/*
 * Build the model.  in gives CPUs (with nodes), PCI functions and the SKU;
 * sys (may be NULL) the class and link files of in->pci[i]; mask_bits the
 * width of the kernel's CPU masks (0: highest online CPU + 1).  GPU i of a
 * node, in PCI-domain order, pairs with HCA i of the node in the same order
 * (how ND v5 pairs 0001 with 0101 and 0008 with 0104); a GPU or HCA left
 * over sits directly under its CPU, like Azure's ND v2 file.
 *
 * Returns 0; -ENODEV without a GPU (nothing for NCCL to describe); -E2BIG
 * when NCCL could not read the result (err says why); -EINVAL for an input
 * without CPUs; -ENOMEM.
 */
int nccl_topo_build(const struct aff_input *in, const struct nt_sys_dev *sys,
		    const struct nt_cpu_id *cpu, unsigned int mask_bits, struct nccl_topo *t,
		    char *err, size_t errlen);
void nccl_topo_free(struct nccl_topo *t);

/* The node's CPU mask as the kernel prints node<N>/cpumap with mask_bits bits. */
int nccl_topo_affinity(const struct nccl_topo *t, const struct nt_node *n, char *buf, size_t len);

/*
 * The topology XML (libxml2's xmlTextWriter, two-space indent, no XML
 * declaration: NCCL's parser stops at "<?xml").  *out is malloc'd and
 * NUL-terminated.  -ENOMEM, or -EIO when libxml2 fails.
 */
int nccl_topo_xml(const struct nccl_topo *t, char **out, size_t *len);

/*
 * The /etc/nccl.conf lines that point NCCL at the file, as Azure's images
 * write them.  topo_file is the path as the system sees it; -EINVAL when
 * it is not a clean absolute path that one line can carry.
 */
int nccl_topo_conf(const char *topo_file, char **out, size_t *len);
/* Is the path absolute, without "." or ".." components, "//", control characters or '"'? */
bool nt_path_ok(const char *path);

/*
 * Parsers for the files the model is built from; each rejects anything it
 * does not fully understand with -EINVAL (line says where, 1-based, 0 when
 * not a line's fault).
 *   nt_parse_cpuinfo: /proc/cpuinfo's first processor (x86: vendor_id, cpu
 *     family, model; arm64: "CPU implementer")
 *   nt_parse_link_speed: "32.0 GT/s PCIe", "8 GT/s"; "Unknown" (and older
 *     kernels' "Unknown speed") give ""
 *   nt_parse_link_width: 1..32 lanes; 0 (link down) gives 0
 */
int nt_parse_cpuinfo(const char *text, struct nt_cpu_id *id, unsigned int *line);
int nt_parse_link_speed(const char *text, char *speed, size_t len);
int nt_parse_link_width(const char *text, unsigned int *width);

const char *nt_node_source_name(enum nt_node_source s);
const char *nt_link_source_name(enum nt_link_source s);
