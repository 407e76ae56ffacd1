// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch run`: the parent side of a container's life.
 *
 *   parent (ctrwatch run, or the monitor of a detached run)
 *     state "created" → cgroups → seccomp compiled → clone3 into the v2
 *     cgroup with new pid/mnt/uts/ipc(/net) namespaces → v1 cgroups → net
 *     → GO ... READY → on_cgroup_ready hook → state "running" → EXEC
 *     ... EOF (the command exec'd) or ERR → wait, forwarding signals and
 *     relaying the pty → state "exited" → cleanup.
 *   child (PID 1 of the container)
 *     GO → cgroup namespace → root (mount.c) → hostname → pty → READY →
 *     EXEC → fork the command (process.c) and run the init loop (init.c),
 *     or exec it directly with --no-init.
 *
 * Every mount lives in the child's mount namespace, so a SIGKILLed run
 * leaves only directories, cgroups and state behind, which gc removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "internal.h"
#include "stub/stub.h"
#include "../image/image.h"

struct run_ctx {
	const struct ctw_run_opts *o;
	struct ctw_state st;
	struct ctw_image *img;
	char *cdir, *upper, *work, *merged, *files_dir, *lowerdirs;
	char **argv, **env;
	const char *hostname;
	struct sock_fprog *prog;
	struct ctw_spec *spec;	    /* what runs (spec_build.c); config.json in the state */
	struct oci_cg_plan cg_plan; /* its /sys/fs/cgroup on hybrid hosts */
	sigset_t saved_mask;
	int sync[2];
	/* The spec's namespaces (ns_plan): what clone3 makes, what the
	 * child joins (a new one made meanwhile by ns, or a path's). */
	int clone_flags;
	int net_fd;	    /* the netns the child joins (-1: none) */
	bool net_premade;   /* net_fd is a new one, made by ns (lo is up) */
	bool lo_up;	    /* clone3 makes the netns: the child brings lo up */
	int ipc_fd, uts_fd; /* new ones made by ns, or -1 */
	bool new_cgroupns;  /* the child makes one once in its cgroups */
	struct ns_maker ns;
	struct spare spare; /* claimed at the start, used for cdir (spare.c) */
	int notify_fd;
	struct log_writer log; /* detached: the container's stdout/stderr */
	bool created_dirs, created_cg, remove;
};

void ctw_run_opts_init(struct ctw_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->no_new_privs = true;
	o->init = true;
	o->stop_timeout = -1;
	o->net.mode = CTW_RUN_DEFAULT_NET;
}

/* ---- building the process: argv, env ---- */

static size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static void strv_push(char ***v, size_t *n, char *s)
{
	/* The capacity doubles when n + 1 reaches a power of two: O(n) in all
	 * (an image's Cmd is as long as it likes). */
	if ((*n & (*n + 1)) == 0)
		*v = xrealloc(*v, (2 * *n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* The capabilities we hold (our bounding set): a container never gets
 * more (spec_build.c). */
static uint64_t our_bounding(void)
{
	uint64_t all = 0;
	for (int c = 0; c <= caps_last(); c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			all |= 1ull << c;
	return all;
}

static char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void gen_id(char id[65])
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
		uint64_t t = ctw_now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)(i * 131);
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
}

static bool name_in_use(const char *name)
{
	char **ids = ctw_state_list();
	bool used = false;
	for (char **p = ids; *p && !used; p++) {
		struct ctw_state t;
		if (ctw_state_load(*p, &t, NULL))
			continue;
		used = !strcmp(t.name, name);
		ctw_state_fini(&t);
	}
	ctw_strv_free(ids);
	return used;
}

static bool valid_name(const char *n)
{
	if (!*n || strlen(n) > 100 || n[0] == '.' || n[0] == '-')
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '_' || *n == '.' || *n == '-'))
			return false;
	return true;
}

/* ---- the child ---- */

static __attribute__((noreturn)) void child_fail(int fd, struct ctw_err *err)
{
	sync_send(fd, SYNC_ERR, CTW_EXIT_RUNTIME, err, -1);
	_exit(CTW_EXIT_RUNTIME);
}

/* ASan builds: tell ASan when the workload runs on its own stack (as a
 * fiber switch), or every noreturn call there (execvp, _exit) prints "ASan
 * is ignoring requested __asan_handle_no_return" into the container's
 * stderr. */
#if defined(__SANITIZE_ADDRESS__)
#define CTW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTW_ASAN 1
#endif
#endif
#ifdef CTW_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

struct workload_args {
	const struct proc_spec *ps;
	const sigset_t *mask;
	const void *old_bottom; /* ASan: our stack, to switch back to */
	size_t old_size;
};

static int workload_main(void *arg)
{
	struct workload_args *a = arg;
#ifdef CTW_ASAN
	__sanitizer_finish_switch_fiber(NULL, &a->old_bottom, &a->old_size);
#endif
	sigprocmask(SIG_SETMASK, a->mask, NULL);
	proc_exec(a->ps);
}

/* Close every fd but stdio and the sync socket fd, which becomes fd 3
 * (close-on-exec); returns it. */
static int keep_only_sync_fd(int fd)
{
	if (fd != 3) {
		if (dup3(fd, 3, O_CLOEXEC) < 0)
			_exit(CTW_EXIT_RUNTIME);
		if (fd > 3)
			close(fd);
	}
	syscall(SYS_close_range, 4, ~0u, 0);
	return 3;
}

static __attribute__((noreturn)) void child_main(struct run_ctx *c)
{
	const struct ctw_run_opts *o = c->o;
	int fd = c->sync[1];
	struct ctw_err err = {0};
	struct sync_msg m;

	/* Nobody may ptrace us or open our /proc/PID/{fd,exe,root,cwd} (runc
	 * CVE-2024-21626): the container's command becomes dumpable again
	 * with its execve, we (and ctrwatch-stub after us) never are. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close(c->sync[0]);
	setsid();
	/* clone3 put us in the v2 cgroup; the v1 ones we join ourselves. */
	if (cg_enter_self(&c->st, &err))
		child_fail(fd, &err);
	if (c->net_fd >= 0 && setns(c->net_fd, CLONE_NEWNET) < 0) {
		if (c->net_premade)
			ctw_err_set(&err, errno, "join the container's network namespace");
		else
			ctw_err_set(&err, errno, "join network namespace of %s", o->net_target);
		child_fail(fd, &err);
	}
	if (c->lo_up)
		ns_lo_up();
	if ((c->ipc_fd >= 0 && setns(c->ipc_fd, CLONE_NEWIPC) < 0) ||
	    (c->uts_fd >= 0 && setns(c->uts_fd, CLONE_NEWUTS) < 0)) {
		ctw_err_set(&err, errno, "join the container's IPC and UTS namespaces");
		child_fail(fd, &err);
	}
	/* Of what the parent held (cgroup and namespace fds, the state lock,
	 * log pipes, its signalfd...), only stdio and the sync socket stay:
	 * no host directory can become the container's through an fd. */
	fd = keep_only_sync_fd(fd);
	/* The spec's root, by the OCI commands' executor (oci_mount.c): the
	 * overlay and the mounts that need nothing from the parent (/proc,
	 * /dev, /sys) while it sets up the network; the rest (cgroupfs in our
	 * cgroup namespace, the /etc files it wrote, volumes) after GO. */
	const struct ctw_spec *s = c->spec;
	const struct oci_root_opts ro = {.bundle = "/", .cg = &c->cg_plan};
	size_t early = oci_mounts_early(s);
	if (oci_rootfs_root(s, c->merged, &err) ||
	    oci_rootfs_mounts(s, &ro, c->merged, 0, early, &err))
		child_fail(fd, &err);
	if (sync_recv(fd, &m, NULL) != 1 || m.type != SYNC_GO)
		_exit(CTW_EXIT_RUNTIME);
	bool nowait = m.status == SYNC_GO_NOWAIT;
	/* The container dies with its parent: a SIGKILLed `ctrwatch run`
	 * leaves no running orphan behind.  Set now that our parent is final
	 * (see clone_into_cgroup); one that died already closed the socket. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Now that we are in our cgroups, make them the namespace's root. */
	if (c->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
		ctw_err_set(&err, errno, "unshare cgroup namespace");
		child_fail(fd, &err);
	}
	if (oci_rootfs_mounts(s, &ro, c->merged, early, s->n_mounts, &err) ||
	    oci_pivot(c->merged, false, &err) || oci_sysctl(s, &err) || oci_rootfs_finish(s, &err))
		child_fail(fd, &err);
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		ctw_err_set(&err, errno, "sethostname %s", s->hostname);
		child_fail(fd, &err);
	}
	int slave = -1;
	if (o->tty) {
		int master;
		if (pty_open(&master, &slave, &err))
			child_fail(fd, &err);
		/* /dev/console is the container's terminal too. */
		pty_bind_console(master);
		sync_send(fd, SYNC_PTY, 0, NULL, master);
		close(master);
	}
	sync_send(fd, SYNC_READY, 0, NULL, -1);
	if (!nowait && (sync_recv(fd, &m, NULL) != 1 || m.type != SYNC_EXEC))
		_exit(CTW_EXIT_RUNTIME);

	if (!o->tty && !o->interactive) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, STDIN_FILENO);
			close(nul);
		}
	}
	/* What the container will see run: ctrwatch-stub from a sealed memfd,
	 * never our binary (runtime/stub.c). */
	int stub = stub_memfd(&err);
	if (stub < 0)
		child_fail(fd, &err);
	struct proc_spec ps = {
		.argv = c->argv,
		.env = c->env,
		.workdir = c->spec->process->cwd,
		.user = c->spec->process->user.resolve,
		.caps = c->st.caps,
		.no_new_privs = o->no_new_privs && !o->privileged,
		.seccomp = c->prog,
		.tty_slave = slave,
		.sync_fd = fd,
		.stub_fd = stub,
		.ready_fd = -1,
	};
	if (!o->init) {
		sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
		proc_exec(&ps);
	}
	/* Until our execveat below we are ctrwatch: not dumpable, so only a
	 * process holding CAP_SYS_PTRACE (in the host's user namespace, ours)
	 * could open our /proc/1/exe.  A container that may hold it waits
	 * (in ctrwatch-exec) until we are ctrwatch-init: for the EOF of this
	 * pipe, whose write end ctrwatch-init closes.  Any other starts its
	 * command at once, while we exec (our address space's teardown, a
	 * millisecond here, no longer delays it). */
	int ready[2] = {-1, -1};
	if ((c->st.caps & (1ull << CAP_SYS_PTRACE)) && pipe2(ready, O_CLOEXEC) < 0) {
		ctw_err_set(&err, errno, "pipe");
		child_fail(fd, &err);
	}
	ps.ready_fd = ready[0];
	/* The command may look at /proc/1/cmdline before our exec below
	 * replaced it: it shows ctrwatch-init's or nothing, never the host's
	 * command line. */
	ctw_cmdline_hide();
	/* Every signal but the synchronous ones waits for the init, from
	 * before the command exists: nothing sent to it is lost (the mask
	 * and the ignored SIGTTIN/SIGTTOU stay across the exec). */
	init_block_signals();
	/* vfork-style: no copy of our (library-heavy) address space; we are
	 * suspended until the workload has exec'd ctrwatch-exec or failed.
	 * It gets our fds: stdio, the sync socket, the pty, the pipe. */
	struct workload_args wa = {.ps = &ps, .mask = &c->saved_mask};
	size_t stack_size = 256 * 1024;
	char *stack = xmalloc(stack_size);
