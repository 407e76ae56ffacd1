// SPDX-License-Identifier: Apache-2.0
/*
 * The agent core: the module table, one epoll loop, discovery, the scrape's
 * order, start and stop.  Settings are settings.c's, the agent's own series
 * self_metrics.c's (agent_int.h lists the files).
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
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_int.h"

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

struct ctw_agent *ctw_agent_new(void)
{
	struct ctw_agent *a = xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->epfd = a->sigfd = a->tfd = a->debounce_fd = a->inofd = -1;
	agent_settings_init(a);
	return a;
}

void ctw_agent_free(struct ctw_agent *a)
{
	if (!a)
		return;
	agent_settings_free(a);
	while (a->watches) {
		struct watch *w = a->watches;
		a->watches = w->next;
		free(w);
	}
	free(a->events);
	free(a->lost);
	ctw_registry_free(a->reg);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

struct ctw_registry *ctw_agent_registry(struct ctw_agent *a)
{
	return a->reg;
}

uint64_t ctw_agent_last_repeat_ns(struct ctw_agent *a)
{
	return ctw_http_last_repeat_ns(a->http);
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

/* At off: name, pod, namespace, short id, each NUL-terminated. */
size_t ctw_agent_label_pack_add(struct ctw_agent_label_pack *p, const struct ctw_container *c)
{
	char cid[CTW_SHORT_ID_SIZE];
	const char *v[4] = {c->name, c->pod, c->namespace_, ctw_container_short_id(c->id, cid)};
	size_t n[4], need = 0, off = p->len;
	for (int i = 0; i < 4; i++)
		need += (n[i] = strlen(v[i])) + 1;
	if (p->len + need > p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16384;
		if (p->cap < p->len + need)
			p->cap = p->len + need;
		p->buf = xrealloc(p->buf, p->cap);
	}
	for (int i = 0; i < 4; i++) {
		memcpy(p->buf + p->len, v[i], n[i] + 1);
		p->len += n[i] + 1;
	}
	return off;
}

size_t ctw_agent_label_pack_get(const struct ctw_agent_label_pack *p, size_t off,
				const char **labels)
{
	const char *name = p->buf + off;
	const char *pod = name + strlen(name) + 1;
	const char *ns = pod + strlen(pod) + 1;
	return ctw_agent_labels(labels, name, pod, ns, ns + strlen(ns) + 1);
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
			agent_counter(&a->lost, &a->nlost, src, 0)->n += n;
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
	uint64_t t = ctw_now_ns();
	int n = ctw_registry_scan(a->reg);
	a->rescans++;
	if (n < 0)
		pr_warn("discovery: scan %s: %s", ctw_registry_cgroup_root(a->reg), strerror(-n));
	else
		pr_debug("discovery: scan %llu: %d containers, %.1f ms",
			 (unsigned long long)a->rescans, n, (ctw_now_ns() - t) / 1e6);
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
	agent_counter(&a->lost, &a->nlost, "cgroups", 0)->n += n;
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
	/* The agent's own series always fit: the cap is for what containers
	 * bring, and the count of what it dropped must be seen. */
	ctw_metrics_set_max_series(m, 0);
	agent_collect_self(a, m);
	agent_collect_series_counts(a, m);
	agent_observe_scrape(a, (ctw_now_ns() - t0) / 1e9);
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

static void arm_timer(int fd, uint64_t ns, bool periodic)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = ns / 1000000000ull;
	its.it_value.tv_nsec = ns % 1000000000ull;
	if (periodic)
		its.it_interval = its.it_value;
	timerfd_settime(fd, 0, &its, NULL);
}

/* Start every enabled module.  One that fails is logged and skipped,
 * unless it is required: then the rest are not started and it is returned
 * (its err says what failed); NULL when every required one is up. */
static const struct running *start_modules(struct ctw_agent *a)
{
	for (size_t i = 0; i < nmodules; i++) {
		const struct ctw_agent_module *mod = modules[i];
		if (!ctw_agent_enabled(a, mod->name))
			continue;
		struct running *r = &a->mods[a->nmods++];
		r->mod = mod;
		int rc = mod->start ? mod->start(a, &r->state, &r->err) : 0;
		if (rc < 0) {
			if (!r->err.msg[0]) /* a start that said nothing more */
				ctw_err_set(&r->err, -rc, "start");
			if (mod->required)
				return r;
			pr_warn("module %s: %s (skipped)", mod->name, r->err.msg);
			continue;
		}
		r->up = true;
		pr_info("module %s started", mod->name);
		if (mod->events) { /* known in advance: there at 0 from the start */
			agent_counter(&a->events, &a->nevents, mod->events, 0);
			agent_counter(&a->lost, &a->nlost, mod->events, 0);
		}
	}
	return NULL;
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

/* SIGHUP: the config file again (log level and format; the rest needs a
 * restart), every module's reload(), a rescan, a fresh scrape. */
static void reload(struct ctw_agent *a, const char *config_path)
{
	pr_info("SIGHUP: reloading");
	if (config_path) {
		struct ctw_err e2 = {0};
		ctw_agent_clear_settings(a, CTW_SET_FILE);
		if (ctw_agent_load_config(a, config_path, &e2) < 0 ||
		    agent_apply_logging(a, &e2) < 0)
			pr_err("reload: %s", e2.msg);
	}
	for (size_t k = 0; k < a->nmods; k++)
		if (a->mods[k].up && a->mods[k].mod->reload)
			a->mods[k].mod->reload(a->mods[k].state);
	rescan(a);
	ctw_http_invalidate(a->http);
}

/* One of the loop's own fds is readable (lock held): signals, the rescan
 * timer, inotify, the debounce timer. */
static void on_own_fd(struct ctw_agent *a, int fd, const char *config_path)
{
	if (fd == a->sigfd) {
		struct signalfd_siginfo si;
		while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				reload(a, config_path);
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
	int listen_fd = ctw_http_bind(ctw_agent_setting(a, "listen"), err);
	if (listen_fd < 0)
		return listen_fd;
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
	const struct running *failed = start_modules(a);
	if (failed) {
		rc = ctw_err_setx(err, failed->err.code ? failed->err.code : EIO,
				  "module %s (required): %s", failed->mod->name, failed->err.msg);
		pthread_mutex_unlock(&a->lock);
		goto out_stop;
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
	a->http = ctw_http_start(&ho, err);
	listen_fd = -1; /* the server's now, also when it failed */
	if (!a->http) {
		rc = -(err && err->code ? err->code : EIO);
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
			on_own_fd(a, (int)(evs[i].data.u64 & 0xffffffff), config_path);
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
