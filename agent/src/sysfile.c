// SPDX-License-Identifier: MIT
#include "sysfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <stdio.h>
#include <stdbool.h>
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
 * Open a file we only read, path relative to dirfd (AT_FDCWD for a plain
 * path).  O_NONBLOCK keeps a FIFO planted where an attribute should be from
 * blocking us forever; anything but a regular file (sysfs and procfs
 * attributes are regular files) is refused.  Every reader opens through here.
 * *size (when asked) is the opened file's st_size: procfs says 0, sysfs a
 * page whatever the content, only real file systems the truth.
 */
static int open_regular_at(int dirfd, const char *path, off_t *size)
{
	struct stat st;
	int fd;

	/* Look before opening: opening some device nodes has side effects. */
	if (fstatat(dirfd, path, &st, 0) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* And after: the name may have been swapped for something else meanwhile. */
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	}
	if (size)
		*size = st.st_size;
	return fd;
}

/*
 * Has a read loop that holds n bytes reached the end of a file of the size
 * open_regular_at() found?  Only a file with a size: then the read that
 * would return 0 is saved (one system call per small file, and the
 * affinity facts read a thousand); otherwise that read decides.
 */
static bool read_whole(off_t size, size_t n)
{
	return size > 0 && n == (size_t)size;
}

static void strip_trailing_space(char *s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)s[*n - 1]))
		s[--*n] = '\0';
}

