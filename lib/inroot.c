// SPDX-License-Identifier: Apache-2.0
/*
 * Reading files that a container or an image controls.
 *
 * Everything below a container's root is written by whoever runs in it, so
 * a path there may be a symlink to the host's /etc/shadow, a FIFO that never
 * gives data, /dev/zero, or a 10 GB file.  These helpers resolve the path
 * with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so ".." and absolute
 * symlinks stop at the root and /proc/self/fd/N tricks are refused, open
 * with O_PATH first (opening a device or a FIFO can block or have effects),
 * check that it is a regular file, and only then open it for reading through
 * our own /proc/self/fd, never through the container's path again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "lib.h"

int ctw_open_in_root(int rootfd, const char *path, int flags)
{
	/* openat2 takes no flag besides O_DIRECTORY/O_NOFOLLOW with O_PATH. */
	if (!(flags & O_PATH))
		flags |= O_NOCTTY;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	/* RESOLVE_IN_ROOT treats a leading '/' as the root itself. */
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int ctw_open_file_in_root(int rootfd, const char *path, size_t max_size, struct stat *st_out)
{
	int pfd = ctw_open_in_root(rootfd, path, O_PATH);
	if (pfd < 0)
		return pfd;
	struct stat st;
	if (fstat(pfd, &st) < 0) {
		int e = errno;
		close(pfd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(pfd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if (max_size && (uint64_t)st.st_size > max_size) {
		close(pfd);
		return -EFBIG;
	}
	/* Re-open the very inode we checked, not the path (which the container
	 * may swap meanwhile).  O_NONBLOCK is harmless on a regular file. */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	int fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int e = errno;
	close(pfd);
	if (fd < 0)
		return -e;
	if (st_out)
		*st_out = st;
	return fd;
}

int ctw_read_fd_capped(int fd, size_t max_size, char **out, size_t *len)
{
	size_t cap = 256, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max_size) {
				free(buf);
				return -EFBIG;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		size_t want = cap - n - 1;
		if (want > max_size + 1 - n)
			want = max_size + 1 - n; /* one byte past the cap tells "too big" */
		ssize_t r = read(fd, buf + n, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max_size) { /* the file grew after fstat */
			free(buf);
			return -EFBIG;
		}
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int ctw_read_in_root(int rootfd, const char *path, size_t max_size, char **out, size_t *len)
{
	int fd = ctw_open_file_in_root(rootfd, path, max_size, NULL);
	if (fd < 0)
		return fd;
	int rc = ctw_read_fd_capped(fd, max_size, out, len);
	close(fd);
	return rc;
}

int ctw_read_line_in_root(int rootfd, const char *path, char *buf, size_t size)
{
	char *data;
	size_t n;
	/* A one-line file (hostname, namespace): a little slack for a
	 * trailing newline, anything larger is not what we look for. */
	int rc = ctw_read_in_root(rootfd, path, size + 2, &data, &n);
	if (rc < 0)
		return rc;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		data[--n] = '\0';
	if (n >= size || memchr(data, '\n', n)) {
		free(data);
		return -EFBIG;
	}
	memcpy(buf, data, n + 1);
	free(data);
	return 0;
}
