/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/ — the container lifecycle: namespaces, the overlay root, cgroups
 * (unified v2, or hybrid: v1 controllers for limits plus the container's own
 * v2 cgroup for BPF identity), capabilities, seccomp, the tiny init that runs
 * as PID 1, the conmon-like monitor of detached containers, and the state
 * every other tool reads.
 *
 * State contract (read by the agent to name containers):
 *   ctw_state_dir()/<id>/state.json, written atomically:
 *   {"id", "name", "image", "image_id", "pid", "status": "created|running|exited",
 *    "created", "started", "finished", "exit_code", "oom_killed",
 *    "cgroup" (absolute v2 dir), "cgroup_id" (v2 inode), "cgroup_v1": {ctrl: dir},
 *    "ip", "command": [...], "log_lost_entries", "log_lost_bytes" (output of a
 *    detached container its log could not take: a full disk), plus private
 *    keys (monitor, config, ...)}
 * Per-container files (overlay upper/work, logs) live in
 *   ctw_root_dir()/containers/<id>/ and go away with the container.
 */
#ifndef CTW_RUNTIME_H
#define CTW_RUNTIME_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/lib.h"
#include "../network/network.h"
#include "../spec/spec.h"

/* The network mode `ctrwatch run` uses without --net: CTRWATCH_NET, else
 * network.h's CTW_NET_BUILTIN_DEFAULT (tests/lib.sh sets none). */
#define CTW_RUN_DEFAULT_NET ctw_net_default_mode()

/* At most this many environment variables in a container (the image's Env
 * and -e together): more is an error, not a slow start. */
#define CTW_ENV_MAX 65536

struct ctw_volume {
	char *src; /* host path, NULL for --tmpfs */
	char *dst; /* container path */
	bool ro;
	bool tmpfs;
	char *tmpfs_opts; /* "size=64m,mode=1777" or NULL */
};

struct ctw_run_opts {
	const char *name;	   /* NULL: the short id */
	const char *hostname;	   /* NULL: name */
	const char *image;	   /* IMAGE, or NULL with rootfs */
	const char *rootfs;	   /* --rootfs DIR */
	char **cmd;		   /* CMD ARGS..., NULL: the image's Cmd */
	char **entrypoint;	   /* --entrypoint (split), NULL: the image's */
	bool entrypoint_set;	   /* --entrypoint "" clears the image's */
	const char *cgroup_parent; /* NULL: $CTRWATCH_CGROUP_PARENT or "ctrwatch" */
	char **env;		   /* "K=V" (or "K": taken from our env), NULL-terminated */
	char **labels;		   /* --label "K=V" (or "K": empty value), NULL-terminated */
	const char *workdir;
	const char *user; /* USER[:GROUP], names or ids */
	struct ctw_volume *volumes;
	size_t nvolumes;
	bool read_only;

	uint64_t memory;     /* bytes, 0 = unlimited */
	uint64_t cpus_milli; /* 1000 = one CPU, 0 = unlimited */
	int64_t pids_limit;  /* 0 = unlimited */

	uint64_t cap_add, cap_drop; /* bit masks of CAP_* */
	bool cap_add_all, cap_drop_all;
	bool privileged;
	const char *seccomp; /* NULL: default profile, "unconfined", or a PATH */
	bool no_new_privs;   /* default true */

	bool interactive; /* -i: keep stdin */
	bool tty;	  /* -t: a pty */
	bool detach;	  /* -d: a monitor process owns the container */
	bool remove;	  /* --rm (implied in the foreground) */
	bool init;	  /* our init as PID 1 (default true) */
	int stop_signal;  /* 0: the image's or SIGTERM */
	int stop_timeout; /* seconds, -1: default 10 */

	struct ctw_net_opts net; /* mode, publish, dns, ... */
	const char *net_target;	 /* container:C */

	/* Called in the parent once the container's init is in its cgroup and
	 * before the user command runs (the child waits meanwhile).  Non-zero
	 * return aborts the run.  Used by `run --trace`. */
	int (*on_cgroup_ready)(uint64_t cgroup_v2_id, void *ctx);
	void *hook_ctx;
	/* Detached runs: print the id on stdout once running (default). */
};

