/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns/ — DNS per container: a defensive DNS message parser, query/response
 * pairing (latency, rcode, timeouts), and the probe that loads bpf/dns.bpf.c,
 * attaches it to container cgroups and turns its ring buffer records into
 * transactions.  Used by `ctrwatch dns` (cli/cmd_dns.c) and the agent's dns
 * module (agent/mod_dns.c).
 */
#ifndef CTW_DNS_H
#define CTW_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the parser (dns/parse.c) ---- */

#define CTW_DNS_HDR_LEN 12
#define CTW_DNS_MAX_LABEL 63
#define CTW_DNS_MAX_NAME 255 /* wire length, RFC 1035 2.3.4 */
/* A name in presentation form: each wire byte may become "\DDD". */
#define CTW_DNS_NAME_TEXT (4 * CTW_DNS_MAX_NAME + 2)
#define CTW_DNS_MAX_ANSWERS 16 /* answers kept; more are validated, not kept */
#define CTW_DNS_MAX_PTR_HOPS 64

enum ctw_dns_type {
	CTW_DNS_T_A = 1,
	CTW_DNS_T_NS = 2,
	CTW_DNS_T_CNAME = 5,
	CTW_DNS_T_SOA = 6,
	CTW_DNS_T_PTR = 12,
	CTW_DNS_T_MX = 15,
	CTW_DNS_T_TXT = 16,
	CTW_DNS_T_AAAA = 28,
	CTW_DNS_T_SRV = 33,
	CTW_DNS_T_OPT = 41,
	CTW_DNS_T_HTTPS = 65,
	CTW_DNS_T_ANY = 255,
};

enum ctw_dns_rcode {
	CTW_DNS_NOERROR = 0,
	CTW_DNS_FORMERR = 1,
	CTW_DNS_SERVFAIL = 2,
	CTW_DNS_NXDOMAIN = 3,
	CTW_DNS_NOTIMP = 4,
	CTW_DNS_REFUSED = 5,
};

/* Why a message is malformed (parse results are 0 or -CTW_DNS_E_*). */
enum ctw_dns_error {
	CTW_DNS_E_OK = 0,
	CTW_DNS_E_SHORT,   /* shorter than the 12-byte header */
	CTW_DNS_E_TRUNC,   /* a section runs past the end of the message */
	CTW_DNS_E_LABEL,   /* label length byte 0x40-0xbf (> 63 or reserved type) */
	CTW_DNS_E_NAME,	   /* name longer than 255 bytes */
	CTW_DNS_E_PTR,	   /* compression pointer outside the message or into the header */
	CTW_DNS_E_LOOP,	   /* compression pointer not pointing backwards, or too many hops */
	CTW_DNS_E_QDCOUNT, /* a query without exactly one question, a response with > 1 */
	CTW_DNS_E_RDATA,   /* rdata length wrong for its type (A != 4, AAAA != 16, CNAME) */
	CTW_DNS_E__MAX,
};

struct ctw_dns_answer {
	uint16_t type; /* CTW_DNS_T_A, _AAAA or _CNAME */
	uint32_t ttl;
	uint8_t addr[16];	      /* A: first 4 bytes; zero for CNAME */
	char text[CTW_DNS_NAME_TEXT]; /* address or CNAME target, presentation form */
};

struct ctw_dns_msg {
	uint16_t id;
	bool qr; /* response */
	uint8_t opcode;
	bool aa, tc, rd, ra;
	uint8_t rcode; /* header rcode (4 bits) */
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_question;
	char qname[CTW_DNS_NAME_TEXT]; /* "." for the root */
	uint16_t qtype, qclass;
	unsigned int nanswers;	    /* kept in answers[] (A, AAAA, CNAME only) */
	unsigned int answers_total; /* A/AAAA/CNAME records seen */
	struct ctw_dns_answer answers[CTW_DNS_MAX_ANSWERS];
	/* How far parsing got (bytes), for callers that cut a message short. */
	size_t parsed;
};

/* Parse one DNS message (without TCP's length prefix).  Returns 0 or
 * -CTW_DNS_E_*.  On error *out still holds what was parsed before the
 * fault (header, question when has_question).  Never reads outside
 * buf[0..len). */
int ctw_dns_parse(const uint8_t *buf, size_t len, struct ctw_dns_msg *out);
/* Parse only as far as the answers (nscount/arcount sections are not
 * checked): what the probe does, since authority and additional sections
 * are irrelevant to it and often cut by the capture length. */
