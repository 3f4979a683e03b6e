/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: parsing and configuration (pure parsers of values).
 *
 * Pure parsers for configuration values. None of them logs; each returns 0 and writes ret_*
 * on success, or -EINVAL (malformed) / -ERANGE (out of range) / -ENOMEM and leaves ret_* alone.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "graced.h"

/* "250ms", "10s", "1m30s", "2h", "1h2m3s500ms", "0", "infinity". Units: us ms s m h d, each at
 * most once, largest first, no space inside; a bare number other than "0" is -EINVAL. Space
 * around the value is ignored. USEC_INFINITY or more (except "infinity") is -ERANGE. */
int parse_duration(const char *s, usec_t *ret);
/* The shortest exact spelling of d in the units above ("1m30s", "250ms", "infinity"). */
char *format_duration(char *buf, size_t n, usec_t d);
#define DURATION_MAX 32

/* "SIGTERM", "TERM", "15", "none" (SIGNAL_NONE). Real-time signals as "SIGRTMIN+N", "RTMAX-N".
 * Names are case-sensitive upper case ("term" is -EINVAL); "0" is -EINVAL, >= _NSIG -ERANGE. */
int parse_signal(const char *s, int *ret);
/* "SIGTERM", "none", "SIGRTMIN+3"; a static string or one written to the thread's buffer. */
const char *signal_to_string(int sig);

/* yes/no, true/false, on/off, 1/0, case-insensitive. */
int parse_boolean(const char *s, bool *ret);
/* A decimal integer in [min, max] (-ERANGE outside); no sign, no spaces. */
int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *ret);
/* A size in bytes: "0", "65536", "512K", "10M", "1G" (K, M, G: powers of 1024, either case,
 * optionally followed by B as in "10MB"). No sign, no spaces, no fraction; at most SIZE_LIMIT
 * (-ERANGE above). */
int parse_size(const char *s, uint64_t *ret);
#define SIZE_LIMIT (UINT64_C(1) << 50)
/* An octal file mode such as 0660 or 077, at most 07777. */
int parse_mode(const char *s, mode_t *ret);
/* A decimal integer with an optional '-' in [min, max] (-ERANGE outside); no '+', no spaces. */
int parse_int(const char *s, int min, int max, int *ret);
/* A resource limit "SOFT[:HARD]", each a decimal number or "infinity" (RLIM_INFINITY); a single
 * value is both. A soft limit above the hard one is -EDOM. */
int parse_rlimit(const char *s, struct rlimit *ret);

struct listen_address {
	enum listen_kind kind;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
		struct sockaddr_storage storage;
	} addr;
	socklen_t addr_len;
	char name[256]; /* LISTEN_SYSTEMD: the socket unit's FileDescriptorName */
};

/* tcp://HOST:PORT (HOST an IPv4 literal, [IPv6] literal, "*" or "localhost"; PORT 1..65535),
 * unix:/path (absolute, fits sun_path), unix:@name (abstract namespace), systemd:NAME (as
 * FileDescriptorName=: 1..255 printable ASCII characters, no ':'). */
int parse_listen(const char *s, struct listen_address *ret);
/* The canonical spelling ("tcp://127.0.0.1:8080", "tcp://[::1]:80", "unix:/run/x.sock"). */
char *listen_address_to_string(char *buf, size_t n, const struct listen_address *a);
#define LISTEN_ADDRESS_MAX 300
/* Same kind and same address bytes (tcp://0.0.0.0:80 and tcp://127.0.0.1:80 differ). */
bool listen_address_equal(const struct listen_address *a, const struct listen_address *b);
/* Equal, or TCP of one family on the same port with either side the wildcard address: two
 * intakes that cannot both bind. 0.0.0.0 vs [::] is not flagged (depends on IPV6_V6ONLY). */
bool listen_address_conflicts(const struct listen_address *a, const struct listen_address *b);

struct ready_spec {
	enum ready_kind kind;
	uint16_t port;  /* READY_TCP */
	usec_t delay;   /* READY_DELAY */
};
/* none | notify | tcp:PORT | delay:DUR */
int parse_ready(const char *s, struct ready_spec *ret);

