// SPDX-License-Identifier: Apache-2.0
/* ctrwatch inspect: a container's state as JSON. */
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static const struct ctw_opt inspect_opts[] = {{0}};

static void inspect_usage(FILE *out)
{
	fputs("Usage: ctrwatch inspect CONTAINER...\n"
	      "\n"
	      "Print the state of containers (name or unique id prefix) as a JSON array:\n"
	      "id, name, image, image_id, pid, status, created/started/finished, exit_code,\n"
	      "oom_killed, cgroup (v2 dir), cgroup_id (what BPF sees), cgroup_v1, ip,\n"
	      "command, the process config, and log_lost_entries, log_lost_bytes and\n"
	      "log_lost_error: output of a detached container its log could not take\n"
	      "(a full disk).\n"
	      "\n",
	      out);
	ctw_opts_print(out, inspect_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch inspect web\n"
	      "  ctrwatch inspect web | jq '.[0].cgroup_id'\n",
	      out);
}

static int cmd_inspect(int argc, char **argv)
{
	int start = ctw_opts_parse("inspect", inspect_opts, argc, argv, NULL);
	if (start < 0)
		return -start;
	if (start >= argc)
		return ctw_cmd_usage_error("inspect", "inspect: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	bool first = true;
	printf("[");
	for (int i = start; i < argc; i++) {
		struct ctw_state s;
		struct ctw_err err = {0};
		if (ctw_state_find(argv[i], &s, &err)) {
			fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
			rc = CTW_EXIT_FAIL;
			continue;
		}
		if (s.status == CTW_ST_RUNNING && !ctw_state_init_alive(&s))
			s.status = CTW_ST_EXITED;
		char *txt = ctw_state_to_json(&s, true);
		printf("%s\n%s", first ? "" : ",", txt);
		first = false;
		free(txt);
		ctw_state_fini(&s);
	}
	printf("%s]\n", first ? "" : "\n");
	return rc;
}

CTW_COMMAND(inspect, .name = "inspect", .summary = "show a container's state as JSON",
	    .order = CTW_ORDER_RUNTIME + 20, .fn = cmd_inspect, .usage = inspect_usage)
