// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch exec`: a new process in a running container, through a helper
 * that the container never sees:
 *
 *   ctrwatch exec (host)
 *     └ helper: cloned into the container's v2 cgroup, in the host's pid
 *       namespace; not dumpable; joins the v1 cgroups, then every namespace
 *       of the container (mount last), closes every fd but stdio and the
 *       sync socket, and clones the command's process with CLONE_PARENT
 *       (our child, not its own) into the container's pid namespace; sends
 *       us its pid and exits.
 *     └ the process: born in the container's namespaces with nothing of
 *       the host (runc CVE-2024-21626: a process visible in the container
 *       while it held a host directory fd, and still dumpable, let the
 *       container walk `..` from /proc/PID/fd/N to the host's root), it
 *       becomes the command through the same process.c path as the
 *       container's own: same capabilities, no_new_privs and seccomp filter.
 *
 * Until the command runs, a stop signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT)
 * ends the exec, whatever the process is stuck on.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>

#include "internal.h"

struct exec_ctx {
	const struct ctw_exec_opts *o;
	const struct ctw_state *s;
	const int *nsfds;
	char **env;
	const struct sock_fprog *prog;
	int sync; /* the helper's end */
};

static __attribute__((noreturn)) void exec_fail(int fd, struct ctw_err *e)
{
	sync_send(fd, SYNC_ERR, CTW_EXIT_RUNTIME, e, -1);
	_exit(CTW_EXIT_RUNTIME);
}

/* The process in the container: a pty when asked, then the command. */
static __attribute__((noreturn)) void exec_process(const struct exec_ctx *x, int fd)
{
	const struct ctw_exec_opts *o = x->o;
	struct ctw_err e = {0};
	struct sync_msg m;
	int slave = -1;
	if (o->tty) {
		int mfd;
		if (pty_open(&mfd, &slave, &e))
			exec_fail(fd, &e);
		sync_send(fd, SYNC_PTY, 0, NULL, mfd);
		close(mfd);
		/* Wait until the parent has set the window size. */
		if (sync_recv(fd, &m, NULL) != 1 || m.type != SYNC_GO)
			_exit(CTW_EXIT_RUNTIME);
	} else {
		setsid();
	}
	struct proc_spec ps = {
		.argv = o->argv,
		.env = x->env,
		.workdir = o->workdir ? o->workdir : x->s->workdir,
		.user = o->user ? o->user : x->s->user,
		.caps = x->s->caps,
		.no_new_privs = x->s->no_new_privs,
		.seccomp = x->prog,
		.tty_slave = slave,
		.sync_fd = fd,
		.stub_fd = -1, /* we run from a read-only copy (exe.c) */
		.ready_fd = -1,
	};
	proc_exec(&ps);
}

static __attribute__((noreturn)) void exec_helper(const struct exec_ctx *x, const sigset_t *saved)
{
	struct ctw_err e = {0};
	int fd = x->sync;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* stdin: the host's /dev/null, opened here (the container's /dev/null
	 * is the container's: it may be a FIFO). */
	if (!x->o->interactive && !x->o->tty) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, STDIN_FILENO);
			close(nul);
		}
	}
	if (cg_enter_self(x->s, &e) || ns_join(x->nsfds, false, &e))
		exec_fail(fd, &e);
	/* Only stdio and the sync socket (as fd 3) cross into the container. */
	if (fd != 3 && (dup3(fd, 3, O_CLOEXEC) < 0 || (fd > 3 && close(fd) < 0)))
		_exit(CTW_EXIT_RUNTIME);
	fd = 3;
	syscall(SYS_close_range, 4, ~0u, 0);
	struct clone_args args = {.flags = CLONE_PARENT};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, saved, NULL);
		exec_process(x, fd);
	}
	if (pid < 0) {
		ctw_err_set(&e, errno, "start a process in the container");
		exec_fail(fd, &e);
	}
	sync_send(fd, SYNC_PID, pid, NULL, -1);
	_exit(0);
}

int ctw_container_exec(const char *ref, const struct ctw_exec_opts *o, int *exit_code,
		       struct ctw_err *err)
{
	struct ctw_state s;
	int r, fds[7], sv[2] = {-1, -1}, cgfd = -1, sigfd = -1, stopfd = -1, master = -1;
	struct sock_fprog *prog = NULL;
	struct envb eb;
	char **env = NULL;
	sigset_t fwd, saved;
	bool blocked = false;
	pid_t helper = -1, pid = -1;

