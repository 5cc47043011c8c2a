// SPDX-License-Identifier: MIT
/*
 * `azl-agent daemon`: the long-running services on one sd-event loop: the
 * KVP exchange, interrupt placement (at start and after hotplug,
 * affinity_live.h) and our kernel modules' policy and events
 * (kmod_service.h).  Started through a link named hv_kvp_daemon it is a
 * drop-in for the kernel tree's daemon of that name: same options, same
 * process name, the KVP service only; with --agent (an option upstream
 * does not have) it runs every service under that name, which is how
 * azl-agent.service runs: Microsoft's image validation wants exactly one
 * process named hv_kvp_daemon, and it must be the one holding the KVP
 * device (research/lisa.md §1 K1), so the whole daemon takes that name.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "affinity.h"
#include "affinity_live.h"
#include "commands.h"
#include "config.h"
#include "kmod_service.h"
#include "kvp_service.h"
#include "log.h"

struct daemon_options {
	bool debug;
	bool foreground;
	bool affinity;      /* not as hv_kvp_daemon, and the root is one we may write */
	bool kmods;         /* not as hv_kvp_daemon, and the live system (its kernel) */
	bool agent;         /* hv_kvp_daemon --agent: every service, as `daemon` */
	const char *config;
};

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	(void)userdata;
	log_info("daemon: %s, stopping", strsignal((int)si->ssi_signo));
	return sd_event_exit(sd_event_source_get_event(src), 0);
}

/* What SIGHUP needs: where the configuration is, and whom to tell. */
struct reload_ctx {
	const struct root *root;
	const char *config;
	struct kmod_service *kms;
};

/*
 * SIGHUP re-reads the configuration for the kernel modules' policy
 * ([modules]); a file that does not parse is logged and changes nothing.
 * The other services keep the configuration they started with.
 */
static int on_reload(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct reload_ctx *ctx = userdata;
	struct agent_config cfg;
	char err[512];

	(void)src;
	(void)si;
	sd_notify(0, "RELOADING=1");
	if (config_load(ctx->root, ctx->config, &cfg, err, sizeof(err)) < 0)
		log_error("daemon: reload: %s; nothing changed", err);
	else if (ctx->kms)
		kmod_service_reload(ctx->kms, ctx->root, &cfg);
	sd_notify(0, "READY=1");
	return 0;
}

/*
 * Interrupt placement beside KVP.  Nothing here may stop the daemon: a
 * failure to start it is logged and KVP goes on alone.
 */
