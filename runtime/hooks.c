// SPDX-License-Identifier: Apache-2.0
/*
 * OCI hooks: each runs as path with its args (args[0] is its argv[0]) and
 * only its own env, the container's state JSON on stdin (a memfd: a hook
 * that never reads cannot block us), its stdout and stderr captured, and
 * its timeout enforced with SIGKILL.  Where they run is the caller's
 * business: prestart, createRuntime, poststart and poststop in the
 * runtime's namespaces (create, start, delete), createContainer and
 * startContainer in the container's (its init, before pivot_root and
 * before exec).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>

#include "internal.h"

#define OUT_MAX 2048 /* of a hook's output kept for the message */

static int state_fd(const char *state)
{
	int fd = memfd_create("state", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(state);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, state + off, len - off);
		if (w < 0 && errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (w > 0)
			off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static __attribute__((noreturn)) void hook_child(const struct ctw_spec_hook *h, int in, int out)
{
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(CTW_EXIT_NOTFOUND);
	syscall(SYS_close_range, 3, ~0u, 0);
	char *argv0[] = {h->path, NULL};
	char *env0[] = {NULL};
	execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : env0);
	dprintf(STDERR_FILENO, "exec %s: %s", h->path, strerror(errno));
	_exit(CTW_EXIT_NOTFOUND);
}

/* Wait for pid, keeping what it prints (up to OUT_MAX), for at most
 * timeout_ms (< 0: forever).  Returns its wait status, or -ETIMEDOUT
 * (killed). */
static int wait_hook(pid_t pid, int out, int timeout_ms, char *buf, size_t size)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	size_t len = 0;
	uint64_t deadline = timeout_ms >= 0 ? ctw_now_ns() + (uint64_t)timeout_ms * 1000000 : 0;
	bool out_open = true;
	int status = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = out_open ? out : -1, .events = POLLIN},
				      {.fd = pfd, .events = POLLIN}};
		int wait_ms = -1;
		if (deadline) {
			uint64_t now = ctw_now_ns();
			wait_ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000) + 1;
		}
		int n = poll(p, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (deadline && ctw_now_ns() >= deadline && !(p[1].revents & POLLIN))) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			if (pfd >= 0)
				close(pfd);
			return -ETIMEDOUT;
		}
		if (out_open && (p[0].revents & (POLLIN | POLLHUP))) {
			char tmp[512];
			ssize_t r = read(out, tmp, sizeof(tmp));
			if (r <= 0) {
				out_open = false;
			} else {
				size_t k = (size_t)r < size - 1 - len ? (size_t)r : size - 1 - len;
				memcpy(buf + len, tmp, k);
				len += k;
			}
			continue;
		}
		if (pfd < 0 || (p[1].revents & POLLIN)) {
			/* exited: read what is left (its children may keep the
			 * pipe open: no waiting for them) */
			waitpid(pid, &status, 0);
			ssize_t r;
			while (out_open && len < size - 1 &&
			       (r = read(out, buf + len, size - 1 - len)) > 0)
				len += (size_t)r;
			break;
		}
	}
	if (pfd >= 0)
		close(pfd);
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return status;
}

static int run_one(const struct ctw_spec_hook *h, const char *kind, size_t idx, const char *state,
		   struct ctw_err *err)
{
	int in = state_fd(state), pipefd[2];
	if (in < 0)
		return ctw_err_set(err, -in, "%s hook #%zu: state", kind, idx);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		int e = errno;
		close(in);
		return ctw_err_set(err, e, "%s hook #%zu: pipe", kind, idx);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		hook_child(h, in, pipefd[1]);
	int e = errno;
	close(in);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return ctw_err_set(err, e, "%s hook #%zu (%s): fork", kind, idx, h->path);
	}
	/* Our own reads must not block the loop: the hook's children may hold
	 * the pipe after it exits. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	char out[OUT_MAX];
	int st = wait_hook(pid, pipefd[0], h->timeout.set ? (int)h->timeout.v * 1000 : -1, out,
			   sizeof(out));
	close(pipefd[0]);
	if (st == -ETIMEDOUT)
		return ctw_err_setx(err, ETIMEDOUT, "%s hook #%zu (%s) timed out after %llus%s%s",
				    kind, idx, h->path, (unsigned long long)h->timeout.v,
				    out[0] ? ": " : "", out);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char how[48];
	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(st));
	else
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(st));
	return ctw_err_setx(err, EIO, "%s hook #%zu (%s) failed: %s%s%s", kind, idx, h->path, how,
			    out[0] ? ": " : "", out);
}

int hooks_run(const struct ctw_spec *s, enum ctw_hook_kind kind, const char *state,
	      struct ctw_err *err)
{
	const struct ctw_spec_hooks *hs = &s->hooks[kind];
	for (size_t i = 0; i < hs->n; i++) {
		int r = run_one(&hs->v[i], ctw_hook_kind_name(kind), i, state, err);
		if (r)
			return r;
	}
	return 0;
}
