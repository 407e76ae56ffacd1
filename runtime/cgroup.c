// SPDX-License-Identifier: Apache-2.0
/*
 * A container's cgroups (struct cg_set), on both layouts:
 *  - unified (v2 only): one directory holds identity and limits;
 *  - hybrid (v1 controllers + a v2 tree at /sys/fs/cgroup/unified): the
 *    container gets its own v2 directory (its inode is the id BPF sees) and
 *    one directory per v1 controller its limits need (cgroup_res.c).
 * A path without a leading '/' is below this process's own cgroup in each
 * hierarchy (read from /proc/self/cgroup), as runc reads a relative
 * cgroupsPath.  We only ever write to directories we created.
 *
 * The layout is decided by the filesystem at /sys/fs/cgroup: cgroup2 there
 * is unified (whatever v1 lines /proc/self/cgroup still lists), else cgroup2
 * at /sys/fs/cgroup/unified is hybrid, else legacy (refused: no v2 id).
 * Unified: limits need their controller in the container's
 * cgroup.controllers.  We enable the ones a container may use, where
 * offered, in the subtree_control of the parents that are ours: those below
 * the caller's own cgroup for a relative path, those cg_set_create made for
 * an absolute one.  The caller's own cgroup (or an absolute parent that
 * existed) must delegate them itself; when it does not, a container with
 * that limit fails before it starts, naming the cgroup, and one without
 * limits works.  (tests/integration/14-runtime-cgroup2.sh)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "internal.h"

/* Our own cgroup path in the hierarchy holding ctrl ("" = v2), from the
 * text of /proc/self/cgroup. */
static int own_cgroup(const char *self_cgroup, const char *ctrl, char *out, size_t size)
{
	char *data = xstrdup(self_cgroup);
	int r = -ENOENT;
	for (char *save, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		*c1 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		bool match = false;
		if (!*ctrl) {
			match = !strcmp(line, "0") && !*ctrls;
		} else {
			char buf[256];
			ctw_strlcpy(buf, ctrls, sizeof(buf));
			for (char *s2, *t = strtok_r(buf, ",", &s2); t;
			     t = strtok_r(NULL, ",", &s2))
				if (!strcmp(t, ctrl))
					match = true;
		}
		if (match) {
			ctw_strlcpy(out, strcmp(path, "/") ? path : "", size);
			r = 0;
			break;
		}
	}
	free(data);
	return r;
}

/* The directory of path in the hierarchy mounted at mnt: below our own
 * cgroup there when relative (self_cgroup: /proc/self/cgroup, read once by
 * the caller, NULL to read it here). */
