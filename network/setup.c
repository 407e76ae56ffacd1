// SPDX-License-Identifier: Apache-2.0
/*
 * ctw_net_setup / ctw_net_teardown / ctw_net_gc: the order in which the
 * pieces (IPAM, bridge, veth, nftables, sysctls, files) are put together
 * and taken apart.  Everything that changes shared state runs under the
 * IPAM lock; a setup takes a few milliseconds, so serializing them is
 * cheaper than reasoning about partial states.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "internal.h"

#define CTR_IFNAME "eth0"
#define FALLBACK_MTU 1500

int net_sysctl_read(const char *path, char *buf, size_t size)
{
	return ctw_read_line(path, buf, size);
}

int net_sysctl_write(const char *path, const char *val)
{
	return ctw_write_file(path, val, strlen(val), false);
}

static void veth_name(uint32_t ip, char name[16])
{
	/* Derived from the address: unique while the lease is held. */
	snprintf(name, 16, "ctwv%08x", ip);
}

static int open_netns(const struct ctw_net_opts *opts, pid_t pid, struct ctw_err *err)
{
	char path[64];
	if (opts->netns_path)
		ctw_strlcpy(path, opts->netns_path, sizeof(path));
	else
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctw_err_set(err, errno, "open `%s`", path);
	return fd;
}

/* The container's netns must not be ours: configuring it would change the
 * host's own network. */
static int check_own_netns(int nsfd, struct ctw_err *err)
{
	struct stat a;
	unsigned long long dev, ino;
	int r = net_netns_self(&dev, &ino);
	if (r < 0)
		return ctw_err_set(err, -r, "identify own network namespace");
	if (fstat(nsfd, &a) < 0)
		return ctw_err_set(err, errno, "stat the container's network namespace");
	if ((unsigned long long)a.st_dev == dev && (unsigned long long)a.st_ino == ino)
		return ctw_err_setx(
			err, EINVAL,
			"the container shares this network namespace: refusing to configure it");
	return 0;
}

/* Rebuild `table ip ctrwatch` from the leases on disk (lock held). */
static int rules_sync(const struct ipam_state *st, struct ctw_err *err)
{
	struct ipam_lease *leases;
	size_t n;
	int r = net_ipam_leases_list(&leases, &n);
	if (r < 0)
		return ctw_err_set(err, -r, "list leases");
	char *text = net_nft_ruleset(st, leases, n);
	r = net_nft_apply(text, err);
	free(text);
	free(leases);
	return r;
}

/* Drop one lease's file, and its veth when `here` (the lease belongs to
 * the caller's netns); lock held, no rule sync. */
static void lease_release(bool here, const struct ipam_lease *l)
{
	if (here && l->veth[0]) {
		struct nl nl;
		if (net_nl_open(&nl, -1) == 0) {
			int idx = net_nl_link_index(&nl, l->veth);
			/* Usually gone already: the kernel removes a veth pair
			 * when the container's netns dies. */
			int r = idx > 0 ? net_nl_link_del(&nl, idx) : 0;
			if (r < 0)
				pr_warn("delete %s: %s", l->veth, strerror(-r));
			net_nl_close(&nl);
		}
	}
	net_ipam_lease_remove(l->id);
	pr_debug("network: released %s (%s)", l->id, l->veth);
}

