// SPDX-License-Identifier: Apache-2.0
/*
 * scrape-render: what the agent's exporter costs per scrape, alone (no
 * kernel reads, no HTTP): the series of N containers as the agent's modules
 * emit them (syscalls: 25 + 2 errors per container; resources: 6 one-line
 * families; tcp: 2 directions of a 20-bucket histogram and 6 counters; dns:
 * qtype, rcode, a 14-bucket histogram, 2 counters), rendered by the builder
 * (exporters/metrics.c), then gzipped by the unit cache (gzcache.c) with
 * all, a fifth or none of the containers changed since the last scrape,
 * and, for comparison, the whole text gzipped at once (ctw_gzip: what the
 * agent did before).  Best of ROUNDS (the least disturbed on a shared
 * machine).
 *
 *   scrape-render N [ROUNDS]
 * Prints a human line and "RESULT bench=scrape-render containers=N ..." in
 * milliseconds.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../exporters/exporters.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const sysc[] = {
	"read",	       "write",	  "openat",	   "close",	"fstat",  "lseek",   "pread64",
	"newfstatat",  "access",  "getppid",	   "getuid",	"getgid", "geteuid", "uname",
	"getrusage",   "sysinfo", "getcwd",	   "getrandom", "pipe2",  "dup",     "fcntl",
	"sched_yield", "poll",	  "clock_gettime", "ppoll"};
#define NSC (sizeof(sysc) / sizeof(sysc[0]))

/* The scrape of n containers; containers with i % 5 == bump5 (or all when
 * bump5 < 0, none when bump5 > 4) get counters that moved. */
