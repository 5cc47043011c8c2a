// SPDX-License-Identifier: MIT
#include "warnings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void warn_add(struct warnings *w, const char *area, const char *fmt, ...)
{
	struct warning *x;
	va_list ap;

	if (w->n >= WARNINGS_MAX) {
		w->dropped++;
		return;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct warning *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return; /* out of memory: losing a warning beats crashing */
		w->v = v;
		w->cap = cap;
	}
	x = &w->v[w->n++];
	snprintf(x->area, sizeof(x->area), "%s", area);
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
}

void warn_unreadable(struct warnings *w, const char *area, enum root_dir d,
		     const char *rel, int err)
{
	const char *why;

	switch (-err) {
	case EFBIG:
		why = "content too long";
		break;
	case EBADFD:
		why = "not a regular file";
		break;
	case EBADMSG:
	case EINVAL:
	case ERANGE:
		why = "unexpected content";
		break;
	default:
		why = strerror(-err);
	}
	warn_add(w, area, "cannot read %s/%s (%s): shown as unknown",
		 root_dir_name(d), rel, why);
}

void warnings_free(struct warnings *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}
