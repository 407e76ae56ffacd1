// SPDX-License-Identifier: Apache-2.0
/*
 * struct ctw_spec → config.json text: what `spec` writes and what the
 * parser reads back to the same model (the fuzz target checks it).  Only
 * what is set is written; fields marked "ctrwatch" in spec.h never are.
 */
#include <string.h>

#include <jansson.h>

#include "internal.h"

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static void set_strv(json_t *o, const char *key, char *const *v)
{
	if (v)
		json_object_set_new(o, key, strv_json(v));
}

static void set_str(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, json_string(s));
}

static void set_i64(json_t *o, const char *key, struct ctw_oi64 v)
{
	if (v.set)
		json_object_set_new(o, key, json_integer(v.v));
}

static void set_u64(json_t *o, const char *key, struct ctw_ou64 v)
{
	if (v.set)
		json_object_set_new(o, key, json_integer((json_int_t)v.v));
}

static json_t *kvs_json(const struct ctw_kvs *kvs)
{
	json_t *o = json_object();
	for (size_t i = 0; i < kvs->n; i++)
		json_object_set_new(o, kvs->v[i].key, json_string(kvs->v[i].value));
	return o;
}

static json_t *caps_list(uint64_t mask)
{
	json_t *a = json_array();
	for (int c = 0; c < 64; c++) {
		if (!(mask & (1ull << c)) || !ctw_cap_name(c))
			continue;
		char name[40];
		snprintf(name, sizeof(name), "CAP_%s", ctw_cap_name(c));
		json_array_append_new(a, json_string(name));
	}
	return a;
}

static json_t *process_json(const struct ctw_spec_process *p)
{
	static const char *const sets[CTW_CAPS_MAX] = {
		[CTW_CAPS_BOUNDING] = "bounding",	[CTW_CAPS_EFFECTIVE] = "effective",
		[CTW_CAPS_INHERITABLE] = "inheritable", [CTW_CAPS_PERMITTED] = "permitted",
		[CTW_CAPS_AMBIENT] = "ambient",
	};
	json_t *o = json_object();
	json_object_set_new(o, "terminal", json_boolean(p->terminal));
	if (p->console_height.set || p->console_width.set) {
		json_t *cs = json_object();
		set_u64(cs, "height", p->console_height);
		set_u64(cs, "width", p->console_width);
		json_object_set_new(o, "consoleSize", cs);
	}
	/* A user resolved in the container at start: its name, no numbers
	 * (parse.c reads it back so). */
	json_t *u = p->user.resolve ? json_pack("{s:s}", "username", p->user.resolve)
				    : json_pack("{s:I, s:I}", "uid", (json_int_t)p->user.uid, "gid",
						(json_int_t)p->user.gid);
	set_u64(u, "umask", p->user.umask);
	if (p->user.n_additional_gids) {
		json_t *g = json_array();
		for (size_t i = 0; i < p->user.n_additional_gids; i++)
			json_array_append_new(g, json_integer(p->user.additional_gids[i]));
		json_object_set_new(u, "additionalGids", g);
	}
	json_object_set_new(o, "user", u);
	set_strv(o, "args", p->args);
	set_strv(o, "env", p->env);
	set_str(o, "cwd", p->cwd);
	if (p->caps_set) {
		json_t *c = json_object();
		for (int s = 0; s < CTW_CAPS_MAX; s++)
			json_object_set_new(c, sets[s], caps_list(p->caps[s]));
		json_object_set_new(o, "capabilities", c);
	}
	if (p->n_rlimits) {
		json_t *a = json_array();
		for (size_t i = 0; i < p->n_rlimits; i++)
			json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "type",
							   ctw_spec_rlimit_name(p->rlimits[i].type),
							   "hard", (json_int_t)p->rlimits[i].hard,
							   "soft", (json_int_t)p->rlimits[i].soft));
		json_object_set_new(o, "rlimits", a);
	}
	set_str(o, "apparmorProfile", p->apparmor_profile);
	json_object_set_new(o, "noNewPrivileges", json_boolean(p->no_new_privileges));
	set_i64(o, "oomScoreAdj", p->oom_score_adj);
	set_str(o, "selinuxLabel", p->selinux_label);
	if (p->io_class) {
		static const char *const classes[] = {"", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
						      "IOPRIO_CLASS_IDLE"};
		json_object_set_new(o, "ioPriority",
				    json_pack("{s:s, s:i}", "class", classes[p->io_class & 3],
					      "priority", p->io_priority));
	}
	return o;
}

