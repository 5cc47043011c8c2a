// SPDX-License-Identifier: MIT
#include "interrupts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sysfile.h"
#include "util.h"

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * skip_blanks() over the count columns, eight spaces at a compare: they are
 * padded to ten characters, and a 96-vCPU /proc/interrupts is mostly blanks.
 * end bounds the look-ahead; the line is NUL-terminated there.
 */
static const char *skip_padding(const char *p, const char *end)
{
	while (end - p >= 8 && memcmp(p, "        ", 8) == 0)
		p += 8;
	return skip_blanks(p);
}

/*
 * Copy [a, b) into dst without trailing blanks.  Descriptive fields (chip,
 * actions: arm64 spells the trigger apart, shared IRQs list many actions)
 * are cut to fit; only the label must fit whole (-EOVERFLOW).
 */
static int copy_text(char *dst, size_t len, const char *a, const char *b)
{
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if ((size_t)(b - a) >= len)
		b = a + len - 1;
	memcpy(dst, a, (size_t)(b - a));
	dst[b - a] = '\0';
	return 0;
}

static int copy_field(char *dst, size_t len, const char *a, const char *b)
{
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if ((size_t)(b - a) >= len)
		return -EOVERFLOW;
	memcpy(dst, a, (size_t)(b - a));
	dst[b - a] = '\0';
	return 0;
}

static int parse_header(const char *line, const char *end, struct irq_header *t)
{
	const char *p = line;
	size_t cap = 16;

	t->col_cpu = malloc(cap * sizeof(*t->col_cpu));
	if (!t->col_cpu)
		return -ENOMEM;
	for (p = skip_blanks(p); p < end; p = skip_blanks(p)) {
		char *q;
		unsigned long cpu;

		if (strncmp(p, "CPU", 3) != 0 || !isdigit((unsigned char)p[3]))
			return -EBADMSG;
		cpu = strtoul(p + 3, &q, 10);
		if (cpu > 1u << 20 || (q < end && *q != ' ' && *q != '\t'))
			return -EBADMSG;
		if (t->ncols == cap) {
			unsigned int *n = realloc(t->col_cpu, 2 * cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			t->col_cpu = n;
			cap *= 2;
		}
		t->col_cpu[t->ncols++] = (unsigned int)cpu;
		p = q;
	}
	return t->ncols > 0 ? 0 : -EBADMSG;
}

/* Is [a, b) of the form "<hwirq>-<trigger>"? */
static bool is_hwirq_token(const char *a, const char *b)
{
	const char *dash = memchr(a, '-', (size_t)(b - a));

	if (!dash || dash == a || dash + 1 == b)
		return false;
	for (const char *p = a; p < dash; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	for (const char *p = dash + 1; p < b; p++)
		if (!isalpha((unsigned char)*p))
			return false;
	return true;
}

/* Split "<chip> <hwirq>-<trigger> <actions>" of a numbered line. */
static int split_numbered(struct irq_line *l, const char *p, const char *end)
{
	const char *tok = p;

	while (tok < end) {
		const char *te = tok;

		while (te < end && *te != ' ' && *te != '\t')
			te++;
		if (is_hwirq_token(tok, te)) {
			const char *dash = memchr(tok, '-', (size_t)(te - tok));

			if (copy_text(l->chip, sizeof(l->chip), p, tok) < 0 ||
			    copy_text(l->hwirq, sizeof(l->hwirq), tok, dash) < 0 ||
			    copy_text(l->trigger, sizeof(l->trigger), dash + 1, te) < 0)
				return -EBADMSG;
			return copy_text(l->text, sizeof(l->text), skip_blanks(te), end) < 0 ?
				       -EBADMSG : 0;
		}
		tok = skip_blanks(te);
	}
	/* No hwirq column (some chips print none): everything is the chip. */
	return copy_text(l->chip, sizeof(l->chip), p, end) < 0 ? -EBADMSG : 0;
}

/*
 * strtoull(p, q, 10) for p at a digit, saturating at ULLONG_MAX as it does:
 * a 96-vCPU /proc/interrupts has a hundred thousand counts, and the library
 * call (locale, sign, base and blanks handled each time) was most of the
 * parse.
 */
static unsigned long long parse_count(const char *p, const char **q)
{
	unsigned long long v = 0;
	bool over = false;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > ULLONG_MAX / 10 || (v == ULLONG_MAX / 10 && d > ULLONG_MAX % 10))
			over = true;
		else
			v = v * 10 + d;
	}
	*q = p;
	return over ? ULLONG_MAX : v;
}

static int parse_line(const char *line, const char *end, const struct irq_header *t,
		      struct irq_line *l, uint64_t *counts)
{
	const char *p = skip_blanks(line), *colon;
	long irq = -1;

