/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/ private declarations shared by the module's files (not public:
 * other modules include runtime/runtime.h only). */
#ifndef CTW_RUNTIME_INTERNAL_H
#define CTW_RUNTIME_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <linux/filter.h>

#include "runtime.h"

/* ---- cgroup.c, cgroup_res.c: a container's cgroups ---- */

enum cg_layout { CG_UNIFIED, CG_HYBRID, CG_LEGACY };

/* v1 controllers a container may get a directory in (hybrid hosts). */
enum cg_ctrl {
	CG_C_MEMORY,
	CG_C_CPU,
	CG_C_CPUACCT,
	CG_C_PIDS,
	CG_C_CPUSET,
	CG_C_BLKIO,
	CG_C_HUGETLB,
	CG_C_NET_CLS,
	CG_C_NET_PRIO,
	CG_NCTRL,
};
/* Every container's: memory, cpu and pids carry limits, cpuacct accounts
 * (the agent reads it).  Not devices: the BPF filter on the v2 cgroup is
 * the one gate on every layout (devices.c). */
#define CG_BASE_CTRLS \
	((1u << CG_C_MEMORY) | (1u << CG_C_CPU) | (1u << CG_C_CPUACCT) | (1u << CG_C_PIDS))
#define CG_V1_MAX CG_NCTRL

struct cg_set {
	char v2[PATH_MAX]; /* the v2 dir: identity, and limits on unified hosts */
	uint64_t id;	   /* its inode: the cgroup id BPF sees */
	struct ctw_cg_v1 v1[CG_V1_MAX];
	int nv1;
	bool relative;	     /* the path was below our own cgroup */
	char base[PATH_MAX]; /* the deepest v2 ancestor that is not ours */
	bool run_flags;	     /* errors name `ctrwatch run` flags, not config.json */
};

enum cg_layout cg_layout(void);
const char *cg_v2_mount(void);
const char *cg_ctrl_name(enum cg_ctrl c);
/* The v1 controllers resources need (CG_BASE_CTRLS and more). */
unsigned cg_ctrls_for(const struct ctw_spec_resources *r);
/* The directories of path (relative: below our own cgroup in each
 * hierarchy) for the v1 controllers in ctrls (bits of enum cg_ctrl). */
int cg_set_paths(struct cg_set *c, const char *path, unsigned ctrls, struct ctw_err *err);
/* Make them and apply res (may be NULL); on failure nothing is left. */
int cg_set_create(struct cg_set *c, const struct ctw_spec_resources *res, struct ctw_err *err);
/* Write what res sets (create, `update`). */
int cg_set_apply(const struct cg_set *c, const struct ctw_spec_resources *res, struct ctw_err *err);
/* The v1 directory of a controller (co-mounted ones share it), or NULL. */
const char *cg_set_v1(const struct cg_set *c, enum cg_ctrl ctrl);
/* Move the calling (single-threaded) process into the v1 hierarchies. */
int cg_set_enter_self(const struct cg_set *c, struct ctw_err *err);
/* The same for another process (a child in a user namespace of its own,
 * which may not write our cgroup files itself). */
int cg_set_enter_pid(const struct cg_set *c, pid_t pid, struct ctw_err *err);
bool cg_set_oom_killed(const struct cg_set *c);
/* Remove the dirs (killing what is left in them when kill_left). */
int cg_set_destroy(const struct cg_set *c, bool kill_left);
int cg_set_freeze(const struct cg_set *c, bool frozen, struct ctw_err *err);
bool cg_set_frozen(const struct cg_set *c);
/* Every process in the container's v2 cgroup and below (caller frees). */
int cg_set_pids(const struct cg_set *c, pid_t **out, size_t *n);
int cg_set_signal(const struct cg_set *c, int sig);
/* {"type": "stats", "id", "data": {cpu, memory, pids}} (caller frees). */
char *cg_set_stats_json(const struct cg_set *c, const char *id);
/* Attach the device allowlist (BPF) of rules to the v2 cgroup. */
int cg_set_devices(const struct cg_set *c, const struct ctw_spec_dev_rule *rules, size_t n,
		   struct ctw_err *err);
/* devices.c: the rules a container's filter enforces (its own, runc's
 * defaults, its linux.devices; caller frees), whether they allow all, and
 * the program (caller frees). */
