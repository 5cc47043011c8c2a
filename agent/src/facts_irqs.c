// SPDX-License-Identifier: MIT
/* Interrupt counts: which CPUs take VMBus interrupts, how many device IRQs. */
#include <string.h>

#include "facts.h"
#include "interrupts.h"
#include "sysfile.h"
#include "util.h"

void facts_irqs(const struct root *r, struct irq_facts *f, struct warnings *w)
{
	_cleanup_free_ char *text = NULL;
	struct irq_table t;
	size_t bad_line;
	int ret;

	memset(f, 0, sizeof(*f));
	ret = root_read_all(r, ROOT_PROC, &text, NULL, "interrupts");
	if (ret < 0) {
		warn_unreadable(w, "irq", ROOT_PROC, "interrupts", ret);
		return;
	}
	ret = interrupts_parse(text, &t, &bad_line);
	if (ret < 0) {
		warn_add(w, "irq", "%s/interrupts line %zu is malformed: interrupt facts unknown",
			 root_dir_name(ROOT_PROC), bad_line);
		return;
	}
	f->known = true;
	for (size_t i = 0; i < t.n; i++) {
		if (t.lines[i].irq >= 0) {
			f->device_irqs++;
			continue;
		}
		if (strcmp(t.lines[i].label, "HYP") != 0)
			continue;
		f->hyp_line = true;
		for (unsigned int c = 0; c < t.ncols; c++)
			if (interrupts_count(&t, i, c) > 0)
				cpuset_set(&f->hyp_cpus, t.col_cpu[c]);
	}
	interrupts_free(&t);
}
