// SPDX-License-Identifier: MIT
/*
 * ipinfo_tool: drive GET_IP_INFO / SET_IP_INFO (agent/src/kvp_ipinfo.h)
 * directly, without a KVP device, for tests/kvp/ipinfo.sh.
 *
 * usage: ipinfo_tool [--root DIR] [--renderer R] get MAC [--repeat N]
 *        ipinfo_tool [--root DIR] [--renderer R] set GUID FAMILY DHCP IP SUBNET GW DNS
 *        ipinfo_tool fake-bus [--resolved] [--networkd] [--nm IFNAME] [--hang-nm]
 *        ipinfo_tool mute-bus SOCKET
 *
 * Prints "result=<errno name or 0>", "status=0x........" (what the host
 * would get), then for get each field of struct kvp_ip_info on its own
 * line (name=value).  --repeat N runs get N times and prints median_us=
 * and p90_us= (for measuring, never asserted).  Exit 0 when it ran, 2 on
 * a usage error.
 *
 * fake-bus stands in, on the system bus ($DBUS_SYSTEM_BUS_ADDRESS), for
 * systemd-resolved (DNS: a global server, one for eth0 and one for eth1),
 * systemd-networkd (Reload, ReconfigureLink) and NetworkManager (managing
 * only IFNAME, whose active profile has ipv4.method=auto) with just what
 * the agent asks of them; it prints one line per call that changes
 * something, and "ready" once it owns its names; with --hang-nm its
 * NetworkManager never answers GetDeviceByIpIface.  mute-bus listens on
 * SOCKET and never answers: a hung bus.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "kvp_ipinfo.h"
#include "root.h"

static int usage(void)
{
	fputs("usage: ipinfo_tool [--root DIR] [--renderer auto|networkd|networkmanager] get MAC "
	      "[--repeat N]\n"
	      "       ipinfo_tool [--root DIR] [--renderer R] set GUID FAMILY DHCP IP SUBNET GW DNS\n"
	      "       ipinfo_tool fake-bus [--resolved] [--networkd] [--nm IFNAME] [--hang-nm]\n"
	      "       ipinfo_tool mute-bus SOCKET\n",
	      stderr);
	return 2;
}

static unsigned status_of(int ret)
{
	if (ret == 0)
		return KVP_S_OK;
	return ret == -ENODEV ? KVP_GUID_NOTFOUND : ret == -EINVAL ? KVP_INVALIDARG : KVP_E_FAIL;
}

static void print_result(int ret, bool set)
{
	const char *name = ret ? strerrorname_np(-ret) : NULL;

	printf("result=%s\n", ret ? (name ? name : "?") : "0");
	/* GET has only one failure status; SET has three. */
	printf("status=0x%08x\n", set ? status_of(ret) : ret ? KVP_E_FAIL : KVP_S_OK);
}

