// SPDX-License-Identifier: MIT
/*
 * The KVP pool store.
 *
 * A pool file is a bare array of 2560-byte records (a 512-byte key and a
 * 2048-byte value, NUL-padded), shared with cloud-init and azure-init (they
 * append under flock()) and with hv_kvp_daemon-era tools (they rewrite under
 * a POSIX fcntl() lock).  Records we write are zero-padded after each NUL
 * (hv_kvp_daemon leaks stale bytes there).
 *
 * Locks.  Every operation takes flock() (what the appenders take) and a
 * whole-file fcntl() record lock (what hv_kvp_daemon takes) on the one fd we
 * keep open, exclusive to write, shared to read.  The record lock is an OFD
 * lock (F_OFD_SETLKW): it conflicts with classic POSIX locks, but it belongs
 * to our open file description, not to the process, so it is not silently
 * dropped when any other fd of the process on the same file is closed
 * (research/kvp.md §3.1 #7).  Kernels older than 3.15 get F_SETLKW.
 *
 * Crash safety: a redo journal, not a rename, not a rewrite.
 *  - Truncating and rewriting in place, as hv_kvp_daemon does, loses the
 *    whole pool if we die in between, and readers see it empty meanwhile.
 *  - Writing a new file and renaming it over the pool is atomic for whoever
 *    opens by name, but an appender that opened the old inode first takes
 *    its flock() on that inode (no longer ours) and appends into an
 *    unlinked file: its record is lost without a trace.
 *  - So the pool inode never changes.  Before touching it we write what we
 *    are about to do to .azl_kvp_journal_<N> beside it (0600, checksummed;
 *    the name does not match the .kvp_pool_* glob), apply the change in
 *    place, and unlink the journal.  Whoever takes the locks next and finds
 *    a journal replays it (a torn one is discarded: the pool was not yet
 *    touched).  SIGKILL at any instant leaves the old or the new content.
 * Even a SET of a new key is journaled.  One pwrite() of 2560 bytes is not
 * atomic against SIGKILL (generic_perform_write() stops between pages on a
 * fatal signal and most records straddle a page), and "drop the torn tail
 * at the next write" is unsafe next to appenders: a cloud-init record
 * appended after our death lands behind the torn bytes, and cutting the file
 * back to whole records would cut that record.  The journal says where our
 * bytes start, so replay removes exactly them and moves later appends up.
 *
 * The journal holds one change to the region [off, old_size) of the pool:
 *  APPEND  the new record N at off == old_size (old bytes: none);
 *  REPLACE the record at off: old record O, new record N (same length);
 *  REMOVE  old region X ++ T becomes T, the file shrinks by |X| (DELETE:
 *          X is the record, T the records after it; order is kept, as
 *          hv_kvp_daemon keeps it, so pool files stay byte-identical).
 * The payload is "old bytes, then new bytes": for REMOVE the old region
 * X ++ T is exactly the payload.  Writes go from low to high offsets, so
 * after a crash the region holds a prefix of the new bytes and the rest of
 * the old ones; replay finds that split point, writes the rest and, for
 * REMOVE, truncates.  Whether the truncate already happened is told by the
 * bytes just past the new end: they still equal the old tail until then.
 * Anything else means a foreign writer rewrote the file after we died: the
 * journal is discarded rather than written over their content.  Bytes that
 * others appended past the old end after we died are kept: replay moves
 * them up with a second REMOVE journal that is renamed over the first.
 * (One ambiguity is left: if an appender, after our death, appends a
 * byte-identical copy of the very bytes a REMOVE drops, replay takes it for
 * the untruncated tail and drops it as well; cloud-init's and azure-init's
 * keys carry a fresh UUID each, so that copy does not happen.)
 *
 * durable: fsync the journal and its directory before the pool is touched,
 * and fdatasync the pool before the journal goes.  Without it the order of
 * the writes protects against the death of the process (the page cache
 * survives it) but not against a power loss.
 *
 * The index.  Per record we keep a 64-bit hash of its key, plus a hash of
 * the whole last record; values are read on demand, so a 1,000-record pool
 * costs 8 KB, not 2.5 MB, and ENUMERATE is one pread().  Each operation,
 * under the locks, checks that the name still leads to the inode we hold
 * (else it reopens, recreating the file if it was deleted), looks for a
 * journal, and fstat()s the pool: the same (size, mtime, ctime) as at the
 * last sync means the index is valid; a larger size means appends, trusted
 * only if the record we knew as the last one is unchanged (else somebody
 * rewrote the file); anything else is a full reload.  Where the file
 * system has multigrain timestamps (Linux 6.13 and later: ext4, xfs, btrfs,
 * tmpfs), a change after our fstat() always gets a fresh ctime.  Elsewhere
 * a rewrite to the same size within one timer tick of our last look keeps
 * both times and goes unnoticed until the file changes again; only
 * in-place rewriters (not appenders) can do that, and lookups compare the
 * key bytes on disk, so a stale index can miss a key, never act on the
 * wrong one.
 */
#include "kvp_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define R KVP_POOL_RECORD_SIZE
/* I/O chunk: whole records, below the allocator's mmap threshold. */
#define CHUNK (25u * R)
#define JOURNAL_MAGIC "AZLKVPJ\n"
#define JOURNAL_VERSION 1u
/* No offset or length in a journal we trust reaches this (256 TiB). */
#define JOURNAL_MAX_LEN (1ull << 48)
#define REOPEN_TRIES 8

enum journal_kind {
	JOURNAL_APPEND = 1,
	JOURNAL_REPLACE = 2,
	JOURNAL_REMOVE = 3,
};

