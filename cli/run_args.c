// SPDX-License-Identifier: Apache-2.0
/*
 * The options of `ctrwatch run`, declared once (cli/options.h): each entry
 * is the getopt option, the parsing and checking of its value into struct
 * run_args, and its line of --help.  The repeatable ones (-e, -l, -v, -p,
 * --dns, ...) append to the lists of run_args.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "options.h"
#include "run_args.h"
#include "../lib/lib.h"

static void push(char ***v, size_t *n, char *s)
{
	/* Doubling at each power of two: an --env-file of 100 000 lines is
	 * read in linear time. */
	if ((*n & (*n + 1)) == 0)
		*v = xrealloc(*v, (2 * *n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* K=V lines of a file (blank lines and # comments skipped) onto a list. */
static int read_kv_file(const char *path, char ***list, size_t *n, char *why, size_t whylen)
{
	char *data;
	int r = ctw_read_file(path, &data, NULL);
	if (r) {
		snprintf(why, whylen, "%s", strerror(-r));
		return -1;
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
		push(list, n, xstrdup(line));
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

/* The value parsers: field is where .off says, 0 meaning the whole
 * struct run_args.  0, or -1 with what the value should be in why. */
#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

static int set_entrypoint(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	(void)why, (void)whylen;
	a->ep[0] = *arg ? (char *)arg : NULL;
	a->o.entrypoint = a->ep;
	a->o.entrypoint_set = true;
	return 0;
}

static int set_signal(const char *arg, void *field, char *why, size_t whylen)
{
	int sig = ctw_parse_signal(arg);

	if (sig < 0)
		return WHY("not a signal (TERM, SIGUSR1, 10)");
	*(int *)field = sig;
	return 0;
}

static int set_stop_timeout(const char *arg, void *field, char *why, size_t whylen)
{
	uint64_t u;

	if (ctw_parse_u64(arg, 0, 86400, &u))
		return WHY("want seconds, 0 to 86400");
	*(int *)field = (int)u;
	return 0;
}

static int add_env(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	(void)why, (void)whylen;
	push(&a->env, &a->nenv, xstrdup(arg));
	return 0;
}

static int add_env_file(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	return read_kv_file(arg, &a->env, &a->nenv, why, whylen);
}

static int add_label(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	if (!arg[0] || arg[0] == '=')
		return WHY("empty key");
	push(&a->labels, &a->nlabels, xstrdup(arg));
	return 0;
}

static int add_label_file(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	return read_kv_file(arg, &a->labels, &a->nlabels, why, whylen);
}

static int set_abs_path(const char *arg, void *field, char *why, size_t whylen)
{
	if (arg[0] != '/')
		return WHY("must be an absolute path");
	*(const char **)field = arg;
	return 0;
}

static int add_volume(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	a->vols = xrealloc(a->vols, (a->nvols + 1) * sizeof(*a->vols));
	if (parse_volume(arg, &a->vols[a->nvols]))
		return WHY("want HOST:CTR[:ro|rw], absolute paths");
	a->nvols++;
	return 0;
}

static int add_tmpfs(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	if (arg[0] != '/')
		return WHY("must be an absolute path");
	a->vols = xrealloc(a->vols, (a->nvols + 1) * sizeof(*a->vols));
	struct ctw_volume *v = &a->vols[a->nvols++];
	memset(v, 0, sizeof(*v));
	v->tmpfs = true;
	v->dst = xstrdup(arg);
	char *colon = strchr(v->dst, ':');
	if (colon) {
		*colon = '\0';
		v->tmpfs_opts = xstrdup(colon + 1);
	}
	return 0;
}

static int set_memory(const char *arg, void *field, char *why, size_t whylen)
{
	if (ctw_parse_bytes(arg, field) || *(uint64_t *)field < 6 * 1024 * 1024)
		return WHY("at least 6m; e.g. 64m, 1g");
	return 0;
}

static int set_cpus(const char *arg, void *field, char *why, size_t whylen)
{
	char *end;
	double d = strtod(arg, &end);

	if (*end || !(d >= 0.01) || d > 1024 || isnan(d))
		return WHY("want CPUs, 0.01 to 1024 (e.g. 0.5)");
	*(uint64_t *)field = (uint64_t)llround(d * 1000);
	return 0;
}

static int set_pids_limit(const char *arg, void *field, char *why, size_t whylen)
{
	char *end;
	long long v = strtoll(arg, &end, 10);

	if (*end || !*arg || v < -1)
		return WHY("want a number (0 or -1: no limit)");
	*(int64_t *)field = v > 0 ? v : 0;
	return 0;
}

static int add_caps(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	if (parse_caps(arg, &a->o.cap_add, &a->o.cap_add_all))
		return WHY("unknown capability");
	return 0;
}

static int drop_caps(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	if (parse_caps(arg, &a->o.cap_drop, &a->o.cap_drop_all))
		return WHY("unknown capability");
	return 0;
}

static int set_security_opt(const char *v, void *field, char *why, size_t whylen)
{
	struct ctw_run_opts *o = field;

	if (ctw_str_has_prefix(v, "seccomp=") || ctw_str_has_prefix(v, "seccomp:")) {
		if (!v[8])
			return WHY("seccomp= needs a value");
		o->seccomp = v + 8;
	} else if (!strcmp(v, "no-new-privileges") || !strcmp(v, "no-new-privileges=true") ||
		   !strcmp(v, "no-new-privileges:true")) {
		o->no_new_privs = true;
	} else if (!strcmp(v, "no-new-privileges=false") || !strcmp(v, "no-new-privileges:false")) {
		o->no_new_privs = false;
	} else {
		return WHY("unsupported (seccomp=..., no-new-privileges[=true|false])");
	}
	return 0;
}

static int set_net(const char *v, void *field, char *why, size_t whylen)
{
	struct ctw_run_opts *o = field;

	if (!strcmp(v, "none")) {
		o->net.mode = CTW_NET_NONE;
	} else if (!strcmp(v, "host")) {
		o->net.mode = CTW_NET_HOST;
	} else if (!strcmp(v, "bridge") || !strcmp(v, "default")) {
		o->net.mode = CTW_NET_BRIDGE;
	} else if (ctw_str_has_prefix(v, "container:") && v[10]) {
		o->net.mode = CTW_NET_CONTAINER;
		o->net_target = v + 10;
	} else {
		return WHY("none, host, bridge or container:NAME");
	}
	return 0;
}

static int add_publish(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;
	struct ctw_err err = {0};

	a->pub = xrealloc(a->pub, (a->npub + 1) * sizeof(*a->pub));
	if (ctw_net_parse_publish(arg, &a->pub[a->npub], &err))
		return WHY("%s", err.msg);
	a->npub++;
	return 0;
}

static int add_dns(const char *arg, void *field, char *why, size_t whylen)
{
	struct run_args *a = field;

	(void)why, (void)whylen;
	push(&a->dns, &a->ndns, xstrdup(arg));
	return 0;
}

static int set_trace(const char *arg, void *field, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	*(const char **)field = arg ? arg : "";
	return 0;
}
#undef WHY

#define ARG(f) offsetof(struct run_args, f)
#define RUN_OPT(f) offsetof(struct run_args, o.f)
/* Entries in the order and sections of --help. */
static const struct ctw_opt run_opts[] = {
	{.section = "Container",
	 .name = "name",
	 .kind = CTW_OPT_STR,
	 .metavar = "NAME",
	 .help = "container name (unique; default: the short id)",
	 .off = RUN_OPT(name)},
	{.name = "hostname",
	 .kind = CTW_OPT_STR,
	 .metavar = "NAME",
	 .help = "hostname (default: the name)",
	 .off = RUN_OPT(hostname)},
	{.name = "rootfs",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "use DIR as the (read-only) lower layer, no image",
	 .off = RUN_OPT(rootfs)},
	{.name = "detach",
	 .short_name = 'd',
	 .kind = CTW_OPT_FLAG,
	 .help = "run in the background, print the id",
	 .off = RUN_OPT(detach)},
	{.name = "rm",
	 .kind = CTW_OPT_FLAG,
	 .help = "remove when it exits (always, in the foreground)",
	 .off = RUN_OPT(remove)},
	{.name = "interactive",
	 .short_name = 'i',
	 .kind = CTW_OPT_FLAG,
	 .help = "keep stdin open",
	 .off = RUN_OPT(interactive)},
	{.name = "tty",
	 .short_name = 't',
	 .kind = CTW_OPT_FLAG,
	 .help = "allocate a pseudo-terminal",
	 .off = RUN_OPT(tty)},
	{.name = "init",
	 .kind = CTW_OPT_FLAG,
	 .help = "run ctrwatch's init as PID 1 (default: on)",
	 .off = RUN_OPT(init)},
	{.name = "no-init",
	 .kind = CTW_OPT_FLAG_OFF,
	 .help = "the command itself is PID 1",
	 .off = RUN_OPT(init)},
	{.name = "entrypoint",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "CMD",
	 .help = "override the image's Entrypoint (drops its Cmd)",
	 .off = 0,
	 .parse = set_entrypoint},
	{.name = "stop-signal",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "SIG",
	 .help = "signal `stop` sends (default: the image's, SIGTERM)",
	 .off = RUN_OPT(stop_signal),
	 .parse = set_signal},
	{.name = "stop-timeout",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "SECS",
	 .help = "seconds `stop` waits before SIGKILL (default 10)",
	 .off = RUN_OPT(stop_timeout),
	 .parse = set_stop_timeout},

	{.section = "Process",
	 .name = "env",
	 .short_name = 'e',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "K=V|K",
	 .help = "set an environment variable (K alone: from ours);\n"
		 "at most 65536 with the image's Env",
	 .off = 0,
	 .parse = add_env},
	{.name = "env-file",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "FILE",
	 .help = "read K=V lines from FILE",
	 .off = 0,
	 .parse = add_env_file},
	{.name = "workdir",
	 .short_name = 'w',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "DIR",
	 .help = "working directory inside the container (made when\n"
		 "missing; resolved in its root; none in /proc)",
	 .off = RUN_OPT(workdir),
	 .parse = set_abs_path},
	{.name = "label",
	 .short_name = 'l',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "K=V|K",
	 .help = "set a label (K alone: empty value); repeatable",
	 .off = 0,
	 .parse = add_label},
	{.name = "label-file",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "FILE",
	 .help = "read K=V lines from FILE (# comments)",
	 .off = 0,
	 .parse = add_label_file},
	{.name = "user",
	 .short_name = 'u',
	 .kind = CTW_OPT_STR,
	 .metavar = "USER[:GROUP]",
	 .help = "user, resolved in the image's /etc/passwd, group",
	 .off = RUN_OPT(user)},

	{.section = "Filesystem",
	 .name = "volume",
	 .short_name = 'v',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "HOST:CTR[:ro]",
	 .help = "bind-mount a host path",
	 .off = 0,
	 .parse = add_volume},
	{.name = "tmpfs",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PATH[:OPTS]",
	 .help = "mount a tmpfs",
	 .off = 0,
	 .parse = add_tmpfs},
	{.name = "read-only",
	 .kind = CTW_OPT_FLAG,
	 .help = "mount the root read-only",
	 .off = RUN_OPT(read_only)},

	{.section = "Resources (cgroup v2, or v1 controllers on hybrid hosts)",
	 .name = "memory",
	 .short_name = 'm',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "BYTES",
	 .help = "memory limit (64m, 1g); beyond it the OOM killer",
	 .off = RUN_OPT(memory),
	 .parse = set_memory},
	{.name = "cpus",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "N",
	 .help = "CPU quota (0.5 = half a CPU)",
	 .off = RUN_OPT(cpus_milli),
	 .parse = set_cpus},
	{.name = "pids-limit",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "N",
	 .help = "maximum number of processes",
	 .off = RUN_OPT(pids_limit),
	 .parse = set_pids_limit},
	{.name = "cgroup-parent",
	 .kind = CTW_OPT_STR,
	 .metavar = "P",
	 .help = "parent cgroup: relative to ours, or absolute with '/'\n"
		 "(default: $CTRWATCH_CGROUP_PARENT, else \"ctrwatch\")",
	 .off = RUN_OPT(cgroup_parent)},

	{.section = "Security",
	 .name = "cap-add",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "CAP",
	 .help = "add a capability (ALL for every one)",
	 .off = 0,
	 .parse = add_caps},
	{.name = "cap-drop",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "CAP",
	 .help = "drop a capability (ALL for every one)",
	 .off = 0,
	 .parse = drop_caps},
	{.name = "privileged",
	 .kind = CTW_OPT_FLAG,
	 .help = "all capabilities, no seccomp, no masked paths",
	 .off = RUN_OPT(privileged)},
	{.name = "security-opt",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "OPT",
	 .help = "seccomp=unconfined | seccomp=PROFILE.json |\n"
		 "no-new-privileges[=true|false] (default true)",
	 .off = ARG(o),
	 .parse = set_security_opt},

	{.section = "Network",
	 .name = "net",
	 .alias = "network",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "MODE",
	 .help = "bridge | none | host | container:NAME\n"
		 "(default: $CTRWATCH_NET, else bridge); also --network",
	 .off = ARG(o),
	 .parse = set_net},
	{.name = "publish",
	 .short_name = 'p',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "[IP:]HOST:CTR[/tcp|udp]",
	 .help = "publish a port (bridge mode)",
	 .off = 0,
	 .parse = add_publish},
	{.name = "dns",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "IP",
	 .help = "nameserver for the container's resolv.conf",
	 .off = 0,
	 .parse = add_dns},
	{.name = "subnet",
	 .kind = CTW_OPT_STR,
	 .metavar = "CIDR",
	 .help = "bridge subnet, while no container holds an address\n"
		 "(default: $CTRWATCH_SUBNET, the network config file,\n"
		 "else 172.30.0.0/16; see `ctrwatch network --help`)",
	 .off = RUN_OPT(net.subnet)},

	{.section = "Tracing (see ctrwatch trace --help)",
	 .name = "trace",
	 .kind = CTW_OPT_CUSTOM,
	 .optional_arg = true,
	 .metavar = "OPTIONS",
	 .help = "trace the command from its execve on, as strace CMD;\n"
		 "OPTIONS are trace's, as one word: --trace='-c -T'\n"
		 "(--trace=--with-init: the runtime's setup too)",
	 .off = ARG(trace_opts),
	 .parse = set_trace},
	{.name = "trace-output",
	 .kind = CTW_OPT_STR,
	 .metavar = "FILE",
	 .help = "write the trace to FILE (default: stderr)",
	 .off = ARG(trace_out)},
	{0},
};
#undef RUN_OPT
#undef ARG

/* The help column of run's page: its metavars are long. */
#define RUN_HELP_COLUMN 29

void ctw_run_args_print(FILE *out)
{
	ctw_opts_print_column(out, "Options", run_opts, true, RUN_HELP_COLUMN);
}

/* A bad value is a failure before the command starts: one line and 125,
 * as Docker; unknown options are usage errors (2). */
static int bad_value(const char *cmd, const char *msg)
{
	fprintf(stderr, "ctrwatch: %s: %s\n", cmd, msg);
	return CTW_EXIT_RUNTIME;
}

int ctw_run_args_parse(struct run_args *a, int argc, char **argv)
{
	static const struct ctw_opts_style style = {.in_order = true, .value_error = bad_value};

	memset(a, 0, sizeof(*a));
	ctw_run_opts_init(&a->o);
	return ctw_opts_parse_style(&style, "run", run_opts, argc, argv, a);
}

void ctw_run_args_free(struct run_args *a)
{
	ctw_strv_free(a->env);
	ctw_strv_free(a->labels);
	ctw_strv_free(a->dns);
	free(a->pub);
	for (size_t i = 0; i < a->nvols; i++) {
		free(a->vols[i].src);
		free(a->vols[i].dst);
		free(a->vols[i].tmpfs_opts);
	}
	free(a->vols);
}
