// SPDX-License-Identifier: MIT
/*
 * The provisioning actions (provision_actions.h): host name, the
 * administrator, sudoers, password, authorized_keys, the sshd drop-in,
 * CustomData and SELinux labels.  Each is idempotent: a re-run after a
 * crash at any point finishes the job and changes nothing that is already
 * right.  Accounts are changed only through the shadow tools (`--root`),
 * which know the locking and the file formats.
 *
 * Which accounts may be provisioned: a name by the portable rules
 * (pa_validate_user), never root, and never an existing account below
 * UID 1000 (a system account must not get sudo, keys or a password because
 * the platform named it).
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <selinux/restorecon.h>
#include <selinux/selinux.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "provision_actions.h"
#include "provision_actions_internal.h"
#include "sysfile.h"
#include "util.h"

#define LOGIN_UID_MIN 1000u  /* defaults of login.defs */
#define LOGIN_UID_MAX 60000u
#define NOBODY_UID 65534u

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

struct account {
	uid_t uid;
	gid_t gid;
	char home[PATH_MAX];
};

/* The user's entry in <root>/etc/passwd: 0, -ENOENT, or -errno. */
static int lookup_user(const struct root *r, const char *user, struct account *a)
{
	_cleanup_(fclosep) FILE *f = root_fopen(r, ROOT_ETC, "passwd");
	struct passwd *pw;

	if (!f)
		return -errno;
	while ((pw = fgetpwent(f)))
		if (strcmp(pw->pw_name, user) == 0) {
			a->uid = pw->pw_uid;
			a->gid = pw->pw_gid;
			if (snprintf(a->home, sizeof(a->home), "%s", pw->pw_dir) >= (int)sizeof(a->home))
				return -ENAMETOOLONG;
			return 0;
		}
	return -ENOENT;
}

/* UID_MIN or UID_MAX from the root's login.defs; def when absent or odd. */
static unsigned login_defs_uid(const struct root *r, const char *name, unsigned def)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, n, len = strlen(name);
	unsigned long long v;
	unsigned ret = def;
	FILE *f = root_fopen(r, ROOT_ETC, "login.defs");

	if (!f)
		return def;
	while (read_line(f, &line, &cap, 4096, &n) > 0) {
		char *p = line + strspn(line, " \t");

		if (strncmp(p, name, len) != 0 || (p[len] != ' ' && p[len] != '\t'))
			continue;
		p += len + strspn(p + len, " \t");
		p[strcspn(p, " \t#")] = '\0';
		if (parse_unsigned(p, 0xfffffffeull, &v) == 0)
			ret = (unsigned)v;
	}
	fclose(f);
	return ret;
}

/*
 * Accounts provisioning may create, change or remove: login users in
 * login.defs' UID_MIN..UID_MAX, never a system account and never nobody
 * (65534, which daemons run as: giving it sudo would give them root).
 */
static bool login_uid(const struct root *r, unsigned uid)
{
	return uid >= login_defs_uid(r, "UID_MIN", LOGIN_UID_MIN) &&
	       uid <= login_defs_uid(r, "UID_MAX", LOGIN_UID_MAX) && uid != NOBODY_UID;
}

/* An existing account we may give keys or a password: a login user, not a system one. */
static int lookup_login_user(const struct root *r, const char *user, struct account *a,
			     char *err, size_t errlen)
{
	int ret = lookup_user(r, user, a);

	if (ret == -ENOENT)
		return pa_fail(ret, err, errlen, "user %s does not exist in %s/etc/passwd", user,
			       r->dir);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "reading %s/etc/passwd: %s", r->dir, strerror(-ret));
	if (!login_uid(r, a->uid))
		return pa_fail(-EPERM, err, errlen,
			       "user %s (uid %u) is not a login account of login.defs' range: refused",
			       user, (unsigned)a->uid);
	return 0;
}

static int tool_argv_root(const struct root *r, const char **argv, size_t *n)
{
	/* the live root needs no --root: the tools then work on the running system */
	if (!root_is_live(r)) {
		argv[(*n)++] = "--root";
		argv[(*n)++] = r->dir;
	}
	return 0;
}

static int run_tool(const char *name, const char **argv, const char *input, size_t inlen,
		    char *err, size_t errlen)
{
	char path[64];
	int ret;

	ret = pa_find_tool(name, path, sizeof(path));
	if (ret < 0)
		return pa_fail(ret, err, errlen, "%s is not installed", name);
	argv[0] = path;
	ret = pa_run(argv, input, inlen, err, errlen);
	if (ret > 0)
		return -EIO; /* err says how it failed */
	return ret;
}

