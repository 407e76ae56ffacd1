// SPDX-License-Identifier: Apache-2.0
/*
 * scrape-render: what the agent's exporter costs per scrape, alone (no
 * kernel reads, no HTTP): the series of N containers as a real agent emits
 * them, rendered by the builder (exporters/metrics.c), then gzipped by the
 * unit cache (gzcache.c) with all, a fifth or none of the containers
 * changed since the last scrape, and, for comparison, the whole text
 * gzipped at once (ctw_gzip_fd); then a gzip-only build, a fifth changed
 * (ctw_metrics_skip_same: the stamped blocks that did not move left out,
 * as the agent stamps them: syscall calls, the TCP and DNS histograms),
 * with its gzip.  As the agent does it: the builder in fd
 * mode (the text written to a memfd through a warm 64 KiB buffer), kept
 * between builds with its segment array given back, the gzip reading the
 * memfd.  Best of ROUNDS (the least disturbed on a shared machine).
 *
 * The synthetic containers copy what `ctrwatch agent` emitted for one of
 * tests/bench/agent-bench.sh's containers (SCRAPE_OUT=DIR keeps that
 * scrape), family by family, in the agent's order: 104 series, ~12 KB of
 * text per container (Docker layout: container and container_id both the
 * 12-character id, no pod or namespace):
 *   dns       queries_total{qtype}, responses_total{rcode}, a histogram of
 *             13 bounds, timeouts_total, malformed_total          (20)
 *   syscalls  29 syscalls_total{syscall}, 2 syscall_errors_total    (31)
 *   tcp       connections_total{direction} x2, a histogram of 18 bounds
 *             per direction, sent/received bytes, open, failures  (48)
 *   resources container_info (its long labels), cpu, memory, pids,
 *             oom_events_total (no memory limit: unlimited)        (5)
 * A container that "changed" made a burst of syscalls since the last
 * scrape (every syscall counter, cpu and memory moved) and one TCP
 * connection and DNS query (their counters and histograms moved).
 *
 *   scrape-render N [ROUNDS [TEXT_FILE]]     (TEXT_FILE: the last text, to compare
 *                                             with a real agent's scrape)
 * Prints a human line and "RESULT bench=scrape-render containers=N ..." in
 * milliseconds.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../exporters/exporters.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const sysc[] = {
	"read",	      "write",	     "close",	"poll",	   "lseek",	    "pread64",
	"access",     "sched_yield", "dup",	"socket",  "connect",	    "sendto",
	"recvfrom",   "uname",	     "fcntl",	"getcwd",  "getrusage",	    "sysinfo",
	"getuid",     "getgid",	     "geteuid", "getppid", "clock_gettime", "openat",
	"newfstatat", "ppoll",	     "accept4", "pipe2",   "getrandom"};
#define NSC (sizeof(sysc) / sizeof(sysc[0]))

/* Container c's labels (container, container_id: its short id) in l. */
static const char *const *labels(int c, char *id, size_t idlen, const char **l)
{
	snprintf(id, idlen, "%012x", c * 2654435761u);
	l[0] = "container";
	l[1] = id;
	l[2] = "container_id";
	l[3] = id;
	l[4] = NULL;
	return l;
}

/* The scrape of n containers at version ver: those with i % 5 == fifth
 * are at version ver5 instead.  A container's counters move when its version
 * does. */
static bool holds(void *gzc, uint64_t id, uint64_t hash, size_t len)
{
	return ctw_gzcache_holds(gzc, id, hash, len);
}

/* A stamp for what container c's block of family f shows (its version),
 * as the agent's collectors stamp theirs. */
static uint64_t stamp(int f, int c, int ver)
{
	uint64_t v[2] = {(uint64_t)c, (uint64_t)ver};
	return ctw_metrics_stamp(v, sizeof(v), (uint64_t)f);
}

