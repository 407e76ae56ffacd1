// SPDX-License-Identifier: Apache-2.0
/* Namespaces: clone3 straight into the container's v2 cgroup, joining the
 * namespaces of a running container (exec), and the weak link to network/. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/sched.h>

#include "internal.h"

/* network/ may not be implemented yet: these resolve to NULL until it is. */
#pragma weak ctw_net_setup
#pragma weak ctw_net_teardown
#pragma weak ctw_net_parse_publish
#pragma weak ctw_net_parse_mode

bool net_available(void)
{
	return ctw_net_setup != NULL && ctw_net_teardown != NULL;
}

/* fork()-like: returns 0 in the child.  The child starts in cgroup_fd's
 * cgroup when cgroup_fd >= 0 (no window in the caller's cgroup). */
pid_t clone_into_cgroup(int flags, int cgroup_fd)
{
	struct clone_args args = {
		.flags = (uint64_t)flags,
		.exit_signal = SIGCHLD,
	};
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r < 0 && (errno == ENOSYS || errno == E2BIG) && cgroup_fd < 0)
		r = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
	return (pid_t)r;
}

/* Order matters for join: user first (unused), then the rest; mnt last so
 * that /proc paths still resolve. */
static const struct {
	const char *name;
	int type;
} ns_list[7] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},	     {"pid", CLONE_NEWPID}, {"time", 0},
	{"mnt", CLONE_NEWNS},
};

int ns_open_all(pid_t pid, int fds[7], struct ctw_err *err)
{
	char path[64];
	for (int i = 0; i < 7; i++) {
		fds[i] = -1;
		if (!ns_list[i].type)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_list[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int e = errno;
			for (int k = 0; k < i; k++)
				if (fds[k] >= 0)
					close(fds[k]);
			return ctw_err_set(err, e, "open %s", path);
		}
	}
	return 0;
}

int ns_join(const int fds[7], bool skip_pid, struct ctw_err *err)
{
	for (int i = 0; i < 7; i++) {
		if (fds[i] < 0 || (skip_pid && ns_list[i].type == CLONE_NEWPID))
			continue;
		if (setns(fds[i], ns_list[i].type) < 0)
			return ctw_err_set(err, errno, "join %s namespace", ns_list[i].name);
	}
	return 0;
}
