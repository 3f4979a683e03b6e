/* SPDX-License-Identifier: MIT */
/*
 * sd-daemon without libsystemd, for the static build (see sd-compat.h). Only the documented
 * interfaces: sd_notify(3), sd_watchdog_enabled(3), sd_listen_fds(3) and sd_is_socket(3).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "sd-compat.h"
#include "util.h"

/* A decimal number from the environment, the whole string: -ENOENT unset, -EINVAL garbage. */
static int
env_number(const char *name, unsigned long long *ret)
{
	const char *e = getenv(name);
	char *end;

	if (!e)
		return -ENOENT;
	if (*e < '0' || *e > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(e, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* LISTEN_PID and WATCHDOG_PID name the process the variables are meant for. */
static int
env_pid_is_us(const char *name)
{
	unsigned long long pid;
	int r = env_number(name, &pid);

	if (r < 0)
		return r;
	return pid == (unsigned long long) getpid();
}

int
sd_notify(int unset_environment, const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd, r = 1;

	if (!state)
		return -EINVAL;
	if (!e || !*e)
		return 0;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n >= sizeof(sa.sun_path)) {
		r = -EAFNOSUPPORT; /* vsock: and other addresses are not ours to speak */
		goto finish;
	}
	memcpy(sa.sun_path, e, n);
	if (e[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the name is exactly the n bytes, no terminator */
	len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		r = -errno;
		goto finish;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa, len) < 0)
		r = -errno;
	safe_close(fd);
finish:
	if (unset_environment)
		unsetenv("NOTIFY_SOCKET");
	return r;
}

int
sd_watchdog_enabled(int unset_environment, uint64_t *usec)
{
	unsigned long long u;
	int r;

	r = env_number("WATCHDOG_USEC", &u);
	if (r == -ENOENT) {
		r = 0;
		goto finish;
	}
	if (r < 0)
		goto finish;
	if (u == 0 || u >= UINT64_MAX) {
		r = -EINVAL;
		goto finish;
	}
	r = env_pid_is_us("WATCHDOG_PID");
	if (r == -ENOENT)
		r = 1; /* no WATCHDOG_PID: meant for whoever reads it */
	if (r > 0 && usec)
		*usec = (uint64_t) u;
finish:
	if (unset_environment) {
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
	return r;
}

/* LISTEN_FDNAMES split at ':' into n strings, or n times "unknown" without it. */
static int
listen_names(int n, char ***ret)
{
	const char *e = getenv("LISTEN_FDNAMES");
	char **l;
	int fields = 1, k, r = 0;

	if (e) {
		for (const char *c = e; *c; c++)
			fields += *c == ':';
		if (fields != n)
			return -EINVAL; /* as libsystemd: one name per descriptor */
	}
	if (!(l = calloc((size_t) n + 1, sizeof(char *))))
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		if (e) {
			const char *end = strchrnul(e, ':');

			l[k] = strndup(e, (size_t) (end - e));
			e = *end ? end + 1 : end;
		} else
			l[k] = strdup("unknown");
		if (!l[k]) {
			r = -ENOMEM;
			break;
		}
	}
	if (r < 0) {
		for (k = 0; k < n; k++)
			free(l[k]);
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

int
sd_listen_fds_with_names(int unset_environment, char ***names)
{
	unsigned long long n;
	int r;

	r = env_pid_is_us("LISTEN_PID");
	if (r <= 0) {
		r = r == -ENOENT ? 0 : r;
		goto finish;
	}
	if ((r = env_number("LISTEN_FDS", &n)) < 0) {
		r = r == -ENOENT ? 0 : r;
		goto finish;
	}
	if (n == 0) {
		r = 0;
		goto finish;
	}
	if (n > (unsigned long long) (INT32_MAX - SD_LISTEN_FDS_START)) {
		r = -E2BIG;
		goto finish;
	}
	/* Not to be passed on to graced's own children by accident (sd_listen_fds(3) does so). */
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + (int) n; fd++)
		if ((r = fd_cloexec(fd, true)) < 0)
			goto finish;
	if (names && (r = listen_names((int) n, names)) < 0)
		goto finish;
	r = (int) n;
finish:
	if (unset_environment) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	}
	return r;
}

int
sd_is_socket(int fd, int family, int type, int listening)
{
	struct stat st;
	int v;
	socklen_t len;

	if (fd < 0)
		return -EBADF;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	if (type != 0) {
		len = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0)
			return -errno;
		if (v != type)
			return 0;
	}
	if (family != AF_UNSPEC) {
		len = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0)
			return -errno;
		if (v != family)
			return 0;
	}
	if (listening >= 0) {
		len = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0)
			return -errno;
		if (!v != !listening)
			return 0;
	}
	return 1;
}
