/* SPDX-License-Identifier: MIT */
/*
 * kvp_host: the kernel side of /dev/vmbus/hv_kvp, emulated for a KVP daemon
 * that runs under kvp_shim.so, driven by a script of host operations.
 *
 * It behaves as hv_utils' KVP driver and its char-device transport do
 * (research/kvp.md §1.5-1.7 and §6): one opener at a time (a second one is
 * refused with EBUSY); the first write must register (op 100, or 4 for a
 * legacy daemon) else EINVAL; the reply (op echoed, "3.1" at offset 4) is
 * queued and the device becomes READY only once the daemon has read it;
 * one request outstanding at a time, built exactly as the kernel builds it
 * from the host's UTF-16 (key and value capped at 511/2047 UTF-8 bytes,
 * sizes with the NUL, value_type not copied, DELETE at its own offsets);
 * a reply with nothing outstanding -> EINVAL; a request unanswered after
 * the timeout (30 s, --timeout-ms) -> the host gets HV_E_FAIL and an unread
 * request stays queued, so the next one fails at once; when the daemon
 * closes, a pending transaction fails and it must register again.  Replies
 * are converted as the kernel converts them for the host: status from bytes
 * 0..3; ENUMERATE (and, the kernel's quirk, GET) data from @20/@532 up to
 * the NUL, UTF-8 -> UTF-16 capped at 254/1022 units, invalid UTF-8 -> the
 * status becomes HV_E_FAIL; GET_IP_INFO fields capped at 128/1024/512 units.
 *
 * It prints one deterministic line per host operation (the request as the
 * script gave it, the status in hex, what the host would see) so that two
 * daemons' transcripts can be diffed; events that differ from run to run
 * (pids, refusals) go to the log (stderr or --log).
 *
 * usage: kvp_host --socket PATH [--device FILE] [--timeout-ms N]
 *                 [--wait-ms N] [--log FILE] [--notify PATH] [--off] [SCRIPT]
 *        kvp_host --client [SCRIPT]      (under kvp_shim.so: a test daemon)
 *        kvp_host --dump-pool FILE       (one line per record of a pool)
 *
 * --off starts with no device (the script says `device on`); --notify
 * binds PATH as the daemon's NOTIFY_SOCKET and records what it sends.
 *
 * Script: one operation per line; '#' starts a comment; arguments are
 * separated by blanks; "double quotes" hold blanks or nothing ("" is the
 * empty string) with the escapes \\ \" \n \t \r \xNN.
 *
 *   set POOL KEY VALUE         set-u32 / set-u64 POOL KEY NUMBER
 *   get POOL KEY               delete POOL KEY
 *   enumerate POOL INDEX       enumerate-all POOL   (0, 1, .. until non-zero)
 *   getip MAC FAMILY           (FAMILY: 0|none, 1|ipv4, 2|ipv6, 3|both)
 *   setip {GUID} FAMILY DHCP IPS SUBNETS GATEWAYS DNS   (';'-separated)
 *   raw FIELD...               a message built byte by byte (hostile input):
 *        op=N pool=N u8@OFF=N u16@OFF=N u32@OFF=N str@OFF=TEXT
 *        fill@OFF=LEN:C (LEN bytes of the character C, or of 0xNN)
 *   stall OP...                the reply arrives only after the timeout
 *   hibernate OP...            the reply write fails EINVAL (pre_suspend)
 *   repeat N OP...             time each run ({i} in an argument is the
 *                              iteration); prints median / p90 / total
 *   wait-register [MS]         until a daemon has registered
 *   expect-reconnect [MS]      until it registers again (after a close)
 *   expect-close [MS]          until the daemon closed the device
 *   teardown                   the module goes away under the daemon
 *   device off|on              the device disappears / appears
 *   kill SIGNAL                signal the daemon (TERM, KILL, STOP, CONT..)
 *   expect-notify LINE [MS]    until the daemon sent LINE (READY=1) to --notify
 *   wait-file PATH [MS]        until PATH exists (a test's checkpoint)
 *   timeout MS                 the kernel's request timeout from now on
 *   wait-ms MS                 how long a request waits for a registered
 *                              daemon (default --wait-ms)
 *   sleep MS                   keep serving events for MS
 *   echo TEXT...               print a marker line
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/hyperv.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kvp_wire.h"

#define MSG_SIZE KVP_WIRE_MSG_SIZE

/* Offsets in struct hv_kvp_msg (research/kvp.md §6.2), checked below. */
enum {
	OFF_OP = 0,
	OFF_POOL = 1,
	OFF_KV_KEY_SIZE = 8,
	OFF_KV_VALUE_SIZE = 12,
	OFF_KV_KEY = 16,
	OFF_KV_VALUE = 528,
	OFF_ENUM_INDEX = 4,
	OFF_ENUM_KEY = 20,
	OFF_ENUM_VALUE = 532,
	OFF_DEL_KEY_SIZE = 4,
	OFF_DEL_KEY = 8,
	OFF_REG_VERSION = 4,
	OFF_IP_ADAPTER = 4,
	OFF_IP_FAMILY = 260,
	OFF_IP_DHCP = 261,
	OFF_IP_ADDR = 262,
	OFF_IP_SUBNET = 2310,
	OFF_IP_GW = 4358,
	OFF_IP_DNS = 5382,
};

#define CHECK_OFF(field, off) _Static_assert(offsetof(struct hv_kvp_msg, field) == (off), #field)
_Static_assert(sizeof(struct hv_kvp_msg) == MSG_SIZE, "hv_kvp_msg size");
CHECK_OFF(body.kvp_set.data.key_size, OFF_KV_KEY_SIZE);
CHECK_OFF(body.kvp_set.data.value_size, OFF_KV_VALUE_SIZE);
CHECK_OFF(body.kvp_set.data.key, OFF_KV_KEY);
CHECK_OFF(body.kvp_set.data.value, OFF_KV_VALUE);
CHECK_OFF(body.kvp_enum_data.index, OFF_ENUM_INDEX);
CHECK_OFF(body.kvp_enum_data.data.key, OFF_ENUM_KEY);
CHECK_OFF(body.kvp_enum_data.data.value, OFF_ENUM_VALUE);
CHECK_OFF(body.kvp_delete.key_size, OFF_DEL_KEY_SIZE);
CHECK_OFF(body.kvp_delete.key, OFF_DEL_KEY);
CHECK_OFF(body.kvp_register.version, OFF_REG_VERSION);
CHECK_OFF(body.kvp_ip_val.adapter_id, OFF_IP_ADAPTER);
CHECK_OFF(body.kvp_ip_val.addr_family, OFF_IP_FAMILY);
CHECK_OFF(body.kvp_ip_val.dhcp_enabled, OFF_IP_DHCP);
CHECK_OFF(body.kvp_ip_val.ip_addr, OFF_IP_ADDR);
CHECK_OFF(body.kvp_ip_val.sub_net, OFF_IP_SUBNET);
CHECK_OFF(body.kvp_ip_val.gate_way, OFF_IP_GW);
CHECK_OFF(body.kvp_ip_val.dns_addr, OFF_IP_DNS);

#define OP_GET 0
#define OP_SET 1
#define OP_DELETE 2
#define OP_ENUMERATE 3
#define OP_GET_IP_INFO 4
#define OP_SET_IP_INFO 5
#define OP_REGISTER 4
#define OP_REGISTER1 100

#define ST_OK 0x00000000u
#define ST_E_FAIL 0x80004005u
#define ST_S_CONT 0x80070103u

#define KEY_BYTES 512      /* HV_KVP_EXCHANGE_MAX_KEY_SIZE */
#define VALUE_BYTES 2048   /* HV_KVP_EXCHANGE_MAX_VALUE_SIZE */
#define ADAPTER_UNITS 128  /* MAX_ADAPTER_ID_SIZE */
#define IP_UNITS 1024      /* MAX_IP_ADDR_SIZE */
#define GW_UNITS 512       /* MAX_GATEWAY_SIZE */

