// SPDX-License-Identifier: MIT
/*
 * affinity_gather() on the SKU fixtures (tests/fixtures/README.md) and on
 * copies of them with one file corrupted per case: every malformed input is
 * an error that names the file in its system spelling, and leaves the input
 * empty.  Skipped when AZL_FIXTURES is unset.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "affinity.h"

#define D64_NIC "000d3a6e-8c26-000d-3a6e-8c26000d3a6e"
#define D64_SCSI0 "f8b3781a-1e82-4818-a1c3-63d806ec15bb"

/* ---- helpers ------------------------------------------------------------ */

static const char *fixtures(void)
{
	const char *d = getenv("AZL_FIXTURES");

	return d && *d ? d : NULL;
}

#define NEED_FIXTURES()                                                           \
	do {                                                                      \
		if (!fixtures()) {                                                \
			print_message("AZL_FIXTURES is unset: fixture test skipped\n"); \
			skip();                                                   \
			return;                                                   \
		}                                                                 \
	} while (0)

static int gather_dir(const char *dir, struct aff_input *in, char *err, size_t len)
{
	struct root r;

	assert_int_equal(root_init(&r, dir), 0);
	return affinity_gather(&r, in, err, len);
}

static void gather_ok(const char *dir, struct aff_input *in)
{
	char err[512] = "unset";
	int ret = gather_dir(dir, in, err, sizeof(err));

	if (ret != 0)
		print_message("gather %s: %s\n", dir, err);
	assert_int_equal(ret, 0);
	assert_string_equal(err, "");
}

static void gather_fixture(const char *name, struct aff_input *in)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", fixtures(), name);
	gather_ok(dir, in);
}

/* A private copy of a fixture, for corrupting. */
struct copy {
	char tmp[256];
	char root[300];
};

static void copy_fixture(const char *name, struct copy *c)
{
	char cmd[1024];

	/* Memory is faster for the copies; fall back to TMPDIR. */
	snprintf(c->tmp, sizeof(c->tmp), "/dev/shm/azl-aff-XXXXXX");
	if (!mkdtemp(c->tmp)) {
		const char *t = getenv("TMPDIR");

		snprintf(c->tmp, sizeof(c->tmp), "%s/azl-aff-XXXXXX", t && *t ? t : "/tmp");
		assert_non_null(mkdtemp(c->tmp));
	}
	snprintf(c->root, sizeof(c->root), "%s/root", c->tmp);
	snprintf(cmd, sizeof(cmd), "cp -a '%s/%s' '%s'", fixtures(), name, c->root);
	assert_int_equal(system(cmd), 0);
}

static void copy_remove(struct copy *c)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->tmp);
	assert_int_equal(system(cmd), 0);
}

static void put_file(const struct copy *c, const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void remove_path(const struct copy *c, const char *rel)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", c->root, rel);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const struct copy *c, const char *rel, size_t *len)
{
	char path[1024];
	struct stat st;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/*
 * Replace line n (1-based) of a file with text.  keep_rest false cuts the
 * file there: text is the last thing in it, without a newline.
 */
static void edit_line(const struct copy *c, const char *rel, size_t n, const char *text,
		      bool keep_rest)
{
	size_t len, line = 1;
	char *buf = slurp(c, rel, &len), *start = buf, *end;
	char path[1024];
	FILE *f;

	while (line < n) {
		start = strchr(start, '\n');
		assert_non_null(start);
		start++;
		line++;
	}
	end = strchr(start, '\n');
	assert_non_null(end);
	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(buf, 1, (size_t)(start - buf), f);
	fwrite(text, 1, strlen(text), f);
	if (keep_rest)
		fputs(end, f);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

/* The lowest numbered entry of a directory of the copy. */
static long first_number_in(const struct copy *c, const char *rel)
{
	char path[1024];
	struct dirent *de;
	long best = -1;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && !*end && (best < 0 || v < best))
			best = v;
	}
	closedir(d);
	assert_true(best >= 0);
	return best;
}

static bool input_empty(const struct aff_input *in)
{
	return in->ncpus == 0 && !in->cpus && in->nvmbus == 0 && !in->vmbus && in->npci == 0 &&
	       !in->pci && in->nirqs == 0 && !in->irqs && in->nnics == 0 && !in->nics &&
	       !in->sku;
}

/* The gather fails, names the file in its system spelling and leaves nothing. */
static void expect_error(const struct copy *c, const char *want)
{
	struct aff_input in;
	char err[512] = "";
	int ret = gather_dir(c->root, &in, err, sizeof(err));

	if (ret >= 0 || !strstr(err, want))
		print_message("want an error with \"%s\", got %d \"%s\"\n", want, ret, err);
	assert_true(ret < 0);
	assert_non_null(strstr(err, want));
	assert_true(err[0] == '/');
	assert_null(strstr(err, c->tmp)); /* the system path, not the fixture's */
	assert_true(input_empty(&in));
	affinity_input_free(&in); /* harmless on an empty input */
}

/*
 * The malformed cases share one copy of d64ds-v5-mlx5 (copying it for each
 * of ~40 cases would dominate the run): each case changes one file, checks
 * and puts the file back as it was.
 */
static struct copy shared;
static bool have_shared;

struct saved {
	char rel[512];
	bool existed;
	char *text;
	size_t len;
};

static void save_file(const char *rel, struct saved *sv)
{
	char path[1024];

	snprintf(sv->rel, sizeof(sv->rel), "%s", rel);
	snprintf(path, sizeof(path), "%s/%s", shared.root, rel);
	sv->existed = access(path, F_OK) == 0;
	sv->text = sv->existed ? slurp(&shared, rel, &sv->len) : NULL;
}

static void restore_file(struct saved *sv)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", shared.root, sv->rel);
	if (!sv->existed) {
		assert_int_equal(unlink(path), 0);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(sv->text, 1, sv->len, f), sv->len);
	assert_int_equal(fclose(f), 0);
	free(sv->text);
}