/* ---- host name ---- */

int action_set_hostname(const struct root *r, const char *hostname, char *err, size_t errlen)
{
	char path[PATH_MAX], text[PA_HOSTNAME_MAX + 2];
	int ret;

	ret = pa_validate_hostname(hostname, err, errlen);
	if (ret < 0)
		return ret;
	if (strlen(hostname) > PA_KERNEL_HOSTNAME_MAX)
		return pa_fail(-EINVAL, err, errlen,
			       "the host name is longer than the kernel's %d characters",
			       PA_KERNEL_HOSTNAME_MAX);
	if (root_is_live(r)) {
		char why[256] = "";

		if (pa_hostnamed_set(hostname, why, sizeof(why)) == 0)
			return 0;
		log_info("provision: hostnamed not reachable (%s): writing the host name file", why);
	}
	ret = root_path(r, ROOT_ETC, path, sizeof(path), "hostname");
	if (ret < 0)
		return pa_fail(ret, err, errlen, "the root prefix is too long");
	snprintf(text, sizeof(text), "%s\n", hostname);
	if (!file_is(path, text, strlen(text), 0644)) {
		ret = write_file_atomic_owned(path, text, strlen(text), 0644, (uid_t)-1, (gid_t)-1);
		if (ret < 0)
			return pa_fail(ret, err, errlen, "writing %s: %s", path, strerror(-ret));
	}
	if (root_is_live(r) && sethostname(hostname, strlen(hostname)) < 0)
		return pa_fail(-errno, err, errlen, "sethostname: %s", strerror(errno));
	return 0;
}

/* ---- the user and its groups ---- */

struct group_scan {
	const struct root *r;
	const char *user;
	char list[512];   /* comma-separated groups to pass */
	bool missing_ok;  /* only groups the user is not yet in */
	int error;
};

/* 1 when group exists (2 when user is already a member), 0 when not, -errno. */
static int group_state(const struct root *r, const char *group, const char *user)
{
	_cleanup_(fclosep) FILE *f = root_fopen(r, ROOT_ETC, "group");
	struct group *g;

	if (!f)
		return -errno;
	while ((g = fgetgrent(f))) {
		if (strcmp(g->gr_name, group) != 0)
			continue;
		for (char **m = g->gr_mem; m && *m; m++)
			if (strcmp(*m, user) == 0)
				return 2;
		return 1;
	}
	return 0;
}

static int collect_group(const char *group, void *data)
{
	struct group_scan *s = data;
	size_t len = strlen(s->list);
	int st;

	st = group_state(s->r, group, s->user);
	if (st < 0)
		return st;
	if (st == 0) {
		log_warning("provision: group %s does not exist in %s/etc/group: skipped", group,
			    s->r->dir);
		return 0;
	}
	if (st == 2 && s->missing_ok)
		return 0;
	if (len + strlen(group) + 2 > sizeof(s->list))
		return -ENAMETOOLONG;
	snprintf(s->list + len, sizeof(s->list) - len, "%s%s", len ? "," : "", group);
	return 0;
}

int action_ensure_user(const struct root *r, const char *user, const char *groups_csv,
		       char *err, size_t errlen)
{
	struct group_scan scan = { .r = r, .user = user };
	struct account a;
	const char *argv[16];
	size_t n = 1;
	int ret;

	ret = pa_validate_user(user, err, errlen);
	if (ret < 0)
		return ret;
	ret = lookup_user(r, user, &a);
	if (ret < 0 && ret != -ENOENT)
		return pa_fail(ret, err, errlen, "reading %s/etc/passwd: %s", r->dir, strerror(-ret));
	if (ret == 0 && !login_uid(r, a.uid))
		return pa_fail(-EPERM, err, errlen,
			       "user %s exists as a system account (uid %u): refused", user,
			       (unsigned)a.uid);
	scan.missing_ok = ret == 0;
	ret = pa_groups_foreach(groups_csv, collect_group, &scan);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "groups %s: %s", groups_csv, strerror(-ret));
	if (scan.missing_ok && !scan.list[0])
		return 0; /* exists, in every group: nothing to do */
	tool_argv_root(r, argv, &n);
	if (scan.missing_ok) {
		argv[n++] = "-aG";
		argv[n++] = scan.list;
		argv[n++] = user;
		argv[n] = NULL;
		return run_tool("usermod", argv, NULL, 0, err, errlen);
	}
	argv[n++] = "-m";
	argv[n++] = "-s";
	argv[n++] = "/bin/bash";
	if (scan.list[0]) {
		argv[n++] = "-G";
		argv[n++] = scan.list;
	}
	argv[n++] = user;
	argv[n] = NULL;
	return run_tool("useradd", argv, NULL, 0, err, errlen);
}

