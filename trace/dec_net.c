// SPDX-License-Identifier: Apache-2.0
/*
 * Sockets: address families, types and protocols; sockaddrs of every
 * common family (unix with abstract names, inet, inet6 with its scope,
 * netlink, packet, vsock); msghdr with its iovecs and control messages
 * (SCM_RIGHTS, SCM_CREDENTIALS); socket option levels, names and values.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>

#include "internal.h"

static const struct xlat domains[] = {
	XLAT(AF_UNSPEC),     XLAT(AF_UNIX),	 XLAT(AF_INET),	    XLAT(AF_AX25),
	XLAT(AF_IPX),	     XLAT(AF_APPLETALK), XLAT(AF_NETROM),   XLAT(AF_BRIDGE),
	XLAT(AF_ATMPVC),     XLAT(AF_X25),	 XLAT(AF_INET6),    XLAT(AF_ROSE),
	XLAT(AF_DECnet),     XLAT(AF_NETBEUI),	 XLAT(AF_SECURITY), XLAT(AF_KEY),
	XLAT(AF_NETLINK),    XLAT(AF_PACKET),	 XLAT(AF_ASH),	    XLAT(AF_ECONET),
	XLAT(AF_ATMSVC),     XLAT(AF_RDS),	 XLAT(AF_SNA),	    XLAT(AF_IRDA),
	XLAT(AF_PPPOX),	     XLAT(AF_WANPIPE),	 XLAT(AF_LLC),	    XLAT(AF_IB),
	XLAT(AF_MPLS),	     XLAT(AF_CAN),	 XLAT(AF_TIPC),	    XLAT(AF_BLUETOOTH),
	XLAT(AF_IUCV),	     XLAT(AF_RXRPC),	 XLAT(AF_ISDN),	    XLAT(AF_PHONET),
	XLAT(AF_IEEE802154), XLAT(AF_CAIF),	 XLAT(AF_ALG),	    XLAT(AF_NFC),
	XLAT(AF_VSOCK),	     XLAT(AF_KCM),	 XLAT(AF_QIPCRTR),  XLAT(AF_SMC),
	XLAT(AF_XDP),	     {45, "AF_MCTP"},
};

void ctw_trace_format_socket_domain(struct ctw_outbuf *o, uint64_t domain)
{
	put_enum_ex(o, domains, ARRAY_SIZE(domains), (int64_t)domain, false, NULL);
}

ARGFN(arg_domain)
{
	ctw_trace_format_socket_domain(d->o, (uint32_t)d->ev->args[i]);
}

static const struct xlat sock_types[] = {
	XLAT(SOCK_STREAM),    XLAT(SOCK_DGRAM), XLAT(SOCK_RAW),	   XLAT(SOCK_RDM),
	XLAT(SOCK_SEQPACKET), XLAT(SOCK_DCCP),	XLAT(SOCK_PACKET),
};

static const struct xlat sock_flags[] = {XLAT(SOCK_CLOEXEC), XLAT(SOCK_NONBLOCK)};

void ctw_trace_format_socket_type(struct ctw_outbuf *o, uint64_t type)
{
	put_enum_ex(o, sock_types, ARRAY_SIZE(sock_types), type & 0xf, true, NULL);
	type &= ~0xfull;
	if (type) {
		put_c(o, '|');
		put_flags(o, sock_flags, ARRAY_SIZE(sock_flags), type, NULL);
	}
}

ARGFN(arg_socktype)
{
	ctw_trace_format_socket_type(d->o, (uint32_t)d->ev->args[i]);
}

ARGFN(arg_sockflags)
{
	put_flags(d->o, sock_flags, ARRAY_SIZE(sock_flags), (uint32_t)d->ev->args[i], "0");
}

static const struct xlat ip_protos[] = {
	XLAT(IPPROTO_IP),	XLAT(IPPROTO_ICMP), XLAT(IPPROTO_IGMP),	       XLAT(IPPROTO_IPIP),
	XLAT(IPPROTO_TCP),	XLAT(IPPROTO_EGP),  XLAT(IPPROTO_PUP),	       XLAT(IPPROTO_UDP),
	XLAT(IPPROTO_IDP),	XLAT(IPPROTO_TP),   XLAT(IPPROTO_DCCP),	       XLAT(IPPROTO_IPV6),
	XLAT(IPPROTO_RSVP),	XLAT(IPPROTO_GRE),  XLAT(IPPROTO_ESP),	       XLAT(IPPROTO_AH),
	XLAT(IPPROTO_ICMPV6),	XLAT(IPPROTO_MTP),  XLAT(IPPROTO_BEETPH),      XLAT(IPPROTO_ENCAP),
	XLAT(IPPROTO_PIM),	XLAT(IPPROTO_COMP), {115, "IPPROTO_L2TP"},     XLAT(IPPROTO_SCTP),
	XLAT(IPPROTO_UDPLITE),	XLAT(IPPROTO_MPLS), {143, "IPPROTO_ETHERNET"}, XLAT(IPPROTO_RAW),
	{262, "IPPROTO_MPTCP"},
};

static const struct xlat netlink_protos[] = {
	XLAT(NETLINK_ROUTE),	  XLAT(NETLINK_UNUSED),
	XLAT(NETLINK_USERSOCK),	  XLAT(NETLINK_FIREWALL),
	XLAT(NETLINK_SOCK_DIAG),  XLAT(NETLINK_NFLOG),
	XLAT(NETLINK_XFRM),	  XLAT(NETLINK_SELINUX),
	XLAT(NETLINK_ISCSI),	  XLAT(NETLINK_AUDIT),
	XLAT(NETLINK_FIB_LOOKUP), XLAT(NETLINK_CONNECTOR),
	XLAT(NETLINK_NETFILTER),  XLAT(NETLINK_IP6_FW),
	XLAT(NETLINK_DNRTMSG),	  XLAT(NETLINK_KOBJECT_UEVENT),
	XLAT(NETLINK_GENERIC),	  XLAT(NETLINK_SCSITRANSPORT),
	XLAT(NETLINK_ECRYPTFS),	  XLAT(NETLINK_RDMA),
	XLAT(NETLINK_CRYPTO),	  XLAT(NETLINK_SMC),
};

static const struct xlat eth_protos[] = {
	XLAT(ETH_P_802_3),   XLAT(ETH_P_AX25),	   XLAT(ETH_P_ALL),	XLAT(ETH_P_802_2),
	XLAT(ETH_P_LOOP),    XLAT(ETH_P_PUP),	   XLAT(ETH_P_IP),	XLAT(ETH_P_X25),
	XLAT(ETH_P_ARP),     XLAT(ETH_P_RARP),	   XLAT(ETH_P_ATALK),	XLAT(ETH_P_AARP),
	XLAT(ETH_P_8021Q),   XLAT(ETH_P_IPX),	   XLAT(ETH_P_IPV6),	XLAT(ETH_P_PAUSE),
	XLAT(ETH_P_SLOW),    XLAT(ETH_P_WCCP),	   XLAT(ETH_P_MPLS_UC), XLAT(ETH_P_MPLS_MC),
	XLAT(ETH_P_ATMMPOA), XLAT(ETH_P_PPP_DISC), XLAT(ETH_P_PPP_SES), XLAT(ETH_P_PAE),
	XLAT(ETH_P_AOE),     XLAT(ETH_P_8021AD),   XLAT(ETH_P_TIPC),	XLAT(ETH_P_MACSEC),
	XLAT(ETH_P_8021AH),  XLAT(ETH_P_1588),	   XLAT(ETH_P_LLDP),	XLAT(ETH_P_FCOE),
	XLAT(ETH_P_FIP),     XLAT(ETH_P_80221),	   XLAT(ETH_P_QINQ1),	XLAT(ETH_P_EDSA),
};

/* htons(ETH_P_IP) as strace writes a packet socket's protocol (kept in network
 * order); an unknown one in hex with an ETH_P_??? comment */
