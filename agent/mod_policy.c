// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's policy module: enforces the file given by the `policy`
 * setting (--policy FILE), reloads it when it changes (inotify on its
 * directory, so editors that write a new file and rename it are seen) and
 * on SIGHUP, and re-applies when discovery changes which containers a rule
 * selects.  Enforcement itself lives in pinned maps and links
 * (policy/apply.c): a dead agent leaves it running; a started agent adopts
 * what is pinned and re-applies only when the file or the selected
 * containers differ, so counters carry on.
 *
 * A reload runs off the event loop: a worker thread reads and parses the
 * file (the file may be large or hostile: its bounds are policy.h's), the
 * loop then decides which containers each rule selects (the registry is the
 * loop's), and the worker compiles and applies that.  Meanwhile the loop
 * serves /metrics and /healthz as always; one reload at a time, a request
 * that comes during one is done after it.  A file with errors leaves the
 * running policy untouched: every error is logged as FILE:LINE:COL and
 * counted.
 *
 *   ctrwatch_policy_packets_total{rule,action,scope}   per rule, and rule="default"
 *   ctrwatch_policy_bytes_total{rule,action,scope}
 *   ctrwatch_policy_rules                              rules enforced
 *   ctrwatch_policy_reloads_total                      successful applies by the agent
 *   ctrwatch_policy_reload_errors_total                rejected files / failed applies
 *   ctrwatch_policy_last_reload_success                1 when the last attempt worked
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent.h"
#include "../lib/lib.h"
#include "../policy/policy.h"

/* The containers each rule of a policy selects, taken on the loop (where
 * the registry lives) for a compile on the worker. */
struct selection {
	const struct ctw_policy *pol;
	struct ctw_pol_cglist *rules; /* [rule] */
	uint64_t sig;		      /* order-free signature of all of it */
};

/* One piece of work for the worker thread. */
struct job {
	bool apply;		    /* false: read and parse path */
	bool force;		    /* load: apply even when nothing changed */
	char *path;		    /* load */
	struct ctw_policy *pol;	    /* load: the result; apply: what to apply */
	bool owns_pol;		    /* apply: pol is new (else it is m->pol) */
	struct selection sel;	    /* apply */
	struct ctw_pol_diags diags; /* load */
	struct ctw_err err;	    /* apply */
	int rc;
};

struct mod_policy {
	struct ctw_agent *agent;
	char *path; /* the policy file, NULL when none */
	char *dir;  /* its directory (watched) */
	char *base; /* its name in dir */
	int ino_fd;
	int done_fd;	 /* eventfd: the worker finished */
	struct job *job; /* the one running, or NULL */
	pthread_t thread;
	bool reload_again; /* a reload was asked for during a job */
	bool force_again;
	bool rescan_again;     /* discovery changed during a job */
	bool sync;	       /* run jobs here (at start, before the loop) */
	uint64_t applied_hash; /* text hash of what we (or a previous agent) applied */
	uint64_t cg_sig;       /* signature of the cgroups the last apply selected */
	uint64_t reloads, reload_errors;
	bool last_ok;
	struct ctw_policy *pol; /* the file as last accepted */
};

/* ---- which containers the rules select ---- */

struct sel_ctx {
	struct selection *s;
	size_t rule;
};

static void sel_add(void *actx, uint64_t cgid, const char *path)
{
	struct sel_ctx *c = actx;
	c->s->sig += cgid * 0x9e3779b97f4a7c15ULL + 1;
	ctw_pol_cglist_add(&c->s->rules[c->rule], cgid, path);
}

static void select_containers(struct mod_policy *m, const struct ctw_policy *p, struct selection *s)
{
	struct ctw_pol_resolver r;
	ctw_pol_resolver_default(&r, ctw_agent_registry(m->agent));
	memset(s, 0, sizeof(*s));
	s->pol = p;
	s->rules = xcalloc(p->n_rules + 1, sizeof(*s->rules));
	for (size_t i = 0; i < p->n_rules; i++) {
		struct sel_ctx c = {s, i};
		if (p->rules[i].scope == CTW_POL_SCOPE_CONTAINER)
			r.containers(r.ctx, &p->rules[i].sel, sel_add, &c);
	}
}

static void selection_fini(struct selection *s)
{
	for (size_t i = 0; s->rules && i < s->pol->n_rules; i++)
		ctw_pol_cglist_fini(&s->rules[i]);
	free(s->rules);
	memset(s, 0, sizeof(*s));
}

/* The compiler's resolver on the worker: what select_containers saw. */
static int replay_containers(void *ctx, const struct ctw_pol_selector *sel,
			     void (*add)(void *actx, uint64_t cgid, const char *path), void *actx)
{
	const struct selection *s = ctx;
	const struct ctw_pol_rule *rule =
		(const void *)((const char *)sel - offsetof(struct ctw_pol_rule, sel));
	size_t i = (size_t)(rule - s->pol->rules);
	if (i >= s->pol->n_rules)
		return -EINVAL;
	for (size_t k = 0; k < s->rules[i].n; k++)
		add(actx, s->rules[i].ids[k], s->rules[i].paths[k]);
	return (int)s->rules[i].n;
}

/* ---- the worker ---- */

static void *worker(void *arg)
{
	struct mod_policy *m = arg;
	struct job *j = m->job;
	if (!j->apply) {
		j->rc = ctw_policy_load(j->path, &j->pol, &j->diags);
	} else {
		struct ctw_pol_resolver r;
		ctw_pol_resolver_default(&r, NULL);
		r.containers = replay_containers;
		r.ctx = &j->sel;
		j->rc = ctw_policy_apply(j->pol, &r, &j->err);
	}
	uint64_t one = 1;
	if (write(m->done_fd, &one, sizeof(one)) < 0)
		pr_err("policy: eventfd: %s", strerror(errno));
	return NULL;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->owns_pol || !j->apply)
		ctw_policy_free(j->pol);
	selection_fini(&j->sel);
	ctw_pol_diags_fini(&j->diags);
	free(j->path);
	free(j);
}

static void job_finished(struct mod_policy *m, struct job *j);

/* Hand the job to a worker thread (or do it here, at start or when no
 * thread can start). */
static void start_job(struct mod_policy *m, struct job *j)
{
	m->job = j;
	if (!m->sync) {
		int e = pthread_create(&m->thread, NULL, worker, m);
		if (e == 0)
			return;
		pr_warn("policy: no worker thread (%s): reloading on the event loop", strerror(e));
	}
	uint64_t v;
	worker(m);
	if (read(m->done_fd, &v, sizeof(v)) < 0)
		pr_debug("policy: eventfd: %s", strerror(errno));
	m->job = NULL;
	job_finished(m, j);
}

static void start_apply(struct mod_policy *m, struct ctw_policy *p, bool owns,
			struct selection *sel)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->apply = true;
	j->pol = p;
	j->owns_pol = owns;
	j->sel = *sel;
	start_job(m, j);
}

