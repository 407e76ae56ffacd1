// SPDX-License-Identifier: Apache-2.0
/* Unit tests for runtime/ (no root): signal and capability names, the
 * default capability set, seccomp profiles (built-in and Docker JSON with
 * located errors), state round trip and lookup, sync messages. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "../../runtime/internal.h"

static char tmpdir[64];

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/ctw-unit-rt.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	char *s = xasprintf("%s/state", tmpdir), *r = xasprintf("%s/root", tmpdir);
	setenv("CTRWATCH_STATE", s, 1);
	setenv("CTRWATCH_ROOT", r, 1);
	free(s);
	free(r);
	return 0;
}

static int teardown(void **state)
{
	ctw_rm_rf(tmpdir);
	return 0;
}

static void test_parse_signal(void **state)
{
	assert_int_equal(ctw_parse_signal("TERM"), SIGTERM);
	assert_int_equal(ctw_parse_signal("SIGKILL"), SIGKILL);
	assert_int_equal(ctw_parse_signal("sigusr1"), SIGUSR1);
	assert_int_equal(ctw_parse_signal("15"), 15);
	assert_int_equal(ctw_parse_signal("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(ctw_parse_signal("NOPE"), -EINVAL);
	assert_int_equal(ctw_parse_signal("0"), -EINVAL);
	assert_int_equal(ctw_parse_signal("65"), -EINVAL);
	assert_int_equal(ctw_parse_signal(""), -EINVAL);
}

static void test_caps(void **state)
{
	assert_int_equal(ctw_cap_from_name("NET_ADMIN"), CAP_NET_ADMIN);
	assert_int_equal(ctw_cap_from_name("cap_sys_admin"), CAP_SYS_ADMIN);
	assert_int_equal(ctw_cap_from_name("all"), -2);
	assert_int_equal(ctw_cap_from_name("CAP_NOPE"), -EINVAL);
	assert_string_equal(ctw_cap_name(CAP_BPF), "BPF");
	/* Docker's 14 default capabilities, as /proc shows them. */
	assert_int_equal(ctw_caps_default(), 0xa80425fbull);
	assert_int_equal(__builtin_popcountll(ctw_caps_default()), 14);
}

static void test_seccomp_default(void **state)
{
	struct sock_fprog *p = NULL;
	struct ctw_err err = {0};
	assert_int_equal(seccomp_compile(NULL, ctw_caps_default(), &p, &err), 0);
	assert_non_null(p);
	assert_true(p->len > 50);
	seccomp_prog_free(p);
	/* More capabilities: more rules (mount, bpf, ... become allowed). */
	struct sock_fprog *q = NULL;
	assert_int_equal(seccomp_compile(NULL, ~0ull >> 23, &q, &err), 0);
	assert_non_null(q);
	seccomp_prog_free(q);
	assert_int_equal(seccomp_compile("unconfined", 0, &p, &err), 0);
	assert_null(p);
}

/* What the kernel does for every syscall number when a filter is installed
 * (to cache the calls that are always allowed): run the filter on x86_64
 * with only the number known.  Returns the verdict, or -1 when it depends
 * on the arguments; *steps counts the instructions taken. */
static long walk_filter(const struct sock_fprog *p, unsigned nr, unsigned *steps)
{
	uint32_t a = 0;
	unsigned pc = 0;
	for (*steps = 0; pc < p->len; (*steps)++) {
		const struct sock_filter *f = &p->filter[pc++];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k == offsetof(struct seccomp_data, nr))
				a = nr;
			else if (f->k == offsetof(struct seccomp_data, arch))
				a = AUDIT_ARCH_X86_64;
			else
				return -1; /* an argument: not known here */
			break;
		case BPF_JMP | BPF_JA: pc += f->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += a & f->k ? f->jt : f->jf; break;
		case BPF_ALU | BPF_AND | BPF_K: a &= f->k; break;
		case BPF_RET | BPF_K: return f->k;
		default: return -1;
		}
	}
	return -1;
}

