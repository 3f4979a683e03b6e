/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "parse.h"
#include "plan.h"
#include "timeline.h"
#include "util.h"

/* The text layout: label, bar, note, within 80 columns (79 characters and the newline). */
#define LABEL_W 14
#define BAR_W 30
#define NOTE_W (80 - 1 - LABEL_W - 1 - BAR_W - 1)

/* The SVG layout, in pixels. */
#define SVG_X0 190
#define SVG_BAR_W 560
#define SVG_ROW_H 22
#define SVG_TOP 96
#define SVG_W 1080

/* The longest time a report may hold: about 31 years, and no overflow in microseconds. */
#define MAX_MS INT64_C(1000000000000)

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

static void
row_clear(struct timeline_row *r)
{
	free(r->label);
	free(r->note);
	free(r->outcome);
}

struct timeline *
timeline_free(struct timeline *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_rows; i++)
		row_clear(&t->rows[i]);
	free(t->rows);
	free(t->supervisor);
	free(t->trigger);
	free(t);
	return NULL;
}

static int
fail_at(char *err, size_t n, const char *what, size_t index, const char *reason)
{
	snprintf(err, n, "%s[%zu]: %s", what, index, reason);
	return -EBADMSG;
}

/* A time in the report: a number of milliseconds, or null (-1). */
static int
read_ms(const json_t *v, bool nullable, int64_t *ret)
{
	if (nullable && json_is_null(v)) {
		*ret = -1;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_MS)
		return -EBADMSG;
	*ret = json_integer_value(v);
	return 0;
}

static struct timeline_row *
add_row(struct timeline *t, enum timeline_kind kind)
{
	struct timeline_row *m = realloc(t->rows, (t->n_rows + 1) * sizeof(*m));

	if (!m)
		return NULL;
	t->rows = m;
	m[t->n_rows] = (struct timeline_row) { .kind = kind, .end_ms = -1 };
	return &m[t->n_rows++];
}

static void
extend(struct timeline *t, int64_t ms)
{
	if (ms > t->end_ms)
		t->end_ms = ms;
}

static int
read_steps(struct timeline *t, const json_t *steps, char *err, size_t n)
{
	size_t i;
	json_t *s;

	json_array_foreach(steps, i, s) {
		json_error_t e;
		const char *name;
		json_int_t start, end;
		struct timeline_row *r;

		if (json_unpack_ex((json_t *) s, &e, 0, "{s:s, s:I, s:I}", "name", &name,
		    "start_ms", &start, "end_ms", &end) < 0)
			return fail_at(err, n, "steps", i, e.text);
		if (start < 0 || end < start || end > MAX_MS)
			return fail_at(err, n, "steps", i, "start_ms and end_ms out of order or range");
		if (!(r = add_row(t, TIMELINE_STEP)))
			return -ENOMEM;
		r->start_ms = start;
		r->end_ms = end;
		if (!(r->label = strdup(name)) ||
		    asprintf(&r->note, "%" JSON_INTEGER_FORMAT " ms", end - start) < 0) {
			r->note = NULL;
			return -ENOMEM;
		}
		extend(t, end);
	}
	return 0;
}

/* "killed SIGKILL, join, 6001 ms", "exited 0, stop, 500 ms", "failed 127, before the shutdown". */
static int
outcome_note(const char *outcome, const json_t *code, const json_t *sig, const char *step,
    bool straggler, int64_t exit_ms, char **ret)
{
	char status[48] = "", when[48] = "", where[48] = "";

	if (json_is_integer(code))
		snprintf(status, sizeof(status), " %" JSON_INTEGER_FORMAT, json_integer_value(code));
	else if (json_is_integer(sig)) {
		json_int_t s = json_integer_value(sig);
		const char *name = s > 0 && s < 128 ? signal_to_string((int) s) : NULL;

		if (name)
			snprintf(status, sizeof(status), " %s", name);
		else
			snprintf(status, sizeof(status), " signal %" JSON_INTEGER_FORMAT, s);
	}
	if (step)
		snprintf(where, sizeof(where), ", %.20s", step);
	else if (!straggler)
		snprintf(where, sizeof(where), ", before the shutdown");
	if (exit_ms >= 0)
		snprintf(when, sizeof(when), ", %" PRId64 " ms", exit_ms);
	else if (!streq(outcome, "abandoned"))
		snprintf(when, sizeof(when), ", no exit time");
	return asprintf(ret, "%s%s%s%s", outcome, status, where, when) < 0 ? -ENOMEM : 0;
}

