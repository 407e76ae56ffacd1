// SPDX-License-Identifier: Apache-2.0
/* seccomp: placeholder until the default profile lands. */
#include <errno.h>
#include <sys/prctl.h>
#include <linux/seccomp.h>

#include "internal.h"

int seccomp_compile(const char *profile, uint64_t caps, struct sock_fprog **prog,
		    struct ctw_err *err)
{
	*prog = NULL;
	return 0;
}

int seccomp_install(const struct sock_fprog *prog, struct ctw_err *err)
{
	if (!prog)
		return 0;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0)
		return ctw_err_set(err, errno, "install seccomp filter");
	return 0;
}

void seccomp_prog_free(struct sock_fprog *prog)
{
	if (prog)
		free(prog->filter);
	free(prog);
}
