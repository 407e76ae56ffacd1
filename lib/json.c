// SPDX-License-Identifier: Apache-2.0
/*
 * JSON string escaping, the one place for it: trace --json (millions of
 * events a second, into an outbuf), the CLI's --json streams (FILE) and the
 * JSON log lines.
 */
#include <string.h>

#include "lib.h"

void ctw_json_put(struct ctw_outbuf *o, const char *s, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	bool keep_high = flags & CTW_JSON_UTF8;

	ctw_outbuf_reserve(o, n * 6 + 2);
	o->buf[o->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		char *p = o->buf + o->len;

		if (c == '"' || c == '\\') {
			p[0] = '\\';
			p[1] = c;
			o->len += 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			p[0] = '\\';
			p[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			o->len += 2;
		} else if (c < 0x20 || c == 0x7f || (c > 0x7f && !keep_high)) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			o->len += 6;
		} else {
			p[0] = c;
			o->len++;
		}
	}
	o->buf[o->len++] = '"';
}

void ctw_json_fput(FILE *f, const char *s, size_t n, unsigned flags)
{
	/* One buffer per thread, kept: the --json streams call this for every
	 * string of every event, which must not cost an allocation each. */
	static __thread struct ctw_outbuf o;

	if (!o.buf)
		ctw_outbuf_init(&o, -1, 4096);
	ctw_outbuf_reset(&o);
	ctw_json_put(&o, s, n, flags);
	fwrite(o.buf, 1, o.len, f);
}

void ctw_json_string_n(FILE *f, const char *s, size_t n)
{
	ctw_json_fput(f, s, n, 0);
}

void ctw_json_string(FILE *f, const char *s)
{
	ctw_json_string_n(f, s ? s : "", s ? strlen(s) : 0);
}