#ifdef CTW_ASAN
	void *fake;
	__sanitizer_start_switch_fiber(&fake, stack, stack_size);
#endif
	pid_t w = clone(workload_main, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &wa);
#ifdef CTW_ASAN
	/* The child (sharing our memory) switched ASan's bookkeeping. */
	if (wa.old_bottom)
		__sanitizer_start_switch_fiber(NULL, wa.old_bottom, wa.old_size);
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	free(stack);
	if (w < 0) {
		ctw_err_set(&err, errno, "start the command");
		child_fail(fd, &err);
	}
	/* The init keeps no fd but the pipe's write end (3, across the exec;
	 * none without the pipe) and the stub (4, closed by it), and no more
	 * privilege than the command: its capabilities plus CAP_KILL, to
	 * forward signals to a command running as another user. */
	if ((ready[1] >= 0 ? dup2(ready[1], 3) : close(3)) < 0 ||
	    (stub != 4 && dup3(stub, 4, O_CLOEXEC) < 0))
		_exit(CTW_EXIT_RUNTIME);
	syscall(SYS_close_range, 5, ~0u, 0);
	caps_drop_bounding(c->st.caps | (1ull << CAP_KILL), NULL);
	caps_set(c->st.caps | (1ull << CAP_KILL), NULL);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)w);
	char *const argv[] = {STUB_INIT_NAME, pid, ready[1] >= 0 ? "3" : "-1", NULL},
		    *const envp[] = {NULL};
	syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
	_exit(CTW_EXIT_RUNTIME); /* the container goes with us */
}