/* Replace (text) or remove (NULL) one file of the shared copy; expect want. */
static void corrupt_case(const char *rel, const char *text, const char *want)
{
	struct saved sv;
	char path[1024];

	assert_true(have_shared);
	save_file(rel, &sv);
	if (text) {
		put_file(&shared, rel, text);
	} else {
		snprintf(path, sizeof(path), "%s/%s", shared.root, rel);
		assert_int_equal(unlink(path), 0);
	}
	expect_error(&shared, want);
	restore_file(&sv);
}

static int setup_shared(void **state)
{
	(void)state;
	if (fixtures()) {
		copy_fixture("d64ds-v5-mlx5", &shared);
		have_shared = true;
	}
	return 0;
}

static int teardown_shared(void **state)
{
	(void)state;
	if (have_shared)
		copy_remove(&shared);
	have_shared = false;
	return 0;
}

static const struct aff_vmbus_dev *vmbus_by_instance(const struct aff_input *in,
						     const char *instance)
{
	for (size_t i = 0; i < in->nvmbus; i++)
		if (strcmp(in->vmbus[i].instance, instance) == 0)
			return &in->vmbus[i];
	return NULL;
}

static int pci_by_addr(const struct aff_input *in, const char *addr)
{
	for (size_t i = 0; i < in->npci; i++)
		if (strcmp(in->pci[i].addr, addr) == 0)
			return (int)i;
	return -1;
}

static const struct aff_irq *irq_by_action(const struct aff_input *in, const char *action)
{
	for (size_t i = 0; i < in->nirqs; i++)
		if (strcmp(in->irqs[i].action, action) == 0)
			return &in->irqs[i];
	return NULL;
}

/* Devices of a kind and their channel counts: every device of it has nch. */
static void expect_kind(const struct aff_input *in, const char *kind, size_t ndev, size_t nch)
{
	size_t n = 0;

	for (size_t i = 0; i < in->nvmbus; i++) {
		if (strcmp(in->vmbus[i].kind, kind) != 0)
			continue;
		n++;
		if (in->vmbus[i].nchannels != nch)
			print_message("%s %s: %zu channels\n", kind, in->vmbus[i].instance,
				      in->vmbus[i].nchannels);
		assert_int_equal(in->vmbus[i].nchannels, nch);
	}
	assert_int_equal(n, ndev);
}

/* What holds on every Hyper-V fixture, whatever the size. */
static void check_invariants(const struct aff_input *in)
{
	struct cpuset online;

	cpuset_zero(&online);
	for (size_t i = 0; i < in->ncpus; i++) {
		const struct aff_cpu *c = &in->cpus[i];

		if (i)
			assert_true(c->id > in->cpus[i - 1].id);
		assert_true(c->node >= 0 && (unsigned int)c->node < in->nnodes);
		assert_true(c->core <= c->id);
		assert_true(c->allowed);
		cpuset_set(&online, c->id);
	}
	assert_true(cpuset_empty(&in->excluded));
	assert_string_equal(in->excluded_why, "");
	for (size_t i = 0; i < in->nvmbus; i++) {
		const struct aff_vmbus_dev *d = &in->vmbus[i];

		assert_true(d->nchannels >= 1);
		for (size_t k = 0; k < d->nchannels; k++) {
			const struct aff_channel *ch = &d->channels[k];

			assert_true(cpuset_has(&online, (unsigned int)ch->cpu));
			/* The fixtures' channels/: sub-channels 0..n-1, sorted. */
			assert_int_equal(ch->subchannel, (long)k);
			if (!d->perf)
				assert_int_equal(ch->cpu, 0);
		}
	}
	for (size_t i = 0; i < in->nirqs; i++) {
		const struct aff_irq *q = &in->irqs[i];

		if (i)
			assert_true(q->irq > in->irqs[i - 1].irq);
		assert_true(q->dev >= 0 && (size_t)q->dev < in->npci);
		assert_false(q->managed); /* the kernel's own are only counted */
		assert_false(cpuset_empty(&q->affinity));
		assert_true(cpuset_has(&online, (unsigned int)q->effective));
		assert_true(cpuset_has(&q->affinity, (unsigned int)q->effective));
	}
	for (size_t i = 0; i < in->nnics; i++) {
		const struct aff_nic *n = &in->nics[i];

		assert_true(n->vmbus_dev >= 0 && (size_t)n->vmbus_dev < in->nvmbus);
		assert_string_equal(in->vmbus[n->vmbus_dev].kind, "network");
		assert_string_equal(in->vmbus[n->vmbus_dev].nic, n->name);
		assert_true(n->vf == -1 || (size_t)n->vf < in->npci);
		/* One queue per channel. */
		assert_int_equal(n->ntx, in->vmbus[n->vmbus_dev].nchannels);
		assert_int_equal(n->nrx, in->vmbus[n->vmbus_dev].nchannels);
		for (size_t k = 0; k < n->ntx; k++) {
			assert_int_equal(n->tx[k].index, k);
			assert_int_equal(n->rx[k].index, k);
			assert_true(cpuset_empty(&n->rx[k].cpus)); /* rps_cpus are zero */
		}
	}
}

