/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs the logging calls of fn with stderr redirected to a temporary file; returns its text. */
static char *
capture(void (*fn)(void))
{
	static char buf[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void
log_plain(void)
{
	log_info("Started");
}

static void
log_with_fields(void)
{
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", "web.0" }, { "event", "stop" },
				  { "skipped", NULL }, { "signal", "SIGTERM" }),
	    "Sent %s", "SIGTERM");
}

static void
log_quoting(void)
{
	log_warning("a \"quoted\" word = x\\y\nnext");
}

/* What a worker or a client can put into a log line: ESC sequences, DEL, a C1 CSI, bytes that
 * are not UTF-8, in the message and in a field. */
static void
log_control_bytes(void)
{
	log_fields(LOG_WARNING, 0, LOG_FIELDS({ "status", "\x1b]0;owned\x07" }, { "ok", "caf\xc3\xa9" }),
	    "Worker status: %s", "\x1b[2J\x7f\xc2\x9b" "1m\xff");
}

static void
log_errno(void)
{
	errno = 1234;
	assert_int_equal(log_error_errno(-ENOENT, "Failed to open '%s'", "x"), -ENOENT);
	assert_int_equal(log_error_errno(EACCES, "Failed"), -EACCES);
	/* Log calls keep errno. */
	assert_int_equal(errno, 1234);
}

static void
log_filtered(void)
{
	log_debug("hidden");
	log_info("also hidden");
	log_warning("shown");
}

static void
test_logfmt_line(void **state)
{
	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_INFO, "test");
	assert_string_equal(capture(log_plain), "level=info msg=Started\n");
	assert_string_equal(capture(log_with_fields),
	    "level=notice worker=web.0 event=stop signal=SIGTERM msg=\"Sent SIGTERM\"\n");
}

static void
test_logfmt_quoting(void **state)
{
	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_INFO, "test");
	assert_string_equal(capture(log_quoting),
	    "level=warning msg=\"a \\\"quoted\\\" word = x\\\\y\\nnext\"\n");
}

static void
test_logfmt_control_bytes(void **state)
{
	const char *line;

	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_INFO, "test");
	line = capture(log_control_bytes);
	assert_string_equal(line,
	    "level=warning status=\"\\x1b]0;owned\\x07\" ok=caf\xc3\xa9 "
	    "msg=\"Worker status: \\x1b[2J\\x7f\\xc2\\x9b1m\\xff\"\n");
	/* Nothing below 0x20 but the final newline, no DEL, no C1. */
	for (const char *p = line; *p; p++)
		assert_true((unsigned char) *p >= 0x20 && (unsigned char) *p != 0x7f ? true : *p == '\n');
	assert_null(strstr(line, "\xc2\x9b"));
}

static void
test_errno_suffix(void **state)
{
	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_INFO, "test");
	assert_string_equal(capture(log_errno),
	    "level=err msg=\"Failed to open 'x': No such file or directory\"\n"
	    "level=err msg=\"Failed: Permission denied\"\n");
}

static void
test_level_threshold(void **state)
{
	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_WARNING, "test");
	assert_int_equal(log_get_level(), LOG_LEVEL_WARNING);
	assert_string_equal(capture(log_filtered), "level=warning msg=shown\n");
	log_set_level(LOG_LEVEL_DEBUG);
	assert_string_equal(capture(log_filtered),
	    "level=debug msg=hidden\nlevel=info msg=\"also hidden\"\nlevel=warning msg=shown\n");
}

static void
test_auto_target(void **state)
{
	/* stderr here is not the journal's stream, so auto means stderr. */
	unsetenv("JOURNAL_STREAM");
	log_setup(LOG_TARGET_AUTO, LOG_LEVEL_INFO, "test");
	assert_int_equal(log_get_target(), LOG_TARGET_STDERR);
	setenv("JOURNAL_STREAM", "1:1", 1);
	assert_false(log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logfmt_line),
		cmocka_unit_test(test_logfmt_quoting),
		cmocka_unit_test(test_logfmt_control_bytes),
		cmocka_unit_test(test_errno_suffix),
		cmocka_unit_test(test_level_threshold),
		cmocka_unit_test(test_auto_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
