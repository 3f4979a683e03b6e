/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The control socket's wire protocol (gracectl(1), "PROTOCOL"): newline-delimited JSON, one
 * object per line. A request names its command and that command's arguments, nothing else:
 *
 *   {"command": "status", "workers": ["web"]}       workers optional (all when left out)
 *   {"command": "dump"}
 *   {"command": "signal", "worker": "web", "signal": "HUP"}   a name, "SIGHUP", or a number
 *   {"command": "shutdown", "wait": true}           wait optional (false)
 *   {"command": "reopen-logs"}
 *   {"command": "start", "workers": ["migrate", "web"]}  at least one name
 *   {"command": "stop", "workers": ["web"]}         at least one name; replies once stopped
 *   {"command": "reload"}                           replies once the difference is applied
 *   {"command": "restart", "workers": ["web"]}      at least one name; rolling; replies once
 *                                                   every named worker's restart ended
 *
 * Every request gets one reply line, {"ok": true, ...} or {"ok": false, "error": "..."}; a
 * shutdown with wait is then followed by event lines until graced exits. This file only parses
 * requests and builds the error reply: it never logs, never touches the supervisor, and is what
 * the fuzzer (tests/fuzz/fuzz_control.c) runs on arbitrary bytes.
 */

#include <stdbool.h>
#include <stddef.h>

/* A request line may not be longer (newline excluded); a longer one is refused unread. */
#define CONTROL_LINE_MAX 4096
/* At most this many worker names in one request. */
#define CONTROL_WORKERS_MAX 256

enum control_command {
	CONTROL_STATUS,
	CONTROL_DUMP,
	CONTROL_SIGNAL,
	CONTROL_SHUTDOWN,
	CONTROL_REOPEN_LOGS,
	CONTROL_START,
	CONTROL_STOP,
	CONTROL_RELOAD,
	CONTROL_RESTART,
	_CONTROL_COMMAND_MAX,
	_CONTROL_COMMAND_INVALID = -22, /* -EINVAL */
};

struct control_request {
	enum control_command command;
	char **workers;   /* status: the names asked for (NULL: all); signal: exactly one; start, stop,
			   * restart: one or more */
	size_t n_workers;
	int signal;       /* signal: the signal number */
	bool wait;        /* shutdown: stream the progress until graced exits */
};

const char *control_command_to_string(enum control_command c);
enum control_command control_command_from_string(const char *s);

/*
 * Parses one request (len bytes, no newline; need not be NUL-terminated). 0, or -EINVAL with
 * *ret_error set to a static message for the reply ("unknown command 'x'"). ret is filled only
 * on success and must be released with control_request_done(). -ENOMEM when out of memory.
 */
int control_request_parse(const char *line, size_t len, struct control_request *ret,
    const char **ret_error);
void control_request_done(struct control_request *r);

/* The reply line {"ok": false, "error": message}, newline included; malloc'ed, NULL on OOM. */
char *control_reply_error(const char *message);

struct supervisor_config;

/*
 * Where the control socket of a configuration is, for graced and gracectl alike: control_socket
 * when set; none (*ret = NULL) with control_socket = none; by default
 * /run/graced/NAME.sock for root and $XDG_RUNTIME_DIR/graced/NAME.sock for anyone else (none
 * without XDG_RUNTIME_DIR). *ret_default says whether it is the default. 0, -ENAMETOOLONG when
 * the default path would not fit in a socket address, -EINVAL when the name has a '/', -ENOMEM.
 */
int control_socket_path(const struct supervisor_config *c, char **ret, bool *ret_default);
