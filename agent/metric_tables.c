// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's own metric families (self metrics, the resources group) and
 * the list of every table, the modules' included: what `ctrwatch agent
 * --list-metrics` prints, the README's metrics table is generated from
 * (scripts/metrics-readme.py) and the naming test checks.
 */
#include "agent.h"
#include "../lib/lib.h"

#define L CTW_METRIC_LABELS

const struct ctw_metric_def ctw_agent_self_metrics[] = {
	[CTW_M_BUILD_INFO] = {"ctrwatch_build_info", CTW_GAUGE,
			      "ctrwatch build and kernel; always 1.",
			      L("version", "revision", "kernel")},
	[CTW_M_PROCESS_CPU] = {"process_cpu_seconds_total", CTW_COUNTER,
			       "Total user and system CPU time spent in seconds."},
	[CTW_M_PROCESS_RSS] = {"process_resident_memory_bytes", CTW_GAUGE,
			       "Resident memory size in bytes."},
	[CTW_M_PROCESS_OPEN_FDS] = {"process_open_fds", CTW_GAUGE,
				    "Number of open file descriptors."},
	[CTW_M_PROCESS_MAX_FDS] = {"process_max_fds", CTW_GAUGE,
				   "Maximum number of open file descriptors."},
	[CTW_M_PROCESS_START_TIME] = {"process_start_time_seconds", CTW_GAUGE,
				      "Start time of the process since unix epoch in seconds."},
	[CTW_M_EVENTS] = {"ctrwatch_events_total", CTW_COUNTER,
			  "Events received from the kernel, by source.", L("source")},
	[CTW_M_EVENTS_LOST] = {"ctrwatch_events_lost_total", CTW_COUNTER,
			       "Events the kernel could not deliver, by source and container.",
			       .container = true, L("source"),
			       .when = "container=\"\" for cgroups that are no container"},
	[CTW_M_CONTAINERS] = {"ctrwatch_containers", CTW_GAUGE, "Containers known to the agent."},
	[CTW_M_DISCOVERY_SCANS] = {"ctrwatch_discovery_scans_total", CTW_COUNTER,
				   "Scans of the cgroup tree and the ctrwatch state."},
	[CTW_M_MODULE_UP] = {"ctrwatch_module_up", CTW_GAUGE,
			     "Whether each module started (1) or failed (0).", L("module")},
	[CTW_M_BPF_RUN_SECONDS] = {"ctrwatch_bpf_program_run_seconds_total", CTW_COUNTER,
				   "Time the kernel spent running each BPF program.", L("program"),
				   .when = "with --bpf-stats or sysctl kernel.bpf_stats_enabled=1"},
	[CTW_M_BPF_RUNS] = {"ctrwatch_bpf_program_runs_total", CTW_COUNTER,
			    "Times the kernel ran each BPF program.", L("program"),
			    .when = "with --bpf-stats or sysctl kernel.bpf_stats_enabled=1"},
	[CTW_M_SCRAPE_COLLECT] = {"ctrwatch_scrape_collect_seconds", CTW_GAUGE,
				  "Time the last build of /metrics spent on each part (before "
				  "render).",
				  L("part")},
	[CTW_M_SCRAPE_DURATION] = {"ctrwatch_scrape_duration_seconds", CTW_HISTOGRAM,
				   "Time taken to build /metrics (previous scrapes)."},
	[CTW_M_SERIES_DROPPED] = {"ctrwatch_series_dropped_total", CTW_COUNTER,
				  "Series left out of scrapes by the series cap (max_series)."},
	[CTW_M_SERIES_DUPLICATE] = {"ctrwatch_series_duplicate_total", CTW_COUNTER,
				    "Samples refused because the series was already in the "
				    "scrape."},
	[CTW_M_SERIES_INVALID] = {"ctrwatch_series_invalid_total", CTW_COUNTER,
				  "Samples refused for an invalid metric name, label name or "
				  "value."},
	{0},
};

const struct ctw_metric_def ctw_agent_resource_metrics[] = {
	[CTW_M_CONTAINER_INFO] = {"ctrwatch_container_info", CTW_GAUGE,
				  "Container metadata; always 1.", .container = true,
				  L("image", "runtime", "cgroup_id", "full_id", "id")},
	[CTW_M_CONTAINER_CPU] = {"ctrwatch_container_cpu_usage_seconds_total", CTW_COUNTER,
				 "CPU time used by the container.", .container = true},
	[CTW_M_CONTAINER_MEMORY] = {"ctrwatch_container_memory_usage_bytes", CTW_GAUGE,
				    "Memory used by the container.", .container = true},
	[CTW_M_CONTAINER_MEMORY_LIMIT] = {"ctrwatch_container_memory_limit_bytes", CTW_GAUGE,
					  "Memory limit of the container (absent when "
					  "unlimited).",
					  .container = true},
	[CTW_M_CONTAINER_PIDS] = {"ctrwatch_container_pids", CTW_GAUGE, "Tasks in the container.",
				  .container = true},
	[CTW_M_CONTAINER_OOM] = {"ctrwatch_container_oom_events_total", CTW_COUNTER,
				 "Processes of the container killed by the OOM killer.",
				 .container = true},
	{0},
};

size_t ctw_agent_metric_tables(const struct ctw_metric_def **tables, const char **groups,
			       size_t max)
{
	const struct ctw_agent_module *const *mods;
	size_t nmods = ctw_agent_modules(&mods), n = 0;

	for (size_t i = 0; i < nmods && n < max; i++) {
		if (mods[i]->metrics) {
			groups[n] = mods[i]->name;
			tables[n++] = mods[i]->metrics;
		}
	}
	if (n < max) {
		groups[n] = "agent";
		tables[n++] = ctw_agent_self_metrics;
	}
	return n;
}
