// SPDX-License-Identifier: Apache-2.0
/*
 * A defensive DNS message parser (RFC 1035 4.1).  Input comes from any
 * container on the host, so every read is bounds-checked against the
 * message length, and names obey:
 *   - a label is at most 63 bytes; length bytes 0x40-0xbf (extended label
 *     types, RFC 6891 6.2) are refused;
 *   - a name is at most 255 bytes on the wire, counted across pointers;
 *   - a compression pointer must land inside the message, after the header,
 *     and strictly before the start of the labels read since the previous
 *     jump (Knot DNS's rule).  Each jump therefore moves backwards, so no
 *     loop is possible; a hop limit is kept as a second fence.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append to text[*t] if there is room (keeping one byte for the NUL). */
static void put(char *text, size_t size, size_t *t, const char *s, size_t n)
{
	if (!text || !size)
		return;
	for (size_t i = 0; i < n && *t + 1 < size; i++)
		text[(*t)++] = s[i];
	text[*t] = '\0'; /* terminated even when a later label fails */
}

static void put_label(char *text, size_t size, size_t *t, const uint8_t *l, size_t n)
{
	char esc[5];

	for (size_t i = 0; i < n; i++) {
		uint8_t c = l[i];
		if (c == '.' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(text, size, t, esc, 2);
		} else if (c > 0x20 && c < 0x7f) {
			put(text, size, t, (const char *)&c, 1);
		} else {
			snprintf(esc, sizeof(esc), "\\%03u", c);
			put(text, size, t, esc, 4);
		}
	}
}

int ctw_dns_read_name(const uint8_t *buf, size_t len, size_t *off, char *text, size_t size)
{
	size_t pos = *off, end = 0, run_start = *off, wire = 0, t = 0;
	unsigned int hops = 0;
	bool jumped = false;

	if (text && size)
		text[0] = '\0';
	for (;;) {
		if (pos >= len)
			return -CTW_DNS_E_TRUNC;
		uint8_t c = buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -CTW_DNS_E_TRUNC;
			size_t target = (size_t)(c & 0x3f) << 8 | buf[pos + 1];
			if (!jumped) {
				end = pos + 2;
				jumped = true;
			}
			if (target < CTW_DNS_HDR_LEN || target >= len)
				return -CTW_DNS_E_PTR;
			if (target >= run_start || ++hops > CTW_DNS_MAX_PTR_HOPS)
				return -CTW_DNS_E_LOOP;
			pos = run_start = target;
			continue;
		}
		if (c & 0xc0)
			return -CTW_DNS_E_LABEL;
		if (c == 0) {
			/* wire counts the labels and their length bytes; the
			 * root label's zero byte makes it + 1. */
			if (wire + 1 > CTW_DNS_MAX_NAME)
				return -CTW_DNS_E_NAME;
			pos++;
			break;
		}
		wire += 1 + (size_t)c;
		if (wire + 1 > CTW_DNS_MAX_NAME)
			return -CTW_DNS_E_NAME;
		if (len - pos - 1 < c)
			return -CTW_DNS_E_TRUNC;
		if (t > 0)
			put(text, size, &t, ".", 1);
		put_label(text, size, &t, buf + pos + 1, c);
		pos += 1 + (size_t)c;
	}
	if (t == 0)
		put(text, size, &t, ".", 1);
	*off = jumped ? end : pos;
	return 0;
}

