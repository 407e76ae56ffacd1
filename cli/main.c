// SPDX-License-Identifier: Apache-2.0
/* ctrwatch: main, the global options and the choice of command line
 * (ctrwatch's own, or runc's for the engines). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
		/* Options end at the first operand of commands like run/exec:
		 * `ctrwatch run busybox ls -h` must reach ls. */
		if (argv[i][0] != '-')
			return false;
	}
	return false;
}

/* A runc-only global option: one of runc's (cli/oci.c) but --root, -h and
 * -v, which are ctrwatch's own too. */
static bool runc_global(const char *a)
{
	if (a[0] != '-')
		return false;
	a += a[1] == '-' ? 2 : 1;
	for (const struct ctw_opt *o = oci_global_opts; o->name; o++) {
		size_t n = strlen(o->name);
		if (o->short_name || !strcmp(o->name, "root"))
			continue;
		if (!strncmp(a, o->name, n) && (!a[n] || a[n] == '='))
			return true;
	}
	return false;
}

bool ctw_oci_mode(const char *argv0, int argc, char **argv)
{
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	if (ctw_str_has_suffix(base, "runc"))
		return true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return oci_find_cmd(a) && !ctw_cmd_native(a);
		if (runc_global(a))
			return true;
		if (!strcmp(a, "--root") || !strcmp(a, "-root"))
			i++; /* its value */
		else if (!ctw_str_has_prefix(a, "--root=") && !ctw_str_has_prefix(a, "-root="))
			return false;
	}
	return false;
}

int main(int argc, char **argv)
{
	ctw_cmdline_note(argc, argv);
	ctw_cmds_sort();
	/* runc's command line, for the engines (cli/oci.c) */
	if (ctw_oci_mode(argv[0], argc, argv))
		return ctw_oci_main(argc, argv);
	/* Global options before COMMAND: they set the environment that every
	 * module reads its paths from, so they reach every subcommand. */
	while (argc >= 2 && ctw_str_has_prefix(argv[1], "--root")) {
		const char *dir = NULL;
		int used = 1;
		if (!strcmp(argv[1], "--root") && argc >= 3) {
			dir = argv[2];
			used = 2;
		} else if (ctw_str_has_prefix(argv[1], "--root=")) {
			dir = argv[1] + 7;
		}
		if (!dir || !*dir) {
			fprintf(stderr, "ctrwatch: --root needs a directory\n");
			return CTW_EXIT_USAGE;
		}
		setenv("CTRWATCH_ROOT", dir, 1);
		argv[used] = argv[0];
		argv += used;
		argc -= used;
	}
	if (argc < 2) {
		ctw_cmds_usage(stderr);
		return CTW_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			const struct ctw_cmd *c = ctw_cmd_find(argv[2]);
			if (c && c->usage) {
				c->usage(stdout);
				return CTW_EXIT_OK;
			}
		}
		ctw_cmds_usage(stdout);
		return CTW_EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V"))
		name = "version";
	if (name[0] == '-') {
		fprintf(stderr, "ctrwatch: unknown option '%s'\n", name);
		ctw_cmds_usage(stderr);
		return CTW_EXIT_USAGE;
	}
	const struct ctw_cmd *c = ctw_cmd_find(name);
	if (!c) {
		fprintf(stderr, "ctrwatch: unknown command '%s'\n", name);
		ctw_cmds_usage(stderr);
		return CTW_EXIT_USAGE;
	}
	if (c->usage && wants_help(argc - 1, argv + 1)) {
		c->usage(stdout);
		return CTW_EXIT_OK;
	}
	const char *lvl = getenv("CTRWATCH_LOG_LEVEL");
	enum ctw_log_level l;
	if (lvl && !ctw_log_parse_level(lvl, &l))
		ctw_log_set_level(l);
	ctw_log_libbpf();
	return c->fn(argc - 1, argv + 1);
}
