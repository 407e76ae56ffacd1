// SPDX-License-Identifier: Apache-2.0
/*
 * NAT, forwarding and published ports in `table ip ctrwatch`, through
 * libnftables.  The table is never edited rule by rule: it is rebuilt from
 * the leases and swapped in one transaction ("add; delete; add {...}"), so
 * a crash can't leave half a rule set, there are no rule handles to
 * remember, and when the last lease goes the table goes with it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <nftables/libnftables.h>

#include "internal.h"

char *net_nft_ruleset(const struct ipam_state *st, const struct ipam_lease *leases, size_t n)
{
	struct ctw_outbuf b; /* in memory: the script text */
	ctw_outbuf_init(&b, -1, 1024);
	char net[16], ip[16];
	const char *br = st->bridge;

	net_ip4_format(st->subnet, net);
	/* "add" first so that "delete" can't fail on a missing table. */
	ctw_outbuf_printf(&b,
			  "add table ip " CTW_NET_TABLE "\ndelete table ip " CTW_NET_TABLE "\n");
	if (n == 0)
		return ctw_outbuf_take(&b);
	ctw_outbuf_printf(&b, "table ip " CTW_NET_TABLE " {\n");
	/* Published ports: traffic to any local address (or the given one)
	 * from outside (prerouting) and from the host itself (output). */
	ctw_outbuf_printf(&b, "\tchain prerouting {\n"
			      "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
			      "\t\tfib daddr type local jump publish\n"
			      "\t}\n"
			      "\tchain output {\n"
			      "\t\ttype nat hook output priority -100; policy accept;\n"
			      "\t\tfib daddr type local jump publish\n"
			      "\t}\n"
			      "\tchain publish {\n");
	for (size_t i = 0; i < n; i++) {
		net_ip4_format(leases[i].ip, ip);
		for (size_t j = 0; j < leases[i].npublish; j++) {
			const struct ctw_net_publish *p = &leases[i].publish[j];
			const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
			ctw_outbuf_printf(&b,
					  "\t\t%s%s%s%s dport %u dnat to %s:%u comment \"%s\"\n",
					  p->host_ip[0] ? "ip daddr " : "", p->host_ip,
					  p->host_ip[0] ? " " : "", proto, p->host_port, ip,
					  p->ctr_port, leases[i].id);
		}
	}
	ctw_outbuf_printf(&b, "\t}\n");
	/* Masquerade what leaves the subnet; also 127/8 sources going to the
	 * bridge (published ports reached via 127.0.0.1, with route_localnet
	 * on the bridge) and containers reaching a published port of another
	 * container through a host address (hairpin). */
	ctw_outbuf_printf(&b,
			  "\tchain postrouting {\n"
			  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
			  "\t\tip saddr %s/%d oifname != \"%s\" masquerade\n"
			  "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n"
			  "\t\toifname \"%s\" ct status dnat ip saddr %s/%d masquerade\n"
			  "\t}\n",
			  net, st->prefix_len, br, br, br, net, st->prefix_len);
	/* What the bridge may forward: out of the bridge, replies back in, and
	 * connections to published ports. */
	ctw_outbuf_printf(&b,
			  "\tchain forward {\n"
			  "\t\ttype filter hook forward priority filter; policy accept;\n"
			  "\t\tiifname \"%s\" accept\n"
			  "\t\toifname \"%s\" ct state established,related accept\n"
			  "\t\toifname \"%s\" ct status dnat accept\n"
			  "\t}\n"
			  "}\n",
			  br, br, br);
	return ctw_outbuf_take(&b);
}

static int nft_run(const char *text, bool quiet, struct ctw_err *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return ctw_err_setx(err, ENOMEM, "nftables: cannot create a context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int r = nft_run_cmd_from_buffer(ctx, text);
	if (r && !quiet) {
		const char *msg = nft_ctx_get_error_buffer(ctx);
		size_t len = msg ? strcspn(msg, "\n") : 0;
		ctw_err_setx(err, EIO, "nftables: %.*s", (int)(len > 300 ? 300 : len),
			     msg ? msg : "failed");
	}
	nft_ctx_free(ctx);
	return r ? -EIO : 0;
}

int net_nft_apply(const char *text, struct ctw_err *err)
{
	pr_debug("nftables:\n%s", text);
	return nft_run(text, false, err);
}

bool net_nft_table_present(void)
{
	return nft_run("list table ip " CTW_NET_TABLE, true, NULL) == 0;
}
