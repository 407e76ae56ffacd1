// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's settings: the agent's own table (each module declares its
 * own in .settings), the values from every source (defaults, the config
 * file, CTRWATCH_<KEY>, flags and --set), one parser per kind for all of
 * them, the typed reads modules use, and --check (the same validation a
 * start runs first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"

/* The agent's own settings (each module declares its own: see
 * ctw_agent_setting_def_at).  Values come, lowest priority first, from
 * these defaults, the config file, CTRWATCH_<KEY> environment variables,
 * and flags. */
#define UINT_SETTING(k, d, lo, hi, h)                                                         \
	{                                                                                     \
		.key = k, .kind = CTW_SETTING_UINT, .def = d, .help = h, .min = lo, .max = hi \
	}
static const struct ctw_agent_setting_def known[] = {
	CTW_SETTING("listen", CTW_SETTING_STR, "127.0.0.1:9464", "ADDR:PORT to serve /metrics on"),
	CTW_SETTING("metrics", CTW_SETTING_STR, "all",
		    "modules/groups to enable: all or a list of syscalls,tcp,dns,policy,resources"),
	UINT_SETTING("max_series", "100000", 0, 100000000,
		     "hard cap on series per scrape (0 = none)"),
	CTW_SETTING("proc_root", CTW_SETTING_STR, "/proc", "host /proc (/host/proc in a pod)"),
	CTW_SETTING("cgroup_root", CTW_SETTING_STR, "", "cgroup v2 mount (empty = detect)"),
	CTW_SETTING("host_root", CTW_SETTING_STR, "/",
		    "where runtimes' files are (Docker, containerd, CRI-O)"),
	CTW_SETTING("state_dir", CTW_SETTING_STR, "",
		    "ctrwatch container state (empty = CTRWATCH_STATE or /run/ctrwatch)"),
	CTW_SETTING("discovery_interval", CTW_SETTING_DURATION, "5s",
		    "periodic rescan of the cgroup tree"),
	CTW_SETTING("exit_grace", CTW_SETTING_DURATION0, "60s",
		    "keep an exited container's series this long (e.g. the scrape interval)"),
	CTW_SETTING("log_level", CTW_SETTING_STR, "info", "error|warn|info|debug"),
	CTW_SETTING("log_format", CTW_SETTING_STR, "text", "text|json"),
	CTW_SETTING("scrape_cache", CTW_SETTING_DURATION0, "1s",
		    "build /metrics at most once per this long and serve that text to every scrape "
		    "in between (0 = build on every request)"),
	UINT_SETTING("conn_limit", "512", 0, 65535, "HTTP connection limit"),
	UINT_SETTING("per_ip_limit", "128", 0, 65535, "HTTP connections per client IP"),
	CTW_SETTING("http_timeout", CTW_SETTING_DURATION, "15s",
		    "idle HTTP connections are closed after this"),
	CTW_SETTING("tls_cert", CTW_SETTING_STR, "", "PEM certificate (with tls_key: serve HTTPS)"),
	CTW_SETTING("tls_key", CTW_SETTING_STR, "", "PEM key"),
	CTW_SETTING("basic_auth_file", CTW_SETTING_STR, "",
		    "file with USER:PASSWORD guarding /metrics"),
	CTW_SETTING("bpf_stats", CTW_SETTING_BOOL, "false",
		    "have the kernel time BPF programs while the agent runs "
		    "(ctrwatch_bpf_program_run_seconds_total)"),
};
#undef UINT_SETTING

const struct ctw_agent_setting_def *ctw_agent_setting_def_at(size_t i)
{
	const struct ctw_agent_module *const *modules;
	size_t nmodules = ctw_agent_modules(&modules);
	if (i < ARRAY_SIZE(known))
		return &known[i];
	i -= ARRAY_SIZE(known);
	for (size_t m = 0; m < nmodules; m++)
		for (const struct ctw_agent_setting_def *d = modules[m]->settings; d && d->key; d++)
			if (i-- == 0)
				return d;
	return NULL;
}

const struct ctw_agent_setting_def *ctw_agent_setting_def(const char *key)
{
	const struct ctw_agent_setting_def *d;
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)); i++)
		if (!strcmp(d->key, key))
			return d;
	return NULL;
}

static struct setting *find_setting(struct ctw_agent *a, const char *key)
{
	for (size_t i = 0; i < a->nsettings; i++)
		if (!strcmp(a->settings[i].key, key))
			return &a->settings[i];
	return NULL;
}

int ctw_agent_set(struct ctw_agent *a, const char *key, const char *value, int prio)
{
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return -EINVAL;
	struct setting *s = find_setting(a, key);
	if (!s) {
		if (a->nsettings == MAX_SETTINGS)
			return -ENOSPC;
		s = &a->settings[a->nsettings++];
		s->key = xstrdup(key);
		s->value = NULL;
		s->prio = -1;
	}
	if (prio < s->prio)
		return 0;
	free(s->value);
	s->value = xstrdup(value);
	s->prio = prio;
	return 0;
}

