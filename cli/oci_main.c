// SPDX-License-Identifier: Apache-2.0
/*
 * runc's global options (--root, --log, --log-format, --debug,
 * --systemd-cgroup, --rootless, --criu) and the dispatch to its commands
 * (cli/oci.c, cli/oci_cmds.c, cli/oci_exec.c), for `ctrwatch-runc ...` and
 * `ctrwatch oci ...`.  How this mode is chosen: see cli/main.c
 * (ctw_oci_mode), which reads the same table of global options.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

/* the values of a repeatable option */
struct word_list {
	const char **v;
	size_t n;
};

struct global_args {
	const char *root, *log, *log_format;
	bool debug, systemd_cgroup, help, version;
	const char *ignored;
	struct word_list annotations;
};

/* --flag, or --flag=true|false as urfave/cli allows */
static int set_bool(const char *arg, void *field, char *why, size_t whylen)
{
	if (!arg) {
		*(bool *)field = true;
		return 0;
	}
	if (ctw_parse_bool(arg, field))
		return snprintf(why, whylen, "true or false"), -1;
	return 0;
}

/* --annotation KEY=VALUE, repeatable (create checks the form) */
static int add_annotation(const char *arg, void *field, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	struct word_list *l = field;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = arg;
	return 0;
}

static int set_log_format(const char *arg, void *field, char *why, size_t whylen)
{
	if (strcmp(arg, "text") && strcmp(arg, "json"))
		return snprintf(why, whylen, "text or json"), -1;
	*(const char **)field = arg;
	return 0;
}

#define GLOBAL(f) offsetof(struct global_args, f)
const struct ctw_opt oci_global_opts[] = {
	{.name = "root",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "the state root (default: $CTRWATCH_STATE/oci, else\n"
		 "/run/ctrwatch/oci)",
	 .off = GLOBAL(root)},
	{.name = "log",
	 .kind = CTW_OPT_STR,
	 .metavar = "FILE",
	 .help = "log to FILE (errors are also printed on stderr)",
	 .off = GLOBAL(log)},
	{.name = "log-format",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "FORMAT",
	 .help = "text (default) or json: {\"time\",\"level\",\"msg\"}\n"
		 "lines",
	 .off = GLOBAL(log_format),
	 .parse = set_log_format},
	{.name = "debug",
	 .kind = CTW_OPT_CUSTOM,
	 .optional_arg = true,
	 .metavar = "BOOL",
	 .help = "log at debug level",
	 .off = GLOBAL(debug),
	 .parse = set_bool},
	{.name = "systemd-cgroup",
	 .kind = CTW_OPT_CUSTOM,
	 .optional_arg = true,
	 .metavar = "BOOL",
	 .help = "cgroupsPath in systemd's slice:prefix:name form\n"
		 "(accepted: that form is recognized without it\n"
		 "too, and mapped onto cgroupfs: ctrwatch creates\n"
		 "the cgroups itself)",
	 .off = GLOBAL(systemd_cgroup),
	 .parse = set_bool},
	{.name = "annotation",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "KEY=VALUE",
	 .help = "an annotation for every container create makes\n"
		 "whose config.json has no KEY (repeatable): a\n"
		 "runtime handler that traces all it runs, for\n"
		 "engines that pass no annotations (runtimeArgs)",
	 .off = GLOBAL(annotations),
	 .parse = add_annotation},
	{.name = "rootless",
	 .kind = CTW_OPT_STR,
	 .metavar = "VALUE",
	 .help = "accepted and ignored",
	 .off = GLOBAL(ignored)},
	{.name = "criu",
	 .kind = CTW_OPT_STR,
	 .metavar = "PATH",
	 .help = "accepted and ignored",
	 .off = GLOBAL(ignored)},
	{.name = "help",
	 .short_name = 'h',
	 .kind = CTW_OPT_FLAG,
	 .help = "this text; COMMAND --help for a command's",
	 .off = GLOBAL(help)},
	{.name = "version",
	 .short_name = 'v',
	 .kind = CTW_OPT_FLAG,
	 .help = "the version and the OCI spec version",
	 .off = GLOBAL(version)},
	{0},
};
#undef GLOBAL

