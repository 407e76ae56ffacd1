/* SPDX-License-Identifier: Apache-2.0 */
/* The options of `ctrwatch run` (cli/run_args.c), parsed into one struct. */
#ifndef CTW_CLI_RUN_ARGS_H
#define CTW_CLI_RUN_ARGS_H

#include <stdio.h>

#include "../runtime/runtime.h"

struct run_args {
	struct ctw_run_opts o;	     /* the lists below not yet in it */
	char **env, **labels, **dns; /* NULL-terminated, ours to free */
	size_t nenv, nlabels, ndns;
	struct ctw_net_publish *pub;
	size_t npub;
	struct ctw_volume *vols; /* -v and --tmpfs, in their order */
	size_t nvols;
	char *ep[2];			    /* --entrypoint */
	const char *trace_opts, *trace_out; /* --trace[=OPTIONS], --trace-output */
};

/* Parse run's options (they end at IMAGE) into a: the index of the first
 * operand, or -(exit code) after the message: 2 for an unknown option, 125
 * for a bad value.  Free a with ctw_run_args_free in either case. */
int ctw_run_args_parse(struct run_args *a, int argc, char **argv);
void ctw_run_args_free(struct run_args *a);
/* The option sections of run's --help. */
void ctw_run_args_print(FILE *out);

#endif /* CTW_CLI_RUN_ARGS_H */
