/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The kernel command line (/proc/cmdline) split the way the kernel's own
 * next_arg() splits it: blanks inside double quotes stay in the word, a
 * quoted value loses its quotes, and "--" ends the kernel's part (what
 * follows is init's).  One walker for every reader (azl-udev cpu, the
 * affinity facts), libc only.
 */
#include <stdbool.h>
#include <stddef.h>

struct cmdline_param {
	const char *name;  /* not terminated: name_len bytes */
	size_t name_len;
	const char *value; /* after '=', quotes removed; NULL without '=' */
	size_t value_len;
};

/* The next parameter from *pos (advanced past it); false at the end or at "--". */
bool cmdline_next(const char **pos, struct cmdline_param *p);

/* Is @p's name @name, '-' and '_' alike as the kernel compares them? */
bool cmdline_param_is(const struct cmdline_param *p, const char *name);
