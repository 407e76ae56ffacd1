// SPDX-License-Identifier: Apache-2.0
/*
 * Signals: names (the kernel's numbering, as strace: 32 is SIGRTMIN, 33
 * SIGRT_1), sets ([USR1 TERM], ~[RTMIN RT_1] when more than half is set),
 * struct sigaction, siginfo (for "--- SIGCHLD {...} ---" lines and waitid),
 * rt_sigreturn's frame and sigaltstack.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *const sig_names[32] = {
	NULL,	     "SIGHUP",	"SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
	"SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
	"SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
	"SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

#define KERNEL_SIGRTMIN 32
#define KERNEL_NSIG 64

/* The name without "SIG" for sets: "TERM", "RTMIN", "RT_3". */
static void put_short_signame(struct ctw_outbuf *o, int s)
{
	if (s > 0 && s < KERNEL_SIGRTMIN) {
		put_s(o, sig_names[s] + 3);
	} else if (s == KERNEL_SIGRTMIN) {
		put_s(o, "RTMIN");
	} else {
		put_s(o, "RT_");
		put_u64(o, s - KERNEL_SIGRTMIN);
	}
}

void ctw_trace_format_signal(struct ctw_outbuf *o, uint64_t sig)
{
	int s = (int)sig;

	if (s <= 0 || s > KERNEL_NSIG) {
		put_i64(o, s);
		return;
	}
	put_s(o, "SIG");
	put_short_signame(o, s);
}

int ctw_trace_signal_nr(const char *name)
{
	char *end;
	long n;

	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	if (*name >= '0' && *name <= '9') {
		n = strtol(name, &end, 10);
		return *end || n < 1 || n > KERNEL_NSIG ? -1 : (int)n;
	}
	for (int s = 1; s < KERNEL_SIGRTMIN; s++)
		if (!strcasecmp(name, sig_names[s] + 3))
			return s;
	if (!strcasecmp(name, "POLL"))
		return SIGIO;
	if (!strcasecmp(name, "IOT"))
		return SIGABRT;
	if (!strncasecmp(name, "RTMIN", 5)) {
		n = 0;
		if (name[5] == '+') {
			n = strtol(name + 6, &end, 10);
			if (*end || end == name + 6)
				return -1;
		} else if (name[5]) {
			return -1;
		}
		return n >= 0 && n <= 32 ? (int)(KERNEL_SIGRTMIN + n) : -1;
	}
	if (!strncasecmp(name, "RT_", 3)) {
		n = strtol(name + 3, &end, 10);
		return !*end && end != name + 3 && n >= 0 && n <= 32 ? (int)(KERNEL_SIGRTMIN + n)
								     : -1;
	}
	return -1;
}

ARGFN(arg_sig)
{
	ctw_trace_format_signal(d->o, (uint32_t)d->ev->args[i]);
}

ARGFN(arg_sighow)
{
	static const struct xlat t[] = {XLAT(SIG_BLOCK), XLAT(SIG_UNBLOCK), XLAT(SIG_SETMASK)};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "SIG_???");
}

/* A 64-signal set; printed as its complement when that is shorter. */
static void put_sigset_n(struct ctw_outbuf *o, uint64_t set, int nsig)
{
	bool first = true;
	uint64_t all = nsig >= 64 ? ~0ull : (1ull << nsig) - 1;

	set &= all;
	if (__builtin_popcountll(set) * 2 > nsig) {
		put_c(o, '~');
		set = ~set & all;
	}
	put_c(o, '[');
	for (int b = 0; b < nsig; b++) {
		if (!(set & (1ull << b)))
			continue;
		if (!first)
			put_c(o, ' ');
		put_short_signame(o, b + 1);
		first = false;
	}
	put_c(o, ']');
}

void put_sigset(struct ctw_outbuf *o, uint64_t set)
{
	put_sigset_n(o, set, KERNEL_NSIG);
}

