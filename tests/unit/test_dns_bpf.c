// SPDX-License-Identifier: Apache-2.0
/*
 * The DNS capture programs (bpf/dns.bpf.c) run on hand-built packets with
 * BPF_PROG_TEST_RUN: what they copy into the ring buffer (IPv4, IPv6 with an
 * extension header, TCP, long messages cut at CTW_DNS_CAPTURE), what they
 * ignore (other ports, pure ACKs, non-first fragments, garbage), and that
 * they pass every packet unchanged (return 1).  Needs root (BPF); skipped
 * otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/dns.h"
#include "dns.skel.h"

struct fixture {
	struct dns_bpf *skel;
	struct ring_buffer *rb;
	struct dns_event ev[8];
	int nev;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct fixture *f = ctx;

	assert_int_equal(size, sizeof(struct dns_event));
	if (f->nev < 8)
		memcpy(&f->ev[f->nev], data, sizeof(struct dns_event));
	f->nev++;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (geteuid() != 0) {
		free(f);
		return -1;
	}
	libbpf_set_print(NULL);
	f->skel = dns_bpf__open_and_load();
	if (!f->skel) {
		free(f);
		return -1;
	}
	f->rb = ring_buffer__new(bpf_map__fd(f->skel->maps.dns_events), on_event, f, NULL);
	assert_non_null(f->rb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f) {
		ring_buffer__free(f->rb);
		dns_bpf__destroy(f->skel);
		free(f);
	}
	return 0;
}

/* Run a program on pkt; returns its verdict; the output must equal the
 * input from the network header on (nothing changed; the kernel does not
 * hand the Ethernet header of a cgroup_skb run back as it was).  Events
 * land in f->ev. */
static int try_run(struct fixture *f, struct bpf_program *prog, const uint8_t *pkt, size_t len,
		   int *verdict)
{
	static uint8_t out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out));
	int err;

	f->nev = 0;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
	if (err)
		return err;
	assert_int_equal(o.data_size_out, len);
	assert_memory_equal(out + ETH_HLEN, pkt + ETH_HLEN, len - ETH_HLEN);
	ring_buffer__consume(f->rb);
	*verdict = (int)o.retval;
	return 0;
}

static int run(struct fixture *f, struct bpf_program *prog, const uint8_t *pkt, size_t len)
{
	int verdict = -1;

	assert_int_equal(try_run(f, prog, pkt, len, &verdict), 0);
	return verdict;
}

/* ---- packet building ---- */

struct pkt {
	uint8_t b[2048];
	size_t n;
};

static void eth(struct pkt *p, uint16_t proto)
{
	struct ethhdr e = {.h_proto = htons(proto)};

	memset(p, 0, sizeof(*p));
	memcpy(p->b, &e, sizeof(e));
	p->n = sizeof(e);
}

static void put(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header */
	3,    'w',  'e',  'b',	4,    't',  'e',  's',	't',  0,    0x00, 0x01, 0x00, 0x01,
};

static void ipv4(struct pkt *p, uint8_t proto, size_t l4len, uint16_t frag)
{
	struct iphdr ip = {
		.version = 4,
		.ihl = 5,
		.ttl = 64,
		.protocol = proto,
		.tot_len = htons((uint16_t)(sizeof(ip) + l4len)),
		.frag_off = htons(frag),
		.saddr = htonl(0x0a000002),
		.daddr = htonl(0x0a000001),
	};
	eth(p, ETH_P_IP);
	put(p, &ip, sizeof(ip));
}

static void udp(struct pkt *p, uint16_t sport, uint16_t dport, const void *d, size_t n)
{
	struct udphdr u = {.source = htons(sport),
			   .dest = htons(dport),
			   .len = htons((uint16_t)(sizeof(u) + n))};
	put(p, &u, sizeof(u));
	put(p, d, n);
}

static void udp4(struct pkt *p, uint16_t sport, uint16_t dport, const void *d, size_t n)
{
	ipv4(p, IPPROTO_UDP, sizeof(struct udphdr) + n, 0);
	udp(p, sport, dport, d, n);
}

static void test_ipv4_udp(void **state)
{
	struct fixture *f = *state;
	struct pkt p;

	udp4(&p, 40000, 53, query, sizeof(query));
	assert_int_equal(run(f, f->skel->progs.dns_egress, p.b, p.n), 1);
	assert_int_equal(f->nev, 1);
	struct dns_event *e = &f->ev[0];
	assert_int_equal(e->dir, CTW_DNS_EGRESS);
	assert_int_equal(e->family, 4);
	assert_int_equal(e->sport, 40000);
	assert_int_equal(e->dport, 53);
	assert_int_equal(e->msg_len, sizeof(query));
	assert_int_equal(e->wire_len, sizeof(query));
	assert_memory_equal(e->msg, query, sizeof(query));
	assert_memory_equal(e->saddr, "\x0a\x00\x00\x02", 4);
	assert_memory_equal(e->daddr, "\x0a\x00\x00\x01", 4);
	assert_false(e->flags & CTW_DNS_F_TCP);
	assert_true(e->ts_ns > 0);

	/* the response direction, from port 53, through the ingress program */
	udp4(&p, 53, 40000, query, sizeof(query));
	assert_int_equal(run(f, f->skel->progs.dns_ingress, p.b, p.n), 1);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].dir, CTW_DNS_INGRESS);
	assert_int_equal(f->ev[0].sport, 53);
	assert_int_equal(f->ev[0].pid, 0); /* never a task on ingress */
}