/* Native byte order: the journal never leaves this machine. */
struct journal_header {
	char magic[8];
	uint32_t version;
	uint32_t kind;
	uint32_t pool;
	uint32_t reserved;
	uint64_t off;      /* where the region starts in the pool */
	uint64_t old_size; /* pool size when the change began */
	uint64_t old_len;  /* payload: old bytes first … */
	uint64_t new_len;  /* … then new bytes */
	uint64_t checksum; /* over this header (checksum 0) and the payload */
};
_Static_assert(sizeof(struct journal_header) == 64, "journal header layout");
#define JHDR sizeof(struct journal_header)

/* One piece of journal payload: bytes in memory, or a range of the pool. */
struct seg {
	const void *mem;
	uint64_t off;
	uint64_t len;
};

struct kvp_pool {
	struct root root;
	unsigned pool;
	bool durable;
	int fd;
	dev_t dev;
	ino_t ino;
	char dir[PATH_MAX];
	char path[PATH_MAX];
	char journal[PATH_MAX];
	char journal_new[PATH_MAX];

	/* The index (see the top of the file). */
	bool valid;
	struct stat st; /* the pool as last synced */
	uint64_t *keys; /* key hash per whole record */
	size_t n, cap;
	uint64_t last_fp; /* hash of the whole last record */

	struct kvp_pool_recovery recovery;
	enum kvp_pool_crash crash; /* tests: stop the next change there */
};

/* ---- hashing ---------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* Keys are short: FNV-1a byte by byte. */
static uint64_t hash_bytes(const void *data, size_t n)
{
	const unsigned char *s = data;
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

/*
 * The journal checksum: FNV-1a over 64-bit words (eight times faster than
 * per byte, which matters for a DELETE near the head of a large pool),
 * streamed so that any split of the input gives the same result.
 */
struct hasher {
	uint64_t h;
	unsigned char tail[8];
	size_t ntail;
};

static void hasher_init(struct hasher *s)
{
	s->h = FNV_OFFSET;
	s->ntail = 0;
}

static void hasher_word(struct hasher *s, const unsigned char *w)
{
	uint64_t v;

	memcpy(&v, w, 8);
	s->h = (s->h ^ v) * FNV_PRIME;
}

static void hasher_add(struct hasher *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n > 0 && s->ntail > 0) {
		s->tail[s->ntail++] = *p++;
		n--;
		if (s->ntail == 8) {
			hasher_word(s, s->tail);
			s->ntail = 0;
		}
	}
	for (; n >= 8; p += 8, n -= 8)
		hasher_word(s, p);
	memcpy(s->tail, p, n);
	s->ntail = n;
}

static uint64_t hasher_end(struct hasher *s)
{
	for (size_t i = 0; i < s->ntail; i++)
		s->h = (s->h ^ s->tail[i]) * FNV_PRIME;
	s->h = (s->h ^ s->ntail) * FNV_PRIME;
	return s->h;
}

/* ---- records ---------------------------------------------------------- */

/* A field without a NUL is cut one byte short so the copy can end in one. */
static size_t field_len(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	return n < size ? n : size - 1;
}

static uint64_t record_key_hash(const char *rec)
{
	return hash_bytes(rec, field_len(rec, KVP_KEY_SIZE));
}

static uint64_t record_hash(const char *rec)
{
	struct hasher s;

	hasher_init(&s);
	hasher_add(&s, rec, R);
	return hasher_end(&s);
}

/* Exact match, NUL included: a key without a NUL matches nothing. */
static bool record_matches(const char *rec, const char *key, size_t klen)
{
	return memcmp(rec, key, klen) == 0 && rec[klen] == '\0';
}

static void record_copy_out(const char *rec, char *key, char *value)
{
	size_t k = field_len(rec, KVP_KEY_SIZE);
	size_t v = field_len(rec + KVP_KEY_SIZE, KVP_VALUE_SIZE);

	if (key) {
		memcpy(key, rec, k);
		key[k] = '\0';
	}
	if (value) {
		memcpy(value, rec + KVP_KEY_SIZE, v);
		value[v] = '\0';
	}
}

/*
 * The empty key is a key: the host may SET it and hv_kvp_daemon stores it,
 * so the pools stay byte-identical only if we do too.
 */
static int check_key(const char *key, size_t *klen)
{
	if (!key)
		return -EINVAL;
	*klen = strnlen(key, KVP_KEY_SIZE);
	return *klen >= KVP_KEY_SIZE ? -EINVAL : 0;
}

static int build_record(char rec[R], const char *key, const char *value)
{
	size_t klen, vlen;
	int r = check_key(key, &klen);

	if (r < 0 || !value)
		return -EINVAL;
	vlen = strnlen(value, KVP_VALUE_SIZE);
	if (vlen >= KVP_VALUE_SIZE)
		return -EINVAL;
	memset(rec, 0, R);
	memcpy(rec, key, klen);
	memcpy(rec + KVP_KEY_SIZE, value, vlen);
	return 0;
}

/* ---- plain I/O -------------------------------------------------------- */

/* Hand an fd over to the caller and leave -1 for the cleanup. */
static int take_fd(int *fd)
{
	int f = *fd;

	*fd = -1;
	return f;
}

/* Returns the bytes read (short only at the end of the file) or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	return (ssize_t)done;
}

static int pread_exact(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t k = pread_full(fd, buf, n, off);

	if (k < 0)
		return (int)k;
	return (size_t)k == n ? 0 : -ENODATA;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		done += (size_t)k;
	}
	return 0;
}

static int sync_fd(int fd)
{
	return fdatasync(fd) < 0 ? -errno : 0;
}

static int sync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

static int file_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int truncate_to(int fd, uint64_t size)
{
	int r;

	do
		r = ftruncate(fd, (off_t)size);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* 1 if fd a at off_a and fd b at off_b hold the same len bytes, 0 if not. */
