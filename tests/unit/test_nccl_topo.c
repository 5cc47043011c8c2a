// SPDX-License-Identifier: MIT
/*
 * nccl_topo_build() and nccl_topo_xml() on facts built here by hand: GPU/HCA
 * pairing by PCI domain per node, CPU masks in the kernel's format for 1 to
 * 4 nodes, GPUs without HCAs, HCAs on other nodes, numa_node -1 resolved
 * from the SKU table or to the lowest node, link figures by source, and
 * hostile inputs (too many devices, masks NCCL cannot read, no CPUs, foreign
 * vendors).  The XML is parsed back with libxml2 and held to what NCCL's
 * own reader needs.  The parsers of /proc/cpuinfo and the link files get
 * good and bad text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "nccl_topo.h"
#include "sku.h"

#define NVIDIA 0x10de
#define MELLANOX 0x15b3

static const struct nt_cpu_id spr = { "x86_64", "GenuineIntel", 6, 143 };

/* ncpus CPUs split evenly over nnodes nodes (node -1 for all: a kernel without NUMA). */
static struct aff_input *mk_input(unsigned int ncpus, int nnodes)
{
	struct aff_input *in = calloc(1, sizeof(*in));

	in->ncpus = ncpus;
	in->nnodes = nnodes > 0 ? (unsigned int)nnodes : 1;
	in->cpus = calloc(ncpus ? ncpus : 1, sizeof(*in->cpus));
	for (unsigned int i = 0; i < ncpus; i++) {
		in->cpus[i].id = i;
		in->cpus[i].node = nnodes > 0 ? (int)(i / (ncpus / (unsigned int)nnodes)) : -1;
		in->cpus[i].core = i;
		in->cpus[i].allowed = true;
	}
	in->sku_source = "none";
	return in;
}

static void free_input(struct aff_input *in)
{
	free(in->cpus);
	free(in->pci);
	free(in);
}

static int add_dev(struct aff_input *in, unsigned int domain, unsigned int fn, unsigned int vendor,
		   enum pci_kind kind, long node)
{
	struct aff_pci_dev *d;

	in->pci = realloc(in->pci, (in->npci + 1) * sizeof(*d));
	d = &in->pci[in->npci];
	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%04x:00:00.%u", domain, fn);
	d->domain = domain;
	d->vendor = vendor;
	d->device = kind == PCI_GPU ? 0x2335 : 0x1021;
	d->kind = kind;
	d->numa_node = node;
	d->vpci = true;
	return (int)in->npci++;
}

static void add_gpu(struct aff_input *in, unsigned int domain, long node)
{
	add_dev(in, domain, 0, NVIDIA, PCI_GPU, node);
}

static void add_hca(struct aff_input *in, unsigned int domain, long node)
{
	add_dev(in, domain, 0, MELLANOX, PCI_HCA, node);
}

/* ND H200 v5 as tuning.md §3.6 has it; node -1 everywhere when numa is false. */
static struct aff_input *mk_ndv5(bool numa)
{
	static const unsigned int gpus[] = { 1, 2, 3, 8, 9, 0xa, 0xb, 0xc };
	struct aff_input *in = mk_input(96, 2);

	/* Not in domain order: the model sorts. */
	for (int i = 7; i >= 0; i--) {
		add_hca(in, 0x101 + (unsigned int)i, numa ? i / 4 : -1);
		add_gpu(in, gpus[i], numa ? i / 4 : -1);
	}
	/* The AN VF (Ethernet, 15b3) and an NVMe disk: neither is described. */
	add_dev(in, 0x3a52, 2, MELLANOX, PCI_NIC, 0);
	add_dev(in, 0x47f1, 0, 0x1414, PCI_NVME, 1);
	return in;
}

static struct nccl_topo build_ok(const struct aff_input *in, const struct nt_sys_dev *sys,
				 unsigned int bits)
{
	struct nccl_topo t;
	char err[256];
	int ret = nccl_topo_build(in, sys, &spr, bits, &t, err, sizeof(err));

	if (ret != 0)
		fail_msg("nccl_topo_build: %d: %s", ret, err);
	return t;
}

static char *xml_of(const struct nccl_topo *t)
{
	char *xml;
	size_t len;

	assert_int_equal(nccl_topo_xml(t, &xml, &len), 0);
	assert_int_equal(strlen(xml), len);
	return xml;
}

