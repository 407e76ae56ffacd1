// SPDX-License-Identifier: Apache-2.0
/*
 * trace's options as strace spells them, parsed from an argv (`ctrwatch
 * trace ...`) or from the words of `run --trace='...'`: one table, short
 * options bundled as getopt does (-fftt, -s64, -eopen), long ones with '='
 * or a separate value, no global state (run parses inside its own getopt
 * loop).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

enum {
	O_EXPR = 1,
	O_TRACE,
	O_SIGNAL,
	O_STATUS,
	O_QUIET,
	O_PID,
	O_SUMMARY,
	O_SUMMARY_TOO,
	O_DURATIONS,
	O_TIMESTAMPS,
	O_OUTPUT,
	O_STRSIZE,
	O_FAILED,
	O_SUCCESSFUL,
	O_FOLLOW,
	O_SEPARATELY,
	O_QUIET_SHORT,
	O_JSON,
	O_PROFILE,
	O_ALL,
	O_NAME,
	O_STATS,
	O_BUFSIZE,
	O_DECODE_FDS,
	O_WITH_INIT,
	O_FROM_EXEC,
	O_RECORD,
	O_REPLAY,
	O_NAMESPACE,
	O_POD,
	O_HELP,
};

/* The options, as strace spells them: what the parser below matches (by
 * shrt, lng) and, in this order, the "Options" block of `trace --help`
 * (spell, help: '\n' starts another line of it).  Rows with neither shrt
 * nor lng only document a spelling of another row (-e trace=SET is -e). */
static const struct opt {
	char shrt;
	const char *lng;
	bool arg;
	int id;
	const char *spell; /* as --help shows it; NULL: not shown */
	const char *help;
} opts[] = {
	{0, NULL, true, O_EXPR, "-e trace=SET",
	 "only these syscalls: names and classes, comma-separated,\n"
	 "'!' in front negates; classes: %file %network %process\n"
	 "%memory %signal %ipc %desc (e.g. -e trace=%file,connect)"},
	{0, NULL, true, O_EXPR, "-e signal=SET",
	 "only these signals get a --- SIG... --- line (names or\n"
	 "numbers, all, none, '!' negates)"},
	{0, NULL, true, O_EXPR, "-e status=SET",
	 "only calls that ended so: successful, failed, unfinished"},
	{0, NULL, true, O_EXPR, "-e quiet=SET",
	 "leave out: attach (messages), exit (+++ exited lines)"},
	{'e', NULL, true, O_EXPR, NULL, NULL},
	{0, "trace", true, O_TRACE, "    --trace=SET, --signal=SET, --status=SET, --quiet=SET",
	 "the same"},
	{0, "signal", true, O_SIGNAL, NULL, NULL},
	{0, "status", true, O_STATUS, NULL, NULL},
	{0, "quiet", true, O_QUIET, NULL, NULL},
	{'p', "attach", true, O_PID, "-p PID",
	 "only this process (repeatable); its cgroup is traced"},
	{'c', "summary-only", false, O_SUMMARY, "-c, --summary-only",
	 "count calls, errors and time per syscall; print the\n"
	 "table (strace -c layout) at the end instead of lines"},
	{'C', "summary", false, O_SUMMARY_TOO, "-C, --summary", "like -c, and print the lines too"},
	{'T', "syscall-times", false, O_DURATIONS, "-T",
	 "show the time spent in each call: <0.000012>"},
	{'t', NULL, false, O_TIMESTAMPS, "-t, -tt, -ttt",
	 "prefix lines with the time of day (-tt: microseconds;\n"
	 "-ttt: seconds since the epoch)"},
	{'o', "output", true, O_OUTPUT, "-o FILE",
	 "write lines and the summary to FILE (lines start with\n"
	 "the pid, as strace -f -o writes them)"},
	{'f', "follow-forks", false, O_FOLLOW, "-ff -o PREFIX",
	 "one file PREFIX.PID per process (thread), as strace -ff"},
	{0, "output-separately", false, O_SEPARATELY, NULL, NULL},
	{'s', "string-limit", true, O_STRSIZE, "-s N",
	 "show at most N bytes of string data (default 32)"},
	{'q', NULL, false, O_QUIET_SHORT, "-q, -qq",
	 "no attach messages; -qq: no exit lines either"},
	{'y', "decode-fds", false, O_DECODE_FDS, "-y, -yy",
	 "show what each fd is: 3</etc/passwd>, 4<pipe:[123]>;\n"
	 "-yy: sockets' endpoints (5<TCP:[1.2.3.4:80->...]>)\n"
	 "and device numbers too"},
	{'Z', "failed-only", false, O_FAILED, "-Z, --failed-only",
	 "only calls that failed (status=failed)"},
	{0, "failed", false, O_FAILED, NULL, NULL},
	{'z', "successful-only", false, O_SUCCESSFUL, "-z, --successful-only",
	 "only calls that succeeded (status=successful)"},
	{0, "json", false, O_JSON, "    --json",
	 "one JSON object per event: container, pid, tid, comm,\n"
	 "event (syscall, signal, exit), syscall, args, ret, errno,\n"
	 "duration_ns, ts_ns; signal and siginfo; exit_code"},
	{0, "seccomp-profile", true, O_PROFILE, "    --seccomp-profile FILE",
	 "at the end, write a Docker-format seccomp profile that\n"
	 "allows exactly the syscalls seen (for `run --security-opt\n"
	 "seccomp=FILE`)"},
	{0, "all", false, O_ALL, "    --all",
	 "trace every container, also those made after trace\n"
	 "starts (added at their cgroup's mkdir), until Ctrl-C"},
	{'n', "namespace", true, O_NAMESPACE, "-n, --namespace NS",
	 "only a container of Kubernetes (or containerd)\n"
	 "namespace NS"},
	{0, "pod", true, O_POD, "    --pod POD", "only a container of pod POD"},
	{0, "from-exec", false, O_FROM_EXEC, "    --from-exec",
	 "show each process from its execve on (and its children),\n"
	 "as `-- IMAGE` does: not what ran before tracing began"},
	{0, "with-init", false, O_WITH_INIT, "    --with-init",
	 "with `-- IMAGE`: the runtime's own setup before the\n"
	 "command's execve too"},
	{0, "name", true, O_NAME, "    --name NAME", "with `-- IMAGE`: the new container's name"},
	{0, "record", true, O_RECORD, "    --record FILE",
	 "write the kernel's raw records to FILE instead of lines\n"
	 "(cheaper: nothing is decoded while tracing)"},
	{0, "replay", true, O_REPLAY, "    --replay FILE",
	 "decode a recording made with --record, with the line\n"
	 "options given here (-s, -T, -t, -y, -o, --json) and\n"
	 "only what -e trace=, signal=, status=, quiet= select;\n"
	 "needs neither root nor the kernel it was made on"},
	{0, "stats", false, O_STATS, "    --stats",
	 "at the end, print events, events/s and losses on stderr"},
	{0, "buffer-size", true, O_BUFSIZE, "    --buffer-size BYTES",
	 "ring buffer size (default 32m; a power of two)"},
	{'h', "help", false, O_HELP, NULL, NULL},
};

