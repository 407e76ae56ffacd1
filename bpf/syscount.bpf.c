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
 * and the slot holds its final counts until user space reads them.  The
 * per-CPU memo of the hot path (below) is keyed on the task, so the epoch
 * that invalidates every memo is bumped also when a task exits (its
 * task_struct's address comes back as another task's) and when tasks move
 * to another cgroup v2 cgroup (tp_btf/cgroup_attach_task, which fires
 * after the move).
 *
 * The hot path stays close to what the floor (one per-CPU counter) costs.
 * What costs here is memory the program walks: with page-table isolation
 * and no PCID (this VM), every syscall starts with an empty TLB, so each
 * page touched is a page walk, and loads that depend on each other pay
 * theirs one after the other.  Measured (BPF statistics, ns per run, same
 * pass, the benchmark's getppid/openat loop): a bare counter at sys_exit
 * 76, plus bpf_get_current_task 80, plus the walk task->cgroups->dfl_cgrp
 * ->kn->id 130 (three dependent loads: +50), plus an atomic add into a
 * vmalloc'd page instead of the per-CPU counter +8, into a kmalloc'd one
 * +1.  So the hot path:
 *   - takes the task's address (bpf_get_current_task, the one helper call;
 *     not inlined on 6.18) and checks it against the CPU's memo of the
 *     last task seen (syscount_tab.h): most syscalls on a CPU come from the
 *     task of the one before.  Only a miss walks to the cgroup id (and
 *     then tries the memo's cgroup, then the slot table in .bss, one probe
 *     in practice: the table is at most half full);
 *   - the slot is [slot / 64][slot % 64] of the array of maps `chunks`
 *     (both lookups inlined by the verifier), the syscall number read
 *     straight from pt_regs.  chunks[slot / 64] is a load that depends on
 *     the memo's: the outer array is read once first, unused, so that its
 *     page walk overlaps the memo's (agent 132 -> 117 ns against a floor
 *     of 100 in one run; reading chunk0 directly, no outer array, 111);
 *   - memo and epoch are one small array (kmalloc'd, the linear map);
 *     no flag in .rodata (a vmalloc'd page): timing is another program.
 * Keying the memo on the task rather than the cgroup id saved less than
 * the walk's 50 ns (agent 141 -> 136 ns): the memo's slot let the CPU run
 * ahead of the check.  Earlier designs, same method: cgroup local storage
 * (bpf_cgrp_storage_get with create) floor + ~90 ns; the table without a
 * memo floor + ~115 ns (its page and the slot's, one after the other).
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

/* key 0: the table's epoch (first word), bumped after any memo may have
 * gone stale (syscount_tab.h); key CPU number + 1: the slot found last on
 * that CPU.  One plain array, a cache line per key, sized to the CPUs by
 * user space: small, so kmalloc'd in the kernel's linear map, and the hot
 * path reads epoch and memo from one allocation.  (A per-CPU map's area may
 * come from a vmalloc'd per-CPU chunk instead, a page of its own to walk:
 * measured earlier as the agent's cost changing by ~40 ns from one start
 * to the next; with this array, 6 starts spanned 128-146 ns, the noise.) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); /* user space: 1 + the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct syscount_memo);
} memo SEC(".maps");

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

/* The epoch: the first word of memo's key 0. */
static __always_inline __u64 *epoch_ptr(void)
{
	__u32 zero = 0;

	return (__u64 *)bpf_map_lookup_elem(&memo, &zero);
}

static __always_inline void epoch_bump(void)
{
	__u64 *epoch = epoch_ptr();

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

/* The current task's cgroup's slot: the CPU's memo when it checks out for
 * the task, or for its cgroup; else the table's (the epoch read before
 * the table, so that a memo never outlives an entry's removal it did not
 * see).  The task as a number (bpf_get_current_task): the memo's check
 * hashes it, and only a miss walks from it to the cgroup. */
static __always_inline __u32 find(void)
{
	__u64 task = bpf_get_current_task(), id, epoch;
	__u32 key = bpf_get_smp_processor_id() + 1, slot;
	struct syscount_memo *m = bpf_map_lookup_elem(&memo, &key);
	__u64 *e = epoch_ptr();
	struct cgroup *cgrp;
	int got;

	if (m && e) {
		epoch = *(volatile __u64 *)e;
		got = sc_memo_get(m, task, epoch);
		if (got >= 0)
			return got;
	}
	cgrp = current_cgroup();
	id = cgrp->kn->id;
	if (!m || !e)
		return lookup(cgrp, id);
	got = sc_memo_get_id(m, id, epoch);
	slot = got >= 0 ? (__u32)got : lookup(cgrp, id);
	/* no memo of the unattributed slot: the next call tries to claim */
	if (slot != SYSCOUNT_SLOT_UNATTRIBUTED)
		sc_memo_put(m, task, id, slot, epoch);
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

/* The count at sys_exit; with `timing`, the time since sys_enter too.  Two
 * programs, so that the one without reads no flag: a `const volatile`
 * flag stays a load of .rodata (a vmalloc'd page) on every syscall even
 * when the verifier knows its value. */
static __always_inline void count_exit(struct pt_regs *regs, long ret, bool timed)
{
	struct syscount_slot *s;
	__u32 zero = 0, slot;
	__u64 nr = REGS_NR(regs);

	/* the chunks' outer array read first, its result unused: its page
	 * walk then overlaps the memo's instead of following it (the walk
	 * for chunks[slot / 64] below finds the page in the TLB) */
	bpf_map_lookup_elem(&chunks, &zero);
	slot = find();

	if (nr >= SYSCOUNT_NR_MAX)
		return;
	s = slot_ptr(slot);
	if (!s)
		return;
	__sync_fetch_and_add(&s->nr[nr].calls, 1);
	if (is_error(ret))
		__sync_fetch_and_add(&s->nr[nr].errors, 1);
	if (timed) {
		struct syscount_slot_time *t = tslot_ptr(slot);

		if (t)
			__sync_fetch_and_add(&t->ns[nr], elapsed());
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscount_exit, struct pt_regs *regs, long ret)
{
	count_exit(regs, ret, false);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscount_timed, struct pt_regs *regs, long ret)
{
	count_exit(regs, ret, true);
	return 0;
}

/* A task exits: its exit or exit_group is counted, and the epoch bumped
 * (after its last use of a memo): its task_struct's address may come back
 * as another task's, which must not find this task's memo. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(syscount_task_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct syscount_slot *s;
	long nr = BPF_CORE_READ(regs, REGS_NR_FIELD);

	if (nr == NR_exit || nr == NR_exit_group) {
		s = slot_ptr(find());
		if (s)
			__sync_fetch_and_add(&s->nr[nr].calls, 1);
	}
	epoch_bump();
	return 0;
}

/* Tasks moved to another cgroup v2 cgroup (a whole thread group with one
 * event): no memo of theirs may be used again. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(syscount_attach, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	if (BPF_CORE_READ(dst, root, hierarchy_id) == 0)
		epoch_bump();
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
