// SPDX-License-Identifier: Apache-2.0
/*
 * The container registry: cgroup v2 id -> container.
 *
 * A scan reads ctrwatch's own state (<state>/<id>/state.json) and walks the
 * cgroup v2 tree, recognising the layouts of the usual runtimes by path:
 *
 *   ctrwatch     the "cgroup" path recorded in state.json
 *   Docker       .../docker-<id>.scope (systemd driver), .../docker/<id> (cgroupfs)
 *   containerd   .../cri-containerd-<id>.scope
 *   CRI-O        .../crio-<id>.scope, .../crio-<id>
 *   Podman       .../libpod-<id>.scope, .../libpod-<id>
 *   kubelet      kubepods[.slice]/<qos>/pod<uid>/<id> (cgroupfs) and
 *                kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/<scope>
 *
 * Every cgroup below a container's directory belongs to that container too
 * (nested cgroups made inside it), so lookups by cgroup id cover them.
 *
 * Where each label comes from (all read on the host, no API server):
 *   container  ctrwatch: state "name"; Docker: config.v2.json "Name";
 *              containerd (CRI): OCI annotation io.kubernetes.cri.container-name;
 *              CRI-O: annotation io.kubernetes.container.name;
 *              else the short (12 character) id.
 *   pod, namespace  the CRI annotations above (sandbox-name/-namespace,
 *              io.kubernetes.pod.name/namespace) or Docker's io.kubernetes.*
 *              labels; failing those, for a pod cgroup, the hostname
 *              (/etc/hostname) and the service-account namespace file read
 *              through /proc/<pid>/root of a process in the container.
 *   image      state "image", config.v2.json Config.Image, CRI image annotations.
 *   labels     (struct ctw_container's, not metric labels) state "labels",
 *              config.v2.json Config.Labels, CRI-O's io.kubernetes.cri-o.Labels
 *              annotation of the container and of its pod's sandbox (the pod's
 *              labels); containerd keeps pod labels only in its database.
 * The runtime files are looked up below `host_root` (default "/").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "../lib/lib.h"

#define MAX_DEPTH 16

#define V1_PATH_MAX 512

struct entry {
	struct ctw_container c;
	/* hybrid hosts: v1 dirs for resources ("" when unknown).  Not
	 * PATH_MAX: entries are copied whole on every scan, and three 4 KiB
	 * paths made an entry 21 KiB (2 MB for a hundred containers); a
	 * longer path (none seen: kubelet's are ~200 bytes) is left out. */
	char v1_memory[V1_PATH_MAX];
	char v1_cpuacct[V1_PATH_MAX];
	char v1_pids[V1_PATH_MAX];
	bool enriched;
	uint64_t gone_since_ns; /* kept for the exit grace period */
	/* v2 resource files found missing (RES_*), not tried again until
	 * res_probe_ns + RES_REPROBE_NS: on a hybrid host each failed open
	 * cost a path walk for every container in every refresh. */
	uint8_t res_missing;
	uint64_t res_probe_ns;
	bool carried; /* during a scan: moved into the new table */
};

#define RES_V2_MEMORY 1
#define RES_V2_PIDS 2
#define RES_REPROBE_NS (60 * 1000000000ull)

struct idmap {		/* open addressing: cgroup id -> entry index */
	uint64_t *keys; /* 0 = empty (no cgroup has inode 0) */
	size_t *vals;
	size_t cap, n;
};

struct ctw_registry {
	char cgroup_root[PATH_MAX];
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

/* ---- id map ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void idmap_put(struct idmap *m, uint64_t k, size_t v);

static void idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 256;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			idmap_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

static void idmap_put(struct idmap *m, uint64_t k, size_t v)
{
	if (!k)
		return;
	if ((m->n + 1) * 2 > m->cap)
		idmap_grow(m);
	size_t j = mix(k) & (m->cap - 1);
	while (m->keys[j] && m->keys[j] != k)
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j])
		m->n++;
	m->keys[j] = k;
	m->vals[j] = v;
}

static bool idmap_get(const struct idmap *m, uint64_t k, size_t *v)
{
	if (!m->cap || !k)
		return false;
	size_t j = mix(k) & (m->cap - 1);
	while (m->keys[j]) {
		if (m->keys[j] == k) {
			*v = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}

static void idmap_clear(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- cgroup basics ---- */

static bool is_cgroup2(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

int ctw_cgroup_id_of_path(const char *path, uint64_t *id)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/* The v2 path ("0::/x") of a process, relative to the v2 mount. */
static int pid_cgroup2_rel(const char *proc_root, int pid, char *out, size_t size)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%d/cgroup", proc_root, pid);
	_cleanup_free_ char *buf = NULL;
	int rc = ctw_read_file(p, &buf, NULL);
	if (rc < 0)
		return rc;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "0::", 3)) {
			ctw_strlcpy(out, line + 3, size);
			return 0;
		}
	}
	return -ENOENT;
}

