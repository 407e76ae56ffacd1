// SPDX-License-Identifier: Apache-2.0
/*
 * Mount targets inside a container's root, for every mount a spec asks for
 * (oci_mount.c executes them, for `ctrwatch run` and the OCI commands
 * alike): resolved by the kernel inside the root, made when missing, and
 * mounted onto the very inode that was resolved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "internal.h"

/* A mount target inside the container's root (an fd of it, rootfd), never
 * resolved through the host's view of that path: the image and whatever a
 * volume shares with another container are hostile, and a target checked
 * first and mounted by its path later can be swapped for a symlink in
 * between (runc CVE-2021-30465).  The target is resolved by the kernel
 * inside the root (openat2 RESOLVE_IN_ROOT: ".." and absolute symlinks stop
 * at the root, magic links are refused), made when missing (a directory, or
 * an empty file; its parents too, each made below the fd of the one
 * before), and the mount goes onto that very inode: an O_PATH fd, through
 * /proc/self/fd/N or move_mount.  With no_symlinks (/proc, /sys, /dev: what
 * runc checks since CVE-2019-19921) no symlink is followed at all. */
static int open_at_root(int rootfd, const char *path, int flags, bool no_symlinks)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_PATH | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Make what is missing of path, one component at a time, each below the fd
 * of its parent (resolved in the root like the rest); the last one is a
 * directory when dir, else an empty file.  A dangling symlink on the way
 * (an image's /var/run -> /run without /run) has its target made instead,
 * inside the root too (at most 16 of them). */
static int make_missing_at(int rootfd, const char *path, bool dir, bool no_symlinks, int depth,
			   struct ctw_err *err)
{
	char prefix[PATH_MAX], comp[PATH_MAX];
	size_t i = 0;
	int parent = open_at_root(rootfd, "/", O_DIRECTORY, no_symlinks);
	while (parent >= 0) {
		i += strspn(path + i, "/");
		if (!path[i])
			break;
		size_t start = i;
		i += strcspn(path + i, "/");
		bool last = !path[i + strspn(path + i, "/")];
		snprintf(comp, sizeof(comp), "%.*s", (int)(i - start), path + start);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)i, path);
		if (strcmp(comp, ".")) {
			int r = !last || dir ? mkdirat(parent, comp, 0755)
					     : mknodat(parent, comp, S_IFREG | 0644, 0);
			if (r < 0 && errno != EEXIST) {
				r = errno;
				close(parent);
				return ctw_err_set(err, r, "create `%s` in the container", path);
			}
			char link[PATH_MAX];
			ssize_t n;
			if (r < 0 && depth < 16 &&
			    (n = readlinkat(parent, comp, link, sizeof(link) - 1)) > 0) {
				/* A symlink there: where it points, what is left after. */
				link[n] = '\0';
				close(parent);
				char *next = link[0] == '/' ? xasprintf("%s%s", link, path + i)
							    : xasprintf("%.*s/%s%s", (int)start,
									path, link, path + i);
				int rr = make_missing_at(rootfd, next, dir, no_symlinks, depth + 1,
							 err);
				free(next);
				return rr;
			}
		}
		if (last)
			break;
		close(parent);
		parent = open_at_root(rootfd, prefix, O_DIRECTORY, no_symlinks);
	}
	if (parent < 0)
		return ctw_err_set(err, -parent, "create `%s` in the container", path);
	close(parent);
	return 0;
}

static int make_missing(int rootfd, const char *path, bool dir, bool no_symlinks,
			struct ctw_err *err)
{
	return make_missing_at(rootfd, path, dir, no_symlinks, 0, err);
}

int root_mkdir_p(int rootfd, const char *path, struct ctw_err *err)
{
	return make_missing(rootfd, path, true, false, err);
}

int root_open_target(int rootfd, const char *path, bool dir, bool no_symlinks, struct ctw_err *err)
{
	if (path[0] != '/')
		return ctw_err_setx(err, EINVAL, "container path `%s` is not absolute", path);
	if (strstr(path, "/../") || ctw_str_has_suffix(path, "/.."))
		return ctw_err_setx(err, EINVAL, "container path `%s` contains ..", path);
	if (strlen(path) >= PATH_MAX)
		return ctw_err_setx(err, ENAMETOOLONG, "container path `%.64s...`", path);
	int fd = open_at_root(rootfd, path, 0, no_symlinks);
	/* What is made may be moved meanwhile (a volume another container
	 * shares, where a directory on the way is swapped for a symlink and
	 * back): made again, a few times.  A make that met such a move half
	 * way (ENOENT) is tried again too: each pass makes the path where it
	 * resolves at that moment, so after a pass through each of the two
	 * states it resolves in both. */
	for (int tries = 0; fd == -ENOENT && tries < 8; tries++) {
		int r = make_missing(rootfd, path, dir, no_symlinks, err);
		if (r && (r != -ENOENT || tries == 7))
			return r;
		fd = open_at_root(rootfd, path, 0, no_symlinks);
	}
	if (fd < 0) {
		if (fd == -ELOOP && no_symlinks)
			return ctw_err_setx(err, ELOOP,
					    "container path `%s` goes through a symlink: refused",
					    path);
		return ctw_err_set(err, -fd, "container path `%s`", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (dir && !S_ISDIR(st.st_mode)) || (!dir && S_ISDIR(st.st_mode))) {
		close(fd);
		return ctw_err_setx(err, dir ? ENOTDIR : EISDIR,
				    "container path `%s` is %sa directory: cannot mount %s there",
				    path, dir ? "not " : "", dir ? "a directory" : "a file");
	}
	return fd;
}

/* mount(2) onto the inode of an O_PATH fd (the magic link is followed to
 * exactly that inode, whatever its path has become). */
int root_mount_on_fd(const char *src, int fd, const char *type, unsigned long flags,
		     const char *data, const char *what, struct ctw_err *err)
{
	char p[32];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (mount(src, p, type, flags, data) < 0)
		return ctw_err_set(err, errno, "mount %s on %s", type ? type : src, what);
	return 0;
}

/* Bind mount src (with its submounts when recursive; attrs, MOUNT_ATTR_*,
 * on every mount of the copy) onto the inode of fd, with the new mount
 * API: nothing is looked up by path but the source (attrs->propagation:
 * the copy's, else it keeps the source's). */
int root_bind_on_fd(const char *src, int fd, bool recursive, const struct mount_attr *attrs,
		    const char *what, struct ctw_err *err)
{
	int tree = open_tree(AT_FDCWD, src,
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return ctw_err_set(err, errno, "bind %s on %s", src, what);
	int r = 0;
	if (attrs && (attrs->attr_set || attrs->attr_clr || attrs->propagation) &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
			  (struct mount_attr *)attrs, sizeof(*attrs)) < 0)
		r = ctw_err_set(err, errno, "set the options of %s on %s", src, what);
	if (!r &&
	    move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = ctw_err_set(err, errno, "bind %s on %s", src, what);
	close(tree);
	return r;
}