/* "5 in 60s": at most burst (>= 1) starts within interval (finite, > 0). "none" means no
 * limit: burst 0, interval 0. */
int parse_start_limit(const char *s, unsigned *ret_burst, usec_t *ret_interval);

/*
 * Splits a command line into words with shell-like quoting: 'single' (literal), "double" (with
 * \" \\ \$ \` escapes), backslash outside quotes. No globbing, no variables, no shell: the user
 * writes "sh -c '...'" for that. Unterminated quotes are -EINVAL; an empty result is -ENODATA.
 */
int parse_argv(const char *s, char ***ret);

/* "A=1 B='two words'" into {"A=1", "B=two words"}; each word must be NAME=VALUE with a valid
 * environment variable name ([A-Za-z_][A-Za-z0-9_]*). Quoting as parse_argv(); empty is {}. */
int parse_environment(const char *s, char ***ret);

/* A list separated by spaces and/or commas ("db, cache" or "db cache"). Empty is {}. */
int parse_word_list(const char *s, char ***ret);

/* Valid names of sections' NAME part and worker names: [A-Za-z0-9_-]{1,64}, not starting with '-'. */
bool name_is_valid(const char *s);

/*
 * Expands ${VAR} and ${VAR:-default} from getenv(). "$$" is a literal "$"; a "$" not followed by
 * "{" or "$" is literal. An unset ${VAR} without default is -ENXIO and *ret_missing (if given)
 * gets a copy of its name; an unterminated "${" or bad name is -EINVAL. The default is used
 * when VAR is unset or empty (as POSIX ":-"); it is plain text up to the first "}", with "$$"
 * as "$", and a "${" inside it is -EINVAL (no nesting). Values are not expanded again.
 */
int expand_env(const char *s, char **ret, char **ret_missing);
/* The same, but "${keep}" (no default) and "$$" are left as they are, for a second expansion
 * (expand.c's ${INSTANCE}). */
int expand_env_keeping(const char *s, const char *keep, char **ret, char **ret_missing);

/* Closest candidate by edit distance (adjacent transpositions count 1), if within
 * max(1, strlen(s) / 3) edits and not tied with another; else NULL. NULL entries are skipped. */
const char *suggest_closest(const char *s, const char *const *candidates, size_t n);

const char *phase_to_string(enum phase p);
enum phase phase_from_string(const char *s);
const char *log_level_to_string(enum log_level l);
enum log_level log_level_from_string(const char *s);
const char *log_target_to_string(enum log_target t);
enum log_target log_target_from_string(const char *s);
const char *second_signal_to_string(enum second_signal s);
enum second_signal second_signal_from_string(const char *s);
const char *when_empty_to_string(enum when_empty w);
enum when_empty when_empty_from_string(const char *s);
const char *intake_type_to_string(enum intake_type t);
enum intake_type intake_type_from_string(const char *s);
const char *ready_kind_to_string(enum ready_kind k);
enum ready_kind ready_kind_from_string(const char *s);
const char *restart_policy_to_string(enum restart_policy p);
enum restart_policy restart_policy_from_string(const char *s);
const char *worker_type_to_string(enum worker_type t);
enum worker_type worker_type_from_string(const char *s);
const char *kill_mode_to_string(enum kill_mode m);
enum kill_mode kill_mode_from_string(const char *s);
const char *signal_target_to_string(enum signal_target t);
enum signal_target signal_target_from_string(const char *s);
const char *output_mode_to_string(enum output_mode m);
enum output_mode output_mode_from_string(const char *s);
const char *stderr_mode_to_string(enum stderr_mode m);
enum stderr_mode stderr_mode_from_string(const char *s);
const char *resource_type_to_string(enum resource_type t);
enum resource_type resource_type_from_string(const char *s);
const char *listen_kind_to_string(enum listen_kind k);
enum listen_kind listen_kind_from_string(const char *s);
