// SPDX-License-Identifier: MIT
/*
 * The network services of the guest over the system bus (sd-bus):
 * systemd-resolved for DNS servers, NetworkManager for DHCP state and to
 * apply a keyfile, systemd-networkd to apply a .network file.  Every call
 * is bounded (the kernel gives the whole KVP request 30 s), and nothing is
 * ever started by bus activation: a service that does not run is asked
 * nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bus.h"
#include "kvp_ipinfo_internal.h"
#include "util.h"

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define RESOLVE_NAME "org.freedesktop.resolve1"
#define RESOLVE_PATH "/org/freedesktop/resolve1"
#define NETWORKD_NAME "org.freedesktop.network1"
#define NETWORKD_PATH "/org/freedesktop/network1"
#define NM_NAME "org.freedesktop.NetworkManager"
#define NM_PATH "/org/freedesktop/NetworkManager"
#define NM_SETTINGS_PATH NM_PATH "/Settings"

int ipinfo_bus_open(sd_bus **out)
{
	return bus_open_system_bounded(out, IPINFO_BUS_QUERY_USEC);
}

int ipinfo_bus_name_owned(sd_bus *bus, const char *name)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int owned = 0, r;

	r = sd_bus_call_method(bus, DBUS_NAME, DBUS_PATH, DBUS_NAME, "NameHasOwner", NULL, &reply,
			       "s", name);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &owned);
	return r < 0 ? r : owned != 0;
}

/* A method call that gives up after usec and never activates a service. */
static int call(sd_bus *bus, uint64_t usec, const char *dest, const char *path,
		const char *iface, const char *member, sd_bus_message **reply,
		const char *types, ...)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, dest, path, iface, member);
	if (r < 0)
		return r;
	r = sd_bus_message_set_auto_start(m, 0);
	if (r < 0)
		return r;
	if (types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		if (r < 0)
			return r;
	}
	r = sd_bus_call(bus, m, usec, &err, reply);
	sd_bus_error_free(&err);
	return r < 0 ? r : 0;
}

/* Properties.Get of one property, positioned on its value inside the variant. */
static int get_property(sd_bus *bus, const char *dest, const char *path, const char *iface,
			const char *name, const char *type, sd_bus_message **reply)
{
	int r;

	r = call(bus, IPINFO_BUS_QUERY_USEC, dest, path, "org.freedesktop.DBus.Properties", "Get",
		 reply, "ss", iface, name);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(*reply, 'v', type);
	if (r == 0)
		r = -EBADMSG;
	if (r < 0)
		*reply = sd_bus_message_unref(*reply);
	return r;
}

static int get_object_path(sd_bus *bus, const char *dest, const char *path, const char *iface,
			   const char *name, char **out)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *p;
	int r;

	r = get_property(bus, dest, path, iface, name, "o", &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &p);
	if (r < 0)
		return r;
	*out = strdup(p);
	return *out ? 0 : -ENOMEM;
}

/* ---- systemd-resolved ---- */

/* One (ifindex, family, address) entry of Manager.DNS. */
static int read_dns_entry(sd_bus_message *m, int ifindex, char *buf, size_t limit, bool *full)
{
	int32_t ifi, fam;
	const void *data;
	size_t size;
	char text[INET6_ADDRSTRLEN];
	int r;

	r = sd_bus_message_read(m, "ii", &ifi, &fam);
	if (r < 0)
		return r;
	r = sd_bus_message_read_array(m, 'y', &data, &size);
	if (r < 0)
		return r;
	/* This link's servers and the global ones (ifindex 0) serve it. */
	if ((ifi != ifindex && ifi != 0) || *full)
		return 0;
	if (!((fam == AF_INET && size == 4) || (fam == AF_INET6 && size == 16)))
		return 0;
	if (!inet_ntop(fam, data, text, sizeof(text)))
		return 0;
	if (ipinfo_list_add(buf, limit, text, true) < 0)
		*full = true;
	return 0;
}

int ipinfo_resolved_dns(sd_bus *bus, int ifindex, char *buf, size_t limit)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	bool full = false;
	int r;

	/* Not running (the call never starts it) or not answering: -ENOENT. */
	r = get_property(bus, RESOLVE_NAME, RESOLVE_PATH, RESOLVE_NAME ".Manager", "DNS",
			 "a(iiay)", &reply);
	if (r < 0)
		return r == -ETIMEDOUT ? r : -ENOENT;
	r = sd_bus_message_enter_container(reply, 'a', "(iiay)");
	if (r < 0)
		return r;
	buf[0] = '\0';
	while ((r = sd_bus_message_enter_container(reply, 'r', "iiay")) > 0) {
		r = read_dns_entry(reply, ifindex, buf, limit, &full);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(reply);
		if (r < 0)
			return r;
	}
	return r < 0 ? r : 0;
}

/* ---- NetworkManager ---- */

