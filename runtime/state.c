// SPDX-License-Identifier: Apache-2.0
/*
 * Container state: ctw_state_dir()/<id>/state.json, written atomically with
 * jansson.  The keys the agent relies on are listed in runtime.h; the
 * private ones (monitor, config) let other ctrwatch commands act on the
 * container.  Processes are identified by pid plus start time, so that a
 * recycled pid is never mistaken for ours.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "internal.h"

static const char *const status_names[] = {
	[CTW_ST_CREATED] = "created",
	[CTW_ST_RUNNING] = "running",
	[CTW_ST_EXITED] = "exited",
};

const char *ctw_status_name(enum ctw_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

char *state_path(const char *id, const char *file)
{
	return file ? xasprintf("%s/%s/%s", ctw_state_dir(), id, file)
		    : xasprintf("%s/%s", ctw_state_dir(), id);
}

char *container_dir(const char *id)
{
	return xasprintf("%s/containers/%s", ctw_root_dir(), id);
}

char *ctw_container_log_path(const char *id)
{
	return xasprintf("%s/containers/%s/container.log", ctw_root_dir(), id);
}

/* Start time (field 22 of /proc/PID/stat) and state (field 3). */
static unsigned long long proc_stat(pid_t pid, char *state)
{
	char path[64], buf[1024];
	*state = '?';
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || ctw_read_line(path, buf, sizeof(buf)))
		return 0;
	/* The command name (field 2) may hold spaces: skip past its closing
	 * parenthesis. */
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	p += 2;
	*state = *p;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

unsigned long long proc_start_time(pid_t pid)
{
	char state;
	return proc_stat(pid, &state);
}

/* The process we recorded, and not a zombie: an exited monitor may wait
 * a while for whoever reaps orphans here. */
static bool proc_alive(pid_t pid, unsigned long long start)
{
	char state;
	return pid > 0 && start && proc_stat(pid, &state) == start && state != 'Z' && state != 'X';
}

bool ctw_state_init_alive(const struct ctw_state *s)
{
	return proc_alive(s->pid, s->pid_start);
}

bool ctw_state_monitor_alive(const struct ctw_state *s)
{
	return proc_alive(s->monitor_pid, s->monitor_start);
}

int state_lock(void)
{
	ctw_mkdir_p(ctw_state_dir(), 0711);
	char *p = xasprintf("%s/.lock", ctw_state_dir());
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

void ctw_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void ctw_state_fini(struct ctw_state *s)
{
	ctw_strv_free(s->command);
	ctw_strv_free(s->env);
	ctw_strv_free(s->labels);
	s->command = NULL;
	s->env = NULL;
	s->labels = NULL;
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (char **p = v; p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

static char **json_strv(json_t *a)
{
	if (!json_is_array(a))
		return NULL;
	size_t n = json_array_size(a);
	char **v = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s)
			v[k++] = xstrdup(s);
	}
	return v;
}

static json_t *time_json(uint64_t ns)
{
	if (!ns)
		return json_string("");
	char buf[48];
	ctw_format_time(ns, buf, sizeof(buf));
	return json_string(buf);
}

static uint64_t json_time(json_t *v)
{
	const char *s = json_string_value(v);
	if (!s || !*s)
		return 0;
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return 0;
	uint64_t ns = (uint64_t)timegm(&tm) * 1000000000ull;
	if (*rest == '.')
		ns += strtoull(rest + 1, NULL, 10);
	return ns;
}

static json_t *state_json(const struct ctw_state *s)
{
	json_t *v1 = json_object();
	for (int i = 0; i < s->nv1; i++)
		json_object_set_new(v1, s->v1[i].ctrl, json_string(s->v1[i].path));
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:i, s:b, s:s, s:I, s:o, s:s, s:o}",
		"id", s->id, "name", s->name, "image", s->image, "image_id", s->image_id, "pid",
		s->pid, "status", ctw_status_name(s->status), "created", time_json(s->created_ns),
		"started", time_json(s->started_ns), "finished", time_json(s->finished_ns),
		"exit_code", s->exit_code, "oom_killed", s->oom_killed, "cgroup", s->cgroup,
		"cgroup_id", (json_int_t)s->cgroup_id, "cgroup_v1", v1, "ip", s->ip, "command",
		strv_json(s->command));
	json_t *cfg =
		json_pack("{s:o, s:s, s:s, s:I, s:b, s:s, s:i, s:i, s:s}", "env", strv_json(s->env),
			  "workdir", s->workdir, "user", s->user, "caps", (json_int_t)s->caps,
			  "no_new_privs", s->no_new_privs, "seccomp", s->seccomp, "stop_signal",
			  s->stop_signal, "stop_timeout", s->stop_timeout, "net", s->net_mode);
	json_object_set_new(o, "config", cfg);
	json_t *labels = json_object();
	for (char **p = s->labels; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		char *k = xasprintf("%.*s", eq ? (int)(eq - *p) : (int)strlen(*p), *p);
		json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
		free(k);
	}
	json_object_set_new(o, "labels", labels);
	json_object_set_new(o, "pid_start", json_integer((json_int_t)s->pid_start));
	json_object_set_new(o, "monitor_pid", json_integer(s->monitor_pid));
	json_object_set_new(o, "monitor_start", json_integer((json_int_t)s->monitor_start));
	json_object_set_new(o, "detached", json_boolean(s->detached));
	json_object_set_new(o, "auto_remove", json_boolean(s->auto_remove));
	json_object_set_new(o, "tty", json_boolean(s->tty));
	json_object_set_new(o, "log_lost_entries", json_integer((json_int_t)s->log_lost_entries));
	json_object_set_new(o, "log_lost_bytes", json_integer((json_int_t)s->log_lost_bytes));
	json_object_set_new(o, "log_lost_error", json_string(s->log_lost_error));
	return o;
}