int ctw_cgroup_id_of_pid(int pid, uint64_t *id)
{
	const char *mnt = ctw_cgroup2_mount();
	char rel[PATH_MAX], path[PATH_MAX * 2];
	if (!mnt)
		return -ENOENT;
	int rc = pid_cgroup2_rel("/proc", pid, rel, sizeof(rel));
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s%s", mnt, rel);
	return ctw_cgroup_id_of_path(path, id);
}

/* ---- path parsing ---- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* "<prefix><hex>[.scope]" -> the hex id (12..64 chars). */
static bool scope_id(const char *b, const char *prefix, char *id, size_t idlen)
{
	if (!ctw_str_has_prefix(b, prefix))
		return false;
	const char *s = b + strlen(prefix);
	size_t n = strlen(s);
	if (ctw_str_has_suffix(s, ".scope"))
		n -= 6;
	if (n < 12 || n > 64 || n >= idlen || !is_hex(s, n))
		return false;
	memcpy(id, s, n);
	id[n] = '\0';
	return true;
}

/* A pod component: "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid_>.slice"
 * (systemd, dashes of the uid turned into underscores). */
static bool pod_component(const char *b, char *uid, size_t uidlen)
{
	const char *u = NULL;
	size_t n = 0;
	if (ctw_str_has_prefix(b, "pod") && strlen(b) > 3 && !strchr(b, '.')) {
		u = b + 3;
		n = strlen(u);
	} else if (ctw_str_has_prefix(b, "kubepods") && ctw_str_has_suffix(b, ".slice")) {
		const char *p = strstr(b, "-pod");
		if (!p)
			return false;
		u = p + 4;
		n = strlen(u) - 6;
	}
	if (!u || n < 8 || n >= uidlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		if (!(isxdigit((unsigned char)c) || c == '-' || c == '_'))
			return false;
		uid[i] = c == '_' ? '-' : c;
	}
	uid[n] = '\0';
	return true;
}

int ctw_cgroup_parse_path(const char *rel, struct ctw_container *out)
{
	char buf[PATH_MAX];
	char *comp[MAX_DEPTH * 4];
	int n = 0;
	ctw_strlcpy(buf, rel, sizeof(buf));
	for (char *s = strtok(buf, "/"); s && n < (int)ARRAY_SIZE(comp); s = strtok(NULL, "/"))
		comp[n++] = s;
	if (!n)
		return 0;
	const char *b = comp[n - 1];
	const char *parent = n > 1 ? comp[n - 2] : "";
	char id[72] = "";
	enum ctw_runtime_kind kind = CTW_RT_UNKNOWN;
	if (scope_id(b, "docker-", id, sizeof(id)))
		kind = CTW_RT_DOCKER;
	else if (scope_id(b, "cri-containerd-", id, sizeof(id)))
		kind = CTW_RT_CONTAINERD;
	else if (scope_id(b, "crio-", id, sizeof(id)))
		kind = CTW_RT_CRIO;
	else if (scope_id(b, "libpod-", id, sizeof(id)))
		kind = CTW_RT_PODMAN;
	else if (strlen(b) == 64 && is_hex(b, 64)) {
		ctw_strlcpy(id, b, sizeof(id));
		if (!strcmp(parent, "docker"))
			kind = CTW_RT_DOCKER;
	}
	if (!id[0])
		return 0;
	/* Inside a pod? Then the pod uid, and a bare id is the kubelet's. */
	char uid[48] = "";
	bool in_kubepods = false;
	for (int i = 0; i < n - 1; i++)
		if (ctw_str_has_prefix(comp[i], "kubepods"))
			in_kubepods = true;
	if (in_kubepods && n > 1 && pod_component(parent, uid, sizeof(uid))) {
		if (kind == CTW_RT_UNKNOWN)
			kind = CTW_RT_KUBELET;
	}
	if (kind == CTW_RT_UNKNOWN)
		return 0;
	memset(out, 0, sizeof(*out));
	out->runtime = kind;
	ctw_strlcpy(out->id, id, sizeof(out->id));
	snprintf(out->name, sizeof(out->name), "%.12s", id);
	ctw_strlcpy(out->pod_uid, uid, sizeof(out->pod_uid));
	return 1;
}