void ctw_run_opts_init(struct ctw_run_opts *o);

/* Run a container.  Foreground: returns when it exits, with *exit_code the
 * command's status (128+N on signal N).  Detached: returns once it runs,
 * with *exit_code 0 and the id in id_out (65 bytes) when not NULL.
 * Returns 0, or -errno with err set (nothing left behind); *exit_code is
 * then 125/126/127 as Docker's. */
int ctw_container_run(const struct ctw_run_opts *o, int *exit_code, char *id_out,
		      struct ctw_err *err);

/* ---- the spec of a `ctrwatch run` (spec_build.c, pure) ---- */

struct ctw_image_config;
struct ctw_run_spec_in {
	const struct ctw_run_opts *opts;
	const struct ctw_image_config *image; /* NULL: --rootfs */
	const char *id;			      /* the container's (cgroupsPath) */
	const char *hostname;		      /* --hostname, else the name, else the short id */
	const char *rootfs;		      /* where the root is mounted */
	const char *lowerdirs;		      /* the overlay: "top:...:bottom" */
	const char *upper, *work;
	bool volatile_upper;	    /* removed at exit: no sync */
	const char *files_dir;	    /* hosts, hostname (resolv.conf: networks) */
	const char *net_path;	    /* --net container:X: its netns */
	const char *cgroup_parent;  /* resolved: relative to ours, or absolute */
	uint64_t bounding;	    /* the capabilities we hold */
	const char *const *our_env; /* `-e K` takes K from here */
};
/* The spec `ctrwatch run` executes: Docker's defaults, the image's config,
 * then the flags.  The user (process.user.resolve) is resolved in the
 * container at start; seccomp=PATH is read here.  0 and *out, or -errno
 * with err. */
int ctw_run_spec_build(const struct ctw_run_spec_in *in, struct ctw_spec **out,
		       struct ctw_err *err);

/* ---- the OCI commands (runc's command line: cli/oci*.c) ---- */

/* The default state root: ctw_state_dir()/oci. */
const char *ctw_oci_default_root(void);
/* runc's container ids: letters, digits, _ - . + */
bool ctw_oci_valid_id(const char *id);

struct ctw_oci_create_opts {
	const char *root; /* state root (--root) */
	const char *id;
	const char *bundle;	    /* NULL: the current directory */
	const char *pid_file;	    /* NULL: none */
	const char *console_socket; /* where the terminal's master goes */
	bool no_pivot;		    /* MS_MOVE + chroot instead of pivot_root */
	bool no_new_keyring;	    /* accepted: ctrwatch makes no session keyring */
	int preserve_fds;	    /* fds 3 .. 3+n-1 go to the process */
	bool foreground;	    /* run: the terminal's master comes back to us */
	/* KEY=VALUE annotations for containers whose config.json lacks the key
	 * (the global --annotation: a runtime handler that traces all it runs,
	 * for engines that pass no annotations) */
	const char *const *annotations;
	size_t n_annotations;
};

/* The container of a bundle, its process not yet run ("created").  *pid
 * its init, *master (may be NULL) the terminal when foreground and the
 * process has one.  0, or -errno with err (nothing left behind). */
int ctw_oci_create(const struct ctw_oci_create_opts *o, int *pid, int *master, struct ctw_err *err);
/* Run the created process; poststart hooks after it started. */
int ctw_oci_start(const char *root, const char *id, struct ctw_err *err);
/* create + start; detach: return then, else wait (signals forwarded, the
 * terminal relayed), *exit_code its status, and delete it. */
int ctw_oci_run(const struct ctw_oci_create_opts *o, bool detach, int *exit_code,
		struct ctw_err *err);
/* Signal the init, or every process of the container (all). */
int ctw_oci_kill(const char *root, const char *id, int sig, bool all, struct ctw_err *err);
/* Remove a stopped (or created) container; force: kill it first, and no
 * error when it does not exist. */
