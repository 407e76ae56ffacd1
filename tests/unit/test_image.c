// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for image/: references, config parsing, the built-in busybox
 * image (first use, fast path, 20 concurrent first uses), safe layer
 * extraction (whiteouts, opaque dirs, traversal), digest verification
 * before extraction, blobs that are not regular files, the size cap, the
 * xattrs kept, the OCI/docker JSON checks (oci.c), config bounds and
 * removal.  Parts that need root (whiteout devices, trusted.* xattrs) skip
 * themselves when run unprivileged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "../../image/internal.h"

static char *mkroot(void)
{
	char *d = xstrdup("/tmp/ctw-test-image.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---- a tiny tar writer for crafted layers ---- */

struct tent {
	const char *path;
	mode_t type;	  /* AE_IFREG, AE_IFDIR, AE_IFLNK; 0 = hard link */
	const char *data; /* file content, or link target */
};

static void write_tar(const char *path, const struct tent *ents, size_t n, bool gzip)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].path);
		archive_entry_set_mtime(e, 1000000000, 0);
		if (ents[i].type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, ents[i].data);
		} else {
			archive_entry_set_filetype(e, ents[i].type);
			archive_entry_set_perm(e, ents[i].type == AE_IFDIR ? 0755 : 0644);
			if (ents[i].type == AE_IFLNK)
				archive_entry_set_symlink(e, ents[i].data);
			if (ents[i].type == AE_IFREG)
				archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (ents[i].type == AE_IFREG)
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* ---- references and configs ---- */

static void test_ref_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"busybox", "busybox:latest"},
		{"busybox:1.35", "busybox:1.35"},
		{"localhost:5000/app", "localhost:5000/app:latest"},
		{"localhost:5000/app:v2", "localhost:5000/app:v2"},
		{"", NULL},
		{"a b", NULL},
		{"busybox:", NULL},
		{"/abs", NULL},
		{"x/", NULL},
		{"../x", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *n = ctw_image_ref_normalize(cases[i].in);
		if (cases[i].out) {
			assert_non_null(n);
			assert_string_equal(n, cases[i].out);
		} else {
			assert_null(n);
		}
		free(n);
	}
}

static void test_config_parse(void **state)
{
	struct ctw_image_config c;
	struct ctw_err err = {0};
	assert_int_equal(
		ctw_image_config_parse("{\"architecture\":\"amd64\",\"config\":{"
				       "\"Entrypoint\":[\"/bin/app\",\"--x\"],\"Cmd\":[\"serve\"],"
				       "\"Env\":[\"A=1\",\"PATH=/bin\"],\"WorkingDir\":\"/srv\","
				       "\"User\":\"nobody:nogroup\",\"StopSignal\":\"SIGQUIT\"}}",
				       &c, &err),
		0);
	assert_string_equal(c.entrypoint[0], "/bin/app");
	assert_string_equal(c.entrypoint[1], "--x");
	assert_null(c.entrypoint[2]);
	assert_string_equal(c.cmd[0], "serve");
	assert_string_equal(c.env[1], "PATH=/bin");
	assert_string_equal(c.workdir, "/srv");
	assert_string_equal(c.user, "nobody:nogroup");
	assert_string_equal(c.stop_signal, "SIGQUIT");
	ctw_image_config_fini(&c);

	/* Unset and null fields stay NULL; an empty WorkingDir is unset. */
	assert_int_equal(
		ctw_image_config_parse("{\"config\":{\"Entrypoint\":null,\"WorkingDir\":\"\"}}", &c,
				       &err),
		0);
	assert_null(c.entrypoint);
	assert_null(c.cmd);
	assert_null(c.workdir);
	ctw_image_config_fini(&c);

	assert_int_equal(ctw_image_config_parse("{\"config\":{\"Cmd\":\"sh\"}}", &c, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "Cmd"));
	assert_int_equal(ctw_image_config_parse("{\"config\":{\"Env\":[1]}}", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "Env[0]"));
	assert_int_equal(ctw_image_config_parse("{oops", &c, &err), -EINVAL);
}

/* ---- the built-in image ---- */

