/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing (sd-daemon without libsystemd).
 *
 * The sd-daemon calls graced makes, implemented by graced itself (src/sd-compat.c) in both
 * builds: the documented protocols of the NOTIFY_SOCKET datagram (path and abstract '@'
 * sockets), WATCHDOG_USEC/WATCHDOG_PID, and socket activation (LISTEN_PID, LISTEN_FDS,
 * LISTEN_FDNAMES). They are small, on the hot path (a watchdog ping, every notification), and
 * need no library: the static build has no libsystemd, the normal one loads it only for what
 * it alone can do (src/sd-dl.c). The names and contracts are libsystemd's, so the call sites and
 * the unit tests' --wrap seams read as with libsystemd.
 */
#include <stdint.h>

#define SD_LISTEN_FDS_START 3

/* One datagram with state to $NOTIFY_SOCKET: > 0 sent, 0 no socket set, -errno. */
int sd_notify(int unset_environment, const char *state);
/* > 0 with *usec when the service manager wants pings from this process, 0 when not, -errno. */
int sd_watchdog_enabled(int unset_environment, uint64_t *usec);
/* The number of descriptors passed from SD_LISTEN_FDS_START, their names in *names ("unknown"
 * without LISTEN_FDNAMES), 0 when none are meant for this process, -errno. */
int sd_listen_fds_with_names(int unset_environment, char ***names);
/* 1 when fd is a socket of that family (AF_UNSPEC: any), type (0: any) and listening state
 * (< 0: either), 0 when not, -errno. */
int sd_is_socket(int fd, int family, int type, int listening);
