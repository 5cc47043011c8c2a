// SPDX-License-Identifier: MIT
#include "facts.h"

#include <stdlib.h>
#include <string.h>

void facts_gather(const struct root *r, struct vm_facts *f)
{
	memset(f, 0, sizeof(*f));
	facts_platform(r, &f->platform, &f->warnings);
	facts_modules(r, f);
	facts_topology(r, &f->topo, &f->warnings);
	facts_vmbus(r, &f->vmbus, &f->warnings);
	facts_pci(r, &f->pci, &f->warnings);
	facts_net(r, &f->net, &f->warnings);
	facts_agent(r, &f->agent, &f->warnings);
	facts_irqs(r, &f->irqs, &f->warnings);
}

void facts_free(struct vm_facts *f)
{
	vmbus_facts_free(&f->vmbus);
	free(f->modules);
	free(f->topo.nodes);
	free(f->pci.devs);
	free(f->net.nics);
	warnings_free(&f->warnings);
	memset(f, 0, sizeof(*f));
}
