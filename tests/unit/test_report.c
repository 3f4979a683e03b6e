/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "report.h"
#include "util.h"

#define MS USEC_PER_MSEC

static mode_t
st_umask(void)
{
	mode_t u = umask(0);

	umask(u);
	return u;
}

static char *
to_json(const struct report *r)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	assert_int_equal(report_write_json(r, f), 0);
	fclose(f);
	return text;
}

static struct report *
sample(void)
{
	struct report *r = report_new("shop");
	struct report_straggler *s;
	struct report_worker *w;
	struct report_intake *i;

	assert_non_null(r);
	r->trigger = strdup("SIGTERM");
	r->triggered = 1000 * MS;
	r->exit_code = 1;
	r->steps[PHASE_INTAKE] = (struct report_step) { 1000 * MS, 1002 * MS };
	r->steps[PHASE_STOP] = (struct report_step) { 1002 * MS, 2002 * MS };
	r->steps[PHASE_CLOSE] = (struct report_step) { 2002 * MS, 2010 * MS };
	assert_non_null(w = report_add_worker(r, "web", 0));
	w->pid = 4242;
	w->step = PHASE_STOP;
	w->exit_code = 0;
	w->exit = 1500 * MS;
	w->signalled = 1002 * MS;
	assert_non_null(w = report_add_worker(r, "web", 1));
	w->pid = 4243;
	w->outcome = OUTCOME_KILLED;
	w->step = PHASE_JOIN;
	w->term_signal = 9;
	w->exit = 2001 * MS;
	w->signalled = 1003 * MS;
	assert_non_null(w = report_add_worker(r, "db", 0));
	w->outcome = OUTCOME_FAILED;
	assert_non_null(s = report_add_straggler(r, 77, "sleep 1000"));
	s->outcome = OUTCOME_KILLED;
	s->exit = 1900 * MS;
	assert_non_null(i = report_add_intake(r, "http", "socket"));
	assert_int_equal(report_intake_set(i, "shutdown", "ok"), 0);
	assert_non_null(report_add_intake(r, "lb", "exec"));
	r->tasks_pending_at_exit = 0;
	r->output_dropped_bytes = 4096;
	r->budget = 2600 * MS;
	return r;
}

/* The report as it is written, parsed back by jansson: it must parse, whole. */
static json_t *
parsed(const char *text)
{
	json_error_t error;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &error);

	if (!j)
		fail_msg("the report does not parse: %s (line %d)\n%s", error.text, error.line, text);
	return j;
}

/* On one line, in the order written: the content and field order of the report. */
static char *
one_line(const char *text)
{
	json_t *j = parsed(text);
	char *s = json_dumps(j, JSON_PRESERVE_ORDER);

	json_decref(j);
	assert_non_null(s);
	return s;
}

static void
test_json_shape(void **state)
{
	struct report *r = sample();
	char *json = to_json(r), *line = one_line(json);

	/* One JSON document and a newline, indented: a person reads it with cat. */
	assert_true(strlen(json) > 2 && json[strlen(json) - 1] == '\n' && json[strlen(json) - 2] == '}');
	assert_non_null(strstr(json, "\n  \"steps\": [\n"));
	assert_string_equal(line,
	    "{\"supervisor\": \"shop\", \"exit_code\": 1, \"trigger\": \"SIGTERM\", "
	    "\"steps\": ["
	    "{\"name\": \"intake\", \"start_ms\": 0, \"end_ms\": 2}, "
	    "{\"name\": \"stop\", \"start_ms\": 2, \"end_ms\": 1002}, "
	    "{\"name\": \"close\", \"start_ms\": 1002, \"end_ms\": 1010}], "
	    "\"workers\": ["
	    "{\"name\": \"web\", \"instance\": 0, \"pid\": 4242, \"outcome\": \"exited\", "
	    "\"step\": \"stop\", \"exit_code\": 0, \"term_signal\": null, \"exit_ms\": 500, "
	    "\"signal_ms\": 2, \"stopped_by\": \"shutdown\"}, "
	    "{\"name\": \"web\", \"instance\": 1, \"pid\": 4243, \"outcome\": \"killed\", "
	    "\"step\": \"join\", \"exit_code\": null, \"term_signal\": 9, \"exit_ms\": 1001, "
	    "\"signal_ms\": 3, \"stopped_by\": \"shutdown\"}, "
	    "{\"name\": \"db\", \"instance\": 0, \"pid\": 0, \"outcome\": \"failed\", "
	    "\"step\": null, \"exit_code\": null, \"term_signal\": null, \"exit_ms\": null, "
	    "\"signal_ms\": null, \"stopped_by\": \"shutdown\"}], "
	    "\"stragglers\": ["
	    "{\"pid\": 77, \"command\": \"sleep 1000\", \"outcome\": \"killed\", \"exit_ms\": 900}], "
	    "\"intakes\": ["
	    "{\"name\": \"http\", \"type\": \"socket\", \"action\": \"shutdown\", \"result\": \"ok\"}, "
	    "{\"name\": \"lb\", \"type\": \"exec\", \"action\": null, \"result\": null}], "
	    "\"tasks_pending_at_exit\": 0, "
	    "\"output_dropped_bytes\": 4096, "
	    "\"budget_ms\": 2600}");
	free(line);
	free(json);
	report_free(r);
}

