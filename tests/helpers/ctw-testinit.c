// SPDX-License-Identifier: Apache-2.0
/*
 * A static multi-call payload for runtime tests (crun's tests/init.c idea):
 * run inside a container, it tries one thing and prints what happened.
 *
 *   ctw-testinit try NAME       a dangerous syscall: prints OK or the errno name
 *   ctw-testinit chroot-escape  the classic chroot breakout; prints escaped|contained
 *   ctw-testinit fork N         forks N sleepers; prints how many forks worked
 *   ctw-testinit memhog MB      allocates and touches MB MiB
 *   ctw-testinit zombies N      leaves N zombie grandchildren to PID 1, then waits
 *   ctw-testinit workload G O E C MS [NESTED]
 *                               known syscalls for counting tests: G getppid,
 *                               O openat (each closed), E children that each
 *                               execve "ctw-testinit nop" once, C connects to
 *                               127.0.0.1:9 (refused), then sleeps until MS ms
 *                               after its start; with NESTED (a cgroup dir)
 *                               it first moves itself into it (mkdir)
 *   ctw-testinit nop            exits at once
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EROFS: return "EROFS";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

static long try(const char *name)
{
	if (!strcmp(name, "bpf")) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	}
	if (!strcmp(name, "keyctl"))
		return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
	if (!strcmp(name, "add_key"))
		return syscall(SYS_add_key, "user", "ctw", "x", 1, -3);
	if (!strcmp(name, "request_key"))
		return syscall(SYS_request_key, "user", "ctw", NULL, 0);
	if (!strcmp(name, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!strcmp(name, "kexec_file_load"))
		return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0);
	if (!strcmp(name, "init_module"))
		return syscall(SYS_init_module, NULL, 0, "");
	if (!strcmp(name, "finit_module"))
		return syscall(SYS_finit_module, -1, "", 0);
	if (!strcmp(name, "delete_module"))
		return syscall(SYS_delete_module, "ctw_none", 0);
	if (!strcmp(name, "unshare-user"))
		return unshare(CLONE_NEWUSER);
	if (!strcmp(name, "unshare-net"))
		return unshare(CLONE_NEWNET);
	if (!strcmp(name, "unshare-ns"))
		return unshare(CLONE_NEWNS);
	if (!strcmp(name, "setns"))
		return setns(open("/proc/self/ns/net", O_RDONLY), 0);
	if (!strcmp(name, "mount"))
		return mount("none", "/tmp", "tmpfs", 0, NULL);
	if (!strcmp(name, "umount2"))
		return umount2("/proc", MNT_DETACH);
	if (!strcmp(name, "pivot_root"))
		return syscall(SYS_pivot_root, "/", "/");
	if (!strcmp(name, "perf_event_open")) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_CPU_CLOCK;
		return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	}
	if (!strcmp(name, "userfaultfd"))
		return syscall(SYS_userfaultfd, 0);
	if (!strcmp(name, "io_uring_setup"))
		return syscall(SYS_io_uring_setup, 1, NULL);
	if (!strcmp(name, "open_by_handle_at"))
		return syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
	if (!strcmp(name, "reboot"))
		return syscall(SYS_reboot, 0, 0, 0, NULL); /* bad magic: EINVAL if allowed */
	if (!strcmp(name, "swapon"))
		return syscall(SYS_swapon, "/nonexistent", 0);
	if (!strcmp(name, "clone-newns")) {
		pid_t p = (pid_t)syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid(p, NULL, 0);
		return p;
	}
	if (!strcmp(name, "chroot"))
		return chroot("/");
	if (!strcmp(name, "mknod-disk"))
		return mknod("/tmp/disk", S_IFBLK | 0600, makedev(8, 0))
			       ? -1
			       : open("/tmp/disk", O_RDONLY);
	fprintf(stderr, "unknown probe %s\n", name);
	exit(2);
}

static int chroot_escape(void)
{
	mkdir("/tmp/ctw-jail", 0755);
	if (chroot("/tmp/ctw-jail") < 0) {
		printf("contained (chroot: %s)\n", errname(errno));
		return 0;
	}
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	chroot(".");
	/* The host has a /work or /boot; the busybox image does not. */
	struct stat st;
	bool host = stat("/boot", &st) == 0 || stat("/work", &st) == 0;
	printf("%s\n", host ? "escaped" : "contained");
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Exactly the syscalls promised above (static binary: no loader). */
static int workload(char **argv, int argc)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long g = atol(argv[0]), o = atol(argv[1]), e = atol(argv[2]), c = atol(argv[3]);
	long ms = atol(argv[4]);
	if (argc > 5) {
		char p[4096];
		mkdir(argv[5], 0755);
		snprintf(p, sizeof(p), "%s/cgroup.procs", argv[5]);
		int fd = open(p, O_WRONLY);
		if (fd < 0 || dprintf(fd, "%d\n", getpid()) < 0)
			return 3;
		close(fd);
	}
	for (long i = 0; i < g; i++)
		syscall(SYS_getppid);
	for (long i = 0; i < o; i++) {
		int fd = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	for (long i = 0; i < e; i++) {
		pid_t p = fork();
		if (p == 0) {
			execl("/proc/self/exe", "ctw-testinit", "nop", (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < c; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			connect(fd, (struct sockaddr *)&sa, sizeof(sa));
			close(fd);
		}
	}
	long left = ms - ms_since(&t0);
	if (left > 0) {
		struct timespec d = {left / 1000, (left % 1000) * 1000000};
		nanosleep(&d, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "nop"))
		return 0;
	if (argc >= 7 && !strcmp(argv[1], "workload"))
		return workload(argv + 2, argc - 2);
	if (argc >= 3 && !strcmp(argv[1], "try")) {
		errno = 0;
		long r = try(argv[2]);
		printf("%s\n", r >= 0 ? "OK" : errname(errno));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "chroot-escape"))
		return chroot_escape();
	if (argc >= 3 && !strcmp(argv[1], "fork")) {
		int n = atoi(argv[2]), ok = 0;
		for (int i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				sleep(5);
				_exit(0);
			}
			if (p > 0)
				ok++;
		}
		printf("%d\n", ok);
		fflush(stdout);
		kill(0, SIGKILL);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "memhog")) {
		size_t mb = strtoul(argv[2], NULL, 10);
		for (size_t i = 0; i < mb; i++) {
			char *p = malloc(1 << 20);
			if (!p)
				return 3;
			memset(p, 1, 1 << 20);
		}
		printf("allocated %zu MiB\n", mb);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "zombies")) {
		int n = atoi(argv[2]);
		for (int i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				/* The grandchild outlives its parent: PID 1 inherits it. */
				if (fork() == 0) {
					usleep(100000);
					_exit(0);
				}
				_exit(0);
			}
			waitpid(p, NULL, 0);
		}
		sleep(1);
		return 0;
	}
	fprintf(stderr, "usage: ctw-testinit try NAME | chroot-escape | fork N | memhog MB | "
			"zombies N\n");
	return 2;
}
