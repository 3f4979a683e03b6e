/* SPDX-License-Identifier: MIT */
/*
 * The notify message parser (every way a worker's datagram can be wrong), the messages graced
 * sends to systemd (sd_notify wrapped), the EXTEND_TIMEOUT_USEC= budget, the systemd deadline
 * source of the plan, and the journal fields of log.c (journal_send wrapped). The clock is fake
 * (now_usec wrapped): it moves only when sd_bus_wait() (wrapped) waits, by what it was asked to
 * wait, so the D-Bus time box is checked to the microsecond and no loaded machine can break it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "plan.h"
#include "report.h"
#include "util.h"

/* now_usec(): a fake clock, moved by the tests and by __wrap_sd_bus_wait() only. */
static usec_t fake_now = 1000 * USEC_PER_SEC;
usec_t __wrap_now_usec(void);
usec_t
__wrap_now_usec(void)
{
	return fake_now;
}

/* sd_bus_wait(): a bus that never answers, waited out in full on the fake clock. An unbounded
 * wait moves the clock far past any deadline. */
static unsigned bus_waits;
int __wrap_sd_bus_wait(sd_bus *bus, uint64_t timeout_usec);
int
__wrap_sd_bus_wait(sd_bus *bus, uint64_t timeout_usec)
{
	(void) bus;
	bus_waits++;
	fake_now = timeout_usec == UINT64_MAX ? USEC_INFINITY / 2 : fake_now + timeout_usec;
	return 0;
}

/* sd_notify(): the messages graced would send, joined with '|'. */
static char sent[4096];
int __wrap_sd_notify(int unset_environment, const char *state);
int
__wrap_sd_notify(int unset_environment, const char *state)
{
	size_t n = strlen(sent);

	snprintf(sent + n, sizeof(sent) - n, "%s%s", n ? "|" : "", state);
	return 1;
}

/* journal_send() (journal.c): the fields of the last entry, one per line. */
static char journal[4096];
int __wrap_journal_send(const char *path, const struct iovec *iov, size_t n);
int
__wrap_journal_send(const char *path, const struct iovec *iov, size_t n)
{
	size_t len = 0;

	journal[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t) snprintf(journal + len, sizeof(journal) - len, "%.*s\n",
		    (int) iov[i].iov_len, (const char *) iov[i].iov_base);
	return 0;
}

/* sd_pid_get_unit(): the real one unless a test names a unit. */
static const char *fake_unit;
int __real_sd_pid_get_unit(pid_t pid, char **unit);
int __wrap_sd_pid_get_unit(pid_t pid, char **unit);
int
__wrap_sd_pid_get_unit(pid_t pid, char **unit)
{
	if (!fake_unit)
		return __real_sd_pid_get_unit(pid, unit);
	*unit = strdup(fake_unit);
	return *unit ? 0 : -ENOMEM;
}

static int
parse(const char *s, struct notify_message *m)
{
	return notify_message_parse(s, strlen(s), m);
}

static void
parse_everything(void **state)
{
	struct notify_message m;

	assert_int_equal(parse("READY=1\nSTATUS=serving 3 clients\nMAINPID=42\n"
			       "EXTEND_TIMEOUT_USEC=5000000\nWATCHDOG=1\nSTOPPING=1\n", &m), 0);
	assert_true(m.ready);
	assert_true(m.stopping);
	assert_true(m.watchdog);
	assert_false(m.watchdog_trigger);
	assert_int_equal(m.status_len, strlen("serving 3 clients"));
	assert_memory_equal(m.status, "serving 3 clients", m.status_len);
	assert_int_equal(m.main_pid, 42);
	assert_int_equal(m.extend_timeout, 5000000);
	assert_int_equal(m.unknown, 0);
}

static void
parse_defaults(void **state)
{
	struct notify_message m;

	assert_int_equal(parse("STATUS=", &m), 0);
	assert_false(m.ready);
	assert_non_null(m.status);
	assert_int_equal(m.status_len, 0);
	assert_int_equal(m.extend_timeout, USEC_INFINITY);
	assert_int_equal(m.main_pid, 0);

	/* Empty lines and a missing final newline are fine; the last assignment wins. */
	assert_int_equal(parse("\n\nSTATUS=a\n\nSTATUS=b", &m), 0);
	assert_memory_equal(m.status, "b", 1);
	assert_int_equal(parse("WATCHDOG=trigger", &m), 0);
	assert_true(m.watchdog_trigger);
	assert_false(m.watchdog);
	assert_int_equal(parse("EXTEND_TIMEOUT_USEC=0", &m), 0);
	assert_int_equal(m.extend_timeout, 0);
	/* A tab and UTF-8 in a status are text. */
	assert_int_equal(parse("STATUS=a\tb \xc3\xa9", &m), 0);
}

