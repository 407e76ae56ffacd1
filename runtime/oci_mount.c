// SPDX-License-Identifier: Apache-2.0
/*
 * A spec's root filesystem, built by the container's init in its new mount
 * namespace (every mount goes with the namespace, also after SIGKILL):
 * propagation, the root (the bundle's directory bound on itself, or
 * ctrwatch run's overlay), the spec's mounts in order, the default /dev
 * nodes when /dev is the container's own tmpfs, then, after pivot_root,
 * masked and read-only paths and a read-only root.
 *
 * The image and the bundle are not trusted: every mount target is
 * resolved inside the root by the kernel (openat2 RESOLVE_IN_ROOT), made
 * there with mkdirat/openat on the fd of its parent, and mounted through
 * /proc/self/fd/N of an O_PATH fd of it, so a symlink in the root cannot
 * send a mount outside of it (runc CVE-2021-30465).
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

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{"async", true, MS_SYNCHRONOUS},
	{"atime", true, MS_NOATIME},
	{"bind", false, MS_BIND},
	{"defaults", false, 0},
	{"dev", true, MS_NODEV},
	{"diratime", true, MS_NODIRATIME},
	{"dirsync", false, MS_DIRSYNC},
	{"exec", true, MS_NOEXEC},
	{"iversion", false, MS_I_VERSION},
	{"lazytime", false, MS_LAZYTIME},
	{"loud", true, MS_SILENT},
	{"mand", false, MS_MANDLOCK},
	{"noatime", false, MS_NOATIME},
	{"nodev", false, MS_NODEV},
	{"nodiratime", false, MS_NODIRATIME},
	{"noexec", false, MS_NOEXEC},
	{"noiversion", true, MS_I_VERSION},
	{"nolazytime", true, MS_LAZYTIME},
	{"nomand", true, MS_MANDLOCK},
	{"norelatime", true, MS_RELATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"nosuid", false, MS_NOSUID},
	{"nosymfollow", false, MS_NOSYMFOLLOW},
	{"rbind", false, MS_BIND | MS_REC},
	{"relatime", false, MS_RELATIME},
	{"remount", false, MS_REMOUNT},
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"silent", false, MS_SILENT},
	{"strictatime", false, MS_STRICTATIME},
	{"suid", true, MS_NOSUID},
	{"sync", false, MS_SYNCHRONOUS},
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation[] = {
	{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
	{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
	{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
	{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct mopts {
	unsigned long flags; /* for mount(2) */
	unsigned long prop;  /* propagation, applied after */
	char data[1024];     /* the rest, for the filesystem */
	bool tmpcopyup;
};

static int parse_options(char *const *options, struct mopts *o, struct ctw_err *err)
{
	memset(o, 0, sizeof(*o));
	size_t dl = 0;
	for (char *const *p = options; p && *p; p++) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(mount_flags) && !known; i++) {
			if (strcmp(*p, mount_flags[i].name))
				continue;
			known = true;
			if (mount_flags[i].clear)
				o->flags &= ~mount_flags[i].flag;
			else
				o->flags |= mount_flags[i].flag;
		}
		for (size_t i = 0; i < ARRAY_SIZE(propagation) && !known; i++) {
			if (!strcmp(*p, propagation[i].name)) {
				known = true;
				o->prop = propagation[i].flag;
			}
		}
		if (known)
			continue;
		if (!strcmp(*p, "tmpcopyup")) {
			o->tmpcopyup = true;
			continue;
		}
		/* the filesystem's own options: data */
		int n = snprintf(o->data + dl, sizeof(o->data) - dl, "%s%s", dl ? "," : "", *p);
		if (n < 0 || (size_t)n >= sizeof(o->data) - dl)
			return ctw_err_setx(err, E2BIG, "mount options too long");
		dl += (size_t)n;
	}
	return 0;
}

/* ---- paths inside the root ---- */

static int open_in(int rootfd, const char *path, int flags, struct ctw_err *err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;
	while (*rel == '/')
		rel++;
	int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return ctw_err_set(err, errno, "open %s in the container", path);
	return fd;
}

