// SPDX-License-Identifier: Apache-2.0
/* Unit tests for lib/: parsers, errors, files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../../lib/lib.h"

static void test_parse_bytes(void **state)
{
	uint64_t v;
	assert_int_equal(ctw_parse_bytes("64m", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(ctw_parse_bytes("1g", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(ctw_parse_bytes("512K", &v), 0);
	assert_int_equal(v, 512ull << 10);
	assert_int_equal(ctw_parse_bytes("1024", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(ctw_parse_bytes("1.5m", &v), 0);
	assert_int_equal(v, 1572864);
	assert_int_equal(ctw_parse_bytes("", &v), -EINVAL);
	assert_int_equal(ctw_parse_bytes("-1m", &v), -EINVAL);
	assert_int_equal(ctw_parse_bytes("12q", &v), -EINVAL);
	assert_int_equal(ctw_parse_bytes("m", &v), -EINVAL);
}

static void test_parse_duration(void **state)
{
	uint64_t ns;
	assert_int_equal(ctw_parse_duration_ns("500ms", &ns), 0);
	assert_int_equal(ns, 500000000ull);
	assert_int_equal(ctw_parse_duration_ns("2", &ns), 0);
	assert_int_equal(ns, 2000000000ull);
	assert_int_equal(ctw_parse_duration_ns("1m", &ns), 0);
	assert_int_equal(ns, 60000000000ull);
	assert_int_equal(ctw_parse_duration_ns("5x", &ns), -EINVAL);
}

static void test_parse_u64(void **state)
{
	uint64_t v;
	assert_int_equal(ctw_parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ctw_parse_u64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(ctw_parse_u64("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(ctw_parse_u64("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(ctw_parse_u64("", 0, 100, &v), -EINVAL);
}

static void test_err(void **state)
{
	struct ctw_err e = {0};
	assert_int_equal(ctw_err_set(&e, ENOENT, "open `%s`", "/x"), -ENOENT);
	assert_string_equal(e.msg, "open `/x`: No such file or directory");
	ctw_err_prefix(&e, "image %s", "busybox");
	assert_string_equal(e.msg, "image busybox: open `/x`: No such file or directory");
	assert_int_equal(ctw_err_setx(&e, EINVAL, "bad value"), -EINVAL);
	assert_string_equal(e.msg, "bad value");
	assert_int_equal(ctw_err_setx(NULL, 0, "x"), -1);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/ctw-unit-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *p = xasprintf("%s/a/b/c", dir);
	assert_int_equal(ctw_mkdir_p(p, 0755), 0);
	assert_true(ctw_path_exists(p));
	assert_int_equal(ctw_mkdir_p(p, 0755), 0); /* exists: fine */
	char *q = xasprintf("%s/a/x/y//", dir);	   /* new branch, trailing slashes */
	assert_int_equal(ctw_mkdir_p(q, 0755), 0);
	assert_true(ctw_path_exists(q));
	free(q);
	char *f = xasprintf("%s/file", p);
	assert_int_equal(ctw_write_file_atomic(f, "hello\n", 6), 0);
	q = xasprintf("%s/sub", f); /* below a regular file */
	assert_int_equal(ctw_mkdir_p(q, 0755), -ENOTDIR);
	free(q);
	char line[16];
	assert_int_equal(ctw_read_line(f, line, sizeof(line)), 0);
	assert_string_equal(line, "hello");
	char *all;
	size_t len;
	assert_int_equal(ctw_read_file(f, &all, &len), 0);
	assert_int_equal(len, 6);
	free(all);
	assert_int_equal(ctw_read_file("/nonexistent/x", &all, NULL), -ENOENT);
	/* A tree of files, empty and full directories and a symlink to a
	 * directory outside it, which must not be followed. */
	char *outside = xasprintf("%s-outside", dir);
	assert_int_equal(ctw_mkdir_p(outside, 0755), 0);
	char *keep = xasprintf("%s/keep", outside);
	assert_int_equal(ctw_write_file_atomic(keep, "x", 1), 0);
	char *link = xasprintf("%s/a/link", dir);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(ctw_rm_rf(dir), 0);
	assert_false(ctw_path_exists(dir));
	assert_true(ctw_path_exists(keep));
	assert_int_equal(ctw_rm_rf(keep), 0); /* a file */
	assert_false(ctw_path_exists(keep));
	assert_int_equal(ctw_rm_rf(outside), 0);
	assert_int_equal(ctw_rm_rf(outside), 0); /* gone: fine */
	free(outside);
	free(keep);
	free(link);
	free(f);
	free(p);
}

/* A hostile tree: an absolute symlink to a host file, ".." walks, a FIFO,
 * /dev/zero, a directory and an oversized file must never be read. */
