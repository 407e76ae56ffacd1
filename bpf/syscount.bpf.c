// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Always-on syscall counting per container: calls, errors and (optionally)
 * time per (container, syscall number).
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
 * The hot path is kept close to what the floor (one per-CPU counter) costs.
 * On this kernel (retpolines, return thunks, call depth tracking) every
 * helper call costs 15-50 ns, so the path has one, bpf_get_current_task_btf:
 *   - the cgroup id is read from the task (task->cgroups->dfl_cgrp->kn->id,
 *     what bpf_get_current_cgroup_id() returns, without its call);
 *   - it is looked up in the watch table (see syscount.h), an
 *     open-addressing table in .bss probed with plain loads, which gives the
 *     container's slot (measured with BPF stats: the helper plus a hash map
 *     lookup cost ~100 ns per syscall more than the floor, the task read
 *     plus one probe ~25 ns);
 *   - the counters are [slot].nr[syscall] of the per-CPU `counts` array
 *     (the lookup is inlined by the verifier), the syscall number read
 *     straight from pt_regs (a BTF load, not bpf_probe_read).
 * A process outside every watched cgroup costs the task read and the probe
 * (one, in practice: the table is at most half full).  Containers beyond
 * SYSCOUNT_SLOTS, and ids the table could not place, take the slow path
 * through the `watched` hash.
 *
 * Measured with tests/bench/syscall-bench.sh (BPF run time per syscall of
 * a getppid/openat loop in a watched container, stats' own timing
 * included, medians of 6 passes on the busy 2-core development VM): this
 * program 92 ns, the floor 70 ns, libbpf-tools syscount 158 ns; the former
 * design (bpf_get_current_cgroup_id, a `watched` hash lookup, a per-CPU
 * hash keyed by (cgroup, syscall)) 243 ns.  With timing (sys_enter too,
 * task storage and two clock reads) 379 ns: that is why it is optional.
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
#define REGS_NR(regs) ((regs)->orig_ax)
#define REGS_NR_FIELD orig_ax
#define NR_exit 60
#define NR_exit_group 231
#elif defined(__TARGET_ARCH_arm64)
#define REGS_NR(regs) ((regs)->syscallno)
#define REGS_NR_FIELD syscallno
#define NR_exit 93
#define NR_exit_group 94
#else
#error "syscount: unsupported architecture"
#endif

const volatile bool timing = false; /* account time (needs sys_enter) */

/* The watch table, two halves (see syscount.h), written by user space
 * through the mmapped .bss: cgroup id -> slot for every cgroup of every
 * watched container (the agent's registry: containers and their
 * descendant cgroups). */
__u64 watch_tab[2 * SYSCOUNT_TAB_SIZE];
__u32 tab_base; /* 0 or SYSCOUNT_TAB_SIZE: the half in use */
__u32 use_hash; /* some ids are only in `watched` */

/* key: cgroup v2 id (__u64), value: struct syscount_watch (slot, owner):
 * what the watch table cannot say (see syscount.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct syscount_watch);
} watched SEC(".maps");

/* key: slot (__u32), value: struct syscount_slot per CPU (calls, errors
 * per syscall).  User space zeroes a slot before handing it out. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCOUNT_SLOTS);
	__type(key, __u32);
	__type(value, struct syscount_slot);
} counts SEC(".maps");

/* key: slot (__u32), value: struct syscount_slot_time per CPU.  One entry
 * only (unused) unless timing: user space sets max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCOUNT_SLOTS);
	__type(key, __u32);
	__type(value, struct syscount_slot_time);
} times SEC(".maps");

/* key: struct syscount_key, value: struct syscount_val per CPU: the
 * containers that got no slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct syscount_key);
	__type(value, struct syscount_val);
} overflow SEC(".maps");

/* key: 0, value: per-CPU count of updates lost because `overflow` was full. */
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

/* Where to count for the current task: its slot (*w unset), or *w from
 * `watched` (slow path).  Returns false when the task is not watched. */
