// SPDX-License-Identifier: Apache-2.0
/*
 * What every runc-style command shares (cli/oci.c, cli/oci_cmds.c,
 * cli/oci_exec.c): the global options, errors reported on stderr and in the
 * engine's --log file, and the one-container-id operand.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "options.h"
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

int oci_one_id(int argc, char **argv, int first, const char *cmd, const char **id)
{
	if (first >= argc)
		return oci_usage_error(cmd, "a container id is required");
	if (first + 1 < argc)
		return oci_usage_error(cmd, "one container id only, not `%s`", argv[first + 1]);
	*id = argv[first];
	return -1;
}

static int bad_option(const char *cmd, const char *msg)
{
	return oci_usage_error(cmd, "%s", msg);
}

int oci_parse(const char *cmd, const struct ctw_opt *tab, int argc, char **argv, void *dst)
{
	/* As runc's CLI library reads them: one or two dashes, and they end
	 * at the first operand (`exec ID ls -l` gives -l to ls). */
	static const struct ctw_opts_style style = {
		.in_order = true, .long_only = true, .usage_error = bad_option};

	return ctw_opts_parse_style(&style, cmd, tab, argc, argv, dst);
}

int oci_refuse(const char *arg, void *field, char *why, size_t whylen)
{
	(void)arg, (void)field;
	snprintf(why, whylen, "not supported by ctrwatch");
	return -1;
}

int oci_parse_format(const char *arg, void *field, char *why, size_t whylen)
{
	if (strcmp(arg, "json") && strcmp(arg, "table")) {
		snprintf(why, whylen, "table or json");
		return -1;
	}
	*(bool *)field = !strcmp(arg, "json");
	return 0;
}
