// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the vendor-specific area of NVMe Identify Namespace
 * (device-supplied), as azl-udev parses it, and the names it leads to.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "udev_disk.h"
#include "udev_nvme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = { "os", "data", "local", "resource" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvme_vs vs;
	struct azure_disk d;
	unsigned long c, n;
	char *s;
	bool known = false;
	int ret;

	/* Exactly size bytes on the heap: ASan sees any read past the area. */
	s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	azure_disk_init(&d);
	ret = nvme_vs_parse(s, size, &vs);
	if (ret == 1) {
		/* What is accepted becomes a symlink name: check the promises. */
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			known |= strcmp(vs.type, types[i]) == 0;
		if ((vs.type[0] && !known) || (vs.name[0] && !udev_safe_name(vs.name)) ||
		    vs.index < -1 || vs.index > 65535 || vs.lun < -1 || vs.lun > 65535)
			abort();
		/* Over the model's answer: the type stays one of ours, the name safe. */
		nvme_model_classify("MSFT NVMe Accelerator v1.0", 7, &d);
		nvme_vs_overlay(&vs, &d);
		if (!d.type[0] || (d.name[0] && !udev_safe_name(d.name)) || d.lun < 0 ||
		    (vs.lun >= 0 && d.lun != vs.lun) || (vs.lun < 0 && d.lun != 5))
			abort();
	} else if (ret != 0 && ret != -EBADMSG && ret != -EINVAL) {
		abort();
	}
	/* The kernel names and the name check take the same bytes as a string. */
	if (size && memchr(s, '\0', size)) {
		(void)nvme_parse_kname(s, &c, &n);
		(void)udev_safe_name(s);
	}
	free(s);
	return 0;
}
