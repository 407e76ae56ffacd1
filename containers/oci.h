/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containers/ inside: finding a container through what the OCI runtime and
 * its engine wrote, wherever the engine keeps its data (engine_oci.c).
 *
 * Two ways lead from a cgroup to a container's files, neither of which
 * needs the engine's data root to be the default:
 *
 *   - the runtime's state directory: runc keeps <root>/<id>/state.json
 *     (cgroup paths, the bundle as a "bundle=" label, the annotations as
 *     labels), crun <root>/<id>/status; the roots engines use are known
 *     (/run/runc, /run/crun, /run/docker/runtime-runc/<ns>,
 *     /run/containerd/runc/<ns>) and a running dockerd names its own;
 *   - the container's parent process: a containerd shim (-namespace, -id;
 *     its working directory is the bundle) or conmon (-c ID, -b BUNDLE,
 *     -n NAME).
 *
 * From the bundle: its config.json (annotations; Docker's hostname mount
 * names the container's directory in Docker's data root, with
 * config.v2.json), and for Podman the containers/storage it lies in
 * (overlay-containers/containers.json: names and image).
 *
 * Every file is read below the host root (RESOLVE_IN_ROOT, so a pod that
 * mounts the host at /host resolves the host's absolute paths there),
 * regular files only, never blocking, size-capped; a file that is missing
 * is skipped quietly, one that is unreadable, malformed or too big is
 * skipped with one log line.
 */
#ifndef CTW_CONTAINERS_OCI_H
#define CTW_CONTAINERS_OCI_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "internal.h"

/* What the runtime state or the parent process told about a container. */
struct oci_found {
	enum ctw_runtime_kind kind; /* CTW_RT_UNKNOWN: a plain runc/crun one */
	char id[72];
	char bundle[PATH_MAX];	/* host path of the OCI bundle ("" unknown) */
	char cgroup2[PATH_MAX]; /* v2 cgroup, relative to the v2 mount */
	char ns[64];		/* containerd namespace ("" none) */
	char name[128];		/* conmon -n ("" unknown) */
	char runtime[16];	/* "runc", "crun" ("" unknown) */
	int pid;		/* the container's init, 0 unknown */
	int engine_pid;		/* the shim or conmon above it, 0 unknown */
	uint64_t created_ns;	/* realtime, 0 unknown */
};

/* Where the engines' files are. */
struct oci_ctx {
	const char *host_root; /* "" or "/" = the host's / */
	const char *proc_root; /* "/proc" or "/host/proc" */
	/* More runtime state roots (host paths), NULL-terminated; may be NULL. */
	const char *const *state_roots;
};

/* The runtime state of container id in one state root (runc's state.json or
 * crun's status): 0, or -ENOENT / -errno. */
int oci_state_read(int hostfd, const char *root, const char *id, struct oci_found *f);
/* ... in any root engines use (and ctx->state_roots, and those a running
 * dockerd was started with). */
int oci_state_find(const struct oci_ctx *ctx, const char *id, struct oci_found *f);
/* The shim or conmon above pid (up to a few ancestors): 0, or -ENOENT. */
int oci_parent_find(const struct oci_ctx *ctx, int pid, struct oci_found *f);

/* Name, image, pod, namespace, labels, runtime from the bundle and the
 * engine's files; c->id is set from f, *created_ns (may be NULL) to the
 * engine's start time when it has one.  true when the bundle was read. */
bool oci_enrich(const struct oci_ctx *ctx, const struct oci_found *f, struct ctw_container *c,
		uint64_t *created_ns);

/* A container's identity from its id and/or a process in it: the runtime
 * state, else the parent process; then oci_enrich().  cgroup_rel (the v2
 * cgroup relative to the mount, may be NULL) must match the state's when
 * the state says one.  created_ns gets the start time when known. */
bool oci_identify(const struct oci_ctx *ctx, const char *id, int pid, const char *cgroup_rel,
		  struct ctw_container *c, uint64_t *created_ns);

/* Engine files, read below the host root (see above).  NULL when missing
 * (quietly) or bad (logged once). */
json_t *oci_json_load(int hostfd, const char *path, size_t max);
/* RFC 3339 ("2026-12-06T16:21:32.088499245Z") to realtime ns; 0 when bad. */
uint64_t oci_parse_time(const char *s);
/* Docker's data and exec roots from a dockerd command line (NUL-separated
 * argv, len bytes) and the daemon.json it names (default
 * /etc/docker/daemon.json) below the host root.  "" when not said. */
void oci_dockerd_roots(int hostfd, const char *argv, size_t len, char *data_root, size_t dsize,
		       char *exec_root, size_t esize);

/* The registry's ways in (cgroup_rel: the v2 cgroup below the mount).
 * A cgroup no engine's layout recognised: the container of an engine (or a
 * plain runc/crun) whose process in it has a shim or conmon above it, or
 * whose basename is an id in a runtime state root; fills c. */
bool engine_oci_match(const struct engine_ctx *ctx, const char *cgroup_path, const char *cgroup_rel,
		      struct ctw_container *c);
/* A container its engine's own reader left unnamed (a data root elsewhere
 * than the default): name, image, labels through the runtime state or the
 * parent process. */
void engine_oci_enrich(const struct engine_ctx *ctx, const char *cgroup_rel,
		       struct ctw_container *c);

/* bolt.c: the value at a path of nested buckets (keys[0..nkeys-1], the
 * last one a key) of a bbolt database below the host root (Podman's
 * bolt_state.db, containerd's meta.db), malloc'ed and NUL-terminated; NULL
 * when absent or unreadable. */
char *bolt_get(int hostfd, const char *file, const char *const *keys, size_t nkeys, size_t *len);

#endif /* CTW_CONTAINERS_OCI_H */
