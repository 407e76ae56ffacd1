/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/syscount.bpf.c and agent/mod_syscalls.c: always-on
 * syscall counting per (container, syscall number).
 *
 * User space gives each watched container a slot (a row of the per-CPU
 * `counts` array: one counter pair per syscall number) and maps every
 * cgroup id of the container (its own and its nested ones) to that slot in
 * the watch table, an open-addressing table in the program's .bss that the
 * program probes without a helper call:
 *
 *   entry = cgroup id << 16 | slot   (0: empty)
 *   probe i of id: SYSCOUNT_TAB_HASH(id) + i (mod SYSCOUNT_TAB_SIZE), i <
 *   SYSCOUNT_TAB_PROBES, in the half of watch_tab that tab_base selects
 *
 * User space builds a new table in the other half and then flips tab_base,
 * so the program never sees a half-built table; an entry is one 64-bit word,
 * so it never sees half an entry either.  What the table cannot hold goes
 * to the `watched` hash: an id that found no free entry in its probes, or
 * one of 48 bits or more (then use_hash is set and the program falls back
 * to the hash on a table miss), and containers without a slot (their table
 * entry says SYSCOUNT_TAB_NO_SLOT; the hash gives the container, counted in
 * the per-CPU hash `overflow`, keyed by (container cgroup id, syscall)).
 */
#ifndef CTW_SYSCOUNT_H
#define CTW_SYSCOUNT_H
#ifndef __bpf__
#include <linux/types.h>
#endif

#define SYSCOUNT_NR_MAX 512	     /* syscall numbers at or above are ignored */
#define SYSCOUNT_SLOTS 256	     /* rows of `counts` (containers counted there) */
#define SYSCOUNT_NO_SLOT 0xffffffffu /* watched.slot: count in `overflow` */

#define SYSCOUNT_TAB_BITS 15
#define SYSCOUNT_TAB_SIZE (1u << SYSCOUNT_TAB_BITS) /* entries per half */
#define SYSCOUNT_TAB_PROBES 8
#define SYSCOUNT_TAB_NO_SLOT 0xffffu	 /* entry's slot: look in `watched` */
#define SYSCOUNT_TAB_ID_MAX (1ull << 48) /* ids at or above: `watched` only */
#define SYSCOUNT_TAB_HASH(id) ((__u32)(((id)*0x9E3779B97F4A7C15ull) >> (64 - SYSCOUNT_TAB_BITS)))

/* Value of `watched` (key: cgroup v2 id). */
struct syscount_watch {
	__u32 slot; /* row of counts/times, or SYSCOUNT_NO_SLOT */
	__u32 __pad;
	__u64 owner; /* the container's own cgroup id (overflow key) */
};

struct syscount_cnt {
	__u64 calls;  /* completed syscalls, plus exit/exit_group (see .bpf.c) */
	__u64 errors; /* return value in [-4095, -1] */
};

/* One slot of `counts`, per CPU; user space sums the CPUs. */
struct syscount_slot {
	struct syscount_cnt nr[SYSCOUNT_NR_MAX];
};

/* One slot of `times` (enter-to-exit ns), per CPU; only with timing. */
struct syscount_slot_time {
	__u64 ns[SYSCOUNT_NR_MAX];
};

/* Key of `overflow`. */
struct syscount_key {
	__u64 cgroup_id; /* the container's own cgroup id (watched.owner) */
	__u32 nr;	 /* native syscall number */
	__u32 __pad;
};

struct syscount_val { /* `overflow` value, one per CPU */
	__u64 calls;
	__u64 errors;
	__u64 time_ns; /* only when timing is on */
};

#ifndef __bpf__
_Static_assert(sizeof(struct syscount_watch) == 16, "ABI: syscount_watch");
_Static_assert(sizeof(struct syscount_slot) == 8192, "ABI: syscount_slot");
_Static_assert(sizeof(struct syscount_slot_time) == 4096, "ABI: syscount_slot_time");
_Static_assert(sizeof(struct syscount_key) == 16, "ABI: syscount_key");
_Static_assert(sizeof(struct syscount_val) == 24, "ABI: syscount_val");
#endif
#endif /* CTW_SYSCOUNT_H */
