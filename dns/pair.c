// SPDX-License-Identifier: Apache-2.0
/*
 * Query/response pairing.  A pending query is keyed by (container, the
 * direction it travelled, transaction id, qtype, qname); the response is
 * looked up with the opposite direction, so a container that is both client
 * and server (a resolver in the same cgroup) still pairs each side once.
 * qname compares case-insensitively: resolvers may randomise case (0x20)
 * and echo it back.
 *
 * Pending queries sit in a hash table and in an age list (oldest first):
 * expiry pops from the head, so it costs only what it reports.  Records
 * come from one ring buffer in submission order, so the age list is in
 * timestamp order up to the few microseconds two CPUs may race by.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "../bpf/dns.h"
#include "../lib/lib.h"

#define NBUCKETS 8192 /* power of two */

struct pending {
	struct pending *hnext;	       /* hash chain */
	struct pending *older, *newer; /* age list */
	uint64_t cgroup_id;
	uint64_t ts_ns;
	uint32_t hash;
	uint32_t pid;
	uint16_t id, qtype;
	uint8_t dir;
	bool tcp;
	char comm[16];
	char server[64];
	char qname[]; /* as sent */
};

struct ctw_dns_pairer {
	struct pending *buckets[NBUCKETS];
	struct pending *oldest, *newest;
	size_t npending, max_pending;
	uint64_t timeout_ns;
	ctw_dns_txn_fn fn;
	void *ctx;
	struct ctw_dns_txn txn; /* scratch: large, so not on the stack */
};

