// SPDX-License-Identifier: MIT
#include "sysfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/*
 * Format the rooted path of a variadic reader into path (a char array);
 * the value of root_vpath().  Used where fmt is the last named parameter.
 */
#define ROOT_FORMAT(path, r, d, fmt)                                          \
	({                                                                     \
		va_list ap_;                                                   \
		int ret_;                                                      \
		va_start(ap_, fmt);                                            \
		ret_ = root_vpath(r, d, path, sizeof(path), fmt, ap_);         \
		va_end(ap_);                                                   \
		ret_;                                                          \
	})

/*
 * Open a file we only read.  O_NONBLOCK keeps a FIFO planted where an
 * attribute should be from blocking us forever; anything but a regular file
 * (sysfs and procfs attributes are regular files) is refused.
 */
static int open_regular(const char *path)
{
	struct stat st;
	int fd;

	/* Look before opening: opening some device nodes has side effects. */
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	}
	return fd;
}

static void strip_trailing_space(char *s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)s[*n - 1]))
		s[--*n] = '\0';
}

int read_text(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = -1;
	size_t n = 0;
	ssize_t k;

	if (len < 2)
		return -EINVAL;
	fd = open_regular(path);
	if (fd < 0)
		return fd;
	/* Read one byte more than fits so that an over-long file is detected. */
	while (n < len) {
		k = read(fd, buf + n, len - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n == len)
		return -EFBIG;
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return -EBADMSG; /* binary garbage in a text attribute */
	strip_trailing_space(buf, &n);
	return (int)n;
}

int read_all(const char *path, char **out, size_t *out_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, n = 0;
	ssize_t k;

	fd = open_regular(path);
	if (fd < 0)
		return fd;
	/* procfs files report size 0, so grow as we go instead of trusting st_size. */
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n + 1 >= cap) {
			char *nb;

			if (cap >= SYSFILE_MAX)
				return -EFBIG;
			nb = realloc(buf, cap * 2);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return -EBADMSG; /* binary garbage in a text file */
	*out = TAKE_PTR(buf);
	if (out_len)
		*out_len = n;
	return 0;
}

/* Room for at least n + 2 bytes (a character and the terminator). */
static int grow_line(char **buf, size_t *cap, size_t n, size_t max)
{
	size_t ncap;
	char *nb;

	if (n + 2 <= *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 256;
	if (ncap > max + 2)
		ncap = max + 2;
	nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

int read_line(FILE *f, char **buf, size_t *cap, size_t max, size_t *len)
{
	size_t n = 0;
	int c, ret;

	ret = grow_line(buf, cap, 0, max);
	if (ret < 0)
		return ret;
	/* Byte by byte: a NUL or an endless line cannot hide from the checks. */
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -EBADMSG;
		if (n >= max)
			return -EFBIG;
		ret = grow_line(buf, cap, n, max);
		if (ret < 0)
			return ret;
		(*buf)[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -EIO;
	(*buf)[n] = '\0';
	*len = n;
	return c == EOF && n == 0 ? 0 : 1; /* a last line without newline counts */
}

FILE *root_fopen(const struct root *r, enum root_dir d, const char *fmt, ...)
{
	char path[PATH_MAX];
	FILE *f;
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	ret = open_regular(path);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	f = fdopen(ret, "r");
	if (!f)
		close(ret);
	return f;
}

int parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	/* Decimal, or hex with 0x (sysfs ids): never octal, so "010" is 10. */
	v = strtol(s, &end, strncmp(s, "0x", 2) == 0 ? 16 : 10);
	if (errno)
		return -errno;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_unsigned(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would take blanks and a minus sign; a count has neither. */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, strncmp(s, "0x", 2) == 0 ? 16 : 10);
	if (*end != '\0' || end == s + 2 * (strncmp(s, "0x", 2) == 0))
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int root_read_text(const struct root *r, enum root_dir d, char *buf,
		   size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	return read_text(path, buf, len);
}

int root_read_long(const struct root *r, enum root_dir d, long *out,
		   const char *fmt, ...)
{
	char path[PATH_MAX], buf[64];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	return parse_long(buf, out);
}

int root_read_all(const struct root *r, enum root_dir d, char **out,
		  size_t *out_len, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	return read_all(path, out, out_len);
}

static int vread_link(const struct root *r, enum root_dir d, char *buf,
		      size_t len, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	ssize_t n;
	int ret;

	ret = root_vpath(r, d, path, sizeof(path), fmt, ap);
	if (ret < 0)
		return ret;
	n = readlink(path, buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

int root_read_link(const struct root *r, enum root_dir d, char *buf,
		   size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vread_link(r, d, buf, len, fmt, ap);
	va_end(ap);
	return ret;
}

int root_read_link_name(const struct root *r, enum root_dir d, char *buf,
			size_t len, const char *fmt, ...)
{
	char target[PATH_MAX];
	const char *base;
	size_t n;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vread_link(r, d, target, sizeof(target), fmt, ap);
	va_end(ap);
	if (ret < 0)
		return ret;
	n = strlen(target);
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

bool root_exists(const struct root *r, enum root_dir d, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	return ret == 0 && access(path, F_OK) == 0;
}

static int cmp_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int root_list_dir(const struct root *r, enum root_dir d, char ***names,
		  size_t *n, const char *fmt, ...)
{
	char path[PATH_MAX];
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int ret;

	*names = NULL;
	*n = 0;
	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (cnt == cap) {
			char **nv;

			cap = cap ? 2 * cap : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt])
			goto oom;
		cnt++;
	}
	closedir(dir);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_version);
	*names = v;
	*n = cnt;
	return 0;
oom:
	closedir(dir);
	strv_free(v, cnt);
	return -ENOMEM;
}

void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
