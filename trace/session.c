// SPDX-License-Identifier: Apache-2.0
/*
 * A tracing session: load bpf/trace.bpf.c configured from the options, put
 * cgroups in its traced map, and turn the ring buffer into strace lines,
 * JSON lines or a -c summary.
 *
 * Throughput: records are formatted straight out of the ring buffer (no copy,
 * no allocation) into one large output buffer written with write(2); the
 * kernel side only wakes the reader once a backlog has built up, and the
 * reader otherwise polls on a short timeout, so a busy container costs one
 * wakeup per batch instead of one per syscall.  The ring is read with our
 * own small consumer rather than libbpf's ring_buffer__poll(), which
 * publishes the consumer position after every record: here it is published
 * once per batch, so the producing CPU does not pull that cache line back
 * on every syscall.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "trace.skel.h"
#include "../containers/containers.h"

#define DEFAULT_RINGBUF (32u << 20)
#define POLL_MS 20

/* Publish the consumer position at least this often within a batch, so a
 * long batch keeps freeing space for the producers. */
#define PUBLISH_BYTES (1u << 20)

/* A BPF ring buffer consumer (the kernel's mmap layout: a consumer page we
 * may write, then the producer page and the data area mapped twice). */
struct ring {
	int map_fd, epfd;
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	uint8_t *data;
	size_t size, page;
};

struct name_ent {
	uint64_t id;
	char name[128];
};

struct ctw_trace {
	struct ctw_trace_opts o;
	struct trace_bpf *skel;
	struct ring rb;
	struct ctw_outbuf out;
	struct ctw_ffout *ff;  /* -ff: per-thread files instead of out */
	struct ctw_outbuf rec; /* --record: the raw records instead of lines */
	struct ctw_trace_fmt fmt;

	struct name_ent *names;
	size_t nnames, cap;
	uint64_t last_id;
	char last_name[128];

	uint64_t events;
	uint64_t start_ns;
	char default_name[128]; /* for ids added after the reader forked */
	pid_t reader;		/* the reader process, 0 when reading here */
	int reader_pipe;	/* closing it tells the reader to finish */
	bool finished;
};

static void lookup_name(struct ctw_trace *t, uint64_t id)
{
	if (t->default_name[0])
		ctw_strlcpy(t->last_name, t->default_name, sizeof(t->last_name));
	else
		snprintf(t->last_name, sizeof(t->last_name), "cgroup:%llu", (unsigned long long)id);
	for (size_t i = 0; i < t->nnames; i++) {
		if (t->names[i].id == id) {
			ctw_strlcpy(t->last_name, t->names[i].name, sizeof(t->last_name));
			break;
		}
	}
	t->last_id = id;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct ctw_trace *t = ctx;
	const struct ctw_trace_event *ev = data;

	if (len < sizeof(*ev) || sizeof(*ev) + ev->payload_len > len)
		return 0;
	if (ev->cgroup_id != t->last_id)
		lookup_name(t, ev->cgroup_id);
	t->events++;
	if (t->rec.buf) {
		ctw_trace_record(&t->rec, ev, sizeof(*ev) + ev->payload_len);
		return 0;
	}
	if (t->ff) {
		ctw_trace_format_event(ctw_ffout_get(t->ff, ev->tid), &t->fmt, ev, ev + 1,
				       t->last_name);
		if (ev->nr == TRACE_NR_EXIT)
			ctw_ffout_done(t->ff, ev->tid);
		return 0;
	}
	ctw_trace_format_event(&t->out, &t->fmt, ev, ev + 1, t->last_name);
	return 0;
}

static int ring_open(struct ring *r, int map_fd, size_t size)
{
	/* Edge-triggered: wake only on the kernel's wakeups (a backlog past
	 * wakeup_bytes), not whenever a record is there, so the reader
	 * works in batches well behind the producer instead of chasing it
	 * record by record on the same cache lines. */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	void *p;

	r->map_fd = map_fd;
	r->size = size;
	r->page = sysconf(_SC_PAGESIZE);
	r->epfd = -1;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->consumer_pos = p;
	p = mmap(NULL, r->page + 2 * size, PROT_READ, MAP_SHARED, map_fd, r->page);
	if (p == MAP_FAILED)
		return -errno;
	r->producer_pos = p;
	r->data = (uint8_t *)p + r->page;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		return -errno;
	return 0;
}