static json_t *mounts_json(const struct ctw_spec *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct ctw_spec_mount *m = &s->mounts[i];
		json_t *o = json_pack("{s:s}", "destination", m->destination);
		set_str(o, "type", m->type);
		set_str(o, "source", m->source);
		set_strv(o, "options", m->options);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *hooks_json(const struct ctw_spec *s)
{
	json_t *h = json_object();
	for (int k = 0; k < CTW_HOOK_MAX; k++) {
		if (!s->hooks[k].n)
			continue;
		json_t *a = json_array();
		for (size_t i = 0; i < s->hooks[k].n; i++) {
			const struct ctw_spec_hook *hk = &s->hooks[k].v[i];
			json_t *o = json_pack("{s:s}", "path", hk->path);
			set_strv(o, "args", hk->args);
			set_strv(o, "env", hk->env);
			set_u64(o, "timeout", hk->timeout);
			json_array_append_new(a, o);
		}
		json_object_set_new(h, ctw_hook_kind_name((enum ctw_hook_kind)k), a);
	}
	return h;
}

static json_t *dev_rule_json(const struct ctw_spec_dev_rule *d)
{
	char access[4], *p = access, type[2] = {d->type, 0};
	if (d->access & CTW_DEV_READ)
		*p++ = 'r';
	if (d->access & CTW_DEV_WRITE)
		*p++ = 'w';
	if (d->access & CTW_DEV_MKNOD)
		*p++ = 'm';
	*p = '\0';
	json_t *o = json_pack("{s:b, s:s}", "allow", d->allow, "type", type);
	if (d->major >= 0)
		json_object_set_new(o, "major", json_integer(d->major));
	if (d->minor >= 0)
		json_object_set_new(o, "minor", json_integer(d->minor));
	/* An empty access list reads back as "all": write what it means. */
	json_object_set_new(o, "access", json_string(access[0] ? access : "rwm"));
	return o;
}

static json_t *blkio_json(const struct ctw_spec_blkio *b)
{
	json_t *o = json_object();
	set_u64(o, "weight", b->weight);
	set_u64(o, "leafWeight", b->leaf_weight);
	for (int l = 0; l < CTW_BLKIO_MAX; l++) {
		if (!b->n_dev[l])
			continue;
		json_t *a = json_array();
		for (size_t i = 0; i < b->n_dev[l]; i++) {
			const struct ctw_spec_blkio_dev *d = &b->dev[l][i];
			json_t *e = json_pack("{s:I, s:I}", "major", (json_int_t)d->major, "minor",
					      (json_int_t)d->minor);
			if (l == CTW_BLKIO_WEIGHT_DEVICE) {
				set_u64(e, "weight", d->weight);
				set_u64(e, "leafWeight", d->leaf_weight);
			} else {
				json_object_set_new(e, "rate", json_integer((json_int_t)d->rate));
			}
			json_array_append_new(a, e);
		}
		json_object_set_new(o, spec_blkio_list_name((enum ctw_blkio_list)l), a);
	}
	return o;
}

json_t *spec_resources_json(const struct ctw_spec_resources *r)
{
	json_t *o = json_object();
	if (r->n_devices) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->n_devices; i++)
			json_array_append_new(a, dev_rule_json(&r->devices[i]));
		json_object_set_new(o, "devices", a);
	}
	const struct ctw_spec_memory *m = &r->memory;
	json_t *mo = json_object();
	set_i64(mo, "limit", m->limit);
	set_i64(mo, "reservation", m->reservation);
	set_i64(mo, "swap", m->swap);
	set_i64(mo, "kernel", m->kernel);
	set_i64(mo, "kernelTCP", m->kernel_tcp);
	set_u64(mo, "swappiness", m->swappiness);
	if (m->disable_oom_killer_set)
		json_object_set_new(mo, "disableOOMKiller", json_boolean(m->disable_oom_killer));
	if (m->use_hierarchy_set)
		json_object_set_new(mo, "useHierarchy", json_boolean(m->use_hierarchy));
	if (m->check_before_update)
		json_object_set_new(mo, "checkBeforeUpdate", json_true());
	if (json_object_size(mo))
		json_object_set_new(o, "memory", mo);
	else
		json_decref(mo);
	const struct ctw_spec_cpu *c = &r->cpu;
	json_t *co = json_object();
	set_u64(co, "shares", c->shares);
	set_i64(co, "quota", c->quota);
	set_u64(co, "burst", c->burst);
	set_u64(co, "period", c->period);
	set_i64(co, "realtimeRuntime", c->realtime_runtime);
	set_u64(co, "realtimePeriod", c->realtime_period);
	set_str(co, "cpus", c->cpus);
	set_str(co, "mems", c->mems);
	set_i64(co, "idle", c->idle);
	if (json_object_size(co))
		json_object_set_new(o, "cpu", co);
	else
		json_decref(co);
	json_t *bo = blkio_json(&r->blkio);
	if (json_object_size(bo))
		json_object_set_new(o, "blockIO", bo);
	else
		json_decref(bo);
	if (r->n_hugepages) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->n_hugepages; i++)
			json_array_append_new(a, json_pack("{s:s, s:I}", "pageSize",
							   r->hugepages[i].page_size, "limit",
							   (json_int_t)r->hugepages[i].limit));
		json_object_set_new(o, "hugepageLimits", a);
	}
	if (r->net_class_id.set || r->net_priorities.n) {
		json_t *no = json_object();
		set_u64(no, "classID", r->net_class_id);
		if (r->net_priorities.n) {
			json_t *a = json_array();
			for (size_t i = 0; i < r->net_priorities.n; i++)
				json_array_append_new(
					a,
					json_pack("{s:s, s:I}", "name", r->net_priorities.v[i].key,
						  "priority",
						  (json_int_t)strtoll(r->net_priorities.v[i].value,
								      NULL, 10)));
			json_object_set_new(no, "priorities", a);
		}
		json_object_set_new(o, "network", no);
	}
	if (r->pids_limit.set)
		json_object_set_new(o, "pids",
				    json_pack("{s:I}", "limit", (json_int_t)r->pids_limit.v));
	if (r->unified.n)
		json_object_set_new(o, "unified", kvs_json(&r->unified));
	return o;
}

