// SPDX-License-Identifier: Apache-2.0
/* Unit tests for policy/: parser, diagnostics (FILE:LINE:COL), validation
 * (contradictions), compilation (LPM contents, DNS hashes), YAML round trip.
 * Fixtures: tests/unit/policy/. */
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
