// SPDX-License-Identifier: Apache-2.0
/*
 * The block memo of the metrics builder (metrics.c): each block's lines of
 * the last text, kept for the next, under the block's id and the signature
 * its collector gave of what the lines are made of.  A block whose
 * signature did not change is copied from here instead of being built
 * again: with 1 000 containers most of a scrape's ~40 000 series are of
 * containers that did nothing since the last scrape.
 *
 * Each block has a region of one buffer: its series' hashes and costs,
 * then its lines front-coded (each line as the length it shares with the
 * block's first line, then the rest): the lines of a block share the
 * family name and the container's labels, ~80 of their ~100 bytes, so the
 * memo is about a quarter of the text.  (Shared with the first line, kept
 * whole here, not with the line before: copying from the line just
 * written made the copy cost as much as building the line.)  A block built again is written
 * over its region when it fits (a little room is left for counters that
 * gain digits), else at the end; regions of blocks that left the text are
 * reclaimed by compacting once they are as big as the rest.  So a steady
 * state allocates nothing: fresh pages cost this VM more than the copies
 * (a memo in two generations, allocated anew for every text, made a build
 * slower than building every block).
 */
#include <stdlib.h>
#include <string.h>

#include "exporters.h"
#include "../lib/lib.h"

struct ent {
	uint64_t id, sig;
	uint64_t gen; /* the last text it is in */
	/* its region: nh hashes, nh costs (unless all are 1: ones), then
	 * its lines, front-coded (len bytes; tlen as text) */
	uint32_t off, room;
	uint32_t len, tlen;
	uint32_t nh, nseries;
	bool ones;
};

struct ctw_blockmemo {
	struct ent *ents;
	size_t n, cap;
	uint32_t *idx; /* open addressing over ids: entry index + 1; 0 empty */
	size_t idxcap;
	char *buf; /* the regions */
	size_t used, size;
	uint64_t gen;		 /* the text being built */
	struct ctw_outbuf lines; /* a block's lines being front-coded */
};

struct ctw_blockmemo *ctw_blockmemo_new(void)
{
	struct ctw_blockmemo *bm = xcalloc(1, sizeof(*bm));
	bm->gen = 1;
	bm->lines = CTW_OUTBUF_MEM;
	return bm;
}

void ctw_blockmemo_free(struct ctw_blockmemo *bm)
{
	if (!bm)
		return;
	free(bm->ents);
	free(bm->idx);
	free(bm->buf);
	free(bm->lines.buf);
	free(bm);
}

void ctw_blockmemo_turn(struct ctw_blockmemo *bm)
{
	bm->gen++;
}

static size_t slot_of(uint64_t id, size_t cap)
{
	id ^= id >> 31;
	id *= 0x9e3779b97f4a7c15ull;
	return (size_t)(id >> 17) & (cap - 1);
}

static void index_ent(struct ctw_blockmemo *bm, size_t i)
{
	size_t j = slot_of(bm->ents[i].id, bm->idxcap);
	while (bm->idx[j])
		j = (j + 1) & (bm->idxcap - 1);
	bm->idx[j] = (uint32_t)(i + 1);
}

static void reindex(struct ctw_blockmemo *bm, size_t cap)
{
	free(bm->idx);
	bm->idxcap = cap;
	bm->idx = xcalloc(cap, sizeof(*bm->idx));
	for (size_t i = 0; i < bm->n; i++)
		index_ent(bm, i);
}

static struct ent *lookup(const struct ctw_blockmemo *bm, uint64_t id)
{
	if (!bm->idxcap)
		return NULL;
	for (size_t j = slot_of(id, bm->idxcap); bm->idx[j]; j = (j + 1) & (bm->idxcap - 1))
		if (bm->ents[bm->idx[j] - 1].id == id)
			return &bm->ents[bm->idx[j] - 1];
	return NULL;
}

static struct ent *new_ent(struct ctw_blockmemo *bm, uint64_t id)
{
	if (bm->n == bm->cap) {
		bm->cap += bm->cap / 4 + 256;
		bm->ents = xrealloc(bm->ents, bm->cap * sizeof(*bm->ents));
	}
	if ((bm->n + 1) * 2 > bm->idxcap)
		reindex(bm, bm->idxcap ? bm->idxcap * 2 : 512);
	struct ent *e = &bm->ents[bm->n++];
	*e = (struct ent){.id = id};
	index_ent(bm, bm->n - 1);
	return e;
}

static void put_varint(struct ctw_outbuf *b, size_t v)
{
	while (v >= 0x80) {
		ctw_outbuf_putc(b, (char)(v | 0x80));
		v >>= 7;
	}
	ctw_outbuf_putc(b, (char)v);
}

static size_t get_varint(const unsigned char **p)
{
	size_t v = 0;
	for (int s = 0;; s += 7) {
		unsigned char c = *(*p)++;
		v |= (size_t)(c & 0x7f) << s;
		if (!(c & 0x80))
			return v;
	}
}

