/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containers/ — container identity: which container a cgroup v2 id belongs
 * to, for the agent and the CLI alike.
 *
 *   registry.c   the registry: cgroup id -> container, scans, exit grace
 *   resolve.c    what a user typed (name, id, cgroup path, PID) -> container
 *   walk.c       the one walker of a cgroup subtree
 *   cgroup.c     cgroup v2 basics: the id of a path or a process
 *   resources.c  cpu/memory/pids of a container from its cgroup files
 *   labels.c     runtime labels packed in struct ctw_container
 *   engines.c    the table of engines: which cgroup layout is whose
 *   engine_*.c   one engine each: its layout and where its metadata lives
 *
 * An engine is recognised from a cgroup path (see engines.c); its files
 * (Docker's config.v2.json, OCI bundles, CRI-O's userdata) name the
 * container.  Files inside a container's root are read through
 * lib/inroot.c, never with a plain open.
 */
#ifndef CTW_CONTAINERS_H
#define CTW_CONTAINERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctw_runtime_kind {
	CTW_RT_CTRWATCH,
	CTW_RT_DOCKER,
	CTW_RT_CONTAINERD,
	CTW_RT_CRIO,
	CTW_RT_PODMAN,
	CTW_RT_KUBELET, /* a pod cgroup whose runtime could not be told */
	CTW_RT_OCI,	/* a plain runc or crun container (no engine) */
	CTW_RT_UNKNOWN,
};

#define CTW_LABELS_MAX 64    /* labels kept per container */
#define CTW_LABEL_LEN 256    /* longer keys and values are cut */
#define CTW_LABELS_SIZE 4096 /* packed bytes per container, at most */

/* A container.  The two fields that can be long (the cgroup path, up to
 * PATH_MAX, and the packed labels, up to 4 KiB) are on the heap at their
 * exact size: held inline they made a registry entry 10.5 KiB, 10 MiB of
 * RSS at 1 000 containers.  So a struct ctw_container owns memory: copy it
 * with ctw_container_copy(), free it with ctw_container_release(); a plain
 * `a = b` moves it (b must not be released after). */
struct ctw_container {
	uint64_t cgroup_id; /* cgroup v2 inode: what BPF sees */
	char id[72];	    /* full container id */
	char name[128];	    /* name where known, else short id */
	char pod[128];	    /* "" when not a pod */
	char namespace_[128];
	char pod_uid[48];
	char image[256];
	/* absolute path of the v2 cgroup dir (ctw_container_set_cgroup_path);
	 * NULL only in a container not yet placed (a zeroed struct) */
	char *cgroup_path;
	enum ctw_runtime_kind runtime;
	int pid; /* a process in it, 0 when unknown */
	/* Runtime labels (ctrwatch state "labels", Docker Config.Labels, CRI-O
	 * container labels): nlabels "key\0value\0" pairs packed in labels[]
	 * (labels_len bytes, allocated to that size; NULL when none).  Bounded:
	 * at most CTW_LABELS_MAX, keys and values cut at CTW_LABEL_LEN - 1
	 * bytes, CTW_LABELS_SIZE bytes in all, what does not fit is dropped.
	 * Iterate with ctw_container_label_next(). */
	uint16_t nlabels, labels_len;
	char *labels;
};

/* Free what c owns and zero those fields (c itself is the caller's). */
void ctw_container_release(struct ctw_container *c);
/* *dst = *src with dst owning its own copies (dst's old contents are not
 * freed: release it first when it held any). */
void ctw_container_copy(struct ctw_container *dst, const struct ctw_container *src);
/* Set the cgroup path (a copy of path, exact size). */
void ctw_container_set_cgroup_path(struct ctw_container *c, const char *path);

/* The id every per-container series carries as container_id: a 64-hex id
 * (Docker, containerd, CRI-O, Podman, ctrwatch) cut to its first 12
 * characters, as `docker ps` shows it; any other id whole (runc's ids are
 * names, which may share a prefix).  Written to out; returns out. */
#define CTW_SHORT_ID_SIZE 72
const char *ctw_container_short_id(const char *id, char out[CTW_SHORT_ID_SIZE]);

/* Add a label (the bounds above; a key already there gets the new value
 * only when it fits).  0, or -ENOSPC when dropped. */
int ctw_container_add_label(struct ctw_container *c, const char *key, const char *value);

