/* SPDX-License-Identifier: MIT */
#pragma once

/* Writing files that must never be seen half-written. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* write() all of buf, through EINTR and short writes. */
int write_all(int fd, const void *buf, size_t n);

/* Create each missing directory on the way to path's last component (0755). */
int mkdir_parents(const char *path);
/* Create path and every missing directory above it with mode; -ENOTDIR if it is a file. */
int mkdir_p(const char *path, mode_t mode);

/*
 * A temporary file beside path holding data, with mode and owner (-1: as
 * created) set before any content is written, synced; its name in tmp
 * (PATH_MAX bytes).  install_temp() renames it over path and syncs the
 * directory (tmp is removed on failure).  Between the two a caller can
 * check the file (`visudo -cf`).
 */
int write_temp_beside(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
		      gid_t gid, char *tmp);
int install_temp(const char *tmp, const char *path);

/*
 * Replace path with data atomically, so a crash leaves the old file or the
 * new one, never a part.  write_file_atomic() also creates missing parent
 * directories (0755).
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
int write_file_atomic_owned(const char *path, const void *data, size_t len, mode_t mode,
			    uid_t uid, gid_t gid);

/* Is path a regular file (not a link) with exactly this mode and content? */
bool file_is(const char *path, const void *data, size_t len, mode_t mode);
