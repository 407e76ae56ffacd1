// SPDX-License-Identifier: Apache-2.0
/* Unit tests for trace/: strace-style formatting, the syscall table and
 * filters, the -c table and the seccomp profile writer. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <regex.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <asm/termbits.h>
#include <linux/sched.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <cmocka.h>
#include <jansson.h>

#include "../../trace/trace.h"

/* SA_RESTORER, which glibc does not export */
#define SA_RESTORER_BIT 0x04000000ull

static struct ctw_outbuf ob;

static int setup(void **state)
{
	ctw_outbuf_init(&ob, -1, 64);
	return 0;
}

static int teardown(void **state)
{
	ctw_outbuf_fini(&ob);
	return 0;
}

/* Render with fn and compare. */
#define CHECK(expected, call)                                       \
	do {                                                        \
		ctw_outbuf_reset(&ob);                              \
		call;                                               \
		assert_string_equal(ctw_outbuf_str(&ob), expected); \
	} while (0)

static void test_open_flags(void **state)
{
	CHECK("O_RDONLY", ctw_trace_format_open_flags(&ob, O_RDONLY));
	CHECK("O_RDONLY|O_CLOEXEC", ctw_trace_format_open_flags(&ob, O_RDONLY | O_CLOEXEC));
	CHECK("O_WRONLY|O_CREAT|O_TRUNC",
	      ctw_trace_format_open_flags(&ob, O_WRONLY | O_CREAT | O_TRUNC));
	CHECK("O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY",
	      ctw_trace_format_open_flags(&ob, O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC));
	CHECK("O_RDWR|O_SYNC", ctw_trace_format_open_flags(&ob, O_RDWR | O_SYNC));
	CHECK("O_RDWR|O_DSYNC", ctw_trace_format_open_flags(&ob, O_RDWR | O_DSYNC));
	CHECK("O_RDWR|O_TMPFILE", ctw_trace_format_open_flags(&ob, O_RDWR | O_TMPFILE));
	/* unknown bits stay visible */
	CHECK("O_WRONLY|0x40000000", ctw_trace_format_open_flags(&ob, O_WRONLY | 0x40000000));
}

static void test_at_mmap_socket_flags(void **state)
{
	CHECK("0", ctw_trace_format_at_flags(&ob, 0));
	CHECK("AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH", ctw_trace_format_at_flags(&ob, 0x1100));
	CHECK("AT_REMOVEDIR", ctw_trace_format_at_flags(&ob, 0x200));
	CHECK("PROT_NONE", ctw_trace_format_mmap_prot(&ob, 0));
	CHECK("PROT_READ|PROT_EXEC", ctw_trace_format_mmap_prot(&ob, PROT_READ | PROT_EXEC));
	CHECK("MAP_PRIVATE|MAP_ANONYMOUS",
	      ctw_trace_format_mmap_flags(&ob, MAP_PRIVATE | MAP_ANONYMOUS));
	CHECK("MAP_SHARED|MAP_FIXED|MAP_POPULATE",
	      ctw_trace_format_mmap_flags(&ob, MAP_SHARED | MAP_FIXED | MAP_POPULATE));
	CHECK("AF_INET6", ctw_trace_format_socket_domain(&ob, AF_INET6));
	CHECK("AF_UNIX", ctw_trace_format_socket_domain(&ob, AF_UNIX));
	CHECK("77", ctw_trace_format_socket_domain(&ob, 77));
	CHECK("SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK",
	      ctw_trace_format_socket_type(&ob, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK));
	CHECK("SOCK_DGRAM", ctw_trace_format_socket_type(&ob, SOCK_DGRAM));
}

static void test_signals(void **state)
{
	CHECK("SIGTERM", ctw_trace_format_signal(&ob, SIGTERM));
	CHECK("SIGCHLD", ctw_trace_format_signal(&ob, SIGCHLD));
	CHECK("SIGKILL", ctw_trace_format_signal(&ob, 9));
	/* the kernel's numbering, as strace: 32 is SIGRTMIN, glibc's 34 RT_2 */
	CHECK("SIGRTMIN", ctw_trace_format_signal(&ob, 32));
	CHECK("SIGRT_2", ctw_trace_format_signal(&ob, SIGRTMIN));
	CHECK("SIGRT_32", ctw_trace_format_signal(&ob, 64));
	CHECK("SIGIO", ctw_trace_format_signal(&ob, SIGIO));
	CHECK("0", ctw_trace_format_signal(&ob, 0));
	CHECK("65", ctw_trace_format_signal(&ob, 65));
	assert_int_equal(ctw_trace_signal_nr("SIGTERM"), SIGTERM);
	assert_int_equal(ctw_trace_signal_nr("term"), SIGTERM);
	assert_int_equal(ctw_trace_signal_nr("9"), 9);
	assert_int_equal(ctw_trace_signal_nr("SIGRTMIN"), 32);
	assert_int_equal(ctw_trace_signal_nr("SIGRTMIN+2"), 34);
	assert_int_equal(ctw_trace_signal_nr("RT_3"), 35);
	assert_int_equal(ctw_trace_signal_nr("POLL"), SIGIO);
	assert_int_equal(ctw_trace_signal_nr("SIGNOPE"), -1);
	assert_int_equal(ctw_trace_signal_nr("0"), -1);
	assert_int_equal(ctw_trace_signal_nr("RTMIN+x"), -1);
}

static void test_quote(void **state)
{
	CHECK("\"hello\"", ctw_trace_quote(&ob, "hello", 5, 32, false));
	CHECK("\"a\\nb\\t\\\"q\\\"\\\\\"", ctw_trace_quote(&ob, "a\nb\t\"q\"\\", 8, 32, false));
	/* strace: octal, padded to three digits only before a digit */
	CHECK("\"\\0\\1x\\0011\\377\"", ctw_trace_quote(&ob, "\0\1x\0011\377", 6, 32, false));
	/* -s N cuts and says so */
	CHECK("\"abc\"...", ctw_trace_quote(&ob, "abcdef", 6, 3, false));
	CHECK("\"abcdef\"", ctw_trace_quote(&ob, "abcdef", 6, 6, false));
	/* data cut in the kernel already */
	CHECK("\"ab\"...", ctw_trace_quote(&ob, "ab", 2, 32, true));
	CHECK("\"\"", ctw_trace_quote(&ob, "", 0, 32, false));
}

static void test_sockaddr(void **state)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	size_t ulen;

	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	CHECK("{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"127.0.0.1\")}",
	      ctw_trace_format_sockaddr(&ob, &in, sizeof(in)));
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	CHECK("{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
	      "inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}",
	      ctw_trace_format_sockaddr(&ob, &in6, sizeof(in6)));
	strcpy(un.sun_path, "/run/app.sock");
	ulen = offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1;
	CHECK("{sa_family=AF_UNIX, sun_path=\"/run/app.sock\"}",
	      ctw_trace_format_sockaddr(&ob, &un, ulen));
	memcpy(un.sun_path, "\0abstract", 9);
	ulen = offsetof(struct sockaddr_un, sun_path) + 9;
	CHECK("{sa_family=AF_UNIX, sun_path=@\"abstract\"}",
	      ctw_trace_format_sockaddr(&ob, &un, ulen));
	/* truncated sockaddrs never read past what was captured */
	CHECK("{sa_family=AF_INET, sa_data=\"\\37\\220\"}", ctw_trace_format_sockaddr(&ob, &in, 4));
	CHECK("{}", ctw_trace_format_sockaddr(&ob, &in, 1));
	un.sun_family = AF_UNIX;
	CHECK("{sa_family=AF_UNIX}", ctw_trace_format_sockaddr(&ob, &un, sizeof(sa_family_t)));
	/* link-local: the scope as an interface (index 1 is lo) */
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	in6.sin6_port = htons(9);
	in6.sin6_scope_id = 1;
	CHECK("{sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), "
	      "inet_pton(AF_INET6, \"fe80::1\", &sin6_addr), sin6_scope_id=if_nametoindex(\"lo\")}",
	      ctw_trace_format_sockaddr(&ob, &in6, sizeof(in6)));
	{
		struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_pid = 42, .nl_groups = 0x11};

		CHECK("{sa_family=AF_NETLINK, nl_pid=42, nl_groups=00000011}",
		      ctw_trace_format_sockaddr(&ob, &nl, sizeof(nl)));
	}
}

static void test_ret_errno(void **state)
{
	int openat_nr = ctw_trace_syscall_nr("openat");
	int mmap_nr = ctw_trace_syscall_nr("mmap");

	CHECK("3", ctw_trace_format_ret(&ob, openat_nr, 3));
	CHECK("-1 ENOENT (No such file or directory)",
	      ctw_trace_format_ret(&ob, openat_nr, -ENOENT));
	CHECK("-1 EACCES (Permission denied)", ctw_trace_format_ret(&ob, openat_nr, -EACCES));
	CHECK("? ERESTARTSYS (To be restarted if SA_RESTART is set)",
	      ctw_trace_format_ret(&ob, openat_nr, -512));
	CHECK("0x7f0000001000", ctw_trace_format_ret(&ob, mmap_nr, 0x7f0000001000));
	CHECK("-1 ENOMEM (Cannot allocate memory)", ctw_trace_format_ret(&ob, mmap_nr, -ENOMEM));
	assert_string_equal(ctw_trace_errno_name(EPERM), "EPERM");
	assert_string_equal(ctw_trace_errno_name(ECONNREFUSED), "ECONNREFUSED");
}

/* Build an event with captured items, as the kernel lays them out. */
struct evbuf {
	struct ctw_trace_event ev;
	uint8_t payload[2048];
};

