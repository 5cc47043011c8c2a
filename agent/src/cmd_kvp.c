// SPDX-License-Identifier: MIT
/*
 * `azl-agent kvp list|get|set|delete [--pool N] [--json]`: the KVP pools as
 * the host sees them.  Pool 2 is what the KVP service would answer right
 * now; the other pools are the files, read and written through the same
 * store and locks as the service.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "kvp_intrinsic.h"
#include "kvp_pool.h"
#include "sysfile.h"

#define KVP_DEFAULT_POOL 1u /* the guest's own pool */

struct kvp_options {
	unsigned pool;
	bool pool_given;
	bool json;
};

static void kvp_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent kvp list [--pool N] [--json]\n"
		"       azl-agent kvp get KEY [--pool N] [--json]\n"
		"       azl-agent kvp set KEY VALUE [--pool N]\n"
		"       azl-agent kvp delete KEY [--pool N]\n"
		"\n"
		"Pools: 0 host-pushed (admin), 1 guest-published (default), 2 intrinsic\n"
		"(computed, read-only), 3 host facts, 4 unused.  Keys written to pool 1\n"
		"must fit what the host can read: at most %d bytes of key and %d of value.\n",
		KVP_HOST_KEY_LIMIT, KVP_HOST_VALUE_LIMIT);
}

static int parse_kvp_options(int argc, char **argv, struct kvp_options *o)
{
	static const struct option longopts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long long n;
	int c;

	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_unsigned(optarg, KVP_POOL_COUNT - 1, &n) < 0) {
				fprintf(stderr, "azl-agent: --pool takes 0..%d, not '%s'\n",
					KVP_POOL_COUNT - 1, optarg);
				return -EINVAL;
			}
			o->pool = (unsigned)n;
			o->pool_given = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			kvp_usage(stdout);
			exit(0);
		default:
			kvp_usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
}

static void print_record(struct json_object *arr, unsigned pool, const char *key, const char *value)
{
	struct json_object *o;

	if (!arr) {
		printf("%u\t%s\t%s\n", pool, key, value);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "pool", json_object_new_int((int)pool));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "value", json_object_new_string(value));
	json_object_array_add(arr, o);
}