const char *ctw_runtime_kind_name(enum ctw_runtime_kind k)
{
	switch (k) {
	case CTW_RT_CTRWATCH: return "ctrwatch";
	case CTW_RT_DOCKER: return "docker";
	case CTW_RT_CONTAINERD: return "containerd";
	case CTW_RT_CRIO: return "cri-o";
	case CTW_RT_PODMAN: return "podman";
	case CTW_RT_KUBELET: return "kubelet";
	case CTW_RT_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- registry ---- */

struct ctw_registry *ctw_registry_new(const struct ctw_registry_opts *opts)
{
	struct ctw_registry *r = xcalloc(1, sizeof(*r));
	const char *root = opts && opts->cgroup_root ? opts->cgroup_root : ctw_cgroup2_mount();
	ctw_strlcpy(r->cgroup_root, root ? root : "/sys/fs/cgroup", sizeof(r->cgroup_root));
	size_t l = strlen(r->cgroup_root);
	while (l > 1 && r->cgroup_root[l - 1] == '/')
		r->cgroup_root[--l] = '\0';
	/* A hybrid host's /sys/fs/cgroup given as the root (the Helm chart's
	 * default): the v1 hierarchies there carry other inode numbers than
	 * BPF sees, so walk the v2 tree below it. */
	char unified[PATH_MAX + 16];
	snprintf(unified, sizeof(unified), "%s/unified", r->cgroup_root);
	if (!is_cgroup2(r->cgroup_root) && is_cgroup2(unified)) {
		pr_info("cgroup root %s is not cgroup v2: using %s", r->cgroup_root, unified);
		ctw_strlcpy(r->cgroup_root, unified, sizeof(r->cgroup_root));
	}
	ctw_strlcpy(r->proc_root, opts && opts->proc_root ? opts->proc_root : "/proc",
		    sizeof(r->proc_root));
	ctw_strlcpy(r->state_dir, opts && opts->state_dir ? opts->state_dir : ctw_state_dir(),
		    sizeof(r->state_dir));
	ctw_strlcpy(r->host_root, opts && opts->host_root ? opts->host_root : "",
		    sizeof(r->host_root));
	if (!strcmp(r->host_root, "/"))
		r->host_root[0] = '\0';
	r->grace_ns = opts ? opts->grace_ns : 0;
	return r;
}

void ctw_registry_free(struct ctw_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->ents[i]);
	free(r->ents);
	idmap_clear(&r->ids);
	free(r);
}

void ctw_registry_set_hooks(struct ctw_registry *r,
			    void (*added)(void *ctx, const struct ctw_container *c),
			    void (*removed)(void *ctx, const struct ctw_container *c),
			    void (*dir_hook)(void *ctx, const char *path), void *ctx)
{
	r->added = added;
	r->removed = removed;
	r->dir_hook = dir_hook;
	r->hook_ctx = ctx;
}

const char *ctw_registry_cgroup_root(const struct ctw_registry *r)
{
	return r->cgroup_root;
}

struct scan {
	struct ctw_registry *r;
	struct entry **ents;
	size_t n, cap;
	struct idmap ids;
	/* ctrwatch state entries, matched to cgroup dirs by path */
	struct entry *state;
	size_t nstate;
};

static void scan_push(struct scan *s, struct entry *e)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->ents = xrealloc(s->ents, s->cap * sizeof(*s->ents));
	}
	s->ents[s->n++] = e;
}

static struct entry *scan_add(struct scan *s)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	scan_push(s, e);
	return e;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int ctw_container_add_label(struct ctw_container *c, const char *key, const char *value)
{
	size_t kl = strnlen(key, CTW_LABEL_LEN - 1), vl = strnlen(value, CTW_LABEL_LEN - 1);
	size_t need = kl + 1 + vl + 1;
	const char *k, *v;
	for (k = NULL; (k = ctw_container_label_next(c, k, &v));) {
		if (strlen(k) != kl || strncmp(k, key, kl))
			continue;
		size_t old = (size_t)(v + strlen(v) + 1 - k);
		if (c->labels_len - old + need > sizeof(c->labels))
			return -ENOSPC;
		char *dst = c->labels + (k - c->labels);
		memmove(dst, dst + old, c->labels_len - old - (size_t)(k - c->labels));
		c->labels_len -= (uint16_t)old;
		c->nlabels--;
		break;
	}
	if (c->nlabels >= CTW_LABELS_MAX || c->labels_len + need > sizeof(c->labels))
		return -ENOSPC;
	char *p = c->labels + c->labels_len;
	memcpy(p, key, kl);
	p[kl] = '\0';
	memcpy(p + kl + 1, value, vl);
	p[kl + 1 + vl] = '\0';
	c->labels_len += (uint16_t)need;
	c->nlabels++;
	return 0;
}

/* A JSON object's string members as labels. */
static void labels_from_json(struct ctw_container *c, json_t *o)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return;
	json_object_foreach (o, k, v)
		if (json_is_string(v) && ctw_container_add_label(c, k, json_string_value(v)))
			pr_debug("discovery: %s: label %.64s dropped (more than %d or %d bytes)",
				 c->name, k, CTW_LABELS_MAX, CTW_LABELS_SIZE);
}

/* A JSON object in a string (CRI-O's io.kubernetes.cri-o.Labels). */
static void labels_from_json_text(struct ctw_container *c, const char *text)
{
	if (!text)
		return;
	json_t *o = json_loads(text, 0, NULL);
	labels_from_json(c, o);
	json_decref(o);
}

static void copy_v1(struct entry *e, const char *ctrl, const char *dir)
{
	if (strlen(dir) >= V1_PATH_MAX) {
		pr_debug("discovery: %s: v1 %s dir too long, not read", e->c.name, ctrl);
		return;
	}
	if (!strcmp(ctrl, "memory"))
		ctw_strlcpy(e->v1_memory, dir, sizeof(e->v1_memory));
	else if (!strcmp(ctrl, "cpuacct") || !strcmp(ctrl, "cpu,cpuacct") || !strcmp(ctrl, "cpu"))
		ctw_strlcpy(e->v1_cpuacct, dir, sizeof(e->v1_cpuacct));
	else if (!strcmp(ctrl, "pids"))
		ctw_strlcpy(e->v1_pids, dir, sizeof(e->v1_pids));
}

