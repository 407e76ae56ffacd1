// SPDX-License-Identifier: Apache-2.0
/*
 * Per-container TCP connection metrics, aggregated from tcplife records in
 * the agent and rendered at scrape time:
 *
 *   ctrwatch_tcp_connections_total{container,direction}
 *   ctrwatch_tcp_connection_duration_seconds{container,direction}  histogram
 *   ctrwatch_tcp_sent_bytes_total{container}
 *   ctrwatch_tcp_received_bytes_total{container}
 *   ctrwatch_tcp_connections_open{container}
 *   ctrwatch_tcp_connect_failures_total{container}
 *
 * A container's series appear with its first TCP activity (a connection
 * closed, failed or open) and live as long as the container: removing it
 * drops them, so label sets stay bounded by the containers on the node, and
 * idle containers cost no series (the families' HELP and TYPE stay).
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "../exporters/exporters.h"
#include "../lib/lib.h"

static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				1,     2.5,    5,     10,   30,	   60,	 300, 900,  3600};
#define NBOUNDS ARRAY_SIZE(bounds)

enum { DIR_ACTIVE, DIR_PASSIVE, NDIRS };
static const char *const dir_names[NDIRS] = {"active", "passive"};

struct tcp_ctr {
	char id[72];
	char name[128];
	char pod[128];
	char ns[128];
	char short_id[CTW_SHORT_ID_SIZE]; /* container_id */
	uint64_t conns[NDIRS];
	uint64_t buckets[NDIRS][NBOUNDS + 1];
	double sum[NDIRS];
	uint64_t sent, received, failures;
	int64_t open;
	bool active; /* had TCP activity: its series are emitted */
};

struct tcp_cg {
	uint64_t cgroup_id;
	struct tcp_ctr *ctr;
};

/* Records of a cgroup no container claims yet: discovery may learn of a
 * container after its first connections closed.  Folded into the container
 * when it is added, dropped after PENDING_TTL_NS. */
#define PENDING_MAX 1024
#define PENDING_TTL_NS (30 * 1000000000ull)
#define CGROUP_ROOT_ID 1 /* the host itself, never a container */

struct tcp_pending {
	uint64_t cgroup_id;
	uint64_t since_ns;
	struct tcp_ctr c;
};

struct ctw_tcp_stats {
	struct tcp_ctr **ctrs;
	size_t nctrs, capctrs;
	struct tcp_cg *cgs; /* sorted by cgroup_id */
	size_t ncgs, capcgs;
	struct tcp_pending *pending;
	size_t npending;
	uint64_t pending_dropped;
};

struct ctw_tcp_stats *ctw_tcp_stats_new(void)
{
	return xcalloc(1, sizeof(struct ctw_tcp_stats));
}

void ctw_tcp_stats_free(struct ctw_tcp_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nctrs; i++)
		free(s->ctrs[i]);
	free(s->ctrs);
	free(s->cgs);
	free(s->pending);
	free(s);
}

