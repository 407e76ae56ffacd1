// SPDX-License-Identifier: Apache-2.0
/*
 * What every runc-style command shares (cli/oci.c, cli/oci_cmds.c,
 * cli/oci_exec.c): the global options, errors reported on stderr and in the
 * engine's --log file, and the one-container-id operand.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "cmd.h"
#include "../lib/lib.h"

struct oci_globals g_oci;

int oci_fail(struct ctw_err *err)
{
	/* stderr for whoever ran us, the log for the engine that reads it */
	fprintf(stderr, "ctrwatch: %s\n", err->msg);
	if (g_oci.log_fd >= 0)
		pr_err("%s", err->msg);
	return CTW_EXIT_FAIL;
}

int oci_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ctrwatch: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_oci.log_fd >= 0) {
		char msg[512];
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		pr_err("%s: %s", cmd, msg);
	}
	fprintf(stderr, "Run 'ctrwatch-runc %s --help' for its usage.\n", cmd);
	return CTW_EXIT_FAIL;
}

int oci_one_id(int argc, char **argv, const char *cmd, const char **id)
{
	if (optind >= argc)
		return oci_usage_error(cmd, "a container id is required");
	if (optind + 1 < argc)
		return oci_usage_error(cmd, "one container id only, not `%s`", argv[optind + 1]);
	*id = argv[optind];
	return -1;
}
