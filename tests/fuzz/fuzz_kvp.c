// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: one message from the kernel's KVP transport, every byte
 * chosen by the host (research/kvp.md §6), through kvp_handle() against a
 * private temporary root.  The root has one NIC in its sysfs, so the IP
 * operations parse their lists instead of stopping at the adapter lookup.
 * The inputs are short of 7432 bytes on purpose: the tail stays zero, as
 * in the kernel's messages.  SET_IP_INFO is refused by configuration here
 * (the fuzzer must not reconfigure this machine), so its lists also go
 * through the pure parser and both renderers directly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvp_handler.h"
#include "kvp_ipinfo_internal.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	char dir[64];
	struct root root;
	struct agent_config cfg;
	struct kvp_handler h;
	unsigned runs;
};

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void make_root(struct fuzz_state *s)
{
	char path[256];

	snprintf(s->dir, sizeof(s->dir), "/tmp/azl-fuzz-kvp-XXXXXX");
	if (!mkdtemp(s->dir))
		abort();
	snprintf(path, sizeof(path), "mkdir -p %s/sys/class/net/eth0/device", s->dir);
	if (system(path) != 0)
		abort();
	write_file(s->dir, "sys/class/net/eth0/address", "00:15:5d:00:00:01\n");
	write_file(s->dir, "sys/class/net/eth0/device/device_id",
		   "{f8615163-0000-1000-8000-000000000001}\n");
	root_init(&s->root, s->dir);
	config_defaults(&s->cfg);
	s->cfg.kvp.durable = false;
	/* The fuzzer must never reconfigure this machine's network. */
	s->cfg.kvp.set_ip_info = false;
}

/* Start over with empty pools now and then, so files stay small. */
static void reset_pools(struct fuzz_state *s)
{
	char path[256];

	kvp_handler_done(&s->h);
	for (int i = 0; i < KVP_POOL_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/var/lib/hyperv/.kvp_pool_%d", s->dir, i);
		unlink(path);
	}
	kvp_handler_init(&s->h, &s->root, &s->cfg);
}

static void parse_set_ip_info(const struct hv_kvp_msg *msg)
{
	static struct kvp_ip_info info;
	static struct ipinfo_cfg cfg;
	char err[256], *text;

	kvp_msg_get_ip_info(msg, &info);
	if (ipinfo_parse_request(&info, &cfg, err, sizeof(err)) < 0)
		return;
	if (ipinfo_render_networkd(&cfg, "eth0", "00:15:5d:00:00:01", &text) == 0)
		free(text);
	if (ipinfo_render_keyfile(&cfg, "eth0", "00:15:5d:00:00:01", &text) == 0)
		free(text);
}

/* libFuzzer keeps one process for all inputs; so does this state. */
static struct fuzz_state *state;

static void remove_root(void)
{
	char cmd[128];

	kvp_handler_done(&state->h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_kvp: could not remove %s\n", state->dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hv_kvp_msg msg;
	struct fuzz_state *s = state;

	if (!s) {
		s = state = calloc(1, sizeof(*s));
		make_root(s);
		kvp_handler_init(&s->h, &s->root, &s->cfg);
		atexit(remove_root);
	}
	if (++s->runs % 512 == 0)
		reset_pools(s);
	memset(&msg, 0, sizeof(msg));
	memcpy(&msg, data, size < sizeof(msg) ? size : sizeof(msg));
	if (msg.kvp_hdr.operation == KVP_OP_SET_IP_INFO)
		parse_set_ip_info(&msg);
	kvp_handle(&s->h, &msg);
	return 0;
}
