/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/ private declarations shared by the module's files (not public:
 * other modules include runtime/runtime.h only). */
#ifndef CTW_RUNTIME_INTERNAL_H
#define CTW_RUNTIME_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <linux/filter.h>

#include "runtime.h"

/* ---- cgroup.c ---- */

enum cg_layout { CG_UNIFIED, CG_HYBRID, CG_LEGACY };

struct cg_limits {
	uint64_t memory;
	uint64_t cpus_milli;
	int64_t pids;
};

enum cg_layout cg_layout(void);
const char *cg_v2_mount(void);
/* Create the container's cgroups below parent (relative to our own cgroup
 * in each hierarchy unless it starts with '/'), fill s->cgroup, s->v1,
 * s->cgroup_id, apply limits (paths already in s, from cg_paths(), are
 * used as they are).  On failure nothing is left. */
int cg_create(struct ctw_state *s, const char *parent, const struct cg_limits *lim,
	      struct ctw_err *err);
/* Only compute the paths cg_create would use. */
int cg_paths(struct ctw_state *s, const char *parent, struct ctw_err *err);
/* Move the calling (single-threaded) process into the v1 hierarchies. */
int cg_enter_self(const struct ctw_state *s, struct ctw_err *err);
/* Was anything in the container killed by the OOM killer? */
bool cg_oom_killed(const struct ctw_state *s);
/* Attach the device allowlist (BPF) to the container's v2 cgroup. */
int cg_device_filter(const struct ctw_state *s, struct ctw_err *err);
/* Remove the container's cgroup dirs (killing leftovers when kill). */
int cg_destroy(const struct ctw_state *s, bool kill_left);

/* ---- sync.c: parent/child messages over a SOCK_SEQPACKET pair ---- */

enum sync_type {
	SYNC_GO = 1, /* parent → child: cgroups and network ready; status
		      * SYNC_GO_NOWAIT: run the command after READY, no EXEC */
	SYNC_READY,  /* child → parent: root set up */
	SYNC_EXEC,   /* parent → child: run the command */
	SYNC_ERR,    /* child → parent: err, status = exit code to use */
	SYNC_PTY,    /* child → parent: pty master fd attached */
	SYNC_PID,    /* exec's helper → parent: the pid it started, in status */
};
enum {
	SYNC_GO_NOWAIT = 1,
};

struct sync_msg {
	int type;
	int status;
	struct ctw_err err;
};

int sync_send(int fd, int type, int status, const struct ctw_err *err, int pass_fd);
/* Receive one message; *got_fd receives a passed fd (or -1).  Returns 1 on
 * a message, 0 on EOF, -errno on failure. */
int sync_recv(int fd, struct sync_msg *m, int *got_fd);
/* A signalfd (non-blocking) of the signals that stop a start: SIGTERM,
 * SIGINT, SIGHUP, SIGQUIT (blocked by the caller). */
int stop_signals_fd(void);
/* sync_recv that a stop signal read from stopfd (-1: none) ends: -EINTR,
 * with the signal in *sig.  Whatever the child is stuck on, the command
 * that waits for it stays stoppable. */
int sync_recv_stoppable(int fd, int stopfd, struct sync_msg *m, int *got_fd, int *sig);

/* ---- mount.c ---- */

struct rootfs_spec {
	const char *merged;    /* mount point of the new root */
	const char *lowerdirs; /* "top:...:bottom" */
	const char *upper, *work;
	/* The upper layer goes with the container when it exits: no sync. */
	bool volatile_upper;
	const char *files_dir; /* resolv.conf, hosts, hostname to bind */
	const struct ctw_volume *volumes;
	size_t nvolumes;
	bool read_only;
	bool privileged;
	bool tty;
	enum cg_layout layout;
};

/* In the child's new mount namespace, in two steps: what needs nothing
 * from the parent (overlay, /proc, /dev, /sys), done while the parent puts
 * us in our cgroups; then, in our cgroup namespace with the network files
 * written, /sys/fs/cgroup, /etc files, volumes, pivot_root, masks. */
int rootfs_prepare(const struct rootfs_spec *r, struct ctw_err *err);
int rootfs_enter(const struct rootfs_spec *r, struct ctw_err *err);
/* mkdir -p of path inside the root rootfd (each component resolved in it). */
int root_mkdir_p(int rootfd, const char *path, struct ctw_err *err);

/* ---- caps.c ---- */

int caps_last(void);
/* Drop everything not in keep from the bounding set; clear ambient. */
int caps_drop_bounding(uint64_t keep, struct ctw_err *err);
/* Set effective = permitted = set, inheritable = 0 (for uid 0). */
int caps_set(uint64_t set, struct ctw_err *err);

