// SPDX-License-Identifier: MIT
/*
 * Drives irqbalance.c for tests/affinity/irqbalance.sh, and talks to the
 * daemon through its own small client.  The test checks what irqbalance
 * says with code that shares nothing with the code under test.
 *
 *   irqbalance_tool [--root DIR] pid          irqbalance_pid()
 *   irqbalance_tool [--root DIR] ban IRQ...   irqbalance_ban(): exit 0 told, 3 none running
 *   irqbalance_tool raw SOCKET COMMAND        send COMMAND with our credentials and print
 *                                             the reply; SOCKET "@" is the all-zero
 *                                             abstract address
 *   irqbalance_tool banned SOCKET             the IRQs of the "setup" reply, one a line
 *   irqbalance_tool listen DIR                a daemon that never answers: listens on
 *                                             DIR/irqbalance<its pid>.sock and sleeps (run
 *                                             it as a copy named irqbalance, for its comm)
 *
 * Exit 1 on errors (message on stderr), 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "affinity.h"
#include "sysfile.h"

static int usage(void)
{
	fprintf(stderr, "usage: irqbalance_tool [--root DIR] pid|ban IRQ...\n"
			"       irqbalance_tool raw SOCKET COMMAND | banned SOCKET | listen DIR\n");
	return 2;
}

/* The reply to cmd, NUL-terminated, or NULL (message printed). */
static char *raw(const char *sock, const char *cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	struct ucred cred = { .pid = getpid(), .uid = geteuid(), .gid = getegid() };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl = { 0 };
	struct iovec iov = { .iov_base = (void *)cmd, .iov_len = strlen(cmd) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	size_t used = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	if (strcmp(sock, "@") != 0) {
		if (strlen(sock) >= sizeof(sa.sun_path)) {
			fprintf(stderr, "%s: path too long\n", sock);
			free(buf);
			return NULL;
		}
		strcpy(sa.sun_path, sock);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "connect %s: %s\n", sock, strerror(errno));
		goto fail;
	}
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len) {
		fprintf(stderr, "send: %s\n", strerror(errno));
		goto fail;
	}
	while ((n = recv(fd, buf + used, cap - used - 1, 0)) > 0)
		used += (size_t)n;
	if (n < 0 && errno != ECONNRESET) {
		fprintf(stderr, "recv: %s\n", strerror(errno));
		goto fail;
	}
	close(fd);
	buf[used] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Accept nothing, answer nothing: connections wait in the backlog. */
static int listen_forever(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/irqbalance%d.sock", dir,
			 (int)getpid());

	if (fd < 0 || n < 0 || (size_t)n >= sizeof(sa.sun_path) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		fprintf(stderr, "listen %s: %s\n", sa.sun_path, strerror(errno));
		return 1;
	}
	printf("%s\n", sa.sun_path);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *dir = "";
	struct root r;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--root") == 0) {
		dir = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage();
	if (root_init(&r, dir) < 0)
		return 1;
	if (strcmp(argv[i], "pid") == 0) {
		printf("%ld\n", irqbalance_pid(&r));
		return 0;
	}
	if (strcmp(argv[i], "ban") == 0) {
		long irqs[4096];
		size_t n = 0;
		char err[256];
		int ret;

		for (i++; i < argc && n < 4096; i++)
			if (parse_long(argv[i], &irqs[n++]) < 0)
				return usage();
		ret = irqbalance_ban(&r, irqs, n, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "%s (%s)\n", err, strerror(-ret));
			return 1;
		}
		printf("%s\n", ret ? "told" : "none");
		return ret ? 0 : 3;
	}
	if (strcmp(argv[i], "raw") == 0 && argc == i + 3) {
		char *reply = raw(argv[i + 1], argv[i + 2]);

		if (!reply)
			return 1;
		printf("%s\n", reply);
		free(reply);
		return 0;
	}
	if (strcmp(argv[i], "listen") == 0 && argc == i + 2)
		return listen_forever(argv[i + 1]);
	if (strcmp(argv[i], "banned") == 0 && argc == i + 2) {
		char *reply = raw(argv[i + 1], "setup"), *save = NULL, *t;

		if (!reply)
			return 1;
		/* "SLEEP s IRQ n LOAD l DIFF d CLASS c ... BANNED mask" */
		for (t = strtok_r(reply, " ", &save); t; t = strtok_r(NULL, " ", &save))
			if (strcmp(t, "IRQ") == 0 && (t = strtok_r(NULL, " ", &save)))
				printf("%s\n", t);
		free(reply);
		return 0;
	}
	return usage();
}
