// SPDX-License-Identifier: MIT
/*
 * The input of interrupt placement (affinity.h), read strictly.
 *
 * Unlike the status facts, nothing here degrades to "unknown": a file the
 * placement depends on that exists but does not parse, or that names a CPU
 * the machine does not have, fails the whole gather with a message naming
 * the file (and line) in its system spelling.  A plan made from a tree the
 * agent does not understand would move interrupts on a guess.
 *
 * Caps against hostile trees (each far past the largest Azure size):
 *   AFF_MAX_VMBUS    256 VMBus devices
 *   AFF_MAX_CHANNELS 1024 channels per VMBus device
 *   AFF_MAX_PCI      4096 PCI functions
 *   AFF_MAX_IRQS     4096 PCI device IRQs, and as many msi_irqs entries
 *   AFF_MAX_QUEUES   1024 transmit and 1024 receive queues per NIC
 *   AFF_IRQ_NUM_MAX  IRQ numbers below 2^20
 *   AFF_MAX_NODE     node numbers up to 1023 (CONFIG_NODES_SHIFT=10)
 *
 * Cost.  Every per-CPU and per-IRQ file is read at most once, through a
 * directory opened once (a VMBus or PCI device's own directory, /proc/irq):
 * walking the full rooted path, symlinks and all, for each of ~900 small
 * files cost more than reading them.  Two kinds of file are not read at all:
 *   - a kernel-managed IRQ's (nvme<X>q<N>, N >= 1): never planned nor
 *     written, and an ND VM has 768 of them; its affinity stays empty and
 *     its effective CPU -1;
 *   - effective_affinity_list when smp_affinity_list is one online CPU: the
 *     effective CPU is one of the affinity's, so it is that one.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "affinity.h"
#include "interrupts.h"
#include "sysfile.h"
#include "util.h"

#define CPU_DIR "devices/system/cpu"
#define NODE_DIR "devices/system/node"
#define VMBUS_DEVICES "bus/vmbus/devices"
#define PCI_DEVICES "bus/pci/devices"
#define CLASS_NET "class/net"

#define AFF_MAX_VMBUS 256
#define AFF_MAX_CHANNELS 1024
#define AFF_MAX_PCI 4096
#define AFF_MAX_IRQS 4096
#define AFF_MAX_QUEUES 1024
#define AFF_IRQ_NUM_MAX (1L << 20)
#define AFF_MAX_NODE 1023
#define CPUFILE_MAX 4096 /* a cpulist or mask of 8192 CPUs fits */

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

/* ---- errors ------------------------------------------------------------ */

