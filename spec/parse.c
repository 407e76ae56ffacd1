// SPDX-License-Identifier: Apache-2.0
/*
 * config.json → struct ctw_spec, with jansson, through the walker of
 * walk.c: the top level, process, root, mounts, hooks and annotations here,
 * linux in parse_linux.c.  Unknown properties are ignored (runtime-spec:
 * "Runtimes MUST ignore unknown properties"); invalid values, and values
 * ctrwatch does not implement, are errors naming the field ("MUST generate
 * an error when invalid or unsupported values are encountered").  Checks
 * that span fields (a hostname needs a UTS namespace, mappings need a user
 * namespace, ...) come after the walk, in validate().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "internal.h"

#define SPEC_MAX (16u << 20)

/* ---- process ---- */

static const struct {
	const char *name;
	int type;
} rlimits[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

const char *ctw_spec_rlimit_name(int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (rlimits[i].type == type)
			return rlimits[i].name;
	return NULL;
}

static int rlimit_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	const struct ctw_spec_process *p = ctx;
	struct ctw_spec_rlimit *rl = elem;
	char *type = NULL;
	int64_t soft = 0, hard = 0;
	int r = pc_req_str(c, v, "type", &type);
	if (!r) {
		size_t k = 0;
		while (k < ARRAY_SIZE(rlimits) && strcmp(rlimits[k].name, type))
			k++;
		if (k == ARRAY_SIZE(rlimits))
			r = pc_fail_at(c, "type", "unknown rlimit %s", type);
		else
			rl->type = rlimits[k].type;
	}
	for (const struct ctw_spec_rlimit *o = p->rlimits; !r && o < rl; o++)
		if (o->type == rl->type)
			r = pc_fail(c, "%s given twice", type);
	(void)(r || (r = pc_req_i64(c, v, "soft", 0, INT64_MAX, &soft)) ||
	       (r = pc_req_i64(c, v, "hard", 0, INT64_MAX, &hard)));
	free(type);
	rl->soft = (uint64_t)soft;
	rl->hard = (uint64_t)hard;
	return r;
}

static int parse_caps(struct pc *c, json_t *o, struct ctw_spec_process *p)
{
	static const char *const sets[CTW_CAPS_MAX] = {
		[CTW_CAPS_BOUNDING] = "bounding",	[CTW_CAPS_EFFECTIVE] = "effective",
		[CTW_CAPS_INHERITABLE] = "inheritable", [CTW_CAPS_PERMITTED] = "permitted",
		[CTW_CAPS_AMBIENT] = "ambient",
	};
	json_t *caps;
	int r = pc_object(c, o, "capabilities", &caps);
	if (r || !caps)
		return r;
	p->caps_set = true;
	size_t m = pc_enter(c, "capabilities");
	pc_unknown(c, caps,
		   (const char *const[]){"bounding", "effective", "inheritable", "permitted",
					 "ambient", NULL});
	for (int s = 0; !r && s < CTW_CAPS_MAX; s++) {
		json_t *a, *v;
		size_t i;
		r = pc_array(c, caps, sets[s], &a);
		if (r || !a)
			continue;
		size_t ms = pc_enter(c, sets[s]);
		json_array_foreach (a, i, v) {
			size_t mi = pc_enter_idx(c, i);
			int cap = json_is_string(v) ? ctw_spec_cap_from_name(json_string_value(v))
						    : -EINVAL;
			if (!json_is_string(v))
				r = pc_fail(c, "not a string");
			else if (cap < 0)
				r = pc_fail(c, "unknown capability %s", json_string_value(v));
			else
				p->caps[s] |= 1ull << cap;
			pc_leave(c, mi);
			if (r)
				break;
		}
		pc_leave(c, ms);
	}
	pc_leave(c, m);
	return r;
}

