// SPDX-License-Identifier: MIT
/* libFuzzer target: CPU lists and masks, GUIDs and the DMI vmId from one input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"
#include "vmbus_class.h"
#include "vmid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[512], id[37];
	struct cpuset set;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cpuset_parse_list(s, &set) == 0)
		(void)cpuset_format_list(&set, buf, sizeof(buf));
	if (cpuset_parse_mask(s, &set) == 0)
		(void)cpuset_format_list(&set, buf, sizeof(buf));
	(void)vmbus_class_lookup(s);
	(void)vmid_from_product_uuid(s, size & 1, id);
	free(s);
	return 0;
}
