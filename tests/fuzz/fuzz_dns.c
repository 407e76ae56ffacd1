// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the DNS parser (dns/parse.c) and the record path that
 * feeds the pairer (dns/record.c, dns/pair.c).
 *
 * Input: byte 0 picks the mode.
 *   even: the rest is one DNS message for ctw_dns_parse() (all sections),
 *         then ctw_dns_read_name() at an offset taken from byte 1;
 *   odd:  the rest fills a struct dns_event (bpf/dns.h) as the kernel would
 *         hand it over — header fields and message bytes from the input — and
 *         goes through ctw_dns_handle_record() into a pairer that lives across
 *         inputs, so queries and responses of successive inputs meet.
 * The invariants checked are what callers rely on: strings terminated and
 * bounded, counts within their arrays, `parsed` within the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dns/dns.h"
#include "../../bpf/dns.h"

static size_t ntxn;

static void check_text(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

static void on_txn(void *ctx, const struct ctw_dns_txn *t)
{
	check_text(t->qname, sizeof(t->qname));
	check_text(t->server, sizeof(t->server));
	check_text(t->comm, sizeof(t->comm));
	if (t->nanswers > CTW_DNS_MAX_ANSWERS)
		abort();
	for (unsigned int i = 0; i < t->nanswers; i++)
		check_text(t->answers[i], sizeof(t->answers[i]));
	if (t->kind == CTW_DNS_MALFORMED && (t->error <= 0 || t->error >= CTW_DNS_E__MAX))
		abort();
	ntxn++;
}

static void on_query(void *ctx, const struct ctw_dns_query_info *q, const struct ctw_dns_msg *m)
{
	if (!m->has_question || m->qr || !memchr(q->server, '\0', sizeof(q->server)))
		abort();
}

static void parse_message(const uint8_t *data, size_t size)
{
	static struct ctw_dns_msg m; /* large: not on the stack */
	int err = ctw_dns_parse(data, size, &m);

	check_text(m.qname, sizeof(m.qname));
	if (m.parsed > size || m.nanswers > CTW_DNS_MAX_ANSWERS)
		abort();
	if (err > 0 || err <= -CTW_DNS_E__MAX)
		abort();
	if (!err) {
		if (size < CTW_DNS_HDR_LEN || m.nanswers > m.answers_total)
			abort();
		for (unsigned int i = 0; i < m.nanswers; i++)
			check_text(m.answers[i].text, sizeof(m.answers[i].text));
	}
	if (size > 1) {
		char text[CTW_DNS_NAME_TEXT];
		size_t off = data[1] % size;
		if (!ctw_dns_read_name(data, size, &off, text, sizeof(text))) {
			check_text(text, sizeof(text));
			if (off > size || strlen(text) >= sizeof(text))
				abort();
		}
	}
	/* A bounded name buffer must stay bounded. */
	if (size > CTW_DNS_HDR_LEN) {
		char small[8];
		size_t off = CTW_DNS_HDR_LEN;
		ctw_dns_read_name(data, size, &off, small, sizeof(small));
		check_text(small, sizeof(small));
	}
}

static void feed_record(const uint8_t *data, size_t size)
{
	static struct ctw_dns_pairer *p;
	static uint64_t clock_ns;
	struct dns_event e;
	/* Header bytes the fuzzer controls: dir, family, flags, cgroup low
	 * bits, pid, time step and wire_len slack. */
	uint8_t hdr[8] = {0};
	size_t h = size < sizeof(hdr) ? size : sizeof(hdr);

	if (!p)
		p = ctw_dns_pairer_new(1000000, 64, on_txn, NULL);
	memcpy(hdr, data, h);
	data += h;
	size -= h;

	memset(&e, 0, sizeof(e));
	clock_ns += hdr[0] * 1000u;
	e.ts_ns = clock_ns;
	e.cgroup_id = 1000 + (hdr[1] & 3);
	e.dir = hdr[2] & 1 ? CTW_DNS_INGRESS : CTW_DNS_EGRESS;
	e.family = hdr[2] & 2 ? 6 : 4;
	e.flags = (hdr[2] >> 2) & 3;
	e.pid = hdr[3];
	memcpy(e.comm, "fuzz", 5);
	memcpy(e.saddr, data, size < 16 ? size : 16);
	e.sport = 53;
	e.dport = 5353;
	e.msg_len = (uint16_t)(size < CTW_DNS_CAPTURE ? size : CTW_DNS_CAPTURE);
	memcpy(e.msg, data, e.msg_len);
	/* Sometimes the wire carried more than was captured, sometimes the
	 * record claims more captured bytes than there are (a corrupt
	 * record must not be trusted either). */
	e.wire_len = (uint16_t)(size + (hdr[4] & 0x80 ? hdr[5] : 0));
	if (hdr[6] == 0xff)
		e.msg_len = 0xffff;
	if (ctw_dns_handle_record(p, &e, sizeof(e), on_query, NULL))
		abort();
	if (hdr[7] == 0xff)
		ctw_dns_pairer_expire(p, clock_ns);
	if (ctw_dns_pairer_pending(p) > 64)
		abort();
	if (hdr[7] == 0xfe)
		ctw_dns_pairer_flush(p);
	/* Short records are refused, not read past. */
	if (ctw_dns_handle_record(p, &e, sizeof(e) - 1, on_query, NULL) != -22)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		feed_record(data + 1, size - 1);
	else
		parse_message(data + 1, size - 1);
	return 0;
}
