/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

/*
 * The system bus, with the connection handshake and every method call
 * bounded by timeout_usec: sd-bus alone would wait out its 90 s
 * authentication timeout on a hung bus in the first call.  Close it with
 * sd_bus_close_unref(), never flush: a flush waits out the handshake.
 */
int bus_open_system_bounded(sd_bus **out, uint64_t timeout_usec);
