// SPDX-License-Identifier: Apache-2.0
/*
 * The syscall table: names come from libseccomp (so they match what the
 * seccomp profile writer and the runtime's filter use), argument kinds and
 * strace's classes from the table below.  A syscall missing from the table
 * is still traced, with its six raw arguments printed in hex.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <seccomp.h>

#include "trace.h"
#include "internal.h"

/*
 * One row per syscall: argument kinds separated by spaces, then the strace
 * classes (f file, n network, p process, m memory, s signal, i ipc, d desc)
 * and 'x' when the return value is an address.  A kind may name the
 * argument that holds its length: "bufin:2" is data whose size is arg 2.
 */
struct row {
	const char *name;
	const char *args;
	const char *cls;
};

static const struct row rows[] = {
	{"read", "fd bufout size", "d"},
	{"write", "fd bufin:2 size", "d"},
	{"open", "path oflags omode", "fd"},
	{"close", "fd", "d"},
	{"stat", "path ptr", "f"},
	{"fstat", "fd ptr", "d"},
	{"lstat", "path ptr", "f"},
	{"poll", "ptr uint int", "d"},
	{"lseek", "fd long whence", "d"},
	{"mmap", "ptr size prot mflags fd hex", "mx"},
	{"mprotect", "hex size prot", "m"},
	{"munmap", "hex size", "m"},
	{"brk", "hex", "mx"},
	{"rt_sigaction", "sig ptr ptr size", "s"},
	{"rt_sigprocmask", "sighow ptr ptr size", "s"},
	{"rt_sigreturn", "", "s"},
	{"ioctl", "fd hex hex", "d"},
	{"pread64", "fd bufout size long", "d"},
	{"pwrite64", "fd bufin:2 size long", "d"},
	{"readv", "fd ptr int", "d"},
	{"writev", "fd ptr int", "d"},
	{"access", "path access", "f"},
	{"pipe", "ptr", "d"},
	{"select", "int ptr ptr ptr ptr", "d"},
	{"sched_yield", "", ""},
	{"mremap", "hex size size hex hex", "mx"},
	{"msync", "hex size int", "m"},
	{"mincore", "hex size ptr", "m"},
	{"madvise", "hex size int", "m"},
	{"shmget", "int size hex", "i"},
	{"shmat", "int ptr hex", "imx"},
	{"shmctl", "int int ptr", "i"},
	{"dup", "fd", "d"},
	{"dup2", "fd fd", "d"},
	{"pause", "", "s"},
	{"nanosleep", "ptr ptr", ""},
	{"getitimer", "int ptr", ""},
	{"alarm", "uint", ""},
	{"setitimer", "int ptr ptr", ""},
	{"getpid", "", ""},
	{"sendfile", "fd fd ptr size", "dn"},
	{"socket", "domain stype proto", "nd"},
	{"connect", "fd sain:2 int", "nd"},
	{"accept", "fd saout:2 ptr", "nd"},
	{"sendto", "fd bufin:2 size msgflags sain:5 int", "nd"},
	{"recvfrom", "fd bufout size msgflags saout:5 ptr", "nd"},
	{"sendmsg", "fd ptr msgflags", "nd"},
	{"recvmsg", "fd ptr msgflags", "nd"},
	{"shutdown", "fd int", "nd"},
	{"bind", "fd sain:2 int", "nd"},
	{"listen", "fd int", "nd"},
	{"getsockname", "fd saout:2 ptr", "nd"},
	{"getpeername", "fd saout:2 ptr", "nd"},
	{"socketpair", "domain stype proto ptr", "n"},
	{"setsockopt", "fd int int ptr int", "nd"},
	{"getsockopt", "fd int int ptr ptr", "nd"},
	{"clone", "clone hex hex hex hex", "p"},
	{"fork", "", "p"},
	{"vfork", "", "p"},
	{"execve", "path argv envp", "fp"},
	{"exit", "int", "p"},
	{"wait4", "int ptr waitopt ptr", "p"},
	{"kill", "int sig", "s"},
	{"uname", "ptr", ""},
	{"semget", "int int hex", "i"},
	{"semop", "int ptr uint", "i"},
	{"semctl", "int int int hex", "i"},
	{"shmdt", "hex", "im"},
	{"msgget", "int hex", "i"},
	{"msgsnd", "int ptr size hex", "i"},
	{"msgrcv", "int ptr size long hex", "i"},
	{"msgctl", "int int ptr", "i"},
	{"fcntl", "fd fcntl fcntlarg", "d"},
	{"flock", "fd int", "d"},
	{"fsync", "fd", "d"},
	{"fdatasync", "fd", "d"},
	{"truncate", "path long", "f"},
	{"ftruncate", "fd long", "d"},
	{"getdents", "fd ptr size", "d"},
	{"getcwd", "bufout size", "f"},
	{"chdir", "path", "f"},
	{"fchdir", "fd", "d"},
	{"rename", "path path", "f"},
	{"mkdir", "path mode", "f"},
	{"rmdir", "path", "f"},
	{"creat", "path mode", "fd"},
	{"link", "path path", "f"},
	{"unlink", "path", "f"},
	{"symlink", "path path", "f"},
	{"readlink", "path bufout size", "f"},
	{"chmod", "path mode", "f"},
	{"fchmod", "fd mode", "d"},
	{"chown", "path int int", "f"},
	{"fchown", "fd int int", "d"},
	{"lchown", "path int int", "f"},
	{"umask", "mode", ""},
	{"gettimeofday", "ptr ptr", ""},
	{"getrlimit", "int ptr", ""},
	{"getrusage", "int ptr", ""},
	{"sysinfo", "ptr", ""},
	{"times", "ptr", ""},
	{"ptrace", "int int hex hex", ""},
	{"getuid", "", ""},
	{"syslog", "int ptr int", ""},
	{"getgid", "", ""},
	{"setuid", "int", ""},
	{"setgid", "int", ""},
	{"geteuid", "", ""},
	{"getegid", "", ""},
	{"setpgid", "int int", ""},
	{"getppid", "", ""},
	{"getpgrp", "", ""},
	{"setsid", "", ""},
	{"setreuid", "int int", ""},
	{"setregid", "int int", ""},
	{"getgroups", "int ptr", ""},
	{"setgroups", "int ptr", ""},
	{"setresuid", "int int int", ""},
	{"getresuid", "ptr ptr ptr", ""},
	{"setresgid", "int int int", ""},
	{"getresgid", "ptr ptr ptr", ""},
	{"getpgid", "int", ""},
	{"setfsuid", "int", ""},
	{"setfsgid", "int", ""},
	{"getsid", "int", ""},
	{"capget", "ptr ptr", ""},
	{"capset", "ptr ptr", ""},
	{"rt_sigpending", "ptr size", "s"},
	{"rt_sigtimedwait", "ptr ptr ptr size", "s"},
	{"rt_sigqueueinfo", "int sig ptr", "s"},
	{"rt_sigsuspend", "ptr size", "s"},
	{"sigaltstack", "ptr ptr", "s"},
	{"utime", "path ptr", "f"},
	{"mknod", "path mode hex", "f"},
	{"personality", "hex", ""},
	{"statfs", "path ptr", "f"},
	{"fstatfs", "fd ptr", "d"},
	{"getpriority", "int int", ""},
	{"setpriority", "int int int", ""},
	{"sched_setparam", "int ptr", ""},
	{"sched_getparam", "int ptr", ""},
	{"sched_setscheduler", "int int ptr", ""},
	{"sched_getscheduler", "int", ""},
	{"mlock", "hex size", "m"},
	{"munlock", "hex size", "m"},
	{"mlockall", "hex", "m"},
	{"munlockall", "", "m"},
	{"pivot_root", "path path", "f"},
	{"prctl", "int hex hex hex hex", ""},
	{"arch_prctl", "hex hex", ""},
	{"setrlimit", "int ptr", ""},
	{"chroot", "path", "f"},
	{"sync", "", ""},
	{"acct", "path", "f"},
	{"settimeofday", "ptr ptr", ""},
	{"mount", "path path str hex ptr", "f"},
	{"umount2", "path hex", "f"},
	{"swapon", "path hex", "f"},
	{"swapoff", "path", "f"},
	{"reboot", "hex hex hex ptr", ""},
	{"sethostname", "bufin:1 int", ""},
	{"setdomainname", "bufin:1 int", ""},
	{"init_module", "ptr size str", ""},
	{"delete_module", "str hex", ""},
	{"quotactl", "hex path int ptr", "f"},
	{"gettid", "", ""},
	{"readahead", "fd long size", "d"},
	{"setxattr", "path str ptr size hex", "f"},
	{"lsetxattr", "path str ptr size hex", "f"},
	{"fsetxattr", "fd str ptr size hex", "d"},
	{"getxattr", "path str ptr size", "f"},
	{"lgetxattr", "path str ptr size", "f"},
	{"fgetxattr", "fd str ptr size", "d"},
	{"listxattr", "path ptr size", "f"},
	{"llistxattr", "path ptr size", "f"},
	{"flistxattr", "fd ptr size", "d"},
	{"removexattr", "path str", "f"},
	{"lremovexattr", "path str", "f"},
	{"fremovexattr", "fd str", "d"},
	{"tkill", "int sig", "s"},
	{"time", "ptr", ""},
	{"futex", "hex int int ptr hex int", ""},
	{"sched_setaffinity", "int size ptr", ""},
	{"sched_getaffinity", "int size ptr", ""},
	{"io_setup", "uint ptr", "m"},
	{"io_destroy", "hex", "m"},
	{"io_getevents", "hex long long ptr ptr", ""},
	{"io_submit", "hex long ptr", ""},
	{"io_cancel", "hex ptr ptr", ""},
	{"epoll_create", "int", "d"},
	{"getdents64", "fd ptr size", "d"},
	{"set_tid_address", "ptr", ""},
	{"restart_syscall", "", ""},
	{"semtimedop", "int ptr uint ptr", "i"},
	{"fadvise64", "fd long long int", "d"},
	{"timer_create", "int ptr ptr", ""},
	{"timer_settime", "int int ptr ptr", ""},
	{"timer_gettime", "int ptr", ""},
	{"timer_getoverrun", "int", ""},
	{"timer_delete", "int", ""},
	{"clock_settime", "int ptr", ""},
	{"clock_gettime", "int ptr", ""},
	{"clock_getres", "int ptr", ""},
	{"clock_nanosleep", "int int ptr ptr", ""},
	{"exit_group", "int", "p"},
	{"epoll_wait", "fd ptr int int", "d"},
	{"epoll_ctl", "fd int fd ptr", "d"},
	{"tgkill", "int int sig", "s"},
	{"utimes", "path ptr", "f"},
	{"mbind", "hex size int ptr size hex", "m"},
	{"set_mempolicy", "int ptr size", "m"},
	{"get_mempolicy", "ptr ptr size hex hex", "m"},
	{"mq_open", "str oflags omode ptr", "d"},
	{"mq_unlink", "str", ""},
	{"waitid", "int int ptr waitopt ptr", "p"},
	{"add_key", "str str ptr size int", ""},
	{"request_key", "str str str int", ""},
	{"keyctl", "int hex hex hex hex", ""},
	{"ioprio_set", "int int int", ""},
	{"ioprio_get", "int int", ""},
	{"inotify_init", "", "d"},
	{"inotify_add_watch", "fd path hex", "df"},
	{"inotify_rm_watch", "fd int", "d"},
	{"migrate_pages", "int size ptr ptr", "m"},
	{"openat", "dfd path oflags omode", "fd"},
	{"mkdirat", "dfd path mode", "fd"},
	{"mknodat", "dfd path mode hex", "fd"},
	{"fchownat", "dfd path int int atflags", "fd"},
	{"futimesat", "dfd path ptr", "fd"},
	{"newfstatat", "dfd path ptr atflags", "fd"},
	{"unlinkat", "dfd path atflags", "fd"},
	{"renameat", "dfd path dfd path", "fd"},
	{"linkat", "dfd path dfd path atflags", "fd"},
	{"symlinkat", "path dfd path", "fd"},
	{"readlinkat", "dfd path bufout size", "fd"},
	{"fchmodat", "dfd path mode", "fd"},
	{"faccessat", "dfd path access", "fd"},
	{"pselect6", "int ptr ptr ptr ptr ptr", "d"},
	{"ppoll", "ptr uint ptr ptr size", "d"},
	{"unshare", "clone", "p"},
	{"set_robust_list", "ptr size", ""},
	{"get_robust_list", "int ptr ptr", ""},
	{"splice", "fd ptr fd ptr size hex", "d"},
	{"tee", "fd fd size hex", "d"},
	{"sync_file_range", "fd long long hex", "d"},
	{"vmsplice", "fd ptr size hex", "d"},
	{"move_pages", "int size ptr ptr ptr hex", "m"},
	{"utimensat", "dfd path ptr atflags", "fd"},
	{"epoll_pwait", "fd ptr int int ptr size", "d"},
	{"signalfd", "fd ptr size", "ds"},
	{"timerfd_create", "int hex", "d"},
	{"eventfd", "uint", "d"},
	{"fallocate", "fd int long long", "d"},
	{"timerfd_settime", "fd hex ptr ptr", "d"},
	{"timerfd_gettime", "fd ptr", "d"},
	{"accept4", "fd saout:2 ptr sockflags", "nd"},
	{"signalfd4", "fd ptr size fdflags", "ds"},
	{"eventfd2", "uint fdflags", "d"},
	{"epoll_create1", "fdflags", "d"},
	{"dup3", "fd fd fdflags", "d"},
	{"pipe2", "ptr fdflags", "d"},
	{"inotify_init1", "fdflags", "d"},
	{"preadv", "fd ptr int long", "d"},
	{"pwritev", "fd ptr int long", "d"},
	{"rt_tgsigqueueinfo", "int int sig ptr", "ps"},
	{"perf_event_open", "ptr int int fd hex", "d"},
	{"recvmmsg", "fd ptr uint msgflags ptr", "nd"},
	{"fanotify_init", "hex hex", "d"},
	{"fanotify_mark", "fd hex hex dfd path", "fd"},
	{"prlimit64", "int int ptr ptr", ""},
	{"name_to_handle_at", "dfd path ptr ptr atflags", "fd"},
	{"open_by_handle_at", "fd ptr oflags", "d"},
	{"clock_adjtime", "int ptr", ""},
	{"syncfs", "fd", "d"},
	{"sendmmsg", "fd ptr uint msgflags", "nd"},
	{"setns", "fd clone", "d"},
	{"getcpu", "ptr ptr ptr", ""},
	{"process_vm_readv", "int ptr ulong ptr ulong hex", ""},
	{"process_vm_writev", "int ptr ulong ptr ulong hex", ""},
	{"kcmp", "int int int hex hex", ""},
	{"finit_module", "fd str hex", "d"},
	{"sched_setattr", "int ptr hex", ""},
	{"sched_getattr", "int ptr uint hex", ""},
	{"renameat2", "dfd path dfd path hex", "fd"},
	{"seccomp", "int hex ptr", ""},
	{"getrandom", "bufout size hex", ""},
	{"memfd_create", "str hex", "d"},
	{"kexec_file_load", "fd fd ulong str hex", "d"},
	{"bpf", "int ptr uint", "d"},
	{"execveat", "dfd path argv envp atflags", "fdp"},
	{"userfaultfd", "fdflags", "d"},
	{"membarrier", "int hex int", ""},
	{"mlock2", "hex size hex", "m"},
	{"copy_file_range", "fd ptr fd ptr size hex", "d"},
	{"preadv2", "fd ptr int long hex", "d"},
	{"pwritev2", "fd ptr int long hex", "d"},
	{"pkey_mprotect", "hex size prot int", "m"},
	{"pkey_alloc", "hex hex", ""},
	{"pkey_free", "int", ""},
	{"statx", "dfd path atflags hex ptr", "fd"},
	{"io_pgetevents", "hex long long ptr ptr ptr", ""},
	{"rseq", "ptr uint hex hex", ""},
	{"pidfd_send_signal", "fd sig ptr hex", "ds"},
	{"io_uring_setup", "uint ptr", "d"},
	{"io_uring_enter", "fd uint uint hex ptr size", "d"},
	{"io_uring_register", "fd uint ptr uint", "d"},
	{"open_tree", "dfd path hex", "fd"},
	{"move_mount", "dfd path dfd path hex", "fd"},
	{"fsopen", "str hex", "d"},
	{"fsconfig", "fd uint str ptr int", "d"},
	{"fsmount", "fd hex hex", "d"},
	{"fspick", "dfd path hex", "fd"},
	{"pidfd_open", "int hex", "d"},
	{"clone3", "ptr size", "p"},
	{"close_range", "fd fd hex", "d"},
	{"openat2", "dfd path ptr size", "fd"},
	{"pidfd_getfd", "fd fd hex", "d"},
	{"faccessat2", "dfd path access atflags", "fd"},
	{"process_madvise", "fd ptr size int hex", "d"},
	{"epoll_pwait2", "fd ptr int ptr ptr size", "d"},
	{"mount_setattr", "dfd path atflags ptr size", "fd"},
	{"landlock_create_ruleset", "ptr size hex", "d"},
	{"landlock_add_rule", "fd int ptr hex", "d"},
	{"landlock_restrict_self", "fd hex", "d"},
	{"memfd_secret", "hex", "d"},
	{"process_mrelease", "fd hex", "d"},
	{"futex_waitv", "ptr uint hex ptr int", ""},
	{"set_mempolicy_home_node", "hex size ulong hex", "m"},
	{"cachestat", "fd ptr ptr hex", "d"},
	{"fchmodat2", "dfd path mode atflags", "fd"},
};

