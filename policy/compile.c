// SPDX-License-Identifier: Apache-2.0
/*
 * Compile a validated policy into map contents: rules, LPM entries (each
 * prefix carries every rule whose CIDRs cover it, so the kernel's single
 * longest-prefix lookup yields all candidates in file order), and DNS
 * suffix hashes.  Selectors and interface names go through a resolver so
 * that tests can compile without a kernel.
 */
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pol_internal.h"
#include "cgroup_fw.h"
#include "../containers/containers.h"

/* ---- DNS hash (must equal the kernel's, see bpf/cgroup_fw.h) ---- */

uint64_t ctw_pol_dns_hash(const char *name)
{
	uint8_t wire[CTW_DNS_MAX_NAME + 2];
	size_t n = 0;
	const char *p = name;

	while (*p && n < CTW_DNS_MAX_NAME) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l > 63 || n + l + 1 > CTW_DNS_MAX_NAME)
			break;
		wire[n++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++) {
			char c = p[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 'a' - 'A');
			wire[n++] = (uint8_t)c;
		}
		p += l;
		if (*p == '.')
			p++;
	}
	wire[n++] = 0;
	uint64_t h = 0, pw = 1;
	for (size_t i = 0; i < n; i++) {
		h += (uint64_t)wire[i] * pw;
		pw *= CTW_DNS_HASH_B;
	}
	return h;
}

/* ---- the host resolver ---- */

static const char *cgroup2_root(void)
{
	const char *m = ctw_cgroup2_mount();
	return m ? m : "/sys/fs/cgroup";
}

static int host_ifindex(void *ctx, const char *ifname, uint32_t *out)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -errno;
	*out = idx;
	return 0;
}

static struct ctw_registry *host_registry(void *ctx)
{
	static struct ctw_registry *own;
	if (ctx)
		return ctx;
	if (!own) {
		struct ctw_registry_opts o = {0};
		own = ctw_registry_new(&o);
		if (own)
			ctw_registry_scan(own);
	}
	return own;
}

const char *pol_container_name(uint64_t cgid)
{
	struct ctw_registry *reg = host_registry(NULL);
	const struct ctw_container *c;

	if (!reg)
		return NULL;
	c = ctw_registry_lookup(reg, cgid);
	return c ? c->name : NULL;
}

static bool glob_ok(const char *pat, const char *s)
{
	return !pat || fnmatch(pat, s ? s : "", 0) == 0;
}

/* Every "key=glob" of the selector: the container has the key and its value
 * matches the glob ("*" only asks for the key). */
bool ctw_pol_labels_match(const struct ctw_pol_selector *sel, const struct ctw_container *c)
{
	for (size_t i = 0; i < sel->n_labels; i++) {
		const char *kv = sel->labels[i], *eq = strchr(kv, '=');
		size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
		const char *k, *v;
		bool hit = false;
		for (k = NULL; !hit && (k = ctw_container_label_next(c, k, &v));)
			hit = strlen(k) == kl && !strncmp(k, kv, kl) &&
			      fnmatch(eq ? eq + 1 : "*", v, 0) == 0;
		if (!hit)
			return false;
	}
	return true;
}

static int host_containers(void *ctx, const struct ctw_pol_selector *sel,
			   void (*add)(void *actx, uint64_t cgid, const char *path), void *actx)
{
	if (sel->cgroup) {
		char *path =
			sel->cgroup[0] == '/' && ctw_str_has_prefix(sel->cgroup, "/sys/fs/cgroup")
				? xstrdup(sel->cgroup)
				: xasprintf("%s/%s", cgroup2_root(),
					    sel->cgroup + (sel->cgroup[0] == '/'));
		struct stat st;
		if (stat(path, &st) < 0) {
			pr_warn("policy: cgroup %s: %s (selects nothing)", path, strerror(errno));
			free(path);
			return 0;
		}
		add(actx, (uint64_t)st.st_ino, path);
		free(path);
		return 1;
	}
	struct ctw_registry *reg = host_registry(ctx);
	if (!reg)
		return 0;
	int n = 0;
	const struct ctw_container *c;
	for (size_t i = 0; (c = ctw_registry_at(reg, i)); i++) {
		if (!glob_ok(sel->name, c->name) || !glob_ok(sel->pod, c->pod) ||
		    !glob_ok(sel->namespace_, c->namespace_))
			continue;
		if (sel->id && !ctw_str_has_prefix(c->id, sel->id))
			continue;
		if (!ctw_pol_labels_match(sel, c))
			continue;
		if (!c->cgroup_id)
			continue;
		add(actx, c->cgroup_id, c->cgroup_path);
		n++;
	}
	return n;
}