static int bad_global(const char *cmd, const char *msg)
{
	fprintf(stderr, "ctrwatch: %s options: %s\n", cmd, msg);
	oci_usage(stderr);
	return CTW_EXIT_FAIL;
}

static int bad_global_value(const char *cmd, const char *msg)
{
	(void)cmd;
	fprintf(stderr, "ctrwatch: %s\n", msg);
	return CTW_EXIT_FAIL;
}

int ctw_oci_main(int argc, char **argv)
{
	static const struct ctw_opts_style style = {.in_order = true,
						    .long_only = true,
						    .usage_error = bad_global,
						    .value_error = bad_global_value};
	struct global_args g = {.root = ctw_oci_default_root(), .log_format = "text"};
	g_oci.log_fd = -1; /* no --log yet: errors go to stderr only */
	int i = ctw_opts_parse_style(&style, "global", oci_global_opts, argc, argv, &g);
	if (i < 0)
		return -i;
	if (g.help) {
		oci_usage(stdout);
		return CTW_EXIT_OK;
	}
	if (g.version) {
		printf("ctrwatch version %s (runc's command line)\nspec: %s\n", CTW_VERSION,
		       CTW_OCI_VERSION);
		return CTW_EXIT_OK;
	}
	g_oci.root = g.root;
	g_oci.annotations = g.annotations.v;
	g_oci.n_annotations = g.annotations.n;
	g_oci.systemd_cgroup = g.systemd_cgroup;
	const char *log = g.log, *log_format = g.log_format;
	bool debug = g.debug;
	if (log && *log) {
		g_oci.log_fd =
			open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
		if (g_oci.log_fd < 0) {
			fprintf(stderr, "ctrwatch: --log %s: %s\n", log, strerror(errno));
			return CTW_EXIT_FAIL;
		}
		ctw_log_set_fd(g_oci.log_fd);
	}
	ctw_log_set_format(!strcmp(log_format, "json") ? CTW_LOG_JSON : CTW_LOG_TEXT);
	ctw_log_set_level(debug ? CTW_LOG_DEBUG : CTW_LOG_WARN);
	if (i >= argc) {
		oci_usage(stderr);
		return CTW_EXIT_FAIL;
	}
	const struct oci_cmd *c = oci_find_cmd(argv[i]);
	if (!c) {
		fprintf(stderr, "ctrwatch: unknown command '%s'\n", argv[i]);
		oci_usage(stderr);
		return CTW_EXIT_FAIL;
	}
	/* --help of a command, before its first operand */
	for (int k = i + 1; k < argc && argv[k][0] == '-'; k++) {
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			if (c->usage)
				c->usage(stdout);
			return CTW_EXIT_OK;
		}
	}
	/* What enters a container must not be a binary it could write (runc
	 * CVE-2019-5736): create's init stays in it until start, exec's
	 * process until its execve.  Re-executed from a read-only copy. */
	if (!strcmp(c->name, "create") || !strcmp(c->name, "run") || !strcmp(c->name, "exec")) {
		struct ctw_err err = {0};
		if (ctw_exe_protect(&err))
			return oci_fail(&err);
	}
	return c->fn(argc - i, argv + i);
}

/* `ctrwatch oci ...` */
static int cmd_oci(int argc, char **argv)
{
	return ctw_oci_main(argc, argv);
}

CTW_COMMAND(oci, .name = "oci",
	    .summary = "runc's command line: ctrwatch as an OCI runtime (create, start, ...)",
	    .order = CTW_ORDER_RUNTIME + 90, .fn = cmd_oci, .usage = oci_usage)