/* ---- the parent ---- */

static int write_config(const struct run_ctx *c, struct ctw_err *err)
{
	/* Compact: half the bytes of an indented one (8.6 KB, most of it the
	 * seccomp profile) and ~0.1-0.2 ms less CPU to render (warm; jq and
	 * `ctrwatch oci` read either). */
	char *json = ctw_spec_to_json(c->spec, false);
	char *path = state_path(c->st.id, "config.json");
	int r = ctw_write_file(path, json, strlen(json), true);
	if (r)
		ctw_err_set(err, -r, "write %s", path);
	free(path);
	free(json);
	return r;
}

static void write_default_files(struct run_ctx *c)
{
	char *p = xasprintf("%s/hostname", c->files_dir);
	if (!ctw_path_exists(p)) {
		char *t = xasprintf("%s\n", c->hostname);
		ctw_write_file(p, t, strlen(t), true);
		free(t);
	}
	free(p);
	p = xasprintf("%s/hosts", c->files_dir);
	if (!ctw_path_exists(p)) {
		char *t = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
				    "ip6-loopback\n127.0.1.1\t%s\n",
				    c->hostname);
		ctw_write_file(p, t, strlen(t), true);
		free(t);
	}
	free(p);
}

static void *rm_rf_main(void *path)
{
	ctw_rm_rf(path);
	return NULL;
}

static void *retire_main(void *cdir)
{
	spare_retire(cdir);
	return NULL;
}

/* The container's directory (kept as a spare when it can be), its state
 * directory. */
static void *(*const removers[2])(void *) = {retire_main, rm_rf_main};

