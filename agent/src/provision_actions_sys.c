// SPDX-License-Identifier: MIT
/*
 * The two ways the provisioning actions touch the system: an atomic file
 * write (temp file, mode and owner set before any byte goes in, fsync,
 * rename) and running a tool (useradd, chpasswd, visudo, mkfs) with an argv
 * array through fork+execve, never a shell.  Secrets go to a tool's stdin
 * through a pipe; a tool's output is kept only for the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "provision_actions_internal.h"
#include "util.h"

/*
 * Tools come from the running system's fixed directories, never from PATH:
 * provisioning runs as root at first boot, before anyone could plant one.
 */
static const char *const tool_dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

int pa_find_tool(const char *name, char *buf, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(tool_dirs); i++) {
		int n = snprintf(buf, len, "%s/%s", tool_dirs[i], name);

		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static void child(const char *const argv[], int in_fd, int out_fd)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	sigset_t none;

	/* stdin is always a pipe (empty when there is no input): nothing of ours leaks */
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0)
		_exit(127);
	close_range(3, ~0u, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(argv[0], (char *const *)argv, env);
	_exit(127);
}

/* Feed input to the child and collect its output, without blocking on either. */
/*
 * No tool may hang provisioning: useradd, chpasswd, visudo and mkfs take
 * seconds at most; past this the child is killed and the step fails.
 */
#define PA_TOOL_TIMEOUT_USEC (120ull * 1000 * 1000)

static int pump(int in_fd, int out_fd, const char *input, size_t inlen, char *out, size_t outlen)
{
	uint64_t deadline = monotonic_usec() + PA_TOOL_TIMEOUT_USEC, now;
	size_t written = 0, got = 0;

	if (inlen == 0) {
		close(in_fd);
		in_fd = -1;
	}
	while (out_fd >= 0) {
		struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN },
				       { .fd = in_fd, .events = POLLOUT } };
		int np = in_fd >= 0 ? 2 : 1, k;

		now = monotonic_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		k = poll(p, np, (int)((deadline - now) / 1000 + 1));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			continue; /* the deadline check above ends it */
		if (np == 2 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = written < inlen ? write(in_fd, input + written, inlen - written) : 0;

			if (n > 0)
				written += (size_t)n;
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || written == inlen) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char tmp[512];
			ssize_t n = read(out_fd, tmp, sizeof(tmp));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n && got + 1 < outlen; i++)
				out[got++] = tmp[i];
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	if (outlen)
		out[got < outlen ? got : outlen - 1] = '\0';
	return 0;
}

static void first_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl)
		*nl = '\0';
}

int pa_run(const char *const argv[], const char *input, size_t inlen, char *err, size_t errlen)
{
	int in[2], out[2];
	char output[1024] = "";
	sigset_t pipe_set, old_set;
	struct timespec zero = { 0, 0 };
	pid_t pid;
	int status, r;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		goto close_in;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(out[0]);
		close(out[1]);
		goto close_in;
	}
	if (pid == 0)
		child(argv, in[0], out[1]);
	close(out[1]);
	close(in[0]);
	/*
	 * A child that exits before reading its stdin must not kill us with
	 * SIGPIPE: block it around the writes (the write gets EPIPE), drop a
	 * pending one, and leave the process's disposition alone.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old_set);
	r = pump(in[1], out[0], input, input ? inlen : 0, output, sizeof(output));
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
		;
	sigprocmask(SIG_SETMASK, &old_set, NULL);
	close(out[0]);
	if (r == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (r == -ETIMEDOUT)
		return pa_fail(r, err, errlen, "%s took longer than %llu s: killed", argv[0],
			       PA_TOOL_TIMEOUT_USEC / 1000000);
	if (r < 0)
		return r;
	first_line(output);
	if (WIFSIGNALED(status))
		return pa_fail(-ECHILD, err, errlen, "%s was killed by signal %d", argv[0],
			       WTERMSIG(status));
	if (WEXITSTATUS(status) == 127 && !output[0])
		return pa_fail(-ENOEXEC, err, errlen, "%s could not be run", argv[0]);
	if (WEXITSTATUS(status) != 0)
		pa_fail(0, err, errlen, "%s exited %d: %s", argv[0], WEXITSTATUS(status), output);
	return WEXITSTATUS(status);
close_in:
	close(in[0]);
	close(in[1]);
	return r;
}

