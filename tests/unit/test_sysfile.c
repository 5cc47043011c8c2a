// SPDX-License-Identifier: MIT
/* The root prefix and the defensive file readers. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_paths),
		cmocka_unit_test_setup_teardown(test_read_text, setup, teardown),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_unsigned),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test_setup_teardown(test_list_dir_version_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links, setup, teardown),
	};

	return cmocka_run_group_tests_name("sysfile", tests, NULL, NULL);
}
