// SPDX-License-Identifier: MIT
/* The KVP pool store: layout, modes, semantics, other writers, crash replay. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvp_pool.h"
#include "root.h"
#include "util.h"

#define R KVP_POOL_RECORD_SIZE

struct tree {
	char dir[64];
	char pool[PATH_MAX];    /* .kvp_pool_1 */
	char journal[PATH_MAX]; /* .azl_kvp_journal_1 */
	struct root root;
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/azl-kvp-pool-XXXXXX");
	if (!mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0)
		return -1;
	snprintf(t->pool, sizeof(t->pool), "%s/var/lib/hyperv/.kvp_pool_1", t->dir);
	snprintf(t->journal, sizeof(t->journal), "%s/var/lib/hyperv/.azl_kvp_journal_1", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* A record as cloud-init packs it: key and value NUL-padded. */
static void make_rec(char rec[R], const char *key, const char *value)
{
	memset(rec, 0, R);
	memcpy(rec, key, strlen(key));
	memcpy(rec + KVP_KEY_SIZE, value, strlen(value));
}

/* Append raw bytes the way cloud-init does: flock + O_APPEND write(). */
static void append_raw(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void append_rec(const char *path, const char *key, const char *value)
{
	char rec[R];

	make_rec(rec, key, value);
	append_raw(path, rec, R);
}

/* Replace the whole file in place (same inode), with an mtime of our own. */
static void rewrite_raw(const char *path, const void *data, size_t len, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* The file holds exactly these records, in this order. */
static void assert_file_is(const char *path, const char *const *kv, size_t n)
{
	size_t len;
	char *buf = slurp(path, &len), rec[R];

	assert_int_equal(len, n * R);
	for (size_t i = 0; i < n; i++) {
		make_rec(rec, kv[2 * i], kv[2 * i + 1]);
		if (memcmp(buf + i * R, rec, R) != 0)
			fail_msg("record %zu is not %s=%s", i, kv[2 * i], kv[2 * i + 1]);
	}
	free(buf);
}

static struct kvp_pool *open_pool(struct tree *t)
{
	struct kvp_pool *p = NULL;

	assert_int_equal(kvp_pool_open(&t->root, 1, false, &p), 0);
	assert_non_null(p);
	return p;
}

static void set_all(struct kvp_pool *p, const char *const *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kvp_pool_set(p, kv[2 * i], kv[2 * i + 1]), 0);
}

static void assert_enum(struct kvp_pool *p, uint32_t i, const char *key, const char *value)
{
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];

	assert_int_equal(kvp_pool_enumerate(p, i, k, v), 0);
	assert_string_equal(k, key);
	assert_string_equal(v, value);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---- layout and modes ------------------------------------------------- */

static void test_defect3_records_zero_padded(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char want[2 * R];
	size_t len;
	char *buf;

	assert_string_equal(kvp_pool_path(p), t->pool);
	assert_int_equal(kvp_pool_set(p, "PROVISIONING_REPORT", "result=success"), 0);
	assert_int_equal(kvp_pool_set(p, "k2", "v"), 0);
	/* An update to a shorter value leaves no trace of the longer one. */
	assert_int_equal(kvp_pool_set(p, "PROVISIONING_REPORT", "ok"), 0);
	memset(want, 0, sizeof(want));
	memcpy(want, "PROVISIONING_REPORT", 19);
	memcpy(want + 512, "ok", 2);
	memcpy(want + R, "k2", 2);
	memcpy(want + R + 512, "v", 1);
	buf = slurp(t->pool, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	free(buf);
	assert_false(exists(t->journal));
	kvp_pool_close(p);
}

static void test_modes(void **state)
{
	struct tree *t = *state;
	mode_t old = umask(077);
	struct kvp_pool *p, *q;
	char path[PATH_MAX];
	struct stat st;

	p = open_pool(t);
	snprintf(path, sizeof(path), "%s/var/lib/hyperv", t->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(t->pool, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* The journal is ours alone. */
	assert_int_equal(kvp_pool_set(p, "a", "1"), 0);
	kvp_pool_test_crash(p, KVP_POOL_CRASH_AFTER_JOURNAL);
	assert_int_equal(kvp_pool_set(p, "a", "2"), -ECANCELED);
	assert_int_equal(stat(t->journal, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	kvp_pool_close(p);
	/* An existing pool keeps the mode its owner chose. */
	snprintf(path, sizeof(path), "%s/var/lib/hyperv/.kvp_pool_0", t->dir);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(kvp_pool_open(&t->root, 0, false, &q), 0);
	assert_int_equal(kvp_pool_set(q, "x", "y"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	kvp_pool_close(q);
	umask(old);
}

/* ---- semantics -------------------------------------------------------- */

static void test_get_set_delete(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char v[KVP_VALUE_SIZE], k[KVP_KEY_SIZE];

	assert_int_equal(kvp_pool_count(p), 0);
	assert_int_equal(kvp_pool_get(p, "a", v), -ENOENT);
	assert_int_equal(kvp_pool_enumerate(p, 0, k, v), -ENOENT);
	assert_int_equal(kvp_pool_delete(p, "a"), -ENOENT);
	assert_int_equal(kvp_pool_set(p, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(p, "b", ""), 0);
	assert_int_equal(kvp_pool_get(p, "a", v), 0);
	assert_string_equal(v, "1");
	assert_int_equal(kvp_pool_get(p, "b", v), 0);
	assert_string_equal(v, "");
	/* Exact match: a prefix or an extension of a key is another key. */
	assert_int_equal(kvp_pool_get(p, "aa", v), -ENOENT);
	assert_int_equal(kvp_pool_set(p, "a", "2"), 0);
	assert_int_equal(kvp_pool_set(p, "a", "2"), 0); /* unchanged: no write */
	assert_int_equal(kvp_pool_count(p), 2);
	assert_enum(p, 0, "a", "2");
	assert_enum(p, 1, "b", "");
	assert_int_equal(kvp_pool_enumerate(p, 2, k, v), -ENOENT);
	assert_int_equal(kvp_pool_enumerate(p, UINT32_MAX, k, v), -ENOENT);
	assert_int_equal(kvp_pool_delete(p, "a"), 0);
	assert_int_equal(kvp_pool_get(p, "a", v), -ENOENT);
	assert_int_equal(kvp_pool_count(p), 1);
	assert_int_equal(kvp_pool_delete(p, "b"), 0);
	assert_int_equal(kvp_pool_count(p), 0);
	assert_file_is(t->pool, NULL, 0);
	kvp_pool_close(p);
	/* What one handle wrote, a new one reads. */
	p = open_pool(t);
	assert_int_equal(kvp_pool_set(p, "persist", "yes"), 0);
	kvp_pool_close(p);
	p = open_pool(t);
	assert_int_equal(kvp_pool_get(p, "persist", v), 0);
	assert_string_equal(v, "yes");
	kvp_pool_close(p);
}

static void test_delete_keeps_order(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	static const char *const kv[] = { "a", "1", "b", "2", "c", "3", "d", "4", "e", "5" };
	static const char *const after[] = { "a", "1", "c", "3", "d", "4" };

	set_all(p, kv, 5);
	assert_int_equal(kvp_pool_delete(p, "b"), 0);
	assert_int_equal(kvp_pool_delete(p, "e"), 0); /* the last one */
	assert_file_is(t->pool, after, 3);
	assert_enum(p, 0, "a", "1");
	assert_enum(p, 1, "c", "3");
	assert_enum(p, 2, "d", "4");
	assert_int_equal(kvp_pool_set(p, "f", "6"), 0); /* index still right */
	assert_enum(p, 3, "f", "6");
	kvp_pool_close(p);
}

static void test_duplicates(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	static const char *const after_set[] = { "dup", "new", "x", "0", "dup", "second" };
	static const char *const after_del[] = { "x", "0", "dup", "second" };
	char v[KVP_VALUE_SIZE];

	append_rec(t->pool, "dup", "first");
	append_rec(t->pool, "x", "0");
	append_rec(t->pool, "dup", "second");
	assert_int_equal(kvp_pool_get(p, "dup", v), 0);
	assert_string_equal(v, "first"); /* the first match wins */
	assert_int_equal(kvp_pool_set(p, "dup", "new"), 0);
	assert_file_is(t->pool, after_set, 3);
	assert_int_equal(kvp_pool_delete(p, "dup"), 0);
	assert_file_is(t->pool, after_del, 2);
	assert_int_equal(kvp_pool_get(p, "dup", v), 0);
	assert_string_equal(v, "second");
	kvp_pool_close(p);
}

static void test_invalid(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t), *q = NULL;
	char big[KVP_VALUE_SIZE + 1], v[KVP_VALUE_SIZE], k[KVP_KEY_SIZE];

	memset(big, 'k', sizeof(big));
	big[KVP_KEY_SIZE] = '\0'; /* 512 bytes: one too many */
	assert_int_equal(kvp_pool_set(p, big, "v"), -EINVAL);
	assert_int_equal(kvp_pool_get(p, big, v), -EINVAL);
	assert_int_equal(kvp_pool_delete(p, big), -EINVAL);
	big[KVP_KEY_SIZE - 1] = '\0'; /* 511: the largest key */
	assert_int_equal(kvp_pool_set(p, big, "v"), 0);
	assert_int_equal(kvp_pool_get(p, big, v), 0);
	/* The empty key is a key, as in hv_kvp_daemon's pools. */
	assert_int_equal(kvp_pool_set(p, "", "v"), 0);
	assert_int_equal(kvp_pool_get(p, "", v), 0);
	assert_string_equal(v, "v");
	assert_int_equal(kvp_pool_delete(p, ""), 0);
	assert_int_equal(kvp_pool_get(p, "", v), -ENOENT);
	assert_int_equal(kvp_pool_set(p, NULL, "v"), -EINVAL);
	assert_int_equal(kvp_pool_set(p, "k", NULL), -EINVAL);
	assert_int_equal(kvp_pool_get(p, NULL, v), -EINVAL);
	assert_int_equal(kvp_pool_enumerate(p, 0, NULL, v), -EINVAL);
	assert_int_equal(kvp_pool_enumerate(p, 0, k, NULL), -EINVAL);
	memset(big, 'v', sizeof(big));
	big[KVP_VALUE_SIZE] = '\0'; /* 2048 bytes: one too many */
	assert_int_equal(kvp_pool_set(p, "k", big), -EINVAL);
	big[KVP_VALUE_SIZE - 1] = '\0'; /* 2047: the largest value */
	assert_int_equal(kvp_pool_set(p, "k", big), 0);
	assert_int_equal(kvp_pool_get(p, "k", v), 0);
	assert_int_equal(strlen(v), KVP_VALUE_SIZE - 1);
	assert_int_equal(kvp_pool_count(p), 2);
	assert_int_equal(kvp_pool_open(&t->root, KVP_POOL_COUNT, false, &q), -EINVAL);
	assert_null(q);
	kvp_pool_close(p);
}

/* ---- hostile files ---------------------------------------------------- */

static void test_defect4_key_without_nul(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char rec[R], k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE], want[KVP_VALUE_SIZE];

	memset(rec, 'k', KVP_KEY_SIZE);
	memset(rec + KVP_KEY_SIZE, 'v', KVP_VALUE_SIZE);
	append_raw(t->pool, rec, R);
	assert_int_equal(kvp_pool_enumerate(p, 0, k, v), 0);
	assert_int_equal(strlen(k), KVP_KEY_SIZE - 1);
	assert_int_equal(strlen(v), KVP_VALUE_SIZE - 1);
	/* The cut key is not the stored key: it matches nothing, as upstream. */
	memcpy(want, k, sizeof(k));
	assert_int_equal(kvp_pool_get(p, want, v), -ENOENT);
	assert_int_equal(kvp_pool_set(p, want, "mine"), 0);
	assert_int_equal(kvp_pool_count(p), 2);
	assert_int_equal(kvp_pool_get(p, want, v), 0);
	assert_string_equal(v, "mine");
	kvp_pool_close(p);
}

/*
 * research/kvp.md §3.1 #4: hv_kvp_daemon's DELETE shifts later records with
 * strcpy(), so a third-party record whose key fills its 512 bytes runs into
 * its value.  Here it moves up byte for byte.
 */
static void test_defect4_delete_shifts_unterminated_record(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char rec[R], *buf;
	size_t len;

	assert_int_equal(kvp_pool_set(p, "first", "1"), 0);
	memset(rec, 'k', KVP_KEY_SIZE);
	memset(rec + KVP_KEY_SIZE, 'v', KVP_VALUE_SIZE);
	append_raw(t->pool, rec, R);
	assert_int_equal(kvp_pool_delete(p, "first"), 0);
	buf = slurp(t->pool, &len);
	assert_int_equal(len, R);
	assert_memory_equal(buf, rec, R);
	free(buf);
	kvp_pool_close(p);
}

/*
 * research/kvp.md §3.1 #9: older hv_kvp_daemon copies read pools of more
 * than 50 records (one allocation block) past their buffer.  A pool of 180
 * records, grown by us and by an appender, reads back whole.
 */
static void test_defect9_more_than_50_records(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE], rec[R];

	for (unsigned i = 0; i < 120; i++) {
		snprintf(k, sizeof(k), "ours-%u", i);
		assert_int_equal(kvp_pool_set(p, k, k), 0);
	}
	for (unsigned i = 0; i < 60; i++) {
		memset(rec, 0, R);
		snprintf(rec, KVP_KEY_SIZE, "theirs-%u", i);
		snprintf(rec + KVP_KEY_SIZE, KVP_VALUE_SIZE, "theirs-%u", i);
		append_raw(t->pool, rec, R);
	}
	assert_int_equal(kvp_pool_count(p), 180);
	for (uint32_t i = 0; i < 180; i++) {
		assert_int_equal(kvp_pool_enumerate(p, i, k, v), 0);
		assert_string_equal(k, v);
	}
	assert_int_equal(kvp_pool_get(p, "theirs-59", v), 0);
	assert_int_equal(kvp_pool_delete(p, "ours-0"), 0);
	assert_int_equal(kvp_pool_enumerate(p, 178, k, v), 0);
	assert_string_equal(k, "theirs-59");
	kvp_pool_close(p);
}

static void test_partial_trailing_record(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	static const char *const after[] = { "a", "1", "b", "2" };
	char junk[1000], k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];

	assert_int_equal(kvp_pool_set(p, "a", "1"), 0);
	memset(junk, 'j', sizeof(junk));
	append_raw(t->pool, junk, sizeof(junk));
	assert_int_equal(kvp_pool_count(p), 1);
	assert_int_equal(kvp_pool_enumerate(p, 1, k, v), -ENOENT);
	assert_int_equal(kvp_pool_get(p, "jjj", v), -ENOENT);
	/* The next writer drops it and writes whole records only. */
	assert_int_equal(kvp_pool_set(p, "b", "2"), 0);
	assert_file_is(t->pool, after, 2);
	/* Also before an update and a delete. */
	append_raw(t->pool, junk, sizeof(junk));
	assert_int_equal(kvp_pool_set(p, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(p, "a", "x"), 0);
	append_raw(t->pool, junk, sizeof(junk));
	assert_int_equal(kvp_pool_delete(p, "b"), 0);
	{
		static const char *const end[] = { "a", "x" };

		assert_file_is(t->pool, end, 1);
	}
	kvp_pool_close(p);
}

/* ---- other writers ---------------------------------------------------- */

static void test_external_appender(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char v[KVP_VALUE_SIZE];

	assert_int_equal(kvp_pool_set(p, "mine", "1"), 0);
	assert_int_equal(kvp_pool_count(p), 1);
	append_rec(t->pool, "CLOUD_INIT|1|start|init", "{}");
	assert_int_equal(kvp_pool_count(p), 2);
	assert_enum(p, 1, "CLOUD_INIT|1|start|init", "{}");
	append_rec(t->pool, "CLOUD_INIT|1|finish|init", "{\"result\":\"SUCCESS\"}");
	assert_int_equal(kvp_pool_get(p, "CLOUD_INIT|1|finish|init", v), 0);
	assert_string_equal(v, "{\"result\":\"SUCCESS\"}");
	/* Our next append goes after theirs, and an update of ours stays put. */
	assert_int_equal(kvp_pool_set(p, "mine2", "2"), 0);
	assert_int_equal(kvp_pool_set(p, "mine", "one"), 0);
	{
		static const char *const kv[] = {
			"mine", "one", "CLOUD_INIT|1|start|init", "{}",
			"CLOUD_INIT|1|finish|init", "{\"result\":\"SUCCESS\"}", "mine2", "2",
		};

		assert_file_is(t->pool, kv, 4);
	}
	kvp_pool_close(p);
}

static void test_external_rewrite(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char img[3 * R], v[KVP_VALUE_SIZE];

	assert_int_equal(kvp_pool_set(p, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(p, "b", "2"), 0);
	assert_int_equal(kvp_pool_get(p, "b", v), 0);
	/* Same size, other keys: the new mtime forces a full reload. */
	make_rec(img, "x", "9");
	make_rec(img + R, "y", "8");
	rewrite_raw(t->pool, img, 2 * R, 1000000000);
	assert_int_equal(kvp_pool_get(p, "a", v), -ENOENT);
	assert_int_equal(kvp_pool_get(p, "y", v), 0);
	assert_string_equal(v, "8");
	/* Larger, but the record we knew as last changed: not an append. */
	make_rec(img, "p", "1");
	make_rec(img + R, "q", "2");
	make_rec(img + 2 * R, "r", "3");
	rewrite_raw(t->pool, img, 3 * R, 1000000001);
	assert_int_equal(kvp_pool_count(p), 3);
	assert_int_equal(kvp_pool_get(p, "x", v), -ENOENT);
	assert_int_equal(kvp_pool_get(p, "p", v), 0);
	assert_string_equal(v, "1");
	/* Smaller. */
	rewrite_raw(t->pool, img + R, R, 1000000002);
	assert_int_equal(kvp_pool_count(p), 1);
	assert_enum(p, 0, "q", "2");
	assert_int_equal(kvp_pool_get(p, "p", v), -ENOENT);
	/* Deleted, then recreated by us on the next operation. */
	assert_int_equal(unlink(t->pool), 0);
	assert_int_equal(kvp_pool_count(p), 0);
	assert_true(exists(t->pool));
	assert_int_equal(kvp_pool_set(p, "z", "1"), 0);
	{
		static const char *const kv[] = { "z", "1" };

		assert_file_is(t->pool, kv, 1);
	}
	kvp_pool_close(p);
}

/*
 * A lock held by another process is waited for: the child takes it, says
 * so, appends a record after a pause and lets go.  A store that did not
 * wait would miss that record; one that waits always sees it.
 */
static void hold_lock_and_append(const char *path, bool use_flock)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct timespec pause = { 0, 150 * 1000 * 1000 };
	int fds[2], fd;
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char rec[R];

		fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0 || (use_flock ? flock(fd, LOCK_EX) : fcntl(fd, F_SETLKW, &fl)) < 0)
			_exit(1);
		if (write(fds[1], "L", 1) != 1)
			_exit(1);
		nanosleep(&pause, NULL);
		make_rec(rec, use_flock ? "by-flock" : "by-fcntl", "late");
		_exit(write(fd, rec, R) == R ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
}

/*
 * Any local user can read a 0644 pool and so hold flock(LOCK_SH) on it
 * for ever.  The store gives up after its bounded wait instead of
 * stopping the daemon: the request fails, the next one is served.
 */
static void test_lock_held_forever_times_out(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char v[KVP_VALUE_SIZE];
	int fds[2], status;
	pid_t pid;
	char c;

	assert_int_equal(kvp_pool_set(p, "k", "v"), 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(t->pool, O_RDONLY);

		if (fd < 0 || flock(fd, LOCK_SH) < 0 || write(fds[1], "L", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(kvp_pool_set(p, "k", "w"), -ETIMEDOUT);
	kill(pid, SIGKILL);
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_int_equal(kvp_pool_get(p, "k", v), 0);
	assert_string_equal(v, "v");
	assert_int_equal(kvp_pool_set(p, "k", "w"), 0);
	kvp_pool_close(p);
}

static void test_defect7_both_locks_waited_for(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = open_pool(t);
	char v[KVP_VALUE_SIZE];
	int status;

	hold_lock_and_append(t->pool, true);
	assert_int_equal(kvp_pool_count(p), 1);
	assert_true(wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	hold_lock_and_append(t->pool, false);
	assert_int_equal(kvp_pool_set(p, "after", "x"), 0);
	assert_true(wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(kvp_pool_get(p, "by-fcntl", v), 0);
	assert_enum(p, 2, "after", "x");
	kvp_pool_close(p);
}

/* ---- crash and replay ------------------------------------------------- */

static const char *const base[] = { "a", "1", "b", "2", "c", "3" };

enum op { OP_APPEND, OP_UPDATE, OP_DELETE_MID, OP_DELETE_LAST };

static int run_op(struct kvp_pool *p, enum op op)
{
	switch (op) {
	case OP_APPEND:
		return kvp_pool_set(p, "d", "4");
	case OP_UPDATE:
		return kvp_pool_set(p, "b", "two, and longer");
	case OP_DELETE_MID:
		return kvp_pool_delete(p, "a");
	default:
		return kvp_pool_delete(p, "c");
	}
}

/* The pool after op, for n records of `extra` appended by others. */
static void assert_after(const char *path, enum op op, bool done, const char *const *extra,
			 size_t nextra)
{
	const char *kv[2 * 8];
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		const char *k = base[2 * i], *v = base[2 * i + 1];

		if (done && ((op == OP_DELETE_MID && i == 0) || (op == OP_DELETE_LAST && i == 2)))
			continue;
		if (done && op == OP_UPDATE && i == 1)
			v = "two, and longer";
		kv[2 * n] = k;
		kv[2 * n++ + 1] = v;
	}
	if (done && op == OP_APPEND) {
		kv[2 * n] = "d";
		kv[2 * n++ + 1] = "4";
	}
	for (size_t i = 0; i < nextra; i++, n++) {
		kv[2 * n] = extra[2 * i];
		kv[2 * n + 1] = extra[2 * i + 1];
	}
	assert_file_is(path, kv, n);
}

static void reset_pool(struct tree *t)
{
	struct kvp_pool *p;

	unlink(t->journal);
	unlink(t->pool);
	p = open_pool(t);
	set_all(p, base, 3);
	kvp_pool_close(p);
}

/* Die at `at` during op; then maybe an appender writes; then reopen. */
static void crash_case(struct tree *t, enum op op, enum kvp_pool_crash at, bool appender,
		       bool done)
{
	static const char *const extra[] = { "CLOUD_INIT|x", "appended after the crash" };
	struct kvp_pool_recovery rec;
	struct kvp_pool *p;

	reset_pool(t);
	p = open_pool(t);
	kvp_pool_test_crash(p, at);
	assert_int_equal(run_op(p, op), -ECANCELED);
	kvp_pool_close(p);
	assert_true(exists(t->journal));
	if (appender)
		append_rec(t->pool, extra[0], extra[1]);
	p = open_pool(t);
	assert_false(exists(t->journal));
	kvp_pool_recovered(p, &rec);
	assert_int_equal(rec.torn, at == KVP_POOL_CRASH_JOURNAL_TORN);
	assert_int_equal(rec.replayed, at != KVP_POOL_CRASH_JOURNAL_TORN);
	assert_int_equal(rec.stale, 0);
	assert_after(t->pool, op, done, extra, appender);
	/* And the index built after the replay is right. */
	assert_int_equal(kvp_pool_count(p), (int)(3 + appender + (done && op == OP_APPEND) -
						  (done && op >= OP_DELETE_MID)));
	kvp_pool_close(p);
}

static void test_defect7_crash_replay(void **state)
{
	struct tree *t = *state;
	static const enum kvp_pool_crash points[] = {
		KVP_POOL_CRASH_JOURNAL_TORN, KVP_POOL_CRASH_AFTER_JOURNAL,
		KVP_POOL_CRASH_MID_APPLY, KVP_POOL_CRASH_BEFORE_TRUNCATE,
		KVP_POOL_CRASH_BEFORE_UNLINK,
	};

	for (enum op op = OP_APPEND; op <= OP_DELETE_LAST; op++) {
		for (size_t i = 0; i < ELEMENTSOF(points); i++) {
			enum kvp_pool_crash at = points[i];
			/*
			 * A complete journal is redone, except an append that had
			 * not written anything yet or was torn: it is undone (it was
			 * never acknowledged), so nothing half-written remains.
			 */
			bool done = at != KVP_POOL_CRASH_JOURNAL_TORN &&
				    !(op == OP_APPEND && (at == KVP_POOL_CRASH_AFTER_JOURNAL ||
							  at == KVP_POOL_CRASH_MID_APPLY));

			if (at == KVP_POOL_CRASH_BEFORE_TRUNCATE && op < OP_DELETE_MID)
				continue; /* only deletes truncate */
			for (int appender = 0; appender < 2; appender++) {
				crash_case(t, op, at, appender, done);
			}
		}
	}
}

/* A reader with shared locks finds the journal and replays it too. */
static void test_reader_replays(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p, *q;
	char v[KVP_VALUE_SIZE];

	reset_pool(t);
	p = open_pool(t);
	q = open_pool(t);
	kvp_pool_test_crash(p, KVP_POOL_CRASH_MID_APPLY);
	assert_int_equal(kvp_pool_set(p, "b", "two, and longer"), -ECANCELED);
	assert_int_equal(kvp_pool_get(q, "b", v), 0);
	assert_string_equal(v, "two, and longer");
	assert_false(exists(t->journal));
	/* The handle that "died" goes on working. */
	assert_int_equal(kvp_pool_get(p, "b", v), 0);
	assert_string_equal(v, "two, and longer");
	kvp_pool_close(p);
	kvp_pool_close(q);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_corrupt_journal(void **state)
{
	struct tree *t = *state;
	struct kvp_pool_recovery rec;
	struct kvp_pool *p;
	size_t len, jlen;
	char *before, *after, *j;

	reset_pool(t);
	before = slurp(t->pool, &len);
	p = open_pool(t);
	kvp_pool_test_crash(p, KVP_POOL_CRASH_AFTER_JOURNAL);
	assert_int_equal(kvp_pool_delete(p, "a"), -ECANCELED);
	kvp_pool_close(p);
	j = slurp(t->journal, &jlen);
	assert_int_equal(jlen, 64 + 3 * R); /* header, the record, the tail */
	free(j);
	flip_byte(t->journal, 64 + R + 3);
	p = open_pool(t);
	kvp_pool_recovered(p, &rec);
	assert_int_equal(rec.replayed, 0);
	assert_int_equal(rec.torn, 1);
	assert_false(exists(t->journal));
	after = slurp(t->pool, &len);
	assert_memory_equal(before, after, len);
	assert_int_equal(len, 3 * R);
	kvp_pool_close(p);
	free(before);
	free(after);
	/* Garbage and an empty file under the journal's name: discarded too. */
	assert_int_equal(close(open(t->journal, O_CREAT | O_WRONLY, 0600)), 0);
	p = open_pool(t);
	assert_false(exists(t->journal));
	kvp_pool_close(p);
	append_raw(t->journal, "AZLKVPJ\nrubbish", 15);
	p = open_pool(t);
	assert_false(exists(t->journal));
	assert_int_equal(kvp_pool_count(p), 3);
	kvp_pool_close(p);
}

/* Somebody rewrote the pool after we died: their content wins. */
static void test_stale_journal(void **state)
{
	struct tree *t = *state;
	struct kvp_pool_recovery rec;
	struct kvp_pool *p;
	char img[2 * R];

	reset_pool(t);
	p = open_pool(t);
	kvp_pool_test_crash(p, KVP_POOL_CRASH_AFTER_JOURNAL);
	assert_int_equal(kvp_pool_set(p, "b", "two, and longer"), -ECANCELED);
	kvp_pool_close(p);
	make_rec(img, "other", "tool");
	make_rec(img + R, "b", "theirs");
	rewrite_raw(t->pool, img, 2 * R, 1000000000);
	p = open_pool(t);
	kvp_pool_recovered(p, &rec);
	assert_int_equal(rec.stale, 1);
	{
		static const char *const kv[] = { "other", "tool", "b", "theirs" };

		assert_file_is(t->pool, kv, 2);
	}
	kvp_pool_close(p);
}

static void test_durable(void **state)
{
	struct tree *t = *state;
	struct kvp_pool *p = NULL;
	static const char *const kv[] = { "b", "2", "a", "x" };

	assert_int_equal(kvp_pool_open(&t->root, 1, true, &p), 0);
	assert_int_equal(kvp_pool_set(p, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(p, "b", "2"), 0);
	assert_int_equal(kvp_pool_set(p, "a", "x"), 0);
	assert_int_equal(kvp_pool_set(p, "c", "3"), 0);
	assert_int_equal(kvp_pool_delete(p, "c"), 0);
	assert_int_equal(kvp_pool_delete(p, "a"), 0);
	assert_int_equal(kvp_pool_set(p, "a", "x"), 0);
	assert_file_is(t->pool, kv, 2);
	kvp_pool_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defect3_records_zero_padded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_set_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_keeps_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defect4_key_without_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defect4_delete_shifts_unterminated_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defect9_more_than_50_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_trailing_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_appender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defect7_both_locks_waited_for, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_held_forever_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defect7_crash_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_replays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable, setup, teardown),
	};

	return cmocka_run_group_tests_name("kvp_pool", tests, NULL, NULL);
}