static void
parse_unknown(void **state)
{
	struct notify_message m;

	/* Known keys still count; the others are counted and named. */
	assert_int_equal(parse("FDSTORE=1\nREADY=1\nBARRIER=1\nX_CUSTOM=y", &m), 0);
	assert_true(m.ready);
	assert_int_equal(m.unknown, 3);
	assert_int_equal(m.first_unknown_len, strlen("FDSTORE"));
	assert_memory_equal(m.first_unknown, "FDSTORE", m.first_unknown_len);
}

static void
parse_rejects(void **state)
{
	static const char *const bad[] = {
		"READY",              /* no '=' */
		"=1",                 /* no key */
		"ready=1",            /* lower case */
		"READY =1",           /* a space in the key */
		"READY=2",
		"READY=",
		"READY=1 ",
		"STOPPING=yes",
		"WATCHDOG=0",
		"MAINPID=0",
		"MAINPID=-1",
		"MAINPID=abc",
		"MAINPID=2147483648", /* beyond pid_t */
		"EXTEND_TIMEOUT_USEC=",
		"EXTEND_TIMEOUT_USEC=-5",
		"EXTEND_TIMEOUT_USEC=1s",
		"EXTEND_TIMEOUT_USEC=18446744073709551616",
		"STATUS=a\rb",        /* a control byte */
		"STATUS=a\x1b[31m",
		"READY=1\nSTATUS=\x7f",
		"READY=1\nbogus line",
	};
	struct notify_message m = { .ready = true, .main_pid = 7 };

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int r = parse(bad[i], &m);

		if (r != -EBADMSG && r != -EINVAL)
			fail_msg("'%s' gave %d", bad[i], r);
	}
	/* Nothing is written on failure. */
	assert_true(m.ready);
	assert_int_equal(m.main_pid, 7);
}

static void
parse_binary_and_size(void **state)
{
	static char big[NOTIFY_MESSAGE_MAX + 2];
	struct notify_message m;

	assert_int_equal(notify_message_parse("READY=1\0READY=1", 15, &m), -EBADMSG);
	assert_int_equal(notify_message_parse("\0\0\0", 3, &m), -EBADMSG);
	assert_int_equal(notify_message_parse("", 0, &m), -EMSGSIZE);

	/* Exactly the limit is accepted, one byte more is not. */
	memcpy(big, "STATUS=", 7);
	memset(big + 7, 'x', sizeof(big) - 7);
	assert_int_equal(notify_message_parse(big, NOTIFY_MESSAGE_MAX, &m), 0);
	assert_int_equal(m.status_len, NOTIFY_MESSAGE_MAX - 7);
	assert_int_equal(notify_message_parse(big, NOTIFY_MESSAGE_MAX + 1, &m), -EMSGSIZE);

	/* Every single byte value alone: never a crash; only a lone newline (nothing said) passes. */
	for (int c = 0; c < 256; c++) {
		char b = (char) c;

		if (c == '\n')
			assert_int_equal(notify_message_parse(&b, 1, &m), 0);
		else
			assert_true(notify_message_parse(&b, 1, &m) < 0);
	}
}

static void
messages_to_systemd(void **state)
{
	struct notify sv = { 0 };
	char want[128];

	/* Without NOTIFY_SOCKET nothing is sent. */
	sent[0] = '\0';
	unsetenv("NOTIFY_SOCKET");
	notify_status(&sv, "starting: 0 workers, 2 starting");
	assert_string_equal(sent, "");
	setenv("NOTIFY_SOCKET", "/run/test/notify", 1);

	notify_ready(&sv, "running: 2 workers");
	notify_ready(&sv, "running: 2 workers"); /* once only */
	snprintf(want, sizeof(want), "READY=1\nSTATUS=running: 2 workers\nMAINPID=%ld",
	    (long) getpid());
	assert_string_equal(sent, want);

	/* STATUS= only when it changed. */
	sent[0] = '\0';
	notify_status(&sv, "running: 2 workers");
	assert_string_equal(sent, "");
	notify_status(&sv, "running: 1 worker, 1 failed");
	assert_string_equal(sent, "STATUS=running: 1 worker, 1 failed");
	unsetenv("NOTIFY_SOCKET");
}