void ctw_pol_resolver_default(struct ctw_pol_resolver *r, struct ctw_registry *registry)
{
	r->ifindex = host_ifindex;
	r->containers = host_containers;
	r->ctx = registry;
}

/* ---- compile ---- */

void ctw_pol_cglist_add(void *list, uint64_t cgid, const char *path)
{
	struct ctw_pol_cglist *l = list;
	if (!(l->n & (l->n + 1))) { /* 0, 1, 3, 7, ...: double */
		l->ids = xrealloc(l->ids, (l->n + 1) * 2 * sizeof(*l->ids));
		l->paths = xrealloc(l->paths, (l->n + 1) * 2 * sizeof(*l->paths));
	}
	l->ids[l->n] = cgid;
	l->paths[l->n] = xstrdup(path ? path : "");
	l->n++;
}

void ctw_pol_cglist_fini(struct ctw_pol_cglist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->ids);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* One rule's containers, each once (sorted; the paths are gone). */
static void unique_ids(struct ctw_pol_cglist *l)
{
	size_t k = 0;
	if (!l->n)
		return;
	qsort(l->ids, l->n, sizeof(*l->ids), u64_cmp);
	for (size_t i = 0; i < l->n; i++)
		if (!k || l->ids[i] != l->ids[k - 1])
			l->ids[k++] = l->ids[i];
	l->n = k;
}

struct cg_path {
	uint64_t cgid;
	char *path;
	size_t order; /* first seen */
};

static int cg_path_cmp(const void *a, const void *b)
{
	const struct cg_path *x = a, *y = b;
	if (x->cgid != y->cgid)
		return (x->cgid > y->cgid) - (x->cgid < y->cgid);
	return (x->order > y->order) - (x->order < y->order);
}

static int cg_order_cmp(const void *a, const void *b)
{
	const struct cg_path *x = a, *y = b;
	return (x->order > y->order) - (x->order < y->order);
}

/* Every cgroup any rule selects, once, in the order first seen (where
 * cgroup_skb is attached); takes the paths of all. */
static void finish_cgroups(struct ctw_pol_compiled *c, struct cg_path *all, size_t n)
{
	size_t k = 0;
	if (n)
		qsort(all, n, sizeof(*all), cg_path_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && all[i].cgid == all[k - 1].cgid) {
			free(all[i].path);
			continue;
		}
		all[k++] = all[i];
	}
	if (k)
		qsort(all, k, sizeof(*all), cg_order_cmp);
	c->cgroups = xcalloc(k + 1, sizeof(*c->cgroups));
	for (size_t i = 0; i < k; i++)
		c->cgroups[i] = (struct ctw_pol_cgroup){.cgid = all[i].cgid, .path = all[i].path};
	c->n_cgroups = k;
}

static void set_rule_prefixes(struct pfxset *set, const struct ctw_pol_rule *r, size_t id,
			      uint64_t group, uint8_t dir)
{
	static const struct ctw_pol_cidr any4 = {.family = AF_INET};
	static const struct ctw_pol_cidr any6 = {.family = AF_INET6};
	const struct ctw_pol_cidr *list = r->cidrs;
	size_t n = r->n_cidrs;
	struct ctw_pol_cidr both[2];

	if (!n) {
		both[0] = any4;
		both[1] = any6;
		list = both;
		n = 2;
	}
	for (size_t i = 0; i < n; i++) {
		struct pfx_key k = {
			.group = group, .dir = dir, .family = list[i].family, .plen = list[i].plen};
		memcpy(k.addr, list[i].addr, 16);
		struct pfx_ent *e = pfxset_get(set, &k, true);
		e->bits[id / 64] |= 1ULL << (id % 64);
	}
}

