// SPDX-License-Identifier: MIT
/* The root prefix and the defensive file readers, by path and through open directories. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "root.h"
#include "sysfile.h"

struct tree {
	char dir[64];
	struct root root;
};

static void put(const struct tree *t, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX], cmd[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	snprintf(cmd, sizeof(cmd), "%s", path);
	*strrchr(cmd, '/') = '\0';
	for (char *p = cmd + strlen(t->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(cmd, 0755);
		*p = '/';
	}
	mkdir(cmd, 0755);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/azl-sysfile-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	if (root_init(&t->root, t->dir) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_root_paths(void **state)
{
	struct root r;
	char buf[64];

	(void)state;
	assert_int_equal(root_init(&r, "/"), 0);
	assert_true(root_is_live(&r));
	assert_int_equal(root_path(&r, ROOT_SYS, buf, sizeof(buf), "bus/%s", "vmbus"), 0);
	assert_string_equal(buf, "/sys/bus/vmbus");
	assert_int_equal(root_init(&r, "/x/fixture//"), 0);
	assert_false(root_is_live(&r));
	assert_int_equal(root_path(&r, ROOT_VAR, buf, sizeof(buf), "lib/hyperv"), 0);
	assert_string_equal(buf, "/x/fixture/var/lib/hyperv");
	assert_int_equal(root_path(&r, ROOT_PROC, buf, sizeof(buf), "%s", ""), 0);
	assert_string_equal(buf, "/x/fixture/proc");
	assert_int_equal(root_path(&r, ROOT_SYS, buf, 12, "bus/vmbus"), -ENAMETOOLONG);
	setenv("AZL_ROOT", "/from/env", 1);
	assert_int_equal(root_init(&r, NULL), 0);
	assert_string_equal(root_name(&r), "/from/env");
	unsetenv("AZL_ROOT");
	assert_int_equal(root_init(&r, NULL), 0);
	assert_string_equal(root_name(&r), "/");
}

static void test_read_text(void **state)
{
	struct tree *t = *state;
	char buf[16];
	long v;

	put(t, "sys/a", "Microsoft\n", 10);
	assert_int_equal(root_read_text(&t->root, ROOT_SYS, buf, sizeof(buf), "a"), 9);
	assert_string_equal(buf, "Microsoft");
	/* Exactly one byte too long for the buffer is an error, never a cut. */
	put(t, "sys/long", "0123456789abcdef", 16);
	assert_int_equal(root_read_text(&t->root, ROOT_SYS, buf, sizeof(buf), "long"), -EFBIG);
	put(t, "sys/fits", "0123456789abcde", 15);
	assert_int_equal(root_read_text(&t->root, ROOT_SYS, buf, sizeof(buf), "fits"), 15);
	put(t, "sys/nul", "ab\0cd", 5);
	assert_int_equal(root_read_text(&t->root, ROOT_SYS, buf, sizeof(buf), "nul"), -EBADMSG);
	put(t, "sys/empty", "", 0);
	assert_int_equal(root_read_text(&t->root, ROOT_SYS, buf, sizeof(buf), "empty"), 0);
	assert_int_equal(root_read_text(&t->root, ROOT_SYS, buf, sizeof(buf), "missing"), -ENOENT);
	put(t, "sys/n", "0x10de\n", 7);
	assert_int_equal(root_read_long(&t->root, ROOT_SYS, &v, "n"), 0);
	assert_int_equal(v, 0x10de);
	put(t, "sys/bad", "12abc\n", 6);
	assert_int_equal(root_read_long(&t->root, ROOT_SYS, &v, "bad"), -EINVAL);
}