/* The utility devices of every Hyper-V fixture: one channel each, on CPU 0. */
static void expect_utilities(const struct aff_input *in)
{
	static const char *const kinds[] = { "shutdown", "timesync", "heartbeat", "kvp", "vss",
					     "dynamic-memory", "keyboard", "mouse", "video" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		expect_kind(in, kinds[i], 1, 1);
}

/* ---- the fixtures ------------------------------------------------------- */

static void test_d2s(void **state)
{
	struct aff_input in;

	(void)state;
	NEED_FIXTURES();
	gather_fixture("d2s-v5", &in);
	check_invariants(&in);
	assert_int_equal(in.ncpus, 2);
	assert_int_equal(in.nnodes, 1);
	assert_int_equal(in.cpus[1].id, 1);
	assert_int_equal(in.cpus[1].core, 0);
	assert_int_equal(in.cpus[1].thread, 1);
	assert_int_equal(in.cpus[0].thread, 0);
	assert_true(in.channels_writable);
	expect_utilities(&in);
	expect_kind(&in, "storage", 2, 1);  /* ceil(2/4) */
	expect_kind(&in, "network", 1, 2);  /* min(T,8) */
	assert_int_equal(in.npci, 0);
	assert_int_equal(in.nirqs, 0);      /* ttyS0 and acpi are no devices' */
	assert_int_equal(in.nnics, 1);
	assert_string_equal(in.nics[0].name, "eth0");
	assert_int_equal(in.nics[0].vf, -1);
	assert_string_equal(in.vm_size, "");
	assert_null(in.sku);
	assert_string_equal(in.sku_source, "none");
	affinity_input_free(&in);
	assert_true(input_empty(&in));
}

/* D64ds_v5: 2 nodes of 32, SMT pairs (2k, 2k+1). */
static void expect_d64_cpus(const struct aff_input *in)
{
	assert_int_equal(in->ncpus, 64);
	assert_int_equal(in->nnodes, 2);
	for (unsigned int k = 0; k < 64; k++) {
		assert_int_equal(in->cpus[k].id, k);
		assert_int_equal(in->cpus[k].node, k < 32 ? 0 : 1);
		assert_int_equal(in->cpus[k].core, k & ~1u);
		assert_int_equal(in->cpus[k].thread, k & 1u);
	}
}

static void test_d64_mlx5(void **state)
{
	const struct aff_vmbus_dev *nic;
	const struct aff_pci_dev *vf;
	struct aff_input in;
	char name[48];

	(void)state;
	NEED_FIXTURES();
	gather_fixture("d64ds-v5-mlx5", &in);
	check_invariants(&in);
	expect_d64_cpus(&in);
	expect_utilities(&in);
	expect_kind(&in, "storage", 2, 16);
	expect_kind(&in, "network", 1, 8);
	expect_kind(&in, "vpci", 1, 1);
	nic = vmbus_by_instance(&in, D64_NIC);
	assert_non_null(nic);
	assert_true(nic->perf);
	assert_string_equal(nic->nic, "eth0");

	assert_int_equal(in.npci, 1);
	vf = &in.pci[0];
	assert_string_equal(vf->addr, "cf63:00:02.0");
	assert_int_equal(vf->domain, 0xcf63);
	assert_int_equal(vf->vendor, 0x15b3);
	assert_int_equal(vf->device, 0x1016);
	assert_int_equal(vf->kind, PCI_NIC);
	assert_int_equal(vf->numa_node, 0);
	assert_string_equal(vf->driver, "mlx5_core");
	assert_string_equal(vf->nic, "enP53091s1np0");
	assert_true(vf->vpci);

	assert_int_equal(in.nirqs, 33);
	assert_int_equal(irq_by_action(&in, "mlx5_async0@pci:cf63:00:02.0")->queue, -1);
	for (int q = 0; q < 32; q++) {
		const struct aff_irq *irq;

		snprintf(name, sizeof(name), "mlx5_comp%d@pci:cf63:00:02.0", q);
		irq = irq_by_action(&in, name);
		assert_non_null(irq);
		assert_int_equal(irq->queue, q);
		assert_int_equal(irq->dev, 0);
		assert_false(irq->managed);
	}

	assert_int_equal(in.nnics, 1);
	assert_string_equal(in.nics[0].name, "eth0");
	assert_ptr_equal(&in.vmbus[in.nics[0].vmbus_dev], nic);
	assert_int_equal(in.nics[0].vf, 0);
	assert_int_equal(in.nics[0].ntx, 8);
	assert_null(in.sku);
	affinity_input_free(&in);
}

static void test_d64_mana(void **state)
{
	struct aff_input in;
	char name[48];
	int vf;

	(void)state;
	NEED_FIXTURES();
	gather_fixture("d64ds-v5-mana", &in);
	check_invariants(&in);
	expect_d64_cpus(&in);
	expect_kind(&in, "storage", 2, 64); /* min(T,64): the MANA-era rule */
	expect_kind(&in, "network", 1, 8);
	vf = pci_by_addr(&in, "cf63:00:00.0");
	assert_true(vf >= 0);
	assert_int_equal(in.pci[vf].vendor, 0x1414);
	assert_int_equal(in.pci[vf].device, 0x00ba);
	assert_int_equal(in.pci[vf].kind, PCI_NIC);
	assert_string_equal(in.pci[vf].nic, "enP53091s1");
	assert_int_equal(in.nirqs, 65);
	assert_int_equal(irq_by_action(&in, "mana_hwc@pci:cf63:00:00.0")->queue, -1);
	for (int q = 0; q < 64; q++) {
		snprintf(name, sizeof(name), "mana_q%d@pci:cf63:00:00.0", q);
		assert_non_null(irq_by_action(&in, name));
		assert_int_equal(irq_by_action(&in, name)->queue, q);
		assert_int_equal(irq_by_action(&in, name)->dev, vf);
	}
	assert_int_equal(in.nnics, 1);
	assert_int_equal(in.nics[0].vf, vf);
	affinity_input_free(&in);
}

/* ND H200 v5 (README): GPUs and HCAs by domain, their nodes, NVMe, the AN VF. */
static void expect_nd96(const struct aff_input *in, bool numa_none)
{
	static const struct {
		const char *addr;
		enum pci_kind kind;
		int node;
	} devs[] = {
		{ "0001:00:00.0", PCI_GPU, 0 }, { "0002:00:00.0", PCI_GPU, 0 },
		{ "0003:00:00.0", PCI_GPU, 0 }, { "0008:00:00.0", PCI_GPU, 0 },
		{ "0009:00:00.0", PCI_GPU, 1 }, { "000a:00:00.0", PCI_GPU, 1 },
		{ "000b:00:00.0", PCI_GPU, 1 }, { "000c:00:00.0", PCI_GPU, 1 },
		{ "0101:00:00.0", PCI_HCA, 0 }, { "0102:00:00.0", PCI_HCA, 0 },
		{ "0103:00:00.0", PCI_HCA, 0 }, { "0104:00:00.0", PCI_HCA, 0 },
		{ "0105:00:00.0", PCI_HCA, 1 }, { "0106:00:00.0", PCI_HCA, 1 },
		{ "0107:00:00.0", PCI_HCA, 1 }, { "0108:00:00.0", PCI_HCA, 1 },
	};
	unsigned int managed = 0, admin = 0, nvme = 0, nvidia = 0, hca_irqs = 0;
	int vf;

	check_invariants(in);
	assert_int_equal(in->ncpus, 96);
	assert_int_equal(in->nnodes, 2);
	for (unsigned int k = 0; k < 96; k++) {
		assert_int_equal(in->cpus[k].node, k < 48 ? 0 : 1);
		assert_int_equal(in->cpus[k].core, k); /* no SMT */
		assert_int_equal(in->cpus[k].thread, 0);
	}
	expect_kind(in, "storage", 2, 24);
	expect_kind(in, "network", 1, 8);
	assert_int_equal(in->npci, 25);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		int d = pci_by_addr(in, devs[i].addr);

		assert_true(d >= 0);
		assert_int_equal(in->pci[d].kind, devs[i].kind);
		assert_int_equal(in->pci[d].numa_node, numa_none ? -1 : devs[i].node);
		if (devs[i].kind == PCI_GPU)
			assert_int_equal(in->pci[d].device, 0x2335);
		else
			assert_int_equal(in->pci[d].device, 0x1021);
	}
	for (size_t i = 0; i < in->npci; i++) {
		assert_true(in->pci[i].vpci);
		if (numa_none)
			assert_int_equal(in->pci[i].numa_node, -1);
		nvme += in->pci[i].kind == PCI_NVME;
	}
	assert_int_equal(nvme, 8);

	/*
	 * 8 NVMe × (admin + 96 I/O queues), 8 nvidia, 9 × (async + 32 comp);
	 * the 768 kernel-managed I/O queues are counted, not kept.
	 */
	assert_int_equal(in->nirqs + in->nmanaged, 1081);
	assert_int_equal(in->nmanaged, 8 * 96);
	for (size_t i = 0; i < in->nirqs; i++) {
		const struct aff_irq *q = &in->irqs[i];
		const struct aff_pci_dev *d = &in->pci[q->dev];

		if (strncmp(q->action, "nvme", 4) == 0) {
			assert_int_equal(d->kind, PCI_NVME);
			managed += q->managed;
			if (strstr(q->action, "q0") && q->queue == 0) {
				admin++;
				assert_false(q->managed);
			}
		} else {
			assert_false(q->managed);
		}
		if (strcmp(q->action, "nvidia") == 0) {
			nvidia++;
			assert_int_equal(d->kind, PCI_GPU);
		}
		if (d->kind == PCI_HCA) {
			char suffix[48];

			hca_irqs++;
			snprintf(suffix, sizeof(suffix), "@pci:%s", d->addr);
			assert_non_null(strstr(q->action, suffix));
		}
	}
	assert_int_equal(managed, 0); /* none kept */
	assert_int_equal(admin, 8);
	assert_int_equal(nvidia, 8);
	assert_int_equal(hca_irqs, 8 * 33);
	assert_int_equal(irq_by_action(in, "mlx5_comp31@pci:0108:00:00.0")->queue, 31);

	vf = pci_by_addr(in, "c98f:00:02.0");
	assert_true(vf >= 0);
	assert_int_equal(in->pci[vf].kind, PCI_NIC);
	assert_string_equal(in->pci[vf].nic, "enP51599s1np0");
	assert_int_equal(in->nnics, 1);
	assert_int_equal(in->nics[0].vf, vf);
	assert_int_equal(in->nics[0].ntx, 8);
}