static void fail_reload(struct mod_policy *m)
{
	m->reload_errors++;
	m->last_ok = false;
}

/* The file is parsed: apply it unless what is pinned is already it. */
static void loaded(struct mod_policy *m, struct job *j)
{
	if (j->rc < 0) {
		for (size_t i = 0; i < j->diags.n; i++)
			pr_err("policy: %s", j->diags.msgs[i]);
		fail_reload(m);
		pr_err("policy: %s rejected; the running policy stays", m->path);
		return;
	}
	for (size_t i = 0; i < j->diags.n; i++)
		pr_warn("policy: %s", j->diags.msgs[i]);
	struct ctw_policy *p = j->pol;
	j->pol = NULL;
	struct selection sel;
	select_containers(m, p, &sel);
	if (!j->force && p->hash == ctw_policy_active_hash() && p->hash == m->applied_hash &&
	    sel.sig == m->cg_sig) {
		selection_fini(&sel);
		m->last_ok = true;
		ctw_policy_free(m->pol);
		m->pol = p;
		return;
	}
	start_apply(m, p, true, &sel);
}

static void applied(struct mod_policy *m, struct job *j)
{
	if (j->rc < 0) {
		pr_err("policy: apply %s: %s (the running policy stays)", m->path, j->err.msg);
		fail_reload(m);
		return;
	}
	pr_info("policy: %s applied (%zu rules)", m->path, j->pol->n_rules);
	m->applied_hash = j->pol->hash;
	m->cg_sig = j->sel.sig;
	m->reloads++;
	m->last_ok = true;
	if (j->owns_pol) {
		ctw_policy_free(m->pol);
		m->pol = j->pol;
		j->pol = NULL;
	}
}

static void reload(struct mod_policy *m, bool force);
static void rescanned(struct mod_policy *m);

