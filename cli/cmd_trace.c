// SPDX-License-Identifier: Apache-2.0
/* ctrwatch trace: strace for containers, with eBPF instead of ptrace. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../containers/containers.h"
#include "../runtime/runtime.h"
#include "../trace/trace.h"

static void trace_usage(FILE *out)
{
	fputs("Usage: ctrwatch trace [OPTIONS] CONTAINER...\n"
	      "       ctrwatch trace [OPTIONS] --all\n"
	      "       ctrwatch trace [OPTIONS] -p PID\n"
	      "       ctrwatch trace [OPTIONS] -- IMAGE [COMMAND [ARG...]]\n"
	      "       ctrwatch trace [OPTIONS] --replay FILE\n"
	      "\n"
	      "Trace the system calls of containers and print them as strace -f does, with\n"
	      "eBPF programs on the syscall tracepoints instead of ptrace: the traced\n"
	      "processes are not stopped at each call, so they run at close to full speed.\n"
	      "The kernel copies what each call reads and writes (paths, argv, structs,\n"
	      "data) with bounded sizes; ctrwatch decodes it as strace would:\n"
	      "\n"
	      "  [pid  1234] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3\n"
	      "  [pid  1234] newfstatat(3, \"\", {st_mode=S_IFREG|0644, st_size=4, ...}, "
	      "AT_EMPTY_PATH) = 0\n"
	      "  [pid  1233] wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 1234\n"
	      "  [pid  1233] --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---\n"
	      "  [pid  1234] +++ exited with 0 +++\n"
	      "\n"
	      "CONTAINER is a container's name or id as its engine knows it (ctrwatch,\n"
	      "Docker, Podman, containerd's NAMESPACE/ID, a Kubernetes container name; see\n"
	      "`ctrwatch containers`), NAMESPACE/POD/CONTAINER or POD/CONTAINER for a\n"
	      "Kubernetes container, a unique id prefix, a cgroup v2 path (absolute, or\n"
	      "relative to the cgroup v2 mount) or a PID (its cgroup).  A name that more than\n"
	      "one container has is an error that lists them: pick one by its full form or\n"
	      "id, or narrow with -n/--namespace and --pod.  Every cgroup below it is traced\n"
	      "too, also one made later (from its first syscall).  With `-- IMAGE CMD...` a\n"
	      "new container is started as `ctrwatch run` would and its command is traced\n"
	      "from its execve on, as strace CMD shows it; the exit status is then the\n"
	      "command's.  Otherwise tracing runs until Ctrl-C or until every traced cgroup\n"
	      "is gone.  Events the ring buffer could not take are counted in the kernel per\n"
	      "container and reported at the end.\n"
	      "\n"
	      "Options (spelled as strace spells them; -f is always on):\n",
	      out);
	ctw_trace_opts_print(out);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch trace web\n"
	      "  ctrwatch trace -n shop --pod cart-7d9f app\n"
	      "  ctrwatch trace -e trace=%network -T web db\n"
	      "  ctrwatch trace -f -o web.trace -e signal=none --quiet=exit web\n"
	      "  ctrwatch trace -ff -o /tmp/web -- busybox sh -c 'ls /; cat /etc/hostname'\n"
	      "  ctrwatch trace -c -- busybox sh -c 'ls /; cat /etc/hostname'\n"
	      "  ctrwatch trace --failed-only --json "
	      "/sys/fs/cgroup/system.slice/docker-3f2a.scope\n"
	      "  ctrwatch trace --seccomp-profile web.json -- busybox httpd -f\n"
	      "  ctrwatch run --security-opt seccomp=web.json busybox httpd -f\n",
	      out);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct target {
	char path[4096];
};

/* Are all traced cgroups gone (the containers exited)? */
static bool all_gone(const struct target *tg, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tg[i].path[0] || access(tg[i].path, F_OK) == 0)
			return false;
	return n > 0;
}

struct run_ctx {
	struct ctw_trace *t;
	const char *name;
};

static int on_cgroup_ready(uint64_t cgroup_id, void *ctx)
{
	struct run_ctx *rc = ctx;

	return ctw_trace_add_cgroup(rc->t, cgroup_id, rc->name);
}

