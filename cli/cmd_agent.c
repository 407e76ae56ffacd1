// SPDX-License-Identifier: Apache-2.0
/* ctrwatch agent: the node daemon Prometheus scrapes. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "options.h"
#include "../agent/agent.h"
#include "../lib/lib.h"

/* One option per agent setting (agent/agent.h's table, the agent's own and
 * each module's), then the options that are not settings: the table
 * getopt, the parsing and --help all come from. */
#define AGENT_SETTINGS_MAX 56
#define AGENT_HELP_COLUMN 33

/* Where a setting's flag goes: the agent and the setting's key. */
struct setting_slot {
	struct ctw_agent *a;
	const char *key;
};

/* --list-metrics[=json] */
struct list_metrics_arg {
	bool on;
	const char *format; /* NULL: text */
};

struct agent_args {
	struct list_metrics_arg list_metrics;
	struct setting_slot slots[AGENT_SETTINGS_MAX];
	struct setting_slot any; /* --set KEY=VALUE */
	const char *config;
	bool check;
	int verbose;
};

struct agent_table {
	struct ctw_opt opts[AGENT_SETTINGS_MAX + 6];
	char names[AGENT_SETTINGS_MAX][48];
	char helps[AGENT_SETTINGS_MAX][320];
};

/* A boolean's flag alone is true; --KEY=false also works, and so does
 * the value as the next word (--dns-names true), as every setting did
 * before: getopt's argv is kept here for that look-ahead. */
static int next_argc;
static char **next_argv;

static int set_setting(const char *arg, void *field, char *why, size_t whylen)
{
	struct setting_slot *s = field;
	bool b;

	(void)why, (void)whylen;
	if (!arg && optind < next_argc && !ctw_parse_bool(next_argv[optind], &b))
		arg = next_argv[optind++];
	ctw_agent_set(s->a, s->key, arg ? arg : "true", CTW_SET_FLAG);
	return 0;
}

static int set_any(const char *arg, void *field, char *why, size_t whylen)
{
	struct setting_slot *s = field;
	char *kv = xstrdup(arg), *eq = strchr(kv, '=');
	int r = -1;

	if (eq) {
		*eq = '\0';
		r = ctw_agent_set(s->a, kv, eq + 1, CTW_SET_FLAG) < 0 ? -1 : 0;
	}
	free(kv);
	if (r)
		snprintf(why, whylen, "want KEY=VALUE, KEY a setting");
	return r;
}

static int set_list_metrics(const char *arg, void *field, char *why, size_t whylen)
{
	struct list_metrics_arg *l = field;

	if (arg && strcmp(arg, "json")) {
		snprintf(why, whylen, "want json or nothing");
		return -1;
	}
	l->on = true;
	l->format = arg;
	return 0;
}

static const char *const type_names[] = {
	[CTW_COUNTER] = "counter", [CTW_GAUGE] = "gauge", [CTW_HISTOGRAM] = "histogram"};

/* The label names of d's series: the container set, then its own. */
static size_t metric_labels(const struct ctw_metric_def *d, const char **out)
{
	size_t n = 0;
	for (size_t i = 0; d->container && ctw_metric_container_labels[i]; i++)
		out[n++] = ctw_metric_container_labels[i];
	for (size_t i = 0; d->labels[i]; i++)
		out[n++] = d->labels[i];
	return n;
}

/* --list-metrics: every family the agent may export, from the tables the
 * exposition writes HELP and TYPE from (scripts/metrics-readme.py makes
 * the README's table of the JSON form). */
