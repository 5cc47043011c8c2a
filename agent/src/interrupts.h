/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdio.h>
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

struct irq_header {
	unsigned int ncols;     /* CPU columns in the header */
	unsigned int *col_cpu;  /* CPU number of each column */
};

/*
 * Called for each line after the header; counts holds header->ncols values
 * (columns a line does not print are 0).  A negative return stops the read
 * and is passed back.
 */
typedef int (*irq_line_fn)(const struct irq_header *h, const struct irq_line *l,
			   const uint64_t *counts, void *userdata);

/*
 * Stream /proc/interrupts in constant memory: a 96-vCPU ND VM prints a
 * megabyte of it.  A line longer than IRQ_LINE_MAX or malformed returns
 * -EBADMSG with *bad_line set (1-based); otherwise *bad_line is 0.
 */
#define IRQ_LINE_MAX (1u << 20)
int interrupts_read(FILE *f, irq_line_fn fn, void *userdata, size_t *bad_line);

/* The whole file as a table, for callers that need random access. */
struct irq_table {
	struct irq_header h;
	size_t n;
	struct irq_line *lines;
	uint64_t *counts;       /* n × h.ncols */
};

int interrupts_parse(const char *text, struct irq_table *t, size_t *bad_line);
void interrupts_free(struct irq_table *t);

const struct irq_line *interrupts_find(const struct irq_table *t,
				       const char *label);
uint64_t interrupts_count(const struct irq_table *t, size_t line,
			  unsigned int col);
