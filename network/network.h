/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network/ — container networking: the ctrwatch0 bridge, veth pairs, a
 * file-locked IPAM, NAT and published ports in a ctrwatch-owned nftables
 * table (libnftables), netlink through libmnl / libnl-route-3, and the
 * resolv.conf / hosts / hostname files a container sees.
 *
 * The runtime calls, in the parent, once the child exists (its netns) and
 * before the child sets up its mounts:
 *   ctw_net_setup()      -> lease (address), files written to files_dir
 * and on exit / rm / gc:
 *   ctw_net_teardown()
 */
#ifndef CTW_NETWORK_H
#define CTW_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../lib/lib.h"

enum ctw_net_mode { CTW_NET_BRIDGE, CTW_NET_NONE, CTW_NET_HOST, CTW_NET_CONTAINER };

struct ctw_net_publish {
	char host_ip[46];   /* "" = all host addresses */
	unsigned short host_port;
	unsigned short ctr_port;
	int proto;          /* IPPROTO_TCP or IPPROTO_UDP */
};

struct ctw_net_opts {
	enum ctw_net_mode mode;
	const char *container_id;
	const char *name;         /* for /etc/hosts */
	const char *hostname;
	const char *join_pid;     /* CONTAINER mode: pid of the other container */
	const char *const *dns;   /* --dns servers, NULL-terminated, or NULL */
	const struct ctw_net_publish *publish;
	size_t npublish;
	const char *files_dir;    /* where resolv.conf, hosts, hostname go */
};

struct ctw_net_lease {
	char ip[46];        /* "" when not bridged */
	char gateway[46];
	int prefix_len;
	char host_veth[16];
};

/* Parse "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]". */
int ctw_net_parse_publish(const char *spec, struct ctw_net_publish *out, struct ctw_err *err);
/* Parse "bridge|none|host|container:C" (C left in *target). */
int ctw_net_parse_mode(const char *spec, enum ctw_net_mode *mode, const char **target);

/* Set up the network of the container whose init is `pid`. */
int ctw_net_setup(const struct ctw_net_opts *opts, pid_t pid, struct ctw_net_lease *lease,
		  struct ctw_err *err);
/* Undo everything ctw_net_setup did for this container id (idempotent). */
int ctw_net_teardown(const char *container_id, struct ctw_err *err);

#endif /* CTW_NETWORK_H */
