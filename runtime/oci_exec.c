// SPDX-License-Identifier: Apache-2.0
/*
 * `exec`: a new process in a container of the OCI commands.  We join its
 * pid namespace for our children and clone3 the child straight into its v2
 * cgroup; the child writes the v1 ones, joins the other namespaces of the
 * init (user first, mount last), and becomes the process through the same
 * last steps as the container's own (oci_process.c: user, capabilities,
 * rlimits, labels, no_new_privs, the container's seccomp filter).  The
 * process is the caller's to describe (--process, or the container's own
 * process with the flags applied: cli/oci_exec.c).  Detached, we return
 * once it runs (its parent becomes the caller's subreaper, a shim or
 * conmon); in the foreground we wait, relaying the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

struct exec_ctx {
	const struct ctw_oci_exec_opts *o;
	struct oci_ct *ct;
	struct ctw_spec *spec;
	struct sock_fprog *prog;
	unsigned sc_flags;
	int ns[CTW_NS_MAX];
	int sync[2];
	int rootfd;
};

/* user first (it owns the others), mount last (paths resolve until then);
 * pid is joined by the parent for its children. */
static const enum ctw_ns_type join_order[] = {CTW_NS_USER,    CTW_NS_IPC,    CTW_NS_UTS,
					      CTW_NS_NETWORK, CTW_NS_CGROUP, CTW_NS_MOUNT};

static __attribute__((noreturn)) void exec_child(struct exec_ctx *x)
{
	int fd = x->sync[1];
	struct ctw_err err = {0};
	int slave = -1;
	/* Nobody in the container may ptrace us or open our /proc files
	 * (/proc/PID/exe: our binary) until the execve. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close(x->sync[0]);
	close(x->ct->dirfd);
	close(x->rootfd);
	if (cg_set_enter_self(&x->ct->cg, &err))
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(join_order); i++) {
		enum ctw_ns_type t = join_order[i];
		if (x->ns[t] < 0)
			continue;
		if (setns(x->ns[t], ctw_ns_flag(t)) < 0) {
			ctw_err_set(&err, errno, "join the container's %s namespace",
				    ctw_ns_name(t));
			goto fail;
		}
		if (t == CTW_NS_USER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
			ctw_err_set(&err, errno, "become root in the container's user namespace");
			goto fail;
		}
	}
	if (chdir("/") < 0) {
		ctw_err_set(&err, errno, "chdir /");
		goto fail;
	}
	if (x->o->process->terminal) {
		int master;
		if (pty_open(&master, &slave, &err))
			goto fail;
		const struct ctw_spec_process *p = x->o->process;
		if (p->console_height.set || p->console_width.set) {
			struct winsize ws = {.ws_row = (unsigned short)p->console_height.v,
					     .ws_col = (unsigned short)p->console_width.v};
			ioctl(master, TIOCSWINSZ, &ws);
		}
		sync_send(fd, SYNC_PTY, 0, NULL, master);
		close(master);
	}
	struct oci_proc op = {
		.p = x->o->process,
		.seccomp = x->prog,
		.seccomp_flags = x->sc_flags,
		.personality_set = x->spec->linux.personality_set,
		.personality = x->spec->linux.personality,
		.tty_slave = slave,
		.sync_fd = fd,
		.preserve_fds = x->o->preserve_fds,
		.userns = x->ns[CTW_NS_USER] >= 0,
	};
	if (oci_proc_rlimits(&op, &err))
		goto fail;
	if (oci_proc_prepare(&op, &err)) {
		sync_send(fd, SYNC_ERR, err.code == ENOENT ? CTW_EXIT_NOTFOUND : CTW_EXIT_NOEXEC,
			  &err, -1);
		_exit(CTW_EXIT_RUNTIME);
	}
	/* Our socket closes on exec: the parent's EOF says it ran. */
	oci_proc_exec(&op);
fail:
	sync_send(fd, SYNC_ERR, CTW_EXIT_RUNTIME, &err, -1);
	_exit(CTW_EXIT_RUNTIME);
}

