// SPDX-License-Identifier: Apache-2.0
/*
 * Terminals: a pty made inside the container's own devpts (the master is
 * handed to the parent over the sync socket, as crun's console socket), raw
 * mode on the user's terminal, window size on start and on SIGWINCH, and
 * the parent's wait loop that relays I/O and forwards signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "internal.h"

/* The container's /dev/pts/ptmx, never through a symlink (the container
 * controls /dev/ptmx): the devpts multiplexer itself, or an error. */
static int open_ptmx(struct ctw_err *err)
{
	struct open_how how = {
		.flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int m = (int)syscall(SYS_openat2, AT_FDCWD, "/dev/pts/ptmx", &how, sizeof(how));
	if (m < 0)
		return ctw_err_set(err, errno, "open /dev/pts/ptmx");
	struct stat st;
	struct statfs sf;
	if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) ||
	    fstatfs(m, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) {
		close(m);
		return ctw_err_setx(err, EINVAL, "/dev/pts/ptmx is not the devpts multiplexer");
	}
	fcntl(m, F_SETFL, O_RDWR);
	return m;
}

int pty_open(int *master, int *slave, struct ctw_err *err)
{
	int m = open_ptmx(err);
	if (m < 0)
		return m;
	if (unlockpt(m) < 0) {
		int e = errno;
		close(m);
		return ctw_err_set(err, e, "unlockpt");
	}
	/* TIOCGPTPEER opens the peer of this master in its own devpts,
	 * without going through a path. */
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0) {
		int e = errno;
		close(m);
		return ctw_err_set(err, e, "open pty peer");
	}
	*master = m;
	*slave = s;
	return 0;
}

void pty_bind_console(int master)
{
	char name[64];
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return;
	/* An empty file to bind on (never opened: a /dev of the host's would
	 * hold the real console there). */
	if (mknod("/dev/console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
		return;
	if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		pr_debug("bind %s on /dev/console: %s", name, strerror(errno));
}

static struct termios saved_tio;
static bool tio_saved;

void tty_raw(int fd, bool on)
{
	if (on) {
		if (tcgetattr(fd, &saved_tio) < 0)
			return;
		struct termios t = saved_tio;
		cfmakeraw(&t);
		t.c_oflag |= OPOST; /* keep \n → \r\n on our side off: raw all */
		t.c_oflag &= ~OPOST;
		if (tcsetattr(fd, TCSADRAIN, &t) == 0)
			tio_saved = true;
	} else if (tio_saved) {
		tcsetattr(fd, TCSADRAIN, &saved_tio);
		tio_saved = false;
	}
}

void tty_copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static bool copy_once(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return true; /* reader gone: keep draining the other side */
		}
		off += w;
	}
	return true;
}

int relay_run(int master, bool interactive, pid_t pid, pid_t signal_pid, int sigfd,
	      struct log_writer *log, int *wstatus)
{
	bool exited = false, stdin_open = interactive && master >= 0, master_open = master >= 0;
	int out_fd = log ? log->out : -1, err_fd = log ? log->err : -1;
	bool out_open = out_fd >= 0, err_open = err_fd >= 0;
	while (!exited || master_open || out_open || err_open) {
		struct pollfd pfd[5] = {
			{.fd = sigfd, .events = POLLIN},
			{.fd = master_open ? master : -1, .events = POLLIN},
			{.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = out_open ? out_fd : -1, .events = POLLIN},
			{.fd = err_open ? err_fd : -1, .events = POLLIN},
		};
		/* Once the command is gone, drain what the pty and the pipes
		 * still hold (a process that escaped the pid namespace's end
		 * holding a pipe does not keep us). */
		int r = poll(pfd, 5, exited ? 100 : -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0 && exited)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD) {
					int ws;
					pid_t p = waitpid(pid, &ws, WNOHANG);
					if (p == pid) {
						*wstatus = ws;
						exited = true;
					}
				} else if (sig == SIGWINCH && master >= 0) {
					tty_copy_winsize(STDIN_FILENO, master);
				} else if (!exited) {
					kill(signal_pid, sig);
				}
			}
		}
		if (master_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (log ? !log_copy(log, master, CTW_LOG_STDOUT)
				: !copy_once(master, STDOUT_FILENO))
				master_open = false;
		}
		if (out_open && (pfd[3].revents & (POLLIN | POLLHUP | POLLERR)))
			out_open = log_copy(log, log->out, CTW_LOG_STDOUT);
		if (err_open && (pfd[4].revents & (POLLIN | POLLHUP | POLLERR)))
			err_open = log_copy(log, log->err, CTW_LOG_STDERR);
		if (stdin_open && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!copy_once(STDIN_FILENO, master)) {
				stdin_open = false;
				/* EOF on our stdin: tell the pty (^D). */
				char eot = 4;
				if (write(master, &eot, 1) < 0) {
					/* nothing to do */
				}
			}
		}
	}
	if (!exited) {
		int ws;
		if (waitpid(pid, &ws, 0) == pid)
			*wstatus = ws;
	}
	return 0;
}
