// SPDX-License-Identifier: Apache-2.0
/*
 * Policy file parser (libyaml document API) and validator.  Every problem
 * is reported as FILE:LINE:COL: message, and parsing goes on after an error
 * so that one run of `policy check` shows them all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "pol_internal.h"
#include "xdp_fw.h"

#define MAX_RULES CTW_FW_MAX_RULES

struct pctx {
	const char *path;
	struct ctw_pol_diags *d;
	yaml_document_t *doc;
	struct ctw_policy *p;
};

/* ---- diagnostics ---- */

static void diags_add(struct ctw_pol_diags *d, bool error, const char *path, int line, int col,
		      const char *fmt, va_list ap)
{
	char *body = NULL, *msg;

	if (vasprintf(&body, fmt, ap) < 0)
		abort();
	msg = xasprintf("%s:%d:%d: %s%s", path, line, col, error ? "" : "warning: ", body);
	free(body);
	d->msgs = xrealloc(d->msgs, (d->n + 1) * sizeof(*d->msgs));
	d->msgs[d->n++] = msg;
	if (error)
		d->n_errors++;
}

static void __attribute__((format(printf, 3, 4)))
err_at(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_add(c->d, true, c->path, n ? (int)n->start_mark.line + 1 : 1,
		  n ? (int)n->start_mark.column + 1 : 1, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
err_pos(struct pctx *c, bool error, struct ctw_pol_pos pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_add(c->d, error, c->path, pos.line, pos.col, fmt, ap);
	va_end(ap);
}

void ctw_pol_diags_fini(struct ctw_pol_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

void ctw_pol_diags_print(const struct ctw_pol_diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->msgs[i]);
}

/* ---- small helpers ---- */

static struct ctw_pol_pos pos_of(const yaml_node_t *n)
{
	return (struct ctw_pol_pos){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
}

static yaml_node_t *node(struct pctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* A scalar or complain. */
static const char *want_scalar(struct pctx *c, const yaml_node_t *n, const char *what)
{
	const char *s = scalar(n);
	if (!s)
		err_at(c, n, "%s must be a scalar, not %s", what, type_name(n));
	return s;
}

/* Iterate a sequence; a lone scalar counts as a one-item list. */
static size_t seq_items(struct pctx *c, yaml_node_t *n, yaml_node_t ***items)
{
	*items = NULL;
	if (n->type == YAML_SCALAR_NODE) {
		*items = xmalloc(sizeof(**items));
		(*items)[0] = n;
		return 1;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	*items = xcalloc(cnt + 1, sizeof(**items));
	for (size_t i = 0; i < cnt; i++)
		(*items)[i] = node(c, n->data.sequence.items.start[i]);
	return cnt;
}

/* Names with their order of appearance, for duplicate checks by sorting. */
struct named {
	const char *name;
	size_t idx;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

/* first[i] = the index of the first name equal to the one with index i
 * (i itself when it is the first, or has no entry in v); indexes are below
 * `domain`.  Sorting makes it O(n log n). */
static size_t *first_of(struct named *v, size_t n, size_t domain)
{
	size_t *first = xcalloc(domain + 1, sizeof(*first));
	for (size_t i = 0; i < domain; i++)
		first[i] = i;
	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i].name, v[i - 1].name))
			first[v[i].idx] = first[v[i - 1].idx];
	return first;
}

/* Report mapping keys that appear twice (libyaml accepts them). */
static void check_dup_keys(struct pctx *c, yaml_node_t *map)
{
	yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
	size_t n = (size_t)(map->data.mapping.pairs.top - pairs), k = 0;
	struct named *v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *key = scalar(node(c, pairs[i].key));
		if (key)
			v[k++] = (struct named){key, i};
	}
	size_t *first = first_of(v, k, n);
	for (size_t i = 0; i < n; i++) {
		if (first[i] == i)
			continue;
		yaml_node_t *kn = node(c, pairs[i].key);
		err_at(c, kn, "duplicate key '%s' (first at line %d)", scalar(kn),
		       (int)node(c, pairs[first[i]].key)->start_mark.line + 1);
	}
	free(first);
	free(v);
}

static int parse_action(struct pctx *c, yaml_node_t *n, enum ctw_pol_action *out)
{
	const char *s = want_scalar(c, n, "action");
	if (!s)
		return -1;
	if (!strcmp(s, "allow") || !strcmp(s, "pass") || !strcmp(s, "accept"))
		*out = CTW_POL_ALLOW;
	else if (!strcmp(s, "deny") || !strcmp(s, "drop"))
		*out = CTW_POL_DENY;
	else {
		err_at(c, n, "unknown action '%s' (expected allow or deny)", s);
		return -1;
	}
	return 0;
}

static int parse_port_item(struct pctx *c, yaml_node_t *n, struct ctw_pol_range *r)
{
	const char *s = want_scalar(c, n, "a port");
	char lo[16], *dash;
	uint64_t a, b;

	if (!s)
		return -1;
	if (strlen(s) >= sizeof(lo) * 2)
		goto bad;
	dash = strchr(s, '-');
	if (dash) {
		size_t l = (size_t)(dash - s);
		if (l == 0 || l >= sizeof(lo))
			goto bad;
		memcpy(lo, s, l);
		lo[l] = '\0';
		if (ctw_parse_u64(lo, 0, 65535, &a) < 0 ||
		    ctw_parse_u64(dash + 1, 0, 65535, &b) < 0)
			goto bad;
		if (a > b) {
			err_at(c, n, "port range '%s' is empty (%lu > %lu)", s, (unsigned long)a,
			       (unsigned long)b);
			return -1;
		}
	} else {
		if (ctw_parse_u64(s, 0, 65535, &a) < 0)
			goto bad;
		b = a;
	}
	r->lo = (uint16_t)a;
	r->hi = (uint16_t)b;
	return 0;
bad:
	err_at(c, n, "invalid port '%s' (expected N or LO-HI, 0-65535)", s);
	return -1;
}

static void parse_ports(struct pctx *c, yaml_node_t *n, struct ctw_pol_range *out, size_t *cnt,
			const char *what)
{
	yaml_node_t **items;
	size_t k = seq_items(c, n, &items);

	if (!items) {
		err_at(c, n, "%s must be a list of ports, not %s", what, type_name(n));
		return;
	}
	for (size_t i = 0; i < k; i++) {
		if (*cnt >= CTW_FW_MAX_PORTS) {
			err_at(c, items[i], "too many port ranges in %s (at most %d)", what,
			       CTW_FW_MAX_PORTS);
			break;
		}
		if (parse_port_item(c, items[i], &out[*cnt]) == 0)
			(*cnt)++;
	}
	free(items);
}

static bool dns_name_valid(const char *s, char *why, size_t whylen)
{
	const char *p = s;
	size_t total = strlen(s);

	if (ctw_str_has_prefix(p, "*.")) {
		p += 2;
	}
	if (!*p) {
		snprintf(why, whylen, "empty DNS name");
		return false;
	}
	if (total > 253) {
		snprintf(why, whylen, "DNS name longer than 253 characters");
		return false;
	}
	size_t lab = 0;
	for (; *p; p++) {
		if (*p == '.') {
			if (lab == 0) {
				snprintf(why, whylen, "empty label in DNS name '%s'", s);
				return false;
			}
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			snprintf(why, whylen,
				 "invalid character '%c' in DNS name '%s' (a wildcard is only "
				 "allowed as a leading '*.')",
				 *p, s);
			return false;
		}
		if (++lab > 63) {
			snprintf(why, whylen, "label longer than 63 characters in '%s'", s);
			return false;
		}
	}
	if (lab == 0 && p[-1] == '.' && strlen(s) > 1) {
		/* a trailing dot ("fqdn.") is fine: stripped by the caller */
	}
	return true;
}

static void parse_match(struct pctx *c, yaml_node_t *n, struct ctw_pol_rule *r)
{
	if (n->type != YAML_MAPPING_NODE) {
		err_at(c, n, "match must be a mapping, not %s", type_name(n));
		return;
	}
	check_dup_keys(c, n);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = node(c, pr->key), *vn = node(c, pr->value);
		const char *k = want_scalar(c, kn, "a key");
		if (!k)
			continue;
		if (!strcmp(k, "cidrs") || !strcmp(k, "cidr")) {
			yaml_node_t **items;
			size_t cnt = seq_items(c, vn, &items);
			if (!items) {
				err_at(c, vn, "cidrs must be a list, not %s", type_name(vn));
				continue;
			}
			r->cidrs = xrealloc(r->cidrs, (r->n_cidrs + cnt + 1) * sizeof(*r->cidrs));
			for (size_t i = 0; i < cnt; i++) {
				const char *s = want_scalar(c, items[i], "a CIDR");
				char why[160];
				if (!s)
					continue;
				struct ctw_pol_cidr *cd = &r->cidrs[r->n_cidrs];
				if (ctw_pol_parse_cidr(s, cd, why, sizeof(why)) < 0) {
					err_at(c, items[i], "%s", why);
					continue;
				}
				cd->pos = pos_of(items[i]);
				r->n_cidrs++;
			}
			free(items);
		} else if (!strcmp(k, "protocol") || !strcmp(k, "proto")) {
			const char *s = want_scalar(c, vn, "protocol");
			if (!s)
				continue;
			if (!strcasecmp(s, "tcp"))
				r->proto = IPPROTO_TCP;
			else if (!strcasecmp(s, "udp"))
				r->proto = IPPROTO_UDP;
			else if (!strcasecmp(s, "icmp") || !strcasecmp(s, "icmpv6"))
				r->icmp = true;
			else if (!strcasecmp(s, "any"))
				r->proto = 0;
			else
				err_at(c, vn,
				       "unknown protocol '%s' (expected tcp, udp, icmp or any)", s);
		} else if (!strcmp(k, "ports") || !strcmp(k, "dst_ports") || !strcmp(k, "dports")) {
			parse_ports(c, vn, r->dports, &r->n_dports, k);
		} else if (!strcmp(k, "src_ports") || !strcmp(k, "sports")) {
			parse_ports(c, vn, r->sports, &r->n_sports, k);
		} else if (!strcmp(k, "dns")) {
			yaml_node_t **items;
			size_t cnt = seq_items(c, vn, &items);
			if (!items) {
				err_at(c, vn, "dns must be a list of names, not %s", type_name(vn));
				continue;
			}
			r->dns = xrealloc(r->dns, (r->n_dns + cnt + 1) * sizeof(*r->dns));
			for (size_t i = 0; i < cnt; i++) {
				const char *s = want_scalar(c, items[i], "a DNS name");
				char why[200];
				if (!s)
					continue;
				char *name = xstrdup(s);
				for (char *q = name; *q; q++)
					*q = (char)tolower((unsigned char)*q);
				size_t l = strlen(name);
				if (l > 1 && name[l - 1] == '.')
					name[l - 1] = '\0';
				if (!dns_name_valid(name, why, sizeof(why))) {
					err_at(c, items[i], "%s", why);
					free(name);
					continue;
				}
				r->dns[r->n_dns++] = name;
			}
			free(items);
		} else {
			err_at(c, kn,
			       "unknown key '%s' in match (expected cidrs, protocol, ports, "
			       "src_ports or dns)",
			       k);
		}
	}
}

static void parse_selector(struct pctx *c, yaml_node_t *n, struct ctw_pol_selector *sel)
{
	if (n->type == YAML_SCALAR_NODE) {
		/* containers: "web-*" is a name glob */
		if (!*scalar(n))
			err_at(c, n,
			       "empty container selector (use name: \"*\" for every container)");
		else
			sel->name = xstrdup(scalar(n));
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		err_at(c, n,
		       "containers must be a mapping (name, id, labels, pod, namespace, "
		       "cgroup), not %s",
		       type_name(n));
		return;
	}
	check_dup_keys(c, n);
	if (n->data.mapping.pairs.start == n->data.mapping.pairs.top)
		err_at(c, n, "empty container selector (use name: \"*\" for every container)");
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = node(c, pr->key), *vn = node(c, pr->value);
		const char *k = want_scalar(c, kn, "a key");
		char **dst = NULL;
		if (!k)
			continue;
		if (!strcmp(k, "name"))
			dst = &sel->name;
		else if (!strcmp(k, "id"))
			dst = &sel->id;
		else if (!strcmp(k, "pod"))
			dst = &sel->pod;
		else if (!strcmp(k, "namespace"))
			dst = &sel->namespace_;
		else if (!strcmp(k, "cgroup"))
			dst = &sel->cgroup;
		else if (!strcmp(k, "labels")) {
			if (vn->type != YAML_MAPPING_NODE) {
				err_at(c, vn, "labels must be a mapping of key: value");
				continue;
			}
			if (vn->data.mapping.pairs.top - vn->data.mapping.pairs.start >
			    CTW_POL_MAX_LABELS) {
				err_at(c, vn, "more than %d labels in a selector",
				       CTW_POL_MAX_LABELS);
				continue;
			}
			for (yaml_node_pair_t *lp = vn->data.mapping.pairs.start;
			     lp < vn->data.mapping.pairs.top; lp++) {
				const char *lk = want_scalar(c, node(c, lp->key), "a label key");
				const char *lv =
					want_scalar(c, node(c, lp->value), "a label value");
				if (!lk || !lv)
					continue;
				sel->labels = xrealloc(sel->labels,
						       (sel->n_labels + 1) * sizeof(*sel->labels));
				sel->labels[sel->n_labels++] = xasprintf("%s=%s", lk, lv);
			}
			continue;
		} else {
			err_at(c, kn,
			       "unknown key '%s' in containers (expected name, id, labels, pod, "
			       "namespace or cgroup)",
			       k);
			continue;
		}
		const char *v = want_scalar(c, vn, k);
		if (!v)
			continue;
		if (!*v) {
			err_at(c, vn, "empty %s", k);
			continue;
		}
		free(*dst); /* a duplicate key (already reported) must not leak the first */
		*dst = xstrdup(v);
	}
}

