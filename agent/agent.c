// SPDX-License-Identifier: Apache-2.0
/*
 * The agent core: settings, probe modules, one epoll loop, the scrape.
 *
 * Threads: the loop thread handles ring buffers (ctw_agent_watch_fd),
 * signals (signalfd), discovery (a timerfd for the periodic rescan, inotify
 * on the cgroup tree and the state dir, debounced by a second timerfd);
 * libmicrohttpd's thread runs the scrape.  One mutex covers both: event
 * handling and collect() never overlap, so modules need no locking of their
 * own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "../lib/lib.h"

#ifndef CTW_GIT_REV
#define CTW_GIT_REV "unknown"
#endif

#define MAX_MODULES 16
#define MAX_SETTINGS 64

/* ---- module table (filled by constructors) ---- */

static const struct ctw_agent_module *modules[MAX_MODULES];
static size_t nmodules;

void ctw_agent_module_register(const struct ctw_agent_module *mod)
{
	if (nmodules == MAX_MODULES) {
		fputs("ctrwatch: too many agent modules\n", stderr);
		abort();
	}
	modules[nmodules++] = mod;
}

size_t ctw_agent_modules(const struct ctw_agent_module *const **out)
{
	*out = modules;
	return nmodules;
}

/* ---- the agent ---- */

struct setting {
	char *key, *value;
	int prio;
};

struct watch {
	int fd;
	void (*cb)(void *ctx);
	void *ctx;
	/* Not a ring buffer's epoll fd nor a timer: a control event (the
	 * policy module's file watch) whose effect a scrape must show at once,
	 * so the scrape cache is dropped after the callback.  Ring buffers
	 * carry the data plane (counts a scrape a second later will show). */
	bool invalidates;
	struct watch *next;
};

struct counter { /* events by source, lost by (source, cgroup id) */
	char source[32];
	uint64_t cgroup_id;
	uint64_t n;
};

struct prog {
	char name[64];
	int fd;
};

struct running {
	const struct ctw_agent_module *mod;
	void *state;
	bool up;
	int err;
};

struct ctw_agent {
	pthread_mutex_t lock;
	struct setting settings[MAX_SETTINGS];
	size_t nsettings;
	struct ctw_registry *reg;
	struct running mods[MAX_MODULES];
	size_t nmods;
	int epfd, sigfd, tfd, debounce_fd, inofd;
	struct ctw_cgroup_stream *stream;
	uint64_t stream_lost;	  /* records the stream lost, as last seen */
	uint64_t expire_check_ns; /* last look for containers past the grace */
	struct watch *watches;
	struct counter *events, *lost;
	size_t nevents, nlost;
	struct prog progs[32];
	size_t nprogs;
	struct ctw_http *http;
	bool ready;
	bool stopping;
	bool rescan_pending;
	uint64_t series_dropped;
	uint64_t series_invalid; /* ctrwatch_series_invalid_total */
	uint64_t scrapes;
	double start_time;
	/* how long the last build spent waiting for the lock, in each
	 * module's collect, and in the resources (ctrwatch_scrape_collect_seconds) */
	uint64_t collect_ns[MAX_MODULES + 2];
	/* scrape duration histogram */
	uint64_t scrape_buckets[10]; /* 9 bounds + overflow */
	double scrape_sum;
	uint64_t rescans;
	char state_dir[PATH_MAX];
	/* cgroup resources cache, in registry order */
	struct ctw_cgroup_resources *res;
	uint64_t *res_ids;
	size_t nres;
	uint64_t res_at_ns;
};

static const double scrape_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25};
_Static_assert(ARRAY_SIZE(scrape_bounds) == 9, "bounds");

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

struct ctw_agent *ctw_agent_new(void)
{
	struct ctw_agent *a = xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->epfd = a->sigfd = a->tfd = a->debounce_fd = a->inofd = -1;
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
	return a;
}

void ctw_agent_free(struct ctw_agent *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nsettings; i++) {
		free(a->settings[i].key);
		free(a->settings[i].value);
	}
	while (a->watches) {
		struct watch *w = a->watches;
		a->watches = w->next;
		free(w);
	}
	free(a->events);
	free(a->lost);
	free(a->res);
	free(a->res_ids);
	ctw_registry_free(a->reg);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

