// SPDX-License-Identifier: MIT
/*
 * irqbalance.c against a model of irqbalance 1.9's control socket, served
 * by a thread on <root>/run/irqbalance/irqbalance<PID>.sock in a scratch
 * root whose proc/<PID>/comm says "irqbalance".  The model can also send
 * replies a real irqbalance would not send, which shows how the client
 * takes hostile input.  tests/affinity/irqbalance.sh runs the real daemon.
 * irqbalance_ban() talks to root's irqbalance only, so most of these tests
 * skip when not root.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "affinity.h"

#define PID 4242

/* The model daemon. */
struct model {
	int fd;
	pthread_t thread;
	unsigned int conns;      /* connections to serve, then the thread ends */
	long banned[256];        /* its command-line ban list */
	size_t nbanned;
	const char *setup_reply; /* instead of the real reply; NULL: as 1.9 answers */
	bool ignore_settings;    /* take "settings" commands without doing anything */
	bool silent;             /* read commands, never answer nor close */
	bool huge;               /* answer "setup" with megabytes */
	/* what it saw */
	unsigned int served;
	char settings[1024]; /* the last "settings" command */
	unsigned int nsettings;
	bool creds_root;
};

struct t {
	char dir[64];
	struct root root;
	struct model m;
	char err[256];
};

static void put(struct t *t, const char *rel, const char *content)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void irq_dirs(struct t *t, long from, long to)
{
	char path[512];

	for (long i = from; i <= to; i++) {
		snprintf(path, sizeof(path), "%s/proc/irq/%ld", t->dir, i);
		assert_int_equal(mkdir(path, 0755), 0);
	}
}

/* 1.9.2's parser: do { add(irq) } while ((irq = strtoul(end, &end, 10))). */
static void model_ban(struct model *m, const char *list)
{
	char *end;
	long irq;

	m->nbanned = 0;
	if (strncmp(list, "NONE", 4) == 0)
		return;
	irq = strtol(list, &end, 10);
	do {
		m->banned[m->nbanned++] = irq;
	} while (m->nbanned < 256 && (irq = strtol(end, &end, 10)));
}

static void model_serve(struct model *m, int c)
{
	char buf[500 + 1], reply[8192];
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = 500 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(c, &msg, 0);

	if (n < 0)
		return;
	buf[n] = '\0';
	cm = CMSG_FIRSTHDR(&msg);
	m->creds_root = cm && cm->cmsg_type == SCM_CREDENTIALS &&
			((struct ucred *)CMSG_DATA(cm))->uid == 0;
	if (m->silent) {
		while (recv(c, buf, sizeof(buf), 0) > 0) /* until the client gives up */
			;
		return;
	}
	if (strncmp(buf, "settings ", 9) == 0) {
		snprintf(m->settings, sizeof(m->settings), "%s", buf);
		m->nsettings++;
		if (!m->ignore_settings && strncmp(buf, "settings ban irqs ", 18) == 0)
			model_ban(m, buf + 18);
		return;
	}
	if (strncmp(buf, "setup", 5) != 0)
		return;
	if (m->huge) {
		memset(reply, 'A', sizeof(reply));
		for (int i = 0; i < 200; i++) /* 1.6 MB; stops when the client hangs up */
			if (send(c, reply, sizeof(reply), MSG_NOSIGNAL) < 0)
				break;
		return;
	}
	if (m->setup_reply) {
		send(c, m->setup_reply, strlen(m->setup_reply), MSG_NOSIGNAL);
		return;
	}
	n = snprintf(reply, sizeof(reply), "SLEEP 10 ");
	for (size_t i = 0; i < m->nbanned; i++)
		n += snprintf(reply + n, sizeof(reply) - (size_t)n,
			      "IRQ %ld LOAD 0 DIFF 0 CLASS 4 ", m->banned[i]);
	n += snprintf(reply + n, sizeof(reply) - (size_t)n, "BANNED 00000000,00000000");
	send(c, reply, (size_t)n, MSG_NOSIGNAL);
}

