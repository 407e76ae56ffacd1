// SPDX-License-Identifier: Apache-2.0
/* ctrwatch agent: the node daemon Prometheus scrapes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../agent/agent.h"
#include "../lib/lib.h"

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
	      "Options (setting name, default):\n",
	      out);
	const struct ctw_agent_setting_def *d;
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)); i++) {
		char left[80];
		static const char *const metavar[] = {[CTW_SETTING_STR] = " VALUE",
						      [CTW_SETTING_BOOL] = "",
						      [CTW_SETTING_DURATION] = " DUR",
						      [CTW_SETTING_DURATION0] = " DUR",
						      [CTW_SETTING_UINT] = " N"};
		snprintf(left, sizeof(left), "--%s%s", d->key, metavar[d->kind]);
		for (char *p = left; *p && *p != ' '; p++)
			if (*p == '_')
				*p = '-';
		fprintf(out, "  %-30s %s", left, d->help);
		if (*d->def)
			fprintf(out, " [%s]", d->def);
		fputc('\n', out);
	}
	fputs("  --config FILE                  read settings from FILE\n"
	      "  --set KEY=VALUE                any setting, also a module's own (dns_timeout=2s)\n"
	      "  -v, --verbose                  more logging (repeat for debug)\n"
	      "  --check                        validate the settings and exit\n"
	      "  --list-metrics[=json]          list the metric families (name, type, labels,\n"
	      "                                 help) and exit\n"
	      "\n"
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

enum { OPT_CONFIG = 1000, OPT_CHECK, OPT_SET, OPT_LIST_METRICS, OPT_SETTING };

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

	if (format && !json)
		return ctw_cmd_usage_error("agent", "agent: --list-metrics takes json or nothing");
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

static int cmd_agent(int argc, char **argv)
{
	struct option opts[64];
	const char *keys[64];
	char names[64][48];
	size_t n = 0;
	const struct ctw_agent_setting_def *d;
	/* a boolean's flag alone is true; --KEY=false also works */
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)) && n < 56; i++) {
		snprintf(names[n], sizeof(names[n]), "%s", d->key);
		for (char *p = names[n]; *p; p++)
			if (*p == '_')
				*p = '-';
		opts[n] = (struct option){names[n],
					  d->kind == CTW_SETTING_BOOL ? optional_argument
								      : required_argument,
					  NULL, OPT_SETTING + (int)n};
		keys[n] = d->key;
		n++;
	}
	opts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	opts[n++] = (struct option){"set", required_argument, NULL, OPT_SET};
	opts[n++] = (struct option){"check", no_argument, NULL, OPT_CHECK};
	opts[n++] = (struct option){"list-metrics", optional_argument, NULL, OPT_LIST_METRICS};
	opts[n++] = (struct option){"verbose", no_argument, NULL, 'v'};
	opts[n] = (struct option){NULL, 0, NULL, 0};

	struct ctw_agent *a = ctw_agent_new();
	const char *config = getenv("CTRWATCH_CONFIG");
	bool check = false;
	int verbose = 0, c, rc = CTW_EXIT_FAIL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (c >= OPT_SETTING && c < OPT_SETTING + 64) {
			size_t i = c - OPT_SETTING;
			bool b;
			/* a boolean flag also takes its value as the next word
			 * (--dns-names true), as every setting did before */
			if (!optarg && optind < argc && !ctw_parse_bool(argv[optind], &b))
				optarg = argv[optind++];
			ctw_agent_set(a, keys[i], optarg ? optarg : "true", CTW_SET_FLAG);
		} else if (c == OPT_CONFIG) {
			config = optarg;
		} else if (c == OPT_SET) {
			/* any module's setting: --set dns_timeout=2s */
			char *eq = strchr(optarg, '=');
			if (eq)
				*eq = '\0';
			if (!eq || ctw_agent_set(a, optarg, eq + 1, CTW_SET_FLAG) < 0) {
				ctw_agent_free(a);
				return ctw_cmd_usage_error("agent", "agent: --set wants KEY=VALUE");
			}
		} else if (c == OPT_CHECK) {
			check = true;
		} else if (c == OPT_LIST_METRICS) {
			ctw_agent_free(a);
			return list_metrics(optarg);
		} else if (c == 'v') {
			verbose++;
		} else {
			ctw_agent_free(a);
			return ctw_cmd_usage_error("agent", "agent: bad option");
		}
	}
	if (optind < argc) {
		ctw_agent_free(a);
		return ctw_cmd_usage_error("agent", "agent: unexpected argument '%s'",
					   argv[optind]);
	}
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
