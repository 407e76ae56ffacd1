// SPDX-License-Identifier: Apache-2.0
/* Unit tests for spec/ (no root): config.json parsing of every field and
 * every error (the message names the field), the configs Docker, Podman and
 * containerd wrote, the writer's round trip, the default config, cgroupsPath
 * forms, the state and features documents. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <cmocka.h>

#include <jansson.h>

#include "../../spec/spec.h"

static char src[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	const char *s = getenv("CTW_SRC");
	snprintf(src, sizeof(src), "%s/tests/unit/fixtures", s ? s : ".");
	if (!ctw_path_exists(src)) {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		char *p = strstr(exe, "/build");
		if (p)
			*p = '\0';
		snprintf(src, sizeof(src), "%s/tests/unit/fixtures", exe);
	}
	return ctw_path_exists(src) ? 0 : -1;
}

static struct ctw_spec *load_fixture(const char *rel)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", src, rel);
	struct ctw_spec *s = NULL;
	struct ctw_err err = {0};
	int r = ctw_spec_load(path, &s, &err);
	if (r)
		print_error("%s\n", err.msg);
	assert_int_equal(r, 0);
	return s;
}

/* Parse text, write it back, parse that: the two texts are equal. */
static void assert_round_trip(const struct ctw_spec *s)
{
	char *a = ctw_spec_to_json(s, false);
	struct ctw_spec *t = NULL;
	struct ctw_err err = {0};
	int r = ctw_spec_parse("rt.json", a, strlen(a), &t, &err);
	if (r)
		print_error("%s\n%s\n", err.msg, a);
	assert_int_equal(r, 0);
	char *b = ctw_spec_to_json(t, false);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ctw_spec_free(t);
}

#define CAP(c) (1ull << CAP_##c)