static const char *affinity(const struct nccl_topo *t, size_t k)
{
	static char buf[NT_ATTR_MAX + 1];

	assert_int_equal(nccl_topo_affinity(t, &t->nodes[k], buf, sizeof(buf)), 0);
	return buf;
}

/* ---- pairing ---------------------------------------------------------------- */

static void test_ndv5_pairs(void **state)
{
	static const char *const pairs[8][3] = {
		{ "ffff:ff:01.0", "0001:00:00.0", "0101:00:00.0" },
		{ "ffff:ff:02.0", "0002:00:00.0", "0102:00:00.0" },
		{ "ffff:ff:03.0", "0003:00:00.0", "0103:00:00.0" },
		{ "ffff:ff:04.0", "0008:00:00.0", "0104:00:00.0" },
		{ "ffff:ff:05.0", "0009:00:00.0", "0105:00:00.0" },
		{ "ffff:ff:06.0", "000a:00:00.0", "0106:00:00.0" },
		{ "ffff:ff:07.0", "000b:00:00.0", "0107:00:00.0" },
		{ "ffff:ff:08.0", "000c:00:00.0", "0108:00:00.0" },
	};
	struct aff_input *in = mk_ndv5(true);
	struct nccl_topo t = build_ok(in, NULL, 96);

	(void)state;
	assert_int_equal(t.ngpus, 8);
	assert_int_equal(t.nhcas, 8);
	assert_int_equal(t.npairs, 8);
	assert_int_equal(t.nswitches, 8);
	assert_int_equal(t.nnodes, 2);
	for (size_t i = 0; i < 8; i++) {
		const struct nt_switch *s = &t.switches[i];

		assert_string_equal(s->busid, pairs[i][0]);
		assert_string_equal(t.devs[s->gpu].addr, pairs[i][1]);
		assert_string_equal(t.devs[s->hca].addr, pairs[i][2]);
		assert_int_equal(t.devs[s->gpu].node, (int)i / 4);
		assert_int_equal(t.devs[s->hca].node, (int)i / 4);
		assert_int_equal(t.devs[s->gpu].node_source, NT_NODE_SYSFS);
	}
	assert_int_equal(t.nodes[0].nsw, 4);
	assert_int_equal(t.nodes[1].first_sw, 4);
	assert_string_equal(affinity(&t, 0), "00000000,0000ffff,ffffffff");
	assert_string_equal(affinity(&t, 1), "ffffffff,ffff0000,00000000");
	assert_string_equal(t.sku ? t.sku : "none", "none");
	nccl_topo_free(&t);
	free_input(in);
}

/* ND A100 v4: four nodes, two pairs each (tuning.md §3.6), in domain order. */
static void test_four_nodes(void **state)
{
	static const unsigned int g[4][2] = { { 3, 4 }, { 1, 2 }, { 0xd, 0xe }, { 0xb, 0xc } };
	static const unsigned int h[4][2] = { { 0x103, 0x104 }, { 0x101, 0x102 },
					      { 0x107, 0x108 }, { 0x105, 0x106 } };
	static const char *const masks[4] = {
		"00000000,00000000,00ffffff", "00000000,0000ffff,ff000000",
		"000000ff,ffff0000,00000000", "ffffff00,00000000,00000000",
	};
	struct aff_input *in = mk_input(96, 4);
	struct nccl_topo t;

	(void)state;
	for (int n = 3; n >= 0; n--)
		for (int i = 0; i < 2; i++) {
			add_gpu(in, g[n][i], n);
			add_hca(in, h[n][i], n);
		}
	t = build_ok(in, NULL, 0);
	assert_int_equal(t.mask_bits, 96);
	assert_int_equal(t.nnodes, 4);
	assert_int_equal(t.npairs, 8);
	for (size_t n = 0; n < 4; n++) {
		assert_int_equal(t.nodes[n].node, (int)n);
		assert_int_equal(t.nodes[n].nsw, 2);
		assert_string_equal(affinity(&t, n), masks[n]);
		for (size_t i = 0; i < 2; i++) {
			const struct nt_switch *s = &t.switches[t.nodes[n].first_sw + i];

			assert_int_equal(t.devs[s->gpu].domain, g[n][i]);
			assert_int_equal(t.devs[s->hca].domain, h[n][i]);
		}
	}
	/* Switches are numbered across nodes in node order. */
	assert_string_equal(t.switches[2].busid, "ffff:ff:03.0");
	assert_string_equal(t.switches[7].busid, "ffff:ff:08.0");
	nccl_topo_free(&t);
	free_input(in);
}

