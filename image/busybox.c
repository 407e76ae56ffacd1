// SPDX-License-Identifier: Apache-2.0
/*
 * The built-in image `busybox:latest`, made on first use from the host's
 * static busybox (Debian's busybox-static, /bin/busybox; CTRWATCH_BUSYBOX
 * overrides the path).  The layer is written as a tar and stored through the
 * same path as an imported layer, so it is content-addressed like any other:
 * same busybox binary, same diff_id and image id on every machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

extern char **environ;

#define BUSYBOX_DEFAULT "/bin/busybox"
#define IMAGE_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/home:/bin/false\n";
static const char group[] = "root:x:0:\n"
			    "nobody:x:65534:\n";

/* Directories of the root, in tar order (parents first). */
static const struct {
	const char *path;
	mode_t mode;
} dirs[] = {
	{"bin", 0755},	{"dev", 0755},	   {"etc", 0755},      {"home", 0755}, {"proc", 0555},
	{"root", 0700}, {"run", 0755},	   {"sbin", 0755},     {"sys", 0555},  {"tmp", 01777},
	{"usr", 0755},	{"usr/bin", 0755}, {"usr/sbin", 0755}, {"var", 0755},  {"var/tmp", 01777},
};

/* `busybox --list-full`: applet paths such as "bin/sh", "usr/bin/wget". */
static int applet_list(const char *busybox, char **out, struct ctw_err *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ctw_err_set(err, errno, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	char *argv[] = {(char *)busybox, "--list-full", NULL};
	pid_t pid;
	int r = posix_spawn(&pid, busybox, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r) {
		close(pfd[0]);
		return ctw_err_set(err, r, "run `%s --list-full`", busybox);
	}
	size_t cap = 8192, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t k = read(pfd[0], buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n == 0) {
		free(buf);
		return ctw_err_setx(err, EIO, "`%s --list-full` failed", busybox);
	}
	*out = buf;
	return 0;
}

static int add_entry(struct archive *a, const char *path, mode_t type, mode_t perm,
		     const char *data, size_t len, const char *symlink, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime, 0);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
	int r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && type == AE_IFREG && len &&
	    archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : -EIO;
}

static int write_layer_tar(const char *tar, const char *busybox, const char *bin, size_t bin_len,
			   time_t mtime, struct ctw_err *err)
{
	_cleanup_free_ char *list = NULL;
	int r = applet_list(busybox, &list, err);
	if (r < 0)
		return r;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, tar) != ARCHIVE_OK) {
		r = ctw_err_setx(err, EIO, "create `%s`: %s", tar, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if ((r = add_entry(a, dirs[i].path, AE_IFDIR, dirs[i].mode, NULL, 0, NULL, mtime)))
			goto out_write;
	if ((r = add_entry(a, "bin/busybox", AE_IFREG, 0755, bin, bin_len, NULL, mtime)) ||
	    (r = add_entry(a, "etc/passwd", AE_IFREG, 0644, passwd, strlen(passwd), NULL, mtime)) ||
	    (r = add_entry(a, "etc/group", AE_IFREG, 0644, group, strlen(group), NULL, mtime)))
		goto out_write;
	/* Empty files the runtime bind-mounts over. */
	static const char *const placeholders[] = {"etc/hostname", "etc/hosts", "etc/resolv.conf"};
	for (size_t i = 0; i < ARRAY_SIZE(placeholders); i++)
		if ((r = add_entry(a, placeholders[i], AE_IFREG, 0644, NULL, 0, NULL, mtime)))
			goto out_write;
	char *save = NULL;
	for (char *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		while (*l == '/')
			l++;
		if (!*l || !strcmp(l, "bin/busybox") || strstr(l, ".."))
			continue;
		if ((r = add_entry(a, l, AE_IFLNK, 0777, NULL, 0, "/bin/busybox", mtime)))
			goto out_write;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		r = -EIO;
out_write:
	if (r)
		r = ctw_err_setx(err, EIO, "write `%s`: %s", tar, archive_error_string(a));
out:
	archive_write_free(a);
	return r;
}

const char *image_oci_arch(void)
{
	static struct utsname u;
	uname(&u);
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine;
}

/* The image config (its sha256 is the image id) and the record. */
static int add_record(const char *root, const char *busybox, size_t bin_len, time_t mtime,
		      const char *diffid, struct ctw_err *err)
{
	char created[48];
	ctw_format_time((uint64_t)mtime * 1000000000ull, created, sizeof(created));
	_cleanup_free_ char *history = xasprintf("ctrwatch: built-in image from %s (%lld bytes)",
						 busybox, (long long)bin_len);
	json_t *cfg =
		json_pack("{s:s, s:s, s:s, s:{s:[s], s:[s]}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}",
			  "architecture", image_oci_arch(), "os", "linux", "created", created,
			  "config", "Env", IMAGE_PATH, "Cmd", "sh", "rootfs", "type", "layers",
			  "diff_ids", diffid, "history", "created", created, "created_by", history);
	char *blob = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	int r = store_image_add(root, blob, strlen(blob), CTW_IMAGE_BUILTIN, NULL, err);
	free(blob);
	return r;
}

static int build_locked(const char *root, struct ctw_err *err)
{
	const char *busybox = getenv("CTRWATCH_BUSYBOX");
	if (!busybox || !*busybox)
		busybox = BUSYBOX_DEFAULT;
	struct stat st;
	if (stat(busybox, &st) < 0)
		return ctw_err_set(err, errno,
				   "`%s` (Debian package busybox-static; `make deps` installs it)",
				   busybox);
	_cleanup_free_ char *bin = NULL;
	size_t bin_len = 0;
	int r = ctw_read_file(busybox, &bin, &bin_len);
	if (r < 0)
		return ctw_err_set(err, -r, "read `%s`", busybox);

	_cleanup_free_ char *work = NULL;
	r = store_mktemp(root, "busybox", &work, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *tar = xasprintf("%s/layer.tar", work);
	char diffid[DIGEST_LEN];
	char *layer_tmp = NULL;
	r = write_layer_tar(tar, busybox, bin, bin_len, st.st_mtime, err);
	if (!r) {
		const struct layer_want any = {.size = -1};
		int fd = layer_open_blob(tar, err);
		r = fd < 0 ? fd
			   : layer_prepare(root, fd, "busybox layer", &any, NULL, diffid,
					   &layer_tmp, err);
		if (fd >= 0)
			close(fd);
	}
	if (!r && layer_tmp && (r = store_layer_commit(root, layer_tmp, diffid, err)) < 0)
		ctw_rm_rf(layer_tmp);
	free(layer_tmp);
	if (!r)
		r = add_record(root, busybox, bin_len, st.st_mtime, diffid, err);
	ctw_rm_rf(work);
	return r;
}

int busybox_build(const char *root, struct ctw_err *err)
{
	if (ctw_dl_open(&ctw_libarchive, err) < 0)
		return -1;
	int lock = store_lock(root, err);
	if (lock < 0)
		return lock;
	/* Someone else may have built it while we waited for the lock. */
	json_t *rec = NULL;
	struct ctw_err e2 = {0};
	int r = 0;
	bool present = store_image_lookup(root, CTW_IMAGE_BUILTIN, &rec, &e2) == 0 &&
		       store_image_complete(root, rec);
	json_decref(rec);
	if (!present)
		r = build_locked(root, err);
	store_unlock(lock);
	return r;
}
