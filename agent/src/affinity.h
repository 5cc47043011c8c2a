/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Interrupt placement: VMBus channels and device IRQs on the CPUs of their
 * device's NUMA node (research/tuning.md §3).
 *
 *   affinity_gather()  sysfs/procfs  -> struct aff_input   (affinity_facts.c)
 *   affinity_plan()    input, policy -> struct aff_plan    (affinity_plan.c, pure)
 *   affinity_apply()   plan          -> writes             (affinity_apply.c)
 *
 * The input is gathered strictly: a malformed file is an error naming it, and
 * nothing is planned or written from a tree the agent does not understand.
 */

#include <stdbool.h>
#include <stddef.h>

#include "cpuset.h"
#include "facts.h"
#include "root.h"
#include "sku.h"

/* ---- input ------------------------------------------------------------ */

struct aff_cpu {
	unsigned int id;
	int node;            /* -1 when no node lists it */
	unsigned int core;   /* lowest CPU of its thread siblings */
	unsigned int thread; /* 0 for a core's first sibling, 1 for the next … */
	bool allowed;        /* online, not isolated, nohz_full or managed_irq-excluded */
};

struct aff_channel {
	long relid;
	long subchannel;     /* 0 for the primary; its queue number for netvsc */
	long cpu;            /* current target CPU */
};

struct aff_vmbus_dev {
	char instance[37];
	const char *kind;    /* vmbus_class kind, "unknown" for an unknown class */
	bool perf;           /* the kernel spreads its channels (init_vp_index) */
	char nic[32];        /* netvsc: its interface, "" otherwise */
	size_t nchannels;
	struct aff_channel *channels; /* sorted by subchannel, then relid */
};

struct aff_pci_dev {
	char addr[32];       /* "0101:00:00.0" */
	unsigned int domain;
	unsigned int vendor, device;
	enum pci_kind kind;
	long numa_node;      /* as sysfs says: -1 none */
	char driver[32];
	char nic[32];        /* a network function: its interface, "" otherwise */
	bool vpci;
};

struct aff_irq {
	long irq;
	char action[64];     /* "mlx5_comp3@pci:0101:00:00.0" */
	int dev;             /* index into pci[], -1: not a PCI device's MSI */
	long queue;          /* queue index from the action name, -1 none */
	bool managed;        /* kernel-managed (nvme I/O queues): never written */
	struct cpuset affinity; /* smp_affinity_list */
	long effective;      /* first CPU of effective_affinity_list, -1 unknown */
};

struct aff_queue {
	unsigned int index;
	struct cpuset cpus;  /* current xps_cpus or rps_cpus */
};

/* A synthetic NIC's queues, for XPS and RPS. */
struct aff_nic {
	char name[32];
	int vmbus_dev;       /* index into vmbus[] */
	int vf;              /* index into pci[] of its AN VF, -1 none */
	size_t ntx, nrx;
	struct aff_queue *tx, *rx;
};

struct aff_input {
	size_t ncpus;
	struct aff_cpu *cpus;   /* online CPUs, ascending */
	unsigned int nnodes;    /* nodes with online CPUs */
	struct cpuset excluded; /* online CPUs not allowed, and why in excluded_why */
	char excluded_why[128];
	bool channels_writable; /* channels/<relid>/cpu exists (kernel >= 5.8) */

	size_t nvmbus;
	struct aff_vmbus_dev *vmbus;
	size_t npci;
	struct aff_pci_dev *pci;
	size_t nirqs;
	struct aff_irq *irqs;   /* numbered IRQs of PCI devices, ascending */
	unsigned int nmanaged;  /* kernel-managed IRQs: counted, not kept */
	size_t nnics;
	struct aff_nic *nics;

	char vm_size[64];       /* IMDS vmSize when known */
	const struct sku_policy *sku; /* from vm_size, else recognised, else NULL */
	const char *sku_source; /* "imds", "topology" or "none" */
};

/*
 * Read the live system (or a fixture) through the root prefix.  On a
 * malformed or unreadable input returns a negative errno and a message naming
 * the file (and line); the input is then empty.
 */
int affinity_gather(const struct root *r, struct aff_input *in, char *err,
		    size_t errlen);
void affinity_input_free(struct aff_input *in);

/*
 * Only the SKU, the way affinity_gather() decides it: from the IMDS vmSize
 * cache (cheap: one file), else recognised from the topology (a whole
 * gather).  NULL when neither knows it; *source is "imds", "topology" or
 * "none", and *err (when given) says why a gather failed.
 */
const struct sku_policy *affinity_detect_sku(const struct root *r, const char **source,
					     char *err, size_t errlen);

/* ---- policy and plan -------------------------------------------------- */

struct aff_policy {
	bool enabled;    /* [affinity] enabled: what our irqbalance policy script reads */
	bool channels;   /* place VMBus channels ([affinity] channels = yes) */
	bool irqs;       /* place device IRQs ([affinity] irqs = yes) */
	bool xps;        /* netvsc transmit queues follow their channel CPU */
	bool rps;        /* netvsc receive queues spread over the NIC's node */
};

void aff_policy_defaults(struct aff_policy *p);
struct agent_config;
/* The policy of the [affinity] section. */
void aff_policy_from_config(const struct agent_config *cfg, struct aff_policy *p);