/* What the kernel gives back to the host: caps of utf8s_to_utf16s. */
#define HOST_KEY_UNITS (KEY_BYTES / 2 - 2)     /* 254 */
#define HOST_VALUE_UNITS (VALUE_BYTES / 2 - 2) /* 1022 */

#define SHOW_SIZE 8192 /* a host-visible string, back in UTF-8 */
#define MAX_ARGS 64
#define MAX_LINE 65536

/* ----------------------------------------------------------------- utils */

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kvp_host: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void put_u32(uint8_t *m, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		m[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *m, size_t off)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | m[off + i];
	return v;
}

/* Print s quoted, every byte visible and unambiguous. */
static void print_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------- the kernel's UTF work */

/*
 * One UTF-8 sequence to a code point, with the kernel's rules (nls_base
 * utf8_to_utf32): lead bytes of up to 6-byte forms are recognized, then
 * overlong forms, surrogates and values above U+10FFFF are rejected.
 * Returns the length used or -1.
 */
static int utf8_decode(const uint8_t *s, size_t inlen, uint32_t *cp)
{
	static const uint32_t min_for_len[7] = { 0, 0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000 };
	uint8_t c0 = s[0];
	int len;
	uint32_t v;

	if (c0 < 0x80)
		len = 1;
	else if ((c0 & 0xe0) == 0xc0)
		len = 2;
	else if ((c0 & 0xf0) == 0xe0)
		len = 3;
	else if ((c0 & 0xf8) == 0xf0)
		len = 4;
	else if ((c0 & 0xfc) == 0xf8)
		len = 5;
	else if ((c0 & 0xfe) == 0xfc)
		len = 6;
	else
		return -1;
	if ((size_t)len > inlen)
		return -1;
	v = len == 1 ? c0 : (uint32_t)(c0 & (0x7f >> len));
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min_for_len[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	return len;
}

/*
 * utf8s_to_utf16s as the kernel runs it on a daemon reply: stops at a NUL,
 * at inlen or when maxout units are written (a surrogate pair that does
 * not fit ends it); invalid UTF-8 before that -> -1.
 */
static int kernel_utf8_to_utf16(const uint8_t *s, size_t inlen, uint16_t *out, int maxout)
{
	int n = 0;

	while (inlen > 0 && maxout > 0 && *s) {
		uint32_t cp;
		int len = utf8_decode(s, inlen, &cp);

		if (len < 0)
			return -1;
		s += len;
		inlen -= (size_t)len;
		if (cp >= 0x10000) {
			if (maxout < 2)
				break;
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xd800 | (cp >> 10));
			out[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
			maxout -= 2;
		} else {
			out[n++] = (uint16_t)cp;
			maxout--;
		}
	}
	return n;
}

static int utf8_encode(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | (cp >> 6));
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | (cp >> 12));
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | (cp >> 18));
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * utf16s_to_utf8s as the kernel runs it on a host request: stops at a NUL
 * unit, after inlen units or when maxout bytes are written; a lone or
 * broken surrogate and a character that does not fit any more are skipped.
 * Returns the bytes written (never NUL-terminated by itself).
 */
static int kernel_utf16_to_utf8(const uint16_t *in, int inlen, uint8_t *out, int maxout)
{
	int n = 0;

	while (inlen > 0 && maxout > 0) {
		uint32_t u = *in;
		uint8_t tmp[4];
		int len;

		if (!u)
			break;
		in++, inlen--;
		if (u >= 0xd800 && u <= 0xdfff) {
			if (u >= 0xdc00)
				continue;
			if (inlen <= 0)
				break;
			if (*in < 0xdc00 || *in > 0xdfff)
				continue;
			u = 0x10000 + ((u & 0x3ff) << 10) + (*in & 0x3ffu);
			in++, inlen--;
		}
		len = utf8_encode(u, tmp);
		if (len > maxout)
			continue;
		memcpy(out + n, tmp, (size_t)len);
		n += len;
		maxout -= len;
	}
	return n;
}

/* A script string as the host would send it: UTF-16 of at most cap units
 * (a pair is never split).  Returns the units, or -1 if s is not UTF-8. */
static int host_encode(const char *s, uint16_t *out, int cap)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t left = strlen(s);
	int n = 0;

	while (left > 0) {
		uint32_t cp;
		int len = utf8_decode(p, left, &cp);

		if (len < 0)
			return -1;
		if (cp >= 0x10000) {
			if (n + 2 > cap)
				break;
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xd800 | (cp >> 10));
			out[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			if (n + 1 > cap)
				break;
			out[n++] = (uint16_t)cp;
		}
		p += len;
		left -= (size_t)len;
	}
	return n;
}

/* What the host reads back: valid UTF-16 (the kernel made it) to UTF-8. */
static void host_decode(const uint16_t *u, int n, char *out, size_t size)
{
	size_t o = 0;

	for (int i = 0; i < n && u[i]; i++) {
		uint32_t cp = u[i];
		uint8_t tmp[4];
		int len;

		if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n && u[i + 1] >= 0xdc00 && u[i + 1] <= 0xdfff) {
			cp = 0x10000 + ((cp & 0x3ff) << 10) + (u[i + 1] & 0x3ffu);
			i++;
		}
		len = utf8_encode(cp, tmp);
		if (o + (size_t)len + 1 > size)
			break;
		memcpy(out + o, tmp, (size_t)len);
		o += (size_t)len;
	}
	out[o] = '\0';
}

/*
 * One host string through the host's field and the kernel's conversion
 * into the daemon's message: host_units is what the host's field holds,
 * maxout the kernel's UTF-8 cap.  Returns the UTF-8 length written at dst.
 */
static int host_string_to_daemon(const char *s, int host_units, uint8_t *dst, int maxout)
{
	uint16_t u16[IP_UNITS + 1] = { 0 };
	int units = host_encode(s, u16, host_units);

	if (units < 0)
		die("not UTF-8: %s (a host sends UTF-16; use raw for other bytes)", s);
	return kernel_utf16_to_utf8(u16, host_units, dst, maxout);
}

/* --------------------------------------------------------- the fake host */

enum kstate {
	K_CLOSED,     /* nobody has the device open */
	K_INIT,       /* opened, not registered (DEVICE_INIT) */
	K_REG_QUEUED, /* registered; the reply is not read yet */
	K_READY,
	K_REQ,        /* a request is outstanding (USERSPACE_REQ) */
};

struct result {
	bool done;
	uint8_t op;        /* the request's, which decides what the host reads */
	uint32_t status;
	const char *note;  /* why the kernel, not the daemon, decided */
	bool data;         /* the fields below are host-visible data */
	char key[SHOW_SIZE], value[SHOW_SIZE];
	char adapter[SHOW_SIZE], ip[SHOW_SIZE], subnet[SHOW_SIZE], gw[SHOW_SIZE], dns[SHOW_SIZE];
	uint8_t family, dhcp;
};

struct txn {
	bool active;
	uint8_t op;
	int64_t deadline;
	bool stall;      /* hold the reply until the timeout has fired */
	bool hibernate;  /* the reply finds the device forced READY */
	bool held;
	uint8_t held_msg[MSG_SIZE];
	struct result *res;
};

struct options {
	const char *socket;
	const char *device;
	const char *log;
	const char *notify;
	bool off;
	int timeout_ms;
	int wait_ms;
};

#define NOTIFY_LINES 64
#define NOTIFY_LINE_SIZE 256

struct host {
	struct options opt;
	FILE *log;
	int lfd, cfd;
	pid_t peer;
	enum kstate state;
	bool legacy;
	uint8_t reg_op;
	bool queued; /* a message sits in the daemon's queue, unread */
	uint8_t queued_msg[MSG_SIZE];
	bool outbox; /* queued_msg is to be sent after the ACK in flight */
	unsigned registrations, reg_seen;
	struct txn txn;
	int nfd; /* the daemon's NOTIFY_SOCKET, when --notify */
	char notes[NOTIFY_LINES][NOTIFY_LINE_SIZE]; /* distinct lines it sent */
	unsigned nnotes;
};

