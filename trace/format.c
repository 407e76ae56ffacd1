// SPDX-License-Identifier: Apache-2.0
/*
 * One event as strace -f prints it, or as a JSON object:
 *
 *   1234  openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3
 *   1234  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---
 *   1234  +++ exited with 0 +++
 *
 * The prefix (pid, "[pid N]", the container, -t), the arguments through
 * each syscall's printers (dec_*.c), " = " at strace's column 40, the return
 * value with its errno or decoded extras, and -T's duration.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* strace aligns " = " at this column */
#define RET_COLUMN 40
/* room for any one line, so that a line is never flushed half-way (its
 * column is counted in the buffer) */
#define LINE_MAX_BYTES (32u << 10)

/* ---- errno and return values ---- */

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

static void put_errno(struct ctw_outbuf *o, int64_t ret)
{
	int err = (int)-ret;
	const char *name = ctw_trace_errno_name(err);
	const char *text = kernel_errno_text(err);

	/* strace: interrupted-and-restarted calls return "?" */
	put_s(o, text ? "? " : "-1 ");
	if (name) {
		put_s(o, name);
	} else {
		put_c(o, 'E');
		put_u64(o, err);
	}
	put_s(o, " (");
	put_s(o, text ? text : strerror(err));
	put_c(o, ')');
}

void ctw_trace_format_ret(struct ctw_outbuf *o, int nr, int64_t ret)
{
	const struct ctw_sysinfo *si = ctw_trace_sysinfo(nr);

	if (is_err(ret))
		put_errno(o, ret);
	else if (si && si->ret_hex)
		put_hex(o, ret);
	else
		put_i64(o, ret);
}

/* ---- the line ---- */

static void put_duration(struct ctw_outbuf *o, uint64_t ns)
{
	uint64_t us = ns % 1000000000 / 1000;
	char frac[6];

	put_u64(o, ns / 1000000000);
	for (int i = 5; i >= 0; i--, us /= 10)
		frac[i] = '0' + us % 10;
	put_c(o, '.');
	put_n(o, frac, 6);
}

static void put_timestamp(struct ctw_outbuf *o, const struct ctw_trace_fmt *f, uint64_t mono_ns)
{
	int64_t real = (int64_t)mono_ns + f->realtime_off;
	time_t secs = real / 1000000000;
	struct tm tm;
	char tmp[40];
	size_t n;

	if (f->timestamps > 2) {
		/* -ttt: seconds since the epoch */
		n = snprintf(tmp, sizeof(tmp), "%lld.%06lld ", (long long)secs,
			     (long long)(real % 1000000000 / 1000));
		put_n(o, tmp, n);
		return;
	}
	localtime_r(&secs, &tm);
	n = strftime(tmp, sizeof(tmp), "%H:%M:%S", &tm);
	put_n(o, tmp, n);
	if (f->timestamps > 1) {
		n = snprintf(tmp, sizeof(tmp), ".%06lld", (long long)(real % 1000000000 / 1000));
		put_n(o, tmp, n);
	}
	put_c(o, ' ');
}

/* What strace -f puts first: "1234  " in a file, "[pid  1234] " on a
 * terminal; then the container when several are traced, then -t. */
static void put_prefix(struct dctx *d, const char *container)
{
	struct ctw_outbuf *o = d->o;
	const struct ctw_trace_fmt *f = d->f;

	if (f->show_container) {
		put_c(o, '[');
		put_s(o, container);
		put_n(o, "] ", 2);
	}
	if (f->prefix == CTW_PFX_FILE) {
		/* "%-5d " */
		size_t start = o->len;

		put_u64(o, d->ev->tid);
		while (o->len - start < 5)
			put_c(o, ' ');
		put_c(o, ' ');
	} else if (f->prefix == CTW_PFX_BRACKET) {
		/* "[pid %5u] " */
		char tmp[16];
		int i = sizeof(tmp);
		uint32_t v = d->ev->tid;

		do {
			tmp[--i] = '0' + v % 10;
			v /= 10;
		} while (v);
		while (i > (int)sizeof(tmp) - 5)
			tmp[--i] = ' ';
		put_n(o, "[pid ", 5);
		put_n(o, tmp + i, sizeof(tmp) - i);
		put_n(o, "] ", 2);
	}
	if (f->timestamps)
		put_timestamp(o, f, d->ev->ts_ns);
}

static int shown_args(const struct dctx *d)
{
	const struct ctw_sysinfo *si = d->si;

	if (!si)
		return 0;
	if (si->shown)
		return si->shown(d);
	return si->nargs;
}