/* One ctrwatch state.json into an entry; false when not a live container. */
static bool read_state(const char *path, struct entry *e)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		pr_debug("discovery: %s: %s", path, jerr.text);
		return false;
	}
	bool ok = false;
	const char *status = jstr(j, "status");
	const char *cg = jstr(j, "cgroup");
	if (!cg || (status && (!strcmp(status, "exited") || !strcmp(status, "stopped") ||
			       !strcmp(status, "dead")))) {
		pr_debug("discovery: %s: status %s, no cgroup or not running", path,
			 status ? status : "?");
		goto out;
	}
	memset(e, 0, sizeof(*e));
	e->c.runtime = CTW_RT_CTRWATCH;
	ctw_strlcpy(e->c.id, jstr(j, "id") ? jstr(j, "id") : "", sizeof(e->c.id));
	ctw_strlcpy(e->c.name, jstr(j, "name") ? jstr(j, "name") : "", sizeof(e->c.name));
	if (!e->c.name[0])
		snprintf(e->c.name, sizeof(e->c.name), "%.12s", e->c.id);
	ctw_strlcpy(e->c.image, jstr(j, "image") ? jstr(j, "image") : "", sizeof(e->c.image));
	ctw_strlcpy(e->c.cgroup_path, cg, sizeof(e->c.cgroup_path));
	json_t *pid = json_object_get(j, "pid");
	e->c.pid = json_is_integer(pid) ? (int)json_integer_value(pid) : 0;
	json_t *cid = json_object_get(j, "cgroup_id");
	if (json_is_integer(cid))
		e->c.cgroup_id = (uint64_t)json_integer_value(cid);
	json_t *v1 = json_object_get(j, "cgroup_v1");
	const char *k;
	json_t *v;
	if (json_is_object(v1))
		json_object_foreach (v1, k, v)
			if (json_is_string(v))
				copy_v1(e, k, json_string_value(v));
	labels_from_json(&e->c, json_object_get(j, "labels"));
	e->enriched = true;
	ok = true;
out:
	json_decref(j);
	return ok;
}

static void scan_state(struct scan *s)
{
	DIR *d = opendir(s->r->state_dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s/state.json", s->r->state_dir, de->d_name);
		struct entry e;
		if (!read_state(p, &e))
			continue;
		s->state = xrealloc(s->state, (s->nstate + 1) * sizeof(*s->state));
		s->state[s->nstate++] = e;
	}
	closedir(d);
}

/* Cgroups nested in a container count as the container.  Each is also
 * handed to the dir hook (the agent's inotify watch), so a cgroup created
 * later inside a container is seen at once, not at the next periodic scan.
 * abs: the directory's path, in a PATH_MAX * 2 buffer extended in place. */
static void add_descendants(struct scan *s, int dfd, size_t idx, int depth, char *abs,
			    size_t abslen)
{
	if (depth > MAX_DEPTH) {
		close(dfd);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	/* Known from the previous scan (cgroup ids are never reused): watched
	 * already.  (inotify_add_watch() for every container on every scan was
	 * an eighth of a scan's time.) */
	struct stat st;
	size_t known;
	if (s->r->dir_hook &&
	    (fstat(dirfd(d), &st) < 0 || !idmap_get(&s->r->ids, st.st_ino, &known)))
		s->r->dir_hook(s->r->hook_ctx, abs);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		size_t nl = strlen(de->d_name);
		if (abslen + 1 + nl >= PATH_MAX * 2)
			continue;
		int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;
		if (fstat(cfd, &st) == 0)
			idmap_put(&s->ids, st.st_ino, idx);
		abs[abslen] = '/';
		memcpy(abs + abslen + 1, de->d_name, nl + 1);
		add_descendants(s, cfd, idx, depth + 1, abs, abslen + 1 + nl);
		abs[abslen] = '\0';
	}
	closedir(d);
}