static void test_nd96(void **state)
{
	struct aff_input in;

	(void)state;
	NEED_FIXTURES();
	gather_fixture("nd96isr-h200-v5", &in);
	expect_nd96(&in, false);
	assert_string_equal(in.vm_size, "Standard_ND96isr_H200_v5");
	assert_non_null(in.sku);
	assert_string_equal(in.sku->name, "ND H200 v5");
	assert_string_equal(in.sku_source, "imds");
	affinity_input_free(&in);
}

static void test_nd96_numa_none(void **state)
{
	struct aff_input in;

	(void)state;
	NEED_FIXTURES();
	gather_fixture("nd96isr-h200-v5-numa-none", &in);
	expect_nd96(&in, true);
	assert_string_equal(in.sku_source, "imds");
	affinity_input_free(&in);
}

/* Without the IMDS cache the size comes from 96 CPUs, 2 nodes and 8 H200s. */
static void test_nd96_sku_from_topology(void **state)
{
	struct aff_input in;
	struct copy c;

	(void)state;
	NEED_FIXTURES();
	copy_fixture("nd96isr-h200-v5-numa-none", &c);
	remove_path(&c, "var/lib/azl-agent/imds-compute.json");
	gather_ok(c.root, &in);
	assert_string_equal(in.vm_size, "");
	assert_non_null(in.sku);
	assert_string_equal(in.sku->name, "ND H200 v5");
	assert_string_equal(in.sku_source, "topology");
	affinity_input_free(&in);
	copy_remove(&c);
}

