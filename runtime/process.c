// SPDX-License-Identifier: Apache-2.0
/*
 * The last steps before the user's command, shared by `run` and `exec`:
 * stdio and controlling terminal, working directory, user and groups
 * (resolved in the container's own /etc/passwd and /etc/group), the five
 * capability sets, no_new_privs, seccomp, then execvp with the container's
 * PATH (through ctrwatch-stub the seccomp filter goes on in the stub, right
 * before the command's execve: nothing of ours runs under it).  Failures go to the sync socket; the exit code says which (126 not
 * executable, 127 not found, 125 anything else).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <linux/close_range.h>

#include "internal.h"
#include "stub/stub.h"

extern char **environ;

static __attribute__((noreturn)) void fail(const struct proc_spec *p, int status,
					   struct ctw_err *err)
{
	if (p->sync_fd >= 0)
		sync_send(p->sync_fd, SYNC_ERR, status, err, -1);
	else
		fprintf(stderr, "ctrwatch: %s\n", err->msg);
	_exit(status);
}

static bool env_has(char **env, const char *key)
{
	size_t kl = strlen(key);
	for (; env && *env; env++)
		if (!strncmp(*env, key, kl) && (*env)[kl] == '=')
			return true;
	return false;
}

/* Is the first component of path, once "." and ".." are applied, proc? */
static bool lexically_in_proc(const char *path)
{
	int depth = 0;
	bool proc = false;
	for (const char *p = path; *p;) {
		p += strspn(p, "/");
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			depth = depth ? depth - 1 : 0;
		} else if (n && !(n == 1 && *p == '.')) {
			if (depth == 0)
				proc = n == 4 && !strncmp(p, "proc", 4);
			depth++;
		}
		p += n;
	}
	return proc && depth > 0;
}

/*
 * The working directory (the image's WorkingDir, `run -w`, `exec -w`): the
 * container's, so resolved inside its root (RESOLVE_IN_ROOT: ".." and
 * absolute symlinks stop at the root; magic links such as /proc/self/fd/N,
 * which name whatever fd we hold, are refused), never on /proc, and checked
 * to be below the root once we are in it.  Docker makes a missing one
 * (owned by the user).
 */
