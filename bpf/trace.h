/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/trace.bpf.c (live syscall tracing) and trace/.
 *
 * One record per syscall, emitted at sys_exit: a fixed header followed by
 * payload_len bytes of captured data (strings, argv, sockaddrs, buffers),
 * as a sequence of items, each a struct ctw_trace_item and then item.len bytes,
 * the next item starting at the following 8-byte boundary.  What is captured
 * for which argument is decided by user space through the trace_spec map,
 * so the kernel side stays one generic program.
 */
#ifndef CTW_TRACE_BPF_H
#define CTW_TRACE_BPF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define TRACE_COMM_LEN 16
#define TRACE_NARGS 6
#define TRACE_NR_MAX 512       /* syscall numbers are below this (x86-64) */
#define TRACE_PAYLOAD_MAX 2048 /* power of two: bounds offsets for the verifier */
#define TRACE_STR_MAX 256      /* one path */
#define TRACE_ARGV_STR_MAX 128 /* one execve argument */
#define TRACE_ARGV_MAX 16      /* execve arguments captured */
#define TRACE_BUF_MAX 256      /* read/write data, cut further by -s */
#define TRACE_SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage) */
#define TRACE_ITEM_MAX 256     /* largest single item's data */

/* What to capture for one argument (trace_spec.kind[i]). */
enum trace_cap {
	TRACE_CAP_NONE = 0,
	TRACE_CAP_STR,		/* NUL-terminated user string, at enter */
	TRACE_CAP_ARGV,		/* char *const argv[], at enter */
	TRACE_CAP_SOCKADDR_IN,	/* sockaddr, length = value of arg lenarg, at enter */
	TRACE_CAP_SOCKADDR_OUT, /* sockaddr, length = *(socklen_t *)arg lenarg, at exit */
	TRACE_CAP_BUF_IN,	/* bytes, length = value of arg lenarg, at enter */
	TRACE_CAP_BUF_OUT,	/* bytes, length = return value, at exit */
};

/* trace_spec.flags */
#define TRACE_SPEC_SELECTED 0x01  /* traced at all (-e trace=) */
#define TRACE_SPEC_NORETURN 0x02  /* exit, exit_group: emitted at enter */
#define TRACE_SPEC_CAP_ENTER 0x04 /* some kind[] is captured at enter */
#define TRACE_SPEC_CAP_EXIT 0x08  /* some kind[] is captured at exit */

/* Per syscall number: what the kernel captures (array map, key = nr). */
struct ctw_trace_spec {
	__u8 kind[TRACE_NARGS];	  /* enum trace_cap */
	__u8 lenarg[TRACE_NARGS]; /* argument index giving the length */
	__u8 flags;
	__u8 __pad[3];
};
_Static_assert(sizeof(struct ctw_trace_spec) == 16, "ABI: ctw_trace_spec");

/* trace_item.kind has this bit when an execve argv was cut. */
#define TRACE_ITEM_MORE 0x80

struct ctw_trace_item {
	__u8 arg;	/* argument index */
	__u8 kind;	/* enum trace_cap, | TRACE_ITEM_MORE */
	__u16 len;	/* data bytes following */
	__u32 full_len; /* length before capture cut (buffers, sockaddrs) */
};
_Static_assert(sizeof(struct ctw_trace_item) == 8, "ABI: ctw_trace_item");

/* trace_event.flags */
#define TRACE_EV_NORETURN 0x01 /* no return value (exit_group) */

/* Ring buffer record header; payload_len bytes of items follow. */
struct ctw_trace_event {
	__u64 ts_ns;	   /* sys_enter, CLOCK_MONOTONIC */
	__u64 cgroup_id;   /* cgroup v2 id: the container */
	__u64 duration_ns; /* enter to exit */
	__s64 ret;
	__u64 args[TRACE_NARGS];
	__u32 pid; /* tgid */
	__u32 tid;
	__s32 nr;
	__u16 payload_len;
	__u16 flags;
	char comm[TRACE_COMM_LEN];
};
_Static_assert(sizeof(struct ctw_trace_event) == 112, "ABI: ctw_trace_event");

/* The traced-cgroup table in the program's .bss (traced_tab), what
 * trace_enter probes instead of the traced hash, without a helper call:
 * open addressing, entry = cgroup id (0: empty), probe i of an id at
 * TRACE_TAB_HASH(id) + i (mod TRACE_TAB_SIZE), i < TRACE_TAB_PROBES.
 * Cgroups are only ever added (one 64-bit compare-and-swap into an empty
 * entry, by user space or by the program's cgroup_mkdir for a cgroup made
 * inside a traced one, so an entry is seen whole or not at all, and never
 * overwritten); one that finds no empty entry
 * in its probes is only in the hash, and traced_use_hash tells the program
 * to look there on a miss. */
#define TRACE_TAB_BITS 13
#define TRACE_TAB_SIZE (1u << TRACE_TAB_BITS) /* twice the traced map */
#define TRACE_TAB_PROBES 8
#define TRACE_TAB_HASH(id) ((__u32)(((id)*0x9E3779B97F4A7C15ull) >> (64 - TRACE_TAB_BITS)))

/* Value of the traced map (key: cgroup id). */
struct ctw_trace_cgroup {
	__u64 lost; /* events that found the ring buffer full */
	__u64 __reserved;
};
_Static_assert(sizeof(struct ctw_trace_cgroup) == 16, "ABI: ctw_trace_cgroup");

/* Per-CPU summary (-c, --seccomp-profile), key = nr. */
struct ctw_trace_stat {
	__u64 calls;
	__u64 errors;
	__u64 ns;
};
_Static_assert(sizeof(struct ctw_trace_stat) == 24, "ABI: ctw_trace_stat");

#endif /* CTW_TRACE_BPF_H */
