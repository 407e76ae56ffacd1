// SPDX-License-Identifier: Apache-2.0
/* ctrwatch gc: clean up after runtimes that died. */
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static const struct ctw_opt gc_opts[] = {{0}};

static void gc_usage(FILE *out)
{
	fputs("Usage: ctrwatch gc\n"
	      "\n"
	      "Remove what a killed `ctrwatch run` (or monitor) left behind: containers whose\n"
	      "runtime is gone (their processes are killed), their cgroups, network, overlay\n"
	      "directories and state, plus directories and cgroups without state.  Detached\n"
	      "containers whose monitor died are marked exited and kept for `rm`; a state\n"
	      "directory a kill left without its state file (torn, or empty) goes too.  Also\n"
	      "the OCI containers (`ctrwatch oci`, in every state root used) whose `create`\n"
	      "was killed before it finished: their processes, cgroups and state.  Safe to\n"
	      "run at any time, also while containers start: containers with a live runtime,\n"
	      "and the directories a starting run has claimed, are not touched.\n"
	      "\n",
	      out);
	ctw_opts_print(out, gc_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch gc\n",
	      out);
}

static int cmd_gc(int argc, char **argv)
{
	int rc = ctw_opts_parse_only("gc", gc_opts, argc, argv, NULL);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	int n = ctw_container_gc(&err);
	if (n < 0) {
		fprintf(stderr, "ctrwatch: gc: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	n += ctw_oci_gc();
	printf("removed %d\n", n);
	/* Leases whose container left no state behind (or died meanwhile). */
	unsigned leases = 0;
	if (ctw_net_gc(&leases, &err) < 0)
		fprintf(stderr, "ctrwatch: gc: %s\n", err.msg);
	else if (leases)
		printf("released %u network lease%s\n", leases, leases == 1 ? "" : "s");
	return CTW_EXIT_OK;
}

CTW_COMMAND(gc, .name = "gc", .summary = "clean up what killed runs left behind",
	    .order = CTW_ORDER_RUNTIME + 60, .fn = cmd_gc, .usage = gc_usage)
