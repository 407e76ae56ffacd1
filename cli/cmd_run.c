// SPDX-License-Identifier: Apache-2.0
/* ctrwatch run: run a command in a new container. */
#include <stdio.h>

#include "cmd.h"
#include "run_args.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"
#include "../trace/trace.h"

static void run_usage(FILE *out)
{
	fputs("Usage: ctrwatch run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	      "       ctrwatch run [OPTIONS] --rootfs DIR [COMMAND [ARG...]]\n"
	      "\n"
	      "Run a command in a new container: new pid, mount, uts, ipc, net and cgroup\n"
	      "namespaces, an overlay root (the image's layers below a per-container upper\n"
	      "directory), its own cgroup, Docker's default capabilities and seccomp profile,\n"
	      "and a small init as PID 1.  The exit status is the command's (128+N when a\n"
	      "signal N killed it); 125 when the container could not be started, 126 when the\n"
	      "command is not executable, 127 when it is not found.  Foreground containers are\n"
	      "removed when they exit; detached ones stay until `ctrwatch rm`.\n"
	      "\n",
	      out);
	ctw_run_args_print(out);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch run busybox echo hi\n"
	      "  ctrwatch run --name web -d -m 64m busybox httpd -f -p 8080\n"
	      "  ctrwatch run -it busybox sh\n"
	      "  ctrwatch run -d -l app=web -l tier=front busybox sleep 1d\n"
	      "  ctrwatch run --rootfs /srv/rootfs -u nobody -v /data:/data:ro busybox ls /data\n"
	      "  ctrwatch run --cap-drop ALL --security-opt seccomp=profile.json busybox id\n",
	      out);
}

static int cmd_run(int argc, char **argv)
{
	struct run_args a;
	struct ctw_run_opts *o = &a.o;
	struct ctw_err err = {0};
	struct ctw_trace_run *trace = NULL;
	int rc = CTW_EXIT_RUNTIME;

	/* A bad value is a failure before the command starts: one line and
	 * 125, as Docker (the messages of BAD and of ctw_run_args_parse). */
#define BAD(...)                              \
	do {                                  \
		fputs("ctrwatch: ", stderr);  \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr);          \
		rc = CTW_EXIT_RUNTIME;        \
		goto out;                     \
	} while (0)

	int first = ctw_run_args_parse(&a, argc, argv);
	if (first < 0) {
		rc = -first;
		goto out;
	}
	if (!o->rootfs) {
		if (first >= argc)
			BAD("run: IMAGE (or --rootfs DIR) is required");
		o->image = argv[first++];
	}
	o->cmd = first < argc ? argv + first : NULL;
	o->env = a.env;
	o->labels = a.labels;
	o->volumes = a.vols;
	o->nvolumes = a.nvols;
	o->net.publish = a.pub;
	o->net.npublish = a.npub;
	o->net.dns = (const char *const *)a.dns;
	if (a.npub && o->net.mode != CTW_NET_BRIDGE)
		BAD("run: --publish needs --net bridge");
	if (o->net.mode == CTW_NET_HOST && o->hostname)
		pr_debug("--hostname with --net host sets only the UTS namespace's name");

	const char *trace_opts = a.trace_opts;
	if (a.trace_out && !trace_opts)
		trace_opts = "";
	if (trace_opts) {
		if (o->detach)
			BAD("run: --trace needs a foreground container");
		trace = ctw_trace_run_begin(trace_opts, a.trace_out, o->name ? o->name : o->image,
					    &err);
		if (!trace)
			BAD("run: --trace: %s", err.msg);
		o->on_cgroup_ready = ctw_trace_run_hook;
		o->hook_ctx = trace;
	}
	char id[65] = "";
	int exit_code = CTW_EXIT_RUNTIME;
	if (ctw_container_run(o, &exit_code, id, &err)) {
		fprintf(stderr, "ctrwatch: %s\n", err.msg);
		rc = exit_code;
		goto out;
	}
	if (o->detach)
		printf("%s\n", id);
	rc = exit_code;
out:
	ctw_trace_run_end(trace);
	ctw_run_args_free(&a);
	return rc;
#undef BAD
}

CTW_COMMAND(run, .name = "run", .summary = "run a command in a new container",
	    .order = CTW_ORDER_RUNTIME + 0, .fn = cmd_run, .usage = run_usage)
