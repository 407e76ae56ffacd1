// SPDX-License-Identifier: Apache-2.0
/* ctrwatch's own containers, from the state each `run` writes
 * (<state>/<id>/state.json): name, image, labels and the cgroup paths. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

void entry_copy_v1(struct entry *e, const char *ctrl, const char *dir)
{
	if (strlen(dir) >= V1_PATH_MAX) {
		pr_debug("discovery: %s: v1 %s dir too long, not read", e->c.name, ctrl);
		return;
	}
	char **slot = NULL;
	if (!strcmp(ctrl, "memory"))
		slot = &e->v1_memory;
	else if (!strcmp(ctrl, "cpuacct") || !strcmp(ctrl, "cpu,cpuacct") || !strcmp(ctrl, "cpu"))
		slot = &e->v1_cpuacct;
	else if (!strcmp(ctrl, "pids"))
		slot = &e->v1_pids;
	if (!slot)
		return;
	free(*slot);
	*slot = xstrdup(dir);
}

void entry_release(struct entry *e)
{
	ctw_container_release(&e->c);
	free(e->v1_memory);
	free(e->v1_cpuacct);
	free(e->v1_pids);
	e->v1_memory = e->v1_cpuacct = e->v1_pids = NULL;
}

void entry_copy(struct entry *dst, const struct entry *src)
{
	*dst = *src;
	ctw_container_copy(&dst->c, &src->c);
	dst->v1_memory = src->v1_memory ? xstrdup(src->v1_memory) : NULL;
	dst->v1_cpuacct = src->v1_cpuacct ? xstrdup(src->v1_cpuacct) : NULL;
	dst->v1_pids = src->v1_pids ? xstrdup(src->v1_pids) : NULL;
	memset(dst->res_fd, 0, sizeof(dst->res_fd));
}

bool ctrwatch_read_state(const char *path, struct entry *e)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		pr_debug("discovery: %s: %s", path, jerr.text);
		return false;
	}
	bool ok = false;
	const char *status = ctw_jstr(j, "status");
	const char *cg = ctw_jstr(j, "cgroup");
	if (!cg || (status && (!strcmp(status, "exited") || !strcmp(status, "stopped") ||
			       !strcmp(status, "dead")))) {
		pr_debug("discovery: %s: status %s, no cgroup or not running", path,
			 status ? status : "?");
		goto out;
	}
	memset(e, 0, sizeof(*e));
	e->c.runtime = CTW_RT_CTRWATCH;
	ctw_strlcpy(e->c.id, ctw_jstr(j, "id") ? ctw_jstr(j, "id") : "", sizeof(e->c.id));
	ctw_strlcpy(e->c.name, ctw_jstr(j, "name") ? ctw_jstr(j, "name") : "", sizeof(e->c.name));
	if (!e->c.name[0])
		snprintf(e->c.name, sizeof(e->c.name), "%.12s", e->c.id);
	ctw_strlcpy(e->c.image, ctw_jstr(j, "image") ? ctw_jstr(j, "image") : "",
		    sizeof(e->c.image));
	ctw_container_set_cgroup_path(&e->c, cg);
	json_t *pid = json_object_get(j, "pid");
	e->c.pid = json_is_integer(pid) ? (int)json_integer_value(pid) : 0;
	json_t *cid = json_object_get(j, "cgroup_id");
	if (json_is_integer(cid))
		e->c.cgroup_id = (uint64_t)json_integer_value(cid);
	json_t *v1 = json_object_get(j, "cgroup_v1");
	const char *k;
	json_t *v;
	if (json_is_object(v1))
		json_object_foreach (v1, k, v)
			if (json_is_string(v))
				entry_copy_v1(e, k, json_string_value(v));
	labels_from_json(&e->c, json_object_get(j, "labels"));
	e->enriched = true;
	ok = true;
out:
	json_decref(j);
	return ok;
}