/* The default filter is a tree of syscall numbers: the walk above, which
 * the kernel runs ~900 times at install with interrupts off, takes a few
 * steps per number instead of running down a ~330-instruction list. */
static void test_seccomp_default_is_a_tree(void **state)
{
	struct sock_fprog *p = NULL;
	struct ctw_err err = {0};
	assert_int_equal(seccomp_compile(NULL, ctw_caps_default(), &p, &err), 0);
	unsigned steps, most = 0;
	for (unsigned nr = 0; nr < 460; nr++) {
		walk_filter(p, nr, &steps);
		if (steps > most)
			most = steps;
	}
	print_message("longest walk: %u instructions of %u\n", most, p->len);
	assert_true(most <= 40);
	/* And it still says what the profile says. */
	assert_int_equal(walk_filter(p, SYS_read, &steps), SECCOMP_RET_ALLOW);
	assert_int_equal(walk_filter(p, SYS_openat2, &steps), SECCOMP_RET_ALLOW);
	assert_int_equal(walk_filter(p, SYS_kexec_load, &steps), SECCOMP_RET_ERRNO | EPERM);
	assert_int_equal(walk_filter(p, SYS_unshare, &steps), SECCOMP_RET_ERRNO | EPERM);
	assert_int_equal(walk_filter(p, SYS_bpf, &steps), SECCOMP_RET_ERRNO | EPERM);
	assert_int_equal(walk_filter(p, SYS_clone3, &steps), SECCOMP_RET_ERRNO | ENOSYS);
	assert_int_equal(walk_filter(p, SYS_personality, &steps), -1); /* by its argument */
	seccomp_prog_free(p);
}

static char *write_tmp(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	assert_int_equal(ctw_write_file(path, text, strlen(text), true), 0);
	return path;
}

