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
 * never user space; the algorithms are in syscount_tab.h).  At the
 * cgroup's rmdir the program turns its entry into a tombstone (never
 * empty); the slot keeps the final counts until user space has read them,
 * zeroed the slot and pushed it back to `free_slots` (after a cooling
 * time: a program that found the entry just before it went may still add
 * to the slot).
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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * User space's book of the slots (agent/syscount_book.c): which cgroup each
 * slot counts, learnt from the `syscount_events` records and from passes
 * over the table, and when a slot whose entry left the table may be given
 * back.  Pure logic, no BPF: the agent (agent/mod_syscalls.c) reads and
 * zeroes the slots it says, tests/unit/test_syscount.c checks it.
 *
 * A slot is free (in the kernel's queue: id 0), used (id), or cooling: its
 * entry left the table (rmdir, or a settled duplicate) but a program that
 * found the entry just before may still add to it, so it keeps counting
 * for its cgroup until SYSCOUNT_COOL_NS have passed and a later pass gives
 * it back (read its counts, zero it, push it).  Never is a slot pushed while
 * the table or an unread record may still name it.
 */
#define SYSCOUNT_COOL_NS 100000000ull /* 100 ms */

struct syscount_book {
	uint32_t nslots;     /* slots that exist: chunks x SYSCOUNT_CHUNK_SLOTS */
	uint32_t nfree;	     /* in the kernel's queue, as far as we know */
	uint64_t *slot_id;   /* per slot: the cgroup it counts; 0 = free */
	uint64_t *cool_from; /* per slot: when its entry was missed; 0 = not */
	uint8_t *seen;	     /* per slot, during a pass */
	uint64_t changes;    /* bumped when a slot's cgroup changes */
};

void syscount_book_init(struct syscount_book *b);
void syscount_book_free(struct syscount_book *b);
/* A chunk of slots was added; `nqueued` of them pushed to the queue. */
void syscount_book_grow(struct syscount_book *b, uint32_t nqueued);
/* A `syscount_events` record: slot taken by id.  False when ignored. */
bool syscount_book_taken(struct syscount_book *b, uint32_t slot, uint64_t id);
/* A pass over the table (SYSCOUNT_TAB_SIZE entries, read with relaxed
 * loads) at `now`: slots newly entered are recorded, slots whose entry
 * left start cooling.  Fills `give_back` (room for nslots) with the slots
 * whose cooling is over: the caller reads their counts for slot_id[slot],
 * zeroes them and calls syscount_book_given_back().  Returns how many. */
size_t syscount_book_pass(struct syscount_book *b, const uint64_t *tab, uint64_t now,
			  uint32_t *give_back);
/* The slot was zeroed and pushed to the queue (pushed: false if the push
 * failed: the slot stays out of use, counted nowhere). */
void syscount_book_given_back(struct syscount_book *b, uint32_t slot, bool pushed);
/* Slots counting for a cgroup (used or cooling). */
uint32_t syscount_book_used(const struct syscount_book *b);

_Static_assert(sizeof(struct syscount_slot) == 8192, "ABI: syscount_slot");
_Static_assert(sizeof(struct syscount_slot_time) == 4096, "ABI: syscount_slot_time");
_Static_assert(sizeof(struct syscount_event) == 16, "ABI: syscount_event");
#endif
#endif /* CTW_SYSCOUNT_H */
