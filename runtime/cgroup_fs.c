// SPDX-License-Identifier: Apache-2.0
/*
 * The cgroup filesystems as the rest of the runtime sees them: which layout
 * the host has (cgroup.c's header explains the three), where v2 is mounted,
 * the v1 controllers' names and directories, and reading and writing one
 * cgroup file.  A leaf: cgroup.c (create, enter, destroy) and cgroup_res.c
 * (limits) both build on it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "internal.h"

static const char *const v1_names[CG_NCTRL] = {
	[CG_C_MEMORY] = "memory",   [CG_C_CPU] = "cpu",		[CG_C_CPUACCT] = "cpuacct",
	[CG_C_PIDS] = "pids",	    [CG_C_CPUSET] = "cpuset",	[CG_C_BLKIO] = "blkio",
	[CG_C_HUGETLB] = "hugetlb", [CG_C_NET_CLS] = "net_cls", [CG_C_NET_PRIO] = "net_prio",
};

const char *cg_ctrl_name(enum cg_ctrl c)
{
	return (unsigned)c < CG_NCTRL ? v1_names[c] : "?";
}

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

int cg_write(const char *dir, const char *file, const char *val, struct ctw_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int r = ctw_write_file(path, val, strlen(val), false);
	if (r)
		return ctw_err_set(err, -r, "cgroup: write '%s' to %s", val, path);
	return 0;
}

const char *cg_set_v1(const struct cg_set *c, enum cg_ctrl ctrl)
{
	for (int i = 0; i < c->nv1; i++)
		if (!strcmp(c->v1[i].ctrl, v1_names[ctrl]))
			return c->v1[i].path;
	/* co-mounted: cpuacct lives in cpu's directory, net_prio in net_cls' */
	char mnt[64], real[PATH_MAX];
	snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", v1_names[ctrl]);
	if (!realpath(mnt, real))
		return NULL;
	for (int i = 0; i < c->nv1; i++) {
		char m2[64], r2[PATH_MAX];
		snprintf(m2, sizeof(m2), "/sys/fs/cgroup/%s", c->v1[i].ctrl);
		if (realpath(m2, r2) && !strcmp(real, r2))
			return c->v1[i].path;
	}
	return NULL;
}

unsigned long long cg_read_key(const char *dir, const char *file, const char *key)
{
	char path[PATH_MAX];
	uint64_t v = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return ctw_read_keyed_u64(path, key, &v) ? v : 0;
}