static const struct {
	const char *tok;
	enum ctw_argk kind;
	uint8_t cap; /* enum trace_cap */
} kinds[] = {
	{"int", K_INT, 0},
	{"long", K_LONG, 0},
	{"uint", K_UINT, 0},
	{"ulong", K_ULONG, 0},
	{"size", K_ULONG, 0},
	{"hex", K_HEX, 0},
	{"ptr", K_PTR, 0},
	{"fd", K_FD, 0},
	{"dfd", K_DFD, 0},
	{"path", K_PATH, TRACE_CAP_STR},
	{"str", K_STR, TRACE_CAP_STR},
	{"argv", K_ARGV, TRACE_CAP_ARGV},
	{"envp", K_PTR, 0},
	{"oflags", K_OFLAGS, 0},
	{"omode", K_OMODE, 0},
	{"mode", K_MODE, 0},
	{"atflags", K_ATFLAGS, 0},
	{"prot", K_PROT, 0},
	{"mflags", K_MFLAGS, 0},
	{"domain", K_DOMAIN, 0},
	{"stype", K_STYPE, 0},
	{"proto", K_PROTO, 0},
	{"sig", K_SIG, 0},
	{"sighow", K_SIGHOW, 0},
	{"clone", K_CLONE, 0},
	{"access", K_ACCESS, 0},
	{"fcntl", K_FCNTL, 0},
	{"fcntlarg", K_FCNTLARG, 0},
	{"msgflags", K_MSGF, 0},
	{"waitopt", K_WAITOPT, 0},
	{"whence", K_WHENCE, 0},
	{"sockflags", K_SOCKF, 0},
	{"fdflags", K_FDFLAGS, 0},
	{"bufin", K_BUFIN, TRACE_CAP_BUF_IN},
	{"bufout", K_BUFOUT, TRACE_CAP_BUF_OUT},
	{"sain", K_SAIN, TRACE_CAP_SOCKADDR_IN},
	{"saout", K_SAOUT, TRACE_CAP_SOCKADDR_OUT},
};

