// SPDX-License-Identifier: MIT
/*
 * azl-udev vf: the IFF_SLAVE bit tested as a number (the edge cases a
 * string glob gets wrong), the master that must be a synthetic NIC, and the
 * SKU fixtures' VFs (AZL_FIXTURES).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "udev_tree.h"

#include "root.h"
#include "udev_net.h"

static void test_flags(void **state)
{
	(void)state;
	assert_int_equal(udev_flags_slave("0x1803"), 1); /* UP|BROADCAST|SLAVE|MULTICAST */
	assert_int_equal(udev_flags_slave("0x1a03"), 1); /* ... and ALLMULTI: azure-vm-utils' glob misses it */
	assert_int_equal(udev_flags_slave("0x803"), 1);  /* below 0x1000: so does it */
	assert_int_equal(udev_flags_slave("0x800"), 1);
	assert_int_equal(udev_flags_slave("0x1003"), 0); /* the synthetic NIC */
	assert_int_equal(udev_flags_slave("0x9"), 0);    /* lo */
	assert_int_equal(udev_flags_slave("0x0"), 0);
	assert_int_equal(udev_flags_slave("0"), 0); /* "%#x" of 0: no "0x" */
	assert_int_equal(udev_flags_slave("00"), -EINVAL);
	assert_int_equal(udev_flags_slave("0xZZ"), -EINVAL);
	assert_int_equal(udev_flags_slave(""), -EINVAL);
	assert_int_equal(udev_flags_slave("0x"), -EINVAL);
	assert_int_equal(udev_flags_slave("2051"), -EINVAL); /* decimal: not what the kernel writes */
	assert_int_equal(udev_flags_slave("0x1803 "), -EINVAL);
	assert_int_equal(udev_flags_slave("-0x800"), -EINVAL);
	assert_int_equal(udev_flags_slave("0x1ffffffff"), -EINVAL);
	assert_int_equal(udev_flags_slave(NULL), -EINVAL);
}

/* How the VF's PCI bus hangs off VMBus in make_tree(). */
enum vpci { VPCI_NONE, VPCI_CLASS_ID, VPCI_SUBSYSTEM };

/*
 * A synthetic NIC eth0 (hv_netvsc) and a bond0, and an interface vf with
 * flags and master ("" none), its PCI device under a VMBus device that
 * shows as vpci says.
 */
static void make_tree_vpci(const struct tree *t, const char *vf_flags, const char *master,
			   enum vpci vpci)
{
	const char *vmbus = "sys/devices/VMBUS:00/000d3a67-4843-000d-3a67-4843000d3a67";
	const char *vpci_dev = "sys/devices/VMBUS:00/32d5b8bc-c98f-4b5b-9a1e-0d3a0d3a0d3a";
	const char *pci = "sys/devices/VMBUS:00/32d5b8bc-c98f-4b5b-9a1e-0d3a0d3a0d3a/pcic98f:00/c98f:00:02.0";
	char rel[512];

	tree_dir(t, "sys/bus/vmbus");
	if (vpci == VPCI_CLASS_ID) {
		snprintf(rel, sizeof(rel), "%s/class_id", vpci_dev);
		tree_file(t, rel, "{44C4F61D-4444-4400-9D52-802E27EDE19F}\n");
	} else if (vpci == VPCI_SUBSYSTEM) {
		snprintf(rel, sizeof(rel), "%s/subsystem", vpci_dev);
		tree_link(t, rel, "sys/bus/vmbus");
	} else {
		/* Another class id above: not pass-through. */
		snprintf(rel, sizeof(rel), "%s/class_id", vpci_dev);
		tree_file(t, rel, "{f8615163-df3e-46c5-913f-f2d2f965ed0e}\n");
	}