static void walk(struct scan *s, int dfd, char *rel, size_t rellen, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	if (s->r->dir_hook) {
		char abs[PATH_MAX * 2];
		snprintf(abs, sizeof(abs), "%s%s", s->r->cgroup_root, rel);
		s->r->dir_hook(s->r->hook_ctx, abs);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		size_t nl = strlen(de->d_name);
		if (rellen + 1 + nl >= PATH_MAX)
			continue;
		int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;
		rel[rellen] = '/';
		memcpy(rel + rellen + 1, de->d_name, nl + 1);
		struct stat st;
		if (fstat(cfd, &st) < 0) {
			close(cfd);
			rel[rellen] = '\0';
			continue;
		}
		char abs[PATH_MAX * 2];
		snprintf(abs, sizeof(abs), "%s%s", s->r->cgroup_root, rel);
		struct entry *e = NULL;
		for (size_t i = 0; i < s->nstate; i++) {
			if (!strcmp(s->state[i].c.cgroup_path, abs) ||
			    (s->state[i].c.cgroup_id && s->state[i].c.cgroup_id == st.st_ino)) {
				e = scan_add(s);
				*e = s->state[i];
				break;
			}
		}
		struct ctw_container c;
		size_t oj;
		if (!e && ctw_cgroup_parse_path(rel, &c) == 1) {
			const struct ctw_registry *r = s->r;
			if (c.runtime != CTW_RT_CTRWATCH && idmap_get(&r->ids, st.st_ino, &oj) &&
			    r->ents[oj]->c.cgroup_id == st.st_ino && !r->ents[oj]->carried) {
				/* Known from the last scan: carried over as it is
				 * (with what enrichment learned), moved, not made
				 * anew. */
				e = r->ents[oj];
				e->carried = true;
				scan_push(s, e);
			} else {
				e = scan_add(s);
				e->c = c;
			}
		}
		if (e) {
			e->c.cgroup_id = st.st_ino;
			ctw_strlcpy(e->c.cgroup_path, abs, sizeof(e->c.cgroup_path));
			idmap_put(&s->ids, st.st_ino, s->n - 1);
			add_descendants(s, cfd, s->n - 1, depth + 1, abs, strlen(abs));
		} else if (depth < MAX_DEPTH) {
			walk(s, cfd, rel, rellen + 1 + nl, depth + 1);
		} else {
			close(cfd);
		}
		rel[rellen] = '\0';
	}
	closedir(d);
}

/* ---- enrichment ---- */

static void annotations(struct entry *e, json_t *ann, const char *name_k, const char *pod_k,
			const char *ns_k, const char *image_k)
{
	if (!json_is_object(ann))
		return;
	const char *v;
	if ((v = jstr(ann, name_k)) && *v)
		ctw_strlcpy(e->c.name, v, sizeof(e->c.name));
	if ((v = jstr(ann, pod_k)) && *v)
		ctw_strlcpy(e->c.pod, v, sizeof(e->c.pod));
	if ((v = jstr(ann, ns_k)) && *v)
		ctw_strlcpy(e->c.namespace_, v, sizeof(e->c.namespace_));
	if ((v = jstr(ann, image_k)) && *v)
		ctw_strlcpy(e->c.image, v, sizeof(e->c.image));
}

static void enrich_docker(struct ctw_registry *r, struct entry *e)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/var/lib/docker/containers/%s/config.v2.json", r->host_root,
		 e->c.id);
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return;
	const char *name = jstr(j, "Name");
	if (name && *name)
		ctw_strlcpy(e->c.name, name[0] == '/' ? name + 1 : name, sizeof(e->c.name));
	json_t *cfg = json_object_get(j, "Config");
	const char *img = jstr(cfg, "Image");
	if (img)
		ctw_strlcpy(e->c.image, img, sizeof(e->c.image));
	labels_from_json(&e->c, json_object_get(cfg, "Labels"));
	/* dockershim-era pods carry their identity as labels */
	annotations(e, json_object_get(cfg, "Labels"), "io.kubernetes.container.name",
		    "io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "-");
	json_decref(j);
}

static void enrich_oci_config(struct ctw_registry *r, struct entry *e)
{
	char pat[PATH_MAX * 2];
	if (e->c.runtime == CTW_RT_CRIO || e->c.runtime == CTW_RT_PODMAN ||
	    e->c.runtime == CTW_RT_KUBELET) {
		const char *dirs[] = {"/run/containers/storage", "/var/lib/containers/storage"};
		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
			snprintf(pat, sizeof(pat),
				 "%s%s/overlay-containers/%s/userdata/config.json", r->host_root,
				 dirs[i], e->c.id);
			json_t *j = json_load_file(pat, 0, NULL);
			if (!j)
				continue;
			json_t *ann = json_object_get(j, "annotations");
			annotations(e, ann, "io.kubernetes.container.name",
				    "io.kubernetes.pod.name", "io.kubernetes.pod.namespace",
				    "io.kubernetes.cri-o.ImageName");
			/* the pod's labels (its sandbox's), then the container's */
			const char *sb = jstr(ann, "io.kubernetes.cri-o.SandboxID");
			if (sb && strcmp(sb, e->c.id) && !strchr(sb, '/')) {
				snprintf(pat, sizeof(pat),
					 "%s%s/overlay-containers/%s/userdata/config.json",
					 r->host_root, dirs[i], sb);
				json_t *sj = json_load_file(pat, 0, NULL);
				labels_from_json_text(&e->c,
						      jstr(json_object_get(sj, "annotations"),
							   "io.kubernetes.cri-o.Labels"));
				json_decref(sj);
			}
			labels_from_json_text(&e->c, jstr(ann, "io.kubernetes.cri-o.Labels"));
			json_decref(j);
			return;
		}
	}
	/* containerd: the OCI bundle of the task, in any containerd namespace */
	snprintf(pat, sizeof(pat),
		 "%s/run/containerd/io.containerd.runtime.v2.task/*/%s/config.json", r->host_root,
		 e->c.id);
	glob_t g;
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc) {
		json_t *j = json_load_file(g.gl_pathv[0], 0, NULL);
		if (j) {
			annotations(e, json_object_get(j, "annotations"),
				    "io.kubernetes.cri.container-name",
				    "io.kubernetes.cri.sandbox-name",
				    "io.kubernetes.cri.sandbox-namespace",
				    "io.kubernetes.cri.image-name");
			json_decref(j);
		}
	}
	globfree(&g);
}