/*
 * Only the SKU: from the vmSize cache without reading the rest (a broken
 * /proc/interrupts does not stop it), else from the topology like the
 * whole gather, which then does fail on the broken file.
 */
static void test_detect_sku(void **state)
{
	const struct sku_policy *sku;
	const char *source;
	char err[512] = "";
	struct copy c;
	struct root r;

	(void)state;
	NEED_FIXTURES();
	copy_fixture("nd96isr-h200-v5-numa-none", &c);
	assert_int_equal(root_init(&r, c.root), 0);
	put_file(&c, "proc/interrupts", "garbage\n");
	sku = affinity_detect_sku(&r, &source, err, sizeof(err));
	assert_non_null(sku);
	assert_string_equal(sku->name, "ND H200 v5");
	assert_string_equal(source, "imds");
	assert_string_equal(err, "");

	remove_path(&c, "var/lib/azl-agent/imds-compute.json");
	assert_null(affinity_detect_sku(&r, &source, err, sizeof(err)));
	assert_string_equal(source, "none");
	assert_non_null(strstr(err, "interrupts"));
	copy_remove(&c);

	copy_fixture("nd96isr-h200-v5-numa-none", &c);
	assert_int_equal(root_init(&r, c.root), 0);
	remove_path(&c, "var/lib/azl-agent/imds-compute.json");
	sku = affinity_detect_sku(&r, &source, err, sizeof(err));
	assert_non_null(sku);
	assert_string_equal(source, "topology");
	copy_remove(&c);
}

