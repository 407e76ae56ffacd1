// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch run`'s image and flags → the OCI spec the runtime executes, as
 * an engine would write it: Docker's defaults (mounts, masked paths,
 * capabilities, the seccomp profile, the device allowlist), the image's
 * Entrypoint, Cmd, Env, WorkingDir and User, then the flags.  Pure: every
 * input comes in struct ctw_run_spec_in (our environment and capability
 * bounding set too), so it is tested without root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>

#include "internal.h"
#include "../image/image.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static char **strv_of(const char *const *v, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* The value of K in env ("K=V" strings), or NULL. */
static const char *env_get(const char *const *env, const char *key, size_t kl)
{
	for (; env && *env; env++)
		if (!strncmp(*env, key, kl) && (*env)[kl] == '=')
			return *env + kl + 1;
	return NULL;
}

/* Set K=V, replacing an earlier K (O(1): envb).  "K" alone is taken from
 * ours when ours is given (`docker run -e K`) and skipped otherwise: the
 * image's Env never reads our environment. */
static int env_put(struct envb *e, const char *kv, const char *const *ours, struct ctw_err *err)
{
	if (strchr(kv, '='))
		return envb_set(e, kv, err);
	const char *v = ours ? env_get(ours, kv, strlen(kv)) : NULL;
	if (!v)
		return 0;
	char *s = xasprintf("%s=%s", kv, v);
	int r = envb_set(e, s, err);
	free(s);
	return r;
}

static int build_process(const struct ctw_run_spec_in *in, struct ctw_spec_process *p,
			 struct ctw_err *err)
{
	const struct ctw_run_opts *o = in->opts;
	const struct ctw_image_config *ic = in->image;
	char **ep = o->entrypoint_set ? o->entrypoint : ic ? ic->entrypoint : NULL;
	/* An explicit --entrypoint drops the image's Cmd, as Docker does. */
	char **cmd = o->cmd && o->cmd[0] ? o->cmd : (!o->entrypoint_set && ic) ? ic->cmd : NULL;
	size_t n = 0;
	for (char **a = ep; a && *a; a++)
		strv_push(&p->args, &n, xstrdup(*a));
	for (char **a = cmd; a && *a; a++)
		strv_push(&p->args, &n, xstrdup(*a));
	if (!n)
		return ctw_err_setx(err, EINVAL,
				    "no command specified (the image has no Cmd or Entrypoint)");
	struct envb e;
	envb_init(&e);
	int r = envb_set(&e, DEFAULT_PATH, err);
	for (char **v = ic ? ic->env : NULL; !r && v && *v; v++)
		r = env_put(&e, *v, NULL, err);
	char *h = xasprintf("HOSTNAME=%s", in->hostname);
	if (!r)
		r = envb_set(&e, h, err);
	free(h);
	if (!r && o->tty)
		r = envb_set(&e, "TERM=xterm", err);
	for (char **v = o->env; !r && v && *v; v++)
		r = env_put(&e, *v, in->our_env, err);
	p->env = envb_steal(&e);
	if (r)
		return r;

	const char *wd = o->workdir ? o->workdir : ic && ic->workdir ? ic->workdir : NULL;
	/* An image's relative WorkingDir is from /, as Docker reads it. */
	p->cwd = !wd || !*wd ? xstrdup("/") : wd[0] == '/' ? xstrdup(wd) : xasprintf("/%s", wd);
	const char *user = o->user ? o->user : ic && ic->user && *ic->user ? ic->user : NULL;
	if (user)
		p->user.resolve = xstrdup(user);
	p->terminal = o->tty;

	/* Never more than we have ourselves (our bounding set). */
	uint64_t caps;
	if (o->privileged) {
		caps = in->bounding;
	} else {
		caps = o->cap_drop_all ? 0 : ctw_caps_default();
		caps &= ~o->cap_drop;
		caps |= o->cap_add_all ? in->bounding : o->cap_add;
		caps &= in->bounding;
	}
	p->caps_set = true;
	p->caps[CTW_CAPS_BOUNDING] = p->caps[CTW_CAPS_EFFECTIVE] = p->caps[CTW_CAPS_PERMITTED] =
		caps;
	p->no_new_privileges = o->no_new_privs && !o->privileged;
	return 0;
}