static void test_full(void **state)
{
	struct ctw_spec *s = load_fixture("spec/full.json");
	const struct ctw_spec_process *p = s->process;
	assert_string_equal(s->oci_version, "1.1.0");
	assert_true(p->terminal);
	assert_int_equal(p->console_height.v, 25);
	assert_int_equal(p->console_width.v, 80);
	assert_int_equal(p->user.uid, 1000);
	assert_int_equal(p->user.gid, 1001);
	assert_true(p->user.umask.set);
	assert_int_equal(p->user.umask.v, 18);
	assert_int_equal(p->user.n_additional_gids, 2);
	assert_int_equal(p->user.additional_gids[1], 6);
	assert_null(p->user.resolve);
	assert_string_equal(p->args[2], "echo hi");
	assert_null(p->args[3]);
	assert_string_equal(p->env[2], "A=b=c");
	assert_string_equal(p->cwd, "/work");
	assert_true(p->caps_set);
	assert_int_equal(p->caps[CTW_CAPS_BOUNDING], CAP(CHOWN) | CAP(KILL) | CAP(NET_RAW));
	assert_int_equal(p->caps[CTW_CAPS_EFFECTIVE], CAP(KILL));
	assert_int_equal(p->caps[CTW_CAPS_INHERITABLE], CAP(CHOWN));
	assert_int_equal(p->caps[CTW_CAPS_PERMITTED], CAP(KILL) | CAP(CHOWN));
	assert_int_equal(p->caps[CTW_CAPS_AMBIENT], CAP(NET_RAW));
	assert_int_equal(p->n_rlimits, 2);
	assert_int_equal(p->rlimits[0].type, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 4096);
	assert_int_equal(p->rlimits[1].type, RLIMIT_CORE);
	assert_string_equal(p->apparmor_profile, "docker-default");
	assert_true(p->no_new_privileges);
	assert_true(p->oom_score_adj.set);
	assert_int_equal(p->oom_score_adj.v, -500);
	assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
	assert_int_equal(p->io_class, 2);
	assert_int_equal(p->io_priority, 4);

	assert_string_equal(s->root.path, "rootfs");
	assert_true(s->root.readonly);
	assert_string_equal(s->hostname, "full");
	assert_string_equal(s->domainname, "example.org");
	assert_int_equal(s->n_mounts, 3);
	assert_string_equal(s->mounts[1].destination, "/data");
	assert_string_equal(s->mounts[1].type, "bind");
	assert_string_equal(s->mounts[1].source, "/srv/data");
	assert_string_equal(s->mounts[1].options[1], "ro");
	assert_null(s->mounts[2].type);
	assert_null(s->mounts[2].options);

	assert_int_equal(s->hooks[CTW_HOOK_PRESTART].n, 1);
	assert_string_equal(s->hooks[CTW_HOOK_PRESTART].v[0].path, "/bin/pre");
	assert_string_equal(s->hooks[CTW_HOOK_PRESTART].v[0].args[1], "1");
	assert_string_equal(s->hooks[CTW_HOOK_PRESTART].v[0].env[0], "K=V");
	assert_int_equal(s->hooks[CTW_HOOK_PRESTART].v[0].timeout.v, 5);
	for (int k = 0; k < CTW_HOOK_MAX; k++)
		assert_true(s->hooks[k].n >= 1);
	assert_int_equal(s->hooks[CTW_HOOK_POSTSTART].n, 2);
	assert_string_equal(ctw_kvs_get(&s->annotations, "org.example.key"), "value");
	assert_null(ctw_kvs_get(&s->annotations, "nope"));

	const struct ctw_spec_linux *l = &s->linux;
	assert_int_equal(l->n_namespaces, 7);
	const struct ctw_spec_ns *net = ctw_spec_ns_get(s, CTW_NS_NETWORK);
	assert_non_null(net);
	assert_string_equal(net->path, "/proc/1/ns/net");
	assert_null(ctw_spec_ns_get(s, CTW_NS_TIME));
	assert_int_equal(ctw_ns_flag(CTW_NS_USER), CLONE_NEWUSER);
	assert_string_equal(ctw_ns_name(CTW_NS_NETWORK), "network");
	assert_int_equal(l->n_uid_mappings, 1);
	assert_int_equal(l->uid_mappings[0].host_id, 100000);
	assert_int_equal(l->gid_mappings[0].size, 65536);
	assert_int_equal(l->n_devices, 2);
	assert_int_equal(l->devices[0].type, 'c');
	assert_int_equal(l->devices[0].major, 10);
	assert_int_equal(l->devices[0].file_mode.v, 0666);
	assert_int_equal(l->devices[1].type, 'p');
	assert_string_equal(l->cgroups_path, "/ctw/full");

	const struct ctw_spec_resources *r = &l->resources;
	assert_true(l->resources_set);
	assert_int_equal(r->n_devices, 3);
	assert_false(r->devices[0].allow);
	assert_int_equal(r->devices[0].type, 'a');
	assert_int_equal(r->devices[0].major, -1);
	assert_int_equal(r->devices[1].access, CTW_DEV_READ | CTW_DEV_WRITE);
	assert_int_equal(r->devices[2].minor, -1);
	assert_int_equal(r->devices[2].access, CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD);
	assert_int_equal(r->memory.limit.v, 64 << 20);
	assert_int_equal(r->memory.reservation.v, 32 << 20);
	assert_int_equal(r->memory.swap.v, 128 << 20);
	assert_int_equal(r->memory.kernel.v, -1);
	assert_int_equal(r->memory.kernel_tcp.v, 1 << 20);
	assert_int_equal(r->memory.swappiness.v, 10);
	assert_true(r->memory.disable_oom_killer_set && r->memory.disable_oom_killer);
	assert_true(r->memory.use_hierarchy);
	assert_true(r->memory.check_before_update);
	assert_int_equal(r->cpu.shares.v, 512);
	assert_int_equal(r->cpu.quota.v, 50000);
	assert_int_equal(r->cpu.burst.v, 1000);
	assert_int_equal(r->cpu.period.v, 100000);
	assert_int_equal(r->cpu.realtime_runtime.v, 950000);
	assert_int_equal(r->cpu.realtime_period.v, 1000000);
	assert_string_equal(r->cpu.cpus, "0-1,3");
	assert_string_equal(r->cpu.mems, "0");
	assert_true(r->cpu.idle.set);
	assert_int_equal(r->blkio.weight.v, 500);
	assert_int_equal(r->blkio.leaf_weight.v, 300);
	assert_int_equal(r->blkio.dev[CTW_BLKIO_WEIGHT_DEVICE][0].weight.v, 600);
	assert_int_equal(r->blkio.dev[CTW_BLKIO_WEIGHT_DEVICE][0].leaf_weight.v, 200);
	assert_int_equal(r->blkio.dev[CTW_BLKIO_READ_BPS][0].rate, 1048576);
	assert_int_equal(r->blkio.dev[CTW_BLKIO_WRITE_BPS][0].rate, 2097152);
	assert_int_equal(r->blkio.dev[CTW_BLKIO_READ_IOPS][0].rate, 100);
	assert_int_equal(r->blkio.dev[CTW_BLKIO_WRITE_IOPS][0].major, 8);
	assert_int_equal(r->n_hugepages, 1);
	assert_string_equal(r->hugepages[0].page_size, "2MB");
	assert_int_equal(r->net_class_id.v, 1048577);
	assert_string_equal(ctw_kvs_get(&r->net_priorities, "eth0"), "5");
	assert_int_equal(r->pids_limit.v, 100);
	assert_string_equal(ctw_kvs_get(&r->unified, "io.weight"), "default 100");
	assert_string_equal(ctw_kvs_get(&l->sysctl, "kernel.shmmax"), "100000");

	const struct ctw_spec_seccomp *sc = l->seccomp;
	assert_non_null(sc);
	assert_int_equal(sc->default_action, CTW_SC_ERRNO);
	assert_int_equal(sc->default_errno_ret.v, 38);
	assert_string_equal(sc->architectures[1], "SCMP_ARCH_X86");
	assert_int_equal(sc->flags, CTW_SC_FLAG_LOG | CTW_SC_FLAG_SPEC_ALLOW);
	assert_int_equal(sc->n_rules, 6);
	assert_int_equal(sc->rules[1].n_args, 1);
	assert_int_equal(sc->rules[1].args[0].op, CTW_SC_EQ);
	assert_int_equal(sc->rules[2].args[0].value, 2114060288);
	assert_int_equal(sc->rules[2].args[0].op, CTW_SC_MASKED_EQ);
	assert_int_equal(sc->rules[3].errno_ret.v, 1);
	assert_int_equal(sc->rules[4].action, CTW_SC_KILL_PROCESS);
	assert_int_equal(sc->rules[5].action, CTW_SC_LOG);
	assert_int_equal(l->rootfs_propagation, MS_SLAVE | MS_REC);
	assert_string_equal(l->masked_paths[1], "/sys/firmware");
	assert_string_equal(l->readonly_paths[0], "/proc/sys");
	assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
	assert_true(l->personality_set);
	assert_int_equal(l->personality, PER_LINUX32);

	assert_round_trip(s);
	ctw_spec_free(s);
}