static int range_equal(int a, uint64_t off_a, int b, uint64_t off_b, uint64_t len)
{
	_cleanup_free_ char *x = malloc(CHUNK);
	_cleanup_free_ char *y = malloc(CHUNK);
	int r;

	if (!x || !y)
		return -ENOMEM;
	for (uint64_t pos = 0; pos < len;) {
		size_t c = (size_t)(len - pos < CHUNK ? len - pos : CHUNK);

		r = pread_exact(a, x, c, off_a + pos);
		if (r == 0)
			r = pread_exact(b, y, c, off_b + pos);
		if (r == -ENODATA)
			return 0;
		if (r < 0)
			return r;
		if (memcmp(x, y, c) != 0)
			return 0;
		pos += c;
	}
	return 1;
}

/* ---- opening ---------------------------------------------------------- */

/* mkdir with exactly `mode`, whatever the umask; an existing one is kept. */
static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0)
		return errno == EEXIST ? 0 : -errno;
	return chmod(path, mode) < 0 ? -errno : 0;
}

/* <root>/var/lib/hyperv and, under a test root, whatever leads to it. */
static int make_pool_dir(const struct kvp_pool *p)
{
	char path[PATH_MAX];
	static const char *const steps[] = { "", "lib", "lib/hyperv" };
	int r;

	for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
		r = root_path(&p->root, ROOT_VAR, path, sizeof(path), "%s", steps[i]);
		if (r == 0)
			r = make_dir(path, 0755);
		if (r < 0)
			return r;
	}
	return 0;
}

static int open_pool_file(struct kvp_pool *p)
{
	struct stat st;
	int fd, r;

	fd = open(p->path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_CREAT | O_EXCL, 0644);
	if (fd >= 0 && fchmod(fd, 0644) < 0) { /* new: 0644 despite the umask */
		r = -errno;
		close(fd);
		return r;
	}
	if (fd < 0 && errno == EEXIST) /* existing: keep its mode */
		fd = open(p->path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADFD;
	}
	if (p->fd >= 0)
		close(p->fd);
	p->fd = fd;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->valid = false;
	return 0;
}

/* (Re)create the directory and the file if they went away, and open it. */
static int reopen(struct kvp_pool *p)
{
	int r = make_pool_dir(p);

	return r < 0 ? r : open_pool_file(p);
}

/* 1 if the name no longer leads to the file we hold (deleted, replaced). */
static int pool_replaced(const struct kvp_pool *p)
{
	struct stat st;

	if (stat(p->path, &st) < 0)
		return errno == ENOENT ? 1 : -errno;
	return st.st_dev != p->dev || st.st_ino != p->ino;
}

/* ---- locks ------------------------------------------------------------ */

/*
 * The pools are world-readable (0644, as tools and image validation
 * expect), and a read-only descriptor is enough to take flock() or a read
 * lock: any local user could hold one forever.  So we never wait without a
 * limit: we try, back off (0.1 ms doubling to 10 ms) and give up after
 * KVP_LOCK_WAIT_MS with -ETIMEDOUT, which the host sees as a failed
 * request, not a daemon that stopped answering.  Honest writers (cloud-init,
 * azure-init, hv_kvp_daemon) hold the locks for microseconds.
 */
#define KVP_LOCK_WAIT_MS 2000

static int record_trylock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	int r;

	do
		r = fcntl(fd, F_OFD_SETLK, &fl);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EINVAL) /* no OFD locks: a classic POSIX lock */
		do
			r = fcntl(fd, F_SETLK, &fl);
		while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EACCES) /* what F_SETLK says for "held" */
		errno = EAGAIN;
	return r < 0 ? -errno : 0;
}

static int flock_try(int fd, int op)
{
	int r;

	do
		r = flock(fd, op | LOCK_NB);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Both locks, or neither: -ETIMEDOUT after KVP_LOCK_WAIT_MS of contention. */
static int lock_fd(int fd, bool excl)
{
	uint64_t deadline = monotonic_usec() + KVP_LOCK_WAIT_MS * 1000;
	useconds_t pause = 100;
	int r;

	for (;;) {
		r = flock_try(fd, excl ? LOCK_EX : LOCK_SH);
		if (r == 0) {
			r = record_trylock(fd, excl ? F_WRLCK : F_RDLCK);
			if (r < 0)
				flock(fd, LOCK_UN);
		}
		if (r != -EWOULDBLOCK && r != -EAGAIN)
			return r;
		if (monotonic_usec() >= deadline)
			return -ETIMEDOUT;
		usleep(pause);
		pause = pause < 10000 ? pause * 2 : 10000;
	}
}

static void record_unlock(int fd)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) < 0 && errno == EINVAL)
		fcntl(fd, F_SETLK, &fl);
}

static void unlock_fd(int fd)
{
	record_unlock(fd);
	flock(fd, LOCK_UN);
}

