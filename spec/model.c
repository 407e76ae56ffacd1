// SPDX-License-Identifier: Apache-2.0
/* The spec model's lifetime: allocation, freeing, small lookups. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

char **strv_dup(char *const *v)
{
	if (!v)
		return NULL;
	size_t n = 0;
	while (v[n])
		n++;
	char **d = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

void strv_add(char ***v, const char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

const char *ctw_kvs_get(const struct ctw_kvs *kvs, const char *key)
{
	for (size_t i = 0; i < kvs->n; i++)
		if (!strcmp(kvs->v[i].key, key))
			return kvs->v[i].value;
	return NULL;
}

void ctw_kvs_set(struct ctw_kvs *kvs, const char *key, const char *value)
{
	for (size_t i = 0; i < kvs->n; i++) {
		if (!strcmp(kvs->v[i].key, key)) {
			free(kvs->v[i].value);
			kvs->v[i].value = xstrdup(value);
			return;
		}
	}
	kvs->v = xrealloc(kvs->v, (kvs->n + 1) * sizeof(*kvs->v));
	kvs->v[kvs->n].key = xstrdup(key);
	kvs->v[kvs->n].value = xstrdup(value);
	kvs->n++;
}

void ctw_kvs_fini(struct ctw_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].value);
	}
	free(kvs->v);
	kvs->v = NULL;
	kvs->n = 0;
}

struct ctw_spec *ctw_spec_new(void)
{
	return xcalloc(1, sizeof(struct ctw_spec));
}

void ctw_spec_process_free(struct ctw_spec_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	free(p->user.resolve);
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

void ctw_spec_seccomp_free(struct ctw_spec_seccomp *sc)
{
	if (!sc)
		return;
	strv_free(sc->architectures);
	free(sc->listener_path);
	free(sc->listener_metadata);
	for (size_t i = 0; i < sc->n_rules; i++) {
		strv_free(sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc);
}

void ctw_spec_resources_fini(struct ctw_spec_resources *r)
{
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	for (int l = 0; l < CTW_BLKIO_MAX; l++)
		free(r->blkio.dev[l]);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	ctw_kvs_fini(&r->net_priorities);
	ctw_kvs_fini(&r->unified);
	memset(r, 0, sizeof(*r));
}

void ctw_spec_free(struct ctw_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	ctw_spec_process_free(s->process);
	free(s->root.path);
	free(s->root.overlay_lower);
	free(s->root.overlay_upper);
	free(s->root.overlay_work);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		strv_free(s->mounts[i].options);
	}
	free(s->mounts);
	for (int k = 0; k < CTW_HOOK_MAX; k++) {
		for (size_t i = 0; i < s->hooks[k].n; i++) {
			free(s->hooks[k].v[i].path);
			strv_free(s->hooks[k].v[i].args);
			strv_free(s->hooks[k].v[i].env);
		}
		free(s->hooks[k].v);
	}
	ctw_kvs_fini(&s->annotations);
	struct ctw_spec_linux *l = &s->linux;
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	ctw_spec_resources_fini(&l->resources);
	ctw_kvs_fini(&l->sysctl);
	ctw_spec_seccomp_free(l->seccomp);
	strv_free(l->masked_paths);
	strv_free(l->readonly_paths);
	free(l->mount_label);
	free(s);
}

const struct ctw_spec_ns *ctw_spec_ns_get(const struct ctw_spec *s, enum ctw_ns_type t)
{
	for (size_t i = 0; i < s->linux.n_namespaces; i++)
		if (s->linux.namespaces[i].type == t)
			return &s->linux.namespaces[i];
	return NULL;
}

int ctw_ns_flag(enum ctw_ns_type t)
{
	static const int flags[CTW_NS_MAX] = {
		[CTW_NS_PID] = CLONE_NEWPID,	   [CTW_NS_NETWORK] = CLONE_NEWNET,
		[CTW_NS_MOUNT] = CLONE_NEWNS,	   [CTW_NS_IPC] = CLONE_NEWIPC,
		[CTW_NS_UTS] = CLONE_NEWUTS,	   [CTW_NS_USER] = CLONE_NEWUSER,
		[CTW_NS_CGROUP] = CLONE_NEWCGROUP, [CTW_NS_TIME] = CLONE_NEWTIME,
	};
	return (unsigned)t < CTW_NS_MAX ? flags[t] : 0;
}

int ctw_spec_cap_from_name(const char *name)
{
	if (strncasecmp(name, "CAP_", 4))
		return -EINVAL;
	int c = ctw_cap_from_name(name);
	return c >= 0 ? c : -EINVAL;
}
