// SPDX-License-Identifier: MIT
/* The KVP device on an sd-event loop: open, register, answer, recover. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "kvp_service.h"
#include "log.h"

#define KVP_DEVICE "vmbus/hv_kvp"
/* Another process holds the device, or it refused us: try again this often. */
#define KVP_RETRY_USEC (5ull * 1000 * 1000)
/* The device appeared between a failed open and the watch: look again soon. */
#define KVP_RACE_USEC (100ull * 1000)

static void service_open(struct kvp_service *s);

static void service_close(struct kvp_service *s)
{
	s->io = sd_event_source_disable_unref(s->io);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = KVP_WAITING;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kvp_service *s = userdata;

	(void)src;
	(void)usec;
	s->retry = sd_event_source_disable_unref(s->retry);
	service_open(s);
	return 0;
}

static void arm_retry(struct kvp_service *s, uint64_t usec)
{
	if (!s->retry)
		sd_event_add_time_relative(s->event, &s->retry, CLOCK_MONOTONIC, usec, 0, on_retry, s);
}

static int on_watch(sd_event_source *src, const struct inotify_event *ev, void *userdata)
{
	struct kvp_service *s = userdata;

	(void)src;
	(void)ev;
	s->watch = sd_event_source_disable_unref(s->watch);
	service_open(s);
	return 0;
}

/*
 * Watch the nearest existing directory on the way to the device: /dev/vmbus
 * once it exists, /dev before.  Any creation there makes us try again.
 */
static void arm_watch(struct kvp_service *s)
{
	char dir[sizeof(s->device)];
	char *slash;

	if (s->watch)
		return;
	snprintf(dir, sizeof(dir), "%s", s->device);
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (sd_event_add_inotify(s->event, &s->watch, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR,
					 on_watch, s) == 0)
			return;
	}
	arm_retry(s, KVP_RETRY_USEC); /* no directory at all to watch: poll slowly */
}

static void service_reopen(struct kvp_service *s, const char *why)
{
	log_notice("kvp: %s; opening the device again", why);
	service_close(s);
	service_open(s);
}

/* The kernel's answer to REGISTER1 carries its transport version text. */
static void finish_registration(struct kvp_service *s)
{
	char version[KVP_VERSION_SIZE];

	snprintf(version, sizeof(version), "%.*s", (int)sizeof(version) - 1,
		 (const char *)s->msg.body.kvp_register.version);
	kvp_handler_set_version(&s->handler, version);
	s->state = KVP_READY;
	s->registrations++;
	log_info("kvp: registered with the kernel (transport version %s)", version);
	sd_notifyf(0, "STATUS=KVP exchange registered (transport %s)", version);
}

static void answer_request(struct kvp_service *s)
{
	ssize_t n;

	kvp_handle(&s->handler, &s->msg);
	s->requests++;
	n = write(s->fd, &s->msg, sizeof(s->msg));
	if (n == (ssize_t)sizeof(s->msg))
		return;
	/* EINVAL: the kernel has no request outstanding (timeout, hibernation). */
	service_reopen(s, n < 0 ? strerror(errno) : "short write of a reply");
}

static int on_device(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct kvp_service *s = userdata;
	ssize_t n;

	(void)src;
	if (revents & (EPOLLHUP | EPOLLERR)) {
		service_reopen(s, "the KVP device went away");
		return 0;
	}
	n = read(fd, &s->msg, sizeof(s->msg));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n != (ssize_t)sizeof(s->msg)) {
		service_reopen(s, n < 0 ? strerror(errno) : "short read from the KVP device");
		return 0;
	}
	if (s->state == KVP_REGISTERING)
		finish_registration(s);
	else
		answer_request(s);
	return 0;
}

static int send_registration(struct kvp_service *s)
{
	ssize_t n;

	memset(&s->msg, 0, sizeof(s->msg));
	s->msg.kvp_hdr.operation = KVP_OP_REGISTER1;
	n = write(s->fd, &s->msg, sizeof(s->msg));
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(s->msg))
		return -EIO;
	s->state = KVP_REGISTERING;
	return sd_event_add_io(s->event, &s->io, s->fd, EPOLLIN, on_device, s);
}

static void service_open(struct kvp_service *s)
{
	int ret;

	s->fd = open(s->device, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ENXIO || ret == -ENODEV) {
			sd_notify(0, "STATUS=No KVP device (not Hyper-V, or Data Exchange is off): waiting");
			arm_watch(s);
			/* The device may have appeared before the watch did. */
			if (s->watch && access(s->device, F_OK) == 0) {
				s->watch = sd_event_source_disable_unref(s->watch);
				arm_retry(s, KVP_RACE_USEC);
			}
			return;
		}
		/* Retried every 5 s; said once, not every 5 s. */
		if (ret != s->open_error)
			log_error("kvp: cannot open %s: %s%s; trying again every %llu s", s->device,
				  strerror(-ret),
				  ret == -EBUSY ? " (another KVP daemon holds it)" : "",
				  KVP_RETRY_USEC / 1000000);
		s->open_error = ret;
		arm_retry(s, KVP_RETRY_USEC);
		return;
	}
	if (s->open_error)
		log_notice("kvp: %s is open now", s->device);
	s->open_error = 0;
	ret = send_registration(s);
	if (ret < 0) {
		log_error("kvp: the kernel refused our registration: %s", strerror(-ret));
		service_close(s);
		arm_retry(s, KVP_RETRY_USEC);
	}
}

int kvp_service_start(struct kvp_service *s, sd_event *e, const struct root *r,
		      const struct agent_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->event = e;
	s->fd = -1;
	if (root_path(r, ROOT_DEV, s->device, sizeof(s->device), KVP_DEVICE) < 0)
		return -ENAMETOOLONG;
	kvp_handler_init(&s->handler, r, cfg);
	service_open(s);
	return 0;
}

void kvp_service_stop(struct kvp_service *s)
{
	service_close(s);
	s->watch = sd_event_source_disable_unref(s->watch);
	s->retry = sd_event_source_disable_unref(s->retry);
	kvp_handler_done(&s->handler);
}