static void *model_main(void *arg)
{
	struct model *m = arg;

	while (m->served < m->conns) {
		int c = accept(m->fd, NULL, NULL);

		if (c < 0)
			break;
		m->served++;
		model_serve(m, c);
		close(c);
	}
	return NULL;
}

/* Start the model for up to conns connections. */
static void model_start(struct t *t, unsigned int conns)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[128];
	int one = 1;

	snprintf(dir, sizeof(dir), "%s/run/irqbalance", t->dir);
	assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/run/irqbalance/irqbalance%d.sock", t->dir,
		 PID);
	unlink(sa.sun_path); /* the previous model's */
	t->m.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(t->m.fd >= 0);
	assert_int_equal(setsockopt(t->m.fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	assert_int_equal(bind(t->m.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(t->m.fd, 1), 0);
	t->m.conns = conns;
	assert_int_equal(pthread_create(&t->m.thread, NULL, model_main, &t->m), 0);
}

/* Wait for the model to finish its connections. */
static void model_stop(struct t *t)
{
	if (t->m.fd <= 0)
		return;
	shutdown(t->m.fd, SHUT_RDWR); /* ends an accept() still waiting */
	pthread_join(t->m.thread, NULL);
	close(t->m.fd);
	t->m.fd = 0;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	char comm[128];

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/azl-irqb-XXXXXX");
	if (!mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0)
		return -1;
	*state = t;
	put(t, "proc/1/comm", "systemd\n");
	put(t, "proc/77/comm", "bash\n");
	put(t, "proc/self/comm", "irqbalance\n"); /* not a pid */
	snprintf(comm, sizeof(comm), "proc/%d/comm", PID);
	put(t, comm, "irqbalance\n");
	snprintf(comm, sizeof(comm), "%s/run", t->dir);
	assert_int_equal(mkdir(comm, 0755), 0);
	snprintf(comm, sizeof(comm), "%s/proc/irq", t->dir);
	assert_int_equal(mkdir(comm, 0755), 0);
	irq_dirs(t, 24, 56);
	irq_dirs(t, 0, 0);
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	model_stop(t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static struct t *root_only(void **state)
{
	if (geteuid() != 0)
		skip(); /* irqbalance_ban asks root's irqbalance only */
	return *state;
}

static int ban(struct t *t, const long *irqs, size_t n)
{
	int ret = irqbalance_ban(&t->root, irqs, n, t->err, sizeof(t->err));

	model_stop(t);
	return ret;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_pid(void **state)
{
	struct t *t = *state;
	char path[512];
	struct root none;

	assert_int_equal(irqbalance_pid(&t->root), PID);
	/* A zombie irqbalance runs no more. */
	put(t, "proc/4242/stat", "4242 (irqbalance) Z 1 4242 4242 0 -1 4194564 0 0\n");
	assert_int_equal(irqbalance_pid(&t->root), 0);
	put(t, "proc/4242/stat", "4242 (irqbalance) S 1 4242 4242 0 -1 4194564 0 0\n");
	assert_int_equal(irqbalance_pid(&t->root), PID);
	/* A comm too long for the buffer is not irqbalance, and no crash. */
	put(t, "proc/5/comm", "irqbalance-with-a-much-longer-name-than-comm-holds\n");
	assert_int_equal(irqbalance_pid(&t->root), PID);
	snprintf(path, sizeof(path), "%s/nothing-here", t->dir);
	assert_int_equal(root_init(&none, path), 0);
	assert_int_equal(irqbalance_pid(&none), 0);
}

static void test_none_running(void **state)
{
	struct t *t = *state;
	const long irqs[] = { 25 };
	char path[512];

	snprintf(path, sizeof(path), "%s/proc/%d/comm", t->dir, PID);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ban(t, irqs, 1), 0);
}

static void test_union_sent_and_checked(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 27, 25, 25 };

	t->m.banned[t->m.nbanned++] = 24; /* the administrator's --banirq=24 */
	model_start(t, 3);
	assert_int_equal(ban(t, irqs, 3), 1);
	assert_string_equal(t->m.settings, "settings ban irqs 24 25 27");
	assert_int_equal(t->m.served, 3); /* setup, settings, setup */
	assert_true(t->m.creds_root);
	assert_int_equal(t->m.nbanned, 3);
}

static void test_already_banned(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25, 24 };

	t->m.banned[t->m.nbanned++] = 24;
	t->m.banned[t->m.nbanned++] = 25;
	t->m.banned[t->m.nbanned++] = 30;
	model_start(t, 1);
	assert_int_equal(ban(t, irqs, 2), 1);
	assert_int_equal(t->m.nsettings, 0); /* no command, no needless rescan */
}

static void test_irq_zero_first(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 0 };

	t->m.banned[t->m.nbanned++] = 24;
	model_start(t, 3);
	assert_int_equal(ban(t, irqs, 1), 1);
	assert_string_equal(t->m.settings, "settings ban irqs 0 24");
	assert_int_equal(t->m.nbanned, 2);
}

static void test_not_taken(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	t->m.ignore_settings = true;
	model_start(t, 3);
	assert_int_equal(ban(t, irqs, 1), -EPROTO);
	assert_non_null(strstr(t->err, "did not take the ban of IRQ 25"));
}

static void test_bad_replies(void **state)
{
	static const struct {
		const char *reply;
		int ret;
	} cases[] = {
		{ "", -EPERM }, /* what irqbalance sends a caller other than root */
		{ "HELLO", -EPROTO },
		{ "SLEEP", -EPROTO },
		{ "SLEEP x BANNED 0", -EPROTO },
		{ "SLEEP 10", -EPROTO },
		{ "SLEEP 10 IRQ", -EPROTO },
		{ "SLEEP 10 IRQ -5 LOAD 0 BANNED 0", -EPROTO },
		{ "SLEEP 10 IRQ 99999999999 BANNED 0", -EPROTO },
		{ "SLEEP 10 IRQ 5 LOAD x BANNED 0", -EPROTO },
		{ "SLEEP 10 IRQ 5 load 1 BANNED 0", -EPROTO },
		{ "SLEEP 10 IRQ 5 LOAD BANNED 0", -EPROTO },
		{ "SLEEP 10 BANNED", -EPROTO },
		{ "SLEEP 10 BANNED zz", -EPROTO },
		{ "SLEEP 10 BANNED 0 IRQ 5", -EPROTO },
		{ "SLEEP 10 IRQ 5 LOAD 0 DIFF 0 CLASS 0", -EPROTO },
		{ "SLEEP 10 \033[2J BANNED 0", -EPROTO },
	};
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t->m = (struct model){ .setup_reply = cases[i].reply };
		model_start(t, 1);
		assert_int_equal(ban(t, irqs, 1), cases[i].ret);
		assert_int_equal(t->m.nsettings, 0); /* nothing sent on a reply we do not follow */
		assert_true(strstr(t->err, "setup") || strstr(t->err, "root only"));
		assert_null(strchr(t->err, '\033')); /* a stranger's bytes stay out of messages */
	}
}

