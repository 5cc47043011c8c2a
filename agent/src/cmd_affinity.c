// SPDX-License-Identifier: MIT
/*
 * azl-agent affinity plan|apply|check: where VMBus channels and device IRQs
 * interrupt, where they should, and moving them there.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "affinity.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "util.h"

/* Exit statuses: check's 1 means "drifted", every command's 3 "cannot read the system". */
enum { AFF_EXIT_OK = 0, AFF_EXIT_DRIFT = 1, AFF_EXIT_USAGE = 2, AFF_EXIT_ERROR = 3 };

static void affinity_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent [--root DIR] affinity plan|apply|check [--json] [--all]\n"
		"                                [--config FILE]\n"
		"\n"
		"  plan    every move the agent would make, with its reason\n"
		"  apply   make the moves and tell a running irqbalance to leave them alone\n"
		"  check   exit 1 when the placement has drifted from the plan\n"
		"  --all   list kept placements too, not only moves\n"
		"\n"
		"exit 0 done or placement good, 1 drifted (check) or a write failed (apply),\n"
		"2 usage, 3 the system could not be read.\n");
}

struct affinity_args {
	const char *verb;
	const char *config;
	bool json, all;
};

static int parse_affinity_args(int argc, char **argv, struct affinity_args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	if (argc < 2)
		return -EINVAL;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		affinity_usage(stdout);
		exit(0);
	}
	a->verb = argv[1];
	if (strcmp(a->verb, "plan") != 0 && strcmp(a->verb, "apply") != 0 &&
	    strcmp(a->verb, "check") != 0) {
		fprintf(stderr, "azl-agent: unknown affinity command '%s'\n", a->verb);
		return -EINVAL;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': a->json = true; break;
		case 'a': a->all = true; break;
		case 'c': a->config = optarg; break;
		case 'h': affinity_usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "azl-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- text ---------------------------------------------------------------- */

static const char *cpus_text(const struct cpuset *s, char *buf, size_t len)
{
	if (cpuset_empty(s))
		return "none";
	if (cpuset_format_list(s, buf, len) < 0)
		snprintf(buf, len, "(%u CPUs)", cpuset_count(s));
	return buf;
}

static void print_action(const struct aff_input *in, const struct aff_action *a)
{
	char what[192], from[64], to[64];
	struct cpuset now;

	aff_action_describe(in, a, what, sizeof(what));
	aff_action_from(in, a, &now);
	printf("  %s %s: %s -> %s", a->move ? "move" : "keep", what,
	       cpus_text(&now, from, sizeof(from)), cpus_text(&a->to, to, sizeof(to)));
	if (a->node >= 0)
		printf(" (node %d)", a->node);
	printf(": %s\n", a->reason);
}

static void share(char *buf, size_t len, unsigned int part, unsigned int whole)
{
	if (whole)
		snprintf(buf, len, "%u/%u %u%%", part, whole, (unsigned int)(part * 100ull / whole));
	else
		snprintf(buf, len, "none");
}

static void print_row(const char *label, const char *now, const char *planned)
{
	if (*planned)
		printf("  %-19s%-16s%s\n", label, now, planned);
	else
		printf("  %-19s%s\n", label, now);
}

static void print_quality(const struct aff_plan *plan, bool planned)
{
	const struct aff_quality *b = &plan->before, *a = &plan->after;
	char now[64], then[64];

	printf(planned ? "Placement            now             planned\n" : "Placement            now\n");
	share(now, sizeof(now), b->irqs_local, b->irqs);
	share(then, sizeof(then), a->irqs_local, a->irqs);
	print_row("NUMA-local IRQs", now, planned ? then : "");
	share(now, sizeof(now), b->channels_local, b->channels);
	share(then, sizeof(then), a->channels_local, a->channels);
	print_row("NUMA-local chans", now, planned ? then : "");
	snprintf(now, sizeof(now), "max %u min %u", b->src_max, b->src_min);
	snprintf(then, sizeof(then), "max %u min %u", a->src_max, a->src_min);
	print_row("sources per CPU", now, planned ? then : "");
	snprintf(now, sizeof(now), "%u", b->channel_cpus);
	snprintf(then, sizeof(then), "%u (at least %u)", a->channel_cpus, plan->min_channel_cpus);
	print_row("channel CPUs", now, planned ? then : "");
	snprintf(now, sizeof(now), "%u%%", aff_quality_score(b));
	snprintf(then, sizeof(then), "%u%%", aff_quality_score(a));
	print_row("score", now, planned ? then : "");
	printf("  kernel-managed IRQs left alone: %u\n", b->managed);
}

static void print_header(const struct aff_input *in)
{
	char ex[64];

	if (in->sku)
		printf("SKU: %s (%s%s%s)\n", in->sku->name,
		       strcmp(in->sku_source, "imds") == 0 ? "vmSize " : "recognised from the ",
		       strcmp(in->sku_source, "imds") == 0 ? in->vm_size : "topology", "");
	else
		printf("SKU: general purpose%s%s\n", in->vm_size[0] ? ", vmSize " : "",
		       in->vm_size);
	printf("CPUs: %zu online on %u node%s", in->ncpus, in->nnodes, in->nnodes == 1 ? "" : "s");
	if (cpuset_empty(&in->excluded))
		printf(", all allowed\n");
	else
		printf("; never used: %s (%s)\n", cpus_text(&in->excluded, ex, sizeof(ex)),
		       in->excluded_why);
	if (in->nvmbus && !in->channels_writable)
		printf("Channels: this kernel has no channels/<relid>/cpu: channel CPUs are read only\n");
}

static void print_text(const struct aff_input *in, const struct aff_plan *plan,
		       const struct affinity_args *a)
{
	bool check = strcmp(a->verb, "check") == 0;

	print_header(in);
	printf("%s (%u of %zu):\n", check ? "Drift" : "Moves", plan->moves, plan->n);
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].move || a->all)
			print_action(in, &plan->v[i]);
	if (!plan->moves)
		printf("  none\n");
	print_quality(plan, !check);
	if (plan->note[0])
		printf("Note: %s\n", plan->note);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *json_cpus(const struct cpuset *s)
{
	char buf[4096];

	return json_object_new_string(cpuset_format_list(s, buf, sizeof(buf)) < 0 ? "" : buf);
}

