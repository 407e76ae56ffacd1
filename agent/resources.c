// SPDX-License-Identifier: Apache-2.0
/*
 * The `resources` module: every container's CPU, memory, memory limit,
 * pids and OOM kills from its cgroup files (v2, or the v1 controllers on
 * hybrid hosts; the registry reads them, ctw_registry_resources), and
 * ctrwatch_container_info.  No BPF: it only collects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "../lib/lib.h"

struct resources {
	struct ctw_registry *reg;
	/* the last read of each container's files, in registry order */
	struct ctw_cgroup_resources *res;
	uint64_t *res_ids;
	size_t nres;
	uint64_t res_at_ns;
};

/* The container's cgroup below the watched cgroup root: what cAdvisor calls
 * `id` ("/kubepods.slice/.../cri-containerd-<id>.scope"), so that
 * ctrwatch_container_info joins cAdvisor's series on it. */
static const char *cgroup_id_label(struct ctw_registry *reg, const struct ctw_container *c)
{
	const char *root = ctw_registry_cgroup_root(reg);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (!strncmp(c->cgroup_path, root, n) && c->cgroup_path[n] == '/')
		return c->cgroup_path + n;
	return c->cgroup_path;
}

static void resources_collect(void *state, struct ctw_metrics *m)
{
	struct resources *rs = state;
	size_t n = ctw_registry_count(rs->reg);
	/* The cgroup files are read at most once a second (a few hundred
	 * file reads for a hundred containers would dominate the scrape);
	 * a container new since then is read at once. */
	uint64_t now = ctw_now_ns();
	bool fresh = now - rs->res_at_ns > 1000000000ull || rs->nres != n;
	if (fresh) {
		rs->res = xrealloc(rs->res, (n ? n : 1) * sizeof(*rs->res));
		rs->res_ids = xrealloc(rs->res_ids, (n ? n : 1) * sizeof(*rs->res_ids));
		rs->nres = n;
		rs->res_at_ns = now;
	}
	struct ctw_cgroup_resources *res = rs->res;
	for (size_t i = 0; i < n; i++) {
		const struct ctw_container *c = ctw_registry_at(rs->reg, i);
		if (!fresh && rs->res_ids[i] == c->cgroup_id)
			continue;
		ctw_registry_resources(rs->reg, c, &res[i]);
		rs->res_ids[i] = c->cgroup_id;
	}
	for (size_t f = 0; f < CTW_M_RESOURCES_N; f++) {
		ctw_metrics_declare(m, &ctw_agent_resource_metrics[f]);
		for (size_t i = 0; i < n; i++) {
			const struct ctw_container *c = ctw_registry_at(rs->reg, i);
			const char *l[20];
			char cid[CTW_SHORT_ID_SIZE];
			char cgid[24]; /* in l until the sample is written */
			size_t k = ctw_agent_container_labels(c, cid, l, 12);
			const struct ctw_cgroup_resources *r = &res[i];
			bool has = true;
			double v = 0;
			switch (f) {
			case CTW_M_CONTAINER_INFO: {
				snprintf(cgid, sizeof(cgid), "%llu",
					 (unsigned long long)c->cgroup_id);
				const char *extra[] = {
					"image",     c->image,
					"runtime",   ctw_runtime_kind_name(c->runtime),
					"cgroup_id", cgid,
					"full_id",   c->id,
					"id",	     cgroup_id_label(rs->reg, c)};
				memcpy(l + k, extra, sizeof(extra));
				l[k + ARRAY_SIZE(extra)] = NULL;
				v = 1;
				break;
			}
			case CTW_M_CONTAINER_CPU: has = r->has_cpu, v = r->cpu_seconds; break;
			case CTW_M_CONTAINER_MEMORY:
				has = r->has_memory, v = (double)r->memory_bytes;
				break;
			case CTW_M_CONTAINER_MEMORY_LIMIT:
				has = r->has_limit, v = (double)r->memory_limit;
				break;
			case CTW_M_CONTAINER_PIDS: has = r->has_pids, v = (double)r->pids; break;
			case CTW_M_CONTAINER_OOM:
				has = r->has_oom, v = (double)r->oom_events;
				break;
			}
			/* A one-line block per container: a segment of its own for
			 * the gzip cache (an unchanged value is not compressed again). */
			if (has && ctw_metrics_block(m, l))
				ctw_metrics_block_sample(m, NULL, NULL, v);
		}
	}
}

static int resources_start(struct ctw_agent *a, void **state, struct ctw_err *err)
{
	struct resources *r = xcalloc(1, sizeof(*r));
	r->reg = ctw_agent_registry(a);
	if (!r->reg) {
		free(r);
		return ctw_err_setx(err, ENOENT, "no container registry");
	}
	*state = r;
	return 0;
}

static void resources_stop(void *state)
{
	struct resources *r = state;
	if (!r)
		return;
	free(r->res);
	free(r->res_ids);
	free(r);
}

CTW_AGENT_MODULE(resources, .name = "resources", .start = resources_start, .stop = resources_stop,
		 .collect = resources_collect, .metrics = ctw_agent_resource_metrics)
