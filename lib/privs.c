// SPDX-License-Identifier: Apache-2.0
/*
 * The privileges a command needs, checked before it loads anything: one
 * message naming what is missing instead of libbpf's complaints and a bare
 * "Operation not permitted" (or, worse, an empty answer with exit 0).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "lib.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const struct {
	unsigned int bit;
	const char *name;
} needs[] = {
	{CAP_BPF, "CAP_BPF"},
	{CAP_PERFMON, "CAP_PERFMON"},
	{CAP_NET_ADMIN, "CAP_NET_ADMIN"},
};

/* The effective set; false when the kernel does not say (a seccomp filter
 * without capget): then the loads themselves tell. */
static bool effective_caps(uint64_t *eff)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	*eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	return true;
}

int ctw_need_privs(unsigned int what, struct ctw_err *err)
{
	uint64_t eff;
	if (!effective_caps(&eff))
		return 0;
	/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON (kernels
	 * before 5.8 know only it), never for CAP_NET_ADMIN. */
	bool admin = eff & (1ull << CAP_SYS_ADMIN);
	char want[128] = "", miss[128] = "";
	unsigned int left = what & ((1u << ARRAY_SIZE(needs)) - 1);
	for (size_t i = 0; i < ARRAY_SIZE(needs); i++) {
		unsigned int flag = 1u << i;
		if (!(what & flag))
			continue;
		left &= ~flag;
		bool have = eff & (1ull << needs[i].bit);
		if (!have && admin && needs[i].bit != CAP_NET_ADMIN)
			have = true;
		/* "A", "A and B", "A, B and C" */
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
			 !want[0] ? ""
			 : left	  ? ", "
				  : " and ",
			 needs[i].name);
		if (!have)
			snprintf(miss + strlen(miss), sizeof(miss) - strlen(miss), "%s%s",
				 miss[0] ? ", " : "", needs[i].name);
	}
	if (!miss[0])
		return 0;
	if (geteuid() != 0)
		return ctw_err_setx(err, EPERM,
				    "needs root, or the capabilities %s (running as uid %u)", want,
				    (unsigned int)geteuid());
	return ctw_err_setx(err, EPERM, "needs the capabilities %s (root without %s)", want, miss);
}
