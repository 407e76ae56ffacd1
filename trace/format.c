// SPDX-License-Identifier: Apache-2.0
/*
 * strace-style rendering of trace events: symbolic flags, quoted strings cut
 * at -s N, sockaddrs, errno names; and the same data as JSON lines.
 *
 * This runs once per event at up to millions of events per second, so it
 * appends to a plain buffer with hand-rolled number formatting and calls
 * printf only for the rare cases (timestamps, unknown bits).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "internal.h"

/* ---- the output buffer ---- */

void ctw_outbuf_init(struct ctw_outbuf *o, int fd, size_t cap)
{
	o->cap = cap < 4096 ? 4096 : cap;
	o->buf = xmalloc(o->cap);
	o->len = 0;
	o->fd = fd;
	o->error = 0;
}

int ctw_outbuf_flush(struct ctw_outbuf *o)
{
	size_t off = 0;

	if (o->fd < 0)
		return 0;
	while (off < o->len) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (!o->error)
				o->error = -errno;
			break;
		}
		off += n;
	}
	o->len = 0;
	return o->error;
}

void ctw_outbuf_fini(struct ctw_outbuf *o)
{
	if (!o->buf)
		return;
	ctw_outbuf_flush(o);
	free(o->buf);
	o->buf = NULL;
}

void ctw_outbuf_reset(struct ctw_outbuf *o)
{
	o->len = 0;
}

/* Make room for n more bytes: flush to the fd, or grow in memory mode and
 * for single lines larger than the buffer. */
static inline void reserve(struct ctw_outbuf *o, size_t n)
{
	if (o->len + n + 1 <= o->cap)
		return;
	if (o->fd >= 0)
		ctw_outbuf_flush(o);
	while (o->len + n + 1 > o->cap) {
		o->cap *= 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
}

const char *ctw_outbuf_str(struct ctw_outbuf *o)
{
	reserve(o, 0);
	o->buf[o->len] = '\0';
	return o->buf;
}

void ctw_outbuf_putn(struct ctw_outbuf *o, const void *s, size_t n)
{
	reserve(o, n);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void ctw_outbuf_puts(struct ctw_outbuf *o, const char *s)
{
	ctw_outbuf_putn(o, s, strlen(s));
}

static inline void putc_(struct ctw_outbuf *o, char c)
{
	reserve(o, 1);
	o->buf[o->len++] = c;
}

void ctw_outbuf_printf(struct ctw_outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	reserve(o, n);
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, n + 1, fmt, ap);
	va_end(ap);
	o->len += n;
}

static void put_u64(struct ctw_outbuf *o, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	ctw_outbuf_putn(o, tmp + i, sizeof(tmp) - i);
}

static void put_i64(struct ctw_outbuf *o, int64_t v)
{
	if (v < 0) {
		putc_(o, '-');
		put_u64(o, -(uint64_t)v);
	} else {
		put_u64(o, v);
	}
}

static void put_hex(struct ctw_outbuf *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[20];
	int i = sizeof(tmp);

	if (!v) {
		putc_(o, '0');
		return;
	}
	while (v) {
		tmp[--i] = digits[v & 15];
		v >>= 4;
	}
	tmp[--i] = 'x';
	tmp[--i] = '0';
	ctw_outbuf_putn(o, tmp + i, sizeof(tmp) - i);
}

static void put_ptr(struct ctw_outbuf *o, uint64_t v)
{
	if (!v)
		ctw_outbuf_puts(o, "NULL");
	else
		put_hex(o, v);
}

static void put_octal(struct ctw_outbuf *o, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + (v & 7);
		v >>= 3;
	} while (v);
	/* strace: 0644, 0, 03777 */
	if (tmp[i] != '0')
		tmp[--i] = '0';
	ctw_outbuf_putn(o, tmp + i, sizeof(tmp) - i);
}

/* ---- strings ---- */

/* strace's quoting: printable ASCII as is, the C escapes, everything else
 * in octal (three digits when a digit follows, so it stays unambiguous). */
