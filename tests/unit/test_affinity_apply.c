// SPDX-License-Identifier: MIT
/*
 * affinity_apply() on a copy of the SKU fixtures (AZL_FIXTURES; skipped
 * without it).  Plans are built by hand, so these tests do not depend on
 * the planner.  The kernel's refusals (EIO, EINVAL, ENODEV) come from the
 * writer seam in affinity_apply_internal.h, because a fixture's regular
 * files cannot give them.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "affinity.h"
#include "affinity_apply_internal.h"

#define D64_NIC "000d3a6e-8c26-000d-3a6e-8c26000d3a6e"
#define D64_SCSI "f8b3781a-1e82-4818-a1c3-63d806ec15bb"
#define ND96_NIC "000d3a67-4843-000d-3a67-4843000d3a67"
#define OLD_MTIME 1000000000 /* 2001: set on kept files, checked afterwards */

struct t {
	char dir[64];
	struct root root;
	struct aff_cpu cpus[96];
	struct aff_vmbus_dev vmbus[2];
	struct aff_nic nics[1];
	struct aff_input in;
	struct aff_action act[16];
	struct aff_plan plan;
	struct aff_report rep;
};

/* ---- the writer seam ------------------------------------------------------ */

/* Paths ending in fail_suffix[i] get -fail_err[i]; every call is counted. */
static struct {
	const char *suffix[4];
	int err[4];
	unsigned int calls, channel_calls;
} fake;

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int fake_write(const char *path, const char *value, size_t len)
{
	fake.calls++;
	if (ends_with(path, "/cpu"))
		fake.channel_calls++;
	for (size_t i = 0; i < 4 && fake.suffix[i]; i++)
		if (ends_with(path, fake.suffix[i]))
			return -fake.err[i];
	return aff_write_file(path, value, len);
}

static void fail_on(const char *suffix, int err)
{
	for (size_t i = 0; i < 4; i++)
		if (!fake.suffix[i]) {
			fake.suffix[i] = suffix;
			fake.err[i] = err;
			return;
		}
	fail();
}

/* ---- fixtures and plans ----------------------------------------------------- */

#define VMBUS_DIR "sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/"

