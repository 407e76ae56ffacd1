// SPDX-License-Identifier: Apache-2.0
/*
 * Logs of detached containers, in the CRI log format (what containerd and
 * CRI-O write for Kubernetes), one entry a line:
 *
 *   2026-11-29T16:10:00.123456789Z stdout F a full line
 *   2026-11-29T16:10:00.123501000Z stderr P the start of a line, then
 *   2026-11-29T16:10:00.200000000Z stderr F  its end
 *
 * The container's stdout and stderr are two pipes the monitor reads; each
 * read becomes entries: one per complete line (F) and, for a trailing piece
 * without a newline, a partial one (P) that the next entries of the same
 * stream continue.  The monitor reads both pipes in one poll loop, so the
 * file keeps the order in which the two streams wrote, except for output
 * of both that waits in the pipes at once: then a ready pipe is drained
 * (up to 1 MiB, stdout first) before the other.  With -t the pty's output
 * is stdout, as in Docker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "internal.h"

static const char *const stream_names[] = {
	[CTW_LOG_STDOUT] = "stdout", [CTW_LOG_STDERR] = "stderr"};

int log_open(struct log_writer *w, const char *id, bool tty, struct ctw_err *err)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	*w = (struct log_writer){.fd = -1, .out = -1, .err = -1, .saved = {-1, -1}};
	char *path = ctw_container_log_path(id);
	w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	struct stat st;
	if (w->fd < 0 || fstat(w->fd, &st) < 0) {
		int e = errno;
		ctw_err_set(err, e, "open %s", path);
		free(path);
		log_close(w);
		return -e;
	}
	free(path);
	w->size = (uint64_t)st.st_size;
	if (tty) /* the pty is the container's stdio */
		return 0;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		goto fail;
	/* The container inherits our stdout and stderr: the pipes, until
	 * log_started() gives us ours back. */
	w->saved[0] = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	w->saved[1] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (w->saved[0] < 0 || w->saved[1] < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
	    dup2(errp[1], STDERR_FILENO) < 0)
		goto fail;
	close(out[1]);
	close(errp[1]);
	/* Our ends only: the container's write ends stay blocking. */
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	w->out = out[0];
	w->err = errp[0];
	return 0;
fail:;
	int e = errno;
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	log_started(w);
	log_close(w);
	return ctw_err_set(err, e, "log pipes");
}

void log_started(struct log_writer *w)
{
	for (int i = 0; i < 2; i++) {
		if (w->saved[i] < 0)
			continue;
		dup2(w->saved[i], STDOUT_FILENO + i);
		close(w->saved[i]);
		w->saved[i] = -1;
	}
}

void log_close(struct log_writer *w)
{
	int *fds[] = {&w->fd, &w->out, &w->err};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Entries are gathered and written with one write per 64 KiB: the reader
 * takes whole lines only, so a batch needs no atomicity. */
struct batch {
	struct log_writer *w;
	size_t len;
	char buf[65536];
};

/* Write the batch.  What the file does not take (a full disk) is lost, but
 * counted (entries end with a newline), and a line cut short is cut off
 * the file again, so that it stays whole lines; the container goes on. */
static void flush(struct batch *b)
{
	struct log_writer *w = b->w;
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(w->fd, b->buf + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->lost_errno = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	if (off < b->len) {
		size_t whole = off;
		while (whole > 0 && b->buf[whole - 1] != '\n')
			whole--;
		if (whole < off && ftruncate(w->fd, (off_t)(w->size + whole)) == 0)
			off = whole;
		for (size_t i = off; i < b->len; i++)
			w->lost_entries += b->buf[i] == '\n';
		w->lost_bytes += b->len - off;
	}
	w->size += off;
	b->len = 0;
}

static void put(struct batch *b, const char *p, size_t n)
{
	while (n) {
		if (b->len == sizeof(b->buf))
			flush(b);
		size_t k = sizeof(b->buf) - b->len;
		if (k > n)
			k = n;
		memcpy(b->buf + b->len, p, k);
		b->len += k;
		p += k;
		n -= k;
	}
}

/* A loss goes to the state at once, then at most once a second (and at
 * the container's exit): `logs` and `inspect` report it. */
static void record_loss(struct log_writer *w)
{
	uint64_t now = ctw_now_ns();
	if (!w->state || (w->saved_ns && now - w->saved_ns < 1000000000ull))
		return;
	w->saved_ns = now;
	log_loss_to_state(w, w->state);
	ctw_state_save(w->state, NULL);
}

void log_loss_to_state(const struct log_writer *w, struct ctw_state *s)
{
	s->log_lost_entries = w->lost_entries;
	s->log_lost_bytes = w->lost_bytes;
	ctw_strlcpy(s->log_lost_error, w->lost_entries ? strerror(w->lost_errno) : "",
		    sizeof(s->log_lost_error));
}

void log_write(struct log_writer *w, int stream, const char *buf, size_t n)
{
	static struct batch b; /* the monitor is single-threaded */
	struct timespec now;
	struct tm tm;
	char sec[32], head[80];
	uint64_t lost = w->lost_entries;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	int hl = snprintf(head, sizeof(head), "%s.%09ldZ %s X ", sec, now.tv_nsec,
			  stream_names[stream]);
	b.w = w;
	b.len = 0;
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) : n;
		head[hl - 2] = nl ? 'F' : 'P';
		put(&b, head, (size_t)hl);
		put(&b, buf, len);
		put(&b, "\n", 1);
		len += nl ? 1 : 0;
		buf += len;
		n -= len;
	}
	flush(&b);
	if (w->lost_entries != lost)
		record_loss(w);
}

bool log_copy(struct log_writer *w, int fd, int stream)
{
	/* The pipes (non-blocking) are drained, up to 1 MiB a call: when we
	 * fell behind, a stream's backlog goes to the log before the other
	 * stream's later output.  The pty master is read once. */
	int rounds = fd == w->out || fd == w->err ? 64 : 1;
	char buf[16384];
	for (int i = 0; i < rounds; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return errno == EINTR || errno == EAGAIN;
		if (n == 0)
			return false;
		log_write(w, stream, buf, (size_t)n);
		if ((size_t)n < sizeof(buf))
			break;
	}
	return true;
}

int ctw_log_parse(const char *line, size_t len, struct ctw_log_entry *e)
{
	const char *end = line + len;
	const char *sp = memchr(line, ' ', len);
	if (!sp || sp == line || sp[-1] != 'Z')
		return -EINVAL;
	e->ts = line;
	e->ts_len = (size_t)(sp - line);
	const char *p = sp + 1;
	e->stream = -1;
	for (int s = CTW_LOG_STDOUT; s <= CTW_LOG_STDERR; s++) {
		size_t l = strlen(stream_names[s]);
		if ((size_t)(end - p) > l && !memcmp(p, stream_names[s], l) && p[l] == ' ') {
			e->stream = s;
			p += l + 1;
		}
	}
	if (e->stream < 0 || end - p < 2 || (p[0] != 'P' && p[0] != 'F') || p[1] != ' ')
		return -EINVAL;
	e->partial = p[0] == 'P';
	e->msg = p + 2;
	e->msg_len = (size_t)(end - e->msg);
	return 0;
}