void container_cleanup(struct ctw_state *s, bool remove_all)
{
	/* Removing directories waits on the disk (ext4 mounted with `discard`
	 * discards a freed directory block at once, 0.1-0.3 ms each here): the
	 * container's directory (kept as a spare when it can be: spare.c) and
	 * its state directory go on two threads while we remove the cgroups.
	 * A kill in between leaves what `gc` removes. */
	char *d[2] = {NULL, NULL};
	pthread_t t[2];
	bool threaded[2] = {false, false};
	if (remove_all) {
		d[0] = container_dir(s->id);
		d[1] = state_path(s->id, NULL);
		for (int i = 0; i < 2; i++)
			threaded[i] = thread_start_quiet(&t[i], NULL, removers[i], d[i]);
	}
	cg_destroy(s, true);
	if (!strcmp(s->net_mode, "bridge") || !strcmp(s->net_mode, "container"))
		ctw_net_teardown(s->id, NULL);
	for (int i = 0; remove_all && i < 2; i++) {
		if (threaded[i])
			pthread_join(t[i], NULL);
		else
			removers[i](d[i]);
		free(d[i]);
	}
}

static const char *net_mode_name(enum ctw_net_mode m)
{
	switch (m) {
	case CTW_NET_BRIDGE: return "bridge";
	case CTW_NET_HOST: return "host";
	case CTW_NET_CONTAINER: return "container";
	default: return "none";
	}
}

/* The spec's linux.namespaces: joined by path (--net container:), or new:
 * a network, IPC or UTS one made meanwhile on a thread (run(), ns.c) is
 * joined when the spec asks for it (closed when not), else clone3 makes
 * it, as the pid and mount ones; the cgroup one the child makes once it is
 * in its cgroups. */
static int ns_plan(struct run_ctx *c, struct ctw_err *err)
{
	static const enum ctw_ns_type made_type[NS_MADE_MAX] = {[NS_MADE_NET] = CTW_NS_NETWORK,
								[NS_MADE_IPC] = CTW_NS_IPC,
								[NS_MADE_UTS] = CTW_NS_UTS};
	int *slot[NS_MADE_MAX] = {
		[NS_MADE_NET] = &c->net_fd, [NS_MADE_IPC] = &c->ipc_fd, [NS_MADE_UTS] = &c->uts_fd};
	int made[NS_MADE_MAX];
	for (int k = 0; k < NS_MADE_MAX; k++)
		made[k] = -1;
	if (c->ns.started && ns_make_finish(&c->ns) == 0)
		memcpy(made, c->ns.fd, sizeof(made));
	int r = 0;
	c->clone_flags = 0;
	for (size_t i = 0; i < c->spec->linux.n_namespaces && !r; i++) {
		const struct ctw_spec_ns *ns = &c->spec->linux.namespaces[i];
		int k = NS_MADE_MAX;
		while (k-- > 0 && made_type[k] != ns->type)
			;
		if (ns->path) {
			if (k < 0 || *slot[k] >= 0)
				r = ctw_err_setx(err, EOPNOTSUPP,
						 "run: cannot join the %s namespace %s",
						 ctw_ns_name(ns->type), ns->path);
			else if ((*slot[k] = open(ns->path, O_RDONLY | O_CLOEXEC)) < 0)
				r = ctw_err_set(err, errno, "open %s", ns->path);
		} else if (ns->type == CTW_NS_CGROUP) {
			c->new_cgroupns = true;
		} else if (k >= 0 && made[k] >= 0) {
			*slot[k] = made[k];
			made[k] = -1;
			c->net_premade |= k == NS_MADE_NET;
		} else {
			c->clone_flags |= ctw_ns_flag(ns->type);
			c->lo_up |= ns->type == CTW_NS_NETWORK;
		}
	}
	for (int k = 0; k < NS_MADE_MAX; k++)
		if (made[k] >= 0)
			close(made[k]); /* made for nothing: the spec does not ask for it */
	return r;
}