/* What the engines wrote (recorded for the engine readers' tests). */
static void test_engines(void **state)
{
	struct ctw_spec *d = load_fixture(
		"engines/host/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/"
		"0e85f256b2ab56b234b430e2b2ba709c2833feeb01a3587ae4b402baebd0a010/config.json");
	assert_string_equal(d->process->args[0], "sleep");
	assert_int_equal(__builtin_popcountll(d->process->caps[CTW_CAPS_BOUNDING]), 14);
	assert_int_equal(d->hooks[CTW_HOOK_PRESTART].n, 1);
	assert_string_equal(d->hooks[CTW_HOOK_PRESTART].v[0].args[0], "libnetwork-setkey");
	assert_non_null(d->linux.seccomp);
	assert_true(d->linux.seccomp->n_rules > 10);
	assert_string_equal(ctw_kvs_get(&d->linux.sysctl, "net.ipv4.ip_unprivileged_port_start"),
			    "0");
	assert_true(d->process->oom_score_adj.set);
	assert_round_trip(d);
	ctw_spec_free(d);

	struct ctw_spec *p = load_fixture(
		"engines/host/var/lib/containers/storage/overlay-containers/"
		"6393742350c15e5a9d6e6e2eedaae239ca7eeed87f1e82bce6ebdda35e25f5c9/userdata/"
		"config.json");
	assert_int_equal(p->process->user.umask.v, 022);
	assert_int_equal(p->process->n_rlimits, 2);
	assert_int_equal(p->linux.resources.pids_limit.v, 2048);
	assert_int_equal(p->linux.seccomp->default_errno_ret.v, 38);
	assert_string_equal(ctw_kvs_get(&p->annotations, "io.container.manager"), "libpod");
	assert_round_trip(p);
	ctw_spec_free(p);

	struct ctw_spec *c = load_fixture("engines/host/run/containerd/"
					  "io.containerd.runtime.v2.task/ctwns/app/config.json");
	assert_int_equal(c->linux.resources.n_devices, 10);
	assert_int_equal(c->linux.resources.devices[8].major, 136);
	assert_int_equal(c->linux.resources.devices[8].minor, -1);
	assert_string_equal(c->linux.cgroups_path, "test/ctr/ctwns-app");
	assert_null(c->linux.seccomp);
	assert_round_trip(c);
	ctw_spec_free(c);
}

static void test_default(void **state)
{
	struct ctw_spec *s = ctw_spec_default(false, 0, 0);
	assert_string_equal(s->process->args[0], "sh");
	assert_true(s->process->terminal);
	assert_string_equal(s->root.path, "rootfs");
	assert_non_null(ctw_spec_ns_get(s, CTW_NS_NETWORK));
	assert_null(ctw_spec_ns_get(s, CTW_NS_USER));
	assert_int_equal(s->n_mounts, 7);
	assert_round_trip(s);
	ctw_spec_free(s);

	s = ctw_spec_default(true, 1000, 1001);
	assert_null(ctw_spec_ns_get(s, CTW_NS_NETWORK));
	assert_non_null(ctw_spec_ns_get(s, CTW_NS_USER));
	assert_int_equal(s->linux.uid_mappings[0].host_id, 1000);
	assert_int_equal(s->linux.gid_mappings[0].host_id, 1001);
	assert_false(s->linux.resources_set);
	for (size_t i = 0; i < s->n_mounts; i++) {
		if (!strcmp(s->mounts[i].destination, "/sys"))
			assert_string_equal(s->mounts[i].options[0], "rbind");
		for (char **o = s->mounts[i].options; o && *o; o++)
			assert_string_not_equal(*o, "gid=5");
	}
	assert_round_trip(s);
	ctw_spec_free(s);
}

/* ---- every error, naming its field ---- */

static const char base_json[] =
	"{\"ociVersion\": \"1.0.2\","
	" \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}},"
	" \"root\": {\"path\": \"rootfs\"},"
	" \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"},"
	"  {\"type\": \"uts\"}, {\"type\": \"ipc\"}, {\"type\": \"network\"}]}}";

/* Set (value: JSON text) or delete (value NULL) the member at path
 * ("a/b/0/c": numbers index arrays), making objects on the way. */
static void set_path(json_t *root, const char *path, const char *value)
{
	char buf[256];
	ctw_strlcpy(buf, path, sizeof(buf));
	json_t *cur = root;
	char *save, *tok = strtok_r(buf, "/", &save);
	while (tok) {
		char *next = strtok_r(NULL, "/", &save);
		bool idx = json_is_array(cur);
		size_t i = idx ? strtoul(tok, NULL, 10) : 0;
		if (!next) {
			if (!value) {
				if (idx)
					json_array_remove(cur, i);
				else
					json_object_del(cur, tok);
				return;
			}
			json_error_t je;
			json_t *v = json_loads(value, JSON_DECODE_ANY, &je);
			assert_non_null(v);
			if (idx && i >= json_array_size(cur))
				json_array_append_new(cur, v);
			else if (idx)
				json_array_set_new(cur, i, v);
			else
				json_object_set_new(cur, tok, v);
			return;
		}
		json_t *child = idx ? json_array_get(cur, i) : json_object_get(cur, tok);
		if (!child) {
			child = json_object();
			json_object_set_new(cur, tok, child);
		}
		cur = child;
		tok = next;
	}
}

