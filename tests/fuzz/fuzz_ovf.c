// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: ovf-env.xml as the host hands it over on the
 * provisioning media (research/provisioning.md §2), through ovf_parse and
 * ovf_redact.  Beyond "no crash, no leak", two invariants: whatever parses
 * also redacts, and the redacted copy parses again with the password
 * replaced (or still absent) and the host name unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ovf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_redacted(const struct ovf_env *orig, const char *red, size_t red_len)
{
	struct ovf_env env;
	char err[256];

	if (ovf_parse(red, red_len, &env, err, sizeof(err)) < 0)
		abort(); /* the redacted copy must stay a valid document */
	if (orig->password && (!env.password || strcmp(env.password, "REDACTED") != 0))
		abort();
	if (!orig->password && env.password)
		abort();
	if ((orig->hostname == NULL) != (env.hostname == NULL) ||
	    (orig->hostname && strcmp(orig->hostname, env.hostname) != 0))
		abort();
	if (env.n_keys != orig->n_keys)
		abort();
	ovf_env_free(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct ovf_env env;
	char err[256], *red = NULL;
	size_t red_len = 0;
	int parsed, redacted;

	parsed = ovf_parse(xml, size, &env, err, sizeof(err));
	redacted = ovf_redact(xml, size, &red, &red_len);
	if (parsed == 0) {
		if (redacted < 0)
			abort();
		check_redacted(&env, red, red_len);
		ovf_env_free(&env);
	}
	free(red);
	return 0;
}
