// SPDX-License-Identifier: Apache-2.0
/*
 * IPAM: one file per lease under ctw_state_dir()/.network/leases/, and a
 * `network` file with the subnet in use, all changed under one flock so
 * that concurrent runs never hand out the same address.  The state dir is
 * a tmpfs (/run) by default: leases die with the reboot that kills the
 * veths they describe.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "internal.h"

/* Which partition the path functions use; "" = the caller's netns. */
static char partition[64];

void net_ipam_use_partition(const char *name)
{
	ctw_strlcpy(partition, name ? name : "", sizeof(partition));
}

void net_ipam_path(char *buf, size_t size, const char *rel)
{
	char own[64];
	const char *part = partition;
	unsigned long long dev = 0, ino = 0;

	if (!part[0]) {
		if (net_netns_self(&dev, &ino) < 0)
			ino = 0;
		snprintf(own, sizeof(own), "ns-%llu", ino);
		part = own;
	}
	snprintf(buf, size, "%s/.network/%s%s%s", ctw_state_dir(), part, rel && *rel ? "/" : "",
		 rel ? rel : "");
}

char **net_ipam_partitions(void)
{
	char path[PATH_MAX], own[PATH_MAX];
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/.network", ctw_state_dir());
	net_ipam_path(own, sizeof(own), NULL);
	DIR *d = opendir(path);
	if (!d)
		return v;
	while ((de = readdir(d))) {
		if (!ctw_str_has_prefix(de->d_name, "ns-") || !net_id_valid(de->d_name) ||
		    !strcmp(strrchr(own, '/') + 1, de->d_name))
			continue;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	return v;
}

int net_ipam_lock(struct ctw_err *err)
{
	char path[PATH_MAX];
	int fd, r;

	net_ipam_path(path, sizeof(path), "leases");
	r = ctw_mkdir_p(path, 0700);
	if (r < 0)
		return ctw_err_set(err, -r, "create `%s`", path);
	net_ipam_path(path, sizeof(path), "lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctw_err_set(err, errno, "open `%s`", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		r = ctw_err_set(err, errno, "lock `%s`", path);
		close(fd);
		return r;
	}
	return fd;
}

void net_ipam_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/* Iterate `key=value` lines; cb returns < 0 to stop. */
static int kv_each(char *text, int (*cb)(const char *key, const char *val, void *ctx), void *ctx)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		int r = cb(line, eq + 1, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

static int state_kv(const char *key, const char *val, void *ctx)
{
	struct ipam_state *st = ctx;
	uint64_t v;
	if (!strcmp(key, "bridge")) {
		ctw_strlcpy(st->bridge, val, sizeof(st->bridge));
	} else if (!strcmp(key, "subnet")) {
		return ctw_net_parse_subnet(val, &st->subnet, &st->prefix_len, NULL) < 0 ? -EINVAL
											 : 0;
	} else if (!strcmp(key, "mtu")) {
		if (ctw_parse_u64(val, 0, 65535, &v) < 0)
			return -EINVAL;
		st->mtu = (unsigned)v;
	} else if (!strcmp(key, "netns")) {
		if (sscanf(val, "%llu:%llu", &st->netns_dev, &st->netns_ino) != 2)
			return -EINVAL;
	} else if (!strcmp(key, "next")) {
		return net_ip4_parse(val, &st->next);
	}
	return 0; /* unknown keys: written by a newer version */
}

int net_ipam_state_read(struct ipam_state *st)
{
	char path[PATH_MAX], *text;
	net_ipam_path(path, sizeof(path), "network");
	memset(st, 0, sizeof(*st));
	int r = ctw_read_file(path, &text, NULL);
	if (r < 0)
		return r;
	r = kv_each(text, state_kv, st);
	free(text);
	if (!r && (!st->bridge[0] || !st->prefix_len))
		r = -EINVAL;
	return r;
}

int net_ipam_state_write(const struct ipam_state *st)
{
	char path[PATH_MAX], net[16], next[16];
	net_ipam_path(path, sizeof(path), "network");
	net_ip4_format(st->subnet, net);
	net_ip4_format(st->next, next);
	char *text =
		xasprintf("bridge=%s\nsubnet=%s/%d\nmtu=%u\nnetns=%llu:%llu\nnext=%s\n", st->bridge,
			  net, st->prefix_len, st->mtu, st->netns_dev, st->netns_ino, next);
	int r = ctw_write_file_atomic(path, text, strlen(text));
	free(text);
	return r;
}

char *net_ipam_lease_format(const struct ipam_lease *l)
{
	char ip[16], spec[96];
	size_t cap = 512 + l->npublish * sizeof(spec);
	char *text = xmalloc(cap);
	net_ip4_format(l->ip, ip);
	int n = snprintf(text, cap, "id=%s\nip=%s\nveth=%s\npid=%d\nstart=%llu\n", l->id, ip,
			 l->veth, (int)l->pid, l->start);
	for (size_t i = 0; i < l->npublish; i++) {
		ctw_net_format_publish(&l->publish[i], spec, sizeof(spec));
		n += snprintf(text + n, cap - (size_t)n, "publish=%s\n", spec);
	}
	return text;
}

static int lease_kv(const char *key, const char *val, void *ctx)
{
	struct ipam_lease *l = ctx;
	uint64_t v;
	if (!strcmp(key, "id")) {
		if (!net_id_valid(val))
			return -EINVAL;
		ctw_strlcpy(l->id, val, sizeof(l->id));
	} else if (!strcmp(key, "ip")) {
		return net_ip4_parse(val, &l->ip);
	} else if (!strcmp(key, "veth")) {
		if (strlen(val) >= sizeof(l->veth))
			return -EINVAL;
		ctw_strlcpy(l->veth, val, sizeof(l->veth));
	} else if (!strcmp(key, "pid")) {
		if (ctw_parse_u64(val, 0, INT_MAX, &v) < 0)
			return -EINVAL;
		l->pid = (pid_t)v;
	} else if (!strcmp(key, "start")) {
		if (ctw_parse_u64(val, 0, UINT64_MAX, &v) < 0)
			return -EINVAL;
		l->start = v;
	} else if (!strcmp(key, "publish")) {
		if (l->npublish >= CTW_NET_MAX_PUBLISH)
			return -E2BIG;
		if (ctw_net_parse_publish(val, &l->publish[l->npublish], NULL) < 0)
			return -EINVAL;
		l->npublish++;
	}
	return 0;
}

int net_ipam_lease_parse(const char *text, struct ipam_lease *l)
{
	char *copy = xstrdup(text);
	memset(l, 0, sizeof(*l));
	int r = kv_each(copy, lease_kv, l);
	free(copy);
	if (!r && (!l->id[0] || !l->ip))
		r = -EINVAL;
	return r;
}

int net_ipam_lease_read(const char *id, struct ipam_lease *l)
{
	char path[PATH_MAX], rel[96], *text;
	if (!net_id_valid(id))
		return -EINVAL;
	snprintf(rel, sizeof(rel), "leases/%s", id);
	net_ipam_path(path, sizeof(path), rel);
	int r = ctw_read_file(path, &text, NULL);
	if (r < 0)
		return r;
	r = net_ipam_lease_parse(text, l);
	free(text);
	if (!r && strcmp(l->id, id))
		r = -EINVAL;
	return r;
}

int net_ipam_lease_write(const struct ipam_lease *l)
{
	char path[PATH_MAX], rel[96];
	if (!net_id_valid(l->id))
		return -EINVAL;
	snprintf(rel, sizeof(rel), "leases/%s", l->id);
	net_ipam_path(path, sizeof(path), rel);
	char *text = net_ipam_lease_format(l);
	int r = ctw_write_file_atomic(path, text, strlen(text));
	free(text);
	return r;
}

int net_ipam_lease_remove(const char *id)
{
	char path[PATH_MAX], rel[96];
	if (!net_id_valid(id))
		return -EINVAL;
	snprintf(rel, sizeof(rel), "leases/%s", id);
	net_ipam_path(path, sizeof(path), rel);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int lease_cmp(const void *a, const void *b)
{
	const struct ipam_lease *x = a, *y = b;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

int net_ipam_leases_list(struct ipam_lease **out, size_t *n)
{
	char path[PATH_MAX];
	struct ipam_lease *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	net_ipam_path(path, sizeof(path), "leases");
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!net_id_valid(de->d_name) || strstr(de->d_name, ".tmp."))
			continue;
		if (cnt == cap)
			v = xrealloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
		/* Unreadable or foreign files are skipped, not fatal: gc must
		 * still be able to make progress. */
		if (net_ipam_lease_read(de->d_name, &v[cnt]) == 0)
			cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), lease_cmp);
	*out = v;
	*n = cnt;
	if (!cnt)
		free(v), *out = NULL;
	return 0;
}

static bool ip_used(const struct ipam_lease *leases, size_t n, uint32_t ip)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (leases[mid].ip == ip)
			return true;
		if (leases[mid].ip < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int net_ipam_pick(const struct ipam_state *st, const struct ipam_lease *leases, size_t n,
		  uint32_t *ip)
{
	uint32_t mask = net_ip4_mask(st->prefix_len);
	uint32_t first = (st->subnet & mask) + 2; /* +1 is the gateway */
	uint32_t last = (st->subnet | ~mask) - 1; /* below broadcast */
	uint32_t count = last - first + 1;
	uint32_t cand = st->next >= first && st->next <= last ? st->next : first;

	for (uint32_t i = 0; i < count; i++) {
		if (!ip_used(leases, n, cand)) {
			*ip = cand;
			return 0;
		}
		cand = cand == last ? first : cand + 1;
	}
	return -ENOSPC;
}

static bool publish_overlap(const struct ctw_net_publish *a, const struct ctw_net_publish *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (!a->host_ip[0] || !b->host_ip[0] || !strcmp(a->host_ip, b->host_ip));
}

int net_ipam_port_conflict(const struct ipam_lease *leases, size_t n,
			   const struct ctw_net_publish *want, size_t nwant, const char **owner)
{
	for (size_t w = 0; w < nwant; w++) {
		for (size_t x = 0; x < w; x++) {
			if (publish_overlap(&want[w], &want[x])) {
				*owner = NULL;
				return (int)w;
			}
		}
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < leases[i].npublish; j++) {
				if (publish_overlap(&want[w], &leases[i].publish[j])) {
					*owner = leases[i].id;
					return (int)w;
				}
			}
		}
	}
	return -1;
}

int net_proc_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int r = ctw_read_line(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* Fields after the comm: state is field 3, starttime field 22. */
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		if (field == 22)
			return sscanf(p, "%llu", start) == 1 ? 0 : -EINVAL;
		while (*p && *p != ' ')
			p++;
	}
	return -EINVAL;
}

bool net_ipam_lease_alive(const struct ipam_lease *l)
{
	unsigned long long start;
	if (l->pid <= 0)
		return false;
	if (net_proc_start_time(l->pid, &start) < 0)
		return false;
	return !l->start || start == l->start;
}

int net_netns_self(unsigned long long *dev, unsigned long long *ino)
{
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	*dev = (unsigned long long)st.st_dev;
	*ino = (unsigned long long)st.st_ino;
	return 0;
}
