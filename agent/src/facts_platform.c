// SPDX-License-Identifier: MIT
/* Is this a Hyper-V guest, which generation, which VM (DMI, IMDS cache)? */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "facts.h"
#include "hypervisor_cpuid.h"
#include "sysfile.h"
#include "util.h"
#include "vmid.h"

#define IMDS_CACHE "lib/azl-agent/imds-compute.json"
#define IMDS_CACHE_MAX (1 << 20)
#define CPUINFO_LINE_MAX (64u << 10) /* a flags line is about 1.5 KiB */

static void read_dmi(const struct root *r, const char *attr, char *buf,
		     size_t len, struct warnings *w)
{
	char rel[64];
	int ret = root_read_text(r, ROOT_SYS, buf, len,
				 "devices/virtual/dmi/id/%s", attr);

	if (ret >= 0)
		return;
	buf[0] = '\0';
	/* product_uuid is root-only (0400) on most systems: expected, not a fault. */
	if (ret == -EACCES && strcmp(attr, "product_uuid") == 0)
		return;
	snprintf(rel, sizeof(rel), "devices/virtual/dmi/id/%s", attr);
	warn_unreadable(w, "platform", ROOT_SYS, rel, ret);
}

/* Is "word" one of the blank-separated words of s? */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; (p = strstr(p, word)); p += n) {
		bool start = p == s || p[-1] == ' ' || p[-1] == '\t';

		if (start && (p[n] == '\0' || p[n] == ' ' || p[n] == '\t'))
			return true;
	}
	return false;
}

/* The "flags" line of the first CPU: does it carry "hypervisor"? */
static enum tri cpuinfo_hypervisor_flag(const struct root *r, struct warnings *w)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, len;
	enum tri found = TRI_UNKNOWN;
	FILE *f;
	int ret;

	f = root_fopen(r, ROOT_PROC, "cpuinfo");
	if (!f) {
		warn_unreadable(w, "platform", ROOT_PROC, "cpuinfo", -errno);
		return TRI_UNKNOWN;
	}
	/* Stop at the first flags line: the file is long on large VMs. */
	while ((ret = read_line(f, &line, &cap, CPUINFO_LINE_MAX, &len)) > 0)
		if (strncmp(line, "flags", 5) == 0) {
			found = has_word(line, "hypervisor") ? TRI_YES : TRI_NO;
			break;
		}
	fclose(f);
	/* No flags line (arm64 says "Features"): the flag is simply unknown. */
	if (ret < 0)
		warn_unreadable(w, "platform", ROOT_PROC, "cpuinfo", ret);
	return ret < 0 ? TRI_UNKNOWN : found;
}

static bool vm_size_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* vmSize and vmId from the IMDS compute document that provisioning caches. */
static void read_imds_cache(const struct root *r, struct platform_facts *p,
			    struct warnings *w)
{
	_cleanup_free_ char *text = NULL;
	struct json_object *doc, *v;
	size_t len;
	int ret;

