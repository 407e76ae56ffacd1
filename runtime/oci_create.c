// SPDX-License-Identifier: Apache-2.0
/*
 * `create`: a container from a bundle, up to the point where its process
 * would run.
 *
 *   create (this process)                     init (the container's pid 1)
 *   config.json read, state dir made (locked),
 *   "creating" state with the cgroup paths,
 *   cgroups, seccomp compiled, exec.fifo,
 *   clone3 into the v2 cgroup with the new
 *   namespaces                          ───►  [user ns: ask for maps]
 *   [write uid_map, gid_map]                  v1 cgroups, namespaces joined
 *   device filter                             by path, cgroup namespace
 *   prestart, createRuntime hooks       ◄───  NS
 *                                       ───►  GO: mounts, /dev,
 *                                             createContainer hooks,
 *                                             pivot_root, masks, sysctl,
 *                                             hostname, the terminal
 *   master to --console-socket          ◄───  PTY
 *                                             the user, the executable,
 *                                             cwd (create-time errors)
 *   state "created", --pid-file         ◄───  READY; then waits on
 *   exit 0 (the init is the caller's           exec.fifo until `start`
 *   subreaper's now)
 *
 * Any failure before READY kills the init and removes what was made.  The
 * init dies with create until READY (parent-death signal), so a create
 * killed at any point leaves at most a "creating" state whose creator is
 * gone, and cgroups: `delete --force` and `ctrwatch gc` remove them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sched.h>

#include "internal.h"

struct create_ctx {
	const struct ctw_oci_create_opts *o;
	struct ctw_spec *spec;
	char *config;
	size_t config_len;
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	int rootfd;
	struct oci_ct *ct;
	struct sock_fprog *prog;
	unsigned sc_flags;
	int sync[2];
	int fifo;	      /* O_RDWR on exec.fifo: the init waits reading it */
	int join[CTW_NS_MAX]; /* namespaces joined by path */
	bool userns;	      /* a new user namespace */
	pid_t pid;
	int master;		    /* the terminal (foreground run) */
	struct oci_cg_plan cg_plan; /* its /sys/fs/cgroup on hybrid hosts */
};

/* ---- the init ---- */

static __attribute__((noreturn)) void init_fail(int fd, struct ctw_err *err)
{
	sync_send(fd, SYNC_ERR, CTW_EXIT_RUNTIME, err, -1);
	_exit(CTW_EXIT_RUNTIME);
}

static bool wait_go(int fd, int *status)
{
	struct sync_msg m;
	if (sync_recv(fd, &m, NULL) != 1 || m.type != SYNC_GO)
		return false;
	if (status)
		*status = m.status;
	return true;
}

/* The OCI state a hook of ours reads on its stdin. */
static char *hook_state(const struct create_ctx *c, enum ctw_oci_status st, int pid)
{
	struct ctw_oci_state s = {
		.id = c->o->id,
		.status = st,
		.pid = pid,
		.bundle = c->bundle,
		.annotations = &c->spec->annotations,
	};
	return ctw_oci_state_json(&s, false);
}

/* The console: a pty of the container's devpts, its peer the container's
 * /dev/console and the process's stdio, its master for the caller. */
static int make_console(const struct create_ctx *c, int fd, int *slave, struct ctw_err *err)
{
	int master;
	int r = pty_open(&master, slave, err);
	if (r)
		return r;
	const struct ctw_spec_process *p = c->spec->process;
	if (p->console_height.set || p->console_width.set) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height.v,
				     .ws_col = (unsigned short)p->console_width.v};
		ioctl(master, TIOCSWINSZ, &ws);
	}
	pty_bind_console(master);
	sync_send(fd, SYNC_PTY, 0, NULL, master);
	close(master);
	return 0;
}

