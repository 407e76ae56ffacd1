// SPDX-License-Identifier: Apache-2.0
/* Unit tests for dns/: the parser on hand-built packets (compression,
 * loops, bounds), names of types and rcodes, pairing, and the record path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../dns/dns.h"
#include "../../bpf/dns.h"

/* ---- a tiny packet builder ---- */

struct pkt {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct pkt *p, uint8_t v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = v;
}

static void put16(struct pkt *p, uint16_t v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void putbytes(struct pkt *p, const void *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, ((const uint8_t *)d)[i]);
}

static void hdr(struct pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
		uint16_t ar)
{
	p->n = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

/* "www.example.test" -> labels + 0 */
static void name(struct pkt *p, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		put8(p, (uint8_t)l);
		putbytes(p, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(p, 0);
}

static void ptr(struct pkt *p, uint16_t off)
{
	put16(p, 0xc000 | off);
}

static void rr_hdr(struct pkt *p, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
	put16(p, rdlen);
}

static struct ctw_dns_msg *msg_new(void)
{
	return calloc(1, sizeof(struct ctw_dns_msg));
}

/* ---- parser ---- */

static void test_query(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	struct pkt p;

	hdr(&p, 0xbeef, 0x0100, 1, 0, 0, 0);
	name(&p, "www.Example.test");
	put16(&p, CTW_DNS_T_A);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_int_equal(m->id, 0xbeef);
	assert_false(m->qr);
	assert_true(m->rd);
	assert_true(m->has_question);
	assert_string_equal(m->qname, "www.Example.test");
	assert_int_equal(m->qtype, CTW_DNS_T_A);
	assert_int_equal(m->qclass, 1);
	assert_int_equal(m->parsed, p.n);
	free(m);
}

/* CNAME + A with compression: the CNAME target is "web" + pointer to
 * "example.test" inside the question, the A owner points at the target. */
static void test_response_cname_compressed(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	struct pkt p;

	hdr(&p, 7, 0x8180, 1, 2, 0, 0);
	name(&p, "www.example.test"); /* at 12; "example.test" at 16 */
	put16(&p, CTW_DNS_T_A);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_CNAME, 300, 6);
	size_t target = p.n;
	put8(&p, 3);
	putbytes(&p, "web", 3);
	ptr(&p, 16);
	ptr(&p, (uint16_t)target);
	rr_hdr(&p, CTW_DNS_T_A, 60, 4);
	putbytes(&p, "\x0a\x00\x00\x01", 4);

	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_true(m->qr);
	assert_true(m->ra);
	assert_int_equal(m->rcode, CTW_DNS_NOERROR);
	assert_int_equal(m->nanswers, 2);
	assert_int_equal(m->answers[0].type, CTW_DNS_T_CNAME);
	assert_string_equal(m->answers[0].text, "web.example.test");
	assert_int_equal(m->answers[0].ttl, 300);
	assert_int_equal(m->answers[1].type, CTW_DNS_T_A);
	assert_string_equal(m->answers[1].text, "10.0.0.1");
	free(m);
}

static void test_response_aaaa_nxdomain(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	struct pkt p;
	uint8_t a6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	hdr(&p, 8, 0x8180, 1, 1, 0, 0);
	name(&p, "v6.example.test");
	put16(&p, CTW_DNS_T_AAAA);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_AAAA, 60, 16);
	putbytes(&p, a6, 16);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_int_equal(m->nanswers, 1);
	assert_string_equal(m->answers[0].text, "fd00::1");

	/* NXDOMAIN with an SOA in the authority section */
	hdr(&p, 9, 0x8183, 1, 0, 1, 0);
	name(&p, "nope.example.test");
	put16(&p, CTW_DNS_T_A);
	put16(&p, 1);
	ptr(&p, 17);
	rr_hdr(&p, CTW_DNS_T_SOA, 60, 2);
	put16(&p, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_int_equal(m->rcode, CTW_DNS_NXDOMAIN);
	assert_int_equal(m->nanswers, 0);
	/* The authority section is only checked in full mode. */
	p.n -= 1;
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	assert_int_equal(ctw_dns_parse_flags(p.b, p.n, CTW_DNS_PARSE_ANSWERS_ONLY, m), 0);
	free(m);
}

static void test_short_and_truncated(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	struct pkt p;

	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	assert_int_equal(ctw_dns_parse(p.b, 5, m), -CTW_DNS_E_SHORT);
	assert_int_equal(ctw_dns_parse(p.b, 0, m), -CTW_DNS_E_SHORT);
	assert_int_equal(ctw_dns_parse(NULL, 0, m), -CTW_DNS_E_SHORT);
	/* header only, question promised */
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	/* label runs past the end */
	put8(&p, 10);
	putbytes(&p, "abc", 3);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	/* name complete, qtype/qclass missing */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	name(&p, "a.test");
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	assert_string_equal(m->qname, "a.test");
	/* a record header cut short */
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a.test");
	put16(&p, 1);
	put16(&p, 1);
	ptr(&p, 12);
	put16(&p, CTW_DNS_T_A);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	assert_true(m->has_question);
	/* rdata longer than the message */
	p.n -= 2;
	rr_hdr(&p, CTW_DNS_T_A, 1, 4);
	put16(&p, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	/* a pointer's second byte missing */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	put8(&p, 0xc0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);
	free(m);
}

static void test_compression_loops(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	struct pkt p;

	/* a pointer to itself */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	ptr(&p, 12);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_LOOP);

	/* two pointers pointing at each other (the answer's owner at 22 ->
	 * 24, 24 -> 22) */
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a.test"); /* 12..19 */
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(p.n, 24);
	ptr(&p, 26);
	ptr(&p, 24);
	rr_hdr(&p, CTW_DNS_T_A, 1, 4);
	put32(&p, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_LOOP);

	/* a label, then a pointer back to that label: a -> a -> ... */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	put8(&p, 1);
	put8(&p, 'a');
	ptr(&p, 12);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_LOOP);

	/* a forward pointer (never produced by a compressor) */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	ptr(&p, 18);
	put16(&p, 1);
	put16(&p, 1);
	name(&p, "x");
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_LOOP);

	/* out of the message, and into the header */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	ptr(&p, 0x3fff);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_PTR);
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	ptr(&p, 4);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_PTR);

	/* a long legitimate chain: each name = one label + pointer to the
	 * previous name, 40 deep */
	hdr(&p, 1, 0x8180, 1, 40, 0, 0);
	name(&p, "t");
	put16(&p, 1);
	put16(&p, 1);
	size_t prev = 12;
	for (int i = 0; i < 40; i++) {
		size_t here = p.n;
		put8(&p, 1);
		put8(&p, 'a');
		ptr(&p, (uint16_t)prev);
		rr_hdr(&p, CTW_DNS_T_A, 1, 4);
		put32(&p, 0x7f000001);
		prev = here;
	}
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_int_equal(m->answers_total, 40);
	assert_int_equal(m->nanswers, CTW_DNS_MAX_ANSWERS);
	free(m);
}