static void add_item(struct evbuf *b, uint8_t arg, uint8_t kind, const void *data, uint16_t len,
		     uint32_t full)
{
	struct ctw_trace_item it = {.arg = arg, .kind = kind, .len = len, .full_len = full};
	size_t off = b->ev.payload_len;

	assert_true(off + sizeof(it) + len <= sizeof(b->payload));
	memcpy(b->payload + off, &it, sizeof(it));
	if (len)
		memcpy(b->payload + off + sizeof(it), data, len);
	b->ev.payload_len = off + sizeof(it) + ((len + 7u) & ~7u);
}

/* data passed in (captured at enter) and written by the kernel (at exit) */
#define IN(b, arg, kind, data, len) add_item(b, arg, kind, data, len, len)
#define OUT(b, arg, kind, data, len) add_item(b, arg, (kind) | TRACE_ITEM_EXIT, data, len, len)

static void init_ev(struct evbuf *b, const char *syscall, int64_t ret)
{
	memset(b, 0, sizeof(*b));
	b->ev.nr = syscall ? ctw_trace_syscall_nr(syscall) : 0;
	b->ev.pid = b->ev.tid = 12834;
	b->ev.ret = ret;
	b->ev.duration_ns = 12345;
	b->ev.ts_ns = 1000;
	strcpy(b->ev.comm, "sh");
}

static void args(struct evbuf *b, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5)
{
	uint64_t a[TRACE_NARGS] = {a0, a1, a2, a3, a4, a5};

	memcpy(b->ev.args, a, sizeof(a));
}

/* strace -f -o FILE's own lines: "PID  call(...)" with " = " at column 40 */
static const struct ctw_trace_fmt file_fmt = {.strsize = 32, .prefix = CTW_PFX_FILE};

#define LINE(expected, b) \
	CHECK(expected "\n", ctw_trace_format_event(&ob, &file_fmt, &(b).ev, (b).payload, "c"))

static void test_line_layout(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32};
	struct evbuf b;

	/* these are strace's lines, as it wrote them */
	init_ev(&b, "brk", 0x26ee4000);
	LINE("12834 brk(NULL)                         = 0x26ee4000", b);
	init_ev(&b, "arch_prctl", 0);
	args(&b, 0x1002, 0x26ee43c0, 0, 0, 0, 0);
	LINE("12834 arch_prctl(ARCH_SET_FS, 0x26ee43c0) = 0", b);
	init_ev(&b, "getuid", 0);
	b.ev.tid = 77;
	LINE("77    getuid()                          = 0", b);
	/* a terminal: [pid N]; -ff files: nothing */
	init_ev(&b, "getpid", 12834);
	CHECK("[pid 12834] getpid()                    = 12834\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	f.prefix = CTW_PFX_NONE;
	CHECK("getpid()                                = 12834\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	/* several containers: which one first */
	f.show_container = true;
	f.durations = true;
	CHECK("[web] getpid()                          = 12834 <0.000012>\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	/* killed in the call, exit_group */
	init_ev(&b, "kill", 0);
	args(&b, 20657, SIGKILL, 0, 0, 0, 0);
	b.ev.flags = TRACE_EV_NORETURN;
	LINE("12834 kill(20657, SIGKILL)              = ?", b);
	init_ev(&b, "exit_group", 0);
	b.ev.flags = TRACE_EV_NORETURN;
	LINE("12834 exit_group(0)                     = ?", b);
	init_ev(&b, "pause", -514);
	LINE("12834 pause()                           = ? ERESTARTNOHAND (To be restarted if no "
	     "handler)",
	     b);
}

static void test_event_lines(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32, .prefix = CTW_PFX_NONE};
	struct evbuf b;
	static const char argv[] = "ls\0-l\0/tmp";

	init_ev(&b, "openat", 3);
	args(&b, (uint64_t)(int64_t)AT_FDCWD, 0, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "/etc/hostname", 14);
	CHECK("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	f.durations = true;
	CHECK("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3 <0.000012>\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	f.durations = false;

	/* O_CREAT brings the mode argument */
	init_ev(&b, "openat", -ENOENT);
	args(&b, 5, 0, O_WRONLY | O_CREAT | O_TRUNC, 0644, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "x/y", 4);
	LINE("12834 openat(5, \"x/y\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (No such file "
	     "or "
	     "directory)",
	     b);

	init_ev(&b, "execve", 0);
	args(&b, 0x1000, 0, 0x7ffc00, 0, 0, 0);
	IN(&b, 0, TRACE_CAP_STR, "/bin/ls", 8);
	add_item(&b, 1, TRACE_CAP_ARGV, argv, sizeof(argv), 3);
	{
		struct ctw_trace_execinfo ei = {.argc = 3, .envc = 41};

		IN(&b, 2, TRACE_IT_EXECINFO, &ei, sizeof(ei));
	}
	LINE("12834 execve(\"/bin/ls\", [\"ls\", \"-l\", \"/tmp\"], 0x7ffc00 /* 41 vars */) = 0",
	     b);

	init_ev(&b, "write", 11);
	args(&b, 1, 0, 11, 0, 0, 0);
	add_item(&b, 1, TRACE_CAP_MEM, "hello\nworld", 11, 11);
	f.strsize = 5;
	CHECK("write(1, \"hello\"..., 11)                = 11\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
	f.strsize = 32;

	/* a read that failed shows the buffer's address, not data */
	init_ev(&b, "read", -EBADF);
	args(&b, (uint64_t)-1, 0x7ffdebf3fc20, 1, 0, 0, 0);
	LINE("12834 read(-1, 0x7ffdebf3fc20, 1)       = -1 EBADF (Bad file descriptor)", b);
	init_ev(&b, "read", 1361);
	args(&b, 3, 0x7ffdebf3fc20, 4096, 0, 0, 0);
	add_item(&b, 1, TRACE_CAP_MEM | TRACE_ITEM_EXIT, "root:x:0:0:root:/root:/bin/bash\n", 32,
		 1361);
	LINE("12834 read(3, \"root:x:0:0:root:/root:/bin/bash\\n\"..., 4096) = 1361", b);

	init_ev(&b, "mmap", 0x7f04179ac000);
	args(&b, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
	LINE("12834 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
	     "0x7f04179ac000",
	     b);

	init_ev(&b, "socket", 3);
	args(&b, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0);
	LINE("12834 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3", b);
	init_ev(&b, "socket", 3);
	args(&b, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0, 0, 0, 0);
	LINE("12834 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 3", b);

	init_ev(&b, "fcntl", 1);
	args(&b, 3, F_GETFD, 0, 0, 0, 0);
	LINE("12834 fcntl(3, F_GETFD)                 = 0x1 (flags FD_CLOEXEC)", b);
	init_ev(&b, "fcntl", 0x8002);
	args(&b, 3, F_GETFL, 0, 0, 0, 0);
	LINE("12834 fcntl(3, F_GETFL)                 = 0x8002 (flags O_RDWR|O_LARGEFILE)", b);
	init_ev(&b, "fcntl", 0);
	args(&b, 3, F_SETFL, O_APPEND | O_NONBLOCK, 0, 0, 0);
	LINE("12834 fcntl(3, F_SETFL, O_RDONLY|O_APPEND|O_NONBLOCK) = 0", b);
	init_ev(&b, "umask", 022);
	LINE("12834 umask(000)                        = 022", b);
}

static void test_event_sockaddr_and_json(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32, .prefix = CTW_PFX_NONE};
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(19500)};
	struct evbuf b;
	json_t *j;
	json_error_t jerr;

	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	init_ev(&b, "connect", -ECONNREFUSED);
	args(&b, 3, 0, sizeof(in), 0, 0, 0);
	add_item(&b, 1, TRACE_CAP_MEM, &in, sizeof(in), sizeof(in));
	CHECK("connect(3, {sa_family=AF_INET, sin_port=htons(19500), "
	      "sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused)\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "db"));

	f.json = true;
	ctw_outbuf_reset(&ob);
	ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "db\"x");
	j = json_loads(ctw_outbuf_str(&ob), 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "container")), "db\"x");
	assert_string_equal(json_string_value(json_object_get(j, "event")), "syscall");
	assert_string_equal(json_string_value(json_object_get(j, "syscall")), "connect");
	assert_string_equal(json_string_value(json_object_get(j, "errno")), "ECONNREFUSED");
	assert_int_equal(json_integer_value(json_object_get(j, "ret")), -1);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 12834);
	assert_int_equal(json_integer_value(json_object_get(j, "duration_ns")), 12345);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "args"), 0)), 3);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(j, "args"), 1)),
		"{sa_family=AF_INET, sin_port=htons(19500), sin_addr=inet_addr(\"127.0.0.1\")}");
	json_decref(j);

	/* paths are raw strings in JSON, control bytes escaped */
	init_ev(&b, "unlink", 0);
	add_item(&b, 0, TRACE_CAP_STR, "/tmp/a\nb", 9, 9);
	ctw_outbuf_reset(&ob);
	ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c");
	j = json_loads(ctw_outbuf_str(&ob), 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "args"), 0)),
			    "/tmp/a\nb");
	assert_true(json_is_null(json_object_get(j, "errno")));
	json_decref(j);

	/* signals and exits are events too */
	{
		siginfo_t si = {.si_signo = SIGCHLD, .si_code = CLD_EXITED};

		init_ev(&b, NULL, 0);
		b.ev.nr = TRACE_NR_SIGNAL;
		b.ev.args[0] = SIGCHLD;
		add_item(&b, 0, TRACE_IT_SIGINFO, &si, TRACE_SIGINFO_SIZE, TRACE_SIGINFO_SIZE);
		ctw_outbuf_reset(&ob);
		ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c");
		j = json_loads(ctw_outbuf_str(&ob), 0, &jerr);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "event")), "signal");
		assert_string_equal(json_string_value(json_object_get(j, "signal")), "SIGCHLD");
		assert_true(strstr(json_string_value(json_object_get(j, "siginfo")),
				   "si_code=CLD_EXITED") != NULL);
		json_decref(j);
	}
	init_ev(&b, NULL, SIGSEGV | 0x80);
	b.ev.nr = TRACE_NR_EXIT;
	ctw_outbuf_reset(&ob);
	ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c");
	j = json_loads(ctw_outbuf_str(&ob), 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "exit");
	assert_true(json_is_null(json_object_get(j, "exit_code")));
	assert_string_equal(json_string_value(json_object_get(j, "killed_by")), "SIGSEGV");
	assert_true(json_is_true(json_object_get(j, "core_dumped")));
	json_decref(j);
}

