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
 * A file with errors leaves the running policy untouched: every error is
 * logged as FILE:LINE:COL and counted.
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
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent.h"
#include "../lib/lib.h"
#include "../policy/policy.h"

struct mod_policy {
	struct ctw_agent *agent;
	char *path; /* the policy file, NULL when none */
	char *dir;  /* its directory (watched) */
	char *base; /* its name in dir */
	int ino_fd;
	uint64_t applied_hash; /* text hash of what we (or a previous agent) applied */
	uint64_t cg_sig;       /* signature of the cgroups the last apply selected */
	uint64_t reloads, reload_errors;
	bool last_ok;
	struct ctw_policy *pol; /* the file as last accepted */
};

static void sig_add(void *actx, uint64_t cgid, const char *path)
{
	uint64_t *sig = actx;
	*sig += cgid * 0x9e3779b97f4a7c15ULL + 1;
}

/* A signature of the containers the policy selects now (order-free). */
static uint64_t cgroup_signature(struct mod_policy *m, const struct ctw_policy *p)
{
	struct ctw_pol_resolver r;
	uint64_t sig = 0;

	ctw_pol_resolver_default(&r, ctw_agent_registry(m->agent));
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].scope == CTW_POL_SCOPE_CONTAINER)
			r.containers(r.ctx, &p->rules[i].sel, sig_add, &sig);
	return sig;
}

static int enforce(struct mod_policy *m, struct ctw_policy *p, uint64_t sig)
{
	struct ctw_pol_resolver r;
	struct ctw_err err = {0};

	ctw_pol_resolver_default(&r, ctw_agent_registry(m->agent));
	if (ctw_policy_apply(p, &r, &err) < 0) {
		pr_err("policy: apply %s: %s (the running policy stays)", m->path, err.msg);
		m->reload_errors++;
		m->last_ok = false;
		return -1;
	}
	pr_info("policy: %s applied (%zu rules)", m->path, p->n_rules);
	m->applied_hash = p->hash;
	m->cg_sig = sig;
	m->reloads++;
	m->last_ok = true;
	return 0;
}

/* Load the file and enforce it unless what is pinned is already it.
 * `force` re-applies even when the text did not change. */
static void reload(struct mod_policy *m, bool force)
{
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;

	if (!m->path)
		return;
	if (ctw_policy_load(m->path, &p, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			pr_err("policy: %s", d.msgs[i]);
		ctw_pol_diags_fini(&d);
		m->reload_errors++;
		m->last_ok = false;
		pr_err("policy: %s rejected; the running policy stays", m->path);
		return;
	}
	for (size_t i = 0; i < d.n; i++)
		pr_warn("policy: %s", d.msgs[i]);
	ctw_pol_diags_fini(&d);

	uint64_t sig = cgroup_signature(m, p);
	if (!force && p->hash == ctw_policy_active_hash() && p->hash == m->applied_hash &&
	    sig == m->cg_sig) {
		m->last_ok = true;
	} else if (enforce(m, p, sig) < 0) {
		ctw_policy_free(p);
		return;
	}
	ctw_policy_free(m->pol);
	m->pol = p;
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

static int policy_start(struct ctw_agent *a, void **state)
{
	struct mod_policy *m = xcalloc(1, sizeof(*m));
	const char *path = ctw_agent_setting(a, "policy");

	m->agent = a;
	m->ino_fd = -1;
	m->last_ok = true;
	*state = m;
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

	/* Same text as pinned: keep it (counters carry on); the first
	 * discovery scan re-applies if the selected containers differ. */
	struct ctw_pol_diags d = {0};
	struct ctw_policy *p;
	if (ctw_policy_load(m->path, &p, &d) == 0 && p->hash == m->applied_hash) {
		m->cg_sig = cgroup_signature(m, p);
		m->pol = p;
		ctw_pol_diags_fini(&d);
		return 0;
	}
	if (p)
		ctw_policy_free(p);
	ctw_pol_diags_fini(&d);
	reload(m, true);
	return 0;
}

static void policy_stop(void *state)
{
	struct mod_policy *m = state;
	if (!m)
		return;
	if (m->ino_fd >= 0) {
		ctw_agent_unwatch_fd(m->agent, m->ino_fd);
		close(m->ino_fd);
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

/* After discovery: re-apply when the selected containers differ. */
static void policy_rescanned(void *state)
{
	struct mod_policy *m = state;
	if (!m->pol || !ctw_policy_active())
		return;
	uint64_t sig = cgroup_signature(m, m->pol);
	if (sig != m->cg_sig) {
		pr_info("policy: the selected containers changed; re-applying");
		enforce(m, m->pol, sig);
	}
}

static const char *scope_label(const struct ctw_pol_stat *s)
{
	if (s->scope == CTW_POL_SCOPE_XDP)
		return "xdp";
	return s->dir == CTW_POL_EGRESS ? "egress" : "ingress";
}

static void policy_collect(void *state, struct ctw_metrics *mx)
{
	struct mod_policy *m = state;
	struct ctw_pol_stat *st = NULL;
	struct ctw_err err = {0};
	size_t n = 0, rules = 0;

	if (ctw_policy_active())
		ctw_policy_read_stats(&st, &n, &err);
	for (int pass = 0; pass < 2; pass++) {
		ctw_metrics_family(
			mx, pass ? "ctrwatch_policy_bytes_total" : "ctrwatch_policy_packets_total",
			CTW_COUNTER,
			pass ? "Bytes judged by each policy rule (rule=\"default\": no rule "
			       "matched)"
			     : "Packets judged by each policy rule (rule=\"default\": no rule "
			       "matched)");
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
	ctw_metrics_family(mx, "ctrwatch_policy_rules", CTW_GAUGE, "Rules in the enforced policy");
	ctw_metrics_sample(mx, NULL, (double)rules);
	ctw_metrics_family(mx, "ctrwatch_policy_reloads_total", CTW_COUNTER,
			   "Policy files the agent applied");
	ctw_metrics_sample(mx, NULL, (double)m->reloads);
	ctw_metrics_family(mx, "ctrwatch_policy_reload_errors_total", CTW_COUNTER,
			   "Policy files rejected or failed to apply (the running policy stayed)");
	ctw_metrics_sample(mx, NULL, (double)m->reload_errors);
	ctw_metrics_family(mx, "ctrwatch_policy_last_reload_success", CTW_GAUGE,
			   "1 when the last policy load or apply succeeded");
	ctw_metrics_sample(mx, NULL, m->last_ok ? 1 : 0);
}

CTW_AGENT_MODULE(policy, .name = "policy", .start = policy_start, .stop = policy_stop,
		 .collect = policy_collect, .reload = policy_reload, .rescanned = policy_rescanned)
