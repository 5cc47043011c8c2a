// SPDX-License-Identifier: MIT
#include "cpuset.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void cpuset_zero(struct cpuset *s)
{
	memset(s, 0, sizeof(*s));
}

void cpuset_set(struct cpuset *s, unsigned int cpu)
{
	if (cpu < CPUSET_MAX)
		s->w[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool cpuset_has(const struct cpuset *s, unsigned int cpu)
{
	return cpu < CPUSET_MAX && (s->w[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned int cpuset_count(const struct cpuset *s)
{
	unsigned int n = 0;

	for (size_t i = 0; i < CPUSET_WORDS; i++)
		n += (unsigned int)__builtin_popcountll(s->w[i]);
	return n;
}

bool cpuset_empty(const struct cpuset *s)
{
	return cpuset_count(s) == 0;
}

int cpuset_last(const struct cpuset *s)
{
	for (size_t i = CPUSET_WORDS; i-- > 0;)
		if (s->w[i])
			return (int)(i * 64 + 63 - (size_t)__builtin_clzll(s->w[i]));
	return -1;
}

int cpuset_single(const struct cpuset *s)
{
	int found = -1;

	/* One pass without counting: the planner asks this for every action. */
	for (size_t i = 0; i < CPUSET_WORDS; i++) {
		if (!s->w[i])
			continue;
		if (found >= 0 || (s->w[i] & (s->w[i] - 1)))
			return -1;
		found = (int)(i * 64 + (size_t)__builtin_ctzll(s->w[i]));
	}
	return found;
}

/* One decimal CPU number; advances *p. */
static int parse_cpu(const char **p, unsigned int *cpu)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (unsigned long)(**p - '0');
		if (v >= CPUSET_MAX)
			return -ERANGE;
		(*p)++;
	}
	*cpu = (unsigned int)v;
	return 0;
}

int cpuset_parse_list(const char *s, struct cpuset *out)
{
	const char *p = s;
	unsigned int a, b;
	int ret;

	cpuset_zero(out);
	while (*p == ' ' || *p == '\n')
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		ret = parse_cpu(&p, &a);
		if (ret < 0)
			return ret;
		b = a;
		if (*p == '-') {
			p++;
			ret = parse_cpu(&p, &b);
			if (ret < 0)
				return ret;
			if (b < a)
				return -EINVAL;
		}
		for (unsigned int c = a; c <= b; c++)
			cpuset_set(out, c);
		if (*p != ',')
			break;
		p++;
	}
	while (*p == ' ' || *p == '\n')
		p++;
	return *p == '\0' ? 0 : -EINVAL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cpuset_parse_mask(const char *s, struct cpuset *out)
{
	size_t n = strlen(s);
	unsigned int bit = 0;
	bool any = false;

	cpuset_zero(out);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	/* Walk from the least significant digit at the end. */
	while (n-- > 0) {
		int v;

		if (s[n] == ',')
			continue;
		v = hex_value(s[n]);
		if (v < 0)
			return -EINVAL;
		for (int i = 0; i < 4; i++, bit++) {
			if (!(v >> i & 1))
				continue;
			if (bit >= CPUSET_MAX)
				return -ERANGE;
			cpuset_set(out, bit);
		}
		any = true;
	}
	return any ? 0 : -EINVAL;
}

int cpuset_format_list(const struct cpuset *s, char *buf, size_t len)
{
	size_t used = 0;
	int last = cpuset_last(s);

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (int c = 0; c <= last; c++) {
		int end = c;
		int n;

		if (!cpuset_has(s, (unsigned int)c))
			continue;
		while (end + 1 <= last && cpuset_has(s, (unsigned int)end + 1))
			end++;
		if (end == c)
			n = snprintf(buf + used, len - used, "%s%d",
				     used ? "," : "", c);
		else
			n = snprintf(buf + used, len - used, "%s%d-%d",
				     used ? "," : "", c, end);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
		c = end;
	}
	return 0;
}

int cpuset_format_mask(const struct cpuset *s, unsigned int nbits, char *buf, size_t len)
{
	unsigned int width = (nbits - 1) % 32 + 1; /* bits in the first group */
	size_t used = 0;

	if (nbits == 0 || nbits > CPUSET_MAX || cpuset_last(s) >= (int)nbits)
		return -ERANGE;
	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	/* Most significant group first, like bitmap_string() in lib/vsprintf.c. */
	for (unsigned int lo = (nbits - 1) / 32 * 32;; lo -= 32) {
		uint32_t v = (uint32_t)(s->w[lo / 64] >> (lo % 64));
		int n = snprintf(buf + used, len - used, "%s%0*" PRIx32, used ? "," : "",
				 (int)(width + 3) / 4, v);

		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
		width = 32;
		if (lo == 0)
			break;
	}
	return 0;
}
