/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"
#include "output-route.h"
#include "output.h"
#include "util.h"

/* A pipe whose read end (non-blocking, ours) gets the child's output. */
static int
open_pipe(int *ret_read, int *ret_write)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (fd_nonblock(p[0], true) < 0) {
		int r = -errno;

		safe_close(p[0]), safe_close(p[1]);
		return r;
	}
	*ret_read = p[0];
	*ret_write = p[1];
	return 0;
}

static int
open_log(const struct worker_config *c, const char *name, const char *path,
    struct logfile **ret)
{
	int r = logfile_open(path, c->output_max_size, c->output_backups, ret);

	if (r < 0)
		return log_error_errno(r, "Worker '%s': cannot open log file '%s'", name, path);
	return 0;
}

static int
dup_high(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	return r < 0 ? -errno : r;
}

static int
open_stdout(const struct worker_config *c, const char *name, struct output_route *r)
{
	switch (c->output) {
	case OUTPUT_PREFIX:
		return open_pipe(&r->read_out, &r->child_out);
	case OUTPUT_FILE: {
		int k = open_log(c, name, c->output_file, &r->out_file);

		return k < 0 ? k : open_pipe(&r->read_out, &r->child_out);
	}
	case OUTPUT_JOURNAL:
		output_journal_streams(name, &r->child_out, &r->child_err);
		return 0;
	default:
		return 0;
	}
}

static int
open_stderr(const struct worker_config *c, const char *name, struct output_route *r)
{
	enum stderr_mode m = worker_config_stderr(c);
	int k;

	/* The journal's stream for stderr, unless stderr goes elsewhere. */
	if (m != STDERR_SEPARATE)
		r->child_err = safe_close(r->child_err);
	switch (m) {
	case STDERR_FILE:
		if ((k = open_log(c, name, c->stderr_file, &r->err_file)) < 0)
			return k;
		return open_pipe(&r->read_err, &r->child_err);
	case STDERR_STDOUT:
		if (c->output == OUTPUT_FILE) {
			r->err_file = logfile_ref(r->out_file);
			return open_pipe(&r->read_err, &r->child_err);
		}
		if (c->output == OUTPUT_PREFIX) {
			r->err_to = STDOUT_FILENO;
			return open_pipe(&r->read_err, &r->child_err);
		}
		/* The journal's stdout stream, or graced's own stdout. */
		k = dup_high(r->child_out >= 0 ? r->child_out : STDOUT_FILENO);
		if (k >= 0)
			r->child_err = k;
		return k;
	default:
		if (c->output == OUTPUT_PREFIX)
			return open_pipe(&r->read_err, &r->child_err);
		return 0;
	}
}

int
output_route_open(const struct worker_config *c, const char *name, struct output_route *r)
{
	int k;

	*r = (struct output_route) {
		.child_out = -1, .child_err = -1, .read_out = -1, .read_err = -1,
		.err_to = STDERR_FILENO,
	};
	if ((k = open_stdout(c, name, r)) < 0 || (k = open_stderr(c, name, r)) < 0) {
		output_route_close(r);
		return k;
	}
	return 0;
}

void
output_route_start(struct output_route *r, struct task_group *group, const char *name)
{
	r->child_out = safe_close(r->child_out);
	r->child_err = safe_close(r->child_err);
	if (r->read_out >= 0 && r->out_file)
		(void) output_pump_start_file(group, name, TAKE_FD(r->read_out), r->out_file, false);
	else if (r->read_out >= 0)
		(void) output_pump_start(group, name, TAKE_FD(r->read_out), STDOUT_FILENO);
	if (r->read_err >= 0 && r->err_file)
		(void) output_pump_start_file(group, name, TAKE_FD(r->read_err), r->err_file, true);
	else if (r->read_err >= 0)
		(void) output_pump_start(group, name, TAKE_FD(r->read_err), r->err_to);
}

void
output_route_close(struct output_route *r)
{
	r->child_out = safe_close(r->child_out);
	r->child_err = safe_close(r->child_err);
	r->read_out = safe_close(r->read_out);
	r->read_err = safe_close(r->read_err);
	r->out_file = logfile_unref(r->out_file);
	r->err_file = logfile_unref(r->err_file);
}