int ctw_oci_delete(const char *root, const char *id, bool force, struct ctw_err *err);
/* The OCI state JSON (caller frees). */
int ctw_oci_state(const char *root, const char *id, char **json, struct ctw_err *err);

struct ctw_oci_info {
	char id[201];
	enum ctw_oci_status status;
	int pid;
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	char owner[64];
	uint64_t created_ns;
};
int ctw_oci_list(const char *root, struct ctw_oci_info **out, size_t *n, struct ctw_err *err);
/* Every process in the container (caller frees). */
int ctw_oci_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct ctw_err *err);
/* Freeze (pause) or thaw (resume) it. */
int ctw_oci_pause(const char *root, const char *id, bool pause, struct ctw_err *err);
/* Apply what res sets to its cgroups. */
int ctw_oci_update(const char *root, const char *id, const struct ctw_spec_resources *res,
		   struct ctw_err *err);
/* {"type":"stats","id","data":{cpu, memory, pids}} (caller frees). */
int ctw_oci_stats(const char *root, const char *id, char **json, struct ctw_err *err);
struct ctw_oci_exec_opts {
	const char *root, *id;
	const struct ctw_spec_process *process; /* what to run, whole */
	bool detach;				/* return once it runs */
	const char *pid_file;
	const char *console_socket; /* its terminal's master goes there */
	int preserve_fds;
};
/* A new process in a running (or created) container.  Foreground:
 * *exit_code its status; detached: 0 once it runs.  -errno with err
 * (*exit_code 126/127 when the executable is the reason). */
int ctw_oci_exec(const struct ctw_oci_exec_opts *o, int *exit_code, struct ctw_err *err);
/* The container's own process, the base of an exec without --process
 * (caller frees). */
int ctw_oci_process_of(const char *root, const char *id, struct ctw_spec_process **out,
		       struct ctw_err *err);
/* Remove what creates killed midway left in every root; how many. */
int ctw_oci_gc(void);

/* ---- the binary that enters containers (exe.c, runc CVE-2019-5736) ----
 * Re-execute the same command line from a read-only copy of our binary when
 * /proc/self/exe is writable (does not return then).  `exec` calls it before
 * anything else (its process is ours until it runs the command), and
 * ctw_container_exec refuses to start one without it; `run` needs none: what
 * runs in its container is ctrwatch-stub (runtime/stub.c).  0, or -errno. */
int ctw_exe_protect(struct ctw_err *err);
/* Is /proc/self/exe a file nobody can write (read-only mount, sealed memfd)? */
bool ctw_exe_protected(void);
/* Where our command line is in memory (main's argv, before any shift): what
 * /proc/PID/cmdline shows of us and of the processes we fork. */
void ctw_cmdline_note(int argc, char **argv);
/* Blank that memory in this process (a container's future init, before its
 * command starts): the host's command line (the binary's path, options,
 * -e values) is not the container's to read in /proc/1/cmdline. */
void ctw_cmdline_hide(void);

/* ---- state ---- */

enum ctw_status { CTW_ST_CREATED, CTW_ST_RUNNING, CTW_ST_EXITED };

struct ctw_cg_v1 {
	char ctrl[16];	     /* "memory", "cpu", ... */
	char path[PATH_MAX]; /* absolute dir */
};

#define CTW_CG_V1_MAX 8

