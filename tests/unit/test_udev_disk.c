// SPDX-License-Identifier: MIT
/*
 * azl-udev disk for storvsc disks: every branch of the Azure
 * classification on fake sysfs trees, the stand-in seam, partitions, the
 * printed properties, and the SKU fixtures' disks (AZL_FIXTURES).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>

#include "udev_tree.h"

#include "root.h"
#include "udev_disk.h"
#include "udev_nvme.h"
#include "util.h"

#define GEN2_OS "{f8b3781a-1e82-4818-a1c3-63d806ec15bb}"
#define DATA1 "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}"
#define DATA2 "{f8b3781c-1e82-4818-a1c3-63d806ec15bb}"
#define DATA3 "{f8b3781d-1e82-4818-a1c3-63d806ec15bb}"
#define GEN1_OS "{00000000-0000-8899-0000-000000000000}"
#define GEN1_RES "{00000000-0001-8899-0000-000000000000}"
#define STORAGE_CLASS "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}"

/*
 * A SCSI disk kname at host:0:0:lun; under a VMBus controller with
 * device_id when it is not NULL, else under a virtio-scsi PCI device (the
 * QEMU stand-in).  nparts partitions kname1..kname<nparts>.
 */
static void add_scsi(const struct tree *t, const char *device_id, unsigned host, unsigned lun,
		     const char *kname, int nparts)
{
	char base[256], sdev[512], disk[600], rel[700], p[700];

	if (device_id) {
		snprintf(base, sizeof(base), "sys/devices/LNXSYSTM:00/VMBUS:00/ctrl%u", host);
		snprintf(rel, sizeof(rel), "%s/device_id", base);
		tree_file(t, rel, device_id);
		snprintf(rel, sizeof(rel), "%s/class_id", base);
		tree_file(t, rel, STORAGE_CLASS "\n");
	} else {
		snprintf(base, sizeof(base), "sys/devices/pci0000:00/0000:00:04.0/virtio1");
		tree_file(t, "sys/devices/pci0000:00/0000:00:04.0/vendor", "0x1af4\n");
	}
	snprintf(sdev, sizeof(sdev), "%s/host%u/target%u:0:0/%u:0:0:%u", base, host, host, host,
		 lun);
	snprintf(rel, sizeof(rel), "%s/vendor", sdev);
	tree_file(t, rel, "Msft    \n");
	snprintf(disk, sizeof(disk), "%s/block/%s", sdev, kname);
	snprintf(rel, sizeof(rel), "%s/size", disk);
	tree_file(t, rel, "2048\n");
	snprintf(rel, sizeof(rel), "%s/device", disk);
	tree_link(t, rel, sdev);
	snprintf(rel, sizeof(rel), "sys/class/block/%s", kname);
	tree_link(t, rel, disk);
	for (int i = 1; i <= nparts; i++) {
		snprintf(rel, sizeof(rel), "%s/%s%d/partition", disk, kname, i);
		snprintf(p, sizeof(p), "%d\n", i);
		tree_file(t, rel, p);
		snprintf(rel, sizeof(rel), "sys/class/block/%s%d", kname, i);
		snprintf(p, sizeof(p), "%s/%s%d", disk, kname, i);
		tree_link(t, rel, p);
	}
}

static int identify(const struct tree *t, const char *kname, const char *controller_env,
		    struct azure_disk *d)
{
	struct udev_disk_env env = { .controller_id = controller_env };
	struct root r;

	assert_int_equal(root_init(&r, t->root), 0);
	return udev_disk_identify(&r, kname, &env, NULL, d);
}

/* One disk at host h, LUN lun on controller id: the printed properties. */
static char *props_of(const char *id, unsigned lun, const char *env_id)
{
	struct azure_disk d;
	struct tree t;
	char *out = NULL;
	int ret;

	tree_init(&t);
	add_scsi(&t, id, 3, lun, "sdq", 0);
	ret = identify(&t, "sdq", env_id, &d);
	tree_free(&t);
	assert_true(ret >= 0);
	if (ret == 0)
		return strdup("");
	CAPTURE(azure_disk_print(f_, &d), out);
	return out;
}

static void expect_props(const char *id, unsigned lun, const char *env_id, const char *want)
{
	char *got = props_of(id, lun, env_id);

	assert_string_equal(got, want);
	free(got);
}

