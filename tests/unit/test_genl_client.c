// SPDX-License-Identifier: MIT
/*
 * What the module clients share (genl_client.c): the dump of a whole table
 * with its retries, the reply that carries a count, and the text of a
 * refusal; and what their commands share (cli.c): opening the family and
 * saying why the module refused.  No kernel here: the socket's send and receive are replaced by a
 * fake family that answers each request from a script, through libnl's own
 * parsing and callbacks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/netlink.h>

#include "cli.h"
#include "genl_client.h"

#define FAMILY 42
#define CMD_GET 1
#define CMD_SET 2
#define A_VALUE 1	/* NLA_U32 */
#define A_COUNT 2	/* NLA_U32 */
#define A_MAX 2

static struct nla_policy policy[A_MAX + 1] = {
	[A_VALUE] = { .type = NLA_U32 },
	[A_COUNT] = { .type = NLA_U32 },
};

/* What the fake family does with a request. */
enum answer {
	ANSWER_ITEMS,		/* one message per value, then DONE */
	ANSWER_INTERRUPTED,	/* the same, all flagged NLM_F_DUMP_INTR */
	ANSWER_REFUSE,		/* -EINVAL with an extack message */
	ANSWER_REFUSE_BARE,	/* -EPERM without one */
	ANSWER_COUNT,		/* one reply with A_COUNT, then the ACK */
	ANSWER_ACK,		/* the ACK alone */
};

static struct fake {
	enum answer script[8];	/* one a request; the last repeats */
	uint32_t values[4];
	size_t nvalues;
	size_t extra;		/* that many more messages of value 7 */
	int requests;
	uint8_t cmd;		/* of the last request */
	uint16_t flags;
	uint32_t seq, port;
	unsigned char *out;	/* the answer not yet read */
	size_t outlen;
} fake;

static void queue(struct nl_msg *m)
{
	struct nlmsghdr *h = nlmsg_hdr(m);
	size_t len = NLMSG_ALIGN(h->nlmsg_len);

	fake.out = realloc(fake.out, fake.outlen + len);
	assert_non_null(fake.out);
	memset(fake.out + fake.outlen, 0, len);
	memcpy(fake.out + fake.outlen, h, h->nlmsg_len);
	fake.outlen += len;
	nlmsg_free(m);
}

static struct nl_msg *reply(uint16_t flags)
{
	struct nl_msg *m = nlmsg_alloc();

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, fake.port, fake.seq, FAMILY, 0, flags, fake.cmd, 1));
	return m;
}

static void queue_value(uint32_t v, uint16_t flags)
{
	struct nl_msg *m = reply(NLM_F_MULTI | flags);

	assert_int_equal(nla_put_u32(m, A_VALUE, v), 0);
	queue(m);
}

static void queue_done(uint16_t flags)
{
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI | flags);
	int zero = 0;

	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = fake.seq;
	assert_int_equal(nlmsg_append(m, &zero, sizeof(zero), NLMSG_ALIGNTO), 0);
	queue(m);
}