static void hlog(struct host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hlog(struct host *h, const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	va_start(ap, fmt);
	fprintf(h->log, "kvp_host %ld.%03ld: ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
	vfprintf(h->log, fmt, ap);
	fputc('\n', h->log);
	fflush(h->log);
	va_end(ap);
}

static int send_typed(int fd, uint8_t type, const void *payload, size_t len)
{
	uint8_t pkt[KVP_WIRE_MAX_PACKET];

	pkt[0] = type;
	memcpy(pkt + 1, payload, len);
	return send(fd, pkt, 1 + len, MSG_NOSIGNAL) == (ssize_t)(1 + len) ? 0 : -errno;
}

static void send_errno(int fd, uint8_t type, int32_t err)
{
	send_typed(fd, type, &err, sizeof(err));
}

static void txn_finish(struct host *h, uint32_t status, const char *note)
{
	struct result *r = h->txn.res;

	r->status = status;
	r->note = note;
	r->done = true;
	h->txn.active = false;
}

/* The device is released: the kernel's on_reset. */
static void conn_close(struct host *h, const char *why)
{
	if (h->cfd < 0)
		return;
	close(h->cfd);
	h->cfd = -1;
	hlog(h, "close pid=%d (%s)", (int)h->peer, why);
	h->peer = 0;
	if (h->txn.active)
		txn_finish(h, ST_E_FAIL, "closed");
	h->state = K_CLOSED;
	h->queued = false;
	h->outbox = false;
}

static void queue_msg(struct host *h, const uint8_t *msg)
{
	memcpy(h->queued_msg, msg, MSG_SIZE);
	h->queued = true;
	if (send_typed(h->cfd, KVP_WIRE_MSG, msg, MSG_SIZE) < 0)
		conn_close(h, "send failed");
}

/* The daemon's first write: REGISTER1 (or the legacy REGISTER). */
static int32_t on_handshake(struct host *h, const uint8_t *m)
{
	uint8_t reply[MSG_SIZE] = { 0 };

	if (m[OFF_OP] != OP_REGISTER1 && m[OFF_OP] != OP_REGISTER) {
		hlog(h, "incompatible daemon: registration op %u -> EINVAL", m[OFF_OP]);
		return EINVAL;
	}
	h->legacy = m[OFF_OP] == OP_REGISTER;
	h->reg_op = m[OFF_OP];
	reply[OFF_OP] = m[OFF_OP];
	memcpy(reply + OFF_REG_VERSION, "3.1", 4);
	memcpy(h->queued_msg, reply, MSG_SIZE);
	h->outbox = true; /* queued after the write returns */
	h->state = K_REG_QUEUED;
	hlog(h, "register op=%u", m[OFF_OP]);
	return 0;
}

/* One daemon string field to what the host sees; false on invalid UTF-8. */
static bool show_field(const uint8_t *m, size_t off, int cap_units, char *out)
{
	uint16_t u16[IP_UNITS];
	size_t inlen = strnlen((const char *)m + off, MSG_SIZE - off);
	int n = kernel_utf8_to_utf16(m + off, inlen, u16, cap_units);

	if (n < 0)
		return false;
	host_decode(u16, n, out, SHOW_SIZE);
	return true;
}

/* kvp_respond_to_host / process_ob_ipinfo: the reply as the host gets it. */
static void convert_reply(struct host *h, const uint8_t *m)
{
	struct result *r = h->txn.res;
	uint32_t status = get_u32(m, 0);
	bool ok = true;

	if (h->legacy) /* the kernel ignores the status; an empty key ends */
		status = m[OFF_ENUM_KEY] ? ST_OK : ST_S_CONT;
	if (status != ST_OK) {
		txn_finish(h, status, NULL);
		return;
	}
	switch (h->txn.op) {
	case OP_SET:
	case OP_DELETE:
	case OP_SET_IP_INFO:
		break;
	case OP_GET_IP_INFO:
		ok = show_field(m, OFF_IP_ADDR, IP_UNITS, r->ip) &&
		     show_field(m, OFF_IP_SUBNET, IP_UNITS, r->subnet) &&
		     show_field(m, OFF_IP_ADAPTER, ADAPTER_UNITS, r->adapter) &&
		     show_field(m, OFF_IP_GW, GW_UNITS, r->gw) &&
		     show_field(m, OFF_IP_DNS, IP_UNITS, r->dns);
		r->family = m[OFF_IP_FAMILY];
		r->dhcp = m[OFF_IP_DHCP];
		r->data = ok;
		break;
	case OP_GET:
		/* The value from @532, where ENUMERATE keeps it (§1.6). */
		ok = show_field(m, OFF_ENUM_VALUE, HOST_VALUE_UNITS, r->value);
		r->data = ok;
		break;
	default: /* ENUMERATE, and whatever else the host asked */
		ok = show_field(m, OFF_ENUM_KEY, HOST_KEY_UNITS, r->key) &&
		     show_field(m, OFF_ENUM_VALUE, HOST_VALUE_UNITS, r->value);
		r->data = ok;
		break;
	}
	txn_finish(h, ok ? ST_OK : ST_E_FAIL, ok ? NULL : "invalid UTF-8");
}

/* A daemon write of a whole message: the kernel's kvp_on_msg. */
static int32_t on_write(struct host *h, const uint8_t *m, size_t len)
{
	if (h->state == K_INIT)
		return on_handshake(h, m);
	if (h->state == K_REQ && h->txn.active && h->txn.hibernate) {
		/* pre_suspend forced READY: the host's answer is implied by
		 * the channel closing; this write finds no request. */
		txn_finish(h, ST_E_FAIL, "hibernate");
		h->state = K_READY;
	}
	if (h->state != K_REQ || !h->txn.active) {
		hlog(h, "write op/status %#x len %zu with no request outstanding -> EINVAL",
		     get_u32(m, 0), len);
		return EINVAL;
	}
	h->queued = false; /* a reply: the request was read */
	convert_reply(h, m);
	h->state = K_READY;
	return 0;
}

/*
 * Was the queued message read?  The shim says so only for the
 * registration reply; a request is known read when its reply comes, or
 * when nothing we sent is left in the socket (SIOCOUTQ counts what the
 * peer has not dequeued yet).
 */
static void refresh_queued(struct host *h)
{
	int outq;

	if (h->queued && h->cfd >= 0 && ioctl(h->cfd, SIOCOUTQ, &outq) == 0 && outq == 0)
		h->queued = false;
}

static void on_timeout(struct host *h)
{
	refresh_queued(h);
	hlog(h, "request op %u timed out%s", h->txn.op, h->queued ? " (still unread)" : "");
	txn_finish(h, ST_E_FAIL, "timeout");
	h->state = K_READY;
}

static void handle_packet(struct host *h, const uint8_t *pkt, size_t n)
{
	int32_t err;

	if (n < MSG_SIZE) {
		if (n == 1 && pkt[0] == KVP_WIRE_CONSUMED) {
			h->queued = false;
			if (h->state == K_REG_QUEUED) {
				h->state = K_READY;
				h->registrations++;
				hlog(h, "registered pid=%d", (int)h->peer);
			}
		} else if (n == 1 && pkt[0] == KVP_WIRE_REQUEUE) {
			if (h->queued && send_typed(h->cfd, KVP_WIRE_MSG, h->queued_msg, MSG_SIZE) < 0)
				conn_close(h, "send failed");
		} else {
			hlog(h, "protocol error: %zu-byte packet", n);
		}
		return;
	}
	if (h->state == K_REQ && h->txn.active && h->txn.stall) {
		/* A slow daemon: its reply lands after the timeout. */
		memcpy(h->txn.held_msg, pkt, MSG_SIZE);
		h->txn.held = true;
		return;
	}
	err = on_write(h, pkt, n);
	send_errno(h->cfd, KVP_WIRE_ACK, err);
	if (h->outbox && h->cfd >= 0) {
		h->outbox = false;
		queue_msg(h, h->queued_msg);
	}
}

static void on_readable(struct host *h)
{
	static uint8_t pkt[KVP_WIRE_MAX_WRITE + 1];

	while (h->cfd >= 0) {
		ssize_t n = recv(h->cfd, pkt, sizeof(pkt), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(h, n == 0 ? "daemon closed" : strerror(errno));
			return;
		}
		if (n < 0)
			return;
		handle_packet(h, pkt, (size_t)n);
	}
}

static void on_accept(struct host *h)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	if (h->cfd >= 0) {
		hlog(h, "refuse pid=%d: EBUSY (pid %d has the device)", (int)cred.pid, (int)h->peer);
		send_errno(fd, KVP_WIRE_OPENED, EBUSY);
		close(fd);
		return;
	}
	h->cfd = fd;
	h->peer = cred.pid;
	h->state = K_INIT;
	h->queued = false;
	h->outbox = false;
	hlog(h, "open pid=%d", (int)cred.pid);
	send_errno(fd, KVP_WIRE_OPENED, 0);
}

/* The device's directory appears with it (/dev/vmbus/ did not exist). */
static void mkdir_parents(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			die("mkdir %s: %s", dir, strerror(errno));
		*p = '/';
	}
}

