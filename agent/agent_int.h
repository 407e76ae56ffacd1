/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/ inside: what the module's files share and nothing outside agent/
 * may include (modules use agent.h).  The files, one job each:
 *   agent.c        the loop and lifecycle: module table, start/stop,
 *                  epoll, signals, discovery, the scrape's order
 *   settings.c     the settings table and its one parser: defaults,
 *                  environment, config file, flags, --check, typed reads
 *   self_metrics.c the agent's own series: process_*, events and losses,
 *                  module_up, BPF program stats, scrape timing and counts
 *   resources.c    the `resources` module: per-container cgroup files
 *   mod_*.c        the probe modules
 */
#ifndef CTW_AGENT_INT_H
#define CTW_AGENT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "../lib/lib.h"

#define MAX_MODULES 16
#define MAX_SETTINGS 64
/* ctrwatch_scrape_duration_seconds' bucket bounds (self_metrics.c) */
#define SCRAPE_BOUNDS 9

struct setting {
	char *key, *value;
	int prio;
};

struct watch {
	int fd;
	void (*cb)(void *ctx);
	void *ctx;
	/* Not a ring buffer's epoll fd nor a timer: a control event (the
	 * policy module's file watch) whose effect a scrape must show at once,
	 * so the scrape cache is dropped after the callback.  Ring buffers
	 * carry the data plane (counts a scrape a second later will show). */
	bool invalidates;
	struct watch *next;
};

struct counter { /* events by source, lost by (source, cgroup id) */
	char source[32];
	uint64_t cgroup_id;
	uint64_t n;
};

struct prog {
	char name[64];
	int fd;
};

struct running {
	const struct ctw_agent_module *mod;
	void *state;
	bool up;
	struct ctw_err err; /* why start() failed */
};

struct ctw_agent {
	pthread_mutex_t lock;
	struct setting settings[MAX_SETTINGS];
	size_t nsettings;
	struct ctw_registry *reg;
	struct running mods[MAX_MODULES];
	size_t nmods;
	int epfd, sigfd, tfd, debounce_fd, inofd;
	struct ctw_cgroup_stream *stream;
	uint64_t stream_lost;	  /* records the stream lost, as last seen */
	uint64_t expire_check_ns; /* last look for containers past the grace */
	struct watch *watches;
	struct counter *events, *lost;
	size_t nevents, nlost;
	struct prog progs[32];
	size_t nprogs;
	struct ctw_http *http;
	bool ready;
	bool stopping;
	bool rescan_pending;
	uint64_t series_dropped;
	uint64_t series_invalid; /* ctrwatch_series_invalid_total */
	uint64_t scrapes;
	double start_time;
	/* how long the last build spent waiting for the lock and in each
	 * module's collect (ctrwatch_scrape_collect_seconds) */
	uint64_t collect_ns[MAX_MODULES + 1];
	/* scrape duration histogram */
	uint64_t scrape_buckets[SCRAPE_BOUNDS + 1]; /* + overflow */
	double scrape_sum;
	uint64_t rescans;
	char state_dir[PATH_MAX];
};

/* settings.c */
/* Every declared setting at its default, then CTRWATCH_<KEY>. */
void agent_settings_init(struct ctw_agent *a);
void agent_settings_free(struct ctw_agent *a);
/* log_level and log_format, checked and applied (start, SIGHUP). */
int agent_apply_logging(struct ctw_agent *a, struct ctw_err *err);

/* self_metrics.c */
/* The counter of (source, cgroup id), made at 0 when new. */
struct counter *agent_counter(struct counter **arr, size_t *n, const char *source,
			      uint64_t cgroup_id);
/* The agent's own series, after every module's (the series cap off). */
void agent_collect_self(struct ctw_agent *a, struct ctw_metrics *m);
/* What the build of m refused (cap, duplicates, invalid), counted across
 * builds and emitted; and the build's time (dt, seconds) into the histogram. */
void agent_collect_series_counts(struct ctw_agent *a, struct ctw_metrics *m);
void agent_observe_scrape(struct ctw_agent *a, double dt);

#endif /* CTW_AGENT_INT_H */
