// SPDX-License-Identifier: MIT
/*
 * What provisioning asks of systemd over the system bus: systemd-hostnamed
 * for the host name (it updates /etc/hostname, the kernel and tells
 * everyone who listens) and the manager for an sshd reload.  Every call is
 * bounded; at first boot the bus may not be up yet, and then the caller
 * falls back to files.
 */
#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "provision_actions_internal.h"
#include "util.h"

#define HOSTNAMED_NAME "org.freedesktop.hostname1"
#define HOSTNAMED_PATH "/org/freedesktop/hostname1"
#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER SYSTEMD_NAME ".Manager"

static int bus_open(sd_bus **out)
{
	return bus_open_system_bounded(out, PA_BUS_TIMEOUT_USEC);
}

int pa_hostnamed_set(const char *hostname, char *err, size_t errlen)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	static const char *const methods[] = { "SetStaticHostname", "SetHostname" };
	int r;

	r = bus_open(&bus);
	if (r < 0)
		return pa_fail(r, err, errlen, "system bus: %s", strerror(-r));
	/* hostnamed is bus-activated by design: auto-start stays on here */
	for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;

		r = sd_bus_call_method(bus, HOSTNAMED_NAME, HOSTNAMED_PATH, HOSTNAMED_NAME, methods[i],
				       &e, NULL, "sb", hostname, 0);
		if (r < 0) {
			pa_fail(r, err, errlen, "hostnamed %s: %s", methods[i],
				e.message ? e.message : strerror(-r));
			sd_bus_error_free(&e);
			return r;
		}
	}
	return 0;
}

/* "active" (or reloading) units only: a stopped sshd reads the drop-in when it starts. */
static int unit_is_active(sd_bus *bus, const char *unit)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *state = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *path;
	int r;

	r = sd_bus_call_method(bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit", &e, &reply,
			       "s", unit);
	sd_bus_error_free(&e);
	if (r < 0)
		return 0; /* not loaded: not running */
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	r = sd_bus_get_property_string(bus, SYSTEMD_NAME, path, SYSTEMD_NAME ".Unit", "ActiveState",
				       &e, &state);
	sd_bus_error_free(&e);
	if (r < 0)
		return r;
	return strcmp(state, "active") == 0 || strcmp(state, "reloading") == 0;
}

int pa_sshd_reload(char *err, size_t errlen)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	static const char *const units[] = { "sshd.service", "ssh.service" };
	int r;

	if (bus_open(&bus) < 0)
		return 0; /* no bus yet: systemd has not started sshd either */
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;

		r = unit_is_active(bus, units[i]);
		if (r <= 0)
			continue;
		r = sd_bus_call_method(bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "ReloadUnit",
				       &e, NULL, "ss", units[i], "replace");
		if (r < 0) {
			pa_fail(r, err, errlen, "reloading %s: %s", units[i],
				e.message ? e.message : strerror(-r));
			sd_bus_error_free(&e);
			return r;
		}
		return 0;
	}
	return 0;
}
