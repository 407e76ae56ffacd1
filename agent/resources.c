// SPDX-License-Identifier: Apache-2.0
/*
 * The `resources` module: every container's CPU, memory, memory limit,
 * pids and OOM kills from its cgroup files (v2, or the v1 controllers on
 * hybrid hosts; the registry reads them, ctw_registry_resources), and
 * ctrwatch_container_info.  No BPF: it only collects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "agent.h"
#include "../lib/lib.h"

/* A container's files are read again when its last read is older than
 * this (at most once a second, as cAdvisor's housekeeping). */
#define MAX_AGE_NS 1000000000ull
/* Read-ahead: a read of every container's files costs ~14 us each on a
 * hybrid host (4 preads; 14 ms for 1 000 containers, a third of a build),
 * and scrapes come at a steady interval.  So once two scrapes came more
 * than MAX_AGE_NS apart, the files are read again in slices of
 * AHEAD_SLICE containers (the loop holds the lock for one slice at a
 * time: a scrape waits ~1 ms at most) starting AHEAD_LEAD_NS before the
 * next scrape is due.  Nobody scraping: nothing is read. */
#define AHEAD_LEAD_NS 400000000ull
#define AHEAD_SLICE 64
#define AHEAD_TICK_NS 2000000ull
#define MAX_INTERVAL_NS (3600ull * 1000000000ull)

struct resources {
	struct ctw_agent *a;
	struct ctw_registry *reg;
	/* the last read of each container's files, in registry order: its
	 * cgroup id (0: none yet) and when */
	struct ctw_cgroup_resources *res;
	uint64_t *res_ids;
	uint64_t *res_at;
	size_t *lab; /* collect's: where each container's labels are in `labels` */
	size_t nres;
	struct ctw_agent_label_pack labels;
	int tfd;
	uint64_t last_collect_ns;
	uint64_t last_interval_ns; /* between the last two collects */
	size_t ahead_next;	   /* next container of the read-ahead pass */
	/* when the read-ahead passes planned after the last collect start
	 * (ctw_now_ns, ascending), their kinds, and the next to arm */
	uint64_t pass_at[4];
	uint8_t pass_kind[4];
	size_t npass, next_pass;
	uint8_t kind; /* of the pass armed */
};

/* A read-ahead pass reads at its time (PASS_READ: before a scrape due at
 * the interval), or it is the pass before the files age out, a second
 * after the collect, that requests repeating a scrape within the cache
 * window (the cache answers them) move later, as collects would
 * (PASS_FOLLOW); PASS_IF_ASKED runs only when such requests came after
 * the collect (with a steady interval, the one pass before the next
 * scrape is enough, also when the scrape-ahead's build answers it). */
enum { PASS_READ, PASS_FOLLOW, PASS_IF_ASKED };

/* The container's cgroup below the watched cgroup root: what cAdvisor calls
 * `id` ("/kubepods.slice/.../cri-containerd-<id>.scope"), so that
 * ctrwatch_container_info joins cAdvisor's series on it. */
static size_t root_len(struct ctw_registry *reg)
{
	const char *root = ctw_registry_cgroup_root(reg);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	return n;
}

/* n: root_len() */
static const char *cgroup_id_label(struct ctw_registry *reg, size_t n,
				   const struct ctw_container *c)
{
	const char *root = ctw_registry_cgroup_root(reg);
	if (!strncmp(c->cgroup_path, root, n) && c->cgroup_path[n] == '/')
		return c->cgroup_path + n;
	return c->cgroup_path;
}

/* The arrays sized for n containers; new places hold no read. */
static void fit(struct resources *rs, size_t n)
{
	if (rs->nres == n)
		return;
	size_t k = n ? n : 1;
	rs->res = xrealloc(rs->res, k * sizeof(*rs->res));
	rs->res_ids = xrealloc(rs->res_ids, k * sizeof(*rs->res_ids));
	rs->res_at = xrealloc(rs->res_at, k * sizeof(*rs->res_at));
	rs->lab = xrealloc(rs->lab, k * sizeof(*rs->lab));
	for (size_t i = rs->nres; i < n; i++)
		rs->res_ids[i] = 0;
	rs->nres = n;
}

