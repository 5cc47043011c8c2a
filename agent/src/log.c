// SPDX-License-Identifier: MIT
/* Priority-prefixed logging to stderr (journald reads the prefix). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
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

/*
 * Log lines carry strings the Hyper-V host chose (keys, adapter ids).  A
 * newline in one would start a new journal entry with a priority prefix of
 * the host's choosing, so every control byte is written as \xNN
 * (escape_controls): one call, one line, whatever the arguments hold.
 */
void log_msg(int priority, const char *fmt, ...)
{
	static int journal = -1;
	char raw[2048], line[sizeof(raw) * 4];
	va_list ap;

	if (priority == LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_controls(raw, line, sizeof(line));
	if (use_syslog) {
		syslog(priority, "%s", line);
		return;
	}
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		fprintf(stderr, "<%d>%s\n", priority, line);
	else
		fprintf(stderr, "%s\n", line);
}
