// SPDX-License-Identifier: MIT
/*
 * First-boot provisioning: sources → plan → actions → reports → marker.
 * Each step is printed with the time since the start; a failure at any
 * step is reported (KVP, then the wireserver) with its reason, and no
 * marker is written, so the next run does the whole job again.
 */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "facts.h"
#include "fileio.h"
#include "imds.h"
#include "log.h"
#include "ovf.h"
#include "provision.h"
#include "provision_actions.h"
#include "provision_plan.h"
#include "provisioning_report.h"
#include "sysfile.h"
#include "util.h"
#include "vmid.h"
#include "warnings.h"
#include "wireserver.h"

#define STATE_DIR "lib/azl-agent"
#define AGENT_NAME "azl-agent/" AZL_VERSION

#ifndef AZL_VERSION
#define AZL_VERSION "0.1.0"
#endif

/*
 * SIGTERM or SIGINT (systemd stopping a run that took too long): the one
 * piece of process-wide state, as a signal handler can only set a flag.
 * IMDS and the wireserver loops watch it; the run then reports failure
 * with one short attempt instead of vanishing without a word.
 */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART: sleeps end */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* After a stop request, the failure report gets this long, once. */
#define STOPPING_REPORT_MS 5000u

struct run {
	const struct root *r;
	const struct agent_config *cfg;
	const struct provision_options *o;
	FILE *out;
	uint64_t t0;
	char vm_id_dmi[37];
	char vm_id_dmi_swapped[37]; /* the other byte order, if the generation guess was wrong */
	struct imds_instance imds;
	bool have_imds;
	struct ovf_env ovf;
	bool have_ovf;
	char media[128];     /* the media device, "" if none */
	struct provision_plan plan;
	const char *step;    /* what was being done when it failed */
	char err[512];
};

/* One line per step: the time since the start, then what happened. */
static void say(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *run, const char *fmt, ...)
{
	va_list ap;
	char line[2048];

	if (run->o->dry_run && run->o->json)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Under systemd this is the journal: strerror() texts in other words. */
	log_reword_libc_texts(line, sizeof(line));
	fprintf(run->out, "[%7.1f ms] %s\n", (double)(monotonic_usec() - run->t0) / 1000.0, line);
	fflush(run->out);
}

/*
 * Tests kill the agent at a step boundary to prove that the next run
 * completes the job (tests/provision/): AZL_TEST_CRASH_AFTER=<step>.
 */
static void crash_point(const char *step)
{
	const char *at = getenv("AZL_TEST_CRASH_AFTER");

	if (at && strcmp(at, step) == 0)
		raise(SIGKILL);
}

static int state_path(const struct run *run, char *buf, size_t len, const char *name)
{
	return root_path(run->r, ROOT_VAR, buf, len, STATE_DIR "/%s", name);
}

static void iso_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ld+00:00", ts.tv_nsec / 1000);
}

static void read_dmi_vm_id(struct run *run)
{
	struct platform_facts p;
	struct warnings w = { 0 };

	facts_platform(run->r, &p, &w);
	warnings_free(&w);
	snprintf(run->vm_id_dmi, sizeof(run->vm_id_dmi), "%s", p.vm_id);
	if (p.product_uuid[0] &&
	    vmid_from_product_uuid(p.product_uuid, p.generation != 1, run->vm_id_dmi_swapped) < 0)
		run->vm_id_dmi_swapped[0] = '\0';
}

/* "<vmId>.provisioned"; "unknown" stands for a VM nothing identifies. */
static void marker_name(const char *vm_id, char *buf, size_t len)
{
	snprintf(buf, len, "%s.provisioned", vm_id && vm_id[0] ? vm_id : "unknown");
}

static bool marker_exists(const struct run *run, const char *vm_id)
{
	char name[64], path[512];

	marker_name(vm_id, name, sizeof(name));
	return state_path(run, path, sizeof(path), name) == 0 && access(path, F_OK) == 0;
}

/*
 * Before any network: is this VM provisioned already?  By its DMI vmId (in
 * either byte order): write_marker() leaves a marker under the DMI vmId
 * too when IMDS named the VM differently.  A stale IMDS cache of the VM an
 * image was captured from must never count: that would skip provisioning
 * of every VM made from the image.
 */
static const char *provisioned_as(const struct run *run)
{
	const char *ids[] = { run->vm_id_dmi, run->vm_id_dmi_swapped };

	for (size_t i = 0; i < ELEMENTSOF(ids); i++)
		if (ids[i][0] && marker_exists(run, ids[i]))
			return ids[i];
	return NULL;
}

