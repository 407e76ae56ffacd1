// SPDX-License-Identifier: Apache-2.0
/* Unit tests for policy/: parser, diagnostics (FILE:LINE:COL), validation
 * (contradictions), compilation (LPM contents, DNS hashes), YAML round trip,
 * the bounds on the input (size, encoding, nesting, nodes, rules, one
 * document), DNS coverage and large policies.  Fixtures: tests/unit/policy/. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/lib.h"
#include "../../policy/policy.h"
#include "../../bpf/cgroup_fw.h"

static char *fixture(const char *name)
{
	const char *src = getenv("CTW_SRC");
	return xasprintf("%s/tests/unit/policy/%s", src ? src : ".", name);
}

static struct ctw_policy *load_ok(const char *name)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p = NULL;
	char *path = fixture(name);
	int r = ctw_policy_load(path, &p, &d);
	if (r < 0)
		ctw_pol_diags_print(&d, stderr);
	assert_int_equal(r, 0);
	assert_non_null(p);
	assert_int_equal(d.n_errors, 0);
	ctw_pol_diags_fini(&d);
	free(path);
	return p;
}

static void test_example(void **state)
{
	struct ctw_policy *p = load_ok("example.yaml");
	assert_int_equal(p->n_rules, 3);

	const struct ctw_pol_rule *r = &p->rules[0];
	assert_string_equal(r->name, "block-scanner");
	assert_int_equal(r->action, CTW_POL_DENY);
	assert_int_equal(r->scope, CTW_POL_SCOPE_XDP);
	assert_int_equal(r->n_ifaces, 1);
	assert_string_equal(r->ifaces[0], "eth0");
	assert_int_equal(r->n_cidrs, 2);
	assert_int_equal(r->cidrs[0].family, AF_INET);
	assert_int_equal(r->cidrs[0].plen, 24);
	assert_int_equal(r->cidrs[1].family, AF_INET6);
	assert_int_equal(r->cidrs[1].plen, 32);
	assert_int_equal(r->cidrs[0].pos.line, 6);
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->n_dports, 2);
	assert_int_equal(r->dports[0].lo, 22);
	assert_int_equal(r->dports[0].hi, 22);
	assert_int_equal(r->dports[1].lo, 8000);
	assert_int_equal(r->dports[1].hi, 8100);

	r = &p->rules[1];
	assert_int_equal(r->scope, CTW_POL_SCOPE_CONTAINER);
	assert_int_equal(r->dir, CTW_POL_EGRESS);
	assert_string_equal(r->sel.name, "web-*");
	assert_int_equal(r->n_cidrs, 1);
	assert_int_equal(r->cidrs[0].plen, 32);

	r = &p->rules[2];
	assert_string_equal(r->sel.namespace_, "prod");
	assert_int_equal(r->n_dns, 1);
	assert_string_equal(r->dns[0], "*.evil.test");
	assert_int_equal(p->def_xdp, CTW_POL_ALLOW);
	assert_int_equal(p->def_egress, CTW_POL_ALLOW);
	ctw_policy_free(p);
}

static void test_full(void **state)
{
	struct ctw_policy *p = load_ok("good-full.yaml");
	assert_int_equal(p->n_rules, 7);
	assert_int_equal(p->def_xdp, CTW_POL_DENY);
	assert_int_equal(p->def_egress, CTW_POL_ALLOW);
	assert_int_equal(p->def_ingress, CTW_POL_DENY);
	assert_true(p->rules[2].icmp);
	assert_int_equal(p->rules[3].n_sports, 1);
	assert_int_equal(p->rules[3].sports[0].lo, 53);
	assert_int_equal(p->rules[4].sel.n_labels, 1);
	assert_string_equal(p->rules[4].sel.labels[0], "tier=front");
	/* DNS names are lower-cased and lose a trailing dot */
	assert_string_equal(p->rules[6].dns[1], "*.evil.test");
	ctw_policy_free(p);
}