/* Read one resource record; keep A/AAAA/CNAME in m->answers when `keep`. */
static int read_rr(const uint8_t *buf, size_t len, size_t *off, struct ctw_dns_msg *m, bool keep)
{
	size_t pos = *off;
	int err = ctw_dns_read_name(buf, len, &pos, NULL, 0);

	if (err)
		return err;
	if (len - pos < 10)
		return -CTW_DNS_E_TRUNC;
	uint16_t type = rd16(buf + pos);
	uint16_t klass = rd16(buf + pos + 2);
	uint32_t ttl = rd32(buf + pos + 4);
	size_t rdlen = rd16(buf + pos + 8);
	size_t rstart = pos + 10;
	if (len - rstart < rdlen)
		return -CTW_DNS_E_TRUNC;

	if (keep && klass == 1 &&
	    (type == CTW_DNS_T_A || type == CTW_DNS_T_AAAA || type == CTW_DNS_T_CNAME)) {
		struct ctw_dns_answer *a = NULL;

		if (m->nanswers < CTW_DNS_MAX_ANSWERS)
			a = &m->answers[m->nanswers];
		if (type == CTW_DNS_T_A || type == CTW_DNS_T_AAAA) {
			size_t want = type == CTW_DNS_T_A ? 4 : 16;
			if (rdlen != want)
				return -CTW_DNS_E_RDATA;
			if (a) {
				memset(a->addr, 0, sizeof(a->addr));
				memcpy(a->addr, buf + rstart, want);
				inet_ntop(type == CTW_DNS_T_A ? AF_INET : AF_INET6, a->addr,
					  a->text, sizeof(a->text));
			}
		} else {
			/* The target must end exactly where the rdata ends;
			 * limiting len to the rdata keeps its labels inside,
			 * while pointers (always backwards) reach earlier. */
			size_t o = rstart;
			err = ctw_dns_read_name(buf, rstart + rdlen, &o, a ? a->text : NULL,
						a ? sizeof(a->text) : 0);
			if (err == -CTW_DNS_E_TRUNC)
				return -CTW_DNS_E_RDATA;
			if (err)
				return err;
			if (o != rstart + rdlen)
				return -CTW_DNS_E_RDATA;
			if (a)
				memset(a->addr, 0, sizeof(a->addr));
		}
		if (a) {
			a->type = type;
			a->ttl = ttl;
			m->nanswers++;
		}
		m->answers_total++;
	}
	*off = rstart + rdlen;
	return 0;
}

int ctw_dns_parse_flags(const uint8_t *buf, size_t len, unsigned int flags, struct ctw_dns_msg *m)
{
	size_t pos = CTW_DNS_HDR_LEN;
	int err;

	/* Not a memset of the whole (large) struct: answers[] beyond
	 * nanswers are never read. */
	m->id = 0;
	m->qr = m->aa = m->tc = m->rd = m->ra = false;
	m->opcode = m->rcode = 0;
	m->qdcount = m->ancount = m->nscount = m->arcount = 0;
	m->has_question = false;
	m->qname[0] = '\0';
	m->qtype = m->qclass = 0;
	m->nanswers = m->answers_total = 0;
	m->parsed = 0;

	if (!buf || len < CTW_DNS_HDR_LEN)
		return -CTW_DNS_E_SHORT;
	m->id = rd16(buf);
	m->qr = buf[2] & 0x80;
	m->opcode = (buf[2] >> 3) & 0xf;
	m->aa = buf[2] & 0x04;
	m->tc = buf[2] & 0x02;
	m->rd = buf[2] & 0x01;
	m->ra = buf[3] & 0x80;
	m->rcode = buf[3] & 0xf;
	m->qdcount = rd16(buf + 4);
	m->ancount = rd16(buf + 6);
	m->nscount = rd16(buf + 8);
	m->arcount = rd16(buf + 10);
	m->parsed = pos;

	/* A query asks exactly one question (RFC 9619); a response repeats
	 * it, or has none (e.g. a FORMERR answer to a broken query). */
	if (m->qr ? m->qdcount > 1 : m->qdcount != 1)
		return -CTW_DNS_E_QDCOUNT;
	if (m->qdcount == 1) {
		err = ctw_dns_read_name(buf, len, &pos, m->qname, sizeof(m->qname));
		if (err)
			return err;
		if (len - pos < 4)
			return -CTW_DNS_E_TRUNC;
		m->qtype = rd16(buf + pos);
		m->qclass = rd16(buf + pos + 2);
		pos += 4;
		m->has_question = true;
		m->parsed = pos;
	}

	for (unsigned int i = 0; i < m->ancount; i++) {
		err = read_rr(buf, len, &pos, m, true);
		if (err)
			return err;
		m->parsed = pos;
	}
	if (flags & CTW_DNS_PARSE_ANSWERS_ONLY)
		return 0;
	unsigned int rest = (unsigned int)m->nscount + m->arcount;
	for (unsigned int i = 0; i < rest; i++) {
		err = read_rr(buf, len, &pos, m, false);
		if (err)
			return err;
		m->parsed = pos;
	}
	return 0;
}