static int parse_user(struct pc *c, json_t *o, struct ctw_spec_user *u)
{
	json_t *user, *a, *v;
	int r = pc_object(c, o, "user", &user);
	if (r || !user)
		return r;
	size_t m = pc_enter(c, "user"), i;
	struct ctw_oi64 t = {0};
	pc_unknown(
		c, user,
		(const char *const[]){"uid", "gid", "umask", "additionalGids", "username", NULL});
	r = pc_i64(c, user, "uid", 0, UINT32_MAX, &t);
	u->uid = (uint32_t)t.v;
	t.v = 0;
	if (!r)
		r = pc_i64(c, user, "gid", 0, UINT32_MAX, &t);
	u->gid = (uint32_t)t.v;
	if (!r)
		r = pc_u64(c, user, "umask", 07777, &u->umask);
	if (!r)
		r = pc_array(c, user, "additionalGids", &a);
	if (!r && a) {
		size_t ma = pc_enter(c, "additionalGids");
		u->additional_gids = xcalloc(json_array_size(a) + 1, sizeof(uint32_t));
		json_array_foreach (a, i, v) {
			size_t mi = pc_enter_idx(c, i);
			int64_t g = 0;
			r = pc_vi64(c, v, 0, UINT32_MAX, &g);
			pc_leave(c, mi);
			if (r)
				break;
			u->additional_gids[u->n_additional_gids++] = (uint32_t)g;
		}
		pc_leave(c, ma);
	}
	/* ctrwatch's own config.json (`run -u NAME`, spec_build.c): a
	 * username with no uid is resolved in the container at start.  An
	 * engine's always has the uid (required on Linux), and then the
	 * username means nothing here, as in runc. */
	if (!r && !json_object_get(user, "uid"))
		r = pc_str(c, user, "username", &u->resolve);
	pc_leave(c, m);
	return r;
}

static int parse_io_priority(struct pc *c, json_t *o, struct ctw_spec_process *p)
{
	static const char *const classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
					      "IOPRIO_CLASS_IDLE"};
	json_t *io;
	int r = pc_object(c, o, "ioPriority", &io);
	if (r || !io)
		return r;
	size_t m = pc_enter(c, "ioPriority");
	char *cls = NULL;
	int64_t prio = 0;
	r = pc_req_str(c, io, "class", &cls);
	if (!r) {
		for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
			if (!strcmp(cls, classes[i]))
				p->io_class = (int)i + 1;
		if (!p->io_class)
			r = pc_fail_at(c, "class", "unknown class %s", cls);
	}
	if (!r && pc_member(io, "priority"))
		r = pc_req_i64(c, io, "priority", 0, 7, &prio);
	p->io_priority = (int)prio;
	free(cls);
	pc_leave(c, m);
	return r;
}

static int parse_process_obj(struct pc *c, json_t *o, struct ctw_spec_process *p)
{
	static const char *const known[] = {
		"terminal",
		"consoleSize",
		"user",
		"args",
		"commandLine",
		"env",
		"cwd",
		"capabilities",
		"rlimits",
		"apparmorProfile",
		"noNewPrivileges",
		"oomScoreAdj",
		"selinuxLabel",
		"ioPriority",
		"scheduler",
		"execCPUAffinity",
		NULL,
	};
	json_t *cs;
	int r;
	pc_unknown(c, o, known);
	if ((r = pc_bool(c, o, "terminal", &p->terminal, NULL)) ||
	    (r = pc_object(c, o, "consoleSize", &cs)))
		return r;
	if (cs) {
		size_t m = pc_enter(c, "consoleSize");
		r = pc_u64(c, cs, "height", UINT16_MAX, &p->console_height);
		if (!r)
			r = pc_u64(c, cs, "width", UINT16_MAX, &p->console_width);
		pc_leave(c, m);
		if (r)
			return r;
	}
	if ((r = parse_user(c, o, &p->user)) || (r = pc_strv(c, o, "args", &p->args, NULL)) ||
	    (r = pc_strv(c, o, "env", &p->env, pc_check_env)) ||
	    (r = pc_req_str(c, o, "cwd", &p->cwd)))
		return r;
	if (!p->args || !p->args[0])
		return pc_fail_at(c, "args", "required (at least the command)");
	if ((r = pc_check_at(c, "cwd", pc_check_abs, p->cwd)))
		return r;
	struct ctw_oi64 oom = {0};
	if ((r = parse_caps(c, o, p)) ||
	    (r = pc_objects(c, o, "rlimits", sizeof(*p->rlimits), (void **)&p->rlimits,
			    &p->n_rlimits, rlimit_one, p)) ||
	    (r = pc_str(c, o, "apparmorProfile", &p->apparmor_profile)) ||
	    (r = pc_bool(c, o, "noNewPrivileges", &p->no_new_privileges, NULL)) ||
	    (r = pc_i64(c, o, "oomScoreAdj", -1000, 1000, &oom)) ||
	    (r = pc_str(c, o, "selinuxLabel", &p->selinux_label)) ||
	    (r = parse_io_priority(c, o, p)) || (r = pc_unsupported(c, o, "scheduler")) ||
	    (r = pc_unsupported(c, o, "execCPUAffinity")))
		return r;
	p->oom_score_adj = oom;
	return 0;
}

