// SPDX-License-Identifier: Apache-2.0
/*
 * xdp-gen: a packet generator for the XDP benchmarks.  It loads a two-
 * instruction XDP program (return XDP_TX) and runs it with BPF_PROG_TEST_RUN
 * in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel builds real
 * frames from our template and transmits each one out of the given
 * interface, with no socket and no copy per packet.  On a veth pair the
 * frames arrive at the peer through its XDP/NAPI path (GRO must be on at the
 * peer when it has no XDP program of its own).
 *
 *   xdp-gen IFNAME DST_MAC SRC_IP DST_IP SECONDS [FRAME_LEN]
 *
 * Prints one line: "sent N packets in S s (R pps)".  Run it inside the
 * sender's network namespace; pin it to a CPU with taskset.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum(const void *p, size_t n)
{
	const uint16_t *w = p;
	uint32_t s = 0;
	for (; n > 1; n -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int read_mac(const char *ifname, uint8_t mac[6])
{
	char path[128];
	unsigned int m[6];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int n = fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	fclose(f);
	if (n != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr,
			"usage: xdp-gen IFNAME DST_MAC SRC_IP DST_IP SECONDS [FRAME_LEN]\n");
		return 2;
	}
	const char *ifname = argv[1];
	double secs = atof(argv[5]);
	size_t flen = argc > 6 ? (size_t)atoi(argv[6]) : 64;
	unsigned int ifindex = if_nametoindex(ifname);
	uint8_t frame[1514] = {0};
	unsigned int m[6];

	if (!ifindex) {
		fprintf(stderr, "xdp-gen: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	if (flen < 60 || flen > sizeof(frame))
		flen = 64;
	struct ethhdr *eth = (struct ethhdr *)frame;
	if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "xdp-gen: bad MAC %s\n", argv[2]);
		return 2;
	}
	for (int i = 0; i < 6; i++)
		eth->h_dest[i] = (uint8_t)m[i];
	if (read_mac(ifname, eth->h_source) < 0) {
		fprintf(stderr, "xdp-gen: cannot read the MAC of %s\n", ifname);
		return 1;
	}
	eth->h_proto = htons(ETH_P_IP);
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(flen - sizeof(*eth)));
	if (inet_pton(AF_INET, argv[3], &ip->saddr) != 1 ||
	    inet_pton(AF_INET, argv[4], &ip->daddr) != 1) {
		fprintf(stderr, "xdp-gen: bad address\n");
		return 2;
	}
	ip->check = csum(ip, sizeof(*ip));
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	udp->source = htons(40000);
	udp->dest = htons(9);
	udp->len = htons((uint16_t)(flen - sizeof(*eth) - sizeof(*ip)));

	/* return XDP_TX */
	struct bpf_insn prog[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_TX},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int pfd = bpf_prog_load(BPF_PROG_TYPE_XDP, "ctwp_xdp_gen", "GPL", prog, 2, NULL);
	if (pfd < 0) {
		fprintf(stderr, "xdp-gen: load: %s\n", strerror(errno));
		return 1;
	}
	struct xdp_md ctx = {.data_end = (uint32_t)flen, .ingress_ifindex = ifindex};
	uint64_t sent = 0;
	uint32_t repeat = 256; /* grows while a call takes < 50 ms: slow receivers stay timed */
	double t0 = now(), t = t0, tc;
	do {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)flen,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
		tc = t;
		if (bpf_prog_test_run_opts(pfd, &o) < 0) {
			fprintf(stderr, "xdp-gen: test run: %s\n", strerror(errno));
			return 1;
		}
		sent += repeat;
		t = now();
		if (t - tc < 0.05 && repeat < (1u << 22))
			repeat *= 2;
	} while (t - t0 < secs);
	printf("sent %llu packets in %.3f s (%.0f pps)\n", (unsigned long long)sent, t - t0,
	       (double)sent / (t - t0));
	return 0;
}
