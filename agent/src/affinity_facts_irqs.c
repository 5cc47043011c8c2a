// SPDX-License-Identifier: MIT
/*
 * affinity_gather(), the interrupts: the PCI device IRQs of /proc/interrupts
 * with their affinity from /proc/irq, and the transmit and receive queues of
 * the synthetic NICs with their XPS and RPS CPUs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity_facts_internal.h"
#include "interrupts.h"
#include "util.h"

#define CLASS_NET "class/net"

/* ---- IRQs -------------------------------------------------------------- */

/* "mlx5_comp3@pci:0101:00:00.0": the device named after "@pci:", or -1. */
static int action_dev(const struct gather *g, const char *action)
{
	const char *a = strstr(action, "@pci:");

	if (!a)
		return -1;
	a += 5;
	return gather_pci_find(g, a, strcspn(a, ", \t"));
}

/* [p, e) as a small decimal number, or -1 when it is not one. */
static long number_in(const char *p, const char *e)
{
	long v = 0;

	if (p >= e || e - p > 6)
		return -1;
	for (; p < e; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* Queue numbers of the drivers whose IRQs are per queue. */
static void classify_action(struct aff_irq *q)
{
	const char *a = q->action, *e = a + strcspn(a, "@, \t");
	const char *p;

	q->queue = -1;
	q->managed = false;
	if (strncmp(a, "mlx5_comp", 9) == 0) {
		q->queue = number_in(a + 9, e);
	} else if (strncmp(a, "mana_q", 6) == 0) {
		q->queue = number_in(a + 6, e);
	} else if (strncmp(a, "nvme", 4) == 0 && e > a + 4 &&
		   (p = memchr(a + 4, 'q', (size_t)(e - a - 4))) && number_in(a + 4, p) >= 0) {
		q->queue = number_in(p + 1, e);
		/* q0 is the admin queue; the I/O queues' affinity is the kernel's. */
		q->managed = q->queue >= 1;
	}
}

/* A new entry at the end of in->irqs. */
static int add_irq(struct gather *g, struct aff_irq **q)
{
	struct aff_input *in = g->in;

	if (in->nirqs >= AFF_MAX_IRQS) {
		g->line_why = "too many device IRQs";
		return -E2BIG;
	}
	if (in->nirqs == g->irq_cap) {
		size_t cap = g->irq_cap ? 2 * g->irq_cap : 64;
		struct aff_irq *v = realloc(in->irqs, cap * sizeof(*v));

		if (!v) {
			g->line_why = "out of memory";
			return -ENOMEM;
		}
		in->irqs = v;
		g->irq_cap = cap;
	}
	*q = &in->irqs[in->nirqs++];
	return 0;
}

static int on_irq_line(const struct irq_header *h, const struct irq_line *l,
		       const uint64_t *counts, void *userdata)
{
	struct gather *g = userdata;
	struct aff_irq *q;
	int dev, ret;

	(void)counts;
	if (l->irq < 0)
		return 0;
	/* Numbered lines print every online CPU's column: fewer is a cut line. */
	if (l->ncounts != h->ncols) {
		g->line_why = "truncated (fewer counts than CPU columns)";
		return -EBADMSG;
	}
	if (l->irq >= AFF_IRQ_NUM_MAX) {
		g->line_why = "IRQ number out of range";
		return -EBADMSG;
	}
	dev = gather_msi_dev(g, l->irq);
	if (dev < 0)
		dev = action_dev(g, l->text);
	if (dev < 0)
		return 0; /* ttyS0, acpi, timer: not a device we place */
	if (!l->text[0]) {
		g->line_why = "a device IRQ without an action name";
		return -EBADMSG;
	}
	ret = add_irq(g, &q);
	if (ret < 0)
		return ret;
	q->irq = l->irq;
	snprintf(q->action, sizeof(q->action), "%.63s", l->text); /* shared IRQs: cut */
	q->dev = dev;
	q->effective = -1;
	classify_action(q);
	if (q->managed) {
		/* Counted, not kept: see the top of affinity_facts.c. */
		g->in->nirqs--;
		g->in->nmanaged++;
	}
	return 0;
}

static int cmp_irq(const void *a, const void *b)
{
	const struct aff_irq *x = a, *y = b;

	return (x->irq > y->irq) - (x->irq < y->irq);
}

/* Is c the only member of s? */
static bool only_cpu(const struct cpuset *s, int c)
{
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		if (s->w[i] != (i == (size_t)c / 64 ? UINT64_C(1) << (c % 64) : 0))
			return false;
	return true;
}

/* smp_affinity_list, and effective_affinity_list when the affinity has a choice. */
static int read_irq_files(struct gather *g, const struct sys_dir *irq, struct aff_irq *q)
{
	struct cpuset eff;
	char name[64], what[64];
	int ret, c;

	snprintf(name, sizeof(name), "%ld/smp_affinity_list", q->irq);
	ret = gather_read_cpus(g, irq, name, CPU_LIST, false, &q->affinity);
	if (ret < 0)
		return ret;
	c = first_cpu(&q->affinity);
	if (c < 0)
		return gather_fail_at(g, -EBADMSG, irq, name, "empty");
	if (only_cpu(&q->affinity, c) && cpuset_has(&g->online, (unsigned int)c)) {
		q->effective = c;
		return 0;
	}
	snprintf(name, sizeof(name), "%ld/effective_affinity_list", q->irq);
	ret = gather_read_cpus(g, irq, name, CPU_LIST, true, &eff);
	if (ret < 0)
		return ret;
	c = first_cpu(&eff);
	if (c >= 0 && !cpuset_has(&g->online, (unsigned int)c)) {
		snprintf(what, sizeof(what), "CPU %d is not online", c);
		return gather_fail_at(g, -ERANGE, irq, name, what);
	}
	q->effective = c;
	return 0;
}

/* The device IRQs of /proc/interrupts, sorted, each listed once. */
static int read_interrupts(struct gather *g)
{
	struct aff_input *in = g->in;
	size_t bad_line;
	FILE *f;
	int ret;

	/* Nearly every device IRQ is an MSI: room for them all at once. */
	g->irq_cap = g->nmsi + 16;
	in->irqs = malloc(g->irq_cap * sizeof(*in->irqs));
	if (!in->irqs)
		return gather_failf(g, -ENOMEM, "out of memory");
	f = root_fopen(g->r, ROOT_PROC, "interrupts");
	if (!f) {
		ret = -errno;
		return gather_failf(g, ret, "%s/interrupts: %s", root_dir_name(ROOT_PROC),
				    gather_why(ret));
	}
	/* A megabyte on an ND VM: fewer, larger reads than stdio's 4 KiB. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	ret = interrupts_read(f, on_irq_line, g, &bad_line);
	fclose(f);
	if (ret < 0 && bad_line)
		return gather_failf(g, ret, "%s/interrupts line %zu: %s", root_dir_name(ROOT_PROC),
				    bad_line, g->line_why ? g->line_why : gather_why(ret));
	if (ret < 0)
		return gather_failf(g, ret, "%s/interrupts: %s", root_dir_name(ROOT_PROC),
				    gather_why(ret));
	if (in->nirqs)
		qsort(in->irqs, in->nirqs, sizeof(*in->irqs), cmp_irq);
	for (size_t i = 1; i < in->nirqs; i++)
		if (in->irqs[i].irq == in->irqs[i - 1].irq)
			return gather_failf(g, -EBADMSG, "%s/interrupts: IRQ %ld is listed twice",
					    root_dir_name(ROOT_PROC), in->irqs[i].irq);
	return 0;
}

int gather_irqs(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sys_dir irq = SYS_DIR_INIT;
	int ret;

	ret = read_interrupts(g);
	if (ret < 0 || in->nirqs == 0)
		return ret;
	ret = sys_dir_open(g->r, ROOT_PROC, &irq, "irq");
	if (ret < 0)
		return gather_fail_at(g, ret, &irq, NULL, NULL);
	/* Managed IRQs: see the top of affinity_facts.c. */
	for (size_t i = 0; ret == 0 && i < in->nirqs; i++)
		if (!in->irqs[i].managed)
			ret = read_irq_files(g, &irq, &in->irqs[i]);
	sys_dir_close(&irq);
	return ret;
}

/* ---- synthetic NICs ---------------------------------------------------- */

static int cmp_queue(const void *a, const void *b)
{
	const struct aff_queue *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* queues/{tx,rx}-N: xps_cpus or rps_cpus, missing (no CONFIG_XPS) as empty. */
static int read_queue(struct gather *g, const struct sys_dir *nd, struct aff_nic *nic,
		      const char *qname)
{
	unsigned long long idx;
	bool tx = qname[0] == 't';
	struct aff_queue *q;
	size_t *cnt = tx ? &nic->ntx : &nic->nrx;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "queues/%.16s", qname);
	if (parse_dir_number(qname + 3, AFF_MAX_QUEUES - 1, &idx) < 0)
		return gather_fail_at(g, -EBADMSG, nd, name, "not a queue index");
	q = &(tx ? nic->tx : nic->rx)[(*cnt)++];
	q->index = (unsigned int)idx;
	snprintf(name, sizeof(name), "queues/%s/%s", qname, tx ? "xps_cpus" : "rps_cpus");
	ret = gather_read_cpus(g, nd, name, CPU_MASK, true, &q->cpus);
	return ret < 0 ? ret : 0;
}

static bool is_queue(const char *name, char dir)
{
	return name[0] == dir && name[1] == 'x' && name[2] == '-';
}

static int read_queues(struct gather *g, const struct sys_dir *nd, struct aff_nic *nic)
{
	char **names;
	size_t n, ntx = 0, nrx = 0;
	int ret;

	ret = sys_dir_list(nd, "queues", &names, &n);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return gather_fail_at(g, ret, nd, "queues", NULL);
	for (size_t i = 0; i < n; i++) {
		ntx += is_queue(names[i], 't');
		nrx += is_queue(names[i], 'r');
	}
	if (ntx > AFF_MAX_QUEUES || nrx > AFF_MAX_QUEUES)
		ret = gather_fail_at(g, -E2BIG, nd, "queues", "too many queues");
	if (ret == 0) {
		nic->tx = calloc(ntx ? ntx : 1, sizeof(*nic->tx));
		nic->rx = calloc(nrx ? nrx : 1, sizeof(*nic->rx));
		if (!nic->tx || !nic->rx)
			ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++)
		if (is_queue(names[i], 't') || is_queue(names[i], 'r'))
			ret = read_queue(g, nd, nic, names[i]);
	strv_free(names, n);
	if (ret < 0)
		return ret;
	qsort(nic->tx, nic->ntx, sizeof(*nic->tx), cmp_queue);
	qsort(nic->rx, nic->nrx, sizeof(*nic->rx), cmp_queue);
	for (size_t i = 1; i < nic->ntx || i < nic->nrx; i++)
		if ((i < nic->ntx && nic->tx[i].index == nic->tx[i - 1].index) ||
		    (i < nic->nrx && nic->rx[i].index == nic->rx[i - 1].index))
			return gather_fail_at(g, -EBADMSG, nd, "queues", "a queue is listed twice");
	return 0;
}

static int find_pci_nic(const struct aff_input *in, const char *ifname)
{
	for (size_t i = 0; ifname[0] && i < in->npci; i++)
		if (strcmp(in->pci[i].nic, ifname) == 0)
			return (int)i;
	return -1;
}

/* Its AN VF: the lower_<vf> link, else a PCI NIC enslaved to it. */
static int find_vf(const struct aff_input *in, const struct nic_facts *nf,
		   const struct nic_fact *n)
{
	int vf = find_pci_nic(in, n->vf);

	for (size_t i = 0; vf < 0 && i < nf->n; i++)
		if (nf->nics[i].is_vf && strcmp(nf->nics[i].master, n->name) == 0)
			vf = find_pci_nic(in, nf->nics[i].name);
	return vf;
}

static int read_nic(struct gather *g, const struct nic_facts *nf, const struct nic_fact *n)
{
	struct aff_input *in = g->in;
	struct aff_nic *nic = &in->nics[in->nnics];
	struct sys_dir nd = SYS_DIR_INIT;
	int vm = -1, ret;

	for (size_t k = 0; vm < 0 && k < in->nvmbus; k++)
		if (strcmp(in->vmbus[k].nic, n->name) == 0)
			vm = (int)k;
	if (vm < 0)
		return 0; /* its VMBus device went away: no channels to follow */
	snprintf(nic->name, sizeof(nic->name), "%s", n->name);
	nic->vmbus_dev = vm;
	nic->vf = find_vf(in, nf, n);
	in->nnics++;
	ret = sys_dir_open(g->r, ROOT_SYS, &nd, CLASS_NET "/%s", n->name);
	if (ret == -ENOENT)
		return 0; /* gone meanwhile */
	if (ret == 0)
		ret = read_queues(g, &nd, nic);
	else
		ret = gather_fail_at(g, ret, &nd, NULL, NULL);
	sys_dir_close(&nd);
	return ret;
}

int gather_nics(struct gather *g)
{
	struct aff_input *in = g->in;
	struct warnings w = { 0 };
	struct nic_facts nf;
	int ret = 0;

	/* Which NICs are synthetic and which VF each carries: facts_net decides. */
	facts_net(g->r, &nf, &w);
	warnings_free(&w);
	in->nics = calloc(nf.n ? nf.n : 1, sizeof(*in->nics));
	if (!in->nics)
		ret = gather_failf(g, -ENOMEM, "out of memory");
	for (size_t i = 0; ret == 0 && i < nf.n; i++)
		if (nic_is_synthetic(&nf.nics[i]))
			ret = read_nic(g, &nf, &nf.nics[i]);
	free(nf.nics);
	return ret;
}
