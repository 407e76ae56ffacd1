// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Always-on syscall counting per cgroup: calls, errors and (optionally)
 * time per (cgroup, syscall number); user space adds nested cgroups up
 * into their container.  See syscount.h for the slot table.
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
 * Every cgroup is counted from its first syscall, whether or not user
 * space knows it yet: a cgroup missing from the slot table takes a slot
 * there and then (claim(), once per cgroup).  At its rmdir its entry goes,
 * and the slot holds its final counts until user space reads them.
 *
 * The hot path stays close to what the floor (one per-CPU counter) costs.
 * On this kernel every helper call costs 15-50 ns (retpolines, return
 * thunks), so it has one, bpf_get_current_task_btf (not inlined on 6.18):
 *   - the cgroup id is read from the task (task->cgroups->dfl_cgrp->kn->id,
 *     what bpf_get_current_cgroup_id() returns, without its call);
 *   - it is looked up in the slot table with plain loads (one probe in
 *     practice: the table is at most half full);
 *   - the slot is [slot / 64][slot % 64] of the array of maps `chunks`
 *     (both lookups inlined by the verifier), the syscall number read
 *     straight from pt_regs.
 * Measured against the alternatives (BPF statistics, ns per run, same
 * pass): cgroup local storage (bpf_cgrp_storage_get with create) cost
 * floor + ~90 ns, a helper call too many; the table and a shared array
 * floor + ~15-25 ns; the array of maps another few ns.
 *
 * Shared counters, atomic adds (lock xadd): the counts must be exact, so a
 * plain increment (lost updates when two CPUs of one cgroup race) is out;
 * per-CPU counters would make map memory CPUs x cgroups x 8 KiB (32 MiB per
 * CPU at 4096 cgroups).  An atomic add costs a few ns uncontended; it
 * bounces a cache line only when one cgroup makes the same syscall on
 * several CPUs at once (tests/bench/syscall-bench.sh measures both).
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

/* The slot table (see syscount.h): cgroup id -> slot, written only by
 * these programs with compare-and-swap, read by user space (mmapped). */
__u64 slot_tab[SYSCOUNT_TAB_SIZE];

/* Slot numbers free to take (user space fills it as it adds chunks and as
 * it gives back the slots of cgroups that went). */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, SYSCOUNT_SLOTS_MAX);
	__type(value, __u32);
} free_slots SEC(".maps");

/* A chunk: SYSCOUNT_CHUNK_SLOTS slots, key: slot % 64. */
struct chunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCOUNT_CHUNK_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct syscount_slot);
} chunk0 SEC(".maps");

/* key: slot / 64, value: the chunk map (user space adds them). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SYSCOUNT_CHUNKS_MAX);
	__type(key, __u32);
	__array(values, struct chunk);
} chunks SEC(".maps") = {
	.values = {[0] = &chunk0},
};

/* The same for times, all chunks added by user space (timing only). */
struct tchunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCOUNT_CHUNK_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct syscount_slot_time));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SYSCOUNT_CHUNKS_MAX);
	__type(key, __u32);
	__array(values, struct tchunk);
} tchunks SEC(".maps");

/* Slots taken (struct syscount_event): which cgroup a slot counts, for a
 * cgroup that takes one and goes before user space reads the table; also
 * wakes user space to top up free_slots.  4096 records of 24 bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 128 * 1024);
} syscount_events SEC(".maps");

/* key 0: syscount_events records that did not fit, per CPU (their slot's
 * counts cannot be named) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

/* key 0: cgroups that found no slot and counted as unattributed, per CPU
 * (each time they tried: once per syscall while the queue is dry). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} no_slot SEC(".maps");

/* task storage: start time (ns) of the current syscall, timing only. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} start SEC(".maps");

static __always_inline __u64 current_cgroup_id(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->cgroups->dfl_cgrp->kn->id;
}

static __always_inline struct syscount_slot *slot_ptr(__u32 slot)
{
	__u32 c = slot / SYSCOUNT_CHUNK_SLOTS, i = slot % SYSCOUNT_CHUNK_SLOTS;
	void *chunk = bpf_map_lookup_elem(&chunks, &c);

	return chunk ? bpf_map_lookup_elem(chunk, &i) : NULL;
}

static __always_inline struct syscount_slot_time *tslot_ptr(__u32 slot)
{
	__u32 c = slot / SYSCOUNT_CHUNK_SLOTS, i = slot % SYSCOUNT_CHUNK_SLOTS;
	void *chunk = bpf_map_lookup_elem(&tchunks, &c);

	return chunk ? bpf_map_lookup_elem(chunk, &i) : NULL;
}

static __noinline __u32 unattributed(void)
{
	__u32 z = 0;
	__u64 *n = bpf_map_lookup_elem(&no_slot, &z);

	if (n)
		(*n)++;
	return SYSCOUNT_SLOT_UNATTRIBUTED;
}

/* The first syscall of a cgroup not in the table: take a slot and enter
 * it.  Two CPUs of one new cgroup may race here: compare-and-swap makes one
 * entry win, the other CPU uses it and gives its slot back. */
