/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"
#include "util.h"

/* A value no parser would write, to check that ret_* is left alone on failure. */
#define SENTINEL_USEC ((usec_t) 0xdeadbeefULL)

static void
check_duration(const char *s, usec_t expected)
{
	usec_t d = SENTINEL_USEC;

	if (parse_duration(s, &d) != 0)
		fail_msg("parse_duration(\"%s\") failed", s);
	if (d != expected)
		fail_msg("parse_duration(\"%s\") = %llu, expected %llu", s, (unsigned long long) d,
		    (unsigned long long) expected);
}

static void
check_duration_fails(const char *s, int err)
{
	usec_t d = SENTINEL_USEC;
	int r = parse_duration(s, &d);

	if (r != err)
		fail_msg("parse_duration(\"%s\") = %d, expected %d", s, r, err);
	assert_true(d == SENTINEL_USEC);
}

static void
test_duration_valid(void **state)
{
	check_duration("0", 0);
	check_duration("250ms", 250 * USEC_PER_MSEC);
	check_duration("10s", 10 * USEC_PER_SEC);
	check_duration("1m30s", 90 * USEC_PER_SEC);
	check_duration("2h", 2 * USEC_PER_HOUR);
	check_duration("1d", 24 * USEC_PER_HOUR);
	check_duration("1h2m3s500ms", USEC_PER_HOUR + 2 * USEC_PER_MINUTE + 3 * USEC_PER_SEC +
	    500 * USEC_PER_MSEC);
	check_duration("1d1h1m1s1ms1us", 24 * USEC_PER_HOUR + USEC_PER_HOUR + USEC_PER_MINUTE +
	    USEC_PER_SEC + USEC_PER_MSEC + 1);
	check_duration("7us", 7);
	check_duration("0s", 0);
	check_duration("0ms", 0);
	check_duration("90s", 90 * USEC_PER_SEC);
	check_duration("1500ms", 1500 * USEC_PER_MSEC);
	check_duration("007s", 7 * USEC_PER_SEC);
	check_duration("infinity", USEC_INFINITY);
	check_duration("  10s\t", 10 * USEC_PER_SEC);
	check_duration("\tinfinity ", USEC_INFINITY);
	check_duration(" 0 ", 0);
}

static void
test_duration_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "10", "1", "00", "s", "ms", "-1s", "+1s", "1.5s", "1 s", "1m 30s", "10S",
		"10sec", "10x", "1s1m", "1s1s", "1ms1s", "1m1m", "1h30", "infinite", "Infinity",
		"infinity1", "1sinfinity", "0x10s", "1_000ms", "10s,", "s10", "1e3ms", "--",
		"10\xc2\xb5s",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		check_duration_fails(bad[i], -EINVAL);
}

static void
test_duration_range(void **state)
{
	/* UINT64_MAX = 18446744073709551615: all of it would be USEC_INFINITY. */
	check_duration("18446744073709551614us", USEC_INFINITY - 1);
	check_duration_fails("18446744073709551615us", -ERANGE);
	check_duration_fails("18446744073709551616us", -ERANGE);
	check_duration_fails("99999999999999999999999999s", -ERANGE);
	check_duration_fails("18446744073709552s", -ERANGE);
	check_duration("213503982d", 213503982ULL * 24 * USEC_PER_HOUR);
	check_duration_fails("213503983d", -ERANGE);
	/* Each component fits but the sum does not. */
	check_duration_fails("213503982d23h59m", -ERANGE);
	check_duration("213503982d8h1m49s551ms614us", USEC_INFINITY - 1);
	check_duration_fails("213503982d8h1m49s551ms615us", -ERANGE);
	/* A malformed value is -EINVAL even when a number in it is also too big. */
	check_duration_fails("99999999999999999999s1s", -EINVAL);
	check_duration_fails("99999999999999999999h1x", -EINVAL);
	check_duration_fails("213503983d1", -EINVAL);
}

