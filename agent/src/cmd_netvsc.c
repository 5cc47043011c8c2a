// SPDX-License-Identifier: MIT
/*
 * azl-agent netvsc show|set: read and push the NIC policy of the
 * azl_netvsc kernel module (kmod/include/uapi/azl_netvsc.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <azl_netvsc.h>

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "kmod_netvsc.h"
#include "sysfile.h"
#include "util.h"

static void netvsc_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent netvsc show [--json]\n"
		"       azl-agent netvsc set [--channels N] [--rx-ring N] [--tx-ring N]\n"
		"                            [--xps on|off] [--vf-xps on|off]\n"
		"\n"
		"set changes the policy of every synthetic NIC (and, for --vf-xps, of\n"
		"every VF joined to one) at once.  A number of 0 keeps the kernel's own\n"
		"value.  --channels takes only a count Microsoft's image validation\n"
		"accepts on this VM (show lists them); the count is set when a NIC\n"
		"appears and when the policy changes, never over a later ethtool -L.\n"
		"Exit status: 0 done, 1 the module refused, 2 usage, 3 not loaded.\n");
}

struct netvsc_args {
	const char *verb;
	struct netvsc_policy policy;
	bool json;
};

static int parse_switch(const char *arg, const char *name, bool *out)
{
	if (parse_bool(arg, out) == 0)
		return 0;
	fprintf(stderr, "azl-agent: --%s wants on or off, not '%s'\n", name, arg);
	return -EINVAL;
}

static int parse_netvsc_option(int c, struct netvsc_args *a)
{
	struct netvsc_policy *p = &a->policy;

	switch (c) {
	case 'c':
		p->mask |= NETVSC_KNOB_CHANNELS;
		return cli_option_u32(optarg, AZL_NETVSC_CHANNELS_MAX, "channels", &p->channels);
	case 'r':
		p->mask |= NETVSC_KNOB_RX_RING;
		return cli_option_u32(optarg, AZL_NETVSC_RING_MAX, "rx-ring", &p->rx_ring);
	case 't':
		p->mask |= NETVSC_KNOB_TX_RING;
		return cli_option_u32(optarg, AZL_NETVSC_RING_MAX, "tx-ring", &p->tx_ring);
	case 'x':
		p->mask |= NETVSC_KNOB_XPS;
		return parse_switch(optarg, "xps", &p->xps);
	case 'v':
		p->mask |= NETVSC_KNOB_VF_XPS;
		return parse_switch(optarg, "vf-xps", &p->vf_xps);
	case 'j':
		a->json = true;
		return 0;
	case 'h':
		netvsc_usage(stdout);
		exit(0);
	}
	return -EINVAL; /* getopt said what was wrong */
}

