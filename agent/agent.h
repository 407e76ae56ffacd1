/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/ — the node daemon's core: the epoll event loop, discovery (which
 * drives the container registry of containers/), and the modules (syscalls,
 * tcp, dns, policy: probes that load BPF programs and consume ring buffers;
 * resources: cgroup files) that contribute metrics at scrape time.  The
 * module's own files share agent_int.h, which lists them.
 */
#ifndef CTW_AGENT_H
#define CTW_AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../containers/containers.h"
#include "../exporters/exporters.h"
#include "../tcp/tcp.h"

struct ctw_err;

/* ---- probe modules ---- */

struct ctw_agent;

/* A setting, declared once: its flag (--KEY with '-'), CTRWATCH_KEY, the
 * config file's `KEY: value`, --set KEY=VALUE, --help and --check all come
 * from it, and every value is checked by its kind before anything starts. */
enum ctw_setting_kind {
	CTW_SETTING_STR,       /* anything (a module's check may say more) */
	CTW_SETTING_BOOL,      /* true|false|yes|no|1|0; a flag without value */
	CTW_SETTING_DURATION,  /* > 0: 500ms, 5s, 1m */
	CTW_SETTING_DURATION0, /* a duration, or 0 for off */
	CTW_SETTING_UINT,      /* min..max */
};

struct ctw_agent_setting_def {
	const char *key; /* [a-z0-9_] */
	enum ctw_setting_kind kind;
	const char *def; /* default value ("" = unset) */
	const char *help;
	unsigned long long min, max; /* CTW_SETTING_UINT */
};

#define CTW_SETTING(k, kd, d, h)                                  \
	{                                                         \
		.key = (k), .kind = (kd), .def = (d), .help = (h) \
	}

struct ctw_agent_module {
	const char *name; /* "syscalls", "tcp", "dns", "policy", "resources" */
	/* Its failing to start fails the agent's start (the error names it and
	 * why); any other module that fails is logged, skipped and exported as
	 * ctrwatch_module_up{module} 0. */
	bool required;
	/* Its own settings, ended by an entry without a key; may be NULL. */
	const struct ctw_agent_setting_def *settings;
	/* The source its ring buffer's events and losses are counted under
	 * (ctw_agent_count_events/_lost); NULL: none.  Once the module is up
	 * both counters are exported, at 0 until the first event. */
	const char *events;
	/* Load and attach; store private state in *state.  Register ring
	 * buffer fds with ctw_agent_watch_fd().  -errno on failure, with err
	 * saying what failed and why ("load BPF: Operation not permitted";
	 * the agent adds the module's name). */
	int (*start)(struct ctw_agent *a, void **state, struct ctw_err *err);
	/* Detach what is not pinned and free everything. */
	void (*stop)(void *state);
	/* Discovery saw a container appear or go; may be NULL. */
	void (*container_added)(void *state, const struct ctw_container *c);
	void (*container_removed)(void *state, const struct ctw_container *c);
	/* Scrape time, on the HTTP thread, with the agent lock held. */
	void (*collect)(void *state, struct ctw_metrics *m);
	/* SIGHUP / config change; may be NULL. */
	void (*reload)(void *state);
	/* Validate the module's settings, for --check and before any start
	 * (one validation for both); may be NULL.  -errno with err set. */
	int (*check)(struct ctw_agent *a, struct ctw_err *err);
	/* After every discovery scan (the added/removed calls of that scan
	 * came first), lock held; may be NULL.  For modules that track every
	 * cgroup id of a container (ctw_registry_cgroup_ids), nested ones too. */
	void (*rescanned)(void *state);
	/* The metric families collect() declares (ctw_metrics_declare), ended
	 * by an entry without a name; may be NULL.  The README's metrics
	 * table and the naming test read them too. */
	const struct ctw_metric_def *metrics;
};

void ctw_agent_module_register(const struct ctw_agent_module *mod);