static void put_eth_proto(struct ctw_outbuf *o, uint16_t net_order)
{
	put_s(o, "htons(");
	put_enum_ex(o, eth_protos, ARRAY_SIZE(eth_protos), ntohs(net_order), true, "ETH_P_???");
	put_c(o, ')');
}

/* the protocol means something else in each family */
ARGFN(arg_sockproto)
{
	int64_t v = (int32_t)d->ev->args[i];

	switch (d->ev->args[0]) {
	case AF_INET:
	case AF_INET6: put_enum_ex(d->o, ip_protos, ARRAY_SIZE(ip_protos), v, false, NULL); return;
	case AF_NETLINK:
		put_enum_ex(d->o, netlink_protos, ARRAY_SIZE(netlink_protos), v, false, NULL);
		return;
	case AF_PACKET: put_eth_proto(d->o, (uint16_t)v); return;
	}
	put_i64(d->o, v);
}

/* ---- sockaddr ---- */

static void put_ifindex(struct ctw_outbuf *o, unsigned idx)
{
	char name[IF_NAMESIZE];

	if (idx && if_indextoname(idx, name)) {
		put_s(o, "if_nametoindex(");
		ctw_trace_quote(o, name, strlen(name), SIZE_MAX, false);
		put_c(o, ')');
	} else {
		put_u64(o, idx);
	}
}

