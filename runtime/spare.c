// SPDX-License-Identifier: Apache-2.0
/*
 * Spare container directories: ROOT/containers/ID holds the container's
 * upper/ and work/ (and container.log when detached).  Making three
 * directories at every start and removing them at every exit costs disk
 * work: where the filesystem discards freed blocks at once (ext4 mounted
 * with `discard`, as on this project's CI machines), each removed
 * directory waits 0.1-0.3 ms on the device.  So the directory of a
 * container that is gone is emptied and kept, up to SPARE_MAX of them,
 * under ROOT/containers/.spare/, and the next container takes one by a
 * rename.
 *
 * A spare is only ever an empty upper/ (0755 root:root, no xattrs: the
 * overlay's own marks are removed) and a work/ (0700 root:root, no xattrs)
 * holding at most what overlayfs made in it: one that is anything else
 * after its container (a chmod of /, an ACL, an unexpected entry) is
 * removed, not kept.  What overlayfs made in work/ (which it refuses to
 * mount over after a `volatile` mount) the next container removes: it
 * claims a spare first thing and empties its work/ on a thread while it
 * prepares the rest, since that removal is disk work too.
 * `ctrwatch gc` removes the spares.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "internal.h"

#define SPARE_MAX 4

static char *spare_dir(void)
{
	return xasprintf("%s/containers/.spare", ctw_root_dir());
}

/* Empty what overlayfs left in the claimed spare's work/. */
static void *clean_main(void *arg)
{
	struct spare *sp = arg;
	int fd = openat(sp->fd, "work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	sp->result = fd < 0 ? -errno : ctw_empty_dir_at(fd);
	if (fd >= 0)
		close(fd);
	return NULL;
}

void spare_claim(struct spare *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	char *sd = spare_dir();
	DIR *d = opendir(sd);
	if (!d) {
		free(sd);
		return;
	}
	snprintf(sp->path, sizeof(sp->path), "%s/.claimed-%d", sd, (int)getpid());
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", sd, de->d_name);
		int r = rename(p, sp->path);
		int e = errno;
		free(p);
		if (r == 0) {
			sp->fd = open(sp->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			break;
		}
		if (e != ENOENT)
			break; /* ENOENT: another run took it first */
	}
	closedir(d);
	free(sd);
	if (sp->fd < 0) {
		sp->path[0] = '\0';
		return;
	}
	sp->threaded = thread_start_quiet(&sp->thread, NULL, clean_main, sp);
	if (!sp->threaded)
		clean_main(sp);
}

static void join(struct spare *sp)
{
	if (sp->threaded)
		pthread_join(sp->thread, NULL);
	sp->threaded = false;
}

bool spare_use(struct spare *sp, const char *cdir)
{
	if (sp->fd < 0)
		return false;
	join(sp);
	/* (A spare kept by an older ctrwatch may be 0755.) */
	bool ok = sp->result == 0 && fchmod(sp->fd, 0700) == 0 && rename(sp->path, cdir) == 0;
	if (!ok)
		ctw_rm_rf(sp->path);
	close(sp->fd);
	sp->fd = -1;
	sp->path[0] = '\0';
	return ok;
}

void spare_release(struct spare *sp)
{
	if (sp->fd < 0)
		return;
	join(sp);
	ctw_rm_rf(sp->path);
	close(sp->fd);
	sp->fd = -1;
	sp->path[0] = '\0';
}

/* A directory (emptied) as we made it: mode, owner, no xattrs (an ACL is
 * one; so is an SELinux label: there, nothing is kept). */
static bool pristine(int dfd, const char *name, mode_t mode)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
	    (st.st_mode & 07777) != mode || st.st_uid != 0 || st.st_gid != 0)
		return false;
	char path[64], names[256];
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, name);
	ssize_t n = llistxattr(path, names, sizeof(names));
	if (n < 0)
		return false;
	/* overlayfs's own marks on the upper root go with what it held: its
	 * id of the layer (uuid=on), and "impure" (a copied-up directory was
	 * in it). */
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
		if ((strcmp(names + i, "trusted.overlay.uuid") &&
		     strcmp(names + i, "trusted.overlay.impure")) ||
		    lremovexattr(path, names + i) < 0)
			return false;
	return true;
}

/* Empty the directory name below dfd; false if that failed. */
static bool empty_below(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	int r = ctw_empty_dir_at(fd);
	close(fd);
	return r == 0;
}

int spare_retire(const char *cdir)
{
	int dfd = open(cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : ctw_rm_rf(cdir);
	bool keep = true;
	DIR *d = fdopendir(dup(dfd));
	if (!d) {
		keep = false;
	} else {
		struct dirent *de;
		while (keep && (de = readdir(d))) {
			const char *n = de->d_name;
			if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "upper") ||
			    !strcmp(n, "work"))
				continue;
			if (!strcmp(n, "container.log"))
				keep = unlinkat(dfd, n, 0) == 0;
			else
				keep = false;
		}
		closedir(d);
	}
	/* What overlayfs made in work/ stays: the next container removes it
	 * while it starts (spare_claim), not this one while it ends. */
	keep = keep && empty_below(dfd, "upper") && pristine(dfd, "upper", 0755) &&
	       pristine(dfd, "work", 0700);
	close(dfd);
	if (keep) {
		char *sd = spare_dir();
		const char *base = strrchr(cdir, '/');
		char *to = xasprintf("%s/%s", sd, base ? base + 1 : cdir);
		keep = ctw_dir_count(sd) < SPARE_MAX && (mkdir(sd, 0700) == 0 || errno == EEXIST) &&
		       rename(cdir, to) == 0;
		free(to);
		free(sd);
	}
	return keep ? 0 : ctw_rm_rf(cdir);
}

/* The pid in ".claimed-PID" or ".gc-PID-N"; 0 for another name. */
static int holder_pid(const char *name)
{
	const char *dash = name[0] == '.' ? strchr(name, '-') : NULL;
	return dash ? atoi(dash + 1) : 0;
}

int spare_clear(void)
{
	/* Not the directory at once: a run that is starting has claimed a
	 * spare there (.claimed-PID), and one may claim another meanwhile.
	 * Each spare is taken by a rename first, as a run takes one; a claim
	 * whose run is gone goes too. */
	char *sd = spare_dir();
	DIR *d = opendir(sd);
	int r = 0;
	unsigned n = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		int pid = holder_pid(name);
		if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
			continue; /* its run (or gc) is alive */
		char *p = xasprintf("%s/%s", sd, name);
		char *mine = xasprintf("%s/.gc-%d-%u", sd, (int)getpid(), n++);
		if (rename(p, mine) == 0 && ctw_rm_rf(mine) < 0)
			r = -EIO;
		free(mine);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(sd); /* when nothing is left: a claim keeps it */
	free(sd);
	return r;
}
