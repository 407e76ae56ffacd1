// SPDX-License-Identifier: Apache-2.0
/*
 * cgroups for containers, behind one small ops table:
 *  - unified (v2 only): one directory holds identity and limits;
 *  - hybrid (v1 controllers + a v2 tree at /sys/fs/cgroup/unified): the
 *    container gets its own v2 directory (its inode is the id BPF sees) and
 *    one directory per v1 controller, where the limits go.
 * A parent without a leading '/' is relative to this process's own cgroup in
 * each hierarchy (read from /proc/self/cgroup).  We only ever write to
 * directories we created.
 *
 * The layout is decided by the filesystem at /sys/fs/cgroup: cgroup2 there
 * is unified (whatever v1 lines /proc/self/cgroup still lists), else cgroup2
 * at /sys/fs/cgroup/unified is hybrid, else legacy (refused: no v2 id).
 * Unified: limits need their controller in the container's
 * cgroup.controllers.  We enable memory, cpu and pids, where offered, in
 * the subtree_control of the parents that are ours: those below the
 * caller's own cgroup for a relative parent, those cg_create made for an
 * absolute one.  The caller's own cgroup (or an absolute parent that
 * existed) must delegate them itself; when it does not, a run with that
 * limit fails before it starts (125) naming the cgroup, and a run without
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

/* v1 controllers a container gets a directory in on hybrid hosts: memory,
 * cpu and pids carry limits; cpuacct is for accounting (the agent reads
 * it).  Not devices: the BPF device filter on the container's v2 cgroup
 * (devices.c) is the one gate on every layout, as on unified hosts, and a
 * v1 devices cgroup would cost ~45 syscalls per start for the same rules. */
static const char *const v1_ctrls[] = {"memory", "cpu", "cpuacct", "pids"};

static enum cg_layout layout = (enum cg_layout) - 1;
static const char *v2_mount;