static __always_inline bool find(__u32 *slot, struct syscount_watch **w)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cgid = task->cgroups->dfl_cgrp->kn->id;
	__u32 base = tab_base & SYSCOUNT_TAB_SIZE;
	__u32 h = SYSCOUNT_TAB_HASH(cgid);
	int i;

#pragma unroll
	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u64 e = watch_tab[base + ((h + i) & (SYSCOUNT_TAB_SIZE - 1))];

		if (!e)
			break;
		if (e >> 16 == cgid) {
			*slot = e & 0xffff;
			if (*slot != SYSCOUNT_TAB_NO_SLOT)
				return true;
			goto hash;
		}
	}
	if (!use_hash)
		return false;
hash:
	*w = bpf_map_lookup_elem(&watched, &cgid);
	if (!*w)
		return false;
	*slot = (*w)->slot;
	return true;
}

static __always_inline bool is_error(long ret)
{
	return (unsigned long)ret >= (unsigned long)-MAX_ERRNO;
}

/* Time since this task's sys_enter, 0 if unknown; clears the start. */
static __always_inline __u64 elapsed(void)
{
	__u64 *ts = bpf_task_storage_get(&start, bpf_get_current_task_btf(), NULL, 0);
	__u64 d = 0;

	if (ts && *ts) {
		d = bpf_ktime_get_ns() - *ts;
		*ts = 0;
	}
	return d;
}

/* The slow path: a container without a slot. */
static __noinline int count_overflow(__u64 owner, __u32 nr, long ret, bool exited)
{
	struct syscount_key key = {.cgroup_id = owner, .nr = nr};
	struct syscount_val *v = bpf_map_lookup_elem(&overflow, &key);

	if (!v) {
		struct syscount_val zero = {};

		/* EEXIST from a racing CPU is fine; E2BIG (full) shows as !v. */
		bpf_map_update_elem(&overflow, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&overflow, &key);
		if (!v) {
			__u32 z = 0;
			__u64 *l = bpf_map_lookup_elem(&lost, &z);

			if (l)
				(*l)++;
			return 0;
		}
	}
	v->calls++;
	if (exited)
		return 0;
	if (is_error(ret))
		v->errors++;
	if (timing)
		v->time_ns += elapsed();
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(syscount_enter, struct pt_regs *regs, long id)
{
	struct syscount_watch *w = NULL;
	__u32 slot;
	__u64 *ts;

	if (!find(&slot, &w))
		return 0;
	ts = bpf_task_storage_get(&start, bpf_get_current_task_btf(), NULL, STORAGE_CREATE);
	if (ts)
		*ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscount_exit, struct pt_regs *regs, long ret)
{
	struct syscount_watch *w = NULL;
	struct syscount_slot *s;
	__u32 slot;
	__u64 nr;

	if (!find(&slot, &w))
		return 0;
	nr = REGS_NR(regs);
	if (nr >= SYSCOUNT_NR_MAX)
		return 0;
	s = bpf_map_lookup_elem(&counts, &slot);
	if (!s)
		return w ? count_overflow(w->owner, nr, ret, false) : 0;
	s->nr[nr].calls++;
	if (is_error(ret))
		s->nr[nr].errors++;
	if (timing) {
		struct syscount_slot_time *t = bpf_map_lookup_elem(&times, &slot);

		if (t)
			t->ns[nr] += elapsed();
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(syscount_task_exit)
{
	struct syscount_watch *w = NULL;
	struct task_struct *task;
	struct pt_regs *regs;
	struct syscount_slot *s;
	__u32 slot;
	long nr;

	if (!find(&slot, &w))
		return 0;
	task = bpf_get_current_task_btf();
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	nr = BPF_CORE_READ(regs, REGS_NR_FIELD);
	if (nr != NR_exit && nr != NR_exit_group)
		return 0;
	s = bpf_map_lookup_elem(&counts, &slot);
	if (!s)
		return w ? count_overflow(w->owner, nr, 0, true) : 0;
	s->nr[nr].calls++;
	return 0;
}
