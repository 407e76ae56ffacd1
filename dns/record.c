// SPDX-License-Identifier: Apache-2.0
/*
 * One ring buffer record (struct dns_event, bpf/dns.h) -> a query for the
 * pairer, a response for the pairer, or a MALFORMED report.
 *
 * What counts as malformed: a UDP payload the parser refuses, unless the
 * fault is only that the capture (CTW_DNS_CAPTURE bytes) ended before the
 * message did — then the header and question are used and the answers are
 * marked as cut.  TCP: a segment is parsed when it starts with the 2-byte
 * length of a message; it is reported as malformed only when that length
 * matches the segment exactly (one whole message), since a segment that
 * continues an earlier message starts with arbitrary bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dns.h"
#include "../bpf/dns.h"
#include "../lib/lib.h"

static void addr_text(const uint8_t *a, uint8_t family, char *buf, size_t size)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)size))
		ctw_strlcpy(buf, "?", size);
}

int ctw_dns_handle_record(struct ctw_dns_pairer *p, const void *rec, size_t size,
			  ctw_dns_query_fn on_query, void *ctx)
{
	struct ctw_dns_query_info qi;
	struct ctw_dns_msg m;
	struct dns_event e;
	const uint8_t *msg;
	size_t n, mlen;
	bool cut, whole = true, answers_cut = false;
	int err;

	if (size < sizeof(e))
		return -EINVAL;
	/* One copy: the record lives in memory the kernel shares. */
	memcpy(&e, rec, sizeof(e));
	n = e.msg_len < CTW_DNS_CAPTURE ? e.msg_len : CTW_DNS_CAPTURE;
	msg = e.msg;
	mlen = n;
	cut = e.wire_len > n;
	if (e.flags & CTW_DNS_F_TCP) {
		size_t l;

		if (n < 2)
			return 0;
		l = (size_t)msg[0] << 8 | msg[1];
		whole = e.wire_len >= 2 && l == e.wire_len - 2u;
		msg += 2;
		mlen = n - 2;
		if (l < mlen)
			mlen = l; /* pipelined: the first message only */
		cut = l > mlen;
	}

	err = ctw_dns_parse_flags(msg, mlen, CTW_DNS_PARSE_ANSWERS_ONLY, &m);
	if (err == -CTW_DNS_E_TRUNC && cut) {
		/* Our capture ended, not the message. */
		if (!m.has_question)
			return 0;
		err = 0;
		answers_cut = true;
	}
	if (err && !whole)
		return 0;

	memset(&qi, 0, sizeof(qi));
	qi.cgroup_id = e.cgroup_id;
	qi.ts_ns = e.ts_ns;
	qi.dir = e.dir;
	qi.tcp = e.flags & CTW_DNS_F_TCP;
	if (e.flags & CTW_DNS_F_HAS_TASK) {
		qi.pid = e.pid;
		memcpy(qi.comm, e.comm, sizeof(qi.comm));
		qi.comm[sizeof(qi.comm) - 1] = '\0';
	}
	/* The resolver: where a query goes, where a response comes from; for
	 * a malformed packet, the remote end. */
	if (err ? e.dir == CTW_DNS_EGRESS : !m.qr)
		addr_text(e.daddr, e.family, qi.server, sizeof(qi.server));
	else
		addr_text(e.saddr, e.family, qi.server, sizeof(qi.server));

	if (err) {
		struct ctw_dns_txn *t = xmalloc(sizeof(*t));

		memset(t, 0, offsetof(struct ctw_dns_txn, qname));
		t->kind = CTW_DNS_MALFORMED;
		t->cgroup_id = qi.cgroup_id;
		t->pid = qi.pid;
		memcpy(t->comm, qi.comm, sizeof(t->comm));
		t->ts_ns = qi.ts_ns;
		t->id = m.id;
		t->qtype = m.has_question ? m.qtype : 0;
		t->rcode = m.rcode;
		t->tcp = qi.tcp;
		t->dir = qi.dir;
		t->error = -err;
		memcpy(t->server, qi.server, sizeof(t->server));
		/* Whatever of the name was decoded before the fault. */
		ctw_strlcpy(t->qname, m.qname, sizeof(t->qname));
		t->nanswers = 0;
		ctw_dns_pairer_report(p, t);
		free(t);
		return 0;
	}
	if (!m.qr) {
		if (on_query)
			on_query(ctx, &qi, &m);
		ctw_dns_pairer_query(p, &qi, &m);
	} else {
		ctw_dns_pairer_response(p, &qi, &m, answers_cut);
	}
	return 0;
}
