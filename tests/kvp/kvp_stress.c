// SPDX-License-Identifier: MIT
/*
 * Stress for the KVP pool store (agent/src/kvp_pool.c).
 *
 *   kvp_stress concurrency [--ops N] [--seed S]
 *	A cloud-init-style appender (flock + O_APPEND, no fcntl lock) writes
 *	pool 1 while this process sets, updates, deletes, reads and scans it
 *	through the store.  At the end every appended record is there exactly
 *	once, every key we believe exists is there once with its last value,
 *	deleted keys are gone, and the size is a multiple of 2560.
 *   kvp_stress crash [--kills N] [--seed S]
 *	A child changes the pool through the store in a loop and reports each
 *	acknowledged change through a pipe; we SIGKILL it at random moments,
 *	reopen the pool (which replays its journal) and check: whole records
 *	only, none torn (values check themselves), nothing acknowledged lost,
 *	the order hv_kvp_daemon would have.  An appender runs all along.
 *   kvp_stress bench
 *	Microseconds per operation on a 1,000-record pool, printed, never
 *	asserted.
 *
 * Output: "name: value" lines (the TAP suite turns them into diagnostics);
 * a failed check prints "FAIL: …" on stderr and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvp_pool.h"
#include "root.h"

#define R KVP_POOL_RECORD_SIZE
#define SLOTS 48           /* keys the store's user juggles */
#define APPENDER_MAX 600   /* records the appender writes at most */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* xorshift64*: reproducible from --seed, independent of libc. */
static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/* ---- the test tree ---------------------------------------------------- */

struct tree {
	char dir[256];
	char pool[PATH_MAX];
	struct root root;
};