void ctw_trace_quote(struct ctw_outbuf *o, const char *s, size_t n, size_t max, bool more)
{
	size_t shown = n > max ? max : n;

	reserve(o, shown * 4 + 8);
	putc_(o, '"');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"': ctw_outbuf_putn(o, "\\\"", 2); continue;
		case '\\': ctw_outbuf_putn(o, "\\\\", 2); continue;
		case '\f': ctw_outbuf_putn(o, "\\f", 2); continue;
		case '\n': ctw_outbuf_putn(o, "\\n", 2); continue;
		case '\r': ctw_outbuf_putn(o, "\\r", 2); continue;
		case '\t': ctw_outbuf_putn(o, "\\t", 2); continue;
		case '\v': ctw_outbuf_putn(o, "\\v", 2); continue;
		}
		if (c >= ' ' && c < 0x7f) {
			putc_(o, c);
			continue;
		}
		putc_(o, '\\');
		bool pad = i + 1 < shown && s[i + 1] >= '0' && s[i + 1] <= '7';
		if (pad || c >= 0100)
			putc_(o, '0' + (c >> 6));
		if (pad || c >= 010)
			putc_(o, '0' + ((c >> 3) & 7));
		putc_(o, '0' + (c & 7));
	}
	putc_(o, '"');
	if (more || n > max)
		ctw_outbuf_putn(o, "...", 3);
}

/* ---- flags ---- */

struct xlat {
	uint64_t val;
	const char *name;
};

/* Print the bits of v named in tab, '|'-joined; leftover bits in hex. */
static void put_flags(struct ctw_outbuf *o, const struct xlat *tab, size_t n, uint64_t v,
		      const char *zero)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (tab[i].val && (v & tab[i].val) == tab[i].val) {
			if (!first)
				putc_(o, '|');
			ctw_outbuf_puts(o, tab[i].name);
			v &= ~tab[i].val;
			first = false;
		}
	}
	if (v || first) {
		if (!first)
			putc_(o, '|');
		if (!v && zero)
			ctw_outbuf_puts(o, zero);
		else
			put_hex(o, v);
	}
}

/* One value out of a list; unknown values as numbers. */
static void put_enum(struct ctw_outbuf *o, const struct xlat *tab, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++) {
		if ((int64_t)tab[i].val == v) {
			ctw_outbuf_puts(o, tab[i].name);
			return;
		}
	}
	put_i64(o, v);
}

#define X(v)          \
	{             \
		v, #v \
	}

static const struct xlat open_flags[] = {
	X(O_CREAT),
	X(O_EXCL),
	X(O_NOCTTY),
	X(O_TRUNC),
	X(O_APPEND),
	X(O_NONBLOCK),
	/* O_SYNC includes O_DSYNC's bit: test it first */
	X(O_SYNC),
	X(O_DSYNC),
	{020000, "O_ASYNC"},
	X(O_DIRECT),
	{0100000, "O_LARGEFILE"},
	X(O_NOFOLLOW),
	X(O_NOATIME),
	X(O_CLOEXEC),
	X(O_PATH),
	/* O_TMPFILE includes O_DIRECTORY's bit */
	X(O_TMPFILE),
	X(O_DIRECTORY),
};

void ctw_trace_format_open_flags(struct ctw_outbuf *o, uint64_t flags)
{
	static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};

	ctw_outbuf_puts(o, acc[flags & O_ACCMODE]);
	flags &= ~(uint64_t)O_ACCMODE;
	if (flags) {
		putc_(o, '|');
		put_flags(o, open_flags, ARRAY_SIZE(open_flags), flags, NULL);
	}
}

/* O_CLOEXEC and friends without an access mode (pipe2, dup3, ...). */
static void put_fd_flags(struct ctw_outbuf *o, uint64_t flags)
{
	put_flags(o, open_flags, ARRAY_SIZE(open_flags), flags, "0");
}

