// SPDX-License-Identifier: MIT
/*
 * The NCCL topology model and its XML (nccl_topo.h).  Pure: the facts come
 * in, a model and text go out.
 *
 * The structure is the one of Azure's HPC images (research/tuning.md §3.5,
 * §3.6): <system version="1">, a <cpu numaid affinity arch vendor familyid
 * modelid> per NUMA node, under it a made-up PCIe switch per GPU/HCA pair
 * (<pci busid="ffff:ff:0N.0" class="0x060400" ...> with zero ids, as the ND
 * v5 file has) and the GPU's and HCA's own <pci busid class link_speed
 * link_width/>.  No <gpu>, <nic> or <net> elements: NCCL fills them from
 * NVML and its network plugin once it finds the <pci> elements.
 *
 * What NCCL's reader (src/graph/xml.cc) tolerates decides the rest: no XML
 * declaration (its parser expects an element after '<' and fails on
 * "<?xml"), attribute values it reads verbatim (it does not decode
 * entities, so only values that need no escaping are written), values of
 * at most 255 characters, and 256 elements in all including those it adds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "nccl_topo.h"
#include "sku.h"
#include "sysfile.h"
#include "util.h"

#define VENDOR_NVIDIA 0x10de
#define VENDOR_MELLANOX 0x15b3
#define CLASS_3D 0x030200
#define CLASS_INFINIBAND 0x020700
#define CLASS_BRIDGE_PCI 0x060400

bool nt_is_gpu(const struct aff_pci_dev *d)
{
	return d->kind == PCI_GPU && d->vendor == VENDOR_NVIDIA;
}

bool nt_is_hca(const struct aff_pci_dev *d)
{
	return d->kind == PCI_HCA && d->vendor == VENDOR_MELLANOX;
}

/*
 * Link figures a size documents for the devices its table lists, for when
 * sysfs has none (tuning.md §3.6; the kernel's spelling, which NCCL reads).
 */
static const struct {
	const char *family;
	const char *speed;
	unsigned int width;
} sku_links[] = {
	{ "ndv5", "32.0 GT/s PCIe", 16 },
	{ "ndv4", "16.0 GT/s PCIe", 16 },
};

static bool sku_link(const struct sku_policy *s, unsigned int domain, struct nt_link *l)
{
	if (!s || !s->family || sku_node_of_domain(s, domain, NULL) < 0)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(sku_links); i++) {
		if (strcmp(sku_links[i].family, s->family) != 0)
			continue;
		snprintf(l->speed, sizeof(l->speed), "%s", sku_links[i].speed);
		l->width = sku_links[i].width;
		return true;
	}
	return false;
}

const char *nt_node_source_name(enum nt_node_source s)
{
	static const char *const names[] = {
		[NT_NODE_SYSFS] = "sysfs", [NT_NODE_SKU] = "sku", [NT_NODE_DEFAULT] = "default",
	};

	return names[s];
}

const char *nt_link_source_name(enum nt_link_source s)
{
	static const char *const names[] = {
		[NT_LINK_MAX] = "max_link", [NT_LINK_CURRENT] = "current_link",
		[NT_LINK_SKU] = "sku", [NT_LINK_NONE] = "none",
	};

	return names[s];
}

static void failf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- nodes ------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Every node with online CPUs.  A kernel without NUMA lists no node: its
 * CPUs are all node 0's, as NCCL's own detection would number them.
 */
static int build_nodes(const struct aff_input *in, struct nccl_topo *t)
{
	int *ids = calloc(in->ncpus, sizeof(*ids));
	bool numa;
	size_t n = 0;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < in->ncpus; i++)
		if (in->cpus[i].node >= 0)
			ids[n++] = in->cpus[i].node;
	numa = n > 0;
	if (!numa)
		ids[n++] = 0;
	qsort(ids, n, sizeof(*ids), cmp_int);
	t->nodes = calloc(n, sizeof(*t->nodes));
	if (!t->nodes) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (!t->nnodes || t->nodes[t->nnodes - 1].node != ids[i])
			t->nodes[t->nnodes++].node = ids[i];
	free(ids);
	/* A CPU that no node lists (while others are listed) is in no <cpu>. */
	for (size_t i = 0; i < in->ncpus; i++)
		for (size_t k = 0; k < t->nnodes; k++)
			if (!numa || t->nodes[k].node == in->cpus[i].node)
				cpuset_set(&t->nodes[k].cpus, in->cpus[i].id);
	return 0;
}