/* The DNS map (ctw_cg_dns, bpf/cgroup_fw.bpf.c) holds 1 << 16 entries for
 * both slots: while a policy is applied the old one is still there. */
#define DNS_MAX_ENTRIES (1 << 15)

/* One DNS pattern of one rule for one container, before merging. */
struct dns_raw {
	uint64_t cgid, hash;
	uint16_t rule;
	bool wild;
};

static int dns_raw_cmp(const void *a, const void *b)
{
	const struct dns_raw *x = a, *y = b;
	if (x->cgid != y->cgid)
		return (x->cgid > y->cgid) - (x->cgid < y->cgid);
	return (x->hash > y->hash) - (x->hash < y->hash);
}

/* Merge the (container, name) pairs into map entries: one per container and
 * name hash, with the first exact and the first wildcard rule.  Sorting
 * makes it O(n log n) (a 6000-name policy on 10 containers is 60 000). */
static void finish_dns(struct ctw_pol_compiled *c, struct dns_raw *raw, size_t n)
{
	if (n)
		qsort(raw, n, sizeof(*raw), dns_raw_cmp);
	c->dns = xcalloc(n + 1, sizeof(*c->dns));
	for (size_t i = 0; i < n; i++) {
		struct ctw_pol_dns_entry *e = &c->dns[c->n_dns ? c->n_dns - 1 : 0];
		if (!c->n_dns || e->cgid != raw[i].cgid || e->hash != raw[i].hash) {
			e = &c->dns[c->n_dns++];
			e->cgid = raw[i].cgid;
			e->hash = raw[i].hash;
		}
		uint16_t id = raw[i].rule;
		if (raw[i].wild) {
			if (!(e->flags & CTW_DNS_F_WILD) || id < e->wild_rule)
				e->wild_rule = id;
			e->flags |= CTW_DNS_F_WILD;
		} else {
			if (!(e->flags & CTW_DNS_F_EXACT) || id < e->exact_rule)
				e->exact_rule = id;
			e->flags |= CTW_DNS_F_EXACT;
		}
	}
}

int ctw_policy_compile(const struct ctw_policy *p, const struct ctw_pol_resolver *r,
		       struct ctw_pol_compiled **out, struct ctw_err *err)
{
	struct ctw_pol_compiled *c = xcalloc(1, sizeof(*c));
	struct ctw_fw_rule *rules = xcalloc(p->n_rules + 1, sizeof(*rules));
	struct ctw_fw_meta *meta = xcalloc(p->n_rules + 1, sizeof(*meta));
	struct pfxset set;
	size_t total_cidrs = 0;
	struct cg_path *cgs = NULL;
	size_t n_cgs = 0, cap_cgs = 0;
	struct dns_raw *raw = NULL;
	size_t n_raw = 0, cap_raw = 0;
	int ret = 0;

	*out = NULL;
	c->rules = rules;
	c->meta = meta;
	c->n_rules = p->n_rules;
	c->rule_matches = xcalloc(p->n_rules + 1, sizeof(*c->rule_matches));
	c->def_xdp = (uint8_t)p->def_xdp;
	c->def_egress = (uint8_t)p->def_egress;
	c->def_ingress = (uint8_t)p->def_ingress;
	c->hash = p->hash;
	ctw_strlcpy(c->source, p->path ? p->path : "", sizeof(c->source));
	for (size_t i = 0; i < p->n_rules; i++)
		total_cidrs += p->rules[i].n_cidrs + 2;
	pfxset_init(&set, total_cidrs);

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ctw_pol_rule *pr = &p->rules[i];
		struct ctw_fw_rule *fr = &rules[i];
		struct ctw_fw_meta *m = &meta[i];

