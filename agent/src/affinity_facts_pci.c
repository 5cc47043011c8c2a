// SPDX-License-Identifier: MIT
/*
 * affinity_gather(), the PCI functions: ids, class, node, driver, interface,
 * whether pci-hyperv passed them through, and the MSI IRQs each lists; then
 * the indexes that let /proc/interrupts lines find their function.  Each
 * function's files are read through its own directory, opened once.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity_facts_internal.h"
#include "util.h"

#define PCI_DEVICES "bus/pci/devices"

/* "dddd:bb:dd.f"; the domain up to 8 hex digits (VMD uses 5). */
static int parse_bdf(const char *s, unsigned int *domain)
{
	unsigned long dom = 0;
	const char *p = s;

	for (; isxdigit((unsigned char)*p) && p - s < 8; p++)
		dom = dom * 16 + (unsigned long)(isdigit((unsigned char)*p) ?
			*p - '0' : tolower((unsigned char)*p) - 'a' + 10);
	if (p == s || *p != ':' || !isxdigit((unsigned char)p[1]) ||
	    !isxdigit((unsigned char)p[2]) || p[3] != ':' || !isxdigit((unsigned char)p[4]) ||
	    !isxdigit((unsigned char)p[5]) || p[6] != '.' || p[7] < '0' || p[7] > '7' || p[8])
		return -EINVAL;
	*domain = (unsigned int)dom;
	return 0;
}

static int read_pci_id(struct gather *g, const struct sys_dir *dev, const char *attr, long max,
		       unsigned int *out)
{
	long v;
	int ret = sys_dir_read_long(dev, attr, &v);

	if (ret == 0 && (v < 0 || v > max))
		ret = -ERANGE;
	if (ret < 0)
		return gather_fail_at(g, ret, dev, attr, NULL);
	*out = (unsigned int)v;
	return 0;
}

/* numa_node as sysfs says: -1 none, and when the file is missing (no NUMA). */
static int read_numa_node(struct gather *g, const struct sys_dir *dev, long *node)
{
	long v;
	int ret = sys_dir_read_long(dev, "numa_node", &v);

	if (ret == -ENOENT) {
		v = -1; /* a kernel without NUMA */
		ret = 0;
	} else if (ret == 0 && (v < -1 || v > AFF_MAX_NODE)) {
		return gather_fail_at(g, -ERANGE, dev, "numa_node", "not a node number");
	}
	if (ret < 0)
		return gather_fail_at(g, ret, dev, "numa_node", NULL);
	*node = v;
	return 0;
}