static const struct xlat arphrd_types[] = {
	XLAT(ARPHRD_NETROM),
	XLAT(ARPHRD_ETHER),
	XLAT(ARPHRD_EETHER),
	XLAT(ARPHRD_AX25),
	XLAT(ARPHRD_PRONET),
	XLAT(ARPHRD_CHAOS),
	XLAT(ARPHRD_IEEE802),
	XLAT(ARPHRD_ARCNET),
	XLAT(ARPHRD_APPLETLK),
	XLAT(ARPHRD_DLCI),
	XLAT(ARPHRD_ATM),
	XLAT(ARPHRD_METRICOM),
	XLAT(ARPHRD_IEEE1394),
	XLAT(ARPHRD_EUI64),
	XLAT(ARPHRD_INFINIBAND),
	XLAT(ARPHRD_SLIP),
	XLAT(ARPHRD_CSLIP),
	XLAT(ARPHRD_SLIP6),
	XLAT(ARPHRD_CSLIP6),
	XLAT(ARPHRD_RSRVD),
	XLAT(ARPHRD_ADAPT),
	XLAT(ARPHRD_ROSE),
	XLAT(ARPHRD_X25),
	XLAT(ARPHRD_HWX25),
	XLAT(ARPHRD_CAN),
	XLAT(ARPHRD_MCTP),
	XLAT(ARPHRD_PPP),
	XLAT(ARPHRD_CISCO),
	XLAT(ARPHRD_LAPB),
	XLAT(ARPHRD_DDCMP),
	XLAT(ARPHRD_RAWHDLC),
	XLAT(ARPHRD_RAWIP),
	XLAT(ARPHRD_TUNNEL),
	XLAT(ARPHRD_TUNNEL6),
	XLAT(ARPHRD_FRAD),
	XLAT(ARPHRD_SKIP),
	XLAT(ARPHRD_LOOPBACK),
	XLAT(ARPHRD_LOCALTLK),
	XLAT(ARPHRD_FDDI),
	XLAT(ARPHRD_BIF),
	XLAT(ARPHRD_SIT),
	XLAT(ARPHRD_IPDDP),
	XLAT(ARPHRD_IPGRE),
	XLAT(ARPHRD_PIMREG),
	XLAT(ARPHRD_HIPPI),
	XLAT(ARPHRD_ASH),
	XLAT(ARPHRD_ECONET),
	XLAT(ARPHRD_IRDA),
	XLAT(ARPHRD_FCPP),
	XLAT(ARPHRD_FCAL),
	XLAT(ARPHRD_FCPL),
	XLAT(ARPHRD_FCFABRIC),
	XLAT(ARPHRD_IEEE802_TR),
	XLAT(ARPHRD_IEEE80211),
	XLAT(ARPHRD_IEEE80211_PRISM),
	XLAT(ARPHRD_IEEE80211_RADIOTAP),
	XLAT(ARPHRD_IEEE802154),
	XLAT(ARPHRD_IEEE802154_MONITOR),
	XLAT(ARPHRD_PHONET),
	XLAT(ARPHRD_PHONET_PIPE),
	XLAT(ARPHRD_CAIF),
	XLAT(ARPHRD_IP6GRE),
	XLAT(ARPHRD_NETLINK),
	XLAT(ARPHRD_6LOWPAN),
	XLAT(ARPHRD_VSOCKMON),
	XLAT(ARPHRD_VOID),
	XLAT(ARPHRD_NONE),
};

static const struct xlat packet_types[] = {
	XLAT(PACKET_HOST),	XLAT(PACKET_BROADCAST), XLAT(PACKET_MULTICAST),
	XLAT(PACKET_OTHERHOST), XLAT(PACKET_OUTGOING),	XLAT(PACKET_LOOPBACK),
	XLAT(PACKET_USER),	XLAT(PACKET_KERNEL),
};

static const struct xlat vsock_cids[] = {
	XLAT(VMADDR_CID_ANY),
	XLAT(VMADDR_CID_HYPERVISOR),
	XLAT(VMADDR_CID_LOCAL),
	XLAT(VMADDR_CID_HOST),
};

static const struct xlat vsock_flags[] = {XLAT(VMADDR_FLAG_TO_HOST)};