static void test_not_hyperv(void **state)
{
	struct aff_input in;

	(void)state;
	NEED_FIXTURES();
	gather_fixture("not-hyperv", &in);
	assert_int_equal(in.ncpus, 4);
	assert_int_equal(in.nnodes, 1);
	assert_int_equal(in.nvmbus, 0);
	assert_false(in.channels_writable);
	assert_int_equal(in.npci, 2);
	assert_int_equal(in.pci[pci_by_addr(&in, "0000:00:03.0")].kind, PCI_NIC);
	assert_string_equal(in.pci[pci_by_addr(&in, "0000:00:03.0")].driver, "virtio-pci");
	assert_false(in.pci[0].vpci);
	/* The virtio MSI-X vectors its msi_irqs list; not timer, ttyS0, acpi. */
	assert_true(in.nirqs > 0);
	for (size_t i = 0; i < in.nirqs; i++)
		assert_non_null(strstr(in.irqs[i].action, "virtio"));
	assert_int_equal(in.nnics, 0); /* no hv_netvsc */
	assert_null(in.sku);
	assert_string_equal(in.sku_source, "none");
	affinity_input_free(&in);
}

/* ---- exclusions and older kernels --------------------------------------- */

static void test_excluded_cpus(void **state)
{
	struct aff_input in;
	struct copy c;

	(void)state;
	NEED_FIXTURES();
	copy_fixture("d64ds-v5-mlx5", &c);
	/* CPUs 62-63 offline: what names them is ignored, not excluded. */
	put_file(&c, "sys/devices/system/cpu/online", "0-61\n");
	put_file(&c, "sys/devices/system/cpu/isolated", "2-3,62\n");
	put_file(&c, "sys/devices/system/cpu/nohz_full", "4\n");
	put_file(&c, "proc/cmdline",
		 "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=managed_irq,domain,6-7,63 "
		 "isolcpus=9 quiet\n");
	gather_ok(c.root, &in);
	assert_int_equal(in.ncpus, 62);
	for (unsigned int k = 0; k < 62; k++)
		assert_int_equal(in.cpus[k].allowed,
				 !(k == 2 || k == 3 || k == 4 || k == 6 || k == 7));
	assert_int_equal(cpuset_count(&in.excluded), 5);
	assert_false(cpuset_has(&in.excluded, 9)); /* isolcpus without managed_irq */
	assert_string_equal(in.excluded_why,
			    "isolated 2-3, nohz_full 4, isolcpus managed_irq 6-7");
	affinity_input_free(&in);
	copy_remove(&c);
}

/* nohz_full "(null)": built with it, booted without. */
static void test_nohz_null(void **state)
{
	struct aff_input in;
	struct copy c;

	(void)state;
	NEED_FIXTURES();
	copy_fixture("d2s-v5", &c);
	put_file(&c, "sys/devices/system/cpu/nohz_full", "(null)\n");
	remove_path(&c, "sys/devices/system/cpu/isolated");
	gather_ok(c.root, &in);
	assert_true(in.cpus[0].allowed && in.cpus[1].allowed);
	affinity_input_free(&in);
	copy_remove(&c);
}

/* Optional files missing: the defaults the contract gives. */
static void test_optional_missing(void **state)
{
	const struct aff_vmbus_dev *nic;
	struct aff_input in;
	char rel[256];
	struct copy c;
	long relid;

	(void)state;
	NEED_FIXTURES();
	copy_fixture("d64ds-v5-mlx5", &c);
	/* IRQ 24 (mlx5_async0) may run on 0-63; 25 only on CPU 0. */
	remove_path(&c, "proc/irq/24/effective_affinity_list");
	remove_path(&c, "proc/irq/25/effective_affinity_list");
	remove_path(&c, "sys/devices/system/cpu/cpu5/topology/thread_siblings_list");
	relid = first_number_in(&c, "sys/bus/vmbus/devices/" D64_SCSI0 "/channels");
	snprintf(rel, sizeof(rel), "sys/bus/vmbus/devices/" D64_SCSI0 "/channels/%ld/subchannel_id",
		 relid);
	remove_path(&c, rel);
	/* An older kernel: channel_vp_mapping only, for the NIC. */
	remove_path(&c, "sys/bus/vmbus/devices/" D64_NIC "/channels");
	remove_path(&c, "sys/devices/system/node");
	gather_ok(c.root, &in);
	assert_int_equal(in.irqs[0].irq, 24);
	assert_int_equal(in.irqs[0].effective, -1);
	assert_int_equal(cpuset_count(&in.irqs[0].affinity), 64);
	assert_int_equal(in.irqs[1].irq, 25);
	assert_int_equal(in.irqs[1].effective, 0); /* its one CPU */
	assert_int_equal(in.cpus[5].core, 5);
	assert_int_equal(in.cpus[5].thread, 0);
	assert_int_equal(in.cpus[4].core, 4);
	assert_int_equal(in.nnodes, 1);
	assert_int_equal(in.cpus[63].node, 0);
	assert_int_equal(vmbus_by_instance(&in, D64_SCSI0)->channels[0].relid, relid);
	assert_int_equal(vmbus_by_instance(&in, D64_SCSI0)->channels[0].subchannel, 0);
	nic = vmbus_by_instance(&in, D64_NIC);
	assert_int_equal(nic->nchannels, 8); /* from "12:1\n44:48\n…" */
	assert_int_equal(nic->channels[0].relid, 12);
	assert_int_equal(nic->channels[0].cpu, 1);
	assert_int_equal(nic->channels[1].relid, 44);
	assert_int_equal(nic->channels[1].subchannel, 1);
	assert_false(in.channels_writable);
	affinity_input_free(&in);
	copy_remove(&c);
}