/* An error (0: the ACK) the way the kernel sends it: capped, with TLVs. */
static void queue_error(int err, const char *text)
{
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_ERROR, NLM_F_CAPPED |
					      (text ? NLM_F_ACK_TLVS : 0));
	struct nlmsgerr e = { .error = err };

	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = fake.seq;
	e.msg.nlmsg_len = NLMSG_HDRLEN;
	e.msg.nlmsg_seq = fake.seq;
	assert_int_equal(nlmsg_append(m, &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (text)
		assert_int_equal(nla_put_string(m, NLMSGERR_ATTR_MSG, text), 0);
	queue(m);
}

static void answer(enum answer a)
{
	switch (a) {
	case ANSWER_ITEMS:
	case ANSWER_INTERRUPTED: {
		/* The kernel flags every message from the change on, DONE too. */
		uint16_t intr = a == ANSWER_INTERRUPTED ? NLM_F_DUMP_INTR : 0;

		for (size_t i = 0; i < fake.nvalues; i++)
			queue_value(fake.values[i], intr);
		for (size_t i = 0; i < fake.extra; i++)
			queue_value(7, 0);
		queue_done(intr);
		return;
	}
	case ANSWER_REFUSE:
		queue_error(-EINVAL, "no such thing");
		return;
	case ANSWER_REFUSE_BARE:
		queue_error(-EPERM, NULL);
		return;
	case ANSWER_COUNT: {
		struct nl_msg *m = reply(0);

		assert_int_equal(nla_put_u32(m, A_COUNT, 5), 0);
		queue(m);
		queue_error(0, NULL);
		return;
	}
	case ANSWER_ACK:
		queue_error(0, NULL);
		return;
	}
}

static int fake_send(struct nl_sock *sk, struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	int i = fake.requests < 8 ? fake.requests : 7;

	(void)sk;
	fake.cmd = ((struct genlmsghdr *)nlmsg_data(h))->cmd;
	fake.flags = h->nlmsg_flags;
	fake.seq = h->nlmsg_seq;
	fake.port = h->nlmsg_pid;
	fake.requests++;
	assert_int_equal(h->nlmsg_type, FAMILY);
	answer(fake.script[i]);
	return (int)h->nlmsg_len;
}

/* All of the answer at once: libnl walks the messages in the buffer. */
static int fake_recv(struct nl_sock *sk, struct sockaddr_nl *nla, unsigned char **buf,
		     struct ucred **creds)
{
	int n = (int)fake.outlen;

	(void)sk;
	(void)creds;
	nla->nl_family = AF_NETLINK;
	*buf = fake.out;
	fake.out = NULL;
	fake.outlen = 0;
	return n ? n : -NLE_FAILURE;	/* never block: nothing more to read */
}

static int setup(void **state)
{
	struct genl_client *c = calloc(1, sizeof(*c));
	struct nl_cb *cb;

	assert_non_null(c);
	memset(&fake, 0, sizeof(fake));
	c->sk = nl_socket_alloc();
	assert_non_null(c->sk);
	c->family = FAMILY;
	c->maxattr = A_MAX;
	c->policy = policy;
	snprintf(c->name, sizeof(c->name), "azl_test");
	cb = nl_socket_get_cb(c->sk);
	nl_cb_overwrite_send(cb, fake_send);
	nl_cb_overwrite_recv(cb, fake_recv);
	nl_cb_put(cb);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	genl_client_close(*state);
	free(*state);
	free(fake.out);
	return 0;
}

static int decode_value(struct nlattr **tb, void *item)
{
	if (!tb[A_VALUE])
		return -EBADMSG;
	*(uint32_t *)item = nla_get_u32(tb[A_VALUE]);
	return *(uint32_t *)item == 666 ? -ERANGE : 0;
}

static void values(const uint32_t *v, size_t n)
{
	memcpy(fake.values, v, n * sizeof(*v));
	fake.nvalues = n;
}

/* Dump the table: it must come out as @want (@n values). */
static void dump_gives(struct genl_client *c, const uint32_t *want, size_t n)
{
	void *items = (void *)1;
	size_t got = 99;

	assert_int_equal(genl_client_dump_all(c, CMD_GET, sizeof(uint32_t), decode_value, &items,
					      &got), 0);
	assert_int_equal(got, n);
	if (n)
		assert_memory_equal(items, want, n * sizeof(*want));
	else
		assert_null(items);
	free(items);
}

/* Dump the table: it must fail with @err, and nothing is kept. */
static void dump_fails(struct genl_client *c, int err)
{
	void *items = (void *)1;
	size_t got = 99;

	assert_int_equal(genl_client_dump_all(c, CMD_GET, sizeof(uint32_t), decode_value, &items,
					      &got), err);
	assert_null(items);
	assert_int_equal(got, 0);
}

static void test_dump_all(void **state)
{
	values((uint32_t[]){ 3, 1, 4 }, 3);
	dump_gives(*state, (uint32_t[]){ 3, 1, 4 }, 3);
	assert_int_equal(fake.requests, 1);
	assert_int_equal(fake.cmd, CMD_GET);
	assert_true(fake.flags & NLM_F_DUMP);
}

static void test_dump_all_empty(void **state)
{
	dump_gives(*state, NULL, 0);
}

/* A table that changed mid-dump is read again, from empty. */
static void test_dump_interrupted_is_retried(void **state)
{
	fake.script[0] = ANSWER_INTERRUPTED;
	fake.script[1] = ANSWER_ITEMS;
	values((uint32_t[]){ 2, 7 }, 2);
	dump_gives(*state, (uint32_t[]){ 2, 7 }, 2);
	assert_int_equal(fake.requests, 2);
}

/* Three tries, then -EAGAIN and nothing kept. */
static void test_dump_interrupted_gives_up(void **state)
{
	for (int i = 0; i < 8; i++)
		fake.script[i] = ANSWER_INTERRUPTED;
	values((uint32_t[]){ 1 }, 1);
	dump_fails(*state, -EAGAIN);
	assert_int_equal(fake.requests, 3);
}

/* A reply the decoder refuses stops the dump; what came before is freed. */
static void test_dump_decode_refused(void **state)
{
	values((uint32_t[]){ 1, 2, 666, 4 }, 4);
	dump_fails(*state, -ERANGE);
	assert_int_equal(fake.requests, 1);
}

/* A module that never stops sending cannot exhaust us. */
static void test_dump_too_many(void **state)
{
	struct genl_client *c = *state;
	void *items;
	size_t n;

	fake.extra = GENL_DUMP_MAX_ITEMS;
	assert_int_equal(genl_client_dump_all(c, CMD_GET, sizeof(uint32_t), decode_value, &items,
					      &n), 0);
	assert_int_equal(n, GENL_DUMP_MAX_ITEMS);
	free(items);
	fake.extra = GENL_DUMP_MAX_ITEMS + 1;
	dump_fails(c, -E2BIG);
}

static void test_dump_refused(void **state)
{
	char why[320];

	fake.script[0] = ANSWER_REFUSE;
	dump_fails(*state, -EINVAL);
	assert_string_equal(genl_client_describe(*state, -EINVAL, why, sizeof(why)),
			    "Invalid argument: no such thing");
}

static int reset_calls;

static void count_reset(void *ctx)
{
	(void)ctx;
	reset_calls++;
}

/* The caller's own state is reset before each try and after a failure. */
static void test_dump_resets(void **state)
{
	struct genl_client *c = *state;

	reset_calls = 0;
	fake.script[0] = ANSWER_INTERRUPTED;
	fake.script[1] = ANSWER_ITEMS;
	assert_int_equal(genl_client_dump(c, CMD_GET, NULL, count_reset, NULL), 0);
	assert_int_equal(reset_calls, 2);
	reset_calls = 0;
	fake.requests = 0;
	fake.script[0] = ANSWER_REFUSE;
	assert_int_equal(genl_client_dump(c, CMD_GET, NULL, count_reset, NULL), -EINVAL);
	assert_int_equal(reset_calls, 2);
}

static void test_call_u32(void **state)
{
	struct genl_client *c = *state;
	uint32_t count = 0;

	fake.script[0] = ANSWER_COUNT;
	fake.script[1] = ANSWER_ACK;
	fake.script[2] = ANSWER_REFUSE;
	assert_int_equal(genl_client_call_u32(c, genl_client_msg(c, CMD_SET, false), A_COUNT,
					      &count), 0);
	assert_int_equal(fake.cmd, CMD_SET);
	assert_false(fake.flags & NLM_F_DUMP);
	assert_int_equal(count, 5);
	/* An ACK without the attribute leaves the caller's value. */
	count = 9;
	assert_int_equal(genl_client_call_u32(c, genl_client_msg(c, CMD_SET, false), A_COUNT,
					      &count), 0);
	assert_int_equal(count, 9);
	assert_int_equal(genl_client_call_u32(c, genl_client_msg(c, CMD_SET, false), A_COUNT,
					      &count), -EINVAL);
	assert_int_equal(fake.requests, 3);
	/* An attribute past the family's table is never looked up (nor sent). */
	assert_int_equal(genl_client_call_u32(c, genl_client_msg(c, CMD_SET, false), A_MAX + 1,
					      &count), -EINVAL);
	assert_int_equal(fake.requests, 3);
}

static void test_describe(void **state)
{
	struct genl_client *c = *state;
	char why[320], small[12];

	fake.script[0] = ANSWER_REFUSE_BARE;
	assert_int_equal(genl_client_call(c, genl_client_msg(c, CMD_SET, false), NULL, NULL),
			 -EPERM);
	assert_string_equal(genl_client_describe(c, -EPERM, why, sizeof(why)),
			    "Operation not permitted");
	/* The kernel's words, cut to the buffer. */
	snprintf(c->error, sizeof(c->error), "busy");
	assert_string_equal(genl_client_describe(c, -EBUSY, why, sizeof(why)),
			    "Device or resource busy: busy");
	assert_string_equal(genl_client_describe(c, -EBUSY, small, sizeof(small)), "Device or r");
}

/* ---- what the module commands share (cli.c) ---- */

static int open_ret;

static int fake_open(struct genl_client *c)
{
	(void)c;
	return open_ret;
}

/* What @fn wrote on stderr, into @buf. */
static void capture_stderr(void (*fn)(struct genl_client *, int *), struct genl_client *c,
			   int *ret, char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn(c, ret);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

static void do_open(struct genl_client *c, int *ret)
{
	*ret = cli_open_module(c, fake_open, "azl_test");
}

static void do_refused(struct genl_client *c, int *ret)
{
	*ret = cli_module_refused(c, "the change", -EINVAL);
}

static void test_cli_open_module(void **state)
{
	char out[256];
	int ret;

	open_ret = 0;
	capture_stderr(do_open, *state, &ret, out, sizeof(out));
	assert_int_equal(ret, 0);
	assert_string_equal(out, "");
	open_ret = -ENOENT;
	capture_stderr(do_open, *state, &ret, out, sizeof(out));
	assert_int_equal(ret, 3);
	assert_string_equal(out,
			    "azl-agent: the azl_test module is not loaded (modprobe azl_test)\n");
	open_ret = -ECONNREFUSED;
	capture_stderr(do_open, *state, &ret, out, sizeof(out));
	assert_int_equal(ret, 2);
	assert_string_equal(out, "azl-agent: cannot reach generic netlink: Connection refused\n");
}

static void test_cli_module_refused(void **state)
{
	struct genl_client *c = *state;
	char out[512];
	int ret;

	capture_stderr(do_refused, c, &ret, out, sizeof(out));
	assert_int_equal(ret, 1);
	assert_string_equal(out, "azl-agent: azl_test refused the change: Invalid argument\n");
	snprintf(c->error, sizeof(c->error), "channels: 5 is not allowed on this VM");
	capture_stderr(do_refused, c, &ret, out, sizeof(out));
	assert_string_equal(out, "azl-agent: azl_test refused the change: Invalid argument: "
				 "channels: 5 is not allowed on this VM\n");
	/* The longest extack the client keeps comes out whole. */
	memset(c->error, 'x', sizeof(c->error) - 1);
	c->error[sizeof(c->error) - 1] = '\0';
	capture_stderr(do_refused, c, &ret, out, sizeof(out));
	assert_int_equal(strlen(out), strlen("azl-agent: azl_test refused the change: "
					     "Invalid argument: \n") + sizeof(c->error) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_all_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_interrupted_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_interrupted_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_decode_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_u32, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_open_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_module_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
