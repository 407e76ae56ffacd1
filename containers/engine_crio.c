// SPDX-License-Identifier: Apache-2.0
/* CRI-O: crio-<id>[.scope]; names, pod and labels from containers/storage's
 * overlay-containers/<id>/userdata/config.json (CRI-O's annotations), the
 * pod's labels from its sandbox's. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

static bool crio_match(const char *const *comp, int n, char *id, size_t idlen)
{
	return engine_scope_id(comp[n - 1], "crio-", id, idlen);
}

bool engine_read_containers_storage(const struct engine_ctx *ctx, struct ctw_container *c)
{
	static const char *const dirs[] = {"/run/containers/storage",
					   "/var/lib/containers/storage"};
	char p[PATH_MAX * 2];
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s%s/overlay-containers/%s/userdata/config.json",
			 ctx->host_root, dirs[i], c->id);
		json_t *j = json_load_file(p, 0, NULL);
		if (!j)
			continue;
		json_t *ann = json_object_get(j, "annotations");
		engine_annotations(c, ann, "io.kubernetes.container.name", "io.kubernetes.pod.name",
				   "io.kubernetes.pod.namespace", "io.kubernetes.cri-o.ImageName");
		/* the pod's labels (its sandbox's), then the container's */
		const char *sb = ctw_jstr(ann, "io.kubernetes.cri-o.SandboxID");
		if (sb && strcmp(sb, c->id) && !strchr(sb, '/')) {
			snprintf(p, sizeof(p), "%s%s/overlay-containers/%s/userdata/config.json",
				 ctx->host_root, dirs[i], sb);
			json_t *sj = json_load_file(p, 0, NULL);
			labels_from_json_text(c, ctw_jstr(json_object_get(sj, "annotations"),
							  "io.kubernetes.cri-o.Labels"));
			json_decref(sj);
		}
		labels_from_json_text(c, ctw_jstr(ann, "io.kubernetes.cri-o.Labels"));
		json_decref(j);
		return true;
	}
	return false;
}

/* CRI-O, Podman and the kubelet's bare ids: containers/storage, else a
 * containerd bundle. */
void engine_read_storage_or_bundle(const struct engine_ctx *ctx, struct ctw_container *c)
{
	if (!engine_read_containers_storage(ctx, c))
		engine_read_containerd_bundle(ctx, c);
}

const struct ctw_engine ctw_engine_crio = {
	.name = "cri-o",
	.kind = CTW_RT_CRIO,
	.match = crio_match,
	.enrich = engine_read_storage_or_bundle,
};