static int list_metrics(const char *format)
{
	const struct ctw_metric_def *tables[MAX_AGENT_TABLES];
	const char *groups[MAX_AGENT_TABLES];
	size_t nt = ctw_agent_metric_tables(tables, groups, MAX_AGENT_TABLES);
	bool json = format && !strcmp(format, "json");

	if (json)
		fputs("[", stdout);
	bool first = true;
	for (size_t t = 0; t < nt; t++) {
		for (const struct ctw_metric_def *d = tables[t]; d->name; d++) {
			const char *l[CTW_METRIC_MAX_LABELS + 8];
			size_t nl = metric_labels(d, l);
			if (!json) {
				printf("%-46s %-9s %-*s", d->name, type_names[d->type], nl ? 10 : 0,
				       groups[t]);
				for (size_t i = 0; i < nl; i++)
					printf("%s%s", i ? "," : " ", l[i]);
				printf("\n    %s%s%s%s\n", d->help, d->when ? " [" : "",
				       d->when ? d->when : "", d->when ? "]" : "");
				continue;
			}
			printf("%s\n{\"name\":", first ? "" : ",");
			first = false;
			ctw_json_string(stdout, d->name);
			printf(",\"type\":\"%s\",\"group\":", type_names[d->type]);
			ctw_json_string(stdout, groups[t]);
			printf(",\"help\":");
			ctw_json_string(stdout, d->help);
			printf(",\"container\":%s,\"labels\":[", d->container ? "true" : "false");
			for (size_t i = 0; i < nl; i++) {
				printf("%s", i ? "," : "");
				ctw_json_string(stdout, l[i]);
			}
			printf("],\"when\":");
			if (d->when)
				ctw_json_string(stdout, d->when);
			else
				fputs("null", stdout);
			fputs("}", stdout);
		}
	}
	if (json)
		fputs("\n]\n", stdout);
	return fflush(stdout) ? CTW_EXIT_FAIL : CTW_EXIT_OK;
}

static const struct ctw_opt agent_opts[] = {
	{.name = "config",
	 .kind = CTW_OPT_STR,
	 .metavar = "FILE",
	 .help = "read settings from FILE",
	 .off = offsetof(struct agent_args, config)},
	{.name = "set",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "KEY=VALUE",
	 .help = "any setting, also a module's own (dns_timeout=2s)",
	 .off = offsetof(struct agent_args, any),
	 .parse = set_any},
	{.name = "verbose",
	 .short_name = 'v',
	 .kind = CTW_OPT_COUNT,
	 .help = "more logging (repeat for debug)",
	 .off = offsetof(struct agent_args, verbose)},
	{.name = "check",
	 .kind = CTW_OPT_FLAG,
	 .help = "validate the settings and exit",
	 .off = offsetof(struct agent_args, check)},
	{.name = "list-metrics",
	 .kind = CTW_OPT_CUSTOM,
	 .optional_arg = true,
	 .metavar = "json",
	 .help = "list the metric families (name, type, labels, help) and exit",
	 .off = offsetof(struct agent_args, list_metrics),
	 .parse = set_list_metrics},
};

static void agent_table_build(struct agent_table *t)
{
	static const char *const metavar[] = {[CTW_SETTING_STR] = "VALUE",
					      [CTW_SETTING_BOOL] = NULL,
					      [CTW_SETTING_DURATION] = "DUR",
					      [CTW_SETTING_DURATION0] = "DUR",
					      [CTW_SETTING_UINT] = "N"};
	const struct ctw_agent_setting_def *d;
	size_t n = 0;

	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)) && n < AGENT_SETTINGS_MAX; i++) {
		snprintf(t->names[n], sizeof(t->names[n]), "%s", d->key);
		for (char *p = t->names[n]; *p; p++)
			if (*p == '_')
				*p = '-';
		snprintf(t->helps[n], sizeof(t->helps[n]), "%s%s%s%s", d->help, *d->def ? " [" : "",
			 d->def, *d->def ? "]" : "");
		t->opts[n] = (struct ctw_opt){.name = t->names[n],
					      .kind = CTW_OPT_CUSTOM,
					      .optional_arg = d->kind == CTW_SETTING_BOOL,
					      .metavar = metavar[d->kind],
					      .help = t->helps[n],
					      .off = offsetof(struct agent_args, slots[n]),
					      .parse = set_setting};
		n++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(agent_opts); i++)
		t->opts[n++] = agent_opts[i];
	t->opts[n] = (struct ctw_opt){0};
}