static bool is_cgroup2(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

enum cg_layout cg_layout(void)
{
	if ((int)layout >= 0)
		return layout;
	if (is_cgroup2("/sys/fs/cgroup")) {
		layout = CG_UNIFIED;
		v2_mount = "/sys/fs/cgroup";
	} else if (is_cgroup2("/sys/fs/cgroup/unified")) {
		layout = CG_HYBRID;
		v2_mount = "/sys/fs/cgroup/unified";
	} else {
		layout = CG_LEGACY;
		v2_mount = NULL;
	}
	return layout;
}

const char *cg_v2_mount(void)
{
	cg_layout();
	return v2_mount;
}

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

/* The directory of parent in the hierarchy mounted at mnt: below our own
 * cgroup there when relative (self_cgroup: /proc/self/cgroup, read once by
 * the caller, NULL to read it here). */
static int parent_dir(const char *self_cgroup, const char *mnt, const char *ctrl,
		      const char *parent, char *out, size_t size)
{
	char own[PATH_MAX] = "";
	if (parent[0] != '/') {
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
	int n = snprintf(out, size, "%s%s%s%s", mnt, own, parent[0] == '/' ? "" : "/", parent);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

static int write_knob(const char *dir, const char *file, const char *val, struct ctw_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int r = ctw_write_file(path, val, strlen(val), false);
	if (r)
		return ctw_err_set(err, -r, "cgroup: write '%s' to %s", val, path);
	return 0;
}

/* mkdir -p, remembering whether the leaf had to be made. */
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

static int apply_v1_limits(const struct ctw_state *s, const struct cg_limits *lim,
			   struct ctw_err *err)
{
	char buf[64];
	for (int i = 0; i < s->nv1; i++) {
		const char *d = s->v1[i].path, *c = s->v1[i].ctrl;
		int r = 0;
		if (!strcmp(c, "memory") && lim->memory) {
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->memory);
			r = write_knob(d, "memory.limit_in_bytes", buf, err);
			/* No swap beyond the limit, so that the limit means OOM. */
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/memory.memsw.limit_in_bytes", d);
			if (!r && ctw_path_exists(p))
				r = write_knob(d, "memory.memsw.limit_in_bytes", buf, err);
		} else if (!strcmp(c, "cpu") && lim->cpus_milli) {
			r = write_knob(d, "cpu.cfs_period_us", "100000", err);
			snprintf(buf, sizeof(buf), "%llu",
				 (unsigned long long)(lim->cpus_milli * 100));
			if (!r)
				r = write_knob(d, "cpu.cfs_quota_us", buf, err);
		} else if (!strcmp(c, "pids") && lim->pids) {
			snprintf(buf, sizeof(buf), "%lld", (long long)lim->pids);
			r = write_knob(d, "pids.max", buf, err);
		}
		if (r)
			return r;
	}
	return 0;
}

/* Is the word w in the space-separated list? ("cpu" is not "cpuset") */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/*
 * The deepest v2 cgroup on the way to dir that ctrwatch does not own: for a
 * relative parent the caller's own cgroup (what lies below it on a relative
 * path is ctrwatch's), for an absolute one the deepest ancestor that existed
 * before cg_create made its directories (existed).
 */
static int v2_owned_base(const char *parent, const char *existed, char *out, size_t size)
{
	if (parent[0] != '/')
		return parent_dir(NULL, v2_mount, "", "", out, size);
	ctw_strlcpy(out, existed, size);
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

/*
 * Enable memory, cpu and pids (those a limit may need) in every
 * cgroup.subtree_control from below base down to the container's parent,
 * where the cgroup has them to give: only in cgroups that are ours (base
 * itself is not).  Always, not only for a run with limits, so that a later
 * run's limits find them in a parent made by an earlier run.  Failures are
 * left for the check of the container's cgroup.controllers to report.
 */
static void enable_v2_ctrls(const char *base, const char *cg)
{
	static const char *const ctrls[] = {"memory", "cpu", "pids"};
	char dir[PATH_MAX], path[PATH_MAX], have[256], on[256];
	size_t bl = strlen(base);
	if (strncmp(cg, base, bl) || cg[bl] != '/')
		return;
	for (const char *p = strchr(cg + bl + 1, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(p - cg), cg);
		snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
		have[0] = on[0] = '\0';
		ctw_read_line(path, have, sizeof(have));
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
		ctw_read_line(path, on, sizeof(on));
		for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
			if (!has_word(have, ctrls[i]) || has_word(on, ctrls[i]))
				continue;
			char buf[32];
			snprintf(buf, sizeof(buf), "+%s", ctrls[i]);
			write_knob(dir, "cgroup.subtree_control", buf, NULL);
		}
	}
}

static int apply_v2_limits(const struct ctw_state *s, const char *base, const struct cg_limits *lim,
			   struct ctw_err *err)
{
	const char *need[3];
	const char *opt[3];
	int n = 0;
	if (lim->memory)
		opt[n] = "--memory", need[n++] = "memory";
	if (lim->cpus_milli)
		opt[n] = "--cpus", need[n++] = "cpu";
	if (lim->pids)
		opt[n] = "--pids-limit", need[n++] = "pids";
	if (!n)
		return 0;
	char path[PATH_MAX], ctrls[256] = "";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", s->cgroup);
	ctw_read_line(path, ctrls, sizeof(ctrls));
	for (int i = 0; i < n; i++) {
		if (has_word(ctrls, need[i]))
			continue;
		/* Name the cgroup that would have to delegate it. */
		char bctl[256] = "";
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
		ctw_read_line(path, bctl, sizeof(bctl));
		if (!has_word(bctl, need[i]))
			return ctw_err_setx(
				err, EOPNOTSUPP,
				"cgroup: %s needs the %s controller, which %s does "
				"not enable for its children (cgroup.subtree_control: "
				"\"%s\"; ctrwatch does not write to cgroups it did not "
				"create: use an absolute --cgroup-parent below one that does)",
				opt[i], need[i], base, bctl);
		return ctw_err_setx(err, EOPNOTSUPP,
				    "cgroup: %s needs the %s controller, which could not be "
				    "enabled below %s (available: \"%s\")",
				    opt[i], need[i], base, ctrls);
	}
	char buf[64];
	int r = 0;
	if (lim->memory) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->memory);
		r = write_knob(s->cgroup, "memory.max", buf, err);
		snprintf(path, sizeof(path), "%s/memory.swap.max", s->cgroup);
		if (!r && ctw_path_exists(path))
			r = write_knob(s->cgroup, "memory.swap.max", "0", err);
	}
	if (!r && lim->cpus_milli) {
		snprintf(buf, sizeof(buf), "%llu 100000",
			 (unsigned long long)(lim->cpus_milli * 100));
		r = write_knob(s->cgroup, "cpu.max", buf, err);
	}
	if (!r && lim->pids) {
		snprintf(buf, sizeof(buf), "%lld", (long long)lim->pids);
		r = write_knob(s->cgroup, "pids.max", buf, err);
	}
	return r;
}

