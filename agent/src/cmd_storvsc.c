// SPDX-License-Identifier: MIT
/*
 * azl-agent storvsc show|set|unset: read and push the disk policy of the
 * azl_storvsc kernel module (kmod/include/uapi/azl_storvsc.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <azl_storvsc.h>

#include "cli.h"
#include "commands.h"
#include "sysfile.h"
#include "kmod_storvsc.h"
#include "util.h"

static void storvsc_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent storvsc show [--json]\n"
		"       azl-agent storvsc set [--host H [--lun L]] [--timeout S]\n"
		"                             [--eh-timeout S] [--queue-depth N]\n"
		"       azl-agent storvsc unset --host H [--lun L]\n"
		"\n"
		"Without --host, set changes the default for every disk; with --host,\n"
		"a rule for that SCSI controller; with --lun too, for one LUN.  A knob\n"
		"of 0 keeps the kernel's own value.  Changes reach existing disks at once.\n"
		"Exit status: 0 done, 1 the module refused, 2 usage, 3 not loaded.\n");
}

struct storvsc_args {
	const char *verb;
	struct storvsc_rule rule;
	bool json;
};

static int parse_storvsc_option(int c, struct storvsc_args *a)
{
	struct storvsc_rule *r = &a->rule;
	unsigned long long v;

	switch (c) {
	case 'H':
		if (cli_option_number(optarg, UINT32_MAX, "host", &v) < 0)
			return -EINVAL;
		r->has_host = true;
		r->host = (uint32_t)v;
		return 0;
	case 'L':
		if (cli_option_number(optarg, UINT64_MAX, "lun", &v) < 0)
			return -EINVAL;
		r->has_lun = true;
		r->lun = v;
		return 0;
	case 't':
		r->mask |= STORVSC_KNOB_TIMEOUT;
		return cli_option_u32(optarg, AZL_STORVSC_TIMEOUT_MAX, "timeout", &r->knobs.timeout);
	case 'e':
		r->mask |= STORVSC_KNOB_EH_TIMEOUT;
		return cli_option_u32(optarg, AZL_STORVSC_EH_TIMEOUT_MAX, "eh-timeout", &r->knobs.eh_timeout);
	case 'q':
		r->mask |= STORVSC_KNOB_QUEUE_DEPTH;
		return cli_option_u32(optarg, AZL_STORVSC_QUEUE_DEPTH_MAX, "queue-depth", &r->knobs.queue_depth);
	case 'j':
		a->json = true;
		return 0;
	case 'h':
		storvsc_usage(stdout);
		exit(0);
	}
	return -EINVAL; /* getopt said what was wrong */
}

static int parse_storvsc_args(int argc, char **argv, struct storvsc_args *a)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "lun", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "eh-timeout", required_argument, NULL, 'e' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	if (argc < 2)
		return -EINVAL;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		storvsc_usage(stdout);
		exit(0);
	}
	a->verb = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if (parse_storvsc_option(c, a) < 0)
			return -EINVAL;
	if (optind < argc) {
		fprintf(stderr, "azl-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (a->rule.has_lun && !a->rule.has_host) {
		fprintf(stderr, "azl-agent: --lun needs --host\n");
		return -EINVAL;
	}
	return 0;
}

static void print_knob(const char *name, uint32_t v, const char *unit)
{
	if (v)
		printf("  %s %" PRIu32 "%s", name, v, unit);
	else
		printf("  %s kernel", name);
}

static void print_text(const struct storvsc_rule *rules, size_t nr,
		       const struct storvsc_dev *devs, size_t nd)
{
	printf("policy (\"kernel\": the value the kernel chose)\n");
	for (size_t i = 0; i < nr; i++) {
		const struct storvsc_rule *r = &rules[i];
		char scope[64];

		if (!r->has_host)
			snprintf(scope, sizeof(scope), "default");
		else if (!r->has_lun)
			snprintf(scope, sizeof(scope), "host %" PRIu32, r->host);
		else
			snprintf(scope, sizeof(scope), "host %" PRIu32 " lun %" PRIu64, r->host, r->lun);
		printf("  %-22s", scope);
		print_knob("timeout", r->knobs.timeout, "s");
		print_knob("eh_timeout", r->knobs.eh_timeout, "s");
		print_knob("queue_depth", r->knobs.queue_depth, "");
		printf("\n");
	}
	printf("disks: %zu\n", nd);
	if (nd)
		printf("  %-14s %8s %11s %12s  %-10s  %s\n", "H:C:T:L", "timeout", "eh_timeout",
		       "queue_depth", "source", "controller");
	for (size_t i = 0; i < nd; i++) {
		const struct storvsc_dev *d = &devs[i];
		char hctl[64];

		snprintf(hctl, sizeof(hctl), "%" PRIu32 ":%" PRIu32 ":%" PRIu32 ":%" PRIu64,
			 d->host, d->channel, d->target, d->lun);
		printf("  %-14s %7" PRIu32 "s %10" PRIu32 "s %12" PRIu32 "  %-10s  %s\n", hctl,
		       d->applied.timeout, d->applied.eh_timeout, d->applied.queue_depth,
		       storvsc_source_name(d->source), d->controller[0] ? d->controller : "-");
	}
}