static bool has_node(const struct nccl_topo *t, long node)
{
	for (size_t k = 0; k < t->nnodes; k++)
		if (t->nodes[k].node == node)
			return true;
	return false;
}

/*
 * The node of a device: its numa_node when that is a node with CPUs, else
 * the SKU table's for its PCI domain, else the lowest node (what kernels
 * with the "default to node 0" fix of pci-hyperv give every vPCI device the
 * host left without one).
 */
static void resolve_node(const struct nccl_topo *t, const struct aff_input *in,
			 const struct aff_pci_dev *p, struct nt_dev *d)
{
	int sku = sku_node_of_domain(in->sku, p->domain, NULL);

	d->sys_node = p->numa_node;
	if (p->numa_node >= 0 && has_node(t, p->numa_node)) {
		d->node = (int)p->numa_node;
		d->node_source = NT_NODE_SYSFS;
	} else if (sku >= 0 && has_node(t, sku)) {
		d->node = sku;
		d->node_source = NT_NODE_SKU;
	} else {
		d->node = t->nodes[0].node;
		d->node_source = NT_NODE_DEFAULT;
	}
}

/* ---- devices and links -------------------------------------------------- */

/* Each figure from the best source that has it: max_link_*, current_link_*, the SKU. */
static void resolve_link(const struct aff_input *in, const struct nt_sys_dev *sys,
			 struct nt_dev *d)
{
	struct nt_link none = { "", 0 }, sku = none;
	const struct nt_link *max = sys ? &sys->max : &none, *cur = sys ? &sys->current : &none;
	bool have_sku = sku_link(in->sku, d->domain, &sku);

	d->link_source = NT_LINK_NONE;
	if (max->speed[0])
		d->link_source = NT_LINK_MAX;
	else if (cur->speed[0])
		d->link_source = NT_LINK_CURRENT;
	else if (have_sku)
		d->link_source = NT_LINK_SKU;
	snprintf(d->link.speed, sizeof(d->link.speed), "%s",
		 max->speed[0] ? max->speed : cur->speed[0] ? cur->speed : sku.speed);
	d->link.width = max->width ? max->width : cur->width ? cur->width : sku.width;
	if (d->link_source == NT_LINK_NONE && d->link.width)
		d->link_source = max->width ? NT_LINK_MAX : cur->width ? NT_LINK_CURRENT :
			NT_LINK_SKU;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct nt_dev *x = a, *y = b;

	if (x->node != y->node)
		return (x->node > y->node) - (x->node < y->node);
	if (x->gpu != y->gpu)
		return x->gpu ? -1 : 1;
	if (x->domain != y->domain)
		return (x->domain > y->domain) - (x->domain < y->domain);
	return strcmp(x->addr, y->addr);
}

static int build_devs(const struct aff_input *in, const struct nt_sys_dev *sys,
		      struct nccl_topo *t, char *err, size_t errlen)
{
	size_t n = 0;

	for (size_t i = 0; i < in->npci; i++)
		n += nt_is_gpu(&in->pci[i]) || nt_is_hca(&in->pci[i]);
	/* Before any allocation: a tree of thousands of GPUs is refused cheaply. */
	if (n > NT_MAX_ELEMENTS) {
		failf(err, errlen, "%zu GPUs and InfiniBand HCAs: more than NCCL's topology "
		      "file can hold (%d elements)", n, NT_MAX_ELEMENTS);
		return -E2BIG;
	}
	t->devs = calloc(n ? n : 1, sizeof(*t->devs));
	if (!t->devs)
		return -ENOMEM;
	for (size_t i = 0; i < in->npci; i++) {
		const struct aff_pci_dev *p = &in->pci[i];
		struct nt_dev *d = &t->devs[t->ndevs];

		if (!nt_is_gpu(p) && !nt_is_hca(p))
			continue;
		snprintf(d->addr, sizeof(d->addr), "%s", p->addr);
		d->domain = p->domain;
		d->vendor = p->vendor;
		d->device = p->device;
		d->gpu = nt_is_gpu(p);
		d->class_code = sys && sys[i].class_code ? sys[i].class_code :
			d->gpu ? CLASS_3D : CLASS_INFINIBAND;
		d->sw = -1;
		resolve_node(t, in, p, d);
		resolve_link(in, sys ? &sys[i] : NULL, d);
		t->ngpus += d->gpu;
		t->nhcas += !d->gpu;
		t->nodes_default += d->node_source == NT_NODE_DEFAULT;
		t->ndevs++;
	}
	if (t->ndevs)
		qsort(t->devs, t->ndevs, sizeof(*t->devs), cmp_dev);
	return 0;
}

