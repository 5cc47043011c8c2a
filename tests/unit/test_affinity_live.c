// SPDX-License-Identifier: MIT
/*
 * Live re-placement (affinity_live.h) on a real sd-event loop: which uevents
 * count, a burst becomes one run, later events make another, the rate cap,
 * and a failing run that is logged while the loop goes on.  Times come from
 * the loop's clock; the only bound asserted on them is generous (10x the
 * window), and the cap's spacing, which sd-event cannot undercut (a timer
 * never fires early).  Real udev events: see test_monitor_glue at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "affinity_live.h"
#include "log.h"
#include "util.h"

#define WINDOW_MS 20
#define USEC_PER_MSEC 1000ull

/* ---- helpers -------------------------------------------------------------- */

static uint64_t now_of(sd_event *e)
{
	uint64_t t;

	assert_true(sd_event_now(e, CLOCK_MONOTONIC, &t) >= 0);
	return t;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)usec;
	(void)userdata;
	return sd_event_exit(sd_event_source_get_event(s), -ETIMEDOUT);
}

/* Run the loop until a callback exits it; 10 s of nothing is a failure. */
static void run_loop(sd_event *e)
{
	sd_event_source *deadline = NULL;

	assert_int_equal(sd_event_add_time_relative(e, &deadline, CLOCK_MONOTONIC,
						    10 * 1000 * USEC_PER_MSEC, 0, on_deadline, NULL),
			 0);
	assert_int_equal(sd_event_loop(e), 0);
	sd_event_source_disable_unref(deadline);
}

/* What a test's run callback saw. */
struct runs {
	struct aff_debounce *d;
	unsigned n;
	uint64_t start[64];
	unsigned stop_at;     /* exit the loop after this many runs */
	unsigned retrigger;   /* trigger again from inside runs up to this one */
	unsigned inside;      /* that one run triggers again from inside (0: none) */
	sd_event_source *gen; /* a test's event generator */
	unsigned gen_left;
	unsigned gen_sent;
};

static int record_run(void *userdata)
{
	struct runs *r = userdata;
	sd_event *e = r->d->event;

	assert_false(r->d->pending); /* cleared before the run */
	if (r->n < ELEMENTSOF(r->start))
		r->start[r->n] = now_of(e);
	r->n++;
	if (r->n <= r->retrigger || r->n == r->inside)
		assert_int_equal(aff_debounce_trigger(r->d), 0);
	if (r->n == r->stop_at)
		return sd_event_exit(e, 0);
	return 0;
}

static bool timer_armed(const struct aff_debounce *d)
{
	int enabled = SD_EVENT_OFF;

	if (d->timer)
		assert_true(sd_event_source_get_enabled(d->timer, &enabled) >= 0);
	return enabled != SD_EVENT_OFF;
}

/* ---- classifier ------------------------------------------------------------ */