static void ring_close(struct ring *r)
{
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page);
	if (r->producer_pos)
		munmap(r->producer_pos, r->page + 2 * r->size);
	if (r->epfd >= 0)
		close(r->epfd);
	memset(r, 0, sizeof(*r));
	r->epfd = -1;
}

/* Hand every complete record to on_event; returns how many. */
static long ring_consume(struct ctw_trace *t)
{
	struct ring *r = &t->rb;
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long published = cons, prod;
	size_t mask = r->size - 1;
	long n = 0;

	for (;;) {
		prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			uint32_t *hdr = (uint32_t *)(r->data + (cons & mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out; /* still being written */
			cons += ((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				on_event(t, (uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, len);
				n++;
			}
			if (cons - published >= PUBLISH_BYTES) {
				__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
				published = cons;
			}
		}
	}
out:
	if (cons != published)
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return n;
}

static int ring_poll(struct ctw_trace *t, int timeout_ms)
{
	struct epoll_event ev;

	/* records may be waiting without a wakeup (BPF_RB_NO_WAKEUP) */
	if (ring_consume(t) > 0)
		return 0;
	if (epoll_wait(t->rb.epfd, &ev, 1, timeout_ms) < 0)
		return -errno;
	ring_consume(t);
	return 0;
}

static int fill_specs(struct ctw_trace *t, const bool *sel)
{
	int fd = bpf_map__fd(t->skel->maps.trace_spec);

	for (__u32 nr = 0; nr < TRACE_NR_MAX; nr++) {
		struct ctw_trace_spec spec;

		ctw_trace_syscall_spec(nr, &spec);
		if (t->o.decode_fds)
			ctw_trace_syscall_spec_fds(nr, &spec);
		if (sel[nr])
			spec.flags |= TRACE_SPEC_SELECTED;
		if (bpf_map_update_elem(fd, &nr, &spec, BPF_ANY))
			return -errno;
	}
	return 0;
}

struct ctw_trace *ctw_trace_new(const struct ctw_trace_opts *opts, struct ctw_err *err)
{
	struct ctw_trace *t = xcalloc(1, sizeof(*t));
	bool sel[TRACE_NR_MAX];

	t->rb.epfd = -1;
	size_t rb_bytes;
	int rc;

	t->o = *opts;
	if (!t->o.strsize && !t->o.strsize_set)
		t->o.strsize = 32;
	t->reader_pipe = -1;
	t->last_id = 0;
	ctw_strlcpy(t->last_name, "?", sizeof(t->last_name));

	if (ctw_trace_parse_filter(opts->filter, sel, err) < 0)
		goto out_free;

	ctw_log_libbpf();
	t->skel = trace_bpf__open();
	if (!t->skel) {
		ctw_err_set(err, errno, "open BPF object trace");
		goto out_free;
	}
	rb_bytes = opts->ringbuf_bytes ? opts->ringbuf_bytes : DEFAULT_RINGBUF;
	bpf_map__set_max_entries(t->skel->maps.events, rb_bytes);
	t->skel->rodata->want_events = !opts->summary;
	t->skel->rodata->want_stats = opts->summary || opts->summary_too || opts->seccomp_profile;
	t->skel->rodata->filter_pids = opts->npids > 0;
	t->skel->rodata->follow_exec = opts->follow_exec;
	/* a seccomp profile must allow what the runtime does under the
	 * filter before the command's execve too */
	t->skel->rodata->stats_all = opts->seccomp_profile != NULL;
	t->skel->rodata->status_mask = opts->status ? opts->status : CTW_STATUS_ALL;
	t->skel->rodata->sig_mask = opts->signals;
	t->skel->rodata->quiet_exit = opts->quiet_exit;
	t->skel->rodata->want_fds = opts->decode_fds > 2 ? 2 : opts->decode_fds;
	t->skel->rodata->buf_max = !t->o.strsize		  ? 1
				   : t->o.strsize < TRACE_BUF_MAX ? t->o.strsize
								  : TRACE_BUF_MAX;
	/* Wake the reader only once an eighth of the ring is filled; below
	 * that it finds the records on its next POLL_MS tick. */
	t->skel->rodata->wakeup_bytes = rb_bytes / 8;
	t->skel->rodata->nr_execve = ctw_trace_syscall_nr("execve");
	t->skel->rodata->nr_execveat = ctw_trace_syscall_nr("execveat");
	t->skel->rodata->nr_prctl = ctw_trace_syscall_nr("prctl");

	/* only the programs this session needs: signals, exits, and the
	 * fork hook for following the command are lines of the stream */
	bpf_program__set_autoload(t->skel->progs.trace_fork, opts->follow_exec);
	bpf_program__set_autoload(t->skel->progs.trace_exec, !opts->summary);
	/* (with quiet=exit too: "+++ killed by" lines stay, and signals
	 * pending at exit are shown then) */
	bpf_program__set_autoload(t->skel->progs.trace_task_exit, !opts->summary);
	bpf_program__set_autoload(t->skel->progs.trace_sig_deliver,
				  !opts->summary && opts->signals);
	bpf_program__set_autoload(t->skel->progs.trace_sig_generate,
				  !opts->summary && opts->signals);
	rc = trace_bpf__load(t->skel);
	if (rc) {
		ctw_err_set(err, -rc, "load BPF object trace");
		goto out_free;
	}
	rc = fill_specs(t, sel);
	if (rc) {
		ctw_err_set(err, -rc, "fill trace_spec map");
		goto out_free;
	}
	for (size_t i = 0; i < opts->npids; i++) {
		__u32 pid = opts->pids[i];
		__u8 one = 1;

		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.trace_pids), &pid, &one,
					BPF_ANY)) {
			ctw_err_set(err, errno, "add pid %u to trace_pids", pid);
			goto out_free;
		}
	}
	rc = ring_open(&t->rb, bpf_map__fd(t->skel->maps.events), rb_bytes);
	if (rc) {
		ctw_err_set(err, -rc, "map the ring buffer");
		goto out_free;
	}
	rc = trace_bpf__attach(t->skel);
	if (rc) {
		ctw_err_set(err, -rc, "attach tp_btf/sys_enter and sys_exit");
		goto out_free;
	}
	ctw_outbuf_init(&t->out, opts->out_fd, 1 << 20);
	if (opts->ff_prefix)
		t->ff = ctw_ffout_new(opts->ff_prefix);
	if (opts->record_path) {
		int fd = open(opts->record_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0) {
			ctw_err_set(err, errno, "open `%s`", opts->record_path);
			goto out_free;
		}
		ctw_outbuf_init(&t->rec, fd, 1 << 20);
		rc = ctw_trace_record_start(&t->rec,
					    (int64_t)ctw_realtime_ns() - (int64_t)ctw_now_ns());
		if (rc < 0) {
			ctw_err_set(err, -rc, "write `%s`", opts->record_path);
			goto out_free;
		}
	}
	t->fmt.strsize = t->o.strsize;
	t->fmt.durations = opts->durations;
	t->fmt.timestamps = opts->timestamps;
	t->fmt.json = opts->json;
	t->fmt.prefix = opts->ff_prefix ? CTW_PFX_NONE : opts->prefix;
	t->fmt.show_container = opts->show_container;
	t->fmt.decode_fds = opts->decode_fds;
	t->fmt.realtime_off = (int64_t)ctw_realtime_ns() - (int64_t)ctw_now_ns();
	t->start_ns = ctw_now_ns();
	return t;

out_free:
	ctw_trace_free(t);
	return NULL;
}