int ipinfo_nm_device(sd_bus *bus, const char *ifname, char **path, bool *managed)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *prop = NULL;
	const char *dev;
	int m = 0, r;

	r = call(bus, IPINFO_BUS_QUERY_USEC, NM_NAME, NM_PATH, NM_NAME, "GetDeviceByIpIface",
		 &reply, "s", ifname);
	if (r < 0)
		return r == -ETIMEDOUT ? r : -ENOENT; /* NM does not run or know the NIC */
	r = sd_bus_message_read(reply, "o", &dev);
	if (r < 0)
		return r;
	r = get_property(bus, NM_NAME, dev, NM_NAME ".Device", "Managed", "b", &prop);
	if (r < 0)
		return r;
	r = sd_bus_message_read(prop, "b", &m);
	if (r < 0)
		return r;
	*path = strdup(dev);
	if (!*path)
		return -ENOMEM;
	*managed = m;
	return 0;
}

/* One a{sv} settings group: whether its "method" is "auto". */
static int group_method_auto(sd_bus_message *m)
{
	const char *key, *value;
	int r, found = 0;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0 && strcmp(key, "method") == 0 &&
		    sd_bus_message_enter_container(m, 'v', "s") > 0) {
			r = sd_bus_message_read(m, "s", &value);
			found = r >= 0 && strcmp(value, "auto") == 0;
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		} else if (r >= 0) {
			r = sd_bus_message_skip(m, "v"); /* another key, or not a string */
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r < 0 ? r : found;
}

/* GetSettings' a{sa{sv}}: the ipv4 group's method is "auto" (DHCPv4). */
static int settings_ipv4_auto(sd_bus_message *m)
{
	const char *group;
	int r, found = 0;

	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read(m, "s", &group);
		if (r >= 0 && strcmp(group, "ipv4") == 0) {
			r = group_method_auto(m);
			found = r > 0;
		} else if (r >= 0) {
			r = sd_bus_message_skip(m, "a{sv}");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : found;
}

int ipinfo_nm_dhcp(sd_bus *bus, const char *device)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *dhcp4 = NULL, *active = NULL, *conn = NULL;
	int r;

	/* A DHCPv4 lease object: DHCP runs now. */
	r = get_object_path(bus, NM_NAME, device, NM_NAME ".Device", "Dhcp4Config", &dhcp4);
	if (r < 0)
		return r;
	if (strcmp(dhcp4, "/") != 0)
		return 1;
	/* Else what the active profile asks for (a lease may be pending). */
	r = get_object_path(bus, NM_NAME, device, NM_NAME ".Device", "ActiveConnection", &active);
	if (r < 0)
		return r;
	if (strcmp(active, "/") == 0)
		return -ENOENT;
	r = get_object_path(bus, NM_NAME, active, NM_NAME ".Connection.Active", "Connection", &conn);
	if (r < 0)
		return r;
	r = call(bus, IPINFO_BUS_QUERY_USEC, NM_NAME, conn, NM_NAME ".Settings.Connection",
		 "GetSettings", &reply, NULL);
	if (r < 0)
		return r;
	return settings_ipv4_auto(reply);
}

int ipinfo_nm_apply(sd_bus *bus, const char *keyfile, const char *uuid, const char *device)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *loaded = NULL, *found = NULL, *active = NULL;
	const char *conn;
	int status = 0, r;

	r = call(bus, IPINFO_BUS_APPLY_USEC, NM_NAME, NM_SETTINGS_PATH, NM_NAME ".Settings",
		 "LoadConnections", &loaded, "as", 1, keyfile);
	if (r < 0)
		return r;
	r = sd_bus_message_read(loaded, "b", &status);
	if (r < 0)
		return r;
	if (!status)
		return -EIO; /* NM could not read the keyfile */
	r = call(bus, IPINFO_BUS_QUERY_USEC, NM_NAME, NM_SETTINGS_PATH, NM_NAME ".Settings",
		 "GetConnectionByUuid", &found, "s", uuid);
	if (r < 0)
		return r;
	r = sd_bus_message_read(found, "o", &conn);
	if (r < 0)
		return r;
	return call(bus, IPINFO_BUS_APPLY_USEC, NM_NAME, NM_PATH, NM_NAME, "ActivateConnection",
		    &active, "ooo", conn, device, "/");
}

/* ---- systemd-networkd ---- */

int ipinfo_networkd_apply(sd_bus *bus, int ifindex)
{
	int r;

	r = call(bus, IPINFO_BUS_APPLY_USEC, NETWORKD_NAME, NETWORKD_PATH, NETWORKD_NAME ".Manager",
		 "Reload", NULL, NULL);
	if (r < 0)
		return r;
	return call(bus, IPINFO_BUS_APPLY_USEC, NETWORKD_NAME, NETWORKD_PATH,
		    NETWORKD_NAME ".Manager", "ReconfigureLink", NULL, "i", (int32_t)ifindex);
}
