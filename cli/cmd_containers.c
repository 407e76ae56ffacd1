// SPDX-License-Identifier: Apache-2.0
/* ctrwatch containers: every container on the host, from every engine. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../agent/agent.h"

struct containers_args {
	bool json;
	const char *ns, *pod, *runtime;
	struct ctw_registry_opts ro;
};

#define ARG(f) offsetof(struct containers_args, f)
static const struct ctw_opt containers_opts[] = {
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "one JSON array: id, runtime, name, pod, namespace,\n"
		 "image, cgroup_id, cgroup_path, pid, state, since\n"
		 "(RFC 3339), since_ns, labels",
	 .off = ARG(json)},
	{.name = "namespace",
	 .short_name = 'n',
	 .kind = CTW_OPT_STR,
	 .metavar = "NS",
	 .help = "only containers of Kubernetes namespace NS (or of\ncontainerd namespace NS)",
	 .off = ARG(ns)},
	{.name = "pod",
	 .kind = CTW_OPT_STR,
	 .metavar = "POD",
	 .help = "only containers of pod POD",
	 .off = ARG(pod)},
	{.name = "runtime",
	 .kind = CTW_OPT_STR,
	 .metavar = "NAME",
	 .help = "only containers of this runtime",
	 .off = ARG(runtime)},
	{.name = "host-root",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "where the host's / is (engine files are read below it;\n"
		 "default /, in a pod e.g. /host)",
	 .off = ARG(ro.host_root)},
	{.name = "proc-root",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "the host's /proc (default /proc)",
	 .off = ARG(ro.proc_root)},
	{.name = "cgroup-root",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "the cgroup v2 mount, or a cgroup below it to list only\n"
		 "containers there (default: detected)",
	 .off = ARG(ro.cgroup_root)},
	{0},
};
#undef ARG

static void containers_usage(FILE *out)
{
	fputs("Usage: ctrwatch containers [--json] [-n NAMESPACE] [--pod POD] [--runtime NAME]\n"
	      "                           [--host-root DIR] [--proc-root DIR] [--cgroup-root DIR]\n"
	      "\n"
	      "List every container this host runs, whatever started it: ctrwatch, Docker,\n"
	      "Podman, containerd (ctr, nerdctl, Kubernetes through CRI), CRI-O, or a plain\n"
	      "runc or crun.  Containers are found the way the agent and `trace` find them:\n"
	      "by walking the cgroup v2 tree, then named from what their engine wrote, wherever\n"
	      "its data root is (the OCI runtime's state, the bundle's config.json, Docker's\n"
	      "config.v2.json, Podman's containers.json and bolt_state.db, containerd's\n"
	      "meta.db).  A container whose engine files cannot be read is still listed, by\n"
	      "its short id.\n"
	      "\n"
	      "Columns:\n"
	      "  ID         the engine's container id, 12 characters (--json: in full)\n"
	      "  RUNTIME    ctrwatch, docker, podman, containerd, cri-o, kubelet, oci (a\n"
	      "             plain runc/crun container) or unknown\n"
	      "  NAME       the engine's name for it: Docker and Podman names, containerd\n"
	      "             NAMESPACE/ID, Kubernetes container names\n"
	      "  POD, NAMESPACE  Kubernetes pod and namespace, - when not a pod\n"
	      "  IMAGE      the image it runs, - when the engine does not say\n"
	      "  CGROUP ID  the cgroup v2 id (inode) eBPF programs see, as in the agent's\n"
	      "             cgroup_id label\n"
	      "  STATE      running, or paused when its cgroup is frozen\n"
	      "  SINCE      how long ago its oldest process started\n"
	      "NAME is what `trace`, `dns` and `tcplife` take; see `ctrwatch trace --help`\n"
	      "for NAMESPACE/POD/CONTAINER and ambiguous names.\n"
	      "\n",
	      out);
	ctw_opts_print(out, containers_opts);
	fputs("\n"
	      "Exit status: 0, also when there are no containers; 1 when the cgroup tree\n"
	      "cannot be read.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch containers\n"
	      "  ctrwatch containers -n kube-system\n"
	      "  ctrwatch containers --json | jq -r '.[] | select(.runtime == \"docker\") | "
	      ".name'\n",
	      out);
}

/* Process start time (realtime ns) of the oldest process in the cgroup: the
 * container's init when it still runs. */
static uint64_t since_ns(const char *proc_root, const char *cgroup_path)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", cgroup_path);
	FILE *f = fopen(p, "re");
	if (!f)
		return 0;
	unsigned long long best = 0;
	char line[32];
	for (int n = 0; n < 256 && fgets(line, sizeof(line), f); n++) {
		char sp[PATH_MAX], buf[1024];
		snprintf(sp, sizeof(sp), "%s/%d/stat", proc_root, atoi(line));
		if (ctw_read_line(sp, buf, sizeof(buf)) < 0)
			continue;
		const char *rp = strrchr(buf, ')');
		unsigned long long start;
		/* after "comm)": state is field 3, starttime field 22 */
		if (!rp || sscanf(rp + 2,
				  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
				  "%*d %*d %*d %*d %*d %*d %llu",
				  &start) != 1)
			continue;
		if (!best || start < best)
			best = start;
	}
	fclose(f);
	if (!best)
		return 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec boot, real;
	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	uint64_t now = (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec;
	uint64_t up = (uint64_t)boot.tv_sec * 1000000000ull + (uint64_t)boot.tv_nsec;
	uint64_t started = best * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
	return now - up + started;
}

