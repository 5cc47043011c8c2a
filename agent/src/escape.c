// SPDX-License-Identifier: MIT
/* Control bytes as \xNN: see escape.h. */
#include <stdbool.h>
#include <stdio.h>

#include "escape.h"

static size_t escape_bytes(const char *in, char *out, size_t len, bool ascii_only)
{
	size_t o = 0;

	if (!len)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool escape = *p < 0x20 || *p == 0x7f || (ascii_only && *p > 0x7f);

		/* Room for the 1 or 4 bytes and the NUL. */
		if (o + (escape ? 4 : 1) >= len)
			break;
		if (escape)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	return o;
}

size_t escape_controls(const char *in, char *out, size_t len)
{
	return escape_bytes(in, out, len, false);
}

size_t escape_non_ascii(const char *in, char *out, size_t len)
{
	return escape_bytes(in, out, len, true);
}
