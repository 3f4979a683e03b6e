/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

/* Enough for every field log.c sends (at most 20, the message among them). */
#define FIELDS_MAX 24

static int journal_fd = -1;

int
journal_send(const char *path, const struct iovec *fields, size_t n)
{
	/* Per field: "KEY=value\n", or, when the value holds a newline, "KEY\n", its length as a
	 * little-endian 64-bit number, the value and "\n" (systemd's native protocol). */
	struct iovec iov[FIELDS_MAX * 5];
	uint64_t lengths[FIELDS_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov };
	size_t k = 0;

	if (n > FIELDS_MAX || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path));
	for (size_t i = 0; i < n; i++) {
		const char *f = fields[i].iov_base, *eq = memchr(f, '=', fields[i].iov_len);

		if (!eq)
			return -EINVAL;
		if (!memchr(eq, '\n', fields[i].iov_len - (size_t) (eq - f))) {
			iov[k++] = fields[i];
		} else {
			size_t key = (size_t) (eq - f);

			lengths[i] = htole64(fields[i].iov_len - key - 1);
			iov[k++] = (struct iovec) { .iov_base = (void *) f, .iov_len = key };
			iov[k++] = (struct iovec) { .iov_base = (void *) "\n", .iov_len = 1 };
			iov[k++] = (struct iovec) { .iov_base = &lengths[i], .iov_len = sizeof(lengths[i]) };
			iov[k++] = (struct iovec) { .iov_base = (void *) (eq + 1),
				.iov_len = fields[i].iov_len - key - 1 };
		}
		iov[k++] = (struct iovec) { .iov_base = (void *) "\n", .iov_len = 1 };
	}
	mh.msg_iovlen = k;
	if (journal_fd < 0 &&
	    (journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	for (;;) {
		if (sendmsg(journal_fd, &mh, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}
