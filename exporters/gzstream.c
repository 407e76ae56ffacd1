// SPDX-License-Identifier: Apache-2.0
/*
 * gzip of a text while it is being written: a worker thread compresses a
 * file (the builder's memfd, ctw_metrics_take_fd) as it grows, so that a
 * scrape asking for gzip of a text that changed nearly everywhere (where
 * the gzip cache's units do not pay) waits for the build, not for the
 * build and then the gzip.  On this 2-core VM the deflate of 1 000
 * containers' text (4.6 MB, zlib level 1) took ~19 ms after a ~30 ms build;
 * alongside it, only the build's last 64 KiB remain at the end.
 *
 * One worker, started with the stream object and kept (its zlib state and
 * buffers stay warm); one stream at a time (the HTTP server's lock).  The
 * builder says how far its file is written (ctw_gzstream_grow, from its
 * drain hook); the worker reads what is new with pread, from its own dup
 * of the fd, and deflates it; ctw_gzstream_finish waits for the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <zlib.h>

#include "exporters.h"
#include "../lib/lib.h"

#define CHUNK (64u << 10)

struct ctw_gzstream {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* work for the worker, or quit */
	pthread_cond_t done; /* the stream is finished */
	bool quit;
	/* the stream, under `lock` */
	bool active;
	int fd;	       /* our dup of the text's fd, -1 before the first grow */
	size_t avail;  /* bytes of it written so far */
	bool complete; /* avail is the whole text */
	bool finished; /* the worker is done with it (err says how) */
	int err;
	/* the worker's while the stream is active and not finished */
	z_stream zs;
	size_t consumed; /* bytes deflated */
	char *in;
	struct ctw_outbuf out;
};

/* Deflate fd[consumed, upto), with the gzip trailer when last. */
static int deflate_range(struct ctw_gzstream *g, int fd, size_t upto, bool last)
{
	for (;;) {
		size_t want = upto - g->consumed < CHUNK ? upto - g->consumed : CHUNK;
		ssize_t n = want ? pread(fd, g->in, want, (off_t)g->consumed) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (want && !n))
			return n < 0 ? -errno : -EIO;
		g->consumed += (size_t)n;
		bool fin = last && g->consumed == upto;
		if (!n && !fin)
			return 0;
		g->zs.next_in = (Bytef *)g->in;
		g->zs.avail_in = (uInt)n;
		int rc;
		do {
			ctw_outbuf_reserve(&g->out, CHUNK);
			uInt room = (uInt)(g->out.cap - g->out.len - 1);
			g->zs.next_out = (Bytef *)g->out.buf + g->out.len;
			g->zs.avail_out = room;
			rc = deflate(&g->zs, fin ? Z_FINISH : Z_NO_FLUSH);
			g->out.len += room - g->zs.avail_out;
			if (rc == Z_STREAM_ERROR)
				return -EIO;
		} while (g->zs.avail_in || !g->zs.avail_out || (fin && rc != Z_STREAM_END));
		if (fin)
			return 0;
	}
}

static void *worker(void *arg)
{
	struct ctw_gzstream *g = arg;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (!g->quit && (!g->active || g->finished || g->fd < 0 ||
				    (g->consumed == g->avail && !g->complete)))
			pthread_cond_wait(&g->wake, &g->lock);
		if (g->quit)
			break;
		int fd = g->fd;
		size_t upto = g->avail;
		bool last = g->complete;
		pthread_mutex_unlock(&g->lock);
		int rc = deflate_range(g, fd, upto, last);
		pthread_mutex_lock(&g->lock);
		if (rc || last) {
			g->err = rc;
			g->finished = true;
			pthread_cond_signal(&g->done);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct ctw_gzstream *ctw_gzstream_new(void)
{
	struct ctw_gzstream *g = xcalloc(1, sizeof(*g));
	g->fd = -1;
	g->out = CTW_OUTBUF_MEM;
	/* level 1 and a 32 KiB window, as ctw_gzip; memLevel 6: a window
	 * slide also walks the hash heads, 8 K of them instead of 32 K */
	if (deflateInit2(&g->zs, 1, Z_DEFLATED, 15 + 16, 6, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return NULL;
	}
	g->in = xmalloc(CHUNK);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	pthread_cond_init(&g->done, NULL);
	if (pthread_create(&g->thread, NULL, worker, g)) {
		deflateEnd(&g->zs);
		free(g->in);
		free(g);
		return NULL;
	}
	return g;
}

void ctw_gzstream_free(struct ctw_gzstream *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->quit = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	deflateEnd(&g->zs);
	if (g->fd >= 0)
		close(g->fd);
	free(g->in);
	free(g->out.buf);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->wake);
	pthread_cond_destroy(&g->done);
	free(g);
}

int ctw_gzstream_begin(struct ctw_gzstream *g)
{
	pthread_mutex_lock(&g->lock);
	int rc = g->active ? -EBUSY : deflateReset(&g->zs) == Z_OK ? 0 : -EIO;
	if (!rc) {
		g->active = true;
		g->avail = g->consumed = 0;
		g->complete = g->finished = false;
		g->err = 0;
		g->out.len = 0;
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* Take our own reference to the text's file (its first grow, or its
 * finish when it never grew).  Lock held. */
static void hold(struct ctw_gzstream *g, int fd)
{
	g->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (g->fd < 0) {
		g->err = -errno;
		g->finished = true;
	}
}

void ctw_gzstream_grow(struct ctw_gzstream *g, int fd, size_t len)
{
	pthread_mutex_lock(&g->lock);
	if (g->active && !g->complete && !g->finished) {
		if (g->fd < 0)
			hold(g, fd);
		g->avail = len;
		pthread_cond_signal(&g->wake);
	}
	pthread_mutex_unlock(&g->lock);
}

static bool same_file(int a, int b)
{
	struct stat x, y;
	return !fstat(a, &x) && !fstat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int ctw_gzstream_finish(struct ctw_gzstream *g, int fd, size_t len, char **out, size_t *outlen)
{
	pthread_mutex_lock(&g->lock);
	if (!g->active) {
		pthread_mutex_unlock(&g->lock);
		return -EINVAL;
	}
	/* The text ended in another file than the one streamed (the builder
	 * joined a family declared again into a second memfd), or the build
	 * failed: let the worker end what it has, and say so. */
	bool other = fd < 0 || (g->fd >= 0 && !same_file(g->fd, fd));
	if (g->fd < 0 && !other && !g->finished)
		hold(g, fd);
	if (!other)
		g->avail = len;
	g->complete = true;
	pthread_cond_signal(&g->wake);
	while (!g->finished && g->fd >= 0)
		pthread_cond_wait(&g->done, &g->lock);
	int rc = other ? -EXDEV : g->err;
	if (!rc) {
		*outlen = g->out.len;
		*out = ctw_outbuf_take(&g->out);
	}
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->active = false;
	pthread_mutex_unlock(&g->lock);
	return rc;
}
