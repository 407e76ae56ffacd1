/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/syscount.bpf.c and agent/mod_syscalls.c: always-on
 * syscall counting per cgroup, keyed in the kernel on the cgroup itself so
 * that nothing depends on user space having seen the cgroup first.
 *
 * Every cgroup v2 cgroup that makes a syscall gets a slot (a struct
 * syscount_slot: calls and errors per syscall number) on its first
 * syscall, taken by the program from the `free_slots` queue and entered in
 * the slot table, an open-addressing table in the program's .bss that the
 * hot path probes with plain loads:
 *
 *   entry = cgroup id << 16 | slot   (0: empty; SYSCOUNT_TAB_TOMB: removed)
 *   probe i of id: SYSCOUNT_TAB_HASH(id) + i (mod SYSCOUNT_TAB_SIZE),
 *   i < SYSCOUNT_TAB_PROBES; a lookup stops at the first empty entry
 *
 * Entries are only written with compare-and-swap (the program on any CPU,
 * never user space).  At the cgroup's rmdir the program removes its entry
 * (a tombstone, or empty when nothing follows it in the probe chain); the
 * slot keeps the final counts until user space has read them, zeroed the
 * slot and pushed it back to `free_slots`.
 *
 * Slots live in chunk maps of SYSCOUNT_CHUNK_SLOTS slots (the array of maps
 * `chunks`, created by user space as slots are used, so map memory follows
 * the number of cgroups, not a fixed maximum).  Slot 0 is never handed
 * out: a cgroup that finds no slot (the queue ran dry, its probe chain is
 * full, or its id has 48 bits or more) counts there, unattributed.
 * Counters are shared by all CPUs and updated with atomic adds (see
 * syscount.bpf.c for why not per-CPU).
 */
#ifndef CTW_SYSCOUNT_H
#define CTW_SYSCOUNT_H
#ifndef __bpf__
#include <linux/types.h>
#endif

#define SYSCOUNT_NR_MAX 512 /* syscall numbers at or above are ignored */

#define SYSCOUNT_CHUNK_SLOTS 64 /* slots per chunk map */
#define SYSCOUNT_CHUNKS_MAX 256 /* entries of `chunks` */
#define SYSCOUNT_SLOTS_MAX (SYSCOUNT_CHUNK_SLOTS * SYSCOUNT_CHUNKS_MAX)
#define SYSCOUNT_SLOT_UNATTRIBUTED 0 /* counts of cgroups that got no slot */

#define SYSCOUNT_TAB_BITS 15
#define SYSCOUNT_TAB_SIZE (1u << SYSCOUNT_TAB_BITS) /* twice SYSCOUNT_SLOTS_MAX */
#define SYSCOUNT_TAB_PROBES 8
#define SYSCOUNT_TAB_TOMB (~0ull)	 /* a removed entry: probing goes on */
#define SYSCOUNT_TAB_ID_MAX (1ull << 47) /* ids at or above: unattributed */
#define SYSCOUNT_TAB_HASH(id) ((__u32)(((id)*0x9E3779B97F4A7C15ull) >> (64 - SYSCOUNT_TAB_BITS)))

struct syscount_cnt {
	__u64 calls;  /* completed syscalls, plus exit/exit_group (see .bpf.c) */
	__u64 errors; /* return value in [-4095, -1] */
};

/* One slot: a cgroup's counters (chunk map value). */
struct syscount_slot {
	struct syscount_cnt nr[SYSCOUNT_NR_MAX];
};

/* One slot of time (enter-to-exit ns) per syscall: `tchunks`, timing only. */
struct syscount_slot_time {
	__u64 ns[SYSCOUNT_NR_MAX];
};

/* `syscount_events` record: a slot taken.  User space learns from it which
 * cgroup a slot counts even when the cgroup is gone before user space
 * reads the table (its entry removed); it also wakes user space to top up
 * the queue.  Records that did not fit are counted in `events_lost`. */
struct syscount_event {
	__u64 id;   /* cgroup v2 id */
	__u32 slot; /* the slot it took */
	__u32 __pad;
};

#ifndef __bpf__
_Static_assert(sizeof(struct syscount_slot) == 8192, "ABI: syscount_slot");
_Static_assert(sizeof(struct syscount_slot_time) == 4096, "ABI: syscount_slot_time");
_Static_assert(sizeof(struct syscount_event) == 16, "ABI: syscount_event");
#endif
#endif /* CTW_SYSCOUNT_H */