/* text's lines, front-coded into bm->lines */
static void encode(struct ctw_blockmemo *bm, const char *text, size_t len)
{
	struct ctw_outbuf *b = &bm->lines;
	const char *first = NULL;
	size_t first_len = 0;
	b->len = 0;
	for (size_t o = 0; o < len;) {
		const char *line = text + o;
		const char *nl = memchr(line, '\n', len - o);
		size_t ll = nl ? (size_t)(nl - line) + 1 : len - o;
		size_t shared = 0;
		while (shared < first_len && shared < ll && first[shared] == line[shared])
			shared++;
		put_varint(b, shared);
		put_varint(b, ll - shared);
		ctw_outbuf_putn(b, line + shared, ll - shared);
		if (!first) {
			first = line;
			first_len = ll;
		}
		o += ll;
	}
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

void ctw_blockmemo_put(struct ctw_blockmemo *bm, uint64_t id, uint64_t sig, const char *text,
		       size_t len, const uint64_t *hashes, const uint32_t *costs, size_t nh)
{
	size_t nseries = 0;
	for (size_t i = 0; i < nh; i++)
		nseries += costs[i];
	bool ones = nseries == nh;
	size_t admits = nh * (sizeof(*hashes) + (ones ? 0 : sizeof(*costs)));
	if (len > UINT32_MAX / 4 || admits > UINT32_MAX / 4 || bm->used > UINT32_MAX / 2)
		return; /* never in a scrape: not kept */
	encode(bm, text, len);
	size_t need = align8(admits + bm->lines.len);
	struct ent *e = lookup(bm, id);
	if (!e)
		e = new_ent(bm, id);
	if (e->room < need) {
		/* at the end, with a little room for counters gaining digits */
		size_t room = align8(need + need / 16 + 8);
		if (bm->used + room > bm->size) {
			bm->size = bm->used + room + (bm->used + room) / 8;
			bm->buf = xrealloc(bm->buf, bm->size);
		}
		e->off = (uint32_t)bm->used;
		e->room = (uint32_t)room;
		bm->used += room;
	}
	char *r = bm->buf + e->off;
	memcpy(r, hashes, nh * sizeof(*hashes));
	if (!ones)
		memcpy(r + nh * sizeof(*hashes), costs, nh * sizeof(*costs));
	memcpy(r + admits, bm->lines.buf, bm->lines.len);
	e->sig = sig;
	e->gen = bm->gen;
	e->len = (uint32_t)bm->lines.len;
	e->tlen = (uint32_t)len;
	e->nh = (uint32_t)nh;
	e->nseries = (uint32_t)nseries;
	e->ones = ones;
}

/* Where a block's lines start in its region. */
static size_t lines_at(const struct ent *e)
{
	return e->nh * (sizeof(uint64_t) + (e->ones ? 0 : sizeof(uint32_t)));
}

const struct ctw_blockmemo_ent *ctw_blockmemo_find(const struct ctw_blockmemo *bm, uint64_t id,
						   uint64_t sig)
{
	const struct ent *e = lookup(bm, id);
	if (!e || e->gen + 1 != bm->gen || e->sig != sig)
		return NULL;
	return (const struct ctw_blockmemo_ent *)e;
}

size_t ctw_blockmemo_admits(const struct ctw_blockmemo *bm, const struct ctw_blockmemo_ent *be,
			    const uint64_t **hashes, const uint32_t **costs, size_t *nseries)
{
	const struct ent *e = (const struct ent *)be;
	const char *r = bm->buf + e->off;
	*hashes = (const uint64_t *)r;
	*costs = e->ones ? NULL : (const uint32_t *)(r + e->nh * sizeof(uint64_t));
	*nseries = e->nseries;
	return e->nh;
}

void ctw_blockmemo_text(const struct ctw_blockmemo *bm, const struct ctw_blockmemo_ent *be,
			struct ctw_outbuf *out)
{
	const struct ent *e = (const struct ent *)be;
	ctw_outbuf_reserve(out, e->tlen);
	const unsigned char *p = (const unsigned char *)bm->buf + e->off + lines_at(e);
	const unsigned char *end = p + e->len, *first = NULL;
	char *w = out->buf + out->len;
	while (p < end) {
		size_t shared = get_varint(&p), rest = get_varint(&p);
		if (!first)
			first = p; /* whole: shares nothing */
		memcpy(w, first, shared);
		memcpy(w + shared, p, rest);
		w += shared + rest;
		p += rest;
	}
	out->len += e->tlen;
}

void ctw_blockmemo_keep(struct ctw_blockmemo *bm, const struct ctw_blockmemo_ent *be)
{
	((struct ent *)be)->gen = bm->gen;
}

void ctw_blockmemo_settle(struct ctw_blockmemo *bm)
{
	size_t live = 0, n = 0;
	for (size_t i = 0; i < bm->n; i++)
		if (bm->ents[i].gen == bm->gen)
			live += bm->ents[i].room;
	/* room of blocks gone from the text or moved: reclaimed once it is a
	 * ninth of the whole (and worth a copy) */
	if (bm->used <= live + live / 8 + (64u << 10))
		return;
	char *buf = xmalloc(live ? live : 1);
	size_t used = 0;
	for (size_t i = 0; i < bm->n; i++) {
		struct ent *e = &bm->ents[i];
		if (e->gen != bm->gen)
			continue;
		memcpy(buf + used, bm->buf + e->off, e->room);
		e->off = used;
		used += e->room;
		bm->ents[n++] = *e;
	}
	free(bm->buf);
	bm->buf = buf;
	bm->used = bm->size = used;
	bm->n = n;
	size_t cap = 512;
	while (cap < 2 * (n + 1))
		cap *= 2;
	reindex(bm, cap);
}

size_t ctw_blockmemo_bytes(const struct ctw_blockmemo *bm)
{
	return bm->size + bm->cap * sizeof(struct ent) + bm->idxcap * sizeof(uint32_t) +
	       bm->lines.cap;
}
