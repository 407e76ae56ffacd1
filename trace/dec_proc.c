// SPDX-License-Identifier: Apache-2.0
/*
 * Processes: execve's argv and "/ * N vars * /", clone and clone3, wait
 * statuses, rusage, waitid's siginfo, resource limits, uname, prctl,
 * arch_prctl, capabilities and futex.
 */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/sched.h>

#include "internal.h"

/* ---- execve ---- */

ARGFN(arg_argv)
{
	const struct ctw_trace_item *it;
	const char *data = item_get(d, i, TRACE_CAP_ARGV, false, &it);
	struct ctw_outbuf *o = d->o;
	size_t off = 0;
	bool first = true;

	if (!data) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	put_c(o, '[');
	for (size_t k = 0; off < it->len; k++) {
		size_t n = strnlen(data + off, it->len - off);

		if (elem_cut(d, k))
			break;
		if (!first)
			put_n(o, ", ", 2);
		/* a string that filled its capture slot was cut */
		ctw_trace_quote(o, data + off, n, d->f->strsize, n + 1 >= TRACE_ARGV_STR_MAX);
		off += n + 1;
		first = false;
	}
	if ((it->kind & TRACE_ITEM_MORE) && off >= it->len)
		put_s(o, first ? "..." : ", ...");
	put_c(o, ']');
}

/* envp: the address and how many variables (counted by the kernel's exec,
 * or in the caller's array when the exec failed) */
ARGFN(arg_envp)
{
	const struct ctw_trace_item *it;
	const struct ctw_trace_execinfo *ei = item_get(d, i, TRACE_IT_EXECINFO, false, &it);
	int64_t n = -1;

	put_ptr(d->o, d->ev->args[i]);
	if (!d->ev->args[i])
		return;
	if (ei && it->len >= sizeof(*ei))
		n = ei->envc;
	else if (item_get(d, i, TRACE_IT_COUNT, false, &it))
		n = it->full_len;
	if (n < 0)
		return;
	put_s(d->o, " /* ");
	put_i64(d->o, n);
	put_s(d->o, n == 1 ? " var */" : " vars */");
}

ARGFN(arg_execveat_flags)
{
	static const struct xlat t[] = {{0x100, "AT_SYMLINK_NOFOLLOW"},
					{0x1000, "AT_EMPTY_PATH"},
					{0x10000, "AT_EXECVE_CHECK"}};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

/* ---- clone ---- */

static const struct xlat clone_flags[] = {
	XLAT(CLONE_VM),
	XLAT(CLONE_FS),
	XLAT(CLONE_FILES),
	XLAT(CLONE_SIGHAND),
	XLAT(CLONE_PIDFD),
	XLAT(CLONE_PTRACE),
	XLAT(CLONE_VFORK),
	XLAT(CLONE_PARENT),
	XLAT(CLONE_THREAD),
	XLAT(CLONE_NEWNS),
	XLAT(CLONE_SYSVSEM),
	XLAT(CLONE_SETTLS),
	XLAT(CLONE_PARENT_SETTID),
	XLAT(CLONE_CHILD_CLEARTID),
	XLAT(CLONE_DETACHED),
	XLAT(CLONE_UNTRACED),
	XLAT(CLONE_CHILD_SETTID),
	XLAT(CLONE_NEWCGROUP),
	XLAT(CLONE_NEWUTS),
	XLAT(CLONE_NEWIPC),
	XLAT(CLONE_NEWUSER),
	XLAT(CLONE_NEWPID),
	XLAT(CLONE_NEWNET),
	XLAT(CLONE_IO),
	{0x100000000ull, "CLONE_CLEAR_SIGHAND"},
	{0x200000000ull, "CLONE_INTO_CGROUP"},
};

/* flags, then the exit signal in the low byte (clone) */
static void put_clone_flags(struct ctw_outbuf *o, uint64_t v, bool with_signal)
{
	uint64_t sig = with_signal ? v & 0xff : 0;

	if (with_signal)
		v &= ~0xffull;
	if (v)
		put_flags(o, clone_flags, ARRAY_SIZE(clone_flags), v, NULL);
	if (sig) {
		if (v)
			put_c(o, '|');
		ctw_trace_format_signal(o, sig);
	} else if (!v) {
		put_c(o, '0');
	}
}

/* unshare, setns */
ARGFN(arg_clone_flags)
{
	put_flags(d->o, clone_flags, ARRAY_SIZE(clone_flags), d->ev->args[i], "0");
}

/* clone(flags, stack, parent_tid, child_tid, tls), as strace names them */
ARGFN(arg_clone)
{
	const struct ctw_trace_event *ev = d->ev;
	uint64_t flags = ev->args[0];
	struct ctw_outbuf *o = d->o;
	int32_t tid;

	put_s(o, "child_stack=");
	put_ptr(o, ev->args[1]);
	put_s(o, ", flags=");
	put_clone_flags(o, flags, true);
	if ((flags & (CLONE_PARENT_SETTID | CLONE_PIDFD)) && !ev_failed(d)) {
		put_s(o, ", parent_tid=");
		if (item_copy(d, 2, TRACE_CAP_MEM, true, &tid, sizeof(tid), sizeof(tid))) {
			put_c(o, '[');
			put_i64(o, tid);
			put_c(o, ']');
		} else {
			put_ptr(o, ev->args[2]);
		}
	}
	if (flags & CLONE_SETTLS) {
		put_s(o, ", tls=");
		put_ptr(o, ev->args[4]);
	}
	if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) {
		put_s(o, ", child_tidptr=");
		put_ptr(o, ev->args[3]);
	}
}

