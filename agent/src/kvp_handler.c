// SPDX-License-Identifier: MIT
/* KVP request dispatch: checks the host's message, answers from the stores. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvp_handler.h"
#include "kvp_ipinfo.h"
#include "log.h"

/* Not in the uapi header: the status for an operation we do not know. */
#define KVP_NOT_SUPPORTED 0x80070032u

/* Say what an open found left behind by a writer that died. */
static void log_recovery(const struct kvp_pool *p, unsigned pool)
{
	struct kvp_pool_recovery rec;

	kvp_pool_recovered(p, &rec);
	if (rec.replayed || rec.torn || rec.stale)
		log_notice("kvp: pool %u: a writer died mid-change: %u change(s) completed, "
			   "%u unfinished one(s) dropped, %u outdated journal(s) discarded",
			   pool, rec.replayed, rec.torn, rec.stale);
}

/*
 * Open a pool on first use.  A pool that cannot be opened is tried again
 * at each request for it (the host walks pools periodically), but its
 * error is logged once, not once per request.
 */
static struct kvp_pool *handler_pool(struct kvp_handler *h, unsigned pool)
{
	int ret;

	if (h->pools[pool])
		return h->pools[pool];
	ret = kvp_pool_open(h->root, pool, h->cfg->kvp.durable, &h->pools[pool]);
	if (ret < 0) {
		if (ret != h->pool_error[pool])
			log_error("kvp: cannot open pool %u: %s", pool, strerror(-ret));
		h->pool_error[pool] = ret;
		return NULL;
	}
	if (h->pool_error[pool])
		log_notice("kvp: pool %u is open again", pool);
	h->pool_error[pool] = 0;
	log_recovery(h->pools[pool], pool);
	return h->pools[pool];
}

void kvp_handler_init(struct kvp_handler *h, const struct root *r, const struct agent_config *cfg)
{
	memset(h, 0, sizeof(*h));
	h->root = r;
	h->cfg = cfg;
	kvp_intrinsic_init(&h->intrinsic, r, cfg->kvp.resolve_timeout_ms);
	/* All five files exist from the start, as tools and the host expect. */
	for (unsigned i = 0; i < KVP_POOL_COUNT; i++)
		handler_pool(h, i);
}

void kvp_handler_done(struct kvp_handler *h)
{
	for (unsigned i = 0; i < KVP_POOL_COUNT; i++)
		kvp_pool_close(h->pools[i]);
	kvp_intrinsic_done(&h->intrinsic);
	memset(h->pools, 0, sizeof(h->pools));
}

void kvp_handler_set_version(struct kvp_handler *h, const char *version)
{
	snprintf(h->intrinsic.version, sizeof(h->intrinsic.version), "%s", version);
}

/*
 * A string field from the host: it must end within its field.  The size
 * the host claims is not trusted (the reference daemon compares that many
 * bytes); the string itself is the key.  The empty key is a key, as it is
 * for hv_kvp_daemon.
 */
static const char *host_string(const __u8 *field, size_t size)
{
	return strnlen((const char *)field, size) == size ? NULL : (const char *)field;
}

/* Fill an ENUMERATE-layout answer; the kernel reads key @20 and value @532. */
static void put_enum_reply(struct hv_kvp_msg *msg, const char *key, const char *value)
{
	struct hv_kvp_exchg_msg_value *d = &msg->body.kvp_enum_data.data;

	memset(d->key, 0, sizeof(d->key));
	memset(d->value, 0, sizeof(d->value));
	snprintf((char *)d->key, sizeof(d->key), "%s", key);
	snprintf((char *)d->value, sizeof(d->value), "%s", value);
	d->value_type = REG_SZ;
	d->key_size = (__u32)strlen(key) + 1;
	d->value_size = (__u32)strlen(value) + 1;
}

static __u32 handle_enumerate(struct kvp_handler *h, unsigned pool, struct hv_kvp_msg *msg)
{
	char key[KVP_KEY_SIZE], value[KVP_VALUE_SIZE];
	uint32_t index = msg->body.kvp_enum_data.index;
	struct kvp_pool *p;
	int ret;

	if (pool == KVP_POOL_AUTO) {
		ret = kvp_intrinsic_get(&h->intrinsic, index, key, value);
	} else {
		p = handler_pool(h, pool);
		ret = p ? kvp_pool_enumerate(p, index, key, value) : -EIO;
	}
	if (ret < 0)
		return KVP_S_CONT; /* also the normal end of the host's walk */
	put_enum_reply(msg, key, value);
	return KVP_S_OK;
}

/*
 * GET answers in the ENUMERATE layout because that is where the kernel
 * reads the value (@532), whatever the GET struct says (@528); the
 * reference daemon writes @528 and so never returns a value.
 */
