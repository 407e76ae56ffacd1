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

/* ---- containers ---- */

enum ctw_runtime_kind {
	CTW_RT_CTRWATCH,
	CTW_RT_DOCKER,
	CTW_RT_CONTAINERD,
	CTW_RT_CRIO,
	CTW_RT_PODMAN,
	CTW_RT_KUBELET,  /* a pod cgroup whose runtime could not be told */
	CTW_RT_UNKNOWN,
};

struct ctw_container {
	uint64_t cgroup_id;          /* cgroup v2 inode: what BPF sees */
	char id[72];                 /* full container id */
	char name[128];              /* name where known, else short id */
	char pod[128];               /* "" when not a pod */
	char namespace_[128];
	char pod_uid[48];
	char image[256];
	char cgroup_path[PATH_MAX];  /* absolute path of the v2 cgroup dir */
	enum ctw_runtime_kind runtime;
	int pid;                     /* a process in it, 0 when unknown */
};

struct ctw_registry;

struct ctw_registry_opts {
	const char *cgroup_root;  /* cgroup v2 mount; NULL = detect */
	const char *proc_root;    /* "/proc" or "/host/proc" in a pod */
	const char *state_dir;    /* ctrwatch state; NULL = ctw_state_dir() */
	/* Also list ctrwatch containers only known by state (no discovery). */
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
 * v2 mount), or a PID (its cgroup).  Fills *out; -ENOENT / -EINVAL. */
int ctw_registry_resolve(struct ctw_registry *r, const char *spec, struct ctw_container *out);

/* The cgroup v2 mount on this host: /sys/fs/cgroup (unified) or
 * /sys/fs/cgroup/unified (hybrid).  NULL when there is none. */
const char *ctw_cgroup2_mount(void);
/* The v2 cgroup id (inode) of a directory / of a process. */
int ctw_cgroup_id_of_path(const char *path, uint64_t *id);
int ctw_cgroup_id_of_pid(int pid, uint64_t *id);

/* ---- probe modules ---- */

struct ctw_agent;

struct ctw_agent_module {
	const char *name;  /* "syscalls", "tcp", "dns", "policy", ... */
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
};

void ctw_agent_module_register(const struct ctw_agent_module *mod);

#define CTW_AGENT_MODULE(ident, ...)                                              \
	static const struct ctw_agent_module ctw_mod_##ident = { __VA_ARGS__ };   \
	__attribute__((constructor)) static void ctw_mod_reg_##ident(void)        \
	{                                                                         \
		ctw_agent_module_register(&ctw_mod_##ident);                      \
	}

/* Call cb(ctx) from the event loop (lock held) whenever fd is readable. */
int ctw_agent_watch_fd(struct ctw_agent *a, int fd, void (*cb)(void *ctx), void *ctx);
/* The agent's registry, for modules naming containers. */
struct ctw_registry *ctw_agent_registry(struct ctw_agent *a);
/* Count a ring-buffer event / loss for ctrwatch_events_total and
 * ctrwatch_events_lost_total. */
void ctw_agent_count_events(struct ctw_agent *a, const char *source, uint64_t n);
void ctw_agent_count_lost(struct ctw_agent *a, const char *source, uint64_t cgroup_id,
			  uint64_t n);
/* Agent settings modules may consult (NULL when unset). */
const char *ctw_agent_setting(struct ctw_agent *a, const char *key);

#endif /* CTW_AGENT_H */
