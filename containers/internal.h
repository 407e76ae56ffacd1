/* SPDX-License-Identifier: Apache-2.0 */
/* containers/ inside: the registry's entries and the engine table. */
#ifndef CTW_CONTAINERS_INTERNAL_H
#define CTW_CONTAINERS_INTERNAL_H

#include <jansson.h>

#include "containers.h"

#define V1_PATH_MAX 512

/* A container as the registry keeps it. */
struct entry {
	struct ctw_container c;
	/* hybrid hosts: v1 dirs for resources (NULL when unknown), on the
	 * heap at their size like c's cgroup path; a path of V1_PATH_MAX or
	 * more (none seen: kubelet's are ~200 bytes) is left out. */
	char *v1_memory;
	char *v1_cpuacct;
	char *v1_pids;
	bool enriched;
	uint64_t gone_since_ns; /* kept for the exit grace period */
	/* v2 resource files found missing (RES_*), not tried again until
	 * res_probe_ns + RES_REPROBE_NS: on a hybrid host each failed open
	 * cost a path walk for every container in every refresh. */
	uint8_t res_missing;
	uint64_t res_probe_ns;
	/* Resource files kept open, read again with pread (resources.c):
	 * fd + 1 (0: none) and which file it is, per RES_F_* slot. */
	int res_fd[4];
	uint8_t res_src[4];
	/* the memory limit, re-read every RES_LIMIT_EVERY refreshes */
	uint64_t res_limit;
	bool res_has_limit;
	uint8_t res_limit_age;
	bool carried; /* during a scan: moved into the new table */
};

/* Close the entry's kept resource files, free what it owns, then it. */
void entry_free(struct entry *e);
/* Free what a stack entry owns (no files kept: never in a table). */
void entry_release(struct entry *e);
/* *dst = *src with its own copies of src's strings, no kept files. */
void entry_copy(struct entry *dst, const struct entry *src);

/* Keep dir as the entry's v1 directory of controller ctrl. */
void entry_copy_v1(struct entry *e, const char *ctrl, const char *dir);

/* ---- the registry ---- */

struct idmap {		/* open addressing: cgroup id -> entry index */
	uint64_t *keys; /* 0 = empty (no cgroup has inode 0) */
	size_t *vals;
	size_t cap, n;
};

/* idmap.c */
bool idmap_get(const struct idmap *m, uint64_t k, size_t *v);
void idmap_put(struct idmap *m, uint64_t k, size_t v); /* k 0: ignored */
void idmap_clear(struct idmap *m);

struct ctw_registry {
	char cgroup_root[PATH_MAX];
	/* cgroup_root below its v2 mount ("" when it is the mount): the
	 * kernel's stream names cgroups from the mount */
	size_t root_rel_off;
	char proc_root[PATH_MAX];
	char state_dir[PATH_MAX];
	char host_root[PATH_MAX];
	uint64_t grace_ns;
	/* Entries are allocated one by one and the table holds pointers: a
	 * scan moves the entries it keeps into its new table instead of
	 * copying 10 KiB per container (measured: a fifth of a scan's time,
	 * page faults on a fresh copy every scan). */
	struct entry **ents;
	size_t n, cap;
	struct idmap ids;
	bool scanned;
	void (*added)(void *ctx, const struct ctw_container *c);
	void (*removed)(void *ctx, const struct ctw_container *c);
	void (*dir_hook)(void *ctx, const char *path);
	void *hook_ctx;
};

/* ---- engines ---- */

/* Where an engine's files are: below host_root ("" = the host's /). */
struct engine_ctx {
	const char *host_root;
	const char *proc_root; /* "/proc", or the host's as mounted in a pod */
};

struct ctw_engine {
	const char *name;
	enum ctw_runtime_kind kind;
	/* Is the cgroup whose path components are comp[0..n-1] (relative to
	 * the v2 mount) one of this engine's containers?  Then fill id (the
	 * full container id, idlen bytes) and return true. */
	bool (*match)(const char *const *comp, int n, char *id, size_t idlen);
	/* Name, image, pod, namespace and labels from the engine's own files;
	 * c->id and c->runtime are set.  NULL: nothing to read. */
	void (*enrich)(const struct engine_ctx *ctx, struct ctw_container *c);
};

/* The engines, in the order their layouts are tried (NULL-terminated). */
extern const struct ctw_engine *const ctw_engines[];
const struct ctw_engine *ctw_engine_of(enum ctw_runtime_kind kind);

extern const struct ctw_engine ctw_engine_docker;
extern const struct ctw_engine ctw_engine_containerd;
extern const struct ctw_engine ctw_engine_crio;
extern const struct ctw_engine ctw_engine_podman;
extern const struct ctw_engine ctw_engine_kubelet;

/* Layout helpers for match(). */
bool engine_is_hex(const char *s, size_t n);
/* "<prefix><hex>[.scope]" -> the hex id (12..64 chars). */
bool engine_scope_id(const char *base, const char *prefix, char *id, size_t idlen);
/* A pod component: "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid_>.slice". */
bool engine_pod_component(const char *base, char *uid, size_t uidlen);

/* Metadata readers several engines share. */
/* CRI-O/Podman: <storage>/overlay-containers/<id>/userdata/config.json;
 * true when found. */
bool engine_read_containers_storage(const struct engine_ctx *ctx, struct ctw_container *c);
/* containerd: the task's OCI bundle config.json in any namespace. */
bool engine_read_containerd_bundle(const struct engine_ctx *ctx, struct ctw_container *c);
/* CRI-O, Podman, kubelet: containers/storage, else a containerd bundle. */
void engine_read_storage_or_bundle(const struct engine_ctx *ctx, struct ctw_container *c);
/* name/pod/namespace/image from annotation keys of an object. */
void engine_annotations(struct ctw_container *c, json_t *ann, const char *name_k, const char *pod_k,
			const char *ns_k, const char *image_k);

/* ---- ctrwatch's own state ---- */

/* One <state>/<id>/state.json into e; false when not a live container. */
bool ctrwatch_read_state(const char *path, struct entry *e);

/* ---- JSON ---- */

const char *ctw_jstr(json_t *o, const char *k);
/* A JSON object's string members as labels. */
void labels_from_json(struct ctw_container *c, json_t *o);
/* A JSON object in a string (CRI-O's io.kubernetes.cri-o.Labels). */
void labels_from_json_text(struct ctw_container *c, const char *text);

#endif /* CTW_CONTAINERS_INTERNAL_H */