static struct json_object *rule_json(const struct storvsc_rule *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "host", r->has_host ? json_object_new_int64(r->host) : NULL);
	json_object_object_add(o, "lun", r->has_lun ? json_object_new_uint64(r->lun) : NULL);
	json_object_object_add(o, "timeout", json_object_new_int64(r->knobs.timeout));
	json_object_object_add(o, "eh_timeout", json_object_new_int64(r->knobs.eh_timeout));
	json_object_object_add(o, "queue_depth", json_object_new_int64(r->knobs.queue_depth));
	return o;
}

static struct json_object *dev_json(const struct storvsc_dev *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "host", json_object_new_int64(d->host));
	json_object_object_add(o, "channel", json_object_new_int64(d->channel));
	json_object_object_add(o, "target", json_object_new_int64(d->target));
	json_object_object_add(o, "lun", json_object_new_uint64(d->lun));
	json_object_object_add(o, "controller",
			       d->controller[0] ? json_object_new_string(d->controller) : NULL);
	json_object_object_add(o, "timeout", json_object_new_int64(d->applied.timeout));
	json_object_object_add(o, "eh_timeout", json_object_new_int64(d->applied.eh_timeout));
	json_object_object_add(o, "queue_depth", json_object_new_int64(d->applied.queue_depth));
	json_object_object_add(o, "source", json_object_new_string(storvsc_source_name(d->source)));
	return o;
}

static void print_json(const struct storvsc_rule *rules, size_t nr,
		       const struct storvsc_dev *devs, size_t nd)
{
	struct json_object *o = json_object_new_object();
	struct json_object *p = json_object_new_array(), *ds = json_object_new_array();

	for (size_t i = 0; i < nr; i++)
		json_object_array_add(p, rule_json(&rules[i]));
	for (size_t i = 0; i < nd; i++)
		json_object_array_add(ds, dev_json(&devs[i]));
	json_object_object_add(o, "policy", p);
	json_object_object_add(o, "disks", ds);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int storvsc_show(struct genl_client *c, bool json)
{
	_cleanup_free_ struct storvsc_rule *rules = NULL;
	_cleanup_free_ struct storvsc_dev *devs = NULL;
	size_t nr = 0, nd = 0;
	int ret = storvsc_get_policy(c, &rules, &nr);

	if (ret < 0)
		return cli_module_refused(c, "the policy dump", ret);
	ret = storvsc_get_devices(c, &devs, &nd);
	if (ret < 0)
		return cli_module_refused(c, "the disk dump", ret);
	if (json)
		print_json(rules, nr, devs, nd);
	else
		print_text(rules, nr, devs, nd);
	return fflush(stdout) == 0 ? 0 : 2;
}

static int storvsc_change(struct genl_client *c, const struct storvsc_args *a)
{
	bool set = strcmp(a->verb, "set") == 0;
	uint32_t applied = 0;
	int ret;

	if (set && !a->rule.mask) {
		fprintf(stderr, "azl-agent: storvsc set needs --timeout, --eh-timeout or --queue-depth\n");
		return 2;
	}
	if (!set && !a->rule.has_host) {
		fprintf(stderr, "azl-agent: storvsc unset needs --host (the default has no rule)\n");
		return 2;
	}
	ret = set ? storvsc_set_policy(c, &a->rule, &applied)
		  : storvsc_del_policy(c, &a->rule, &applied);
	if (ret < 0)
		return cli_module_refused(c, set ? "the change" : "the removal", ret);
	printf("applied to %" PRIu32 " disk%s\n", applied, applied == 1 ? "" : "s");
	return 0;
}

int cmd_storvsc(const struct global_options *g, int argc, char **argv)
{
	struct storvsc_args a = { .json = g->json };
	struct genl_client c;
	int ret;

	if (parse_storvsc_args(argc, argv, &a) < 0 ||
	    (strcmp(a.verb, "show") && strcmp(a.verb, "set") && strcmp(a.verb, "unset"))) {
		storvsc_usage(stderr);
		return 2;
	}
	ret = cli_open_module(&c, storvsc_open, AZL_STORVSC_GENL_NAME);
	if (ret)
		return ret;
	ret = strcmp(a.verb, "show") == 0 ? storvsc_show(&c, a.json) : storvsc_change(&c, &a);
	genl_client_close(&c);
	return ret;
}
