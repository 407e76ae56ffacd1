// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's dns module: the DNS probe (dns/) attached once, at start, to
 * one cgroup above the containers (the dns_cgroup setting, default the
 * cgroup v2 root), so that a container's first packet is seen whenever user
 * space learns of it; the programs name each packet by its socket's cgroup,
 * and the exchanges of the cgroups that are (or are nested in) a container
 * are folded into per-container series:
 *
 *   ctrwatch_dns_queries_total{container,qtype}        queries the container sent
 *   ctrwatch_dns_responses_total{container,rcode}      responses it received
 *   ctrwatch_dns_request_duration_seconds{container}   query -> response (histogram)
 *   ctrwatch_dns_timeouts_total{container}             queries left unanswered
 *   ctrwatch_dns_malformed_total{container}            packets on port 53 that are not DNS
 *
 * A container's series appear with its first DNS exchange (a query, a
 * response, a timeout or a malformed packet) and go with the container.
 * Labels stay bounded: qtype is a known type name or "other", rcode one of
 * 16.  Per-name series (ctrwatch_dns_name_queries_total{container,qname,
 * qtype}) exist only with the dns_names setting, capped per container by
 * dns_names_max (the rest is counted under qname="_other").
 *
 * The metrics describe the container as a DNS client: a resolver running in
 * a container shows in `ctrwatch dns`, not in these counters (except
 * malformed packets, which are counted whichever way they travel).
 */
#include <errno.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <linux/magic.h>

#include "agent.h"
#include "../bpf/dns.h"
#include "../dns/dns.h"
#include "../lib/lib.h"

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				0.1,	0.25,  0.5,    1,     2.5,  5};
#define NBOUNDS ARRAY_SIZE(bounds)
#define OTHER_NAME "_other"

struct qcount {
	const char *qtype; /* static: ctw_dns_type_label() */
	uint64_t n;
};

struct name_count {
	char *qname;
	const char *qtype;
	uint64_t n;
};

struct cstats {
	/* the container's labels (id is the key), not a copy of its whole
	 * struct ctw_container: ~9 KB each with its cgroup path and runtime
	 * labels, 9 MB at 1 000 containers */
	char id[sizeof(((struct ctw_container *)0)->id)];
	char name[sizeof(((struct ctw_container *)0)->name)];
	char pod[sizeof(((struct ctw_container *)0)->pod)];
	char ns[sizeof(((struct ctw_container *)0)->namespace_)];
	char short_id[CTW_SHORT_ID_SIZE]; /* container_id */
	struct qcount *q;
	size_t nq;
	uint64_t rcodes[16];
	uint64_t buckets[NBOUNDS + 1];
	double sum;
	uint64_t timeouts, malformed;
	struct name_count *names;
	size_t nnames;
	size_t ndistinct; /* names other than _other */
};

struct lost_seen {
	uint64_t cgroup_id, n;
};

struct mod_dns {
	struct ctw_agent *agent;
	struct ctw_dns_probe *probe;
	struct cstats **cs;
	size_t ncs;
	int timer_fd;
	bool names;
	uint64_t names_max;
	struct lost_seen *lost;
	size_t nlost;
};

static void cstats_free(struct cstats *s)
{
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i].qname);
	free(s->names);
	free(s->q);
	free(s);
}

static struct cstats *stats_get(struct mod_dns *m, const struct ctw_container *c)
{
	for (size_t i = 0; i < m->ncs; i++)
		if (!strcmp(m->cs[i]->id, c->id))
			return m->cs[i];
	m->cs = xrealloc(m->cs, (m->ncs + 1) * sizeof(*m->cs));
	struct cstats *s = m->cs[m->ncs] = xcalloc(1, sizeof(struct cstats));
	ctw_strlcpy(s->id, c->id, sizeof(s->id));
	ctw_strlcpy(s->name, c->name, sizeof(s->name));
	ctw_strlcpy(s->pod, c->pod, sizeof(s->pod));
	ctw_strlcpy(s->ns, c->namespace_, sizeof(s->ns));
	ctw_container_short_id(c->id, s->short_id);
	return m->cs[m->ncs++];
}

/* The stats of the container a cgroup id (its own or a nested one) belongs
 * to; NULL when it is no container (any more). */
