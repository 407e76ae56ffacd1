// SPDX-License-Identifier: Apache-2.0
/*
 * tcplife-connrate PORT SECONDS: a loopback client/server pair opening and
 * closing TCP connections as fast as it can; prints "RATE COUNT FAILURES":
 * connections per second, connections made, connects that failed.
 *
 * Each connection: connect, 1 byte each way, the client closes first (so
 * every socket goes through the full state machine: SYN_SENT/SYN_RECV,
 * ESTABLISHED, FIN_WAIT1/2 or CLOSE_WAIT/LAST_ACK, CLOSE).  The server is
 * a forked child, so the two sides run on both CPUs as a real pair would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void serve(int lfd)
{
	char c;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (read(fd, &c, 1) == 1 && write(fd, &c, 1) == 1)
			(void)!read(fd, &c, 1); /* wait for the client's FIN */
		close(fd);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	double secs, t0, t;
	unsigned long n = 0, fails = 0;
	int one = 1, lfd;
	pid_t srv;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT SECONDS\n", argv[0]);
		return 2;
	}
	sa.sin_port = htons(atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	secs = atof(argv[2]);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1024) < 0) {
		perror("bind/listen");
		return 1;
	}
	srv = fork();
	if (srv == 0)
		serve(lfd);
	close(lfd);

	t0 = now();
	do {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char c = 'x';

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && write(fd, &c, 1) == 1 &&
		    read(fd, &c, 1) == 1)
			n++;
		else
			fails++;
		close(fd);
		t = now();
	} while (t - t0 < secs);

	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	printf("%.0f %lu %lu\n", n / (t - t0), n, fails);
	return 0;
}