static void parse_rule(struct pctx *c, yaml_node_t *n, struct ctw_pol_rule *r)
{
	yaml_node_t *n_name = NULL, *n_action = NULL, *n_ifs = NULL, *n_ctr = NULL, *n_dir = NULL,
		    *n_match = NULL;

	memset(r, 0, sizeof(*r));
	r->pos = pos_of(n);
	r->dir = CTW_POL_INGRESS;
	if (n->type != YAML_MAPPING_NODE) {
		err_at(c, n, "a rule must be a mapping, not %s", type_name(n));
		return;
	}
	check_dup_keys(c, n);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = node(c, pr->key), *vn = node(c, pr->value);
		const char *k = want_scalar(c, kn, "a key");
		if (!k)
			continue;
		if (!strcmp(k, "name"))
			n_name = vn;
		else if (!strcmp(k, "action"))
			n_action = vn;
		else if (!strcmp(k, "interfaces"))
			n_ifs = vn;
		else if (!strcmp(k, "containers"))
			n_ctr = vn;
		else if (!strcmp(k, "direction"))
			n_dir = vn;
		else if (!strcmp(k, "match"))
			n_match = vn;
		else if (!strcmp(k, "description") || !strcmp(k, "comment"))
			continue;
		else
			err_at(c, kn,
			       "unknown key '%s' in rule (expected name, action, interfaces, "
			       "containers, direction, match, description)",
			       k);
	}

	if (!n_name) {
		err_at(c, n, "rule has no name");
		r->name = xasprintf("rule@%d", r->pos.line);
	} else {
		const char *s = want_scalar(c, n_name, "name");
		if (s && (!*s || strlen(s) >= 64))
			err_at(c, n_name, "rule name must be 1-63 characters");
		r->name = xstrdup(s ? s : "?");
	}
	if (!n_action)
		err_at(c, n, "rule '%s' has no action (allow or deny)", r->name);
	else
		parse_action(c, n_action, &r->action);

	if (n_ifs && n_ctr) {
		err_at(c, n_ctr, "rule '%s' names both interfaces and containers: pick one scope",
		       r->name);
	} else if (!n_ifs && !n_ctr) {
		err_at(c, n, "rule '%s' has no scope (interfaces: [...] or containers: {...})",
		       r->name);
	}
	if (n_ifs) {
		yaml_node_t **items;
		size_t cnt = seq_items(c, n_ifs, &items);
		r->scope = CTW_POL_SCOPE_XDP;
		if (!items || cnt == 0) {
			err_at(c, n_ifs, "interfaces must be a non-empty list of interface names");
		}
		for (size_t i = 0; i < cnt; i++) {
			const char *s = want_scalar(c, items[i], "an interface name");
			if (!s)
				continue;
			if (!*s || strlen(s) >= 16 || strchr(s, '/')) {
				err_at(c, items[i], "invalid interface name '%s'", s);
				continue;
			}
			if (r->n_ifaces >= CTW_FW_MAX_IFS) {
				err_at(c, items[i], "too many interfaces (at most %d per rule)",
				       CTW_FW_MAX_IFS);
				break;
			}
			bool dup = false;
			for (size_t j = 0; j < r->n_ifaces; j++)
				dup |= !strcmp(r->ifaces[j], s);
			if (dup)
				continue;
			r->ifaces = xrealloc(r->ifaces, (r->n_ifaces + 1) * sizeof(*r->ifaces));
			r->ifaces[r->n_ifaces++] = xstrdup(s);
		}
		free(items);
	}
	if (n_ctr) {
		r->scope = CTW_POL_SCOPE_CONTAINER;
		parse_selector(c, n_ctr, &r->sel);
	}
	if (n_dir) {
		const char *s = want_scalar(c, n_dir, "direction");
		if (s && !strcmp(s, "ingress"))
			r->dir = CTW_POL_INGRESS;
		else if (s && !strcmp(s, "egress"))
			r->dir = CTW_POL_EGRESS;
		else if (s)
			err_at(c, n_dir, "unknown direction '%s' (expected ingress or egress)", s);
		if (n_ifs && r->dir == CTW_POL_EGRESS)
			err_at(c, n_dir,
			       "interface rules filter ingress only (XDP); direction egress is "
			       "not supported there");
	} else if (n_ctr) {
		err_at(c, n, "container rule '%s' needs a direction (ingress or egress)", r->name);
	}
	if (n_match)
		parse_match(c, n_match, r);

	/* Combinations that cannot mean anything. */
	if ((r->n_dports || r->n_sports) && r->icmp)
		err_at(c, n_match ? n_match : n, "rule '%s': ICMP has no ports", r->name);
	if (r->n_dns) {
		if (r->scope != CTW_POL_SCOPE_CONTAINER || r->dir != CTW_POL_EGRESS)
			err_at(c, n_match, "rule '%s': dns names only apply to container egress",
			       r->name);
		if (r->n_cidrs || r->n_dports || r->n_sports || r->proto || r->icmp)
			err_at(c, n_match,
			       "rule '%s': dns cannot be combined with cidrs, protocol or ports "
			       "(it matches the DNS queries for those names); use two rules",
			       r->name);
	}
}

