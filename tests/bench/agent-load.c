// SPDX-License-Identifier: Apache-2.0
/*
 * agent-load: the containers of tests/bench/agent-bench.sh.  One process per
 * container, each moved into its cgroups (every hierarchy) before it does
 * anything, then active for as long as it lives, so every agent module has
 * real series for it:
 *   every PERIOD ms   a burst of ~25 distinct syscalls (a few failing ones),
 *                     so every container's syscall counters move between
 *                     two scrapes a second apart (the worst case for a
 *                     scrape cache);
 *   every NET_PERIOD  one TCP connection over loopback to a listener of its
 *                     own (both ends are the container's: active and passive
 *                     series), a few bytes each way, and one DNS query (A)
 *                     to the resolver at DNS_ADDR:53, waiting up to 1 s for
 *                     the answer.
 * Each child starts at a random phase of its periods, so the load is spread
 * evenly.  The parent waits (SIGTERM/SIGINT end every child) and prints
 * "ready N of M" on stdout once every child is in its cgroups.  SIGUSR1 to
 * the parent quiets every child (no syscalls at all until SIGUSR2 wakes
 * them): an idle node's containers.
 *
 *   agent-load LIST PERIOD_MS NET_PERIOD_MS DNS_ADDR
 * LIST: one line per container, the cgroup.procs files to write the child's
 * pid into, separated by spaces (the v2 one first).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until t (or a signal), with SIGUSR1/2 let through only while
 * asleep: a quiet/wake signal is never lost between check and sleep. */
static void sleep_until(uint64_t t, const sigset_t *awake_mask)
{
	uint64_t n = now_ms();
	if (t <= n)
		return;
	struct timespec ts = {.tv_sec = (t - n) / 1000,
			      .tv_nsec = (long)((t - n) % 1000) * 1000000};
	ppoll(NULL, 0, &ts, awake_mask);
}

/* ~25 distinct syscalls, a few of them failing (errors series). */
static void syscall_burst(void)
{
	char buf[256];
	struct stat st;
	struct utsname u;
	struct rusage ru;
	struct sysinfo si;
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf)) < 0)
			buf[0] = 0;
		fstat(fd, &st);
		lseek(fd, 0, SEEK_SET);
		if (pread(fd, buf, 16, 0) < 0)
			buf[0] = 0;
		close(fd);
	}
	if (stat("/nonexistent/ctwa", &st) == 0 || access("/nonexistent/ctwa", R_OK) == 0)
		buf[0] = 0; /* ENOENT both: error series */
	getppid();
	getuid();
	getgid();
	geteuid();
	uname(&u);
	getrusage(RUSAGE_SELF, &ru);
	sysinfo(&si);
	if (!getcwd(buf, sizeof(buf)))
		buf[0] = 0;
	if (getrandom(buf, 8, GRND_NONBLOCK) < 0)
		buf[0] = 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) == 0) {
		if (write(p[1], "x", 1) == 1 && read(p[0], buf, 1) < 0)
			buf[0] = 0;
		int d = dup(p[0]);
		if (d >= 0)
			close(d);
		fcntl(p[0], F_GETFL);
		close(p[0]);
		close(p[1]);
	}
	sched_yield();
	struct pollfd pf = {.fd = -1};
	poll(&pf, 1, 0);
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &(struct timespec){0});
}

/* One connection to our own listener: active and passive end here. */
static void tcp_exchange(int lfd, const struct sockaddr_in *to)
{
	char buf[64];
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return;
	if (connect(c, (const struct sockaddr *)to, sizeof(*to)) == 0) {
		int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (s >= 0) {
			if (write(c, "ping ctwa", 9) == 9 && read(s, buf, sizeof(buf)) > 0 &&
			    write(s, "pong", 4) == 4 && read(c, buf, sizeof(buf)) < 0)
				buf[0] = 0;
			close(s);
		}
	}
	close(c);
}

/* One A query for web.example.test; the answer (or 1 s) awaited. */
static void dns_query(const struct sockaddr_in *dns, uint16_t id)
{
	static const unsigned char q[] = {0, 0,	  1,   0,   0,	 1,   0,   0,	0,   0,	  0,   0,
					  3, 'w', 'e', 'b', 7,	 'e', 'x', 'a', 'm', 'p', 'l', 'e',
					  4, 't', 'e', 's', 't', 0,   0,   1,	0,   1};
	unsigned char pkt[sizeof(q)], ans[512];
	memcpy(pkt, q, sizeof(q));
	pkt[0] = id >> 8;
	pkt[1] = id & 0xff;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	if (sendto(s, pkt, sizeof(pkt), 0, (const struct sockaddr *)dns, sizeof(*dns)) ==
	    (ssize_t)sizeof(pkt)) {
		struct pollfd pf = {.fd = s, .events = POLLIN};
		if (poll(&pf, 1, 1000) == 1 && recv(s, ans, sizeof(ans), 0) < 0)
			ans[0] = 0;
	}
	close(s);
}

