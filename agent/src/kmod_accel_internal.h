/* SPDX-License-Identifier: MIT */
#pragma once

/* kmod_accel.c's decoders that the unit tests reach without a socket. */
#include <stddef.h>

#include "kmod_accel.h"

/*
 * The table of a GET_POLICY reply (NODES); *entries is malloc'ed (free it).
 * -EBADMSG when NODES is missing, an entry is malformed or bytes follow
 * the last one, -E2BIG past AZL_ACCEL_NODES_MAX entries.
 */
int accel_table_from_attrs(struct nlattr **tb, struct accel_node_entry **entries, size_t *n);

/*
 * The SET_POLICY request accel_set_policy() sends, in *out (nlmsg_free()
 * it): -E2BIG past AZL_ACCEL_NODES_MAX entries, -ENOMEM, -EMSGSIZE.
 * Only c->family is used.
 */
int accel_set_msg(struct genl_client *c, const struct accel_node_entry *entries, size_t n,
		  struct nl_msg **out);