static struct cstats *stats_for(struct mod_dns *m, uint64_t cgroup_id)
{
	struct ctw_registry *reg = ctw_agent_registry(m->agent);
	const struct ctw_container *c = reg ? ctw_registry_lookup(reg, cgroup_id) : NULL;

	return c ? stats_get(m, c) : NULL;
}

static void add_name(struct cstats *s, const char *qname, const char *qtype)
{
	s->names = xrealloc(s->names, (s->nnames + 1) * sizeof(*s->names));
	s->names[s->nnames].qname = xstrdup(qname);
	s->names[s->nnames].qtype = qtype;
	s->names[s->nnames].n = 1;
	s->nnames++;
}

/* Count a query by name; at most names_max distinct names per container,
 * the queries for any other name go to qname="_other". */
static void count_name(struct mod_dns *m, struct cstats *s, const char *qname, const char *qtype)
{
	bool known = false;

	for (size_t i = 0; i < s->nnames; i++) {
		if (strcasecmp(s->names[i].qname, qname))
			continue;
		if (s->names[i].qtype == qtype) {
			s->names[i].n++;
			return;
		}
		known = true;
	}
	if (known || s->ndistinct < m->names_max) {
		s->ndistinct += !known;
		add_name(s, qname, qtype);
		return;
	}
	for (size_t i = 0; i < s->nnames; i++)
		if (s->names[i].qtype == qtype && !strcmp(s->names[i].qname, OTHER_NAME)) {
			s->names[i].n++;
			return;
		}
	add_name(s, OTHER_NAME, qtype);
}

static void on_query(void *ctx, const struct ctw_dns_query_info *q, const struct ctw_dns_msg *msg)
{
	struct mod_dns *m = ctx;
	const char *qtype = ctw_dns_type_label(msg->qtype);
	struct cstats *s;

	if (q->dir != CTW_DNS_EGRESS || !(s = stats_for(m, q->cgroup_id)))
		return;
	for (size_t i = 0; i < s->nq; i++)
		if (s->q[i].qtype == qtype) {
			s->q[i].n++;
			goto names;
		}
	s->q = xrealloc(s->q, (s->nq + 1) * sizeof(*s->q));
	s->q[s->nq].qtype = qtype;
	s->q[s->nq].n = 1;
	s->nq++;
names:
	if (m->names)
		count_name(m, s, msg->qname, qtype);
}

static void on_txn(void *ctx, const struct ctw_dns_txn *t)
{
	struct mod_dns *m = ctx;
	struct cstats *s;

	/* Only what counts creates the container's series: a resolver in a
	 * container (ingress queries) gets none. */
	switch (t->kind) {
	case CTW_DNS_MALFORMED: break;
	case CTW_DNS_TIMEOUT:
	case CTW_DNS_ANSWERED:
		/* dir is the query's: the container asked. */
		if (t->dir != CTW_DNS_EGRESS)
			return;
		break;
	case CTW_DNS_UNMATCHED:
		/* A response whose query we missed (sent before we
		 * attached, or a late duplicate) still counts as received. */
		if (t->dir != CTW_DNS_INGRESS)
			return;
		break;
	default: return;
	}
	if (!(s = stats_for(m, t->cgroup_id)))
		return;
	switch (t->kind) {
	case CTW_DNS_MALFORMED: s->malformed++; break;
	case CTW_DNS_TIMEOUT: s->timeouts++; break;
	case CTW_DNS_UNMATCHED: s->rcodes[t->rcode & 0xf]++; break;
	case CTW_DNS_ANSWERED: {
		double secs = t->latency_ns / 1e9;
		size_t b = 0;
		while (b < NBOUNDS && secs > bounds[b])
			b++;
		s->buckets[b]++;
		s->sum += secs;
		s->rcodes[t->rcode & 0xf]++;
		break;
	}
	}
}

static void drain(struct mod_dns *m)
{
	/* the cgroups' names first: a container's first packet may be in the
	 * ring before its mkdir record is read */
	ctw_agent_identity_sync(m->agent);
	int n = ctw_dns_probe_consume(m->probe);

	if (n > 0)
		ctw_agent_count_events(m->agent, "dns", (uint64_t)n);
}