/* ---- root, mounts, hooks, annotations ---- */

static int parse_root(struct pc *c, json_t *o, struct ctw_spec_root *root)
{
	json_t *ro;
	int r = pc_object(c, o, "root", &ro);
	if (r)
		return r;
	if (!ro)
		return pc_fail(c, "root: required");
	size_t m = pc_enter(c, "root");
	pc_unknown(c, ro, (const char *const[]){"path", "readonly", NULL});
	r = pc_req_str(c, ro, "path", &root->path);
	if (!r && !root->path[0])
		r = pc_fail_at(c, "path", "empty");
	if (!r)
		r = pc_bool(c, ro, "readonly", &root->readonly, NULL);
	pc_leave(c, m);
	return r;
}

static int mount_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_mount *mt = elem;
	int r;
	pc_unknown(c, v,
		   (const char *const[]){"destination", "type", "source", "options", "uidMappings",
					 "gidMappings", NULL});
	(void)((r = pc_req_str(c, v, "destination", &mt->destination)) ||
	       (r = pc_check_at(c, "destination", pc_check_abs, mt->destination)) ||
	       (r = pc_str(c, v, "type", &mt->type)) || (r = pc_str(c, v, "source", &mt->source)) ||
	       (r = pc_strv(c, v, "options", &mt->options, NULL)) ||
	       (r = pc_unsupported(c, v, "uidMappings")) ||
	       (r = pc_unsupported(c, v, "gidMappings")));
	return r;
}

static const char *const hook_names[CTW_HOOK_MAX] = {
	[CTW_HOOK_PRESTART] = "prestart",
	[CTW_HOOK_CREATE_RUNTIME] = "createRuntime",
	[CTW_HOOK_CREATE_CONTAINER] = "createContainer",
	[CTW_HOOK_START_CONTAINER] = "startContainer",
	[CTW_HOOK_POSTSTART] = "poststart",
	[CTW_HOOK_POSTSTOP] = "poststop",
};

const char *ctw_hook_kind_name(enum ctw_hook_kind k)
{
	return (unsigned)k < CTW_HOOK_MAX ? hook_names[k] : "?";
}

static int hook_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_hook *hk = elem;
	int r;
	pc_unknown(c, v, (const char *const[]){"path", "args", "env", "timeout", NULL});
	(void)((r = pc_req_str(c, v, "path", &hk->path)) ||
	       (r = pc_check_at(c, "path", pc_check_abs, hk->path)) ||
	       (r = pc_strv(c, v, "args", &hk->args, NULL)) ||
	       (r = pc_strv(c, v, "env", &hk->env, pc_check_env)) ||
	       (r = pc_u64(c, v, "timeout", INT32_MAX, &hk->timeout)));
	if (!r && hk->timeout.set && !hk->timeout.v)
		r = pc_fail_at(c, "timeout", "must be greater than zero");
	return r;
}

