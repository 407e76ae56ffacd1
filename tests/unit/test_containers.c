// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the container registry (containers/): path parsing
 * of every runtime's layout, and whole scans of fake cgroup trees (plain
 * directories: the registry only needs readdir and stat) with fake runtime
 * files below a fake host root and a fake ctrwatch state dir.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../agent/agent.h"
#include "../../containers/containers.h"
#include "../../lib/lib.h"
#include "../../policy/policy.h"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333333333333333333333333333"
#define ID4 "4444444444444444444444444444444444444444444444444444444444444444"
#define ID5 "5555555555555555555555555555555555555555555555555555555555555555"
#define ID6 "6666666666666666666666666666666666666666666666666666666666666666"
#define ID7 "7777777777777777777777777777777777777777777777777777777777777777"
#define ID8 "8888888888888888888888888888888888888888888888888888888888888888"
#define UID1 "0b1c2d3e-aaaa-bbbb-cccc-000000000001"
#define UID1_ "0b1c2d3e_aaaa_bbbb_cccc_000000000001"
#define UID2 "0b1c2d3e-aaaa-bbbb-cccc-000000000002"

static void parse_ok(const char *rel, enum ctw_runtime_kind kind, const char *id,
		     const char *pod_uid)
{
	struct ctw_container c;
	int rc = ctw_cgroup_parse_path(rel, &c);
	if (rc != 1)
		fail_msg("not recognised: %s", rel);
	assert_int_equal(c.runtime, kind);
	assert_string_equal(c.id, id);
	assert_string_equal(c.pod_uid, pod_uid);
	char shortid[13];
	snprintf(shortid, sizeof(shortid), "%.12s", id);
	assert_string_equal(c.name, shortid);
}

static void parse_no(const char *rel)
{
	struct ctw_container c;
	if (ctw_cgroup_parse_path(rel, &c) != 0)
		fail_msg("wrongly recognised: %s", rel);
}

static void test_parse_paths(void **state)
{
	parse_ok("/system.slice/docker-" ID1 ".scope", CTW_RT_DOCKER, ID1, "");
	parse_ok("/docker/" ID1, CTW_RT_DOCKER, ID1, "");
	parse_ok("/system.slice/cri-containerd-" ID2 ".scope", CTW_RT_CONTAINERD, ID2, "");
	parse_ok("/system.slice/crio-" ID3 ".scope", CTW_RT_CRIO, ID3, "");
	parse_ok("/machine.slice/libpod-" ID4 ".scope", CTW_RT_PODMAN, ID4, "");
	parse_ok("/libpod_parent/libpod-" ID4, CTW_RT_PODMAN, ID4, "");
	/* kubelet, systemd driver: the pod slice carries the uid with '_' */
	parse_ok("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID1_
		 ".slice/cri-containerd-" ID5 ".scope",
		 CTW_RT_CONTAINERD, ID5, UID1);
	parse_ok("/kubepods.slice/kubepods-pod" UID1_ ".slice/crio-" ID6 ".scope", CTW_RT_CRIO, ID6,
		 UID1);
	parse_ok("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_
		 ".slice/docker-" ID6 ".scope",
		 CTW_RT_DOCKER, ID6, UID1);
	/* kubelet, cgroupfs driver: bare ids under pod<uid> */
	parse_ok("/kubepods/besteffort/pod" UID2 "/" ID7, CTW_RT_KUBELET, ID7, UID2);
	parse_ok("/kubepods/pod" UID2 "/" ID7, CTW_RT_KUBELET, ID7, UID2);
	parse_ok("/kubepods/burstable/pod" UID2 "/crio-" ID8, CTW_RT_CRIO, ID8, UID2);
	/* Nested below a custom parent still counts. */
	parse_ok("/a/b/c/docker-" ID1 ".scope", CTW_RT_DOCKER, ID1, "");

	parse_no("/");
	parse_no("");
	parse_no("/system.slice");
	parse_no("/user.slice/user-0.slice/session-1.scope");
	parse_no("/system.slice/docker.service");
	parse_no("/machine.slice/libpod-conmon-" ID4 ".scope");
	parse_no("/kubepods.slice/kubepods-pod" UID1_ ".slice/crio-conmon-" ID6 ".scope");
	parse_no("/kubepods.slice/kubepods-burstable.slice");
	parse_no("/kubepods/burstable/pod" UID2);
	parse_no("/system.slice/docker-XYZ.scope");
	parse_no("/system.slice/docker-abc.scope"); /* id too short */
	parse_no("/docker/"
		 "ABCDEF1111111111111111111111111111111111111111111111111111111111");
	parse_no("/somewhere/" ID1); /* bare id, no context */
}

/* ---- fake trees ---- */

static char root[PATH_MAX];

