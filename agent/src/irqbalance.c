// SPDX-License-Identifier: MIT
/*
 * Coexistence with irqbalance (research/tuning.md §3.1): when it runs, it
 * would move the IRQs we placed at its next rebalance.  We add them to its
 * list of banned IRQs through its control socket, the channel irqbalance-ui
 * uses.  Stopping or reconfiguring the service is left to the administrator.
 *
 * The protocol, read from irqbalance 1.9.x (project Irqbalance/irqbalance:
 * irqbalance.c init_socket() and sock_handle(), classify.c
 * add_cl_banned_irq(), ui/irqbalance-ui.c) and checked against Debian 12's
 * irqbalance 1.9.2 binary in tests/affinity/irqbalance.sh:
 *
 *  - The socket is a SOCK_STREAM unix socket.  irqbalance binds the file
 *    /run/irqbalance/irqbalance<PID>.sock (systemd's RuntimeDirectory=).
 *    When that directory is missing, it falls back to an abstract address
 *    whose sun_path is all zero bytes, bound with the full
 *    sizeof(struct sockaddr_un).  Abstract addresses belong to the network
 *    namespace, not to a root prefix, so we try that one on the live
 *    system only.
 *  - Each connection carries one command: a single recvmsg() into a
 *    500-byte buffer, then the reply if there is one, then close().  The
 *    message needs SCM_CREDENTIALS with uid 0.  Otherwise irqbalance logs
 *    "Permission denied" and closes without a reply.
 *  - "setup" replies "SLEEP <s> " then one "IRQ <n> LOAD <l> DIFF <d>
 *    CLASS <c> " per IRQ on the command-line ban list, then
 *    "BANNED <cpumask>".  The list holds --banirq and earlier socket bans.
 *    Bans from a policy script or --banmod are not in it.
 *  - "settings ban irqs <n> <n> ..." replaces that list and sets off a
 *    rescan.  "NONE" empties it.  1.9.2 parses the numbers with
 *    do { add(irq) } while ((irq = strtoul(end, &end, 10))), so a 0 ends
 *    the list unless it comes first (ascending order puts it first).  A
 *    command longer than the buffer is cut at 500 bytes, and the cut can
 *    leave a wrong number at the end, so we never send one that long.
 *  - irqbalance does not ignore SIGPIPE.  If a client closes before the
 *    "setup" reply arrives, the reply kills the daemon (seen with 1.9.2).
 *
 * So we read the current list, add ours, send the union, and read the list
 * back to check it.  An administrator's --banirq stays banned.  Every
 * exchange must finish within IRQB_TIMEOUT_MS, so a wedged irqbalance gives
 * an error, never a hang.  A stopped one (SIGSTOP, a debugger) is not asked
 * at all, because of SIGPIPE.  The same holds for one that is busy for
 * longer than the timeout, and nothing on our side can prevent that.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "affinity.h"
#include "sysfile.h"
#include "util.h"

#define IRQB_TIMEOUT_MS 1000
#define IRQB_CMD_MAX 499          /* irqbalance 1.9 reads 500 bytes per command */
#define IRQB_REPLY_MAX (1u << 20) /* a "setup" reply larger than this is not irqbalance */
#define BAN_CMD "settings ban irqs "