/* Container i's files, when older than max_age (or never read for it). */
static void refresh(struct resources *rs, size_t i, uint64_t now, uint64_t max_age)
{
	const struct ctw_container *c = ctw_registry_at(rs->reg, i);
	if (rs->res_ids[i] == c->cgroup_id && now - rs->res_at[i] <= max_age)
		return;
	ctw_registry_resources(rs->reg, c, &rs->res[i]);
	rs->res_ids[i] = c->cgroup_id;
	rs->res_at[i] = now;
}

static void arm(int fd, uint64_t ns)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = ns / 1000000000ull, .tv_nsec = (long)(ns % 1000000000ull)}};
	if (!ns)
		its.it_value.tv_nsec = 1; /* 0 would disarm it */
	timerfd_settime(fd, 0, &its, NULL);
}

/* Arm the next planned read-ahead pass, if any. */
static void next_pass(struct resources *rs, uint64_t now)
{
	if (rs->next_pass >= rs->npass)
		return;
	uint64_t at = rs->pass_at[rs->next_pass];
	rs->kind = rs->pass_kind[rs->next_pass++];
	rs->ahead_next = 0;
	arm(rs->tfd, at > now ? at - now : 0);
}

/* Plan a pass at `at`, in time order among those not armed yet; one
 * within 100 ms of another of the same sort (reading at its time, or
 * following requests) is the same pass (PASS_FOLLOW taking precedence). */
static void plan_pass(struct resources *rs, uint64_t at, uint8_t kind)
{
	size_t i = rs->npass;
	for (size_t k = rs->next_pass; k < rs->npass; k++)
		if (at + 100000000ull > rs->pass_at[k] && rs->pass_at[k] + 100000000ull > at &&
		    (kind == PASS_READ) == (rs->pass_kind[k] == PASS_READ)) {
			if (kind < rs->pass_kind[k])
				rs->pass_kind[k] = kind;
			return;
		}
	if (rs->npass == sizeof(rs->pass_at) / sizeof(rs->pass_at[0]))
		return;
	while (i > rs->next_pass && rs->pass_at[i - 1] > at) {
		rs->pass_at[i] = rs->pass_at[i - 1];
		rs->pass_kind[i] = rs->pass_kind[i - 1];
		i--;
	}
	rs->pass_at[i] = at;
	rs->pass_kind[i] = kind;
	rs->npass++;
}

/* The pass due now follows requests that repeated a scrape within the
 * cache window since the collect (the cache answered them): false, or
 * true and it is planned again (later) or dropped. */
static bool follow_requests(struct resources *rs, uint64_t now)
{
	uint64_t last = ctw_agent_last_repeat_ns(rs->a);
	if (rs->kind == PASS_IF_ASKED && last <= rs->last_collect_ns) {
		next_pass(rs, now); /* none: not needed */
		return true;
	}
	uint64_t at = last + MAX_AGE_NS - AHEAD_LEAD_NS;
	if (at <= now + AHEAD_TICK_NS)
		return false;
	/* the passes done go, then this one again at its new time */
	size_t left = rs->npass - rs->next_pass;
	memmove(rs->pass_at, rs->pass_at + rs->next_pass, left * sizeof(rs->pass_at[0]));
	memmove(rs->pass_kind, rs->pass_kind + rs->next_pass, left * sizeof(rs->pass_kind[0]));
	rs->npass = left;
	rs->next_pass = 0;
	plan_pass(rs, at, PASS_FOLLOW);
	next_pass(rs, now);
	return true;
}

/* A slice of the read-ahead pass (the loop, lock held): containers whose
 * files are older than the lead, so that the scrape finds them fresh. */