/* web.0 when the worker has several instances (or this one is not the first), else web. */
static bool
several_instances(const json_t *workers, const char *name, json_int_t instance)
{
	size_t i, count = 0;
	json_t *w;

	if (instance != 0)
		return true;
	json_array_foreach(workers, i, w) {
		const char *other = json_string_value(json_object_get(w, "name"));

		if (other && streq(other, name))
			count++;
	}
	return count > 1;
}

static int
read_workers(struct timeline *t, const json_t *workers, char *err, size_t n)
{
	size_t i;
	json_t *w;

	json_array_foreach(workers, i, w) {
		json_error_t e;
		const char *name, *outcome;
		json_int_t instance;
		json_t *step, *code, *sig, *exit, *signal = NULL;
		struct timeline_row *r;
		int64_t exit_ms, signal_ms = -1;
		int k;

		if (json_unpack_ex((json_t *) w, &e, 0, "{s:s, s:I, s:s, s:o, s:o, s:o, s:o, s?o}",
		    "name", &name, "instance", &instance, "outcome", &outcome, "step", &step,
		    "exit_code", &code, "term_signal", &sig, "exit_ms", &exit, "signal_ms",
		    &signal) < 0)
			return fail_at(err, n, "workers", i, e.text);
		if (signal && read_ms(signal, true, &signal_ms) < 0)
			return fail_at(err, n, "workers", i, "signal_ms: expected milliseconds or null");
		if (!json_is_null(step) && !json_is_string(step))
			return fail_at(err, n, "workers", i, "step: expected a string or null");
		if ((!json_is_null(code) && !json_is_integer(code)) ||
		    (!json_is_null(sig) && !json_is_integer(sig)))
			return fail_at(err, n, "workers", i,
			    "exit_code and term_signal: expected numbers or null");
		if (read_ms(exit, true, &exit_ms) < 0)
			return fail_at(err, n, "workers", i, "exit_ms: expected milliseconds or null");
		if (!(r = add_row(t, TIMELINE_INSTANCE)))
			return -ENOMEM;
		r->end_ms = exit_ms;
		/* Its bar starts at graced's first signal to it; one it never signalled (it ended
		 * by itself) keeps the trigger. An exit before that signal is not drawn backwards. */
		if (signal_ms >= 0 && (exit_ms < 0 || signal_ms <= exit_ms))
			r->start_ms = signal_ms;
		if (several_instances(workers, name, instance))
			k = asprintf(&r->label, "%s.%" JSON_INTEGER_FORMAT, name, instance);
		else
			k = (r->label = strdup(name)) ? 0 : -1;
		if (k < 0) {
			r->label = NULL;
			return -ENOMEM;
		}
		if (!(r->outcome = strdup(outcome)) ||
		    outcome_note(outcome, code, sig, json_string_value(step), false, exit_ms, &r->note) < 0)
			return -ENOMEM;
		extend(t, exit_ms);
	}
	return 0;
}

static int
read_stragglers(struct timeline *t, const json_t *stragglers, char *err, size_t n)
{
	size_t i;
	json_t *s;

	json_array_foreach(stragglers, i, s) {
		json_error_t e;
		const char *command, *outcome;
		json_int_t pid;
		json_t *exit;
		struct timeline_row *r;
		int64_t exit_ms;

		if (json_unpack_ex((json_t *) s, &e, 0, "{s:I, s:s, s:s, s:o}", "pid", &pid,
		    "command", &command, "outcome", &outcome, "exit_ms", &exit) < 0)
			return fail_at(err, n, "stragglers", i, e.text);
		if (read_ms(exit, true, &exit_ms) < 0)
			return fail_at(err, n, "stragglers", i, "exit_ms: expected milliseconds or null");
		if (!(r = add_row(t, TIMELINE_STRAGGLER)))
			return -ENOMEM;
		r->end_ms = exit_ms;
		if (asprintf(&r->label, "pid %" JSON_INTEGER_FORMAT, pid) < 0) {
			r->label = NULL;
			return -ENOMEM;
		}
		if (!(r->outcome = strdup(outcome)) ||
		    outcome_note(outcome, NULL, NULL, NULL, true, exit_ms, &r->note) < 0)
			return -ENOMEM;
		extend(t, exit_ms);
	}
	return 0;
}

