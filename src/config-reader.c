/* SPDX-License-Identifier: MIT */
/*
 * Reading configuration files: whole files into memory, includes, and the line reader we hand
 * to inih's ini_parse_stream().
 *
 * The reader gives inih one line at a time (in several chunks when inih's buffer is smaller) and
 * looks at each line before inih does: it counts lines itself (inih's count is not passed to the
 * handler in Debian's build, and would be wrong across includes), it sees every "[section]"
 * header (inih never calls the handler for a section without keys), and it replaces a line that
 * inih would reject or could not hold by an empty one, after recording the error. inih then only
 * ever sees lines it parses, and reports nothing itself.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config-internal.h"
#include "util.h"

/*
 * Debian's libinih can grow its line buffer when told so at run time (STYLE.md 9); without the
 * switches a line must fit in the compiled-in INI_MAX_LINE, less "\r\n" and the NUL.
 */
#if HAVE_DECL_INI_MAX_LINE && HAVE_DECL_INI_ALLOW_REALLOC && HAVE_DECL_INI_USE_STACK
#define INI_SWITCHES 1
#define LINE_BYTES_MAX ((size_t) 65536)
#else
#define INI_SWITCHES 0
#define LINE_BYTES_MAX ((size_t) INI_MAX_LINE - 3)
#endif

static bool
is_blank(char c)
{
	return c != '\n' && isspace((unsigned char) c);
}

/*
 * inih's own scan: the first of chars, or an inline ';' comment (a ';' right after white
 * space), or e. Mirrors it exactly so that we agree on which lines are valid.
 */
static const char *
scan(const char *s, const char *e, const char *chars)
{
	bool was_space = false;

	for (; s < e; s++) {
		if (chars && strchr(chars, *s))
			return s;
		if (was_space && *s == ';')
			return s;
		was_space = isspace((unsigned char) *s);
	}
	return e;
}

/* Looks at one line (without leading blanks) before inih gets it; false to hide it from inih. */
static bool
check_line(struct config_parser *p, const char *c, const char *e)
{
	const char *end;

	/* Trailing white space does not count, as for inih. */
	while (e > c && isspace((unsigned char) e[-1]))
		e--;
	if (c == e || *c == ';' || *c == '#')
		return true;

	if (*c == '[') {
		_cleanup_free_ char *title = NULL;
		const char *a = c + 1, *b;

		end = scan(a, e, "]");
		if (end == e || *end != ']') {
			parser_error(p, "syntax error: missing ']' in section header");
			/* Its keys would only add errors about a section we do not know. */
			p->kind = SECTION_IGNORED;
			p->section = NULL;
			return false;
		}
		for (b = end; b > a && isspace((unsigned char) b[-1]); b--)
			;
		while (a < b && isspace((unsigned char) *a))
			a++;
		title = strndup(a, (size_t) (b - a));
		if (!title) {
			p->oom = true;
			return false;
		}
		for (end++; end < e && isspace((unsigned char) *end); end++)
			;
		if (end < e && *end != ';' && *end != '#')
			parser_error(p, "syntax error: text after ']' in section header");
		parser_begin_section(p, title);
		return true;
	}

	end = scan(c, e, "=:");
	if (end == e || (*end != '=' && *end != ':')) {
		parser_error(p, "syntax error: expected 'key = value' or '[section]'");
		return false;
	}
	if (end == c) {
		parser_error(p, "syntax error: missing key before '%c'", *end);
		return false;
	}
	return true;
}