size_t devices_effective(const struct ctw_spec *s, struct ctw_spec_dev_rule **out);
bool devices_allow_all(const struct ctw_spec_dev_rule *rules, size_t n);
struct bpf_insn;
struct bpf_insn *devices_prog(const struct ctw_spec_dev_rule *rules, size_t n, size_t *len);
/* Shared by the two files. */
int cg_write(const char *dir, const char *file, const char *val, struct ctw_err *err);
unsigned long long cg_read_key(const char *dir, const char *file, const char *key);
void cg_enable_v2(const struct cg_set *c, const struct ctw_spec_resources *res);
int cg_cpuset_inherit(const char *dir, struct ctw_err *err);

/* The same for a ctrwatch run's state (its cgroup fields): create the
 * container's cgroups below parent (relative to our own cgroup in each
 * hierarchy unless it starts with '/'), fill s->cgroup, s->v1,
 * s->cgroup_id, apply res, the run's spec's linux.resources (its device
 * rules are the device filter's, cg_device_filter).  Paths already in s,
 * from cg_paths(), are used as they are.  On failure nothing is left. */
int cg_create(struct ctw_state *s, const char *parent, const struct ctw_spec_resources *res,
	      struct ctw_err *err);
/* Only compute the paths cg_create would use. */
int cg_paths(struct ctw_state *s, const char *parent, struct ctw_err *err);
/* Move the calling (single-threaded) process into the v1 hierarchies. */
int cg_enter_self(const struct ctw_state *s, struct ctw_err *err);
/* Was anything in the container killed by the OOM killer? */
bool cg_oom_killed(const struct ctw_state *s);
/* Attach the device filter of the spec (devices_effective) to the
 * container's v2 cgroup; nothing when it allows everything. */
int cg_device_filter(const struct ctw_state *s, const struct ctw_spec *spec, struct ctw_err *err);
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
	SYNC_USERNS, /* child → parent (OCI): write my uid and gid maps */
	SYNC_NS,     /* child → parent (OCI): namespaces made, run createRuntime */
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

/* ---- mount.c: mount targets inside a root ---- */

/* Resolve path (absolute, no "..") inside the root rootfd, making what is
 * missing of it (the last component a directory when dir, else an empty
 * file), never through a symlink when no_symlinks: an O_PATH fd of it. */
int root_open_target(int rootfd, const char *path, bool dir, bool no_symlinks, struct ctw_err *err);
/* mount(2) onto the inode of an O_PATH fd; what names it in errors. */
int root_mount_on_fd(const char *src, int fd, const char *type, unsigned long flags,
		     const char *data, const char *what, struct ctw_err *err);
/* Bind src onto the inode of fd (a detached copy, attrs set on it, moved
 * there). */
struct mount_attr;
int root_bind_on_fd(const char *src, int fd, bool recursive, const struct mount_attr *attrs,
		    const char *what, struct ctw_err *err);
/* mkdir -p of path inside the root rootfd (each component resolved in it). */
int root_mkdir_p(int rootfd, const char *path, struct ctw_err *err);

/* ---- caps.c ---- */

int caps_last(void);
/* Drop everything not in keep from the bounding set; clear ambient. */
int caps_drop_bounding(uint64_t keep, struct ctw_err *err);
/* Set effective = permitted = set, inheritable = 0 (for uid 0). */
int caps_set(uint64_t set, struct ctw_err *err);

/* ---- seccomp.c, seccomp_bpf.c ---- */

/* Docker's default profile for this capability set, as the spec's model. */
struct ctw_spec_seccomp *seccomp_spec_default(uint64_t caps);
/* A Docker-format JSON profile resolved for caps (includes/excludes). */
int seccomp_spec_docker(const char *path, uint64_t caps, struct ctw_spec_seccomp **out,
			struct ctw_err *err);
/* Compile the spec's linux.seccomp into a classic BPF program (cached). */
int seccomp_compile_spec(const struct ctw_spec_seccomp *sc, struct sock_fprog **prog,
			 struct ctw_err *err);
/* Compile a profile (NULL = the default) for the given capability set into
 * a classic BPF program; *prog NULL means unconfined. */
