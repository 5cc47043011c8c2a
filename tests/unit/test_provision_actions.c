// SPDX-License-Identifier: MIT
/*
 * The pure parts of the provisioning actions: validators, drop-in texts,
 * strict base64, the authorized_keys merge, and the resource-disk decision
 * (on the SKU fixtures when AZL_FIXTURES names their directory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "provision_actions_internal.h"
#include "root.h"
#include "udev_tree.h"
#include "util.h"

static void test_hostname(void **state)
{
	char err[256], long_label[80], long_name[300];
	(void)state;

	assert_int_equal(pa_validate_hostname("vm-1", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_hostname("a.b-c.example", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_hostname("9start", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_hostname("", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("-a", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("a-", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("a..b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("a.", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("a_b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("a b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_hostname("a\nb", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "offset 1"));
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_int_equal(pa_validate_hostname(long_label, err, sizeof(err)), -EINVAL);
	long_label[63] = '\0';
	assert_int_equal(pa_validate_hostname(long_label, err, sizeof(err)), 0);
	for (size_t i = 0; i < 254; i++)
		long_name[i] = (i % 50 == 49) ? '.' : 'x';
	long_name[254] = '\0';
	assert_int_equal(pa_validate_hostname(long_name, err, sizeof(err)), -EINVAL);
	long_name[253] = '\0';
	assert_int_equal(pa_validate_hostname(long_name, err, sizeof(err)), 0);
}

static void test_user(void **state)
{
	char err[256];
	(void)state;

	assert_int_equal(pa_validate_user("azureuser", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_user("_svc", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_user("a-b_1", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_user("machine$", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_user("root", err, sizeof(err)), -EPERM);
	assert_int_equal(pa_validate_user("", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("1abc", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("-abc", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("Admin", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("a$b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("a:b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("a b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("a.b", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_user("abcdefghijklmnopqrstuvwxyz012345", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_user("abcdefghijklmnopqrstuvwxyz0123456", err, sizeof(err)),
			 -EINVAL);
}

static void test_password(void **state)
{
	char err[256], pw[80];
	(void)state;

	assert_int_equal(pa_validate_password("x", err, sizeof(err)), 0);
	assert_int_equal(pa_validate_password("", err, sizeof(err)), -EINVAL);
	assert_int_equal(pa_validate_password(NULL, err, sizeof(err)), -EINVAL);
	memset(pw, 'p', 72);
	pw[72] = '\0';
	assert_int_equal(pa_validate_password(pw, err, sizeof(err)), 0);
	pw[72] = 'p';
	pw[73] = '\0';
	assert_int_equal(pa_validate_password(pw, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "pppp")); /* the message never quotes the password */
}