static void test_label_and_name_limits(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	char l63[64], l61[62];
	struct pkt p;

	memset(l63, 'x', 63);
	l63[63] = '\0';
	memset(l61, 'y', 61);
	l61[61] = '\0';

	/* label length byte 64 (0x40) and 0x80: reserved label types */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	put8(&p, 64);
	for (int i = 0; i < 64; i++)
		put8(&p, 'z');
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_LABEL);
	p.b[12] = 0x80;
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_LABEL);

	/* 63 is fine */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	name(&p, l63);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_string_equal(m->qname, l63);

	/* exactly 255 on the wire: 3 x (1+63) + (1+61) + 1 */
	char buf[300];
	snprintf(buf, sizeof(buf), "%s.%s.%s.%s", l63, l63, l63, l61);
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	name(&p, buf);
	assert_int_equal(p.n - 12, 255);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_int_equal(strlen(m->qname), 253);

	/* 256 */
	snprintf(buf, sizeof(buf), "%s.%s.%s.%sy", l63, l63, l63, l61);
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	name(&p, buf);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_NAME);

	/* over 255 only through a pointer: the answer owner adds a 63-byte
	 * label to the 255-byte question name */
	snprintf(buf, sizeof(buf), "%s.%s.%s.%s", l63, l63, l63, l61);
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, buf);
	put16(&p, 1);
	put16(&p, 1);
	name(&p, ""); /* root owner is fine */
	p.n--;
	put8(&p, 63);
	putbytes(&p, l63, 63);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_A, 1, 4);
	put32(&p, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_NAME);

	/* the root name */
	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	put8(&p, 0);
	put16(&p, CTW_DNS_T_NS);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_string_equal(m->qname, ".");
	free(m);
}