	*exit_code = CTW_EXIT_RUNTIME;
	if (!ctw_exe_protected())
		return ctw_err_setx(err, EPERM,
				    "the ctrwatch binary is writable through /proc/self/exe: "
				    "call ctw_exe_protect() before exec");
	r = ctw_state_find(ref, &s, err);
	if (r)
		return r;
	for (int i = 0; i < 7; i++)
		fds[i] = -1;
	envb_init(&eb);
	if (!ctw_state_init_alive(&s)) {
		r = ctw_err_setx(err, ESRCH, "container %s is not running", ref);
		goto out;
	}
	r = ns_open_all(s.pid, fds, err);
	if (r)
		goto out;
	if (strcmp(s.seccomp, "unconfined")) {
		r = seccomp_compile(s.seccomp[0] ? s.seccomp : NULL, s.caps, &prog, err);
		if (r)
			goto out;
	}
	for (char **p = s.env; !r && p && *p; p++)
		r = envb_set(&eb, *p, err);
	for (char **p = o->env; !r && p && *p; p++)
		r = envb_set(&eb, *p, err);
	if (!r && o->tty)
		r = envb_set(&eb, "TERM=xterm", err);
	env = envb_steal(&eb);
	if (r)
		goto out;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = ctw_err_set(err, errno, "socketpair");
		goto out;
	}
	cgfd = open(s.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		r = ctw_err_set(err, errno, "open %s", s.cgroup);
		goto out;
	}
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
	stopfd = stop_signals_fd();

	struct exec_ctx x = {
		.o = o, .s = &s, .nsfds = fds, .env = env, .prog = prog, .sync = sv[1]};
	helper = clone_into_cgroup(0, cgfd);
	if (helper == 0) {
		close(sv[0]);
		exec_helper(&x, &saved);
	}
	close(sv[1]);
	sv[1] = -1;
	if (helper < 0) {
		r = ctw_err_set(err, errno, "clone into %s", s.cgroup);
		goto out;
	}
	int sig = 0;
	bool failed = false;
	for (;;) {
		struct sync_msg m;
		int got;
		int rr = sync_recv_stoppable(sv[0], stopfd, &m, &got, &sig);
		if (rr == -EINTR) {
			r = ctw_err_setx(err, EINTR,
					 "interrupted by SIG%s while the process was starting",
					 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
			*exit_code = 128 + sig;
			goto out;
		}
		if (rr == 1 && m.type == SYNC_PID) {
			pid = m.status;
			waitpid(helper, NULL, 0);
			helper = -1;
			continue;
		}
		if (rr == 1 && m.type == SYNC_PTY) {
			master = got;
			/* The size before the command runs (it may ask at once). */
			if (isatty(STDIN_FILENO))
				tty_copy_winsize(STDIN_FILENO, master);
			sync_send(sv[0], SYNC_GO, 0, NULL, -1);
			continue;
		}
		if (rr == 1 && m.type == SYNC_ERR) {
			/* Until EOF: the helper's pid may come after the
			 * process's error. */
			*err = m.err;
			*exit_code = m.status;
			failed = true;
			continue;
		}
		break; /* EOF: exec'd, or failed */
	}
	if (failed) {
		r = err->code ? -err->code : -EIO;
		goto out;
	}
	if (pid <= 0) {
		r = ctw_err_setx(err, EIO, "the exec helper died before it started the process");
		goto out;
	}
	close(stopfd);
	stopfd = -1;
	bool raw = master >= 0 && isatty(STDIN_FILENO);
	if (raw)
		tty_raw(STDIN_FILENO, true);
	int ws = 0;
	relay_run(master, o->interactive, pid, pid, sigfd, NULL, &ws);
	pid = -1;
	if (raw)
		tty_raw(STDIN_FILENO, false);
	*exit_code = wait_status_to_exit(ws);
	r = 0;
out:
	/* A start that failed or was stopped: nothing of it stays. */
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (helper > 0) {
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
	}
	if (master >= 0)
		close(master);
	if (stopfd >= 0)
		close(stopfd);
	if (sigfd >= 0)
		close(sigfd);
	if (blocked)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (cgfd >= 0)
		close(cgfd);
	for (int i = 0; i < 7; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	seccomp_prog_free(prog);
	ctw_strv_free(env);
	envb_fini(&eb);
	ctw_state_fini(&s);
	return r;
}
