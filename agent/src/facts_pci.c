// SPDX-License-Identifier: MIT
/* PCI devices: accelerators, VF NICs and NVMe, most of them vPCI on Azure. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "sysfile.h"
#include "util.h"

#define PCI_DEVICES "bus/pci/devices"

#define VENDOR_NVIDIA 0x10de
#define VENDOR_AMD 0x1002
#define VENDOR_MELLANOX 0x15b3
#define VENDOR_MICROSOFT 0x1414

/* PCI class codes (base class, sub-class) as read from "class" >> 8. */
#define CLASS_VGA 0x0300
#define CLASS_3D 0x0302
#define CLASS_DISPLAY_OTHER 0x0380
#define CLASS_ETHERNET 0x0200
#define CLASS_INFINIBAND 0x0207
#define CLASS_NVME 0x0108

enum pci_kind pci_classify(unsigned int vendor, unsigned int class_code)
{
	unsigned int cls = class_code >> 8;

	if ((vendor == VENDOR_NVIDIA || vendor == VENDOR_AMD) &&
	    (cls == CLASS_VGA || cls == CLASS_3D || cls == CLASS_DISPLAY_OTHER))
		return PCI_GPU;
	/* AMD Instinct reports a processing accelerator class (0x1200). */
	if (vendor == VENDOR_AMD && cls == 0x1200)
		return PCI_GPU;
	if (cls == CLASS_INFINIBAND)
		return PCI_HCA;
	if (cls == CLASS_ETHERNET)
		return PCI_NIC;
	if (cls == CLASS_NVME)
		return PCI_NVME;
	return PCI_OTHER;
}

static int read_hex_attr(const struct root *r, const char *bdf, const char *attr,
			 unsigned int *out, struct warnings *w)
{
	char rel[128];
	long v;
	int ret;

	snprintf(rel, sizeof(rel), PCI_DEVICES "/%s/%s", bdf, attr);
	ret = root_read_long(r, ROOT_SYS, &v, "%s", rel);
	if (ret == 0 && (v < 0 || v > 0xffffff))
		ret = -ERANGE;
	if (ret < 0) {
		warn_unreadable(w, "pci", ROOT_SYS, rel, ret);
		return ret;
	}
	*out = (unsigned int)v;
	return 0;
}

static bool read_device(const struct root *r, const char *bdf,
			struct pci_fact *d, struct warnings *w)
{
	char target[PATH_MAX];

	memset(d, 0, sizeof(*d));
	if (strlen(bdf) >= sizeof(d->addr))
		return false;
	strcpy(d->addr, bdf);
	if (read_hex_attr(r, bdf, "vendor", &d->vendor, w) < 0 ||
	    read_hex_attr(r, bdf, "device", &d->device, w) < 0 ||
	    read_hex_attr(r, bdf, "class", &d->class_code, w) < 0)
		return false;
	d->kind = pci_classify(d->vendor, d->class_code);
	if (root_read_long(r, ROOT_SYS, &d->numa_node, PCI_DEVICES "/%s/numa_node", bdf) < 0)
		d->numa_node = LONG_MIN;
	if (root_read_link_name(r, ROOT_SYS, d->driver, sizeof(d->driver),
				PCI_DEVICES "/%s/driver", bdf) < 0)
		d->driver[0] = '\0';
	/* pci-hyperv puts each passed-through function under its VMBus device. */
	d->vpci = root_read_link(r, ROOT_SYS, target, sizeof(target), PCI_DEVICES "/%s", bdf) == 0 &&
		  strstr(target, "/VMBUS:") != NULL;
	return true;
}

void facts_pci(const struct root *r, struct pci_facts *p, struct warnings *w)
{
	char **names;
	size_t n;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = root_list_dir(r, ROOT_SYS, &names, &n, PCI_DEVICES);
	if (ret == -ENOENT)
		return; /* a VM without PCI (possible on Gen2): nothing to show */
	if (ret < 0) {
		warn_unreadable(w, "pci", ROOT_SYS, PCI_DEVICES, ret);
		return;
	}
	p->devs = calloc(n ? n : 1, sizeof(*p->devs));
	for (size_t i = 0; p->devs && i < n; i++)
		if (read_device(r, names[i], &p->devs[p->n], w))
			p->n++;
	strv_free(names, n);
}

const char *pci_kind_name(enum pci_kind k)
{
	static const char *const names[] = {
		[PCI_OTHER] = "other", [PCI_GPU] = "gpu", [PCI_HCA] = "hca",
		[PCI_NIC] = "nic", [PCI_NVME] = "nvme",
	};

	return names[k];
}
