// SPDX-License-Identifier: MIT
/*
 * The applier: write each move of a plan to the kernel, in plan order, and
 * say what became of it (research/tuning.md §3.3, §3.4, §6).
 *
 *   channel  sys/bus/vmbus/devices/<instance>/channels/<relid>/cpu   "5\n"
 *   irq      proc/irq/<n>/smp_affinity_list                          "0-3,8\n"
 *   xps      sys/class/net/<nic>/queues/tx-<q>/xps_cpus              "00000000,00000020\n"
 *   rps      sys/class/net/<nic>/queues/rx-<q>/rps_cpus              (the same mask form)
 *
 * The kernel's answers are part of the result, not accidents: EIO on a
 * channel means the host speaks VMBus < 4.1 (or the channel is closed), EIO
 * on an IRQ means the kernel manages it, ENOENT (ENODEV from a sysfs file
 * removed while open) means the device went away meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "affinity.h"
#include "affinity_apply_internal.h"
#include "sysfile.h"
#include "util.h"

aff_write_fn aff_write = aff_write_file;

int aff_write_file(const char *path, const char *value, size_t len)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	ssize_t n;

	/*
	 * No O_CREAT: a file that is not there is a device that went away,
	 * never something to create.  O_TRUNC changes nothing on sysfs and
	 * procfs (it is what `echo v > file` does) but keeps a fixture's
	 * regular file from ending in the old value's tail.  O_NOFOLLOW: the
	 * attribute itself is never a link.  O_NONBLOCK: a FIFO planted in a
	 * test tree fails here instead of blocking.
	 */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	/* sysfs and procfs take a value in one write() or not at all. */
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE; /* part of the value: never seen from the kernel */
	return 0;
}

const char *aff_result_name(enum aff_result r)
{
	switch (r) {
	case AFF_DONE:
		return "done";
	case AFF_UNSUPPORTED:
		return "unsupported";
	case AFF_MANAGED:
		return "managed";
	case AFF_GONE:
		return "gone";
	case AFF_FAILED:
		return "failed";
	}
	return "unknown";
}

