// SPDX-License-Identifier: Apache-2.0
/*
 * A deterministic workload for the trace conformance suite (tests/integration/
 * 45-trace-conformance.sh): each case calls one family of syscalls with known
 * arguments, so that `strace -f` and `ctrwatch trace` of two runs in the
 * same directory can be compared line by line.  Static, like ctw-testinit.
 *
 *   ctw-syscalls [CASE...]     run the cases named (default: all), in order,
 *                              in the current directory (which it leaves as
 *                              it found it)
 *   ctw-syscalls list          print the case names
 *
 * Nothing here depends on time, randomness or the environment beyond what
 * the caller fixes (cwd, env): arguments and results are the same each run,
 * apart from pids and addresses, which the comparison normalises.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define CHECK(x) ((void)(x))

static void case_files(void)
{
	char buf[64];
	struct iovec iov[2];
	int fd;

	fd = open("data.txt", O_WRONLY | O_CREAT | O_TRUNC, 0640);
	CHECK(write(fd, "hello world\n", 12));
	iov[0] = (struct iovec){.iov_base = "first ", .iov_len = 6};
	iov[1] = (struct iovec){.iov_base = "second\n", .iov_len = 7};
	CHECK(writev(fd, iov, 2));
	CHECK(pwrite(fd, "HELLO", 5, 0));
	close(fd);
	fd = open("data.txt", O_RDONLY);
	CHECK(read(fd, buf, 5));
	CHECK(lseek(fd, 1, SEEK_CUR));
	iov[0] = (struct iovec){.iov_base = buf, .iov_len = 4};
	iov[1] = (struct iovec){.iov_base = buf + 4, .iov_len = 40};
	CHECK(readv(fd, iov, 2));
	CHECK(pread(fd, buf, 8, 6));
	CHECK(read(fd, buf, sizeof(buf)));
	close(fd);
	CHECK(read(-1, buf, 1));
	CHECK(open("no-such-file", O_RDONLY));
	unlink("data.txt");
}

static void case_stat(void)
{
	struct stat st;
	struct statx stx;
	int fd;

	fd = open("st.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(write(fd, "0123456789", 10));
	CHECK(symlink("st.txt", "st.link"));
	CHECK(syscall(SYS_stat, "st.txt", &st));
	CHECK(syscall(SYS_lstat, "st.link", &st));
	CHECK(syscall(SYS_fstat, fd, &st));
	CHECK(syscall(SYS_newfstatat, AT_FDCWD, "st.link", &st, 0));
	CHECK(syscall(SYS_newfstatat, AT_FDCWD, "st.link", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH));
	CHECK(syscall(SYS_stat, "/dev/null", &st));
	CHECK(syscall(SYS_stat, "no-such-file", &st));
	CHECK(statx(AT_FDCWD, "st.txt", 0, STATX_BASIC_STATS, &stx));
	CHECK(statx(AT_FDCWD, "st.txt", AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_SIZE, &stx));
	CHECK(statx(AT_FDCWD, "no-such-file", 0, STATX_ALL, &stx));
	close(fd);
	unlink("st.link");
	unlink("st.txt");
}

static void case_dirs(void)
{
	char buf[4096];
	int fd;

	CHECK(mkdir("d", 0750));
	CHECK(mkdir("d/sub", 0700));
	close(open("d/a", O_WRONLY | O_CREAT, 0644));
	close(open("d/b", O_WRONLY | O_CREAT, 0644));
	CHECK(rename("d/b", "d/c"));
	fd = open("d", O_RDONLY | O_DIRECTORY);
	CHECK(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	CHECK(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	CHECK(lseek(fd, 0, SEEK_SET));
	CHECK(syscall(SYS_getdents, fd, buf, sizeof(buf)));
	close(fd);
	CHECK(access("d/a", R_OK | W_OK));
	CHECK(access("d/zz", F_OK));
	CHECK(readlink("d/a", buf, sizeof(buf)));
	CHECK(chdir("d"));
	CHECK(getcwd(buf, sizeof(buf)) != NULL);
	CHECK(chdir(".."));
	unlink("d/a");
	unlink("d/c");
	CHECK(rmdir("d/sub"));
	CHECK(rmdir("d"));
	CHECK(rmdir("d"));
}

static void case_fcntl(void)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	int fd = open("lock.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fcntl(fd, F_GETFD));
	CHECK(fcntl(fd, F_SETFD, 0));
	CHECK(fcntl(fd, F_GETFL));
	CHECK(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
	CHECK(fcntl(fd, F_DUPFD, 10));
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 20));
	CHECK(fcntl(fd, F_SETLK, &fl));
	CHECK(fcntl(fd, F_GETLK, &fl));
	CHECK(fcntl(fd, F_SETOWN_EX, &(struct f_owner_ex){.type = F_OWNER_PID, .pid = 0}));
	CHECK(fcntl(fd, F_GETOWN_EX, &(struct f_owner_ex){0}));
	CHECK(fcntl(fd, F_SETSIG, SIGIO));
	CHECK(fcntl(fd, F_GETSIG));
	CHECK(fcntl(fd, F_SETSIG, 0));
	CHECK(dup(fd));
	CHECK(dup2(fd, 30));
	CHECK(dup3(fd, 31, O_CLOEXEC));
	close(10);
	close(20);
	close(30);
	close(31);
	close(fd + 1);
	close(fd);
	unlink("lock.txt");
}

static void case_mem(void)
{
	void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd;

	CHECK(mprotect(p, 4096, PROT_READ));
	CHECK(madvise(p, 8192, MADV_DONTNEED));
	CHECK(munmap(p, 8192));
	fd = open("map.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(ftruncate(fd, 4096));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(munmap(p, 4096));
	CHECK(mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	CHECK(mmap((void *)4096, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, 999, 0));
	/* flags in strace's order, the huge page size as N<<MAP_HUGE_SHIFT
	 * (fd 999: EBADF before anything is mapped) */
	CHECK(mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		   MAP_SHARED | MAP_LOCKED | MAP_POPULATE | MAP_NORESERVE | MAP_STACK, 999, 0));
	CHECK(mmap(NULL, 2 << 20, PROT_READ, MAP_PRIVATE | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT),
		   999, 0));
	close(fd);
	unlink("map.bin");
}