static void
extend_budget(void **state)
{
	usec_t worst = 10 * USEC_PER_SEC, triggered = 100 * USEC_PER_SEC;
	usec_t now = 103 * USEC_PER_SEC;
	struct notify n = { 0 };

	/* Not stopping: nothing to extend. */
	assert_int_equal(notify_remaining(worst, false, triggered, 0, now), USEC_INFINITY);

	/* 7 s of the plan left, plus the slack. */
	assert_int_equal(notify_remaining(worst, true, triggered, 0, now), 12 * USEC_PER_SEC);
	/* Past the plan: the slack alone. */
	assert_int_equal(notify_remaining(worst, true, triggered, 0, 200 * USEC_PER_SEC),
	    5 * USEC_PER_SEC);
	/* A worker extended its budget to 120 s: the whole plan may follow it. */
	assert_int_equal(notify_remaining(worst, true, triggered, 120 * USEC_PER_SEC, now),
	    (120 + 10 - 103 + 5) * USEC_PER_SEC);
	/* An unbounded plan: systemd's own timeout stays in charge. */
	assert_int_equal(notify_remaining(USEC_INFINITY, true, triggered, 0, now), USEC_INFINITY);

	/* notify_stopping() sends it. */
	sent[0] = '\0';
	setenv("NOTIFY_SOCKET", "/run/test/notify", 1);
	notify_stopping(&n, "stopping: intake", notify_remaining(worst, true, triggered, 0, now));
	assert_non_null(strstr(sent, "STOPPING=1\nSTATUS=stopping: intake|EXTEND_TIMEOUT_USEC="));
	unsetenv("NOTIFY_SOCKET");
}

static void
systemd_deadline(void **state)
{
	struct config *c = config_new();
	struct plan *p = NULL;

	assert_non_null(c);
	assert_int_equal(plan_build(c, &p), 0);
	plan_resolve_deadline(p, false);
	assert_int_equal(p->deadline, USEC_INFINITY);
	plan_set_systemd_deadline(p, 90 * USEC_PER_SEC);
	assert_int_equal(p->deadline, 90 * USEC_PER_SEC);
	assert_string_equal(p->deadline_source, "the systemd unit's TimeoutStopUSec");
	/* TimeoutStopSec=infinity is no deadline. */
	plan_resolve_deadline(p, false);
	plan_set_systemd_deadline(p, USEC_INFINITY);
	assert_int_equal(p->deadline, USEC_INFINITY);
	/* [shutdown] deadline wins. */
	c->shutdown.deadline = 30 * USEC_PER_SEC;
	c->shutdown.deadline_set = true;
	plan_resolve_deadline(p, false);
	plan_set_systemd_deadline(p, 90 * USEC_PER_SEC);
	assert_int_equal(p->deadline, 30 * USEC_PER_SEC);
	plan_free(p);
	config_free(c);
}

static void
journal_fields(void **state)
{
	log_setup(LOG_TARGET_JOURNAL, LOG_LEVEL_DEBUG, "graced");
	log_fields(LOG_INFO, 0,
	    LOG_FIELDS({ "worker", "web.0" }, { "step", "stop" }, { "task", "notify" },
		{ "event", "extend-timeout" }),
	    "Worker '%s' extends its current budget", "web.0");
	if (!strstr(journal, "PRIORITY=6\n"))
		fail_msg("journal entry: %s", journal);
	assert_non_null(strstr(journal, "SYSLOG_IDENTIFIER=graced\n"));
	assert_non_null(strstr(journal, "GRACED_WORKER=web.0\n"));
	assert_non_null(strstr(journal, "GRACED_STEP=stop\n"));
	assert_non_null(strstr(journal, "GRACED_TASK=notify\n"));
	assert_non_null(strstr(journal, "GRACED_EVENT=extend-timeout\n"));
	assert_non_null(strstr(journal, "MESSAGE=Worker 'web.0' extends its current budget\n"));

	/* An error adds ERRNO= and the message gets strerror. */
	log_warning_errno(-ENOENT, "Failed to open '%s'", "x");
	assert_non_null(strstr(journal, "PRIORITY=4\n"));
	assert_non_null(strstr(journal, "ERRNO=2\n"));
	assert_non_null(strstr(journal, "MESSAGE=Failed to open 'x': No such file or directory\n"));

	/* A worker's STATUS= with control bytes: escaped in MESSAGE= and in its field, as on
	 * stderr (journalctl shows both on a terminal). */
	log_fields(LOG_DEBUG, 0, LOG_FIELDS({ "worker", "web.0" }, { "status", "\x1b[31mred\x7f" }),
	    "Worker '%s' status: %s", "web.0", "\x1b[31mred\x7f\xc2\x9b");
	assert_non_null(strstr(journal, "GRACED_STATUS=\\x1b[31mred\\x7f\n"));
	assert_non_null(strstr(journal, "MESSAGE=Worker 'web.0' status: \\x1b[31mred\\x7f\\xc2\\x9b\n"));
	assert_null(strchr(journal, '\x1b'));
	assert_null(strchr(journal, '\x7f'));
	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_INFO, "graced");
}

