// SPDX-License-Identifier: Apache-2.0
/*
 * The last steps of a spec's process, in its container (after pivot_root),
 * shared by the init of create and by exec.  In two parts, as runc does:
 *   oci_proc_prepare: what can fail for reasons of the container (the user,
 *     the executable on PATH, the working directory), done before the
 *     container counts as created, so that `create` reports it (engines map
 *     "executable file not found" to 127);
 *   oci_proc_exec: the terminal, personality, oom_score_adj, rlimits, I/O
 *     priority, LSM labels, the fds kept, the capability sets around the
 *     user change (bounding first, then keep-caps across setuid, then
 *     effective, permitted, inheritable and ambient), umask, cwd,
 *     no_new_privs and seccomp (last: nothing of ours runs under it), exec.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/close_range.h>

#include "internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);
	for (; env && *env; env++)
		if (!strncmp(*env, key, kl) && (*env)[kl] == '=')
			return *env + kl + 1;
	return NULL;
}

/* strerror as Go spells it ("no such file or directory"): engines match
 * runc's messages (dockerd: exit 127 for "no such file or directory"). */
static const char *go_strerror(int e, char *buf, size_t size)
{
	ctw_strlcpy(buf, strerror(e), size);
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* args[0] on PATH (the process's), as execvp would find it. */
static int find_exec(const char *name, char *const *env, char *out, size_t size,
		     struct ctw_err *err)
{
	if (strchr(name, '/')) {
		ctw_strlcpy(out, name, size);
		struct stat st;
		char why[128];
		if (stat(name, &st) < 0)
			return ctw_err_setx(err, ENOENT, "exec: \"%s\": stat %s: %s", name, name,
					    go_strerror(errno, why, sizeof(why)));
		if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0)
			return ctw_err_setx(err, EACCES, "exec: \"%s\": permission denied", name);
		return 0;
	}
	const char *path = env_get(env, "PATH");
	char buf[4096];
	ctw_strlcpy(buf, path ? path : DEFAULT_PATH, sizeof(buf));
	bool denied = false;
	for (char *save, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", *d ? d : ".", name);
		struct stat st;
		if (stat(out, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (access(out, X_OK) == 0)
			return 0;
		denied = true;
	}
	if (denied)
		return ctw_err_setx(err, EACCES, "exec: \"%s\": permission denied", name);
	return ctw_err_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* The home of uid in the container's /etc/passwd ("/" when it has none). */
static char *home_of(uid_t uid)
{
	char *data = NULL, *home = NULL;
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0 && ctw_read_in_root(root, "/etc/passwd", 1 << 20, &data, NULL) == 0) {
		for (char *save, *l = strtok_r(data, "\n", &save); l && !home;
		     l = strtok_r(NULL, "\n", &save)) {
			/* name:pw:uid:gid:gecos:home:shell */
			char *f[7] = {0};
			int n = 0;
			for (char *p = l; n < 7 && p; n++) {
				f[n] = p;
				p = strchr(p, ':');
				if (p)
					*p++ = '\0';
			}
			if (n >= 6 && f[2] && strtoul(f[2], NULL, 10) == uid && *f[2])
				home = xstrdup(f[5]);
		}
	}
	if (root >= 0)
		close(root);
	free(data);
	return home ? home : xstrdup("/");
}

int oci_proc_rlimits(const struct oci_proc *o, struct ctw_err *err)
{
	const struct ctw_spec_process *p = o->p;
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].type, &rl) < 0)
			return ctw_err_set(err, errno,
					   "config.json: process.rlimits: setrlimit %s (soft %llu, "
					   "hard %llu)",
					   ctw_spec_rlimit_name(p->rlimits[i].type),
					   (unsigned long long)rl.rlim_cur,
					   (unsigned long long)rl.rlim_max);
	}
	return 0;
}