static int enter_workdir(int rootfd, const char *wd, uid_t uid, gid_t gid, struct ctw_err *err)
{
	if (lexically_in_proc(wd))
		return ctw_err_setx(err, EPERM, "working directory `%s` is in /proc: refused", wd);
	int fd = ctw_open_in_root(rootfd, wd, O_PATH | O_DIRECTORY);
	bool made = false;
	if (fd == -ENOENT) {
		int r = root_mkdir_p(rootfd, wd, err);
		if (r)
			return ctw_err_prefix(err, "working directory `%s`", wd);
		fd = ctw_open_in_root(rootfd, wd, O_PATH | O_DIRECTORY);
		made = true;
	}
	if (fd == -ELOOP)
		return ctw_err_setx(err, ELOOP,
				    "working directory `%s`: refused (a magic link such as "
				    "/proc/self/fd/N, or too many symlinks)",
				    wd);
	if (fd < 0)
		return ctw_err_set(err, -fd, "working directory `%s`", wd);
	struct statfs sf;
	int r = 0;
	if (fstatfs(fd, &sf) < 0)
		r = ctw_err_set(err, errno, "working directory `%s`", wd);
	else if (sf.f_type == PROC_SUPER_MAGIC)
		r = ctw_err_setx(err, EPERM, "working directory `%s` is in /proc: refused", wd);
	else if (fchdir(fd) < 0)
		r = ctw_err_set(err, errno, "working directory `%s`", wd);
	if (!r && made && uid && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		pr_debug("chown %s: %s", wd, strerror(errno));
	close(fd);
	if (r)
		return r;
	/* Below our root: getcwd names it from there ("(unreachable)..." or
	 * ENOENT when it is not). */
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		return ctw_err_setx(err, EPERM, "working directory `%s` is outside the container",
				    wd);
	return 0;
}

/* The command's file as execvp finds it: NAME with a '/' as it is, else
 * the first executable regular file NAME in a directory of PATH.  NULL
 * (err set: 127 not found, 126 not executable) when there is none. */
static char *find_command(const char *name, char **env, int *status, struct ctw_err *err)
{
	struct stat st;
	if (strchr(name, '/')) {
		if (stat(name, &st) == 0 || errno != ENOENT)
			return xstrdup(name); /* what else is wrong, execve says */
		*status = CTW_EXIT_NOTFOUND;
		ctw_err_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
		return NULL;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	bool denied = false;
	for (const char *d = path;; d++) {
		size_t n = strcspn(d, ":");
		char *cand = xasprintf("%.*s%s%s", (int)n, n ? d : ".", "/", name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			denied = true;
		}
		free(cand);
		d += n;
		if (!*d)
			break;
	}
	if (denied) {
		*status = CTW_EXIT_NOEXEC;
		ctw_err_setx(err, EACCES, "exec: \"%s\": permission denied", name);
	} else {
		*status = CTW_EXIT_NOTFOUND;
		ctw_err_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
	}
	return NULL;
}

/* The seccomp program for ctrwatch-stub (stub.h): a memfd that crosses
 * the execveat; -1 without one. */
static int stub_seccomp_fd(const struct sock_fprog *prog, struct ctw_err *err)
{
	if (!prog)
		return -1;
	if (prog->len > STUB_SECCOMP_MAX)
		return ctw_err_setx(err, E2BIG, "seccomp program of %u instructions: at most %d",
				    (unsigned)prog->len, STUB_SECCOMP_MAX);
	int fd = memfd_create("ctrwatch-seccomp", 0);
	if (fd < 0)
		return ctw_err_set(err, errno, "memfd_create");
	struct stub_seccomp h = {.flags = 0, .len = prog->len};
	size_t len = prog->len * sizeof(*prog->filter);
	errno = 0;
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    write(fd, prog->filter, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
		int e = errno ? errno : EIO;
		close(fd);
		return ctw_err_set(err, e, "write the seccomp program");
	}
	return fd;
}

/* The last step: execveat of ctrwatch-stub (stub.h), which waits for the
 * init to be ctrwatch-init, installs the seccomp filter (when not NULL)
 * and execs the command, so that at no time does a process of the
 * container run our own binary, and nothing but the command's execve runs
 * under its filter: the command's path is found here, before. */
static __attribute__((noreturn)) void exec_through_stub(const struct proc_spec *p, char **env,
							const struct sock_fprog *seccomp,
							struct ctw_err *err)
{
	int status = CTW_EXIT_NOTFOUND;
	char *path = find_command(p->argv[0], env, &status, err);
	if (!path)
		fail(p, status, err);
	int sc = stub_seccomp_fd(seccomp, err);
	if (seccomp && sc < 0)
		fail(p, CTW_EXIT_RUNTIME, err);
	size_t n = 0;
	while (p->argv[n])
		n++;
	char **argv = xcalloc(n + 6, sizeof(char *));
	char ready[16], sync[16], scs[16];
	snprintf(ready, sizeof(ready), "%d", p->ready_fd);
	snprintf(sync, sizeof(sync), "%d", p->sync_fd);
	snprintf(scs, sizeof(scs), "%d", sc);
	argv[0] = STUB_EXEC_NAME;
	argv[1] = ready;
	argv[2] = sync;
	argv[3] = scs;
	argv[4] = path;
	for (size_t i = 0; i < n; i++)
		argv[5 + i] = p->argv[i];
	/* These two cross into the stub; it makes sync close-on-exec again. */
	if ((p->ready_fd >= 0 && fcntl(p->ready_fd, F_SETFD, 0) < 0) ||
	    (p->sync_fd >= 0 && fcntl(p->sync_fd, F_SETFD, 0) < 0)) {
		ctw_err_set(err, errno, "keep fds for the command");
		fail(p, CTW_EXIT_RUNTIME, err);
	}
	syscall(SYS_execveat, p->stub_fd, "", argv, env, AT_EMPTY_PATH);
	int e = errno;
	if (p->sync_fd >= 0)
		fcntl(p->sync_fd, F_SETFD, FD_CLOEXEC);
	ctw_err_set(err, e, "exec ctrwatch-stub for \"%s\"", p->argv[0]);
	fail(p, CTW_EXIT_RUNTIME, err);
}

void proc_exec(const struct proc_spec *p)
{
	struct ctw_err err = {0};

	/* The command starts with default dispositions, whatever the caller
	 * of ctrwatch ignored (a background shell ignores SIGINT). */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);

	if (p->tty_slave >= 0) {
		setsid();
		if (ioctl(p->tty_slave, TIOCSCTTY, 0) < 0) {
			ctw_err_set(&err, errno, "set controlling terminal");
			fail(p, CTW_EXIT_RUNTIME, &err);
		}
		for (int i = 0; i < 3; i++)
			dup2(p->tty_slave, i);
		if (p->tty_slave > 2)
			close(p->tty_slave);
	}

	/* Everything below is the container's, resolved inside its root: "/"
	 * is it now (after pivot_root in `run`, setns in `exec`). */
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		ctw_err_set(&err, errno, "open the container's root");
		fail(p, CTW_EXIT_RUNTIME, &err);
	}
	struct user_ids u;
	if (passwd_resolve_user(rootfd, p->user, &u, &err) ||
	    enter_workdir(rootfd, p->workdir && *p->workdir ? p->workdir : "/", u.uid, u.gid, &err))
		fail(p, CTW_EXIT_RUNTIME, &err);
	close(rootfd);
	uid_t uid = u.uid;
	gid_t gid = u.gid;
	const char *home = u.home;

	/* HOME from passwd unless the environment has one. */
	char **env = p->env;
	size_t n = 0;
	while (env && env[n])
		n++;
	char **full = xcalloc(n + 3, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		full[i] = env[i];
	if (!env_has(env, "HOME"))
		full[n++] = xasprintf("HOME=%s", home ? home : "/");
	if (!env_has(env, "PATH"))
		full[n++] = xstrdup(
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

	if (caps_drop_bounding(p->caps, &err))
		fail(p, CTW_EXIT_RUNTIME, &err);
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it
	 * while we still have it (runc does the same). */
	if (!p->no_new_privs && seccomp_install(p->seccomp, &err))
		fail(p, CTW_EXIT_RUNTIME, &err);
	if (setgroups(u.ngroups, u.groups) < 0) {
		ctw_err_set(&err, errno, "setgroups");
		fail(p, CTW_EXIT_RUNTIME, &err);
	}
	if (setresgid(gid, gid, gid) < 0) {
		ctw_err_set(&err, errno, "setgid %u", (unsigned)gid);
		fail(p, CTW_EXIT_RUNTIME, &err);
	}
	/* For uid != 0 the kernel clears permitted, effective and ambient:
	 * Docker's non-root processes run with no capabilities but the
	 * bounding set. */
	if (setresuid(uid, uid, uid) < 0) {
		ctw_err_set(&err, errno, "setuid %u", (unsigned)uid);
		fail(p, CTW_EXIT_RUNTIME, &err);
	}
	if (uid == 0 && caps_set(p->caps, &err))
		fail(p, CTW_EXIT_RUNTIME, &err);
	if (p->no_new_privs) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			ctw_err_set(&err, errno, "set no_new_privs");
			fail(p, CTW_EXIT_RUNTIME, &err);
		}
		/* Through ctrwatch-stub the filter goes on right before the
		 * command's execve (as runc installs it last). */
		if (p->stub_fd < 0 && seccomp_install(p->seccomp, &err))
			fail(p, CTW_EXIT_RUNTIME, &err);
	}

	/* Nothing of the caller's crosses into the container: every fd above
	 * stdio closes on exec (an inherited directory fd is an escape). */
	syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
	environ = full;
	if (p->stub_fd >= 0)
		exec_through_stub(p, full, p->no_new_privs ? p->seccomp : NULL, &err);
	execvp(p->argv[0], p->argv);
	int e = errno;
	if (e == ENOENT || e == ENOTDIR) {
		ctw_err_setx(&err, e, "exec: \"%s\": executable file not found in $PATH",
			     p->argv[0]);
		fail(p, CTW_EXIT_NOTFOUND, &err);
	}
	ctw_err_set(&err, e, "exec: \"%s\"", p->argv[0]);
	fail(p, CTW_EXIT_NOEXEC, &err);
}
