// SPDX-License-Identifier: Apache-2.0
/* ctrwatch wait: block until a container exits, print its exit code. */
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static const struct ctw_opt wait_opts[] = {{0}};

static void wait_usage(FILE *out)
{
	fputs("Usage: ctrwatch wait CONTAINER...\n"
	      "\n"
	      "Wait until each container has exited and print its exit code; the exit\n"
	      "status is the last container's code.\n"
	      "\n",
	      out);
	ctw_opts_print(out, wait_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch run -d --name job busybox sh -c 'sleep 1; exit 3'\n"
	      "  ctrwatch wait job     # prints 3, exits 3\n",
	      out);
}

static int cmd_wait(int argc, char **argv)
{
	int first = ctw_opts_parse("wait", wait_opts, argc, argv, NULL);
	if (first < 0)
		return -first;
	if (first >= argc)
		return ctw_cmd_usage_error("wait", "wait: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = first; i < argc; i++) {
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
