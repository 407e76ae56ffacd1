/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The slot table's algorithms (layout in syscount.h), shared by the
 * programs (syscount.bpf.c) and tests/unit/test_syscount.c, which runs them
 * in the interleavings that matter.  Entries go empty -> entry -> tombstone
 * -> entry ...; only compare-and-swap writes them.
 *
 * Why an entry is never emptied once used: a lookup stops at the first
 * empty entry, so emptying one in front of a live entry hides that entry
 * (its cgroup claims a second slot, and its rmdir, stopping there too,
 * never removes the first: a slot lost for good).  Tombstones are reused by
 * claims instead, so the table does not fill with them.
 *
 * Two claims of one cgroup may still both enter it: each walks the chain,
 * and a tombstone reused by one may lie in front of the entry the other is
 * about to make.  So a claim settles after it entered: of two entries of
 * one id, the one at the lower probe stays, the other becomes a tombstone
 * (whichever claim looks second sees both; the one that looks first may see
 * only its own, and keeps it only if it is the lower).  A slot whose entry
 * left the table for either reason is retired by user space as usual.
 */
#ifndef CTW_SYSCOUNT_TAB_H
#define CTW_SYSCOUNT_TAB_H
#include "syscount.h"

#ifndef SC_TAB_INLINE
#define SC_TAB_INLINE static __always_inline
#endif

#define SC_TAB_IDX(h, i) (((h) + (i)) & (SYSCOUNT_TAB_SIZE - 1))
#define SC_TAB_FOUND (-2) /* sc_tab_put(): id already entered */
#define SC_TAB_FULL (-1)  /* sc_tab_put(): no free entry in the chain */

SC_TAB_INLINE __u64 sc_tab_ld(const __u64 *tab, __u32 idx)
{
	return *(const volatile __u64 *)&tab[idx];
}

/* Enter id -> slot at the first free entry (empty or tombstone) of id's
 * chain, unless id is met first.  Returns the probe it went to, or
 * SC_TAB_FOUND (*found: the slot already entered), or SC_TAB_FULL. */
SC_TAB_INLINE int sc_tab_put(__u64 *tab, __u64 id, __u32 slot, __u32 *found)
{
	__u32 h = SYSCOUNT_TAB_HASH(id);
	__u64 want = id << 16 | slot;
	int i, try;

	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u32 idx = SC_TAB_IDX(h, i);
		__u64 e = sc_tab_ld(tab, idx);

		for (try = 0; try < 4; try++) {
			__u64 old;

			if (e >> 16 == id) {
				*found = e & 0xffff;
				return SC_TAB_FOUND;
			}
			if (e && e != SYSCOUNT_TAB_TOMB)
				break; /* another cgroup's: next entry */
			old = __sync_val_compare_and_swap(&tab[idx], e, want);
			if (old == e)
				return i;
			e = old; /* changed under us: look again */
		}
	}
	return SC_TAB_FULL;
}

/* After sc_tab_put() entered id -> slot at probe `at`: if another entry of
 * id is in the chain, the lower probe's stays.  Returns the slot to count
 * in (the other's when ours went). */
SC_TAB_INLINE __u32 sc_tab_settle(__u64 *tab, __u64 id, int at, __u32 slot)
{
	__u32 h = SYSCOUNT_TAB_HASH(id);
	int i;

	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u32 idx = SC_TAB_IDX(h, i);
		__u64 e = sc_tab_ld(tab, idx);

		if (i == at || e >> 16 != id)
			continue;
		if (i < at) { /* ours is the second entry */
			__sync_val_compare_and_swap(&tab[SC_TAB_IDX(h, at)], id << 16 | slot,
						    SYSCOUNT_TAB_TOMB);
			return e & 0xffff;
		}
		__sync_val_compare_and_swap(&tab[idx], e, SYSCOUNT_TAB_TOMB);
	}
	return slot;
}

/* A cgroup went: each entry of its id (one, unless a settle is under way)
 * becomes a tombstone.  Returns how many. */
SC_TAB_INLINE int sc_tab_remove(__u64 *tab, __u64 id)
{
	__u32 h = SYSCOUNT_TAB_HASH(id);
	int i, n = 0;

	for (i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u32 idx = SC_TAB_IDX(h, i);
		__u64 e = sc_tab_ld(tab, idx);

		if (!e)
			break;
		if (e >> 16 == id &&
		    __sync_val_compare_and_swap(&tab[idx], e, SYSCOUNT_TAB_TOMB) == e)
			n++;
	}
	return n;
}

/*
 * The per-CPU memo of the last slot found (syscount.bpf.c's find()): most
 * syscalls on a CPU come from the task of the one before, and the memo
 * spares them the walk from the task to its cgroup id (three dependent
 * loads, the costliest part of the count: see syscount.bpf.c) and the
 * table's page.  It holds the task (the task_struct's address), the table
 * entry found for the task's cgroup and a check word that binds the two to
 * the table's epoch, which the programs bump after any task may have
 * changed cgroup or gone (cgroup_attach_task, sched_process_exit: a task's
 * address is reused) and after any entry may have left the table (a rmdir,
 * a claim's settle).  A memo made before a bump does not check out
 * afterwards; nor does one torn between two writers (words of two writes).
 * A task that misses may still find its cgroup's entry in the memo (the
 * CPU's task before was of the same cgroup): then only the table is
 * spared.
 */
struct syscount_memo {
	__u64 task;	/* the task's address */
	__u64 entry;	/* id << 16 | slot, as in the table */
	__u64 check;	/* sc_memo_check(task, entry, epoch when found) */
	__u64 __pad[5]; /* a cache line of its own: one CPU writes it */
};

/* One-to-one in entry and in task for a given epoch; never 0 for a zeroed
 * memo. */
SC_TAB_INLINE __u64 sc_memo_check(__u64 task, __u64 entry, __u64 epoch)
{
	return entry ^ (epoch + 1) * 0x9E3779B97F4A7C15ull ^ task * 0xC2B2AE3D27D4EB4Full;
}

/* The slot the memo holds for this task at this epoch, or -1. */
SC_TAB_INLINE int sc_memo_get(const struct syscount_memo *m, __u64 task, __u64 epoch)
{
	__u64 entry = m->entry;

	if (m->task != task || m->check != sc_memo_check(task, entry, epoch))
		return -1;
	return (int)(entry & 0xffff);
}

/* The slot the memo holds for cgroup id (found for another task) at this
 * epoch, or -1. */
SC_TAB_INLINE int sc_memo_get_id(const struct syscount_memo *m, __u64 id, __u64 epoch)
{
	__u64 entry = m->entry;

	if (entry >> 16 != id || m->check != sc_memo_check(m->task, entry, epoch))
		return -1;
	return (int)(entry & 0xffff);
}

SC_TAB_INLINE void sc_memo_put(struct syscount_memo *m, __u64 task, __u64 id, __u32 slot,
			       __u64 epoch)
{
	m->task = task;
	m->entry = id << 16 | slot;
	m->check = sc_memo_check(task, m->entry, epoch);
}

#endif /* CTW_SYSCOUNT_TAB_H */