static void job_finished(struct mod_policy *m, struct job *j)
{
	if (j->apply)
		applied(m, j);
	else
		loaded(m, j);
	job_free(j);
	if (m->job)
		return; /* loaded() started the apply */
	if (m->reload_again) {
		m->reload_again = false;
		reload(m, m->force_again);
		m->force_again = false;
	} else if (m->rescan_again) {
		m->rescan_again = false;
		rescanned(m);
	}
}

/* The loop: the worker wrote done_fd. */
static void on_job_done(void *ctx)
{
	struct mod_policy *m = ctx;
	uint64_t v;
	if (read(m->done_fd, &v, sizeof(v)) < 0 || !m->job)
		return;
	pthread_join(m->thread, NULL);
	struct job *j = m->job;
	m->job = NULL;
	job_finished(m, j);
}

/* Load the file and enforce it unless what is pinned is already it.
 * `force` re-applies even when the text did not change. */
static void reload(struct mod_policy *m, bool force)
{
	if (!m->path)
		return;
	if (m->job) {
		m->reload_again = true;
		m->force_again |= force;
		return;
	}
	struct job *j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(m->path);
	j->force = force;
	start_job(m, j);
}

/* After discovery: re-apply when the selected containers differ. */
static void rescanned(struct mod_policy *m)
{
	if (!m->pol || !ctw_policy_active())
		return;
	if (m->job) {
		m->rescan_again = true;
		return;
	}
	struct selection sel;
	select_containers(m, m->pol, &sel);
	if (sel.sig == m->cg_sig) {
		selection_fini(&sel);
		return;
	}
	pr_info("policy: the selected containers changed; re-applying");
	start_apply(m, m->pol, false, &sel);
}

static void on_inotify(void *ctx)
{
	struct mod_policy *m = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool ours = false;
	ssize_t n;

	while ((n = read(m->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->len && !strcmp(ev->name, m->base))
				ours = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (ours) {
		pr_info("policy: %s changed", m->path);
		reload(m, false);
	}
}

/* At start, before the agent serves: load and apply here, so that ready
 * means enforced. */
static void first_load(struct mod_policy *m)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;

	/* Same text as pinned: keep it (counters carry on); the first
	 * discovery scan re-applies if the selected containers differ. */
	if (ctw_policy_load(m->path, &p, &d) == 0 && p->hash == m->applied_hash) {
		struct selection sel;
		select_containers(m, p, &sel);
		m->cg_sig = sel.sig;
		selection_fini(&sel);
		m->pol = p;
		ctw_pol_diags_fini(&d);
		return;
	}
	ctw_policy_free(p);
	ctw_pol_diags_fini(&d);
	m->sync = true;
	reload(m, true);
	m->sync = false;
}

static int policy_start(struct ctw_agent *a, void **state, struct ctw_err *err)
{
	struct mod_policy *m = xcalloc(1, sizeof(*m));
	const char *path = ctw_agent_setting(a, "policy");

	m->agent = a;
	m->ino_fd = -1;
	m->last_ok = true;
	*state = m;
	m->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->done_fd < 0)
		return ctw_err_set(err, errno, "eventfd");
	if (ctw_policy_active()) {
		/* Adopt: a previous agent (or the CLI) left enforcement running. */
		m->applied_hash = ctw_policy_active_hash();
		pr_info("policy: adopting the pinned policy (hash %016llx)",
			(unsigned long long)m->applied_hash);
	}
	if (!path || !*path)
		return 0;

	char *abs = realpath(path, NULL);
	m->path = abs ? abs : xstrdup(path);
	char *t1 = xstrdup(m->path), *t2 = xstrdup(m->path);
	m->dir = xstrdup(dirname(t1));
	m->base = xstrdup(basename(t2));
	free(t1);
	free(t2);

	m->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->ino_fd >= 0 &&
	    inotify_add_watch(m->ino_fd, m->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) >= 0)
		ctw_agent_watch_fd(a, m->ino_fd, on_inotify, m);
	else
		pr_warn("policy: cannot watch %s: %s (SIGHUP still reloads)", m->dir,
			strerror(errno));
	int r = ctw_agent_watch_fd(a, m->done_fd, on_job_done, m);
	if (r < 0)
		return ctw_err_set(err, -r, "watch the reload thread's eventfd");
	first_load(m);
	return 0;
}