static int open_namespaces(struct exec_ctx *x, struct ctw_err *err)
{
	for (size_t i = 0; i < x->spec->linux.n_namespaces; i++) {
		enum ctw_ns_type t = x->spec->linux.namespaces[i].type;
		if (t == CTW_NS_TIME)
			continue;
		char path[64];
		static const char *const files[CTW_NS_MAX] = {
			[CTW_NS_PID] = "pid",	    [CTW_NS_NETWORK] = "net",
			[CTW_NS_MOUNT] = "mnt",	    [CTW_NS_IPC] = "ipc",
			[CTW_NS_UTS] = "uts",	    [CTW_NS_USER] = "user",
			[CTW_NS_CGROUP] = "cgroup",
		};
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", x->ct->pid, files[t]);
		x->ns[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (x->ns[t] < 0)
			return ctw_err_set(err, errno, "open %s", path);
	}
	return 0;
}

static int run_exec(struct exec_ctx *x, int *exit_code, struct ctw_err *err)
{
	const struct ctw_oci_exec_opts *o = x->o;
	int r, master = -1, sigfd = -1;
	sigset_t fwd, saved;
	bool blocked = false;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->sync) < 0)
		return ctw_err_set(err, errno, "socketpair");
	int cgfd = open(x->ct->cg.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return ctw_err_set(err, errno, "open %s", x->ct->cg.v2);
	int own_pid = -1;
	if (x->ns[CTW_NS_PID] >= 0) {
		own_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own_pid < 0 || setns(x->ns[CTW_NS_PID], CLONE_NEWPID) < 0) {
			r = ctw_err_set(err, errno, "join the container's pid namespace");
			goto out;
		}
	}
	if (!o->detach) {
		sigemptyset(&fwd);
		static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT,  SIGHUP,
					   SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
			sigaddset(&fwd, sigs[i]);
			signal(sigs[i], SIG_DFL);
		}
		sigprocmask(SIG_BLOCK, &fwd, &saved);
		blocked = true;
		sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	}
	pid_t pid = clone_into_cgroup(0, cgfd);
	if (pid == 0) {
		if (blocked)
			sigprocmask(SIG_SETMASK, &saved, NULL);
		exec_child(x);
	}
	int e = errno;
	/* Back to our own pid namespace for any later child. */
	if (own_pid >= 0 && setns(own_pid, CLONE_NEWPID) < 0)
		pr_warn("exec: back to our pid namespace: %s", strerror(errno));
	close(x->sync[1]);
	x->sync[1] = -1;
	if (pid < 0) {
		r = ctw_err_set(err, e, "clone into %s", x->ct->cg.v2);
		goto out;
	}
	for (;;) {
		struct sync_msg m;
		int got;
		int rr = sync_recv(x->sync[0], &m, &got);
		if (rr == 1 && m.type == SYNC_PTY) {
			if (o->console_socket) {
				r = oci_send_console(o->console_socket, got, err);
				close(got);
				if (r) {
					kill(pid, SIGKILL);
					waitpid(pid, NULL, 0);
					goto out;
				}
			} else {
				master = got;
				if (isatty(STDIN_FILENO))
					tty_copy_winsize(STDIN_FILENO, master);
			}
			continue;
		}
		if (rr == 1 && m.type == SYNC_ERR) {
			*err = m.err;
			*exit_code = m.status;
			waitpid(pid, NULL, 0);
			r = err->code ? -err->code : -EIO;
			goto out;
		}
		break; /* EOF: it runs */
	}
	if (o->pid_file && (r = oci_write_pid_file(o->pid_file, pid, err))) {
		kill(pid, SIGKILL);
		if (!o->detach)
			waitpid(pid, NULL, 0);
		goto out;
	}
	r = 0;
	if (o->detach) {
		*exit_code = 0;
		goto out;
	}
	bool raw = master >= 0 && isatty(STDIN_FILENO);
	if (raw)
		tty_raw(STDIN_FILENO, true);
	int ws = 0;
	relay_run(master, true, pid, pid, sigfd, NULL, &ws);
	if (raw)
		tty_raw(STDIN_FILENO, false);
	*exit_code = wait_status_to_exit(ws);
