// SPDX-License-Identifier: Apache-2.0
/*
 * Network configuration: built-in defaults, then the config file, then the
 * environment, then a flag.  The file is `key = value` lines (bridge,
 * subnet, mtu); `#` starts a comment.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int set_bridge(struct ctw_net_config *cfg, const char *v, struct ctw_err *err)
{
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(cfg->bridge) || strchr(v, '/') || strchr(v, ' '))
		return ctw_err_setx(err, EINVAL, "bridge name `%s`: 1..15 characters, no '/'", v);
	memcpy(cfg->bridge, v, n + 1);
	return 0;
}

static int set_mtu(struct ctw_net_config *cfg, const char *v, struct ctw_err *err)
{
	uint64_t mtu;
	if (ctw_parse_u64(v, 0, 65535, &mtu) < 0 || (mtu && mtu < 576))
		return ctw_err_setx(err, EINVAL, "mtu `%s`: 576..65535 (0 = the host's)", v);
	cfg->mtu = (unsigned)mtu;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct ctw_net_config *cfg, const char *path, struct ctw_err *err)
{
	char *text, *save = NULL;
	int r = ctw_read_file(path, &text, NULL), lineno = 0;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ctw_err_set(err, -r, "read `%s`", path);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *eq = strchr(line, '=');
		char *key = trim(line);
		if (!*key)
			continue;
		if (!eq) {
			r = ctw_err_setx(err, EINVAL, "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(key);
		char *val = trim(eq + 1);
		if (!strcmp(key, "bridge"))
			r = set_bridge(cfg, val, err);
		else if (!strcmp(key, "subnet"))
			r = ctw_net_parse_subnet(val, &cfg->subnet, &cfg->prefix_len, err);
		else if (!strcmp(key, "mtu"))
			r = set_mtu(cfg, val, err);
		else
			r = ctw_err_setx(err, EINVAL, "unknown key `%s`", key);
		if (r < 0) {
			ctw_err_prefix(err, "%s:%d", path, lineno);
			break;
		}
		if (!strcmp(key, "subnet"))
			snprintf(cfg->source, sizeof(cfg->source), "file");
	}
	free(text);
	return r < 0 ? r : 0;
}

int ctw_net_config_load(struct ctw_net_config *cfg, const char *subnet, struct ctw_err *err)
{
	const char *v;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	ctw_strlcpy(cfg->bridge, CTW_NET_DEFAULT_BRIDGE, sizeof(cfg->bridge));
	r = ctw_net_parse_subnet(CTW_NET_DEFAULT_SUBNET, &cfg->subnet, &cfg->prefix_len, err);
	if (r < 0)
		return r;
	snprintf(cfg->source, sizeof(cfg->source), "default");

	v = getenv("CTRWATCH_NET_CONFIG");
	r = load_file(cfg, v && *v ? v : CTW_NET_DEFAULT_CONFIG, err);
	if (r < 0)
		return r;
	if ((v = getenv("CTRWATCH_BRIDGE")) && *v && (r = set_bridge(cfg, v, err)) < 0)
		return ctw_err_prefix(err, "CTRWATCH_BRIDGE");
	if ((v = getenv("CTRWATCH_MTU")) && *v && (r = set_mtu(cfg, v, err)) < 0)
		return ctw_err_prefix(err, "CTRWATCH_MTU");
	if ((v = getenv("CTRWATCH_SUBNET")) && *v) {
		if (ctw_net_parse_subnet(v, &cfg->subnet, &cfg->prefix_len, err) < 0)
			return ctw_err_prefix(err, "CTRWATCH_SUBNET");
		snprintf(cfg->source, sizeof(cfg->source), "env");
	}
	if (subnet && *subnet) {
		r = ctw_net_parse_subnet(subnet, &cfg->subnet, &cfg->prefix_len, err);
		if (r < 0)
			return r;
		snprintf(cfg->source, sizeof(cfg->source), "flag");
	}
	return 0;
}