/* Put a cgroup in the program's traced table (see bpf/trace.h); one that
 * finds no room is looked up in the traced hash instead. */
static void table_add(struct ctw_trace *t, uint64_t cgroup_id)
{
	struct trace_bpf__bss *bss = t->skel->bss;
	uint32_t h = TRACE_TAB_HASH(cgroup_id);

	for (uint32_t i = 0; i < TRACE_TAB_PROBES; i++) {
		__u64 *e = &bss->traced_tab[(h + i) & (TRACE_TAB_SIZE - 1)];
		uint64_t v = __atomic_load_n(e, __ATOMIC_RELAXED);

		if (v == cgroup_id)
			return;
		/* compare-and-swap: the program takes entries too (cgroups
		 * made inside traced ones) */
		if (!v && __atomic_compare_exchange_n(e, &v, cgroup_id, false, __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED))
			return;
		if (v == cgroup_id)
			return;
	}
	__atomic_store_n(&bss->traced_use_hash, 1, __ATOMIC_RELEASE);
}

int ctw_trace_add_cgroup(struct ctw_trace *t, uint64_t cgroup_id, const char *name)
{
	struct ctw_trace_cgroup zero = {0};

	if (t->nnames == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->names = xrealloc(t->names, t->cap * sizeof(*t->names));
	}
	t->names[t->nnames].id = cgroup_id;
	ctw_strlcpy(t->names[t->nnames].name, name ? name : "?", sizeof(t->names[0].name));
	t->nnames++;
	/* a name for an id already seen as unknown */
	if (t->last_id == cgroup_id)
		t->last_id = 0;
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.traced), &cgroup_id, &zero,
				BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	/* after the hash: a loss found through the table counts there */
	if (cgroup_id)
		table_add(t, cgroup_id);
	return 0;
}