int
timeline_from_json(const json_t *j, struct timeline **ret, char *err, size_t n)
{
	_cleanup_(timeline_freep) struct timeline *t = calloc(1, sizeof(*t));
	const char *supervisor, *trigger;
	json_t *steps, *workers, *stragglers = NULL, *budget = NULL;
	json_error_t e;
	int r;

	if (!t)
		return -ENOMEM;
	t->budget_ms = t->deadline_ms = -1;
	if (json_unpack_ex((json_t *) j, &e, 0, "{s:s, s:I, s:s, s:o, s:o, s?o, s?o}",
	    "supervisor", &supervisor, "exit_code", &t->exit_code, "trigger", &trigger,
	    "steps", &steps, "workers", &workers, "stragglers", &stragglers, "budget_ms",
	    &budget) < 0) {
		snprintf(err, n, "%s", e.text);
		return -EBADMSG;
	}
	/* Reports before graced 0.1's budget_ms have none: -c CONFIG can give it. */
	if (budget && read_ms(budget, true, &t->budget_ms) < 0) {
		snprintf(err, n, "budget_ms: expected milliseconds");
		return -EBADMSG;
	}
	if (!json_is_array(steps) || !json_is_array(workers) ||
	    (stragglers && !json_is_array(stragglers))) {
		snprintf(err, n, "steps, workers and stragglers: expected arrays");
		return -EBADMSG;
	}
	if (!(t->supervisor = strdup(supervisor)) || !(t->trigger = strdup(trigger)))
		return -ENOMEM;
	if ((r = read_steps(t, steps, err, n)) < 0 || (r = read_workers(t, workers, err, n)) < 0 ||
	    (stragglers && (r = read_stragglers(t, stragglers, err, n)) < 0))
		return r;
	*ret = TAKE_PTR(t);
	return 0;
}

int
timeline_load(const char *path, struct timeline **ret, char *err, size_t n)
{
	json_error_t e;
	json_t *j;
	int r;

	/* jansson checks the UTF-8 of every string it reads. */
	if (!(j = json_load_file(path, JSON_REJECT_DUPLICATES, &e))) {
		if (e.line > 0)
			snprintf(err, n, "line %d: %s", e.line, e.text);
		else
			snprintf(err, n, "%s", e.text);
		return -EBADMSG;
	}
	r = timeline_from_json(j, ret, err, n);
	if (r == -EBADMSG && !json_is_object(j))
		snprintf(err, n, "not a graced report (expected a JSON object)");
	json_decref(j);
	return r;
}

int64_t
timeline_span(const struct timeline *t)
{
	int64_t span = MAX(t->end_ms, INT64_C(1));

	return MAX(span, t->budget_ms);
}

unsigned
timeline_column(int64_t ms, int64_t span, unsigned width)
{
	if (width == 0)
		return 0;
	if (ms <= 0 || span <= 0)
		return 0;
	if (ms >= span)
		return width - 1;
	/* Rounded to the nearest column; 0 ms is column 0, span the last. */
	return (unsigned) (((uint64_t) ms * (width - 1) + (uint64_t) span / 2) / (uint64_t) span);
}

static size_t
columns(const char *s)
{
	size_t cols = 0;

	for (; *s; s++)
		cols += ((unsigned char) *s & 0xc0) != 0x80; /* UTF-8 continuations take none */
	return cols;
}

/* s escaped for a terminal (util.h) and cut to width columns, '~' marking a cut. */
static void
print_cut(FILE *f, const char *s, size_t width, bool pad)
{
	char buf[512];
	size_t cols, shown = 0;

	escape_buf(buf, sizeof(buf), s, strlen(s), 0);
	cols = columns(buf);
	for (const char *p = buf; *p; p++) {
		bool starts = ((unsigned char) *p & 0xc0) != 0x80;

		if (starts && cols > width && shown == width - 1) {
			fputc('~', f);
			shown++;
			break;
		}
		if (starts && shown == width)
			break;
		fputc(*p, f);
		shown += starts;
	}
	for (; pad && shown < width; shown++)
		fputc(' ', f);
}

