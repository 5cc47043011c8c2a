// SPDX-License-Identifier: MIT
#include "root.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dir_names[] = {
	[ROOT_SYS] = "/sys", [ROOT_PROC] = "/proc", [ROOT_DEV] = "/dev",
	[ROOT_ETC] = "/etc", [ROOT_VAR] = "/var",   [ROOT_RUN] = "/run",
	[ROOT_LIB] = "/lib",
};

int root_init(struct root *r, const char *dir)
{
	size_t n;

	if (!dir || !*dir)
		dir = getenv("AZL_ROOT");
	if (!dir)
		dir = "";
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/') /* "/" and "x/" mean "" and "x" */
		n--;
	if (n >= sizeof(r->dir))
		return -ENAMETOOLONG;
	memcpy(r->dir, dir, n);
	r->dir[n] = '\0';
	return 0;
}

bool root_is_live(const struct root *r)
{
	return r->dir[0] == '\0';
}

const char *root_name(const struct root *r)
{
	return root_is_live(r) ? "/" : r->dir;
}

const char *root_dir_name(enum root_dir d)
{
	return dir_names[d];
}

int root_vpath(const struct root *r, enum root_dir d, char *buf, size_t len,
	       const char *fmt, va_list ap)
{
	int n, m;

	n = snprintf(buf, len, "%s%s/", r->dir, dir_names[d]);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	m = vsnprintf(buf + n, len - n, fmt, ap);
	if (m < 0 || (size_t)m >= len - n)
		return -ENAMETOOLONG;
	if (m == 0) /* the directory itself: drop the trailing slash */
		buf[n - 1] = '\0';
	return 0;
}

int root_path(const struct root *r, enum root_dir d, char *buf, size_t len,
	      const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = root_vpath(r, d, buf, len, fmt, ap);
	va_end(ap);
	return ret;
}
