/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/trace.bpf.c (live syscall tracing) and trace/.
 *
 * One record per syscall, emitted at sys_exit: a fixed header followed by
 * payload_len bytes of captured data (strings, argv, structs, buffers), as a
 * sequence of items, each a struct ctw_trace_item and then item.len bytes,
 * the next item starting at the following 8-byte boundary.  What is captured
 * for which argument is decided by user space through the trace_spec map,
 * so the kernel side stays one generic program that copies bounded bytes;
 * all decoding happens in user space.
 *
 * Besides syscalls the ring carries signal deliveries (nr TRACE_NR_SIGNAL,
 * one TRACE_IT_SIGINFO item) and task exits (nr TRACE_NR_EXIT, ret = the
 * task's exit_code).
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
#define TRACE_ARGV_MAX 32      /* execve arguments captured (strace shows 32 with -s 32) */
#define TRACE_BUF_MAX 256      /* read/write data, cut further by -s */
#define TRACE_ITEM_MAX 256     /* largest single item's data */
#define TRACE_IOV_MAX 16       /* iovecs captured per call */
#define TRACE_COUNT_MAX 4096   /* envp pointers / directory entries counted */
#define TRACE_SIGINFO_SIZE 48  /* struct kernel_siginfo */

/* Records that are not syscalls (ctw_trace_event.nr). */
#define TRACE_NR_SIGNAL (-2) /* a signal delivered (or ignored): args[0] = signo */
#define TRACE_NR_EXIT (-3)   /* a task exited: ret = exit_code, args[0] = group_dead */

/* What to capture for one argument (ctw_trace_argspec.cap); the item it
 * makes has the same kind, or the kinds named. */
enum trace_cap {
	TRACE_CAP_NONE = 0,
	TRACE_CAP_STR,	    /* NUL-terminated user string */
	TRACE_CAP_ARGV,	    /* char *const argv[]: the strings, NUL-separated; full_len = count */
	TRACE_CAP_MEM,	    /* bytes: len * elem (or max when len is NONE), at most max */
	TRACE_CAP_IOV,	    /* struct iovec[len] (TRACE_IT_IOV), then TRACE_IT_IOVDATA per iovec */
	TRACE_CAP_MSGHDR,   /* struct user_msghdr (TRACE_IT_MSGHDR), its name (MSGNAME),
			     * iovecs (IOV, IOVDATA) and control data (MSGCTRL) */
	TRACE_CAP_PTRCOUNT, /* TRACE_IT_COUNT: pointers before a NULL (execve's envp) */
	TRACE_CAP_DENTS,    /* TRACE_IT_COUNT: directory entries in ret bytes (getdents) */
	TRACE_CAP_SIGFRAME, /* rt_sigreturn: the sigset in the frame at the stack pointer */
	TRACE_CAP_IOCTL,    /* ioctl's argument, sized by the request (a few known ones) */
	TRACE_CAP_CLONE3,   /* struct clone_args; at exit TRACE_IT_PIDFD: *pidfd and
			     * TRACE_IT_TID: *parent_tid */
	TRACE_CAP_PRCTL,    /* prctl's argument 2 by option: a name in or out, an int out */
	TRACE_CAP_FD,	    /* -y: what the fd (or AT_FDCWD) is: TRACE_IT_FD */
	TRACE_CAP_FDPAIR,   /* int[2] at exit (MEM), and with -y TRACE_IT_FD for each */
	TRACE_CAP__COUNT,
};

/* Item kinds beyond the capture kinds (ctw_trace_item.kind & TRACE_ITEM_KIND). */
enum trace_item_kind {
	TRACE_IT_IOV = TRACE_CAP__COUNT, /* struct iovec[] */
	TRACE_IT_IOVDATA,		 /* data of iovec full_len (index) */
	TRACE_IT_MSGHDR,		 /* struct user_msghdr */
	TRACE_IT_MSGNAME,		 /* msg_name: full_len = msg_namelen */
	TRACE_IT_MSGCTRL,		 /* msg_control: full_len = msg_controllen */
	TRACE_IT_COUNT,			 /* a number: full_len */
	TRACE_IT_EXECINFO,		 /* struct ctw_trace_execinfo, from sched_process_exec */
	TRACE_IT_SIGINFO,		 /* TRACE_SIGINFO_SIZE bytes of kernel_siginfo */
	TRACE_IT_TID,			 /* an int written by the kernel (clone3's parent_tid) */
	TRACE_IT_FD,			 /* struct ctw_trace_fdinfo and a path; full_len = fd */
	TRACE_IT_PIDFD,			 /* an int written by the kernel (clone3's *pidfd) */
};

/* ctw_trace_argspec.when */
#define TRACE_AT_ENTER 0x01 /* capture at sys_enter (what the caller passes in) */
#define TRACE_AT_EXIT 0x02  /* at sys_exit when it succeeded (what the kernel wrote) */
#define TRACE_AT_ERROR 0x04 /* at sys_exit when it failed too (nanosleep's remainder) */

/* ctw_trace_argspec.len: the count comes from ... */
#define TRACE_LEN_ARG(i) (i)		/* the value of argument i */
#define TRACE_LEN_DEREF(i) (0x10 | (i)) /* the int argument i points to (socklen_t *) */
#define TRACE_LEN_RET 0x20		/* the return value (at exit) */
#define TRACE_LEN_NONE 0xff		/* nothing: max bytes */

/* ctw_trace_argspec.flags */
#define TRACE_ARG_DATA 0x01 /* data shown as a string: at most -s bytes (buf_max) */
#define TRACE_ARG_FDS 0x02  /* holds fds (pollfds, fd_set): with -y, TRACE_IT_FD for some */

/* What the kernel captures for one argument. */
struct ctw_trace_argspec {
	__u8 cap;   /* enum trace_cap */
	__u8 when;  /* TRACE_AT_* */
	__u8 len;   /* TRACE_LEN_* */
	__u8 flags; /* TRACE_ARG_* */
	__u16 elem; /* bytes per unit of len (0: bits, as in fd_set) */
	__u16 max;  /* bytes at most (<= TRACE_ITEM_MAX) */
};
_Static_assert(sizeof(struct ctw_trace_argspec) == 8, "ABI: ctw_trace_argspec");

/* trace_spec.flags */
#define TRACE_SPEC_SELECTED 0x01  /* traced at all (-e trace=) */
#define TRACE_SPEC_NORETURN 0x02  /* exit, exit_group: emitted at enter */
#define TRACE_SPEC_CAP_ENTER 0x04 /* some arg is captured at enter */
#define TRACE_SPEC_CAP_EXIT 0x08  /* some arg is captured at exit */
#define TRACE_SPEC_EXEC 0x10	  /* execve, execveat: argv/envc completed at exec */
#define TRACE_SPEC_RETFD 0x20	  /* returns an fd: with -y, TRACE_IT_FD for arg TRACE_NARGS */

/* Per syscall number: what the kernel captures (array map, key = nr). */
struct ctw_trace_spec {
	struct ctw_trace_argspec arg[TRACE_NARGS];
	__u8 flags;
	__u8 __pad[7];
};
_Static_assert(sizeof(struct ctw_trace_spec) == 56, "ABI: ctw_trace_spec");

/* ctw_trace_item.kind: the kind (enum trace_cap / trace_item_kind) and: */
#define TRACE_ITEM_KIND 0x3f
#define TRACE_ITEM_EXIT 0x40 /* captured at sys_exit */
#define TRACE_ITEM_MORE 0x80 /* an argv or array that was cut */

struct ctw_trace_item {
	__u8 arg;	/* argument index */
	__u8 kind;	/* see above */
	__u16 len;	/* data bytes following */
	__u32 full_len; /* length before capture cut, a count or an index (see kinds) */
};
_Static_assert(sizeof(struct ctw_trace_item) == 8, "ABI: ctw_trace_item");

/* TRACE_IT_EXECINFO: what the kernel's exec saw. */
struct ctw_trace_execinfo {
	__s32 argc;
	__s32 envc;
};

/* TRACE_IT_FD (-y, -yy): what an fd refers to.  Then, for a path, the
 * names from the file up to its namespace's root, leaf first, each
 * NUL-terminated; for a unix socket its bound path; for an anon inode its
 * name ("[eventfd]"). */
enum trace_fd_type {
	TRACE_FD_NONE = 0, /* not an open fd */
	TRACE_FD_PATH,	   /* a file, directory or device: path follows */
	TRACE_FD_SOCKET,   /* a socket: family, protocol, addresses */
	TRACE_FD_PIPE,	   /* pipe:[ino] */
	TRACE_FD_ANON,	   /* anon_inode:[name]: the name follows */
};

struct ctw_trace_fdinfo {
	__u8 type; /* enum trace_fd_type */
	__u8 family;
	__u8 sock_type;
	__u8 protocol;
	__u16 sport, dport; /* host order */
	__u64 ino;	    /* the inode (socket, pipe) */
	__u64 peer_ino;	    /* unix sockets: the peer's inode */
	__u32 rdev;	    /* devices: MKDEV */
	__u16 mode;	    /* S_IFMT bits */
	__u16 __pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct ctw_trace_fdinfo) == 64, "ABI: ctw_trace_fdinfo");

/* trace_event.flags */
#define TRACE_EV_NORETURN 0x01	/* no return value: exit_group, or killed in the call */
#define TRACE_EV_GENERATED 0x02 /* TRACE_NR_SIGNAL: ignored, seen when it was sent */
#define TRACE_EV_STOPS 0x04	/* TRACE_NR_SIGNAL: a stop signal with its default action */

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
