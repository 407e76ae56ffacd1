/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/cgroups.bpf.c and containers/stream.c: the births and
 * deaths of cgroup v2 cgroups, one ring buffer record each, streamed from
 * the mkdir/rmdir itself (before any task can be moved in, after the last
 * has left), so a container is named before its first syscall and after
 * its exit.  Records that did not fit are counted in `cgroups_lost`; user
 * space repairs the tree by a rescan when that count moves.
 */
#ifndef CTW_BPF_CGROUPS_H
#define CTW_BPF_CGROUPS_H

#ifndef __bpf__ /* the BPF side gets its types from vmlinux.h */
#include <linux/types.h>
#endif

/* Path bytes kept (the kernel's own trace path buffer is 1024 bytes); a
 * longer path arrives cut, with CGROUP_EV_F_CUT set. */
#define CGROUP_EV_PATH 512

enum cgroup_ev_type {
	CGROUP_EV_MKDIR = 1,
	CGROUP_EV_RMDIR = 2,
};

#define CGROUP_EV_F_CUT 0x1 /* path[] holds the first CGROUP_EV_PATH - 1 bytes only */

struct cgroup_event {	 /* ringbuf record, largest fields first */
	__u64 ts_ns;	 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 id;	 /* the cgroup's v2 id (kernfs node id): what BPF keys on */
	__u64 parent_id; /* its parent's (0 for the root) */
	__u32 type;	 /* enum cgroup_ev_type */
	__u32 level;	 /* depth below the v2 root (root = 0) */
	__u32 flags;	 /* CGROUP_EV_F_* */
	__u32 __pad;
	char path[CGROUP_EV_PATH]; /* relative to the v2 mount, "/a/b" */
};

#ifndef __bpf__
_Static_assert(sizeof(struct cgroup_event) == 552, "ABI: cgroup_event");
#endif
#endif /* CTW_BPF_CGROUPS_H */
