// SPDX-License-Identifier: Apache-2.0
/*
 * seccomp profiles, turned into the OCI spec's linux.seccomp (what a bundle
 * says, and what seccomp_bpf.c compiles).  A profile is a list of rules in
 * Docker's model (names, action, errnoRet, args, includes/excludes by
 * capability and architecture), resolved for one capability set: the
 * built-in default is Docker's default profile written as a table (an
 * allowlist: everything else, including the namespace flags of clone,
 * mount, bpf, keyctl, kexec, modules, io_uring, ... fails with EPERM unless
 * the matching capability was added), and `seccomp=PATH` reads a
 * Docker-format JSON profile with jansson; its errors name the place
 * (file:line:column, or the JSON path of the bad value).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <linux/seccomp.h>

#include <jansson.h>
#include <seccomp.h>

#include "internal.h"

#define MAX_ARGS 6

struct sc_rule {
	const char *const *names;
	uint32_t action;
	struct scmp_arg_cmp args[MAX_ARGS];
	unsigned nargs;
	uint64_t caps_in; /* rule applies only with all of these */
	uint64_t caps_ex; /* rule skipped with any of these */
	bool arch_only;	  /* rule is for other architectures: skip */
};

#define CAP(c) (1ull << CAP_##c)
#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* What every container may call (Docker's default allowlist, without
 * io_uring, which Docker dropped too). */
/* clang-format off */
static const char *const allow_always[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
	"chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
	"dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
	"epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
	"fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
	"fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
	"flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
	"fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
	"futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
	"getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
	"geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
	"getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
	"getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
	"getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
	"getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
	"inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
	"io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
	"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
	"lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek",
	"lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack",
	"membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
	"mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
	"mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
	"mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
	"msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
	"_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal",
	"pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
	"ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
	"pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
	"readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
	"recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
	"rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
	"sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
	"setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
	"setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
	"shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
	"sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64",
	"statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
	"sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
	"tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
	"utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
	"waitpid", "write", "writev", "arch_prctl", "modify_ldt", "process_vm_readv",
	"process_vm_writev", "ptrace", NULL,
};
/* clang-format on */

#define NS_FLAGS 0x7E020000ull /* CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET} */

