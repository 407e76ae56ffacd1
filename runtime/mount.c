// SPDX-License-Identifier: Apache-2.0
/*
 * The container's root, built in the child's new mount namespace (so every
 * mount disappears with the container, even after SIGKILL): overlay of the
 * image layers, fresh /proc, a minimal /dev on tmpfs, read-only /sys and
 * /sys/fs/cgroup, volumes, then pivot_root and the paths runc masks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "internal.h"

#define MS_DEFAULTS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		    const char *data, struct ctw_err *err)
{
	if (mount(src, dst, type, flags, data) < 0)
		return ctw_err_set(err, errno, "mount %s on %s",
				   type	 ? type
				   : src ? src
					 : "(remount)",
				   dst);
	return 0;
}

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

static int open_target(int rootfd, const char *path, bool dir, bool no_symlinks,
		       struct ctw_err *err)
{
	if (path[0] != '/')
		return ctw_err_setx(err, EINVAL, "container path `%s` is not absolute", path);
	if (strstr(path, "/../") || ctw_str_has_suffix(path, "/.."))
		return ctw_err_setx(err, EINVAL, "container path `%s` contains ..", path);
	if (strlen(path) >= PATH_MAX)
		return ctw_err_setx(err, ENAMETOOLONG, "container path `%.64s...`", path);
	int fd = open_at_root(rootfd, path, 0, no_symlinks);
	/* What is made may be moved meanwhile (a volume another container
	 * shares): made again, a few times. */
	for (int tries = 0; fd == -ENOENT && tries < 4; tries++) {
		int r = make_missing(rootfd, path, dir, no_symlinks, err);
		if (r)
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
static int mount_on_fd(const char *src, int fd, const char *type, unsigned long flags,
		       const char *data, const char *what, struct ctw_err *err)
{
	char p[32];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (mount(src, p, type, flags, data) < 0)
		return ctw_err_set(err, errno, "mount %s on %s", type ? type : src, what);
	return 0;
}

/* Bind mount src (recursively; read-only, submounts too, when ro) onto the
 * inode of fd, with the new mount API: nothing is looked up by path but
 * the source. */
static int bind_on_fd(const char *src, int fd, bool ro, const char *what, struct ctw_err *err)
{
	int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return ctw_err_set(err, errno, "bind %s on %s", src, what);
	int r = 0;
	struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
	if (ro && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		r = ctw_err_set(err, errno, "make %s read-only on %s", src, what);
	if (!r &&
	    move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = ctw_err_set(err, errno, "bind %s on %s", src, what);
	close(tree);
	return r;
}

/* A target of ours made in our own fresh mount (/dev's tmpfs): by path. */
static int make_target(const char *path, bool dir, struct ctw_err *err)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return 0;
	if (dir) {
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return ctw_err_set(err, errno, "create %s", path);
	} else {
		int fd = open(path, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return ctw_err_set(err, errno, "create %s", path);
		close(fd);
	}
	return 0;
}

/* /dev: our own tmpfs on the image's /dev (a real directory), so that what
 * follows is made by path below a mount of ours. */
static int setup_dev(const char *root, int rootfd, bool tty, struct ctw_err *err)
{
	char dev[PATH_MAX], p[PATH_MAX];
	snprintf(dev, sizeof(dev), "%s/dev", root);
	int fd = open_target(rootfd, "/dev", true, true, err);
	if (fd < 0)
		return fd;
	int r = mount_on_fd("tmpfs", fd, "tmpfs", MS_NOSUID | MS_STRICTATIME,
			    "mode=755,size=65536k", "/dev", err);
	close(fd);
	if (r)
		return r;
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {
		{"null", 1, 3},	  {"zero", 1, 5},    {"full", 1, 7},
		{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	};
	mode_t old = umask(0);
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		snprintf(p, sizeof(p), "%s/%s", dev, nodes[i].name);
		if (mknod(p, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0) {
			umask(old);
			return ctw_err_set(err, errno, "mknod %s", p);
		}
	}
	umask(old);
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},	       {"/proc/kcore", "core"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(p, sizeof(p), "%s/%s", dev, links[i][1]);
		if (symlink(links[i][0], p) < 0)
			return ctw_err_set(err, errno, "symlink %s", p);
	}
	snprintf(p, sizeof(p), "%s/pts", dev);
	if (mkdir(p, 0755) < 0)
		return ctw_err_set(err, errno, "mkdir %s", p);
	r = do_mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", err);
	if (r)
		return r;
	snprintf(p, sizeof(p), "%s/shm", dev);
	if (mkdir(p, 01777) < 0)
		return ctw_err_set(err, errno, "mkdir %s", p);
	r = do_mount("shm", p, "tmpfs", MS_DEFAULTS, "mode=1777,size=65536k", err);
	if (r)
		return r;
	snprintf(p, sizeof(p), "%s/mqueue", dev);
	if (mkdir(p, 0755) < 0)
		return ctw_err_set(err, errno, "mkdir %s", p);
	r = do_mount("mqueue", p, "mqueue", MS_DEFAULTS, NULL, err);
	if (r)
		return r;
	if (tty) {
		snprintf(p, sizeof(p), "%s/console", dev);
		r = make_target(p, false, err);
	}
	return r;
}

static int setup_cgroupfs(const char *root, const struct rootfs_spec *r, struct ctw_err *err)
{
	char p[PATH_MAX];
	unsigned long ro = r->privileged ? 0 : MS_RDONLY;
	snprintf(p, sizeof(p), "%s/sys/fs/cgroup", root);
	if (r->layout == CG_UNIFIED)
		return do_mount("cgroup2", p, "cgroup2", MS_DEFAULTS | ro, NULL, err);
	/* Hybrid: a tmpfs holding the v1 controllers we use and the v2 tree,
	 * each showing the container's own cgroup (cgroup namespace). */
	int ret = do_mount("tmpfs", p, "tmpfs", MS_DEFAULTS, "mode=755,size=64k", err);
	if (ret)
		return ret;
	static const char *const ctrls[] = {"memory", "cpu", "cpuacct", "pids"};
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
		char d[PATH_MAX];
		snprintf(d, sizeof(d), "%s/%s", p, ctrls[i]);
		if (mkdir(d, 0755) < 0)
			return ctw_err_set(err, errno, "mkdir %s", d);
		/* Best effort: a controller co-mounted with another one
		 * cannot be mounted alone. */
		mount("cgroup", d, "cgroup", MS_DEFAULTS | ro, ctrls[i]);
	}
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s/unified", p);
	if (mkdir(d, 0755) < 0)
		return ctw_err_set(err, errno, "mkdir %s", d);
	ret = do_mount("cgroup2", d, "cgroup2", MS_DEFAULTS | ro, NULL, err);
	if (!ret && ro)
		ret = do_mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_DEFAULTS, NULL,
			       err);
	return ret;
}

/* One of our files (resolv.conf, hosts, hostname) bound on its path in the
 * image: never onto /proc or /sys, whatever the image's symlinks say. */
static int bind_file(int rootfd, const char *src_dir, const char *name, const char *dst,
		     struct ctw_err *err)
{
	char src[PATH_MAX];
	snprintf(src, sizeof(src), "%s/%s", src_dir, name);
	if (!ctw_path_exists(src))
		return 0;
	int fd = open_target(rootfd, dst, false, false, err);
	if (fd < 0)
		return fd;
	struct statfs sf;
	int r = 0;
	if (fstatfs(fd, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC)
		r = ctw_err_setx(err, EPERM,
				 "container path `%s` leads into /proc or /sys: refused", dst);
	if (!r)
		r = mount_on_fd(src, fd, NULL, MS_BIND, NULL, dst, err);
	close(fd);
	return r;
}

static int setup_volumes(int rootfd, const struct rootfs_spec *r, struct ctw_err *err)
{
	for (size_t i = 0; i < r->nvolumes; i++) {
		const struct ctw_volume *v = &r->volumes[i];
		bool dir = true;
		if (!v->tmpfs) {
			struct stat st;
			if (stat(v->src, &st) < 0)
				return ctw_err_set(err, errno, "volume source %s", v->src);
			dir = S_ISDIR(st.st_mode);
		}
		int fd = open_target(rootfd, v->dst, dir, false, err);
		if (fd < 0)
			return fd;
		int ret = v->tmpfs ? mount_on_fd("tmpfs", fd, "tmpfs", MS_NOSUID | MS_NODEV,
						 v->tmpfs_opts ? v->tmpfs_opts : "mode=1777",
						 v->dst, err)
				   : bind_on_fd(v->src, fd, v->ro, v->dst, err);
		close(fd);
		if (ret)
			return ret;
	}
	return 0;
}

/* runc's and Docker's masked and read-only paths. */
static const char *const masked_paths[] = {
	"/proc/acpi",	     "/proc/asound",	    "/proc/kcore",
	"/proc/keys",	     "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
	"/proc/interrupts",  "/sys/firmware",	    "/sys/devices/virtual/powercap",
};
static const char *const ro_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int mask_paths(struct ctw_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++) {
		const char *p = masked_paths[i];
		struct stat st;
		if (stat(p, &st) < 0)
			continue;
		int r;
		if (S_ISDIR(st.st_mode))
			r = do_mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0", err);
		else
			r = do_mount("/dev/null", p, NULL, MS_BIND, NULL, err);
		if (r)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ro_paths); i++) {
		const char *p = ro_paths[i];
		if (!ctw_path_exists(p))
			continue;
		int r = do_mount(p, p, NULL, MS_BIND | MS_REC, NULL, err);
		if (!r)
			r = do_mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL,
				     err);
		if (r)
			return r;
	}
	return 0;
}