static char
end_mark(const char *outcome)
{
	if (!outcome || streq(outcome, "exited"))
		return '|';
	if (streq(outcome, "cancelled"))
		return 'C';
	if (streq(outcome, "killed"))
		return 'K';
	if (streq(outcome, "failed"))
		return 'F';
	if (streq(outcome, "abandoned"))
		return 'A';
	return '|';
}

/* One row's bar, BAR_W characters and a NUL. */
static void
draw_bar(const struct timeline *t, const struct timeline_row *r, int64_t span, char *bar)
{
	unsigned from, to;

	memset(bar, ' ', BAR_W);
	bar[BAR_W] = '\0';
	if (t->budget_ms >= 0)
		bar[timeline_column(t->budget_ms, span, BAR_W)] = ':';
	if (t->deadline_ms >= 0 && t->deadline_ms <= span)
		bar[timeline_column(t->deadline_ms, span, BAR_W)] = '!';
	if (r->kind == TIMELINE_STEP) {
		from = timeline_column(r->start_ms, span, BAR_W);
		to = timeline_column(r->end_ms, span, BAR_W);
		for (unsigned c = from; c <= to; c++)
			bar[c] = '#';
		return;
	}
	/* From graced's first signal to it (the trigger when it had none) to the exit; one
	 * abandoned to the end of the report; one with no exit time otherwise is not drawn. */
	if (r->end_ms < 0 && !(r->outcome && streq(r->outcome, "abandoned")))
		return;
	to = timeline_column(r->end_ms >= 0 ? r->end_ms : t->end_ms, span, BAR_W);
	from = MIN(timeline_column(r->start_ms, span, BAR_W), to);
	for (unsigned c = from; c < to; c++)
		bar[c] = '-';
	bar[to] = r->end_ms >= 0 ? end_mark(r->outcome) : '>';
}

static void
format_ms(char *buf, size_t n, int64_t ms)
{
	format_duration(buf, n, (usec_t) ms * USEC_PER_MSEC);
}

int
timeline_print(const struct timeline *t, FILE *f)
{
	int64_t span = timeline_span(t);
	char bar[BAR_W + 1], d[DURATION_MAX], d2[DURATION_MAX], scale[32];
	int k;

	/* Each line within 79 columns whatever the report holds: names cut, times bounded. */
	fputs("Shutdown of '", f);
	print_cut(f, t->supervisor, 64, false);
	fputs("'\nTrigger '", f);
	print_cut(f, t->trigger, 34, false);
	fprintf(f, "', exit status %" PRId64 "\n", t->exit_code);
	if (span >= 10 * (BAR_W - 1))
		snprintf(scale, sizeof(scale), "%" PRId64 " ms", (span + BAR_W - 2) / (BAR_W - 1));
	else
		snprintf(scale, sizeof(scale), "%.2f ms", (double) span / (BAR_W - 1));
	format_ms(d, sizeof(d), span);
	fprintf(f, "Scale: 1 column = %s, from the trigger (0) to %s.\n", scale, d);
	if (t->budget_ms >= 0) {
		format_ms(d, sizeof(d), t->budget_ms);
		fprintf(f, "Budget (the plan's worst case): %s, marked ':'.\n", d);
	} else
		fputs("Budget: not in the report (graced --timeline REPORT -c CONFIG marks it).\n", f);
	if (t->deadline_ms >= 0)
		fprintf(f, "Deadline: %s%s.\n", (format_ms(d2, sizeof(d2), t->deadline_ms), d2),
		    t->deadline_ms <= span ? ", marked '!'" : ", beyond the axis");
	fputs("Bars: # step; - from graced's first signal to it (else the trigger) until\n"
	      "| exited, C cancelled, K killed, F failed; > abandoned, alive at the end.\n", f);

	/* The axis: + at 0 and at the end, B at the budget, D at the deadline. */
	memset(bar, '-', BAR_W);
	bar[BAR_W] = '\0';
	bar[0] = bar[BAR_W - 1] = '+';
	if (t->budget_ms >= 0)
		bar[timeline_column(t->budget_ms, span, BAR_W)] = 'B';
	if (t->deadline_ms >= 0 && t->deadline_ms <= span)
		bar[timeline_column(t->deadline_ms, span, BAR_W)] = 'D';
	format_ms(d, sizeof(d), span);
	k = (int) strlen(d);
	fprintf(f, "%-*s %s\n%-*s %-*s%s\n", LABEL_W, "", bar, LABEL_W, "", BAR_W - k, "0", d);

	for (size_t i = 0; i < t->n_rows; i++) {
		const struct timeline_row *r = &t->rows[i];

		if (i > 0 && r->kind != t->rows[i - 1].kind)
			fputc('\n', f);
		print_cut(f, r->label, LABEL_W, true);
		draw_bar(t, r, span, bar);
		fprintf(f, " %s ", bar);
		print_cut(f, r->note, NOTE_W, false);
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

/* Text for XML: markup characters as references; what XML 1.0 cannot hold at all (C0 controls,
 * U+FFFE, U+FFFF) as U+FFFD. The text is valid UTF-8 (jansson checked it). At most max
 * characters, an ellipsis marking a cut. */
static void
xml_text_cut(FILE *f, const char *s, size_t max)
{
	size_t chars = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		if ((*p & 0xc0) != 0x80 && ++chars == max && columns((const char *) p) > 1) {
			fputs("\xe2\x80\xa6", f); /* U+2026 */
			return;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if (*p < 0x20 && *p != '\t')
				fputs("\xef\xbf\xbd", f);
			else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
				fputs("\xef\xbf\xbd", f);
				p += 2;
			} else
				fputc(*p, f);
		}
	}
}