static void test_busybox_builtin(void **state)
{
	char *root = mkroot();
	struct ctw_err err = {0};
	struct ctw_image *img = NULL;
	int r = ctw_image_get(root, "busybox", &img, &err);
	if (r == -ENOENT && !ctw_path_exists("/bin/busybox")) {
		ctw_rm_rf(root);
		free(root);
		skip();
		return; /* not reached: skip() jumps out */
	}
	assert_int_equal(r, 0);
	assert_string_equal(img->name, "busybox:latest");
	assert_non_null(digest_hex(img->id));
	assert_int_equal(img->nlayers, 1);
	assert_string_equal(img->config.cmd[0], "sh");
	assert_null(img->config.cmd[1]);
	assert_true(ctw_str_has_prefix(img->config.env[0], "PATH="));
	assert_null(img->config.entrypoint);

	const char *l = img->layers[0];
	assert_true(ctw_str_has_prefix(l, root));
	char p[4096], link[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/bin/busybox", l);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 0111));
	snprintf(p, sizeof(p), "%s/bin/sh", l);
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "/bin/busybox");
	snprintf(p, sizeof(p), "%s/tmp", l);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	snprintf(p, sizeof(p), "%s/etc/passwd", l);
	char *pw = NULL;
	assert_int_equal(ctw_read_file(p, &pw, NULL), 0);
	assert_non_null(strstr(pw, "root:x:0:0:"));
	assert_non_null(strstr(pw, "nobody:x:65534:65534:"));
	free(pw);
	snprintf(p, sizeof(p), "%s/etc/group", l);
	assert_true(ctw_path_exists(p));
	snprintf(p, sizeof(p), "%s/root", l);
	assert_true(ctw_path_exists(p));

	/* Present: the same image, quickly, by name, by id and by id prefix. */
	char id[80];
	ctw_strlcpy(id, img->id, sizeof(id));
	ctw_image_free(img);
	uint64_t t0 = ctw_now_ns();
	assert_int_equal(ctw_image_get(root, "busybox:latest", &img, &err), 0);
	uint64_t dt = ctw_now_ns() - t0;
	assert_string_equal(img->id, id);
	ctw_image_free(img);
	assert_true(dt < 20 * 1000000ull); /* a stat and a small JSON read */
	assert_int_equal(ctw_image_get(root, id, &img, &err), 0);
	ctw_image_free(img);
	char prefix[20];
	snprintf(prefix, sizeof(prefix), "%.12s", id + 7);
	assert_int_equal(ctw_image_get(root, prefix, &img, &err), 0);
	assert_string_equal(img->id, id);
	ctw_image_free(img);

	/* Deterministic: a second store gets the same content address. */
	char *root2 = mkroot();
	assert_int_equal(ctw_image_get(root2, "busybox", &img, &err), 0);
	assert_string_equal(img->id, id);
	ctw_image_free(img);
	ctw_rm_rf(root2);
	free(root2);

	/* A layer deleted behind the store's back: busybox is rebuilt. */
	assert_int_equal(ctw_image_get(root, "busybox", &img, &err), 0);
	assert_int_equal(ctw_rm_rf(img->layers[0]), 0);
	ctw_image_free(img);
	assert_int_equal(ctw_image_get(root, "busybox", &img, &err), 0);
	assert_string_equal(img->id, id);
	snprintf(p, sizeof(p), "%s/bin/busybox", img->layers[0]);
	assert_true(ctw_path_exists(p));
	ctw_image_free(img);

	assert_int_equal(ctw_image_get(root, "nosuch", &img, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "nosuch"));
	assert_int_equal(ctw_image_get(root, "bad name", &img, &err), -EINVAL);

	snprintf(p, sizeof(p), "%s/tmp", root);
	assert_int_equal(count_entries(p), 0);
	ctw_rm_rf(root);
	free(root);
}

#define NPAR 20

static void test_busybox_concurrent(void **state)
{
	if (!ctw_path_exists("/bin/busybox"))
		skip();
	char *root = mkroot();
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pids[NPAR];
	for (int i = 0; i < NPAR; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			struct ctw_err err = {0};
			struct ctw_image *img = NULL;
			if (ctw_image_get(root, "busybox", &img, &err) < 0) {
				fprintf(stderr, "child: %s\n", err.msg);
				_exit(1);
			}
			int ok = img->nlayers == 1 && ctw_path_exists(img->layers[0]);
			ctw_image_free(img);
			_exit(ok ? 0 : 2);
		}
	}
	close(go[0]);
	close(go[1]); /* everyone starts at once */
	for (int i = 0; i < NPAR; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	char p[4096];
	snprintf(p, sizeof(p), "%s/layers/sha256", root);
	assert_int_equal(count_entries(p), 1);
	snprintf(p, sizeof(p), "%s/images", root);
	assert_int_equal(count_entries(p), 2); /* one record + index.json */
	snprintf(p, sizeof(p), "%s/tmp", root);
	assert_int_equal(count_entries(p), 0);
	ctw_rm_rf(root);
	free(root);
}