int shown_clone(const struct dctx *d)
{
	return 1;
}

ARGFN(arg_clone3)
{
	struct clone_args ca;
	struct ctw_outbuf *o = d->o;
	const struct ctw_trace_item *it;
	const char *sep = " => {";
	int32_t tid, pidfd;

	if (!item_get(d, i, TRACE_CAP_CLONE3, false, &it) || it->len < 64 ||
	    !item_copy(d, i, TRACE_CAP_CLONE3, false, &ca, sizeof(ca), 64)) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	put_s(o, "{flags=");
	put_flags(o, clone_flags, ARRAY_SIZE(clone_flags), ca.flags, "0");
	if (ca.flags & CLONE_PIDFD) {
		put_s(o, ", pidfd=");
		put_ptr(o, ca.pidfd);
	}
	if (ca.flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) {
		put_s(o, ", child_tid=");
		put_ptr(o, ca.child_tid);
	}
	if (ca.flags & CLONE_PARENT_SETTID) {
		put_s(o, ", parent_tid=");
		put_ptr(o, ca.parent_tid);
	}
	put_s(o, ", exit_signal=");
	if (ca.exit_signal < 0x7fffffff)
		ctw_trace_format_signal(o, ca.exit_signal);
	else
		put_u64(o, ca.exit_signal);
	put_s(o, ", stack=");
	put_ptr(o, ca.stack);
	put_s(o, ", stack_size=");
	put_hex(o, ca.stack_size);
	if (ca.flags & CLONE_SETTLS) {
		put_s(o, ", tls=");
		put_ptr(o, ca.tls);
	}
	if (it->len > 80 && (ca.cgroup || (ca.flags & 0x200000000ull))) {
		put_s(o, ", cgroup=");
		put_u64(o, ca.cgroup);
	}
	put_c(o, '}');
	/* what the kernel wrote: " => {pidfd=[3], parent_tid=[1234]}" */
	if (!ev_failed(d) && (ca.flags & CLONE_PIDFD) &&
	    item_copy(d, i, TRACE_IT_PIDFD, true, &pidfd, sizeof(pidfd), sizeof(pidfd))) {
		put_s(o, " => {pidfd=[");
		put_i64(o, pidfd);
		put_c(o, ']');
		sep = ", ";
	}
	if (!ev_failed(d) && (ca.flags & CLONE_PARENT_SETTID) &&
	    item_copy(d, i, TRACE_IT_TID, true, &tid, sizeof(tid), sizeof(tid))) {
		put_s(o, sep);
		put_s(o, "parent_tid=[");
		put_i64(o, tid);
		put_c(o, ']');
		sep = ", ";
	}
	if (strcmp(sep, " => {"))
		put_c(o, '}');
}

/* ---- wait ---- */

