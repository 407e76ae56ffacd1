// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch-stub: what a container sees of ours run (runc CVE-2019-5736).
 *
 * A container's PID 1 lives as long as the container, and the process that
 * becomes its command is, until its execve, whatever program runs it: had
 * it been ctrwatch, /proc/1/exe (with CAP_SYS_PTRACE) or a command that is a
 * `#!/proc/self/exe` script would hand the container our binary, to
 * overwrite once nobody runs it.  So both run this instead, from a sealed
 * memfd that nobody can write (runtime/stub.c): ctrwatch prepares
 * everything, then the init becomes `ctrwatch-init` and the command's
 * process `ctrwatch-exec` (stub.h: the argv of each).
 *
 * Built static, without a libc (a few KB, so that copying it into a memfd
 * and executing it costs little on every start): system calls are made
 * here directly.
 */
#include <stddef.h>
#include <sys/syscall.h>

#include "stub.h"

#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15
#define F_SETFD 2
#define FD_CLOEXEC 1
#define WNOHANG 1
#define SIGCHLD 17
#define ESRCH 3
#define EINTR 4
#define EAGAIN 11
#define ENOENT 2
#define EINVAL 22
#define SECCOMP_SET_MODE_FILTER 1

#if defined(__x86_64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}
#elif defined(__aarch64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "ctrwatch-stub: add the system call convention of this architecture"
#endif

