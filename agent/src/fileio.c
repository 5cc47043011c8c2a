// SPDX-License-Identifier: MIT
/* Atomic file replacement and the small pieces it needs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "util.h"

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		int err = 0;

		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			err = -errno;
		*p = '/';
		if (err)
			return err;
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	struct stat st;
	int ret = mkdir_parents(path);

	if (ret < 0)
		return ret;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	_cleanup_close_ int fd = -1;

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	fd = open(slash == path ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int write_temp_beside(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
		      gid_t gid, char *tmp)
{
	const char *base = strrchr(path, '/');
	_cleanup_close_ int fd = -1;
	int n, r;

	if (!base)
		return -EINVAL;
	/* A hidden name with a dot: no *.conf glob and no sudoers.d scan picks it up. */
	n = snprintf(tmp, PATH_MAX, "%.*s/.%s.XXXXXX", (int)(base - path), path, base + 1);
	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Mode and owner before the content: nobody reads a secret through a wide mode. */
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		r = -errno;
	if (r == 0)
		r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int install_temp(const char *tmp, const char *path)
{
	int r;

	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return fsync_dir_of(path);
}

int write_file_atomic_owned(const char *path, const void *data, size_t len, mode_t mode,
			    uid_t uid, gid_t gid)
{
	char tmp[PATH_MAX];
	int r = write_temp_beside(path, data, len, mode, uid, gid, tmp);

	return r < 0 ? r : install_temp(tmp, path);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	int r = mkdir_parents(path);

	return r < 0 ? r : write_file_atomic_owned(path, data, len, mode, (uid_t)-1, (gid_t)-1);
}

bool file_is(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	char buf[4096];
	size_t off = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode ||
	    (size_t)st.st_size != len)
		return false;
	while (off < len) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0 || off + (size_t)n > len || memcmp(buf, (const char *)data + off, (size_t)n) != 0)
			return false;
		off += (size_t)n;
	}
	return read(fd, buf, 1) == 0;
}
