/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/ — the node daemon's core: container discovery (the registry that
 * maps cgroup v2 ids to containers), the epoll event loop, and the probe
 * modules (syscalls, tcp, dns, policy) that load BPF programs, consume ring
 * buffers and contribute metrics at scrape time.
 *
 * The registry is also used by the CLI tools (trace, tcplife, dns, policy)
 * to name the container behind a cgroup id.
 */
#ifndef CTW_AGENT_H
#define CTW_AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../exporters/exporters.h"

struct ctw_err;

/* ---- containers ---- */

enum ctw_runtime_kind {
	CTW_RT_CTRWATCH,
	CTW_RT_DOCKER,
	CTW_RT_CONTAINERD,
	CTW_RT_CRIO,
	CTW_RT_PODMAN,
	CTW_RT_KUBELET, /* a pod cgroup whose runtime could not be told */
	CTW_RT_UNKNOWN,
};

#define CTW_LABELS_MAX 64    /* labels kept per container */
#define CTW_LABEL_LEN 256    /* longer keys and values are cut */
#define CTW_LABELS_SIZE 4096 /* packed bytes per container */

struct ctw_container {
	uint64_t cgroup_id; /* cgroup v2 inode: what BPF sees */
	char id[72];	    /* full container id */
	char name[128];	    /* name where known, else short id */
	char pod[128];	    /* "" when not a pod */
	char namespace_[128];
	char pod_uid[48];
	char image[256];
	char cgroup_path[PATH_MAX]; /* absolute path of the v2 cgroup dir */
	enum ctw_runtime_kind runtime;
	int pid; /* a process in it, 0 when unknown */
	/* Runtime labels (ctrwatch state "labels", Docker Config.Labels, CRI-O
	 * container labels): nlabels "key\0value\0" pairs packed in labels[]
	 * (labels_len bytes used).  Bounded: at most CTW_LABELS_MAX, keys and
	 * values cut at CTW_LABEL_LEN - 1 bytes, what does not fit is dropped.
	 * Iterate with ctw_container_label_next(); plain data, copies by value. */
	uint16_t nlabels, labels_len;
	char labels[CTW_LABELS_SIZE];
};

/* Add a label (the bounds above; a key already there gets the new value
 * only when it fits).  0, or -ENOSPC when dropped. */
int ctw_container_add_label(struct ctw_container *c, const char *key, const char *value);

/* for (const char *k = NULL, *v; (k = ctw_container_label_next(c, k, &v));) */
static inline const char *ctw_container_label_next(const struct ctw_container *c, const char *key,
						   const char **value)
{
	const char *p = key ? *value + __builtin_strlen(*value) + 1 : c->labels;
	if (p >= c->labels + c->labels_len)
		return NULL;
	*value = p + __builtin_strlen(p) + 1;
	return p;
}

/* The value of label key, NULL when the container has none. */
static inline const char *ctw_container_label(const struct ctw_container *c, const char *key)
{
	const char *v;
	for (const char *k = NULL; (k = ctw_container_label_next(c, k, &v));)
		if (!__builtin_strcmp(k, key))
			return v;
	return NULL;
}

struct ctw_registry;

struct ctw_registry_opts {
	const char *cgroup_root; /* cgroup v2 mount; NULL = detect */
	const char *proc_root;	 /* "/proc" or "/host/proc" in a pod */
	const char *state_dir;	 /* ctrwatch state; NULL = ctw_state_dir() */
	/* Also list ctrwatch containers only known by state (no discovery). */
	const char *host_root; /* prefix of runtimes' files (Docker's
				   * config.v2.json, OCI bundles); NULL = "/" */
	uint64_t grace_ns;     /* keep a container this long after its
				   * cgroup went (its last counts get scraped) */
};

struct ctw_registry *ctw_registry_new(const struct ctw_registry_opts *opts);
void ctw_registry_free(struct ctw_registry *r);
/* Rescan the cgroup tree and ctrwatch's state; returns the number of
 * containers known, or -errno. */
int ctw_registry_scan(struct ctw_registry *r);
/* Borrowed pointer, valid until the next scan; NULL when unknown. */
const struct ctw_container *ctw_registry_lookup(struct ctw_registry *r, uint64_t cgroup_id);
/* Iterate: returns NULL past the end. */
const struct ctw_container *ctw_registry_at(struct ctw_registry *r, size_t i);
size_t ctw_registry_count(const struct ctw_registry *r);
/* Resolve what a user typed: a ctrwatch name or id prefix, a container id
 * (prefix) of another runtime, a cgroup path (absolute, or relative to the
 * v2 mount), or a PID (its cgroup).  Fills *out; -ENOENT / -EINVAL.
 * Order: exact name or id; a spec with '/' is a cgroup path; a unique id
 * prefix (-EINVAL when ambiguous); all digits: a PID.  A cgroup (or a PID's
 * cgroup) that is no known container resolves to itself, runtime
 * CTW_RT_UNKNOWN, named by its path below the mount. */