static int mount_at(const char *src, int target, const char *dest, const char *type,
		    unsigned long flags, const char *data, struct ctw_err *err)
{
	char at[64];
	snprintf(at, sizeof(at), "/proc/self/fd/%d", target);
	if (mount(src, at, type, flags, data && *data ? data : NULL) < 0)
		return ctw_err_set(err, errno, "mount %s on %s",
				   type	 ? type
				   : src ? src
					 : "(remount)",
				   dest);
	return 0;
}

/* ---- the spec's mounts ---- */

static bool is_bind(const struct ctw_spec_mount *m, const struct mopts *o)
{
	return (o->flags & MS_BIND) || (m->type && !strcmp(m->type, "bind"));
}

/* ---- /sys/fs/cgroup on hybrid hosts ---- */

/* Does the comma-separated list hold word? */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

int oci_cg_plan(struct oci_cg_plan *p, const struct ctw_cg_v1 *v1, int nv1, struct ctw_err *err)
{
	memset(p, 0, sizeof(*p));
	if (cg_layout() == CG_UNIFIED)
		return 0;
	char *info = NULL;
	int r = ctw_read_file("/proc/self/mountinfo", &info, NULL);
	if (r)
		return ctw_err_set(err, -r, "read /proc/self/mountinfo");
	for (char *save, *l = strtok_r(info, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		/* "ID PARENT M:N ROOT MOUNTPOINT OPTS ... - TYPE SOURCE SUPEROPTS" */
		char mp[256], fstype[32], super[256];
		char *dash = strstr(l, " - ");
		if (!dash || sscanf(l, "%*s %*s %*s %*s %255s", mp) != 1 ||
		    sscanf(dash + 3, "%31s %*s %255s", fstype, super) != 2)
			continue;
		if (!ctw_str_has_prefix(mp, "/sys/fs/cgroup/") || strchr(mp + 15, '/') ||
		    p->n == ARRAY_SIZE(p->m))
			continue;
		const char *data = NULL;
		if (!strcmp(fstype, "cgroup")) {
			/* the controllers: superopts without rw/ro and the like */
			data = strchr(super, ',') ? strchr(super, ',') + 1 : super;
			/* Only a hierarchy the container has a cgroup of its own
			 * in: in another its cgroup namespace's root would be our
			 * cgroup, with whatever else runs below it. */
			bool joined = false;
			for (int i = 0; i < nv1 && !joined; i++)
				joined = list_has(data, v1[i].ctrl);
			if (!joined)
				continue;
		} else if (strcmp(fstype, "cgroup2")) {
			continue;
		}
		ctw_strlcpy(p->m[p->n].name, mp + 15, sizeof(p->m[0].name));
		ctw_strlcpy(p->m[p->n].type, fstype, sizeof(p->m[0].type));
		ctw_strlcpy(p->m[p->n].data, data ? data : "", sizeof(p->m[0].data));
		p->n++;
	}
	free(info);
	/* the host's symlinks (cpu -> cpu,cpuacct) to what is shown */
	static const char *const links[] = {"cpu", "cpuacct", "net_cls", "net_prio"};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		char host[64], to[sizeof(p->m[0].name)];
		snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", links[i]);
		ssize_t n = readlink(host, to, sizeof(to) - 1);
		if (n <= 0)
			continue;
		to[n] = '\0';
		for (size_t j = 0; j < p->n; j++)
			if (!strcmp(p->m[j].name, to)) {
				ctw_strlcpy(p->link[p->nlinks].name, links[i],
					    sizeof(p->link[0].name));
				ctw_strlcpy(p->link[p->nlinks].to, to, sizeof(p->link[0].to));
				p->nlinks++;
				break;
			}
	}
	return 0;
}

/* ctrwatch's cgroup mount on hybrid hosts: a tmpfs holding the planned v1
 * hierarchies and the v2 tree, each showing the container's own cgroup
 * (cgroup namespace); read-only unless the spec says rw. */
