// SPDX-License-Identifier: MIT
/* Generic netlink client on libnl-genl: requests, dumps, events, extack. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "genl_client.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct call_state {
	struct genl_client *c;
	genl_reply_fn fn;
	void *ctx;
	int err;
	bool done;
	bool interrupted;
};

int genl_client_open(struct genl_client *c, const char *family, int maxattr,
		     const struct nla_policy *policy)
{
	int one = 1, ret;

	memset(c, 0, sizeof(*c));
	c->maxattr = maxattr;
	c->policy = policy;
	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	ret = genl_connect(c->sk);
	if (ret < 0) {
		genl_client_close(c);
		return -ECONNREFUSED;
	}
	/* Ask for the kernel's error text, without an echo of our request. */
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	snprintf(c->name, sizeof(c->name), "%s", family);
	c->family = genl_ctrl_resolve(c->sk, family);
	if (c->family < 0) {
		genl_client_close(c);
		return -ENOENT;
	}
	return 0;
}

void genl_client_close(struct genl_client *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	c->sk = NULL;
}

static struct nl_msg *put_header(struct genl_client *c, struct nl_msg *msg, uint8_t cmd,
				 bool dump)
{
	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0,
				dump ? NLM_F_DUMP : 0, cmd, 1)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct nl_msg *genl_client_msg(struct genl_client *c, uint8_t cmd, bool dump)
{
	return put_header(c, nlmsg_alloc(), cmd, dump);
}

struct nl_msg *genl_client_msg_size(struct genl_client *c, uint8_t cmd, bool dump,
				    size_t payload)
{
	/* nlmsg_alloc_size() counts the headers too. */
	if (payload > SIZE_MAX - NLMSG_HDRLEN - GENL_HDRLEN)
		return NULL;
	return put_header(c, nlmsg_alloc_size(NLMSG_HDRLEN + GENL_HDRLEN + payload), cmd, dump);
}

int genl_parse_reply(struct nlmsghdr *nlh, int maxattr, const struct nla_policy *policy,
		     struct nlattr **tb)
{
	/* The policy checks lengths, so nla_get_*() never reads past an attribute. */
	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	return genlmsg_parse(nlh, 0, tb, maxattr, (struct nla_policy *)policy) < 0 ? -EBADMSG : 0;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[st->c->maxattr + 1];
	int ret;

	if (genl_parse_reply(nlh, st->c->maxattr, st->c->policy, tb) < 0) {
		st->err = -EBADMSG;
		return NL_STOP;
	}
	ret = st->fn ? st->fn(tb, gh->cmd, st->ctx) : 0;
	if (ret < 0) {
		st->err = ret;
		return NL_STOP;
	}
	return NL_OK;
}

/*
 * A dump message flagged NLM_F_DUMP_INTR (the table changed under the
 * dump): note it and go on to the end.  Without this callback libnl turns
 * the flag into its own error, which would read as -EIO, not -EAGAIN.
 */
static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;

	(void)msg;
	st->interrupted = true;
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;

	(void)msg;
	st->done = true;
	return NL_STOP;
}

/* The extack message follows the nlmsgerr when NLM_F_ACK_TLVS is set. */
static void read_extack(struct genl_client *c, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX,
				  (struct nlattr *)((char *)e + off), len, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(c->error, tb[NLMSGERR_ATTR_MSG], sizeof(c->error));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct call_state *st = arg;

	(void)who;
	st->err = e->error;
	st->done = true;
	if (e->error)
		read_extack(st->c, e);
	return NL_STOP;
}

/* A copy of the socket's callbacks keeps its settings (an event socket
 * has the sequence check off: events are not answers to a request). */
static struct nl_cb *call_callbacks(struct call_state *st)
{
	struct nl_cb *sock_cb = nl_socket_get_cb(st->c->sk); /* takes a reference */
	struct nl_cb *cb = sock_cb ? nl_cb_clone(sock_cb) : NULL;

	nl_cb_put(sock_cb);
	if (!cb)
		return NULL;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, st);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, st);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, st);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, st);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, st);
	return cb;
}

