// SPDX-License-Identifier: Apache-2.0
/*
 * The container registry: cgroup v2 id -> container.
 *
 * A scan reads ctrwatch's own state (<state>/<id>/state.json, state.c) and
 * walks the cgroup v2 tree once (walk.c), asking the engines (engines.c)
 * whose container each cgroup is.  Every cgroup below a container's
 * directory belongs to that container too (nested cgroups made inside it),
 * so lookups by cgroup id cover them.
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
 *              inside the root of a process in the container (lib/inroot.c:
 *              a symlink there resolves in the container's root, a FIFO or a
 *              device is never opened, nothing blocks).
 *   image      state "image", config.v2.json Config.Image, CRI image annotations.
 *   labels     (struct ctw_container's, not metric labels) state "labels",
 *              config.v2.json Config.Labels, CRI-O's io.kubernetes.cri-o.Labels
 *              annotation of the container and of its pod's sandbox (the pod's
 *              labels); containerd keeps pod labels only in its database.
 * The runtime files are looked up below `host_root` (default "/").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "internal.h"
#include "oci.h"
#include "../lib/lib.h"

static bool is_cgroup2(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
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
	/* Where the v2 mount is above the root: go up while the parent is the
	 * same cgroup2 file system. */
	r->root_rel_off = strlen(r->cgroup_root);
	struct stat st, pst;
	if (stat(r->cgroup_root, &st) == 0) {
		char up[PATH_MAX];
		ctw_strlcpy(up, r->cgroup_root, sizeof(up));
		for (;;) {
			char *slash = strrchr(up, '/');
			if (!slash || slash == up)
				break;
			*slash = '\0';
			if (!is_cgroup2(up) || stat(up, &pst) || pst.st_dev != st.st_dev)
				break;
			r->root_rel_off = strlen(up);
		}
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
		entry_free(r->ents[i]);
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
	/* the walk: the container whose subtree it is in (depth, index) */
	int in_depth;
	size_t in_idx;
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
		if (!ctrwatch_read_state(p, &e))
			continue;
		s->state = xrealloc(s->state, (s->nstate + 1) * sizeof(*s->state));
		s->state[s->nstate++] = e;
	}
	closedir(d);
}

/* The entry for a cgroup that is a container (ctrwatch state first, then
 * the engines' layouts), NULL when it is none. */
static struct entry *container_at(struct scan *s, uint64_t id, const char *abs)
{
	const char *rel = abs + strlen(s->r->cgroup_root);
	for (size_t i = 0; i < s->nstate; i++) {
		if (!strcmp(s->state[i].c.cgroup_path, abs) ||
		    (s->state[i].c.cgroup_id && s->state[i].c.cgroup_id == id)) {
			struct entry *e = scan_add(s);
			entry_copy(e, &s->state[i]);
			return e;
		}
	}
	struct ctw_container c = {0};
	size_t oj;
	const struct ctw_registry *r = s->r;
	bool known = idmap_get(&r->ids, id, &oj) && r->ents[oj]->c.cgroup_id == id &&
		     r->ents[oj]->c.runtime != CTW_RT_CTRWATCH && !r->ents[oj]->carried;
	struct engine_ctx ectx = {.host_root = r->host_root, .proc_root = r->proc_root};
	/* no engine's layout: a runc/crun container found through its runtime
	 * (engine_oci.c), whatever its cgroup path */
	if (!known && ctw_cgroup_parse_path(rel, &c) != 1 &&
	    !engine_oci_match(&ectx, abs, rel, &c)) {
		ctw_container_release(&c);
		return NULL;
	}
	if (known) {
		/* Known from the last scan: carried over as it is (with what
		 * enrichment learned), moved, not made anew. */
		struct entry *e = r->ents[oj];
		e->carried = true;
		scan_push(s, e);
		return e;
	}
	struct entry *e = scan_add(s);
	e->c = c; /* moved */
	return e;
}