/* ---- layers ---- */

static void test_layer_whiteouts(void **state)
{
	char *root = mkroot();
	char tar[4096], dest[4096], p[4096];
	snprintf(tar, sizeof(tar), "%s/l.tar.gz", root);
	snprintf(dest, sizeof(dest), "%s/out", root);
	assert_int_equal(mkdir(dest, 0755), 0);
	static const struct tent ents[] = {
		{"./etc/", AE_IFDIR, NULL},
		{"./etc/conf", AE_IFREG, "hello\n"},
		{"etc/alias", 0, "etc/conf"},
		{"etc/.wh.removed", AE_IFREG, ""},
		{"opaque/.wh..wh..opq", AE_IFREG, ""},
		{"opaque/kept", AE_IFREG, "upper\n"},
		{"deep/a/b/c", AE_IFREG, "implicit parents\n"},
		{"link", AE_IFLNK, "/etc/conf"},
		{".wh..wh.plnk", AE_IFDIR, NULL},
	};
	write_tar(tar, ents, ARRAY_SIZE(ents), true);
	struct layer_result res;
	struct ctw_err err = {0};
	int r = layer_extract(tar, dest, NULL, &res, &err);
	if (r < 0 && geteuid() != 0) {
		/* whiteout devices and trusted.* need root */
		ctw_rm_rf(root);
		free(root);
		skip();
		return; /* not reached: skip() jumps out */
	}
	assert_int_equal(r, 0);
	struct stat st, st2;
	snprintf(p, sizeof(p), "%s/etc/removed", dest);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	snprintf(p, sizeof(p), "%s/etc/.wh.removed", dest);
	assert_false(ctw_path_exists(p));
	snprintf(p, sizeof(p), "%s/opaque", dest);
	char v[8] = "";
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	snprintf(p, sizeof(p), "%s/opaque/.wh..wh..opq", dest);
	assert_false(ctw_path_exists(p));
	snprintf(p, sizeof(p), "%s/etc/conf", dest);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/etc/alias", dest);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino); /* hard link kept */
	assert_int_equal(st.st_mtime, 1000000000);
	snprintf(p, sizeof(p), "%s/deep/a/b/c", dest);
	assert_true(ctw_path_exists(p));
	snprintf(p, sizeof(p), "%s/.wh..wh.plnk", dest);
	assert_false(ctw_path_exists(p));

	/* The diff_id is the sha256 of the uncompressed tar. */
	char plain[4096], want[DIGEST_LEN];
	snprintf(plain, sizeof(plain), "%s/l.tar", root);
	write_tar(plain, ents, ARRAY_SIZE(ents), false);
	assert_int_equal(sha256_file(plain, want, NULL), 0);
	assert_string_equal(res.diffid, want);
	assert_int_equal(sha256_file(tar, want, NULL), 0);
	assert_string_equal(res.digest, want);
	ctw_rm_rf(root);
	free(root);
}

/* A file capability (security.capability) survives extraction: it must be
 * set after the chown that would clear it. */
static void test_layer_file_caps(void **state)
{
	if (geteuid() != 0)
		skip();
	char *root = mkroot();
	char tar[4096], dest[4096], p[4096];
	snprintf(tar, sizeof(tar), "%s/caps.tar", root);
	snprintf(dest, sizeof(dest), "%s/out", root);
	assert_int_equal(mkdir(dest, 0755), 0);
	/* vfs_cap_data v2: effective, permitted = CAP_NET_RAW (13) */
	uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, tar), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "ping");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0755);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_size(e, 2);
	archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	archive_write_data(a, "#!", 2);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	struct layer_result res;
	struct ctw_err err = {0};
	assert_int_equal(layer_extract(tar, dest, NULL, &res, &err), 0);
	snprintf(p, sizeof(p), "%s/ping", dest);
	uint32_t got[5] = {0};
	assert_int_equal(getxattr(p, "security.capability", got, sizeof(got)), sizeof(cap));
	assert_int_equal(got[1], 1u << 13);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	ctw_rm_rf(root);
	free(root);
}

