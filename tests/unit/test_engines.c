// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for containers/engine_oci.c: containers of Docker, Podman and
 * containerd found through the runtime state and the parent process, on
 * files recorded from the real engines (tests/unit/fixtures/engines/host:
 * Docker 20.10, Podman 4.3, containerd 1.6 with runc 1.1, their paths
 * rewritten to the default layouts), and bad engine files (malformed JSON,
 * a FIFO, a huge file, a symlink out of the host root) skipped, never a
 * crash or a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../containers/oci.h"
#include "../../lib/lib.h"

#define DOCKER_ID "0e85f256b2ab56b234b430e2b2ba709c2833feeb01a3587ae4b402baebd0a010"
#define PODMAN_ID "6393742350c15e5a9d6e6e2eedaae239ca7eeed87f1e82bce6ebdda35e25f5c9"

static char host[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	const char *src = getenv("CTW_SRC");
	snprintf(host, sizeof(host), "%s/tests/unit/fixtures/engines/host", src ? src : ".");
	if (!ctw_path_exists(host)) {
		/* run from the build tree: the source is two levels up */
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		char *p = strstr(exe, "/build/");
		if (p)
			*p = '\0';
		snprintf(host, sizeof(host), "%s/tests/unit/fixtures/engines/host", exe);
	}
	return ctw_path_exists(host) ? 0 : -1;
}

