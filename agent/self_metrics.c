// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's own series: build and process, events and losses by source
 * (counted here for every module), containers and scans, module_up, the
 * kernel's BPF program stats, and what each build of /metrics cost and
 * refused.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent_int.h"

#ifndef CTW_GIT_REV
#define CTW_GIT_REV "unknown"
#endif

static const double scrape_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25};
_Static_assert(ARRAY_SIZE(scrape_bounds) == SCRAPE_BOUNDS, "bounds");

struct counter *agent_counter(struct counter **arr, size_t *n, const char *source, uint64_t cgid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i].cgroup_id == cgid && !strcmp((*arr)[i].source, source))
			return &(*arr)[i];
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	struct counter *c = &(*arr)[(*n)++];
	memset(c, 0, sizeof(*c));
	ctw_strlcpy(c->source, source, sizeof(c->source));
	c->cgroup_id = cgid;
	return c;
}

void ctw_agent_count_events(struct ctw_agent *a, const char *source, uint64_t n)
{
	agent_counter(&a->events, &a->nevents, source, 0)->n += n;
}

void ctw_agent_count_lost(struct ctw_agent *a, const char *source, uint64_t cgroup_id, uint64_t n)
{
	/* Named by the kernel-fed identity: a container new since the last
	 * scan, or gone and kept for the exit grace, is known.  Losses of
	 * cgroups that are not (or no longer) containers are kept under cgroup
	 * id 0 (container=""), so the table stays bounded. */
	ctw_agent_identity_sync(a);
	if (a->reg && !ctw_registry_lookup(a->reg, cgroup_id))
		cgroup_id = 0;
	else if (a->reg)
		cgroup_id = ctw_registry_lookup(a->reg, cgroup_id)->cgroup_id;
	agent_counter(&a->lost, &a->nlost, source, cgroup_id)->n += n;
}

int ctw_agent_track_prog(struct ctw_agent *a, const char *name, int prog_fd)
{
	if (a->nprogs == ARRAY_SIZE(a->progs))
		return -ENOSPC;
	ctw_strlcpy(a->progs[a->nprogs].name, name, sizeof(a->progs[0].name));
	a->progs[a->nprogs].fd = prog_fd;
	a->nprogs++;
	return 0;
}

/* ---- self metrics ---- */

static void read_self(double *rss, double *fds)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (f) {
		long size;
		if (fscanf(f, "%ld %ld", &size, &pages) != 2)
			pages = 0;
		fclose(f);
	}
	*rss = (double)pages * sysconf(_SC_PAGESIZE);
	*fds = 0;
	/* Linux >= 6.2 gives the count as the directory's size: reading the
	 * directory instead (one entry per fd, ~4 000 with 1 000 containers'
	 * cgroup files kept open) took ~2 ms of every scrape. */
	struct stat st;
	if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
		*fds = (double)st.st_size;
		return;
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				(*fds)++;
		closedir(d);
		(*fds)--; /* the one opendir holds */
	}
}

#define LBL(...) ((const char *const[]){__VA_ARGS__, NULL})