/* Copy the parts of a fixture the tests write (all of it is slow on a real disk). */
static int copy_fixture(const char *src, const char *fixture, const char *dir,
			const char *const *parts)
{
	char cmd[2048];
	int n = snprintf(cmd, sizeof(cmd), "cd '%s/%s' && cp -a --parents", src, fixture);

	for (size_t i = 0; parts[i]; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s'", parts[i]);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s/'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state, const char *fixture, const char *const *parts, unsigned int ncpus)
{
	const char *src = getenv("AZL_FIXTURES");
	struct t *t;

	if (!src)
		return 0; /* each test skips on a NULL state */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/azl-aff-XXXXXX");
	if (!mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0 ||
	    copy_fixture(src, fixture, t->dir, parts) < 0)
		return -1;
	for (unsigned int i = 0; i < ncpus; i++)
		t->cpus[i] = (struct aff_cpu){ .id = i, .node = i < ncpus / 2 ? 0 : 1, .core = i,
					       .allowed = true };
	t->in.ncpus = ncpus;
	t->in.cpus = t->cpus;
	t->in.nnodes = 2;
	t->in.channels_writable = true;
	t->in.nvmbus = 2;
	t->in.vmbus = t->vmbus;
	snprintf(t->vmbus[0].instance, sizeof(t->vmbus[0].instance), "%s",
		 ncpus == 96 ? ND96_NIC : D64_NIC);
	t->vmbus[0].kind = "netvsc";
	snprintf(t->vmbus[1].instance, sizeof(t->vmbus[1].instance), "%s", D64_SCSI);
	t->vmbus[1].kind = "storvsc";
	t->in.nnics = 1;
	t->in.nics = t->nics;
	snprintf(t->nics[0].name, sizeof(t->nics[0].name), "eth0");
	t->plan.v = t->act;
	memset(&fake, 0, sizeof(fake));
	aff_write = fake_write;
	*state = t;
	return 0;
}

static int setup_d64(void **state)
{
	static const char *const parts[] = {
		"sys/bus/vmbus/devices", "sys/class/net/eth0", VMBUS_DIR D64_NIC,
		VMBUS_DIR D64_SCSI, "proc/irq", NULL,
	};

	return setup(state, "d64ds-v5-mlx5", parts, 64);
}

static int setup_nd96(void **state)
{
	static const char *const parts[] = {
		"sys/bus/vmbus/devices/" ND96_NIC, "sys/class/net/eth0", VMBUS_DIR ND96_NIC,
		"proc/irq/100", NULL,
	};

	return setup(state, "nd96isr-h200-v5", parts, 96);
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	aff_write = aff_write_file;
	if (!t)
		return 0;
	aff_report_free(&t->rep);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static struct t *get(void **state)
{
	if (!*state)
		skip();
	return *state;
}

/* Add an action; to is a CPU list. */
static struct aff_action *add(struct t *t, enum aff_target target, int dev, long id,
			      const char *to, bool move)
{
	struct aff_action *a = &t->act[t->plan.n++];

	assert_true(t->plan.n <= 16);
	*a = (struct aff_action){ .target = target, .dev = dev, .id = id, .node = -1,
				  .move = move, .reason = "test" };
	assert_int_equal(cpuset_parse_list(to, &a->to), 0);
	t->plan.moves += move;
	return a;
}

static void read_file_in(struct t *t, const char *rel, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void file_is(struct t *t, const char *rel, const char *want)
{
	char buf[512];

	read_file_in(t, rel, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Give a file an old mtime so that any write shows. */
static void age(struct t *t, const char *rel)
{
	struct timespec ts[2] = { { .tv_sec = OLD_MTIME }, { .tv_sec = OLD_MTIME } };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void untouched(struct t *t, const char *rel, const char *want)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, OLD_MTIME);
	file_is(t, rel, want);
}

static void absent(struct t *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static const struct aff_outcome *outcome(struct t *t, size_t action)
{
	for (size_t k = 0; k < t->rep.n; k++)
		if (t->rep.v[k].action == action)
			return &t->rep.v[k];
	return NULL;
}

static void result_is(struct t *t, size_t action, enum aff_result want, int err)
{
	const struct aff_outcome *o = outcome(t, action);

	assert_non_null(o);
	assert_string_equal(aff_result_name(o->result), aff_result_name(want));
	if (want != AFF_DONE)
		assert_int_equal(o->err, err);
}

#define NIC_Q "sys/class/net/eth0/queues/"
#define D64_CH(relid) "sys/bus/vmbus/devices/" D64_NIC "/channels/" #relid "/cpu"
#define D64_SCSI_CH(relid) "sys/bus/vmbus/devices/" D64_SCSI "/channels/" #relid "/cpu"

/* ---- tests ----------------------------------------------------------------- */

static void test_moves_written_exactly(void **state)
{
	struct t *t = get(state);

	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_CHANNEL, 0, 44, "33", true);
	add(t, AFF_CHANNEL, 0, 45, "34", false);
	add(t, AFF_CHANNEL, 1, 14, "2", true);
	add(t, AFF_IRQ, -1, 25, "0-3,8", true);
	add(t, AFF_IRQ, 0, 26, "40", true);
	add(t, AFF_IRQ, 0, 27, "2", false);
	add(t, AFF_XPS, 0, 0, "5", true);
	add(t, AFF_XPS, 0, 1, "33", false);
	add(t, AFF_RPS, 0, 1, "32-63", true);
	add(t, AFF_RPS, 0, 2, "", true); /* an empty mask turns RPS off */
	age(t, D64_CH(45));
	age(t, "proc/irq/27/smp_affinity_list");
	age(t, NIC_Q "tx-1/xps_cpus");

	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	assert_int_equal(t->rep.n, 8);
	assert_int_equal(t->rep.done, 8);
	assert_int_equal(t->rep.skipped, 0);
	assert_int_equal(t->rep.failed, 0);
	for (size_t k = 0; k < t->rep.n; k++)
		assert_true(t->plan.v[t->rep.v[k].action].move);

	file_is(t, D64_CH(12), "5\n");
	file_is(t, D64_CH(44), "33\n");
	file_is(t, D64_SCSI_CH(14), "2\n");
	file_is(t, "proc/irq/25/smp_affinity_list", "0-3,8\n");
	file_is(t, "proc/irq/26/smp_affinity_list", "40\n");
	file_is(t, NIC_Q "tx-0/xps_cpus", "00000000,00000020\n");
	file_is(t, NIC_Q "rx-1/rps_cpus", "ffffffff,00000000\n");
	file_is(t, NIC_Q "rx-2/rps_cpus", "00000000,00000000\n");
	/* Kept actions: neither content nor mtime changed. */
	untouched(t, D64_CH(45), "17\n");
	untouched(t, "proc/irq/27/smp_affinity_list", "2\n");
	untouched(t, NIC_Q "tx-1/xps_cpus", "00000000,00000000\n");
	assert_int_equal(fake.calls, 8);
}

static void test_shorter_value_replaces_whole_file(void **state)
{
	struct t *t = get(state);

	/* Channel 44 is on CPU 48, IRQ 24 on 0-63: longer than what replaces them. */
	add(t, AFF_CHANNEL, 0, 44, "7", true);
	add(t, AFF_IRQ, -1, 24, "1", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	file_is(t, D64_CH(44), "7\n");
	file_is(t, "proc/irq/24/smp_affinity_list", "1\n");
}

static void test_gone(void **state)
{
	struct t *t = get(state);

	add(t, AFF_CHANNEL, 0, 999, "5", true);
	add(t, AFF_IRQ, -1, 9999, "1", true);
	add(t, AFF_XPS, 0, 99, "1", true);
	add(t, AFF_RPS, 0, 99, "1", true);
	add(t, AFF_IRQ, -1, 25, "3", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	for (size_t i = 0; i < 4; i++)
		result_is(t, i, AFF_GONE, ENOENT);
	result_is(t, 4, AFF_DONE, 0);
	assert_int_equal(t->rep.skipped, 4);
	assert_int_equal(t->rep.done, 1);
	assert_int_equal(t->rep.failed, 0);
	/* Nothing was created for the missing devices. */
	absent(t, "sys/bus/vmbus/devices/" D64_NIC "/channels/999");
	absent(t, "proc/irq/9999");
	absent(t, NIC_Q "tx-99");
	absent(t, NIC_Q "rx-99");
}

static void test_enodev_is_gone(void **state)
{
	struct t *t = get(state);

	/* kernfs: the attribute was removed while we held it open. */
	fail_on("/channels/12/cpu", ENODEV);
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_CHANNEL, 0, 44, "6", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	result_is(t, 0, AFF_GONE, ENODEV);
	result_is(t, 1, AFF_DONE, 0);
}

static void test_eio_per_target(void **state)
{
	struct t *t = get(state);

	fail_on("/channels/12/cpu", EIO);
	fail_on("/irq/25/smp_affinity_list", EIO);
	fail_on("/tx-0/xps_cpus", EIO);
	fail_on("/rx-0/rps_cpus", EIO);
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_IRQ, -1, 25, "3", true);
	add(t, AFF_IRQ, -1, 26, "4", true);
	add(t, AFF_RPS, 0, 0, "5", true);
	add(t, AFF_XPS, 0, 0, "5", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), -EIO);
	result_is(t, 0, AFF_UNSUPPORTED, EIO); /* VMBus < 4.1 or a closed channel */
	result_is(t, 1, AFF_MANAGED, EIO);     /* a kernel-managed IRQ */
	result_is(t, 2, AFF_DONE, 0);
	result_is(t, 3, AFF_FAILED, EIO); /* no meaning for queues: a failure */
	/* The channels stay where they are: so do the transmit queues. */
	assert_null(outcome(t, 4));
	assert_int_equal(t->rep.done, 1);
	assert_int_equal(t->rep.skipped, 3);
	assert_int_equal(t->rep.failed, 1);
	file_is(t, "proc/irq/26/smp_affinity_list", "4\n");
}

static void test_einval_fails_and_goes_on(void **state)
{
	struct t *t = get(state);

	/* A CPU outside the managed_irq housekeeping mask. */
	fail_on("/channels/12/cpu", EINVAL);
	fail_on("/irq/25/smp_affinity_list", EINVAL);
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_CHANNEL, 0, 44, "6", true);
	add(t, AFF_IRQ, -1, 25, "3", true);
	add(t, AFF_IRQ, -1, 26, "4", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), -EIO);
	result_is(t, 0, AFF_FAILED, EINVAL);
	result_is(t, 1, AFF_DONE, 0); /* EINVAL is about one CPU, not the host */
	result_is(t, 2, AFF_FAILED, EINVAL);
	result_is(t, 3, AFF_DONE, 0);
	assert_int_equal(t->rep.failed, 2);
	assert_int_equal(t->rep.done, 2);
	file_is(t, D64_CH(44), "6\n");
}

static void test_skip_after_unsupported(void **state)
{
	struct t *t = get(state);

	fail_on("/channels/44/cpu", EIO);
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_CHANNEL, 0, 44, "6", true);
	add(t, AFF_CHANNEL, 0, 45, "7", true);
	add(t, AFF_CHANNEL, 1, 14, "8", true);
	add(t, AFF_IRQ, -1, 25, "3", true);
	age(t, D64_CH(45));
	age(t, D64_SCSI_CH(14));
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	result_is(t, 0, AFF_DONE, 0);
	/* After a channel moved, an EIO is that channel's: closed, not the host. */
	result_is(t, 1, AFF_UNSUPPORTED, EIO);
	result_is(t, 2, AFF_DONE, 0);
	result_is(t, 3, AFF_DONE, 0);
	assert_int_equal(fake.channel_calls, 4);
	result_is(t, 4, AFF_DONE, 0);
	assert_int_equal(t->rep.n, 5);
	assert_int_equal(t->rep.done, 4);
	assert_int_equal(t->rep.skipped, 1);
	assert_int_equal(t->rep.failed, 0);
}

/* EIO on the first channel write: the host speaks VMBus < 4.1, stop asking. */
static void test_host_refuses_from_the_first(void **state)
{
	struct t *t = get(state);

	fail_on("/channels/12/cpu", EIO);
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_CHANNEL, 0, 44, "6", true);
	add(t, AFF_CHANNEL, 1, 14, "8", true);
	add(t, AFF_IRQ, -1, 25, "3", true);
	age(t, D64_CH(44));
	age(t, D64_SCSI_CH(14));
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	result_is(t, 0, AFF_UNSUPPORTED, EIO);
	assert_null(outcome(t, 1));
	assert_null(outcome(t, 2));
	assert_int_equal(fake.channel_calls, 1);
	result_is(t, 3, AFF_DONE, 0);
	assert_int_equal(t->rep.skipped, 3);
	untouched(t, D64_CH(44), "48\n");
	untouched(t, D64_SCSI_CH(14), "33\n");
}

