/* SPDX-License-Identifier: MIT */
#pragma once

/* systemd-style cleanup helpers: resources are released on scope exit. */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand a pointer over to a new owner and leave NULL behind. */
#define TAKE_PTR(p)                       \
	({                                \
		__typeof__(p) _tp_ = (p); \
		(p) = NULL;               \
		_tp_;                     \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline int min_int(int a, int b)
{
	return a < b ? a : b;
}

/* CLOCK_MONOTONIC in microseconds: for deadlines and ages, never wall time. */
static inline uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Sleep ms milliseconds on CLOCK_MONOTONIC, or less once *stop turns
 * non-zero (a signal handler sets it; the signal ends the sleep).
 */
static inline void sleep_ms(unsigned ms, const volatile sig_atomic_t *stop)
{
	uint64_t until = monotonic_usec() + (uint64_t)ms * 1000u;
	struct timespec ts = { .tv_sec = (time_t)(until / 1000000u),
			       .tv_nsec = (long)(until % 1000000u) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		if (stop && *stop)
			return;
}