/* `-- IMAGE CMD...`: run a new container, traced from its first syscall. */
static int trace_new_container(struct ctw_trace *t, const char *name, char **argv)
{
	struct ctw_run_opts ro;
	struct run_ctx rc = {.t = t, .name = name ? name : argv[0]};
	struct ctw_err err = {0};
	int exit_code = 0;

	ctw_run_opts_init(&ro);
	ro.name = name;
	ro.image = argv[0];
	ro.cmd = argv[1] ? argv + 1 : NULL;
	ro.on_cgroup_ready = on_cgroup_ready;
	ro.hook_ctx = &rc;
	int r;

	ctw_trace_set_default_name(t, rc.name);
	r = ctw_trace_start_reader(t);
	if (r < 0) {
		fprintf(stderr, "ctrwatch: trace: cannot start the reader: %s\n", strerror(-r));
		return CTW_EXIT_FAIL;
	}
	if (ctw_container_run(&ro, &exit_code, NULL, &err) < 0) {
		fprintf(stderr, "ctrwatch: run: %s\n", err.msg);
		return exit_code ? exit_code : CTW_EXIT_RUNTIME;
	}
	return exit_code;
}

static int add_target(struct ctw_trace *t, const char *spec, struct target *tg, bool quiet)
{
	struct ctw_trace_target tt;
	struct ctw_err err = {0};
	int rc;

	if (ctw_trace_resolve(spec, &tt, &err) < 0) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		return -1;
	}
	if (tt.cgroup_path[0])
		rc = ctw_trace_add_cgroup_tree(t, tt.cgroup_path, tt.name);
	else
		rc = ctw_trace_add_cgroup(t, tt.cgroup_id, tt.name);
	if (rc < 0) {
		fprintf(stderr, "ctrwatch: trace: %s: %s\n", spec, strerror(-rc));
		return -1;
	}
	ctw_strlcpy(tg->path, tt.cgroup_path, sizeof(tg->path));
	if (!quiet)
		fprintf(stderr, "ctrwatch: trace: attached to %s (cgroup %llu)\n", tt.name,
			(unsigned long long)tt.cgroup_id);
	return 0;
}

/* What the user typed, as the chosen container's cgroup path (select.c:
 * names, NAMESPACE/POD/CONTAINER, ids; an error lists ambiguous ones). */
static int select_target(struct ctw_registry **reg, const char *spec, const struct ctw_select *sel,
			 char *path, size_t size)
{
	struct ctw_err err = {0};
	struct ctw_container *c = xcalloc(1, sizeof(*c));

	if (!*reg)
		*reg = ctw_registry_new(&(struct ctw_registry_opts){0});
	int rc = *reg ? ctw_select_container(*reg, spec, sel, c, &err) : -ENOMEM;
	if (rc == 0) {
		ctw_strlcpy(path, c->cgroup_path, size);
		ctw_container_release(c);
	} else {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg[0] ? err.msg : strerror(-rc));
	}
	free(c);
	return rc;
}

/* --all: every container, those found at the start and those made later.
 * A registry fed by the kernel's cgroup stream adds each new container at
 * its cgroup's mkdir (cgroups made inside traced ones the kernel follows by
 * itself). */
struct all_ctx {
	struct ctw_trace *t;
	struct ctw_registry *reg;
	struct ctw_cgroup_stream *stream; /* NULL: new containers at rescans */
	uint64_t stream_lost, last_scan_ns;
	struct target **tg;
	size_t *ntg;
	bool started, quiet;
};

static void all_added(void *ctx, const struct ctw_container *c)
{
	struct all_ctx *ac = ctx;

	if (ctw_trace_add_cgroup_tree(ac->t, c->cgroup_path, c->name) < 0)
		return;
	*ac->tg = xrealloc(*ac->tg, (*ac->ntg + 1) * sizeof(**ac->tg));
	ctw_strlcpy((*ac->tg)[*ac->ntg].path, c->cgroup_path, sizeof((*ac->tg)[0].path));
	(*ac->ntg)++;
	if (ac->started && !ac->quiet)
		fprintf(stderr, "ctrwatch: trace: attached to %s (cgroup %llu), a new container\n",
			c->name, (unsigned long long)c->cgroup_id);
}

