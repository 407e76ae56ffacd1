// SPDX-License-Identifier: Apache-2.0
/* `ctrwatch exec`: a new process in a running container. */
#include <errno.h>

#include "internal.h"

int ctw_container_exec(const char *ref, const struct ctw_exec_opts *o, int *exit_code,
		       struct ctw_err *err)
{
	*exit_code = CTW_EXIT_RUNTIME;
	return ctw_err_setx(err, ENOSYS, "exec: not implemented yet");
}