/* ---- pairs ---------------------------------------------------------------- */

/*
 * Switch k (1-based) is "ffff:ff:kk.0" as in Azure's files while k < 32;
 * past the 32 device numbers of a bus the next bus down holds the rest.
 */
static void switch_busid(size_t k, char *buf, size_t len)
{
	snprintf(buf, len, "ffff:%02zx:%02zx.0", 0xff - k / 32, k % 32);
}

static void switch_link(const struct nt_dev *gpu, const struct nt_dev *hca, struct nt_link *l)
{
	snprintf(l->speed, sizeof(l->speed), "%s", gpu->link.speed[0] ? gpu->link.speed :
		 hca->link.speed);
	l->width = gpu->link.width ? gpu->link.width : hca->link.width;
}

static int build_pairs(struct nccl_topo *t)
{
	size_t d = 0;

	t->switches = calloc(t->ndevs / 2 + 1, sizeof(*t->switches));
	if (!t->switches)
		return -ENOMEM;
	for (size_t k = 0; k < t->nnodes; k++) {
		struct nt_node *node = &t->nodes[k];
		size_t g = 0, h;

		node->first = d;
		node->first_sw = t->nswitches;
		while (d < t->ndevs && t->devs[d].node == node->node)
			d++;
		node->n = d - node->first;
		while (g < node->n && t->devs[node->first + g].gpu)
			g++;
		h = node->n - g;
		for (size_t i = 0; i < g && i < h; i++) {
			struct nt_switch *s = &t->switches[t->nswitches];
			struct nt_dev *gpu = &t->devs[node->first + i];
			struct nt_dev *hca = &t->devs[node->first + g + i];

			switch_busid(t->nswitches + 1, s->busid, sizeof(s->busid));
			s->gpu = node->first + i;
			s->hca = node->first + g + i;
			switch_link(gpu, hca, &s->link);
			gpu->sw = hca->sw = (int)t->nswitches++;
		}
		node->nsw = t->nswitches - node->first_sw;
		t->npairs += (unsigned int)node->nsw;
	}
	return 0;
}

int nccl_topo_affinity(const struct nccl_topo *t, const struct nt_node *n, char *buf, size_t len)
{
	return cpuset_format_mask(&n->cpus, t->mask_bits, buf, len);
}

/* What NCCL's reader can take: its element count and its attribute length. */
static int check_limits(const struct nccl_topo *t, char *err, size_t errlen)
{
	size_t elements = 1 + t->nnodes + t->nswitches + t->ndevs;
	char mask[NT_ATTR_MAX + 1];

	if (elements > NT_MAX_ELEMENTS) {
		failf(err, errlen, "the topology needs %zu XML elements: NCCL's reader holds %d "
		      "from a file", elements, NT_MAX_ELEMENTS);
		return -E2BIG;
	}
	for (size_t k = 0; k < t->nnodes; k++)
		if (nccl_topo_affinity(t, &t->nodes[k], mask, sizeof(mask)) < 0) {
			failf(err, errlen, "the CPU mask of node %d (%u bits) is longer than the "
			      "%d characters NCCL reads", t->nodes[k].node, t->mask_bits,
			      NT_ATTR_MAX);
			return -E2BIG;
		}
	return 0;
}