/* ---- malformed inputs --------------------------------------------------- */

static void test_interrupts_malformed(void **state)
{
	static const struct {
		size_t line;
		const char *text;
		bool keep_rest;
		const char *want;
	} cases[] = {
		{ 5, "garbage without a colon", true, "/proc/interrupts line 5: malformed" },
		{ 5, " 25:          0          0   Hyper-V", true,
		  "/proc/interrupts line 5: truncated" },
		{ 6, " 26:          0          0", false, "/proc/interrupts line 6: truncated" },
		{ 1, "CPU0 CPUx", true, "/proc/interrupts line 1: malformed" },
		{ 4, " 24: 1 2 \x01\x02\x03", true, "/proc/interrupts line 4: truncated" },
	};
	char path[1024];
	struct saved sv;
	FILE *f;

	(void)state;
	NEED_FIXTURES();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		save_file("proc/interrupts", &sv);
		edit_line(&shared, "proc/interrupts", cases[i].line, cases[i].text,
			  cases[i].keep_rest);
		expect_error(&shared, cases[i].want);
		restore_file(&sv);
	}

	/* A NUL byte in line 5: binary garbage, not text. */
	save_file("proc/interrupts", &sv);
	snprintf(path, sizeof(path), "%s/proc/interrupts", shared.root);
	f = fopen(path, "r+");
	assert_non_null(f);
	for (int nl = 0; nl < 4;)
		nl += fgetc(f) == '\n';
	assert_int_equal(fseek(f, 3, SEEK_CUR), 0);
	fputc('\0', f);
	fclose(f);
	expect_error(&shared, "/proc/interrupts line 5: malformed");
	restore_file(&sv);

	corrupt_case("proc/interrupts", "", "/proc/interrupts line 1: malformed");
	corrupt_case("proc/interrupts", NULL, "/proc/interrupts: missing");
}

static void test_irq_files_malformed(void **state)
{
	(void)state;
	NEED_FIXTURES();
	corrupt_case("proc/irq/25/smp_affinity_list", "0-100000\n",
		     "/proc/irq/25/smp_affinity_list: CPU number out of range");
	corrupt_case("proc/irq/25/smp_affinity_list", "0-200\n",
		     "/proc/irq/25/smp_affinity_list: CPU 64 is not a possible CPU");
	corrupt_case("proc/irq/25/smp_affinity_list", "zero\n",
		     "/proc/irq/25/smp_affinity_list: not a CPU list");
	corrupt_case("proc/irq/25/smp_affinity_list", "\n",
		     "/proc/irq/25/smp_affinity_list: empty");
	corrupt_case("proc/irq/25/smp_affinity_list", NULL,
		     "/proc/irq/25/smp_affinity_list: missing");
	corrupt_case("proc/irq/24/effective_affinity_list", "99999\n",
		     "/proc/irq/24/effective_affinity_list: CPU number out of range");
	corrupt_case("proc/irq/24/effective_affinity_list", "63-64\n",
		     "/proc/irq/24/effective_affinity_list: CPU 64 is not a possible CPU");
	corrupt_case("proc/irq/24/smp_affinity_list", "0-63 junk\n",
		     "/proc/irq/24/smp_affinity_list: not a CPU list");
	corrupt_case("sys/bus/pci/devices/cf63:00:02.0/vendor", "0xzz\n",
		     "/sys/bus/pci/devices/cf63:00:02.0/vendor: malformed");
	corrupt_case("sys/bus/pci/devices/cf63:00:02.0/numa_node", "7x\n",
		     "/sys/bus/pci/devices/cf63:00:02.0/numa_node: malformed");
	corrupt_case("sys/bus/pci/devices/cf63:00:02.0/numa_node", "4096\n",
		     "/sys/bus/pci/devices/cf63:00:02.0/numa_node: not a node number");
	corrupt_case("sys/bus/pci/devices/cf63:00:02.0/msi_irqs/abc", "",
		     "/sys/bus/pci/devices/cf63:00:02.0/msi_irqs/abc: not an IRQ number");
}