/* Moves to the next line of the source; false at the end. */
static bool
next_line(struct config_parser *p, struct source *s)
{
	const char *start, *c, *e, *nl;
	size_t len, content;

	if (s->pos >= s->len)
		return false;
	start = s->text + s->pos;
	nl = memchr(start, '\n', s->len - s->pos);
	len = nl ? (size_t) (nl - start) + 1 : s->len - s->pos;
	s->pos += len;
	s->line++;
	p->ordinal++;
	s->line_ordinal = p->ordinal;

	c = start;
	e = start + len;
	if (s->line == 1 && len >= 3 && memcmp(c, "\xEF\xBB\xBF", 3) == 0)
		c += 3;
	/*
	 * Leading blanks go: inih would take an indented line for the continuation of the key
	 * before it (its multi-line values), and an operator who indents means nothing of the kind.
	 */
	while (c < e && is_blank(*c))
		c++;

	content = (size_t) (e - c);
	if (content > 0 && c[content - 1] == '\n')
		content--;
	if (content > 0 && c[content - 1] == '\r')
		content--;

	s->cur = "\n";
	s->cur_len = 1;
	s->cur_off = 0;
	if (content > LINE_BYTES_MAX) {
		parser_error(p, "line too long (more than %zu bytes)", LINE_BYTES_MAX);
		return true;
	}
	if (!check_line(p, c, c + content))
		return true;
	s->cur = c;
	s->cur_len = (size_t) (e - c);
	return true;
}

static char *
reader(char *str, int num, void *stream)
{
	struct config_parser *p = stream;
	struct source *s = p->src;
	size_t n;

	if (num < 2)
		return NULL;
	if (s->cur_off >= s->cur_len && !next_line(p, s))
		return NULL;
	n = MIN((size_t) num - 1, s->cur_len - s->cur_off);
	memcpy(str, s->cur + s->cur_off, n);
	str[n] = '\0';
	s->cur_off += n;
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	parser_handle_key(user, name, value);
	/* Errors are collected by us; inih's count of them is not used. */
	return 1;
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t) (slash - path));
}

/* Parses text as the file name, included from p->src (or the main file when that is NULL). */
static int
parse_source(struct config_parser *p, const char *name, const char *text, size_t len,
    const struct stat *st)
{
	struct source s = {
		.parent = p->src,
		.text = text,
		.len = len,
	};
	struct section_rec *saved_section = p->section;
	enum section_kind saved_kind = p->kind;
	char **files;
	int r;

	if (strv_extend(&p->config->files, name) < 0)
		return -ENOMEM;
	files = p->config->files;
	s.file = files[strv_length(files) - 1];
	s.dir = dir_of(name);
	if (!s.dir)
		return -ENOMEM;
	if (st) {
		s.has_id = true;
		s.dev = st->st_dev;
		s.ino = st->st_ino;
	}

	/* An included file starts outside any section; its sections end with it. */
	p->src = &s;
	p->kind = SECTION_NONE;
	p->section = NULL;
	p->depth++;
	r = ini_parse_stream(reader, p, handler, p);
	if (r == -2)
		p->oom = true;
	else if (r > 0)
		/* Not expected: check_line() hides every line inih would reject. */
		parser_error_at(p, s.file, s.line, s.line_ordinal, "syntax error");
	p->depth--;
	p->src = s.parent;
	p->kind = saved_kind;
	p->section = saved_section;
	free(s.dir);
	return 0;
}

/* The whole file; -ENOENT, -EISDIR, -EINVAL (not a regular file), -EFBIG, -EBADMSG (NUL). */
static int
load_file(const char *path, char **ret_text, size_t *ret_len, struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0, size;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* st_size is a hint only: files in /proc say 0, and a file may grow while we read. */
	size = MIN((size_t) MAX(st.st_size, 0), (size_t) CONFIG_FILE_SIZE_MAX) + 1;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *b;

			if (size > CONFIG_FILE_SIZE_MAX)
				return -EFBIG;
			size = MIN(size * 2, (size_t) CONFIG_FILE_SIZE_MAX + 1);
			b = realloc(buf, size);
			if (!b)
				return -ENOMEM;
			buf = b;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (len > CONFIG_FILE_SIZE_MAX)
		return -EFBIG;
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	*ret_text = TAKE_PTR(buf);
	*ret_len = len;
	*ret_st = st;
	return 0;
}

static const char *
load_error_string(int r)
{
	switch (r) {
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "file too large";
	case -EBADMSG:
		return "file contains a NUL byte";
	default:
		return strerror(-r);
	}
}