struct bad {
	const char *path, *value; /* value NULL: deleted */
	const char *msg;	  /* the whole message */
};

static const struct bad bad_cases[] = {
	{"ociVersion", NULL, "config.json: ociVersion: required"},
	{"ociVersion", "\"x\"", "config.json: ociVersion: `x` is not a version like 1.0.2"},
	{"ociVersion", "\"2.0.0\"", "config.json: ociVersion: 2.0.0 is not supported (1.x)"},
	{"root", NULL, "config.json: root: required"},
	{"root", "[]", "config.json: root: not an object"},
	{"root/path", "5", "config.json: root.path: not a string"},
	{"root/path", "\"\"", "config.json: root.path: empty"},
	{"root/readonly", "\"yes\"", "config.json: root.readonly: not a boolean"},
	{"hostname", "7", "config.json: hostname: not a string"},
	{"process", "\"x\"", "config.json: process: not an object"},
	{"process/args", NULL, "config.json: process.args: required (at least the command)"},
	{"process/args", "[]", "config.json: process.args: required (at least the command)"},
	{"process/args", "[1]", "config.json: process.args[0]: not a string"},
	{"process/args", "{}", "config.json: process.args: not a list"},
	{"process/cwd", NULL, "config.json: process.cwd: required"},
	{"process/cwd", "\"rel\"", "config.json: process.cwd: `rel` is not an absolute path"},
	{"process/env", "[\"NOEQ\"]", "config.json: process.env[0]: `NOEQ` is not KEY=VALUE"},
	{"process/env", "[\"A=1\", \"=v\"]",
	 "config.json: process.env[1]: `=v`: empty variable name"},
	{"process/terminal", "1", "config.json: process.terminal: not a boolean"},
	{"process/consoleSize/height", "-1",
	 "config.json: process.consoleSize.height: -1 is out of range (0 to 65535)"},
	{"process/consoleSize/width", "\"80\"",
	 "config.json: process.consoleSize.width: not a number"},
	{"process/user", "1", "config.json: process.user: not an object"},
	{"process/user/uid", "\"0\"", "config.json: process.user.uid: not a number"},
	{"process/user/uid", "1.5", "config.json: process.user.uid: not an integer"},
	{"process/user/gid", "4294967296",
	 "config.json: process.user.gid: 4294967296 is out of range (0 to 4294967295)"},
	{"process/user/umask", "4096",
	 "config.json: process.user.umask: 4096 is out of range (0 to 4095)"},
	{"process/user/additionalGids", "[-1]",
	 "config.json: process.user.additionalGids[0]: -1 is out of range (0 to 4294967295)"},
	{"process/capabilities/bounding", "[\"CAP_FOO\"]",
	 "config.json: process.capabilities.bounding[0]: unknown capability CAP_FOO"},
	{"process/capabilities/effective", "[\"CAP_KILL\", \"CHOWN\"]",
	 "config.json: process.capabilities.effective[1]: unknown capability CHOWN"},
	{"process/capabilities/inheritable", "[7]",
	 "config.json: process.capabilities.inheritable[0]: not a string"},
	{"process/capabilities/ambient", "\"x\"",
	 "config.json: process.capabilities.ambient: not a list"},
	{"process/capabilities", "[]", "config.json: process.capabilities: not an object"},
	{"process/rlimits", "[{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]",
	 "config.json: process.rlimits[0].type: unknown rlimit RLIMIT_FOO"},
	{"process/rlimits", "[{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1}]",
	 "config.json: process.rlimits[0].soft: required"},
	{"process/rlimits", "[{\"soft\": 1, \"hard\": 1}]",
	 "config.json: process.rlimits[0].type: required"},
	{"process/rlimits", "[5]", "config.json: process.rlimits[0]: not an object"},
	{"process/rlimits",
	 "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
	 " {\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 2}]",
	 "config.json: process.rlimits[1]: RLIMIT_NOFILE given twice"},
	{"process/noNewPrivileges", "0", "config.json: process.noNewPrivileges: not a boolean"},
	{"process/oomScoreAdj", "1001",
	 "config.json: process.oomScoreAdj: 1001 is out of range (-1000 to 1000)"},
	{"process/apparmorProfile", "[]", "config.json: process.apparmorProfile: not a string"},
	{"process/selinuxLabel", "{}", "config.json: process.selinuxLabel: not a string"},
	{"process/ioPriority", "{\"class\": \"X\"}",
	 "config.json: process.ioPriority.class: unknown class X"},
	{"process/ioPriority", "{\"priority\": 1}",
	 "config.json: process.ioPriority.class: required"},
	{"process/ioPriority", "{\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 8}",
	 "config.json: process.ioPriority.priority: 8 is out of range (0 to 7)"},
	{"process/scheduler", "{\"policy\": \"SCHED_FIFO\"}",
	 "config.json: process.scheduler: not supported by ctrwatch"},
	{"process/execCPUAffinity", "{\"initial\": \"0\"}",
	 "config.json: process.execCPUAffinity: not supported by ctrwatch"},
	{"mounts", "\"x\"", "config.json: mounts: not a list"},
	{"mounts", "[1]", "config.json: mounts[0]: not an object"},
	{"mounts", "[{\"type\": \"proc\"}]", "config.json: mounts[0].destination: required"},
	{"mounts", "[{\"destination\": \"proc\"}]",
	 "config.json: mounts[0].destination: `proc` is not an absolute path"},
	{"mounts", "[{\"destination\": \"/x\", \"options\": [1]}]",
	 "config.json: mounts[0].options[0]: not a string"},
	{"mounts", "[{\"destination\": \"/x\", \"source\": 1}]",
	 "config.json: mounts[0].source: not a string"},
	{"mounts",
	 "[{\"destination\": \"/x\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, "
	 "\"size\": 1}]}]",
	 "config.json: mounts[0].uidMappings: not supported by ctrwatch"},
	{"hooks", "[]", "config.json: hooks: not an object"},
	{"hooks/prestart", "[{\"args\": []}]", "config.json: hooks.prestart[0].path: required"},
	{"hooks/poststop", "[{\"path\": \"x\"}]",
	 "config.json: hooks.poststop[0].path: `x` is not an absolute path"},
	{"hooks/poststart", "[{\"path\": \"/x\", \"timeout\": 0}]",
	 "config.json: hooks.poststart[0].timeout: must be greater than zero"},
	{"hooks/createRuntime", "[{\"path\": \"/x\", \"env\": [\"X\"]}]",
	 "config.json: hooks.createRuntime[0].env[0]: `X` is not KEY=VALUE"},
	{"hooks/startContainer", "{}", "config.json: hooks.startContainer: not a list"},
	{"annotations", "{\"a\": 1}", "config.json: annotations.a: not a string"},
	{"linux", "5", "config.json: linux: not an object"},
	{"linux/namespaces", "[{\"type\": \"foo\"}]",
	 "config.json: linux.namespaces[0].type: unknown namespace type foo"},
	{"linux/namespaces/5", "{\"type\": \"pid\"}",
	 "config.json: linux.namespaces[5].type: pid given twice"},
	{"linux/namespaces/0", "{\"type\": \"mount\", \"path\": \"rel\"}",
	 "config.json: linux.namespaces[0].path: `rel` is not an absolute path"},
	{"linux/namespaces", "[{\"type\": \"pid\"}]",
	 "config.json: linux.namespaces: ctrwatch needs a mount namespace"},
	{"linux/uidMappings", "[{\"containerID\": 0, \"hostID\": 0, \"size\": 0}]",
	 "config.json: linux.uidMappings[0].size: 0 is out of range (1 to 4294967295)"},
	{"linux/gidMappings", "[{\"containerID\": 0, \"size\": 1}]",
	 "config.json: linux.gidMappings[0].hostID: required"},
	{"linux/uidMappings", "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]",
	 "config.json: linux.uidMappings: mappings need a new user namespace"},
	{"linux/namespaces/5", "{\"type\": \"user\"}",
	 "config.json: linux.namespaces: a new user namespace needs linux.uidMappings and "
	 "linux.gidMappings"},
	{"linux/devices", "[{\"type\": \"x\", \"path\": \"/dev/x\"}]",
	 "config.json: linux.devices[0].type: unknown device type x (c, b, u or p)"},
	{"linux/devices", "[{\"type\": \"c\", \"path\": \"/dev/x\", \"minor\": 1}]",
	 "config.json: linux.devices[0].major: required"},
	{"linux/devices", "[{\"type\": \"c\", \"path\": \"dev/x\", \"major\": 1, \"minor\": 1}]",
	 "config.json: linux.devices[0].path: `dev/x` is not an absolute path"},
	{"linux/devices",
	 "[{\"type\": \"c\", \"path\": \"/dev/x\", \"major\": 1, \"minor\": 1, "
	 "\"fileMode\": 65536}]",
	 "config.json: linux.devices[0].fileMode: 65536 is out of range (0 to 4095)"},
	{"linux/cgroupsPath", "1", "config.json: linux.cgroupsPath: not a string"},
	{"linux/resources", "[]", "config.json: linux.resources: not an object"},
	{"linux/resources/devices", "[{\"access\": \"rwm\"}]",
	 "config.json: linux.resources.devices[0].allow: required"},
	{"linux/resources/devices", "[{\"allow\": true, \"access\": \"rwx\"}]",
	 "config.json: linux.resources.devices[0].access: `rwx`: only r, w and m"},
	{"linux/resources/devices", "[{\"allow\": true, \"type\": \"z\"}]",
	 "config.json: linux.resources.devices[0].type: unknown device type z (a, c or b)"},
	{"linux/resources/devices", "[{\"allow\": true, \"major\": -2}]",
	 "config.json: linux.resources.devices[0].major: -2 is out of range (-1 to 4294967295)"},
	{"linux/resources/memory/limit", "\"x\"",
	 "config.json: linux.resources.memory.limit: not a number"},
	{"linux/resources/memory/limit", "-2",
	 "config.json: linux.resources.memory.limit: -2 is out of range (-1 to "
	 "9223372036854775807)"},
	{"linux/resources/memory/swappiness", "101",
	 "config.json: linux.resources.memory.swappiness: 101 is out of range (0 to 100)"},
	{"linux/resources/memory/disableOOMKiller", "\"no\"",
	 "config.json: linux.resources.memory.disableOOMKiller: not a boolean"},
	{"linux/resources/memory", "1", "config.json: linux.resources.memory: not an object"},
	{"linux/resources/cpu/cpus", "\"a-b\"",
	 "config.json: linux.resources.cpu.cpus: `a-b` is not a list like 0-3,7"},
	{"linux/resources/cpu/cpus", "\"3-1\"",
	 "config.json: linux.resources.cpu.cpus: `3-1`: bad range"},
	{"linux/resources/cpu/mems", "\"0,\"",
	 "config.json: linux.resources.cpu.mems: `0,` is not a list like 0-3,7"},
	{"linux/resources/cpu/idle", "2",
	 "config.json: linux.resources.cpu.idle: 2 is out of range (0 to 1)"},
	{"linux/resources/cpu/shares", "-1",
	 "config.json: linux.resources.cpu.shares: -1 is out of range (0 to "
	 "9223372036854775807)"},
	{"linux/resources/cpu/quota", "true",
	 "config.json: linux.resources.cpu.quota: not a number"},
	{"linux/resources/blockIO/weight", "10001",
	 "config.json: linux.resources.blockIO.weight: 10001 is out of range (0 to 10000)"},
	{"linux/resources/blockIO/throttleReadBpsDevice", "[{\"major\": 8, \"minor\": 0}]",
	 "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: required"},
	{"linux/resources/blockIO/weightDevice", "[{\"minor\": 0}]",
	 "config.json: linux.resources.blockIO.weightDevice[0].major: required"},
	{"linux/resources/hugepageLimits", "[{\"pageSize\": \"3MB\", \"limit\": 1}]",
	 "config.json: linux.resources.hugepageLimits[0].pageSize: `3MB` is not a page size like "
	 "2MB or 1GB"},
	{"linux/resources/hugepageLimits", "[{\"pageSize\": \"2MB\"}]",
	 "config.json: linux.resources.hugepageLimits[0].limit: required"},
	{"linux/resources/network/priorities", "[{\"name\": \"eth0\"}]",
	 "config.json: linux.resources.network.priorities[0].priority: required"},
	{"linux/resources/network/classID", "-1",
	 "config.json: linux.resources.network.classID: -1 is out of range (0 to 4294967295)"},
	{"linux/resources/pids/limit", "\"x\"",
	 "config.json: linux.resources.pids.limit: not a number"},
	{"linux/resources/rdma", "{\"mlx5\": {\"hcaHandles\": 1}}",
	 "config.json: linux.resources.rdma: not supported by ctrwatch"},
	{"linux/resources/unified", "{\"../x\": \"1\"}",
	 "config.json: linux.resources.unified.../x: not a cgroup file name (controller.knob)"},
	{"linux/resources/unified", "{\"memory.max\": 1}",
	 "config.json: linux.resources.unified.memory.max: not a string"},
	{"linux/sysctl", "{\"net..x\": \"1\"}",
	 "config.json: linux.sysctl.net..x: not a sysctl name"},
	{"linux/sysctl", "{\"vm.swappiness\": \"1\"}",
	 "config.json: linux.sysctl.vm.swappiness: needs a namespace of its own: it is not "
	 "namespaced"},
	{"linux/sysctl", "{\"x.y\": 1}", "config.json: linux.sysctl.x.y: not a string"},
	{"linux/seccomp", "{}", "config.json: linux.seccomp.defaultAction: required"},
	{"linux/seccomp", "{\"defaultAction\": \"NOPE\"}",
	 "config.json: linux.seccomp.defaultAction: unknown action NOPE"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_FOO\"]}",
	 "config.json: linux.seccomp.architectures[0]: unknown architecture SCMP_ARCH_FOO"},
	{"linux/seccomp", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"X\"]}",
	 "config.json: linux.seccomp.flags[0]: unknown flag X"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_LOG\"}]}",
	 "config.json: linux.seccomp.syscalls[0].names: required (at least one system call)"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}",
	 "config.json: linux.seccomp.syscalls[0].action: required"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	 "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": "
	 "\"SCMP_CMP_EQ\"}]}]}",
	 "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0 to 5)"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	 "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
	 "\"X\"}]}]}",
	 "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator X"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	 "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	 "config.json: linux.seccomp.syscalls[0].args[0].value: required"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/l.sock\"}",
	 "config.json: linux.seccomp.listenerPath: not supported by ctrwatch"},
	{"linux/seccomp",
	 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
	 "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
	 "config.json: linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs a listener, not "
	 "supported by ctrwatch"},
	{"linux/rootfsPropagation", "\"weird\"",
	 "config.json: linux.rootfsPropagation: unknown propagation weird"},
	{"linux/maskedPaths", "[\"rel\"]",
	 "config.json: linux.maskedPaths[0]: `rel` is not an absolute path"},
	{"linux/readonlyPaths", "[\"/ok\", 3]",
	 "config.json: linux.readonlyPaths[1]: not a string"},
	{"linux/personality", "{\"domain\": \"X\"}",
	 "config.json: linux.personality.domain: unknown domain X (LINUX or LINUX32)"},
	{"linux/personality", "{\"domain\": \"LINUX\", \"flags\": [\"x\"]}",
	 "config.json: linux.personality.flags: not supported by ctrwatch"},
	{"linux/intelRdt", "{\"closID\": \"x\"}",
	 "config.json: linux.intelRdt: not supported by ctrwatch"},
	{"linux/timeOffsets", "{\"monotonic\": {\"secs\": 1}}",
	 "config.json: linux.timeOffsets: not supported by ctrwatch"},
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad *b = &bad_cases[i];
		json_error_t je;
		json_t *root = json_loads(base_json, 0, &je);
		assert_non_null(root);
		set_path(root, b->path, b->value);
		char *text = json_dumps(root, JSON_COMPACT);
		json_decref(root);
		struct ctw_spec *s = (struct ctw_spec *)1;
		struct ctw_err err = {0};
		int r = ctw_spec_parse("config.json", text, strlen(text), &s, &err);
		if (r != -EINVAL || strcmp(err.msg, b->msg))
			print_error("case %zu (%s = %s):\n  got:  %s\n  want: %s\n", i, b->path,
				    b->value ? b->value : "(deleted)", err.msg, b->msg);
		assert_int_equal(r, -EINVAL);
		assert_null(s);
		assert_string_equal(err.msg, b->msg);
		free(text);
	}
}