static void tree_make(struct tree *t)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/azl-kvp-stress-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t->dir))
		fail("mkdtemp: %s", strerror(errno));
	if (root_init(&t->root, t->dir) < 0)
		fail("root_init %s", t->dir);
	snprintf(t->pool, sizeof(t->pool), "%s/var/lib/hyperv/.kvp_pool_1", t->dir);
	printf("tree (kept if a check fails): %s\n", t->dir);
	fflush(stdout);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tree_remove(const struct tree *t)
{
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct kvp_pool *pool_open(const struct tree *t)
{
	struct kvp_pool *p;
	int r = kvp_pool_open(&t->root, 1, false, &p);

	if (r < 0)
		fail("kvp_pool_open: %s", strerror(-r));
	return p;
}

/* ---- records ---------------------------------------------------------- */

static void make_rec(char rec[R], const char *key, const char *value)
{
	memset(rec, 0, R);
	memcpy(rec, key, strlen(key));
	memcpy(rec + KVP_KEY_SIZE, value, strlen(value));
}

static uint32_t fnv32(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/*
 * A value that checks itself: "<key>|<version>|<filler>|<checksum>".  The
 * filler length varies with the version so that records differ in length
 * and a mix of two versions cannot pass.
 */
static void make_value(char v[KVP_VALUE_SIZE], const char *key, unsigned ver)
{
	unsigned fill = (ver * 2654435761u) % 1400;
	int len = snprintf(v, KVP_VALUE_SIZE, "%.64s|%u|", key, ver);

	memset(v + len, 'a' + ver % 26, fill);
	v[len + fill] = '\0';
	snprintf(v + len + fill, 10, "|%08x", fnv32(v));
}

/* 1 if value is a self-checking value of key, with its version in *ver. */
static int check_value(const char *key, const char *value, unsigned *ver)
{
	char want[KVP_VALUE_SIZE];
	size_t klen = strlen(key);

	if (strncmp(value, key, klen) != 0 || value[klen] != '|' ||
	    sscanf(value + klen + 1, "%u", ver) != 1)
		return 0;
	make_value(want, key, *ver);
	return strcmp(want, value) == 0;
}

/* The parts of a raw record, after checking it is zero-padded. */
static int parse_rec(const char *rec, char key[KVP_KEY_SIZE], char value[KVP_VALUE_SIZE])
{
	size_t k = strnlen(rec, KVP_KEY_SIZE), v = strnlen(rec + KVP_KEY_SIZE, KVP_VALUE_SIZE);

	if (k == KVP_KEY_SIZE || v == KVP_VALUE_SIZE)
		return 0;
	for (size_t i = k; i < KVP_KEY_SIZE; i++)
		if (rec[i])
			return 0;
	for (size_t i = v; i < KVP_VALUE_SIZE; i++)
		if (rec[KVP_KEY_SIZE + i])
			return 0;
	memcpy(key, rec, k + 1);
	memcpy(value, rec + KVP_KEY_SIZE, v + 1);
	return 1;
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail("open %s: %s", path, strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		fail("read %s", path);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* ---- the appender (cloud-init's way) ---------------------------------- */

struct appender {
	pid_t pid;
	int stop;  /* closing it stops the appender */
	int acks;  /* it writes each appended sequence number here */
	uint32_t acked;
};

static void appender_run(const char *path, int stop, int acks, unsigned pause_us)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	char rec[R], key[64], value[KVP_VALUE_SIZE];

	if (fd < 0)
		_exit(3);
	for (uint32_t seq = 0; seq < APPENDER_MAX; seq++) {
		struct pollfd pfd = { .fd = stop, .events = POLLIN };

		if (poll(&pfd, 1, 0) > 0)
			break; /* EOF: asked to stop */
		snprintf(key, sizeof(key), "CLOUD_INIT|%u", seq);
		make_value(value, key, seq);
		make_rec(rec, key, value);
		if (flock(fd, LOCK_EX) < 0 || write(fd, rec, R) != R || flock(fd, LOCK_UN) < 0)
			_exit(4);
		if (write(acks, &seq, sizeof(seq)) != sizeof(seq))
			_exit(5);
		sleep_us(pause_us);
	}
	_exit(0);
}

static void appender_start(struct appender *a, const char *path, unsigned pause_us)
{
	int stop[2], acks[2];

	if (pipe2(stop, O_CLOEXEC) < 0 || pipe2(acks, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	a->pid = fork();
	if (a->pid < 0)
		fail("fork: %s", strerror(errno));
	if (a->pid == 0) {
		close(stop[1]);
		close(acks[0]);
		appender_run(path, stop[0], acks[1], pause_us);
	}
	close(stop[0]);
	close(acks[1]);
	a->stop = stop[1];
	a->acks = acks[0];
	a->acked = 0;
	fcntl(a->acks, F_SETFL, O_NONBLOCK);
}

/* Count the acknowledgements that arrived; they come in order. */
static void appender_drain(struct appender *a)
{
	uint32_t seq[64];
	ssize_t k;

	while ((k = read(a->acks, seq, sizeof(seq))) > 0) {
		for (size_t i = 0; i < (size_t)k / sizeof(*seq); i++) {
			if (seq[i] != a->acked)
				fail("appender acknowledged %u, expected %u", seq[i], a->acked);
			a->acked++;
		}
	}
}

static void appender_stop(struct appender *a)
{
	int status;

	close(a->stop);
	if (waitpid(a->pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("appender failed (status %d)", status);
	fcntl(a->acks, F_SETFL, 0);
	appender_drain(a);
	close(a->acks);
}

/* ---- what a pool file must look like ---------------------------------- */

struct model {
	unsigned ver[SLOTS]; /* version of each existing slot */
	bool exists[SLOTS];
	unsigned order[SLOTS]; /* slots in file order */
	unsigned n;
};

static void slot_key(char *k, size_t n, unsigned slot)
{
	snprintf(k, n, "KEY|%u", slot);
}

static void model_set(struct model *m, unsigned slot, unsigned ver)
{
	if (!m->exists[slot])
		m->order[m->n++] = slot;
	m->exists[slot] = true;
	m->ver[slot] = ver;
}

static void model_delete(struct model *m, unsigned slot)
{
	unsigned i = 0;

	while (i < m->n && m->order[i] != slot)
		i++;
	if (i == m->n)
		fail("model: deleting slot %u that does not exist", slot);
	memmove(m->order + i, m->order + i + 1, (m->n - i - 1) * sizeof(*m->order));
	m->n--;
	m->exists[slot] = false;
}

/* What a file holds: our slots in order, and which appended records. */
struct seen {
	unsigned order[SLOTS];
	unsigned ver[SLOTS];
	unsigned n;
	uint32_t appended;     /* CLOUD_INIT records */
	uint32_t max_seq_seen; /* + 1 */
	unsigned char *seq_seen;
	size_t records;
};

/* Parse and check every record of the pool file. */
static void read_pool(const char *path, struct seen *s)
{
	char key[KVP_KEY_SIZE], value[KVP_VALUE_SIZE];
	bool slot_seen[SLOTS] = { false };
	size_t len;
	char *buf = slurp(path, &len);
	unsigned id, ver;

	memset(s->order, 0, sizeof(s->order));
	s->n = 0;
	s->appended = 0;
	s->max_seq_seen = 0;
	free(s->seq_seen);
	s->seq_seen = calloc(APPENDER_MAX, 1);
	if (len % R)
		fail("pool size %zu is not a multiple of %d", len, R);
	s->records = len / R;
	for (size_t i = 0; i < s->records; i++) {
		if (!parse_rec(buf + i * R, key, value))
			fail("record %zu is not a clean NUL-padded record", i);
		if (!check_value(key, value, &ver))
			fail("record %zu (%s) is torn: value does not check", i, key);
		if (sscanf(key, "CLOUD_INIT|%u", &id) == 1) {
			if (id >= APPENDER_MAX || s->seq_seen[id]++)
				fail("appended record %u twice or out of range", id);
			s->appended++;
			if (id + 1 > s->max_seq_seen)
				s->max_seq_seen = id + 1;
		} else if (sscanf(key, "KEY|%u", &id) == 1 && id < SLOTS) {
			if (slot_seen[id])
				fail("key %s twice", key);
			slot_seen[id] = true;
			s->order[s->n] = id;
			s->ver[s->n++] = ver;
		} else {
			fail("record %zu has a key nobody wrote: %.40s", i, key);
		}
	}
	free(buf);
}

static bool seen_matches(const struct seen *s, const struct model *m)
{
	if (s->n != m->n)
		return false;
	for (unsigned i = 0; i < s->n; i++)
		if (s->order[i] != m->order[i] || s->ver[i] != m->ver[m->order[i]])
			return false;
	return true;
}

static void check_appended(const struct seen *s, uint32_t acked)
{
	for (uint32_t i = 0; i < acked; i++)
		if (!s->seq_seen[i])
			fail("appended record %u was acknowledged but is gone", i);
}

/* ---- concurrency ------------------------------------------------------ */

struct counts {
	unsigned long ops, sets_new, updates, deletes, gets, scans, scan_reads;
};

static void do_set(struct kvp_pool *p, struct model *m, unsigned slot, unsigned ver)
{
	char k[32], v[KVP_VALUE_SIZE];
	int r;

	slot_key(k, sizeof(k), slot);
	make_value(v, k, ver);
	r = kvp_pool_set(p, k, v);
	if (r < 0)
		fail("set %s: %s", k, strerror(-r));
	model_set(m, slot, ver);
}

static void do_delete(struct kvp_pool *p, struct model *m, unsigned slot)
{
	char k[32];
	int r;

	slot_key(k, sizeof(k), slot);
	r = kvp_pool_delete(p, k);
	if (r < 0)
		fail("delete %s: %s", k, strerror(-r));
	model_delete(m, slot);
}

static void do_get(struct kvp_pool *p, const struct model *m, unsigned slot)
{
	char k[32], v[KVP_VALUE_SIZE], want[KVP_VALUE_SIZE];
	int r;

	slot_key(k, sizeof(k), slot);
	r = kvp_pool_get(p, k, v);
	if (!m->exists[slot]) {
		if (r != -ENOENT)
			fail("get %s of a deleted key: %d", k, r);
		return;
	}
	make_value(want, k, m->ver[slot]);
	if (r < 0 || strcmp(v, want) != 0)
		fail("get %s: %d, not the last value", k, r);
}

/* ENUMERATE 0, 1, … as the host does, checking every record on the way. */
static unsigned long do_scan(struct kvp_pool *p, const struct model *m)
{
	static char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];
	bool mine[SLOTS] = { false };
	unsigned found = 0, id, ver;
	uint32_t i;
	int r;

	for (i = 0; (r = kvp_pool_enumerate(p, i, k, v)) == 0; i++) {
		if (!check_value(k, v, &ver))
			fail("scan: record %u (%s) does not check", i, k);
		if (sscanf(k, "KEY|%u", &id) == 1) {
			if (id >= SLOTS || mine[id] || !m->exists[id] || m->ver[id] != ver)
				fail("scan: %s is a duplicate, deleted or stale", k);
			mine[id] = true;
			found++;
		}
	}
	if (r != -ENOENT)
		fail("enumerate %u: %s", i, strerror(-r));
	if (found != m->n)
		fail("scan found %u of our %u keys", found, m->n);
	return i + 1;
}

static unsigned pick(const struct model *m, bool existing)
{
	unsigned s = rnd(SLOTS);

	for (unsigned i = 0; i < SLOTS; i++, s = (s + 1) % SLOTS)
		if (m->exists[s] == existing)
			return s;
	return SLOTS;
}

static void concurrency_step(struct kvp_pool *p, struct model *m, struct counts *c,
			     unsigned *ver)
{
	unsigned dice = rnd(1000), slot;

	if (dice < 2) {
		c->scan_reads += do_scan(p, m);
		c->scans++;
	} else if (dice < 350 && (slot = pick(m, true)) < SLOTS) {
		do_set(p, m, slot, ++*ver);
		c->updates++;
	} else if (dice < 600 && (slot = pick(m, false)) < SLOTS) {
		do_set(p, m, slot, ++*ver);
		c->sets_new++;
	} else if (dice < 800 && (slot = pick(m, true)) < SLOTS) {
		do_delete(p, m, slot);
		c->deletes++;
	} else {
		do_get(p, m, rnd(SLOTS));
		c->gets++;
	}
	c->ops = c->sets_new + c->updates + c->deletes + c->gets + c->scan_reads;
}

static int run_concurrency(unsigned long target)
{
	struct model m = { 0 };
	struct counts c = { 0 };
	struct seen s = { 0 };
	struct appender a;
	struct tree t;
	struct kvp_pool *p;
	unsigned ver = 0;
	uint64_t t0;

	tree_make(&t);
	p = pool_open(&t);
	appender_start(&a, t.pool, 500);
	t0 = now_ns();
	while (c.ops < target)
		concurrency_step(p, &m, &c, &ver);
	appender_stop(&a);
	c.scan_reads += do_scan(p, &m); /* the appender is done: a last look */
	kvp_pool_close(p);
	read_pool(t.pool, &s);
	if (s.appended != a.acked || s.max_seq_seen != a.acked)
		fail("%u appended records in the file, %u acknowledged", s.appended, a.acked);
	check_appended(&s, a.acked);
	if (!seen_matches(&s, &m))
		fail("our keys in the file differ from what we set and deleted");
	printf("operations: %lu (set new %lu, update %lu, delete %lu, get %lu, enumerate %lu in %lu scans)\n",
	       c.ops, c.sets_new, c.updates, c.deletes, c.gets, c.scan_reads, c.scans);
	printf("appended by the flock appender: %u, all present once\n", a.acked);
	printf("records at the end: %zu (%u ours), file size %zu\n", s.records, s.n, s.records * R);
	printf("time: %.2f s\n", (double)(now_ns() - t0) / 1e9);
	free(s.seq_seen);
	tree_remove(&t);
	return 0;
}

/* ---- crash ------------------------------------------------------------ */

enum msg_type { MSG_READY = 1, MSG_INTENT, MSG_ACK, MSG_FAIL };
enum change { CHANGE_SET, CHANGE_DELETE };

struct msg {
	uint32_t type, change, slot, ver;
};

static void send_msg(int fd, uint32_t type, uint32_t change, uint32_t slot, uint32_t ver)
{
	struct msg msg = { type, change, slot, ver };

	if (write(fd, &msg, sizeof(msg)) != sizeof(msg))
		_exit(6);
}

/* The child learns the state from the pool itself, after the replay. */
static void child_model(struct kvp_pool *p, struct model *m)
{
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];
	unsigned id, ver;

	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; kvp_pool_enumerate(p, i, k, v) == 0; i++)
		if (sscanf(k, "KEY|%u", &id) == 1 && id < SLOTS && check_value(k, v, &ver))
			model_set(m, id, ver);
}

static void crash_child(const struct tree *t, int out, unsigned ver)
{
	struct kvp_pool *p;
	struct model m;
	char k[32], v[KVP_VALUE_SIZE];

	if (kvp_pool_open(&t->root, 1, false, &p) < 0)
		_exit(7);
	child_model(p, &m);
	send_msg(out, MSG_READY, 0, 0, 0);
	for (;;) {
		unsigned dice = rnd(10), slot;
		bool del = false;
		int r;

		if (m.n == 0 || (dice >= 4 && dice < 7 && m.n < SLOTS)) {
			slot = pick(&m, false); /* a new key */
		} else {
			slot = pick(&m, true); /* an update, or a delete */
			del = dice >= 7;
		}
		slot_key(k, sizeof(k), slot);
		send_msg(out, MSG_INTENT, del ? CHANGE_DELETE : CHANGE_SET, slot, ++ver);
		if (del) {
			r = kvp_pool_delete(p, k);
			model_delete(&m, slot);
		} else {
			make_value(v, k, ver);
			r = kvp_pool_set(p, k, v);
			model_set(&m, slot, ver);
		}
		send_msg(out, r < 0 ? MSG_FAIL : MSG_ACK, 0, slot, (uint32_t)-r);
	}
}

struct crash_counts {
	unsigned kills, acked, in_flight_done, in_flight_undone, replayed, torn;
};

/* Apply the acknowledged changes; return whether one was in flight. */
static bool take_acks(int in, struct model *m, struct msg *pending, unsigned *acked)
{
	struct msg msg;
	bool open = false;
	ssize_t k;

	while ((k = read(in, &msg, sizeof(msg))) == sizeof(msg)) {
		if (msg.type == MSG_FAIL)
			fail("the store failed in the child: %s", strerror((int)msg.ver));
		if (msg.type == MSG_INTENT) {
			*pending = msg;
			open = true;
		} else if (msg.type == MSG_ACK && open) {
			if (pending->change == CHANGE_SET)
				model_set(m, pending->slot, pending->ver);
			else
				model_delete(m, pending->slot);
			open = false;
			++*acked;
		}
	}
	if (k != 0)
		fail("short message from the child");
	return open;
}

/* One child, one kill, one check. */
static void crash_round(const struct tree *t, struct model *m, struct appender *a,
			struct crash_counts *c, unsigned round)
{
	struct model after;
	struct seen s = { 0 };
	struct kvp_pool *p;
	struct msg ready, pending = { 0 };
	bool in_flight;
	struct kvp_pool_recovery rec;
	int fds[2], status, lock;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		rng_state ^= (uint64_t)round * 0x9e3779b97f4a7c15ull;
		crash_child(t, fds[1], round << 16);
	}
	close(fds[1]);
	if (read(fds[0], &ready, sizeof(ready)) != sizeof(ready) || ready.type != MSG_READY)
		fail("child %u did not start", round);
	sleep_us(rnd(4000));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status))
		fail("child %u ended by itself (status %d)", round, status);
	c->kills++;
	in_flight = take_acks(fds[0], m, &pending, &c->acked);
	after = *m;
	if (in_flight && pending.change == CHANGE_SET)
		model_set(&after, pending.slot, pending.ver);
	else if (in_flight)
		model_delete(&after, pending.slot);
	close(fds[0]);
	/* The reopen replays whatever the child left half done. */
	p = pool_open(t);
	kvp_pool_recovered(p, &rec);
	/* Nobody but the store rewrites this pool: no journal can be stale. */
	if (rec.stale)
		fail("round %u: a journal was found stale", round);
	c->replayed += rec.replayed;
	c->torn += rec.torn;
	/* Hold the appender off while we read the file. */
	lock = open(t->pool, O_RDONLY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_SH) < 0)
		fail("flock: %s", strerror(errno));
	appender_drain(a);
	read_pool(t->pool, &s);
	check_appended(&s, a->acked);
	close(lock);
	kvp_pool_close(p);
	if (seen_matches(&s, m)) {
		c->in_flight_undone += in_flight;
	} else if (seen_matches(&s, &after)) {
		*m = after;
		c->in_flight_done++;
	} else {
		fail("round %u: the pool is neither before nor after the change in flight", round);
	}
	free(s.seq_seen);
}

static int run_crash(unsigned kills)
{
	struct crash_counts c = { 0 };
	struct model m = { 0 };
	struct appender a;
	struct tree t;
	struct kvp_pool *p;
	uint64_t t0 = now_ns();

	tree_make(&t);
	p = pool_open(&t);
	kvp_pool_close(p);
	appender_start(&a, t.pool, 3000);
	for (unsigned round = 1; round <= kills; round++)
		crash_round(&t, &m, &a, &c, round);
	appender_stop(&a);
	printf("kills: %u\n", c.kills);
	printf("acknowledged changes: %u (every one found after the kills)\n", c.acked);
	printf("change in flight at the kill: applied %u, not applied %u\n", c.in_flight_done,
	       c.in_flight_undone);
	printf("journals found on reopen: %u replayed, %u torn (discarded)\n", c.replayed, c.torn);
	printf("appended by the flock appender meanwhile: %u, all present once\n", a.acked);
	printf("time: %.2f s\n", (double)(now_ns() - t0) / 1e9);
	tree_remove(&t);
	return 0;
}

/* ---- bench ------------------------------------------------------------ */

static double us_since(uint64_t t0, unsigned long n)
{
	return (double)(now_ns() - t0) / 1e3 / (double)n;
}

static void bench_fill(struct kvp_pool *p, unsigned n, unsigned ver)
{
	char k[32], v[KVP_VALUE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "bench-key-%u", i);
		make_value(v, k, ver);
		if (kvp_pool_set(p, k, v) < 0)
			fail("bench set");
	}
}

