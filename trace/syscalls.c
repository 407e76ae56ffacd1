// SPDX-License-Identifier: Apache-2.0
/*
 * The syscall table: names come from libseccomp (so they match what the
 * seccomp profile writer and the runtime's filter use), argument kinds and
 * strace's classes from the table below.  A syscall missing from the table
 * is still traced, with its six raw arguments printed in hex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <seccomp.h>

#include "trace.h"
#include "internal.h"

/*
 * One row per syscall: argument kinds separated by spaces (see kinds[]),
 * strace's classes (f file, n network, p process, m memory, s signal,
 * i ipc, d desc), 'r' when it returns an fd, and after a '/' the hook for calls whose shown arguments or return value
 * depend on their arguments ("hex": the return value is an address).  A
 * kind may name the argument that holds its length or count: "bufin:2" is
 * data whose size is argument 2.
 */
struct row {
	const char *name;
	const char *args;
	const char *cls; /* classes, then "/hook" */
};

static const struct row rows[] = {
	{"read", "fd bufout size", "d"},
	{"write", "fd bufin:2 size", "d"},
	{"open", "path oflags omode", "fdr/open"},
	{"close", "fd", "d"},
	{"stat", "path stat", "f"},
	{"fstat", "fd stat", "d"},
	{"lstat", "path stat", "f"},
	{"poll", "pollfds:1 uint int", "d/poll"},
	{"lseek", "fd long whence", "d"},
	{"mmap", "ptr size prot mflags fd hex", "dm/hex"},
	{"mprotect", "ptr size prot", "m"},
	{"munmap", "ptr size", "m"},
	{"brk", "ptr", "m/hex"},
	{"rt_sigaction", "sig sigact osigact size", "s"},
	{"rt_sigprocmask", "sighow sigset:3 osigset:3 size", "s"},
	{"rt_sigreturn", "sigframe", "s"},
	{"ioctl", "fd ioreq ioarg", "d/ioctl"},
	{"pread64", "fd bufout size long", "d"},
	{"pwrite64", "fd bufin:2 size long", "d"},
	{"readv", "fd iovout:2 int", "d"},
	{"writev", "fd iovin:2 int", "d"},
	{"access", "path access", "f"},
	{"pipe", "fdpair", "d"},
	{"select", "int fdset fdset fdset selecttv", "d/select"},
	{"sched_yield", "", ""},
	{"mremap", "ptr size size mremapflags ptr", "m/hex"},
	{"msync", "ptr size msyncflags", "m"},
	{"mincore", "ptr size ptr", "m"},
	{"madvise", "ptr size madv", "m"},
	{"shmget", "int size hex", "i"},
	{"shmat", "int ptr hex", "im/hex"},
	{"shmctl", "int int ptr", "i"},
	{"dup", "fd", "dr"},
	{"dup2", "fd fd", "dr"},
	{"pause", "", "s"},
	{"nanosleep", "ts tsrem", ""},
	{"getitimer", "itimer ptr", ""},
	{"alarm", "uint", ""},
	{"setitimer", "itimer ptr ptr", ""},
	{"getpid", "", ""},
	{"sendfile", "fd fd loff size", "dn"},
	{"socket", "domain stype proto", "nr"},
	{"connect", "fd sain:2 int", "n"},
	{"accept", "fd saout:2 socklen", "nr"},
	{"sendto", "fd bufin:2 size msgflags sain:5 int", "n"},
	{"recvfrom", "fd bufout size msgflags saout:5 socklen", "n"},
	{"sendmsg", "fd msgin msgflags", "n"},
	{"recvmsg", "fd msgout msgflags", "n"},
	{"shutdown", "fd shut", "n"},
	{"bind", "fd sain:2 int", "n"},
	{"listen", "fd int", "n"},
	{"getsockname", "fd saout:2 socklen", "n"},
	{"getpeername", "fd saout:2 socklen", "n"},
	{"socketpair", "domain stype proto fdpair", "n"},
	{"setsockopt", "fd sol optname optin:4 int", "n"},
	{"getsockopt", "fd sol optname optout:4 socklen", "n"},
	{"clone", "clone ptr ptidout ptr ptr", "p/clone"},
	{"fork", "", "p"},
	{"vfork", "", "p"},
	{"execve", "path argv envp", "fp"},
	{"exit", "int", "p"},
	{"wait4", "int wstatus waitopt rusage", "p"},
	{"kill", "int sig", "ps"},
	{"uname", "uts", ""},
	{"semget", "int int hex", "i"},
	{"semop", "int ptr uint", "i"},
	{"semctl", "int int int hex", "i"},
	{"shmdt", "ptr", "im"},
	{"msgget", "int hex", "i"},
	{"msgsnd", "int ptr size hex", "i"},
	{"msgrcv", "int ptr size long hex", "i"},
	{"msgctl", "int int ptr", "i"},
	{"fcntl", "fd fcntlcmd fcntlarg", "dr/fcntl"},
	{"flock", "fd flockop", "d"},
	{"fsync", "fd", "d"},
	{"fdatasync", "fd", "d"},
	{"truncate", "path long", "f"},
	{"ftruncate", "fd long", "d"},
	{"getdents", "fd dents uint", "d"},
	{"getcwd", "pathout ulong", "f"},
	{"chdir", "path", "f"},
	{"fchdir", "fd", "d"},
	{"rename", "path path", "f"},
	{"mkdir", "path mode", "f"},
	{"rmdir", "path", "f"},
	{"creat", "path mode", "fdr"},
	{"link", "path path", "f"},
	{"unlink", "path", "f"},
	{"symlink", "path path", "f"},
	{"readlink", "path bufout ulong", "f"},
	{"chmod", "path mode", "f"},
	{"fchmod", "fd mode", "d"},
	{"chown", "path int int", "f"},
	{"fchown", "fd int int", "d"},
	{"lchown", "path int int", "f"},
	{"umask", "mode", "/octal"},
	{"gettimeofday", "tvout ptr", ""},
	{"getrlimit", "rlimres rlimout", ""},
	{"getrusage", "ruwho rusage", ""},
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
	{"getresuid", "intpout intpout intpout", ""},
	{"setresgid", "int int int", ""},
	{"getresgid", "intpout intpout intpout", ""},
	{"getpgid", "int", ""},
	{"setfsuid", "int", ""},
	{"setfsgid", "int", ""},
	{"getsid", "int", ""},
	{"capget", "caphdr capout", ""},
	{"capset", "caphdr capin", ""},
	{"rt_sigpending", "osigset:1 size", "s"},
	{"rt_sigtimedwait", "sigset:3 ptr ts size", "s"},
	{"rt_sigqueueinfo", "int sig siginfoin", "ps"},
	{"rt_sigsuspend", "sigset:1 size", "s"},
	{"sigaltstack", "ssin ssout", "s"},
	{"utime", "path ptr", "f"},
	{"mknod", "path mode hex", "f"},
	{"personality", "hex", ""},
	{"statfs", "path ptr", "f"},
	{"fstatfs", "fd ptr", "d"},
	{"getpriority", "prio int", ""},
	{"setpriority", "prio int int", ""},
	{"sched_setparam", "int ptr", ""},
	{"sched_getparam", "int ptr", ""},
	{"sched_setscheduler", "int int ptr", ""},
	{"sched_getscheduler", "int", ""},
	{"mlock", "ptr size", "m"},
	{"munlock", "ptr size", "m"},
	{"mlockall", "hex", "m"},
	{"munlockall", "", "m"},
	{"pivot_root", "path path", "f"},
	{"prctl", "prctlop prctlarg1 prctlarg prctlarg prctlarg", "/prctl"},
	{"arch_prctl", "archprctl hex", ""},
	{"setrlimit", "rlimres rlimin", ""},
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
	{"setxattr", "path str ptr size xattrflags", "f"},
	{"lsetxattr", "path str ptr size xattrflags", "f"},
	{"fsetxattr", "fd str ptr size xattrflags", "d"},
	{"getxattr", "path str ptr size", "f"},
	{"lgetxattr", "path str ptr size", "f"},
	{"fgetxattr", "fd str ptr size", "d"},
	{"listxattr", "path ptr size", "f"},
	{"llistxattr", "path ptr size", "f"},
	{"flistxattr", "fd ptr size", "d"},
	{"removexattr", "path str", "f"},
	{"lremovexattr", "path str", "f"},
	{"fremovexattr", "fd str", "d"},
	{"tkill", "int sig", "ps"},
	{"time", "ptr", ""},
	{"futex", "futex int int futexts ptr hex", "/futex"},
	{"sched_setaffinity", "int size ptr", ""},
	{"sched_getaffinity", "int size ptr", ""},
	{"io_setup", "uint ptr", "m"},
	{"io_destroy", "hex", "m"},
	{"io_getevents", "hex long long ptr ptr", ""},
	{"io_submit", "hex long ptr", ""},
	{"io_cancel", "hex ptr ptr", ""},
	{"epoll_create", "int", "dr"},
	{"getdents64", "fd dents uint", "d"},
	{"set_tid_address", "ptr", ""},
	{"restart_syscall", "", ""},
	{"semtimedop", "int ptr uint ptr", "i"},
	{"fadvise64", "fd long long int", "d"},
	{"timer_create", "clock ptr ptr", ""},
	{"timer_settime", "int timerflags ptr ptr", ""},
	{"timer_gettime", "int ptr", ""},
	{"timer_getoverrun", "int", ""},
	{"timer_delete", "int", ""},
	{"clock_settime", "clock ts", ""},
	{"clock_gettime", "clock tsout", ""},
	{"clock_getres", "clock tsout", ""},
	{"clock_nanosleep", "clock timerflags ts tsrem", ""},
	{"exit_group", "int", "p"},
	{"epoll_wait", "fd epevs int int", "d"},
	{"epoll_ctl", "fd epop fd epev", "d"},
	{"tgkill", "int int sig", "ps"},
	{"utimes", "path ptr", "f"},
	{"mbind", "ptr size int ptr size hex", "m"},
	{"set_mempolicy", "int ptr size", "m"},
	{"get_mempolicy", "ptr ptr size hex hex", "m"},
	{"mq_open", "str oflags omode ptr", "dr/open"},
	{"mq_unlink", "str", ""},
	{"waitid", "idtype int siginfoout waitopt rusage", "p"},
	{"add_key", "str str ptr size int", ""},
	{"request_key", "str str str int", ""},
	{"keyctl", "int hex hex hex hex", ""},
	{"ioprio_set", "int int int", ""},
	{"ioprio_get", "int int", ""},
	{"inotify_init", "", "dr"},
	{"inotify_add_watch", "fd path hex", "df"},
	{"inotify_rm_watch", "fd int", "d"},
	{"migrate_pages", "int size ptr ptr", "m"},
	{"openat", "dfd path oflags omode", "fdr/open"},
	{"mkdirat", "dfd path mode", "fd"},
	{"mknodat", "dfd path mode hex", "fd"},
	{"fchownat", "dfd path int int atflags", "fd"},
	{"futimesat", "dfd path ptr", "fd"},
	{"newfstatat", "dfd path stat atflags", "fd"},
	{"unlinkat", "dfd path atflags", "fd"},
	{"renameat", "dfd path dfd path", "fd"},
	{"linkat", "dfd path dfd path atflags", "fd"},
	{"symlinkat", "path dfd path", "fd"},
	{"readlinkat", "dfd path bufout ulong", "fd"},
	{"fchmodat", "dfd path mode", "fd"},
	{"faccessat", "dfd path access", "fd"},
	{"pselect6", "int fdset fdset fdset pselectts pselectsig", "d/select"},
	{"ppoll", "pollfds:1 uint ppollts sigset:4 size", "d/poll"},
	{"unshare", "cloneflags", ""},
	{"set_robust_list", "ptr size", ""},
	{"get_robust_list", "int ptr ptr", ""},
	{"splice", "fd loff fd loff size hex", "d"},
	{"tee", "fd fd size hex", "d"},
	{"sync_file_range", "fd long long hex", "d"},
	{"vmsplice", "fd iovin:2 ulong hex", "d"},
	{"move_pages", "int size ptr ptr ptr hex", "m"},
	{"utimensat", "dfd path ptr atflags", "fd"},
	{"epoll_pwait", "fd epevs int int sigset:5 size", "d"},
	{"signalfd", "fd sigset:2 size", "dsr"},
	{"timerfd_create", "clock hex", "dr"},
	{"eventfd", "uint", "dr"},
	{"fallocate", "fd int long long", "d"},
	{"timerfd_settime", "fd hex ptr ptr", "d"},
	{"timerfd_gettime", "fd ptr", "d"},
	{"accept4", "fd saout:2 socklen sockflags", "nr"},
	{"signalfd4", "fd sigset:2 size fdflags", "dsr"},
	{"eventfd2", "uint fdflags", "dr"},
	{"epoll_create1", "epflags", "dr"},
	{"dup3", "fd fd fdflags", "dr"},
	{"pipe2", "fdpair fdflags", "d"},
	{"inotify_init1", "fdflags", "dr"},
	{"preadv", "fd iovout:2 int long", "d"},
	{"pwritev", "fd iovin:2 int long", "d"},
	{"rt_tgsigqueueinfo", "int int sig siginfoin", "ps"},
	{"perf_event_open", "ptr int int fd hex", "dr"},
	{"recvmmsg", "fd ptr uint msgflags ptr", "n"},
	{"fanotify_init", "hex hex", "dr"},
	{"fanotify_mark", "fd hex hex dfd path", "fd"},
	{"prlimit64", "int rlimres rlimin rlimout", ""},
	{"name_to_handle_at", "dfd path ptr ptr atflags", "fd"},
	{"open_by_handle_at", "fd ptr oflags", "dr"},
	{"clock_adjtime", "clock ptr", ""},
	{"syncfs", "fd", "d"},
	{"sendmmsg", "fd ptr uint msgflags", "n"},
	{"setns", "fd cloneflags", "d"},
	{"getcpu", "intpout intpout ptr", ""},
	{"process_vm_readv", "int ptr ulong ptr ulong hex", ""},
	{"process_vm_writev", "int ptr ulong ptr ulong hex", ""},
	{"kcmp", "int int int hex hex", ""},
	{"finit_module", "fd str hex", "d"},
	{"sched_setattr", "int ptr hex", ""},
	{"sched_getattr", "int ptr uint hex", ""},
	{"renameat2", "dfd path dfd path renameflags", "fd"},
	{"seccomp", "int hex ptr", ""},
	{"getrandom", "randout ulong grnd", ""},
	{"memfd_create", "str hex", "dr"},
	{"kexec_file_load", "fd fd ulong str hex", "d"},
	{"bpf", "int ptr uint", "d"},
	{"execveat", "dfd path argv envp execatflags", "fdp"},
	{"userfaultfd", "fdflags", "dr"},
	{"membarrier", "int hex int", ""},
	{"mlock2", "ptr size mlockflags", "m"},
	{"copy_file_range", "fd loff fd loff size hex", "d"},
	{"preadv2", "fd iovout:2 int long hex", "d"},
	{"pwritev2", "fd iovin:2 int long hex", "d"},
	{"pkey_mprotect", "ptr size prot int", "m"},
	{"pkey_alloc", "hex hex", ""},
	{"pkey_free", "int", ""},
	{"statx", "dfd path statxflags statxmask statx", "fd"},
	{"io_pgetevents", "hex long long ptr ptr ptr", ""},
	{"rseq", "ptr hex int hex", ""},
	{"pidfd_send_signal", "fd sig siginfoin hex", "dps"},
	{"io_uring_setup", "uint ptr", "dr"},
	{"io_uring_enter", "fd uint uint hex ptr size", "d"},
	{"io_uring_register", "fd uint ptr uint", "d"},
	{"open_tree", "dfd path hex", "fdr"},
	{"move_mount", "dfd path dfd path hex", "fd"},
	{"fsopen", "str hex", "dr"},
	{"fsconfig", "fd uint str ptr int", "d"},
	{"fsmount", "fd hex hex", "dr"},
	{"fspick", "dfd path hex", "fdr"},
	{"pidfd_open", "int hex", "dr"},
	{"clone3", "clone3 ulong", "p"},
	{"close_range", "fd fd hex", "d"},
	{"openat2", "dfd path ptr size", "fdr"},
	{"pidfd_getfd", "fd fd hex", "dr"},
	{"faccessat2", "dfd path access atflags", "fd"},
	{"process_madvise", "fd ptr size madv hex", "d"},
	{"epoll_pwait2", "fd epevs int ptr sigset:5 size", "d"},
	{"mount_setattr", "dfd path atflags ptr size", "fd"},
	{"landlock_create_ruleset", "ptr size hex", "dr"},
	{"landlock_add_rule", "fd int ptr hex", "d"},
	{"landlock_restrict_self", "fd hex", "d"},
	{"memfd_secret", "hex", "dr"},
	{"process_mrelease", "fd hex", "d"},
	{"futex_waitv", "ptr uint hex ptr clock", ""},
	{"set_mempolicy_home_node", "ptr size ulong hex", "m"},
	{"cachestat", "fd ptr ptr hex", "d"},
	{"fchmodat2", "dfd path mode atflags", "fd"},
};