		fr->valid = 1;
		fr->action = pr->action == CTW_POL_DENY ? CTW_FW_DENY : CTW_FW_ALLOW;
		fr->scope =
			pr->scope == CTW_POL_SCOPE_XDP ? CTW_FW_SCOPE_XDP : CTW_FW_SCOPE_CONTAINER;
		fr->proto = pr->proto;
		if (pr->icmp)
			fr->flags |= CTW_FW_F_ICMP;
		if (pr->n_dns)
			fr->flags |= CTW_FW_F_DNS;
		fr->n_dports = (uint8_t)pr->n_dports;
		for (size_t k = 0; k < pr->n_dports; k++) {
			fr->dport_lo[k] = pr->dports[k].lo;
			fr->dport_hi[k] = pr->dports[k].hi;
		}
		fr->n_sports = (uint8_t)pr->n_sports;
		for (size_t k = 0; k < pr->n_sports; k++) {
			fr->sport_lo[k] = pr->sports[k].lo;
			fr->sport_hi[k] = pr->sports[k].hi;
		}
		ctw_strlcpy(m->name, pr->name, sizeof(m->name));
		{
			char sum[160], scope[96] = "";
			pol_rule_summary(pr, sum, sizeof(sum));
			if (pr->scope == CTW_POL_SCOPE_XDP) {
				size_t o = 0;
				for (size_t k = 0; k < pr->n_ifaces && o < sizeof(scope); k++)
					o += (size_t)snprintf(scope + o, sizeof(scope) - o, "%s%s",
							      k ? "," : "if=", pr->ifaces[k]);
			} else {
				const struct ctw_pol_selector *s = &pr->sel;
				char lbl[64] = "";
				size_t o = 0;
				for (size_t k = 0; k < s->n_labels && o < sizeof(lbl); k++)
					o += (size_t)snprintf(lbl + o, sizeof(lbl) - o, "%s%s",
							      k ? "," : " labels:", s->labels[k]);
				snprintf(scope, sizeof(scope), "%s%s%s%s%s%s%s%s%s%s%s",
					 s->name ? "name=" : "", s->name ? s->name : "",
					 s->id ? " id=" : "", s->id ? s->id : "",
					 s->pod ? " pod=" : "", s->pod ? s->pod : "",
					 s->namespace_ ? " namespace=" : "",
					 s->namespace_ ? s->namespace_ : "",
					 s->cgroup ? " cgroup=" : "", s->cgroup ? s->cgroup : "",
					 lbl);
			}
			snprintf(m->desc, sizeof(m->desc), "%s %s",
				 scope[0] == ' ' ? scope + 1 : scope, sum);
		}
		m->line = (uint32_t)pr->pos.line;
		m->action = fr->action;
		m->scope = fr->scope;
		m->dir = pr->dir == CTW_POL_EGRESS ? CTW_FW_EGRESS : CTW_FW_INGRESS;

		if (pr->scope == CTW_POL_SCOPE_XDP) {
			for (size_t k = 0; k < pr->n_ifaces; k++) {
				uint32_t idx;
				int e = r->ifindex(r->ctx, pr->ifaces[k], &idx);
				if (e < 0) {
					ret = ctw_err_set(err, -e, "rule '%s': interface %s",
							  pr->name, pr->ifaces[k]);
					goto out;
				}
				fr->ifindex[fr->n_ifs++] = idx;
				bool have = false;
				for (size_t j = 0; j < c->n_ifaces; j++)
					have |= c->ifaces[j].ifindex == idx;
				if (!have) {
					c->ifaces = xrealloc(c->ifaces, (c->n_ifaces + 1) *
										sizeof(*c->ifaces));
					ctw_strlcpy(c->ifaces[c->n_ifaces].name, pr->ifaces[k], 16);
					c->ifaces[c->n_ifaces].ifindex = idx;
					c->n_ifaces++;
				}
			}
			c->rule_matches[i] = pr->n_ifaces;
			set_rule_prefixes(&set, pr, i, 0, 0xff);
			continue;
		}