static volatile sig_atomic_t got;

static void on_signal(int sig)
{
	got = sig;
}

static void case_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART}, old;
	sigset_t set, oldset;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK(sigaction(SIGUSR1, &sa, &old));
	CHECK(sigaction(SIGUSR1, NULL, &old));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	CHECK(sigaction(SIGPIPE, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	CHECK(sigprocmask(SIG_BLOCK, &set, &oldset));
	CHECK(sigprocmask(SIG_SETMASK, NULL, &oldset));
	CHECK(kill(getpid(), SIGUSR1));
	CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL));
	CHECK(raise(SIGUSR1));
	CHECK(kill(getpid(), SIGPIPE));
	CHECK(kill(getpid(), SIGURG));
	CHECK(kill(getpid(), 0));
	sa.sa_handler = SIG_DFL;
	CHECK(sigaction(SIGUSR1, &sa, NULL));
	CHECK(sigaction(SIGPIPE, &sa, NULL));
}

static void case_procs(void)
{
	sigset_t chld;
	siginfo_t si;
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(3);
	CHECK(wait4(pid, &status, 0, NULL));

	pid = fork();
	if (pid == 0) {
		kill(getpid(), SIGKILL);
		_exit(0);
	}
	CHECK(wait4(pid, &status, 0, NULL));

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	/* let the child reach pause(): what strace and ctrwatch see of it
	 * must not depend on who runs first */
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG));
	usleep(50000);
	CHECK(kill(pid, SIGTERM));
	CHECK(waitid(P_PID, pid, &si, WEXITED));
	CHECK(wait4(-1, &status, WNOHANG, NULL));

	/* SIGCHLD blocked from here on: when each child's SIGCHLD shows must
	 * not depend on who runs first (it shows once, at the unblock) */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &chld, NULL));

	/* a real fault: SIGSEGV's si_addr, killed by it (no core file) */
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = {0, 0};

		setrlimit(RLIMIT_CORE, &no_core);
		volatile uintptr_t bad = 8;

		*(volatile int *)bad = 1;
		_exit(0);
	}
	CHECK(wait4(pid, &status, 0, NULL));

	/* stopped by SIGSTOP ("--- stopped by SIGSTOP ---"), then killed */
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	usleep(50000);
	CHECK(kill(pid, SIGSTOP));
	CHECK(wait4(pid, &status, WUNTRACED | __WALL, NULL));
	CHECK(kill(pid, SIGKILL));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WSTOPPED | WNOWAIT));
	CHECK(wait4(pid, &status, 0, NULL));
	CHECK(sigprocmask(SIG_UNBLOCK, &chld, NULL));
}