int oci_proc_prepare(struct oci_proc *o, struct ctw_err *err)
{
	const struct ctw_spec_process *p = o->p;
	/* read now (cached): after start, a trace from the first instruction
	 * (io.ctrwatch.trace) sees no file of ours read before the execve */
	(void)caps_last();
	o->uid = p->user.uid;
	o->gid = p->user.gid;
	o->groups = NULL;
	o->ngroups = 0;
	char *home = NULL;
	if (p->user.resolve) {
		/* in the container's root (we are past pivot_root): its files,
		 * read as hostile (regular, size-capped, inside the root) */
		struct user_ids u;
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return ctw_err_set(err, errno, "open /");
		int r = passwd_resolve_user(root, p->user.resolve, &u, err);
		close(root);
		if (r)
			return r;
		o->uid = u.uid;
		o->gid = u.gid;
		o->groups = u.groups;
		o->ngroups = u.ngroups;
		home = u.home;
		/* Docker's rule: a user other than root runs without
		 * capabilities but the bounding set. */
		o->drop_caps = o->uid != 0;
	} else if (p->user.n_additional_gids) {
		o->groups = xcalloc(p->user.n_additional_gids, sizeof(gid_t));
		for (size_t i = 0; i < p->user.n_additional_gids; i++)
			o->groups[i] = p->user.additional_gids[i];
		o->ngroups = p->user.n_additional_gids;
	}
	/* The environment, with HOME from passwd unless it has one. */
	size_t n = 0;
	while (p->env && p->env[n])
		n++;
	o->env = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		o->env[i] = p->env[i];
	if (!env_get(p->env, "HOME")) {
		if (!home)
			home = home_of(o->uid);
		o->env[n++] = xasprintf("HOME=%s", home);
	}
	free(home);
	int r = find_exec(p->args[0], o->env, o->exe, sizeof(o->exe), err);
	if (r)
		return r;
	/* A missing working directory is made (as runc and Docker do). */
	struct stat st;
	if (stat(p->cwd, &st) < 0) {
		r = ctw_mkdir_p(p->cwd, 0755);
		if (r)
			return ctw_err_set(err, -r, "working directory `%s`", p->cwd);
		if (o->uid && chown(p->cwd, o->uid, o->gid) < 0)
			pr_debug("chown %s: %s", p->cwd, strerror(errno));
	}
	return 0;
}

static int set_lsm(const char *file, const char *fmt, const char *label, struct ctw_err *err)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/attr/%s", file);
	int n = snprintf(buf, sizeof(buf), fmt, label);
	int r = ctw_write_file(path, buf, (size_t)n, false);
	if (r)
		return ctw_err_set(err, -r, "set %s to %s", path, label);
	return 0;
}

static int caps_all(const struct oci_proc *o, struct ctw_err *err)
{
	const struct ctw_spec_process *p = o->p;
	uint64_t bounding = p->caps_set ? p->caps[CTW_CAPS_BOUNDING] : 0;
	if (caps_drop_bounding(bounding, err))
		return -EPERM;
	/* Keep what we hold across setuid: the sets are set after it. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return ctw_err_set(err, errno, "keep capabilities");
	if (setgroups(o->ngroups, o->groups) < 0 && !(o->userns && errno == EPERM))
		return ctw_err_set(err, errno, "setgroups");
	if (setresgid(o->gid, o->gid, o->gid) < 0)
		return ctw_err_set(err, errno, "setgid %u", (unsigned)o->gid);
	if (setresuid(o->uid, o->uid, o->uid) < 0)
		return ctw_err_set(err, errno, "setuid %u", (unsigned)o->uid);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	uint64_t eff = 0, perm = 0, inh = 0, amb = 0;
	if (p->caps_set && !o->drop_caps) {
		eff = p->caps[CTW_CAPS_EFFECTIVE];
		perm = p->caps[CTW_CAPS_PERMITTED] | eff;
		inh = p->caps[CTW_CAPS_INHERITABLE];
		amb = p->caps[CTW_CAPS_AMBIENT];
	}
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
		{(uint32_t)eff, (uint32_t)perm, (uint32_t)(inh | amb)},
		{(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)((inh | amb) >> 32)},
	};
	if (syscall(SYS_capset, &h, d) < 0)
		return ctw_err_set(err, errno, "set capabilities");
	for (int c = 0; c <= caps_last(); c++) {
		if (!(amb & (1ull << c)) ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) == 0)
			continue;
		/* not permitted (the spec lists it in ambient only): as runc,
		 * the process runs without it */
		if (errno != EPERM)
			return ctw_err_set(err, errno, "raise ambient capability %s",
					   ctw_cap_name(c) ? ctw_cap_name(c) : "?");
		pr_debug("ambient capability %s: not permitted", ctw_cap_name(c));
	}
	return 0;
}