void ctw_trace_format_sockaddr(struct ctw_outbuf *o, const void *sa, size_t len)
{
	sa_family_t fam;
	char addr[INET6_ADDRSTRLEN];

	if (len < sizeof(fam)) {
		put_s(o, "{}");
		return;
	}
	memcpy(&fam, sa, sizeof(fam));
	put_s(o, "{sa_family=");
	ctw_trace_format_socket_domain(o, fam);
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;

		memcpy(&in, sa, sizeof(in));
		inet_ntop(AF_INET, &in.sin_addr, addr, sizeof(addr));
		put_s(o, ", sin_port=htons(");
		put_u64(o, ntohs(in.sin_port));
		put_s(o, "), sin_addr=inet_addr(\"");
		put_s(o, addr);
		put_s(o, "\")}");
	} else if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;

		memcpy(&in6, sa, sizeof(in6));
		inet_ntop(AF_INET6, &in6.sin6_addr, addr, sizeof(addr));
		put_s(o, ", sin6_port=htons(");
		put_u64(o, ntohs(in6.sin6_port));
		put_s(o, "), sin6_flowinfo=htonl(");
		put_u64(o, ntohl(in6.sin6_flowinfo));
		put_s(o, "), inet_pton(AF_INET6, \"");
		put_s(o, addr);
		put_s(o, "\", &sin6_addr), sin6_scope_id=");
		if (IN6_IS_ADDR_LINKLOCAL(&in6.sin6_addr) ||
		    IN6_IS_ADDR_MC_LINKLOCAL(&in6.sin6_addr))
			put_ifindex(o, in6.sin6_scope_id);
		else
			put_u64(o, in6.sin6_scope_id);
		put_c(o, '}');
	} else if (fam == AF_UNIX) {
		const char *path = (const char *)sa + offsetof(struct sockaddr_un, sun_path);
		size_t plen = len - offsetof(struct sockaddr_un, sun_path);

		if (len <= offsetof(struct sockaddr_un, sun_path)) {
			put_c(o, '}');
			return;
		}
		put_s(o, ", sun_path=");
		if (path[0] == '\0') {
			/* abstract: strace shows @"name" */
			put_c(o, '@');
			ctw_trace_quote(o, path + 1, plen - 1, plen, false);
		} else {
			ctw_trace_quote(o, path, strnlen(path, plen), plen, false);
		}
		put_c(o, '}');
	} else if (fam == AF_NETLINK && len >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl nl;
		char groups[16];

		memcpy(&nl, sa, sizeof(nl));
		snprintf(groups, sizeof(groups), "%08x", nl.nl_groups);
		put_s(o, ", nl_pid=");
		put_u64(o, nl.nl_pid);
		put_s(o, ", nl_groups=");
		put_s(o, groups);
		put_c(o, '}');
	} else if (fam == AF_PACKET && len >= sizeof(struct sockaddr_ll)) {
		struct sockaddr_ll ll;

		memcpy(&ll, sa, sizeof(ll));
		put_s(o, ", sll_protocol=");
		put_eth_proto(o, ll.sll_protocol);
		put_s(o, ", sll_ifindex=");
		put_ifindex(o, ll.sll_ifindex);
		put_s(o, ", sll_hatype=");
		put_enum_ex(o, arphrd_types, ARRAY_SIZE(arphrd_types), ll.sll_hatype, true,
			    "ARPHRD_???");
		put_s(o, ", sll_pkttype=");
		put_enum_ex(o, packet_types, ARRAY_SIZE(packet_types), ll.sll_pkttype, true,
			    "PACKET_???");
		put_s(o, ", sll_halen=");
		put_u64(o, ll.sll_halen);
		if (ll.sll_halen) {
			put_s(o, ", sll_addr=[");
			for (unsigned k = 0; k < ll.sll_halen && k < sizeof(ll.sll_addr); k++) {
				if (k)
					put_s(o, ", ");
				if (ll.sll_addr[k])
					put_hex(o, ll.sll_addr[k]);
				else
					put_s(o, "00"); /* strace's %#02x */
			}
			put_c(o, ']');
		}
		put_c(o, '}');
	} else if (fam == AF_VSOCK && len >= sizeof(struct sockaddr_vm)) {
		struct sockaddr_vm vm;

		memcpy(&vm, sa, sizeof(vm));
		put_s(o, ", svm_cid=");
		put_enum_ex(o, vsock_cids, ARRAY_SIZE(vsock_cids), vm.svm_cid, true, NULL);
		put_s(o, ", svm_port=");
		if (vm.svm_port == VMADDR_PORT_ANY)
			put_s(o, "VMADDR_PORT_ANY");
		else
			put_hex(o, vm.svm_port);
		put_s(o, ", svm_flags=");
		if (vm.svm_flags & VMADDR_FLAG_TO_HOST) {
			put_flags(o, vsock_flags, ARRAY_SIZE(vsock_flags), vm.svm_flags, "0");
		} else {
			put_hex(o, vm.svm_flags);
			if (vm.svm_flags)
				put_s(o, " /* VMADDR_FLAG_??? */");
		}
		put_c(o, '}');
	} else if (len > sizeof(fam)) {
		put_s(o, ", sa_data=");
		ctw_trace_quote(o, (const char *)sa + sizeof(fam), len - sizeof(fam), SIZE_MAX,
				false);
		put_c(o, '}');
	} else {
		put_c(o, '}');
	}
}

/* a sockaddr passed in: full_len is the length given */
ARGFN(arg_sockaddr_in)
{
	const struct ctw_trace_item *it;
	const void *sa = item_get(d, i, TRACE_CAP_MEM, false, &it);

	if (!sa)
		put_ptr(d->o, d->ev->args[i]);
	else
		ctw_trace_format_sockaddr(d->o, sa, it->len);
}

/* a sockaddr the kernel wrote (accept, getsockname, recvfrom) */
ARGFN(arg_sockaddr_out)
{
	const struct ctw_trace_item *it;
	const void *sa = ev_failed(d) ? NULL : item_get(d, i, TRACE_CAP_MEM, true, &it);

	if (!sa)
		put_ptr(d->o, d->ev->args[i]);
	else
		ctw_trace_format_sockaddr(d->o, sa, it->len);
}

/* ---- messages ---- */

