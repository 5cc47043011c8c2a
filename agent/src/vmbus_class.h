/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/*
 * VMBus device classes by class GUID, as the kernel's device table and its
 * lsvmbus tool name them.  "perf" classes are the ones whose channels the
 * kernel spreads over CPUs (init_vp_index); the rest stay on CPU 0.
 */
struct vmbus_class {
	const char *guid;        /* lower case, no braces */
	const char *kind;        /* short stable name used in JSON: "network" */
	const char *description; /* lsvmbus wording: "Synthetic network adapter" */
	bool perf;
};

/* Accepts "{GUID}" or "GUID" in any case; NULL when unknown or malformed. */
const struct vmbus_class *vmbus_class_lookup(const char *class_id);
/* Canonical lower-case, brace-less form; -EINVAL when not a GUID. */
int guid_normalize(const char *in, char out[37]);
