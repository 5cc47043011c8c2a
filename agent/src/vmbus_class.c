// SPDX-License-Identifier: MIT
#include "vmbus_class.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "util.h"

static const struct vmbus_class classes[] = {
	{ "f8615163-df3e-46c5-913f-f2d2f965ed0e", "network", "Synthetic network adapter", true },
	{ "ba6163d9-04a1-4d29-b605-72e2ffb1dc7f", "storage", "Synthetic SCSI Controller", true },
	{ "32412632-86cb-44a2-9b5c-50d1417354f5", "ide", "Synthetic IDE Controller", true },
	{ "2f9bcc4a-0069-4af3-b76b-6fd0be528cda", "fibre-channel", "Synthetic fiber channel adapter", true },
	{ "8c2eaf3d-32a7-4b09-ab99-bd1f1c86b501", "rdma", "Synthetic RDMA adapter", true },
	{ "44c4f61d-4444-4400-9d52-802e27ede19f", "vpci", "PCI Express pass-through", false },
	{ "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6", "kvp", "Data Exchange", false },
	{ "35fa2e29-ea23-4236-96ae-3a6ebacba440", "vss", "Backup (volume checkpoint)", false },
	{ "34d14be3-dee4-41c8-9ae7-6b174977c192", "fcopy", "Guest services", false },
	{ "57164f39-9115-4e78-ab55-382f3bd5422d", "heartbeat", "Heartbeat", false },
	{ "0e0b6031-5213-4934-818b-38d90ced39db", "shutdown", "Operating system shutdown", false },
	{ "9527e630-d0ae-497b-adce-e80ab0175caf", "timesync", "Time Synchronization", false },
	{ "525074dc-8985-46e2-8057-a307dc18a502", "dynamic-memory", "Dynamic Memory", false },
	{ "f912ad6d-2b17-48ea-bd65-f927a61c7684", "keyboard", "Synthetic keyboard", false },
	{ "cfa8b69e-5b4a-4cc0-b98b-8ba1a1f3f95a", "mouse", "Synthetic mouse", false },
	{ "da0a7802-e377-4aac-8e77-0558eb1073f8", "video", "Synthetic framebuffer adapter", false },
	{ "276aacf4-ac15-426c-98dd-7521ad3f01fe", "reserved", "Reserved system device", false },
	{ "f8e65716-3cb3-4a06-9a60-1889c5cccab5", "reserved", "Reserved system device", false },
	{ "3375baf4-9e15-4b30-b765-67acb10d607b", "reserved", "Reserved system device", false },
};

int guid_normalize(const char *in, char out[37])
{
	size_t n = strlen(in);

	if (n == 38 && in[0] == '{' && in[37] == '}') {
		in++;
		n = 36;
	}
	if (n != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? in[i] != '-' : !isxdigit((unsigned char)in[i]))
			return -EINVAL;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[36] = '\0';
	return 0;
}

const struct vmbus_class *vmbus_class_lookup(const char *class_id)
{
	char g[37];

	if (guid_normalize(class_id, g) < 0)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(classes); i++)
		if (strcmp(classes[i].guid, g) == 0)
			return &classes[i];
	return NULL;
}