static void test_classifier_table(void **state)
{
	static const struct {
		struct aff_live_event ev;
		bool relevant;
	} table[] = {
		/* pci: the driver's probe allocates the IRQs; add comes before it */
		{ { "pci", "add", NULL, "/devices/LNXSYSTM:00/cf63:00/cf63:00:02.0" }, false },
		{ { "pci", "bind", "mlx5_core", "/devices/pci cf63:00/cf63:00:02.0" }, true },
		{ { "pci", "bind", "nvidia", NULL }, true },
		{ { "pci", "bind", NULL, NULL }, true },
		{ { "pci", "unbind", NULL, NULL }, true },
		{ { "pci", "remove", NULL, NULL }, true },
		{ { "pci", "change", NULL, NULL }, false },
		{ { "pci", "move", NULL, NULL }, false },
		{ { "pci", "online", NULL, NULL }, false },
		/* net: real NICs only */
		{ { "net", "add", NULL, "/devices/LNXSYSTM:00/VMBUS:00/000d3a6e/net/eth0" }, true },
		{ { "net", "remove", NULL, "/devices/pci0101:00/0101:00:00.0/net/enP257s1" }, true },
		{ { "net", "move", NULL, "/devices/pci0101:00/0101:00:00.0/net/enP257s1" }, true },
		{ { "net", "add", NULL, NULL }, true },
		{ { "net", "change", NULL, "/devices/LNXSYSTM:00/VMBUS:00/x/net/eth0" }, false },
		{ { "net", "add", NULL, "/devices/virtual/net/veth1a2b3c" }, false },
		{ { "net", "remove", NULL, "/devices/virtual/net/docker0" }, false },
		{ { "net", "move", NULL, "/devices/virtual/net/cali12345" }, false },
		{ { "net", "bind", NULL, NULL }, false },
		/* vmbus: channels open at bind */
		{ { "vmbus", "add", NULL, "/devices/LNXSYSTM:00/VMBUS:00/f8615163-0000" }, true },
		{ { "vmbus", "remove", NULL, NULL }, true },
		{ { "vmbus", "bind", "hv_netvsc", NULL }, true },
		{ { "vmbus", "bind", "hv_storvsc", NULL }, true },
		{ { "vmbus", "bind", "hv_pci", NULL }, true },
		{ { "vmbus", "bind", "uio_hv_generic", NULL }, true },
		{ { "vmbus", "bind", NULL, NULL }, true },
		{ { "vmbus", "bind", "hv_utils", NULL }, false },
		{ { "vmbus", "bind", "hv_balloon", NULL }, false },
		{ { "vmbus", "bind", "hyperv_keyboard", NULL }, false },
		{ { "vmbus", "bind", "hid_hyperv", NULL }, false },
		{ { "vmbus", "bind", "hyperv_fb", NULL }, false },
		{ { "vmbus", "bind", "hyperv_drm", NULL }, false },
		{ { "vmbus", "add", "hv_utils", NULL }, true }, /* a driver only matters at bind */
		{ { "vmbus", "unbind", "hv_netvsc", NULL }, false },
		{ { "vmbus", "change", NULL, NULL }, false },
		/* other subsystems, and what is not an event */
		{ { "block", "add", NULL, "/devices/x/block/sda" }, false },
		{ { "nvme", "add", NULL, NULL }, false },
		{ { "infiniband", "add", NULL, NULL }, false },
		{ { "cpu", "online", NULL, NULL }, false },
		{ { "PCI", "bind", NULL, NULL }, false },
		{ { "pci", "BIND", NULL, NULL }, false },
		{ { "pci", "", NULL, NULL }, false },
		{ { "", "bind", NULL, NULL }, false },
		{ { NULL, "bind", NULL, NULL }, false },
		{ { "pci", NULL, NULL, NULL }, false },
		{ { NULL, NULL, NULL, NULL }, false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		if (aff_live_relevant(&table[i].ev) != table[i].relevant)
			fail_msg("row %zu: %s %s driver %s devpath %s: expected %s", i,
				 table[i].ev.subsystem ? table[i].ev.subsystem : "(null)",
				 table[i].ev.action ? table[i].ev.action : "(null)",
				 table[i].ev.driver ? table[i].ev.driver : "(null)",
				 table[i].ev.devpath ? table[i].ev.devpath : "(null)",
				 table[i].relevant ? "relevant" : "ignored");
	}
}

/* ---- debouncer --------------------------------------------------------------- */

/* A burst of 20 in one loop iteration: one run. */
static void test_burst_is_one_run(void **state)
{
	struct aff_debounce d;
	struct runs r = { .d = &d, .stop_at = 1 };
	sd_event *e = NULL;
	uint64_t t0;

	(void)state;
	assert_int_equal(sd_event_new(&e), 0);
	aff_debounce_init(&d, e, WINDOW_MS, AFF_LIVE_MAX_RUNS, record_run, &r);
	assert_false(timer_armed(&d));
	t0 = now_of(e);
	for (int i = 0; i < 20; i++)
		assert_int_equal(aff_debounce_trigger(&d), 0);
	assert_true(d.pending);
	run_loop(e);

	assert_int_equal(r.n, 1);
	assert_int_equal(d.runs, 1);
	assert_int_equal(d.triggers, 20);
	assert_int_equal(d.coalesced, 19);
	assert_int_equal(d.capped, 0);
	assert_int_equal(d.failures, 0);
	/* Nothing left armed: no second run can come. */
	assert_false(d.pending);
	assert_false(timer_armed(&d));
	/* Not before the window (sd-event never fires early), and not absurdly after. */
	assert_true(r.start[0] >= t0 + WINDOW_MS * USEC_PER_MSEC);
	assert_true(d.max_delay_usec >= WINDOW_MS * USEC_PER_MSEC);
	assert_true(d.max_delay_usec <= 10 * WINDOW_MS * USEC_PER_MSEC);
	printf("# a burst of 20 events became 1 run, %.1f ms after the first (window %d ms)\n",
	       (double)d.max_delay_usec / 1000.0, WINDOW_MS);
	aff_debounce_done(&d);
	sd_event_unref(e);
}

/* Events spread over the window, 1 ms apart, while it is armed: still one run. */
static int on_spread(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runs *r = userdata;

	if (!r->d->pending || r->gen_left == 0)
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	assert_int_equal(aff_debounce_trigger(r->d), 0);
	r->gen_sent++;
	r->gen_left--;
	return sd_event_source_set_time(s, usec + USEC_PER_MSEC);
}

static void test_spread_burst_is_one_run(void **state)
{
	struct aff_debounce d;
	struct runs r = { .d = &d, .stop_at = 1, .gen_left = 5 };
	sd_event *e = NULL;

	(void)state;
	assert_int_equal(sd_event_new(&e), 0);
	aff_debounce_init(&d, e, WINDOW_MS, AFF_LIVE_MAX_RUNS, record_run, &r);
	assert_int_equal(aff_debounce_trigger(&d), 0);
	assert_int_equal(sd_event_add_time_relative(e, &r.gen, CLOCK_MONOTONIC, USEC_PER_MSEC, 1,
						    on_spread, &r),
			 0);
	assert_int_equal(sd_event_source_set_enabled(r.gen, SD_EVENT_ON), 0);
	run_loop(e);

	assert_int_equal(r.n, 1);
	assert_int_equal(d.triggers, 1 + r.gen_sent);
	assert_int_equal(d.coalesced, r.gen_sent);
	assert_false(timer_armed(&d));
	/* The run is due a window after the FIRST event, not the last. */
	assert_true(d.max_delay_usec <= 10 * WINDOW_MS * USEC_PER_MSEC);
	sd_event_source_disable_unref(r.gen);
	aff_debounce_done(&d);
	sd_event_unref(e);
}

/* After a run, an event makes another: from a timer, and from inside a run. */
static int on_later_event(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runs *r = userdata;

	(void)s;
	(void)usec;
	assert_false(r->d->pending);
	assert_int_equal(aff_debounce_trigger(r->d), 0);
	r->gen_sent++;
	return 0;
}

static int record_and_schedule(void *userdata)
{
	struct runs *r = userdata;

	record_run(userdata);
	/* After the first run: an event 1 ms later, from outside any run. */
	if (r->n == 1)
		assert_int_equal(sd_event_add_time_relative(r->d->event, &r->gen, CLOCK_MONOTONIC,
							    USEC_PER_MSEC, 1, on_later_event, r),
				 0);
	return 0;
}

static void test_events_after_a_run_make_another(void **state)
{
	struct aff_debounce d;
	/* run 1 -> a later event -> run 2, which triggers from inside -> run 3 */
	struct runs r = { .d = &d, .stop_at = 3, .inside = 2 };
	sd_event *e = NULL;

	(void)state;
	assert_int_equal(sd_event_new(&e), 0);
	aff_debounce_init(&d, e, WINDOW_MS, AFF_LIVE_MAX_RUNS, record_and_schedule, &r);
	assert_int_equal(aff_debounce_trigger(&d), 0);
	run_loop(e);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.gen_sent, 1);
	assert_int_equal(d.triggers, 3);
	assert_int_equal(d.coalesced, 0);
	assert_true(r.start[0] < r.start[1] && r.start[1] < r.start[2]);
	assert_false(timer_armed(&d));
	sd_event_source_disable_unref(r.gen);
	aff_debounce_done(&d);
	sd_event_unref(e);
}