#define sys(n, ...) sys6_((n), __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define sys6_(n, a, b, c, d, e, f, ...) \
	sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static __attribute__((noreturn)) void die(int code)
{
	for (;;)
		sys(SYS_exit_group, code);
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* A decimal (or -1) argument; -2 when it is not one. */
static long num(const char *s)
{
	if (s[0] == '-' && s[1] == '1' && !s[2])
		return -1;
	long v = 0;
	if (!*s)
		return -2;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -2;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static int exit_code(int ws)
{
	if ((ws & 0x7f) == 0)
		return (ws >> 8) & 0xff; /* exited */
	if (((ws & 0x7f) + 1) >> 1 > 0)
		return 128 + (ws & 0x7f); /* killed by a signal */
	return 255;
}

/* The signals the init waits for: what ctrwatch blocked for it (all but
 * SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS, TTIN, TTOU), as a kernel sigset. */
static unsigned long waited_set(void)
{
	static const int left[] = {11, 7, 8, 4, 6, 5, 31, 21, 22};
	unsigned long set = ~0ul;
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		set &= ~(1ul << (left[i] - 1));
	return set;
}

static __attribute__((noreturn)) void init_main(char **argv)
{
	long child = num(argv[1]), ready = num(argv[2]);
	/* Nobody in the container may ptrace us or open our /proc/1/...:
	 * exec made us dumpable again. */
	sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
	sys(SYS_prctl, PR_SET_NAME, STUB_INIT_NAME, 0, 0, 0);
	if (child <= 0)
		die(125);
	/* Only now may the command run (it waits for this EOF). */
	if (ready >= 0)
		sys(SYS_close, ready);
	unsigned long set = waited_set();
	int code = -1;
	for (;;) {
		char info[128];
		struct {
			long sec, nsec;
		} ts = {1, 0};
		long sig = sys(SYS_rt_sigtimedwait, &set, info, &ts, sizeof(set));
		if (sig > 0 && sig != SIGCHLD) {
			/* SIGTERM, SIGINT, ... the command decides. */
			if (sys(SYS_kill, child, sig) == -ESRCH && code < 0)
				code = 128 + (int)sig;
		}
		for (;;) {
			int ws = 0;
			long p = sys(SYS_wait4, -1, &ws, WNOHANG, 0);
			if (p <= 0)
				break;
			if (p == child)
				code = exit_code(ws);
		}
		if (code >= 0)
			die(code);
	}
}

/* What failed, for the sync socket: "WHAT"ARGV0": WHY". */
static void report(long sync, int status, const char *what, const char *argv0, int err)
{
	if (sync < 0)
		return;
	struct stub_sync_msg m;
	char *p = (char *)&m;
	for (size_t i = 0; i < sizeof(m); i++)
		p[i] = 0;
	m.type = STUB_SYNC_ERR;
	m.status = status;
	m.code = err;
	static const char *const why[] = {
		[1] = "operation not permitted", [2] = "no such file or directory",
		[7] = "argument list too long",	 [8] = "exec format error",
		[13] = "permission denied",	 [22] = "invalid argument",
		[26] = "text file busy"};
	const char *w = err > 0 && (size_t)err < sizeof(why) / sizeof(why[0]) && why[err]
				? why[err]
				: "failed";
	if (err == ENOENT)
		w = "executable file not found in $PATH";
	const char *parts[] = {what, argv0, "\": ", w};
	size_t n = 0;
	for (size_t k = 0; k < 4; k++)
		for (const char *s = parts[k]; *s && n < sizeof(m.msg) - 1; s++)
			m.msg[n++] = *s;
	sys(SYS_write, sync, &m, sizeof(m));
}

/* The filter (struct stub_seccomp, then the program) read from fd. */
static struct {
	struct stub_seccomp h;
	unsigned long long insns[STUB_SECCOMP_MAX]; /* struct sock_filter */
} filter;
struct sock_fprog_ {
	unsigned short len;
	void *filter;
};

static long read_filter(long fd)
{
	char *p = (char *)&filter;
	size_t got = 0;
	for (;;) {
		long r = sys(SYS_read, fd, p + got, sizeof(filter) - got);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	sys(SYS_close, fd);
	if (got < sizeof(filter.h) || !filter.h.len || filter.h.len > STUB_SECCOMP_MAX ||
	    got != sizeof(filter.h) + filter.h.len * sizeof(filter.insns[0]))
		return -EINVAL;
	return 0;
}

static __attribute__((noreturn)) void exec_main(char **argv, char **envp)
{
	long ready = num(argv[1]), sync = num(argv[2]), sc = num(argv[3]);
	if (ready < -1 || sync < -1 || sc < -1 || !argv[4] || !argv[5])
		die(125);
	argv++; /* PATH ARGV0 ARG... from argv[3] on, as before SECCOMP */
	/* Ours until the command's execve (which makes it dumpable again). */
	sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Until the init is ours (ctrwatch-init closed its end). */
	if (ready >= 0) {
		char b[16];
		long r;
		do
			r = sys(SYS_read, ready, b, sizeof(b));
		while (r > 0 || r == -EINTR || r == -EAGAIN);
		sys(SYS_close, ready);
	}
	/* The parent learns the command runs from this fd's EOF. */
	if (sync >= 0)
		sys(SYS_fcntl, sync, F_SETFD, FD_CLOEXEC);
	if (sc >= 0) {
		long r = read_filter(sc);
		struct sock_fprog_ prog = {(unsigned short)filter.h.len, filter.insns};
		if (!r)
			r = sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.h.flags, &prog);
		if (r) {
			report(sync, 125, "install the seccomp filter of \"", argv[4], (int)-r);
			die(125);
		}
	}
	long r = sys(SYS_execve, argv[3], argv + 4, envp);
	report(sync, -r == ENOENT ? 127 : 126, "exec: \"", argv[4], (int)-r);
	die(-r == ENOENT ? 127 : 126);
}

static int streq(const char *a, const char *b)
{
	size_t n = slen(b);
	for (size_t i = 0; i <= n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

__attribute__((used, noreturn)) void stub_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	if (argc >= 3 && streq(argv[0], STUB_INIT_NAME))
		init_main(argv);
	if (argc >= 6 && streq(argv[0], STUB_EXEC_NAME))
		exec_main(argv, envp);
	die(125);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n"
	"  xor %rbp, %rbp\n"
	"  mov %rsp, %rdi\n"
	"  and $-16, %rsp\n"
	"  call stub_main\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n"
	"  mov x0, sp\n"
	"  bl stub_main\n");
#endif