static void first_pid(struct ctw_registry *r, struct entry *e)
{
	char p[PATH_MAX + 32];
	char line[32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", e->c.cgroup_path);
	FILE *f = fopen(p, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f))
		e->c.pid = atoi(line);
	fclose(f);
}

/* v1 dirs of a process (hybrid hosts), from /proc/<pid>/cgroup. */
static void v1_of_pid(struct ctw_registry *r, struct entry *e)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%d/cgroup", r->proc_root, e->c.pid);
	_cleanup_free_ char *buf = NULL;
	if (ctw_read_file(p, &buf, NULL) < 0)
		return;
	const char *v2base = strrchr(e->c.cgroup_path, '/');
	if (!v2base)
		return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2 == c1 + 1)
			continue;
		*c2 = '\0';
		char *ctrls = c1 + 1, dir[PATH_MAX * 2];
		char *tok, *save;
		for (tok = strtok_r(ctrls, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (strcmp(tok, "memory") && strcmp(tok, "cpuacct") && strcmp(tok, "pids"))
				continue;
			/* cpu,cpuacct may be co-mounted under either name */
			/* Only a v1 dir named like the container's v2 dir is
			 * the container's (runtimes use one name in every
			 * hierarchy); else it is some ancestor's, e.g. the
			 * host's root. */
			const char *base1 = strrchr(c2 + 1, '/');
			if (!base1 || strcmp(base1, v2base))
				continue;
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", tok, c2 + 1);
			if (!ctw_path_exists(dir) && !strcmp(tok, "cpuacct"))
				snprintf(dir, sizeof(dir), "/sys/fs/cgroup/cpu,cpuacct%s", c2 + 1);
			copy_v1(e, tok, dir);
		}
	}
}

static void read_in_container(struct ctw_registry *r, int pid, const char *path, char *out,
			      size_t size)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%d/root%s", r->proc_root, pid, path);
	char buf[256];
	if (ctw_read_line(p, buf, sizeof(buf)) == 0 && buf[0])
		ctw_strlcpy(out, buf, size);
}

static void enrich(struct ctw_registry *r, struct entry *e)
{
	if (!e->c.pid)
		first_pid(r, e);
	if (e->enriched)
		return;
	e->enriched = true;
	if (e->c.runtime == CTW_RT_DOCKER)
		enrich_docker(r, e);
	else if (e->c.runtime != CTW_RT_CTRWATCH)
		enrich_oci_config(r, e);
	if (e->c.pod_uid[0] && e->c.pid > 0) {
		if (!e->c.pod[0])
			read_in_container(r, e->c.pid, "/etc/hostname", e->c.pod, sizeof(e->c.pod));
		if (!e->c.namespace_[0])
			read_in_container(r, e->c.pid,
					  "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
					  e->c.namespace_, sizeof(e->c.namespace_));
	}
	if (!e->v1_memory[0] && e->c.pid > 0)
		v1_of_pid(r, e);
}