/* Release leases whose process is gone (lock held).  Returns how many. */
static unsigned release_dead(bool here)
{
	struct ipam_lease *leases;
	size_t n;
	unsigned released = 0;
	if (net_ipam_leases_list(&leases, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (net_ipam_lease_alive(&leases[i]))
			continue;
		lease_release(here, &leases[i]);
		released++;
	}
	free(leases);
	return released;
}

static int ensure_bridge(struct nl *nl, const struct ipam_state *st, struct ctw_err *err)
{
	char kind[32], path[PATH_MAX], val[16];
	uint32_t gw = st->subnet + 1;
	int idx, r;

	idx = net_nl_link_index(nl, st->bridge);
	if (idx == -ENODEV) {
		r = net_nl_bridge_add(nl, st->bridge, st->mtu);
		if (r < 0 && r != -EEXIST)
			return ctw_err_set(err, -r, "create bridge %s", st->bridge);
		idx = net_nl_link_index(nl, st->bridge);
	}
	if (idx < 0)
		return ctw_err_set(err, -idx, "bridge %s", st->bridge);
	r = net_nl_link_kind(nl, idx, kind, sizeof(kind));
	if (r < 0)
		return ctw_err_set(err, -r, "bridge %s", st->bridge);
	if (strcmp(kind, "bridge"))
		return ctw_err_setx(err, EEXIST, "`%s` exists and is not a bridge (%s)", st->bridge,
				    kind[0] ? kind : "no kind");
	r = net_nl_addr_add(nl, idx, gw, st->prefix_len);
	if (r < 0 && r != -EEXIST)
		return ctw_err_set(err, -r, "address on bridge %s", st->bridge);
	r = net_nl_link_up(nl, idx, 0);
	if (r < 0)
		return ctw_err_set(err, -r, "bring up bridge %s", st->bridge);

	/* Published ports reached via 127.0.0.1 are DNATed out of the bridge
	 * with a loopback source: allowed on our bridge only. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", st->bridge);
	r = net_sysctl_write(path, "1");
	if (r < 0)
		return ctw_err_set(err, -r, "write `%s`", path);
	/* Forwarding is per netns; turned on when a bridged container needs
	 * it, and (like Docker and Podman) never turned off again, because
	 * other software may have come to rely on it meanwhile. */
	if (net_sysctl_read("/proc/sys/net/ipv4/ip_forward", val, sizeof(val)) == 0 &&
	    strcmp(val, "1")) {
		r = net_sysctl_write("/proc/sys/net/ipv4/ip_forward", "1");
		if (r < 0)
			return ctw_err_set(err, -r, "enable net.ipv4.ip_forward");
		pr_info("network: enabled net.ipv4.ip_forward");
	}
	return idx;
}

/* Set up eth0 and lo inside the container's netns. */
static int setup_inside(int nsfd, const struct ipam_state *st, uint32_t ip, struct ctw_err *err)
{
	struct nl nl;
	int r = net_nl_open(&nl, nsfd);
	if (r < 0)
		return ctw_err_set(err, -r, "netlink in the container's netns");
	int lo = net_nl_link_index(&nl, "lo");
	int eth = net_nl_link_index(&nl, CTR_IFNAME);
	if (lo < 0 || eth < 0) {
		r = ctw_err_set(err, -(lo < 0 ? lo : eth), "find %s in the container",
				lo < 0 ? "lo" : CTR_IFNAME);
		goto out_close;
	}
	if ((r = net_nl_link_up(&nl, lo, 0)) < 0) {
		ctw_err_set(err, -r, "bring up lo in the container");
		goto out_close;
	}
	r = net_nl_addr_add(&nl, eth, ip, st->prefix_len);
	if (r < 0) {
		ctw_err_set(err, -r, "address on %s", CTR_IFNAME);
		goto out_close;
	}
	if ((r = net_nl_link_up(&nl, eth, 0)) < 0) {
		ctw_err_set(err, -r, "bring up %s", CTR_IFNAME);
		goto out_close;
	}
	r = net_nl_route_add_default(&nl, st->subnet + 1, eth);
	if (r < 0)
		ctw_err_set(err, -r, "default route in the container");
out_close:
	net_nl_close(&nl);
	return r;
}

/* A published port must be free: not published by another container, not
 * bound by a host process (DNAT would silently steal its traffic). */
static int check_ports(const struct ipam_lease *leases, size_t n, const struct ctw_net_opts *opts,
		       struct ctw_err *err)
{
	const char *owner;
	char spec[96];
	int i = net_ipam_port_conflict(leases, n, opts->publish, opts->npublish, &owner);
	if (i >= 0) {
		ctw_net_format_publish(&opts->publish[i], spec, sizeof(spec));
		return ctw_err_setx(err, EADDRINUSE, "publish %s: already published%s%s", spec,
				    owner ? " by container " : " twice", owner ? owner : "");
	}
	for (size_t k = 0; k < opts->npublish; k++) {
		const struct ctw_net_publish *p = &opts->publish[k];
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->host_port)};
		uint32_t ip = 0;
		if (p->host_ip[0])
			net_ip4_parse(p->host_ip, &ip);
		sa.sin_addr.s_addr = htonl(ip);
		int fd = socket(AF_INET,
				(p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
				0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
		close(fd);
		if (r == EADDRINUSE) {
			ctw_net_format_publish(p, spec, sizeof(spec));
			return ctw_err_setx(err, EADDRINUSE,
					    "publish %s: the host port is in use by a host process",
					    spec);
		}
	}
	return 0;
}

/* Bind the network state to this netns and config when nothing holds it. */
static int bind_state(struct ipam_state *st, bool have_state, const struct ctw_net_config *cfg,
		      struct nl *nl, size_t nleases, struct ctw_err *err)
{
	unsigned long long dev, ino;
	char want[16], have[16];
	int r = net_netns_self(&dev, &ino);
	if (r < 0)
		return ctw_err_set(err, -r, "identify own network namespace");

	if (have_state && nleases) {
		if (st->subnet != cfg->subnet || st->prefix_len != cfg->prefix_len ||
		    strcmp(st->bridge, cfg->bridge)) {
			net_ip4_format(cfg->subnet, want);
			net_ip4_format(st->subnet, have);
			return ctw_err_setx(err, EBUSY,
					    "subnet %s/%d (%s) requested, but %zu container(s) use "
					    "%s/%d on %s: it can change once they are gone",
					    want, cfg->prefix_len, cfg->source, nleases, have,
					    st->prefix_len, st->bridge);
		}
		return 0;
	}
	if (have_state && (st->subnet != cfg->subnet || st->prefix_len != cfg->prefix_len ||
			   strcmp(st->bridge, cfg->bridge))) {
		/* The subnet changes: the old gateway address goes. */
		int idx = net_nl_link_index(nl, st->bridge);
		if (idx > 0)
			net_nl_addr_del(nl, idx, st->subnet + 1, st->prefix_len);
	}
	uint32_t next = have_state && st->subnet == cfg->subnet ? st->next : 0;
	memset(st, 0, sizeof(*st));
	ctw_strlcpy(st->bridge, cfg->bridge, sizeof(st->bridge));
	st->subnet = cfg->subnet;
	st->prefix_len = cfg->prefix_len;
	st->netns_dev = dev;
	st->netns_ino = ino;
	st->next = next;
	st->mtu = cfg->mtu;
	if (!st->mtu && net_nl_default_route_mtu(nl, &st->mtu) < 0)
		st->mtu = FALLBACK_MTU;
	return 0;
}

static int setup_bridge(const struct ctw_net_opts *opts, pid_t pid, struct ctw_net_lease *out,
			struct ctw_err *err)
{
	struct ctw_net_config cfg;
	struct ipam_state st;
	struct ipam_lease *leases = NULL, *l = NULL;
	struct nl nl = {.sk = NULL};
	size_t n;
	int lockfd, nsfd = -1, r, bridge;
	bool have_state, leased = false;
	char ip[16];

	if (opts->npublish > CTW_NET_MAX_PUBLISH)
		return ctw_err_setx(err, E2BIG, "at most %d published ports", CTW_NET_MAX_PUBLISH);
	r = ctw_net_config_load(&cfg, opts->subnet, err);
	if (r < 0)
		return r;
	nsfd = open_netns(opts, pid, err);
	if (nsfd < 0)
		return nsfd;
	r = check_own_netns(nsfd, err);
	if (r < 0) {
		close(nsfd);
		return r;
	}
	lockfd = net_ipam_lock(err);
	if (lockfd < 0) {
		close(nsfd);
		return lockfd;
	}
	r = net_nl_open(&nl, -1);
	if (r < 0) {
		ctw_err_set(err, -r, "netlink");
		goto out_unlock;
	}

	have_state = net_ipam_state_read(&st) == 0;
	if (have_state)
		release_dead(true);
	r = net_ipam_leases_list(&leases, &n);
	if (r < 0) {
		ctw_err_set(err, -r, "list leases");
		goto out_unlock;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(leases[i].id, opts->container_id)) {
			r = ctw_err_setx(err, EEXIST, "container %s already has address",
					 opts->container_id);
			goto out_unlock;
		}
	}
	r = bind_state(&st, have_state, &cfg, &nl, n, err);
	if (r < 0)
		goto out_unlock;
	r = check_ports(leases, n, opts, err);
	if (r < 0)
		goto out_unlock;

	l = xcalloc(1, sizeof(*l));
	ctw_strlcpy(l->id, opts->container_id, sizeof(l->id));
	r = net_ipam_pick(&st, leases, n, &l->ip);
	if (r < 0) {
		net_ip4_format(st.subnet, ip);
		ctw_err_setx(err, ENOSPC, "no free address left in %s/%d", ip, st.prefix_len);
		goto out_unlock;
	}
	st.next = l->ip + 1;
	veth_name(l->ip, l->veth);
	l->pid = pid;
	net_proc_start_time(pid, &l->start);
	l->npublish = opts->npublish;
	if (opts->npublish)
		memcpy(l->publish, opts->publish, opts->npublish * sizeof(*opts->publish));

	/* The lease goes to disk first: from here on, a crash leaves
	 * something gc can find and undo. */
	r = net_ipam_state_write(&st);
	if (!r)
		r = net_ipam_lease_write(l);
	if (r < 0) {
		ctw_err_set(err, -r, "write network state");
		goto out_unlock;
	}
	leased = true;

	bridge = ensure_bridge(&nl, &st, err);
	if (bridge < 0) {
		r = bridge;
		goto out_release;
	}
	r = rules_sync(&st, err);
	if (r < 0)
		goto out_release;

	r = net_nl_veth_add(&nl, l->veth, CTR_IFNAME, nsfd, st.mtu);
	if (r == -EEXIST) {
		/* A leftover of a crashed holder of this address. */
		int old = net_nl_link_index(&nl, l->veth);
		if (old > 0)
			net_nl_link_del(&nl, old);
		r = net_nl_veth_add(&nl, l->veth, CTR_IFNAME, nsfd, st.mtu);
	}
	if (r < 0) {
		ctw_err_set(err, -r, "create veth %s", l->veth);
		goto out_release;
	}
	int hidx = net_nl_link_index(&nl, l->veth);
	if (hidx < 0 || (r = net_nl_link_up(&nl, hidx, bridge)) < 0) {
		r = ctw_err_set(err, hidx < 0 ? -hidx : -r, "attach %s to %s", l->veth, st.bridge);
		goto out_release;
	}
	r = setup_inside(nsfd, &st, l->ip, err);
	if (r < 0)
		goto out_release;

	net_ip4_format(l->ip, ip);
	r = net_files_write(opts, ip, err);
	if (r < 0)
		goto out_release;

	memset(out, 0, sizeof(*out));
	ctw_strlcpy(out->ip, ip, sizeof(out->ip));
	net_ip4_format(st.subnet + 1, out->gateway);
	out->prefix_len = st.prefix_len;
	ctw_strlcpy(out->host_veth, l->veth, sizeof(out->host_veth));
	out->mtu = st.mtu;
	pr_debug("network: %s has %s via %s on %s", l->id, ip, l->veth, st.bridge);
	goto out_unlock;

out_release:
	if (leased) {
		struct ctw_err ignore;
		lease_release(true, l);
		rules_sync(&st, &ignore);
	}
out_unlock:
	net_nl_close(&nl);
	net_ipam_unlock(lockfd);
	close(nsfd);
	free(leases);
	free(l);
	return r;
}