char *ctw_state_to_json(const struct ctw_state *s, bool pretty)
{
	json_t *o = state_json(s);
	char *txt = json_dumps(o, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER
					 : JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return txt;
}

int ctw_state_save(const struct ctw_state *s, struct ctw_err *err)
{
	/* 0700: the container's root may write (and chmod) the hosts,
	 * resolv.conf and hostname files bound from here. */
	char *dir = state_path(s->id, NULL);
	int r = 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = errno == ENOENT ? ctw_mkdir_p(ctw_state_dir(), 0711) : -errno;
		if (!r && mkdir(dir, 0700) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	if (r)
		return ctw_err_set(err, -r, "create state dir for %s", s->id);
	char *txt = ctw_state_to_json(s, false);
	char *path = state_path(s->id, "state.json");
	r = ctw_write_file_atomic(path, txt, strlen(txt));
	free(txt);
	if (r)
		ctw_err_set(err, -r, "write %s", path);
	free(path);
	return r;
}

static void copy_str(char *dst, size_t size, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	ctw_strlcpy(dst, v ? v : "", size);
}

int ctw_state_load(const char *id, struct ctw_state *s, struct ctw_err *err)
{
	memset(s, 0, sizeof(*s));
	char *path = state_path(id, "state.json");
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o) {
		int e = ctw_path_exists(path) ? EINVAL : ENOENT;
		ctw_err_setx(err, e, "container state %s: %s", path, je.text);
		free(path);
		return -e;
	}
	free(path);
	copy_str(s->id, sizeof(s->id), o, "id");
	copy_str(s->name, sizeof(s->name), o, "name");
	copy_str(s->image, sizeof(s->image), o, "image");
	copy_str(s->image_id, sizeof(s->image_id), o, "image_id");
	copy_str(s->cgroup, sizeof(s->cgroup), o, "cgroup");
	copy_str(s->ip, sizeof(s->ip), o, "ip");
	s->pid = (int)json_integer_value(json_object_get(o, "pid"));
	const char *st = json_string_value(json_object_get(o, "status"));
	for (size_t i = 0; st && i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(st, status_names[i]))
			s->status = (enum ctw_status)i;
	s->created_ns = json_time(json_object_get(o, "created"));
	s->started_ns = json_time(json_object_get(o, "started"));
	s->finished_ns = json_time(json_object_get(o, "finished"));
	s->exit_code = (int)json_integer_value(json_object_get(o, "exit_code"));
	s->oom_killed = json_is_true(json_object_get(o, "oom_killed"));
	s->cgroup_id = (uint64_t)json_integer_value(json_object_get(o, "cgroup_id"));
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(o, "cgroup_v1"), k, v) {
		if (s->nv1 == CTW_CG_V1_MAX || !json_string_value(v))
			break;
		ctw_strlcpy(s->v1[s->nv1].ctrl, k, sizeof(s->v1[0].ctrl));
		ctw_strlcpy(s->v1[s->nv1].path, json_string_value(v), sizeof(s->v1[0].path));
		s->nv1++;
	}
	s->command = json_strv(json_object_get(o, "command"));
	s->pid_start = (unsigned long long)json_integer_value(json_object_get(o, "pid_start"));
	s->monitor_pid = (int)json_integer_value(json_object_get(o, "monitor_pid"));
	s->monitor_start =
		(unsigned long long)json_integer_value(json_object_get(o, "monitor_start"));
	s->detached = json_is_true(json_object_get(o, "detached"));
	s->auto_remove = json_is_true(json_object_get(o, "auto_remove"));
	s->tty = json_is_true(json_object_get(o, "tty"));
	s->log_lost_entries = (uint64_t)json_integer_value(json_object_get(o, "log_lost_entries"));
	s->log_lost_bytes = (uint64_t)json_integer_value(json_object_get(o, "log_lost_bytes"));
	copy_str(s->log_lost_error, sizeof(s->log_lost_error), o, "log_lost_error");
	json_t *cfg = json_object_get(o, "config");
	s->env = json_strv(json_object_get(cfg, "env"));
	json_t *labels = json_object_get(o, "labels");
	if (json_is_object(labels) && json_object_size(labels)) {
		size_t nl = 0;
		s->labels = xcalloc(json_object_size(labels) + 1, sizeof(char *));
		json_object_foreach (labels, k, v)
			if (json_is_string(v))
				s->labels[nl++] = xasprintf("%s=%s", k, json_string_value(v));
	}
	copy_str(s->workdir, sizeof(s->workdir), cfg, "workdir");
	copy_str(s->user, sizeof(s->user), cfg, "user");
	copy_str(s->seccomp, sizeof(s->seccomp), cfg, "seccomp");
	copy_str(s->net_mode, sizeof(s->net_mode), cfg, "net");
	s->caps = (uint64_t)json_integer_value(json_object_get(cfg, "caps"));
	s->no_new_privs = json_is_true(json_object_get(cfg, "no_new_privs"));
	s->stop_signal = (int)json_integer_value(json_object_get(cfg, "stop_signal"));
	s->stop_timeout = (int)json_integer_value(json_object_get(cfg, "stop_timeout"));
	json_decref(o);
	return 0;
}