ARGFN(arg_wstatus)
{
	struct ctw_outbuf *o = d->o;
	int32_t s;

	/* written only when a child was reaped */
	if (ev_failed(d) || d->ev->ret <= 0 ||
	    !item_copy(d, i, TRACE_CAP_MEM, true, &s, sizeof(s), sizeof(s))) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	put_s(o, "[{");
	if (WIFSTOPPED(s)) {
		put_s(o, "WIFSTOPPED(s) && WSTOPSIG(s) == ");
		ctw_trace_format_signal(o, WSTOPSIG(s));
	} else if (WIFSIGNALED(s)) {
		put_s(o, "WIFSIGNALED(s) && WTERMSIG(s) == ");
		ctw_trace_format_signal(o, WTERMSIG(s));
		if (WCOREDUMP(s))
			put_s(o, " && WCOREDUMP(s)");
	} else if (WIFEXITED(s)) {
		put_s(o, "WIFEXITED(s) && WEXITSTATUS(s) == ");
		put_u64(o, WEXITSTATUS(s));
	} else if (WIFCONTINUED(s)) {
		put_s(o, "WIFCONTINUED(s)");
	} else {
		put_hex(o, (uint32_t)s);
	}
	put_c(o, '}');
	if ((uint32_t)s >> 16) {
		put_s(o, " | ");
		put_hex(o, (uint32_t)s & ~0xffffu);
	}
	put_c(o, ']');
}

ARGFN(arg_waitopt)
{
	static const struct xlat t[] = {
		/* strace's order and names (WUNTRACED is WSTOPPED) */
		XLAT(WNOHANG),
		XLAT(WEXITED),
		XLAT(WSTOPPED),
		XLAT(WCONTINUED),
		XLAT(WNOWAIT),
		{0x40000000, "__WALL"},
		{0x20000000, "__WNOTHREAD"},
		{0x80000000, "__WCLONE"},
	};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

ARGFN(arg_rusage)
{
	struct ctw_outbuf *o = d->o;
	struct rusage ru;

	if (ev_failed(d) || !item_copy(d, i, TRACE_CAP_MEM, true, &ru, sizeof(ru), 32)) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	put_s(o, "{ru_utime=");
	put_timeval(o, &ru.ru_utime);
	put_s(o, ", ru_stime=");
	put_timeval(o, &ru.ru_stime);
	put_s(o, ", ...}");
}

ARGFN(arg_rusage_who)
{
	static const struct xlat t[] = {XLAT(RUSAGE_SELF), XLAT(RUSAGE_CHILDREN),
					XLAT(RUSAGE_THREAD)};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], false, "RUSAGE_???");
}

ARGFN(arg_idtype)
{
	static const struct xlat t[] = {XLAT(P_ALL), XLAT(P_PID), XLAT(P_PGID), {3, "P_PIDFD"}};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "P_???");
}

/* waitid's siginfo */
ARGFN(arg_siginfo_out)
{
	const struct ctw_trace_item *it;
	const void *info = ev_failed(d) ? NULL : item_get(d, i, TRACE_CAP_MEM, true, &it);

	if (!info)
		put_ptr(d->o, d->ev->args[i]);
	else
		put_siginfo(d->o, info, it->len);
}

/* ---- limits, uname ---- */

ARGFN(arg_rlimit_res)
{
	static const struct xlat t[] = {
		XLAT(RLIMIT_CPU),      XLAT(RLIMIT_FSIZE),  XLAT(RLIMIT_DATA),
		XLAT(RLIMIT_STACK),    XLAT(RLIMIT_CORE),   XLAT(RLIMIT_RSS),
		XLAT(RLIMIT_NPROC),    XLAT(RLIMIT_NOFILE), XLAT(RLIMIT_MEMLOCK),
		XLAT(RLIMIT_AS),       XLAT(RLIMIT_LOCKS),  XLAT(RLIMIT_SIGPENDING),
		XLAT(RLIMIT_MSGQUEUE), XLAT(RLIMIT_NICE),   XLAT(RLIMIT_RTPRIO),
		XLAT(RLIMIT_RTTIME),
	};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "RLIMIT_???");
}

static void put_rlim(struct ctw_outbuf *o, uint64_t v)
{
	if (v == UINT64_MAX) {
		put_s(o, "RLIM64_INFINITY");
	} else if (v > 1024 && v % 1024 == 0) {
		put_u64(o, v / 1024);
		put_s(o, "*1024");
	} else {
		put_u64(o, v);
	}
}