static void print_info(const struct kvp_ip_info *info)
{
	printf("adapter_id=%s\naddr_family=%u\ndhcp_enabled=%u\nip_addr=%s\nsub_net=%s\n"
	       "gate_way=%s\ndns_addr=%s\n",
	       info->adapter_id, info->addr_family, info->dhcp_enabled, info->ip_addr,
	       info->sub_net, info->gate_way, info->dns_addr);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int do_get(const struct root *r, int argc, char **argv)
{
	struct kvp_ip_info info;
	long repeat = 1;
	double *t;
	int ret = 0;

	if (argc == 4 && strcmp(argv[2], "--repeat") == 0)
		repeat = strtol(argv[3], NULL, 10);
	else if (argc != 2)
		return usage();
	if (repeat < 1 || repeat > 1000000)
		return usage();
	t = calloc((size_t)repeat, sizeof(*t));
	if (!t)
		return 1;
	for (long i = 0; i < repeat; i++) {
		double t0 = now_us();

		memset(&info, 0, sizeof(info));
		snprintf(info.adapter_id, sizeof(info.adapter_id), "%s", argv[1]);
		ret = kvp_ip_info_get(r, &info);
		t[i] = now_us() - t0;
	}
	print_result(ret, false);
	if (ret == 0)
		print_info(&info);
	if (repeat > 1) {
		qsort(t, (size_t)repeat, sizeof(*t), cmp_double);
		printf("median_us=%.1f\np90_us=%.1f\n", t[repeat / 2], t[repeat * 9 / 10]);
	}
	free(t);
	return 0;
}

static int do_set(const struct root *r, const struct agent_config *cfg, int argc, char **argv)
{
	struct kvp_ip_info info;

	if (argc != 8)
		return usage();
	memset(&info, 0, sizeof(info));
	/* Cut as the kernel cuts what the host sends (research/kvp.md §1.4). */
	snprintf(info.adapter_id, sizeof(info.adapter_id), "%s", argv[1]);
	info.addr_family = (uint8_t)strtoul(argv[2], NULL, 0);
	info.dhcp_enabled = (uint8_t)strtoul(argv[3], NULL, 0);
	snprintf(info.ip_addr, sizeof(info.ip_addr), "%s", argv[4]);
	snprintf(info.sub_net, sizeof(info.sub_net), "%s", argv[5]);
	snprintf(info.gate_way, sizeof(info.gate_way), "%s", argv[6]);
	snprintf(info.dns_addr, sizeof(info.dns_addr), "%s", argv[7]);
	print_result(kvp_ip_info_set(r, cfg, &info), true);
	return 0;
}

/* ---- fake network services on the bus ---- */

#define NM "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_DEVICE NM_PATH "/Devices/1"
#define NM_ACTIVE NM_PATH "/ActiveConnection/1"
#define NM_PROFILE NM_PATH "/Settings/1"

struct fake {
	const char *nm_ifname;
	bool hang_nm; /* never answer GetDeviceByIpIface */
	int eth0, eth1;
};

static int dns_entry(sd_bus_message *m, int ifindex, int family, const char *text)
{
	unsigned char a[16];
	int r;

	inet_pton(family, text, a);
	r = sd_bus_message_open_container(m, 'r', "iiay");
	if (r >= 0)
		r = sd_bus_message_append(m, "ii", ifindex, family);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', a, family == AF_INET ? 4 : 16);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int get_dns(sd_bus *bus, const char *path, const char *iface, const char *prop,
		   sd_bus_message *m, void *ud, sd_bus_error *err)
{
	struct fake *f = ud;
	int r;

	(void)bus, (void)path, (void)iface, (void)prop, (void)err;
	r = sd_bus_message_open_container(m, 'a', "(iiay)");
	if (r >= 0)
		r = dns_entry(m, 0, AF_INET, "192.0.2.1");
	if (r >= 0)
		r = dns_entry(m, f->eth0, AF_INET6, "fd00:1::53");
	if (r >= 0)
		r = dns_entry(m, f->eth1, AF_INET, "10.2.0.53");
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int get_true(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)bus, (void)path, (void)iface, (void)prop, (void)ud, (void)err;
	return sd_bus_message_append(m, "b", 1);
}

static int get_path(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)bus, (void)path, (void)iface, (void)ud, (void)err;
	if (strcmp(prop, "ActiveConnection") == 0)
		return sd_bus_message_append(m, "o", NM_ACTIVE);
	if (strcmp(prop, "Connection") == 0)
		return sd_bus_message_append(m, "o", NM_PROFILE);
	return sd_bus_message_append(m, "o", "/"); /* Dhcp4Config: no lease yet */
}

static int nm_device_by_iface(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	struct fake *f = ud;
	const char *name;
	int r = sd_bus_message_read(m, "s", &name);

	if (r < 0)
		return r;
	if (f->hang_nm)
		return 1; /* no reply, ever */
	if (!f->nm_ifname || strcmp(name, f->nm_ifname) != 0)
		return sd_bus_error_set(err, NM ".UnknownDevice", "No such device");
	return sd_bus_reply_method_return(m, "o", NM_DEVICE);
}

static int nm_activate(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *conn, *dev, *spec;
	int r = sd_bus_message_read(m, "ooo", &conn, &dev, &spec);

	(void)ud, (void)err;
	if (r < 0)
		return r;
	printf("ActivateConnection %s %s %s\n", conn, dev, spec);
	return sd_bus_reply_method_return(m, "o", NM_ACTIVE);
}

static int nm_load(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	char **files = NULL;
	int r = sd_bus_message_read_strv(m, &files);

	(void)ud, (void)err;
	if (r < 0)
		return r;
	for (char **p = files; p && *p; p++) {
		printf("LoadConnections %s\n", *p);
		free(*p);
	}
	free(files);
	return sd_bus_reply_method_return(m, "bas", 1, 0);
}

static int nm_by_uuid(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *uuid;
	int r = sd_bus_message_read(m, "s", &uuid);

	(void)ud, (void)err;
	if (r < 0)
		return r;
	printf("GetConnectionByUuid %s\n", uuid);
	return sd_bus_reply_method_return(m, "o", NM_PROFILE);
}

static int nm_settings(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud, (void)err;
	/* connection.id, then ipv4 with an address list before the method. */
	return sd_bus_reply_method_return(m, "a{sa{sv}}", 2, "connection", 1, "id", "s", "fake",
					  "ipv4", 2, "dns", "au", 1, 0x35000a0au, "method", "s",
					  "auto");
}

static int networkd_reload(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud, (void)err;
	printf("Reload\n");
	return sd_bus_reply_method_return(m, "");
}

