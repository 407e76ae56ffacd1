// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the spec `ctrwatch run` executes (runtime/spec_build.c, no
 * root): the image's config and the flags into process, mounts, namespaces,
 * resources, capabilities and seccomp; every spec built is valid
 * config.json (written and parsed back). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "../../runtime/internal.h"
#include "../../image/image.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ALL_CAPS ((1ull << (CAP_LAST_CAP + 1)) - 1)
#define CAP(c) (1ull << CAP_##c)

static char *img_ep[] = {"/ep", NULL};
static char *img_cmd[] = {"a", "b", NULL};
static char *img_env[] = {"IMG=1", "PATH=/img", "TERM", NULL}; /* (TERM: never ours) */
static struct ctw_image_config img = {
	.entrypoint = img_ep,
	.cmd = img_cmd,
	.env = img_env,
	.workdir = "app",
	.user = "nobody",
};
static const char *const our_env[] = {"FROM_US=yes", "TERM=dumb", NULL};

static struct ctw_run_spec_in input(struct ctw_run_opts *o)
{
	ctw_run_opts_init(o);
	o->net.mode = CTW_NET_NONE;
	o->image = "busybox";
	return (struct ctw_run_spec_in){
		.opts = o,
		.image = &img,
		.id = ID,
		.hostname = "h1",
		.rootfs = "/var/lib/ctrwatch/rootfs",
		.lowerdirs = "/l2:/l1",
		.upper = "/c/upper",
		.work = "/c/work",
		.files_dir = "/run/ctrwatch/" ID,
		.cgroup_parent = "ctwtest",
		.bounding = ALL_CAPS,
		.our_env = our_env,
	};
}

/* Build, check it is valid config.json, return it. */
static struct ctw_spec *build(const struct ctw_run_spec_in *in)
{
	struct ctw_spec *s = NULL;
	struct ctw_err err = {0};
	int r = ctw_run_spec_build(in, &s, &err);
	if (r)
		print_error("%s\n", err.msg);
	assert_int_equal(r, 0);
	char *txt = ctw_spec_to_json(s, false);
	struct ctw_spec *t = NULL;
	r = ctw_spec_parse("built.json", txt, strlen(txt), &t, &err);
	if (r)
		print_error("%s\n%s\n", err.msg, txt);
	assert_int_equal(r, 0);
	/* A user resolved at start survives the trip (user.username). */
	if (s->process->user.resolve)
		assert_string_equal(t->process->user.resolve, s->process->user.resolve);
	else
		assert_null(t->process->user.resolve);
	ctw_spec_free(t);
	free(txt);
	return s;
}

static const struct ctw_spec_mount *mount_at(const struct ctw_spec *s, const char *dst)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].destination, dst))
			return &s->mounts[i];
	return NULL;
}

static bool has_opt(const struct ctw_spec_mount *m, const char *o)
{
	for (char **p = m->options; p && *p; p++)
		if (!strcmp(*p, o))
			return true;
	return false;
}

static const char *env_of(const struct ctw_spec *s, const char *key)
{
	size_t kl = strlen(key);
	for (char **e = s->process->env; e && *e; e++)
		if (!strncmp(*e, key, kl) && (*e)[kl] == '=')
			return *e + kl + 1;
	return NULL;
}