static void case_exec(const char *self)
{
	char *const argv[] = {"ctw-syscalls", "exec-child", "one", "two words", NULL};
	char *const envp[] = {"A=1", "B=two", "C=", NULL};
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		execve(self, argv, envp);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0));

	/* right after fork, with arguments in pages the child has not
	 * touched yet (the binary's read-only data) */
	pid = fork();
	if (pid == 0) {
		execve("/proc/self/exe",
		       (char *const[]){"ctw-syscalls", "exec-child", "from-rodata", NULL},
		       (char *const[]){"X=1", NULL});
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0));

	pid = fork();
	if (pid == 0) {
		int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);

		syscall(SYS_execveat, dfd, "exe", argv, envp, 0);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0));

	CHECK(execve("no-such-program", argv, envp));
}

static void *thread_main(void *arg)
{
	CHECK(prctl(PR_SET_NAME, "wl-thread"));
	return arg;
}

static void case_clone(void)
{
	pthread_t t;
	sigset_t chld;
	int status;
	pid_t pid;

	/* SIGCHLD blocked while the children come and go: its one line shows
	 * at the unblock, not before or after a wait depending on who ran
	 * first */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &chld, NULL));
	pid = (pid_t)syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	CHECK(waitpid(pid, &status, 0));
	pid = vfork();
	if (pid == 0)
		_exit(0);
	CHECK(waitpid(pid, &status, 0));
	/* clone3 writing a pidfd and the child's tid ("=> {pidfd=[N], parent_tid=[N]}") */
	{
		struct clone_args ca = {.flags = CLONE_PIDFD | CLONE_PARENT_SETTID,
					.exit_signal = SIGCHLD};
		siginfo_t si;
		int pidfd = -1;
		pid_t ptid = 0;

		ca.pidfd = (unsigned long)&pidfd;
		ca.parent_tid = (unsigned long)&ptid;
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			_exit(2);
		CHECK(waitid(P_PIDFD, pidfd, &si, WEXITED));
		close(pidfd);
	}
	CHECK(sigprocmask(SIG_UNBLOCK, &chld, NULL));
	CHECK(pthread_create(&t, NULL, thread_main, NULL));
	/* let the thread end first: pthread_join then makes no futex wait,
	 * under strace (which slows the thread) as under ctrwatch */
	usleep(20000);
	CHECK(pthread_join(t, NULL));
}

static void case_time(void)
{
	struct timespec ts = {0, 1000000};

	CHECK(nanosleep(&ts, NULL));
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL));
	ts.tv_nsec = 2000000;
	CHECK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &ts, &ts));
	ts.tv_nsec = -1;
	CHECK(nanosleep(&ts, NULL));
	/* glibc's nanosleep() is clock_nanosleep: the syscall itself */
	ts.tv_nsec = 1000000;
	CHECK(syscall(SYS_nanosleep, &ts, NULL));
	ts.tv_nsec = -1;
	CHECK(syscall(SYS_nanosleep, &ts, NULL));
}

static void case_limits(void)
{
	struct rlimit rl, nrl = {.rlim_cur = 512, .rlim_max = 1024};

	CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl));
	CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &nrl, &rl));
	CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl));
	CHECK(syscall(SYS_setrlimit, RLIMIT_NOFILE, &rl));
	CHECK(syscall(SYS_getrlimit, RLIMIT_CORE, &rl));
	CHECK(syscall(SYS_getrlimit, RLIMIT_STACK, &rl));
	CHECK(syscall(SYS_prlimit64, 0, 99, NULL, &rl));
}

static void case_uname(void)
{
	struct utsname u;

	CHECK(uname(&u));
}

static void case_poll(void)
{
	struct pollfd pfd[2];
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7}, out[4];
	struct timespec ts = {0, 1000};
	struct timeval tv = {0, 1000};
	fd_set rd, wr;
	int p[2], ep;

	CHECK(pipe2(p, O_CLOEXEC));
	CHECK(write(p[1], "x", 1));
	pfd[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = p[1], .events = POLLOUT | POLLIN};
	CHECK(poll(pfd, 2, 0));
	CHECK(ppoll(pfd, 1, &ts, NULL));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	CHECK(select(p[1] + 1, &rd, &wr, NULL, &tv));
	/* glibc's select() is pselect6: the syscall itself */
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	tv = (struct timeval){0, 1000};
	CHECK(syscall(SYS_select, p[1] + 1, &rd, &wr, NULL, &tv));
	FD_ZERO(&rd);
	FD_SET(p[1], &rd);
	CHECK(pselect(p[1] + 1, &rd, NULL, NULL, &ts, NULL));
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK(epoll_wait(ep, out, 4, 0));
	CHECK(read(p[0], out, 1));
	CHECK(epoll_pwait(ep, out, 4, 0, NULL));
	/* nothing to read now: the timeouts */
	CHECK(poll(pfd, 1, 0));
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv = (struct timeval){0, 0};
	CHECK(syscall(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv));
	CHECK(epoll_wait(ep, out, 4, 0));
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	close(ep);
	close(p[0]);
	close(p[1]);
}

