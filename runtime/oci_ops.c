// SPDX-License-Identifier: Apache-2.0
/*
 * The OCI operations after create: start, kill, delete, state, list, ps,
 * pause/resume, update, stats, run (create + start, and in the foreground
 * wait and delete), and what `ctrwatch gc` removes.  The commands that
 * change a container hold its lock (oci_state.c); kill does not (it must
 * reach a container whose start is still running its hooks).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

static int open_ct(const char *root, const char *id, bool lock, int *rootfd, struct oci_ct **ct,
		   struct ctw_err *err)
{
	*ct = NULL;
	*rootfd = oci_root_open(root, false, err);
	if (*rootfd == -ENOENT)
		return ctw_err_setx(err, ENOENT, "container %s does not exist", id);
	if (*rootfd < 0)
		return *rootfd;
	int r = oci_ct_open(*rootfd, id, lock, ct, err);
	if (r) {
		close(*rootfd);
		*rootfd = -1;
	}
	return r;
}

static void close_ct(int rootfd, struct oci_ct *ct)
{
	oci_ct_free(ct);
	if (rootfd >= 0)
		close(rootfd);
}

static char *ct_hook_state(const struct oci_ct *ct, enum ctw_oci_status st)
{
	struct ctw_oci_state s = {
		.id = ct->id,
		.status = st,
		.pid = st == CTW_OCI_STOPPED ? 0 : ct->pid,
		.bundle = ct->bundle,
		.annotations = &ct->annotations,
	};
	return ctw_oci_state_json(&s, false);
}

static int pidfd_of(const struct oci_ct *ct)
{
	if (ct->pid <= 0)
		return -ESRCH;
	int fd = (int)syscall(SYS_pidfd_open, ct->pid, 0);
	if (fd < 0)
		return -errno;
	/* opened first, checked second: the pidfd pins the process */
	if (!oci_pid_alive(ct->pid, ct->pid_start)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static bool wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

int ctw_oci_start(const char *root, const char *id, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	if ((r = open_ct(root, id, true, &rootfd, &ct, err)))
		return r;
	enum ctw_oci_status st = oci_ct_status(ct);
	if (st != CTW_OCI_CREATED) {
		r = ctw_err_setx(err, EINVAL, "cannot start container %s: it is %s, not created",
				 id, ctw_oci_status_name(st));
		goto out;
	}
	int pfd = pidfd_of(ct);
	int fd = openat(ct->dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || pfd < 0) {
		r = ctw_err_setx(err, ESRCH, "cannot start container %s: its init is gone", id);
		if (fd >= 0)
			close(fd);
		if (pfd >= 0)
			close(pfd);
		goto out;
	}
	unlinkat(ct->dirfd, "exec.fifo", 0);
	if (write(fd, "1", 1) != 1) {
		r = ctw_err_set(err, errno, "start container %s", id);
	} else {
		/* The init closes its end when its process runs (close on
		 * exec): then the fifo has no reader left. */
		struct pollfd p[2] = {{.fd = fd, .events = POLLERR}, {.fd = pfd, .events = POLLIN}};
		int n;
		do
			n = poll(p, 2, -1);
		while (n < 0 && errno == EINTR);
	}
	close(fd);
	close(pfd);
	if (!r) {
		struct ctw_spec *s = oci_ct_spec(ct, err);
		if (s && s->hooks[CTW_HOOK_POSTSTART].n) {
			char *state = ct_hook_state(ct, CTW_OCI_RUNNING);
			struct ctw_err herr = {0};
			/* A failed poststart hook is a warning (runtime-spec). */
			if (hooks_run(s, CTW_HOOK_POSTSTART, state, &herr))
				pr_warn("%s", herr.msg);
			free(state);
		}
		ctw_spec_free(s);
		ctw_err_clear(err);
	}
out:
	close_ct(rootfd, ct);
	return r;
}

int ctw_oci_kill(const char *root, const char *id, int sig, bool all, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	if ((r = open_ct(root, id, false, &rootfd, &ct, err)))
		return r;
	enum ctw_oci_status st = oci_ct_status(ct);
	if (st == CTW_OCI_STOPPED || (st == CTW_OCI_CREATING && !ct->pid)) {
		r = ctw_err_setx(err, ESRCH, "container %s is not running", id);
		goto out;
	}
	if (all) {
		r = cg_set_signal(&ct->cg, sig);
		if (r)
			ctw_err_set(err, -r, "signal the processes of %s", id);
		goto out;
	}
	int fd = pidfd_of(ct);
	if (fd < 0) {
		r = ctw_err_setx(err, ESRCH, "container %s is not running", id);
		goto out;
	}
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		r = ctw_err_set(err, errno, "signal container %s", id);
	close(fd);
out:
	close_ct(rootfd, ct);
	return r;
}

/* Everything of a container that is not running any more: its processes
 * (killed), cgroups, poststop hooks (when it was created), state. */
static int destroy(int rootfd, struct oci_ct *ct, struct ctw_err *err)
{
	int fd = pidfd_of(ct);
	if (ct->cg.v2[0])
		cg_set_signal(&ct->cg, SIGKILL);
	if (fd >= 0) {
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		wait_fd(fd, POLLIN, 10000);
		close(fd);
	}
	int r = cg_set_destroy(&ct->cg, true);
	if (r)
		pr_warn("container %s: remove its cgroups: %s", ct->id, strerror(-r));
	if (ct->created_done) {
		struct ctw_err herr = {0};
		struct ctw_spec *s = oci_ct_spec(ct, &herr);
		if (s && s->hooks[CTW_HOOK_POSTSTOP].n) {
			char *state = ct_hook_state(ct, CTW_OCI_STOPPED);
			if (hooks_run(s, CTW_HOOK_POSTSTOP, state, &herr))
				pr_warn("%s", herr.msg);
			free(state);
		}
		ctw_spec_free(s);
	}
	r = oci_ct_remove(rootfd, ct);
	if (r)
		return ctw_err_set(err, -r, "remove the state of %s", ct->id);
	return 0;
}

int ctw_oci_delete(const char *root, const char *id, bool force, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	r = open_ct(root, id, true, &rootfd, &ct, err);
	if (r == -ENOENT && force) {
		/* A directory an aborted create left without a state goes too;
		 * a container that is not there is no error with --force. */
		int fd = oci_root_open(root, false, NULL);
		if (fd >= 0 && ctw_oci_valid_id(id)) {
			int d = openat(fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (d >= 0) {
				ctw_empty_dir_at(d);
				close(d);
				unlinkat(fd, id, AT_REMOVEDIR);
			}
		}
		if (fd >= 0)
			close(fd);
		ctw_err_clear(err);
		return 0;
	}
	if (r)
		return r;
	enum ctw_oci_status st = oci_ct_status(ct);
	/* created: deleted without --force, as runc does (its process never
	 * ran); running, paused and creating only with it. */
	if (!force && st != CTW_OCI_STOPPED && st != CTW_OCI_CREATED) {
		r = ctw_err_setx(err, EBUSY, "cannot delete container %s that is not stopped: %s",
				 id, ctw_oci_status_name(st));
		goto out;
	}
	r = destroy(rootfd, ct, err);
out:
	close_ct(rootfd, ct);
	return r;
}

int ctw_oci_state(const char *root, const char *id, char **json, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	*json = NULL;
	if ((r = open_ct(root, id, false, &rootfd, &ct, err)))
		return r;
	*json = oci_ct_state_json(ct, true);
	close_ct(rootfd, ct);
	return 0;
}

int ctw_oci_list(const char *root, struct ctw_oci_info **out, size_t *n, struct ctw_err *err)
{
	*out = NULL;
	*n = 0;
	int rootfd = oci_root_open(root, false, err);
	if (rootfd == -ENOENT)
		return 0;
	if (rootfd < 0)
		return rootfd;
	char **ids = oci_list_ids(rootfd);
	for (char **p = ids; *p; p++) {
		struct oci_ct *ct;
		if (oci_ct_open(rootfd, *p, false, &ct, NULL))
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct ctw_oci_info *i = &(*out)[(*n)++];
		memset(i, 0, sizeof(*i));
		ctw_strlcpy(i->id, ct->id, sizeof(i->id));
		i->status = oci_ct_status(ct);
		i->pid = i->status == CTW_OCI_STOPPED ? 0 : ct->pid;
		ctw_strlcpy(i->bundle, ct->bundle ? ct->bundle : "", sizeof(i->bundle));
		ctw_strlcpy(i->rootfs, ct->rootfs ? ct->rootfs : "", sizeof(i->rootfs));
		ctw_strlcpy(i->owner, ct->owner, sizeof(i->owner));
		i->created_ns = ct->created_ns;
		oci_ct_free(ct);
	}
	for (char **p = ids; *p; p++)
		free(*p);
	free(ids);
	close(rootfd);
	return 0;
}

int ctw_oci_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	*pids = NULL;
	*n = 0;
	if ((r = open_ct(root, id, false, &rootfd, &ct, err)))
		return r;
	if (oci_ct_status(ct) != CTW_OCI_STOPPED)
		cg_set_pids(&ct->cg, pids, n);
	close_ct(rootfd, ct);
	return 0;
}

int ctw_oci_pause(const char *root, const char *id, bool pause, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	if ((r = open_ct(root, id, true, &rootfd, &ct, err)))
		return r;
	enum ctw_oci_status st = oci_ct_status(ct), want = pause ? CTW_OCI_RUNNING : CTW_OCI_PAUSED;
	if (st != want)
		r = ctw_err_setx(err, EINVAL, "cannot %s container %s: it is %s, not %s",
				 pause ? "pause" : "resume", id, ctw_oci_status_name(st),
				 ctw_oci_status_name(want));
	else
		r = cg_set_freeze(&ct->cg, pause, err);
	close_ct(rootfd, ct);
	return r;
}

int ctw_oci_update(const char *root, const char *id, const struct ctw_spec_resources *res,
		   struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	if ((r = open_ct(root, id, true, &rootfd, &ct, err)))
		return r;
	enum ctw_oci_status st = oci_ct_status(ct);
	if (st == CTW_OCI_STOPPED)
		r = ctw_err_setx(err, ESRCH, "container %s is not running", id);
	else
		r = cg_set_apply(&ct->cg, res, err);
	close_ct(rootfd, ct);
	return r;
}

int ctw_oci_stats(const char *root, const char *id, char **json, struct ctw_err *err)
{
	int rootfd, r;
	struct oci_ct *ct;
	*json = NULL;
	if ((r = open_ct(root, id, false, &rootfd, &ct, err)))
		return r;
	if (oci_ct_status(ct) == CTW_OCI_STOPPED)
		r = ctw_err_setx(err, ESRCH, "container %s is not running", id);
	else
		*json = cg_set_stats_json(&ct->cg, id);
	close_ct(rootfd, ct);
	return r;
}

int ctw_oci_run(const struct ctw_oci_create_opts *o, bool detach, int *exit_code,
		struct ctw_err *err)
{
	*exit_code = CTW_EXIT_RUNTIME;
	if (detach) {
		int r = ctw_oci_create(o, NULL, NULL, err);
		if (!r && (r = ctw_oci_start(o->root, o->id, err)))
			ctw_oci_delete(o->root, o->id, true, NULL);
		if (!r)
			*exit_code = 0;
		return r;
	}
	/* In the foreground we stay the init's parent: signals forwarded,
	 * the terminal relayed, its status ours, then deleted (runc run). */
	sigset_t fwd, saved;
	sigemptyset(&fwd);
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT,   SIGHUP, SIGQUIT,
				   SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		sigaddset(&fwd, sigs[i]);
		signal(sigs[i], SIG_DFL);
	}
	sigprocmask(SIG_BLOCK, &fwd, &saved);
	int sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	struct ctw_oci_create_opts fo = *o;
	fo.foreground = true;
	int pid, master, r = ctw_oci_create(&fo, &pid, &master, err);
	if (!r && (r = ctw_oci_start(o->root, o->id, err)))
		ctw_oci_delete(o->root, o->id, true, NULL);
	if (!r) {
		bool raw = master >= 0 && isatty(STDIN_FILENO);
		if (master >= 0 && isatty(STDIN_FILENO))
			tty_copy_winsize(STDIN_FILENO, master);
		if (raw)
			tty_raw(STDIN_FILENO, true);
		int ws = 0;
		relay_run(master, true, pid, pid, sigfd, NULL, &ws);
		if (raw)
			tty_raw(STDIN_FILENO, false);
		*exit_code = wait_status_to_exit(ws);
		struct ctw_err derr = {0};
		if (ctw_oci_delete(o->root, o->id, true, &derr))
			pr_warn("%s", derr.msg);
	}
	if (master >= 0)
		close(master);
	if (sigfd >= 0)
		close(sigfd);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return r;
}