static struct affinity_live *start_affinity(sd_event *e, const struct root *r,
					    const struct agent_config *cfg)
{
	struct affinity_live *l;
	struct aff_policy p;
	int ret;

	aff_policy_from_config(cfg, &p);
	if (!cfg->affinity.enabled) {
		log_notice("daemon: interrupt placement is off ([affinity] enabled = no)");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	ret = l ? affinity_live_start(l, e, r, &p, cfg->affinity.debounce_ms, affinity_run_once,
				      cfg->affinity.live)
		: -ENOMEM;
	if (ret < 0) {
		log_warning("daemon: interrupt placement not started: %s", strerror(-ret));
		free(l);
		return NULL;
	}
	if (!cfg->affinity.live)
		log_notice("daemon: interrupts are placed at start only ([affinity] live = no)");
	return l;
}

/* The loop: config, services, READY, run until SIGTERM or SIGINT. */
static int run_daemon(const struct root *r, const struct daemon_options *o)
{
	sd_event *e = NULL;
	struct agent_config cfg;
	struct kvp_service *kvp = NULL;
	struct affinity_live *aff = NULL;
	struct kmod_service *kms = NULL;
	struct reload_ctx reload = { r, o->config, NULL };
	char err[512];
	sigset_t mask;
	int ret;

	log_set_debug(o->debug);
	/*
	 * One malloc arena: the only other thread is glibc's name-lookup
	 * worker, and an arena of its own would cost more memory than the
	 * whole pool index of a large pool.
	 */
	mallopt(M_ARENA_MAX, 1);
	if (config_load(r, o->config, &cfg, err, sizeof(err)) < 0) {
		log_error("daemon: %s", err);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ret = sd_event_default(&e);
	if (ret >= 0)
		ret = sd_event_add_signal(e, NULL, SIGTERM, on_signal, NULL);
	if (ret >= 0)
		ret = sd_event_add_signal(e, NULL, SIGINT, on_signal, NULL);
	if (ret >= 0)
		ret = sd_event_set_watchdog(e, true);
	if (ret >= 0 && cfg.kvp.enabled) {
		kvp = calloc(1, sizeof(*kvp));
		ret = kvp ? kvp_service_start(kvp, e, r, &cfg) : -ENOMEM;
	} else if (ret >= 0) {
		log_notice("daemon: the KVP service is off ([kvp] enabled = no)");
	}
	if (ret >= 0 && o->affinity)
		aff = start_affinity(e, r, &cfg);
	if (ret >= 0 && o->kmods) {
		kms = calloc(1, sizeof(*kms));
		/* live = no: placed at start only, whatever the modules say later. */
		ret = kms ? kmod_service_start(kms, e, r, &cfg, cfg.affinity.live ? aff : NULL)
			  : -ENOMEM;
		reload.kms = kms;
	}
	if (ret >= 0)
		ret = sd_event_add_signal(e, NULL, SIGHUP, on_reload, &reload);
	if (ret < 0) {
		log_error("daemon: cannot start: %s", strerror(-ret));
	} else {
		/* Which services run: `hv_kvp_daemon` alone is KVP only. */
		log_info("daemon: running %s%s%s%s%s%s", kvp ? "KVP" : "",
			 kvp && aff ? ", " : "", aff ? "interrupt placement" : "",
			 (kvp || aff) && kms ? ", " : "", kms ? "module policy" : "",
			 kvp || aff || kms ? "" : "no service (all off in the configuration)");
		sd_notify(0, "READY=1");
		ret = sd_event_loop(e);
		sd_notify(0, "STOPPING=1");
	}
	if (kms)
		kmod_service_stop(kms);
	free(kms);
	if (aff)
		affinity_live_stop(aff);
	free(aff);
	if (kvp)
		kvp_service_stop(kvp);
	free(kvp);
	sd_event_unref(e);
	return ret < 0 ? 1 : 0;
}

static void daemon_usage(FILE *out, const char *name)
{
	bool hv = strcmp(name, "hv_kvp_daemon") == 0;

	fprintf(out,
		"usage: %s [OPTIONS]\n"
		"\n"
		"%s.\n"
		"\n"
		"  -n, --no-daemon   stay in the foreground%s\n"
		"  -d, --debug       log every request\n"
		"      --config FILE read FILE instead of /etc/azl-agent.conf and its .conf.d\n"
		"%s"
		"  -h, --help        this text\n",
		name,
		hv ? "The Hyper-V KVP exchange of azl-agent (a drop-in for hv_kvp_daemon)"
		   : "The services of azl-agent: the Hyper-V KVP exchange, interrupt\n"
		     "placement (at start and after hotplug; [affinity] in the configuration)\n"
		     "and the policy of the azl_* kernel modules ([modules])",
		hv ? "" : " (always; accepted for compatibility)",
		hv ? "      --agent       every service of `azl-agent daemon` (KVP, interrupt\n"
		     "                    placement, module policy) in this one process: image\n"
		     "                    validation wants exactly one process of this name, the\n"
		     "                    one holding /dev/vmbus/hv_kvp (azl-agent.service)\n"
		   : "");
}

static int parse_daemon_options(int argc, char **argv, const char *name, struct daemon_options *o)
{
	static const struct option longopts[] = {
		{ "no-daemon", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "agent", no_argument, NULL, 'a' },
		{ 0 },
	};
	bool hv = strcmp(name, "hv_kvp_daemon") == 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ndh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->foreground = true;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'a':
			/* Only the drop-in has it: `daemon` runs everything anyway. */
			if (!hv) {
				fprintf(stderr, "%s: --agent is an option of hv_kvp_daemon "
					"(%s runs every service without it)\n", name, name);
				return -EINVAL;
			}
			o->agent = true;
			break;
		case 'h':
			daemon_usage(stdout, name);
			exit(0);
		default:
			daemon_usage(stderr, name);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/*
 * Which services beside KVP: the same answer for `daemon` and for
 * `hv_kvp_daemon --agent`.  explicit_root: a --root given on purpose.
 */
static void full_services(const struct root *r, bool explicit_root, struct daemon_options *o)
{
	/*
	 * Placement writes what it plans: into the live system, or into a
	 * tree named on purpose with --root (tests).  A prefix that only came
	 * along in the environment (AZL_ROOT) is for reading.
	 */
	o->affinity = root_is_live(r) || explicit_root;
	/* The modules are the running kernel's: a tree of files has none. */
	o->kmods = root_is_live(r);
	if (!o->affinity)
		log_notice("daemon: no interrupt placement under AZL_ROOT=%s "
			   "(give --root to place there)", root_name(r));
}

int cmd_daemon(const struct global_options *g, int argc, char **argv)
{
	struct daemon_options o = { .foreground = true };
	struct root r;

	if (parse_daemon_options(argc, argv, "azl-agent daemon", &o) < 0)
		return 2;
	o.foreground = true; /* systemd runs it; forking is the link's business */
	if (root_init(&r, g->root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return 2;
	}
	full_services(&r, g->root && *g->root, &o);
	return run_daemon(&r, &o);
}

/*
 * As hv_kvp_daemon: without -n, detach like the original (daemon(3): the
 * parent exits, so exactly one process of that name remains).
 */
int hv_kvp_daemon_main(int argc, char **argv)
{
	struct daemon_options o = { 0 };
	struct root r;

	if (parse_daemon_options(argc, argv, "hv_kvp_daemon", &o) < 0)
		return EXIT_FAILURE;
	if (root_init(&r, NULL) < 0) {
		fprintf(stderr, "hv_kvp_daemon: root prefix too long\n");
		return EXIT_FAILURE;
	}
	/* The drop-in has no --root: only AZL_ROOT (tests) can move it. */
	if (o.agent)
		full_services(&r, false, &o);
	if (!o.foreground) {
		if (daemon(1, 0) < 0) {
			perror("hv_kvp_daemon: daemon");
			return EXIT_FAILURE;
		}
		log_to_syslog("KVP");
	}
	return run_daemon(&r, &o);
}
