/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ — small helpers every module may use: errors with context, logging,
 * cleanup attributes, file and string utilities.  This header is the whole
 * public face of the module.
 */
#ifndef CTW_LIB_H
#define CTW_LIB_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#define CTW_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- exit codes: one table for every command ---- */
enum {
	CTW_EXIT_OK = 0,
	CTW_EXIT_FAIL = 1,  /* the command failed (its message says why) */
	CTW_EXIT_USAGE = 2, /* bad options or arguments: the usage follows */
	/* a container's command (run, exec, trace -- IMAGE), as Docker's: */
	CTW_EXIT_RUNTIME = 125,	 /* the runtime failed before the command started */
	CTW_EXIT_NOEXEC = 126,	 /* command found but not executable */
	CTW_EXIT_NOTFOUND = 127, /* command not found */
	/* runc's exec (ctrwatch-runc exec): the runtime failed, as runc */
	CTW_EXIT_OCI_EXEC = 255,
};

/* ---- errors (crun style: an error object threaded through calls) ---- */

/* No malloc inside: usable in a child after clone() and across a socketpair. */
struct ctw_err {
	int code;      /* positive errno, 0 when no error */
	char msg[512]; /* "what: why" */
};

/* Record an error; the message gets ": strerror(code)" appended when code != 0.
 * Returns -code (or -1 when code is 0) so callers can `return ctw_err_set(...)`. */