/* read_text() of an open file of the given st_size. */
static int read_text_fd(int fd, off_t size, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t k;

	/* Read one byte more than fits so that an over-long file is detected. */
	while (n < len && !read_whole(size, n)) {
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

static int read_text_at(int dirfd, const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = -1;
	off_t size = 0;

	if (len < 2)
		return -EINVAL;
	fd = open_regular_at(dirfd, path, &size);
	return fd < 0 ? fd : read_text_fd(fd, size, buf, len);
}

int read_text(const char *path, char *buf, size_t len)
{
	return read_text_at(AT_FDCWD, path, buf, len);
}

/* read_all() of an open file of the given st_size. */
static int read_all_fd(int fd, off_t size, char **out, size_t *out_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, n = 0;
	ssize_t k;

	/*
	 * procfs files report size 0, so grow as we go instead of trusting
	 * st_size; it only saves the last read (read_whole).
	 */
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
		if (read_whole(size, n))
			break;
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

static int read_all_at(int dirfd, const char *path, char **out, size_t *out_len)
{
	_cleanup_close_ int fd = -1;
	off_t size = 0;

	fd = open_regular_at(dirfd, path, &size);
	return fd < 0 ? fd : read_all_fd(fd, size, out, out_len);
}

int resolve_under(const char *top, const char *path, char *real)
{
	char realtop[PATH_MAX];
	size_t n;

	if (!realpath(top, realtop) || !realpath(path, real))
		return -errno;
	n = strlen(realtop);
	if (n == 1) /* "/": everything is under it */
		return 0;
	if (strncmp(real, realtop, n) != 0 || (real[n] != '/' && real[n] != '\0'))
		return -EXDEV;
	return (int)n;
}

int read_all(const char *path, char **out, size_t *out_len)
{
	return read_all_at(AT_FDCWD, path, out, out_len);
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

/*
 * fgets() that also tells how many bytes it stored, NULs included, so that
 * a NUL cannot cut a line short unseen.  The buffer is filled with '\n'
 * first: the first '\n' after the call is either the line's own, followed
 * by the terminator fgets() wrote, or the filling just past that terminator.
 * Returns the count (0 at the end of the file) and sets *eol when the last
 * byte counted is the newline; -EIO on a read error.  size is 2 or more.
 */
static int fgets_counted(char *s, size_t size, FILE *f, bool *eol)
{
	const char *nl;

	if (size > INT_MAX)
		size = INT_MAX;
	memset(s, '\n', size);
	*eol = false;
	if (!fgets(s, (int)size, f))
		return ferror(f) ? -EIO : 0;
	nl = memchr(s, '\n', size);
	if (!nl)
		return (int)size - 1; /* filled up, no newline yet */
	if (nl + 1 < s + size && nl[1] == '\0') {
		*eol = true;
		return (int)(nl + 1 - s);
	}
	return (int)(nl - 1 - s);
}

int read_line(FILE *f, char **buf, size_t *cap, size_t max, size_t *len)
{
	size_t n = 0;
	bool eol = false;
	int k, ret;

	/* A chunk at a time, never past max + 1 bytes: an endless line ends at the bound. */
	for (;;) {
		ret = grow_line(buf, cap, n, max);
		if (ret < 0)
			return ret;
		/* A buffer grown for a longer max before holds no more than this one. */
		k = fgets_counted(*buf + n, (*cap < max + 2 ? *cap : max + 2) - n, f, &eol);
		if (k < 0)
			return k;
		if (memchr(*buf + n, '\0', (size_t)k))
			return -EBADMSG;
		n += (size_t)k;
		if (eol || k == 0)
			break;
		if (n > max)
			return -EFBIG;
	}
	if (eol)
		n--; /* the newline */
	(*buf)[n] = '\0';
	*len = n;
	return eol || n > 0; /* a last line without newline counts */
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
	ret = open_regular_at(AT_FDCWD, path, NULL);
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

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; s && i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -EINVAL;
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

/* readlinkat() into buf as a string: -ENAMETOOLONG when it does not fit. */
static int read_link_at(int dirfd, const char *path, char *buf, size_t len)
{
	ssize_t n = readlinkat(dirfd, path, buf, len);

	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

/* The last component of a symlink's target: "../../drivers/mlx5_core/" gives "mlx5_core". */
static int read_link_name_at(int dirfd, const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	size_t n;
	int ret;

	ret = read_link_at(dirfd, path, target, sizeof(target));
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

int root_read_link(const struct root *r, enum root_dir d, char *buf,
		   size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	return read_link_at(AT_FDCWD, path, buf, len);
}

int root_read_link_name(const struct root *r, enum root_dir d, char *buf,
			size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	return read_link_name_at(AT_FDCWD, path, buf, len);
}

bool root_exists(const struct root *r, enum root_dir d, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	ret = ROOT_FORMAT(path, r, d, fmt);
	return ret == 0 && access(path, F_OK) == 0;
}

/* ---- directories -------------------------------------------------------- */

static int open_dir_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* fn for each entry of the directory open at fd but "." and ".."; closes fd. */
static int each_entry_fd(int fd, sys_dir_entry_fn fn, void *userdata)
{
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = fdopendir(fd);
	if (!dir) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* A readdir() error ends the listing, as the end of the directory does. */
	while (ret >= 0 && (de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ret = fn(de->d_name, userdata);
	}
	closedir(dir);
	return ret < 0 ? ret : 0;
}

struct name_list {
	char **v;
	size_t n, cap;
};

static int collect_name(const char *entry, void *userdata)
{
	struct name_list *l = userdata;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		char **nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n] = strdup(entry);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int cmp_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of the directory open at fd in version order; closes fd. */
static int list_fd(int fd, char ***names, size_t *n)
{
	struct name_list l = { 0 };
	int ret;

	ret = each_entry_fd(fd, collect_name, &l);
	if (ret < 0) {
		strv_free(l.v, l.n);
		return ret;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_version);
	*names = l.v;
	*n = l.n;
	return 0;
}

int root_list_dir(const struct root *r, enum root_dir d, char ***names,
		  size_t *n, const char *fmt, ...)
{
	char path[PATH_MAX];
	int ret;

	*names = NULL;
	*n = 0;
	ret = ROOT_FORMAT(path, r, d, fmt);
	if (ret < 0)
		return ret;
	ret = open_dir_at(AT_FDCWD, path);
	return ret < 0 ? ret : list_fd(ret, names, n);
}

void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- reading through an open directory ---------------------------------- */

int sys_dir_open(const struct root *r, enum root_dir d, struct sys_dir *h,
		 const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int n, ret;

	h->fd = -1;
	h->d = d;
	va_start(ap, fmt);
	n = vsnprintf(h->rel, sizeof(h->rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(h->rel))
		return -ENAMETOOLONG;
	ret = root_path(r, d, path, sizeof(path), "%s", h->rel);
	if (ret < 0)
		return ret;
	ret = open_dir_at(AT_FDCWD, path);
	if (ret < 0)
		return ret;
	h->fd = ret;
	return 0;
}

int sys_dir_open_sub(const struct sys_dir *p, const char *name, struct sys_dir *h)
{
	int ret;

	h->fd = -1;
	h->d = p->d;
	if ((size_t)snprintf(h->rel, sizeof(h->rel), "%s/%s", p->rel, name) >= sizeof(h->rel))
		return -ENAMETOOLONG;
	ret = open_dir_at(p->fd, name);
	if (ret < 0)
		return ret;
	h->fd = ret;
	return 0;
}

void sys_dir_close(struct sys_dir *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int sys_dir_read_text(const struct sys_dir *h, const char *name, char *buf, size_t len)
{
	return read_text_at(h->fd, name, buf, len);
}

int sys_dir_read_all(const struct sys_dir *h, const char *name, char **out, size_t *out_len)
{
	return read_all_at(h->fd, name, out, out_len);
}

int sys_dir_read_long(const struct sys_dir *h, const char *name, long *out)
{
	char buf[64];
	int ret = read_text_at(h->fd, name, buf, sizeof(buf));

	return ret < 0 ? ret : parse_long(buf, out);
}

int sys_dir_read_link(const struct sys_dir *h, const char *name, char *buf, size_t len)
{
	return read_link_at(h->fd, name, buf, len);
}

int sys_dir_read_link_name(const struct sys_dir *h, const char *name, char *buf, size_t len)
{
	return read_link_name_at(h->fd, name, buf, len);
}

int sys_dir_list(const struct sys_dir *h, const char *name, char ***names, size_t *n)
{
	int fd;

	*names = NULL;
	*n = 0;
	fd = open_dir_at(h->fd, name);
	return fd < 0 ? fd : list_fd(fd, names, n);
}

int sys_dir_each(const struct sys_dir *h, const char *name, sys_dir_entry_fn fn,
		 void *userdata)
{
	int fd = open_dir_at(h->fd, name);

	return fd < 0 ? fd : each_entry_fd(fd, fn, userdata);
}
