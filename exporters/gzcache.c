// SPDX-License-Identifier: Apache-2.0
/*
 * The gzip of /metrics, compressing only what changed since the last one.
 *
 * A scrape's text is cut into units at the builder's segment boundaries
 * (ctw_metrics_take_segments).  Each unit is compressed on its own, from a
 * fresh deflate state, as raw deflate flushed with Z_SYNC_FLUSH: a run of
 * non-final blocks that ends on a byte boundary and refers to nothing
 * before it.  Such runs can be concatenated in any order into one deflate
 * stream (what pigz does across threads), closed by an empty final block;
 * the gzip member's CRC-32 is combined from the units' (crc32_combine).
 * So a unit whose text is byte for byte what it was (same XXH3-64 and
 * length, under the same first segment) keeps its compressed bytes.  The
 * builder hashes each segment as it writes it (ctw_metrics_seg.hash): a
 * unit's hash is made of its segments', the text is not read again.
 *
 * Where the cuts fall decides what can be reused: a unit spanning a changed
 * and an unchanged block is compressed again whole.  Cuts never depend on
 * the text's size or content (a counter growing a digit must not move
 * them): a family's header starts a unit, and within the family a unit
 * ends before a segment whose id's low bits are zero, 1 in K, with K the
 * power of two that makes units of about UNIT_TARGET bytes given the
 * family's average segment (a family of one-line blocks groups ~100 of
 * them; one of 4 KB blocks compresses each alone).  Small units compress
 * worse and cost a deflate reset each; large ones are reused less.
 *
 * A stamped block (ctw_metrics_block_stamped) is always a unit of its
 * own, so a build may leave one that did not change out of its text
 * (ctw_metrics_seg.skipped): its unit is reused from here, as
 * ctw_gzcache_holds promised.  Offsets and lengths below are those of the
 * whole text (the exposition); only reading the text uses the offsets of
 * what was written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "exporters.h"
#include "../lib/lib.h"

#define UNIT_TARGET (8u << 10)
#define UNIT_MAX (256u << 10) /* a cut whatever the ids: bounds one unit's work */
#define K_MAX 1024u

struct unit {	       /* 40 bytes: ~3 000 of them at 1 000 containers */
	uint64_t key;  /* id of its first segment */
	uint64_t hash; /* XXH3-64 of its text */
	char *z;       /* raw deflate, non-final blocks, byte-aligned end */
	uint32_t len;  /* of its text (a gzip's ISIZE is 32 bits too) */
	uint32_t crc;  /* CRC-32 of its text */
	uint32_t zlen;
	/* crc32_combine_op's operator for len, made once per unit, not at
	 * every gzip: 2 000 crc32_combine calls cost ~1 ms */
	uint32_t op;
};

/* Units by key, open addressing (key 0 is remapped: never empty). */
struct unit_table {
	struct unit *slots;
	size_t cap, n;
};

struct ctw_gzcache {
	struct unit_table last;
	z_stream zs;
	bool zinit;
	size_t reused, compressed;
	/* units read from a text's fd land here; kept (warm) between calls
	 * up to SCRATCH_KEEP */
	char *scratch;
	size_t scratch_cap;
	/* a unit is deflated here, then copied to a buffer of its size (a
	 * buffer of deflateBound's size per unit, shrunk after, cost more) */
	char *zout;
	size_t zout_cap;
};

#define SCRATCH_KEEP (1u << 20)

/* A text in memory, or in a memfd read back only where a unit is
 * compressed again (most units of a steady scrape are reused). */
struct text_src {
	const char *mem;
	int fd;
	struct ctw_gzcache *c;
};