static void test_in_root(void **state)
{
	char dir[] = "/tmp/ctw-unit-root-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *host = xasprintf("%s-host", dir);
	assert_int_equal(ctw_write_file_atomic(host, "host secret\n", 12), 0);
	char *p = xasprintf("%s/etc", dir);
	assert_int_equal(ctw_mkdir_p(p, 0755), 0);
	free(p);
	p = xasprintf("%s/etc/hostname", dir);
	assert_int_equal(ctw_write_file_atomic(p, "box\n", 4), 0);
	free(p);
	p = xasprintf("%s/etc/passwd", dir); /* inside the root: "/etc/hostname" */
	assert_int_equal(symlink("/etc/hostname", p), 0);
	free(p);
	p = xasprintf("%s/etc/shadow", dir); /* the host file by absolute path */
	assert_int_equal(symlink(host, p), 0);
	free(p);
	p = xasprintf("%s/up", dir);
	assert_int_equal(symlink("../../../../../../..", p), 0);
	free(p);
	p = xasprintf("%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0644), 0);
	free(p);
	p = xasprintf("%s/big", dir);
	char blob[5000];
	memset(blob, 'x', sizeof(blob));
	assert_int_equal(ctw_write_file_atomic(p, blob, sizeof(blob)), 0);
	free(p);

	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	char line[64];
	assert_int_equal(ctw_read_line_in_root(root, "/etc/hostname", line, sizeof(line)), 0);
	assert_string_equal(line, "box");
	/* An absolute symlink resolves against the container's root. */
	assert_int_equal(ctw_read_line_in_root(root, "etc/passwd", line, sizeof(line)), 0);
	assert_string_equal(line, "box");
	/* The host path named by a symlink does not exist inside: ENOENT. */
	assert_int_equal(ctw_read_line_in_root(root, "/etc/shadow", line, sizeof(line)), -ENOENT);
	char *rel = xasprintf("/up%s", host); /* ".." stops at the root */
	assert_int_equal(ctw_read_line_in_root(root, rel, line, sizeof(line)), -ENOENT);
	free(rel);
	assert_int_equal(ctw_read_line_in_root(root, "/fifo", line, sizeof(line)), -EINVAL);
	/* Devices are never opened, magic links never followed (seen from
	 * the host's root, where both exist). */
	int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(slash >= 0);
	assert_int_equal(ctw_read_line_in_root(slash, "/dev/zero", line, sizeof(line)), -EINVAL);
	char *magic = xasprintf("/proc/self/fd/%d", root);
	assert_int_equal(ctw_read_line_in_root(slash, magic, line, sizeof(line)), -ELOOP);
	free(magic);
	close(slash);
	assert_int_equal(ctw_read_line_in_root(root, "/etc", line, sizeof(line)), -EISDIR);
	char *all;
	size_t len;
	assert_int_equal(ctw_read_in_root(root, "/big", 4096, &all, &len), -EFBIG);
	assert_int_equal(ctw_read_in_root(root, "/big", 5000, &all, &len), 0);
	assert_int_equal(len, 5000);
	free(all);
	/* A file with a second line is not a one-line file. */
	assert_int_equal(ctw_read_line_in_root(root, "/big", line, sizeof(line)), -EFBIG);
	close(root);
	assert_int_equal(ctw_rm_rf(dir), 0);
	assert_int_equal(unlink(host), 0);
	free(host);
}

static void test_strings(void **state)
{
	char buf[4];
	assert_int_equal(ctw_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	assert_string_equal(buf, "abc");
	assert_true(ctw_str_has_prefix("docker-abc.scope", "docker-"));
	assert_true(ctw_str_has_suffix("docker-abc.scope", ".scope"));
	assert_false(ctw_str_has_suffix("a", ".scope"));
}

/* The one JSON escaper: quotes, backslashes and control bytes always;
 * bytes >= 0x7f one by one for event data, kept for UTF-8 text; the
 * in-memory outbuf grows and hands its text over. */
static void test_json_outbuf(void **state)
{
	struct ctw_outbuf o;
	ctw_outbuf_init(&o, -1, 8);
	ctw_json_put(&o, "a\"b\\c\n\r\t\x01\x7f\xc3\xa9", 12, 0);
	assert_string_equal(ctw_outbuf_str(&o),
			    "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\\u00c3\\u00a9\"");
	ctw_outbuf_reset(&o);
	ctw_json_put(&o, "\xc3\xa9\x1f", 3, CTW_JSON_UTF8);
	assert_string_equal(ctw_outbuf_str(&o), "\"\xc3\xa9\\u001f\"");
	ctw_outbuf_reset(&o);
	ctw_json_put(&o, "x\0y", 3, 0); /* a known length: NULs too */
	assert_string_equal(ctw_outbuf_str(&o), "\"x\\u0000y\"");
	for (int i = 0; i < 1000; i++) /* grows past its first 4 KiB */
		ctw_outbuf_printf(&o, "%04d,", i);
	assert_int_equal(o.len, 10 + 5000);
	char *text = ctw_outbuf_take(&o);
	assert_null(o.buf);
	assert_int_equal(strlen(text), 10 + 5000);
	assert_memory_equal(text + 10 + 4995, "0999,", 5);
	free(text);
	ctw_outbuf_fini(&o); /* nothing left: a no-op */

	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	ctw_json_string(f, NULL);
	ctw_json_string(f, "t\tab");
	fclose(f);
	assert_string_equal(mem, "\"\"\"t\\tab\"");
	free(mem);
	(void)state;
}

/* Libraries loaded on first use: a missing one is a clean error naming its
 * package; a present one resolves. */
static void test_dl(void **state)
{
	struct ctw_dl_lib missing = {.soname = "libctw-no-such-lib.so.9", .package = "ctw-nopkg"};
	struct ctw_err e = {0};
	assert_true(ctw_dl_open(&missing, &e) < 0);
	assert_non_null(strstr(e.msg, "libctw-no-such-lib.so.9"));
	assert_non_null(strstr(e.msg, "Debian package ctw-nopkg"));
	assert_null(missing.handle);

	struct ctw_dl_lib z = {.soname = "libz.so.1", .package = "zlib1g"};
	assert_int_equal(ctw_dl_open(&z, &e), 0);
	assert_int_equal(ctw_dl_open(&z, &e), 0); /* idempotent */
	const char *(*version)(void) = (const char *(*)(void))ctw_dl_sym(&z, "zlibVersion");
	assert_non_null(version);
	assert_true(version()[0] == '1');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bytes), cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_u64),   cmocka_unit_test(test_err),
		cmocka_unit_test(test_files),	    cmocka_unit_test(test_strings),
		cmocka_unit_test(test_dl),	    cmocka_unit_test(test_in_root),
		cmocka_unit_test(test_json_outbuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
