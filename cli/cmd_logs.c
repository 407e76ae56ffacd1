// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch logs: output of detached containers, the container's stdout on
 * our stdout and its stderr on our stderr, in the order written.  The log
 * is in the CRI format (see runtime/runtime.h); a line not in it (a log of
 * an older ctrwatch) is printed as is, on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct logs_args {
	bool follow, timestamps;
	long long tail; /* -1: all */
};

static int parse_tail(const char *s, void *field, char *why, size_t whylen)
{
	long long *n = field;
	uint64_t v;

	if (!strcmp(s, "all")) {
		*n = -1;
		return 0;
	}
	if (ctw_parse_u64(s, 0, 1ull << 62, &v)) {
		snprintf(why, whylen, "a number of lines or \"all\"");
		return -1;
	}
	*n = (long long)v;
	return 0;
}

static const struct ctw_opt logs_opts[] = {
	{.name = "follow",
	 .short_name = 'f',
	 .kind = CTW_OPT_FLAG,
	 .help = "keep printing new output until the container exits",
	 .off = offsetof(struct logs_args, follow)},
	{.name = "timestamps",
	 .short_name = 't',
	 .kind = CTW_OPT_FLAG,
	 .help = "start each line with the time it was written\n(RFC 3339, UTC, nanoseconds)",
	 .off = offsetof(struct logs_args, timestamps)},
	{.name = "tail",
	 .short_name = 'n',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "N",
	 .help = "only the last N lines (\"all\", the default, for all)",
	 .off = offsetof(struct logs_args, tail),
	 .parse = parse_tail},
	{0},
};

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
	      "Output the log could not take (a full disk) is counted, and a line on\n"
	      "stderr says how much was lost (inspect: log_lost_entries, log_lost_bytes).\n"
	      "\n",
	      out);
	ctw_opts_print(out, logs_opts);
	fputs("\n"
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
	/* counting pass of --tail N: the last N line starts, a ring */
	bool count_only;
	size_t *ring, nring, cap, want, nlines;
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
		if (first && p->want) {
			if (p->nring < p->want && p->nring == p->cap) {
				p->cap = p->cap ? 2 * p->cap : 1024;
				if (p->cap > p->want)
					p->cap = p->want;
				p->ring = xrealloc(p->ring, p->cap * sizeof(*p->ring));
			}
			p->ring[p->nlines % p->want] = off;
			if (p->nring < p->want)
				p->nring++;
		}
		p->nlines += first;
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

/* Reads the log in chunks from an offset, keeping an unfinished line. */
struct reader {
	int fd;
	size_t off; /* file offset of buf[0] */
	char *buf;
	size_t len, cap;
};

/* Read what is there now and feed its whole lines; false at EOF. */
static bool read_more(struct reader *r, struct printer *p)
{
	if (r->cap - r->len < 65536) {
		r->cap = r->cap ? 2 * r->cap : 262144;
		r->buf = xrealloc(r->buf, r->cap);
	}
	ssize_t n;
	do
		n = pread(r->fd, r->buf + r->len, r->cap - r->len, (off_t)(r->off + r->len));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;
	r->len += (size_t)n;
	size_t used = feed(p, r->buf, r->len, r->off);
	memmove(r->buf, r->buf + used, r->len - used);
	r->len -= used;
	r->off += used;
	fflush(stdout);
	fflush(stderr);
	return true;
}

static int cmd_logs(int argc, char **argv)
{
	struct logs_args a = {.tail = -1};
	struct printer p = {0};
	int first = ctw_opts_parse("logs", logs_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	bool follow = a.follow;
	long long tail = a.tail;
	p.timestamps = a.timestamps;
	if (first != argc - 1)
		return ctw_cmd_usage_error("logs", "logs: one CONTAINER is required");
	struct ctw_state s;
	struct ctw_err err = {0};
	if (ctw_state_find(argv[first], &s, &err)) {
		fprintf(stderr, "ctrwatch: %s: %s\n", argv[0], err.msg);
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

	/* --tail: a first pass finds where the last N lines start. */
	if (tail >= 0) {
		struct printer count = {.count_only = true, .want = (size_t)tail};
		struct reader cr = {.fd = fd};
		while (read_more(&cr, &count))
			;
		if (tail == 0)
			p.from = cr.off;
		else if (count.nlines > (size_t)tail)
			p.from = count.ring[count.nlines % count.want];
		free(count.ring);
		free(cr.buf);
	}
	struct reader rd = {.fd = fd};
	while (read_more(&rd, &p))
		;
	while (follow) {
		bool alive = ctw_state_init_alive(&s) || ctw_state_monitor_alive(&s);
		/* Read after the check: what a monitor wrote before it exited
		 * is read before we stop. */
		if (read_more(&rd, &p))
			continue;
		if (!alive)
			break;
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
	}
	free(rd.buf);
	close(fd);
	/* What the log could not take (a full disk): said, not hidden.  The
	 * state as it is now (the monitor records losses as they happen). */
	char id[65];
	ctw_strlcpy(id, s.id, sizeof(id));
	ctw_state_fini(&s);
	if (ctw_state_load(id, &s, NULL) == 0) {
		if (s.log_lost_entries)
			fprintf(stderr,
				"ctrwatch: %llu log entries (%llu bytes) of %s were lost: the log "
				"could not take them (%s)\n",
				(unsigned long long)s.log_lost_entries,
				(unsigned long long)s.log_lost_bytes, s.name, s.log_lost_error);
		ctw_state_fini(&s);
	}
	return CTW_EXIT_OK;
}

CTW_COMMAND(logs, .name = "logs", .summary = "print a detached container's output",
	    .order = CTW_ORDER_RUNTIME + 30, .fn = cmd_logs, .usage = logs_usage)
