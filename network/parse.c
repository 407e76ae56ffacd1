// SPDX-License-Identifier: Apache-2.0
/* Parsers for --net, -p/--publish and subnets, and address helpers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "internal.h"

int net_ip4_parse(const char *s, uint32_t *ip)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

void net_ip4_format(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

bool net_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 64 || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int parse_port(const char *s, unsigned short *port)
{
	uint64_t v;
	if (ctw_parse_u64(s, 1, 65535, &v) < 0)
		return -EINVAL;
	*port = (unsigned short)v;
	return 0;
}

int ctw_net_parse_publish(const char *spec, struct ctw_net_publish *out, struct ctw_err *err)
{
	char buf[128];
	char *proto, *ctr, *host, *ip = NULL;

	memset(out, 0, sizeof(*out));
	out->proto = IPPROTO_TCP;
	if (ctw_strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
		return ctw_err_setx(err, EINVAL, "publish `%.32s...`: too long", spec);
	if (buf[0] == '[')
		return ctw_err_setx(err, EINVAL,
				    "publish `%s`: IPv6 host addresses are not supported", spec);
	proto = strchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (!strcmp(proto, "tcp"))
			out->proto = IPPROTO_TCP;
		else if (!strcmp(proto, "udp"))
			out->proto = IPPROTO_UDP;
		else
			return ctw_err_setx(err, EINVAL,
					    "publish `%s`: protocol must be tcp or udp", spec);
	}
	ctr = strrchr(buf, ':');
	if (!ctr)
		return ctw_err_setx(err, EINVAL,
				    "publish `%s`: expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]",
				    spec);
	*ctr++ = '\0';
	host = strrchr(buf, ':');
	if (host) {
		*host++ = '\0';
		ip = buf;
	} else {
		host = buf;
	}
	if (parse_port(ctr, &out->ctr_port) < 0)
		return ctw_err_setx(err, EINVAL, "publish `%s`: bad container port `%s`", spec,
				    ctr);
	if (parse_port(host, &out->host_port) < 0)
		return ctw_err_setx(err, EINVAL, "publish `%s`: bad host port `%s`", spec, host);
	if (ip && *ip && strcmp(ip, "0.0.0.0")) {
		uint32_t a;
		if (net_ip4_parse(ip, &a) < 0)
			return ctw_err_setx(err, EINVAL, "publish `%s`: bad host address `%s`",
					    spec, ip);
		net_ip4_format(a, out->host_ip);
	}
	return 0;
}

void ctw_net_format_publish(const struct ctw_net_publish *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%u:%u/%s", p->host_ip, p->host_ip[0] ? ":" : "", p->host_port,
		 p->ctr_port, p->proto == IPPROTO_UDP ? "udp" : "tcp");
}

int ctw_net_parse_mode(const char *spec, enum ctw_net_mode *mode, const char **target)
{
	if (target)
		*target = NULL;
	if (!spec)
		return -EINVAL;
	if (!strcmp(spec, "bridge"))
		*mode = CTW_NET_BRIDGE;
	else if (!strcmp(spec, "none"))
		*mode = CTW_NET_NONE;
	else if (!strcmp(spec, "host"))
		*mode = CTW_NET_HOST;
	else if (ctw_str_has_prefix(spec, "container:") && spec[10]) {
		*mode = CTW_NET_CONTAINER;
		if (target)
			*target = spec + 10;
	} else
		return -EINVAL;
	return 0;
}

enum ctw_net_mode ctw_net_default_mode(void)
{
	const char *env = getenv("CTRWATCH_NET");
	enum ctw_net_mode mode;
	/* Only the modes that need no target make sense as a default. */
	if (env && !ctw_net_parse_mode(env, &mode, NULL) && mode != CTW_NET_CONTAINER)
		return mode;
	return CTW_NET_BUILTIN_DEFAULT;
}

int ctw_net_parse_subnet(const char *spec, uint32_t *net, int *prefix_len, struct ctw_err *err)
{
	char buf[32];
	uint64_t len;
	uint32_t a;
	char *slash;

	if (ctw_strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
		return ctw_err_setx(err, EINVAL, "subnet `%s`: too long", spec);
	slash = strchr(buf, '/');
	if (!slash)
		return ctw_err_setx(err, EINVAL, "subnet `%s`: expected A.B.C.D/LEN", spec);
	*slash++ = '\0';
	if (net_ip4_parse(buf, &a) < 0)
		return ctw_err_setx(err, EINVAL, "subnet `%s`: bad address", spec);
	if (ctw_parse_u64(slash, 8, 30, &len) < 0)
		return ctw_err_setx(err, EINVAL, "subnet `%s`: prefix length must be 8..30", spec);
	if (a & ~net_ip4_mask((int)len))
		return ctw_err_setx(err, EINVAL, "subnet `%s`: host bits set", spec);
	*net = a;
	*prefix_len = (int)len;
	return 0;
}