/* Where a kind's ":N" points: the value of argument N, or the int it
 * points to. */
enum { LEN_FIXED, LEN_PARAM, LEN_PARAM_DEREF };

#define CAP(c, w, l, e, m) .cap = TRACE_CAP_##c, .when = (w), .len = (l), .elem = (e), .max = (m)
#define AT_IN TRACE_AT_ENTER
#define AT_OUT TRACE_AT_EXIT
#define AT_ERR TRACE_AT_ERROR
#define NONE TRACE_LEN_NONE
#define RET TRACE_LEN_RET

static const struct kind {
	const char *tok;
	ctw_argfn fn;
	uint8_t cap, when, len, lenmode, flags;
	uint16_t elem, max;
} kinds[] = {
	{.tok = "int", .fn = arg_int},
	{.tok = "long", .fn = arg_long},
	{.tok = "uint", .fn = arg_uint},
	{.tok = "ulong", .fn = arg_ulong},
	{.tok = "size", .fn = arg_ulong},
	{.tok = "hex", .fn = arg_hex},
	{.tok = "ptr", .fn = arg_ptr},
	{.tok = "fd", .fn = arg_fd},
	{.tok = "dfd", .fn = arg_dfd},
	{.tok = "mode", .fn = arg_octal},
	{.tok = "omode", .fn = arg_octal},
	{.tok = "path", .fn = arg_path, CAP(STR, AT_IN, NONE, 0, 0)},
	{.tok = "str", .fn = arg_str, CAP(STR, AT_IN, NONE, 0, 0)},
	{.tok = "argv", .fn = arg_argv, CAP(ARGV, AT_IN, NONE, 0, 0)},
	{.tok = "envp", .fn = arg_envp, CAP(PTRCOUNT, AT_ERR, NONE, 0, 0)},
	{.tok = "execatflags", .fn = arg_execveat_flags},
	{.tok = "bufin",
	 .fn = arg_bufin,
	 CAP(MEM, AT_IN, 0, 1, TRACE_BUF_MAX),
	 .lenmode = LEN_PARAM,
	 .flags = TRACE_ARG_DATA},
	{.tok = "bufout",
	 .fn = arg_bufout,
	 CAP(MEM, AT_OUT, RET, 1, TRACE_BUF_MAX),
	 .lenmode = LEN_FIXED,
	 .flags = TRACE_ARG_DATA},
	{.tok = "randout",
	 .fn = arg_bufout_hex,
	 CAP(MEM, AT_OUT, RET, 1, TRACE_BUF_MAX),
	 .lenmode = LEN_FIXED,
	 .flags = TRACE_ARG_DATA},
	{.tok = "pathout", .fn = arg_pathout, CAP(MEM, AT_OUT, RET, 1, TRACE_STR_MAX)},
	{.tok = "intpout", .fn = arg_intp_out, CAP(MEM, AT_OUT, NONE, 0, 4)},
	{.tok = "socklen", .fn = arg_socklen, CAP(MEM, AT_IN | AT_OUT, NONE, 0, 4)},
	{.tok = "fdpair", .fn = arg_fdpair, CAP(MEM, AT_OUT, NONE, 0, 8)},
	{.tok = "loff", .fn = arg_loff, CAP(MEM, AT_IN | AT_OUT, NONE, 0, 8)},
	/* files */
	{.tok = "oflags", .fn = arg_oflags},
	{.tok = "atflags", .fn = arg_atflags},
	{.tok = "access", .fn = arg_access},
	{.tok = "whence", .fn = arg_whence},
	{.tok = "fdflags", .fn = arg_fdflags},
	{.tok = "flockop", .fn = arg_flock_how},
	{.tok = "renameflags", .fn = arg_renameat2_flags},
	{.tok = "xattrflags", .fn = arg_xattr_flags},
	{.tok = "stat", .fn = arg_stat, CAP(MEM, AT_OUT, NONE, 0, 144)},
	{.tok = "statx", .fn = arg_statx, CAP(MEM, AT_OUT, NONE, 0, 144)},
	{.tok = "statxflags", .fn = arg_statx_flags},
	{.tok = "statxmask", .fn = arg_statx_mask},
	{.tok = "dents", .fn = arg_dents, CAP(DENTS, AT_OUT, NONE, 0, 0)},
	{.tok = "fcntlcmd", .fn = arg_fcntl_cmd},
	{.tok = "fcntlarg", .fn = arg_fcntl_arg, CAP(MEM, AT_IN | AT_OUT, NONE, 0, 32)},
	/* memory */
	{.tok = "prot", .fn = arg_prot},
	{.tok = "mflags", .fn = arg_mflags},
	{.tok = "madv", .fn = arg_madvise},
	{.tok = "mremapflags", .fn = arg_mremap_flags},
	{.tok = "msyncflags", .fn = arg_msync_flags},
	{.tok = "mlockflags", .fn = arg_mlock_flags},
	/* signals */
	{.tok = "sig", .fn = arg_sig},
	{.tok = "sighow", .fn = arg_sighow},
	{.tok = "sigact", .fn = arg_sigact, CAP(MEM, AT_IN, NONE, 0, 32)},
	{.tok = "osigact", .fn = arg_sigact_out, CAP(MEM, AT_OUT, NONE, 0, 32)},
	{.tok = "sigset", .fn = arg_sigset, CAP(MEM, AT_IN, 0, 1, 8), .lenmode = LEN_PARAM},
	{.tok = "osigset", .fn = arg_sigset_out, CAP(MEM, AT_OUT, 0, 1, 8), .lenmode = LEN_PARAM},
	{.tok = "sigframe", .fn = arg_sigframe, CAP(SIGFRAME, AT_IN, NONE, 0, 8)},
	{.tok = "ssin", .fn = arg_sigaltstack, CAP(MEM, AT_IN, NONE, 0, 24)},
	{.tok = "ssout", .fn = arg_sigaltstack_out, CAP(MEM, AT_OUT, NONE, 0, 24)},
	{.tok = "siginfoin", .fn = arg_siginfo_in, CAP(MEM, AT_IN, NONE, 0, TRACE_SIGINFO_SIZE)},
	/* processes */
	{.tok = "clone", .fn = arg_clone},
	{.tok = "ptidout", .fn = arg_ptr, CAP(MEM, AT_OUT, NONE, 0, 4)},
	{.tok = "clone3",
	 .fn = arg_clone3,
	 CAP(CLONE3, AT_IN | AT_OUT, 1, 1, 88),
	 .lenmode = LEN_FIXED},
	{.tok = "cloneflags", .fn = arg_clone_flags},
	{.tok = "wstatus", .fn = arg_wstatus, CAP(MEM, AT_OUT, NONE, 0, 4)},
	{.tok = "waitopt", .fn = arg_waitopt},
	{.tok = "rusage", .fn = arg_rusage, CAP(MEM, AT_OUT, NONE, 0, 32)},
	{.tok = "idtype", .fn = arg_idtype},
	{.tok = "siginfoout", .fn = arg_siginfo_out, CAP(MEM, AT_OUT, NONE, 0, TRACE_SIGINFO_SIZE)},
	{.tok = "rlimres", .fn = arg_rlimit_res},
	{.tok = "rlimin", .fn = arg_rlimit, CAP(MEM, AT_IN, NONE, 0, 16)},
	{.tok = "rlimout", .fn = arg_rlimit_out, CAP(MEM, AT_OUT, NONE, 0, 16)},
	{.tok = "uts", .fn = arg_utsname, CAP(MEM, AT_OUT, NONE, 0, 130)},
	{.tok = "prctlop", .fn = arg_prctl_op},
	{.tok = "prctlarg1", .fn = arg_prctl_arg, CAP(PRCTL, AT_IN | AT_OUT, NONE, 0, 0)},
	{.tok = "prctlarg", .fn = arg_prctl_arg},
	{.tok = "archprctl", .fn = arg_arch_prctl},
	{.tok = "caphdr", .fn = arg_caphdr, CAP(MEM, AT_IN, NONE, 0, 8)},
	{.tok = "capin", .fn = arg_capdata, CAP(MEM, AT_IN, NONE, 0, 24)},
	{.tok = "capout", .fn = arg_capdata_out, CAP(MEM, AT_OUT, NONE, 0, 24)},
	{.tok = "futex", .fn = arg_futex},
	{.tok = "futexts", .fn = arg_ptr, CAP(MEM, AT_IN, NONE, 0, 16)},
	{.tok = "grnd", .fn = arg_grnd_flags},
	{.tok = "prio", .fn = arg_which_prio},
	{.tok = "ruwho", .fn = arg_rusage_who},
	/* time */
	{.tok = "ts", .fn = arg_timespec, CAP(MEM, AT_IN, NONE, 0, 16)},
	{.tok = "tsout", .fn = arg_timespec_out, CAP(MEM, AT_OUT, NONE, 0, 16)},
	{.tok = "tsrem", .fn = arg_timespec_rem, CAP(MEM, AT_ERR, NONE, 0, 16)},
	{.tok = "tvout", .fn = arg_timeval_out, CAP(MEM, AT_OUT, NONE, 0, 16)},
	{.tok = "clock", .fn = arg_clockid},
	{.tok = "timerflags", .fn = arg_timer_flags},
	{.tok = "itimer", .fn = arg_itimer_which},
	/* I/O */
	{.tok = "iovin", .fn = arg_iov_in, CAP(IOV, AT_IN, 0, 0, 0), .lenmode = LEN_PARAM},
	{.tok = "iovout",
	 .fn = arg_iov_out,
	 CAP(IOV, AT_OUT | AT_ERR, 0, 0, 0),
	 .lenmode = LEN_PARAM},
	{.tok = "pollfds",
	 .fn = arg_pollfds,
	 CAP(MEM, AT_IN | AT_OUT, 0, 8, 256),
	 .lenmode = LEN_PARAM},
	{.tok = "ppollts", .fn = arg_ppoll_ts, CAP(MEM, AT_IN | AT_OUT, NONE, 0, 16)},
	{.tok = "fdset", .fn = arg_fdset, CAP(MEM, AT_IN | AT_OUT, 0, 0, 128)},
	{.tok = "selecttv", .fn = arg_select_tv, CAP(MEM, AT_IN | AT_OUT, NONE, 0, 16)},
	{.tok = "pselectts", .fn = arg_pselect_ts, CAP(MEM, AT_IN | AT_OUT, NONE, 0, 16)},
	{.tok = "pselectsig", .fn = arg_pselect_sig, CAP(MEM, AT_IN, NONE, 0, 16)},
	{.tok = "epop", .fn = arg_epoll_op},
	{.tok = "epev", .fn = arg_epoll_event, CAP(MEM, AT_IN, NONE, 0, 12)},
	{.tok = "epevs", .fn = arg_epoll_events, CAP(MEM, AT_OUT, RET, 12, 192)},
	{.tok = "epflags", .fn = arg_epoll_flags},
	{.tok = "ioreq", .fn = arg_ioctl_req},
	{.tok = "ioarg", .fn = arg_ioctl_arg, CAP(IOCTL, AT_IN | AT_OUT, NONE, 0, 0)},
	/* sockets */
	{.tok = "domain", .fn = arg_domain},
	{.tok = "stype", .fn = arg_socktype},
	{.tok = "proto", .fn = arg_sockproto},
	{.tok = "sain", .fn = arg_sockaddr_in, CAP(MEM, AT_IN, 0, 1, 128), .lenmode = LEN_PARAM},
	{.tok = "saout",
	 .fn = arg_sockaddr_out,
	 CAP(MEM, AT_OUT, 0, 1, 128),
	 .lenmode = LEN_PARAM_DEREF},
	{.tok = "msgflags", .fn = arg_msgflags},
	{.tok = "sockflags", .fn = arg_sockflags},
	{.tok = "msgin", .fn = arg_msghdr_in, CAP(MSGHDR, AT_IN, NONE, 0, 0)},
	/* at entry msg_namelen only (TRACE_IT_COUNT), for "110 => 16" */
	{.tok = "msgout", .fn = arg_msghdr_out, CAP(MSGHDR, AT_IN | AT_OUT, NONE, 0, 0)},
	{.tok = "sol", .fn = arg_sol},
	{.tok = "optname", .fn = arg_sockopt_name},
	{.tok = "optin", .fn = arg_sockopt_val, CAP(MEM, AT_IN, 0, 1, 64), .lenmode = LEN_PARAM},
	{.tok = "optout",
	 .fn = arg_sockopt_val_out,
	 CAP(MEM, AT_OUT, 0, 1, 64),
	 .lenmode = LEN_PARAM_DEREF},
	{.tok = "shut", .fn = arg_shutdown_how},
};

