// SPDX-License-Identifier: MIT
/* A system bus connection that can never hang the caller. */
#include <errno.h>

#include "bus.h"
#include "util.h"

int bus_open_system_bounded(sd_bus **out, uint64_t timeout_usec)
{
	_cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
	uint64_t deadline = monotonic_usec() + timeout_usec, t;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_method_call_timeout(bus, timeout_usec);
	if (r < 0)
		return r;
	/* Drive the handshake ourselves, to the deadline. */
	while ((r = sd_bus_is_ready(bus)) == 0) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		t = monotonic_usec();
		if (t >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(bus, deadline - t);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	*out = TAKE_PTR(bus);
	return 0;
}