/* One cgroup of the walk over the whole tree (parents before children). */
static int scan_one(void *ctx, uint64_t id, const char *abs, int depth)
{
	struct scan *s = ctx;
	struct ctw_registry *r = s->r;
	size_t known;
	if (s->in_depth >= 0 && depth <= s->in_depth)
		s->in_depth = -1; /* left the container's subtree */
	if (s->in_depth >= 0) {
		/* Nested in a container: counts as it.  Each is also handed
		 * to the dir hook (the agent's inotify watch), so a cgroup
		 * created inside later is seen at once, unless known from the
		 * previous scan (cgroup ids are never reused: watched already;
		 * inotify_add_watch() for every container on every scan was an
		 * eighth of a scan's time). */
		idmap_put(&s->ids, id, s->in_idx);
		if (r->dir_hook && !idmap_get(&r->ids, id, &known))
			r->dir_hook(r->hook_ctx, abs);
		return 0;
	}
	struct entry *e = depth > 0 ? container_at(s, id, abs) : NULL;
	if (!e) {
		if (r->dir_hook)
			r->dir_hook(r->hook_ctx, abs);
		return 0;
	}
	e->c.cgroup_id = id;
	ctw_container_set_cgroup_path(&e->c, abs);
	idmap_put(&s->ids, id, s->n - 1);
	if (r->dir_hook && !idmap_get(&r->ids, id, &known))
		r->dir_hook(r->hook_ctx, abs);
	s->in_depth = depth;
	s->in_idx = s->n - 1;
	return 0;
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
			entry_copy_v1(e, tok, dir);
		}
	}
}

/* A one-line file inside the container's root (hostname, namespace):
 * resolved in that root from an O_PATH fd of /proc/PID/root, so a symlink
 * to a host file resolves inside the container, and only a small regular
 * file is read (a FIFO or a device is never opened: nothing blocks). */
static void read_in_container(struct ctw_registry *r, int pid, const char *path, char *out,
			      size_t size)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/%d/root", r->proc_root, pid);
	int rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return;
	char buf[256];
	int rc = ctw_read_line_in_root(rootfd, path, buf, sizeof(buf));
	close(rootfd);
	if (rc == 0 && buf[0])
		ctw_strlcpy(out, buf, size);
	else if (rc < 0 && rc != -ENOENT)
		pr_debug("discovery: pid %d: %s: %s", pid, path, strerror(-rc));
}

static void enrich(struct ctw_registry *r, struct entry *e)
{
	if (!e->c.pid)
		first_pid(r, e);
	if (e->enriched)
		return;
	e->enriched = true;
	const struct ctw_engine *eng = ctw_engine_of(e->c.runtime);
	struct engine_ctx ctx = {.host_root = r->host_root, .proc_root = r->proc_root};
	if (eng && eng->enrich)
		eng->enrich(&ctx, &e->c);
	engine_oci_enrich(&ctx, e->c.cgroup_path + strlen(r->cgroup_root), &e->c);
	/* Seen at its mkdir, before any process and before the runtime wrote
	 * its state: looked at again by the next scans until it has one. */
	if (!e->c.pid)
		e->enriched = false;
	if (e->c.pod_uid[0] && e->c.pid > 0) {
		if (!e->c.pod[0])
			read_in_container(r, e->c.pid, "/etc/hostname", e->c.pod, sizeof(e->c.pod));
		if (!e->c.namespace_[0])
			read_in_container(r, e->c.pid,
					  "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
					  e->c.namespace_, sizeof(e->c.namespace_));
	}
	if (!e->v1_memory && e->c.pid > 0)
		v1_of_pid(r, e);
}