static struct ctw_sysinfo table[TRACE_NR_MAX];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void parse_row(struct ctw_sysinfo *si, const struct row *r)
{
	const char *p = r->args;
	int n = 0;

	si->known = true;
	for (const char *c = r->cls; *c; c++) {
		switch (*c) {
		case 'f': si->classes |= CTW_TC_FILE; break;
		case 'n': si->classes |= CTW_TC_NETWORK; break;
		case 'p': si->classes |= CTW_TC_PROCESS; break;
		case 'm': si->classes |= CTW_TC_MEMORY; break;
		case 's': si->classes |= CTW_TC_SIGNAL; break;
		case 'i': si->classes |= CTW_TC_IPC; break;
		case 'd': si->classes |= CTW_TC_DESC; break;
		case 'x': si->ret_hex = true; break;
		}
	}
	while (*p && n < TRACE_NARGS) {
		size_t len = strcspn(p, " :");
		size_t i;

		for (i = 0; i < ARRAY_SIZE(kinds); i++)
			if (strlen(kinds[i].tok) == len && !memcmp(kinds[i].tok, p, len))
				break;
		/* The table is static: a typo is a programming error. */
		if (i == ARRAY_SIZE(kinds))
			abort();
		si->kind[n] = kinds[i].kind;
		si->spec.kind[n] = kinds[i].cap;
		if (kinds[i].cap == TRACE_CAP_SOCKADDR_OUT || kinds[i].cap == TRACE_CAP_BUF_OUT)
			si->spec.flags |= TRACE_SPEC_CAP_EXIT;
		else if (kinds[i].cap != TRACE_CAP_NONE)
			si->spec.flags |= TRACE_SPEC_CAP_ENTER;
		si->spec.lenarg[n] = 0xff;
		p += len;
		if (*p == ':') {
			si->spec.lenarg[n] = (uint8_t)(p[1] - '0');
			p += 2;
		}
		while (*p == ' ')
			p++;
		n++;
	}
	si->nargs = n;
}