static const struct xlat at_flags[] = {
	{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},   {0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},	{0x1000, "AT_EMPTY_PATH"}, {0x2000, "AT_STATX_FORCE_SYNC"},
	{0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
};

void ctw_trace_format_at_flags(struct ctw_outbuf *o, uint64_t flags)
{
	put_flags(o, at_flags, ARRAY_SIZE(at_flags), flags, "0");
}

static const struct xlat prot_flags[] = {
	X(PROT_READ),	   X(PROT_WRITE),     X(PROT_EXEC),
	{0x8, "PROT_SEM"}, X(PROT_GROWSDOWN), X(PROT_GROWSUP),
};

void ctw_trace_format_mmap_prot(struct ctw_outbuf *o, uint64_t prot)
{
	put_flags(o, prot_flags, ARRAY_SIZE(prot_flags), prot, "PROT_NONE");
}

static const struct xlat map_flags[] = {
	X(MAP_FIXED),	       X(MAP_ANONYMOUS),
	X(MAP_32BIT),	       X(MAP_GROWSDOWN),
	X(MAP_DENYWRITE),      X(MAP_EXECUTABLE),
	X(MAP_LOCKED),	       X(MAP_NORESERVE),
	X(MAP_POPULATE),       X(MAP_NONBLOCK),
	X(MAP_STACK),	       X(MAP_HUGETLB),
	{0x80000, "MAP_SYNC"}, {0x100000, "MAP_FIXED_NOREPLACE"},
};

void ctw_trace_format_mmap_flags(struct ctw_outbuf *o, uint64_t flags)
{
	static const char *const type[] = {"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"};

	ctw_outbuf_puts(o, type[flags & 3]);
	flags &= ~3ull;
	if (flags) {
		putc_(o, '|');
		put_flags(o, map_flags, ARRAY_SIZE(map_flags), flags, NULL);
	}
}

static const struct xlat domains[] = {
	X(AF_UNSPEC), X(AF_UNIX),  X(AF_INET),	    X(AF_INET6), X(AF_NETLINK), X(AF_PACKET),
	X(AF_ALG),    X(AF_VSOCK), X(AF_BLUETOOTH), X(AF_KEY),	 X(AF_XDP),
};

void ctw_trace_format_socket_domain(struct ctw_outbuf *o, uint64_t domain)
{
	put_enum(o, domains, ARRAY_SIZE(domains), (int64_t)domain);
}

static const struct xlat sock_types[] = {
	X(SOCK_STREAM),	   X(SOCK_DGRAM), X(SOCK_RAW),	  X(SOCK_RDM),
	X(SOCK_SEQPACKET), X(SOCK_DCCP),  X(SOCK_PACKET),
};

static const struct xlat sock_flags[] = {X(SOCK_CLOEXEC), X(SOCK_NONBLOCK)};

void ctw_trace_format_socket_type(struct ctw_outbuf *o, uint64_t type)
{
	put_enum(o, sock_types, ARRAY_SIZE(sock_types), type & 0xf);
	type &= ~0xfull;
	if (type) {
		putc_(o, '|');
		put_flags(o, sock_flags, ARRAY_SIZE(sock_flags), type, NULL);
	}
}

static const struct xlat protos[] = {
	X(IPPROTO_IP),	   X(IPPROTO_ICMP), X(IPPROTO_TCP), X(IPPROTO_UDP),
	X(IPPROTO_ICMPV6), X(IPPROTO_SCTP), X(IPPROTO_RAW),
};

void ctw_trace_format_signal(struct ctw_outbuf *o, uint64_t sig)
{
	int s = (int)sig;
	const char *abbrev;

	if (s >= SIGRTMIN && s <= SIGRTMAX) {
		ctw_outbuf_puts(o, s == SIGRTMIN ? "SIGRTMIN" : "SIGRT_");
		if (s != SIGRTMIN)
			put_u64(o, s - SIGRTMIN);
		return;
	}
	abbrev = s > 0 && s < 32 ? sigabbrev_np(s) : NULL;
	if (!abbrev) {
		put_i64(o, s);
		return;
	}
	ctw_outbuf_puts(o, "SIG");
	ctw_outbuf_puts(o, abbrev);
}

static const struct xlat clone_flags[] = {
	X(CLONE_VM),
	X(CLONE_FS),
	X(CLONE_FILES),
	X(CLONE_SIGHAND),
	X(CLONE_PIDFD),
	X(CLONE_PTRACE),
	X(CLONE_VFORK),
	X(CLONE_PARENT),
	X(CLONE_THREAD),
	X(CLONE_NEWNS),
	X(CLONE_SYSVSEM),
	X(CLONE_SETTLS),
	X(CLONE_PARENT_SETTID),
	X(CLONE_CHILD_CLEARTID),
	X(CLONE_DETACHED),
	X(CLONE_UNTRACED),
	X(CLONE_CHILD_SETTID),
	X(CLONE_NEWCGROUP),
	X(CLONE_NEWUTS),
	X(CLONE_NEWIPC),
	X(CLONE_NEWUSER),
	X(CLONE_NEWPID),
	X(CLONE_NEWNET),
	X(CLONE_IO),
};

static void put_clone_flags(struct ctw_outbuf *o, uint64_t v)
{
	uint64_t sig = v & 0xff;

	v &= ~0xffull;
	if (v)
		put_flags(o, clone_flags, ARRAY_SIZE(clone_flags), v, NULL);
	if (sig) {
		if (v)
			putc_(o, '|');
		ctw_trace_format_signal(o, sig);
	} else if (!v) {
		putc_(o, '0');
	}
}

static const struct xlat sighow[] = {X(SIG_BLOCK), X(SIG_UNBLOCK), X(SIG_SETMASK)};
static const struct xlat access_flags[] = {X(R_OK), X(W_OK), X(X_OK)};
static const struct xlat whence[] = {
	X(SEEK_SET), X(SEEK_CUR), X(SEEK_END), X(SEEK_DATA), X(SEEK_HOLE),
};
static const struct xlat fcntl_cmds[] = {
	X(F_DUPFD),	    X(F_GETFD),	     X(F_SETFD),      X(F_GETFL),     X(F_SETFL),
	X(F_GETLK),	    X(F_SETLK),	     X(F_SETLKW),     X(F_SETOWN),    X(F_GETOWN),
	X(F_SETSIG),	    X(F_GETSIG),     X(F_SETOWN_EX),  X(F_GETOWN_EX), X(F_OFD_GETLK),
	X(F_OFD_SETLK),	    X(F_OFD_SETLKW), X(F_SETLEASE),   X(F_GETLEASE),  X(F_NOTIFY),
	X(F_DUPFD_CLOEXEC), X(F_SETPIPE_SZ), X(F_GETPIPE_SZ), X(F_ADD_SEALS), X(F_GET_SEALS),
};
static const struct xlat msg_flags[] = {
	X(MSG_OOB),	 X(MSG_PEEK),	  X(MSG_DONTROUTE),  X(MSG_CTRUNC),
	X(MSG_TRUNC),	 X(MSG_DONTWAIT), X(MSG_EOR),	     X(MSG_WAITALL),
	X(MSG_NOSIGNAL), X(MSG_MORE),	  X(MSG_WAITFORONE), X(MSG_CMSG_CLOEXEC),
};
static const struct xlat wait_flags[] = {
	X(WNOHANG),
	X(WUNTRACED),
	X(WEXITED),
	X(WCONTINUED),
	X(WNOWAIT),
	{0x20000000, "__WNOTHREAD"},
	{0x40000000, "__WALL"},
	{0x80000000, "__WCLONE"},
};

/* ---- sockaddr ---- */

void ctw_trace_format_sockaddr(struct ctw_outbuf *o, const void *sa, size_t len)
{
	sa_family_t fam;
	char addr[INET6_ADDRSTRLEN];

	if (len < sizeof(fam)) {
		ctw_outbuf_puts(o, "{}");
		return;
	}
	memcpy(&fam, sa, sizeof(fam));
	ctw_outbuf_puts(o, "{sa_family=");
	ctw_trace_format_socket_domain(o, fam);
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;

		memcpy(&in, sa, sizeof(in));
		inet_ntop(AF_INET, &in.sin_addr, addr, sizeof(addr));
		ctw_outbuf_puts(o, ", sin_port=htons(");
		put_u64(o, ntohs(in.sin_port));
		ctw_outbuf_puts(o, "), sin_addr=inet_addr(\"");
		ctw_outbuf_puts(o, addr);
		ctw_outbuf_puts(o, "\")}");
	} else if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;

		memcpy(&in6, sa, sizeof(in6));
		inet_ntop(AF_INET6, &in6.sin6_addr, addr, sizeof(addr));
		ctw_outbuf_puts(o, ", sin6_port=htons(");
		put_u64(o, ntohs(in6.sin6_port));
		ctw_outbuf_puts(o, "), sin6_flowinfo=htonl(");
		put_u64(o, ntohl(in6.sin6_flowinfo));
		ctw_outbuf_puts(o, "), inet_pton(AF_INET6, \"");
		ctw_outbuf_puts(o, addr);
		ctw_outbuf_puts(o, "\", &sin6_addr), sin6_scope_id=");
		put_u64(o, in6.sin6_scope_id);
		putc_(o, '}');
	} else if (fam == AF_UNIX) {
		const char *path = (const char *)sa + offsetof(struct sockaddr_un, sun_path);
		size_t plen = len - offsetof(struct sockaddr_un, sun_path);

		if (len <= offsetof(struct sockaddr_un, sun_path)) {
			putc_(o, '}');
			return;
		}
		ctw_outbuf_puts(o, ", sun_path=");
		if (path[0] == '\0') {
			/* abstract: strace shows @"name" */
			putc_(o, '@');
			ctw_trace_quote(o, path + 1, plen - 1, plen, false);
		} else {
			ctw_trace_quote(o, path, strnlen(path, plen), plen, false);
		}
		putc_(o, '}');
	} else {
		ctw_outbuf_puts(o, ", ...}");
	}
}