int ctw_registry_resolve(struct ctw_registry *r, const char *spec, struct ctw_container *out);

/* Hooks called by ctw_registry_scan(): a container appeared / went away
 * (the pointer is valid during the call only), and every non-container
 * directory the walk visited (for inotify watches).  Any may be NULL. */
void ctw_registry_set_hooks(struct ctw_registry *r,
			    void (*added)(void *ctx, const struct ctw_container *c),
			    void (*removed)(void *ctx, const struct ctw_container *c),
			    void (*dir_hook)(void *ctx, const char *path), void *ctx);
/* Call cb for every cgroup id that belongs to a container: its own and its
 * descendants'.  Returns how many. */
size_t ctw_registry_cgroup_ids(const struct ctw_registry *r,
			       void (*cb)(void *ctx, uint64_t cgroup_id,
					  const struct ctw_container *c),
			       void *ctx);
/* The v2 mount the registry walks. */
const char *ctw_registry_cgroup_root(const struct ctw_registry *r);
/* Recognise a runtime's container from a cgroup path relative to the v2
 * mount ("/system.slice/docker-<id>.scope"): fills runtime, id, a short-id
 * name and pod_uid; 1 when it is a container, 0 when not. */
int ctw_cgroup_parse_path(const char *rel, struct ctw_container *out);
const char *ctw_runtime_kind_name(enum ctw_runtime_kind k);

/* Resource usage from cgroup files (v2, or v1 controllers on hybrid hosts). */
struct ctw_cgroup_resources {
	double cpu_seconds;
	uint64_t memory_bytes, memory_limit, pids, oom_events;
	bool has_cpu, has_memory, has_limit, has_pids, has_oom;
};
int ctw_registry_resources(struct ctw_registry *r, const struct ctw_container *c,
			   struct ctw_cgroup_resources *out);

/* ctw_cgroup2_mount() (lib.h): the cgroup v2 mount. */
/* The v2 cgroup id (inode) of a directory / of a process. */
int ctw_cgroup_id_of_path(const char *path, uint64_t *id);
int ctw_cgroup_id_of_pid(int pid, uint64_t *id);

/* ---- probe modules ---- */

struct ctw_agent;

struct ctw_agent_module {
	const char *name; /* "syscalls", "tcp", "dns", "policy", ... */
	/* The source its ring buffer's events and losses are counted under
	 * (ctw_agent_count_events/_lost); NULL: none.  Once the module is up
	 * both counters are exported, at 0 until the first event. */
	const char *events;
	/* Load and attach; store private state in *state.  Register ring
	 * buffer fds with ctw_agent_watch_fd().  -errno on failure. */
	int (*start)(struct ctw_agent *a, void **state);
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
/* The agent's registry, for modules naming containers. */
struct ctw_registry *ctw_agent_registry(struct ctw_agent *a);
/* Count a ring-buffer event / loss for ctrwatch_events_total and
 * ctrwatch_events_lost_total. */
void ctw_agent_count_events(struct ctw_agent *a, const char *source, uint64_t n);
void ctw_agent_count_lost(struct ctw_agent *a, const char *source, uint64_t cgroup_id, uint64_t n);
/* Agent settings modules may consult (NULL when unset). */
const char *ctw_agent_setting(struct ctw_agent *a, const char *key);
/* A boolean setting: true|false|yes|no|1|0 (unset: false).  0 with *out
 * set, or -EINVAL with err naming the setting. */
int ctw_agent_setting_bool(struct ctw_agent *a, const char *key, bool *out, struct ctw_err *err);

/* ---- running the agent (cli/cmd_agent.c) ---- */

/* Where a setting came from; a higher priority wins. */
enum { CTW_SET_DEFAULT = 0, CTW_SET_FILE = 1, CTW_SET_ENV = 2, CTW_SET_FLAG = 3 };

/* New agent with defaults and CTRWATCH_<KEY> environment variables applied. */
struct ctw_agent *ctw_agent_new(void);
void ctw_agent_free(struct ctw_agent *a);
/* Set a setting (keys: [a-z0-9_]); ignored when a higher-priority source
 * already set it.  -EINVAL on a bad key. */
int ctw_agent_set(struct ctw_agent *a, const char *key, const char *value, int prio);
bool ctw_agent_setting_known(const char *key);
/* The i-th known setting: returns its help, or NULL past the end. */
const char *ctw_agent_setting_help(size_t i, const char **key, const char **def);
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
/* The labels every per-container series carries: container, then pod and
 * namespace when known.  Fills labels[] (NULL-terminated, room for at least
 * 7 entries; append yours after the returned count); returns the count. */
size_t ctw_agent_container_labels(const struct ctw_container *c, const char **labels, size_t max);
/* Registered modules, for --help listings. */
size_t ctw_agent_modules(const struct ctw_agent_module *const **out);

#endif /* CTW_AGENT_H */