/*
 * A VF that flaps without pause: events every millisecond and from inside
 * every run.  Runs start at least 1 s / AFF_LIVE_MAX_RUNS apart.
 */
static int on_flap(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runs *r = userdata;

	assert_int_equal(aff_debounce_trigger(r->d), 0);
	r->gen_sent++;
	return sd_event_source_set_time(s, usec + USEC_PER_MSEC);
}

static void test_rate_cap(void **state)
{
	const uint64_t spacing = 1000 * USEC_PER_MSEC / AFF_LIVE_MAX_RUNS;
	struct aff_debounce d;
	struct runs r = { .d = &d, .stop_at = 5, .retrigger = 4 };
	sd_event *e = NULL;

	(void)state;
	assert_int_equal(sd_event_new(&e), 0);
	/* A window of 1 ms: without the cap, runs would follow each other closely. */
	aff_debounce_init(&d, e, 1, AFF_LIVE_MAX_RUNS, record_run, &r);
	assert_int_equal(aff_debounce_trigger(&d), 0);
	assert_int_equal(sd_event_add_time_relative(e, &r.gen, CLOCK_MONOTONIC, USEC_PER_MSEC, 1,
						    on_flap, &r),
			 0);
	assert_int_equal(sd_event_source_set_enabled(r.gen, SD_EVENT_ON), 0);
	run_loop(e);

	assert_int_equal(r.n, 5);
	for (unsigned i = 1; i < r.n; i++)
		if (r.start[i] - r.start[i - 1] < spacing)
			fail_msg("runs %u and %u started %llu us apart, under the cap's %llu", i - 1,
				 i, (unsigned long long)(r.start[i] - r.start[i - 1]),
				 (unsigned long long)spacing);
	/* Every run after the first was held back by the cap, not the window. */
	assert_true(d.capped >= 4);
	assert_int_equal(d.triggers, d.runs + d.coalesced + (d.pending ? 1 : 0));
	/* Even held back, within 100 ms of its burst's first event (10x: generous). */
	assert_true(d.max_delay_usec <= 10 * spacing);
	sd_event_source_disable_unref(r.gen);
	aff_debounce_done(&d);
	sd_event_unref(e);
}