static json_t *seccomp_json(const struct ctw_spec_seccomp *sc)
{
	json_t *o = json_pack("{s:s}", "defaultAction", ctw_sc_action_name(sc->default_action));
	set_u64(o, "defaultErrnoRet", sc->default_errno_ret);
	set_strv(o, "architectures", sc->architectures);
	if (sc->flags) {
		json_t *a = json_array();
		for (unsigned b = 0; spec_sc_flag_name(b); b++)
			if (sc->flags & (1u << b))
				json_array_append_new(a, json_string(spec_sc_flag_name(b)));
		json_object_set_new(o, "flags", a);
	}
	set_str(o, "listenerPath", sc->listener_path);
	set_str(o, "listenerMetadata", sc->listener_metadata);
	json_t *calls = json_array();
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct ctw_spec_sc_rule *r = &sc->rules[i];
		json_t *ro = json_pack("{s:o, s:s}", "names", strv_json(r->names), "action",
				       ctw_sc_action_name(r->action));
		set_u64(ro, "errnoRet", r->errno_ret);
		if (r->n_args) {
			json_t *a = json_array();
			for (size_t k = 0; k < r->n_args; k++)
				json_array_append_new(
					a, json_pack("{s:i, s:I, s:I, s:s}", "index",
						     (int)r->args[k].index, "value",
						     (json_int_t)r->args[k].value, "valueTwo",
						     (json_int_t)r->args[k].value_two, "op",
						     ctw_sc_op_name(r->args[k].op)));
			json_object_set_new(ro, "args", a);
		}
		json_array_append_new(calls, ro);
	}
	json_object_set_new(o, "syscalls", calls);
	return o;
}