static void test_defaults(void **state)
{
	struct ctw_run_opts o;
	struct ctw_run_spec_in in = input(&o);
	struct ctw_spec *s = build(&in);
	const struct ctw_spec_process *p = s->process;
	assert_string_equal(p->args[0], "/ep");
	assert_string_equal(p->args[2], "b");
	assert_null(p->args[3]);
	assert_string_equal(env_of(s, "PATH"), "/img");
	assert_string_equal(env_of(s, "IMG"), "1");
	assert_string_equal(env_of(s, "HOSTNAME"), "h1");
	assert_null(env_of(s, "TERM"));
	assert_null(env_of(s, "FROM_US"));
	assert_string_equal(p->cwd, "/app");
	assert_string_equal(p->user.resolve, "nobody");
	assert_false(p->terminal);
	assert_true(p->no_new_privileges);
	assert_int_equal(p->caps[CTW_CAPS_BOUNDING], ctw_caps_default());
	assert_int_equal(p->caps[CTW_CAPS_EFFECTIVE], ctw_caps_default());
	assert_int_equal(p->caps[CTW_CAPS_PERMITTED], ctw_caps_default());
	assert_int_equal(p->caps[CTW_CAPS_INHERITABLE], 0);
	assert_int_equal(p->caps[CTW_CAPS_AMBIENT], 0);
	assert_string_equal(s->hostname, "h1");
	assert_string_equal(s->root.path, "/var/lib/ctrwatch/rootfs");
	assert_string_equal(s->root.overlay_lower, "/l2:/l1");
	assert_string_equal(s->root.overlay_upper, "/c/upper");
	assert_false(s->root.readonly);
	assert_string_equal(s->linux.cgroups_path, "ctwtest/" ID);
	for (int t = 0; t < CTW_NS_MAX; t++) {
		const struct ctw_spec_ns *ns = ctw_spec_ns_get(s, (enum ctw_ns_type)t);
		if (t == CTW_NS_USER || t == CTW_NS_TIME)
			assert_null(ns);
		else
			assert_true(ns && !ns->path);
	}
	/* Docker's mounts, hosts and hostname (no resolv.conf without a
	 * network), read-only /sys and cgroups. */
	assert_int_equal(s->n_mounts, 9);
	assert_true(has_opt(mount_at(s, "/sys"), "ro"));
	assert_true(has_opt(mount_at(s, "/sys/fs/cgroup"), "ro"));
	assert_string_equal(mount_at(s, "/etc/hosts")->source, "/run/ctrwatch/" ID "/hosts");
	assert_null(mount_at(s, "/etc/resolv.conf"));
	assert_string_equal(mount_at(s, "/dev/pts")->type, "devpts");
	assert_true(s->linux.masked_paths && s->linux.masked_paths[0]);
	assert_true(s->linux.readonly_paths && s->linux.readonly_paths[0]);
	assert_non_null(s->linux.seccomp);
	assert_int_equal(s->linux.seccomp->default_action, CTW_SC_ERRNO);
	bool read = false, mount = false;
	for (size_t i = 0; i < s->linux.seccomp->n_rules; i++)
		for (char **n = s->linux.seccomp->rules[i].names; *n; n++) {
			read |= !strcmp(*n, "read") &&
				s->linux.seccomp->rules[i].action == CTW_SC_ALLOW;
			mount |= !strcmp(*n, "mount");
		}
	assert_true(read);
	assert_false(mount); /* CAP_SYS_ADMIN's */
	/* the device allowlist: deny all, then what /dev holds */
	const struct ctw_spec_resources *r = &s->linux.resources;
	assert_true(r->n_devices > 5);
	assert_false(r->devices[0].allow);
	assert_false(r->memory.limit.set);
	assert_false(r->pids_limit.set);
	ctw_spec_free(s);
}

