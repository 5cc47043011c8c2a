/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Fake sysfs trees for the azl-udev tests: a temporary root, files with
 * their parent directories, symlinks (absolute, into the same root).
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tree {
	char root[64];
};

static inline void tree_init(struct tree *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/azl-udev-test-XXXXXX");
	assert_non_null(mkdtemp(t->root));
}

static inline void tree_mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* rel under the root; the parent directories are made. */
static inline void tree_path(const struct tree *t, char *buf, size_t len, const char *rel)
{
	char dir[PATH_MAX], *slash;

	snprintf(buf, len, "%s/%s", t->root, rel);
	snprintf(dir, sizeof(dir), "%s", buf);
	slash = strrchr(dir, '/');
	*slash = '\0';
	tree_mkdirs(dir);
}

static inline void tree_file(const struct tree *t, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	tree_path(t, path, sizeof(path), rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static inline void tree_dir(const struct tree *t, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	tree_mkdirs(path);
}

static inline void tree_link(const struct tree *t, const char *rel, const char *target_rel)
{
	char path[PATH_MAX], target[PATH_MAX];

	tree_path(t, path, sizeof(path), rel);
	snprintf(target, sizeof(target), "%s/%s", t->root, target_rel);
	assert_int_equal(symlink(target, path), 0);
}

static inline int tree_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void tree_free(struct tree *t)
{
	nftw(t->root, tree_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* What a print function wrote, as one string (free it). */
#define CAPTURE(call, out)                                                \
	do {                                                              \
		size_t len_;                                              \
		FILE *f_ = open_memstream(&(out), &len_);                 \
		assert_non_null(f_);                                      \
		call;                                                     \
		fclose(f_);                                               \
	} while (0)
