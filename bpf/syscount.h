/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/syscount.bpf.c and agent/mod_syscalls.c: always-on
 * syscall counting per (cgroup v2 id, syscall number).
 */
#ifndef CTW_SYSCOUNT_H
#define CTW_SYSCOUNT_H
#ifndef __bpf__
#include <linux/types.h>
#endif

#define SYSCOUNT_NR_MAX 1024 /* syscall numbers at or above are ignored */

struct syscount_key {
	__u64 cgroup_id; /* bpf_get_current_cgroup_id() of the caller */
	__u32 nr;	 /* native syscall number */
	__u32 __pad;
};

struct syscount_val {  /* one per CPU; user space sums them */
	__u64 calls;   /* completed syscalls, plus exit/exit_group (see .bpf.c) */
	__u64 errors;  /* return value in [-4095, -1] */
	__u64 time_ns; /* enter-to-exit time, only when timing is on */
};

#ifndef __bpf__
_Static_assert(sizeof(struct syscount_key) == 16, "ABI: syscount_key");
_Static_assert(sizeof(struct syscount_val) == 24, "ABI: syscount_val");
#endif
#endif /* CTW_SYSCOUNT_H */
