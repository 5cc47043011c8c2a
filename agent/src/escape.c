// SPDX-License-Identifier: MIT
/* Control bytes as \xNN: see escape.h. */
#include <stdbool.h>
#include <stdio.h>

#include "escape.h"

size_t escape_controls(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool control = *p < 0x20 || *p == 0x7f;

		/* Room for the 1 or 4 bytes and the NUL. */
		if (o + (control ? 4 : 1) >= len)
			break;
		if (control)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	return o;
}
