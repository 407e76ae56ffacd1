// SPDX-License-Identifier: Apache-2.0
/*
 * The state of containers made by the OCI commands, one directory per
 * container below a state root (--root; default ctw_state_dir()/oci):
 *
 *   <root>/<id>/state.json   what `state`, `list` and the other commands
 *                            read; runc's keys where the agent reads runc's
 *                            ("init_process_pid", "created",
 *                            "cgroup_paths" {"": v2 dir, ctrl: v1 dir},
 *                            "config"."labels" ["bundle=...", annotations])
 *                            so a container an engine started through
 *                            ctrwatch is named like one started through runc;
 *                            plus ours (bundle, rootfs, the creator, the
 *                            init's start time, ...).  Written atomically.
 *   <root>/<id>/config.json  the bundle's config as create read it (exec
 *                            starts its processes the same way)
 *   <root>/<id>/exec.fifo    exists from create until start: the init
 *                            waits on it
 *
 * Every command that changes a container holds an exclusive flock on its
 * directory (create holds it from mkdir to the end), so concurrent calls on
 * one container run one after the other; `state` and `list` read without
 * it.  A container's status is derived, as runc derives it: the init alive
 * (pid and start time) with the fifo still there is created, without it
 * running (paused when its cgroup is frozen); no init and a creator still
 * alive is creating; anything else is stopped.
 *
 * The roots used are recorded in ctw_state_dir()/oci-roots/ (a symlink
 * each), so that `ctrwatch gc` finds what a killed create left in any.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "internal.h"

const char *ctw_oci_default_root(void)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/oci", ctw_state_dir());
	return buf;
}

bool ctw_oci_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (!n || n > OCI_ID_MAX || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == '+'))
			return false;
	return true;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* Record root (absolute) so that gc visits it. */
static void register_root(const char *root)
{
	char dir[PATH_MAX], link[PATH_MAX + 32], cur[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/oci-roots", ctw_state_dir());
	snprintf(link, sizeof(link), "%s/%016llx", dir, (unsigned long long)fnv(root));
	ssize_t n = readlink(link, cur, sizeof(cur) - 1);
	if (n > 0 && (size_t)n == strlen(root) && !memcmp(cur, root, (size_t)n))
		return;
	if (ctw_mkdir_p(dir, 0700) == 0) {
		unlink(link);
		if (symlink(root, link) < 0)
			pr_debug("record OCI root %s: %s", root, strerror(errno));
	}
}

char **oci_known_roots(void)
{
	char dir[PATH_MAX];
	size_t n = 0;
	char **v = xcalloc(2, sizeof(char *));
	v[n++] = xstrdup(ctw_oci_default_root());
	snprintf(dir, sizeof(dir), "%s/oci-roots", ctw_state_dir());
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char link[PATH_MAX * 2], target[PATH_MAX];
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (!strcmp(target, v[0]))
			continue;
		if (!ctw_path_exists(target)) {
			unlink(link); /* a root that is gone */
			continue;
		}
		v = xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = xstrdup(target);
		v[n] = NULL;
	}
	if (d)
		closedir(d);
	return v;
}

int oci_root_open(const char *root, bool create, struct ctw_err *err)
{
	if (create) {
		int r = ctw_mkdir_p(root, 0700);
		if (r)
			return ctw_err_set(err, -r, "create state root %s", root);
		char real[PATH_MAX];
		if (realpath(root, real))
			register_root(real);
	}
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !create)
		return -ENOENT;
	if (fd < 0)
		return ctw_err_set(err, errno, "open state root %s", root);
	return fd;
}

void oci_ct_free(struct oci_ct *c)
{
	if (!c)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd); /* drops the lock */
	free(c->bundle);
	free(c->rootfs);
	ctw_kvs_fini(&c->annotations);
	free(c);
}

static int lock_dir(int fd, struct ctw_err *err, const char *id)
{
	int r;
	do
		r = flock(fd, LOCK_EX);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ctw_err_set(err, errno, "lock container %s", id);
	return 0;
}

static json_t *kvs_json(const struct ctw_kvs *kvs)
{
	json_t *o = json_object();
	for (size_t i = 0; i < kvs->n; i++)
		json_object_set_new(o, kvs->v[i].key, json_string(kvs->v[i].value));
	return o;
}

