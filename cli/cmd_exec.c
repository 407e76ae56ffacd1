// SPDX-License-Identifier: Apache-2.0
/* ctrwatch exec: run a command in a running container. */
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct exec_args {
	struct ctw_exec_opts o;
	char **env; /* NULL-terminated, ours to free */
	size_t nenv;
};

static int add_env(const char *arg, void *field, char *why, size_t whylen)
{
	struct exec_args *a = field;

	(void)why, (void)whylen;
	a->env = xrealloc(a->env, (a->nenv + 2) * sizeof(char *));
	a->env[a->nenv++] = xstrdup(arg);
	a->env[a->nenv] = NULL;
	return 0;
}

#define ARG(f) offsetof(struct exec_args, f)
static const struct ctw_opt exec_opts[] = {
	{.name = "interactive",
	 .short_name = 'i',
	 .kind = CTW_OPT_FLAG,
	 .help = "keep stdin open",
	 .off = ARG(o.interactive)},
	{.name = "tty",
	 .short_name = 't',
	 .kind = CTW_OPT_FLAG,
	 .help = "allocate a pseudo-terminal",
	 .off = ARG(o.tty)},
	{.name = "env",
	 .short_name = 'e',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "K=V",
	 .help = "set an environment variable (repeatable)",
	 .off = 0,
	 .parse = add_env},
	{.name = "user",
	 .short_name = 'u',
	 .kind = CTW_OPT_STR,
	 .metavar = "USER[:GROUP]",
	 .help = "user (default: the container's)",
	 .off = ARG(o.user)},
	{.name = "workdir",
	 .short_name = 'w',
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "working directory (default: the container's; made when\n"
		 "missing, resolved in its root, none in /proc)",
	 .off = ARG(o.workdir)},
	{0},
};
#undef ARG

static void exec_usage(FILE *out)
{
	fputs("Usage: ctrwatch exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
	      "\n"
	      "Run a command in a running container: it joins every namespace and the\n"
	      "cgroups of the container and gets the same capabilities, no_new_privs and\n"
	      "seccomp filter as its command.  The exit status is the command's.\n"
	      "\n",
	      out);
	ctw_opts_print(out, exec_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch exec web ps\n"
	      "  ctrwatch exec -it web sh\n",
	      out);
}

static int cmd_exec(int argc, char **argv)
{
	struct exec_args a = {0};
	int rc, first = ctw_opts_parse_in_order("exec", exec_opts, argc, argv, &a);
	if (first < 0) {
		ctw_strv_free(a.env);
		return -first;
	}
	struct ctw_exec_opts o = a.o;
	char **env = a.env;
	if (argc - first < 2) {
		ctw_strv_free(env);
		return ctw_cmd_usage_error("exec", "exec: CONTAINER and COMMAND are required");
	}
	o.env = env;
	o.argv = argv + first + 1;
	struct ctw_err err = {0};
	int code = CTW_EXIT_RUNTIME;
	/* This may start us again from a copy of our binary the container
	 * cannot write (runtime/exe.c). */
	if (ctw_exe_protect(&err) || ctw_container_exec(argv[first], &o, &code, &err))
		fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
	rc = code;
	ctw_strv_free(env);
	return rc;
}

CTW_COMMAND(exec, .name = "exec", .summary = "run a command in a running container",
	    .order = CTW_ORDER_RUNTIME + 25, .fn = cmd_exec, .usage = exec_usage)
