/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * /proc/interrupts.  The header names the CPU of each column (offline CPUs
 * have none); numbered lines carry chip, hwirq, trigger and action names;
 * named lines (NMI, LOC, HYP …) carry a description, and ERR/MIS a single
 * count.  VMBus channel interrupts are not Linux IRQs: they only show up per
 * CPU on the HYP line.
 */

struct irq_line {
	char label[16];     /* "24" or "HYP" */
	long irq;           /* the IRQ number, or -1 for a named line */
	char chip[64];      /* "Hyper-V PCIe MSI" (numbered lines) */
	char hwirq[32];     /* "134250496" */
	char trigger[16];   /* "edge", "fasteoi" … */
	char text[256];     /* actions (numbered) or description (named) */
	unsigned int ncounts; /* columns present on this line */
};

struct irq_table {
	unsigned int ncols;     /* CPU columns in the header */
	unsigned int *col_cpu;  /* CPU number of each column */
	size_t n;
	struct irq_line *lines;
	uint64_t *counts;       /* n × ncols; missing columns are 0 */
};

/*
 * Parse the whole file.  On a malformed line returns -EBADMSG and sets
 * *bad_line (1-based) so the caller can say where; the table is then empty.
 */
int interrupts_parse(const char *text, struct irq_table *t, size_t *bad_line);
void interrupts_free(struct irq_table *t);

const struct irq_line *interrupts_find(const struct irq_table *t,
				       const char *label);
uint64_t interrupts_count(const struct irq_table *t, size_t line,
			  unsigned int col);
