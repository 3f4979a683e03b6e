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
	assert_non_null(w = report_add_worker(r, "web", 1));
	w->pid = 4243;
	w->outcome = OUTCOME_KILLED;
	w->step = PHASE_JOIN;
	w->term_signal = 9;
	w->exit = 2001 * MS;
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
	return r;
}

static void
test_json_shape(void **state)
{
	struct report *r = sample();
	char *json = to_json(r);

	assert_string_equal(json,
	    "{\"supervisor\": \"shop\", \"exit_code\": 1, \"trigger\": \"SIGTERM\",\n"
	    " \"steps\": [\n"
	    "  {\"name\": \"intake\", \"start_ms\": 0, \"end_ms\": 2},\n"
	    "  {\"name\": \"stop\", \"start_ms\": 2, \"end_ms\": 1002},\n"
	    "  {\"name\": \"close\", \"start_ms\": 1002, \"end_ms\": 1010}],\n"
	    " \"workers\": [\n"
	    "  {\"name\": \"web\", \"instance\": 0, \"pid\": 4242, \"outcome\": \"exited\", "
	    "\"step\": \"stop\", \"exit_code\": 0, \"term_signal\": null, \"exit_ms\": 500},\n"
	    "  {\"name\": \"web\", \"instance\": 1, \"pid\": 4243, \"outcome\": \"killed\", "
	    "\"step\": \"join\", \"exit_code\": null, \"term_signal\": 9, \"exit_ms\": 1001},\n"
	    "  {\"name\": \"db\", \"instance\": 0, \"pid\": 0, \"outcome\": \"failed\", "
	    "\"step\": null, \"exit_code\": null, \"term_signal\": null, \"exit_ms\": null}],\n"
	    " \"stragglers\": [\n"
	    "  {\"pid\": 77, \"command\": \"sleep 1000\", \"outcome\": \"killed\", \"exit_ms\": 900}],\n"
	    " \"intakes\": [\n"
	    "  {\"name\": \"http\", \"type\": \"socket\", \"action\": \"shutdown\", \"result\": \"ok\"},\n"
	    "  {\"name\": \"lb\", \"type\": \"exec\", \"action\": null, \"result\": null}],\n"
	    " \"tasks_pending_at_exit\": 0,\n"
	    " \"output_dropped_bytes\": 4096}\n");
	free(json);
	report_free(r);
}

static void
test_string_escaping(void **state)
{
	struct report *r = report_new("a\"b\\c\n\x01 \xc3\xa9 \xff");
	char *json = to_json(r);

	/* Quotes, backslashes and control bytes escaped, UTF-8 kept, invalid bytes replaced. */
	assert_non_null(strstr(json, "\"supervisor\": \"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\ufffd\""));
	assert_non_null(strstr(json, "\"trigger\": \"\""));
	free(json);
	report_free(r);

	/* DEL and the C1 controls (here CSI, U+009B) too: someone will cat the report. */
	r = report_new("x\x7f\xc2\x9b" "1m\xc2\xa0y");
	json = to_json(r);
	assert_non_null(strstr(json, "\"supervisor\": \"x\\u007f\\u009b1m\xc2\xa0y\""));
	free(json);
	report_free(r);
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
	assert_non_null(strstr(buf, "\"tasks_pending_at_exit\": 0,"));
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
	assert_non_null(strstr(text, "\"output_dropped_bytes\": 4096}"));
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