#if INI_SWITCHES
struct ini_switches {
	bool use_stack;
	bool allow_realloc;
	int max_line;
};

static struct ini_switches
switches_set(void)
{
	struct ini_switches old = { ini_use_stack, ini_allow_realloc, ini_max_line };

	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = (int) LINE_BYTES_MAX + 3;
	return old;
}

static void
switches_restore(const struct ini_switches *old)
{
	ini_use_stack = old->use_stack;
	ini_allow_realloc = old->allow_realloc;
	ini_max_line = old->max_line;
}
#endif

static int
parse_top(struct config_parser *p, const char *name, const char *text, size_t len,
    const struct stat *st)
{
	int r;
#if INI_SWITCHES
	struct ini_switches old = switches_set();
#endif

	r = parse_source(p, name, text, len, st);
#if INI_SWITCHES
	switches_restore(&old);
#endif
	return r;
}

int
config_read_file(struct config_parser *p, const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len;
	int r;

	r = load_file(path, &text, &len, &st);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		parser_error_at(p, path, 0, 0, "cannot read configuration: %s",
		    load_error_string(r));
		return -EINVAL;
	}
	return parse_top(p, path, text, len, &st);
}

int
config_read_text(struct config_parser *p, const char *name, const char *text)
{
	return parse_top(p, name, text, strlen(text), NULL);
}

/* One file named by an include, read in place. */
static void
include_one(struct config_parser *p, const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len;
	int r;

	if (p->depth > CONFIG_INCLUDE_DEPTH_MAX) {
		parser_error(p, "include of '%s' nested too deeply (more than %d levels)", path,
		    CONFIG_INCLUDE_DEPTH_MAX);
		return;
	}
	if (strv_length(p->config->files) >= CONFIG_FILES_MAX) {
		parser_error(p, "include of '%s': too many files (more than %d)", path,
		    CONFIG_FILES_MAX);
		return;
	}
	r = load_file(path, &text, &len, &st);
	if (r == -ENOMEM) {
		p->oom = true;
		return;
	}
	if (r == -ENOENT) {
		parser_error(p, "include not found: '%s'", path);
		return;
	}
	if (r < 0) {
		parser_error(p, "cannot read include '%s': %s", path, load_error_string(r));
		return;
	}
	for (const struct source *s = p->src; s; s = s->parent)
		if (s->has_id && s->dev == st.st_dev && s->ino == st.st_ino) {
			parser_error(p, "include cycle: '%s' is already being read", path);
			return;
		}
	if (parse_source(p, path, text, len, &st) < 0)
		p->oom = true;
}

/* include = GLOB, relative to the including file's directory, matches in sorted order. */
void
config_include(struct config_parser *p, const char *pattern)
{
	_cleanup_free_ char *path = NULL;
	glob_t g = {};
	int r;

	if (!*pattern) {
		parser_error(p, "empty value for include");
		return;
	}
	if (*pattern == '/' || streq(p->src->dir, "."))
		path = strdup(pattern);
	else if (asprintf(&path, "%s/%s", p->src->dir, pattern) < 0)
		path = NULL;
	if (!path) {
		p->oom = true;
		return;
	}

	/* A plain name must exist; a pattern may match nothing (an empty conf.d). */
	if (!strpbrk(path, "*?[")) {
		include_one(p, path);
		return;
	}
	r = glob(path, GLOB_MARK, NULL, &g);
	if (r == GLOB_NOSPACE)
		p->oom = true;
	else if (r == GLOB_ABORTED)
		parser_error(p, "cannot read include '%s'", path);
	else if (r == 0)
		for (size_t i = 0; i < g.gl_pathc; i++) {
			const char *m = g.gl_pathv[i];

			/* GLOB_MARK gives directories a trailing '/': they are not files. */
			if (*m && m[strlen(m) - 1] == '/')
				continue;
			include_one(p, m);
		}
	globfree(&g);
}