/* ---- errno and return values ---- */

const char *ctw_trace_errno_name(int err)
{
	switch (err) {
	case 512: return "ERESTARTSYS";
	case 513: return "ERESTARTNOINTR";
	case 514: return "ERESTARTNOHAND";
	case 515: return "ENOIOCTLCMD";
	case 516: return "ERESTART_RESTARTBLOCK";
	}
	return strerrorname_np(err);
}

static const char *kernel_errno_text(int err)
{
	switch (err) {
	case 512: return "To be restarted if SA_RESTART is set";
	case 513: return "To be restarted";
	case 514: return "To be restarted if no handler";
	case 515: return "Inappropriate ioctl for device";
	case 516: return "Interrupted by signal";
	}
	return NULL;
}

static bool is_err(int64_t ret)
{
	return ret < 0 && ret >= -4095;
}

void ctw_trace_format_ret(struct ctw_outbuf *o, int nr, int64_t ret)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(nr);
	const char *name, *text;
	int err;

	if (!is_err(ret)) {
		if (si && si->ret_hex)
			put_hex(o, ret);
		else
			put_i64(o, ret);
		return;
	}
	err = (int)-ret;
	name = ctw_trace_errno_name(err);
	text = kernel_errno_text(err);
	/* strace: interrupted-and-restarted calls return "?" */
	ctw_outbuf_puts(o, text ? "? " : "-1 ");
	if (name) {
		ctw_outbuf_puts(o, name);
	} else {
		ctw_outbuf_puts(o, "E");
		put_u64(o, err);
	}
	ctw_outbuf_puts(o, " (");
	ctw_outbuf_puts(o, text ? text : strerror(err));
	putc_(o, ')');
}

