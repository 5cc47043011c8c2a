// SPDX-License-Identifier: MIT
/*
 * azl-udev: the helper udev's IMPORT{program} runs from the udev/ rules.  It
 * prints KEY=value lines for a device of ours and nothing for any other.
 * Linked with libc only: it runs for every block and network device event,
 * early in boot and in the initramfs, where loading libsystemd, libcurl or
 * libxml2 would cost more than the work.
 *
 *   azl-udev [--root DIR] disk NAME   /dev/disk/azure/ properties
 *   azl-udev [--root DIR] vf IFNAME   an accelerated-networking VF to leave alone
 *   azl-udev [--root DIR] cpu CPU     a CPU the hot-add rule may bring online
 *
 * The root prefix comes from --root only, never from AZL_ROOT as for
 * azl-agent: udev hands a device's properties to the program as its
 * environment, so any rule (or a uevent's own variables) could point the
 * helper at another tree.
 *
 * Exit status: 0 (with or without output), 1 when sysfs could not be read
 * (a message names the path), 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "root.h"
#include "udev_cpu.h"
#include "udev_disk.h"
#include "udev_net.h"
#include "udev_nvme.h"

#ifndef AZL_VERSION
#define AZL_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: azl-udev [--root DIR] disk NAME    (NAME: sda, sda1, nvme0n1, /dev/sda)\n"
		"       azl-udev [--root DIR] vf IFNAME\n"
		"       azl-udev [--root DIR] cpu CPU      (CPU: cpu3)\n"
		"       azl-udev --help | --version\n"
		"Prints KEY=value lines for udev's IMPORT{program} when the device is an\n"
		"Azure disk, an accelerated-networking VF or a CPU to bring online,\n"
		"nothing otherwise.\n"
		"disk: AZURE_DISK_TYPE, AZURE_DISK_LUN, AZURE_DISK_INDEX, AZURE_DISK_NAME,\n"
		"      AZURE_DISK_SERIAL, AZL_DISK_LEGACY, AZL_DISK_REMOTE_NVME\n"
		"vf:   AZL_UNMANAGED_VF, AZURE_UNMANAGED_SRIOV, ID_NET_MANAGED_BY, NM_UNMANAGED\n"
		"cpu:  AZL_CPU_ONLINE (not with maxcpus=, nr_cpus= or SMT switched off)\n"
		"The root prefix comes from --root only (AZL_ROOT is ignored).\n");
}

/* A kernel name that stays one path component: no '/', not "." or "..". */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n < max && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* NAME or /dev/NAME (udev's DEVNAME) -> NAME. */
static const char *kernel_name(const char *arg)
{
	const char *dev = root_dir_name(ROOT_DEV);
	size_t n = strlen(dev);

	if (strncmp(arg, dev, n) == 0 && arg[n] == '/')
		return arg + n + 1;
	return arg;
}

static int run_disk(const struct root *r, const char *arg)
{
	struct udev_disk_env env = {
		.controller_id = getenv("AZL_DISK_CONTROLLER_ID"),
		.serial_short = getenv("ID_SERIAL_SHORT"),
	};
	const char *kname = kernel_name(arg);
	struct azure_disk d;
	int ret;

	if (!name_ok(kname, 128)) {
		log_error("azl-udev: '%s' is not a block device name", arg);
		return 2;
	}
	ret = udev_disk_identify(r, kname, &env, nvme_identify_page, &d);
	if (ret < 0)
		return 1;
	if (ret > 0)
		azure_disk_print(stdout, &d);
	return 0;
}

static int run_vf(const struct root *r, const char *ifname)
{
	int ret;

	if (!name_ok(ifname, 16)) { /* IFNAMSIZ */
		log_error("azl-udev: '%s' is not an interface name", ifname);
		return 2;
	}
	ret = udev_vf_identify(r, ifname);
	if (ret < 0)
		return 1;
	if (ret > 0)
		udev_vf_print(stdout);
	return 0;
}

static int run_cpu(const struct root *r, const char *cpu)
{
	int ret;

	if (!name_ok(cpu, 16)) {
		log_error("azl-udev: '%s' is not a CPU name", cpu);
		return 2;
	}
	ret = udev_cpu_identify(r, cpu);
	if (ret < 0)
		return 1;
	if (ret > 0)
		udev_cpu_print(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *root_dir = NULL;
	struct root r;
	int c, ret;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("azl-udev %s\n", AZL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	/* "/" is the live system: root_init() would read AZL_ROOT for NULL. */
	if (root_init(&r, root_dir && *root_dir ? root_dir : "/") < 0) {
		log_error("azl-udev: the root directory name is too long");
		return 2;
	}
	if (strcmp(argv[optind], "disk") == 0)
		ret = run_disk(&r, argv[optind + 1]);
	else if (strcmp(argv[optind], "vf") == 0)
		ret = run_vf(&r, argv[optind + 1]);
	else if (strcmp(argv[optind], "cpu") == 0)
		ret = run_cpu(&r, argv[optind + 1]);
	else {
		log_error("azl-udev: unknown mode '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("azl-udev: cannot write the properties");
		return 1;
	}
	return ret;
}