static int failf(struct gather *g, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(struct gather *g, int ret, const char *fmt, ...)
{
	va_list ap;

	if (g->errlen) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
	return ret < 0 ? ret : -EBADMSG;
}

static const char *why(int ret)
{
	switch (-ret) {
	case ENOENT:
		return "missing";
	case EFBIG:
		return "too long";
	case EBADFD:
		return "not a regular file";
	case EBADMSG:
	case EINVAL:
		return "malformed";
	case ERANGE:
		return "value out of range";
	default:
		return strerror(-ret);
	}
}

/* ---- reading through open directories ----------------------------------- */

/* A directory of the tree, opened once for the files under it. */
struct dir {
	int fd;
	enum root_dir d;
	char rel[224]; /* its rooted name, for messages: "bus/pci/devices/0001:00:00.0" */
};

#define DIR_INIT { .fd = -1 }

static void dir_close(struct dir *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

static int dir_open_root(const struct root *r, enum root_dir d, const char *rel, struct dir *h)
{
	char path[PATH_MAX];
	int ret;

	h->d = d;
	if ((size_t)snprintf(h->rel, sizeof(h->rel), "%s", rel) >= sizeof(h->rel))
		return -ENAMETOOLONG;
	ret = root_path(r, d, path, sizeof(path), "%s", rel);
	if (ret < 0)
		return ret;
	h->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return h->fd < 0 ? -errno : 0;
}

/* A sub-directory (a device's, through its bus symlink). */
static int dir_open_sub(const struct dir *p, const char *name, struct dir *h)
{
	h->d = p->d;
	if ((size_t)snprintf(h->rel, sizeof(h->rel), "%s/%s", p->rel, name) >= sizeof(h->rel))
		return -ENAMETOOLONG;
	h->fd = openat(p->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return h->fd < 0 ? -errno : 0;
}

/* "<system dir>/<dir>/<name>: <what>", what defaulting to why(ret). */
static int fail_at(struct gather *g, int ret, const struct dir *h, const char *name,
		   const char *what)
{
	return failf(g, ret, "%s/%s%s%s: %s", root_dir_name(h->d), h->rel, name ? "/" : "",
		     name ? name : "", what ? what : why(ret));
}

/*
 * read_text() (sysfile.c) relative to an open directory, with its rules: a
 * regular file only, looked at before it is opened (a device node planted
 * in a tree is never opened); no NUL; a file that fills the buffer is
 * -EFBIG; trailing blanks cut.  One read(): a short read of a regular file
 * is its end, and sysfs and procfs attributes come whole.
 */
static int dir_read(const struct dir *h, const char *name, char *buf, size_t len)
{
	struct stat st;
	ssize_t k;
	size_t n;
	int fd, err;

	if (fstatat(h->fd, name, &st, 0) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	fd = openat(h->fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	do
		k = read(fd, buf, len);
	while (k < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (k < 0)
		return err == EAGAIN ? -EBADFD : -err; /* swapped for a FIFO meanwhile */
	n = (size_t)k;
	if (n == len)
		return -EFBIG;
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return -EBADMSG;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return (int)n;
}

static int dir_read_long(const struct dir *h, const char *name, long *out)
{
	char buf[64];
	int ret = dir_read(h, name, buf, sizeof(buf));

	return ret < 0 ? ret : parse_long(buf, out);
}

static int cmp_name(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* root_list_dir() of a sub-directory: entries in version order, strv_free() them. */
static int dir_list(const struct dir *h, const char *name, char ***names, size_t *n)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int fd;

	*names = NULL;
	*n = 0;
	fd = openat(h->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv)
				goto oom;
			v = nv;
			cap = cap ? 2 * cap : 16;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt])
			goto oom;
		cnt++;
	}
	closedir(dir);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_name);
	*names = v;
	*n = cnt;
	return 0;
oom:
	closedir(dir);
	strv_free(v, cnt);
	return -ENOMEM;
}

/* The last component of a symlink's target, as root_read_link_name(). */
static int dir_read_link_name(const struct dir *h, const char *name, char *buf, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t k = readlinkat(h->fd, name, target, sizeof(target));

	if (k < 0)
		return -errno;
	if ((size_t)k >= sizeof(target))
		return -ENAMETOOLONG;
	target[k] = '\0';
	while (k > 1 && target[k - 1] == '/')
		target[--k] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

/* ---- CPU sets ---------------------------------------------------------- */

static int first_cpu(const struct cpuset *s)
{
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		if (s->w[i])
			return (int)(i * 64 + (size_t)__builtin_ctzll(s->w[i]));
	return -1;
}

/* The lowest member of a that b lacks, or -1. */
static int first_outside(const struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < CPUSET_WORDS; i++) {
		uint64_t x = a->w[i] & ~b->w[i];

		if (x)
			return (int)(i * 64 + (size_t)__builtin_ctzll(x));
	}
	return -1;
}

/* Is c the only member of s? */
static bool only_cpu(const struct cpuset *s, int c)
{
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		if (s->w[i] != (i == (size_t)c / 64 ? UINT64_C(1) << (c % 64) : 0))
			return false;
	return true;
}

enum cpu_format { CPU_LIST, CPU_MASK };

/*
 * A cpulist or mask file that must parse and name only possible CPUs.
 * Returns 0, 1 when it is optional and missing (out is then empty), or a
 * negative errno with the message set.
 */
static int read_cpus(struct gather *g, const struct dir *h, const char *name,
		     enum cpu_format fmt, bool optional, struct cpuset *out)
{
	char buf[CPUFILE_MAX], what[64];
	int ret, bad;

	cpuset_zero(out);
	ret = dir_read(h, name, buf, sizeof(buf));
	if (ret == -ENOENT && optional)
		return 1;
	if (ret < 0)
		return fail_at(g, ret, h, name, NULL);
	/* nohz_full reads "(null)" on kernels built with it but booted without. */
	if (strcmp(buf, "(null)") == 0)
		return 0;
	ret = fmt == CPU_LIST ? cpuset_parse_list(buf, out) : cpuset_parse_mask(buf, out);
	if (ret == -ERANGE)
		return fail_at(g, ret, h, name, "CPU number out of range");
	if (ret < 0)
		return fail_at(g, ret, h, name,
			       fmt == CPU_LIST ? "not a CPU list" : "not a CPU mask");
	bad = first_outside(out, &g->possible);
	if (bad >= 0) {
		snprintf(what, sizeof(what), "CPU %d is not a possible CPU", bad);
		return fail_at(g, -ERANGE, h, name, what);
	}
	return 0;
}

/* "isolated 2-3, nohz_full 4": the online CPUs of s under a label. */
static void why_append(char *buf, size_t len, const char *label, const struct cpuset *s,
		       const struct cpuset *online)
{
	struct cpuset x;
	char list[48];
	size_t used = strlen(buf);

	for (size_t i = 0; i < CPUSET_WORDS; i++)
		x.w[i] = s->w[i] & online->w[i];
	if (cpuset_empty(&x) || used >= len)
		return;
	if (cpuset_format_list(&x, list, sizeof(list)) < 0)
		snprintf(list, sizeof(list), "(%u CPUs)", cpuset_count(&x));
	snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", label, list);
}

/* ---- CPUs and nodes ---------------------------------------------------- */

/* isolcpus=[flag,…]<cpulist>: adds the CPUs to managed when a flag is managed_irq. */
static int parse_isolcpus(const char *v, struct cpuset *managed)
{
	struct cpuset cpus;
	bool has_managed = false;
	const char *p = v;
	int ret;

	while (isalpha((unsigned char)*p)) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 11 && strncmp(p, "managed_irq", n) == 0)
			has_managed = true;
		else if (!(n == 4 && strncmp(p, "nohz", n) == 0) &&
			 !(n == 6 && strncmp(p, "domain", n) == 0))
			return -EINVAL;
		if (!e)
			return -EINVAL; /* flags but no CPU list */
		p = e + 1;
	}
	if (!*p)
		return -EINVAL;
	ret = cpuset_parse_list(p, &cpus);
	if (ret < 0)
		return ret;
	if (has_managed)
		for (size_t i = 0; i < CPUSET_WORDS; i++)
			managed->w[i] |= cpus.w[i];
	return 0;
}