static void agent_usage(FILE *out)
{
	fputs("Usage: ctrwatch agent [OPTIONS]\n"
	      "\n"
	      "Run the node agent: load and attach the BPF probes, discover every container on\n"
	      "the host (ctrwatch, Docker, containerd, CRI-O, Podman, kubelet pods) by its cgroup\n"
	      "v2 directory, and serve Prometheus metrics over HTTP:\n"
	      "  /metrics  text format 0.0.4 (gzip when asked), GET and HEAD\n"
	      "  /healthz  200 while the process runs\n"
	      "  /readyz   200 once the probes are attached and the first discovery is done\n"
	      "\n"
	      "Every setting can come from a flag, from CTRWATCH_<SETTING> in the environment\n"
	      "(e.g. CTRWATCH_LISTEN, CTRWATCH_MAX_SERIES) or from the --config file, in that\n"
	      "order of precedence.  The config file holds `setting: value` lines (the names\n"
	      "below with '_' or '-'); SIGHUP re-reads it and reloads the modules (policy).\n"
	      "\n"
	      "\n",
	      out);
	struct agent_table t;
	agent_table_build(&t);
	ctw_opts_print_column(out, "Options (setting name, default)", t.opts, true,
			      AGENT_HELP_COLUMN);
	fputs("\n"
	      "Syscall sets (--syscalls): `all` exports every syscall each container made\n"
	      "(bounded by the architecture's ~460 syscalls; --max-series is the backstop);\n"
	      "`top:N` keeps the N busiest per container, chosen once and then fixed, and sums\n"
	      "the rest as syscall=\"other\"; `list:read,write,...` (or just `read,write`)\n"
	      "exports only those, the rest again as syscall=\"other\".\n"
	      "\n"
	      "Metric groups (--metrics): all, or a comma list of the probe modules (syscalls,\n"
	      "tcp, dns, policy) and `resources` (per-container CPU, memory, pids from cgroup\n"
	      "files).  A module that fails to start is logged, skipped and shown as\n"
	      "ctrwatch_module_up{module} 0; only `syscalls` failing is fatal.\n"
	      "\n"
	      "SIGTERM or SIGINT: stop serving, detach every program that is not pinned, exit 0.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch agent --listen 127.0.0.1:9464\n"
	      "  curl -s localhost:9464/metrics | grep ctrwatch_syscalls_total\n"
	      "  ctrwatch agent --listen :9464 --proc-root /host/proc --syscalls top:30 \\\n"
	      "      --log-format json                      # in a DaemonSet pod\n"
	      "  CTRWATCH_LISTEN=0.0.0.0:9464 ctrwatch agent --config /etc/ctrwatch/agent.yaml\n"
	      "  ctrwatch agent --listen :9443 --tls-cert cert.pem --tls-key key.pem \\\n"
	      "      --basic-auth-file /etc/ctrwatch/auth   # HTTPS + basic auth on /metrics\n",
	      out);
}

static int cmd_agent(int argc, char **argv)
{
	struct agent_table t;
	struct agent_args args = {.config = getenv("CTRWATCH_CONFIG")};
	struct ctw_agent *a = ctw_agent_new();
	int rc = CTW_EXIT_FAIL;

	agent_table_build(&t);
	for (size_t i = 0; i < AGENT_SETTINGS_MAX; i++) {
		const struct ctw_agent_setting_def *d = ctw_agent_setting_def_at(i);
		args.slots[i] = (struct setting_slot){a, d ? d->key : NULL};
	}
	args.any.a = a;
	next_argc = argc;
	next_argv = argv;
	int first = ctw_opts_parse("agent", t.opts, argc, argv, &args);
	if (first < 0) {
		ctw_agent_free(a);
		return -first;
	}
	if (first < argc) {
		ctw_agent_free(a);
		return ctw_cmd_usage_error("agent", "agent: unexpected argument '%s'", argv[first]);
	}
	if (args.list_metrics.on) {
		ctw_agent_free(a);
		return list_metrics(args.list_metrics.format);
	}
	const char *config = args.config;
	bool check = args.check;
	int verbose = args.verbose;
	if (verbose)
		ctw_agent_set(a, "log_level", verbose > 1 ? "debug" : "info", CTW_SET_FLAG);

	struct ctw_err err = {0};
	if (config && ctw_agent_load_config(a, config, &err) < 0)
		goto out_err;
	if (ctw_agent_check_settings(a, &err) < 0)
		goto out_err;
	if (check) {
		printf("agent settings: ok\n");
		rc = CTW_EXIT_OK;
		goto out;
	}
	if (!ctw_cmd_privileged("agent", CTW_NEED_BPF | CTW_NEED_PERFMON))
		goto out;
	if (ctw_agent_run(a, config, &err) < 0)
		goto out_err;
	rc = CTW_EXIT_OK;
	goto out;

out_err:
	fprintf(stderr, "ctrwatch: agent: %s\n", err.msg);
out:
	ctw_agent_free(a);
	return rc;
}

CTW_COMMAND(agent, .name = "agent", .summary = "serve per-container metrics to Prometheus",
	    .order = CTW_ORDER_AGENT, .fn = cmd_agent, .usage = agent_usage)
