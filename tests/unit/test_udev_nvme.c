// SPDX-License-Identifier: MIT
/*
 * azl-udev disk for NVMe: the vendor-specific Identify Namespace parser
 * (hostile bytes), the model fallbacks, Microsoft's vendor only, partitions,
 * the multipath layout, and the vendor area through a fake reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "udev_tree.h"

#include "root.h"
#include "udev_disk.h"
#include "udev_nvme.h"

/* ---- the vendor-specific area ------------------------------------------ */

static int parse_str(const char *s, struct nvme_vs *vs)
{
	return nvme_vs_parse(s, strlen(s) + 1, vs);
}

static void test_vs_good(void **state)
{
	struct nvme_vs vs;
	char area[NVME_VS_SIZE];

	(void)state;
	assert_int_equal(parse_str("type=local,index=1,name=nvme-110G-1", &vs), 1);
	assert_string_equal(vs.type, "local");
	assert_int_equal(vs.index, 1);
	assert_int_equal(vs.lun, -1);
	assert_string_equal(vs.name, "nvme-110G-1");
	assert_int_equal(parse_str("type=os", &vs), 1);
	assert_string_equal(vs.type, "os");
	assert_int_equal(vs.index, -1);
	assert_string_equal(vs.name, "");
	assert_int_equal(parse_str("type=data,lun=4,name=data-db", &vs), 1);
	assert_int_equal(vs.lun, 4);
	assert_string_equal(vs.name, "data-db");
	/* Unknown keys are a later protocol's: ignored. */
	assert_int_equal(parse_str("future=x,type=data,lun=0,other_key=1", &vs), 1);
	assert_string_equal(vs.type, "data");
	assert_int_equal(vs.lun, 0);
	/* A whole 3712-byte area, bytes after the NUL ignored. */
	memset(area, 0xff, sizeof(area));
	memcpy(area, "type=local,index=7", 19);
	assert_int_equal(nvme_vs_parse(area, sizeof(area), &vs), 1);
	assert_int_equal(vs.index, 7);
	/* The largest number and name. */
	assert_int_equal(parse_str("lun=65535,name=abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123",
				   &vs), 1);
	assert_int_equal(vs.lun, 65535);
	assert_int_equal(strlen(vs.name), 63);
}

static void test_vs_empty(void **state)
{
	struct nvme_vs vs;
	char area[NVME_VS_SIZE] = { 0 };

	(void)state;
	/* A leading NUL: the host does not speak the protocol. */
	assert_int_equal(nvme_vs_parse(area, sizeof(area), &vs), 0);
	memcpy(area + 1, "type=os", 7);
	assert_int_equal(nvme_vs_parse(area, sizeof(area), &vs), 0);
}

static void test_vs_no_nul(void **state)
{
	struct nvme_vs vs;
	char area[16];

	(void)state;
	memcpy(area, "type=local,index", 16);
	assert_int_equal(nvme_vs_parse(area, sizeof(area), &vs), -EBADMSG);
	assert_int_equal(nvme_vs_parse(area, 0, &vs), -EBADMSG);
	assert_int_equal(nvme_vs_parse("type=os", 7, &vs), -EBADMSG); /* the NUL is the 8th byte */
}