/* The supervisor name as a JSON reader sees it, and the bytes written are ASCII only. */
static void
assert_supervisor(const char *name, const char *expected, const char *raw)
{
	struct report *r = report_new(name);
	char *json = to_json(r);
	json_t *j = parsed(json);

	assert_string_equal(json_string_value(json_object_get(j, "supervisor")), expected);
	assert_string_equal(json_string_value(json_object_get(j, "trigger")), "");
	for (const unsigned char *p = (const unsigned char *) json; *p; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p <= 0x7f));
	if (raw)
		assert_non_null(strstr(json, raw));
	json_decref(j);
	free(json);
	report_free(r);
}

static void
test_string_escaping(void **state)
{
	/* Quotes, backslashes and control bytes escaped, UTF-8 kept, invalid bytes replaced. */
	assert_supervisor("a\"b\\c\n\x01 \xc3\xa9 \xff", "a\"b\\c\n\x01 \xc3\xa9 \xef\xbf\xbd",
	    "\"supervisor\": \"a\\\"b\\\\c\\n\\u0001 \\u00E9 \\uFFFD\"");
	/* The C1 controls (here CSI, U+009B) as escapes too: someone will cat the report. */
	assert_supervisor("x\x7f\xc2\x9b" "1m\xc2\xa0y", "x\x7f\xc2\x9b" "1m\xc2\xa0y",
	    "\\u009B1m\\u00A0y");
	/* Overlong forms, surrogates, beyond U+10FFFF, a sequence cut short: one U+FFFD a byte. */
	assert_supervisor("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82",
	    "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd", NULL);
	/* Four-byte UTF-8 kept (as a surrogate pair in the file). */
	assert_supervisor("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\\uD83D\\uDE00");
}

static void
test_atomic_file(void **state)
{
	char dir[] = "/tmp/graced-test-report.XXXXXX", path[64], tmp[96];
	struct report *r = sample();
	char buf[2048];
	FILE *f;
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(report_write_file(r, path), 0);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "\"tasks_pending_at_exit\": 0,\n"));
	/* No temporary file is left behind. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
	assert_int_equal(access(tmp, F_OK), -1);

	/* A directory that does not exist is an error, not a crash. */
	snprintf(path, sizeof(path), "%s/missing/report.json", dir);
	assert_int_equal(report_write_file(r, path), -ENOENT);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	unlink(path);
	rmdir(dir);
	report_free(r);
}

