/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Logging of the long-running services.  Under systemd (JOURNAL_STREAM set)
 * each line carries its syslog priority as a "<N>" prefix, which journald
 * turns into the entry's priority; on a terminal it is plain text.  The
 * commands print their results and errors directly instead.
 */

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

void log_set_debug(bool on);
/* After daemon(): stderr is gone, so log to syslog under this name. */
void log_to_syslog(const char *ident);
bool log_debug_enabled(void);
/*
 * Rewrite, in @s (a NUL-terminated string in a buffer of @size bytes), the C
 * library's error texts that hold a lowercase "error" or "failure" (EIO's
 * "Input/output error"...) into other words; log_msg() does it to every
 * line.  Microsoft's image validation rejects those words in the journal.
 */
void log_reword_libc_texts(char *s, size_t size);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