int ctw_registry_scan(struct ctw_registry *r)
{
	struct scan s = {.r = r};
	scan_state(&s);
	int fd = open(r->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		free(s.state);
		return -err;
	}
	char rel[PATH_MAX] = "";
	walk(&s, fd, rel, 0, 0);
	for (size_t i = 0; i < s.nstate; i++) {
		size_t j;
		if (!idmap_get(&s.ids, s.state[i].c.cgroup_id, &j))
			pr_debug("discovery: %s: cgroup %s (id %llu) not found below %s",
				 s.state[i].c.name, s.state[i].c.cgroup_path,
				 (unsigned long long)s.state[i].c.cgroup_id, r->cgroup_root);
	}
	free(s.state);

	/* Carry what we learned about containers we already knew. */
	for (size_t i = 0; i < s.n; i++) {
		size_t j;
		struct entry *ne = s.ents[i];
		if (ne->carried)
			continue; /* moved over by walk() */
		if (ne->c.runtime != CTW_RT_CTRWATCH && idmap_get(&r->ids, ne->c.cgroup_id, &j) &&
		    r->ents[j]->c.cgroup_id == ne->c.cgroup_id) {
			free(ne);
			s.ents[i] = r->ents[j];
			s.ents[i]->carried = true;
			continue;
		}
		enrich(r, ne);
		if (ne->c.runtime == CTW_RT_CTRWATCH && !ne->v1_memory[0] && ne->c.pid > 0)
			v1_of_pid(r, ne);
	}

	/* Containers that went away stay for the grace period, so that their
	 * last counts reach at least one more scrape. */
	if (r->grace_ns) {
		uint64_t now = ctw_now_ns();
		for (size_t i = 0; i < r->n; i++) {
			struct entry *oe = r->ents[i];
			size_t j;
			if (oe->carried || idmap_get(&s.ids, oe->c.cgroup_id, &j))
				continue;
			if (!oe->gone_since_ns)
				oe->gone_since_ns = now;
			if (now - oe->gone_since_ns >= r->grace_ns)
				continue;
			oe->carried = true;
			scan_push(&s, oe);
			for (size_t k = 0; k < r->ids.cap; k++)
				if (r->ids.keys[k] && r->ids.vals[k] == i &&
				    !idmap_get(&s.ids, r->ids.keys[k], &j))
					idmap_put(&s.ids, r->ids.keys[k], s.n - 1);
		}
	}

	struct entry **old = r->ents;
	size_t nold = r->n;
	struct idmap oldids = r->ids;
	r->ents = s.ents;
	r->n = s.n;
	r->cap = s.cap;
	r->ids = s.ids;
	r->scanned = true;
	if (r->removed) {
		for (size_t i = 0; i < nold; i++) {
			size_t j;
			if (!idmap_get(&r->ids, old[i]->c.cgroup_id, &j) ||
			    r->ents[j]->c.cgroup_id != old[i]->c.cgroup_id)
				r->removed(r->hook_ctx, &old[i]->c);
		}
	}
	if (r->added) {
		for (size_t i = 0; i < r->n; i++) {
			size_t j;
			if (!idmap_get(&oldids, r->ents[i]->c.cgroup_id, &j) ||
			    old[j]->c.cgroup_id != r->ents[i]->c.cgroup_id)
				r->added(r->hook_ctx, &r->ents[i]->c);
		}
	}
	/* The old table's entries that were not moved are gone (after the
	 * hooks, which still read them). */
	for (size_t i = 0; i < nold; i++) {
		if (old[i]->carried)
			old[i]->carried = false;
		else
			free(old[i]);
	}
	free(old);
	idmap_clear(&oldids);
	return (int)r->n;
}

const struct ctw_container *ctw_registry_lookup(struct ctw_registry *r, uint64_t cgroup_id)
{
	size_t j;
	if (!idmap_get(&r->ids, cgroup_id, &j))
		return NULL;
	return &r->ents[j]->c;
}

const struct ctw_container *ctw_registry_at(struct ctw_registry *r, size_t i)
{
	return i < r->n ? &r->ents[i]->c : NULL;
}

size_t ctw_registry_count(const struct ctw_registry *r)
{
	return r->n;
}

/* Every cgroup id that belongs to a container (itself and descendants). */
size_t ctw_registry_cgroup_ids(const struct ctw_registry *r,
			       void (*cb)(void *ctx, uint64_t cgroup_id,
					  const struct ctw_container *c),
			       void *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ids.cap; i++) {
		if (!r->ids.keys[i])
			continue;
		cb(ctx, r->ids.keys[i], &r->ents[r->ids.vals[i]]->c);
		n++;
	}
	return n;
}

/* ---- resolve ---- */

static int resolve_cgroup_dir(struct ctw_registry *r, const char *dir, struct ctw_container *out)
{
	uint64_t id;
	int rc = ctw_cgroup_id_of_path(dir, &id);
	if (rc < 0)
		return rc == -ENOTDIR ? -EINVAL : -ENOENT;
	const struct ctw_container *c = ctw_registry_lookup(r, id);
	if (c) {
		*out = *c;
		return 0;
	}
	/* Not a container we recognise: a bare cgroup, named by its path. */
	memset(out, 0, sizeof(*out));
	out->cgroup_id = id;
	out->runtime = CTW_RT_UNKNOWN;
	ctw_strlcpy(out->cgroup_path, dir, sizeof(out->cgroup_path));
	const char *rel = dir;
	if (ctw_str_has_prefix(dir, r->cgroup_root))
		rel = dir + strlen(r->cgroup_root);
	ctw_strlcpy(out->name, *rel ? rel : "/", sizeof(out->name));
	return 0;
}

