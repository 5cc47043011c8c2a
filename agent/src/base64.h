/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Decode standard base64 (RFC 4648, padded) with nettle.  Blanks and line
 * breaks between characters are skipped (XML text wraps CustomData);
 * base64url, missing padding, data after the padding or any other byte is
 * -EBADMSG.  *out is malloc'd, NUL-terminated after *outlen bytes.
 */
int base64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen);