static void
test_duration_long_input(void **state)
{
	char buf[1025];

	memset(buf, '0', sizeof(buf) - 3);
	strcpy(buf + sizeof(buf) - 3, "1s");
	check_duration(buf, USEC_PER_SEC);
	memset(buf, '9', sizeof(buf) - 3);
	check_duration_fails(buf, -ERANGE);
	memset(buf, ' ', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	check_duration_fails(buf, -EINVAL);
}

static void
check_format(usec_t d, const char *expected)
{
	char buf[DURATION_MAX];
	usec_t back;

	assert_ptr_equal(format_duration(buf, sizeof(buf), d), buf);
	assert_string_equal(buf, expected);
	assert_int_equal(parse_duration(buf, &back), 0);
	assert_true(back == d);
}

static void
test_format_duration(void **state)
{
	static const char *const canonical[] = {
		"0", "1us", "250ms", "10s", "1m30s", "2h", "1d", "1h2m3s500ms", "1s500ms",
		"infinity", "1d23h59m59s999ms999us",
	};
	char buf[DURATION_MAX], small[4];

	check_format(0, "0");
	check_format(USEC_INFINITY, "infinity");
	check_format(90 * USEC_PER_SEC, "1m30s");
	check_format(250 * USEC_PER_MSEC, "250ms");
	check_format(1500 * USEC_PER_MSEC, "1s500ms");
	check_format(60 * USEC_PER_MINUTE, "1h");
	check_format(25 * USEC_PER_HOUR, "1d1h");
	check_format(1001, "1ms1us");
	check_format(USEC_INFINITY - 1, "213503982d8h1m49s551ms614us");
	assert_true(strlen("213503982d8h1m49s551ms614us") < DURATION_MAX);

	/* Canonical spellings survive a round trip unchanged. */
	for (size_t i = 0; i < ELEMENTSOF(canonical); i++) {
		usec_t d;

		assert_int_equal(parse_duration(canonical[i], &d), 0);
		assert_string_equal(format_duration(buf, sizeof(buf), d), canonical[i]);
	}

	/* Others come back canonical. */
	assert_int_equal(parse_duration("90s", &(usec_t) { 0 }), 0);
	{
		usec_t d;

		assert_int_equal(parse_duration("90s", &d), 0);
		assert_string_equal(format_duration(buf, sizeof(buf), d), "1m30s");
		assert_int_equal(parse_duration("0ms", &d), 0);
		assert_string_equal(format_duration(buf, sizeof(buf), d), "0");
	}

	/* A short buffer is truncated, never overrun. */
	assert_string_equal(format_duration(small, sizeof(small), 90 * USEC_PER_SEC), "1m3");
	assert_string_equal(format_duration(small, sizeof(small), USEC_INFINITY), "inf");
	assert_string_equal(format_duration(small, 1, USEC_INFINITY), "");
	small[0] = 'x';
	format_duration(small, 0, 5);
	assert_int_equal(small[0], 'x');
}

static void
check_signal(const char *s, int expected)
{
	int sig = -1;

	if (parse_signal(s, &sig) != 0)
		fail_msg("parse_signal(\"%s\") failed", s);
	if (sig != expected)
		fail_msg("parse_signal(\"%s\") = %d, expected %d", s, sig, expected);
}

static void
check_signal_fails(const char *s, int err)
{
	int sig = -1, r = parse_signal(s, &sig);

	if (r != err)
		fail_msg("parse_signal(\"%s\") = %d, expected %d", s, r, err);
	assert_int_equal(sig, -1);
}

static void
test_signal_names(void **state)
{
	static const struct {
		const char *name;
		int sig;
	} all[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
		{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
		{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
		{ "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
		{ "IOT", SIGABRT },
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		check_signal(all[i].name, all[i].sig);
		snprintf(buf, sizeof(buf), "SIG%s", all[i].name);
		check_signal(buf, all[i].sig);
	}
	check_signal("none", SIGNAL_NONE);
	check_signal("15", SIGTERM);
	check_signal("9", SIGKILL);
	check_signal("1", 1);
	check_signal("64", _NSIG - 1);
	check_signal("015", SIGTERM);
}

static void
test_signal_realtime(void **state)
{
	check_signal("SIGRTMIN", SIGRTMIN);
	check_signal("RTMIN", SIGRTMIN);
	check_signal("SIGRTMIN+0", SIGRTMIN);
	check_signal("SIGRTMIN+3", SIGRTMIN + 3);
	check_signal("RTMIN+3", SIGRTMIN + 3);
	check_signal("SIGRTMAX", SIGRTMAX);
	check_signal("SIGRTMAX-2", SIGRTMAX - 2);
	check_signal("RTMAX-0", SIGRTMAX);
	{
		char buf[32];

		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN);
		check_signal(buf, SIGRTMAX);
		snprintf(buf, sizeof(buf), "SIGRTMAX-%d", SIGRTMAX - SIGRTMIN);
		check_signal(buf, SIGRTMIN);
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
		check_signal_fails(buf, -ERANGE);
	}

	check_signal_fails("SIGRTMIN+99", -ERANGE);
	check_signal_fails("SIGRTMAX-99", -ERANGE);
	check_signal_fails("SIGRTMIN+99999999999999999999999", -ERANGE);
	check_signal_fails("SIGRTMIN-1", -EINVAL);
	check_signal_fails("SIGRTMAX+1", -EINVAL);
	check_signal_fails("SIGRTMIN+", -EINVAL);
	check_signal_fails("SIGRTMIN+x", -EINVAL);
	check_signal_fails("SIGRTMIN+ 1", -EINVAL);
	check_signal_fails("SIGRTMIN+-1", -EINVAL);
	check_signal_fails("RTMINX", -EINVAL);
	check_signal_fails("rtmin", -EINVAL);
}

static void
test_signal_invalid(void **state)
{
	static const char *const bad[] = {
		"", "SIG", "term", "Term", "sigterm", "SIGterm", "SIGSIGTERM", "SIGTERM ",
		" SIGTERM", "NONE", "None", "SIGFOO", "-15", "+15", "15x", "1.5", "0x0f", "TERM15",
		"SIGRT", "0",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		check_signal_fails(bad[i], -EINVAL);
	check_signal_fails("65", -ERANGE);
	check_signal_fails("4294967311", -ERANGE);
	check_signal_fails("99999999999999999999999999", -ERANGE);
}

static void
test_signal_to_string(void **state)
{
	char buf[32];

	assert_string_equal(signal_to_string(SIGTERM), "SIGTERM");
	assert_string_equal(signal_to_string(SIGKILL), "SIGKILL");
	assert_string_equal(signal_to_string(SIGABRT), "SIGABRT");
	assert_string_equal(signal_to_string(SIGIO), "SIGIO");
	assert_string_equal(signal_to_string(SIGNAL_NONE), "none");
	assert_string_equal(signal_to_string(SIGRTMIN), "SIGRTMIN");
	snprintf(buf, sizeof(buf), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN);
	assert_string_equal(signal_to_string(SIGRTMAX), buf);
	assert_string_equal(signal_to_string(SIGRTMIN + 3), "SIGRTMIN+3");
	assert_string_equal(signal_to_string(-1), "-1");
	assert_string_equal(signal_to_string(1000), "1000");

	/* Every signal number names itself in a form parse_signal() reads back. */
	for (int sig = 0; sig < _NSIG; sig++) {
		int back = -1;

		assert_int_equal(parse_signal(signal_to_string(sig), &back), 0);
		assert_int_equal(back, sig);
	}
}

static void
test_boolean(void **state)
{
	static const char *const yes[] = { "yes", "YES", "Yes", "true", "TRUE", "on", "On", "1" };
	static const char *const no[] = { "no", "NO", "false", "False", "off", "OFF", "0" };
	static const char *const bad[] = { "", "y", "n", "2", "yess", " yes", "yes ", "01", "t",
		"enable", "-1", "onn" };
	bool b;

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		b = false;
		assert_int_equal(parse_boolean(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < ELEMENTSOF(no); i++) {
		b = true;
		assert_int_equal(parse_boolean(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		b = true;
		assert_int_equal(parse_boolean(bad[i], &b), -EINVAL);
		assert_true(b);
	}
}

static void
test_size(void **state)
{
	uint64_t v = 7;

	(void) state;
	assert_int_equal(parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_size("65536", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(parse_size("512K", &v), 0);
	assert_true(v == 512 * 1024);
	assert_int_equal(parse_size("10M", &v), 0);
	assert_true(v == 10 * 1024 * 1024);
	assert_int_equal(parse_size("10mb", &v), 0);
	assert_true(v == 10 * 1024 * 1024);
	assert_int_equal(parse_size("1G", &v), 0);
	assert_true(v == UINT64_C(1) << 30);
	assert_int_equal(parse_size("1048576G", &v), 0);
	assert_true(v == SIZE_LIMIT);

	v = 7;
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
	assert_int_equal(parse_size("1.5M", &v), -EINVAL);
	assert_int_equal(parse_size("10 M", &v), -EINVAL);
	assert_int_equal(parse_size("10T", &v), -EINVAL);
	assert_int_equal(parse_size("10MiB", &v), -EINVAL);
	assert_int_equal(parse_size("10B", &v), -EINVAL);
	assert_int_equal(parse_size("1048577G", &v), -ERANGE);
	assert_int_equal(parse_size("99999999999999999999999", &v), -ERANGE);
	assert_true(v == 7);
}

static void
test_unsigned(void **state)
{
	unsigned u = 7;

	assert_int_equal(parse_unsigned("0", 0, 10, &u), 0);
	assert_int_equal(u, 0);
	assert_int_equal(parse_unsigned("10", 0, 10, &u), 0);
	assert_int_equal(u, 10);
	assert_int_equal(parse_unsigned("0010", 0, 10, &u), 0);
	assert_int_equal(u, 10);
	assert_int_equal(parse_unsigned("4294967295", 0, UINT_MAX, &u), 0);
	assert_true(u == UINT_MAX);

	u = 7;
	assert_int_equal(parse_unsigned("11", 0, 10, &u), -ERANGE);
	assert_int_equal(parse_unsigned("4", 5, 10, &u), -ERANGE);
	assert_int_equal(parse_unsigned("4294967296", 0, UINT_MAX, &u), -ERANGE);
	assert_int_equal(parse_unsigned("18446744073709551616", 0, UINT_MAX, &u), -ERANGE);
	assert_int_equal(parse_unsigned("", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned("-1", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned("+1", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned(" 1", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned("1 ", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned("1 2", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned("0x1", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_unsigned("1e1", 0, 100, &u), -EINVAL);
	assert_int_equal(parse_unsigned("1.0", 0, 10, &u), -EINVAL);
	assert_int_equal(u, 7);
}

static void
test_mode(void **state)
{
	mode_t m = 0123;

	assert_int_equal(parse_mode("0660", &m), 0);
	assert_int_equal(m, 0660);
	assert_int_equal(parse_mode("077", &m), 0);
	assert_int_equal(m, 077);
	assert_int_equal(parse_mode("0", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(parse_mode("7777", &m), 0);
	assert_int_equal(m, 07777);
	assert_int_equal(parse_mode("00000000000000000000644", &m), 0);
	assert_int_equal(m, 0644);

	m = 0123;
	assert_int_equal(parse_mode("10000", &m), -ERANGE);
	assert_int_equal(parse_mode("077777777777777777777777", &m), -ERANGE);
	assert_int_equal(parse_mode("", &m), -EINVAL);
	assert_int_equal(parse_mode("0668", &m), -EINVAL);
	assert_int_equal(parse_mode("0o644", &m), -EINVAL);
	assert_int_equal(parse_mode("-644", &m), -EINVAL);
	assert_int_equal(parse_mode("644 ", &m), -EINVAL);
	assert_int_equal(parse_mode("u+rw", &m), -EINVAL);
	assert_int_equal(m, 0123);
}

/* Parses s, checks its canonical spelling, and that the spelling parses to an equal address. */
static void
check_listen(const char *s, const char *canonical, struct listen_address *ret)
{
	struct listen_address a, b;
	char buf[LISTEN_ADDRESS_MAX];

	if (parse_listen(s, &a) != 0)
		fail_msg("parse_listen(\"%s\") failed", s);
	assert_ptr_equal(listen_address_to_string(buf, sizeof(buf), &a), buf);
	assert_string_equal(buf, canonical);
	assert_int_equal(parse_listen(buf, &b), 0);
	assert_true(listen_address_equal(&a, &b));
	assert_true(listen_address_conflicts(&a, &b));
	if (ret)
		*ret = a;
}

static void
check_listen_fails(const char *s, int err)
{
	struct listen_address a;
	int r;

	memset(&a, 0x5a, sizeof(a));
	r = parse_listen(s, &a);
	if (r != err)
		fail_msg("parse_listen(\"%s\") = %d, expected %d", s, r, err);
	assert_int_equal(((unsigned char *) &a)[0], 0x5a);
	assert_int_equal(((unsigned char *) &a)[sizeof(a) - 1], 0x5a);
}

static void
test_listen_tcp(void **state)
{
	struct listen_address a;

	check_listen("tcp://127.0.0.1:8080", "tcp://127.0.0.1:8080", &a);
	assert_int_equal(a.kind, LISTEN_TCP);
	assert_int_equal(a.addr.in.sin_family, AF_INET);
	assert_int_equal(ntohs(a.addr.in.sin_port), 8080);
	assert_int_equal(ntohl(a.addr.in.sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(a.addr_len, sizeof(struct sockaddr_in));

	check_listen("tcp://0.0.0.0:80", "tcp://0.0.0.0:80", NULL);
	check_listen("tcp://*:80", "tcp://0.0.0.0:80", &a);
	assert_int_equal(a.addr.in.sin_addr.s_addr, htonl(INADDR_ANY));
	check_listen("tcp://localhost:8081", "tcp://127.0.0.1:8081", NULL);
	check_listen("tcp://10.1.2.3:1", "tcp://10.1.2.3:1", NULL);
	check_listen("tcp://10.1.2.3:65535", "tcp://10.1.2.3:65535", NULL);
	check_listen("tcp://10.1.2.3:00080", "tcp://10.1.2.3:80", NULL);

	check_listen("tcp://[::1]:80", "tcp://[::1]:80", &a);
	assert_int_equal(a.addr.in6.sin6_family, AF_INET6);
	assert_int_equal(ntohs(a.addr.in6.sin6_port), 80);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a.addr.in6.sin6_addr));
	assert_int_equal(a.addr_len, sizeof(struct sockaddr_in6));
	check_listen("tcp://[::]:443", "tcp://[::]:443", NULL);
	check_listen("tcp://[2001:DB8:0:0::1]:443", "tcp://[2001:db8::1]:443", NULL);
	check_listen("tcp://[::ffff:1.2.3.4]:443", "tcp://[::ffff:1.2.3.4]:443", NULL);

	check_listen_fails("tcp://127.0.0.1:0", -ERANGE);
	check_listen_fails("tcp://127.0.0.1:65536", -ERANGE);
	check_listen_fails("tcp://[::1]:0", -ERANGE);
	check_listen_fails("tcp://[::1]:99999999999999999999", -ERANGE);

	static const char *const bad[] = {
		"tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://:80", "tcp://127.0.0.1:http",
		"tcp://127.0.0.1:-1", "tcp://127.0.0.1:+80", "tcp://127.0.0.1:80 ",
		"tcp:// 127.0.0.1:80", "tcp://127.1:80", "tcp://1.2.3.256:80", "tcp://example.com:80",
		"tcp://LOCALHOST:80", "tcp://::1:80", "tcp://[::1]80", "tcp://[::1]", "tcp://[::1:80",
		"tcp://[]:80", "tcp://[1.2.3.4]:80", "tcp://[::1]:", "tcp://[fe80::1%eth0]:80",
		"tcp://[::1]:80:80", "tcp://127.0.0.1:80/", "TCP://127.0.0.1:80",
		"tcp:127.0.0.1:80", "udp://127.0.0.1:80", "127.0.0.1:80", "8080", "", "tcp://**:80",
		"tcp://[:::::::::::::::::::::::::::::::::::::::::::::::::::::::::::]:80",
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		check_listen_fails(bad[i], -EINVAL);
}

static void
test_listen_unix(void **state)
{
	struct listen_address a;
	char path[sizeof(a.addr.un.sun_path) + 16], s[sizeof(path) + 8];
	size_t max = sizeof(a.addr.un.sun_path) - 1;

	check_listen("unix:/run/graced/x.sock", "unix:/run/graced/x.sock", &a);
	assert_int_equal(a.kind, LISTEN_UNIX);
	assert_int_equal(a.addr.un.sun_family, AF_UNIX);
	assert_string_equal(a.addr.un.sun_path, "/run/graced/x.sock");
	assert_int_equal(a.addr_len,
	    offsetof(struct sockaddr_un, sun_path) + strlen("/run/graced/x.sock") + 1);
	check_listen("unix:/", "unix:/", NULL);
	check_listen("unix:/with space", "unix:/with space", NULL);

	/* The longest path that fits sun_path with its NUL, and one more. */
	path[0] = '/';
	memset(path + 1, 'p', max - 1);
	path[max] = '\0';
	snprintf(s, sizeof(s), "unix:%s", path);
	check_listen(s, s, &a);
	assert_int_equal(a.addr_len, sizeof(struct sockaddr_un));
	path[max] = 'p';
	path[max + 1] = '\0';
	snprintf(s, sizeof(s), "unix:%s", path);
	check_listen_fails(s, -ERANGE);

	/* Abstract: '@' stands for the leading NUL; no trailing NUL is counted. */
	check_listen("unix:@graced", "unix:@graced", &a);
	assert_int_equal(a.addr.un.sun_path[0], '\0');
	assert_memory_equal(a.addr.un.sun_path + 1, "graced", 6);
	assert_int_equal(a.addr_len, offsetof(struct sockaddr_un, sun_path) + 1 + 6);
	path[0] = '@';
	memset(path + 1, 'a', max);
	path[max + 1] = '\0';
	snprintf(s, sizeof(s), "unix:%s", path);
	check_listen(s, s, &a);
	assert_int_equal(a.addr_len, sizeof(struct sockaddr_un));
	path[max + 1] = 'a';
	path[max + 2] = '\0';
	snprintf(s, sizeof(s), "unix:%s", path);
	check_listen_fails(s, -ERANGE);

	check_listen_fails("unix:", -EINVAL);
	check_listen_fails("unix:@", -EINVAL);
	check_listen_fails("unix:run/x.sock", -EINVAL);
	check_listen_fails("unix:./x.sock", -EINVAL);
	check_listen("unix://run/x.sock", "unix://run/x.sock", NULL);
	check_listen_fails("UNIX:/x", -EINVAL);
}

static void
test_listen_systemd(void **state)
{
	struct listen_address a;
	char name[300], s[320];

	check_listen("systemd:http", "systemd:http", &a);
	assert_int_equal(a.kind, LISTEN_SYSTEMD);
	assert_string_equal(a.name, "http");
	check_listen("systemd:web.socket", "systemd:web.socket", NULL);
	check_listen("systemd:a b", "systemd:a b", NULL);

	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(s, sizeof(s), "systemd:%s", name);
	check_listen(s, s, &a);
	assert_int_equal(strlen(a.name), 255);
	name[255] = 'n';
	name[256] = '\0';
	snprintf(s, sizeof(s), "systemd:%s", name);
	check_listen_fails(s, -ERANGE);

	check_listen_fails("systemd:", -EINVAL);
	check_listen_fails("systemd:a:b", -EINVAL);
	check_listen_fails("systemd:a\tb", -EINVAL);
	check_listen_fails("systemd:a\nb", -EINVAL);
	check_listen_fails("systemd:a\x7f", -EINVAL);
	check_listen_fails("systemd:caf\xc3\xa9", -EINVAL);
	check_listen_fails("Systemd:http", -EINVAL);
}

static void
test_listen_equal(void **state)
{
	struct listen_address any4, lo4, lo4b, other_port, any6, lo6, unix1, unix2, abs1, sd1, sd2;

	assert_int_equal(parse_listen("tcp://0.0.0.0:80", &any4), 0);
	assert_int_equal(parse_listen("tcp://127.0.0.1:80", &lo4), 0);
	assert_int_equal(parse_listen("tcp://localhost:80", &lo4b), 0);
	assert_int_equal(parse_listen("tcp://127.0.0.1:81", &other_port), 0);
	assert_int_equal(parse_listen("tcp://[::]:80", &any6), 0);
	assert_int_equal(parse_listen("tcp://[::1]:80", &lo6), 0);
	assert_int_equal(parse_listen("unix:/run/a", &unix1), 0);
	assert_int_equal(parse_listen("unix:/run/b", &unix2), 0);
	assert_int_equal(parse_listen("unix:@/run/a", &abs1), 0);
	assert_int_equal(parse_listen("systemd:http", &sd1), 0);
	assert_int_equal(parse_listen("systemd:https", &sd2), 0);

	assert_true(listen_address_equal(&lo4, &lo4b));
	assert_false(listen_address_equal(&lo4, &any4));
	assert_false(listen_address_equal(&lo4, &other_port));
	assert_false(listen_address_equal(&any4, &any6));
	assert_false(listen_address_equal(&lo6, &any6));
	assert_false(listen_address_equal(&unix1, &unix2));
	assert_false(listen_address_equal(&unix1, &abs1));
	assert_false(listen_address_equal(&sd1, &sd2));
	assert_false(listen_address_equal(&sd1, &unix1));
	assert_true(listen_address_equal(&sd1, &sd1));

	/* Wildcards conflict with any address of their family on the same port. */
	assert_true(listen_address_conflicts(&any4, &lo4));
	assert_true(listen_address_conflicts(&lo4, &any4));
	assert_true(listen_address_conflicts(&any6, &lo6));
	assert_false(listen_address_conflicts(&any4, &other_port));
	assert_false(listen_address_conflicts(&any4, &any6));
	assert_false(listen_address_conflicts(&any4, &lo6));
	assert_false(listen_address_conflicts(&unix1, &unix2));
	assert_true(listen_address_conflicts(&sd1, &sd1));
	assert_false(listen_address_conflicts(&sd1, &sd2));

	/* A kind outside the enum prints as nothing and equals nothing. */
	{
		struct listen_address bad = sd1;
		char buf[LISTEN_ADDRESS_MAX] = "x";

		bad.kind = _LISTEN_KIND_MAX;
		assert_string_equal(listen_address_to_string(buf, sizeof(buf), &bad), "");
		assert_false(listen_address_equal(&bad, &bad));
		assert_string_equal(listen_address_to_string(buf, 1, &lo6), "");
		buf[0] = 'x';
		assert_ptr_equal(listen_address_to_string(buf, 0, &lo6), buf);
		assert_int_equal(buf[0], 'x');
		assert_string_equal(listen_address_to_string(buf, 8, &lo6), "tcp://[");
	}
}

static void
test_ready(void **state)
{
	struct ready_spec r, keep = { .kind = READY_NOTIFY, .port = 9, .delay = 9 };

	r = keep;
	assert_int_equal(parse_ready("none", &r), 0);
	assert_int_equal(r.kind, READY_NONE);
	assert_int_equal(parse_ready("notify", &r), 0);
	assert_int_equal(r.kind, READY_NOTIFY);
	assert_int_equal(parse_ready("tcp:8080", &r), 0);
	assert_int_equal(r.kind, READY_TCP);
	assert_int_equal(r.port, 8080);
	assert_int_equal(parse_ready("tcp:65535", &r), 0);
	assert_int_equal(r.port, 65535);
	assert_int_equal(parse_ready("delay:2s500ms", &r), 0);
	assert_int_equal(r.kind, READY_DELAY);
	assert_true(r.delay == 2500 * USEC_PER_MSEC);
	assert_int_equal(parse_ready("delay:0", &r), 0);
	assert_true(r.delay == 0);

	r = keep;
	assert_int_equal(parse_ready("tcp:0", &r), -ERANGE);
	assert_int_equal(parse_ready("tcp:65536", &r), -ERANGE);
	assert_int_equal(parse_ready("delay:infinity", &r), -ERANGE);
	assert_int_equal(parse_ready("delay:99999999999999999999s", &r), -ERANGE);
	assert_int_equal(parse_ready("", &r), -EINVAL);
	assert_int_equal(parse_ready("NOTIFY", &r), -EINVAL);
	assert_int_equal(parse_ready("tcp", &r), -EINVAL);
	assert_int_equal(parse_ready("tcp:", &r), -EINVAL);
	assert_int_equal(parse_ready("tcp:http", &r), -EINVAL);
	assert_int_equal(parse_ready("tcp: 80", &r), -EINVAL);
	assert_int_equal(parse_ready("delay:", &r), -EINVAL);
	assert_int_equal(parse_ready("delay:5", &r), -EINVAL);
	assert_int_equal(parse_ready("delay", &r), -EINVAL);
	assert_int_equal(parse_ready("none ", &r), -EINVAL);
	assert_int_equal(parse_ready("notify:1", &r), -EINVAL);
	assert_int_equal(r.kind, keep.kind);
	assert_int_equal(r.port, keep.port);
	assert_true(r.delay == keep.delay);
}

static void
test_start_limit(void **state)
{
	unsigned burst = 77;
	usec_t interval = SENTINEL_USEC;

	assert_int_equal(parse_start_limit("5 in 60s", &burst, &interval), 0);
	assert_int_equal(burst, 5);
	assert_true(interval == 60 * USEC_PER_SEC);
	assert_int_equal(parse_start_limit("  1\tin  1m30s ", &burst, &interval), 0);
	assert_int_equal(burst, 1);
	assert_true(interval == 90 * USEC_PER_SEC);
	assert_int_equal(parse_start_limit("none", &burst, &interval), 0);
	assert_int_equal(burst, 0);
	assert_true(interval == 0);
	assert_int_equal(parse_start_limit(" none ", &burst, &interval), 0);

	burst = 77;
	interval = SENTINEL_USEC;
	assert_int_equal(parse_start_limit("0 in 60s", &burst, &interval), -ERANGE);
	assert_int_equal(parse_start_limit("5 in 0", &burst, &interval), -ERANGE);
	assert_int_equal(parse_start_limit("5 in infinity", &burst, &interval), -ERANGE);
	assert_int_equal(parse_start_limit("4294967296 in 1s", &burst, &interval), -ERANGE);
	assert_int_equal(parse_start_limit("", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("0", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 in", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 in ", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5in60s", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 in60s", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 per 60s", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 in 60", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 in 60s 1", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("5 in 1m 30s", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("-5 in 60s", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("none in 60s", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("none x", &burst, &interval), -EINVAL);
	assert_int_equal(parse_start_limit("NONE", &burst, &interval), -EINVAL);
	assert_int_equal(burst, 77);
	assert_true(interval == SENTINEL_USEC);
}

/* Splits s and compares with the NULL-terminated expected words. */
static void
check_argv(const char *s, ...)
{
	_cleanup_strv_free_ char **l = NULL;
	va_list ap;
	size_t i = 0;
	const char *w;

	if (parse_argv(s, &l) != 0)
		fail_msg("parse_argv(<%s>) failed", s);
	va_start(ap, s);
	while ((w = va_arg(ap, const char *))) {
		if (!l[i])
			fail_msg("parse_argv(<%s>): missing word %zu <%s>", s, i, w);
		if (!streq(l[i], w))
			fail_msg("parse_argv(<%s>): word %zu is <%s>, expected <%s>", s, i, l[i], w);
		i++;
	}
	va_end(ap);
	if (l[i])
		fail_msg("parse_argv(<%s>): extra word <%s>", s, l[i]);
}

static void
check_argv_fails(const char *s, int err)
{
	char **l = (char **) 0x1;
	int r = parse_argv(s, &l);

	if (r != err)
		fail_msg("parse_argv(<%s>) = %d, expected %d", s, r, err);
	assert_ptr_equal(l, (char **) 0x1);
}

static void
test_argv(void **state)
{
	check_argv("/usr/bin/web --listen-fd 3", "/usr/bin/web", "--listen-fd", "3", NULL);
	check_argv("  a \t b\n", "a", "b", NULL);
	check_argv("a", "a", NULL);
	check_argv("sh -c 'echo $HOME; exit 1'", "sh", "-c", "echo $HOME; exit 1", NULL);
	check_argv("'a\\b'", "a\\b", NULL);
	check_argv("'it''s'", "its", NULL);
	check_argv("\"a b\"", "a b", NULL);
	check_argv("\"a \\\"b\\\" c\"", "a \"b\" c", NULL);
	check_argv("\"\\\\ \\$ \\`\"", "\\ $ `", NULL);
	/* Before other characters the backslash stays, as in sh. */
	check_argv("\"\\n\\a\\'\"", "\\n\\a\\'", NULL);
	check_argv("\"'\"", "'", NULL);
	check_argv("'\"'", "\"", NULL);
	check_argv("a\"b c\"d", "ab cd", NULL);
	check_argv("a'b c'd\"e f\"g", "ab cde fg", NULL);
	check_argv("''", "", NULL);
	check_argv("\"\"", "", NULL);
	check_argv("a '' b", "a", "", "b", NULL);
	check_argv("a\"\"", "a", NULL);
	check_argv("a\\ b", "a b", NULL);
	check_argv("\\'", "'", NULL);
	check_argv("\\\"", "\"", NULL);
	check_argv("\\\\", "\\", NULL);
	check_argv("\\a", "a", NULL);
	check_argv("a\\\tb", "a\tb", NULL);
	check_argv("$HOME *.c ~ ;|&", "$HOME", "*.c", "~", ";|&", NULL);
	check_argv("\"$HOME\"", "$HOME", NULL);
	check_argv("'multi\nline'", "multi\nline", NULL);

	check_argv_fails("", -ENODATA);
	check_argv_fails("   \t\n ", -ENODATA);
	check_argv_fails("'abc", -EINVAL);
	check_argv_fails("\"abc", -EINVAL);
	check_argv_fails("\"abc\\\"", -EINVAL);
	check_argv_fails("abc\\", -EINVAL);
	check_argv_fails("a 'b", -EINVAL);
	check_argv_fails("'", -EINVAL);
	check_argv_fails("\"", -EINVAL);
	check_argv_fails("\\", -EINVAL);
}

static void
test_argv_long(void **state)
{
	_cleanup_strv_free_ char **l = NULL;
	char buf[1025];

	/* 512 one-letter words, and one 1024-char word. */
	for (size_t i = 0; i < 1024; i += 2) {
		buf[i] = 'x';
		buf[i + 1] = ' ';
	}
	buf[1024] = '\0';
	assert_int_equal(parse_argv(buf, &l), 0);
	assert_int_equal(strv_length(l), 512);
	l = strv_free(l);

	memset(buf, 'y', 1024);
	assert_int_equal(parse_argv(buf, &l), 0);
	assert_int_equal(strv_length(l), 1);
	assert_int_equal(strlen(l[0]), 1024);
}

static void
test_environment(void **state)
{
	_cleanup_strv_free_ char **l = NULL;
	char **keep = (char **) 0x1;

	assert_int_equal(parse_environment("PORT=8080 MODE=prod", &l), 0);
	assert_int_equal(strv_length(l), 2);
	assert_string_equal(l[0], "PORT=8080");
	assert_string_equal(l[1], "MODE=prod");
	l = strv_free(l);

	assert_int_equal(parse_environment("A=1 B='two words' _C= d9=\"x=y\"", &l), 0);
	assert_int_equal(strv_length(l), 4);
	assert_string_equal(l[0], "A=1");
	assert_string_equal(l[1], "B=two words");
	assert_string_equal(l[2], "_C=");
	assert_string_equal(l[3], "d9=x=y");
	l = strv_free(l);

	assert_int_equal(parse_environment("'A=quoted whole'", &l), 0);
	assert_string_equal(l[0], "A=quoted whole");
	l = strv_free(l);

	assert_int_equal(parse_environment("", &l), 0);
	assert_int_equal(strv_length(l), 0);
	l = strv_free(l);
	assert_int_equal(parse_environment("  ", &l), 0);
	assert_int_equal(strv_length(l), 0);
	l = strv_free(l);

	assert_int_equal(parse_environment("A", &keep), -EINVAL);
	assert_int_equal(parse_environment("=1", &keep), -EINVAL);
	assert_int_equal(parse_environment("1A=1", &keep), -EINVAL);
	assert_int_equal(parse_environment("A-B=1", &keep), -EINVAL);
	assert_int_equal(parse_environment("A.B=1", &keep), -EINVAL);
	assert_int_equal(parse_environment("A=1 B", &keep), -EINVAL);
	assert_int_equal(parse_environment("A =1", &keep), -EINVAL);
	assert_int_equal(parse_environment("A='1", &keep), -EINVAL);
	assert_int_equal(parse_environment("''", &keep), -EINVAL);
	assert_ptr_equal(keep, (char **) 0x1);
}

static void
test_word_list(void **state)
{
	_cleanup_strv_free_ char **l = NULL;

	assert_int_equal(parse_word_list("db, cache", &l), 0);
	assert_int_equal(strv_length(l), 2);
	assert_string_equal(l[0], "db");
	assert_string_equal(l[1], "cache");
	l = strv_free(l);

	assert_int_equal(parse_word_list("db cache", &l), 0);
	assert_int_equal(strv_length(l), 2);
	l = strv_free(l);

	assert_int_equal(parse_word_list(",,a,,b , ,c,\t", &l), 0);
	assert_int_equal(strv_length(l), 3);
	assert_string_equal(l[0], "a");
	assert_string_equal(l[1], "b");
	assert_string_equal(l[2], "c");
	l = strv_free(l);

	assert_int_equal(parse_word_list("", &l), 0);
	assert_non_null(l);
	assert_null(l[0]);
	l = strv_free(l);

	assert_int_equal(parse_word_list(" , ,", &l), 0);
	assert_null(l[0]);
	l = strv_free(l);

	assert_int_equal(parse_word_list("single", &l), 0);
	assert_int_equal(strv_length(l), 1);
	assert_string_equal(l[0], "single");
}

static void
test_name_is_valid(void **state)
{
	char buf[70];

	assert_true(name_is_valid("web"));
	assert_true(name_is_valid("web_1"));
	assert_true(name_is_valid("a-b"));
	assert_true(name_is_valid("A9"));
	assert_true(name_is_valid("_"));
	assert_true(name_is_valid("0"));
	assert_true(name_is_valid("x-"));

	assert_false(name_is_valid(NULL));
	assert_false(name_is_valid(""));
	assert_false(name_is_valid("-web"));
	assert_false(name_is_valid("web.0"));
	assert_false(name_is_valid("a b"));
	assert_false(name_is_valid("a/b"));
	assert_false(name_is_valid("a:b"));
	assert_false(name_is_valid("caf\xc3\xa9"));

	memset(buf, 'n', 64);
	buf[64] = '\0';
	assert_true(name_is_valid(buf));
	buf[64] = 'n';
	buf[65] = '\0';
	assert_false(name_is_valid(buf));
}

static void
check_expand(const char *s, const char *expected)
{
	_cleanup_free_ char *out = NULL, *missing = NULL;

	if (expand_env(s, &out, &missing) != 0)
		fail_msg("expand_env(<%s>) failed", s);
	assert_string_equal(out, expected);
	assert_null(missing);
}

static void
check_expand_fails(const char *s, int err, const char *missing_name)
{
	char *out = (char *) 0x1, *missing = NULL;
	int r = expand_env(s, &out, &missing);

	if (r != err)
		fail_msg("expand_env(<%s>) = %d, expected %d", s, r, err);
	assert_ptr_equal(out, (char *) 0x1);
	if (missing_name) {
		assert_non_null(missing);
		assert_string_equal(missing, missing_name);
	} else
		assert_null(missing);
	free(missing);
}

static void
test_expand_env(void **state)
{
	assert_int_equal(setenv("GRACED_T_A", "alpha", 1), 0);
	assert_int_equal(setenv("GRACED_T_EMPTY", "", 1), 0);
	assert_int_equal(setenv("GRACED_T_DOLLAR", "${GRACED_T_A}$$", 1), 0);
	assert_int_equal(unsetenv("GRACED_T_UNSET"), 0);

	check_expand("", "");
	check_expand("plain text", "plain text");
	check_expand("${GRACED_T_A}", "alpha");
	check_expand("x${GRACED_T_A}y${GRACED_T_A}", "xalphayalpha");
	check_expand("${GRACED_T_EMPTY}", "");
	check_expand("${GRACED_T_EMPTY:-dflt}", "dflt");
	check_expand("${GRACED_T_UNSET:-dflt}", "dflt");
	check_expand("${GRACED_T_UNSET:-}", "");
	check_expand("${GRACED_T_A:-dflt}", "alpha");
	check_expand("${GRACED_T_UNSET:-a b:-c $ $$ d}", "a b:-c $ $ d");
	check_expand("${GRACED_T_UNSET:-{x}", "{x");
	/* Values are not expanded again. */
	check_expand("${GRACED_T_DOLLAR}", "${GRACED_T_A}$$");
	check_expand("$$", "$");
	check_expand("$${GRACED_T_A}", "${GRACED_T_A}");
	check_expand("$$$$", "$$");
	check_expand("$", "$");
	check_expand("a$b", "a$b");
	check_expand("$HOME", "$HOME");
	check_expand("cost: 5$", "cost: 5$");
	check_expand("$ {x}", "$ {x}");
	check_expand("}", "}");
	check_expand("${GRACED_T_A}}", "alpha}");

	check_expand_fails("${GRACED_T_UNSET}", -ENXIO, "GRACED_T_UNSET");
	check_expand_fails("a ${GRACED_T_A} ${GRACED_T_UNSET} ${GRACED_T_A}", -ENXIO,
	    "GRACED_T_UNSET");
	check_expand_fails("${", -EINVAL, NULL);
	check_expand_fails("${GRACED_T_A", -EINVAL, NULL);
	check_expand_fails("${}", -EINVAL, NULL);
	check_expand_fails("${1X}", -EINVAL, NULL);
	check_expand_fails("${A-B}", -EINVAL, NULL);
	check_expand_fails("${A B}", -EINVAL, NULL);
	check_expand_fails("${A:B}", -EINVAL, NULL);
	check_expand_fails("${A:=x}", -EINVAL, NULL);
	check_expand_fails("${GRACED_T_UNSET:-x", -EINVAL, NULL);
	check_expand_fails("${GRACED_T_UNSET:-${GRACED_T_A}}", -EINVAL, NULL);
	check_expand_fails("ok ${GRACED_T_A} then ${", -EINVAL, NULL);

	/* ret_missing is optional. */
	{
		char *out = NULL;

		assert_int_equal(expand_env("${GRACED_T_UNSET}", &out, NULL), -ENXIO);
		assert_null(out);
	}

	unsetenv("GRACED_T_A");
	unsetenv("GRACED_T_EMPTY");
	unsetenv("GRACED_T_DOLLAR");
}

static void
test_expand_env_long(void **state)
{
	_cleanup_free_ char *big = malloc(1025), *out = NULL, *in = NULL;
	char buf[1100];

	assert_non_null(big);
	memset(big, 'v', 1024);
	big[1024] = '\0';
	assert_int_equal(setenv("GRACED_T_BIG", big, 1), 0);
	snprintf(buf, sizeof(buf), "<${GRACED_T_BIG}>%s", "$$");
	assert_int_equal(expand_env(buf, &out, NULL), 0);
	assert_int_equal(strlen(out), 1024 + 3);
	assert_int_equal(out[0], '<');
	assert_int_equal(out[1025], '>');
	assert_int_equal(out[1026], '$');
	unsetenv("GRACED_T_BIG");

	in = strdup(big);
	assert_non_null(in);
	free(out);
	out = NULL;
	assert_int_equal(expand_env(in, &out, NULL), 0);
	assert_string_equal(out, big);
}

static void
test_suggest_closest(void **state)
{
	static const char *const keys[] = {
		"stop_timeout", "stop_signal", "kill_timeout", "kill_signal", "join_timeout",
		"command", "instances", "after", "sockets", "ready", "restart", "user",
	};
	static const char *const twins[] = { "abcd", "abce" };

	assert_string_equal(suggest_closest("stop_timout", keys, ELEMENTSOF(keys)), "stop_timeout");
	assert_string_equal(suggest_closest("stop_tiemout", keys, ELEMENTSOF(keys)), "stop_timeout");
	assert_string_equal(suggest_closest("stop_timeout", keys, ELEMENTSOF(keys)), "stop_timeout");
	assert_string_equal(suggest_closest("comand", keys, ELEMENTSOF(keys)), "command");
	assert_string_equal(suggest_closest("instance", keys, ELEMENTSOF(keys)), "instances");
	assert_string_equal(suggest_closest("kill_sigal", keys, ELEMENTSOF(keys)), "kill_signal");
	assert_string_equal(suggest_closest("usr", keys, ELEMENTSOF(keys)), "user");
	assert_string_equal(suggest_closest("aftre", keys, ELEMENTSOF(keys)), "after");

	assert_null(suggest_closest("bananas", keys, ELEMENTSOF(keys)));
	assert_null(suggest_closest("", keys, ELEMENTSOF(keys)));
	assert_null(suggest_closest("x", keys, ELEMENTSOF(keys)));
	assert_null(suggest_closest("stop", keys, ELEMENTSOF(keys)));
	assert_null(suggest_closest("stop_timeout", keys, 0));
	/* A tie is not a suggestion. */
	assert_null(suggest_closest("abcf", twins, ELEMENTSOF(twins)));
	assert_string_equal(suggest_closest("abcd", twins, ELEMENTSOF(twins)), "abcd");
	/* NULL entries (a sparse table) are skipped; a duplicate is not a tie. */
	{
		static const char *const sparse[] = { NULL, "restart", NULL, "restart" };

		assert_string_equal(suggest_closest("restrat", sparse, ELEMENTSOF(sparse)), "restart");
	}

	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_null(suggest_closest(big, keys, ELEMENTSOF(keys)));
	}
}

#define CHECK_TABLE(name, max, ...)                                                                \
	do {                                                                                       \
		static const char *const expected[] = { __VA_ARGS__ };                             \
		assert_int_equal(ELEMENTSOF(expected), max);                                       \
		for (int i = 0; i < (int) (max); i++) {                                            \
			assert_string_equal(name##_to_string(i), expected[i]);                     \
			assert_int_equal(name##_from_string(expected[i]), i);                      \
		}                                                                                  \
		assert_null(name##_to_string(max));                                                \
		assert_null(name##_to_string(-1));                                                 \
		assert_null(name##_to_string(-EINVAL));                                            \
		assert_int_equal(name##_from_string(""), -EINVAL);                                 \
		assert_int_equal(name##_from_string("bogus"), -EINVAL);                            \
		assert_int_equal(name##_from_string(NULL), -EINVAL);                               \
	} while (0)

static void
test_enum_tables(void **state)
{
	CHECK_TABLE(phase, _PHASE_MAX, "intake", "stop", "cancel", "join", "close");
	CHECK_TABLE(log_level, _LOG_LEVEL_MAX, "err", "warning", "notice", "info", "debug");
	CHECK_TABLE(log_target, _LOG_TARGET_MAX, "auto", "stderr", "journal");
	CHECK_TABLE(second_signal, _SECOND_SIGNAL_MAX, "escalate", "ignore");
	CHECK_TABLE(when_empty, _WHEN_EMPTY_MAX, "shutdown", "stay");
	CHECK_TABLE(intake_type, _INTAKE_TYPE_MAX, "socket", "readiness", "exec", "signal");
	CHECK_TABLE(ready_kind, _READY_KIND_MAX, "none", "notify", "tcp", "delay");
	CHECK_TABLE(restart_policy, _RESTART_POLICY_MAX, "no", "on-failure", "always");
	CHECK_TABLE(kill_mode, _KILL_MODE_MAX, "group", "main");
	CHECK_TABLE(output_mode, _OUTPUT_MODE_MAX, "inherit", "prefix", "journal", "file");
	CHECK_TABLE(stderr_mode, _STDERR_MODE_MAX, "auto", "stdout", "separate", "file");
	CHECK_TABLE(resource_type, _RESOURCE_TYPE_MAX, "file", "exec");
	CHECK_TABLE(listen_kind, _LISTEN_KIND_MAX, "tcp", "unix", "systemd");

	/* Case matters, as for every other keyword. */
	assert_int_equal(phase_from_string("Stop"), _PHASE_INVALID);
	assert_int_equal(log_level_from_string("ERR"), _LOG_LEVEL_INVALID);
	assert_int_equal(restart_policy_from_string("on_failure"), _RESTART_POLICY_INVALID);
	assert_int_equal(log_level_from_string("error"), _LOG_LEVEL_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_duration_range),
		cmocka_unit_test(test_duration_long_input),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_signal_names),
		cmocka_unit_test(test_signal_realtime),
		cmocka_unit_test(test_signal_invalid),
		cmocka_unit_test(test_signal_to_string),
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_listen_tcp),
		cmocka_unit_test(test_listen_unix),
		cmocka_unit_test(test_listen_systemd),
		cmocka_unit_test(test_listen_equal),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_start_limit),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_argv_long),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_word_list),
		cmocka_unit_test(test_name_is_valid),
		cmocka_unit_test(test_expand_env),
		cmocka_unit_test(test_expand_env_long),
		cmocka_unit_test(test_suggest_closest),
		cmocka_unit_test(test_enum_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
