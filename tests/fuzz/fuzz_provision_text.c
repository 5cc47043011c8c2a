// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what the provisioning actions parse from the host —
 * CustomData base64, host and user names, and an authorized_keys file
 * merged with keys (the first input line is the key list, '|'-separated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provision_actions_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *keys[8], err[256], *merged = NULL;
	unsigned char *out = NULL;
	size_t outlen, n = 0, mlen;
	char *nl, *p;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pa_base64_decode(s, size, &out, &outlen, err, sizeof(err)) == 0)
		free(out);
	(void)pa_validate_hostname(s, err, sizeof(err));
	(void)pa_validate_user(s, err, sizeof(err));
	nl = memchr(s, '\n', size);
	if (nl) {
		*nl = '\0';
		for (p = s; n < 8 && p;) {
			char *bar = strchr(p, '|');

			if (bar)
				*bar = '\0';
			keys[n++] = p;
			p = bar ? bar + 1 : NULL;
		}
		if (pa_keys_merge(nl + 1, size - (size_t)(nl + 1 - s), keys, n, &merged, &mlen, err,
				  sizeof(err)) == 0)
			free(merged);
	}
	free(s);
	return 0;
}