	tree_dir(t, "sys/bus/vmbus/drivers/hv_netvsc");
	tree_dir(t, "sys/bus/pci/drivers/mlx5_core");
	tree_dir(t, "sys/bus/pci/drivers/ixgbe");
	snprintf(rel, sizeof(rel), "%s/driver", vmbus);
	tree_link(t, rel, "sys/bus/vmbus/drivers/hv_netvsc");
	snprintf(rel, sizeof(rel), "%s/net/eth0/flags", vmbus);
	tree_file(t, rel, "0x1003\n");
	snprintf(rel, sizeof(rel), "%s/net/eth0/device", vmbus);
	tree_link(t, rel, vmbus);
	snprintf(rel, sizeof(rel), "%s/net/eth0", vmbus);
	tree_link(t, "sys/class/net/eth0", rel);
	/* A bond has no device; a PCI NIC of another driver does. */
	tree_file(t, "sys/devices/virtual/net/bond0/flags", "0x1403\n");
	tree_link(t, "sys/class/net/bond0", "sys/devices/virtual/net/bond0");
	tree_file(t, "sys/devices/pci0000:00/0000:00:03.0/net/eth9/flags", "0x1003\n");
	tree_link(t, "sys/devices/pci0000:00/0000:00:03.0/driver", "sys/bus/pci/drivers/ixgbe");
	tree_link(t, "sys/devices/pci0000:00/0000:00:03.0/net/eth9/device",
		  "sys/devices/pci0000:00/0000:00:03.0");
	tree_link(t, "sys/class/net/eth9", "sys/devices/pci0000:00/0000:00:03.0/net/eth9");
	/* The VF. */
	snprintf(rel, sizeof(rel), "%s/driver", pci);
	tree_link(t, rel, "sys/bus/pci/drivers/mlx5_core");
	snprintf(rel, sizeof(rel), "%s/net/vf/flags", pci);
	tree_file(t, rel, vf_flags);
	snprintf(rel, sizeof(rel), "%s/net/vf/device", pci);
	tree_link(t, rel, pci);
	if (*master) {
		char target[512];

		snprintf(rel, sizeof(rel), "%s/net/vf/master", pci);
		snprintf(target, sizeof(target), "sys/class/net/%s", master);
		tree_link(t, rel, target);
	}
	snprintf(rel, sizeof(rel), "%s/net/vf", pci);
	tree_link(t, "sys/class/net/vf", rel);
}

static void make_tree(const struct tree *t, const char *vf_flags, const char *master)
{
	make_tree_vpci(t, vf_flags, master, VPCI_CLASS_ID);
}

static int vf_of_vpci(const char *flags, const char *master, enum vpci vpci)
{
	struct tree t;
	struct root r;
	int ret;

	tree_init(&t);
	make_tree_vpci(&t, flags, master, vpci);
	assert_int_equal(root_init(&r, t.root), 0);
	ret = udev_vf_identify(&r, "vf");
	tree_free(&t);
	return ret;
}

static int vf_of(const char *flags, const char *master)
{
	return vf_of_vpci(flags, master, VPCI_CLASS_ID);
}

static void test_vf(void **state)
{
	(void)state;
	assert_int_equal(vf_of("0x1803\n", "eth0"), 1);
	assert_int_equal(vf_of("0x1a03\n", "eth0"), 1);
	assert_int_equal(vf_of("0x803\n", "eth0"), 1);
	/* Not enslaved: the synthetic NIC has not taken it (or it is a primary MANA NIC). */
	assert_int_equal(vf_of("0x1003\n", ""), 0);
	assert_int_equal(vf_of("0x1003\n", "eth0"), 0);
	/* Enslaved to something that is not a synthetic NIC. */
	assert_int_equal(vf_of("0x1803\n", "bond0"), 0);
	assert_int_equal(vf_of("0x1803\n", "eth9"), 0);
	/* IFF_SLAVE before netvsc linked itself as master (the add uevent's race). */
	assert_int_equal(vf_of("0x1803\n", ""), 1);
	assert_int_equal(vf_of_vpci("0x1803\n", "", VPCI_SUBSYSTEM), 1);
	/* ... but only behind Hyper-V's PCI pass-through: bonding sets it early too. */
	assert_int_equal(vf_of_vpci("0x1803\n", "", VPCI_NONE), 0);
	/* No flags at all: the kernel prints "0". */
	assert_int_equal(vf_of("0\n", ""), 0);
	/* Junk flags: a problem, not a VF. */
	assert_int_equal(vf_of("0xZZ\n", "eth0"), -EINVAL);
	assert_int_equal(vf_of("\n", "eth0"), -EINVAL);
}

