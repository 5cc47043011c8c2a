/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the parts of affinity_gather() share (affinity_facts.c):
 *
 *   affinity_facts.c        the entry point, error messages, the size
 *   affinity_facts_cpus.c   CPUs, nodes, exclusions; the CPU set reader
 *   affinity_facts_vmbus.c  VMBus devices and their channels
 *   affinity_facts_pci.c    PCI functions and their MSI IRQs
 *   affinity_facts_irqs.c   /proc/interrupts, /proc/irq, NIC queues
 *
 * They run in that order over one struct gather; each step may use what the
 * ones before it filled in.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "affinity.h"
#include "cpuset.h"
#include "sysfile.h"

/* Caps against hostile trees: see the top of affinity_facts.c. */
#define AFF_MAX_VMBUS 256
#define AFF_MAX_CHANNELS 1024
#define AFF_MAX_PCI 4096
#define AFF_MAX_IRQS 4096
#define AFF_MAX_QUEUES 1024
#define AFF_IRQ_NUM_MAX (1L << 20)
#define AFF_MAX_NODE 1023

/* An IRQ some PCI function lists in its msi_irqs directory. */
struct msi_ref {
	long irq;
	int dev;
};

struct gather {
	const struct root *r;
	struct aff_input *in;
	char *err;
	size_t errlen;
	struct cpuset online, possible;
	int *cpu_index;          /* CPU number -> index in in->cpus, -1 */
	struct msi_ref *msi;     /* sorted by irq once the PCI walk is done */
	size_t nmsi;
	size_t *pci_by_addr;     /* pci[] indexes sorted by addr */
	size_t irq_cap;
	const char *line_why;    /* why the /proc/interrupts callback refused a line */
};

/* ---- errors (affinity_facts.c) ------------------------------------------ */

/* Set the message; returns ret, or -EBADMSG when ret is not an error. */
int gather_failf(struct gather *g, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A reader's errno in words: "missing", "too long", "malformed" … */
const char *gather_why(int ret);
/* "<system dir>/<dir>/<name>: <what>", what defaulting to gather_why(ret). */
int gather_fail_at(struct gather *g, int ret, const struct sys_dir *h, const char *name,
		   const char *what);

/* ---- CPUs (affinity_facts_cpus.c) --------------------------------------- */

static inline int first_cpu(const struct cpuset *s)
{
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		if (s->w[i])
			return (int)(i * 64 + (size_t)__builtin_ctzll(s->w[i]));
	return -1;
}

enum cpu_format { CPU_LIST, CPU_MASK };

/*
 * A cpulist or mask file under h that must parse and name only possible
 * CPUs.  Returns 0, 1 when it is optional and missing (out is then empty),
 * or a negative errno with the message set.
 */
/*
 * A number spelled as the kernel names a directory: decimal, no sign, no
 * leading zero.  parse_unsigned() alone takes "010" and "0x1a", and the
 * applier would then write to a different name than was read.
 */
static inline int parse_dir_number(const char *s, unsigned long long max,
				   unsigned long long *out)
{
	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	return parse_unsigned(s, max, out);
}

int gather_read_cpus(struct gather *g, const struct sys_dir *h, const char *name,
		     enum cpu_format fmt, bool optional, struct cpuset *out);
/* Online and possible CPUs, their cores and nodes, and the excluded ones. */
int gather_cpus(struct gather *g);

/* ---- devices (affinity_facts_vmbus.c, affinity_facts_pci.c) ------------ */

int gather_vmbus(struct gather *g);
/* PCI functions, and the indexes of their MSI IRQs and addresses. */
int gather_pci(struct gather *g);
/* The pci[] index of the function whose MSI irq is, or -1. */
int gather_msi_dev(const struct gather *g, long irq);
/* The pci[] index of the function at the address of len bytes at key, or -1. */
int gather_pci_find(const struct gather *g, const char *key, size_t len);

/* ---- interrupts and queues (affinity_facts_irqs.c) ---------------------- */

int gather_irqs(struct gather *g);
int gather_nics(struct gather *g);