int nccl_topo_build(const struct aff_input *in, const struct nt_sys_dev *sys,
		    const struct nt_cpu_id *cpu, unsigned int mask_bits, struct nccl_topo *t,
		    char *err, size_t errlen)
{
	int last = -1, ret;

	memset(t, 0, sizeof(*t));
	if (errlen)
		err[0] = '\0';
	if (!in->ncpus) {
		failf(err, errlen, "no online CPU");
		return -EINVAL;
	}
	t->cpu = *cpu;
	t->sku = in->sku ? in->sku->name : NULL;
	for (size_t i = 0; i < in->ncpus; i++)
		if ((int)in->cpus[i].id > last)
			last = (int)in->cpus[i].id;
	if (last >= CPUSET_MAX) {
		failf(err, errlen, "CPU %d is beyond the %d the agent handles", last, CPUSET_MAX);
		return -E2BIG;
	}
	/* The kernel prints nr_cpu_ids bits; never fewer than the CPUs online. */
	t->mask_bits = mask_bits > (unsigned int)last ? mask_bits : (unsigned int)last + 1;
	if (t->mask_bits > CPUSET_MAX)
		t->mask_bits = CPUSET_MAX;
	ret = build_nodes(in, t);
	if (ret == 0)
		ret = build_devs(in, sys, t, err, errlen);
	if (ret == 0 && !t->ngpus) {
		failf(err, errlen, "no NVIDIA GPU%s", t->nhcas ? " (InfiniBand HCAs alone "
		      "are nothing for NCCL)" : "");
		ret = -ENODEV;
	}
	if (ret == 0)
		ret = build_pairs(t);
	if (ret == 0)
		ret = check_limits(t, err, errlen);
	if (ret == -ENOMEM)
		failf(err, errlen, "out of memory");
	return ret;
}

void nccl_topo_free(struct nccl_topo *t)
{
	free(t->nodes);
	free(t->devs);
	free(t->switches);
	memset(t, 0, sizeof(*t));
}

/* ---- XML ------------------------------------------------------------------ */

/*
 * A value NCCL's reader takes verbatim: printable ASCII, nothing libxml2
 * would escape (NCCL does not decode entities), at most 255 characters.
 */
static bool value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n > NT_ATTR_MAX)
		return false;
	for (const char *p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7e || strchr("\"'&<>", *p))
			return false;
	return true;
}

static int attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (!value_ok(value))
		return -EINVAL;
	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value) < 0 ? -EIO : 0;
}

static int attr_fmt(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int attr_fmt(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return attr(w, name, buf);
}

static int start(xmlTextWriterPtr w, const char *name)
{
	return xmlTextWriterStartElement(w, BAD_CAST name) < 0 ? -EIO : 0;
}

static int end(xmlTextWriterPtr w)
{
	return xmlTextWriterEndElement(w) < 0 ? -EIO : 0;
}

/* link_speed and link_width; an unknown figure is left out for NCCL to read itself. */
static int link_attrs(xmlTextWriterPtr w, const struct nt_link *l)
{
	int ret = 0;

	if (l->speed[0])
		ret = attr(w, "link_speed", l->speed);
	if (ret == 0 && l->width)
		ret = attr_fmt(w, "link_width", "%u", l->width);
	return ret;
}

static int write_dev(xmlTextWriterPtr w, const struct nt_dev *d)
{
	int ret = start(w, "pci");

	if (ret == 0)
		ret = attr(w, "busid", d->addr);
	if (ret == 0)
		ret = attr_fmt(w, "class", "0x%06x", d->class_code);
	if (ret == 0)
		ret = link_attrs(w, &d->link);
	return ret ? ret : end(w);
}

/* The made-up switch: Azure's ND v5 file gives it zero ids, so NCCL reads none from sysfs. */
static int write_switch(xmlTextWriterPtr w, const struct nccl_topo *t, const struct nt_switch *s)
{
	static const char *const ids[] = { "vendor", "device", "subsystem_vendor",
					   "subsystem_device" };
	int ret = start(w, "pci");

	if (ret == 0)
		ret = attr(w, "busid", s->busid);
	if (ret == 0)
		ret = attr_fmt(w, "class", "0x%06x", CLASS_BRIDGE_PCI);
	if (ret == 0)
		ret = link_attrs(w, &s->link);
	for (size_t i = 0; ret == 0 && i < ELEMENTSOF(ids); i++)
		ret = attr(w, ids[i], "0x0000");
	if (ret == 0)
		ret = write_dev(w, &t->devs[s->gpu]);
	if (ret == 0)
		ret = write_dev(w, &t->devs[s->hca]);
	return ret ? ret : end(w);
}

static int write_cpu_attrs(xmlTextWriterPtr w, const struct nccl_topo *t, const struct nt_node *n)
{
	char mask[NT_ATTR_MAX + 1];
	int ret = attr_fmt(w, "numaid", "%d", n->node);

	if (ret == 0)
		ret = nccl_topo_affinity(t, n, mask, sizeof(mask)) < 0 ? -E2BIG : 0;
	if (ret == 0)
		ret = attr(w, "affinity", mask);
	if (ret == 0)
		ret = attr(w, "arch", t->cpu.arch);
	/* NCCL reads vendor, family and model on x86 only. */
	if (ret == 0 && t->cpu.vendor[0]) {
		ret = attr(w, "vendor", t->cpu.vendor);
		if (ret == 0)
			ret = attr_fmt(w, "familyid", "%d", t->cpu.family);
		if (ret == 0)
			ret = attr_fmt(w, "modelid", "%d", t->cpu.model);
	}
	return ret;
}

/* The node's switches, then its GPUs and HCAs without a partner. */
static int write_node(xmlTextWriterPtr w, const struct nccl_topo *t, const struct nt_node *n)
{
	int ret = start(w, "cpu");

	if (ret == 0)
		ret = write_cpu_attrs(w, t, n);
	for (size_t i = 0; ret == 0 && i < n->nsw; i++)
		ret = write_switch(w, t, &t->switches[n->first_sw + i]);
	for (size_t i = 0; ret == 0 && i < n->n; i++)
		if (t->devs[n->first + i].sw < 0)
			ret = write_dev(w, &t->devs[n->first + i]);
	return ret ? ret : end(w);
}

static int write_system(xmlTextWriterPtr w, const struct nccl_topo *t)
{
	int ret = start(w, "system");

	if (ret == 0)
		ret = attr(w, "version", "1");
	for (size_t k = 0; ret == 0 && k < t->nnodes; k++)
		ret = write_node(w, t, &t->nodes[k]);
	return ret ? ret : end(w);
}

int nccl_topo_xml(const struct nccl_topo *t, char **out, size_t *len)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	int ret;

	*out = NULL;
	*len = 0;
	if (!w) {
		xmlBufferFree(buf);
		return -ENOMEM;
	}
	/* No xmlTextWriterStartDocument(): it writes the "<?xml" NCCL cannot read. */
	ret = xmlTextWriterSetIndent(w, 1) < 0 ||
	      xmlTextWriterSetIndentString(w, BAD_CAST "  ") < 0 ? -EIO : 0;
	if (ret == 0)
		ret = write_system(w, t);
	if (ret == 0 && xmlTextWriterFlush(w) < 0)
		ret = -EIO;
	xmlFreeTextWriter(w);
	if (ret == 0) {
		*len = (size_t)xmlBufferLength(buf);
		*out = malloc(*len + 1);
		if (*out) {
			memcpy(*out, xmlBufferContent(buf), *len);
			(*out)[*len] = '\0';
		} else {
			*len = 0;
			ret = -ENOMEM;
		}
	}
	xmlBufferFree(buf);
	return ret;
}