static void format_syscall(struct dctx *d, size_t line_start)
{
	struct ctw_outbuf *o = d->o;
	const struct ctw_sysinfo *si = d->si;
	const struct ctw_trace_event *ev = d->ev;
	int n = shown_args(d);
	size_t col;

	if (si && si->name[0]) {
		put_s(o, si->name);
	} else {
		put_s(o, "syscall_");
		put_u64(o, ev->nr);
	}
	put_c(o, '(');
	for (int i = 0; i < n; i++) {
		if (i)
			put_n(o, ", ", 2);
		si->fn[i](d, i);
	}
	put_n(o, ") ", 2);
	/* strace's tabto(): pad to the column, then "= " */
	col = o->len >= line_start ? o->len - line_start : RET_COLUMN;
	while (col++ < RET_COLUMN)
		put_c(o, ' ');
	put_n(o, "= ", 2);
	if (ev->flags & TRACE_EV_NORETURN)
		put_c(o, '?');
	else if (is_err(ev->ret))
		put_errno(o, ev->ret);
	else if (si && si->ret)
		si->ret(d);
	else
		ctw_trace_format_ret(o, ev->nr, ev->ret);
	/* the fd returned; fcntl returns one only for F_DUPFD* */
	if (d->f->decode_fds && si && si->ret_fd && !ev_failed(d) &&
	    (si->ret != ret_fcntl || fcntl_returns_fd(d)))
		put_fd_info(d, TRACE_NARGS, ev->ret);
	if (d->f->durations && !(ev->flags & TRACE_EV_NORETURN)) {
		put_n(o, " <", 2);
		put_duration(o, ev->duration_ns);
		put_c(o, '>');
	}
}

static void format_signal(struct dctx *d)
{
	struct ctw_outbuf *o = d->o;
	const struct ctw_trace_item *it;
	const void *info = item_get(d, 0, TRACE_IT_SIGINFO, false, &it);

	put_n(o, "--- ", 4);
	ctw_trace_format_signal(o, d->ev->args[0]);
	put_c(o, ' ');
	if (info)
		put_siginfo(o, info, it->len);
	else
		put_s(o, "{}");
	put_n(o, " ---", 4);
}

static void format_exit(struct dctx *d)
{
	struct ctw_outbuf *o = d->o;
	int code = (int)d->ev->ret;

	if (code & 0x7f) {
		put_s(o, "+++ killed by ");
		ctw_trace_format_signal(o, code & 0x7f);
		if (code & 0x80)
			put_s(o, " (core dumped)");
	} else {
		put_s(o, "+++ exited with ");
		put_u64(o, (code >> 8) & 0xff);
	}
	put_s(o, " +++");
}

/* ---- JSON ---- */

/* Render with fn into a side buffer (one per thread, reused) and emit it as
 * a JSON string. */
static struct ctw_outbuf *side_buffer(void)
{
	static __thread struct ctw_outbuf side;

	if (!side.buf)
		ctw_outbuf_init(&side, -1, 4096);
	side.len = 0;
	return &side;
}

/* JSON: numbers for numbers, raw strings for strings and paths, and the
 * strace rendering (as a string) for everything symbolic. */
static void put_json_arg(struct dctx *d, int i)
{
	ctw_argfn fn = d->si->fn[i];
	struct ctw_outbuf *o = d->o, *side;

	if (fn == arg_fd) {
		put_i64(o, (int32_t)d->ev->args[i]); /* a number, -y or not */
		return;
	}
	if (fn == arg_int || fn == arg_long || fn == arg_uint || fn == arg_ulong) {
		fn(d, i);
		return;
	}
	if (fn == arg_path || fn == arg_str) {
		const struct ctw_trace_item *it;
		const char *s = item_get(d, i, TRACE_CAP_STR, false, &it);

		if (s) {
			ctw_json_put(o, s, strnlen(s, it->len ? it->len - 1 : 0), 0);
			return;
		}
	}
	side = side_buffer();
	d->o = side;
	fn(d, i);
	d->o = o;
	ctw_json_put(o, side->buf, side->len, 0);
}

static void json_head(struct dctx *d, const char *container, const char *event)
{
	struct ctw_outbuf *o = d->o;
	const struct ctw_trace_event *ev = d->ev;

	ctw_outbuf_puts(o, "{\"container\":");
	ctw_json_put(o, container, strlen(container), 0);
	put_s(o, ",\"pid\":");
	put_u64(o, ev->pid);
	put_s(o, ",\"tid\":");
	put_u64(o, ev->tid);
	put_s(o, ",\"comm\":");
	ctw_json_put(o, ev->comm, strnlen(ev->comm, sizeof(ev->comm)), 0);
	put_s(o, ",\"event\":\"");
	put_s(o, event);
	put_c(o, '"');
}