/*
 * /var/lib/azl-agent is 0700: the redacted OVF copy, CustomData and the
 * IMDS cache are for root only (research/provisioning.md §7.5).
 */
static int ensure_state_dir(struct run *run)
{
	char path[512];
	int ret;

	if (root_path(run->r, ROOT_VAR, path, sizeof(path), STATE_DIR) < 0)
		return -ENAMETOOLONG;
	ret = mkdir_p(path, 0700);
	if (ret == 0 && chmod(path, 0700) < 0)
		ret = -errno;
	return ret;
}

/* Fail the run at the current step with a reason (kept for the reports). */
static int fail(struct run *run, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct run *run, const char *step, const char *fmt, ...)
{
	char msg[sizeof(run->err)];
	va_list ap;

	/* The reason may be run->err itself: format aside, then copy. */
	run->step = step;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(run->err, msg, sizeof(msg));
	say(run, "%s did not complete: %s", step, run->err);
	return -1;
}

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	int ret = read_all(path, buf, len);

	if (ret < 0)
		snprintf(err, errlen, "%.300s: %s", path, strerror(-ret));
	return ret;
}

/*
 * The redacted copy keeps the non-secret data for a run after a reboot.
 * It is named by the DMI vmId, so an image captured without deprovision
 * never hands one VM's administrator to another.
 */
static int copy_path(const struct run *run, char *path, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "ovf-env-%s.xml", run->vm_id_dmi[0] ? run->vm_id_dmi : "unknown");
	return state_path(run, path, len, name);
}

static void save_redacted(struct run *run, const char *xml, size_t len)
{
	_cleanup_free_ char *copy = NULL;
	char path[512];
	size_t n;

	if (ovf_redact(xml, len, &copy, &n) < 0 || copy_path(run, path, sizeof(path)) < 0 ||
	    write_file_atomic(path, copy, n, 0600) < 0)
		log_warning("provision: could not keep a redacted copy of ovf-env.xml");
}

/* Where ovf-env.xml comes from: --ovf, the media, or the copy of an earlier run. */
static int load_ovf_xml(struct run *run, char **xml, size_t *len, bool *from_copy)
{
	char path[512];
	int ret;

	*from_copy = false;
	if (run->o->ovf_file)
		return read_file(run->o->ovf_file, xml, len, run->err, sizeof(run->err));
	if (!run->cfg->provision.media)
		return -ENOENT;
	ret = ovf_media_read(run->r, xml, len, run->media, sizeof(run->media), run->err,
			     sizeof(run->err));
	if (ret != -ENOENT)
		return ret;
	if (copy_path(run, path, sizeof(path)) < 0 || access(path, F_OK) < 0)
		return -ENOENT;
	*from_copy = true;
	return read_file(path, xml, len, run->err, sizeof(run->err));
}

/* A buffer that holds the password: wiped, all of it, before it is freed. */
struct secret {
	char *p;
	size_t len;
};

static void secret_wipe(struct secret *s)
{
	if (s->p)
		explicit_bzero(s->p, s->len);
	free(s->p);
}

static int read_ovf(struct run *run)
{
	_cleanup_(secret_wipe) struct secret doc = { 0 };
	bool from_copy;
	int ret = load_ovf_xml(run, &doc.p, &doc.len, &from_copy);
	const char *xml;
	size_t len;

	if (ret == -ENOENT) {
		say(run, "ovf: no provisioning media");
		return 0;
	}
	if (ret < 0)
		return fail(run, "ovf", "%s", run->err);
	xml = doc.p;
	len = doc.len;
	ret = ovf_parse(xml, len, &run->ovf, run->err, sizeof(run->err));
	if (ret < 0)
		return fail(run, "ovf", "%s", run->err);
	run->have_ovf = true;
	if (from_copy) {
		/* The copy has no password: it was redacted. */
		free(run->ovf.password);
		run->ovf.password = NULL;
	} else if (!run->o->ovf_file && !run->o->dry_run) {
		save_redacted(run, xml, len);
	}
	say(run, "ovf: read from %s", run->o->ovf_file ? run->o->ovf_file :
					from_copy ? "the copy of an earlier run" : run->media);
	return 0;
}

static void cache_imds(struct run *run)
{
	char path[512];

	if (!run->imds.compute_json || run->o->dry_run ||
	    state_path(run, path, sizeof(path), "imds-compute.json") < 0 ||
	    write_file_atomic(path, run->imds.compute_json, strlen(run->imds.compute_json), 0600) < 0)
		return;
}