/* ---- cross-rule checks ---- */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static bool same_selector(const struct ctw_pol_selector *a, const struct ctw_pol_selector *b)
{
	if (!str_eq(a->name, b->name) || !str_eq(a->id, b->id) || !str_eq(a->pod, b->pod) ||
	    !str_eq(a->namespace_, b->namespace_) || !str_eq(a->cgroup, b->cgroup) ||
	    a->n_labels != b->n_labels)
		return false;
	for (size_t i = 0; i < a->n_labels; i++)
		if (!str_eq(a->labels[i], b->labels[i]))
			return false;
	return true;
}

static bool ranges_cover(const struct ctw_pol_range *a, size_t na, const struct ctw_pol_range *b,
			 size_t nb)
{
	if (na == 0)
		return true;
	if (nb == 0)
		return false;
	for (size_t i = 0; i < nb; i++) {
		bool in = false;
		for (size_t j = 0; j < na && !in; j++)
			in = b[i].lo >= a[j].lo && b[i].hi <= a[j].hi;
		if (!in)
			return false;
	}
	return true;
}

bool ctw_pol_dns_match(const char *pattern, const char *name)
{
	if (ctw_str_has_prefix(pattern, "*.")) {
		const char *suf = pattern + 1; /* ".x.y" */
		size_t ls = strlen(suf), ln = strlen(name);
		return ln > ls && !strcmp(name + ln - ls, suf);
	}
	return !strcmp(pattern, name);
}

