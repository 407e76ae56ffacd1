// SPDX-License-Identifier: Apache-2.0
/*
 * Printers of plain arguments: numbers, fds, paths and strings, data
 * buffers, and the small out-parameters strace shows in brackets
 * ([3, 4] for a pipe, [110 => 16] for a socklen_t in and out).
 *
 * A pointer whose data was not captured (NULL, unreadable, or the call
 * failed and wrote nothing) prints as the address, as strace does.
 */
#include <fcntl.h>
#include <string.h>

#include "internal.h"

ARGFN(arg_int)
{
	put_i64(d->o, (int32_t)d->ev->args[i]);
}

ARGFN(arg_long)
{
	put_i64(d->o, (int64_t)d->ev->args[i]);
}

ARGFN(arg_uint)
{
	put_u64(d->o, (uint32_t)d->ev->args[i]);
}

ARGFN(arg_ulong)
{
	put_u64(d->o, d->ev->args[i]);
}

ARGFN(arg_hex)
{
	put_hex(d->o, d->ev->args[i]);
}

ARGFN(arg_ptr)
{
	put_ptr(d->o, d->ev->args[i]);
}

ARGFN(arg_octal)
{
	put_octal(d->o, (uint32_t)d->ev->args[i]);
}

ARGFN(arg_fd)
{
	put_i64(d->o, (int32_t)d->ev->args[i]);
	if (d->f->decode_fds)
		put_fd_info(d, i, (int32_t)d->ev->args[i]);
}

ARGFN(arg_dfd)
{
	if ((int32_t)d->ev->args[i] != AT_FDCWD) {
		arg_fd(d, i);
		return;
	}
	put_s(d->o, "AT_FDCWD");
	if (d->f->decode_fds)
		put_fd_info(d, i, AT_FDCWD); /* the working directory */
}

/* A captured string; max is what is shown of it (paths: everything). */
static void put_string(struct dctx *d, int i, size_t max)
{
	const struct ctw_trace_item *it;
	const char *s = item_get(d, i, TRACE_CAP_STR, false, &it);
	size_t n;

	if (!s)
		s = item_get(d, i, TRACE_CAP_STR, true, &it);
	if (!s) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	n = it->len ? it->len - 1 : 0; /* len counts the NUL */
	/* a string that filled its capture slot was cut */
	ctw_trace_quote(d->o, s, strnlen(s, n), max, it->len >= TRACE_STR_MAX);
}

/* Paths are never cut by -s, as in strace. */
ARGFN(arg_path)
{
	put_string(d, i, SIZE_MAX);
}

ARGFN(arg_str)
{
	put_string(d, i, d->f->strsize);
}

/* Data passed in: full_len is the size the caller gave. */
ARGFN(arg_bufin)
{
	const struct ctw_trace_item *it;
	const char *s = item_get(d, i, TRACE_CAP_MEM, false, &it);

	if (!s)
		put_ptr(d->o, d->ev->args[i]);
	else
		ctw_trace_quote(d->o, s, it->len, d->f->strsize, it->full_len > it->len);
}

static void bufout(struct dctx *d, int i, bool hex)
{
	const struct ctw_trace_item *it;
	const char *s = ev_failed(d) ? NULL : item_get(d, i, TRACE_CAP_MEM, true, &it);

	if (!s && !ev_failed(d) && d->ev->ret == 0 && d->ev->args[i]) {
		put_s(d->o, "\"\""); /* nothing read */
		return;
	}
	if (!s)
		put_ptr(d->o, d->ev->args[i]);
	else if (hex)
		put_quoted_hex(d->o, s, it->len, d->f->strsize, it->full_len > it->len);
	else
		ctw_trace_quote(d->o, s, it->len, d->f->strsize, it->full_len > it->len);
}

/* Data the kernel wrote: as many bytes as the call returned. */
ARGFN(arg_bufout)
{
	bufout(d, i, false);
}

/* getrandom's bytes: strace shows them all in hex. */
ARGFN(arg_bufout_hex)
{
	bufout(d, i, true);
}

/* getcwd: a path the kernel wrote, NUL included in the count. */
ARGFN(arg_pathout)
{
	const struct ctw_trace_item *it;
	const char *s = ev_failed(d) ? NULL : item_get(d, i, TRACE_CAP_MEM, true, &it);

	if (!s)
		put_ptr(d->o, d->ev->args[i]);
	else
		ctw_trace_quote(d->o, s, strnlen(s, it->len), SIZE_MAX, false);
}

static bool read_int(const struct dctx *d, int i, bool at_exit, int32_t *v)
{
	return item_copy(d, i, TRACE_CAP_MEM, at_exit, v, sizeof(*v), sizeof(*v));
}

/* int * passed in: [1] */
ARGFN(arg_intp)
{
	int32_t v;

	if (!read_int(d, i, false, &v)) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_c(d->o, '[');
	put_i64(d->o, v);
	put_c(d->o, ']');
}

/* int * the kernel writes: [5] */
ARGFN(arg_intp_out)
{
	int32_t v;

	if (ev_failed(d) || !read_int(d, i, true, &v)) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_c(d->o, '[');
	put_i64(d->o, v);
	put_c(d->o, ']');
}

/* socklen_t * in and out: [16], or [110 => 16] when the kernel changed it */
ARGFN(arg_socklen)
{
	int32_t in, out;
	bool has_in = read_int(d, i, false, &in);
	bool has_out = !ev_failed(d) && read_int(d, i, true, &out);

	if (!has_in && !has_out) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_c(d->o, '[');
	if (has_in)
		put_i64(d->o, in);
	if (has_out && (!has_in || in != out)) {
		if (has_in)
			put_s(d->o, " => ");
		put_i64(d->o, out);
	}
	put_c(d->o, ']');
}

/* int[2] the kernel fills (pipe, socketpair): [3, 4] */
ARGFN(arg_fdpair)
{
	int32_t fds[2];

	if (ev_failed(d) || !item_copy(d, i, TRACE_CAP_MEM, true, fds, sizeof(fds), sizeof(fds))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_c(d->o, '[');
	for (int k = 0; k < 2 && !elem_cut(d, k); k++) {
		if (k)
			put_s(d->o, ", ");
		put_i64(d->o, fds[k]);
		if (d->f->decode_fds)
			put_fd_info(d, i, fds[k]);
	}
	put_c(d->o, ']');
}

/* loff_t * in and out (sendfile, splice): [0] => [3] */
ARGFN(arg_loff)
{
	int64_t in, out;
	bool has_in = item_copy(d, i, TRACE_CAP_MEM, false, &in, sizeof(in), sizeof(in));
	bool has_out = !ev_failed(d) &&
		       item_copy(d, i, TRACE_CAP_MEM, true, &out, sizeof(out), sizeof(out));

	if (!has_in) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_c(d->o, '[');
	put_i64(d->o, in);
	put_c(d->o, ']');
	if (has_out) {
		put_s(d->o, " => [");
		put_i64(d->o, out);
		put_c(d->o, ']');
	}
}
