// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's tcp module: the tcplife probe, its records folded into
 * per-container series (agent/tcp_stats.c), and the kernel's per-cgroup
 * open-connection counts read at scrape time.
 *
 * The probe is not restricted to known containers in the kernel: a container
 * often connects before discovery has seen it, and those first connections
 * must count.  Records of cgroups no container claims are held for a while
 * in user space and folded in when the container is discovered.
 */
#include <errno.h>
#include <string.h>

#include "agent.h"
#include "../lib/lib.h"

struct mod_tcp {
	struct ctw_agent *agent;
	struct ctw_tcp_probe *probe;
	struct ctw_tcp_stats *stats;
	uint64_t lost_reported;
};

static int on_event(void *ctx, const struct tcplife_event *e)
{
	struct mod_tcp *m = ctx;

	ctw_tcp_stats_event(m->stats, e);
	return 0;
}

static void drain(struct mod_tcp *m)
{
	int n = ctw_tcp_probe_consume(m->probe);

	if (n > 0)
		ctw_agent_count_events(m->agent, "tcp", n);
}

static void on_readable(void *ctx)
{
	drain(ctx);
}

struct add_ctx {
	struct mod_tcp *m;
	const char *only_id; /* NULL: every container */
};

static void add_cgroup(void *ctx, uint64_t cgroup_id, const struct ctw_container *c)
{
	struct add_ctx *ac = ctx;

	if (ac->only_id && strcmp(ac->only_id, c->id))
		return;
	ctw_tcp_stats_add_cgroup(ac->m->stats, cgroup_id, c);
}

static void forget_cgroup(void *ctx, __u64 cgroup_id)
{
	struct mod_tcp *m = ctx;

	ctw_tcp_probe_forget_cgroup(m->probe, cgroup_id);
}

static void tcp_stop(void *state)
{
	struct mod_tcp *m = state;

	if (!m)
		return;
	ctw_tcp_probe_free(m->probe);
	ctw_tcp_stats_free(m->stats);
	free(m);
}

static int tcp_start(struct ctw_agent *a, void **state, struct ctw_err *err)
{
	/* The ring's data is mapped twice into us and resident from the start
	 * (2 MiB of RSS for 1 MiB): 256 KiB holds ~2 300 connections, woken
	 * every ~290 (32 KiB) and at each scrape. */
	struct ctw_tcp_probe_opts o = {
		.track_open = true, .ringbuf_bytes = 256u << 10, .wakeup_bytes = 32u << 10};
	struct mod_tcp *m = xcalloc(1, sizeof(*m));
	struct ctw_registry *reg = ctw_agent_registry(a);
	int rc;

	m->agent = a;
	m->stats = ctw_tcp_stats_new();
	rc = ctw_tcp_probe_open(&o, on_event, m, &m->probe, err);
	if (rc)
		goto out_stop;
	rc = ctw_agent_watch_fd(a, ctw_tcp_probe_fd(m->probe), on_readable, m);
	if (rc) {
		ctw_err_set(err, -rc, "watch ring buffer");
		goto out_stop;
	}
	if (reg)
		ctw_registry_cgroup_ids(reg, add_cgroup, &(struct add_ctx){.m = m});
	*state = m;
	return 0;

out_stop:
	tcp_stop(m);
	return rc;
}

static void tcp_container_added(void *state, const struct ctw_container *c)
{
	struct mod_tcp *m = state;
	struct ctw_registry *reg = ctw_agent_registry(m->agent);

	/* The container's own cgroup and those below it. */
	add_cgroup(&(struct add_ctx){.m = m, .only_id = c->id}, c->cgroup_id, c);
	if (reg)
		ctw_registry_cgroup_ids(reg, add_cgroup,
					&(struct add_ctx){.m = m, .only_id = c->id});
}

static void tcp_container_removed(void *state, const struct ctw_container *c)
{
	struct mod_tcp *m = state;

	drain(m); /* its last connections still count once */
	ctw_tcp_stats_remove(m->stats, c->id, forget_cgroup, m);
}

/* Cgroups created inside a container after it was discovered (a nested
 * runtime, systemd in the container): their connections are the
 * container's too. */
static void tcp_rescanned(void *state)
{
	struct mod_tcp *m = state;
	struct ctw_registry *reg = ctw_agent_registry(m->agent);

	if (reg)
		ctw_registry_cgroup_ids(reg, add_cgroup, &(struct add_ctx){.m = m});
}

static void set_open(void *ctx, __u64 cgroup_id, __s64 n)
{
	ctw_tcp_stats_set_open(ctx, cgroup_id, n);
}

static void tcp_collect(void *state, struct ctw_metrics *metrics)
{
	struct mod_tcp *m = state;
	uint64_t lost;

	drain(m);
	lost = ctw_tcp_probe_lost(m->probe, TCPLIFE_LOST_RINGBUF) +
	       ctw_tcp_probe_lost(m->probe, TCPLIFE_LOST_NOMEM);
	if (lost > m->lost_reported) {
		ctw_agent_count_lost(m->agent, "tcp", 0, lost - m->lost_reported);
		m->lost_reported = lost;
	}
	ctw_tcp_stats_expire(m->stats, ctw_now_ns());
	ctw_tcp_probe_open_counts(m->probe, set_open, m->stats);
	ctw_tcp_stats_collect(m->stats, metrics);
}

CTW_AGENT_MODULE(tcp, .name = "tcp", .events = "tcp", .start = tcp_start, .stop = tcp_stop,
		 .container_added = tcp_container_added, .container_removed = tcp_container_removed,
		 .collect = tcp_collect, .rescanned = tcp_rescanned,
		 .metrics = ctw_tcp_stats_metrics)