static int prepare(struct run_ctx *c, struct ctw_err *err)
{
	const struct ctw_run_opts *o = c->o;
	struct ctw_state *s = &c->st;
	int r;

	if (o->rootfs) {
		char *real = realpath(o->rootfs, NULL);
		if (!real)
			return ctw_err_set(err, errno, "rootfs %s", o->rootfs);
		c->lowerdirs = real;
		ctw_strlcpy(s->image, real, sizeof(s->image));
	} else {
		if (!o->image)
			return ctw_err_setx(err, EINVAL, "no image given");
		r = ctw_image_get(NULL, o->image, &c->img, err);
		if (r)
			return r;
		if (!c->img->nlayers)
			return ctw_err_setx(err, EINVAL, "image %s has no layers", o->image);
		size_t len = 1;
		for (size_t i = 0; i < c->img->nlayers; i++)
			len += strlen(c->img->layers[i]) + 1;
		c->lowerdirs = xcalloc(1, len);
		/* overlayfs wants the top layer first. */
		for (size_t i = c->img->nlayers; i-- > 0;) {
			strcat(c->lowerdirs, c->img->layers[i]);
			if (i)
				strcat(c->lowerdirs, ":");
		}
		ctw_strlcpy(s->image, o->image, sizeof(s->image));
		ctw_strlcpy(s->image_id, c->img->id, sizeof(s->image_id));
	}

	gen_id(s->id);
	if (o->name && !valid_name(o->name))
		return ctw_err_setx(err, EINVAL,
				    "invalid container name \"%s\": only "
				    "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				    o->name);
	ctw_strlcpy(s->name, o->name ? o->name : s->id, o->name ? sizeof(s->name) : 13);
	c->hostname = o->hostname ? o->hostname : o->name ? o->name : NULL;
	if (!c->hostname) {
		static char shortid[13];
		ctw_strlcpy(shortid, s->id, sizeof(shortid));
		c->hostname = shortid;
	}
	char net_path[64] = "";
	if (o->net.mode == CTW_NET_CONTAINER) {
		struct ctw_state other;
		r = ctw_state_find(o->net_target, &other, err);
		if (r)
			return ctw_err_prefix(err, "--net container:%s", o->net_target);
		bool alive = ctw_state_init_alive(&other);
		snprintf(net_path, sizeof(net_path), "/proc/%d/ns/net", other.pid);
		ctw_state_fini(&other);
		if (!alive)
			return ctw_err_setx(err, ESRCH, "--net container:%s: not running",
					    o->net_target);
	}

	const char *parent = o->cgroup_parent;
	if (!parent || !*parent)
		parent = getenv("CTRWATCH_CGROUP_PARENT");
	if (!parent || !*parent)
		parent = "ctrwatch";

	c->cdir = container_dir(s->id);
	c->upper = xasprintf("%s/upper", c->cdir);
	c->work = xasprintf("%s/work", c->cdir);
	/* Every container mounts its root on the same empty directory, each
	 * in its own mount namespace: no per-container mount point to make
	 * and remove. */
	c->merged = xasprintf("%s/rootfs", ctw_root_dir());
	c->files_dir = state_path(s->id, NULL);

	/* The OCI spec of this run (issue 16): Docker's defaults, the image's
	 * config, the flags.  What the container executes comes from it: the
	 * command, environment, working directory and user, the capabilities
	 * and the seccomp program; it is written to the state directory as
	 * config.json (start()). */
	extern char **environ;
	struct ctw_run_spec_in in = {
		.opts = o,
		.image = c->img ? &c->img->config : NULL,
		.id = s->id,
		.hostname = c->hostname,
		.rootfs = c->merged,
		.lowerdirs = c->lowerdirs,
		.upper = c->upper,
		.work = c->work,
		.volatile_upper = c->remove,
		.files_dir = c->files_dir,
		.net_path = net_path[0] ? net_path : NULL,
		.cgroup_parent = parent,
		.bounding = our_bounding(),
		.our_env = (const char *const *)environ,
	};
	r = ctw_run_spec_build(&in, &c->spec, err);
	if (r)
		return r;
	const struct ctw_spec_process *sp = c->spec->process;
	c->argv = strv_dup(sp->args);
	c->env = strv_dup(sp->env);

	s->caps = sp->caps[CTW_CAPS_BOUNDING];
	s->no_new_privs = sp->no_new_privileges;
	ctw_strlcpy(s->seccomp,
		    o->privileged ? "unconfined"
		    : o->seccomp  ? o->seccomp
				  : "",
		    sizeof(s->seccomp));
	s->stop_signal = o->stop_signal;
	if (!s->stop_signal && c->img && c->img->config.stop_signal)
		s->stop_signal = ctw_parse_signal(c->img->config.stop_signal);
	if (s->stop_signal <= 0)
		s->stop_signal = SIGTERM;
	s->stop_timeout = o->stop_timeout >= 0 ? o->stop_timeout : 10;
	ctw_strlcpy(s->workdir,
		    o->workdir			       ? o->workdir
		    : c->img && c->img->config.workdir ? c->img->config.workdir
						       : "",
		    sizeof(s->workdir));
	ctw_strlcpy(s->user, sp->user.resolve ? sp->user.resolve : "", sizeof(s->user));
	s->env = strv_dup(c->env);
	size_t nl = 0;
	s->labels = NULL;
	for (char **p = o->labels; p && *p; p++)
		strv_push(&s->labels, &nl, strchr(*p, '=') ? xstrdup(*p) : xasprintf("%s=", *p));
	s->command = strv_dup(c->argv);
	ctw_strlcpy(s->net_mode, net_mode_name(o->net.mode), sizeof(s->net_mode));
	s->detached = o->detach;
	s->auto_remove = c->remove;
	s->tty = o->tty;
	s->monitor_pid = getpid();
	s->monitor_start = proc_start_time(s->monitor_pid);
	s->created_ns = ctw_realtime_ns();
	s->status = CTW_ST_CREATED;

	/* The cgroup paths go into the first state file, before they are made:
	 * a run killed at any point after it leaves what `gc` can find, and no
	 * second write is needed (on ext4 with `discard` a rewrite waits for
	 * the discard of the block it replaces). */
	r = cg_paths(s, parent, err);
	if (r)
		return r;

	/* The name is reserved by the state file, under the lock. */
	int lk = state_lock();
	if (name_in_use(s->name)) {
		state_unlock(lk);
		return ctw_err_setx(err, EEXIST, "container name \"%s\" is already in use",
				    s->name);
	}
	r = ctw_state_save(s, err);
	state_unlock(lk);
	if (r)
		return r;
	c->created_dirs = true;

	/* Only root may enter the store and containers/: a container's upper
	 * layer may hold a setuid binary its root planted (fixed when looser,
	 * refused when not ours). */
	char *cs = xasprintf("%s/containers", ctw_root_dir());
	r = ctw_private_dir(ctw_root_dir(), 0700, err);
	if (!r)
		r = ctw_private_dir(cs, 0700, err);
	free(cs);
	if (r)
		return r;
	if ((r = ctw_mkdir_p(c->merged, 0755)))
		return ctw_err_set(err, -r, "create %s", c->merged);

	r = cg_create(s, parent, &c->spec->linux.resources, err);
	if (r)
		return r;
	c->created_cg = true;
	r = oci_cg_plan(&c->cg_plan, s->v1, s->nv1, err);
	if (r)
		return r;
	/* Compiled before the clone: the child gets the program in its copy
	 * of our memory.  The device filter comes after it, while the child
	 * prepares the root (start()). */
	if (c->spec->linux.seccomp) {
		r = seccomp_compile_spec(c->spec->linux.seccomp, &c->prog, err);
		if (r)
			return r;
	}
	/* The container's directory: the spare claimed at the start (its
	 * work/ emptied meanwhile), else a new one. */
	if (!spare_use(&c->spare, c->cdir) && ((mkdir(c->cdir, 0700) < 0 && errno != EEXIST) ||
					       (mkdir(c->upper, 0755) < 0 && errno != EEXIST) ||
					       (mkdir(c->work, 0700) < 0 && errno != EEXIST)))
		return ctw_err_set(err, errno, "create %s", c->cdir);
	return ns_plan(c, err);
}

/* Clone the child and bring it up to the point where the command runs.
 * Returns the child's pid, or -errno (child reaped). */
static pid_t start(struct run_ctx *c, int stopfd, int *master, int *exit_code, struct ctw_err *err)
{
	const struct ctw_run_opts *o = c->o;
	struct ctw_state *s = &c->st;
	int r;
	*master = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return ctw_err_set(err, errno, "socketpair");
	int cgfd = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return ctw_err_set(err, errno, "open %s", s->cgroup);
	pid_t pid = clone_into_cgroup(c->clone_flags, cgfd);
	if (pid == 0)
		child_main(c);
	close(cgfd);
	close(c->sync[1]);
	c->sync[1] = -1;
	if (pid < 0)
		return ctw_err_set(err, errno, "clone the container's init");
	/* The spec it runs, as config.json, while the child prepares its
	 * root (off the start's critical path). */
	if ((r = write_config(c, err)))
		return r;

	int fd = c->sync[0];
	struct sync_msg m;
	/* Before the GO: nothing in the child opens a device or runs the
	 * command until then. */
	if ((r = cg_device_filter(s, c->spec, err)))
		goto out_kill;
	if (o->net.mode == CTW_NET_BRIDGE || o->net.mode == CTW_NET_CONTAINER) {
		struct ctw_net_opts no = o->net;
		struct ctw_net_lease lease = {0};
		char join[16];
		no.container_id = s->id;
		no.name = s->name;
		no.hostname = c->hostname;
		no.files_dir = c->files_dir;
		/* The child may not have joined it yet: name it. */
		char nspath[32];
		if (c->net_premade) {
			snprintf(nspath, sizeof(nspath), "/proc/self/fd/%d", c->net_fd);
			no.netns_path = nspath;
		}
		if (o->net.mode == CTW_NET_CONTAINER) {
			struct ctw_state other;
			if (!ctw_state_find(o->net_target, &other, NULL)) {
				snprintf(join, sizeof(join), "%d", other.pid);
				no.join_pid = join;
				ctw_state_fini(&other);
			}
		}
		r = ctw_net_setup(&no, pid, &lease, err);
		if (r)
			goto out_kill;
		ctw_strlcpy(s->ip, lease.ip, sizeof(s->ip));
	}
	write_default_files(c);
	/* Without a hook to run between READY and the command, the child
	 * need not wait for our EXEC: one round trip less. */
	bool nowait = !o->on_cgroup_ready;
	r = sync_send(fd, SYNC_GO, nowait ? SYNC_GO_NOWAIT : 0, NULL, -1);
	int sig = 0;
	for (;;) {
		int got;
		r = sync_recv_stoppable(fd, stopfd, &m, &got, &sig);
		if (r == -EINTR)
			goto out_stopped;
		if (r <= 0) {
			ctw_err_setx(err, EPIPE, "container init exited during setup");
			r = -EPIPE;
			goto out_kill;
		}
		if (m.type == SYNC_PTY) {
			*master = got;
			/* The size before the command runs (it may ask at once). */
			if (isatty(STDIN_FILENO))
				tty_copy_winsize(STDIN_FILENO, got);
			continue;
		}
		if (m.type == SYNC_ERR) {
			*err = m.err;
			r = err->code ? -err->code : -EIO;
			goto out_kill;
		}
		if (m.type == SYNC_READY)
			break;
	}
	if (o->on_cgroup_ready) {
		r = o->on_cgroup_ready(s->cgroup_id, o->hook_ctx);
		if (r) {
			if (!err->msg[0])
				ctw_err_setx(err, r < 0 ? -r : EIO, "cgroup-ready hook failed");
			goto out_kill;
		}
	}
	s->pid = pid;
	s->pid_start = proc_start_time(pid);
	s->status = CTW_ST_RUNNING;
	s->started_ns = ctw_realtime_ns();
	/* The command goes now (went at READY when nowait), and its state is
	 * saved while it execs: the save is disk work the start need not wait
	 * for.  A save that fails (never seen) stops the container at once. */
	if (!nowait)
		sync_send(fd, SYNC_EXEC, 0, NULL, -1);
	r = ctw_state_save(s, err);
	if (r)
		goto out_kill;
	/* EOF: the command was exec'd (our end of the socket is the only one
	 * left).  ERR: it could not be started; the init exits with status. */
	r = sync_recv_stoppable(fd, stopfd, &m, NULL, &sig);
	if (r == -EINTR)
		goto out_stopped;
	close(fd);
	c->sync[0] = -1;
	if (r == 1 && m.type == SYNC_ERR) {
		*err = m.err;
		*exit_code = m.status;
		int ws;
		waitpid(pid, &ws, 0);
		return err->code ? -err->code : -EIO;
	}
	return pid;

out_stopped:
	/* A stop signal while the container was being set up (whatever it
	 * was stuck on): it goes, with the status of that signal. */
	ctw_err_setx(err, EINTR, "interrupted by SIG%s while the container was starting",
		     sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	*exit_code = 128 + sig;
	r = -EINTR;
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (*master >= 0)
		close(*master);
	*master = -1;
	return r < 0 ? r : -EIO;
}

static void ctx_fini(struct run_ctx *c)
{
	ctw_state_fini(&c->st);
	if (c->img)
		ctw_image_free(c->img);
	free(c->cdir);
	free(c->upper);
	free(c->work);
	free(c->merged);
	free(c->files_dir);
	free(c->lowerdirs);
	ctw_strv_free(c->argv);
	ctw_strv_free(c->env);
	seccomp_prog_free(c->prog);
	ctw_spec_free(c->spec);
	spare_release(&c->spare);
	if (c->ns.started && ns_make_finish(&c->ns) == 0) {
		for (int i = 0; i < NS_MADE_MAX; i++)
			if (c->ns.fd[i] >= 0)
				close(c->ns.fd[i]);
	}
	if (c->net_fd >= 0)
		close(c->net_fd);
	if (c->ipc_fd >= 0)
		close(c->ipc_fd);
	if (c->uts_fd >= 0)
		close(c->uts_fd);
	log_started(&c->log);
	log_close(&c->log);
	for (int i = 0; i < 2; i++)
		if (c->sync[i] >= 0)
			close(c->sync[i]);
}

struct notify {
	int rc;
	int exit_code;
	char id[65];
	struct ctw_err err;
};

static void notify_parent(struct run_ctx *c, int rc, int exit_code, const struct ctw_err *err)
{
	if (c->notify_fd < 0)
		return;
	struct notify n = {.rc = rc, .exit_code = exit_code};
	ctw_strlcpy(n.id, c->st.id, sizeof(n.id));
	if (err)
		n.err = *err;
	if (write(c->notify_fd, &n, sizeof(n)) < 0) {
		/* the caller is gone: nothing to tell */
	}
	close(c->notify_fd);
	c->notify_fd = -1;
}

static int run(struct run_ctx *c, int *exit_code, struct ctw_err *err)
{
	const struct ctw_run_opts *o = c->o;
	struct ctw_state *s = &c->st;
	int r, master = -1, sigfd = -1, stopfd = -1;

	*exit_code = CTW_EXIT_RUNTIME;
	int made = CLONE_NEWIPC | CLONE_NEWUTS;
	if (o->net.mode == CTW_NET_NONE || o->net.mode == CTW_NET_BRIDGE)
		made |= CLONE_NEWNET;
	ns_make_start(&c->ns, made);
	spare_claim(&c->spare);
	r = prepare(c, err);
	if (r)
		goto out_cleanup;
	/* Detached: the container's stdout and stderr are pipes to us. */
	if (o->detach && (r = log_open(&c->log, s->id, o->tty, err)))
		goto out_cleanup;
	c->log.state = s; /* where log losses are recorded */

	/* Block what we forward (and SIGCHLD) before the child exists, so
	 * nothing is lost; the child restores the mask before exec. */
	sigset_t fwd;
	sigemptyset(&fwd);
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT,   SIGHUP, SIGQUIT,
				   SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		sigaddset(&fwd, sigs[i]);
		/* An ignored signal never reaches the signalfd (a background
		 * shell starts us with SIGINT ignored). */
		signal(sigs[i], SIG_DFL);
	}
	sigprocmask(SIG_BLOCK, &fwd, &c->saved_mask);
	sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	/* The same signals, read while the container starts: one of them
	 * stops the start (SIGCHLD and the rest stay for sigfd). */
	stopfd = stop_signals_fd();

	pid_t pid = start(c, stopfd, &master, exit_code, err);
	close(stopfd);
	stopfd = -1;
	log_started(&c->log);
	if (pid < 0) {
		r = pid;
		goto out_cleanup;
	}
	notify_parent(c, 0, 0, NULL);

	bool raw = o->tty && master >= 0 && isatty(STDIN_FILENO) && !o->detach;
	if (raw)
		tty_raw(STDIN_FILENO, true);
	int ws = 0;
	relay_run(master, o->interactive && !o->detach, pid, pid, sigfd, o->detach ? &c->log : NULL,
		  &ws);
	if (raw)
		tty_raw(STDIN_FILENO, false);
	*exit_code = wait_status_to_exit(ws);
	s->oom_killed = cg_oom_killed(s) && *exit_code == 137;
	if (s->oom_killed)
		pr_warn("container %.12s was killed by the OOM killer (OOMKilled)", s->id);
	s->exit_code = *exit_code;
	s->status = CTW_ST_EXITED;
	log_loss_to_state(&c->log, s);
	s->finished_ns = ctw_realtime_ns();
	if (!c->remove)
		ctw_state_save(s, NULL);
	container_cleanup(s, c->remove);
	r = 0;
	goto out;

out_cleanup:
	spare_release(&c->spare);
	if (c->created_cg || c->created_dirs)
		container_cleanup(s, true);
out:
	if (master >= 0)
		close(master);
	if (stopfd >= 0)
		close(stopfd);
	if (sigfd >= 0) {
		close(sigfd);
		sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
	}
	return r;
}

int ctw_container_run(const struct ctw_run_opts *o, int *exit_code, char *id_out,
		      struct ctw_err *err)
{
	struct run_ctx c = {.o = o,
			    .sync = {-1, -1},
			    .net_fd = -1,
			    .ipc_fd = -1,
			    .uts_fd = -1,
			    .spare = {.fd = -1},
			    .notify_fd = -1,
			    .log = {.fd = -1, .out = -1, .err = -1, .saved = {-1, -1}}};
	c.remove = !o->detach || o->remove;
	int r;

	if (!o->detach) {
		r = run(&c, exit_code, err);
		if (id_out)
			ctw_strlcpy(id_out, c.st.id, 65);
		ctx_fini(&c);
		return r;
	}

	/* Detached: a monitor process (conmon's job) owns the container and
	 * records its exit; we wait only until it runs. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return ctw_err_set(err, errno, "pipe");
	fflush(NULL);
	pid_t mon = fork();
	if (mon < 0) {
		close(p[0]);
		close(p[1]);
		return ctw_err_set(err, errno, "fork the monitor");
	}
	if (mon == 0) {
		close(p[0]);
		setsid();
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, STDIN_FILENO);
			dup2(nul, STDOUT_FILENO);
			dup2(nul, STDERR_FILENO);
			close(nul);
		}
		/* A second fork: the monitor must not be our child (we are
		 * about to exit and nobody would reap it otherwise). */
		pid_t m2 = fork();
		if (m2 != 0)
			_exit(m2 < 0 ? 1 : 0);
		c.notify_fd = p[1];
		int code = 0;
		struct ctw_err e = {0};
		r = run(&c, &code, &e);
		if (r)
			notify_parent(&c, r, code, &e);
		ctx_fini(&c);
		_exit(r ? CTW_EXIT_RUNTIME : code);
	}
	close(p[1]);
	waitpid(mon, NULL, 0);
	struct notify n;
	ssize_t got;
	do
		got = read(p[0], &n, sizeof(n));
	while (got < 0 && errno == EINTR);
	close(p[0]);
	if (got != sizeof(n)) {
		*exit_code = CTW_EXIT_RUNTIME;
		return ctw_err_setx(err, EIO, "the monitor process died before the container ran");
	}
	if (id_out)
		ctw_strlcpy(id_out, n.id, 65);
	if (n.rc) {
		*err = n.err;
		*exit_code = n.exit_code;
		return n.rc;
	}
	*exit_code = 0;
	return 0;
}