/* ---- seccomp.c ---- */

/* Compile a profile (NULL = the default) for the given capability set into
 * a classic BPF program; *prog NULL means unconfined. */
int seccomp_compile(const char *profile, uint64_t caps, struct sock_fprog **prog,
		    struct ctw_err *err);
int seccomp_install(const struct sock_fprog *prog, struct ctw_err *err);
void seccomp_prog_free(struct sock_fprog *prog);

/* ---- process.c: what turns a prepared child into the user's command ---- */

struct proc_spec {
	char **argv;
	char **env;	     /* full environment */
	const char *workdir; /* NULL: / */
	const char *user;    /* NULL: root */
	uint64_t caps;
	bool no_new_privs;
	const struct sock_fprog *seccomp;
	int tty_slave; /* -1 when no pty */
	int sync_fd;   /* errors go here (CLOEXEC) */
	/* The command is exec'd through ctrwatch-stub (stub.h), run from this
	 * sealed memfd (-1: exec'd directly), once ready_fd (-1: none) reads
	 * EOF. */
	int stub_fd;
	int ready_fd;
};

/* Never returns: execs or reports SYNC_ERR and _exit()s 126/127. */
__attribute__((noreturn)) void proc_exec(const struct proc_spec *p);

/* ---- passwd.c: USER[:GROUP] in the container's /etc/passwd and group ---- */

struct pw_entry {
	char *name, *home;
	uid_t uid;
	gid_t gid;
};
/* The entry of user (a name, or a uid) in passwd text: 1 found, 0 not. */
int passwd_find(const char *data, size_t len, const char *user, struct pw_entry *pw);
void pw_entry_fini(struct pw_entry *pw);
/* Scan group text: *gid of group (a name or a gid; NULL: none), and when
 * member is not NULL the gids of the groups listing it, appended to
 * *groups / *ngroups.  Returns whether group was found. */
int group_scan(const char *data, size_t len, const char *group, const char *member, gid_t *gid,
	       gid_t **groups, size_t *ngroups);

struct user_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary */
	size_t ngroups;
	char *home; /* NULL: not in passwd */
};
/* Resolve USER[:GROUP] (names or ids) in the files of the root rootfd:
 * regular files only, size-capped, read inside the root. */
int passwd_resolve_user(int rootfd, const char *spec, struct user_ids *u, struct ctw_err *err);
void user_ids_fini(struct user_ids *u);

/* ---- env.c: an environment where a later K=V replaces K, O(1) a set ---- */

struct envb {
	char **v; /* NULL-terminated once anything was set */
	size_t n, cap;
	size_t *slot; /* hash of the keys: index in v + 1, 0 free */
	size_t nslots;
};
void envb_init(struct envb *e);
/* Set K=V; -E2BIG past CTW_ENV_MAX variables. */
int envb_set(struct envb *e, const char *kv, struct ctw_err *err);
/* The NULL-terminated vector, now the caller's (e is emptied). */
char **envb_steal(struct envb *e);
void envb_fini(struct envb *e);

/* ---- stub.c: ctrwatch-stub, what a container sees run ---- */

/* A sealed memfd of ctrwatch-stub (close-on-exec); an fd or -errno. */
int stub_memfd(struct ctw_err *err);

/* ---- init.c ---- */

/* The init's signal mask and dispositions (tini's): call before the
 * command exists. */
void init_block_signals(void);
/* PID 1: forward signals to child, reap zombies, return its exit code. */
int init_loop(pid_t child);

/* ---- pty.c ---- */

/* Allocate a pty in the current /dev/pts; *slave is opened. */
int pty_open(int *master, int *slave, struct ctw_err *err);
/* Relay stdin/out with master until the child exits; forwards signals in
 * sigs to pid; returns the wait status of pid (via waitpid). */
struct log_writer;
/* With log, the pty's output and the log pipes go to the container's log
 * (a detached container's monitor); without, the pty's goes to stdout. */
int relay_run(int master, bool interactive, pid_t pid, pid_t signal_pid, int sigfd,
	      struct log_writer *log, int *wstatus);
void tty_raw(int fd, bool on);
void tty_copy_winsize(int from, int to);

/* ---- logs.c: the log of a detached container ---- */

