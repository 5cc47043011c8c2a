// SPDX-License-Identifier: MIT
/* SSH public key fingerprints, with nettle's SHA-256. */
#include <errno.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "ssh_key.h"
#include "util.h"

/* The base64 blob: the second blank-separated field of the line. */
static int key_blob(const char *line, uint8_t **blob, size_t *blob_len)
{
	const char *start = strchr(line, ' ');
	size_t n;

	if (!start)
		return -EINVAL;
	start += strspn(start, " ");
	n = strcspn(start, " \t\r\n");
	if (n == 0 || n > 16384)
		return -EINVAL;
	return base64_decode(start, n, blob, blob_len) < 0 ? -EINVAL : 0;
}

int ssh_key_fingerprint(const char *line, char *out, size_t len)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	char b64[BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE) + 1];
	struct sha256_ctx ctx;
	_cleanup_free_ uint8_t *blob = NULL;
	size_t blob_len, n;
	int ret = key_blob(line, &blob, &blob_len);

	if (ret < 0)
		return ret;
	sha256_init(&ctx);
	sha256_update(&ctx, blob_len, blob);
	sha256_digest(&ctx, sizeof(digest), digest);
	base64_encode_raw(b64, sizeof(digest), digest);
	n = BASE64_ENCODE_RAW_LENGTH(sizeof(digest));
	while (n && b64[n - 1] == '=') /* ssh-keygen prints it without padding */
		n--;
	b64[n] = '\0';
	return snprintf(out, len, "SHA256:%s", b64) < (int)len ? 0 : -ENAMETOOLONG;
}
