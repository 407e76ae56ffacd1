// SPDX-License-Identifier: Apache-2.0
/* ctrwatch kill: send a signal to a container's init. */
#include <stddef.h>
#include <signal.h>
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct kill_args {
	int signal;
};

static int parse_signal(const char *arg, void *field, char *why, size_t whylen)
{
	int sig = ctw_parse_signal(arg);
	if (sig < 0) {
		snprintf(why, whylen, "not a signal (a name, TERM or SIGTERM, or a number)");
		return -1;
	}
	*(int *)field = sig;
	return 0;
}

static const struct ctw_opt kill_opts[] = {
	{.name = "signal",
	 .short_name = 's',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "SIGNAL",
	 .help = "name (TERM, SIGTERM) or number",
	 .off = offsetof(struct kill_args, signal),
	 .parse = parse_signal},
	{0},
};

static void kill_usage(FILE *out)
{
	fputs("Usage: ctrwatch kill [-s SIGNAL] CONTAINER...\n"
	      "\n"
	      "Send a signal (default SIGKILL) to the container's PID 1; ctrwatch's init\n"
	      "forwards it to the command.\n"
	      "\n",
	      out);
	ctw_opts_print(out, kill_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch kill web\n"
	      "  ctrwatch kill -s HUP web\n",
	      out);
}

static int cmd_kill(int argc, char **argv)
{
	struct kill_args a = {.signal = SIGKILL};
	int first = ctw_opts_parse("kill", kill_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	int sig = a.signal;
	if (first >= argc)
		return ctw_cmd_usage_error("kill", "kill: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = first; i < argc; i++) {
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