/* A tree whose channel directory links out of the root is not written through. */
static void test_link_outside_root(void **state)
{
	struct t *t = get(state);
	char chan[512], out[512], cmd[4096];

	snprintf(chan, sizeof(chan), "%s/sys/bus/vmbus/devices/%s/channels/12", t->dir, D64_NIC);
	snprintf(out, sizeof(out), "%s-outside", t->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && echo 7 >'%s/cpu' && rm -rf '%s' && ln -s '%s' '%s'",
		 out, out, chan, out, chan);
	assert_int_equal(system(cmd), 0);
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), -EIO);
	result_is(t, 0, AFF_FAILED, EXDEV);
	snprintf(cmd, sizeof(cmd), "grep -qx 7 '%s/cpu' && rm -rf '%s'", out, out);
	assert_int_equal(system(cmd), 0); /* untouched */
}

static void test_channels_not_writable(void **state)
{
	struct t *t = get(state);

	t->in.channels_writable = false; /* kernel < 5.8: no channels/<relid>/cpu to write */
	add(t, AFF_CHANNEL, 0, 12, "5", true);
	add(t, AFF_IRQ, -1, 25, "3", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	assert_int_equal(fake.channel_calls, 0);
	assert_null(outcome(t, 0));
	result_is(t, 1, AFF_DONE, 0);
	assert_int_equal(t->rep.skipped, 1);
}

static void test_bad_actions(void **state)
{
	struct t *t = get(state);

	add(t, AFF_CHANNEL, 0, 12, "5-6", true); /* a channel has one CPU */
	add(t, AFF_CHANNEL, 7, 12, "5", true);   /* no such device */
	add(t, AFF_IRQ, -1, 25, "", true);       /* the kernel refuses an empty affinity */
	add(t, AFF_XPS, 3, 0, "1", true);
	add(t, AFF_IRQ, -1, -4, "1", true);
	add(t, (enum aff_target)42, 0, 0, "1", true);
	add(t, AFF_CHANNEL, 1, 14, "8", true);
	snprintf(t->vmbus[1].instance, sizeof(t->vmbus[1].instance), "..");
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), -EIO);
	for (size_t i = 0; i < 7; i++)
		result_is(t, i, AFF_FAILED, EINVAL);
	assert_int_equal(fake.calls, 0);
	assert_int_equal(t->rep.failed, 7);
	file_is(t, D64_CH(12), "1\n");
}