static void test_malformed_payload(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32, .prefix = CTW_PFX_NONE};
	struct evbuf b;
	struct ctw_trace_item it = {.arg = 1, .kind = TRACE_CAP_STR, .len = 900};

	/* an item claiming more data than the payload holds is ignored */
	init_ev(&b, "openat", 3);
	b.ev.args[1] = 0x5000;
	memcpy(b.payload, &it, sizeof(it));
	b.ev.payload_len = 16;
	CHECK("openat(0, 0x5000, O_RDONLY)             = 3\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
	/* unknown syscall numbers still print, with their raw arguments */
	init_ev(&b, "openat", 0);
	b.ev.nr = 499;
	b.ev.args[1] = 0x10;
	CHECK("syscall_499(0, 0x10, 0, 0, 0, 0)        = 0\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
	/* structs shorter than their type, or absent: the address */
	init_ev(&b, "newfstatat", 0);
	args(&b, 3, 0, 0x7ffd0000, 0x1000, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "", 1);
	OUT(&b, 2, TRACE_CAP_MEM, "\1\2\3", 3);
	CHECK("newfstatat(3, \"\", 0x7ffd0000, AT_EMPTY_PATH) = 0\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
	/* a garbage iovec count and lengths stay within what was captured */
	init_ev(&b, "writev", 5);
	args(&b, 1, 0x1000, 99999, 0, 0, 0);
	{
		struct iovec iov[2] = {{(void *)0x10, 1000000}, {(void *)0x20, 3}};

		add_item(&b, 1, TRACE_IT_IOV | TRACE_ITEM_MORE, iov, sizeof(iov), 99999);
		add_item(&b, 1, TRACE_IT_IOVDATA, "ab", 2, 0);
	}
	CHECK("writev(1, [{iov_base=\"ab\"..., iov_len=1000000}, {iov_base=0x20, iov_len=3}, ...], "
	      "99999) = 5\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
}

/* Each decoder on the records the kernel side makes, against the line
 * strace printed for the same call (tests/helpers/ctw-syscalls.c). */
static void test_decode_files(void **state)
{
	struct evbuf b;
	struct stat st = {.st_mode = S_IFREG | 0600, .st_size = 10};
	struct statx stx = {.stx_mask = 0x17ff, .stx_mode = S_IFREG | 0600, .stx_size = 10};
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10};

	init_ev(&b, "stat", 0);
	args(&b, 0x4a0000, 0x7ffd0000, 0, 0, 0, 0);
	IN(&b, 0, TRACE_CAP_STR, "st.txt", 7);
	OUT(&b, 1, TRACE_CAP_MEM, &st, sizeof(st));
	LINE("12834 stat(\"st.txt\", {st_mode=S_IFREG|0600, st_size=10, ...}) = 0", b);
	/* a device: its numbers instead of a size */
	st.st_mode = S_IFCHR | 0666;
	st.st_rdev = makedev(1, 3);
	init_ev(&b, "newfstatat", 0);
	args(&b, 1, 0x4a0000, 0x7ffd0000, AT_EMPTY_PATH, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "", 1);
	OUT(&b, 2, TRACE_CAP_MEM, &st, sizeof(st));
	LINE("12834 newfstatat(1, \"\", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, "
	     "AT_EMPTY_PATH) = 0",
	     b);
	st.st_mode = S_IFDIR | S_ISVTX | 0777;
	st.st_size = 4096;
	init_ev(&b, "newfstatat", 0);
	args(&b, (uint64_t)(int64_t)AT_FDCWD, 0x4a0000, 0x7ffd0000, AT_SYMLINK_NOFOLLOW, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "/tmp", 5);
	OUT(&b, 2, TRACE_CAP_MEM, &st, sizeof(st));
	LINE("12834 newfstatat(AT_FDCWD, \"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, "
	     "...}, AT_SYMLINK_NOFOLLOW) = 0",
	     b);
	/* a failed stat wrote nothing */
	init_ev(&b, "stat", -ENOENT);
	args(&b, 0x4a0000, 0x7ffdebf3fad0, 0, 0, 0, 0);
	IN(&b, 0, TRACE_CAP_STR, "no-such-file", 13);
	LINE("12834 stat(\"no-such-file\", 0x7ffdebf3fad0) = -1 ENOENT (No such file or directory)",
	     b);
	init_ev(&b, "statx", 0);
	args(&b, (uint64_t)(int64_t)AT_FDCWD, 0x4a0000, AT_SYMLINK_NOFOLLOW, 0x201, 0x7ffd0000, 0);
	IN(&b, 1, TRACE_CAP_STR, "st.txt", 7);
	OUT(&b, 4, TRACE_CAP_MEM, &stx, 144);
	LINE("12834 statx(AT_FDCWD, \"st.txt\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, "
	     "STATX_TYPE|STATX_SIZE, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, "
	     "stx_mode=S_IFREG|0600, stx_size=10, ...}) = 0",
	     b);
	init_ev(&b, "getdents64", 120);
	args(&b, 3, 0x7ffdebf3ec50, 4096, 0, 0, 0);
	add_item(&b, 1, TRACE_IT_COUNT, NULL, 0, 5);
	LINE("12834 getdents64(3, 0x7ffdebf3ec50 /* 5 entries */, 4096) = 120", b);
	init_ev(&b, "getdents64", 0);
	args(&b, 3, 0x7ffdebf3ec50, 4096, 0, 0, 0);
	add_item(&b, 1, TRACE_IT_COUNT, NULL, 0, 0);
	LINE("12834 getdents64(3, 0x7ffdebf3ec50 /* 0 entries */, 4096) = 0", b);
	init_ev(&b, "fcntl", 0);
	args(&b, 3, F_SETLK, 0x7ffd0000, 0, 0, 0);
	IN(&b, 2, TRACE_CAP_MEM, &fl, sizeof(fl));
	LINE("12834 fcntl(3, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = "
	     "0",
	     b);
	fl.l_type = F_UNLCK;
	init_ev(&b, "fcntl", 0);
	args(&b, 3, F_GETLK, 0x7ffd0000, 0, 0, 0);
	IN(&b, 2, TRACE_CAP_MEM, &fl, sizeof(fl));
	OUT(&b, 2, TRACE_CAP_MEM, &fl, sizeof(fl));
	LINE("12834 fcntl(3, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10, "
	     "l_pid=0}) = 0",
	     b);
	init_ev(&b, "getcwd", 10);
	args(&b, 0x7ffd0000, 4096, 0, 0, 0, 0);
	OUT(&b, 0, TRACE_CAP_MEM, "/tmp/wl/d", 10);
	LINE("12834 getcwd(\"/tmp/wl/d\", 4096)         = 10", b);
	init_ev(&b, "getrandom", 8);
	args(&b, 0x7ffd0000, 8, 1, 0, 0, 0);
	OUT(&b, 0, TRACE_CAP_MEM, "\xe8\x28\x9d\x93\x13\xcf\x01\x25", 8);
	LINE("12834 getrandom(\"\\xe8\\x28\\x9d\\x93\\x13\\xcf\\x01\\x25\", 8, GRND_NONBLOCK) = 8",
	     b);
}

static void test_decode_processes(void **state)
{
	struct evbuf b;
	int32_t status;
	siginfo_t si;
	static const char argv[] = "ctw-syscalls\0exec-child\0from-rodata";

	init_ev(&b, "wait4", 20656);
	args(&b, 20656, 0x7ffd0000, 0, 0, 0, 0);
	status = 3 << 8;
	OUT(&b, 1, TRACE_CAP_MEM, &status, sizeof(status));
	LINE("12834 wait4(20656, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 20656", b);
	init_ev(&b, "wait4", 20657);
	args(&b, 20657, 0x7ffd0000, 0, 0, 0, 0);
	status = SIGKILL;
	OUT(&b, 1, TRACE_CAP_MEM, &status, sizeof(status));
	LINE("12834 wait4(20657, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 20657",
	     b);
	init_ev(&b, "wait4", -ECHILD);
	args(&b, (uint64_t)-1, 0x7fff426e278c, WNOHANG, 0, 0, 0);
	LINE("12834 wait4(-1, 0x7fff426e278c, WNOHANG, NULL) = -1 ECHILD (No child processes)", b);

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGCHLD;
	si.si_code = CLD_KILLED;
	si.si_pid = 20658;
	si.si_status = SIGTERM;
	init_ev(&b, "waitid", 0);
	args(&b, P_PID, 20658, 0x7ffd0000, WEXITED, 0, 0);
	OUT(&b, 2, TRACE_CAP_MEM, &si, TRACE_SIGINFO_SIZE);
	LINE("12834 waitid(P_PID, 20658, {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=20658, "
	     "si_uid=0, si_status=SIGTERM, si_utime=0, si_stime=0}, WEXITED, NULL) = 0",
	     b);
	memset(&si, 0, sizeof(si));
	init_ev(&b, "waitid", 0);
	args(&b, P_PID, 20658, 0x7ffd0000, WNOHANG | WEXITED, 0, 0);
	OUT(&b, 2, TRACE_CAP_MEM, &si, TRACE_SIGINFO_SIZE);
	LINE("12834 waitid(P_PID, 20658, {}, WNOHANG|WEXITED, NULL) = 0", b);

	/* argv read back from the new program's stack, envc from the exec */
	init_ev(&b, "execve", 0);
	args(&b, 0x48d06c, 0x7ffdebf3fcb0, 0x7ffdebf3fcb0, 0, 0, 0);
	IN(&b, 0, TRACE_CAP_STR, "/proc/self/exe", 15);
	add_item(&b, 1, TRACE_CAP_ARGV, argv, sizeof(argv), 3);
	{
		struct ctw_trace_execinfo ei = {.argc = 3, .envc = 1};

		IN(&b, 2, TRACE_IT_EXECINFO, &ei, sizeof(ei));
	}
	LINE("12834 execve(\"/proc/self/exe\", [\"ctw-syscalls\", \"exec-child\", "
	     "\"from-rodata\"], "
	     "0x7ffdebf3fcb0 /* 1 var */) = 0",
	     b);
	/* a failed one: envp counted in the caller's array */
	init_ev(&b, "execve", -ENOENT);
	args(&b, 0x48d06c, 0x7ffdebf3fcc0, 0x7ffdebf3fcc0, 0, 0, 0);
	IN(&b, 0, TRACE_CAP_STR, "no-such-program", 16);
	add_item(&b, 1, TRACE_CAP_ARGV, "a\0b", 4, 2);
	add_item(&b, 2, TRACE_IT_COUNT, NULL, 0, 3);
	LINE("12834 execve(\"no-such-program\", [\"a\", \"b\"], 0x7ffdebf3fcc0 /* 3 vars */) = -1 "
	     "ENOENT (No such file or directory)",
	     b);

	init_ev(&b, "clone", 20656);
	args(&b, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0, 0x2f1d690, 0, 0);
	LINE("12834 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
	     "child_tidptr=0x2f1d690) = 20656",
	     b);
	{
		struct clone_args ca = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				 CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
				 CLONE_CHILD_CLEARTID,
			.child_tid = 0x7f04179ac990,
			.parent_tid = 0x7f04179ac990,
			.stack = 0x7f04171ac000,
			.stack_size = 0x800300,
			.tls = 0x7f04179ac6c0,
		};
		int32_t tid = 20670;

		init_ev(&b, "clone3", 20670);
		args(&b, 0x7ffd0000, 88, 0, 0, 0, 0);
		IN(&b, 0, TRACE_CAP_CLONE3, &ca, 88);
		OUT(&b, 0, TRACE_IT_TID, &tid, sizeof(tid));
		LINE("12834 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
		     "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
		     "child_tid=0x7f04179ac990, parent_tid=0x7f04179ac990, exit_signal=0, "
		     "stack=0x7f04171ac000, stack_size=0x800300, tls=0x7f04179ac6c0} => "
		     "{parent_tid=[20670]}, 88) = 20670",
		     b);
	}
	{
		uint64_t rl[2] = {8192 * 1024, UINT64_MAX}, nrl[2] = {512, 1024};

		init_ev(&b, "prlimit64", 0);
		args(&b, 0, RLIMIT_STACK, 0, 0x7ffd0000, 0, 0);
		OUT(&b, 3, TRACE_CAP_MEM, rl, sizeof(rl));
		LINE("12834 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, "
		     "rlim_max=RLIM64_INFINITY}) = 0",
		     b);
		init_ev(&b, "setrlimit", 0);
		args(&b, RLIMIT_NOFILE, 0x7ffd0000, 0, 0, 0, 0);
		IN(&b, 1, TRACE_CAP_MEM, nrl, sizeof(nrl));
		LINE("12834 setrlimit(RLIMIT_NOFILE, {rlim_cur=512, rlim_max=1024}) = 0", b);
		init_ev(&b, "prlimit64", -EINVAL);
		args(&b, 0, 99, 0, 0x7ffdebf3fc60, 0, 0);
		LINE("12834 prlimit64(0, 0x63 /* RLIMIT_??? */, NULL, 0x7ffdebf3fc60) = -1 EINVAL "
		     "(Invalid argument)",
		     b);
	}
	{
		char uts[130] = "Linux";

		strcpy(uts + 65, "vm");
		init_ev(&b, "uname", 0);
		args(&b, 0x7ffd0000, 0, 0, 0, 0, 0);
		OUT(&b, 0, TRACE_CAP_MEM, uts, sizeof(uts));
		LINE("12834 uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0", b);
	}
	init_ev(&b, "prctl", 1);
	args(&b, PR_GET_DUMPABLE, 0, 0, 0, 0, 0);
	LINE("12834 prctl(PR_GET_DUMPABLE)            = 1 (SUID_DUMP_USER)", b);
	init_ev(&b, "prctl", 0);
	args(&b, PR_SET_NAME, 0x4a0000, 0, 0, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "wl-prctl", 9);
	LINE("12834 prctl(PR_SET_NAME, \"wl-prctl\")    = 0", b);
	init_ev(&b, "prctl", 0);
	args(&b, PR_GET_PDEATHSIG, 0x7ffd0000, 0, 0, 0, 0);
	{
		int32_t sig = SIGTERM;

		OUT(&b, 1, TRACE_CAP_MEM, &sig, sizeof(sig));
	}
	LINE("12834 prctl(PR_GET_PDEATHSIG, [SIGTERM]) = 0", b);
	init_ev(&b, "prctl", 1);
	args(&b, PR_CAPBSET_READ, 21, 0, 0, 0, 0);
	LINE("12834 prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) = 1", b);
	init_ev(&b, "prctl", 0);
	args(&b, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0, 0);
	LINE("12834 prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) = 0", b);
	{
		struct {
			uint32_t version;
			int32_t pid;
		} h = {0x20080522, 0};
		uint32_t data[6] = {(1u << 0) | (1u << 21), (1u << 0) | (1u << 21), 0, 1, 1, 0};

		init_ev(&b, "capget", 0);
		args(&b, 0x7ffd0000, 0x7ffd0100, 0, 0, 0, 0);
		IN(&b, 0, TRACE_CAP_MEM, &h, sizeof(h));
		OUT(&b, 1, TRACE_CAP_MEM, data, sizeof(data));
		LINE("12834 capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, "
		     "{effective=1<<CAP_CHOWN|1<<CAP_SYS_ADMIN|1<<CAP_MAC_OVERRIDE, "
		     "permitted=1<<CAP_CHOWN|1<<CAP_SYS_ADMIN|1<<CAP_MAC_OVERRIDE, inheritable=0}) "
		     "= 0",
		     b);
	}
	init_ev(&b, "futex", 0);
	args(&b, 0x7f04179ac990, 0x109 /* WAIT_BITSET|CLOCK_REALTIME */, 20670, 0, 0, 0xffffffff);
	LINE("12834 futex(0x7f04179ac990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 20670, NULL, "
	     "FUTEX_BITSET_MATCH_ANY) = 0",
	     b);
	init_ev(&b, "futex", 1);
	args(&b, 0x7f04179ac990, 0x81 /* WAKE_PRIVATE */, 1, 0, 0, 0);
	LINE("12834 futex(0x7f04179ac990, FUTEX_WAKE_PRIVATE, 1) = 1", b);
}

static void test_decode_signals(void **state)
{
	struct evbuf b;
	uint64_t act[4] = {0x4019d0, SA_RESTORER_BIT | SA_RESTART, 0x409e00, 1ull << (SIGUSR2 - 1)};
	uint64_t old[4] = {0, 0, 0, 0};
	uint64_t set = (1ull << (SIGUSR1 - 1)) | (1ull << (SIGTERM - 1)), none = 0;
	siginfo_t si;

	init_ev(&b, "rt_sigaction", 0);
	args(&b, SIGUSR1, 0x7ffd0000, 0x7ffd0100, 8, 0, 0);
	IN(&b, 1, TRACE_CAP_MEM, act, sizeof(act));
	OUT(&b, 2, TRACE_CAP_MEM, old, sizeof(old));
	LINE("12834 rt_sigaction(SIGUSR1, {sa_handler=0x4019d0, sa_mask=[USR2], "
	     "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x409e00}, {sa_handler=SIG_DFL, "
	     "sa_mask=[], sa_flags=0}, 8) = 0",
	     b);
	/* glibc's mask for a handler: everything but its two signals */
	act[0] = 0x525892;
	act[1] = SA_RESTORER_BIT;
	act[3] = ~(3ull << 31);
	init_ev(&b, "rt_sigaction", 0);
	args(&b, SIGCHLD, 0x7ffd0000, 0, 8, 0, 0);
	IN(&b, 1, TRACE_CAP_MEM, act, sizeof(act));
	LINE("12834 rt_sigaction(SIGCHLD, {sa_handler=0x525892, sa_mask=~[RTMIN RT_1], "
	     "sa_flags=SA_RESTORER, sa_restorer=0x409e00}, NULL, 8) = 0",
	     b);
	init_ev(&b, "rt_sigprocmask", 0);
	args(&b, SIG_BLOCK, 0x7ffd0000, 0x7ffd0100, 8, 0, 0);
	IN(&b, 1, TRACE_CAP_MEM, &set, sizeof(set));
	OUT(&b, 2, TRACE_CAP_MEM, &none, sizeof(none));
	LINE("12834 rt_sigprocmask(SIG_BLOCK, [USR1 TERM], [], 8) = 0", b);
	set = ~0ull;
	init_ev(&b, "rt_sigprocmask", 0);
	args(&b, SIG_BLOCK, 0x7ffd0000, 0x7ffd0100, 8, 0, 0);
	IN(&b, 1, TRACE_CAP_MEM, &set, sizeof(set));
	OUT(&b, 2, TRACE_CAP_MEM, &none, sizeof(none));
	LINE("12834 rt_sigprocmask(SIG_BLOCK, ~[], [], 8) = 0", b);
	init_ev(&b, "rt_sigreturn", 12835);
	IN(&b, 0, TRACE_CAP_SIGFRAME, &none, sizeof(none));
	LINE("12834 rt_sigreturn({mask=[]})           = 12835", b);

	/* the lines around them */
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGCHLD;
	si.si_code = CLD_EXITED;
	si.si_pid = 12835;
	init_ev(&b, NULL, 0);
	b.ev.nr = TRACE_NR_SIGNAL;
	b.ev.args[0] = SIGCHLD;
	add_item(&b, 0, TRACE_IT_SIGINFO, &si, TRACE_SIGINFO_SIZE, TRACE_SIGINFO_SIZE);
	LINE("12834 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12835, si_uid=0, "
	     "si_status=0, si_utime=0, si_stime=0} ---",
	     b);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_TKILL;
	si.si_pid = 20655;
	init_ev(&b, NULL, 0);
	b.ev.nr = TRACE_NR_SIGNAL;
	b.ev.args[0] = SIGUSR1;
	add_item(&b, 0, TRACE_IT_SIGINFO, &si, TRACE_SIGINFO_SIZE, TRACE_SIGINFO_SIZE);
	LINE("12834 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=20655, si_uid=0} ---",
	     b);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSEGV;
	si.si_code = SEGV_MAPERR;
	si.si_addr = (void *)0x10;
	init_ev(&b, NULL, 0);
	b.ev.nr = TRACE_NR_SIGNAL;
	b.ev.args[0] = SIGSEGV;
	add_item(&b, 0, TRACE_IT_SIGINFO, &si, TRACE_SIGINFO_SIZE, TRACE_SIGINFO_SIZE);
	LINE("12834 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---", b);
	init_ev(&b, NULL, 0);
	b.ev.nr = TRACE_NR_EXIT;
	LINE("12834 +++ exited with 0 +++", b);
	b.ev.ret = 3 << 8;
	LINE("12834 +++ exited with 3 +++", b);
	b.ev.ret = SIGKILL;
	LINE("12834 +++ killed by SIGKILL +++", b);
	b.ev.ret = SIGSEGV | 0x80;
	LINE("12834 +++ killed by SIGSEGV (core dumped) +++", b);
}

static void test_decode_io(void **state)
{
	struct evbuf b;
	struct pollfd in[2] = {{3, POLLIN, 0}, {4, POLLIN | POLLOUT, 0}};
	struct pollfd out[2] = {{3, POLLIN, POLLIN}, {4, POLLIN | POLLOUT, POLLOUT}};
	struct iovec iov[2] = {{(void *)0x1000, 4}, {(void *)0x1004, 40}};
	uint64_t rd = 1 << 3, wr = 1 << 4, ts[2] = {0, 1000000}, left[2] = {0, 998177};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	struct termios tio = {.c_iflag = ICRNL | IXON,
			      .c_oflag = OPOST | ONLCR,
			      .c_cflag = B38400 | CS8 | CREAD,
			      .c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN | ECHOCTL |
					 ECHOKE};
	int32_t n = 3;

	init_ev(&b, "poll", 2);
	args(&b, 0x7ffd0000, 2, 0, 0, 0, 0);
	add_item(&b, 0, TRACE_CAP_MEM, in, sizeof(in), sizeof(in));
	OUT(&b, 0, TRACE_CAP_MEM, out, sizeof(out));
	LINE("12834 poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, 0) = 2 "
	     "([{fd=3, "
	     "revents=POLLIN}, {fd=4, revents=POLLOUT}])",
	     b);
	init_ev(&b, "readv", 19);
	args(&b, 3, 0x7ffd0000, 2, 0, 0, 0);
	OUT(&b, 1, TRACE_IT_IOV, iov, sizeof(iov));
	add_item(&b, 1, TRACE_IT_IOVDATA | TRACE_ITEM_EXIT, "worl", 4, 0);
	add_item(&b, 1, TRACE_IT_IOVDATA | TRACE_ITEM_EXIT, "d\nfirst second\n", 15, 1);
	LINE("12834 readv(3, [{iov_base=\"worl\", iov_len=4}, {iov_base=\"d\\nfirst second\\n\", "
	     "iov_len=40}], 2) = 19",
	     b);
	init_ev(&b, "pselect6", 2);
	args(&b, 5, 0x7ffd0000, 0x7ffd0080, 0, 0x7ffd0100, 0);
	IN(&b, 1, TRACE_CAP_MEM, &rd, sizeof(rd));
	OUT(&b, 1, TRACE_CAP_MEM, &rd, sizeof(rd));
	IN(&b, 2, TRACE_CAP_MEM, &wr, sizeof(wr));
	OUT(&b, 2, TRACE_CAP_MEM, &wr, sizeof(wr));
	IN(&b, 4, TRACE_CAP_MEM, ts, sizeof(ts));
	OUT(&b, 4, TRACE_CAP_MEM, left, sizeof(left));
	LINE("12834 pselect6(5, [3], [4], NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 2 (in [3], "
	     "out "
	     "[4], left {tv_sec=0, tv_nsec=998177})",
	     b);
	init_ev(&b, "pselect6", 0);
	args(&b, 5, 0x7ffd0000, 0, 0, 0x7ffd0100, 0);
	IN(&b, 1, TRACE_CAP_MEM, &wr, sizeof(wr));
	IN(&b, 4, TRACE_CAP_MEM, ts, sizeof(ts));
	LINE("12834 pselect6(5, [4], NULL, NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 0 (Timeout)",
	     b);
	init_ev(&b, "epoll_ctl", 0);
	args(&b, 5, EPOLL_CTL_ADD, 3, 0x7ffd0000, 0, 0);
	IN(&b, 3, TRACE_CAP_MEM, &ev, sizeof(ev));
	LINE("12834 epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=7, u64=7}}) = 0", b);
	init_ev(&b, "epoll_wait", 1);
	args(&b, 5, 0x7ffd0000, 4, 0, 0, 0);
	OUT(&b, 1, TRACE_CAP_MEM, &ev, sizeof(ev));
	LINE("12834 epoll_wait(5, [{events=EPOLLIN, data={u32=7, u64=7}}], 4, 0) = 1", b);
	init_ev(&b, "clock_nanosleep", 0);
	args(&b, CLOCK_MONOTONIC, 0, 0x7ffd0000, 0, 0, 0);
	IN(&b, 2, TRACE_CAP_MEM, ts, sizeof(ts));
	LINE("12834 clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000000}, NULL) = 0", b);
	/* the remainder only when a signal cut the sleep */
	init_ev(&b, "nanosleep", -516);
	args(&b, 0x7ffd0000, 0x7ffd0100, 0, 0, 0, 0);
	IN(&b, 0, TRACE_CAP_MEM, ts, sizeof(ts));
	OUT(&b, 1, TRACE_CAP_MEM, left, sizeof(left));
	LINE("12834 nanosleep({tv_sec=0, tv_nsec=1000000}, {tv_sec=0, tv_nsec=998177}) = ? "
	     "ERESTART_RESTARTBLOCK (Interrupted by signal)",
	     b);
	init_ev(&b, "ioctl", 0);
	args(&b, 4, TCGETS, 0x7ffd0000, 0, 0, 0);
	OUT(&b, 2, TRACE_CAP_IOCTL, &tio, 36);
	LINE("12834 ioctl(4, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|"
	     "ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|"
	     "ECHOKE, ...}) = 0",
	     b);
	init_ev(&b, "ioctl", -ENOTTY);
	args(&b, 1, TIOCGWINSZ, 0x7fff426e2750, 0, 0, 0);
	LINE("12834 ioctl(1, TIOCGWINSZ, 0x7fff426e2750) = -1 ENOTTY (Inappropriate ioctl for "
	     "device)",
	     b);
	init_ev(&b, "ioctl", 0);
	args(&b, 4, TIOCSWINSZ, 0x7ffd0000, 0, 0, 0);
	IN(&b, 2, TRACE_CAP_IOCTL, &ws, sizeof(ws));
	LINE("12834 ioctl(4, TIOCSWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0", b);
	init_ev(&b, "ioctl", 0);
	args(&b, 3, FIONREAD, 0x7ffd0000, 0, 0, 0);
	OUT(&b, 2, TRACE_CAP_IOCTL, &n, sizeof(n));
	LINE("12834 ioctl(3, FIONREAD, [3])           = 0", b);
	init_ev(&b, "ioctl", 0);
	args(&b, 3, FIOCLEX, 0, 0, 0, 0);
	LINE("12834 ioctl(3, FIOCLEX)                 = 0", b);
	init_ev(&b, "ioctl", 4);
	args(&b, 3, TIOCGPTPEER, 0x102, 0, 0, 0);
	LINE("12834 ioctl(3, TIOCGPTPEER, 0x102)      = 4", b);
}

static void test_decode_sockets(void **state)
{
	struct evbuf b;
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "wl.sock"};
	int32_t in_len = 110, out_len = 10, one = 1, fds[2] = {3, 4};
	struct iovec iov = {(void *)0x1000, 64};
	struct msghdr mh = {.msg_iov = (void *)0x2000, .msg_iovlen = 1, .msg_controllen = 24};
	struct {
		struct cmsghdr h;
		int fd;
		int pad;
	} cm = {{.cmsg_len = 20, .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS}, 5, 0};

	init_ev(&b, "getsockname", 0);
	args(&b, 3, 0x7ffd0000, 0x7ffd0100, 0, 0, 0);
	OUT(&b, 1, TRACE_CAP_MEM, &un, 10);
	IN(&b, 2, TRACE_CAP_MEM, &in_len, sizeof(in_len));
	OUT(&b, 2, TRACE_CAP_MEM, &out_len, sizeof(out_len));
	LINE("12834 getsockname(3, {sa_family=AF_UNIX, sun_path=\"wl.sock\"}, [110 => 10]) = 0", b);
	init_ev(&b, "setsockopt", 0);
	args(&b, 3, SOL_SOCKET, SO_REUSEADDR, 0x7ffd0000, 4, 0);
	IN(&b, 3, TRACE_CAP_MEM, &one, sizeof(one));
	LINE("12834 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0", b);
	init_ev(&b, "setsockopt", 0);
	args(&b, 3, IPPROTO_TCP, TCP_NODELAY, 0x7ffd0000, 4, 0);
	IN(&b, 3, TRACE_CAP_MEM, &one, sizeof(one));
	LINE("12834 setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4) = 0", b);
	init_ev(&b, "socketpair", 0);
	args(&b, AF_UNIX, SOCK_STREAM, 0, 0x7ffd0000, 0, 0);
	OUT(&b, 3, TRACE_CAP_MEM, fds, sizeof(fds));
	LINE("12834 socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0", b);
	init_ev(&b, "recvmsg", 1);
	args(&b, 4, 0x7ffd0000, MSG_CMSG_CLOEXEC, 0, 0, 0);
	mh.msg_flags = MSG_CMSG_CLOEXEC;
	OUT(&b, 1, TRACE_IT_MSGHDR, &mh, sizeof(mh));
	OUT(&b, 1, TRACE_IT_IOV, &iov, sizeof(iov));
	add_item(&b, 1, TRACE_IT_IOVDATA | TRACE_ITEM_EXIT, "F", 1, 0);
	add_item(&b, 1, TRACE_IT_MSGCTRL | TRACE_ITEM_EXIT, &cm, sizeof(cm), 24);
	LINE("12834 recvmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"F\", "
	     "iov_len=64}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, "
	     "cmsg_type=SCM_RIGHTS, cmsg_data=[5]}], msg_controllen=24, "
	     "msg_flags=MSG_CMSG_CLOEXEC}, "
	     "MSG_CMSG_CLOEXEC) = 1",
	     b);
}

