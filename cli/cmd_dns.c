// SPDX-License-Identifier: Apache-2.0
/* ctrwatch dns: stream the DNS queries of containers with their answers,
 * rcode and latency, as seen by cgroup_skb programs (dns/). */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "options.h"
#include "../agent/agent.h"
#include "../bpf/dns.h"
#include "../dns/dns.h"
#include "../exporters/exporters.h"
#include "../lib/lib.h"

#define RESCAN_NS 1000000000ull
/* A container that went is still known (named, its pending queries timed
 * out) this long: its last packets may be read after its rmdir. */
#define GONE_GRACE_NS (60 * 1000000000ull)
/* --rcode values beyond the 16 header rcodes */
#define F_TIMEOUT 16
#define F_MALFORMED 17

struct watched {
	uint64_t cgroup_id;
	char name[128];
};

struct dns_cli {
	struct ctw_registry *reg;
	/* no CONTAINER: the kernel's cgroup stream names a new container at
	 * its cgroup's mkdir and we attach then, before its first packet */
	struct ctw_cgroup_stream *stream;
	uint64_t stream_lost;
	struct ctw_dns_probe *probe;
	struct watched *w;
	size_t nw;
	bool all; /* no CONTAINER given: attached once above them, follow discovery */
	bool json;
	bool served; /* --served: also queries the containers answered */
	char **names;
	size_t nnames;
	uint32_t rcodes; /* bit per rcode, F_TIMEOUT, F_MALFORMED; 0 = all */
	bool has_type;
	uint16_t qtype;
	int64_t mono_to_real;
};

static int parse_name(const char *arg, void *field, char *why, size_t whylen);
static int parse_rcode(const char *arg, void *field, char *why, size_t whylen);
static int parse_type(const char *arg, void *field, char *why, size_t whylen);

/* What the options set (the filters go straight into the CLI's state). */
struct dns_args {
	struct dns_cli d;
	struct ctw_dns_probe_opts po;
	struct ctw_select sel;
	uint64_t duration_ns;
	const char *attach_dir;
};

#define ARG(f) offsetof(struct dns_args, f)
static const struct ctw_opt dns_opts[] = {
	{.name = "name",
	 .short_name = 'n',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PATTERN",
	 .help = "only names matching the glob PATTERN (case-insensitive,\n"
		 "e.g. '*.example.com'); may be repeated",
	 .off = ARG(d),
	 .parse = parse_name},
	{.name = "rcode",
	 .short_name = 'r',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "RCODE",
	 .help = "only this outcome: NOERROR, FORMERR, SERVFAIL, NXDOMAIN,\n"
		 "NOTIMP, REFUSED, ... (or 0-15), TIMEOUT, MALFORMED;\n"
		 "may be repeated",
	 .off = ARG(d),
	 .parse = parse_rcode},
	{.name = "type",
	 .short_name = 't',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "QTYPE",
	 .help = "only queries of this type (A, AAAA, MX, TYPE65, ...)",
	 .off = ARG(d),
	 .parse = parse_type},
	CTW_OPT_ENTRY_DURATION(ARG(duration_ns)),
	CTW_OPT_ENTRY_NAMESPACE(0, ARG(sel.namespace_)),
	CTW_OPT_ENTRY_POD(ARG(sel.pod)),
	{.name = "timeout",
	 .kind = CTW_OPT_DURATION,
	 .metavar = "DUR",
	 .help = "a query unanswered after DUR is a TIMEOUT (default 5s;\n500ms, 2s, ...)",
	 .off = ARG(po.timeout_ns)},
	{.name = "no-tcp",
	 .kind = CTW_OPT_FLAG,
	 .help = "ignore DNS over TCP",
	 .off = ARG(po.no_tcp)},
	{.name = "attach-cgroup",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "without CONTAINER: attach to the cgroup v2 directory\n"
		 "DIR (above the containers to watch) instead of the v2\n"
		 "root (default: $CTRWATCH_DNS_CGROUP, else the root)",
	 .off = ARG(attach_dir)},
	{.name = "served",
	 .kind = CTW_OPT_FLAG,
	 .help = "also the queries the containers answered (a DNS\n"
		 "server's): COMM shows (served), JSON direction ingress",
	 .off = ARG(d.served)},
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "one JSON object per line: time, container, cgroup_id,\n"
		 "pid, comm, qname, qtype, rcode, latency_ms, answers,\n"
		 "server, kind (answer, timeout, unmatched, malformed),\n"
		 "protocol, direction, id, error",
	 .off = ARG(d.json)},
	{0},
};
#undef ARG