static int dir_in(const char *self_cgroup, const char *mnt, const char *ctrl, const char *path,
		  char *out, size_t size)
{
	char own[PATH_MAX] = "";
	if (path[0] != '/') {
		char *data = NULL;
		if (!self_cgroup) {
			int r = ctw_read_file("/proc/self/cgroup", &data, NULL);
			if (r)
				return r;
			self_cgroup = data;
		}
		int r = own_cgroup(self_cgroup, ctrl, own, sizeof(own));
		free(data);
		if (r)
			return r;
	}
	int n = snprintf(out, size, "%s%s%s%s", mnt, own, path[0] == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

/* mkdir -p, the leaf required to be new. */
static int mkdir_cgroup(const char *path, struct ctw_err *err)
{
	char parent[PATH_MAX];
	ctw_strlcpy(parent, path, sizeof(parent));
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		int r = ctw_mkdir_p(parent, 0755);
		if (r)
			return ctw_err_set(err, -r, "cgroup: create %s", parent);
	}
	if (mkdir(path, 0755) < 0)
		return ctw_err_set(err, errno, "cgroup: create %s", path);
	return 0;
}

int cg_set_paths(struct cg_set *c, const char *path, unsigned ctrls, struct ctw_err *err)
{
	enum cg_layout l = cg_layout();
	memset(c, 0, sizeof(*c));
	if (l == CG_LEGACY)
		return ctw_err_setx(err, ENOTSUP,
				    "cgroup: no cgroup v2 hierarchy on this host "
				    "(need unified or hybrid cgroups)");
	c->relative = path[0] != '/';
	char *self_cgroup = NULL;
	int r = ctw_read_file("/proc/self/cgroup", &self_cgroup, NULL);
	if (!r)
		r = dir_in(self_cgroup, cg_v2_mount(), "", path, c->v2, sizeof(c->v2));
	if (r) {
		free(self_cgroup);
		return ctw_err_set(err, -r, "cgroup: find own cgroup in /proc/self/cgroup");
	}
	if (l != CG_HYBRID) {
		free(self_cgroup);
		return 0;
	}
	dev_t seen[CG_NCTRL];
	for (int i = 0; i < CG_NCTRL; i++) {
		if (!(ctrls & (1u << i)))
			continue;
		char mnt[64];
		snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", cg_ctrl_name(i));
		struct stat ms;
		if (stat(mnt, &ms) < 0)
			continue;
		/* cpu and cpuacct are often one hierarchy: one dir. */
		bool dup = false;
		for (int k = 0; k < c->nv1; k++)
			if (seen[k] == ms.st_dev)
				dup = true;
		struct ctw_cg_v1 *v = &c->v1[c->nv1];
		if (dup ||
		    dir_in(self_cgroup, mnt, cg_ctrl_name(i), path, v->path, sizeof(v->path)))
			continue; /* controller not mounted for us */
		ctw_strlcpy(v->ctrl, cg_ctrl_name(i), sizeof(v->ctrl));
		seen[c->nv1++] = ms.st_dev;
	}
	free(self_cgroup);
	return 0;
}

/* The deepest existing ancestor directory of path. */
static void deepest_existing(const char *path, char *out, size_t size)
{
	ctw_strlcpy(out, path, size);
	char *slash;
	while (!ctw_path_exists(out) && (slash = strrchr(out, '/')) && slash != out)
		*slash = '\0';
}

int cg_set_create(struct cg_set *c, const struct ctw_spec_resources *res, struct ctw_err *err)
{
	int nv1 = c->nv1;
	c->nv1 = 0; /* what exists so far, for cg_set_destroy */
	/* The deepest v2 cgroup on the way that we do not own: for a relative
	 * path the caller's own cgroup, for an absolute one the deepest
	 * ancestor that existed before we made any. */
	int r = 0;
	if (cg_layout() == CG_UNIFIED && c->relative)
		r = dir_in(NULL, cg_v2_mount(), "", "", c->base, sizeof(c->base));
	else if (cg_layout() == CG_UNIFIED)
		deepest_existing(c->v2, c->base, sizeof(c->base));
	if (r)
		return ctw_err_setx(err, ENOENT, "cgroup: find own cgroup in /proc/self/cgroup");
	r = mkdir_cgroup(c->v2, err);
	if (r) {
		c->v2[0] = '\0';
		return r;
	}
	struct stat st;
	if (stat(c->v2, &st) == 0)
		c->id = st.st_ino;
	for (int i = 0; i < nv1; i++) {
		r = mkdir_cgroup(c->v1[i].path, err);
		if (r)
			goto out_destroy;
		c->nv1++;
		/* A new cpuset has no cpus or mems: its parent's, unless the
		 * container says. */
		if (!strcmp(c->v1[i].ctrl, "cpuset") && (r = cg_cpuset_inherit(c->v1[i].path, err)))
			goto out_destroy;
	}
	if (cg_layout() == CG_UNIFIED)
		cg_enable_v2(c, res);
	if (res && (r = cg_set_apply(c, res, err)))
		goto out_destroy;
	return 0;

out_destroy:
	cg_set_destroy(c, false);
	return r;
}

/* "0" into tasks moves the calling thread without the global threadgroup
 * lock that a pid written to cgroup.procs takes (an RCU grace period:
 * milliseconds, tens under load).  Callers are single threaded, so the
 * thread is the process. */
static int enter_v1_self(const struct ctw_cg_v1 *v1, int n, struct ctw_err *err)
{
	for (int i = 0; i < n; i++) {
		int r = cg_write(v1[i].path, "tasks", "0", err);
		if (r)
			return r;
	}
	return 0;
}

int cg_set_enter_self(const struct cg_set *c, struct ctw_err *err)
{
	return enter_v1_self(c->v1, c->nv1, err);
}

int cg_set_enter_pid(const struct cg_set *c, pid_t pid, struct ctw_err *err)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (int i = 0; i < c->nv1; i++) {
		int r = cg_write(c->v1[i].path, "cgroup.procs", buf, err);
		if (r)
			return r;
	}
	return 0;
}

bool cg_set_oom_killed(const struct cg_set *c)
{
	const char *mem = cg_set_v1(c, CG_C_MEMORY);
	if (mem && cg_read_key(mem, "memory.oom_control", "oom_kill"))
		return true;
	return c->v2[0] && cg_read_key(c->v2, "memory.events", "oom_kill");
}