static int add_all(struct all_ctx *ac)
{
	ac->reg = ctw_registry_new(&(struct ctw_registry_opts){0});
	if (!ac->reg) {
		fprintf(stderr, "ctrwatch: trace: cannot scan the cgroup tree\n");
		return -1;
	}
	ctw_registry_set_hooks(ac->reg, all_added, NULL, NULL, ac);
	/* the stream first: a container made during the scan is not missed */
	ac->stream = ctw_cgroup_stream_new(ac->reg);
	if (ac->stream)
		ac->stream_lost = ctw_cgroup_stream_lost(ac->stream);
	if (ctw_registry_scan(ac->reg) < 0) {
		fprintf(stderr, "ctrwatch: trace: cannot scan the cgroup tree\n");
		return -1;
	}
	ac->last_scan_ns = ctw_now_ns();
	ac->started = true;
	fprintf(stderr, "ctrwatch: trace: attached to %zu containers%s\n", *ac->ntg,
		ac->stream ? ", and to those made from now on" : "");
	return 0;
}

/* --all, between batches of lines: containers made since (a rescan every
 * second without the stream, or when its ring lost records). */
static void all_follow(struct all_ctx *ac)
{
	uint64_t now = ctw_now_ns();

	if (ac->stream) {
		ctw_cgroup_stream_consume(ac->stream);
		uint64_t lost = ctw_cgroup_stream_lost(ac->stream);
		if (lost == ac->stream_lost)
			return;
		ac->stream_lost = lost;
	} else if (now - ac->last_scan_ns < 1000000000ull) {
		return;
	}
	ac->last_scan_ns = now;
	ctw_registry_scan(ac->reg);
}

/* --replay FILE: decode a recording as the options say; no kernel needed. */
static int replay(struct ctw_trace_args *a, bool extra_args)
{
	struct ctw_trace_fmt f = {
		.strsize = a->o.strsize || a->o.strsize_set ? a->o.strsize : 32,
		.durations = a->o.durations,
		.timestamps = a->o.timestamps,
		.json = a->o.json,
		.prefix = a->o.prefix,
		.decode_fds = a->o.decode_fds,
	};
	struct ctw_err err = {0};
	int fd = STDOUT_FILENO, rc;

	if (extra_args || a->npids || a->all || a->o.summary || a->o.summary_too ||
	    a->o.ff_prefix || a->o.record_path)
		return ctw_cmd_usage_error(
			"trace", "trace: --replay takes no CONTAINER, -p, --all, -c or -ff");
	if (a->out_path) {
		fd = open(a->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "ctrwatch: trace: open %s: %s\n", a->out_path,
				strerror(errno));
			return CTW_EXIT_FAIL;
		}
	}
	rc = ctw_trace_replay(a->replay, &f, &a->sel, fd, "", &err);
	if (fd != STDOUT_FILENO)
		close(fd);
	if (rc < 0) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	return CTW_EXIT_OK;
}