static void build(struct ctw_metrics *m, int n, int round, int bump5)
{
	static const double tb[] = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				    0.05,   0.1,    0.25,  0.5,	   1,	  2.5,	5,
				    10,	    30,	    60,	   300,	   900,	  3600};
	static const double db[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				    0.1,    0.25,  0.5,	   1,	  2.5,	5,     10};
	uint64_t tbk[21] = {0}, dbk[15] = {0};
	char name[32], id[24];
	ctw_metrics_reset(m, 0);
	for (int f = 0; f < 2; f++) {
		ctw_metrics_family(m,
				   f ? "ctrwatch_syscall_errors_total" : "ctrwatch_syscalls_total",
				   CTW_COUNTER, "Syscalls made by the container.");
		for (int c = 0; c < n; c++) {
			int moved = bump5 < 0 || c % 5 == bump5;
			snprintf(name, sizeof(name), "%012x", c * 2654435761u);
			snprintf(id, sizeof(id), "%d", c);
			ctw_metrics_block(m, (const char *const[]){"container", name, "pod",
								   "web-7d9f8b6c5-x2x9z",
								   "namespace", "default", NULL});
			for (size_t k = 0; k < (f ? 2 : NSC); k++)
				ctw_metrics_block_sample(m, "syscall", sysc[k],
							 1000 * c + k + (moved ? round : 0));
		}
	}
	static const char *const res[] = {"ctrwatch_container_info",
					  "ctrwatch_container_cpu_usage_seconds_total",
					  "ctrwatch_container_memory_usage_bytes",
					  "ctrwatch_container_memory_limit_bytes",
					  "ctrwatch_container_pids",
					  "ctrwatch_container_oom_events_total"};
	for (size_t f = 0; f < 6; f++) {
		ctw_metrics_family(m, res[f], f == 1 || f == 5 ? CTW_COUNTER : CTW_GAUGE, "Res.");
		for (int c = 0; c < n; c++) {
			int moved = (f == 1 || f == 2) && (bump5 < 0 || c % 5 == bump5);
			snprintf(name, sizeof(name), "%012x", c * 2654435761u);
			ctw_metrics_block(m, (const char *const[]){"container", name, NULL});
			ctw_metrics_block_sample(m, NULL, NULL, 12345678 + c + (moved ? round : 0));
		}
	}
	static const char *const dirs[] = {"active", "passive"};
	ctw_metrics_family(m, "ctrwatch_tcp_connection_duration_seconds", CTW_HISTOGRAM, "TCP.");
	for (int c = 0; c < n; c++) {
		int moved = bump5 < 0 || c % 5 == bump5;
		snprintf(name, sizeof(name), "%012x", c * 2654435761u);
		ctw_metrics_block(m, (const char *const[]){"container", name, NULL});
		for (int d = 0; d < 2; d++) {
			tbk[3] = c + (moved ? round : 0);
			ctw_metrics_block_histogram(m, "direction", dirs[d], tb, tbk, 20, 0.5 * c);
		}
	}
	static const char *const tcpc[] = {"ctrwatch_tcp_connections_total",
					   "ctrwatch_tcp_sent_bytes_total",
					   "ctrwatch_tcp_received_bytes_total"};
	for (size_t f = 0; f < 3; f++) {
		ctw_metrics_family(m, tcpc[f], CTW_COUNTER, "TCP.");
		for (int c = 0; c < n; c++) {
			snprintf(name, sizeof(name), "%012x", c * 2654435761u);
			ctw_metrics_block(m, (const char *const[]){"container", name, NULL});
			ctw_metrics_block_sample(m, f ? NULL : "direction", f ? NULL : "active",
						 100 + c);
		}
	}
	ctw_metrics_family(m, "ctrwatch_dns_request_duration_seconds", CTW_HISTOGRAM, "DNS.");
	for (int c = 0; c < n; c++) {
		snprintf(name, sizeof(name), "%012x", c * 2654435761u);
		ctw_metrics_block(m, (const char *const[]){"container", name, NULL});
		dbk[2] = c;
		ctw_metrics_block_histogram(m, NULL, NULL, db, dbk, 14, 0.01 * c);
	}
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
	struct ctw_gzcache *gzc = ctw_gzcache_new();
	double render = 1e9, gz_all = 1e9, gz_fifth = 1e9, gz_none = 1e9, gz_whole = 1e9;
	size_t len = 0, zlen = 0, series = 0, units = 0;
	for (int r = 1; r <= rounds; r++) {
		for (int mode = 0; mode < 3; mode++) {
			/* every container changed; a fifth; none */
			int bump5 = mode == 0 ? -1 : mode == 1 ? r % 5 : 9;
			double t0 = now_ms();
			build(m, n, 2 * r + mode, bump5);
			char *t = ctw_metrics_take_text(m, &len);
			size_t nsegs;
			struct ctw_metrics_seg *segs = ctw_metrics_take_segments(m, &nsegs);
			double t1 = now_ms();
			char *z;
			if (ctw_gzcache_compress(gzc, t, len, segs, nsegs, &z, &zlen)) {
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
			double *g = mode == 0 ? &gz_all : mode == 1 ? &gz_fifth : &gz_none;
			if (t2 - t1 < *g)
				*g = t2 - t1;
			if (mode == 0) {
				size_t wl;
				double t3 = now_ms();
				if (ctw_gzip(t, len, &z, &wl) == 0)
					free(z);
				double t4 = now_ms();
				if (t4 - t3 < gz_whole)
					gz_whole = t4 - t3;
			}
			free(t);
			free(segs);
		}
	}
	printf("%d containers, %zu series, %.1f MB text, %zu gzip units: render %.2f ms; gzip "
	       "%.2f ms all changed, %.2f ms a fifth, %.2f ms none (the whole text at once: %.2f "
	       "ms)\n",
	       n, series, len / 1e6, units, render, gz_all, gz_fifth, gz_none, gz_whole);
	printf("RESULT bench=scrape-render containers=%d series=%zu text_bytes=%zu gzip_bytes=%zu "
	       "units=%zu render_ms=%.2f gzip_all_changed_ms=%.2f gzip_fifth_changed_ms=%.2f "
	       "gzip_none_changed_ms=%.2f gzip_whole_text_ms=%.2f\n",
	       n, series, len, zlen, units, render, gz_all, gz_fifth, gz_none, gz_whole);
	ctw_gzcache_free(gzc);
	ctw_metrics_free(m);
	return 0;
}
