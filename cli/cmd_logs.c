// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch logs: output of detached containers, the container's stdout on
 * our stdout and its stderr on our stderr, in the order written.  The log
 * is in the CRI format (see runtime/runtime.h); a line not in it (a log of
 * an older ctrwatch) is printed as is, on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void logs_usage(FILE *out)
{
	fputs("Usage: ctrwatch logs [-f] [-t] [-n N] CONTAINER\n"
	      "\n"
	      "Print what a detached container wrote: its stdout on stdout and its stderr on\n"
	      "stderr, in the order it wrote them (as `docker logs`).  Foreground containers\n"
	      "write to the terminal instead and have no log.  A container run with a\n"
	      "terminal (run -t) has one stream, logged as stdout.\n"
	      "\n"
	      "The log is ROOT/containers/ID/container.log (ROOT: CTRWATCH_ROOT), in the CRI\n"
	      "log format: one entry a line, `TIMESTAMP STREAM P|F MESSAGE`, TIMESTAMP in\n"
	      "RFC 3339 UTC with nanoseconds, STREAM stdout or stderr, F for the last (or\n"
	      "only) piece of a line and P for a piece the next entries continue.\n"
	      "\n"
	      "Options:\n"
	      "  -f, --follow       keep printing new output until the container exits\n"
	      "  -t, --timestamps   start each line with the time it was written\n"
	      "                     (RFC 3339, UTC, nanoseconds)\n"
	      "  -n, --tail N       only the last N lines (\"all\", the default, for all)\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch logs web\n"
	      "  ctrwatch logs -f --tail 10 web\n"
	      "  ctrwatch logs -t web 2>/dev/null      # stdout only, with times\n",
	      out);
}

struct printer {
	bool timestamps;
	int last;	 /* stream written last: flushed when the other one writes */
	size_t from;	 /* print lines starting at or after this offset */
	size_t start[3]; /* offset where each stream's current line started */
	bool mid[3];	 /* inside a line (after a partial entry) */
	size_t *starts;	 /* with count_only: offsets of every line start */
	size_t nstarts, cap;
	bool count_only;
};

static void entry(struct printer *p, const char *line, size_t len, size_t off)
{
	struct ctw_log_entry e;
	if (ctw_log_parse(line, len, &e)) {
		/* not ours: a whole line of stdout, without a time */
		e = (struct ctw_log_entry){.stream = CTW_LOG_STDOUT, .msg = line, .msg_len = len};
	}
	int s = e.stream;
	bool first = !p->mid[s];
	if (first)
		p->start[s] = off;
	p->mid[s] = e.partial;
	if (p->count_only) {
		if (first) {
			if (p->nstarts == p->cap) {
				p->cap = p->cap ? 2 * p->cap : 1024;
				p->starts = xrealloc(p->starts, p->cap * sizeof(*p->starts));
			}
			p->starts[p->nstarts++] = off;
		}
		return;
	}
	if (p->start[s] < p->from)
		return; /* the rest of a line before the tail */
	FILE *f = s == CTW_LOG_STDERR ? stderr : stdout;
	if (p->last != s && p->last)
		fflush(p->last == CTW_LOG_STDERR ? stderr : stdout);
	p->last = s;
	if (first && p->timestamps && e.ts)
		fprintf(f, "%.*s ", (int)e.ts_len, e.ts);
	fwrite(e.msg, 1, e.msg_len, f);
	if (!e.partial)
		fputc('\n', f);
}

/* Feed the complete lines of buf[0..n) at file offset off; returns how
 * many bytes were used (a last line without its newline is left). */
static size_t feed(struct printer *p, const char *buf, size_t n, size_t off)
{
	size_t used = 0;
	while (used < n) {
		const char *nl = memchr(buf + used, '\n', n - used);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (buf + used));
		entry(p, buf + used, len, off + used);
		used += len + 1;
	}
	return used;
}

static int parse_tail(const char *s, long long *n)
{
	if (!strcmp(s, "all")) {
		*n = -1;
		return 0;
	}
	uint64_t v;
	if (ctw_parse_u64(s, 0, 1ull << 62, &v))
		return -EINVAL;
	*n = (long long)v;
	return 0;
}

static int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"timestamps", no_argument, NULL, 't'},
		{"tail", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	bool follow = false;
	long long tail = -1;
	struct printer p = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ftn:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 't': p.timestamps = true; break;
		case 'n':
			if (parse_tail(optarg, &tail))
				return ctw_cmd_usage_error(
					"logs", "logs: --tail `%s`: a number of lines or \"all\"",
					optarg);
			break;
		default: return ctw_cmd_usage_error("logs", "logs: bad option");
		}
	}
	if (optind != argc - 1)
		return ctw_cmd_usage_error("logs", "logs: one CONTAINER is required");
	struct ctw_state s;
	struct ctw_err err = {0};
	if (ctw_state_find(argv[optind], &s, &err)) {
		fprintf(stderr, "ctrwatch: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	char *path = ctw_container_log_path(s.id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) { /* a foreground container: no log */
			free(path);
			ctw_state_fini(&s);
			return CTW_EXIT_OK;
		}
		fprintf(stderr, "ctrwatch: open %s: %s\n", path, strerror(errno));
		free(path);
		ctw_state_fini(&s);
		return CTW_EXIT_FAIL;
	}
	free(path);

	/* What is there now: read whole, find where the tail starts. */
	char *data = NULL;
	size_t size = 0, cap = 0;
	for (;;) {
		if (cap - size < 65536) {
			cap = cap ? 2 * cap : 65536;
			data = xrealloc(data, cap);
		}
		ssize_t n = read(fd, data + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size += (size_t)n;
	}
	if (tail >= 0) {
		p.count_only = true;
		feed(&p, data, size, 0);
		p.from = (unsigned long long)tail >= p.nstarts ? 0 : p.starts[p.nstarts - tail];
		if (tail == 0)
			p.from = size;
		free(p.starts);
		p = (struct printer){.timestamps = p.timestamps, .from = p.from};
	}
	size_t done = feed(&p, data, size, 0);
	/* A last entry still being written is read again when following. */
	size_t off = done;
	size_t pend = size - done;
	memmove(data, data + done, pend);
	fflush(stdout);
	fflush(stderr);
	bool alive = follow;
	while (alive) {
		alive = ctw_state_init_alive(&s) || ctw_state_monitor_alive(&s);
		if (cap - pend < 65536) {
			cap *= 2;
			data = xrealloc(data, cap);
		}
		ssize_t n = read(fd, data + pend, cap - pend);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			pend += (size_t)n;
			size_t used = feed(&p, data, pend, off);
			off += used;
			pend -= used;
			memmove(data, data + used, pend);
			fflush(stdout);
			fflush(stderr);
			alive = true; /* read until nothing is left */
			continue;
		}
		if (alive) {
			struct timespec ts = {0, 100000000};
			nanosleep(&ts, NULL);
		}
	}
	free(data);
	close(fd);
	ctw_state_fini(&s);
	return CTW_EXIT_OK;
}

CTW_COMMAND(logs, .name = "logs", .summary = "print a detached container's output",
	    .order = CTW_ORDER_RUNTIME + 30, .fn = cmd_logs, .usage = logs_usage)