/* An fd item as the kernel side makes it: the info, then names leaf first. */
static void add_fd(struct evbuf *b, int arg, int fd, const struct ctw_trace_fdinfo *fi,
		   const void *rest, size_t rlen)
{
	uint8_t data[512];

	memcpy(data, fi, sizeof(*fi));
	if (rlen)
		memcpy(data + sizeof(*fi), rest, rlen);
	add_item(b, arg, TRACE_IT_FD, data, sizeof(*fi) + rlen, (uint32_t)fd);
}

static void test_decode_fds(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32, .prefix = CTW_PFX_FILE, .decode_fds = 1};
	struct ctw_trace_fdinfo path = {.type = TRACE_FD_PATH, .mode = S_IFREG};
	struct ctw_trace_fdinfo pipe = {.type = TRACE_FD_PIPE, .ino = 2843373};
	struct ctw_trace_fdinfo tcp = {.type = TRACE_FD_SOCKET,
				       .family = AF_INET,
				       .sock_type = SOCK_STREAM,
				       .protocol = IPPROTO_TCP,
				       .sport = 60680,
				       .dport = 38507,
				       .ino = 2843401,
				       .saddr = {127, 0, 0, 1},
				       .daddr = {127, 0, 0, 1}};
	struct ctw_trace_fdinfo un = {.type = TRACE_FD_SOCKET,
				      .family = AF_UNIX,
				      .sock_type = SOCK_STREAM,
				      .ino = 2843439,
				      .peer_ino = 2843440};
	struct ctw_trace_fdinfo dev = {
		.type = TRACE_FD_PATH, .mode = S_IFCHR, .rdev = (1 << 20) | 3};
	struct ctw_trace_fdinfo anon = {.type = TRACE_FD_ANON};
	struct evbuf b;