/*
 * Deprovisioning: the administrator, its home and its sudoers drop-in.
 * Only accounts provisioning could have made (uid >= 1000) are removed.
 */
int action_remove_user(const struct root *r, const char *user, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct account a;
	const char *argv[8];
	size_t n = 1;
	int ret;

	ret = pa_validate_user(user, err, errlen);
	if (ret < 0)
		return ret;
	ret = lookup_user(r, user, &a);
	if (ret == -ENOENT)
		return pa_fail(ret, err, errlen, "no user %s", user);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "reading %s/etc/passwd: %s", r->dir, strerror(-ret));
	if (!login_uid(r, a.uid))
		return pa_fail(-EPERM, err, errlen, "user %s (uid %u) is not a login account: refused",
			       user, (unsigned)a.uid);
	tool_argv_root(r, argv, &n);
	argv[n++] = "-r";
	argv[n++] = user;
	argv[n] = NULL;
	ret = run_tool("userdel", argv, NULL, 0, err, errlen);
	if (ret < 0)
		return ret;
	if (root_path(r, ROOT_ETC, path, sizeof(path), "sudoers.d/azl-agent-%s", user) == 0 &&
	    unlink(path) < 0 && errno != ENOENT)
		return pa_fail(-errno, err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

/* ---- sudoers ---- */

int action_sudoers(const struct root *r, const char *user, bool nopasswd, char *err,
		   size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], text[256];
	const char *argv[] = { NULL, "-cf", tmp, NULL };
	struct account a;
	int len, ret;

	/* Only a login account gets sudo: never a system account or nobody. */
	ret = pa_validate_user(user, err, errlen);
	if (ret == 0)
		ret = lookup_login_user(r, user, &a, err, errlen);
	if (ret < 0)
		return ret;
	len = pa_sudoers_text(user, nopasswd, text, sizeof(text));
	if (len < 0)
		return pa_fail(len, err, errlen, "sudoers text too long");
	if (root_path(r, ROOT_ETC, dir, sizeof(dir), "sudoers.d") < 0 ||
	    root_path(r, ROOT_ETC, path, sizeof(path), "sudoers.d/azl-agent-%s", user) < 0)
		return pa_fail(-ENAMETOOLONG, err, errlen, "the root prefix is too long");
	if (file_is(path, text, (size_t)len, 0440))
		return 0;
	ret = mkdir_p(dir, 0750);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "creating %s: %s", dir, strerror(-ret));
	/* the temp name has a '.', which sudo's includedir ignores while it exists */
	ret = write_temp_beside(path, text, (size_t)len, 0440, 0, 0, tmp);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "writing %s: %s", path, strerror(-ret));
	ret = run_tool("visudo", argv, NULL, 0, err, errlen);
	if (ret < 0) {
		unlink(tmp);
		return ret;
	}
	ret = install_temp(tmp, path);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "installing %s: %s", path, strerror(-ret));
	return 0;
}

/* ---- password ---- */

/* The user's current hash in <root>/etc/shadow, to skip re-setting the same password. */
static int current_hash(const struct root *r, const char *user, char *buf, size_t len)
{
	_cleanup_(fclosep) FILE *f = root_fopen(r, ROOT_ETC, "shadow");
	struct spwd *sp;

	if (!f)
		return -errno;
	while ((sp = fgetspent(f)))
		if (strcmp(sp->sp_namp, user) == 0) {
			int n = snprintf(buf, len, "%s", sp->sp_pwdp ? sp->sp_pwdp : "");

			explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp ? sp->sp_pwdp : ""));
			return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
		}
	return -ENOENT;
}

