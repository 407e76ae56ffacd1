// SPDX-License-Identifier: Apache-2.0
/*
 * Containers of any engine that runs an OCI runtime (runc, crun), found by
 * what the runtime and the engine wrote, not by a default layout: see
 * oci.h for the ways in.  What each engine writes, as read here (checked
 * against Docker 20.10, Podman 4.3, containerd 1.6, runc 1.1, crun 1.8):
 *
 *   runc   <root>/<id>/state.json: "init_process_pid", "created",
 *          "cgroup_paths" ("" = the v2 dir on unified and hybrid hosts),
 *          "config"."labels" ["bundle=<dir>", "<annotation>=<value>", ...]
 *   crun   <root>/<id>/status: "pid", "cgroup-path" (below the v2 mount),
 *          "bundle", "created"
 *   shim   containerd-shim-runc-v2 -namespace NS -id ID -address SOCK, cwd =
 *          <state>/io.containerd.runtime.v2.task/NS/ID (the bundle); Docker's
 *          namespace is "moby"
 *   conmon -c ID -b <graphroot>/overlay-containers/ID/userdata -n NAME
 *   Docker the bundle's /etc/hostname mount comes from
 *          <data-root>/containers/<id>/hostname; config.v2.json beside it:
 *          "Name" ("/web"), "Config"."Image", "Config"."Labels",
 *          "State"."StartedAt"
 *   Podman <graphroot>/overlay-containers/containers.json: [{"id", "names",
 *          "metadata": "{\"image-name\": ..., \"name\": ...}", "created"}];
 *          bundle annotation io.container.manager=libpod
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "oci.h"
#include "../lib/lib.h"

#define STATE_MAX (1u << 20)	/* runc's state.json: ~30 KiB seen */
#define CONFIG_MAX (4u << 20)	/* a bundle's config.json: ~10 KiB seen */
#define STORAGE_MAX (16u << 20) /* containers.json: ~0.5 KiB per container */
#define CMDLINE_MAX (64u << 10) /* conmon's: ~3 KiB seen */
#define PARENT_DEPTH 8		/* ancestors tried above a container's pid */

/* ---- reading engine files ---- */

/* Paths already reported bad, so that a rescan does not log them again. */
static uint64_t logged[64];
static unsigned nlogged;

static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

static void log_bad(const char *path, const char *why)
{
	uint64_t h = path_hash(path);
	for (unsigned i = 0; i < ARRAY_SIZE(logged); i++)
		if (logged[i] == h)
			return;
	logged[nlogged++ % ARRAY_SIZE(logged)] = h;
	pr_warn("engines: skipping %s: %s", path, why);
}

static int open_host(const char *host_root)
{
	const char *root = host_root && *host_root ? host_root : "/";
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		log_bad(root, strerror(errno));
	return fd;
}

static char *read_host(int hostfd, const char *path, size_t max, size_t *len)
{
	char *buf = NULL;
	int rc = ctw_read_in_root(hostfd, path, max, &buf, len);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return NULL;
	if (rc < 0) {
		log_bad(path, rc == -EINVAL   ? "not a regular file"
			      : rc == -EFBIG  ? "too big"
			      : rc == -EISDIR ? "a directory"
					      : strerror(-rc));
		return NULL;
	}
	return buf;
}

json_t *oci_json_load(int hostfd, const char *path, size_t max)
{
	size_t len;
	char *buf = read_host(hostfd, path, max, &len);
	if (!buf)
		return NULL;
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!j) {
		char why[256];
		snprintf(why, sizeof(why), "bad JSON at line %d: %s", jerr.line, jerr.text);
		log_bad(path, why);
	}
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void copy(char *dst, size_t size, const char *src)
{
	if (src && *src)
		ctw_strlcpy(dst, src, size);
}

uint64_t oci_parse_time(const char *s)
{
	struct tm tm = {0};
	if (!s)
		return 0;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	uint64_t ns = 0;
	if (*p == '.') {
		uint64_t scale = 100000000;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ns += (uint64_t)(*p - '0') * scale;
	}
	long off = 0;
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return 0;
		off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z') {
		return 0;
	}
	time_t t = timegm(&tm);
	if (t <= 0)
		return 0;
	return (uint64_t)(t - off) * 1000000000ull + ns;
}

/* A v2 cgroup path as a runtime wrote it, relative to the v2 mount:
 * "/sys/fs/cgroup/unified/a/b" or "/sys/fs/cgroup/a/b" -> "/a/b". */
