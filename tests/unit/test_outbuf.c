/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "outbuf.h"
#include "util.h"

/*
 * graced's stdout (and here stderr too) is a pipe of one page whose reader is this test: it
 * reads when it chooses, so the buffer fills up exactly as behind a stopped reader.
 */
struct fixture {
	struct event_base *base;
	int reader;
	int saved[3];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int p[2];

	assert_non_null(f);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	f->saved[1] = dup(STDOUT_FILENO);
	f->saved[2] = dup(STDERR_FILENO);
	assert_true(dup2(p[1], STDOUT_FILENO) >= 0);
	assert_true(dup2(p[1], STDERR_FILENO) >= 0);
	close(p[1]);
	f->reader = p[0];
	assert_non_null(f->base = event_base_new());
	assert_int_equal(outbuf_setup(f->base), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	outbuf_free();
	dup2(f->saved[1], STDOUT_FILENO);
	dup2(f->saved[2], STDERR_FILENO);
	close(f->saved[1]);
	close(f->saved[2]);
	close(f->reader);
	event_base_free(f->base);
	free(f);
	return 0;
}

static int
put(int fd, unsigned seq, bool may_wait)
{
	char line[100];
	struct iovec iov = { .iov_base = line };

	/* 99 bytes and a newline, numbered. */
	snprintf(line, sizeof(line), "line %08u %0*d", seq, 84, 0);
	line[99] = '\n';
	iov.iov_len = sizeof(line);
	return outbuf_write(fd, &iov, 1, may_wait);
}

/* Reads what the pipe has, letting the loop write more, until nothing comes; checks that every
 * line is whole and numbered in order from *next. */
static void
read_all(struct fixture *f, unsigned *next)
{
	char buf[8192], partial[100];
	size_t have = 0;

	for (int idle = 0; idle < 3;) {
		ssize_t n = read(f->reader, buf, sizeof(buf));

		if (n <= 0) {
			idle++;
			event_base_loop(f->base, EVLOOP_NONBLOCK);
			continue;
		}
		idle = 0;
		for (ssize_t i = 0; i < n; i++) {
			partial[have++] = buf[i];
			if (have < sizeof(partial))
				continue;
			assert_int_equal(partial[99], '\n');
			assert_int_equal(strtoul(partial + 5, NULL, 10), *next);
			(*next)++;
			have = 0;
		}
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(have, 0);
}

static void
test_pumps_wait_and_lose_nothing(void **state)
{
	struct fixture *f = *state;
	uint64_t dropped = outbuf_dropped();
	unsigned seq = 0, next = 0;
	int r;

	/* Until the buffer is full but for the log lines' reserve, then -ENOBUFS: nothing lost. */
	while ((r = put(STDOUT_FILENO, seq, true)) == 0)
		seq++;
	assert_int_equal(r, -ENOBUFS);
	assert_true(seq * 100 >= 256 * 1024 - OUTBUF_LOG_RESERVE);
	assert_true(seq * 100 <= 256 * 1024 - OUTBUF_LOG_RESERVE + 4096 + 100);
	assert_int_equal(outbuf_dropped(), dropped);

	/* The reader wakes: every line arrives whole, in order, and the pump may write again. */
	read_all(f, &next);
	assert_int_equal(next, seq);
	assert_int_equal(put(STDOUT_FILENO, seq++, true), 0);
	read_all(f, &next);
	assert_int_equal(next, seq);
}

static void
test_log_lines_use_the_reserve_then_drop(void **state)
{
	struct fixture *f = *state;
	uint64_t dropped = outbuf_dropped();
	unsigned seq = 0, next = 0;

	while (put(STDOUT_FILENO, seq, true) == 0)
		seq++;
	/* A log line never waits: it goes into the reserve... */
	assert_int_equal(put(STDERR_FILENO, seq++, false), 0);
	assert_int_equal(outbuf_dropped(), dropped);
	/* ...and once the buffer is full, whole lines are dropped and counted to the byte. */
	while (outbuf_dropped() == dropped)
		assert_int_equal(put(STDERR_FILENO, seq++, false), 0);
	assert_int_equal(outbuf_dropped() - dropped, 100);
	/* The lines before the dropped one all arrive whole (stdout and stderr share the pipe and
	 * so one buffer: in the order they were written). */
	read_all(f, &next);
	assert_int_equal(next, seq - 1);
}

static void
test_shutdown_stops_waiting(void **state)
{
	struct fixture *f = *state;
	uint64_t dropped = outbuf_dropped();
	unsigned seq = 0, next = 0, kept;

	while (put(STDOUT_FILENO, seq, true) == 0)
		seq++;
	kept = seq;
	outbuf_stop_waiting();
	/* From now on a pump gets no -ENOBUFS: its line is dropped and counted. */
	assert_int_equal(put(STDOUT_FILENO, seq++, true), 0);
	while (outbuf_dropped() == dropped)
		assert_int_equal(put(STDOUT_FILENO, seq++, true), 0);
	assert_int_equal(outbuf_wait_room(STDOUT_FILENO, 0), 0);

	/* After the loop, a bounded last flush: what the stuck reader did not take is counted. */
	dropped = outbuf_dropped();
	outbuf_finish(usec_add(now_usec(), 20 * USEC_PER_MSEC));
	assert_true(outbuf_dropped() - dropped >= (uint64_t) (kept * 100 - 4096));
	read_all(f, &next);
	assert_true(next >= 1);
}

static void
test_gone_reader_drops(void **state)
{
	struct fixture *f = *state;
	uint64_t dropped = outbuf_dropped();

	f->reader = safe_close(f->reader);
	/* EPIPE, not the death of the process (graced ignores SIGPIPE, as here). */
	assert_int_equal(put(STDOUT_FILENO, 0, true), 0);
	assert_int_equal(outbuf_dropped() - dropped, 100);
	assert_int_equal(put(STDOUT_FILENO, 1, true), 0);
	assert_int_equal(outbuf_dropped() - dropped, 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pumps_wait_and_lose_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lines_use_the_reserve_then_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_stops_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_reader_drops, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