/* ---- the service ------------------------------------------------------------ */

/* Point stderr (where log.h writes) at a file; restore and read it back. */
static FILE *capture_begin(int *saved)
{
	FILE *tmp = tmpfile();

	assert_non_null(tmp);
	fflush(stderr);
	*saved = dup(STDERR_FILENO);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	return tmp;
}

static const char *capture_end(FILE *tmp, int saved)
{
	static char buf[8192];
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

struct fake {
	struct affinity_live *l;
	unsigned calls;
	struct root root;
	struct aff_policy policy;
	bool apply;
};

static struct fake fake;

static int on_hotplug(sd_event_source *s, uint64_t usec, void *userdata)
{
	static const struct aff_live_event veth = { "net", "add", NULL, "/devices/virtual/net/veth0" };
	static const struct aff_live_event early = { "pci", "add", NULL, NULL };
	static const struct aff_live_event bind = { "pci", "bind", "mlx5_core", NULL };
	static const struct aff_live_event vf = { "net", "add", NULL, "/devices/pci0101:00/net/eth1" };
	struct affinity_live *l = userdata;

	(void)s;
	(void)usec;
	assert_false(affinity_live_event(l, &veth, "veth0"));
	assert_false(affinity_live_event(l, &early, "0101:00:00.0"));
	assert_true(affinity_live_event(l, &bind, "0101:00:00.0"));
	assert_true(affinity_live_event(l, &vf, "eth1"));
	assert_true(affinity_live_event(l, &vf, "eth1"));
	return 0;
}

/* Fails at start, then succeeds after a hotplug burst and ends the test. */
static int fake_replan(const struct root *r, const struct aff_policy *p, bool apply,
		       char *summary, size_t len)
{
	struct affinity_live *l = fake.l;

	fake.calls++;
	fake.root = *r;
	fake.policy = *p;
	fake.apply = apply;
	if (fake.calls == 1) {
		snprintf(summary, len, "cannot read %s/sys/bus/vmbus/devices/x/class_id: boom",
			 r->dir);
		/* The loop goes on: a hotplug burst comes after the failure. */
		assert_int_equal(sd_event_add_time_relative(l->debounce.event, NULL,
							    CLOCK_MONOTONIC, USEC_PER_MSEC, 1,
							    on_hotplug, l),
				 0);
		return -EIO;
	}
	snprintf(summary, len, "3 moves, 3 done, 0 skipped, 0 not written; NUMA-local score 100%%");
	sd_event_exit(l->debounce.event, 0);
	return 0;
}

static void test_failure_is_logged_and_the_loop_goes_on(void **state)
{
	struct aff_policy p = { .channels = true, .irqs = true, .xps = true, .rps = false };
	struct affinity_live l;
	sd_event *e = NULL;
	const char *log;
	struct root r;
	FILE *tmp;
	int saved;

	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.l = &l;
	assert_int_equal(root_init(&r, "/nonexistent/root"), 0);
	assert_int_equal(sd_event_new(&e), 0);
	tmp = capture_begin(&saved);
	/* No monitor: the events come from on_hotplug. */
	assert_int_equal(affinity_live_start(&l, e, &r, &p, WINDOW_MS, fake_replan, false), 0);
	assert_null(l.monitor);
	run_loop(e);
	log = capture_end(tmp, saved);

	assert_int_equal(fake.calls, 2);
	assert_string_equal(fake.root.dir, "/nonexistent/root");
	assert_true(fake.policy.channels && fake.policy.irqs && fake.policy.xps && !fake.policy.rps);
	assert_true(fake.apply);
	assert_int_equal(l.debounce.runs, 2);
	assert_int_equal(l.debounce.failures, 1);
	assert_int_equal(l.relevant, 3);
	assert_int_equal(l.ignored, 2);
	/* The failure at warning level with its reason, the success at info. */
	if (!strstr(log, "<4>affinity: placement after daemon start did not complete: cannot read "
			 "/nonexistent/root/sys/bus/vmbus/devices/x/class_id: boom\n") ||
	    !strstr(log, "<6>affinity: after pci bind 0101:00:00.0 and 2 more events: 3 moves, 3 "
			 "done, 0 skipped, 0 not written; NUMA-local score 100%\n"))
		fail_msg("log:\n%s", log);
	affinity_live_stop(&l);
	assert_false(timer_armed(&l.debounce));
	sd_event_unref(e);
}

/* A failure without a summary still says why. */
static int fake_replan_silent(const struct root *r, const struct aff_policy *p, bool apply,
			      char *summary, size_t len)
{
	(void)r;
	(void)p;
	(void)apply;
	(void)summary;
	(void)len;
	fake.calls++;
	sd_event_exit(fake.l->debounce.event, 0);
	return -ENOMEM;
}

static void test_failure_without_summary(void **state)
{
	struct aff_policy p = { 0 };
	struct affinity_live l;
	sd_event *e = NULL;
	const char *log;
	struct root r;
	FILE *tmp;
	int saved;

	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.l = &l;
	assert_int_equal(root_init(&r, "/nonexistent/root"), 0);
	assert_int_equal(sd_event_new(&e), 0);
	tmp = capture_begin(&saved);
	/* A debounce over the maximum is held to it. */
	assert_int_equal(affinity_live_start(&l, e, &r, &p, 5000, fake_replan_silent, false), 0);
	assert_int_equal(l.debounce.window_usec, AFF_LIVE_DEBOUNCE_MAX_MS * USEC_PER_MSEC);
	run_loop(e);
	log = capture_end(tmp, saved);
	assert_int_equal(fake.calls, 1);
	if (!strstr(log, "<4>affinity: placement after daemon start did not complete: Cannot allocate memory\n"))
		fail_msg("log:\n%s", log);
	affinity_live_stop(&l);
	sd_event_unref(e);
}

/* A device that never stops flapping, through the service: the cap, said once. */
static int on_flapping_vf(sd_event_source *s, uint64_t usec, void *userdata)
{
	static const struct aff_live_event unbind = { "pci", "unbind", "mlx5_core", NULL };
	struct affinity_live *l = userdata;

	assert_true(affinity_live_event(l, &unbind, "0101:00:00.0"));
	return sd_event_source_set_time(s, usec + USEC_PER_MSEC);
}

static int fake_replan_count(const struct root *r, const struct aff_policy *p, bool apply,
			     char *summary, size_t len)
{
	(void)r;
	(void)p;
	(void)apply;
	snprintf(summary, len, "0 moves");
	if (++fake.calls == 2 + AFF_LIVE_MAX_RUNS)
		sd_event_exit(fake.l->debounce.event, 0);
	return 0;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_flapping_device_is_capped_and_said_once(void **state)
{
	const uint64_t spacing = 1000 * USEC_PER_MSEC / AFF_LIVE_MAX_RUNS;
	struct aff_policy p = { 0 };
	sd_event_source *gen = NULL;
	struct affinity_live l;
	uint64_t t0, t1;
	sd_event *e = NULL;
	const char *log;
	struct root r;
	FILE *tmp;
	int saved;

	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.l = &l;
	assert_int_equal(root_init(&r, "/nonexistent/root"), 0);
	assert_int_equal(sd_event_new(&e), 0);
	tmp = capture_begin(&saved);
	assert_int_equal(affinity_live_start(&l, e, &r, &p, 1, fake_replan_count, false), 0);
	assert_int_equal(sd_event_add_time_relative(e, &gen, CLOCK_MONOTONIC, USEC_PER_MSEC, 1,
						    on_flapping_vf, &l),
			 0);
	assert_int_equal(sd_event_source_set_enabled(gen, SD_EVENT_ON), 0);
	t0 = now_of(e);
	run_loop(e);
	t1 = now_of(e);
	log = capture_end(tmp, saved);

	assert_int_equal(fake.calls, 2 + AFF_LIVE_MAX_RUNS);
	/* The start run, then one every 1/AFF_LIVE_MAX_RUNS s: never faster. */
	assert_true(t1 - t0 >= (1 + AFF_LIVE_MAX_RUNS) * spacing);
	printf("# %lu events became %lu runs in %.0f ms (cap %d/s); "
	       "worst first-event-to-run %.1f ms\n",
	       l.relevant, l.debounce.runs, (double)(t1 - t0) / 1000.0, AFF_LIVE_MAX_RUNS,
	       (double)l.debounce.max_delay_usec / 1000.0);
	assert_true(l.relevant > l.debounce.runs);
	if (count(log, "<5>affinity: hotplug events keep coming") != 1)
		fail_msg("log:\n%s", log);
	assert_int_equal(count(log, "<6>affinity: after pci unbind 0101:00:00.0 and "),
			 AFF_LIVE_MAX_RUNS + 1);
	sd_event_source_disable_unref(gen);
	affinity_live_stop(&l);
	sd_event_unref(e);
}

/* ---- sd-device glue ------------------------------------------------------------ */

/*
 * The monitor, fed by udev's wire format: what udevd multicasts after its
 * rules ran ("libudev" header, then KEY=value strings).  Sent in a network
 * namespace of the test's own, whose uevent multicast nobody else hears.
 * Not udevd itself: none runs here, and a real one would need devices to
 * come and go.
 */
struct udev_header {
	char prefix[8];
	uint32_t magic;
	uint32_t header_size;
	uint32_t properties_off;
	uint32_t properties_len;
	uint32_t filter_subsystem_hash;
	uint32_t filter_devtype_hash;
	uint32_t filter_tag_bloom_hi;
	uint32_t filter_tag_bloom_lo;
};

/* MurmurHash2, seed 0: udev's subsystem hash, which the monitor's BPF filter checks. */
static uint32_t murmur2(const char *s)
{
	const uint32_t m = 0x5bd1e995;
	size_t len = strlen(s);
	uint32_t h = (uint32_t)len;
	const unsigned char *d = (const unsigned char *)s;

	for (; len >= 4; d += 4, len -= 4) {
		uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
			     (uint32_t)d[3] << 24;

		k *= m;
		k ^= k >> 24;
		k *= m;
		h = h * m ^ k;
	}
	switch (len) {
	case 3:
		h ^= (uint32_t)d[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)d[1] << 8;
		/* fall through */
	case 1:
		h ^= d[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

static int send_uevent(int fd, const char *action, const char *devpath, const char *subsystem,
		       const char *driver)
{
	static unsigned long long seqnum = 1000;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_groups = 2 /* udev */ };
	struct udev_header h = { .prefix = "libudev" };
	char props[1024];
	struct iovec iov[2];
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov,
			      .msg_iovlen = 2 };
	int n;

	n = snprintf(props, sizeof(props), "ACTION=%s%cDEVPATH=%s%cSUBSYSTEM=%s%cSEQNUM=%llu%c",
		     action, 0, devpath, 0, subsystem, 0, ++seqnum, 0);
	if (driver)
		n += snprintf(props + n, sizeof(props) - (size_t)n, "DRIVER=%s%c", driver, 0);
	h.magic = htonl(0xfeedcafe);
	h.header_size = sizeof(h);
	h.properties_off = sizeof(h);
	h.properties_len = (uint32_t)n;
	h.filter_subsystem_hash = htonl(murmur2(subsystem));
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ props, (size_t)n };
	return sendmsg(fd, &msg, 0) < 0 ? -errno : 0;
}

/* sd-device subscribes to udev's group only where udevd runs or /dev is devtmpfs. */
static bool udev_group_subscribed(void)
{
	char line[1024];
	bool devtmpfs = false;
	FILE *f;

	if (access("/run/udev/control", F_OK) == 0)
		return true;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char mnt[256], *sep = strstr(line, " - ");

		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1 && strcmp(mnt, "/dev") == 0 &&
		    sep && strncmp(sep + 3, "devtmpfs ", 9) == 0)
			devtmpfs = true;
	}
	fclose(f);
	return devtmpfs;
}