static int parse_hooks(struct pc *c, json_t *o, struct ctw_spec *s)
{
	json_t *h;
	int r = pc_object(c, o, "hooks", &h);
	if (r || !h)
		return r;
	size_t m = pc_enter(c, "hooks");
	pc_unknown(c, h,
		   (const char *const[]){"prestart", "createRuntime", "createContainer",
					 "startContainer", "poststart", "poststop", NULL});
	for (int k = 0; !r && k < CTW_HOOK_MAX; k++)
		r = pc_objects(c, h, hook_names[k], sizeof(struct ctw_spec_hook),
			       (void **)&s->hooks[k].v, &s->hooks[k].n, hook_one, NULL);
	pc_leave(c, m);
	return r;
}

/* ---- checks across fields ---- */

static bool ns_new(const struct ctw_spec *s, enum ctw_ns_type t)
{
	const struct ctw_spec_ns *ns = ctw_spec_ns_get(s, t);
	return ns != NULL;
}

/* runc's rule: a sysctl only where its kernel namespace is the
 * container's own. */
static const char *sysctl_needs(const struct ctw_spec *s, const char *key)
{
	static const char *const ipc_keys[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
		if (!strcmp(key, ipc_keys[i]))
			return ns_new(s, CTW_NS_IPC) ? NULL : "an IPC namespace";
	if (ctw_str_has_prefix(key, "fs.mqueue."))
		return ns_new(s, CTW_NS_IPC) ? NULL : "an IPC namespace";
	if (ctw_str_has_prefix(key, "net."))
		return ns_new(s, CTW_NS_NETWORK) ? NULL : "a network namespace";
	if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
		return ns_new(s, CTW_NS_UTS) ? NULL : "a UTS namespace";
	return "a namespace of its own: it is not namespaced";
}

static int validate(struct pc *c, struct ctw_spec *s)
{
	const struct ctw_spec_ns *uts = ctw_spec_ns_get(s, CTW_NS_UTS);
	const struct ctw_spec_ns *user = ctw_spec_ns_get(s, CTW_NS_USER);
	int r = 0;
	/* runc's rule: a UTS namespace of the container's, new or joined. */
	if (s->hostname && *s->hostname && !uts)
		return pc_fail(c, "hostname: needs a UTS namespace (linux.namespaces)");
	if (s->domainname && *s->domainname && !uts)
		return pc_fail(c, "domainname: needs a UTS namespace (linux.namespaces)");
	if ((s->linux.n_uid_mappings || s->linux.n_gid_mappings) && (!user || user->path))
		return pc_fail(c, "linux.uidMappings: mappings need a new user namespace");
	if (user && !user->path && (!s->linux.n_uid_mappings || !s->linux.n_gid_mappings))
		return pc_fail(c, "linux.namespaces: a new user namespace needs linux.uidMappings "
				  "and linux.gidMappings");
	if (!ctw_spec_ns_get(s, CTW_NS_MOUNT))
		return pc_fail(c, "linux.namespaces: ctrwatch needs a mount namespace");
	for (size_t i = 0; i < s->linux.sysctl.n; i++) {
		const char *need = sysctl_needs(s, s->linux.sysctl.v[i].key);
		if (need) {
			size_t m = pc_enter(c, "linux.sysctl");
			r = pc_fail_at(c, s->linux.sysctl.v[i].key, "needs %s", need);
			pc_leave(c, m);
			return r;
		}
	}
	if (s->linux.seccomp && s->linux.seccomp->listener_path)
		return pc_fail(c, "linux.seccomp.listenerPath: not supported by ctrwatch");
	for (size_t i = 0; s->linux.seccomp && i < s->linux.seccomp->n_rules; i++)
		if (s->linux.seccomp->rules[i].action == CTW_SC_NOTIFY)
			return pc_fail(c,
				       "linux.seccomp.syscalls[%zu].action: SCMP_ACT_NOTIFY needs "
				       "a listener, not supported by ctrwatch",
				       i);
	if (s->linux.seccomp && s->linux.seccomp->default_action == CTW_SC_NOTIFY)
		return pc_fail(c, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported "
				  "by ctrwatch");
	return 0;
}

/* ---- entry points ---- */

static int check_version(struct pc *c, const char *v)
{
	unsigned maj, min, patch;
	char rest;
	int n = sscanf(v, "%u.%u.%u%c", &maj, &min, &patch, &rest);
	if (n < 3 || (n == 4 && rest != '-' && rest != '+'))
		return pc_fail(c, "ociVersion: `%s` is not a version like 1.0.2", v);
	if (maj != 1)
		return pc_fail(c, "ociVersion: %s is not supported (1.x)", v);
	return 0;
}

static json_t *load_json(struct pc *c, const char *text, size_t len)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		ctw_err_setx(c->err, EINVAL, "%s:%d:%d: invalid JSON: %s", c->name, je.line,
			     je.column, je.text);
	else if (!json_is_object(root)) {
		pc_fail(c, "not a JSON object");
		json_decref(root);
		root = NULL;
	}
	return root;
}