static void test_command_and_env(void **state)
{
	struct ctw_run_opts o;
	struct ctw_run_spec_in in = input(&o);
	char *cmd[] = {"x", NULL}, *env[] = {"FROM_US", "IMG=2", "MISSING", "NEW=v", NULL};
	o.cmd = cmd;
	o.env = env;
	o.tty = true;
	o.workdir = "/w";
	o.user = "1000:1000";
	struct ctw_spec *s = build(&in);
	assert_string_equal(s->process->args[0], "/ep");
	assert_string_equal(s->process->args[1], "x");
	assert_null(s->process->args[2]);
	assert_string_equal(env_of(s, "FROM_US"), "yes");
	assert_string_equal(env_of(s, "IMG"), "2");
	assert_null(env_of(s, "MISSING"));
	assert_string_equal(env_of(s, "NEW"), "v");
	assert_string_equal(env_of(s, "TERM"), "xterm");
	assert_true(s->process->terminal);
	assert_string_equal(s->process->cwd, "/w");
	assert_string_equal(s->process->user.resolve, "1000:1000");
	ctw_spec_free(s);

	/* --entrypoint "" drops the image's Entrypoint and Cmd */
	in = input(&o);
	o.entrypoint_set = true;
	o.entrypoint = NULL;
	o.cmd = cmd;
	s = build(&in);
	assert_string_equal(s->process->args[0], "x");
	assert_null(s->process->args[1]);
	ctw_spec_free(s);

	/* no image (--rootfs): "/" and root, PATH the default */
	in = input(&o);
	in.image = NULL;
	o.cmd = cmd;
	s = build(&in);
	assert_string_equal(s->process->cwd, "/");
	assert_null(s->process->user.resolve);
	assert_string_equal(env_of(s, "PATH"),
			    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	ctw_spec_free(s);

	in = input(&o);
	in.image = NULL;
	struct ctw_err err = {0};
	assert_int_equal(ctw_run_spec_build(&in, &s, &err), -EINVAL);
	assert_null(s);
	assert_string_equal(err.msg, "no command specified (the image has no Cmd or Entrypoint)");
}

static void test_security(void **state)
{
	struct ctw_run_opts o;
	struct ctw_run_spec_in in = input(&o);
	o.privileged = true;
	in.bounding = CAP(CHOWN) | CAP(SYS_ADMIN);
	struct ctw_spec *s = build(&in);
	assert_int_equal(s->process->caps[CTW_CAPS_BOUNDING], CAP(CHOWN) | CAP(SYS_ADMIN));
	assert_false(s->process->no_new_privileges);
	assert_null(s->linux.seccomp);
	assert_null(s->linux.masked_paths);
	assert_false(has_opt(mount_at(s, "/sys"), "ro"));
	assert_int_equal(s->linux.resources.n_devices, 1);
	assert_true(s->linux.resources.devices[0].allow);
	ctw_spec_free(s);

	in = input(&o);
	o.cap_drop_all = true;
	o.cap_add = CAP(NET_ADMIN) | CAP(BPF);
	in.bounding = ALL_CAPS & ~CAP(BPF);
	s = build(&in);
	assert_int_equal(s->process->caps[CTW_CAPS_EFFECTIVE], CAP(NET_ADMIN));
	ctw_spec_free(s);

	in = input(&o);
	o.cap_drop = CAP(CHOWN) | CAP(KILL);
	s = build(&in);
	assert_int_equal(s->process->caps[CTW_CAPS_BOUNDING],
			 ctw_caps_default() & ~(CAP(CHOWN) | CAP(KILL)));
	ctw_spec_free(s);

	in = input(&o);
	o.cap_add_all = true;
	in.bounding = CAP(CHOWN) | CAP(SYS_TIME);
	s = build(&in);
	assert_int_equal(s->process->caps[CTW_CAPS_BOUNDING], CAP(CHOWN) | CAP(SYS_TIME));
	/* more capabilities: the seccomp rules they allow */
	bool settime = false;
	for (size_t i = 0; i < s->linux.seccomp->n_rules; i++)
		for (char **n = s->linux.seccomp->rules[i].names; *n; n++)
			settime |= !strcmp(*n, "settimeofday");
	assert_true(settime);
	ctw_spec_free(s);

	in = input(&o);
	o.seccomp = "unconfined";
	o.no_new_privs = false;
	s = build(&in);
	assert_null(s->linux.seccomp);
	assert_false(s->process->no_new_privileges);
	assert_non_null(s->linux.masked_paths);
	ctw_spec_free(s);

	in = input(&o);
	o.seccomp = "/nonexistent/profile.json";
	struct ctw_err err = {0};
	assert_true(ctw_run_spec_build(&in, &s, &err) < 0);
	assert_null(s);
	assert_non_null(strstr(err.msg, "/nonexistent/profile.json"));
}

static void test_network(void **state)
{
	struct ctw_run_opts o;
	struct ctw_run_spec_in in = input(&o);
	o.net.mode = CTW_NET_HOST;
	struct ctw_spec *s = build(&in);
	assert_null(ctw_spec_ns_get(s, CTW_NS_NETWORK));
	assert_null(mount_at(s, "/etc/resolv.conf"));
	ctw_spec_free(s);

	in = input(&o);
	o.net.mode = CTW_NET_BRIDGE;
	s = build(&in);
	assert_true(ctw_spec_ns_get(s, CTW_NS_NETWORK) &&
		    !ctw_spec_ns_get(s, CTW_NS_NETWORK)->path);
	assert_string_equal(mount_at(s, "/etc/resolv.conf")->source,
			    "/run/ctrwatch/" ID "/resolv.conf");
	ctw_spec_free(s);

	in = input(&o);
	o.net.mode = CTW_NET_CONTAINER;
	o.net_target = "web";
	in.net_path = "/proc/42/ns/net";
	s = build(&in);
	assert_string_equal(ctw_spec_ns_get(s, CTW_NS_NETWORK)->path, "/proc/42/ns/net");
	assert_non_null(mount_at(s, "/etc/resolv.conf"));
	ctw_spec_free(s);

	in = input(&o);
	o.net.mode = CTW_NET_CONTAINER;
	o.net_target = "web";
	struct ctw_err err = {0};
	assert_int_equal(ctw_run_spec_build(&in, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "--net container:web: no namespace");
}

static void test_filesystem_and_resources(void **state)
{
	struct ctw_run_opts o;
	struct ctw_run_spec_in in = input(&o);
	struct ctw_volume vols[] = {
		{.src = "/srv/data", .dst = "/data", .ro = true},
		{.src = "/srv/rw", .dst = "/rw"},
		{.dst = "/scratch", .tmpfs = true, .tmpfs_opts = "size=64m,mode=1777"},
		{.dst = "/t2", .tmpfs = true},
	};
	o.volumes = vols;
	o.nvolumes = ARRAY_SIZE(vols);
	o.read_only = true;
	o.memory = 64 << 20;
	o.cpus_milli = 500;
	o.pids_limit = 10;
	in.cgroup_parent = "/abs/parent/";
	in.volatile_upper = true;
	struct ctw_spec *s = build(&in);
	assert_true(s->root.readonly);
	assert_true(s->root.overlay_volatile);
	const struct ctw_spec_mount *m = mount_at(s, "/data");
	assert_string_equal(m->source, "/srv/data");
	assert_true(has_opt(m, "rbind") && has_opt(m, "ro"));
	assert_false(has_opt(mount_at(s, "/rw"), "ro"));
	m = mount_at(s, "/scratch");
	assert_string_equal(m->type, "tmpfs");
	assert_true(has_opt(m, "size=64m") && has_opt(m, "mode=1777") && has_opt(m, "nodev"));
	assert_true(has_opt(mount_at(s, "/t2"), "mode=1777"));
	/* The child mounts the first ones (/proc, /dev..., /sys) before the
	 * parent's GO, the rest (cgroupfs, binds, tmpfs volumes) after it:
	 * the split is at /sys/fs/cgroup, whatever volumes follow. */
	size_t early = oci_mounts_early(s);
	assert_int_equal(early, 6);
	assert_string_equal(s->mounts[early - 1].destination, "/sys");
	assert_string_equal(s->mounts[early].destination, "/sys/fs/cgroup");
	for (size_t i = 0; i < early; i++)
		assert_false(has_opt(&s->mounts[i], "rbind"));
	const struct ctw_spec_resources *r = &s->linux.resources;
	assert_int_equal(r->memory.limit.v, 64 << 20);
	assert_int_equal(r->memory.swap.v, 64 << 20);
	assert_int_equal(r->cpu.quota.v, 50000);
	assert_int_equal(r->cpu.period.v, 100000);
	assert_int_equal(r->pids_limit.v, 10);
	assert_string_equal(s->linux.cgroups_path, "/abs/parent/" ID);
	ctw_spec_free(s);

	in = input(&o);
	in.cgroup_parent = "a/../b";
	struct ctw_err err = {0};
	assert_int_equal(ctw_run_spec_build(&in, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "cgroup parent `a/../b`: `..` is not allowed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_command_and_env),
		cmocka_unit_test(test_security),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_filesystem_and_resources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
