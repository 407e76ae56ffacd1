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
#include <sys/syscall.h>
#include <sys/sysmacros.h>

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

/* Resolve path inside root without following symlinks out of it: the
 * image is not trusted.  Good enough for targets we create: reject "..",
 * and refuse symlinked components. */
static int safe_target(const char *root, const char *path, char *out, size_t size,
		       struct ctw_err *err)
{
	if (path[0] != '/')
		return ctw_err_setx(err, EINVAL, "container path `%s` is not absolute", path);
	if (strstr(path, "/../") || ctw_str_has_suffix(path, "/.."))
		return ctw_err_setx(err, EINVAL, "container path `%s` contains ..", path);
	snprintf(out, size, "%s%s", root, path);
	/* Each existing component must not be a symlink. */
	char buf[PATH_MAX];
	ctw_strlcpy(buf, out, sizeof(buf));
	for (char *p = buf + strlen(root) + 1;; p++) {
		char c = *p;
		if (c == '/' || c == '\0') {
			*p = '\0';
			struct stat st;
			if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode))
				return ctw_err_setx(err, ELOOP,
						    "container path `%s` goes through a symlink",
						    path);
			*p = c;
		}
		if (!c)
			break;
	}
	return 0;
}

static int make_target(const char *path, bool dir, struct ctw_err *err)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return 0;
	char parent[PATH_MAX];
	ctw_strlcpy(parent, path, sizeof(parent));
	char *s = strrchr(parent, '/');
	if (s && s != parent) {
		*s = '\0';
		int r = ctw_mkdir_p(parent, 0755);
		if (r)
			return ctw_err_set(err, -r, "create %s", parent);
	}
	if (dir) {
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return ctw_err_set(err, errno, "create %s", path);
	} else {
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return ctw_err_set(err, errno, "create %s", path);
		close(fd);
	}
	return 0;
}

static int setup_dev(const char *root, bool tty, struct ctw_err *err)
{
	char dev[PATH_MAX], p[PATH_MAX];
	snprintf(dev, sizeof(dev), "%s/dev", root);
	int r = make_target(dev, true, err);
	if (!r)
		r = do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME,
			     "mode=755,size=65536k", err);
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

static int bind_file(const char *root, const char *src_dir, const char *name, const char *dst,
		     struct ctw_err *err)
{
	char src[PATH_MAX], target[PATH_MAX];
	snprintf(src, sizeof(src), "%s/%s", src_dir, name);
	if (!ctw_path_exists(src))
		return 0;
	int r = safe_target(root, dst, target, sizeof(target), err);
	if (!r)
		r = make_target(target, false, err);
	if (!r)
		r = do_mount(src, target, NULL, MS_BIND, NULL, err);
	return r;
}

static int setup_volumes(const char *root, const struct rootfs_spec *r, struct ctw_err *err)
{
	for (size_t i = 0; i < r->nvolumes; i++) {
		const struct ctw_volume *v = &r->volumes[i];
		char target[PATH_MAX];
		int ret = safe_target(root, v->dst, target, sizeof(target), err);
		if (ret)
			return ret;
		if (v->tmpfs) {
			ret = make_target(target, true, err);
			if (!ret)
				ret = do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
					       v->tmpfs_opts ? v->tmpfs_opts : "mode=1777", err);
			if (ret)
				return ret;
			continue;
		}
		struct stat st;
		if (stat(v->src, &st) < 0)
			return ctw_err_set(err, errno, "volume source %s", v->src);
		ret = make_target(target, S_ISDIR(st.st_mode), err);
		if (!ret)
			ret = do_mount(v->src, target, NULL, MS_BIND | MS_REC, NULL, err);
		if (!ret && v->ro)
			ret = do_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL,
				       err);
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
	char p[PATH_MAX];

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

	snprintf(p, sizeof(p), "%s/proc", root);
	ret = make_target(p, true, err);
	if (!ret)
		ret = do_mount("proc", p, "proc", MS_DEFAULTS, NULL, err);
	if (!ret)
		ret = setup_dev(root, r->tty, err);
	if (ret)
		return ret;
	snprintf(p, sizeof(p), "%s/sys", root);
	ret = make_target(p, true, err);
	if (!ret)
		ret = do_mount("sysfs", p, "sysfs", MS_DEFAULTS | (r->privileged ? 0 : MS_RDONLY),
			       NULL, err);
	return ret;
}

int rootfs_enter(const struct rootfs_spec *r, struct ctw_err *err)
{
	const char *root = r->merged;
	int ret = setup_cgroupfs(root, r, err);
	if (ret)
		return ret;
	if (r->files_dir) {
		ret = bind_file(root, r->files_dir, "resolv.conf", "/etc/resolv.conf", err);
		if (!ret)
			ret = bind_file(root, r->files_dir, "hosts", "/etc/hosts", err);
		if (!ret)
			ret = bind_file(root, r->files_dir, "hostname", "/etc/hostname", err);
		if (ret)
			return ret;
	}
	ret = setup_volumes(root, r, err);
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
