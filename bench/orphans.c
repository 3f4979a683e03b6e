/* SPDX-License-Identifier: MIT */
/*
 * orphans N: release N orphans at once, for bench/entrypoints.py's reap-lag figure.
 *
 * An intermediate process forks N children and exits, so they become orphans of the nearest
 * subreaper (PID 1 in a PID namespace). Each child blocks reading stdin and exits at its
 * end-of-file: the bench holds the write end of that pipe and closes it to release them all at
 * once. The main process prints "ready" once the intermediate is gone, then sleeps until a
 * signal ends it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000, status = 0, null;
	pid_t mid = fork();

	if (mid < 0)
		return 1;
	if (mid == 0) {
		for (int i = 0; i < n; i++) {
			pid_t p = fork();

			if (p < 0)
				_exit(1);
			if (p == 0) {
				char c;

				close(1);
				close(2);
				while (read(0, &c, 1) > 0)
					;
				_exit(0);
			}
		}
		_exit(0);
	}
	waitpid(mid, &status, 0);
	null = open("/dev/null", O_RDONLY);
	dup2(null, 0);
	printf("ready %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 255);
	fflush(stdout);
	for (;;)
		pause();
}
