/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The KVP pool store: /var/lib/hyperv/.kvp_pool_<N>, byte-compatible with
 * hv_kvp_daemon (2560-byte records: a 512-byte key and a 2048-byte value,
 * NUL-padded UTF-8, no header).  Other writers share these files:
 * cloud-init and azure-init append under flock(), hv_kvp_daemon-era tools
 * rewrite under fcntl() locks.  Every operation here takes both locks,
 * brings its index up to date with what others wrote, acts and unlocks.
 * How an update survives a crash is described in kvp_pool.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvp_proto.h"
#include "root.h"

struct kvp_pool;

/*
 * Open (creating /var/lib/hyperv 0755 and the file 0644 when missing) pool
 * number `pool` (0..4) under the root prefix.  durable: fsync the journal
 * and the pool around in-place updates (power loss), not only order them
 * (process death).  Returns 0 or a negative errno.
 */
int kvp_pool_open(const struct root *r, unsigned pool, bool durable, struct kvp_pool **out);
void kvp_pool_close(struct kvp_pool *p);
const char *kvp_pool_path(const struct kvp_pool *p);

/*
 * key and value are NUL-terminated; a key must be 0..511 bytes (the host may
 * SET the empty key, and hv_kvp_daemon stores it) and a value
 * 0..2047 bytes, else -EINVAL.  A key lookup is an exact byte match with
 * the first record of that key, as hv_kvp_daemon does.
 */
int kvp_pool_get(struct kvp_pool *p, const char *key, char value[KVP_VALUE_SIZE]);  /* -ENOENT */
int kvp_pool_set(struct kvp_pool *p, const char *key, const char *value);
int kvp_pool_delete(struct kvp_pool *p, const char *key);                          /* -ENOENT */

/*
 * Record `index` in file order, as the host's ENUMERATE walks it; -ENOENT
 * past the end.  Constant time: the index knows where each record is and
 * is refreshed only by what changed in the file since the last call.
 * A key read from the file is cut to 511 bytes if it has no NUL.
 */
int kvp_pool_enumerate(struct kvp_pool *p, uint32_t index, char key[KVP_KEY_SIZE],
		       char value[KVP_VALUE_SIZE]);
/* Number of whole records (a partial trailing record does not count). */
int kvp_pool_count(struct kvp_pool *p);

/*
 * What this handle found left behind by writers that died mid-change, for
 * the log: changes it finished (replayed), torn journals it threw away
 * (the writer died before the pool was touched), and journals it threw
 * away because somebody else rewrote the pool since (stale).
 */
struct kvp_pool_recovery {
	unsigned replayed, torn, stale;
};
void kvp_pool_recovered(const struct kvp_pool *p, struct kvp_pool_recovery *out);

/*
 * Tests only: make the next change stop at the given point as if the
 * process died there (it returns -ECANCELED; the locks are released, the
 * journal is left behind for the next operation or open to replay).
 */
enum kvp_pool_crash {
	KVP_POOL_CRASH_NONE,
	KVP_POOL_CRASH_JOURNAL_TORN,     /* journal payload written, not yet sealed */
	KVP_POOL_CRASH_AFTER_JOURNAL,    /* journal complete, pool untouched */
	KVP_POOL_CRASH_MID_APPLY,        /* about half of the new bytes written */
	KVP_POOL_CRASH_BEFORE_TRUNCATE,  /* DELETE: bytes moved, file not yet shorter */
	KVP_POOL_CRASH_BEFORE_UNLINK,    /* change complete, journal still there */
};
void kvp_pool_test_crash(struct kvp_pool *p, enum kvp_pool_crash at);
