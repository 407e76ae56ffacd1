// SPDX-License-Identifier: Apache-2.0
/*
 * Syscall microbenchmark for tests/bench/syscall-bench.sh: N getppid calls
 * and N openat+close pairs, pinned to one CPU, ROUNDS times; prints the
 * fastest round (the one least disturbed by other load: on a shared machine
 * the median mostly measures preemption) and the median, in nanoseconds per
 * syscall.  Static, so it runs in any rootfs.
 *
 *   syscall-bench [-c CPU] [-n N] [-r ROUNDS] [-w MS]
 * -w waits MS milliseconds before the first round (lets an observer that
 * discovers the container, the agent, catch up).
 * prints one line:
 *   getppid_ns=237.1 openclose_ns=612.4 getppid_med=.. openclose_med=..
 *   syscalls=12000000 loop_s=3.812
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = 1000000, rounds = 3, cpu = -1, wait_ms = 0;
	static double gp[1000], oc[1000];
	double loop = 0;
	int c;

	while ((c = getopt(argc, argv, "c:n:r:w:")) != -1) {
		switch (c) {
		case 'c': cpu = atol(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'r': rounds = atol(optarg); break;
		case 'w': wait_ms = atol(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-c CPU] [-n N] [-r ROUNDS] [-w MS]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > 1000 || n < 1)
		return 2;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("sched_setaffinity");
			return 1;
		}
	}
	if (wait_ms > 0)
		usleep(wait_ms * 1000);
	for (long r = 0; r < rounds; r++) {
		double t0 = now(), t1, t2;

		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		t1 = now();
		for (long i = 0; i < n; i++) {
			int fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);

			if (fd >= 0)
				syscall(SYS_close, fd);
		}
		t2 = now();
		gp[r] = (t1 - t0) * 1e9 / n;
		oc[r] = (t2 - t1) * 1e9 / (2.0 * n);
		loop += t2 - t0;
	}
	qsort(gp, rounds, sizeof(gp[0]), cmp);
	qsort(oc, rounds, sizeof(oc[0]), cmp);
	printf("getppid_ns=%.1f openclose_ns=%.1f getppid_med=%.1f openclose_med=%.1f "
	       "syscalls=%ld loop_s=%.3f\n",
	       gp[0], oc[0], gp[rounds / 2], oc[rounds / 2], 3 * n * rounds, loop);
	return 0;
}