int ctw_err_set(struct ctw_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, without strerror: the message says everything. */
int ctw_err_setx(struct ctw_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "outer: inner".  Returns the current -code. */
int ctw_err_prefix(struct ctw_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctw_err_clear(struct ctw_err *e);

/* The one message for a container nothing matches, in every command that
 * takes a container (the runtime's, trace, dns, tcplife): ctw_err_setx(err,
 * ENOENT, CTW_NO_SUCH_CONTAINER, spec). */
#define CTW_NO_SUCH_CONTAINER "no such container: %s (`ctrwatch containers` lists them)"

/* ---- privileges ---- */

/* What a command needs before it loads BPF programs (flags may be or'ed). */
enum {
	CTW_NEED_BPF = 1,	/* CAP_BPF (programs and maps) */
	CTW_NEED_PERFMON = 2,	/* CAP_PERFMON (tracepoints) */
	CTW_NEED_NET_ADMIN = 4, /* CAP_NET_ADMIN (cgroup skb, XDP, tc) */
};
/* 0 when the effective capabilities hold all of `what` (CAP_SYS_ADMIN
 * counts for CAP_BPF and CAP_PERFMON); else -EPERM with err saying
 * "needs root, or the capabilities CAP_BPF and CAP_PERFMON (running as uid
 * N)" or, for root without them, which are missing. */
int ctw_need_privs(unsigned int what, struct ctw_err *err);

/* ---- logging: stderr only; data goes to stdout or HTTP ---- */

enum ctw_log_level { CTW_LOG_ERROR, CTW_LOG_WARN, CTW_LOG_INFO, CTW_LOG_DEBUG };
enum ctw_log_format { CTW_LOG_TEXT, CTW_LOG_JSON };

void ctw_log_set_level(enum ctw_log_level lvl);
enum ctw_log_level ctw_log_get_level(void);
void ctw_log_set_format(enum ctw_log_format fmt);
/* Where entries go (default stderr): the runtime log of an engine. */
void ctw_log_set_fd(int fd);
/* Parse "error|warn|info|debug"; returns -EINVAL on anything else. */
int ctw_log_parse_level(const char *s, enum ctw_log_level *out);
void ctw_log(enum ctw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctw_vlog(enum ctw_log_level lvl, const char *fmt, va_list ap);
/* Route libbpf's messages through ctw_log, one level lower (xdp-tools). */
void ctw_log_libbpf(void);

#define pr_err(fmt, ...) ctw_log(CTW_LOG_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) ctw_log(CTW_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) ctw_log(CTW_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) ctw_log(CTW_LOG_DEBUG, fmt, ##__VA_ARGS__)

/* ---- cleanup attributes ---- */

void ctw_freep(void *p);
void ctw_closep(int *fd);
#define _cleanup_free_ __attribute__((cleanup(ctw_freep)))
#define _cleanup_close_ __attribute__((cleanup(ctw_closep)))

/* Hand an fd over: returns it and leaves -1 behind (crun's get_and_reset). */
static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* ---- memory: abort on OOM, as crun's xmalloc does ---- */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fault in the pages of a big fresh buffer (>= 128 KiB, its own mapping)
 * with one call before writing it: page faults are dear in a VM. */
void ctw_mem_populate(void *p, size_t len);

/* ---- strings ---- */

/* Copy with truncation, always NUL-terminated; returns strlen(src). */
size_t ctw_strlcpy(char *dst, const char *src, size_t size);
bool ctw_str_has_prefix(const char *s, const char *prefix);
bool ctw_str_has_suffix(const char *s, const char *suffix);
/* Parse a byte size: "64m", "1g", "512k", "1024" (binary units). */
int ctw_parse_bytes(const char *s, uint64_t *out);
/* Parse an unsigned decimal that must fit [min,max]. */
int ctw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a boolean: true|false|yes|no|1|0; -EINVAL otherwise. */
int ctw_parse_bool(const char *s, bool *out);
/* Parse a duration: "500ms", "2s", "1m", "3" (seconds). */
int ctw_parse_duration_ns(const char *s, uint64_t *out_ns);
/* "SIGTERM", "TERM", "15", "RTMIN+3" -> signal number; -EINVAL otherwise. */
int ctw_parse_signal(const char *s);

/* ---- outbuf.c: the growable output buffer ---- */

/* A growable output buffer flushed to fd with write(2); fd < 0 keeps
 * everything in memory (a string builder).  No stdio, no per-event
 * allocation.  CTW_OUTBUF_MEM is an empty string builder that allocates on
 * its first write (ctw_outbuf_init allocates at once). */
struct ctw_outbuf {
	char *buf;
	size_t len, cap;
	int fd;
	int error; /* first write error, -errno */
};
#define CTW_OUTBUF_MEM ((struct ctw_outbuf){.fd = -1})

void ctw_outbuf_init(struct ctw_outbuf *o, int fd, size_t cap);
void ctw_outbuf_fini(struct ctw_outbuf *o); /* flushes */
int ctw_outbuf_flush(struct ctw_outbuf *o);
void ctw_outbuf_reset(struct ctw_outbuf *o);
/* NUL-terminated view of what is buffered (for tests). */
const char *ctw_outbuf_str(struct ctw_outbuf *o);
/* The NUL-terminated text, the caller's to free; o holds nothing after. */
char *ctw_outbuf_take(struct ctw_outbuf *o);
void ctw_outbuf_printf(struct ctw_outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The slow path of ctw_outbuf_reserve: flush to the fd, or grow (a big
 * buffer's new pages faulted in at once, ctw_mem_populate). */
void ctw_outbuf_grow(struct ctw_outbuf *o, size_t n);
/* Room for n more bytes (and a NUL): flushes to the fd, or grows.  Inline,
 * as are the puts: the metrics exposition and trace call them for every
 * piece of every line. */
static inline __attribute__((always_inline)) void ctw_outbuf_reserve(struct ctw_outbuf *o, size_t n)
{
	if (__builtin_expect(o->len + n + 1 > o->cap, 0))
		ctw_outbuf_grow(o, n);
}
static inline __attribute__((always_inline)) void ctw_outbuf_putn(struct ctw_outbuf *o,
								  const void *s, size_t n)
{
	ctw_outbuf_reserve(o, n);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}
static inline void ctw_outbuf_puts(struct ctw_outbuf *o, const char *s)
{
	ctw_outbuf_putn(o, s, strlen(s));
}
static inline void ctw_outbuf_putc(struct ctw_outbuf *o, char c)
{
	ctw_outbuf_reserve(o, 1);
	o->buf[o->len++] = c;
}

/* ---- json.c: JSON strings, escaped once for every writer ---- */

/* Append s[0..n) as a quoted JSON string.  Quote, backslash and control
 * bytes are escaped; bytes >= 0x7f too, one \u00XX each (event data need not
 * be valid UTF-8), unless CTW_JSON_UTF8 (text known to be UTF-8: kept). */
#define CTW_JSON_UTF8 1u
void ctw_json_put(struct ctw_outbuf *o, const char *s, size_t n, unsigned flags);
void ctw_json_fput(FILE *f, const char *s, size_t n, unsigned flags);
/* Event data to a FILE (the CLI's --json streams); s NULL is "". */
void ctw_json_string(FILE *f, const char *s);
void ctw_json_string_n(FILE *f, const char *s, size_t n);

/* ---- files ---- */

/* Read a whole file (NUL-terminated); *len may be NULL.  -errno on failure. */
int ctw_read_file(const char *path, char **out, size_t *len);
/* Read a small file into buf, trimming a trailing newline. */
int ctw_read_line(const char *path, char *buf, size_t size);
/* The value of a "key value" line of a small (kernel) file such as cgroup's
 * cpu.stat or memory.events (its first 4 KiB); false when absent. */
bool ctw_read_keyed_u64(const char *path, const char *key, uint64_t *v);
/* The same, from a NUL-terminated text already read. */
bool ctw_keyed_u64(const char *text, const char *key, uint64_t *v);
/* Write data to path (O_TRUNC, no O_CREAT unless create). */
int ctw_write_file(const char *path, const char *data, size_t len, bool create);
/* Write atomically: tmp file + fsync-free rename, mode 0644. */
int ctw_write_file_atomic(const char *path, const char *data, size_t len);
int ctw_mkdir_p(const char *path, mode_t mode);
/* A directory only we may enter: made with mode (its parents 0755) when
 * missing; an existing one must be ours and not a symlink, and group or
 * other bits beyond mode's are taken away (with a warning).  0, or -errno
 * with err set. */
int ctw_private_dir(const char *path, mode_t mode, struct ctw_err *err);
/* Remove a directory tree (does not cross mount points). */
int ctw_rm_rf(const char *path);
/* Remove everything inside the directory open as dirfd, not the directory
 * itself (same rules as ctw_rm_rf: never into another filesystem). */
int ctw_empty_dir_at(int dirfd);
/* Entries in dir whose names do not start with '.' (0 if it is missing). */
size_t ctw_dir_count(const char *dir);
bool ctw_path_exists(const char *path);

/* ---- inroot.c: files a container or an image controls ----
 * Paths are resolved inside the tree whose root is rootfd (openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): ".." and absolute symlinks stop at
 * that root, magic links (/proc/self/fd/N) are refused.  Only regular files
 * are opened for reading (a FIFO or a device never is), and never blocking. */

/* openat2 in the root with flags (O_CLOEXEC added); an fd or -errno. */
int ctw_open_in_root(int rootfd, const char *path, int flags);
/* A regular file of at most max_size bytes (0: no cap) open for reading:
 * an fd, or -EISDIR / -EINVAL (not a regular file) / -EFBIG / -errno.  The
 * file's stat goes to *st when st is not NULL. */
struct stat;
int ctw_open_file_in_root(int rootfd, const char *path, size_t max_size, struct stat *st);
/* Read an open fd to its end, NUL-terminated; -EFBIG past max_size bytes. */
int ctw_read_fd_capped(int fd, size_t max_size, char **out, size_t *len);
/* ctw_open_file_in_root + ctw_read_fd_capped: the whole small file. */
int ctw_read_in_root(int rootfd, const char *path, size_t max_size, char **out, size_t *len);
/* A one-line file into buf (trailing newline cut); -EFBIG when it does not
 * fit or has more than one line. */
int ctw_read_line_in_root(int rootfd, const char *path, char *buf, size_t size);

/* ---- caps.c: capability names ---- */

/* "NET_ADMIN" or "CAP_NET_ADMIN" (any case) → number; "ALL" → -2. */
int ctw_cap_from_name(const char *name);
/* "NET_ADMIN" for CAP_NET_ADMIN; NULL beyond the names known. */
const char *ctw_cap_name(int cap);
/* How many names are known (CAP_CHOWN .. the last one). */
int ctw_cap_count(void);

/* ---- cgroup2.c ---- */

/* The cgroup v2 mount on this host: /sys/fs/cgroup (unified) or
 * /sys/fs/cgroup/unified (hybrid), else the first in mountinfo.  NULL when
 * there is none.  Cached. */
const char *ctw_cgroup2_mount(void);

/* ---- time ---- */

uint64_t ctw_now_ns(void);	/* CLOCK_MONOTONIC */
uint64_t ctw_realtime_ns(void); /* CLOCK_REALTIME */
/* RFC 3339 UTC with nanoseconds, into buf (>= 40 bytes). */
void ctw_format_time(uint64_t realtime_ns, char *buf, size_t size);

/* ---- BPF maps ---- */

/* Call fn for every entry of a BPF hash map with 8-byte keys and values,
 * read 256 entries per syscall (bpf_map_lookup_batch), key by key where
 * the kernel cannot.  0 or -errno (a map changing while read may show an
 * entry twice or not at all, as with key-by-key iteration). */
int ctw_bpf_map_each_u64(int fd, void (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx);

/* ---- paths the whole program agrees on ---- */

/* Image store and layers: CTRWATCH_ROOT or /var/lib/ctrwatch. */
const char *ctw_root_dir(void);
/* Per-container state: CTRWATCH_STATE or /run/ctrwatch. */
const char *ctw_state_dir(void);
/* Pinned BPF objects: CTRWATCH_BPF_PIN or /sys/fs/bpf/ctrwatch. */
const char *ctw_pin_dir(void);

/* ---- libraries loaded on first use ----
 * The heavy libraries (libarchive, libmicrohttpd with GnuTLS, libnftables,
 * libcrypto) pull in ~25 more shared objects.  Linking them would cost every
 * `ctrwatch run` ~8 ms of loading and relocation and the agent megabytes of
 * RSS, though only `import`, the agent's HTTP server and bridge networking use
 * them.  So they are not linked: a <module>/<lib>_dl.c file defines functions
 * of the library's own names (checked against its header) that dlopen it on
 * first call.  Call sites stay plain library calls. */
struct ctw_dl_lib {
	const char *soname;  /* "libarchive.so.13" */
	const char *package; /* the Debian package that ships it, for the error */
	void *handle;
};
/* Open the library now (idempotent, thread-safe): entry points of a feature
 * call this first so a missing library is a clean error, not an exit later. */
int ctw_dl_open(struct ctw_dl_lib *lib, struct ctw_err *err);
/* The address of NAME; a missing library or symbol is fatal (exit 127, with a
 * message naming the library and package): the install is broken. */
void *ctw_dl_sym(struct ctw_dl_lib *lib, const char *name);

/* The library's NAME, resolved on the first call and cached; races only
 * ever store the same value.  (A GNU statement expression.) */
#define CTW_DL_RESOLVE(lib, name)                                                                \
	({                                                                                       \
		static __typeof__(&name) ctw_dl_cache_;                                          \
		__typeof__(&name) ctw_dl_f_ = __atomic_load_n(&ctw_dl_cache_, __ATOMIC_ACQUIRE); \
		if (!ctw_dl_f_) {                                                                \
			ctw_dl_f_ = (__typeof__(&name))ctw_dl_sym(&(lib), #name);                \
			__atomic_store_n(&ctw_dl_cache_, ctw_dl_f_, __ATOMIC_RELEASE);           \
		}                                                                                \
		ctw_dl_f_;                                                                       \
	})
/* Define the library function NAME with the header's prototype PARAMS,
 * passing ARGS to the real one. */
#define CTW_DL_FN(lib, ret, name, params, args)        \
	ret name params                                \
	{                                              \
		return CTW_DL_RESOLVE(lib, name) args; \
	}
#define CTW_DL_VOID(lib, name, params, args)    \
	void name params                        \
	{                                       \
		CTW_DL_RESOLVE(lib, name) args; \
	}

#endif /* CTW_LIB_H */
