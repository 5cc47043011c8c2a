/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One KVP request from the kernel, answered in place.  This is the whole
 * host-facing logic of the KVP service and has no I/O of its own besides
 * the pool store, the intrinsic facts and the IP configuration: the service
 * reads a message, calls kvp_handle() and writes the same buffer back.
 * Every field of the request is host-controlled and checked here.
 */

#include "config.h"
#include "kvp_intrinsic.h"
#include "kvp_pool.h"
#include "kvp_proto.h"
#include "root.h"

struct kvp_handler {
	const struct root *root;
	const struct agent_config *cfg;
	struct kvp_pool *pools[KVP_POOL_COUNT]; /* NULL until opened */
	int pool_error[KVP_POOL_COUNT];         /* last open error, logged once */
	struct kvp_intrinsic intrinsic;
	struct kvp_ip_info ip; /* 7 KiB of scratch for the IP operations */
};

/* Opens (and creates) the five pool files; one that fails is retried per request. */
void kvp_handler_init(struct kvp_handler *h, const struct root *r, const struct agent_config *cfg);
void kvp_handler_done(struct kvp_handler *h);

/* The version text of the kernel's registration reply (pool 2 key 1). */
void kvp_handler_set_version(struct kvp_handler *h, const char *version);

/* Turn the request in msg into its reply; a bad request becomes a status. */
void kvp_handle(struct kvp_handler *h, struct hv_kvp_msg *msg);
