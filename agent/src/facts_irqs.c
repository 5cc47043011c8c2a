// SPDX-License-Identifier: MIT
/* Interrupt counts: which CPUs take VMBus interrupts, how many device IRQs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "facts.h"
#include "interrupts.h"
#include "sysfile.h"
#include "util.h"

static int count_line(const struct irq_header *h, const struct irq_line *l,
		      const uint64_t *counts, void *userdata)
{
	struct irq_facts *f = userdata;

	if (l->irq >= 0) {
		f->device_irqs++;
		return 0;
	}
	if (strcmp(l->label, "HYP") != 0)
		return 0;
	f->hyp_line = true;
	for (unsigned int c = 0; c < h->ncols; c++)
		if (counts[c] > 0)
			cpuset_set(&f->hyp_cpus, h->col_cpu[c]);
	return 0;
}

void facts_irqs(const struct root *r, struct irq_facts *f, struct warnings *w)
{
	size_t bad_line;
	FILE *in;
	int ret;

	memset(f, 0, sizeof(*f));
	in = root_fopen(r, ROOT_PROC, "interrupts");
	if (!in) {
		warn_unreadable(w, "irq", ROOT_PROC, "interrupts", -errno);
		return;
	}
	ret = interrupts_read(in, count_line, f, &bad_line);
	fclose(in);
	if (ret == -EBADMSG) {
		warn_add(w, "irq", "%s/interrupts line %zu is malformed: interrupt facts unknown",
			 root_dir_name(ROOT_PROC), bad_line);
	} else if (ret < 0) {
		warn_unreadable(w, "irq", ROOT_PROC, "interrupts", ret);
	}
	if (ret < 0) {
		memset(f, 0, sizeof(*f));
		return;
	}
	f->known = true;
}