static void device_on(struct host *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (h->lfd >= 0)
		return;
	if (strlen(h->opt.socket) >= sizeof(sa.sun_path))
		die("socket path too long: %s", h->opt.socket);
	strcpy(sa.sun_path, h->opt.socket);
	unlink(h->opt.socket);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		die("listen on %s: %s", h->opt.socket, strerror(errno));
	h->lfd = fd;
	if (h->opt.device) {
		int dfd;

		mkdir_parents(h->opt.device);
		dfd = open(h->opt.device, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (dfd < 0)
			die("create %s: %s", h->opt.device, strerror(errno));
		close(dfd);
	}
	hlog(h, "device on");
}

static void device_off(struct host *h)
{
	if (h->lfd < 0)
		return;
	close(h->lfd);
	h->lfd = -1;
	unlink(h->opt.socket);
	if (h->opt.device)
		unlink(h->opt.device);
	conn_close(h, "device removed");
	hlog(h, "device off");
}

static bool noted(const struct host *h, const char *line)
{
	for (unsigned i = 0; i < h->nnotes; i++)
		if (!strcmp(h->notes[i], line))
			return true;
	return false;
}

/* sd_notify() datagrams: remember each distinct line (READY=1, ...). */
static void on_notify(struct host *h)
{
	char buf[4096];
	ssize_t n = recv(h->nfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	char *save = NULL;

	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (noted(h, line))
			continue;
		hlog(h, "notify %s", line);
		if (h->nnotes < NOTIFY_LINES && strlen(line) < NOTIFY_LINE_SIZE)
			strcpy(h->notes[h->nnotes++], line);
	}
}

static void notify_listen(struct host *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(h->opt.notify) >= sizeof(sa.sun_path))
		die("notify socket path too long: %s", h->opt.notify);
	strcpy(sa.sun_path, h->opt.notify);
	unlink(h->opt.notify);
	h->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (h->nfd < 0 || bind(h->nfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("notify socket %s: %s", h->opt.notify, strerror(errno));
}

/* Serve events until the deadline (absolute, ns; < 0: no deadline). */
static void pump(struct host *h, int64_t deadline)
{
	struct pollfd p[3];
	struct timespec ts, *tsp = NULL;
	int n = 0, ilfd = -1, icfd = -1, infd = -1;
	int64_t until = deadline;

	if (h->txn.active && (until < 0 || h->txn.deadline < until))
		until = h->txn.deadline;
	if (until >= 0) {
		int64_t left = until - now_ns();

		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		tsp = &ts;
	}
	if (h->lfd >= 0) {
		ilfd = n;
		p[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
	}
	if (h->cfd >= 0) {
		icfd = n;
		p[n++] = (struct pollfd){ .fd = h->cfd, .events = POLLIN };
	}
	if (h->nfd >= 0) {
		infd = n;
		p[n++] = (struct pollfd){ .fd = h->nfd, .events = POLLIN };
	}
	if (ppoll(p, (nfds_t)n, tsp, NULL) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	if (icfd >= 0 && p[icfd].revents)
		on_readable(h);
	if (ilfd >= 0 && p[ilfd].revents)
		on_accept(h);
	if (infd >= 0 && p[infd].revents)
		on_notify(h);
	if (h->txn.active && now_ns() >= h->txn.deadline) {
		on_timeout(h);
		if (h->txn.held) { /* the slow reply arrives now: too late */
			h->txn.held = false;
			handle_packet(h, h->txn.held_msg, MSG_SIZE);
		}
	}
}

static bool wait_for(struct host *h, bool (*cond)(const struct host *), int ms)
{
	int64_t deadline = now_ns() + (int64_t)ms * 1000000;

	while (!cond(h)) {
		if (now_ns() >= deadline)
			return false;
		pump(h, deadline);
	}
	return true;
}

static bool is_ready(const struct host *h)
{
	return h->state == K_READY;
}

static bool is_closed(const struct host *h)
{
	return h->cfd < 0;
}

static bool registered_again(const struct host *h)
{
	return h->registrations > h->reg_seen && h->state == K_READY;
}

static bool txn_over(const struct host *h)
{
	return !h->txn.active;
}

enum { RUN_STALL = 1, RUN_HIBERNATE = 2 };

/* One host request through the kernel to the daemon and back. */
static void run_request(struct host *h, const uint8_t *msg, unsigned flags, struct result *res)
{
	memset(res, 0, sizeof(*res));
	if (!wait_for(h, is_ready, h->opt.wait_ms)) {
		res->status = ST_E_FAIL;
		res->note = "no daemon";
		res->done = true;
		return;
	}
	refresh_queued(h);
	if (h->queued) { /* the last request was never read: no room */
		res->status = ST_E_FAIL;
		res->note = "queue full";
		res->done = true;
		return;
	}
	res->op = msg[OFF_OP];
	h->txn = (struct txn){
		.active = true,
		.op = msg[OFF_OP],
		.deadline = now_ns() + (int64_t)h->opt.timeout_ms * 1000000,
		.stall = flags & RUN_STALL,
		.hibernate = flags & RUN_HIBERNATE,
		.res = res,
	};
	h->state = K_REQ;
	queue_msg(h, msg);
	wait_for(h, txn_over, INT_MAX);
}

/* ------------------------------------------------------------ the script */

struct line {
	int argc;
	char *argv[MAX_ARGS];
	char buf[MAX_LINE];
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Split a script line into words (quotes and escapes as documented). */
static bool tokenize(const char *s, struct line *l, int lineno)
{
	char *o = l->buf, *end = l->buf + sizeof(l->buf) - 1;

	l->argc = 0;
	for (;;) {
		bool word = false;

		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s || *s == '#')
			return true;
		if (l->argc == MAX_ARGS)
			die("line %d: too many words", lineno);
		l->argv[l->argc++] = o;
		while (*s && (word || (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n'))) {
			int c = (unsigned char)*s++;

			if (c == '"') {
				word = !word;
				continue;
			}
			if (c == '\\' && word) {
				c = (unsigned char)*s++;
				switch (c) {
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case 'r': c = '\r'; break;
				case '"': case '\\': break;
				case 'x': {
					int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

					if (lo < 0)
						die("line %d: bad \\x escape", lineno);
					c = hi * 16 + lo;
					s += 2;
					if (!c)
						die("line %d: \\x00 in a string (use raw)", lineno);
					break;
				}
				default:
					die("line %d: unknown escape \\%c", lineno, c ? c : '0');
				}
			}
			if (o == end)
				die("line %d: too long", lineno);
			*o++ = (char)c;
		}
		if (word)
			die("line %d: unterminated quote", lineno);
		if (o == end)
			die("line %d: too long", lineno);
		*o++ = '\0';
	}
}

struct ctx {
	struct host *h;
	int lineno;
	bool quiet; /* inside repeat: results are counted, not printed */
	int enum_records;
	const char *want; /* what expect-notify / wait-file wait for */
};

static bool notified(const struct ctx *c)
{
	return noted(c->h, c->want);
}

static bool file_exists(const struct ctx *c)
{
	return access(c->want, F_OK) == 0;
}

/* wait_for() for conditions outside the device; polls files each 10 ms. */
static bool wait_for_ctx(struct ctx *c, bool (*cond)(const struct ctx *), int ms)
{
	int64_t deadline = now_ns() + (int64_t)ms * 1000000;

	while (!cond(c)) {
		int64_t now = now_ns(), slice = now + 10000000;

		if (now >= deadline)
			return false;
		pump(c->h, slice < deadline ? slice : deadline);
	}
	return true;
}

static uint64_t arg_uint(struct ctx *c, const char *s, uint64_t max, const char *what)
{
	uint64_t v;

	if (!parse_uint(s, max, &v))
		die("line %d: bad %s: %s", c->lineno, what, s);
	return v;
}

static void need_args(struct ctx *c, int argc, int n, const char *usage)
{
	if (argc != n)
		die("line %d: usage: %s", c->lineno, usage);
}

static void print_result(const struct ctx *c, const struct result *r)
{
	FILE *f = stdout;

	if (c->quiet)
		return;
	fprintf(f, " -> 0x%08" PRIx32, r->status);
	if (r->note)
		fprintf(f, " (%s)", r->note);
	if (!r->data)
		return;
	if (r->op == OP_GET_IP_INFO) {
		fprintf(f, " adapter=");
		print_quoted(f, r->adapter);
		fprintf(f, " family=%u dhcp=%u ip=", r->family, r->dhcp);
		print_quoted(f, r->ip);
		fputs(" subnet=", f);
		print_quoted(f, r->subnet);
		fputs(" gw=", f);
		print_quoted(f, r->gw);
		fputs(" dns=", f);
		print_quoted(f, r->dns);
		return;
	}
	if (r->op != OP_GET) { /* GET shows the host its own key */
		fputs(" key=", f);
		print_quoted(f, r->key);
	}
	fputs(" value=", f);
	print_quoted(f, r->value);
}

/* A script word as the script could spell it: bare when that is plain. */
static void print_word(FILE *f, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.:;,/{}@=+-") == strlen(s))
		fputs(s, f);
	else
		print_quoted(f, s);
}

static void print_request(const struct ctx *c, int argc, char **argv)
{
	if (c->quiet)
		return;
	fputs(argv[0], stdout);
	for (int i = 1; i < argc; i++) {
		fputc(' ', stdout);
		print_word(stdout, argv[i]);
	}
}

static void finish_line(const struct ctx *c)
{
	if (!c->quiet)
		fputc('\n', stdout);
}

static void request(struct ctx *c, const uint8_t *msg, unsigned flags, struct result *res)
{
	run_request(c->h, msg, flags, res);
	print_result(c, res);
	finish_line(c);
}

/* The key/value fields of GET, SET, DELETE as the kernel fills them. */
static void build_kv(uint8_t *m, uint8_t op, uint8_t pool, const char *key, const char *value)
{
	int n;

	memset(m, 0, MSG_SIZE);
	m[OFF_OP] = op;
	m[OFF_POOL] = pool;
	if (op == OP_DELETE) {
		n = host_string_to_daemon(key, KEY_BYTES / 2 - 1, m + OFF_DEL_KEY, KEY_BYTES - 1);
		put_u32(m, OFF_DEL_KEY_SIZE, (uint32_t)n + 1);
		return;
	}
	n = host_string_to_daemon(key, KEY_BYTES / 2 - 1, m + OFF_KV_KEY, KEY_BYTES - 1);
	put_u32(m, OFF_KV_KEY_SIZE, (uint32_t)n + 1);
	if (op == OP_SET) { /* GET leaves value_size 0 (§1.6) */
		n = host_string_to_daemon(value, VALUE_BYTES / 2 - 1, m + OFF_KV_VALUE, VALUE_BYTES - 1);
		put_u32(m, OFF_KV_VALUE_SIZE, (uint32_t)n + 1);
	}
}

static void raw_field(struct ctx *c, uint8_t *m, const char *spec)
{
	const char *eq = strchr(spec, '='), *at = strchr(spec, '@');
	uint64_t off = 0, v;
	size_t len;

	if (!eq)
		die("line %d: raw field without '=': %s", c->lineno, spec);
	if (!strncmp(spec, "op=", 3) || !strncmp(spec, "pool=", 5)) {
		m[spec[0] == 'o' ? OFF_OP : OFF_POOL] = (uint8_t)arg_uint(c, eq + 1, 255, spec);
		return;
	}
	if (!at || at > eq)
		die("line %d: raw field needs @OFFSET: %s", c->lineno, spec);
	{
		char offs[32];
		size_t ol = (size_t)(eq - at - 1);

		if (ol == 0 || ol >= sizeof(offs))
			die("line %d: bad offset in %s", c->lineno, spec);
		memcpy(offs, at + 1, ol);
		offs[ol] = '\0';
		off = arg_uint(c, offs, MSG_SIZE - 1, "offset");
	}
	if (!strncmp(spec, "u8@", 3) || !strncmp(spec, "u16@", 4) || !strncmp(spec, "u32@", 4)) {
		size_t width = spec[1] == '8' ? 1 : spec[1] == '1' ? 2 : 4;

		v = arg_uint(c, eq + 1, width == 4 ? UINT32_MAX : width == 2 ? UINT16_MAX : UINT8_MAX, spec);
		if (off + width > MSG_SIZE)
			die("line %d: %s runs past the message", c->lineno, spec);
		for (size_t i = 0; i < width; i++)
			m[off + i] = (uint8_t)(v >> (8 * i));
	} else if (!strncmp(spec, "str@", 4)) {
		len = strlen(eq + 1);
		if (off + len > MSG_SIZE)
			die("line %d: %s runs past the message", c->lineno, spec);
		memcpy(m + off, eq + 1, len);
	} else if (!strncmp(spec, "fill@", 5)) {
		const char *colon = strchr(eq + 1, ':');
		char lens[32];
		int byte;

		if (!colon || (size_t)(colon - eq - 1) >= sizeof(lens))
			die("line %d: fill@OFF=LEN:CHAR: %s", c->lineno, spec);
		memcpy(lens, eq + 1, (size_t)(colon - eq - 1));
		lens[colon - eq - 1] = '\0';
		len = arg_uint(c, lens, MSG_SIZE, "length");
		if (!strncmp(colon + 1, "0x", 2))
			byte = (int)arg_uint(c, colon + 1, 255, "byte");
		else if (strlen(colon + 1) == 1)
			byte = (unsigned char)colon[1];
		else
			die("line %d: fill byte is one character or 0xNN: %s", c->lineno, spec);
		if (off + len > MSG_SIZE)
			die("line %d: %s runs past the message", c->lineno, spec);
		memset(m + off, byte, len);
	} else {
		die("line %d: unknown raw field %s", c->lineno, spec);
	}
}

static uint8_t parse_family(struct ctx *c, const char *s)
{
	if (!strcmp(s, "none"))
		return 0;
	if (!strcmp(s, "ipv4"))
		return ADDR_FAMILY_IPV4;
	if (!strcmp(s, "ipv6"))
		return ADDR_FAMILY_IPV6;
	if (!strcmp(s, "both"))
		return ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6;
	return (uint8_t)arg_uint(c, s, 255, "family");
}

/* Run one host operation; returns its status (the last one for a walk). */
static uint32_t run_op(struct ctx *c, int argc, char **argv, unsigned flags);

static uint32_t op_enumerate_all(struct ctx *c, int argc, char **argv, unsigned flags)
{
	static uint8_t m[MSG_SIZE];
	static struct result res;
	uint8_t pool;

	need_args(c, argc, 2, "enumerate-all POOL");
	pool = (uint8_t)arg_uint(c, argv[1], 255, "pool");
	c->enum_records = 0;
	for (uint32_t i = 0;; i++) {
		char idx[16];
		char *av[3] = { "enumerate", argv[1], idx };

		snprintf(idx, sizeof(idx), "%" PRIu32, i);
		memset(m, 0, sizeof(m));
		m[OFF_OP] = OP_ENUMERATE;
		m[OFF_POOL] = pool;
		put_u32(m, OFF_ENUM_INDEX, i);
		print_request(c, 3, av);
		request(c, m, flags, &res);
		if (res.status != ST_OK || i == UINT32_MAX)
			return res.status;
		c->enum_records++;
	}
}

static uint32_t op_request(struct ctx *c, int argc, char **argv, unsigned flags)
{
	static uint8_t m[MSG_SIZE];
	static struct result res;
	const char *verb = argv[0];
	char num[32];

	memset(m, 0, sizeof(m));
	if (!strcmp(verb, "set") || !strcmp(verb, "set-u32") || !strcmp(verb, "set-u64")) {
		const char *value = argv[3];

		need_args(c, argc, 4, "set POOL KEY VALUE");
		if (strcmp(verb, "set")) { /* REG_U32/REG_U64: the kernel prints them */
			uint64_t v = arg_uint(c, argv[3], verb[5] == '3' ? UINT32_MAX : UINT64_MAX, "number");

			snprintf(num, sizeof(num), "%" PRIu64, v);
			value = num;
		}
		build_kv(m, OP_SET, (uint8_t)arg_uint(c, argv[1], 255, "pool"), argv[2], value);
	} else if (!strcmp(verb, "get") || !strcmp(verb, "delete")) {
		need_args(c, argc, 3, "get|delete POOL KEY");
		build_kv(m, verb[0] == 'g' ? OP_GET : OP_DELETE,
			 (uint8_t)arg_uint(c, argv[1], 255, "pool"), argv[2], NULL);
	} else if (!strcmp(verb, "enumerate")) {
		need_args(c, argc, 3, "enumerate POOL INDEX");
		m[OFF_OP] = OP_ENUMERATE;
		m[OFF_POOL] = (uint8_t)arg_uint(c, argv[1], 255, "pool");
		put_u32(m, OFF_ENUM_INDEX, (uint32_t)arg_uint(c, argv[2], UINT32_MAX, "index"));
	} else if (!strcmp(verb, "getip")) {
		need_args(c, argc, 3, "getip MAC FAMILY");
		m[OFF_OP] = OP_GET_IP_INFO;
		host_string_to_daemon(argv[1], ADAPTER_UNITS, m + OFF_IP_ADAPTER, ADAPTER_UNITS);
		m[OFF_IP_FAMILY] = parse_family(c, argv[2]);
	} else if (!strcmp(verb, "setip")) {
		need_args(c, argc, 8, "setip {GUID} FAMILY DHCP IPS SUBNETS GATEWAYS DNS");
		m[OFF_OP] = OP_SET_IP_INFO;
		host_string_to_daemon(argv[1], ADAPTER_UNITS, m + OFF_IP_ADAPTER, ADAPTER_UNITS);
		m[OFF_IP_FAMILY] = parse_family(c, argv[2]);
		m[OFF_IP_DHCP] = (uint8_t)arg_uint(c, argv[3], 255, "dhcp");
		host_string_to_daemon(argv[4], IP_UNITS, m + OFF_IP_ADDR, IP_UNITS);
		host_string_to_daemon(argv[5], IP_UNITS, m + OFF_IP_SUBNET, IP_UNITS);
		host_string_to_daemon(argv[6], GW_UNITS, m + OFF_IP_GW, GW_UNITS);
		host_string_to_daemon(argv[7], IP_UNITS, m + OFF_IP_DNS, IP_UNITS);
	} else if (!strcmp(verb, "raw")) {
		for (int i = 1; i < argc; i++)
			raw_field(c, m, argv[i]);
	} else {
		die("line %d: unknown operation %s", c->lineno, verb);
	}
	print_request(c, argc, argv);
	request(c, m, flags, &res);
	return res.status;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Replace every "{i}" in s by the iteration number. */
static void substitute(const char *s, unsigned long i, char *out, size_t size)
{
	size_t o = 0;

	while (*s && o + 1 < size) {
		if (!strncmp(s, "{i}", 3)) {
			int n = snprintf(out + o, size - o, "%lu", i);

			o = n < 0 || (size_t)n >= size - o ? size - 1 : o + (size_t)n;
			s += 3;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
}

struct status_count {
	uint32_t status;
	unsigned long n;
};

static void op_repeat(struct ctx *c, int argc, char **argv, unsigned flags)
{
	static char bufs[MAX_ARGS][MAX_LINE / 4];
	char *av[MAX_ARGS];
	struct status_count counts[8] = { 0 };
	unsigned long n;
	int64_t *t, total = 0;
	size_t ncounts = 0;

	if (argc < 3)
		die("line %d: usage: repeat N OP ARGS...", c->lineno);
	n = (unsigned long)arg_uint(c, argv[1], 10000000, "count");
	if (n == 0)
		die("line %d: repeat 0", c->lineno);
	t = calloc(n, sizeof(*t));
	if (!t)
		die("out of memory");
	c->quiet = true;
	for (unsigned long i = 0; i < n; i++) {
		int64_t start;
		uint32_t st;
		size_t k;

		for (int a = 2; a < argc; a++) {
			substitute(argv[a], i, bufs[a - 2], sizeof(bufs[0]));
			av[a - 2] = bufs[a - 2];
		}
		start = now_ns();
		st = run_op(c, argc - 2, av, flags);
		t[i] = now_ns() - start;
		total += t[i];
		for (k = 0; k < ncounts && counts[k].status != st; k++)
			;
		if (k == ncounts && ncounts < sizeof(counts) / sizeof(counts[0]))
			counts[ncounts++].status = st;
		if (k < ncounts)
			counts[k].n++;
	}
	c->quiet = false;
	qsort(t, n, sizeof(*t), cmp_i64);
	printf("repeat %lu", n);
	for (int a = 2; a < argc; a++) {
		putchar(' ');
		print_word(stdout, argv[a]);
	}
	printf(": median_us=%.1f p90_us=%.1f min_us=%.1f max_us=%.1f total_ms=%.1f",
	       (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2) / 1e3,
	       t[(n * 9 + 9) / 10 - 1] / 1e3, t[0] / 1e3, t[n - 1] / 1e3, total / 1e6);
	if (!strcmp(argv[2], "enumerate-all"))
		printf(" records=%d", c->enum_records);
	printf(" status=");
	for (size_t k = 0; k < ncounts; k++)
		printf("%s0x%08" PRIx32 "*%lu", k ? "," : "", counts[k].status, counts[k].n);
	putchar('\n');
	free(t);
}

static int parse_signal(struct ctx *c, const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "TERM", SIGTERM }, { "KILL", SIGKILL }, { "STOP", SIGSTOP }, { "CONT", SIGCONT },
		{ "INT", SIGINT },   { "HUP", SIGHUP },   { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	};

	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(s, sigs[i].name))
			return sigs[i].sig;
	die("line %d: unknown signal %s", c->lineno, s);
}

static int arg_ms(struct ctx *c, int argc, char **argv, int dflt)
{
	return argc > 1 ? (int)arg_uint(c, argv[1], INT_MAX / 2, "milliseconds") : dflt;
}

/* Each verb that is not a request; argv[0] is the verb. */
static uint32_t op_modified(struct ctx *c, int argc, char **argv, unsigned flags)
{
	if (argc < 2)
		die("line %d: usage: %s OP ARGS...", c->lineno, argv[0]);
	if (!c->quiet)
		printf("%s ", argv[0]);
	return run_op(c, argc - 1, argv + 1, flags | (argv[0][0] == 's' ? RUN_STALL : RUN_HIBERNATE));
}

static uint32_t op_repeat_verb(struct ctx *c, int argc, char **argv, unsigned flags)
{
	op_repeat(c, argc, argv, flags);
	return ST_OK;
}

static uint32_t verdict(bool ok)
{
	return ok ? ST_OK : ST_E_FAIL;
}

static uint32_t op_wait_register(struct ctx *c, int argc, char **argv, unsigned flags)
{
	struct host *h = c->h;
	bool ok = wait_for(h, argv[0][0] == 'w' ? is_ready : registered_again,
			   arg_ms(c, argc, argv, h->opt.wait_ms));

	(void)flags;
	if (ok) {
		h->reg_seen = h->registrations;
		printf("%s -> registered op=%u\n", argv[0], h->reg_op);
	} else {
		printf("%s -> timeout\n", argv[0]);
	}
	return verdict(ok);
}

static uint32_t op_wait_ctx(struct ctx *c, int argc, char **argv, unsigned flags)
{
	bool notify = !strcmp(argv[0], "expect-notify");
	bool ok;

	(void)flags;
	if (argc < 2 || argc > 3)
		die("line %d: usage: %s %s [MS]", c->lineno, argv[0], notify ? "LINE" : "PATH");
	if (notify && c->h->nfd < 0)
		die("line %d: expect-notify needs --notify", c->lineno);
	c->want = argv[1];
	ok = wait_for_ctx(c, notify ? notified : file_exists, arg_ms(c, argc - 1, argv + 1, c->h->opt.wait_ms));
	if (notify)
		printf("expect-notify %s -> %s\n", argv[1], ok ? "received" : "timeout");
	else
		printf("wait-file -> %s\n", ok ? "present" : "timeout");
	return verdict(ok);
}

static uint32_t op_expect_close(struct ctx *c, int argc, char **argv, unsigned flags)
{
	bool ok = wait_for(c->h, is_closed, arg_ms(c, argc, argv, c->h->opt.wait_ms));

	(void)flags;
	printf("expect-close -> %s\n", ok ? "closed" : "timeout (still open)");
	return verdict(ok);
}

static uint32_t op_teardown(struct ctx *c, int argc, char **argv, unsigned flags)
{
	(void)argc, (void)argv, (void)flags;
	conn_close(c->h, "teardown");
	printf("teardown\n");
	return ST_OK;
}

static uint32_t op_device(struct ctx *c, int argc, char **argv, unsigned flags)
{
	(void)flags;
	need_args(c, argc, 2, "device on|off");
	if (!strcmp(argv[1], "on"))
		device_on(c->h);
	else if (!strcmp(argv[1], "off"))
		device_off(c->h);
	else
		die("line %d: usage: device on|off", c->lineno);
	printf("device %s\n", argv[1]);
	return ST_OK;
}

static uint32_t op_kill(struct ctx *c, int argc, char **argv, unsigned flags)
{
	int sig;

	(void)flags;
	need_args(c, argc, 2, "kill SIGNAL");
	sig = parse_signal(c, argv[1]);
	printf("kill %s", argv[1]);
	if (c->h->peer <= 0 || kill(c->h->peer, sig) < 0)
		printf(" -> no daemon");
	putchar('\n');
	return ST_OK;
}

static uint32_t op_set_ms(struct ctx *c, int argc, char **argv, unsigned flags)
{
	(void)flags;
	need_args(c, argc, 2, "timeout|wait-ms MS");
	*(argv[0][0] == 't' ? &c->h->opt.timeout_ms : &c->h->opt.wait_ms) =
		(int)arg_uint(c, argv[1], INT_MAX / 2, "milliseconds");
	return ST_OK;
}

static uint32_t op_sleep(struct ctx *c, int argc, char **argv, unsigned flags)
{
	int64_t deadline;

	(void)flags;
	need_args(c, argc, 2, "sleep MS");
	deadline = now_ns() + (int64_t)arg_uint(c, argv[1], INT_MAX / 2, "ms") * 1000000;
	while (now_ns() < deadline)
		pump(c->h, deadline);
	return ST_OK;
}

static uint32_t op_echo(struct ctx *c, int argc, char **argv, unsigned flags)
{
	(void)c, (void)flags;
	for (int i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	putchar('\n');
	return ST_OK;
}

static uint32_t run_op(struct ctx *c, int argc, char **argv, unsigned flags)
{
	static const struct {
		const char *name;
		uint32_t (*run)(struct ctx *c, int argc, char **argv, unsigned flags);
	} verbs[] = {
		{ "stall", op_modified },          { "hibernate", op_modified },
		{ "enumerate-all", op_enumerate_all }, { "repeat", op_repeat_verb },
		{ "wait-register", op_wait_register }, { "expect-reconnect", op_wait_register },
		{ "expect-notify", op_wait_ctx },  { "wait-file", op_wait_ctx },
		{ "expect-close", op_expect_close }, { "teardown", op_teardown },
		{ "device", op_device },           { "kill", op_kill },
		{ "timeout", op_set_ms },          { "wait-ms", op_set_ms },
		{ "sleep", op_sleep },             { "echo", op_echo },
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[0], verbs[i].name))
			return verbs[i].run(c, argc, argv, flags);
	return op_request(c, argc, argv, flags);
}

static void run_script(struct host *h, FILE *in)
{
	static char text[MAX_LINE];
	static struct line l;
	struct ctx c = { .h = h };

	while (fgets(text, sizeof(text), in)) {
		c.lineno++;
		if (!strchr(text, '\n') && !feof(in))
			die("line %d: longer than %d bytes", c.lineno, MAX_LINE - 1);
		tokenize(text, &l, c.lineno);
		if (l.argc == 0)
			continue;
		run_op(&c, l.argc, l.argv, 0);
		fflush(stdout);
	}
}

/* ------------------------------------------------------------ the client */

/*
 * --client: a minimal daemon for testing the harness itself, run under the
 * shim.  Verbs: open, close, nonblock, write OP [LEN], read [LEN],
 * reply STATUS (answers the last request read), poll MS, sleep MS,
 * touch PATH (a checkpoint for the host's wait-file), echo.
 * Each prints what the char device answered.
 */
static void client_print_errno(ssize_t r, int err)
{
	if (r < 0)
		printf(" -> %s\n", err == EINVAL   ? "EINVAL"
				   : err == EBUSY  ? "EBUSY"
				   : err == EBADF  ? "EBADF"
				   : err == ENOENT ? "ENOENT"
						   : strerror(err));
	else
		printf(" -> %zd\n", r);
}

/* write OP [LEN]: a message with that op; reply STATUS: the last request
 * read, answered with that status. */
static void client_write(int fd, const struct line *l, const uint8_t *last, int lineno)
{
	static uint8_t buf[2 * MSG_SIZE];
	uint64_t v, len = MSG_SIZE;
	ssize_t r;

	if (l->argc < 2 || !parse_uint(l->argv[1], UINT32_MAX, &v))
		die("client line %d: write OP [LEN] | reply STATUS", lineno);
	if (l->argc > 2 && !parse_uint(l->argv[2], sizeof(buf), &len))
		die("client line %d: bad length", lineno);
	memset(buf, 0, sizeof(buf));
	if (l->argv[0][0] == 'w') {
		buf[OFF_OP] = (uint8_t)v;
	} else {
		memcpy(buf, last, MSG_SIZE);
		put_u32(buf, 0, (uint32_t)v);
	}
	r = write(fd, buf, (size_t)len);
	client_print_errno(r, errno);
}

/* read [LEN]: one message; shows its op, pool and key (or version). */
static void client_read(int fd, const struct line *l, uint8_t *last, int lineno)
{
	static uint8_t buf[2 * MSG_SIZE];
	uint64_t len = sizeof(buf);
	const char *text;
	ssize_t r;

	if (l->argc > 1 && !parse_uint(l->argv[1], sizeof(buf), &len))
		die("client line %d: bad length", lineno);
	r = read(fd, buf, (size_t)len);
	if (r != MSG_SIZE) {
		client_print_errno(r, errno);
		return;
	}
	memcpy(last, buf, MSG_SIZE);
	buf[MSG_SIZE - 1] = '\0';
	text = buf[OFF_OP] == OP_ENUMERATE    ? ""
	       : buf[OFF_OP] == OP_DELETE     ? (char *)buf + OFF_DEL_KEY
	       : buf[OFF_OP] >= OP_GET_IP_INFO ? (char *)buf + 4
					      : (char *)buf + OFF_KV_KEY;
	printf(" -> %zd op=%u pool=%u text=", r, buf[OFF_OP], buf[OFF_POOL]);
	print_quoted(stdout, text);
	putchar('\n');
}

static void client_op(int *fd, const struct line *l, uint8_t *last, int lineno)
{
	const char *verb = l->argv[0];
	const char *path = getenv(KVP_SHIM_ENV_PATH) ? getenv(KVP_SHIM_ENV_PATH) : KVP_SHIM_DEFAULT_PATH;
	struct pollfd p = { .fd = *fd, .events = POLLIN };
	uint64_t v = 0;
	int r;

	printf("%s", verb);
	for (int i = 1; i < l->argc; i++)
		printf(" %s", l->argv[i]);
	if (!strcmp(verb, "open")) {
		r = open(path, O_RDWR | O_CLOEXEC);
		if (r >= 0 && *fd < 0)
			*fd = r;
		client_print_errno(r < 0 ? -1 : 0, errno);
	} else if (!strcmp(verb, "close")) {
		client_print_errno(close(*fd), errno);
		*fd = -1;
	} else if (!strcmp(verb, "nonblock")) {
		client_print_errno(fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK), errno);
	} else if (!strcmp(verb, "write") || !strcmp(verb, "reply")) {
		client_write(*fd, l, last, lineno);
	} else if (!strcmp(verb, "read")) {
		client_read(*fd, l, last, lineno);
	} else if (!strcmp(verb, "poll") || !strcmp(verb, "sleep")) {
		if (l->argc != 2 || !parse_uint(l->argv[1], INT_MAX, &v))
			die("client line %d: %s MS", lineno, verb);
		if (verb[0] == 's') {
			nanosleep(&(struct timespec){ .tv_sec = (time_t)(v / 1000),
						      .tv_nsec = (long)(v % 1000) * 1000000 }, NULL);
			putchar('\n');
		} else {
			r = poll(&p, 1, (int)v);
			printf(" -> %d%s%s%s\n", r, p.revents & POLLIN ? " POLLIN" : "",
			       p.revents & POLLHUP ? " POLLHUP" : "", p.revents & POLLERR ? " POLLERR" : "");
		}
	} else if (!strcmp(verb, "touch")) {
		r = l->argc == 2 ? open(l->argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
		if (r < 0)
			die("client line %d: touch PATH", lineno);
		close(r);
		putchar('\n');
	} else if (!strcmp(verb, "echo")) {
		putchar('\n');
	} else {
		die("client line %d: unknown verb %s", lineno, verb);
	}
	fflush(stdout);
}

static int run_client(FILE *in)
{
	static char text[MAX_LINE];
	static struct line l;
	static uint8_t last[MSG_SIZE];
	int fd = -1, lineno = 0;

	while (fgets(text, sizeof(text), in)) {
		tokenize(text, &l, ++lineno);
		if (l.argc)
			client_op(&fd, &l, last, lineno);
	}
	return 0;
}

/* --------------------------------------------------------- pool dumps */

/* A pool field: its text up to the NUL (or the whole field without one),
 * and how many non-zero bytes follow that NUL (stale bytes on disk). */
static void dump_field(const uint8_t *f, size_t size, const char *name)
{
	char text[VALUE_BYTES + 1];
	size_t len = strnlen((const char *)f, size), tail = 0;

	for (size_t i = len; i < size; i++)
		tail += f[i] != 0;
	memcpy(text, f, len);
	text[len] = '\0';
	printf(" %s=", name);
	print_quoted(stdout, text);
	if (len == size)
		printf(" %s-nul=no", name);
	if (tail)
		printf(" %s-tail=%zu", name, tail);
}

/* --dump-pool FILE: one line per 2560-byte record, for tests to compare. */
static int dump_pool(const char *path)
{
	static uint8_t rec[KEY_BYTES + VALUE_BYTES];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		die("%s: %s", path, strerror(errno));
	for (unsigned long i = 0; (n = fread(rec, 1, sizeof(rec), f)) > 0; i++) {
		if (n < sizeof(rec)) {
			printf("%lu partial=%zu\n", i, n);
			break;
		}
		printf("%lu", i);
		dump_field(rec, KEY_BYTES, "key");
		dump_field(rec + KEY_BYTES, VALUE_BYTES, "value");
		putchar('\n');
	}
	fclose(f);
	return 0;
}

/* -------------------------------------------------------------- main */

static _Noreturn void usage(int status)
{
	fputs("usage: kvp_host --socket PATH [--device FILE] [--timeout-ms N] [--wait-ms N]\n"
	      "                [--log FILE] [--notify PATH] [--off] [SCRIPT]\n"
	      "       kvp_host --client [SCRIPT]   (under kvp_shim.so)\n"
	      "       kvp_host --dump-pool FILE\n"
	      "The script verbs are described at the top of tests/kvp/kvp_host.c.\n",
	      status ? stderr : stdout);
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'D' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "log", required_argument, NULL, 'l' },
		{ "notify", required_argument, NULL, 'n' },
		{ "off", no_argument, NULL, 'o' },
		{ "client", no_argument, NULL, 'c' },
		{ "dump-pool", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct host h = { .lfd = -1, .cfd = -1, .nfd = -1 };
	bool client = false;
	uint64_t v;
	FILE *in = stdin;
	int opt;

	h.opt.timeout_ms = 30000;
	h.opt.wait_ms = 10000;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': h.opt.socket = optarg; break;
		case 'D': h.opt.device = optarg; break;
		case 'l': h.opt.log = optarg; break;
		case 'n': h.opt.notify = optarg; break;
		case 'o': h.opt.off = true; break;
		case 'c': client = true; break;
		case 'P': return dump_pool(optarg);
		case 't':
		case 'w':
			if (!parse_uint(optarg, INT_MAX / 2, &v))
				die("bad number: %s", optarg);
			*(opt == 't' ? &h.opt.timeout_ms : &h.opt.wait_ms) = (int)v;
			break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind < argc - 1)
		usage(2);
	if (optind == argc - 1 && !(in = fopen(argv[optind], "re")))
		die("%s: %s", argv[optind], strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (client)
		return run_client(in);
	if (!h.opt.socket)
		usage(2);
	h.log = h.opt.log ? fopen(h.opt.log, "ae") : stderr;
	if (!h.log)
		die("%s: %s", h.opt.log, strerror(errno));
	if (h.opt.notify)
		notify_listen(&h);
	if (!h.opt.off)
		device_on(&h);
	run_script(&h, in);
	device_off(&h);
	if (h.opt.notify)
		unlink(h.opt.notify);
	if (in != stdin)
		fclose(in);
	if (h.log != stderr)
		fclose(h.log);
	return 0;
}