static const struct xlat msg_flags[] = {
	XLAT(MSG_OOB),		XLAT(MSG_PEEK),		XLAT(MSG_DONTROUTE), XLAT(MSG_CTRUNC),
	{0x10, "MSG_PROBE"},	XLAT(MSG_TRUNC),	XLAT(MSG_DONTWAIT),  XLAT(MSG_EOR),
	XLAT(MSG_WAITALL),	XLAT(MSG_FIN),		XLAT(MSG_SYN),	     XLAT(MSG_CONFIRM),
	XLAT(MSG_RST),		XLAT(MSG_ERRQUEUE),	XLAT(MSG_NOSIGNAL),  XLAT(MSG_MORE),
	XLAT(MSG_WAITFORONE),	{0x40000, "MSG_BATCH"}, XLAT(MSG_ZEROCOPY),  XLAT(MSG_FASTOPEN),
	XLAT(MSG_CMSG_CLOEXEC),
};

ARGFN(arg_msgflags)
{
	put_flags(d->o, msg_flags, ARRAY_SIZE(msg_flags), (uint32_t)d->ev->args[i], "0");
}

static const struct xlat sol_levels[] = {
	{SOL_IP, "SOL_IP"},	  {SOL_SOCKET, "SOL_SOCKET"}, {IPPROTO_TCP, "SOL_TCP"},
	{IPPROTO_UDP, "SOL_UDP"}, {SOL_IPV6, "SOL_IPV6"},     {SOL_ICMPV6, "SOL_ICMPV6"},
	{SOL_RAW, "SOL_RAW"},	  {SOL_PACKET, "SOL_PACKET"}, {SOL_NETLINK, "SOL_NETLINK"},
	{SOL_ALG, "SOL_ALG"},	  {282, "SOL_TLS"},	      {283, "SOL_XDP"},
};

static void put_cmsgs(struct dctx *d, int arg, const uint8_t *p, size_t len)
{
	struct ctw_outbuf *o = d->o;
	size_t off = 0;
	bool first = true;

	put_c(o, '[');
	while (off + sizeof(struct cmsghdr) <= len) {
		struct cmsghdr h;
		size_t dlen;

		memcpy(&h, p + off, sizeof(h));
		if (h.cmsg_len < sizeof(h))
			break;
		if (!first)
			put_s(o, ", ");
		first = false;
		put_s(o, "{cmsg_len=");
		put_u64(o, h.cmsg_len);
		put_s(o, ", cmsg_level=");
		put_enum_ex(o, sol_levels, ARRAY_SIZE(sol_levels), h.cmsg_level, true, "SOL_???");
		put_s(o, ", cmsg_type=");
		dlen = h.cmsg_len - sizeof(h);
		if (off + sizeof(h) + dlen > len)
			dlen = len - off - sizeof(h);
		if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_RIGHTS) {
			put_s(o, "SCM_RIGHTS, cmsg_data=[");
			for (size_t k = 0; k + sizeof(int) <= dlen; k += sizeof(int)) {
				int fd;

				if (elem_cut(d, k / sizeof(int)))
					break;
				memcpy(&fd, p + off + sizeof(h) + k, sizeof(fd));
				if (k)
					put_s(o, ", ");
				put_i64(o, fd);
				if (d->f->decode_fds)
					put_fd_info(d, arg, fd);
			}
			put_s(o, "]}");
		} else if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_CREDENTIALS &&
			   dlen >= sizeof(struct ucred)) {
			struct ucred uc;

			memcpy(&uc, p + off + sizeof(h), sizeof(uc));
			put_s(o, "SCM_CREDENTIALS, cmsg_data={pid=");
			put_i64(o, uc.pid);
			put_s(o, ", uid=");
			put_u64(o, uc.uid);
			put_s(o, ", gid=");
			put_u64(o, uc.gid);
			put_s(o, "}}");
		} else {
			put_hex(o, (uint32_t)h.cmsg_type);
			put_s(o, ", cmsg_data=");
			put_quoted_hex(o, p + off + sizeof(h), dlen, SIZE_MAX, false);
			put_c(o, '}');
		}
		off += (h.cmsg_len + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1);
	}
	if (off < len && first)
		put_s(o, "...");
	put_c(o, ']');
}

