// SPDX-License-Identifier: Apache-2.0
/* ctrwatch ps: list containers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void ps_usage(FILE *out)
{
	fputs("Usage: ctrwatch ps [-a] [-q] [--json] [-f label=KEY[=VALUE]]...\n"
	      "\n"
	      "List containers: running ones, or all with -a (detached containers stay until\n"
	      "`ctrwatch rm`).  A container whose exit came from the OOM killer is marked\n"
	      "(OOMKilled).\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all      also exited and created containers\n"
	      "  -q, --quiet    only the ids\n"
	      "      --json     one JSON array of state objects (see `ctrwatch inspect`)\n"
	      "  -f, --filter label=KEY[=VALUE]\n"
	      "                 only containers with label KEY (set to VALUE); repeatable,\n"
	      "                 all must match\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch ps\n"
	      "  ctrwatch ps -q --filter label=app=web\n"
	      "  ctrwatch ps -a --json | jq -r '.[] | select(.oom_killed) | .name'\n",
	      out);
}

static void ago(uint64_t ns, char *buf, size_t size)
{
	if (!ns) {
		snprintf(buf, size, "-");
		return;
	}
	uint64_t now = ctw_realtime_ns();
	uint64_t s = now > ns ? (now - ns) / 1000000000ull : 0;
	if (s < 60)
		snprintf(buf, size, "%llu seconds", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%llu minutes", (unsigned long long)s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%llu hours", (unsigned long long)s / 3600);
	else
		snprintf(buf, size, "%llu days", (unsigned long long)s / 86400);
}

/* Does the state carry every "label=K[=V]" filter? */
static bool filters_match(const struct ctw_state *s, char **filters, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *kv = filters[i] + strlen("label=");
		const char *eq = strchr(kv, '=');
		size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
		bool hit = false;
		for (char **p = s->labels; p && *p && !hit; p++)
			hit = !strncmp(*p, kv, kl) && (*p)[kl] == '=' &&
			      (!eq || !strcmp(*p + kl + 1, eq + 1));
		if (!hit)
			return false;
	}
	return true;
}

static int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, 'j'},
		{"filter", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	char *filters[16];
	size_t nfilters = 0;
	bool all = false, quiet = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "aqf:", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case 'j': json = true; break;
		case 'f':
			if (strncmp(optarg, "label=", 6) || !optarg[6] || optarg[6] == '=')
				return ctw_cmd_usage_error("ps",
							   "ps: --filter '%s': expected "
							   "label=KEY[=VALUE]",
							   optarg);
			if (nfilters == ARRAY_SIZE(filters))
				return ctw_cmd_usage_error("ps", "ps: too many --filter");
			filters[nfilters++] = optarg;
			break;
		default: return ctw_cmd_usage_error("ps", "ps: bad option");
		}
	}
	if (optind < argc)
		return ctw_cmd_usage_error("ps", "ps: unexpected argument '%s'", argv[optind]);

	/* Not ours to read: an empty table would say "no containers". */
	if (access(ctw_state_dir(), R_OK | X_OK) < 0 && errno == EACCES) {
		fprintf(stderr,
			"ctrwatch: ps: needs root: the container state in %s is readable by root "
			"only (running as uid %u)\n",
			ctw_state_dir(), (unsigned int)geteuid());
		return CTW_EXIT_FAIL;
	}
	char **ids = ctw_state_list();
	json_t *arr = json ? json_array() : NULL;
	if (!json && !quiet)
		printf("%-12s  %-16s  %-22s  %-14s  %-26s  %-15s  %s\n", "CONTAINER ID", "IMAGE",
		       "COMMAND", "CREATED", "STATUS", "IP", "NAMES");
	for (char **p = ids; *p; p++) {
		struct ctw_state s;
		if (ctw_state_load(*p, &s, NULL))
			continue;
		/* A "running" container whose init is gone died with its
		 * runtime: show it as exited (gc cleans it). */
		bool alive = s.status == CTW_ST_RUNNING && ctw_state_init_alive(&s);
		if (s.status == CTW_ST_RUNNING && !alive)
			s.status = CTW_ST_EXITED;
		if ((!all && !alive) || !filters_match(&s, filters, nfilters)) {
			ctw_state_fini(&s);
			continue;
		}
		if (json) {
			char *txt = ctw_state_to_json(&s, false);
			json_array_append_new(arr, json_loads(txt, 0, NULL));
			free(txt);
		} else if (quiet) {
			printf("%.12s\n", s.id);
		} else {
			char cmd[64] = "", created[32], status[64], t[32];
			for (char **a = s.command; a && *a; a++) {
				size_t l = strlen(cmd);
				snprintf(cmd + l, sizeof(cmd) - l, "%s%s", l ? " " : "", *a);
			}
			if (strlen(cmd) > 20)
				strcpy(cmd + 17, "...");
			ago(s.created_ns, t, sizeof(t));
			snprintf(created, sizeof(created), "%s ago", t);
			if (s.status == CTW_ST_RUNNING) {
				ago(s.started_ns, t, sizeof(t));
				snprintf(status, sizeof(status), "Up %s", t);
			} else if (s.status == CTW_ST_EXITED) {
				ago(s.finished_ns, t, sizeof(t));
				snprintf(status, sizeof(status), "Exited (%d) %s ago%s",
					 s.exit_code, t, s.oom_killed ? " (OOMKilled)" : "");
			} else {
				snprintf(status, sizeof(status), "Created");
			}
			printf("%.12s  %-16.16s  \"%s\"%*s  %-14s  %-26s  %-15s  %s\n", s.id,
			       s.image, cmd, (int)(20 - strlen(cmd)), "", created, status,
			       s.ip[0] ? s.ip : "-", s.name);
		}
		ctw_state_fini(&s);
	}
	ctw_strv_free(ids);
	if (json) {
		char *txt = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", txt);
		free(txt);
		json_decref(arr);
	}
	return CTW_EXIT_OK;
}

CTW_COMMAND(ps, .name = "ps", .summary = "list containers", .order = CTW_ORDER_RUNTIME + 10,
	    .fn = cmd_ps, .usage = ps_usage)