static void test_escapes_and_small_buffers(void **state)
{
	struct pkt p;
	char text[CTW_DNS_NAME_TEXT], small[6];
	size_t off = 12;

	hdr(&p, 1, 0x0100, 1, 0, 0, 0);
	put8(&p, 5);
	putbytes(&p, "a.b c", 5);
	put8(&p, 2);
	putbytes(&p, "\\\x01", 2);
	put8(&p, 0);
	assert_int_equal(ctw_dns_read_name(p.b, p.n, &off, text, sizeof(text)), 0);
	assert_string_equal(text, "a\\.b\\032c.\\\\\\001");
	assert_int_equal(off, p.n);
	off = 12;
	assert_int_equal(ctw_dns_read_name(p.b, p.n, &off, small, sizeof(small)), 0);
	assert_string_equal(small, "a\\.b\\");
	/* NULL text only validates */
	off = 12;
	assert_int_equal(ctw_dns_read_name(p.b, p.n, &off, NULL, 0), 0);
	assert_int_equal(off, p.n);
}

static void test_counts_and_rdata(void **state)
{
	struct ctw_dns_msg *m = msg_new();
	struct pkt p;

	hdr(&p, 1, 0x0100, 0, 0, 0, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_QDCOUNT);
	hdr(&p, 1, 0x0100, 65535, 0, 0, 0);
	name(&p, "a");
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_QDCOUNT);
	hdr(&p, 1, 0x0100, 2, 0, 0, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_QDCOUNT);
	/* a response without a question (FORMERR) is well-formed */
	hdr(&p, 1, 0x8181, 0, 0, 0, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_false(m->has_question);
	assert_int_equal(m->rcode, CTW_DNS_FORMERR);
	/* ancount promising more than there is */
	hdr(&p, 1, 0x8180, 1, 65535, 0, 0);
	name(&p, "a");
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_TRUNC);

	/* A with 5 bytes, AAAA with 4 */
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a");
	put16(&p, 1);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_A, 1, 5);
	putbytes(&p, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_RDATA);
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a");
	put16(&p, 28);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_AAAA, 1, 4);
	put32(&p, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_RDATA);

	/* CNAME whose name runs past its rdata, and one shorter than it */
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a");
	put16(&p, 5);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_CNAME, 1, 3);
	name(&p, "bcd");
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_RDATA);
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a");
	put16(&p, 5);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_CNAME, 1, 4);
	ptr(&p, 12);
	put16(&p, 0);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), -CTW_DNS_E_RDATA);
	/* other types are skipped, whatever their rdata */
	hdr(&p, 1, 0x8180, 1, 1, 0, 0);
	name(&p, "a");
	put16(&p, 16);
	put16(&p, 1);
	ptr(&p, 12);
	rr_hdr(&p, CTW_DNS_T_TXT, 1, 3);
	putbytes(&p, "\x02hi", 3);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_int_equal(m->nanswers, 0);
	free(m);
}