static void table_init(void)
{
	for (int nr = 0; nr < TRACE_NR_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		table[nr].nargs = TRACE_NARGS;
		for (int i = 0; i < TRACE_NARGS; i++) {
			table[nr].kind[i] = K_HEX;
			table[nr].spec.lenarg[i] = 0xff;
		}
		if (!name)
			continue;
		ctw_strlcpy(table[nr].name, name, sizeof(table[nr].name));
		free(name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		int nr = seccomp_syscall_resolve_name(rows[i].name);

		if (nr < 0 || nr >= TRACE_NR_MAX)
			continue; /* not on this architecture */
		parse_row(&table[nr], &rows[i]);
	}
	for (const char *const *n = (const char *const[]){"exit", "exit_group", NULL}; *n; n++) {
		int nr = seccomp_syscall_resolve_name(*n);

		if (nr >= 0 && nr < TRACE_NR_MAX)
			table[nr].spec.flags |= TRACE_SPEC_NORETURN;
	}
}

const struct ctw_sysinfo *ctw_trace_sysinfo(int nr)
{
	pthread_once(&table_once, table_init);
	if (nr < 0 || nr >= TRACE_NR_MAX)
		return NULL;
	return &table[nr];
}

const char *ctw_trace_syscall_name(int nr)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(nr);

	return si && si->name[0] ? si->name : NULL;
}

