// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI side of streaming alone: how many events per second trace/'s
 * formatter turns into strace lines (or JSON) written to /dev/null, with a
 * mix of events shaped as the kernel emits them (no arguments, a path, a
 * sockaddr).  Built by tests/bench/syscall-bench.sh against the build's
 * objects:  syscall-format [N] [--json]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../../trace/trace.h"

struct rec {
	struct ctw_trace_event ev;
	unsigned char payload[256];
};

static void item(struct rec *r, int arg, int kind, const void *data, unsigned len)
{
	struct ctw_trace_item it = {.arg = arg, .kind = kind, .len = len, .full_len = len};

	memcpy(r->payload + r->ev.payload_len, &it, sizeof(it));
	memcpy(r->payload + r->ev.payload_len + sizeof(it), data, len);
	r->ev.payload_len += sizeof(it) + ((len + 7) & ~7u);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct ctw_trace_fmt f = {
		.strsize = 32, .durations = true, .json = argc > 2 && !strcmp(argv[2], "--json")};
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(80)};
	struct rec r[4];
	struct ctw_outbuf o;
	struct timespec t0, t1;
	double s;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 4; i++) {
		r[i].ev.pid = r[i].ev.tid = 4242;
		r[i].ev.duration_ns = 1234;
		strcpy(r[i].ev.comm, "bench");
	}
	r[0].ev.nr = ctw_trace_syscall_nr("getppid");
	r[0].ev.ret = 1;
	r[1].ev.nr = ctw_trace_syscall_nr("openat");
	r[1].ev.ret = 3;
	r[1].ev.args[0] = (unsigned long long)-100;
	r[1].ev.args[2] = O_RDONLY | O_CLOEXEC;
	item(&r[1], 1, TRACE_CAP_STR, "/dev/null", 10);
	r[2].ev.nr = ctw_trace_syscall_nr("close");
	r[2].ev.args[0] = 3;
	r[3].ev.nr = ctw_trace_syscall_nr("connect");
	r[3].ev.ret = -111;
	r[3].ev.args[0] = 3;
	r[3].ev.args[2] = sizeof(in);
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	item(&r[3], 1, TRACE_CAP_MEM, &in, sizeof(in));

	ctw_outbuf_init(&o, open("/dev/null", O_WRONLY), 1 << 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		const struct rec *x = &r[i & 3];

		x = (i & 7) < 4 ? &r[0] : x; /* half of them argument-less */
		ctw_trace_format_event(&o, &f, &x->ev, x->payload, "bench");
	}
	ctw_outbuf_flush(&o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("format_ns=%.1f format_meps=%.2f\n", s * 1e9 / n, n / s / 1e6);
	ctw_outbuf_fini(&o);
	return 0;
}