static void test_more_keys_accepted(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 24 };

	/* A later irqbalance may print more per IRQ: "KEY <number>" pairs are fine. */
	t->m.setup_reply = "SLEEP 10 IRQ 24 LOAD 0 DIFF 0 CLASS 4 NODE 1 IRQ 30 LOAD 5 "
			   "BANNED 00000000,00000000";
	model_start(t, 1);
	assert_int_equal(ban(t, irqs, 1), 1);
	assert_int_equal(t->m.nsettings, 0);
}

static void test_too_long(void **state)
{
	struct t *t = root_only(state);
	long irqs[120];

	irq_dirs(t, 1000, 1119);
	for (size_t i = 0; i < 120; i++)
		irqs[i] = 1000 + (long)i;
	model_start(t, 1);
	assert_int_equal(ban(t, irqs, 120), -E2BIG);
	assert_non_null(strstr(t->err, "reads at most 500 bytes"));
	assert_int_equal(t->m.nsettings, 0);
}

static void test_stale_dropped(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	t->m.banned[t->m.nbanned++] = 24;
	for (long i = 90000; i < 90100; i++) /* 600 bytes of IRQs that no longer exist */
		t->m.banned[t->m.nbanned++] = i;
	model_start(t, 3);
	assert_int_equal(ban(t, irqs, 1), 1);
	assert_string_equal(t->m.settings, "settings ban irqs 24 25");
}

