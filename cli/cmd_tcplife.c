// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch tcplife: TCP session lifespans per container, one line per
 * connection when it closes (libbpf-tools tcplife with the container first).
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "options.h"
#include "../agent/agent.h"
#include "../lib/lib.h"
#include "../tcp/tcp.h"

#define CGROUP_ROOT_ID 1 /* the v2 root cgroup's id: the host */
/* A container that has gone keeps its name this long: its last rows may
 * still be in the ring when its cgroup is removed. */
#define GONE_GRACE_NS (60 * 1000000000ull)

/* What the options set: the probe's filters, the columns and the rest. */
struct tcplife_args {
	struct ctw_tcp_probe_opts po;
	struct ctw_tcp_columns cols;
	struct ctw_select sel;
	bool json, containers_only;
	uint64_t duration_ns;
};

static int parse_ports(const char *arg, __u16 *ports, __u32 *n, char *why, size_t whylen)
{
	if (!ctw_tcp_parse_ports(arg, ports, n))
		return 0;
	snprintf(why, whylen, "want up to %d ports 1-65535, comma-separated", TCPLIFE_MAX_PORTS);
	return -1;
}

static int parse_lports(const char *arg, void *field, char *why, size_t whylen)
{
	struct ctw_tcp_probe_opts *po = field;
	return parse_ports(arg, po->lports, &po->n_lports, why, whylen);
}

static int parse_dports(const char *arg, void *field, char *why, size_t whylen)
{
	struct ctw_tcp_probe_opts *po = field;
	return parse_ports(arg, po->dports, &po->n_dports, why, whylen);
}

#define ARG(f) offsetof(struct tcplife_args, f)
static const struct ctw_opt tcplife_opts[] = {
	{.name = "wide",
	 .short_name = 'w',
	 .kind = CTW_OPT_FLAG,
	 .help = "wide address columns (fits IPv6 addresses)",
	 .off = ARG(cols.wide)},
	{.name = "timestamp",
	 .short_name = 't',
	 .kind = CTW_OPT_FLAG,
	 .help = "TIME(s) column: seconds since the first row",
	 .off = ARG(cols.elapsed)},
	{.name = "time",
	 .short_name = 'T',
	 .kind = CTW_OPT_FLAG,
	 .help = "TIME column: wall clock HH:MM:SS",
	 .off = ARG(cols.clock)},
	{.name = "localport",
	 .short_name = 'L',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PORTS",
	 .help = "only these local ports (comma-separated, <= 16)",
	 .off = ARG(po),
	 .parse = parse_lports},
	{.name = "remoteport",
	 .short_name = 'D',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PORTS",
	 .help = "only these remote ports (comma-separated, <= 16)",
	 .off = ARG(po),
	 .parse = parse_dports},
	{.name = "ipv4",
	 .short_name = '4',
	 .kind = CTW_OPT_SET,
	 .value = AF_INET,
	 .help = "IPv4 only (IPv4-mapped IPv6 counts as IPv4)",
	 .off = ARG(po.family)},
	{.name = "ipv6",
	 .short_name = '6',
	 .kind = CTW_OPT_SET,
	 .value = AF_INET6,
	 .help = "IPv6 only",
	 .off = ARG(po.family)},
	{.name = "containers-only",
	 .kind = CTW_OPT_FLAG,
	 .help = "leave out host processes",
	 .off = ARG(containers_only)},
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "one JSON object per line: time, container,\n"
		 "cgroup_id, pid, comm, family, saddr, sport, daddr,\n"
		 "dport, tx_bytes, rx_bytes, duration_ms,\n"
		 "established, direction (active|passive), close\n"
		 "(fin, rst-in, rst-out, refused, timeout, other),\n"
		 "error (errno at close, 0 if none)",
	 .off = ARG(json)},
	CTW_OPT_ENTRY_DURATION(ARG(duration_ns)),
	CTW_OPT_ENTRY_NAMESPACE('n', ARG(sel.namespace_)),
	CTW_OPT_ENTRY_POD(ARG(sel.pod)),
	{0},
};
#undef ARG