static int join_namespaces(const struct create_ctx *c, struct ctw_err *err)
{
	/* user first (it owns the others), pid is the parent's (setns of pid
	 * applies to children), mount unsupported (see validate) */
	static const enum ctw_ns_type order[] = {CTW_NS_USER,	 CTW_NS_IPC,	CTW_NS_UTS,
						 CTW_NS_NETWORK, CTW_NS_CGROUP, CTW_NS_TIME};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		int fd = c->join[order[i]];
		if (fd >= 0 && setns(fd, ctw_ns_flag(order[i])) < 0)
			return ctw_err_set(err, errno, "join the %s namespace %s",
					   ctw_ns_name(order[i]),
					   ctw_spec_ns_get(c->spec, order[i])->path);
		if (order[i] == CTW_NS_USER && fd >= 0 &&
		    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
			return ctw_err_set(err, errno, "become root in the user namespace");
	}
	return 0;
}

static __attribute__((noreturn)) void init_main(struct create_ctx *c)
{
	const struct ctw_spec *s = c->spec;
	int fd = c->sync[1];
	struct ctw_err err = {0};
	int slave = -1;

	close(c->sync[0]);
	/* Ours, not the container's: the lock of the state dir above all
	 * (an flock held by a copy of its fd outlives create). */
	close(c->ct->dirfd);
	close(c->rootfd);
	if (c->master >= 0)
		close(c->master);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (c->userns) {
		sync_send(fd, SYNC_USERNS, 0, NULL, -1);
		if (!wait_go(fd, NULL))
			_exit(CTW_EXIT_RUNTIME);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			ctw_err_set(&err, errno, "become root in the user namespace");
			init_fail(fd, &err);
		}
	}
	/* clone3 put us in the v2 cgroup; the v1 ones we join ourselves (in a
	 * new user namespace, where their files are not ours, create moved
	 * us), then they become our cgroup namespace's root. */
	if ((!c->userns && cg_set_enter_self(&c->ct->cg, &err)) || join_namespaces(c, &err))
		init_fail(fd, &err);
	const struct ctw_spec_ns *cgns = ctw_spec_ns_get(s, CTW_NS_CGROUP);
	if (cgns && !cgns->path && unshare(CLONE_NEWCGROUP) < 0) {
		ctw_err_set(&err, errno, "unshare the cgroup namespace");
		init_fail(fd, &err);
	}
	sync_send(fd, SYNC_NS, 0, NULL, -1);
	int hostpid = 0;
	if (!wait_go(fd, &hostpid))
		_exit(CTW_EXIT_RUNTIME);
	const struct oci_root_opts ro = {
		.bundle = c->bundle, .userns = c->userns, .cg = &c->cg_plan};
	if (oci_rootfs_setup(s, &ro, c->rootfs, &err))
		init_fail(fd, &err);
	if (s->hooks[CTW_HOOK_CREATE_CONTAINER].n) {
		char *st = hook_state(c, CTW_OCI_CREATING, hostpid);
		int r = hooks_run(s, CTW_HOOK_CREATE_CONTAINER, st, &err);
		free(st);
		if (r)
			init_fail(fd, &err);
	}
	/* sysctls before /proc/sys turns read-only (readonlyPaths), as runc */
	if (oci_pivot(c->rootfs, c->o->no_pivot, &err) || oci_sysctl(s, &err) ||
	    oci_rootfs_finish(s, &err))
		init_fail(fd, &err);
	if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		ctw_err_set(&err, errno, "sethostname %s", s->hostname);
		init_fail(fd, &err);
	}
	if (s->domainname && *s->domainname &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		ctw_err_set(&err, errno, "setdomainname %s", s->domainname);
		init_fail(fd, &err);
	}
	if (s->process->terminal && make_console(c, fd, &slave, &err))
		init_fail(fd, &err);
	/* With a terminal, create's stdio is not the process's: let it go now
	 * (containerd's shim reads create's output until EOF), as runc does. */
	for (int i = 0; slave >= 0 && i < 3; i++)
		dup2(slave, i);
	struct oci_proc op = {
		.p = s->process,
		.seccomp = c->prog,
		.seccomp_flags = c->sc_flags,
		.personality_set = s->linux.personality_set,
		.personality = s->linux.personality,
		.tty_slave = slave,
		.sync_fd = -1,
		.preserve_fds = c->o->preserve_fds,
		.userns = c->userns || c->join[CTW_NS_USER] >= 0,
	};
	if (oci_proc_rlimits(&op, &err)) {
		sync_send(fd, SYNC_ERR, CTW_EXIT_RUNTIME, &err, -1);
		_exit(CTW_EXIT_RUNTIME);
	}
	if (oci_proc_prepare(&op, &err)) {
		sync_send(fd, SYNC_ERR, err.code == ENOENT ? CTW_EXIT_NOTFOUND : CTW_EXIT_NOEXEC,
			  &err, -1);
		_exit(CTW_EXIT_RUNTIME);
	}
	/* Nobody in the container may ptrace us or open our /proc files
	 * while we hold what is the host's. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* We outlive create from here. */
	prctl(PR_SET_PDEATHSIG, 0);
	sync_send(fd, SYNC_READY, 0, NULL, -1);
	close(fd);
	/* `start` writes one byte; it sees the fifo's last reader go (this
	 * close-on-exec fd) when the process runs. */
	char b;
	ssize_t n;
	do
		n = read(c->fifo, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(CTW_EXIT_RUNTIME);
	if (s->hooks[CTW_HOOK_START_CONTAINER].n) {
		char *st = hook_state(c, CTW_OCI_CREATED, hostpid);
		int r = hooks_run(s, CTW_HOOK_START_CONTAINER, st, &err);
		free(st);
		if (r) {
			dprintf(STDERR_FILENO, "ctrwatch: %s\n", err.msg);
			_exit(CTW_EXIT_RUNTIME);
		}
	}
	oci_proc_exec(&op);
}

