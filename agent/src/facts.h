/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cpuset.h"
#include "root.h"
#include "vmbus_class.h"
#include "warnings.h"

/*
 * Facts about the VM: plain data read from the system through the root
 * prefix.  Gathering never fails as a whole: a fact that cannot be read is
 * left unknown and a warning says which file and why.
 */

enum tri { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

struct platform_facts {
	char sys_vendor[128];   /* "" when unknown */
	char product_name[128];
	char product_uuid[64];
	enum tri dmi_hyperv;    /* DMI says Microsoft Virtual Machine */
	enum tri vmbus;         /* the vmbus bus exists */
	enum tri cpu_hypervisor; /* "hypervisor" in /proc/cpuinfo flags */
	char cpuid_vendor[13];  /* leaf 0x40000000, live root only */
	enum tri hyperv;        /* the conclusion */
	int generation;         /* 1, 2, or 0 when unknown */
	char vm_id[37];         /* "" when unknown */
	char vm_size[64];       /* "" when unknown */
	char vm_size_source[16];
	char imds_vm_id[37];    /* vmId in the provisioning cache, if any */
	char kernel[128];
};

enum module_state { MOD_UNKNOWN, MOD_ABSENT, MOD_BUILTIN, MOD_LOADED };

struct module_fact {
	const char *name;
	enum module_state state;
};

struct node_fact {
	int id;
	struct cpuset cpus;
};

struct topology_facts {
	bool known;            /* cpu/online was readable */
	struct cpuset online;
	struct cpuset possible;
	struct cpuset present;  /* possible minus empty hotplug slots */
	struct cpuset isolated;
	struct cpuset nohz_full;
	size_t nnodes;
	struct node_fact *nodes;
	bool numa_known;       /* node directories were readable */
};

struct channel_fact {
	long relid;
	long cpu;
};

struct vmbus_device_fact {
	char instance[37];
	char class_id[37];             /* "" when unknown */
	const struct vmbus_class *cls; /* NULL when unknown class */
	long relid;                    /* -1 when unknown */
	long numa_node;
	char driver[32];               /* "" when unbound */
	bool channels_known;           /* false: the channel list is unknown */
	size_t nchannels;
	struct channel_fact *channels;
};

struct vmbus_facts {
	const char *source; /* where the inventory came from: "sysfs" */
	size_t n;
	struct vmbus_device_fact *devs;
};

enum pci_kind { PCI_OTHER, PCI_GPU, PCI_HCA, PCI_NIC, PCI_NVME };

struct pci_fact {
	char addr[32];      /* "0001:00:00.0" */
	unsigned int vendor, device, class_code;
	long numa_node;     /* -1 none, LONG_MIN unknown */
	char driver[32];
	enum pci_kind kind;
	bool vpci;          /* passed through by Hyper-V (behind VMBus) */
};

struct pci_facts {
	size_t n;
	struct pci_fact *devs;
};

struct nic_fact {
	char name[32];
	char driver[32];    /* "" for virtual links */
	char mac[32];
	long flags;         /* -1 when unknown */
	char master[32];    /* upper device, "" when none */
	char vf[32];        /* for a synthetic NIC: its VF, "" when none */
	char pci_addr[32];  /* for a PCI NIC: its address */
	bool is_vf;         /* a PCI NIC enslaved to a synthetic NIC */
};

struct nic_facts {
	size_t n;
	struct nic_fact *nics;
};

#define KVP_POOLS 5
#define KVP_RECORD_SIZE 2560

struct kvp_pool_fact {
	bool exists;
	long long bytes;
};

struct agent_facts {
	enum tri provisioned;
	char provisioned_at[64];
	enum tri kvp_device;      /* the KVP device node exists */
	long kvp_holder_pid;      /* 0 none, -1 unknown */
	char kvp_holder_comm[32];
	struct kvp_pool_fact pools[KVP_POOLS];
};

struct irq_facts {
	bool known;
	struct cpuset hyp_cpus;  /* CPUs that took VMBus (HYP) interrupts */
	bool hyp_line;
	size_t device_irqs;      /* numbered IRQ lines */
};

struct vm_facts {
	struct platform_facts platform;
	struct module_fact *modules;
	size_t nmodules;
	struct topology_facts topo;
	struct vmbus_facts vmbus;
	struct pci_facts pci;
	struct nic_facts net;
	struct agent_facts agent;
	struct irq_facts irqs;
	struct warnings warnings;
};

void facts_gather(const struct root *r, struct vm_facts *f);
void facts_free(struct vm_facts *f);

/* One gatherer per area; each adds its own warnings. */
void facts_platform(const struct root *r, struct platform_facts *p,
		    struct warnings *w);
void facts_modules(const struct root *r, struct vm_facts *f);
void facts_topology(const struct root *r, struct topology_facts *t,
		    struct warnings *w);
void facts_vmbus(const struct root *r, struct vmbus_facts *v,
		 struct warnings *w);
void vmbus_facts_free(struct vmbus_facts *v);
/* Append a channel; -E2BIG past a sane count, -ENOMEM. */
int vmbus_fact_add_channel(struct vmbus_device_fact *d, long relid, long cpu);
/* Append the channels of a channel_vp_mapping text; -EBADMSG when malformed. */
int vmbus_parse_vp_mapping(const char *text, struct vmbus_device_fact *d);
void facts_pci(const struct root *r, struct pci_facts *p, struct warnings *w);
/* The kind of a PCI function from its vendor and "class" attribute. */
enum pci_kind pci_classify(unsigned int vendor, unsigned int class_code);
void facts_net(const struct root *r, struct nic_facts *n, struct warnings *w);
void facts_agent(const struct root *r, struct agent_facts *a,
		 struct warnings *w);
void facts_irqs(const struct root *r, struct irq_facts *i, struct warnings *w);

/* The NUMA node of a CPU, or -1 when no node lists it. */
int topology_node_of_cpu(const struct topology_facts *t, unsigned int cpu);
const char *module_state_name(enum module_state s);
const char *pci_kind_name(enum pci_kind k);
/* The interface called name, or NULL. */
const struct nic_fact *nic_find(const struct nic_facts *nf, const char *name);
/* A Hyper-V synthetic NIC (hv_netvsc), the one that carries an AN VF. */
bool nic_is_synthetic(const struct nic_fact *n);
