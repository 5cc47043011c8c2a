/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Strings someone else chose (the Hyper-V host's keys, a kernel module's
 * interface and driver names) on their way to a log line or a terminal:
 * a newline would start a line of the sender's choosing, an escape
 * sequence would drive the terminal.  Every control byte (below 0x20, and
 * 0x7f) is written as \xNN; everything else is kept.
 */
#include <stddef.h>

/* A buffer that holds the escaped form of any string from a @size-byte buffer. */
#define ESCAPED_SIZE(size) (4 * (size))

/*
 * @in escaped into @out (@len bytes, terminated when @len > 0).  A string
 * too long is cut before the escape or byte that would not fit.  Returns
 * the length written.
 */
size_t escape_controls(const char *in, char *out, size_t len);

/*
 * The same, and every byte >= 0x80 too: for text that must be ASCII (a DMI
 * field) on its way to a console that may read Latin-1, where such a byte
 * could start a C1 control sequence.
 */
size_t escape_non_ascii(const char *in, char *out, size_t len);
