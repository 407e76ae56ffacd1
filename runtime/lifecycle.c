// SPDX-License-Identifier: Apache-2.0
/*
 * Acting on containers from another shell: kill, stop, wait, rm and gc.
 * Signals go through a pidfd opened on the init and checked against the
 * start time recorded in the state, so a recycled pid is never signalled.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

static int pidfd_of(const struct ctw_state *s)
{
	if (s->pid <= 0)
		return -ESRCH;
	int fd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (fd < 0)
		return -errno;
	/* Opened first, checked second: the pidfd pins the process. */
	if (!ctw_state_init_alive(s)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* Wait until the process behind pidfd exits; true when it did. */
static bool pidfd_wait(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* After the init died, give its monitor the time to record the exit. */
static void wait_monitor(const struct ctw_state *s, int timeout_ms)
{
	for (int t = 0; t < timeout_ms && ctw_state_monitor_alive(s) && s->monitor_pid != getpid();
	     t += 10)
		sleep_ms(10);
}

int ctw_container_kill(const char *ref, int sig, struct ctw_err *err)
{
	struct ctw_state s;
	int r = ctw_state_find(ref, &s, err);
	if (r)
		return r;
	int fd = pidfd_of(&s);
	if (fd < 0) {
		r = ctw_err_setx(err, ESRCH, "container %s is not running", ref);
		goto out;
	}
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		r = ctw_err_set(err, errno, "signal container %s", ref);
	close(fd);
out:
	ctw_state_fini(&s);
	return r;
}

int ctw_container_stop(const char *ref, int timeout_s, struct ctw_err *err)
{
	struct ctw_state s;
	int r = ctw_state_find(ref, &s, err);
	if (r)
		return r;
	int fd = pidfd_of(&s);
	if (fd < 0)
		goto out; /* not running: nothing to stop, as Docker */
	if (timeout_s < 0)
		timeout_s = s.stop_timeout;
	syscall(SYS_pidfd_send_signal, fd, s.stop_signal > 0 ? s.stop_signal : SIGTERM, NULL, 0);
	if (!pidfd_wait(fd, timeout_s * 1000)) {
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		if (!pidfd_wait(fd, 10000))
			r = ctw_err_setx(err, ETIMEDOUT, "container %s did not die after SIGKILL",
					 ref);
	}
	close(fd);
	wait_monitor(&s, 5000);
out:
	ctw_state_fini(&s);
	return r;
}

int ctw_container_wait(const char *ref, int *exit_code, struct ctw_err *err)
{
	struct ctw_state s;
	int r = ctw_state_find(ref, &s, err);
	if (r)
		return r;
	char id[65];
	ctw_strlcpy(id, s.id, sizeof(id));
	int fd = pidfd_of(&s);
	if (fd >= 0) {
		pidfd_wait(fd, -1);
		close(fd);
	}
	/* The monitor writes the exit code right after the init is reaped. */
	for (int t = 0; s.status != CTW_ST_EXITED; t += 10) {
		if (!ctw_state_monitor_alive(&s) && !ctw_state_init_alive(&s) && t > 0) {
			r = ctw_err_setx(err, ESRCH,
					 "container %s: its monitor is gone "
					 "without recording an exit code",
					 ref);
			goto out;
		}
		sleep_ms(10);
		ctw_state_fini(&s);
		if (ctw_state_load(id, &s, NULL)) {
			r = ctw_err_setx(err, ENOENT,
					 "container %s was removed before its exit "
					 "code could be read",
					 ref);
			return r;
		}
	}
	*exit_code = s.exit_code;
out:
	ctw_state_fini(&s);
	return r;
}

int ctw_container_remove(const char *ref, bool force, struct ctw_err *err)
{
	struct ctw_state s;
	int r = ctw_state_find(ref, &s, err);
	if (r)
		return r;
	int fd = pidfd_of(&s);
	if (fd >= 0) {
		if (!force) {
			close(fd);
			r = ctw_err_setx(err, EBUSY,
					 "container %s is running: stop it first or "
					 "use rm -f",
					 ref);
			goto out;
		}
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		pidfd_wait(fd, 10000);
		close(fd);
	}
	wait_monitor(&s, 5000);
	container_cleanup(&s, true);
out:
	ctw_state_fini(&s);
	return r;
}

static bool is_id(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool has_state(const char *id)
{
	char *p = state_path(id, "state.json");
	bool r = ctw_path_exists(p);
	free(p);
	return r;
}

static bool old_enough(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 &&
	       (uint64_t)st.st_mtime + 3600 < ctw_realtime_ns() / 1000000000ull;
}

/* Remove container-looking entries (64 hex names) of dir that have no
 * state: what a run killed between two steps may leave. */
static int gc_orphans(const char *dir, bool cgroup)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_id(de->d_name) || has_state(de->d_name))
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		if (cgroup) {
			struct ctw_state t = {0};
			ctw_strlcpy(t.cgroup, p, sizeof(t.cgroup));
			/* Empty ones only: a populated cgroup without our state
			 * may belong to a ctrwatch with another state dir. */
			if (cg_destroy(&t, false) == 0)
				n++;
		} else if (old_enough(p) && ctw_rm_rf(p) == 0) {
			/* Our own runs write the state before this dir and
			 * remove it after: a stateless one is either debris of
			 * a crash long ago or another state dir's, so only
			 * old ones go. */
			n++;
		}
		free(p);
	}
	closedir(d);
	return n;
}