static void
xml_text(FILE *f, const char *s)
{
	xml_text_cut(f, s, SIZE_MAX);
}

static const char *
svg_color(const struct timeline_row *r)
{
	static const struct {
		const char *outcome, *color;
	} colors[] = {
		{ "exited", "#4f9a5a" },
		{ "cancelled", "#d08c2a" },
		{ "killed", "#c0392b" },
		{ "failed", "#8e2a2a" },
		{ "abandoned", "#7d3c98" },
	};

	if (r->kind == TIMELINE_STEP)
		return "#4a6fa5";
	for (size_t i = 0; i < ELEMENTSOF(colors); i++)
		if (r->outcome && streq(r->outcome, colors[i].outcome))
			return colors[i].color;
	return "#777777";
}

static double
svg_x(int64_t ms, int64_t span)
{
	return SVG_X0 + (double) SVG_BAR_W * (double) MAX(ms, INT64_C(0)) / (double) span;
}

static void
svg_marker(FILE *f, int64_t ms, int64_t span, int height, const char *color, const char *what)
{
	char d[DURATION_MAX];
	double x = svg_x(ms, span);

	format_ms(d, sizeof(d), ms);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
		   "stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n",
	    x, SVG_TOP - 20, x, height - 30, color);
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" fill=\"%s\" text-anchor=\"middle\">%s %s</text>\n", x,
	    SVG_TOP - 24, color, what, d);
}

