// SPDX-License-Identifier: Apache-2.0
/*
 * I/O: iovec arrays with their data (readv, writev, and msghdr's), poll,
 * ppoll, select and pselect6 with what they returned, epoll events, and
 * ioctl's common requests (terminals, FIONREAD, FIONBIO, ...).
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <asm/termbits.h>

#include "internal.h"

/* ---- iovecs ---- */

/* The iovec array of argument i, with its data: passed in (out false) or
 * as read (out true: limit is the bytes read). */
void put_iov(struct dctx *d, int i, bool out, int64_t limit)
{
	const struct ctw_trace_item *it;
	const struct iovec *iov = item_get(d, i, TRACE_IT_IOV, out, &it);
	struct ctw_outbuf *o = d->o;
	size_t n;

	if (!iov) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	n = it->len / sizeof(*iov);
	put_c(o, '[');
	for (size_t k = 0; k < n; k++) {
		struct iovec v;
		const struct ctw_trace_item *dit;
		const char *data = item_nth(d, i, TRACE_IT_IOVDATA, out, k, &dit);
		uint64_t full;

		if (elem_cut(d, k))
			goto out;
		memcpy(&v, &iov[k], sizeof(v));
		if (k)
			put_s(o, ", ");
		put_s(o, "{iov_base=");
		full = v.iov_len;
		if (limit >= 0 && (uint64_t)limit < full)
			full = limit;
		if (limit >= 0)
			limit -= full;
		if (data)
			ctw_trace_quote(o, data, dit->len, d->f->strsize, full > dit->len);
		else if (limit < 0 || !out)
			put_ptr(o, (uintptr_t)v.iov_base);
		else
			put_s(o, "\"\"");
		put_s(o, ", iov_len=");
		put_u64(o, v.iov_len);
		put_c(o, '}');
	}
	if (it->kind & TRACE_ITEM_MORE)
		put_s(o, n ? ", ..." : "...");
out:
	put_c(o, ']');
}

ARGFN(arg_iov_in)
{
	put_iov(d, i, false, -1);
}