/*
 * A state directory without a state.json to load: a run killed while it
 * wrote its first state (mkdir, then the file) or while its state went.
 * Runs write their first state under the state lock, whole: under that lock
 * a directory that still has none is nobody's.  It is moved aside first
 * (one rename), so that nothing ever sees it half removed.  1 when removed.
 */
static int remove_torn_state(const char *id)
{
	int lk = state_lock();
	struct ctw_state s;
	int removed = 0;
	if (ctw_state_load(id, &s, NULL) == 0) {
		ctw_state_fini(&s);
	} else {
		char *dir = state_path(id, NULL);
		char *aside = xasprintf("%s/.gc-%s-%d", ctw_state_dir(), id, (int)getpid());
		if (rename(dir, aside) == 0) {
			ctw_rm_rf(aside);
			removed = 1;
		}
		free(aside);
		free(dir);
	}
	state_unlock(lk);
	return removed;
}

/* What a gc killed while it removed a torn state left set aside
 * (.gc-ID-PID, PID gone). */
static int remove_set_aside(void)
{
	DIR *d = opendir(ctw_state_dir());
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		const char *dash = strrchr(de->d_name, '-');
		if (!ctw_str_has_prefix(de->d_name, ".gc-") || !dash)
			continue;
		int pid = atoi(dash + 1);
		if (pid <= 0 || kill(pid, 0) == 0 || errno == EPERM)
			continue;
		char *p = xasprintf("%s/%s", ctw_state_dir(), de->d_name);
		n += ctw_rm_rf(p) == 0;
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

int ctw_container_gc(struct ctw_err *err)
{
	int removed = 0;
	char **ids = ctw_state_list();
	for (char **p = ids; *p; p++) {
		struct ctw_state s;
		if (ctw_state_load(*p, &s, NULL)) {
			removed += remove_torn_state(*p);
			continue;
		}
		if (ctw_state_monitor_alive(&s)) {
			ctw_state_fini(&s);
			continue;
		}
		int fd = pidfd_of(&s);
		if (fd >= 0) {
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			pidfd_wait(fd, 5000);
			close(fd);
		}
		bool keep = s.detached && !s.auto_remove;
		if (keep && s.status != CTW_ST_EXITED) {
			s.status = CTW_ST_EXITED;
			s.exit_code = 137;
			s.finished_ns = ctw_realtime_ns();
			ctw_state_save(&s, NULL);
		}
		if (!keep || s.status == CTW_ST_EXITED) {
			container_cleanup(&s, !keep);
			if (!keep)
				removed++;
		}
		ctw_state_fini(&s);
	}
	ctw_strv_free(ids);
	removed += remove_set_aside();

	char *cdir = xasprintf("%s/containers", ctw_root_dir());
	removed += gc_orphans(cdir, false);
	free(cdir);
	spare_clear(); /* kept directories of containers gone (spare.c) */
	/* Cgroups of the default parent (relative, like the runs made). */
	const char *parent = getenv("CTRWATCH_CGROUP_PARENT");
	struct ctw_state probe = {0};
	ctw_strlcpy(probe.id, "0000000000000000000000000000000000000000000000000000000000000000",
		    sizeof(probe.id));
	if (cg_paths(&probe, parent && *parent ? parent : "ctrwatch", NULL) == 0) {
		char dir[PATH_MAX];
		ctw_strlcpy(dir, probe.cgroup, sizeof(dir));
		*strrchr(dir, '/') = '\0';
		removed += gc_orphans(dir, true);
		for (int i = 0; i < probe.nv1; i++) {
			ctw_strlcpy(dir, probe.v1[i].path, sizeof(dir));
			*strrchr(dir, '/') = '\0';
			gc_orphans(dir, true);
		}
	}
	(void)err;
	return removed;
}
