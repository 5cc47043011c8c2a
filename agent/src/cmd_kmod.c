// SPDX-License-Identifier: MIT
/*
 * azl-agent kmod events [--count N]: print the events of our kernel
 * modules (azl_vmbus, azl_storvsc, azl_netvsc, azl_accel) as they happen,
 * one line each.  The
 * daemon subscribes the same way.
 * azl-agent kmod channels: the VMBus inventory of azl_vmbus, one line per
 * channel, in the order of channel_vp_mapping.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azl_storvsc.h>

#include "commands.h"
#include "sysfile.h"
#include "kmod_accel.h"
#include "kmod_netvsc.h"
#include "kmod_storvsc.h"
#include "kmod_vmbus.h"

struct event_sink {
	unsigned long long seen, limit; /* limit 0: forever */
};

static int print_storvsc_event(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct event_sink *s = ctx;
	struct storvsc_dev d;

	if (cmd != AZL_STORVSC_CMD_APPLIED || storvsc_dev_from_attrs(tb, &d) < 0)
		return 0; /* not an event we know: a newer module */
	printf("storvsc applied %" PRIu32 ":%" PRIu32 ":%" PRIu32 ":%" PRIu64
	       " timeout=%" PRIu32 " eh_timeout=%" PRIu32 " queue_depth=%" PRIu32 " source=%s\n",
	       d.host, d.channel, d.target, d.lun, d.applied.timeout, d.applied.eh_timeout,
	       d.applied.queue_depth, storvsc_source_name(d.source));
	fflush(stdout);
	s->seen++;
	return 0;
}

/* One line from a family's formatter; an event it does not know is skipped. */
static int print_formatted(int (*format)(struct nlattr **, uint8_t, char *, size_t),
			   struct nlattr **tb, uint8_t cmd, struct event_sink *s)
{
	char line[256];

	if (format(tb, cmd, line, sizeof(line)) < 0)
		return 0;
	printf("%s\n", line);
	fflush(stdout);
	s->seen++;
	return 0;
}

static int print_vmbus_event(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	return print_formatted(vmbus_event_format, tb, cmd, ctx);
}

static int print_netvsc_event(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	return print_formatted(netvsc_event_format, tb, cmd, ctx);
}

static int print_accel_event(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	return print_formatted(accel_event_format, tb, cmd, ctx);
}

/* Open and subscribe one family; false when its module is not loaded. */
static bool subscribe(struct genl_client *c, int (*open_fn)(struct genl_client *),
		      const char *group)
{
	if (open_fn(c) < 0)
		return false;
	if (genl_client_subscribe(c, group) < 0) {
		genl_client_close(c);
		return false;
	}
	return true;
}

static int watch(struct genl_client *clients, genl_reply_fn *fns, int n,
		 struct event_sink *sink)
{
	struct pollfd pfd[4];

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = nl_socket_get_fd(clients[i].sk), .events = POLLIN };
	printf("listening\n");
	fflush(stdout);
	while (!sink->limit || sink->seen < sink->limit) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				genl_client_receive(&clients[i], fns[i], sink);
	}
	return 0;
}

static int print_channels(void)
{
	struct vmbus_facts v = { 0 };
	struct genl_client c;
	int ret = vmbus_kmod_open(&c);

	if (ret < 0) {
		fprintf(stderr, "azl-agent: %s\n", ret == -ENOENT ? "the azl_vmbus module is not loaded"
								     : strerror(-ret));
		return ret == -ENOENT ? 3 : 2;
	}
	ret = vmbus_kmod_read(&c, &v);
	genl_client_close(&c);
	if (ret < 0) {
		fprintf(stderr, "azl-agent: azl_vmbus dump: %s%s%s\n", strerror(-ret),
			c.error[0] ? ": " : "", c.error);
		return 1;
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct vmbus_device_fact *d = &v.devs[i];

		for (size_t j = 0; j < d->nchannels; j++)
			printf("%s %s relid=%ld cpu=%ld node=%ld driver=%s\n", d->instance,
			       d->cls ? d->cls->kind : "unknown", d->channels[j].relid,
			       d->channels[j].cpu, d->numa_node, d->driver[0] ? d->driver : "-");
	}
	vmbus_facts_free(&v);
	return fflush(stdout) == 0 ? 0 : 2;
}

int cmd_kmod(const struct global_options *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct event_sink sink = { 0, 0 };
	struct genl_client clients[4];
	genl_reply_fn fns[4];
	int c, n = 0, ret;

	(void)g;
	if (argc == 2 && strcmp(argv[1], "channels") == 0)
		return print_channels();
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'c' || parse_unsigned(optarg, UINT32_MAX, &sink.limit) < 0) {
			fprintf(stderr, "usage: azl-agent kmod events [--count N] | kmod channels\n");
			return 2;
		}
	}
	if (argc < 2 || strcmp(argv[1], "events") || optind < argc) {
		fprintf(stderr, "usage: azl-agent kmod events [--count N] | kmod channels\n");
		return 2;
	}
	if (subscribe(&clients[n], vmbus_kmod_open, AZL_VMBUS_MCGRP_EVENTS))
		fns[n++] = print_vmbus_event;
	if (subscribe(&clients[n], storvsc_open, AZL_STORVSC_MCGRP_EVENTS))
		fns[n++] = print_storvsc_event;
	if (subscribe(&clients[n], netvsc_open, AZL_NETVSC_MCGRP_EVENTS))
		fns[n++] = print_netvsc_event;
	if (subscribe(&clients[n], accel_open, AZL_ACCEL_MCGRP_EVENTS))
		fns[n++] = print_accel_event;
	if (n == 0) {
		fprintf(stderr, "azl-agent: none of azl_vmbus, azl_storvsc, azl_netvsc, "
			"azl_accel is loaded\n");
		return 3;
	}
	ret = watch(clients, fns, n, &sink);
	for (int i = 0; i < n; i++)
		genl_client_close(&clients[i]);
	if (ret < 0)
		fprintf(stderr, "azl-agent: waiting for events: %s\n", strerror(-ret));
	return ret < 0 ? 2 : 0;
}
