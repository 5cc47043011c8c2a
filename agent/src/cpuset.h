/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A set of CPU numbers, sized for the largest kernel Azure Linux builds
 * (CONFIG_NR_CPUS=8192).  Parses and prints the kernel's two spellings:
 * lists ("0-3,8,10-11") and hex masks ("ffffffff,ffff0000,00000000").
 */

#define CPUSET_MAX 8192
#define CPUSET_WORDS (CPUSET_MAX / 64)

struct cpuset {
	uint64_t w[CPUSET_WORDS];
};

void cpuset_zero(struct cpuset *s);
void cpuset_set(struct cpuset *s, unsigned int cpu);
bool cpuset_has(const struct cpuset *s, unsigned int cpu);
unsigned int cpuset_count(const struct cpuset *s);
bool cpuset_empty(const struct cpuset *s);
/* The highest member, or -1 for the empty set. */
int cpuset_last(const struct cpuset *s);
/* The one member of a set of one, else -1. */
int cpuset_single(const struct cpuset *s);

/* "0-3,8": -EINVAL on syntax errors, -ERANGE beyond CPUSET_MAX.  "" is empty. */
int cpuset_parse_list(const char *s, struct cpuset *out);
/* "ff,00000001" (comma every 32 bits, as sysfs prints). */
int cpuset_parse_mask(const char *s, struct cpuset *out);
/* Canonical list form; returns -ENOSPC when it does not fit. */
int cpuset_format_list(const struct cpuset *s, char *buf, size_t len);
/*
 * The kernel's "%*pb" mask of nbits bits, as sysfs prints xps_cpus: 32-bit
 * groups of 8 hex digits separated by commas, the first group only as wide
 * as its bits need ("3" for 2 bits, "00000000,00000001" for 64).  -ERANGE
 * for a member >= nbits or nbits outside 1..CPUSET_MAX, -ENOSPC when it does
 * not fit.
 */
int cpuset_format_mask(const struct cpuset *s, unsigned int nbits, char *buf, size_t len);