static int lo_up(const struct ctw_net_opts *opts, pid_t pid, struct ctw_err *err)
{
	struct nl nl;
	int nsfd = open_netns(opts, pid, err);
	if (nsfd < 0)
		return nsfd;
	int r = check_own_netns(nsfd, err);
	if (r < 0) {
		close(nsfd);
		return r;
	}
	r = net_nl_open(&nl, nsfd);
	close(nsfd);
	if (r < 0)
		return ctw_err_set(err, -r, "netlink in the container's netns");
	int lo = net_nl_link_index(&nl, "lo");
	r = lo < 0 ? lo : net_nl_link_up(&nl, lo, 0);
	net_nl_close(&nl);
	if (r < 0)
		return ctw_err_set(err, -r, "bring up lo in the container");
	return 0;
}

/* The address of the container whose init is `pid`, if it is bridged. */
static void joined_ip(const char *pid_str, char ip[16])
{
	struct ipam_lease *leases;
	size_t n;
	uint64_t pid;
	ip[0] = '\0';
	if (!pid_str || ctw_parse_u64(pid_str, 1, INT_MAX, &pid) < 0)
		return;
	if (net_ipam_leases_list(&leases, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (leases[i].pid == (pid_t)pid)
			net_ip4_format(leases[i].ip, ip);
	free(leases);
}

int ctw_net_setup(const struct ctw_net_opts *opts, pid_t pid, struct ctw_net_lease *lease,
		  struct ctw_err *err)
{
	char ip[16];
	int r;

	memset(lease, 0, sizeof(*lease));
	if (!net_id_valid(opts->container_id))
		return ctw_err_setx(err, EINVAL, "network: bad container id `%s`",
				    opts->container_id ? opts->container_id : "");
	if (opts->npublish && opts->mode != CTW_NET_BRIDGE && opts->mode != CTW_NET_HOST)
		return ctw_err_setx(err, EINVAL, "published ports need --net bridge");

	switch (opts->mode) {
	case CTW_NET_BRIDGE: r = setup_bridge(opts, pid, lease, err); break;
	case CTW_NET_NONE:
		r = lo_up(opts, pid, err);
		if (!r)
			r = net_files_write(opts, NULL, err);
		break;
	case CTW_NET_HOST:
		if (opts->npublish)
			pr_warn("published ports are ignored with --net host");
		r = net_files_write(opts, NULL, err);
		break;
	case CTW_NET_CONTAINER:
		joined_ip(opts->join_pid, ip);
		r = net_files_write(opts, ip, err);
		break;
	default: r = ctw_err_setx(err, EINVAL, "network: unknown mode %d", (int)opts->mode);
	}
	if (r < 0)
		ctw_err_prefix(err, "network");
	return r < 0 ? r : 0;
}

/* The lock, or -ENOENT (err untouched) when no network state exists: then
 * there is nothing to undo, and nothing should be created. */
static int lock_existing(struct ctw_err *err)
{
	char path[PATH_MAX];
	net_ipam_path(path, sizeof(path), NULL);
	if (!ctw_path_exists(path))
		return -ENOENT;
	return net_ipam_lock(err);
}

/* Call fn(ctx) under the lock of every other netns's partition. */
static void each_other_partition(void (*fn)(void *ctx), void *ctx)
{
	char **parts = net_ipam_partitions();
	for (size_t i = 0; parts[i]; i++) {
		net_ipam_use_partition(parts[i]);
		int lockfd = lock_existing(NULL);
		if (lockfd >= 0) {
			fn(ctx);
			net_ipam_unlock(lockfd);
		}
		net_ipam_use_partition(NULL);
		free(parts[i]);
	}
	free(parts);
}

static void remove_lease_file(void *ctx)
{
	const char *id = ctx;
	struct ipam_lease l;
	if (net_ipam_lease_read(id, &l) == 0) {
		/* Its veth and rules live in that other netns: the kernel
		 * drops the veth with the container; the rules go with the
		 * next change there. */
		net_ipam_lease_remove(id);
		pr_debug("network: %s released from another network namespace", id);
	}
}

int ctw_net_teardown(const char *container_id, struct ctw_err *err)
{
	struct ipam_state st;
	struct ipam_lease l;
	int lockfd, r;

	if (!net_id_valid(container_id))
		return ctw_err_setx(err, EINVAL, "network: bad container id `%s`",
				    container_id ? container_id : "");
	lockfd = lock_existing(err);
	if (lockfd < 0 && lockfd != -ENOENT)
		return lockfd;
	r = lockfd < 0 ? -ENOENT : net_ipam_lease_read(container_id, &l);
	if (r == -ENOENT) {
		/* Not set up from this netns: maybe from another one. */
		net_ipam_unlock(lockfd);
		each_other_partition(remove_lease_file, (void *)container_id);
		return 0;
	}
	if (r < 0) {
		r = ctw_err_set(err, -r, "network: read lease of %s", container_id);
		goto out_unlock;
	}
	lease_release(true, &l);
	if (net_ipam_state_read(&st) == 0) {
		r = rules_sync(&st, err);
		if (r < 0)
			ctw_err_prefix(err, "network");
	}
out_unlock:
	net_ipam_unlock(lockfd);
	return r;
}

static void release_dead_elsewhere(void *ctx)
{
	unsigned *cnt = ctx;
	*cnt += release_dead(false);
}

int ctw_net_gc(unsigned *released, struct ctw_err *err)
{
	struct ipam_state st;
	unsigned cnt = 0;
	int lockfd, r = 0;

	lockfd = lock_existing(err);
	if (lockfd >= 0) {
		cnt = release_dead(true);
		/* The table also goes when a crash left it behind with no
		 * lease. */
		if (net_ipam_state_read(&st) == 0 && (cnt || net_nft_table_present()))
			r = rules_sync(&st, err);
		net_ipam_unlock(lockfd);
	} else if (lockfd != -ENOENT) {
		r = lockfd;
	}
	/* Other netns: only the lease files, never their kernel objects. */
	each_other_partition(release_dead_elsewhere, &cnt);
	if (released)
		*released = cnt;
	return r < 0 ? ctw_err_prefix(err, "network gc") : 0;
}

static void count_leases(void *ctx)
{
	struct ipam_lease *leases;
	size_t n;
	if (net_ipam_leases_list(&leases, &n) == 0) {
		*(size_t *)ctx += n;
		free(leases);
	}
}

int ctw_net_status_get(struct ctw_net_status *s, struct ctw_err *err)
{
	struct ipam_state st;
	struct ipam_lease *leases;
	size_t n;
	char val[16];
	int r;

	memset(s, 0, sizeof(*s));
	r = ctw_net_config_load(&s->cfg, NULL, err);
	if (r < 0)
		return r;
	r = net_ipam_leases_list(&leases, &n);
	if (r < 0)
		return ctw_err_set(err, -r, "list leases");
	if (net_ipam_state_read(&st) == 0 && n) {
		s->bound = true;
		ctw_strlcpy(s->cfg.bridge, st.bridge, sizeof(s->cfg.bridge));
		s->cfg.subnet = st.subnet;
		s->cfg.prefix_len = st.prefix_len;
		s->cfg.mtu = st.mtu;
		snprintf(s->cfg.source, sizeof(s->cfg.source), "in use");
	}
	each_other_partition(count_leases, &s->other_leases);
	net_ip4_format(s->cfg.subnet + 1, s->gateway);
	s->bridge_present = if_nametoindex(s->cfg.bridge) > 0;
	s->table_present = net_nft_table_present();
	s->ip_forward = net_sysctl_read("/proc/sys/net/ipv4/ip_forward", val, sizeof(val)) == 0
				? atoi(val)
				: -1;
	s->nleases = n;
	s->leases = n ? xcalloc(n, sizeof(*s->leases)) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct ctw_net_lease_info *li = &s->leases[i];
		ctw_strlcpy(li->container_id, leases[i].id, sizeof(li->container_id));
		net_ip4_format(leases[i].ip, li->ip);
		ctw_strlcpy(li->host_veth, leases[i].veth, sizeof(li->host_veth));
		li->pid = leases[i].pid;
		li->alive = net_ipam_lease_alive(&leases[i]);
		li->npublish = leases[i].npublish;
		memcpy(li->publish, leases[i].publish, sizeof(li->publish));
	}
	free(leases);
	return 0;
}

void ctw_net_status_fini(struct ctw_net_status *s)
{
	if (!s)
		return;
	free(s->leases);
	s->leases = NULL;
	s->nleases = 0;
}