/* text[off, off + len), or NULL with *err set. */
static const char *src_read(const struct text_src *t, size_t off, size_t len, int *err)
{
	if (t->mem)
		return t->mem + off;
	struct ctw_gzcache *c = t->c;
	if (c->scratch_cap < len) {
		free(c->scratch);
		c->scratch_cap = len > 4096 ? len : 4096;
		c->scratch = xmalloc(c->scratch_cap);
	}
	for (size_t got = 0; got < len;) {
		ssize_t n = pread(t->fd, c->scratch + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = n < 0 ? -errno : -EIO;
			return NULL;
		}
		got += (size_t)n;
	}
	return c->scratch;
}

static uint64_t slot_key(uint64_t k)
{
	return k ? k : 1;
}

static struct unit *table_find(const struct unit_table *t, uint64_t key)
{
	if (!t->cap)
		return NULL;
	key = slot_key(key);
	for (size_t j = key & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
		if (!t->slots[j].key)
			return NULL;
		if (t->slots[j].key == key)
			return &t->slots[j];
	}
}

/* Insert (a second unit with the same key is kept too: found after the
 * first, never reused, freed with the table). */
static void table_add(struct unit_table *t, const struct unit *u)
{
	if ((t->n + 1) * 4 > t->cap * 3) { /* filled to 3/4 */
		struct unit_table nt = {.cap = t->cap ? t->cap * 2 : 256};
		nt.slots = xcalloc(nt.cap, sizeof(*nt.slots));
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].key)
				table_add(&nt, &t->slots[i]);
		free(t->slots);
		*t = nt;
	}
	size_t j = slot_key(u->key) & (t->cap - 1);
	while (t->slots[j].key)
		j = (j + 1) & (t->cap - 1);
	t->slots[j] = *u;
	t->slots[j].key = slot_key(u->key);
	t->n++;
}

static void table_free(struct unit_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].z);
	free(t->slots);
	*t = (struct unit_table){0};
}

struct ctw_gzcache *ctw_gzcache_new(void)
{
	return xcalloc(1, sizeof(struct ctw_gzcache));
}

void ctw_gzcache_free(struct ctw_gzcache *c)
{
	if (!c)
		return;
	table_free(&c->last);
	if (c->zinit)
		deflateEnd(&c->zs);
	free(c->scratch);
	free(c->zout);
	free(c);
}

void ctw_gzcache_stats(const struct ctw_gzcache *c, size_t *reused, size_t *compressed)
{
	*reused = c->reused;
	*compressed = c->compressed;
}

