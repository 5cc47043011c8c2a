// SPDX-License-Identifier: MIT
/*
 * accel_listen: print the azl_accel module's events, one line each (the
 * agent's accel_event_format), for the kernel test guest.
 *
 * usage: accel_listen [COUNT [SECONDS]]
 *   Prints "listening" once subscribed, then events until COUNT of them
 *   (0: no limit, the default) or until SECONDS pass without one (default
 *   30), whichever comes first.  Exit 0 after COUNT events (or on the quiet
 *   timeout when COUNT is 0), 1 when the timeout cut a counted run short,
 *   2 when the family is not there.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azl_accel.h>

#include "genl_client.h"
#include "kmod_accel.h"

struct sink {
	unsigned long seen;
};

static int print_event(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct sink *s = ctx;
	char line[256];

	if (accel_event_format(tb, cmd, line, sizeof(line)) < 0)
		return 0; /* not an event we know */
	printf("%s\n", line);
	fflush(stdout);
	s->seen++;
	return 0;
}

static int number(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || !*s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 0, seconds = 30;
	struct sink sink = { 0 };
	struct genl_client c;
	struct pollfd pfd;

	if (argc > 3 || (argc > 1 && number(argv[1], &count) < 0) ||
	    (argc > 2 && (number(argv[2], &seconds) < 0 || seconds > 3600))) {
		fprintf(stderr, "usage: accel_listen [COUNT [SECONDS]]\n");
		return 2;
	}
	if (accel_open(&c) < 0 || genl_client_subscribe(&c, AZL_ACCEL_MCGRP_EVENTS) < 0) {
		fprintf(stderr, "accel_listen: the azl_accel family is not there\n");
		return 2;
	}
	printf("listening\n");
	fflush(stdout);
	pfd = (struct pollfd){ .fd = nl_socket_get_fd(c.sk), .events = POLLIN };
	while (!count || sink.seen < count) {
		int n = poll(&pfd, 1, (int)seconds * 1000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		genl_client_receive(&c, print_event, &sink);
	}
	genl_client_close(&c);
	return count && sink.seen < count ? 1 : 0;
}