/* NC A100 v4: one GPU per node and no HCA: no switch, each GPU under its CPU. */
static void test_gpus_without_hcas(void **state)
{
	struct aff_input *in = mk_input(96, 4);
	struct nccl_topo t;
	char *xml;

	(void)state;
	for (unsigned int i = 0; i < 4; i++)
		add_gpu(in, 1 + i, (long)i);
	t = build_ok(in, NULL, 96);
	assert_int_equal(t.ngpus, 4);
	assert_int_equal(t.nhcas, 0);
	assert_int_equal(t.nswitches, 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(t.nodes[i].n, 1);
		assert_int_equal(t.devs[t.nodes[i].first].sw, -1);
	}
	xml = xml_of(&t);
	assert_null(strstr(xml, "0x060400"));
	assert_non_null(strstr(xml, "<cpu numaid=\"3\" affinity=\"ffffff00,00000000,00000000\" "
				    "arch=\"x86_64\" vendor=\"GenuineIntel\" familyid=\"6\" "
				    "modelid=\"143\">\n    <pci busid=\"0004:00:00.0\" "
				    "class=\"0x030200\"/>\n  </cpu>"));
	free(xml);
	nccl_topo_free(&t);
	free_input(in);
}

/* GPUs on node 0, HCAs on node 1: nothing pairs across nodes. */
static void test_hcas_on_other_node(void **state)
{
	struct aff_input *in = mk_input(64, 2);
	struct nccl_topo t;

	(void)state;
	add_gpu(in, 1, 0);
	add_gpu(in, 2, 0);
	add_hca(in, 0x101, 1);
	add_hca(in, 0x102, 1);
	add_hca(in, 0x103, 0); /* one HCA on node 0: pairs with its first GPU */
	t = build_ok(in, NULL, 64);
	assert_int_equal(t.npairs, 1);
	assert_string_equal(t.devs[t.switches[0].gpu].addr, "0001:00:00.0");
	assert_string_equal(t.devs[t.switches[0].hca].addr, "0103:00:00.0");
	assert_int_equal(t.nodes[0].n, 3);
	assert_int_equal(t.nodes[1].n, 2);
	assert_int_equal(t.nodes[1].nsw, 0);
	assert_string_equal(affinity(&t, 0), "00000000,ffffffff");
	assert_string_equal(affinity(&t, 1), "ffffffff,00000000");
	nccl_topo_free(&t);
	free_input(in);
}

/* More GPUs than HCAs on a node, and a second HCA function: leftovers sit under the CPU. */
static void test_leftovers(void **state)
{
	struct aff_input *in = mk_input(8, 1);
	struct nccl_topo t;
	char *xml;

	(void)state;
	add_gpu(in, 2, 0);
	add_gpu(in, 1, 0);
	add_gpu(in, 3, 0);
	add_dev(in, 0x101, 1, MELLANOX, PCI_HCA, 0);
	add_dev(in, 0x101, 0, MELLANOX, PCI_HCA, 0);
	t = build_ok(in, NULL, 8);
	assert_int_equal(t.npairs, 2);
	assert_string_equal(t.devs[t.switches[0].hca].addr, "0101:00:00.0");
	assert_string_equal(t.devs[t.switches[1].hca].addr, "0101:00:00.1");
	assert_string_equal(t.devs[t.switches[1].gpu].addr, "0002:00:00.0");
	xml = xml_of(&t);
	/* The lone GPU follows the switches. */
	assert_true(strstr(xml, "0003:00:00.0") > strstr(xml, "ffff:ff:02.0"));
	assert_non_null(strstr(xml, "affinity=\"ff\""));
	free(xml);
	nccl_topo_free(&t);
	free_input(in);
}

/* ---- nodes -------------------------------------------------------------------- */

