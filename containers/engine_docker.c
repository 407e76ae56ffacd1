// SPDX-License-Identifier: Apache-2.0
/* Docker: docker-<id>.scope (systemd driver) or docker/<id> (cgroupfs);
 * name, image and labels from <data-root>/containers/<id>/config.v2.json. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

static bool docker_match(const char *const *comp, int n, char *id, size_t idlen)
{
	const char *b = comp[n - 1];
	if (engine_scope_id(b, "docker-", id, idlen))
		return true;
	if (n > 1 && !strcmp(comp[n - 2], "docker") && strlen(b) == 64 && idlen > 64 &&
	    engine_is_hex(b, 64)) {
		ctw_strlcpy(id, b, idlen);
		return true;
	}
	return false;
}

static void docker_enrich(const struct engine_ctx *ctx, struct ctw_container *c)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/var/lib/docker/containers/%s/config.v2.json", ctx->host_root,
		 c->id);
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return;
	const char *name = ctw_jstr(j, "Name");
	if (name && *name)
		ctw_strlcpy(c->name, name[0] == '/' ? name + 1 : name, sizeof(c->name));
	json_t *cfg = json_object_get(j, "Config");
	const char *img = ctw_jstr(cfg, "Image");
	if (img)
		ctw_strlcpy(c->image, img, sizeof(c->image));
	labels_from_json(c, json_object_get(cfg, "Labels"));
	/* dockershim-era pods carry their identity as labels */
	engine_annotations(c, json_object_get(cfg, "Labels"), "io.kubernetes.container.name",
			   "io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "-");
	json_decref(j);
}

const struct ctw_engine ctw_engine_docker = {
	.name = "docker",
	.kind = CTW_RT_DOCKER,
	.match = docker_match,
	.enrich = docker_enrich,
};