/* The state letter of /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), 0 when unreadable. */
static char proc_state(const struct root *r, const char *pid)
{
	char stat[512];
	const char *p;

	/* "pid (comm) S ...": comm may hold spaces and parentheses, so the last ')'. */
	if (root_read_text(r, ROOT_PROC, stat, sizeof(stat), "%s/stat", pid) < 0)
		return 0;
	p = strrchr(stat, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

long irqbalance_pid(const struct root *r)
{
	char **names;
	size_t n;
	long pid = 0;

	if (root_list_dir(r, ROOT_PROC, &names, &n, "%s", "") < 0)
		return 0;
	for (size_t i = 0; i < n && !pid; i++) {
		char comm[32], st;
		long v;

		if (!isdigit((unsigned char)names[i][0]) || parse_long(names[i], &v) < 0 || v <= 0)
			continue;
		/* A process that exits meanwhile just has no comm any more. */
		if (root_read_text(r, ROOT_PROC, comm, sizeof(comm), "%s/comm", names[i]) < 0 ||
		    strcmp(comm, "irqbalance") != 0)
			continue;
		st = proc_state(r, names[i]);
		if (st != 'Z' && st != 'X') /* a zombie runs no more (0: no stat, as in a fixture) */
			pid = v;
	}
	strv_free(names, n);
	return pid;
}

/*
 * Started with our policy script (systemd/irqbalance.service.d): it asks
 * azl-irqbalance-policy about every IRQ at each rescan and bans ours, so
 * the socket is not needed.  /proc/<pid>/cmdline holds NUL-separated
 * arguments.
 */
bool irqbalance_uses_policy(const struct root *r, long pid)
{
	char cmdline[4096];
	size_t len;
	FILE *f = root_fopen(r, ROOT_PROC, "%ld/cmdline", pid);

	if (!f)
		return false;
	/* Raw bytes, NULs and all; a longer command line is cut, which is fine. */
	len = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	cmdline[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1)
		if (strncmp(cmdline + i, "--policyscript=", 15) == 0 &&
		    strstr(cmdline + i, "/azl-irqbalance-policy"))
			return true;
	return false;
}

/* ---- one exchange ------------------------------------------------------ */

struct irqb_conn {
	const struct root *r;
	long pid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* for messages */
};

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IRQB_TIMEOUT_MS / 1000,
			      .tv_usec = IRQB_TIMEOUT_MS % 1000 * 1000 };

	/* SO_SNDTIMEO also bounds connect() on a unix socket whose backlog is full. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int try_connect(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		return -errno;
	ret = set_timeouts(fd);
	if (ret == 0 && connect(fd, (const struct sockaddr *)sa, len) < 0)
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

static int irqb_connect(struct irqb_conn *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	int fd, ret;

	ret = root_path(c->r, ROOT_RUN, path, sizeof(path), "irqbalance/irqbalance%ld.sock", c->pid);
	if (ret == 0 && strlen(path) >= sizeof(sa.sun_path))
		ret = -ENAMETOOLONG;
	if (ret < 0) {
		snprintf(err, errlen, "irqbalance (pid %ld): socket path under %s: %s", c->pid,
			 root_name(c->r), strerror(-ret));
		return ret;
	}
	memcpy(c->path, path, strlen(path) + 1); /* it fits: checked above */
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = try_connect(&sa, (socklen_t)sizeof(sa));
	if (fd >= 0 || !root_is_live(c->r) || (fd != -ENOENT && fd != -ECONNREFUSED))
		goto out;
	/* Without its runtime directory irqbalance binds the all-zero abstract address. */
	memset(sa.sun_path, 0, sizeof(sa.sun_path));
	ret = try_connect(&sa, (socklen_t)sizeof(sa));
	if (ret >= 0) {
		snprintf(c->path, sizeof(c->path), "@ (abstract)");
		fd = ret;
	}
out:
	if (fd < 0)
		snprintf(err, errlen, "irqbalance (pid %ld) does not answer on %s: %s%s", c->pid,
			 c->path, strerror(-fd),
			 fd == -EACCES ? " (it takes commands from root only)" : "");
	return fd;
}