/* gzc: a gzip-only build (ctw_metrics_skip_same) against that cache. */
static void build(struct ctw_metrics *m, int n, int ver, int ver5, int fifth,
		  struct ctw_gzcache *gzc)
{
	static const double tb[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				    1,	   2.5,	   5,	  10,	30,    60,   300, 900,	3600};
	static const double db[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				    0.1,    0.25,  0.5,	   1,	  2.5,	5};
	uint64_t tbk[19] = {0}, dbk[14] = {0};
	char id[24], full[96], path[160], cg[24];
	const char *l[12];
	ctw_metrics_reset(m, 0);
	if (gzc)
		ctw_metrics_skip_same(m, holds, gzc);
#define VER(c) ((c) % 5 == fifth ? ver5 : ver)
#define EACH(c) for (int c = 0; c < n; c++)
	ctw_metrics_family(m, "ctrwatch_dns_queries_total", CTW_COUNTER, "DNS queries.");
	EACH(c)
	{
		ctw_metrics_block(m, labels(c, id, sizeof(id), l));
		ctw_metrics_block_sample(m, "qtype", "A", 10 + c + VER(c));
	}
	ctw_metrics_family(m, "ctrwatch_dns_responses_total", CTW_COUNTER, "DNS responses.");
	EACH(c)
	{
		ctw_metrics_block(m, labels(c, id, sizeof(id), l));
		ctw_metrics_block_sample(m, "rcode", "NOERROR", 10 + c + VER(c));
	}
	ctw_metrics_family(m, "ctrwatch_dns_request_duration_seconds", CTW_HISTOGRAM, "DNS.");
	EACH(c)
	{
		if (ctw_metrics_block_stamped(m, labels(c, id, sizeof(id), l),
					      stamp(1, c, VER(c))) != CTW_BLOCK_OPEN)
			continue;
		dbk[1] = 10 + c + VER(c);
		ctw_metrics_block_histogram(m, NULL, NULL, db, dbk, 13,
					    0.000276044 * dbk[1] + 1e-6 * VER(c));
	}
	static const char *const dnsc[] = {"ctrwatch_dns_timeouts_total",
					   "ctrwatch_dns_malformed_total"};
	for (size_t f = 0; f < 2; f++) {
		ctw_metrics_family(m, dnsc[f], CTW_COUNTER, "DNS.");
		EACH(c)
		{
			ctw_metrics_block(m, labels(c, id, sizeof(id), l));
			ctw_metrics_block_sample(m, NULL, NULL, 0);
		}
	}
	for (int f = 0; f < 2; f++) {
		ctw_metrics_family(m,
				   f ? "ctrwatch_syscall_errors_total" : "ctrwatch_syscalls_total",
				   CTW_COUNTER, "Syscalls made by the container.");
		EACH(c)
		{
			/* the calls are stamped, as the agent's (not the errors) */
			if (f)
				ctw_metrics_block(m, labels(c, id, sizeof(id), l));
			else if (ctw_metrics_block_stamped(m, labels(c, id, sizeof(id), l),
							   stamp(2, c, VER(c))) != CTW_BLOCK_OPEN)
				continue;
			for (size_t k = 0; k < (f ? 2 : NSC); k++)
				ctw_metrics_block_sample(m, "syscall", sysc[f ? 6 + 18 * k : k],
							 1000 * c + k + VER(c));
		}
	}
	static const char *const dirs[] = {"active", "passive"};
	ctw_metrics_family(m, "ctrwatch_tcp_connections_total", CTW_COUNTER, "TCP.");
	EACH(c)
	{
		ctw_metrics_block(m, labels(c, id, sizeof(id), l));
		for (int d = 0; d < 2; d++)
			ctw_metrics_block_sample(m, "direction", dirs[d], 100 + c + VER(c));
	}
	ctw_metrics_family(m, "ctrwatch_tcp_connection_duration_seconds", CTW_HISTOGRAM, "TCP.");
	EACH(c)
	{
		if (ctw_metrics_block_stamped(m, labels(c, id, sizeof(id), l),
					      stamp(3, c, VER(c))) != CTW_BLOCK_OPEN)
			continue;
		for (int d = 0; d < 2; d++) {
			tbk[0] = 100 + c + VER(c);
			ctw_metrics_block_histogram(m, "direction", dirs[d], tb, tbk, 18,
						    0.0001895 * tbk[0]);
		}
	}
	static const char *const tcpc[] = {
		"ctrwatch_tcp_sent_bytes_total", "ctrwatch_tcp_received_bytes_total",
		"ctrwatch_tcp_connections_open", "ctrwatch_tcp_connect_failures_total"};
	for (size_t f = 0; f < 4; f++) {
		ctw_metrics_family(m, tcpc[f], f == 2 ? CTW_GAUGE : CTW_COUNTER, "TCP.");
		EACH(c)
		{
			ctw_metrics_block(m, labels(c, id, sizeof(id), l));
			ctw_metrics_block_sample(m, NULL, NULL,
						 f < 2 ? 16 * (100 + c + VER(c)) : 0);
		}
	}
	ctw_metrics_family(m, "ctrwatch_container_info", CTW_GAUGE, "Container.");
	EACH(c)
	{
		labels(c, id, sizeof(id), l);
		snprintf(full, sizeof(full), "%s%052x", id, c);
		snprintf(path, sizeof(path), "/system.slice/docker-%s.scope", full);
		snprintf(cg, sizeof(cg), "%d", 1003168 + c);
		const char *il[] = {"container", id,	    "container_id", id,		 "image",
				    "",		 "runtime", "docker",	    "cgroup_id", cg,
				    "full_id",	 full,	    "id",	    path,	 NULL};
		if (ctw_metrics_block(m, il)) /* as the agent: a block of one line */
			ctw_metrics_block_sample(m, NULL, NULL, 1);
	}
	static const char *const res[] = {"ctrwatch_container_cpu_usage_seconds_total",
					  "ctrwatch_container_memory_usage_bytes",
					  "ctrwatch_container_pids",
					  "ctrwatch_container_oom_events_total"};
	for (size_t f = 0; f < 4; f++) {
		ctw_metrics_family(m, res[f], f == 0 || f == 3 ? CTW_COUNTER : CTW_GAUGE, "Res.");
		EACH(c)
		{
			double v = f == 0   ? 0.001816 + 1e-6 * c + 1e-5 * VER(c)
				   : f == 1 ? 20480 + 4096 * (VER(c) % 3)
				   : f == 2 ? 1
					    : 0;
			ctw_metrics_block(m, labels(c, id, sizeof(id), l));
			ctw_metrics_block_sample(m, NULL, NULL, v);
		}
	}
#undef VER
#undef EACH
	ctw_metrics_family(m, "ctrwatch_containers", CTW_GAUGE, "Containers.");
	ctw_metrics_sample(m, NULL, n);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, rounds = argc > 2 ? atoi(argv[2]) : 7;
	/* as the agent (agent.c): big buffers in their own mappings, so a
	 * growing text is moved by mremap, not copied */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	struct ctw_metrics *m = ctw_metrics_new(0);
	if (!ctw_metrics_use_fd(m)) {
		fprintf(stderr, "scrape-render: no memfd\n");
		return 1;
	}
	struct ctw_gzcache *gzc = ctw_gzcache_new();
	double render = 1e9, render5 = 1e9, gz_all = 1e9, gz_fifth = 1e9, gz_none = 1e9,
	       gz_whole = 1e9;
	size_t len = 0, zlen = 0, series = 0, units = 0, reused5 = 0, reused0 = 0, left_out = 0,
	       whole_len = 0, text_len = 0, gzip_len = 0;
	double gz_only = 1e9;
	for (int r = 1; r <= rounds; r++) {
		for (int mode = 0; mode < 3; mode++) {
			/* every container changed; a fifth; none: each against the text before it: every container
			 * moved since the last round's; then a fifth of them
			 * moved again; then the same text again */
			double t0 = now_ms();
			build(m, n, 3 * r, mode ? 3 * r + 1 : 3 * r, r % 5, NULL);
			int fd = ctw_metrics_take_fd(m, &len);
			size_t nsegs;
			struct ctw_metrics_seg *segs = ctw_metrics_take_segments(m, &nsegs);
			double t1 = now_ms();
			char *z;
			if (fd < 0) {
				fprintf(stderr, "scrape-render: text to a memfd: %s\n",
					strerror(-fd));
				return 1;
			}
			if (ctw_gzcache_compress_fd(gzc, fd, len, segs, nsegs, &z, &zlen)) {
				fprintf(stderr, "scrape-render: gzip failed\n");
				return 1;
			}
			double t2 = now_ms();
			free(z);
			size_t reused, compressed;
			ctw_gzcache_stats(gzc, &reused, &compressed);
			units = reused + compressed;
			series = ctw_metrics_series(m);
			if (mode == 0 && t1 - t0 < render)
				render = t1 - t0;
			if (mode == 1 && t1 - t0 < render5)
				render5 = t1 - t0;
			if (mode == 1)
				reused5 = reused;
			if (mode == 2) {
				reused0 = reused;
				text_len = len; /* the whole text */
				gzip_len = zlen;
			}
			double *g = mode == 0 ? &gz_all : mode == 1 ? &gz_fifth : &gz_none;
			if (t2 - t1 < *g)
				*g = t2 - t1;
			if (mode == 0) {
				size_t wl;
				double t3 = now_ms();
				if (ctw_gzip_fd(fd, len, &z, &wl) == 0)
					free(z);
				double t4 = now_ms();
				if (t4 - t3 < gz_whole)
					gz_whole = t4 - t3;
			}
			if (argc > 3 && r == rounds && mode == 2) {
				FILE *f = fopen(argv[3], "w");
				char *t = malloc(len + 1);
				bool ok = t && f && pread(fd, t, len, 0) == (ssize_t)len &&
					  fwrite(t, 1, len, f) == len;
				free(t);
				if (f && fclose(f))
					ok = false;
				if (!ok) {
					fprintf(stderr, "scrape-render: cannot write %s\n",
						argv[3]);
					return 1;
				}
			}
			close(fd);
			ctw_metrics_give_back_segments(m, segs);
		}
		/* a gzip-only build after the text above, a fifth moved again:
		 * the build and its gzip, as the agent's cold gzip scrape */
		double t0 = now_ms();
		build(m, n, 3 * r, 3 * r + 2, r % 5, gzc);
		int fd = ctw_metrics_take_fd(m, &len);
		size_t nsegs, zl;
		left_out = ctw_metrics_skipped(m);
		struct ctw_metrics_seg *segs = ctw_metrics_take_segments(m, &nsegs);
		char *z;
		if (fd < 0 || ctw_gzcache_compress_fd(gzc, fd, len, segs, nsegs, &z, &zl)) {
			fprintf(stderr, "scrape-render: gzip-only build failed\n");
			return 1;
		}
		if (now_ms() - t0 < gz_only)
			gz_only = now_ms() - t0;
		whole_len = len + left_out;
		free(z);
		close(fd);
		ctw_metrics_give_back_segments(m, segs);
	}
	printf("%d containers, %zu series, %.1f MB text, %zu gzip units: render %.2f ms all "
	       "changed, %.2f ms a fifth; gzip %.2f ms all changed, %.2f ms a fifth (%zu units "
	       "reused), %.2f ms none (%zu reused) (the whole text at once: %.2f ms); a gzip-only "
	       "build and its gzip, a fifth changed: %.2f ms (%.0f %% of the text left out)\n",
	       n, series, text_len / 1e6, units, render, render5, gz_all, gz_fifth, reused5,
	       gz_none, reused0, gz_whole, gz_only, whole_len ? 100.0 * left_out / whole_len : 0);
	printf("RESULT bench=scrape-render containers=%d series=%zu text_bytes=%zu gzip_bytes=%zu "
	       "units=%zu render_ms=%.2f render_fifth_changed_ms=%.2f gzip_all_changed_ms=%.2f "
	       "gzip_fifth_changed_ms=%.2f units_reused_fifth=%zu gzip_none_changed_ms=%.2f "
	       "units_reused_none=%zu gzip_whole_text_ms=%.2f gzip_only_fifth_changed_ms=%.2f "
	       "left_out_fifth_pct=%.0f\n",
	       n, series, text_len, gzip_len, units, render, render5, gz_all, gz_fifth, reused5,
	       gz_none, reused0, gz_whole, gz_only, whole_len ? 100.0 * left_out / whole_len : 0);
	ctw_gzcache_free(gzc);
	ctw_metrics_free(m);
	return 0;
}