int oci_ct_save(const struct oci_ct *c, struct ctw_err *err)
{
	char t[48] = "";
	ctw_format_time(c->created_ns, t, sizeof(t));
	json_t *paths = json_object(), *labels = json_array();
	json_object_set_new(paths, "", json_string(c->cg.v2));
	for (int i = 0; i < c->cg.nv1; i++)
		json_object_set_new(paths, c->cg.v1[i].ctrl, json_string(c->cg.v1[i].path));
	char *b = xasprintf("bundle=%s", c->bundle ? c->bundle : "");
	json_array_append_new(labels, json_string(b));
	free(b);
	for (size_t i = 0; i < c->annotations.n; i++) {
		char *l = xasprintf("%s=%s", c->annotations.v[i].key, c->annotations.v[i].value);
		json_array_append_new(labels, json_string(l));
		free(l);
	}
	json_t *o = json_pack(
		"{s:s, s:i, s:I, s:s, s:{s:o}, s:o, s:s, s:s, s:o, s:s, s:i, s:I, s:I, s:b, s:b, "
		"s:s, s:b}",
		"id", c->id, "init_process_pid", c->pid, "init_process_start",
		(json_int_t)c->pid_start, "created", t, "config", "labels", labels, "cgroup_paths",
		paths, "bundle", c->bundle ? c->bundle : "", "rootfs", c->rootfs ? c->rootfs : "",
		"annotations", kvs_json(&c->annotations), "owner", c->owner, "creator_pid",
		c->creator_pid, "creator_start", (json_int_t)c->creator_start, "cgroup_id",
		(json_int_t)c->cg.id, "created_done", c->created_done, "cgroup_relative",
		c->cg.relative, "ociRuntime", "ctrwatch", "no_pivot", c->no_pivot);
	char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	int r = oci_write_at(c->dirfd, "state.json", txt, strlen(txt), 0600);
	free(txt);
	if (r)
		return ctw_err_set(err, -r, "write the state of %s", c->id);
	return 0;
}

int oci_write_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int r = 0;
	for (size_t off = 0; off < len && !r;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r)
		unlinkat(dirfd, tmp, 0);
	return r;
}

static void copy_str(char *dst, size_t size, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	ctw_strlcpy(dst, v ? v : "", size);
}

static char *dup_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? xstrdup(v) : NULL;
}

static uint64_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return 0;
	uint64_t ns = (uint64_t)timegm(&tm) * 1000000000ull;
	if (*rest == '.')
		ns += strtoull(rest + 1, NULL, 10);
	return ns;
}

static int load(struct oci_ct *c, struct ctw_err *err)
{
	int fd = openat(c->dirfd, "state.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ctw_err_setx(err, ENOENT, "container %s does not exist", c->id);
	char *txt;
	size_t len;
	int r = ctw_read_fd_capped(fd, 1 << 20, &txt, &len);
	close(fd);
	if (r)
		return ctw_err_set(err, -r, "read the state of %s", c->id);
	json_error_t je;
	json_t *o = json_loadb(txt, len, 0, &je);
	free(txt);
	if (!o)
		return ctw_err_setx(err, EINVAL, "the state of %s is damaged: %s", c->id, je.text);
	c->pid = (int)json_integer_value(json_object_get(o, "init_process_pid"));
	c->pid_start =
		(unsigned long long)json_integer_value(json_object_get(o, "init_process_start"));
	c->created_ns = parse_time(json_string_value(json_object_get(o, "created")));
	c->bundle = dup_str(o, "bundle");
	c->rootfs = dup_str(o, "rootfs");
	copy_str(c->owner, sizeof(c->owner), o, "owner");
	c->creator_pid = (int)json_integer_value(json_object_get(o, "creator_pid"));
	c->creator_start =
		(unsigned long long)json_integer_value(json_object_get(o, "creator_start"));
	c->created_done = json_is_true(json_object_get(o, "created_done"));
	c->no_pivot = json_is_true(json_object_get(o, "no_pivot"));
	c->cg.id = (uint64_t)json_integer_value(json_object_get(o, "cgroup_id"));
	c->cg.relative = json_is_true(json_object_get(o, "cgroup_relative"));
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(o, "cgroup_paths"), k, v) {
		if (!json_is_string(v))
			continue;
		if (!*k) {
			ctw_strlcpy(c->cg.v2, json_string_value(v), sizeof(c->cg.v2));
		} else if (c->cg.nv1 < CG_V1_MAX) {
			ctw_strlcpy(c->cg.v1[c->cg.nv1].ctrl, k, sizeof(c->cg.v1[0].ctrl));
			ctw_strlcpy(c->cg.v1[c->cg.nv1].path, json_string_value(v),
				    sizeof(c->cg.v1[0].path));
			c->cg.nv1++;
		}
	}
	json_object_foreach (json_object_get(o, "annotations"), k, v)
		if (json_is_string(v))
			ctw_kvs_set(&c->annotations, k, json_string_value(v));
	json_decref(o);
	return 0;
}