int seccomp_compile(const char *profile, uint64_t caps, struct sock_fprog **prog,
		    struct ctw_err *err);
/* The seccomp(2) flags of the spec's CTW_SC_FLAG_* bits. */
unsigned seccomp_install_flags(unsigned spec_flags);
int seccomp_install_with(const struct sock_fprog *prog, unsigned flags, struct ctw_err *err);
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

/* ---- pty.c ---- */

/* Allocate a pty in the current /dev/pts; *slave is opened. */
int pty_open(int *master, int *slave, struct ctw_err *err);
/* Make the peer of master the container's /dev/console (after pivot_root;
 * best effort). */
void pty_bind_console(int master);
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

/* ---- oci_state.c: the OCI commands' containers ---- */

#define OCI_ID_MAX 200

struct oci_ct {
	char id[OCI_ID_MAX + 1];
	int dirfd; /* <root>/<id>: locked while an oci_ct_open(lock) holds it */
	char *bundle, *rootfs;
	int pid; /* the init, 0 before it exists */
	unsigned long long pid_start;
	int creator_pid; /* the create that made it */
	unsigned long long creator_start;
	bool created_done; /* create finished */
	bool no_pivot;
	uint64_t created_ns;
	char owner[64];
	struct cg_set cg;
	struct ctw_kvs annotations;
};

/* Open a state root (create: make it and record it for gc); an fd, or
 * -ENOENT (not created and missing), or -errno with err. */
int oci_root_open(const char *root, bool create, struct ctw_err *err);
/* Every root recorded (the default one first); caller frees. */
char **oci_known_roots(void);
/* A new container's directory, made and locked; EEXIST when it exists. */
int oci_ct_new(int rootfd, const char *id, struct oci_ct **out, struct ctw_err *err);
/* An existing one's state (locked when lock); ENOENT when missing. */
int oci_ct_open(int rootfd, const char *id, bool lock, struct oci_ct **out, struct ctw_err *err);
int oci_ct_save(const struct oci_ct *c, struct ctw_err *err);
/* Remove its directory (the caller holds the lock). */
int oci_ct_remove(int rootfd, struct oci_ct *c);
void oci_ct_free(struct oci_ct *c);
enum ctw_oci_status oci_ct_status(const struct oci_ct *c);
bool oci_ct_fifo_exists(const struct oci_ct *c);
/* The OCI state document of the container (caller frees). */
char *oci_ct_state_json(const struct oci_ct *c, bool pretty);
/* The spec it was created with (its copy of config.json); NULL with err. */
struct ctw_spec *oci_ct_spec(const struct oci_ct *c, struct ctw_err *err);
/* Container ids in a root (NULL-terminated, caller frees). */
char **oci_list_ids(int rootfd);
/* pid alive, not a zombie, and (when start) started at start. */
bool oci_pid_alive(int pid, unsigned long long start);
/* Write a file of dirfd atomically with mode. */
int oci_write_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode);

/* ---- oci_mount.c: a spec's root filesystem ---- */

/* The one executor of a spec's root, `ctrwatch run`'s and the OCI
 * commands', in the init's new mount namespace before pivot_root:
 * oci_rootfs_root (propagation, the root: bound on itself, or ctrwatch
 * run's overlay), then oci_rootfs_mounts of the spec's mounts [from, to)
 * in order (a /dev tmpfs gets its nodes at once; with the last mount, the
 * linux.devices).
 * oci_rootfs_setup does it all at once. */
int oci_rootfs_root(const struct ctw_spec *s, const char *rootfs, struct ctw_err *err);
/* Hybrid hosts: what the container's cgroup mount shows, planned by the
 * runtime before the init starts (off the start's critical path): the v1
 * hierarchies the container has a cgroup of its own in (v1, nv1) and the
 * v2 tree, {mount point name, fstype, mount data}, and the host's symlinks
 * to them (cpu -> cpu,cpuacct).  Empty on unified hosts. */
