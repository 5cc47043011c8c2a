// SPDX-License-Identifier: MIT
/*
 * netvsc_tool: what the azl_netvsc guest suites need and busybox lacks.
 *
 *   netvsc_tool veth NAME PEER QUEUES   a veth pair, QUEUES tx and rx queues each
 *                                       (ip link add ... numtxqueues N numrxqueues N)
 *   netvsc_tool channels IFACE          "rx=R tx=T combined=C max_rx=.. max_tx=.. max_combined=.."
 *   netvsc_tool set-channels IFACE N    what `ethtool -L IFACE rx N tx N` (or combined N) does,
 *                                       through the same ioctl
 *   netvsc_tool events COUNT SECONDS    print "listening", then azl_netvsc events one a line
 *                                       (as azl-agent formats them); exit 0 after COUNT, 1 when
 *                                       SECONDS pass first
 *
 * Runs in the kernel test guest as root.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include <azl_netvsc.h>

#include "genl_client.h"
#include "kmod_netvsc.h"

static int usage(void)
{
	fprintf(stderr, "usage: netvsc_tool veth NAME PEER QUEUES | channels IFACE |\n"
			"       set-channels IFACE N | events COUNT SECONDS\n");
	return 2;
}

static int number(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end ? -EINVAL : 0;
}

static int make_veth(const char *name, const char *peer_name, unsigned long queues)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = rtnl_link_veth_alloc(), *peer;
	int ret = -ENOMEM;

	if (!sk || !link)
		goto out;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0)
		goto out;
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name);
	rtnl_link_set_num_tx_queues(link, (uint32_t)queues);
	rtnl_link_set_num_rx_queues(link, (uint32_t)queues);
	rtnl_link_set_name(peer, peer_name);
	rtnl_link_set_num_tx_queues(peer, (uint32_t)queues);
	rtnl_link_set_num_rx_queues(peer, (uint32_t)queues);
	rtnl_link_put(peer);
	ret = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		fprintf(stderr, "netvsc_tool: veth %s: %s\n", name, nl_geterror(ret));
out:
	if (link)
		rtnl_link_veth_release(link);
	nl_socket_free(sk);
	return ret < 0 ? 1 : 0;
}

static int ethtool_ioctl(const char *iface, void *cmd)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ifr.ifr_data = cmd;
	ret = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static int channels(const char *iface, const char *set)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	unsigned long n;
	int ret = ethtool_ioctl(iface, &ch);

	if (ret < 0) {
		fprintf(stderr, "netvsc_tool: %s: %s\n", iface, strerror(-ret));
		return 1;
	}
	if (!set) {
		printf("rx=%u tx=%u combined=%u max_rx=%u max_tx=%u max_combined=%u\n",
		       ch.rx_count, ch.tx_count, ch.combined_count, ch.max_rx, ch.max_tx,
		       ch.max_combined);
		return 0;
	}
	if (number(set, &n) < 0 || n == 0 || n > UINT32_MAX)
		return usage();
	if (ch.max_combined && !ch.max_rx && !ch.max_tx)
		ch.combined_count = (uint32_t)n;
	else
		ch.rx_count = ch.tx_count = (uint32_t)n;
	ch.cmd = ETHTOOL_SCHANNELS;
	ret = ethtool_ioctl(iface, &ch);
	if (ret < 0) {
		fprintf(stderr, "netvsc_tool: %s: set channels %lu: %s\n", iface, n, strerror(-ret));
		return 1;
	}
	return 0;
}

struct sink {
	unsigned long seen;
};

static int print_event(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct sink *s = ctx;
	char line[256];

	if (netvsc_event_format(tb, cmd, line, sizeof(line)) < 0)
		return 0;
	printf("%s\n", line);
	fflush(stdout);
	s->seen++;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int events(unsigned long count, unsigned long seconds)
{
	struct sink s = { 0 };
	struct genl_client c;
	long deadline = now_ms() + (long)seconds * 1000L;
	struct pollfd pfd;

	if (netvsc_open(&c) < 0 || genl_client_subscribe(&c, AZL_NETVSC_MCGRP_EVENTS) < 0) {
		fprintf(stderr, "netvsc_tool: azl_netvsc is not loaded\n");
		return 2;
	}
	pfd = (struct pollfd){ .fd = nl_socket_get_fd(c.sk), .events = POLLIN };
	printf("listening\n");
	fflush(stdout);
	while (s.seen < count) {
		long left = deadline - now_ms();

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0 && (pfd.revents & POLLIN))
			genl_client_receive(&c, print_event, &s);
	}
	genl_client_close(&c);
	return s.seen >= count ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned long a, b;

	if (argc == 5 && !strcmp(argv[1], "veth") && number(argv[4], &a) == 0 && a > 0)
		return make_veth(argv[2], argv[3], a);
	if (argc == 3 && !strcmp(argv[1], "channels"))
		return channels(argv[2], NULL);
	if (argc == 4 && !strcmp(argv[1], "set-channels"))
		return channels(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "events") && number(argv[2], &a) == 0 &&
	    number(argv[3], &b) == 0)
		return events(a, b);
	return usage();
}