/*
 * The kernel keeps managed IRQs and VMBus channels off the CPUs of
 * isolcpus=managed_irq,…; cpu/isolated shows only the "domain" ones.
 */
static int read_cmdline(struct gather *g, struct cpuset *managed)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	int ret;

	cpuset_zero(managed);
	ret = root_read_all(g->r, ROOT_PROC, &text, NULL, "cmdline");
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return failf(g, ret, "%s/cmdline: %s", root_dir_name(ROOT_PROC), why(ret));
	for (char *w = strtok_r(text, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		char *v;
		size_t n;

		if (strncmp(w, "isolcpus=", 9) != 0)
			continue;
		v = w + 9;
		n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			v++;
		}
		if (parse_isolcpus(v, managed) < 0)
			return failf(g, -EBADMSG, "%s/cmdline: malformed isolcpus=%.40s",
				     root_dir_name(ROOT_PROC), v);
	}
	/* The kernel ignores CPUs it does not have; so do we. */
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		managed->w[i] &= g->possible.w[i];
	return 0;
}

static int read_online(struct gather *g, const struct dir *cpu)
{
	int ret, bad;

	/* Checked against possible below: every CPU is possible until then. */
	memset(&g->possible, 0xff, sizeof(g->possible));
	ret = read_cpus(g, cpu, "online", CPU_LIST, false, &g->online);
	if (ret < 0)
		return ret;
	if (cpuset_empty(&g->online))
		return fail_at(g, -EBADMSG, cpu, "online", "no CPU online");
	ret = read_cpus(g, cpu, "possible", CPU_LIST, true, &g->possible);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		g->possible = g->online;
		return 0;
	}
	bad = first_outside(&g->online, &g->possible);
	if (bad >= 0) {
		char what[64];

		snprintf(what, sizeof(what), "CPU %d is not possible", bad);
		return fail_at(g, -EBADMSG, cpu, "online", what);
	}
	return 0;
}

static int read_siblings(struct gather *g, const struct dir *cpu, struct aff_cpu *c)
{
	struct cpuset sib;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "cpu%u/topology/thread_siblings_list", c->id);
	ret = read_cpus(g, cpu, name, CPU_LIST, true, &sib);
	if (ret < 0)
		return ret;
	c->thread = 0;
	if (ret == 1) {
		c->core = c->id; /* no topology: every CPU is its own core */
		return 0;
	}
	if (!cpuset_has(&sib, c->id))
		return fail_at(g, -EBADMSG, cpu, name, "does not list the CPU itself");
	c->core = (unsigned int)first_cpu(&sib);
	for (unsigned int s = c->core; s < c->id; s++)
		c->thread += cpuset_has(&sib, s);
	return 0;
}

/* One nodeN/cpulist: its online CPUs get the node. */
static int read_node(struct gather *g, const struct dir *nodes, const char *name, long id,
		     struct cpuset *seen)
{
	struct aff_input *in = g->in;
	struct cpuset cpus;
	char rel[64];
	int ret;

	snprintf(rel, sizeof(rel), "%s/cpulist", name);
	ret = read_cpus(g, nodes, rel, CPU_LIST, false, &cpus);
	if (ret < 0)
		return ret;
	for (int c = first_cpu(&cpus); c >= 0; c = first_cpu(&cpus)) {
		int k = g->cpu_index[c];

		cpus.w[c / 64] &= ~(UINT64_C(1) << (c % 64));
		if (k < 0)
			continue; /* offline */
		if (in->cpus[k].node >= 0) {
			char what[64];

			snprintf(what, sizeof(what), "CPU %d is also in node %d", c,
				 in->cpus[k].node);
			return fail_at(g, -EBADMSG, nodes, rel, what);
		}
		in->cpus[k].node = (int)id;
		if (!cpuset_has(seen, (unsigned int)id)) {
			cpuset_set(seen, (unsigned int)id);
			in->nnodes++;
		}
	}
	return 0;
}

static int read_nodes(struct gather *g)
{
	struct aff_input *in = g->in;
	struct dir nodes = DIR_INIT;
	struct cpuset seen;
	char **names = NULL;
	size_t n = 0;
	bool any = false;
	int ret;

	cpuset_zero(&seen);
	ret = dir_open_root(g->r, ROOT_SYS, NODE_DIR, &nodes);
	if (ret == 0)
		ret = dir_list(&nodes, ".", &names, &n);
	if (ret == -ENOENT)
		ret = 0; /* CONFIG_NUMA=n */
	else if (ret < 0)
		ret = fail_at(g, ret, &nodes, NULL, NULL);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		long id;

		if (strncmp(names[i], "node", 4) != 0 || !isdigit((unsigned char)names[i][4]) ||
		    parse_long(names[i] + 4, &id) < 0)
			continue; /* online, possible, has_cpu, power … */
		if (id > AFF_MAX_NODE)
			ret = fail_at(g, -ERANGE, &nodes, names[i], "node number out of range");
		else
			ret = read_node(g, &nodes, names[i], id, &seen);
		any = true;
	}
	strv_free(names, n);
	dir_close(&nodes);
	if (ret < 0)
		return ret;
	if (!any) {
		/* A kernel without NUMA: one node that holds every CPU. */
		for (size_t i = 0; i < in->ncpus; i++)
			in->cpus[i].node = 0;
		in->nnodes = 1;
	}
	return 0;
}