static struct oci_ctx ctx_of(const char *root)
{
	struct oci_ctx ctx = {.host_root = root, .proc_root = "/nonexistent"};
	return ctx;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_docker_by_state(void **state)
{
	(void)state;
	struct oci_ctx ctx = ctx_of(host);
	struct oci_found f;
	assert_int_equal(oci_state_find(&ctx, DOCKER_ID, &f), 0);
	assert_string_equal(f.ns, "moby");
	assert_string_equal(f.runtime, "runc");
	assert_string_equal(f.cgroup2, "/test/moby/" DOCKER_ID);
	assert_string_equal(
		f.bundle,
		"/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" DOCKER_ID);
	assert_true(f.pid > 0);
	assert_true(f.created_ns > 1700000000ull * 1000000000ull);

	struct ctw_container c = {0};
	uint64_t created = 0;
	assert_true(oci_identify(&ctx, DOCKER_ID, 0, "/test/moby/" DOCKER_ID, &c, &created));
	assert_int_equal(c.runtime, CTW_RT_DOCKER);
	assert_string_equal(c.id, DOCKER_ID);
	assert_string_equal(c.name, "web");
	assert_string_equal(c.image, "ctwtest/busybox:1");
	assert_non_null(ctw_container_label(&c, "app"));
	assert_string_equal(ctw_container_label(&c, "app"), "demo");
	assert_string_equal(ctw_container_label(&c, "tier"), "fe");
	assert_true(created > 0);
	ctw_container_release(&c);
}

static void test_cgroup_must_match(void **state)
{
	(void)state;
	struct oci_ctx ctx = ctx_of(host);
	struct ctw_container c = {0};
	/* a state with this id, but for another cgroup: not this container */
	assert_false(oci_identify(&ctx, DOCKER_ID, 0, "/elsewhere/" DOCKER_ID, &c, NULL));
	assert_false(oci_identify(&ctx, "no-such-container", 0, NULL, &c, NULL));
	assert_false(oci_identify(&ctx, "../../etc", 0, NULL, &c, NULL));
	ctw_container_release(&c);
}

static void test_podman_by_state(void **state)
{
	(void)state;
	struct oci_ctx ctx = ctx_of(host);
	struct ctw_container c = {0};
	assert_true(oci_identify(&ctx, PODMAN_ID, 0, "/test/libpod/libpod-" PODMAN_ID, &c, NULL));
	assert_int_equal(c.runtime, CTW_RT_PODMAN);
	assert_string_equal(c.name, "pweb");
	assert_string_equal(c.image, "localhost/ctwtest/busybox:1");
	/* labels live in libpod's bolt database only */
	assert_non_null(ctw_container_label(&c, "app"));
	assert_string_equal(ctw_container_label(&c, "app"), "pdemo");
	assert_string_equal(ctw_container_label(&c, "tier"), "be");
	ctw_container_release(&c);
}

static void test_containerd_by_state(void **state)
{
	(void)state;
	struct oci_ctx ctx = ctx_of(host);
	struct ctw_container c = {0};
	assert_true(oci_identify(&ctx, "app", 0, "/test/ctr/ctwns-app", &c, NULL));
	assert_int_equal(c.runtime, CTW_RT_CONTAINERD);
	assert_string_equal(c.id, "app");
	assert_string_equal(c.name, "ctwns/app");
	assert_string_equal(ctw_container_label(&c, "app"), "c");
	/* the image from containerd's meta.db (the default root, no daemon) */
	assert_string_equal(c.image, "docker.io/ctwtest/busybox:1");
	ctw_container_release(&c);
}

/* bbolt lookups on the recorded databases, and on damaged copies. */
static void test_bolt(void **state)
{
	(void)state;
	int hostfd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *db = "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db";
	const char *img[] = {"v1", "ctwns", "containers", "app", "image"};
	size_t len = 0;
	char *v = bolt_get(hostfd, db, img, ARRAY_SIZE(img), &len);
	assert_non_null(v);
	assert_int_equal(len, strlen("docker.io/ctwtest/busybox:1"));
	free(v);
	const char *missing[] = {"v1", "ctwns", "containers", "nope", "image"};
	assert_null(bolt_get(hostfd, db, missing, ARRAY_SIZE(missing), NULL));
	const char *bucket[] = {"v1", "ctwns", "containers", "app"}; /* a bucket, not a value */
	assert_null(bolt_get(hostfd, db, bucket, ARRAY_SIZE(bucket), NULL));
	const char *through[] = {"v1", "ctwns", "containers", "app", "image", "x"};
	assert_null(bolt_get(hostfd, db, through, ARRAY_SIZE(through), NULL));

	/* damaged copies: truncated, pages overwritten with noise; never a
	 * crash, at worst "not found" */
	char src[PATH_MAX], *data;
	size_t n;
	snprintf(src, sizeof(src), "%s%s", host, db);
	assert_int_equal(ctw_read_file(src, &data, &n), 0);
	char dir[] = "/tmp/ctw-test-bolt.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	srand(7);
	for (int round = 0; round < 200; round++) {
		char *copy_ = xmalloc(n);
		memcpy(copy_, data, n);
		size_t keep = round < 20 ? n * (size_t)round / 20 : n;
		for (int k = 0; round >= 20 && k < 64; k++)
			copy_[(size_t)rand() % n] = (char)rand();
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/meta.db", dir);
		write_file(p, copy_, keep);
		free(copy_);
		free(bolt_get(dfd, "/meta.db", img, ARRAY_SIZE(img), NULL));
	}
	close(dfd);
	free(data);
	ctw_rm_rf(dir);
	close(hostfd);
}

/* A fake /proc: the container's process, its shim or conmon parent. */
static void fake_proc(const char *proc, int pid, const char *comm, int ppid, const char *argv,
		      size_t argv_len, const char *cwd)
{
	char p[PATH_MAX], buf[256];
	snprintf(p, sizeof(p), "%s/%d", proc, pid);
	assert_int_equal(ctw_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%d/stat", proc, pid);
	int n = snprintf(buf, sizeof(buf), "%d (%s) S %d 1 1 0 -1\n", pid, comm, ppid);
	write_file(p, buf, (size_t)n);
	if (argv) {
		snprintf(p, sizeof(p), "%s/%d/cmdline", proc, pid);
		write_file(p, argv, argv_len);
	}
	if (cwd) {
		snprintf(p, sizeof(p), "%s/%d/cwd", proc, pid);
		assert_int_equal(symlink(cwd, p), 0);
	}
}

static void test_by_parent_process(void **state)
{
	(void)state;
	char proc[] = "/tmp/ctw-test-proc.XXXXXX";
	assert_non_null(mkdtemp(proc));
	static const char shim[] =
		"/usr/bin/containerd-shim-runc-v2\0-namespace\0moby\0-id\0" DOCKER_ID
		"\0-address\0/run/docker/containerd/containerd.sock";
	fake_proc(proc, 300, "sleep", 200, NULL, 0, NULL);
	/* "sh" in between: the cgroup's first process need not be the init */
	fake_proc(proc, 310, "sh", 300, NULL, 0, NULL);
	fake_proc(proc, 200, "containerd-shim", 1, shim, sizeof(shim),
		  "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" DOCKER_ID);
	static const char conmon[] =
		"/usr/bin/conmon\0--api-version\0001\0-c\0" PODMAN_ID "\0-u\0" PODMAN_ID
		"\0-r\0/usr/bin/crun\0-b\0/var/lib/containers/storage/overlay-containers/" PODMAN_ID
		"/userdata\0-n\0pweb";
	fake_proc(proc, 400, "sleep", 410, NULL, 0, NULL);
	fake_proc(proc, 410, "conmon", 1, conmon, sizeof(conmon), "/");

	struct oci_ctx ctx = {.host_root = host, .proc_root = proc};
	struct oci_found f;
	assert_int_equal(oci_parent_find(&ctx, 310, &f), 0);
	assert_int_equal(f.kind, CTW_RT_DOCKER);
	assert_string_equal(f.id, DOCKER_ID);
	assert_string_equal(f.ns, "moby");
	assert_int_equal(f.pid, 300);

	/* no state under these ids: found through the parent alone */
	struct ctw_container c = {0};
	assert_true(oci_identify(&ctx, "not-an-id", 310, NULL, &c, NULL));
	assert_int_equal(c.runtime, CTW_RT_DOCKER);
	assert_string_equal(c.name, "web");

	ctw_container_release(&c);
	memset(&c, 0, sizeof(c));
	assert_true(oci_identify(&ctx, NULL, 400, NULL, &c, NULL));
	assert_int_equal(c.runtime, CTW_RT_PODMAN);
	assert_string_equal(c.id, PODMAN_ID);
	assert_string_equal(c.name, "pweb");
	assert_string_equal(c.image, "localhost/ctwtest/busybox:1");
	assert_int_equal(oci_parent_find(&ctx, 410, &f), -ENOENT); /* conmon itself */
	assert_int_equal(oci_parent_find(&ctx, 999, &f), -ENOENT);
	ctw_rm_rf(proc);
	ctw_container_release(&c);
}

static void test_dockerd_roots(void **state)
{
	(void)state;
	char dir[] = "/tmp/ctw-test-dockerd.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char conf[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/daemon.json", dir);
	const char *json = "{\"data-root\": \"/srv/docker\", \"exec-root\": \"/run/d2\"}";
	write_file(conf, json, strlen(json));
	int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char argv[PATH_MAX + 64], data[PATH_MAX], exec[PATH_MAX];
	int n = snprintf(argv, sizeof(argv), "/usr/sbin/dockerd%c--config-file%c%s", 0, 0, conf);
	oci_dockerd_roots(hostfd, argv, (size_t)n + 1, data, sizeof(data), exec, sizeof(exec));
	assert_string_equal(data, "/srv/docker");
	assert_string_equal(exec, "/run/d2");
	/* the command line wins over the file */
	n = snprintf(argv, sizeof(argv), "dockerd%c--data-root=/a%c--config-file%c%s", 0, 0, 0,
		     conf);
	oci_dockerd_roots(hostfd, argv, (size_t)n + 1, data, sizeof(data), exec, sizeof(exec));
	assert_string_equal(data, "/a");
	assert_string_equal(exec, "/run/d2");
	n = snprintf(argv, sizeof(argv), "dockerd%c--config-file", 0); /* no value */
	oci_dockerd_roots(hostfd, argv, (size_t)n + 1, data, sizeof(data), exec, sizeof(exec));
	close(hostfd);
	ctw_rm_rf(dir);
}

static void test_parse_time(void **state)
{
	(void)state;
	assert_int_equal(oci_parse_time("1970-01-01T00:00:01Z"), 1000000000ull);
	assert_int_equal(oci_parse_time("1970-01-01T00:00:01.5Z"), 1500000000ull);
	assert_int_equal(oci_parse_time("1970-01-01T01:00:01+01:00"), 1000000000ull);
	assert_int_equal(oci_parse_time("2026-12-06T16:21:32.088499245Z") % 1000000000ull,
			 88499245ull);
	assert_int_equal(oci_parse_time("garbage"), 0);
	assert_int_equal(oci_parse_time("0001-01-01T00:00:00Z"), 0);
	assert_int_equal(oci_parse_time(NULL), 0);
}

/* A host root whose runtime state files are bad in every way. */
static void test_bad_files(void **state)
{
	(void)state;
	char root[] = "/tmp/ctw-test-badhost.XXXXXX";
	assert_non_null(mkdtemp(root));
	char p[PATH_MAX];
	const char *ids[] = {"malformed", "fifo",      "huge",	   "dir",
			     "escape",	  "notobject", "badbundle"};
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		snprintf(p, sizeof(p), "%s/run/runc/%s", root, ids[i]);
		assert_int_equal(ctw_mkdir_p(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/run/runc/malformed/state.json", root);
	write_file(p, "{\"id\": \"malformed\", \"config\": {", 31);
	snprintf(p, sizeof(p), "%s/run/runc/fifo/state.json", root);
	assert_int_equal(mkfifo(p, 0600), 0); /* opening it for reading would block */
	snprintf(p, sizeof(p), "%s/run/runc/huge/state.json", root);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_int_equal(ftruncate(fd, 64 << 20), 0); /* sparse: past the cap */
	close(fd);
	snprintf(p, sizeof(p), "%s/run/runc/dir/state.json", root);
	assert_int_equal(mkdir(p, 0755), 0);
	/* an absolute symlink stays in the host root: no /etc/passwd here */
	snprintf(p, sizeof(p), "%s/run/runc/escape/state.json", root);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/run/runc/notobject/state.json", root);
	write_file(p, "[1, 2, \"x\"]", 11);
	/* a good state whose bundle config is bad: found, not enriched */
	snprintf(p, sizeof(p), "%s/run/runc/badbundle/state.json", root);
	const char *st = "{\"id\": \"badbundle\", \"config\": {\"labels\": "
			 "[\"bundle=/bundle\"]}, \"cgroup_paths\": {\"\": 7}}";
	write_file(p, st, strlen(st));
	snprintf(p, sizeof(p), "%s/bundle", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/bundle/config.json", root);
	write_file(p, "{\"annotations\": {\"io.kubernetes.cri.container-name\": 42", 55);

	struct oci_ctx ctx = ctx_of(root);
	struct oci_found f;
	struct ctw_container c = {0};
	for (size_t i = 0; i < ARRAY_SIZE(ids) - 1; i++) {
		ctw_container_release(&c);
		memset(&c, 0, sizeof(c));
		assert_int_not_equal(oci_state_find(&ctx, ids[i], &f), 0);
		assert_false(oci_identify(&ctx, ids[i], 0, NULL, &c, NULL));
	}
	ctw_container_release(&c);
	memset(&c, 0, sizeof(c));
	assert_int_equal(oci_state_find(&ctx, "badbundle", &f), 0);
	assert_string_equal(f.bundle, "/bundle");
	assert_false(oci_enrich(&ctx, &f, &c, NULL));
	assert_string_equal(c.name, "badbundle"); /* a plain runc id is its name */
	assert_int_equal(c.runtime, CTW_RT_UNKNOWN);
	ctw_rm_rf(root);
	ctw_container_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_by_state),
		cmocka_unit_test(test_cgroup_must_match),
		cmocka_unit_test(test_podman_by_state),
		cmocka_unit_test(test_containerd_by_state),
		cmocka_unit_test(test_by_parent_process),
		cmocka_unit_test(test_dockerd_roots),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bolt),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
