// SPDX-License-Identifier: Apache-2.0
/*
 * -ff -o PREFIX: one file PREFIX.TID per traced thread, as strace writes
 * them.  Each file gets its own buffer; a file is closed when its thread's
 * exit line is written, and the least recently used ones are closed (and
 * later reopened for appending) when too many are open at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"

#define FF_OPEN_MAX 64
#define FF_BUF 16384

struct ff_ent {
	uint32_t tid; /* 0: free */
	uint64_t used;
	bool created; /* opened once already: append from now on */
	struct ctw_outbuf out;
};

struct ctw_ffout {
	char *prefix;
	uint64_t clock;
	int error; /* first error, -errno */
	struct ff_ent ent[FF_OPEN_MAX];
	/* tids whose file exists, so a reopen appends instead of truncating */
	uint32_t *seen;
	size_t nseen, capseen;
};

struct ctw_ffout *ctw_ffout_new(const char *prefix)
{
	struct ctw_ffout *f = xcalloc(1, sizeof(*f));

	f->prefix = xstrdup(prefix);
	for (int i = 0; i < FF_OPEN_MAX; i++)
		f->ent[i].out.fd = -1;
	return f;
}

static void ent_close(struct ctw_ffout *f, struct ff_ent *e)
{
	if (!e->tid)
		return;
	ctw_outbuf_flush(&e->out);
	if (e->out.error && !f->error)
		f->error = e->out.error;
	close(e->out.fd);
	ctw_outbuf_fini(&e->out);
	memset(e, 0, sizeof(*e));
	e->out.fd = -1;
}

static bool seen(struct ctw_ffout *f, uint32_t tid)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (f->seen[i] == tid)
			return true;
	return false;
}

struct ctw_outbuf *ctw_ffout_get(struct ctw_ffout *f, uint32_t tid)
{
	struct ff_ent *e = NULL, *lru = &f->ent[0];
	_cleanup_free_ char *path = NULL;
	bool again;
	int fd;

	for (int i = 0; i < FF_OPEN_MAX; i++) {
		if (f->ent[i].tid == tid) {
			f->ent[i].used = ++f->clock;
			return &f->ent[i].out;
		}
		if (!f->ent[i].tid && !e)
			e = &f->ent[i];
		if (f->ent[i].used < lru->used)
			lru = &f->ent[i];
	}
	if (!e) {
		ent_close(f, lru);
		e = lru;
	}
	again = seen(f, tid);
	path = xasprintf("%s.%u", f->prefix, tid);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (again ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0 && !f->error)
		f->error = -errno;
	if (!again) {
		if (f->nseen == f->capseen) {
			f->capseen = f->capseen ? 2 * f->capseen : 64;
			f->seen = xrealloc(f->seen, f->capseen * sizeof(*f->seen));
		}
		f->seen[f->nseen++] = tid;
	}
	/* a file that cannot be opened still gets a buffer: its lines go
	 * nowhere (fd -1 keeps them in memory until the thread exits) */
	ctw_outbuf_init(&e->out, fd, FF_BUF);
	e->tid = tid;
	e->used = ++f->clock;
	return &e->out;
}

void ctw_ffout_done(struct ctw_ffout *f, uint32_t tid)
{
	for (int i = 0; i < FF_OPEN_MAX; i++)
		if (f->ent[i].tid == tid)
			ent_close(f, &f->ent[i]);
}

int ctw_ffout_flush(struct ctw_ffout *f)
{
	for (int i = 0; i < FF_OPEN_MAX; i++) {
		if (!f->ent[i].tid)
			continue;
		if (f->ent[i].out.fd < 0)
			f->ent[i].out.len = 0;
		else if (ctw_outbuf_flush(&f->ent[i].out) < 0 && !f->error)
			f->error = f->ent[i].out.error;
	}
	return f->error;
}

void ctw_ffout_free(struct ctw_ffout *f)
{
	if (!f)
		return;
	for (int i = 0; i < FF_OPEN_MAX; i++)
		ent_close(f, &f->ent[i]);
	free(f->seen);
	free(f->prefix);
	free(f);
}