static int read_exclusions(struct gather *g, const struct dir *cpu)
{
	struct aff_input *in = g->in;
	struct cpuset isolated, nohz, managed;
	int ret;

	ret = read_cpus(g, cpu, "isolated", CPU_LIST, true, &isolated);
	if (ret >= 0)
		ret = read_cpus(g, cpu, "nohz_full", CPU_LIST, true, &nohz);
	if (ret >= 0)
		ret = read_cmdline(g, &managed);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < CPUSET_WORDS; i++)
		in->excluded.w[i] = (isolated.w[i] | nohz.w[i] | managed.w[i]) & g->online.w[i];
	for (size_t i = 0; i < in->ncpus; i++)
		in->cpus[i].allowed = !cpuset_has(&in->excluded, in->cpus[i].id);
	in->excluded_why[0] = '\0';
	why_append(in->excluded_why, sizeof(in->excluded_why), "isolated", &isolated, &g->online);
	why_append(in->excluded_why, sizeof(in->excluded_why), "nohz_full", &nohz, &g->online);
	why_append(in->excluded_why, sizeof(in->excluded_why), "isolcpus managed_irq", &managed,
		   &g->online);
	return 0;
}

static int gather_cpus(struct gather *g)
{
	struct aff_input *in = g->in;
	struct dir cpu = DIR_INIT;
	size_t k = 0;
	int ret;

	ret = dir_open_root(g->r, ROOT_SYS, CPU_DIR, &cpu);
	if (ret < 0)
		return fail_at(g, ret, &cpu, "online", NULL);
	ret = read_online(g, &cpu);
	if (ret == 0) {
		in->ncpus = cpuset_count(&g->online);
		in->cpus = calloc(in->ncpus, sizeof(*in->cpus));
		g->cpu_index = malloc(CPUSET_MAX * sizeof(*g->cpu_index));
		if (!in->cpus || !g->cpu_index)
			ret = failf(g, -ENOMEM, "out of memory");
	}
	for (unsigned int c = 0; ret == 0 && c < CPUSET_MAX; c++) {
		g->cpu_index[c] = -1;
		if (!cpuset_has(&g->online, c))
			continue;
		g->cpu_index[c] = (int)k;
		in->cpus[k] = (struct aff_cpu){ .id = c, .node = -1 };
		ret = read_siblings(g, &cpu, &in->cpus[k++]);
	}
	if (ret == 0)
		ret = read_nodes(g);
	if (ret == 0)
		ret = read_exclusions(g, &cpu);
	dir_close(&cpu);
	return ret;
}

/* ---- VMBus ------------------------------------------------------------- */

static int cmp_channel(const void *a, const void *b)
{
	const struct aff_channel *x = a, *y = b;

	if (x->subchannel != y->subchannel)
		return x->subchannel < y->subchannel ? -1 : 1;
	return (x->relid > y->relid) - (x->relid < y->relid);
}

/* A channel's CPU must be online: the kernel refuses anything else. */
static int check_channel_cpu(struct gather *g, const struct dir *h, const char *name, long cpu)
{
	char what[64];

	if (cpu >= 0 && cpu < CPUSET_MAX && cpuset_has(&g->online, (unsigned int)cpu))
		return 0;
	snprintf(what, sizeof(what), "CPU %ld is not online", cpu);
	return fail_at(g, -ERANGE, h, name, what);
}

/*
 * Without channels/ (older kernels): channel_vp_mapping, "relid:cpu" lines in
 * offer order, primary first, which is sub-channel order: the position
 * stands in for subchannel_id.
 */
static int read_vp_mapping(struct gather *g, const struct dir *dev, struct aff_vmbus_dev *d)
{
	_cleanup_free_ char *map = NULL;
	struct vmbus_device_fact f = { 0 };
	const char *name = "channel_vp_mapping";
	int ret;

	ret = root_read_all(g->r, dev->d, &map, NULL, "%s/%s", dev->rel, name);
	if (ret == 0)
		ret = vmbus_parse_vp_mapping(map, &f);
	if (ret < 0)
		ret = fail_at(g, ret, dev, name, ret == -E2BIG ? "too many channels" : NULL);
	if (ret == 0 && f.nchannels) {
		d->channels = calloc(f.nchannels, sizeof(*d->channels));
		if (!d->channels)
			ret = failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < f.nchannels; i++) {
		ret = check_channel_cpu(g, dev, name, f.channels[i].cpu);
		d->channels[i] = (struct aff_channel){ f.channels[i].relid, (long)i,
						       f.channels[i].cpu };
		d->nchannels++;
	}
	free(f.channels);
	return ret;
}