static int enter_root(const char *root, struct ctw_err *err)
{
	if (chdir(root) < 0)
		return ctw_err_set(err, errno, "chdir %s", root);
	/* pivot_root(".", "."): the old root ends up stacked on the new one
	 * and is lazily detached, no put_old directory needed. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ctw_err_set(err, errno, "pivot_root %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return ctw_err_set(err, errno, "detach old root");
	if (chdir("/") < 0)
		return ctw_err_set(err, errno, "chdir /");
	return 0;
}

int rootfs_prepare(const struct rootfs_spec *r, struct ctw_err *err)
{
	const char *root = r->merged;
	int ret;

	/* Nothing we mount propagates back to the host. */
	ret = do_mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL, err);
	if (ret)
		return ret;
	/* An overlay syncs its whole upper filesystem when it goes (syncfs
	 * and a disk cache flush at the container's exit, 0.5 ms here and far
	 * more on a busy host).  Nobody reads an upper layer that is removed
	 * at exit, so such a one is mounted `volatile` (as Podman does for
	 * --rm): no sync at all. */
	char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", r->lowerdirs, r->upper,
			       r->work, r->volatile_upper ? ",volatile" : "");
	ret = do_mount("overlay", root, "overlay", 0, opts, err);
	free(opts);
	if (ret)
		return ctw_err_prefix(err, "root filesystem");

	/* Every target below is resolved inside the new root (open_target). */
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ctw_err_set(err, errno, "open %s", root);
	int fd = open_target(rootfd, "/proc", true, true, err);
	ret = fd < 0 ? fd : mount_on_fd("proc", fd, "proc", MS_DEFAULTS, NULL, "/proc", err);
	if (fd >= 0)
		close(fd);
	if (!ret)
		ret = setup_dev(root, rootfd, r->tty, err);
	if (!ret) {
		fd = open_target(rootfd, "/sys", true, true, err);
		ret = fd < 0 ? fd
			     : mount_on_fd("sysfs", fd, "sysfs",
					   MS_DEFAULTS | (r->privileged ? 0 : MS_RDONLY), NULL,
					   "/sys", err);
		if (fd >= 0)
			close(fd);
	}
	close(rootfd);
	return ret;
}

int rootfs_enter(const struct rootfs_spec *r, struct ctw_err *err)
{
	const char *root = r->merged;
	int ret = setup_cgroupfs(root, r, err);
	if (ret)
		return ret;
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ctw_err_set(err, errno, "open %s", root);
	if (r->files_dir) {
		ret = bind_file(rootfd, r->files_dir, "resolv.conf", "/etc/resolv.conf", err);
		if (!ret)
			ret = bind_file(rootfd, r->files_dir, "hosts", "/etc/hosts", err);
		if (!ret)
			ret = bind_file(rootfd, r->files_dir, "hostname", "/etc/hostname", err);
	}
	if (!ret)
		ret = setup_volumes(rootfd, r, err);
	close(rootfd);
	if (ret)
		return ret;
	ret = enter_root(root, err);
	if (ret)
		return ret;
	if (!r->privileged) {
		ret = mask_paths(err);
		if (ret)
			return ret;
	}
	if (r->read_only) {
		ret = do_mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL, err);
		if (ret)
			return ret;
	}
	return 0;
}