struct ctw_state {
	char id[65];
	char name[128];
	char image[256];
	char image_id[80];
	int pid;		      /* init pid in the host pid ns, 0 before start */
	unsigned long long pid_start; /* its start time (ticks), against pid reuse */
	int monitor_pid;	      /* `ctrwatch run` or the monitor: owns cleanup */
	unsigned long long monitor_start;
	enum ctw_status status;
	uint64_t created_ns, started_ns, finished_ns; /* realtime */
	int exit_code;
	bool oom_killed;
	bool detached, auto_remove, tty;
	char cgroup[PATH_MAX]; /* v2 dir */
	uint64_t cgroup_id;
	struct ctw_cg_v1 v1[CTW_CG_V1_MAX];
	int nv1;
	char ip[46];
	char **command; /* argv, NULL-terminated */
	int stop_signal;
	int stop_timeout;
	/* what exec needs to start a process the same way */
	char **env;
	char workdir[PATH_MAX];
	char user[128];
	uint64_t caps;
	bool no_new_privs;
	char seccomp[PATH_MAX]; /* "", "unconfined" or a profile path */
	char net_mode[16];
	char **labels; /* "K=V", NULL-terminated (state.json "labels": {K: V}) */
	/* Log entries (and their bytes) lost: the log file could not take
	 * them (log_lost_error: why, "" when nothing was lost). */
	uint64_t log_lost_entries, log_lost_bytes;
	char log_lost_error[64];
};

const char *ctw_status_name(enum ctw_status s);
void ctw_state_fini(struct ctw_state *s);
int ctw_state_load(const char *id, struct ctw_state *s, struct ctw_err *err);
int ctw_state_save(const struct ctw_state *s, struct ctw_err *err);
/* Resolve a name or a unique id prefix to a loaded state. */
int ctw_state_find(const char *ref, struct ctw_state *s, struct ctw_err *err);
/* All container ids in the state dir (NULL-terminated, caller frees). */
char **ctw_state_list(void);
void ctw_strv_free(char **v);
/* Is the init process of this state still the one we started? */
bool ctw_state_init_alive(const struct ctw_state *s);
bool ctw_state_monitor_alive(const struct ctw_state *s);
/* JSON text of a state (what `inspect` prints); caller frees. */
char *ctw_state_to_json(const struct ctw_state *s, bool pretty);

/* ---- lifecycle from another shell ---- */

int ctw_container_kill(const char *ref, int sig, struct ctw_err *err);
/* Stop signal, wait timeout_s (-1: the container's own), then SIGKILL. */
int ctw_container_stop(const char *ref, int timeout_s, struct ctw_err *err);
/* Wait until exited; *exit_code its status. */
int ctw_container_wait(const char *ref, int *exit_code, struct ctw_err *err);
int ctw_container_remove(const char *ref, bool force, struct ctw_err *err);
/* Clean up what dead `ctrwatch run`s left; returns how many removed. */
int ctw_container_gc(struct ctw_err *err);

struct ctw_exec_opts {
	char **argv;
	char **env; /* extra "K=V" */
	const char *user;
	const char *workdir;
	bool interactive, tty;
};
int ctw_container_exec(const char *ref, const struct ctw_exec_opts *o, int *exit_code,
		       struct ctw_err *err);

/* Log file of a container (caller frees).  CRI log format (runtime/logs.c):
 * one entry a line, "TIMESTAMP STREAM P|F MESSAGE", TIMESTAMP RFC 3339 UTC
 * with nanoseconds, STREAM stdout or stderr, F a line's last (or only)
 * piece, P a piece the stream's next entries continue. */
char *ctw_container_log_path(const char *id);

enum { CTW_LOG_STDOUT = 1, CTW_LOG_STDERR = 2 }; /* the streams' fds */

struct ctw_log_entry {
	const char *ts; /* "2026-11-29T16:10:00.123456789Z", not terminated */
	size_t ts_len;
	int stream; /* CTW_LOG_STDOUT or CTW_LOG_STDERR */
	bool partial;
	const char *msg; /* without the newline, not terminated */
	size_t msg_len;
};

/* Parse one log line (without its newline); pointers into line.  Returns
 * 0, or -EINVAL for a line not in the format. */
int ctw_log_parse(const char *line, size_t len, struct ctw_log_entry *e);

/* ---- small parsers the CLI shares ---- */

/* Signal names: ctw_parse_signal (lib.h). */
/* Capability names: ctw_cap_from_name and ctw_cap_name (lib.h). */
/* Docker's default capability set. */
uint64_t ctw_caps_default(void);

#endif /* CTW_RUNTIME_H */