static void test_seccomp_json(void **state)
{
	struct sock_fprog *p = NULL;
	struct ctw_err err = {0};
	char *ok = write_tmp("ok.json",
			     "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
			     "\"syscalls\":[{\"names\":[\"read\",\"write\",\"no_such_call\"],"
			     "\"action\":\"SCMP_ACT_ALLOW\"},"
			     "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\","
			     "\"args\":[{\"index\":0,\"value\":40,\"op\":\"SCMP_CMP_NE\"}]},"
			     "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\","
			     "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}");
	assert_int_equal(seccomp_compile(ok, 0, &p, &err), 0);
	assert_non_null(p);
	seccomp_prog_free(p);
	p = NULL;

	char *syn = write_tmp("syntax.json",
			      "{\n \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
			      " \"syscalls\": [ { \"names\": [\"read\"] \"action\": 1 } ]\n}\n");
	assert_int_equal(seccomp_compile(syn, 0, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "syntax.json:3:"));

	char *act = write_tmp("act.json",
			      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":"
			      "[{\"names\":[\"read\"]},{\"names\":[\"x\"],\"action\":\"NOPE\"}]}");
	assert_int_equal(seccomp_compile(act, 0, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "syscalls[0].action"));

	char *arg = write_tmp("arg.json",
			      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
			      "[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
			      "\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	assert_int_equal(seccomp_compile(arg, 0, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "syscalls[0].args[0].index"));

	char *cap = write_tmp("cap.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
					  "[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
					  "\"includes\":{\"caps\":[\"CAP_BOGUS\"]}}]}");
	assert_int_equal(seccomp_compile(cap, 0, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "syscalls[0].includes.caps[0]"));

	char *missing = xasprintf("%s/none.json", tmpdir);
	assert_true(seccomp_compile(missing, 0, &p, &err) < 0);
	assert_non_null(strstr(err.msg, "none.json"));
	free(ok);
	free(syn);
	free(act);
	free(arg);
	free(cap);
	free(missing);
}

/* A spare container directory: made as run makes one, with what a
 * container leaves in it. */
static char *make_cdir(const char *id, bool junk)
{
	char *c = xasprintf("%s/containers/%s", ctw_root_dir(), id);
	char *u = xasprintf("%s/upper", c), *w = xasprintf("%s/work", c);
	assert_int_equal(ctw_mkdir_p(u, 0755), 0);
	assert_int_equal(ctw_mkdir_p(w, 0700), 0);
	char *f = xasprintf("%s/etc", u);
	assert_int_equal(ctw_mkdir_p(f, 0755), 0);
	free(f);
	f = xasprintf("%s/etc/written", u);
	assert_int_equal(ctw_write_file(f, "x", 1, true), 0);
	free(f);
	f = xasprintf("%s/work/incompat", w);
	assert_int_equal(ctw_mkdir_p(f, 0700), 0);
	free(f);
	f = xasprintf("%s/container.log", c);
	assert_int_equal(ctw_write_file(f, "log", 3, true), 0);
	free(f);
	if (junk) {
		f = xasprintf("%s/junk", c);
		assert_int_equal(ctw_write_file(f, "?", 1, true), 0);
		free(f);
	}
	free(u);
	free(w);
	return c;
}

static void test_spare_dirs(void **state)
{
	if (geteuid() != 0) {
		skip(); /* spares are root's own directories only */
		return;
	}
	char *spares = xasprintf("%s/containers/.spare", ctw_root_dir());
	char *c1 = make_cdir("c1", false);
	char *c2 = xasprintf("%s/containers/c2", ctw_root_dir());
	struct spare sp;
	spare_claim(&sp);
	assert_false(spare_use(&sp, c2)); /* none yet */
	spare_release(&sp);

	/* Emptied and kept. */
	assert_int_equal(spare_retire(c1), 0);
	assert_false(ctw_path_exists(c1));
	assert_int_equal((int)ctw_dir_count(spares), 1);
	/* It keeps what overlayfs left in work/ until the next claims it and
	 * empties it (on a thread), then uses it: an empty upper/ and work/. */
	char *left = NULL;
	{
		char *sw = xasprintf("%s/*/work/work", spares);
		glob_t g;
		assert_int_equal(glob(sw, 0, NULL, &g), 0);
		assert_int_equal((int)g.gl_pathc, 1);
		left = xstrdup(g.gl_pathv[0]);
		globfree(&g);
		free(sw);
	}
	assert_true(ctw_path_exists(left));
	spare_claim(&sp);
	assert_true(spare_use(&sp, c2));
	assert_false(ctw_path_exists(left));
	free(left);
	assert_int_equal((int)ctw_dir_count(spares), 0);
	assert_int_equal((int)ctw_dir_count(c2), 2);
	char *u2 = xasprintf("%s/upper", c2), *w2 = xasprintf("%s/work", c2);
	assert_int_equal((int)ctw_dir_count(u2), 0);
	assert_int_equal((int)ctw_dir_count(w2), 0);
	/* A claim not used is dropped. */
	char *c4 = make_cdir("c4", false);
	assert_int_equal(spare_retire(c4), 0);
	spare_claim(&sp);
	spare_release(&sp);
	assert_int_equal((int)ctw_dir_count(spares), 0);
	free(c4);

	/* Not as we made it: removed, not kept. */
	assert_int_equal(chmod(u2, 0700), 0);
	assert_int_equal(spare_retire(c2), 0);
	assert_false(ctw_path_exists(c2));
	assert_int_equal((int)ctw_dir_count(spares), 0);
	char *c3 = make_cdir("c3", true); /* an entry we never make */
	assert_int_equal(spare_retire(c3), 0);
	assert_false(ctw_path_exists(c3));
	assert_int_equal((int)ctw_dir_count(spares), 0);

	/* At most four kept. */
	for (int i = 0; i < 6; i++) {
		char id[8];
		snprintf(id, sizeof(id), "k%d", i);
		char *c = make_cdir(id, false);
		assert_int_equal(spare_retire(c), 0);
		assert_false(ctw_path_exists(c));
		free(c);
	}
	assert_int_equal((int)ctw_dir_count(spares), 4);
	assert_int_equal(spare_clear(), 0);
	assert_false(ctw_path_exists(spares));
	free(u2);
	free(w2);
	free(c1);
	free(c2);
	free(c3);
	free(spares);
}

static void test_state_roundtrip(void **state)
{
	struct ctw_state s = {0}, t;
	struct ctw_err err = {0};
	memset(s.id, 'a', 64);
	strcpy(s.name, "web");
	strcpy(s.image, "busybox");
	strcpy(s.cgroup, "/sys/fs/cgroup/unified/x/aaaa");
	s.cgroup_id = 12345678901ull;
	s.pid = 42;
	s.status = CTW_ST_EXITED;
	s.exit_code = 137;
	s.oom_killed = true;
	s.created_ns = 1700000000123456789ull;
	s.nv1 = 1;
	strcpy(s.v1[0].ctrl, "memory");
	strcpy(s.v1[0].path, "/sys/fs/cgroup/memory/x/aaaa");
	char *cmd[] = {"sh", "-c", "echo \"hi\"", NULL};
	s.command = cmd;
	s.caps = ctw_caps_default();
	s.stop_signal = SIGUSR1;
	assert_int_equal(ctw_state_save(&s, &err), 0);
	s.command = NULL;

	assert_int_equal(ctw_state_find("web", &t, &err), 0);
	assert_string_equal(t.id, s.id);
	assert_int_equal(t.cgroup_id, 12345678901ull);
	assert_int_equal(t.status, CTW_ST_EXITED);
	assert_int_equal(t.exit_code, 137);
	assert_true(t.oom_killed);
	assert_int_equal(t.created_ns, 1700000000123456789ull);
	assert_string_equal(t.v1[0].path, "/sys/fs/cgroup/memory/x/aaaa");
	assert_string_equal(t.command[2], "echo \"hi\"");
	assert_int_equal(t.caps, ctw_caps_default());
	assert_int_equal(t.stop_signal, SIGUSR1);
	assert_false(ctw_state_init_alive(&t));
	ctw_state_fini(&t);

	/* id prefix; unknown and ambiguous refs */
	assert_int_equal(ctw_state_find("aaaa", &t, &err), 0);
	ctw_state_fini(&t);
	assert_int_equal(ctw_state_find("nope", &t, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no such container"));
	memset(s.id, 'a', 63);
	s.id[63] = 'b';
	strcpy(s.name, "other");
	assert_int_equal(ctw_state_save(&s, &err), 0);
	assert_int_equal(ctw_state_find("aaa", &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "ambiguous"));
	char **ids = ctw_state_list();
	int n = 0;
	while (ids[n])
		n++;
	assert_int_equal(n, 2);
	ctw_strv_free(ids);

	/* The state file itself carries the agent's keys. */
	char *path = state_path(s.id, "state.json"), *text;
	assert_int_equal(ctw_read_file(path, &text, NULL), 0);
	const char *keys[] = {"\"id\"",	       "\"name\"",	"\"image\"",	  "\"image_id\"",
			      "\"pid\"",       "\"status\"",	"\"created\"",	  "\"started\"",
			      "\"finished\"",  "\"exit_code\"", "\"oom_killed\"", "\"cgroup\"",
			      "\"cgroup_id\"", "\"cgroup_v1\"", "\"ip\"",	  "\"command\""};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		assert_non_null(strstr(text, keys[i]));
	free(text);
	free(path);
}

static void test_sync_messages(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	struct ctw_err e = {0};
	ctw_err_setx(&e, ENOENT, "exec: \"x\": not found");
	assert_int_equal(sync_send(sv[1], SYNC_ERR, 127, &e, -1), 0);
	struct sync_msg m;
	int fd;
	assert_int_equal(sync_recv(sv[0], &m, &fd), 1);
	assert_int_equal(m.type, SYNC_ERR);
	assert_int_equal(m.status, 127);
	assert_int_equal(fd, -1);
	assert_string_equal(m.err.msg, "exec: \"x\": not found");
	/* an fd travels with SYNC_PTY */
	assert_int_equal(sync_send(sv[1], SYNC_PTY, 0, NULL, STDERR_FILENO), 0);
	assert_int_equal(sync_recv(sv[0], &m, &fd), 1);
	assert_int_equal(m.type, SYNC_PTY);
	assert_true(fd > 2);
	close(fd);
	close(sv[1]);
	assert_int_equal(sync_recv(sv[0], &m, &fd), 0); /* EOF */
	close(sv[0]);
}

static void test_wait_status(void **state)
{
	assert_int_equal(wait_status_to_exit(42 << 8), 42);
	assert_int_equal(wait_status_to_exit(SIGKILL), 137);
	assert_int_equal(wait_status_to_exit(SIGTERM), 143);
}

/* The log writer's entries and the parser `logs` uses. */
static void test_log_format(void **state)
{
	char *path = xasprintf("%s/log", tmpdir);
	struct log_writer w = {.out = -1, .err = -1, .saved = {-1, -1}};
	w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(w.fd >= 0);
	log_write(&w, CTW_LOG_STDOUT, "a\n\nb", 4);
	log_write(&w, CTW_LOG_STDERR, "e\n", 2);
	log_write(&w, CTW_LOG_STDOUT, "c\n", 2);
	log_close(&w);
	char *data;
	assert_int_equal(ctw_read_file(path, &data, NULL), 0);
	static const struct {
		int stream;
		bool partial;
		const char *msg;
	} want[] = {
		{CTW_LOG_STDOUT, false, "a"}, {CTW_LOG_STDOUT, false, ""},
		{CTW_LOG_STDOUT, true, "b"},  {CTW_LOG_STDERR, false, "e"},
		{CTW_LOG_STDOUT, false, "c"},
	};
	size_t i = 0;
	for (char *save, *l = strtok_r(data, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save), i++) {
		struct ctw_log_entry e;
		assert_true(i < ARRAY_SIZE(want));
		assert_int_equal(ctw_log_parse(l, strlen(l), &e), 0);
		assert_int_equal(e.stream, want[i].stream);
		assert_int_equal(e.partial, want[i].partial);
		assert_int_equal(e.msg_len, strlen(want[i].msg));
		assert_memory_equal(e.msg, want[i].msg, e.msg_len);
		assert_int_equal(e.ts_len, 30); /* 2026-11-29T16:10:00.123456789Z */
		assert_int_equal(e.ts[10], 'T');
	}
	assert_int_equal(i, ARRAY_SIZE(want));
	free(data);
	free(path);

	static const char *const bad[] = {
		"plain old output",
		"2026-11-29T16:10:00.1Z stdin F x",
		"2026-11-29T16:10:00.1Z stdout X x",
		"2026-11-29T16:10:00.1Z stdout F",
		"2026-11-29T16:10:00.1 stdout F x",
	};
	struct ctw_log_entry e;
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		assert_int_equal(ctw_log_parse(bad[k], strlen(bad[k]), &e), -EINVAL);
	const char *sp = "2026-11-29T16:10:00.1Z stderr P  two  spaces ";
	assert_int_equal(ctw_log_parse(sp, strlen(sp), &e), 0);
	assert_int_equal(e.msg_len, strlen(" two  spaces "));
}

/* passwd and group text as fgetpwent/fgetgrent read it, from memory. */
static void test_passwd_parse(void **state)
{
	const char pw[] = "root:x:0:0:root:/root:/bin/sh\n"
			  "bad line\n"
			  "noid:x::1:x:/h:/bin/sh\n"
			  "big:x:4294967296:1::/:/bin/sh\n"
			  "www:x:33:33:www:/var/www:/usr/sbin/nologin\n"
			  "sh:x:7:8:gecos:/home/sh:/bin/sh:with:colons";
	struct pw_entry e;
	assert_int_equal(passwd_find(pw, sizeof(pw) - 1, "www", &e), 1);
	assert_int_equal(e.uid, 33);
	assert_int_equal(e.gid, 33);
	assert_string_equal(e.home, "/var/www");
	pw_entry_fini(&e);
	assert_int_equal(passwd_find(pw, sizeof(pw) - 1, "33", &e), 1);
	assert_string_equal(e.name, "www");
	pw_entry_fini(&e);
	assert_int_equal(passwd_find(pw, sizeof(pw) - 1, "sh", &e), 1); /* last line, no \n */
	assert_int_equal(e.gid, 8);
	pw_entry_fini(&e);
	assert_int_equal(passwd_find(pw, sizeof(pw) - 1, "noid", &e), 0);
	assert_int_equal(passwd_find(pw, sizeof(pw) - 1, "big", &e), 0);
	assert_int_equal(passwd_find(pw, sizeof(pw) - 1, "nobody", &e), 0);
	/* A NUL inside a line makes it invalid, not a shorter name. */
	const char nul[] = "ro\0ot:x:5:5::/:/bin/sh\n";
	assert_int_equal(passwd_find(nul, sizeof(nul) - 1, "ro", &e), 0);

	const char gr[] = "root:x:0:\nwheel:x:10:root,www\nwww:x:33:\nstaff:x:50:sh,www\n";
	gid_t gid = 99, *groups = NULL;
	size_t n = 0;
	assert_true(group_scan(gr, sizeof(gr) - 1, "staff", "www", &gid, &groups, &n));
	assert_int_equal(gid, 50);
	assert_int_equal(n, 2);
	assert_int_equal(groups[0], 10);
	assert_int_equal(groups[1], 50);
	free(groups);
	gid = 99;
	assert_false(group_scan(gr, sizeof(gr) - 1, "nope", NULL, &gid, NULL, NULL));
	assert_int_equal(gid, 99);
	assert_true(group_scan(gr, sizeof(gr) - 1, "33", NULL, &gid, NULL, NULL));
	assert_int_equal(gid, 33);
}

/* /etc/passwd and /etc/group read in a root: a FIFO and a device are
 * refused at once (they hung and spun exec), a symlink out stays in. */
static void test_passwd_files(void **state)
{
	char *root = xasprintf("%s/pwroot", tmpdir), *etc = xasprintf("%s/etc", root);
	assert_int_equal(ctw_mkdir_p(etc, 0755), 0);
	char *p = xasprintf("%s/passwd", etc), *g = xasprintf("%s/group", etc);
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	struct user_ids u;
	struct ctw_err err = {0};
	/* No files: a numeric user still works, a name does not. */
	assert_int_equal(passwd_resolve_user(rootfd, "1000:1000", &u, &err), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	user_ids_fini(&u);
	assert_int_equal(passwd_resolve_user(rootfd, "app", &u, &err), -ENOENT);
	assert_int_equal(ctw_write_file(p, "app:x:7:8::/home/app:/bin/sh\n", 30, true), 0);
	assert_int_equal(ctw_write_file(g, "grp:x:9:app\n", 12, true), 0);
	assert_int_equal(passwd_resolve_user(rootfd, "app", &u, &err), 0);
	assert_int_equal(u.uid, 7);
	assert_int_equal(u.gid, 8);
	assert_int_equal(u.ngroups, 1);
	assert_int_equal(u.groups[0], 9);
	assert_string_equal(u.home, "/home/app");
	user_ids_fini(&u);
	assert_int_equal(passwd_resolve_user(rootfd, "app:grp", &u, &err), 0);
	assert_int_equal(u.gid, 9);
	assert_int_equal(u.ngroups, 0);
	user_ids_fini(&u);
	assert_int_equal(passwd_resolve_user(rootfd, "app:nogroup", &u, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "unable to find group nogroup"));

	unlink(g);
	assert_int_equal(mkfifo(g, 0644), 0);
	assert_int_equal(passwd_resolve_user(rootfd, "app", &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "/etc/group of the container is not a regular file"));
	/* By id, the broken file is left out (a warning): uid and gid hold. */
	assert_int_equal(passwd_resolve_user(rootfd, "7:9", &u, &err), 0);
	assert_int_equal(u.uid, 7);
	assert_int_equal(u.gid, 9);
	assert_string_equal(u.home, "/home/app");
	user_ids_fini(&u);
	unlink(g);
	assert_int_equal(symlink("/dev/zero", g), 0); /* the root's /dev/zero: none here */
	assert_int_equal(passwd_resolve_user(rootfd, "app", &u, &err), 0);
	user_ids_fini(&u);
	unlink(p);
	assert_int_equal(symlink("/proc/self/fd/0", p), 0);
	assert_true(passwd_resolve_user(rootfd, "app", &u, &err) < 0);
	close(rootfd);
	free(p);
	free(g);
	free(etc);
	free(root);
}

/* 100 000 variables (a hash of the keys: linear), a later K replacing K in
 * place; past CTW_ENV_MAX an error. */
static void test_env_builder(void **state)
{
	struct envb e;
	struct ctw_err err = {0};
	envb_init(&e);
	assert_int_equal(envb_set(&e, "A=1", &err), 0);
	assert_int_equal(envb_set(&e, "B=2", &err), 0);
	assert_int_equal(envb_set(&e, "A=3", &err), 0);
	char **v = envb_steal(&e);
	assert_string_equal(v[0], "A=3");
	assert_string_equal(v[1], "B=2");
	assert_null(v[2]);
	ctw_strv_free(v);

	envb_init(&e);
	char kv[32];
	int r = 0;
	for (int i = 0; i < 100000 && !r; i++) {
		snprintf(kv, sizeof(kv), "K%d=%d", i % CTW_ENV_MAX, i);
		r = envb_set(&e, kv, &err);
	}
	assert_int_equal(r, 0); /* repeats replace: at most CTW_ENV_MAX keys */
	assert_int_equal(e.n, CTW_ENV_MAX);
	assert_string_equal(e.v[0], "K0=65536");
	assert_int_equal(envb_set(&e, "ONE_MORE=1", &err), -E2BIG);
	assert_non_null(strstr(err.msg, "more than 65536 variables"));
	envb_fini(&e);
}

/* The init's signals, as tini's: synchronous ones unblocked, SIGTTIN and
 * SIGTTOU ignored, the rest blocked (waited for). */
static void test_init_signals(void **state)
{
	pid_t pid = fork();
	if (pid == 0) {
		init_block_signals();
		sigset_t cur;
		sigprocmask(SIG_SETMASK, NULL, &cur);
		struct sigaction sa;
		int bad = 0;
		const int sync[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
		for (size_t i = 0; i < ARRAY_SIZE(sync); i++)
			bad += sigismember(&cur, sync[i]);
		const int waited[] = {SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1, SIGWINCH};
		for (size_t i = 0; i < ARRAY_SIZE(waited); i++)
			bad += !sigismember(&cur, waited[i]);
		sigaction(SIGTTIN, NULL, &sa);
		bad += sa.sa_handler != SIG_IGN;
		sigaction(SIGTTOU, NULL, &sa);
		bad += sa.sa_handler != SIG_IGN;
		_exit(bad);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_signal),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_seccomp_default),
		cmocka_unit_test(test_seccomp_default_is_a_tree),
		cmocka_unit_test(test_seccomp_json),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_spare_dirs),
		cmocka_unit_test(test_sync_messages),
		cmocka_unit_test(test_wait_status),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_passwd_parse),
		cmocka_unit_test(test_passwd_files),
		cmocka_unit_test(test_env_builder),
		cmocka_unit_test(test_init_signals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