static void expect_rejected(const struct tent *ents, size_t n, const char *entry)
{
	char *root = mkroot();
	char tar[4096], dest[4096];
	snprintf(tar, sizeof(tar), "%s/bad.tar", root);
	snprintf(dest, sizeof(dest), "%s/out", root);
	assert_int_equal(mkdir(dest, 0755), 0);
	write_tar(tar, ents, n, false);
	struct layer_result res;
	struct ctw_err err = {0};
	assert_true(layer_extract(tar, dest, NULL, &res, &err) < 0);
	char want[512];
	snprintf(want, sizeof(want), "entry `%s`", entry);
	if (!strstr(err.msg, want))
		fail_msg("error `%s` does not name `%s`", err.msg, entry);
	/* Nothing landed outside the layer. */
	char p[4096];
	snprintf(p, sizeof(p), "%s/escaped", root);
	assert_false(ctw_path_exists(p));
	ctw_rm_rf(root);
	free(root);
}

static void test_layer_traversal(void **state)
{
	const struct tent dotdot[] = {
		{"ok", AE_IFREG, "x"},
		{"sub/../../escaped", AE_IFREG, "x"},
	};
	expect_rejected(dotdot, ARRAY_SIZE(dotdot), "sub/../../escaped");
	const struct tent abs[] = {{"/tmp/escaped", AE_IFREG, "x"}};
	expect_rejected(abs, ARRAY_SIZE(abs), "/tmp/escaped");
	const struct tent through_link[] = {
		{"up", AE_IFLNK, ".."},
		{"up/escaped", AE_IFREG, "x"},
	};
	expect_rejected(through_link, ARRAY_SIZE(through_link), "up/escaped");
	const struct tent hardlink_out[] = {{"h", 0, "../escaped"}};
	expect_rejected(hardlink_out, ARRAY_SIZE(hardlink_out), "h");
	const struct tent wh_dotdot[] = {{"a/.wh...", AE_IFREG, ""}};
	expect_rejected(wh_dotdot, ARRAY_SIZE(wh_dotdot), "a/.wh...");
}

/* layer_prepare on a blob path with what the manifest would say. */
static int prep(const char *root, const char *tar, const char *digest, int64_t size,
		const char *diffid, struct layer_budget *b, char *diffid_out, char **tmp,
		struct ctw_err *err)
{
	const struct layer_want want = {.digest = digest, .size = size, .diffid = diffid};
	int fd = layer_open_blob(tar, err);
	if (fd < 0)
		return fd;
	int r = layer_prepare(root, fd, "test layer", &want, b, diffid_out, tmp, err);
	close(fd);
	return r;
}

