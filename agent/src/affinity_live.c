// SPDX-License-Identifier: MIT
/*
 * Live re-placement on the daemon's loop: uevents -> classifier -> one
 * debounced, rate-capped run of the placement pass (affinity_live.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "affinity_live.h"
#include "log.h"
#include "util.h"

#define USEC_PER_MSEC 1000ull
#define USEC_PER_SEC 1000000ull
/* Say again that the rate cap holds runs back at most this often. */
#define CAP_REPORT_USEC (60 * USEC_PER_SEC)
/*
 * The monitor's socket buffer.  The subsystem filter runs in the kernel
 * (BPF), so only pci, net and vmbus events queue here; an overflow would
 * lose events without telling us, so leave room for a whole host
 * servicing burst while a run holds the loop.
 */
#define MONITOR_BUFFER (4u * 1024 * 1024)

/* ---- classifier --------------------------------------------------------- */

static bool is(const char *s, const char *what)
{
	return s && strcmp(s, what) == 0;
}

static bool is_any(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is(s, set[i]))
			return true;
	return false;
}

/*
 * VMBus drivers whose channels stay where the kernel put them (not "perf"
 * classes, vmbus_class.c): their bind moves nothing we place.  Their add
 * and remove still count, as every VMBus device's do: the event carries no
 * driver then, so there is nothing to tell them apart by.
 */
static const char *const unplaced_vmbus_drivers[] = {
	"hv_utils", "hv_balloon", "hyperv_keyboard", "hid_hyperv", "hyperv_fb", "hyperv_drm",
};

static bool is_virtual(const char *devpath)
{
	static const char prefix[] = "/devices/virtual/";

	return devpath && strncmp(devpath, prefix, sizeof(prefix) - 1) == 0;
}

bool aff_live_relevant(const struct aff_live_event *ev)
{
	static const char *const pci[] = { "bind", "unbind", "remove" };
	static const char *const net[] = { "add", "remove", "move" };
	static const char *const vmbus[] = { "add", "remove", "bind" };

	if (!ev->subsystem || !ev->action)
		return false;
	if (is(ev->subsystem, "pci"))
		return is_any(ev->action, pci, ELEMENTSOF(pci));
	if (is(ev->subsystem, "net"))
		return is_any(ev->action, net, ELEMENTSOF(net)) && !is_virtual(ev->devpath);
	if (is(ev->subsystem, "vmbus")) {
		if (is(ev->action, "bind") &&
		    is_any(ev->driver, unplaced_vmbus_drivers, ELEMENTSOF(unplaced_vmbus_drivers)))
			return false;
		return is_any(ev->action, vmbus, ELEMENTSOF(vmbus));
	}
	return false;
}

/* ---- debouncer ----------------------------------------------------------- */

static uint64_t loop_now(sd_event *e)
{
	uint64_t now = 0;

	/* Fails only for a clock the loop does not have; MONOTONIC it has. */
	(void)sd_event_now(e, CLOCK_MONOTONIC, &now);
	return now;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct aff_debounce *d = userdata;
	uint64_t now = loop_now(d->event);

	(void)src;
	(void)usec;
	d->pending = false;
	if (now - d->first > d->max_delay_usec)
		d->max_delay_usec = now - d->first;
	d->last_start = now;
	d->runs++;
	/*
	 * Cleared before the run: whatever the run (or an event it causes)
	 * triggers arms the next one.  A failure is the run's to report; the
	 * loop and the next burst go on regardless, so never return it to
	 * sd-event (which would disable the source).
	 */
	if (d->fn(d->userdata) < 0)
		d->failures++;
	return 0;
}

/*
 * Accuracy 1 us, not 0: sd-event reads 0 as its default of 250 ms, and
 * would then be free to fire the timer that much late, together with
 * other timers — past the 100 ms the re-plan has.
 */
static int arm(struct aff_debounce *d, uint64_t at)
{
	int ret;

	if (!d->timer)
		return sd_event_add_time(d->event, &d->timer, CLOCK_MONOTONIC, at, 1, on_timer, d);
	ret = sd_event_source_set_time(d->timer, at);
	if (ret >= 0)
		ret = sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
	return ret;
}

