/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The test seam of affinity_apply.c.  Every value the applier writes goes
 * through aff_write, which points at aff_write_file().  A unit test points
 * it at a function that fails on purpose, because a fixture's regular files
 * cannot answer EIO or EINVAL the way sysfs and procfs do.  Nothing else
 * may change it.  This header is not an interface for the rest of the agent.
 */

#include <stddef.h>

/* Write len bytes of value to the existing file path.  Returns 0 or -errno. */
typedef int (*aff_write_fn)(const char *path, const char *value, size_t len);

extern aff_write_fn aff_write;

/* The real writer: one open() that never creates the file, then one write(). */
int aff_write_file(const char *path, const char *value, size_t len);