static struct json_object *json_quality(const struct aff_quality *q)
{
	struct json_object *o = json_object_new_object();

	json_add(o, "irqs", json_object_new_int((int)q->irqs));
	json_add(o, "irqs_local", json_object_new_int((int)q->irqs_local));
	json_add(o, "channels", json_object_new_int((int)q->channels));
	json_add(o, "channels_local", json_object_new_int((int)q->channels_local));
	json_add(o, "src_max", json_object_new_int((int)q->src_max));
	json_add(o, "src_min", json_object_new_int((int)q->src_min));
	json_add(o, "channel_cpus", json_object_new_int((int)q->channel_cpus));
	json_add(o, "managed", json_object_new_int((int)q->managed));
	json_add(o, "score", json_object_new_int((int)aff_quality_score(q)));
	return o;
}

static const char *target_name(enum aff_target t)
{
	static const char *const names[] = {
		[AFF_CHANNEL] = "channel", [AFF_IRQ] = "irq", [AFF_XPS] = "xps", [AFF_RPS] = "rps",
	};

	return names[t];
}

static struct json_object *json_action(const struct aff_input *in, const struct aff_action *a,
				       const struct aff_outcome *out)
{
	struct json_object *o = json_object_new_object();
	struct cpuset now;
	char what[192];

	aff_action_describe(in, a, what, sizeof(what));
	json_add(o, "target", json_object_new_string(target_name(a->target)));
	json_add(o, "what", json_object_new_string(what));
	json_add(o, "id", json_object_new_int64(a->id));
	aff_action_from(in, a, &now);
	json_add(o, "from", json_cpus(&now));
	json_add(o, "to", json_cpus(&a->to));
	json_add(o, "node", json_object_new_int(a->node));
	json_add(o, "move", json_object_new_boolean(a->move));
	json_add(o, "local", json_object_new_boolean(a->local));
	json_add(o, "reason", json_object_new_string(a->reason));
	if (out)
		json_add(o, "result", json_object_new_string(aff_result_name(out->result)));
	return o;
}

/*
 * The outcome of action i: the report lists them in plan order, so a cursor
 * walking the actions in order finds each in constant time.
 */
static const struct aff_outcome *outcome_of(const struct aff_report *rep, size_t i,
					    size_t *cursor)
{
	if (!rep)
		return NULL;
	while (*cursor < rep->n && rep->v[*cursor].action < i)
		(*cursor)++;
	return *cursor < rep->n && rep->v[*cursor].action == i ? &rep->v[*cursor] : NULL;
}