static void mkd(const char *fmt, ...)
{
	char p[PATH_MAX * 2], rel[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(ctw_mkdir_p(p, 0755), 0);
}

static void put(const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	assert_int_equal(ctw_mkdir_p(p, 0755), 0);
	*slash = '/';
	assert_int_equal(ctw_write_file(p, content, strlen(content), true), 0);
}

static uint64_t ino(const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	uint64_t id = 0;
	assert_int_equal(ctw_cgroup_id_of_path(p, &id), 0);
	return id;
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/ctw-test-registry.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	ctw_rm_rf(root);
	return 0;
}

static struct ctw_registry *new_reg(void)
{
	char cg[PATH_MAX * 2], st[PATH_MAX * 2], host[PATH_MAX * 2];
	snprintf(cg, sizeof(cg), "%s/cg", root);
	snprintf(st, sizeof(st), "%s/state", root);
	snprintf(host, sizeof(host), "%s/host", root);
	struct ctw_registry_opts o = {
		.cgroup_root = cg, .proc_root = "/proc", .state_dir = st, .host_root = host};
	return ctw_registry_new(&o);
}

static const struct ctw_container *by_id(struct ctw_registry *r, const char *id)
{
	for (size_t i = 0; i < ctw_registry_count(r); i++)
		if (!strcmp(ctw_registry_at(r, i)->id, id))
			return ctw_registry_at(r, i);
	return NULL;
}

struct ids_ctx {
	struct ctw_registry *r;
	int n, nested;
};

static void count_id(void *ctx, uint64_t id, const struct ctw_container *c)
{
	struct ids_ctx *ic = ctx;
	ic->n++;
	/* every id maps back to the container it was reported with */
	assert_ptr_equal(ctw_registry_lookup(ic->r, id), c);
	if (id != c->cgroup_id)
		ic->nested++;
}

static void test_scan_fake_host(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope/nested/deeper");
	mkd("cg/system.slice/cri-containerd-" ID2 ".scope");
	mkd("cg/system.slice/crio-" ID3 ".scope");
	mkd("cg/machine.slice/libpod-" ID4 ".scope");
	mkd("cg/machine.slice/libpod-conmon-" ID4 ".scope");
	mkd("cg/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID1_
	    ".slice/cri-containerd-" ID5 ".scope");
	mkd("cg/kubepods/besteffort/pod" UID2 "/" ID7);
	mkd("cg/user.slice/user-0.slice");
	mkd("cg/ctwtest/web1");
	put("host/var/lib/docker/containers/" ID1 "/config.v2.json",
	    "{\"Name\":\"/nginx-front\",\"Config\":{\"Image\":\"nginx:1.25\",\"Labels\":{}}}");
	put("host/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID5 "/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"app\","
	    "\"io.kubernetes.cri.sandbox-name\":\"shop-7d9f\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"prod\","
	    "\"io.kubernetes.cri.image-name\":\"registry.test/shop:2\"}}");
	put("host/run/containers/storage/overlay-containers/" ID3 "/userdata/config.json",
	    "{\"annotations\":{\"io.kubernetes.container.name\":\"db\","
	    "\"io.kubernetes.pod.name\":\"db-0\",\"io.kubernetes.pod.namespace\":\"data\","
	    "\"io.kubernetes.cri-o.ImageName\":\"postgres:16\"}}");
	char js[PATH_MAX * 3];
	snprintf(js, sizeof(js),
		 "{\"id\":\"c0ffee0123456789\",\"name\":\"web1\",\"image\":\"busybox\","
		 "\"pid\":0,\"status\":\"running\",\"cgroup\":\"%s/cg/ctwtest/web1\","
		 "\"cgroup_id\":%llu}",
		 root, (unsigned long long)ino("cg/ctwtest/web1"));
	put("state/c0ffee0123456789/state.json", js);
	/* An exited ctrwatch container is not listed. */
	put("state/dead/state.json", "{\"id\":\"dead\",\"name\":\"gone\",\"status\":\"exited\","
				     "\"cgroup\":\"/nonexistent\"}");

	struct ctw_registry *r = new_reg();
	assert_int_equal(ctw_registry_scan(r), 7);

	const struct ctw_container *c = by_id(r, ID1);
	assert_non_null(c);
	assert_int_equal(c->runtime, CTW_RT_DOCKER);
	assert_string_equal(c->name, "nginx-front");
	assert_string_equal(c->image, "nginx:1.25");
	assert_int_equal(c->cgroup_id, ino("cg/system.slice/docker-" ID1 ".scope"));
	/* nested cgroups map to their container */
	assert_ptr_equal(
		ctw_registry_lookup(r, ino("cg/system.slice/docker-" ID1 ".scope/nested/deeper")),
		c);
	assert_null(ctw_registry_lookup(r, ino("cg/system.slice")));

	c = by_id(r, ID2);
	assert_non_null(c);
	assert_string_equal(c->name, "222222222222"); /* no runtime files: short id */

	c = by_id(r, ID3);
	assert_int_equal(c->runtime, CTW_RT_CRIO);
	assert_string_equal(c->name, "db");
	assert_string_equal(c->pod, "db-0");
	assert_string_equal(c->namespace_, "data");
	assert_string_equal(c->image, "postgres:16");

	c = by_id(r, ID4);
	assert_int_equal(c->runtime, CTW_RT_PODMAN);

	c = by_id(r, ID5);
	assert_int_equal(c->runtime, CTW_RT_CONTAINERD);
	assert_string_equal(c->name, "app");
	assert_string_equal(c->pod, "shop-7d9f");
	assert_string_equal(c->namespace_, "prod");
	assert_string_equal(c->pod_uid, UID1);
	assert_string_equal(c->image, "registry.test/shop:2");

	c = by_id(r, ID7);
	assert_int_equal(c->runtime, CTW_RT_KUBELET);
	assert_string_equal(c->pod_uid, UID2);

	c = by_id(r, "c0ffee0123456789");
	assert_non_null(c);
	assert_int_equal(c->runtime, CTW_RT_CTRWATCH);
	assert_string_equal(c->name, "web1");
	assert_string_equal(c->image, "busybox");

	/* Labels helper: pod and namespace only when known. */
	const char *l[16];
	char cid[CTW_SHORT_ID_SIZE];
	assert_int_equal(ctw_agent_container_labels(by_id(r, ID5), cid, l, 16), 8);
	assert_string_equal(l[0], "container");
	assert_string_equal(l[1], "app");
	assert_string_equal(l[3], "shop-7d9f");
	assert_string_equal(l[5], "prod");
	assert_string_equal(l[6], "container_id");
	assert_int_equal(strlen(l[7]), 12); /* a 64-hex id, cut as docker ps shows it */
	assert_memory_equal(l[7], ID5, 12);
	assert_null(l[8]);
	assert_int_equal(ctw_agent_container_labels(by_id(r, ID1), cid, l, 16), 4);
	/* other ids whole: runc's ids are names and may share a prefix */
	assert_string_equal(ctw_container_short_id("build-step-0001", cid), "build-step-0001");
	assert_string_equal(ctw_container_short_id("c0ffee0123456789", cid), "c0ffee0123456789");
	/* 64 characters but not all hex: whole; longer than the label holds: cut */
	char odd[128];
	memset(odd, 'g', 64);
	odd[64] = '\0';
	assert_string_equal(ctw_container_short_id(odd, cid), odd);
	memset(odd, 'x', 100);
	odd[100] = '\0';
	assert_int_equal(strlen(ctw_container_short_id(odd, cid)), CTW_SHORT_ID_SIZE - 1);
	assert_memory_equal(cid, odd, CTW_SHORT_ID_SIZE - 1);
	assert_string_equal(ctw_container_short_id("", cid), "");

	/* Every cgroup id of every container: 7 containers + 2 nested dirs. */
	struct ids_ctx ic = {.r = r};
	assert_int_equal(ctw_registry_cgroup_ids(r, count_id, &ic), 9);
	assert_int_equal(ic.n, 9);
	assert_int_equal(ic.nested, 2);
	ctw_registry_free(r);
}

/* The label pack gives back, for each container added, the labels
 * ctw_agent_container_labels() makes, also after it grew past its first
 * 16 KiB (earlier offsets still valid) and after a reset. */
static void test_label_pack(void **state)
{
	struct ctw_container c[3];
	memset(c, 0, sizeof(c));
	ctw_strlcpy(c[0].id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		    sizeof(c[0].id));
	ctw_strlcpy(c[0].name, "app", sizeof(c[0].name));
	ctw_strlcpy(c[0].pod, "shop-7d9f", sizeof(c[0].pod));
	ctw_strlcpy(c[0].namespace_, "prod", sizeof(c[0].namespace_));
	ctw_strlcpy(c[1].id, "build-step-0001", sizeof(c[1].id));
	ctw_strlcpy(c[1].name, "builder", sizeof(c[1].name));
	ctw_strlcpy(c[2].id, "c0ffee", sizeof(c[2].id));
	ctw_strlcpy(c[2].namespace_, "ns-only", sizeof(c[2].namespace_));
	struct ctw_agent_label_pack p = {0};
	size_t off[2000];
	for (int round = 0; round < 2; round++) {
		p.len = 0;
		for (size_t i = 0; i < 2000; i++)
			off[i] = ctw_agent_label_pack_add(&p, &c[i % 3]);
		assert_true(p.cap > 16384);
		for (size_t i = 0; i < 2000; i++) {
			const char *want[16], *got[16];
			char cid[CTW_SHORT_ID_SIZE];
			size_t n = ctw_agent_container_labels(&c[i % 3], cid, want, 16);
			assert_int_equal(ctw_agent_label_pack_get(&p, off[i], got), n);
			for (size_t k = 0; k < n; k++)
				assert_string_equal(got[k], want[k]);
			assert_null(got[n]);
		}
	}
	const char *l[16];
	assert_int_equal(ctw_agent_label_pack_get(&p, off[0], l), 8);
	assert_string_equal(l[7], "0123456789ab");
	assert_int_equal(ctw_agent_label_pack_get(&p, off[2], l), 6);
	assert_string_equal(l[2], "namespace");
	free(p.buf);
}

/* ctw_registry_resolve into c, what c held released first (a test's c is
 * resolved again and again). */
static int resolve(struct ctw_registry *r, const char *spec, struct ctw_container *c)
{
	ctw_container_release(c);
	return ctw_registry_resolve(r, spec, c);
}

static void test_resolve(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope");
	mkd("cg/system.slice/docker-" ID2 ".scope");
	mkd("cg/plain/group");
	struct ctw_registry *r = new_reg();
	assert_int_equal(ctw_registry_scan(r), 2);
	struct ctw_container c = {0};
	assert_int_equal(resolve(r, "111111111111", &c), 0);
	assert_string_equal(c.id, ID1);
	assert_int_equal(resolve(r, "2222", &c), 0);
	assert_string_equal(c.id, ID2);
	assert_int_equal(resolve(r, ID2, &c), 0);
	assert_int_equal(resolve(r, "9999", &c), -ENOENT);
	assert_int_equal(resolve(r, "", &c), -EINVAL);
	/* cgroup paths: relative to the mount, or absolute */
	assert_int_equal(resolve(r, "system.slice/docker-" ID1 ".scope", &c), 0);
	assert_string_equal(c.id, ID1);
	assert_int_equal(resolve(r, "/system.slice/docker-" ID1 ".scope", &c), 0);
	assert_string_equal(c.id, ID1);
	char abs[PATH_MAX * 2];
	snprintf(abs, sizeof(abs), "%s/cg/system.slice/docker-" ID2 ".scope", root);
	assert_int_equal(resolve(r, abs, &c), 0);
	assert_string_equal(c.id, ID2);
	/* a cgroup that is no container resolves to itself */
	assert_int_equal(resolve(r, "plain/group", &c), 0);
	assert_int_equal(c.runtime, CTW_RT_UNKNOWN);
	assert_int_equal(c.cgroup_id, ino("cg/plain/group"));
	assert_string_equal(c.name, "/plain/group");
	assert_int_equal(resolve(r, "no/such/group", &c), -ENOENT);
	/* a PID: ours is in no container of the fake tree */
	assert_int_equal(resolve(r, "999999999", &c), -ENOENT);
	ctw_container_release(&c);
	ctw_registry_free(r);
}

static int nadded, nremoved, ndirs;
static char last_added[80], last_removed[80];

static void h_added(void *ctx, const struct ctw_container *c)
{
	nadded++;
	ctw_strlcpy(last_added, c->id, sizeof(last_added));
}
static void h_removed(void *ctx, const struct ctw_container *c)
{
	nremoved++;
	ctw_strlcpy(last_removed, c->id, sizeof(last_removed));
}
static void h_dir(void *ctx, const char *p)
{
	ndirs++;
}

static void test_hooks(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope");
	struct ctw_registry *r = new_reg();
	ctw_registry_set_hooks(r, h_added, h_removed, h_dir, NULL);
	nadded = nremoved = ndirs = 0;
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_int_equal(nadded, 1);
	assert_int_equal(nremoved, 0);
	/* the root, system.slice and the container (a cgroup created inside
	 * it later must be seen too) */
	assert_int_equal(ndirs, 3);
	/* Unchanged: no events; the container, watched already, is not
	 * handed to the hook again (the tree above it is). */
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_int_equal(nadded, 1);
	assert_int_equal(ndirs, 5);
	/* One more, one gone. */
	mkd("cg/system.slice/docker-" ID2 ".scope");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/cg/system.slice/docker-" ID1 ".scope", root);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_int_equal(nadded, 2);
	assert_string_equal(last_added, ID2);
	assert_int_equal(nremoved, 1);
	assert_string_equal(last_removed, ID1);
	assert_null(ctw_registry_lookup(r, 1));
	ctw_registry_free(r);
}

static void test_grace(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope/nested");
	char cg[PATH_MAX * 2], st[PATH_MAX * 2];
	snprintf(cg, sizeof(cg), "%s/cg", root);
	snprintf(st, sizeof(st), "%s/state", root);
	struct ctw_registry_opts o = {
		.cgroup_root = cg, .state_dir = st, .grace_ns = 300 * 1000000ull};
	struct ctw_registry *r = ctw_registry_new(&o);
	ctw_registry_set_hooks(r, h_added, h_removed, NULL, NULL);
	nadded = nremoved = 0;
	assert_int_equal(ctw_registry_scan(r), 1);
	uint64_t id = ino("cg/system.slice/docker-" ID1 ".scope");
	uint64_t nested = ino("cg/system.slice/docker-" ID1 ".scope/nested");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/cg/system.slice/docker-" ID1 ".scope/nested", root);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/cg/system.slice/docker-" ID1 ".scope", root);
	assert_int_equal(rmdir(p), 0);
	/* gone, but kept (with its nested cgroup) during the grace period */
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_int_equal(nremoved, 0);
	assert_non_null(ctw_registry_lookup(r, id));
	assert_ptr_equal(ctw_registry_lookup(r, nested), ctw_registry_lookup(r, id));
	assert_int_equal(ctw_registry_scan(r), 1);
	usleep(350 * 1000);
	assert_int_equal(ctw_registry_scan(r), 0);
	assert_int_equal(nremoved, 1);
	assert_null(ctw_registry_lookup(r, id));
	assert_null(ctw_registry_lookup(r, nested));
	assert_int_equal(nadded, 1);
	ctw_registry_free(r);
}