/* numa_node -1 everywhere: the SKU table gives the same model and the same XML. */
static void test_sku_nodes(void **state)
{
	struct aff_input *a = mk_ndv5(true), *b = mk_ndv5(false);
	struct nccl_topo ta, tb;
	char *xa, *xb;

	(void)state;
	b->sku = sku_by_vm_size("Standard_ND96isr_H200_v5");
	b->sku_source = "imds";
	assert_non_null(b->sku);
	ta = build_ok(a, NULL, 96);
	tb = build_ok(b, NULL, 96);
	for (size_t i = 0; i < tb.ndevs; i++) {
		assert_int_equal(tb.devs[i].node_source, NT_NODE_SKU);
		assert_int_equal(tb.devs[i].node, ta.devs[i].node);
		assert_int_equal(tb.devs[i].sys_node, -1);
	}
	assert_int_equal(tb.nodes_default, 0);
	assert_string_equal(tb.sku, "ND H200 v5");
	xa = xml_of(&ta);
	xb = xml_of(&tb);
	/* Links differ (the SKU's figures for b): compare the structure without them. */
	assert_int_equal(tb.devs[0].link_source, NT_LINK_SKU);
	assert_string_equal(tb.devs[0].link.speed, "32.0 GT/s PCIe");
	a->sku = b->sku;
	nccl_topo_free(&ta);
	ta = build_ok(a, NULL, 96);
	free(xa);
	xa = xml_of(&ta);
	assert_string_equal(xa, xb);
	free(xa);
	free(xb);
	nccl_topo_free(&ta);
	nccl_topo_free(&tb);
	free_input(a);
	free_input(b);
}

/* No node and no table: the lowest node, counted; a node without CPUs is no node. */
static void test_default_node(void **state)
{
	struct aff_input *in = mk_input(8, 2);
	struct nccl_topo t;

	(void)state;
	add_gpu(in, 1, -1);
	add_hca(in, 0x101, 7);   /* a node with no CPUs (memory-only, or a lie) */
	add_gpu(in, 2, 1);
	t = build_ok(in, NULL, 8);
	assert_int_equal(t.nodes_default, 2);
	assert_int_equal(t.devs[0].node, 0);
	assert_int_equal(t.devs[0].node_source, NT_NODE_DEFAULT);
	assert_int_equal(t.devs[1].node_source, NT_NODE_DEFAULT);
	assert_int_equal(t.devs[1].sys_node, 7);
	assert_int_equal(t.npairs, 1);
	assert_int_equal(t.nodes[1].n, 1);
	nccl_topo_free(&t);
	free_input(in);

	/* The lowest node is the lowest with CPUs, not 0. */
	in = mk_input(8, 2);
	for (size_t i = 0; i < in->ncpus; i++)
		in->cpus[i].node += 2;
	add_gpu(in, 1, -1);
	t = build_ok(in, NULL, 8);
	assert_int_equal(t.nodes[0].node, 2);
	assert_int_equal(t.devs[0].node, 2);
	nccl_topo_free(&t);
	free_input(in);
}

/* A kernel without NUMA lists no node: node 0 holds every CPU. */
static void test_no_numa(void **state)
{
	struct aff_input *in = mk_input(4, -1);
	struct nccl_topo t;

	(void)state;
	add_gpu(in, 1, -1);
	t = build_ok(in, NULL, 0);
	assert_int_equal(t.nnodes, 1);
	assert_int_equal(t.nodes[0].node, 0);
	assert_string_equal(affinity(&t, 0), "f");
	assert_int_equal(t.devs[0].node_source, NT_NODE_DEFAULT);
	nccl_topo_free(&t);
	free_input(in);
}

/* Masks are as wide as nr_cpu_ids (possible CPUs), never narrower than the online ones. */
static void test_mask_width(void **state)
{
	struct aff_input *in = mk_input(40, 2);
	struct nccl_topo t;

	(void)state;
	add_gpu(in, 1, 0);
	t = build_ok(in, NULL, 40);
	assert_string_equal(affinity(&t, 0), "00,000fffff");
	assert_string_equal(affinity(&t, 1), "ff,fff00000");
	nccl_topo_free(&t);
	t = build_ok(in, NULL, 128);
	assert_string_equal(affinity(&t, 1), "00000000,00000000,000000ff,fff00000");
	nccl_topo_free(&t);
	t = build_ok(in, NULL, 3); /* a possible list smaller than the online CPUs */
	assert_int_equal(t.mask_bits, 40);
	nccl_topo_free(&t);
	free_input(in);
}

