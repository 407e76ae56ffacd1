/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace/ private: the per-syscall description and the decoding context
 * shared by its .c files.
 *
 *   outbuf.c      the output buffer
 *   fmt_util.c    numbers, strace's string quoting, flag and enum tables
 *   format.c      one event as a line (prefix, arguments, "= ret") or JSON
 *   dec_*.c       the decoders, one family of syscalls each
 *   syscalls.c    the syscall table: argument kinds, captures, classes
 */
#ifndef CTW_TRACE_INTERNAL_H
#define CTW_TRACE_INTERNAL_H

#include <string.h>

#include "trace.h"

/* ---- output primitives (fmt_util.c; the buffer: lib/outbuf.c) ---- */

/* The fast paths inline: every line reserves room for itself first, so
 * the call out is rare. */
static inline void put_c(struct ctw_outbuf *o, char c)
{
	if (__builtin_expect(o->len + 2 > o->cap, 0))
		ctw_outbuf_reserve(o, 1);
	o->buf[o->len++] = c;
}

static inline void put_n(struct ctw_outbuf *o, const void *s, size_t n)
{
	if (__builtin_expect(o->len + n + 1 > o->cap, 0))
		ctw_outbuf_reserve(o, n);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

#define put_s(o, s) put_n(o, s, strlen(s))
void put_u64(struct ctw_outbuf *o, uint64_t v);
void put_i64(struct ctw_outbuf *o, int64_t v);
void put_hex(struct ctw_outbuf *o, uint64_t v); /* 0x1f, 0 */
void put_ptr(struct ctw_outbuf *o, uint64_t v); /* NULL, 0x7ffd... */
void put_octal(struct ctw_outbuf *o, uint64_t v);
/* strace's quoting with hex escapes for every byte (getrandom). */
void put_quoted_hex(struct ctw_outbuf *o, const void *s, size_t n, size_t max, bool more);

struct xlat {
	uint64_t val;
	const char *name;
};

#define XLAT(v)       \
	{             \
		v, #v \
	}

/* The bits of v named in tab, '|'-joined, leftover bits in hex; v == 0 is
 * zero (or "0"). */
void put_flags(struct ctw_outbuf *o, const struct xlat *tab, size_t n, uint64_t v,
	       const char *zero);
/* The name of v in tab, or the number and "dflt" as a comment when it has
 * none (strace: 0x63 / * RLIMIT_??? * /); dflt NULL prints just the number. */
void put_enum_ex(struct ctw_outbuf *o, const struct xlat *tab, size_t n, int64_t v, bool hex,
		 const char *dflt);
const char *xlat_name(const struct xlat *tab, size_t n, uint64_t v);
#define put_enum(o, tab, v) put_enum_ex(o, tab, ARRAY_SIZE(tab), v, false, NULL)

/* ---- -ff: one output file per thread (ffout.c) ---- */

struct ctw_ffout;
struct ctw_ffout *ctw_ffout_new(const char *prefix);
/* The buffer for tid's file PREFIX.TID, opened when first needed. */
struct ctw_outbuf *ctw_ffout_get(struct ctw_ffout *f, uint32_t tid);
/* tid exited: flush and close its file. */
void ctw_ffout_done(struct ctw_ffout *f, uint32_t tid);
/* Flush every open file; the first error (-errno) or 0. */
int ctw_ffout_flush(struct ctw_ffout *f);
void ctw_ffout_free(struct ctw_ffout *f);

/* ---- the decoding context ---- */

#define CTW_ITEMS_MAX 48

struct ctw_sysinfo;

/* One event being formatted: its items indexed once, the output. */
struct dctx {
	struct ctw_outbuf *o;
	const struct ctw_trace_fmt *f;
	const struct ctw_trace_event *ev;
	const struct ctw_sysinfo *si;
	const struct ctw_trace_item *items[CTW_ITEMS_MAX];
	unsigned nitems;
};

/* ---- items.c ---- */
/* Index the items of an event's payload into d (up to CTW_ITEMS_MAX). */
void item_index(struct dctx *d, const void *payload, size_t len);
/* The last item of argument arg and kind (without TRACE_ITEM_EXIT),
 * captured at exit or at enter as asked; its data, or NULL. */
const void *item_get(const struct dctx *d, int arg, unsigned kind, bool at_exit,
		     const struct ctw_trace_item **it);
/* The n-th (0-based) item of a kind, for iovec data. */
const void *item_nth(const struct dctx *d, int arg, unsigned kind, bool at_exit, uint32_t index,
		     const struct ctw_trace_item **it);
/* Copy the captured bytes of an item into dst (zero-filled past what was
 * captured); false when there is no such item or it is shorter than min. */
bool item_copy(const struct dctx *d, int arg, unsigned kind, bool at_exit, void *dst, size_t size,
	       size_t min);

static inline bool is_err(int64_t ret)
{
	return ret < 0 && ret >= -4095;
}

/* strace's -s limits arrays too: at most strsize elements, then "...".
 * True when element k is past that (and the "..." is written). */
static inline bool elem_cut(struct dctx *d, size_t k)
{
	if (k < d->f->strsize)
		return false;
	put_n(d->o, k ? ", ..." : "...", k ? 5 : 3);
	return true;
}

static inline bool ev_failed(const struct dctx *d)
{
	return is_err(d->ev->ret) || (d->ev->flags & TRACE_EV_NORETURN);
}

/* ---- the syscall table ---- */

/* Prints argument i of the event in d. */
typedef void (*ctw_argfn)(struct dctx *d, int i);
/* Prints what strace adds after the return value: " (flags O_RDWR)". */
typedef void (*ctw_retfn)(struct dctx *d);

struct ctw_sysinfo {
	char name[32]; /* "" when libseccomp has no name */
	bool known;    /* described by the table */
	bool ret_hex;  /* returns an address */
	bool ret_fd;   /* returns an fd */
	uint8_t nargs;
	unsigned classes; /* CTW_TC_* */
	ctw_argfn fn[TRACE_NARGS];
	ctw_retfn ret;
	/* how many arguments strace shows for this call, NULL = nargs */
	int (*shown)(const struct dctx *d);
	struct ctw_trace_spec spec; /* captures, without TRACE_SPEC_SELECTED */
};

/* NULL for nr out of range. */
const struct ctw_sysinfo *ctw_trace_sysinfo(int nr);

/* -y: "<what fd is>" after an fd of argument arg (TRACE_NARGS: the
 * return value), when it was captured (dec_fd.c). */
void put_fd_info(struct dctx *d, int arg, int64_t fd);

/* ---- argument printers, by family (dec_*.c) ---- */

#define ARGFN(name) void name(struct dctx *d, int i)

/* plain values (format.c) */
ARGFN(arg_int);
ARGFN(arg_long);
ARGFN(arg_uint);
ARGFN(arg_ulong);
ARGFN(arg_hex);
ARGFN(arg_ptr);
ARGFN(arg_fd);
ARGFN(arg_dfd);
ARGFN(arg_path);
ARGFN(arg_str);
ARGFN(arg_bufin);
ARGFN(arg_bufout);
ARGFN(arg_bufout_hex);
ARGFN(arg_pathout);
ARGFN(arg_octal);
ARGFN(arg_intp);     /* int *: [N] */
ARGFN(arg_intp_out); /* int * written by the kernel */
ARGFN(arg_socklen);  /* socklen_t *: [IN => OUT] */
ARGFN(arg_fdpair);   /* int[2] written by the kernel: [3, 4] */
ARGFN(arg_loff);     /* loff_t * in and out: [0] => [3] */

/* files (dec_file.c) */
ARGFN(arg_oflags);
ARGFN(arg_atflags);
ARGFN(arg_access);
ARGFN(arg_whence);
ARGFN(arg_fdflags);
ARGFN(arg_stat);
ARGFN(arg_statx);
ARGFN(arg_statx_flags);
ARGFN(arg_statx_mask);
ARGFN(arg_dents);
ARGFN(arg_fcntl_cmd);
ARGFN(arg_fcntl_arg);
ARGFN(arg_flock_how);
ARGFN(arg_unlink_flags);
ARGFN(arg_renameat2_flags);
ARGFN(arg_xattr_flags);
int shown_open(const struct dctx *d);
int shown_fcntl(const struct dctx *d);
bool fcntl_returns_fd(const struct dctx *d);
void ret_fcntl(struct dctx *d);
void ret_octal(struct dctx *d);

/* memory (dec_mem.c) */
ARGFN(arg_prot);
ARGFN(arg_mflags);
ARGFN(arg_madvise);
ARGFN(arg_mremap_flags);
ARGFN(arg_msync_flags);
ARGFN(arg_mlock_flags);

/* signals (dec_signal.c) */
ARGFN(arg_sig);
ARGFN(arg_sighow);
ARGFN(arg_sigact);
ARGFN(arg_sigact_out);
ARGFN(arg_sigset);
ARGFN(arg_sigset_out);
ARGFN(arg_sigframe);
ARGFN(arg_siginfo_in);
ARGFN(arg_sigaltstack);
ARGFN(arg_sigaltstack_out);
void put_sigset(struct ctw_outbuf *o, uint64_t set);
void put_siginfo(struct ctw_outbuf *o, const void *info, size_t len);

/* processes (dec_proc.c) */
ARGFN(arg_argv);
ARGFN(arg_envp);
ARGFN(arg_execveat_flags);
ARGFN(arg_clone);
ARGFN(arg_clone3);
ARGFN(arg_clone_flags);
ARGFN(arg_wstatus);
ARGFN(arg_waitopt);
ARGFN(arg_rusage);
ARGFN(arg_idtype);
ARGFN(arg_siginfo_out);
ARGFN(arg_rlimit_res);
ARGFN(arg_rlimit);
ARGFN(arg_rlimit_out);
ARGFN(arg_utsname);
ARGFN(arg_prctl_op);
ARGFN(arg_prctl_arg);
ARGFN(arg_arch_prctl);
ARGFN(arg_caphdr);
ARGFN(arg_capdata);
ARGFN(arg_capdata_out);
ARGFN(arg_futex);
ARGFN(arg_grnd_flags);
ARGFN(arg_which_prio);
ARGFN(arg_rusage_who);
int shown_clone(const struct dctx *d);
int shown_prctl(const struct dctx *d);
int shown_futex(const struct dctx *d);
void ret_prctl(struct dctx *d);

/* time (dec_time.c) */
ARGFN(arg_timespec);
ARGFN(arg_timespec_out);
ARGFN(arg_timespec_rem);
ARGFN(arg_timeval_out);
ARGFN(arg_clockid);
ARGFN(arg_timer_flags);
ARGFN(arg_itimer_which);
void put_timespec(struct ctw_outbuf *o, const void *ts);
void put_timeval(struct ctw_outbuf *o, const void *tv);

/* I/O multiplexing and ioctl (dec_io.c) */
ARGFN(arg_iov_in);
ARGFN(arg_iov_out);
ARGFN(arg_pollfds);
ARGFN(arg_fdset);
ARGFN(arg_select_tv);
ARGFN(arg_pselect_ts);
ARGFN(arg_pselect_sig);
ARGFN(arg_ppoll_ts);
ARGFN(arg_epoll_op);
ARGFN(arg_epoll_event);
ARGFN(arg_epoll_events);
ARGFN(arg_epoll_flags);
ARGFN(arg_ioctl_req);
ARGFN(arg_ioctl_arg);
int shown_ioctl(const struct dctx *d);
void ret_poll(struct dctx *d);
void ret_select(struct dctx *d);
/* an iovec array from its items: data in or out */
void put_iov(struct dctx *d, int i, bool out, int64_t limit);

/* sockets (dec_net.c) */
ARGFN(arg_domain);
ARGFN(arg_socktype);
ARGFN(arg_sockproto);
ARGFN(arg_sockaddr_in);
ARGFN(arg_sockaddr_out);
ARGFN(arg_msgflags);
ARGFN(arg_sockflags);
ARGFN(arg_msghdr_in);
ARGFN(arg_msghdr_out);
ARGFN(arg_sol);
ARGFN(arg_sockopt_name);
ARGFN(arg_sockopt_val);
ARGFN(arg_sockopt_val_out);
ARGFN(arg_shutdown_how);

#endif
