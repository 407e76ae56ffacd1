// SPDX-License-Identifier: Apache-2.0
/* What the user typed after `ctrwatch trace`, as a cgroup to trace: the
 * agent's registry knows names, ids, cgroup paths and PIDs. */
#include <errno.h>
#include <string.h>

#include "../containers/containers.h"
#include "internal.h"

int ctw_trace_resolve(const char *spec, struct ctw_trace_target *out, struct ctw_err *err)
{
	struct ctw_registry_opts ro = {0};
	struct ctw_registry *r;
	struct ctw_container *c = xcalloc(1, sizeof(*c));
	int rc;

	memset(out, 0, sizeof(*out));
	r = ctw_registry_new(&ro);
	if (!r) {
		free(c);
		return ctw_err_setx(err, ENOMEM, "container registry");
	}
	rc = ctw_registry_resolve(r, spec, c);
	ctw_registry_free(r);
	if (rc < 0) {
		free(c);
		if (rc == -EINVAL)
			return ctw_err_setx(err, EINVAL, "%s: ambiguous or not a cgroup", spec);
		return ctw_err_setx(err, -rc, "%s: no such container, cgroup or process", spec);
	}
	out->cgroup_id = c->cgroup_id;
	ctw_strlcpy(out->cgroup_path, c->cgroup_path, sizeof(out->cgroup_path));
	if (c->runtime == CTW_RT_UNKNOWN || !c->name[0]) {
		/* a bare cgroup: its last component reads best in [brackets] */
		const char *base = strrchr(c->cgroup_path, '/');

		ctw_strlcpy(out->name, base && base[1] ? base + 1 : c->name, sizeof(out->name));
	} else {
		ctw_strlcpy(out->name, c->name, sizeof(out->name));
	}
	ctw_container_release(c);
	free(c);
	return 0;
}
