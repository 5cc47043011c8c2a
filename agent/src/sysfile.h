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
 * Resolve path, links and all, into real (PATH_MAX bytes) and check that it
 * is top or lies under it (top resolved too): a tree must not lead out of
 * itself through a link.  Returns the length of resolved top (real + that
 * is the part under it), -errno when either does not resolve, -EXDEV when
 * path leaves top.
 */
int resolve_under(const char *top, const char *path, char *real);
/*
 * One line of f into *buf (grown as needed, never past max bytes), without
 * its newline; *len is its length.  Returns 1 for a line, 0 at the end of
 * the file, -EFBIG for a line longer than max, -EBADMSG for a NUL in it, or
 * -errno.
 */
int read_line(FILE *f, char **buf, size_t *cap, size_t max, size_t *len);
/* Open a file under the root for reading; NULL with errno set on failure. */
FILE *root_fopen(const struct root *r, enum root_dir d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse a whole decimal (or 0x hex) integer with nothing after it. */
int parse_long(const char *s, long *out);
/* The same rules for an unsigned value no larger than @max (-ERANGE above). */
int parse_unsigned(const char *s, unsigned long long max, unsigned long long *out);
/* A yes/no value: yes, true, on, 1 or no, false, off, 0 in any case; else -EINVAL. */
int parse_bool(const char *s, bool *out);

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

/*
 * A directory of the tree opened once, for the many files under it: a VMBus
 * or PCI device's directory, /proc/irq.  Walking the whole rooted path,
 * symlinks and all, for each of hundreds of small files costs more than
 * reading them.  The readers below take a name relative to the directory
 * ("channels/15/cpu", "." for the directory itself) and keep the rules of
 * the path readers above: a regular file only, looked at before it is opened
 * (a device node planted in a tree is never opened), opened O_NONBLOCK; a NUL
 * is -EBADMSG, a file that does not fit is -EFBIG.
 */
struct sys_dir {
	int fd;
	enum root_dir d;   /* its system directory and ... */
	char rel[224];     /* ... rooted name, for messages: "bus/pci/devices/0001:00:00.0" */
};

#define SYS_DIR_INIT { .fd = -1 }

/*
 * Open <system dir>/<rel> of the root.  d and rel are set even when the open
 * fails, so that the message can name the directory; close it all the same.
 */
int sys_dir_open(const struct root *r, enum root_dir d, struct sys_dir *h,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A directory under p (a device's, through its bus symlink); d and rel as above. */
int sys_dir_open_sub(const struct sys_dir *p, const char *name, struct sys_dir *h);
void sys_dir_close(struct sys_dir *h);

/* read_text(), read_all() and root_read_long() relative to h. */
int sys_dir_read_text(const struct sys_dir *h, const char *name, char *buf, size_t len);
int sys_dir_read_all(const struct sys_dir *h, const char *name, char **out, size_t *out_len);
int sys_dir_read_long(const struct sys_dir *h, const char *name, long *out);
/* root_read_link() and root_read_link_name() relative to h. */
int sys_dir_read_link(const struct sys_dir *h, const char *name, char *buf, size_t len);
int sys_dir_read_link_name(const struct sys_dir *h, const char *name, char *buf, size_t len);
/* root_list_dir() relative to h: version order, strv_free() the names. */
int sys_dir_list(const struct sys_dir *h, const char *name, char ***names, size_t *n);
/*
 * Each entry of a directory under h, without "." and "..", in directory
 * order and without a copy (msi_irqs lists over a thousand on an ND VM).  A
 * negative return of fn stops the walk and is returned; so is an error
 * opening the directory.
 */
typedef int (*sys_dir_entry_fn)(const char *entry, void *userdata);
int sys_dir_each(const struct sys_dir *h, const char *name, sys_dir_entry_fn fn,
		 void *userdata);