static void on_ahead(void *ctx)
{
	struct resources *rs = ctx;
	uint64_t expirations;
	if (read(rs->tfd, &expirations, sizeof(expirations)) < 0)
		return;
	size_t n = ctw_registry_count(rs->reg);
	fit(rs, n);
	uint64_t now = ctw_now_ns();
	if (rs->kind != PASS_READ && rs->ahead_next == 0 && follow_requests(rs, now))
		return;
	size_t end = rs->ahead_next + AHEAD_SLICE;
	for (; rs->ahead_next < n && rs->ahead_next < end; rs->ahead_next++)
		refresh(rs, rs->ahead_next, now, AHEAD_LEAD_NS / 2);
	if (rs->ahead_next < n)
		arm(rs->tfd, AHEAD_TICK_NS);
	else
		next_pass(rs, now);
}

/* After a collect: when scrapes come further apart than the files may
 * age, a read-ahead pass shortly before the next one is due, at the last
 * interval.  When they come closer (or this is the first), one pass
 * before the files age out: while such scrapes go on, each collect moves
 * it later and it never runs; the first scrape after them (a pause, a
 * scraper starting at its own rhythm) finds the files read (before, it
 * read all 1 000 containers' files in its build, 18-40 ms).  When the
 * interval was not seen twice in a row, two more:
 * one a second from now (the first scrapes, a scraper that changed its
 * rhythm: before, the second of GETs 1.1 s apart after a pause read all
 * 1 000 containers' files in its build, ~100 ms instead of ~30), and one
 * at the interval before (two scrapers at different phases, such as a
 * pair of Prometheus replicas, make the intervals alternate).
 * And in every case a pass before the files age out (a second after the
 * collect) when requests repeating a scrape within the cache window (the
 * cache answers them) came after the collect: they are scrapes too, only
 * without a collect, and move it later as collects would (checked when it
 * is due, follow_requests).
 * (GETs back to back for half a second, answered from one build, then
 * one 1.1 s after the last: its build read all 1 000 containers' files,
 * ~18 ms.)  With no such requests it reads nothing. */
static void plan_ahead(struct resources *rs, uint64_t now)
{
	uint64_t interval = rs->last_collect_ns ? now - rs->last_collect_ns : 0,
		 prev = rs->last_interval_ns;
	rs->last_collect_ns = now;
	rs->last_interval_ns = interval;
	rs->npass = rs->next_pass = 0;
	if (rs->tfd < 0 || interval > MAX_INTERVAL_NS)
		return;
	if (interval <= MAX_AGE_NS) {
		plan_pass(rs, now + MAX_AGE_NS - AHEAD_LEAD_NS, PASS_FOLLOW);
		next_pass(rs, now);
		return;
	}
	plan_pass(rs, now + interval - AHEAD_LEAD_NS, PASS_READ);
	bool steady = prev && interval < prev + prev / 4 && prev < interval + interval / 4;
	if (!steady) {
		if (interval > MAX_AGE_NS + AHEAD_LEAD_NS)
			plan_pass(rs, now + MAX_AGE_NS - AHEAD_LEAD_NS, PASS_FOLLOW);
		if (prev > MAX_AGE_NS && prev <= MAX_INTERVAL_NS)
			plan_pass(rs, now + prev - AHEAD_LEAD_NS, PASS_READ);
	}
	plan_pass(rs, now + MAX_AGE_NS - AHEAD_LEAD_NS, PASS_IF_ASKED);
	next_pass(rs, now);
}

