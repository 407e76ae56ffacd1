// SPDX-License-Identifier: Apache-2.0
/* Podman: libpod-<id>[.scope]; its containers/storage as CRI-O's. */
#include "internal.h"

static bool podman_match(const char *const *comp, int n, char *id, size_t idlen)
{
	return engine_scope_id(comp[n - 1], "libpod-", id, idlen);
}

const struct ctw_engine ctw_engine_podman = {
	.name = "podman",
	.kind = CTW_RT_PODMAN,
	.match = podman_match,
	.enrich = engine_read_storage_or_bundle,
};
