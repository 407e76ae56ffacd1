// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch exec`: a new process in a running container.  We join the
 * container's pid namespace for our children, clone3 the child straight into
 * its v2 cgroup (v1 dirs written before it runs), and the child joins the
 * other namespaces (mount last) and becomes the command through the same
 * process.c path as the container's own command: same capabilities,
 * no_new_privs and seccomp filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "internal.h"

static void env_merge(char ***env, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
	for (size_t i = 0; i < *n; i++) {
		if (!strncmp((*env)[i], kv, kl) && (*env)[i][kl] == '=') {
			free((*env)[i]);
			(*env)[i] = xstrdup(kv);
			return;
		}
	}
	*env = xrealloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = xstrdup(kv);
	(*env)[*n] = NULL;
}

int ctw_container_exec(const char *ref, const struct ctw_exec_opts *o, int *exit_code,
		       struct ctw_err *err)
{
	struct ctw_state s;
	int r, fds[7], sv[2] = {-1, -1}, cgfd = -1, sigfd = -1, master = -1, own_pidns = -1;
	struct sock_fprog *prog = NULL;
	char **env = NULL;
	size_t nenv = 0;
	sigset_t fwd, saved;
	bool blocked = false;

	*exit_code = CTW_EXIT_RUNTIME;
	r = ctw_state_find(ref, &s, err);
	if (r)
		return r;
	for (int i = 0; i < 7; i++)
		fds[i] = -1;
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
	for (char **p = s.env; p && *p; p++)
		env_merge(&env, &nenv, *p);
	for (char **p = o->env; p && *p; p++)
		env_merge(&env, &nenv, *p);
	if (o->tty)
		env_merge(&env, &nenv, "TERM=xterm");

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = ctw_err_set(err, errno, "socketpair");
		goto out;
	}
	cgfd = open(s.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		r = ctw_err_set(err, errno, "open %s", s.cgroup);
		goto out;
	}
	/* Our children are born in the container's pid namespace: this one
	 * only (see below). */
	own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own_pidns < 0) {
		r = ctw_err_set(err, errno, "open /proc/self/ns/pid");
		goto out;
	}
	if (setns(fds[4], CLONE_NEWPID) < 0) {
		r = ctw_err_set(err, errno, "join pid namespace of %s", ref);
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

	pid_t pid = clone_into_cgroup(0, cgfd);
	/* Back to our own pid namespace for any later child: one forked in
	 * the container's could not see us (LeakSanitizer's tracer, which it
	 * clones at exit to stop our threads, waited forever for a parent it
	 * cannot ptrace: the ASan build's exec hung after the command). */
	if (pid != 0 && setns(own_pidns, CLONE_NEWPID) < 0)
		pr_warn("exec: back to our pid namespace: %s", strerror(errno));
	if (pid == 0) {
		struct ctw_err e = {0};
		struct sync_msg m;
		close(sv[0]);
		close(own_pidns);
		if (sync_recv(sv[1], &m, NULL) != 1 || m.type != SYNC_GO)
			_exit(CTW_EXIT_RUNTIME);
		if (cg_enter_self(&s, &e) || ns_join(fds, true, &e)) {
			sync_send(sv[1], SYNC_ERR, CTW_EXIT_RUNTIME, &e, -1);
			_exit(CTW_EXIT_RUNTIME);
		}
		int slave = -1;
		if (o->tty) {
			int mfd;
			if (pty_open(&mfd, &slave, &e)) {
				sync_send(sv[1], SYNC_ERR, CTW_EXIT_RUNTIME, &e, -1);
				_exit(CTW_EXIT_RUNTIME);
			}
			sync_send(sv[1], SYNC_PTY, 0, NULL, mfd);
			close(mfd);
			/* Wait until the parent has set the window size. */
			if (sync_recv(sv[1], &m, NULL) != 1 || m.type != SYNC_GO)
				_exit(CTW_EXIT_RUNTIME);
		} else {
			if (!o->interactive) {
				int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
				if (nul >= 0)
					dup2(nul, STDIN_FILENO);
			}
			setsid();
		}
		sigprocmask(SIG_SETMASK, &saved, NULL);
		struct proc_spec ps = {
			.argv = o->argv,
			.env = env,
			.workdir = o->workdir ? o->workdir : s.workdir,
			.user = o->user ? o->user : s.user,
			.caps = s.caps,
			.no_new_privs = s.no_new_privs,
			.seccomp = prog,
			.tty_slave = slave,
			.sync_fd = sv[1],
		};
		proc_exec(&ps);
	}
	close(sv[1]);
	sv[1] = -1;
	if (pid < 0) {
		r = ctw_err_set(err, errno, "clone into %s", s.cgroup);
		goto out;
	}
	sync_send(sv[0], SYNC_GO, 0, NULL, -1);
	for (;;) {
		struct sync_msg m;
		int got;
		int rr = sync_recv(sv[0], &m, &got);
		if (rr == 1 && m.type == SYNC_PTY) {
			master = got;
			/* The size before the command runs (it may ask at once). */
			if (isatty(STDIN_FILENO))
				tty_copy_winsize(STDIN_FILENO, master);
			sync_send(sv[0], SYNC_GO, 0, NULL, -1);
			continue;
		}
		if (rr == 1 && m.type == SYNC_ERR) {
			*err = m.err;
			*exit_code = m.status;
			waitpid(pid, NULL, 0);
			r = err->code ? -err->code : -EIO;
			goto out;
		}
		break; /* EOF: exec'd */
	}
	bool raw = master >= 0 && isatty(STDIN_FILENO);
	if (raw)
		tty_raw(STDIN_FILENO, true);
	int ws = 0;
	relay_run(master, o->interactive, pid, pid, sigfd, NULL, &ws);
	if (raw)
		tty_raw(STDIN_FILENO, false);
	*exit_code = wait_status_to_exit(ws);
	r = 0;
out:
	if (master >= 0)
		close(master);
	if (sigfd >= 0)
		close(sigfd);
	if (blocked)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (cgfd >= 0)
		close(cgfd);
	if (own_pidns >= 0)
		close(own_pidns);
	for (int i = 0; i < 7; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	seccomp_prog_free(prog);
	ctw_strv_free(env);
	ctw_state_fini(&s);
	return r;
}
