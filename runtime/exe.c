// SPDX-License-Identifier: Apache-2.0
/*
 * The ctrwatch binary as the containers see it (runc CVE-2019-5736).
 *
 * The process `exec` starts in a container is, until it runs the command,
 * ctrwatch itself: /proc/PID/exe inside the container names our binary.  A container that can reach it there (root with CAP_SYS_PTRACE,
 * or any process while ours is still dumpable) keeps an O_PATH handle to it,
 * waits until nobody executes it any more, reopens it for writing and
 * replaces the host's ctrwatch: the next `ctrwatch` the host runs is the
 * container's program, as root.
 *
 * So what enters a container must be a file the container cannot write.
 * `exec` calls ctw_exe_protect() first: when /proc/self/exe is writable, it
 * re-executes the same command line from a read-only copy, and the runtime
 * refuses to start the process otherwise.  (`run` needs no such copy: what
 * its container sees run is ctrwatch-stub, runtime/stub.c, whose whole
 * dynamic exec this would cost every start.)
 * The copy is a detached read-only bind mount of the binary (open_tree with
 * OPEN_TREE_CLONE, then mount_setattr MOUNT_ATTR_RDONLY): attached nowhere,
 * it exists only as long as a process maps it, and a write through it fails
 * with EROFS.  It costs two system calls (~20 us here) where a memfd copy of
 * our 5 MB costs 2-4 ms; the memfd (sealed against writes, as runc's and
 * crun's) is the fallback where open_tree is refused.  A binary already on
 * a read-only mount, or already a sealed memfd, is used as it is.
 *
 * A container holding CAP_SYS_ADMIN could make a new writable bind mount of
 * that file; such a container is not confined anyway (README, Security).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "internal.h"

extern char **environ;

/* Set across our own re-exec: a copy that still is not protected must not
 * re-exec again and again. */
#define REEXEC_ENV "_CTRWATCH_EXE_REEXEC"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static bool fd_protected(int fd)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return true;
	int seals = fcntl(fd, F_GET_SEALS);
	const int need = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
	return seals >= 0 && (seals & need) == need;
}

bool ctw_exe_protected(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool r = fd_protected(fd);
	close(fd);
	return r;
}

static char *cmdline_start;
static size_t cmdline_len;

void ctw_cmdline_note(int argc, char **argv)
{
	if (argc < 1 || !argv[0])
		return;
	/* the kernel lays the strings out one after the other */
	cmdline_start = argv[0];
	cmdline_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
}

void ctw_cmdline_hide(void)
{
	if (cmdline_start)
		memset(cmdline_start, 0, cmdline_len);
}

/* Our command line, from /proc/self/cmdline (NULL-terminated; one block). */
static char **self_argv(void)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf;
	size_t len;
	/* ARG_MAX is a fraction of the stack limit: 32 MiB is far beyond it. */
	int r = ctw_read_fd_capped(fd, 32u << 20, &buf, &len);
	close(fd);
	if (r < 0 || !len)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	if (buf[len - 1] != '\0')
		n++; /* (buf is NUL-terminated past len) */
	char **argv = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	return argv; /* argv[0] is buf: free(argv[0]) and free(argv) */
}

/* A detached, read-only bind mount of the binary; an O_PATH fd or -errno. */
static int ro_bind_copy(void)
{
	int fd = open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct mount_attr a = {.attr_set =
				       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A sealed memfd copy of the binary; an fd or -errno. */
static int memfd_copy(void)
{
	int mfd = memfd_create("ctrwatch", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL) /* before Linux 6.3 */
		mfd = memfd_create("ctrwatch", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	int e = 0;
	if (src < 0 || fstat(src, &st) < 0) {
		e = errno;
	} else {
		off_t off = 0;
		while (off < st.st_size) {
			ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
			if (n <= 0) {
				e = n < 0 ? errno : EIO;
				break;
			}
		}
	}
	if (src >= 0)
		close(src);
	if (!e &&
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		e = errno;
	if (e) {
		close(mfd);
		return -e;
	}
	return mfd;
}

int ctw_exe_protect(struct ctw_err *err)
{
	bool again = getenv(REEXEC_ENV) != NULL;
	if (again)
		unsetenv(REEXEC_ENV);
	if (ctw_exe_protected())
		return 0;
	if (again)
		return ctw_err_setx(err, EPERM,
				    "ctrwatch could not run from a read-only copy of its binary "
				    "(/proc/self/exe is still writable): refusing to start a "
				    "container with a binary it could overwrite");
	char **argv = self_argv();
	if (!argv)
		return ctw_err_set(err, errno ? errno : EIO, "read /proc/self/cmdline");
	int fd = ro_bind_copy();
	int how = 0;
	if (fd < 0) {
		pr_debug("read-only bind mount of our binary: %s; a sealed memfd copy instead",
			 strerror(-fd));
		fd = memfd_copy();
	}
	if (fd < 0) {
		how = -fd;
	} else {
		setenv(REEXEC_ENV, "1", 1);
		syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		how = errno;
		unsetenv(REEXEC_ENV);
		close(fd);
	}
	free(argv[0]);
	free(argv);
	return ctw_err_set(err, how,
			   "run from a read-only copy of the ctrwatch binary (CVE-2019-5736 "
			   "protection)");
}