const char *ctw_agent_setting(struct ctw_agent *a, const char *key)
{
	struct setting *s = find_setting(a, key);
	if (!s || !s->value || !*s->value)
		return NULL;
	return s->value;
}

/* Drop every value that came from the config file (before a reload). */
void ctw_agent_clear_settings(struct ctw_agent *a, int prio)
{
	for (size_t i = 0; i < a->nsettings; i++) {
		if (a->settings[i].prio == prio) {
			a->settings[i].prio = -1;
			free(a->settings[i].value);
			a->settings[i].value = NULL;
		}
	}
	const struct ctw_agent_setting_def *d;
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)); i++)
		if (!find_setting(a, d->key) || !find_setting(a, d->key)->value)
			ctw_agent_set(a, d->key, d->def, CTW_SET_DEFAULT);
}

void agent_settings_init(struct ctw_agent *a)
{
	const struct ctw_agent_setting_def *d;
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)); i++) {
		ctw_agent_set(a, d->key, d->def, CTW_SET_DEFAULT);
		/* CTRWATCH_<KEY> for the DaemonSet */
		char env[64];
		snprintf(env, sizeof(env), "CTRWATCH_%s", d->key);
		for (char *p = env; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p -= 32;
		const char *v = getenv(env);
		if (v)
			ctw_agent_set(a, d->key, v, CTW_SET_ENV);
	}
}

void agent_settings_free(struct ctw_agent *a)
{
	for (size_t i = 0; i < a->nsettings; i++) {
		free(a->settings[i].key);
		free(a->settings[i].value);
	}
	a->nsettings = 0;
}

/* ---- metric selection ---- */

bool ctw_agent_enabled(struct ctw_agent *a, const char *group)
{
	const char *sel = ctw_agent_setting(a, "metrics");
	if (!sel || !strcmp(sel, "all"))
		return true;
	size_t gl = strlen(group);
	for (const char *p = sel; *p;) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		if (l == gl && !strncmp(p, group, l))
			return true;
		p += l + (end ? 1 : 0);
	}
	return false;
}

/* ---- config file ---- */

/* A flat file of `key: value` or `key = value` lines (YAML-compatible for
 * the simple case the Helm ConfigMap uses); '#' starts a comment, keys may
 * use '-' for '_', values may be quoted. */
int ctw_agent_load_config(struct ctw_agent *a, const char *path, struct ctw_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int rc = ctw_read_file(path, &buf, NULL);
	if (rc < 0)
		return ctw_err_set(err, -rc, "config %s", path);
	int lineno = 0;
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *hash = strchr(line, '#');
		if (hash && (hash == line || hash[-1] == ' ' || hash[-1] == '\t'))
			*hash = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		size_t l = strlen(line);
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (!*line || !strcmp(line, "---"))
			continue;
		char *sep = strpbrk(line, ":=");
		if (!sep)
			return ctw_err_setx(err, EINVAL, "%s:%d: expected KEY: VALUE", path,
					    lineno);
		*sep = '\0';
		char *key = line, *val = sep + 1;
		size_t kl = strlen(key);
		while (kl && (key[kl - 1] == ' ' || key[kl - 1] == '\t'))
			key[--kl] = '\0';
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		while (*val == ' ' || *val == '\t')
			val++;
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		if (ctw_agent_set(a, key, val, CTW_SET_FILE) < 0)
			return ctw_err_setx(err, EINVAL, "%s:%d: bad key '%s'", path, lineno, key);
		if (!ctw_agent_setting_def(key))
			pr_warn("%s:%d: unknown setting '%s' (kept for modules)", path, lineno,
				key);
	}
	return 0;
}

/* ---- checking ---- */

int agent_apply_logging(struct ctw_agent *a, struct ctw_err *err)
{
	enum ctw_log_level lvl;
	const char *s = ctw_agent_setting(a, "log_level");
	if (s && ctw_log_parse_level(s, &lvl) < 0)
		return ctw_err_setx(err, EINVAL, "log level '%s': expected error|warn|info|debug",
				    s);
	if (s)
		ctw_log_set_level(lvl);
	s = ctw_agent_setting(a, "log_format");
	if (s && strcmp(s, "text") && strcmp(s, "json"))
		return ctw_err_setx(err, EINVAL, "log format '%s': expected text|json", s);
	ctw_log_set_format(s && !strcmp(s, "json") ? CTW_LOG_JSON : CTW_LOG_TEXT);
	return 0;
}

