// SPDX-License-Identifier: MIT
/* libFuzzer target: the IMDS instance document parser and the OpenSSH key check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imds_instance inst;
	char err[256];
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	/* Not NUL-terminated at size: the parser must honour the length. */
	memcpy(s, data, size);
	s[size] = '\0';
	if (imds_parse(s, size, &inst, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < inst.n_keys; i++)
			if (!ssh_public_key_valid(inst.keys[i].key_data))
				abort(); /* only validated keys come out */
		imds_instance_free(&inst);
	}
	(void)ssh_public_key_valid(s);
	free(s);
	return 0;
}