static void test_resources_v2(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope");
	put("cg/system.slice/docker-" ID1 ".scope/cpu.stat",
	    "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
	put("cg/system.slice/docker-" ID1 ".scope/memory.current", "1048576\n");
	put("cg/system.slice/docker-" ID1 ".scope/memory.max", "max\n");
	put("cg/system.slice/docker-" ID1 ".scope/memory.events",
	    "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n");
	put("cg/system.slice/docker-" ID1 ".scope/pids.current", "7\n");
	mkd("cg/system.slice/docker-" ID2 ".scope");
	put("cg/system.slice/docker-" ID2 ".scope/memory.current", "4096\n");
	put("cg/system.slice/docker-" ID2 ".scope/memory.max", "67108864\n");
	struct ctw_registry *r = new_reg();
	assert_int_equal(ctw_registry_scan(r), 2);
	struct ctw_cgroup_resources res;
	assert_int_equal(ctw_registry_resources(r, by_id(r, ID1), &res), 0);
	assert_true(res.has_cpu);
	assert_true(res.cpu_seconds > 2.49 && res.cpu_seconds < 2.51);
	assert_true(res.has_memory);
	assert_int_equal(res.memory_bytes, 1048576);
	assert_false(res.has_limit); /* "max" = unlimited: no series */
	assert_true(res.has_oom);
	assert_int_equal(res.oom_events, 1);
	assert_true(res.has_pids);
	assert_int_equal(res.pids, 7);
	assert_int_equal(ctw_registry_resources(r, by_id(r, ID2), &res), 0);
	assert_false(res.has_cpu);
	assert_true(res.has_limit);
	assert_int_equal(res.memory_limit, 64 << 20);
	assert_false(res.has_pids);
	ctw_registry_free(r);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The files read at every refresh stay open (pread): a second refresh sees
 * what the files say now; the memory limit, read by path every 10th
 * refresh, keeps its value in between; freeing the registry closes them. */
static void test_resources_kept_open(void **state)
{
	const char *d = "cg/system.slice/docker-" ID1 ".scope";
	char p[256];
#define PUT(file, text) (snprintf(p, sizeof(p), "%s/%s", d, file), put(p, text))
	PUT("cpu.stat", "usage_usec 1000000\n");
	PUT("memory.current", "4096\n");
	PUT("memory.max", "8192\n");
	PUT("memory.events", "oom_kill 0\n");
	PUT("pids.current", "1\n");
	int fds0 = open_fds();
	struct ctw_registry *r = new_reg();
	assert_int_equal(ctw_registry_scan(r), 1);
	struct ctw_cgroup_resources res;
	assert_int_equal(ctw_registry_resources(r, by_id(r, ID1), &res), 0);
	assert_int_equal(res.memory_bytes, 4096);
	assert_int_equal(res.memory_limit, 8192);
	assert_true(open_fds() >= fds0 + 4); /* cpu, memory, oom, pids */
	PUT("cpu.stat", "usage_usec 3000000\n");
	PUT("memory.current", "12288\n");
	PUT("memory.max", "16384\n");
	PUT("memory.events", "oom_kill 2\n");
	PUT("pids.current", "5\n");
	assert_int_equal(ctw_registry_resources(r, by_id(r, ID1), &res), 0);
	assert_true(res.cpu_seconds > 2.99 && res.cpu_seconds < 3.01);
	assert_int_equal(res.memory_bytes, 12288);
	assert_int_equal(res.oom_events, 2);
	assert_int_equal(res.pids, 5);
	assert_int_equal(res.memory_limit, 8192); /* not read again yet */
	for (int i = 0; i < 9; i++)
		assert_int_equal(ctw_registry_resources(r, by_id(r, ID1), &res), 0);
	assert_int_equal(res.memory_limit, 16384); /* the 11th refresh read it */
	ctw_registry_free(r);
	assert_int_equal(open_fds(), fds0);
#undef PUT
}

/* Labels: ctrwatch state "labels", Docker Config.Labels, CRI-O container and
 * sandbox (pod) labels; the bounds; and policy label selectors on them. */
static void test_labels(void **state)
{
	mkd("cg/ctwtest/lbl");
	mkd("cg/system.slice/docker-" ID1 ".scope");
	mkd("cg/system.slice/crio-" ID3 ".scope");
	char big[CTW_LABELS_SIZE * 2], js[sizeof(big) + PATH_MAX * 2];
	size_t o = 0;
	/* 70 labels, one with a 300-byte value: at most 64 kept, value cut */
	for (int i = 0; i < 70; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, ",\"k%02d\":\"%s\"", i,
				      i == 3 ? "" : "v");
	char longv[301];
	memset(longv, 'x', 300);
	longv[300] = '\0';
	snprintf(js, sizeof(js), "{\"Name\":\"/d\",\"Config\":{\"Labels\":{\"long\":\"%s\"%s}}}",
		 longv, big);
	put("host/var/lib/docker/containers/" ID1 "/config.v2.json", js);
	snprintf(js, sizeof(js),
		 "{\"id\":\"abcdef0123456789\",\"name\":\"lbl\",\"status\":\"running\","
		 "\"cgroup\":\"%s/cg/ctwtest/lbl\",\"cgroup_id\":%llu,"
		 "\"labels\":{\"app\":\"web\",\"tier\":\"front\",\"empty\":\"\",\"n\":1}}",
		 root, (unsigned long long)ino("cg/ctwtest/lbl"));
	put("state/abcdef0123456789/state.json", js);
	put("host/run/containers/storage/overlay-containers/" ID3 "/userdata/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri-o.SandboxID\":\"" ID8 "\","
	    "\"io.kubernetes.cri-o.Labels\":"
	    "\"{\\\"io.kubernetes.container.name\\\":\\\"db\\\",\\\"app\\\":\\\"ctr\\\"}\"}}");
	put("host/run/containers/storage/overlay-containers/" ID8 "/userdata/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri-o.Labels\":"
	    "\"{\\\"app\\\":\\\"pod\\\",\\\"team\\\":\\\"data\\\"}\"}}");

	struct ctw_registry *r = new_reg();
	assert_int_equal(ctw_registry_scan(r), 3);
	const struct ctw_container *c = by_id(r, "abcdef0123456789");
	assert_non_null(c);
	assert_int_equal(c->nlabels, 3); /* the number is no string: skipped */
	assert_string_equal(ctw_container_label(c, "app"), "web");
	assert_string_equal(ctw_container_label(c, "tier"), "front");
	assert_string_equal(ctw_container_label(c, "empty"), "");
	assert_null(ctw_container_label(c, "n"));
	assert_null(ctw_container_label(c, "ap"));
	const char *k, *v;
	int n = 0;
	for (k = NULL; (k = ctw_container_label_next(c, k, &v));)
		n++;
	assert_int_equal(n, 3);

	c = by_id(r, ID1);
	assert_int_equal(c->nlabels, CTW_LABELS_MAX);
	assert_int_equal(strlen(ctw_container_label(c, "long")), CTW_LABEL_LEN - 1);
	assert_string_equal(ctw_container_label(c, "k00"), "v");
	assert_null(ctw_container_label(c, "k69"));

	c = by_id(r, ID3); /* the container's own label wins over the pod's */
	assert_string_equal(ctw_container_label(c, "app"), "ctr");
	assert_string_equal(ctw_container_label(c, "team"), "data");
	assert_string_equal(ctw_container_label(c, "io.kubernetes.container.name"), "db");

	/* add_label replaces a key and keeps the packing consistent */
	struct ctw_container x = {0};
	assert_int_equal(ctw_container_add_label(&x, "a", "1"), 0);
	assert_int_equal(ctw_container_add_label(&x, "b", "2"), 0);
	assert_int_equal(ctw_container_add_label(&x, "a", "333"), 0);
	assert_int_equal(x.nlabels, 2);
	assert_int_equal(x.labels_len, 4 + 6);
	assert_string_equal(ctw_container_label(&x, "a"), "333");
	assert_string_equal(ctw_container_label(&x, "b"), "2");
	ctw_container_release(&x);

	/* policy selectors: every pair must match, values are globs */
	static const char yaml[] = "rules:\n"
				   "  - name: r1\n"
				   "    action: deny\n"
				   "    direction: egress\n"
				   "    containers: {labels: {app: web, tier: \"*\"}}\n"
				   "    match: {ports: [80], protocol: tcp}\n"
				   "  - name: r2\n"
				   "    action: deny\n"
				   "    direction: egress\n"
				   "    containers: {labels: {app: \"w?b\", missing: \"*\"}}\n"
				   "    match: {ports: [80], protocol: tcp}\n"
				   "  - name: r3\n"
				   "    action: deny\n"
				   "    direction: egress\n"
				   "    containers: {labels: {app: \"c*\", team: data}}\n"
				   "    match: {ports: [80], protocol: tcp}\n";
	struct ctw_policy *p = NULL;
	struct ctw_pol_diags d = {0};
	int rc = ctw_policy_parse("l.yaml", yaml, strlen(yaml), &p, &d);
	if (rc)
		ctw_pol_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(p->n_rules, 3);
	const struct ctw_container *web = by_id(r, "abcdef0123456789"), *db = by_id(r, ID3);
	assert_true(ctw_pol_labels_match(&p->rules[0].sel, web));
	assert_false(ctw_pol_labels_match(&p->rules[0].sel, db));
	assert_false(ctw_pol_labels_match(&p->rules[0].sel, by_id(r, ID1)));
	assert_false(ctw_pol_labels_match(&p->rules[1].sel, web));
	assert_false(ctw_pol_labels_match(&p->rules[2].sel, web));
	assert_true(ctw_pol_labels_match(&p->rules[2].sel, db));
	ctw_policy_free(p);
	ctw_pol_diags_fini(&d);
	ctw_registry_free(r);
}

struct walked {
	int n, maxdepth;
	char first[PATH_MAX * 2];
	uint64_t ids[16];
};

static int walk_cb(void *ctx, uint64_t id, const char *path, int depth)
{
	struct walked *w = ctx;
	if (!w->n)
		ctw_strlcpy(w->first, path, sizeof(w->first));
	if (w->n < 16)
		w->ids[w->n] = id;
	w->n++;
	if (depth > w->maxdepth)
		w->maxdepth = depth;
	/* "skip" prunes its subtree, "stop" ends the walk with an error */
	if (strstr(path, "/stop"))
		return -E2BIG;
	return strstr(path, "/skip") ? 1 : 0;
}

/* The one walker: the start and every directory below it, parents first,
 * pruned and stopped on the callback's word. */
static void test_walk(void **state)
{
	mkd("cg/a/b/c");
	mkd("cg/a/d");
	mkd("cg/a/skip/below");
	put("cg/a/cgroup.procs", "");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/cg/a", root);
	struct walked w = {0};
	assert_int_equal(ctw_cgroup_walk(p, walk_cb, &w), 5);
	assert_string_equal(w.first, p);
	assert_int_equal(w.ids[0], ino("cg/a"));
	assert_int_equal(w.maxdepth, 2);
	mkd("cg/a/d/stop");
	memset(&w, 0, sizeof(w));
	assert_int_equal(ctw_cgroup_walk(p, walk_cb, &w), -E2BIG);
	snprintf(p, sizeof(p), "%s/cg/a/cgroup.procs", root);
	assert_int_equal(ctw_cgroup_walk(p, walk_cb, &w), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/cg/none", root);
	assert_int_equal(ctw_cgroup_walk(p, walk_cb, &w), -ENOENT);
}

/* A container owns its cgroup path and labels (heap, exact size): a copy
 * is deep (the source released, the copy still reads), an empty one has no
 * labels and iterates nothing. */
static void test_container_copy(void **state)
{
	(void)state;
	struct ctw_container a = {0}, b;
	assert_null(ctw_container_label_next(&a, NULL, &(const char *){NULL}));
	ctw_strlcpy(a.name, "web", sizeof(a.name));
	ctw_container_set_cgroup_path(&a, "/sys/fs/cgroup/x/y");
	ctw_container_set_cgroup_path(&a, "/sys/fs/cgroup/x/z");
	assert_int_equal(ctw_container_add_label(&a, "app", "web"), 0);
	assert_int_equal(ctw_container_add_label(&a, "tier", "front"), 0);
	assert_int_equal(a.labels_len, sizeof("app\0web\0tier\0front"));
	ctw_container_copy(&b, &a);
	assert_ptr_not_equal(b.cgroup_path, a.cgroup_path);
	assert_ptr_not_equal(b.labels, a.labels);
	ctw_container_release(&a);
	assert_null(a.cgroup_path);
	assert_null(ctw_container_label(&a, "app"));
	assert_string_equal(b.name, "web");
	assert_string_equal(b.cgroup_path, "/sys/fs/cgroup/x/z");
	assert_string_equal(ctw_container_label(&b, "app"), "web");
	assert_string_equal(ctw_container_label(&b, "tier"), "front");
	assert_int_equal(b.nlabels, 2);
	/* the bound is still CTW_LABELS_SIZE bytes in all */
	char v[CTW_LABEL_LEN];
	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	int rc = 0;
	for (int i = 0; i < CTW_LABELS_MAX && !rc; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%02d", i);
		rc = ctw_container_add_label(&b, k, v);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true(b.labels_len <= CTW_LABELS_SIZE);
	ctw_container_release(&b);
}

/* Resolve and follow: the container's cgroup and its nested ones. */
static void test_follow(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope/nested/deeper");
	struct ctw_registry *r = new_reg();
	struct ctw_container c;
	struct walked w = {0};
	assert_int_equal(ctw_containers_follow(r, ID1, &c, walk_cb, &w), 3);
	assert_string_equal(c.id, ID1);
	assert_int_equal(w.ids[0], ino("cg/system.slice/docker-" ID1 ".scope"));
	assert_int_equal(w.ids[2], ino("cg/system.slice/docker-" ID1 ".scope/nested/deeper"));
	ctw_container_release(&c);
	assert_int_equal(ctw_containers_follow(r, "nosuch", &c, walk_cb, &w), -ENOENT);
	ctw_registry_free(r);
}

/* One keyed-file reader for cgroup files (cpu.stat, memory.events). */
static void test_keyed(void **state)
{
	put("memory.events", "low 0\nhigh 3\nmax 4\noom 1\noom_kill 2\n");
	char p[PATH_MAX * 2];
	uint64_t v = 0;
	snprintf(p, sizeof(p), "%s/memory.events", root);
	assert_true(ctw_read_keyed_u64(p, "oom_kill", &v));
	assert_int_equal(v, 2);
	assert_true(ctw_read_keyed_u64(p, "oom", &v));
	assert_int_equal(v, 1);
	assert_false(ctw_read_keyed_u64(p, "oom_group_kill", &v));
	assert_false(ctw_read_keyed_u64(p, "ma", &v));
	snprintf(p, sizeof(p), "%s/none", root);
	assert_false(ctw_read_keyed_u64(p, "oom", &v));
}

/* The kernel's stream: a container made, a cgroup nested in it, both gone
 * with scans in between: the nested id names the container to the end of
 * the grace, and the container is kept for the grace. */
static void test_stream(void **state)
{
	mkd("cg/system.slice/docker-" ID1 ".scope/nested");
	char cg[PATH_MAX * 2], st[PATH_MAX * 2], p[PATH_MAX * 2];
	snprintf(cg, sizeof(cg), "%s/cg", root);
	snprintf(st, sizeof(st), "%s/state", root);
	struct ctw_registry_opts o = {
		.cgroup_root = cg, .state_dir = st, .grace_ns = 5000000000ull};
	struct ctw_registry *r = ctw_registry_new(&o);
	ctw_registry_set_hooks(r, h_added, h_removed, NULL, NULL);
	nadded = nremoved = 0;
	uint64_t id = ino("cg/system.slice/docker-" ID1 ".scope");
	uint64_t nested = ino("cg/system.slice/docker-" ID1 ".scope/nested");
	ctw_registry_cgroup_made(r, id, ino("cg/system.slice"),
				 "/system.slice/docker-" ID1 ".scope");
	assert_int_equal(nadded, 1);
	assert_non_null(ctw_registry_lookup(r, id));
	ctw_registry_cgroup_made(r, nested, id, "/system.slice/docker-" ID1 ".scope/nested");
	assert_ptr_equal(ctw_registry_lookup(r, nested), ctw_registry_lookup(r, id));
	/* not a container, not nested in one */
	ctw_registry_cgroup_made(r, 999999999, 1, "/system.slice/ssh.service");
	assert_null(ctw_registry_lookup(r, 999999999));
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_int_equal(nadded, 1);
	/* the nested cgroup goes, a scan, then the container goes, a scan */
	snprintf(p, sizeof(p), "%s/cg/system.slice/docker-" ID1 ".scope/nested", root);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_non_null(ctw_registry_lookup(r, nested));
	snprintf(p, sizeof(p), "%s/cg/system.slice/docker-" ID1 ".scope", root);
	assert_int_equal(rmdir(p), 0);
	assert_true(ctw_registry_cgroup_gone(r, id));
	assert_false(ctw_registry_cgroup_gone(r, nested));
	assert_false(ctw_registry_expired(r));
	assert_int_equal(ctw_registry_scan(r), 1);
	assert_int_equal(nremoved, 0);
	assert_ptr_equal(ctw_registry_lookup(r, nested), ctw_registry_lookup(r, id));
	ctw_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_paths),
		cmocka_unit_test_setup_teardown(test_scan_fake_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resources_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resources_kept_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test(test_container_copy),
		cmocka_unit_test(test_label_pack),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
