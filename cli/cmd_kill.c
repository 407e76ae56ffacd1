// SPDX-License-Identifier: Apache-2.0
/* ctrwatch kill: send a signal to a container's init. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void kill_usage(FILE *out)
{
	fputs("Usage: ctrwatch kill [-s SIGNAL] CONTAINER...\n"
	      "\n"
	      "Send a signal (default SIGKILL) to the container's PID 1; ctrwatch's init\n"
	      "forwards it to the command.\n"
	      "\n"
	      "Options:\n"
	      "  -s, --signal SIG   name (TERM, SIGTERM) or number\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch kill web\n"
	      "  ctrwatch kill -s HUP web\n",
	      out);
}

static int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{"signal", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int sig = SIGKILL, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c != 's')
			return ctw_cmd_usage_error("kill", "kill: bad option");
		sig = ctw_parse_signal(optarg);
		if (sig < 0)
			return ctw_cmd_usage_error("kill", "kill: invalid signal '%s'", optarg);
	}
	if (optind >= argc)
		return ctw_cmd_usage_error("kill", "kill: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct ctw_err err = {0};
		if (ctw_container_kill(argv[i], sig, &err)) {
			fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
			rc = CTW_EXIT_FAIL;
		}
	}
	return rc;
}

CTW_COMMAND(kill, .name = "kill", .summary = "send a signal to a container",
	    .order = CTW_ORDER_RUNTIME + 40, .fn = cmd_kill, .usage = kill_usage)
