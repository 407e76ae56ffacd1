/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace/ — live syscall tracing of containers (`ctrwatch trace`,
 * `ctrwatch run --trace`): the syscall table (names from libseccomp, argument
 * kinds and strace's classes), strace-style formatting, the -c summary, the
 * Docker-format seccomp profile writer, and a session that loads
 * bpf/trace.bpf.c and consumes its ring buffer.
 */
#ifndef CTW_TRACE_H
#define CTW_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/lib.h"
#include "../bpf/trace.h" /* the kernel contract */

/* ---- the syscall table ---- */

/* strace's classes, for -e trace=%file etc. */
enum {
	CTW_TC_FILE = 1 << 0,
	CTW_TC_NETWORK = 1 << 1,
	CTW_TC_PROCESS = 1 << 2,
	CTW_TC_MEMORY = 1 << 3,
	CTW_TC_SIGNAL = 1 << 4,
	CTW_TC_IPC = 1 << 5,
	CTW_TC_DESC = 1 << 6,
};

/* Name of syscall nr on this architecture ("openat"), or NULL. Borrowed. */
const char *ctw_trace_syscall_name(int nr);
/* Number of a syscall name, or -1. */
int ctw_trace_syscall_nr(const char *name);
/* strace classes of nr (CTW_TC_*). */
unsigned ctw_trace_syscall_classes(int nr);
/* What the kernel must capture for nr (selection flag not set). */
void ctw_trace_syscall_spec(int nr, struct ctw_trace_spec *spec);
/* Add to spec what -y needs: what each fd argument and a returned fd is. */
void ctw_trace_syscall_spec_fds(int nr, struct ctw_trace_spec *spec);

/* Parse strace's -e trace= value ("open,read", "%file,%network", "!write",
 * "all", "none") into sel[TRACE_NR_MAX].  -EINVAL with err set on an
 * unknown name or class. */
int ctw_trace_parse_filter(const char *expr, bool *sel, struct ctw_err *err);

/* ---- formatting ---- */

/* How each line starts, as strace -f does it. */
enum ctw_trace_prefix {
	CTW_PFX_BRACKET = 0, /* "[pid  1234] " (a terminal) */
	CTW_PFX_FILE,	     /* "1234  " (-o FILE) */
	CTW_PFX_NONE,	     /* nothing (-ff: one file per process) */
};

struct ctw_trace_fmt {
	unsigned strsize;     /* -s: string data shown before "..." */
	bool durations;	      /* -T: " <0.000012>" */
	int timestamps;	      /* 0, 1 (-t HH:MM:SS), 2 (-tt with usecs) */
	int64_t realtime_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for -t */
	bool json;
	int prefix;	     /* enum ctw_trace_prefix */
	bool show_container; /* "[web] " first: several containers traced */
	int decode_fds;	     /* -y: what fds are; -yy: sockets' endpoints, devices */
};

/* Format one event (a syscall, a signal or an exit) as a strace line or a
 * JSON object, newline included.  payload points at ev->payload_len bytes
 * of items. */
void ctw_trace_format_event(struct ctw_outbuf *o, const struct ctw_trace_fmt *f,
			    const struct ctw_trace_event *ev, const void *payload,
			    const char *container);

/* Building blocks, exported for the unit tests. */
void ctw_trace_quote(struct ctw_outbuf *o, const char *s, size_t n, size_t max, bool more);
void ctw_trace_format_open_flags(struct ctw_outbuf *o, uint64_t flags);
void ctw_trace_format_at_flags(struct ctw_outbuf *o, uint64_t flags);
void ctw_trace_format_mmap_prot(struct ctw_outbuf *o, uint64_t prot);
void ctw_trace_format_mmap_flags(struct ctw_outbuf *o, uint64_t flags);
void ctw_trace_format_socket_domain(struct ctw_outbuf *o, uint64_t domain);
void ctw_trace_format_socket_type(struct ctw_outbuf *o, uint64_t type);
void ctw_trace_format_signal(struct ctw_outbuf *o, uint64_t sig);
void ctw_trace_format_sockaddr(struct ctw_outbuf *o, const void *sa, size_t len);
void ctw_trace_format_ret(struct ctw_outbuf *o, int nr, int64_t ret);
/* "ENOENT", or NULL for an unknown errno. */
const char *ctw_trace_errno_name(int err);
/* Signal number of "SIGTERM", "TERM", "15", "SIGRTMIN+2", "SIGRT_3"; -1. */
int ctw_trace_signal_nr(const char *name);

/* --record / --replay (trace/record.c): a file of raw records. */
int ctw_trace_record_start(struct ctw_outbuf *o, int64_t realtime_off);
void ctw_trace_record(struct ctw_outbuf *o, const void *rec, uint32_t len);
struct ctw_trace_select;
/* Decode a recording into lines (or JSON) as f says, to out_fd; only what
 * sel's -e trace=, signal=, status= and quiet=exit select (NULL: all). */
int ctw_trace_replay(const char *path, const struct ctw_trace_fmt *f,
		     const struct ctw_trace_select *sel, int out_fd, const char *container,
		     struct ctw_err *err);

/* ---- -e EXPR ---- */

/* strace's -e status= */
enum {
	CTW_STATUS_SUCCESSFUL = 1 << 0,
	CTW_STATUS_FAILED = 1 << 1,
	CTW_STATUS_UNFINISHED = 1 << 2,
	CTW_STATUS_ALL = 7,
};

/* strace's -e quiet= (-q, -qq) */
enum {
	CTW_QUIET_ATTACH = 1 << 0,
	CTW_QUIET_EXIT = 1 << 1,
};

/* What -e trace=, signal=, status= and quiet= select, with everything
 * selected by default. */
struct ctw_trace_select {
	char *filter;	  /* trace= (owned), NULL = all */
	uint64_t signals; /* bit sig-1 */
	unsigned status;  /* CTW_STATUS_* */
	unsigned quiet;	  /* CTW_QUIET_* */
};

void ctw_trace_select_init(struct ctw_trace_select *s);
void ctw_trace_select_fini(struct ctw_trace_select *s);
/* One -e value: "trace=SET", "signal=SET", "status=SET", "quiet=SET" or a
 * bare SET (trace=).  -EINVAL with err set on anything else. */
int ctw_trace_parse_expr(struct ctw_trace_select *s, const char *expr, struct ctw_err *err);

/* ---- summary (-c) and seccomp profile ---- */

/* Print stats[TRACE_NR_MAX] in strace -c's layout. */
void ctw_trace_print_summary(struct ctw_outbuf *o, const struct ctw_trace_stat *stats);
/* Write a Docker-format seccomp profile that allows exactly the syscalls
 * with used[nr] set and makes everything else fail with EPERM. */
int ctw_trace_write_seccomp_profile(const char *path, const bool *used, struct ctw_err *err);

/* ---- a tracing session ---- */

struct ctw_trace_opts {
	const char *filter;	     /* -e trace= value; NULL = everything */
	uint64_t signals;	     /* -e signal=: bit sig-1; 0 = none */
	unsigned status;	     /* -e status=: CTW_STATUS_*, 0 = all */
	bool quiet_exit;	     /* --quiet=exit, -qq: no "+++ exited" lines */
	bool follow_exec;	     /* only the first execve's process and its children */
	bool summary;		     /* -c: counts only, no events */
	bool summary_too;	     /* -C: events and the summary */
	bool json;		     /* --json */
	bool durations;		     /* -T */
	int timestamps;		     /* -t / -tt */
	unsigned strsize;	     /* -s, 0 = 32 unless strsize_set */
	bool strsize_set;	     /* -s given: strsize as is, -s 0 too */
	int out_fd;		     /* where events and summary go */
	int prefix;		     /* enum ctw_trace_prefix */
	bool show_container;	     /* name the container on each line */
	int decode_fds;		     /* -y, -yy */
	const char *ff_prefix;	     /* -ff -o PREFIX: one file PREFIX.PID per process */
	const char *seccomp_profile; /* write this file at the end */
	const int *pids;	     /* -p: only these processes */
	size_t npids;
	size_t ringbuf_bytes;	 /* 0 = 64 MiB */
	bool report_stats;	 /* --stats: events, rate and loss on stderr */
	const char *record_path; /* --record: raw records to this file, no lines */
};

/* What trace's options (strace's spelling) say, from `ctrwatch trace`'s
 * argv or `run --trace`'s words (trace/options.c). */
struct ctw_trace_args {
	struct ctw_trace_opts o;
	struct ctw_trace_select sel;
	const char *out_path; /* -o */
	int follow_forks;     /* -f (always on), -ff: one file per process */
	int *pids;	      /* -p, owned */
	size_t npids;
	bool all;		   /* --all */
	const char *name;	   /* --name */
	const char *k8s_namespace; /* -n/--namespace: narrows CONTAINER */
	const char *pod;	   /* --pod: narrows CONTAINER */
	bool with_init;		   /* --with-init: the runtime's own setup too */
	bool from_exec;		   /* --from-exec: each process from its execve */
	const char *replay;	   /* --replay FILE: decode a recording */
	bool help;
	bool dashdash; /* parsing stopped after "--" */
};

void ctw_trace_args_init(struct ctw_trace_args *a);
void ctw_trace_args_fini(struct ctw_trace_args *a);
/* Parse options from argv[0..argc): stops at "--" (after it, dashdash set)
 * or at the first word that is not an option.  Returns the index of the
 * first word not parsed, or -EINVAL with err set.  Strings in argv are
 * referenced, not copied. */
int ctw_trace_parse_args(struct ctw_trace_args *a, int argc, char **argv, struct ctw_err *err);
/* The "Options" block of `trace --help`, from the same table. */
void ctw_trace_opts_print(FILE *out);
/* Check the combination and fill a->o from the rest (out_fd aside). */
int ctw_trace_args_finish(struct ctw_trace_args *a, struct ctw_err *err);

struct ctw_trace;

struct ctw_trace *ctw_trace_new(const struct ctw_trace_opts *opts, struct ctw_err *err);
/* Start tracing a cgroup (by v2 id); name is what output lines show. */
int ctw_trace_add_cgroup(struct ctw_trace *t, uint64_t cgroup_id, const char *name);
/* Same for a cgroup directory and every cgroup below it. Returns the
 * number of cgroups added or -errno. */
int ctw_trace_add_cgroup_tree(struct ctw_trace *t, const char *path, const char *name);
/* Consume what the ring buffer holds, waiting up to timeout_ms.
 * Returns the events consumed or -errno (-EINTR when interrupted). */
int ctw_trace_poll(struct ctw_trace *t, int timeout_ms);
/* Consume in a child process until ctw_trace_finish(), which then has the
 * child drain, print the summary, write the profile and report losses.
 * The caller stays single-threaded (it may go on to clone containers).
 * Cgroups added afterwards are traced (the map is shared) but named
 * after ctw_trace_set_default_name(), set before this call. */
int ctw_trace_start_reader(struct ctw_trace *t);
void ctw_trace_set_default_name(struct ctw_trace *t, const char *name);
/* Stop, drain, write the summary / profile, report losses.  0 or -errno. */
int ctw_trace_finish(struct ctw_trace *t, struct ctw_err *err);
uint64_t ctw_trace_events(const struct ctw_trace *t);
uint64_t ctw_trace_lost(struct ctw_trace *t);
void ctw_trace_free(struct ctw_trace *t);

/* ---- `ctrwatch run --trace[=OPTIONS] [--trace-output FILE]` ---- */

struct ctw_trace_run;

/* OPTIONS: trace options as one string of words, e.g. "-c -e trace=%file"
 * (-e, -c, -C, -T, -t, -tt, -s N, -Z/--failed, --json, --seccomp-profile F,
 * --stats, --buffer-size N).  Output goes to FILE, or stderr.  Starts the session and its
 * reader process; name is what lines show.  NULL with err set on failure. */
struct ctw_trace_run *ctw_trace_run_begin(const char *options, const char *output, const char *name,
					  struct ctw_err *err);
/* The runtime's on_cgroup_ready hook; ctx is the struct ctw_trace_run. */
int ctw_trace_run_hook(uint64_t cgroup_id, void *ctx);
/* Drain, print the summary / write the profile, free.  NULL is fine. */
int ctw_trace_run_end(struct ctw_trace_run *r);

/* ---- naming what the user typed ---- */

struct ctw_trace_target {
	uint64_t cgroup_id;
	char name[128];
	char cgroup_path[4096]; /* absolute v2 path, "" when unknown */
};

/* Resolve a container name or id, a cgroup path (absolute or relative to
 * the v2 mount) or a PID.  -ENOENT / -EINVAL with err set. */
int ctw_trace_resolve(const char *spec, struct ctw_trace_target *out, struct ctw_err *err);

#endif /* CTW_TRACE_H */