/* ---- links ---------------------------------------------------------------------- */

static void test_links(void **state)
{
	struct aff_input *in = mk_input(8, 1);
	struct nt_sys_dev sys[4];
	struct nccl_topo t;
	char *xml;

	(void)state;
	memset(sys, 0, sizeof(sys));
	add_gpu(in, 1, 0);
	add_hca(in, 0x101, 0);
	add_gpu(in, 2, 0);
	add_hca(in, 0x102, 0);
	/* GPU 1: max and an idle current link: max wins. */
	sys[0] = (struct nt_sys_dev){ 0x030000, { "32.0 GT/s PCIe", 16 }, { "2.5 GT/s PCIe", 16 } };
	/* HCA 0101: current only, old kernel spelling. */
	sys[1] = (struct nt_sys_dev){ 0x020700, { "", 0 }, { "16 GT/s", 8 } };
	/* GPU 2: nothing; HCA 0102: width only. */
	sys[3] = (struct nt_sys_dev){ 0, { "", 4 }, { "", 0 } };
	t = build_ok(in, sys, 8);
	assert_int_equal(t.devs[0].link_source, NT_LINK_MAX);
	assert_string_equal(t.devs[0].link.speed, "32.0 GT/s PCIe");
	assert_int_equal(t.devs[0].class_code, 0x030000);
	assert_int_equal(t.devs[2].link_source, NT_LINK_CURRENT);
	assert_int_equal(t.devs[2].link.width, 8);
	assert_int_equal(t.devs[1].link_source, NT_LINK_NONE);
	assert_int_equal(t.devs[1].class_code, 0x030200); /* unknown: by kind */
	assert_int_equal(t.devs[3].link_source, NT_LINK_MAX);
	/* The switch carries its GPU's figures; the HCA's where the GPU has none. */
	assert_string_equal(t.switches[0].link.speed, "32.0 GT/s PCIe");
	assert_string_equal(t.switches[1].link.speed, "");
	assert_int_equal(t.switches[1].link.width, 4);
	xml = xml_of(&t);
	assert_non_null(strstr(xml, "<pci busid=\"0001:00:00.0\" class=\"0x030000\" "
				    "link_speed=\"32.0 GT/s PCIe\" link_width=\"16\"/>"));
	assert_non_null(strstr(xml, "<pci busid=\"0002:00:00.0\" class=\"0x030200\"/>"));
	assert_non_null(strstr(xml, "<pci busid=\"ffff:ff:02.0\" class=\"0x060400\" "
				    "link_width=\"4\" vendor=\"0x0000\""));
	free(xml);
	nccl_topo_free(&t);
	free_input(in);
}

/* ---- hostile input -------------------------------------------------------------- */

static void test_nothing_to_describe(void **state)
{
	struct aff_input *in = mk_input(8, 1);
	struct nccl_topo t;
	char err[256];

	(void)state;
	add_hca(in, 0x101, 0);                          /* HCA alone */
	add_dev(in, 0x200, 0, 0x1002, PCI_GPU, 0);      /* AMD: RCCL's, not described */
	add_dev(in, 0x300, 0, 0x8086, PCI_HCA, 0);      /* InfiniBand, not Mellanox */
	add_dev(in, 0x400, 0, MELLANOX, PCI_NIC, 0);    /* accelerated networking VF */
	assert_int_equal(nccl_topo_build(in, NULL, &spr, 8, &t, err, sizeof(err)), -ENODEV);
	assert_int_equal(t.nhcas, 1);
	assert_non_null(strstr(err, "no NVIDIA GPU"));
	nccl_topo_free(&t);
	in->ncpus = 0;
	assert_int_equal(nccl_topo_build(in, NULL, &spr, 8, &t, err, sizeof(err)), -EINVAL);
	nccl_topo_free(&t);
	free_input(in);
}