static int join(char *procs_files)
{
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	for (char *save = NULL, *f = strtok_r(procs_files, " \n", &save); f;
	     f = strtok_r(NULL, " \n", &save)) {
		int fd = open(f, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, n) != n) {
			fprintf(stderr, "agent-load: join %s: %s\n", f, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static volatile sig_atomic_t quiet;
static void on_quiet(int sig)
{
	quiet = sig == SIGUSR1;
}

static void child(char *procs_files, int ready_fd, unsigned period, unsigned net_period,
		  const struct sockaddr_in *dns, unsigned seed)
{
	if (join(procs_files) < 0)
		_exit(1);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t ml = sizeof(me);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&me, sizeof(me)) || listen(lfd, 4) ||
	    getsockname(lfd, (struct sockaddr *)&me, &ml)) {
		perror("agent-load: listener");
		_exit(1);
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	close(ready_fd);
	srand(seed);
	sigset_t usr, awake;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigaddset(&usr, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr, &awake);
	uint64_t t = now_ms();
	uint64_t next = t + (unsigned)rand() % period;
	uint64_t next_net = t + (unsigned)rand() % net_period;
	uint16_t id = (uint16_t)rand();
	for (;;) {
		while (quiet)
			sigsuspend(&awake);
		sleep_until(next < next_net ? next : next_net, &awake);
		uint64_t n = now_ms();
		if (next + period < n) /* woken from quiet: resume, no catching up */
			next = n, next_net = n + (unsigned)rand() % net_period;
		if (n >= next) {
			syscall_burst();
			next += period;
		}
		if (n >= next_net) {
			tcp_exchange(lfd, &me);
			dns_query(dns, id++);
			next_net += net_period;
		}
	}
}

static volatile sig_atomic_t stop;
static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: agent-load LIST PERIOD_MS NET_PERIOD_MS DNS_ADDR\n");
		return 2;
	}
	FILE *list = fopen(argv[1], "re");
	unsigned period = (unsigned)atoi(argv[2]), net_period = (unsigned)atoi(argv[3]);
	struct sockaddr_in dns = {.sin_family = AF_INET, .sin_port = htons(53)};
	if (!list || !period || !net_period || inet_pton(AF_INET, argv[4], &dns.sin_addr) != 1) {
		fprintf(stderr, "agent-load: bad arguments\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct sigaction qa = {.sa_handler = on_quiet};
	sigaction(SIGUSR1, &qa, NULL);
	sigaction(SIGUSR2, &qa, NULL);
	int rp[2];
	if (pipe2(rp, O_CLOEXEC))
		return 1;
	char *line = NULL;
	size_t cap = 0;
	pid_t *kids = NULL;
	size_t nkids = 0;
	while (!stop && getline(&line, &cap, list) > 0) {
		kids = realloc(kids, (nkids + 1) * sizeof(*kids));
		if (!kids)
			return 1;
		pid_t p = fork();
		if (p == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			close(rp[0]);
			child(line, rp[1], period, net_period, &dns, (unsigned)nkids * 2654435761u);
		}
		if (p < 0) {
			perror("agent-load: fork");
			stop = 1;
			break;
		}
		kids[nkids++] = p;
	}
	fclose(list);
	free(line);
	close(rp[1]);
	size_t ready = 0;
	char c;
	while (!stop && ready < nkids && read(rp[0], &c, 1) == 1)
		ready++;
	if (!stop) {
		printf("ready %zu of %zu\n", ready, nkids);
		fflush(stdout);
	}
	int was_quiet = 0;
	while (!stop) {
		pause();
		if (quiet != was_quiet) { /* pass it on */
			was_quiet = quiet;
			for (size_t i = 0; i < nkids; i++)
				kill(kids[i], quiet ? SIGUSR1 : SIGUSR2);
		}
	}
	for (size_t i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	for (size_t i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	return ready == nkids ? 0 : 1;
}
