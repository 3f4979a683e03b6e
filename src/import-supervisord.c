/* SPDX-License-Identifier: MIT */
/*
 * A supervisord.conf to graced.ini converter. It has its own reader for the INI dialect of
 * Python's ConfigParser that supervisord uses ("key = value" or "key: value", indented
 * continuation lines, ';' and '#' comments, inline ones after a space), because that dialect is
 * not graced's: values span lines and names are case-insensitive. The result is written for
 * graced's reader: a literal '$' becomes "$$", %(ENV_X)s becomes ${X}, %(process_num)d becomes
 * ${INSTANCE}.
 */

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import-supervisord.h"
#include "macro.h"
#include "parse.h"
#include "util.h"

#define IMPORT_DEPTH_MAX 8
#define IMPORT_FILE_MAX (1024 * 1024)

struct sv_key {
	char *name;
	char *value;
	const char *file;  /* in sv_conf.files */
	unsigned line;
};

struct sv_section {
	char *name;
	const char *file;
	unsigned line;
	struct sv_key *keys;
	size_t n_keys;
};

struct sv_conf {
	struct sv_section *sections;
	size_t n_sections;
	char **files;
	size_t n_files;
	FILE *err;
	int error;
};

/* Reading. */

static char *
strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* ConfigParser's inline comments: ';' or '#' after whitespace. */
static void
cut_inline_comment(char *s)
{
	for (char *p = s; *p; p++)
		if ((*p == ';' || *p == '#') && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

static void
report(struct sv_conf *c, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "%s:%u: ", file, line);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	c->error = -EINVAL;
}

static struct sv_section *
section_get(struct sv_conf *c, const char *name, const char *file, unsigned line)
{
	struct sv_section *s;

	for (size_t i = 0; i < c->n_sections; i++)
		if (streq(c->sections[i].name, name))
			return &c->sections[i];
	s = reallocarray(c->sections, c->n_sections + 1, sizeof(*s));
	if (!s)
		return NULL;
	c->sections = s;
	s = &c->sections[c->n_sections];
	*s = (struct sv_section) { .name = strdup(name), .file = file, .line = line };
	if (!s->name)
		return NULL;
	c->n_sections++;
	return s;
}

/* Sets name in s (a later setting of the same name, e.g. from an include, replaces it). */
static struct sv_key *
key_set(struct sv_section *s, const char *name, const char *value, const char *file,
    unsigned line)
{
	struct sv_key *k = NULL;
	char *n = strdup(name), *v = strdup(value);

	if (!n || !v)
		goto oom;
	for (char *p = n; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p - 'A' + 'a');
	for (size_t i = 0; i < s->n_keys; i++)
		if (streq(s->keys[i].name, n)) {
			k = &s->keys[i];
			free(k->name);
			free(k->value);
			break;
		}
	if (!k) {
		k = reallocarray(s->keys, s->n_keys + 1, sizeof(*k));
		if (!k)
			goto oom;
		s->keys = k;
		k = &s->keys[s->n_keys++];
	}
	*k = (struct sv_key) { .name = n, .value = v, .file = file, .line = line };
	return k;
oom:
	free(n);
	free(v);
	return NULL;
}

static int read_file(struct sv_conf *c, const char *path, unsigned depth);

static int
add_file(struct sv_conf *c, const char *path, const char **ret)
{
	char **f = reallocarray(c->files, c->n_files + 2, sizeof(char *));

	if (!f)
		return -ENOMEM;
	c->files = f;
	if (!(f[c->n_files] = strdup(path)))
		return -ENOMEM;
	*ret = f[c->n_files++];
	f[c->n_files] = NULL;
	return 0;
}

/* The absolute directory of file: %(here)s, and the base of relative includes. */
static char *
dir_of(const char *file)
{
	_cleanup_free_ char *dir = NULL;
	const char *slash = strrchr(file, '/');

	if (!slash)
		return getcwd(NULL, 0);
	dir = strndup(file, slash == file ? 1 : (size_t) (slash - file));
	if (!dir)
		return NULL;
	return realpath(dir, NULL) ?: TAKE_PTR(dir);
}

/* [include] files = GLOB...: relative to the including file, each glob in sorted order. */
static int
read_includes(struct sv_conf *c, const struct sv_key *k, unsigned depth)
{
	_cleanup_strv_free_ char **globs = NULL;
	_cleanup_free_ char *dir = dir_of(k->file);
	int r;

	if (!dir)
		return -ENOMEM;
	if ((r = parse_word_list(k->value, &globs)) < 0)
		return r;
	for (char **g = globs; *g; g++) {
		_cleanup_free_ char *pattern = NULL;
		glob_t gl = {};

		if (asprintf(&pattern, "%s%s%s", **g == '/' ? "" : dir, **g == '/' ? "" : "/",
		    *g) < 0)
			return -ENOMEM;
		if (glob(pattern, 0, NULL, &gl) == 0)
			for (size_t i = 0; i < gl.gl_pathc && r >= 0; i++)
				r = read_file(c, gl.gl_pathv[i], depth + 1);
		globfree(&gl);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
read_file(struct sv_conf *c, const char *path, unsigned depth)
{
	_cleanup_free_ char *text = NULL;
	struct sv_section *sec = NULL;
	struct sv_key *last = NULL;
	const char *file;
	unsigned line = 1;
	size_t len = 0;
	FILE *f;
	int r;

	if (depth > IMPORT_DEPTH_MAX) {
		fprintf(c->err, "%s: includes nested more than %d deep\n", path, IMPORT_DEPTH_MAX);
		return -ELOOP;
	}
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		fprintf(c->err, "%s: %s\n", path, strerror(-r));
		return r;
	}
	text = calloc(1, IMPORT_FILE_MAX + 1);
	if (text)
		len = fread(text, 1, IMPORT_FILE_MAX + 1, f);
	fclose(f);
	if (!text)
		return -ENOMEM;
	if (len > IMPORT_FILE_MAX) {
		fprintf(c->err, "%s: larger than %d bytes\n", path, IMPORT_FILE_MAX);
		return -EFBIG;
	}
	if ((r = add_file(c, path, &file)) < 0)
		return r;

	for (char *l = text, *next; l; l = next, line++) {
		char *s, *eq, *colon;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		else if (!*l)
			break;
		if ((*l == ' ' || *l == '\t') && last && *strip(l)) {
			/* A continuation line: part of the last value. */
			_cleanup_free_ char *v = NULL;

			s = strip(l);
			cut_inline_comment(s);
			if (asprintf(&v, "%s\n%s", last->value, strip(s)) < 0)
				return -ENOMEM;
			free(last->value);
			last->value = TAKE_PTR(v);
			continue;
		}
		s = strip(l);
		if (!*s || *s == ';' || *s == '#')
			continue;
		last = NULL;
		if (*s == '[') {
			char *rb = strchr(s, ']');

			if (!rb) {
				report(c, file, line, "section header without ']': '%s'", s);
				sec = NULL;
				continue;
			}
			*rb = '\0';
			if (!(sec = section_get(c, strip(s + 1), file, line)))
				return -ENOMEM;
			continue;
		}
		if (!sec) {
			report(c, file, line, "setting outside of any section: '%s'", s);
			continue;
		}
		eq = strchr(s, '=');
		colon = strchr(s, ':');
		if (!eq || (colon && colon < eq))
			eq = colon;
		if (!eq) {
			report(c, file, line, "expected 'key = value', not '%s'", s);
			continue;
		}
		*eq = '\0';
		cut_inline_comment(eq + 1);
		if (!(last = key_set(sec, strip(s), strip(eq + 1), file, line)))
			return -ENOMEM;
		if (streq(sec->name, "include") && streq(last->name, "files")) {
			const struct sv_key copy = *last;
			_cleanup_free_ char *v = strdup(copy.value);
			struct sv_key k = copy;

			if (!v)
				return -ENOMEM;
			k.value = v;
			/* Sections of the included files come after this file's so far. */
			if ((r = read_includes(c, &k, depth)) < 0)
				return r;
			sec = NULL;
			last = NULL;
		}
	}
	return 0;
}

/* Writing. */

struct expand_ctx {
	const char *program;
	const char *group;
	unsigned numprocs;
	const char *here;
	char notes[512];      /* what could not be expanded, for a comment */
};

static void
note(struct expand_ctx *x, const char *fmt, ...)
{
	size_t n = strlen(x->notes);
	va_list ap;

	if (n + 3 >= sizeof(x->notes))
		return;
	if (n > 0) {
		strcat(x->notes, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(x->notes + n, sizeof(x->notes) - n, fmt, ap);
	va_end(ap);
}

static void
put_literal(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* graced expands ${VAR} when it reads the file: a literal '$' is "$$". */
		if (s[i] == '$')
			fputc('$', out);
		fputc(s[i] == '\n' ? ' ' : s[i], out);
	}
}

/* Writes v with supervisord's %(name)s expressions turned into graced's. */
static void
put_expanded(FILE *out, const char *v, struct expand_ctx *x)
{
	for (const char *p = v; *p;) {
		const char *close, *conv;
		char name[64];
		size_t n;

		if (*p != '%') {
			n = strcspn(p, "%");
			put_literal(out, p, n);
			p += n;
			continue;
		}
		if (p[1] == '%') {
			fputc('%', out);
			p += 2;
			continue;
		}
		if (p[1] != '(' || !(close = strchr(p, ')')) || (size_t) (close - p - 2) >= sizeof(name)) {
			put_literal(out, p, 1);
			p++;
			continue;
		}
		memcpy(name, p + 2, (size_t) (close - p - 2));
		name[close - p - 2] = '\0';
		/* The conversion: flags and width, then one letter (s, d, ...). */
		conv = close + 1 + strspn(close + 1, "-0123456789");
		if (!*conv) {
			put_literal(out, p, strlen(p));
			return;
		}
		if (strncmp(name, "ENV_", 4) == 0)
			fprintf(out, "${%s}", name + 4);
		else if (streq(name, "here"))
			put_literal(out, x->here, strlen(x->here));
		else if (streq(name, "program_name"))
			fputs(x->program, out);
		else if (streq(name, "group_name"))
			fputs(x->group, out);
		else if (streq(name, "numprocs"))
			fprintf(out, "%u", x->numprocs);
		else if (streq(name, "process_num")) {
			unsigned width = close[1] == '0' ? (unsigned) atoi(close + 2) : 0;

			/* Zero padding holds only while every number has one digit. */
			if (width > 1 && x->numprocs <= 10)
				for (unsigned i = 1; i < width; i++)
					fputc('0', out);
			else if (width > 1)
				note(x, "%%(process_num)0%ud is not padded (${INSTANCE} is 0, 1, ...)",
				    width);
			fputs("${INSTANCE}", out);
		} else if (streq(name, "host_node_name")) {
			char host[256] = "";

			(void) gethostname(host, sizeof(host) - 1);
			put_literal(out, host, strlen(host));
			note(x, "%%(host_node_name)s is '%s', this machine's name now", host);
		} else {
			note(x, "%%(%s)s has no graced equivalent and is written as it is", name);
			put_literal(out, p, (size_t) (conv + 1 - p));
		}
		p = conv + 1;
	}
}

static const struct sv_key *
key_find(const struct sv_section *s, const char *name)
{
	for (size_t i = 0; s && i < s->n_keys; i++)
		if (streq(s->keys[i].name, name))
			return &s->keys[i];
	return NULL;
}

static void
not_carried(FILE *out, const struct sv_key *k, const char *why)
{
	fprintf(out, "; not carried over: %s = ", k->name);
	for (const char *p = k->value; *p; p++)
		fputc(*p == '\n' ? ' ' : *p, out);
	fprintf(out, "%s%s\n", why ? " -- " : "", why ? why : "");
}

static bool
is_true(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
	    streq(v, "1");
}

/* supervisord's environment: KEY="value",KEY2=value2 (commas, optional quotes, any lines). */
static void
put_environment(FILE *out, const char *v, struct expand_ctx *x)
{
	const char *p = v;
	bool first = true;

	for (;;) {
		_cleanup_free_ char *val = NULL, *quoted = NULL;
		const char *key, *eq;
		char *q;
		size_t klen;

		while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		key = p;
		eq = strchr(p, '=');
		if (!eq)
			break;
		klen = (size_t) (eq - key);
		while (klen > 0 && (key[klen - 1] == ' ' || key[klen - 1] == '\t'))
			klen--;
		p = eq + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"' || *p == '\'') {
			/* As shlex in POSIX mode: in double quotes \" and \\ are escapes. */
			char quote = *p++, *o;

			val = o = malloc(strlen(p) + 1);
			if (!val)
				return;
			for (; *p && *p != quote; p++) {
				if (quote == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				*o++ = *p;
			}
			*o = '\0';
			if (*p)
				p++;
		} else {
			size_t n = strcspn(p, ",");

			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n'))
				n--;
			val = strndup(p, n);
			p += strcspn(p, ",");
		}
		if (!val)
			return;
		/* In double quotes graced takes \" \\ \` as escapes; '$' is doubled by put_expanded. */
		quoted = malloc(strlen(val) * 2 + 1);
		if (!quoted)
			return;
		q = quoted;
		for (char *c = val; *c; c++) {
			if (*c == '"' || *c == '\\' || *c == '`')
				*q++ = '\\';
			*q++ = *c;
		}
		*q = '\0';
		fprintf(out, "%s%.*s=\"", first ? "" : " ", (int) klen, key);
		put_expanded(out, quoted, x);
		fputc('"', out);
		first = false;
	}
}

static char *
sanitize_name(const char *name)
{
	char *n = strndup(name, 64);

	if (!n)
		return NULL;
	for (char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			*p = '-';
	if (*n == '-')
		*n = '_';
	return n;
}

static const char *
group_of(const struct sv_conf *c, const char *program)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		const struct sv_section *s = &c->sections[i];
		const struct sv_key *k;
		_cleanup_strv_free_ char **l = NULL;

		if (strncmp(s->name, "group:", 6) != 0 || !(k = key_find(s, "programs")))
			continue;
		if (parse_word_list(k->value, &l) < 0)
			continue;
		for (char **p = l; *p; p++)
			if (streq(*p, program))
				return s->name + 6;
	}
	return program;
}

/* A supervisord log file setting that names a file, not graced's own output (/dev/stdout and
 * /dev/stderr are what output = inherit does; none and auto are not kept by graced either). */
static bool
logfile_is_file(const char *v)
{
	return !streq(v, "/dev/stdout") && !streq(v, "/dev/stderr") && !streq(v, "/dev/fd/1") &&
	    !streq(v, "/dev/fd/2") && strcasecmp(v, "none") != 0 && strcasecmp(v, "auto") != 0;
}

/* Whether the program's key (stdout_logfile) becomes a log file graced writes. */
static bool
logfile_carried(const struct sv_section *s, const char *key)
{
	const struct sv_key *k = key_find(s, key);

	return k && logfile_is_file(k->value) && (k->value[0] == '/' ||
	    strncmp(k->value, "%(here)s", 8) == 0) && !strstr(k->value, "%(process_num)");
}

static void
put_program(FILE *out, const struct sv_conf *c, const struct sv_section *s,
    const struct sv_section *sup)
{
	const char *program = strchr(s->name, ':') + 1;
	_cleanup_free_ char *name = sanitize_name(program), *here = dir_of(s->file);
	const struct sv_key *k;
	struct expand_ctx x = { .program = program, .group = group_of(c, program), .numprocs = 1,
		.here = here ? here : "." };
	const struct sv_key *sup_env = key_find(sup, "environment");

	if (!name)
		return;
	if ((k = key_find(s, "numprocs")))
		x.numprocs = (unsigned) MAX(atoi(k->value), 1);
	fprintf(out, "\n; from [%s] at %s:%u\n", s->name, s->file, s->line);
	if (!streq(name, program))
		fprintf(out, "; the name '%s' is written '%s' (letters, digits, '_' and '-')\n", program,
		    name);
	fprintf(out, "[worker:%s]\n", name);
	for (size_t i = 0; i < s->n_keys; i++) {
		const char *n;
		const char *v;

		k = &s->keys[i];
		n = k->name;
		v = k->value;
		x.notes[0] = '\0';
		if (streq(n, "command")) {
			fputs("command = ", out);
			put_expanded(out, v, &x);
			fputc('\n', out);
		} else if (streq(n, "numprocs")) {
			if (x.numprocs > 1024)
				not_carried(out, k, "graced runs at most 1024 instances");
			else
				fprintf(out, "instances = %u\n", x.numprocs);
		} else if (streq(n, "numprocs_start")) {
			if (atoi(v) != 0)
				not_carried(out, k, "instances are numbered from 0 (${INSTANCE})");
		} else if (streq(n, "process_name")) {
			fprintf(out, "; process_name = %s -- instances are named %s.0, %s.1, ...\n", v,
			    name, name);
		} else if (streq(n, "directory")) {
			fputs("directory = ", out);
			put_expanded(out, v, &x);
			fputc('\n', out);
		} else if (streq(n, "user")) {
			fprintf(out, "user = %s\n", v);
		} else if (streq(n, "umask")) {
			fprintf(out, "umask = %s\n", v);
		} else if (streq(n, "environment")) {
			fputs("environment = ", out);
			/* [supervisord]'s environment goes to every program, before its own. */
			if (sup_env) {
				put_environment(out, sup_env->value, &x);
				fputc(' ', out);
			}
			put_environment(out, v, &x);
			fputc('\n', out);
		} else if (streq(n, "stopsignal")) {
			int sig;

			if (parse_signal(v, &sig) < 0)
				not_carried(out, k, "not a signal graced knows");
			else
				fprintf(out, "stop_signal = %s\n", signal_to_string(sig));
		} else if (streq(n, "stopwaitsecs")) {
			fprintf(out, "stop_timeout = %ds\n", atoi(v));
		} else if (streq(n, "killasgroup")) {
			fprintf(out, "kill_mode = %s\n", is_true(v) ? "group" : "main");
		} else if (streq(n, "stopasgroup")) {
			/* supervisord's stopasgroup implies killasgroup; kill_mode = group is
			 * graced's default. */
			fprintf(out, "signal_target = %s\n", is_true(v) ? "group" : "main");
		} else if (streq(n, "autorestart")) {
			fprintf(out, "restart = %s\n", strcasecmp(v, "unexpected") == 0 ? "on-failure" :
			    is_true(v) ? "always" : "no");
		} else if (streq(n, "exitcodes")) {
			_cleanup_strv_free_ char **l = NULL;
			bool any = false;

			if (parse_word_list(v, &l) < 0)
				continue;
			for (char **e = l; *e; e++)
				if (!streq(*e, "0")) {
					fprintf(out, "%s%s", any ? " " : "success_status = ", *e);
					any = true;
				}
			if (any)
				fputc('\n', out);
			if (!strv_contains(l, "0"))
				fprintf(out, "; exitcodes = %s -- graced counts exit 0 as a success too\n",
				    v);
		} else if (streq(n, "startsecs")) {
			if (atoi(v) > 0)
				fprintf(out, "ready = delay:%ds\n", atoi(v));
		} else if (streq(n, "startretries")) {
			not_carried(out, k, "graced limits starts in a window instead: start_limit = "
			    "5 in 60s");
		} else if (streq(n, "autostart")) {
			if (!is_true(v))
				fputs("autostart = no\n", out);
		} else if (streq(n, "priority")) {
			not_carried(out, k, "graced orders start and stop by after= dependencies");
		} else if (streq(n, "redirect_stderr")) {
			if (is_true(v))
				fputs("stderr = stdout\n", out);
		} else if (streq(n, "stdout_logfile") || streq(n, "stderr_logfile")) {
			bool is_stdout = streq(n, "stdout_logfile");

			if (!logfile_is_file(v))
				continue; /* /dev/stdout, none, auto: graced's own output */
			if (v[0] != '/' && strncmp(v, "%(here)s", 8) != 0)
				not_carried(out, k, "graced's log files are absolute paths");
			else if (strstr(v, "%(process_num)"))
				not_carried(out, k, "graced's instances share one log file (${INSTANCE} "
				    "does not expand in output)");
			else {
				fputs(is_stdout ? "output = file:" : "stderr = file:", out);
				put_expanded(out, v, &x);
				fputc('\n', out);
			}
		} else if (streq(n, "stdout_logfile_maxbytes") || streq(n, "stdout_logfile_backups")) {
			/* Only next to a log file graced writes. supervisord's maxbytes 0 is no limit,
			 * as graced's, and its KB, MB and GB suffixes are graced's too. */
			if (!logfile_carried(s, "stdout_logfile"))
				continue;
			if (streq(n, "stdout_logfile_maxbytes"))
				fprintf(out, "output_max_size = %s\n", v);
			else
				fprintf(out, "output_backups = %d\n", atoi(v));
		} else if (streq(n, "stderr_logfile_maxbytes") || streq(n, "stderr_logfile_backups")) {
			if (logfile_carried(s, "stderr_logfile"))
				not_carried(out, k, "graced rotates stderr's file by "
				    "output_max_size and output_backups too");
		} else if (streq(n, "stdout_syslog") || streq(n, "stderr_syslog")) {
			if (is_true(v))
				fputs("output = journal\n", out);
		} else
			not_carried(out, k, NULL);
		if (x.notes[0])
			fprintf(out, "; note: %s\n", x.notes);
	}
	if (!key_find(s, "environment") && sup_env) {
		fputs("environment = ", out);
		put_environment(out, sup_env->value, &x);
		fputc('\n', out);
	}
}

static void
put_other(FILE *out, const struct sv_section *s, const char *why)
{
	fprintf(out, "\n; not carried over: [%s] at %s:%u -- %s\n", s->name, s->file, s->line, why);
	for (size_t i = 0; i < s->n_keys; i++)
		not_carried(out, &s->keys[i], NULL);
}

int
import_supervisord(const char *path, FILE *out, FILE *err)
{
	struct sv_conf c = { .err = err };
	const struct sv_section *sup = NULL;
	size_t programs = 0;
	int r;

	r = read_file(&c, path, 0);
	if (r >= 0 && c.error < 0)
		r = c.error;
	for (size_t i = 0; r >= 0 && i < c.n_sections; i++) {
		if (streq(c.sections[i].name, "supervisord"))
			sup = &c.sections[i];
		programs += strncmp(c.sections[i].name, "program:", 8) == 0;
	}
	if (r >= 0 && programs == 0) {
		fprintf(err, "%s: no [program:NAME] section: not a supervisord.conf with programs\n",
		    path);
		r = -EINVAL;
	}
	if (r < 0)
		goto done;

	fprintf(out, "; graced.ini imported from %s by graced --import supervisord.\n", path);
	fprintf(out, "; Each \"; not carried over:\" line is a setting graced could not express.\n");
	if (sup) {
		fprintf(out, "\n; from [supervisord] at %s:%u\n[supervisor]\n", sup->file, sup->line);
		for (size_t i = 0; i < sup->n_keys; i++) {
			const struct sv_key *k = &sup->keys[i];

			if (streq(k->name, "pidfile") && k->value[0] == '/')
				fprintf(out, "pidfile = %s\n", k->value);
			else if (streq(k->name, "environment"))
				fprintf(out, "; environment: given to every worker below\n");
			else if (streq(k->name, "nodaemon"))
				fprintf(out, "; nodaemon: graced always runs in the foreground\n");
			else
				not_carried(out, k, NULL);
		}
	}
	for (size_t i = 0; i < c.n_sections; i++) {
		const struct sv_section *s = &c.sections[i];

		if (streq(s->name, "supervisord"))
			continue;
		if (strncmp(s->name, "program:", 8) == 0 && s->name[8])
			put_program(out, &c, s, sup);
		else if (strncmp(s->name, "group:", 6) == 0)
			put_other(out, s, "graced has no groups; its programs are workers above or "
			    "below, and after= orders them");
		else if (streq(s->name, "unix_http_server") || streq(s->name, "inet_http_server"))
			put_other(out, s, "gracectl uses [supervisor] control_socket = PATH instead");
		else if (streq(s->name, "supervisorctl") || strncmp(s->name, "rpcinterface:", 13) == 0)
			put_other(out, s, "gracectl needs no configuration section");
		else if (streq(s->name, "include"))
			continue;
		else
			put_other(out, s, "no graced equivalent");
	}
done:
	for (size_t i = 0; i < c.n_sections; i++) {
		for (size_t j = 0; j < c.sections[i].n_keys; j++) {
			free(c.sections[i].keys[j].name);
			free(c.sections[i].keys[j].value);
		}
		free(c.sections[i].keys);
		free(c.sections[i].name);
	}
	free(c.sections);
	strv_free(c.files);
	return r;
}