/* Index of the first entry >= id. */
static size_t cg_search(const struct ctw_tcp_stats *s, uint64_t id)
{
	size_t lo = 0, hi = s->ncgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->cgs[mid].cgroup_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct tcp_ctr *ctr_of_cgroup(const struct ctw_tcp_stats *s, uint64_t id)
{
	size_t i = cg_search(s, id);

	return i < s->ncgs && s->cgs[i].cgroup_id == id ? s->cgs[i].ctr : NULL;
}

static struct tcp_ctr *ctr_get(struct ctw_tcp_stats *s, const struct ctw_container *c)
{
	struct tcp_ctr *t;

	for (size_t i = 0; i < s->nctrs; i++)
		if (!strcmp(s->ctrs[i]->id, c->id))
			return s->ctrs[i];
	if (s->nctrs == s->capctrs) {
		s->capctrs = s->capctrs ? 2 * s->capctrs : 16;
		s->ctrs = xrealloc(s->ctrs, s->capctrs * sizeof(*s->ctrs));
	}
	t = xcalloc(1, sizeof(*t));
	ctw_strlcpy(t->id, c->id, sizeof(t->id));
	ctw_strlcpy(t->name, c->name[0] ? c->name : c->id, sizeof(t->name));
	ctw_strlcpy(t->pod, c->pod, sizeof(t->pod));
	ctw_strlcpy(t->ns, c->namespace_, sizeof(t->ns));
	ctw_container_short_id(c->id, t->short_id);
	s->ctrs[s->nctrs++] = t;
	return t;
}

static void account(struct tcp_ctr *t, const struct tcplife_event *e)
{
	int dir = (e->flags & TCPLIFE_F_PASSIVE) ? DIR_PASSIVE : DIR_ACTIVE;
	double secs = e->span_ns / 1e9;
	size_t b = 0;

	t->active = true;
	t->sent += e->tx_bytes;
	t->received += e->rx_bytes;
	if (ctw_tcp_is_connect_failure(e)) {
		t->failures++;
		return;
	}
	if (!(e->flags & TCPLIFE_F_ESTABLISHED))
		return; /* an accepted child reset before the handshake ended */
	while (b < NBOUNDS && secs > bounds[b])
		b++;
	t->conns[dir]++;
	t->buckets[dir][b]++;
	t->sum[dir] += secs;
}

static void merge(struct tcp_ctr *to, const struct tcp_ctr *from)
{
	for (int d = 0; d < NDIRS; d++) {
		to->conns[d] += from->conns[d];
		to->sum[d] += from->sum[d];
		for (size_t b = 0; b <= NBOUNDS; b++)
			to->buckets[d][b] += from->buckets[d][b];
	}
	to->sent += from->sent;
	to->received += from->received;
	to->failures += from->failures;
	to->active |= from->active;
}

static struct tcp_pending *pending_get(struct ctw_tcp_stats *s, uint64_t id, bool create)
{
	for (size_t i = 0; i < s->npending; i++)
		if (s->pending[i].cgroup_id == id)
			return &s->pending[i];
	if (!create)
		return NULL;
	if (!s->pending)
		s->pending = xcalloc(PENDING_MAX, sizeof(*s->pending));
	if (s->npending == PENDING_MAX) {
		s->pending_dropped++;
		return NULL;
	}
	struct tcp_pending *p = &s->pending[s->npending++];

	memset(p, 0, sizeof(*p));
	p->cgroup_id = id;
	p->since_ns = ctw_now_ns();
	return p;
}

static void pending_del(struct ctw_tcp_stats *s, struct tcp_pending *p)
{
	*p = s->pending[--s->npending];
}

void ctw_tcp_stats_add_cgroup(struct ctw_tcp_stats *s, __u64 cgroup_id,
			      const struct ctw_container *c)
{
	size_t i = cg_search(s, cgroup_id);
	struct tcp_ctr *t;
	struct tcp_pending *p;

	/* Called again for every known cgroup after each discovery scan:
	 * cheap when nothing changed. */
	if (i < s->ncgs && s->cgs[i].cgroup_id == cgroup_id && !strcmp(s->cgs[i].ctr->id, c->id))
		return;
	t = ctr_get(s, c);
	p = pending_get(s, cgroup_id, false);
	if (p) {
		merge(t, &p->c);
		pending_del(s, p);
	}
	if (i < s->ncgs && s->cgs[i].cgroup_id == cgroup_id) {
		s->cgs[i].ctr = t;
		return;
	}
	if (s->ncgs == s->capcgs) {
		s->capcgs = s->capcgs ? 2 * s->capcgs : 32;
		s->cgs = xrealloc(s->cgs, s->capcgs * sizeof(*s->cgs));
	}
	memmove(&s->cgs[i + 1], &s->cgs[i], (s->ncgs - i) * sizeof(*s->cgs));
	s->cgs[i] = (struct tcp_cg){.cgroup_id = cgroup_id, .ctr = t};
	s->ncgs++;
}

void ctw_tcp_stats_remove(struct ctw_tcp_stats *s, const char *container_id,
			  void (*cb)(void *ctx, __u64 cgroup_id), void *ctx)
{
	struct tcp_ctr *t = NULL;
	size_t i, j;

	for (i = 0; i < s->nctrs; i++) {
		if (!strcmp(s->ctrs[i]->id, container_id)) {
			t = s->ctrs[i];
			s->ctrs[i] = s->ctrs[--s->nctrs];
			break;
		}
	}
	if (!t)
		return;
	for (i = j = 0; i < s->ncgs; i++) {
		if (s->cgs[i].ctr == t) {
			if (cb)
				cb(ctx, s->cgs[i].cgroup_id);
			continue;
		}
		s->cgs[j++] = s->cgs[i];
	}
	s->ncgs = j;
	free(t);
}

bool ctw_tcp_stats_event(struct ctw_tcp_stats *s, const struct tcplife_event *e)
{
	struct tcp_ctr *t = ctr_of_cgroup(s, e->cgroup_id);
	struct tcp_pending *p;

	if (t) {
		account(t, e);
		return true;
	}
	if (e->cgroup_id != CGROUP_ROOT_ID) {
		p = pending_get(s, e->cgroup_id, true);
		if (p)
			account(&p->c, e);
	}
	return false;
}

void ctw_tcp_stats_expire(struct ctw_tcp_stats *s, __u64 now_ns)
{
	for (size_t i = 0; i < s->npending;) {
		if (now_ns - s->pending[i].since_ns > PENDING_TTL_NS)
			pending_del(s, &s->pending[i]);
		else
			i++;
	}
}

size_t ctw_tcp_stats_pending(const struct ctw_tcp_stats *s)
{
	return s->npending;
}

void ctw_tcp_stats_set_open(struct ctw_tcp_stats *s, __u64 cgroup_id, __s64 n)
{
	struct tcp_ctr *t = ctr_of_cgroup(s, cgroup_id);

	if (t) {
		t->open += n;
		t->active |= n > 0;
	}
}

/* container[, pod, namespace], container_id[, direction]: the labels of
 * ctw_agent_container_labels(), from the copy kept here (a container's TCP
 * series outlive its registry entry) */
static const char *const *labels_of(const struct tcp_ctr *t, const char *dir, const char **l)
{
	size_t n = ctw_agent_labels(l, t->name, t->pod, t->ns, t->short_id);

	if (dir) {
		l[n++] = "direction";
		l[n++] = dir;
	}
	l[n] = NULL;
	return l;
}

enum { M_CONNS, M_DURATION, M_SENT, M_RECEIVED, M_OPEN, M_CONNECT_FAILURES };
const struct ctw_metric_def ctw_tcp_stats_metrics[] = {
	[M_CONNS] = {"ctrwatch_tcp_connections_total", CTW_COUNTER,
		     "TCP connections that reached ESTABLISHED, counted when they close, by "
		     "the socket's container and direction (active: connect, passive: accept).",
		     .container = true, CTW_METRIC_LABELS("direction")},
	[M_DURATION] = {"ctrwatch_tcp_connection_duration_seconds", CTW_HISTOGRAM,
			"Lifetime of closed TCP connections from SYN to close.", .container = true,
			CTW_METRIC_LABELS("direction")},
	[M_SENT] = {"ctrwatch_tcp_sent_bytes_total", CTW_COUNTER,
		    "Bytes sent and acknowledged by the peer on closed TCP connections "
		    "(tcp_sock bytes_acked: payload plus SYN and FIN).",
		    .container = true},
	[M_RECEIVED] = {"ctrwatch_tcp_received_bytes_total", CTW_COUNTER,
			"Bytes received on closed TCP connections (tcp_sock bytes_received: "
			"payload plus FIN).",
			.container = true},
	[M_OPEN] = {"ctrwatch_tcp_connections_open", CTW_GAUGE,
		    "TCP connections established and not yet closed (those opened since the "
		    "agent started).",
		    .container = true},
	[M_CONNECT_FAILURES] = {"ctrwatch_tcp_connect_failures_total", CTW_COUNTER,
				"Outgoing TCP connections that went from SYN_SENT to CLOSE "
				"without ever being established (refused, timed out, abandoned).",
				.container = true},
	{0},
};

static void collect_counter(struct ctw_tcp_stats *s, struct ctw_metrics *m, int fam, size_t field)
{
	const char *l[12];

	ctw_metrics_declare(m, &ctw_tcp_stats_metrics[fam]);
	for (size_t i = 0; i < s->nctrs; i++) {
		uint64_t v = *(const uint64_t *)((const char *)s->ctrs[i] + field);

		if (!s->ctrs[i]->active)
			continue;
		/* one-line blocks: segments the gzip cache keeps apart */
		ctw_metrics_block(m, labels_of(s->ctrs[i], NULL, l));
		ctw_metrics_block_sample(m, NULL, NULL, (double)v);
	}
}

void ctw_tcp_stats_collect(struct ctw_tcp_stats *s, struct ctw_metrics *m)
{
	const char *l[12];
	size_t i;
	int d;

	ctw_metrics_declare(m, &ctw_tcp_stats_metrics[M_CONNS]);
	for (i = 0; i < s->nctrs; i++) {
		if (!s->ctrs[i]->active)
			continue;
		ctw_metrics_block(m, labels_of(s->ctrs[i], NULL, l)); /* one per container */
		for (d = 0; d < NDIRS; d++)
			ctw_metrics_block_sample(m, "direction", dir_names[d],
						 (double)s->ctrs[i]->conns[d]);
	}

	ctw_metrics_declare(m, &ctw_tcp_stats_metrics[M_DURATION]);
	for (i = 0; i < s->nctrs; i++) {
		if (!s->ctrs[i]->active)
			continue;
		/* stamped: a scrape for gzip leaves it out while no
		 * connection of the container ended (most of them) */
		const struct tcp_ctr *c = s->ctrs[i];
		uint64_t stamp = ctw_metrics_stamp(c->buckets, sizeof(c->buckets),
						   ctw_metrics_stamp(c->sum, sizeof(c->sum), 0));
		if (ctw_metrics_block_stamped(m, labels_of(s->ctrs[i], NULL, l), stamp) !=
		    CTW_BLOCK_OPEN)
			continue;
		for (d = 0; d < NDIRS; d++)
			ctw_metrics_block_histogram(m, "direction", dir_names[d], bounds,
						    s->ctrs[i]->buckets[d], NBOUNDS,
						    s->ctrs[i]->sum[d]);
	}

	collect_counter(s, m, M_SENT, offsetof(struct tcp_ctr, sent));
	collect_counter(s, m, M_RECEIVED, offsetof(struct tcp_ctr, received));

	ctw_metrics_declare(m, &ctw_tcp_stats_metrics[M_OPEN]);
	for (i = 0; i < s->nctrs; i++) {
		int64_t n = s->ctrs[i]->open;

		s->ctrs[i]->open = 0;
		if (!s->ctrs[i]->active)
			continue;
		ctw_metrics_block(m, labels_of(s->ctrs[i], NULL, l));
		ctw_metrics_block_sample(m, NULL, NULL, n > 0 ? (double)n : 0);
	}

	collect_counter(s, m, M_CONNECT_FAILURES, offsetof(struct tcp_ctr, failures));
}
