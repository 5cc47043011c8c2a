// SPDX-License-Identifier: MIT
/* Which Hyper-V drivers and azl modules are loaded, built in, or absent. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "facts.h"
#include "sysfile.h"
#include "util.h"

/* Names as /sys/module spells them ('-' becomes '_'). */
static const char *const module_names[] = {
	"hv_vmbus", "hv_netvsc", "hv_storvsc", "hv_utils", "pci_hyperv",
	"azl_vmbus", "azl_storvsc", "azl_netvsc", "azl_accel",
};

/* Does a whitespace-led list contain name as a whole word at a line start? */
static bool proc_modules_has(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ' ')
			return true;
	return false;
}

/* modules.builtin lines are paths such as kernel/drivers/hv/hv_vmbus.ko. */
static bool builtin_list_has(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *end = strchrnul(l, '\n'), *base = end;
		bool same = true;

		while (base > l && base[-1] != '/')
			base--;
		if ((size_t)(end - base) != n + 3 || strncmp(end - 3, ".ko", 3) != 0)
			continue;
		for (size_t i = 0; i < n && same; i++)
			same = (base[i] == '-' ? '_' : base[i]) == name[i];
		if (same)
			return true;
	}
	return false;
}

static enum module_state module_state(const struct root *r, const char *name,
				      const char *proc_modules,
				      const char *builtin)
{
	if (proc_modules && proc_modules_has(proc_modules, name))
		return MOD_LOADED;
	/* Built-ins with parameters still get a /sys/module dir, without initstate. */
	if (root_exists(r, ROOT_SYS, "module/%s", name) &&
	    !root_exists(r, ROOT_SYS, "module/%s/initstate", name))
		return MOD_BUILTIN;
	if (builtin && builtin_list_has(builtin, name))
		return MOD_BUILTIN;
	if (root_exists(r, ROOT_SYS, "module/%s/initstate", name))
		return MOD_LOADED; /* loaded, though /proc/modules was unreadable */
	/* A built-in without parameters shows only in modules.builtin. */
	return proc_modules && builtin ? MOD_ABSENT : MOD_UNKNOWN;
}

void facts_modules(const struct root *r, struct vm_facts *f)
{
	_cleanup_free_ char *proc_modules = NULL, *builtin = NULL;
	char rel[192];
	int ret;

	f->modules = calloc(ELEMENTSOF(module_names), sizeof(*f->modules));
	if (!f->modules)
		return;
	ret = root_read_all(r, ROOT_PROC, &proc_modules, NULL, "modules");
	if (ret < 0) {
		proc_modules = NULL;
		warn_unreadable(&f->warnings, "modules", ROOT_PROC, "modules", ret);
	}
	if (f->platform.kernel[0]) {
		snprintf(rel, sizeof(rel), "modules/%s/modules.builtin", f->platform.kernel);
		if (root_read_all(r, ROOT_LIB, &builtin, NULL, "%s", rel) < 0)
			builtin = NULL; /* optional: /sys/module usually answers */
	}
	for (size_t i = 0; i < ELEMENTSOF(module_names); i++) {
		f->modules[i].name = module_names[i];
		f->modules[i].state = module_state(r, module_names[i], proc_modules, builtin);
	}
	f->nmodules = ELEMENTSOF(module_names);
}

const char *module_state_name(enum module_state s)
{
	switch (s) {
	case MOD_ABSENT:
		return "absent";
	case MOD_BUILTIN:
		return "built-in";
	case MOD_LOADED:
		return "loaded";
	default:
		return "unknown";
	}
}