static int cmd_trace(int argc, char **argv)
{
	struct ctw_trace_args a;
	struct ctw_trace_opts *o = &a.o;
	struct ctw_err err = {0};
	struct ctw_trace *t = NULL;
	struct target *tg = NULL;
	struct ctw_registry *reg = NULL;
	struct ctw_select sel;
	size_t ntg = 0;
	struct all_ctx ac = {0};
	bool run_new, quiet;
	int first, ntargets, ret = CTW_EXIT_FAIL;

	ctw_trace_args_init(&a);
	first = ctw_trace_parse_args(&a, argc - 1, argv + 1, &err);
	if (first >= 0 && a.help) {
		trace_usage(stdout);
		ctw_trace_args_fini(&a);
		return CTW_EXIT_OK;
	}
	if (first < 0 || ctw_trace_args_finish(&a, &err) < 0) {
		ctw_trace_args_fini(&a);
		return ctw_cmd_usage_error("trace", "trace: %s", err.msg);
	}
	first++; /* index in argv */
	run_new = a.dashdash;
	ntargets = argc - first;
	if (a.replay) {
		ret = replay(&a, ntargets || run_new);
		ctw_trace_args_fini(&a);
		return ret;
	}
	quiet = a.sel.quiet & CTW_QUIET_ATTACH;
	sel = (struct ctw_select){.namespace_ = a.k8s_namespace, .pod = a.pod};
	if (run_new && ntargets < 1)
		ret = ctw_cmd_usage_error("trace", "trace: `--` needs an IMAGE");
	else if (!run_new && !ntargets && !a.all && !a.npids)
		ret = ctw_cmd_usage_error("trace",
					  "trace: give a CONTAINER, --all, -p PID or -- IMAGE CMD");
	else if (run_new && (a.all || a.npids))
		ret = ctw_cmd_usage_error("trace",
					  "trace: `-- IMAGE` cannot be combined with --all or -p");
	else if (!run_new && (a.with_init || a.name))
		ret = ctw_cmd_usage_error("trace", "trace: --with-init and --name need -- IMAGE");
	else
		ret = CTW_EXIT_OK;
	if (ret != CTW_EXIT_OK) {
		ctw_trace_args_fini(&a);
		return ret;
	}
	if (!ctw_cmd_privileged("trace", CTW_NEED_BPF | CTW_NEED_PERFMON)) {
		ctw_trace_args_fini(&a);
		return CTW_EXIT_FAIL;
	}
	ret = CTW_EXIT_FAIL;
	/* as strace: the command keeps stdout */
	o->out_fd = run_new ? STDERR_FILENO : STDOUT_FILENO;
	if (a.out_path && !o->ff_prefix) {
		o->out_fd = open(a.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o->out_fd < 0) {
			fprintf(stderr, "ctrwatch: trace: open %s: %s\n", a.out_path,
				strerror(errno));
			ctw_trace_args_fini(&a);
			return CTW_EXIT_FAIL;
		}
	}
	/* `-- IMAGE`: the command from its execve on, as strace CMD shows it */
	o->follow_exec = run_new ? !a.with_init : a.from_exec;
	o->show_container = !run_new && (a.all || ntargets > 1);

	t = ctw_trace_new(o, &err);
	if (!t) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (run_new) {
		ret = trace_new_container(t, a.name, argv + first);
		if (ctw_trace_finish(t, &err) < 0) {
			fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
			if (!ret)
				ret = CTW_EXIT_FAIL;
		}
		goto out;
	}

	tg = xcalloc(ntargets + a.npids + 1, sizeof(*tg));
	for (int i = first; i < argc; i++, ntg++) {
		char path[PATH_MAX];

		if (select_target(&reg, argv[i], &sel, path, sizeof(path)) < 0 ||
		    add_target(t, path, &tg[ntg], quiet) < 0)
			goto out;
	}
	/* -p alone: trace that process's cgroup, filtered to it */
	if (!ntargets && !a.all) {
		for (size_t i = 0; i < a.npids; i++, ntg++) {
			char spec[16];

			snprintf(spec, sizeof(spec), "%d", a.pids[i]);
			if (add_target(t, spec, &tg[ntg], quiet) < 0)
				goto out;
		}
	}
	ac = (struct all_ctx){.t = t, .tg = &tg, .ntg = &ntg, .quiet = quiet};
	if (a.all && add_all(&ac) < 0)
		goto out;

	while (!stop_signal) {
		/* --all: a new container's cgroup record is read within 5 ms,
		 * normally before its runtime has moved a process into it */
		int rc = ctw_trace_poll(t, a.all ? 5 : 100);

		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "ctrwatch: trace: ring buffer: %s\n", strerror(-rc));
			break;
		}
		if (a.all)
			all_follow(&ac); /* runs until stopped: more may come */
		else if (all_gone(tg, ntg))
			break;
	}
	ret = CTW_EXIT_OK;
	if (ctw_trace_finish(t, &err) < 0) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		ret = CTW_EXIT_FAIL;
	}

out:
	ctw_cgroup_stream_free(ac.stream);
	ctw_registry_free(ac.reg);
	ctw_registry_free(reg);
	ctw_trace_free(t);
	if (a.out_path && !o->ff_prefix && o->out_fd >= 0)
		close(o->out_fd);
	free(tg);
	ctw_trace_args_fini(&a);
	return ret;
}

CTW_COMMAND(trace, .name = "trace",
	    .summary = "strace for containers: live syscalls with arguments",
	    .order = CTW_ORDER_OBSERVE + 10, .fn = cmd_trace, .usage = trace_usage)