/* ---- nccl.conf ------------------------------------------------------------ */

bool nt_path_ok(const char *path)
{
	size_t n = strlen(path);

	if (path[0] != '/' || n < 2 || n >= 4096 || path[n - 1] == '/' || strstr(path, "//"))
		return false;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	/* No "." or ".." component: the path NCCL opens is the one written. */
	for (const char *p = path; p; p = strchr(p + 1, '/')) {
		const char *c = p + 1;
		size_t k = strcspn(c, "/");

		if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

int nccl_topo_conf(const char *topo_file, char **out, size_t *len)
{
	int n;

	*out = NULL;
	*len = 0;
	if (!nt_path_ok(topo_file))
		return -EINVAL;
	/* The three lines of Azure's ND customisation (tuning.md §3.5). */
	n = asprintf(out, "NCCL_TOPO_FILE=%s\nNCCL_IB_PCI_RELAXED_ORDERING=1\n"
		     "NCCL_IGNORE_CPU_AFFINITY=1\n", topo_file);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	*len = (size_t)n;
	return 0;
}

/* ---- parsers -------------------------------------------------------------- */

/* Decimal digits only: parse_unsigned() would also take "0x8f". */
static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int nt_parse_link_speed(const char *text, char *speed, size_t len)
{
	const char *p = text;
	size_t n;

	speed[0] = '\0';
	if (strcmp(text, "Unknown") == 0 || strcmp(text, "Unknown speed") == 0)
		return 0;
	/* "2.5 GT/s PCIe", "16.0 GT/s PCIe" (kernel >= 5.7), "8 GT/s" (older). */
	for (n = 0; isdigit((unsigned char)*p); p++)
		n++;
	if (n == 0 || n > 3)
		return -EINVAL;
	if (*p == '.') {
		p++;
		for (n = 0; isdigit((unsigned char)*p); p++)
			n++;
		if (n == 0 || n > 2)
			return -EINVAL;
	}
	if (strcmp(p, " GT/s") != 0 && strcmp(p, " GT/s PCIe") != 0)
		return -EINVAL;
	if (strlen(text) >= len)
		return -EINVAL;
	strcpy(speed, text);
	return 0;
}

int nt_parse_link_width(const char *text, unsigned int *width)
{
	unsigned long long v;

	*width = 0;
	/* x1 … x32 (the kernel prints the negotiated lanes, 0 for a link that is down). */
	if (!all_digits(text) || parse_unsigned(text, 32, &v) < 0)
		return -EINVAL;
	*width = (unsigned int)v;
	return 0;
}

/* A CPUID vendor string NCCL compares as it is: "GenuineIntel", "AuthenticAMD". */
static bool vendor_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 12)
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != ' ')
			return false;
	return true;
}