/* channels/<relid>/{cpu,subchannel_id}; a lone channel is the primary (0). */
static int read_channel(struct gather *g, const struct dir *dev, const char *relid,
			bool only, struct aff_channel *c)
{
	unsigned long long id;
	char name[64];
	long v;
	int ret;

	snprintf(name, sizeof(name), "channels/%.16s", relid);
	if (parse_unsigned(relid, INT_MAX, &id) < 0)
		return fail_at(g, -EBADMSG, dev, name, "not a channel relid");
	c->relid = (long)id;
	snprintf(name, sizeof(name), "channels/%s/cpu", relid);
	ret = dir_read_long(dev, name, &v);
	if (ret < 0)
		return fail_at(g, ret, dev, name, NULL);
	ret = check_channel_cpu(g, dev, name, v);
	if (ret < 0)
		return ret;
	c->cpu = v;
	c->subchannel = 0;
	if (only)
		return 0;
	snprintf(name, sizeof(name), "channels/%s/subchannel_id", relid);
	ret = dir_read_long(dev, name, &v);
	if (ret == -ENOENT)
		return 0;
	if (ret == 0 && (v < 0 || v > 0xffff)) /* a u16 in the offer */
		ret = -ERANGE;
	if (ret < 0)
		return fail_at(g, ret, dev, name, NULL);
	c->subchannel = v;
	return 0;
}

/* 1 when the device has no channels/ directory. */
static int read_channel_dirs(struct gather *g, const struct dir *dev, struct aff_vmbus_dev *d)
{
	char **names;
	size_t n;
	int ret;

	ret = dir_list(dev, "channels", &names, &n);
	if (ret == -ENOENT)
		return 1;
	if (ret < 0)
		return fail_at(g, ret, dev, "channels", NULL);
	if (n > AFF_MAX_CHANNELS)
		ret = fail_at(g, -E2BIG, dev, "channels", "too many channels");
	if (ret == 0 && n) {
		d->channels = calloc(n, sizeof(*d->channels));
		if (!d->channels)
			ret = failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = read_channel(g, dev, names[i], n == 1, &d->channels[i]);
		d->nchannels += ret == 0;
	}
	strv_free(names, n);
	return ret;
}

static int read_vmbus_dev(struct gather *g, const struct dir *dev, struct aff_vmbus_dev *d,
			  bool *dirs)
{
	const struct vmbus_class *cls;
	char buf[64], guid[37], **names;
	size_t n;
	int ret;

	ret = dir_read(dev, "class_id", buf, sizeof(buf));
	if (ret >= 0 && guid_normalize(buf, guid) < 0)
		return fail_at(g, -EBADMSG, dev, "class_id", "not a GUID");
	if (ret < 0)
		return fail_at(g, ret, dev, "class_id", NULL);
	cls = vmbus_class_lookup(guid);
	d->kind = cls ? cls->kind : "unknown";
	d->perf = cls && cls->perf;

	ret = read_channel_dirs(g, dev, d);
	*dirs = ret == 0;
	if (ret == 1)
		ret = read_vp_mapping(g, dev, d);
	if (ret < 0)
		return ret;
	if (d->nchannels)
		qsort(d->channels, d->nchannels, sizeof(*d->channels), cmp_channel);

	if (!cls || strcmp(cls->kind, "network") != 0)
		return 0;
	/* netvsc: its interface sits in the device's net/ directory. */
	if (dir_list(dev, "net", &names, &n) < 0)
		return 0; /* unbound, or the interface is gone */
	if (n && strlen(names[0]) < sizeof(d->nic))
		strcpy(d->nic, names[0]);
	strv_free(names, n);
	return 0;
}

static int gather_vmbus(struct gather *g)
{
	struct aff_input *in = g->in;
	struct dir bus = DIR_INIT;
	bool dirs = false, mapping = false;
	char **names = NULL;
	size_t n = 0;
	int ret;

	ret = dir_open_root(g->r, ROOT_SYS, VMBUS_DEVICES, &bus);
	if (ret == 0)
		ret = dir_list(&bus, ".", &names, &n);
	if (ret == -ENOENT)
		ret = 0; /* not Hyper-V, or no VMBus driver */
	else if (ret < 0)
		ret = fail_at(g, ret, &bus, NULL, NULL);
	if (ret == 0 && n > AFF_MAX_VMBUS)
		ret = fail_at(g, -E2BIG, &bus, NULL, "too many devices");
	if (ret == 0 && n) {
		in->vmbus = calloc(n, sizeof(*in->vmbus));
		if (!in->vmbus)
			ret = failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct aff_vmbus_dev *d = &in->vmbus[in->nvmbus];
		struct dir dev = DIR_INIT;
		bool had_dirs = false;

		/* Device names are instance GUIDs; anything else is not ours to read. */
		if (guid_normalize(names[i], d->instance) < 0 || strcmp(names[i], d->instance))
			continue;
		in->nvmbus++;
		ret = dir_open_sub(&bus, names[i], &dev);
		if (ret < 0)
			ret = fail_at(g, ret, &dev, NULL, NULL);
		else
			ret = read_vmbus_dev(g, &dev, d, &had_dirs);
		dir_close(&dev);
		dirs |= had_dirs;
		mapping |= !had_dirs && d->nchannels;
	}
	strv_free(names, n);
	dir_close(&bus);
	in->channels_writable = dirs && !mapping;
	return ret;
}

/* ---- PCI --------------------------------------------------------------- */

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

