// SPDX-License-Identifier: Apache-2.0
/* ctrwatch wait: block until a container exits, print its exit code. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void wait_usage(FILE *out)
{
	fputs("Usage: ctrwatch wait CONTAINER...\n"
	      "\n"
	      "Wait until each container has exited and print its exit code; the exit\n"
	      "status is the last container's code.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch run -d --name job busybox sh -c 'sleep 1; exit 3'\n"
	      "  ctrwatch wait job     # prints 3, exits 3\n",
	      out);
}

static int cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	optind = 1;
	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return ctw_cmd_usage_error("wait", "wait: bad option");
	if (optind >= argc)
		return ctw_cmd_usage_error("wait", "wait: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct ctw_err err = {0};
		int code;
		if (ctw_container_wait(argv[i], &code, &err)) {
			fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
			rc = CTW_EXIT_FAIL;
			continue;
		}
		printf("%d\n", code);
		fflush(stdout);
		rc = code;
	}
	return rc;
}

CTW_COMMAND(wait, .name = "wait", .summary = "wait for a container and print its exit code",
	    .order = CTW_ORDER_RUNTIME + 42, .fn = cmd_wait, .usage = wait_usage)
