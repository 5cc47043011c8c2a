/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Send a kmod_policy to the modules that are loaded (azl_storvsc,
 * azl_netvsc, azl_accel).  One result per module, so the daemon logs one
 * line each and a module that is not loaded is not an error.
 */
#include <stddef.h>

#include "kmod_policy.h"

enum kmod_module {
	KMOD_STORVSC,
	KMOD_NETVSC,
	KMOD_ACCEL,
	KMOD_COUNT,
};

#define KMOD_BIT(m) (1u << (m))
#define KMOD_ALL    (KMOD_BIT(KMOD_STORVSC) | KMOD_BIT(KMOD_NETVSC) | KMOD_BIT(KMOD_ACCEL))

struct kmod_push_result {
	bool tried;          /* in the set asked for and something to push */
	int status;          /* 0 pushed; -ENOENT not loaded; else the kernel's -errno */
	char detail[256];    /* what was pushed, or why not (with the kernel's extack) */
};

/* "azl_storvsc", …; NULL for an unknown index. */
const char *kmod_module_name(enum kmod_module m);
/* The module whose generic netlink family is @family; KMOD_COUNT when none. */
enum kmod_module kmod_module_of_family(const char *family);

/* Push the parts of @p that @which names; fills res[KMOD_COUNT]. */
void kmod_push(const struct kmod_policy *p, unsigned int which,
	       struct kmod_push_result res[KMOD_COUNT]);