static void
journal_auto(void **state)
{
	struct stat st;
	char stream[64];

	/* auto: the journal only when stderr is the journal's stream. */
	unsetenv("JOURNAL_STREAM");
	log_setup(LOG_TARGET_AUTO, LOG_LEVEL_INFO, "graced");
	assert_int_equal(log_get_target(), LOG_TARGET_STDERR);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long) st.st_dev,
	    (unsigned long long) st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	log_setup(LOG_TARGET_AUTO, LOG_LEVEL_INFO, "graced");
	assert_int_equal(log_get_target(), LOG_TARGET_JOURNAL);
	/* Another stream (a worker's inherited variable, stderr redirected): not the journal. */
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long) st.st_dev,
	    (unsigned long long) st.st_ino + 1);
	setenv("JOURNAL_STREAM", stream, 1);
	log_setup(LOG_TARGET_AUTO, LOG_LEVEL_INFO, "graced");
	assert_int_equal(log_get_target(), LOG_TARGET_STDERR);
	unsetenv("JOURNAL_STREAM");
}

static void
unit_stop_timeout_outside_systemd(void **state)
{
	usec_t t = 42;

	bus_waits = 0;
	/* Not a service: no D-Bus call at all. */
	unsetenv("INVOCATION_ID");
	assert_int_equal(notify_unit_stop_timeout(NOTIFY_BUS_TIMEOUT, &t), -ENXIO);
	/* An INVOCATION_ID alone (no unit, or no bus here) fails too, quickly, and writes nothing. */
	setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
	assert_true(notify_unit_stop_timeout(NOTIFY_BUS_TIMEOUT, &t) < 0);
	unsetenv("INVOCATION_ID");
	assert_int_equal(t, 42);
	/* Quickly: without ever waiting for a bus. */
	assert_int_equal(bus_waits, 0);
}

/* A system bus that accepts the connection and never answers: the lookup gives up on time. */
static void
unit_stop_timeout_time_box(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test-notify-XXXXXX", address[160];
	usec_t t = 42, start;
	int fd, r;

	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	snprintf(address, sizeof(address), "unix:path=%s", sa.sun_path);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1);
	setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
	fake_unit = "graced.service";

	bus_waits = 0;
	start = now_usec();
	r = notify_unit_stop_timeout(300 * USEC_PER_MSEC, &t);
	if (r != -ETIMEDOUT)
		fail_msg("expected -ETIMEDOUT, got %d", r);
	/* It waited for the bus, every wait bounded by the deadline, and gave up exactly there:
	 * not before, not after. */
	assert_true(bus_waits >= 1);
	assert_int_equal(now_usec() - start, 300 * USEC_PER_MSEC);
	assert_int_equal(t, 42);

	/* Not a .service (a login session's scope): no bus at all. */
	fake_unit = "session-1.scope";
	assert_int_equal(notify_unit_stop_timeout(300 * USEC_PER_MSEC, &t), -ENXIO);

	fake_unit = NULL;
	unsetenv("INVOCATION_ID");
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_everything),
		cmocka_unit_test(parse_defaults),
		cmocka_unit_test(parse_unknown),
		cmocka_unit_test(parse_rejects),
		cmocka_unit_test(parse_binary_and_size),
		cmocka_unit_test(messages_to_systemd),
		cmocka_unit_test(extend_budget),
		cmocka_unit_test(systemd_deadline),
		cmocka_unit_test(journal_fields),
		cmocka_unit_test(journal_auto),
		cmocka_unit_test(unit_stop_timeout_outside_systemd),
		cmocka_unit_test(unit_stop_timeout_time_box),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
