// SPDX-License-Identifier: Apache-2.0
/* What a user typed (a name, an id or its prefix, a cgroup path, a PID) as
 * a container, and following it: its cgroup and every cgroup below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

static int resolve_cgroup_dir(struct ctw_registry *r, const char *dir, struct ctw_container *out)
{
	uint64_t id;
	int rc = ctw_cgroup_id_of_path(dir, &id);
	if (rc < 0)
		return rc == -ENOTDIR ? -EINVAL : -ENOENT;
	const struct ctw_container *c = ctw_registry_lookup(r, id);
	if (c) {
		ctw_container_copy(out, c);
		return 0;
	}
	/* Not a container we recognise: a bare cgroup, named by its path. */
	memset(out, 0, sizeof(*out));
	out->cgroup_id = id;
	out->runtime = CTW_RT_UNKNOWN;
	ctw_container_set_cgroup_path(out, dir);
	const char *rel = dir;
	if (ctw_str_has_prefix(dir, r->cgroup_root))
		rel = dir + strlen(r->cgroup_root);
	ctw_strlcpy(out->name, *rel ? rel : "/", sizeof(out->name));
	return 0;
}

int ctw_registry_resolve(struct ctw_registry *r, const char *spec, struct ctw_container *out)
{
	if (!spec || !*spec)
		return -EINVAL;
	if (!r->scanned)
		ctw_registry_scan(r);
	char path[PATH_MAX * 2];
	bool digits = true;
	for (const char *p = spec; *p; p++)
		if (*p < '0' || *p > '9')
			digits = false;
	/* Names first: a container may be called "1234". */
	for (size_t i = 0; i < r->n; i++) {
		if (!strcmp(r->ents[i]->c.name, spec) || !strcmp(r->ents[i]->c.id, spec)) {
			ctw_container_copy(out, &r->ents[i]->c);
			return 0;
		}
	}
	if (strchr(spec, '/')) {
		if (spec[0] == '/' && ctw_str_has_prefix(spec, r->cgroup_root))
			snprintf(path, sizeof(path), "%s", spec);
		else
			snprintf(path, sizeof(path), "%s/%s", r->cgroup_root,
				 spec + (spec[0] == '/'));
		return resolve_cgroup_dir(r, path, out);
	}
	/* A unique id prefix (before PIDs: ids can be all digits). */
	const struct ctw_container *hit = NULL;
	size_t len = strlen(spec);
	for (size_t i = 0; i < r->n; i++) {
		if (!strncmp(r->ents[i]->c.id, spec, len)) {
			if (hit)
				return -EINVAL; /* ambiguous */
			hit = &r->ents[i]->c;
		}
	}
	if (hit) {
		ctw_container_copy(out, hit);
		return 0;
	}
	if (digits) {
		char rel[PATH_MAX];
		int rc = ctw_cgroup_of_pid(r->proc_root, atoi(spec), rel, sizeof(rel));
		if (rc < 0)
			return -ENOENT;
		snprintf(path, sizeof(path), "%s%s", r->cgroup_root, rel);
		rc = resolve_cgroup_dir(r, path, out);
		if (rc == 0 && !out->pid)
			out->pid = atoi(spec);
		return rc;
	}
	return -ENOENT;
}

int ctw_containers_follow(struct ctw_registry *r, const char *spec, struct ctw_container *out,
			  ctw_cgroup_cb cb, void *ctx)
{
	int rc = ctw_registry_resolve(r, spec, out);
	if (rc < 0)
		return rc;
	rc = ctw_cgroup_walk(out->cgroup_path, cb, ctx);
	if (rc < 0)
		ctw_container_release(out);
	return rc == -ENOTDIR ? -ENOENT : rc;
}