static void test_missing_interface(void **state)
{
	struct tree t;
	struct root r;

	(void)state;
	tree_init(&t);
	make_tree(&t, "0x1803\n", "eth0");
	assert_int_equal(root_init(&r, t.root), 0);
	assert_int_equal(udev_vf_identify(&r, "eth0"), 0);
	assert_int_equal(udev_vf_identify(&r, "bond0"), 0);
	assert_int_equal(udev_vf_identify(&r, "nope"), -ENOENT);
	tree_free(&t);
}

/* A PCI NIC of the host's own bus, IFF_SLAVE and no master yet (a bond to come). */
static void test_bond_slave_not_vpci(void **state)
{
	struct tree t;
	struct root r;

	(void)state;
	tree_init(&t);
	make_tree(&t, "0x1803\n", "eth0");
	tree_file(&t, "sys/devices/pci0000:00/0000:00:05.0/net/eth8/flags", "0x1803\n");
	tree_link(&t, "sys/devices/pci0000:00/0000:00:05.0/net/eth8/device",
		  "sys/devices/pci0000:00/0000:00:05.0");
	tree_link(&t, "sys/class/net/eth8", "sys/devices/pci0000:00/0000:00:05.0/net/eth8");
	/* A virtual interface without a device at all. */
	tree_file(&t, "sys/devices/virtual/net/dummy0/flags", "0x1882\n");
	tree_link(&t, "sys/class/net/dummy0", "sys/devices/virtual/net/dummy0");
	assert_int_equal(root_init(&r, t.root), 0);
	assert_int_equal(udev_vf_identify(&r, "eth8"), 0);
	assert_int_equal(udev_behind_vpci(&r, "eth8"), 0);
	assert_int_equal(udev_vf_identify(&r, "dummy0"), 0);
	assert_int_equal(udev_behind_vpci(&r, "vf"), 1);
	assert_int_equal(udev_behind_vpci(&r, "nope"), 0);
	tree_free(&t);
}

static void test_print(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(udev_vf_print(f_), out);
	assert_string_equal(out, "AZL_UNMANAGED_VF=1\nAZURE_UNMANAGED_SRIOV=1\n"
				 "ID_NET_MANAGED_BY=unmanaged\nNM_UNMANAGED=1\n");
	free(out);
}

static void test_fixtures(void **state)
{
	const char *dir = getenv("AZL_FIXTURES");
	struct root r;
	char root[PATH_MAX];

	(void)state;
	if (!dir || !*dir) {
		print_message("AZL_FIXTURES is unset: fixture test skipped\n");
		skip();
	}
	snprintf(root, sizeof(root), "%s/d64ds-v5-mlx5", dir);
	assert_int_equal(root_init(&r, root), 0);
	assert_int_equal(udev_vf_identify(&r, "enP53091s1np0"), 1);
	assert_int_equal(udev_behind_vpci(&r, "enP53091s1np0"), 1);
	assert_int_equal(udev_behind_vpci(&r, "eth0"), 0);
	assert_int_equal(udev_behind_vpci(&r, "lo"), 0);
	assert_int_equal(udev_vf_identify(&r, "eth0"), 0);
	assert_int_equal(udev_vf_identify(&r, "lo"), 0);
	snprintf(root, sizeof(root), "%s/d64ds-v5-mana", dir);
	assert_int_equal(root_init(&r, root), 0);
	assert_int_equal(udev_vf_identify(&r, "enP53091s1"), 1);
	snprintf(root, sizeof(root), "%s/not-hyperv", dir);
	assert_int_equal(root_init(&r, root), 0);
	assert_int_equal(udev_vf_identify(&r, "eth0"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_vf),
		cmocka_unit_test(test_missing_interface),
		cmocka_unit_test(test_bond_slave_not_vpci),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