static int number_field(const char *value, unsigned long long max, int *out)
{
	unsigned long long v;

	if (!all_digits(value) || parse_unsigned(value, max, &v) < 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

struct cpuinfo_seen {
	bool vendor, family, model, implementer;
};

/* The value of a field we read, copied out (the flags line, 1.5 KiB, is not). */
static int value_copy(const char *v, size_t n, char *buf, size_t len)
{
	if (n >= len || memchr(v, '\0', n))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

static bool key_is(const char *key, size_t n, const char *name)
{
	return n == strlen(name) && memcmp(key, name, n) == 0;
}

static int cpuinfo_field(const char *key, size_t klen, const char *v, size_t vlen,
			 struct nt_cpu_id *id, struct cpuinfo_seen *s)
{
	char value[sizeof(id->vendor)]; /* longer than any field we read is malformed */
	bool *seen = NULL;
	int ret = 0;

	if (key_is(key, klen, "vendor_id")) {
		seen = &s->vendor;
		ret = value_copy(v, vlen, value, sizeof(value));
		if (ret == 0 && !vendor_ok(value))
			ret = -EINVAL;
		if (ret == 0)
			snprintf(id->vendor, sizeof(id->vendor), "%s", value);
	} else if (key_is(key, klen, "cpu family")) {
		seen = &s->family;
		ret = value_copy(v, vlen, value, sizeof(value));
		/* Base family 15 plus an 8-bit extended family at most. */
		if (ret == 0)
			ret = number_field(value, 15 + 255, &id->family);
	} else if (key_is(key, klen, "model")) {
		seen = &s->model;
		ret = value_copy(v, vlen, value, sizeof(value));
		if (ret == 0)
			ret = number_field(value, 255, &id->model);
	} else if (key_is(key, klen, "CPU implementer")) {
		seen = &s->implementer;
	}
	if (ret < 0 || (seen && *seen))
		return -EINVAL; /* malformed, or a key twice in one processor */
	if (seen)
		*seen = true;
	return 0;
}

/* "key\t: value": the key without its trailing blanks, the value after ": ". */
static int cpuinfo_line(const char *line, size_t n, struct nt_cpu_id *id, struct cpuinfo_seen *s)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t klen;

	if (!colon)
		return -EINVAL;
	for (klen = (size_t)(colon - line); klen && (line[klen - 1] == ' ' || line[klen - 1] == '\t');)
		klen--;
	for (v = colon + 1; v < line + n && (*v == ' ' || *v == '\t'); v++)
		;
	return cpuinfo_field(line, klen, v, (size_t)(line + n - v), id, s);
}

int nt_parse_cpuinfo(const char *text, struct nt_cpu_id *id, unsigned int *line)
{
	struct cpuinfo_seen s = { 0 };
	const char *p = text;

	memset(id, 0, sizeof(*id));
	id->family = id->model = -1;
	*line = 0;
	/* The first processor's block: up to the first empty line. */
	while (*p) {
		size_t n = strcspn(p, "\n");

		(*line)++;
		if (n == 0)
			break;
		if (cpuinfo_line(p, n, id, &s) < 0)
			return -EINVAL;
		p += n + (p[n] == '\n');
	}
	if (s.vendor || s.family || s.model) {
		if (!s.vendor || !s.family || !s.model) {
			*line = 0;
			return -EINVAL; /* x86 without one of the three */
		}
		snprintf(id->arch, sizeof(id->arch), "x86_64");
		return 0;
	}
	*line = 0;
	if (!s.implementer)
		return -EINVAL;
	snprintf(id->arch, sizeof(id->arch), "arm64");
	return 0;
}