#define FDLINE(expected) \
	CHECK(expected "\n", ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"))
	init_ev(&b, "openat", 3);
	args(&b, (uint64_t)(int64_t)AT_FDCWD, 0x4a0000, O_RDONLY, 0, 0, 0);
	IN(&b, 1, TRACE_CAP_STR, "/etc/passwd", 12);
	add_fd(&b, 0, AT_FDCWD, &path, "wl\0tmp", 7);
	add_fd(&b, TRACE_NARGS, 3, &path, "passwd\0etc", 11);
	FDLINE("12834 openat(AT_FDCWD</tmp/wl>, \"/etc/passwd\", O_RDONLY) = 3</etc/passwd>");
	/* -y without the kernel's answer: just the number */
	init_ev(&b, "close", 0);
	args(&b, 3, 0, 0, 0, 0, 0);
	FDLINE("12834 close(3)                          = 0");
	add_fd(&b, 0, 3, &pipe, NULL, 0);
	FDLINE("12834 close(3<pipe:[2843373]>)          = 0");
	init_ev(&b, "write", 2);
	args(&b, 4, 0x1000, 2, 0, 0, 0);
	add_item(&b, 1, TRACE_CAP_MEM, "hi", 2, 2);
	add_fd(&b, 0, 4, &tcp, NULL, 0);
	FDLINE("12834 write(4<socket:[2843401]>, \"hi\", 2) = 2");
	f.decode_fds = 2;
	FDLINE("12834 write(4<TCP:[127.0.0.1:60680->127.0.0.1:38507]>, \"hi\", 2) = 2");
	init_ev(&b, "socketpair", 0);
	args(&b, AF_UNIX, SOCK_STREAM, 0, 0x7ffd0000, 0, 0);
	{
		int32_t fds[2] = {3, 4};

		OUT(&b, 3, TRACE_CAP_MEM, fds, sizeof(fds));
	}
	add_fd(&b, 3, 3, &un, NULL, 0);
	un.ino = 2843440;
	un.peer_ino = 2843439;
	add_fd(&b, 3, 4, &un, NULL, 0);
	FDLINE("12834 socketpair(AF_UNIX, SOCK_STREAM, 0, [3<UNIX-STREAM:[2843439->2843440]>, "
	       "4<UNIX-STREAM:[2843440->2843439]>]) = 0");
	un.sock_type = SOCK_DGRAM;
	un.peer_ino = 0;
	init_ev(&b, "close", 0);
	args(&b, 3, 0, 0, 0, 0, 0);
	add_fd(&b, 0, 3, &un, "\0ctw-abstract", 13);
	FDLINE("12834 close(3<UNIX:[2843440,@\"ctw-abstract\"]>) = 0");
	init_ev(&b, "write", 0);
	args(&b, 1, 0x1000, 0, 0, 0, 0);
	add_item(&b, 1, TRACE_CAP_MEM, "", 0, 0);
	add_fd(&b, 0, 1, &dev, "null\0dev", 9);
	FDLINE("12834 write(1</dev/null<char 1:3>>, \"\", 0) = 0");
	init_ev(&b, "eventfd2", 3);
	add_fd(&b, TRACE_NARGS, 3, &anon, "[eventfd]", 10);
	FDLINE("12834 eventfd2(0, 0)                    = 3<anon_inode:[eventfd]>");
	/* a returned fd is shown only when the call returns one */
	init_ev(&b, "fcntl", 0);
	args(&b, 3, F_SETFD, 0, 0, 0, 0);
	add_fd(&b, TRACE_NARGS, 0, &anon, "[eventfd]", 10);
	FDLINE("12834 fcntl(3, F_SETFD, 0)              = 0");
	/* JSON: an fd stays a number */
	f.json = true;
	init_ev(&b, "close", 0);
	args(&b, 3, 0, 0, 0, 0, 0);
	add_fd(&b, 0, 3, &pipe, NULL, 0);
	{
		json_error_t jerr;
		json_t *j;

		ctw_outbuf_reset(&ob);
		ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c");
		j = json_loads(ctw_outbuf_str(&ob), 0, &jerr);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "args"), 0)),
				 3);
		json_decref(j);
	}
	f.json = false;
	/* truncated or lying items stay inside what was captured */
	init_ev(&b, "close", 0);
	args(&b, 5, 0, 0, 0, 0, 0);
	add_item(&b, 0, TRACE_IT_FD, &path, 10, 5);
	FDLINE("12834 close(5)                          = 0");
