/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim: hands a KVP daemon (hv_kvp_daemon or azl-agent) a
 * connection to the fake kernel side (kvp_host) where it opens the KVP char
 * device, and gives that connection the char device's read()/write()
 * semantics (research/kvp.md §1.7):
 *
 *   open()  of $AZL_KVP_SHIM_PATH (default /dev/vmbus/hv_kvp), also through
 *           openat() and the fortified and 64-bit variants: connect to
 *           $AZL_KVP_SHIM_SOCKET and wait for the host's verdict.  Nobody
 *           listening -> ENOENT (no device), whether or not a file exists
 *           at the path (a real device is never touched); a second opener
 *           -> EBUSY.
 *   read()  blocks even on an O_NONBLOCK fd, like the kernel; a buffer
 *           shorter than a message -> EINVAL and the message stays queued;
 *           the host gone -> EBADF (module teardown).
 *   write() shorter than a message -> EINVAL without sending; else the
 *           bytes go to the host and the call returns what the host's
 *           kernel emulation answered (count, or -1 with its errno).
 *   poll(), epoll: native on the socket: readable exactly when a message is
 *           queued (the notices of kvp_wire.h keep it so), POLLHUP when the
 *           host closed.
 *   close() forgets the fd.
 *
 * The shim keeps a small table of the fds it handed out: an LD_PRELOAD
 * library has no caller to hold state for it.  Each entry also records the
 * socket's inode, so an fd number reused behind the shim's back (closed by
 * a path the shim does not see) is never mistaken for the device.  The
 * daemons it serves are single-threaded.  Built without sanitizers: it is
 * loaded into the reference daemon too, and into ASan builds of ours
 * (with ASAN_OPTIONS=verify_asan_link_order=0).
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvp_wire.h"

/* The fortified entry points glibc's headers declare only under
 * _FORTIFY_SOURCE; programs built with it call these instead. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);

struct real_calls {
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*write)(int, const void *, size_t);
	int (*close)(int);
};

#define SHIM_MAX_FDS 8

struct tracked_fd {
	int fd; /* -1: free slot */
	dev_t dev;
	ino_t ino;
	bool registered; /* the registration reply was read */
};

static struct {
	bool ready;
	bool debug;
	char path[PATH_MAX];
	const char *path_base; /* points into path */
	char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct real_calls real;
	struct tracked_fd fds[SHIM_MAX_FDS];
} shim;

static void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void shim_log(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (!shim.debug)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "kvp_shim[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	errno = saved;
}

static void *real_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "kvp_shim: cannot find %s: %s\n", name, dlerror());
		abort();
	}
	return p;
}

/* NULL for a fortified name this libc lacks (then nobody calls it). */
static void *real_sym_opt(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void shim_init(void)
{
	const char *p, *s, *slash;

	if (shim.ready)
		return;
	shim.real.openat = real_sym("openat");
	shim.real.openat64 = real_sym("openat64");
	shim.real.read = real_sym("read");
	shim.real.read_chk = real_sym_opt("__read_chk");
	shim.real.write = real_sym("write");
	shim.real.close = real_sym("close");

	p = getenv(KVP_SHIM_ENV_PATH);
	if (!p || !*p)
		p = KVP_SHIM_DEFAULT_PATH;
	snprintf(shim.path, sizeof(shim.path), "%s", p);
	slash = strrchr(shim.path, '/');
	shim.path_base = slash ? slash + 1 : shim.path;
	s = getenv(KVP_SHIM_ENV_SOCKET);
	snprintf(shim.socket, sizeof(shim.socket), "%s", s ? s : "");
	shim.debug = getenv("AZL_KVP_SHIM_DEBUG") != NULL;
	for (int i = 0; i < SHIM_MAX_FDS; i++)
		shim.fds[i].fd = -1;
	shim.ready = true;
}

static struct tracked_fd *tracked_slot(int fd)
{
	if (fd < 0)
		return NULL;
	for (int i = 0; i < SHIM_MAX_FDS; i++)
		if (shim.fds[i].fd == fd)
			return &shim.fds[i];
	return NULL;
}

static void untrack(int fd)
{
	struct tracked_fd *t = tracked_slot(fd);

	if (t)
		t->fd = -1;
}

/* Is fd one of ours, and still the same socket? */
static bool is_tracked(int fd)
{
	struct tracked_fd *t = tracked_slot(fd);
	struct stat st;

	if (!t)
		return false;
	if (fstat(fd, &st) < 0 || st.st_dev != t->dev || st.st_ino != t->ino) {
		t->fd = -1;
		return false;
	}
	return true;
}

static int track(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	untrack(fd);
	for (int i = 0; i < SHIM_MAX_FDS; i++)
		if (shim.fds[i].fd < 0) {
			shim.fds[i] = (struct tracked_fd){ .fd = fd, .dev = st.st_dev, .ino = st.st_ino };
			return 0;
		}
	return -EMFILE;
}

/* Same file by identity, when both exist (catches "//dev/./vmbus/.."). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Does open(dirfd, path) name the device we stand in for? */
static bool is_device_path(int dirfd, const char *path)
{
	char full[PATH_MAX * 2], dir[PATH_MAX];
	const char *base;
	ssize_t n;

	if (!path)
		return false;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	/* Cheap filter first: every open() of the process passes here. */
	if (strcmp(base, shim.path_base) != 0)
		return false;
	if (strcmp(path, shim.path) == 0)
		return true;
	if (path[0] == '/') {
		snprintf(full, sizeof(full), "%s", path);
	} else {
		if (dirfd == AT_FDCWD) {
			if (!getcwd(dir, sizeof(dir)))
				return false;
		} else {
			char link[64];

			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			n = readlink(link, dir, sizeof(dir) - 1);
			if (n < 0)
				return false;
			dir[n] = '\0';
		}
		snprintf(full, sizeof(full), "%s/%s", dir, path);
	}
	return strcmp(full, shim.path) == 0 || same_file(full, shim.path);
}

/* Wait until fd is readable; EINTR is returned only when allowed. */
static int wait_readable(int fd, bool interruptible)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		if (poll(&pfd, 1, -1) >= 0)
			return 0;
		if (errno != EINTR || interruptible)
			return -errno;
	}
}

