// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch run --trace[=OPTIONS] [--trace-output FILE]`: a session started
 * before the container, fed the container's cgroup by the runtime's
 * on_cgroup_ready hook (before the user command runs), consumed by a
 * reader process while the runtime waits in the foreground.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"

struct ctw_trace_run {
	struct ctw_trace *t;
	char name[128];
	int fd;	     /* --trace-output, or -1 */
	char *words; /* OPTIONS, split in place: args points into it */
	char **argv;
	struct ctw_trace_args args;
};

/* Parse trace options out of one string of words ("-c -e trace=%file -T"). */
static int parse_opt_string(struct ctw_trace_run *r, const char *s, struct ctw_err *err)
{
	char *save = NULL;
	int argc = 0, rc;

	r->words = xstrdup(s ? s : "");
	r->argv = xcalloc(strlen(r->words) / 2 + 2, sizeof(*r->argv));
	for (char *w = strtok_r(r->words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		r->argv[argc++] = w;
	rc = ctw_trace_parse_args(&r->args, argc, r->argv, err);
	if (rc < 0)
		return rc;
	if (rc < argc || r->args.dashdash)
		return ctw_err_setx(err, EINVAL, "unexpected '%s' in the trace options",
				    r->args.dashdash ? "--" : r->argv[rc]);
	if (r->args.npids || r->args.all || r->args.name || r->args.from_exec || r->args.replay ||
	    r->args.k8s_namespace || r->args.pod)
		return ctw_err_setx(err, EINVAL,
				    "-p, --all, --name, -n, --pod, --from-exec and --replay are "
				    "not for run --trace");
	if (r->args.out_path)
		return ctw_err_setx(err, EINVAL, "-o is --trace-output FILE here");
	return 0;
}

static void run_free(struct ctw_trace_run *r)
{
	ctw_trace_free(r->t);
	if (r->fd >= 0)
		close(r->fd);
	ctw_trace_args_fini(&r->args);
	free(r->argv);
	free(r->words);
	free(r);
}

struct ctw_trace_run *ctw_trace_run_begin(const char *spec, const char *output, const char *name,
					  struct ctw_err *err)
{
	struct ctw_trace_run *r = xcalloc(1, sizeof(*r));
	struct ctw_trace_opts *o = &r->args.o;
	int rc;

	r->fd = -1;
	ctw_trace_args_init(&r->args);
	if (parse_opt_string(r, spec, err) < 0)
		goto out_free;
	/* -ff writes OUTPUT.PID files */
	r->args.out_path = output;
	if (ctw_trace_args_finish(&r->args, err) < 0)
		goto out_free;
	o->out_fd = STDERR_FILENO;
	/* as strace of the command: from its first execve on */
	o->follow_exec = !r->args.with_init;
	ctw_strlcpy(r->name, name ? name : "container", sizeof(r->name));
	if (output && !o->ff_prefix) {
		r->fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (r->fd < 0) {
			ctw_err_set(err, errno, "open `%s`", output);
			goto out_free;
		}
		o->out_fd = r->fd;
	}
	r->t = ctw_trace_new(o, err);
	if (!r->t)
		goto out_free;
	ctw_trace_set_default_name(r->t, r->name);
	rc = ctw_trace_start_reader(r->t);
	if (rc < 0) {
		ctw_err_set(err, -rc, "start the trace reader");
		goto out_free;
	}
	return r;

out_free:
	run_free(r);
	return NULL;
}

int ctw_trace_run_hook(uint64_t cgroup_id, void *ctx)
{
	struct ctw_trace_run *r = ctx;

	return ctw_trace_add_cgroup(r->t, cgroup_id, r->name);
}

int ctw_trace_run_end(struct ctw_trace_run *r)
{
	struct ctw_err err = {0};
	int rc;

	if (!r)
		return 0;
	rc = ctw_trace_finish(r->t, &err);
	if (rc < 0)
		pr_err("trace: %s", err.msg);
	run_free(r);
	return rc;
}