void aff_report_free(struct aff_report *rep)
{
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

/* A directory name from the input: one path component, nothing to climb out with. */
static bool safe_name(const char *s)
{
	return s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/*
 * Bits the kernel prints for a mask: one past the highest online CPU (the
 * kernel's nr_cpu_ids is at least that, and bitmap_parse() takes fewer
 * groups than it prints), or more when the mask itself needs them.
 */
static unsigned int mask_bits(const struct aff_input *in, const struct cpuset *to)
{
	int last = cpuset_last(to);
	unsigned int n = 1;

	for (size_t i = 0; i < in->ncpus; i++)
		if (in->cpus[i].id + 1 > n)
			n = in->cpus[i].id + 1;
	if (last >= 0 && (unsigned int)last + 1 > n)
		n = (unsigned int)last + 1;
	return n;
}

/* The file and value of one action; -EINVAL for an action no kernel would take. */
static int target_of(const struct root *r, const struct aff_input *in, const struct aff_action *a,
		     char *path, size_t plen, char *val, size_t vlen)
{
	size_t used;
	int ret;

	if (a->id < 0)
		return -EINVAL;
	switch (a->target) {
	case AFF_CHANNEL:
		if (a->dev < 0 || (size_t)a->dev >= in->nvmbus ||
		    !safe_name(in->vmbus[a->dev].instance) || cpuset_count(&a->to) != 1)
			return -EINVAL;
		ret = root_path(r, ROOT_SYS, path, plen, "bus/vmbus/devices/%s/channels/%ld/cpu",
				in->vmbus[a->dev].instance, a->id);
		if (ret < 0)
			return ret;
		ret = snprintf(val, vlen, "%d", cpuset_last(&a->to));
		if (ret < 0 || (size_t)ret >= vlen)
			return -ENOSPC;
		break;
	case AFF_IRQ:
		if (cpuset_empty(&a->to))
			return -EINVAL; /* the kernel refuses an empty affinity */
		ret = root_path(r, ROOT_PROC, path, plen, "irq/%ld/smp_affinity_list", a->id);
		if (ret < 0)
			return ret;
		ret = cpuset_format_list(&a->to, val, vlen);
		if (ret < 0)
			return ret;
		break;
	case AFF_XPS:
	case AFF_RPS:
		/* An empty mask is valid: it turns XPS or RPS off for the queue. */
		if (a->dev < 0 || (size_t)a->dev >= in->nnics || !safe_name(in->nics[a->dev].name))
			return -EINVAL;
		ret = root_path(r, ROOT_SYS, path, plen, "class/net/%s/queues/%s-%ld/%s",
				in->nics[a->dev].name, a->target == AFF_XPS ? "tx" : "rx", a->id,
				a->target == AFF_XPS ? "xps_cpus" : "rps_cpus");
		if (ret < 0)
			return ret;
		ret = cpuset_format_mask(&a->to, mask_bits(in, &a->to), val, vlen);
		if (ret < 0)
			return ret;
		break;
	default:
		return -EINVAL;
	}
	/* A newline, as `echo` writes: every parser of these files takes it. */
	used = strlen(val);
	if (used + 2 > vlen)
		return -ENOSPC;
	val[used] = '\n';
	val[used + 1] = '\0';
	return 0;
}

/* What an errno from the write means for this kind of target. */
static enum aff_result classify(enum aff_target t, int err)
{
	if (err == -ENOENT || err == -ENODEV)
		return AFF_GONE;
	if (err == -EIO && t == AFF_CHANNEL)
		return AFF_UNSUPPORTED;
	if (err == -EIO && t == AFF_IRQ)
		return AFF_MANAGED;
	return AFF_FAILED;
}

/*
 * Under a root prefix, the file must resolve inside it: a tree whose
 * channels/<relid> or proc/irq/<n> is a link to elsewhere must not make us
 * write there.  The live system is all "inside"; its sysfs links are the
 * kernel's own.
 */
static int inside_root(const struct root *r, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int ret;

	if (root_is_live(r))
		return 0;
	/* The directory: the file itself is opened with O_NOFOLLOW. */
	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	ret = resolve_under(r->dir, dir, real);
	return ret < 0 ? ret : 0;
}

static enum aff_result apply_one(const struct root *r, const struct aff_input *in,
				 const struct aff_action *a, int *err)
{
	char path[512];
	/* The longest value is a mask of CPUSET_MAX bits: 2303 characters. */
	char val[CPUSET_MAX / 32 * 9 + 2];
	int ret;

	*err = 0;
	ret = target_of(r, in, a, path, sizeof(path), val, sizeof(val));
	if (ret == 0)
		ret = inside_root(r, path);
	if (ret == 0)
		ret = aff_write(path, val, strlen(val));
	if (ret == 0)
		return AFF_DONE;
	*err = -ret;
	return classify(a->target, ret);
}

int affinity_apply(const struct root *r, const struct aff_input *in,
		   const struct aff_plan *plan, struct aff_report *rep)
{
	bool host_refuses = !in->channels_writable, channel_done = false;
	bool channel_refused = host_refuses;
	size_t moves = 0;

	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < plan->n; i++)
		moves += plan->v[i].move;
	if (moves == 0)
		return 0;
	rep->v = calloc(moves, sizeof(*rep->v));
	if (!rep->v)
		return -ENOMEM;

	for (size_t i = 0; i < plan->n; i++) {
		const struct aff_action *a = &plan->v[i];
		struct aff_outcome *o;

		if (!a->move)
			continue;
		/*
		 * The host answers a channel move with EIO when it speaks VMBus
		 * older than 4.1, and then it answers every one the same: stop
		 * asking (and without channels/<relid>/cpu, never start).  A
		 * closed channel (a device without its driver) answers EIO too,
		 * so an EIO after a channel moved is that channel's alone.
		 * Transmit queues follow their channels: once the host refused a
		 * channel move, XPS is left as it is (channels come first in a
		 * plan), so sending never moves away from where the channel is.
		 */
		if ((a->target == AFF_CHANNEL && host_refuses) ||
		    (a->target == AFF_XPS && channel_refused)) {
			rep->skipped++;
			continue;
		}
		o = &rep->v[rep->n++];
		o->action = i;
		o->result = apply_one(r, in, a, &o->err); /* err kept for every result */
		if (a->target == AFF_CHANNEL && o->result == AFF_UNSUPPORTED)
			channel_refused = true;
		switch (o->result) {
		case AFF_DONE:
			channel_done |= a->target == AFF_CHANNEL;
			rep->done++;
			break;
		case AFF_FAILED:
			rep->failed++;
			break;
		case AFF_UNSUPPORTED:
			host_refuses = !channel_done;
			rep->skipped++;
			break;
		default:
			rep->skipped++;
			break;
		}
	}
	return rep->failed ? -EIO : 0;
}