struct log_writer {
	int fd;		     /* the log file (O_APPEND) */
	int out, err;	     /* read ends of the container's stdout and stderr, or -1 */
	int saved[2];	     /* our own stdout and stderr while they are the pipes */
	uint64_t size;	     /* of the file, as far as we wrote it */
	uint64_t whole_size; /* of the file up to its last newline */
	/* What could not be written (a full disk): counted, and recorded in
	 * state (when not NULL) at the first loss and then at most once a
	 * second. */
	uint64_t lost_entries, lost_bytes;
	int lost_errno;
	/* The last loss ended inside an entry: the next batch begins with the
	 * rest of it, which is lost too (else a tail lands in the file). */
	bool in_lost_entry;
	/* A stream's last entry was a piece of a line (a read of the pipe cut
	 * it) and was lost: the rest of that line is dropped too, so that
	 * `logs` never shows a line's tail without its head. */
	bool line_lost[CTW_LOG_STDERR + 1];
	struct ctw_state *state;
	uint64_t saved_ns;
};

/* Open the log and, without a tty, make our stdout and stderr the write
 * ends of two pipes for the container to inherit. */
int log_open(struct log_writer *w, const char *id, bool tty, struct ctw_err *err);
/* The container is cloned: our own stdout and stderr back. */
void log_started(struct log_writer *w);
void log_close(struct log_writer *w);
/* Append what stream (CTW_LOG_STDOUT/STDERR) wrote, as entries. */
void log_write(struct log_writer *w, int stream, const char *buf, size_t n);
/* Read once from fd into the log; false at EOF. */
bool log_copy(struct log_writer *w, int fd, int stream);
/* The losses so far into s (log_lost_*). */
void log_loss_to_state(const struct log_writer *w, struct ctw_state *s);

/* ---- state.c ---- */

char *state_path(const char *id, const char *file);
char *container_dir(const char *id);
unsigned long long proc_start_time(pid_t pid);
int state_lock(void); /* flock of the state dir, returns fd */
void state_unlock(int fd);
int state_remove(const char *id);

/* ---- container.c ---- */

/* Undo everything of a container that is no longer running. */
void container_cleanup(struct ctw_state *s, bool remove_all);
int wait_status_to_exit(int wstatus);

/* ---- spare.c: container directories kept for the next container ---- */

/* A spare claimed for this run (moved to .spare/.claimed-PID), whose work/
 * is emptied on a thread meanwhile. */
struct spare {
	char path[PATH_MAX];
	int fd; /* of the claimed directory; -1: none */
	pthread_t thread;
	bool threaded;
	int result; /* of emptying work/ */
};
void spare_claim(struct spare *sp);
/* Make the claimed spare cdir; false: none claimed, or it could not be used
 * (it is removed): make a new one. */
bool spare_use(struct spare *sp, const char *cdir);
/* Drop a claim that was not used (failure paths). */
void spare_release(struct spare *sp);
/* The container of cdir is gone: empty cdir and keep it as a spare if it is
 * as we made it and fewer than a few are kept, else remove it. */
int spare_retire(const char *cdir);
/* Remove every spare (gc). */
int spare_clear(void);

/* ---- ns.c ---- */

/* The network functions are NETWORK's; weak until network/ has them. */
int ns_open_all(pid_t pid, int fds[7], struct ctw_err *err);
int ns_join(const int fds[7], bool skip_pid, struct ctw_err *err);
pid_t clone_into_cgroup(int flags, int cgroup_fd);

/* New namespaces made on a thread of its own while the caller prepares
 * the rest, instead of in clone3 on the start's critical path: a network
 * namespace (with lo up) is ~1 ms of kernel work (sysctl tables, loopback,
 * per-netns state of every protocol), an IPC one ~0.07 ms (its mqueue
 * mount).  The child joins them with setns. */
enum { NS_MADE_NET, NS_MADE_IPC, NS_MADE_UTS, NS_MADE_MAX };
struct ns_maker {
	pthread_t thread;
	bool started;
	int flags;	     /* CLONE_NEW* asked for */
	int fd[NS_MADE_MAX]; /* the namespaces made (-1: not asked or failed) */
	int err;	     /* errno of what failed */
};
/* flags: CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS. */
void ns_make_start(struct ns_maker *m, int flags);
/* Wait for it: 0 with every asked namespace in m->fd (the caller closes
 * them), or -errno with none. */
int ns_make_finish(struct ns_maker *m);
/* pthread_create with every signal blocked in the new thread: what we
 * forward must reach the main thread's signalfd, and SIGTERM must not end
 * us in a helper.  attr may be NULL.  true when it runs. */
bool thread_start_quiet(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
/* Bring lo up in the calling thread's network namespace. */
void ns_lo_up(void);

#endif /* CTW_RUNTIME_INTERNAL_H */