static void add_mount(struct ctw_spec *s, const char *dst, const char *type, const char *src,
		      const char *const *opts, size_t nopts)
{
	s->mounts = xrealloc(s->mounts, (s->n_mounts + 1) * sizeof(*s->mounts));
	struct ctw_spec_mount *m = &s->mounts[s->n_mounts++];
	m->destination = xstrdup(dst);
	m->type = type ? xstrdup(type) : NULL;
	m->source = src ? xstrdup(src) : NULL;
	m->options = strv_of(opts, nopts);
}

#define MOUNT(s, dst, type, src, ...)                                    \
	add_mount(s, dst, type, src, (const char *const[]){__VA_ARGS__}, \
		  sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

static void build_mounts(const struct ctw_run_spec_in *in, struct ctw_spec *s)
{
	const struct ctw_run_opts *o = in->opts;
	const char *ro = o->privileged ? "rw" : "ro";
	MOUNT(s, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
	MOUNT(s, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
	MOUNT(s, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
	      "mode=0620", "gid=5");
	MOUNT(s, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777",
	      "size=65536k");
	MOUNT(s, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
	MOUNT(s, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", ro);
	MOUNT(s, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", ro);
	if (in->files_dir) {
		/* resolv.conf is the network's (bridge, container:); hosts and
		 * hostname are written for every container. */
		static const char *const files[] = {"resolv.conf", "hosts", "hostname"};
		bool net_files = o->net.mode == CTW_NET_BRIDGE || o->net.mode == CTW_NET_CONTAINER;
		for (size_t i = net_files ? 0 : 1; i < ARRAY_SIZE(files); i++) {
			char *src = xasprintf("%s/%s", in->files_dir, files[i]);
			char *dst = xasprintf("/etc/%s", files[i]);
			MOUNT(s, dst, "bind", src, "rbind", "rprivate");
			free(src);
			free(dst);
		}
	}
	for (size_t i = 0; i < o->nvolumes; i++) {
		const struct ctw_volume *v = &o->volumes[i];
		if (v->tmpfs) {
			/* nosuid, nodev and the options as written ("size=64m,mode=1777"). */
			add_mount(s, v->dst, "tmpfs", "tmpfs",
				  (const char *const[]){"nosuid", "nodev"}, 2);
			char ***list = &s->mounts[s->n_mounts - 1].options;
			size_t n = 2;
			char *opts = xstrdup(v->tmpfs_opts ? v->tmpfs_opts : "mode=1777");
			for (char *save, *t = strtok_r(opts, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				strv_push(list, &n, xstrdup(t));
			free(opts);
			continue;
		}
		if (v->ro)
			MOUNT(s, v->dst, "bind", v->src, "rbind", "rprivate", "ro");
		else
			MOUNT(s, v->dst, "bind", v->src, "rbind", "rprivate");
	}
}

/* The devices a container's /dev holds, ptys and tun, and mknod of
 * anything (runc's default rules); the last matching rule wins. */
static const struct ctw_spec_dev_rule default_devices[] = {
	{false, 'a', -1, -1, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},
	{true, 'a', -1, -1, CTW_DEV_MKNOD},
	{true, 'c', 1, 3, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* null */
	{true, 'c', 1, 5, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* zero */
	{true, 'c', 1, 7, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* full */
	{true, 'c', 1, 8, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* random */
	{true, 'c', 1, 9, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* urandom */
	{true, 'c', 5, 0, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* tty */
	{true, 'c', 5, 1, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* console */
	{true, 'c', 5, 2, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD},    /* ptmx */
	{true, 'c', 136, -1, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD}, /* pts */
	{true, 'c', 10, 200, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD}, /* tun */
};

static int build_linux(const struct ctw_run_spec_in *in, struct ctw_spec *s, struct ctw_err *err)
{
	const struct ctw_run_opts *o = in->opts;
	struct ctw_spec_linux *l = &s->linux;
	static const enum ctw_ns_type always[] = {CTW_NS_PID, CTW_NS_MOUNT, CTW_NS_IPC, CTW_NS_UTS,
						  CTW_NS_CGROUP};
	l->namespaces = xcalloc(ARRAY_SIZE(always) + 1, sizeof(*l->namespaces));
	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		l->namespaces[l->n_namespaces++].type = always[i];
	if (o->net.mode == CTW_NET_CONTAINER) {
		if (!in->net_path)
			return ctw_err_setx(err, EINVAL, "--net container:%s: no namespace",
					    o->net_target ? o->net_target : "?");
		l->namespaces[l->n_namespaces].type = CTW_NS_NETWORK;
		l->namespaces[l->n_namespaces++].path = xstrdup(in->net_path);
	} else if (o->net.mode != CTW_NET_HOST) {
		l->namespaces[l->n_namespaces++].type = CTW_NS_NETWORK;
	}

	const char *parent = in->cgroup_parent;
	if (!strcmp(parent, "..") || strstr(parent, "../") || ctw_str_has_suffix(parent, "/.."))
		return ctw_err_setx(err, EINVAL, "cgroup parent `%s`: `..` is not allowed", parent);
	l->cgroups_path =
		xasprintf("%s%s%s", parent, ctw_str_has_suffix(parent, "/") ? "" : "/", in->id);

	l->resources_set = true;
	struct ctw_spec_resources *r = &l->resources;
	if (o->privileged) {
		r->devices = xcalloc(1, sizeof(*r->devices));
		r->devices[0] = (struct ctw_spec_dev_rule){
			true, 'a', -1, -1, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD};
		r->n_devices = 1;
	} else {
		r->devices = xcalloc(ARRAY_SIZE(default_devices), sizeof(*r->devices));
		memcpy(r->devices, default_devices, sizeof(default_devices));
		r->n_devices = ARRAY_SIZE(default_devices);
	}
	if (o->memory) {
		/* No swap beyond the limit, so that the limit means OOM. */
		r->memory.limit = (struct ctw_oi64){(int64_t)o->memory, true};
		r->memory.swap = r->memory.limit;
	}
	if (o->cpus_milli) {
		r->cpu.quota = (struct ctw_oi64){(int64_t)(o->cpus_milli * 100), true};
		r->cpu.period = (struct ctw_ou64){100000, true};
	}
	if (o->pids_limit > 0)
		r->pids_limit = (struct ctw_oi64){o->pids_limit, true};

	if (!o->privileged) {
		l->masked_paths = strv_of(masked_paths, ARRAY_SIZE(masked_paths));
		l->readonly_paths = strv_of(ro_paths, ARRAY_SIZE(ro_paths));
	}
	if (!o->privileged && (!o->seccomp || strcmp(o->seccomp, "unconfined"))) {
		uint64_t caps = s->process->caps[CTW_CAPS_BOUNDING];
		if (o->seccomp && *o->seccomp)
			return seccomp_spec_docker(o->seccomp, caps, &l->seccomp, err);
		l->seccomp = seccomp_spec_default(caps);
	}
	return 0;
}

int ctw_run_spec_build(const struct ctw_run_spec_in *in, struct ctw_spec **out, struct ctw_err *err)
{
	struct ctw_spec *s = ctw_spec_new();
	int r;
	*out = NULL;
	s->oci_version = xstrdup(CTW_OCI_VERSION);
	s->process = xcalloc(1, sizeof(*s->process));
	s->hostname = xstrdup(in->hostname);
	s->root.path = xstrdup(in->rootfs);
	s->root.readonly = in->opts->read_only;
	s->root.overlay_lower = xstrdup(in->lowerdirs);
	s->root.overlay_upper = in->upper ? xstrdup(in->upper) : NULL;
	s->root.overlay_work = in->work ? xstrdup(in->work) : NULL;
	s->root.overlay_volatile = in->volatile_upper;
	r = build_process(in, s->process, err);
	if (!r) {
		build_mounts(in, s);
		r = build_linux(in, s, err);
	}
	if (r) {
		ctw_spec_free(s);
		return r;
	}
	*out = s;
	return 0;
}
