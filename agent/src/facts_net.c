// SPDX-License-Identifier: MIT
/* Network interfaces: the synthetic NIC (hv_netvsc) and its accelerated-networking VF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "sysfile.h"
#include "util.h"

#define CLASS_NET "class/net"

static void read_nic(const struct root *r, const char *name, struct nic_fact *n,
		     struct warnings *w)
{
	char **entries;
	size_t cnt;
	char buf[64];

	snprintf(n->name, sizeof(n->name), "%s", name);
	if (root_read_link_name(r, ROOT_SYS, n->driver, sizeof(n->driver),
				CLASS_NET "/%s/device/driver", name) < 0)
		n->driver[0] = '\0';
	if (root_read_text(r, ROOT_SYS, n->mac, sizeof(n->mac), CLASS_NET "/%s/address", name) < 0)
		n->mac[0] = '\0';
	n->flags = -1;
	if (root_read_text(r, ROOT_SYS, buf, sizeof(buf), CLASS_NET "/%s/flags", name) >= 0 &&
	    parse_long(buf, &n->flags) < 0) {
		char rel[96];

		n->flags = -1;
		snprintf(rel, sizeof(rel), CLASS_NET "/%s/flags", name);
		warn_unreadable(w, "net", ROOT_SYS, rel, -EBADMSG);
	}
	if (root_read_link_name(r, ROOT_SYS, n->master, sizeof(n->master),
				CLASS_NET "/%s/master", name) < 0)
		n->master[0] = '\0';
	if (root_read_link_name(r, ROOT_SYS, n->pci_addr, sizeof(n->pci_addr),
				CLASS_NET "/%s/device", name) < 0 ||
	    !strchr(n->pci_addr, ':'))
		n->pci_addr[0] = '\0'; /* not a PCI function (a VMBus GUID, or none) */
	/* netvsc links its VF as a lower device: lower_<vf>.  (Bridges and
	 * bonds have lower_ links too; those are not VFs.) */
	if (!nic_is_synthetic(n))
		return;
	if (root_list_dir(r, ROOT_SYS, &entries, &cnt, CLASS_NET "/%s", name) < 0)
		return;
	for (size_t i = 0; i < cnt; i++)
		if (strncmp(entries[i], "lower_", 6) == 0 && !n->vf[0])
			snprintf(n->vf, sizeof(n->vf), "%s", entries[i] + 6);
	strv_free(entries, cnt);
}

const struct nic_fact *nic_find(const struct nic_facts *nf, const char *name)
{
	for (size_t i = 0; i < nf->n; i++)
		if (strcmp(nf->nics[i].name, name) == 0)
			return &nf->nics[i];
	return NULL;
}

bool nic_is_synthetic(const struct nic_fact *n)
{
	return strcmp(n->driver, "hv_netvsc") == 0;
}

/* A VF is a PCI NIC whose master is a synthetic (hv_netvsc) NIC. */
static void mark_vfs(struct nic_facts *nf)
{
	for (size_t i = 0; i < nf->n; i++) {
		struct nic_fact *n = &nf->nics[i];
		const struct nic_fact *master;

		if (!n->pci_addr[0] || !n->master[0])
			continue;
		master = nic_find(nf, n->master);
		n->is_vf = master && nic_is_synthetic(master);
	}
}

void facts_net(const struct root *r, struct nic_facts *nf, struct warnings *w)
{
	char **names;
	size_t n;
	int ret;

	memset(nf, 0, sizeof(*nf));
	ret = root_list_dir(r, ROOT_SYS, &names, &n, CLASS_NET);
	if (ret < 0) {
		warn_unreadable(w, "net", ROOT_SYS, CLASS_NET, ret);
		return;
	}
	nf->nics = calloc(n ? n : 1, sizeof(*nf->nics));
	for (size_t i = 0; nf->nics && i < n; i++) {
		/* Interfaces are directories with an ifindex (not bonding_masters). */
		if (strcmp(names[i], "lo") == 0 ||
		    !root_exists(r, ROOT_SYS, CLASS_NET "/%s/ifindex", names[i]))
			continue;
		read_nic(r, names[i], &nf->nics[nf->n++], w);
	}
	strv_free(names, n);
	mark_vfs(nf);
}