ARGFN(arg_iov_out)
{
	if (ev_failed(d)) {
		/* strace shows the addresses of a failed read */
		const struct ctw_trace_item *it;

		if (item_get(d, i, TRACE_IT_IOV, true, &it))
			put_iov(d, i, true, -1);
		else
			put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_iov(d, i, true, d->ev->ret);
}

/* ---- poll ---- */

static const struct xlat poll_events[] = {
	XLAT(POLLIN),	  XLAT(POLLPRI),    XLAT(POLLOUT),    XLAT(POLLERR),
	XLAT(POLLHUP),	  XLAT(POLLNVAL),   XLAT(POLLRDNORM), XLAT(POLLRDBAND),
	XLAT(POLLWRNORM), XLAT(POLLWRBAND), XLAT(POLLMSG),    {0x1000, "POLLREMOVE"},
	XLAT(POLLRDHUP),
};

ARGFN(arg_pollfds)
{
	const struct ctw_trace_item *it;
	const struct pollfd *p = item_get(d, i, TRACE_CAP_MEM, false, &it);
	struct ctw_outbuf *o = d->o;
	size_t n;

	if (!p) {
		put_ptr(o, d->ev->args[i]);
		return;
	}
	n = it->len / sizeof(*p);
	put_c(o, '[');
	for (size_t k = 0; k < n; k++) {
		struct pollfd pf;

		if (elem_cut(d, k))
			goto out;
		memcpy(&pf, &p[k], sizeof(pf));
		if (k)
			put_s(o, ", ");
		put_s(o, "{fd=");
		put_i64(o, pf.fd);
		if (d->f->decode_fds)
			put_fd_info(d, i, pf.fd);
		put_s(o, ", events=");
		put_flags(o, poll_events, ARRAY_SIZE(poll_events), (uint16_t)pf.events, "0");
		put_c(o, '}');
	}
	if (it->full_len > it->len)
		put_s(o, n ? ", ..." : "...");
out:
	put_c(o, ']');
}

/* poll: 2 ([{fd=3, revents=POLLIN}, ...]); ppoll adds ", left {...}" */
void ret_poll(struct dctx *d)
{
	const struct ctw_trace_item *it;
	const struct pollfd *p = item_get(d, 0, TRACE_CAP_MEM, true, &it);
	struct ctw_outbuf *o = d->o;
	bool first = true;
	struct timespec left;
	bool is_ppoll = d->si->fn[2] == arg_ppoll_ts;

	put_i64(o, d->ev->ret);
	if (d->ev->ret == 0) {
		put_s(o, " (Timeout)");
		return;
	}
	if (!p)
		return;
	put_s(o, " ([");
	for (size_t k = 0, shown = 0; k < it->len / sizeof(*p); k++) {
		struct pollfd pf;

		memcpy(&pf, &p[k], sizeof(pf));
		if (!pf.revents)
			continue;
		if (elem_cut(d, shown++))
			break;
		if (!first)
			put_s(o, ", ");
		put_s(o, "{fd=");
		put_i64(o, pf.fd);
		put_s(o, ", revents=");
		put_flags(o, poll_events, ARRAY_SIZE(poll_events), (uint16_t)pf.revents, "0");
		put_c(o, '}');
		first = false;
	}
	put_c(o, ']');
	if (is_ppoll && item_copy(d, 2, TRACE_CAP_MEM, true, &left, sizeof(left), sizeof(left))) {
		put_s(o, ", left ");
		put_timespec(o, &left);
	}
	put_c(o, ')');
}

/* ppoll's timeout (in) */
ARGFN(arg_ppoll_ts)
{
	arg_timespec(d, i);
}

/* ---- select ---- */

/* [3 4]: the fds set below nfds (with -y, what they are when d is given) */
static bool put_fdset(struct ctw_outbuf *o, const uint8_t *bits, size_t len, int nfds,
		      bool with_brackets, struct dctx *d, int arg)
{
	bool first = true;

	if (with_brackets)
		put_c(o, '[');
	for (int fd = 0; fd < nfds && (size_t)fd / 8 < len; fd++) {
		if (!(bits[fd / 8] & (1u << (fd % 8))))
			continue;
		if (!first)
			put_c(o, ' ');
		put_i64(o, fd);
		if (d && d->f->decode_fds)
			put_fd_info(d, arg, fd);
		first = false;
	}
	if (with_brackets)
		put_c(o, ']');
	return !first;
}

ARGFN(arg_fdset)
{
	const struct ctw_trace_item *it;
	const uint8_t *bits = item_get(d, i, TRACE_CAP_MEM, false, &it);

	if (!bits)
		put_ptr(d->o, d->ev->args[i]);
	else
		put_fdset(d->o, bits, it->len, (int32_t)d->ev->args[0], true, d, i);
}

ARGFN(arg_select_tv)
{
	struct timeval tv;

	if (!item_copy(d, i, TRACE_CAP_MEM, false, &tv, sizeof(tv), sizeof(tv)))
		put_ptr(d->o, d->ev->args[i]);
	else
		put_timeval(d->o, &tv);
}

ARGFN(arg_pselect_ts)
{
	arg_timespec(d, i);
}

/* pselect6's sixth: {sigmask=..., sigsetsize=8} */
ARGFN(arg_pselect_sig)
{
	uint64_t p[2];

	if (!item_copy(d, i, TRACE_CAP_MEM, false, p, sizeof(p), sizeof(p))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{sigmask=");
	put_ptr(d->o, p[0]);
	put_s(d->o, ", sigsetsize=");
	put_u64(d->o, p[1]);
	put_c(d->o, '}');
}

/* 2 (in [3], out [4], left {tv_sec=0, tv_usec=997}), or 0 (Timeout) */
void ret_select(struct dctx *d)
{
	static const char *const names[] = {"in", "out", "except"};
	struct ctw_outbuf *o = d->o;
	int nfds = (int32_t)d->ev->args[0];
	bool any = false, pselect = d->si->fn[4] == arg_pselect_ts;
	uint8_t left[16];

	put_i64(o, d->ev->ret);
	if (d->ev->ret == 0) {
		put_s(o, " (Timeout)");
		return;
	}
	for (int k = 0; k < 3; k++) {
		const struct ctw_trace_item *it;
		const uint8_t *bits = item_get(d, k + 1, TRACE_CAP_MEM, true, &it);
		size_t mark = o->len;

		if (!bits)
			continue;
		put_s(o, any ? ", " : " (");
		put_s(o, names[k]);
		put_s(o, " [");
		if (!put_fdset(o, bits, it->len, nfds, false, NULL, 0)) {
			o->len = mark; /* an empty set is not shown */
			continue;
		}
		put_c(o, ']');
		any = true;
	}
	if (item_copy(d, 4, TRACE_CAP_MEM, true, left, sizeof(left), sizeof(left))) {
		put_s(o, any ? ", left " : " (left ");
		if (pselect)
			put_timespec(o, left);
		else
			put_timeval(o, left);
		any = true;
	}
	if (any)
		put_c(o, ')');
}

/* ---- epoll ---- */

static const struct xlat epoll_events[] = {
	XLAT(EPOLLIN),	      XLAT(EPOLLPRI),	   XLAT(EPOLLOUT),     XLAT(EPOLLERR),
	XLAT(EPOLLHUP),	      {0x20, "EPOLLNVAL"}, XLAT(EPOLLRDNORM),  XLAT(EPOLLRDBAND),
	XLAT(EPOLLWRNORM),    XLAT(EPOLLWRBAND),   XLAT(EPOLLMSG),     XLAT(EPOLLRDHUP),
	XLAT(EPOLLEXCLUSIVE), XLAT(EPOLLWAKEUP),   XLAT(EPOLLONESHOT), XLAT(EPOLLET),
};

ARGFN(arg_epoll_op)
{
	static const struct xlat t[] = {XLAT(EPOLL_CTL_ADD), XLAT(EPOLL_CTL_DEL),
					XLAT(EPOLL_CTL_MOD)};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "EPOLL_CTL_???");
}

ARGFN(arg_epoll_flags)
{
	static const struct xlat t[] = {XLAT(EPOLL_CLOEXEC)};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

static void put_epoll_event(struct ctw_outbuf *o, const void *p)
{
	struct epoll_event ev;

	memcpy(&ev, p, sizeof(ev));
	put_s(o, "{events=");
	put_flags(o, epoll_events, ARRAY_SIZE(epoll_events), ev.events, "0");
	put_s(o, ", data={u32=");
	put_u64(o, (uint32_t)ev.data.u64);
	put_s(o, ", u64=");
	put_u64(o, ev.data.u64);
	put_s(o, "}}");
}

ARGFN(arg_epoll_event)
{
	const struct ctw_trace_item *it;
	const void *p = item_get(d, i, TRACE_CAP_MEM, false, &it);

	if (!p || it->len < sizeof(struct epoll_event))
		put_ptr(d->o, d->ev->args[i]);
	else
		put_epoll_event(d->o, p);
}

ARGFN(arg_epoll_events)
{
	const struct ctw_trace_item *it;
	const uint8_t *p = ev_failed(d) ? NULL : item_get(d, i, TRACE_CAP_MEM, true, &it);
	size_t n;

	if (!p) {
		if (!ev_failed(d) && d->ev->ret == 0)
			put_s(d->o, "[]");
		else
			put_ptr(d->o, d->ev->args[i]);
		return;
	}
	n = it->len / sizeof(struct epoll_event);
	put_c(d->o, '[');
	for (size_t k = 0; k < n; k++) {
		if (elem_cut(d, k))
			goto out;
		if (k)
			put_s(d->o, ", ");
		put_epoll_event(d->o, p + k * sizeof(struct epoll_event));
	}
	if (it->full_len > it->len)
		put_s(d->o, n ? ", ..." : "...");
out:
	put_c(d->o, ']');
}

/* ---- ioctl ---- */

static const struct xlat ioctl_reqs[] = {
	XLAT(TCGETS),
	/* strace names the sound driver's requests of the same numbers too */
	{TCSETS, "SNDCTL_TMR_START or TCSETS"},
	{TCSETSW, "SNDCTL_TMR_STOP or TCSETSW"},
	{TCSETSF, "SNDCTL_TMR_CONTINUE or TCSETSF"},
	XLAT(TCGETA),
	XLAT(TCSETA),
	XLAT(TCSETAW),
	XLAT(TCSETAF),
	XLAT(TCSBRK),
	XLAT(TCXONC),
	XLAT(TCFLSH),
	XLAT(TIOCEXCL),
	XLAT(TIOCNXCL),
	XLAT(TIOCSCTTY),
	XLAT(TIOCGPGRP),
	XLAT(TIOCSPGRP),
	XLAT(TIOCOUTQ),
	XLAT(TIOCSTI),
	XLAT(TIOCGWINSZ),
	XLAT(TIOCSWINSZ),
	XLAT(TIOCMGET),
	XLAT(TIOCMBIS),
	XLAT(TIOCMBIC),
	XLAT(TIOCMSET),
	XLAT(FIONREAD),
	XLAT(TIOCLINUX),
	XLAT(TIOCCONS),
	XLAT(TIOCPKT),
	XLAT(FIONBIO),
	XLAT(TIOCNOTTY),
	XLAT(TIOCSETD),
	XLAT(TIOCGETD),
	XLAT(TCSBRKP),
	XLAT(TIOCSBRK),
	XLAT(TIOCCBRK),
	XLAT(TIOCGSID),
	XLAT(TCGETS2),
	XLAT(TCSETS2),
	XLAT(TIOCGPTN),
	XLAT(TIOCSPTLCK),
	XLAT(TIOCGDEV),
	XLAT(TIOCSIG),
	XLAT(TIOCVHANGUP),
	XLAT(TIOCGPKT),
	XLAT(TIOCGPTLCK),
	XLAT(TIOCGEXCL),
	XLAT(TIOCGPTPEER),
	XLAT(FIONCLEX),
	XLAT(FIOCLEX),
	XLAT(FIOASYNC),
	XLAT(FIOQSIZE),
	XLAT(SIOCGIFNAME),
	XLAT(SIOCGIFCONF),
	XLAT(SIOCGIFFLAGS),
	XLAT(SIOCSIFFLAGS),
	XLAT(SIOCGIFADDR),
	XLAT(SIOCGIFMTU),
	XLAT(SIOCGIFHWADDR),
	XLAT(SIOCGIFINDEX),
	{0x40049409, "FICLONE"},
	{0x80086601, "FS_IOC_GETFLAGS"},
	{0x40086602, "FS_IOC_SETFLAGS"},
	{0x80081272, "BLKGETSIZE64"},
};

static uint32_t ioctl_req(const struct dctx *d)
{
	return (uint32_t)d->ev->args[1];
}

ARGFN(arg_ioctl_req)
{
	static const char *const dirs[] = {"_IOC_NONE", "_IOC_WRITE", "_IOC_READ",
					   "_IOC_READ|_IOC_WRITE"};
	uint32_t req = ioctl_req(d);
	const char *name = xlat_name(ioctl_reqs, ARRAY_SIZE(ioctl_reqs), req);

	if (name) {
		put_s(d->o, name);
		return;
	}
	put_s(d->o, "_IOC(");
	put_s(d->o, dirs[(req >> 30) & 3]);
	put_s(d->o, ", ");
	put_hex(d->o, (req >> 8) & 0xff);
	put_s(d->o, ", ");
	put_hex(d->o, req & 0xff);
	put_s(d->o, ", ");
	put_hex(d->o, (req >> 16) & 0x3fff);
	put_c(d->o, ')');
}

int shown_ioctl(const struct dctx *d)
{
	switch (ioctl_req(d)) {
	case TIOCSBRK:
	case TIOCCBRK:
	case TIOCCONS:
	case TIOCNOTTY:
	case TIOCEXCL:
	case TIOCNXCL:
	case FIOCLEX:
	case FIONCLEX:
	case TIOCVHANGUP: return 2;
	}
	return 3;
}

static const struct xlat iflags[] = {
	XLAT(IGNBRK), XLAT(BRKINT), XLAT(IGNPAR), XLAT(PARMRK),	 XLAT(INPCK),
	XLAT(ISTRIP), XLAT(INLCR),  XLAT(IGNCR),  XLAT(ICRNL),	 XLAT(IUCLC),
	XLAT(IXON),   XLAT(IXANY),  XLAT(IXOFF),  XLAT(IMAXBEL), XLAT(IUTF8),
};
static const struct xlat oflags[] = {
	XLAT(OPOST), XLAT(OLCUC),  XLAT(ONLCR), XLAT(OCRNL),
	XLAT(ONOCR), XLAT(ONLRET), XLAT(OFILL), XLAT(OFDEL),
};
static const struct xlat cflags[] = {
	XLAT(CSTOPB), XLAT(CREAD),  XLAT(PARENB), XLAT(PARODD),
	XLAT(HUPCL),  XLAT(CLOCAL), XLAT(CMSPAR), XLAT(CRTSCTS),
};
static const struct xlat lflags[] = {
	XLAT(ISIG),   XLAT(ICANON), XLAT(XCASE),  XLAT(ECHO),	 XLAT(ECHOE),	XLAT(ECHOK),
	XLAT(ECHONL), XLAT(NOFLSH), XLAT(IEXTEN), XLAT(ECHOCTL), XLAT(ECHOPRT), XLAT(ECHOKE),
	XLAT(FLUSHO), XLAT(PENDIN), XLAT(TOSTOP), XLAT(EXTPROC),
};
static const struct xlat bauds[] = {
	XLAT(B0),	XLAT(B50),	XLAT(B75),	XLAT(B110),	XLAT(B134),
	XLAT(B150),	XLAT(B200),	XLAT(B300),	XLAT(B600),	XLAT(B1200),
	XLAT(B1800),	XLAT(B2400),	XLAT(B4800),	XLAT(B9600),	XLAT(B19200),
	XLAT(B38400),	XLAT(BOTHER),	XLAT(B57600),	XLAT(B115200),	XLAT(B230400),
	XLAT(B460800),	XLAT(B500000),	XLAT(B576000),	XLAT(B921600),	XLAT(B1000000),
	XLAT(B1152000), XLAT(B1500000), XLAT(B2000000), XLAT(B2500000), XLAT(B3000000),
	XLAT(B3500000), XLAT(B4000000),
};

static void put_termios(struct ctw_outbuf *o, const struct termios *t)
{
	static const struct {
		uint32_t mask;
		const char *names[4];
	} delays[] = {
		{NLDLY, {"NL0", "NL1"}},
		{CRDLY, {"CR0", "CR1", "CR2", "CR3"}},
		{TABDLY, {"TAB0", "TAB1", "TAB2", "TAB3"}},
		{BSDLY, {"BS0", "BS1"}},
		{VTDLY, {"VT0", "VT1"}},
		{FFDLY, {"FF0", "FF1"}},
	};
	static const char *const csize[] = {"CS5", "CS6", "CS7", "CS8"};
	uint32_t of = t->c_oflag, cf = t->c_cflag;

	put_s(o, "{c_iflag=");
	put_flags(o, iflags, ARRAY_SIZE(iflags), t->c_iflag, "0");
	put_s(o, ", c_oflag=");
	for (size_t k = 0; k < ARRAY_SIZE(delays); k++) {
		uint32_t v = of & delays[k].mask;
		unsigned idx = v / (delays[k].mask & -delays[k].mask);

		if (idx < 4 && delays[k].names[idx])
			put_s(o, delays[k].names[idx]);
		else
			put_hex(o, v);
		put_c(o, '|');
		of &= ~delays[k].mask;
	}
	put_flags(o, oflags, ARRAY_SIZE(oflags), of, "0");
	put_s(o, ", c_cflag=");
	put_enum_ex(o, bauds, ARRAY_SIZE(bauds), cf & CBAUD, true, "B???");
	put_c(o, '|');
	if (cf & CIBAUD) {
		put_enum_ex(o, bauds, ARRAY_SIZE(bauds), (cf & CIBAUD) >> IBSHIFT, true, "B???");
		put_s(o, "<<IBSHIFT|");
	}
	put_s(o, csize[(cf & CSIZE) >> 4]);
	cf &= ~(CBAUD | CIBAUD | CSIZE);
	if (cf) {
		put_c(o, '|');
		put_flags(o, cflags, ARRAY_SIZE(cflags), cf, "0");
	}
	put_s(o, ", c_lflag=");
	put_flags(o, lflags, ARRAY_SIZE(lflags), t->c_lflag, "0");
	put_s(o, ", ...}");
}

/* SIOCGIF*: the struct ifreq going in (the name, or the index for
 * SIOCGIFNAME), and what came back when the call succeeded */
static bool put_ifreq(struct dctx *d, int i)
{
	static const struct xlat iff[] = {
		XLAT(IFF_UP),	     XLAT(IFF_BROADCAST),   XLAT(IFF_DEBUG),
		XLAT(IFF_LOOPBACK),  XLAT(IFF_POINTOPOINT), XLAT(IFF_NOTRAILERS),
		XLAT(IFF_RUNNING),   XLAT(IFF_NOARP),	    XLAT(IFF_PROMISC),
		XLAT(IFF_ALLMULTI),  XLAT(IFF_MASTER),	    XLAT(IFF_SLAVE),
		XLAT(IFF_MULTICAST), XLAT(IFF_PORTSEL),	    XLAT(IFF_AUTOMEDIA),
		XLAT(IFF_DYNAMIC),
	};
	struct ctw_outbuf *o = d->o;
	uint32_t req = ioctl_req(d);
	struct ifreq in, out;
	bool done = !ev_failed(d) &&
		    item_copy(d, i, TRACE_CAP_IOCTL, true, &out, sizeof(out), sizeof(out));

	if (!item_copy(d, i, TRACE_CAP_IOCTL, false, &in, sizeof(in), sizeof(in)))
		return false;
	put_c(o, '{');
	if (req == SIOCGIFNAME) {
		put_s(o, "ifr_ifindex=");
		put_i64(o, in.ifr_ifindex);
		if (done) {
			put_s(o, ", ifr_name=");
			ctw_trace_quote(o, out.ifr_name, strnlen(out.ifr_name, IFNAMSIZ), IFNAMSIZ,
					false);
		}
		put_c(o, '}');
		return true;
	}
	put_s(o, "ifr_name=");
	ctw_trace_quote(o, in.ifr_name, strnlen(in.ifr_name, IFNAMSIZ), IFNAMSIZ, false);
	if (done) {
		switch (req) {
		case SIOCGIFINDEX:
			put_s(o, ", ifr_ifindex=");
			put_i64(o, out.ifr_ifindex);
			break;
		case SIOCGIFFLAGS:
			put_s(o, ", ifr_flags=");
			put_flags(o, iff, ARRAY_SIZE(iff), (uint16_t)out.ifr_flags, "0");
			break;
		case SIOCGIFMTU:
			put_s(o, ", ifr_mtu=");
			put_i64(o, out.ifr_mtu);
			break;
		}
	}
	put_c(o, '}');
	return true;
}

/* SIOCGIFCONF asking how much room it takes (ifc_buf NULL): the length
 * with a comment saying how many ifreqs that is, as strace writes it */
static bool put_ifconf_size(struct dctx *d, int i)
{
	struct ifconf ic;

	if (ev_failed(d) || !item_copy(d, i, TRACE_CAP_IOCTL, true, &ic, sizeof(ic), sizeof(ic)) ||
	    ic.ifc_buf)
		return false;
	put_s(d->o, "{ifc_len=");
	put_i64(d->o, ic.ifc_len);
	if (ic.ifc_len > 0 && ic.ifc_len % sizeof(struct ifreq) == 0) {
		put_s(d->o, " /* ");
		put_u64(d->o, ic.ifc_len / sizeof(struct ifreq));
		put_s(d->o, " * sizeof(struct ifreq) */");
	}
	put_s(d->o, ", ifc_buf=NULL}");
	return true;
}

ARGFN(arg_ioctl_arg)
{
	struct ctw_outbuf *o = d->o;
	uint64_t v = d->ev->args[i];
	uint32_t req = ioctl_req(d);
	bool out = false;
	int32_t n;

	switch (req) {
	case TCGETS:
	case TIOCGWINSZ:
	case TIOCGPGRP:
	case TIOCGSID:
	case TIOCGETD:
	case TIOCGPTN:
	case FIONREAD:
	case TIOCOUTQ:
	case TIOCGEXCL:
	case TIOCGDEV:
		out = true;
		if (ev_failed(d)) {
			put_ptr(o, v);
			return;
		}
		break;
	case TCXONC: {
		static const struct xlat t[] = {XLAT(TCOOFF), XLAT(TCOON), XLAT(TCIOFF),
						XLAT(TCION)};

		put_enum_ex(o, t, ARRAY_SIZE(t), v, true, "TC???");
		return;
	}
	case TCFLSH: {
		static const struct xlat t[] = {XLAT(TCIFLUSH), XLAT(TCOFLUSH), XLAT(TCIOFLUSH)};

		put_enum_ex(o, t, ARRAY_SIZE(t), v, true, "TC???");
		return;
	}
	case TCSBRK:
	case TCSBRKP:
	case TIOCSCTTY: put_i64(o, (int32_t)v); return;
	case SIOCGIFNAME:
	case SIOCGIFINDEX:
	case SIOCGIFFLAGS:
	case SIOCGIFMTU:
		if (!put_ifreq(d, i))
			put_ptr(o, v);
		return;
	case SIOCGIFCONF:
		if (!put_ifconf_size(d, i))
			put_ptr(o, v);
		return;
	}
	switch (req) {
	case TCGETS:
	case TCSETS:
	case TCSETSW:
	case TCSETSF: {
		struct termios t;

		if (item_copy(d, i, TRACE_CAP_IOCTL, out, &t, sizeof(t), sizeof(t))) {
			put_termios(o, &t);
			return;
		}
		break;
	}
	case TIOCGWINSZ:
	case TIOCSWINSZ: {
		struct winsize ws;

		if (item_copy(d, i, TRACE_CAP_IOCTL, out, &ws, sizeof(ws), sizeof(ws))) {
			put_s(o, "{ws_row=");
			put_u64(o, ws.ws_row);
			put_s(o, ", ws_col=");
			put_u64(o, ws.ws_col);
			put_s(o, ", ws_xpixel=");
			put_u64(o, ws.ws_xpixel);
			put_s(o, ", ws_ypixel=");
			put_u64(o, ws.ws_ypixel);
			put_c(o, '}');
			return;
		}
		break;
	}
	case TIOCGPGRP:
	case TIOCGSID:
	case TIOCGETD:
	case TIOCGPTN:
	case FIONREAD:
	case TIOCOUTQ:
	case TIOCGEXCL:
	case TIOCGDEV:
	case TIOCSPGRP:
	case TIOCSETD:
	case FIONBIO:
	case FIOASYNC:
	case TIOCPKT:
	case TIOCSPTLCK:
		if (item_copy(d, i, TRACE_CAP_IOCTL, out, &n, sizeof(n), sizeof(n))) {
			put_c(o, '[');
			put_i64(o, n);
			put_c(o, ']');
			return;
		}
		put_ptr(o, v);
		return;
	}
	put_hex(o, v);
}
