// SPDX-License-Identifier: Apache-2.0
/* ctrwatch rm: remove containers. */
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct rm_args {
	bool force;
};

static const struct ctw_opt rm_opts[] = {
	{.name = "force",
	 .short_name = 'f',
	 .kind = CTW_OPT_FLAG,
	 .help = "kill a running container first",
	 .off = offsetof(struct rm_args, force)},
	{0},
};

static void rm_usage(FILE *out)
{
	fputs("Usage: ctrwatch rm [-f] CONTAINER...\n"
	      "\n"
	      "Remove containers: state, logs, the overlay's upper directory, cgroups and\n"
	      "network.  A running container is refused unless -f (SIGKILL first).\n"
	      "\n",
	      out);
	ctw_opts_print(out, rm_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch rm job\n"
	      "  ctrwatch rm -f $(ctrwatch ps -aq)\n",
	      out);
}

static int cmd_rm(int argc, char **argv)
{
	struct rm_args a = {0};
	int first = ctw_opts_parse("rm", rm_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	bool force = a.force;
	if (first >= argc)
		return ctw_cmd_usage_error("rm", "rm: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = first; i < argc; i++) {
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
