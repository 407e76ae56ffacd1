// SPDX-License-Identifier: Apache-2.0
/* File helpers, time, and the paths every module agrees on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "lib.h"

int ctw_read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int ctw_read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t r = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (r < 0)
		return -e;
	buf[r] = '\0';
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r'))
		buf[--r] = '\0';
	return 0;
}

bool ctw_keyed_u64(const char *buf, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	for (const char *line = buf; line && *line;) {
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			*v = strtoull(line + kl + 1, NULL, 10);
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

bool ctw_read_keyed_u64(const char *path, const char *key, uint64_t *v)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return ctw_keyed_u64(buf, key, v);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int ctw_write_file(const char *path, const char *data, size_t len, bool create)
{
	int flags = O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0);
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, data, len);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

int ctw_write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int r = ctw_write_file(tmp, data, len, true);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* Leaf first, parents only on ENOENT: the usual case (parent exists) is one
 * mkdir, not one per component (a cgroup path has ~10; syscalls are slow). */
static int mkdir_p(char *buf, mode_t mode)
{
	if (mkdir(buf, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return -ENOENT;
	*slash = '\0';
	int r = mkdir_p(buf, mode);
	*slash = '/';
	if (r < 0)
		return r;
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctw_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (ctw_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -ENAMETOOLONG;
	/* Trailing slashes would make the parent walk stop early. */
	for (size_t n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
	return mkdir_p(buf, mode);
}

int ctw_private_dir(const char *path, mode_t mode, struct ctw_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return ctw_err_set(err, errno, "%s", path);
		char parent[PATH_MAX];
		if (ctw_strlcpy(parent, path, sizeof(parent)) >= sizeof(parent))
			return ctw_err_setx(err, ENAMETOOLONG, "%s: path too long", path);
		char *slash = strrchr(parent, '/');
		int r = 0;
		if (slash && slash != parent) {
			*slash = '\0';
			r = ctw_mkdir_p(parent, 0755);
		}
		if (r < 0 || (mkdir(path, mode) < 0 && errno != EEXIST))
			return ctw_err_set(err, r < 0 ? -r : errno, "create %s", path);
		if (lstat(path, &st) < 0)
			return ctw_err_set(err, errno, "%s", path);
	}
	if (!S_ISDIR(st.st_mode))
		return ctw_err_setx(err, ENOTDIR, "%s is not a directory (a symlink?): refusing it",
				    path);
	if (st.st_uid != geteuid())
		return ctw_err_setx(err, EPERM,
				    "%s is owned by uid %u, not by us (uid %u): refusing it (its "
				    "owner could change what it holds)",
				    path, (unsigned)st.st_uid, (unsigned)geteuid());
	/* Group execute is the most others may have (Docker's 0710). */
	if (st.st_mode & 0067 & ~mode) {
		if (chmod(path, mode) < 0)
			return ctw_err_set(err, errno, "chmod %s", path);
		pr_warn("%s was mode %04o, now %04o: any user of this host could reach what "
			"containers write there (a setuid binary)",
			path, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	}
	return 0;
}

static int rm_entries(DIR *d, dev_t dev);

/* Remove NAME below PARENT.  Cheapest call first (syscalls are slow here):
 * unlink or rmdir by the d_type we were given, and only a non-empty directory
 * is opened and read.  Never crosses into another filesystem: a mount point is
 * EBUSY for rmdir, and a non-empty directory of another device is refused. */
static int rm_rf_at(int parent, const char *name, unsigned char type, dev_t dev)
{
	if (type != DT_DIR && type != DT_UNKNOWN) {
		if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
			return 0;
		if (errno != EISDIR)
			return -errno;
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno == ENOTDIR)
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (errno == EBUSY)
		return -EXDEV; /* a mount point */
	if (errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (st.st_dev != dev) {
		close(fd);
		return -EXDEV; /* another filesystem: never descend */
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int r = rm_entries(d, dev);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

int ctw_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	return rm_rf_at(AT_FDCWD, path, DT_DIR, st.st_dev);
}

/* Remove every entry of d (then closed), first error kept. */
static int rm_entries(DIR *d, dev_t dev)
{
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int rr = rm_rf_at(dirfd(d), de->d_name, de->d_type, dev);
		if (rr && !r)
			r = rr;
	}
	closedir(d);
	return r;
}

int ctw_empty_dir_at(int dirfd)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	rewinddir(d);
	return rm_entries(d, st.st_dev);
}

size_t ctw_dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

bool ctw_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

uint64_t ctw_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ctw_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ctw_format_time(uint64_t realtime_ns, char *buf, size_t size)
{
	time_t sec = (time_t)(realtime_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09lluZ", base, (unsigned long long)(realtime_ns % 1000000000ull));
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

const char *ctw_root_dir(void)
{
	return env_or("CTRWATCH_ROOT", "/var/lib/ctrwatch");
}
const char *ctw_state_dir(void)
{
	return env_or("CTRWATCH_STATE", "/run/ctrwatch");
}
const char *ctw_pin_dir(void)
{
	return env_or("CTRWATCH_BPF_PIN", "/sys/fs/bpf/ctrwatch");
}
