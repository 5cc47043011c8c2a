// SPDX-License-Identifier: MIT
/*
 * azl-udev cpu: the decision the CPU hot-add rule used to take blindly
 * (ATTR{online}=="0" -> "1"), which also onlined CPUs kept offline on
 * purpose at every coldplug.  Read through the root prefix so that the
 * tests can plant /proc/cmdline and the SMT control.
 */
#include "udev_cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_cmdline.h"
#include "log.h"
#include "sysfile.h"
#include "util.h"

bool udev_cmdline_limits_cpus(const char *cmdline)
{
	struct cmdline_param p;

	while (cmdline_next(&cmdline, &p))
		if (cmdline_param_is(&p, "maxcpus") || cmdline_param_is(&p, "nr_cpus"))
			return true;
	return false;
}

bool udev_smt_allows(const char *control)
{
	static const char *const ok[] = { "on", "notsupported", "notimplemented" };

	if (!control)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		if (strcmp(control, ok[i]) == 0)
			return true;
	return false;
}

static bool cpu_name_ok(const char *cpu)
{
	if (strncmp(cpu, "cpu", 3) != 0 || !cpu[3] || strlen(cpu) > 12)
		return false;
	for (const char *p = cpu + 3; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static void cannot_read(const struct root *r, enum root_dir d, const char *rel, int err)
{
	char path[512];

	root_path(r, d, path, sizeof(path), "%s", rel);
	log_error("azl-udev: cannot read %s: %s", path, strerror(-err));
}

int udev_cpu_identify(const struct root *r, const char *cpu)
{
	_cleanup_free_ char *cmdline = NULL;
	char online[16], control[32];
	size_t n;
	int ret;

	if (!cpu_name_ok(cpu))
		return 0;
	ret = root_read_text(r, ROOT_SYS, online, sizeof(online), "devices/system/cpu/%s/online",
			     cpu);
	if (ret == -ENOENT)
		return 0; /* no switch: the boot CPU, or no hotplug in the kernel */
	if (ret < 0) {
		char rel[64];

		snprintf(rel, sizeof(rel), "devices/system/cpu/%s/online", cpu);
		cannot_read(r, ROOT_SYS, rel, ret);
		return ret;
	}
	if (strcmp(online, "0") != 0)
		return 0;
	ret = root_read_all(r, ROOT_PROC, &cmdline, &n, "cmdline");
	if (ret < 0) {
		cannot_read(r, ROOT_PROC, "cmdline", ret);
		return ret;
	}
	if (strlen(cmdline) != n) {
		log_error("azl-udev: refused the kernel command line: a NUL byte in it");
		return -EBADMSG;
	}
	if (udev_cmdline_limits_cpus(cmdline))
		return 0;
	ret = root_read_text(r, ROOT_SYS, control, sizeof(control), "devices/system/cpu/smt/control");
	if (ret < 0 && ret != -ENOENT) {
		cannot_read(r, ROOT_SYS, "devices/system/cpu/smt/control", ret);
		return ret;
	}
	return udev_smt_allows(ret == -ENOENT ? NULL : control) ? 1 : 0;
}

void udev_cpu_print(FILE *f)
{
	fputs("AZL_CPU_ONLINE=1\n", f);
}