struct add_tree {
	struct ctw_trace *t;
	const char *name;
};

static int add_one(void *ctx, uint64_t cgroup_id, const char *path, int depth)
{
	struct add_tree *a = ctx;
	return ctw_trace_add_cgroup(a->t, cgroup_id, a->name);
}

int ctw_trace_add_cgroup_tree(struct ctw_trace *t, const char *path, const char *name)
{
	int rc = ctw_cgroup_walk(path, add_one, &(struct add_tree){.t = t, .name = name});
	return rc;
}

int ctw_trace_poll(struct ctw_trace *t, int timeout_ms)
{
	uint64_t before = t->events;
	int rc = ring_poll(t, timeout_ms);

	if (t->events != before) {
		ctw_outbuf_flush(&t->out);
		if (t->ff)
			ctw_ffout_flush(t->ff);
		if (t->rec.buf)
			ctw_outbuf_flush(&t->rec);
	}
	if (rc < 0)
		return rc;
	return (int)(t->events - before);
}

void ctw_trace_set_default_name(struct ctw_trace *t, const char *name)
{
	ctw_strlcpy(t->default_name, name ? name : "", sizeof(t->default_name));
}

static int finish_here(struct ctw_trace *t, struct ctw_err *err);

/* The reader child: consume until the parent closes the pipe, then drain
 * and finish (summary, profile, losses) and exit. */
static void reader_main(struct ctw_trace *t, int pipe_fd)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct ctw_err err = {0};
	char c;

	/* Ctrl-C is for the container (the runtime forwards it); this
	 * process ends when its parent says so, or goes away. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_DFL);
	epoll_ctl(t->rb.epfd, EPOLL_CTL_ADD, pipe_fd, &ev);
	for (;;) {
		int rc = ctw_trace_poll(t, POLL_MS);

		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "ctrwatch: trace: ring buffer: %s\n", strerror(-rc));
			break;
		}
		if (read(pipe_fd, &c, 1) == 0)
			break; /* EOF: the parent is done */
	}
	if (finish_here(t, &err) < 0) {
		fprintf(stderr, "ctrwatch: trace: %s\n", err.msg);
		_exit(1);
	}
	_exit(0);
}

int ctw_trace_start_reader(struct ctw_trace *t)
{
	int p[2];
	pid_t pid;

	/* A process, not a thread: the caller goes on to clone containers,
	 * which a multi-threaded process cannot do safely (glibc's setxid
	 * broadcast in the child waits for threads that are not there). */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	ctw_outbuf_flush(&t->out);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		reader_main(t, p[0]);
	}
	close(p[0]);
	t->reader = pid;
	t->reader_pipe = p[1];
	return 0;
}