/* for (const char *k = NULL, *v; (k = ctw_container_label_next(c, k, &v));) */
static inline const char *ctw_container_label_next(const struct ctw_container *c, const char *key,
						   const char **value)
{
	if (!c->labels_len)
		return NULL;
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

/* ---- the registry ---- */

struct ctw_registry;

struct ctw_registry_opts {
	const char *cgroup_root; /* cgroup v2 mount; NULL = detect */
	const char *proc_root;	 /* "/proc" or "/host/proc" in a pod */
	const char *state_dir;	 /* ctrwatch state; NULL = ctw_state_dir() */
	const char *host_root;	 /* prefix of runtimes' files (Docker's
				  * config.v2.json, OCI bundles); NULL = "/" */
	uint64_t grace_ns;	 /* keep a container this long after its
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
 * CTW_RT_UNKNOWN, named by its path below the mount.  On 0, *out is a copy
 * the caller releases (ctw_container_release); an error leaves it unowned. */
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

/* What the kernel's cgroup stream (ctw_cgroup_stream) says, as it
 * happens: a cgroup made (rel: its path below the v2 mount) is a new
 * container (the added hook runs), or nested in a known one (it counts as
 * that container from now on), or neither (ignored); a container's own
 * cgroup gone starts its exit grace: true when id was one.  Nested ids stay
 * with their container until it is dropped. */
void ctw_registry_cgroup_made(struct ctw_registry *r, uint64_t id, uint64_t parent_id,
			      const char *rel);
bool ctw_registry_cgroup_gone(struct ctw_registry *r, uint64_t id);
/* Has a gone container outlived the grace (then a scan drops it)? */
bool ctw_registry_expired(const struct ctw_registry *r);

/* ---- the kernel's cgroup stream ---- */

/* bpf/cgroups.bpf.c on cgroup_mkdir/cgroup_rmdir, fed to a registry. */
struct ctw_cgroup_stream;
/* Load and attach; NULL and errno set on failure. */
struct ctw_cgroup_stream *ctw_cgroup_stream_new(struct ctw_registry *r);
void ctw_cgroup_stream_free(struct ctw_cgroup_stream *s);
/* An fd to poll for readability. */
int ctw_cgroup_stream_fd(const struct ctw_cgroup_stream *s);
/* Feed what arrived to the registry; returns records read or -errno. */
int ctw_cgroup_stream_consume(struct ctw_cgroup_stream *s);
/* Records the ring could not take so far (then rescan the registry). */
uint64_t ctw_cgroup_stream_lost(const struct ctw_cgroup_stream *s);
/* Records read so far, by type (made, gone). */
void ctw_cgroup_stream_counts(const struct ctw_cgroup_stream *s, uint64_t *made, uint64_t *gone);

/* ---- cgroups ---- */

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
/* A process's v2 cgroup path relative to the v2 mount ("/a/b"), from
 * <proc_root>/<pid>/cgroup. */
int ctw_cgroup_of_pid(const char *proc_root, int pid, char *out, size_t size);

/* Called for each cgroup of a walk: its id, its absolute path, its depth
 * below the walk's start (0 = the start).  A negative return stops the
 * walk with that error; 1 skips the cgroup's subtree; 0 goes on. */
typedef int (*ctw_cgroup_cb)(void *ctx, uint64_t cgroup_id, const char *path, int depth);

#define CTW_CGROUP_WALK_DEPTH 32 /* levels below the start that are visited */

/* The cgroup at path and every cgroup below it, parents before children,
 * never crossing into another filesystem.  Returns the number visited or
 * -errno (path missing or not a directory; or cb's error). */
int ctw_cgroup_walk(const char *path, ctw_cgroup_cb cb, void *ctx);
/* The same from an open directory fd (taken over, closed) whose path is
 * path (used for the callback only). */
int ctw_cgroup_walk_fd(int dirfd, const char *path, ctw_cgroup_cb cb, void *ctx);

/* Resolve spec (ctw_registry_resolve) and follow the container: cb for its
 * cgroup and every cgroup below it (ctw_cgroup_walk).  Returns the number
 * of cgroups (*out to release, as from ctw_registry_resolve), -ENOENT /
 * -EINVAL as ctw_registry_resolve, or cb's error (*out released). */
int ctw_containers_follow(struct ctw_registry *r, const char *spec, struct ctw_container *out,
			  ctw_cgroup_cb cb, void *ctx);

#endif /* CTW_CONTAINERS_H */