static int read_imds(struct run *run)
{
	struct imds_options opts = {
		.base_url = run->cfg->provision.imds_url,
		.budget_ms = run->cfg->provision.imds_budget_s * 1000,
		.retry_ms = run->cfg->provision.retry_ms,
		.stop = &stop_requested,
	};
	_cleanup_free_ char *json = NULL;
	size_t len;
	int ret;

	if (run->o->imds_file) {
		ret = read_file(run->o->imds_file, &json, &len, run->err, sizeof(run->err));
		if (ret == 0)
			ret = imds_parse(json, len, &run->imds, run->err, sizeof(run->err));
	} else {
		ret = imds_fetch(&opts, &run->imds, run->err, sizeof(run->err));
	}
	if (ret < 0 && !run->have_ovf)
		return fail(run, "imds", "%s", run->err);
	if (ret < 0) {
		say(run, "imds: %s; going on with the OVF media alone", run->err);
		return 0;
	}
	run->have_imds = true;
	cache_imds(run);
	say(run, "imds: vmId %s, size %s", run->imds.vm_id[0] ? run->imds.vm_id : "?",
	    run->imds.vm_size ? run->imds.vm_size : "?");
	return 0;
}

/* DMI and IMDS should agree on the vmId (in either byte order, as WALA accepts). */
static void cross_check_vm_id(struct run *run)
{
	if (!run->vm_id_dmi[0] || !run->imds.vm_id[0] || strcmp(run->vm_id_dmi, run->imds.vm_id) == 0 ||
	    strcmp(run->vm_id_dmi_swapped, run->imds.vm_id) == 0)
		return;
	log_warning("provision: DMI says vmId %s, IMDS says %s; using IMDS", run->vm_id_dmi,
		    run->imds.vm_id);
	say(run, "vmId: DMI %s and IMDS %s differ; using IMDS", run->vm_id_dmi, run->imds.vm_id);
}

/* The actions, in the order that makes a half-done run harmless. */
static int apply_plan(struct run *run)
{
	const struct provision_plan *p = &run->plan;
	char *err = run->err, home[512];
	size_t errlen = sizeof(run->err);

	if (p->hostname) {
		if (action_set_hostname(run->r, p->hostname, err, errlen) < 0)
			return fail(run, "hostname", "%s", err);
		say(run, "host name %s", p->hostname);
	}
	crash_point("hostname");
	if (action_ensure_user(run->r, p->username, p->groups, err, errlen) < 0)
		return fail(run, "user", "%s", err);
	say(run, "user %s (groups %s)", p->username, p->groups);
	crash_point("user");
	if (action_sudoers(run->r, p->username, p->sudo_nopasswd, err, errlen) < 0)
		return fail(run, "sudoers", "%s", err);
	if (p->password && action_set_password(run->r, p->username, p->password, err, errlen) < 0)
		return fail(run, "password", "%s", err);
	if (action_authorized_keys(run->r, p->username, (char *const *)p->keys, p->n_keys, err,
				   errlen) < 0)
		return fail(run, "ssh-keys", "%s", err);
	if (action_sshd_password_auth(run->r, p->ssh_password_auth, err, errlen) < 0)
		return fail(run, "sshd", "%s", err);
	say(run, "sudo, %s, %zu ssh key(s), ssh password login %s",
	    p->password ? "password set" : "no password", p->n_keys,
	    p->ssh_password_auth ? "allowed" : "refused");
	if (p->custom_data && action_save_custom_data(run->r, p->custom_data, err, errlen) < 0)
		return fail(run, "custom-data", "%s", err);
	if (p->user_data && action_save_user_data(run->r, p->user_data, err, errlen) < 0)
		return fail(run, "user-data", "%s", err);
	if (snprintf(home, sizeof(home), "/home/%s", p->username) < (int)sizeof(home))
		action_restorecon(run->r, home);
	return 0;
}

/*
 * The resource disk, at every boot and after Ready: it comes back blank or
 * NTFS after a deallocation of a VM that stays provisioned, and formatting
 * it must not delay the ready report.  It never fails provisioning: a VM
 * without one is fine.
 */
static void resource_disk(struct run *run)
{
	char err[256] = "";
	int ret;

	if (!run->cfg->resource_disk.enabled || run->o->dry_run)
		return;
	ret = action_resource_disk(run->r, run->cfg, err, sizeof(err));
	if (ret < 0 && ret != -ENOENT)
		log_warning("provision: resource disk: %s", err);
	say(run, "resource disk: %s", ret == 0 ? "ready" : ret == -ENOENT ? "none" : err);
}