static void test_just_fits(void **state)
{
	struct t *t = root_only(state);
	long irqs[96];

	/* 18 + 96 * 5 - 1 = 497 bytes, under irqbalance's 500. */
	irq_dirs(t, 1000, 1095);
	for (size_t i = 0; i < 96; i++)
		irqs[i] = 1000 + (long)i;
	model_start(t, 3);
	assert_int_equal(ban(t, irqs, 96), 1);
	assert_int_equal(strlen(t->m.settings), 497);
	assert_int_equal(t->m.nbanned, 96);
}

static void test_bad_input(void **state)
{
	struct t *t = *state;
	const long irqs[] = { 25, -3 };

	assert_int_equal(ban(t, irqs, 2), -EINVAL);
	assert_non_null(strstr(t->err, "-3"));
}

static void test_no_socket(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	/* Not the live system: no abstract fallback, the path is the answer. */
	assert_int_equal(ban(t, irqs, 1), -ENOENT);
	assert_non_null(strstr(t->err, "/run/irqbalance/irqbalance4242.sock"));
}

static void test_stopped(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	put(t, "proc/4242/stat", "4242 (irqbalance) T 1 4242 4242 0 -1 4194564 0 0\n");
	model_start(t, 1);
	assert_int_equal(irqbalance_ban(&t->root, irqs, 1, t->err, sizeof(t->err)), -EAGAIN);
	assert_int_equal(t->m.served, 0);
	assert_non_null(strstr(t->err, "stopped"));
}

static void test_silent(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	t->m.silent = true;
	model_start(t, 1);
	assert_int_equal(ban(t, irqs, 1), -ETIMEDOUT);
	assert_non_null(strstr(t->err, "no answer to \"setup\""));
}

static void test_huge_reply(void **state)
{
	struct t *t = root_only(state);
	const long irqs[] = { 25 };

	t->m.huge = true;
	model_start(t, 1);
	assert_int_equal(ban(t, irqs, 1), -EFBIG);
}

static void test_nothing_to_ban(void **state)
{
	struct t *t = root_only(state);

	model_start(t, 1);
	assert_int_equal(irqbalance_ban(&t->root, NULL, 0, t->err, sizeof(t->err)), 1);
	assert_int_equal(t->m.served, 0);
}

/* Started with our policy script (the caller then sends nothing). */
static void test_policy_script(void **state)
{
	static const char with[] = "/usr/sbin/irqbalance\0--foreground\0"
				   "--policyscript=/usr/libexec/azl-agent/azl-irqbalance-policy\0";
	static const char other[] = "/usr/sbin/irqbalance\0--policyscript=/etc/mine.sh\0";
	struct t *t = *state;
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/%d/cmdline", t->dir, PID);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(with, 1, sizeof(with) - 1, f), sizeof(with) - 1);
	fclose(f);
	assert_true(irqbalance_uses_policy(&t->root, PID));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(other, 1, sizeof(other) - 1, f), sizeof(other) - 1);
	fclose(f);
	assert_false(irqbalance_uses_policy(&t->root, PID));
	assert_false(irqbalance_uses_policy(&t->root, 999999));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pid),
		T(test_none_running),
		T(test_union_sent_and_checked),
		T(test_already_banned),
		T(test_irq_zero_first),
		T(test_not_taken),
		T(test_bad_replies),
		T(test_more_keys_accepted),
		T(test_too_long),
		T(test_stale_dropped),
		T(test_just_fits),
		T(test_bad_input),
		T(test_no_socket),
		T(test_stopped),
		T(test_silent),
		T(test_huge_reply),
		T(test_nothing_to_ban),
		T(test_policy_script),
	};

	return cmocka_run_group_tests_name("irqbalance", tests, NULL, NULL);
}