static uint32_t key_hash(uint64_t cgid, uint8_t dir, uint16_t id, uint16_t qtype, const char *qname)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	uint8_t k[13];

	memcpy(k, &cgid, 8);
	k[8] = dir;
	memcpy(k + 9, &id, 2);
	memcpy(k + 11, &qtype, 2);
	for (size_t i = 0; i < sizeof(k); i++)
		h = (h ^ k[i]) * 16777619u;
	for (const char *s = qname; *s; s++)
		h = (h ^ (uint8_t)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

struct ctw_dns_pairer *ctw_dns_pairer_new(uint64_t timeout_ns, size_t max_pending,
					  ctw_dns_txn_fn fn, void *ctx)
{
	struct ctw_dns_pairer *p = xcalloc(1, sizeof(*p));

	p->timeout_ns = timeout_ns ? timeout_ns : 5000000000ull;
	p->max_pending = max_pending ? max_pending : 65536;
	p->fn = fn;
	p->ctx = ctx;
	return p;
}

static void unlink_pending(struct ctw_dns_pairer *p, struct pending *q)
{
	struct pending **pp = &p->buckets[q->hash & (NBUCKETS - 1)];

	while (*pp && *pp != q)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = q->hnext;
	if (q->older)
		q->older->newer = q->newer;
	else
		p->oldest = q->newer;
	if (q->newer)
		q->newer->older = q->older;
	else
		p->newest = q->older;
	p->npending--;
}

void ctw_dns_pairer_free(struct ctw_dns_pairer *p)
{
	if (!p)
		return;
	while (p->oldest) {
		struct pending *q = p->oldest;
		unlink_pending(p, q);
		free(q);
	}
	free(p);
}

void ctw_dns_pairer_report(struct ctw_dns_pairer *p, const struct ctw_dns_txn *t)
{
	if (p->fn)
		p->fn(p->ctx, t);
}

/* Fill the scratch txn from a pending query. */
static struct ctw_dns_txn *txn_from(struct ctw_dns_pairer *p, const struct pending *q,
				    enum ctw_dns_kind kind)
{
	struct ctw_dns_txn *t = &p->txn;

	t->kind = kind;
	t->cgroup_id = q->cgroup_id;
	t->pid = q->pid;
	memcpy(t->comm, q->comm, sizeof(t->comm));
	t->ts_ns = q->ts_ns;
	t->latency_ns = 0;
	t->id = q->id;
	t->qtype = q->qtype;
	t->rcode = 0;
	t->answers_cut = false;
	t->tcp = q->tcp;
	t->dir = q->dir;
	t->error = 0;
	ctw_strlcpy(t->server, q->server, sizeof(t->server));
	ctw_strlcpy(t->qname, q->qname, sizeof(t->qname));
	t->nanswers = 0;
	return t;
}

static void time_out(struct ctw_dns_pairer *p, struct pending *q)
{
	unlink_pending(p, q);
	ctw_dns_pairer_report(p, txn_from(p, q, CTW_DNS_TIMEOUT));
	free(q);
}

static struct pending *find(struct ctw_dns_pairer *p, uint32_t h, uint64_t cgid, uint8_t dir,
			    uint16_t id, uint16_t qtype, const char *qname)
{
	for (struct pending *q = p->buckets[h & (NBUCKETS - 1)]; q; q = q->hnext)
		if (q->hash == h && q->cgroup_id == cgid && q->dir == dir && q->id == id &&
		    q->qtype == qtype && !strcasecmp(q->qname, qname))
			return q;
	return NULL;
}

bool ctw_dns_pairer_query(struct ctw_dns_pairer *p, const struct ctw_dns_query_info *qi,
			  const struct ctw_dns_msg *m)
{
	uint32_t h = key_hash(qi->cgroup_id, qi->dir, m->id, m->qtype, m->qname);
	size_t nlen = strlen(m->qname);
	struct pending *q;

	if (find(p, h, qi->cgroup_id, qi->dir, m->id, m->qtype, m->qname))
		return false;
	while (p->npending >= p->max_pending && p->oldest)
		time_out(p, p->oldest);

	q = xmalloc(sizeof(*q) + nlen + 1);
	q->cgroup_id = qi->cgroup_id;
	q->ts_ns = qi->ts_ns;
	q->hash = h;
	q->pid = qi->pid;
	q->id = m->id;
	q->qtype = m->qtype;
	q->dir = qi->dir;
	q->tcp = qi->tcp;
	memcpy(q->comm, qi->comm, sizeof(q->comm));
	q->comm[sizeof(q->comm) - 1] = '\0';
	ctw_strlcpy(q->server, qi->server, sizeof(q->server));
	memcpy(q->qname, m->qname, nlen + 1);

	q->hnext = p->buckets[h & (NBUCKETS - 1)];
	p->buckets[h & (NBUCKETS - 1)] = q;
	q->newer = NULL;
	q->older = p->newest;
	if (p->newest)
		p->newest->newer = q;
	else
		p->oldest = q;
	p->newest = q;
	p->npending++;
	return true;
}

static void copy_answers(struct ctw_dns_txn *t, const struct ctw_dns_msg *m)
{
	t->nanswers = m->nanswers;
	for (unsigned int i = 0; i < m->nanswers; i++) {
		t->answer_types[i] = m->answers[i].type;
		ctw_strlcpy(t->answers[i], m->answers[i].text, sizeof(t->answers[i]));
	}
}

void ctw_dns_pairer_response(struct ctw_dns_pairer *p, const struct ctw_dns_query_info *r,
			     const struct ctw_dns_msg *m, bool cut)
{
	uint8_t qdir = r->dir == CTW_DNS_INGRESS ? CTW_DNS_EGRESS : CTW_DNS_INGRESS;
	struct pending *q = NULL;
	struct ctw_dns_txn *t;

	if (m->has_question) {
		uint32_t h = key_hash(r->cgroup_id, qdir, m->id, m->qtype, m->qname);
		q = find(p, h, r->cgroup_id, qdir, m->id, m->qtype, m->qname);
	}
	if (q) {
		unlink_pending(p, q);
		t = txn_from(p, q, CTW_DNS_ANSWERED);
		/* Records of two CPUs may arrive a hair out of order. */
		t->latency_ns = r->ts_ns > q->ts_ns ? r->ts_ns - q->ts_ns : 0;
		/* The response's own spelling of the name (0x20). */
		ctw_strlcpy(t->qname, m->qname, sizeof(t->qname));
		free(q);
	} else {
		t = &p->txn;
		memset(t, 0, offsetof(struct ctw_dns_txn, qname));
		t->kind = CTW_DNS_UNMATCHED;
		t->cgroup_id = r->cgroup_id;
		t->ts_ns = r->ts_ns;
		t->id = m->id;
		t->qtype = m->qtype;
		t->tcp = r->tcp;
		t->dir = r->dir;
		ctw_strlcpy(t->server, r->server, sizeof(t->server));
		ctw_strlcpy(t->qname, m->has_question ? m->qname : "", sizeof(t->qname));
	}
	t->rcode = m->rcode;
	t->answers_cut = cut;
	copy_answers(t, m);
	ctw_dns_pairer_report(p, t);
}

void ctw_dns_pairer_expire(struct ctw_dns_pairer *p, uint64_t now_ns)
{
	while (p->oldest && now_ns >= p->oldest->ts_ns &&
	       now_ns - p->oldest->ts_ns >= p->timeout_ns)
		time_out(p, p->oldest);
}

void ctw_dns_pairer_flush(struct ctw_dns_pairer *p)
{
	while (p->oldest)
		time_out(p, p->oldest);
}

void ctw_dns_pairer_forget(struct ctw_dns_pairer *p, uint64_t cgroup_id)
{
	struct pending *q = p->oldest;

	while (q) {
		struct pending *next = q->newer;
		if (q->cgroup_id == cgroup_id) {
			unlink_pending(p, q);
			free(q);
		}
		q = next;
	}
}

size_t ctw_dns_pairer_pending(const struct ctw_dns_pairer *p)
{
	return p->npending;
}