static int read_pci_id(struct gather *g, const struct dir *dev, const char *attr, long max,
		       unsigned int *out)
{
	long v;
	int ret = dir_read_long(dev, attr, &v);

	if (ret == 0 && (v < 0 || v > max))
		ret = -ERANGE;
	if (ret < 0)
		return fail_at(g, ret, dev, attr, NULL);
	*out = (unsigned int)v;
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

/* msi_irqs/<irq>: read in place, an ND VM lists over a thousand. */
static int read_msi_irqs(struct gather *g, const struct dir *dev, int idx)
{
	unsigned long long irq;
	struct dirent *de;
	char what[64];
	DIR *dir;
	int fd, ret = 0;

	fd = openat(dev->fd, "msi_irqs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* no MSI: legacy INTx, or not enabled */
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return fail_at(g, ret, dev, "msi_irqs", NULL);
	}
	while (ret == 0 && (de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (parse_unsigned(de->d_name, AFF_IRQ_NUM_MAX - 1, &irq) < 0) {
			snprintf(what, sizeof(what), "msi_irqs/%.16s", de->d_name);
			ret = fail_at(g, -EBADMSG, dev, what, "not an IRQ number");
		} else if (g->nmsi >= AFF_MAX_IRQS) {
			ret = fail_at(g, -E2BIG, dev, "msi_irqs", "too many IRQs");
		} else if (add_msi(g, (long)irq, idx) < 0) {
			ret = failf(g, -ENOMEM, "out of memory");
		}
	}
	closedir(dir);
	return ret;
}

static int read_pci_dev(struct gather *g, const struct dir *bus, const struct dir *dev,
			struct aff_pci_dev *d, int idx)
{
	char target[PATH_MAX], **names;
	unsigned int class_code;
	ssize_t k;
	size_t n;
	long v;
	int ret;

	ret = read_pci_id(g, dev, "vendor", 0xffff, &d->vendor);
	if (ret == 0)
		ret = read_pci_id(g, dev, "device", 0xffff, &d->device);
	if (ret == 0)
		ret = read_pci_id(g, dev, "class", 0xffffff, &class_code);
	if (ret < 0)
		return ret;
	d->kind = pci_classify(d->vendor, class_code);

	ret = dir_read_long(dev, "numa_node", &v);
	if (ret == -ENOENT) {
		v = -1; /* a kernel without NUMA */
		ret = 0;
	} else if (ret == 0 && (v < -1 || v > AFF_MAX_NODE)) {
		return fail_at(g, -ERANGE, dev, "numa_node", "not a node number");
	}
	if (ret < 0)
		return fail_at(g, ret, dev, "numa_node", NULL);
	d->numa_node = v;

	if (dir_read_link_name(dev, "driver", d->driver, sizeof(d->driver)) < 0)
		d->driver[0] = '\0';
	/* pci-hyperv puts each passed-through function under its VMBus device. */
	k = readlinkat(bus->fd, d->addr, target, sizeof(target) - 1);
	if (k > 0) {
		target[k] = '\0';
		d->vpci = strstr(target, "/VMBUS:") != NULL;
	}
	if (dir_list(dev, "net", &names, &n) == 0) {
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
			return failf(g, -EBADMSG, "%s/" PCI_DEVICES "/%s/msi_irqs/%ld: IRQ also "
				     "listed by %s", root_dir_name(ROOT_SYS),
				     in->pci[g->msi[i].dev].addr, g->msi[i].irq,
				     in->pci[g->msi[i - 1].dev].addr);
	for (size_t i = 0; i < in->npci; i++)
		g->pci_by_addr[i] = i;
	if (in->npci)
		qsort_r(g->pci_by_addr, in->npci, sizeof(*g->pci_by_addr), cmp_pci_addr, in);
	return 0;
}

static int gather_pci(struct gather *g)
{
	struct aff_input *in = g->in;
	struct dir bus = DIR_INIT;
	char **names = NULL;
	size_t n = 0;
	int ret;

	ret = dir_open_root(g->r, ROOT_SYS, PCI_DEVICES, &bus);
	if (ret == 0)
		ret = dir_list(&bus, ".", &names, &n);
	if (ret == -ENOENT)
		ret = 0; /* a VM without PCI */
	else if (ret < 0)
		ret = fail_at(g, ret, &bus, NULL, NULL);
	if (ret == 0 && n > AFF_MAX_PCI)
		ret = fail_at(g, -E2BIG, &bus, NULL, "too many devices");
	if (ret == 0 && n) {
		in->pci = calloc(n, sizeof(*in->pci));
		g->pci_by_addr = calloc(n, sizeof(*g->pci_by_addr));
		if (!in->pci || !g->pci_by_addr)
			ret = failf(g, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct aff_pci_dev *d = &in->pci[i];
		struct dir dev = DIR_INIT;

		if (strlen(names[i]) >= sizeof(d->addr) || parse_bdf(names[i], &d->domain) < 0) {
			ret = fail_at(g, -EBADMSG, &bus, names[i], "not a PCI address");
			break;
		}
		strcpy(d->addr, names[i]);
		ret = dir_open_sub(&bus, names[i], &dev);
		if (ret < 0)
			ret = fail_at(g, ret, &dev, NULL, NULL);
		else
			ret = read_pci_dev(g, &bus, &dev, d, (int)i);
		dir_close(&dev);
		in->npci += ret == 0;
	}
	strv_free(names, n);
	dir_close(&bus);
	return ret < 0 ? ret : index_pci(g);
}

/* strcmp() of addr against the len bytes at key. */
static int cmp_addr_key(const char *addr, const char *key, size_t len)
{
	int c = strncmp(addr, key, len);

	return c ? c : addr[len] != '\0';
}

static int pci_find(const struct gather *g, const char *key, size_t len)
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

/* ---- IRQs -------------------------------------------------------------- */

static int msi_dev(const struct gather *g, long irq)
{
	struct msi_ref key = { irq, -1 };
	const struct msi_ref *m = g->nmsi ?
		bsearch(&key, g->msi, g->nmsi, sizeof(*g->msi), cmp_msi) : NULL;

	return m ? m->dev : -1;
}

/* "mlx5_comp3@pci:0101:00:00.0": the device named after "@pci:", or -1. */
static int action_dev(const struct gather *g, const char *action)
{
	const char *a = strstr(action, "@pci:");

	if (!a)
		return -1;
	a += 5;
	return pci_find(g, a, strcspn(a, ", \t"));
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

static int on_irq_line(const struct irq_header *h, const struct irq_line *l,
		       const uint64_t *counts, void *userdata)
{
	struct gather *g = userdata;
	struct aff_input *in = g->in;
	struct aff_irq *q;
	int dev;

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
	dev = msi_dev(g, l->irq);
	if (dev < 0)
		dev = action_dev(g, l->text);
	if (dev < 0)
		return 0; /* ttyS0, acpi, timer: not a device we place */
	if (!l->text[0]) {
		g->line_why = "a device IRQ without an action name";
		return -EBADMSG;
	}
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
	q = &in->irqs[in->nirqs++];
	q->irq = l->irq;
	snprintf(q->action, sizeof(q->action), "%.63s", l->text); /* shared IRQs: cut */
	q->dev = dev;
	q->effective = -1;
	classify_action(q);
	if (q->managed)
		cpuset_zero(&q->affinity); /* not read: see the top of this file */
	return 0;
}

static int cmp_irq(const void *a, const void *b)
{
	const struct aff_irq *x = a, *y = b;

	return (x->irq > y->irq) - (x->irq < y->irq);
}

/* smp_affinity_list, and effective_affinity_list when the affinity has a choice. */
static int read_irq_files(struct gather *g, const struct dir *irq, struct aff_irq *q)
{
	struct cpuset eff;
	char name[64], what[64];
	int ret, c;

	snprintf(name, sizeof(name), "%ld/smp_affinity_list", q->irq);
	ret = read_cpus(g, irq, name, CPU_LIST, false, &q->affinity);
	if (ret < 0)
		return ret;
	c = first_cpu(&q->affinity);
	if (c < 0)
		return fail_at(g, -EBADMSG, irq, name, "empty");
	if (only_cpu(&q->affinity, c) && cpuset_has(&g->online, (unsigned int)c)) {
		q->effective = c;
		return 0;
	}
	snprintf(name, sizeof(name), "%ld/effective_affinity_list", q->irq);
	ret = read_cpus(g, irq, name, CPU_LIST, true, &eff);
	if (ret < 0)
		return ret;
	c = first_cpu(&eff);
	if (c >= 0 && !cpuset_has(&g->online, (unsigned int)c)) {
		snprintf(what, sizeof(what), "CPU %d is not online", c);
		return fail_at(g, -ERANGE, irq, name, what);
	}
	q->effective = c;
	return 0;
}

static int gather_irqs(struct gather *g)
{
	struct aff_input *in = g->in;
	struct dir irq = DIR_INIT;
	size_t bad_line;
	FILE *f;
	int ret;

	/* Nearly every device IRQ is an MSI: room for them all at once. */
	g->irq_cap = g->nmsi + 16;
	in->irqs = malloc(g->irq_cap * sizeof(*in->irqs));
	if (!in->irqs)
		return failf(g, -ENOMEM, "out of memory");
	f = root_fopen(g->r, ROOT_PROC, "interrupts");
	if (!f) {
		ret = -errno;
		return failf(g, ret, "%s/interrupts: %s", root_dir_name(ROOT_PROC), why(ret));
	}
	/* A megabyte on an ND VM: fewer, larger reads than stdio's 4 KiB. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	ret = interrupts_read(f, on_irq_line, g, &bad_line);
	fclose(f);
	if (ret < 0 && bad_line)
		return failf(g, ret, "%s/interrupts line %zu: %s", root_dir_name(ROOT_PROC),
			     bad_line, g->line_why ? g->line_why : why(ret));
	if (ret < 0)
		return failf(g, ret, "%s/interrupts: %s", root_dir_name(ROOT_PROC), why(ret));
	if (in->nirqs)
		qsort(in->irqs, in->nirqs, sizeof(*in->irqs), cmp_irq);
	for (size_t i = 1; i < in->nirqs; i++)
		if (in->irqs[i].irq == in->irqs[i - 1].irq)
			return failf(g, -EBADMSG, "%s/interrupts: IRQ %ld is listed twice",
				     root_dir_name(ROOT_PROC), in->irqs[i].irq);
	if (in->nirqs == 0)
		return 0;
	ret = dir_open_root(g->r, ROOT_PROC, "irq", &irq);
	if (ret < 0)
		return fail_at(g, ret, &irq, NULL, NULL);
	/* Managed IRQs: see the top of this file. */
	for (size_t i = 0; ret == 0 && i < in->nirqs; i++)
		if (!in->irqs[i].managed)
			ret = read_irq_files(g, &irq, &in->irqs[i]);
	dir_close(&irq);
	return ret;
}

/* ---- synthetic NICs ---------------------------------------------------- */

static int cmp_queue(const void *a, const void *b)
{
	const struct aff_queue *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* queues/{tx,rx}-N: xps_cpus or rps_cpus, missing (no CONFIG_XPS) as empty. */
static int read_queue(struct gather *g, const struct dir *nd, struct aff_nic *nic,
		      const char *qname)
{
	unsigned long long idx;
	bool tx = qname[0] == 't';
	struct aff_queue *q;
	size_t *cnt = tx ? &nic->ntx : &nic->nrx;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "queues/%.16s", qname);
	if (parse_unsigned(qname + 3, AFF_MAX_QUEUES - 1, &idx) < 0)
		return fail_at(g, -EBADMSG, nd, name, "not a queue index");
	q = &(tx ? nic->tx : nic->rx)[(*cnt)++];
	q->index = (unsigned int)idx;
	snprintf(name, sizeof(name), "queues/%s/%s", qname, tx ? "xps_cpus" : "rps_cpus");
	ret = read_cpus(g, nd, name, CPU_MASK, true, &q->cpus);
	return ret < 0 ? ret : 0;
}

static bool is_queue(const char *name, char dir)
{
	return name[0] == dir && name[1] == 'x' && name[2] == '-';
}

static int read_queues(struct gather *g, const struct dir *nd, struct aff_nic *nic)
{
	char **names;
	size_t n, ntx = 0, nrx = 0;
	int ret;

	ret = dir_list(nd, "queues", &names, &n);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return fail_at(g, ret, nd, "queues", NULL);
	for (size_t i = 0; i < n; i++) {
		ntx += is_queue(names[i], 't');
		nrx += is_queue(names[i], 'r');
	}
	if (ntx > AFF_MAX_QUEUES || nrx > AFF_MAX_QUEUES)
		ret = fail_at(g, -E2BIG, nd, "queues", "too many queues");
	if (ret == 0) {
		nic->tx = calloc(ntx ? ntx : 1, sizeof(*nic->tx));
		nic->rx = calloc(nrx ? nrx : 1, sizeof(*nic->rx));
		if (!nic->tx || !nic->rx)
			ret = failf(g, -ENOMEM, "out of memory");
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
			return fail_at(g, -EBADMSG, nd, "queues", "a queue is listed twice");
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
	struct dir nd = DIR_INIT;
	char rel[64];
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
	snprintf(rel, sizeof(rel), CLASS_NET "/%s", n->name);
	ret = dir_open_root(g->r, ROOT_SYS, rel, &nd);
	if (ret == -ENOENT)
		return 0; /* gone meanwhile */
	if (ret == 0)
		ret = read_queues(g, &nd, nic);
	else
		ret = fail_at(g, ret, &nd, NULL, NULL);
	dir_close(&nd);
	return ret;
}

static int gather_nics(struct gather *g)
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
		ret = failf(g, -ENOMEM, "out of memory");
	for (size_t i = 0; ret == 0 && i < nf.n; i++)
		if (nic_is_synthetic(&nf.nics[i]))
			ret = read_nic(g, &nf, &nf.nics[i]);
	free(nf.nics);
	return ret;
}

/* ---- the size ---------------------------------------------------------- */

static void gather_sku(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sku_gpu_id gpus[16];
	struct platform_facts p;
	struct warnings w = { 0 };
	size_t ngpus = 0;

	facts_platform(g->r, &p, &w);
	warnings_free(&w);
	snprintf(in->vm_size, sizeof(in->vm_size), "%s", p.vm_size);
	in->sku = in->vm_size[0] ? sku_by_vm_size(in->vm_size) : NULL;
	if (in->sku) {
		in->sku_source = "imds";
		return;
	}
	for (size_t i = 0; i < in->npci && ngpus < ELEMENTSOF(gpus); i++)
		if (in->pci[i].kind == PCI_GPU)
			gpus[ngpus++] = (struct sku_gpu_id){ in->pci[i].vendor, in->pci[i].device };
	in->sku = sku_recognise((unsigned int)in->ncpus, in->nnodes, gpus, ngpus);
	in->sku_source = in->sku ? "topology" : "none";
}

/* ---- entry points ------------------------------------------------------ */

int affinity_gather(const struct root *r, struct aff_input *in, char *err,
		    size_t errlen)
{
	struct gather g = { .r = r, .in = in, .err = err, .errlen = errlen };
	int ret;

	memset(in, 0, sizeof(*in));
	in->sku_source = "none";
	if (errlen)
		err[0] = '\0';
	ret = gather_cpus(&g);
	if (ret == 0)
		ret = gather_vmbus(&g);
	if (ret == 0)
		ret = gather_pci(&g);
	if (ret == 0)
		ret = gather_irqs(&g);
	if (ret == 0)
		ret = gather_nics(&g);
	if (ret == 0)
		gather_sku(&g);
	free(g.cpu_index);
	free(g.msi);
	free(g.pci_by_addr);
	if (ret < 0)
		affinity_input_free(in);
	return ret;
}

void affinity_input_free(struct aff_input *in)
{
	for (size_t i = 0; in->vmbus && i < in->nvmbus; i++)
		free(in->vmbus[i].channels);
	for (size_t i = 0; in->nics && i < in->nnics; i++) {
		free(in->nics[i].tx);
		free(in->nics[i].rx);
	}
	free(in->cpus);
	free(in->vmbus);
	free(in->pci);
	free(in->irqs);
	free(in->nics);
	memset(in, 0, sizeof(*in));
	in->sku_source = "none";
}