out:
	if (master >= 0)
		close(master);
	if (sigfd >= 0)
		close(sigfd);
	if (blocked)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	if (own_pid >= 0)
		close(own_pid);
	close(cgfd);
	return r;
}

int ctw_oci_exec(const struct ctw_oci_exec_opts *o, int *exit_code, struct ctw_err *err)
{
	struct exec_ctx x = {.o = o, .sync = {-1, -1}, .rootfd = -1};
	for (int i = 0; i < CTW_NS_MAX; i++)
		x.ns[i] = -1;
	*exit_code = CTW_EXIT_RUNTIME;
	int r;
	if (!ctw_exe_protected())
		return ctw_err_setx(err, EPERM,
				    "the ctrwatch binary is writable through /proc/self/exe: "
				    "call ctw_exe_protect() first");
	x.rootfd = oci_root_open(o->root, false, err);
	if (x.rootfd == -ENOENT)
		return ctw_err_setx(err, ENOENT, "container %s does not exist", o->id);
	if (x.rootfd < 0)
		return x.rootfd;
	if ((r = oci_ct_open(x.rootfd, o->id, false, &x.ct, err)))
		goto out;
	enum ctw_oci_status st = oci_ct_status(x.ct);
	if (st != CTW_OCI_RUNNING && st != CTW_OCI_CREATED) {
		r = ctw_err_setx(err, EINVAL, "cannot exec in container %s: it is %s", o->id,
				 ctw_oci_status_name(st));
		goto out;
	}
	if (o->process->terminal && o->detach && !o->console_socket) {
		r = ctw_err_setx(err, EINVAL,
				 "a terminal for a detached process needs --console-socket");
		goto out;
	}
	if (!(x.spec = oci_ct_spec(x.ct, err))) {
		r = -EINVAL;
		goto out;
	}
	if (x.spec->linux.seccomp) {
		if ((r = seccomp_compile_spec(x.spec->linux.seccomp, &x.prog, err)))
			goto out;
		x.sc_flags = seccomp_install_flags(x.spec->linux.seccomp->flags);
	}
	if ((r = open_namespaces(&x, err)))
		goto out;
	/* The init may have gone while we opened its namespaces. */
	if (!oci_pid_alive(x.ct->pid, x.ct->pid_start)) {
		r = ctw_err_setx(err, ESRCH, "container %s is not running", o->id);
		goto out;
	}
	r = run_exec(&x, exit_code, err);
out:
	for (int i = 0; i < CTW_NS_MAX; i++)
		if (x.ns[i] >= 0)
			close(x.ns[i]);
	for (int i = 0; i < 2; i++)
		if (x.sync[i] >= 0)
			close(x.sync[i]);
	seccomp_prog_free(x.prog);
	ctw_spec_free(x.spec);
	oci_ct_free(x.ct);
	if (x.rootfd >= 0)
		close(x.rootfd);
	return r;
}

int ctw_oci_process_of(const char *root, const char *id, struct ctw_spec_process **out,
		       struct ctw_err *err)
{
	*out = NULL;
	int rootfd = oci_root_open(root, false, err);
	if (rootfd == -ENOENT)
		return ctw_err_setx(err, ENOENT, "container %s does not exist", id);
	if (rootfd < 0)
		return rootfd;
	struct oci_ct *ct;
	int r = oci_ct_open(rootfd, id, false, &ct, err);
	if (!r) {
		struct ctw_spec *s = oci_ct_spec(ct, err);
		if (!s) {
			r = -EINVAL;
		} else {
			*out = s->process;
			s->process = NULL;
			ctw_spec_free(s);
		}
		oci_ct_free(ct);
	}
	close(rootfd);
	return r;
}
