/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "facts.h"

/*
 * `azl-agent status`: facts in, a verdict out.  status_evaluate() is a pure
 * function of the facts (unit-tested without a machine); the printers only
 * render what it computed.
 */

#define STATUS_MAX_NODES 64 /* nodes shown per class; Azure VMs have at most 8 */
#define STATUS_MAX_CLASSES 24

enum status_exit {
	STATUS_HEALTHY = 0,
	STATUS_WARNINGS = 1,
	STATUS_ERROR = 2, /* not a Hyper-V guest, or cannot tell */
};

struct class_summary {
	const char *kind;        /* "network", or "unknown" */
	const char *description;
	bool perf;
	size_t devices, channels;
	struct cpuset cpus;      /* CPUs the channels target */
	size_t on_node[STATUS_MAX_NODES];
	size_t nodeless;         /* channels on a CPU that no node lists */
};

struct accel_summary {
	size_t gpus, hcas;
	size_t gpus_nodeless, hcas_nodeless; /* numa_node -1 */
};

/* Interrupt placement (affinity.h): how good it is now and after a plan. */
struct placement_summary {
	bool known;
	char error[256];          /* why it is not known */
	unsigned int score;       /* NUMA-local share now, percent */
	unsigned int planned_score;
	unsigned int moves;       /* what `affinity apply` would change */
	const char *sku;          /* SKU policy name, NULL: general purpose */
	const char *sku_source;   /* "imds", "topology", "none" */
};

/* What our kernel modules were told and did (status_kmods.c); live systems only. */
struct kmod_summary {
	bool asked;                    /* false under --root: no kernel to ask */
	bool storvsc, netvsc, accel;   /* loaded and answering */
	uint32_t storvsc_timeout, storvsc_eh_timeout, storvsc_queue_depth; /* the default layer */
	size_t storvsc_rules, storvsc_disks;
	uint32_t netvsc_channels;      /* 0: the kernel's */
	bool netvsc_xps, netvsc_vf_xps;
	uint32_t netvsc_allowed[8];    /* channel counts the module accepts here */
	size_t netvsc_nallowed;
	size_t netvsc_nics, netvsc_vfs;
	size_t accel_table, accel_devices;
	size_t accel_by_source[5];     /* enum azl_accel_source: host, table, none, late, pending */
	char error[200];               /* the first module that did not answer */
};

struct status {
	const struct vm_facts *facts;
	struct warnings warnings; /* unreadable facts first, then health */
	bool error;               /* the STATUS_ERROR verdict */
	size_t nclasses;
	struct class_summary classes[STATUS_MAX_CLASSES];
	struct cpuset channel_cpus;
	struct accel_summary accel;
	struct placement_summary placement; /* filled by status_placement() */
	struct kmod_summary kmods;          /* filled by status_kmods() */
	enum status_exit exit_code;
};

void status_evaluate(const struct vm_facts *f, struct status *s);
/* The exit status from the warnings so far (again after a later step adds some). */
void status_verdict(struct status *s);
void status_free(struct status *s);
/* Plan the interrupt placement (not pure: it reads the system through r). */
struct root;
void status_placement(const struct root *r, struct status *s);
/* Ask our kernel modules for their policy (live systems only; adds warnings). */
void status_kmods(struct status *s);

int status_print_text(const struct status *s, const char *root_name, FILE *out);
int status_print_json(const struct status *s, FILE *out);