static void test_topology_malformed(void **state)
{
	(void)state;
	NEED_FIXTURES();
	corrupt_case("sys/devices/system/cpu/online", NULL,
		     "/sys/devices/system/cpu/online: missing");
	corrupt_case("sys/devices/system/cpu/online", "0-63garbage\n",
		     "/sys/devices/system/cpu/online: not a CPU list");
	corrupt_case("sys/devices/system/cpu/cpu5/topology/thread_siblings_list", "4-5,x\n",
		     "/sys/devices/system/cpu/cpu5/topology/thread_siblings_list: not a CPU list");
	corrupt_case("sys/devices/system/cpu/cpu5/topology/thread_siblings_list", "5-99999\n",
		     "/sys/devices/system/cpu/cpu5/topology/thread_siblings_list: CPU number");
	corrupt_case("sys/devices/system/cpu/cpu5/topology/thread_siblings_list", "4\n",
		     "thread_siblings_list: does not list the CPU itself");
	corrupt_case("sys/devices/system/node/node1/cpulist", "32-63,@@\n",
		     "/sys/devices/system/node/node1/cpulist: not a CPU list");
	corrupt_case("sys/devices/system/node/node1/cpulist", "32-200\n",
		     "/sys/devices/system/node/node1/cpulist: CPU 64 is not a possible CPU");
	corrupt_case("sys/devices/system/node/node1/cpulist", "31-63\n",
		     "/sys/devices/system/node/node1/cpulist: CPU 31 is also in node 0");
	corrupt_case("sys/devices/system/cpu/isolated", "1-\n",
		     "/sys/devices/system/cpu/isolated: not a CPU list");
	corrupt_case("proc/cmdline", "quiet isolcpus=bogus,1-2\n",
		     "/proc/cmdline: malformed isolcpus=bogus,1-2");
}

static void test_vmbus_malformed(void **state)
{
	static const struct {
		const char *file;
		const char *text;
		const char *want;
	} cases[] = {
		{ "cpu", "99999\n", "CPU 99999 is not online" },
		{ "cpu", "64\n", "CPU 64 is not online" },
		{ "cpu", "-1\n", "CPU -1 is not online" },
		{ "cpu", "1x\n", "malformed" },
		{ "cpu", NULL, "missing" },
		{ "subchannel_id", "sub\n", "malformed" },
	};
	char rel[256], want[512];
	struct copy c;
	long relid;

	(void)state;
	NEED_FIXTURES();
	relid = first_number_in(&shared, "sys/bus/vmbus/devices/" D64_NIC "/channels");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rel, sizeof(rel), "sys/bus/vmbus/devices/" D64_NIC "/channels/%ld/%s",
			 relid, cases[i].file);
		snprintf(want, sizeof(want), "/%s: %s", rel, cases[i].want);
		corrupt_case(rel, cases[i].text, want);
	}
	corrupt_case("sys/bus/vmbus/devices/" D64_NIC "/class_id", "{not-a-guid}\n",
		     "/sys/bus/vmbus/devices/" D64_NIC "/class_id: not a GUID");
	corrupt_case("sys/bus/vmbus/devices/" D64_NIC "/channels/junk", "",
		     "/sys/bus/vmbus/devices/" D64_NIC "/channels/junk: not a channel relid");

	/* The mapping fallback is held to the same rules. */
	copy_fixture("d64ds-v5-mlx5", &c);
	remove_path(&c, "sys/bus/vmbus/devices/" D64_NIC "/channels");
	put_file(&c, "sys/bus/vmbus/devices/" D64_NIC "/channel_vp_mapping", "12:1\n44:100\n");
	expect_error(&c, "/sys/bus/vmbus/devices/" D64_NIC
		     "/channel_vp_mapping: CPU 100 is not online");
	put_file(&c, "sys/bus/vmbus/devices/" D64_NIC "/channel_vp_mapping", "12:1\n44 48\n");
	expect_error(&c, "/sys/bus/vmbus/devices/" D64_NIC "/channel_vp_mapping: malformed");
	copy_remove(&c);
}

static void test_net_malformed(void **state)
{
	(void)state;
	NEED_FIXTURES();
	corrupt_case("sys/class/net/eth0/queues/tx-3/xps_cpus", "zz,00000000\n",
		     "/sys/class/net/eth0/queues/tx-3/xps_cpus: not a CPU mask");
	corrupt_case("sys/class/net/eth0/queues/rx-1/rps_cpus", "1,00000000,00000000\n",
		     "/sys/class/net/eth0/queues/rx-1/rps_cpus: CPU 64 is not a possible CPU");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_d2s),
		cmocka_unit_test(test_d64_mlx5),
		cmocka_unit_test(test_d64_mana),
		cmocka_unit_test(test_nd96),
		cmocka_unit_test(test_nd96_numa_none),
		cmocka_unit_test(test_nd96_sku_from_topology),
		cmocka_unit_test(test_detect_sku),
		cmocka_unit_test(test_not_hyperv),
		cmocka_unit_test(test_excluded_cpus),
		cmocka_unit_test(test_nohz_null),
		cmocka_unit_test(test_optional_missing),
		cmocka_unit_test(test_interrupts_malformed),
		cmocka_unit_test(test_irq_files_malformed),
		cmocka_unit_test(test_topology_malformed),
		cmocka_unit_test(test_vmbus_malformed),
		cmocka_unit_test(test_net_malformed),
	};

	return cmocka_run_group_tests(tests, setup_shared, teardown_shared);
}