static void test_parse_long(void **state)
{
	long v;

	(void)state;
	assert_int_equal(parse_long("-1", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(parse_long("", &v), -EINVAL);
	assert_int_equal(parse_long(" 1", &v), -EINVAL);
	assert_int_equal(parse_long("1 ", &v), -EINVAL);
	assert_int_equal(parse_long("99999999999999999999999", &v), -ERANGE);
}

static void test_parse_unsigned(void **state)
{
	unsigned long long v;

	(void)state;
	assert_int_equal(parse_unsigned("300", 3600, &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(parse_unsigned("0x10", 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_unsigned("010", 100, &v), 0); /* never octal */
	assert_int_equal(v, 10);
	assert_int_equal(parse_unsigned("18446744073709551615", UINT64_MAX, &v), 0);
	assert_int_equal(parse_unsigned("3601", 3600, &v), -ERANGE);
	assert_int_equal(parse_unsigned("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_unsigned("-1", 100, &v), -EINVAL);
	assert_int_equal(parse_unsigned(" 5", 100, &v), -EINVAL);
	assert_int_equal(parse_unsigned("5 ", 100, &v), -EINVAL);
	assert_int_equal(parse_unsigned("0x", 100, &v), -EINVAL);
	assert_int_equal(parse_unsigned("", 100, &v), -EINVAL);
	assert_int_equal(parse_unsigned(NULL, 100, &v), -EINVAL);
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES", "On", "True" };
	static const char *const no[] = { "no", "false", "off", "0", "NO", "Off", "fAlSe" };
	static const char *const bad[] = { "", "maybe", "2", "y", "n", " on", "on ", "01",
					   "offf", "enable" };
	bool v;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = false;
		assert_int_equal(parse_bool(yes[i], &v), 0);
		assert_true(v);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = true;
		assert_int_equal(parse_bool(no[i], &v), 0);
		assert_false(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = true;
		assert_int_equal(parse_bool(bad[i], &v), -EINVAL);
		assert_true(v);	/* left alone */
	}
	assert_int_equal(parse_bool(NULL, &v), -EINVAL);
}

static void test_list_dir_version_order(void **state)
{
	struct tree *t = *state;
	char **names;
	size_t n;

	put(t, "sys/nodes/node10", "", 0);
	put(t, "sys/nodes/node2", "", 0);
	put(t, "sys/nodes/node1", "", 0);
	assert_int_equal(root_list_dir(&t->root, ROOT_SYS, &names, &n, "nodes"), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "node1");
	assert_string_equal(names[1], "node2");
	assert_string_equal(names[2], "node10");
	strv_free(names, n);
	assert_int_equal(root_list_dir(&t->root, ROOT_SYS, &names, &n, "none"), -ENOENT);
	assert_null(names);
}

static void test_links(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX], buf[32];

	put(t, "sys/drivers/hv_netvsc/x", "", 0);
	snprintf(path, sizeof(path), "%s/sys/driver", t->dir);
	assert_int_equal(symlink("drivers/hv_netvsc/", path), 0);
	assert_int_equal(root_read_link_name(&t->root, ROOT_SYS, buf, sizeof(buf), "driver"), 0);
	assert_string_equal(buf, "hv_netvsc");
	assert_int_equal(root_read_link(&t->root, ROOT_SYS, buf, sizeof(buf), "driver"), 0);
	assert_string_equal(buf, "drivers/hv_netvsc/");
	assert_int_equal(root_read_link_name(&t->root, ROOT_SYS, buf, 4, "driver"), -ENAMETOOLONG);
	assert_true(root_exists(&t->root, ROOT_SYS, "driver/x"));
	assert_false(root_exists(&t->root, ROOT_SYS, "driver/y"));
}

static void test_resolve_under(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX], link[PATH_MAX], real[PATH_MAX];
	int len;

	put(t, "sys/devices/a/cpu", "1\n", 2);
	snprintf(link, sizeof(link), "%s/sys/bus", t->dir);
	assert_int_equal(symlink("devices", link), 0);
	snprintf(link, sizeof(link), "%s/sys/out", t->dir);
	assert_int_equal(symlink("/", link), 0);
	snprintf(path, sizeof(path), "%s/sys/bus/a", t->dir);
	len = resolve_under(t->dir, path, real);
	assert_true(len > 0);
	assert_string_equal(real + len, "/sys/devices/a"); /* a link inside: fine */
	assert_int_equal(resolve_under(t->dir, t->dir, real), len); /* top itself */
	snprintf(path, sizeof(path), "%s/sys/out/tmp", t->dir);
	assert_int_equal(resolve_under(t->dir, path, real), -EXDEV); /* out through a link */
	snprintf(path, sizeof(path), "%s/sys/../..", t->dir);
	assert_int_equal(resolve_under(t->dir, path, real), -EXDEV);
	snprintf(path, sizeof(path), "%s/sys/nothing", t->dir);
	assert_int_equal(resolve_under(t->dir, path, real), -ENOENT);
	assert_int_equal(resolve_under("/", "/tmp", real), 0); /* under "/": all */
}

static void test_read_line(void **state)
{
	static const char text[] = "one\n\nthree-without-newline";
	char *buf = NULL, nul[] = "a\0b\n", big[64];
	size_t cap = 0, len;
	FILE *f;

	(void)state;
	f = fmemopen((void *)text, sizeof(text) - 1, "r");
	assert_int_equal(read_line(f, &buf, &cap, 100, &len), 1);
	assert_string_equal(buf, "one");
	assert_int_equal(read_line(f, &buf, &cap, 100, &len), 1);
	assert_int_equal(len, 0); /* an empty line is a line, not the end */
	assert_int_equal(read_line(f, &buf, &cap, 100, &len), 1);
	assert_string_equal(buf, "three-without-newline");
	assert_int_equal(read_line(f, &buf, &cap, 100, &len), 0);
	fclose(f);

	f = fmemopen(nul, sizeof(nul) - 1, "r");
	assert_int_equal(read_line(f, &buf, &cap, 100, &len), -EBADMSG);
	fclose(f);

	memset(big, 'x', sizeof(big));
	f = fmemopen(big, sizeof(big), "r");
	assert_int_equal(read_line(f, &buf, &cap, 63, &len), -EFBIG);
	fclose(f);
	free(buf);
	buf = NULL;
	cap = 0; /* a fresh buffer never grows past max + 2 */
	f = fmemopen(big, sizeof(big), "r");
	assert_int_equal(read_line(f, &buf, &cap, 64, &len), 1);
	assert_int_equal(len, 64);
	assert_true(cap <= 66);
	fclose(f);
	free(buf);
}

/* The line reader's bounds, where a line meets the buffer's chunks. */
static void test_read_line_bounds(void **state)
{
	char *buf = NULL, text[2100];
	size_t cap = 0, len;
	FILE *f;

	(void)state;
	/* A line longer than the first buffer grows it; the next one reuses it. */
	memset(text, 'y', 1000);
	text[1000] = '\n';
	memcpy(text + 1001, "tail\n", 5);
	f = fmemopen(text, 1006, "r");
	assert_int_equal(read_line(f, &buf, &cap, 2000, &len), 1);
	assert_int_equal(len, 1000);
	assert_int_equal(strspn(buf, "y"), 1000);
	assert_int_equal(read_line(f, &buf, &cap, 2000, &len), 1);
	assert_string_equal(buf, "tail");
	assert_int_equal(read_line(f, &buf, &cap, 2000, &len), 0);
	fclose(f);

	/* A buffer grown for a larger max does not let a longer line through. */
	f = fmemopen(text, 1006, "r");
	assert_int_equal(read_line(f, &buf, &cap, 999, &len), -EFBIG);
	fclose(f);
	f = fmemopen(text, 1006, "r");
	assert_int_equal(read_line(f, &buf, &cap, 1000, &len), 1);
	assert_int_equal(len, 1000);
	fclose(f);

	/* A NUL anywhere up to the bound is found, the last byte before EOF too. */
	memset(text, 'z', 300);
	text[299] = '\0';
	f = fmemopen(text, 300, "r");
	assert_int_equal(read_line(f, &buf, &cap, 299, &len), -EBADMSG);
	fclose(f);
	f = fmemopen(text, 300, "r");
	assert_int_equal(read_line(f, &buf, &cap, 298, &len), -EFBIG);
	fclose(f);
	text[299] = 'z';
	text[100] = '\0';
	text[200] = '\n';
	f = fmemopen(text, 300, "r");
	assert_int_equal(read_line(f, &buf, &cap, 1000, &len), -EBADMSG);
	fclose(f);
	free(buf);
}

/* ---- reading through an open directory ---------------------------------- */

static void test_dir_read(void **state)
{
	struct tree *t = *state;
	struct sys_dir h = SYS_DIR_INIT, sub = SYS_DIR_INIT;
	char path[PATH_MAX], buf[16], *all;
	size_t n;
	long v;

	put(t, "sys/devices/pci0/0001:00:00.0/vendor", "0x15b3\n", 7);
	put(t, "sys/devices/pci0/0001:00:00.0/name", "mlx5  \n", 7);
	put(t, "sys/devices/pci0/0001:00:00.0/map", "1:2\n3:4\n", 8);
	put(t, "sys/bus/pci/devices/x", "", 0);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0001:00:00.0", t->dir);
	assert_int_equal(symlink("../../../devices/pci0/0001:00:00.0", path), 0);

	assert_int_equal(sys_dir_open(&t->root, ROOT_SYS, &h, "bus/%s/devices", "pci"), 0);
	assert_string_equal(h.rel, "bus/pci/devices");
	assert_int_equal(h.d, ROOT_SYS);
	/* A device's directory through its bus symlink. */
	assert_int_equal(sys_dir_open_sub(&h, "0001:00:00.0", &sub), 0);
	assert_string_equal(sub.rel, "bus/pci/devices/0001:00:00.0");
	assert_int_equal(sys_dir_read_long(&sub, "vendor", &v), 0);
	assert_int_equal(v, 0x15b3);
	assert_int_equal(sys_dir_read_text(&sub, "name", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "mlx5");
	assert_int_equal(sys_dir_read_all(&sub, "map", &all, &n), 0);
	assert_int_equal(n, 8);
	assert_string_equal(all, "1:2\n3:4\n");
	free(all);
	/* The same file by a longer way: a name may hold slashes. */
	assert_int_equal(sys_dir_read_long(&h, "0001:00:00.0/vendor", &v), 0);
	assert_int_equal(sys_dir_read_text(&sub, "missing", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(sys_dir_read_long(&sub, "name", &v), -EINVAL);
	sys_dir_close(&sub);
	assert_int_equal(sub.fd, -1);
	sys_dir_close(&sub); /* twice is harmless */

	/* A failed open still names the directory, for the message. */
	assert_int_equal(sys_dir_open_sub(&h, "0002:00:00.0", &sub), -ENOENT);
	assert_string_equal(sub.rel, "bus/pci/devices/0002:00:00.0");
	assert_int_equal(sub.fd, -1);
	assert_int_equal(sys_dir_open_sub(&h, "x", &sub), -ENOTDIR);
	sys_dir_close(&h);
	assert_int_equal(sys_dir_open(&t->root, ROOT_PROC, &h, "irq"), -ENOENT);
	assert_int_equal(h.d, ROOT_PROC);
	assert_string_equal(h.rel, "irq");
	assert_int_equal(h.fd, -1);
	memset(path, 'a', 300);
	path[300] = '\0';
	assert_int_equal(sys_dir_open(&t->root, ROOT_SYS, &h, "%s", path), -ENAMETOOLONG);
	assert_int_equal(h.fd, -1);
}

/* The checks of read_text(), through a directory handle. */
static void test_dir_read_hostile(void **state)
{
	struct tree *t = *state;
	struct sys_dir h = SYS_DIR_INIT;
	char path[PATH_MAX], buf[16], *all = NULL;
	size_t n;

	put(t, "proc/irq/24/smp_affinity_list", "0-3\n", 4);
	put(t, "proc/irq/24/long", "0123456789abcdef", 16);
	put(t, "proc/irq/24/fits", "0123456789abcde", 15);
	put(t, "proc/irq/24/nul", "1\0" "2", 3);
	snprintf(path, sizeof(path), "%s/proc/irq/24/fifo", t->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(sys_dir_open(&t->root, ROOT_PROC, &h, "irq"), 0);

	assert_int_equal(sys_dir_read_text(&h, "24/smp_affinity_list", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "0-3");
	assert_int_equal(sys_dir_read_text(&h, "24/long", buf, sizeof(buf)), -EFBIG);
	assert_int_equal(sys_dir_read_text(&h, "24/fits", buf, sizeof(buf)), 15);
	assert_int_equal(sys_dir_read_text(&h, "24/nul", buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(sys_dir_read_all(&h, "24/nul", &all, &n), -EBADMSG);
	assert_null(all);
	/* A FIFO where an attribute should be: refused, not waited on. */
	assert_int_equal(sys_dir_read_text(&h, "24/fifo", buf, sizeof(buf)), -EBADFD);
	assert_int_equal(sys_dir_read_all(&h, "24/fifo", &all, &n), -EBADFD);
	assert_int_equal(sys_dir_read_text(&h, "24", buf, sizeof(buf)), -EISDIR);
	/* A device node is looked at, never opened (as root only: mknod). */
	snprintf(path, sizeof(path), "%s/proc/irq/24/null", t->dir);
	if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0)
		assert_int_equal(sys_dir_read_text(&h, "24/null", buf, sizeof(buf)), -EBADFD);
	else
		print_message("mknod: %s: device node case skipped\n", strerror(errno));
	/* The path readers keep the same rules: they share the checks. */
	assert_int_equal(root_read_text(&t->root, ROOT_PROC, buf, sizeof(buf), "irq/24/fifo"),
			 -EBADFD);
	assert_int_equal(root_read_text(&t->root, ROOT_PROC, buf, sizeof(buf), "irq/24"),
			 -EISDIR);
	errno = 0;
	assert_null(root_fopen(&t->root, ROOT_PROC, "irq/24/fifo"));
	assert_int_equal(errno, EBADFD);
	sys_dir_close(&h);
}

static int count_entry(const char *entry, void *userdata)
{
	size_t *n = userdata;

	if (strcmp(entry, "stop") == 0)
		return -ECANCELED;
	++*n;
	return 0;
}

static void test_dir_list(void **state)
{
	struct tree *t = *state;
	struct sys_dir h = SYS_DIR_INIT;
	char path[PATH_MAX], buf[32], **names;
	size_t n = 0;

	put(t, "sys/bus/vmbus/devices/dev/channels/15/cpu", "3\n", 2);
	put(t, "sys/bus/vmbus/devices/dev/channels/9/cpu", "1\n", 2);
	put(t, "sys/bus/vmbus/devices/dev/channels/100/cpu", "2\n", 2);
	put(t, "sys/drivers/hv_netvsc/x", "", 0);
	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/dev/driver", t->dir);
	assert_int_equal(symlink("../../../../drivers/hv_netvsc/", path), 0);
	assert_int_equal(sys_dir_open(&t->root, ROOT_SYS, &h, "bus/vmbus/devices/dev"), 0);

	assert_int_equal(sys_dir_list(&h, "channels", &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "9");
	assert_string_equal(names[1], "15");
	assert_string_equal(names[2], "100");
	strv_free(names, n);
	assert_int_equal(sys_dir_list(&h, ".", &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "channels");
	assert_string_equal(names[1], "driver");
	strv_free(names, n);
	assert_int_equal(sys_dir_list(&h, "net", &names, &n), -ENOENT);
	assert_null(names);
	assert_int_equal(n, 0);
	assert_int_equal(sys_dir_list(&h, "channels/9/cpu", &names, &n), -ENOTDIR);

	n = 0;
	assert_int_equal(sys_dir_each(&h, "channels", count_entry, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(sys_dir_each(&h, "net", count_entry, &n), -ENOENT);
	put(t, "sys/bus/vmbus/devices/dev/channels/stop", "", 0);
	assert_int_equal(sys_dir_each(&h, "channels", count_entry, &n), -ECANCELED);

	assert_int_equal(sys_dir_read_link_name(&h, "driver", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hv_netvsc");
	assert_int_equal(sys_dir_read_link(&h, "driver", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "../../../../drivers/hv_netvsc/");
	assert_int_equal(sys_dir_read_link(&h, "driver", buf, 8), -ENAMETOOLONG);
	assert_int_equal(sys_dir_read_link_name(&h, "driver", buf, 4), -ENAMETOOLONG);
	assert_int_equal(sys_dir_read_link_name(&h, "channels", buf, sizeof(buf)), -EINVAL);
	sys_dir_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_paths),
		cmocka_unit_test_setup_teardown(test_read_text, setup, teardown),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_unsigned),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_read_line_bounds),
		cmocka_unit_test_setup_teardown(test_list_dir_version_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_under, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_read_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_list, setup, teardown),
	};

	return cmocka_run_group_tests_name("sysfile", tests, NULL, NULL);
}
