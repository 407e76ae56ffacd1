// SPDX-License-Identifier: Apache-2.0
/* ctrwatch policy: check, apply, show, stats, flush, and quick add/del. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../policy/policy.h"

/* show and stats */
static const struct ctw_opt report_opts[] = {
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "JSON output, also on failure (no policy applied:\n"
		 "exit 1, show prints null, stats [])",
	 .off = 0},
	{0},
};

struct add_args {
	char *ifs, *ports; /* YAML flow lists being built: "\"eth0\", \"eth1\"" */
	const char *cgroup, *dir, *proto, *name;
	bool allow;
};

/* Repeatable options become one YAML flow list. */
static int add_to_list(const char *arg, void *field, char *why, size_t whylen)
{
	char **list = field, *old = *list;

	(void)why, (void)whylen;
	*list = old ? xasprintf("%s, \"%s\"", old, arg) : xasprintf("\"%s\"", arg);
	free(old);
	return 0;
}

#define ARG(f) offsetof(struct add_args, f)
static const struct ctw_opt add_opts[] = {
	{.name = "interface",
	 .short_name = 'i',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "IF",
	 .help = "XDP on IF (repeatable)",
	 .off = ARG(ifs),
	 .parse = add_to_list},
	{.name = "cgroup",
	 .short_name = 'c',
	 .kind = CTW_OPT_STR,
	 .metavar = "PATH",
	 .help = "a container cgroup (v2 path) instead",
	 .off = ARG(cgroup)},
	{.name = "direction",
	 .short_name = 'd',
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "ingress (default) or egress, for --cgroup",
	 .off = ARG(dir)},
	{.name = "proto",
	 .short_name = 'p',
	 .kind = CTW_OPT_STR,
	 .metavar = "PROTO",
	 .help = "tcp, udp, icmp or any (default)",
	 .off = ARG(proto)},
	{.name = "port",
	 .short_name = 'P',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PORT[-PORT]",
	 .help = "destination port or range (repeatable)",
	 .off = ARG(ports),
	 .parse = add_to_list},
	{.name = "name",
	 .short_name = 'n',
	 .kind = CTW_OPT_STR,
	 .metavar = "NAME",
	 .help = "rule name (default quick-CIDR)",
	 .off = ARG(name)},
	{.name = "allow",
	 .kind = CTW_OPT_FLAG,
	 .help = "an allow rule instead of a drop",
	 .off = ARG(allow)},
	{0},
};
#undef ARG

