// SPDX-License-Identifier: Apache-2.0
/*
 * Route netlink through libmnl: just the few requests container networking
 * needs (links, a bridge, veth pairs, addresses, a default route).  Every
 * request asks for an ACK so that failures come back as -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <libmnl/libmnl.h>

#include "internal.h"

#define NL_BUF_SIZE 32768

int net_nl_open(struct nl *nl, int netns_fd)
{
	int cur = -1, r = 0;

	memset(nl, 0, sizeof(*nl));
	/* A netlink socket stays in the netns it was created in, so enter the
	 * target only for socket(), then come straight back. */
	if (netns_fd >= 0) {
		cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (cur < 0)
			return -errno;
		if (setns(netns_fd, CLONE_NEWNET) < 0) {
			r = -errno;
			close(cur);
			return r;
		}
	}
	nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sk)
		r = -errno;
	if (cur >= 0) {
		if (setns(cur, CLONE_NEWNET) < 0) {
			/* Carrying on in the container's netns would touch the
			 * wrong network: nothing sane is left to do. */
			pr_err("setns back to own network namespace: %s", strerror(errno));
			abort();
		}
		close(cur);
	}
	if (r)
		return r;
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl->sk);
		nl->sk = NULL;
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

void net_nl_close(struct nl *nl)
{
	if (nl && nl->sk) {
		mnl_socket_close(nl->sk);
		nl->sk = NULL;
	}
}

/* Send one request, run cb over the answers until ACK/DONE. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char *buf;
	int r = 0;

	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	buf = xmalloc(NL_BUF_SIZE);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, buf, NL_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		int ret = mnl_cb_run(buf, (size_t)n, nl->seq, nl->portid, cb, data);
		if (ret < 0) {
			r = -errno;
			break;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
	free(buf);
	return r;
}

static struct nlmsghdr *nl_req(char *buf, int type, int flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh, int ifindex)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

struct link_info {
	int ifindex;
	unsigned mtu;
	char kind[32];
};

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;
	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
		ctw_strlcpy(li->kind, mnl_attr_get_str(attr), sizeof(li->kind));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;
	switch (mnl_attr_get_type(attr)) {
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			li->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_LINKINFO: mnl_attr_parse_nested(attr, linkinfo_cb, li); break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	li->ifindex = ifi->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, li);
	return MNL_CB_OK;
}

static int link_get(struct nl *nl, const char *name, int ifindex, struct link_info *li)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_GETLINK, NLM_F_ACK);
	put_ifinfo(nlh, ifindex);
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(li, 0, sizeof(*li));
	int r = nl_talk(nl, nlh, link_cb, li);
	if (r)
		return r;
	return li->ifindex > 0 ? 0 : -ENODEV;
}

int net_nl_link_index(struct nl *nl, const char *name)
{
	struct link_info li;
	int r = link_get(nl, name, 0, &li);
	return r ? r : li.ifindex;
}

int net_nl_link_mtu(struct nl *nl, int ifindex, unsigned *mtu)
{
	struct link_info li;
	int r = link_get(nl, NULL, ifindex, &li);
	if (!r)
		*mtu = li.mtu;
	return r;
}

int net_nl_link_kind(struct nl *nl, int ifindex, char *kind, size_t size)
{
	struct link_info li;
	int r = link_get(nl, NULL, ifindex, &li);
	if (!r)
		ctw_strlcpy(kind, li.kind, size);
	return r;
}

int net_nl_bridge_add(struct nl *nl, const char *name, unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	return nl_talk(nl, nlh, NULL, NULL);
}

int net_nl_veth_add(struct nl *nl, const char *host, const char *peer, int peer_netns_fd,
		    unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer is described by a whole ifinfomsg + attributes. */
	struct ifinfomsg *pifi = (struct ifinfomsg *)((char *)nlh + nlh->nlmsg_len);
	memset(pifi, 0, MNL_ALIGN(sizeof(*pifi)));
	pifi->ifi_family = AF_UNSPEC;
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nl_talk(nl, nlh, NULL, NULL);
}

int net_nl_link_up(struct nl *nl, int ifindex, int master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = put_ifinfo(nlh, ifindex);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nl_talk(nl, nlh, NULL, NULL);
}

int net_nl_link_del(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_DELLINK, NLM_F_ACK);
	put_ifinfo(nlh, ifindex);
	return nl_talk(nl, nlh, NULL, NULL);
}

static int addr_req(struct nl *nl, int type, int flags, int ifindex, uint32_t ip, int prefix_len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, type, flags | NLM_F_ACK);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(ip));
	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(ip));
	if (type == RTM_NEWADDR)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(ip | ~net_ip4_mask(prefix_len)));
	return nl_talk(nl, nlh, NULL, NULL);
}

int net_nl_addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix_len)
{
	return addr_req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, ip, prefix_len);
}

int net_nl_addr_del(struct nl *nl, int ifindex, uint32_t ip, int prefix_len)
{
	return addr_req(nl, RTM_DELADDR, 0, ifindex, ip, prefix_len);
}

int net_nl_route_add_default(struct nl *nl, uint32_t gateway, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct route_info {
	int oif;
	unsigned table;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_info *ri = data;
	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			ri->oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			ri->table = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int default_route_cb(const struct nlmsghdr *nlh, void *data)
{
	int *oif = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_info ri = {.oif = 0, .table = rtm->rtm_table};

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
	    rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &ri);
	if (ri.table == RT_TABLE_MAIN && ri.oif > 0 && *oif == 0)
		*oif = ri.oif;
	return MNL_CB_OK;
}

int net_nl_default_route_mtu(struct nl *nl, unsigned *mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	int oif = 0;
	int r = nl_talk(nl, nlh, default_route_cb, &oif);
	if (r)
		return r;
	if (!oif)
		return -ENOENT;
	return net_nl_link_mtu(nl, oif, mtu);
}