static void test_texts(void **state)
{
	char buf[256], tiny[8];
	(void)state;

	assert_true(pa_sudoers_text("azure", true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nazure ALL=(ALL) NOPASSWD:ALL\n"));
	assert_true(pa_sudoers_text("azure", false, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nazure ALL=(ALL) ALL\n"));
	assert_int_equal(pa_sudoers_text("azure", true, tiny, sizeof(tiny)), -ENOSPC);
	assert_true(pa_sshd_text(true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nPasswordAuthentication yes\n"));
	assert_true(pa_sshd_text(false, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nPasswordAuthentication no\n"));
}

static int b64(const char *in, const char *want)
{
	unsigned char *out = NULL;
	size_t len = 0;
	char err[128];
	int ret = pa_base64_decode(in, strlen(in), &out, &len, err, sizeof(err));

	if (ret == 0) {
		if (!want || len != strlen(want) || memcmp(out, want, len) != 0)
			ret = -1000;
		free(out);
	}
	return ret;
}

static void test_base64(void **state)
{
	(void)state;
	assert_int_equal(b64("", ""), 0);
	assert_int_equal(b64("Zg==", "f"), 0);
	assert_int_equal(b64("Zm8=", "fo"), 0);
	assert_int_equal(b64("Zm9v", "foo"), 0);
	assert_int_equal(b64("Zm9v\r\n YmFy\n", "foobar"), 0);
	assert_int_equal(b64("Zm9vYg==\n", "foob"), 0);
	assert_int_equal(b64("Zm9", NULL), -EBADMSG);       /* truncated */
	assert_int_equal(b64("Zm9v*", NULL), -EBADMSG);     /* bad character */
	assert_int_equal(b64("Zg==Zg==", NULL), -EBADMSG);  /* data after padding */
	assert_int_equal(b64("Z===", NULL), -EBADMSG);      /* too much padding */
	assert_int_equal(b64("Zg=a", NULL), -EBADMSG);
	assert_int_equal(b64("Zm9v-_", NULL), -EBADMSG);    /* base64url is not base64 */
	assert_int_equal(b64("Zg", NULL), -EBADMSG);        /* padding required */
}

static char *merge(const char *old, char *const *keys, size_t n, int *ret)
{
	char *out = NULL, err[128];
	size_t len;

	*ret = pa_keys_merge(old, old ? strlen(old) : 0, keys, n, &out, &len, err, sizeof(err));
	return out;
}

static void test_keys_merge(void **state)
{
	char *k1 = "ssh-ed25519 AAAA1 azure@host", *k2 = "ssh-rsa BBBB2";
	char *keys[] = { k1, k2, "ssh-ed25519 AAAA1 duplicate" };
	char *bad[] = { "ssh-rsa AAAA\nssh-rsa BBBB" };
	char *out, *again;
	int ret;
	(void)state;

	out = merge(NULL, keys, 3, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(out, "ssh-ed25519 AAAA1 azure@host\nssh-rsa BBBB2\n");
	/* idempotent: merging again gives the same text */
	again = merge(out, keys, 3, &ret);
	assert_string_equal(again, out);
	free(again);
	free(out);
	/* the user's own keys and comments are kept; ours present once (options do not matter) */
	out = merge("# mine\nssh-ed25519 USER1 me\nfrom=\"10.0.0.1\" ssh-rsa BBBB2 old\n", keys, 2,
		    &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(out, "# mine\nssh-ed25519 USER1 me\nssh-ed25519 AAAA1 azure@host\n"
				 "ssh-rsa BBBB2\n");
	free(out);
	out = merge("ssh-rsa X", bad, 1, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_null(out);
	out = merge("", NULL, 0, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(out, "");
	free(out);
}

static int count_group(const char *g, void *data)
{
	char *acc = data;

	strcat(acc, "[");
	strcat(acc, g);
	strcat(acc, "]");
	return 0;
}

static void test_groups(void **state)
{
	char acc[128] = "";
	(void)state;

	assert_int_equal(pa_groups_foreach(" wheel, ,sudo ,adm,", count_group, acc), 0);
	assert_string_equal(acc, "[wheel][sudo][adm]");
	acc[0] = '\0';
	assert_int_equal(pa_groups_foreach(NULL, count_group, acc), 0);
	assert_string_equal(acc, "");
}

static struct rdisk_facts scsi(const char *name, const char *ctrl, int lun)
{
	struct rdisk_facts d = { .storvsc = true, .lun = lun };

	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.controller, sizeof(d.controller), "%s", ctrl);
	return d;
}

static struct rdisk_facts nvme(const char *name, const char *model)
{
	struct rdisk_facts d = { .lun = -1 };

	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.nvme_model, sizeof(d.nvme_model), "%s", model);
	return d;
}

#define SCSI0 "f8b3781a-1e82-4818-a1c3-63d806ec15bb"
#define SCSI1 "f8b3781b-1e82-4818-a1c3-63d806ec15bb"

static void test_rdisk_pick(void **state)
{
	struct rdisk_plan p;
	struct rdisk_facts gen2[] = { scsi("sda", SCSI0, 0), scsi("sdc", SCSI1, 1),
				      scsi("sdb", SCSI0, 1) };
	struct rdisk_facts gen1[] = { scsi("sda", "00000000-0000-8899-0000-000000000000", 0),
				      scsi("sdb", "00000000-0001-8899-0000-000000000000", 0) };
	struct rdisk_facts v6[] = { scsi("sda", SCSI0, 0),
				    nvme("nvme0n1", "Microsoft NVMe Direct Disk v2") };
	struct rdisk_facts many[] = { nvme("nvme0n1", "Microsoft NVMe Direct Disk"),
				      nvme("nvme1n1", "Microsoft NVMe Direct Disk") };
	struct rdisk_facts none[] = { scsi("sda", SCSI0, 0), nvme("nvme0n1", "QEMU NVMe Ctrl") };
	(void)state;

	assert_int_equal(rdisk_pick(gen2, 3, &p), 2); /* LUN 1 of controller 0, not of 1 */
	assert_int_equal(rdisk_pick(gen1, 2, &p), 1);
	assert_int_equal(rdisk_pick(v6, 2, &p), 1);
	assert_int_equal(rdisk_pick(many, 2, &p), -ENOENT);
	assert_non_null(strstr(p.reason, "2 NVMe"));
	assert_int_equal(rdisk_pick(none, 2, &p), -ENOENT);
	assert_int_equal(rdisk_pick(NULL, 0, &p), -ENOENT);
}

static void test_rdisk_decide(void **state)
{
	struct rdisk_facts d = scsi("sdb", SCSI0, 1), raw = nvme("nvme0n1", "x");
	struct rdisk_plan p;
	(void)state;

	strcpy(d.part1, "sdb1");
	rdisk_decide(&d, RDISK_FS_NTFS, false, &p);
	assert_int_equal(p.action, RDISK_FORMAT);
	assert_string_equal(p.device, "sdb1");
	rdisk_decide(&d, RDISK_FS_TARGET, false, &p);
	assert_int_equal(p.action, RDISK_MOUNT);
	rdisk_decide(&d, RDISK_FS_OTHER, false, &p);
	assert_int_equal(p.action, RDISK_NOTHING);
	rdisk_decide(&d, RDISK_FS_UNKNOWN, false, &p);
	assert_int_equal(p.action, RDISK_PROBE);
	/* never format what is mounted, whatever it holds */
	rdisk_decide(&d, RDISK_FS_NTFS, true, &p);
	assert_int_equal(p.action, RDISK_NOTHING);
	rdisk_decide(&raw, RDISK_FS_NONE, false, &p);
	assert_int_equal(p.action, RDISK_FORMAT);
	assert_string_equal(p.device, "nvme0n1");
}

/* One SCSI disk kname at h:0:0:lun under a VMBus controller (device_id id, class cls). */
static void add_vmbus_disk(const struct tree *t, const char *id, const char *cls, unsigned h,
			   unsigned lun, const char *kname)
{
	char base[128], sdev[256], disk[320], rel[400];

	snprintf(base, sizeof(base), "sys/devices/VMBUS:00/ctrl%u", h);
	snprintf(rel, sizeof(rel), "%s/device_id", base);
	tree_file(t, rel, id);
	snprintf(rel, sizeof(rel), "%s/class_id", base);
	tree_file(t, rel, cls);
	snprintf(sdev, sizeof(sdev), "%s/host%u/target%u:0:0/%u:0:0:%u", base, h, h, h, lun);
	snprintf(disk, sizeof(disk), "%s/block/%s", sdev, kname);
	snprintf(rel, sizeof(rel), "%s/size", disk);
	tree_file(t, rel, "2048\n");
	snprintf(rel, sizeof(rel), "%s/device", disk);
	tree_link(t, rel, sdev);
	snprintf(rel, sizeof(rel), "sys/class/block/%s", kname);
	tree_link(t, rel, disk);
}

/*
 * rdisk_scan takes the controller and LUN from udev's walk (udev_disk.c):
 * Gen1's disks sit on the IDE controllers (class 32412632-...), whose
 * instance ids ?00000000-000{0,1}-* name the OS and resource disks.
 */
static void test_rdisk_scan_gen1(void **state)
{
	static const char ide[] = "{32412632-86cb-44a2-9b5c-50d1417354f5}\n";
	_cleanup_free_ struct rdisk_facts *disks = NULL;
	struct rdisk_plan p;
	struct tree t;
	struct root r;
	size_t n = 0;
	int want;
	(void)state;

	tree_init(&t);
	add_vmbus_disk(&t, "{00000000-0000-8899-0000-000000000000}\n", ide, 0, 0, "sda");
	add_vmbus_disk(&t, "{00000000-0001-8899-0000-000000000000}\n", ide, 1, 0, "sdb");
	assert_int_equal(root_init(&r, t.root), 0);
	assert_int_equal(rdisk_scan(&r, &disks, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(disks[i].storvsc);
		assert_int_equal(disks[i].lun, 0);
	}
	want = strcmp(disks[0].name, "sdb") == 0 ? 0 : 1; /* readdir order */
	assert_int_equal(rdisk_pick(disks, n, &p), want);
	assert_string_equal(disks[p.index].controller, "00000000-0001-8899-0000-000000000000");
	assert_non_null(strstr(p.reason, "sdb: storvsc 00000000-0001-8899-0000-000000000000 LUN 0"));
	tree_free(&t);
}

/* The fixtures (tests/fixtures/gen-fixtures.sh): sdb is the resource disk on every Hyper-V one. */
static void test_rdisk_fixtures(void **state)
{
	static const struct {
		const char *name;
		int found;
	} cases[] = {
		{ "d2s-v5", 1 }, { "d64ds-v5-mlx5", 1 }, { "d64ds-v5-mana", 1 },
		{ "nd96isr-h200-v5", 1 }, { "not-hyperv", 0 },
	};
	const char *dir = getenv("AZL_FIXTURES");
	struct agent_config cfg;
	(void)state;

	if (!dir) {
		skip();
		return;
	}
	config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512];
		struct root r;
		struct rdisk_plan p;
		int ret;

		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].name);
		assert_int_equal(root_init(&r, path), 0);
		ret = resource_disk_plan(&r, &cfg, &p);
		if (!cases[i].found) {
			assert_int_equal(ret, -ENOENT);
			continue;
		}
		assert_int_equal(ret, 0);
		assert_string_equal(p.device, "sdb");
		assert_int_equal(p.action, RDISK_PROBE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostname),    cmocka_unit_test(test_user),
		cmocka_unit_test(test_password),    cmocka_unit_test(test_texts),
		cmocka_unit_test(test_base64),      cmocka_unit_test(test_keys_merge),
		cmocka_unit_test(test_groups),      cmocka_unit_test(test_rdisk_pick),
		cmocka_unit_test(test_rdisk_decide), cmocka_unit_test(test_rdisk_fixtures),
		cmocka_unit_test(test_rdisk_scan_gen1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
