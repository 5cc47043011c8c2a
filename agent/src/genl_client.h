/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A generic netlink client for our kernel modules' families, on libnl-genl.
 * One request at a time; every reply message goes to a callback; the
 * kernel's error comes back as a negative errno with its extack text.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/genl/genl.h>

struct genl_client {
	struct nl_sock *sk;
	int family;
	int maxattr;				/* the family's attribute count */
	const struct nla_policy *policy;	/* checks every reply before decoding */
	char name[32];		/* the family's name */
	char error[256];	/* the kernel's extack message of the last call */
};

/* on_reply gets each reply message's attributes, validated against the
 * family's policy; a negative return stops the call with that error. */
typedef int (*genl_reply_fn)(struct nlattr **tb, uint8_t cmd, void *ctx);

/* 0; -ENOENT when the family is not registered (module not loaded).
 * @policy has @maxattr + 1 entries. */
int genl_client_open(struct genl_client *c, const char *family, int maxattr,
		     const struct nla_policy *policy);
void genl_client_close(struct genl_client *c);

/* A new request message for @cmd (one page); NULL on allocation failure. */
struct nl_msg *genl_client_msg(struct genl_client *c, uint8_t cmd, bool dump);
/*
 * The same with room for @payload bytes of attributes (nla_total_size()
 * each), for a request that may not fit in a page.
 */
struct nl_msg *genl_client_msg_size(struct genl_client *c, uint8_t cmd, bool dump,
				    size_t payload);

/*
 * Send @msg (consumed), feed each validated reply to @on_reply.
 * Returns 0, -EAGAIN when a dump was interrupted by a change (retry), or
 * the kernel's negative errno.
 */
int genl_client_call(struct genl_client *c, struct nl_msg *msg,
		     genl_reply_fn on_reply, void *ctx);

/* The most items genl_client_dump_all() keeps: a hostile or broken module cannot exhaust us. */
#define GENL_DUMP_MAX_ITEMS 65536

/* Bring a dump's @ctx back to empty: before each try, and after a failure. */
typedef void (*genl_reset_fn)(void *ctx);

/*
 * Dump @cmd, each reply to @on_reply.  A dump interrupted by a change
 * (-EAGAIN: a device came or went) is retried, twice at the most, from an
 * empty @ctx; @ctx is empty after a failure too.
 */
int genl_client_dump(struct genl_client *c, uint8_t cmd, genl_reply_fn on_reply,
		     genl_reset_fn reset, void *ctx);

/* Fill @item (@item_size bytes) from one reply; <0 refuses the reply. */
typedef int (*genl_decode_fn)(struct nlattr **tb, void *item);

/*
 * Dump @cmd into a fresh array of one @decode'd item per reply (free it);
 * -E2BIG past GENL_DUMP_MAX_ITEMS.  On failure *items is NULL and *n 0.
 */
int genl_client_dump_all(struct genl_client *c, uint8_t cmd, size_t item_size,
			 genl_decode_fn decode, void **items, size_t *n);

/*
 * Send @msg (consumed); the u32 attribute @attr of a reply (an NLA_U32 of
 * the family's policy: an APPLIED_COUNT), when one carries it, goes to
 * *out, which is left alone otherwise.
 */
int genl_client_call_u32(struct genl_client *c, struct nl_msg *msg, int attr, uint32_t *out);

/*
 * The last call's failure @err for a message: "<strerror>", and ": <the
 * kernel's extack text>" when it gave one.  Returns @buf.
 */
const char *genl_client_describe(const struct genl_client *c, int err, char *buf, size_t len);

/* Validate one reply against @policy (@maxattr + 1 entries) into @tb. */
int genl_parse_reply(struct nlmsghdr *nlh, int maxattr, const struct nla_policy *policy,
		     struct nlattr **tb);

/* Join the family's multicast group @group. */
int genl_client_subscribe(struct genl_client *c, const char *group);

/*
 * Read and dispatch one batch of events (blocks on a blocking socket).
 * -EAGAIN: nothing to read (non-blocking); -ENOBUFS: events were lost;
 * -EBADMSG: a malformed message; -EIO: anything else.
 */
int genl_client_receive(struct genl_client *c, genl_reply_fn on_event, void *ctx);