static int add_msi(struct gather *g, long irq, int dev)
{
	if (g->nmsi % 64 == 0) {
		struct msi_ref *m = realloc(g->msi, (g->nmsi + 64) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		g->msi = m;
	}
	g->msi[g->nmsi++] = (struct msi_ref){ irq, dev };
	return 0;
}

struct msi_walk {
	struct gather *g;
	const struct sys_dir *dev;
	int idx;
	bool failed;  /* the message is set: not an error opening msi_irqs */
};

static int on_msi_irq(const char *entry, void *userdata)
{
	struct msi_walk *w = userdata;
	struct gather *g = w->g;
	unsigned long long irq;
	char what[64];
	int ret = 0;

	if (parse_dir_number(entry, AFF_IRQ_NUM_MAX - 1, &irq) < 0) {
		snprintf(what, sizeof(what), "msi_irqs/%.16s", entry);
		ret = gather_fail_at(g, -EBADMSG, w->dev, what, "not an IRQ number");
	} else if (g->nmsi >= AFF_MAX_IRQS) {
		ret = gather_fail_at(g, -E2BIG, w->dev, "msi_irqs", "too many IRQs");
	} else if (add_msi(g, (long)irq, w->idx) < 0) {
		ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	w->failed = ret < 0;
	return ret;
}

/* msi_irqs/<irq>: read in place, an ND VM lists over a thousand. */
static int read_msi_irqs(struct gather *g, const struct sys_dir *dev, int idx)
{
	struct msi_walk w = { g, dev, idx, false };
	int ret = sys_dir_each(dev, "msi_irqs", on_msi_irq, &w);

	if (ret == -ENOENT && !w.failed)
		return 0; /* no MSI: legacy INTx, or not enabled */
	if (ret < 0 && !w.failed)
		return gather_fail_at(g, ret, dev, "msi_irqs", NULL);
	return ret;
}

static int read_pci_dev(struct gather *g, const struct sys_dir *bus, const struct sys_dir *dev,
			struct aff_pci_dev *d, int idx)
{
	char target[PATH_MAX], **names;
	unsigned int class_code;
	size_t n;
	int ret;

	ret = read_pci_id(g, dev, "vendor", 0xffff, &d->vendor);
	if (ret == 0)
		ret = read_pci_id(g, dev, "device", 0xffff, &d->device);
	if (ret == 0)
		ret = read_pci_id(g, dev, "class", 0xffffff, &class_code);
	if (ret < 0)
		return ret;
	d->kind = pci_classify(d->vendor, class_code);
	ret = read_numa_node(g, dev, &d->numa_node);
	if (ret < 0)
		return ret;
	if (sys_dir_read_link_name(dev, "driver", d->driver, sizeof(d->driver)) < 0)
		d->driver[0] = '\0';
	/* pci-hyperv puts each passed-through function under its VMBus device. */
	if (sys_dir_read_link(bus, d->addr, target, sizeof(target)) == 0)
		d->vpci = strstr(target, "/VMBUS:") != NULL;
	if (sys_dir_list(dev, "net", &names, &n) == 0) {
		if (n && strlen(names[0]) < sizeof(d->nic))
			strcpy(d->nic, names[0]);
		strv_free(names, n);
	}
	return read_msi_irqs(g, dev, idx);
}

static int cmp_msi(const void *a, const void *b)
{
	const struct msi_ref *x = a, *y = b;

	return (x->irq > y->irq) - (x->irq < y->irq);
}

static int cmp_pci_addr(const void *a, const void *b, void *ctx)
{
	const struct aff_input *in = ctx;

	return strcmp(in->pci[*(const size_t *)a].addr, in->pci[*(const size_t *)b].addr);
}

/* One IRQ, one device: a second claim is a tree we do not understand. */
static int index_pci(struct gather *g)
{
	struct aff_input *in = g->in;

	if (g->nmsi)
		qsort(g->msi, g->nmsi, sizeof(*g->msi), cmp_msi);
	for (size_t i = 1; i < g->nmsi; i++)
		if (g->msi[i].irq == g->msi[i - 1].irq)
			return gather_failf(g, -EBADMSG, "%s/" PCI_DEVICES "/%s/msi_irqs/%ld: "
					    "IRQ also listed by %s", root_dir_name(ROOT_SYS),
					    in->pci[g->msi[i].dev].addr, g->msi[i].irq,
					    in->pci[g->msi[i - 1].dev].addr);
	for (size_t i = 0; i < in->npci; i++)
		g->pci_by_addr[i] = i;
	if (in->npci)
		qsort_r(g->pci_by_addr, in->npci, sizeof(*g->pci_by_addr), cmp_pci_addr, in);
	return 0;
}

/* One entry of the bus directory: its address and its directory's files. */
static int read_pci_entry(struct gather *g, const struct sys_dir *bus, const char *name,
			  int idx)
{
	struct aff_pci_dev *d = &g->in->pci[idx];
	struct sys_dir dev = SYS_DIR_INIT;
	int ret;

	if (strlen(name) >= sizeof(d->addr) || parse_bdf(name, &d->domain) < 0)
		return gather_fail_at(g, -EBADMSG, bus, name, "not a PCI address");
	strcpy(d->addr, name);
	ret = sys_dir_open_sub(bus, name, &dev);
	if (ret < 0)
		ret = gather_fail_at(g, ret, &dev, NULL, NULL);
	else
		ret = read_pci_dev(g, bus, &dev, d, idx);
	sys_dir_close(&dev);
	return ret;
}

int gather_pci(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sys_dir bus = SYS_DIR_INIT;
	char **names = NULL;
	size_t n = 0;
	int ret;

	ret = sys_dir_open(g->r, ROOT_SYS, &bus, PCI_DEVICES);
	if (ret == 0)
		ret = sys_dir_list(&bus, ".", &names, &n);
	if (ret == -ENOENT)
		ret = 0; /* a VM without PCI */
	else if (ret < 0)
		ret = gather_fail_at(g, ret, &bus, NULL, NULL);
	if (ret == 0 && n > AFF_MAX_PCI)
		ret = gather_fail_at(g, -E2BIG, &bus, NULL, "too many devices");
	if (ret == 0 && n) {
		in->pci = calloc(n, sizeof(*in->pci));
		g->pci_by_addr = calloc(n, sizeof(*g->pci_by_addr));
		if (!in->pci || !g->pci_by_addr)
			ret = gather_failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = read_pci_entry(g, &bus, names[i], (int)i);
		in->npci += ret == 0;
	}
	strv_free(names, n);
	sys_dir_close(&bus);
	return ret < 0 ? ret : index_pci(g);
}

/* strcmp() of addr against the len bytes at key. */
static int cmp_addr_key(const char *addr, const char *key, size_t len)
{
	int c = strncmp(addr, key, len);

	return c ? c : addr[len] != '\0';
}

int gather_pci_find(const struct gather *g, const char *key, size_t len)
{
	size_t lo = 0, hi = g->in->npci;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_addr_key(g->in->pci[g->pci_by_addr[mid]].addr, key, len);

		if (c == 0)
			return (int)g->pci_by_addr[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int gather_msi_dev(const struct gather *g, long irq)
{
	struct msi_ref key = { irq, -1 };
	const struct msi_ref *m = g->nmsi ?
		bsearch(&key, g->msi, g->nmsi, sizeof(*g->msi), cmp_msi) : NULL;

	return m ? m->dev : -1;
}
