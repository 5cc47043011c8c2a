// SPDX-License-Identifier: MIT
/*
 * azl-udev vf.  azure-vm-utils matches ATTR{flags}=="0x?[89ABCDEF]??", a
 * glob that needs four hex digits in upper case while the kernel prints
 * "%#x" in lower case (research/tuning.md §1.4): it misses SLAVE|ALLMULTI
 * (0x1a03) and anything below 0x1000.  Here the bit is tested as a number.
 */
#include "udev_net.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sysfile.h"
#include "vmbus_class.h"

/* Hyper-V PCI pass-through (vPCI): the VMBus device a VF's PCI bus hangs off. */
#define VPCI_CLASS_ID "44c4f61d-4444-4400-9d52-802e27ede19f"

int udev_flags_slave(const char *flags)
{
	unsigned long long v;

	/*
	 * The kernel writes "%#x": "0x" and hex, except no flags at all, which
	 * C's '#' prints as a bare "0".  Any other bare decimal would be
	 * someone else's.
	 */
	if (flags && strcmp(flags, "0") == 0)
		return 0;
	if (!flags || strncmp(flags, "0x", 2) != 0 || parse_unsigned(flags, 0xffffffffu, &v) < 0)
		return -EINVAL;
	return (v & UDEV_IFF_SLAVE) != 0;
}

/* Is the directory dir (resolved) a VMBus device: its subsystem, or vPCI's class id? */
static bool is_vmbus_device(const char *dir)
{
	char path[PATH_MAX + 16], buf[PATH_MAX], g[37];
	const char *name;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/subsystem", dir);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		name = strrchr(buf, '/');
		if (strcmp(name ? name + 1 : buf, "vmbus") == 0)
			return true;
	}
	snprintf(path, sizeof(path), "%s/class_id", dir);
	return read_text(path, buf, sizeof(buf)) > 0 && guid_normalize(buf, g) == 0 &&
	       strcmp(g, VPCI_CLASS_ID) == 0;
}

/*
 * 1 when ifname's device sits behind Hyper-V's PCI pass-through: one of
 * its parents in sysfs is a VMBus device.  0 when not or when that cannot
 * be told (no device, a link out of the tree).
 */
int udev_behind_vpci(const struct root *r, const char *ifname)
{
	char top[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	char *slash;
	int ntop;

	if (root_path(r, ROOT_SYS, path, sizeof(path), "%s", "") < 0 || !realpath(path, top) ||
	    root_path(r, ROOT_SYS, path, sizeof(path), "class/net/%s/device", ifname) < 0)
		return 0;
	ntop = resolve_under(top, path, real);
	if (ntop < 0)
		return 0;
	while ((slash = strrchr(real, '/')) && slash - real > ntop) {
		*slash = '\0';
		if (is_vmbus_device(real))
			return 1;
	}
	return 0;
}

int udev_vf_identify(const struct root *r, const char *ifname)
{
	char path[512], flags[64], driver[64];
	int ret;

	ret = root_read_text(r, ROOT_SYS, flags, sizeof(flags), "class/net/%s/flags", ifname);
	if (ret < 0) {
		root_path(r, ROOT_SYS, path, sizeof(path), "class/net/%s/flags", ifname);
		log_error("azl-udev: cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = udev_flags_slave(flags);
	if (ret < 0) {
		root_path(r, ROOT_SYS, path, sizeof(path), "class/net/%s/flags", ifname);
		log_error("azl-udev: %s is not a number", path);
		return ret;
	}
	if (ret == 0)
		return 0;
	/*
	 * hv_netvsc sets IFF_SLAVE at NETDEV_POST_INIT, before the add uevent,
	 * and links itself as master in the NETDEV_REGISTER notifier that
	 * runs after it: a master that is not there yet may be netvsc's to
	 * come.  Bonding sets IFF_SLAVE before it links itself too, so then
	 * the NIC must be a VF: behind Hyper-V's PCI pass-through.  A master
	 * that is there must be a synthetic NIC (not a bond or team).
	 */
	ret = root_read_link_name(r, ROOT_SYS, driver, sizeof(driver),
				  "class/net/%s/master/device/driver", ifname);
	if (ret == -ENOENT && !root_exists(r, ROOT_SYS, "class/net/%s/master", ifname))
		return udev_behind_vpci(r, ifname);
	if (ret < 0)
		return 0; /* a master without a device driver: a bond, a bridge */
	return strcmp(driver, "hv_netvsc") == 0;
}

void udev_vf_print(FILE *f)
{
	/*
	 * Ours for our .network file, azure-vm-utils' for its own (either
	 * package alone leaves the VF alone), systemd-networkd >= 255's and
	 * NetworkManager's.
	 */
	fputs("AZL_UNMANAGED_VF=1\n"
	      "AZURE_UNMANAGED_SRIOV=1\n"
	      "ID_NET_MANAGED_BY=unmanaged\n"
	      "NM_UNMANAGED=1\n",
	      f);
}