static void test_gen2_os_resource_dvd(void **state)
{
	(void)state;
	expect_props(GEN2_OS, 0, NULL, "AZURE_DISK_TYPE=os\nAZL_DISK_LEGACY=root\n");
	expect_props(GEN2_OS, 1, NULL, "AZURE_DISK_TYPE=resource\nAZL_DISK_LEGACY=resource\n");
	expect_props(GEN2_OS, 2, NULL, ""); /* the DVD */
	/* WALinuxAgent names other LUNs of controller 0; azure-vm-utils does not. */
	expect_props(GEN2_OS, 5, NULL, "AZL_DISK_LEGACY=scsi0/lun5\n");
}

static void test_data_luns(void **state)
{
	(void)state;
	expect_props(DATA1, 0, NULL,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=0\nAZL_DISK_LEGACY=scsi1/lun0\n");
	expect_props(DATA1, 5, NULL,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=5\nAZL_DISK_LEGACY=scsi1/lun5\n");
	expect_props(DATA1, 63, NULL,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=63\nAZL_DISK_LEGACY=scsi1/lun63\n");
	expect_props(DATA2, 2, NULL,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=2\nAZL_DISK_LEGACY=scsi2/lun2\n");
	expect_props(DATA3, 1, NULL,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=1\nAZL_DISK_LEGACY=scsi3/lun1\n");
	/* The kernel prints lower case; any case is the same GUID. */
	expect_props("{F8B3781B-1E82-4818-A1C3-63D806EC15BB}", 7, NULL,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=7\nAZL_DISK_LEGACY=scsi1/lun7\n");
}

static void test_gen1(void **state)
{
	(void)state;
	expect_props(GEN1_OS, 0, NULL, "AZURE_DISK_TYPE=os\nAZL_DISK_LEGACY=root\n");
	expect_props(GEN1_RES, 1, NULL, "AZURE_DISK_TYPE=resource\nAZL_DISK_LEGACY=resource\n");
}

static void test_unknown_controllers(void **state)
{
	(void)state;
	expect_props("{12345678-1e82-4818-a1c3-63d806ec15bb}", 0, NULL, "");
	expect_props("{f8b3781e-1e82-4818-a1c3-63d806ec15bb}", 0, NULL, "");
	expect_props("{f8b3781b-1e82-4818-a1c3-63d806ec15bc}", 0, NULL, "");
	expect_props("not a guid", 0, NULL, "");
	expect_props("", 0, NULL, "");
}

static void test_partitions(void **state)
{
	struct azure_disk d;
	struct tree t;
	char *out = NULL;

	(void)state;
	tree_init(&t);
	add_scsi(&t, DATA1, 1, 5, "sdc", 2);
	assert_int_equal(identify(&t, "sdc2", NULL, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=5\nAZL_DISK_LEGACY=scsi1/lun5\n");
	free(out);
	add_scsi(&t, GEN2_OS, 0, 0, "sda", 1);
	assert_int_equal(identify(&t, "sda1", NULL, &d), 1);
	assert_string_equal(d.type, "os");
	assert_string_equal(d.legacy, "root");
	tree_free(&t);
}

static void test_stand_in_seam(void **state)
{
	struct azure_disk d;
	struct tree t;

	(void)state;
	/* No VMBus controller, no property: not ours. */
	expect_props(NULL, 3, NULL, "");
	/* The test image's property names the controller. */
	expect_props(NULL, 3, DATA1,
		     "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=3\nAZL_DISK_LEGACY=scsi1/lun3\n");
	expect_props(NULL, 0, GEN2_OS, "AZURE_DISK_TYPE=os\nAZL_DISK_LEGACY=root\n");
	expect_props(NULL, 3, "{junk}", "");
	/* A real VMBus controller wins over the property. */
	expect_props(GEN2_OS, 0, DATA1, "AZURE_DISK_TYPE=os\nAZL_DISK_LEGACY=root\n");
	expect_props("{12345678-1e82-4818-a1c3-63d806ec15bb}", 0, DATA1, "");
	/* And partitions of a stand-in disk. */
	tree_init(&t);
	add_scsi(&t, NULL, 2, 9, "sdb", 1);
	assert_int_equal(identify(&t, "sdb1", DATA1, &d), 1);
	assert_string_equal(d.legacy, "scsi1/lun9");
	tree_free(&t);
}

static void test_not_scsi(void **state)
{
	struct azure_disk d;
	struct tree t;

	(void)state;
	tree_init(&t);
	/* A loop device: no device link. */
	tree_file(&t, "sys/devices/virtual/block/loop0/size", "0\n");
	tree_link(&t, "sys/class/block/loop0", "sys/devices/virtual/block/loop0");
	assert_int_equal(identify(&t, "loop0", DATA1, &d), 0);
	/* A virtio-blk disk: its device is no H:C:T:L. */
	tree_file(&t, "sys/devices/pci0000:00/0000:00:05.0/virtio2/block/vda/size", "1\n");
	tree_link(&t, "sys/devices/pci0000:00/0000:00:05.0/virtio2/block/vda/device",
		  "sys/devices/pci0000:00/0000:00:05.0/virtio2");
	tree_link(&t, "sys/class/block/vda", "sys/devices/pci0000:00/0000:00:05.0/virtio2/block/vda");
	assert_int_equal(identify(&t, "vda", DATA1, &d), 0);
	/* Devices under a VMBus controller whose names are no H:C:T:L. */
	tree_file(&t, "sys/devices/VMBUS:00/c/device_id", DATA1 "\n");
	tree_file(&t, "sys/devices/VMBUS:00/c/class_id", STORAGE_CLASS "\n");
	{
		static const char *const names[] = { "1:0:0", "1:0:0:0:0", "1::0:0", "1:0:0:",
						     "0x1:0:0:5", "1:0:0:-5", "1:0:0:5a" };
		char rel[400], target[256];

		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			snprintf(target, sizeof(target), "sys/devices/VMBUS:00/c/h/%s", names[i]);
			snprintf(rel, sizeof(rel), "%s/block/sdh%zu/device", target, i);
			tree_link(&t, rel, target);
			snprintf(target + strlen(target), sizeof(target) - strlen(target),
				 "/block/sdh%zu", i);
			snprintf(rel, sizeof(rel), "sys/class/block/sdh%zu", i);
			tree_link(&t, rel, target);
			snprintf(rel, sizeof(rel), "sdh%zu", i);
			assert_int_equal(identify(&t, rel, NULL, &d), 0);
		}
	}
	/* A device that is not there is a problem, not "not ours". */
	assert_true(identify(&t, "sdz", NULL, &d) < 0);
	/* A link that leads out of the tree. */
	tree_dir(&t, "sys/class/block");
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/sys/class/block/evil", t.root);
		assert_int_equal(symlink("/tmp", p), 0);
	}
	assert_int_equal(identify(&t, "evil", NULL, &d), -EXDEV);
	tree_free(&t);
}

/*
 * The errno of a path that does not resolve survives the message about
 * it: stderr on /dev/full makes the message's write set errno (ENOSPC).
 */
static void test_errno_after_message(void **state)
{
	struct azure_disk d;
	struct tree t;
	char missing[PATH_MAX + 16];
	int saved, full, ret_loop, ret_root;

	(void)state;
	tree_init(&t);
	/* A device link that points at itself: realpath() says ELOOP. */
	tree_dir(&t, "sys/devices/virtual/block/sdq");
	tree_link(&t, "sys/devices/virtual/block/sdq/device", "sys/devices/virtual/block/sdq/device");
	tree_link(&t, "sys/class/block/sdq", "sys/devices/virtual/block/sdq");
	snprintf(missing, sizeof(missing), "%s/no-such-root", t.root);
	full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (full < 0) {
		tree_free(&t);
		print_message("no /dev/full here: test skipped\n");
		skip();
	}
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(full, 2), 2);
	ret_loop = identify(&t, "sdq", NULL, &d);
	{
		struct udev_disk_env env = { 0 };
		struct root r;

		assert_int_equal(root_init(&r, missing), 0);
		ret_root = udev_disk_identify(&r, "sda", &env, NULL, &d);
	}
	clearerr(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(full);
	assert_int_equal(ret_loop, -ELOOP);
	assert_int_equal(ret_root, -ENOENT);
	tree_free(&t);
}

static void test_classify_pure(void **state)
{
	struct azure_disk d;

	(void)state;
	assert_true(azure_scsi_classify(DATA1, 63, &d));
	assert_int_equal(d.lun, 63);
	assert_string_equal(d.legacy, "scsi1/lun63");
	assert_false(azure_scsi_classify(GEN2_OS, 2, &d));
	assert_false(azure_scsi_classify("f8b3781b", 0, &d));
	/* Gen1 globs: one character, then the zeros. */
	assert_true(azure_scsi_classify("x00000000-0000-anything", 0, &d));
	assert_false(azure_scsi_classify("00000000-0000-8899-0000-000000000000", 0, &d));
}

static void test_safe_name(void **state)
{
	char big[80];

	(void)state;
	assert_true(udev_safe_name("nvme-110G-1"));
	assert_true(udev_safe_name("data_db.2"));
	assert_false(udev_safe_name(""));
	assert_false(udev_safe_name("."));
	assert_false(udev_safe_name(".."));
	assert_false(udev_safe_name(".hidden"));
	assert_false(udev_safe_name("-n"));
	assert_false(udev_safe_name("a/b"));
	assert_false(udev_safe_name("a b"));
	assert_false(udev_safe_name("a\nb"));
	assert_false(udev_safe_name("caf\xc3\xa9"));
	memset(big, 'a', sizeof(big));
	big[63] = '\0';
	assert_true(udev_safe_name(big));
	big[63] = 'a';
	big[64] = '\0';
	assert_false(udev_safe_name(big));
}

/* The address provisioning takes (provision_actions_disk.c): LUN and raw controller id. */
static void test_scsi_address(void **state)
{
	char top[PATH_MAX], dir[PATH_MAX + 32], real[PATH_MAX], id[64];
	unsigned long long lun = 0;
	struct tree t;

	(void)state;
	tree_init(&t);
	add_scsi(&t, GEN1_RES, 1, 1, "sdb", 1);
	add_scsi(&t, NULL, 2, 9, "sdc", 0);
	tree_file(&t, "sys/devices/virtual/block/loop0/size", "0\n");
	tree_link(&t, "sys/class/block/loop0", "sys/devices/virtual/block/loop0");
	snprintf(dir, sizeof(dir), "%s/sys", t.root);
	assert_non_null(realpath(dir, top));
	snprintf(dir, sizeof(dir), "%s/sys/class/block/sdb", t.root);
	assert_non_null(realpath(dir, real));
	assert_int_equal(udev_scsi_address(top, real, &lun, id, sizeof(id)), 1);
	assert_int_equal(lun, 1);
	assert_string_equal(id, GEN1_RES);
	/* No VMBus controller above: the LUN, no id. */
	snprintf(dir, sizeof(dir), "%s/sys/class/block/sdc", t.root);
	assert_non_null(realpath(dir, real));
	assert_int_equal(udev_scsi_address(top, real, &lun, id, sizeof(id)), 1);
	assert_int_equal(lun, 9);
	assert_string_equal(id, "");
	/* Not SCSI. */
	snprintf(dir, sizeof(dir), "%s/sys/class/block/loop0", t.root);
	assert_non_null(realpath(dir, real));
	assert_int_equal(udev_scsi_address(top, real, &lun, id, sizeof(id)), 0);
	tree_free(&t);
}

/* The generated SKU fixtures: Gen2 with sda, sdb (controller a) and sdc (b). */
static void test_fixture(void **state)
{
	const char *dir = getenv("AZL_FIXTURES");
	struct azure_disk d;
	struct root r;
	char root[PATH_MAX];

	(void)state;
	if (!dir || !*dir) {
		print_message("AZL_FIXTURES is unset: fixture test skipped\n");
		skip();
	}
	snprintf(root, sizeof(root), "%s/nd96isr-h200-v5", dir);
	assert_int_equal(root_init(&r, root), 0);
	assert_int_equal(udev_disk_identify(&r, "sda", NULL, NULL, &d), 1);
	assert_string_equal(d.type, "os");
	assert_int_equal(udev_disk_identify(&r, "sdb", NULL, NULL, &d), 1);
	assert_string_equal(d.type, "resource");
	assert_int_equal(udev_disk_identify(&r, "sdc", NULL, NULL, &d), 1);
	assert_string_equal(d.legacy, "scsi1/lun0");
	assert_int_equal(d.lun, 0);
	/* Its local NVMe disks (Direct Disk, vendor 0x1414), without a vendor area. */
	assert_int_equal(udev_disk_identify(&r, "nvme3n1", NULL, NULL, &d), 1);
	assert_string_equal(d.type, "local");
	assert_false(d.remote_nvme);
	/* /dev/NAME is the caller's business (main); here the name only. */
	snprintf(root, sizeof(root), "%s/not-hyperv", dir);
	assert_int_equal(root_init(&r, root), 0);
	assert_int_equal(udev_disk_identify(&r, "vda", NULL, NULL, &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen2_os_resource_dvd),
		cmocka_unit_test(test_data_luns),
		cmocka_unit_test(test_gen1),
		cmocka_unit_test(test_unknown_controllers),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_stand_in_seam),
		cmocka_unit_test(test_not_scsi),
		cmocka_unit_test(test_errno_after_message),
		cmocka_unit_test(test_classify_pure),
		cmocka_unit_test(test_scsi_address),
		cmocka_unit_test(test_safe_name),
		cmocka_unit_test(test_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
