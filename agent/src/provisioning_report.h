/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The PROVISIONING_REPORT value in KVP pool 1 (research/provisioning.md
 * §3.4): what the host shows when the wireserver cannot be reached.
 * cloud-init's encoding (Python's csv writer with delimiter '|', quote
 * character ''' and minimal quoting): '|'-separated "key=value" pairs, a
 * pair written inside ' when it holds '|' or ''' (a ' inside doubled).
 * Control bytes become spaces (the value is one line) and bytes that are
 * not UTF-8 become '?' (the kernel converts the value to UTF-16).
 */

#include <stdbool.h>
#include <stddef.h>

#include "root.h"

#define PROVISIONING_REPORT_KEY "PROVISIONING_REPORT"
#define PROVISIONING_REPORT_MAX 1022 /* what the host sees of a KVP value */
#define PROVISIONING_REPORT_DOC_URL "https://aka.ms/linuxprovisioningerror"

struct report_kv {
	const char *key;
	const char *value;
};

/*
 * Pure: "result=success|agent=azl-agent/<ver>|pps_type=None|vm_id=…|timestamp=…[|<extra>…]"
 * or "result=error|reason=…|agent=…|<extra>…|vm_id=…|timestamp=…|documentation_url=…",
 * cut to the host-visible 1022 bytes at a pair boundary: extras that do
 * not fit are left out (from the first that does not fit on), then an
 * over-long reason is shortened, so the identifying pairs always remain.
 * timestamp NULL: now, ISO 8601 UTC.  malloc'd; NULL only without memory.
 */
char *provisioning_report_encode(bool success, const char *reason, const struct report_kv *extra,
				 size_t n_extra, const char *vm_id, const char *timestamp);

/*
 * Upsert the value in pool 1 (one record only) through the KVP store,
 * durably (fsync'd before the wireserver hears of it).  -EINVAL for a value
 * longer than 1022 bytes: encode it first.
 */
int provisioning_report_write(const struct root *r, const char *value);

/*
 * Pure: the byte length (1..4) of the well-formed UTF-8 character at
 * s[0..n), 0 when s does not start one (overlong, surrogate, cut short).
 * The text cleaning of the wireserver bodies uses it too.
 */
size_t report_utf8_char(const unsigned char *s, size_t n);
