/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Pool 2 (KVP_POOL_AUTO): the ten facts every Linux guest reports to the
 * host, computed when the host asks (research/kvp.md §2.3): host name and
 * FQDN, addresses, OS and kernel, the transport version.  Host name, FQDN
 * and addresses are read when the host asks (a lookup still in flight is
 * the only thing carried over, and it is bounded so a request always
 * answers well before the kernel's 30 s); the kernel release and the
 * os-release fields cannot change without a restart of the service that
 * matters, so they are read once.
 */

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "kvp_proto.h"
#include "root.h"

#define KVP_INTRINSIC_COUNT 10

/* One name lookup; on the heap, because glibc's resolver thread owns it while it runs. */
struct fqdn_lookup;

struct kvp_fqdn {
	struct fqdn_lookup *running;   /* for the current host name */
	struct fqdn_lookup *abandoned; /* for a name the host no longer has */
	char host[256];                /* the name of the last finished lookup */
	char fqdn[256];                /* its canonical name, "" if none */
	uint64_t done_usec;            /* when it finished (CLOCK_MONOTONIC) */
};

struct kvp_intrinsic {
	const struct root *root;
	unsigned timeout_ms;          /* longest wait for a name lookup */
	char version[KVP_VERSION_SIZE]; /* from the kernel's REGISTER reply */
	struct kvp_fqdn fqdn;
	struct utsname uts;
	char os_name[256];    /* os-release NAME, else the kernel's sysname */
	char os_version[256]; /* os-release VERSION_ID */
};

void kvp_intrinsic_init(struct kvp_intrinsic *k, const struct root *r, unsigned timeout_ms);
void kvp_intrinsic_done(struct kvp_intrinsic *k);

/* Key and value of index 0..9 in the reference daemon's order; -ENOENT after. */
int kvp_intrinsic_get(struct kvp_intrinsic *k, uint32_t index, char key[KVP_KEY_SIZE],
		      char value[KVP_VALUE_SIZE]);
/* Look a pool-2 key up by name; -ENOENT for a key that is not one of the ten. */
int kvp_intrinsic_lookup(struct kvp_intrinsic *k, const char *key, char value[KVP_VALUE_SIZE]);
