// SPDX-License-Identifier: MIT
/* Priority-prefixed logging to stderr (journald reads the prefix). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * Microsoft's image validation fails an image whose journal holds a
 * lowercase "fail", "error" or "warning" (tests/lisa/README.md).  Our own
 * format strings avoid them (tests/lisa/log-words.sh); these are the C
 * library's texts that a "%s" of strerror() or gai_strerror(), or a %m,
 * would bring in, said the same way in other words.
 */
static const struct {
	const char *from, *to;
} libc_texts[] = {
	{ "Input/output error", "Input/output problem (EIO)" },
	{ "Protocol error", "Protocol problem (EPROTO)" },
	{ "Remote I/O error", "Remote I/O problem (EREMOTEIO)" },
	{ "Exec format error", "Exec format not recognised (ENOEXEC)" },
	{ "Communication error on send", "Communication problem on send (ECOMM)" },
	{ "Streams pipe error", "Streams pipe problem (ESTRPIPE)" },
	{ "Memory page has hardware error", "Memory page has a hardware fault (EHWPOISON)" },
	{ "Unknown error ", "Unknown errno " },
	{ "Temporary failure in name resolution", "Name resolution temporarily unavailable" },
	{ "Non-recoverable failure in name resolution", "Name resolution cannot recover" },
};

void log_reword_libc_texts(char *s, size_t size)
{
	for (size_t i = 0; i < sizeof(libc_texts) / sizeof(libc_texts[0]); i++) {
		size_t from = strlen(libc_texts[i].from), to = strlen(libc_texts[i].to);
		char *p = s;

		while ((p = strstr(p, libc_texts[i].from)) != NULL) {
			size_t tail = strlen(p + from);

			if ((size_t)(p - s) + to + 1 > size)
				break;
			/* Cut the tail if the longer text would not fit. */
			if ((size_t)(p - s) + to + tail + 1 > size)
				tail = size - 1 - (size_t)(p - s) - to;
			memmove(p + to, p + from, tail);
			memcpy(p, libc_texts[i].to, to);
			p[to + tail] = '\0';
			p += to;
		}
	}
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
	log_reword_libc_texts(raw, sizeof(raw));
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
