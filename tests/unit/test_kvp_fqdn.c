// SPDX-License-Identifier: MIT
/*
 * Pool 2's FullyQualifiedDomainName (research/kvp.md §3.1 #6: the
 * reference resolves it once at start).  In private UTS, mount and network
 * namespaces: a DNS server that swallows every query (a bound UDP socket
 * nobody reads), and an /etc/hosts that knows only the new name.  The
 * answer must come within the bound while DNS hangs, and a rename made
 * while a lookup of the old name still hangs — what provisioning does on a
 * slow network — must be seen at the next request.  Needs root (SKIP
 * otherwise).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvp_intrinsic.h"

static char dir[64];

static void write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int bring_up_loopback(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ret = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (ret == 0)
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return ret;
}

/* A name server that never answers: the queries pile up unread. */
static int dns_sink(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, "127.0.0.53", &a.sin_addr);
	return bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? s : -1;
}

static int setup(void **state)
{
	char path[128];

	(void)state;
	if (unshare(CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWNET) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || bring_up_loopback() < 0)
		return 0; /* the tests skip */
	snprintf(dir, sizeof(dir), "/tmp/azl-fqdn-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("resolv.conf", "nameserver 127.0.0.53\noptions timeout:5 attempts:2\n", path,
		   sizeof(path));
	assert_int_equal(mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL), 0);
	write_file("hosts", "127.0.0.1 localhost\n127.0.1.1 vm-new.example.test vm-new\n", path,
		   sizeof(path));
	assert_int_equal(mount(path, "/etc/hosts", NULL, MS_BIND, NULL), 0);
	assert_true(dns_sink() >= 0);
	return 0;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void fqdn(struct kvp_intrinsic *k, char value[KVP_VALUE_SIZE])
{
	char key[KVP_KEY_SIZE];

	assert_int_equal(kvp_intrinsic_get(k, 0, key, value), 0);
	assert_string_equal(key, "FullyQualifiedDomainName");
}

static void test_defect6_fqdn_follows_rename_while_dns_hangs(void **state)
{
	char value[KVP_VALUE_SIZE];
	struct kvp_intrinsic k;
	struct timespec t0;
	struct root r;

	(void)state;
	if (!dir[0])
		skip();
	assert_int_equal(sethostname("vm-old", 6), 0);
	root_init(&r, NULL);
	kvp_intrinsic_init(&k, &r, 300);

	/* DNS hangs: within the bound, the host name. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fqdn(&k, value);
	assert_string_equal(value, "vm-old");
	assert_true(ms_since(&t0) < 2000);

	/* Renamed while that lookup still hangs: the new name resolves. */
	assert_int_equal(sethostname("vm-new", 6), 0);
	fqdn(&k, value);
	assert_string_equal(value, "vm-new.example.test");
	/* And stays, without waiting again. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fqdn(&k, value);
	assert_string_equal(value, "vm-new.example.test");
	assert_true(ms_since(&t0) < 100);
	kvp_intrinsic_done(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defect6_fqdn_follows_rename_while_dns_hangs),
	};
	int ret;

	setup(NULL);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	if (dir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			ret = 1;
	}
	return ret;
}
