// SPDX-License-Identifier: Apache-2.0
/* ctrwatch stop: stop signal, then SIGKILL after a timeout. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void stop_usage(FILE *out)
{
	fputs("Usage: ctrwatch stop [-t SECONDS] CONTAINER...\n"
	      "\n"
	      "Send the container's stop signal (--stop-signal, the image's StopSignal, or\n"
	      "SIGTERM), wait, then SIGKILL.  Returns once the container has exited.\n"
	      "\n"
	      "Options:\n"
	      "  -t, --time SECS    seconds to wait before SIGKILL (default: the container's\n"
	      "                     --stop-timeout, 10)\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch stop web\n"
	      "  ctrwatch stop -t 0 web\n",
	      out);
}

static int cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{"time", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	int timeout = -1, c;
	uint64_t v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		if (c != 't' || ctw_parse_u64(optarg, 0, 86400, &v))
			return ctw_cmd_usage_error("stop", "stop: bad option or value");
		timeout = (int)v;
	}
	if (optind >= argc)
		return ctw_cmd_usage_error("stop", "stop: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct ctw_err err = {0};
		if (ctw_container_stop(argv[i], timeout, &err)) {
			fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
			rc = CTW_EXIT_FAIL;
		}
	}
	return rc;
}

CTW_COMMAND(stop, .name = "stop", .summary = "stop a container (signal, then SIGKILL)",
	    .order = CTW_ORDER_RUNTIME + 41, .fn = cmd_stop, .usage = stop_usage)
