// SPDX-License-Identifier: Apache-2.0
/*
 * -y and -yy: what an fd refers to, as strace shows it after the number:
 * 3</etc/passwd>, 4<pipe:[123]>, 5<anon_inode:[eventfd]>, 6<socket:[456]>;
 * with -yy the socket's protocol and endpoints (7<TCP:[127.0.0.1:39322->
 * 127.0.0.1:80]>, 8<UNIX-STREAM:[457->458]>) and devices' numbers
 * (1</dev/null<char 1:3>>).  The kernel side read it when the call was made
 * (struct ctw_trace_fdinfo and the path's names, leaf first).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"

/* The item about fd for argument arg, or NULL. */
static const struct ctw_trace_item *fd_item(const struct dctx *d, int arg, int64_t fd)
{
	for (unsigned n = d->nitems; n-- > 0;) {
		const struct ctw_trace_item *it = d->items[n];

		if (it->arg == arg && (it->kind & TRACE_ITEM_KIND) == TRACE_IT_FD &&
		    it->full_len == (uint32_t)fd && it->len >= sizeof(struct ctw_trace_fdinfo))
			return it;
	}
	return NULL;
}

/* names leaf first, NUL-terminated: print them root first */
static void put_path(struct ctw_outbuf *o, const char *names, size_t len)
{
	const char *ends[64] = {NULL};
	size_t n = 0, off = 0;

	while (off < len && n < ARRAY_SIZE(ends)) {
		size_t l = strnlen(names + off, len - off);

		ends[n++] = names + off;
		off += l + 1;
	}
	if (!n)
		put_c(o, '/');
	while (n-- > 0) {
		const char *name = ends[n];

		put_c(o, '/');
		put_n(o, name, strnlen(name, len - (size_t)(name - names)));
	}
}

static void put_endpoint(struct ctw_outbuf *o, int family, const uint8_t *addr, unsigned port)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	if (family == AF_INET6) {
		put_c(o, '[');
		put_s(o, text);
		put_c(o, ']');
	} else {
		put_s(o, text);
	}
	put_c(o, ':');
	put_u64(o, port);
}

static const char *netlink_proto_name(int proto)
{
	static const char *const names[] = {
		"ROUTE",	  "UNUSED",    "USERSOCK",  "FIREWALL",	     "SOCK_DIAG",
		"NFLOG",	  "XFRM",      "SELINUX",   "ISCSI",	     "AUDIT",
		"FIB_LOOKUP",	  "CONNECTOR", "NETFILTER", "IP6_FW",	     "DNRTMSG",
		"KOBJECT_UEVENT", "GENERIC",   "17",	    "SCSITRANSPORT", "ECRYPTFS",
		"RDMA",		  "CRYPTO",    "SMC",
	};

	return proto >= 0 && (size_t)proto < ARRAY_SIZE(names) ? names[proto] : "NETLINK";
}

/* -yy: TCP:[1.2.3.4:5->6.7.8.9:10], UNIX-STREAM:[1->2], NETLINK:[...] */
static void put_socket(struct ctw_outbuf *o, const struct ctw_trace_fdinfo *fi, const char *path,
		       size_t plen)
{
	const char *proto = NULL;

	if (fi->family == AF_INET || fi->family == AF_INET6) {
		if (fi->sock_type == SOCK_STREAM && fi->protocol == IPPROTO_TCP)
			proto = fi->family == AF_INET ? "TCP" : "TCPv6";
		else if (fi->sock_type == SOCK_DGRAM && fi->protocol == IPPROTO_UDP)
			proto = fi->family == AF_INET ? "UDP" : "UDPv6";
		else if (fi->sock_type == SOCK_DGRAM && fi->protocol == IPPROTO_UDPLITE)
			proto = fi->family == AF_INET ? "UDPLITE" : "UDPLITEv6";
		else if (fi->sock_type == SOCK_RAW)
			proto = fi->family == AF_INET ? "RAW" : "RAWv6";
		if (!proto)
			goto plain;
		put_s(o, proto);
		put_s(o, ":[");
		if (!fi->sport) {
			put_u64(o, fi->ino);
		} else {
			put_endpoint(o, fi->family, fi->saddr, fi->sport);
			if (fi->dport) {
				put_s(o, "->");
				put_endpoint(o, fi->family, fi->daddr, fi->dport);
			}
		}
		put_c(o, ']');
		return;
	}
	if (fi->family == AF_UNIX) {
		put_s(o, fi->sock_type == SOCK_STREAM	   ? "UNIX-STREAM:["
			 : fi->sock_type == SOCK_SEQPACKET ? "UNIX-SEQPACKET:["
							   : "UNIX:[");
		put_u64(o, fi->ino);
		if (fi->peer_ino) {
			put_s(o, "->");
			put_u64(o, fi->peer_ino);
		}
		if (plen) {
			/* its bound name; abstract ones start with a NUL */
			put_c(o, ',');
			if (path[0]) {
				ctw_trace_quote(o, path, strnlen(path, plen), SIZE_MAX, false);
			} else {
				put_c(o, '@');
				ctw_trace_quote(o, path + 1, plen - 1, SIZE_MAX, false);
			}
		}
		put_c(o, ']');
		return;
	}
	if (fi->family == AF_NETLINK) {
		put_s(o, "NETLINK:[");
		if (fi->peer_ino) {
			/* bound: its protocol and port id */
			put_s(o, netlink_proto_name(fi->protocol));
			put_c(o, ':');
			put_u64(o, fi->peer_ino);
		} else {
			put_u64(o, fi->ino);
		}
		put_c(o, ']');
		return;
	}
plain:
	put_s(o, "socket:[");
	put_u64(o, fi->ino);
	put_c(o, ']');
}

void put_fd_info(struct dctx *d, int arg, int64_t fd)
{
	const struct ctw_trace_item *it = fd_item(d, arg, fd);
	struct ctw_outbuf *o = d->o;
	struct ctw_trace_fdinfo fi;
	const char *rest;
	size_t rlen;

	if (!it)
		return;
	memcpy(&fi, it + 1, sizeof(fi));
	rest = (const char *)(it + 1) + sizeof(fi);
	rlen = it->len - sizeof(fi);
	put_c(o, '<');
	switch (fi.type) {
	case TRACE_FD_PATH:
		put_path(o, rest, rlen);
		if (d->f->decode_fds > 1 && (fi.mode == S_IFCHR || fi.mode == S_IFBLK)) {
			/* the kernel's dev_t: major in the high 12 bits */
			put_s(o, fi.mode == S_IFCHR ? "<char " : "<block ");
			put_u64(o, fi.rdev >> 20);
			put_c(o, ':');
			put_u64(o, fi.rdev & 0xfffff);
			put_c(o, '>');
		}
		break;
	case TRACE_FD_SOCKET:
		if (d->f->decode_fds > 1) {
			put_socket(o, &fi, rest, rlen);
		} else {
			put_s(o, "socket:[");
			put_u64(o, fi.ino);
			put_c(o, ']');
		}
		break;
	case TRACE_FD_PIPE:
		put_s(o, "pipe:[");
		put_u64(o, fi.ino);
		put_c(o, ']');
		break;
	case TRACE_FD_ANON:
		put_s(o, "anon_inode:");
		put_n(o, rest, strnlen(rest, rlen));
		break;
	}
	put_c(o, '>');
}