static int process_attrs(const struct oci_proc *o, struct ctw_err *err)
{
	const struct ctw_spec_process *p = o->p;
	if (o->personality_set && personality(o->personality) < 0)
		return ctw_err_set(err, errno, "personality");
	if (p->oom_score_adj.set) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%lld", (long long)p->oom_score_adj.v);
		int r = ctw_write_file("/proc/self/oom_score_adj", buf, (size_t)n, false);
		if (r)
			return ctw_err_set(err, -r, "oom_score_adj %s", buf);
	}
	if (p->io_class && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
				   (p->io_class << 13) | p->io_priority) < 0)
		return ctw_err_set(err, errno, "ioprio_set");
	if (p->apparmor_profile && *p->apparmor_profile) {
		int r = set_lsm("apparmor/exec", "exec %s", p->apparmor_profile, NULL);
		if (r && (r = set_lsm("exec", "exec %s", p->apparmor_profile, err)))
			return r;
	}
	if (p->selinux_label && *p->selinux_label) {
		int r = set_lsm("exec", "%s", p->selinux_label, err);
		if (r)
			return r;
	}
	return 0;
}

static __attribute__((noreturn)) void fail(const struct oci_proc *o, int status,
					   struct ctw_err *err)
{
	if (o->sync_fd >= 0)
		sync_send(o->sync_fd, SYNC_ERR, status, err, -1);
	else
		dprintf(STDERR_FILENO, "ctrwatch: %s\n", err->msg);
	_exit(status);
}

void oci_proc_exec(const struct oci_proc *o)
{
	const struct ctw_spec_process *p = o->p;
	struct ctw_err err = {0};

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (o->tty_slave >= 0) {
		setsid();
		if (ioctl(o->tty_slave, TIOCSCTTY, 0) < 0) {
			ctw_err_set(&err, errno, "set the controlling terminal");
			fail(o, CTW_EXIT_RUNTIME, &err);
		}
		for (int i = 0; i < 3; i++)
			dup2(o->tty_slave, i);
		if (o->tty_slave > 2)
			close(o->tty_slave);
	}
	if (process_attrs(o, &err))
		fail(o, CTW_EXIT_RUNTIME, &err);
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it
	 * while we still have it (runc does the same). */
	if (!p->no_new_privileges && seccomp_install_with(o->seccomp, o->seccomp_flags, &err))
		fail(o, CTW_EXIT_RUNTIME, &err);
	if (caps_all(o, &err))
		fail(o, CTW_EXIT_RUNTIME, &err);
	if (p->user.umask.set)
		umask((mode_t)p->user.umask.v);
	if (chdir(p->cwd) < 0) {
		ctw_err_set(&err, errno, "working directory `%s`", p->cwd);
		fail(o, CTW_EXIT_RUNTIME, &err);
	}
	if (p->no_new_privileges) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			ctw_err_set(&err, errno, "set no_new_privs");
			fail(o, CTW_EXIT_RUNTIME, &err);
		}
		if (seccomp_install_with(o->seccomp, o->seccomp_flags, &err))
			fail(o, CTW_EXIT_RUNTIME, &err);
	}
	/* Nothing of ours crosses into the container but stdio and the fds
	 * the caller asked to keep. */
	syscall(SYS_close_range, 3 + (unsigned)o->preserve_fds, ~0u, CLOSE_RANGE_CLOEXEC);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(o->exe, p->args, o->env);
	int e = errno;
	char why[128];
	ctw_err_setx(&err, e, "exec: \"%s\": %s", p->args[0], go_strerror(e, why, sizeof(why)));
	fail(o, e == ENOENT ? CTW_EXIT_NOTFOUND : CTW_EXIT_NOEXEC, &err);
}
