/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "root.h"

/*
 * What an operator should look at: a file that could not be read (the value
 * shows as unknown) or a fact that is wrong for a healthy guest.
 */
struct warning {
	char area[16];  /* "platform", "vmbus", … */
	char text[256];
};

/* Past this many, warnings are only counted: a broken tree cannot flood a screen. */
#define WARNINGS_MAX 64

struct warnings {
	size_t n, cap;
	struct warning *v;
	size_t dropped;  /* warnings past WARNINGS_MAX */
};

void warn_add(struct warnings *w, const char *area, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "cannot read <system path> (<why>)", for a fact that could not be read. */
void warn_unreadable(struct warnings *w, const char *area, enum root_dir d,
		     const char *rel, int err);
void warnings_free(struct warnings *w);
