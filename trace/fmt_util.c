// SPDX-License-Identifier: Apache-2.0
/*
 * The small pieces every decoder prints with: numbers without printf,
 * strace's string quoting, named flags and values from tables, errno names.
 *
 * This runs for every event at up to millions of events per second, so
 * numbers are formatted by hand and nothing here allocates.
 */
#include <string.h>

#include "internal.h"

void put_u64(struct ctw_outbuf *o, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	put_n(o, tmp + i, sizeof(tmp) - i);
}

void put_i64(struct ctw_outbuf *o, int64_t v)
{
	if (v < 0) {
		put_c(o, '-');
		put_u64(o, -(uint64_t)v);
	} else {
		put_u64(o, v);
	}
}

void put_hex(struct ctw_outbuf *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[20];
	int i = sizeof(tmp);

	if (!v) {
		put_c(o, '0');
		return;
	}
	while (v) {
		tmp[--i] = digits[v & 15];
		v >>= 4;
	}
	tmp[--i] = 'x';
	tmp[--i] = '0';
	put_n(o, tmp + i, sizeof(tmp) - i);
}

void put_ptr(struct ctw_outbuf *o, uint64_t v)
{
	if (!v)
		put_n(o, "NULL", 4);
	else
		put_hex(o, v);
}

/* strace's %#03o: 0644, 022, 007, 000 */
void put_octal(struct ctw_outbuf *o, uint64_t v)
{
	char tmp[26];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + (v & 7);
		v >>= 3;
	} while (v);
	if (tmp[i] != '0')
		tmp[--i] = '0';
	while (sizeof(tmp) - i < 3)
		tmp[--i] = '0';
	put_n(o, tmp + i, sizeof(tmp) - i);
}

/* strace's quoting: printable ASCII as is, the C escapes, everything else
 * in octal (three digits when a digit follows, so it stays unambiguous). */
void ctw_trace_quote(struct ctw_outbuf *o, const char *s, size_t n, size_t max, bool more)
{
	size_t shown = n > max ? max : n;

	ctw_outbuf_reserve(o, shown * 4 + 8);
	put_c(o, '"');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"': put_n(o, "\\\"", 2); continue;
		case '\\': put_n(o, "\\\\", 2); continue;
		case '\f': put_n(o, "\\f", 2); continue;
		case '\n': put_n(o, "\\n", 2); continue;
		case '\r': put_n(o, "\\r", 2); continue;
		case '\t': put_n(o, "\\t", 2); continue;
		case '\v': put_n(o, "\\v", 2); continue;
		}
		if (c >= ' ' && c < 0x7f) {
			put_c(o, c);
			continue;
		}
		put_c(o, '\\');
		bool pad = i + 1 < shown && s[i + 1] >= '0' && s[i + 1] <= '7';
		if (pad || c >= 0100)
			put_c(o, '0' + (c >> 6));
		if (pad || c >= 010)
			put_c(o, '0' + ((c >> 3) & 7));
		put_c(o, '0' + (c & 7));
	}
	put_c(o, '"');
	if (more || n > max)
		put_n(o, "...", 3);
}

void put_quoted_hex(struct ctw_outbuf *o, const void *s, size_t n, size_t max, bool more)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = s;
	size_t shown = n > max ? max : n;

	ctw_outbuf_reserve(o, shown * 4 + 8);
	put_c(o, '"');
	for (size_t i = 0; i < shown; i++) {
		put_c(o, '\\');
		put_c(o, 'x');
		put_c(o, digits[p[i] >> 4]);
		put_c(o, digits[p[i] & 15]);
	}
	put_c(o, '"');
	if (more || n > max)
		put_n(o, "...", 3);
}

void put_flags(struct ctw_outbuf *o, const struct xlat *tab, size_t n, uint64_t v, const char *zero)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (tab[i].val && (v & tab[i].val) == tab[i].val) {
			if (!first)
				put_c(o, '|');
			put_s(o, tab[i].name);
			v &= ~tab[i].val;
			first = false;
		}
	}
	if (v || first) {
		if (!first)
			put_c(o, '|');
		if (!v && zero)
			put_s(o, zero);
		else
			put_hex(o, v);
	}
}

const char *xlat_name(const struct xlat *tab, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].val == v)
			return tab[i].name;
	return NULL;
}

void put_enum_ex(struct ctw_outbuf *o, const struct xlat *tab, size_t n, int64_t v, bool hex,
		 const char *dflt)
{
	const char *name = xlat_name(tab, n, (uint64_t)v);

	if (name) {
		put_s(o, name);
		return;
	}
	if (hex)
		put_hex(o, (uint64_t)v);
	else
		put_i64(o, v);
	if (dflt) {
		put_s(o, " /* ");
		put_s(o, dflt);
		put_s(o, " */");
	}
}

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
