/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"
#include "expand.h"
#include "parse.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash, so that libFuzzer keeps the input. */
#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static void
fuzz_duration(const char *s)
{
	char buf[DURATION_MAX], again[DURATION_MAX];
	usec_t d, back;

	if (parse_duration(s, &d) < 0)
		return;
	/* The canonical spelling parses to the same value and is a fixed point. */
	format_duration(buf, sizeof(buf), d);
	CHECK(parse_duration(buf, &back) == 0 && back == d);
	CHECK(streq(format_duration(again, sizeof(again), back), buf));
}

static void
fuzz_format(const uint8_t *data, size_t size)
{
	char buf[DURATION_MAX];
	usec_t d, back;

	if (size < sizeof(d))
		return;
	memcpy(&d, data, sizeof(d));
	format_duration(buf, sizeof(buf), d);
	CHECK(parse_duration(buf, &back) == 0 && back == d);
}

static void
fuzz_signal(const char *s)
{
	int sig, back;

	if (parse_signal(s, &sig) < 0)
		return;
	CHECK(sig >= 0 && sig < _NSIG);
	CHECK(parse_signal(signal_to_string(sig), &back) == 0 && back == sig);
}

static void
fuzz_listen(const char *s)
{
	struct listen_address a, b;
	char buf[LISTEN_ADDRESS_MAX], again[LISTEN_ADDRESS_MAX];

	if (parse_listen(s, &a) < 0)
		return;
	CHECK(a.addr_len <= sizeof(a.addr));
	listen_address_to_string(buf, sizeof(buf), &a);
	CHECK(parse_listen(buf, &b) == 0);
	CHECK(listen_address_equal(&a, &b) && listen_address_equal(&b, &a));
	CHECK(listen_address_conflicts(&a, &b));
	CHECK(streq(listen_address_to_string(again, sizeof(again), &b), buf));
}

static void
fuzz_words(const char *s)
{
	_cleanup_strv_free_ char **argv = NULL, **env = NULL, **words = NULL;
	int r;

	r = parse_argv(s, &argv);
	CHECK(r < 0 || strv_length(argv) >= 1);
	if (parse_environment(s, &env) == 0)
		for (char **e = env; *e; e++)
			CHECK(strchr(*e, '=') && **e != '=');
	if (parse_word_list(s, &words) == 0)
		for (char **w = words; *w; w++)
			CHECK(**w && !strpbrk(*w, ", \t\n\r\v\f"));
}

static void
fuzz_scalars(const char *s)
{
	static const char *const candidates[] = { "stop_timeout", "stop_signal", "kill_timeout",
		"command", "instances", "after", "ready", "restart", "user", "abcd", "abce" };
	struct ready_spec rs;
	unsigned u, burst;
	usec_t interval;
	mode_t m;
	bool b;
	const char *c;

	(void) parse_boolean(s, &b);
	if (parse_unsigned(s, 3, 1000, &u) == 0)
		CHECK(u >= 3 && u <= 1000);
	if (parse_mode(s, &m) == 0)
		CHECK(m <= 07777);
	if (parse_ready(s, &rs) == 0)
		CHECK(rs.kind >= 0 && rs.kind < _READY_KIND_MAX);
	if (parse_start_limit(s, &burst, &interval) == 0)
		CHECK(burst == 0 || (interval > 0 && interval != USEC_INFINITY));
	(void) name_is_valid(s);
	c = suggest_closest(s, candidates, ELEMENTSOF(candidates));
	CHECK(!c || strlen(c) > 0);

	/* from_string and to_string invert each other. */
	if (phase_from_string(s) >= 0)
		CHECK(streq(phase_to_string(phase_from_string(s)), s));
	if (restart_policy_from_string(s) >= 0)
		CHECK(streq(restart_policy_to_string(restart_policy_from_string(s)), s));
	if (listen_kind_from_string(s) >= 0)
		CHECK(streq(listen_kind_to_string(listen_kind_from_string(s)), s));
	(void) log_level_from_string(s);
	(void) intake_type_from_string(s);
}

static void
fuzz_expand(const char *s)
{
	_cleanup_free_ char *out = NULL, *missing = NULL;
	int r;

	r = expand_env(s, &out, &missing);
	CHECK((r == 0) == (out != NULL));
	CHECK((r == -ENXIO) == (missing != NULL));
}

/* The shared escaping rule: nothing below 0x20, no DEL, no C1, only valid UTF-8 comes out, its
 * length is what escape_buf() said, and a cut output is a prefix of the whole. */
static void
fuzz_escape(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *out = NULL;
	size_t n = escape_buf(NULL, 0, (const char *) data, size, 0), cut;
	char small[17];

	CHECK(n >= size);
	out = malloc(n + 1);
	if (!out)
		return;
	CHECK(escape_buf(out, n + 1, (const char *) data, size, 0) == n);
	CHECK(strlen(out) == n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) out[i];

		CHECK(c >= 0x20 && c != 0x7f);
		CHECK(!(c == 0xc2 && i + 1 < n && (unsigned char) out[i + 1] < 0xa0));
	}
	/* Escaping the output again only doubles its backslashes: it is all printable UTF-8. */
	{
		size_t backslashes = 0;

		for (size_t i = 0; i < n; i++)
			backslashes += out[i] == '\\';
		CHECK(escape_buf(NULL, 0, out, n, 0) == n + backslashes);
	}
	cut = escape_buf(small, sizeof(small), (const char *) data, size, 0);
	CHECK(cut == n);
	CHECK(strlen(small) < sizeof(small) && strncmp(small, out, strlen(small)) == 0);
	CHECK(escape_needed(out, 0) == (memchr(out, '\\', n) != NULL));
}

/* environment_file: every entry is NAME=VALUE with a valid name, each name once. */
static void
fuzz_envfile(const uint8_t *data, size_t size)
{
	struct envfile_error e = {};
	char **l = NULL;

	if (envfile_parse((const char *) data, size, &l, &e) < 0) {
		CHECK(!l);
		return;
	}
	for (char **a = l; *a; a++) {
		const char *eq = strchr(*a, '=');

		CHECK(eq && eq > *a);
		for (char **b = a + 1; *b; b++)
			CHECK(strncmp(*a, *b, (size_t) (eq - *a) + 1) != 0);
	}
	strv_free(l);
}

/* ${INSTANCE}: a template without it comes out with only "$$" turned into "$". */
static void
fuzz_instance(const char *s)
{
	_cleanup_free_ char *a = NULL, *b = NULL;

	if (expand_instance(s, 7, &a) < 0)
		return;
	CHECK(strlen(a) <= strlen(s));
	CHECK(expand_instance(s, 7, &b) == 0 && streq(a, b));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = NULL;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	fuzz_duration(s);
	fuzz_format(data, size);
	fuzz_signal(s);
	fuzz_listen(s);
	fuzz_words(s);
	fuzz_scalars(s);
	fuzz_expand(s);
	fuzz_escape(data, size);
	fuzz_envfile(data, size);
	fuzz_instance(s);
	return 0;
}