static void policy_usage(FILE *out)
{
	fputs("Usage: ctrwatch policy check FILE...\n"
	      "       ctrwatch policy apply FILE\n"
	      "       ctrwatch policy show [--json]\n"
	      "       ctrwatch policy stats [--json]\n"
	      "       ctrwatch policy flush\n"
	      "       ctrwatch policy add [OPTIONS] CIDR...\n"
	      "       ctrwatch policy del NAME|CIDR...\n"
	      "\n"
	      "Network policy enforced in the kernel: an XDP firewall on host interfaces\n"
	      "(`interfaces:` rules, ingress, by source address) and per-container rules on\n"
	      "cgroup hooks (`containers:` rules, egress by destination, ingress by source,\n"
	      "plus DNS-name rules that drop a container's queries for denied names).\n"
	      "Rules are judged in file order; the first match decides; the default of the\n"
	      "scope (allow unless the file says otherwise) takes the rest.\n"
	      "\n"
	      "Maps and links are pinned under $CTRWATCH_BPF_PIN/policy (default\n"
	      "/sys/fs/bpf/ctrwatch/policy): enforcement outlives this command and the\n"
	      "agent.  A new policy replaces the old one atomically.\n"
	      "\n"
	      "Commands:\n"
	      "  check FILE...  validate only; every problem as FILE:LINE:COL: message\n"
	      "  apply FILE     validate, compile and enforce FILE (nothing changes on error)\n"
	      "  show           the enforced policy: source, defaults, attachments, rules\n"
	      "  stats          packets and bytes per rule and per default\n"
	      "  flush          remove every policy map and link: enforcement stops\n"
	      "  add CIDR...    prepend a quick rule to the enforced policy (like xdp-filter)\n"
	      "  del NAME|CIDR  remove rules by name, or quick rules by their CIDR\n"
	      "\n",
	      out);
	ctw_opts_print_section(out, "Options of show and stats", report_opts, false);
	fputs("\n", out);
	ctw_opts_print_section(out, "Options of add", add_opts, false);
	fputs("\n"
	      "Policy file (YAML):\n"
	      "  default: {interfaces: allow, egress: allow, ingress: allow}\n"
	      "  rules:\n"
	      "    - name: block-scanner\n"
	      "      action: deny                     # or allow\n"
	      "      interfaces: [eth0]               # XDP, ingress\n"
	      "      match:\n"
	      "        cidrs: [203.0.113.0/24, \"2001:db8::/32\"]\n"
	      "        protocol: tcp                  # tcp, udp, icmp, any\n"
	      "        ports: [22, \"8000-8100\"]       # destination; src_ports: source\n"
	      "    - name: no-evil-names\n"
	      "      action: deny\n"
	      "      containers: {namespace: prod}    # name, id, pod, namespace, labels, cgroup\n"
	      "      direction: egress\n"
	      "      match: {dns: [\"*.evil.test\"]}\n"
	      "\n"
	      "DNS rules: `deny` drops a container's queries for those names in the kernel\n"
	      "(its send() fails at once with EPERM).  `allow` with default egress deny is\n"
	      "allow-list mode: the container reaches only addresses that DNS answered for\n"
	      "allowed names, learned in the kernel from the responses, until their TTL.\n"
	      "XDP handles VLAN-tagged frames by their inner packet (two tags at most),\n"
	      "judges later IPv4/IPv6 fragments by address and protocol only (rules with\n"
	      "ports do not match them), and passes non-IP frames (ARP...).\n"
	      "\n"
	      "Exit status: 0 ok, 1 failure (invalid policy, kernel error), 2 usage.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch policy check /etc/ctrwatch/policy.yaml\n"
	      "  ctrwatch policy apply /etc/ctrwatch/policy.yaml && ctrwatch policy show\n"
	      "  ctrwatch policy add -i eth0 -p tcp -P 22 198.51.100.0/24\n"
	      "  ctrwatch policy stats --json | jq '.[] | select(.packets > 0)'\n"
	      "  ctrwatch policy flush\n",
	      out);
}

static int load_or_report(const char *path, struct ctw_policy **p)
{
	struct ctw_pol_diags d = {0};
	int r = ctw_policy_load(path, p, &d);
	ctw_pol_diags_print(&d, stderr);
	ctw_pol_diags_fini(&d);
	return r;
}

static int do_check(int argc, char **argv)
{
	int bad = 0;
	if (argc < 2)
		return ctw_cmd_usage_error("policy", "policy check: missing FILE");
	for (int i = 1; i < argc; i++) {
		struct ctw_policy *p;
		if (load_or_report(argv[i], &p) < 0) {
			bad = 1;
			continue;
		}
		size_t x = 0, c = 0;
		for (size_t k = 0; k < p->n_rules; k++)
			p->rules[k].scope == CTW_POL_SCOPE_XDP ? x++ : c++;
		printf("%s: ok (%zu rules: %zu interface, %zu container)\n", argv[i], p->n_rules, x,
		       c);
		ctw_policy_free(p);
	}
	return bad ? CTW_EXIT_FAIL : CTW_EXIT_OK;
}