int ctw_spec_parse(const char *name, const char *text, size_t len, struct ctw_spec **out,
		   struct ctw_err *err)
{
	struct pc c = {.name = name, .err = err};
	json_t *root = load_json(&c, text, len), *po;
	*out = NULL;
	if (!root)
		return -EINVAL;
	static const char *const known[] = {
		"ociVersion",  "process", "root",    "hostname", "domainname", "mounts", "hooks",
		"annotations", "linux",	  "solaris", "windows",	 "vm",	       "zos",	 NULL,
	};
	struct ctw_spec *s = ctw_spec_new();
	int r;
	pc_unknown(&c, root, known);
	(void)((r = pc_req_str(&c, root, "ociVersion", &s->oci_version)) ||
	       (r = check_version(&c, s->oci_version)) ||
	       (r = pc_object(&c, root, "process", &po)));
	if (!r && po) {
		size_t m = pc_enter(&c, "process");
		s->process = xcalloc(1, sizeof(*s->process));
		r = parse_process_obj(&c, po, s->process);
		pc_leave(&c, m);
	}
	(void)(r || (r = parse_root(&c, root, &s->root)) ||
	       (r = pc_str(&c, root, "hostname", &s->hostname)) ||
	       (r = pc_str(&c, root, "domainname", &s->domainname)) ||
	       (r = pc_objects(&c, root, "mounts", sizeof(*s->mounts), (void **)&s->mounts,
			       &s->n_mounts, mount_one, NULL)) ||
	       (r = parse_hooks(&c, root, s)) ||
	       (r = pc_kvs(&c, root, "annotations", &s->annotations, NULL)) ||
	       (r = spec_parse_linux(&c, root, &s->linux)) || (r = validate(&c, s)));
	json_decref(root);
	if (r) {
		ctw_spec_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int ctw_spec_load(const char *path, struct ctw_spec **out, struct ctw_err *err)
{
	char *text;
	size_t len;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ctw_err_set(err, errno, "%s", path);
	int r = ctw_read_fd_capped(fd, SPEC_MAX, &text, &len);
	close(fd);
	if (r == -EFBIG)
		return ctw_err_setx(err, EFBIG, "%s: larger than %u MiB", path, SPEC_MAX >> 20);
	if (r)
		return ctw_err_set(err, -r, "read %s", path);
	r = ctw_spec_parse(path, text, len, out, err);
	free(text);
	return r;
}

int ctw_spec_process_parse(const char *name, const char *text, size_t len,
			   struct ctw_spec_process **out, struct ctw_err *err)
{
	struct pc c = {.name = name, .err = err};
	json_t *root = load_json(&c, text, len);
	*out = NULL;
	if (!root)
		return -EINVAL;
	struct ctw_spec_process *p = xcalloc(1, sizeof(*p));
	int r = parse_process_obj(&c, root, p);
	json_decref(root);
	if (r) {
		ctw_spec_process_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int ctw_spec_resources_parse(const char *name, const char *text, size_t len,
			     struct ctw_spec_resources *out, struct ctw_err *err)
{
	struct pc c = {.name = name, .err = err};
	json_t *root = load_json(&c, text, len);
	memset(out, 0, sizeof(*out));
	if (!root)
		return -EINVAL;
	int r = spec_parse_resources(&c, root, out);
	json_decref(root);
	if (r)
		ctw_spec_resources_fini(out);
	return r;
}
