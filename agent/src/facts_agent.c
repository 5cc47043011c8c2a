// SPDX-License-Identifier: MIT
/* The agent's own state: provisioning marker, the KVP device and its pools. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "facts.h"
#include "sysfile.h"
#include "util.h"

#define PROVISIONED_MARKER "lib/azl-agent/provisioned"
#define KVP_DEVICE "vmbus/hv_kvp"
#define KVP_POOL "lib/hyperv/.kvp_pool_%d"

static void read_provisioned(const struct root *r, struct agent_facts *a,
			     struct warnings *w)
{
	int ret = root_read_text(r, ROOT_VAR, a->provisioned_at, sizeof(a->provisioned_at),
				 PROVISIONED_MARKER);

	if (ret >= 0) {
		a->provisioned = TRI_YES;
		for (char *c = a->provisioned_at; *c; c++)
			if (!isprint((unsigned char)*c))
				*c = '?'; /* it is shown to a terminal */
	} else if (ret == -ENOENT) {
		a->provisioned = TRI_NO;
		a->provisioned_at[0] = '\0';
	} else {
		a->provisioned = TRI_UNKNOWN;
		a->provisioned_at[0] = '\0';
		warn_unreadable(w, "agent", ROOT_VAR, PROVISIONED_MARKER, ret);
	}
}

/* Does /proc/<pid>/fd/ of this process hold the KVP device open? */
static int holds_kvp(const struct root *r, const char *pid, const char *kvp_path)
{
	char **fds, target[256];
	size_t n;
	int ret, found = 0;

	ret = root_list_dir(r, ROOT_PROC, &fds, &n, "%s/fd", pid);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n && !found; i++)
		found = root_read_link(r, ROOT_PROC, target, sizeof(target), "%s/fd/%s", pid,
				       fds[i]) == 0 &&
			strcmp(target, kvp_path) == 0;
	strv_free(fds, n);
	return found;
}

/* Only one process can open the KVP device; find it by its open descriptors. */
static void find_kvp_holder(const struct root *r, struct agent_facts *a)
{
	char **pids, kvp_path[64];
	size_t n;
	bool denied = false;

	/* The kernel shows the live path in fd links, whatever our prefix is. */
	snprintf(kvp_path, sizeof(kvp_path), "%s/" KVP_DEVICE, root_dir_name(ROOT_DEV));
	a->kvp_holder_pid = -1;
	/* Without root (or behind hidepid) other processes' fds are invisible. */
	if (root_is_live(r) && geteuid() != 0)
		return;
	if (root_list_dir(r, ROOT_PROC, &pids, &n, ".") < 0)
		return;
	a->kvp_holder_pid = 0;
	for (size_t i = 0; i < n; i++) {
		long pid;
		int ret;

		if (!isdigit((unsigned char)pids[i][0]) || parse_long(pids[i], &pid) < 0)
			continue;
		ret = holds_kvp(r, pids[i], kvp_path);
		denied |= ret == -EACCES || ret == -EPERM;
		if (ret <= 0)
			continue;
		a->kvp_holder_pid = pid;
		if (root_read_text(r, ROOT_PROC, a->kvp_holder_comm, sizeof(a->kvp_holder_comm),
				   "%s/comm", pids[i]) < 0)
			a->kvp_holder_comm[0] = '\0';
		break;
	}
	if (a->kvp_holder_pid == 0 && denied)
		a->kvp_holder_pid = -1; /* not root: other processes' fds are hidden */
	strv_free(pids, n);
}

static void read_pools(const struct root *r, struct agent_facts *a)
{
	for (int i = 0; i < KVP_POOLS; i++) {
		char path[4096];
		struct stat st;

		if (root_path(r, ROOT_VAR, path, sizeof(path), KVP_POOL, i) < 0 ||
		    stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		a->pools[i].exists = true;
		a->pools[i].bytes = (long long)st.st_size;
	}
}

void facts_agent(const struct root *r, struct agent_facts *a, struct warnings *w)
{
	memset(a, 0, sizeof(*a));
	read_provisioned(r, a, w);
	a->kvp_device = root_exists(r, ROOT_DEV, KVP_DEVICE) ? TRI_YES : TRI_NO;
	if (a->kvp_device == TRI_YES)
		find_kvp_holder(r, a);
	read_pools(r, a);
}
