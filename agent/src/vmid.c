// SPDX-License-Identifier: MIT
#include "vmid.h"

#include <string.h>

#include "vmbus_class.h"

/* Reverse the byte order of the hex field s[0..len), len even. */
static void swap_field(char *s, size_t len)
{
	for (size_t i = 0, j = len - 2; i < j; i += 2, j -= 2) {
		char a = s[i], b = s[i + 1];

		s[i] = s[j];
		s[i + 1] = s[j + 1];
		s[j] = a;
		s[j + 1] = b;
	}
}

int vmid_from_product_uuid(const char *product_uuid, bool gen1, char out[37])
{
	int ret = guid_normalize(product_uuid, out);

	if (ret < 0)
		return ret;
	if (gen1) {
		swap_field(out, 8);
		swap_field(out + 9, 4);
		swap_field(out + 14, 4);
	}
	return 0;
}
