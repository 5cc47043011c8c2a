// SPDX-License-Identifier: MIT
/*
 * azl-agent accel show|set: read the azl_accel module's NUMA table (PCI
 * domain -> node) and the accelerators it matched, and push a table
 * (kmod/include/uapi/azl_accel.h).  The dispatcher is cmd_accel.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <azl_accel.h>

#include "affinity.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "escape.h"
#include "kmod_accel.h"
#include "kmod_policy.h"
#include "root.h"
#include "sku.h"
#include "sysfile.h"
#include "util.h"

#define ACCEL_NODE_MAX 1023 /* the kernel's MAX_NUMNODES - 1 with NODES_SHIFT 10 */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent accel show [--json]\n"
		"       azl-agent accel set --node DOMAIN:NODE[,DOMAIN:NODE...]... | --sku | --clear\n"
		"\n"
		"DOMAIN is a PCI domain in hexadecimal (0001, 0x101), NODE a NUMA node.\n"
		"set replaces the whole table: --node gives its entries, --sku takes them\n"
		"from the SKU table of this VM's size, --clear empties it.  No device\n"
		"changes at once: the module decides a device's node when a driver binds\n"
		"to it; a bound device keeps the node its driver probed with.\n"
		"Exit status: 0 done, 1 the module refused or --sku found no table,\n"
		"2 usage, 3 not loaded.\n");
}

struct accel_args {
	const char *verb;
	bool json, clear, sku;
	struct accel_node_entry e[AZL_ACCEL_NODES_MAX];
	size_t n;
};

/* "DOMAIN:NODE": hexadecimal domain up to ffff, decimal node. */
static int parse_entry(const char *s, struct accel_node_entry *out)
{
	char dom[16], *end;
	const char *colon = strchr(s, ':');
	unsigned long long node;
	unsigned long d;
	size_t len;

	if (!colon || colon == s || (len = (size_t)(colon - s)) >= sizeof(dom))
		return -EINVAL;
	memcpy(dom, s, len);
	dom[len] = '\0';
	if (!isxdigit((unsigned char)dom[0]))
		return -EINVAL;
	errno = 0;
	d = strtoul(dom, &end, 16);
	if (errno || *end || d > 0xffff)
		return -EINVAL;
	if (parse_unsigned(colon + 1, ACCEL_NODE_MAX, &node) < 0)
		return -EINVAL;
	out->domain = (uint32_t)d;
	out->node = (int32_t)node;
	return 0;
}

/* One --node value: entries separated by commas, each domain once overall. */
static int add_entries(struct accel_args *a, const char *arg)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL, *tok;

	if (!copy)
		return -ENOMEM;
	if (!*copy || copy[strlen(copy) - 1] == ',')
		goto bad;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct accel_node_entry e;

		if (parse_entry(tok, &e) < 0)
			goto bad;
		for (size_t i = 0; i < a->n; i++) {
			if (a->e[i].domain == e.domain) {
				fprintf(stderr, "azl-agent: --node: domain %04" PRIx32 " given twice\n",
					e.domain);
				return -EINVAL;
			}
		}
		if (a->n == AZL_ACCEL_NODES_MAX) {
			fprintf(stderr, "azl-agent: --node: more than %d entries\n", AZL_ACCEL_NODES_MAX);
			return -EINVAL;
		}
		a->e[a->n++] = e;
	}
	return 0;