static void kill_procs(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
	if (ctw_write_file(path, "1", 1, false) == 0)
		return;
	char *data;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (ctw_read_file(path, &data, NULL))
		return;
	for (char *save, *t = strtok_r(data, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		kill(atoi(t), SIGKILL);
	free(data);
}

/* rmdir, retrying while the last processes finish exiting. */
static int rmdir_retry(const char *dir, bool kill_left)
{
	for (int i = 0; i < 200; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		/* Without kill_left a busy cgroup is not ours to wait for. */
		if (errno != EBUSY || !kill_left)
			return -errno;
		kill_procs(dir);
		struct timespec ts = {0, i < 20 ? 1000000 : 10000000};
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

int cg_set_destroy(const struct cg_set *c, bool kill_left)
{
	int ret = 0, r;
	if (c->v2[0] && (r = rmdir_retry(c->v2, kill_left)))
		ret = r;
	for (int i = 0; i < c->nv1; i++)
		if ((r = rmdir_retry(c->v1[i].path, kill_left)))
			ret = r;
	return ret;
}

/* ---- the ctrwatch run state's cgroups (memory, cpu, cpuacct, pids) ---- */

/* v1 controllers a ctrwatch run container gets a directory in on hybrid
 * hosts: memory, cpu and pids carry limits; cpuacct is for accounting (the
 * agent reads it).  Not devices: the BPF device filter on the container's
 * v2 cgroup (devices.c) is the one gate on every layout, as on unified
 * hosts, and a v1 devices cgroup would cost ~45 syscalls per start for the
 * same rules. */
#define RUN_CTRLS CG_BASE_CTRLS

static void set_of_state(struct cg_set *c, const struct ctw_state *s)
{
	memset(c, 0, sizeof(*c));
	ctw_strlcpy(c->v2, s->cgroup, sizeof(c->v2));
	c->id = s->cgroup_id;
	for (int i = 0; i < s->nv1 && i < CTW_CG_V1_MAX; i++)
		c->v1[c->nv1++] = s->v1[i];
}

static void state_of_set(struct ctw_state *s, const struct cg_set *c)
{
	ctw_strlcpy(s->cgroup, c->v2, sizeof(s->cgroup));
	s->cgroup_id = c->id;
	s->nv1 = 0;
	for (int i = 0; i < c->nv1 && i < CTW_CG_V1_MAX; i++)
		s->v1[s->nv1++] = c->v1[i];
}

static char *run_path(const struct ctw_state *s, const char *parent)
{
	return xasprintf("%s%s%s", parent, ctw_str_has_suffix(parent, "/") ? "" : "/", s->id);
}

int cg_paths(struct ctw_state *s, const char *parent, struct ctw_err *err)
{
	struct cg_set *c = xmalloc(sizeof(*c));
	char *path = run_path(s, parent);
	int r = cg_set_paths(c, path, RUN_CTRLS, err);
	if (!r)
		state_of_set(s, c);
	else {
		s->cgroup[0] = '\0';
		s->nv1 = 0;
	}
	free(path);
	free(c);
	return r;
}

int cg_create(struct ctw_state *s, const char *parent, const struct ctw_spec_resources *res,
	      struct ctw_err *err)
{
	/* The caller may have computed (and recorded) the paths already. */
	int r = s->cgroup[0] ? 0 : cg_paths(s, parent, err);
	if (r)
		return r;
	struct cg_set *c = xmalloc(sizeof(*c));
	set_of_state(c, s);
	c->relative = parent[0] != '/';
	c->run_flags = true;
	r = cg_set_create(c, res, err);
	state_of_set(s, c);
	if (r)
		s->cgroup[0] = '\0';
	free(c);
	return r;
}

int cg_enter_self(const struct ctw_state *s, struct ctw_err *err)
{
	/* Called in the container's child, a fork of a big heap: no cg_set
	 * (45 KB) from malloc there - its first large malloc consolidated
	 * the parent's fastbins, a copy-on-write fault on every page they
	 * lie in (about half a millisecond of each start). */
	return enter_v1_self(s->v1, s->nv1 < CTW_CG_V1_MAX ? s->nv1 : CTW_CG_V1_MAX, err);
}

bool cg_oom_killed(const struct ctw_state *s)
{
	struct cg_set *c = xmalloc(sizeof(*c));
	set_of_state(c, s);
	bool r = cg_set_oom_killed(c);
	free(c);
	return r;
}

int cg_destroy(const struct ctw_state *s, bool kill_left)
{
	struct cg_set *c = xmalloc(sizeof(*c));
	set_of_state(c, s);
	int r = cg_set_destroy(c, kill_left);
	free(c);
	return r;
}