/* Tell the reader to finish and wait for it.  0 when it finished fine. */
static int stop_reader(struct ctw_trace *t)
{
	int status = 0;
	pid_t r;

	close(t->reader_pipe);
	t->reader_pipe = -1;
	do {
		r = waitpid(t->reader, &status, 0);
	} while (r < 0 && errno == EINTR);
	t->reader = 0;
	/* ECHILD: someone else (a runtime's reaper) collected it */
	if (r < 0)
		return errno == ECHILD ? 0 : -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

uint64_t ctw_trace_events(const struct ctw_trace *t)
{
	return t->events;
}

/* Sum the kernel's per-cgroup loss counters; with report, name each. */
static uint64_t count_lost(struct ctw_trace *t, bool report)
{
	int fd = bpf_map__fd(t->skel->maps.traced);
	uint64_t key, next, total = 0;
	uint64_t *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct ctw_trace_cgroup v;

		if (bpf_map_lookup_elem(fd, &next, &v) == 0 && v.lost) {
			total += v.lost;
			if (report) {
				lookup_name(t, next);
				pr_warn("trace: %s: lost %llu events (ring buffer full)",
					t->last_name, (unsigned long long)v.lost);
			}
		}
		key = next;
		prev = &key;
	}
	return total;
}

uint64_t ctw_trace_lost(struct ctw_trace *t)
{
	return count_lost(t, false);
}

static int read_stats(struct ctw_trace *t, struct ctw_trace_stat *stats)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(t->skel->maps.trace_stats);
	struct ctw_trace_stat *per = NULL;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	per = xcalloc(ncpu, sizeof(*per));
	memset(stats, 0, TRACE_NR_MAX * sizeof(*stats));
	for (__u32 nr = 0; nr < TRACE_NR_MAX; nr++) {
		if (bpf_map_lookup_elem(fd, &nr, per))
			continue;
		for (int c = 0; c < ncpu; c++) {
			stats[nr].calls += per[c].calls;
			stats[nr].errors += per[c].errors;
			stats[nr].ns += per[c].ns;
		}
	}
	free(per);
	return 0;
}

int ctw_trace_finish(struct ctw_trace *t, struct ctw_err *err)
{
	if (t->finished)
		return 0;
	t->finished = true;
	if (t->reader > 0) {
		/* the reader reports its own errors */
		int rc = stop_reader(t);

		return rc < 0 ? ctw_err_setx(err, -rc, "the trace reader failed") : 0;
	}
	return finish_here(t, err);
}

static int finish_here(struct ctw_trace *t, struct ctw_err *err)
{
	struct ctw_trace_stat stats[TRACE_NR_MAX];
	uint64_t lost, elapsed;
	int rc = 0;

	/* what was emitted up to now is in the ring: drain it */
	while (ring_consume(t) > 0)
		;
	elapsed = ctw_now_ns() - t->start_ns;

	if (t->skel->rodata->want_stats && read_stats(t, stats) == 0) {
		if (t->o.summary || t->o.summary_too)
			ctw_trace_print_summary(&t->out, stats);
		if (t->o.seccomp_profile) {
			bool used[TRACE_NR_MAX];

			for (int nr = 0; nr < TRACE_NR_MAX; nr++)
				used[nr] = stats[nr].calls > 0;
			rc = ctw_trace_write_seccomp_profile(t->o.seccomp_profile, used, err);
		}
	}
	ctw_outbuf_flush(&t->out);
	if (t->out.error && !rc)
		rc = ctw_err_set(err, -t->out.error, "write trace output");
	if (t->rec.buf && ctw_outbuf_flush(&t->rec) < 0 && !rc)
		rc = ctw_err_set(err, -t->rec.error, "write `%s`", t->o.record_path);
	if (t->ff && ctw_ffout_flush(t->ff) < 0 && !rc)
		rc = ctw_err_set(err, -ctw_ffout_flush(t->ff), "write %s.PID files",
				 t->o.ff_prefix);

	lost = count_lost(t, true);
	if (t->o.report_stats)
		fprintf(stderr,
			"ctrwatch: trace: %llu events in %.3f s (%.0f events/s), %llu lost\n",
			(unsigned long long)t->events, elapsed / 1e9,
			elapsed ? t->events * 1e9 / elapsed : 0.0, (unsigned long long)lost);
	return rc;
}

void ctw_trace_free(struct ctw_trace *t)
{
	if (!t)
		return;
	if (t->reader > 0)
		stop_reader(t);
	ring_close(&t->rb);
	trace_bpf__destroy(t->skel);
	ctw_outbuf_fini(&t->out);
	ctw_ffout_free(t->ff);
	if (t->rec.buf) {
		ctw_outbuf_fini(&t->rec);
		close(t->rec.fd);
	}
	free(t->names);
	free(t);
}