static char *
read_text(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct planted {
	char dir[40], path[64], tmp[128], victim[96];
};

/* A directory with an empty "victim" file; tmp is the name graced used to write through,
 * path.tmp.PID (the unit test's own pid is the one report_write_file() sees). */
static void
planted_setup(struct planted *p)
{
	snprintf(p->dir, sizeof(p->dir), "/tmp/graced-test-report.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/report.json", p->dir);
	snprintf(p->victim, sizeof(p->victim), "%s/victim", p->dir);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp.%ld", p->path, (long) getpid());
	assert_int_equal(close(open(p->victim, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
}

static void
planted_teardown(struct planted *p)
{
	char *text;

	/* Nothing was written through a link to the victim. */
	assert_non_null(text = read_text(p->victim));
	assert_string_equal(text, "");
	unlink(p->tmp);
	unlink(p->path);
	unlink(p->victim);
	assert_int_equal(rmdir(p->dir), 0); /* nothing else left behind */
}

static void
assert_report_intact(const char *path)
{
	struct stat st;
	char *text;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_mode & 07777, 0644 & ~st_umask());
	assert_non_null(text = read_text(path));
	assert_non_null(strstr(text, "\"budget_ms\": 2600\n}\n"));
}

/* Another user who can write the directory pre-creates the old temp name, writable by all: it
 * used to become the report, owned by the attacker. */
static void
test_planted_temp_file(void **state)
{
	struct report *r = sample();
	struct stat st, planted;
	struct planted p;
	char *text;
	FILE *f;

	planted_setup(&p);
	assert_non_null(f = fopen(p.tmp, "w"));
	fputs("forged\n", f);
	fclose(f);
	assert_int_equal(chmod(p.tmp, 0666), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(p.tmp, 65534, 65534), 0);
	assert_int_equal(stat(p.tmp, &planted), 0);

	assert_int_equal(report_write_file(r, p.path), 0);
	assert_report_intact(p.path);
	assert_int_equal(stat(p.path, &st), 0);
	assert_true(st.st_ino != planted.st_ino);
	/* The planted file is untouched and still there. */
	assert_non_null(text = read_text(p.tmp));
	assert_string_equal(text, "forged\n");
	assert_int_equal(stat(p.tmp, &st), 0);
	assert_int_equal(st.st_ino, planted.st_ino);
	planted_teardown(&p);
	report_free(r);
}

/* Symlinks at the old temp name (it used to block the report: ELOOP) and at other guesses. */
static void
test_planted_temp_links(void **state)
{
	const char *guesses[] = { ".tmp", ".tmp.0", ".tmp.1", ".new", "~" };
	struct report *r = sample();
	struct planted p;
	struct stat st;
	char name[128];

	planted_setup(&p);
	assert_int_equal(symlink(p.victim, p.tmp), 0);
	for (size_t i = 0; i < ELEMENTSOF(guesses); i++) {
		snprintf(name, sizeof(name), "%s%s", p.path, guesses[i]);
		assert_int_equal(symlink(p.victim, name), 0);
	}

	assert_int_equal(report_write_file(r, p.path), 0);
	assert_report_intact(p.path);
	assert_int_equal(lstat(p.tmp, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	for (size_t i = 0; i < ELEMENTSOF(guesses); i++) {
		snprintf(name, sizeof(name), "%s%s", p.path, guesses[i]);
		assert_int_equal(lstat(name, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
		unlink(name);
	}
	planted_teardown(&p);
	report_free(r);
}

/* A symlink as the report's own path is replaced by the report, not followed. */
static void
test_target_link(void **state)
{
	struct report *r = sample();
	struct planted p;

	planted_setup(&p);
	assert_int_equal(symlink(p.victim, p.path), 0);
	assert_int_equal(report_write_file(r, p.path), 0);
	assert_report_intact(p.path);
	planted_teardown(&p);
	report_free(r);
}

static void
test_outcome_strings(void **state)
{
	assert_string_equal(outcome_to_string(OUTCOME_ABANDONED), "abandoned");
	assert_int_equal(outcome_from_string("cancelled"), OUTCOME_CANCELLED);
	assert_int_equal(outcome_from_string("bogus"), _OUTCOME_INVALID);
	assert_null(outcome_to_string(_OUTCOME_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_atomic_file),
		cmocka_unit_test(test_planted_temp_file),
		cmocka_unit_test(test_planted_temp_links),
		cmocka_unit_test(test_target_link),
		cmocka_unit_test(test_outcome_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