int ctw_registry_scan(struct ctw_registry *r)
{
	struct scan s = {.r = r};
	scan_state(&s);
	s.in_depth = -1;
	int rc = ctw_cgroup_walk(r->cgroup_root, scan_one, &s);
	if (rc < 0) {
		for (size_t i = 0; i < s.nstate; i++)
			entry_release(&s.state[i]);
		free(s.state);
		return rc;
	}
	for (size_t i = 0; i < s.nstate; i++) {
		size_t j;
		if (!idmap_get(&s.ids, s.state[i].c.cgroup_id, &j))
			pr_debug("discovery: %s: cgroup %s (id %llu) not found below %s",
				 s.state[i].c.name, s.state[i].c.cgroup_path,
				 (unsigned long long)s.state[i].c.cgroup_id, r->cgroup_root);
		entry_release(&s.state[i]);
	}
	free(s.state);

	/* Carry what we learned about containers we already knew. */
	for (size_t i = 0; i < s.n; i++) {
		size_t j;
		struct entry *ne = s.ents[i];
		if (ne->carried) { /* moved over by walk() */
			if (!ne->enriched)
				enrich(r, ne);
			continue;
		}
		if (ne->c.runtime != CTW_RT_CTRWATCH && idmap_get(&r->ids, ne->c.cgroup_id, &j) &&
		    r->ents[j]->c.cgroup_id == ne->c.cgroup_id) {
			entry_free(ne);
			s.ents[i] = r->ents[j];
			s.ents[i]->carried = true;
			continue;
		}
		enrich(r, ne);
		if (ne->c.runtime == CTW_RT_CTRWATCH && !ne->v1_memory && ne->c.pid > 0)
			v1_of_pid(r, ne);
	}

	/* Cgroups that went from inside a container that lives on stay its
	 * (modules still read their final counts by their ids). */
	for (size_t k = 0; k < r->ids.cap; k++) {
		size_t j, nj;
		uint64_t key = r->ids.keys[k];
		if (!key || idmap_get(&s.ids, key, &j))
			continue;
		uint64_t owner = r->ents[r->ids.vals[k]]->c.cgroup_id;
		if (owner != key && idmap_get(&s.ids, owner, &nj) &&
		    s.ents[nj]->c.cgroup_id == owner)
			idmap_put(&s.ids, key, nj);
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
			entry_free(old[i]);
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

/* ---- the kernel's stream (stream.c) ---- */

/* ctrwatch's own container whose cgroup is abs: its state is named by the
 * cgroup's last component (runtime/cgroup.c makes <parent>/<id>). */
static bool ctrwatch_container_at(struct ctw_registry *r, const char *abs, struct entry *e)
{
	const char *base = strrchr(abs, '/');
	char p[PATH_MAX * 2];
	if (!base || !base[1] || strchr(base + 1, '.'))
		return false;
	snprintf(p, sizeof(p), "%s/%s/state.json", r->state_dir, base + 1);
	if (!ctw_path_exists(p) || !ctrwatch_read_state(p, e))
		return false;
	if (!strcmp(e->c.cgroup_path, abs))
		return true;
	entry_release(e);
	memset(e, 0, sizeof(*e));
	return false;
}

void ctw_registry_cgroup_made(struct ctw_registry *r, uint64_t id, uint64_t parent_id,
			      const char *rel)
{
	size_t j;
	if (!id || idmap_get(&r->ids, id, &j))
		return; /* known already (a scan saw it first) */
	if (parent_id && idmap_get(&r->ids, parent_id, &j)) {
		/* nested in a container: counts as it from now on */
		idmap_put(&r->ids, id, j);
		return;
	}
	/* rel is below the v2 mount: only cgroups below our root count */
	const char *root_rel = r->cgroup_root + r->root_rel_off;
	size_t rl = strlen(root_rel);
	if (rl && (strncmp(rel, root_rel, rl) || rel[rl] != '/'))
		return;
	char abs[PATH_MAX * 2];
	snprintf(abs, sizeof(abs), "%s%s", r->cgroup_root, rel + rl);
	struct entry *e = xcalloc(1, sizeof(*e));
	if (!ctrwatch_container_at(r, abs, e)) {
		struct ctw_container c = {0};
		if (ctw_cgroup_parse_path(rel, &c) != 1) {
			pr_debug("discovery: cgroup %llu %s: no container", (unsigned long long)id,
				 rel);
			free(e);
			return;
		}
		e->c = c;
	}
	e->c.cgroup_id = id;
	ctw_container_set_cgroup_path(&e->c, abs);
	enrich(r, e);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->ents = xrealloc(r->ents, r->cap * sizeof(*r->ents));
	}
	r->ents[r->n] = e;
	idmap_put(&r->ids, id, r->n);
	r->n++;
	if (r->added)
		r->added(r->hook_ctx, &e->c);
}

bool ctw_registry_cgroup_gone(struct ctw_registry *r, uint64_t id)
{
	size_t j;
	if (!idmap_get(&r->ids, id, &j) || r->ents[j]->c.cgroup_id != id)
		return false; /* no container's own cgroup (nested ones stay with it) */
	if (!r->ents[j]->gone_since_ns)
		r->ents[j]->gone_since_ns = ctw_now_ns();
	return true;
}

bool ctw_registry_expired(const struct ctw_registry *r)
{
	uint64_t now = ctw_now_ns();
	for (size_t i = 0; i < r->n; i++)
		if (r->ents[i]->gone_since_ns && now - r->ents[i]->gone_since_ns >= r->grace_ns)
			return true;
	return false;
}