static void case_net(void)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(9)};
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = "ping", .iov_len = 4};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	socklen_t len;
	int one = 1, s, sv[2];

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	CHECK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CHECK(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	CHECK(setsockopt(s, SOL_SOCKET, SO_LINGER, &(struct linger){.l_onoff = 1, .l_linger = 5},
			 sizeof(struct linger)));
	len = sizeof(struct linger);
	CHECK(getsockopt(s, SOL_SOCKET, SO_LINGER, &(struct linger){0}, &len));
	/* an int option with a longer value shows the int, a shorter one the
	 * address */
	CHECK(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &(long long){1}, sizeof(long long)));
	CHECK(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, 2));
	len = sizeof(one);
	CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &one, &len));
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	CHECK(bind(s, (struct sockaddr *)&in, sizeof(in)));
	close(s);

	s = socket(AF_INET6, SOCK_DGRAM, 0);
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	in6.sin6_scope_id = 1;
	CHECK(connect(s, (struct sockaddr *)&in6, sizeof(in6)));
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	in6.sin6_scope_id = 0;
	CHECK(connect(s, (struct sockaddr *)&in6, sizeof(in6)));
	close(s);

	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	strcpy(un.sun_path, "wl.sock");
	CHECK(bind(s, (struct sockaddr *)&un, offsetof(struct sockaddr_un, sun_path) + 8));
	len = sizeof(un);
	CHECK(getsockname(s, (struct sockaddr *)&un, &len));
	/* datagrams with addresses: sendto/recvfrom, sendmsg/recvmsg's
	 * msg_name ("msg_namelen=110 => 11") */
	{
		struct sockaddr_un from, peer = {.sun_family = AF_UNIX, .sun_path = "wl2.sock"};
		socklen_t ulen = offsetof(struct sockaddr_un, sun_path) + 9;
		struct iovec dv = {.iov_base = "dgram", .iov_len = 5};
		struct msghdr dm = {
			.msg_name = &un, .msg_namelen = ulen - 1, .msg_iov = &dv, .msg_iovlen = 1};
		int c = socket(AF_UNIX, SOCK_DGRAM, 0);

		CHECK(bind(c, (struct sockaddr *)&peer, ulen));
		CHECK(sendto(c, "hi", 2, 0, (struct sockaddr *)&un, ulen - 1));
		len = sizeof(from);
		CHECK(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len));
		CHECK(sendmsg(c, &dm, 0));
		dv = (struct iovec){.iov_base = buf, .iov_len = sizeof(buf)};
		dm = (struct msghdr){.msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &dv,
				     .msg_iovlen = 1};
		CHECK(recvmsg(s, &dm, 0));
		close(c);
		unlink("wl2.sock");
	}
	close(s);
	unlink("wl.sock");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(un.sun_path, "\0ctw-abstract", 13);
	CHECK(bind(s, (struct sockaddr *)&un, offsetof(struct sockaddr_un, sun_path) + 13));
	close(s);

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK(bind(s, (struct sockaddr *)&nl, sizeof(nl)));
	close(s);

	/* packet and vsock addresses (on fd -1: EBADF, the same with or
	 * without the modules and privileges) */
	s = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	close(s);
	CHECK(bind(-1,
		   (struct sockaddr *)&(struct sockaddr_ll){.sll_family = AF_PACKET,
							    .sll_protocol = htons(ETH_P_ARP),
							    .sll_ifindex = 1,
							    .sll_hatype = ARPHRD_ETHER,
							    .sll_pkttype = PACKET_OUTGOING,
							    .sll_halen = 6,
							    .sll_addr = {2, 0, 0, 0, 0, 1}},
		   sizeof(struct sockaddr_ll)));
	CHECK(connect(-1,
		      (struct sockaddr *)&(struct sockaddr_vm){
			      .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = 1234},
		      sizeof(struct sockaddr_vm)));

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(sendto(sv[0], "hello", 5, MSG_DONTWAIT, NULL, 0));
	CHECK(recvfrom(sv[1], buf, sizeof(buf), 0, NULL, NULL));
	CHECK(sendmsg(sv[0], &mh, 0));
	iov = (struct iovec){.iov_base = buf, .iov_len = sizeof(buf)};
	CHECK(recvmsg(sv[1], &mh, 0));
	/* pass an fd */
	iov = (struct iovec){.iov_base = "F", .iov_len = 1};
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &sv[0], sizeof(int));
	CHECK(sendmsg(sv[0], &mh, MSG_NOSIGNAL));
	iov = (struct iovec){.iov_base = buf, .iov_len = sizeof(buf)};
	mh.msg_controllen = sizeof(cbuf);
	CHECK(recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC));
	memcpy(&s, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	close(s);
	CHECK(shutdown(sv[0], SHUT_WR));
	close(sv[0]);
	close(sv[1]);
}

