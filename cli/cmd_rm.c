// SPDX-License-Identifier: Apache-2.0
/* ctrwatch rm: remove containers. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void rm_usage(FILE *out)
{
	fputs("Usage: ctrwatch rm [-f] CONTAINER...\n"
	      "\n"
	      "Remove containers: state, logs, the overlay's upper directory, cgroups and\n"
	      "network.  A running container is refused unless -f (SIGKILL first).\n"
	      "\n"
	      "Options:\n"
	      "  -f, --force    kill a running container first\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch rm job\n"
	      "  ctrwatch rm -f $(ctrwatch ps -aq)\n",
	      out);
}

static int cmd_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return ctw_cmd_usage_error("rm", "rm: bad option");
		force = true;
	}
	if (optind >= argc)
		return ctw_cmd_usage_error("rm", "rm: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct ctw_err err = {0};
		if (ctw_container_remove(argv[i], force, &err)) {
			fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
			rc = CTW_EXIT_FAIL;
		}
	}
	return rc;
}

CTW_COMMAND(rm, .name = "rm", .summary = "remove containers", .order = CTW_ORDER_RUNTIME + 50,
	    .fn = cmd_rm, .usage = rm_usage)