/*
 * Which earlier rules cover all of a rule's DNS names, and all of its CIDRs:
 * per rule, a set of earlier rules (bits, CTW_FW_MAX_RULES of them), made
 * from one index of every rule's DNS patterns (a hash map: pattern -> the
 * rules naming it, and once asked, the rules covering it) and one of every
 * rule's prefixes (pfxset), so that the whole check is linear in the
 * number of names and prefixes (times the labels of a name, the bits of a
 * prefix), not a comparison of every name with every other one.
 */
struct rule_bits {
	uint64_t w[(MAX_RULES + 63) / 64];
};

static void bits_set(struct rule_bits *b, size_t i)
{
	b->w[i / 64] |= 1ULL << (i % 64);
}

static bool bits_test(const struct rule_bits *b, size_t i)
{
	return b->w[i / 64] >> (i % 64) & 1;
}

static void bits_or(struct rule_bits *acc, const uint64_t *m)
{
	for (size_t w = 0; w < ARRAY_SIZE(acc->w); w++)
		acc->w[w] |= m[w];
}

static bool bits_and(struct rule_bits *acc, const struct rule_bits *m)
{
	uint64_t any = 0;
	for (size_t w = 0; w < ARRAY_SIZE(acc->w); w++)
		any |= acc->w[w] &= m->w[w];
	return any != 0;
}