struct ctw_registry *ctw_agent_registry(struct ctw_agent *a)
{
	return a->reg;
}

int ctw_agent_watch_fd(struct ctw_agent *a, int fd, void (*cb)(void *ctx), void *ctx)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	char link[64], target[64] = "";
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t tl = readlink(link, target, sizeof(target) - 1);
	if (tl > 0)
		target[tl] = '\0';
	w->invalidates =
		strcmp(target, "anon_inode:[eventpoll]") && strcmp(target, "anon_inode:[timerfd]");
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;
		free(w);
		return -err;
	}
	w->next = a->watches;
	a->watches = w;
	return 0;
}

int ctw_agent_unwatch_fd(struct ctw_agent *a, int fd)
{
	for (struct watch **pw = &a->watches; *pw; pw = &(*pw)->next) {
		if ((*pw)->fd == fd) {
			struct watch *w = *pw;
			*pw = w->next;
			epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL);
			free(w);
			return 0;
		}
	}
	return -ENOENT;
}

static struct counter *counter_get(struct counter **arr, size_t *n, const char *source,
				   uint64_t cgid)
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
	counter_get(&a->events, &a->nevents, source, 0)->n += n;
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
	counter_get(&a->lost, &a->nlost, source, cgroup_id)->n += n;
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

size_t ctw_agent_labels(const char **labels, const char *name, const char *pod, const char *ns,
			const char *short_id)
{
	size_t n = 0;
	labels[n++] = "container";
	labels[n++] = name;
	if (pod[0]) {
		labels[n++] = "pod";
		labels[n++] = pod;
	}
	if (ns[0]) {
		labels[n++] = "namespace";
		labels[n++] = ns;
	}
	labels[n++] = "container_id";
	labels[n++] = short_id;
	labels[n] = NULL;
	return n;
}