static void test_layer_verify(void **state)
{
	char *root = mkroot();
	char tar[4096], good[DIGEST_LEN], diffid[DIGEST_LEN], p[4096];
	snprintf(tar, sizeof(tar), "%s/l.tar.gz", root);
	const struct tent ents[] = {{"hello", AE_IFREG, "world\n"}};
	write_tar(tar, ents, 1, true);
	uint64_t size;
	assert_int_equal(sha256_file(tar, good, &size), 0);
	const char *bad = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	char *tmp = NULL;
	struct ctw_err err = {0};

	assert_int_equal(prep(root, tar, bad, -1, NULL, NULL, diffid, &tmp, &err), -EBADMSG);
	assert_null(tmp);
	assert_non_null(strstr(err.msg, "mismatch"));
	snprintf(p, sizeof(p), "%s/tmp", root);
	assert_true(count_entries(p) <= 0); /* -1: not even made */
	snprintf(p, sizeof(p), "%s/layers/sha256", root);
	assert_true(count_entries(p) <= 0); /* -1: not even made */
	/* A size that lies is refused before the blob is even read. */
	assert_int_equal(prep(root, tar, good, (int64_t)size + 1, NULL, NULL, diffid, &tmp, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "descriptor says"));
	snprintf(p, sizeof(p), "%s/tmp", root);
	assert_true(count_entries(p) <= 0); /* -1: not even made */

	assert_int_equal(prep(root, tar, good, -1, bad, NULL, diffid, &tmp, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "diff_id"));
	/* Only a diff_id (docker save): checked before extraction too. */
	assert_int_equal(prep(root, tar, NULL, -1, bad, NULL, diffid, &tmp, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "diff_id"));
	snprintf(p, sizeof(p), "%s/tmp", root);
	assert_true(count_entries(p) <= 0); /* -1: not even made */

	assert_int_equal(prep(root, tar, good, (int64_t)size, NULL, NULL, diffid, &tmp, &err), 0);
	assert_non_null(tmp);
	assert_int_equal(store_layer_commit(root, tmp, diffid, &err), 0);
	free(tmp);
	assert_true(store_layer_exists(root, diffid));
	/* Stored already: verified again, not extracted again. */
	assert_int_equal(prep(root, tar, good, -1, diffid, NULL, diffid, &tmp, &err), 0);
	assert_null(tmp);
	assert_int_equal(prep(root, tar, NULL, -1, diffid, NULL, diffid, &tmp, &err), 0);
	assert_null(tmp);
	assert_int_equal(prep(root, tar, bad, -1, diffid, NULL, diffid, &tmp, &err), -EBADMSG);

	/* A truncated gzip stream is an error, not a short layer. */
	assert_int_equal(truncate(tar, 40), 0);
	assert_true(prep(root, tar, NULL, -1, NULL, NULL, diffid, &tmp, &err) < 0);
	ctw_rm_rf(root);
	free(root);
}

/* Blobs that are not regular files are refused at once (a FIFO would block
 * the read forever, a device never end). */
