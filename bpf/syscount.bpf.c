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
 *   - it is first checked against the CPU's memo of the last cgroup seen
 *     (syscount_tab.h): most syscalls on a CPU come from the cgroup of the
 *     one before.  Only a miss looks it up in the slot table, with plain
 *     loads (one probe in practice: the table is at most half full);
 *   - the slot is [slot / 64][slot % 64] of the array of maps `chunks`
 *     (both lookups inlined by the verifier), the syscall number read
 *     straight from pt_regs.
 * Measured against the alternatives (BPF statistics, ns per run, same
 * pass): cgroup local storage (bpf_cgrp_storage_get with create) cost
 * floor + ~90 ns, a helper call too many; the table and a shared array
 * floor + ~15-25 ns; the array of maps another few ns.  What the memo
 * saves is a page: where the kernel runs with page-table isolation and no
 * PCID (this VM), every syscall starts with an empty TLB, and a program
 * that touches two 4 KiB-mapped (vmalloc'd) pages, the table's and the
 * slot's, paid ~115 ns over the floor where one such page cost ~0-40 ns
 * (same pass: floor 116, table + slot 230, memo + slot 154).  Memo and
 * epoch live in the kernel's linear map (small kmalloc'd arrays; the memo
 * indexed by CPU number, which the verifier inlines).
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
#include "syscount_tab.h"
#include "maps.bpf.h"

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

__u64 rmdirs; /* cgroup v2 removals seen (the barrier in syscount_rmdir) */

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

/* key: CPU number; the slot found last on that CPU (syscount_tab.h).  A
 * plain array, one cache line per CPU, sized to the CPUs by user space:
 * small, so kmalloc'd in the kernel's linear map.  A per-CPU map's area
 * may come from a vmalloc'd per-CPU chunk instead, a 4 KiB page of its own
 * to walk on every syscall (see above): measured as the agent's cost
 * changing by ~40 ns from one start to the next. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space: the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct syscount_memo);
} memo SEC(".maps");

/* key 0: the table's epoch, bumped after an entry may have left the table
 * (so no memo of it is used again).  A plain array map, not a .bss
 * variable: small arrays are kmalloc'd, in the kernel's linear map, where
 * reading it costs no page of its own (.bss is vmalloc'd, mmapable). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tab_epoch SEC(".maps");

/* task storage: start time (ns) of the current syscall, timing only. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} start SEC(".maps");

static __always_inline struct cgroup *current_cgroup(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->cgroups->dfl_cgrp;
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

static __always_inline void epoch_bump(void)
{
	__u32 zero = 0;
	__u64 *epoch = bpf_map_lookup_elem(&tab_epoch, &zero);

	if (epoch)
		__sync_fetch_and_add(epoch, 1);
}

static __noinline __u32 unattributed(void)
{
	ctw_count_percpu(&no_slot, 0);
	return SYSCOUNT_SLOT_UNATTRIBUTED;
}

/* The first syscall of a cgroup not in the table: take a slot and enter
 * it (syscount_tab.h).  Two CPUs of one new cgroup may race here: one entry
 * wins (the other CPU uses it and gives its slot back) or, when both got
 * in, settling keeps one.  A task may also still claim for a cgroup that
 * went: read its id, moved to another cgroup, the old one removed, all
 * before the claim.  The rmdir program then found nothing to remove, so
 * the claim removes its own entry when the cgroup is no longer online
 * (cgroup_destroy_locked() clears CSS_ONLINE before the rmdir tracepoint).
 * Store then load on each side, a full barrier between (the CAS here, the
 * atomic add in syscount_rmdir): one of the two sees the other. */
static __noinline __u32 claim(struct cgroup *cgrp, __u64 id)
{
	__u32 slot, found = 0;
	struct syscount_event *ev;
	int at;

	if (id >= SYSCOUNT_TAB_ID_MAX)
		return unattributed();
	if (bpf_map_pop_elem(&free_slots, &slot))
		return unattributed();
	at = sc_tab_put(slot_tab, id, slot, &found);
	if (at < 0) {
		bpf_map_push_elem(&free_slots, &slot, 0);
		return at == SC_TAB_FOUND ? found : unattributed();
	}
	/* the record before anything may remove the entry: user space
	 * learns of every slot taken, and retires it when its entry goes */
	ev = bpf_ringbuf_reserve(&syscount_events, sizeof(*ev), 0);
	if (ev) {
		ev->id = id;
		ev->slot = slot;
		ev->__pad = 0;
		bpf_ringbuf_submit(ev, 0);
	} else {
		ctw_count_percpu(&events_lost, 0);
	}
	slot = sc_tab_settle(slot_tab, id, at, slot);
	if (!(cgrp->self.flags & CSS_ONLINE))
		sc_tab_remove(slot_tab, id);
	/* the settle may have removed another CPU's entry of id, which that
	 * CPU's memo holds */
	epoch_bump();
	return slot;
}

/* id's slot in the table (taken now if it has none). */
static __always_inline __u32 lookup(struct cgroup *cgrp, __u64 id)
{
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
	return claim(cgrp, id);
}

/* The current task's cgroup's slot: the CPU's memo when it checks out,
 * else the table's (the epoch read before the table, so that a memo never
 * outlives an entry's removal it did not see). */
static __always_inline __u32 find(void)
{
	struct cgroup *cgrp = current_cgroup();
	__u64 id = cgrp->kn->id, epoch;
	__u32 zero = 0, cpu = bpf_get_smp_processor_id(), slot;
	struct syscount_memo *m = bpf_map_lookup_elem(&memo, &cpu);
	__u64 *e = bpf_map_lookup_elem(&tab_epoch, &zero);
	int got;

	if (!m || !e)
		return lookup(cgrp, id);
	epoch = *(volatile __u64 *)e;
	got = sc_memo_get(m, id, epoch);
	if (got >= 0)
		return got;
	slot = lookup(cgrp, id);
	/* no memo of the unattributed slot: the next call tries to claim */
	if (slot != SYSCOUNT_SLOT_UNATTRIBUTED)
		sc_memo_put(m, id, slot, epoch);
	return slot;
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

/* A cgroup goes: its entry becomes a tombstone (never empty: see
 * syscount_tab.h); its slot keeps the final counts for user space.  The
 * atomic add orders CSS_ONLINE's clearing before the table is read (see
 * claim()). */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(syscount_rmdir, struct cgroup *cgrp, const char *path)
{
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	__sync_fetch_and_add(&rmdirs, 1);
	if (sc_tab_remove(slot_tab, BPF_CORE_READ(cgrp, kn, id)))
		epoch_bump();
	return 0;
}