/* Each bad fixture: its first diagnostic, exactly where it belongs. */
static void test_errors(void **state)
{
	static const struct {
		const char *file;
		const char *where; /* ":LINE:COL: " */
		const char *what;
	} cases[] = {
		{"bad-syntax.yaml", ":4:15: ", "did not find expected ',' or ']'"},
		{"bad-unknown-key.yaml", ":7:7: ", "unknown key 'portz' in match"},
		{"bad-cidr.yaml", ":6:27: ", "host bits set in '192.168.1.1/24'"},
		{"bad-port.yaml", ":7:19: ", "port range '9000-8000' is empty"},
		{"bad-contradiction.yaml",
		 ":8:5: ", "rule 'allow-ten-one' contradicts rule 'deny-ten' (line 3)"},
		{"bad-dns-contradiction.yaml",
		 ":8:5: ", "rule 'allow-www-evil' contradicts rule 'deny-evil'"},
		{"bad-dns-ingress.yaml",
		 ":7:7: ", "rule 'x': dns names only apply to container egress"},
		{"bad-dup-name.yaml", ":6:5: ", "duplicate rule name 'same' (first at line 2)"},
		{"bad-both-scopes.yaml",
		 ":5:17: ", "rule 'x' names both interfaces and containers"},
		{"bad-dns-name.yaml", ":7:24: ", "invalid character '*' in DNS name 'bad*.test'"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ctw_pol_diags d = {0};
		struct ctw_policy *p = NULL;
		char *path = fixture(cases[i].file);
		int r = ctw_policy_load(path, &p, &d);
		assert_int_equal(r, -EINVAL);
		assert_null(p);
		assert_true(d.n_errors >= 1);
		char *want = xasprintf("%s%s%s", path, cases[i].where, cases[i].what);
		const char *first = d.msgs[0]; /* the first error, past warnings */
		for (size_t k = 0; k < d.n && strstr(first, ": warning: "); k++)
			first = d.msgs[k];
		if (strncmp(first, want, strlen(want))) {
			print_error("%s\n  got:  %s\n  want: %s...\n", cases[i].file, first, want);
			fail();
		}
		free(want);
		free(path);
		ctw_pol_diags_fini(&d);
	}
}

static void test_collects_all_errors(void **state)
{
	const char *text = "rules:\n"
			   "  - name: a\n"
			   "    action: nope\n"
			   "    interfaces: [eth0]\n"
			   "    match: {protocol: sctp, ports: [70000]}\n"
			   "  - action: deny\n"
			   "    interfaces: [eth0]\n";
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	assert_int_equal(ctw_policy_parse("mem.yaml", text, strlen(text), &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 4);
	assert_string_equal(d.msgs[0],
			    "mem.yaml:3:13: unknown action 'nope' (expected allow or deny)");
	assert_string_equal(
		d.msgs[1],
		"mem.yaml:5:23: unknown protocol 'sctp' (expected tcp, udp, icmp or any)");
	assert_string_equal(d.msgs[2],
			    "mem.yaml:5:37: invalid port '70000' (expected N or LO-HI, 0-65535)");
	assert_string_equal(d.msgs[3], "mem.yaml:6:5: rule has no name");
	ctw_pol_diags_fini(&d);

	/* empty and non-mapping documents */
	assert_int_equal(ctw_policy_parse("e.yaml", "", 0, &p, &d), -EINVAL);
	assert_string_equal(d.msgs[0],
			    "e.yaml:1:1: empty policy (expected a mapping with 'rules:')");
	ctw_pol_diags_fini(&d);
	assert_int_equal(ctw_policy_parse("l.yaml", "- a\n", 4, &p, &d), -EINVAL);
	assert_string_equal(d.msgs[0],
			    "l.yaml:1:1: a policy must be a mapping with 'rules:', not a list");
	ctw_pol_diags_fini(&d);
	/* an empty rule list is a valid (allow-all) policy */
	assert_int_equal(ctw_policy_parse("z.yaml", "rules: []\n", 10, &p, &d), 0);
	assert_int_equal(p->n_rules, 0);
	ctw_policy_free(p);
}

static void test_redundant_is_warning(void **state)
{
	const char *text =
		"rules:\n"
		"  - {name: a, action: deny, interfaces: [eth0], match: {cidrs: [10.0.0.0/8]}}\n"
		"  - {name: b, action: deny, interfaces: [eth0], match: {cidrs: [10.1.0.0/16]}}\n"
		"  - {name: c, action: allow, interfaces: [eth1], match: {cidrs: [10.1.0.0/16]}}\n"
		"  - {name: d, action: allow, interfaces: [eth0], match: {cidrs: [11.0.0.0/8]}}\n";
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	assert_int_equal(ctw_policy_parse("w.yaml", text, strlen(text), &p, &d), 0);
	assert_int_equal(d.n_errors, 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "w.yaml:3:5: warning: rule 'b' is redundant"));
	ctw_pol_diags_fini(&d);
	ctw_policy_free(p);
}

static void test_cidr_parse(void **state)
{
	struct ctw_pol_cidr c;
	char why[128];
	assert_int_equal(ctw_pol_parse_cidr("10.1.2.3", &c, why, sizeof(why)), 0);
	assert_int_equal(c.plen, 32);
	assert_int_equal(ctw_pol_parse_cidr("::/0", &c, why, sizeof(why)), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.plen, 0);
	assert_int_equal(ctw_pol_parse_cidr("10.0.0.0/33", &c, why, sizeof(why)), -EINVAL);
	assert_int_equal(ctw_pol_parse_cidr("10.0.0/8", &c, why, sizeof(why)), -EINVAL);
	assert_int_equal(ctw_pol_parse_cidr("2001:db8::1/32", &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "did you mean 2001:db8::/32"));
}

static void test_dns_match(void **state)
{
	assert_true(ctw_pol_dns_match("*.evil.test", "www.evil.test"));
	assert_true(ctw_pol_dns_match("*.evil.test", "a.b.evil.test"));
	assert_false(ctw_pol_dns_match("*.evil.test", "evil.test"));
	assert_false(ctw_pol_dns_match("*.evil.test", "notevil.test"));
	assert_true(ctw_pol_dns_match("x.test", "x.test"));
	assert_false(ctw_pol_dns_match("x.test", "y.x.test"));
}

/* The kernel's two-pass suffix hashing (bpf/cgroup_fw.bpf.c), in C. */
static int kernel_dns_lookup(const uint8_t *wire, size_t n, const uint64_t *hashes,
			     const uint8_t *flags, size_t nh)
{
	uint64_t g = 0, pw = 1, ipw = 1, gend;
	size_t len = 0, next = 0;
	uint8_t name[256];
	int best = -1;

	memcpy(name, wire, n);
	for (size_t k = 0; k < n; k++) {
		uint8_t c = name[k];
		if (k == next)
			next = k + 1 + c;
		else if (c >= 'A' && c <= 'Z')
			name[k] = c = (uint8_t)(c + 32);
		g += c * pw;
		pw *= CTW_DNS_HASH_B;
		if (k + 1 == next && c == 0) {
			len = k + 1;
			break;
		}
	}
	gend = g;
	g = 0;
	pw = 1;
	next = 0;
	for (size_t k = 0; k + 1 < len; k++) {
		uint8_t c = name[k];
		if (k == next) {
			uint64_t h = (gend - g) * ipw;
			for (size_t i = 0; i < nh; i++)
				if (hashes[i] == h && ((k == 0 && (flags[i] & CTW_DNS_F_EXACT)) ||
						       (k > 0 && (flags[i] & CTW_DNS_F_WILD))))
					best = best < 0 || (int)i < best ? (int)i : best;
			next = k + 1 + c;
		}
		g += c * pw;
		pw *= CTW_DNS_HASH_B;
		ipw *= CTW_DNS_HASH_B_INV;
	}
	return best;
}

static size_t to_wire(const char *name, uint8_t *out)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static void test_dns_hash(void **state)
{
	assert_true(CTW_DNS_HASH_B * CTW_DNS_HASH_B_INV == 1);
	uint64_t h[2] = {ctw_pol_dns_hash("evil.test"), ctw_pol_dns_hash("exact.bad.test")};
	uint8_t fl[2] = {CTW_DNS_F_WILD, CTW_DNS_F_EXACT};
	uint8_t w[256];
	size_t n;

	assert_int_equal(ctw_pol_dns_hash("EVIL.Test"), h[0]);
	n = to_wire("www.evil.test", w);
	assert_int_equal(kernel_dns_lookup(w, n, h, fl, 2), 0);
	n = to_wire("a.b.c.EVIL.test", w);
	assert_int_equal(kernel_dns_lookup(w, n, h, fl, 2), 0);
	n = to_wire("evil.test", w);
	assert_int_equal(kernel_dns_lookup(w, n, h, fl, 2), -1);
	n = to_wire("devil.test", w);
	assert_int_equal(kernel_dns_lookup(w, n, h, fl, 2), -1);
	n = to_wire("exact.bad.test", w);
	assert_int_equal(kernel_dns_lookup(w, n, h, fl, 2), 1);
	n = to_wire("x.exact.bad.test", w);
	assert_int_equal(kernel_dns_lookup(w, n, h, fl, 2), -1);
}

/* ---- compiling with a fake resolver ---- */

static int fake_ifindex(void *ctx, const char *ifname, uint32_t *out)
{
	if (!strcmp(ifname, "eth0")) {
		*out = 2;
		return 0;
	}
	if (!strcmp(ifname, "eth1")) {
		*out = 3;
		return 0;
	}
	return -ENODEV;
}

static int fake_containers(void *ctx, const struct ctw_pol_selector *sel,
			   void (*add)(void *actx, uint64_t cgid, const char *path), void *actx)
{
	if (sel->name && !strcmp(sel->name, "web-*")) {
		add(actx, 42, "/sys/fs/cgroup/web-1");
		add(actx, 43, "/sys/fs/cgroup/web-2");
		return 2;
	}
	if (sel->namespace_ && !strcmp(sel->namespace_, "prod")) {
		add(actx, 43, "/sys/fs/cgroup/web-2");
		return 1;
	}
	return 0;
}

static const struct ctw_pol_resolver fake = {fake_ifindex, fake_containers, NULL};

static const struct ctw_pol_lpm_entry *find_lpm(const struct ctw_pol_compiled *c, uint64_t cgid,
						const char *cidr)
{
	struct ctw_pol_cidr want;
	char why[128];
	assert_int_equal(ctw_pol_parse_cidr(cidr, &want, why, sizeof(why)), 0);
	for (size_t i = 0; i < c->n_lpm; i++)
		if (c->lpm[i].cgid == cgid && c->lpm[i].family == want.family &&
		    c->lpm[i].plen == want.plen && !memcmp(c->lpm[i].addr, want.addr, 16))
			return &c->lpm[i];
	return NULL;
}

static void test_compile_example(void **state)
{
	struct ctw_policy *p = load_ok("example.yaml");
	struct ctw_pol_compiled *c;
	struct ctw_err err = {0};

	assert_int_equal(ctw_policy_compile(p, &fake, &c, &err), 0);
	assert_int_equal(c->n_rules, 3);
	assert_int_equal(c->n_ifaces, 1);
	assert_int_equal(c->ifaces[0].ifindex, 2);
	assert_int_equal(c->n_cgroups, 2); /* 42 and 43, once each */
	/* XDP: the two prefixes of block-scanner */
	const struct ctw_pol_lpm_entry *e = find_lpm(c, 0, "203.0.113.0/24");
	assert_non_null(e);
	assert_int_equal(e->n, 1);
	assert_int_equal(e->ids[0], 0);
	assert_non_null(find_lpm(c, 0, "2001:db8::/32"));
	/* no-metadata for both web containers */
	e = find_lpm(c, 42, "169.254.169.254/32");
	assert_non_null(e);
	assert_int_equal(e->dir, CTW_POL_EGRESS);
	assert_int_equal(e->ids[0], 1);
	assert_non_null(find_lpm(c, 43, "169.254.169.254/32"));
	assert_int_equal(c->n_lpm, 4);
	/* DNS: one wildcard entry for namespace prod (cgroup 43) */
	assert_int_equal(c->n_dns, 1);
	assert_int_equal(c->dns[0].cgid, 43);
	assert_int_equal(c->dns[0].hash, ctw_pol_dns_hash("evil.test"));
	assert_int_equal(c->dns[0].flags, CTW_DNS_F_WILD);
	assert_int_equal(c->dns[0].wild_rule, 2);
	ctw_pol_compiled_free(c);
	ctw_policy_free(p);
}

static void test_compile_overlap(void **state)
{
	const char *text = "rules:\n"
			   "  - {name: ssh, action: deny, interfaces: [eth0], match: {cidrs: "
			   "[10.0.0.0/8], protocol: tcp, ports: [22]}}\n"
			   "  - {name: one, action: allow, interfaces: [eth0], match: {cidrs: "
			   "[10.1.0.0/16]}}\n"
			   "  - {name: all, action: deny, interfaces: [eth1]}\n";
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	struct ctw_pol_compiled *c;
	struct ctw_err err = {0};

	assert_int_equal(ctw_policy_parse("o.yaml", text, strlen(text), &p, &d), 0);
	ctw_pol_diags_fini(&d);
	assert_int_equal(ctw_policy_compile(p, &fake, &c, &err), 0);
	const struct ctw_pol_lpm_entry *e = find_lpm(c, 0, "10.1.0.0/16");
	assert_non_null(e);
	/* the /16 carries the /8's rule and the catch-all, in file order */
	assert_int_equal(e->n, 3);
	assert_int_equal(e->ids[0], 0);
	assert_int_equal(e->ids[1], 1);
	assert_int_equal(e->ids[2], 2);
	e = find_lpm(c, 0, "10.0.0.0/8");
	assert_int_equal(e->n, 2);
	e = find_lpm(c, 0, "::/0");
	assert_non_null(e);
	assert_int_equal(e->n, 1);
	assert_int_equal(e->ids[0], 2);
	assert_int_equal(c->n_ifaces, 2);
	ctw_pol_compiled_free(c);
	ctw_policy_free(p);
}

static void test_compile_errors(void **state)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	struct ctw_pol_compiled *c;
	struct ctw_err err = {0};
	const char *text = "rules:\n  - {name: x, action: deny, interfaces: [nosuch0]}\n";

	assert_int_equal(ctw_policy_parse("i.yaml", text, strlen(text), &p, &d), 0);
	assert_int_equal(ctw_policy_compile(p, &fake, &c, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "rule 'x': interface nosuch0"));
	ctw_policy_free(p);

	/* 16 rules covering one prefix: more than a match list holds */
	char *big = xstrdup("rules:\n");
	for (int i = 0; i < 16; i++) {
		char *o = big;
		big = xasprintf("%s  - {name: r%d, action: deny, interfaces: [eth0], match: "
				"{cidrs: [10.%d.0.0/16], protocol: tcp, ports: [%d]}}\n",
				o, i, i, 100 + i);
		free(o);
	}
	char *o = big;
	big = xasprintf("%s  - {name: wide, action: deny, interfaces: [eth0], match: "
			"{cidrs: [10.0.0.0/8], protocol: udp}}\n",
			o);
	free(o);
	assert_int_equal(ctw_policy_parse("b.yaml", big, strlen(big), &p, &d), 0);
	assert_int_equal(ctw_policy_compile(p, &fake, &c, &err), 0); /* 2 per prefix: fine */
	ctw_pol_compiled_free(c);
	ctw_policy_free(p);
	free(big);

	big = xstrdup("rules:\n");
	for (int i = 0; i < 16; i++) {
		o = big;
		big = xasprintf("%s  - {name: r%d, action: deny, interfaces: [eth0], match: "
				"{cidrs: [10.0.0.0/%d], protocol: tcp, ports: [%d]}}\n",
				o, i, 8 + i, 100 + i);
		free(o);
	}
	assert_int_equal(ctw_policy_parse("c.yaml", big, strlen(big), &p, &d), 0);
	assert_int_equal(ctw_policy_compile(p, &fake, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "more than 15 rules cover 10.0.0.0/23"));
	ctw_policy_free(p);
	free(big);
	ctw_pol_diags_fini(&d);
}