/*
 * Receive (or peek at) one host packet, blocking even on an O_NONBLOCK fd.
 * ready: a packet is likely there already (the daemon polled before its
 * read), so try before waiting; that keeps the harness's own round trip
 * short next to what it measures.  Returns the packet's length, 0 when the
 * host closed, or a negative errno.
 */
static ssize_t recv_packet(int fd, uint8_t *buf, size_t size, int flags, bool interruptible,
			   bool ready)
{
	for (;;) {
		ssize_t n;

		if (!ready) {
			int r = wait_readable(fd, interruptible);

			if (r < 0)
				return r;
		}
		ready = false;
		n = recv(fd, buf, size, flags | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == ECONNRESET)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

static int send_notice(int fd, uint8_t type)
{
	return send(fd, &type, 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* Connect to the host and get its verdict: the new fd or a negative errno. */
static int device_open(int flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t pkt[KVP_WIRE_MAX_PACKET];
	int32_t verdict;
	ssize_t n;
	int fd, r;

	if (!shim.socket[0])
		return -ENOENT;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, shim.socket, sizeof(sa.sun_path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = (errno == ENOENT || errno == ECONNREFUSED) ? -ENOENT : -errno;
		shim.real.close(fd);
		return r;
	}
	n = recv_packet(fd, pkt, sizeof(pkt), 0, false, false);
	if (n < 1 + (ssize_t)sizeof(verdict) || pkt[0] != KVP_WIRE_OPENED) {
		/* The host went away between accept and verdict: no device. */
		shim.real.close(fd);
		return n < 0 ? (int)n : -ENOENT;
	}
	memcpy(&verdict, pkt + 1, sizeof(verdict));
	if (verdict != 0) {
		shim.real.close(fd);
		return -verdict;
	}
	r = track(fd);
	if (r < 0) {
		shim.real.close(fd);
		return r;
	}
	shim_log("open %s -> fd %d", shim.path, fd);
	return fd;
}

static int open_result(int r)
{
	if (r < 0) {
		shim_log("open %s -> %s", shim.path, strerror(-r));
		errno = -r;
		return -1;
	}
	return r;
}

static int pass_open(int (*fn)(int, const char *, int, ...), int dirfd, const char *path,
		     int flags, mode_t mode)
{
	int fd = fn(dirfd, path, flags, mode);

	/* A real file now owns that number: it is not the device any more. */
	if (fd >= 0)
		untrack(fd);
	return fd;
}

#define NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE)

static mode_t mode_arg(int flags, va_list ap)
{
	return NEEDS_MODE(flags) ? (mode_t)va_arg(ap, int) : 0;
}

static int openat_impl(int (*fn)(int, const char *, int, ...), int dirfd, const char *path,
		       int flags, mode_t mode)
{
	shim_init();
	if (is_device_path(dirfd, path))
		return open_result(device_open(flags));
	return pass_open(fn, dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	shim_init();
	return openat_impl(shim.real.openat, AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	shim_init();
	return openat_impl(shim.real.openat64, AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	shim_init();
	return openat_impl(shim.real.openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	shim_init();
	return openat_impl(shim.real.openat64, dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags)
{
	shim_init();
	return openat_impl(shim.real.openat, AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
	shim_init();
	return openat_impl(shim.real.openat64, AT_FDCWD, path, flags, 0);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	shim_init();
	return openat_impl(shim.real.openat, dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	shim_init();
	return openat_impl(shim.real.openat64, dirfd, path, flags, 0);
}

/* read() of the device: one queued message, per research/kvp.md §1.7. */
static ssize_t device_read(int fd, void *buf, size_t count)
{
	uint8_t pkt[KVP_WIRE_MAX_PACKET];

	/* A buffer too small only peeks: the message must stay queued. */
	int peek = count < KVP_WIRE_MSG_SIZE ? MSG_PEEK : 0;
	bool ready = true;

	for (;;) {
		ssize_t n = recv_packet(fd, pkt, sizeof(pkt), peek, true, ready);

		ready = false;
		if (n == 0) {
			errno = EBADF; /* the host closed: module teardown */
			return -1;
		}
		if (n < 0) {
			errno = -n;
			return -1;
		}
		if (pkt[0] != KVP_WIRE_MSG || n != KVP_WIRE_MAX_PACKET) {
			/* Not a message (a stray notice): drop it and wait on. */
			shim_log("read: dropping stray packet type %#x", pkt[0]);
			if (peek)
				recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
			continue;
		}
		if (peek) {
			errno = EINVAL;
			return -1;
		}
		memcpy(buf, pkt + 1, KVP_WIRE_MSG_SIZE);
		/*
		 * The kernel's on_read hook runs before read() returns.  Only
		 * the first message of a connection (the registration reply)
		 * needs a notice: the host learns that a request was read from
		 * its reply, or from its socket's send queue (SIOCOUTQ) when
		 * none came, and a notice per request would add a wakeup of
		 * the host to every transaction the benchmark measures.
		 */
		struct tracked_fd *t = tracked_slot(fd);

		if (t && !t->registered) {
			t->registered = true;
			send_notice(fd, KVP_WIRE_CONSUMED);
		}
		return KVP_WIRE_MSG_SIZE;
	}
}

/* write() of the device: forward, then wait for the host's verdict. */
static ssize_t device_write(int fd, const void *buf, size_t count)
{
	uint8_t pkt[KVP_WIRE_MAX_PACKET];
	size_t len = count < KVP_WIRE_MAX_WRITE ? count : KVP_WIRE_MAX_WRITE;

	if (count < KVP_WIRE_MSG_SIZE) {
		errno = EINVAL;
		return -1;
	}
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		errno = (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) ? EBADF : errno;
		return -1;
	}
	for (;;) {
		/* Not interruptible: an ACK left behind would desynchronize. */
		ssize_t n = recv_packet(fd, pkt, sizeof(pkt), 0, false, false);
		int32_t err;

		if (n <= 0) {
			errno = n == 0 ? EBADF : (int)-n;
			return -1;
		}
		if (pkt[0] == KVP_WIRE_MSG) {
			/* Queued while we wrote: ask for it again after the ACK. */
			send_notice(fd, KVP_WIRE_REQUEUE);
			continue;
		}
		if (pkt[0] != KVP_WIRE_ACK || n < 1 + (ssize_t)sizeof(err))
			continue;
		memcpy(&err, pkt + 1, sizeof(err));
		if (err != 0) {
			errno = err;
			return -1;
		}
		return (ssize_t)count;
	}
}

ssize_t read(int fd, void *buf, size_t count)
{
	shim_init();
	if (is_tracked(fd))
		return device_read(fd, buf, count);
	return shim.real.read(fd, buf, count);
}

ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	shim_init();
	if (is_tracked(fd)) {
		if (count > buflen)
			abort(); /* what the fortified read does on overflow */
		return device_read(fd, buf, count);
	}
	if (shim.real.read_chk)
		return shim.real.read_chk(fd, buf, count, buflen);
	return shim.real.read(fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	shim_init();
	if (is_tracked(fd))
		return device_write(fd, buf, count);
	return shim.real.write(fd, buf, count);
}

int close(int fd)
{
	shim_init();
	if (tracked_slot(fd)) {
		shim_log("close fd %d", fd);
		untrack(fd);
	}
	return shim.real.close(fd);
}