int cg_paths(struct ctw_state *s, const char *parent, struct ctw_err *err)
{
	enum cg_layout l = cg_layout();
	char dir[PATH_MAX];
	int r;

	s->nv1 = 0;
	s->cgroup[0] = '\0';
	if (l == CG_LEGACY)
		return ctw_err_setx(err, ENOTSUP,
				    "cgroup: no cgroup v2 hierarchy on this host "
				    "(need unified or hybrid cgroups)");
	char *self_cgroup = NULL;
	r = ctw_read_file("/proc/self/cgroup", &self_cgroup, NULL);
	if (!r)
		r = parent_dir(self_cgroup, v2_mount, "", parent, dir, sizeof(dir));
	if (r) {
		free(self_cgroup);
		return ctw_err_set(err, -r, "cgroup: find own cgroup in /proc/self/cgroup");
	}
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s/%s", dir, s->id);
	ctw_strlcpy(s->cgroup, full, sizeof(s->cgroup));
	if (l != CG_HYBRID) {
		free(self_cgroup);
		return 0;
	}
	dev_t seen[CTW_CG_V1_MAX];
	for (size_t i = 0; i < ARRAY_SIZE(v1_ctrls) && s->nv1 < CTW_CG_V1_MAX; i++) {
		char mnt[64];
		snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", v1_ctrls[i]);
		struct stat ms;
		if (stat(mnt, &ms) < 0)
			continue;
		/* cpu and cpuacct are often one hierarchy: one dir. */
		bool dup = false;
		for (int k = 0; k < s->nv1; k++)
			if (seen[k] == ms.st_dev)
				dup = true;
		if (dup || parent_dir(self_cgroup, mnt, v1_ctrls[i], parent, dir, sizeof(dir)))
			continue; /* controller not mounted for us */
		struct ctw_cg_v1 *v = &s->v1[s->nv1];
		ctw_strlcpy(v->ctrl, v1_ctrls[i], sizeof(v->ctrl));
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", dir, s->id);
		ctw_strlcpy(v->path, full, sizeof(v->path));
		seen[s->nv1++] = ms.st_dev;
	}
	free(self_cgroup);
	return 0;
}

int cg_create(struct ctw_state *s, const char *parent, const struct cg_limits *lim,
	      struct ctw_err *err)
{
	/* The caller may have computed (and recorded) the paths already. */
	int r = s->cgroup[0] ? 0 : cg_paths(s, parent, err);
	if (r)
		return r;
	int nv1 = s->nv1;
	s->nv1 = 0; /* what exists so far, for cg_destroy */
	char existed[PATH_MAX], base[PATH_MAX];
	deepest_existing(s->cgroup, existed, sizeof(existed));
	r = mkdir_cgroup(s->cgroup, err);
	if (r) {
		s->cgroup[0] = '\0';
		return r;
	}
	struct stat st;
	if (stat(s->cgroup, &st) == 0)
		s->cgroup_id = st.st_ino;
	for (int i = 0; i < nv1; i++) {
		r = mkdir_cgroup(s->v1[i].path, err);
		if (r)
			goto out_destroy;
		s->nv1++;
	}
	if (cg_layout() == CG_HYBRID)
		r = apply_v1_limits(s, lim, err);
	else if (v2_owned_base(parent, existed, base, sizeof(base)))
		r = ctw_err_setx(err, ENOENT, "cgroup: find own cgroup in /proc/self/cgroup");
	else {
		enable_v2_ctrls(base, s->cgroup);
		r = apply_v2_limits(s, base, lim, err);
	}
	if (r)
		goto out_destroy;
	return 0;

out_destroy:
	cg_destroy(s, false);
	return r;
}

int cg_enter_self(const struct ctw_state *s, struct ctw_err *err)
{
	/* "0" into tasks moves the calling thread without the global
	 * threadgroup lock that a pid written to cgroup.procs takes (an RCU
	 * grace period: milliseconds, tens under load).  We are single
	 * threaded, so the thread is the process. */
	for (int i = 0; i < s->nv1; i++) {
		int r = write_knob(s->v1[i].path, "tasks", "0", err);
		if (r)
			return r;
	}
	return 0;
}

bool cg_oom_killed(const struct ctw_state *s)
{
	char path[PATH_MAX];
	uint64_t v;
	for (int i = 0; i < s->nv1; i++) {
		if (strcmp(s->v1[i].ctrl, "memory"))
			continue;
		snprintf(path, sizeof(path), "%s/memory.oom_control", s->v1[i].path);
		if (ctw_read_keyed_u64(path, "oom_kill", &v) && v)
			return true;
	}
	if (s->cgroup[0]) {
		snprintf(path, sizeof(path), "%s/memory.events", s->cgroup);
		if (ctw_read_keyed_u64(path, "oom_kill", &v) && v)
			return true;
	}
	return false;
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

int cg_destroy(const struct ctw_state *s, bool kill_left)
{
	int ret = 0, r;
	if (s->cgroup[0] && (r = rmdir_retry(s->cgroup, kill_left)))
		ret = r;
	for (int i = 0; i < s->nv1; i++)
		if ((r = rmdir_retry(s->v1[i].path, kill_left)))
			ret = r;
	return ret;
}