static void test_yaml_round_trip(void **state)
{
	struct ctw_policy *p = load_ok("good-full.yaml"), *q;
	struct ctw_pol_diags d = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctw_policy_write_yaml(p, f);
	fclose(f);
	int r = ctw_policy_parse("rt.yaml", buf, len, &q, &d);
	if (r < 0) {
		ctw_pol_diags_print(&d, stderr);
		fprintf(stderr, "%s", buf);
	}
	assert_int_equal(r, 0);
	assert_int_equal(q->n_rules, p->n_rules);
	assert_int_equal(q->def_xdp, p->def_xdp);
	assert_int_equal(q->def_ingress, p->def_ingress);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ctw_pol_rule *a = &p->rules[i], *b = &q->rules[i];
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->action, b->action);
		assert_int_equal(a->scope, b->scope);
		assert_int_equal(a->dir, b->dir);
		assert_int_equal(a->n_cidrs, b->n_cidrs);
		for (size_t k = 0; k < a->n_cidrs; k++)
			assert_memory_equal(a->cidrs[k].addr, b->cidrs[k].addr, 16);
		assert_int_equal(a->proto, b->proto);
		assert_int_equal(a->icmp, b->icmp);
		assert_int_equal(a->n_dports, b->n_dports);
		assert_memory_equal(a->dports, b->dports, sizeof(a->dports));
		assert_memory_equal(a->sports, b->sports, sizeof(a->sports));
		assert_int_equal(a->n_dns, b->n_dns);
		assert_int_equal(a->sel.n_labels, b->sel.n_labels);
	}
	ctw_pol_diags_fini(&d);
	ctw_policy_free(q);
	ctw_policy_free(p);
	free(buf);
}