#undef FDLINE
}

/* ---- recordings of the real kernel side, against strace ---- */

struct lines {
	char **v;
	size_t n;
};

static void lines_add(struct lines *l, const char *s)
{
	char *t = strdup(s);
	char *p, *q;

	assert_non_null(t);
	/* the padding before " = " differs once strace's halves are joined */
	for (p = strstr(t, ")  "); p; p = strstr(p + 1, ")  ")) {
		for (q = p + 1; *q == ' '; q++)
			;
		if (*q == '=')
			memmove(p + 2, q, strlen(q) + 1);
	}
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	assert_non_null(l->v);
	l->v[l->n++] = t;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* strace -f -o's lines, "<unfinished ...>" joined with "<... resumed>", the
 * launcher's own lines (the first process before its second execve) left
 * out: what ctrwatch trace --from-exec saw of the same run. */
static void read_strace(const char *path, struct lines *out)
{
	char line[8192], pend[64][4096];
	long pend_pid[64] = {0};
	long first = 0;
	int execs = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *text, buf[8192];
		long pid = strtol(line, &text, 10);
		size_t n = strcspn(text, "\n");
		int slot = -1;

		text[n] = '\0';
		while (*text == ' ')
			text++;
		if (!first)
			first = pid;
		if (pid == first && execs < 2) {
			if (!strncmp(text, "execve(", 7))
				execs++;
			if (execs < 2)
				continue;
		}
		n = strlen(text);
		if (n > 17 && !strcmp(text + n - 17, " <unfinished ...>")) {
			for (int i = 0; i < 64 && slot < 0; i++)
				if (!pend_pid[i] || pend_pid[i] == pid)
					slot = i;
			assert_true(slot >= 0);
			pend_pid[slot] = pid;
			snprintf(pend[slot], sizeof(pend[slot]), "%.*s", (int)(n - 17), text);
			continue;
		}
		if (!strncmp(text, "<... ", 5) && strstr(text, " resumed>")) {
			for (int i = 0; i < 64; i++)
				if (pend_pid[i] == pid)
					slot = i;
			assert_true(slot >= 0);
			snprintf(buf, sizeof(buf), "%ld %s%s", pid, pend[slot],
				 strstr(text, " resumed>") + 9);
			pend_pid[slot] = 0;
		} else {
			snprintf(buf, sizeof(buf), "%ld %s", pid, text);
		}
		lines_add(out, buf);
	}
	fclose(f);
}