/* ---- events ---- */

/* The captured items of one event, indexed by argument. */
struct items {
	const struct ctw_trace_item *it[TRACE_NARGS];
	const char *data[TRACE_NARGS];
};

static void index_items(struct items *ix, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	size_t off = 0;

	memset(ix, 0, sizeof(*ix));
	while (off + sizeof(struct ctw_trace_item) <= len) {
		const struct ctw_trace_item *it = (const void *)(p + off);
		size_t next = off + sizeof(*it) + ((it->len + 7u) & ~7u);

		if (off + sizeof(*it) + it->len > len)
			break;
		if (it->arg < TRACE_NARGS) {
			ix->it[it->arg] = it;
			ix->data[it->arg] = (const char *)(it + 1);
		}
		off = next;
	}
}

static void put_argv(struct ctw_outbuf *o, const struct ctw_trace_item *it, const char *data,
		     unsigned strsize)
{
	size_t off = 0;
	bool first = true;

	putc_(o, '[');
	while (off < it->len) {
		size_t n = strnlen(data + off, it->len - off);

		if (!first)
			ctw_outbuf_putn(o, ", ", 2);
		/* a string that filled its capture slot was cut */
		ctw_trace_quote(o, data + off, n, strsize, n + 1 >= TRACE_ARGV_STR_MAX);
		off += n + 1;
		first = false;
	}
	if (it->kind & TRACE_ITEM_MORE)
		ctw_outbuf_puts(o, first ? "..." : ", ...");
	putc_(o, ']');
}