static int parse_netvsc_args(int argc, char **argv, struct netvsc_args *a)
{
	static const struct option longopts[] = {
		{ "channels", required_argument, NULL, 'c' },
		{ "rx-ring", required_argument, NULL, 'r' },
		{ "tx-ring", required_argument, NULL, 't' },
		{ "xps", required_argument, NULL, 'x' },
		{ "vf-xps", required_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	if (argc < 2)
		return -EINVAL;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		netvsc_usage(stdout);
		exit(0);
	}
	a->verb = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if (parse_netvsc_option(c, a) < 0)
			return -EINVAL;
	if (optind < argc) {
		fprintf(stderr, "azl-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (strcmp(a->verb, "show") == 0 && a->policy.mask) {
		fprintf(stderr, "azl-agent: netvsc show takes only --json\n");
		return -EINVAL;
	}
	return 0;
}

static void print_number(const char *name, uint32_t v)
{
	if (v)
		printf("  %s %" PRIu32, name, v);
	else
		printf("  %s kernel", name);
}

static void print_text(const struct netvsc_policy *p, const struct netvsc_dev *devs, size_t n)
{
	printf("policy (\"kernel\": the value the kernel chose)\n");
	print_number("channels", p->channels);
	print_number("rx_ring", p->rx_ring);
	print_number("tx_ring", p->tx_ring);
	printf("  xps %s  vf_xps %s\n", p->xps ? "on" : "off", p->vf_xps ? "on" : "off");
	printf("  channel counts allowed on this VM:");
	for (size_t i = 0; i < p->nallowed; i++)
		printf("%s%" PRIu32, i ? "," : " ", p->allowed[i]);
	printf("%s\n", p->nallowed ? "" : " none");
	printf("devices: %zu\n", n);
	if (n)
		printf("  %-15s %-9s  %-15s %4s  %8s  %11s  %-28s  %s\n", "name", "kind", "master",
		       "node", "channels", "rings rx/tx", "results channels/rings/xps", "applied");
	for (size_t i = 0; i < n; i++) {
		const struct netvsc_dev *d = &devs[i];
		char master[ESCAPED_SIZE(IF_NAMESIZE)] = "-", name[ESCAPED_SIZE(IF_NAMESIZE)];
		char node[12] = "-", ch[24] = "-", rings[24] = "-", res[64], r1[16], r2[16], r3[16];

		escape_controls(d->ifname, name, sizeof(name));
		if (d->kind == AZL_NETVSC_KIND_VF)
			netvsc_master_name(d->master, devs, n, master, sizeof(master));
		if (d->numa_node >= 0)
			snprintf(node, sizeof(node), "%" PRId32, d->numa_node);
		if (d->has_channels)
			snprintf(ch, sizeof(ch), "%" PRIu32 "/%" PRIu32, d->channels, d->max_channels);
		if (d->has_rings)
			snprintf(rings, sizeof(rings), "%" PRIu32 "/%" PRIu32, d->rx_ring, d->tx_ring);
		snprintf(res, sizeof(res), "%s/%s/%s",
			 netvsc_result_name(d->result_channels, r1, sizeof(r1)),
			 netvsc_result_name(d->result_rings, r2, sizeof(r2)),
			 netvsc_result_name(d->result_xps, r3, sizeof(r3)));
		printf("  %-15s %-9s  %-15s %4s  %8s  %11s  %-28s  %" PRIu32 "\n", name,
		       netvsc_kind_name(d->kind), master, node, ch, rings, res, d->apply_count);
	}
}

static struct json_object *u32_or_null(bool has, uint32_t v)
{
	return has ? json_object_new_int64(v) : NULL;
}

static struct json_object *policy_json(const struct netvsc_policy *p)
{
	struct json_object *o = json_object_new_object(), *allowed = json_object_new_array();

	for (size_t i = 0; i < p->nallowed; i++)
		json_object_array_add(allowed, json_object_new_int64(p->allowed[i]));
	json_object_object_add(o, "channels", json_object_new_int64(p->channels));
	json_object_object_add(o, "rx_ring", json_object_new_int64(p->rx_ring));
	json_object_object_add(o, "tx_ring", json_object_new_int64(p->tx_ring));
	json_object_object_add(o, "xps", json_object_new_boolean(p->xps));
	json_object_object_add(o, "vf_xps", json_object_new_boolean(p->vf_xps));
	json_object_object_add(o, "allowed_channels", allowed);
	return o;
}

static struct json_object *dev_json(const struct netvsc_dev *d)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	bool vf = d->kind == AZL_NETVSC_KIND_VF;

	json_object_object_add(o, "ifindex", json_object_new_int64(d->ifindex));
	json_object_object_add(o, "name", json_object_new_string(d->ifname));
	json_object_object_add(o, "kind", json_object_new_string(netvsc_kind_name(d->kind)));
	json_object_object_add(o, "master", u32_or_null(vf, d->master));
	json_object_object_add(o, "numa_node",
			       d->numa_node >= 0 ? json_object_new_int64(d->numa_node) : NULL);
	json_object_object_add(o, "channels", u32_or_null(d->has_channels, d->channels));
	json_object_object_add(o, "max_channels", u32_or_null(d->has_channels, d->max_channels));
	json_object_object_add(o, "rx_ring", u32_or_null(d->has_rings, d->rx_ring));
	json_object_object_add(o, "tx_ring", u32_or_null(d->has_rings, d->tx_ring));
	json_object_object_add(r, "channels", json_object_new_int64(d->result_channels));
	json_object_object_add(r, "rings", json_object_new_int64(d->result_rings));
	json_object_object_add(r, "xps", json_object_new_int64(d->result_xps));
	json_object_object_add(o, "results", r);
	json_object_object_add(o, "apply_count", json_object_new_int64(d->apply_count));
	return o;
}

static void print_json(const struct netvsc_policy *p, const struct netvsc_dev *devs, size_t n)
{
	struct json_object *o = json_object_new_object(), *ds = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(ds, dev_json(&devs[i]));
	json_object_object_add(o, "policy", policy_json(p));
	json_object_object_add(o, "devices", ds);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int netvsc_show(struct genl_client *c, bool json)
{
	_cleanup_free_ struct netvsc_dev *devs = NULL;
	struct netvsc_policy p;
	size_t n = 0;
	int ret = netvsc_get_policy(c, &p);

	if (ret < 0)
		return cli_module_refused(c, "the policy request", ret);
	ret = netvsc_get_devices(c, &devs, &n);
	if (ret < 0)
		return cli_module_refused(c, "the device dump", ret);
	if (json)
		print_json(&p, devs, n);
	else
		print_text(&p, devs, n);
	return fflush(stdout) == 0 ? 0 : 2;
}

static int netvsc_change(struct genl_client *c, const struct netvsc_policy *p)
{
	struct netvsc_policy now;
	uint32_t applied = 0;
	int ret;

	ret = netvsc_set_policy(c, p, &applied);
	if (ret < 0) {
		cli_module_refused(c, "the change", ret);
		/* Kernels before 6.2 cannot put the allowed counts in their message. */
		if (ret == -EINVAL && (p->mask & NETVSC_KNOB_CHANNELS) &&
		    netvsc_get_policy(c, &now) == 0) {
			fprintf(stderr, "azl-agent: channel counts allowed on this VM:");
			for (size_t i = 0; i < now.nallowed; i++)
				fprintf(stderr, "%s%" PRIu32, i ? "," : " ", now.allowed[i]);
			fprintf(stderr, "%s\n", now.nallowed ? "" : " none");
		}
		return 1;
	}
	printf("applied to %" PRIu32 " device%s\n", applied, applied == 1 ? "" : "s");
	return 0;
}

int cmd_netvsc(const struct global_options *g, int argc, char **argv)
{
	struct netvsc_args a = { .json = g->json };
	struct genl_client c;
	int ret;

	if (parse_netvsc_args(argc, argv, &a) < 0 ||
	    (strcmp(a.verb, "show") && strcmp(a.verb, "set"))) {
		netvsc_usage(stderr);
		return 2;
	}
	if (strcmp(a.verb, "set") == 0 && !a.policy.mask) {
		fprintf(stderr, "azl-agent: netvsc set needs --channels, --rx-ring, --tx-ring, "
				"--xps or --vf-xps\n");
		return 2;
	}
	ret = cli_open_module(&c, netvsc_open, AZL_NETVSC_GENL_NAME);
	if (ret)
		return ret;
	ret = strcmp(a.verb, "show") == 0 ? netvsc_show(&c, a.json) : netvsc_change(&c, &a.policy);
	genl_client_close(&c);
	return ret;
}