/* ---- create ---- */

int oci_send_console(const char *path, int master, struct ctw_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return ctw_err_setx(err, ENAMETOOLONG, "--console-socket %s: path too long", path);
	ctw_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	int types[] = {SOCK_STREAM, SOCK_SEQPACKET};
	int s = -1, e = 0;
	for (size_t i = 0; i < ARRAY_SIZE(types) && s < 0; i++) {
		s = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			e = errno;
			close(s);
			s = -1;
			if (e != EPROTOTYPE)
				break;
		}
	}
	if (s < 0)
		return ctw_err_set(err, e ? e : errno, "connect to --console-socket %s", path);
	/* As runc: the terminal's name as the data, the master alongside. */
	char name[64] = "/dev/ptmx";
	ptsname_r(master, name, sizeof(name));
	struct iovec iov = {.iov_base = name, .iov_len = strlen(name)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	int r = 0;
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		r = ctw_err_set(err, errno, "send the terminal to --console-socket %s", path);
	close(s);
	return r;
}

static int write_maps(const struct create_ctx *c, struct ctw_err *err)
{
	static const char *const files[] = {"uid_map", "gid_map"};
	const struct ctw_spec_linux *l = &c->spec->linux;
	for (int k = 0; k < 2; k++) {
		const struct ctw_spec_idmap *m = k ? l->gid_mappings : l->uid_mappings;
		size_t n = k ? l->n_gid_mappings : l->n_uid_mappings;
		char buf[4096], path[64];
		size_t len = 0;
		for (size_t i = 0; i < n && len < sizeof(buf); i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
						m[i].container_id, m[i].host_id, m[i].size);
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)c->pid, files[k]);
		int r = ctw_write_file(path, buf, len, false);
		if (r)
			return ctw_err_set(err, -r, "write %s", path);
	}
	return 0;
}

int oci_write_pid_file(const char *path, int pid, struct ctw_err *err)
{
	char buf[16], tmp[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%d", pid);
	const char *slash = strrchr(path, '/');
	/* As runc: a dot file beside it, renamed (no reader sees it half). */
	snprintf(tmp, sizeof(tmp), "%.*s.%s", slash ? (int)(slash - path + 1) : 0, path,
		 slash ? slash + 1 : path);
	int r = ctw_write_file(tmp, buf, (size_t)n, true);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return ctw_err_set(err, -r, "write --pid-file %s", path);
	}
	return 0;
}

