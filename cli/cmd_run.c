// SPDX-License-Identifier: Apache-2.0
/* ctrwatch run: run a command in a new container. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"
#include "../trace/trace.h"

#pragma weak ctw_net_parse_publish

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
	      "\n"
	      "Container:\n"
	      "      --name NAME            container name (unique; default: the short id)\n"
	      "      --hostname NAME        hostname (default: the name)\n"
	      "      --rootfs DIR           use DIR as the (read-only) lower layer, no image\n"
	      "  -d, --detach               run in the background, print the id\n"
	      "      --rm                   remove when it exits (always, in the foreground)\n"
	      "  -i, --interactive          keep stdin open\n"
	      "  -t, --tty                  allocate a pseudo-terminal\n"
	      "      --init / --no-init     run ctrwatch's init as PID 1 (default: on)\n"
	      "      --entrypoint CMD       override the image's Entrypoint (drops its Cmd)\n"
	      "      --stop-signal SIG      signal `stop` sends (default: the image's, SIGTERM)\n"
	      "      --stop-timeout SECS    seconds `stop` waits before SIGKILL (default 10)\n"
	      "\n"
	      "Process:\n"
	      "  -e, --env K=V|K            set an environment variable (K alone: from ours);\n"
	      "                             at most 65536 with the image's Env\n"
	      "      --env-file FILE        read K=V lines from FILE\n"
	      "  -w, --workdir DIR          working directory inside the container (made when\n"
	      "                             missing; resolved in its root; none in /proc)\n"
	      "  -l, --label K=V|K          set a label (K alone: empty value); repeatable\n"
	      "      --label-file FILE      read K=V lines from FILE (# comments)\n"
	      "  -u, --user USER[:GROUP]    user, resolved in the image's /etc/passwd, group\n"
	      "\n"
	      "Filesystem:\n"
	      "  -v, --volume HOST:CTR[:ro] bind-mount a host path\n"
	      "      --tmpfs PATH[:OPTS]    mount a tmpfs\n"
	      "      --read-only            mount the root read-only\n"
	      "\n"
	      "Resources (cgroup v2, or v1 controllers on hybrid hosts):\n"
	      "  -m, --memory BYTES         memory limit (64m, 1g); beyond it the OOM killer\n"
	      "      --cpus N               CPU quota (0.5 = half a CPU)\n"
	      "      --pids-limit N         maximum number of processes\n"
	      "      --cgroup-parent P      parent cgroup: relative to ours, or absolute with '/'\n"
	      "                             (default: $CTRWATCH_CGROUP_PARENT, else \"ctrwatch\")\n"
	      "\n"
	      "Security:\n"
	      "      --cap-add CAP          add a capability (ALL for every one)\n"
	      "      --cap-drop CAP         drop a capability (ALL for every one)\n"
	      "      --privileged           all capabilities, no seccomp, no masked paths\n"
	      "      --security-opt OPT     seccomp=unconfined | seccomp=PROFILE.json |\n"
	      "                             no-new-privileges[=true|false] (default true)\n"
	      "\n"
	      "Network:\n"
	      "      --net MODE             bridge | none | host | container:NAME\n"
	      "                             (default: $CTRWATCH_NET, else bridge)\n"
	      "      --network MODE         same as --net\n"
	      "  -p, --publish [IP:]HOST:CTR[/tcp|udp]   publish a port (bridge mode)\n"
	      "      --dns IP               nameserver for the container's resolv.conf\n"
	      "      --subnet CIDR          bridge subnet, while no container holds an address\n"
	      "                             (default: $CTRWATCH_SUBNET, the network config file,\n"
	      "                             else 172.30.0.0/16; see `ctrwatch network --help`)\n"
	      "\n"
	      "Tracing (see `ctrwatch trace --help`):\n"
	      "      --trace[=OPTIONS]      trace the command from its execve on, as strace CMD;\n"
	      "                             OPTIONS are trace's, as one word: --trace='-c -T'\n"
	      "                             (--trace=--with-init: the runtime's setup too)\n"
	      "      --trace-output FILE    write the trace to FILE (default: stderr)\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch run busybox echo hi\n"
	      "  ctrwatch run --name web -d -m 64m busybox httpd -f -p 8080\n"
	      "  ctrwatch run -it busybox sh\n"
	      "  ctrwatch run -d -l app=web -l tier=front busybox sleep 1d\n"
	      "  ctrwatch run --rootfs /srv/rootfs -u nobody -v /data:/data:ro busybox ls /data\n"
	      "  ctrwatch run --cap-drop ALL --security-opt seccomp=profile.json busybox id\n",
	      out);
}

enum {
	OPT_NAME = 256,
	OPT_HOSTNAME,
	OPT_ROOTFS,
	OPT_RM,
	OPT_INIT,
	OPT_NO_INIT,
	OPT_ENTRYPOINT,
	OPT_STOP_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_ENV_FILE,
	OPT_TMPFS,
	OPT_READ_ONLY,
	OPT_CPUS,
	OPT_PIDS,
	OPT_CGROUP_PARENT,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_PRIVILEGED,
	OPT_SECOPT,
	OPT_NET,
	OPT_DNS,
	OPT_SUBNET,
	OPT_TRACE,
	OPT_TRACE_OUTPUT,
	OPT_LABEL_FILE,
};

static void push(char ***v, size_t *n, char *s)
{
	/* Doubling at each power of two: an --env-file of 100 000 lines is
	 * read in linear time. */
	if ((*n & (*n + 1)) == 0)
		*v = xrealloc(*v, (2 * *n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static int read_env_file(const char *opt, const char *path, char ***env, size_t *n)
{
	char *data;
	int r = ctw_read_file(path, &data, NULL);
	if (r) {
		fprintf(stderr, "ctrwatch: %s %s: %s\n", opt, path, strerror(-r));
		return r;
	}
	for (char *save, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		size_t l = strlen(line);
		while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
			line[--l] = '\0';
		if (!*line || *line == '#')
			continue;
		push(env, n, xstrdup(line));
	}
	free(data);
	return 0;
}

static int parse_volume(const char *spec, struct ctw_volume *v)
{
	char *s = xstrdup(spec);
	char *c1 = strchr(s, ':');
	if (!c1 || s[0] != '/') {
		free(s);
		return -EINVAL;
	}
	*c1 = '\0';
	char *dst = c1 + 1, *mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	if (dst[0] != '/' || (mode && strcmp(mode, "ro") && strcmp(mode, "rw"))) {
		free(s);
		return -EINVAL;
	}
	memset(v, 0, sizeof(*v));
	v->src = xstrdup(s);
	v->dst = xstrdup(dst);
	v->ro = mode && !strcmp(mode, "ro");
	free(s);
	return 0;
}

static int parse_caps(const char *arg, uint64_t *mask, bool *all)
{
	char *s = xstrdup(arg);
	int r = 0;
	for (char *save, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int c = ctw_cap_from_name(t);
		if (c == -2)
			*all = true;
		else if (c < 0)
			r = -EINVAL;
		else
			*mask |= 1ull << c;
	}
	free(s);
	return r;
}

static void free_volumes(struct ctw_volume *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].src);
		free(v[i].dst);
		free(v[i].tmpfs_opts);
	}
	free(v);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, OPT_NAME},
		{"hostname", required_argument, NULL, OPT_HOSTNAME},
		{"rootfs", required_argument, NULL, OPT_ROOTFS},
		{"detach", no_argument, NULL, 'd'},
		{"rm", no_argument, NULL, OPT_RM},
		{"interactive", no_argument, NULL, 'i'},
		{"tty", no_argument, NULL, 't'},
		{"init", no_argument, NULL, OPT_INIT},
		{"no-init", no_argument, NULL, OPT_NO_INIT},
		{"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
		{"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
		{"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
		{"env", required_argument, NULL, 'e'},
		{"env-file", required_argument, NULL, OPT_ENV_FILE},
		{"label", required_argument, NULL, 'l'},
		{"label-file", required_argument, NULL, OPT_LABEL_FILE},
		{"workdir", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},
		{"volume", required_argument, NULL, 'v'},
		{"tmpfs", required_argument, NULL, OPT_TMPFS},
		{"read-only", no_argument, NULL, OPT_READ_ONLY},
		{"memory", required_argument, NULL, 'm'},
		{"cpus", required_argument, NULL, OPT_CPUS},
		{"pids-limit", required_argument, NULL, OPT_PIDS},
		{"cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT},
		{"cap-add", required_argument, NULL, OPT_CAP_ADD},
		{"cap-drop", required_argument, NULL, OPT_CAP_DROP},
		{"privileged", no_argument, NULL, OPT_PRIVILEGED},
		{"security-opt", required_argument, NULL, OPT_SECOPT},
		{"net", required_argument, NULL, OPT_NET},
		{"network", required_argument, NULL, OPT_NET},
		{"publish", required_argument, NULL, 'p'},
		{"dns", required_argument, NULL, OPT_DNS},
		{"subnet", required_argument, NULL, OPT_SUBNET},
		{"trace", optional_argument, NULL, OPT_TRACE},
		{"trace-output", required_argument, NULL, OPT_TRACE_OUTPUT},
		{NULL, 0, NULL, 0},
	};
	struct ctw_run_opts o;
	ctw_run_opts_init(&o);
	char **env = NULL, **dns = NULL, **labels = NULL, *ep[2] = {NULL, NULL};
	size_t nenv = 0, ndns = 0, npub = 0, nlabels = 0;
	struct ctw_net_publish *pub = NULL;
	struct ctw_volume *vols = NULL;
	size_t nvols = 0;
	int rc = CTW_EXIT_RUNTIME, c;
	uint64_t u;
	struct ctw_err err = {0};
	const char *trace_opts = NULL, *trace_out = NULL;
	struct ctw_trace_run *trace = NULL;

	/* A bad value is a failure before the command starts: one line and
	 * 125, as Docker; unknown options are usage errors (2). */
#define BAD(...)                              \
	do {                                  \
		fputs("ctrwatch: ", stderr);  \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr);          \
		rc = CTW_EXIT_RUNTIME;        \
		goto out;                     \
	} while (0)

	optind = 1;
	while ((c = getopt_long(argc, argv, "+de:il:tm:p:u:v:w:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME: o.name = optarg; break;
		case OPT_HOSTNAME: o.hostname = optarg; break;
		case OPT_ROOTFS: o.rootfs = optarg; break;
		case 'd': o.detach = true; break;
		case OPT_RM: o.remove = true; break;
		case 'i': o.interactive = true; break;
		case 't': o.tty = true; break;
		case OPT_INIT: o.init = true; break;
		case OPT_NO_INIT: o.init = false; break;
		case OPT_ENTRYPOINT:
			o.entrypoint_set = true;
			ep[0] = *optarg ? optarg : NULL;
			o.entrypoint = ep;
			break;
		case OPT_STOP_SIGNAL:
			o.stop_signal = ctw_parse_signal(optarg);
			if (o.stop_signal < 0)
				BAD("run: invalid --stop-signal '%s'", optarg);
			break;
		case OPT_STOP_TIMEOUT:
			if (ctw_parse_u64(optarg, 0, 86400, &u))
				BAD("run: invalid --stop-timeout '%s' (seconds)", optarg);
			o.stop_timeout = (int)u;
			break;
		case 'e': push(&env, &nenv, xstrdup(optarg)); break;
		case OPT_ENV_FILE:
			if (read_env_file("--env-file", optarg, &env, &nenv))
				goto out;
			break;
		case 'l':
			if (!optarg[0] || optarg[0] == '=')
				BAD("run: --label '%s': empty key", optarg);
			push(&labels, &nlabels, xstrdup(optarg));
			break;
		case OPT_LABEL_FILE:
			if (read_env_file("--label-file", optarg, &labels, &nlabels))
				goto out;
			break;
		case 'w':
			if (optarg[0] != '/')
				BAD("run: --workdir '%s' must be an absolute path", optarg);
			o.workdir = optarg;
			break;
		case 'u': o.user = optarg; break;
		case 'v':
			vols = xrealloc(vols, (nvols + 1) * sizeof(*vols));
			if (parse_volume(optarg, &vols[nvols]))
				BAD("run: invalid --volume '%s' (HOST:CTR[:ro|rw], absolute paths)",
				    optarg);
			nvols++;
			break;
		case OPT_TMPFS: {
			if (optarg[0] != '/')
				BAD("run: --tmpfs '%s' must be an absolute path", optarg);
			vols = xrealloc(vols, (nvols + 1) * sizeof(*vols));
			struct ctw_volume *v = &vols[nvols++];
			memset(v, 0, sizeof(*v));
			v->tmpfs = true;
			v->dst = xstrdup(optarg);
			char *colon = strchr(v->dst, ':');
			if (colon) {
				*colon = '\0';
				v->tmpfs_opts = xstrdup(colon + 1);
			}
			break;
		}
		case OPT_READ_ONLY: o.read_only = true; break;
		case 'm':
			if (ctw_parse_bytes(optarg, &o.memory) || o.memory < 6 * 1024 * 1024)
				BAD("run: invalid --memory '%s' (at least 6m; e.g. 64m, 1g)",
				    optarg);
			break;
		case OPT_CPUS: {
			char *end;
			double d = strtod(optarg, &end);
			if (*end || !(d >= 0.01) || d > 1024 || isnan(d))
				BAD("run: invalid --cpus '%s' (e.g. 0.5)", optarg);
			o.cpus_milli = (uint64_t)llround(d * 1000);
			break;
		}
		case OPT_PIDS: {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (*end || !*optarg || v < -1)
				BAD("run: invalid --pids-limit '%s'", optarg);
			o.pids_limit = v > 0 ? v : 0;
			break;
		}
		case OPT_CGROUP_PARENT: o.cgroup_parent = optarg; break;
		case OPT_CAP_ADD:
			if (parse_caps(optarg, &o.cap_add, &o.cap_add_all))
				BAD("run: unknown capability in --cap-add '%s'", optarg);
			break;
		case OPT_CAP_DROP:
			if (parse_caps(optarg, &o.cap_drop, &o.cap_drop_all))
				BAD("run: unknown capability in --cap-drop '%s'", optarg);
			break;
		case OPT_PRIVILEGED: o.privileged = true; break;
		case OPT_SECOPT: {
			const char *v = optarg;
			if (ctw_str_has_prefix(v, "seccomp=") ||
			    ctw_str_has_prefix(v, "seccomp:")) {
				o.seccomp = v + 8;
				if (!*o.seccomp)
					BAD("run: --security-opt seccomp= needs a value");
			} else if (!strcmp(v, "no-new-privileges") ||
				   !strcmp(v, "no-new-privileges=true") ||
				   !strcmp(v, "no-new-privileges:true")) {
				o.no_new_privs = true;
			} else if (!strcmp(v, "no-new-privileges=false") ||
				   !strcmp(v, "no-new-privileges:false")) {
				o.no_new_privs = false;
			} else {
				BAD("run: unsupported --security-opt '%s'", v);
			}
			break;
		}
		case OPT_NET:
			if (!strcmp(optarg, "none")) {
				o.net.mode = CTW_NET_NONE;
			} else if (!strcmp(optarg, "host")) {
				o.net.mode = CTW_NET_HOST;
			} else if (!strcmp(optarg, "bridge") || !strcmp(optarg, "default")) {
				o.net.mode = CTW_NET_BRIDGE;
			} else if (ctw_str_has_prefix(optarg, "container:") && optarg[10]) {
				o.net.mode = CTW_NET_CONTAINER;
				o.net_target = optarg + 10;
			} else {
				BAD("run: invalid --net '%s' (none, host, bridge, container:NAME)",
				    optarg);
			}
			break;
		case 'p':
			if (!ctw_net_parse_publish) {
				fprintf(stderr,
					"ctrwatch: --publish %s: bridge networking not "
					"available yet\n",
					optarg);
				goto out;
			}
			pub = xrealloc(pub, (npub + 1) * sizeof(*pub));
			if (ctw_net_parse_publish(optarg, &pub[npub], &err)) {
				fprintf(stderr, "ctrwatch: --publish %s: %s\n", optarg, err.msg);
				rc = CTW_EXIT_USAGE;
				goto out;
			}
			npub++;
			break;
		case OPT_DNS: push(&dns, &ndns, xstrdup(optarg)); break;
		case OPT_SUBNET: o.net.subnet = optarg; break;
		case OPT_TRACE: trace_opts = optarg ? optarg : ""; break;
		case OPT_TRACE_OUTPUT: trace_out = optarg; break;
		default: rc = ctw_cmd_usage_error("run", "run: bad option"); goto out;
		}
	}
	if (!o.rootfs) {
		if (optind >= argc)
			BAD("run: IMAGE (or --rootfs DIR) is required");
		o.image = argv[optind++];
	}
	o.cmd = optind < argc ? argv + optind : NULL;
	o.env = env;
	o.labels = labels;
	o.volumes = vols;
	o.nvolumes = nvols;
	o.net.publish = pub;
	o.net.npublish = npub;
	o.net.dns = (const char *const *)dns;
	if (npub && o.net.mode != CTW_NET_BRIDGE)
		BAD("run: --publish needs --net bridge");
	if (o.net.mode == CTW_NET_HOST && o.hostname)
		pr_debug("--hostname with --net host sets only the UTS namespace's name");

	if (trace_out && !trace_opts)
		trace_opts = "";
	if (trace_opts) {
		if (o.detach)
			BAD("run: --trace needs a foreground container");
		trace = ctw_trace_run_begin(trace_opts, trace_out, o.name ? o.name : o.image, &err);
		if (!trace)
			BAD("run: --trace: %s", err.msg);
		o.on_cgroup_ready = ctw_trace_run_hook;
		o.hook_ctx = trace;
	}
	char id[65] = "";
	int exit_code = CTW_EXIT_RUNTIME;
	if (ctw_container_run(&o, &exit_code, id, &err)) {
		fprintf(stderr, "ctrwatch: %s\n", err.msg);
		rc = exit_code;
		goto out;
	}
	if (o.detach)
		printf("%s\n", id);
	rc = exit_code;
out:
	ctw_trace_run_end(trace);
	ctw_strv_free(env);
	ctw_strv_free(labels);
	ctw_strv_free(dns);
	free(pub);
	free_volumes(vols, nvols);
	return rc;
#undef BAD
}

CTW_COMMAND(run, .name = "run", .summary = "run a command in a new container",
	    .order = CTW_ORDER_RUNTIME + 0, .fn = cmd_run, .usage = run_usage)
