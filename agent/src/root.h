/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

/*
 * The root prefix.  Every path the agent opens on the system (sysfs, procfs,
 * device nodes, configuration and state) is resolved here, so the same code
 * runs against the live machine, a SKU fixture or a test tree.  No other file
 * in the agent spells out a system directory.
 */

enum root_dir {
	ROOT_SYS,  /* /sys */
	ROOT_PROC, /* /proc */
	ROOT_DEV,  /* /dev */
	ROOT_ETC,  /* /etc */
	ROOT_VAR,  /* /var */
	ROOT_RUN,  /* /run */
	ROOT_LIB,  /* /lib (kernel module lists) */
};

struct root {
	char dir[256]; /* "" means the live system ("/") */
};

/* dir NULL: take AZL_ROOT from the environment, else the live system. */
int root_init(struct root *r, const char *dir);
bool root_is_live(const struct root *r);
const char *root_name(const struct root *r); /* "/" or the prefix */

/*
 * Format "<prefix><system dir>/<rel>" into buf.  rel is a printf format and
 * must not start with '/'.  Returns 0 or -ENAMETOOLONG.
 */
int root_path(const struct root *r, enum root_dir d, char *buf, size_t len,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int root_vpath(const struct root *r, enum root_dir d, char *buf, size_t len,
	       const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* The system spelling of a directory (for messages): "/sys", "/proc", … */
const char *root_dir_name(enum root_dir d);
