// SPDX-License-Identifier: MIT
/*
 * Helpers for struct hv_kvp_msg.  The IP operations carry UTF-8 strings in
 * fields the uapi header declares as __u16 arrays (the kernel converts
 * to UTF-16 for the host); these copy them as bytes, bounded, terminated.
 */
#include <string.h>

#include "kvp_proto.h"

/* Copy a possibly unterminated field into a string buffer of the same size. */
static void field_to_string(char *dst, const void *src, size_t size)
{
	memcpy(dst, src, size);
	dst[size - 1] = '\0';
}

/* Copy a string into a field, zero-filling the rest (nothing stale goes out). */
static void string_to_field(void *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memset(dst, 0, size);
	memcpy(dst, src, n);
}

void kvp_msg_get_ip_info(const struct hv_kvp_msg *msg, struct kvp_ip_info *info)
{
	const struct hv_kvp_ipaddr_value *v = &msg->body.kvp_ip_val;

	memset(info, 0, sizeof(*info));
	field_to_string(info->adapter_id, v->adapter_id, sizeof(info->adapter_id));
	info->addr_family = v->addr_family;
	info->dhcp_enabled = v->dhcp_enabled;
	field_to_string(info->ip_addr, v->ip_addr, sizeof(info->ip_addr));
	field_to_string(info->sub_net, v->sub_net, sizeof(info->sub_net));
	field_to_string(info->gate_way, v->gate_way, sizeof(info->gate_way));
	field_to_string(info->dns_addr, v->dns_addr, sizeof(info->dns_addr));
}

void kvp_msg_put_ip_info(struct hv_kvp_msg *msg, const struct kvp_ip_info *info)
{
	struct hv_kvp_ipaddr_value *v = &msg->body.kvp_ip_val;

	string_to_field(v->adapter_id, info->adapter_id, sizeof(v->adapter_id));
	v->addr_family = info->addr_family;
	v->dhcp_enabled = info->dhcp_enabled;
	string_to_field(v->ip_addr, info->ip_addr, sizeof(v->ip_addr));
	string_to_field(v->sub_net, info->sub_net, sizeof(v->sub_net));
	string_to_field(v->gate_way, info->gate_way, sizeof(v->gate_way));
	string_to_field(v->dns_addr, info->dns_addr, sizeof(v->dns_addr));
}

const char *kvp_op_name(unsigned op)
{
	static const char *const names[] = {
		[KVP_OP_GET] = "GET",
		[KVP_OP_SET] = "SET",
		[KVP_OP_DELETE] = "DELETE",
		[KVP_OP_ENUMERATE] = "ENUMERATE",
		[KVP_OP_GET_IP_INFO] = "GET_IP_INFO",
		[KVP_OP_SET_IP_INFO] = "SET_IP_INFO",
	};

	if (op < sizeof(names) / sizeof(names[0]))
		return names[op];
	if (op == KVP_OP_REGISTER)
		return "REGISTER";
	if (op == KVP_OP_REGISTER1)
		return "REGISTER1";
	return "unknown";
}