int aff_debounce_init(struct aff_debounce *d, sd_event *e, unsigned window_ms,
		      unsigned max_per_sec, aff_debounce_fn fn, void *userdata)
{
	memset(d, 0, sizeof(*d));
	d->event = e;
	d->window_usec = (uint64_t)window_ms * USEC_PER_MSEC;
	d->spacing_usec = max_per_sec ? USEC_PER_SEC / max_per_sec : 0;
	d->fn = fn;
	d->userdata = userdata;
	return 0;
}

int aff_debounce_trigger(struct aff_debounce *d)
{
	uint64_t now, at;
	int ret;

	d->triggers++;
	if (d->pending) {
		d->coalesced++;
		return 0;
	}
	now = loop_now(d->event);
	at = now + d->window_usec;
	if (d->runs && d->last_start + d->spacing_usec > at) {
		at = d->last_start + d->spacing_usec;
		d->capped++;
	}
	ret = arm(d, at);
	if (ret < 0)
		return ret;
	d->pending = true;
	d->first = now;
	return 0;
}

void aff_debounce_done(struct aff_debounce *d)
{
	d->timer = sd_event_source_disable_unref(d->timer);
	d->pending = false;
}

/* ---- the service ------------------------------------------------------------ */

static int live_run(void *userdata)
{
	struct affinity_live *l = userdata;
	char summary[512], why[sizeof(l->why) + 48];
	int ret;

	if (l->burst > 1)
		snprintf(why, sizeof(why), "%s and %lu more event%s", l->why, l->burst - 1,
			 l->burst > 2 ? "s" : "");
	else
		snprintf(why, sizeof(why), "%s", l->why);
	l->why[0] = '\0';
	l->burst = 0;
	summary[0] = '\0';
	ret = l->replan(&l->root, &l->policy, true, summary, sizeof(summary));
	if (ret < 0)
		log_warning("affinity: placement after %s did not complete: %s", why,
			    summary[0] ? summary : strerror(-ret));
	else
		log_info("affinity: after %s: %s", why, summary[0] ? summary : "done");
	return ret;
}

/*
 * The cap holding a second's worth of runs back in a row means a device
 * flaps; say so, once a minute at most.  One event soon after a run is
 * held back too, and says nothing.
 */
static void note_cap(struct affinity_live *l, bool capped)
{
	uint64_t now;

	l->capped_streak = capped ? l->capped_streak + 1 : 0;
	if (l->capped_streak < AFF_LIVE_MAX_RUNS)
		return;
	now = loop_now(l->debounce.event);
	if (l->cap_logged && now - l->cap_logged < CAP_REPORT_USEC)
		return;
	log_notice("affinity: hotplug events keep coming (%lu in all); "
		   "re-placing at most %d times a second", l->relevant, AFF_LIVE_MAX_RUNS);
	l->cap_logged = now;
}

/* Note what starts a burst and count what joins it. */
static int live_trigger(struct affinity_live *l, const char *why)
{
	unsigned long capped = l->debounce.capped;
	bool first = !l->debounce.pending;
	int ret;

	if (first)
		snprintf(l->why, sizeof(l->why), "%s", why);
	ret = aff_debounce_trigger(&l->debounce);
	if (ret < 0) {
		log_warning("affinity: cannot arm the re-placement timer: %s", strerror(-ret));
		return ret;
	}
	l->burst++;
	if (first)
		note_cap(l, l->debounce.capped != capped);
	return 0;
}

bool affinity_live_event(struct affinity_live *l, const struct aff_live_event *ev,
			 const char *sysname)
{
	char why[sizeof(l->why)];

	if (!aff_live_relevant(ev)) {
		l->ignored++;
		return false;
	}
	l->relevant++;
	snprintf(why, sizeof(why), "%s %s %s", ev->subsystem, ev->action,
		 sysname ? sysname : ev->devpath ? ev->devpath : "?");
	log_debug("affinity: %s%s%s", why, ev->driver ? " driver " : "", ev->driver ? ev->driver : "");
	return live_trigger(l, why) == 0;
}