static const struct hook {
	const char *name;
	ctw_retfn ret;
	int (*shown)(const struct dctx *d);
	bool ret_hex;
} hooks[] = {
	{.name = "hex", .ret_hex = true},
	{.name = "open", .shown = shown_open},
	{.name = "octal", .ret = ret_octal},
	{.name = "fcntl", .ret = ret_fcntl, .shown = shown_fcntl},
	{.name = "prctl", .ret = ret_prctl, .shown = shown_prctl},
	{.name = "poll", .ret = ret_poll},
	{.name = "select", .ret = ret_select},
	{.name = "ioctl", .shown = shown_ioctl},
	{.name = "clone", .shown = shown_clone},
	{.name = "futex", .shown = shown_futex},
};

static struct ctw_sysinfo table[TRACE_NR_MAX];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* A typo in the static table is a programming error. */
static void table_error(const char *what, const char *row)
{
	fprintf(stderr, "trace: bad %s in the syscall table: %s\n", what, row);
	abort();
}

static void parse_row(struct ctw_sysinfo *si, const struct row *r)
{
	const char *p = r->args;
	int n = 0;

	si->known = true;
	for (const char *c = r->cls; *c && *c != '/'; c++) {
		switch (*c) {
		case 'f': si->classes |= CTW_TC_FILE; break;
		case 'n': si->classes |= CTW_TC_NETWORK; break;
		case 'p': si->classes |= CTW_TC_PROCESS; break;
		case 'm': si->classes |= CTW_TC_MEMORY; break;
		case 's': si->classes |= CTW_TC_SIGNAL; break;
		case 'i': si->classes |= CTW_TC_IPC; break;
		case 'd': si->classes |= CTW_TC_DESC; break;
		case 'r': si->ret_fd = true; break;
		default: table_error("class", r->name);
		}
	}
	if (strchr(r->cls, '/')) {
		const char *hook = strchr(r->cls, '/') + 1;
		size_t h;

		for (h = 0; h < ARRAY_SIZE(hooks); h++)
			if (!strcmp(hooks[h].name, hook))
				break;
		if (h == ARRAY_SIZE(hooks))
			table_error("hook", r->name);
		si->ret = hooks[h].ret;
		si->shown = hooks[h].shown;
		si->ret_hex = hooks[h].ret_hex;
	}
	while (*p && n < TRACE_NARGS) {
		size_t len = strcspn(p, " :");
		struct ctw_trace_argspec *a = &si->spec.arg[n];
		const struct kind *k = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
			if (strlen(kinds[i].tok) == len && !memcmp(kinds[i].tok, p, len))
				k = &kinds[i];
		if (!k)
			table_error("argument kind", r->name);
		si->fn[n] = k->fn;
		a->cap = k->cap;
		a->when = k->when;
		a->len = k->len;
		a->elem = k->elem;
		a->max = k->max;
		a->flags = k->flags;
		if (k->when & TRACE_AT_ENTER)
			si->spec.flags |= TRACE_SPEC_CAP_ENTER;
		if (k->when & (TRACE_AT_EXIT | TRACE_AT_ERROR))
			si->spec.flags |= TRACE_SPEC_CAP_EXIT;
		if (k->cap == TRACE_CAP_ARGV)
			si->spec.flags |= TRACE_SPEC_EXEC;
		p += len;
		if (*p == ':') {
			int arg = p[1] - '0';

			if (k->lenmode == LEN_FIXED || arg < 0 || arg >= TRACE_NARGS)
				table_error("length argument", r->name);
			a->len = k->lenmode == LEN_PARAM_DEREF ? TRACE_LEN_DEREF(arg)
							       : TRACE_LEN_ARG(arg);
			p += 2;
		} else if (k->lenmode != LEN_FIXED) {
			table_error("missing length argument", r->name);
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
		for (int i = 0; i < TRACE_NARGS; i++)
			table[nr].fn[i] = arg_hex;
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

void ctw_trace_syscall_spec_fds(int nr, struct ctw_trace_spec *spec)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(nr);

	if (!si)
		return;
	for (int i = 0; i < si->nargs; i++) {
		struct ctw_trace_argspec *a = &spec->arg[i];

		if (si->fn[i] == arg_fdpair) {
			a->cap = TRACE_CAP_FDPAIR;
		} else if (si->fn[i] == arg_pollfds || si->fn[i] == arg_fdset) {
			a->flags |= TRACE_ARG_FDS;
		} else if ((si->fn[i] == arg_fd || si->fn[i] == arg_dfd) && !a->cap) {
			a->cap = TRACE_CAP_FD;
			a->when = TRACE_AT_ENTER;
			spec->flags |= TRACE_SPEC_CAP_ENTER;
		}
	}
	if (si->ret_fd)
		spec->flags |= TRACE_SPEC_RETFD;
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
