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
	if (!strcmp(ctrl, "memory"))
		ctw_strlcpy(e->v1_memory, dir, sizeof(e->v1_memory));
	else if (!strcmp(ctrl, "cpuacct") || !strcmp(ctrl, "cpu,cpuacct") || !strcmp(ctrl, "cpu"))
		ctw_strlcpy(e->v1_cpuacct, dir, sizeof(e->v1_cpuacct));
	else if (!strcmp(ctrl, "pids"))
		ctw_strlcpy(e->v1_pids, dir, sizeof(e->v1_pids));
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
	ctw_strlcpy(e->c.cgroup_path, cg, sizeof(e->c.cgroup_path));
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