int genl_client_call(struct genl_client *c, struct nl_msg *msg,
		     genl_reply_fn on_reply, void *ctx)
{
	struct call_state st = { c, on_reply, ctx, 0, false, false };
	struct nl_cb *cb = call_callbacks(&st);
	int ret;

	c->error[0] = '\0';
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !st.done && st.err == 0)
		ret = nl_recvmsgs(c->sk, cb);
	nl_cb_put(cb);
	if (st.err)
		return st.err;
	if (ret < 0)
		return -EIO;
	return st.interrupted ? -EAGAIN : 0;
}

int genl_client_dump(struct genl_client *c, uint8_t cmd, genl_reply_fn on_reply,
		     genl_reset_fn reset, void *ctx)
{
	int ret = -EAGAIN;

	for (int tries = 0; tries < 3 && ret == -EAGAIN; tries++) {
		struct nl_msg *msg = genl_client_msg(c, cmd, true);

		reset(ctx);
		if (!msg)
			return -ENOMEM;
		ret = genl_client_call(c, msg, on_reply, ctx);
	}
	if (ret < 0)
		reset(ctx);
	return ret;
}

/* A growing array filled by dump replies. */
struct collect {
	char *items;
	size_t n, size;
	genl_decode_fn decode;
};

static int collect_one(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct collect *col = ctx;
	char *grown;
	int ret;

	(void)cmd;
	if (col->n >= GENL_DUMP_MAX_ITEMS)
		return -E2BIG;
	grown = realloc(col->items, (col->n + 1) * col->size);
	if (!grown)
		return -ENOMEM;
	col->items = grown;
	ret = col->decode(tb, grown + col->n * col->size);
	if (ret < 0)
		return ret;
	col->n++;
	return 0;
}

static void collect_reset(void *ctx)
{
	struct collect *col = ctx;

	free(col->items);
	col->items = NULL;
	col->n = 0;
}

int genl_client_dump_all(struct genl_client *c, uint8_t cmd, size_t item_size,
			 genl_decode_fn decode, void **items, size_t *n)
{
	struct collect col = { NULL, 0, item_size, decode };
	int ret = genl_client_dump(c, cmd, collect_one, collect_reset, &col);

	*items = col.items;
	*n = col.n;
	return ret;
}

struct u32_reply {
	int attr;
	uint32_t *out;
};

static int read_u32(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct u32_reply *r = ctx;

	(void)cmd;
	if (tb[r->attr])
		*r->out = nla_get_u32(tb[r->attr]);
	return 0;
}

int genl_client_call_u32(struct genl_client *c, struct nl_msg *msg, int attr, uint32_t *out)
{
	struct u32_reply r = { attr, out };

	/* on_valid's table has maxattr + 1 entries; the policy checked the length. */
	if (attr < 0 || attr > c->maxattr) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	return genl_client_call(c, msg, read_u32, &r);
}

const char *genl_client_describe(const struct genl_client *c, int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", strerror(-err), c->error[0] ? ": " : "", c->error);
	return buf;
}

int genl_client_subscribe(struct genl_client *c, const char *group)
{
	int grp = genl_ctrl_resolve_grp(c->sk, c->name, group);

	if (grp < 0)
		return -ENOENT;
	/* Events carry sequence number 0: not answers to our requests. */
	nl_socket_disable_seq_check(c->sk);
	return nl_socket_add_membership(c->sk, grp) < 0 ? -EIO : 0;
}

/*
 * libnl's error for a receive, as an errno the caller can act on: nothing
 * to read on a non-blocking socket, or events lost (the socket's buffer
 * overflowed, which libnl reports as NLE_NOMEM).
 */
static int genl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOBUFS;
	case NLE_INTR:
		return -EINTR;
	default:
		return -EIO;
	}
}

int genl_client_receive(struct genl_client *c, genl_reply_fn on_event, void *ctx)
{
	struct call_state st = { c, on_event, ctx, 0, false, false };
	struct nl_cb *cb = call_callbacks(&st);
	int ret;

	if (!cb)
		return -ENOMEM;
	ret = nl_recvmsgs(c->sk, cb);
	nl_cb_put(cb);
	if (st.err)
		return st.err;
	return ret < 0 ? genl_errno(ret) : 0;
}