/* A captured string: paths are never cut by -s, as in strace. */
static void put_string(struct ctw_outbuf *o, const struct ctw_trace_item *it, const char *data,
		       size_t max)
{
	size_t n = it->len ? it->len - 1 : 0; /* len counts the NUL */
	bool cut = it->len >= TRACE_STR_MAX;

	ctw_trace_quote(o, data, strnlen(data, n), max, cut);
}

static void put_arg(struct ctw_outbuf *o, const struct ctw_trace_fmt *f,
		    const struct ctw_trace_event *ev, const struct items *ix, int i, uint8_t kind)
{
	uint64_t v = ev->args[i];
	const struct ctw_trace_item *it = ix->it[i];
	const char *data = ix->data[i];

	switch (kind) {
	case K_INT:
	case K_FD: put_i64(o, (int32_t)v); return;
	case K_LONG: put_i64(o, (int64_t)v); return;
	case K_UINT: put_u64(o, (uint32_t)v); return;
	case K_ULONG: put_u64(o, v); return;
	case K_PTR: put_ptr(o, v); return;
	case K_DFD:
		if ((int32_t)v == AT_FDCWD)
			ctw_outbuf_puts(o, "AT_FDCWD");
		else
			put_i64(o, (int32_t)v);
		return;
	case K_PATH:
	case K_STR:
		if (it)
			put_string(o, it, data, kind == K_PATH ? SIZE_MAX : f->strsize);
		else
			put_ptr(o, v);
		return;
	case K_ARGV:
		if (it)
			put_argv(o, it, data, f->strsize);
		else
			put_ptr(o, v);
		return;
	case K_BUFIN:
	case K_BUFOUT:
		if (it && !(kind == K_BUFOUT && is_err(ev->ret)))
			ctw_trace_quote(o, data, it->len, f->strsize, it->full_len > it->len);
		else
			put_ptr(o, v);
		return;
	case K_SAIN:
	case K_SAOUT:
		if (it)
			ctw_trace_format_sockaddr(o, data, it->len);
		else
			put_ptr(o, v);
		return;
	case K_OFLAGS: ctw_trace_format_open_flags(o, (uint32_t)v); return;
	case K_OMODE:
	case K_MODE: put_octal(o, (uint32_t)v); return;
	case K_ATFLAGS: ctw_trace_format_at_flags(o, (uint32_t)v); return;
	case K_PROT: ctw_trace_format_mmap_prot(o, v); return;
	case K_MFLAGS: ctw_trace_format_mmap_flags(o, (uint32_t)v); return;
	case K_DOMAIN: ctw_trace_format_socket_domain(o, (uint32_t)v); return;
	case K_STYPE: ctw_trace_format_socket_type(o, (uint32_t)v); return;
	case K_PROTO:
		if (i > 0 && (ev->args[0] == AF_INET || ev->args[0] == AF_INET6))
			put_enum(o, protos, ARRAY_SIZE(protos), (int32_t)v);
		else
			put_i64(o, (int32_t)v);
		return;
	case K_SIG: ctw_trace_format_signal(o, (uint32_t)v); return;
	case K_SIGHOW: put_enum(o, sighow, ARRAY_SIZE(sighow), (int32_t)v); return;
	case K_CLONE: put_clone_flags(o, v); return;
	case K_ACCESS:
		put_flags(o, access_flags, ARRAY_SIZE(access_flags), (uint32_t)v, "F_OK");
		return;
	case K_FCNTL: put_enum(o, fcntl_cmds, ARRAY_SIZE(fcntl_cmds), (int32_t)v); return;
	case K_FCNTLARG:
		if ((int32_t)ev->args[1] == F_SETFD)
			ctw_outbuf_puts(o, v == FD_CLOEXEC ? "FD_CLOEXEC" : "0");
		else if ((int32_t)ev->args[1] == F_SETFL)
			ctw_trace_format_open_flags(o, (uint32_t)v);
		else
			put_i64(o, (int64_t)v);
		return;
	case K_MSGF: put_flags(o, msg_flags, ARRAY_SIZE(msg_flags), (uint32_t)v, "0"); return;
	case K_WAITOPT: put_flags(o, wait_flags, ARRAY_SIZE(wait_flags), (uint32_t)v, "0"); return;
	case K_WHENCE: put_enum(o, whence, ARRAY_SIZE(whence), (int32_t)v); return;
	case K_SOCKF: put_flags(o, sock_flags, ARRAY_SIZE(sock_flags), (uint32_t)v, "0"); return;
	case K_FDFLAGS: put_fd_flags(o, (uint32_t)v); return;
	case K_HEX:
	default: put_hex(o, v); return;
	}
}