static void test_layer_not_regular(void **state)
{
	char *root = mkroot();
	char fifo[4096], dest[4096];
	snprintf(fifo, sizeof(fifo), "%s/fifo", root);
	snprintf(dest, sizeof(dest), "%s/out", root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(dest, 0755), 0);
	struct layer_result res;
	struct ctw_err err = {0};
	assert_int_equal(layer_extract(fifo, dest, NULL, &res, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file (a FIFO)"));
	char *tmp = NULL, diffid[DIGEST_LEN];
	assert_int_equal(prep(root, "/dev/zero", NULL, -1, NULL, NULL, diffid, &tmp, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "a character device"));
	assert_int_equal(prep(root, fifo, NULL, -1, NULL, NULL, diffid, &tmp, &err), -EINVAL);
	assert_null(tmp);
	ctw_rm_rf(root);
	free(root);
}

/* The cap on uncompressed bytes: a layer passing it stops there (EFBIG);
 * an entry claiming more than the cap is refused from its header. */
static void test_layer_budget(void **state)
{
	char *root = mkroot();
	char tar[4096], dest[4096];
	snprintf(tar, sizeof(tar), "%s/big.tar.gz", root);
	snprintf(dest, sizeof(dest), "%s/out", root);
	assert_int_equal(mkdir(dest, 0755), 0);
	static char data[200000];
	memset(data, 'z', sizeof(data) - 1);
	const struct tent ents[] = {{"a", AE_IFREG, data}, {"b", AE_IFREG, data}};
	write_tar(tar, ents, 2, true);
	struct layer_result res;
	struct ctw_err err = {0};
	struct layer_budget b = {.max = 300000};
	assert_int_equal(layer_extract(tar, dest, &b, &res, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "more than 300000 bytes uncompressed"));
	assert_true(b.used > b.max);
	/* Under the cap, the budget is what the layers used. */
	ctw_rm_rf(dest);
	assert_int_equal(mkdir(dest, 0755), 0);
	b = (struct layer_budget){.max = 1 << 20};
	assert_int_equal(layer_extract(tar, dest, &b, &res, &err), 0);
	assert_true(b.used >= 2 * (sizeof(data) - 1) && b.used < b.max);
	/* An entry larger than the cap by its header alone. */
	ctw_rm_rf(dest);
	assert_int_equal(mkdir(dest, 0755), 0);
	b = (struct layer_budget){.max = 100000};
	assert_int_equal(layer_extract(tar, dest, &b, &res, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "entry `a`: 199999 bytes, more than 100000 bytes"));
	char s[32];
	layer_fmt_size(64 << 20, s, sizeof(s));
	assert_string_equal(s, "64 MiB");
	layer_fmt_size(16ull << 30, s, sizeof(s));
	assert_string_equal(s, "16 GiB");
	layer_fmt_size(1000, s, sizeof(s));
	assert_string_equal(s, "1000 bytes");
	ctw_rm_rf(root);
	free(root);
}

static void test_layer_xattrs(void **state)
{
	assert_true(layer_xattr_allowed("user.mime_type"));
	assert_true(layer_xattr_allowed("security.capability"));
	assert_true(layer_xattr_allowed("system.posix_acl_access"));
	assert_true(layer_xattr_allowed("system.posix_acl_default"));
	assert_false(layer_xattr_allowed("trusted.overlay.opaque"));
	assert_false(layer_xattr_allowed("trusted.overlay.redirect"));
	assert_false(layer_xattr_allowed("trusted.overlay.metacopy"));
	assert_false(layer_xattr_allowed("trusted.foo"));
	assert_false(layer_xattr_allowed("user.overlay.opaque"));
	assert_false(layer_xattr_allowed("security.selinux"));
	assert_false(layer_xattr_allowed("security.ima"));
	assert_false(layer_xattr_allowed("security.evm"));
	assert_false(layer_xattr_allowed("security.SMACK64"));
	assert_false(layer_xattr_allowed("system.nfs4_acl"));
	assert_false(layer_xattr_allowed(""));
}

/* ---- what the JSON documents say (oci.c) ---- */

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	return j;
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_oci_desc(void **state)
{
	struct oci_desc d;
	struct ctw_err err = {0};
	json_t *j = J("{\"digest\":\"sha256:" HEX64 "\",\"size\":12,\"mediaType\":\"m\"}");
	assert_int_equal(oci_desc_parse(j, "layer 0", &d, &err), 0);
	assert_string_equal(d.digest, "sha256:" HEX64);
	assert_int_equal(d.size, 12);
	assert_string_equal(d.media_type, "m");
	json_decref(j);
	static const char *bad[] = {
		"[]",
		"{\"digest\":\"sha256:" HEX64 "0\"}",
		"{\"digest\":\"sha512:" HEX64 "\"}",
		"{\"digest\":\"sha256:../../../../etc/passwd\"}",
		"{\"digest\":\"sha256:" HEX64 "\",\"size\":-1}",
		"{\"digest\":\"sha256:" HEX64 "\",\"size\":\"12\"}",
		"{\"digest\":12}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		j = J(bad[i]);
		err.msg[0] = '\0';
		assert_int_equal(oci_desc_parse(j, "layer 0", &d, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "layer 0"));
		json_decref(j);
	}
	j = J("{\"digest\":\"sha256:" HEX64 "\"}");
	assert_int_equal(oci_desc_parse(j, "config", &d, &err), 0);
	assert_int_equal(d.size, -1);
	json_decref(j);
}

static void test_oci_manifest(void **state)
{
	struct oci_manifest m;
	struct ctw_err err = {0};
	char(*ids)[DIGEST_LEN] = NULL;
	json_t *man = J("{\"config\":{\"digest\":\"sha256:" HEX64 "\"},\"layers\":["
			"{\"digest\":\"sha256:" HEX64 "\",\"size\":1},"
			"{\"digest\":\"sha256:" HEX64 "\",\"size\":2}]}");
	assert_int_equal(oci_manifest_parse(man, &m, &err), 0);
	assert_int_equal(m.nlayers, 2);
	assert_int_equal(m.layers[1].size, 2);
	json_t *cfg = J("{\"rootfs\":{\"diff_ids\":[\"sha256:" HEX64 "\"]}}");
	assert_int_equal(oci_config_diffids(cfg, m.nlayers, &ids, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "2 layers, the config 1 diff_ids"));
	json_decref(cfg);
	cfg = J("{\"rootfs\":{\"diff_ids\":[\"sha256:" HEX64 "\", 7]}}");
	assert_int_equal(oci_config_diffids(cfg, m.nlayers, &ids, &err), -EINVAL);
	assert_null(ids);
	json_decref(cfg);
	cfg = J("{\"rootfs\":{\"diff_ids\":[\"sha256:" HEX64 "\",\"sha256:" HEX64 "\"]}}");
	assert_int_equal(oci_config_diffids(cfg, m.nlayers, &ids, &err), 0);
	assert_string_equal(ids[1], "sha256:" HEX64);
	free(ids);
	json_decref(cfg);
	oci_manifest_fini(&m);
	json_decref(man);
	/* More layers than overlayfs stacks: refused before anything is read. */
	man = J("{\"config\":{\"digest\":\"sha256:" HEX64 "\"},\"layers\":[]}");
	json_t *layers = json_object_get(man, "layers");
	for (int i = 0; i <= OCI_MAX_LAYERS; i++)
		json_array_append_new(layers, json_pack("{s:s}", "digest", "sha256:" HEX64));
	assert_int_equal(oci_manifest_parse(man, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "more than overlayfs stacks"));
	json_decref(man);
}

static void test_docker_manifest(void **state)
{
	struct docker_entry e;
	struct ctw_err err = {0};
	struct oci_pick pick = {0};
	json_t *mans = J("[{\"Config\":\"" HEX64 ".json\",\"RepoTags\":[\"a:1\"],"
			 "\"Layers\":[\"x/layer.tar\",\"blobs/sha256/" HEX64 "\"]},"
			 "{\"Config\":\"c\",\"RepoTags\":[\"b:2\"],\"Layers\":[]}]");
	assert_int_equal(docker_manifest_pick(mans, &pick, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "holds 2 images"));
	pick.want_name = "docker.io/library/a:1";
	char *n = ctw_image_ref_normalize("a:1");
	pick.want_name = n;
	assert_int_equal(docker_manifest_pick(mans, &pick, &e, &err), 0);
	assert_int_equal(e.nlayers, 2);
	char dg[DIGEST_LEN];
	assert_int_equal(docker_config_digest(e.config, dg, &err), 0);
	assert_string_equal(dg, "sha256:" HEX64);
	assert_false(docker_layer_digest(e.layers[0], dg));
	assert_true(docker_layer_digest(e.layers[1], dg));
	assert_false(docker_layer_digest("blobs/sha256/" HEX64 "00", dg));
	docker_entry_fini(&e);
	free(n);
	pick = (struct oci_pick){.ref = "b:2"};
	assert_int_equal(docker_manifest_pick(mans, &pick, &e, &err), 0);
	assert_int_equal(docker_config_digest(e.config, dg, &err), -EINVAL);
	docker_entry_fini(&e);
	json_decref(mans);
	mans = J("[{\"Config\":\"c\",\"Layers\":[\"ok\", 5]}]");
	pick = (struct oci_pick){0};
	assert_int_equal(docker_manifest_pick(mans, &pick, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "layer 1: not a path"));
	json_decref(mans);
}

static void test_config_bounds(void **state)
{
	struct ctw_image_config c;
	struct ctw_err err = {0};
	json_t *doc = J("{\"config\":{\"Env\":[]}}");
	json_t *env = json_object_get(json_object_get(doc, "config"), "Env");
	for (int i = 0; i < 5000; i++)
		json_array_append_new(env, json_sprintf("V%d=1", i));
	assert_int_equal(image_config_from_json(doc, &c, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "config.Env: 5000 entries, more than 4096"));
	json_decref(doc);
	char *big = xmalloc((128 << 10) + 2);
	memset(big, 'x', (128 << 10) + 1);
	big[(128 << 10) + 1] = '\0';
	doc = json_pack("{s:{s:[s]}}", "config", "Cmd", big);
	assert_int_equal(image_config_from_json(doc, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "config.Cmd[0]: longer than 128 KiB"));
	json_decref(doc);
	doc = json_pack("{s:{s:s}}", "config", "WorkingDir", big);
	assert_int_equal(image_config_from_json(doc, &c, &err), -EINVAL);
	json_decref(doc);
	free(big);
}

static void test_remove(void **state)
{
	if (!ctw_path_exists("/bin/busybox"))
		skip();
	char *root = mkroot();
	char *state_dir = mkroot();
	setenv("CTRWATCH_STATE", state_dir, 1);
	struct ctw_err err = {0};
	struct ctw_image *img = NULL;
	assert_int_equal(ctw_image_get(root, "busybox", &img, &err), 0);
	char id[80], layer[4096];
	ctw_strlcpy(id, img->id, sizeof(id));
	ctw_strlcpy(layer, img->layers[0], sizeof(layer));
	ctw_image_free(img);

	/* A second name for the same image: removing it only untags. */
	json_t *rec = NULL;
	assert_int_equal(store_image_lookup(root, "busybox", &rec, &err), 0);
	char *cfg = json_dumps(json_object_get(rec, "config"), JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(rec);
	int lock = store_lock(root, &err);
	char id2[DIGEST_LEN];
	assert_int_equal(store_image_add(root, cfg, strlen(cfg), "mybox:1", id2, &err), 0);
	store_unlock(lock);
	free(cfg);
	assert_string_equal(id2, id); /* same config blob, same id */
	char *msg = NULL;
	assert_int_equal(ctw_image_remove(root, "mybox:1", false, &msg, &err), 0);
	assert_non_null(strstr(msg, "Untagged: mybox:1"));
	free(msg);
	assert_true(ctw_path_exists(layer));

	/* In use by a container: refused, then untagged only with force. */
	char p[4096];
	snprintf(p, sizeof(p), "%s/c1", state_dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/c1/state.json", state_dir);
	char *st = xasprintf("{\"id\":\"c1\",\"name\":\"web\",\"image_id\":\"%s\"}", id);
	assert_int_equal(ctw_write_file(p, st, strlen(st), true), 0);
	free(st);
	assert_int_equal(ctw_image_remove(root, "busybox", false, NULL, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "web"));
	assert_int_equal(ctw_image_remove(root, "busybox", true, &msg, &err), 0);
	free(msg);
	assert_true(ctw_path_exists(layer));
	struct ctw_image_info *infos;
	size_t n;
	assert_int_equal(ctw_image_list(root, &infos, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_null(infos[0].names[0]);
	ctw_image_info_free(infos, n);

	/* The container is gone: removing by id deletes image and layer. */
	unlink(p);
	assert_int_equal(ctw_image_remove(root, id, false, &msg, &err), 0);
	assert_non_null(strstr(msg, "Deleted: sha256:"));
	assert_non_null(strstr(msg, "Deleted layer: sha256:"));
	free(msg);
	assert_false(ctw_path_exists(layer));
	assert_int_equal(ctw_image_list(root, &infos, &n, &err), 0);
	assert_int_equal(n, 0);
	free(infos);
	assert_int_equal(ctw_image_remove(root, "busybox", false, NULL, &err), -ENOENT);
	unsetenv("CTRWATCH_STATE");
	ctw_rm_rf(state_dir);
	free(state_dir);
	ctw_rm_rf(root);
	free(root);
}

static void test_gc(void **state)
{
	char *root = mkroot();
	struct ctw_err err = {0};
	char *mine = NULL, p[4096];
	assert_int_equal(store_mktemp(root, "layer", &mine, &err), 0);
	/* Left by a process that is gone: a reaped child's pid. */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(p, sizeof(p), "%s/tmp/import-%d-abcdef", root, (int)dead);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/tmp/gc-0123", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/layers/sha256/%064d", root, 7);
	assert_int_equal(mkdir(p, 0700), 0);
	char *msg = NULL;
	assert_int_equal(ctw_image_gc(root, &msg, &err), 0);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "Deleted layer: sha256:0000"));
	free(msg);
	assert_false(ctw_path_exists(p));
	snprintf(p, sizeof(p), "%s/tmp", root);
	assert_int_equal(count_entries(p), 1); /* only ours: we are alive */
	assert_true(ctw_path_exists(mine));
	free(mine);
	ctw_rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_normalize),
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_busybox_builtin),
		cmocka_unit_test(test_busybox_concurrent),
		cmocka_unit_test(test_layer_whiteouts),
		cmocka_unit_test(test_layer_file_caps),
		cmocka_unit_test(test_layer_traversal),
		cmocka_unit_test(test_layer_verify),
		cmocka_unit_test(test_layer_not_regular),
		cmocka_unit_test(test_layer_budget),
		cmocka_unit_test(test_layer_xattrs),
		cmocka_unit_test(test_oci_desc),
		cmocka_unit_test(test_oci_manifest),
		cmocka_unit_test(test_docker_manifest),
		cmocka_unit_test(test_config_bounds),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_gc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