/* The rules before i. */
static struct rule_bits bits_before(size_t i)
{
	struct rule_bits b = {{0}};
	for (size_t k = 0; k < i; k++)
		bits_set(&b, k);
	return b;
}

struct pattern {
	struct rule_bits named_by; /* rules with exactly this pattern */
	struct rule_bits covered;  /* rules with a pattern covering it */
	bool covered_known;
};

struct covers_index {
	struct pol_strmap map; /* DNS pattern -> index in patterns */
	struct pattern *patterns;
	struct pfxset prefixes; /* every rule's CIDRs, bits: rules */
	struct rule_bits *dns;	/* [rule]: earlier rules covering all its names */
	struct rule_bits *cidr; /* [rule]: earlier rules covering all its CIDRs */
};

static void rules_with(struct covers_index *x, const char *pattern, struct rule_bits *m)
{
	size_t *i = pol_strmap_get(&x->map, pattern, false);
	if (i)
		bits_or(m, x->patterns[*i].named_by.w);
}

/* The rules with a pattern that matches every name `pattern` stands for:
 * the pattern itself, or "*.S" for S a proper suffix of its name ("x.y.z"
 * and "*.y.z" are both covered by "*.z", "*.y.z" by "*.y.z", "x.y" only by
 * "x.y" and the wildcards above it; a plain "y.z" covers nothing below). */
static const struct rule_bits *rules_covering(struct covers_index *x, const char *pattern)
{
	struct pattern *pt = &x->patterns[*pol_strmap_get(&x->map, pattern, false)];
	if (pt->covered_known)
		return &pt->covered;
	const char *base = ctw_str_has_prefix(pattern, "*.") ? pattern + 2 : pattern;
	char wild[260]; /* names are at most 253 characters */
	pt->covered = pt->named_by;
	for (const char *dot = strchr(base, '.'); dot; dot = strchr(dot + 1, '.')) {
		snprintf(wild, sizeof(wild), "*%s", dot);
		rules_with(x, wild, &pt->covered);
	}
	pt->covered_known = true;
	return &pt->covered;
}

/* The earlier rules covering every CIDR of rule b. */
static struct rule_bits cidrs_covered(struct covers_index *x, const struct ctw_pol_rule *b,
				      size_t bi)
{
	struct rule_bits acc = bits_before(bi);
	for (size_t k = 0; k < b->n_cidrs; k++) {
		/* every prefix of the CIDR that a rule names */
		const struct ctw_pol_cidr *cb = &b->cidrs[k];
		struct rule_bits m = {{0}};
		for (int pl = cb->plen; pl >= 0; pl--) {
			struct pfx_key key = {.family = cb->family, .plen = (uint8_t)pl};
			memcpy(key.addr, cb->addr, 16);
			pfx_mask(key.addr, cb->family, pl);
			struct pfx_ent *e = pfxset_get(&x->prefixes, &key, false);
			if (e)
				bits_or(&m, e->bits);
		}
		if (!bits_and(&acc, &m))
			break;
	}
	return acc;
}

static void covers_index_build(struct covers_index *x, const struct ctw_policy *p)
{
	size_t total = 0, total_cidrs = 0, n_patterns = 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		total += p->rules[i].n_dns;
		total_cidrs += p->rules[i].n_cidrs;
	}
	x->patterns = xcalloc(total + 1, sizeof(*x->patterns));
	pfxset_init(&x->prefixes, total_cidrs);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ctw_pol_rule *r = &p->rules[i];
		for (size_t k = 0; k < r->n_dns; k++) {
			size_t *v = pol_strmap_get(&x->map, r->dns[k], true);
			if (x->map.n > n_patterns)
				*v = n_patterns++;
			bits_set(&x->patterns[*v].named_by, i);
		}
		for (size_t k = 0; k < r->n_cidrs; k++) {
			const struct ctw_pol_cidr *cd = &r->cidrs[k];
			struct pfx_key key = {.family = cd->family, .plen = cd->plen};
			memcpy(key.addr, cd->addr, 16);
			struct pfx_ent *e = pfxset_get(&x->prefixes, &key, true);
			e->bits[i / 64] |= 1ULL << (i % 64);
		}
	}
	x->dns = xcalloc(p->n_rules + 1, sizeof(*x->dns));
	x->cidr = xcalloc(p->n_rules + 1, sizeof(*x->cidr));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ctw_pol_rule *b = &p->rules[i];
		struct rule_bits acc = bits_before(i);
		for (size_t k = 0; k < b->n_dns && bits_and(&acc, rules_covering(x, b->dns[k]));
		     k++)
			;
		if (b->n_dns)
			x->dns[i] = acc;
		if (b->n_cidrs)
			x->cidr[i] = cidrs_covered(x, b, i);
	}
}