static double bench_enumerate(struct kvp_pool *p, unsigned n, unsigned rounds)
{
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];
	uint64_t t0 = now_ns();

	for (unsigned r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < n; i++)
			if (kvp_pool_enumerate(p, i, k, v) < 0)
				fail("bench enumerate");
	return us_since(t0, (unsigned long)n * rounds);
}

static int run_bench(void)
{
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];
	struct tree t;
	struct kvp_pool *p;
	double empty, full;
	uint64_t t0;
	const unsigned n = 1000, rounds = 200;

	tree_make(&t);
	p = pool_open(&t);
	bench_fill(p, 1, 0);
	empty = bench_enumerate(p, 1, 20000);
	kvp_pool_close(p);
	unlink(t.pool);
	p = pool_open(&t);
	t0 = now_ns();
	bench_fill(p, n, 0);
	printf("set (new key, pool growing to %u): %.1f us\n", n, us_since(t0, n));
	t0 = now_ns();
	for (unsigned i = 0; i < rounds; i++) {
		snprintf(k, sizeof(k), "extra-%u", i);
		if (kvp_pool_set(p, k, "x") < 0 || kvp_pool_delete(p, k) < 0)
			fail("bench append+delete");
	}
	printf("set (new key at %u) + delete of that last key: %.1f us per pair\n", n,
	       us_since(t0, rounds));
	t0 = now_ns();
	for (unsigned i = 0; i < 2000; i++) {
		snprintf(k, sizeof(k), "bench-key-%u", rnd(n));
		make_value(v, k, i + 1);
		if (kvp_pool_set(p, k, v) < 0)
			fail("bench update");
	}
	printf("set (update in place, %u records): %.1f us\n", n, us_since(t0, 2000));
	t0 = now_ns();
	for (unsigned i = 0; i < rounds; i++) {
		snprintf(k, sizeof(k), "bench-key-%u", rnd(n));
		if (kvp_pool_get(p, k, v) < 0)
			fail("bench get");
	}
	printf("get (%u records): %.1f us\n", n, us_since(t0, rounds));
	full = bench_enumerate(p, n, 20);
	printf("enumerate: %.2f us on a 1-record pool, %.2f us on a %u-record pool (ratio %.2f)\n",
	       empty, full, n, full / empty);
	printf("full scan of %u records: %.2f ms\n", n, full * n / 1e3);
	{
		uint64_t spent = 0;

		for (unsigned i = 0; i < rounds; i++) {
			snprintf(k, sizeof(k), "bench-key-%u", rnd(n));
			t0 = now_ns();
			if (kvp_pool_delete(p, k) < 0)
				fail("bench delete");
			spent += now_ns() - t0;
			if (kvp_pool_set(p, k, "back") < 0) /* at the end now */
				fail("bench set back");
		}
		printf("delete (a random record of %u, order kept): %.1f us\n", n,
		       (double)spent / 1e3 / rounds);
	}
	{
		/* The daemon's default: fsync around every change (power loss). */
		struct kvp_pool *d;

		if (kvp_pool_open(&t.root, 1, true, &d) < 0)
			fail("kvp_pool_open durable");
		t0 = now_ns();
		for (unsigned i = 0; i < rounds; i++) {
			snprintf(k, sizeof(k), "durable-key-%u", i);
			if (kvp_pool_set(d, k, "x") < 0)
				fail("bench durable set");
		}
		printf("set (new key, durable = yes, on this file system): %.1f us\n",
		       us_since(t0, rounds));
		kvp_pool_close(d);
	}
	t0 = now_ns();
	for (unsigned i = 0; i < 50; i++) {
		if (kvp_pool_enumerate(p, 0, k, v) < 0 || kvp_pool_delete(p, k) < 0)
			fail("bench delete head");
	}
	printf("delete (first record, %u records shift up): %.1f us\n", n, us_since(t0, 50));
	kvp_pool_close(p);
	tree_remove(&t);
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static unsigned long arg_number(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end)
		fail("not a number: %s", s);
	return v;
}

int main(int argc, char **argv)
{
	unsigned long ops = 100000, kills = 300;
	const char *mode = argc > 1 ? argv[1] : "";

	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--ops") == 0)
			ops = arg_number(argv[i + 1]);
		else if (strcmp(argv[i], "--kills") == 0)
			kills = arg_number(argv[i + 1]);
		else if (strcmp(argv[i], "--seed") == 0)
			rng_state = arg_number(argv[i + 1]) * 0x9e3779b97f4a7c15ull | 1;
		else
			fail("unknown option %s", argv[i]);
	}
	printf("seed state: %" PRIu64 "\n", rng_state);
	if (strcmp(mode, "concurrency") == 0)
		return run_concurrency(ops);
	if (strcmp(mode, "crash") == 0)
		return run_crash((unsigned)kills);
	if (strcmp(mode, "bench") == 0 || strcmp(mode, "--bench") == 0)
		return run_bench();
	fprintf(stderr, "usage: kvp_stress concurrency [--ops N] | crash [--kills N] | bench"
			" [--seed S]\n");
	return 2;
}
