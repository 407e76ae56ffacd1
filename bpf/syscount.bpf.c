// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Always-on syscall counting per container: calls, errors and (optionally)
 * time per (cgroup v2 id, syscall number).
 *
 * Where the count is taken: at sys_exit, which alone sees both the syscall
 * number and the return value, so one program does calls and errors.  Two
 * syscalls never reach sys_exit: exit and exit_group.  They are counted at
 * sched_process_exit instead, when the exiting task's saved syscall number
 * says it got there through one of them (a task killed by a signal has
 * another number there, and a thread taken down by a sibling's exit_group
 * too), so each call is counted exactly once.  sys_enter runs only when
 * timing is asked for (it records the start time in task storage).
 *
 * Cost for a process outside every watched cgroup: one hash lookup in
 * `watched` per syscall.  Measured with kernel BPF stats on the 2-core
 * development VM (tests/bench/agent-bench.sh; the figures include the
 * stats' own timing): sys_exit ~107 ns/run outside watched cgroups,
 * ~150-180 ns inside one; adding sys_enter (what counting at enter, or
 * timing, needs) costs another ~110 ns outside and ~210-270 ns inside, so
 * counting at enter plus errors at exit would roughly double the always-on
 * cost.  Hence: exit only, enter only with timing.
 *
 * The license is GPL-compatible because the program calls GPL-only helpers
 * (task storage, bpf_task_pt_regs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "syscount.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_ERRNO 4095
#define STORAGE_CREATE 1 /* BPF_LOCAL_STORAGE_GET_F_CREATE */

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define NR_exit 60
#define NR_exit_group 231
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#define NR_exit 93
#define NR_exit_group 94
#else
#error "syscount: unsupported architecture"
#endif

const volatile bool timing = false; /* account time (needs sys_enter) */

/* key: cgroup v2 id (__u64), value: __u8 (unused).  Filled by the agent from
 * its registry: containers and their descendant cgroups.  Presence = count. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} watched SEC(".maps");

/* key: struct syscount_key, value: struct syscount_val per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct syscount_key);
	__type(value, struct syscount_val);
} counts SEC(".maps");

/* key: 0, value: per-CPU count of updates lost because `counts` was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* task storage: start time (ns) of the current syscall, timing only. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} start SEC(".maps");

static __always_inline struct syscount_val *slot(__u64 cgid, __u32 nr)
{
	struct syscount_key key = {.cgroup_id = cgid, .nr = nr};
	struct syscount_val *v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		return v;
	struct syscount_val zero = {};
	/* EEXIST from a racing CPU is fine; E2BIG (full) shows as !v. */
	bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&counts, &key);
	if (!v) {
		__u32 z = 0;
		__u64 *l = bpf_map_lookup_elem(&lost, &z);
		if (l)
			(*l)++;
	}
	return v;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(syscount_enter, struct pt_regs *regs, long id)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	if (!bpf_map_lookup_elem(&watched, &cgid))
		return 0;
	__u64 *ts = bpf_task_storage_get(&start, bpf_get_current_task_btf(), NULL, STORAGE_CREATE);
	if (ts)
		*ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscount_exit, struct pt_regs *regs, long ret)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	if (!bpf_map_lookup_elem(&watched, &cgid))
		return 0;
	long nr = SYSCALL_NR(regs);
	if (nr < 0 || nr >= SYSCOUNT_NR_MAX)
		return 0;
	struct syscount_val *v = slot(cgid, nr);
	if (!v)
		return 0;
	v->calls++;
	if (ret < 0 && ret >= -MAX_ERRNO)
		v->errors++;
	if (timing) {
		__u64 *ts = bpf_task_storage_get(&start, bpf_get_current_task_btf(), NULL, 0);
		if (ts && *ts) {
			v->time_ns += bpf_ktime_get_ns() - *ts;
			*ts = 0;
		}
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(syscount_task_exit)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	if (!bpf_map_lookup_elem(&watched, &cgid))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr = SYSCALL_NR(regs);
	if (nr != NR_exit && nr != NR_exit_group)
		return 0;
	struct syscount_val *v = slot(cgid, nr);
	if (v)
		v->calls++;
	return 0;
}