static void test_too_big(void **state)
{
	struct aff_input *in = mk_input(16, 1);
	struct nccl_topo t;
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < 200; i++)
		add_gpu(in, 1 + i, 0);
	assert_int_equal(nccl_topo_build(in, NULL, &spr, 16, &t, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "200 GPUs"));
	nccl_topo_free(&t);
	free_input(in);

	/* 1 + 1 + 43 + 86 elements: past what NCCL leaves a file. */
	in = mk_input(16, 1);
	for (unsigned int i = 0; i < 43; i++) {
		add_gpu(in, 1 + i, 0);
		add_hca(in, 0x101 + i, 0);
	}
	assert_int_equal(nccl_topo_build(in, NULL, &spr, 16, &t, err, sizeof(err)), -E2BIG);
	nccl_topo_free(&t);
	free_input(in);

	/* A mask of 8192 bits is 2303 characters; NCCL reads 255. */
	in = mk_input(16, 1);
	add_gpu(in, 1, 0);
	assert_int_equal(nccl_topo_build(in, NULL, &spr, 8192, &t, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "255"));
	nccl_topo_free(&t);
	/* A CPU number past what the agent handles. */
	in->cpus[15].id = 9000;
	assert_int_equal(nccl_topo_build(in, NULL, &spr, 0, &t, err, sizeof(err)), -E2BIG);
	nccl_topo_free(&t);
	free_input(in);
}

/* Switches past the 31st take the next bus down. */
static void test_many_switches(void **state)
{
	struct aff_input *in = mk_input(16, 1);
	struct nccl_topo t;

	(void)state;
	for (unsigned int i = 0; i < 40; i++) {
		add_gpu(in, 1 + i, 0);
		add_hca(in, 0x101 + i, 0);
	}
	t = build_ok(in, NULL, 16);
	assert_int_equal(t.npairs, 40);
	assert_string_equal(t.switches[30].busid, "ffff:ff:1f.0");
	assert_string_equal(t.switches[31].busid, "ffff:fe:00.0");
	assert_string_equal(t.switches[39].busid, "ffff:fe:08.0");
	nccl_topo_free(&t);
	free_input(in);
}

/* A CPU vendor NCCL would read verbatim is never written escaped. */
static void test_unsafe_values(void **state)
{
	struct aff_input *in = mk_input(4, 1);
	struct nt_cpu_id bad = spr;
	struct nccl_topo t;
	char err[256], *xml;
	size_t len;

	(void)state;
	add_gpu(in, 1, 0);
	snprintf(bad.vendor, sizeof(bad.vendor), "Bad\"&<x>");
	assert_int_equal(nccl_topo_build(in, NULL, &bad, 4, &t, err, sizeof(err)), 0);
	assert_int_equal(nccl_topo_xml(&t, &xml, &len), -EINVAL);
	assert_null(xml);
	nccl_topo_free(&t);
	free_input(in);
}

/* The same facts in any order give the same bytes. */
static void test_deterministic(void **state)
{
	struct aff_input *a = mk_ndv5(true), *b = mk_ndv5(true);
	struct nccl_topo ta, tb;
	char *xa, *xb;

	(void)state;
	for (size_t i = 0; i < b->npci / 2; i++) {
		struct aff_pci_dev tmp = b->pci[i];

		b->pci[i] = b->pci[b->npci - 1 - i];
		b->pci[b->npci - 1 - i] = tmp;
	}
	ta = build_ok(a, NULL, 96);
	tb = build_ok(b, NULL, 96);
	xa = xml_of(&ta);
	xb = xml_of(&tb);
	assert_string_equal(xa, xb);
	free(xa);
	free(xb);
	nccl_topo_free(&ta);
	nccl_topo_free(&tb);
	free_input(a);
	free_input(b);
}

/* ---- the XML as a reader sees it -------------------------------------------------- */

static size_t count_elements(xmlNodePtr n)
{
	size_t c = 0;

	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			c += 1 + count_elements(n->children);
	return c;
}

