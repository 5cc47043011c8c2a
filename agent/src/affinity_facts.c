// SPDX-License-Identifier: MIT
/*
 * The input of interrupt placement (affinity.h), read strictly.
 *
 * Unlike the status facts, nothing here degrades to "unknown": a file the
 * placement depends on that exists but does not parse, or that names a CPU
 * the machine does not have, fails the whole gather with a message naming
 * the file (and line) in its system spelling.  A plan made from a tree the
 * agent does not understand would move interrupts on a guess.
 *
 * Caps against hostile trees (each far past the largest Azure size):
 *   AFF_MAX_VMBUS    256 VMBus devices
 *   AFF_MAX_CHANNELS 1024 channels per VMBus device
 *   AFF_MAX_PCI      4096 PCI functions
 *   AFF_MAX_IRQS     4096 PCI device IRQs, and as many msi_irqs entries
 *   AFF_MAX_QUEUES   1024 transmit and 1024 receive queues per NIC
 *   AFF_IRQ_NUM_MAX  IRQ numbers below 2^20
 *   AFF_MAX_NODE     node numbers up to 1023 (CONFIG_NODES_SHIFT=10)
 *
 * Cost.  Every per-CPU and per-IRQ file is read at most once, through a
 * directory opened once (struct sys_dir: a VMBus or PCI device's own
 * directory, /proc/irq): walking the full rooted path, symlinks and all, for
 * each of ~900 small files cost more than reading them.  Two kinds of file
 * are not read at all:
 *   - a kernel-managed IRQ's (nvme<X>q<N>, N >= 1): never planned nor
 *     written, and an ND VM has 768 of them; it is only counted
 *     (in->nmanaged), not kept, which also keeps the input small;
 *   - effective_affinity_list when smp_affinity_list is one online CPU: the
 *     effective CPU is one of the affinity's, so it is that one.
 *
 * This file has the entry points, the error messages and the size; the
 * parts it calls in turn are listed in affinity_facts_internal.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity_facts_internal.h"
#include "util.h"

/* ---- errors ------------------------------------------------------------ */

int gather_failf(struct gather *g, int ret, const char *fmt, ...)
{
	va_list ap;

	if (g->errlen) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
	return ret < 0 ? ret : -EBADMSG;
}

const char *gather_why(int ret)
{
	switch (-ret) {
	case ENOENT:
		return "missing";
	case EFBIG:
		return "too long";
	case EBADFD:
		return "not a regular file";
	case EBADMSG:
	case EINVAL:
		return "malformed";
	case ERANGE:
		return "value out of range";
	default:
		return strerror(-ret);
	}
}

int gather_fail_at(struct gather *g, int ret, const struct sys_dir *h, const char *name,
		   const char *what)
{
	return gather_failf(g, ret, "%s/%s%s%s: %s", root_dir_name(h->d), h->rel,
			    name ? "/" : "", name ? name : "", what ? what : gather_why(ret));
}

/* ---- the size ---------------------------------------------------------- */

/* The size IMDS reported (provisioning caches it), into vm_size; its SKU or NULL. */
static const struct sku_policy *sku_of_vm_size(const struct root *r, char *vm_size, size_t len)
{
	struct platform_facts p;
	struct warnings w = { 0 };

	facts_platform(r, &p, &w);
	warnings_free(&w);
	snprintf(vm_size, len, "%s", p.vm_size);
	return vm_size[0] ? sku_by_vm_size(vm_size) : NULL;
}

static void gather_sku(struct gather *g)
{
	struct aff_input *in = g->in;
	struct sku_gpu_id gpus[16];
	size_t ngpus = 0;

	in->sku = sku_of_vm_size(g->r, in->vm_size, sizeof(in->vm_size));
	if (in->sku) {
		in->sku_source = "imds";
		return;
	}
	for (size_t i = 0; i < in->npci && ngpus < ELEMENTSOF(gpus); i++)
		if (in->pci[i].kind == PCI_GPU)
			gpus[ngpus++] = (struct sku_gpu_id){ in->pci[i].vendor, in->pci[i].device };
	in->sku = sku_recognise((unsigned int)in->ncpus, in->nnodes, gpus, ngpus);
	in->sku_source = in->sku ? "topology" : "none";
}

/* ---- entry points ------------------------------------------------------ */

int affinity_gather(const struct root *r, struct aff_input *in, char *err,
		    size_t errlen)
{
	struct gather g = { .r = r, .in = in, .err = err, .errlen = errlen };
	int ret;

	memset(in, 0, sizeof(*in));
	in->sku_source = "none";
	if (errlen)
		err[0] = '\0';
	ret = gather_cpus(&g);
	if (ret == 0)
		ret = gather_vmbus(&g);
	if (ret == 0)
		ret = gather_pci(&g);
	if (ret == 0)
		ret = gather_irqs(&g);
	if (ret == 0)
		ret = gather_nics(&g);
	if (ret == 0)
		gather_sku(&g);
	free(g.cpu_index);
	free(g.msi);
	free(g.pci_by_addr);
	if (ret < 0)
		affinity_input_free(in);
	return ret;
}

const struct sku_policy *affinity_detect_sku(const struct root *r, const char **source,
					     char *err, size_t errlen)
{
	const struct sku_policy *sku;
	char vm_size[sizeof(((struct aff_input *)0)->vm_size)];
	struct aff_input in;

	sku = sku_of_vm_size(r, vm_size, sizeof(vm_size));
	*source = sku ? "imds" : "none";
	if (sku || affinity_gather(r, &in, err, errlen) < 0)
		return sku;
	sku = in.sku;
	*source = in.sku_source;
	affinity_input_free(&in);
	return sku;
}

void affinity_input_free(struct aff_input *in)
{
	for (size_t i = 0; in->vmbus && i < in->nvmbus; i++)
		free(in->vmbus[i].channels);
	for (size_t i = 0; in->nics && i < in->nnics; i++) {
		free(in->nics[i].tx);
		free(in->nics[i].rx);
	}
	free(in->cpus);
	free(in->vmbus);
	free(in->pci);
	free(in->irqs);
	free(in->nics);
	memset(in, 0, sizeof(*in));
	in->sku_source = "none";
}