static void covers_index_free(struct covers_index *x)
{
	pol_strmap_fini(&x->map);
	free(x->patterns);
	pfxset_fini(&x->prefixes);
	free(x->dns);
	free(x->cidr);
}

/* Does the earlier rule ai match every packet rule bi matches? */
static bool covers(const struct ctw_policy *p, const struct covers_index *x, size_t ai, size_t bi)
{
	const struct ctw_pol_rule *a = &p->rules[ai], *b = &p->rules[bi];
	if (a->scope != b->scope)
		return false;
	if (a->scope == CTW_POL_SCOPE_XDP) {
		for (size_t i = 0; i < b->n_ifaces; i++) {
			bool in = false;
			for (size_t j = 0; j < a->n_ifaces && !in; j++)
				in = !strcmp(a->ifaces[j], b->ifaces[i]);
			if (!in)
				return false;
		}
	} else if (a->dir != b->dir || !same_selector(&a->sel, &b->sel)) {
		return false;
	}
	if (a->n_dns || b->n_dns)
		return a->n_dns && b->n_dns && bits_test(&x->dns[bi], ai);
	/* protocol */
	if (a->icmp) {
		if (!b->icmp)
			return false;
	} else if (a->proto) {
		if (b->icmp || b->proto != a->proto)
			return false;
	} else if (a->n_dports || a->n_sports) {
		/* "any" with ports only matches TCP and UDP */
		if (b->icmp || (b->proto != IPPROTO_TCP && b->proto != IPPROTO_UDP))
			return false;
	}
	if (!ranges_cover(a->dports, a->n_dports, b->dports, b->n_dports) ||
	    !ranges_cover(a->sports, a->n_sports, b->sports, b->n_sports))
		return false;
	/* addresses */
	if (a->n_cidrs == 0)
		return true;
	return b->n_cidrs && bits_test(&x->cidr[bi], ai);
}

static void validate(struct pctx *c)
{
	struct ctw_policy *p = c->p;

	struct named *names = xcalloc(p->n_rules + 1, sizeof(*names));
	for (size_t i = 0; i < p->n_rules; i++)
		names[i] = (struct named){p->rules[i].name, i};
	size_t *first = first_of(names, p->n_rules, p->n_rules);
	for (size_t i = 0; i < p->n_rules; i++)
		if (first[i] != i)
			err_pos(c, true, p->rules[i].pos,
				"duplicate rule name '%s' (first at line %d)", p->rules[i].name,
				p->rules[first[i]].pos.line);
	free(first);
	free(names);

	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].n_dns && p->rules[i].action == CTW_POL_ALLOW &&
		    p->def_egress == CTW_POL_ALLOW)
			err_pos(c, false, p->rules[i].pos,
				"rule '%s' allows DNS names, which only restricts anything with "
				"default: {egress: deny} (allow-list mode)",
				p->rules[i].name);

	/* Per rule, one message: the first earlier rule that contradicts it
	 * (an error), else the first that makes it redundant (a warning). */
	struct covers_index x = {0};
	covers_index_build(&x, p);
	for (size_t i = 1; i < p->n_rules; i++) {
		const struct ctw_pol_rule *b = &p->rules[i], *same = NULL, *other = NULL;
		for (size_t j = 0; j < i && !other; j++) {
			if (!covers(p, &x, j, i))
				continue;
			if (p->rules[j].action != b->action)
				other = &p->rules[j];
			else if (!same)
				same = &p->rules[j];
		}
		const struct ctw_pol_rule *a = other;
		if (other)
			err_pos(c, true, b->pos,
				"rule '%s' contradicts rule '%s' (line %d): every packet it "
				"matches is already %s there, so its %s can never apply",
				b->name, a->name, a->pos.line,
				a->action == CTW_POL_DENY ? "denied" : "allowed",
				b->action == CTW_POL_DENY ? "deny" : "allow");
		else if ((a = same))
			err_pos(c, false, b->pos,
				"rule '%s' is redundant: rule '%s' (line %d) already %s every "
				"packet it matches",
				b->name, a->name, a->pos.line,
				a->action == CTW_POL_DENY ? "denies" : "allows");
	}
	covers_index_free(&x);
}

