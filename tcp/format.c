// SPDX-License-Identifier: Apache-2.0
/*
 * Decoding and printing of tcplife records: port lists, addresses, the
 * libbpf-tools-like table (with the container first) and JSON lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../lib/lib.h"
#include "tcp.h"

int ctw_tcp_parse_ports(const char *s, __u16 *ports, __u32 *n)
{
	const char *p = s;

	*n = 0;
	if (!*s)
		return -EINVAL;
	while (*p) {
		char *end;
		unsigned long v;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v == 0 || v > 65535 || (*end && *end != ','))
			return -EINVAL;
		if (*n >= TCPLIFE_MAX_PORTS)
			return -E2BIG;
		ports[(*n)++] = (__u16)v;
		p = end;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		}
	}
	return 0;
}

const char *ctw_tcp_close_name(__u8 close)
{
	static const char *const names[] = {
		[TCPLIFE_CLOSE_FIN] = "fin",	     [TCPLIFE_CLOSE_RST_IN] = "rst-in",
		[TCPLIFE_CLOSE_RST_OUT] = "rst-out", [TCPLIFE_CLOSE_REFUSED] = "refused",
		[TCPLIFE_CLOSE_TIMEOUT] = "timeout", [TCPLIFE_CLOSE_OTHER] = "other",
	};
	return close < ARRAY_SIZE(names) ? names[close] : "other";
}

const char *ctw_tcp_direction(const struct tcplife_event *e)
{
	return (e->flags & TCPLIFE_F_PASSIVE) ? "passive" : "active";
}

bool ctw_tcp_is_connect_failure(const struct tcplife_event *e)
{
	return !(e->flags & (TCPLIFE_F_PASSIVE | TCPLIFE_F_ESTABLISHED));
}

void ctw_tcp_format_addr(const struct tcplife_event *e, bool local, char *buf, size_t size)
{
	const __u8 *a = local ? e->saddr : e->daddr;

	if (!inet_ntop(e->family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, size))
		ctw_strlcpy(buf, "?", size);
}

static int addr_width(const struct ctw_tcp_columns *c)
{
	return c->wide ? 39 : 15;
}

void ctw_tcp_print_header(FILE *f, const struct ctw_tcp_columns *c)
{
	int w = addr_width(c);

	if (c->clock)
		fprintf(f, "%-8s ", "TIME");
	if (c->elapsed)
		fprintf(f, "%-9s ", "TIME(s)");
	fprintf(f, "%-16s %-7s %-16s %-*s %-5s %-*s %-5s %-6s %-6s %s\n", "CONTAINER", "PID",
		"COMM", w, "LADDR", "LPORT", w, "RADDR", "RPORT", "TX_KB", "RX_KB", "MS");
}

static void comm_of(const struct tcplife_event *e, char *buf)
{
	memcpy(buf, e->comm, CTW_COMM_LEN);
	buf[CTW_COMM_LEN] = '\0';
	if (!buf[0])
		strcpy(buf, "-");
}

void ctw_tcp_print_row(FILE *f, const struct ctw_tcp_columns *c, const struct tcplife_event *e,
		       const char *container, double elapsed_s, const char *clock)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], comm[CTW_COMM_LEN + 1];
	int w = addr_width(c);

	ctw_tcp_format_addr(e, true, la, sizeof(la));
	ctw_tcp_format_addr(e, false, ra, sizeof(ra));
	comm_of(e, comm);
	if (c->clock)
		fprintf(f, "%-8s ", clock ? clock : "");
	if (c->elapsed)
		fprintf(f, "%-9.3f ", elapsed_s);
	fprintf(f, "%-16s %-7u %-16s %-*s %-5u %-*s %-5u %-6.2f %-6.2f %.2f\n",
		container ? container : "-", e->pid, comm, w, la, e->sport, w, ra, e->dport,
		e->tx_bytes / 1024.0, e->rx_bytes / 1024.0, e->span_ns / 1e6);
}

void ctw_tcp_print_json(FILE *f, const struct tcplife_event *e, const char *container,
			__u64 realtime_ns)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], comm[CTW_COMM_LEN + 1], ts[48];

	ctw_tcp_format_addr(e, true, la, sizeof(la));
	ctw_tcp_format_addr(e, false, ra, sizeof(ra));
	memcpy(comm, e->comm, CTW_COMM_LEN);
	comm[CTW_COMM_LEN] = '\0';
	ctw_format_time(realtime_ns, ts, sizeof(ts));

	fprintf(f, "{\"time\":\"%s\",\"container\":", ts);
	if (container)
		ctw_json_string(f, container);
	else
		fputs("null", f);
	fprintf(f, ",\"cgroup_id\":%llu,\"pid\":%u,\"comm\":", (unsigned long long)e->cgroup_id,
		e->pid);
	ctw_json_string(f, comm);
	fprintf(f,
		",\"family\":%d,\"saddr\":\"%s\",\"sport\":%u,\"daddr\":\"%s\",\"dport\":%u"
		",\"tx_bytes\":%llu,\"rx_bytes\":%llu,\"duration_ms\":%.3f,\"established\":%s"
		",\"direction\":\"%s\",\"close\":\"%s\",\"error\":%u}\n",
		e->family == AF_INET6 ? 6 : 4, la, e->sport, ra, e->dport,
		(unsigned long long)e->tx_bytes, (unsigned long long)e->rx_bytes, e->span_ns / 1e6,
		(e->flags & TCPLIFE_F_ESTABLISHED) ? "true" : "false", ctw_tcp_direction(e),
		ctw_tcp_close_name(e->close), e->sk_err);
}