static int networkd_reconfigure(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	int32_t ifindex;
	int r = sd_bus_message_read(m, "i", &ifindex);

	(void)ud, (void)err;
	if (r < 0)
		return r;
	printf("ReconfigureLink %d\n", ifindex);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable resolve_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("DNS", "a(iiay)", get_dns, 0, 0),
	SD_BUS_VTABLE_END,
};
static const sd_bus_vtable nm_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetDeviceByIpIface", "s", "o", nm_device_by_iface, 0),
	SD_BUS_METHOD("ActivateConnection", "ooo", "o", nm_activate, 0),
	SD_BUS_VTABLE_END,
};
static const sd_bus_vtable nm_device_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Managed", "b", get_true, 0, 0),
	SD_BUS_PROPERTY("Dhcp4Config", "o", get_path, 0, 0),
	SD_BUS_PROPERTY("ActiveConnection", "o", get_path, 0, 0),
	SD_BUS_VTABLE_END,
};
static const sd_bus_vtable nm_active_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Connection", "o", get_path, 0, 0),
	SD_BUS_VTABLE_END,
};
static const sd_bus_vtable nm_settings_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("LoadConnections", "as", "bas", nm_load, 0),
	SD_BUS_METHOD("GetConnectionByUuid", "s", "o", nm_by_uuid, 0),
	SD_BUS_VTABLE_END,
};
static const sd_bus_vtable nm_profile_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetSettings", "", "a{sa{sv}}", nm_settings, 0),
	SD_BUS_VTABLE_END,
};
static const sd_bus_vtable networkd_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Reload", "", "", networkd_reload, 0),
	SD_BUS_METHOD("ReconfigureLink", "i", "", networkd_reconfigure, 0),
	SD_BUS_VTABLE_END,
};

static int fake_serve(sd_bus *bus, struct fake *f, bool resolved, bool networkd)
{
	static const struct {
		const char *path, *iface;
		const sd_bus_vtable *vt;
	} nm[] = {
		{ NM_PATH, NM, nm_vtable },
		{ NM_DEVICE, NM ".Device", nm_device_vtable },
		{ NM_ACTIVE, NM ".Connection.Active", nm_active_vtable },
		{ NM_PATH "/Settings", NM ".Settings", nm_settings_vtable },
		{ NM_PROFILE, NM ".Settings.Connection", nm_profile_vtable },
	};
	int r = 0;

	if (resolved) {
		r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/resolve1",
					     "org.freedesktop.resolve1.Manager", resolve_vtable, f);
		if (r >= 0)
			r = sd_bus_request_name(bus, "org.freedesktop.resolve1", 0);
	}
	if (r >= 0 && networkd) {
		r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/network1",
					     "org.freedesktop.network1.Manager", networkd_vtable, f);
		if (r >= 0)
			r = sd_bus_request_name(bus, "org.freedesktop.network1", 0);
	}
	for (size_t i = 0; r >= 0 && f->nm_ifname && i < sizeof(nm) / sizeof(nm[0]); i++)
		r = sd_bus_add_object_vtable(bus, NULL, nm[i].path, nm[i].iface, nm[i].vt, f);
	if (r >= 0 && f->nm_ifname)
		r = sd_bus_request_name(bus, NM, 0);
	if (r < 0)
		return r;
	printf("ready\n");
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
			return r;
	}
}

static int do_fake_bus(int argc, char **argv)
{
	struct fake f = { .eth0 = (int)if_nametoindex("eth0"), .eth1 = (int)if_nametoindex("eth1") };
	bool resolved = false, networkd = false;
	sd_bus *bus = NULL;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--resolved") == 0)
			resolved = true;
		else if (strcmp(argv[i], "--networkd") == 0)
			networkd = true;
		else if (strcmp(argv[i], "--nm") == 0 && i + 1 < argc)
			f.nm_ifname = argv[++i];
		else if (strcmp(argv[i], "--hang-nm") == 0)
			f.hang_nm = true;
		else
			return usage();
	}
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = fake_serve(bus, &f, resolved, networkd);
	fprintf(stderr, "fake-bus: %s\n", strerror(-r));
	sd_bus_unref(bus);
	return 1;
}

/* A bus that takes connections and never says a word. */
static int do_mute_bus(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return usage();
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		perror("mute-bus");
		return 1;
	}
	printf("ready\n");
	for (;;)
		if (accept(fd, NULL, NULL) < 0 && errno != EINTR)
			return 1;
}

int main(int argc, char **argv)
{
	struct agent_config cfg;
	const char *dir = NULL;
	struct root r;
	int i = 1;

	config_defaults(&cfg);
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--root") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--renderer") == 0 && strcmp(argv[i + 1], "auto") == 0)
			cfg.kvp.renderer = IP_RENDERER_AUTO;
		else if (strcmp(argv[i], "--renderer") == 0 && strcmp(argv[i + 1], "networkd") == 0)
			cfg.kvp.renderer = IP_RENDERER_NETWORKD;
		else if (strcmp(argv[i], "--renderer") == 0 &&
			 strcmp(argv[i + 1], "networkmanager") == 0)
			cfg.kvp.renderer = IP_RENDERER_NETWORKMANAGER;
		else
			return usage();
	}
	if (root_init(&r, dir) < 0 || i >= argc)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[i], "get") == 0)
		return do_get(&r, argc - i, argv + i);
	if (strcmp(argv[i], "set") == 0)
		return do_set(&r, &cfg, argc - i, argv + i);
	if (strcmp(argv[i], "fake-bus") == 0)
		return do_fake_bus(argc - i, argv + i);
	if (strcmp(argv[i], "mute-bus") == 0)
		return do_mute_bus(argc - i, argv + i);
	return usage();
}
