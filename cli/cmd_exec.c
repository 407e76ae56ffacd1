// SPDX-License-Identifier: Apache-2.0
/* ctrwatch exec: run a command in a running container. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void exec_usage(FILE *out)
{
	fputs("Usage: ctrwatch exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
	      "\n"
	      "Run a command in a running container: it joins every namespace and the\n"
	      "cgroups of the container and gets the same capabilities, no_new_privs and\n"
	      "seccomp filter as its command.  The exit status is the command's.\n"
	      "\n"
	      "Options:\n"
	      "  -i, --interactive      keep stdin open\n"
	      "  -t, --tty              allocate a pseudo-terminal\n"
	      "  -e, --env K=V          set an environment variable\n"
	      "  -u, --user USER[:GROUP]  user (default: the container's)\n"
	      "  -w, --workdir DIR      working directory (default: the container's; made when\n"
	      "                         missing, resolved in its root, none in /proc)\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch exec web ps\n"
	      "  ctrwatch exec -it web sh\n",
	      out);
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"interactive", no_argument, NULL, 'i'},   {"tty", no_argument, NULL, 't'},
		{"env", required_argument, NULL, 'e'},	   {"user", required_argument, NULL, 'u'},
		{"workdir", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0},
	};
	struct ctw_exec_opts o = {0};
	char **env = NULL;
	size_t nenv = 0;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ite:u:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o.interactive = true; break;
		case 't': o.tty = true; break;
		case 'e':
			env = xrealloc(env, (nenv + 2) * sizeof(char *));
			env[nenv++] = xstrdup(optarg);
			env[nenv] = NULL;
			break;
		case 'u': o.user = optarg; break;
		case 'w': o.workdir = optarg; break;
		default: ctw_strv_free(env); return ctw_cmd_usage_error("exec", "exec: bad option");
		}
	}
	if (argc - optind < 2) {
		ctw_strv_free(env);
		return ctw_cmd_usage_error("exec", "exec: CONTAINER and COMMAND are required");
	}
	o.env = env;
	o.argv = argv + optind + 1;
	struct ctw_err err = {0};
	int code = CTW_EXIT_RUNTIME;
	/* This may start us again from a copy of our binary the container
	 * cannot write (runtime/exe.c). */
	if (ctw_exe_protect(&err) || ctw_container_exec(argv[optind], &o, &code, &err))
		fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
	rc = code;
	ctw_strv_free(env);
	return rc;
}

CTW_COMMAND(exec, .name = "exec", .summary = "run a command in a running container",
	    .order = CTW_ORDER_RUNTIME + 25, .fn = cmd_exec, .usage = exec_usage)