static void msghdr(struct dctx *d, int i, bool out)
{
	struct ctw_outbuf *o = d->o;
	const struct ctw_trace_item *it;
	const uint8_t *ctl;
	struct msghdr m;

	if ((out && ev_failed(d)) ||
	    !item_copy(d, i, TRACE_IT_MSGHDR, out, &m, sizeof(m), sizeof(m))) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	put_s(o, "{msg_name=");
	if (!m.msg_name) {
		put_s(o, "NULL");
	} else {
		const void *sa = item_get(d, i, TRACE_IT_MSGNAME, out, &it);

		if (sa)
			ctw_trace_format_sockaddr(o, sa, it->len);
		else
			put_ptr(o, (uintptr_t)m.msg_name);
	}
	put_s(o, ", msg_namelen=");
	if (out && item_get(d, i, TRACE_IT_COUNT, false, &it) && it->full_len != m.msg_namelen) {
		/* recvmsg: what was passed in => what the kernel wrote */
		put_u64(o, it->full_len);
		put_s(o, " => ");
	}
	put_u64(o, m.msg_namelen);
	put_s(o, ", msg_iov=");
	if (item_get(d, i, TRACE_IT_IOV, out, &it))
		put_iov(d, i, out, out ? d->ev->ret : -1);
	else
		put_ptr(o, (uintptr_t)m.msg_iov);
	put_s(o, ", msg_iovlen=");
	put_u64(o, m.msg_iovlen);
	if (m.msg_controllen) {
		put_s(o, ", msg_control=");
		ctl = item_get(d, i, TRACE_IT_MSGCTRL, out, &it);
		if (ctl)
			put_cmsgs(d, i, ctl, it->len);
		else
			put_ptr(o, (uintptr_t)m.msg_control);
	}
	put_s(o, ", msg_controllen=");
	put_u64(o, m.msg_controllen);
	put_s(o, ", msg_flags=");
	put_flags(o, msg_flags, ARRAY_SIZE(msg_flags), (uint32_t)m.msg_flags, "0");
	put_c(o, '}');
}

ARGFN(arg_msghdr_in)
{
	msghdr(d, i, false);
}

ARGFN(arg_msghdr_out)
{
	msghdr(d, i, true);
}

/* ---- socket options ---- */

static const struct xlat so_names[] = {
	XLAT(SO_DEBUG),
	XLAT(SO_REUSEADDR),
	XLAT(SO_TYPE),
	XLAT(SO_ERROR),
	XLAT(SO_DONTROUTE),
	XLAT(SO_BROADCAST),
	XLAT(SO_SNDBUF),
	XLAT(SO_RCVBUF),
	XLAT(SO_KEEPALIVE),
	XLAT(SO_OOBINLINE),
	XLAT(SO_NO_CHECK),
	XLAT(SO_PRIORITY),
	XLAT(SO_LINGER),
	XLAT(SO_BSDCOMPAT),
	XLAT(SO_REUSEPORT),
	XLAT(SO_PASSCRED),
	XLAT(SO_PEERCRED),
	XLAT(SO_RCVLOWAT),
	XLAT(SO_SNDLOWAT),
	{20, "SO_RCVTIMEO_OLD"},
	{21, "SO_SNDTIMEO_OLD"},
	XLAT(SO_BINDTODEVICE),
	XLAT(SO_ATTACH_FILTER),
	XLAT(SO_DETACH_FILTER),
	XLAT(SO_PEERNAME),
	{29, "SO_TIMESTAMP_OLD"},
	XLAT(SO_ACCEPTCONN),
	XLAT(SO_PEERSEC),
	XLAT(SO_SNDBUFFORCE),
	XLAT(SO_RCVBUFFORCE),
	XLAT(SO_PASSSEC),
	{35, "SO_TIMESTAMPNS_OLD"},
	XLAT(SO_MARK),
	{37, "SO_TIMESTAMPING_OLD"},
	XLAT(SO_PROTOCOL),
	XLAT(SO_DOMAIN),
	XLAT(SO_RXQ_OVFL),
	XLAT(SO_WIFI_STATUS),
	XLAT(SO_PEEK_OFF),
	XLAT(SO_NOFCS),
	XLAT(SO_LOCK_FILTER),
	XLAT(SO_SELECT_ERR_QUEUE),
	XLAT(SO_BUSY_POLL),
	XLAT(SO_MAX_PACING_RATE),
	XLAT(SO_BPF_EXTENSIONS),
	XLAT(SO_INCOMING_CPU),
	XLAT(SO_ATTACH_BPF),
	XLAT(SO_ATTACH_REUSEPORT_CBPF),
	XLAT(SO_ATTACH_REUSEPORT_EBPF),
	XLAT(SO_CNX_ADVICE),
	XLAT(SO_MEMINFO),
	XLAT(SO_INCOMING_NAPI_ID),
	XLAT(SO_COOKIE),
	XLAT(SO_PEERGROUPS),
	XLAT(SO_ZEROCOPY),
	XLAT(SO_TXTIME),
	XLAT(SO_BINDTOIFINDEX),
	{63, "SO_TIMESTAMP_NEW"},
	{64, "SO_TIMESTAMPNS_NEW"},
	{65, "SO_TIMESTAMPING_NEW"},
	{66, "SO_RCVTIMEO_NEW"},
	{67, "SO_SNDTIMEO_NEW"},
	{68, "SO_DETACH_REUSEPORT_BPF"},
	{69, "SO_PREFER_BUSY_POLL"},
	{70, "SO_BUSY_POLL_BUDGET"},
	{71, "SO_NETNS_COOKIE"},
	{72, "SO_BUF_LOCK"},
	{73, "SO_RESERVE_MEM"},
	{74, "SO_TXREHASH"},
	{75, "SO_RCVMARK"},
};

