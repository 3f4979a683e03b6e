/* SPDX-License-Identifier: MIT */
/*
 * libsystemd, loaded when first needed. graced speaks sd-daemon's protocols itself
 * (sd-compat.c); what it still takes from libsystemd — journal streams for output = journal,
 * sd-login and sd-bus for --check's TimeoutStopUSec lookup — is rare, so the library (and
 * libgcrypt, liblzma, libzstd, liblz4, libcap behind it: about a megabyte of resident memory)
 * is not linked but dlopen()ed on the first such call.
 *
 * Each function below has the name and prototype of libsystemd's own (the headers check
 * that), so the callers, and the unit tests' --wrap seams on them, are the same as when linked.
 * Without libsystemd.so.0 each fails with -EOPNOTSUPP (or returns NULL), as a missing service
 * would: the callers already fall back.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include "log.h"

#define LIBSYSTEMD "libsystemd.so.0"

static void *
libsystemd_sym(const char *name)
{
	static void *handle;
	static bool tried;

	if (!tried) {
		tried = true;
		/* RTLD_NODELETE: never unloaded, pointers taken from it stay valid. */
		if (!(handle = dlopen(LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)))
			log_debug("Cannot load %s: %s", LIBSYSTEMD, dlerror());
	}
	return handle ? dlsym(handle, name) : NULL;
}

/* name(params) calls libsystemd's name(args), or returns fail without it. */
#define FORWARD(type, name, params, args, fail)                              \
	type name params                                                     \
	{                                                                    \
		static type(*f) params;                                      \
                                                                             \
		if (!f && !(f = (type(*) params) libsystemd_sym(#name)))     \
			return fail;                                         \
		return f args;                                               \
	}

FORWARD(int, sd_journal_stream_fd, (const char *identifier, int priority, int level_prefix),
    (identifier, priority, level_prefix), -EOPNOTSUPP)
FORWARD(int, sd_pid_get_unit, (pid_t pid, char **unit), (pid, unit), -EOPNOTSUPP)
FORWARD(int, sd_bus_open_system, (sd_bus **ret), (ret), -EOPNOTSUPP)
FORWARD(sd_bus *, sd_bus_close_unref, (sd_bus *bus), (bus), NULL)
FORWARD(int, sd_bus_call_async,
    (sd_bus *bus, sd_bus_slot **slot, sd_bus_message *m, sd_bus_message_handler_t callback,
	void *userdata, uint64_t usec),
    (bus, slot, m, callback, userdata, usec), -EOPNOTSUPP)
FORWARD(int, sd_bus_process, (sd_bus *bus, sd_bus_message **r), (bus, r), -EOPNOTSUPP)
FORWARD(int, sd_bus_wait, (sd_bus *bus, uint64_t timeout_usec), (bus, timeout_usec),
    -EOPNOTSUPP)
FORWARD(sd_bus_slot *, sd_bus_slot_unref, (sd_bus_slot *slot), (slot), NULL)
FORWARD(int, sd_bus_message_new_method_call,
    (sd_bus *bus, sd_bus_message **m, const char *destination, const char *path,
	const char *interface, const char *member),
    (bus, m, destination, path, interface, member), -EOPNOTSUPP)
FORWARD(sd_bus_message *, sd_bus_message_ref, (sd_bus_message *m), (m), NULL)
FORWARD(sd_bus_message *, sd_bus_message_unref, (sd_bus_message *m), (m), NULL)
FORWARD(int, sd_bus_message_append_basic, (sd_bus_message *m, char type, const void *p),
    (m, type, p), -EOPNOTSUPP)
FORWARD(int, sd_bus_message_read_basic, (sd_bus_message *m, char type, void *p), (m, type, p),
    -EOPNOTSUPP)
FORWARD(int, sd_bus_message_enter_container,
    (sd_bus_message *m, char type, const char *contents), (m, type, contents), -EOPNOTSUPP)
FORWARD(int, sd_bus_message_is_method_error, (sd_bus_message *m, const char *name), (m, name),
    0)
FORWARD(int, sd_bus_message_get_errno, (sd_bus_message *m), (m), EOPNOTSUPP)
FORWARD(const sd_bus_error *, sd_bus_message_get_error, (sd_bus_message *m), (m), NULL)
