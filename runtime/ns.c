// SPDX-License-Identifier: Apache-2.0
/* Namespaces: clone3 straight into the container's v2 cgroup, the
 * network, IPC and UTS namespaces made ahead on a thread, joining the
 * namespaces of a running container (exec), and the weak link to network/. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <linux/sched.h>

#include "internal.h"

static pid_t raw_clone3(int flags, int cgroup_fd)
{
	struct clone_args args = {
		.flags = (uint64_t)flags,
		.exit_signal = SIGCHLD,
	};
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r < 0 && (errno == ENOSYS || errno == E2BIG) && cgroup_fd < 0)
		r = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
	return (pid_t)r;
}

static bool single_threaded(void)
{
	char buf[1024];
	if (ctw_read_line("/proc/self/stat", buf, sizeof(buf)))
		return false;
	/* num_threads is field 20 */
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 20; field++)
		p = strchr(p + 1, ' ');
	return p && atoi(p + 1) == 1;
}

/*
 * fork()-like: returns 0 in the child, which starts in cgroup_fd's cgroup
 * when cgroup_fd >= 0 (no window in the caller's cgroup).
 *
 * A raw clone3 copies locks (malloc, stdio) that another thread may hold at
 * that moment, and the child, which allocates and opens files, would wait
 * for them forever.  glibc's fork() takes care of that, so a
 * multi-threaded caller (run --trace has a reader thread) first forks a
 * single-threaded helper that makes the clone3 and exits; we are the
 * subreaper that inherits the child.  The child sets its parent-death
 * signal only once it is ours (the reparenting would deliver it).
 */
pid_t clone_into_cgroup(int flags, int cgroup_fd)
{
	/* The child is a copy of our heap.  Its first large malloc would
	 * consolidate the fastbins it inherited, writing to every page they
	 * lie in: a copy-on-write fault each, most of a millisecond of every
	 * start here.  mallopt consolidates them now, in our own pages, and
	 * with M_MXFAST 0 no fastbins are kept afterwards (tcache still
	 * serves small blocks). */
	mallopt(M_MXFAST, 0);
	if (single_threaded())
		return raw_clone3(flags, cgroup_fd);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t mid = fork();
	if (mid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (mid == 0) {
		close(p[0]);
		pid_t c = raw_clone3(flags, cgroup_fd);
		if (c == 0) {
			close(p[1]);
			return 0;
		}
		int res[2] = {c, errno};
		ssize_t w = write(p[1], res, sizeof(res));
		_exit(w == sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	int res[2] = {-1, EIO};
	ssize_t n;
	do
		n = read(p[0], res, sizeof(res));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	waitpid(mid, NULL, 0);
	if (n != sizeof(res)) {
		errno = EIO;
		return -1;
	}
	if (res[0] < 0)
		errno = res[1];
	return res[0];
}

/* Order matters for join: user first (unused), then the rest; mnt last so
 * that /proc paths still resolve. */
static const struct {
	const char *name;
	int type;
} ns_list[7] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},	     {"pid", CLONE_NEWPID}, {"time", 0},
	{"mnt", CLONE_NEWNS},
};

int ns_open_all(pid_t pid, int fds[7], struct ctw_err *err)
{
	char path[64];
	for (int i = 0; i < 7; i++) {
		fds[i] = -1;
		if (!ns_list[i].type)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_list[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int e = errno;
			for (int k = 0; k < i; k++)
				if (fds[k] >= 0)
					close(fds[k]);
			return ctw_err_set(err, e, "open %s", path);
		}
	}
	return 0;
}

int ns_join(const int fds[7], bool skip_pid, struct ctw_err *err)
{
	for (int i = 0; i < 7; i++) {
		if (fds[i] < 0 || (skip_pid && ns_list[i].type == CLONE_NEWPID))
			continue;
		if (setns(fds[i], ns_list[i].type) < 0)
			return ctw_err_set(err, errno, "join %s namespace", ns_list[i].name);
	}
	return 0;
}

bool thread_start_quiet(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	bool ok = pthread_create(t, attr, fn, arg) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

void ns_lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct ifreq ifr = {0};
	ctw_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

static const struct {
	int flag;
	const char *path;
} made_ns[NS_MADE_MAX] = {
	[NS_MADE_NET] = {CLONE_NEWNET, "/proc/thread-self/ns/net"},
	[NS_MADE_IPC] = {CLONE_NEWIPC, "/proc/thread-self/ns/ipc"},
	[NS_MADE_UTS] = {CLONE_NEWUTS, "/proc/thread-self/ns/uts"},
};

static void close_made(struct ns_maker *m)
{
	for (int i = 0; i < NS_MADE_MAX; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

/* Only system calls here (no malloc, no stdio): clone_into_cgroup may
 * clone3 raw right after this thread is gone. */
static void *ns_make_main(void *arg)
{
	struct ns_maker *m = arg;
	if (unshare(m->flags) < 0) {
		m->err = errno;
		return NULL;
	}
	if (m->flags & CLONE_NEWNET)
		ns_lo_up();
	for (int i = 0; i < NS_MADE_MAX; i++) {
		if (!(m->flags & made_ns[i].flag))
			continue;
		m->fd[i] = open(made_ns[i].path, O_RDONLY | O_CLOEXEC);
		if (m->fd[i] < 0) {
			m->err = errno;
			close_made(m);
			return NULL;
		}
	}
	return NULL;
}

void ns_make_start(struct ns_maker *m, int flags)
{
	m->flags = flags;
	m->err = 0;
	for (int i = 0; i < NS_MADE_MAX; i++)
		m->fd[i] = -1;
	/* On another CPU than ours: a new thread starts on its creator's CPU
	 * and, in the kernel for a millisecond, kept us off it (pthread_create
	 * took 0.6 ms instead of 0.07 here, with the other CPU idle). */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	cpu_set_t cpus;
	int cpu = sched_getcpu();
	if (cpu >= 0 && sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
		CPU_CLR(cpu, &cpus);
		if (CPU_COUNT(&cpus) > 0)
			pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	m->started = thread_start_quiet(&m->thread, &attr, ns_make_main, m);
	pthread_attr_destroy(&attr);
}

int ns_make_finish(struct ns_maker *m)
{
	if (!m->started)
		return -EAGAIN;
	pthread_join(m->thread, NULL);
	m->started = false;
	if (m->err) {
		close_made(m);
		return -m->err;
	}
	return 0;
}
