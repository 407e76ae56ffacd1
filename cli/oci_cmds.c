// SPDX-License-Identifier: Apache-2.0
/* runc's list output, ps, update and events (cli/oci.c has the rest). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include <jansson.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

void oci_print_list_json(const struct ctw_oci_info *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char t[48];
		ctw_format_time(v[i].created_ns, t, sizeof(t));
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion",
				     CTW_OCI_VERSION, "id", v[i].id, "pid", v[i].pid, "status",
				     ctw_oci_status_name(v[i].status), "bundle", v[i].bundle,
				     "rootfs", v[i].rootfs, "created", t, "owner", v[i].owner));
	}
	char *txt = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", txt);
	free(txt);
	json_decref(a);
}

void oci_print_list_table(const struct ctw_oci_info *v, size_t n)
{
	printf("%-24s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
	       "OWNER");
	for (size_t i = 0; i < n; i++) {
		char t[48];
		ctw_format_time(v[i].created_ns, t, sizeof(t));
		printf("%-24s %-8d %-10s %-40s %-32s %s\n", v[i].id, v[i].pid,
		       ctw_oci_status_name(v[i].status), v[i].bundle, t,
		       v[i].owner[0] ? v[i].owner : "root");
	}
}

/* ---- ps ---- */

/* Run ps with args, its output into *out. */
static int run_ps(char **args, char **out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp("ps", args);
		_exit(CTW_EXIT_NOTFOUND);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	int r = ctw_read_fd_capped(p[0], 16 << 20, out, NULL);
	close(p[0]);
	int ws;
	waitpid(pid, &ws, 0);
	if (!r && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
		r = -ECHILD;
	return r;
}

const struct ctw_opt oci_ps_opts[] = {
	{.name = "format",
	 .short_name = 'f',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "table|json",
	 .help = "ps's lines (default) or a JSON array of pids",
	 .off = 0,
	 .parse = oci_parse_format},
	{0},
};

int oci_cmd_ps(int argc, char **argv)
{
	bool json = false;
	int first = oci_parse("ps", oci_ps_opts, argc, argv, &json);
	if (first < 0)
		return -first;
	if (first >= argc)
		return oci_usage_error("ps", "a container id is required");
	const char *id = argv[first];
	struct ctw_err err = {0};
	pid_t *pids;
	size_t n;
	if (ctw_oci_pids(g_oci.root, id, &pids, &n, &err))
		return oci_fail(&err);
	if (json) {
		if (first + 1 < argc) {
			free(pids);
			return oci_usage_error("ps", "ps options go with --format table only");
		}
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		free(pids);
		return CTW_EXIT_OK;
	}
	/* As runc: the host's ps with the options given (-ef by default),
	 * only the header and the container's processes. */
	char *dflt[] = {"ps", "-ef", NULL};
	char **args = dflt;
	if (first + 1 < argc) {
		args = xcalloc((size_t)(argc - first) + 1, sizeof(char *));
		args[0] = "ps";
		for (int i = first + 1; i < argc; i++)
			args[i - first] = argv[i];
	}
	char *out = NULL;
	int r = run_ps(args, &out);
	if (args != dflt)
		free(args);
	if (r) {
		free(pids);
		free(out);
		ctw_err_set(&err, -r, "run ps");
		return oci_fail(&err);
	}
	int col = -1;
	for (char *save, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (col < 0) {
			/* the header: which column is PID */
			char *cp = xstrdup(l), *s2 = NULL;
			int k = 0;
			for (char *t = strtok_r(cp, " \t", &s2); t && col < 0;
			     t = strtok_r(NULL, " \t", &s2), k++)
				if (!strcmp(t, "PID"))
					col = k;
			free(cp);
			if (col < 0) {
				free(pids);
				free(out);
				ctw_err_setx(&err, EINVAL, "ps: no PID column in its output");
				return oci_fail(&err);
			}
			printf("%s\n", l);
			continue;
		}
		char *cp = xstrdup(l), *s2, *t = strtok_r(cp, " \t", &s2);
		for (int k = 0; t && k < col; k++)
			t = strtok_r(NULL, " \t", &s2);
		int pid = t ? atoi(t) : -1;
		free(cp);
		for (size_t i = 0; i < n; i++)
			if (pids[i] == pid) {
				printf("%s\n", l);
				break;
			}
	}
	free(pids);
	free(out);
	return CTW_EXIT_OK;
}

/* ---- update ---- */

/* A byte count as runc reads one ("512m", "1g", "1024"), or -1. */
static int set_bytes(const char *v, void *field, char *why, size_t whylen)
{
	uint64_t b;

	if (!strcmp(v, "-1")) {
		*(struct ctw_oi64 *)field = (struct ctw_oi64){-1, true};
		return 0;
	}
	if (ctw_parse_bytes(v, &b) || b > INT64_MAX) {
		snprintf(why, whylen, "not a size");
		return -1;
	}
	*(struct ctw_oi64 *)field = (struct ctw_oi64){(int64_t)b, true};
	return 0;
}

static int parse_ll(const char *v, long long *n, char *why, size_t whylen)
{
	char *end;

	*n = strtoll(v, &end, 10);
	if (!*v || *end) {
		snprintf(why, whylen, "not a number");
		return -1;
	}
	return 0;
}

static int set_int(const char *v, void *field, char *why, size_t whylen)
{
	long long n;

	if (parse_ll(v, &n, why, whylen))
		return -1;
	*(struct ctw_oi64 *)field = (struct ctw_oi64){n, true};
	return 0;
}

static int set_uint(const char *v, void *field, char *why, size_t whylen)
{
	long long n;

	if (parse_ll(v, &n, why, whylen))
		return -1;
	if (n < 0) {
		snprintf(why, whylen, "negative");
		return -1;
	}
	*(struct ctw_ou64 *)field = (struct ctw_ou64){(uint64_t)n, true};
	return 0;
}

static int refuse_rdt(const char *v, void *field, char *why, size_t whylen)
{
	(void)v, (void)field;
	snprintf(why, whylen, "Intel RDT is not supported by ctrwatch");
	return -1;
}

struct update_args {
	struct ctw_spec_resources flags;
	const char *file;
};

#define RES(f) offsetof(struct update_args, flags.f)
#define UPDATE_OPT(name_, metavar_, field, parse_, help_)                                        \
	{                                                                                        \
		.name = (name_), .kind = CTW_OPT_CUSTOM, .metavar = (metavar_), .help = (help_), \
		.off = (field), .parse = (parse_)                                                \
	}
const struct ctw_opt oci_update_opts[] = {
	{.name = "resources",
	 .short_name = 'r',
	 .kind = CTW_OPT_STR,
	 .metavar = "FILE|-",
	 .help = "the resources as JSON",
	 .off = offsetof(struct update_args, file)},
	UPDATE_OPT("memory", "BYTES", RES(memory.limit), set_bytes,
		   "memory limit (512m, 1g; -1: none)"),
	UPDATE_OPT("memory-swap", "BYTES", RES(memory.swap), set_bytes,
		   "memory + swap limit (-1: none)"),
	UPDATE_OPT("memory-reservation", "BYTES", RES(memory.reservation), set_bytes, "soft limit"),
	UPDATE_OPT("cpu-quota", "USECS", RES(cpu.quota), set_int, "CFS quota per period"),
	UPDATE_OPT("cpu-period", "USECS", RES(cpu.period), set_uint, "CFS period"),
	UPDATE_OPT("cpu-burst", "USECS", RES(cpu.burst), set_uint, "CFS burst"),
	UPDATE_OPT("cpu-rt-period", "USECS", RES(cpu.realtime_period), set_uint,
		   "real-time period"),
	UPDATE_OPT("cpu-rt-runtime", "USECS", RES(cpu.realtime_runtime), set_int,
		   "real-time runtime"),
	UPDATE_OPT("cpu-share", "SHARES", RES(cpu.shares), set_uint, "relative weight"),
	{.name = "cpuset-cpus",
	 .kind = CTW_OPT_STR,
	 .metavar = "LIST",
	 .help = "CPUs it may run on (0-3,6)",
	 .off = RES(cpu.cpus)},
	{.name = "cpuset-mems",
	 .kind = CTW_OPT_STR,
	 .metavar = "LIST",
	 .help = "memory nodes it may use",
	 .off = RES(cpu.mems)},
	UPDATE_OPT("pids-limit", "N", RES(pids_limit), set_int, "at most N processes (-1: none)"),
	UPDATE_OPT("blkio-weight", "N", RES(blkio.weight), set_uint, "10 to 1000"),
	UPDATE_OPT("kernel-memory", "BYTES", RES(memory.kernel), set_bytes,
		   "accepted, obsolete, ignored"),
	UPDATE_OPT("kernel-memory-tcp", "BYTES", RES(memory.kernel_tcp), set_bytes,
		   "accepted, obsolete, ignored"),
	UPDATE_OPT("l3-cache-schema", "SCHEMA", 0, refuse_rdt, "refused (Intel RDT)"),
	UPDATE_OPT("mem-bw-schema", "SCHEMA", 0, refuse_rdt, "refused (Intel RDT)"),
	{0},
};
#undef UPDATE_OPT
#undef RES

int oci_cmd_update(int argc, char **argv)
{
	struct update_args a = {0};
	struct ctw_spec_resources res = {0}, flags;
	const char *file;
	struct ctw_err err = {0};
	int rc, first = oci_parse("update", oci_update_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	flags = a.flags;
	file = a.file;
	const char *id;
	if ((rc = oci_one_id(argc, argv, first, "update", &id)) >= 0)
		return rc;
	if (file) {
		char *txt;
		size_t len;
		int r;
		if (!strcmp(file, "-")) {
			r = ctw_read_fd_capped(STDIN_FILENO, 1 << 20, &txt, &len);
		} else {
			int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			r = fd < 0 ? -errno : ctw_read_fd_capped(fd, 1 << 20, &txt, &len);
			if (fd >= 0)
				close(fd);
		}
		if (r) {
			ctw_err_set(&err, -r, "--resources %s", file);
			return oci_fail(&err);
		}
		r = ctw_spec_resources_parse(!strcmp(file, "-") ? "resources (stdin)" : file, txt,
					     len, &res, &err);
		free(txt);
		if (r)
			return oci_fail(&err);
	}
	/* The flags win over the file, as in runc. */
	struct ctw_spec_memory *m = &res.memory;
	if (flags.memory.limit.set)
		m->limit = flags.memory.limit;
	if (flags.memory.reservation.set)
		m->reservation = flags.memory.reservation;
	if (flags.memory.swap.set)
		m->swap = flags.memory.swap;
	if (flags.memory.kernel.set || flags.memory.kernel_tcp.set)
		pr_warn("update: kernel memory limits are obsolete (ignored)");
	if (flags.cpu.shares.set)
		res.cpu.shares = flags.cpu.shares;
	if (flags.cpu.quota.set)
		res.cpu.quota = flags.cpu.quota;
	if (flags.cpu.period.set)
		res.cpu.period = flags.cpu.period;
	if (flags.cpu.burst.set)
		res.cpu.burst = flags.cpu.burst;
	if (flags.cpu.realtime_period.set)
		res.cpu.realtime_period = flags.cpu.realtime_period;
	if (flags.cpu.realtime_runtime.set)
		res.cpu.realtime_runtime = flags.cpu.realtime_runtime;
	if (flags.cpu.cpus) {
		free(res.cpu.cpus);
		res.cpu.cpus = xstrdup(flags.cpu.cpus);
	}
	if (flags.cpu.mems) {
		free(res.cpu.mems);
		res.cpu.mems = xstrdup(flags.cpu.mems);
	}
	if (flags.pids_limit.set)
		res.pids_limit = flags.pids_limit;
	if (flags.blkio.weight.set)
		res.blkio.weight = flags.blkio.weight;
	/* Kernel memory is obsolete everywhere: not written. */
	m->kernel.set = m->kernel_tcp.set = false;
	int r = ctw_oci_update(g_oci.root, id, &res, &err);
	ctw_spec_resources_fini(&res);
	return r ? oci_fail(&err) : CTW_EXIT_OK;
}

/* ---- events ---- */

static volatile sig_atomic_t events_stop;

static void on_stop(int sig)
{
	(void)sig;
	events_stop = 1;
}

struct events_args {
	bool stats;
	uint64_t interval; /* ns */
};

const struct ctw_opt oci_events_opts[] = {
	{.name = "stats",
	 .kind = CTW_OPT_FLAG,
	 .help = "once, not every interval",
	 .off = offsetof(struct events_args, stats)},
	{.name = "interval",
	 .kind = CTW_OPT_DURATION,
	 .metavar = "DURATION",
	 .help = "between two (default 5s)",
	 .off = offsetof(struct events_args, interval)},
	{0},
};

int oci_cmd_events(int argc, char **argv)
{
	struct events_args a = {.interval = 5000000000ull};
	int rc, first = oci_parse("events", oci_events_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	bool stats = a.stats;
	uint64_t interval = a.interval;
	const char *id;
	if ((rc = oci_one_id(argc, argv, first, "events", &id)) >= 0)
		return rc;
	struct ctw_err err = {0};
	char *json;
	if (ctw_oci_stats(g_oci.root, id, &json, &err))
		return oci_fail(&err);
	printf("%s\n", json);
	fflush(stdout);
	free(json);
	if (stats)
		return CTW_EXIT_OK;
	/* Until the container stops (or we are told to): its stats every
	 * interval, as runc's events stream. */
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	while (!events_stop) {
		struct timespec ts = {(time_t)(interval / 1000000000ull),
				      (long)(interval % 1000000000ull)};
		nanosleep(&ts, NULL);
		if (events_stop)
			break;
		if (ctw_oci_stats(g_oci.root, id, &json, &err))
			break;
		printf("%s\n", json);
		fflush(stdout);
		free(json);
	}
	return CTW_EXIT_OK;
}
