// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the policy parser and validator (policy/parse.c) and
 * the compiler (policy/compile.c), with a fake resolver (no kernel).
 *
 * Invariants:
 *  - a rejected file has at least one error and every message has the form
 *    "fuzz.yaml:LINE:COL: ..." with LINE, COL >= 1;
 *  - an accepted file compiles or fails with an error message, never
 *    crashes, and LPM match lists stay within their bounds;
 *  - an accepted file written back as YAML parses again to the same rules
 *    (unless, aliases written out in full, it is past the size or node
 *    bounds);
 *  - whatever the input, parsing stays within policy.h's bounds (libFuzzer's
 *    -rss_limit_mb and -timeout catch a file that does not).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

static int fake_ifindex(void *ctx, const char *ifname, uint32_t *out)
{
	*out = (uint32_t)(strlen(ifname) + 1);
	return 0;
}

static int fake_containers(void *ctx, const struct ctw_pol_selector *sel,
			   void (*add)(void *actx, uint64_t cgid, const char *path), void *actx)
{
	add(actx, 1000 + (sel->name ? strlen(sel->name) : 0), "/fake");
	add(actx, 2000, "/fake2");
	return 2;
}

static void check_diag(const char *m)
{
	const char *p = "fuzz.yaml:";
	if (strncmp(m, p, strlen(p)))
		abort();
	int line = 0, col = 0;
	if (sscanf(m + strlen(p), "%d:%d:", &line, &col) != 2 || line < 1 || col < 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p = NULL;
	int r = ctw_policy_parse("fuzz.yaml", (const char *)data, size, &p, &d);

	for (size_t i = 0; i < d.n; i++)
		check_diag(d.msgs[i]);
	if (r < 0) {
		if (p || d.n_errors == 0)
			abort();
		ctw_pol_diags_fini(&d);
		return 0;
	}
	ctw_pol_diags_fini(&d);

	struct ctw_pol_resolver res = {fake_ifindex, fake_containers, NULL};
	struct ctw_pol_compiled *c = NULL;
	struct ctw_err err = {0};
	if (ctw_policy_compile(p, &res, &c, &err) == 0) {
		for (size_t i = 0; i < c->n_lpm; i++)
			if (c->lpm[i].n > 15 || c->lpm[i].plen > 128)
				abort();
		ctw_pol_compiled_free(c);
	} else if (!err.msg[0]) {
		abort();
	}

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ctw_policy_write_yaml(p, f);
	fclose(f);
	struct ctw_policy *q = NULL;
	if (ctw_policy_parse("fuzz.yaml", buf, len, &q, &d) < 0) {
		/* Aliases let a small file stand for up to CTW_POL_MAX_NODES
		 * nodes: written out in full, it may be past the bounds. */
		if (d.n == 1 &&
		    (strstr(d.msgs[0], "YAML nodes") || strstr(d.msgs[0], "past 4096 KiB"))) {
			ctw_pol_diags_fini(&d);
			ctw_policy_free(p);
			free(buf);
			return 0;
		}
		fprintf(stderr, "round trip failed:\n%s\n", buf);
		ctw_pol_diags_print(&d, stderr);
		abort();
	}
	if (q->n_rules != p->n_rules)
		abort();
	for (size_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].name, q->rules[i].name) ||
		    p->rules[i].n_cidrs != q->rules[i].n_cidrs ||
		    p->rules[i].action != q->rules[i].action)
			abort();
	ctw_pol_diags_fini(&d);
	ctw_policy_free(q);
	ctw_policy_free(p);
	free(buf);
	return 0;
}