int affinity_live_trigger(struct affinity_live *l, const char *why)
{
	l->relevant++;
	log_debug("affinity: %s", why);
	return live_trigger(l, why);
}

/* ---- sd-device glue: the only part that needs udev ---------------------------- */

static const char *const action_names[_SD_DEVICE_ACTION_MAX] = {
	[SD_DEVICE_ADD] = "add",       [SD_DEVICE_REMOVE] = "remove",
	[SD_DEVICE_CHANGE] = "change", [SD_DEVICE_MOVE] = "move",
	[SD_DEVICE_ONLINE] = "online", [SD_DEVICE_OFFLINE] = "offline",
	[SD_DEVICE_BIND] = "bind",     [SD_DEVICE_UNBIND] = "unbind",
};

/* Always 0: a negative return would make sd-event disable the monitor for good. */
static int on_uevent(sd_device_monitor *m, sd_device *dev, void *userdata)
{
	struct aff_live_event ev = { 0 };
	const char *sysname = NULL;
	sd_device_action_t a;

	(void)m;
	if (sd_device_get_action(dev, &a) < 0 || a < 0 || a >= _SD_DEVICE_ACTION_MAX)
		return 0;
	ev.action = action_names[a];
	if (sd_device_get_subsystem(dev, &ev.subsystem) < 0)
		ev.subsystem = NULL;
	/* The event's DRIVER=, not the driver link: a removed device has none. */
	if (sd_device_get_property_value(dev, "DRIVER", &ev.driver) < 0)
		ev.driver = NULL;
	if (sd_device_get_devpath(dev, &ev.devpath) < 0)
		ev.devpath = NULL;
	if (sd_device_get_sysname(dev, &sysname) < 0)
		sysname = NULL;
	affinity_live_event(userdata, &ev, sysname);
	return 0;
}

static int monitor_start(struct affinity_live *l, sd_event *e)
{
	static const char *const subsystems[] = { "pci", "net", "vmbus" };
	sd_device_monitor *m = NULL;
	int ret;

	ret = sd_device_monitor_new(&m);
	for (size_t i = 0; ret >= 0 && i < ELEMENTSOF(subsystems); i++)
		ret = sd_device_monitor_filter_add_match_subsystem_devtype(m, subsystems[i], NULL);
	if (ret >= 0 && sd_device_monitor_set_receive_buffer_size(m, MONITOR_BUFFER) < 0)
		log_debug("affinity: kept the default uevent socket buffer");
	if (ret >= 0)
		ret = sd_device_monitor_attach_event(m, e);
	if (ret >= 0)
		ret = sd_device_monitor_set_description(m, "affinity");
	if (ret >= 0)
		ret = sd_device_monitor_start(m, on_uevent, l);
	if (ret < 0) {
		sd_device_monitor_unref(m);
		return ret;
	}
	l->monitor = m;
	return 0;
}

int affinity_live_start(struct affinity_live *l, sd_event *e, const struct root *r,
			const struct aff_policy *p, unsigned debounce_ms, aff_replan_fn replan,
			bool monitor)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->root = *r;
	l->policy = *p;
	l->replan = replan;
	if (debounce_ms > AFF_LIVE_DEBOUNCE_MAX_MS)
		debounce_ms = AFF_LIVE_DEBOUNCE_MAX_MS;
	aff_debounce_init(&l->debounce, e, debounce_ms, AFF_LIVE_MAX_RUNS, live_run, l);
	/* The start run goes through the debouncer too: boot-time events join it. */
	ret = live_trigger(l, "daemon start");
	if (ret < 0)
		return ret;
	if (!monitor)
		return 0;
	ret = monitor_start(l, e);
	if (ret < 0)
		log_notice("affinity: no uevent monitor (%s): interrupts are placed at start only",
			   strerror(-ret));
	else
		log_debug("affinity: watching pci, net and vmbus uevents (debounce %u ms)",
			  debounce_ms);
	return 0;
}

void affinity_live_stop(struct affinity_live *l)
{
	l->monitor = sd_device_monitor_unref(l->monitor);
	aff_debounce_done(&l->debounce);
}