/* ---- bounds on the input (policy/yaml_load.c) ---- */

/* Parse text of len bytes: it must fail with exactly one error that starts
 * with want ("x.yaml:LINE:COL: message"). */
static void expect_bound(const char *text, size_t len, const char *want)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p = (struct ctw_policy *)1;
	assert_int_equal(ctw_policy_parse("x.yaml", text, len, &p, &d), -EINVAL);
	assert_null(p);
	if (d.n != 1 || strncmp(d.msgs[0], want, strlen(want))) {
		print_error("got %zu messages, first: %s\nwant: %s...\n", d.n,
			    d.n ? d.msgs[0] : "(none)", want);
		fail();
	}
	ctw_pol_diags_fini(&d);
}

#define BOUND(lit, want) expect_bound(lit, sizeof(lit) - 1, want)

/* A string of n copies of s (caller frees). */
static char *repeat(const char *head, const char *s, size_t n, const char *tail)
{
	size_t hl = strlen(head), sl = strlen(s), tl = strlen(tail);
	char *out = xmalloc(hl + sl * n + tl + 1), *q = out;
	memcpy(q, head, hl);
	q += hl;
	for (size_t i = 0; i < n; i++, q += sl)
		memcpy(q, s, sl);
	memcpy(q, tail, tl + 1);
	return out;
}