int ctw_trace_syscall_nr(const char *name)
{
	pthread_once(&table_once, table_init);
	for (int nr = 0; nr < TRACE_NR_MAX; nr++)
		if (!strcmp(table[nr].name, name))
			return nr;
	return -1;
}

unsigned ctw_trace_syscall_classes(int nr)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(nr);

	return si ? si->classes : 0;
}

void ctw_trace_syscall_spec(int nr, struct ctw_trace_spec *spec)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(nr);

	memset(spec, 0, sizeof(*spec));
	if (si)
		*spec = si->spec;
}

static const struct {
	const char *name;
	unsigned cls;
} classes[] = {
	{"file", CTW_TC_FILE},	     {"network", CTW_TC_NETWORK}, {"net", CTW_TC_NETWORK},
	{"process", CTW_TC_PROCESS}, {"memory", CTW_TC_MEMORY},	  {"signal", CTW_TC_SIGNAL},
	{"ipc", CTW_TC_IPC},	     {"desc", CTW_TC_DESC},
};

static int class_of(const char *s, unsigned *cls)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		if (!strcmp(s, classes[i].name)) {
			*cls = classes[i].cls;
			return 0;
		}
	}
	return -ENOENT;
}

int ctw_trace_parse_filter(const char *expr, bool *sel, struct ctw_err *err)
{
	_cleanup_free_ char *copy = NULL;
	bool negate = false;
	char *tok, *save = NULL;

	pthread_once(&table_once, table_init);
	if (!expr || !*expr || !strcmp(expr, "all")) {
		for (int nr = 0; nr < TRACE_NR_MAX; nr++)
			sel[nr] = true;
		return 0;
	}
	if (ctw_str_has_prefix(expr, "trace="))
		expr += strlen("trace=");
	if (*expr == '!') {
		negate = true;
		expr++;
	}
	memset(sel, 0, TRACE_NR_MAX * sizeof(*sel));
	copy = xstrdup(expr);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned cls;
		int nr;

		if (!strcmp(tok, "all")) {
			for (nr = 0; nr < TRACE_NR_MAX; nr++)
				sel[nr] = true;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		if (tok[0] == '%' || class_of(tok, &cls) == 0) {
			if (class_of(tok[0] == '%' ? tok + 1 : tok, &cls))
				return ctw_err_setx(err, EINVAL, "invalid syscall class '%s'", tok);
			for (nr = 0; nr < TRACE_NR_MAX; nr++)
				if (table[nr].classes & cls)
					sel[nr] = true;
			continue;
		}
		nr = ctw_trace_syscall_nr(tok);
		if (nr < 0)
			return ctw_err_setx(err, EINVAL, "invalid system call '%s'", tok);
		sel[nr] = true;
	}
	if (negate)
		for (int nr = 0; nr < TRACE_NR_MAX; nr++)
			sel[nr] = !sel[nr];
	return 0;
}