static int glue_fd = -1;

static int fake_replan_glue(const struct root *r, const struct aff_policy *p, bool apply,
			    char *summary, size_t len)
{
	(void)r;
	(void)p;
	(void)apply;
	snprintf(summary, len, "ok");
	if (++fake.calls == 1) {
		/* After the start run: what a VF's return looks like, plus noise. */
		assert_int_equal(send_uevent(glue_fd, "add", "/devices/pci0101:00/0101:00:00.0",
					     "pci", NULL), 0);
		assert_int_equal(send_uevent(glue_fd, "add", "/devices/virtual/net/veth0", "net",
					     NULL), 0);
		assert_int_equal(send_uevent(glue_fd, "add", "/devices/x/block/sdb", "block", NULL),
				 0);
		assert_int_equal(send_uevent(glue_fd, "bind", "/devices/VMBUS:00/b6650ff7-0000",
					     "vmbus", "hv_utils"), 0);
		assert_int_equal(send_uevent(glue_fd, "bind", "/devices/pci0101:00/0101:00:00.0",
					     "pci", "mlx5_core"), 0);
		assert_int_equal(send_uevent(glue_fd, "add",
					     "/devices/pci0101:00/0101:00:00.0/net/eth1", "net",
					     NULL), 0);
		return 0;
	}
	sd_event_exit(fake.l->debounce.event, 0);
	return 0;
}