static struct json_object *json_plan(const struct aff_input *in, const struct aff_plan *plan,
				     const struct aff_report *rep, bool all)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	bool applied = rep != NULL;

	json_add(o, "sku", in->sku ? json_object_new_string(in->sku->name) : NULL);
	json_add(o, "sku_source", json_object_new_string(in->sku_source));
	json_add(o, "vm_size", json_object_new_string(in->vm_size));
	json_add(o, "cpus", json_object_new_int((int)in->ncpus));
	json_add(o, "nodes", json_object_new_int((int)in->nnodes));
	json_add(o, "excluded", json_cpus(&in->excluded));
	json_add(o, "moves", json_object_new_int((int)plan->moves));
	json_add(o, "before", json_quality(&plan->before));
	json_add(o, "after", json_quality(&plan->after));
	/* The placement the system has now: after the writes when applied. */
	json_add(o, "score", json_object_new_int((int)aff_quality_score(
		applied ? &plan->after : &plan->before)));
	json_add(o, "min_channel_cpus", json_object_new_int((int)plan->min_channel_cpus));
	json_add(o, "note", json_object_new_string(plan->note));
	for (size_t i = 0, k = 0; i < plan->n; i++)
		if (plan->v[i].move || all)
			json_object_array_add(arr, json_action(in, &plan->v[i],
							       outcome_of(rep, i, &k)));
	json_add(o, "actions", arr);
	return o;
}

/* ---- running -------------------------------------------------------------- */

/*
 * The IRQs we placed: a running irqbalance must leave them alone.  2: it
 * runs with our policy script, which bans them itself as long as the
 * configuration says we place IRQs (the script reads the same switches).
 */
static int ban_placed_irqs(const struct root *r, const struct aff_policy *p,
			   const struct aff_plan *plan, char *msg, size_t len)
{
	_cleanup_free_ long *irqs = calloc(plan->n + 1, sizeof(long));
	long pid = irqbalance_pid(r);
	size_t n = 0;

	if (!irqs)
		return -ENOMEM;
	if (!pid)
		return 0; /* none runs: irqbalance_ban would scan /proc again to say so */
	if (p->enabled && p->irqs && irqbalance_uses_policy(r, pid))
		return 2;
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].target == AFF_IRQ && !cpuset_empty(&plan->v[i].to) &&
		    cpuset_count(&plan->v[i].to) == 1)
			irqs[n++] = plan->v[i].id;
	if (!n)
		return 0;
	return irqbalance_ban(r, irqs, n, msg, len);
}

struct affinity_pass {
	struct aff_input in;
	struct aff_plan plan;
	struct aff_report rep;
	bool applied;
	int ban;          /* irqbalance_ban's result */
	char ban_msg[256];
	uint64_t elapsed_us;  /* the whole pass */
	uint64_t gather_us, plan_us, apply_us; /* its phases (apply: ban + writes) */
};

static void pass_free(struct affinity_pass *ps)
{
	aff_report_free(&ps->rep);
	affinity_plan_free(&ps->plan);
	affinity_input_free(&ps->in);
}

static int run_pass(const struct root *r, const struct aff_policy *p, bool apply,
		    struct affinity_pass *ps, char *err, size_t len)
{
	uint64_t t0 = monotonic_usec(), t1, t2;
	int ret;

	memset(ps, 0, sizeof(*ps));
	ret = affinity_gather(r, &ps->in, err, len);
	if (ret < 0)
		return ret;
	t1 = monotonic_usec();
	ret = affinity_plan(&ps->in, p, &ps->plan);
	if (ret < 0) {
		snprintf(err, len, "cannot plan: %s", strerror(-ret));
		return ret;
	}
	t2 = monotonic_usec();
	ps->gather_us = t1 - t0;
	ps->plan_us = t2 - t1;
	if (apply) {
		ps->applied = true;
		/*
		 * Ban first: a ban makes irqbalance's next cycle a rescan
		 * without placement, so it never undoes the writes below.
		 */
		if (p->irqs)
			ps->ban = ban_placed_irqs(r, p, &ps->plan, ps->ban_msg, sizeof(ps->ban_msg));
		ret = affinity_apply(r, &ps->in, &ps->plan, &ps->rep);
	}
	ps->elapsed_us = monotonic_usec() - t0;
	ps->apply_us = apply ? monotonic_usec() - t2 : 0;
	return ret == -EIO ? 0 : ret; /* failed writes are in the report */
}