/* How many arguments strace shows: fewer than declared for a few calls. */
static int shown_args(const struct ctw_sysinfo *si, const struct ctw_trace_event *ev)
{
	int n = si->nargs;

	for (int i = 0; i < n; i++) {
		if (si->kind[i] == K_OMODE &&
		    !(ev->args[i - 1] & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))))
			return i; /* open without O_CREAT: no mode */
		if (si->kind[i] == K_FCNTLARG) {
			int cmd = (int32_t)ev->args[i - 1];
			if (cmd == F_GETFD || cmd == F_GETFL || cmd == F_GETOWN ||
			    cmd == F_GETSIG || cmd == F_GETLEASE || cmd == F_GETPIPE_SZ ||
			    cmd == F_GET_SEALS)
				return i;
		}
	}
	return n;
}

static void put_duration(struct ctw_outbuf *o, uint64_t ns)
{
	uint64_t us = ns % 1000000000 / 1000;
	char frac[6];

	put_u64(o, ns / 1000000000);
	for (int i = 5; i >= 0; i--, us /= 10)
		frac[i] = '0' + us % 10;
	putc_(o, '.');
	ctw_outbuf_putn(o, frac, 6);
}

static void put_timestamp(struct ctw_outbuf *o, const struct ctw_trace_fmt *f, uint64_t mono_ns)
{
	int64_t real = (int64_t)mono_ns + f->realtime_off;
	time_t secs = real / 1000000000;
	struct tm tm;
	char tmp[40];
	size_t n;

	localtime_r(&secs, &tm);
	n = strftime(tmp, sizeof(tmp), "%H:%M:%S", &tm);
	ctw_outbuf_putn(o, tmp, n);
	if (f->timestamps > 1) {
		n = snprintf(tmp, sizeof(tmp), ".%06lld", (long long)(real % 1000000000 / 1000));
		ctw_outbuf_putn(o, tmp, n);
	}
	putc_(o, ' ');
}

static void put_json_str(struct ctw_outbuf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	reserve(o, n * 6 + 2);
	putc_(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			putc_(o, '\\');
			putc_(o, c);
		} else if (c == '\n') {
			ctw_outbuf_putn(o, "\\n", 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* not necessarily UTF-8: escape byte by byte */
			ctw_outbuf_putn(o, "\\u00", 4);
			putc_(o, hex[c >> 4]);
			putc_(o, hex[c & 15]);
		} else {
			putc_(o, c);
		}
	}
	putc_(o, '"');
}

/* JSON: numbers for numbers, raw strings for strings and paths, and the
 * strace rendering (as a string) for everything symbolic. */
static void put_json_arg(struct ctw_outbuf *o, const struct ctw_trace_fmt *f,
			 const struct ctw_trace_event *ev, const struct items *ix, int i,
			 uint8_t kind)
{
	static __thread struct ctw_outbuf side;

	switch (kind) {
	case K_INT:
	case K_FD:
	case K_LONG:
	case K_UINT:
	case K_ULONG: put_arg(o, f, ev, ix, i, kind); return;
	case K_PATH:
	case K_STR:
		if (ix->it[i]) {
			const struct ctw_trace_item *it = ix->it[i];
			size_t n = it->len ? it->len - 1 : 0;

			put_json_str(o, ix->data[i], strnlen(ix->data[i], n));
			return;
		}
		break;
	}
	/* render into a side buffer (one per thread, reused), then emit it
	 * as a JSON string */
	if (!side.buf)
		ctw_outbuf_init(&side, -1, 4096);
	side.len = 0;
	put_arg(&side, f, ev, ix, i, kind);
	put_json_str(o, side.buf, side.len);
}