static void dns_usage(FILE *out)
{
	fputs("Usage: ctrwatch dns [OPTIONS] [CONTAINER...]\n"
	      "\n"
	      "Show the DNS queries of containers as they happen: who asked (container, pid,\n"
	      "command), what (type, name), the outcome (rcode, or TIMEOUT when no response\n"
	      "came in time, or MALFORMED for a packet that is not valid DNS), the latency\n"
	      "and the answers (A, AAAA, CNAME).  UDP and TCP port 53, IPv4 and IPv6.\n"
	      "\n"
	      "BPF programs (cgroup_skb egress and ingress, alongside any others) are attached\n"
	      "to each CONTAINER's cgroup, or without CONTAINER once to the cgroup v2 root\n"
	      "(or --attach-cgroup), and detached on exit; they only observe.\n"
	      "CONTAINER is a name or id (ctrwatch, Docker, containerd, CRI-O, Podman,\n"
	      "Kubernetes; NAMESPACE/POD/CONTAINER for a pod's), a PID (its cgroup) or a\n"
	      "cgroup v2 path (absolute, or relative to the v2 mount); a name several\n"
	      "containers share is an error that lists them (see `ctrwatch trace --help`).  "
	      "Without CONTAINER, every container on the host is watched,\n"
	      "including those that start later, from their first packet (the programs name\n"
	      "each packet by its socket's cgroup; the kernel's cgroup stream names it).\n"
	      "\n",
	      out);
	ctw_opts_print(out, dns_opts);
	fputs("\n"
	      "Columns: TIME CONTAINER PID COMM QTYPE QNAME RCODE LATENCY ANSWERS.  PID and\n"
	      "COMM are the sender's when the query left in its context (UDP, most TCP).\n"
	      "Queries a container answered are left out unless --served: a query between two\n"
	      "watched containers would otherwise show twice.\n"
	      "A response no query was seen for shows '-' as LATENCY.  Answers beyond the\n"
	      "first 512 bytes of a message are not seen ('...' marks a cut list).\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch dns                           every container, until Ctrl-C\n"
	      "  ctrwatch dns web db                    two containers\n"
	      "  ctrwatch dns -r NXDOMAIN -r TIMEOUT    only failures\n"
	      "  ctrwatch dns -n '*.svc.cluster.local' --json -d 30 | jq .latency_ms\n"
	      "  ctrwatch dns /system.slice/docker-0123abcd.scope\n",
	      out);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static const char *container_name(struct dns_cli *d, uint64_t cgid, char *buf, size_t size)
{
	const struct ctw_container *c = d->reg ? ctw_registry_lookup(d->reg, cgid) : NULL;

	if (c && c->name[0])
		return ctw_strlcpy(buf, c->name, size), buf;
	for (size_t i = 0; i < d->nw; i++)
		if (d->w[i].cgroup_id == cgid)
			return ctw_strlcpy(buf, d->w[i].name, size), buf;
	snprintf(buf, size, "%llu", (unsigned long long)cgid);
	return buf;
}

/* A query the container answered (it came in), not one it asked: for an
 * unmatched response, the response went out. */
static bool is_served(const struct ctw_dns_txn *t)
{
	switch (t->kind) {
	case CTW_DNS_ANSWERED:
	case CTW_DNS_TIMEOUT: return t->dir == CTW_DNS_INGRESS;
	case CTW_DNS_UNMATCHED: return t->dir == CTW_DNS_EGRESS;
	case CTW_DNS_MALFORMED: break;
	}
	return false;
}

static bool wanted(struct dns_cli *d, const struct ctw_dns_txn *t)
{
	if (!d->served && is_served(t))
		return false;
	if (d->rcodes) {
		unsigned int bit = t->kind == CTW_DNS_TIMEOUT	  ? F_TIMEOUT
				   : t->kind == CTW_DNS_MALFORMED ? F_MALFORMED
								  : t->rcode;
		if (!(d->rcodes & (1u << bit)))
			return false;
	}
	if (d->has_type && (t->kind == CTW_DNS_MALFORMED || t->qtype != d->qtype))
		return false;
	if (d->nnames) {
		bool hit = false;
		for (size_t i = 0; i < d->nnames && !hit; i++)
			hit = !fnmatch(d->names[i], t->qname, FNM_CASEFOLD);
		if (!hit)
			return false;
	}
	return true;
}

static const char *kind_name(enum ctw_dns_kind k)
{
	switch (k) {
	case CTW_DNS_ANSWERED: return "answer";
	case CTW_DNS_TIMEOUT: return "timeout";
	case CTW_DNS_UNMATCHED: return "unmatched";
	case CTW_DNS_MALFORMED: return "malformed";
	}
	return "?";
}

static void print_json(struct dns_cli *d, const struct ctw_dns_txn *t, const char *cname,
		       uint64_t real_ns)
{
	char tbuf[48], ty[16], rc[16];

	ctw_format_time(real_ns, tbuf, sizeof(tbuf));
	printf("{\"time\":\"%s\",\"container\":", tbuf);
	ctw_json_string(stdout, cname);
	printf(",\"cgroup_id\":%llu,\"pid\":%u,\"comm\":", (unsigned long long)t->cgroup_id,
	       t->pid);
	ctw_json_string(stdout, t->comm);
	fputs(",\"qname\":", stdout);
	if (!t->qname[0]) /* no question (decoded) */
		fputs("null", stdout);
	else
		ctw_json_string(stdout, t->qname);
	fputs(",\"qtype\":", stdout);
	if (!t->qname[0] && !t->qtype)
		fputs("null", stdout);
	else
		ctw_json_string(stdout, ctw_dns_type_name(t->qtype, ty, sizeof(ty)));
	fputs(",\"rcode\":", stdout);
	if (t->kind == CTW_DNS_ANSWERED || t->kind == CTW_DNS_UNMATCHED)
		ctw_json_string(stdout, ctw_dns_rcode_name(t->rcode, rc, sizeof(rc)));
	else
		fputs("null", stdout);
	if (t->kind == CTW_DNS_ANSWERED)
		printf(",\"latency_ms\":%.3f", t->latency_ns / 1e6);
	else
		fputs(",\"latency_ms\":null", stdout);
	fputs(",\"answers\":[", stdout);
	for (unsigned int i = 0; i < t->nanswers; i++) {
		if (i)
			fputc(',', stdout);
		ctw_json_string(stdout, t->answers[i]);
	}
	printf("],\"answers_cut\":%s,\"server\":", t->answers_cut ? "true" : "false");
	ctw_json_string(stdout, t->server);
	printf(",\"kind\":\"%s\",\"protocol\":\"%s\",\"direction\":\"%s\",\"id\":%u",
	       kind_name(t->kind), t->tcp ? "tcp" : "udp",
	       t->dir == CTW_DNS_INGRESS ? "ingress" : "egress", t->id);
	if (t->kind == CTW_DNS_MALFORMED) {
		fputs(",\"error\":", stdout);
		ctw_json_string(stdout, ctw_dns_strerror(t->error));
	}
	fputs("}\n", stdout);
}

static void print_text(const struct ctw_dns_txn *t, const char *cname, uint64_t real_ns)
{
	char tbuf[16], ty[16], rc[16], lat[24], pid[16];
	time_t secs = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	const char *rcode;

	localtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	switch (t->kind) {
	case CTW_DNS_TIMEOUT: rcode = "TIMEOUT"; break;
	case CTW_DNS_MALFORMED: rcode = "MALFORMED"; break;
	default: rcode = ctw_dns_rcode_name(t->rcode, rc, sizeof(rc));
	}
	if (t->kind == CTW_DNS_ANSWERED)
		snprintf(lat, sizeof(lat), "%.3fms", t->latency_ns / 1e6);
	else
		ctw_strlcpy(lat, "-", sizeof(lat));
	if (t->pid)
		snprintf(pid, sizeof(pid), "%u", t->pid);
	else
		ctw_strlcpy(pid, "-", sizeof(pid));
	printf("%-8s %-16.16s %-7s %-15.15s %-6s %-32s %-9s %-10s ", tbuf, cname, pid,
	       is_served(t) ? "(served)"
	       : t->comm[0] ? t->comm
			    : "-",
	       !t->qname[0] && !t->qtype ? "-" : ctw_dns_type_name(t->qtype, ty, sizeof(ty)),
	       t->qname[0] ? t->qname : "-", rcode, lat);
	if (t->kind == CTW_DNS_MALFORMED) {
		printf("(%s)", ctw_dns_strerror(t->error));
	} else if (!t->nanswers) {
		fputs(t->answers_cut ? "..." : "-", stdout);
	} else {
		for (unsigned int i = 0; i < t->nanswers; i++)
			printf("%s%s", i ? "," : "", t->answers[i]);
		if (t->answers_cut)
			fputs(",...", stdout);
	}
	fputc('\n', stdout);
}

/* Every container: a packet of a cgroup that is (in) a container; the
 * stream is read first, as the packet may be ahead of its mkdir record. */
static bool in_container(struct dns_cli *d, uint64_t cgid)
{
	if (ctw_registry_lookup(d->reg, cgid))
		return true;
	if (d->stream)
		ctw_cgroup_stream_consume(d->stream);
	return ctw_registry_lookup(d->reg, cgid) != NULL;
}

static void on_txn(void *ctx, const struct ctw_dns_txn *t)
{
	struct dns_cli *d = ctx;
	char cname[128];
	uint64_t real_ns = (uint64_t)((int64_t)t->ts_ns + d->mono_to_real);

	if (!wanted(d, t) || (d->all && !in_container(d, t->cgroup_id)))
		return;
	container_name(d, t->cgroup_id, cname, sizeof(cname));
	if (d->json)
		print_json(d, t, cname, real_ns);
	else
		print_text(t, cname, real_ns);
}

/* Watch a container: attached to its cgroup, or (every container) already
 * below the attachment. */
static int watch(struct dns_cli *d, const struct ctw_container *c, bool quiet)
{
	uint64_t id = c->cgroup_id;
	int err;

	for (size_t i = 0; i < d->nw; i++)
		if (d->w[i].cgroup_id == id)
			return 0;
	if (!d->all && (err = ctw_dns_probe_attach(d->probe, c->cgroup_path, &id))) {
		if (!quiet)
			fprintf(stderr, "ctrwatch: dns: attach to %s (%s): %s\n", c->name,
				c->cgroup_path, strerror(-err));
		return err;
	}
	d->w = xrealloc(d->w, (d->nw + 1) * sizeof(*d->w));
	d->w[d->nw].cgroup_id = id;
	ctw_strlcpy(d->w[d->nw].name, c->name, sizeof(d->w[d->nw].name));
	d->nw++;
	pr_info("dns: watching %s (cgroup %llu)", c->name, (unsigned long long)id);
	return 0;
}

/* The registry's hook: a container found by a scan or by the stream. */
static void on_added(void *ctx, const struct ctw_container *c)
{
	watch(ctx, c, true);
}

/* Follow discovery: new containers, gone ones. */
static void rescan(struct dns_cli *d)
{
	if (ctw_registry_scan(d->reg) < 0)
		return;
	for (size_t i = 0; i < ctw_registry_count(d->reg); i++)
		watch(d, ctw_registry_at(d->reg, i), true);
	for (size_t i = 0; i < d->nw;) {
		if (ctw_registry_lookup(d->reg, d->w[i].cgroup_id)) {
			i++;
			continue;
		}
		ctw_dns_probe_forget(d->probe, d->w[i].cgroup_id);
		d->w[i] = d->w[--d->nw];
	}
}

static void sum_lost(void *ctx, uint64_t cgroup_id, uint64_t n)
{
	*(uint64_t *)ctx += n;
}

static int parse_name(const char *arg, void *field, char *why, size_t whylen)
{
	struct dns_cli *d = field;
	d->names = xrealloc(d->names, (d->nnames + 1) * sizeof(*d->names));
	d->names[d->nnames++] = (char *)arg;
	return 0;
}

static int parse_rcode(const char *arg, void *field, char *why, size_t whylen)
{
	struct dns_cli *d = field;
	unsigned int rc;

	if (!strcasecmp(arg, "TIMEOUT"))
		rc = F_TIMEOUT;
	else if (!strcasecmp(arg, "MALFORMED"))
		rc = F_MALFORMED;
	else if (ctw_dns_rcode_parse(arg, &rc)) {
		snprintf(why, whylen,
			 "not an rcode (NOERROR, NXDOMAIN, ..., 0-15, TIMEOUT, MALFORMED)");
		return -1;
	}
	d->rcodes |= 1u << rc;
	return 0;
}

static int parse_type(const char *arg, void *field, char *why, size_t whylen)
{
	struct dns_cli *d = field;
	if (ctw_dns_type_parse(arg, &d->qtype)) {
		snprintf(why, whylen, "not a query type (A, AAAA, MX, TYPE65, ...)");
		return -1;
	}
	d->has_type = true;
	return 0;
}

static int cmd_dns(int argc, char **argv)
{
	struct dns_args args = {.attach_dir = getenv("CTRWATCH_DNS_CGROUP")};
	uint64_t end = 0, next_scan;
	struct sigaction sa = {0};
	int err, rc = CTW_EXIT_FAIL;
	int first = ctw_opts_parse("dns", dns_opts, argc, argv, &args);

	if (first < 0) {
		free(args.d.names);
		return -first;
	}
	struct dns_cli d = args.d;
	struct ctw_dns_probe_opts po = args.po;
	const struct ctw_select sel = args.sel;
	uint64_t duration_ns = args.duration_ns;
	const char *attach_dir = args.attach_dir;

	if (!ctw_cmd_privileged("dns", CTW_NEED_BPF | CTW_NEED_NET_ADMIN))
		goto out;
	d.reg = ctw_registry_new(&(struct ctw_registry_opts){.grace_ns = GONE_GRACE_NS});
	if (!d.reg) {
		fprintf(stderr, "ctrwatch: dns: container registry: %s\n", strerror(errno));
		goto out;
	}
	po.on_txn = on_txn;
	po.ctx = &d;
	err = ctw_dns_probe_new(&po, &d.probe);
	if (err) {
		fprintf(stderr, "ctrwatch: dns: load BPF programs: %s\n", strerror(-err));
		goto out;
	}

	d.all = first == argc;
	for (int i = first; i < argc; i++) {
		struct ctw_container ct;
		struct ctw_err serr = {0};
		err = ctw_select_container(d.reg, argv[i], &sel, &ct, &serr);
		if (err) {
			fprintf(stderr, "ctrwatch: dns: %s\n", serr.msg);
			goto out;
		}
		int werr = watch(&d, &ct, false);
		ctw_container_release(&ct);
		if (werr)
			goto out;
	}
	if (d.all) {
		if (!attach_dir || !*attach_dir)
			attach_dir = ctw_registry_cgroup_root(d.reg);
		err = attach_dir ? ctw_dns_probe_attach(d.probe, attach_dir, NULL) : -ENOENT;
		if (err) {
			fprintf(stderr, "ctrwatch: dns: attach to cgroup %s: %s\n",
				attach_dir ? attach_dir : "(no cgroup v2 root)",
				err == -ENOTDIR ? "not a cgroup v2 directory" : strerror(-err));
			goto out;
		}
		ctw_registry_set_hooks(d.reg, on_added, NULL, NULL, &d);
		d.stream = ctw_cgroup_stream_new(d.reg);
		if (d.stream)
			d.stream_lost = ctw_cgroup_stream_lost(d.stream);
		else
			pr_debug("dns: cgroup stream: %s (new containers at rescans only)",
				 strerror(errno));
		rescan(&d);
		if (!d.nw)
			fprintf(stderr, "ctrwatch: dns: no containers yet; waiting for some\n");
	}

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!d.json)
		printf("%-8s %-16s %-7s %-15s %-6s %-32s %-9s %-10s %s\n", "TIME", "CONTAINER",
		       "PID", "COMM", "QTYPE", "QNAME", "RCODE", "LATENCY", "ANSWERS");
	d.mono_to_real = (int64_t)(ctw_realtime_ns() - ctw_now_ns());
	if (duration_ns)
		end = ctw_now_ns() + duration_ns;
	next_scan = ctw_now_ns() + RESCAN_NS;
	while (!stop) {
		uint64_t now = ctw_now_ns();
		if (end && now >= end)
			break;
		if (d.all && now >= next_scan) {
			rescan(&d);
			next_scan = now + RESCAN_NS;
		}
		/* with the stream: its records read every 5 ms */
		err = ctw_dns_probe_poll(d.probe, d.stream ? 5 : 100);
		if (d.stream && ctw_cgroup_stream_consume(d.stream) >= 0 &&
		    ctw_cgroup_stream_lost(d.stream) != d.stream_lost) {
			d.stream_lost = ctw_cgroup_stream_lost(d.stream);
			rescan(&d); /* what the stream's ring lost */
		}
		if (err < 0) {
			fprintf(stderr, "ctrwatch: dns: ring buffer: %s\n", strerror(-err));
			goto out;
		}
		if (ferror(stdout))
			break; /* the reader went away */
	}
	/* What is still in the ring buffer. */
	ctw_dns_probe_consume(d.probe);
	uint64_t lost = 0;
	ctw_dns_probe_lost(d.probe, sum_lost, &lost);
	if (lost)
		fprintf(stderr, "ctrwatch: dns: %llu packets not seen (ring buffer full)\n",
			(unsigned long long)lost);
	rc = CTW_EXIT_OK;
out:
	ctw_cgroup_stream_free(d.stream);
	ctw_dns_probe_free(d.probe); /* detaches */
	if (d.reg)
		ctw_registry_free(d.reg);
	free(d.w);
	free(d.names);
	return rc;
}

CTW_COMMAND(dns, .name = "dns", .summary = "DNS queries per container: rcode, latency, answers",
	    .order = CTW_ORDER_OBSERVE + 30, .fn = cmd_dns, .usage = dns_usage)