int affinity_run_once(const struct root *r, const struct aff_policy *p, bool apply,
		      char *summary, size_t len)
{
	struct affinity_pass ps;
	int ret = run_pass(r, p, apply, &ps, summary, len);

	if (ret == 0)
		snprintf(summary, len,
			 "%u moves, %u done, %u skipped, %u not written; NUMA-local score %u%%%s%s (%.1f ms)",
			 ps.plan.moves, ps.rep.done, ps.rep.skipped, ps.rep.failed,
			 aff_quality_score(apply ? &ps.plan.after : &ps.plan.before),
			 ps.ban < 0 ? "; irqbalance: " : "", ps.ban < 0 ? ps.ban_msg : "",
			 (double)ps.elapsed_us / 1000.0);
	if (ret == 0 && ps.rep.failed)
		ret = -EIO;
	pass_free(&ps);
	return ret;
}

static void print_apply_text(const struct affinity_pass *ps)
{
	for (size_t k = 0; k < ps->rep.n; k++) {
		const struct aff_outcome *o = &ps->rep.v[k];
		char what[192];

		if (o->result == AFF_DONE)
			continue;
		aff_action_describe(&ps->in, &ps->plan.v[o->action], what, sizeof(what));
		printf("  %s: %s%s%s\n", what, aff_result_name(o->result),
		       o->result == AFF_FAILED ? ": " : "",
		       o->result == AFF_FAILED ? strerror(o->err) : "");
	}
	printf("Applied: %u written, %u skipped, %u failed\n", ps->rep.done, ps->rep.skipped,
	       ps->rep.failed);
	if (ps->ban == 2)
		printf("irqbalance: keeps off through the agent's policy script\n");
	else if (ps->ban > 0)
		printf("irqbalance: told to leave the placed IRQs alone\n");
	else if (ps->ban < 0)
		printf("irqbalance: %s\n", ps->ban_msg);
}

static int affinity_exit(const struct affinity_args *a, const struct affinity_pass *ps)
{
	if (strcmp(a->verb, "check") == 0)
		return ps->plan.moves ? AFF_EXIT_DRIFT : AFF_EXIT_OK;
	if (strcmp(a->verb, "apply") == 0)
		return ps->rep.failed || ps->ban < 0 ? AFF_EXIT_DRIFT : AFF_EXIT_OK;
	return AFF_EXIT_OK;
}

int cmd_affinity(const struct global_options *g, int argc, char **argv)
{
	struct affinity_args a = { .json = g->json };
	struct agent_config cfg;
	struct affinity_pass ps;
	struct aff_policy pol;
	char err[512];
	struct root r;
	int ret;

	if (parse_affinity_args(argc, argv, &a) < 0) {
		affinity_usage(stderr);
		return AFF_EXIT_USAGE;
	}
	if (root_init(&r, g->root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return AFF_EXIT_USAGE;
	}
	if (config_load(&r, a.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "azl-agent: %s\n", err);
		return AFF_EXIT_ERROR;
	}
	aff_policy_from_config(&cfg, &pol);
	ret = run_pass(&r, &pol, strcmp(a.verb, "apply") == 0, &ps, err, sizeof(err));
	if (ret < 0) {
		/* The message may quote names from the tree: log_msg escapes them. */
		log_error("azl-agent: affinity: %s; nothing was written", err);
		pass_free(&ps);
		return AFF_EXIT_ERROR;
	}
	if (a.json) {
		struct json_object *o = json_plan(&ps.in, &ps.plan, ps.applied ? &ps.rep : NULL,
						  a.all);

		json_object_object_add(o, "elapsed_us", json_object_new_int64((int64_t)ps.elapsed_us));
		json_object_object_add(o, "gather_us", json_object_new_int64((int64_t)ps.gather_us));
		json_object_object_add(o, "plan_us", json_object_new_int64((int64_t)ps.plan_us));
		json_object_object_add(o, "apply_us", json_object_new_int64((int64_t)ps.apply_us));
		if (ps.applied)
			json_object_object_add(o, "irqbalance", json_object_new_string(
				ps.ban == 2 ? "policy script" : ps.ban > 0 ? "told" :
				ps.ban == 0 ? "not running" : ps.ban_msg));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		print_text(&ps.in, &ps.plan, &a);
		if (ps.applied)
			print_apply_text(&ps);
	}
	ret = affinity_exit(&a, &ps);
	pass_free(&ps);
	return ret;
}