/* One parser per kind, for every source (flag, environment, file, --set). */
static int check_value(const struct ctw_agent_setting_def *d, const char *v, struct ctw_err *err)
{
	uint64_t n;
	switch (d->kind) {
	case CTW_SETTING_STR: return 0;
	case CTW_SETTING_BOOL:
		return ctw_parse_bool(v, &(bool){false}) < 0
			       ? ctw_err_setx(err, EINVAL, "%s '%s': expected true or false",
					      d->key, v)
			       : 0;
	case CTW_SETTING_DURATION:
		return ctw_parse_duration_ns(v, &n) < 0 || !n
			       ? ctw_err_setx(err, EINVAL,
					      "%s '%s': expected a duration (500ms, 5s, 1m)",
					      d->key, v)
			       : 0;
	case CTW_SETTING_DURATION0:
		return strcmp(v, "0") && ctw_parse_duration_ns(v, &n) < 0
			       ? ctw_err_setx(err, EINVAL,
					      "%s '%s': expected a duration (1s, 500ms) or 0",
					      d->key, v)
			       : 0;
	case CTW_SETTING_UINT:
		return ctw_parse_u64(v, d->min, d->max, &n) < 0
			       ? ctw_err_setx(err, EINVAL,
					      "%s '%s': expected a number from %llu to %llu",
					      d->key, v, d->min, d->max)
			       : 0;
	}
	return 0;
}

/* key's value when it is set and of the kind asked for; else NULL (and
 * -EINVAL in *rc when it is set but not valid). */
static const char *typed(struct ctw_agent *a, const char *key, enum ctw_setting_kind k1,
			 enum ctw_setting_kind k2, int *rc, struct ctw_err *err)
{
	const struct ctw_agent_setting_def *d = ctw_agent_setting_def(key);
	const char *v = ctw_agent_setting(a, key);
	*rc = 0;
	if (!v)
		return NULL;
	if (d && d->kind != k1 && d->kind != k2) {
		*rc = ctw_err_setx(err, EINVAL, "%s: not a setting of this kind", key);
		return NULL;
	}
	struct ctw_agent_setting_def undeclared = {.key = key, .kind = k1, .max = UINT64_MAX};
	if ((*rc = check_value(d ? d : &undeclared, v, err)) < 0)
		return NULL;
	return v;
}

int ctw_agent_setting_bool(struct ctw_agent *a, const char *key, bool *out, struct ctw_err *err)
{
	int rc;
	const char *v = typed(a, key, CTW_SETTING_BOOL, CTW_SETTING_BOOL, &rc, err);
	*out = false;
	if (v)
		ctw_parse_bool(v, out);
	return rc;
}

int ctw_agent_setting_ns(struct ctw_agent *a, const char *key, uint64_t *ns, struct ctw_err *err)
{
	int rc;
	const char *v = typed(a, key, CTW_SETTING_DURATION, CTW_SETTING_DURATION0, &rc, err);
	*ns = 0;
	if (v && strcmp(v, "0"))
		ctw_parse_duration_ns(v, ns);
	return rc;
}

int ctw_agent_setting_u64(struct ctw_agent *a, const char *key, uint64_t *out, struct ctw_err *err)
{
	int rc;
	const char *v = typed(a, key, CTW_SETTING_UINT, CTW_SETTING_UINT, &rc, err);
	*out = 0;
	if (v)
		ctw_parse_u64(v, 0, UINT64_MAX, out);
	return rc;
}

int ctw_agent_check_settings(struct ctw_agent *a, struct ctw_err *err)
{
	const struct ctw_agent_module *const *modules;
	size_t nmodules = ctw_agent_modules(&modules);
	int rc;
	if ((rc = agent_apply_logging(a, err)) < 0)
		return rc;
	/* every setting by its kind, a module's too (enabled or not) */
	const struct ctw_agent_setting_def *d;
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)); i++) {
		const char *v = ctw_agent_setting(a, d->key);
		if (v && (rc = check_value(d, v, err)) < 0)
			return rc;
	}
	/* What the HTTP server would refuse only after the probes loaded. */
	if ((rc = ctw_http_check_listen(ctw_agent_setting(a, "listen"), err)) < 0)
		return rc;
	const char *cert = ctw_agent_setting(a, "tls_cert"), *key = ctw_agent_setting(a, "tls_key");
	if (!cert != !key)
		return ctw_err_setx(err, EINVAL, "TLS needs both tls_cert and tls_key");
	const char *files[] = {cert, key, ctw_agent_setting(a, "basic_auth_file")};
	const char *what[] = {"tls_cert", "tls_key", "basic_auth_file"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i] && access(files[i], R_OK) < 0)
			return ctw_err_set(err, errno, "%s %s", what[i], files[i]);
	const char *sel = ctw_agent_setting(a, "metrics");
	if (sel && strcmp(sel, "all")) {
		char *dup = xstrdup(sel), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			bool ok = false;
			for (size_t i = 0; i < nmodules; i++)
				ok |= !strcmp(modules[i]->name, t);
			if (!ok) {
				rc = ctw_err_setx(err, EINVAL, "metrics: unknown group '%s'", t);
				free(dup);
				return rc;
			}
		}
		free(dup);
	}
	for (size_t i = 0; i < nmodules; i++)
		if (modules[i]->check && ctw_agent_enabled(a, modules[i]->name) &&
		    (rc = modules[i]->check(a, err)) < 0)
			return rc;
	return 0;
}