static json_t *idmaps_json(const struct ctw_spec_idmap *m, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "containerID",
						   (json_int_t)m[i].container_id, "hostID",
						   (json_int_t)m[i].host_id, "size",
						   (json_int_t)m[i].size));
	return a;
}

static json_t *linux_json(const struct ctw_spec_linux *l)
{
	json_t *o = json_object();
	if (l->n_uid_mappings)
		json_object_set_new(o, "uidMappings",
				    idmaps_json(l->uid_mappings, l->n_uid_mappings));
	if (l->n_gid_mappings)
		json_object_set_new(o, "gidMappings",
				    idmaps_json(l->gid_mappings, l->n_gid_mappings));
	if (l->sysctl.n)
		json_object_set_new(o, "sysctl", kvs_json(&l->sysctl));
	if (l->resources_set)
		json_object_set_new(o, "resources", spec_resources_json(&l->resources));
	set_str(o, "cgroupsPath", l->cgroups_path);
	json_t *ns = json_array();
	for (size_t i = 0; i < l->n_namespaces; i++) {
		json_t *e = json_pack("{s:s}", "type", ctw_ns_name(l->namespaces[i].type));
		set_str(e, "path", l->namespaces[i].path);
		json_array_append_new(ns, e);
	}
	json_object_set_new(o, "namespaces", ns);
	if (l->n_devices) {
		json_t *a = json_array();
		for (size_t i = 0; i < l->n_devices; i++) {
			const struct ctw_spec_device *d = &l->devices[i];
			char type[2] = {d->type, 0};
			json_t *e = json_pack("{s:s, s:s}", "type", type, "path", d->path);
			if (d->type != 'p') {
				json_object_set_new(e, "major", json_integer(d->major));
				json_object_set_new(e, "minor", json_integer(d->minor));
			}
			set_u64(e, "fileMode", d->file_mode);
			set_u64(e, "uid", d->uid);
			set_u64(e, "gid", d->gid);
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "devices", a);
	}
	if (l->seccomp)
		json_object_set_new(o, "seccomp", seccomp_json(l->seccomp));
	if (l->rootfs_propagation)
		set_str(o, "rootfsPropagation", spec_propagation_name(l->rootfs_propagation));
	set_strv(o, "maskedPaths", l->masked_paths);
	set_strv(o, "readonlyPaths", l->readonly_paths);
	set_str(o, "mountLabel", l->mount_label);
	if (l->personality_set)
		json_object_set_new(
			o, "personality",
			json_pack("{s:s}", "domain", l->personality ? "LINUX32" : "LINUX"));
	return o;
}

char *ctw_spec_to_json(const struct ctw_spec *s, bool pretty)
{
	json_t *o =
		json_pack("{s:s}", "ociVersion", s->oci_version ? s->oci_version : CTW_OCI_VERSION);
	if (s->process)
		json_object_set_new(o, "process", process_json(s->process));
	json_t *root = json_pack("{s:s}", "path", s->root.path ? s->root.path : "");
	if (s->root.readonly)
		json_object_set_new(root, "readonly", json_true());
	json_object_set_new(o, "root", root);
	set_str(o, "hostname", s->hostname);
	set_str(o, "domainname", s->domainname);
	json_object_set_new(o, "mounts", mounts_json(s));
	json_t *h = hooks_json(s);
	if (json_object_size(h))
		json_object_set_new(o, "hooks", h);
	else
		json_decref(h);
	if (s->annotations.n)
		json_object_set_new(o, "annotations", kvs_json(&s->annotations));
	json_object_set_new(o, "linux", linux_json(&s->linux));
	char *txt = json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return txt;
}
