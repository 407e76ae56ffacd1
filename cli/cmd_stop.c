// SPDX-License-Identifier: Apache-2.0
/* ctrwatch stop: stop signal, then SIGKILL after a timeout. */
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct stop_args {
	unsigned timeout;
	bool timeout_set;
};

static int parse_timeout(const char *arg, void *field, char *why, size_t whylen)
{
	uint64_t v;
	if (ctw_parse_u64(arg, 0, 86400, &v)) {
		snprintf(why, whylen, "want seconds from 0 to 86400");
		return -1;
	}
	struct stop_args *a = field;
	a->timeout = (unsigned)v;
	a->timeout_set = true;
	return 0;
}

static const struct ctw_opt stop_opts[] = {
	{.name = "time",
	 .alias = "timeout",
	 .short_name = 't',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "SECONDS",
	 .help = "seconds to wait before SIGKILL (default: the container's\n--stop-timeout, 10)",
	 .off = 0,
	 .parse = parse_timeout},
	{0},
};

static void stop_usage(FILE *out)
{
	fputs("Usage: ctrwatch stop [-t SECONDS] CONTAINER...\n"
	      "\n"
	      "Send the container's stop signal (--stop-signal, the image's StopSignal, or\n"
	      "SIGTERM), wait, then SIGKILL.  Returns once the container has exited.\n"
	      "\n",
	      out);
	ctw_opts_print(out, stop_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch stop web\n"
	      "  ctrwatch stop -t 0 web\n",
	      out);
}

static int cmd_stop(int argc, char **argv)
{
	struct stop_args a = {0};
	int first = ctw_opts_parse("stop", stop_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	int timeout = a.timeout_set ? (int)a.timeout : -1;
	if (first >= argc)
		return ctw_cmd_usage_error("stop", "stop: CONTAINER is required");
	int rc = CTW_EXIT_OK;
	for (int i = first; i < argc; i++) {
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
