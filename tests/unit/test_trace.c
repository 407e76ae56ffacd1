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
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>
#include <jansson.h>

#include "../../trace/trace.h"

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
	CHECK("SIGRTMIN", ctw_trace_format_signal(&ob, SIGRTMIN));
	CHECK("SIGRT_3", ctw_trace_format_signal(&ob, SIGRTMIN + 3));
	CHECK("0", ctw_trace_format_signal(&ob, 0));
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
	CHECK("{sa_family=AF_INET, ...}", ctw_trace_format_sockaddr(&ob, &in, 4));
	CHECK("{}", ctw_trace_format_sockaddr(&ob, &in, 1));
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
	uint8_t payload[1024];
};

static void add_item(struct evbuf *b, uint8_t arg, uint8_t kind, const void *data, uint16_t len,
		     uint32_t full)
{
	struct ctw_trace_item it = {.arg = arg, .kind = kind, .len = len, .full_len = full};
	size_t off = b->ev.payload_len;

	memcpy(b->payload + off, &it, sizeof(it));
	memcpy(b->payload + off + sizeof(it), data, len);
	b->ev.payload_len = off + sizeof(it) + ((len + 7u) & ~7u);
}

static void init_ev(struct evbuf *b, const char *syscall, int64_t ret)
{
	memset(b, 0, sizeof(*b));
	b->ev.nr = ctw_trace_syscall_nr(syscall);
	b->ev.pid = b->ev.tid = 1234;
	b->ev.ret = ret;
	b->ev.duration_ns = 12345;
	b->ev.ts_ns = 1000;
	strcpy(b->ev.comm, "sh");
}

static void test_event_lines(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32};
	struct evbuf b;
	static const char argv[] = "ls\0-l\0/tmp";

	init_ev(&b, "openat", 3);
	b.ev.args[0] = (uint64_t)(int64_t)AT_FDCWD;
	b.ev.args[2] = O_RDONLY | O_CLOEXEC;
	add_item(&b, 1, TRACE_CAP_STR, "/etc/hostname", 14, 14);
	CHECK("[web] 1234 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	f.durations = true;
	CHECK("[web] 1234 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3 <0.000012>\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));
	f.durations = false;

	/* O_CREAT brings the mode argument */
	init_ev(&b, "openat", -ENOENT);
	b.ev.args[0] = 5;
	b.ev.args[2] = O_WRONLY | O_CREAT | O_TRUNC;
	b.ev.args[3] = 0644;
	add_item(&b, 1, TRACE_CAP_STR, "x/y", 4, 4);
	CHECK("[web] 1234 openat(5, \"x/y\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (No such "
	      "file or directory)\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "web"));

	init_ev(&b, "execve", 0);
	b.ev.args[0] = 0x1000;
	b.ev.args[2] = 0x7ffc00;
	add_item(&b, 0, TRACE_CAP_STR, "/bin/ls", 8, 8);
	add_item(&b, 1, TRACE_CAP_ARGV, argv, sizeof(argv), 3);
	CHECK("[c] 1234 execve(\"/bin/ls\", [\"ls\", \"-l\", \"/tmp\"], 0x7ffc00) = 0\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));

	init_ev(&b, "write", 11);
	b.ev.args[0] = 1;
	b.ev.args[2] = 11;
	add_item(&b, 1, TRACE_CAP_BUF_IN, "hello\nworld", 11, 11);
	f.strsize = 5;
	CHECK("[c] 1234 write(1, \"hello\"..., 11) = 11\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
	f.strsize = 32;

	/* a read that failed shows the buffer's address, not data */
	init_ev(&b, "read", -EAGAIN);
	b.ev.args[0] = 4;
	b.ev.args[1] = 0xabc0;
	b.ev.args[2] = 100;
	CHECK("[c] 1234 read(4, 0xabc0, 100) = -1 EAGAIN (Resource temporarily unavailable)\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));

	init_ev(&b, "mmap", 0x7f0000000000);
	b.ev.args[1] = 8192;
	b.ev.args[2] = PROT_READ | PROT_WRITE;
	b.ev.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
	b.ev.args[4] = (uint64_t)-1;
	CHECK("[c] 1234 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
	      "0x7f0000000000\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));

	init_ev(&b, "kill", 0);
	b.ev.args[0] = 42;
	b.ev.args[1] = SIGTERM;
	CHECK("[c] 1234 kill(42, SIGTERM) = 0\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));

	init_ev(&b, "socket", 3);
	b.ev.args[0] = AF_INET;
	b.ev.args[1] = SOCK_STREAM | SOCK_CLOEXEC;
	CHECK("[c] 1234 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));

	init_ev(&b, "exit_group", 0);
	b.ev.args[0] = 2;
	b.ev.flags = TRACE_EV_NORETURN;
	CHECK("[c] 1234 exit_group(2) = ?\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));

	init_ev(&b, "fcntl", 1);
	b.ev.args[0] = 3;
	b.ev.args[1] = F_GETFD;
	CHECK("[c] 1234 fcntl(3, F_GETFD) = 1\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
}

static void test_event_sockaddr_and_json(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32};
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(19500)};
	struct evbuf b;
	json_t *j;
	json_error_t jerr;

	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	init_ev(&b, "connect", -ECONNREFUSED);
	b.ev.args[0] = 3;
	b.ev.args[2] = sizeof(in);
	add_item(&b, 1, TRACE_CAP_SOCKADDR_IN, &in, sizeof(in), sizeof(in));
	CHECK("[db] 1234 connect(3, {sa_family=AF_INET, sin_port=htons(19500), "
	      "sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused)\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "db"));

	f.json = true;
	ctw_outbuf_reset(&ob);
	ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "db\"x");
	j = json_loads(ctw_outbuf_str(&ob), 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "container")), "db\"x");
	assert_string_equal(json_string_value(json_object_get(j, "syscall")), "connect");
	assert_string_equal(json_string_value(json_object_get(j, "errno")), "ECONNREFUSED");
	assert_int_equal(json_integer_value(json_object_get(j, "ret")), -1);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 1234);
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
}

static void test_malformed_payload(void **state)
{
	struct ctw_trace_fmt f = {.strsize = 32};
	struct evbuf b;
	struct ctw_trace_item it = {.arg = 1, .kind = TRACE_CAP_STR, .len = 900};

	/* an item claiming more data than the payload holds is ignored */
	init_ev(&b, "openat", 3);
	b.ev.args[1] = 0x5000;
	memcpy(b.payload, &it, sizeof(it));
	b.ev.payload_len = 16;
	CHECK("[c] 1234 openat(0, 0x5000, O_RDONLY) = 3\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
	/* unknown syscall numbers still print, with their raw arguments */
	init_ev(&b, "openat", 0);
	b.ev.nr = 499;
	b.ev.args[1] = 0x10;
	CHECK("[c] 1234 syscall_499(0, 0x10, 0, 0, 0, 0) = 0\n",
	      ctw_trace_format_event(&ob, &f, &b.ev, b.payload, "c"));
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
	assert_int_equal(spec.kind[1], TRACE_CAP_STR);
	assert_int_equal(spec.kind[0], TRACE_CAP_NONE);
	ctw_trace_syscall_spec(connect_nr, &spec);
	assert_int_equal(spec.kind[1], TRACE_CAP_SOCKADDR_IN);
	assert_int_equal(spec.lenarg[1], 2);
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
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_event_sockaddr_and_json),
		cmocka_unit_test(test_malformed_payload),
		cmocka_unit_test(test_table_and_filter),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_seccomp_profile),
		cmocka_unit_test(test_outbuf_flush),
	};

	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