static void parse_defaults(struct pctx *c, yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE) {
		enum ctw_pol_action a;
		if (parse_action(c, n, &a) == 0)
			c->p->def_xdp = c->p->def_egress = c->p->def_ingress = a;
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		err_at(c, n, "default must be a mapping (interfaces, egress, ingress)");
		return;
	}
	check_dup_keys(c, n);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = node(c, pr->key), *vn = node(c, pr->value);
		const char *k = want_scalar(c, kn, "a key");
		if (!k)
			continue;
		if (!strcmp(k, "interfaces") || !strcmp(k, "xdp"))
			parse_action(c, vn, &c->p->def_xdp);
		else if (!strcmp(k, "egress"))
			parse_action(c, vn, &c->p->def_egress);
		else if (!strcmp(k, "ingress"))
			parse_action(c, vn, &c->p->def_ingress);
		else if (!strcmp(k, "containers")) {
			enum ctw_pol_action a;
			if (parse_action(c, vn, &a) == 0)
				c->p->def_egress = c->p->def_ingress = a;
		} else
			err_at(c, kn,
			       "unknown key '%s' in default (expected interfaces, containers, "
			       "egress or ingress)",
			       k);
	}
}

int ctw_policy_parse(const char *path, const char *text, size_t len, struct ctw_policy **out,
		     struct ctw_pol_diags *d)
{
	yaml_document_t doc;
	struct pol_load_error le = {0};
	struct ctw_policy *p = xcalloc(1, sizeof(*p));
	struct pctx c = {.path = path, .d = d, .doc = &doc, .p = p};
	size_t errors0 = d->n_errors;

	*out = NULL;
	p->path = xstrdup(path);
	p->hash = pol_fnv1a(text, len);
	int r = pol_yaml_load(text, len, &doc, &le);
	if (r < 0) {
		err_pos(&c, true, (struct ctw_pol_pos){le.line, le.col}, "%s",
			le.msg[0] ? le.msg : strerror(-r));
		ctw_policy_free(p);
		return r == -ENOMEM ? r : -EINVAL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || (root->type == YAML_SCALAR_NODE && !*scalar(root))) {
		err_pos(&c, true, (struct ctw_pol_pos){1, 1},
			"empty policy (expected a mapping with 'rules:')");
		goto done;
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_at(&c, root, "a policy must be a mapping with 'rules:', not %s",
		       type_name(root));
		goto done;
	}
	check_dup_keys(&c, root);
	yaml_node_t *rules = NULL;
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = node(&c, pr->key), *vn = node(&c, pr->value);
		const char *k = want_scalar(&c, kn, "a key");
		if (!k)
			continue;
		if (!strcmp(k, "rules"))
			rules = vn;
		else if (!strcmp(k, "default") || !strcmp(k, "defaults"))
			parse_defaults(&c, vn);
		else if (!strcmp(k, "version")) {
			const char *v = want_scalar(&c, vn, "version");
			if (v && strcmp(v, "1"))
				err_at(&c, vn,
				       "unsupported policy version '%s' (this ctrwatch reads 1)",
				       v);
		} else
			err_at(&c, kn, "unknown key '%s' (expected rules, default or version)", k);
	}
	if (!rules) {
		err_at(&c, root, "policy has no 'rules:' list");
		goto done;
	}
	if (rules->type == YAML_SCALAR_NODE && !*scalar(rules)) {
		/* "rules:" with nothing: an empty policy is valid (allow all). */
	} else if (rules->type != YAML_SEQUENCE_NODE) {
		err_at(&c, rules, "rules must be a list, not %s", type_name(rules));
	} else {
		/* pol_yaml_load stopped at the rule past MAX_RULES already */
		size_t n =
			(size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start);
		p->rules = xcalloc(n ? n : 1, sizeof(*p->rules));
		for (size_t i = 0; i < n; i++) {
			parse_rule(&c, node(&c, rules->data.sequence.items.start[i]), &p->rules[i]);
			p->n_rules++;
		}
	}
	if (d->n_errors == errors0)
		validate(&c);
done:
	yaml_document_delete(&doc);
	if (d->n_errors != errors0) {
		ctw_policy_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

int ctw_policy_load(const char *path, struct ctw_policy **out, struct ctw_pol_diags *d)
{
	struct pctx c = {.path = path, .d = d};
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	/* Read one byte past the limit, so that parsing can say where the
	 * file goes past it; never more (/dev/zero ends there).  Opening does
	 * not wait for a FIFO's writer; reading a pipe waits for its data. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
	} else {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		text = xmalloc(CTW_POL_MAX_BYTES + 2);
		r = 0;
		while (len <= CTW_POL_MAX_BYTES) {
			ssize_t n = read(fd, text + len, CTW_POL_MAX_BYTES + 1 - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : 0;
				break;
			}
			len += (size_t)n;
		}
		close(fd);
	}
	if (r < 0) {
		err_pos(&c, true, (struct ctw_pol_pos){0, 0}, "cannot read: %s", strerror(-r));
		free(text);
		return r;
	}
	r = ctw_policy_parse(path, text, len, out, d);
	free(text);
	return r;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ctw_policy_free(struct ctw_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		struct ctw_pol_rule *r = &p->rules[i];
		free(r->name);
		free_strv(r->ifaces, r->n_ifaces);
		free(r->sel.name);
		free(r->sel.id);
		free(r->sel.pod);
		free(r->sel.namespace_);
		free(r->sel.cgroup);
		free_strv(r->sel.labels, r->sel.n_labels);
		free(r->cidrs);
		free_strv(r->dns, r->n_dns);
	}
	free(p->rules);
	free(p->path);
	free(p);
}

/* ---- writing YAML back ---- */

static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
			continue;
		}
		if (c == '"' || c == '\\')
			fputc('\\', f);
		fputc(c, f);
	}
	fputc('"', f);
}