static void test_vs_junk(void **state)
{
	struct nvme_vs vs;

	(void)state;
	assert_int_equal(parse_str("junk", &vs), -EBADMSG);
	assert_int_equal(parse_str("=os", &vs), -EBADMSG);
	assert_int_equal(parse_str("type=os,,index=1", &vs), -EBADMSG);
	assert_int_equal(parse_str("type=os,", &vs), -EBADMSG);
	assert_int_equal(parse_str(",type=os", &vs), -EBADMSG);
	assert_int_equal(parse_str("type=os\n", &vs), -EBADMSG);
	assert_int_equal(parse_str("type=o s", &vs), -EBADMSG);
	assert_int_equal(parse_str("type=os,\x1b[31m=1", &vs), -EBADMSG);
	assert_int_equal(parse_str("ty-pe=os", &vs), -EBADMSG);
	assert_int_equal(parse_str("name=caf\xc3\xa9", &vs), -EBADMSG);
	assert_int_equal(parse_str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", &vs), -EBADMSG); /* 33-byte key */
}

static void test_vs_refused_values(void **state)
{
	struct nvme_vs vs;

	(void)state;
	/* Values unsafe for a symlink name. */
	assert_int_equal(parse_str("type=data,name=../../etc", &vs), -EINVAL);
	assert_int_equal(parse_str("name=a/b", &vs), -EINVAL);
	assert_int_equal(parse_str("name=.", &vs), -EINVAL);
	assert_int_equal(parse_str("name=..", &vs), -EINVAL);
	assert_int_equal(parse_str("name=", &vs), -EINVAL);
	assert_int_equal(parse_str("name=a*b", &vs), -EINVAL);
	/* Overlong: 64 characters. */
	assert_int_equal(parse_str("name=abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
				   &vs), -EINVAL);
	/* Types we do not know become no directory of /dev/disk/azure. */
	assert_int_equal(parse_str("type=swap", &vs), -EINVAL);
	assert_int_equal(parse_str("type=", &vs), -EINVAL);
	assert_int_equal(parse_str("type=OS", &vs), -EINVAL);
	/* Numbers: decimal digits, at most 65535. */
	assert_int_equal(parse_str("lun=12a", &vs), -EINVAL);
	assert_int_equal(parse_str("lun=0x10", &vs), -EINVAL);
	assert_int_equal(parse_str("lun=-1", &vs), -EINVAL);
	assert_int_equal(parse_str("index=65536", &vs), -EINVAL);
	assert_int_equal(parse_str("index=99999999999999999999", &vs), -EINVAL);
	assert_int_equal(parse_str("index=", &vs), -EINVAL);
}

static void test_vs_duplicates(void **state)
{
	struct nvme_vs vs;

	(void)state;
	assert_int_equal(parse_str("type=data,lun=4,lun=5", &vs), -EINVAL);
	assert_int_equal(parse_str("type=os,type=os", &vs), -EINVAL);
	assert_int_equal(parse_str("name=a,type=local,name=b", &vs), -EINVAL);
	/* Unknown keys may repeat: they are not read. */
	assert_int_equal(parse_str("x=1,x=2,type=os", &vs), 1);
}

static void test_kname(void **state)
{
	unsigned long c, n;

	(void)state;
	assert_true(nvme_parse_kname("nvme0n1", &c, &n));
	assert_int_equal(c, 0);
	assert_int_equal(n, 1);
	assert_true(nvme_parse_kname("nvme12n34p5", &c, &n));
	assert_int_equal(c, 12);
	assert_int_equal(n, 34);
	assert_false(nvme_parse_kname("nvme0c0n1", &c, &n)); /* a multipath path */
	assert_false(nvme_parse_kname("nvme0", &c, &n));
	assert_false(nvme_parse_kname("nvme0n", &c, &n));
	assert_false(nvme_parse_kname("nvme0n1p", &c, &n));
	assert_false(nvme_parse_kname("nvme0n1x", &c, &n));
	assert_false(nvme_parse_kname("nvmen1", &c, &n));
	assert_false(nvme_parse_kname("nvme1234567890n1", &c, &n));
	assert_false(nvme_parse_kname("sda", &c, &n));
}

static void test_model(void **state)
{
	struct azure_disk d;

	(void)state;
	azure_disk_init(&d);
	assert_true(nvme_model_classify("Microsoft NVMe Direct Disk", 1, &d));
	assert_string_equal(d.type, "local");
	assert_false(d.remote_nvme);
	azure_disk_init(&d);
	assert_true(nvme_model_classify("Microsoft NVMe Direct Disk v2", 3, &d));
	assert_string_equal(d.type, "local");
	azure_disk_init(&d);
	assert_true(nvme_model_classify("MSFT NVMe Accelerator v1.0", 1, &d));
	assert_string_equal(d.type, "os");
	assert_true(d.remote_nvme);
	assert_int_equal(d.lun, -1);
	azure_disk_init(&d);
	assert_true(nvme_model_classify("MSFT NVMe Accelerator v1.0", 2, &d));
	assert_string_equal(d.type, "data");
	assert_int_equal(d.lun, 0);
	azure_disk_init(&d);
	assert_true(nvme_model_classify("MSFT NVMe Accelerator v1.0", 9, &d));
	assert_int_equal(d.lun, 7);
	azure_disk_init(&d);
	assert_false(nvme_model_classify("MSFT NVMe Accelerator v2.0", 1, &d));
	assert_false(nvme_model_classify("Microsoft NVMe Direct Disk v3", 1, &d));
	assert_false(nvme_model_classify("", 1, &d));
	assert_string_equal(d.type, "");
}

/* ---- namespaces on a fake sysfs ---------------------------------------- */

/*
 * Controller nvme<c> (PCI vendor, model) with namespace nvme<c>n<nsid> and
 * nparts partitions.  multipath: the namespace sits in nvme-subsys<c>
 * (model there, no PCI device), as with CONFIG_NVME_MULTIPATH.
 */
static void add_nvme(const struct tree *t, unsigned c, const char *vendor, const char *model,
		     unsigned nsid, int nparts, bool multipath)
{
	char pci[128], ctrl[256], ns[512], rel[600], v[600];

	snprintf(pci, sizeof(pci), "sys/devices/pci0000:00/0000:00:%02x.0", c + 4);
	snprintf(rel, sizeof(rel), "%s/vendor", pci);
	tree_file(t, rel, vendor);
	snprintf(ctrl, sizeof(ctrl), "%s/nvme/nvme%u", pci, c);
	snprintf(rel, sizeof(rel), "%s/model", ctrl);
	tree_file(t, rel, model);
	snprintf(rel, sizeof(rel), "%s/device", ctrl);
	tree_link(t, rel, pci);
	snprintf(rel, sizeof(rel), "sys/class/nvme/nvme%u", c);
	tree_link(t, rel, ctrl);
	if (multipath) {
		char subsys[128];

		snprintf(subsys, sizeof(subsys), "sys/devices/virtual/nvme-subsystem/nvme-subsys%u", c);
		snprintf(rel, sizeof(rel), "%s/model", subsys);
		tree_file(t, rel, model);
		snprintf(ns, sizeof(ns), "%s/nvme%un%u", subsys, c, nsid);
		snprintf(rel, sizeof(rel), "%s/device", ns);
		tree_link(t, rel, subsys);
	} else {
		snprintf(ns, sizeof(ns), "%s/nvme%un%u", ctrl, c, nsid);
		snprintf(rel, sizeof(rel), "%s/device", ns);
		tree_link(t, rel, ctrl);
	}
	snprintf(rel, sizeof(rel), "%s/nsid", ns);
	snprintf(v, sizeof(v), "%u\n", nsid);
	tree_file(t, rel, v);
	snprintf(rel, sizeof(rel), "sys/class/block/nvme%un%u", c, nsid);
	tree_link(t, rel, ns);
	for (int i = 1; i <= nparts; i++) {
		snprintf(rel, sizeof(rel), "%s/nvme%un%up%d/partition", ns, c, nsid, i);
		snprintf(v, sizeof(v), "%d\n", i);
		tree_file(t, rel, v);
		snprintf(rel, sizeof(rel), "sys/class/block/nvme%un%up%d", c, nsid, i);
		snprintf(v, sizeof(v), "%s/nvme%un%up%d", ns, c, nsid, i);
		tree_link(t, rel, v);
	}
}

/* The fake reader's answer: a vendor area string, or an errno. */
static const char *fake_vs;
static int fake_err;
static unsigned fake_nsid;
static char fake_disk[32];

static int fake_reader(const struct root *r, const char *disk, unsigned nsid, unsigned char *page,
		       size_t len)
{
	(void)r;
	assert_int_equal(len, NVME_IDENTIFY_SIZE);
	snprintf(fake_disk, sizeof(fake_disk), "%s", disk);
	fake_nsid = nsid;
	if (fake_err)
		return -fake_err;
	memset(page, 0, len);
	if (fake_vs)
		memcpy(page + NVME_VS_OFFSET, fake_vs, strlen(fake_vs) + 1);
	return 0;
}

static int identify(const struct tree *t, const char *kname, const char *serial,
		    nvme_page_reader reader, struct azure_disk *d)
{
	struct udev_disk_env env = { .serial_short = serial };
	struct root r;

	assert_int_equal(root_init(&r, t->root), 0);
	return udev_disk_identify(&r, kname, &env, reader, d);
}

static void test_local_models(void **state)
{
	struct azure_disk d;
	struct tree t;
	char *out = NULL;

	(void)state;
	tree_init(&t);
	add_nvme(&t, 0, "0x1414\n", "Microsoft NVMe Direct Disk              \n", 1, 1, false);
	add_nvme(&t, 1, "0x1414\n", "Microsoft NVMe Direct Disk v2\n", 1, 0, false);
	assert_int_equal(identify(&t, "nvme0n1", "0d3a0001", NULL, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=local\nAZURE_DISK_SERIAL=0d3a0001\n");
	free(out);
	assert_int_equal(identify(&t, "nvme0n1p1", NULL, NULL, &d), 1);
	assert_string_equal(d.type, "local");
	assert_string_equal(d.serial, "");
	assert_int_equal(identify(&t, "nvme1n1", "bad serial", NULL, &d), 1);
	assert_string_equal(d.serial, ""); /* not safe for a name: left out */
	tree_free(&t);
}

static void test_remote_models(void **state)
{
	struct azure_disk d;
	struct tree t;
	char *out = NULL;

	(void)state;
	tree_init(&t);
	add_nvme(&t, 0, "0x1414\n", "MSFT NVMe Accelerator v1.0\n", 1, 2, false);
	add_nvme(&t, 1, "0x1414\n", "MSFT NVMe Accelerator v1.0\n", 7, 0, false);
	assert_int_equal(identify(&t, "nvme0n1", NULL, NULL, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=os\nAZL_DISK_REMOTE_NVME=1\n");
	free(out);
	assert_int_equal(identify(&t, "nvme0n1p2", NULL, NULL, &d), 1);
	assert_string_equal(d.type, "os");
	assert_int_equal(identify(&t, "nvme1n7", NULL, NULL, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=5\nAZL_DISK_REMOTE_NVME=1\n");
	free(out);
	/*
	 * A remote controller's serial is shared by all its namespaces: no
	 * by-serial link, which each of them would claim.
	 */
	assert_int_equal(identify(&t, "nvme0n1", "0d3aREMOTE", NULL, &d), 1);
	assert_string_equal(d.serial, "");
	assert_int_equal(identify(&t, "nvme1n7", "0d3aREMOTE", NULL, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=5\nAZL_DISK_REMOTE_NVME=1\n");
	free(out);
	tree_free(&t);
}

static void test_not_microsoft(void **state)
{
	struct azure_disk d;
	struct tree t;

	(void)state;
	tree_init(&t);
	add_nvme(&t, 0, "0x8086\n", "Microsoft NVMe Direct Disk\n", 1, 0, false);
	add_nvme(&t, 1, "0x1414\n", "Some Other Microsoft Device\n", 1, 0, false);
	add_nvme(&t, 2, "junk\n", "MSFT NVMe Accelerator v1.0\n", 1, 0, false);
	fake_err = 0;
	fake_vs = "type=os";
	assert_int_equal(identify(&t, "nvme0n1", NULL, fake_reader, &d), 0);
	assert_int_equal(identify(&t, "nvme1n1", NULL, NULL, &d), 0);
	assert_int_equal(identify(&t, "nvme2n1", NULL, NULL, &d), 0);
	tree_free(&t);
}

static void test_multipath_layout(void **state)
{
	struct azure_disk d;
	struct tree t;

	(void)state;
	tree_init(&t);
	add_nvme(&t, 0, "0x1414\n", "MSFT NVMe Accelerator v1.0\n", 3, 1, true);
	assert_int_equal(identify(&t, "nvme0n3", NULL, NULL, &d), 1);
	assert_string_equal(d.type, "data");
	assert_int_equal(d.lun, 1);
	assert_int_equal(identify(&t, "nvme0n3p1", NULL, NULL, &d), 1);
	assert_int_equal(d.lun, 1);
	tree_free(&t);
}

static void test_vendor_area(void **state)
{
	struct azure_disk d;
	struct tree t;
	char *out = NULL;

	(void)state;
	tree_init(&t);
	add_nvme(&t, 0, "0x1414\n", "Microsoft NVMe Direct Disk v2\n", 1, 1, false);
	add_nvme(&t, 1, "0x1414\n", "MSFT NVMe Accelerator v1.0\n", 4, 0, false);
	fake_err = 0;
	fake_vs = "type=local,index=2,name=nvme-440G-2";
	assert_int_equal(identify(&t, "nvme0n1p1", "SN1", fake_reader, &d), 1);
	assert_string_equal(fake_disk, "nvme0n1"); /* the namespace, not the partition */
	assert_int_equal(fake_nsid, 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=local\nAZURE_DISK_INDEX=2\n"
				 "AZURE_DISK_NAME=nvme-440G-2\nAZURE_DISK_SERIAL=SN1\n");
	free(out);
	/* The area wins over the model; the remote timeout stays the model's. */
	fake_vs = "type=data,lun=9,name=data-db";
	assert_int_equal(identify(&t, "nvme1n4", NULL, fake_reader, &d), 1);
	assert_int_equal(fake_nsid, 4);
	assert_string_equal(d.type, "data");
	assert_int_equal(d.lun, 9);
	assert_string_equal(d.name, "data-db");
	assert_true(d.remote_nvme);
	/* A refused area: the model decides, nothing of the area is kept. */
	fake_vs = "type=data,lun=9,name=../../x";
	assert_int_equal(identify(&t, "nvme1n4", NULL, fake_reader, &d), 1);
	assert_int_equal(d.lun, 2);
	assert_string_equal(d.name, "");
	/* An area without a type: the model's type, the area's index and name. */
	fake_vs = "index=3,name=nvme-440G-3";
	assert_int_equal(identify(&t, "nvme0n1", "SN1", fake_reader, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=local\nAZURE_DISK_INDEX=3\n"
				 "AZURE_DISK_NAME=nvme-440G-3\nAZURE_DISK_SERIAL=SN1\n");
	free(out);
	/* A type without a lun keeps the model's LUN (nsid 4 - 2), and no serial. */
	fake_vs = "type=data,name=data-log";
	assert_int_equal(identify(&t, "nvme1n4", "SN2", fake_reader, &d), 1);
	CAPTURE(azure_disk_print(f_, &d), out);
	assert_string_equal(out, "AZURE_DISK_TYPE=data\nAZURE_DISK_LUN=2\n"
				 "AZURE_DISK_NAME=data-log\nAZL_DISK_REMOTE_NVME=1\n");
	free(out);
	/* A lun without a type replaces the model's LUN. */
	fake_vs = "lun=7";
	assert_int_equal(identify(&t, "nvme1n4", NULL, fake_reader, &d), 1);
	assert_string_equal(d.type, "data");
	assert_int_equal(d.lun, 7);
	/* An empty area. */
	fake_vs = "";
	assert_int_equal(identify(&t, "nvme0n1", NULL, fake_reader, &d), 1);
	assert_string_equal(d.type, "local");
	/* The reader cannot: the model decides. */
	fake_err = EIO;
	assert_int_equal(identify(&t, "nvme1n4", NULL, fake_reader, &d), 1);
	assert_string_equal(d.type, "data");
	assert_int_equal(d.lun, 2);
	fake_err = 0;
	tree_free(&t);
}

static void test_unknown_model_with_area(void **state)
{
	struct azure_disk d;
	struct tree t;

	(void)state;
	tree_init(&t);
	add_nvme(&t, 0, "0x1414\n", "Microsoft NVMe Future Disk\n", 1, 0, false);
	fake_err = 0;
	fake_vs = "type=local,index=1";
	assert_int_equal(identify(&t, "nvme0n1", "SN9", fake_reader, &d), 1);
	assert_string_equal(d.type, "local");
	assert_int_equal(d.index, 1);
	assert_false(d.remote_nvme);
	assert_string_equal(d.serial, ""); /* not a Direct Disk model */
	/* An index alone, no type from the model or the area: nothing. */
	fake_vs = "index=1";
	assert_int_equal(identify(&t, "nvme0n1", NULL, fake_reader, &d), 0);
	fake_vs = "";
	assert_int_equal(identify(&t, "nvme0n1", NULL, fake_reader, &d), 0);
	tree_free(&t);
}

/* The production reader never issues an ioctl on anything but a block device. */
static void test_identify_page_refuses_files(void **state)
{
	unsigned char page[NVME_IDENTIFY_SIZE];
	struct tree t;
	struct root r;

	(void)state;
	tree_init(&t);
	tree_file(&t, "dev/nvme0n1", "not a device\n");
	assert_int_equal(root_init(&r, t.root), 0);
	assert_int_equal(nvme_identify_page(&r, "nvme0n1", 1, page, sizeof(page)), -ENOTBLK);
	assert_int_equal(nvme_identify_page(&r, "nvme9n1", 1, page, sizeof(page)), -ENOENT);
	assert_int_equal(nvme_identify_page(&r, "nvme0n1", 1, page, 100), -EINVAL);
	tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vs_good),
		cmocka_unit_test(test_vs_empty),
		cmocka_unit_test(test_vs_no_nul),
		cmocka_unit_test(test_vs_junk),
		cmocka_unit_test(test_vs_refused_values),
		cmocka_unit_test(test_vs_duplicates),
		cmocka_unit_test(test_kname),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_local_models),
		cmocka_unit_test(test_remote_models),
		cmocka_unit_test(test_not_microsoft),
		cmocka_unit_test(test_multipath_layout),
		cmocka_unit_test(test_vendor_area),
		cmocka_unit_test(test_unknown_model_with_area),
		cmocka_unit_test(test_identify_page_refuses_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