static const struct sc_rule default_rules[] = {
	{.names = allow_always, .action = SCMP_ACT_ALLOW},
	{.names = NAMES("socket"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_NE, 40)}}, /* no AF_VSOCK */
	{.names = NAMES("personality"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_EQ, 0)}},
	{.names = NAMES("personality"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_EQ, 8)}},
	{.names = NAMES("personality"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_EQ, 131072)}},
	{.names = NAMES("personality"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_EQ, 131080)}},
	{.names = NAMES("personality"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_EQ, 4294967295)}},
	{.names = NAMES("open_by_handle_at"),
	 .action = SCMP_ACT_ALLOW,
	 .caps_in = CAP(DAC_READ_SEARCH)},
	{.names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
			"fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
			"open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
			"sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
	 .action = SCMP_ACT_ALLOW,
	 .caps_in = CAP(SYS_ADMIN)},
	/* clone without namespace flags; clone3 cannot be inspected, so it
	 * says ENOSYS and libc falls back to clone. */
	{.names = NAMES("clone"),
	 .action = SCMP_ACT_ALLOW,
	 .nargs = 1,
	 .args = {SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0)},
	 .caps_ex = CAP(SYS_ADMIN)},
	{.names = NAMES("clone3"), .action = SCMP_ACT_ERRNO(ENOSYS), .caps_ex = CAP(SYS_ADMIN)},
	{.names = NAMES("reboot"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(SYS_BOOT)},
	{.names = NAMES("chroot"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(SYS_CHROOT)},
	{.names = NAMES("delete_module", "init_module", "finit_module"),
	 .action = SCMP_ACT_ALLOW,
	 .caps_in = CAP(SYS_MODULE)},
	{.names = NAMES("acct"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(SYS_PACCT)},
	{.names = NAMES("kcmp", "pidfd_getfd", "process_madvise"),
	 .action = SCMP_ACT_ALLOW,
	 .caps_in = CAP(SYS_PTRACE)},
	{.names = NAMES("iopl", "ioperm"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(SYS_RAWIO)},
	{.names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
	 .action = SCMP_ACT_ALLOW,
	 .caps_in = CAP(SYS_TIME)},
	{.names = NAMES("vhangup"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(SYS_TTY_CONFIG)},
	{.names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
	 .action = SCMP_ACT_ALLOW,
	 .caps_in = CAP(SYS_NICE)},
	{.names = NAMES("syslog"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(SYSLOG)},
	{.names = NAMES("bpf"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(BPF)},
	{.names = NAMES("perf_event_open"), .action = SCMP_ACT_ALLOW, .caps_in = CAP(PERFMON)},
};

/* ---- rules into the spec's model ---- */

static const struct {
	uint32_t scmp;
	enum ctw_sc_action act;
} action_map[] = {
	{SCMP_ACT_ALLOW, CTW_SC_ALLOW},
	{SCMP_ACT_KILL_THREAD, CTW_SC_KILL_THREAD},
	{SCMP_ACT_KILL_PROCESS, CTW_SC_KILL_PROCESS},
	{SCMP_ACT_TRAP, CTW_SC_TRAP},
	{SCMP_ACT_LOG, CTW_SC_LOG},
};

static void action_to_spec(uint32_t a, enum ctw_sc_action *act, struct ctw_ou64 *err_ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(action_map); i++) {
		if (action_map[i].scmp == a) {
			*act = action_map[i].act;
			return;
		}
	}
	*act = (a & 0xffff0000u) == SCMP_ACT_TRACE(0) ? CTW_SC_TRACE : CTW_SC_ERRNO;
	*err_ret = (struct ctw_ou64){a & 0xffffu, true};
}

static const enum ctw_sc_op op_map[] = {
	[SCMP_CMP_NE] = CTW_SC_NE,
	[SCMP_CMP_LT] = CTW_SC_LT,
	[SCMP_CMP_LE] = CTW_SC_LE,
	[SCMP_CMP_EQ] = CTW_SC_EQ,
	[SCMP_CMP_GE] = CTW_SC_GE,
	[SCMP_CMP_GT] = CTW_SC_GT,
	[SCMP_CMP_MASKED_EQ] = CTW_SC_MASKED_EQ,
};

/* Append r to the model when it applies to caps and this architecture. */
static void add_rule(struct ctw_spec_seccomp *sc, const struct sc_rule *r, uint64_t caps)
{
	if (r->arch_only || (r->caps_in & caps) != r->caps_in || (r->caps_ex & caps))
		return;
	sc->rules = xrealloc(sc->rules, (sc->n_rules + 1) * sizeof(*sc->rules));
	struct ctw_spec_sc_rule *m = &sc->rules[sc->n_rules++];
	memset(m, 0, sizeof(*m));
	size_t n = 0;
	while (r->names[n])
		n++;
	m->names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		m->names[i] = xstrdup(r->names[i]);
	action_to_spec(r->action, &m->action, &m->errno_ret);
	if (r->nargs) {
		m->args = xcalloc(r->nargs, sizeof(*m->args));
		for (unsigned i = 0; i < r->nargs; i++)
			m->args[i] = (struct ctw_spec_sc_arg){
				.index = r->args[i].arg,
				.value = r->args[i].datum_a,
				.value_two = r->args[i].datum_b,
				.op = op_map[r->args[i].op],
			};
		m->n_args = r->nargs;
	}
}

static struct ctw_spec_seccomp *new_profile(uint32_t def)
{
	struct ctw_spec_seccomp *sc = xcalloc(1, sizeof(*sc));
	action_to_spec(def, &sc->default_action, &sc->default_errno_ret);
	return sc;
}

struct ctw_spec_seccomp *seccomp_spec_default(uint64_t caps)
{
	struct ctw_spec_seccomp *sc = new_profile(SCMP_ACT_ERRNO(EPERM));
	for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
		add_rule(sc, &default_rules[i], caps);
	return sc;
}

/* ---- Docker JSON profiles ---- */

static const struct {
	const char *name;
	uint32_t action;
	bool takes_errno;
} actions[] = {
	{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
	{"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(EPERM), true},
	{"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
	{"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
	{"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
	{"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
	{"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
	{"SCMP_ACT_TRACE", SCMP_ACT_TRACE(EPERM), true},
};

static int parse_action(const char *s, json_t *errno_ret, uint32_t *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(s, actions[i].name))
			continue;
		*out = actions[i].action;
		if (actions[i].takes_errno && json_is_integer(errno_ret)) {
			uint32_t e = (uint32_t)json_integer_value(errno_ret) & 0xffff;
			*out = !strcmp(s, "SCMP_ACT_TRACE") ? SCMP_ACT_TRACE(e) : SCMP_ACT_ERRNO(e);
		}
		return 0;
	}
	return -EINVAL;
}

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
	{"SCMP_CMP_NE", SCMP_CMP_NE},
	{"SCMP_CMP_LT", SCMP_CMP_LT},
	{"SCMP_CMP_LE", SCMP_CMP_LE},
	{"SCMP_CMP_EQ", SCMP_CMP_EQ},
	{"SCMP_CMP_GE", SCMP_CMP_GE},
	{"SCMP_CMP_GT", SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* Our architecture in the spellings profiles use. */
static bool arch_matches(json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *a = json_string_value(v);
		if (a &&
		    (!strcmp(a, "amd64") || !strcmp(a, "x86_64") || !strcmp(a, "SCMP_ARCH_X86_64")))
			return true;
	}
	return false;
}

static int kernel_at_least(const char *want)
{
	struct utsname u;
	unsigned a = 0, b = 0, x = 0, y = 0;
	uname(&u);
	sscanf(u.release, "%u.%u", &a, &b);
	if (sscanf(want, "%u.%u", &x, &y) < 1)
		return -1;
	return a > x || (a == x && b >= y);
}

static int caps_of(json_t *list, uint64_t *mask, const char *file, const char *where,
		   struct ctw_err *err)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(v);
		int c = s ? ctw_cap_from_name(s) : -EINVAL;
		if (c < 0)
			return ctw_err_setx(err, EINVAL, "%s: %s.caps[%zu]: unknown capability %s",
					    file, where, i, s ? s : "(not a string)");
		*mask |= 1ull << c;
	}
	return 0;
}

static int json_rule(json_t *o, size_t idx, const char *file, struct sc_rule *r,
		     const char ***names_out, struct ctw_err *err)
{
	char where[48];
	snprintf(where, sizeof(where), "syscalls[%zu]", idx);
	if (!json_is_object(o))
		return ctw_err_setx(err, EINVAL, "%s: %s: not an object", file, where);
	memset(r, 0, sizeof(*r));
	json_t *names = json_object_get(o, "names"), *name = json_object_get(o, "name");
	size_t n = json_is_array(names) ? json_array_size(names) : 0;
	if (!n && !json_is_string(name))
		return ctw_err_setx(err, EINVAL, "%s: %s: needs \"names\" (a list of syscalls)",
				    file, where);
	const char **v = xcalloc(n + 2, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(names, i));
		if (!s) {
			free(v);
			return ctw_err_setx(err, EINVAL, "%s: %s.names[%zu]: not a string", file,
					    where, i);
		}
		v[k++] = s;
	}
	if (json_is_string(name))
		v[k++] = json_string_value(name);
	r->names = v;
	*names_out = v;
	const char *act = json_string_value(json_object_get(o, "action"));
	if (!act || parse_action(act, json_object_get(o, "errnoRet"), &r->action))
		return ctw_err_setx(err, EINVAL, "%s: %s.action: unknown action %s", file, where,
				    act ? act : "(missing)");
	json_t *args = json_object_get(o, "args");
	if (args && !json_is_null(args)) {
		if (!json_is_array(args) || json_array_size(args) > MAX_ARGS)
			return ctw_err_setx(err, EINVAL, "%s: %s.args: a list of at most 6", file,
					    where);
		size_t i;
		json_t *a;
		json_array_foreach (args, i, a) {
			json_t *index = json_object_get(a, "index");
			const char *op = json_string_value(json_object_get(a, "op"));
			enum scmp_compare cmp = 0;
			for (size_t j = 0; op && j < ARRAY_SIZE(ops); j++)
				if (!strcmp(op, ops[j].name))
					cmp = ops[j].op;
			if (!json_is_integer(index) || json_integer_value(index) < 0 ||
			    json_integer_value(index) > 5)
				return ctw_err_setx(err, EINVAL, "%s: %s.args[%zu].index: 0 to 5",
						    file, where, i);
			if (!cmp)
				return ctw_err_setx(err, EINVAL, "%s: %s.args[%zu].op: unknown %s",
						    file, where, i, op ? op : "(missing)");
			r->args[i] = (struct scmp_arg_cmp){
				.arg = (unsigned)json_integer_value(index),
				.op = cmp,
				.datum_a = (scmp_datum_t)json_integer_value(
					json_object_get(a, "value")),
				.datum_b = (scmp_datum_t)json_integer_value(
					json_object_get(a, "valueTwo")),
			};
		}
		r->nargs = (unsigned)json_array_size(args);
	}
	char sub[64];
	json_t *inc = json_object_get(o, "includes"), *exc = json_object_get(o, "excludes");
	snprintf(sub, sizeof(sub), "%s.includes", where);
	if (caps_of(json_object_get(inc, "caps"), &r->caps_in, file, sub, err))
		return -EINVAL;
	snprintf(sub, sizeof(sub), "%s.excludes", where);
	if (caps_of(json_object_get(exc, "caps"), &r->caps_ex, file, sub, err))
		return -EINVAL;
	json_t *ia = json_object_get(inc, "arches"), *ea = json_object_get(exc, "arches");
	if ((json_array_size(ia) && !arch_matches(ia)) || (json_array_size(ea) && arch_matches(ea)))
		r->arch_only = true;
	const char *mk = json_string_value(json_object_get(inc, "minKernel"));
	if (mk && kernel_at_least(mk) == 0)
		r->arch_only = true;
	return 0;
}

int seccomp_spec_docker(const char *path, uint64_t caps, struct ctw_spec_seccomp **out,
			struct ctw_err *err)
{
	json_error_t je;
	*out = NULL;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line < 0)
			return ctw_err_setx(err, ENOENT, "seccomp profile %s: %s", path, je.text);
		return ctw_err_setx(err, EINVAL, "seccomp profile %s:%d:%d: %s", path, je.line,
				    je.column, je.text);
	}
	int r = 0;
	struct ctw_spec_seccomp *sc = NULL;
	if (!json_is_object(root)) {
		r = ctw_err_setx(err, EINVAL, "%s: the profile must be a JSON object", path);
		goto out;
	}
	const char *defs = json_string_value(json_object_get(root, "defaultAction"));
	uint32_t def;
	json_t *der = json_object_get(root, "defaultErrnoRet");
	if (!defs || parse_action(defs, der, &def)) {
		r = ctw_err_setx(err, EINVAL, "%s: defaultAction: unknown action %s", path,
				 defs ? defs : "(missing)");
		goto out;
	}
	sc = new_profile(def);
	json_t *calls = json_object_get(root, "syscalls");
	if (calls && !json_is_array(calls)) {
		r = ctw_err_setx(err, EINVAL, "%s: syscalls: must be a list", path);
		goto out;
	}
	size_t i;
	json_t *o;
	json_array_foreach (calls, i, o) {
		struct sc_rule rule;
		const char **names = NULL;
		r = json_rule(o, i, path, &rule, &names, err);
		if (!r)
			add_rule(sc, &rule, caps);
		free(names);
		if (r)
			goto out;
	}
	*out = sc;
	sc = NULL;
out:
	ctw_spec_seccomp_free(sc);
	json_decref(root);
	return r;
}
