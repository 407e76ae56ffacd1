// SPDX-License-Identifier: Apache-2.0
/*
 * Which cgroup is whose container: each engine of ctw_engines[] knows its
 * layouts (below, relative to the v2 mount), tried in the table's order:
 *
 *   Docker       .../docker-<id>.scope (systemd driver), .../docker/<id> (cgroupfs)
 *   containerd   .../cri-containerd-<id>.scope
 *   CRI-O        .../crio-<id>.scope, .../crio-<id>
 *   Podman       .../libpod-<id>.scope, .../libpod-<id>
 *   kubelet      kubepods[.slice]/<qos>/pod<uid>/<id> (cgroupfs) and
 *                kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/<scope>
 *
 * ctrwatch's own containers are known from its state (the "cgroup" path
 * each records), not by layout.  A container of any engine whose parent is
 * a pod cgroup below a kubepods one carries the pod's uid.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

#define MAX_COMPONENTS 64

const struct ctw_engine *const ctw_engines[] = {
	&ctw_engine_docker, &ctw_engine_containerd, &ctw_engine_crio,
	&ctw_engine_podman, &ctw_engine_kubelet,    NULL,
};

const struct ctw_engine *ctw_engine_of(enum ctw_runtime_kind kind)
{
	for (size_t i = 0; ctw_engines[i]; i++)
		if (ctw_engines[i]->kind == kind)
			return ctw_engines[i];
	return NULL;
}

bool engine_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

bool engine_scope_id(const char *b, const char *prefix, char *id, size_t idlen)
{
	if (!ctw_str_has_prefix(b, prefix))
		return false;
	const char *s = b + strlen(prefix);
	size_t n = strlen(s);
	if (ctw_str_has_suffix(s, ".scope"))
		n -= 6;
	if (n < 12 || n > 64 || n >= idlen || !engine_is_hex(s, n))
		return false;
	memcpy(id, s, n);
	id[n] = '\0';
	return true;
}

/* (systemd: the dashes of the uid turned into underscores) */
bool engine_pod_component(const char *b, char *uid, size_t uidlen)
{
	const char *u = NULL;
	size_t n = 0;
	if (ctw_str_has_prefix(b, "pod") && strlen(b) > 3 && !strchr(b, '.')) {
		u = b + 3;
		n = strlen(u);
	} else if (ctw_str_has_prefix(b, "kubepods") && ctw_str_has_suffix(b, ".slice")) {
		const char *p = strstr(b, "-pod");
		if (!p)
			return false;
		u = p + 4;
		n = strlen(u) - 6;
	}
	if (!u || n < 8 || n >= uidlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		if (!(isxdigit((unsigned char)c) || c == '-' || c == '_'))
			return false;
		uid[i] = c == '_' ? '-' : c;
	}
	uid[n] = '\0';
	return true;
}

int ctw_cgroup_parse_path(const char *rel, struct ctw_container *out)
{
	char buf[PATH_MAX];
	const char *comp[MAX_COMPONENTS];
	int n = 0;
	ctw_strlcpy(buf, rel, sizeof(buf));
	for (char *s = strtok(buf, "/"); s && n < (int)ARRAY_SIZE(comp); s = strtok(NULL, "/"))
		comp[n++] = s;
	if (!n)
		return 0;
	char id[72] = "";
	const struct ctw_engine *eng = NULL;
	for (size_t i = 0; ctw_engines[i] && !eng; i++)
		if (ctw_engines[i]->match(comp, n, id, sizeof(id)))
			eng = ctw_engines[i];
	if (!eng)
		return 0;
	/* Inside a pod: the pod's uid. */
	char uid[48] = "";
	bool in_kubepods = false;
	for (int i = 0; i < n - 1; i++)
		if (ctw_str_has_prefix(comp[i], "kubepods"))
			in_kubepods = true;
	if (!in_kubepods || n < 2 || !engine_pod_component(comp[n - 2], uid, sizeof(uid)))
		uid[0] = '\0';
	memset(out, 0, sizeof(*out));
	out->runtime = eng->kind;
	ctw_strlcpy(out->id, id, sizeof(out->id));
	snprintf(out->name, sizeof(out->name), "%.12s", id);
	ctw_strlcpy(out->pod_uid, uid, sizeof(out->pod_uid));
	return 1;
}

const char *ctw_runtime_kind_name(enum ctw_runtime_kind k)
{
	switch (k) {
	case CTW_RT_CTRWATCH: return "ctrwatch";
	case CTW_RT_DOCKER: return "docker";
	case CTW_RT_CONTAINERD: return "containerd";
	case CTW_RT_CRIO: return "cri-o";
	case CTW_RT_PODMAN: return "podman";
	case CTW_RT_KUBELET: return "kubelet";
	case CTW_RT_OCI: return "oci";
	case CTW_RT_UNKNOWN: break;
	}
	return "unknown";
}

void engine_annotations(struct ctw_container *c, json_t *ann, const char *name_k, const char *pod_k,
			const char *ns_k, const char *image_k)
{
	if (!json_is_object(ann))
		return;
	const char *v;
	if ((v = ctw_jstr(ann, name_k)) && *v)
		ctw_strlcpy(c->name, v, sizeof(c->name));
	if ((v = ctw_jstr(ann, pod_k)) && *v)
		ctw_strlcpy(c->pod, v, sizeof(c->pod));
	if ((v = ctw_jstr(ann, ns_k)) && *v)
		ctw_strlcpy(c->namespace_, v, sizeof(c->namespace_));
	if ((v = ctw_jstr(ann, image_k)) && *v)
		ctw_strlcpy(c->image, v, sizeof(c->image));
}
