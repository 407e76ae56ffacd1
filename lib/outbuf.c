// SPDX-License-Identifier: Apache-2.0
/*
 * The growable output buffer: trace lines are appended to it and flushed to
 * an fd with write(2) when full (no stdio, no per-event allocation); with
 * fd < 0 it is a string builder kept in memory (JSON, nft scripts, the
 * metrics exposition, tests).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "lib.h"

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
 * for single lines larger than the buffer (from 256 bytes when empty). */
void ctw_outbuf_grow(struct ctw_outbuf *o, size_t n)
{
	if (o->len + n + 1 <= o->cap)
		return;
	if (o->fd >= 0)
		ctw_outbuf_flush(o);
	size_t old = o->cap, cap = o->cap ? o->cap : 256;
	while (o->len + n + 1 > cap)
		cap *= 2;
	if (cap == old)
		return;
	o->buf = xrealloc(o->buf, cap);
	o->cap = cap;
	ctw_mem_populate(o->buf + old, cap - old);
}

const char *ctw_outbuf_str(struct ctw_outbuf *o)
{
	ctw_outbuf_reserve(o, 0);
	o->buf[o->len] = '\0';
	return o->buf;
}

char *ctw_outbuf_take(struct ctw_outbuf *o)
{
	ctw_outbuf_str(o);
	char *text = o->buf;
	o->buf = NULL;
	o->len = o->cap = 0;
	return text;
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
	ctw_outbuf_reserve(o, n);
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, n + 1, fmt, ap);
	va_end(ap);
	o->len += n;
}