static void test_names(void **state)
{
	char buf[16];
	uint16_t t;
	unsigned int r;

	assert_string_equal(ctw_dns_type_name(1, buf, sizeof(buf)), "A");
	assert_string_equal(ctw_dns_type_name(28, buf, sizeof(buf)), "AAAA");
	assert_string_equal(ctw_dns_type_name(4242, buf, sizeof(buf)), "TYPE4242");
	assert_string_equal(ctw_dns_type_label(4242), "other");
	assert_string_equal(ctw_dns_type_label(5), "CNAME");
	assert_int_equal(ctw_dns_type_parse("aaaa", &t), 0);
	assert_int_equal(t, 28);
	assert_int_equal(ctw_dns_type_parse("TYPE99", &t), 0);
	assert_int_equal(t, 99);
	assert_int_equal(ctw_dns_type_parse("TYPE99x", &t), -EINVAL);
	assert_int_equal(ctw_dns_type_parse("bogus", &t), -EINVAL);
	assert_string_equal(ctw_dns_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
	assert_string_equal(ctw_dns_rcode_name(12, buf, sizeof(buf)), "RCODE12");
	assert_int_equal(ctw_dns_rcode_parse("nxdomain", &r), 0);
	assert_int_equal(r, 3);
	assert_int_equal(ctw_dns_rcode_parse("2", &r), 0);
	assert_int_equal(r, 2);
	assert_int_equal(ctw_dns_rcode_parse("RCODE15", &r), 0);
	assert_int_equal(ctw_dns_rcode_parse("16", &r), -EINVAL);
	assert_int_equal(ctw_dns_rcode_parse("nope", &r), -EINVAL);
	assert_string_equal(ctw_dns_strerror(-CTW_DNS_E_LOOP), "compression loop");
	assert_string_equal(ctw_dns_strerror(999), "unknown error");
}

/* ---- pairing ---- */

struct seen {
	int n;
	struct ctw_dns_txn last;
	int kinds[4];
};

static void on_txn(void *ctx, const struct ctw_dns_txn *t)
{
	struct seen *s = ctx;
	s->n++;
	s->kinds[t->kind]++;
	memcpy(&s->last, t, sizeof(*t));
}

static void build_query(struct pkt *p, uint16_t id, const char *qname, uint16_t qtype)
{
	hdr(p, id, 0x0100, 1, 0, 0, 0);
	name(p, qname);
	put16(p, qtype);
	put16(p, 1);
}

static void build_answer(struct pkt *p, uint16_t id, const char *qname, uint16_t qtype,
			 uint8_t rcode, const uint8_t *addr)
{
	hdr(p, id, 0x8180 | rcode, 1, addr ? 1 : 0, 0, 0);
	name(p, qname);
	put16(p, qtype);
	put16(p, 1);
	if (addr) {
		ptr(p, 12);
		rr_hdr(p, qtype, 30, qtype == CTW_DNS_T_AAAA ? 16 : 4);
		putbytes(p, addr, qtype == CTW_DNS_T_AAAA ? 16 : 4);
	}
}

static void test_pairer(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	struct ctw_dns_pairer *pr = ctw_dns_pairer_new(1000, 3, on_txn, s);
	struct ctw_dns_msg *m = msg_new();
	struct ctw_dns_query_info q = {.cgroup_id = 42,
				       .ts_ns = 100,
				       .dir = CTW_DNS_EGRESS,
				       .pid = 7,
				       .comm = "nslookup",
				       .server = "127.0.0.53"};
	struct ctw_dns_query_info r = {
		.cgroup_id = 42, .ts_ns = 350, .dir = CTW_DNS_INGRESS, .server = "127.0.0.53"};
	struct pkt p;

	build_query(&p, 5, "Host.Example.test", CTW_DNS_T_A);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_true(ctw_dns_pairer_query(pr, &q, m));
	assert_false(ctw_dns_pairer_query(pr, &q, m)); /* retransmission */
	assert_int_equal(ctw_dns_pairer_pending(pr), 1);

	/* same name in other case, from another container: no match */
	build_answer(&p, 5, "host.example.TEST", CTW_DNS_T_A, 0, (const uint8_t *)"\x0a\0\0\x02");
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	r.cgroup_id = 43;
	ctw_dns_pairer_response(pr, &r, m, false);
	assert_int_equal(s->kinds[CTW_DNS_UNMATCHED], 1);
	assert_int_equal(s->last.nanswers, 1);
	/* the right container, case-insensitively */
	r.cgroup_id = 42;
	ctw_dns_pairer_response(pr, &r, m, false);
	assert_int_equal(s->kinds[CTW_DNS_ANSWERED], 1);
	assert_int_equal(s->last.latency_ns, 250);
	assert_int_equal(s->last.pid, 7);
	assert_string_equal(s->last.comm, "nslookup");
	assert_string_equal(s->last.qname, "host.example.TEST");
	assert_string_equal(s->last.answers[0], "10.0.0.2");
	assert_string_equal(s->last.server, "127.0.0.53");
	assert_int_equal(ctw_dns_pairer_pending(pr), 0);
	/* a second response to the same query is unmatched */
	ctw_dns_pairer_response(pr, &r, m, false);
	assert_int_equal(s->kinds[CTW_DNS_UNMATCHED], 2);

	/* another qtype or id does not match */
	build_query(&p, 6, "a.test", CTW_DNS_T_AAAA);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	assert_true(ctw_dns_pairer_query(pr, &q, m));
	build_answer(&p, 6, "a.test", CTW_DNS_T_A, 0, NULL);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	ctw_dns_pairer_response(pr, &r, m, false);
	assert_int_equal(s->kinds[CTW_DNS_UNMATCHED], 3);
	/* a response travelling the same way as the query does not pair */
	build_answer(&p, 6, "a.test", CTW_DNS_T_AAAA, 3, NULL);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	r.dir = CTW_DNS_EGRESS;
	ctw_dns_pairer_response(pr, &r, m, false);
	assert_int_equal(s->kinds[CTW_DNS_UNMATCHED], 4);
	r.dir = CTW_DNS_INGRESS;
	ctw_dns_pairer_response(pr, &r, m, false);
	assert_int_equal(s->kinds[CTW_DNS_ANSWERED], 2);
	assert_int_equal(s->last.rcode, CTW_DNS_NXDOMAIN);

	/* timeouts: expire, then the cap (3) pushes the oldest out */
	build_query(&p, 10, "t.test", CTW_DNS_T_A);
	assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
	q.ts_ns = 1000;
	assert_true(ctw_dns_pairer_query(pr, &q, m));
	ctw_dns_pairer_expire(pr, 1999);
	assert_int_equal(s->kinds[CTW_DNS_TIMEOUT], 0);
	ctw_dns_pairer_expire(pr, 2000);
	assert_int_equal(s->kinds[CTW_DNS_TIMEOUT], 1);
	assert_string_equal(s->last.qname, "t.test");
	assert_int_equal(s->last.pid, 7);
	for (uint16_t id = 20; id < 24; id++) {
		build_query(&p, id, "c.test", CTW_DNS_T_A);
		assert_int_equal(ctw_dns_parse(p.b, p.n, m), 0);
		q.ts_ns = 5000 + id;
		assert_true(ctw_dns_pairer_query(pr, &q, m));
	}
	assert_int_equal(ctw_dns_pairer_pending(pr), 3);
	assert_int_equal(s->kinds[CTW_DNS_TIMEOUT], 2);
	assert_int_equal(s->last.id, 20);
	/* forgetting a container reports nothing */
	ctw_dns_pairer_forget(pr, 42);
	assert_int_equal(ctw_dns_pairer_pending(pr), 0);
	assert_int_equal(s->kinds[CTW_DNS_TIMEOUT], 2);
	/* flush reports the rest */
	assert_true(ctw_dns_pairer_query(pr, &q, m));
	ctw_dns_pairer_flush(pr);
	assert_int_equal(s->kinds[CTW_DNS_TIMEOUT], 3);
	ctw_dns_pairer_free(pr);
	ctw_dns_pairer_free(NULL);
	free(m);
	free(s);
}

/* ---- records as the kernel hands them over ---- */

static int nqueries;
static void count_query(void *ctx, const struct ctw_dns_query_info *q, const struct ctw_dns_msg *m)
{
	nqueries++;
}

static void record(struct dns_event *e, uint8_t dir, uint64_t ts, const struct pkt *p)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = ts;
	e->cgroup_id = 77;
	e->family = 4;
	e->dir = dir;
	memcpy(e->saddr, dir == CTW_DNS_EGRESS ? "\x7f\0\0\x01" : "\x7f\0\0\x35", 4);
	memcpy(e->daddr, dir == CTW_DNS_EGRESS ? "\x7f\0\0\x35" : "\x7f\0\0\x01", 4);
	e->sport = dir == CTW_DNS_EGRESS ? 40000 : 53;
	e->dport = dir == CTW_DNS_EGRESS ? 53 : 40000;
	if (dir == CTW_DNS_EGRESS) {
		e->flags = CTW_DNS_F_HAS_TASK;
		e->pid = 1234;
		strcpy(e->comm, "dig");
	}
	e->wire_len = (uint16_t)p->n;
	e->msg_len = (uint16_t)(p->n < CTW_DNS_CAPTURE ? p->n : CTW_DNS_CAPTURE);
	memcpy(e->msg, p->b, e->msg_len);
}