static void tcplife_usage(FILE *out)
{
	fputs("Usage: ctrwatch tcplife [OPTIONS] [CONTAINER...]\n"
	      "\n"
	      "Trace TCP connections (IPv4 and IPv6) and print one line per connection\n"
	      "when it closes: the container and process that own the socket, addresses\n"
	      "and ports, bytes sent (acknowledged by the peer) and received, lifetime.\n"
	      "\n"
	      "The container is the socket's own cgroup, so the accepting side of a\n"
	      "connection is attributed to the server's container.  The process of an\n"
	      "outgoing connection is the one that called connect(); of an accepted one,\n"
	      "the one that closed it, else the one that called listen().  Host processes\n"
	      "show \"-\" as the container.\n"
	      "\n"
	      "CONTAINER restricts tracing to those containers and their child cgroups:\n"
	      "a name or id (prefix) of any engine, NAMESPACE/POD/CONTAINER for a pod's, a\n"
	      "cgroup path or a PID; a name several containers share is an error that\n"
	      "lists them (see `ctrwatch trace --help`).\n"
	      "\n",
	      out);
	ctw_opts_print(out, tcplife_opts);
	fputs("\n"
	      "TX_KB and RX_KB are the kernel's tcp_sock bytes_acked and bytes_received in\n"
	      "KiB, as libbpf-tools tcplife reports them.  They count sequence space: TX is\n"
	      "the payload acknowledged plus up to 2 (SYN, FIN), RX the payload plus 1 for\n"
	      "a received FIN.  MS is the lifetime from SYN to close.  Connections open\n"
	      "before tracing started are not shown.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch tcplife                       # every TCP connection on the host\n"
	      "  ctrwatch tcplife web db                # only the containers web and db\n"
	      "  ctrwatch tcplife --containers-only -L 80,443\n"
	      "  ctrwatch tcplife -6 -w -T\n"
	      "  ctrwatch tcplife --json -d 10 | jq 'select(.established | not)'\n",
	      out);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/*
 * Naming: the kernel's cgroup stream (containers/stream.c) tells the
 * registry of every cgroup as it is made, before its first connection, and
 * keeps a container's name after it has gone, so rows of short-lived and
 * exited containers are named.  It is read before each batch of rows.
 *
 * Without it (or when its ring lost records), a cgroup the registry does
 * not know may be a container that started after our last scan, whose state can even land just after its
 * first connection closed: such rows wait (up to HOLD_NS, rescanning at
 * most every RESCAN_NS) for the registry to learn the name, and are printed
 * as the host's after that.  Cgroups that stayed unknown are looked up again
 * only every RECHECK_NS, so that host services do not make us walk the
 * cgroup tree over and over.
 */
#define UNKNOWN_SLOTS 256
#define HOLD_NS 1000000000ull
#define RESCAN_NS 100000000ull
#define RECHECK_NS 5000000000ull
#define HELD_MAX 4096

struct unknown_cg {
	uint64_t cgroup_id;
	uint64_t first_ns;     /* first row seen from it */
	uint64_t next_look_ns; /* no rescan for it before this */
};

struct tcplife_ctx {
	struct ctw_registry *reg;
	struct ctw_cgroup_stream *stream; /* NULL: names from scans only */
	uint64_t stream_lost;
	struct unknown_cg unknown[UNKNOWN_SLOTS];
	unsigned int unknown_next;
	struct tcplife_event *held; /* rows waiting for a name, oldest first */
	size_t nheld;
	struct ctw_tcp_columns cols;
	bool json;
	bool containers_only;
	uint64_t last_scan_ns;
	uint64_t first_close_ns; /* monotonic, for -t */
	int64_t mono_to_real;	 /* realtime - monotonic */
	uint64_t shown;
};

static struct unknown_cg *unknown_of(struct tcplife_ctx *t, uint64_t cgid, uint64_t now)
{
	struct unknown_cg *u;

	for (unsigned int i = 0; i < UNKNOWN_SLOTS; i++)
		if (t->unknown[i].cgroup_id == cgid)
			return &t->unknown[i];
	u = &t->unknown[t->unknown_next];
	t->unknown_next = (t->unknown_next + 1) % UNKNOWN_SLOTS;
	*u = (struct unknown_cg){.cgroup_id = cgid, .first_ns = now};
	return u;
}

/* The container's name, or NULL for the host; *young when the cgroup is
 * unknown but recent enough that its name may still come. */
static const char *container_name(struct tcplife_ctx *t, uint64_t cgid, char *buf, size_t size,
				  bool *young)
{
	const struct ctw_container *c;
	struct unknown_cg *u;
	uint64_t now;

	*young = false;
	if (!t->reg) {
		if (cgid == CGROUP_ROOT_ID)
			return NULL;
		snprintf(buf, size, "%llu", (unsigned long long)cgid);
		return buf;
	}
	c = ctw_registry_lookup(t->reg, cgid);
	if (!c && t->stream && ctw_cgroup_stream_consume(t->stream) > 0)
		c = ctw_registry_lookup(t->reg, cgid);
	if (!c && cgid != CGROUP_ROOT_ID) {
		now = ctw_now_ns();
		u = unknown_of(t, cgid, now);
		*young = now - u->first_ns < HOLD_NS;
		if (now >= u->next_look_ns && now - t->last_scan_ns >= RESCAN_NS) {
			t->last_scan_ns = now;
			ctw_registry_scan(t->reg);
			c = ctw_registry_lookup(t->reg, cgid);
			u->next_look_ns = now + (*young ? RESCAN_NS : RECHECK_NS);
		}
	}
	if (!c)
		return NULL;
	*young = false;
	ctw_strlcpy(buf, c->name[0] ? c->name : c->id, size);
	return buf;
}

/* What the kernel's cgroup stream says, before the rows that follow it; a
 * rescan when its ring lost records. */
static void read_stream(struct tcplife_ctx *t)
{
	if (!t->stream)
		return;
	ctw_cgroup_stream_consume(t->stream);
	uint64_t lost = ctw_cgroup_stream_lost(t->stream);
	if (lost != t->stream_lost) {
		t->stream_lost = lost;
		ctw_registry_scan(t->reg);
		t->last_scan_ns = ctw_now_ns();
	}
}

/* Wait up to timeout_ms for rows or cgroup records; read the cgroup stream
 * first, then the rows. */
static int wait_rows(struct tcplife_ctx *t, struct ctw_tcp_probe *probe, int timeout_ms)
{
	struct pollfd fds[2] = {
		{.fd = ctw_tcp_probe_fd(probe), .events = POLLIN},
		{.fd = t->stream ? ctw_cgroup_stream_fd(t->stream) : -1, .events = POLLIN}};
	if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	read_stream(t);
	return ctw_tcp_probe_consume(probe);
}

static void print_event(struct tcplife_ctx *t, const struct tcplife_event *e, const char *container)
{
	uint64_t close_ns = e->start_ns + e->span_ns;
	uint64_t real = close_ns + t->mono_to_real;
	char clock[16] = "";

	if (t->containers_only && !container)
		return;
	if (!t->shown++)
		t->first_close_ns = close_ns;
	if (t->json) {
		ctw_tcp_print_json(stdout, e, container, real);
		return;
	}
	if (t->cols.clock) {
		time_t sec = real / 1000000000ull;
		struct tm tm;

		localtime_r(&sec, &tm);
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	}
	ctw_tcp_print_row(stdout, &t->cols, e, container, (close_ns - t->first_close_ns) / 1e9,
			  clock);
}

/* Print the held rows that got a name or waited long enough; all of them
 * when `all`. */
static void flush_held(struct tcplife_ctx *t, bool all)
{
	size_t i, j;

	for (i = j = 0; i < t->nheld; i++) {
		const struct tcplife_event *e = &t->held[i];
		char name[160];
		bool young;
		const char *c = container_name(t, e->cgroup_id, name, sizeof(name), &young);

		if (c || !young || all)
			print_event(t, e, c);
		else
			t->held[j++] = *e;
	}
	t->nheld = j;
}

static int on_event(void *ctx, const struct tcplife_event *e)
{
	struct tcplife_ctx *t = ctx;
	char name[160];
	bool young;
	const char *container = container_name(t, e->cgroup_id, name, sizeof(name), &young);

	if (!container && young && t->nheld < HELD_MAX) {
		if (!t->held)
			t->held = xcalloc(HELD_MAX, sizeof(*t->held));
		t->held[t->nheld++] = *e;
		return 0;
	}
	print_event(t, e, container);
	return 0;
}

static int watch_one(void *ctx, uint64_t cgroup_id, const char *path, int depth)
{
	return ctw_tcp_probe_watch_cgroup(ctx, cgroup_id, true);
}

/* Watch a cgroup and every cgroup below it. */
static int watch_container(struct ctw_tcp_probe *p, uint64_t cgid, const char *path)
{
	int err = ctw_tcp_probe_watch_cgroup(p, cgid, true);

	if (err)
		return err;
	if (path && path[0]) {
		err = ctw_cgroup_walk(path, watch_one, p);
		if (err < 0 && err != -ENOENT)
			return err;
	}
	return 0;
}

/* What the user typed -> cgroup id (+ path).  Without the registry: a cgroup
 * id, or a cgroup path absolute or relative to the v2 mount. */
static int resolve_container(struct ctw_registry *reg, const char *spec,
			     const struct ctw_select *sel, uint64_t *cgid, char *path, size_t size)
{
	struct stat st;
	uint64_t v;

	if (reg) {
		struct ctw_container *c = xcalloc(1, sizeof(*c));
		struct ctw_err err = {0};
		int rc = ctw_select_container(reg, spec, sel, c, &err);

		if (rc == 0) {
			*cgid = c->cgroup_id;
			ctw_strlcpy(path, c->cgroup_path, size);
			ctw_container_release(c);
		} else {
			pr_err("tcplife: %s", err.msg);
		}
		free(c);
		return rc;
	}
	if (ctw_parse_u64(spec, 1, UINT64_MAX, &v) == 0) {
		*cgid = v;
		path[0] = '\0';
		return 0;
	}
	const char *v2 = ctw_cgroup2_mount();
	if (spec[0] == '/')
		ctw_strlcpy(path, spec, size);
	else
		snprintf(path, size, "%s/%s", v2 ? v2 : "/sys/fs/cgroup", spec);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	*cgid = st.st_ino;
	return 0;
}

static int cmd_tcplife(int argc, char **argv)
{
	struct tcplife_args args = {.po = {.ringbuf_bytes = 4u << 20, .wakeup_bytes = 256u << 10}};
	struct tcplife_ctx t = {0};
	struct ctw_err cerr = {0};
	struct ctw_tcp_probe *probe = NULL;
	uint64_t deadline = 0;
	int err, ret = CTW_EXIT_FAIL;
	int first = ctw_opts_parse("tcplife", tcplife_opts, argc, argv, &args);

	if (first < 0)
		return -first;
	struct ctw_tcp_probe_opts po = args.po;
	const struct ctw_select sel = args.sel;
	uint64_t duration_ns = args.duration_ns;
	t.cols = args.cols;
	t.json = args.json;
	t.containers_only = args.containers_only;

	if (!ctw_cmd_privileged("tcplife", CTW_NEED_BPF | CTW_NEED_PERFMON))
		goto out;
	/* The probe first: without the privilege to load it, say so before
	 * reading any engine's files. */
	po.filter_cgroup = first < argc;
	err = ctw_tcp_probe_open(&po, on_event, &t, &probe, &cerr);
	if (err) {
		pr_err("tcplife: %s", cerr.msg);
		goto out;
	}
	/* Without a registry (no cgroup v2 mount found), rows carry cgroup ids. */
	t.reg = ctw_registry_new(&(struct ctw_registry_opts){.grace_ns = GONE_GRACE_NS});
	if (t.reg) {
		t.stream = ctw_cgroup_stream_new(t.reg);
		if (!t.stream)
			pr_debug("tcplife: cgroup stream: %s (names from scans only)",
				 strerror(errno));
		else
			t.stream_lost = ctw_cgroup_stream_lost(t.stream);
	}
	if (t.reg && ctw_registry_scan(t.reg) < 0)
		pr_warn("tcplife: container discovery failed; naming what it found");
	t.last_scan_ns = ctw_now_ns();
	for (int i = first; i < argc; i++) {
		char path[PATH_MAX];
		uint64_t cgid;

		err = resolve_container(t.reg, argv[i], &sel, &cgid, path, sizeof(path));
		if (err) {
			if (!t.reg) {
				if (err == -ENOENT)
					pr_err("tcplife: " CTW_NO_SUCH_CONTAINER, argv[i]);
				else
					pr_err("tcplife: container %s: %s", argv[i],
					       strerror(-err));
			}
			goto out;
		}
		err = watch_container(probe, cgid, path);
		if (err) {
			pr_err("tcplife: watch container %s: %s", argv[i], strerror(-err));
			goto out;
		}
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Rows are flushed once per ring buffer batch, not once per line. */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	t.mono_to_real = (int64_t)(ctw_realtime_ns() - ctw_now_ns());
	if (duration_ns)
		deadline = ctw_now_ns() + duration_ns;
	if (!t.json)
		ctw_tcp_print_header(stdout, &t.cols);
	fprintf(stderr, "Tracing TCP connections%s. Ctrl-C to end.\n",
		first < argc ? " of the containers given" : "");

	while (!stop) {
		int timeout = 100;

		if (deadline) {
			uint64_t now = ctw_now_ns();

			if (now >= deadline)
				break;
			if (deadline - now < 100000000ull)
				timeout = (deadline - now) / 1000000 + 1;
		}
		err = wait_rows(&t, probe, timeout);
		flush_held(&t, false);
		fflush(stdout);
		if (err < 0 && err != -EINTR) {
			pr_err("tcplife: ring buffer: %s", strerror(-err));
			goto out;
		}
	}
	read_stream(&t);
	ctw_tcp_probe_consume(probe);
	flush_held(&t, true);
	fflush(stdout);
	uint64_t lost = ctw_tcp_probe_lost(probe, TCPLIFE_LOST_RINGBUF);
	uint64_t nomem = ctw_tcp_probe_lost(probe, TCPLIFE_LOST_NOMEM);
	if (lost)
		pr_warn("tcplife: %llu connections lost (ring buffer full)",
			(unsigned long long)lost);
	if (nomem)
		pr_warn("tcplife: %llu connections not tracked (no memory for socket storage)",
			(unsigned long long)nomem);
	ret = CTW_EXIT_OK;
out:
	ctw_tcp_probe_free(probe);
	ctw_cgroup_stream_free(t.stream);
	free(t.held);
	if (t.reg)
		ctw_registry_free(t.reg);
	return ret;
}

CTW_COMMAND(tcplife, .name = "tcplife", .summary = "TCP connection lifespans per container",
	    .order = CTW_ORDER_OBSERVE + 20, .fn = cmd_tcplife, .usage = tcplife_usage)