int ctw_dns_parse(const uint8_t *buf, size_t len, struct ctw_dns_msg *m)
{
	return ctw_dns_parse_flags(buf, len, 0, m);
}

const char *ctw_dns_strerror(int err)
{
	static const char *const msgs[CTW_DNS_E__MAX] = {
		[CTW_DNS_E_OK] = "ok",
		[CTW_DNS_E_SHORT] = "shorter than the header",
		[CTW_DNS_E_TRUNC] = "truncated",
		[CTW_DNS_E_LABEL] = "label longer than 63 bytes or of a reserved type",
		[CTW_DNS_E_NAME] = "name longer than 255 bytes",
		[CTW_DNS_E_PTR] = "compression pointer out of bounds",
		[CTW_DNS_E_LOOP] = "compression loop",
		[CTW_DNS_E_QDCOUNT] = "bad question count",
		[CTW_DNS_E_RDATA] = "bad record data length",
	};
	if (err < 0)
		err = -err;
	if (err >= CTW_DNS_E__MAX)
		return "unknown error";
	return msgs[err];
}

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{1, "A"},     {2, "NS"},     {5, "CNAME"},  {6, "SOA"},	    {12, "PTR"},   {13, "HINFO"},
	{15, "MX"},   {16, "TXT"},   {28, "AAAA"},  {33, "SRV"},    {35, "NAPTR"}, {41, "OPT"},
	{43, "DS"},   {46, "RRSIG"}, {47, "NSEC"},  {48, "DNSKEY"}, {50, "NSEC3"}, {52, "TLSA"},
	{64, "SVCB"}, {65, "HTTPS"}, {252, "AXFR"}, {255, "ANY"},   {257, "CAA"},
};

const char *ctw_dns_type_name(uint16_t type, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	snprintf(buf, size, "TYPE%u", type); /* RFC 3597 */
	return buf;
}

const char *ctw_dns_type_label(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return "other";
}

int ctw_dns_type_parse(const char *s, uint16_t *out)
{
	unsigned int v;
	int n = 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(types[i].name, s)) {
			*out = types[i].type;
			return 0;
		}
	if ((sscanf(s, "TYPE%u%n", &v, &n) == 1 || sscanf(s, "type%u%n", &v, &n) == 1) &&
	    s[n] == '\0' && v <= 0xffff) {
		*out = (uint16_t)v;
		return 0;
	}
	return -EINVAL;
}

static const char *const rcodes[] = {
	"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
};

const char *ctw_dns_rcode_name(unsigned int rcode, char *buf, size_t size)
{
	if (rcode < sizeof(rcodes) / sizeof(rcodes[0]))
		return rcodes[rcode];
	snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}

int ctw_dns_rcode_parse(const char *s, unsigned int *out)
{
	unsigned int v;
	int n = 0;

	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++)
		if (!strcasecmp(rcodes[i], s)) {
			*out = (unsigned int)i;
			return 0;
		}
	if (((sscanf(s, "RCODE%u%n", &v, &n) == 1 || sscanf(s, "rcode%u%n", &v, &n) == 1) &&
	     s[n] == '\0' && v < 16) ||
	    (sscanf(s, "%u%n", &v, &n) == 1 && s[n] == '\0' && v < 16)) {
		*out = v;
		return 0;
	}
	return -EINVAL;
}