#define CTW_DNS_PARSE_ANSWERS_ONLY 0x1
int ctw_dns_parse_flags(const uint8_t *buf, size_t len, unsigned int flags,
			struct ctw_dns_msg *out);

/* Decode the name at buf[*off] into presentation form (text, size >=
 * CTW_DNS_NAME_TEXT) and advance *off past it.  0 or -CTW_DNS_E_*. */
int ctw_dns_read_name(const uint8_t *buf, size_t len, size_t *off, char *text, size_t size);

const char *ctw_dns_strerror(int err); /* err: CTW_DNS_E_* or its negative */
/* "A", "AAAA", ...; unknown types as "TYPE123" in buf (>= 12 bytes). */
const char *ctw_dns_type_name(uint16_t type, char *buf, size_t size);
/* Bounded label for metrics: a known name or "other". */
const char *ctw_dns_type_label(uint16_t type);
int ctw_dns_type_parse(const char *s, uint16_t *out);
/* "NOERROR", "NXDOMAIN", ...; unknown as "RCODE12" in buf (>= 12 bytes). */
const char *ctw_dns_rcode_name(unsigned int rcode, char *buf, size_t size);
int ctw_dns_rcode_parse(const char *s, unsigned int *out);

/* ---- pairing queries and responses (dns/pair.c) ---- */

enum ctw_dns_kind {
	CTW_DNS_ANSWERED,  /* a response matched a query: latency, rcode, answers */
	CTW_DNS_TIMEOUT,   /* a query had no response within the timeout */
	CTW_DNS_UNMATCHED, /* a response without a pending query */
	CTW_DNS_MALFORMED, /* a packet the parser refused */
};

/* One finished exchange, handed to the consumer. */
struct ctw_dns_txn {
	enum ctw_dns_kind kind;
	uint64_t cgroup_id;
	uint32_t pid; /* of the query's sender, 0 when unknown */
	char comm[16];
	uint64_t ts_ns;	     /* CLOCK_MONOTONIC of the query (or packet) */
	uint64_t latency_ns; /* ANSWERED only */
	uint16_t id;
	uint16_t qtype;
	uint8_t rcode;
	bool answers_cut; /* the capture ended before all answers */
	bool tcp;
	uint8_t dir;	 /* enum ctw_dns_dir of the query (or of the lone packet) */
	int error;	 /* MALFORMED: CTW_DNS_E_* */
	char server[64]; /* "ADDR#PORT" of the resolver */
	char qname[CTW_DNS_NAME_TEXT];
	unsigned int nanswers;
	char answers[CTW_DNS_MAX_ANSWERS][CTW_DNS_NAME_TEXT];
	uint16_t answer_types[CTW_DNS_MAX_ANSWERS];
};

/* What the pairer needs to know about a query it has seen. */
struct ctw_dns_query_info {
	uint64_t cgroup_id;
	uint64_t ts_ns;
	uint8_t dir; /* enum ctw_dns_dir the query travelled in */
	uint32_t pid;
	char comm[16];
	char server[64];
	bool tcp;
};

struct ctw_dns_pairer;

typedef void (*ctw_dns_txn_fn)(void *ctx, const struct ctw_dns_txn *t);
/* A well-formed query was seen (before pairing; retransmissions too). */
typedef void (*ctw_dns_query_fn)(void *ctx, const struct ctw_dns_query_info *q,
				 const struct ctw_dns_msg *m);

/* timeout_ns: how long a query waits for its response.  max_pending bounds
 * memory (0 = 65536); when full, the oldest query is reported as timed out. */
struct ctw_dns_pairer *ctw_dns_pairer_new(uint64_t timeout_ns, size_t max_pending,
					  ctw_dns_txn_fn fn, void *ctx);
void ctw_dns_pairer_free(struct ctw_dns_pairer *p);
/* A query was sent.  Returns false when it duplicates a pending query
 * (a retransmission: the first send keeps timing the exchange). */
bool ctw_dns_pairer_query(struct ctw_dns_pairer *p, const struct ctw_dns_query_info *q,
			  const struct ctw_dns_msg *m);
/* A response arrived: reports ANSWERED or UNMATCHED through fn.  r
 * describes the response packet (pid/comm unused); it pairs with a query
 * of the same container that travelled the other way. */