void agent_collect_self(struct ctw_agent *a, struct ctw_metrics *m)
{
	struct utsname u;
	uname(&u);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_BUILD_INFO]);
	ctw_metrics_sample(
		m, LBL("version", CTW_VERSION, "revision", CTW_GIT_REV, "kernel", u.release), 1);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_PROCESS_CPU]);
	ctw_metrics_sample(m, NULL,
			   ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
				   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	double rss, fds;
	read_self(&rss, &fds);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_PROCESS_RSS]);
	ctw_metrics_sample(m, NULL, rss);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_PROCESS_OPEN_FDS]);
	ctw_metrics_sample(m, NULL, fds);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_PROCESS_MAX_FDS]);
		ctw_metrics_sample(m, NULL,
				   rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
	}
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_PROCESS_START_TIME]);
	ctw_metrics_sample(m, NULL, a->start_time);

	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_EVENTS]);
	for (size_t i = 0; i < a->nevents; i++)
		ctw_metrics_sample(m, LBL("source", a->events[i].source), (double)a->events[i].n);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_EVENTS_LOST]);
	for (size_t i = 0; i < a->nlost; i++) {
		const struct ctw_container *c =
			a->lost[i].cgroup_id ? ctw_registry_lookup(a->reg, a->lost[i].cgroup_id)
					     : NULL;
		char cid[CTW_SHORT_ID_SIZE] = "";
		const char *l[12] = {"source", a->lost[i].source};
		/* the container label set (source first, as before) */
		ctw_agent_labels(l + 2, c ? c->name : "", c ? c->pod : "", c ? c->namespace_ : "",
				 c ? ctw_container_short_id(c->id, cid) : "");
		ctw_metrics_sample(m, l, (double)a->lost[i].n);
	}
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_CONTAINERS]);
	ctw_metrics_sample(m, NULL, (double)ctw_registry_count(a->reg));
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_DISCOVERY_SCANS]);
	ctw_metrics_sample(m, NULL, (double)a->rescans);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_MODULE_UP]);
	for (size_t i = 0; i < a->nmods; i++)
		ctw_metrics_sample(m, LBL("module", a->mods[i].mod->name), a->mods[i].up);

	/* Kernel BPF statistics (sysctl kernel.bpf_stats_enabled=1). */
	char on[8] = "";
	ctw_read_line("/proc/sys/kernel/bpf_stats_enabled", on, sizeof(on));
	bool bs = false;
	ctw_agent_setting_bool(a, "bpf_stats", &bs, NULL);
	if (on[0] == '1' || bs) {
		ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_BPF_RUN_SECONDS]);
		for (size_t i = 0; i < a->nprogs; i++) {
			struct bpf_prog_info info = {0};
			__u32 len = sizeof(info);
			if (bpf_obj_get_info_by_fd(a->progs[i].fd, &info, &len) == 0)
				ctw_metrics_sample(m, LBL("program", a->progs[i].name),
						   info.run_time_ns / 1e9);
		}
		ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_BPF_RUNS]);
		for (size_t i = 0; i < a->nprogs; i++) {
			struct bpf_prog_info info = {0};
			__u32 len = sizeof(info);
			if (bpf_obj_get_info_by_fd(a->progs[i].fd, &info, &len) == 0)
				ctw_metrics_sample(m, LBL("program", a->progs[i].name),
						   (double)info.run_cnt);
		}
	}
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_SCRAPE_COLLECT]);
	ctw_metrics_sample(m, LBL("part", "lock"), a->collect_ns[0] / 1e9);
	for (size_t i = 0; i < a->nmods; i++)
		if (a->mods[i].up && a->mods[i].mod->collect)
			ctw_metrics_sample(m, LBL("part", a->mods[i].mod->name),
					   a->collect_ns[1 + i] / 1e9);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_SCRAPE_DURATION]);
	ctw_metrics_histogram(m, NULL, scrape_bounds, a->scrape_buckets, ARRAY_SIZE(scrape_bounds),
			      a->scrape_sum);
}

void agent_collect_series_counts(struct ctw_agent *a, struct ctw_metrics *m)
{
	a->series_dropped += ctw_metrics_dropped(m);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_SERIES_DROPPED]);
	ctw_metrics_sample(m, NULL, (double)a->series_dropped);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_SERIES_DUPLICATE]);
	ctw_metrics_sample(m, NULL, (double)ctw_metrics_duplicates(m));
	/* a module's family or label the exposition format cannot carry: a
	 * bug of ours, counted where an alert can see it, not only logged */
	a->series_invalid += ctw_metrics_invalid(m);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_SERIES_INVALID]);
	ctw_metrics_sample(m, NULL, (double)a->series_invalid);
}

void agent_observe_scrape(struct ctw_agent *a, double dt)
{
	size_t b = 0;
	while (b < ARRAY_SIZE(scrape_bounds) && dt > scrape_bounds[b])
		b++;
	a->scrape_buckets[b]++;
	a->scrape_sum += dt;
	a->scrapes++;
}
