// SPDX-License-Identifier: Apache-2.0
/* ctrwatch logs: output of detached containers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void logs_usage(FILE *out)
{
	fputs("Usage: ctrwatch logs [-f] CONTAINER\n"
	      "\n"
	      "Print what a detached container wrote to stdout and stderr (one file, in\n"
	      "order).  Foreground containers write to the terminal instead.\n"
	      "\n"
	      "Options:\n"
	      "  -f, --follow   keep printing new output until the container exits\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch logs web\n"
	      "  ctrwatch logs -f web\n",
	      out);
}

static bool copy_avail(int fd)
{
	char buf[65536];
	bool any = false;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return any;
		any = true;
	}
	fflush(stdout);
	return any;
}

static int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool follow = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return ctw_cmd_usage_error("logs", "logs: bad option");
		follow = true;
	}
	if (optind != argc - 1)
		return ctw_cmd_usage_error("logs", "logs: one CONTAINER is required");
	struct ctw_state s;
	struct ctw_err err = {0};
	if (ctw_state_find(argv[optind], &s, &err)) {
		fprintf(stderr, "ctrwatch: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	char *path = ctw_container_log_path(s.id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) { /* a foreground container: no log */
			free(path);
			ctw_state_fini(&s);
			return CTW_EXIT_OK;
		}
		fprintf(stderr, "ctrwatch: open %s: %s\n", path, strerror(errno));
		free(path);
		ctw_state_fini(&s);
		return CTW_EXIT_FAIL;
	}
	free(path);
	copy_avail(fd);
	while (follow && (ctw_state_init_alive(&s) || ctw_state_monitor_alive(&s))) {
		if (!copy_avail(fd)) {
			struct timespec ts = {0, 100000000};
			nanosleep(&ts, NULL);
		}
	}
	if (follow)
		copy_avail(fd);
	close(fd);
	ctw_state_fini(&s);
	return CTW_EXIT_OK;
}

CTW_COMMAND(logs, .name = "logs", .summary = "print a detached container's output",
	    .order = CTW_ORDER_RUNTIME + 30, .fn = cmd_logs, .usage = logs_usage)
