// SPDX-License-Identifier: Apache-2.0
/* runc's list output, ps, update and events (cli/oci.c has the rest). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
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
		_exit(127);
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

int oci_cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f' || (strcmp(optarg, "json") && strcmp(optarg, "table")))
			return oci_usage_error("ps", "bad option (--format table|json)");
		json = !strcmp(optarg, "json");
	}
	if (optind >= argc)
		return oci_usage_error("ps", "a container id is required");
	const char *id = argv[optind];
	struct ctw_err err = {0};
	pid_t *pids;
	size_t n;
	if (ctw_oci_pids(g_oci.root, id, &pids, &n, &err))
		return oci_fail(&err);
	if (json) {
		if (optind + 1 < argc) {
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
	if (optind + 1 < argc) {
		args = xcalloc((size_t)(argc - optind) + 1, sizeof(char *));
		args[0] = "ps";
		for (int i = optind + 1; i < argc; i++)
			args[i - optind] = argv[i];
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

enum {
	U_RESOURCES = 'r',
	U_BLKIO = 256,
	U_CPU_PERIOD,
	U_CPU_QUOTA,
	U_CPU_BURST,
	U_RT_PERIOD,
	U_RT_RUNTIME,
	U_CPU_SHARE,
	U_CPUS,
	U_MEMS,
	U_KMEM,
	U_KMEM_TCP,
	U_MEMORY,
	U_MEM_RES,
	U_MEM_SWAP,
	U_PIDS,
	U_L3,
	U_MBA,
};

/* A byte count as runc reads one ("512m", "1g", "1024"), or -1. */
static int bytes_or_minus1(const char *v, int64_t *out)
{
	if (!strcmp(v, "-1")) {
		*out = -1;
		return 0;
	}
	uint64_t b;
	if (ctw_parse_bytes(v, &b) || b > INT64_MAX)
		return -EINVAL;
	*out = (int64_t)b;
	return 0;
}

int oci_cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{"resources", required_argument, NULL, U_RESOURCES},
		{"blkio-weight", required_argument, NULL, U_BLKIO},
		{"cpu-period", required_argument, NULL, U_CPU_PERIOD},
		{"cpu-quota", required_argument, NULL, U_CPU_QUOTA},
		{"cpu-burst", required_argument, NULL, U_CPU_BURST},
		{"cpu-rt-period", required_argument, NULL, U_RT_PERIOD},
		{"cpu-rt-runtime", required_argument, NULL, U_RT_RUNTIME},
		{"cpu-share", required_argument, NULL, U_CPU_SHARE},
		{"cpuset-cpus", required_argument, NULL, U_CPUS},
		{"cpuset-mems", required_argument, NULL, U_MEMS},
		{"kernel-memory", required_argument, NULL, U_KMEM},
		{"kernel-memory-tcp", required_argument, NULL, U_KMEM_TCP},
		{"memory", required_argument, NULL, U_MEMORY},
		{"memory-reservation", required_argument, NULL, U_MEM_RES},
		{"memory-swap", required_argument, NULL, U_MEM_SWAP},
		{"pids-limit", required_argument, NULL, U_PIDS},
		{"l3-cache-schema", required_argument, NULL, U_L3},
		{"mem-bw-schema", required_argument, NULL, U_MBA},
		{NULL, 0, NULL, 0},
	};
	struct ctw_spec_resources res = {0}, flags = {0};
	const char *file = NULL;
	int c, rc = -1;
	int64_t v;
	struct ctw_err err = {0};
	optind = 1;
	while (rc < 0 && (c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
		const char *name = c == '?' ? "?" : opts[0].name;
		for (const struct option *o = opts; o->name; o++)
			if (o->val == c)
				name = o->name;
		switch (c) {
		case U_RESOURCES: file = optarg; break;
		case U_MEMORY:
		case U_MEM_RES:
		case U_MEM_SWAP:
		case U_KMEM:
		case U_KMEM_TCP:
			if (bytes_or_minus1(optarg, &v)) {
				rc = oci_usage_error("update", "--%s %s: not a size", name, optarg);
				break;
			}
			*(c == U_MEMORY	    ? &flags.memory.limit
			  : c == U_MEM_RES  ? &flags.memory.reservation
			  : c == U_MEM_SWAP ? &flags.memory.swap
			  : c == U_KMEM	    ? &flags.memory.kernel
					: &flags.memory.kernel_tcp) = (struct ctw_oi64){v, true};
			break;
		case U_CPUS: flags.cpu.cpus = optarg; break;
		case U_MEMS: flags.cpu.mems = optarg; break;
		case U_L3:
		case U_MBA:
			rc = oci_usage_error("update",
					     "--%s: Intel RDT is not supported by ctrwatch", name);
			break;
		case '?': rc = oci_usage_error("update", "bad option"); break;
		default: {
			char *end;
			long long n = strtoll(optarg, &end, 10);
			if (!*optarg || *end) {
				rc = oci_usage_error("update", "--%s %s: not a number", name,
						     optarg);
				break;
			}
			if (c == U_PIDS)
				flags.pids_limit = (struct ctw_oi64){n, true};
			else if (c == U_CPU_QUOTA)
				flags.cpu.quota = (struct ctw_oi64){n, true};
			else if (c == U_RT_RUNTIME)
				flags.cpu.realtime_runtime = (struct ctw_oi64){n, true};
			else if (n < 0)
				rc = oci_usage_error("update", "--%s %s: negative", name, optarg);
			else if (c == U_BLKIO)
				flags.blkio.weight = (struct ctw_ou64){(uint64_t)n, true};
			else if (c == U_CPU_PERIOD)
				flags.cpu.period = (struct ctw_ou64){(uint64_t)n, true};
			else if (c == U_CPU_BURST)
				flags.cpu.burst = (struct ctw_ou64){(uint64_t)n, true};
			else if (c == U_RT_PERIOD)
				flags.cpu.realtime_period = (struct ctw_ou64){(uint64_t)n, true};
			else if (c == U_CPU_SHARE)
				flags.cpu.shares = (struct ctw_ou64){(uint64_t)n, true};
		}
		}
	}
	if (rc >= 0)
		return rc;
	const char *id;
	if ((rc = oci_one_id(argc, argv, "update", &id)) >= 0)
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

int oci_cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{"stats", no_argument, NULL, 's'},
		{"interval", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	bool stats = false;
	uint64_t interval = 5000000000ull;
	int c, rc;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 's') {
			stats = true;
		} else if (c == 'i') {
			if (ctw_parse_duration_ns(optarg, &interval) || !interval)
				return oci_usage_error("events",
						       "--interval %s: a duration like 5s", optarg);
		} else {
			return oci_usage_error("events", "bad option");
		}
	}
	const char *id;
	if ((rc = oci_one_id(argc, argv, "events", &id)) >= 0)
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