static int load_bundle(struct create_ctx *c, struct ctw_err *err)
{
	const char *b = c->o->bundle && *c->o->bundle ? c->o->bundle : ".";
	if (!realpath(b, c->bundle))
		return ctw_err_set(err, errno, "bundle %s", b);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", c->bundle);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ctw_err_set(err, errno, "%s", path);
	int r = ctw_read_fd_capped(fd, 16 << 20, &c->config, &c->config_len);
	close(fd);
	if (r)
		return ctw_err_set(err, -r, "read %s", path);
	r = ctw_spec_parse("config.json", c->config, c->config_len, &c->spec, err);
	if (r)
		return r;
	if (!c->spec->process)
		return ctw_err_setx(err, EINVAL,
				    "config.json: process: required to create a "
				    "container");
	const struct ctw_spec_ns *mnt = ctw_spec_ns_get(c->spec, CTW_NS_MOUNT);
	if (mnt && mnt->path)
		return ctw_err_setx(err, EOPNOTSUPP,
				    "config.json: linux.namespaces: joining a mount namespace "
				    "(path) is not supported by ctrwatch");
	if (c->spec->process->terminal && !c->o->console_socket && !c->o->foreground)
		return ctw_err_setx(err, EINVAL,
				    "config.json: process.terminal is true: --console-socket is "
				    "needed to receive the terminal");
	const char *root = c->spec->root.path;
	snprintf(path, sizeof(path), "%s%s%s", root[0] == '/' ? "" : c->bundle,
		 root[0] == '/' ? "" : "/", root);
	if (!realpath(path, c->rootfs))
		return ctw_err_set(err, errno, "config.json: root.path %s", path);
	return 0;
}

/* The init's ways: clone3 flags, namespaces to join by path. */
static int prepare_ns(struct create_ctx *c, int *flags, struct ctw_err *err)
{
	*flags = 0;
	for (size_t i = 0; i < c->spec->linux.n_namespaces; i++) {
		const struct ctw_spec_ns *ns = &c->spec->linux.namespaces[i];
		if (ns->path) {
			int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return ctw_err_set(err, errno,
						   "config.json: linux.namespaces: %s %s",
						   ctw_ns_name(ns->type), ns->path);
			c->join[ns->type] = fd;
		} else if (ns->type == CTW_NS_TIME) {
			return ctw_err_setx(err, EOPNOTSUPP,
					    "config.json: linux.namespaces: a new time namespace "
					    "is not supported by ctrwatch");
		} else if (ns->type != CTW_NS_CGROUP) {
			/* the cgroup one is made by the init, once in its
			 * cgroups */
			*flags |= ctw_ns_flag(ns->type);
		}
	}
	c->userns = *flags & CLONE_NEWUSER;
	return 0;
}