static int apply_policy(const struct ctw_policy *p)
{
	struct ctw_err err = {0};
	if (ctw_policy_apply(p, NULL, &err) < 0) {
		fprintf(stderr, "ctrwatch: policy apply: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	return CTW_EXIT_OK;
}

static int do_apply(int argc, char **argv)
{
	struct ctw_policy *p;
	if (argc != 2)
		return ctw_cmd_usage_error("policy", "policy apply: expected one FILE");
	if (load_or_report(argv[1], &p) < 0)
		return CTW_EXIT_FAIL;
	int r = apply_policy(p);
	if (r == CTW_EXIT_OK)
		printf("applied %s: %zu rules\n", argv[1], p->n_rules);
	ctw_policy_free(p);
	return r;
}

static int do_show_stats(int argc, char **argv, bool stats)
{
	struct ctw_err err = {0};
	bool json = false;
	int first = ctw_opts_parse("policy", report_opts, argc, argv, &json);

	if (first < 0)
		return -first;
	if (first < argc)
		return ctw_cmd_usage_error("policy", "policy %s: unexpected argument '%s'", argv[0],
					   argv[first]);
	int r = stats ? ctw_policy_print_stats(stdout, json, &err)
		      : ctw_policy_show(stdout, json, &err);
	if (r < 0) {
		/* stdout stays JSON for whatever reads it; stderr says why */
		if (json)
			puts(stats ? "[]" : "null");
		fprintf(stderr, "ctrwatch: policy %s: %s\n", argv[0], err.msg);
		return CTW_EXIT_FAIL;
	}
	return CTW_EXIT_OK;
}

static int do_flush(int argc, char **argv)
{
	struct ctw_err err = {0};
	if (argc != 1)
		return ctw_cmd_usage_error("policy", "policy flush: takes no arguments");
	if (ctw_policy_flush(&err) < 0) {
		fprintf(stderr, "ctrwatch: policy flush: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	return CTW_EXIT_OK;
}

/* The enforced policy as text (empty policy when none). */
static char *current_text(void)
{
	char *path = ctw_policy_state_path(), *text = NULL;
	if (ctw_read_file(path, &text, NULL) < 0)
		text = xstrdup("rules:\n");
	free(path);
	return text;
}

/* Re-parse edited text (full validation), then apply it. */
static int apply_text(const char *label, const char *text)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	int r = ctw_policy_parse(label, text, strlen(text), &p, &d);
	ctw_pol_diags_print(&d, stderr);
	ctw_pol_diags_fini(&d);
	if (r < 0)
		return CTW_EXIT_FAIL;
	r = apply_policy(p);
	ctw_policy_free(p);
	return r;
}

static int do_add(int argc, char **argv)
{
	struct add_args a = {.dir = "ingress"};
	int ret, first = ctw_opts_parse("policy", add_opts, argc, argv, &a);

	if (first < 0) {
		free(a.ifs);
		free(a.ports);
		return -first;
	}
	char *ifs = a.ifs, *ports = a.ports;
	const char *cgroup = a.cgroup, *dir = a.dir, *proto = a.proto, *name = a.name;
	bool allow = a.allow;
	if (first >= argc || (!ifs == !cgroup)) {
		free(ifs);
		free(ports);
		return ctw_cmd_usage_error(
			"policy", "policy add: need CIDR... and one of --interface or --cgroup");
	}
	char *cidrs = NULL;
	for (int i = first; i < argc; i++) {
		char *old = cidrs;
		cidrs = old ? xasprintf("%s, \"%s\"", old, argv[i]) : xasprintf("\"%s\"", argv[i]);
		free(old);
	}
	char *rname = name ? xstrdup(name) : xasprintf("quick-%s", argv[first]);
	char *scope = ifs ? xasprintf("    interfaces: [%s]\n", ifs)
			  : xasprintf("    containers: {cgroup: \"%s\"}\n    direction: %s\n",
				      cgroup, dir);
	char *rule =
		xasprintf("  - name: \"%s\"\n    action: %s\n%s    match:\n      cidrs: [%s]\n"
			  "%s%s%s%s%s",
			  rname, allow ? "allow" : "deny", scope, cidrs,
			  proto ? "      protocol: " : "", proto ? proto : "", proto ? "\n" : "",
			  ports ? "      ports: [" : "", ports ? ports : "");
	char *rule2 = xasprintf("%s%s", rule, ports ? "]\n" : "");

	/* Prepend: a quick rule takes precedence over the file's. */
	char *text = current_text();
	char *at = strstr(text, "\nrules:\n");
	char *edited;
	if (!strncmp(text, "rules:\n", 7))
		edited = xasprintf("rules:\n%s%s", rule2, text + 7);
	else if (at)
		edited = xasprintf("%.*s\nrules:\n%s%s", (int)(at - text), text, rule2, at + 8);
	else
		edited = xasprintf("%s\nrules:\n%s", text, rule2);
	ret = apply_text("policy add", edited);
	if (ret == CTW_EXIT_OK)
		printf("added rule %s\n", rname);
	free(edited);
	free(text);
	free(rule);
	free(rule2);
	free(scope);
	free(rname);
	free(cidrs);
	free(ifs);
	free(ports);
	return ret;
}

static int do_del(int argc, char **argv)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	size_t removed = 0;

	if (argc < 2)
		return ctw_cmd_usage_error("policy", "policy del: need NAME or CIDR");
	char *text = current_text();
	int r = ctw_policy_parse("enforced policy", text, strlen(text), &p, &d);
	free(text);
	ctw_pol_diags_print(&d, stderr);
	ctw_pol_diags_fini(&d);
	if (r < 0)
		return CTW_EXIT_FAIL;
	for (size_t i = 0; i < p->n_rules;) {
		struct ctw_pol_rule *rl = &p->rules[i];
		bool hit = false;
		for (int a = 1; a < argc && !hit; a++) {
			char *qn = xasprintf("quick-%s", argv[a]);
			hit = !strcmp(rl->name, argv[a]) || !strcmp(rl->name, qn);
			free(qn);
		}
		if (!hit) {
			i++;
			continue;
		}
		/* Free the rule by moving it past the end where free() finds it. */
		struct ctw_pol_rule tmp = *rl;
		memmove(rl, rl + 1, (p->n_rules - i - 1) * sizeof(*rl));
		p->rules[p->n_rules - 1] = tmp;
		p->n_rules--;
		removed++;
		/* keep tmp owned: restored into the array tail for ctw_policy_free */
	}
	if (!removed) {
		fprintf(stderr, "ctrwatch: policy del: no rule named %s\n", argv[1]);
		p->n_rules += removed;
		ctw_policy_free(p);
		return CTW_EXIT_FAIL;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ctw_policy_write_yaml(p, f);
	fclose(f);
	p->n_rules += removed;
	ctw_policy_free(p);
	r = apply_text("policy del", buf);
	if (r == CTW_EXIT_OK)
		printf("removed %zu rule%s\n", removed, removed == 1 ? "" : "s");
	free(buf);
	return r;
}

static int cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		return ctw_cmd_usage_error("policy", "policy: missing command");
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "check"))
		return do_check(argc, argv);
	if (!strcmp(sub, "apply"))
		return do_apply(argc, argv);
	if (!strcmp(sub, "show"))
		return do_show_stats(argc, argv, false);
	if (!strcmp(sub, "stats"))
		return do_show_stats(argc, argv, true);
	if (!strcmp(sub, "flush"))
		return do_flush(argc, argv);
	if (!strcmp(sub, "add"))
		return do_add(argc, argv);
	if (!strcmp(sub, "del") || !strcmp(sub, "delete"))
		return do_del(argc, argv);
	return ctw_cmd_usage_error("policy", "policy: unknown command '%s'", sub);
}

CTW_COMMAND(policy, .name = "policy",
	    .summary = "kernel network policy: XDP and per-container rules",
	    .order = CTW_ORDER_POLICY, .fn = cmd_policy, .usage = policy_usage)