bad:
	fprintf(stderr,
		"azl-agent: --node wants DOMAIN:NODE (hex domain up to ffff, node 0 to %d), not '%s'\n",
		ACCEL_NODE_MAX, arg);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct accel_args *a)
{
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "sku", no_argument, NULL, 's' },
		{ "clear", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool nodes = false;
	int c;

	a->verb = argv[0];
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (add_entries(a, optarg) < 0)
				return -EINVAL;
			nodes = true;
			break;
		case 's':
			a->sku = true;
			break;
		case 'c':
			a->clear = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL; /* getopt said what was wrong */
		}
	}
	if (optind < argc) {
		fprintf(stderr, "azl-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (strcmp(a->verb, "set") == 0 && nodes + a->sku + a->clear != 1) {
		fprintf(stderr, "azl-agent: accel set takes one of --node, --sku, --clear\n");
		return -EINVAL;
	}
	if (strcmp(a->verb, "show") == 0 && (nodes || a->sku || a->clear)) {
		fprintf(stderr, "azl-agent: accel show takes only --json\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- show ---- */

static void print_dev(const struct accel_dev *d)
{
	/* The kernel's names reach a terminal: no control bytes (escape.h). */
	char bdf[ESCAPED_SIZE(AZL_ACCEL_BDF_LEN)], driver[ESCAPED_SIZE(AZL_ACCEL_DRIVER_LEN)];

	escape_controls(d->bdf, bdf, sizeof(bdf));
	escape_controls(d->driver, driver, sizeof(driver));
	printf("  %-13s %-10s %04x:%04x %06" PRIx32 " %4" PRId32 " %4" PRId32 "  %-6s %s\n",
	       bdf, accel_kind_name(d->kind), d->vendor, d->device, d->class_code, d->host_node,
	       d->node, accel_source_name(d->source), driver[0] ? driver : "-");
}

static void print_text(const struct accel_node_entry *t, size_t nt,
		       const struct accel_dev *d, size_t nd)
{
	printf("NUMA table (PCI domain -> node): %zu entr%s\n", nt, nt == 1 ? "y" : "ies");
	for (size_t i = 0; i < nt; i++)
		printf("  %04" PRIx32 " -> %" PRId32 "\n", t[i].domain, t[i].node);
	printf("accelerators: %zu\n", nd);
	if (nd)
		printf("  %-13s %-10s %-9s %6s %4s %4s  %-6s %s\n", "pci", "kind", "id", "class",
		       "host", "node", "source", "driver");
	for (size_t i = 0; i < nd; i++)
		print_dev(&d[i]);
}

static struct json_object *hex_json(unsigned int v, int width)
{
	char s[16];

	snprintf(s, sizeof(s), "%0*x", width, v);
	return json_object_new_string(s);
}

static struct json_object *dev_json(const struct accel_dev *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pci", json_object_new_string(d->bdf));
	json_object_object_add(o, "domain", hex_json(d->domain, 4));
	json_object_object_add(o, "vendor", hex_json(d->vendor, 4));
	json_object_object_add(o, "device", hex_json(d->device, 4));
	json_object_object_add(o, "class", hex_json(d->class_code, 6));
	json_object_object_add(o, "kind", json_object_new_string(accel_kind_name(d->kind)));
	json_object_object_add(o, "host_node", json_object_new_int64(d->host_node));
	json_object_object_add(o, "numa_node", json_object_new_int64(d->node));
	json_object_object_add(o, "source", json_object_new_string(accel_source_name(d->source)));
	json_object_object_add(o, "driver", d->driver[0] ? json_object_new_string(d->driver) : NULL);
	return o;
}

static void print_json(const struct accel_node_entry *t, size_t nt,
		       const struct accel_dev *d, size_t nd)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ta = json_object_new_array(), *da = json_object_new_array();

	for (size_t i = 0; i < nt; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "domain", hex_json(t[i].domain, 4));
		json_object_object_add(e, "node", json_object_new_int64(t[i].node));
		json_object_array_add(ta, e);
	}
	for (size_t i = 0; i < nd; i++)
		json_object_array_add(da, dev_json(&d[i]));
	json_object_object_add(o, "table", ta);
	json_object_object_add(o, "devices", da);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int accel_show(struct genl_client *c, bool json)
{
	_cleanup_free_ struct accel_node_entry *t = NULL;
	_cleanup_free_ struct accel_dev *d = NULL;
	size_t nt = 0, nd = 0;
	int ret = accel_get_policy(c, &t, &nt);

	if (ret < 0)
		return cli_module_refused(c, "the table request", ret);
	ret = accel_get_devices(c, &d, &nd);
	if (ret < 0)
		return cli_module_refused(c, "the device dump", ret);
	if (json)
		print_json(t, nt, d, nd);
	else
		print_text(t, nt, d, nd);
	return fflush(stdout) == 0 ? 0 : 2;
}

/* ---- set ---- */

/*
 * The table the daemon would push for @s, whatever [modules] says: one
 * planner, so --sku and the daemon skip the same entries (no node, a
 * domain above ffff) and keep the first of a domain given twice.
 */
static int plan_table(const struct sku_policy *s, struct accel_args *a)
{
	_cleanup_free_ struct kmod_policy *p = calloc(1, sizeof(*p));
	struct agent_config cfg;

	if (!p)
		return -ENOMEM;
	config_defaults(&cfg);
	cfg.modules.push = true;
	cfg.modules.accel_numa = true;
	kmod_policy_plan(&cfg, s, p);
	memcpy(a->e, p->accel_nodes, p->naccel * sizeof(a->e[0]));
	a->n = p->naccel;
	return 0;
}

/* The entries of this VM's size (IMDS vmSize, else recognised from the topology). */
static int sku_entries(const struct global_options *g, struct accel_args *a)
{
	const struct sku_policy *s;
	const char *source;
	struct root r;
	char err[512] = "";

	if (root_init(&r, g->root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return -EINVAL;
	}
	s = affinity_detect_sku(&r, &source, err, sizeof(err));
	if (!s && err[0]) {
		fprintf(stderr, "azl-agent: accel set --sku: %s\n", err);
		return -EINVAL;
	}
	if (!s || !s->npci) {
		fprintf(stderr, "azl-agent: accel set --sku: %s has no PCI domain table\n",
			s ? s->name : "this VM's size");
		return -ENOENT;
	}
	if (plan_table(s, a) < 0) {
		fprintf(stderr, "azl-agent: accel set --sku: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (!a->n) {
		fprintf(stderr, "azl-agent: accel set --sku: the PCI domain table of %s has no "
				"entry with a NUMA node\n", s->name);
		return -ENOENT;
	}
	printf("SKU %s (%s): %zu entr%s\n", s->name,
	       strcmp(source, "imds") == 0 ? "vmSize from IMDS" : "recognised from the topology",
	       a->n, a->n == 1 ? "y" : "ies");
	return 0;
}

static int accel_set(struct genl_client *c, const struct accel_args *a)
{
	uint32_t applied = 0;
	int ret;

	ret = accel_set_policy(c, a->e, a->n, &applied);
	if (ret < 0)
		return cli_module_refused(c, "the table", ret);
	printf("table of %zu entr%s; %" PRIu32 " device%s without a driver change%s node at the next bind\n",
	       a->n, a->n == 1 ? "y" : "ies", applied, applied == 1 ? "" : "s",
	       applied == 1 ? "s" : "");
	return 0;
}

int cmd_accel_kmod(const struct global_options *g, int argc, char **argv)
{
	struct accel_args *a = calloc(1, sizeof(*a));
	struct genl_client c;
	int ret;

	if (!a)
		return 2;
	a->json = g->json;
	if (parse_args(argc, argv, a) < 0) {
		usage(stderr);
		free(a);
		return 2;
	}
	/* What this VM's size says comes first: it needs no module. */
	if (a->sku && sku_entries(g, a) < 0) {
		free(a);
		return 1;
	}
	ret = cli_open_module(&c, accel_open, AZL_ACCEL_GENL_NAME);
	if (ret) {
		free(a);
		return ret;
	}
	ret = strcmp(a->verb, "show") == 0 ? accel_show(&c, a->json) : accel_set(&c, a);
	genl_client_close(&c);
	free(a);
	return ret;
}