static void resources_collect(void *state, struct ctw_metrics *m)
{
	struct resources *rs = state;
	size_t n = ctw_registry_count(rs->reg);
	/* Files older than a second are read now (a container new since the
	 * last read, or no read-ahead: the first scrapes, scrapes less than
	 * a second apart); the read-ahead keeps them fresher at steady
	 * scrape intervals. */
	uint64_t now = ctw_now_ns();
	fit(rs, n);
	for (size_t i = 0; i < n; i++)
		refresh(rs, i, now, MAX_AGE_NS);
	plan_ahead(rs, now);
	struct ctw_cgroup_resources *res = rs->res;
	/* each container's labels once, not once per family */
	rs->labels.len = 0;
	for (size_t i = 0; i < n; i++)
		rs->lab[i] = ctw_agent_label_pack_add(&rs->labels, ctw_registry_at(rs->reg, i));
	size_t rootn = root_len(rs->reg);
	for (size_t f = 0; f < CTW_M_RESOURCES_N; f++) {
		ctw_metrics_declare(m, &ctw_agent_resource_metrics[f]);
		for (size_t i = 0; i < n; i++) {
			const char *l[20];
			char cgid[24]; /* in l until the sample is written */
			size_t k = ctw_agent_label_pack_get(&rs->labels, rs->lab[i], l);
			const struct ctw_cgroup_resources *r = &res[i];
			bool has = true;
			double v = 0;
			switch (f) {
			case CTW_M_CONTAINER_INFO: {
				const struct ctw_container *c = ctw_registry_at(rs->reg, i);
				snprintf(cgid, sizeof(cgid), "%llu",
					 (unsigned long long)c->cgroup_id);
				const char *extra[] = {
					"image",     c->image,
					"runtime",   ctw_runtime_kind_name(c->runtime),
					"cgroup_id", cgid,
					"full_id",   c->id,
					"id",	     cgroup_id_label(rs->reg, rootn, c)};
				memcpy(l + k, extra, sizeof(extra));
				l[k + ARRAY_SIZE(extra)] = NULL;
				v = 1;
				break;
			}
			case CTW_M_CONTAINER_CPU: has = r->has_cpu, v = r->cpu_seconds; break;
			case CTW_M_CONTAINER_MEMORY:
				has = r->has_memory, v = (double)r->memory_bytes;
				break;
			case CTW_M_CONTAINER_MEMORY_LIMIT:
				has = r->has_limit, v = (double)r->memory_limit;
				break;
			case CTW_M_CONTAINER_PIDS: has = r->has_pids, v = (double)r->pids; break;
			case CTW_M_CONTAINER_OOM:
				has = r->has_oom, v = (double)r->oom_events;
				break;
			}
			/* A one-line block per container: a segment of its own for
			 * the gzip cache (an unchanged value is not compressed again). */
			/* (built, not kept: one line costs less to build than
			 * to keep) */
			if (has && ctw_metrics_block(m, l))
				ctw_metrics_block_sample(m, NULL, NULL, v);
		}
	}
}

static int resources_start(struct ctw_agent *a, void **state, struct ctw_err *err)
{
	struct resources *r = xcalloc(1, sizeof(*r));
	r->a = a;
	r->reg = ctw_agent_registry(a);
	r->tfd = -1;
	if (!r->reg) {
		free(r);
		return ctw_err_setx(err, ENOENT, "no container registry");
	}
	/* Without the timer every scrape reads what is older than a second,
	 * as it did before the read-ahead. */
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int rc = r->tfd < 0 ? -errno : ctw_agent_watch_fd(a, r->tfd, on_ahead, r);
	if (rc < 0) {
		pr_warn("resources: no read-ahead timer: %s", strerror(-rc));
		if (r->tfd >= 0)
			close(r->tfd);
		r->tfd = -1;
	}
	*state = r;
	return 0;
}

static void resources_stop(void *state)
{
	struct resources *r = state;
	if (!r)
		return;
	if (r->tfd >= 0) {
		ctw_agent_unwatch_fd(r->a, r->tfd);
		close(r->tfd);
	}
	free(r->res);
	free(r->res_ids);
	free(r->res_at);
	free(r->lab);
	free(r->labels.buf);
	free(r);
}

CTW_AGENT_MODULE(resources, .name = "resources", .start = resources_start, .stop = resources_stop,
		 .collect = resources_collect, .metrics = ctw_agent_resource_metrics)