int ctw_registry_resolve(struct ctw_registry *r, const char *spec, struct ctw_container *out)
{
	if (!spec || !*spec)
		return -EINVAL;
	if (!r->scanned)
		ctw_registry_scan(r);
	char path[PATH_MAX * 2];
	bool digits = true;
	for (const char *p = spec; *p; p++)
		if (*p < '0' || *p > '9')
			digits = false;
	/* Names first: a container may be called "1234". */
	for (size_t i = 0; i < r->n; i++) {
		if (!strcmp(r->ents[i]->c.name, spec) || !strcmp(r->ents[i]->c.id, spec)) {
			*out = r->ents[i]->c;
			return 0;
		}
	}
	if (strchr(spec, '/')) {
		if (spec[0] == '/' && ctw_str_has_prefix(spec, r->cgroup_root))
			snprintf(path, sizeof(path), "%s", spec);
		else
			snprintf(path, sizeof(path), "%s/%s", r->cgroup_root,
				 spec + (spec[0] == '/'));
		return resolve_cgroup_dir(r, path, out);
	}
	/* A unique id prefix (before PIDs: ids can be all digits). */
	const struct ctw_container *hit = NULL;
	size_t len = strlen(spec);
	for (size_t i = 0; i < r->n; i++) {
		if (!strncmp(r->ents[i]->c.id, spec, len)) {
			if (hit)
				return -EINVAL; /* ambiguous */
			hit = &r->ents[i]->c;
		}
	}
	if (hit) {
		*out = *hit;
		return 0;
	}
	if (digits) {
		char rel[PATH_MAX];
		int rc = pid_cgroup2_rel(r->proc_root, atoi(spec), rel, sizeof(rel));
		if (rc < 0)
			return -ENOENT;
		snprintf(path, sizeof(path), "%s%s", r->cgroup_root, rel);
		rc = resolve_cgroup_dir(r, path, out);
		if (rc == 0 && !out->pid)
			out->pid = atoi(spec);
		return rc;
	}
	return -ENOENT;
}

/* ---- resources ---- */

/* dir/file into buf (NUL-terminated, truncated to size - 1); no allocation:
 * these run a few hundred times per resources refresh. */
static bool read_small(const char *dir, const char *file, char *buf, size_t size)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

static bool read_u64_file(const char *dir, const char *file, uint64_t *v)
{
	char buf[64];
	if (!read_small(dir, file, buf, sizeof(buf)))
		return false;
	if (!strncmp(buf, "max", 3) && (!buf[3] || buf[3] == '\n')) {
		*v = UINT64_MAX;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;
	*v = x;
	return true;
}

/* "key value" lines (the keys read here are within a file's first KiB) */
static bool read_keyed(const char *dir, const char *file, const char *key, uint64_t *v)
{
	char buf[1024];
	if (!read_small(dir, file, buf, sizeof(buf)))
		return false;
	size_t kl = strlen(key);
	for (char *line = buf; line && *line;) {
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			*v = strtoull(line + kl + 1, NULL, 10);
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

int ctw_registry_resources(struct ctw_registry *r, const struct ctw_container *c,
			   struct ctw_cgroup_resources *out)
{
	size_t j;
	if (!idmap_get(&r->ids, c->cgroup_id, &j))
		return -ENOENT;
	struct entry *e = r->ents[j];
	const char *v2 = e->c.cgroup_path;
	uint64_t v;
	memset(out, 0, sizeof(*out));
	if (e->res_missing) {
		uint64_t now = ctw_now_ns();
		if (now - e->res_probe_ns >= RES_REPROBE_NS)
			e->res_missing = 0;
	}
	if (!e->res_missing)
		e->res_probe_ns = ctw_now_ns();
	/* v2 first (cpu.stat exists in every v2 cgroup); v1 files on hybrid hosts. */
	if (read_keyed(v2, "cpu.stat", "usage_usec", &v)) {
		out->cpu_seconds = v / 1e6;
		out->has_cpu = true;
	} else if (e->v1_cpuacct[0] && read_u64_file(e->v1_cpuacct, "cpuacct.usage", &v)) {
		out->cpu_seconds = v / 1e9;
		out->has_cpu = true;
	}
	bool v2mem = !(e->res_missing & RES_V2_MEMORY) && read_u64_file(v2, "memory.current", &v);
	if (!v2mem)
		e->res_missing |= RES_V2_MEMORY;
	if (v2mem) {
		out->memory_bytes = v;
		out->has_memory = true;
		if (read_u64_file(v2, "memory.max", &v) && v != UINT64_MAX) {
			out->memory_limit = v;
			out->has_limit = true;
		}
		if (read_keyed(v2, "memory.events", "oom_kill", &v)) {
			out->oom_events = v;
			out->has_oom = true;
		}
	} else if (e->v1_memory[0] && read_u64_file(e->v1_memory, "memory.usage_in_bytes", &v)) {
		out->memory_bytes = v;
		out->has_memory = true;
		/* v1 "no limit" is a huge page-rounded number */
		if (read_u64_file(e->v1_memory, "memory.limit_in_bytes", &v) && v < (1ull << 62)) {
			out->memory_limit = v;
			out->has_limit = true;
		}
		if (read_keyed(e->v1_memory, "memory.oom_control", "oom_kill", &v)) {
			out->oom_events = v;
			out->has_oom = true;
		}
	}
	bool pids = !(e->res_missing & RES_V2_PIDS) && read_u64_file(v2, "pids.current", &v);
	if (!pids) {
		e->res_missing |= RES_V2_PIDS;
		pids = e->v1_pids[0] && read_u64_file(e->v1_pids, "pids.current", &v);
	}
	if (pids) {
		out->pids = v;
		out->has_pids = true;
	}
	return 0;
}