static void test_bounds_text(void **state)
{
	/* NUL, bad UTF-8 and control characters at their real line:column
	 * (columns count characters, as libyaml's do) */
	BOUND("rules:\n  - name: a\0b\n", "x.yaml:2:12: NUL byte");
	BOUND("rules:\n  - name: \"\xc3\xa9\xff\"\n", "x.yaml:2:13: invalid UTF-8 (byte 0xff)");
	BOUND("rules:\n\n  - {name: \xc3\x28}\n", "x.yaml:3:12: invalid UTF-8 (byte 0xc3)");
	BOUND("# \xe2\x82\xac\r\nrules: [\x07]\n",
	      "x.yaml:2:9: control character U+0007 is not allowed");
	BOUND("a: 1\rb: \x01", "x.yaml:2:4: control character U+0001");
	BOUND("rules: [\xed\xa0\x80]\n", "x.yaml:1:9: invalid UTF-8 (byte 0xed)"); /* surrogate */
	BOUND("rules: [\xc0\xaf]\n", "x.yaml:1:9: invalid UTF-8 (byte 0xc0)");	   /* overlong */
	/* a second document is an error, where it starts */
	BOUND("rules: []\n---\nrules: [{}]\n", "x.yaml:2:1: a second YAML document");
	BOUND("rules: []\n...\n---\nfoo: 1\n", "x.yaml:3:1: a second YAML document");
	/* a byte-order mark is no character; a lone document marker is fine */
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	const char bom[] = "\xef\xbb\xbf---\nrules: []\n...\n";
	assert_int_equal(ctw_policy_parse("x.yaml", bom, sizeof(bom) - 1, &p, &d), 0);
	ctw_policy_free(p);
	/* files that are not there or not files */
	assert_int_equal(ctw_policy_load("/nonexistent/p.yaml", &p, &d), -ENOENT);
	assert_string_equal(d.msgs[0],
			    "/nonexistent/p.yaml:0:0: cannot read: No such file or directory");
	ctw_pol_diags_fini(&d);
	assert_int_equal(ctw_policy_load("/", &p, &d), -EISDIR);
	ctw_pol_diags_fini(&d);
	assert_int_equal(ctw_policy_load("/dev/zero", &p, &d), -EINVAL);
	assert_string_equal(d.msgs[0], "/dev/zero:1:1: NUL byte: a policy file is text");
	ctw_pol_diags_fini(&d);
	/* past the size limit: where it goes past */
	char *big = repeat("rules: []\n", "# padding padding padding padding padding\n",
			   CTW_POL_MAX_BYTES / 42 + 1, "");
	char *want = xasprintf("x.yaml:%d:%d: the policy goes on past 4096 KiB",
			       (int)((CTW_POL_MAX_BYTES - 10) / 42) + 2,
			       (int)((CTW_POL_MAX_BYTES - 10) % 42) + 1);
	expect_bound(big, strlen(big), want);
	free(want);
	free(big);
}