static void format_json(struct ctw_outbuf *o, const struct ctw_trace_fmt *f,
			const struct ctw_trace_event *ev, const struct items *ix,
			const struct ctw_sysinfo *si, const char *container)
{
	int n = si ? shown_args(si, ev) : 0;
	const char *name = si && si->name[0] ? si->name : NULL;

	ctw_outbuf_puts(o, "{\"container\":");
	put_json_str(o, container, strlen(container));
	ctw_outbuf_puts(o, ",\"pid\":");
	put_u64(o, ev->pid);
	ctw_outbuf_puts(o, ",\"tid\":");
	put_u64(o, ev->tid);
	ctw_outbuf_puts(o, ",\"comm\":");
	put_json_str(o, ev->comm, strnlen(ev->comm, sizeof(ev->comm)));
	ctw_outbuf_puts(o, ",\"syscall\":");
	if (name) {
		put_json_str(o, name, strlen(name));
	} else {
		ctw_outbuf_puts(o, "\"syscall_");
		put_u64(o, ev->nr);
		putc_(o, '"');
	}
	ctw_outbuf_puts(o, ",\"args\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			putc_(o, ',');
		put_json_arg(o, f, ev, ix, i, si->kind[i]);
	}
	ctw_outbuf_puts(o, "],\"ret\":");
	if (ev->flags & TRACE_EV_NORETURN)
		ctw_outbuf_puts(o, "null");
	else
		put_i64(o, is_err(ev->ret) ? -1 : ev->ret);
	ctw_outbuf_puts(o, ",\"errno\":");
	if (is_err(ev->ret)) {
		const char *en = ctw_trace_errno_name((int)-ev->ret);

		if (en)
			put_json_str(o, en, strlen(en));
		else
			put_u64(o, -ev->ret);
	} else {
		ctw_outbuf_puts(o, "null");
	}
	ctw_outbuf_puts(o, ",\"duration_ns\":");
	put_u64(o, ev->duration_ns);
	ctw_outbuf_puts(o, ",\"ts_ns\":");
	put_u64(o, ev->ts_ns);
	ctw_outbuf_puts(o, "}\n");
}

void ctw_trace_format_event(struct ctw_outbuf *o, const struct ctw_trace_fmt *f,
			    const struct ctw_trace_event *ev, const void *payload,
			    const char *container)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(ev->nr);
	struct items ix;
	int n;

	index_items(&ix, payload, ev->payload_len);
	if (f->json) {
		format_json(o, f, ev, &ix, si, container);
		return;
	}
	if (f->timestamps)
		put_timestamp(o, f, ev->ts_ns);
	putc_(o, '[');
	ctw_outbuf_puts(o, container);
	ctw_outbuf_putn(o, "] ", 2);
	put_u64(o, ev->tid);
	putc_(o, ' ');
	if (si && si->name[0]) {
		ctw_outbuf_puts(o, si->name);
	} else {
		ctw_outbuf_puts(o, "syscall_");
		put_u64(o, ev->nr);
	}
	putc_(o, '(');
	n = si ? shown_args(si, ev) : 0;
	for (int i = 0; i < n; i++) {
		if (i)
			ctw_outbuf_putn(o, ", ", 2);
		put_arg(o, f, ev, &ix, i, si->kind[i]);
	}
	ctw_outbuf_putn(o, ") = ", 4);
	if (ev->flags & TRACE_EV_NORETURN)
		putc_(o, '?');
	else
		ctw_trace_format_ret(o, ev->nr, ev->ret);
	if (f->durations && !(ev->flags & TRACE_EV_NORETURN)) {
		ctw_outbuf_putn(o, " <", 2);
		put_duration(o, ev->duration_ns);
		putc_(o, '>');
	}
	putc_(o, '\n');
}