/* Decode NAME.rec and find each line in NAME.strace: at least min of them,
 * in all, identical. */
static void check_recording(const char *name, unsigned strsize, int decode_fds, double min)
{
	struct ctw_trace_fmt f = {
		.strsize = strsize, .prefix = CTW_PFX_FILE, .decode_fds = decode_fds};
	struct lines want = {0}, got = {0};
	struct ctw_err err = {0};
	char path[256], line[8192];
	size_t matched = 0, shown = 0;
	int fd = memfd_create("replay", 0);
	FILE *out;

	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "tests/unit/trace/%s.rec", name);
	assert_int_equal(ctw_trace_replay(path, &f, NULL, fd, "", &err), 0);
	lseek(fd, 0, SEEK_SET);
	out = fdopen(fd, "r");
	assert_non_null(out);
	while (fgets(line, sizeof(line), out)) {
		char *p = line;

		line[strcspn(line, "\n")] = '\0';
		/* "PID   text" as strace -o writes it, one space here */
		while (*p && *p != ' ')
			p++;
		while (p[0] == ' ' && p[1] == ' ')
			memmove(p, p + 1, strlen(p));
		lines_add(&got, line);
	}
	fclose(out);
	snprintf(path, sizeof(path), "tests/unit/trace/%s.strace", name);
	read_strace(path, &want);
	for (size_t i = 0; i < got.n; i++) {
		size_t j;

		for (j = 0; j < want.n; j++)
			if (want.v[j] && !strcmp(want.v[j], got.v[i]))
				break;
		if (j < want.n) {
			free(want.v[j]);
			want.v[j] = NULL;
			matched++;
		} else if (shown++ < 10) {
			print_message("%s: only decoded: %s\n", name, got.v[i]);
		}
	}
	print_message("%s: %zu of %zu lines decoded from the kernel's records are strace's "
		      "(%zu strace lines)\n",
		      name, matched, got.n, want.n);
	assert_true(got.n > 100);
	assert_true(matched >= min * (got.n > want.n ? got.n : want.n));
	lines_free(&want);
	lines_free(&got);
}

static void test_recordings(void **state)
{
	/* the same run, under strace and ctrwatch: every decoder on the
	 * kernel side's real records, line for line */
	check_recording("syscalls", 32, 0, 1.0);
	check_recording("syscalls-yy", 32, 2, 0.98);
	/* -s 1: one byte of each string, one element of each array */
	check_recording("syscalls-s1", 1, 0, 1.0);
}

static void test_replay_errors(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32};
	struct ctw_err err = {0};
	char path[] = "/tmp/ctw-test-replay-XXXXXX";
	int fd = mkstemp(path);
	static const char bad_version[24] = "CTWTRACE\x09";
	static const char cut[] = "CTWTRACE\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\xff\0\0";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a recording", 15), 15);
	assert_int_equal(ctw_trace_replay(path, &f, NULL, -1, "", &err), -EINVAL);
	assert_true(strstr(err.msg, "is not a ctrwatch trace recording") != NULL);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, bad_version, sizeof(bad_version), 0), sizeof(bad_version));
	assert_int_equal(ctw_trace_replay(path, &f, NULL, -1, "", &err), -EINVAL);
	assert_true(strstr(err.msg, "recording version 9") != NULL);
	assert_int_equal(pwrite(fd, cut, sizeof(cut) - 1, 0), sizeof(cut) - 1);
	assert_int_equal(ctw_trace_replay(path, &f, NULL, -1, "", &err), -EINVAL);
	assert_true(strstr(err.msg, "cut short") != NULL);
	close(fd);
	unlink(path);
	assert_true(ctw_trace_replay("/nonexistent-ctw", &f, NULL, -1, "", &err) < 0);
}

/* Replay syscalls.rec with -e EXPR; the lines, one string. */
static char *replay_with(const char *expr)
{
	struct ctw_trace_fmt f = {.strsize = 32, .prefix = CTW_PFX_FILE};
	struct ctw_trace_select sel;
	struct ctw_err err = {0};
	int fd = memfd_create("replay-sel", 0);
	char *text;
	off_t n;

	assert_true(fd >= 0);
	ctw_trace_select_init(&sel);
	assert_int_equal(ctw_trace_parse_expr(&sel, expr, &err), 0);
	assert_int_equal(ctw_trace_replay("tests/unit/trace/syscalls.rec", &f, &sel, fd, "", &err),
			 0);
	ctw_trace_select_fini(&sel);
	n = lseek(fd, 0, SEEK_END);
	assert_true(n > 0);
	text = xcalloc(1, n + 1);
	assert_int_equal(pread(fd, text, n, 0), n);
	close(fd);
	return text;
}

/* how many lines of text match the extended regex re */
static int count_lines(const char *text, const char *re)
{
	regex_t rx;
	int n = 0;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		char *line = strndup(l, nl ? (size_t)(nl - l) : strlen(l));

		n += !regexec(&rx, line, 0, NULL, 0);
		free(line);
		l = nl ? nl + 1 : l + strlen(l);
	}
	regfree(&rx);
	return n;
}

static void test_replay_select(void **state)
{
	/* --replay applies -e as the kernel side does while tracing */
	_cleanup_free_ char *all = replay_with("signal=all");
	_cleanup_free_ char *failed = replay_with("status=failed");
	_cleanup_free_ char *nosig = replay_with("signal=!SIGCHLD");
	_cleanup_free_ char *noexit = replay_with("quiet=exit");
	_cleanup_free_ char *nosigs = replay_with("signal=none");
	_cleanup_free_ char *opens = replay_with("trace=openat,close");
	const char *call = "^[0-9]+ +[a-z_0-9]+\\(";

	assert_true(count_lines(all, call) > 200);
	assert_true(count_lines(all, " --- SIGCHLD ") > 0);
	assert_true(count_lines(all, " \\+\\+\\+ ") > 0);
	/* failed: only calls that returned an error */
	assert_true(count_lines(failed, call) > 5);
	assert_int_equal(count_lines(failed, call), count_lines(failed, "\\) += (-1|\\?) E"));
	assert_int_equal(count_lines(nosig, " --- SIGCHLD "), 0);
	assert_true(count_lines(nosig, " --- SIGUSR1 ") > 0);
	/* quiet=exit: no "exited with" lines; "killed by" ones stay, as in strace */
	assert_int_equal(count_lines(noexit, " \\+\\+\\+ exited "), 0);
	assert_true(count_lines(noexit, " \\+\\+\\+ killed by SIGKILL ") > 0);
	/* signal=!SIGCHLD keeps the others' "killed by"; signal=none drops them */
	assert_true(count_lines(nosig, " \\+\\+\\+ killed by SIGKILL ") > 0);
	assert_int_equal(count_lines(nosigs, " \\+\\+\\+ killed by "), 0);
	assert_true(count_lines(nosigs, " \\+\\+\\+ exited with 3 ") > 0);
	assert_true(count_lines(opens, call) > 10);
	assert_int_equal(count_lines(opens, call),
			 count_lines(opens, "^[0-9]+ +(openat|close)\\("));
	(void)state;
}

static void test_select_exprs(void **state)
{
	struct ctw_trace_select sel;
	struct ctw_err err = {0};

	ctw_trace_select_init(&sel);
	assert_int_equal(sel.signals, ~0ull);
	assert_int_equal(sel.status, CTW_STATUS_ALL);
	assert_int_equal(ctw_trace_parse_expr(&sel, "signal=SIGCHLD,TERM", &err), 0);
	assert_int_equal(sel.signals, (1ull << (SIGCHLD - 1)) | (1ull << (SIGTERM - 1)));
	assert_int_equal(ctw_trace_parse_expr(&sel, "signal=!SIGCHLD", &err), 0);
	assert_int_equal(sel.signals, ~(1ull << (SIGCHLD - 1)));
	assert_int_equal(ctw_trace_parse_expr(&sel, "signal=none", &err), 0);
	assert_int_equal(sel.signals, 0);
	assert_int_equal(ctw_trace_parse_expr(&sel, "status=failed", &err), 0);
	assert_int_equal(sel.status, CTW_STATUS_FAILED);
	assert_int_equal(ctw_trace_parse_expr(&sel, "status=!failed", &err), 0);
	assert_int_equal(sel.status, CTW_STATUS_SUCCESSFUL | CTW_STATUS_UNFINISHED);
	assert_int_equal(ctw_trace_parse_expr(&sel, "quiet=exit", &err), 0);
	assert_int_equal(sel.quiet, CTW_QUIET_EXIT);
	assert_int_equal(ctw_trace_parse_expr(&sel, "%file", &err), 0);
	assert_string_equal(sel.filter, "%file");
	assert_int_equal(ctw_trace_parse_expr(&sel, "trace=openat,close", &err), 0);
	assert_string_equal(sel.filter, "openat,close");
	assert_int_equal(ctw_trace_parse_expr(&sel, "signal=SIGBOGUS", &err), -EINVAL);
	assert_string_equal(err.msg, "invalid signal 'SIGBOGUS'");
	assert_int_equal(ctw_trace_parse_expr(&sel, "status=weird", &err), -EINVAL);
	assert_int_equal(ctw_trace_parse_expr(&sel, "verbose=all", &err), -EINVAL);
	assert_int_equal(ctw_trace_parse_expr(&sel, "trace=nosuchcall", &err), -EINVAL);
	ctw_trace_select_fini(&sel);
}

