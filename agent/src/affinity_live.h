/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Live re-placement: the daemon places interrupts once at start and again
 * after every hotplug burst that changes what there is to place (a VF
 * serviced by the host, a NIC or GPU arriving late, a VMBus device offered
 * or rescinded; research/tuning.md §4.4, §6).
 *
 * Three pieces, so that each can be tested without udev:
 *
 *   aff_live_relevant()  pure: does this uevent change placement?
 *   struct aff_debounce  one sd-event timer: a burst of triggers becomes one
 *                        run, and runs are spaced (the rate cap)
 *   struct affinity_live the service: an sd_device_monitor (thin glue) that
 *                        feeds the two above, and the run that re-plans
 *
 * Timing.  The first trigger of a burst arms the timer debounce_ms ahead
 * ([affinity] debounce_ms, 50 by default, at most 100); triggers while it
 * is armed join that run.  Run starts are at least 1 s / AFF_LIVE_MAX_RUNS
 * apart: a VF that flaps without pause (Azure docs #100444 reports ~900
 * data-path switches an hour before a node failed) costs at most
 * AFF_LIVE_MAX_RUNS re-plans a second.  Both delays are at most 100 ms and
 * the spacing counts from the previous run's start, which precedes the
 * event, so a re-plan starts within 100 ms (plus the loop's wakeup latency)
 * of the daemon reading the first event of its burst.  Events that arrive while a run works are read
 * after it and make another run: the run may have read the tree before they
 * happened.
 * Nothing polls: between events the service costs no wakeups at all.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "affinity.h"
#include "root.h"

/* The rate cap: at most this many re-plans a second. */
#define AFF_LIVE_MAX_RUNS 10
/* [affinity] debounce_ms: default and the most config.c accepts. */
#define AFF_LIVE_DEBOUNCE_MS 50
#define AFF_LIVE_DEBOUNCE_MAX_MS 100

/* ---- classifier --------------------------------------------------------- */

/* What a uevent says; any field may be NULL (unknown). */
struct aff_live_event {
	const char *subsystem; /* "pci", "net", "vmbus" */
	const char *action;    /* "add", "remove", "bind", … */
	const char *driver;    /* DRIVER= of a bind event */
	const char *devpath;   /* "/devices/…" */
};

/*
 * Pure.  Relevant:
 *   pci    bind, unbind, remove  (a driver's probe allocates the IRQs: the
 *                                 "add" before it is too early)
 *   net    add, remove, move     (move: a VF is renamed after it joins its
 *                                 synthetic NIC; queues are found by name)
 *          but never a virtual interface (/devices/virtual/…: veth,
 *          bridges, tun), which a container host makes by the hundred and
 *          which have neither IRQs nor channels
 *   vmbus  add, remove, bind     (channels open at bind) except the bind of
 *                                 a driver whose channels are never placed
 *                                 (hv_utils, hv_balloon, input, framebuffer)
 */
bool aff_live_relevant(const struct aff_live_event *ev);

/* ---- debouncer ----------------------------------------------------------- */

/* A run; a negative return counts as a failure and changes nothing else. */
typedef int (*aff_debounce_fn)(void *userdata);

struct aff_debounce {
	sd_event *event;
	sd_event_source *timer;  /* one oneshot CLOCK_MONOTONIC source, reused */
	uint64_t window_usec;    /* debounce: first trigger -> run */
	uint64_t spacing_usec;   /* rate cap: run start -> next run start */
	aff_debounce_fn fn;
	void *userdata;

	bool pending;            /* a run is armed */
	uint64_t first;          /* loop time of the pending burst's first trigger */
	uint64_t last_start;     /* loop time the last run started (runs > 0) */

	unsigned long triggers;  /* every aff_debounce_trigger() */
	unsigned long coalesced; /* triggers that joined an armed run */
	unsigned long runs;
	unsigned long failures;  /* runs that returned < 0 */
	unsigned long capped;    /* runs the rate cap pushed back */
	uint64_t max_delay_usec; /* first trigger -> run start, the worst seen */
};

/*
 * window_ms: the debounce; max_per_sec: the rate cap (0: none).  Nothing is
 * armed until the first trigger.
 */
int aff_debounce_init(struct aff_debounce *d, sd_event *e, unsigned window_ms,
		      unsigned max_per_sec, aff_debounce_fn fn, void *userdata);
/* An event: arm the run unless one is armed.  0, or a negative errno from sd-event. */
int aff_debounce_trigger(struct aff_debounce *d);
void aff_debounce_done(struct aff_debounce *d);

/* ---- the service ----------------------------------------------------------- */

/* affinity_run_once() in production; tests pass their own. */
typedef int (*aff_replan_fn)(const struct root *r, const struct aff_policy *p, bool apply,
			     char *summary, size_t len);

struct affinity_live {
	struct root root;
	struct aff_policy policy;
	aff_replan_fn replan;
	struct aff_debounce debounce;
	sd_device_monitor *monitor; /* NULL: no live updates (no udev, or live = no) */
	unsigned long relevant, ignored; /* uevents seen by the monitor */
	char why[128];         /* what started the pending burst: "start", "pci bind 0101:00:00.0" */
	unsigned long burst;   /* relevant events in the pending burst */
	unsigned capped_streak; /* bursts in a row the rate cap held back */
	uint64_t cap_logged;   /* loop time the rate cap was last reported */
};

/*
 * Start the service on e: a first run debounce_ms from now (at daemon start)
 * and, when monitor, the uevent monitor.  A monitor that cannot be created
 * (no netlink, no permission) is logged once and the service goes on with
 * the runs it has; only an sd-event failure is returned (negative errno).
 */
int affinity_live_start(struct affinity_live *l, sd_event *e, const struct root *r,
			const struct aff_policy *p, unsigned debounce_ms, aff_replan_fn replan,
			bool monitor);
void affinity_live_stop(struct affinity_live *l);

/*
 * One uevent, as the monitor delivers it; sysname names the device in the
 * log ("0101:00:00.0", "eth1").  Returns true when it armed or joined a run.
 */
bool affinity_live_event(struct affinity_live *l, const struct aff_live_event *ev,
			 const char *sysname);

/*
 * A re-plan for another reason than a uevent: an event of one of our
 * kernel modules (kmod_service.c), named by @why in the run's log line.
 * 0, or a negative errno from sd-event.
 */
int affinity_live_trigger(struct affinity_live *l, const char *why);