static void test_bounds_structure(void **state)
{
	/* nesting: stops at the 33rd level, whatever follows */
	char *deep = repeat("rules: ", "[", 200000, "");
	expect_bound(deep, strlen(deep), "x.yaml:1:39: nesting deeper than 32 levels");
	free(deep);
	deep = repeat("rules:\n", "- ", 40, "x\n");
	expect_bound(deep, strlen(deep), "x.yaml:2:63: nesting deeper than 32 levels");
	free(deep);
	/* rules: stops at the 257th, not after a million */
	char *many = repeat("rules: [", "{}, ", 1000000, "]");
	expect_bound(many, strlen(many), "x.yaml:1:1033: too many rules: this is rule 257");
	free(many);
	many = repeat("rules:\n", "  - {name: r, action: deny, interfaces: [eth0]}\n", 300, "");
	expect_bound(many, strlen(many),
		     "x.yaml:258:5: too many rules: this is rule 257, at most 256");
	free(many);
	many = repeat("x: &r [", "{},", 300, "]\nrules: *r\n");
	expect_bound(many, strlen(many), "x.yaml:2:8: too many rules: 300, at most 256");
	free(many);
	/* billion laughs: aliases count the nodes they stand for */
	BOUND("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
	      "x.yaml:6:12: more than 262144 YAML nodes");
	char *nodes = repeat("rules: []\nx: [", "a,", CTW_POL_MAX_NODES, "]\n");
	expect_bound(nodes, strlen(nodes), "x.yaml:2:");
	free(nodes);
	BOUND("rules: *nope\n", "x.yaml:1:8: undefined alias *nope");
	BOUND("rules: &x [*x]\n", "x.yaml:1:12: alias *x refers to a collection that contains it");
	/* anchors and aliases within the limits work as YAML says */
	const char *text = "defs: &web {name: \"web-*\"}\n"
			   "rules:\n"
			   "  - {name: a, action: deny, containers: *web, direction: egress,\n"
			   "     match: {cidrs: [10.0.0.0/8]}}\n";
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	assert_int_equal(ctw_policy_parse("x.yaml", text, strlen(text), &p, &d), -EINVAL);
	/* (defs is not a policy key: only that is wrong) */
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.msgs[0], "x.yaml:1:1: unknown key 'defs'"));
	ctw_pol_diags_fini(&d);
}