int
timeline_write_svg(const struct timeline *t, FILE *f)
{
	int64_t span = timeline_span(t);
	int height = SVG_TOP + (int) t->n_rows * SVG_ROW_H + 40;
	char d[DURATION_MAX];

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"13\">\n",
	    SVG_W, height, SVG_W, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fputs("<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Shutdown of '", f);
	xml_text(f, t->supervisor);
	fputs("', trigger '", f);
	xml_text(f, t->trigger);
	fprintf(f, "', exit status %" PRId64 "</text>\n", t->exit_code);
	fprintf(f, "<text x=\"10\" y=\"42\">Bars run from graced's first signal to each instance "
		   "(else the trigger, 0) to its exit.%s</text>\n",
	    t->budget_ms >= 0 ? "" : " Budget: not in the report (-c CONFIG marks it).");

	/* The axis, with a tick at every tenth. */
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", SVG_X0,
	    SVG_TOP - 6, SVG_X0 + SVG_BAR_W, SVG_TOP - 6);
	for (int i = 0; i <= 10; i++) {
		int64_t ms = span * i / 10;
		double x = svg_x(ms, span);

		format_ms(d, sizeof(d), ms);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#bbbbbb\"/>\n",
		    x, SVG_TOP - 10, x, height - 30);
		if (i % 2 == 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555555\">%s"
				   "</text>\n", x, height - 14, d);
	}

	for (size_t i = 0; i < t->n_rows; i++) {
		const struct timeline_row *r = &t->rows[i];
		int y = SVG_TOP + (int) i * SVG_ROW_H;
		int64_t from = r->start_ms;
		int64_t to = r->end_ms >= 0 ? r->end_ms : t->end_ms;
		double x = svg_x(from, span), w = MAX(svg_x(to, span) - x, 2.0);
		/* As in the text: no exit time and not abandoned, no bar (the note says so). */
		bool drawn = r->end_ms >= 0 || r->kind == TIMELINE_STEP ||
			     (r->outcome && streq(r->outcome, "abandoned"));

		fprintf(f, "<g class=\"%s\">\n<text x=\"10\" y=\"%d\">",
		    r->kind == TIMELINE_STEP ? "step" : r->kind == TIMELINE_INSTANCE ? "instance" :
										      "straggler",
		    y + 15);
		xml_text_cut(f, r->label, 22);
		fprintf(f, "</text>\n<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"%s>"
			   "<title>",
		    x, y + 3, drawn ? w : 0.0, SVG_ROW_H - 6, svg_color(r),
		    r->end_ms < 0 ? " fill-opacity=\"0.5\"" : "");
		xml_text(f, r->label);
		fputs(": ", f);
		xml_text(f, r->note);
		fprintf(f, "</title></rect>\n<text x=\"%d\" y=\"%d\">", SVG_X0 + SVG_BAR_W + 10, y + 15);
		xml_text(f, r->note);
		fputs("</text>\n</g>\n", f);
	}
	if (t->budget_ms >= 0)
		svg_marker(f, t->budget_ms, span, height, "#c0392b", "budget");
	if (t->deadline_ms >= 0 && t->deadline_ms <= span)
		svg_marker(f, t->deadline_ms, span, height, "#000000", "deadline");
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* The budget of the configuration: the plan's worst case and the outside deadline it sets. */
static int
read_budget(struct timeline *t, const char *path)
{
	_cleanup_(config_freep) struct config *c = NULL;
	_cleanup_(plan_freep) struct plan *p = NULL;
	struct config_errors errors = {};
	_cleanup_free_ char *e = escape_strdup(path, 0);
	int r;

	if ((r = config_load(path, &c, &errors)) < 0) {
		config_errors_print(&errors, stderr);
		if (errors.n == 0)
			fprintf(stderr, "graced: %s: %s\n", e ? e : "-c", strerror(-r));
		config_errors_clear(&errors);
		return r;
	}
	config_errors_clear(&errors);
	if ((r = plan_build(c, &p)) < 0) {
		fprintf(stderr, "graced: %s: cannot build the plan: %s\n", e ? e : "-c", strerror(-r));
		return r;
	}
	plan_resolve_deadline(p, false);
	if (p->worst_case != USEC_INFINITY)
		t->budget_ms = (int64_t) MIN(p->worst_case / USEC_PER_MSEC, (usec_t) MAX_MS);
	if (p->deadline != USEC_INFINITY)
		t->deadline_ms = (int64_t) MIN(p->deadline / USEC_PER_MSEC, (usec_t) MAX_MS);
	return 0;
}

int
timeline_run(const char *report, const char *svg, const char *config)
{
	_cleanup_(timeline_freep) struct timeline *t = NULL;
	_cleanup_free_ char *text = NULL, *e = escape_strdup(report, 0);
	char err[256] = "";
	size_t n = 0;
	FILE *f;
	int r;

	if ((r = timeline_load(report, &t, err, sizeof(err))) < 0) {
		_cleanup_free_ char *why = escape_strdup(err, 0);

		if (r == -ENOMEM)
			fprintf(stderr, "graced: --timeline: out of memory\n");
		else
			fprintf(stderr, "graced: --timeline %s: not a readable graced report: %s\n",
			    e ? e : "?", why ? why : err);
		return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
	}
	if (config && read_budget(t, config) < 0)
		return EXIT_USAGE;
	if (!svg)
		return timeline_print(t, stdout) < 0 || fflush(stdout) != 0 ? EXIT_FAILED : EXIT_OK;
	if (!(f = open_memstream(&text, &n)))
		return EXIT_FAILED;
	r = timeline_write_svg(t, f);
	if (fclose(f) != 0 || r < 0)
		return EXIT_FAILED;
	if (streq(svg, "-"))
		return fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0 ? EXIT_FAILED : EXIT_OK;
	if ((r = write_file_atomic(svg, text, n, 0644)) < 0) {
		_cleanup_free_ char *es = escape_strdup(svg, 0);

		fprintf(stderr, "graced: --svg %s: %s\n", es ? es : "?", strerror(-r));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}