		struct ctw_pol_cglist l = {0};
		int n = r->containers(r->ctx, &pr->sel, ctw_pol_cglist_add, &l);
		for (size_t k = 0; k < l.n; k++) {
			if (n_cgs == cap_cgs) {
				cap_cgs = cap_cgs ? cap_cgs * 2 : 16;
				cgs = xrealloc(cgs, cap_cgs * sizeof(*cgs));
			}
			cgs[n_cgs] = (struct cg_path){l.ids[k], l.paths[k], n_cgs};
			n_cgs++;
		}
		free(l.paths); /* each now cgs's */
		l.paths = NULL;
		if (n < 0) {
			free(l.ids);
			ret = ctw_err_set(err, -n, "rule '%s': resolve containers", pr->name);
			goto out;
		}
		unique_ids(&l);
		c->rule_matches[i] = l.n;
		if (pr->n_dns && l.n) {
			/* hashes once per name, entries once per container */
			if (n_raw + l.n * pr->n_dns > cap_raw) {
				cap_raw = (n_raw + l.n * pr->n_dns) * 2;
				raw = xrealloc(raw, cap_raw * sizeof(*raw));
			}
			for (size_t d = 0; d < pr->n_dns; d++) {
				bool wild = ctw_str_has_prefix(pr->dns[d], "*.");
				uint64_t h = ctw_pol_dns_hash(wild ? pr->dns[d] + 2 : pr->dns[d]);
				for (size_t k = 0; k < l.n; k++)
					raw[n_raw++] =
						(struct dns_raw){l.ids[k], h, (uint16_t)i, wild};
			}
		}
		for (size_t k = 0; !pr->n_dns && k < l.n; k++)
			set_rule_prefixes(&set, pr, i, l.ids[k], (uint8_t)m->dir);
		free(l.ids);
	}
	finish_cgroups(c, cgs, n_cgs);
	n_cgs = 0; /* the paths are c's now */
	finish_dns(c, raw, n_raw);
	if (c->n_dns > DNS_MAX_ENTRIES) {
		ret = ctw_err_setx(err, E2BIG,
				   "%zu DNS entries (names times the containers their rules "
				   "select), more than the %d a policy may use: name fewer or "
				   "select fewer containers",
				   c->n_dns, DNS_MAX_ENTRIES);
		goto out;
	}

	/* Every prefix gets the rules of all its ancestors (same group). */
	c->lpm = xcalloc(set.n + 1, sizeof(*c->lpm));
	for (size_t i = 0; i < set.cap; i++) {
		struct pfx_ent *e = &set.tab[i];
		uint64_t bits[4] = {0};
		if (!e->used)
			continue;
		for (int pl = e->k.plen; pl >= 0; pl--) {
			struct pfx_key k = e->k;
			k.plen = (uint8_t)pl;
			pfx_mask(k.addr, k.family, pl);
			struct pfx_ent *a = pfxset_get(&set, &k, false);
			if (!a)
				continue;
			for (int w = 0; w < 4; w++)
				bits[w] |= a->bits[w];
		}
		struct ctw_pol_lpm_entry *le = &c->lpm[c->n_lpm];
		memset(le, 0, sizeof(*le));
		le->cgid = e->k.group;
		le->scope = e->k.dir == 0xff ? CTW_FW_SCOPE_XDP : CTW_FW_SCOPE_CONTAINER;
		le->dir = e->k.dir == 0xff ? 0 : e->k.dir;
		le->family = e->k.family;
		le->plen = e->k.plen;
		memcpy(le->addr, e->k.addr, 16);
		for (int id = 0; id < CTW_FW_MAX_RULES; id++) {
			if (!(bits[id / 64] & (1ULL << (id % 64))))
				continue;
			if (le->n >= CTW_FW_MAX_MATCH) {
				char b[64];
				struct ctw_pol_cidr cd = {.family = le->family, .plen = le->plen};
				memcpy(cd.addr, le->addr, 16);
				pol_format_cidr(&cd, b, sizeof(b));
				ret = ctw_err_setx(
					err, EINVAL,
					"more than %d rules cover %s (rule '%s', line %d): "
					"merge some of them",
					CTW_FW_MAX_MATCH, b, p->rules[id].name,
					p->rules[id].pos.line);
				goto out;
			}
			le->ids[le->n++] = (uint16_t)id;
		}
		c->n_lpm++;
	}
out:
	pfxset_fini(&set);
	for (size_t k = 0; k < n_cgs; k++)
		free(cgs[k].path);
	free(cgs);
	free(raw);
	if (ret < 0) {
		ctw_pol_compiled_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void ctw_pol_compiled_free(struct ctw_pol_compiled *c)
{
	if (!c)
		return;
	free(c->rules);
	free(c->meta);
	free(c->lpm);
	free(c->dns);
	free(c->ifaces);
	for (size_t i = 0; i < c->n_cgroups; i++)
		free(c->cgroups[i].path);
	free(c->cgroups);
	free(c->rule_matches);
	free(c);
}
