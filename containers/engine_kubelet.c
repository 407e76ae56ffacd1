// SPDX-License-Identifier: Apache-2.0
/* The kubelet's cgroupfs layout: kubepods[.slice]/<qos>/pod<uid>/<id>, a
 * bare 64-hex id in a pod cgroup, whatever runtime made it: read as CRI-O's
 * or containerd's. */
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

static bool kubelet_match(const char *const *comp, int n, char *id, size_t idlen)
{
	const char *b = comp[n - 1];
	char uid[48];
	bool in_kubepods = false;
	if (n < 2 || strlen(b) != 64 || idlen <= 64 || !engine_is_hex(b, 64))
		return false;
	for (int i = 0; i < n - 1; i++)
		if (ctw_str_has_prefix(comp[i], "kubepods"))
			in_kubepods = true;
	if (!in_kubepods || !engine_pod_component(comp[n - 2], uid, sizeof(uid)))
		return false;
	ctw_strlcpy(id, b, idlen);
	return true;
}

const struct ctw_engine ctw_engine_kubelet = {
	.name = "kubelet",
	.kind = CTW_RT_KUBELET,
	.match = kubelet_match,
	.enrich = engine_read_storage_or_bundle,
};
