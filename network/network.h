/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network/ — container networking: the ctrwatch0 bridge, veth pairs, a
 * file-locked IPAM, NAT and published ports in a ctrwatch-owned nftables
 * table (libnftables), netlink through libmnl, and the resolv.conf / hosts /
 * hostname files a container sees.
 *
 * The runtime calls, in the parent, once the child exists (its netns) and
 * before the child sets up its mounts:
 *   ctw_net_setup()      -> lease (address), files written to files_dir
 * and on exit / rm / gc:
 *   ctw_net_teardown()
 * `ctrwatch gc` also calls ctw_net_gc(), which releases what dead
 * containers left behind.
 *
 * Configuration (later wins): built-in defaults (bridge ctrwatch0, subnet
 * 172.30.0.0/16, the MTU of the host's default-route interface), the file
 * CTRWATCH_NET_CONFIG (default /etc/ctrwatch/network.conf, `key = value`
 * lines: bridge, subnet, mtu), the environment (CTRWATCH_BRIDGE,
 * CTRWATCH_SUBNET, CTRWATCH_MTU), and ctw_net_opts.subnet (a flag).  The
 * subnet can only change while no container holds a lease.
 *
 * State lives in ctw_state_dir()/.network/ns-<inode of the netns>/, one
 * partition per network namespace (where the bridge, veths and the
 * `ip ctrwatch` table live): `lock` (flock), `network` (the subnet in use)
 * and `leases/<id>`.  Kernel objects are only ever touched from their own
 * netns: a teardown or gc from another one releases lease files only.
 */
#ifndef CTW_NETWORK_H
#define CTW_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/lib.h"

#define CTW_NET_DEFAULT_BRIDGE "ctrwatch0"
#define CTW_NET_DEFAULT_SUBNET "172.30.0.0/16"
#define CTW_NET_DEFAULT_CONFIG "/etc/ctrwatch/network.conf"
#define CTW_NET_TABLE "ctrwatch" /* nftables: table ip ctrwatch */
#define CTW_NET_MAX_PUBLISH 64

enum ctw_net_mode { CTW_NET_BRIDGE, CTW_NET_NONE, CTW_NET_HOST, CTW_NET_CONTAINER };

/* `run` without --net and without CTRWATCH_NET: bridge, as Docker. */
#define CTW_NET_BUILTIN_DEFAULT CTW_NET_BRIDGE

struct ctw_net_publish {
	char host_ip[46]; /* "" = all host addresses */
	unsigned short host_port;
	unsigned short ctr_port;
	int proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

struct ctw_net_opts {
	enum ctw_net_mode mode;
	const char *container_id;
	const char *name; /* for /etc/hosts */
	const char *hostname;
	const char *join_pid;	/* CONTAINER mode: pid of the other container */
	const char *netns_path; /* the container's netns; NULL: /proc/PID/ns/net */
	const char *const *dns; /* --dns servers, NULL-terminated, or NULL */
	const struct ctw_net_publish *publish;
	size_t npublish;
	const char *files_dir; /* where resolv.conf, hosts, hostname go */
	const char *subnet;    /* override of the configured subnet, or NULL */
};

struct ctw_net_lease {
	char ip[46]; /* "" when not bridged */
	char gateway[46];
	int prefix_len;
	char host_veth[16];
	unsigned mtu; /* of eth0 in the container (bridge mode) */
};

/* The network configuration in effect (defaults < file < env). */
struct ctw_net_config {
	char bridge[16];
	uint32_t subnet; /* network address, host byte order */
	int prefix_len;	 /* 8..30 */
	unsigned mtu;	 /* 0 = the host's default-route interface's */
	char source[64]; /* where the subnet came from: default, file, env, flag */
};

/* One lease as `network inspect` shows it. */
struct ctw_net_lease_info {
	char container_id[72];
	char ip[16];
	char host_veth[16];
	pid_t pid;
	bool alive; /* the process that owns the netns still exists */
	size_t npublish;
	struct ctw_net_publish publish[CTW_NET_MAX_PUBLISH];
};

struct ctw_net_status {
	struct ctw_net_config cfg; /* configured (or in use, when bound) */
	bool bound;		   /* leases exist: subnet fixed, netns recorded */
	size_t other_leases;	   /* held in other network namespaces */
	char gateway[16];
	bool bridge_present; /* checked in the caller's netns */
	bool table_present;
	int ip_forward; /* -1 when unreadable */
	size_t nleases;
	struct ctw_net_lease_info *leases;
};

/* Parse "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]". */
int ctw_net_parse_publish(const char *spec, struct ctw_net_publish *out, struct ctw_err *err);
/* Format a publish spec back into "[HOSTIP:]HOSTPORT:CTRPORT/proto". */
void ctw_net_format_publish(const struct ctw_net_publish *p, char *buf, size_t size);
/* Parse "bridge|none|host|container:C" (C left in *target). */
int ctw_net_parse_mode(const char *spec, enum ctw_net_mode *mode, const char **target);
/* Parse "A.B.C.D/N" into a network address (host order) and prefix 8..30;
 * host bits must be zero. */
int ctw_net_parse_subnet(const char *spec, uint32_t *net, int *prefix_len, struct ctw_err *err);
/* The mode `run` uses without --net: CTRWATCH_NET (none, host or bridge)
 * or CTW_NET_BUILTIN_DEFAULT. */
enum ctw_net_mode ctw_net_default_mode(void);

/* Load the configuration (see the top of this file); `subnet` overrides. */
int ctw_net_config_load(struct ctw_net_config *cfg, const char *subnet, struct ctw_err *err);

/* Set up the network of the container whose init is `pid`. */
int ctw_net_setup(const struct ctw_net_opts *opts, pid_t pid, struct ctw_net_lease *lease,
		  struct ctw_err *err);
/* Undo everything ctw_net_setup did for this container id (idempotent). */
int ctw_net_teardown(const char *container_id, struct ctw_err *err);
/* Release the leases (veth, rules, address) of containers whose process is
 * gone.  *released (may be NULL) gets how many were released. */
int ctw_net_gc(unsigned *released, struct ctw_err *err);

/* Snapshot for `ctrwatch network inspect`. */
int ctw_net_status_get(struct ctw_net_status *st, struct ctw_err *err);
void ctw_net_status_fini(struct ctw_net_status *st);

#endif /* CTW_NETWORK_H */