size_t ctw_agent_container_labels(const struct ctw_container *c, char id[CTW_SHORT_ID_SIZE],
				  const char **labels, size_t max)
{
	if (max < 9)
		return 0;
	return ctw_agent_labels(labels, c->name, c->pod, c->namespace_,
				ctw_container_short_id(c->id, id));
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

/* ---- discovery ---- */

static void on_added(void *ctx, const struct ctw_container *c)
{
	struct ctw_agent *a = ctx;
	pr_info("container %s (%s, cgroup id %llu) appeared", c->name,
		ctw_runtime_kind_name(c->runtime), (unsigned long long)c->cgroup_id);
	for (size_t i = 0; i < a->nmods; i++)
		if (a->mods[i].up && a->mods[i].mod->container_added)
			a->mods[i].mod->container_added(a->mods[i].state, c);
	ctw_http_invalidate(a->http);
}

static void on_removed(void *ctx, const struct ctw_container *c)
{
	struct ctw_agent *a = ctx;
	pr_info("container %s (cgroup id %llu) went away", c->name,
		(unsigned long long)c->cgroup_id);
	for (size_t i = 0; i < a->nmods; i++)
		if (a->mods[i].up && a->mods[i].mod->container_removed)
			a->mods[i].mod->container_removed(a->mods[i].state, c);
	ctw_http_invalidate(a->http);
	/* Its losses now count as the host's (container=""), keeping the
	 * table bounded. */
	for (size_t i = 0; i < a->nlost; i++) {
		if (a->lost[i].cgroup_id == c->cgroup_id) {
			uint64_t n = a->lost[i].n;
			char src[32];
			ctw_strlcpy(src, a->lost[i].source, sizeof(src));
			a->lost[i] = a->lost[--a->nlost];
			counter_get(&a->lost, &a->nlost, src, 0)->n += n;
			i--;
		}
	}
}

static void on_dir(void *ctx, const char *path)
{
	struct ctw_agent *a = ctx;
	if (a->inofd >= 0)
		inotify_add_watch(a->inofd, path, IN_CREATE | IN_DELETE | IN_ONLYDIR);
}

static void watch_state_dir(struct ctw_agent *a)
{
	if (a->inofd < 0)
		return;
	inotify_add_watch(a->inofd, a->state_dir, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_ONLYDIR);
	DIR *d = opendir(a->state_dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", a->state_dir, de->d_name);
		inotify_add_watch(a->inofd, p, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
	}
	closedir(d);
}

static void rescan(struct ctw_agent *a)
{
	int n = ctw_registry_scan(a->reg);
	a->rescans++;
	if (n < 0)
		pr_warn("discovery: scan %s: %s", ctw_registry_cgroup_root(a->reg), strerror(-n));
	else
		pr_debug("discovery: scan %llu: %d containers", (unsigned long long)a->rescans, n);
	watch_state_dir(a);
	for (size_t i = 0; i < a->nmods; i++)
		if (a->mods[i].up && a->mods[i].mod->rescanned)
			a->mods[i].mod->rescanned(a->mods[i].state);
	a->ready = true;
}

static void arm_timer(int fd, uint64_t ns, bool periodic);

/* Records the stream's ring could not hold: logged and counted once;
 * true when there are new ones (the caller has a scan repair them). */
static bool stream_lost_more(struct ctw_agent *a)
{
	uint64_t lost = ctw_cgroup_stream_lost(a->stream);
	if (lost == a->stream_lost)
		return false;
	uint64_t n = lost - a->stream_lost;
	a->stream_lost = lost;
	pr_info("cgroup stream: %llu records lost: rescanning", (unsigned long long)n);
	/* ctrwatch_events_lost_total{source="cgroups"}: no container's (and
	 * not through ctw_agent_count_lost, which syncs the stream: here) */
	counter_get(&a->lost, &a->nlost, "cgroups", 0)->n += n;
	return true;
}

/* The kernel's cgroup stream: containers named as their cgroup is made,
 * their exit grace started as it goes.  A scan repairs what the ring lost
 * and drops what outlived the grace. */
static void on_stream(void *ctx)
{
	struct ctw_agent *a = ctx;
	ctw_cgroup_stream_consume(a->stream);
	uint64_t now = ctw_now_ns();
	/* expiry needs no more than a second's precision: under churn a scan
	 * per record would keep the loop busy */
	bool expire = now - a->expire_check_ns >= 1000000000ull;
	if (expire)
		a->expire_check_ns = now;
	if (stream_lost_more(a) || (expire && ctw_registry_expired(a->reg)))
		rescan(a);
}

/* A module drains the stream before it reads its own tables (called with
 * the lock held).  The ring may then be empty when the loop looks at it, so
 * a loss is noticed here too; its scan runs from the loop (a module's
 * rescanned hook must not run inside that module's own pass). */
void ctw_agent_identity_sync(struct ctw_agent *a)
{
	if (!a->stream)
		return;
	ctw_cgroup_stream_consume(a->stream);
	if (stream_lost_more(a) && !a->rescan_pending) {
		arm_timer(a->debounce_fd, 1000000ull, false);
		a->rescan_pending = true;
	}
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

static void collect_self(struct ctw_agent *a, struct ctw_metrics *m)
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
	if (ctw_agent_enabled(a, "resources"))
		ctw_metrics_sample(m, LBL("part", "resources"),
				   a->collect_ns[1 + MAX_MODULES] / 1e9);
	ctw_metrics_declare(m, &ctw_agent_self_metrics[CTW_M_SCRAPE_DURATION]);
	ctw_metrics_histogram(m, NULL, scrape_bounds, a->scrape_buckets, ARRAY_SIZE(scrape_bounds),
			      a->scrape_sum);
}

/* The container's cgroup below the watched cgroup root: what cAdvisor calls
 * `id` ("/kubepods.slice/.../cri-containerd-<id>.scope"), so that
 * ctrwatch_container_info joins cAdvisor's series on it. */
static const char *cgroup_id_label(const struct ctw_agent *a, const struct ctw_container *c)
{
	const char *root = ctw_registry_cgroup_root(a->reg);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (!strncmp(c->cgroup_path, root, n) && c->cgroup_path[n] == '/')
		return c->cgroup_path + n;
	return c->cgroup_path;
}

static void collect_resources(struct ctw_agent *a, struct ctw_metrics *m)
{
	size_t n = ctw_registry_count(a->reg);
	/* The cgroup files are read at most once a second (a few hundred
	 * file reads for a hundred containers would dominate the scrape);
	 * a container new since then is read at once. */
	uint64_t now = ctw_now_ns();
	bool fresh = now - a->res_at_ns > 1000000000ull || a->nres != n;
	if (fresh) {
		a->res = xrealloc(a->res, (n ? n : 1) * sizeof(*a->res));
		a->res_ids = xrealloc(a->res_ids, (n ? n : 1) * sizeof(*a->res_ids));
		a->nres = n;
		a->res_at_ns = now;
	}
	struct ctw_cgroup_resources *res = a->res;
	for (size_t i = 0; i < n; i++) {
		const struct ctw_container *c = ctw_registry_at(a->reg, i);
		if (!fresh && a->res_ids[i] == c->cgroup_id)
			continue;
		ctw_registry_resources(a->reg, c, &res[i]);
		a->res_ids[i] = c->cgroup_id;
	}
	for (size_t f = 0; f < CTW_M_RESOURCES_N; f++) {
		ctw_metrics_declare(m, &ctw_agent_resource_metrics[f]);
		for (size_t i = 0; i < n; i++) {
			const struct ctw_container *c = ctw_registry_at(a->reg, i);
			const char *l[20];
			char cid[CTW_SHORT_ID_SIZE];
			char cgid[24]; /* in l until the sample is written */
			size_t k = ctw_agent_container_labels(c, cid, l, 12);
			const struct ctw_cgroup_resources *r = &res[i];
			bool has = true;
			double v = 0;
			switch (f) {
			case CTW_M_CONTAINER_INFO: {
				snprintf(cgid, sizeof(cgid), "%llu",
					 (unsigned long long)c->cgroup_id);
				const char *extra[] = {
					"image",     c->image,
					"runtime",   ctw_runtime_kind_name(c->runtime),
					"cgroup_id", cgid,
					"full_id",   c->id,
					"id",	     cgroup_id_label(a, c)};
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
			if (has && ctw_metrics_block(m, l))
				ctw_metrics_block_sample(m, NULL, NULL, v);
		}
	}
}

static void scrape(void *ctx, struct ctw_metrics *m)
{
	struct ctw_agent *a = ctx;
	uint64_t t0 = ctw_now_ns(), t = t0;
	pthread_mutex_lock(&a->lock);
	uint64_t tl = ctw_now_ns();
	a->collect_ns[0] = tl - t; /* waiting for the lock (event handling, a rescan) */
	t = tl;
	for (size_t i = 0; i < a->nmods; i++) {
		if (a->mods[i].up && a->mods[i].mod->collect)
			a->mods[i].mod->collect(a->mods[i].state, m);
		uint64_t tn = ctw_now_ns();
		a->collect_ns[1 + i] = tn - t;
		t = tn;
	}
	if (ctw_agent_enabled(a, "resources"))
		collect_resources(a, m);
	a->collect_ns[1 + MAX_MODULES] = ctw_now_ns() - t;
	/* The agent's own series always fit: the cap is for what containers
	 * bring, and the count of what it dropped must be seen. */
	ctw_metrics_set_max_series(m, 0);
	collect_self(a, m);
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
	double dt = (ctw_now_ns() - t0) / 1e9;
	size_t b = 0;
	while (b < ARRAY_SIZE(scrape_bounds) && dt > scrape_bounds[b])
		b++;
	a->scrape_buckets[b]++;
	a->scrape_sum += dt;
	a->scrapes++;
	pthread_mutex_unlock(&a->lock);
}

static bool ready(void *ctx)
{
	struct ctw_agent *a = ctx;
	pthread_mutex_lock(&a->lock);
	bool r = a->ready && !a->stopping;
	pthread_mutex_unlock(&a->lock);
	return r;
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

/* ---- bpffs / tracefs ---- */

static void ensure_fs(const char *dir, const char *type, long magic)
{
	struct statfs sf;
	if (statfs(dir, &sf) == 0 && (long)sf.f_type == magic)
		return;
	if (!ctw_path_exists(dir))
		return;
	if (mount(type, dir, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		pr_warn("mount %s on %s: %s", type, dir, strerror(errno));
	else
		pr_info("mounted %s on %s", type, dir);
}

/* ---- lifecycle ---- */

static int apply_logging(struct ctw_agent *a, struct ctw_err *err)
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
	int rc;
	if ((rc = apply_logging(a, err)) < 0)
		return rc;
	/* every setting by its kind, a module's too (enabled or not) */
	const struct ctw_agent_setting_def *d;
	for (size_t i = 0; (d = ctw_agent_setting_def_at(i)); i++) {
		const char *v = ctw_agent_setting(a, d->key);
		if (v && (rc = check_value(d, v, err)) < 0)
			return rc;
	}
	/* What the HTTP server would refuse only after the probes loaded. */
	char ebuf[256];
	if (ctw_http_check_listen(ctw_agent_setting(a, "listen"), ebuf, sizeof(ebuf)) < 0)
		return ctw_err_setx(err, EINVAL, "%s", ebuf);
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
			bool ok = !strcmp(t, "resources");
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

static void arm_timer(int fd, uint64_t ns, bool periodic)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = ns / 1000000000ull;
	its.it_value.tv_nsec = ns % 1000000000ull;
	if (periodic)
		its.it_interval = its.it_value;
	timerfd_settime(fd, 0, &its, NULL);
}

static void start_modules(struct ctw_agent *a)
{
	for (size_t i = 0; i < nmodules; i++) {
		const struct ctw_agent_module *mod = modules[i];
		if (!ctw_agent_enabled(a, mod->name))
			continue;
		struct running *r = &a->mods[a->nmods++];
		r->mod = mod;
		int rc = mod->start ? mod->start(a, &r->state) : 0;
		if (rc < 0) {
			r->err = -rc;
			pr_warn("module %s: %s (skipped)", mod->name, strerror(-rc));
			continue;
		}
		r->up = true;
		pr_info("module %s started", mod->name);
		if (mod->events) { /* known in advance: there at 0 from the start */
			counter_get(&a->events, &a->nevents, mod->events, 0);
			counter_get(&a->lost, &a->nlost, mod->events, 0);
		}
	}
}

static void stop_modules(struct ctw_agent *a)
{
	for (size_t i = a->nmods; i-- > 0;) {
		if (a->mods[i].up && a->mods[i].mod->stop)
			a->mods[i].mod->stop(a->mods[i].state);
		a->mods[i].up = false;
	}
}

static void drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int ctw_agent_run(struct ctw_agent *a, const char *config_path, struct ctw_err *err)
{
	int rc;
	uint64_t interval_ns, timeout_ns, cache_ns, max_series, conn_limit, per_ip;
	char *auth = NULL;
	sigset_t mask;

	if ((rc = ctw_agent_check_settings(a, err)) < 0)
		return rc;
	ctw_agent_setting_ns(a, "discovery_interval", &interval_ns, err);
	ctw_agent_setting_ns(a, "http_timeout", &timeout_ns, err);
	ctw_agent_setting_ns(a, "scrape_cache", &cache_ns, err);
	ctw_agent_setting_u64(a, "max_series", &max_series, err);
	ctw_agent_setting_u64(a, "conn_limit", &conn_limit, err);
	ctw_agent_setting_u64(a, "per_ip_limit", &per_ip, err);
	/* The soft fd limit up to the hard one (as Go programs do): the
	 * registry keeps up to half of it open (each container's cgroup files,
	 * read with pread at every refresh), and 1 024 is 250 containers. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* The port first: one in use is the error, before any probe loads. */
	char ebuf[256];
	int listen_fd = ctw_http_bind(ctw_agent_setting(a, "listen"), ebuf, sizeof(ebuf));
	if (listen_fd < 0)
		return ctw_err_setx(err, -listen_fd, "%s", ebuf);
	const char *auth_file = ctw_agent_setting(a, "basic_auth_file");
	if (auth_file) {
		rc = ctw_read_file(auth_file, &auth, NULL);
		if (rc < 0) {
			close(listen_fd);
			return ctw_err_set(err, -rc, "basic auth file %s", auth_file);
		}
		auth[strcspn(auth, "\r\n")] = '\0';
	}
	a->start_time = ctw_realtime_ns() / 1e9;
	/* Memory: one malloc arena for both threads (the HTTP thread's own
	 * arena kept its peak), and big buffers (scrape text, gzip, zlib's
	 * state) in their own mappings, returned to the system when freed
	 * instead of raising the heap's high-water mark. */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	ctw_log_libbpf();
	int stats_fd = -1;
	bool bs = false;
	ctw_agent_setting_bool(a, "bpf_stats", &bs, NULL);
	if (bs) {
		/* Held for our lifetime only: the kernel turns stats off again
		 * when the last such fd closes. */
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			pr_warn("bpf_stats: %s", strerror(errno));
	}

	/* Signals arrive through the signalfd only; every thread (MHD's too,
	 * created below) inherits this mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	ensure_fs("/sys/fs/bpf", "bpf", BPF_FS_MAGIC);
	ensure_fs("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);

	uint64_t grace_ns = 0;
	if ((rc = ctw_agent_setting_ns(a, "exit_grace", &grace_ns, err)) < 0)
		goto out_unblock;
	const char *sd = ctw_agent_setting(a, "state_dir");
	ctw_strlcpy(a->state_dir, sd ? sd : ctw_state_dir(), sizeof(a->state_dir));
	struct ctw_registry_opts ro = {
		.cgroup_root = ctw_agent_setting(a, "cgroup_root"),
		.proc_root = ctw_agent_setting(a, "proc_root"),
		.state_dir = a->state_dir,
		.host_root = ctw_agent_setting(a, "host_root"),
		.grace_ns = grace_ns,
	};
	if (!ro.cgroup_root && !ctw_cgroup2_mount()) {
		rc = ctw_err_setx(err, ENOENT, "no cgroup v2 mount found (see --cgroup-root)");
		goto out_unblock;
	}
	a->reg = ctw_registry_new(&ro);
	ctw_registry_set_hooks(a->reg, on_added, on_removed, on_dir, a);

	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->debounce_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (a->epfd < 0 || a->sigfd < 0 || a->tfd < 0 || a->debounce_fd < 0) {
		rc = ctw_err_set(err, errno, "event loop setup");
		goto out_close;
	}
	if (a->inofd < 0)
		pr_warn("inotify: %s (discovery by timer only)", strerror(errno));
	int fds[] = {a->sigfd, a->tfd, a->debounce_fd, a->inofd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (fds[i] < 0)
			continue;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		ev.data.u64 = (uint64_t)fds[i] | (1ull << 63); /* tag: internal fd */
		epoll_ctl(a->epfd, EPOLL_CTL_ADD, fds[i], &ev);
	}

	pthread_mutex_lock(&a->lock);
	start_modules(a);
	for (size_t i = 0; i < a->nmods; i++) {
		if (!a->mods[i].up && !strcmp(a->mods[i].mod->name, "syscalls")) {
			rc = ctw_err_setx(err, a->mods[i].err, "module syscalls: %s",
					  strerror(a->mods[i].err));
			pthread_mutex_unlock(&a->lock);
			goto out_stop;
		}
	}
	/* the kernel's cgroup stream before the first scan: no cgroup made in
	 * between is missed (one seen twice is the same) */
	a->stream = ctw_cgroup_stream_new(a->reg);
	if (!a->stream)
		pr_warn("cgroup stream: %s (discovery by scan only)", strerror(errno));
	else if ((rc = ctw_agent_watch_fd(a, ctw_cgroup_stream_fd(a->stream), on_stream, a)) < 0)
		pr_warn("cgroup stream: watch: %s (discovery by scan only)", strerror(-rc));
	rc = 0;
	rescan(a);
	pthread_mutex_unlock(&a->lock);
	arm_timer(a->tfd, interval_ns, true);
	/* Loading BPF objects parses the kernel's BTF (megabytes, freed
	 * again): give that memory back rather than carry it as RSS. */
	malloc_trim(0);

	struct ctw_http_opts ho = {
		.listen = ctw_agent_setting(a, "listen"),
		.listen_fd = listen_fd,
		.scrape = scrape,
		.ready = ready,
		.ctx = a,
		.max_series = max_series,
		.conn_limit = conn_limit,
		.per_ip_limit = per_ip,
		.timeout_s = (timeout_ns + 999999999ull) / 1000000000ull,
		.tls_cert = ctw_agent_setting(a, "tls_cert"),
		.tls_key = ctw_agent_setting(a, "tls_key"),
		.basic_auth = auth,
		.cache_ms = cache_ns / 1000000ull,
	};
	a->http = ctw_http_start(&ho, ebuf, sizeof(ebuf));
	listen_fd = -1; /* the server's now, also when it failed */
	if (!a->http) {
		rc = ctw_err_setx(err, EADDRINUSE, "%s", ebuf);
		goto out_stop;
	}
	pr_info("serving /metrics on %s (port %d)", ho.listen, ctw_http_port(a->http));

	struct epoll_event evs[16];
	while (!a->stopping) {
		int n = epoll_wait(a->epfd, evs, ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ctw_err_set(err, errno, "epoll_wait");
			goto out_stop;
		}
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < n && !a->stopping; i++) {
			if (!(evs[i].data.u64 & (1ull << 63))) {
				struct watch *w = evs[i].data.ptr;
				w->cb(w->ctx);
				if (w->invalidates)
					ctw_http_invalidate(a->http);
				continue;
			}
			int fd = (int)(evs[i].data.u64 & 0xffffffff);
			if (fd == a->sigfd) {
				struct signalfd_siginfo si;
				while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						pr_info("SIGHUP: reloading");
						if (config_path) {
							struct ctw_err e2 = {0};
							ctw_agent_clear_settings(a, CTW_SET_FILE);
							if (ctw_agent_load_config(a, config_path,
										  &e2) < 0 ||
							    apply_logging(a, &e2) < 0)
								pr_err("reload: %s", e2.msg);
						}
						for (size_t k = 0; k < a->nmods; k++)
							if (a->mods[k].up && a->mods[k].mod->reload)
								a->mods[k].mod->reload(
									a->mods[k].state);
						rescan(a);
						ctw_http_invalidate(a->http);
					} else {
						pr_info("signal %d: stopping", si.ssi_signo);
						a->stopping = true;
					}
				}
			} else if (fd == a->tfd) {
				drain(fd);
				rescan(a);
				/* Scrape buffers freed since the last tick go
				 * back to the system (all malloc arenas). */
				malloc_trim(0);
			} else if (fd == a->inofd) {
				drain(fd);
				/* Changes become one rescan 250 ms after the first of
				 * them: at most four scans a second however busy the
				 * host's cgroup tree is.  (A scan of a host with 100
				 * containers costs ~3-5 ms; on the shared test machine
				 * other work's cgroups caused 1.5-3 scans a second.) */
				if (!a->rescan_pending) {
					arm_timer(a->debounce_fd, 250 * 1000000ull, false);
					a->rescan_pending = true;
				}
			} else if (fd == a->debounce_fd) {
				drain(fd);
				a->rescan_pending = false;
				rescan(a);
			}
		}
		pthread_mutex_unlock(&a->lock);
	}
	rc = 0;

out_stop:
	/* Stop serving first, then detach. */
	ctw_http_stop(a->http);
	a->http = NULL;
	pthread_mutex_lock(&a->lock);
	stop_modules(a);
	if (a->stream)
		ctw_agent_unwatch_fd(a, ctw_cgroup_stream_fd(a->stream));
	ctw_cgroup_stream_free(a->stream);
	a->stream = NULL;
	pthread_mutex_unlock(&a->lock);
out_close:
	for (int *fd = &a->epfd; fd <= &a->inofd; fd++) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
out_unblock:
	if (listen_fd >= 0)
		close(listen_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	free(auth);
	pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
	return rc;
}
