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
	int fd;	      /* --trace-output, or -1 */
	char *filter; /* strings the session's options point to */
	char *profile;
};

/* Parse trace options out of one string of words ("-c -e trace=%file -T");
 * -e and --seccomp-profile values are copied into r.  Getopt is not used:
 * the caller may still be inside its own getopt loop. */
static int parse_opt_string(const char *s, struct ctw_trace_opts *o, struct ctw_trace_run *r,
			    struct ctw_err *err)
{
	_cleanup_free_ char *copy = xstrdup(s ? s : "");
	char *save = NULL;
	uint64_t v;

	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *arg = NULL;

		if (!strcmp(w, "-e") || !strcmp(w, "-s") || !strcmp(w, "--seccomp-profile") ||
		    !strcmp(w, "--buffer-size")) {
			arg = strtok_r(NULL, " \t", &save);
			if (!arg)
				return ctw_err_setx(err, EINVAL, "%s needs a value", w);
		}
		if (!strcmp(w, "-e")) {
			if (strchr(arg, '=') && !ctw_str_has_prefix(arg, "trace="))
				return ctw_err_setx(err, EINVAL, "only -e trace=... is supported");
			free(r->filter);
			o->filter = r->filter = xstrdup(arg);
		} else if (!strcmp(w, "-s")) {
			if (ctw_parse_u64(arg, 0, 1u << 20, &v) < 0)
				return ctw_err_setx(err, EINVAL, "bad string size '%s'", arg);
			o->strsize = v ? (unsigned)v : 1;
		} else if (!strcmp(w, "--seccomp-profile")) {
			free(r->profile);
			o->seccomp_profile = r->profile = xstrdup(arg);
		} else if (!strcmp(w, "--buffer-size")) {
			if (ctw_parse_bytes(arg, &v) < 0 || v < 4096 || (v & (v - 1)))
				return ctw_err_setx(err, EINVAL,
						    "--buffer-size must be a power of two >= 4k");
			o->ringbuf_bytes = v;
		} else if (!strcmp(w, "-c")) {
			o->summary = true;
		} else if (!strcmp(w, "-C")) {
			o->summary_too = true;
		} else if (!strcmp(w, "-T")) {
			o->durations = true;
		} else if (!strcmp(w, "-t")) {
			o->timestamps = 1;
		} else if (!strcmp(w, "-tt")) {
			o->timestamps = 2;
		} else if (!strcmp(w, "-Z") || !strcmp(w, "--failed")) {
			o->failed_only = true;
		} else if (!strcmp(w, "--json")) {
			o->json = true;
		} else if (!strcmp(w, "--stats")) {
			o->report_stats = true;
		} else {
			return ctw_err_setx(err, EINVAL, "unknown trace option '%s'", w);
		}
	}
	if (o->summary && o->summary_too)
		o->summary = false;
	return 0;
}

static void run_free(struct ctw_trace_run *r)
{
	ctw_trace_free(r->t);
	if (r->fd >= 0)
		close(r->fd);
	free(r->filter);
	free(r->profile);
	free(r);
}

struct ctw_trace_run *ctw_trace_run_begin(const char *spec, const char *output, const char *name,
					  struct ctw_err *err)
{
	struct ctw_trace_opts o = {.out_fd = STDERR_FILENO};
	struct ctw_trace_run *r = xcalloc(1, sizeof(*r));
	int rc;

	r->fd = -1;
	if (parse_opt_string(spec, &o, r, err) < 0)
		goto out_free;
	ctw_strlcpy(r->name, name ? name : "container", sizeof(r->name));
	if (output) {
		r->fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (r->fd < 0) {
			ctw_err_set(err, errno, "open `%s`", output);
			goto out_free;
		}
		o.out_fd = r->fd;
	}
	r->t = ctw_trace_new(&o, err);
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
