/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "root.h"

/*
 * Reading sysfs, procfs and state files under the root prefix.  Every reader
 * returns a negative errno on failure and never trusts the content: a file
 * that is too long for its buffer is an error (-EFBIG), not a silent cut;
 * anything but a regular file (a FIFO that would block) is -EBADFD.
 */

#define SYSFILE_MAX (16u << 20) /* the largest whole file we slurp */

/* A one-value file: content without trailing white space.  Returns length. */
int read_text(const char *path, char *buf, size_t len);
/* A whole file into a fresh NUL-terminated buffer; *out must be freed. */
int read_all(const char *path, char **out, size_t *out_len);
/*
 * One line of f into *buf (grown as needed, never past max bytes), without
 * its newline; *len is its length.  Returns 1 for a line, 0 at the end of
 * the file, -EFBIG for a line longer than max, or -errno.
 */
int read_line(FILE *f, char **buf, size_t *cap, size_t max, size_t *len);
/* Open a file under the root for reading; NULL with errno set on failure. */
FILE *root_fopen(const struct root *r, enum root_dir d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse a whole decimal (or 0x hex) integer with nothing after it. */
int parse_long(const char *s, long *out);
/* The same rules for an unsigned value no larger than @max (-ERANGE above). */
int parse_unsigned(const char *s, unsigned long long max, unsigned long long *out);

int root_read_text(const struct root *r, enum root_dir d, char *buf,
		   size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int root_read_long(const struct root *r, enum root_dir d, long *out,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int root_read_all(const struct root *r, enum root_dir d, char **out,
		  size_t *out_len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A symlink's target as written. */
int root_read_link(const struct root *r, enum root_dir d, char *buf,
		   size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The last component of a symlink's target (a driver's name, say). */
int root_read_link_name(const struct root *r, enum root_dir d, char *buf,
			size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
bool root_exists(const struct root *r, enum root_dir d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The entries of a directory, without "." and "..", in version order
 * ("node2" before "node10").  Free with strv_free().
 */
int root_list_dir(const struct root *r, enum root_dir d, char ***names,
		  size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void strv_free(char **v, size_t n);
