// SPDX-License-Identifier: Apache-2.0
/* cgroup v2 basics: the id (inode) of a cgroup directory or of a process. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "containers.h"
#include "../lib/lib.h"

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

int ctw_cgroup_of_pid(const char *proc_root, int pid, char *out, size_t size)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%d/cgroup", proc_root, pid);
	_cleanup_free_ char *buf = NULL;
	int rc = ctw_read_file(p, &buf, NULL);
	if (rc < 0)
		return rc;
	for (char *save, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
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
	int rc = ctw_cgroup_of_pid("/proc", pid, rel, sizeof(rel));
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s%s", mnt, rel);
	return ctw_cgroup_id_of_path(path, id);
}