/* The KVP report first (the host sees it even without the wireserver), then health. */
static int report(struct run *run, bool success)
{
	struct wireserver_options opts = {
		.base_url = run->cfg->provision.wireserver_url,
		.agent_name = AGENT_NAME,
		.budget_ms = run->cfg->provision.report_budget_s * 1000,
		.retry_ms = run->cfg->provision.retry_ms,
		.stop = &stop_requested,
	};
	struct report_kv extra[] = { { "step", run->step } };
	_cleanup_free_ char *value = NULL;
	char when[40], err[256];
	const char *via = "?";
	int ret;

	if (stop_requested) {
		/* Stopping: one short attempt, not the whole budget. */
		opts.stop = NULL;
		if (opts.budget_ms > STOPPING_REPORT_MS)
			opts.budget_ms = STOPPING_REPORT_MS;
	}
	iso_now(when, sizeof(when));
	value = provisioning_report_encode(success, success ? NULL : run->err, extra,
					   success ? 0 : ELEMENTSOF(extra),
					   run->plan.vm_id[0] ? run->plan.vm_id : run->vm_id_dmi, when);
	if (!value)
		return -ENOMEM;
	ret = provisioning_report_write(run->r, value);
	if (ret < 0)
		log_warning("provision: KVP report: %s", strerror(-ret));
	else
		say(run, "reported %s in KVP (PROVISIONING_REPORT)", success ? "success" : "the problem");
	crash_point("kvp-report");
	ret = wireserver_report(&opts, success, success ? "" : value, &via, err, sizeof(err));
	if (ret < 0) {
		log_error("provision: the wireserver did not take the %s report: %s",
			  success ? "ready" : "not-ready", err);
		say(run, "wireserver: %s", err);
		return ret;
	}
	say(run, "reported %s to the wireserver (%s)", success ? "Ready" : "NotReady", via);
	return 0;
}

/* `provisioned` pointing at the marker (what `status` reads), replaced atomically. */
static int link_marker(struct run *run, const char *vm_id)
{
	char name[64], link[512], tmp[520];

	marker_name(vm_id, name, sizeof(name));
	if (state_path(run, link, sizeof(link), "provisioned") < 0)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.new", link);
	unlink(tmp);
	if (symlink(name, tmp) < 0 || rename(tmp, link) < 0)
		return -errno;
	return 0;
}

static int write_marker_file(struct run *run, const char *vm_id, const char *line)
{
	char name[64], path[512];

	marker_name(vm_id, name, sizeof(name));
	if (state_path(run, path, sizeof(path), name) < 0)
		return -ENAMETOOLONG;
	return write_file_atomic(path, line, strlen(line), 0644);
}

/*
 * <vmId>.provisioned (IMDS's vmId), then the link to it.  When DMI named
 * the VM differently, a marker under the DMI vmId too, so the next boot
 * knows without asking IMDS.
 */
static int write_marker(struct run *run)
{
	char when[40], line[48];
	int ret;

	iso_now(when, sizeof(when));
	snprintf(line, sizeof(line), "%s\n", when);
	ret = write_marker_file(run, run->plan.vm_id, line);
	if (ret == 0 && run->vm_id_dmi[0] && strcmp(run->vm_id_dmi, run->plan.vm_id) != 0 &&
	    strcmp(run->vm_id_dmi_swapped, run->plan.vm_id) != 0)
		ret = write_marker_file(run, run->vm_id_dmi, line);
	return ret < 0 ? ret : link_marker(run, run->plan.vm_id);
}

static int gather(struct run *run)
{
	read_dmi_vm_id(run);
	if (read_ovf(run) < 0 || read_imds(run) < 0)
		return -1;
	cross_check_vm_id(run);
	if (provision_merge(run->have_imds ? &run->imds : NULL, run->have_ovf ? &run->ovf : NULL,
			    run->cfg, run->vm_id_dmi, &run->plan, run->err, sizeof(run->err)) < 0)
		return fail(run, "merge", "%s", run->err);
	return 0;
}