#define CTW_AGENT_MODULE(ident, ...)                                          \
	static const struct ctw_agent_module ctw_mod_##ident = {__VA_ARGS__}; \
	__attribute__((constructor)) static void ctw_mod_reg_##ident(void)    \
	{                                                                     \
		ctw_agent_module_register(&ctw_mod_##ident);                  \
	}

/* Call cb(ctx) from the event loop (lock held) whenever fd is readable. */
int ctw_agent_watch_fd(struct ctw_agent *a, int fd, void (*cb)(void *ctx), void *ctx);
/* Feed what the kernel's cgroup stream holds to the registry now (lock
 * held): before a module names a cgroup that may be new (or just gone). */
void ctw_agent_identity_sync(struct ctw_agent *a);
/* The agent's registry, for modules naming containers. */
struct ctw_registry *ctw_agent_registry(struct ctw_agent *a);
/* When the last /metrics request came that repeated a scrape less than the
 * scrape cache's window after it (ctw_now_ns; 0: none yet, or no server):
 * the cache answers those, without a collect. */
uint64_t ctw_agent_last_repeat_ns(struct ctw_agent *a);
/* Count a ring-buffer event / loss for ctrwatch_events_total and
 * ctrwatch_events_lost_total. */
void ctw_agent_count_events(struct ctw_agent *a, const char *source, uint64_t n);
void ctw_agent_count_lost(struct ctw_agent *a, const char *source, uint64_t cgroup_id, uint64_t n);
/* Agent settings modules may consult (NULL when unset). */
const char *ctw_agent_setting(struct ctw_agent *a, const char *key);
/* A boolean setting: true|false|yes|no|1|0 (unset: false).  0 with *out
 * set, or -EINVAL with err naming the setting. */
int ctw_agent_setting_bool(struct ctw_agent *a, const char *key, bool *out, struct ctw_err *err);
/* A duration setting in ns (unset or 0 where allowed: 0), or a number
 * setting within its declared bounds (unset: 0); -EINVAL with err naming
 * the setting and what it should be. */
int ctw_agent_setting_ns(struct ctw_agent *a, const char *key, uint64_t *ns, struct ctw_err *err);
int ctw_agent_setting_u64(struct ctw_agent *a, const char *key, uint64_t *out, struct ctw_err *err);

/* ---- running the agent (cli/cmd_agent.c) ---- */

/* Where a setting came from; a higher priority wins. */
enum { CTW_SET_DEFAULT = 0, CTW_SET_FILE = 1, CTW_SET_ENV = 2, CTW_SET_FLAG = 3 };

/* New agent with defaults and CTRWATCH_<KEY> environment variables applied. */
struct ctw_agent *ctw_agent_new(void);
void ctw_agent_free(struct ctw_agent *a);
/* Set a setting (keys: [a-z0-9_]); ignored when a higher-priority source
 * already set it.  -EINVAL on a bad key. */
int ctw_agent_set(struct ctw_agent *a, const char *key, const char *value, int prio);
/* The i-th setting: the agent's own, then each module's; NULL past the end. */
const struct ctw_agent_setting_def *ctw_agent_setting_def_at(size_t i);
/* The setting named key, or NULL when no one declared it. */
const struct ctw_agent_setting_def *ctw_agent_setting_def(const char *key);
/* Read `key: value` lines (CTW_SET_FILE priority); FILE:LINE in errors. */
int ctw_agent_load_config(struct ctw_agent *a, const char *path, struct ctw_err *err);
void ctw_agent_clear_settings(struct ctw_agent *a, int prio);
/* Check values (numbers, durations, levels, metric groups) without running. */
int ctw_agent_check_settings(struct ctw_agent *a, struct ctw_err *err);
/* Run until SIGTERM/SIGINT (0) or a fatal error (-errno, err set).  SIGHUP
 * re-reads config_path (may be NULL) and calls every module's reload(). */
int ctw_agent_run(struct ctw_agent *a, const char *config_path, struct ctw_err *err);

/* Is a module/metric group selected by the "metrics" setting? */
bool ctw_agent_enabled(struct ctw_agent *a, const char *group);
/* Stop watching an fd given to ctw_agent_watch_fd (before closing it). */
int ctw_agent_unwatch_fd(struct ctw_agent *a, int fd);
/* Report a loaded BPF program for ctrwatch_bpf_program_run_seconds_total. */
int ctw_agent_track_prog(struct ctw_agent *a, const char *name, int prog_fd);
/* The labels every per-container series carries: container, pod and
 * namespace when known, then container_id (the short id, written to id[],
 * which must live as long as labels[]: a reused name never merges two
 * containers' series).  Fills labels[] (NULL-terminated, room for at least
 * 9 entries; append yours after the returned count); returns the count. */
size_t ctw_agent_container_labels(const struct ctw_container *c, char id[CTW_SHORT_ID_SIZE],
				  const char **labels, size_t max);
/* The same labels from a module's own copy of a container's name, pod,
 * namespace ("" when none) and short id; labels has room for 9. */
size_t ctw_agent_labels(const char **labels, const char *name, const char *pod, const char *ns,
			const char *short_id);
/* Many containers' label strings packed together, for a collect that
 * writes several families per container: each registry entry is read
 * once per build instead of once per family (entries lie ~1 KB apart,
 * each family's pass over them was a cache and TLB miss per container).
 * Kept between builds by the module (reset, not freed): its size follows
 * the containers, ~50 bytes each. */
struct ctw_agent_label_pack {
	char *buf;
	size_t len, cap;
};
/* Append c's labels; returns where they start (for _get). */
size_t ctw_agent_label_pack_add(struct ctw_agent_label_pack *p, const struct ctw_container *c);
/* The labels added at off, as ctw_agent_container_labels() makes them
 * (labels has room for 9); valid until the pack is added to or reset. */
size_t ctw_agent_label_pack_get(const struct ctw_agent_label_pack *p, size_t off,
				const char **labels);
/* Registered modules, for --help listings. */
size_t ctw_agent_modules(const struct ctw_agent_module *const **out);

/* ---- metric_tables.c: the agent's own families, and all of them ---- */
enum ctw_self_metric {
	CTW_M_BUILD_INFO,
	CTW_M_PROCESS_CPU,
	CTW_M_PROCESS_RSS,
	CTW_M_PROCESS_OPEN_FDS,
	CTW_M_PROCESS_MAX_FDS,
	CTW_M_PROCESS_START_TIME,
	CTW_M_EVENTS,
	CTW_M_EVENTS_LOST,
	CTW_M_CONTAINERS,
	CTW_M_DISCOVERY_SCANS,
	CTW_M_MODULE_UP,
	CTW_M_BPF_RUN_SECONDS,
	CTW_M_BPF_RUNS,
	CTW_M_SCRAPE_COLLECT,
	CTW_M_SCRAPE_DURATION,
	CTW_M_SERIES_DROPPED,
	CTW_M_SERIES_DUPLICATE,
	CTW_M_SERIES_INVALID,
};
extern const struct ctw_metric_def ctw_agent_self_metrics[];
/* The `resources` group (cgroup files), in the order collected. */
enum ctw_resource_metric {
	CTW_M_CONTAINER_INFO,
	CTW_M_CONTAINER_CPU,
	CTW_M_CONTAINER_MEMORY,
	CTW_M_CONTAINER_MEMORY_LIMIT,
	CTW_M_CONTAINER_PIDS,
	CTW_M_CONTAINER_OOM,
	CTW_M_RESOURCES_N
};
extern const struct ctw_metric_def ctw_agent_resource_metrics[];
/* Every table of the agent, with the group each belongs to ("agent",
 * "resources", then each registered module's name); returns the count. */
#define MAX_AGENT_TABLES 20 /* modules, resources, the agent's own */
size_t ctw_agent_metric_tables(const struct ctw_metric_def **tables, const char **groups,
			       size_t max);

/* ---- tcp_stats.c ---- */
/* The agent's TCP aggregation: per-container series of
 * ctrwatch_tcp_*; the caller serialises access. */
struct ctw_container;
struct ctw_metrics;
struct ctw_tcp_stats;

struct ctw_tcp_stats *ctw_tcp_stats_new(void);
void ctw_tcp_stats_free(struct ctw_tcp_stats *s);
/* cgroup_id (the container's own or a descendant's) belongs to c. */
void ctw_tcp_stats_add_cgroup(struct ctw_tcp_stats *s, __u64 cgroup_id,
			      const struct ctw_container *c);
/* Forget a container and its series; calls cb for each cgroup id it had. */
void ctw_tcp_stats_remove(struct ctw_tcp_stats *s, const char *container_id,
			  void (*cb)(void *ctx, __u64 cgroup_id), void *ctx);
/* Account one closed connection; false when its cgroup is not (yet) a
 * container's: then it is held for 30 s, and counted for the container if
 * ctw_tcp_stats_add_cgroup() names one for that cgroup meanwhile. */
bool ctw_tcp_stats_event(struct ctw_tcp_stats *s, const struct tcplife_event *e);
/* Drop held records older than 30 s; how many cgroups are held. */
void ctw_tcp_stats_expire(struct ctw_tcp_stats *s, __u64 now_ns);
size_t ctw_tcp_stats_pending(const struct ctw_tcp_stats *s);
/* Open connections of one cgroup, summed per container at collect time;
 * ctw_tcp_stats_collect() clears them. */
void ctw_tcp_stats_set_open(struct ctw_tcp_stats *s, __u64 cgroup_id, __s64 n);
void ctw_tcp_stats_collect(struct ctw_tcp_stats *s, struct ctw_metrics *m);
/* The families ctw_tcp_stats_collect declares (the tcp module's table). */
extern const struct ctw_metric_def ctw_tcp_stats_metrics[];

#endif /* CTW_AGENT_H */