	memset(l, 0, sizeof(*l));
	memset(counts, 0, t->ncols * sizeof(*counts));
	colon = memchr(p, ':', (size_t)(end - p));
	if (!colon || colon == p || copy_field(l->label, sizeof(l->label), p, colon) < 0)
		return -EBADMSG;
	if (isdigit((unsigned char)l->label[0])) {
		char *q;

		irq = strtol(l->label, &q, 10);
		if (*q)
			return -EBADMSG;
	} else {
		for (const char *c = l->label; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_')
				return -EBADMSG;
	}
	l->irq = irq;
	p = skip_padding(colon + 1, end);
	while (p < end && isdigit((unsigned char)*p) && l->ncounts < t->ncols) {
		const char *q;
		unsigned long long v = parse_count(p, &q);

		if (q < end && *q != ' ' && *q != '\t')
			break; /* a number glued to text belongs to the text */
		counts[l->ncounts++] = v;
		p = skip_padding(q, end);
	}
	if (l->ncounts == 0)
		return -EBADMSG;
	if (irq >= 0)
		return split_numbered(l, p, end);
	return copy_text(l->text, sizeof(l->text), p, end) < 0 ? -EBADMSG : 0;
}

int interrupts_read(FILE *f, irq_line_fn fn, void *userdata, size_t *bad_line)
{
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ uint64_t *counts = NULL;
	struct irq_header h = { 0 };
	struct irq_line l;
	size_t cap = 0, len = 0, lineno = 1;
	int ret;

	ret = read_line(f, &line, &cap, IRQ_LINE_MAX, &len);
	if (ret == 0)
		ret = -EBADMSG; /* not even a header */
	if (ret > 0)
		ret = parse_header(line, line + len, &h);
	if (ret < 0)
		goto out;
	counts = calloc(h.ncols, sizeof(*counts));
	if (!counts) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		lineno++;
		ret = read_line(f, &line, &cap, IRQ_LINE_MAX, &len);
		if (ret <= 0)
			break;
		if (*skip_blanks(line) == '\0')
			continue;
		ret = parse_line(line, line + len, &h, &l, counts);
		if (ret == 0)
			ret = fn(&h, &l, counts, userdata);
		if (ret < 0)
			break;
	}
out:
	if (ret == -EFBIG)
		ret = -EBADMSG; /* a line past IRQ_LINE_MAX is not /proc/interrupts */
	*bad_line = ret < 0 ? lineno : 0;
	free(h.col_cpu);
	return ret < 0 ? ret : 0;
}

/* interrupts_read() callback that appends each line to a table. */
static int table_append(const struct irq_header *h, const struct irq_line *l,
			const uint64_t *counts, void *userdata)
{
	struct irq_table *t = userdata;

	if (t->h.ncols == 0) {
		t->h.col_cpu = malloc(h->ncols * sizeof(*h->col_cpu));
		if (!t->h.col_cpu)
			return -ENOMEM;
		memcpy(t->h.col_cpu, h->col_cpu, h->ncols * sizeof(*h->col_cpu));
		t->h.ncols = h->ncols;
	}
	if ((t->n & (t->n - 1)) == 0) { /* grow at powers of two */
		size_t cap = t->n ? 2 * t->n : 1;
		struct irq_line *nl = realloc(t->lines, cap * sizeof(*nl));
		uint64_t *nc;

		if (!nl)
			return -ENOMEM;
		t->lines = nl;
		nc = realloc(t->counts, cap * h->ncols * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		t->counts = nc;
	}
	t->lines[t->n] = *l;
	memcpy(t->counts + t->n * h->ncols, counts, h->ncols * sizeof(*counts));
	t->n++;
	return 0;
}

int interrupts_parse(const char *text, struct irq_table *t, size_t *bad_line)
{
	FILE *f;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!*text) {
		*bad_line = 1;
		return -EBADMSG;
	}
	f = fmemopen((void *)text, strlen(text), "r");
	if (!f)
		return -errno;
	ret = interrupts_read(f, table_append, t, bad_line);
	fclose(f);
	if (ret < 0)
		interrupts_free(t);
	return ret;
}

void interrupts_free(struct irq_table *t)
{
	free(t->h.col_cpu);
	free(t->lines);
	free(t->counts);
	memset(t, 0, sizeof(*t));
}

const struct irq_line *interrupts_find(const struct irq_table *t,
				       const char *label)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->lines[i].label, label) == 0)
			return &t->lines[i];
	return NULL;
}

uint64_t interrupts_count(const struct irq_table *t, size_t line,
			  unsigned int col)
{
	if (line >= t->n || col >= t->h.ncols)
		return 0;
	return t->counts[line * t->h.ncols + col];
}
