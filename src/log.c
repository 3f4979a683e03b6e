/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "outbuf.h"
#include "util.h"

#define LOG_LINE_MAX 4096
#define LOG_FIELDS_MAX 16

/*
 * Log calls run on task stacks (64 KiB, no large arrays: STYLE.md 8), so the line buffers are
 * static. graced is one thread and nothing logs from a signal handler, so they are never in use
 * twice at once.
 */
static char msg_buf[LOG_LINE_MAX];
static char line_buf[LOG_LINE_MAX];
static char field_buf[LOG_FIELDS_MAX + 4][LOG_LINE_MAX / 4];
static char message_buf[LOG_LINE_MAX + 16];

static enum log_target log_target = LOG_TARGET_STDERR;
static enum log_level log_level = LOG_LEVEL_INFO;
static const char *log_ident = "graced";

/* Our levels are ordered by verbosity; syslog priorities by severity. */
static const int level_priority[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_ERR] = LOG_ERR,
	[LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *
priority_name(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "err";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

bool
log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void
log_setup(enum log_target target, enum log_level level, const char *ident)
{
	if (target == LOG_TARGET_AUTO)
		target = log_stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	log_target = target;
	log_set_level(level);
	if (ident)
		log_ident = ident;
}

void
log_set_level(enum log_level level)
{
	if (level >= 0 && level < _LOG_LEVEL_MAX)
		log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

enum log_target
log_get_target(void)
{
	return log_target;
}

/* A logfmt value needs quotes when it is empty or holds a space, quote, '=' or backslash, or
 * anything the shared rule escapes (util.h: control bytes, invalid UTF-8). */
static void
append_value(char *buf, size_t n, size_t *len, const char *v)
{
	size_t at;

	if (*v && !strpbrk(v, " \"=\\") && !escape_needed(v, 0)) {
		*len += (size_t) snprintf(buf + MIN(*len, n), n - MIN(*len, n), "%s", v);
		return;
	}
	*len += (size_t) snprintf(buf + MIN(*len, n), n - MIN(*len, n), "\"");
	at = MIN(*len, n);
	*len += escape_buf(buf + at, n - at, v, strlen(v), ESCAPE_QUOTE);
	*len += (size_t) snprintf(buf + MIN(*len, n), n - MIN(*len, n), "\"");
}

static void
write_stderr(int priority, const struct log_field *fields, const char *msg)
{
	char *line = line_buf;
	size_t len = 0;

	len += (size_t) snprintf(line, sizeof(line_buf), "level=%s", priority_name(priority));
	for (const struct log_field *f = fields; f && f->key; f++) {
		if (!f->value)
			continue;
		len += (size_t) snprintf(line + MIN(len, sizeof(line_buf)), sizeof(line_buf) - MIN(len, sizeof(line_buf)),
		    " %s=", f->key);
		append_value(line, sizeof(line_buf), &len, f->value);
	}
	len += (size_t) snprintf(line + MIN(len, sizeof(line_buf)), sizeof(line_buf) - MIN(len, sizeof(line_buf)),
	    " msg=");
	append_value(line, sizeof(line_buf), &len, msg);
	if (len >= sizeof(line_buf) - 1)
		len = sizeof(line_buf) - 2;
	line[len++] = '\n';
	/* Never blocks once the loop runs: a line that does not fit is dropped and counted. */
	(void) outbuf_write(STDERR_FILENO, &(struct iovec) { .iov_base = line, .iov_len = len }, 1,
	    false);
}

static void
write_journal(int priority, int error, const struct log_field *fields, const char *msg)
{
	char (*buffers)[LOG_LINE_MAX / 4] = field_buf;
	struct iovec iov[LOG_FIELDS_MAX + 4];
	size_t n = 0;

	snprintf(buffers[n], sizeof(buffers[n]), "PRIORITY=%d", priority);
	n++;
	snprintf(buffers[n], sizeof(buffers[n]), "SYSLOG_IDENTIFIER=%s", log_ident);
	n++;
	if (error) {
		snprintf(buffers[n], sizeof(buffers[n]), "ERRNO=%d", error);
		n++;
	}
	for (const struct log_field *f = fields; f && f->key && n < LOG_FIELDS_MAX + 3; f++) {
		char *p = buffers[n];
		int k;

		if (!f->value)
			continue;
		k = snprintf(p, sizeof(buffers[n]), "GRACED_");
		for (const char *c = f->key; *c && k < (int) sizeof(buffers[n]) - 2; c++)
			p[k++] = (char) (isalnum((unsigned char) *c) ? toupper((unsigned char) *c) : '_');
		p[k++] = '=';
		(void) escape_buf(p + k, sizeof(buffers[n]) - (size_t) k, f->value, strlen(f->value), 0);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		iov[i] = (struct iovec) { .iov_base = buffers[i], .iov_len = strlen(buffers[i]) };
	{
		/* MESSAGE= may be long; it gets its own allocation-free iovec pair. */
		/* The same escaping as on stderr: journalctl shows MESSAGE= on a terminal. */
		memcpy(message_buf, "MESSAGE=", 8);
		(void) escape_buf(message_buf + 8, sizeof(message_buf) - 8, msg, strlen(msg), 0);
		iov[n++] = (struct iovec) { .iov_base = message_buf, .iov_len = strlen(message_buf) };
		/* Not taken (no journald, or it does not keep up): the line goes to stderr, which
		 * does not block either. */
		if (journal_send(JOURNAL_SOCKET, iov, n) < 0)
			write_stderr(priority, fields, msg);
	}
}

int
log_fields(int priority, int error, const struct log_field *fields, const char *format, ...)
{
	int saved = errno;
	char *msg = msg_buf;
	va_list ap;

	if (error < 0)
		error = -error;
	if (priority > level_priority[log_level]) {
		errno = saved;
		return -error;
	}

	va_start(ap, format);
	(void) vsnprintf(msg, sizeof(msg_buf), format, ap);
	va_end(ap);
	if (error) {
		size_t len = strlen(msg);

		(void) snprintf(msg + len, sizeof(msg_buf) - len, ": %s", strerror(error));
	}

	if (log_target == LOG_TARGET_JOURNAL)
		write_journal(priority, error, fields, msg);
	else
		write_stderr(priority, fields, msg);

	errno = saved;
	return -error;
}