enum aff_target { AFF_CHANNEL, AFF_IRQ, AFF_XPS, AFF_RPS };

struct aff_action {
	enum aff_target target;
	int dev;             /* vmbus[] (channel), pci[] or -1 (irq), nics[] (xps/rps) */
	long id;             /* relid, IRQ number or queue index */
	struct cpuset to;    /* where it goes; where it is: aff_action_from() */
	int node;            /* the node it belongs on, -1 any */
	bool move;           /* false: already right, kept */
	bool local;          /* ends on its node (or has none) */
	const char *reason;  /* a static sentence */
};

/* Quality of a placement; the same figures for before and after. */
struct aff_quality {
	unsigned int irqs, irqs_local;        /* non-managed device IRQs */
	unsigned int channels, channels_local; /* performance channels */
	unsigned int src_max, src_min; /* interrupt sources per allowed CPU */
	unsigned int channel_cpus; /* distinct CPUs with a VMBus channel */
	unsigned int managed;      /* kernel-managed IRQs, left alone */
};

struct aff_plan {
	size_t n;
	struct aff_action *v;  /* channels, then IRQs, then XPS/RPS, each sorted */
	unsigned int moves;
	struct aff_quality before, after;
	unsigned int min_channel_cpus; /* min(online vCPUs, 4) */
	char note[256];        /* a constraint the plan could not meet, "" none */
};

/* Pure: the same input and policy always give the same plan.  -ENOMEM only. */
int affinity_plan(const struct aff_input *in, const struct aff_policy *p,
		  struct aff_plan *plan);
void affinity_plan_free(struct aff_plan *plan);

/* ---- shared by the planner and the figures (affinity_quality.c) ------- */

/* Index of an online CPU in in->cpus (ascending), or -1. */
long aff_cpu_index(const struct aff_input *in, long cpu);
/* Is the CPU on the node?  Node -1 (no node) takes any CPU. */
bool aff_cpu_on_node(const struct aff_input *in, long cpu, int node);
/* Where the action's source interrupts now, from the input. */
void aff_action_from(const struct aff_input *in, const struct aff_action *a,
		     struct cpuset *out);
/* The IRQ of that number in in->irqs (sorted), or NULL. */
const struct aff_irq *aff_find_irq(const struct aff_input *in, long irq);
/*
 * The figures of the placement before (after = false: each source's one
 * CPU, else its effective CPU) or after the plan; per_cpu is scratch space
 * of in->ncpus counters.
 */
void aff_quality_compute(const struct aff_input *in, const struct aff_plan *plan, bool after,
			 unsigned int *per_cpu, struct aff_quality *q);

/* The placement score shown by status: local share in percent, 0..100. */
unsigned int aff_quality_score(const struct aff_quality *q);
/* "vmbus <guid> channel 15 (network queue 3)", "irq 57 mlx5_comp3@pci:…" */
void aff_action_describe(const struct aff_input *in, const struct aff_action *a,
			 char *buf, size_t len);

/* ---- applier ----------------------------------------------------------- */

enum aff_result {
	AFF_DONE,        /* written */
	AFF_UNSUPPORTED, /* EIO on a channel: host older than VMBus 4.1 or channel closed */
	AFF_MANAGED,     /* EIO on an IRQ: the kernel manages it */
	AFF_GONE,        /* ENOENT: the device went away meanwhile */
	AFF_FAILED,      /* any other error */
};

struct aff_outcome {
	size_t action;   /* index into plan->v */
	enum aff_result result;
	int err;         /* errno for AFF_FAILED */
};

struct aff_report {
	size_t n;
	struct aff_outcome *v; /* one per attempted move */
	unsigned int done, skipped, failed;
};

/*
 * Write every move of the plan through the root prefix; kept actions are not
 * touched.  Returns 0 when nothing failed, else -EIO (the report says which).
 */
int affinity_apply(const struct root *r, const struct aff_input *in,
		   const struct aff_plan *plan, struct aff_report *rep);
void aff_report_free(struct aff_report *rep);
const char *aff_result_name(enum aff_result r);

/*
 * irqbalance coexistence (irqbalance.c): when irqbalance runs, tell it to
 * leave the IRQs we placed alone, through its control socket.  Returns 1
 * when it was told, 0 when no irqbalance runs, negative errno on failure
 * (message in err).  The caller first asks irqbalance_uses_policy(): our
 * policy script bans them itself while the configuration places IRQs.
 */
int irqbalance_ban(const struct root *r, const long *irqs, size_t n,
		   char *err, size_t errlen);
/* The pid of a running irqbalance, 0 none. */
long irqbalance_pid(const struct root *r);
/* Was that irqbalance started with --policyscript=…/azl-irqbalance-policy? */
bool irqbalance_uses_policy(const struct root *r, long pid);

/* ---- one pass ---------------------------------------------------------- */

/*
 * Gather, plan and (when apply) write and tell irqbalance: what `affinity
 * apply` and the daemon's re-plans do.  summary gets one line for the log
 * ("12 moves, 0 not written; NUMA-local 100%").  Returns 0, or a negative errno
 * with the reason in summary.
 */
int affinity_run_once(const struct root *r, const struct aff_policy *p,
		      bool apply, char *summary, size_t len);
