// SPDX-License-Identifier: MIT
/* libFuzzer target: /proc/interrupts text, as a hostile kernel or fixture could write it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interrupts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct irq_table t;
	size_t bad;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (interrupts_parse(text, &t, &bad) == 0) {
		for (size_t i = 0; i < t.n; i++)
			for (unsigned int c = 0; c < t.h.ncols; c++)
				(void)interrupts_count(&t, i, c);
		interrupts_free(&t);
	}
	free(text);
	return 0;
}
