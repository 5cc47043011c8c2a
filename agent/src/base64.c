// SPDX-License-Identifier: MIT
/* Strict base64 decoding on nettle. */
#include <errno.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int base64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	struct base64_decode_ctx ctx;
	size_t cap = BASE64_DECODE_LENGTH(len) + 1, n = cap;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	/* nettle skips white space itself and refuses data after the padding. */
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, buf, len, in) || !base64_decode_final(&ctx)) {
		free(buf);
		return -EBADMSG;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}
