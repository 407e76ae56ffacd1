// SPDX-License-Identifier: Apache-2.0
/*
 * Which container the user means, for trace, dns and tcplife.  Names first
 * (an engine name, a containerd NAMESPACE/ID, a Kubernetes
 * NAMESPACE/POD/CONTAINER or POD/CONTAINER), then a container id or a
 * unique id prefix, narrowed by -n/--namespace and --pod; more than one
 * match is an error that lists them, never a silent pick.  What is no name
 * or id (a cgroup path, a PID) goes to ctw_registry_resolve().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../agent/agent.h"

#define SHOWN_MAX 8 /* candidates listed in an ambiguity error */

/* Does the container carry this (Kubernetes or containerd) namespace? */
static bool in_namespace(const struct ctw_container *c, const char *ns)
{
	if (!strcmp(c->namespace_, ns))
		return true;
	size_t l = strlen(ns);
	return c->runtime == CTW_RT_CONTAINERD && !strncmp(c->name, ns, l) && c->name[l] == '/';
}

static bool filtered_in(const struct ctw_container *c, const struct ctw_select *sel)
{
	if (sel && sel->namespace_ && !in_namespace(c, sel->namespace_))
		return false;
	if (sel && sel->pod && strcmp(c->pod, sel->pod))
		return false;
	return true;
}

/* spec split at '/': NAMESPACE/POD/CONTAINER or POD/CONTAINER. */
static bool by_path_name(const struct ctw_container *c, const char *spec)
{
	const char *s1 = strchr(spec, '/');
	if (!s1 || s1 == spec)
		return false;
	const char *s2 = strchr(s1 + 1, '/');
	if (!s2) /* POD/CONTAINER */
		return c->pod[0] && !strncmp(c->pod, spec, (size_t)(s1 - spec)) &&
		       !c->pod[s1 - spec] && !strcmp(c->name, s1 + 1);
	if (strchr(s2 + 1, '/'))
		return false;
	return c->namespace_[0] && !strncmp(c->namespace_, spec, (size_t)(s1 - spec)) &&
	       !c->namespace_[s1 - spec] && !strncmp(c->pod, s1 + 1, (size_t)(s2 - s1 - 1)) &&
	       !c->pod[s2 - s1 - 1] && !strcmp(c->name, s2 + 1);
}

static void describe(const struct ctw_container *c, char *buf, size_t size)
{
	char who[400];
	if (c->pod[0])
		snprintf(who, sizeof(who), "%s/%s/%s", c->namespace_[0] ? c->namespace_ : "-",
			 c->pod, c->name);
	else
		snprintf(who, sizeof(who), "%s", c->name);
	snprintf(buf, size, "\n  %s (%s, id %.12s, cgroup %llu)", who,
		 ctw_runtime_kind_name(c->runtime), c->id, (unsigned long long)c->cgroup_id);
}

/* Candidates matching pred; 0 found one, -ENOENT none, -EINVAL several. */
static int pick(struct ctw_registry *r, const char *spec, const struct ctw_select *sel,
		bool (*pred)(const struct ctw_container *, const char *), struct ctw_container *out,
		struct ctw_err *err)
{
	const struct ctw_container *hit[SHOWN_MAX];
	size_t n = 0;
	for (size_t i = 0; i < ctw_registry_count(r); i++) {
		const struct ctw_container *c = ctw_registry_at(r, i);
		if (!pred(c, spec) || !filtered_in(c, sel))
			continue;
		if (n < SHOWN_MAX)
			hit[n] = c;
		n++;
	}
	if (n == 1) {
		ctw_container_copy(out, hit[0]);
		return 0;
	}
	if (!n)
		return -ENOENT;
	char list[SHOWN_MAX * 300 + 64] = "", line[300];
	for (size_t i = 0; i < n && i < SHOWN_MAX; i++) {
		describe(hit[i], line, sizeof(line));
		strncat(list, line, sizeof(list) - strlen(list) - 1);
	}
	if (n > SHOWN_MAX)
		snprintf(line, sizeof(line), "\n  ... and %zu more", n - SHOWN_MAX);
	else
		line[0] = '\0';
	return ctw_err_setx(err, EINVAL,
			    "'%s' is ambiguous: %zu containers match:%s%s\nname one as "
			    "NAMESPACE/POD/CONTAINER or by id, or narrow with -n/--namespace "
			    "or --pod",
			    spec, n, list, line);
}

static bool by_name(const struct ctw_container *c, const char *spec)
{
	return !strcmp(c->name, spec) || !strcmp(c->id, spec);
}

static bool by_id_prefix(const struct ctw_container *c, const char *spec)
{
	return c->id[0] && !strncmp(c->id, spec, strlen(spec));
}

int ctw_select_container(struct ctw_registry *r, const char *spec, const struct ctw_select *sel,
			 struct ctw_container *out, struct ctw_err *err)
{
	if (!spec || !*spec)
		return ctw_err_setx(err, EINVAL, "an empty container name");
	if (!ctw_registry_count(r))
		ctw_registry_scan(r); /* a new registry: nothing known yet */
	int rc = pick(r, spec, sel, by_name, out, err);
	if (rc == -ENOENT && spec[0] != '/')
		rc = pick(r, spec, sel, by_path_name, out, err);
	if (rc == -ENOENT && !strchr(spec, '/'))
		rc = pick(r, spec, sel, by_id_prefix, out, err);
	if (rc != -ENOENT)
		return rc;
	/* a cgroup path or a PID */
	rc = ctw_registry_resolve(r, spec, out);
	if (rc < 0)
		return rc == -ENOENT
			       ? ctw_err_setx(err, ENOENT, CTW_NO_SUCH_CONTAINER, spec)
			       : ctw_err_setx(err, -rc, "%s: no such container, cgroup or process",
					      spec);
	if (!filtered_in(out, sel)) {
		ctw_container_release(out);
		return ctw_err_setx(err, ENOENT, "%s: not in the namespace or pod asked for", spec);
	}
	return 0;
}
