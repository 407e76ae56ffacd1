// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cgroup v2 tree as it changes: tp_btf/cgroup_mkdir and cgroup_rmdir
 * run inside the mkdir(2)/rmdir(2) of a cgroup directory, so user space
 * learns a cgroup (id, parent, level, path) before any task can run in it
 * and its end after the last task has left.  Only the default (v2)
 * hierarchy's cgroups: on a hybrid host the v1 hierarchies' ids are not
 * what bpf_get_current_cgroup_id() returns.  See cgroups.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "cgroups.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* mkdir/rmdir records; user space sets the size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} cgroup_events SEC(".maps");

/* key 0: records that did not fit in the ring, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cgroups_lost SEC(".maps");

static __always_inline int emit(struct cgroup *cgrp, const char *path, __u32 type)
{
	struct cgroup_event *e;
	int level, n;

	/* hierarchy 0 is the default (v2) one: /proc/PID/cgroup's "0::" */
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	e = bpf_ringbuf_reserve(&cgroup_events, sizeof(*e), 0);
	if (!e) {
		ctw_count_percpu(&cgroups_lost, 0);
		return 0;
	}
	level = BPF_CORE_READ(cgrp, level);
	e->ts_ns = bpf_ktime_get_ns();
	e->id = BPF_CORE_READ(cgrp, kn, id);
	e->parent_id = 0;
	if (level > 0 && level < 1024) {
		struct cgroup *parent = NULL;

		bpf_core_read(&parent, sizeof(parent), &cgrp->ancestors[level - 1]);
		if (parent)
			e->parent_id = BPF_CORE_READ(parent, kn, id);
	}
	e->type = type;
	e->level = level;
	e->flags = 0;
	e->__pad = 0;
	n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
	if (n < 0)
		e->path[0] = '\0';
	else if (n == sizeof(e->path))
		e->flags |= CGROUP_EV_F_CUT;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgroups_mkdir, struct cgroup *cgrp, const char *path)
{
	return emit(cgrp, path, CGROUP_EV_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgroups_rmdir, struct cgroup *cgrp, const char *path)
{
	return emit(cgrp, path, CGROUP_EV_RMDIR);
}