static int print_plan(struct run *run)
{
	if (run->o->json) {
		struct json_object *j = provision_plan_json(&run->plan);

		fprintf(run->out, "%s\n",
			json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		provision_plan_print(&run->plan, run->out);
	}
	return 0;
}

static void run_free(struct run *run)
{
	imds_instance_free(&run->imds);
	ovf_env_free(&run->ovf);
}

int provision_run(const struct root *r, const struct agent_config *cfg,
		  const struct provision_options *o, FILE *out)
{
	struct run run = { .r = r, .cfg = cfg, .o = o, .out = out, .t0 = monotonic_usec() };
	int ret = 1;

	run.imds.disable_password_auth = -1;
	run.ovf.disable_ssh_password_auth = -1;
	/* A core dump would hold the OVF password. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (!o->dry_run)
		catch_stop_signals();
	read_dmi_vm_id(&run);
	if (!o->dry_run && provisioned_as(&run)) {
		const char *id = provisioned_as(&run);

		link_marker(&run, id); /* a kill between marker and link left none */
		say(&run, "already provisioned (vmId %s)", id);
		resource_disk(&run);
		return 0;
	}
	if (!o->dry_run && ensure_state_dir(&run) < 0)
		log_warning("provision: cannot create the state directory");
	if (gather(&run) < 0) {
		ret = o->dry_run ? 2 : (report(&run, false), 1);
		goto out;
	}
	if (o->dry_run) {
		ret = print_plan(&run);
		goto out;
	}
	if (marker_exists(&run, run.plan.vm_id)) {
		link_marker(&run, run.plan.vm_id);
		say(&run, "already provisioned (vmId %s)", run.plan.vm_id);
		resource_disk(&run);
		ret = 0;
		goto out;
	}
	if (apply_plan(&run) < 0 ||
	    (stop_requested && fail(&run, "stopped", "the agent was asked to stop") < 0)) {
		report(&run, false);
		goto out;
	}
	if (report(&run, true) < 0)
		goto out;
	crash_point("report");
	ret = write_marker(&run);
	if (ret < 0) {
		log_error("provision: could not write the marker: %s", strerror(-ret));
		ret = 1;
		goto out;
	}
	say(&run, "provisioned (vmId %s)", run.plan.vm_id);
	if (run.media[0] && cfg->provision.eject_media && ovf_media_eject(run.media) < 0)
		log_warning("provision: could not eject %s", run.media);
	resource_disk(&run);
	ret = 0;
out:
	run_free(&run);
	return ret;
}

/* ---- deprovision: prepare an image for capture ------------------------- */

struct victim {
	enum root_dir dir;
	const char *pattern; /* a glob under dir */
	const char *why;
};

static const struct victim victims[] = {
	{ ROOT_VAR, STATE_DIR "/*.provisioned", "provisioning markers" },
	{ ROOT_VAR, STATE_DIR "/provisioned", "provisioning marker link" },
	{ ROOT_VAR, STATE_DIR "/imds-compute.json", "IMDS cache" },
	{ ROOT_VAR, STATE_DIR "/ovf-env-*.xml", "redacted ovf-env.xml copies" },
	{ ROOT_VAR, STATE_DIR "/CustomData", "CustomData" },
	{ ROOT_VAR, STATE_DIR "/UserData", "IMDS userData" },
	{ ROOT_VAR, "lib/hyperv/.kvp_pool_*", "KVP pools (stale host data)" },
	{ ROOT_VAR, "lib/hyperv/.azl_kvp_journal_*", "KVP journals" },
	{ ROOT_ETC, "ssh/ssh_host_*", "SSH host keys" },
	{ ROOT_ETC, "ssh/sshd_config.d/50-azl-agent.conf", "sshd drop-in" },
};

static int remove_glob(const struct root *r, const struct victim *v, bool dry_run, FILE *out)
{
	char pattern[512];
	glob_t g;
	int ret = 0;

	if (root_path(r, v->dir, pattern, sizeof(pattern), "%s", v->pattern) < 0)
		return -ENAMETOOLONG;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		fprintf(out, "%s %s  (%s)\n", dry_run ? "would remove" : "removed", g.gl_pathv[i], v->why);
		if (!dry_run && unlink(g.gl_pathv[i]) < 0 && errno != ENOENT)
			ret = -errno;
	}
	globfree(&g);
	return ret;
}

int deprovision_run(const struct root *r, const struct agent_config *cfg,
		    const struct deprovision_options *o, FILE *out)
{
	int ret = 0;

	(void)cfg;
	for (size_t i = 0; i < ELEMENTSOF(victims); i++)
		if (remove_glob(r, &victims[i], o->dry_run, out) < 0)
			ret = 1;
	if (o->user) {
		char err[256];

		fprintf(out, "%s user %s, its home and its sudoers drop-in\n",
			o->dry_run ? "would remove" : "removed", o->user);
		if (!o->dry_run && action_remove_user(r, o->user, err, sizeof(err)) < 0) {
			fprintf(stderr, "azl-agent: %s\n", err);
			ret = 1;
		}
	}
	return ret;
}
