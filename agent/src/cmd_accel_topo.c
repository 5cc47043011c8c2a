// SPDX-License-Identifier: MIT
/*
 * azl-agent accel topo: the NCCL topology XML of an ND-class VM from its
 * live GPU, HCA and NUMA facts, and the /etc/nccl.conf lines that point
 * NCCL at it (nccl_topo.h has the model).
 *
 * The facts are read first and strictly, the files written only after:
 * a tree the agent does not understand (exit 3) or a VM with nothing to
 * describe (exit 1) leaves every file as it was.  Both targets and the
 * directories above them are checked before anything is created; both
 * files are written as temporary files beside their targets before either
 * is renamed into place, under the root prefix, and never through a link
 * that leads out of it.  A refused write leaves no directory behind.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "affinity.h"
#include "commands.h"
#include "cpuset.h"
#include "fileio.h"
#include "nccl_topo.h"
#include "sysfile.h"
#include "util.h"

enum { TOPO_OK = 0, TOPO_NOTHING = 1, TOPO_USAGE = 2, TOPO_ERROR = 3 };

#define PCI_DEVICES "bus/pci/devices"

static void topo_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent [--root DIR] accel topo [--output FILE] [--nccl-conf FILE] [--json]\n"
		"\n"
		"The NCCL topology XML of this VM: a <cpu> per NUMA node, under it a PCIe\n"
		"switch per GPU and the InfiniBand HCA it pairs with (the structure of\n"
		"Azure's HPC images), from the GPUs, HCAs and nodes the VM shows.\n"
		"\n"
		"  --output FILE     write the XML to FILE (absolute; under --root) instead\n"
		"                    of standard output, atomically, mode 0644\n"
		"  --nccl-conf FILE  also write the nccl.conf lines for it (e.g. /etc/nccl.conf):\n"
		"                    NCCL_TOPO_FILE=FILE, NCCL_IB_PCI_RELAXED_ORDERING=1,\n"
		"                    NCCL_IGNORE_CPU_AFFINITY=1; needs --output\n"
		"  --json            the model as JSON on standard output\n"
		"\n"
		"exit 0 written, 1 no NVIDIA GPU to describe (nothing written), 2 usage,\n"
		"3 the system could not be read, cannot be described for NCCL, or a file\n"
		"or standard output could not be written.\n");
}

struct topo_args {
	const char *output, *conf;
	bool json;
};

/* Is path below dir ("/a/b" below "/a")? */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* 0, 1 for --help, -EINVAL for a usage error (said on stderr). */
static int parse_topo_args(int argc, char **argv, struct topo_args *a)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "nccl-conf", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': a->output = optarg; break;
		case 'c': a->conf = optarg; break;
		case 'j': a->json = true; break;
		case 'h': return 1;
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "azl-agent: accel topo: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (a->conf && !a->output) {
		fprintf(stderr, "azl-agent: accel topo: --nccl-conf needs --output: the lines "
			"name the file NCCL reads\n");
		return -EINVAL;
	}
	if ((a->output && !nt_path_ok(a->output)) || (a->conf && !nt_path_ok(a->conf))) {
		fprintf(stderr, "azl-agent: accel topo: '%s' is not a clean absolute path\n",
			a->output && !nt_path_ok(a->output) ? a->output : a->conf);
		return -EINVAL;
	}
	if (a->conf && strcmp(a->conf, a->output) == 0) {
		fprintf(stderr, "azl-agent: accel topo: --output and --nccl-conf name one file\n");
		return -EINVAL;
	}
	if (a->conf && (inside(a->conf, a->output) || inside(a->output, a->conf))) {
		fprintf(stderr, "azl-agent: accel topo: one of --output and --nccl-conf is under "
			"the other\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- facts ------------------------------------------------------------------ */

static const char *why(int ret)
{
	switch (-ret) {
	case ENOENT:
		return "missing";
	case EFBIG:
		return "too long";
	case EBADFD:
		return "not a regular file";
	case EINVAL:
	case EBADMSG:
	case ERANGE:
		return "malformed";
	default:
		return strerror(-ret);
	}
}

static int fail(char *err, size_t errlen, int ret, enum root_dir d, const char *rel)
{
	snprintf(err, errlen, "%s/%s: %s", root_dir_name(d), rel, why(ret));
	return ret < 0 ? ret : -EINVAL;
}

/* One optional sysfs file of a device: 0 and "" when the kernel does not have it. */
static int read_opt(const struct root *r, const char *addr, const char *name, char *buf,
		    size_t len, char *rel, size_t rlen)
{
	int ret;

	snprintf(rel, rlen, PCI_DEVICES "/%s/%s", addr, name);
	ret = root_read_text(r, ROOT_SYS, buf, len, "%s", rel);
	if (ret == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return ret < 0 ? ret : 0;
}

static int read_link(const struct root *r, const char *addr, const char *prefix,
		     struct nt_link *l, char *err, size_t errlen)
{
	char name[32], text[64], rel[160];
	int ret;

	snprintf(name, sizeof(name), "%s_link_speed", prefix);
	ret = read_opt(r, addr, name, text, sizeof(text), rel, sizeof(rel));
	if (ret == 0 && text[0])
		ret = nt_parse_link_speed(text, l->speed, sizeof(l->speed));
	if (ret < 0)
		return fail(err, errlen, ret, ROOT_SYS, rel);
	snprintf(name, sizeof(name), "%s_link_width", prefix);
	ret = read_opt(r, addr, name, text, sizeof(text), rel, sizeof(rel));
	if (ret == 0 && text[0])
		ret = nt_parse_link_width(text, &l->width);
	return ret < 0 ? fail(err, errlen, ret, ROOT_SYS, rel) : 0;
}

/* Class and link files of each GPU and HCA (the gather keeps only the kind). */
static int read_sys(const struct root *r, const struct aff_input *in, struct nt_sys_dev *sys,
		    char *err, size_t errlen)
{
	for (size_t i = 0; i < in->npci; i++) {
		const struct aff_pci_dev *p = &in->pci[i];
		char rel[160];
		long v;
		int ret;

		if (!nt_is_gpu(p) && !nt_is_hca(p))
			continue;
		snprintf(rel, sizeof(rel), PCI_DEVICES "/%s/class", p->addr);
		ret = root_read_long(r, ROOT_SYS, &v, "%s", rel);
		if (ret == 0 && (v <= 0 || v > 0xffffff))
			ret = -ERANGE;
		if (ret < 0)
			return fail(err, errlen, ret, ROOT_SYS, rel);
		sys[i].class_code = (unsigned int)v;
		ret = read_link(r, p->addr, "max", &sys[i].max, err, errlen);
		if (ret == 0)
			ret = read_link(r, p->addr, "current", &sys[i].current, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int read_cpu_id(const struct root *r, struct nt_cpu_id *id, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	unsigned int line;
	size_t len;
	int ret = root_read_all(r, ROOT_PROC, &text, &len, "cpuinfo");

	if (ret < 0)
		return fail(err, errlen, ret, ROOT_PROC, "cpuinfo");
	if (strlen(text) != len)
		return fail(err, errlen, -EBADMSG, ROOT_PROC, "cpuinfo");
	ret = nt_parse_cpuinfo(text, id, &line);
	if (ret < 0 && line)
		snprintf(err, errlen, "%s/cpuinfo line %u: malformed", root_dir_name(ROOT_PROC),
			 line);
	else if (ret < 0)
		snprintf(err, errlen, "%s/cpuinfo: no x86 vendor_id, cpu family and model, nor "
			 "an arm64 CPU implementer", root_dir_name(ROOT_PROC));
	return ret;
}

/* The kernel's nr_cpu_ids: the width of every CPU mask it prints; 0 unknown. */
static int read_mask_bits(const struct root *r, unsigned int *bits, char *err, size_t errlen)
{
	static const char rel[] = "devices/system/cpu/possible";
	char text[4096];
	struct cpuset s;
	int ret = root_read_text(r, ROOT_SYS, text, sizeof(text), "%s", rel);

	*bits = 0;
	if (ret == -ENOENT)
		return 0;
	if (ret >= 0)
		ret = cpuset_parse_list(text, &s);
	if (ret == 0 && cpuset_empty(&s))
		ret = -EINVAL;
	if (ret < 0)
		return fail(err, errlen, ret, ROOT_SYS, rel);
	*bits = (unsigned int)cpuset_last(&s) + 1;
	return 0;
}

static int count_gpus(const struct aff_input *in, unsigned int *hcas)
{
	int gpus = 0;

	*hcas = 0;
	for (size_t i = 0; i < in->npci; i++) {
		gpus += nt_is_gpu(&in->pci[i]);
		*hcas += nt_is_hca(&in->pci[i]);
	}
	return gpus;
}

/* ---- writing ------------------------------------------------------------------ */

/*
 * Both files are checked, directories on the way and targets, before
 * anything is created; then each gets its missing directories and a
 * temporary file beside it; only then are both renamed into place.  A
 * failure on the way removes the temporary files and the directories this
 * run created, so a refused run leaves the tree as it was.
 */
struct pending {
	char full[PATH_MAX];
	char tmp[PATH_MAX];
	size_t made;            /* full[0..made) is the first directory we created; 0 none */
	bool ready;             /* tmp exists */
};

/* err for path; link: lstat() said it is a link; target: the file itself, not a directory. */
static int path_error(char *err, size_t errlen, const char *path, int ret, bool link, bool target)
{
	const char *what = strerror(-ret);

	if (ret == -EXDEV)
		what = target ? "a link that leads out of the root" : "leads out of the root";
	else if (ret == -ENOENT && link)
		what = target ? "a link into a missing directory" : "a link to nothing";
	snprintf(err, errlen, "%.300s: %s", path, what);
	return ret;
}

/*
 * Where a link that resolves to nothing (realpath() says ENOENT) would
 * lead, link after link: the directory that would hold its destination
 * must resolve under the root.  0 inside, -EXDEV outside, -ENOENT when that
 * directory is missing too (we cannot tell), -ELOOP, -ENAMETOOLONG.
 */
static int dangling_under(const struct root *r, const char *link)
{
	char cur[PATH_MAX], dest[PATH_MAX], next[PATH_MAX], real[PATH_MAX];
	struct stat st;

	snprintf(cur, sizeof(cur), "%s", link);
	for (int hops = 0; hops < 40; hops++) {
		ssize_t n = readlink(cur, dest, sizeof(dest) - 1);
		const char *slash;
		int len, ret;

		if (n < 0)
			return -errno;
		dest[n] = '\0';
		slash = strrchr(cur, '/');
		if (dest[0] == '/' || !slash)
			len = snprintf(next, sizeof(next), "%s", dest);
		else
			len = snprintf(next, sizeof(next), "%.*s/%s", (int)(slash - cur), cur,
				       dest);
		if (len < 0 || len >= (int)sizeof(next))
			return -ENAMETOOLONG;
		/* The directory part of next: "/" for "/x", "." for "x". */
		slash = strrchr(next, '/');
		if (!slash)
			snprintf(dest, sizeof(dest), ".");
		else if (slash == next)
			snprintf(dest, sizeof(dest), "/");
		else
			snprintf(dest, sizeof(dest), "%.*s", (int)(slash - next), next);
		ret = resolve_under(r->dir, dest, real);
		if (ret < 0)
			return ret;
		if (lstat(next, &st) < 0 || !S_ISLNK(st.st_mode))
			return 0;
		snprintf(cur, sizeof(cur), "%s", next);
	}
	return -ELOOP;
}

/* A link under the prefix (lst its lstat()) resolves inside it, or would if it led somewhere. */
static int link_under(const struct root *r, const char *path, const struct stat *lst)
{
	char real[PATH_MAX];
	int ret = resolve_under(r->dir, path, real);

	if (ret == -ENOENT && S_ISLNK(lst->st_mode))
		ret = dangling_under(r, path);
	return ret < 0 ? ret : 0;
}

/*
 * The directories above a file under the root.  Under a prefix each one
 * that exists must resolve inside it: a link planted in the tree ("opt" ->
 * /) must not make us create or write anything elsewhere.  The live
 * system's own links are its business.  With create, missing ones are made
 * (0755) and p->made notes the first; without, the walk stops at the first
 * missing one (nothing below it can exist).
 */
static int walk_dirs(const struct root *r, struct pending *p, bool create, char *err,
		     size_t errlen)
{
	char dir[PATH_MAX];
	size_t top = strlen(r->dir);

	snprintf(dir, sizeof(dir), "%s", p->full);
	for (char *s = strchr(dir + top + 1, '/'); s; s = strchr(s + 1, '/')) {
		struct stat st;
		bool link = false;
		int ret = 0;

		*s = '\0';
		if (lstat(dir, &st) == 0) {
			link = S_ISLNK(st.st_mode);
			if (!root_is_live(r))
				ret = link_under(r, dir, &st);
		} else if (errno != ENOENT) {
			ret = -errno;
		} else if (!create) {
			return 0;
		} else if (mkdir(dir, 0755) == 0) {
			if (!p->made)
				p->made = (size_t)(s - dir);
		} else if (errno != EEXIST) {
			ret = -errno;
		}
		if (ret == 0 && stat(dir, &st) < 0)
			ret = -errno;
		else if (ret == 0 && !S_ISDIR(st.st_mode))
			ret = -ENOTDIR;
		if (ret < 0)
			return path_error(err, errlen, dir, ret, link, false);
		*s = '/';
	}
	return 0;
}

/*
 * The file itself: rename() replaces a link (its destination is kept), but
 * one that leads out of the root is a sign of trouble.
 */
static int check_target(const struct root *r, const char *full, char *err, size_t errlen)
{
	struct stat st;
	int ret = 0;

	if (lstat(full, &st) < 0)
		return errno == ENOENT ? 0 : path_error(err, errlen, full, -errno, false, true);
	if (S_ISDIR(st.st_mode))
		ret = -EISDIR;
	else if (S_ISLNK(st.st_mode) && !root_is_live(r))
		ret = link_under(r, full, &st);
	return ret < 0 ? path_error(err, errlen, full, ret, S_ISLNK(st.st_mode), true) : 0;
}

static int check(const struct root *r, const char *path, struct pending *p, char *err,
		 size_t errlen)
{
	int ret;

	if (snprintf(p->full, sizeof(p->full), "%s%s", r->dir, path) >= (int)sizeof(p->full)) {
		snprintf(err, errlen, "%.300s: path too long", path);
		return -ENAMETOOLONG;
	}
	ret = walk_dirs(r, p, false, err, errlen);
	return ret < 0 ? ret : check_target(r, p->full, err, errlen);
}

static int stage(const struct root *r, const char *data, size_t len, struct pending *p,
		 char *err, size_t errlen)
{
	int ret = walk_dirs(r, p, true, err, errlen);

	/* Checked again while the directories are made: the tree may have changed. */
	if (ret == 0)
		ret = check_target(r, p->full, err, errlen);
	if (ret < 0)
		return ret;
	ret = write_temp_beside(p->full, data, len, 0644, (uid_t)-1, (gid_t)-1, p->tmp);
	if (ret < 0) {
		snprintf(err, errlen, "writing beside %.300s: %s", p->full, strerror(-ret));
		return ret;
	}
	p->ready = true;
	return 0;
}

/* Undo a failed run: the temporary file, then the directories it made (if still empty). */
static void unstage(struct pending *p)
{
	char dir[PATH_MAX];

	if (p->ready)
		unlink(p->tmp);
	p->ready = false;
	if (!p->made)
		return;
	snprintf(dir, sizeof(dir), "%s", p->full);
	for (char *s = strrchr(dir, '/'); s && (size_t)(s - dir) >= p->made;
	     s = strrchr(dir, '/')) {
		*s = '\0';
		if (rmdir(dir) < 0)
			break;
	}
	p->made = 0;
}

static int write_files(const struct root *r, const struct topo_args *a, const char *xml,
		       size_t xlen, char *err, size_t errlen)
{
	struct pending px = { 0 }, pc = { 0 };
	_cleanup_free_ char *conf = NULL;
	size_t clen = 0;
	int ret = 0;

	if (a->conf && nccl_topo_conf(a->output, &conf, &clen) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = check(r, a->output, &px, err, errlen);
	if (ret == 0 && a->conf)
		ret = check(r, a->conf, &pc, err, errlen);
	if (ret == 0)
		ret = stage(r, xml, xlen, &px, err, errlen);
	if (ret == 0 && a->conf)
		ret = stage(r, conf, clen, &pc, err, errlen);
	if (ret == 0) {
		px.ready = false;
		ret = install_temp(px.tmp, px.full);
		if (ret < 0)
			snprintf(err, errlen, "%.300s: %s", px.full, strerror(-ret));
		else
			px.made = 0; /* the file is in place: its directories stay */
	}
	if (ret == 0 && a->conf) {
		pc.ready = false;
		ret = install_temp(pc.tmp, pc.full);
		if (ret < 0)
			snprintf(err, errlen, "%.300s: %s (the topology file is written)", pc.full,
				 strerror(-ret));
	}
	if (ret < 0) {
		unstage(&pc);
		unstage(&px);
	}
	return ret;
}

/* ---- output ------------------------------------------------------------------- */

static struct json_object *json_link(struct json_object *o, const struct nt_link *l)
{
	json_object_object_add(o, "link_speed", l->speed[0] ? json_object_new_string(l->speed) : NULL);
	json_object_object_add(o, "link_width", l->width ? json_object_new_int((int)l->width) : NULL);
	return o;
}

static struct json_object *json_dev(const struct nccl_topo *t, const struct nt_dev *d)
{
	struct json_object *o = json_object_new_object();
	char hex[16];

	json_object_object_add(o, "pci", json_object_new_string(d->addr));
	json_object_object_add(o, "kind", json_object_new_string(d->gpu ? "gpu" : "hca"));
	snprintf(hex, sizeof(hex), "0x%06x", d->class_code);
	json_object_object_add(o, "class", json_object_new_string(hex));
	snprintf(hex, sizeof(hex), "%04x:%04x", d->vendor, d->device);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "numa_node", json_object_new_int64(d->sys_node));
	json_object_object_add(o, "node_source",
			       json_object_new_string(nt_node_source_name(d->node_source)));
	json_link(o, &d->link);
	json_object_object_add(o, "link_source",
			       json_object_new_string(nt_link_source_name(d->link_source)));
	json_object_object_add(o, "switch", d->sw >= 0 ?
			       json_object_new_string(t->switches[d->sw].busid) : NULL);
	return o;
}

static struct json_object *json_node(const struct nccl_topo *t, const struct nt_node *n)
{
	struct json_object *o = json_object_new_object(), *sw = json_object_new_array();
	struct json_object *devs = json_object_new_array();
	char mask[NT_ATTR_MAX + 1], list[4096];

	json_object_object_add(o, "node", json_object_new_int(n->node));
	if (cpuset_format_list(&n->cpus, list, sizeof(list)) < 0)
		list[0] = '\0';
	json_object_object_add(o, "cpus", json_object_new_string(list));
	if (nccl_topo_affinity(t, n, mask, sizeof(mask)) < 0)
		mask[0] = '\0';
	json_object_object_add(o, "affinity", json_object_new_string(mask));
	for (size_t i = 0; i < n->nsw; i++) {
		const struct nt_switch *s = &t->switches[n->first_sw + i];
		struct json_object *so = json_object_new_object();

		json_object_object_add(so, "busid", json_object_new_string(s->busid));
		json_object_object_add(so, "gpu", json_object_new_string(t->devs[s->gpu].addr));
		json_object_object_add(so, "hca", json_object_new_string(t->devs[s->hca].addr));
		json_object_array_add(sw, json_link(so, &s->link));
	}
	json_object_object_add(o, "switches", sw);
	for (size_t i = 0; i < n->n; i++)
		json_object_array_add(devs, json_dev(t, &t->devs[n->first + i]));
	json_object_object_add(o, "devices", devs);
	return o;
}

/* A failed write to standard output as -errno (stdio need not set errno). */
static int stdout_error(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Everything written so far reached standard output: 0 or -errno. */
static int flush_stdout(void)
{
	return fflush(stdout) == EOF || ferror(stdout) ? stdout_error() : 0;
}

/* 0, or -errno when standard output did not take it (a full disk, a closed pipe). */
static int print_json(const struct nccl_topo *t, const struct topo_args *a)
{
	struct json_object *o = json_object_new_object(), *cpu = json_object_new_object();
	struct json_object *nodes = json_object_new_array();

	json_object_object_add(o, "sku", t->sku ? json_object_new_string(t->sku) : NULL);
	json_object_object_add(cpu, "arch", json_object_new_string(t->cpu.arch));
	json_object_object_add(cpu, "vendor", t->cpu.vendor[0] ?
			       json_object_new_string(t->cpu.vendor) : NULL);
	json_object_object_add(cpu, "family", t->cpu.family >= 0 ?
			       json_object_new_int(t->cpu.family) : NULL);
	json_object_object_add(cpu, "model", t->cpu.model >= 0 ?
			       json_object_new_int(t->cpu.model) : NULL);
	json_object_object_add(o, "cpu", cpu);
	json_object_object_add(o, "mask_bits", json_object_new_int((int)t->mask_bits));
	json_object_object_add(o, "gpus", json_object_new_int((int)t->ngpus));
	json_object_object_add(o, "hcas", json_object_new_int((int)t->nhcas));
	json_object_object_add(o, "pairs", json_object_new_int((int)t->npairs));
	for (size_t k = 0; k < t->nnodes; k++)
		json_object_array_add(nodes, json_node(t, &t->nodes[k]));
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "output", a->output ? json_object_new_string(a->output) : NULL);
	json_object_object_add(o, "nccl_conf", a->conf ? json_object_new_string(a->conf) : NULL);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = !text ? -ENOMEM : puts(text) == EOF ? stdout_error() : 0;

	json_object_put(o);
	return ret;
}

/* What the reader of the file should know: devices whose node is a guess. */
static void warn_nodes(const struct nccl_topo *t)
{
	unsigned int sku = 0;

	for (size_t i = 0; i < t->ndevs; i++) {
		const struct nt_dev *d = &t->devs[i];

		sku += d->node_source == NT_NODE_SKU;
		if (d->node_source == NT_NODE_DEFAULT)
			fprintf(stderr, "azl-agent: accel topo: %s has no NUMA node (numa_node %ld) "
				"and no SKU table lists it: placed on node %d\n", d->addr,
				d->sys_node, d->node);
	}
	if (sku)
		fprintf(stderr, "azl-agent: accel topo: %u device%s without a NUMA node placed "
			"by the %s table\n", sku, sku == 1 ? "" : "s", t->sku);
}

/* ---- the command --------------------------------------------------------------- */

static int gather(const struct root *r, struct aff_input *in, struct nccl_topo *t,
		  char *err, size_t errlen)
{
	_cleanup_free_ struct nt_sys_dev *sys = NULL;
	struct nt_cpu_id cpu;
	unsigned int bits, hcas;
	int ret = affinity_gather(r, in, err, errlen);

	if (ret < 0)
		return ret;
	if (count_gpus(in, &hcas) == 0) {
		snprintf(err, errlen, "this VM has no NVIDIA GPU%s: no NCCL topology to describe",
			 hcas ? " (InfiniBand HCAs alone are nothing for NCCL)" : "");
		return -ENODEV;
	}
	sys = calloc(in->npci, sizeof(*sys));
	if (!sys) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = read_sys(r, in, sys, err, errlen);
	if (ret == 0)
		ret = read_cpu_id(r, &cpu, err, errlen);
	if (ret == 0)
		ret = read_mask_bits(r, &bits, err, errlen);
	if (ret == 0)
		ret = nccl_topo_build(in, sys, &cpu, bits, t, err, errlen);
	return ret;
}

/*
 * What goes to standard output: the JSON model, the XML, or what was
 * written.  Every write is checked, the buffer flushed: a full disk or a
 * closed pipe is an error (exit 3), not a silent success.
 */
static int print(const struct nccl_topo *t, const struct topo_args *a, const char *xml,
		 size_t len)
{
	int ret = 0;

	errno = 0;
	if (a->json)
		ret = print_json(t, a);
	else if (!a->output)
		ret = fwrite(xml, 1, len, stdout) == len ? 0 : stdout_error();
	else if (printf("wrote %s: %u GPU%s, %u HCA%s, %u pair%s on %zu node%s%s%s\n",
			a->output, t->ngpus, t->ngpus == 1 ? "" : "s", t->nhcas,
			t->nhcas == 1 ? "" : "s", t->npairs, t->npairs == 1 ? "" : "s",
			t->nnodes, t->nnodes == 1 ? "" : "s", a->conf ? "; wrote " : "",
			a->conf ? a->conf : "") < 0)
		ret = stdout_error();
	return ret < 0 ? ret : flush_stdout();
}

static int run(const struct root *r, const struct topo_args *a)
{
	struct aff_input in;
	struct nccl_topo t = { 0 };
	_cleanup_free_ char *xml = NULL;
	char err[512] = "";
	size_t len = 0;
	int ret = gather(r, &in, &t, err, sizeof(err));

	if (ret == 0) {
		ret = nccl_topo_xml(&t, &xml, &len);
		if (ret < 0)
			snprintf(err, sizeof(err), "building the XML: %s", strerror(-ret));
	}
	if (ret == 0 && a->output)
		ret = write_files(r, a, xml, len, err, sizeof(err));
	if (ret == 0) {
		warn_nodes(&t);
		ret = print(&t, a, xml, len);
		if (ret < 0)
			snprintf(err, sizeof(err), "standard output: %s%s", strerror(-ret),
				 !a->output ? "" : a->conf ? " (both files are written)" :
				 " (the file is written)");
	}
	if (ret < 0)
		fprintf(stderr, "azl-agent: accel topo: %s\n", err);
	nccl_topo_free(&t);
	affinity_input_free(&in);
	if (ret == -ENODEV)
		return TOPO_NOTHING;
	return ret < 0 ? TOPO_ERROR : TOPO_OK;
}

int cmd_accel_topo(const struct global_options *g, int argc, char **argv)
{
	struct topo_args a = { .json = g->json };
	struct root r;
	int ret = parse_topo_args(argc, argv, &a);

	if (ret < 0) {
		topo_usage(stderr);
		return TOPO_USAGE;
	}
	if (ret > 0) {
		errno = 0;
		topo_usage(stdout);
		ret = flush_stdout();
		if (ret < 0)
			fprintf(stderr, "azl-agent: accel topo: standard output: %s\n",
				strerror(-ret));
		return ret < 0 ? TOPO_ERROR : TOPO_OK;
	}
	if (root_init(&r, g->root) < 0) {
		fprintf(stderr, "azl-agent: --root: path too long\n");
		return TOPO_USAGE;
	}
	return run(&r, &a);
}