static void rlimit(struct dctx *d, int i, bool out)
{
	uint64_t r[2];

	if ((out && ev_failed(d)) ||
	    !item_copy(d, i, TRACE_CAP_MEM, out, r, sizeof(r), sizeof(r))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{rlim_cur=");
	put_rlim(d->o, r[0]);
	put_s(d->o, ", rlim_max=");
	put_rlim(d->o, r[1]);
	put_c(d->o, '}');
}

ARGFN(arg_rlimit)
{
	rlimit(d, i, false);
}

ARGFN(arg_rlimit_out)
{
	rlimit(d, i, true);
}

ARGFN(arg_utsname)
{
	const struct ctw_trace_item *it;
	const char *u = ev_failed(d) ? NULL : item_get(d, i, TRACE_CAP_MEM, true, &it);

	if (!u || it->len < 130) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{sysname=");
	ctw_trace_quote(d->o, u, strnlen(u, 65), 65, false);
	put_s(d->o, ", nodename=");
	ctw_trace_quote(d->o, u + 65, strnlen(u + 65, 65), 65, false);
	put_s(d->o, ", ...}");
}

ARGFN(arg_which_prio)
{
	static const struct xlat t[] = {XLAT(PRIO_PROCESS), XLAT(PRIO_PGRP), XLAT(PRIO_USER)};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "PRIO_???");
}

/* ---- capabilities ---- */

static const char *const cap_names[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static void put_cap(struct ctw_outbuf *o, uint64_t cap)
{
	if (cap < ARRAY_SIZE(cap_names)) {
		put_s(o, cap_names[cap]);
	} else {
		put_hex(o, cap);
		put_s(o, " /* CAP_??? */");
	}
}

/* 1<<CAP_CHOWN|1<<CAP_KILL */
static void put_capset(struct ctw_outbuf *o, uint64_t set)
{
	bool first = true;

	for (unsigned b = 0; b < ARRAY_SIZE(cap_names); b++) {
		if (!(set & (1ull << b)))
			continue;
		if (!first)
			put_c(o, '|');
		put_s(o, "1<<");
		put_s(o, cap_names[b]);
		set &= ~(1ull << b);
		first = false;
	}
	if (set || first) {
		if (!first)
			put_c(o, '|');
		put_hex(o, set);
	}
}

ARGFN(arg_caphdr)
{
	static const struct xlat versions[] = {
		XLAT(_LINUX_CAPABILITY_VERSION_1),
		XLAT(_LINUX_CAPABILITY_VERSION_2),
		XLAT(_LINUX_CAPABILITY_VERSION_3),
	};
	struct __user_cap_header_struct h;

	if (!item_copy(d, i, TRACE_CAP_MEM, false, &h, sizeof(h), sizeof(h))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{version=");
	put_enum_ex(d->o, versions, ARRAY_SIZE(versions), h.version, true,
		    "_LINUX_CAPABILITY_VERSION_???");
	put_s(d->o, ", pid=");
	put_i64(d->o, h.pid);
	put_c(d->o, '}');
}

static void capdata(struct dctx *d, int i, bool out)
{
	struct __user_cap_data_struct c[2];
	const struct ctw_trace_item *it;

	if ((out && ev_failed(d)) || !item_get(d, i, TRACE_CAP_MEM, out, &it) ||
	    !item_copy(d, i, TRACE_CAP_MEM, out, c, sizeof(c), sizeof(c[0]))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	if (it->len < sizeof(c))
		memset(&c[1], 0, sizeof(c[1]));
	put_s(d->o, "{effective=");
	put_capset(d->o, c[0].effective | (uint64_t)c[1].effective << 32);
	put_s(d->o, ", permitted=");
	put_capset(d->o, c[0].permitted | (uint64_t)c[1].permitted << 32);
	put_s(d->o, ", inheritable=");
	put_capset(d->o, c[0].inheritable | (uint64_t)c[1].inheritable << 32);
	put_c(d->o, '}');
}

ARGFN(arg_capdata)
{
	capdata(d, i, false);
}

ARGFN(arg_capdata_out)
{
	capdata(d, i, true);
}

/* ---- prctl ---- */

static const struct xlat prctl_ops[] = {
	XLAT(PR_SET_PDEATHSIG),
	XLAT(PR_GET_PDEATHSIG),
	XLAT(PR_GET_DUMPABLE),
	XLAT(PR_SET_DUMPABLE),
	XLAT(PR_GET_UNALIGN),
	XLAT(PR_SET_UNALIGN),
	XLAT(PR_GET_KEEPCAPS),
	XLAT(PR_SET_KEEPCAPS),
	XLAT(PR_GET_FPEMU),
	XLAT(PR_SET_FPEMU),
	XLAT(PR_GET_FPEXC),
	XLAT(PR_SET_FPEXC),
	XLAT(PR_GET_TIMING),
	XLAT(PR_SET_TIMING),
	XLAT(PR_SET_NAME),
	XLAT(PR_GET_NAME),
	XLAT(PR_GET_ENDIAN),
	XLAT(PR_SET_ENDIAN),
	XLAT(PR_GET_SECCOMP),
	XLAT(PR_SET_SECCOMP),
	XLAT(PR_CAPBSET_READ),
	XLAT(PR_CAPBSET_DROP),
	XLAT(PR_GET_TSC),
	XLAT(PR_SET_TSC),
	XLAT(PR_GET_SECUREBITS),
	XLAT(PR_SET_SECUREBITS),
	XLAT(PR_SET_TIMERSLACK),
	XLAT(PR_GET_TIMERSLACK),
	XLAT(PR_TASK_PERF_EVENTS_DISABLE),
	XLAT(PR_TASK_PERF_EVENTS_ENABLE),
	XLAT(PR_MCE_KILL),
	XLAT(PR_MCE_KILL_GET),
	XLAT(PR_SET_MM),
	XLAT(PR_SET_CHILD_SUBREAPER),
	XLAT(PR_GET_CHILD_SUBREAPER),
	XLAT(PR_SET_NO_NEW_PRIVS),
	XLAT(PR_GET_NO_NEW_PRIVS),
	XLAT(PR_GET_TID_ADDRESS),
	XLAT(PR_SET_THP_DISABLE),
	XLAT(PR_GET_THP_DISABLE),
	{43, "PR_MPX_ENABLE_MANAGEMENT"},
	{44, "PR_MPX_DISABLE_MANAGEMENT"},
	XLAT(PR_SET_FP_MODE),
	XLAT(PR_GET_FP_MODE),
	XLAT(PR_CAP_AMBIENT),
	{50, "PR_SVE_SET_VL"},
	{51, "PR_SVE_GET_VL"},
	{52, "PR_GET_SPECULATION_CTRL"},
	{53, "PR_SET_SPECULATION_CTRL"},
	{54, "PR_PAC_RESET_KEYS"},
	{55, "PR_SET_TAGGED_ADDR_CTRL"},
	{56, "PR_GET_TAGGED_ADDR_CTRL"},
	{57, "PR_SET_IO_FLUSHER"},
	{58, "PR_GET_IO_FLUSHER"},
	{59, "PR_SET_SYSCALL_USER_DISPATCH"},
	{60, "PR_PAC_SET_ENABLED_KEYS"},
	{61, "PR_PAC_GET_ENABLED_KEYS"},
	{62, "PR_SCHED_CORE"},
	{63, "PR_SME_SET_VL"},
	{64, "PR_SME_GET_VL"},
	{65, "PR_SET_MDWE"},
	{66, "PR_GET_MDWE"},
	{67, "PR_SET_MEMORY_MERGE"},
	{68, "PR_GET_MEMORY_MERGE"},
	{0x53564d41, "PR_SET_VMA"},
	{0x59616d61, "PR_SET_PTRACER"},
};

static const struct xlat dumpable[] = {
	{0, "SUID_DUMP_DISABLE"},
	{1, "SUID_DUMP_USER"},
	{2, "SUID_DUMP_ROOT"},
};

static const struct xlat tsc_modes[] = {{1, "PR_TSC_ENABLE"}, {2, "PR_TSC_SIGSEGV"}};

static const struct xlat set_mm_ops[] = {
	{1, "PR_SET_MM_START_CODE"}, {2, "PR_SET_MM_END_CODE"},	   {3, "PR_SET_MM_START_DATA"},
	{4, "PR_SET_MM_END_DATA"},   {5, "PR_SET_MM_START_STACK"}, {6, "PR_SET_MM_START_BRK"},
	{7, "PR_SET_MM_BRK"},	     {8, "PR_SET_MM_ARG_START"},   {9, "PR_SET_MM_ARG_END"},
	{10, "PR_SET_MM_ENV_START"}, {11, "PR_SET_MM_ENV_END"},	   {12, "PR_SET_MM_AUXV"},
	{13, "PR_SET_MM_EXE_FILE"},  {14, "PR_SET_MM_MAP"},	   {15, "PR_SET_MM_MAP_SIZE"},
};

static const struct xlat spec_ctrls[] = {
	{0, "PR_SPEC_STORE_BYPASS"},
	{1, "PR_SPEC_INDIRECT_BRANCH"},
	{2, "PR_SPEC_L1D_FLUSH"},
};

static unsigned prctl_op(const struct dctx *d)
{
	return (uint32_t)d->ev->args[0];
}

ARGFN(arg_prctl_op)
{
	put_enum_ex(d->o, prctl_ops, ARRAY_SIZE(prctl_ops), prctl_op(d), true, "PR_???");
}

int shown_prctl(const struct dctx *d)
{
	switch (prctl_op(d)) {
	case PR_GET_KEEPCAPS:
	case PR_GET_SECCOMP:
	case PR_GET_TIMERSLACK:
	case PR_GET_TIMING:
	case PR_GET_DUMPABLE:
	case PR_GET_SECUREBITS:
	case PR_GET_FP_MODE:
	case PR_TASK_PERF_EVENTS_DISABLE:
	case PR_TASK_PERF_EVENTS_ENABLE: return 1;
	case PR_GET_CHILD_SUBREAPER:
	case PR_GET_ENDIAN:
	case PR_GET_FPEMU:
	case PR_GET_FPEXC:
	case PR_GET_NAME:
	case PR_GET_PDEATHSIG:
	case PR_GET_TID_ADDRESS:
	case PR_GET_TSC:
	case PR_GET_UNALIGN:
	case PR_SET_CHILD_SUBREAPER:
	case PR_SET_ENDIAN:
	case PR_SET_FPEMU:
	case PR_SET_FPEXC:
	case PR_SET_KEEPCAPS:
	case PR_SET_TIMING:
	case PR_SET_DUMPABLE:
	case PR_CAPBSET_DROP:
	case PR_CAPBSET_READ:
	case PR_SET_NAME:
	case PR_SET_PDEATHSIG:
	case PR_SET_PTRACER:
	case PR_SET_SECUREBITS:
	case PR_SET_TIMERSLACK:
	case PR_SET_TSC:
	case PR_SET_UNALIGN:
	case PR_SET_FP_MODE:
	case 52: /* PR_GET_SPECULATION_CTRL */ return 2;
	case PR_SET_SECCOMP:
		if (d->ev->args[1] == 1) /* SECCOMP_MODE_STRICT */
			return 2;
		if (d->ev->args[1] == 2) /* SECCOMP_MODE_FILTER */
			return 3;
		return 5;
	case 53: /* PR_SET_SPECULATION_CTRL */ return 3;
	}
	return 5;
}

/* arguments 2..5 by option */
ARGFN(arg_prctl_arg)
{
	struct ctw_outbuf *o = d->o;
	uint64_t v = d->ev->args[i];
	unsigned op = prctl_op(d);
	const struct ctw_trace_item *it;
	int32_t n;

	if (i == 1) {
		switch (op) {
		case PR_SET_NAME: arg_str(d, i); return;
		case PR_GET_NAME:
			if (ev_failed(d) || !item_get(d, i, TRACE_CAP_STR, true, &it))
				put_ptr(o, v);
			else
				arg_str(d, i);
			return;
		case PR_GET_PDEATHSIG:
		case PR_GET_CHILD_SUBREAPER:
		case PR_GET_ENDIAN:
		case PR_GET_FPEMU:
		case PR_GET_FPEXC:
		case PR_GET_TSC:
		case PR_GET_UNALIGN:
			if (ev_failed(d) ||
			    !item_copy(d, i, TRACE_CAP_MEM, true, &n, sizeof(n), sizeof(n))) {
				put_ptr(o, v);
				return;
			}
			put_c(o, '[');
			if (op == PR_GET_PDEATHSIG)
				ctw_trace_format_signal(o, (uint32_t)n);
			else if (op == PR_GET_TSC)
				put_enum_ex(o, tsc_modes, ARRAY_SIZE(tsc_modes), n, true,
					    "PR_TSC_???");
			else
				put_u64(o, (uint32_t)n);
			put_c(o, ']');
			return;
		case PR_GET_TID_ADDRESS: {
			uint64_t p;

			if (ev_failed(d) ||
			    !item_copy(d, i, TRACE_CAP_MEM, true, &p, sizeof(p), sizeof(p))) {
				put_ptr(o, v);
				return;
			}
			put_c(o, '[');
			put_ptr(o, p);
			put_c(o, ']');
			return;
		}
		case PR_SET_TSC:
			put_enum_ex(o, tsc_modes, ARRAY_SIZE(tsc_modes), v, true, "PR_TSC_???");
			return;
		case PR_SET_MM:
			put_enum_ex(o, set_mm_ops, ARRAY_SIZE(set_mm_ops), v, true,
				    "PR_SET_MM_???");
			return;
		case 52: /* PR_GET_SPECULATION_CTRL */
		case 53: /* PR_SET_SPECULATION_CTRL */
			put_enum_ex(o, spec_ctrls, ARRAY_SIZE(spec_ctrls), v, true, "PR_SPEC_???");
			return;
		case PR_SET_PDEATHSIG:
			if (v > 128)
				put_u64(o, v);
			else
				ctw_trace_format_signal(o, v);
			return;
		case PR_SET_DUMPABLE:
			put_enum_ex(o, dumpable, ARRAY_SIZE(dumpable), v, true, "SUID_DUMP_???");
			return;
		case PR_CAPBSET_DROP:
		case PR_CAPBSET_READ: put_cap(o, v); return;
		case PR_SET_CHILD_SUBREAPER:
		case PR_SET_ENDIAN:
		case PR_SET_FPEMU:
		case PR_SET_FPEXC:
		case PR_SET_KEEPCAPS:
		case PR_SET_TIMING:
		case PR_SET_NO_NEW_PRIVS:
		case PR_SET_THP_DISABLE:
		case 57: /* PR_SET_IO_FLUSHER */ put_u64(o, v); return;
		case PR_SET_TIMERSLACK: put_i64(o, (int64_t)v); return;
		case PR_SET_PTRACER:
			if ((int32_t)v == -1)
				put_s(o, "PR_SET_PTRACER_ANY");
			else
				put_i64(o, (int32_t)v);
			return;
		case PR_SET_SECCOMP: {
			static const struct xlat modes[] = {{0, "SECCOMP_MODE_DISABLED"},
							    {1, "SECCOMP_MODE_STRICT"},
							    {2, "SECCOMP_MODE_FILTER"}};

			put_enum_ex(o, modes, ARRAY_SIZE(modes), v, true, "SECCOMP_MODE_???");
			return;
		}
		case PR_CAP_AMBIENT: {
			static const struct xlat amb[] = {{1, "PR_CAP_AMBIENT_IS_SET"},
							  {2, "PR_CAP_AMBIENT_RAISE"},
							  {3, "PR_CAP_AMBIENT_LOWER"},
							  {4, "PR_CAP_AMBIENT_CLEAR_ALL"}};

			put_enum_ex(o, amb, ARRAY_SIZE(amb), v, true, "PR_CAP_AMBIENT_???");
			return;
		}
		}
	}
	if (i == 2 && op == PR_CAP_AMBIENT && d->ev->args[1] >= 1 && d->ev->args[1] <= 3) {
		put_cap(o, v);
		return;
	}
	if (i == 2 && op == PR_SET_SECCOMP) {
		put_ptr(o, v);
		return;
	}
	put_hex(o, v);
}

void ret_prctl(struct dctx *d)
{
	static const struct xlat spec_flags[] = {
		{1, "PR_SPEC_PRCTL"},		{2, "PR_SPEC_ENABLE"},
		{4, "PR_SPEC_DISABLE"},		{8, "PR_SPEC_FORCE_DISABLE"},
		{16, "PR_SPEC_DISABLE_NOEXEC"},
	};

	if (prctl_op(d) == 52 /* PR_GET_SPECULATION_CTRL */ && d->ev->ret > 0) {
		put_hex(d->o, d->ev->ret);
		put_s(d->o, " (");
		put_flags(d->o, spec_flags, ARRAY_SIZE(spec_flags), d->ev->ret, "0");
		put_c(d->o, ')');
		return;
	}
	put_i64(d->o, d->ev->ret);
	if (prctl_op(d) == PR_GET_DUMPABLE) {
		const char *name = xlat_name(dumpable, ARRAY_SIZE(dumpable), d->ev->ret);

		if (name) {
			put_s(d->o, " (");
			put_s(d->o, name);
			put_c(d->o, ')');
		}
	}
}

ARGFN(arg_arch_prctl)
{
	static const struct xlat t[] = {
		{0x1001, "ARCH_SET_GS"},
		{0x1002, "ARCH_SET_FS"},
		{0x1003, "ARCH_GET_FS"},
		{0x1004, "ARCH_GET_GS"},
		{0x1011, "ARCH_GET_CPUID"},
		{0x1012, "ARCH_SET_CPUID"},
		{0x1021, "ARCH_GET_XCOMP_SUPP"},
		{0x1022, "ARCH_GET_XCOMP_PERM"},
		{0x1023, "ARCH_REQ_XCOMP_PERM"},
		{0x1024, "ARCH_GET_XCOMP_GUEST_PERM"},
		{0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"},
		{0x2001, "ARCH_MAP_VDSO_X32"},
		{0x2002, "ARCH_MAP_VDSO_32"},
		{0x2003, "ARCH_MAP_VDSO_64"},
		{0x4001, "ARCH_GET_UNTAG_MASK"},
		{0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
		{0x4003, "ARCH_GET_MAX_TAG_BITS"},
		{0x4004, "ARCH_FORCE_TAGGED_SVA"},
		{0x5001, "ARCH_SHSTK_ENABLE"},
		{0x5002, "ARCH_SHSTK_DISABLE"},
		{0x5003, "ARCH_SHSTK_LOCK"},
		{0x5004, "ARCH_SHSTK_UNLOCK"},
		{0x5005, "ARCH_SHSTK_STATUS"},
	};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], true, "ARCH_???");
}

/* ---- futex ---- */

static void put_futex_op(struct ctw_outbuf *o, uint32_t op)
{
	static const char *const cmds[] = {
		"FUTEX_WAIT",		"FUTEX_WAKE",	     "FUTEX_FD",
		"FUTEX_REQUEUE",	"FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP",
		"FUTEX_LOCK_PI",	"FUTEX_UNLOCK_PI",   "FUTEX_TRYLOCK_PI",
		"FUTEX_WAIT_BITSET",	"FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
		"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
	};
	uint32_t cmd = op & FUTEX_CMD_MASK;

	if (cmd < ARRAY_SIZE(cmds)) {
		put_s(o, cmds[cmd]);
		if (op & FUTEX_PRIVATE_FLAG)
			put_s(o, "_PRIVATE");
	} else {
		put_hex(o, cmd);
		if (op & FUTEX_PRIVATE_FLAG)
			put_s(o, "|FUTEX_PRIVATE_FLAG");
	}
	if (op & FUTEX_CLOCK_REALTIME)
		put_s(o, "|FUTEX_CLOCK_REALTIME");
}

static void put_bitset(struct ctw_outbuf *o, uint32_t v)
{
	if (v == FUTEX_BITSET_MATCH_ANY)
		put_s(o, "FUTEX_BITSET_MATCH_ANY");
	else
		put_hex(o, v);
}

/* What futex shows after uaddr and op, by command: v val (int), t the
 * timeout, u val2 (in the timeout's place), p uaddr2, b val3 as a bitset,
 * i val3 as an int, x val3 in hex. */
static const char *const futex_shapes[] = {
	[FUTEX_WAIT] = "vt",
	[FUTEX_WAKE] = "v",
	[FUTEX_FD] = "v",
	[FUTEX_REQUEUE] = "vup",
	[FUTEX_CMP_REQUEUE] = "vupi",
	[FUTEX_WAKE_OP] = "vupx",
	[FUTEX_LOCK_PI] = "t",
	[FUTEX_UNLOCK_PI] = "",
	[FUTEX_TRYLOCK_PI] = "",
	[FUTEX_WAIT_BITSET] = "vtb",
	[FUTEX_WAKE_BITSET] = "vb",
	[FUTEX_WAIT_REQUEUE_PI] = "vtp",
	[FUTEX_CMP_REQUEUE_PI] = "vupi",
	[FUTEX_LOCK_PI2] = "t",
};

/* futex(uaddr, op, val, timeout or val2, uaddr2, val3): what is shown
 * depends on the command, so one printer does all of them. */
ARGFN(arg_futex)
{
	const struct ctw_trace_event *ev = d->ev;
	struct ctw_outbuf *o = d->o;
	uint32_t op = ev->args[1], cmd = op & FUTEX_CMD_MASK;
	const char *shape = cmd < ARRAY_SIZE(futex_shapes) ? futex_shapes[cmd] : NULL;

	put_ptr(o, ev->args[0]);
	put_s(o, ", ");
	put_futex_op(o, op);
	if (!shape) {
		for (int a = 2; a < TRACE_NARGS; a++) {
			put_s(o, ", ");
			put_hex(o, ev->args[a]);
		}
		return;
	}
	for (; *shape; shape++) {
		put_s(o, ", ");
		switch (*shape) {
		case 'v': put_i64(o, (int32_t)ev->args[2]); break;
		case 't': arg_timespec(d, 3); break;
		case 'u': put_u64(o, (uint32_t)ev->args[3]); break;
		case 'p': put_ptr(o, ev->args[4]); break;
		case 'b': put_bitset(o, ev->args[5]); break;
		case 'i': put_i64(o, (int32_t)ev->args[5]); break;
		case 'x': put_hex(o, (uint32_t)ev->args[5]); break;
		}
	}
}

int shown_futex(const struct dctx *d)
{
	return 1;
}

ARGFN(arg_grnd_flags)
{
	static const struct xlat t[] = {
		{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}