/* Cross-field rules, and what is accepted. */
static void test_rules(void **state)
{
	static const struct {
		const char *path, *value;
		bool ok;
		const char *msg;
	} cases[] = {
		/* a hostname needs a UTS namespace, new or joined (runc) */
		{"hostname", "\"h\"", true, NULL},
		{"linux/namespaces/2", "{\"type\": \"uts\", \"path\": \"/proc/1/ns/uts\"}", true,
		 NULL},
		{"linux/namespaces/2", "{\"type\": \"cgroup\"}", true, NULL},
		/* network sysctls need a network namespace */
		{"linux/sysctl", "{\"net.ipv4.ip_forward\": \"1\"}", true, NULL},
		{"linux/sysctl", "{\"kernel.msgmax\": \"1\", \"fs.mqueue.msg_max\": \"1\"}", true,
		 NULL},
		/* nulls are absent (Go writes nil slices as null) */
		{"process/env", "null", true, NULL},
		{"mounts", "null", true, NULL},
		{"linux/resources", "{\"devices\": null, \"memory\": null}", true, NULL},
		/* unknown properties are ignored */
		{"linux/someday", "{\"x\": 1}", true, NULL},
		{"process/user/username", "\"windows only\"", true, NULL},
		{"ociVersion", "\"1.0.0-rc5+dev\"", true, NULL},
		/* an empty access list means all (runc) */
		{"linux/resources/devices", "[{\"allow\": false, \"access\": \"\"}]", true, NULL},
		{"linux/resources/pids/limit", "-1", true, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_error_t je;
		json_t *root = json_loads(base_json, 0, &je);
		set_path(root, cases[i].path, cases[i].value);
		char *text = json_dumps(root, JSON_COMPACT);
		json_decref(root);
		struct ctw_spec *s = NULL;
		struct ctw_err err = {0};
		int r = ctw_spec_parse("config.json", text, strlen(text), &s, &err);
		if (r)
			print_error("case %zu: %s\n", i, err.msg);
		assert_int_equal(r, 0);
		assert_round_trip(s);
		ctw_spec_free(s);
		free(text);
	}
	/* hostname with the UTS namespace removed */
	json_error_t je;
	json_t *root = json_loads(base_json, 0, &je);
	set_path(root, "hostname", "\"h\"");
	json_array_remove(json_object_get(json_object_get(root, "linux"), "namespaces"), 2);
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	struct ctw_spec *s = NULL;
	struct ctw_err err = {0};
	assert_int_equal(ctw_spec_parse("config.json", text, strlen(text), &s, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "config.json: hostname: needs a UTS namespace (linux.namespaces)");
	free(text);
	/* a network sysctl without the network namespace */
	root = json_loads(base_json, 0, &je);
	set_path(root, "linux/sysctl", "{\"net.core.somaxconn\": \"1\"}");
	json_array_remove(json_object_get(json_object_get(root, "linux"), "namespaces"), 4);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	assert_int_equal(ctw_spec_parse("config.json", text, strlen(text), &s, &err), -EINVAL);
	assert_string_equal(err.msg, "config.json: linux.sysctl.net.core.somaxconn: needs a "
				     "network namespace");
	free(text);
}

static void test_syntax(void **state)
{
	struct ctw_spec *s = NULL;
	struct ctw_err err = {0};
	const char *t = "{\n \"ociVersion\": \"1.0.2\",\n \"root\": {\"path\": \"r\"}\n \"x\": 1}";
	assert_int_equal(ctw_spec_parse("config.json", t, strlen(t), &s, &err), -EINVAL);
	assert_true(ctw_str_has_prefix(err.msg, "config.json:4:"));
	assert_non_null(strstr(err.msg, "invalid JSON"));
	t = "[1, 2]";
	assert_int_equal(ctw_spec_parse("config.json", t, strlen(t), &s, &err), -EINVAL);
	assert_string_equal(err.msg, "config.json: not a JSON object");
	t = "{\"ociVersion\": \"1.0.2\", \"ociVersion\": \"1.0.2\"}";
	assert_int_equal(ctw_spec_parse("config.json", t, strlen(t), &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "duplicate"));
	t = "";
	assert_int_equal(ctw_spec_parse("config.json", t, 0, &s, &err), -EINVAL);
	assert_true(ctw_str_has_prefix(err.msg, "config.json:"));
	assert_int_equal(ctw_spec_load("/nonexistent/config.json", &s, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/config.json"));
	assert_null(s);
}

static void test_process_and_resources(void **state)
{
	struct ctw_spec_process *p = NULL;
	struct ctw_err err = {0};
	const char *t = "{\"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", \"terminal\": true,"
			" \"env\": [\"A=1\"], \"user\": {\"uid\": 5}}";
	assert_int_equal(ctw_spec_process_parse("process.json", t, strlen(t), &p, &err), 0);
	assert_string_equal(p->args[1], "-l");
	assert_int_equal(p->user.uid, 5);
	assert_true(p->terminal);
	ctw_spec_process_free(p);
	t = "{\"args\": [\"ls\"]}";
	assert_int_equal(ctw_spec_process_parse("process.json", t, strlen(t), &p, &err), -EINVAL);
	assert_string_equal(err.msg, "process.json: cwd: required");
	assert_null(p);

	struct ctw_spec_resources r;
	t = "{\"memory\": {\"limit\": 1048576}, \"pids\": {\"limit\": 10},"
	    " \"cpu\": {\"quota\": 1000, \"period\": 10000}}";
	assert_int_equal(ctw_spec_resources_parse("-", t, strlen(t), &r, &err), 0);
	assert_int_equal(r.memory.limit.v, 1 << 20);
	assert_false(r.memory.swap.set);
	assert_int_equal(r.pids_limit.v, 10);
	assert_int_equal(r.cpu.period.v, 10000);
	ctw_spec_resources_fini(&r);
	t = "{\"memory\": {\"limit\": \"1m\"}}";
	assert_int_equal(ctw_spec_resources_parse("-", t, strlen(t), &r, &err), -EINVAL);
	assert_string_equal(err.msg, "-: memory.limit: not a number");
}

static void test_cgroups_path(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"/a/b", "/a/b"},
		{"a/b/", "a/b"},
		{"a//b", "a/b"},
		{"system.slice:docker:abc", "/system.slice/docker-abc.scope"},
		{":libpod:abc", "/system.slice/libpod-abc.scope"},
		{"machine-libpod.slice:libpod:abc",
		 "/machine.slice/machine-libpod.slice/libpod-abc.scope"},
		{"-.slice:p:n", "/p-n.scope"},
		{"system.slice::n", "/system.slice/n.scope"},
		{"user.slice:x:a-b.slice", "/a.slice/a-b.slice"},
	};
	char out[PATH_MAX];
	struct ctw_err err = {0};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int r = ctw_spec_cgroups_path(ok[i].in, NULL, out, sizeof(out), &err);
		if (r)
			print_error("%s: %s\n", ok[i].in, err.msg);
		assert_int_equal(r, 0);
		assert_string_equal(out, ok[i].out);
	}
	assert_int_equal(ctw_spec_cgroups_path(NULL, "ctrwatch/abc", out, sizeof(out), &err), 0);
	assert_string_equal(out, "ctrwatch/abc");
	assert_int_equal(ctw_spec_cgroups_path("", "d", out, sizeof(out), &err), 0);
	assert_string_equal(out, "d");
	static const char *const bad[] = {
		"../x",	      "a/../b",	 "/a/..",	   "..",	   "/",
		"x.slice:p:", "bad:p:n", "a--b.slice:p:n", "-a.slice:p:n", "a-.slice:p:n",
		".slice:p:n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = ctw_spec_cgroups_path(bad[i], NULL, out, sizeof(out), &err);
		if (r != -EINVAL)
			print_error("%s accepted as %s\n", bad[i], out);
		assert_int_equal(r, -EINVAL);
		assert_non_null(strstr(err.msg, "cgroupsPath") ? err.msg : NULL);
	}
	assert_int_equal(ctw_spec_cgroups_path(NULL, NULL, out, sizeof(out), &err), -EINVAL);
}

static void test_state_and_features(void **state)
{
	struct ctw_kvs ann = {0};
	ctw_kvs_set(&ann, "k", "v");
	ctw_kvs_set(&ann, "k", "w");
	assert_int_equal(ann.n, 1);
	struct ctw_oci_state st = {.id = "c1",
				   .status = CTW_OCI_CREATED,
				   .pid = 42,
				   .bundle = "/b",
				   .annotations = &ann};
	char *txt = ctw_oci_state_json(&st, false);
	assert_string_equal(txt, "{\"ociVersion\":\"" CTW_OCI_VERSION "\",\"id\":\"c1\","
				 "\"status\":\"created\",\"pid\":42,\"bundle\":\"/b\","
				 "\"annotations\":{\"k\":\"w\"}}");
	free(txt);
	st.status = CTW_OCI_STOPPED;
	st.pid = 0;
	st.rootfs = "/b/rootfs";
	st.created_ns = 1000000000ull;
	st.owner = "";
	txt = ctw_oci_state_json(&st, false);
	json_error_t je;
	json_t *o = json_loads(txt, 0, &je);
	assert_non_null(o);
	assert_null(json_object_get(o, "pid"));
	assert_string_equal(json_string_value(json_object_get(o, "status")), "stopped");
	assert_string_equal(json_string_value(json_object_get(o, "created")),
			    "1970-01-01T00:00:01.000000000Z");
	assert_string_equal(json_string_value(json_object_get(o, "rootfs")), "/b/rootfs");
	json_decref(o);
	free(txt);
	ctw_kvs_fini(&ann);
	assert_string_equal(ctw_oci_status_name(CTW_OCI_PAUSED), "paused");

	txt = ctw_spec_features_json();
	o = json_loads(txt, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "ociVersionMin")), "1.0.0");
	json_t *hooks = json_object_get(o, "hooks");
	assert_int_equal(json_array_size(hooks), 6);
	json_t *lx = json_object_get(o, "linux");
	assert_true(json_array_size(json_object_get(lx, "namespaces")) >= 6);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(lx, "capabilities"), 0)),
		"CAP_CHOWN");
	assert_true(json_is_true(json_object_get(json_object_get(lx, "seccomp"), "enabled")));
	json_decref(o);
	free(txt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_engines),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_process_and_resources),
		cmocka_unit_test(test_cgroups_path),
		cmocka_unit_test(test_state_and_features),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