static void format_json(struct dctx *d, const char *container)
{
	struct ctw_outbuf *o = d->o;
	const struct ctw_trace_event *ev = d->ev;
	const struct ctw_sysinfo *si = d->si;
	int n;

	if (ev->nr == TRACE_NR_SIGNAL) {
		struct ctw_outbuf *side = side_buffer();
		const struct ctw_trace_item *it;
		const void *info = item_get(d, 0, TRACE_IT_SIGINFO, false, &it);

		json_head(d, container, "signal");
		put_s(o, ",\"signal\":");
		ctw_trace_format_signal(side, ev->args[0]);
		ctw_json_put(o, side->buf, side->len, 0);
		side->len = 0;
		put_s(o, ",\"siginfo\":");
		if (info)
			put_siginfo(side, info, it->len);
		ctw_json_put(o, side->buf, side->len, 0);
		if (ev->flags & TRACE_EV_STOPS)
			put_s(o, ",\"stopped\":true");
	} else if (ev->nr == TRACE_NR_EXIT) {
		int code = (int)ev->ret;

		json_head(d, container, "exit");
		put_s(o, ",\"exit_code\":");
		if (code & 0x7f) {
			struct ctw_outbuf *side = side_buffer();

			ctw_trace_format_signal(side, code & 0x7f);
			put_s(o, "null,\"killed_by\":");
			ctw_json_put(o, side->buf, side->len, 0);
			put_s(o, code & 0x80 ? ",\"core_dumped\":true" : ",\"core_dumped\":false");
		} else {
			put_u64(o, (code >> 8) & 0xff);
		}
	} else {
		const char *name = si && si->name[0] ? si->name : NULL;

		json_head(d, container, "syscall");
		put_s(o, ",\"syscall\":");
		if (name) {
			ctw_json_put(o, name, strlen(name), 0);
		} else {
			put_s(o, "\"syscall_");
			put_u64(o, ev->nr);
			put_c(o, '"');
		}
		put_s(o, ",\"args\":[");
		n = shown_args(d);
		for (int i = 0; i < n; i++) {
			if (i)
				put_c(o, ',');
			put_json_arg(d, i);
		}
		put_s(o, "],\"ret\":");
		if (ev->flags & TRACE_EV_NORETURN)
			put_s(o, "null");
		else
			put_i64(o, is_err(ev->ret) ? -1 : ev->ret);
		put_s(o, ",\"errno\":");
		if (is_err(ev->ret) && !(ev->flags & TRACE_EV_NORETURN)) {
			const char *en = ctw_trace_errno_name((int)-ev->ret);

			if (en)
				ctw_json_put(o, en, strlen(en), 0);
			else
				put_u64(o, -ev->ret);
		} else {
			put_s(o, "null");
		}
		put_s(o, ",\"duration_ns\":");
		put_u64(o, ev->duration_ns);
	}
	put_s(o, ",\"ts_ns\":");
	put_u64(o, ev->ts_ns);
	put_n(o, "}\n", 2);
}

void ctw_trace_format_event(struct ctw_outbuf *o, const struct ctw_trace_fmt *f,
			    const struct ctw_trace_event *ev, const void *payload,
			    const char *container)
{
	struct dctx d;
	size_t line_start;

	/* not d = {...}: the item array needs no zeroing, nitems says */
	d.o = o;
	d.f = f;
	d.ev = ev;
	d.si = ev->nr >= 0 ? ctw_trace_sysinfo(ev->nr) : NULL;
	item_index(&d, payload, ev->payload_len);
	ctw_outbuf_reserve(o, LINE_MAX_BYTES);
	if (f->json) {
		format_json(&d, container);
		return;
	}
	line_start = o->len;
	put_prefix(&d, container);
	if (ev->nr == TRACE_NR_SIGNAL) {
		format_signal(&d);
		if (ev->flags & TRACE_EV_STOPS) {
			/* its default action stops the task: strace's second line */
			put_c(o, '\n');
			put_prefix(&d, container);
			put_s(o, "--- stopped by ");
			ctw_trace_format_signal(o, ev->args[0]);
			put_s(o, " ---");
		}
	} else if (ev->nr == TRACE_NR_EXIT)
		format_exit(&d);
	else
		format_syscall(&d, line_start);
	put_c(o, '\n');
}