/* A sigset_t of the size the call passes (a later argument). */
static void sigset_arg(struct dctx *d, int i, bool at_exit)
{
	const struct ctw_trace_item *it;
	const uint8_t *p = item_get(d, i, TRACE_CAP_MEM, at_exit, &it);
	uint64_t set = 0;

	if (!p || !it->len || (at_exit && ev_failed(d))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	memcpy(&set, p, it->len < sizeof(set) ? it->len : sizeof(set));
	put_sigset_n(d->o, set, it->len >= 8 ? KERNEL_NSIG : it->len * 8);
}

ARGFN(arg_sigset)
{
	sigset_arg(d, i, false);
}

ARGFN(arg_sigset_out)
{
	sigset_arg(d, i, true);
}

/* The kernel's struct sigaction on x86-64. */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

#define SA_RESTORER_ 0x04000000

static const struct xlat sa_flags[] = {
	{SA_RESTORER_, "SA_RESTORER"},
	XLAT(SA_ONSTACK),
	XLAT(SA_RESTART),
	{0x20000000, "SA_INTERRUPT"},
	XLAT(SA_NODEFER),
	XLAT(SA_RESETHAND),
	XLAT(SA_SIGINFO),
	XLAT(SA_NOCLDSTOP),
	XLAT(SA_NOCLDWAIT),
};

static void put_handler(struct ctw_outbuf *o, uint64_t h)
{
	if (h == 0)
		put_s(o, "SIG_DFL");
	else if (h == 1)
		put_s(o, "SIG_IGN");
	else if (h == (uint64_t)-1)
		put_s(o, "SIG_ERR");
	else
		put_hex(o, h);
}

/* rt_sigaction: the new action (in) or the old one (out) */
static void sigact(struct dctx *d, int i, bool out)
{
	struct k_sigaction sa;

	if ((out && ev_failed(d)) ||
	    !item_copy(d, i, TRACE_CAP_MEM, out, &sa, sizeof(sa), sizeof(sa))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{sa_handler=");
	put_handler(d->o, sa.handler);
	put_s(d->o, ", sa_mask=");
	put_sigset(d->o, sa.mask);
	put_s(d->o, ", sa_flags=");
	put_flags(d->o, sa_flags, ARRAY_SIZE(sa_flags), sa.flags, "0");
	if (sa.flags & SA_RESTORER_) {
		put_s(d->o, ", sa_restorer=");
		put_ptr(d->o, sa.restorer);
	}
	put_c(d->o, '}');
}

ARGFN(arg_sigact)
{
	sigact(d, i, false);
}

ARGFN(arg_sigact_out)
{
	sigact(d, i, true);
}

/* rt_sigreturn: the mask it restores, from the signal frame */
ARGFN(arg_sigframe)
{
	uint64_t mask;

	if (!item_copy(d, i, TRACE_CAP_SIGFRAME, false, &mask, sizeof(mask), sizeof(mask))) {
		put_s(d->o, "{mask=?}");
		return;
	}
	put_s(d->o, "{mask=");
	put_sigset(d->o, mask);
	put_c(d->o, '}');
}

static void altstack(struct dctx *d, int i, bool out)
{
	static const struct xlat t[] = {
		XLAT(SS_ONSTACK), XLAT(SS_DISABLE), {0x80000000u, "SS_AUTODISARM"}};
	stack_t ss;

	if ((out && ev_failed(d)) ||
	    !item_copy(d, i, TRACE_CAP_MEM, out, &ss, sizeof(ss), sizeof(ss))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{ss_sp=");
	put_ptr(d->o, (uintptr_t)ss.ss_sp);
	put_s(d->o, ", ss_flags=");
	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)ss.ss_flags, "0");
	put_s(d->o, ", ss_size=");
	put_u64(d->o, ss.ss_size);
	put_c(d->o, '}');
}

ARGFN(arg_sigaltstack)
{
	altstack(d, i, false);
}

ARGFN(arg_sigaltstack_out)
{
	altstack(d, i, true);
}

/* ---- siginfo ---- */

static const struct xlat si_codes[] = {
	XLAT(SI_USER),	  XLAT(SI_KERNEL), XLAT(SI_QUEUE), XLAT(SI_TIMER),	XLAT(SI_MESGQ),
	XLAT(SI_ASYNCIO), XLAT(SI_SIGIO),  XLAT(SI_TKILL), {-7, "SI_DETHREAD"}, {-60, "SI_ASYNCNL"},
};
static const struct xlat cld_codes[] = {
	XLAT(CLD_EXITED),  XLAT(CLD_KILLED),  XLAT(CLD_DUMPED),
	XLAT(CLD_TRAPPED), XLAT(CLD_STOPPED), XLAT(CLD_CONTINUED),
};
static const struct xlat segv_codes[] = {
	XLAT(SEGV_MAPERR),   XLAT(SEGV_ACCERR),	  {3, "SEGV_BNDERR"},  {4, "SEGV_PKUERR"},
	{5, "SEGV_ACCADI"},  {6, "SEGV_ADIDERR"}, {7, "SEGV_ADIPERR"}, {8, "SEGV_MTEAERR"},
	{9, "SEGV_MTESERR"}, {10, "SEGV_CPERR"},
};
static const struct xlat bus_codes[] = {
	XLAT(BUS_ADRALN),    XLAT(BUS_ADRERR),	  XLAT(BUS_OBJERR),
	XLAT(BUS_MCEERR_AR), XLAT(BUS_MCEERR_AO),
};
static const struct xlat ill_codes[] = {
	XLAT(ILL_ILLOPC), XLAT(ILL_ILLOPN), XLAT(ILL_ILLADR), XLAT(ILL_ILLTRP),	   XLAT(ILL_PRVOPC),
	XLAT(ILL_PRVREG), XLAT(ILL_COPROC), XLAT(ILL_BADSTK), {9, "ILL_BADIADDR"},
};
static const struct xlat fpe_codes[] = {
	XLAT(FPE_INTDIV),   XLAT(FPE_INTOVF),	  XLAT(FPE_FLTDIV), XLAT(FPE_FLTOVF),
	XLAT(FPE_FLTUND),   XLAT(FPE_FLTRES),	  XLAT(FPE_FLTINV), XLAT(FPE_FLTSUB),
	{14, "FPE_FLTUNK"}, {15, "FPE_CONDTRAP"},
};
static const struct xlat trap_codes[] = {
	XLAT(TRAP_BRKPT),  XLAT(TRAP_TRACE), XLAT(TRAP_BRANCH),
	XLAT(TRAP_HWBKPT), {5, "TRAP_UNK"},  {6, "TRAP_PERF"},
};
static const struct xlat poll_codes[] = {
	XLAT(POLL_IN),	XLAT(POLL_OUT), XLAT(POLL_MSG),
	XLAT(POLL_ERR), XLAT(POLL_PRI), XLAT(POLL_HUP),
};
static const struct xlat sys_codes[] = {{1, "SYS_SECCOMP"}, {2, "SYS_USER_DISPATCH"}};

static void put_si_code(struct ctw_outbuf *o, int code, int signo)
{
	const char *name = xlat_name(si_codes, ARRAY_SIZE(si_codes), (uint64_t)(int64_t)code);

#define CODES(t) name = xlat_name(t, ARRAY_SIZE(t), (uint64_t)(int64_t)code)
	if (!name) {
		switch (signo) {
		case SIGCHLD: CODES(cld_codes); break;
		case SIGSEGV: CODES(segv_codes); break;
		case SIGBUS: CODES(bus_codes); break;
		case SIGILL: CODES(ill_codes); break;
		case SIGFPE: CODES(fpe_codes); break;
		case SIGTRAP: CODES(trap_codes); break;
		case SIGIO: CODES(poll_codes); break;
		case SIGSYS: CODES(sys_codes); break;
		}
	}
#undef CODES
	if (name)
		put_s(o, name);
	else
		put_i64(o, code);
}

static void put_source(struct ctw_outbuf *o, const siginfo_t *si)
{
	put_s(o, ", si_pid=");
	put_i64(o, si->si_pid);
	put_s(o, ", si_uid=");
	put_u64(o, si->si_uid);
}

static void put_sigval(struct ctw_outbuf *o, const siginfo_t *si)
{
	put_s(o, ", si_int=");
	put_i64(o, si->si_int);
	put_s(o, ", si_ptr=");
	put_ptr(o, (uintptr_t)si->si_ptr);
}

static void put_addr(struct ctw_outbuf *o, const siginfo_t *si)
{
	put_s(o, ", si_addr=");
	put_ptr(o, (uintptr_t)si->si_addr);
}

/* clock ticks, and what they are in seconds: 1 / * 0.01 s * / */
static void put_clock_t(struct ctw_outbuf *o, int64_t ticks)
{
	static long hz;
	char tmp[48];

	put_i64(o, ticks);
	if (!ticks)
		return;
	if (!hz)
		hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	snprintf(tmp, sizeof(tmp), " /* %lld.%02lld s */", (long long)(ticks / hz),
		 (long long)(ticks % hz * 100 / hz));
	put_s(o, tmp);
}

/* strace's printsiginfo: the fields that mean something for the code. */
void put_siginfo(struct ctw_outbuf *o, const void *info, size_t len)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	memcpy(&si, info, len < sizeof(si) ? len : sizeof(si));
	put_c(o, '{');
	if (!si.si_signo) {
		put_c(o, '}');
		return;
	}
	put_s(o, "si_signo=");
	ctw_trace_format_signal(o, si.si_signo);
	put_s(o, ", si_code=");
	put_si_code(o, si.si_code, si.si_signo);
	if (si.si_errno) {
		const char *e = ctw_trace_errno_name(si.si_errno);

		put_s(o, ", si_errno=");
		if (e)
			put_s(o, e);
		else
			put_u64(o, si.si_errno);
	}
	if (si.si_code <= 0) {
		switch (si.si_code) {
		case SI_TIMER:
			put_s(o, ", si_timerid=");
			put_hex(o, (uint32_t)si.si_timerid);
			put_s(o, ", si_overrun=");
			put_i64(o, si.si_overrun);
			put_sigval(o, &si);
			break;
		case SI_SIGIO:
			put_s(o, ", si_band=");
			put_i64(o, si.si_band);
			put_s(o, ", si_fd=");
			put_i64(o, si.si_fd);
			break;
		default:
			put_source(o, &si);
			if (si.si_code != SI_USER && si.si_code != SI_TKILL && si.si_ptr)
				put_sigval(o, &si);
		}
	} else {
		switch (si.si_signo) {
		case SIGCHLD:
			put_source(o, &si);
			put_s(o, ", si_status=");
			if (si.si_code == CLD_EXITED)
				put_i64(o, si.si_status);
			else
				ctw_trace_format_signal(o, si.si_status);
			put_s(o, ", si_utime=");
			put_clock_t(o, si.si_utime);
			put_s(o, ", si_stime=");
			put_clock_t(o, si.si_stime);
			break;
		case SIGILL:
		case SIGFPE:
		case SIGBUS:
		case SIGSEGV:
		case SIGTRAP: put_addr(o, &si); break;
		case SIGIO:
			if (si.si_code >= POLL_IN && si.si_code <= POLL_MSG) {
				put_s(o, ", si_band=");
				put_i64(o, si.si_band);
				put_s(o, ", si_fd=");
				put_i64(o, si.si_fd);
			}
			break;
		case SIGSYS: {
			const char *name = ctw_trace_syscall_name(si.si_syscall);

			put_s(o, ", si_call_addr=");
			put_ptr(o, (uintptr_t)si.si_call_addr);
			put_s(o, ", si_syscall=");
			if (name) {
				put_s(o, "__NR_");
				put_s(o, name);
			} else {
				put_i64(o, si.si_syscall);
			}
			put_s(o, ", si_arch=");
			put_s(o, si.si_arch == 0xc000003e ? "AUDIT_ARCH_X86_64" : "AUDIT_ARCH_???");
			break;
		}
		default:
			if (si.si_pid || si.si_uid)
				put_source(o, &si);
			if (si.si_ptr)
				put_sigval(o, &si);
		}
	}
	put_c(o, '}');
}

/* rt_sigqueueinfo, rt_tgsigqueueinfo: the siginfo passed in */
ARGFN(arg_siginfo_in)
{
	const struct ctw_trace_item *it;
	const void *info = item_get(d, i, TRACE_CAP_MEM, false, &it);

	if (!info)
		put_ptr(d->o, d->ev->args[i]);
	else
		put_siginfo(d->o, info, it->len);
}