static void test_monitor_glue(void **state)
{
	struct aff_policy p = { 0 };
	struct affinity_live l;
	sd_event *e = NULL;
	const char *log;
	struct root r;
	FILE *tmp;
	int saved;

	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("# SKIP monitor glue: needs root for a private network namespace\n");
		skip();
	}
	if (!udev_group_subscribed()) {
		printf("# SKIP monitor glue: no udevd and /dev is not devtmpfs: "
		       "sd-device listens to nothing\n");
		skip();
	}
	glue_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	assert_true(glue_fd >= 0);
	memset(&fake, 0, sizeof(fake));
	fake.l = &l;
	assert_int_equal(root_init(&r, "/nonexistent/root"), 0);
	assert_int_equal(sd_event_new(&e), 0);
	tmp = capture_begin(&saved);
	assert_int_equal(affinity_live_start(&l, e, &r, &p, AFF_LIVE_DEBOUNCE_MAX_MS,
					     fake_replan_glue, true), 0);
	assert_non_null(l.monitor);
	run_loop(e);
	log = capture_end(tmp, saved);

	assert_int_equal(fake.calls, 2);
	/* block never reaches us (subsystem filter); pci add, veth and hv_utils are ignored. */
	assert_int_equal(l.relevant, 2);
	assert_int_equal(l.ignored, 3);
	if (!strstr(log, "<6>affinity: after pci bind 0101:00:00.0 and 1 more event: ok\n"))
		fail_msg("log:\n%s", log);
	affinity_live_stop(&l);
	assert_null(l.monitor);
	sd_event_unref(e);
	close(glue_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classifier_table),
		cmocka_unit_test(test_burst_is_one_run),
		cmocka_unit_test(test_spread_burst_is_one_run),
		cmocka_unit_test(test_events_after_a_run_make_another),
		cmocka_unit_test(test_rate_cap),
		cmocka_unit_test(test_failure_is_logged_and_the_loop_goes_on),
		cmocka_unit_test(test_failure_without_summary),
		cmocka_unit_test(test_flapping_device_is_capped_and_said_once),
		cmocka_unit_test(test_monitor_glue),
	};

	/* Priority prefixes in the log (as under systemd), so levels can be asserted. */
	setenv("JOURNAL_STREAM", "8:1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
