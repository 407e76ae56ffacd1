// SPDX-License-Identifier: Apache-2.0
/* ctrwatch trace: strace for containers, with eBPF instead of ptrace. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
	      "\n"
	      "Trace the system calls of containers, the way strace does, but with eBPF\n"
	      "programs on the syscall tracepoints instead of ptrace: the traced processes\n"
	      "are not stopped at each call, so they run at close to full speed.  Arguments\n"
	      "are captured in the kernel at entry (paths, execve argv, sockaddrs, data\n"
	      "written) and at exit (accept's peer, data read); one line is printed per call:\n"
	      "\n"
	      "  [web] 1234 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3\n"
	      "  [web] 1234 stat(\"/nope\", 0x7ffc...) = -1 ENOENT (No such file or directory)\n"
	      "\n"
	      "CONTAINER is a container's name or id as its engine knows it (ctrwatch,\n"
	      "Docker, Podman, containerd's NAMESPACE/ID, a Kubernetes container name; see\n"
	      "`ctrwatch containers`), NAMESPACE/POD/CONTAINER or POD/CONTAINER for a\n"
	      "Kubernetes container, a unique id prefix, a cgroup v2 path (absolute, or\n"
	      "relative to the cgroup v2 mount) or a PID (its cgroup).  A name that more than\n"
	      "one container has is an error that lists them: pick one by its full form or\n"
	      "id, or narrow with -n/--namespace and --pod.  Every cgroup below it is traced\n"
	      "too, also one made later (from its first syscall).  With `-- IMAGE CMD...` a\n"
	      "new container is started as `ctrwatch run` would and traced from its very first\n"
	      "syscall; the exit status is then the command's.  Otherwise tracing runs until\n"
	      "Ctrl-C or until every traced cgroup is gone.  Events the ring buffer could not\n"
	      "take are counted in the kernel per container and reported at the end.\n"
	      "\n"
	      "Options (spelled as strace spells them):\n"
	      "  -e trace=SET       only these syscalls: names and classes, comma-separated,\n"
	      "                     '!' in front negates; classes: %file %network %process\n"
	      "                     %memory %signal %ipc %desc (e.g. -e trace=%file,connect)\n"
	      "  -p PID             only this process (repeatable); its cgroup is traced\n"
	      "  -c                 count calls, errors and time per syscall; print the\n"
	      "                     table (strace -c layout) at the end instead of lines\n"
	      "  -C                 like -c, and print the lines too\n"
	      "  -T                 show the time spent in each call: <0.000012>\n"
	      "  -t, -tt            prefix lines with the time of day (-tt: microseconds)\n"
	      "  -o FILE            write lines and the summary to FILE\n"
	      "  -s N               show at most N bytes of string data (default 32)\n"
	      "  -Z, --failed       only calls that failed\n"
	      "      --json         one JSON object per call: container, pid, tid, comm,\n"
	      "                     syscall, args, ret, errno, duration_ns, ts_ns\n"
	      "      --seccomp-profile FILE\n"
	      "                     at the end, write a Docker-format seccomp profile that\n"
	      "                     allows exactly the syscalls seen (for `run --security-opt\n"
	      "                     seccomp=FILE`)\n"
	      "      --all          trace every container the registry knows\n"
	      "  -n, --namespace NS only a container of Kubernetes (or containerd)\n"
	      "                     namespace NS\n"
	      "      --pod POD      only a container of pod POD\n"
	      "      --name NAME    with `-- IMAGE`: the new container's name\n"
	      "      --stats        at the end, print events, events/s and losses on stderr\n"
	      "      --buffer-size BYTES\n"
	      "                     ring buffer size (default 32m; a power of two)\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch trace web\n"
	      "  ctrwatch trace -n shop --pod cart-7d9f app\n"
	      "  ctrwatch trace -e trace=%network -T web db\n"
	      "  ctrwatch trace -c -- busybox sh -c 'ls /; cat /etc/hostname'\n"
	      "  ctrwatch trace --failed --json /sys/fs/cgroup/system.slice/docker-3f2a.scope\n"
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
		return exit_code ? exit_code : 125;
	}
	return exit_code;
}

static int add_target(struct ctw_trace *t, const char *spec, struct target *tg)
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
	if (rc == 0)
		ctw_strlcpy(path, c->cgroup_path, size);
	else
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg[0] ? err.msg : strerror(-rc));
	free(c);
	return rc;
}

static int add_all(struct ctw_trace *t, struct target **tg, size_t *ntg)
{
	struct ctw_registry_opts ro = {0};
	struct ctw_registry *r = ctw_registry_new(&ro);
	int n;

	if (!r || (n = ctw_registry_scan(r)) < 0) {
		fprintf(stderr, "ctrwatch: trace: cannot scan the cgroup tree\n");
		ctw_registry_free(r);
		return -1;
	}
	for (size_t i = 0; i < ctw_registry_count(r); i++) {
		const struct ctw_container *c = ctw_registry_at(r, i);

		if (ctw_trace_add_cgroup_tree(t, c->cgroup_path, c->name) < 0)
			continue;
		*tg = xrealloc(*tg, (*ntg + 1) * sizeof(**tg));
		ctw_strlcpy((*tg)[*ntg].path, c->cgroup_path, sizeof((*tg)[0].path));
		(*ntg)++;
	}
	ctw_registry_free(r);
	fprintf(stderr, "ctrwatch: trace: attached to %zu containers\n", *ntg);
	return 0;
}

static int cmd_trace(int argc, char **argv)
{
	enum { OPT_JSON = 1000, OPT_PROFILE, OPT_ALL, OPT_STATS, OPT_BUFSIZE, OPT_NAME, OPT_POD };
	static const struct option opts[] = {
		{"failed", no_argument, NULL, 'Z'},
		{"json", no_argument, NULL, OPT_JSON},
		{"seccomp-profile", required_argument, NULL, OPT_PROFILE},
		{"all", no_argument, NULL, OPT_ALL},
		{"stats", no_argument, NULL, OPT_STATS},
		{"buffer-size", required_argument, NULL, OPT_BUFSIZE},
		{"name", required_argument, NULL, OPT_NAME},
		{"namespace", required_argument, NULL, 'n'},
		{"pod", required_argument, NULL, OPT_POD},
		{NULL, 0, NULL, 0},
	};
	struct ctw_trace_opts o = {.out_fd = STDOUT_FILENO};
	struct ctw_err err = {0};
	struct ctw_trace *t = NULL;
	struct target *tg = NULL;
	size_t ntg = 0;
	const char *out_path = NULL, *name = NULL;
	int *pids = NULL;
	size_t npids = 0;
	bool all = false, run_new;
	struct ctw_select sel = {0};
	struct ctw_registry *reg = NULL;
	int c, ret = CTW_EXIT_FAIL;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+e:p:cCTto:s:Zn:", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (strchr(optarg, '=') && !ctw_str_has_prefix(optarg, "trace="))
				return ctw_cmd_usage_error("trace",
							   "trace: only -e trace=... is supported");
			o.filter = optarg;
			break;
		case 'p':
			if (ctw_parse_u64(optarg, 1, INT32_MAX, &v) < 0)
				return ctw_cmd_usage_error("trace", "trace: bad PID '%s'", optarg);
			pids = xrealloc(pids, (npids + 1) * sizeof(*pids));
			pids[npids++] = (int)v;
			break;
		case 'c': o.summary = true; break;
		case 'C': o.summary_too = true; break;
		case 'T': o.durations = true; break;
		case 't': o.timestamps++; break;
		case 'o': out_path = optarg; break;
		case 's':
			if (ctw_parse_u64(optarg, 0, 1u << 20, &v) < 0) {
				free(pids);
				return ctw_cmd_usage_error("trace", "trace: bad string size '%s'",
							   optarg);
			}
			o.strsize = v ? (unsigned)v : 1;
			break;
		case 'Z': o.failed_only = true; break;
		case OPT_JSON: o.json = true; break;
		case OPT_PROFILE: o.seccomp_profile = optarg; break;
		case OPT_ALL: all = true; break;
		case OPT_STATS: o.report_stats = true; break;
		case OPT_NAME: name = optarg; break;
		case 'n': sel.namespace_ = optarg; break;
		case OPT_POD: sel.pod = optarg; break;
		case OPT_BUFSIZE:
			if (ctw_parse_bytes(optarg, &v) < 0 || v < 4096 || (v & (v - 1))) {
				free(pids);
				return ctw_cmd_usage_error(
					"trace",
					"trace: --buffer-size must be a power of two >= 4k");
			}
			o.ringbuf_bytes = v;
			break;
		default: free(pids); return ctw_cmd_usage_error("trace", "trace: bad option");
		}
	}
	if (o.summary && o.summary_too)
		o.summary = false; /* -C wins, as in strace */
	run_new = optind > 0 && optind <= argc && !strcmp(argv[optind - 1], "--");
	if (run_new && optind >= argc) {
		free(pids);
		return ctw_cmd_usage_error("trace", "trace: `--` needs an IMAGE");
	}
	if (!run_new && optind >= argc && !all && !npids) {
		free(pids);
		return ctw_cmd_usage_error(
			"trace", "trace: give a CONTAINER, --all, -p PID or -- IMAGE CMD");
	}
	if (run_new && (all || npids)) {
		free(pids);
		return ctw_cmd_usage_error("trace",
					   "trace: `-- IMAGE` cannot be combined with --all or -p");
	}
	o.pids = pids;
	o.npids = npids;
	if (run_new)
		o.out_fd = STDERR_FILENO; /* as strace: the command keeps stdout */
	if (out_path) {
		o.out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o.out_fd < 0) {
			fprintf(stderr, "ctrwatch: trace: open %s: %s\n", out_path,
				strerror(errno));
			free(pids);
			return CTW_EXIT_FAIL;
		}
	}

	t = ctw_trace_new(&o, &err);
	if (!t) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (run_new) {
		ret = trace_new_container(t, name, argv + optind);
		if (ctw_trace_finish(t, &err) < 0) {
			fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
			if (!ret)
				ret = CTW_EXIT_FAIL;
		}
		goto out;
	}

	if (!run_new) {
		tg = xcalloc(argc - optind + npids + 1, sizeof(*tg));
		for (int i = optind; i < argc; i++, ntg++) {
			char path[PATH_MAX];

			if (select_target(&reg, argv[i], &sel, path, sizeof(path)) < 0 ||
			    add_target(t, path, &tg[ntg]) < 0)
				goto out;
		}
		/* -p alone: trace that process's cgroup, filtered to it */
		if (optind >= argc && !all) {
			for (size_t i = 0; i < npids; i++, ntg++) {
				char spec[16];

				snprintf(spec, sizeof(spec), "%d", pids[i]);
				if (add_target(t, spec, &tg[ntg]) < 0)
					goto out;
			}
		}
		if (all && add_all(t, &tg, &ntg) < 0)
			goto out;
	}

	while (!stop_signal) {
		int rc = ctw_trace_poll(t, 100);

		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "ctrwatch: trace: ring buffer: %s\n", strerror(-rc));
			break;
		}
		if (all_gone(tg, ntg))
			break;
	}
	ret = CTW_EXIT_OK;
	if (ctw_trace_finish(t, &err) < 0) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		ret = CTW_EXIT_FAIL;
	}

out:
	ctw_registry_free(reg);
	ctw_trace_free(t);
	if (out_path && o.out_fd >= 0)
		close(o.out_fd);
	free(tg);
	free(pids);
	return ret;
}

CTW_COMMAND(trace, .name = "trace",
	    .summary = "strace for containers: live syscalls with arguments",
	    .order = CTW_ORDER_OBSERVE + 10, .fn = cmd_trace, .usage = trace_usage)