static const struct xlat tcp_names[] = {
	XLAT(TCP_NODELAY),
	XLAT(TCP_MAXSEG),
	XLAT(TCP_CORK),
	XLAT(TCP_KEEPIDLE),
	XLAT(TCP_KEEPINTVL),
	XLAT(TCP_KEEPCNT),
	XLAT(TCP_SYNCNT),
	XLAT(TCP_LINGER2),
	XLAT(TCP_DEFER_ACCEPT),
	XLAT(TCP_WINDOW_CLAMP),
	XLAT(TCP_INFO),
	XLAT(TCP_QUICKACK),
	XLAT(TCP_CONGESTION),
	XLAT(TCP_MD5SIG),
	XLAT(TCP_THIN_LINEAR_TIMEOUTS),
	XLAT(TCP_THIN_DUPACK),
	XLAT(TCP_USER_TIMEOUT),
	XLAT(TCP_REPAIR),
	XLAT(TCP_REPAIR_QUEUE),
	XLAT(TCP_QUEUE_SEQ),
	XLAT(TCP_REPAIR_OPTIONS),
	XLAT(TCP_FASTOPEN),
	XLAT(TCP_TIMESTAMP),
	XLAT(TCP_NOTSENT_LOWAT),
	XLAT(TCP_CC_INFO),
	XLAT(TCP_SAVE_SYN),
	XLAT(TCP_SAVED_SYN),
	XLAT(TCP_REPAIR_WINDOW),
	XLAT(TCP_FASTOPEN_CONNECT),
	XLAT(TCP_ULP),
	XLAT(TCP_MD5SIG_EXT),
	XLAT(TCP_FASTOPEN_KEY),
	XLAT(TCP_FASTOPEN_NO_COOKIE),
	XLAT(TCP_ZEROCOPY_RECEIVE),
	XLAT(TCP_INQ),
	XLAT(TCP_TX_DELAY),
};

static const struct xlat ip_names[] = {
	XLAT(IP_TOS),
	XLAT(IP_TTL),
	XLAT(IP_HDRINCL),
	XLAT(IP_OPTIONS),
	XLAT(IP_RECVOPTS),
	XLAT(IP_RETOPTS),
	XLAT(IP_PKTINFO),
	XLAT(IP_PKTOPTIONS),
	XLAT(IP_MTU_DISCOVER),
	XLAT(IP_RECVERR),
	XLAT(IP_RECVTTL),
	XLAT(IP_RECVTOS),
	XLAT(IP_MTU),
	XLAT(IP_FREEBIND),
	XLAT(IP_IPSEC_POLICY),
	XLAT(IP_XFRM_POLICY),
	XLAT(IP_PASSSEC),
	XLAT(IP_TRANSPARENT),
	XLAT(IP_ORIGDSTADDR),
	XLAT(IP_MINTTL),
	XLAT(IP_NODEFRAG),
	XLAT(IP_CHECKSUM),
	XLAT(IP_BIND_ADDRESS_NO_PORT),
	XLAT(IP_RECVFRAGSIZE),
	XLAT(IP_MULTICAST_IF),
	XLAT(IP_MULTICAST_TTL),
	XLAT(IP_MULTICAST_LOOP),
	XLAT(IP_ADD_MEMBERSHIP),
	XLAT(IP_DROP_MEMBERSHIP),
	XLAT(IP_UNBLOCK_SOURCE),
	XLAT(IP_BLOCK_SOURCE),
	XLAT(IP_ADD_SOURCE_MEMBERSHIP),
	XLAT(IP_DROP_SOURCE_MEMBERSHIP),
	XLAT(IP_MSFILTER),
	XLAT(IP_MULTICAST_ALL),
	XLAT(IP_UNICAST_IF),
};

static const struct xlat ipv6_names[] = {
	XLAT(IPV6_ADDRFORM),
	XLAT(IPV6_2292PKTINFO),
	XLAT(IPV6_2292HOPOPTS),
	XLAT(IPV6_2292DSTOPTS),
	XLAT(IPV6_2292RTHDR),
	XLAT(IPV6_2292PKTOPTIONS),
	XLAT(IPV6_CHECKSUM),
	XLAT(IPV6_2292HOPLIMIT),
	XLAT(IPV6_NEXTHOP),
	XLAT(IPV6_AUTHHDR),
	XLAT(IPV6_UNICAST_HOPS),
	XLAT(IPV6_MULTICAST_IF),
	XLAT(IPV6_MULTICAST_HOPS),
	XLAT(IPV6_MULTICAST_LOOP),
	{20, "IPV6_ADD_MEMBERSHIP"},
	{21, "IPV6_DROP_MEMBERSHIP"},
	XLAT(IPV6_ROUTER_ALERT),
	XLAT(IPV6_MTU_DISCOVER),
	XLAT(IPV6_MTU),
	XLAT(IPV6_RECVERR),
	XLAT(IPV6_V6ONLY),
	XLAT(IPV6_JOIN_ANYCAST),
	XLAT(IPV6_LEAVE_ANYCAST),
	XLAT(IPV6_RECVPKTINFO),
	XLAT(IPV6_PKTINFO),
	XLAT(IPV6_RECVHOPLIMIT),
	XLAT(IPV6_HOPLIMIT),
	XLAT(IPV6_RECVTCLASS),
	XLAT(IPV6_TCLASS),
	XLAT(IPV6_FREEBIND),
	XLAT(IPV6_TRANSPARENT),
	XLAT(IPV6_UNICAST_IF),
};