int oci_ct_open(int rootfd, const char *id, bool lock, struct oci_ct **out, struct ctw_err *err)
{
	*out = NULL;
	if (!ctw_oci_valid_id(id))
		return ctw_err_setx(err, EINVAL, "invalid container id `%s`", id);
	struct oci_ct *c = xcalloc(1, sizeof(*c));
	ctw_strlcpy(c->id, id, sizeof(c->id));
	c->dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int r;
	if (c->dirfd < 0) {
		r = errno == ENOENT ? ctw_err_setx(err, ENOENT, "container %s does not exist", id)
				    : ctw_err_set(err, errno, "open container %s", id);
		oci_ct_free(c);
		return r;
	}
	if ((lock && (r = lock_dir(c->dirfd, err, id))) || (r = load(c, err))) {
		oci_ct_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int oci_ct_new(int rootfd, const char *id, struct oci_ct **out, struct ctw_err *err)
{
	*out = NULL;
	if (!ctw_oci_valid_id(id))
		return ctw_err_setx(err, EINVAL,
				    "invalid container id `%s`: letters, digits and _ - . + only "
				    "(at most %d)",
				    id, OCI_ID_MAX);
	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return ctw_err_setx(err, EEXIST, "container with id %s already exists", id);
		return ctw_err_set(err, errno, "create the state of %s", id);
	}
	struct oci_ct *c = xcalloc(1, sizeof(*c));
	ctw_strlcpy(c->id, id, sizeof(c->id));
	c->dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int r = c->dirfd < 0 ? ctw_err_set(err, errno, "open the state of %s", id)
			     : lock_dir(c->dirfd, err, id);
	if (r) {
		oci_ct_free(c);
		unlinkat(rootfd, id, AT_REMOVEDIR);
		return r;
	}
	*out = c;
	return 0;
}

int oci_ct_remove(int rootfd, struct oci_ct *c)
{
	static const char *const files[] = {"state.json", "config.json", "exec.fifo"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		unlinkat(c->dirfd, files[i], 0);
	/* Anything else (a torn write's temp file) goes too. */
	ctw_empty_dir_at(c->dirfd);
	if (unlinkat(rootfd, c->id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

bool oci_ct_fifo_exists(const struct oci_ct *c)
{
	struct stat st;
	return fstatat(c->dirfd, "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

enum ctw_oci_status oci_ct_status(const struct oci_ct *c)
{
	if (c->pid > 0 && oci_pid_alive(c->pid, c->pid_start)) {
		if (!c->created_done)
			return CTW_OCI_CREATING;
		if (oci_ct_fifo_exists(c))
			return CTW_OCI_CREATED;
		return cg_set_frozen(&c->cg) ? CTW_OCI_PAUSED : CTW_OCI_RUNNING;
	}
	if (!c->created_done && c->creator_pid > 0 &&
	    oci_pid_alive(c->creator_pid, c->creator_start))
		return CTW_OCI_CREATING;
	return CTW_OCI_STOPPED;
}

bool oci_pid_alive(int pid, unsigned long long start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (pid <= 0 || ctw_read_line(path, buf, sizeof(buf)))
		return false;
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return false;
	p += 2;
	/* a zombie is gone for us: the engine has not reaped it yet */
	if (*p == 'Z' || *p == 'X')
		return false;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p && (!start || strtoull(p, NULL, 10) == start);
}

char *oci_ct_state_json(const struct oci_ct *c, bool pretty)
{
	enum ctw_oci_status st = oci_ct_status(c);
	struct ctw_oci_state s = {
		.id = c->id,
		.status = st,
		.pid = st == CTW_OCI_STOPPED ? 0 : c->pid,
		.bundle = c->bundle,
		.annotations = &c->annotations,
		.rootfs = c->rootfs ? c->rootfs : "",
		.created_ns = c->created_ns,
		.owner = c->owner,
	};
	return ctw_oci_state_json(&s, pretty);
}

/* The spec the container was created with (its copy of config.json). */
struct ctw_spec *oci_ct_spec(const struct oci_ct *ct, struct ctw_err *err)
{
	int fd = openat(ct->dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ctw_err_set(err, errno, "the config of %s", ct->id);
		return NULL;
	}
	char *txt;
	size_t len;
	int r = ctw_read_fd_capped(fd, 16 << 20, &txt, &len);
	close(fd);
	if (r) {
		ctw_err_set(err, -r, "read the config of %s", ct->id);
		return NULL;
	}
	struct ctw_spec *s = NULL;
	ctw_spec_parse("config.json", txt, len, &s, err);
	free(txt);
	return s;
}

char **oci_list_ids(int rootfd)
{
	size_t n = 0;
	char **v = xcalloc(1, sizeof(char *));
	int fd = dup(rootfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return v;
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !ctw_oci_valid_id(de->d_name))
			continue;
		v = xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	return v;
}