/* Options rows: the spelling, the help from column 21 (on the
 * next line when the spelling is wider), continuation lines aligned. */
#define HELP_COL 21
void ctw_trace_opts_print(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		const char *h = opts[i].help;
		if (!opts[i].spell || !h)
			continue;
		int w = fprintf(out, "  %s", opts[i].spell);
		if (w >= HELP_COL) {
			fputc('\n', out);
			w = 0;
		}
		for (bool first = true; *h; first = false) {
			size_t n = strcspn(h, "\n");
			fprintf(out, "%*s%.*s\n", first ? HELP_COL - w : HELP_COL, "", (int)n, h);
			h += n + (h[n] == '\n');
		}
	}
}

void ctw_trace_args_init(struct ctw_trace_args *a)
{
	memset(a, 0, sizeof(*a));
	ctw_trace_select_init(&a->sel);
	a->o.out_fd = -1;
}

void ctw_trace_args_fini(struct ctw_trace_args *a)
{
	ctw_trace_select_fini(&a->sel);
	free(a->pids);
	a->pids = NULL;
}

static int apply(struct ctw_trace_args *a, const struct opt *op, const char *arg,
		 struct ctw_err *err)
{
	uint64_t v;
	_cleanup_free_ char *expr = NULL;

	if (op->arg && !arg)
		return ctw_err_setx(err, EINVAL, "option %s needs a value", op->lng ? op->lng : "");
	switch (op->id) {
	case O_EXPR: return ctw_trace_parse_expr(&a->sel, arg, err);
	case O_TRACE:
	case O_SIGNAL:
	case O_STATUS:
	case O_QUIET:
		expr = xasprintf("%s=%s", op->lng, arg);
		return ctw_trace_parse_expr(&a->sel, expr, err);
	case O_PID:
		if (ctw_parse_u64(arg, 1, INT32_MAX, &v) < 0)
			return ctw_err_setx(err, EINVAL, "bad PID '%s'", arg);
		a->pids = xrealloc(a->pids, (a->npids + 1) * sizeof(*a->pids));
		a->pids[a->npids++] = (int)v;
		return 0;
	case O_SUMMARY: a->o.summary = true; return 0;
	case O_SUMMARY_TOO: a->o.summary_too = true; return 0;
	case O_DURATIONS: a->o.durations = true; return 0;
	case O_TIMESTAMPS:
		if (a->o.timestamps < 3)
			a->o.timestamps++;
		return 0;
	case O_OUTPUT: a->out_path = arg; return 0;
	case O_STRSIZE:
		if (ctw_parse_u64(arg, 0, 1u << 20, &v) < 0)
			return ctw_err_setx(err, EINVAL, "bad string size '%s'", arg);
		a->o.strsize = (unsigned)v; /* -s 0: "", [...] as strace shows them */
		a->o.strsize_set = true;
		return 0;
	case O_FAILED: a->sel.status = CTW_STATUS_FAILED; return 0;
	case O_SUCCESSFUL: a->sel.status = CTW_STATUS_SUCCESSFUL; return 0;
	case O_FOLLOW: a->follow_forks++; return 0;
	case O_SEPARATELY: a->follow_forks = 2; return 0;
	case O_QUIET_SHORT:
		/* -q: no attach messages; -qq: no exit lines either */
		a->sel.quiet |= a->sel.quiet & CTW_QUIET_ATTACH ? CTW_QUIET_EXIT : CTW_QUIET_ATTACH;
		return 0;
	case O_DECODE_FDS:
		if (a->o.decode_fds < 2)
			a->o.decode_fds++;
		return 0;
	case O_JSON: a->o.json = true; return 0;
	case O_PROFILE: a->o.seccomp_profile = arg; return 0;
	case O_ALL: a->all = true; return 0;
	case O_NAME: a->name = arg; return 0;
	case O_STATS: a->o.report_stats = true; return 0;
	case O_BUFSIZE:
		if (ctw_parse_bytes(arg, &v) < 0 || v < 4096 || (v & (v - 1)))
			return ctw_err_setx(err, EINVAL,
					    "--buffer-size must be a power of two >= 4k");
		a->o.ringbuf_bytes = v;
		return 0;
	case O_WITH_INIT: a->with_init = true; return 0;
	case O_FROM_EXEC: a->from_exec = true; return 0;
	case O_RECORD: a->o.record_path = arg; return 0;
	case O_REPLAY: a->replay = arg; return 0;
	case O_NAMESPACE: a->k8s_namespace = arg; return 0;
	case O_POD: a->pod = arg; return 0;
	case O_HELP: a->help = true; return 0;
	}
	return ctw_err_setx(err, EINVAL, "unhandled option");
}