/* Which DNS patterns cover which (a rule's names all matched by an earlier
 * rule's patterns make it redundant or contradictory). */
static void test_dns_cover(void **state)
{
	static const struct {
		const char *a, *b;
		bool covered;
	} cases[] = {
		{"example.com", "\"*.example.com\"", false}, /* a name covers nothing below */
		{"\"*.example.com\"", "example.com", false},
		{"\"*.example.com\"", "a.b.example.com", true},
		{"\"*.example.com\"", "\"*.b.example.com\"", true},
		{"\"*.com\"", "\"*.example.com\"", true},
		{"\"*.example.com\"", "\"*.example.com\"", true},
		{"\"*.b.example.com\"", "\"*.example.com\"", false},
		{"a.com, b.com", "b.com", true},
		{"a.com", "a.com, b.com", false},
		{"x.net, \"*.io\"", "a.io, b.c.io, \"*.d.io\"", true},
		{"x.net, \"*.io\"", "a.io, b.c.io, io", false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text = xasprintf(
			"default: {egress: deny}\n"
			"rules:\n"
			"  - {name: a, action: deny, containers: {name: web}, direction: egress,\n"
			"     match: {dns: [%s]}}\n"
			"  - {name: b, action: allow, containers: {name: web}, direction: egress,\n"
			"     match: {dns: [%s]}}\n",
			cases[i].a, cases[i].b);
		struct ctw_pol_diags d = {0};
		struct ctw_policy *p = NULL;
		int r = ctw_policy_parse("c.yaml", text, strlen(text), &p, &d);
		if ((r < 0) != cases[i].covered) {
			print_error("a: [%s] b: [%s]: %s\n", cases[i].a, cases[i].b,
				    d.n ? d.msgs[0] : "accepted");
			fail();
		}
		if (r < 0)
			assert_non_null(strstr(d.msgs[0], "rule 'b' contradicts rule 'a'"));
		ctw_policy_free(p);
		ctw_pol_diags_fini(&d);
		free(text);
	}
}

/* Big policies: checked by index, not name by name; duplicate keys and
 * rule names found by sorting, reported in file order. */
static void test_large_policy(void **state)
{
	/* 256 rules with the same 370 names (an alias): ~95 000 names, every
	 * rule after the first redundant. */
	char *names = xstrdup("");
	for (int i = 0; i < 370; i++) {
		char *o = names;
		names = xasprintf("%s%sh%d.a.b.c.d.e.f.g.h.example.com", o, i ? ", " : "", i);
		free(o);
	}
	char *text = xasprintf("rules:\n  - {name: r0, action: deny, containers: {name: web}, "
			       "direction: egress, match: {dns: &L [%s]}}\n",
			       names);
	for (int k = 1; k < 256; k++) {
		char *o = text;
		text = xasprintf("%s  - {name: r%d, action: deny, containers: {name: web}, "
				 "direction: egress, match: {dns: *L}}\n",
				 o, k);
		free(o);
	}
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	assert_int_equal(ctw_policy_parse("l.yaml", text, strlen(text), &p, &d), 0);
	assert_int_equal(p->n_rules, 256);
	assert_int_equal(p->rules[255].n_dns, 370);
	assert_int_equal(d.n, 255); /* one message per redundant rule */
	assert_non_null(strstr(d.msgs[254], "rule 'r255' is redundant: rule 'r0'"));
	ctw_pol_diags_fini(&d);
	/* compiled for 5 containers: one entry per name and container */
	struct ctw_pol_compiled *c;
	struct ctw_err err = {0};
	assert_int_equal(ctw_policy_compile(p, &fake, &c, &err), 0);
	ctw_pol_compiled_free(c);
	ctw_policy_free(p);
	free(text);
	free(names);

	/* duplicates: each reported where it is, naming the first */
	text = xstrdup("rules:\n");
	for (int k = 0; k < 5; k++) {
		char *o = text;
		text = xasprintf("%s  - {name: %c, action: deny, interfaces: [eth%d]%s}\n", o,
				 "abaab"[k], k, k == 1 ? ", action: allow" : "");
		free(o);
	}
	assert_int_equal(ctw_policy_parse("k.yaml", text, strlen(text), &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 1);
	assert_string_equal(d.msgs[0], "k.yaml:3:49: duplicate key 'action' (first at line 3)");
	ctw_pol_diags_fini(&d);
	free(text);
	text = xstrdup("rules:\n");
	for (int k = 0; k < 5; k++) {
		char *o = text;
		text = xasprintf("%s  - {name: %c, action: deny, interfaces: [eth%d]}\n", o,
				 "abaab"[k], k);
		free(o);
	}
	assert_int_equal(ctw_policy_parse("k.yaml", text, strlen(text), &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 3);
	assert_string_equal(d.msgs[0], "k.yaml:4:5: duplicate rule name 'a' (first at line 2)");
	assert_string_equal(d.msgs[1], "k.yaml:5:5: duplicate rule name 'a' (first at line 2)");
	assert_string_equal(d.msgs[2], "k.yaml:6:5: duplicate rule name 'b' (first at line 3)");
	ctw_pol_diags_fini(&d);
	free(text);
}

/* DNS entries are merged per container and name; more than the map holds
 * is an error when compiling, not half an apply. */
static int many_containers(void *ctx, const struct ctw_pol_selector *sel,
			   void (*add)(void *actx, uint64_t cgid, const char *path), void *actx)
{
	int n = (int)(uintptr_t)ctx;
	for (int i = 0; i < n; i++)
		add(actx, 1000 + (uint64_t)i % 7, "/x"); /* 7 distinct, repeated */
	return n;
}

static void test_compile_dns_entries(void **state)
{
	const char *text =
		"default: {egress: deny}\n"
		"rules:\n"
		"  - {name: a, action: deny, containers: {name: x}, direction: egress,\n"
		"     match: {dns: [a.test, \"*.b.test\"]}}\n"
		"  - {name: b, action: allow, containers: {name: y}, direction: egress,\n"
		"     match: {dns: [b.test, \"*.a.test\", a.test]}}\n";
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	struct ctw_pol_compiled *c;
	struct ctw_err err = {0};
	struct ctw_pol_resolver res = {fake_ifindex, many_containers, (void *)(uintptr_t)20};
	assert_int_equal(ctw_policy_parse("e.yaml", text, strlen(text), &p, &d), 0);
	ctw_pol_diags_fini(&d);
	assert_int_equal(ctw_policy_compile(p, &res, &c, &err), 0);
	assert_int_equal(c->n_cgroups, 7);
	assert_int_equal(c->rule_matches[0], 7);
	/* per container: a.test (exact 0, wild 1), b.test (wild 0, exact 1) */
	assert_int_equal(c->n_dns, 14);
	for (size_t i = 0; i < c->n_dns; i++) {
		const struct ctw_pol_dns_entry *e = &c->dns[i];
		assert_int_equal(e->flags, CTW_DNS_F_EXACT | CTW_DNS_F_WILD);
		if (e->hash == ctw_pol_dns_hash("a.test")) {
			assert_int_equal(e->exact_rule, 0);
			assert_int_equal(e->wild_rule, 1);
		} else {
			assert_int_equal(e->hash, ctw_pol_dns_hash("b.test"));
			assert_int_equal(e->exact_rule, 1);
			assert_int_equal(e->wild_rule, 0);
		}
	}
	ctw_pol_compiled_free(c);
	ctw_policy_free(p);

	/* 6000 names on 7 containers: 42 000 entries, more than a policy may
	 * use of the kernel map */
	char *big = xstrdup("rules:\n  - {name: a, action: deny, containers: {name: x}, "
			    "direction: egress, match: {dns: [");
	for (int i = 0; i < 6000; i++) {
		char *o = big;
		big = xasprintf("%s%sh%d.test", o, i ? ", " : "", i);
		free(o);
	}
	char *o = big;
	big = xasprintf("%s]}}\n", o);
	free(o);
	assert_int_equal(ctw_policy_parse("b.yaml", big, strlen(big), &p, &d), 0);
	assert_int_equal(ctw_policy_compile(p, &res, &c, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "42000 DNS entries"));
	res.ctx = (void *)(uintptr_t)5; /* 5 containers: 30 000 fit */
	assert_int_equal(ctw_policy_compile(p, &res, &c, &err), 0);
	assert_int_equal(c->n_dns, 30000);
	ctw_pol_compiled_free(c);
	ctw_policy_free(p);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_collects_all_errors),
		cmocka_unit_test(test_redundant_is_warning),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_dns_match),
		cmocka_unit_test(test_dns_hash),
		cmocka_unit_test(test_compile_example),
		cmocka_unit_test(test_compile_overlap),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_yaml_round_trip),
		cmocka_unit_test(test_bounds_text),
		cmocka_unit_test(test_bounds_structure),
		cmocka_unit_test(test_dns_cover),
		cmocka_unit_test(test_large_policy),
		cmocka_unit_test(test_compile_dns_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