static void test_records(void **state)
{
	struct seen *s = calloc(1, sizeof(*s));
	struct ctw_dns_pairer *pr = ctw_dns_pairer_new(1000000, 0, on_txn, s);
	struct dns_event e;
	struct pkt p;

	nqueries = 0;
	build_query(&p, 1, "www.example.test", CTW_DNS_T_A);
	record(&e, CTW_DNS_EGRESS, 1000, &p);
	assert_int_equal(ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL), 0);
	assert_int_equal(nqueries, 1);
	assert_int_equal(ctw_dns_handle_record(pr, &e, sizeof(e) - 1, count_query, NULL), -EINVAL);
	build_answer(&p, 1, "www.example.test", CTW_DNS_T_A, 0, (const uint8_t *)"\x0a\0\0\x09");
	record(&e, CTW_DNS_INGRESS, 1500, &p);
	assert_int_equal(ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL), 0);
	assert_int_equal(s->kinds[CTW_DNS_ANSWERED], 1);
	assert_int_equal(s->last.latency_ns, 500);
	assert_int_equal(s->last.pid, 1234);
	assert_string_equal(s->last.comm, "dig");
	assert_string_equal(s->last.server, "127.0.0.53");
	assert_string_equal(s->last.answers[0], "10.0.0.9");
	assert_false(s->last.answers_cut);

	/* malformed query from the container: counted, remote end named */
	hdr(&p, 2, 0x0100, 1, 0, 0, 0);
	ptr(&p, 12);
	put32(&p, 0x00010001);
	record(&e, CTW_DNS_EGRESS, 2000, &p);
	assert_int_equal(ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL), 0);
	assert_int_equal(s->kinds[CTW_DNS_MALFORMED], 1);
	assert_int_equal(s->last.error, CTW_DNS_E_LOOP);
	assert_int_equal(s->last.dir, CTW_DNS_EGRESS);
	assert_string_equal(s->last.server, "127.0.0.53");
	assert_int_equal(s->last.pid, 1234);
	assert_int_equal(nqueries, 1);
	/* a truncated header */
	p.n = 7;
	record(&e, CTW_DNS_EGRESS, 2000, &p);
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	assert_int_equal(s->kinds[CTW_DNS_MALFORMED], 2);
	assert_int_equal(s->last.error, CTW_DNS_E_SHORT);
	/* a corrupt record claiming more bytes than it has is bounded */
	e.msg_len = 0xffff;
	e.wire_len = 0xffff;
	assert_int_equal(ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL), 0);
	/* (its zero padding reads as a query for "." type 0) */
	assert_int_equal(nqueries, 2);

	/* a response longer than the capture: answers cut, not malformed */
	build_query(&p, 3, "many.test", CTW_DNS_T_A);
	record(&e, CTW_DNS_EGRESS, 3000, &p);
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	hdr(&p, 3, 0x8180, 1, 60, 0, 0);
	name(&p, "many.test");
	put16(&p, 1);
	put16(&p, 1);
	for (int i = 0; i < 60; i++) {
		ptr(&p, 12);
		rr_hdr(&p, CTW_DNS_T_A, 1, 4);
		put32(&p, 0x0a000000u + (uint32_t)i);
	}
	assert_true(p.n > CTW_DNS_CAPTURE);
	record(&e, CTW_DNS_INGRESS, 3100, &p);
	int malformed = s->kinds[CTW_DNS_MALFORMED];
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	assert_int_equal(s->kinds[CTW_DNS_MALFORMED], malformed);
	assert_int_equal(s->kinds[CTW_DNS_ANSWERED], 2);
	assert_true(s->last.answers_cut);
	assert_int_equal(s->last.nanswers, CTW_DNS_MAX_ANSWERS);

	/* TCP: length prefix, whole message in one segment */
	build_query(&p, 4, "tcp.test", CTW_DNS_T_A);
	struct pkt t = {.n = 0};
	put16(&t, (uint16_t)p.n);
	putbytes(&t, p.b, p.n);
	record(&e, CTW_DNS_EGRESS, 4000, &t);
	e.flags |= CTW_DNS_F_TCP;
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	assert_int_equal(nqueries, 4);
	build_answer(&p, 4, "tcp.test", CTW_DNS_T_A, 0, (const uint8_t *)"\x0a\0\0\x04");
	t.n = 0;
	put16(&t, (uint16_t)p.n);
	putbytes(&t, p.b, p.n);
	record(&e, CTW_DNS_INGRESS, 4400, &t);
	e.flags |= CTW_DNS_F_TCP;
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	assert_int_equal(s->kinds[CTW_DNS_ANSWERED], 3);
	assert_true(s->last.tcp);
	assert_int_equal(s->last.latency_ns, 400);
	/* a TCP segment that continues an earlier message is ignored */
	t.n = 0;
	putbytes(&t, "\x30\x00garbage-garbage-garbage", 25);
	record(&e, CTW_DNS_EGRESS, 4500, &t);
	e.flags |= CTW_DNS_F_TCP;
	int before = s->n;
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	assert_int_equal(s->n, before);
	/* ... but a whole-message segment that is broken is malformed */
	t.n = 0;
	put16(&t, 5);
	putbytes(&t, "\x01\x02\x03\x04\x05", 5);
	record(&e, CTW_DNS_EGRESS, 4600, &t);
	e.flags |= CTW_DNS_F_TCP;
	ctw_dns_handle_record(pr, &e, sizeof(e), count_query, NULL);
	assert_int_equal(s->kinds[CTW_DNS_MALFORMED], malformed + 1);

	ctw_dns_pairer_free(pr);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_response_cname_compressed),
		cmocka_unit_test(test_response_aaaa_nxdomain),
		cmocka_unit_test(test_short_and_truncated),
		cmocka_unit_test(test_compression_loops),
		cmocka_unit_test(test_label_and_name_limits),
		cmocka_unit_test(test_escapes_and_small_buffers),
		cmocka_unit_test(test_counts_and_rdata),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pairer),
		cmocka_unit_test(test_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