static const struct opt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].lng && strlen(opts[i].lng) == len && !memcmp(opts[i].lng, name, len))
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(char c)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].shrt == c)
			return &opts[i];
	return NULL;
}

int ctw_trace_parse_args(struct ctw_trace_args *a, int argc, char **argv, struct ctw_err *err)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i];
		const struct opt *op;
		int rc;

		if (!strcmp(w, "--")) {
			a->dashdash = true;
			return i + 1;
		}
		if (w[0] != '-' || !w[1])
			return i; /* the first target */
		if (w[1] == '-') {
			const char *name = w + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *arg = eq ? eq + 1 : NULL;

			op = find_long(name, len);
			if (!op)
				return ctw_err_setx(err, EINVAL, "unknown option '--%.*s'",
						    (int)len, name);
			if (op->arg && !arg) {
				if (i + 1 >= argc)
					return ctw_err_setx(err, EINVAL, "--%s needs a value",
							    op->lng);
				arg = argv[++i];
			} else if (!op->arg && arg) {
				return ctw_err_setx(err, EINVAL, "--%s takes no value", op->lng);
			}
			rc = apply(a, op, arg, err);
			if (rc < 0)
				return rc;
			continue;
		}
		/* bundled short options: -fftt, -s64, -e open */
		for (const char *c = w + 1; *c; c++) {
			const char *arg = NULL;

			op = find_short(*c);
			if (!op)
				return ctw_err_setx(err, EINVAL, "unknown option '-%c'", *c);
			if (op->arg) {
				if (c[1]) {
					arg = c + 1;
				} else if (i + 1 < argc) {
					arg = argv[++i];
				} else {
					return ctw_err_setx(err, EINVAL, "-%c needs a value", *c);
				}
			}
			rc = apply(a, op, arg, err);
			if (rc < 0)
				return rc;
			if (arg)
				break;
		}
	}
	return i;
}

int ctw_trace_args_finish(struct ctw_trace_args *a, struct ctw_err *err)
{
	struct ctw_trace_opts *o = &a->o;

	if (o->summary && o->summary_too)
		o->summary = false; /* -C wins, as in strace */
	if (a->follow_forks >= 2 && !a->out_path)
		return ctw_err_setx(err, EINVAL, "-ff needs -o PREFIX");
	if (a->follow_forks >= 2 && (o->summary || o->json))
		return ctw_err_setx(err, EINVAL, "-ff cannot be combined with -c or --json");
	if (o->record_path && (a->replay || o->summary || a->follow_forks >= 2))
		return ctw_err_setx(err, EINVAL,
				    "--record cannot be combined with --replay, -c or -ff");
	o->filter = a->sel.filter;
	o->signals = a->sel.signals;
	o->status = a->sel.status;
	o->quiet_exit = a->sel.quiet & CTW_QUIET_EXIT;
	o->pids = a->pids;
	o->npids = a->npids;
	if (a->follow_forks >= 2)
		o->ff_prefix = a->out_path;
	/* strace -f: "PID " in a file, "[pid PID] " on a terminal */
	o->prefix = a->out_path ? CTW_PFX_FILE : CTW_PFX_BRACKET;
	return 0;
}