/* Walk one pool by index, as the host's ENUMERATE does. */
static int list_pool(const struct root *r, unsigned pool, struct json_object *arr)
{
	char key[KVP_KEY_SIZE], value[KVP_VALUE_SIZE];
	struct kvp_intrinsic k;
	struct kvp_pool *p;
	int ret = 0;

	if (pool == KVP_POOL_AUTO) {
		kvp_intrinsic_init(&k, r, 1000);
		for (uint32_t i = 0; kvp_intrinsic_get(&k, i, key, value) == 0; i++)
			print_record(arr, pool, key, value);
		kvp_intrinsic_done(&k);
		return 0;
	}
	ret = kvp_pool_open(r, pool, true, &p);
	if (ret < 0) {
		fprintf(stderr, "azl-agent: pool %u: %s\n", pool, strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; (ret = kvp_pool_enumerate(p, i, key, value)) == 0; i++)
		print_record(arr, pool, key, value);
	kvp_pool_close(p);
	return ret == -ENOENT ? 0 : ret;
}

static int kvp_list(const struct root *r, const struct kvp_options *o)
{
	struct json_object *arr = o->json ? json_object_new_array() : NULL;
	int ret = 0;

	for (unsigned pool = 0; pool < KVP_POOL_COUNT; pool++)
		if (!o->pool_given || pool == o->pool)
			ret = list_pool(r, pool, arr) < 0 ? -EIO : ret;
	if (arr) {
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	}
	return ret;
}

/* What a write to a pool must satisfy before it touches the file. */
static int check_write(unsigned pool, const char *key, const char *value)
{
	size_t klimit = pool == KVP_POOL_GUEST ? KVP_HOST_KEY_LIMIT : KVP_KEY_SIZE - 1;
	size_t vlimit = pool == KVP_POOL_GUEST ? KVP_HOST_VALUE_LIMIT : KVP_VALUE_SIZE - 1;

	if (pool == KVP_POOL_AUTO) {
		fprintf(stderr, "azl-agent: pool 2 is computed by the KVP service; it cannot be written\n");
		return -EINVAL;
	}
	if (!key[0] || strlen(key) > klimit) {
		fprintf(stderr, "azl-agent: a key in pool %u must be 1..%zu bytes (this one is %zu)%s\n",
			pool, klimit, strlen(key),
			pool == KVP_POOL_GUEST ? ": the host reads no more" : "");
		return -EINVAL;
	}
	if (value && strlen(value) > vlimit) {
		fprintf(stderr, "azl-agent: a value in pool %u must be at most %zu bytes (this one is %zu)%s\n",
			pool, vlimit, strlen(value),
			pool == KVP_POOL_GUEST ? ": the host reads no more" : "");
		return -EINVAL;
	}
	return 0;
}

static int kvp_key_op(const struct root *r, const struct kvp_options *o, const char *verb,
		      char **args, int nargs)
{
	char value[KVP_VALUE_SIZE];
	struct kvp_pool *p;
	int ret;

	if (nargs != (strcmp(verb, "set") == 0 ? 2 : 1)) {
		kvp_usage(stderr);
		return -EINVAL;
	}
	if (strcmp(verb, "get") != 0 &&
	    check_write(o->pool, args[0], strcmp(verb, "set") == 0 ? args[1] : NULL) < 0)
		return -EINVAL;
	if (strcmp(verb, "get") == 0 && o->pool == KVP_POOL_AUTO) {
		struct kvp_intrinsic k;

		kvp_intrinsic_init(&k, r, 1000);
		ret = kvp_intrinsic_lookup(&k, args[0], value);
		kvp_intrinsic_done(&k);
		p = NULL;
	} else {
		ret = kvp_pool_open(r, o->pool, true, &p);
		if (ret < 0) {
			fprintf(stderr, "azl-agent: pool %u: %s\n", o->pool, strerror(-ret));
			return ret;
		}
		if (strcmp(verb, "get") == 0)
			ret = kvp_pool_get(p, args[0], value);
		else if (strcmp(verb, "set") == 0)
			ret = kvp_pool_set(p, args[0], args[1]);
		else
			ret = kvp_pool_delete(p, args[0]);
		kvp_pool_close(p);
	}
	if (ret == -ENOENT) {
		fprintf(stderr, "azl-agent: no key '%s' in pool %u\n", args[0], o->pool);
		return ret;
	}
	if (ret < 0) {
		fprintf(stderr, "azl-agent: %s '%s' in pool %u: %s\n", verb, args[0], o->pool,
			strerror(-ret));
		return ret;
	}
	if (strcmp(verb, "get") == 0) {
		struct json_object *arr = o->json ? json_object_new_array() : NULL;

		if (arr) {
			print_record(arr, o->pool, args[0], value);
			puts(json_object_to_json_string_ext(json_object_array_get_idx(arr, 0),
							    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(arr);
		} else {
			puts(value);
		}
	}
	return 0;
}

int cmd_kvp(const struct global_options *g, int argc, char **argv)
{
	struct kvp_options o = { .pool = KVP_DEFAULT_POOL, .json = g->json };
	const char *verb;
	struct root r;
	int ret;

	if (argc < 2) {
		kvp_usage(stderr);
		return 2;
	}
	/*
	 * Options may follow the key (`kvp get KEY --json`): parse from the
	 * verb on, and make getopt start afresh (optind 0), because main()
	 * left it in stop-at-the-first-word mode.
	 */
	verb = argv[1];
	argc--;
	argv++;
	optind = 0;
	if (parse_kvp_options(argc, argv, &o) < 0)
		return 2;
	if (root_init(&r, g->root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return 2;
	}
	if (strcmp(verb, "list") == 0 && optind == argc)
		ret = kvp_list(&r, &o);
	else if (strcmp(verb, "get") == 0 || strcmp(verb, "set") == 0 || strcmp(verb, "delete") == 0)
		ret = kvp_key_op(&r, &o, verb, argv + optind, argc - optind);
	else {
		kvp_usage(stderr);
		return 2;
	}
	if (fflush(stdout) != 0)
		return 1;
	return ret == -EINVAL ? 2 : ret < 0 ? 1 : 0;
}
