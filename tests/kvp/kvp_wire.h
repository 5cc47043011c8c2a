/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The wire between the LD_PRELOAD shim (kvp_shim.so, inside a KVP daemon)
 * and the fake kernel side (kvp_host): one AF_UNIX SOCK_SEQPACKET
 * connection per open() of the KVP device.  SEQPACKET keeps message
 * boundaries, so one packet is one read() or write() of the char device.
 *
 * host -> shim: a 1-byte type, then its payload:
 *   KVP_WIRE_OPENED  int32 errno: the verdict on the open(); 0 = this
 *                    connection is the device's one opener, EBUSY = a
 *                    daemon already holds it (the shim fails the open).
 *                    Always the first packet of a connection.
 *   KVP_WIRE_MSG     7432 bytes: a message the kernel queued for the
 *                    daemon (the registration reply or a host request).
 *   KVP_WIRE_ACK     int32 errno: the outcome of the daemon's last write
 *                    (0 = accepted, else what write() fails with).
 *
 * shim -> host: a packet of at least KVP_WIRE_MSG_SIZE bytes is a daemon
 * write(), byte for byte.  A shorter packet is a notice from the shim
 * (the shim fails writes shorter than a message itself, as the kernel
 * does, so they never reach the host):
 *   KVP_WIRE_CONSUMED  the daemon read the registration reply (the
 *                      kernel's on_read: registration completes only
 *                      then).  That a request was read the host learns
 *                      from its reply, or from SIOCOUTQ on its socket
 *                      (an unread request makes the next one fail).
 *   KVP_WIRE_REQUEUE   the shim was waiting for an ACK and received a
 *                      queued message first (the host queued a request
 *                      while the daemon was writing): the host sends it
 *                      again after the ACK, so that it stays readable
 *                      and poll() on the socket keeps meaning "queued".
 *
 * Every write gets exactly one ACK; the host sends a MSG only when the
 * previous one was consumed (one queued message at most, as the kernel).
 */

#include <stdint.h>

#define KVP_WIRE_MSG_SIZE 7432 /* sizeof(struct hv_kvp_msg) */

enum kvp_wire_type {
	KVP_WIRE_OPENED = 'O',
	KVP_WIRE_MSG = 'M',
	KVP_WIRE_ACK = 'A',
	KVP_WIRE_CONSUMED = 'C',
	KVP_WIRE_REQUEUE = 'R',
};

/* The largest host -> shim packet: type byte + message. */
#define KVP_WIRE_MAX_PACKET (1 + KVP_WIRE_MSG_SIZE)
/* A daemon write longer than this is forwarded cut to this size (the
 * kernel only looks at the first 7432 bytes of a longer write). */
#define KVP_WIRE_MAX_WRITE 65536

/* Environment of the shim. */
#define KVP_SHIM_ENV_PATH "AZL_KVP_SHIM_PATH"     /* device path to intercept */
#define KVP_SHIM_ENV_SOCKET "AZL_KVP_SHIM_SOCKET" /* the host's listening socket */
#define KVP_SHIM_DEFAULT_PATH "/dev/vmbus/hv_kvp"
