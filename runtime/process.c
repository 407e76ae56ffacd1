// SPDX-License-Identifier: Apache-2.0
/*
 * The last steps before the user's command, shared by `run` and `exec`:
 * stdio and controlling terminal, working directory, user and groups
 * (resolved in the container's own /etc/passwd and /etc/group), the five
 * capability sets, no_new_privs, seccomp, then execvp with the container's
 * PATH.  Failures go to the sync socket; the exit code says which (126 not
 * executable, 127 not found, 125 anything else).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/close_range.h>

#include "internal.h"

extern char **environ;

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int proc_resolve_user(const char *spec, uid_t *uid, gid_t *gid, gid_t **groups, size_t *ngroups,
		      char **home, struct ctw_err *err)
{
	char user[256], *group = NULL;
	ctw_strlcpy(user, spec && *spec ? spec : "0", sizeof(user));
	char *colon = strchr(user, ':');
	if (colon) {
		*colon = '\0';
		group = colon + 1;
	}
	*uid = 0;
	*gid = 0;
	*groups = NULL;
	*ngroups = 0;
	*home = NULL;
	const char *uname = NULL;
	bool found = false;
	FILE *f = fopen("/etc/passwd", "re");
	if (f) {
		struct passwd *pw;
		while ((pw = fgetpwent(f))) {
			if (all_digits(user) ? pw->pw_uid == (uid_t)strtoul(user, NULL, 10)
					     : !strcmp(pw->pw_name, user)) {
				*uid = pw->pw_uid;
				*gid = pw->pw_gid;
				*home = xstrdup(pw->pw_dir);
				uname = xstrdup(pw->pw_name);
				found = true;
				break;
			}
		}
		fclose(f);
	}
	if (!found) {
		if (!all_digits(user))
			return ctw_err_setx(
				err, ENOENT,
				"unable to find user %s: no matching entries in passwd file", user);
		*uid = (uid_t)strtoul(user, NULL, 10);
	}
	bool group_found = group == NULL;
	f = fopen("/etc/group", "re");
	if (f) {
		struct group *gr;
		while ((gr = fgetgrent(f))) {
			if (group && !group_found &&
			    (all_digits(group) ? gr->gr_gid == (gid_t)strtoul(group, NULL, 10)
					       : !strcmp(gr->gr_name, group))) {
				*gid = gr->gr_gid;
				group_found = true;
			}
			if (uname && !group) {
				for (char **m = gr->gr_mem; *m; m++) {
					if (!strcmp(*m, uname)) {
						*groups = xrealloc(*groups,
								   (*ngroups + 1) * sizeof(gid_t));
						(*groups)[(*ngroups)++] = gr->gr_gid;
					}
				}
			}
		}
		fclose(f);
	}
	free((char *)uname);
	if (!group_found) {
		if (!all_digits(group)) {
			free(*groups);
			free(*home);
			*groups = NULL;
			*home = NULL;
			return ctw_err_setx(
				err, ENOENT,
				"unable to find group %s: no matching entries in group file",
				group);
		}
		*gid = (gid_t)strtoul(group, NULL, 10);
	}
	return 0;
}

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

	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *home;
	if (proc_resolve_user(p->user, &uid, &gid, &groups, &ngroups, &home, &err))
		fail(p, CTW_EXIT_RUNTIME, &err);

	const char *wd = p->workdir && *p->workdir ? p->workdir : "/";
	if (chdir(wd) < 0) {
		/* Docker creates a missing working directory. */
		int r = ctw_mkdir_p(wd, 0755);
		if (r || chdir(wd) < 0) {
			ctw_err_set(&err, r ? -r : errno, "working directory `%s`", wd);
			fail(p, CTW_EXIT_RUNTIME, &err);
		}
		if (uid && chown(wd, uid, gid) < 0)
			pr_debug("chown %s: %s", wd, strerror(errno));
	}

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
	if (setgroups(ngroups, groups) < 0) {
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
		if (seccomp_install(p->seccomp, &err))
			fail(p, CTW_EXIT_RUNTIME, &err);
	}

	/* Nothing of the caller's crosses into the container: every fd above
	 * stdio closes on exec (an inherited directory fd is an escape). */
	syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
	environ = full;
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