void ctw_dns_pairer_response(struct ctw_dns_pairer *p, const struct ctw_dns_query_info *r,
			     const struct ctw_dns_msg *m, bool cut);
/* Report queries older than now - timeout as TIMEOUT. */
void ctw_dns_pairer_expire(struct ctw_dns_pairer *p, uint64_t now_ns);
/* Report every pending query as timed out, now. */
void ctw_dns_pairer_flush(struct ctw_dns_pairer *p);
/* Hand a finished record (e.g. MALFORMED) to the consumer as is. */
void ctw_dns_pairer_report(struct ctw_dns_pairer *p, const struct ctw_dns_txn *t);
/* Forget (and do not report) what is pending for a container that went. */
void ctw_dns_pairer_forget(struct ctw_dns_pairer *p, uint64_t cgroup_id);
size_t ctw_dns_pairer_pending(const struct ctw_dns_pairer *p);

/* ---- the probe (dns/probe.c): BPF programs + ring buffer + pairing ---- */

struct ctw_dns_probe;

struct ctw_dns_probe_opts {
	uint64_t timeout_ns;	/* 0 = 5 s */
	bool no_tcp;		/* don't copy TCP/53 segments */
	uint16_t port;		/* 0 = 53 */
	uint32_t ringbuf_bytes; /* power of 2, >= a page; 0 = 1 MiB */
	ctw_dns_txn_fn on_txn;	/* every finished exchange (and malformed packet) */
	/* Every well-formed query seen, before it is paired (for counting);
	 * may be NULL. */
	ctw_dns_query_fn on_query;
	void *ctx;
};

/* Open and load the BPF programs; attach nothing yet.  -errno. */
int ctw_dns_probe_new(const struct ctw_dns_probe_opts *opts, struct ctw_dns_probe **out);
/* Detach from every cgroup, free everything; NULL is fine. */
void ctw_dns_probe_free(struct ctw_dns_probe *p);
/* Attach egress + ingress to the cgroup v2 directory `path` (its id is
 * returned in *cgroup_id when not NULL): they see the packets of its
 * sockets and of every cgroup below it.  Attaching twice is a no-op;
 * -ENOTDIR when `path` is no cgroup v2 directory. */
int ctw_dns_probe_attach(struct ctw_dns_probe *p, const char *path, uint64_t *cgroup_id);
/* Detach from the cgroup with that id; -ENOENT when not attached. */
int ctw_dns_probe_detach(struct ctw_dns_probe *p, uint64_t cgroup_id);
/* Forget what is pending for a cgroup that went (attached below it). */
void ctw_dns_probe_forget(struct ctw_dns_probe *p, uint64_t cgroup_id);
bool ctw_dns_probe_attached(const struct ctw_dns_probe *p, uint64_t cgroup_id);
size_t ctw_dns_probe_nattached(const struct ctw_dns_probe *p);
/* The ring buffer's epoll fd: readable when records wait. */
int ctw_dns_probe_fd(const struct ctw_dns_probe *p);
/* Consume what is in the ring buffer (no waiting), then expire timed-out
 * queries.  Returns records consumed or -errno. */
int ctw_dns_probe_consume(struct ctw_dns_probe *p);
/* Wait up to timeout_ms for records, consume them, expire queries. */
int ctw_dns_probe_poll(struct ctw_dns_probe *p, int timeout_ms);
/* Report every pending query as timed out now (at exit, when asked). */
void ctw_dns_probe_flush(struct ctw_dns_probe *p);
/* Forget a removed cgroup's loss count (so the table tracks live cgroups). */
void ctw_dns_probe_forget_lost(struct ctw_dns_probe *p, uint64_t cgroup_id);
/* Records the kernel could not queue (ring buffer full), per cgroup:
 * calls fn for each cgroup with a non-zero count. */
void ctw_dns_probe_lost(struct ctw_dns_probe *p,
			void (*fn)(void *ctx, uint64_t cgroup_id, uint64_t n), void *ctx);

/* Decode one raw bpf/dns.h record into a query/response/malformed outcome
 * and feed the pairer: what the probe does per record, exposed for tests
 * and the fuzzer.  `rec` is a struct dns_event of `size` bytes.  Returns
 * 0, or -EINVAL for a record of the wrong size. */
int ctw_dns_handle_record(struct ctw_dns_pairer *p, const void *rec, size_t size,
			  ctw_dns_query_fn on_query, void *ctx);

#endif /* CTW_DNS_H */