static int mount_cgroup_hybrid(int rootfd, int target, const char *dest, unsigned long flags,
			       const struct oci_cg_plan *plan, struct ctw_err *err)
{
	unsigned long ro = flags & MS_RDONLY;
	unsigned long base = flags & ~(MS_RDONLY | MS_BIND | MS_REC | MS_REMOUNT);
	int r = mount_at("tmpfs", target, dest, "tmpfs", base, "mode=755,size=64k", err);
	if (r)
		return r;
	/* The tmpfs now: a walk crosses the mount, the old fd does not. */
	int dir = open_in(rootfd, dest, O_RDONLY | O_DIRECTORY, err);
	if (dir < 0)
		return dir;
	for (size_t i = 0; plan && i < plan->n; i++) {
		const char *name = plan->m[i].name, *type = plan->m[i].type;
		if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "/proc/self/fd/%d/%s", dir, name);
		/* Best effort: a hierarchy our cgroup namespace cannot show. */
		if (mount(type, sub, type, base | ro, plan->m[i].data[0] ? plan->m[i].data : NULL) <
		    0)
			pr_debug("mount cgroup %s in the container: %s", name, strerror(errno));
	}
	for (size_t i = 0; plan && i < plan->nlinks; i++)
		if (symlinkat(plan->link[i].to, dir, plan->link[i].name) < 0 && errno != EEXIST)
			pr_debug("symlink %s: %s", plan->link[i].name, strerror(errno));
	if (!r && ro)
		r = mount_at(NULL, dir, dest, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | base, NULL,
			     err);
	close(dir);
	return r;
}

/* Is path dir or below it? */
static bool path_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The kernel's filesystems: a mount there never goes through a symlink
 * (runc checks /proc and /sys since CVE-2019-19921; /dev is ours). */
static bool in_kernel_dir(const char *dest)
{
	return path_below(dest, "/proc") || path_below(dest, "/sys") || path_below(dest, "/dev");
}

/* A bind's flags and propagation as mount_setattr attributes of the
 * detached copy: set before it is attached, nothing is looked up again by
 * a path that may have changed meanwhile. */
