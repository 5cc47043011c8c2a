// SPDX-License-Identifier: MIT
/* Priority-prefixed logging to stderr (journald reads the prefix). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/*
 * The one piece of process-wide state: the level is set once from the
 * command line before any service starts, so passing it through every
 * call would buy nothing.
 */
static bool debug_on;
static bool use_syslog;

void log_set_debug(bool on)
{
	debug_on = on;
}

void log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

bool log_debug_enabled(void)
{
	return debug_on;
}

void log_msg(int priority, const char *fmt, ...)
{
	static int journal = -1;
	va_list ap;

	if (priority == LOG_DEBUG && !debug_on)
		return;
	if (use_syslog) {
		va_start(ap, fmt);
		vsyslog(priority, fmt, ap);
		va_end(ap);
		return;
	}
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		fprintf(stderr, "<%d>", priority);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
