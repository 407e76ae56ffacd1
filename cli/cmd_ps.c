// SPDX-License-Identifier: Apache-2.0
/* ctrwatch ps: list containers. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct ps_args {
	bool all, quiet, json;
	char *filters[16];
	size_t nfilters;
};

static int parse_filter(const char *arg, void *field, char *why, size_t whylen)
{
	struct ps_args *a = field;

	if (strncmp(arg, "label=", 6) || !arg[6] || arg[6] == '=') {
		snprintf(why, whylen, "expected label=KEY[=VALUE]");
		return -1;
	}
	if (a->nfilters == ARRAY_SIZE(a->filters)) {
		snprintf(why, whylen, "too many --filter (%zu at most)", ARRAY_SIZE(a->filters));
		return -1;
	}
	a->filters[a->nfilters++] = (char *)arg;
	return 0;
}

static const struct ctw_opt ps_opts[] = {
	{.name = "all",
	 .short_name = 'a',
	 .kind = CTW_OPT_FLAG,
	 .help = "also exited and created containers",
	 .off = offsetof(struct ps_args, all)},
	{.name = "quiet",
	 .short_name = 'q',
	 .kind = CTW_OPT_FLAG,
	 .help = "only the ids",
	 .off = offsetof(struct ps_args, quiet)},
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "one JSON array of state objects (see `ctrwatch inspect`)",
	 .off = offsetof(struct ps_args, json)},
	{.name = "filter",
	 .short_name = 'f',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "label=KEY[=VALUE]",
	 .help = "only containers with label KEY (set to VALUE); repeatable,\nall must match",
	 .off = 0,
	 .parse = parse_filter},
	{0},
};

static void ps_usage(FILE *out)
{
	fputs("Usage: ctrwatch ps [-a] [-q] [--json] [-f label=KEY[=VALUE]]...\n"
	      "\n"
	      "List containers: running ones, or all with -a (detached containers stay until\n"
	      "`ctrwatch rm`).  A container whose exit came from the OOM killer is marked\n"
	      "(OOMKilled).\n"
	      "\n",
	      out);
	ctw_opts_print(out, ps_opts);
	fputs("\n"
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
	struct ps_args a = {0};
	int first = ctw_opts_parse("ps", ps_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	bool all = a.all, quiet = a.quiet, json = a.json;
	char **filters = a.filters;
	size_t nfilters = a.nfilters;
	if (first < argc)
		return ctw_cmd_usage_error("ps", "ps: unexpected argument '%s'", argv[first]);

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