static int compress_unit(struct ctw_gzcache *c, const char *text, size_t len, struct unit *u)
{
	if (!c->zinit) {
		/* Level 1: a scrape is text with long repeated prefixes, the
		 * fastest level already shrinks it ~10x.  memLevel 6: a 16 KiB
		 * hash table, cleared at every unit's reset (the default's 64
		 * KiB cost more to clear than units of ~8 KiB gain from it). */
		if (deflateInit2(&c->zs, 1, Z_DEFLATED, -15, 6, Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		c->zinit = true;
	} else if (deflateReset(&c->zs) != Z_OK) {
		return -EIO;
	}
	/* deflateBound is for Z_FINISH; a sync flush adds an empty stored
	 * block (5 bytes) and up to a byte of padding. */
	size_t cap = deflateBound(&c->zs, len) + 16;
	if (c->zout_cap < cap) {
		free(c->zout);
		c->zout_cap = cap > 16384 ? cap : 16384;
		c->zout = xmalloc(c->zout_cap);
	}
	c->zs.next_in = (Bytef *)text;
	c->zs.avail_in = len;
	c->zs.next_out = (Bytef *)c->zout;
	c->zs.avail_out = cap;
	int rc = deflate(&c->zs, Z_SYNC_FLUSH);
	if (rc != Z_OK || c->zs.avail_in)
		return -EIO;
	u->zlen = cap - c->zs.avail_out;
	u->z = xmalloc(u->zlen ? u->zlen : 1);
	memcpy(u->z, c->zout, u->zlen);
	u->crc = crc32(0, (const Bytef *)text, len);
	u->op = crc32_combine_gen((z_off_t)len);
	return 0;
}

/* Where units end: cut[i] true when a unit starts at segment i.  voff:
 * the segments' offsets in the whole text, len its length. */
static void plan_cuts(const struct ctw_metrics_seg *segs, const size_t *voff, size_t nsegs,
		      size_t len, bool *cut)
{
	for (size_t i = 0; i < nsegs;) {
		/* one family: [i, j) */
		size_t j = i + 1;
		while (j < nsegs && !segs[j].family_start)
			j++;
		size_t end = j < nsegs ? voff[j] : len;
		size_t body = i + 1 < j ? end - voff[i + 1] : 0;
		size_t avg = i + 1 < j ? body / (j - i - 1) : 0;
		uint64_t k = 1;
		while (avg && k < K_MAX && (k * 2) * avg <= UNIT_TARGET)
			k *= 2;
		cut[i] = true;
		size_t start = voff[i];
		for (size_t s = i + 1; s < j; s++) {
			cut[s] = (XXH3_64bits(&segs[s].id, sizeof(segs[s].id)) & (k - 1)) == 0 ||
				 voff[s] - start >= UNIT_MAX || segs[s].own_unit ||
				 segs[s - 1].own_unit;
			if (cut[s])
				start = voff[s];
		}
		i = j;
	}
}

/* The hash of the unit of segments [i, j) ending at end: from the
 * segments' own hashes, taken by the builder while it wrote them (a pass
 * over the whole text here cost more than compressing what changed),
 * else from its text. */
static uint64_t unit_hash(const struct text_src *text, const struct ctw_metrics_seg *segs,
			  const size_t *voff, size_t i, size_t j, size_t end, int *err)
{
	uint64_t h = 0;
	for (size_t s = i; s < j; s++) {
		if (!segs[s].hash) {
			const char *p = src_read(text, segs[i].off, end - segs[i].off, err);
			return p ? XXH3_64bits(p, end - segs[i].off) : 0;
		}
		uint64_t v[2] = {segs[s].hash, voff[s] - voff[i]};
		h = XXH3_64bits_withSeed(v, sizeof(v), h);
	}
	return h;
}

/* The hash unit_hash gives a unit of one segment whose hash is h. */
static uint64_t one_seg_hash(uint64_t h)
{
	uint64_t v[2] = {h, 0};
	return XXH3_64bits_withSeed(v, sizeof(v), 0);
}

bool ctw_gzcache_holds(const struct ctw_gzcache *c, uint64_t id, uint64_t hash, size_t len)
{
	const struct unit *u = table_find(&c->last, id);
	return u && u->z && u->len == len && u->hash == one_seg_hash(hash);
}

static int compress_src(struct ctw_gzcache *c, const struct text_src *text, size_t len,
			const struct ctw_metrics_seg *segs, size_t nsegs, char **out,
			size_t *outlen)
{
	struct ctw_metrics_seg whole = {.id = 0, .off = 0, .family_start = true};
	if (!nsegs || segs[0].off != 0) {
		/* no segments (or text before the first): one unit */
		segs = &whole;
		nsegs = 1;
	}
	/* offsets in the whole text: the written ones plus what was left out
	 * before them */
	size_t *voff = xmalloc(nsegs * sizeof(*voff)), vlen = len;
	for (size_t i = 0, skipped = 0; i < nsegs; i++) {
		voff[i] = segs[i].off + skipped;
		skipped += segs[i].skipped;
		vlen = len + skipped;
	}
	bool *cut = xmalloc(nsegs * sizeof(*cut));
	plan_cuts(segs, voff, nsegs, vlen, cut);
	/* about as many units as the last text: no growing on the way */
	struct unit_table now = {.cap = 256};
	while (now.cap * 3 < 4 * (c->last.n + c->last.n / 8 + 1))
		now.cap *= 2;
	now.slots = xcalloc(now.cap, sizeof(*now.slots));
	size_t cap_order = c->last.n + c->last.n / 8 + 16, norder = 0, zsize = 0;
	struct unit *order = xmalloc(cap_order * sizeof(*order)); /* z borrowed */
	int err = 0;
	c->reused = c->compressed = 0;
	for (size_t i = 0; i < nsegs && !err;) {
		size_t j = i + 1;
		while (j < nsegs && !cut[j])
			j++;
		/* what was written of it: [off, end) */
		size_t off = segs[i].off, end = j < nsegs ? segs[j].off : len;
		size_t vend = j < nsegs ? voff[j] : vlen;
		if (end < off || end > len || vend < voff[i]) {
			err = -EINVAL;
			break;
		}
		bool left_out = false;
		for (size_t s = i; s < j; s++)
			left_out |= segs[s].skipped != 0;
		struct unit u = {.key = segs[i].id, .len = vend - voff[i]};
		u.hash = unit_hash(text, segs, voff, i, j, end, &err);
		if (err)
			break;
		struct unit *old = table_find(&c->last, u.key);
		if (old && old->z && old->hash == u.hash && old->len == u.len) {
			u.crc = old->crc;
			u.op = old->op;
			u.z = old->z;
			u.zlen = old->zlen;
			old->z = NULL; /* moved to `now` */
			c->reused++;
		} else if (left_out) {
			err = -ESTALE; /* not held: the build must write it */
		} else {
			const char *p = src_read(text, off, u.len, &err);
			if (p)
				err = compress_unit(c, p, u.len, &u);
			c->compressed++;
		}
		if (!err) {
			table_add(&now, &u);
			if (norder == cap_order) {
				cap_order *= 2;
				order = xrealloc(order, cap_order * sizeof(*order));
			}
			order[norder++] = u;
			zsize += u.zlen;
		}
		i = j;
	}
	free(cut);
	free(voff);
	if (err) {
		free(order);
		table_free(&now);
		return err;
	}
	/* gzip header (no name, no time, OS unix), the units, an empty final
	 * block (fixed Huffman: 0x03 0x00), CRC-32 and size, little endian */
	static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	char *buf = xmalloc(sizeof(head) + zsize + 2 + 8);
	ctw_mem_populate(buf, sizeof(head) + zsize + 2 + 8);
	size_t o = 0;
	memcpy(buf, head, sizeof(head));
	o += sizeof(head);
	uLong crc = crc32(0, NULL, 0);
	for (size_t k = 0; k < norder; k++) {
		memcpy(buf + o, order[k].z, order[k].zlen);
		o += order[k].zlen;
		crc = crc32_combine_op(crc, order[k].crc, order[k].op);
	}
	buf[o++] = 0x03;
	buf[o++] = 0x00;
	uint32_t isize = (uint32_t)vlen;
	for (int b = 0; b < 4; b++)
		buf[o++] = (char)(crc >> (8 * b));
	for (int b = 0; b < 4; b++)
		buf[o++] = (char)(isize >> (8 * b));
	free(order);
	table_free(&c->last); /* what was not reused */
	c->last = now;
	*out = buf;
	*outlen = o;
	return 0;
}

int ctw_gzcache_compress(struct ctw_gzcache *c, const char *text, size_t len,
			 const struct ctw_metrics_seg *segs, size_t nsegs, char **out,
			 size_t *outlen)
{
	struct text_src src = {.mem = text ? text : "", .fd = -1, .c = c};
	return compress_src(c, &src, len, segs, nsegs, out, outlen);
}

int ctw_gzcache_compress_fd(struct ctw_gzcache *c, int fd, size_t len,
			    const struct ctw_metrics_seg *segs, size_t nsegs, char **out,
			    size_t *outlen)
{
	struct text_src src = {.fd = fd, .c = c};
	int rc = compress_src(c, &src, len, segs, nsegs, out, outlen);
	if (c->scratch_cap > SCRATCH_KEEP) {
		free(c->scratch);
		c->scratch = NULL;
		c->scratch_cap = 0;
	}
	return rc;
}
