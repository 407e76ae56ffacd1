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

/* ---- prefix set ---- */

static uint64_t pfx_hash(const struct pfx_key *k)
{
	return pol_fnv1a(k, sizeof(*k));
}

void pfxset_init(struct pfxset *s, size_t hint)
{
	size_t cap = 16;
	while (cap < hint * 2 + 16)
		cap <<= 1;
	s->tab = xcalloc(cap, sizeof(*s->tab));
	s->cap = cap;
	s->n = 0;
}

void pfxset_fini(struct pfxset *s)
{
	free(s->tab);
	s->tab = NULL;
	s->cap = s->n = 0;
}

static void pfxset_grow(struct pfxset *s)
{
	struct pfxset big;
	pfxset_init(&big, s->cap);
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->tab[i].used)
			continue;
		struct pfx_ent *e = pfxset_get(&big, &s->tab[i].k, true);
		memcpy(e->bits, s->tab[i].bits, sizeof(e->bits));
	}
	free(s->tab);
	*s = big;
}

struct pfx_ent *pfxset_get(struct pfxset *s, const struct pfx_key *k, bool create)
{
	if (create && (s->n + 1) * 2 > s->cap)
		pfxset_grow(s);
	size_t i = pfx_hash(k) & (s->cap - 1);
	for (;;) {
		struct pfx_ent *e = &s->tab[i];
		if (!e->used) {
			if (!create)
				return NULL;
			memset(e, 0, sizeof(*e));
			e->k = *k;
			e->used = true;
			s->n++;
			return e;
		}
		if (!memcmp(&e->k, k, sizeof(*k)))
			return e;
		i = (i + 1) & (s->cap - 1);
	}
}

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

struct cg_list {
	uint64_t *ids;
	size_t n;
	struct ctw_pol_compiled *c;
};

static void add_cgroup(void *actx, uint64_t cgid, const char *path)
{
	struct cg_list *l = actx;
	struct ctw_pol_compiled *c = l->c;
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == cgid)
			return;
	l->ids = xrealloc(l->ids, (l->n + 1) * sizeof(*l->ids));
	l->ids[l->n++] = cgid;
	for (size_t i = 0; i < c->n_cgroups; i++)
		if (c->cgroups[i].cgid == cgid)
			return;
	c->cgroups = xrealloc(c->cgroups, (c->n_cgroups + 1) * sizeof(*c->cgroups));
	c->cgroups[c->n_cgroups].cgid = cgid;
	c->cgroups[c->n_cgroups].path = xstrdup(path ? path : "");
	c->n_cgroups++;
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

static void add_dns(struct ctw_pol_compiled *c, uint64_t cgid, const char *pattern, uint16_t id)
{
	bool wild = ctw_str_has_prefix(pattern, "*.");
	uint64_t h = ctw_pol_dns_hash(wild ? pattern + 2 : pattern);
	struct ctw_pol_dns_entry *e = NULL;

	for (size_t i = 0; i < c->n_dns; i++)
		if (c->dns[i].cgid == cgid && c->dns[i].hash == h) {
			e = &c->dns[i];
			break;
		}
	if (!e) {
		c->dns = xrealloc(c->dns, (c->n_dns + 1) * sizeof(*c->dns));
		e = &c->dns[c->n_dns++];
		memset(e, 0, sizeof(*e));
		e->cgid = cgid;
		e->hash = h;
	}
	if (wild) {
		if (!(e->flags & CTW_DNS_F_WILD) || id < e->wild_rule)
			e->wild_rule = id;
		e->flags |= CTW_DNS_F_WILD;
	} else {
		if (!(e->flags & CTW_DNS_F_EXACT) || id < e->exact_rule)
			e->exact_rule = id;
		e->flags |= CTW_DNS_F_EXACT;
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

		struct cg_list l = {.c = c};
		int n = r->containers(r->ctx, &pr->sel, add_cgroup, &l);
		if (n < 0) {
			free(l.ids);
			ret = ctw_err_set(err, -n, "rule '%s': resolve containers", pr->name);
			goto out;
		}
		c->rule_matches[i] = l.n;
		for (size_t k = 0; k < l.n; k++) {
			if (pr->n_dns) {
				for (size_t d = 0; d < pr->n_dns; d++)
					add_dns(c, l.ids[k], pr->dns[d], (uint16_t)i);
			} else {
				set_rule_prefixes(&set, pr, i, l.ids[k], (uint8_t)m->dir);
			}
		}
		free(l.ids);
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