static const char *state_of(const char *cgroup_path)
{
	char p[PATH_MAX + 32], buf[256];
	snprintf(p, sizeof(p), "%s/cgroup.freeze", cgroup_path);
	if (ctw_read_line(p, buf, sizeof(buf)) == 0 && !strcmp(buf, "1"))
		return "paused";
	return "running";
}

static void ago(uint64_t ns, char *buf, size_t size)
{
	uint64_t now = ctw_realtime_ns();
	uint64_t s = ns && now > ns ? (now - ns) / 1000000000ull : 0;
	if (!ns)
		snprintf(buf, size, "-");
	else if (s < 120)
		snprintf(buf, size, "%llus", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%llum", (unsigned long long)s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%lluh", (unsigned long long)s / 3600);
	else
		snprintf(buf, size, "%llud", (unsigned long long)s / 86400);
}

static bool wanted(const struct ctw_container *c, const char *ns, const char *pod,
		   const char *runtime)
{
	if (ns && strcmp(c->namespace_, ns)) {
		size_t l = strlen(ns);
		if (c->runtime != CTW_RT_CONTAINERD || strncmp(c->name, ns, l) || c->name[l] != '/')
			return false;
	}
	if (pod && strcmp(c->pod, pod))
		return false;
	if (runtime && strcmp(ctw_runtime_kind_name(c->runtime), runtime))
		return false;
	return true;
}

static json_t *to_json(const struct ctw_container *c, const char *state, uint64_t since)
{
	char ts[64] = "";
	if (since)
		ctw_format_time(since, ts, sizeof(ts));
	json_t *labels = json_object();
	const char *v;
	for (const char *k = NULL; (k = ctw_container_label_next(c, k, &v));)
		json_object_set_new(labels, k, json_string(v));
	return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I, s:s, s:i, s:s, s:s?, s:I, s:o}",
			 "id", c->id, "runtime", ctw_runtime_kind_name(c->runtime), "name", c->name,
			 "pod", c->pod[0] ? c->pod : NULL, "namespace",
			 c->namespace_[0] ? c->namespace_ : NULL, "image",
			 c->image[0] ? c->image : NULL, "cgroup_id", (json_int_t)c->cgroup_id,
			 "cgroup_path", c->cgroup_path, "pid", c->pid, "state", state, "since",
			 ts[0] ? ts : NULL, "since_ns", (json_int_t)since, "labels", labels);
}

static int cmd_containers(int argc, char **argv)
{
	struct containers_args a = {.ro = {.proc_root = "/proc"}};
	int first = ctw_opts_parse("containers", containers_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	bool json = a.json;
	const char *ns = a.ns, *pod = a.pod, *runtime = a.runtime;
	struct ctw_registry_opts ro = a.ro;
	if (first < argc)
		return ctw_cmd_usage_error("containers", "unexpected argument '%s'", argv[first]);

	struct ctw_registry *r = ctw_registry_new(&ro);
	int n = r ? ctw_registry_scan(r) : -ENOMEM;
	if (n < 0) {
		fprintf(stderr, "ctrwatch: containers: cannot read the cgroup tree %s: %s\n",
			ro.cgroup_root ? ro.cgroup_root : "", strerror(-n));
		ctw_registry_free(r);
		return CTW_EXIT_FAIL;
	}
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("%-12s  %-10s  %-24s  %-20s  %-14s  %-28s  %-10s  %-7s  %s\n", "ID",
		       "RUNTIME", "NAME", "POD", "NAMESPACE", "IMAGE", "CGROUP ID", "STATE",
		       "SINCE");
	for (size_t i = 0; i < ctw_registry_count(r); i++) {
		const struct ctw_container *c = ctw_registry_at(r, i);
		if (!wanted(c, ns, pod, runtime))
			continue;
		const char *state = state_of(c->cgroup_path);
		uint64_t since = since_ns(ro.proc_root, c->cgroup_path);
		if (json) {
			json_array_append_new(arr, to_json(c, state, since));
			continue;
		}
		char when[32];
		ago(since, when, sizeof(when));
		printf("%-12.12s  %-10s  %-24s  %-20s  %-14s  %-28s  %-10llu  %-7s  %s\n", c->id,
		       ctw_runtime_kind_name(c->runtime), c->name, c->pod[0] ? c->pod : "-",
		       c->namespace_[0] ? c->namespace_ : "-", c->image[0] ? c->image : "-",
		       (unsigned long long)c->cgroup_id, state, when);
	}
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		puts(s ? s : "[]");
		free(s);
		json_decref(arr);
	}
	ctw_registry_free(r);
	return CTW_EXIT_OK;
}

CTW_COMMAND(containers, .name = "containers",
	    .summary = "list every container on the host, from every engine",
	    .order = CTW_ORDER_OBSERVE - 10, .fn = cmd_containers, .usage = containers_usage)