struct oci_cg_plan {
	size_t n, nlinks;
	struct {
		char name[64], type[8], data[128];
	} m[16];
	struct {
		char name[16], to[64];
	} link[4];
};
int oci_cg_plan(struct oci_cg_plan *p, const struct ctw_cg_v1 *v1, int nv1, struct ctw_err *err);
/* What the executor needs besides the spec. */
struct oci_root_opts {
	const char *bundle;	      /* what relative bind sources are relative to */
	bool userns;		      /* a new user namespace: device nodes are bound */
	const struct oci_cg_plan *cg; /* hybrid hosts' cgroup mount (oci_cg_plan) */
};
int oci_rootfs_mounts(const struct ctw_spec *s, const struct oci_root_opts *o, const char *rootfs,
		      size_t from, size_t to, struct ctw_err *err);
int oci_rootfs_setup(const struct ctw_spec *s, const struct oci_root_opts *o, const char *rootfs,
		     struct ctw_err *err);
/* How many of the spec's first mounts need nothing but the root (no bind
 * source, no cgroup namespace): `run` makes them while its parent sets up
 * cgroups and the network. */
size_t oci_mounts_early(const struct ctw_spec *s);
/* pivot_root into rootfs (no_pivot: MS_MOVE and chroot). */
int oci_pivot(const char *rootfs, bool no_pivot, struct ctw_err *err);
/* After it: masked and read-only paths, a read-only root. */
int oci_rootfs_finish(const struct ctw_spec *s, struct ctw_err *err);
/* linux.sysctl, written in the container's /proc/sys. */
int oci_sysctl(const struct ctw_spec *s, struct ctw_err *err);

/* ---- oci_process.c: the last steps of a spec's process ---- */

struct oci_proc {
	const struct ctw_spec_process *p;
	const struct sock_fprog *seccomp; /* NULL: none */
	unsigned seccomp_flags;		  /* seccomp(2) flags */
	bool personality_set;
	unsigned long personality;
	int tty_slave;	  /* -1: stdio as inherited */
	int sync_fd;	  /* errors go here (-1: stderr) */
	int preserve_fds; /* 3 .. 3+n-1 stay open */
	bool userns;	  /* in a user namespace: setgroups may be refused */
	/* filled by oci_proc_prepare */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	bool drop_caps; /* a resolved user other than root: no capabilities */
	char **env;	/* p->env plus HOME (the array is ours) */
	char exe[PATH_MAX];
};

/* In the container, before it counts as created: user, executable, cwd. */
int oci_proc_prepare(struct oci_proc *o, struct ctw_err *err);
/* Set the process's rlimits, before it is reported ready: a limit that
 * cannot be set fails create (or exec) itself, as in runc and crun, not
 * the process's last steps after `start`. */
int oci_proc_rlimits(const struct oci_proc *o, struct ctw_err *err);
/* The rest, and exec; reports failures to sync_fd and _exits. */
__attribute__((noreturn)) void oci_proc_exec(const struct oci_proc *o);

/* ---- oci_create.c: shared with exec ---- */

/* Hand a terminal's master to a --console-socket (runc's protocol: its
 * name as the data, the fd by SCM_RIGHTS). */
int oci_send_console(const char *path, int master, struct ctw_err *err);
/* --pid-file: the pid, no newline, renamed into place. */
int oci_write_pid_file(const char *path, int pid, struct ctw_err *err);

/* ---- oci_trace.c: the io.ctrwatch.trace annotation ---- */

#define CTW_OCI_TRACE_ANNOTATION "io.ctrwatch.trace"
#define CTW_OCI_RECORD_ANNOTATION "io.ctrwatch.seccomp-record"
/* `ctrwatch trace OPTIONS` on init's cgroup, detached, with `--seccomp-profile
 * RECORD` when record is not NULL (options may be NULL then); returns once it
 * is attached (its messages in statedir/trace.err, opened by dirfd; without
 * -o its output in statedir/trace.txt).  0, or -errno with err. */
int oci_trace_start(const char *options, const char *record, int dirfd, const char *statedir,
		    pid_t init, struct ctw_err *err);

/* ---- hooks.c: OCI hooks ---- */

/* Run the hooks of kind with state (the OCI state JSON) on their stdin, one
 * after the other; the first failure stops them: -errno with err naming the
 * hook, its status and what it printed. */
int hooks_run(const struct ctw_spec *s, enum ctw_hook_kind kind, const char *state,
	      struct ctw_err *err);

#endif /* CTW_RUNTIME_INTERNAL_H */