char **ctw_state_list(void)
{
	size_t n = 0;
	char **v = xcalloc(1, sizeof(char *));
	DIR *d = opendir(ctw_state_dir());
	if (!d)
		return v;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 64)
			continue;
		v = xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	return v;
}

int ctw_state_find(const char *ref, struct ctw_state *s, struct ctw_err *err)
{
	if (!ref || !*ref)
		return ctw_err_setx(err, EINVAL, "empty container name");
	char **ids = ctw_state_list();
	const char *hit = NULL;
	int nhits = 0, r;
	/* A name wins over an id prefix; a full id over both. */
	for (char **p = ids; *p; p++) {
		if (!strcmp(*p, ref)) {
			hit = *p;
			nhits = 1;
			goto found;
		}
	}
	for (char **p = ids; *p; p++) {
		struct ctw_state t;
		if (ctw_state_load(*p, &t, NULL))
			continue;
		bool named = !strcmp(t.name, ref);
		ctw_state_fini(&t);
		if (named) {
			hit = *p;
			nhits = 1;
			goto found;
		}
	}
	for (char **p = ids; *p; p++) {
		if (ctw_str_has_prefix(*p, ref)) {
			hit = *p;
			nhits++;
		}
	}
found:
	if (nhits == 1) {
		r = ctw_state_load(hit, s, err);
	} else if (nhits == 0) {
		r = ctw_err_setx(err, ENOENT, CTW_NO_SUCH_CONTAINER, ref);
	} else {
		r = ctw_err_setx(err, EINVAL, "container id prefix %s is ambiguous", ref);
	}
	ctw_strv_free(ids);
	return r;
}

int state_remove(const char *id)
{
	char *dir = state_path(id, NULL);
	int r = ctw_rm_rf(dir);
	free(dir);
	return r;
}
