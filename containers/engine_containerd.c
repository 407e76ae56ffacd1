// SPDX-License-Identifier: Apache-2.0
/* containerd (CRI): cri-containerd-<id>.scope; names from the task's OCI
 * bundle (the CRI annotations of its config.json). */
#include <glob.h>
#include <stdio.h>

#include "internal.h"
#include "../lib/lib.h"

static bool containerd_match(const char *const *comp, int n, char *id, size_t idlen)
{
	return engine_scope_id(comp[n - 1], "cri-containerd-", id, idlen);
}

bool engine_read_containerd_bundle(const struct engine_ctx *ctx, struct ctw_container *c)
{
	char pat[PATH_MAX * 2];
	bool found = false;
	snprintf(pat, sizeof(pat),
		 "%s/run/containerd/io.containerd.runtime.v2.task/*/%s/config.json", ctx->host_root,
		 c->id);
	glob_t g;
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc) {
		json_t *j = json_load_file(g.gl_pathv[0], 0, NULL);
		if (j) {
			engine_annotations(c, json_object_get(j, "annotations"),
					   "io.kubernetes.cri.container-name",
					   "io.kubernetes.cri.sandbox-name",
					   "io.kubernetes.cri.sandbox-namespace",
					   "io.kubernetes.cri.image-name");
			json_decref(j);
			found = true;
		}
	}
	globfree(&g);
	return found;
}

static void containerd_enrich(const struct engine_ctx *ctx, struct ctw_container *c)
{
	engine_read_containerd_bundle(ctx, c);
}

const struct ctw_engine ctw_engine_containerd = {
	.name = "containerd",
	.kind = CTW_RT_CONTAINERD,
	.match = containerd_match,
	.enrich = containerd_enrich,
};