static void write_ranges(FILE *f, const char *key, const struct ctw_pol_range *r, size_t n)
{
	if (!n)
		return;
	fprintf(f, "      %s: [", key);
	for (size_t i = 0; i < n; i++) {
		if (r[i].lo == r[i].hi)
			fprintf(f, "%s%u", i ? ", " : "", r[i].lo);
		else
			fprintf(f, "%s\"%u-%u\"", i ? ", " : "", r[i].lo, r[i].hi);
	}
	fputs("]\n", f);
}

void ctw_policy_write_yaml(const struct ctw_policy *p, FILE *f)
{
	static const char *act[] = {"allow", "deny"};

	fprintf(f, "default:\n  interfaces: %s\n  egress: %s\n  ingress: %s\nrules:\n",
		act[p->def_xdp], act[p->def_egress], act[p->def_ingress]);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ctw_pol_rule *r = &p->rules[i];
		fputs("  - name: ", f);
		yq(f, r->name);
		fprintf(f, "\n    action: %s\n", act[r->action]);
		if (r->scope == CTW_POL_SCOPE_XDP) {
			fputs("    interfaces: [", f);
			for (size_t k = 0; k < r->n_ifaces; k++) {
				if (k)
					fputs(", ", f);
				yq(f, r->ifaces[k]);
			}
			fputs("]\n", f);
		} else {
			const struct ctw_pol_selector *s = &r->sel;
			fputs("    containers: {", f);
			const char *keys[] = {"name", "id", "pod", "namespace", "cgroup"};
			const char *vals[] = {s->name, s->id, s->pod, s->namespace_, s->cgroup};
			bool first = true;
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
				if (!vals[k])
					continue;
				fprintf(f, "%s%s: ", first ? "" : ", ", keys[k]);
				yq(f, vals[k]);
				first = false;
			}
			if (s->n_labels) {
				fprintf(f, "%slabels: {", first ? "" : ", ");
				for (size_t k = 0; k < s->n_labels; k++) {
					char *kv = xstrdup(s->labels[k]), *eq = strchr(kv, '=');
					if (eq)
						*eq++ = '\0';
					fprintf(f, "%s", k ? ", " : "");
					yq(f, kv);
					fputs(": ", f);
					yq(f, eq ? eq : "");
					free(kv);
				}
				fputs("}", f);
			}
			fprintf(f, "}\n    direction: %s\n",
				r->dir == CTW_POL_EGRESS ? "egress" : "ingress");
		}
		fputs("    match:\n", f);
		if (r->n_cidrs) {
			fputs("      cidrs: [", f);
			for (size_t k = 0; k < r->n_cidrs; k++) {
				char b[64];
				pol_format_cidr(&r->cidrs[k], b, sizeof(b));
				fprintf(f, "%s\"%s\"", k ? ", " : "", b);
			}
			fputs("]\n", f);
		}
		if (r->icmp)
			fputs("      protocol: icmp\n", f);
		else if (r->proto)
			fprintf(f, "      protocol: %s\n", r->proto == IPPROTO_TCP ? "tcp" : "udp");
		write_ranges(f, "ports", r->dports, r->n_dports);
		write_ranges(f, "src_ports", r->sports, r->n_sports);
		if (r->n_dns) {
			fputs("      dns: [", f);
			for (size_t k = 0; k < r->n_dns; k++) {
				if (k)
					fputs(", ", f);
				yq(f, r->dns[k]);
			}
			fputs("]\n", f);
		}
		if (!r->n_cidrs && !r->icmp && !r->proto && !r->n_dports && !r->n_sports &&
		    !r->n_dns)
			fputs("      {}\n", f);
	}
}

void pol_rule_summary(const struct ctw_pol_rule *r, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	if (!f) {
		buf[0] = '\0';
		return;
	}
	if (r->n_cidrs) {
		char b[64];
		pol_format_cidr(&r->cidrs[0], b, sizeof(b));
		fprintf(f, "cidrs=%s", b);
		if (r->n_cidrs > 1)
			fprintf(f, "(+%zu)", r->n_cidrs - 1);
		fputc(' ', f);
	}
	if (r->icmp)
		fputs("proto=icmp ", f);
	else if (r->proto)
		fprintf(f, "proto=%s ", r->proto == IPPROTO_TCP ? "tcp" : "udp");
	for (int side = 0; side < 2; side++) {
		const struct ctw_pol_range *rg = side ? r->sports : r->dports;
		size_t n = side ? r->n_sports : r->n_dports;
		if (!n)
			continue;
		fputs(side ? "sports=" : "ports=", f);
		for (size_t i = 0; i < n; i++) {
			if (rg[i].lo == rg[i].hi)
				fprintf(f, "%s%u", i ? "," : "", rg[i].lo);
			else
				fprintf(f, "%s%u-%u", i ? "," : "", rg[i].lo, rg[i].hi);
		}
		fputc(' ', f);
	}
	for (size_t i = 0; i < r->n_dns; i++)
		fprintf(f, "%s%s", i ? "," : "dns=", r->dns[i]);
	fclose(f);
	size_t l = strlen(buf);
	while (l && buf[l - 1] == ' ')
		buf[--l] = '\0';
	if (!l)
		ctw_strlcpy(buf, "any", size);
}