static void test_hostile_tree(void **state)
{
	struct t *t = get(state);
	char path[512], target[512];

	/* The attribute replaced by a link: never followed. */
	snprintf(target, sizeof(target), "%s/elsewhere", t->dir);
	snprintf(path, sizeof(path), "%s/proc/irq/25/smp_affinity_list", t->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	/* A FIFO with no reader: an error at once, not a blocked write. */
	snprintf(path, sizeof(path), "%s/proc/irq/26/smp_affinity_list", t->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A directory where the file should be. */
	snprintf(path, sizeof(path), "%s/" NIC_Q "tx-0/xps_cpus", t->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	add(t, AFF_IRQ, -1, 25, "3", true);
	add(t, AFF_IRQ, -1, 26, "3", true);
	add(t, AFF_XPS, 0, 0, "3", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), -EIO);
	result_is(t, 0, AFF_FAILED, ELOOP);
	result_is(t, 1, AFF_FAILED, ENXIO);
	result_is(t, 2, AFF_FAILED, EISDIR);
	snprintf(path, sizeof(path), "%s/elsewhere", t->dir);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_no_moves(void **state)
{
	struct t *t = get(state);

	add(t, AFF_IRQ, -1, 25, "3", false);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	assert_int_equal(t->rep.n, 0);
	assert_null(t->rep.v);
	assert_int_equal(fake.calls, 0);
	t->plan.n = 0;
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	aff_report_free(&t->rep);
	assert_int_equal(t->rep.n, 0);
}

static void test_nd96_masks(void **state)
{
	struct t *t = get(state);

	add(t, AFF_XPS, 0, 0, "0", true);
	add(t, AFF_XPS, 0, 1, "95", true);
	add(t, AFF_RPS, 0, 0, "48-95", true);
	add(t, AFF_RPS, 0, 1, "0-47", true);
	add(t, AFF_IRQ, -1, 100, "48-95", true);
	add(t, AFF_CHANNEL, 0, 12, "95", true);
	assert_int_equal(affinity_apply(&t->root, &t->in, &t->plan, &t->rep), 0);
	assert_int_equal(t->rep.done, 6);
	file_is(t, NIC_Q "tx-0/xps_cpus", "00000000,00000000,00000001\n");
	file_is(t, NIC_Q "tx-1/xps_cpus", "80000000,00000000,00000000\n");
	file_is(t, NIC_Q "rx-0/rps_cpus", "ffffffff,ffff0000,00000000\n");
	file_is(t, NIC_Q "rx-1/rps_cpus", "00000000,0000ffff,ffffffff\n");
	file_is(t, "proc/irq/100/smp_affinity_list", "48-95\n");
	file_is(t, "sys/bus/vmbus/devices/" ND96_NIC "/channels/12/cpu", "95\n");
}

static void test_result_names(void **state)
{
	(void)state;
	assert_string_equal(aff_result_name(AFF_DONE), "done");
	assert_string_equal(aff_result_name(AFF_UNSUPPORTED), "unsupported");
	assert_string_equal(aff_result_name(AFF_MANAGED), "managed");
	assert_string_equal(aff_result_name(AFF_GONE), "gone");
	assert_string_equal(aff_result_name(AFF_FAILED), "failed");
	assert_string_equal(aff_result_name((enum aff_result)99), "unknown");
}

int main(void)
{
#define D64(f) cmocka_unit_test_setup_teardown(f, setup_d64, teardown)
	const struct CMUnitTest tests[] = {
		D64(test_moves_written_exactly),
		D64(test_shorter_value_replaces_whole_file),
		D64(test_gone),
		D64(test_enodev_is_gone),
		D64(test_eio_per_target),
		D64(test_einval_fails_and_goes_on),
		D64(test_skip_after_unsupported),
		D64(test_host_refuses_from_the_first),
		D64(test_link_outside_root),
		D64(test_channels_not_writable),
		D64(test_bad_actions),
		D64(test_hostile_tree),
		D64(test_no_moves),
		cmocka_unit_test_setup_teardown(test_nd96_masks, setup_nd96, teardown),
		cmocka_unit_test(test_result_names),
	};

	return cmocka_run_group_tests_name("affinity_apply", tests, NULL, NULL);
}