/* ---- the index -------------------------------------------------------- */

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int index_reserve(struct kvp_pool *p, size_t n)
{
	uint64_t *k;
	size_t cap = p->cap ? p->cap : 64;

	if (n <= p->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	k = realloc(p->keys, cap * sizeof(*k));
	if (!k)
		return -ENOMEM;
	p->keys = k;
	p->cap = cap;
	return 0;
}

/* Hash records [from, to) into the index; to is the new count. */
static int index_load(struct kvp_pool *p, size_t from, size_t to)
{
	_cleanup_free_ char *buf = NULL;
	int r = index_reserve(p, to);

	if (r < 0 || from >= to)
		return r;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	for (size_t i = from; i < to;) {
		size_t c = to - i < CHUNK / R ? to - i : CHUNK / R;

		r = pread_exact(p->fd, buf, c * R, (uint64_t)i * R);
		if (r < 0)
			return r == -ENODATA ? -EAGAIN : r; /* shrank under us */
		for (size_t j = 0; j < c; j++)
			p->keys[i + j] = record_key_hash(buf + j * R);
		i += c;
		if (i == to)
			p->last_fp = record_hash(buf + (c - 1) * R);
	}
	return 0;
}

/* Appends only if the record we knew as the last one is still the same. */
static int index_prefix_intact(struct kvp_pool *p)
{
	char rec[R];
	int r;

	if (p->n == 0)
		return 1;
	r = pread_exact(p->fd, rec, R, (uint64_t)(p->n - 1) * R);
	if (r == -ENODATA)
		return 0;
	return r < 0 ? r : record_hash(rec) == p->last_fp;
}

static int index_sync(struct kvp_pool *p)
{
	struct stat st;
	size_t count, from = 0;
	int r;

	if (fstat(p->fd, &st) < 0)
		return -errno;
	if (p->valid && same_stat(&st, &p->st))
		return 0;
	if ((uint64_t)st.st_size / R > INT_MAX)
		return -EFBIG; /* counts are ints in the interface */
	count = (size_t)((uint64_t)st.st_size / R);
	if (p->valid && st.st_size > p->st.st_size && count >= p->n) {
		r = index_prefix_intact(p);
		if (r < 0)
			return r;
		if (r > 0)
			from = p->n;
	}
	p->valid = false;
	r = index_load(p, from, count);
	if (r < 0)
		return r;
	p->n = count;
	p->st = st;
	p->valid = true;
	return 0;
}

/* After our own write: the index is right, learn the new stat. */
static int index_restat(struct kvp_pool *p)
{
	if (fstat(p->fd, &p->st) < 0) {
		p->valid = false;
		return -errno;
	}
	return 0;
}

/* First record whose key is exactly key; rec receives it. */
static int index_find(struct kvp_pool *p, const char *key, size_t klen, char rec[R], size_t *at)
{
	uint64_t h = hash_bytes(key, klen);
	int r;

	for (size_t i = 0; i < p->n; i++) {
		if (p->keys[i] != h)
			continue;
		r = pread_exact(p->fd, rec, R, (uint64_t)i * R);
		if (r < 0)
			return r == -ENODATA ? -EAGAIN : r;
		if (record_matches(rec, key, klen)) {
			*at = i;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- the journal: writing --------------------------------------------- */

static bool crash_at(struct kvp_pool *p, enum kvp_pool_crash at)
{
	if (p->crash != at)
		return false;
	p->crash = KVP_POOL_CRASH_NONE;
	p->valid = false;
	return true;
}

/* Copy one payload piece into the journal at *pos, hashing it. */
static int journal_put(struct kvp_pool *p, int jfd, const struct seg *s, uint64_t *pos,
		       struct hasher *h, char *buf)
{
	int r;

	if (s->mem) {
		hasher_add(h, s->mem, s->len);
		r = pwrite_full(jfd, s->mem, s->len, *pos);
		*pos += s->len;
		return r;
	}
	for (uint64_t done = 0; done < s->len;) {
		size_t c = (size_t)(s->len - done < CHUNK ? s->len - done : CHUNK);

		r = pread_exact(p->fd, buf, c, s->off + done);
		if (r == 0)
			r = pwrite_full(jfd, buf, c, *pos);
		if (r < 0)
			return r;
		hasher_add(h, buf, c);
		done += c;
		*pos += c;
	}
	return 0;
}

/*
 * Write a complete journal to path: header with checksum 0, payload, then
 * the header again with the checksum, which is what makes it valid.
 * Returns the journal's fd (for reading it back) or -errno.
 */
static int journal_write(struct kvp_pool *p, const char *path, struct journal_header *hdr,
			 const struct seg *segs, size_t nsegs)
{
	_cleanup_close_ int jfd = -1;
	_cleanup_free_ char *buf = malloc(CHUNK);
	uint64_t pos = JHDR;
	struct hasher h;
	int r;

	if (!buf)
		return -ENOMEM;
	jfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (jfd < 0 || fchmod(jfd, 0600) < 0)
		return -errno;
	memcpy(hdr->magic, JOURNAL_MAGIC, sizeof(hdr->magic));
	hdr->version = JOURNAL_VERSION;
	hdr->pool = p->pool;
	hdr->reserved = 0;
	hdr->checksum = 0;
	hasher_init(&h);
	hasher_add(&h, hdr, JHDR);
	r = pwrite_full(jfd, hdr, JHDR, 0);
	for (size_t i = 0; r == 0 && i < nsegs; i++)
		r = journal_put(p, jfd, &segs[i], &pos, &h, buf);
	if (r < 0)
		return r;
	if (crash_at(p, KVP_POOL_CRASH_JOURNAL_TORN)) /* checksum still 0 */
		return -ECANCELED;
	hdr->checksum = hasher_end(&h);
	r = pwrite_full(jfd, &hdr->checksum, sizeof(hdr->checksum),
			offsetof(struct journal_header, checksum));
	if (r == 0 && p->durable && fsync(jfd) < 0)
		r = -errno;
	return r < 0 ? r : take_fd(&jfd);
}

/* A new journal under the journal's name, durable before the pool is touched. */
static int journal_begin(struct kvp_pool *p, struct journal_header *hdr, const struct seg *segs,
			 size_t nsegs)
{
	int jfd = journal_write(p, p->journal, hdr, segs, nsegs);

	if (jfd >= 0 && p->durable) {
		int r = sync_dir(p->dir);

		if (r < 0) {
			close(jfd);
			return r;
		}
	}
	return jfd;
}

/* Replace a committed journal by another one in one step (rename). */
static int journal_install(struct kvp_pool *p, struct journal_header *hdr, const struct seg *segs,
			   size_t nsegs)
{
	_cleanup_close_ int jfd = journal_write(p, p->journal_new, hdr, segs, nsegs);

	if (jfd < 0)
		return jfd;
	if (rename(p->journal_new, p->journal) < 0)
		return -errno;
	return p->durable ? sync_dir(p->dir) : 0;
}

static int journal_end(struct kvp_pool *p)
{
	if (unlink(p->journal) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- the journal: applying -------------------------------------------- */

static uint64_t payload_new(const struct journal_header *hdr)
{
	return JHDR + hdr->old_len;
}

/* Write new bytes [from, to) of the journal into the pool at off + from. */
static int journal_apply(struct kvp_pool *p, int jfd, const struct journal_header *hdr,
			 uint64_t from, uint64_t to)
{
	_cleanup_free_ char *buf = malloc(CHUNK);
	int r;

	if (!buf)
		return -ENOMEM;
	while (from < to) {
		size_t c = (size_t)(to - from < CHUNK ? to - from : CHUNK);

		r = pread_exact(jfd, buf, c, payload_new(hdr) + from);
		if (r == 0)
			r = pwrite_full(p->fd, buf, c, hdr->off + from);
		if (r < 0)
			return r;
		from += c;
	}
	return 0;
}

/*
 * How far did the change get?  The region [off, off + len) must hold new
 * bytes up to some w and old bytes from there on.  Returns 0 with *w, or
 * -ESTALE when it holds something else (a foreign rewrite).
 */
static int journal_progress(struct kvp_pool *p, int jfd, const struct journal_header *hdr,
			    uint64_t len, uint64_t *w)
{
	_cleanup_free_ char *f = malloc(CHUNK);
	_cleanup_free_ char *nb = malloc(CHUNK);
	_cleanup_free_ char *ob = malloc(CHUNK);
	bool split = false;
	int r;

	if (!f || !nb || !ob)
		return -ENOMEM;
	*w = len;
	for (uint64_t pos = 0; pos < len;) {
		size_t c = (size_t)(len - pos < CHUNK ? len - pos : CHUNK), i = 0;

		r = pread_exact(p->fd, f, c, hdr->off + pos);
		if (r == 0 && !split)
			r = pread_exact(jfd, nb, c, payload_new(hdr) + pos);
		if (r == 0)
			r = pread_exact(jfd, ob, c, JHDR + pos);
		if (r < 0)
			return r == -ENODATA ? -ESTALE : r;
		for (; !split && i < c && f[i] == nb[i]; i++)
			;
		if (!split && i < c) {
			split = true;
			*w = pos + i;
		}
		if (split && memcmp(f + i, ob + i, c - i) != 0)
			return -ESTALE;
		pos += c;
	}
	return 0;
}

static int apply_rest(struct kvp_pool *p, int jfd, const struct journal_header *hdr, uint64_t len)
{
	uint64_t w;
	int r = journal_progress(p, jfd, hdr, len, &w);

	return r < 0 ? r : journal_apply(p, jfd, hdr, w, len);
}

static int redo_replace(struct kvp_pool *p, int jfd, const struct journal_header *hdr)
{
	uint64_t cur = 0;
	int r = file_size(p->fd, &cur);

	if (r < 0)
		return r;
	if (cur < hdr->off + hdr->new_len)
		return -ESTALE;
	return apply_rest(p, jfd, hdr, hdr->new_len);
}

/*
 * Move what others appended after old_size up to `to`, through a REMOVE
 * journal of the stale bytes [to, old_size) that replaces this one.
 * Returns 1: the caller replays the new journal.
 */
static int redo_move_appends(struct kvp_pool *p, uint64_t to, uint64_t old_size, uint64_t cur)
{
	struct journal_header hdr = {
		.kind = JOURNAL_REMOVE,
		.off = to,
		.old_size = cur,
		.old_len = old_size - to,
		.new_len = cur - old_size,
	};
	struct seg segs[] = {
		{ .off = to, .len = old_size - to },
		{ .off = old_size, .len = cur - old_size },
	};
	/* What we applied before must not be lost once this journal replaces ours. */
	int r = p->durable ? sync_fd(p->fd) : 0;

	if (r == 0)
		r = journal_install(p, &hdr, segs, ELEMENTSOF(segs));
	return r < 0 ? r : 1;
}

/*
 * Our record went to off.  Whole records past it: it was written whole (or
 * not at all, and never acknowledged); nothing to do.  Otherwise our torn
 * bytes sit at off and others' records may follow: remove just ours.
 */
static int redo_append(struct kvp_pool *p, int jfd, const struct journal_header *hdr)
{
	uint64_t cur = 0, torn;
	int r = file_size(p->fd, &cur);

	if (r < 0)
		return r;
	if (cur < hdr->off)
		return -ESTALE;
	torn = (cur - hdr->off) % R;
	if (torn == 0)
		return 0;
	r = range_equal(p->fd, hdr->off, jfd, payload_new(hdr), torn);
	if (r <= 0)
		return r < 0 ? r : -ESTALE;
	if (cur == hdr->off + torn)
		return truncate_to(p->fd, hdr->off);
	return redo_move_appends(p, hdr->off, hdr->off + torn, cur);
}

static int redo_remove(struct kvp_pool *p, int jfd, const struct journal_header *hdr)
{
	uint64_t cur = 0, end = hdr->off + hdr->new_len; /* the new end of the region */
	int r = file_size(p->fd, &cur);

	if (r < 0)
		return r;
	/* Not truncated yet while the bytes past the new end are the old tail. */
	r = cur < hdr->old_size ? 0 : range_equal(p->fd, end, jfd, JHDR + hdr->new_len, hdr->old_len);
	if (r < 0)
		return r;
	if (r == 0) { /* truncated: the new bytes must all be in place */
		if (cur < end)
			return -ESTALE;
		r = range_equal(p->fd, hdr->off, jfd, payload_new(hdr), hdr->new_len);
		return r < 0 ? r : r ? 0 : -ESTALE;
	}
	r = apply_rest(p, jfd, hdr, hdr->new_len);
	if (r < 0)
		return r;
	if (cur > hdr->old_size) /* others appended after we died: keep theirs */
		return redo_move_appends(p, end, hdr->old_size, cur);
	return truncate_to(p->fd, end);
}

/* ---- the journal: reading back ---------------------------------------- */

static bool journal_header_sane(const struct kvp_pool *p, const struct journal_header *h,
				uint64_t size)
{
	if (memcmp(h->magic, JOURNAL_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != JOURNAL_VERSION || h->pool != p->pool || h->reserved != 0)
		return false;
	if (h->off >= JOURNAL_MAX_LEN || h->old_size >= JOURNAL_MAX_LEN ||
	    h->old_len >= JOURNAL_MAX_LEN || h->new_len >= JOURNAL_MAX_LEN ||
	    size != JHDR + h->old_len + h->new_len)
		return false;
	switch (h->kind) {
	case JOURNAL_APPEND:
		return h->old_len == 0 && h->new_len == R && h->off == h->old_size &&
		       h->off % R == 0;
	case JOURNAL_REPLACE:
		return h->old_len == R && h->new_len == R && h->off % R == 0 &&
		       h->off + R <= h->old_size;
	case JOURNAL_REMOVE:
		return h->old_len > 0 && h->off + h->old_len + h->new_len == h->old_size;
	default:
		return false;
	}
}

/* 0: hdr is a complete, intact journal; -EBADMSG: torn or foreign. */
static int journal_load(struct kvp_pool *p, int jfd, struct journal_header *hdr)
{
	_cleanup_free_ char *buf = malloc(CHUNK);
	struct journal_header zeroed;
	struct stat st;
	struct hasher h;
	int r;

	if (!buf)
		return -ENOMEM;
	if (fstat(jfd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < JHDR)
		return -EBADMSG;
	r = pread_exact(jfd, hdr, JHDR, 0);
	if (r < 0)
		return r == -ENODATA ? -EBADMSG : r;
	if (!journal_header_sane(p, hdr, (uint64_t)st.st_size))
		return -EBADMSG;
	zeroed = *hdr;
	zeroed.checksum = 0;
	hasher_init(&h);
	hasher_add(&h, &zeroed, JHDR);
	for (uint64_t pos = JHDR; pos < (uint64_t)st.st_size;) {
		size_t c = (size_t)((uint64_t)st.st_size - pos < CHUNK ? (uint64_t)st.st_size - pos
									: CHUNK);

		r = pread_exact(jfd, buf, c, pos);
		if (r < 0)
			return r == -ENODATA ? -EBADMSG : r;
		hasher_add(&h, buf, c);
		pos += c;
	}
	return hasher_end(&h) == hdr->checksum ? 0 : -EBADMSG;
}

/* 0: finished; 1: a follow-up journal was installed; -ESTALE: discard. */
static int journal_redo(struct kvp_pool *p, int jfd, const struct journal_header *hdr)
{
	int r;

	switch (hdr->kind) {
	case JOURNAL_APPEND:
		r = redo_append(p, jfd, hdr);
		break;
	case JOURNAL_REPLACE:
		r = redo_replace(p, jfd, hdr);
		break;
	default:
		r = redo_remove(p, jfd, hdr);
		break;
	}
	if (r == 0 && p->durable)
		r = sync_fd(p->fd);
	return r;
}

/* One journal: finish it, or throw it away.  1: look again. */
static int journal_replay_one(struct kvp_pool *p)
{
	_cleanup_close_ int jfd = -1;
	struct journal_header hdr;
	int r;

	jfd = open(p->journal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (jfd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = journal_load(p, jfd, &hdr);
	if (r == 0)
		r = journal_redo(p, jfd, &hdr);
	if (r == 1)
		return 1;
	if (r == -EBADMSG)
		p->recovery.torn++;
	else if (r == -ESTALE)
		p->recovery.stale++;
	else if (r == 0)
		p->recovery.replayed++;
	else
		return r; /* an I/O error: keep the journal for the next attempt */
	return journal_end(p);
}

/* Under the exclusive locks: leave no journal behind. */
static int journal_replay(struct kvp_pool *p)
{
	int r;

	p->valid = false;
	/* A half-written follow-up journal: the one it was to replace stands. */
	if (unlink(p->journal_new) < 0 && errno != ENOENT)
		return -errno;
	for (int round = 0; round < 4; round++) {
		r = journal_replay_one(p);
		if (r <= 0)
			return r;
	}
	return -ELOOP;
}

/* ---- operations ------------------------------------------------------- */

/*
 * Under the locks: 0 ready; 1 the name leads to another file (reopen);
 * 2 a dead writer left a journal and we hold only shared locks.
 */
static int pool_check(struct kvp_pool *p, bool excl)
{
	struct stat st;
	int r = pool_replaced(p);

	if (r != 0)
		return r;
	if (stat(p->journal, &st) == 0) {
		if (!excl)
			return 2;
		r = journal_replay(p);
		if (r < 0)
			return r;
	} else if (errno != ENOENT) {
		return -errno;
	}
	return index_sync(p);
}

/*
 * Lock, make sure we hold the file the name leads to, finish a change a
 * dead writer left behind (that takes the exclusive locks), and bring the
 * index up to date.
 */
static int pool_begin(struct kvp_pool *p, bool excl)
{
	int r;

	for (int tries = 0; tries < REOPEN_TRIES; tries++) {
		r = lock_fd(p->fd, excl);
		if (r < 0)
			return r;
		r = pool_check(p, excl);
		if (r == 0)
			return 0;
		unlock_fd(p->fd);
		if (r == 2) /* the journal needs the exclusive locks */
			excl = true;
		else if (r == 1)
			r = reopen(p);
		if (r < 0)
			return r;
	}
	return -EAGAIN;
}

static void pool_end(struct kvp_pool *p)
{
	unlock_fd(p->fd);
}

/* A torn trailing record left by a dead appender goes before we write. */
static int drop_partial(struct kvp_pool *p)
{
	if ((uint64_t)p->st.st_size == (uint64_t)p->n * R)
		return 0;
	return truncate_to(p->fd, (uint64_t)p->n * R);
}

/*
 * A change failed half-way (EIO, ENOSPC): finish or undo it now if we can;
 * if not, the journal stays for the next operation.
 */
static int change_failed(struct kvp_pool *p, int err)
{
	if (err != -ECANCELED)
		journal_replay(p);
	p->valid = false;
	return err;
}

static int change_done(struct kvp_pool *p)
{
	int r = p->durable ? sync_fd(p->fd) : 0;

	if (r < 0)
		return change_failed(p, r);
	if (crash_at(p, KVP_POOL_CRASH_BEFORE_UNLINK))
		return -ECANCELED;
	r = journal_end(p);
	return r < 0 ? r : index_restat(p);
}

/* Write a record from memory, or only its first half for a crash test. */
static int write_record(struct kvp_pool *p, const char *rec, uint64_t off)
{
	if (crash_at(p, KVP_POOL_CRASH_MID_APPLY)) {
		int r = pwrite_full(p->fd, rec, R / 2 + 7, off);

		return r < 0 ? r : -ECANCELED;
	}
	return pwrite_full(p->fd, rec, R, off);
}

static int pool_append(struct kvp_pool *p, const char *rec)
{
	uint64_t off = (uint64_t)p->n * R;
	struct journal_header hdr = {
		.kind = JOURNAL_APPEND, .off = off, .old_size = off, .new_len = R,
	};
	struct seg seg = { .mem = rec, .len = R };
	_cleanup_close_ int jfd = -1;
	int r = drop_partial(p);

	if (r < 0)
		return r;
	jfd = journal_begin(p, &hdr, &seg, 1);
	if (jfd < 0)
		return change_failed(p, jfd);
	if (crash_at(p, KVP_POOL_CRASH_AFTER_JOURNAL))
		return -ECANCELED;
	r = write_record(p, rec, off);
	if (r < 0)
		return change_failed(p, r);
	r = index_reserve(p, p->n + 1);
	if (r < 0)
		return change_failed(p, r);
	p->keys[p->n++] = record_key_hash(rec);
	p->last_fp = record_hash(rec);
	return change_done(p);
}

static int pool_replace(struct kvp_pool *p, size_t at, const char *old, const char *rec)
{
	uint64_t off = (uint64_t)at * R;
	struct journal_header hdr = {
		.kind = JOURNAL_REPLACE, .off = off, .old_size = (uint64_t)p->n * R,
		.old_len = R, .new_len = R,
	};
	struct seg segs[] = { { .mem = old, .len = R }, { .mem = rec, .len = R } };
	_cleanup_close_ int jfd = -1;
	int r = drop_partial(p);

	if (r < 0)
		return r;
	jfd = journal_begin(p, &hdr, segs, ELEMENTSOF(segs));
	if (jfd < 0)
		return change_failed(p, jfd);
	if (crash_at(p, KVP_POOL_CRASH_AFTER_JOURNAL))
		return -ECANCELED;
	r = write_record(p, rec, off);
	if (r < 0)
		return change_failed(p, r);
	if (at + 1 == p->n)
		p->last_fp = record_hash(rec);
	return change_done(p);
}

/* The index after record `at` went: later hashes move up. */
static int index_remove(struct kvp_pool *p, size_t at)
{
	char rec[R];
	int r;

	memmove(p->keys + at, p->keys + at + 1, (p->n - at - 1) * sizeof(*p->keys));
	p->n--;
	if (at < p->n || p->n == 0) /* the last record is still the last one */
		return 0;
	r = pread_exact(p->fd, rec, R, (uint64_t)(p->n - 1) * R);
	if (r < 0)
		return r;
	p->last_fp = record_hash(rec);
	return 0;
}

static int pool_remove(struct kvp_pool *p, size_t at, const char *old)
{
	uint64_t off = (uint64_t)at * R, size = (uint64_t)p->n * R;
	struct journal_header hdr = {
		.kind = JOURNAL_REMOVE, .off = off, .old_size = size,
		.old_len = R, .new_len = size - off - R,
	};
	struct seg segs[] = { { .mem = old, .len = R }, { .off = off + R, .len = size - off - R } };
	_cleanup_close_ int jfd = -1;
	int r = drop_partial(p);

	if (r < 0)
		return r;
	jfd = journal_begin(p, &hdr, segs, ELEMENTSOF(segs));
	if (jfd < 0)
		return change_failed(p, jfd);
	if (crash_at(p, KVP_POOL_CRASH_AFTER_JOURNAL))
		return -ECANCELED;
	if (crash_at(p, KVP_POOL_CRASH_MID_APPLY)) {
		r = journal_apply(p, jfd, &hdr, 0, hdr.new_len / 2 + 7 < hdr.new_len ?
							hdr.new_len / 2 + 7 : 0);
		return change_failed(p, r < 0 ? r : -ECANCELED);
	}
	r = journal_apply(p, jfd, &hdr, 0, hdr.new_len);
	if (r == 0 && crash_at(p, KVP_POOL_CRASH_BEFORE_TRUNCATE))
		r = -ECANCELED;
	if (r == 0)
		r = truncate_to(p->fd, off + hdr.new_len);
	if (r == 0)
		r = index_remove(p, at);
	if (r < 0)
		return change_failed(p, r);
	return change_done(p);
}

/* ---- the interface ---------------------------------------------------- */

static int pool_paths(struct kvp_pool *p)
{
	int r = root_path(&p->root, ROOT_VAR, p->dir, sizeof(p->dir), "lib/hyperv");

	if (r == 0)
		r = root_path(&p->root, ROOT_VAR, p->path, sizeof(p->path),
			      "lib/hyperv/.kvp_pool_%u", p->pool);
	if (r == 0)
		r = root_path(&p->root, ROOT_VAR, p->journal, sizeof(p->journal),
			      "lib/hyperv/.azl_kvp_journal_%u", p->pool);
	if (r == 0)
		r = root_path(&p->root, ROOT_VAR, p->journal_new, sizeof(p->journal_new),
			      "lib/hyperv/.azl_kvp_journal_%u.new", p->pool);
	return r;
}

int kvp_pool_open(const struct root *r, unsigned pool, bool durable, struct kvp_pool **out)
{
	struct kvp_pool *p;
	int ret;

	if (!r || !out || pool >= KVP_POOL_COUNT)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->root = *r;
	p->pool = pool;
	p->durable = durable;
	p->fd = -1;
	ret = pool_paths(p);
	if (ret == 0)
		ret = reopen(p);
	if (ret == 0)
		ret = pool_begin(p, true); /* replays what a dead writer left */
	if (ret < 0) {
		kvp_pool_close(p);
		return ret;
	}
	pool_end(p);
	*out = p;
	return 0;
}

void kvp_pool_close(struct kvp_pool *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->keys);
	free(p);
}

const char *kvp_pool_path(const struct kvp_pool *p)
{
	return p->path;
}

int kvp_pool_get(struct kvp_pool *p, const char *key, char value[KVP_VALUE_SIZE])
{
	char rec[R];
	size_t klen, at;
	int r = check_key(key, &klen);

	if (r < 0 || !value)
		return -EINVAL;
	r = pool_begin(p, false);
	if (r < 0)
		return r;
	r = index_find(p, key, klen, rec, &at);
	pool_end(p);
	if (r == 0)
		record_copy_out(rec, NULL, value);
	return r;
}

int kvp_pool_set(struct kvp_pool *p, const char *key, const char *value)
{
	char rec[R], old[R];
	size_t at;
	int r = build_record(rec, key, value);

	if (r < 0)
		return r;
	r = pool_begin(p, true);
	if (r < 0)
		return r;
	r = index_find(p, key, strlen(key), old, &at);
	if (r == -ENOENT)
		r = pool_append(p, rec);
	else if (r == 0 && memcmp(old, rec, R) != 0)
		r = pool_replace(p, at, old, rec);
	pool_end(p);
	return r;
}

int kvp_pool_delete(struct kvp_pool *p, const char *key)
{
	char old[R];
	size_t klen, at;
	int r = check_key(key, &klen);

	if (r < 0)
		return r;
	r = pool_begin(p, true);
	if (r < 0)
		return r;
	r = index_find(p, key, klen, old, &at);
	if (r == 0)
		r = pool_remove(p, at, old);
	pool_end(p);
	return r;
}

int kvp_pool_enumerate(struct kvp_pool *p, uint32_t index, char key[KVP_KEY_SIZE],
		       char value[KVP_VALUE_SIZE])
{
	char rec[R];
	int r;

	if (!key || !value)
		return -EINVAL;
	r = pool_begin(p, false);
	if (r < 0)
		return r;
	r = index < p->n ? pread_exact(p->fd, rec, R, (uint64_t)index * R) : -ENOENT;
	if (r == -ENODATA) { /* shrank without a lock: reload next time */
		p->valid = false;
		r = -EAGAIN;
	}
	pool_end(p);
	if (r == 0)
		record_copy_out(rec, key, value);
	return r;
}

int kvp_pool_count(struct kvp_pool *p)
{
	int r = pool_begin(p, false);

	if (r < 0)
		return r;
	r = (int)p->n;
	pool_end(p);
	return r;
}

void kvp_pool_recovered(const struct kvp_pool *p, struct kvp_pool_recovery *out)
{
	*out = p->recovery;
}

void kvp_pool_test_crash(struct kvp_pool *p, enum kvp_pool_crash at)
{
	p->crash = at;
}