static const struct xlat netlink_names[] = {
	{1, "NETLINK_ADD_MEMBERSHIP"},	 {2, "NETLINK_DROP_MEMBERSHIP"},
	{3, "NETLINK_PKTINFO"},		 {4, "NETLINK_BROADCAST_ERROR"},
	{5, "NETLINK_NO_ENOBUFS"},	 {6, "NETLINK_RX_RING"},
	{7, "NETLINK_TX_RING"},		 {8, "NETLINK_LISTEN_ALL_NSID"},
	{9, "NETLINK_LIST_MEMBERSHIPS"}, {10, "NETLINK_CAP_ACK"},
	{11, "NETLINK_EXT_ACK"},	 {12, "NETLINK_GET_STRICT_CHK"},
};

ARGFN(arg_sol)
{
	put_enum_ex(d->o, sol_levels, ARRAY_SIZE(sol_levels), (int32_t)d->ev->args[i], true,
		    "SOL_???");
}

ARGFN(arg_sockopt_name)
{
	int64_t v = (int32_t)d->ev->args[i];

#define NAMES(t, dflt) put_enum_ex(d->o, t, ARRAY_SIZE(t), v, true, dflt)
	switch ((int32_t)d->ev->args[1]) {
	case SOL_SOCKET: NAMES(so_names, "SO_???"); return;
	case IPPROTO_TCP: NAMES(tcp_names, "TCP_???"); return;
	case SOL_IP: NAMES(ip_names, "IP_???"); return;
	case SOL_IPV6: NAMES(ipv6_names, "IPV6_???"); return;
	case SOL_NETLINK: NAMES(netlink_names, "NETLINK_???"); return;
	}
#undef NAMES
	put_hex(d->o, (uint32_t)v);
}

/* SOL_SOCKET options whose value is not an int */
static bool so_not_int(int name)
{
	switch (name) {
	case SO_LINGER:
	case SO_BINDTODEVICE:
	case SO_RCVTIMEO_OLD:
	case SO_SNDTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
	case SO_SNDTIMEO_NEW:
	case SO_ATTACH_FILTER:
	case SO_ATTACH_REUSEPORT_CBPF:
	case SO_PEERCRED:
	case SO_PEERNAME:
	case SO_PEERSEC:
	case SO_PEERGROUPS:
	case SO_MEMINFO:
	case SO_COOKIE:
	case SO_TXTIME:
	case SO_NETNS_COOKIE: return true;
	}
	return false;
}

/* an option value: [N] for an int, {l_onoff=1, l_linger=5} for SO_LINGER,
 * else the bytes; what strace shows as an address, too short for its type,
 * is one here as well */
static void sockopt_val(struct dctx *d, int i, bool out)
{
	const struct ctw_trace_item *it;
	const uint8_t *p = (out && ev_failed(d)) ? NULL : item_get(d, i, TRACE_CAP_MEM, out, &it);
	bool sol_socket = (int32_t)d->ev->args[1] == SOL_SOCKET;
	int name = (int32_t)d->ev->args[2];
	bool int_opt;

	if (!p) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	if (sol_socket && name == SO_LINGER) {
		struct linger l = {0};

		if (it->len < sizeof(l.l_onoff) || (!out && it->len < sizeof(l))) {
			put_ptr(d->o, d->ev->args[i]);
			return;
		}
		memcpy(&l, p, it->len < sizeof(l) ? it->len : sizeof(l));
		put_s(d->o, "{l_onoff=");
		put_i64(d->o, l.l_onoff);
		if (it->len >= sizeof(l)) {
			put_s(d->o, ", l_linger=");
			put_i64(d->o, l.l_linger);
		}
		put_c(d->o, '}');
		return;
	}
	int_opt = sol_socket && !out && !so_not_int(name);
	if (it->len == sizeof(int) || (int_opt && it->len > sizeof(int))) {
		/* strace: an int option set with a longer value shows the int */
		int v;

		memcpy(&v, p, sizeof(v));
		put_c(d->o, '[');
		put_i64(d->o, v);
		put_c(d->o, ']');
	} else if (int_opt) {
		put_ptr(d->o, d->ev->args[i]); /* ... with a shorter one, the address */
	} else {
		ctw_trace_quote(d->o, (const char *)p, it->len, d->f->strsize,
				it->full_len > it->len);
	}
}

ARGFN(arg_sockopt_val)
{
	sockopt_val(d, i, false);
}

ARGFN(arg_sockopt_val_out)
{
	sockopt_val(d, i, true);
}

ARGFN(arg_shutdown_how)
{
	static const struct xlat t[] = {XLAT(SHUT_RD), XLAT(SHUT_WR), XLAT(SHUT_RDWR)};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "SHUT_???");
}