/* Containers in every known root whose create never finished and whose
 * creator is gone (killed): removed. */
int ctw_oci_gc(void)
{
	int removed = 0;
	char **roots = oci_known_roots();
	for (char **root = roots; *root; root++) {
		int rootfd = oci_root_open(*root, false, NULL);
		if (rootfd < 0)
			continue;
		char **ids = oci_list_ids(rootfd);
		for (char **id = ids; *id; id++) {
			struct oci_ct *ct;
			int fd = openat(rootfd, *id,
					O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			struct stat st;
			bool stateless =
				fd >= 0 &&
				fstatat(fd, "state.json", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
				errno == ENOENT && fstat(fd, &st) == 0 &&
				(uint64_t)st.st_mtime + 60 < ctw_realtime_ns() / 1000000000ull;
			if (fd >= 0)
				close(fd);
			if (stateless) {
				/* made by a create killed before its first write */
				ctw_oci_delete(*root, *id, true, NULL);
				removed++;
				continue;
			}
			if (oci_ct_open(rootfd, *id, true, &ct, NULL))
				continue;
			/* its creator gone: the init dies of that too (parent-death
			 * signal), maybe not yet; destroy kills it anyway */
			bool orphan = !ct->created_done &&
				      !(ct->creator_pid > 0 &&
					oci_pid_alive(ct->creator_pid, ct->creator_start));
			if (orphan && destroy(rootfd, ct, NULL) == 0)
				removed++;
			oci_ct_free(ct);
		}
		for (char **id = ids; *id; id++)
			free(*id);
		free(ids);
		close(rootfd);
	}
	for (char **root = roots; *root; root++)
		free(*root);
	free(roots);
	return removed;
}
