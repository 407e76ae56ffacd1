/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network/internal.h — shared between the files of network/ (and its unit
 * tests) only.  Other modules use network.h.
 */
#ifndef CTW_NETWORK_INTERNAL_H
#define CTW_NETWORK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "network.h"

struct mnl_socket;

/* ---- addresses (host byte order) ---- */
int net_ip4_parse(const char *s, uint32_t *ip);
void net_ip4_format(uint32_t ip, char buf[16]);
static inline uint32_t net_ip4_mask(int prefix_len)
{
	return prefix_len ? ~0u << (32 - prefix_len) : 0;
}
/* Container ids become file names: [A-Za-z0-9_.-], 1..64, no leading dot. */
bool net_id_valid(const char *id);

/* ---- netlink (nl.c, libmnl) ---- */
struct nl {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
};
/* Open a route netlink socket in the netns of netns_fd (-1: the current). */
int net_nl_open(struct nl *nl, int netns_fd);
void net_nl_close(struct nl *nl);
/* ifindex (> 0) of a link, or -ENODEV. */
int net_nl_link_index(struct nl *nl, const char *name);
int net_nl_link_mtu(struct nl *nl, int ifindex, unsigned *mtu);
/* The kind ("bridge", "veth", ...) of a link; "" when it has none. */
int net_nl_link_kind(struct nl *nl, int ifindex, char *kind, size_t size);
int net_nl_bridge_add(struct nl *nl, const char *name, unsigned mtu);
/* veth pair: `host` here, `peer` created directly in peer_netns_fd. */
int net_nl_veth_add(struct nl *nl, const char *host, const char *peer, int peer_netns_fd,
		    unsigned mtu);
/* Bring a link up, optionally enslaving it to master (0 = leave). */
int net_nl_link_up(struct nl *nl, int ifindex, int master);
int net_nl_link_del(struct nl *nl, int ifindex);
/* Add an address; -EEXIST when it is already there. */
int net_nl_addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix_len);
int net_nl_addr_del(struct nl *nl, int ifindex, uint32_t ip, int prefix_len);
int net_nl_route_add_default(struct nl *nl, uint32_t gateway, int ifindex);
/* MTU of the interface the main table's default route leaves by; -ENOENT
 * when there is no default route. */
int net_nl_default_route_mtu(struct nl *nl, unsigned *mtu);

/* ---- IPAM and state (ipam.c) ---- */
struct ipam_state {
	char bridge[16];
	uint32_t subnet;
	int prefix_len;
	unsigned mtu; /* resolved MTU containers get */
	unsigned long long netns_dev, netns_ino;
	uint32_t next; /* allocation hint (round robin) */
};

struct ipam_lease {
	char id[72];
	uint32_t ip;
	char veth[16];
	pid_t pid;
	unsigned long long start; /* the pid's start time (clock ticks) */
	size_t npublish;
	struct ctw_net_publish publish[CTW_NET_MAX_PUBLISH];
};

/* State is partitioned by network namespace, since that is where the
 * bridge, veths and rules live: ctw_state_dir()/.network/ns-<inode>/.
 * Paths below the partition in use (the caller's netns by default). */
void net_ipam_path(char *buf, size_t size, const char *rel);
/* Use another partition ("ns-<inode>"), NULL to go back to the caller's. */
void net_ipam_use_partition(const char *name);
/* The other partitions' names, NULL-terminated (free each and the array). */
char **net_ipam_partitions(void);
/* Exclusive flock on the network state; returns the fd. */
int net_ipam_lock(struct ctw_err *err);
void net_ipam_unlock(int fd);
int net_ipam_state_read(struct ipam_state *st); /* -ENOENT if none */
int net_ipam_state_write(const struct ipam_state *st);
int net_ipam_lease_read(const char *id, struct ipam_lease *l);
int net_ipam_lease_write(const struct ipam_lease *l);
int net_ipam_lease_remove(const char *id);
/* All leases, sorted by address; *out is freed by the caller. */
int net_ipam_leases_list(struct ipam_lease **out, size_t *n);
/* Pick a free address (not network, gateway or broadcast) starting at the
 * hint, round robin.  Pure: -ENOSPC when the subnet is full. */
int net_ipam_pick(const struct ipam_state *st, const struct ipam_lease *leases, size_t n,
		  uint32_t *ip);
/* Index of the first of `want` that overlaps (protocol, port, host
 * address or any) another of `want` (*owner = NULL) or a lease's published
 * port (*owner = that lease's id); -1 when none does. */
int net_ipam_port_conflict(const struct ipam_lease *leases, size_t n,
			   const struct ctw_net_publish *want, size_t nwant, const char **owner);
/* Serialize / parse a lease file's text (unit-tested). */
char *net_ipam_lease_format(const struct ipam_lease *l);
int net_ipam_lease_parse(const char *text, struct ipam_lease *l);
/* Start time (field 22 of /proc/PID/stat) or -errno. */
int net_proc_start_time(pid_t pid, unsigned long long *start);
bool net_ipam_lease_alive(const struct ipam_lease *l);
/* The caller's network namespace identity. */
int net_netns_self(unsigned long long *dev, unsigned long long *ino);

/* ---- nftables (nft.c, libnftables) ---- */
/* The whole `table ip ctrwatch` for these leases, as one nft transaction
 * that replaces the table atomically (or deletes it when n == 0). */
char *net_nft_ruleset(const struct ipam_state *st, const struct ipam_lease *leases, size_t n);
int net_nft_apply(const char *text, struct ctw_err *err);
bool net_nft_table_present(void);

/* ---- files (files.c) ---- */
/* resolv.conf for a container: the host's, with `dns` replacing its
 * nameservers; drop_loopback removes nameservers on 127/8 and ::1 (which the
 * container cannot reach). */
char *net_resolv_conf(const char *host_text, const char *const *dns, bool drop_loopback);
char *net_hosts(const char *ip, const char *hostname, const char *name);
int net_files_write(const struct ctw_net_opts *opts, const char *ip, struct ctw_err *err);

/* ---- sysctl (setup.c) ---- */
int net_sysctl_read(const char *path, char *buf, size_t size);
int net_sysctl_write(const char *path, const char *val);

#endif /* CTW_NETWORK_INTERNAL_H */