static void on_readable(void *ctx)
{
	drain(ctx);
}

static void on_timer(void *ctx)
{
	struct mod_dns *m = ctx;
	uint64_t ticks;

	if (read(m->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_debug("dns: timer: %s", strerror(errno));
	drain(m); /* also reports queries that timed out */
}

static void dns_stop(void *state)
{
	struct mod_dns *m = state;

	if (!m)
		return;
	if (m->timer_fd >= 0) {
		ctw_agent_unwatch_fd(m->agent, m->timer_fd);
		close(m->timer_fd);
	}
	if (m->probe) {
		ctw_agent_unwatch_fd(m->agent, ctw_dns_probe_fd(m->probe));
		ctw_dns_probe_free(m->probe); /* detaches */
	}
	for (size_t i = 0; i < m->ncs; i++)
		cstats_free(m->cs[i]);
	free(m->cs);
	free(m->lost);
	free(m);
}

/* The module's settings (dns_timeout and dns_names_max are checked by
 * their kind with every other setting). */
static const struct ctw_agent_setting_def dns_settings[] = {
	CTW_SETTING("dns_timeout", CTW_SETTING_DURATION, "5s",
		    "a DNS query unanswered after this counts as a timeout (dns module)"),
	CTW_SETTING(
		"dns_cgroup", CTW_SETTING_STR, "",
		"cgroup v2 directory the DNS programs are attached to, once, above the containers "
		"(empty = the cgroup v2 root)"),
	CTW_SETTING("dns_names", CTW_SETTING_BOOL, "false",
		    "also export per-name DNS series (cardinality: capped by dns_names_max)"),
	{.key = "dns_names_max",
	 .kind = CTW_SETTING_UINT,
	 .def = "100",
	 .help = "distinct query names per container with dns_names; the rest is _other",
	 .min = 1,
	 .max = 100000},
	{0},
};

/* --check and every start (ctw_agent_check_settings, settings.c): where dns_cgroup points. */
static int dns_check(struct ctw_agent *a, struct ctw_err *err)
{
	const char *v = ctw_agent_setting(a, "dns_cgroup");
	struct statfs sf;
	if (v && *v && statfs(v, &sf))
		return ctw_err_setx(err, EINVAL, "dns_cgroup '%s': %s", v, strerror(errno));
	if (v && *v && sf.f_type != CGROUP2_SUPER_MAGIC)
		return ctw_err_setx(err, EINVAL, "dns_cgroup '%s': not a cgroup v2 directory", v);
	return 0;
}

static int dns_start(struct ctw_agent *a, void **state, struct ctw_err *err)
{
	/* The ring's data is mapped twice into us and resident from the start
	 * (2 MiB of RSS for 1 MiB): 512 KiB holds ~440 query/response pairs,
	 * ~20 ms of a 20 000 qps burst while we do something else. */
	struct ctw_dns_probe_opts o = {
		.on_txn = on_txn, .on_query = on_query, .ringbuf_bytes = 512u << 10};
	struct mod_dns *m = xcalloc(1, sizeof(*m));
	struct ctw_registry *reg = ctw_agent_registry(a);
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	const char *v;
	int rc;

	m->agent = a;
	m->timer_fd = -1;
	uint64_t names_max = 0;
	if ((rc = ctw_agent_setting_bool(a, "dns_names", &m->names, err)) < 0 ||
	    (rc = ctw_agent_setting_u64(a, "dns_names_max", &names_max, err)) < 0 ||
	    (rc = ctw_agent_setting_ns(a, "dns_timeout", &o.timeout_ns, err)) < 0)
		goto out_stop;
	m->names_max = names_max ? names_max : 100;
	o.ctx = m;
	rc = ctw_dns_probe_new(&o, &m->probe);
	if (rc) {
		ctw_err_set(err, -rc, "load BPF programs");
		goto out_stop;
	}
	rc = ctw_agent_watch_fd(a, ctw_dns_probe_fd(m->probe), on_readable, m);
	if (rc) {
		ctw_err_set(err, -rc, "watch ring buffer");
		goto out_stop;
	}
	/* Queries that get no response are only noticed by the clock. */
	m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer_fd < 0 || timerfd_settime(m->timer_fd, 0, &its, NULL) < 0) {
		rc = ctw_err_set(err, errno, "timer");
		goto out_stop;
	}
	rc = ctw_agent_watch_fd(a, m->timer_fd, on_timer, m);
	if (rc) {
		ctw_err_set(err, -rc, "watch timer");
		close(m->timer_fd);
		m->timer_fd = -1;
		goto out_stop;
	}
	/* Once, above every container: each is seen from its first packet,
	 * whenever discovery names it. */
	v = ctw_agent_setting(a, "dns_cgroup");
	if (!v || !*v)
		v = reg ? ctw_registry_cgroup_root(reg) : NULL;
	rc = v ? ctw_dns_probe_attach(m->probe, v, NULL) : -ENOENT;
	if (rc) {
		ctw_err_set(err, -rc, "attach to cgroup %s", v ? v : "(no cgroup v2 root)");
		goto out_stop;
	}
	pr_debug("dns: attached to cgroup %s", v);
	*state = m;
	return 0;

out_stop:
	dns_stop(m);
	return rc;
}

static void report_lost(void *ctx, uint64_t cgroup_id, uint64_t n);

static void dns_container_removed(void *state, const struct ctw_container *c)
{
	struct mod_dns *m = state;

	drain(m);
	/* what it left pending will not be answered to it */
	ctw_dns_probe_forget(m->probe, c->cgroup_id);
	/* Report its last losses, then drop its loss count on both sides so
	 * neither table grows with container churn. */
	ctw_dns_probe_lost(m->probe, report_lost, m);
	ctw_dns_probe_forget_lost(m->probe, c->cgroup_id);
	for (size_t i = 0; i < m->nlost; i++) {
		if (m->lost[i].cgroup_id == c->cgroup_id) {
			m->lost[i] = m->lost[--m->nlost];
			break;
		}
	}
	for (size_t i = 0; i < m->ncs; i++) {
		if (!strcmp(m->cs[i]->id, c->id)) {
			cstats_free(m->cs[i]);
			m->cs[i] = m->cs[--m->ncs];
			break;
		}
	}
}

static void report_lost(void *ctx, uint64_t cgroup_id, uint64_t n)
{
	struct mod_dns *m = ctx;
	size_t i;

	for (i = 0; i < m->nlost; i++)
		if (m->lost[i].cgroup_id == cgroup_id)
			break;
	if (i == m->nlost) {
		m->lost = xrealloc(m->lost, (m->nlost + 1) * sizeof(*m->lost));
		m->lost[m->nlost++] = (struct lost_seen){cgroup_id, 0};
	}
	if (n > m->lost[i].n) {
		ctw_agent_count_lost(m->agent, "dns", cgroup_id, n - m->lost[i].n);
		m->lost[i].n = n;
	}
}

/* labels: the container's (as ctw_agent_container_labels() makes them),
 * then (name, value) pairs, NULL-terminated */
static const char **labels(const struct cstats *s, const char **l, const char *k1, const char *v1,
			   const char *k2, const char *v2)
{
	size_t n = ctw_agent_labels(l, s->name, s->pod, s->ns, s->short_id);

	if (k1) {
		l[n++] = k1;
		l[n++] = v1;
	}
	if (k2) {
		l[n++] = k2;
		l[n++] = v2;
	}
	l[n] = NULL;
	return l;
}

enum { M_QUERIES, M_RESPONSES, M_DURATION, M_TIMEOUTS, M_MALFORMED, M_NAME_QUERIES };
static const struct ctw_metric_def dns_metrics[] = {
	[M_QUERIES] = {"ctrwatch_dns_queries_total", CTW_COUNTER,
		       "DNS queries sent by the container, by query type.", .container = true,
		       CTW_METRIC_LABELS("qtype")},
	[M_RESPONSES] = {"ctrwatch_dns_responses_total", CTW_COUNTER,
			 "DNS responses received by the container, by response code.",
			 .container = true, CTW_METRIC_LABELS("rcode")},
	[M_DURATION] = {"ctrwatch_dns_request_duration_seconds", CTW_HISTOGRAM,
			"Time from a DNS query leaving the container to its response arriving.",
			.container = true},
	[M_TIMEOUTS] = {"ctrwatch_dns_timeouts_total", CTW_COUNTER,
			"DNS queries of the container that got no response in time.",
			.container = true},
	[M_MALFORMED] = {"ctrwatch_dns_malformed_total", CTW_COUNTER,
			 "Packets to or from port 53 of the container that are not valid DNS.",
			 .container = true},
	[M_NAME_QUERIES] = {"ctrwatch_dns_name_queries_total", CTW_COUNTER,
			    "DNS queries sent by the container, by name and type (dns_names).",
			    .container = true, CTW_METRIC_LABELS("qname", "qtype"),
			    .when = "with --dns-names"},
	{0},
};

static void dns_collect(void *state, struct ctw_metrics *mx)
{
	struct mod_dns *m = state;
	const char *l[16];
	char rc[16];

	drain(m);
	ctw_dns_probe_lost(m->probe, report_lost, m);

	ctw_metrics_declare(mx, &dns_metrics[M_QUERIES]);
	for (size_t i = 0; i < m->ncs; i++) {
		/* a block per container: its labels rendered once */
		ctw_metrics_block(mx, labels(m->cs[i], l, NULL, NULL, NULL, NULL));
		for (size_t j = 0; j < m->cs[i]->nq; j++)
			ctw_metrics_block_sample(mx, "qtype", m->cs[i]->q[j].qtype,
						 (double)m->cs[i]->q[j].n);
	}

	ctw_metrics_declare(mx, &dns_metrics[M_RESPONSES]);
	for (size_t i = 0; i < m->ncs; i++) {
		ctw_metrics_block(mx, labels(m->cs[i], l, NULL, NULL, NULL, NULL));
		for (unsigned int r = 0; r < 16; r++)
			if (m->cs[i]->rcodes[r])
				ctw_metrics_block_sample(mx, "rcode",
							 ctw_dns_rcode_name(r, rc, sizeof(rc)),
							 (double)m->cs[i]->rcodes[r]);
	}

	ctw_metrics_declare(mx, &dns_metrics[M_DURATION]);
	for (size_t i = 0; i < m->ncs; i++) {
		/* stamped: left out of a gzip scrape while it did not change */
		uint64_t stamp = ctw_metrics_stamp(
			m->cs[i]->buckets, sizeof(m->cs[i]->buckets),
			ctw_metrics_stamp(&m->cs[i]->sum, sizeof(m->cs[i]->sum), 0));
		if (ctw_metrics_block_stamped(mx, labels(m->cs[i], l, NULL, NULL, NULL, NULL),
					      stamp) == CTW_BLOCK_OPEN)
			ctw_metrics_block_histogram(mx, NULL, NULL, bounds, m->cs[i]->buckets,
						    NBOUNDS, m->cs[i]->sum);
	}

	ctw_metrics_declare(mx, &dns_metrics[M_TIMEOUTS]);
	for (size_t i = 0; i < m->ncs; i++) {
		ctw_metrics_block(mx, labels(m->cs[i], l, NULL, NULL, NULL, NULL));
		ctw_metrics_block_sample(mx, NULL, NULL, (double)m->cs[i]->timeouts);
	}

	ctw_metrics_declare(mx, &dns_metrics[M_MALFORMED]);
	for (size_t i = 0; i < m->ncs; i++) {
		ctw_metrics_block(mx, labels(m->cs[i], l, NULL, NULL, NULL, NULL));
		ctw_metrics_block_sample(mx, NULL, NULL, (double)m->cs[i]->malformed);
	}

	if (!m->names)
		return;
	ctw_metrics_declare(mx, &dns_metrics[M_NAME_QUERIES]);
	for (size_t i = 0; i < m->ncs; i++)
		for (size_t j = 0; j < m->cs[i]->nnames; j++)
			ctw_metrics_sample(mx,
					   labels(m->cs[i], l, "qname", m->cs[i]->names[j].qname,
						  "qtype", m->cs[i]->names[j].qtype),
					   (double)m->cs[i]->names[j].n);
}

CTW_AGENT_MODULE(dns, .name = "dns", .settings = dns_settings, .events = "dns", .start = dns_start,
		 .stop = dns_stop, .container_removed = dns_container_removed,
		 .collect = dns_collect, .check = dns_check, .metrics = dns_metrics)