static void bind_attrs(unsigned long f, unsigned long prop, struct mount_attr *a)
{
	static const struct {
		unsigned long ms;
		uint64_t attr;
	} map[] = {
		{MS_RDONLY, MOUNT_ATTR_RDONLY},		{MS_NOSUID, MOUNT_ATTR_NOSUID},
		{MS_NODEV, MOUNT_ATTR_NODEV},		{MS_NOEXEC, MOUNT_ATTR_NOEXEC},
		{MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
	};
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (f & map[i].ms)
			a->attr_set |= map[i].attr;
	/* one access-time mode, replacing the source's */
	uint64_t atime = f & MS_NOATIME	      ? MOUNT_ATTR_NOATIME
			 : f & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME
			 : f & MS_RELATIME    ? MOUNT_ATTR_RELATIME
					      : UINT64_MAX;
	if (atime != UINT64_MAX) {
		a->attr_set |= atime;
		a->attr_clr |= MOUNT_ATTR__ATIME;
	}
	a->propagation = prop & ~(unsigned long)MS_REC;
}

static int setup_dev(int rootfd, bool userns, struct ctw_err *err);

static int mount_one(int rootfd, const struct oci_root_opts *ro, const struct ctw_spec_mount *m,
		     struct ctw_err *err)
{
	struct mopts o;
	int r = parse_options(m->options, &o, err);
	if (r)
		return r;
	const char *dest = m->destination;
	const char *type = m->type && *m->type && strcmp(m->type, "none") ? m->type : NULL;
	bool bind = is_bind(m, &o);
	char src[PATH_MAX];
	struct stat st = {.st_mode = S_IFDIR};
	if (bind) {
		if (!m->source)
			return ctw_err_setx(err, EINVAL, "bind mount on %s: no source", dest);
		/* relative sources are the bundle's */
		snprintf(src, sizeof(src), "%s%s%s", m->source[0] == '/' ? "" : ro->bundle,
			 m->source[0] == '/' ? "" : "/", m->source);
		if (stat(src, &st) < 0)
			return ctw_err_set(err, errno, "bind mount source %s", src);
	} else {
		ctw_strlcpy(src, m->source ? m->source : (type ? type : "none"), sizeof(src));
	}
	int target = root_open_target(rootfd, dest, S_ISDIR(st.st_mode), in_kernel_dir(dest), err);
	if (target < 0)
		return target;
	/* What is not meant for /proc or /sys never lands there through the
	 * root's symlinks (an image's /etc/hosts -> /proc/sys/...); targets
	 * in /proc, /sys and /dev were resolved without any symlink. */
	struct statfs sf;
	if (!in_kernel_dir(dest) && (fstatfs(target, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC ||
				     sf.f_type == SYSFS_MAGIC)) {
		close(target);
		return ctw_err_setx(err, EPERM,
				    "container path `%s` leads into /proc or /sys: refused", dest);
	}
	if (bind) {
		struct mount_attr a;
		bind_attrs(o.flags, o.prop, &a);
		r = root_bind_on_fd(src, target, o.flags & MS_REC, &a, dest, err);
		o.prop = 0; /* done */
	} else if (type && (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))) {
		if (cg_layout() == CG_UNIFIED || !strcmp(type, "cgroup2"))
			r = root_mount_on_fd("cgroup2", target, "cgroup2", o.flags & ~MS_REC, NULL,
					     dest, err);
		else
			r = mount_cgroup_hybrid(rootfd, target, dest, o.flags, ro->cg, err);
	} else {
		r = root_mount_on_fd(src, target, type, o.flags, o.data[0] ? o.data : NULL, dest,
				     err);
	}
	close(target);
	/* the mount now: a walk crosses it, the old fd does not */
	if (!r && o.prop) {
		int t2 = open_in(rootfd, dest, O_PATH, err);
		if (t2 < 0) {
			r = t2;
		} else {
			r = mount_at(NULL, t2, dest, NULL, o.prop, NULL, err);
			close(t2);
		}
	}
	/* A /dev of the container's own: its nodes before anything mounts
	 * below it. */
	if (!r && !strcmp(dest, "/dev") && type && !strcmp(type, "tmpfs"))
		r = setup_dev(rootfd, ro->userns, err);
	return r;
}

/* ---- /dev ---- */

static const struct {
	const char *name;
	unsigned maj, min;
} default_devs[] = {
	{"null", 1, 3},	  {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* How make_dev_in treats what is there: in the image's directories, a
 * file may be in the way and a default ACL or a setgid directory may
 * change what mknod makes; in our own new tmpfs nothing is, and mknod
 * under umask 0 gives the mode, our ids the owner. */
enum { DEV_REPLACE = 1, DEV_SET_MODE = 2, DEV_SET_OWNER = 4 };

/* A device node leaf in the container's directory dir (path: its full
 * name, for messages): mknod, or in a user namespace (no mknod there) a
 * bind mount of the host's node. */
static int make_dev_in(int dir, const char *leaf, const char *path, char type, unsigned maj,
		       unsigned min, mode_t perm, uid_t uid, gid_t gid, bool userns, unsigned how,
		       struct ctw_err *err)
{
	if (how & DEV_REPLACE)
		unlinkat(dir, leaf, 0); /* the image may hold a file there */
	if (userns && type != 'p') {
		int f = openat(dir, leaf, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (f < 0)
			return ctw_err_set(err, errno, "create %s", path);
		close(f);
		/* the host's node of that device: at the same path (as runc
		 * binds it), else by number where udev made those */
		char host[PATH_MAX];
		struct stat hst;
		mode_t kind = type == 'b' ? S_IFBLK : S_IFCHR;
		ctw_strlcpy(host, path, sizeof(host));
		if (stat(host, &hst) < 0 || (hst.st_mode & S_IFMT) != kind ||
		    hst.st_rdev != makedev(maj, min))
			snprintf(host, sizeof(host), "/dev/%s/%u:%u",
				 type == 'b' ? "block" : "char", maj, min);
		char dst[PATH_MAX];
		snprintf(dst, sizeof(dst), "/proc/self/fd/%d/%s", dir, leaf);
		if (mount(host, dst, NULL, MS_BIND, NULL) < 0)
			return ctw_err_set(err, errno, "bind %s on %s", host, path);
		return 0;
	}
	mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
	if (mknodat(dir, leaf, kind | perm, makedev(maj, min)) < 0)
		return ctw_err_set(err, errno, "mknod %s", path);
	if (((how & DEV_SET_MODE) && fchmodat(dir, leaf, perm, 0) < 0) ||
	    ((how & DEV_SET_OWNER) && fchownat(dir, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0))
		return ctw_err_set(err, errno, "set owner and mode of %s", path);
	return 0;
}

/* The same at a path of the container (its parent resolved in the root). */
static int make_dev(int rootfd, const char *path, char type, unsigned maj, unsigned min,
		    mode_t perm, uid_t uid, gid_t gid, bool userns, struct ctw_err *err)
{
	char parent[PATH_MAX];
	ctw_strlcpy(parent, path, sizeof(parent));
	char *slash = strrchr(parent, '/');
	const char *leaf = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	int dir = root_open_target(rootfd, slash && *parent ? parent : "/", true, false, err);
	if (dir < 0)
		return dir;
	int r = make_dev_in(dir, leaf, path, type, maj, min, perm, uid, gid, userns,
			    DEV_REPLACE | DEV_SET_MODE | DEV_SET_OWNER, err);
	close(dir);
	return r;
}

/* The default nodes and links of a /dev of the container's own (a tmpfs
 * just mounted). */
static int setup_dev(int rootfd, bool userns, struct ctw_err *err)
{
	int dev = open_in(rootfd, "/dev", O_RDONLY | O_DIRECTORY, err);
	if (dev < 0)
		return dev;
	int r = 0;
	/* root's nodes: made so unless we are someone else */
	unsigned how = geteuid() || getegid() ? DEV_SET_OWNER : 0;
	mode_t old = umask(0);
	for (size_t i = 0; i < ARRAY_SIZE(default_devs) && !r; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/dev/%s", default_devs[i].name);
		r = make_dev_in(dev, default_devs[i].name, p, 'c', default_devs[i].maj,
				default_devs[i].min, 0666, 0, 0, userns, how, err);
	}
	umask(old);
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
		{"/proc/kcore", "core"},
		/* /dev/ptmx is the container's devpts' (mounted next), as runc */
		{"pts/ptmx", "ptmx"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links) && !r; i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			r = ctw_err_set(err, errno, "symlink /dev/%s", links[i][1]);
	close(dev);
	return r;
}

static int spec_devices(int rootfd, const struct ctw_spec *s, bool userns, struct ctw_err *err)
{
	mode_t old = umask(0);
	int r = 0;
	for (size_t i = 0; i < s->linux.n_devices && !r; i++) {
		const struct ctw_spec_device *d = &s->linux.devices[i];
		r = make_dev(rootfd, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major,
			     (unsigned)d->minor, d->file_mode.set ? (mode_t)d->file_mode.v : 0666,
			     d->uid.set ? (uid_t)d->uid.v : 0, d->gid.set ? (gid_t)d->gid.v : 0,
			     userns, err);
	}
	umask(old);
	return r;
}

/* ---- the root ---- */

int oci_rootfs_root(const struct ctw_spec *s, const char *rootfs, struct ctw_err *err)
{
	int r;
	/* Nothing mounted here propagates back to the host (unless the spec
	 * asks for more): rslave by default, as runc. */
	unsigned long prop =
		s->linux.rootfs_propagation ? s->linux.rootfs_propagation : MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return ctw_err_set(err, errno, "make / %s", prop & MS_SHARED ? "shared" : "slave");
	if (s->root.overlay_lower) {
		/* An overlay syncs its whole upper filesystem when it goes;
		 * nobody reads an upper layer removed at exit, so such a one
		 * is `volatile` (as Podman's --rm): no sync at all. */
		char *opts =
			xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", s->root.overlay_lower,
				  s->root.overlay_upper, s->root.overlay_work,
				  s->root.overlay_volatile ? ",volatile" : "");
		r = mount("overlay", rootfs, "overlay", 0, opts) < 0 ? -errno : 0;
		free(opts);
		if (r)
			return ctw_err_set(err, -r, "root filesystem: mount overlay on %s", rootfs);
	} else if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
		/* a mount point, for pivot_root */
		return ctw_err_set(err, errno, "bind the root %s", rootfs);
	}
	/* Private below the root: our mounts in it are ours alone.  (A new
	 * overlay below a parent that is not shared is private already.) */
	if ((!s->root.overlay_lower || (prop & MS_SHARED)) &&
	    mount(NULL, rootfs, NULL, MS_PRIVATE | MS_REC, NULL) < 0 &&
	    !(s->linux.rootfs_propagation & MS_SHARED))
		pr_debug("make %s private: %s", rootfs, strerror(errno));
	return 0;
}

size_t oci_mounts_early(const struct ctw_spec *s)
{
	size_t i = 0;
	for (; i < s->n_mounts; i++) {
		const struct ctw_spec_mount *m = &s->mounts[i];
		struct mopts o;
		if (!m->type || !strcmp(m->type, "bind") || !strcmp(m->type, "cgroup") ||
		    !strcmp(m->type, "cgroup2") || parse_options(m->options, &o, NULL) ||
		    (o.flags & MS_BIND))
			break;
	}
	return i;
}

int oci_rootfs_mounts(const struct ctw_spec *s, const struct oci_root_opts *o, const char *rootfs,
		      size_t from, size_t to, struct ctw_err *err)
{
	int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ctw_err_set(err, errno, "open the root %s", rootfs);
	int r = 0;
	for (size_t i = from; i < to && !r; i++)
		r = mount_one(rootfd, o, &s->mounts[i], err);
	if (!r && to == s->n_mounts)
		r = spec_devices(rootfd, s, o->userns, err);
	close(rootfd);
	return r;
}

int oci_rootfs_setup(const struct ctw_spec *s, const struct oci_root_opts *o, const char *rootfs,
		     struct ctw_err *err)
{
	int r = oci_rootfs_root(s, rootfs, err);
	return r ? r : oci_rootfs_mounts(s, o, rootfs, 0, s->n_mounts, err);
}

int oci_pivot(const char *rootfs, bool no_pivot, struct ctw_err *err)
{
	if (chdir(rootfs) < 0)
		return ctw_err_set(err, errno, "chdir %s", rootfs);
	if (no_pivot) {
		/* For roots pivot_root refuses (an initramfs): move and
		 * chroot, as runc's --no-pivot. */
		if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return ctw_err_set(err, errno, "move %s to /", rootfs);
		if (chroot(".") < 0)
			return ctw_err_set(err, errno, "chroot %s", rootfs);
	} else {
		/* pivot_root(".", "."): the old root ends up stacked on the new
		 * one and is lazily detached, no put_old directory needed. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return ctw_err_set(err, errno, "pivot_root %s", rootfs);
		if (umount2(".", MNT_DETACH) < 0)
			return ctw_err_set(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return ctw_err_set(err, errno, "chdir /");
	return 0;
}

int oci_rootfs_finish(const struct ctw_spec *s, struct ctw_err *err)
{
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ctw_err_set(err, errno, "open /");
	int r = 0;
	for (char **p = s->linux.masked_paths; p && *p && !r; p++) {
		struct ctw_err tmp;
		int fd = open_in(rootfd, *p, O_PATH | O_NOFOLLOW, &tmp);
		if (fd < 0)
			continue; /* not there: nothing to mask */
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			r = mount_at("tmpfs", fd, *p, "tmpfs", MS_RDONLY, "size=0", err);
		else
			r = mount_at("/dev/null", fd, *p, NULL, MS_BIND, NULL, err);
		close(fd);
	}
	for (char **p = s->linux.readonly_paths; p && *p && !r; p++) {
		struct ctw_err tmp;
		int fd = open_in(rootfd, *p, O_PATH | O_NOFOLLOW, &tmp);
		if (fd < 0)
			continue;
		char at[64];
		snprintf(at, sizeof(at), "/proc/self/fd/%d", fd);
		r = mount(at, at, NULL, MS_BIND | MS_REC, NULL) < 0
			    ? ctw_err_set(err, errno, "bind %s read-only", *p)
			    : 0;
		close(fd);
		if (!r && (fd = open_in(rootfd, *p, O_PATH | O_NOFOLLOW, err)) >= 0) {
			r = mount_at(NULL, fd, *p, NULL,
				     MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID |
					     MS_NODEV | MS_NOEXEC,
				     NULL, err);
			close(fd);
		}
	}
	close(rootfd);
	if (!r && s->root.readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		r = ctw_err_set(err, errno, "remount / read-only");
	return r;
}

int oci_sysctl(const struct ctw_spec *s, struct ctw_err *err)
{
	for (size_t i = 0; i < s->linux.sysctl.n; i++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->linux.sysctl.v[i].key);
		for (char *p = path + 10; p < path + n; p++)
			if (*p == '.')
				*p = '/';
		const char *v = s->linux.sysctl.v[i].value;
		int r = ctw_write_file(path, v, strlen(v), false);
		if (r)
			return ctw_err_set(err, -r, "sysctl %s=%s", s->linux.sysctl.v[i].key, v);
	}
	return 0;
}
