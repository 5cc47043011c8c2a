/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The KVP exchange between the kernel's hv_utils transport and its daemon:
 * one struct hv_kvp_msg (7432 bytes) per read() and write() on
 * /dev/vmbus/hv_kvp.  The layouts are the kernel's own uapi structs; the
 * offsets the kernel really reads and writes are asserted in
 * tests/unit/test_kvp_proto.c.
 */

#include <linux/hyperv.h>
#include <stdint.h>

#define KVP_MSG_SIZE sizeof(struct hv_kvp_msg)
#define KVP_KEY_SIZE HV_KVP_EXCHANGE_MAX_KEY_SIZE     /* 512, with the NUL */
#define KVP_VALUE_SIZE HV_KVP_EXCHANGE_MAX_VALUE_SIZE /* 2048, with the NUL */
#define KVP_POOL_RECORD_SIZE (KVP_KEY_SIZE + KVP_VALUE_SIZE) /* 2560 on disk */

/*
 * What the host sees of a guest key or value: the kernel converts to UTF-16
 * with room for 254 and 1022 units (research/kvp.md §1.4), so anything we
 * publish beyond these byte counts reaches the host cut short.
 */
#define KVP_HOST_KEY_LIMIT 254
#define KVP_HOST_VALUE_LIMIT 1022

/* Status codes forwarded verbatim to the host (hyperv.h lacks some). */
#define KVP_S_OK 0x00000000u
#define KVP_E_FAIL 0x80004005u
#define KVP_S_CONT 0x80070103u         /* no (more) item */
#define KVP_INVALIDARG 0x80070057u
#define KVP_GUID_NOTFOUND 0x80041002u

/* The version string the kernel hands back at registration (offset 4). */
#define KVP_VERSION_SIZE 512

/*
 * The IP configuration of one adapter in the daemon's UTF-8 form.  Field
 * sizes are those of the message; lists are ';'-separated.
 */
struct kvp_ip_info {
	char adapter_id[MAX_ADAPTER_ID_SIZE * 2]; /* MAC (GET) or "{guid}" (SET) */
	uint8_t addr_family;                      /* ADDR_FAMILY_IPV4 | _IPV6 bits */
	uint8_t dhcp_enabled;
	char ip_addr[MAX_IP_ADDR_SIZE * 2];
	char sub_net[MAX_IP_ADDR_SIZE * 2];
	char gate_way[MAX_GATEWAY_SIZE * 2];
	char dns_addr[MAX_IP_ADDR_SIZE * 2];
};

/*
 * The host-visible capacity of each list in struct kvp_ip_info: the kernel
 * converts at most this many UTF-16 units, NUL included, so a string must
 * be shorter than this to arrive whole.
 */
#define KVP_IP_LIST_LIMIT (MAX_IP_ADDR_SIZE - 1)
#define KVP_GATEWAY_LIST_LIMIT (MAX_GATEWAY_SIZE - 1)

/* Copy the IP fields out of / into a message (bounded; always terminated). */
void kvp_msg_get_ip_info(const struct hv_kvp_msg *msg, struct kvp_ip_info *info);
void kvp_msg_put_ip_info(struct hv_kvp_msg *msg, const struct kvp_ip_info *info);

/* Human name of an operation or pool for logs ("ENUMERATE", "pool 3"). */
const char *kvp_op_name(unsigned op);