static void test_args(void **state)
{
	char *argv[] = {"-fftt", "-s64",   "-e", "trace=%file", "--signal=none", "-qq", "-Z",
			"-o",	 "/tmp/x", "--", "busybox",	"true",		 NULL};
	char *bad1[] = {"-X", NULL}, *bad2[] = {"--nope", NULL}, *bad3[] = {"-s", NULL};
	char *first[] = {"-T", "web", "-c", NULL};
	struct ctw_trace_args a;
	struct ctw_err err = {0};

	ctw_trace_args_init(&a);
	assert_int_equal(ctw_trace_parse_args(&a, 12, argv, &err), 10);
	assert_true(a.dashdash);
	assert_int_equal(a.follow_forks, 2);
	assert_int_equal(a.o.timestamps, 2);
	assert_int_equal(a.o.strsize, 64);
	assert_string_equal(a.sel.filter, "%file");
	assert_int_equal(a.sel.signals, 0);
	assert_int_equal(a.sel.quiet, CTW_QUIET_ATTACH | CTW_QUIET_EXIT);
	assert_int_equal(a.sel.status, CTW_STATUS_FAILED);
	assert_int_equal(ctw_trace_args_finish(&a, &err), 0);
	assert_string_equal(a.o.ff_prefix, "/tmp/x");
	assert_true(a.o.quiet_exit);
	ctw_trace_args_fini(&a);

	/* stops at the first target */
	ctw_trace_args_init(&a);
	assert_int_equal(ctw_trace_parse_args(&a, 3, first, &err), 1);
	assert_false(a.dashdash);
	assert_int_equal(ctw_trace_args_finish(&a, &err), 0);
	assert_int_equal(a.o.prefix, CTW_PFX_BRACKET);
	ctw_trace_args_fini(&a);

	ctw_trace_args_init(&a);
	assert_true(ctw_trace_parse_args(&a, 1, bad1, &err) < 0);
	assert_string_equal(err.msg, "unknown option '-X'");
	assert_true(ctw_trace_parse_args(&a, 1, bad2, &err) < 0);
	assert_true(ctw_trace_parse_args(&a, 1, bad3, &err) < 0);
	assert_string_equal(err.msg, "-s needs a value");
	/* -ff without -o */
	a.follow_forks = 2;
	assert_true(ctw_trace_args_finish(&a, &err) < 0);
	ctw_trace_args_fini(&a);
}

static void test_table_and_filter(void **state)
{
	bool sel[TRACE_NR_MAX];
	struct ctw_err err = {0};
	struct ctw_trace_spec spec;
	int openat_nr = ctw_trace_syscall_nr("openat");
	int connect_nr = ctw_trace_syscall_nr("connect");
	int getpid_nr = ctw_trace_syscall_nr("getpid");
	int write_nr = ctw_trace_syscall_nr("write");

	assert_int_equal(openat_nr, 257);
	assert_string_equal(ctw_trace_syscall_name(0), "read");
	assert_null(ctw_trace_syscall_name(-1));
	assert_int_equal(ctw_trace_syscall_nr("no_such_call"), -1);
	assert_true(ctw_trace_syscall_classes(openat_nr) & CTW_TC_FILE);
	assert_true(ctw_trace_syscall_classes(connect_nr) & CTW_TC_NETWORK);

	ctw_trace_syscall_spec(openat_nr, &spec);
	assert_int_equal(spec.arg[1].cap, TRACE_CAP_STR);
	assert_int_equal(spec.arg[0].cap, TRACE_CAP_NONE);
	assert_true(spec.flags & TRACE_SPEC_CAP_ENTER);
	assert_false(spec.flags & TRACE_SPEC_CAP_EXIT);
	ctw_trace_syscall_spec(connect_nr, &spec);
	assert_int_equal(spec.arg[1].cap, TRACE_CAP_MEM);
	assert_int_equal(spec.arg[1].when, TRACE_AT_ENTER);
	assert_int_equal(spec.arg[1].len, TRACE_LEN_ARG(2));
	/* struct stat is copied when the call returns */
	ctw_trace_syscall_spec(ctw_trace_syscall_nr("newfstatat"), &spec);
	assert_int_equal(spec.arg[2].cap, TRACE_CAP_MEM);
	assert_int_equal(spec.arg[2].when, TRACE_AT_EXIT);
	assert_int_equal(spec.arg[2].max, 144);
	assert_true(spec.flags & TRACE_SPEC_CAP_EXIT);
	/* getsockname: the address as long as the kernel says */
	ctw_trace_syscall_spec(ctw_trace_syscall_nr("getsockname"), &spec);
	assert_int_equal(spec.arg[1].len, TRACE_LEN_DEREF(2));
	/* read data is cut at -s in the kernel already */
	ctw_trace_syscall_spec(0, &spec);
	assert_int_equal(spec.arg[1].len, TRACE_LEN_RET);
	assert_true(spec.arg[1].flags & TRACE_ARG_DATA);
	ctw_trace_syscall_spec(ctw_trace_syscall_nr("execve"), &spec);
	assert_true(spec.flags & TRACE_SPEC_EXEC);
	ctw_trace_syscall_spec(ctw_trace_syscall_nr("exit_group"), &spec);
	assert_true(spec.flags & TRACE_SPEC_NORETURN);

	assert_int_equal(ctw_trace_parse_filter("trace=%file,connect", sel, &err), 0);
	assert_true(sel[openat_nr]);
	assert_true(sel[connect_nr]);
	assert_false(sel[getpid_nr]);
	assert_false(sel[write_nr]);
	assert_int_equal(ctw_trace_parse_filter("!write", sel, &err), 0);
	assert_false(sel[write_nr]);
	assert_true(sel[getpid_nr]);
	assert_int_equal(ctw_trace_parse_filter("network", sel, &err), 0);
	assert_true(sel[connect_nr]);
	assert_false(sel[openat_nr]);
	assert_int_equal(ctw_trace_parse_filter(NULL, sel, &err), 0);
	assert_true(sel[getpid_nr]);
	assert_int_equal(ctw_trace_parse_filter("openat,bogus", sel, &err), -EINVAL);
	assert_string_equal(err.msg, "invalid system call 'bogus'");
	assert_int_equal(ctw_trace_parse_filter("%nope", sel, &err), -EINVAL);
}

static void test_summary(void **state)
{
	struct ctw_trace_stat st[TRACE_NR_MAX] = {0};
	const char *expected =
		"% time     seconds  usecs/call     calls    errors syscall\n"
		"------ ----------- ----------- --------- --------- ----------------\n"
		" 75.00    0.000300         100         3         1 openat\n"
		" 25.00    0.000100          10        10           read\n"
		"------ ----------- ----------- --------- --------- ----------------\n"
		"100.00    0.000400          30        13         1 total\n";

	st[ctw_trace_syscall_nr("openat")] = (struct ctw_trace_stat){3, 1, 300000};
	st[ctw_trace_syscall_nr("read")] = (struct ctw_trace_stat){10, 0, 100000};
	/* never listed: it does not return */
	st[ctw_trace_syscall_nr("exit_group")] = (struct ctw_trace_stat){1, 0, 0};
	CHECK(expected, ctw_trace_print_summary(&ob, st));
}

static void test_seccomp_profile(void **state)
{
	char path[] = "/tmp/ctw-test-seccomp-XXXXXX";
	bool used[TRACE_NR_MAX] = {false};
	struct ctw_err err = {0};
	json_error_t jerr;
	json_t *j, *names;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	used[ctw_trace_syscall_nr("read")] = true;
	used[ctw_trace_syscall_nr("exit_group")] = true;
	used[ctw_trace_syscall_nr("openat")] = true;
	assert_int_equal(ctw_trace_write_seccomp_profile(path, used, &err), 0);
	j = json_load_file(path, 0, &jerr);
	unlink(path);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "defaultAction")),
			    "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(j, "defaultErrnoRet")), EPERM);
	names = json_object_get(json_array_get(json_object_get(j, "syscalls"), 0), "names");
	assert_int_equal(json_array_size(names), 3);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "read");
	/* in syscall-number order */
	assert_string_equal(json_string_value(json_array_get(names, 1)), "exit_group");
	assert_string_equal(json_string_value(json_array_get(names, 2)), "openat");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "syscalls"), 0), "action")),
			    "SCMP_ACT_ALLOW");
	json_decref(j);
	assert_true(ctw_trace_write_seccomp_profile("/nonexistent-dir/x.json", used, &err) < 0);
}

static void test_outbuf_flush(void **state)
{
	char path[] = "/tmp/ctw-test-outbuf-XXXXXX";
	struct ctw_outbuf o;
	char buf[64] = "";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	ctw_outbuf_init(&o, fd, 16);
	/* more than the buffer holds goes through in order */
	for (int i = 0; i < 10; i++)
		ctw_outbuf_printf(&o, "%d,", i);
	ctw_outbuf_puts(&o, "end");
	ctw_outbuf_fini(&o);
	assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	close(fd);
	unlink(path);
	assert_string_equal(buf, "0,1,2,3,4,5,6,7,8,9,end");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flags),
		cmocka_unit_test(test_at_mmap_socket_flags),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_ret_errno),
		cmocka_unit_test(test_line_layout),
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_event_sockaddr_and_json),
		cmocka_unit_test(test_malformed_payload),
		cmocka_unit_test(test_decode_files),
		cmocka_unit_test(test_decode_processes),
		cmocka_unit_test(test_decode_signals),
		cmocka_unit_test(test_decode_io),
		cmocka_unit_test(test_decode_sockets),
		cmocka_unit_test(test_decode_fds),
		cmocka_unit_test(test_recordings),
		cmocka_unit_test(test_replay_errors),
		cmocka_unit_test(test_replay_select),
		cmocka_unit_test(test_select_exprs),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_table_and_filter),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_seccomp_profile),
		cmocka_unit_test(test_outbuf_flush),
	};

	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
