// SPDX-License-Identifier: Apache-2.0
/*
 * The one walker of a cgroup subtree (the registry's descendants, `trace`
 * and `tcplife` following a container): directories opened relative to
 * their parent's fd (no path re-resolved), depth-bounded, never leaving the
 * filesystem it started in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"
#include "../lib/lib.h"

struct walk {
	ctw_cgroup_cb cb;
	void *ctx;
	dev_t dev;
	int n;
	char path[PATH_MAX * 2];
};

/* dfd is the directory at w->path (len bytes); taken over. */
static int walk_dir(struct walk *w, int dfd, size_t len, int depth)
{
	struct stat st;
	if (fstat(dfd, &st) < 0 || st.st_dev != w->dev) {
		close(dfd);
		return 0;
	}
	int rc = w->cb(w->ctx, st.st_ino, w->path, depth);
	w->n++;
	if (rc != 0 || depth >= CTW_CGROUP_WALK_DEPTH) {
		close(dfd);
		return rc < 0 ? rc : 0;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		size_t nl = strlen(de->d_name);
		if (len + 1 + nl >= sizeof(w->path))
			continue;
		int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;
		w->path[len] = '/';
		memcpy(w->path + len + 1, de->d_name, nl + 1);
		rc = walk_dir(w, cfd, len + 1 + nl, depth + 1);
		w->path[len] = '\0';
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc < 0 ? rc : 0;
}

int ctw_cgroup_walk_fd(int dfd, const char *path, ctw_cgroup_cb cb, void *ctx)
{
	struct walk w = {.cb = cb, .ctx = ctx};
	struct stat st;
	if (fstat(dfd, &st) < 0) {
		int err = errno;
		close(dfd);
		return -err;
	}
	w.dev = st.st_dev;
	ctw_strlcpy(w.path, path, sizeof(w.path));
	int rc = walk_dir(&w, dfd, strlen(w.path), 0);
	return rc < 0 ? rc : w.n;
}

int ctw_cgroup_walk(const char *path, ctw_cgroup_cb cb, void *ctx)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return ctw_cgroup_walk_fd(dfd, path, cb, ctx);
}