/* Wait until fd is readable, or the deadline (CLOCK_MONOTONIC, µs) passes. */
static int wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = monotonic_usec();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ret;

		if (now >= deadline)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)((deadline - now + 999) / 1000));
		if (ret > 0)
			return 0;
		if (ret == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Send cmd with our credentials and read until irqbalance closes the
 * connection.  reply (may be NULL) gets what it sent, NUL-terminated.
 */
static int irqb_exchange(struct irqb_conn *c, const char *cmd, char **reply, char *err,
			 size_t errlen)
{
	uint64_t deadline = monotonic_usec() + IRQB_TIMEOUT_MS * 1000u;
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl = { 0 };
	struct ucred cred = { .pid = getpid(), .uid = geteuid(), .gid = getegid() };
	struct iovec iov = { .iov_base = (void *)cmd, .iov_len = strlen(cmd) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t used = 0, cap = 0;
	ssize_t n;
	int ret;

	if (reply)
		*reply = NULL;
	fd = irqb_connect(c, err, errlen);
	if (fd < 0)
		return fd;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	/* One sendmsg(): irqbalance takes the command from a single recvmsg(). */
	n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	if (n < 0 || (size_t)n != iov.iov_len) {
		ret = n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EIO;
		snprintf(err, errlen, "irqbalance (pid %ld), %s: sending \"%.24s\": %s", c->pid,
			 c->path, cmd, strerror(-ret));
		return ret;
	}
	for (;;) {
		if (cap - used < 4096) {
			char *nb;

			cap = cap ? 2 * cap : 8192;
			if (cap > IRQB_REPLY_MAX + 4096) {
				snprintf(err, errlen, "irqbalance (pid %ld): a reply over %u bytes",
					 c->pid, IRQB_REPLY_MAX);
				return -EFBIG;
			}
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		ret = wait_readable(fd, deadline);
		if (ret == 0) {
			n = recv(fd, buf + used, cap - used - 1, MSG_DONTWAIT);
			if (n > 0) {
				used += (size_t)n;
				continue;
			}
			if (n == 0)
				break; /* irqbalance is done with the command */
			ret = errno == EAGAIN || errno == EINTR ? 0 : -errno;
			if (ret == 0)
				continue;
		}
		snprintf(err, errlen, "irqbalance (pid %ld), %s: no answer to \"%.24s\": %s",
			 c->pid, c->path, cmd, strerror(-ret));
		return ret;
	}
	if (reply) {
		if (!buf && !(buf = malloc(1)))
			return -ENOMEM;
		buf[used] = '\0';
		*reply = TAKE_PTR(buf);
	}
	return 0;
}

/* ---- the ban list ------------------------------------------------------ */

struct irq_list {
	long *v;
	size_t n, cap;
};

static int list_add(struct irq_list *l, long irq)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		long *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = irq;
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Sort and drop duplicates. */
static void list_norm(struct irq_list *l)
{
	size_t k = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_long);
	for (size_t i = 0; i < l->n; i++)
		if (k == 0 || l->v[k - 1] != l->v[i])
			l->v[k++] = l->v[i];
	l->n = k;
}

static bool list_has(const struct irq_list *l, long irq)
{
	return l->n && bsearch(&irq, l->v, l->n, sizeof(*l->v), cmp_long);
}

/* A whole decimal token no larger than INT_MAX (irqbalance keeps IRQs in an int). */
static bool number_token(const char *t, long *out)
{
	if (!t || !isdigit((unsigned char)t[0]) || parse_long(t, out) < 0)
		return false;
	return *out >= 0 && *out <= INT_MAX;
}

/* Tokens of a reply; the last one read names the place of an error. */
struct toks {
	char *save;
	const char *last;
	bool end;
};

static char *next_tok(struct toks *k, char *s)
{
	char *t = strtok_r(s, " ", &k->save);

	if (t)
		k->last = t;
	k->end = !t;
	return t;
}

static bool is_key(const char *t)
{
	return t && t[0] && strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(t);
}

/*
 * "SLEEP 10 IRQ 24 LOAD 0 DIFF 0 CLASS 0 BANNED 00000000": the IRQs, strictly
 * in that shape, though an IRQ may carry more "KEY <number>" pairs than 1.9
 * prints.  Anything else is not an irqbalance we understand.
 */
static int parse_setup(char *reply, struct irq_list *out, char *err, size_t errlen)
{
	struct toks k = { .last = "" };
	char tok[41], *t;
	long v;

	t = next_tok(&k, reply);
	if (!t || strcmp(t, "SLEEP") != 0 || !number_token(next_tok(&k, NULL), &v))
		goto bad;
	t = next_tok(&k, NULL);
	while (t && strcmp(t, "IRQ") == 0) {
		if (!number_token(next_tok(&k, NULL), &v))
			goto bad;
		if (list_add(out, v) < 0)
			return -ENOMEM;
		while ((t = next_tok(&k, NULL)) && strcmp(t, "IRQ") != 0 &&
		       strcmp(t, "BANNED") != 0)
			if (!is_key(t) || !number_token(next_tok(&k, NULL), &v))
				goto bad;
	}
	if (!t || strcmp(t, "BANNED") != 0)
		goto bad;
	t = next_tok(&k, NULL);
	if (!t || strspn(t, "0123456789abcdefABCDEF,") != strlen(t) || next_tok(&k, NULL))
		goto bad;
	list_norm(out);
	return 0;
bad:
	/* The token goes into a message: nothing unprintable from a stranger. */
	snprintf(tok, sizeof(tok), "%s", k.last);
	for (char *p = tok; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	snprintf(err, errlen, "irqbalance's \"setup\" reply is not in the 1.9 format (%s \"%s\")",
		 k.end ? "it ends after" : "at", tok);
	return -EPROTO;
}

static int read_bans(struct irqb_conn *c, struct irq_list *out, char *err, size_t errlen)
{
	_cleanup_free_ char *reply = NULL;
	int ret;

	out->n = 0;
	ret = irqb_exchange(c, "setup", &reply, err, errlen);
	if (ret < 0)
		return ret;
	if (!reply[0]) {
		snprintf(err, errlen, "irqbalance (pid %ld) closed without a reply: it takes "
			 "commands from root only", c->pid);
		return -EPERM;
	}
	return parse_setup(reply, out, err, errlen);
}

/* "settings ban irqs 0 24 57": -E2BIG when it exceeds what irqbalance reads. */
static int format_ban(const struct irq_list *l, char *buf, size_t len)
{
	size_t used = strlen(BAN_CMD);

	if (len <= used)
		return -E2BIG;
	memcpy(buf, BAN_CMD, used + 1);
	for (size_t i = 0; i < l->n; i++) {
		int n = snprintf(buf + used, len - used, "%s%ld", i ? " " : "", l->v[i]);

		if (n < 0 || (size_t)n >= len - used)
			return -E2BIG;
		used += (size_t)n;
	}
	return 0;
}

int irqbalance_ban(const struct root *r, const long *irqs, size_t n, char *err, size_t errlen)
{
	struct irqb_conn c = { .r = r };
	struct irq_list have = { 0 }, want = { 0 };
	char cmd[IRQB_CMD_MAX + 1], pid[24];
	bool news = false;
	char state;
	int ret;

	err[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (irqs[i] < 0 || irqs[i] > INT_MAX) {
			snprintf(err, errlen, "%ld is not an IRQ number", irqs[i]);
			return -EINVAL;
		}
	c.pid = irqbalance_pid(r);
	if (c.pid == 0)
		return 0;
	if (n == 0)
		return 1; /* nothing to ban: irqbalance already leaves it all alone */
	if (geteuid() != 0) {
		snprintf(err, errlen, "irqbalance (pid %ld) takes commands from root only", c.pid);
		return -EPERM;
	}
	/*
	 * irqbalance 1.9 does not ignore SIGPIPE: when it answers "setup" to a
	 * client that gave up waiting, the reply kills it.  Do not queue a
	 * command for a stopped irqbalance.
	 */
	snprintf(pid, sizeof(pid), "%ld", c.pid);
	state = proc_state(r, pid);
	if (state == 'T' || state == 't') {
		snprintf(err, errlen, "irqbalance (pid %ld) is stopped: not asking it now", c.pid);
		return -EAGAIN;
	}

	ret = read_bans(&c, &have, err, errlen);
	for (size_t i = 0; ret == 0 && i < have.n; i++)
		ret = list_add(&want, have.v[i]);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		news |= !list_has(&have, irqs[i]);
		ret = list_add(&want, irqs[i]);
	}
	if (ret < 0 || !news)
		goto out; /* all banned already: no command, no needless rescan */
	list_norm(&want);

	ret = format_ban(&want, cmd, sizeof(cmd));
	if (ret == -E2BIG) {
		/*
		 * Bans of IRQs that no longer exist pile up as devices come
		 * back with new numbers (a VF after host servicing).  Drop those
		 * before giving up, the administrator's included: they match
		 * no IRQ now.
		 */
		size_t k = 0;

		for (size_t i = 0; i < want.n; i++)
			if (root_exists(r, ROOT_PROC, "irq/%ld", want.v[i]))
				want.v[k++] = want.v[i];
		want.n = k;
		ret = format_ban(&want, cmd, sizeof(cmd));
	}
	if (ret == -E2BIG) {
		snprintf(err, errlen, "irqbalance (pid %ld) reads at most %d bytes a command, too "
			 "few for %zu IRQs: stop irqbalance or ban them with --banirq", c.pid,
			 IRQB_CMD_MAX + 1, want.n);
		goto out;
	}
	ret = irqb_exchange(&c, cmd, NULL, err, errlen);
	if (ret < 0)
		goto out;

	/* Read it back: the command has no reply of its own. */
	ret = read_bans(&c, &have, err, errlen);
	for (size_t i = 0; ret == 0 && i < want.n; i++)
		if (!list_has(&have, want.v[i])) {
			snprintf(err, errlen, "irqbalance (pid %ld) did not take the ban of IRQ %ld",
				 c.pid, want.v[i]);
			ret = -EPROTO;
		}
out:
	free(have.v);
	free(want.v);
	return ret < 0 ? ret : 1;
}