static __noinline __u32 claim(__u64 id)
{
	__u32 h = SYSCOUNT_TAB_HASH(id), slot;
	__u64 want;
	int i, try;

	if (id >= SYSCOUNT_TAB_ID_MAX)
		return unattributed();
	if (bpf_map_pop_elem(&free_slots, &slot))
		return unattributed();
	want = id << 16 | slot;
	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u32 idx = (h + i) & (SYSCOUNT_TAB_SIZE - 1);
		__u64 e = slot_tab[idx];

		for (try = 0; try < 4; try++) {
			__u64 old;

			if (e >> 16 == id) { /* another CPU entered it first */
				bpf_map_push_elem(&free_slots, &slot, 0);
				return e & 0xffff;
			}
			if (e && e != SYSCOUNT_TAB_TOMB)
				break; /* another cgroup's: next entry */
			old = __sync_val_compare_and_swap(&slot_tab[idx], e, want);
			if (old == e) {
				struct syscount_event *ev;

				ev = bpf_ringbuf_reserve(&syscount_events, sizeof(*ev), 0);
				if (ev) {
					ev->id = id;
					ev->slot = slot;
					ev->__pad = 0;
					bpf_ringbuf_submit(ev, 0);
				} else {
					__u32 z = 0;
					__u64 *l = bpf_map_lookup_elem(&events_lost, &z);

					if (l)
						(*l)++;
				}
				return slot;
			}
			e = old; /* changed under us: look again */
		}
	}
	bpf_map_push_elem(&free_slots, &slot, 0);
	return unattributed();
}

/* The current task's cgroup's slot (taken now if it has none). */
static __always_inline __u32 find(void)
{
	__u64 id = current_cgroup_id();
	__u32 h = SYSCOUNT_TAB_HASH(id);
	int i;

#pragma unroll
	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u64 e = slot_tab[(h + i) & (SYSCOUNT_TAB_SIZE - 1)];

		if (e >> 16 == id)
			return e & 0xffff;
		if (!e)
			break;
	}
	return claim(id);
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

SEC("tp_btf/sys_enter")
int BPF_PROG(syscount_enter, struct pt_regs *regs, long id)
{
	__u64 *ts = bpf_task_storage_get(&start, bpf_get_current_task_btf(), NULL, STORAGE_CREATE);

	if (ts)
		*ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscount_exit, struct pt_regs *regs, long ret)
{
	struct syscount_slot *s;
	__u32 slot = find();
	__u64 nr = REGS_NR(regs);

	if (nr >= SYSCOUNT_NR_MAX)
		return 0;
	s = slot_ptr(slot);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->nr[nr].calls, 1);
	if (is_error(ret))
		__sync_fetch_and_add(&s->nr[nr].errors, 1);
	if (timing) {
		struct syscount_slot_time *t = tslot_ptr(slot);

		if (t)
			__sync_fetch_and_add(&t->ns[nr], elapsed());
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(syscount_task_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct syscount_slot *s;
	long nr = BPF_CORE_READ(regs, REGS_NR_FIELD);

	if (nr != NR_exit && nr != NR_exit_group)
		return 0;
	s = slot_ptr(find());
	if (s)
		__sync_fetch_and_add(&s->nr[nr].calls, 1);
	return 0;
}

/* A cgroup goes: its entry leaves the table (its slot keeps the final
 * counts for user space).  Empty when the next entry is empty (no probe
 * chain goes through it), and then the tombstones just before it too;
 * else a tombstone. */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(syscount_rmdir, struct cgroup *cgrp, const char *path)
{
	__u64 id;
	__u32 h;
	int i, j;

	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	id = BPF_CORE_READ(cgrp, kn, id);
	h = SYSCOUNT_TAB_HASH(id);
	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u32 idx = (h + i) & (SYSCOUNT_TAB_SIZE - 1);
		__u64 e = slot_tab[idx];

		if (!e)
			return 0;
		if (e >> 16 != id)
			continue;
		if (slot_tab[(idx + 1) & (SYSCOUNT_TAB_SIZE - 1)]) {
			__sync_val_compare_and_swap(&slot_tab[idx], e, SYSCOUNT_TAB_TOMB);
			return 0;
		}
		if (__sync_val_compare_and_swap(&slot_tab[idx], e, 0) != e)
			return 0;
		for (j = 1; j < SYSCOUNT_TAB_PROBES; j++) {
			__u32 k = (idx - j) & (SYSCOUNT_TAB_SIZE - 1);

			if (slot_tab[k] != SYSCOUNT_TAB_TOMB ||
			    slot_tab[(k + 1) & (SYSCOUNT_TAB_SIZE - 1)])
				return 0;
			__sync_val_compare_and_swap(&slot_tab[k], SYSCOUNT_TAB_TOMB, 0);
		}
		return 0;
	}
	return 0;
}