static void test_xml_well_formed(void **state)
{
	struct aff_input *in = mk_ndv5(true);
	struct nccl_topo t;
	xmlDocPtr doc;
	xmlNodePtr root, cpu, sw;
	xmlChar *v;
	char *xml;

	(void)state;
	in->sku = sku_by_vm_size("Standard_ND96isr_H100_v5");
	t = build_ok(in, NULL, 96);
	xml = xml_of(&t);
	/* NCCL's parser expects an element after '<': no declaration. */
	assert_memory_equal(xml, "<system version=\"1\">\n  <cpu ", 28);
	assert_int_equal(xml[strlen(xml) - 1], '\n');
	doc = xmlReadMemory(xml, (int)strlen(xml), "topo.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "system");
	assert_int_equal(count_elements(root), 1 + 2 + 8 + 16);
	cpu = xmlFirstElementChild(root);
	v = xmlGetProp(cpu, BAD_CAST "familyid");
	assert_string_equal((const char *)v, "6");
	xmlFree(v);
	sw = xmlFirstElementChild(cpu);
	assert_int_equal(xmlChildElementCount(sw), 2);
	v = xmlGetProp(sw, BAD_CAST "subsystem_device");
	assert_string_equal((const char *)v, "0x0000");
	xmlFree(v);
	v = xmlGetProp(xmlFirstElementChild(sw), BAD_CAST "class");
	assert_string_equal((const char *)v, "0x030200");
	xmlFree(v);
	v = xmlGetProp(xmlLastElementChild(sw), BAD_CAST "class");
	assert_string_equal((const char *)v, "0x020700");
	xmlFree(v);
	xmlFreeDoc(doc);
	free(xml);
	nccl_topo_free(&t);
	free_input(in);
}

/* arm64: no vendor, family or model attributes (NCCL reads them on x86 only). */
static void test_xml_arm64(void **state)
{
	static const struct nt_cpu_id arm = { "arm64", "", -1, -1 };
	struct aff_input *in = mk_input(4, 1);
	struct nccl_topo t;
	char err[128], *xml;

	(void)state;
	add_gpu(in, 1, 0);
	assert_int_equal(nccl_topo_build(in, NULL, &arm, 4, &t, err, sizeof(err)), 0);
	xml = xml_of(&t);
	assert_non_null(strstr(xml, "<cpu numaid=\"0\" affinity=\"f\" arch=\"arm64\">"));
	free(xml);
	nccl_topo_free(&t);
	free_input(in);
}

/* ---- nccl.conf ------------------------------------------------------------------- */

static void test_conf(void **state)
{
	static const char *const bad[] = {
		"", "topo.xml", "/", "/opt/", "/opt//x", "/opt/../x", "/opt/./x", "/opt/..",
		"/opt/a\nNCCL_P2P_DISABLE=1", "/opt/\"x", "/opt/x\\y", "/opt/\tx",
	};
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(nccl_topo_conf("/opt/microsoft/ndv5/topo.xml", &out, &len), 0);
	assert_string_equal(out, "NCCL_TOPO_FILE=/opt/microsoft/ndv5/topo.xml\n"
				 "NCCL_IB_PCI_RELAXED_ORDERING=1\nNCCL_IGNORE_CPU_AFFINITY=1\n");
	assert_int_equal(len, strlen(out));
	free(out);
	assert_true(nt_path_ok("/opt/..x/.y"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (nt_path_ok(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(nccl_topo_conf(bad[i], &out, &len), -EINVAL);
		assert_null(out);
	}
}

/* ---- parsers ---------------------------------------------------------------------- */

static void test_parse_cpuinfo(void **state)
{
	static const char x86[] =
		"processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
		"model name\t: Intel(R) Xeon(R) Platinum 8480C\nflags\t\t: fpu vme de pse\n"
		"power management:\n\nprocessor\t: 1\nvendor_id\t: Other\n";
	static const char arm[] =
		"processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\n"
		"CPU architecture: 8\n";
	static const struct {
		const char *text;
		unsigned int line;
	} bad[] = {
		{ "", 0 },
		{ "processor\t: 0\n", 0 },
		{ "vendor_id\t: GenuineIntel\ncpu family\t: 6\n", 0 },         /* no model */
		{ "vendor_id\t: GenuineIntel\nvendor_id\t: AuthenticAMD\n", 2 }, /* twice */
		{ "vendor_id\t: Genuine\"Intel\ncpu family\t: 6\nmodel\t: 1\n", 1 },
		{ "vendor_id\t: GenuineIntelXX\ncpu family\t: 6\nmodel\t: 1\n", 1 },
		{ "vendor_id\t: \ncpu family\t: 6\nmodel\t: 1\n", 1 },
		{ "vendor_id\t: A\ncpu family\t: 271\nmodel\t: 1\n", 2 },
		{ "vendor_id\t: A\ncpu family\t: -6\nmodel\t: 1\n", 2 },
		{ "vendor_id\t: A\ncpu family\t: 6\nmodel\t: 256\n", 3 },
		{ "vendor_id\t: A\ncpu family\t: 6\nmodel\t: 0x8f\n", 3 },
		{ "vendor_id\t: A\ncpu family\t: 6\nmodel\t: 1 2\n", 3 },
		{ "vendor_id\t: A\ngarbage line\n", 2 },
	};
	struct nt_cpu_id id;
	unsigned int line;
	char *flags;

	(void)state;
	assert_int_equal(nt_parse_cpuinfo(x86, &id, &line), 0);
	assert_string_equal(id.arch, "x86_64");
	assert_string_equal(id.vendor, "GenuineIntel");
	assert_int_equal(id.family, 6);
	assert_int_equal(id.model, 143);
	assert_int_equal(nt_parse_cpuinfo(arm, &id, &line), 0);
	assert_string_equal(id.arch, "arm64");
	assert_string_equal(id.vendor, "");
	assert_int_equal(id.family, -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (nt_parse_cpuinfo(bad[i].text, &id, &line) != -EINVAL)
			fail_msg("accepted case %zu", i);
		assert_int_equal(line, bad[i].line);
	}
	/* A flags line of 64 KiB is skipped over, not copied. */
	flags = calloc(1, 70000);
	strcpy(flags, "vendor_id\t: AuthenticAMD\ncpu family\t: 23\nmodel\t\t: 49\nflags\t\t: ");
	memset(flags + strlen(flags), 'x', 65536);
	assert_int_equal(nt_parse_cpuinfo(flags, &id, &line), 0);
	assert_int_equal(id.family, 23);
	free(flags);
}

static void test_parse_links(void **state)
{
	static const char *const good[] = { "2.5 GT/s PCIe", "32.0 GT/s PCIe", "8 GT/s",
					     "16 GT/s", "64.0 GT/s PCIe" };
	static const char *const bad[] = { "", "GT/s", "32.0", "32.0 GT/s PCIe ", " 8 GT/s",
					   "1234 GT/s", "8.123 GT/s", "8. GT/s", "8 GT/s PCI",
					   "8 GT/s\"", "unknown" };
	static const char *const bad_width[] = { "", "x16", "33", "-1", "16 ", "0x10", "1e1" };
	char speed[24];
	unsigned int w;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(nt_parse_link_speed(good[i], speed, sizeof(speed)), 0);
		assert_string_equal(speed, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nt_parse_link_speed(bad[i], speed, sizeof(speed)) != -EINVAL)
			fail_msg("accepted speed '%s'", bad[i]);
	assert_int_equal(nt_parse_link_speed("Unknown", speed, sizeof(speed)), 0);
	assert_string_equal(speed, "");
	assert_int_equal(nt_parse_link_speed("Unknown speed", speed, sizeof(speed)), 0);
	assert_string_equal(speed, "");
	assert_int_equal(nt_parse_link_speed("32.0 GT/s PCIe", speed, 8), -EINVAL);
	assert_int_equal(nt_parse_link_width("16", &w), 0);
	assert_int_equal(w, 16);
	assert_int_equal(nt_parse_link_width("0", &w), 0);
	assert_int_equal(w, 0);
	for (size_t i = 0; i < sizeof(bad_width) / sizeof(bad_width[0]); i++)
		if (nt_parse_link_width(bad_width[i], &w) != -EINVAL)
			fail_msg("accepted width '%s'", bad_width[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ndv5_pairs),
		cmocka_unit_test(test_four_nodes),
		cmocka_unit_test(test_gpus_without_hcas),
		cmocka_unit_test(test_hcas_on_other_node),
		cmocka_unit_test(test_leftovers),
		cmocka_unit_test(test_sku_nodes),
		cmocka_unit_test(test_default_node),
		cmocka_unit_test(test_no_numa),
		cmocka_unit_test(test_mask_width),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_nothing_to_describe),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_many_switches),
		cmocka_unit_test(test_unsafe_values),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_xml_well_formed),
		cmocka_unit_test(test_xml_arm64),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_parse_cpuinfo),
		cmocka_unit_test(test_parse_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