/* True when hash already is a hash of password (a re-run changes nothing). */
static bool hash_matches(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	bool same = false;

	if (!cd)
		return false;
	if (hash[0] == '$') {
		const char *h = crypt_r(password, hash, cd);

		same = h && h[0] != '*' && strcmp(h, hash) == 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return same;
}

/* yescrypt where libxcrypt has it (Fedora and Debian default), else SHA-512. */
static int hash_password(const char *password, char *out, size_t len)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *prefixes[] = { "$y$", "$6$" };
	int ret = -ENOTSUP;

	if (!cd)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(prefixes) && ret < 0; i++) {
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		const char *h;

		if (!crypt_gensalt_rn(prefixes[i], 0, NULL, 0, salt, sizeof(salt)))
			continue;
		h = crypt_r(password, salt, cd);
		if (!h || h[0] == '*' || strlen(h) >= len)
			continue;
		memcpy(out, h, strlen(h) + 1);
		ret = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

int action_set_password(const struct root *r, const char *user, const char *password,
			char *err, size_t errlen)
{
	char hash[CRYPT_OUTPUT_SIZE], line[PA_USER_MAX + CRYPT_OUTPUT_SIZE + 4];
	const char *argv[8];
	struct account a;
	size_t n = 1;
	int ret;

	ret = pa_validate_user(user, err, errlen);
	if (ret < 0)
		return ret;
	ret = pa_validate_password(password, err, errlen);
	if (ret < 0)
		return ret;
	ret = lookup_login_user(r, user, &a, err, errlen);
	if (ret < 0)
		return ret;
	if (current_hash(r, user, hash, sizeof(hash)) == 0 && hash_matches(password, hash)) {
		explicit_bzero(hash, sizeof(hash));
		return 0;
	}
	ret = hash_password(password, hash, sizeof(hash));
	if (ret < 0)
		return pa_fail(ret, err, errlen, "libxcrypt offers neither yescrypt nor SHA-512");
	snprintf(line, sizeof(line), "%s:%s\n", user, hash);
	explicit_bzero(hash, sizeof(hash));
	argv[n++] = "-e"; /* the hash, never the password, and only on stdin */
	tool_argv_root(r, argv, &n);
	argv[n] = NULL;
	ret = run_tool("chpasswd", argv, line, strlen(line), err, errlen);
	explicit_bzero(line, sizeof(line));
	return ret;
}

/* ---- authorized_keys ---- */

/* The file's content through a directory fd, refusing links and anything not regular. */
static int read_keys_file(int dfd, char **out, size_t *len)
{
	_cleanup_close_ int fd = openat(dfd, "authorized_keys",
					O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if ((size_t)st.st_size > PA_KEYS_FILE_MAX)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	*out = TAKE_PTR(buf);
	return 1;
}

/* Write through the directory fd: a random temp name, owner and mode first, renameat. */
static int write_keys_file(int dfd, const char *data, size_t len, uid_t uid, gid_t gid)
{
	char tmp[64];
	unsigned long long rnd;
	_cleanup_close_ int fd = -1;
	size_t off = 0;
	int ret;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	snprintf(tmp, sizeof(tmp), ".authorized_keys.azl-%016llx", rnd);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0600) < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, "authorized_keys") < 0)
		goto fail;
	return fsync(dfd) < 0 ? -errno : 0;
fail:
	ret = -errno;
	unlinkat(dfd, tmp, 0);
	return ret;
}

/* ~/.ssh as a real directory of the user's, 0700; never followed through a link. */
static int open_ssh_dir(const struct root *r, const struct account *a, char *err, size_t errlen)
{
	char home[PATH_MAX];
	_cleanup_close_ int hfd = -1;
	int dfd;
	struct stat st;

	if (a->home[0] != '/' || strstr(a->home, "/../") || strstr(a->home, "/.."))
		return pa_fail(-EINVAL, err, errlen, "home directory %s is not a clean absolute path",
			       a->home);
	if (snprintf(home, sizeof(home), "%s%s", r->dir, a->home) >= (int)sizeof(home))
		return pa_fail(-ENAMETOOLONG, err, errlen, "home path too long");
	hfd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (hfd < 0)
		return pa_fail(-errno, err, errlen, "home %s: %s", home, strerror(errno));
	if (mkdirat(hfd, ".ssh", 0700) < 0 && errno != EEXIST)
		return pa_fail(-errno, err, errlen, "creating %s/.ssh: %s", home, strerror(errno));
	dfd = openat(hfd, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return pa_fail(-errno, err, errlen, "%s/.ssh is not a directory: %s", home,
			       strerror(errno));
	if (fstat(dfd, &st) < 0 || fchown(dfd, a->uid, a->gid) < 0 || fchmod(dfd, 0700) < 0) {
		int e = errno;

		close(dfd);
		return pa_fail(-e, err, errlen, "%s/.ssh: %s", home, strerror(e));
	}
	return dfd;
}

static int fix_keys_file(int dfd, uid_t uid, gid_t gid)
{
	_cleanup_close_ int fd = openat(dfd, "authorized_keys",
					O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == 0600)
		return 0;
	return fchown(fd, uid, gid) < 0 || fchmod(fd, 0600) < 0 ? -errno : 0;
}

int action_authorized_keys(const struct root *r, const char *user, char *const *keys, size_t n,
			   char *err, size_t errlen)
{
	_cleanup_free_ char *old = NULL, *merged = NULL;
	_cleanup_close_ int dfd = -1;
	size_t oldlen, mlen;
	struct account a;
	int ret, had;

	ret = pa_validate_user(user, err, errlen);
	if (ret < 0)
		return ret;
	ret = lookup_login_user(r, user, &a, err, errlen);
	if (ret < 0)
		return ret;
	dfd = open_ssh_dir(r, &a, err, errlen);
	if (dfd < 0)
		return dfd;
	had = read_keys_file(dfd, &old, &oldlen);
	if (had < 0)
		return pa_fail(had, err, errlen, "reading %s's authorized_keys: %s", user,
			       strerror(-had));
	ret = pa_keys_merge(old, oldlen, keys, n, &merged, &mlen, err, errlen);
	if (ret < 0)
		return ret;
	if (had && mlen == oldlen && memcmp(merged, old, mlen) == 0)
		ret = fix_keys_file(dfd, a.uid, a.gid);
	else
		ret = write_keys_file(dfd, merged, mlen, a.uid, a.gid);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "writing %s's authorized_keys: %s", user,
			       strerror(-ret));
	return 0;
}