static __u32 handle_get(struct kvp_handler *h, unsigned pool, struct hv_kvp_msg *msg)
{
	const char *key = host_string(msg->body.kvp_get.data.key, KVP_KEY_SIZE);
	char k[KVP_KEY_SIZE], value[KVP_VALUE_SIZE];
	struct kvp_pool *p;
	int ret;

	if (!key)
		return KVP_S_CONT;
	snprintf(k, sizeof(k), "%s", key);
	if (pool == KVP_POOL_AUTO && kvp_intrinsic_lookup(&h->intrinsic, k, value) == 0)
		ret = 0;
	else
		ret = (p = handler_pool(h, pool)) ? kvp_pool_get(p, k, value) : -EIO;
	if (ret < 0)
		return KVP_S_CONT;
	put_enum_reply(msg, k, value);
	return KVP_S_OK;
}

static __u32 handle_set(struct kvp_handler *h, unsigned pool, struct hv_kvp_msg *msg)
{
	const char *key = host_string(msg->body.kvp_set.data.key, KVP_KEY_SIZE);
	const char *value = (const char *)msg->body.kvp_set.data.value;
	struct kvp_pool *p = handler_pool(h, pool);
	int ret;

	if (!key || strnlen(value, KVP_VALUE_SIZE) == KVP_VALUE_SIZE || !p)
		return KVP_S_CONT;
	ret = kvp_pool_set(p, key, value);
	if (ret < 0) {
		log_warning("kvp: SET %s in pool %u: %s", key, pool, strerror(-ret));
		return KVP_S_CONT;
	}
	log_debug("kvp: pool %u: set %s", pool, key);
	return KVP_S_OK;
}

static __u32 handle_delete(struct kvp_handler *h, unsigned pool, struct hv_kvp_msg *msg)
{
	const char *key = host_string(msg->body.kvp_delete.key, KVP_KEY_SIZE);
	struct kvp_pool *p = handler_pool(h, pool);
	int ret;

	if (!key || !p)
		return KVP_S_CONT;
	ret = kvp_pool_delete(p, key);
	if (ret < 0 && ret != -ENOENT)
		log_warning("kvp: DELETE %s in pool %u: %s", key, pool, strerror(-ret));
	return ret < 0 ? KVP_S_CONT : KVP_S_OK;
}

static __u32 handle_get_ip_info(struct kvp_handler *h, struct hv_kvp_msg *msg)
{
	struct kvp_ip_info *info = &h->ip;
	int ret;

	kvp_msg_get_ip_info(msg, info);
	ret = kvp_ip_info_get(h->root, info);
	if (ret < 0) {
		log_debug("kvp: GET_IP_INFO %s: %s", info->adapter_id, strerror(-ret));
		return KVP_E_FAIL;
	}
	kvp_msg_put_ip_info(msg, info);
	return KVP_S_OK;
}

static __u32 handle_set_ip_info(struct kvp_handler *h, struct hv_kvp_msg *msg)
{
	struct kvp_ip_info *info = &h->ip;
	int ret;

	kvp_msg_get_ip_info(msg, info);
	if (!h->cfg->kvp.set_ip_info) {
		log_notice("kvp: the host asked to configure %s; refused ([kvp] set_ip_info = no)",
			   info->adapter_id);
		return KVP_E_FAIL;
	}
	ret = kvp_ip_info_set(h->root, h->cfg, info);
	if (ret == 0) {
		log_info("kvp: configured %s as the host asked", info->adapter_id);
		return KVP_S_OK;
	}
	log_warning("kvp: SET_IP_INFO %s: %s", info->adapter_id, strerror(-ret));
	return ret == -ENODEV ? KVP_GUID_NOTFOUND : ret == -EINVAL ? KVP_INVALIDARG : KVP_E_FAIL;
}

static __u32 dispatch(struct kvp_handler *h, unsigned op, unsigned pool, struct hv_kvp_msg *msg)
{
	if (op == KVP_OP_GET_IP_INFO)
		return handle_get_ip_info(h, msg);
	if (op == KVP_OP_SET_IP_INFO)
		return handle_set_ip_info(h, msg);
	if (op > KVP_OP_ENUMERATE) {
		log_warning("kvp: unknown operation %u from the host", op);
		return KVP_NOT_SUPPORTED;
	}
	if (pool >= KVP_POOL_COUNT) {
		log_warning("kvp: %s for pool %u, which does not exist", kvp_op_name(op), pool);
		return KVP_S_CONT;
	}
	switch (op) {
	case KVP_OP_GET:
		return handle_get(h, pool, msg);
	case KVP_OP_SET:
		return handle_set(h, pool, msg);
	case KVP_OP_DELETE:
		return handle_delete(h, pool, msg);
	default:
		return handle_enumerate(h, pool, msg);
	}
}

void kvp_handle(struct kvp_handler *h, struct hv_kvp_msg *msg)
{
	unsigned op = msg->kvp_hdr.operation, pool = msg->kvp_hdr.pool;
	__u32 status = dispatch(h, op, pool, msg);

	/* The status overwrites the header (a union); the kernel kept the op. */
	msg->error = (int)status;
	if (log_debug_enabled())
		log_debug("kvp: %s pool %u -> 0x%08x", kvp_op_name(op), pool, status);
}