static void cgroup_rel(const char *abs, char *out, size_t size)
{
	const char *mnts[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	for (size_t i = 0; i < ARRAY_SIZE(mnts); i++) {
		size_t n = strlen(mnts[i]);
		if (!strncmp(abs, mnts[i], n) && (abs[n] == '/' || !abs[n])) {
			ctw_strlcpy(out, abs[n] ? abs + n : "/", size);
			return;
		}
	}
	snprintf(out, size, "%s%s", abs[0] == '/' ? "" : "/", abs);
}

/* ---- runtime state ---- */

static bool safe_id(const char *id)
{
	return id && *id && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, "..");
}

/* A state file: a JSON object. */
static json_t *state_load(int hostfd, const char *path)
{
	json_t *j = oci_json_load(hostfd, path, STATE_MAX);
	if (j && !json_is_object(j)) {
		log_bad(path, "not a JSON object");
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int read_runc(int hostfd, const char *path, struct oci_found *f)
{
	json_t *j = state_load(hostfd, path);
	if (!j)
		return -ENOENT;
	if (!jstr(j, "id")) {
		log_bad(path, "no container id");
		json_decref(j);
		return -ENOENT;
	}
	copy(f->id, sizeof(f->id), jstr(j, "id"));
	json_t *pid = json_object_get(j, "init_process_pid");
	if (json_is_integer(pid))
		f->pid = (int)json_integer_value(pid);
	f->created_ns = oci_parse_time(jstr(j, "created"));
	const char *cg = jstr(json_object_get(j, "cgroup_paths"), "");
	if (cg)
		cgroup_rel(cg, f->cgroup2, sizeof(f->cgroup2));
	size_t i;
	json_t *l;
	json_array_foreach (json_object_get(json_object_get(j, "config"), "labels"), i, l) {
		const char *s = json_string_value(l);
		if (s && ctw_str_has_prefix(s, "bundle="))
			copy(f->bundle, sizeof(f->bundle), s + 7);
	}
	ctw_strlcpy(f->runtime, "runc", sizeof(f->runtime));
	json_decref(j);
	return 0;
}

static int read_crun(int hostfd, const char *path, struct oci_found *f)
{
	json_t *j = state_load(hostfd, path);
	if (!j)
		return -ENOENT;
	json_t *pid = json_object_get(j, "pid");
	if (json_is_integer(pid))
		f->pid = (int)json_integer_value(pid);
	f->created_ns = oci_parse_time(jstr(j, "created"));
	const char *cg = jstr(j, "cgroup-path");
	if (cg)
		cgroup_rel(cg, f->cgroup2, sizeof(f->cgroup2));
	copy(f->bundle, sizeof(f->bundle), jstr(j, "bundle"));
	ctw_strlcpy(f->runtime, "crun", sizeof(f->runtime));
	json_decref(j);
	return 0;
}

int oci_state_read(int hostfd, const char *root, const char *id, struct oci_found *f)
{
	char p[PATH_MAX];
	if (!safe_id(id))
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->kind = CTW_RT_UNKNOWN;
	ctw_strlcpy(f->id, id, sizeof(f->id));
	int rc = -ENOENT;
	if (snprintf(p, sizeof(p), "%s/%s/state.json", root, id) < (int)sizeof(p))
		rc = read_runc(hostfd, p, f);
	if (rc == -ENOENT && snprintf(p, sizeof(p), "%s/%s/status", root, id) < (int)sizeof(p))
		rc = read_crun(hostfd, p, f);
	if (rc == 0 && strcmp(f->id, id))
		rc = -ENOENT; /* a state that is not this container's */
	return rc;
}

/* Try id in every <parent>/<ns> directory (runtime roots per namespace). */
static int state_in_namespaces(int hostfd, const char *parent, const char *id, struct oci_found *f)
{
	int dfd = ctw_open_in_root(hostfd, parent, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -ENOENT;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -ENOENT;
	}
	int rc = -ENOENT;
	struct dirent *de;
	char root[PATH_MAX];
	while (rc && (de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (snprintf(root, sizeof(root), "%s/%s", parent, de->d_name) >= (int)sizeof(root))
			continue;
		if (oci_state_read(hostfd, root, id, f) == 0) {
			ctw_strlcpy(f->ns, de->d_name, sizeof(f->ns));
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

/* Daemons' roots, learned from their command lines: a walk of /proc, so
 * done at most once per DAEMONS_TTL_NS for all lookups (a scan looks up
 * every container). */
#define DAEMONS_TTL_NS (5 * 1000000000ull)
#define DAEMONS_MAX 8
static struct {
	uint64_t at_ns;
	char proc_root[PATH_MAX];
	size_t ndocker, ncontainerd;
	char docker_runc[DAEMONS_MAX][PATH_MAX]; /* <exec-root>/runtime-runc */
	char containerd_state[DAEMONS_MAX][PATH_MAX];
	char containerd_root[DAEMONS_MAX][PATH_MAX];
} daemons;

static void containerd_process(int hostfd, const char *argv, size_t len);

static void learn_daemons(const struct oci_ctx *ctx, int hostfd)
{
	uint64_t now = ctw_now_ns();
	if (daemons.at_ns && now - daemons.at_ns < DAEMONS_TTL_NS &&
	    !strcmp(daemons.proc_root, ctx->proc_root))
		return;
	daemons.at_ns = now;
	ctw_strlcpy(daemons.proc_root, ctx->proc_root, sizeof(daemons.proc_root));
	daemons.ndocker = daemons.ncontainerd = 0;
	DIR *d = opendir(ctx->proc_root);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char p[PATH_MAX], comm[32];
		snprintf(p, sizeof(p), "%s/%s/comm", ctx->proc_root, de->d_name);
		if (ctw_read_line(p, comm, sizeof(comm)) < 0)
			continue;
		bool docker = !strcmp(comm, "dockerd"), containerd = !strcmp(comm, "containerd");
		if (!docker && !containerd)
			continue;
		snprintf(p, sizeof(p), "%s/%s/cmdline", ctx->proc_root, de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		char *argv = NULL;
		size_t len = 0;
		int rc = ctw_read_fd_capped(fd, CMDLINE_MAX, &argv, &len);
		close(fd);
		if (rc < 0)
			continue;
		if (docker && daemons.ndocker < DAEMONS_MAX) {
			char data[PATH_MAX], exec[PATH_MAX];
			oci_dockerd_roots(hostfd, argv, len, data, sizeof(data), exec,
					  sizeof(exec));
			snprintf(daemons.docker_runc[daemons.ndocker++], PATH_MAX,
				 "%s/runtime-runc", exec[0] ? exec : "/run/docker");
		} else if (containerd) {
			containerd_process(hostfd, argv, len);
		}
		free(argv);
	}
	closedir(d);
}

/* dockerd processes' exec roots (their runtime-runc dirs hold the state). */
static size_t dockerd_exec_roots(const struct oci_ctx *ctx, int hostfd, char roots[][PATH_MAX],
				 size_t max)
{
	learn_daemons(ctx, hostfd);
	size_t n = 0;
	for (; n < daemons.ndocker && n < max; n++)
		ctw_strlcpy(roots[n], daemons.docker_runc[n], PATH_MAX);
	return n;
}

int oci_state_find(const struct oci_ctx *ctx, const char *id, struct oci_found *f)
{
	if (!safe_id(id))
		return -EINVAL;
	int hostfd = open_host(ctx->host_root);
	if (hostfd < 0)
		return -ENOENT;
	int rc = -ENOENT;
	/* Roots with one container per entry, then roots per namespace. */
	static const char *const flat[] = {"/run/runc", "/run/crun", "/run/containers/runc"};
	static const char *const per_ns[] = {"/run/docker/runtime-runc", "/run/containerd/runc",
					     "/run/containerd/crun"};
	for (size_t i = 0; rc && i < ARRAY_SIZE(flat); i++)
		rc = oci_state_read(hostfd, flat[i], id, f);
	for (size_t i = 0; rc && i < ARRAY_SIZE(per_ns); i++)
		rc = state_in_namespaces(hostfd, per_ns[i], id, f);
	for (size_t i = 0; rc && ctx->state_roots && ctx->state_roots[i]; i++) {
		rc = oci_state_read(hostfd, ctx->state_roots[i], id, f);
		if (rc)
			rc = state_in_namespaces(hostfd, ctx->state_roots[i], id, f);
	}
	if (rc) {
		char roots[4][PATH_MAX];
		size_t n = dockerd_exec_roots(ctx, hostfd, roots, ARRAY_SIZE(roots));
		for (size_t i = 0; rc && i < n; i++)
			if (strcmp(roots[i], "/run/docker/runtime-runc"))
				rc = state_in_namespaces(hostfd, roots[i], id, f);
	}
	close(hostfd);
	return rc;
}

/* ---- daemons' command lines ---- */

/* The value of --opt VALUE / --opt=VALUE / -opt VALUE in a NUL-separated
 * argv; NULL when absent. */
static const char *arg_value(const char *argv, size_t len, const char *opt)
{
	size_t ol = strlen(opt);
	for (const char *a = argv; a < argv + len; a += strlen(a) + 1) {
		if (strncmp(a, opt, ol))
			continue;
		if (a[ol] == '=')
			return a + ol + 1;
		if (!a[ol]) {
			const char *next = a + ol + 1;
			return next < argv + len ? next : NULL;
		}
	}
	return NULL;
}

void oci_dockerd_roots(int hostfd, const char *argv, size_t len, char *data_root, size_t dsize,
		       char *exec_root, size_t esize)
{
	data_root[0] = exec_root[0] = '\0';
	const char *v;
	if ((v = arg_value(argv, len, "--data-root")) || (v = arg_value(argv, len, "-g")) ||
	    (v = arg_value(argv, len, "--graph")))
		ctw_strlcpy(data_root, v, dsize);
	if ((v = arg_value(argv, len, "--exec-root")))
		ctw_strlcpy(exec_root, v, esize);
	if (data_root[0] && exec_root[0])
		return;
	const char *conf = arg_value(argv, len, "--config-file");
	json_t *j = oci_json_load(hostfd, conf ? conf : "/etc/docker/daemon.json", CONFIG_MAX);
	if (!data_root[0])
		copy(data_root, dsize,
		     jstr(j, "data-root") ? jstr(j, "data-root") : jstr(j, "graph"));
	if (!exec_root[0])
		copy(exec_root, esize, jstr(j, "exec-root"));
	json_decref(j);
}

/* ---- parent process ---- */

/* comm and ppid from /proc/<pid>/stat ("pid (comm) S ppid ..."). */
static int proc_stat(int procfd, int pid, char *comm, size_t csize, int *ppid)
{
	char p[32], buf[512];
	snprintf(p, sizeof(p), "%d/stat", pid);
	int fd = openat(procfd, p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	char *open_ = strchr(buf, '('), *close_ = strrchr(buf, ')');
	if (!open_ || !close_ || close_ < open_)
		return -EIO;
	*close_ = '\0';
	ctw_strlcpy(comm, open_ + 1, csize);
	char state;
	if (sscanf(close_ + 2, "%c %d", &state, ppid) != 2)
		return -EIO;
	return 0;
}

static void from_shim(int procfd, int pid, const char *argv, size_t len, struct oci_found *f)
{
	copy(f->ns, sizeof(f->ns), arg_value(argv, len, "-namespace"));
	copy(f->id, sizeof(f->id), arg_value(argv, len, "-id"));
	char p[32];
	snprintf(p, sizeof(p), "%d/cwd", pid);
	ssize_t n = readlinkat(procfd, p, f->bundle, sizeof(f->bundle) - 1);
	f->bundle[n > 0 ? n : 0] = '\0';
	/* shim v1 (Docker < 20.10): the id is the bundle's last component */
	if (!f->id[0] && n > 0) {
		const char *b = strrchr(f->bundle, '/');
		copy(f->id, sizeof(f->id), b ? b + 1 : NULL);
	}
	f->kind = !strcmp(f->ns, "moby") ? CTW_RT_DOCKER : CTW_RT_CONTAINERD;
}

static void from_conmon(const char *argv, size_t len, struct oci_found *f)
{
	copy(f->id, sizeof(f->id), arg_value(argv, len, "-c"));
	copy(f->bundle, sizeof(f->bundle), arg_value(argv, len, "-b"));
	copy(f->name, sizeof(f->name), arg_value(argv, len, "-n"));
	const char *rt = arg_value(argv, len, "-r");
	if (rt) {
		const char *b = strrchr(rt, '/');
		copy(f->runtime, sizeof(f->runtime), b ? b + 1 : rt);
	}
	f->kind = CTW_RT_CRIO; /* Podman when the bundle says libpod */
}

int oci_parent_find(const struct oci_ctx *ctx, int pid, struct oci_found *f)
{
	if (pid <= 0)
		return -ENOENT;
	int procfd = open(ctx->proc_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -ENOENT;
	memset(f, 0, sizeof(*f));
	f->kind = CTW_RT_UNKNOWN;
	int rc = -ENOENT, child = pid;
	char comm[64];
	int ppid;
	for (int depth = 0; depth < PARENT_DEPTH && rc; depth++) {
		if (proc_stat(procfd, child, comm, sizeof(comm), &ppid) < 0 || ppid <= 1)
			break;
		if (proc_stat(procfd, ppid, comm, sizeof(comm), &(int){0}) < 0)
			break;
		bool shim = ctw_str_has_prefix(comm, "containerd-shim");
		if (shim || !strcmp(comm, "conmon")) {
			char p[32], *argv = NULL;
			size_t len = 0;
			snprintf(p, sizeof(p), "%d/cmdline", ppid);
			if (ctw_read_in_root(procfd, p, CMDLINE_MAX, &argv, &len) == 0) {
				if (shim)
					from_shim(procfd, ppid, argv, len, f);
				else
					from_conmon(argv, len, f);
				free(argv);
				f->pid = child;
				f->engine_pid = ppid;
				rc = f->id[0] ? 0 : -ENOENT;
			}
			break;
		}
		child = ppid;
	}
	close(procfd);
	return rc;
}

/* ---- the bundle and the engine's files ---- */

static void annotations(struct ctw_container *c, json_t *ann)
{
	static const struct {
		const char *name, *pod, *ns, *image;
	} keys[] = {
		/* containerd's CRI plugin */
		{"io.kubernetes.cri.container-name", "io.kubernetes.cri.sandbox-name",
		 "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.image-name"},
		/* CRI-O (and dockershim labels) */
		{"io.kubernetes.container.name", "io.kubernetes.pod.name",
		 "io.kubernetes.pod.namespace", "io.kubernetes.cri-o.ImageName"},
		/* nerdctl */
		{"nerdctl/name", "", "", ""},
	};
	if (!json_is_object(ann))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		copy(c->name, sizeof(c->name), jstr(ann, keys[i].name));
		copy(c->pod, sizeof(c->pod), jstr(ann, keys[i].pod));
		copy(c->namespace_, sizeof(c->namespace_), jstr(ann, keys[i].ns));
		copy(c->image, sizeof(c->image), jstr(ann, keys[i].image));
	}
}

static void labels_from(struct ctw_container *c, json_t *o)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return;
	json_object_foreach (o, k, v)
		if (json_is_string(v) && ctw_container_add_label(c, k, json_string_value(v)))
			pr_debug("engines: %s: label %.64s dropped", c->name, k);
}

/* Docker: config.v2.json in the directory the hostname mount comes from. */
static bool docker_files(int hostfd, json_t *cfg, struct ctw_container *c, uint64_t *created)
{
	size_t i;
	json_t *m;
	char dir[PATH_MAX] = "", p[PATH_MAX + 32];
	json_array_foreach (json_object_get(cfg, "mounts"), i, m) {
		const char *dst = jstr(m, "destination"), *src = jstr(m, "source");
		if (!dst || !src || strcmp(dst, "/etc/hostname"))
			continue;
		const char *slash = strrchr(src, '/');
		if (slash && slash > src && (size_t)(slash - src) < sizeof(dir)) {
			memcpy(dir, src, (size_t)(slash - src));
			dir[slash - src] = '\0';
		}
	}
	/* <data-root>/containers/<id>: the directory must be this container's */
	const char *base = strrchr(dir, '/');
	if (!base || strcmp(base + 1, c->id))
		return false;
	snprintf(p, sizeof(p), "%s/config.v2.json", dir);
	json_t *j = oci_json_load(hostfd, p, CONFIG_MAX);
	if (!j)
		return false;
	const char *name = jstr(j, "Name");
	if (name && *name)
		ctw_strlcpy(c->name, name[0] == '/' ? name + 1 : name, sizeof(c->name));
	json_t *conf = json_object_get(j, "Config");
	copy(c->image, sizeof(c->image), jstr(conf, "Image"));
	labels_from(c, json_object_get(conf, "Labels"));
	/* dockershim-era pods carry their identity as labels */
	annotations(c, json_object_get(conf, "Labels"));
	uint64_t t = oci_parse_time(jstr(json_object_get(j, "State"), "StartedAt"));
	if (t)
		*created = t;
	json_decref(j);
	return true;
}

/* Podman: <graphroot>/overlay-containers/containers.json, the bundle being
 * <graphroot>/overlay-containers/<id>/userdata. */
static bool podman_files(int hostfd, const char *bundle, struct ctw_container *c)
{
	char suffix[128], p[PATH_MAX];
	snprintf(suffix, sizeof(suffix), "/%s/userdata", c->id);
	size_t bl = strlen(bundle), sl = strlen(suffix);
	if (bl <= sl || strcmp(bundle + bl - sl, suffix))
		return false;
	if (snprintf(p, sizeof(p), "%.*s/containers.json", (int)(bl - sl), bundle) >=
	    (int)sizeof(p))
		return false;
	json_t *j = oci_json_load(hostfd, p, STORAGE_MAX);
	size_t i;
	json_t *e;
	bool found = false;
	json_array_foreach (j, i, e) {
		const char *id = jstr(e, "id");
		if (!id || strcmp(id, c->id))
			continue;
		found = true;
		json_t *names = json_object_get(e, "names");
		copy(c->name, sizeof(c->name), json_string_value(json_array_get(names, 0)));
		json_t *meta = json_loads(jstr(e, "metadata") ? jstr(e, "metadata") : "", 0, NULL);
		copy(c->image, sizeof(c->image), jstr(meta, "image-name"));
		json_decref(meta);
		break;
	}
	json_decref(j);
	/* labels: libpod's own state, <graphroot>/libpod/bolt_state.db */
	size_t gl = bl - sl; /* <graphroot>/overlay-containers */
	static const char oc[] = "/overlay-containers";
	if (gl >= sizeof(oc) - 1 && !strncmp(bundle + gl - (sizeof(oc) - 1), oc, sizeof(oc) - 1) &&
	    snprintf(p, sizeof(p), "%.*s/libpod/bolt_state.db", (int)(gl - (sizeof(oc) - 1)),
		     bundle) < (int)sizeof(p)) {
		const char *keys[] = {"ctr", c->id, "config"};
		size_t len = 0;
		char *cfg = bolt_get(hostfd, p, keys, ARRAY_SIZE(keys), &len);
		json_t *cj = cfg ? json_loadb(cfg, len, 0, NULL) : NULL;
		if (cfg && !cj)
			log_bad(p, "bad JSON in the container's config");
		labels_from(c, json_object_get(cj, "labels"));
		json_decref(cj);
		free(cfg);
	}
	return found;
}

/* A containerd's root and state dirs: --root/--state, else its config's
 * top-level `root = "..."` / `state = "..."` lines, else the defaults. */
static void containerd_process(int hostfd, const char *argv, size_t len)
{
	if (daemons.ncontainerd >= DAEMONS_MAX)
		return;
	char r[PATH_MAX] = "/var/lib/containerd", st[PATH_MAX] = "/run/containerd";
	const char *v = arg_value(argv, len, "--config");
	if (!v)
		v = arg_value(argv, len, "-c");
	char *conf = read_host(hostfd, v ? v : "/etc/containerd/config.toml", CONFIG_MAX, NULL);
	for (char *line = conf ? strtok(conf, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '[')
			break; /* tables follow: their root/state are a plugin's */
		char key[16], val[PATH_MAX];
		if (sscanf(line, "%15[a-z] = \"%4095[^\"]\"", key, val) != 2)
			continue;
		if (!strcmp(key, "root"))
			ctw_strlcpy(r, val, sizeof(r));
		else if (!strcmp(key, "state"))
			ctw_strlcpy(st, val, sizeof(st));
	}
	free(conf);
	if ((v = arg_value(argv, len, "--root")))
		ctw_strlcpy(r, v, sizeof(r));
	if ((v = arg_value(argv, len, "--state")))
		ctw_strlcpy(st, v, sizeof(st));
	ctw_strlcpy(daemons.containerd_root[daemons.ncontainerd], r, PATH_MAX);
	ctw_strlcpy(daemons.containerd_state[daemons.ncontainerd++], st, PATH_MAX);
}

/* containerd's root (meta.db lives there) for its state dir. */
static bool containerd_root(const struct oci_ctx *ctx, int hostfd, const char *state, char *root,
			    size_t size)
{
	learn_daemons(ctx, hostfd);
	for (size_t i = 0; i < daemons.ncontainerd; i++) {
		if (!strcmp(daemons.containerd_state[i], state)) {
			ctw_strlcpy(root, daemons.containerd_root[i], size);
			return true;
		}
	}
	if (!strcmp(state, "/run/containerd")) {
		ctw_strlcpy(root, "/var/lib/containerd", size);
		return true;
	}
	return false;
}

/* containerd: the image from its metadata database (ctr, nerdctl). */
static void containerd_files(const struct oci_ctx *ctx, int hostfd, const struct oci_found *f,
			     struct ctw_container *c)
{
	const char *mark = strstr(f->bundle, "/io.containerd.runtime.v2.task/");
	char state[PATH_MAX], root[PATH_MAX], db[PATH_MAX + 64];
	if (!mark || c->image[0] || (size_t)(mark - f->bundle) >= sizeof(state))
		return;
	memcpy(state, f->bundle, (size_t)(mark - f->bundle));
	state[mark - f->bundle] = '\0';
	if (!containerd_root(ctx, hostfd, state, root, sizeof(root)))
		return;
	snprintf(db, sizeof(db), "%s/io.containerd.metadata.v1.bolt/meta.db", root);
	const char *keys[] = {"v1", f->ns, "containers", f->id, "image"};
	char *img = bolt_get(hostfd, db, keys, ARRAY_SIZE(keys), NULL);
	copy(c->image, sizeof(c->image), img);
	free(img);
}

bool oci_enrich(const struct oci_ctx *ctx, const struct oci_found *f, struct ctw_container *c,
		uint64_t *created_ns)
{
	if (!f->id[0])
		return false;
	ctw_strlcpy(c->id, f->id, sizeof(c->id));
	if (!c->name[0] || !strncmp(c->name, c->id, strlen(c->name)))
		snprintf(c->name, sizeof(c->name), "%.12s", c->id);
	c->runtime = f->kind;
	if (f->kind == CTW_RT_CONTAINERD && f->ns[0])
		snprintf(c->name, sizeof(c->name), "%s/%s", f->ns, f->id);
	else if (f->kind == CTW_RT_UNKNOWN && strlen(f->id) < 64)
		ctw_strlcpy(c->name, f->id, sizeof(c->name)); /* runc ids are names */
	copy(c->name, sizeof(c->name), f->name);
	if (!f->bundle[0]) {
		if (c->runtime == CTW_RT_UNKNOWN)
			c->runtime = CTW_RT_OCI;
		return false;
	}
	int hostfd = open_host(ctx->host_root);
	if (hostfd < 0)
		return false;
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/config.json", f->bundle);
	json_t *cfg = oci_json_load(hostfd, p, CONFIG_MAX);
	if (!cfg) {
		close(hostfd);
		return false;
	}
	json_t *ann = json_object_get(cfg, "annotations");
	const char *mgr = jstr(ann, "io.container.manager");
	if (mgr && !strcmp(mgr, "libpod"))
		c->runtime = CTW_RT_PODMAN;
	else if (c->runtime == CTW_RT_UNKNOWN && jstr(ann, "io.kubernetes.cri-o.ContainerID"))
		c->runtime = CTW_RT_CRIO;
	/* a runc state found through /run/docker/runtime-runc/moby */
	if (c->runtime == CTW_RT_UNKNOWN && !strcmp(f->ns, "moby"))
		c->runtime = CTW_RT_DOCKER;
	else if (c->runtime == CTW_RT_UNKNOWN && f->ns[0] &&
		 strstr(f->bundle, "/io.containerd.runtime.v2.task/")) {
		c->runtime = CTW_RT_CONTAINERD;
		snprintf(c->name, sizeof(c->name), "%s/%s", f->ns, f->id);
	}
	annotations(c, ann);
	/* ctr and nerdctl put a container's labels in its annotations; a plain
	 * runc/crun container has only those */
	if ((c->runtime == CTW_RT_CONTAINERD || c->runtime == CTW_RT_UNKNOWN) &&
	    !jstr(ann, "io.kubernetes.cri.container-type")) {
		const char *k;
		json_t *v;
		json_object_foreach (ann, k, v)
			if (json_is_string(v) && !ctw_str_has_prefix(k, "io.kubernetes.") &&
			    !ctw_str_has_prefix(k, "nerdctl/"))
				ctw_container_add_label(c, k, json_string_value(v));
	}
	uint64_t created = f->created_ns;
	if (c->runtime == CTW_RT_DOCKER || c->runtime == CTW_RT_UNKNOWN) {
		if (docker_files(hostfd, cfg, c, &created))
			c->runtime = CTW_RT_DOCKER;
		if (created_ns && created)
			*created_ns = created;
	} else if (c->runtime == CTW_RT_PODMAN) {
		podman_files(hostfd, f->bundle, c);
	} else if (c->runtime == CTW_RT_CONTAINERD && f->ns[0]) {
		containerd_files(ctx, hostfd, f, c);
	}
	if (c->runtime == CTW_RT_UNKNOWN)
		c->runtime = CTW_RT_OCI;
	json_decref(cfg);
	close(hostfd);
	return true;
}

bool oci_identify(const struct oci_ctx *ctx, const char *id, int pid, const char *cgroup_rel,
		  struct ctw_container *c, uint64_t *created_ns)
{
	struct oci_found f;
	bool ok = id && oci_state_find(ctx, id, &f) == 0;
	if (ok && cgroup_rel && f.cgroup2[0] && strcmp(f.cgroup2, cgroup_rel))
		ok = false; /* same id, another container's state */
	if (!ok)
		ok = oci_parent_find(ctx, pid, &f) == 0;
	if (!ok)
		return false;
	if (created_ns && f.created_ns)
		*created_ns = f.created_ns;
	oci_enrich(ctx, &f, c, created_ns);
	return true;
}

/* ---- the registry's ways in ---- */

/* The v2 cgroup of a process, relative to the mount ("/a/b"). */
static bool cgroup_of(const char *proc_root, int pid, char *out, size_t size)
{
	char p[PATH_MAX], buf[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s/%d/cgroup", proc_root, pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *l = strstr(buf, "0::");
	if (!l || (l != buf && l[-1] != '\n'))
		return false;
	l += 3;
	l[strcspn(l, "\n")] = '\0';
	ctw_strlcpy(out, l, size);
	return true;
}

/* Cgroups (ids) seen with a process of no engine: not looked at again
 * (ids are never reused); forgotten all at once when full. */
static uint64_t not_ours[1024];
static size_t n_not_ours;

static bool was_not_ours(uint64_t id)
{
	for (size_t i = 0; i < n_not_ours; i++)
		if (not_ours[i] == id)
			return true;
	return false;
}

bool engine_oci_match(const struct engine_ctx *ctx, const char *cgroup_path, const char *cgroup_rel,
		      struct ctw_container *c)
{
	struct stat st;
	if (stat(cgroup_path, &st) < 0 || was_not_ours(st.st_ino))
		return false;
	char p[PATH_MAX + 32], line[32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", cgroup_path);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return false; /* no process yet: looked at again next scan */
	line[n] = '\0';
	int pid = atoi(line);
	struct oci_ctx octx = {.host_root = ctx->host_root,
			       .proc_root = ctx->proc_root ? ctx->proc_root : "/proc"};
	const char *base = strrchr(cgroup_rel, '/');
	base = base ? base + 1 : cgroup_rel;
	/* the basename may be the id (runc state), else the parent process */
	struct oci_found f;
	bool ok = safe_id(base) && oci_state_find(&octx, base, &f) == 0 && f.cgroup2[0] &&
		  !strcmp(f.cgroup2, cgroup_rel);
	if (!ok && oci_parent_find(&octx, pid, &f) == 0) {
		/* the engine process must be outside: a runc that the shim runs
		 * in its own cgroup is not a container */
		char ecg[PATH_MAX];
		ok = !cgroup_of(octx.proc_root, f.engine_pid, ecg, sizeof(ecg)) ||
		     strcmp(ecg, cgroup_rel);
	}
	if (!ok) {
		if (n_not_ours == ARRAY_SIZE(not_ours))
			n_not_ours = 0;
		not_ours[n_not_ours++] = st.st_ino;
		return false;
	}
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	oci_enrich(&octx, &f, c, NULL);
	return c->id[0] != '\0';
}

void engine_oci_enrich(const struct engine_ctx *ctx, const char *cgroup_rel,
		       struct ctw_container *c)
{
	char shortid[13];
	snprintf(shortid, sizeof(shortid), "%.12s", c->id);
	/* named and with an image: its engine's reader did the job */
	if (c->runtime == CTW_RT_CTRWATCH || (strcmp(c->name, shortid) && c->image[0]))
		return;
	struct oci_ctx octx = {.host_root = ctx->host_root,
			       .proc_root = ctx->proc_root ? ctx->proc_root : "/proc"};
	struct ctw_container found = {0};
	if (!oci_identify(&octx, c->id, c->pid, cgroup_rel, &found, NULL) ||
	    strcmp(found.id, c->id)) {
		ctw_container_release(&found);
		return;
	}
	if (!strcmp(c->name, shortid) || !c->name[0])
		ctw_strlcpy(c->name, found.name, sizeof(c->name));
	copy(c->image, sizeof(c->image), found.image);
	copy(c->pod, sizeof(c->pod), found.pod);
	copy(c->namespace_, sizeof(c->namespace_), found.namespace_);
	if (found.runtime != CTW_RT_OCI)
		c->runtime = found.runtime;
	const char *v;
	for (const char *k = NULL; (k = ctw_container_label_next(&found, k, &v));)
		if (!ctw_container_label(c, k))
			ctw_container_add_label(c, k, v);
	ctw_container_release(&found);
}