/* Clone the init and bring it to READY.  -errno with err, init reaped. */
static int launch(struct create_ctx *c, struct ctw_err *err)
{
	const struct ctw_spec *s = c->spec;
	int flags, r;
	if ((r = prepare_ns(c, &flags, err)))
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return ctw_err_set(err, errno, "socketpair");
	int cgfd = open(c->ct->cg.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return ctw_err_set(err, errno, "open %s", c->ct->cg.v2);
	/* A pid namespace to join is for our children: set it around the
	 * clone. */
	int own_pid = -1;
	if (c->join[CTW_NS_PID] >= 0) {
		own_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own_pid < 0 || setns(c->join[CTW_NS_PID], CLONE_NEWPID) < 0) {
			r = ctw_err_set(err, errno, "join the pid namespace");
			if (own_pid >= 0)
				close(own_pid);
			close(cgfd);
			return r;
		}
	}
	pid_t pid = clone_into_cgroup(flags, cgfd);
	if (pid == 0)
		init_main(c);
	int e = errno;
	if (own_pid >= 0) {
		setns(own_pid, CLONE_NEWPID);
		close(own_pid);
	}
	close(cgfd);
	close(c->sync[1]);
	c->sync[1] = -1;
	if (pid < 0)
		return ctw_err_set(err, e, "clone the container's init");
	c->pid = pid;
	c->ct->pid = pid;
	c->ct->pid_start = proc_start_time(pid);
	int fd = c->sync[0];
	struct ctw_spec_dev_rule *rules;
	size_t nrules = devices_effective(s, &rules);
	r = cg_set_devices(&c->ct->cg, rules, nrules, err);
	free(rules);
	if (r)
		goto out_kill;
	for (;;) {
		struct sync_msg m;
		int got = -1;
		int rr = sync_recv(fd, &m, &got);
		if (rr <= 0) {
			r = ctw_err_setx(err, EPIPE, "the container's init exited during create");
			goto out_kill;
		}
		if (m.type == SYNC_ERR) {
			*err = m.err;
			r = err->code ? -err->code : -EIO;
			goto out_kill;
		}
		if (m.type == SYNC_USERNS) {
			if ((r = write_maps(c, err)) ||
			    (r = cg_set_enter_pid(&c->ct->cg, pid, err)))
				goto out_kill;
			sync_send(fd, SYNC_GO, 0, NULL, -1);
		} else if (m.type == SYNC_NS) {
			char *st = hook_state(c, CTW_OCI_CREATING, pid);
			r = hooks_run(s, CTW_HOOK_PRESTART, st, err);
			if (!r)
				r = hooks_run(s, CTW_HOOK_CREATE_RUNTIME, st, err);
			free(st);
			if (r)
				goto out_kill;
			sync_send(fd, SYNC_GO, pid, NULL, -1);
		} else if (m.type == SYNC_PTY) {
			if (c->o->console_socket) {
				r = oci_send_console(c->o->console_socket, got, err);
				close(got);
				if (r)
					goto out_kill;
			} else {
				c->master = got;
			}
		} else if (m.type == SYNC_READY) {
			return 0;
		}
	}
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

static void ctx_fini(struct create_ctx *c)
{
	ctw_spec_free(c->spec);
	free(c->config);
	seccomp_prog_free(c->prog);
	for (int i = 0; i < 2; i++)
		if (c->sync[i] >= 0)
			close(c->sync[i]);
	if (c->fifo >= 0)
		close(c->fifo);
	for (int i = 0; i < CTW_NS_MAX; i++)
		if (c->join[i] >= 0)
			close(c->join[i]);
	if (c->rootfd >= 0)
		close(c->rootfd);
	oci_ct_free(c->ct);
}

int ctw_oci_create(const struct ctw_oci_create_opts *o, int *pid, int *master, struct ctw_err *err)
{
	struct create_ctx c = {.o = o, .sync = {-1, -1}, .fifo = -1, .rootfd = -1, .master = -1};
	for (int i = 0; i < CTW_NS_MAX; i++)
		c.join[i] = -1;
	if (pid)
		*pid = 0;
	if (!ctw_exe_protected())
		return ctw_err_setx(err, EPERM,
				    "the ctrwatch binary is writable through /proc/self/exe: "
				    "call ctw_exe_protect() first");
	if (master)
		*master = -1;
	int r = load_bundle(&c, err);
	if (r)
		goto out;
	/* the runtime's default annotations: config.json's own win */
	for (size_t i = 0; i < o->n_annotations; i++) {
		const char *kv = o->annotations[i], *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			r = ctw_err_setx(err, EINVAL, "--annotation %s: not KEY=VALUE", kv);
			goto out;
		}
		char *key = xasprintf("%.*s", (int)(eq - kv), kv);
		if (!ctw_kvs_get(&c.spec->annotations, key))
			ctw_kvs_set(&c.spec->annotations, key, eq + 1);
		free(key);
	}
	c.rootfd = oci_root_open(o->root, true, err);
	if (c.rootfd < 0) {
		r = c.rootfd;
		goto out;
	}
	r = oci_ct_new(c.rootfd, o->id, &c.ct, err);
	if (r)
		goto out;
	struct oci_ct *ct = c.ct;
	ct->bundle = xstrdup(c.bundle);
	ct->rootfs = xstrdup(c.rootfs);
	ct->created_ns = ctw_realtime_ns();
	ct->creator_pid = getpid();
	ct->creator_start = proc_start_time(ct->creator_pid);
	ct->no_pivot = o->no_pivot;
	for (size_t i = 0; i < c.spec->annotations.n; i++)
		ctw_kvs_set(&ct->annotations, c.spec->annotations.v[i].key,
			    c.spec->annotations.v[i].value);
	char path[PATH_MAX];
	if ((r = ctw_spec_cgroups_path(c.spec->linux.cgroups_path, o->id, path, sizeof(path),
				       err)) ||
	    (r = cg_set_paths(&ct->cg, path, cg_ctrls_for(&c.spec->linux.resources), err)))
		goto out_remove;
	/* The paths are in the first state written: a create killed after it
	 * leaves what delete --force and gc find. */
	if ((r = oci_ct_save(ct, err)))
		goto out_remove;
	r = oci_write_at(ct->dirfd, "config.json", c.config, c.config_len, 0600);
	if (r) {
		ctw_err_set(err, -r, "keep config.json");
		goto out_remove;
	}
	if ((r = cg_set_create(&ct->cg, &c.spec->linux.resources, err)))
		goto out_remove;
	if ((r = oci_cg_plan(&c.cg_plan, ct->cg.v1, ct->cg.nv1, err)))
		goto out_cgroups;
	if (c.spec->linux.seccomp) {
		if ((r = seccomp_compile_spec(c.spec->linux.seccomp, &c.prog, err)))
			goto out_cgroups;
		c.sc_flags = seccomp_install_flags(c.spec->linux.seccomp->flags);
	}
	if (mkfifoat(ct->dirfd, "exec.fifo", 0600) < 0) {
		r = ctw_err_set(err, errno, "make exec.fifo");
		goto out_cgroups;
	}
	/* Read-write: opening it never blocks, and the init reading it is
	 * what start's write finds. */
	c.fifo = openat(ct->dirfd, "exec.fifo", O_RDWR | O_CLOEXEC);
	if (c.fifo < 0) {
		r = ctw_err_set(err, errno, "open exec.fifo");
		goto out_cgroups;
	}
	if ((r = launch(&c, err)))
		goto out_cgroups;
	/* Traced before anything runs: attached to the waiting init. */
	const char *trace = ctw_kvs_get(&c.spec->annotations, CTW_OCI_TRACE_ANNOTATION);
	const char *record = ctw_kvs_get(&c.spec->annotations, CTW_OCI_RECORD_ANNOTATION);
	if (trace || record) {
		char statedir[PATH_MAX];
		snprintf(statedir, sizeof(statedir), "%s/%s", o->root, o->id);
		if ((r = oci_trace_start(trace, record, ct->dirfd, statedir, c.pid, err))) {
			kill(c.pid, SIGKILL);
			waitpid(c.pid, NULL, 0);
			goto out_cgroups;
		}
	}
	ct->created_done = true;
	if ((r = oci_ct_save(ct, err)) ||
	    (o->pid_file && (r = oci_write_pid_file(o->pid_file, c.pid, err)))) {
		kill(c.pid, SIGKILL);
		waitpid(c.pid, NULL, 0);
		goto out_cgroups;
	}
	if (pid)
		*pid = c.pid;
	if (master)
		*master = c.master;
	else if (c.master >= 0)
		close(c.master);
	c.master = -1;
	goto out;

out_cgroups:
	cg_set_destroy(&ct->cg, true);
out_remove:
	oci_ct_remove(c.rootfd, ct);
out:
	if (c.master >= 0)
		close(c.master);
	ctx_fini(&c);
	return r;
}
