/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"
#include "util.h"

#define LOGFILE_MODE 0640

struct logfile {
	struct logfile *next;
	unsigned refs;
	char *path;
	int fd;
	uint64_t size;      /* bytes in the current file, as far as rotation is concerned */
	uint64_t max_size;
	unsigned backups;
	bool failing;       /* the last write failed: said once until one succeeds */
};

static struct logfile *open_files;
static uint64_t dropped;

/* len more bytes keep a file of size bytes within max_size (0: no limit). */
static bool
fits(uint64_t size, uint64_t len, uint64_t max_size)
{
	return max_size == 0 || len <= max_size - MIN(size, max_size);
}

bool
logfile_must_rotate(uint64_t size, uint64_t len, uint64_t max_size)
{
	return size > 0 && !fits(size, len, max_size);
}

/* A new descriptor for f's path and the size of what is there already. */
static int
open_path(const char *path, int *ret_fd, uint64_t *ret_size)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, LOGFILE_MODE);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		safe_close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_size = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
	return 0;
}

int
logfile_open(const char *path, uint64_t max_size, unsigned backups, struct logfile **ret)
{
	struct logfile *f;
	int r;

	for (f = open_files; f; f = f->next)
		if (streq(f->path, path)) {
			*ret = logfile_ref(f);
			return 0;
		}
	if (!(f = calloc(1, sizeof(*f))))
		return -ENOMEM;
	if (!(f->path = strdup(path))) {
		free(f);
		return -ENOMEM;
	}
	if ((r = open_path(path, &f->fd, &f->size)) < 0) {
		free(f->path);
		free(f);
		return r;
	}
	f->refs = 1;
	f->max_size = max_size;
	f->backups = backups;
	f->next = open_files;
	open_files = f;
	*ret = f;
	return 0;
}

struct logfile *
logfile_ref(struct logfile *f)
{
	f->refs++;
	return f;
}

struct logfile *
logfile_unref(struct logfile *f)
{
	if (!f || --f->refs > 0)
		return NULL;
	for (struct logfile **p = &open_files; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	safe_close(f->fd);
	free(f->path);
	free(f);
	return NULL;
}

/* PATH.n, or NULL on OOM. */
static char *
backup_name(const struct logfile *f, unsigned n)
{
	char *s;

	return asprintf(&s, "%s.%u", f->path, n) < 0 ? NULL : s;
}

/* PATH.N-1 -> PATH.N, ..., PATH -> PATH.1, then a new PATH. */
static int
shift_backups(struct logfile *f)
{
	for (unsigned i = f->backups; i > 0; i--) {
		_cleanup_free_ char *to = backup_name(f, i);
		_cleanup_free_ char *from = i > 1 ? backup_name(f, i - 1) : strdup(f->path);

		if (!to || !from)
			return -ENOMEM;
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static void
rotate(struct logfile *f)
{
	uint64_t size;
	int fd, r;

	if (f->backups == 0) {
		r = ftruncate(f->fd, 0) < 0 ? -errno : 0;
	} else if ((r = shift_backups(f)) >= 0 && (r = open_path(f->path, &fd, &size)) >= 0) {
		safe_close(f->fd);
		f->fd = fd;
	}
	if (r < 0)
		log_warning_errno(r, "Cannot rotate log file '%s', writing on to it", f->path);
	/* On failure too: the next attempt comes max_size bytes later, not at every line. */
	f->size = 0;
}

/* Writes it all, or drops the rest and counts it. */
static void
write_all(struct logfile *f, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t k = writev(f->fd, iov, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int r = k < 0 ? -errno : -EIO;

			for (int i = 0; i < n; i++)
				dropped += iov[i].iov_len;
			if (!f->failing)
				log_warning_errno(r, "Cannot write to log file '%s', dropping lines",
				    f->path);
			f->failing = true;
			return;
		}
		f->size += (uint64_t) k;
		while (n > 0 && (size_t) k >= iov->iov_len) {
			k -= (ssize_t) iov->iov_len;
			iov++, n--;
		}
		if (n > 0) {
			iov->iov_base = (char *) iov->iov_base + k;
			iov->iov_len -= (size_t) k;
		}
	}
	f->failing = false;
}

/* The lines in [buf, buf + len), each ending in '\n': as many at a time as the file takes. */
static void
put_lines(struct logfile *f, const char *buf, size_t len)
{
	while (len > 0) {
		size_t run = 0;

		/* Without a limit, or with room for all of it, one write. Else the lines that fit,
		 * or a first line too long for any file on its own in an empty one. */
		if (fits(f->size, len, f->max_size))
			run = len;
		else
			while (run < len) {
				const char *nl = memchr(buf + run, '\n', len - run);
				size_t l = (size_t) (nl - (buf + run)) + 1;

				if (logfile_must_rotate(f->size + run, l, f->max_size))
					break;
				run += l;
			}
		if (run > 0) {
			struct iovec iov = { .iov_base = (void *) buf, .iov_len = run };

			write_all(f, &iov, 1);
			buf += run, len -= run;
		}
		if (len > 0)
			rotate(f);
	}
}

size_t
logfile_put(struct logfile *f, const char *buf, size_t len, bool rest)
{
	const char *last = len > 0 ? memrchr(buf, '\n', len) : NULL;
	size_t whole = last ? (size_t) (last - buf) + 1 : 0;

	put_lines(f, buf, whole);
	if (rest && whole < len) {
		struct iovec iov[2] = {
			{ .iov_base = (void *) (buf + whole), .iov_len = len - whole },
			{ .iov_base = (void *) "\n", .iov_len = 1 },
		};

		if (logfile_must_rotate(f->size, len - whole + 1, f->max_size))
			rotate(f);
		write_all(f, iov, 2);
		return len;
	}
	return whole;
}

int
logfile_reopen_all(void)
{
	int ret = 0;

	for (struct logfile *f = open_files; f; f = f->next) {
		uint64_t size;
		int fd, r;

		if ((r = open_path(f->path, &fd, &size)) < 0) {
			log_warning_errno(r, "Cannot reopen log file '%s', writing on to the old one",
			    f->path);
			if (ret == 0)
				ret = r;
			continue;
		}
		safe_close(f->fd);
		f->fd = fd;
		f->size = size;
	}
	return ret;
}

uint64_t
logfile_dropped(void)
{
	return dropped;
}