static void test_ignored(void **state)
{
	struct fixture *f = *state;
	struct pkt p;

	/* other ports */
	udp4(&p, 40000, 5353, query, sizeof(query));
	assert_int_equal(run(f, f->skel->progs.dns_egress, p.b, p.n), 1);
	assert_int_equal(f->nev, 0);
	/* a non-first fragment (offset 8 bytes) */
	ipv4(&p, IPPROTO_UDP, sizeof(struct udphdr) + sizeof(query), 1);
	udp(&p, 40000, 53, query, sizeof(query));
	assert_int_equal(run(f, f->skel->progs.dns_egress, p.b, p.n), 1);
	assert_int_equal(f->nev, 0);
	/* an empty UDP payload */
	udp4(&p, 40000, 53, query, 0);
	assert_int_equal(run(f, f->skel->progs.dns_egress, p.b, p.n), 1);
	assert_int_equal(f->nev, 0);
	/* a TCP segment without payload (pure ACK) */
	struct tcphdr t = {.source = htons(40000), .dest = htons(53), .doff = 5, .ack = 1};
	ipv4(&p, IPPROTO_TCP, sizeof(t), 0);
	put(&p, &t, sizeof(t));
	assert_int_equal(run(f, f->skel->progs.dns_egress, p.b, p.n), 1);
	assert_int_equal(f->nev, 0);
}

static void test_tcp(void **state)
{
	struct fixture *f = *state;
	struct tcphdr t = {.source = htons(53), .dest = htons(40000), .doff = 5, .ack = 1};
	uint8_t len[2] = {0, sizeof(query)};
	struct pkt p;

	ipv4(&p, IPPROTO_TCP, sizeof(t) + 2 + sizeof(query), 0);
	put(&p, &t, sizeof(t));
	put(&p, len, 2);
	put(&p, query, sizeof(query));
	assert_int_equal(run(f, f->skel->progs.dns_ingress, p.b, p.n), 1);
	assert_int_equal(f->nev, 1);
	assert_true(f->ev[0].flags & CTW_DNS_F_TCP);
	assert_int_equal(f->ev[0].msg_len, 2 + sizeof(query));
	assert_memory_equal(f->ev[0].msg + 2, query, sizeof(query));
}

static void test_ipv6_ext_header(void **state)
{
	struct fixture *f = *state;
	struct ipv6hdr ip6 = {.version = 6, .nexthdr = 0 /* hop-by-hop */, .hop_limit = 64};
	uint8_t hbh[8] = {IPPROTO_UDP, 0 /* (0+1)*8 bytes */, 1, 4, 0, 0, 0, 0};
	struct pkt p;

	ip6.payload_len = htons((uint16_t)(sizeof(hbh) + sizeof(struct udphdr) + sizeof(query)));
	ip6.saddr.s6_addr[15] = 2;
	ip6.daddr.s6_addr[15] = 1;
	eth(&p, ETH_P_IPV6);
	put(&p, &ip6, sizeof(ip6));
	put(&p, hbh, sizeof(hbh));
	udp(&p, 40000, 53, query, sizeof(query));
	assert_int_equal(run(f, f->skel->progs.dns_egress, p.b, p.n), 1);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].family, 6);
	assert_int_equal(f->ev[0].daddr[15], 1);
	assert_memory_equal(f->ev[0].msg, query, sizeof(query));
}

static void test_long_message_cut(void **state)
{
	struct fixture *f = *state;
	uint8_t big[1200];
	struct pkt p;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	udp4(&p, 53, 40000, big, sizeof(big));
	assert_int_equal(run(f, f->skel->progs.dns_ingress, p.b, p.n), 1);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].msg_len, CTW_DNS_CAPTURE);
	assert_int_equal(f->ev[0].wire_len, sizeof(big));
	assert_memory_equal(f->ev[0].msg, big, CTW_DNS_CAPTURE);
}

static void test_garbage_passes(void **state)
{
	struct fixture *f = *state;
	struct pkt p;

	int ran = 0;

	srand(7);
	for (int i = 0; i < 200; i++) {
		size_t n = 15 + (size_t)(rand() % 120);
		eth(&p, i % 2 ? ETH_P_IP : ETH_P_IPV6);
		for (size_t j = p.n; j < n; j++)
			p.b[j] = (uint8_t)rand();
		/* keep a plausible version nibble half of the time */
		if (i % 4 < 2)
			p.b[14] = (uint8_t)((i % 2 ? 0x40 : 0x60) | (p.b[14] & 0x0f));
		p.n = n;
		/* The kernel may refuse to build an skb from some of these
		 * (EINVAL): then nothing ran.  What runs must pass. */
		for (int d = 0; d < 2; d++) {
			struct bpf_program *prog =
				d ? f->skel->progs.dns_ingress : f->skel->progs.dns_egress;
			int verdict = -1;
			if (try_run(f, prog, p.b, p.n, &verdict) == 0) {
				assert_int_equal(verdict, 1);
				ran++;
			}
		}
	}
	assert_true(ran > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_udp),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_ipv6_ext_header),
		cmocka_unit_test(test_long_message_cut),
		cmocka_unit_test(test_garbage_passes),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (BPF)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