/* ---- sshd ---- */

int action_sshd_password_auth(const struct root *r, bool allow, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], text[160];
	int len, ret;

	len = pa_sshd_text(allow, text, sizeof(text));
	if (len < 0)
		return len;
	if (root_path(r, ROOT_ETC, dir, sizeof(dir), "ssh/sshd_config.d") < 0 ||
	    root_path(r, ROOT_ETC, path, sizeof(path), "ssh/sshd_config.d/50-azl-agent.conf") < 0)
		return pa_fail(-ENAMETOOLONG, err, errlen, "the root prefix is too long");
	if (file_is(path, text, (size_t)len, 0644))
		return 0;
	ret = mkdir_p(dir, 0755);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "creating %s: %s", dir, strerror(-ret));
	ret = write_file_atomic_owned(path, text, (size_t)len, 0644, (uid_t)-1, (gid_t)-1);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "writing %s: %s", path, strerror(-ret));
	return root_is_live(r) ? pa_sshd_reload(err, errlen) : 0;
}

/* ---- CustomData ---- */

/* A base64 blob from the platform, decoded into /var/lib/azl-agent/<name>, 0600. */
static int save_platform_blob(const struct root *r, const char *name, const char *base64,
			      char *err, size_t errlen)
{
	_cleanup_free_ unsigned char *data = NULL;
	char dir[PATH_MAX], path[PATH_MAX];
	size_t inlen = base64 ? strlen(base64) : 0, len;
	int ret;

	/* 64 KiB decoded is Azure's cap; allow generous white space around it */
	if (inlen > 2 * PA_CUSTOM_DATA_MAX)
		return pa_fail(-EFBIG, err, errlen, "%s is %zu bytes of base64 (too large)", name,
			       inlen);
	ret = pa_base64_decode(base64 ? base64 : "", inlen, &data, &len, err, errlen);
	if (ret < 0)
		return ret;
	if (root_path(r, ROOT_VAR, dir, sizeof(dir), "lib/azl-agent") < 0 ||
	    root_path(r, ROOT_VAR, path, sizeof(path), "lib/azl-agent/%s", name) < 0)
		return pa_fail(-ENAMETOOLONG, err, errlen, "the root prefix is too long");
	if (file_is(path, data, len, 0600))
		return 0;
	ret = mkdir_p(dir, 0700);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "creating %s: %s", dir, strerror(-ret));
	ret = write_file_atomic_owned(path, data, len, 0600, (uid_t)-1, (gid_t)-1);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "writing %s: %s", path, strerror(-ret));
	return 0;
}

int action_save_custom_data(const struct root *r, const char *base64, char *err, size_t errlen)
{
	return save_platform_blob(r, "CustomData", base64, err, errlen);
}

int action_save_user_data(const struct root *r, const char *base64, char *err, size_t errlen)
{
	return save_platform_blob(r, "UserData", base64, err, errlen);
}

/* ---- SELinux ---- */

int action_restorecon(const struct root *r, const char *path)
{
	/* labels of a scratch root mean nothing to the running policy */
	if (!root_is_live(r) || is_selinux_enabled() <= 0)
		return 0;
	return selinux_restorecon(path, SELINUX_RESTORECON_RECURSE) < 0 ? -errno : 0;
}