	ret = root_read_all(r, ROOT_VAR, &text, &len, IMDS_CACHE);
	if (ret == -ENOENT)
		return; /* not provisioned by us: the size is simply unknown */
	if (ret < 0 || len > IMDS_CACHE_MAX) {
		warn_unreadable(w, "platform", ROOT_VAR, IMDS_CACHE, ret < 0 ? ret : -EFBIG);
		return;
	}
	doc = json_tokener_parse(text);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		warn_add(w, "platform", "%s/" IMDS_CACHE " is not a JSON object: VM size unknown",
			 root_dir_name(ROOT_VAR));
		json_object_put(doc);
		return;
	}
	if (json_object_object_get_ex(doc, "vmSize", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    vm_size_valid(json_object_get_string(v))) {
		snprintf(p->vm_size, sizeof(p->vm_size), "%s", json_object_get_string(v));
		snprintf(p->vm_size_source, sizeof(p->vm_size_source), "imds-cache");
	} else {
		warn_add(w, "platform", "%s/" IMDS_CACHE " has no valid \"vmSize\": VM size unknown",
			 root_dir_name(ROOT_VAR));
	}
	if (json_object_object_get_ex(doc, "vmId", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    guid_normalize(json_object_get_string(v), p->imds_vm_id) < 0)
		p->imds_vm_id[0] = '\0';
	json_object_put(doc);
}

/*
 * When the generation guess was wrong (or unknown), the other byte order of
 * product_uuid matches the vmId IMDS gave: accept either, as WALA does.
 */
static void prefer_imds_byte_order(struct platform_facts *p)
{
	char other[37];

	if (!p->vm_id[0] || !p->imds_vm_id[0] || strcmp(p->vm_id, p->imds_vm_id) == 0)
		return;
	if (vmid_from_product_uuid(p->vm_id, true, other) == 0 &&
	    strcmp(other, p->imds_vm_id) == 0)
		memcpy(p->vm_id, other, sizeof(other));
}

/* DMI and VMBus first; then CPUID; a bare-metal CPU flag says no. */
static void conclude_hyperv(struct platform_facts *p)
{
	/*
	 * KVM and Xen can present "Microsoft Hv" too (Hyper-V enlightenments),
	 * so CPUID only decides when DMI and VMBus are silent.
	 */
	if (p->dmi_hyperv == TRI_YES || p->vmbus == TRI_YES)
		p->hyperv = TRI_YES;
	else if (p->dmi_hyperv == TRI_NO)
		p->hyperv = TRI_NO;
	else if (strcmp(p->cpuid_vendor, "Microsoft Hv") == 0)
		p->hyperv = TRI_YES;
	else if (p->cpu_hypervisor == TRI_NO || p->cpuid_vendor[0])
		p->hyperv = TRI_NO;
	else
		p->hyperv = TRI_UNKNOWN;
}

void facts_platform(const struct root *r, struct platform_facts *p,
		    struct warnings *w)
{
	int ret;

	memset(p, 0, sizeof(*p));
	read_dmi(r, "sys_vendor", p->sys_vendor, sizeof(p->sys_vendor), w);
	read_dmi(r, "product_name", p->product_name, sizeof(p->product_name), w);
	read_dmi(r, "product_uuid", p->product_uuid, sizeof(p->product_uuid), w);
	if (!p->sys_vendor[0] || !p->product_name[0])
		p->dmi_hyperv = TRI_UNKNOWN;
	else
		p->dmi_hyperv = strcmp(p->sys_vendor, "Microsoft Corporation") == 0 &&
				strcmp(p->product_name, "Virtual Machine") == 0 ? TRI_YES : TRI_NO;
	p->vmbus = root_exists(r, ROOT_SYS, "bus/vmbus") ? TRI_YES : TRI_NO;
	p->cpu_hypervisor = cpuinfo_hypervisor_flag(r, w);
	if (root_is_live(r))
		hypervisor_cpuid_vendor(p->cpuid_vendor);
	conclude_hyperv(p);

	ret = root_read_text(r, ROOT_PROC, p->kernel, sizeof(p->kernel), "sys/kernel/osrelease");
	if (ret < 0) {
		p->kernel[0] = '\0';
		warn_unreadable(w, "platform", ROOT_PROC, "sys/kernel/osrelease", ret);
	}
	if (p->hyperv != TRI_YES)
		return;
	/*
	 * Gen2 VMs boot UEFI; Gen1 VMs boot BIOS and have no EFI firmware dir.
	 * A container that masks /sys/firmware cannot tell.
	 */
	if (root_exists(r, ROOT_SYS, "firmware/efi"))
		p->generation = 2;
	else if (root_exists(r, ROOT_SYS, "firmware"))
		p->generation = 1;
	if (p->product_uuid[0] &&
	    vmid_from_product_uuid(p->product_uuid, p->generation == 1, p->vm_id) < 0) {
		p->vm_id[0] = '\0';
		warn_add(w, "platform", "DMI product_uuid \"%.40s\" is not a UUID: vmId unknown",
			 p->product_uuid);
	}
	read_imds_cache(r, p, w);
	prefer_imds_byte_order(p);
}