static void policy_stop(void *state)
{
	struct mod_policy *m = state;
	if (!m)
		return;
	if (m->job) {
		/* bounded: a parse within policy.h's limits, or one apply */
		pthread_join(m->thread, NULL);
		job_free(m->job);
	}
	if (m->ino_fd >= 0) {
		ctw_agent_unwatch_fd(m->agent, m->ino_fd);
		close(m->ino_fd);
	}
	if (m->done_fd >= 0) {
		ctw_agent_unwatch_fd(m->agent, m->done_fd);
		close(m->done_fd);
	}
	ctw_policy_free(m->pol);
	free(m->path);
	free(m->dir);
	free(m->base);
	free(m);
}

static void policy_reload(void *state)
{
	struct mod_policy *m = state;
	pr_info("policy: reload requested");
	reload(m, false);
}

static void policy_rescanned(void *state)
{
	rescanned(state);
}

static const char *scope_label(const struct ctw_pol_stat *s)
{
	if (s->scope == CTW_POL_SCOPE_XDP)
		return "xdp";
	return s->dir == CTW_POL_EGRESS ? "egress" : "ingress";
}

enum { M_PACKETS, M_BYTES, M_RULES, M_RELOADS, M_RELOAD_ERRORS, M_LAST_RELOAD_OK };
static const struct ctw_metric_def policy_metrics[] = {
	[M_PACKETS] = {"ctrwatch_policy_packets_total", CTW_COUNTER,
		       "Packets judged by each policy rule (rule=\"default\": no rule matched)",
		       CTW_METRIC_LABELS("rule", "action", "scope")},
	[M_BYTES] = {"ctrwatch_policy_bytes_total", CTW_COUNTER,
		     "Bytes judged by each policy rule (rule=\"default\": no rule matched)",
		     CTW_METRIC_LABELS("rule", "action", "scope")},
	[M_RULES] = {"ctrwatch_policy_rules", CTW_GAUGE, "Rules in the enforced policy"},
	[M_RELOADS] = {"ctrwatch_policy_reloads_total", CTW_COUNTER,
		       "Policy files the agent applied"},
	[M_RELOAD_ERRORS] = {"ctrwatch_policy_reload_errors_total", CTW_COUNTER,
			     "Policy files rejected or failed to apply (the running policy "
			     "stayed)"},
	[M_LAST_RELOAD_OK] = {"ctrwatch_policy_last_reload_success", CTW_GAUGE,
			      "1 when the last policy load or apply succeeded"},
	{0},
};

static void policy_collect(void *state, struct ctw_metrics *mx)
{
	struct mod_policy *m = state;
	struct ctw_pol_stat *st = NULL;
	struct ctw_err err = {0};
	size_t n = 0, rules = 0;

	if (ctw_policy_active())
		ctw_policy_read_stats(&st, &n, &err);
	for (int pass = 0; pass < 2; pass++) {
		ctw_metrics_declare(mx, &policy_metrics[pass ? M_BYTES : M_PACKETS]);
		for (size_t i = 0; i < n; i++) {
			const char *lbl[] = {"rule",   st[i].name,
					     "action", st[i].action ? "deny" : "allow",
					     "scope",  scope_label(&st[i]),
					     NULL};
			ctw_metrics_sample(mx, lbl, (double)(pass ? st[i].bytes : st[i].packets));
		}
	}
	for (size_t i = 0; i < n; i++)
		rules += !st[i].is_default;
	free(st);
	ctw_metrics_declare(mx, &policy_metrics[M_RULES]);
	ctw_metrics_sample(mx, NULL, (double)rules);
	ctw_metrics_declare(mx, &policy_metrics[M_RELOADS]);
	ctw_metrics_sample(mx, NULL, (double)m->reloads);
	ctw_metrics_declare(mx, &policy_metrics[M_RELOAD_ERRORS]);
	ctw_metrics_sample(mx, NULL, (double)m->reload_errors);
	ctw_metrics_declare(mx, &policy_metrics[M_LAST_RELOAD_OK]);
	ctw_metrics_sample(mx, NULL, m->last_ok ? 1 : 0);
}

static const struct ctw_agent_setting_def policy_settings[] = {
	CTW_SETTING("policy", CTW_SETTING_STR, "", "policy file (policy module)"),
	{0},
};

CTW_AGENT_MODULE(policy, .name = "policy", .settings = policy_settings, .start = policy_start,
		 .stop = policy_stop, .collect = policy_collect, .reload = policy_reload,
		 .rescanned = policy_rescanned, .metrics = policy_metrics)