static void case_ioctl(void)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	struct termios tio;
	int m, s, n, p[2];

	m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	CHECK(ioctl(m, TIOCGPTN, &n));
	n = 0;
	CHECK(ioctl(m, TIOCSPTLCK, &n));
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	CHECK(ioctl(s, TCGETS, &tio));
	CHECK(ioctl(s, TIOCSWINSZ, &ws));
	CHECK(ioctl(s, TIOCGWINSZ, &ws));
	CHECK(ioctl(s, FIONREAD, &n));
	CHECK(ioctl(s, TCSETS, &tio));
	CHECK(ioctl(s, TCSETSW, &tio));
	CHECK(ioctl(s, TIOCOUTQ, &n));
	CHECK(ioctl(s, TIOCGETD, &n));
	close(s);
	close(m);
	/* interfaces: lo is there on every machine */
	{
		struct ifreq ifr = {.ifr_name = "lo"};

		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		CHECK(ioctl(s, SIOCGIFINDEX, &ifr));
		CHECK(ioctl(s, SIOCGIFFLAGS, &ifr));
		CHECK(ioctl(s, SIOCGIFMTU, &ifr));
		ifr.ifr_ifindex = 1;
		CHECK(ioctl(s, SIOCGIFNAME, &ifr));
		strcpy(ifr.ifr_name, "ctw-nosuch0");
		CHECK(ioctl(s, SIOCGIFINDEX, &ifr));
		close(s);
	}
	CHECK(pipe(p));
	CHECK(write(p[1], "abc", 3));
	CHECK(ioctl(p[0], FIONREAD, &n));
	n = 1;
	CHECK(ioctl(p[0], FIONBIO, &n));
	CHECK(ioctl(p[0], TCGETS, &tio));
	close(p[0]);
	close(p[1]);
}

static void case_prctl(void)
{
	char name[16];
	int sig;

	CHECK(prctl(PR_SET_NAME, "wl-prctl"));
	CHECK(prctl(PR_GET_NAME, name));
	CHECK(prctl(PR_GET_DUMPABLE));
	CHECK(prctl(PR_SET_PDEATHSIG, SIGTERM));
	CHECK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN));
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	CHECK(prctl(PR_GET_CHILD_SUBREAPER, &sig));
	CHECK(prctl(PR_GET_TSC, &sig));
	CHECK(prctl(PR_GET_TID_ADDRESS, &(void *){NULL}));
	CHECK(prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0));
	CHECK(prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0, 0, 0));
	CHECK(prctl(PR_SET_NAME, "ctw-syscalls"));
}

static void case_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	CHECK(syscall(SYS_capget, &h, d));
	CHECK(syscall(SYS_capset, &h, d));
	h.version = 0;
	CHECK(syscall(SYS_capget, &h, NULL));
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{"files", case_files},	 {"stat", case_stat},	{"dirs", case_dirs},
	{"fcntl", case_fcntl},	 {"mem", case_mem},	{"signals", case_signals},
	{"procs", case_procs},	 {"clone", case_clone}, {"time", case_time},
	{"limits", case_limits}, {"uname", case_uname}, {"poll", case_poll},
	{"net", case_net},	 {"ioctl", case_ioctl}, {"prctl", case_prctl},
	{"caps", case_caps},
};

int main(int argc, char **argv)
{
	bool all = argc < 2;

	if (argc == 2 && !strcmp(argv[1], "exec-child"))
		return 0;
	if (argc > 1 && !strcmp(argv[1], "exec-child"))
		return argc - 2;
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			puts(cases[i].name);
		puts("exec");
		return 0;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool want = all;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], cases[i].name);
		if (want)
			cases[i].fn();
	}
	/* last: a failing execve, then the forks that exec this binary */
	for (int a = 1; a < argc || all; a++) {
		if (all || !strcmp(argv[a], "exec")) {
			case_exec("/proc/self/exe");
			break;
		}
	}
	return 0;
}
