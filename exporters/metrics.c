// SPDX-License-Identifier: Apache-2.0
/*
 * The metrics builder: Prometheus text exposition format 0.0.4.
 *
 * Collectors declare a family, then add samples; they never format text.
 * The builder keeps each family's samples in its own buffer, so a family that
 * is declared again later (two modules contributing to one family) still
 * comes out contiguous, under one HELP/TYPE pair.  Series identity is the
 * metric name plus the label set (sorted by label name, as Prometheus sees
 * it): a second sample for the same series is rejected and counted, since
 * promtool does not catch duplicates but Prometheus rejects the scrape.
 *
 * Blocks (ctw_metrics_block): a family's samples that share a label set, a
 * container's, are validated, escaped and hashed once for the block; each
 * sample then adds at most one label of its own, and its line is a few
 * copies.  The text is also cut into segments (a family's HELP/TYPE lines,
 * each block, each run of other samples) with a stable identity, which the
 * gzip cache (gzcache.c) uses to compress only what changed.
 *
 * Series identity is checked with 64-bit hashes: each label pair is hashed
 * on its own and the pairs are summed (so the order of labels does not
 * matter), then mixed with the metric name.  Two different series with the
 * same hash would be taken for duplicates: with 400 000 series the odds are
 * about 1 in 10^8 per scrape.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "block_memo.h"
#include "exporters.h"
#include "../lib/lib.h"

#define MAX_LABELS 16
/* fd mode: `text` is written to the memfd once it holds this much, at the
 * next segment boundary */
#define DRAIN_AT (64u << 10)
#define LE_CACHE 32 /* bounds whose `le` texts are kept */

/* A segment of a family's side body: a block, or a run of samples outside
 * any block.  off is relative to the side body. */
struct seg {
	uint64_t id;
	size_t off;
};

struct family {
	char *name;
	char *help;
	size_t name_len;
	uint64_t name_hash;
	enum ctw_metric_type type;
	bool bad;      /* invalid name: its samples are rejected */
	bool declared; /* declared in the current scrape */
	size_t nseries;
	/* Where its lines go: `text` while it is the last family there;
	 * samples that come after another family started (a family declared
	 * again later) go to its side body, joined in by ctw_metrics_text. */
	bool in_text;
	size_t text_off;	/* its HELP line in `text` */
	struct ctw_outbuf body; /* side body */
	struct seg *segs;	/* side body's segments */
	size_t nsegs, capsegs;
	uint64_t last_seg;   /* id of the segment its last line went to */
	uint32_t loose_runs; /* runs of samples outside blocks, for their ids */
};

/* Open-addressing set of 64-bit series hashes (0 = empty), cleared every
 * scrape and probed for every sample.  Filled up to 3/4: at 42 000 series
 * 512 KiB instead of 1 MiB (the probes mostly stay in one cache line; a
 * miss in the table, a TLB miss on this VM, is what a probe costs). */
struct seriesset {
	uint64_t *slots;
	size_t cap, n;
};

/* The block being filled: its labels rendered once (`name="value",...`,
 * escaped), the sum of their pair hashes, their names (to refuse a sample
 * label that repeats one). */
struct block {
	bool open;
	bool bad; /* invalid labels: its samples are refused */
	size_t fam;
	uint64_t hash;
	uint64_t seg; /* its segment id */
	struct ctw_outbuf text;
	struct ctw_outbuf names; /* "k1\0k2\0" */
	/* a stamped block (ctw_metrics_block_stamped) being written: its
	 * stamp, its segment in `text` (NO_TSEG: none yet, or not one of its
	 * own), its first series hash in the memo, the samples refused
	 * before it (a block with a refused sample is not remembered: its
	 * text depends on more than its stamp) */
	bool stamped;
	uint64_t stamp;
	size_t tseg;
	size_t first_series;
	size_t first_line; /* m->nseries when it opened */
	uint64_t refused;
};

/* A stamped block of this build, remembered once the text is finished
 * (its segment's hash and length are known then). */
struct pending {
	size_t tseg;
	uint64_t stamp;
	size_t first;
	uint32_t n, lines;
	bool dead; /* its segment also holds other lines */
};

struct ctw_metrics {
	size_t max_series;
	size_t nseries;
	uint64_t dropped;
	uint64_t duplicates;
	uint64_t invalid;
	struct family *fams;
	size_t nfams, capfams;
	struct family *cur;
	size_t cur_idx;
	bool have_cur;
	struct seriesset set;
	struct block blk;
	struct ctw_outbuf pre; /* put_histogram's bucket line prefix */
	/* The text, written as samples come (no copy at the end), and its
	 * segments; `tail` is the family whose lines end it.  In fd mode
	 * (ctw_metrics_use_fd) `text` holds only what follows `base`: the
	 * bytes before it went to `fd`, a memfd, at segment boundaries. */
	struct ctw_outbuf text;
	struct ctw_metrics_seg *tsegs;
	size_t ntsegs, captsegs;
	size_t tsealed; /* segments of `text` whose hash is taken */
	bool to_fd;
	int fd; /* -1 until the first drain */
	size_t base;
	int fd_err; /* the first error making or writing fd */
	void (*on_drain)(void *ctx, int fd, size_t len);
	void *drain_ctx;
	size_t tail;
	bool sides; /* some family has a side body: `out` joins them */
	struct ctw_outbuf out;
	struct ctw_metrics_seg *osegs; /* segments of `out` */
	size_t nosegs, caposegs;
	bool rendered; /* `out` is up to date */
	/* The segment array last handed over, and its capacity: given back
	 * (ctw_metrics_give_back_segments), it is the next build's, its pages
	 * already in (a fresh 1 MiB array at 1 000 containers was ~140 page
	 * faults a build, at 10-20 us each in a VM). */
	struct ctw_metrics_seg *lent;
	size_t lent_cap;
	bool lent_out; /* it was `osegs` */
	/* Stamped blocks: the last finished build's (prev) and this one's,
	 * the blocks of this one waiting for their hash, whether they are
	 * remembered, and this build's skipping (ctw_metrics_skip_same) */
	struct block_memo memo[2];
	int memo_cur;
	bool memo_done;
	struct pending *pend;
	size_t npend, cappend;
	bool (*held)(void *ctx, uint64_t id, uint64_t hash, size_t len);
	void *held_ctx;
	size_t skipped;
	/* the last histogram bounds and their `le` texts (bound_text) */
	size_t le_n;
	double le_vals[LE_CACHE];
	char le_text[LE_CACHE][32];
};

#define NO_FAMILY ((size_t)-1)
#define NO_TSEG ((size_t)-1)

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* One label pair: hashed as "k=v" would be, with the separator folded in. */
static uint64_t pair_hash(const char *k, const char *v)
{
	uint64_t hk = XXH3_64bits(k, strlen(k));
	return mix64(hk ^ XXH3_64bits_withSeed(v, strlen(v), 0x9e3779b97f4a7c15ull));
}

static void set_grow(struct seriesset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	uint64_t *ns = xcalloc(ncap, sizeof(*ns));
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slots[i])
			continue;
		size_t j = s->slots[i] & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = ns;
	s->cap = ncap;
}

/* Insert; false when the hash was already there. */
static bool set_add(struct seriesset *s, uint64_t h)
{
	if ((s->n + 1) * 4 > s->cap * 3)
		set_grow(s);
	h = mix64(h);
	if (!h)
		h = 1;
	size_t j = h & (s->cap - 1);
	while (s->slots[j]) {
		if (s->slots[j] == h)
			return false;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j] = h;
	s->n++;
	return true;
}

static bool set_has(const struct seriesset *s, uint64_t h)
{
	if (!s->cap)
		return false;
	h = mix64(h);
	if (!h)
		h = 1;
	for (size_t j = h & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
		if (s->slots[j] == h)
			return true;
	return false;
}

static void set_free(struct seriesset *s)
{
	free(s->slots);
}

struct ctw_metrics *ctw_metrics_new(size_t max_series)
{
	struct ctw_metrics *m = xcalloc(1, sizeof(*m));
	m->max_series = max_series;
	m->tail = NO_FAMILY;
	m->text = m->out = m->blk.text = m->blk.names = m->pre = CTW_OUTBUF_MEM;
	m->fd = -1;
	return m;
}

void ctw_metrics_free(struct ctw_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfams; i++) {
		free(m->fams[i].name);
		free(m->fams[i].help);
		free(m->fams[i].body.buf);
		free(m->fams[i].segs);
	}
	free(m->fams);
	set_free(&m->set);
	free(m->blk.text.buf);
	free(m->blk.names.buf);
	free(m->pre.buf);
	free(m->text.buf);
	free(m->tsegs);
	free(m->out.buf);
	free(m->osegs);
	block_memo_free(&m->memo[0]);
	block_memo_free(&m->memo[1]);
	free(m->pend);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

static bool valid_name(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (colon && c == ':') || (p != s && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

bool ctw_metrics_valid_name(const char *name)
{
	return valid_name(name, true);
}

static uint64_t refused(const struct ctw_metrics *m)
{
	return m->duplicates + m->dropped + m->invalid;
}

/* The block ends: a stamped one that made a segment of its own in `text`,
 * all its samples written, is remembered (memo_finish). */
static void end_block(struct ctw_metrics *m)
{
	struct block *b = &m->blk;
	if (b->open && b->stamped && b->tseg != NO_TSEG && refused(m) == b->refused) {
		if (m->npend == m->cappend) {
			m->cappend = m->cappend ? 2 * m->cappend : 256;
			m->pend = xrealloc(m->pend, m->cappend * sizeof(*m->pend));
		}
		m->pend[m->npend++] = (struct pending){
			.tseg = b->tseg,
			.stamp = b->stamp,
			.first = b->first_series,
			.n = (uint32_t)(m->memo[m->memo_cur].nseries - b->first_series),
			.lines = (uint32_t)(m->nseries - b->first_line)};
	}
	b->open = false;
	b->stamped = false;
}

void ctw_metrics_family(struct ctw_metrics *m, const char *name, enum ctw_metric_type type,
			const char *help)
{
	end_block(m);
	for (size_t i = 0; i < m->nfams; i++) {
		if (!strcmp(m->fams[i].name, name)) {
			struct family *f = &m->fams[i];
			m->cur_idx = i;
			m->have_cur = true;
			if (!f->declared) {
				/* kept from before a reset: declare afresh */
				f->declared = true;
				f->type = type;
				f->bad = !valid_name(name, true);
				if (strcmp(f->help, help ? help : "")) {
					free(f->help);
					f->help = xstrdup(help ? help : "");
				}
				return;
			}
			if (m->fams[i].type != type) {
				pr_debug("metrics: family %s redeclared with another type", name);
				m->fams[i].bad = true;
			}
			return;
		}
	}
	if (m->nfams == m->capfams) {
		m->capfams = m->capfams ? m->capfams * 2 : 32;
		m->fams = xrealloc(m->fams, m->capfams * sizeof(*m->fams));
	}
	struct family *f = &m->fams[m->nfams];
	memset(f, 0, sizeof(*f));
	f->body = CTW_OUTBUF_MEM;
	f->name = xstrdup(name);
	f->name_len = strlen(name);
	f->name_hash = XXH3_64bits(name, f->name_len);
	f->help = xstrdup(help ? help : "");
	f->type = type;
	f->declared = true;
	f->bad = !valid_name(name, true);
	if (f->bad)
		pr_debug("metrics: invalid metric name '%s'", name);
	m->cur_idx = m->nfams++;
	m->have_cur = true;
	m->rendered = false;
}

static void put_escaped_value(struct ctw_outbuf *b, const char *v)
{
	for (;;) {
		size_t n = strcspn(v, "\\\"\n");
		ctw_outbuf_putn(b, v, n);
		v += n;
		if (!*v)
			return;
		ctw_outbuf_puts(b, *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : "\\n");
		v++;
	}
}

/* Decimal digits of u into buf (at least 21 bytes), NUL-terminated. */
static void format_u64(uint64_t u, char *buf)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	size_t o = 0;
	while (n)
		buf[o++] = tmp[--n];
	buf[o] = '\0';
}

/* Shortest text that reads back as the same double; Prometheus spellings
 * for the special values. */
void ctw_metrics_format_value(double v, char *buf, size_t size)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v && size >= 24) {
		/* integers (most counters): no printf */
		int64_t x = (int64_t)v;
		if (x < 0)
			*buf++ = '-';
		format_u64(x < 0 ? -(uint64_t)x : (uint64_t)x, buf);
		return;
	}
	/* 15 digits (DBL_DIG) first: a double whose shortest form has at most
	 * 15 digits prints as that form, trailing zeros cut by %g (the gap
	 * between it and the decimal is below half a unit of the 15th digit);
	 * the others need 16 or 17.  At most three tries instead of twelve:
	 * the CPU seconds of 1 000 containers took 1-2 ms of each build.
	 * Subnormals carry fewer digits: from 1. */
	for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

struct lbl {
	const char *k, *v;
};

/* Validate labels; out gets them in the caller's order (rendered so).
 * Returns how many, or -1 when invalid: bad name, reserved (`__`), `le` on
 * a histogram, a name twice, more than MAX_LABELS.  *hash: the sum of the
 * pair hashes. */
static int check_labels(const char *const *labels, const char *reserved, struct lbl *out,
			uint64_t *hash)
{
	int n = 0;
	uint64_t h = 0;
	for (const char *const *l = labels; l && *l; l += 2) {
		if (n == MAX_LABELS || !l[1] || !valid_name(l[0], false) ||
		    !strncmp(l[0], "__", 2) || (reserved && !strcmp(l[0], reserved)))
			return -1;
		for (int i = 0; i < n; i++)
			if (!strcmp(out[i].k, l[0]))
				return -1; /* the same label twice */
		out[n].k = l[0];
		out[n].v = l[1];
		h += pair_hash(l[0], l[1]);
		n++;
	}
	*hash = h;
	return n;
}

/* `k="v",k="v"` (escaped) */
static void put_labels(struct ctw_outbuf *b, const struct lbl *l, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			ctw_outbuf_putc(b, ',');
		ctw_outbuf_puts(b, l[i].k);
		ctw_outbuf_putn(b, "=\"", 2);
		put_escaped_value(b, l[i].v);
		ctw_outbuf_putc(b, '"');
	}
}

/* One line: name[suffix]{labels[,extra][,le="le"]} value.  labels: already
 * rendered (a block's), may be empty. */
static void put_line(struct ctw_outbuf *b, const struct family *f, const char *suffix,
		     const char *labels, size_t labels_len, const char *ek, const char *ev,
		     const char *le, const char *value)
{
	ctw_outbuf_putn(b, f->name, f->name_len);
	if (suffix)
		ctw_outbuf_puts(b, suffix);
	bool any = labels_len || ek || le;
	if (any) {
		ctw_outbuf_putc(b, '{');
		ctw_outbuf_putn(b, labels, labels_len);
		if (ek) {
			if (labels_len)
				ctw_outbuf_putc(b, ',');
			ctw_outbuf_puts(b, ek);
			ctw_outbuf_putn(b, "=\"", 2);
			put_escaped_value(b, ev);
			ctw_outbuf_putc(b, '"');
		}
		if (le) {
			if (labels_len || ek)
				ctw_outbuf_putc(b, ',');
			ctw_outbuf_putn(b, "le=\"", 4);
			ctw_outbuf_puts(b, le);
			ctw_outbuf_putc(b, '"');
		}
		ctw_outbuf_putc(b, '}');
	}
	ctw_outbuf_putc(b, ' ');
	ctw_outbuf_puts(b, value);
	ctw_outbuf_putc(b, '\n');
}

/* The current family, for a sample or histogram; NULL (counted invalid)
 * when there is none or it is the wrong kind. */
static struct family *cur_family(struct ctw_metrics *m, bool histogram)
{
	if (!m->have_cur) {
		m->invalid++;
		return NULL;
	}
	struct family *f = &m->fams[m->cur_idx];
	if (f->bad || (f->type == CTW_HISTOGRAM) != histogram) {
		m->invalid++;
		return NULL;
	}
	return f;
}

/* Duplicates, then the cap.  cost = the number of series lines this adds. */
static bool admit(struct ctw_metrics *m, struct family *f, uint64_t hash, size_t cost)
{
	/* Duplicates first: a repeated series is a bug to count as such, not
	 * a victim of the cap. */
	if (!set_add(&m->set, hash ^ f->name_hash)) {
		m->duplicates++;
		return false;
	}
	if (m->max_series && m->nseries + cost > m->max_series) {
		m->dropped += cost;
		return false;
	}
	m->nseries += cost;
	f->nseries += cost;
	m->rendered = false;
	if (m->blk.open && m->blk.stamped)
		block_memo_push_series(&m->memo[m->memo_cur], hash ^ f->name_hash);
	return true;
}

/* A sample outside any block: the id of its run of such samples (a new
 * one after a block), in *seg. */
static struct family *loose(struct ctw_metrics *m, bool histogram, uint64_t *seg)
{
	end_block(m);
	struct family *f = cur_family(m, histogram);
	if (!f)
		return NULL;
	if (f->last_seg >> 63)
		*seg = f->last_seg;
	else
		*seg = (1ull << 63) | mix64(f->name_hash + f->loose_runs + 1);
	return f;
}

static const char *type_name(enum ctw_metric_type t);

/* Where the next byte of the text goes. */
static size_t text_pos(const struct ctw_metrics *m)
{
	return m->base + m->text.len;
}

/* The hash of the text's last segment, once (it ends at the text's end,
 * and is still in `text`: the drain waits for segment boundaries). */
static void seal_last(struct ctw_metrics *m)
{
	if (m->tsealed == m->ntsegs || !m->text.buf)
		return;
	struct ctw_metrics_seg *v = &m->tsegs[m->ntsegs - 1];
	uint64_t h = XXH3_64bits(m->text.buf + (v->off - m->base), text_pos(m) - v->off);
	v->hash = h ? h : 1;
	m->tsealed = m->ntsegs;
}

/* write(2) all of buf to fd; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int new_memfd(void)
{
	int fd = memfd_create("ctrwatch-metrics", MFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* fd mode: what `text` holds goes to the memfd (made at the first
 * drain).  Writing into a memfd from this small buffer, kept warm, puts
 * the text in page-cache pages the kernel reaches through its own
 * mapping: on this VM a fresh page first touched from user space costs
 * ~10-20 us (4.6 MB into fresh memory: 17 ms; the same through write(2)
 * from a 64 KiB buffer: 1.2 ms), and the socket then reads those pages
 * with sendfile instead of copying from fresh user memory (12 ms). */
static void drain(struct ctw_metrics *m)
{
	if (!m->to_fd || !m->text.len || m->fd_err)
		return;
	if (m->fd < 0) {
		int fd = new_memfd();
		if (fd < 0) {
			m->fd_err = fd;
			return;
		}
		m->fd = fd;
	}
	int rc = write_all(m->fd, m->text.buf, m->text.len);
	if (rc) {
		m->fd_err = rc;
		return;
	}
	m->base += m->text.len;
	m->text.len = 0;
	if (m->on_drain)
		m->on_drain(m->drain_ctx, m->fd, m->base);
}

void ctw_metrics_on_drain(struct ctw_metrics *m, void (*fn)(void *ctx, int fd, size_t len),
			  void *ctx)
{
	m->on_drain = fn;
	m->drain_ctx = ctx;
}

static void add_seg(struct ctw_metrics_seg **v, size_t *n, size_t *cap, uint64_t id, size_t off,
		    bool family_start)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = (struct ctw_metrics_seg){.id = id, .off = off, .family_start = family_start};
}

/* A new segment of `text`: the one before it ends here, and is still in
 * the cache: hash it now. */
static void add_tseg(struct ctw_metrics *m, uint64_t id, bool family_start)
{
	seal_last(m);
	if (m->text.len >= DRAIN_AT)
		drain(m);
	add_seg(&m->tsegs, &m->ntsegs, &m->captsegs, id, text_pos(m), family_start);
}

static void put_header(struct ctw_outbuf *b, const struct family *f)
{
	ctw_outbuf_putn(b, "# HELP ", 7);
	ctw_outbuf_putn(b, f->name, f->name_len);
	ctw_outbuf_putc(b, ' ');
	for (const char *h = f->help; *h; h++) {
		if (*h == '\\')
			ctw_outbuf_putn(b, "\\\\", 2);
		else if (*h == '\n')
			ctw_outbuf_putn(b, "\\n", 2);
		else
			ctw_outbuf_putc(b, *h);
	}
	ctw_outbuf_putn(b, "\n# TYPE ", 8);
	ctw_outbuf_putn(b, f->name, f->name_len);
	ctw_outbuf_putc(b, ' ');
	ctw_outbuf_puts(b, type_name(f->type));
	ctw_outbuf_putc(b, '\n');
}

/* f's first line in the text: its HELP/TYPE lines, a segment of their own. */
static void enter_text(struct ctw_metrics *m, struct family *f)
{
	f->in_text = true;
	f->text_off = text_pos(m);
	m->tail = (size_t)(f - m->fams);
	add_tseg(m, f->name_hash, true);
	put_header(&m->text, f);
}

/* Where an admitted sample of f, in segment seg, is written: the text
 * (its header first, the first time), or f's side body when another
 * family was written since. */
static struct ctw_outbuf *dst(struct ctw_metrics *m, struct family *f, uint64_t seg)
{
	size_t fi = (size_t)(f - m->fams);
	bool new_seg = f->last_seg != seg;
	if (new_seg && (seg >> 63))
		f->loose_runs++;
	f->last_seg = seg;
	m->rendered = false;
	if (m->tail != fi && f->in_text) {
		if (new_seg || !f->nsegs) {
			if (f->nsegs == f->capsegs) {
				f->capsegs = f->capsegs ? f->capsegs * 2 : 16;
				f->segs = xrealloc(f->segs, f->capsegs * sizeof(*f->segs));
			}
			f->segs[f->nsegs++] = (struct seg){.id = seg, .off = f->body.len};
		}
		m->sides = true;
		return &f->body;
	}
	if (!f->in_text) {
		enter_text(m, f);
		new_seg = true;
	}
	if (new_seg) {
		add_tseg(m, seg, false);
		if (m->blk.open && m->blk.stamped && seg == m->blk.seg) {
			m->blk.tseg = m->ntsegs - 1;
			m->tsegs[m->blk.tseg].own_unit = true;
		}
	} else if (m->npend && m->pend[m->npend - 1].tseg == m->ntsegs - 1) {
		m->pend[m->npend - 1].dead = true; /* more lines in its segment */
	}
	return &m->text;
}

/* The `le` texts of a histogram's bounds: formatting a double the shortest
 * way (printf and strtod, up to 12 tries) for every bucket of every series
 * was a fifth of a build with histograms; collectors pass the same bounds
 * for a whole family, so the last bounds' texts are kept. */
static const char *bound_text(struct ctw_metrics *m, const double *bounds, size_t nbounds, size_t i,
			      char *tmp, size_t tmplen)
{
	if (nbounds > LE_CACHE) {
		ctw_metrics_format_value(bounds[i], tmp, tmplen);
		return tmp;
	}
	if (m->le_n != nbounds || memcmp(m->le_vals, bounds, nbounds * sizeof(*bounds))) {
		for (size_t k = 0; k < nbounds; k++)
			ctw_metrics_format_value(bounds[k], m->le_text[k], sizeof(m->le_text[k]));
		memcpy(m->le_vals, bounds, nbounds * sizeof(*bounds));
		m->le_n = nbounds;
	}
	return m->le_text[i];
}

/* One bucket line: the series' prefix (up to `le="`), the bound, the
 * count. */
static void put_bucket(struct ctw_outbuf *b, const struct ctw_outbuf *pre, const char *le,
		       uint64_t cum)
{
	size_t n = strlen(le);
	ctw_outbuf_reserve(b, pre->len + n + 3 + 21 + 1);
	char *p = b->buf + b->len;
	memcpy(p, pre->buf, pre->len);
	p += pre->len;
	memcpy(p, le, n);
	p += n;
	memcpy(p, "\"} ", 3);
	p += 3;
	format_u64(cum, p);
	p += strlen(p);
	*p++ = '\n';
	b->len = (size_t)(p - b->buf);
}

/* A histogram's bucket lines share everything up to the bound: that prefix
 * is made once per series (in m->pre) and copied for each bucket, where a
 * put_line per bucket did a dozen appends (histograms are half the lines
 * of a scrape with TCP and DNS series). */
static void put_histogram(struct ctw_metrics *m, struct ctw_outbuf *b, const struct family *f,
			  const char *labels, size_t labels_len, const char *ek, const char *ev,
			  const double *bounds, const uint64_t *buckets, size_t nbounds, double sum)
{
	struct ctw_outbuf *pre = &m->pre;
	pre->len = 0;
	ctw_outbuf_putn(pre, f->name, f->name_len);
	ctw_outbuf_putn(pre, "_bucket{", 8);
	ctw_outbuf_putn(pre, labels, labels_len);
	if (labels_len)
		ctw_outbuf_putc(pre, ',');
	if (ek) {
		ctw_outbuf_puts(pre, ek);
		ctw_outbuf_putn(pre, "=\"", 2);
		put_escaped_value(pre, ev);
		ctw_outbuf_putn(pre, "\",", 2);
	}
	ctw_outbuf_putn(pre, "le=\"", 4);
	uint64_t cum = 0;
	char le[64], v[64];
	for (size_t i = 0; i < nbounds; i++) {
		cum += buckets[i];
		put_bucket(b, pre, bound_text(m, bounds, nbounds, i, le, sizeof(le)), cum);
	}
	cum += buckets[nbounds];
	put_bucket(b, pre, "+Inf", cum);
	format_u64(cum, v);
	ctw_metrics_format_value(sum, le, sizeof(le));
	put_line(b, f, "_sum", labels, labels_len, ek, ev, NULL, le);
	put_line(b, f, "_count", labels, labels_len, ek, ev, NULL, v);
}

static bool valid_bounds(struct ctw_metrics *m, const double *bounds, size_t nbounds)
{
	for (size_t i = 0; i < nbounds; i++) {
		if (isnan(bounds[i]) || (i && bounds[i] <= bounds[i - 1])) {
			m->invalid++;
			return false;
		}
	}
	return true;
}

bool ctw_metrics_sample(struct ctw_metrics *m, const char *const *labels, double value)
{
	uint64_t seg;
	struct family *f = loose(m, false, &seg);
	if (!f)
		return false;
	struct lbl l[MAX_LABELS];
	uint64_t h;
	int n = check_labels(labels, NULL, l, &h);
	if (n < 0) {
		m->invalid++;
		return false;
	}
	if (!admit(m, f, h, 1))
		return false;
	char v[64];
	ctw_metrics_format_value(value, v, sizeof(v));
	struct ctw_outbuf *lb = &m->blk.text; /* scratch: no block is open */
	lb->len = 0;
	ctw_outbuf_reserve(lb, 0);
	put_labels(lb, l, n);
	put_line(dst(m, f, seg), f, NULL, lb->buf, lb->len, NULL, NULL, NULL, v);
	return true;
}

bool ctw_metrics_histogram(struct ctw_metrics *m, const char *const *labels, const double *bounds,
			   const uint64_t *buckets, size_t nbounds, double sum)
{
	if (!valid_bounds(m, bounds, nbounds))
		return false;
	uint64_t seg;
	struct family *f = loose(m, true, &seg);
	if (!f)
		return false;
	struct lbl l[MAX_LABELS];
	uint64_t h;
	int n = check_labels(labels, "le", l, &h);
	if (n < 0) {
		m->invalid++;
		return false;
	}
	if (!admit(m, f, h, nbounds + 3))
		return false;
	struct ctw_outbuf *lb = &m->blk.text;
	lb->len = 0;
	ctw_outbuf_reserve(lb, 0);
	put_labels(lb, l, n);
	put_histogram(m, dst(m, f, seg), f, lb->buf, lb->len, NULL, NULL, bounds, buckets, nbounds,
		      sum);
	return true;
}

bool ctw_metrics_block(struct ctw_metrics *m, const char *const *labels)
{
	end_block(m);
	struct family *f = cur_family(m, m->have_cur && m->fams[m->cur_idx].type == CTW_HISTOGRAM);
	if (!f)
		return false;
	struct block *b = &m->blk;
	struct lbl l[MAX_LABELS];
	int n = check_labels(labels, f->type == CTW_HISTOGRAM ? "le" : NULL, l, &b->hash);
	b->open = true;
	b->bad = n < 0;
	b->fam = m->cur_idx;
	b->text.len = 0;
	b->names.len = 0;
	ctw_outbuf_reserve(&b->text, 0);
	if (b->bad) {
		m->invalid++;
		return false;
	}
	put_labels(&b->text, l, n);
	for (int i = 0; i < n; i++)
		ctw_outbuf_putn(&b->names, l[i].k, strlen(l[i].k) + 1);
	/* A block's id: its family and its label set, whatever the order. */
	b->seg = mix64(f->name_hash ^ b->hash) & ~(1ull << 63);
	return true;
}

/* After a block left out: the family's next lines start a segment of
 * their own, even with the same id (its bytes are not in the text). */
#define SEG_AFTER_SKIP (~(1ull << 63))

/* The open stamped block, left out of the text if it can be (see
 * ctw_metrics_block_stamped): true when it was. */
static bool skip_same(struct ctw_metrics *m)
{
	struct block *b = &m->blk;
	size_t fi = b->fam;
	struct family *f = &m->fams[fi];
	if (!m->held || m->fd_err || (f->in_text && m->tail != fi))
		return false; /* not skipping, or its lines would go to a side body */
	const struct block_memo *prev = &m->memo[!m->memo_cur];
	const struct block_rec *r = block_memo_find(prev, b->seg);
	if (!r || r->stamp != b->stamp)
		return false;
	if (m->max_series && m->nseries + r->lines > m->max_series)
		return false; /* written, the cap cuts it where it must */
	const uint64_t *series = prev->series + r->first;
	for (uint32_t i = 0; i < r->n; i++)
		if (set_has(&m->set, series[i]))
			return false; /* written, the duplicate is counted */
	if (!m->held(m->held_ctx, b->seg, r->hash, r->len))
		return false;
	struct block_memo *cur = &m->memo[m->memo_cur];
	for (uint32_t i = 0; i < r->n; i++) {
		set_add(&m->set, series[i]);
		block_memo_push_series(cur, series[i]);
	}
	m->nseries += r->lines;
	f->nseries += r->lines;
	m->rendered = false;
	if (!f->in_text)
		enter_text(m, f);
	add_tseg(m, b->seg, false);
	struct ctw_metrics_seg *v = &m->tsegs[m->ntsegs - 1];
	v->hash = r->hash;
	v->skipped = r->len;
	v->own_unit = true;
	m->tsealed = m->ntsegs; /* its hash is the one remembered */
	f->last_seg = SEG_AFTER_SKIP;
	m->skipped += r->len;
	b->tseg = m->ntsegs - 1;
	b->first_line = m->nseries - r->lines;
	end_block(m); /* remembered as written */
	return true;
}

uint64_t ctw_metrics_stamp(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

enum ctw_block_state ctw_metrics_block_stamped(struct ctw_metrics *m, const char *const *labels,
					       uint64_t stamp)
{
	if (!ctw_metrics_block(m, labels))
		return CTW_BLOCK_BAD;
	struct block *b = &m->blk;
	b->stamped = true;
	b->stamp = stamp;
	b->tseg = NO_TSEG;
	b->first_series = m->memo[m->memo_cur].nseries;
	b->first_line = m->nseries;
	b->refused = refused(m);
	return skip_same(m) ? CTW_BLOCK_SAME : CTW_BLOCK_OPEN;
}

void ctw_metrics_skip_same(struct ctw_metrics *m,
			   bool (*held)(void *ctx, uint64_t id, uint64_t hash, size_t len),
			   void *ctx)
{
	m->held = held;
	m->held_ctx = ctx;
}

size_t ctw_metrics_skipped(const struct ctw_metrics *m)
{
	return m->skipped;
}

/* The text is finished: remember its stamped blocks, with their
 * segments' hashes and lengths (the last segment's hash is taken here),
 * for the next build.  Before join(), which moves the text. */
static void memo_finish(struct ctw_metrics *m)
{
	if (m->memo_done)
		return;
	end_block(m);
	seal_last(m);
	struct block_memo *cur = &m->memo[m->memo_cur];
	for (size_t i = 0; i < m->npend; i++) {
		const struct pending *p = &m->pend[i];
		if (p->dead)
			continue;
		const struct ctw_metrics_seg *v = &m->tsegs[p->tseg];
		size_t end = p->tseg + 1 < m->ntsegs ? m->tsegs[p->tseg + 1].off : text_pos(m);
		size_t len = v->skipped ? v->skipped : end - v->off;
		if (len > UINT32_MAX || p->first > UINT32_MAX)
			continue;
		block_memo_add(cur, &(struct block_rec){.id = v->id,
							.stamp = p->stamp,
							.hash = v->hash,
							.len = (uint32_t)len,
							.first = (uint32_t)p->first,
							.n = p->n,
							.lines = p->lines});
	}
	m->npend = 0;
	m->memo_done = true;
}

/* The family of the open block and the series hash with (k, v) added;
 * NULL when the sample is refused. */
static struct family *block_family(struct ctw_metrics *m, bool histogram, const char *k,
				   const char *v, uint64_t *hash)
{
	struct block *b = &m->blk;
	if (!b->open || b->bad || b->fam != m->cur_idx) {
		m->invalid++;
		return NULL;
	}
	struct family *f = cur_family(m, histogram);
	if (!f)
		return NULL;
	*hash = b->hash;
	if (!k)
		return f;
	if (!v || !valid_name(k, false) || !strncmp(k, "__", 2) ||
	    (histogram && !strcmp(k, "le"))) {
		m->invalid++;
		return NULL;
	}
	for (size_t o = 0; o < b->names.len; o += strlen(b->names.buf + o) + 1) {
		if (!strcmp(b->names.buf + o, k)) {
			m->invalid++;
			return NULL;
		}
	}
	*hash += pair_hash(k, v);
	return f;
}

bool ctw_metrics_block_sample(struct ctw_metrics *m, const char *label, const char *value, double v)
{
	uint64_t h;
	struct family *f = block_family(m, false, label, value, &h);
	if (!f || !admit(m, f, h, 1))
		return false;
	char vb[64];
	ctw_metrics_format_value(v, vb, sizeof(vb));
	put_line(dst(m, f, m->blk.seg), f, NULL, m->blk.text.buf, m->blk.text.len, label, value,
		 NULL, vb);
	return true;
}

bool ctw_metrics_block_histogram(struct ctw_metrics *m, const char *label, const char *value,
				 const double *bounds, const uint64_t *buckets, size_t nbounds,
				 double sum)
{
	if (!valid_bounds(m, bounds, nbounds))
		return false;
	uint64_t h;
	struct family *f = block_family(m, true, label, value, &h);
	if (!f || !admit(m, f, h, nbounds + 3))
		return false;
	put_histogram(m, dst(m, f, m->blk.seg), f, m->blk.text.buf, m->blk.text.len, label, value,
		      bounds, buckets, nbounds, sum);
	return true;
}

uint64_t ctw_metrics_dropped(const struct ctw_metrics *m)
{
	return m->dropped;
}
uint64_t ctw_metrics_duplicates(const struct ctw_metrics *m)
{
	return m->duplicates;
}
uint64_t ctw_metrics_invalid(const struct ctw_metrics *m)
{
	return m->invalid;
}
size_t ctw_metrics_series(const struct ctw_metrics *m)
{
	return m->nseries;
}

static const char *type_name(enum ctw_metric_type t)
{
	switch (t) {
	case CTW_COUNTER: return "counter";
	case CTW_GAUGE: return "gauge";
	case CTW_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

static int cmp_text_off(const void *a, const void *b)
{
	const struct family *x = *(const struct family *const *)a,
			    *y = *(const struct family *const *)b;
	return x->text_off < y->text_off ? -1 : x->text_off > y->text_off;
}

/* Append text[off, off + len) to o: from `text` in memory, or read back
 * from the memfd in fd mode (all of it was drained before the join). */
static int copy_text(struct ctw_metrics *m, size_t off, size_t len, struct ctw_outbuf *o)
{
	if (!m->to_fd) {
		ctw_outbuf_putn(o, m->text.buf + off, len);
		return 0;
	}
	while (len) {
		size_t want = len < DRAIN_AT ? len : DRAIN_AT;
		ctw_outbuf_reserve(o, want);
		ssize_t n = pread(m->fd, o->buf + o->len, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		o->len += (size_t)n;
		off += (size_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* `out`: `text` with each family's side body joined after its lines (the
 * rare case of a family declared again after another family).  The text's
 * segments keep the hashes taken as they were written; a side body's are
 * taken here.  In fd mode `out` is written to a new memfd that replaces
 * the text's.  0 or -errno. */
static int join(struct ctw_metrics *m)
{
	seal_last(m);
	drain(m);
	if (m->fd_err)
		return m->fd_err;
	struct family **order = xcalloc(m->nfams ? m->nfams : 1, sizeof(*order));
	size_t n = 0, total = text_pos(m);
	for (size_t i = 0; i < m->nfams; i++) {
		if (m->fams[i].in_text) {
			order[n++] = &m->fams[i];
			total += m->fams[i].body.len;
		}
	}
	qsort(order, n, sizeof(*order), cmp_text_off);
	int outfd = -1, rc = 0;
	m->out.len = 0;
	if (m->to_fd && m->fd >= 0) {
		outfd = new_memfd();
		if (outfd < 0) {
			free(order);
			return outfd;
		}
		ctw_outbuf_reserve(&m->out, 2 * DRAIN_AT);
	} else {
		ctw_outbuf_reserve(&m->out, total);
	}
	m->nosegs = 0;
	size_t ts = 0, pos = 0; /* next segment of `text`; bytes of `out` */
	for (size_t k = 0; k < n && !rc; k++) {
		struct family *f = order[k];
		size_t end = k + 1 < n ? order[k + 1]->text_off : text_pos(m);
		size_t shift = pos - f->text_off;
		/* its segments: up to the next family's header (a block left
		 * out at its end has no bytes: off == end) */
		for (size_t first = ts;
		     ts < m->ntsegs && (ts == first || !m->tsegs[ts].family_start); ts++) {
			add_seg(&m->osegs, &m->nosegs, &m->caposegs, m->tsegs[ts].id,
				m->tsegs[ts].off + shift, m->tsegs[ts].family_start);
			m->osegs[m->nosegs - 1].hash = m->tsegs[ts].hash;
			m->osegs[m->nosegs - 1].skipped = m->tsegs[ts].skipped;
			m->osegs[m->nosegs - 1].own_unit = m->tsegs[ts].own_unit;
		}
		rc = copy_text(m, f->text_off, end - f->text_off, &m->out);
		pos += end - f->text_off;
		for (size_t s = 0; s < f->nsegs; s++) {
			size_t so = f->segs[s].off,
			       se = s + 1 < f->nsegs ? f->segs[s + 1].off : f->body.len;
			uint64_t h = XXH3_64bits(f->body.buf + so, se - so);
			add_seg(&m->osegs, &m->nosegs, &m->caposegs, f->segs[s].id, pos + so,
				false);
			m->osegs[m->nosegs - 1].hash = h ? h : 1;
		}
		if (f->body.len)
			ctw_outbuf_putn(&m->out, f->body.buf, f->body.len);
		pos += f->body.len;
		if (outfd >= 0 && !rc && m->out.len >= DRAIN_AT) {
			rc = write_all(outfd, m->out.buf, m->out.len);
			m->out.len = 0;
		}
	}
	free(order);
	if (outfd >= 0) {
		if (!rc)
			rc = write_all(outfd, m->out.buf, m->out.len);
		m->out.len = 0;
		if (rc) {
			close(outfd);
			return rc;
		}
		close(m->fd);
		m->fd = outfd;
		m->base = pos;
		return 0;
	}
	ctw_outbuf_str(&m->out);
	return rc;
}

bool ctw_metrics_use_fd(struct ctw_metrics *m)
{
	if (m->to_fd)
		return true;
	if (m->text.len || m->ntsegs)
		return false; /* only between builds */
	int fd = new_memfd();
	if (fd < 0)
		return false;
	close(fd);
	m->to_fd = true;
	return true;
}

const char *ctw_metrics_text(struct ctw_metrics *m, size_t *len)
{
	memo_finish(m);
	if (m->to_fd && (m->base || m->fd_err))
		return NULL; /* fd mode: ctw_metrics_take_fd */
	if (!m->sides) {
		seal_last(m);
		ctw_outbuf_str(&m->text); /* "" when empty (or reset) */
		if (len)
			*len = m->text.len;
		return m->text.buf;
	}
	if (!m->rendered) {
		bool to_fd = m->to_fd;
		m->to_fd = false; /* all in memory: join there */
		join(m);
		m->to_fd = to_fd;
		m->rendered = true;
	}
	if (len)
		*len = m->out.len;
	return m->out.buf;
}

char *ctw_metrics_take_text(struct ctw_metrics *m, size_t *len)
{
	if (!ctw_metrics_text(m, len))
		return NULL;
	struct ctw_outbuf *b = m->sides ? &m->out : &m->text;
	char *p = b->buf;
	*b = CTW_OUTBUF_MEM;
	m->rendered = false;
	return p;
}

int ctw_metrics_take_fd(struct ctw_metrics *m, size_t *len)
{
	memo_finish(m);
	if (!m->to_fd)
		return -EINVAL;
	int rc;
	if (m->sides) {
		rc = m->rendered ? 0 : join(m);
		m->rendered = !rc;
	} else {
		seal_last(m);
		if (!m->fd_err && m->fd < 0) /* an empty text still gets its memfd */
			m->fd = new_memfd(), m->fd_err = m->fd < 0 ? m->fd : 0;
		drain(m);
		rc = m->fd_err;
	}
	if (rc)
		return rc;
	int fd = m->fd;
	if (fd < 0)
		return -EINVAL; /* joined in memory by ctw_metrics_text: use it */
	*len = m->base;
	m->fd = -1;
	return fd;
}

struct ctw_metrics_seg *ctw_metrics_take_segments(struct ctw_metrics *m, size_t *n)
{
	struct ctw_metrics_seg *s;
	memo_finish(m);
	if (m->sides) {
		if (!m->rendered && !join(m))
			m->rendered = true;
		s = m->osegs;
		*n = m->nosegs;
		m->lent_cap = m->caposegs;
		m->osegs = NULL;
		m->nosegs = m->caposegs = 0;
	} else {
		seal_last(m);
		s = m->tsegs;
		*n = m->ntsegs;
		m->lent_cap = m->captsegs;
		m->tsegs = NULL;
		m->ntsegs = m->captsegs = m->tsealed = 0;
	}
	m->lent = s;
	m->lent_out = m->sides;
	return s;
}

void ctw_metrics_give_back_segments(struct ctw_metrics *m, struct ctw_metrics_seg *s)
{
	struct ctw_metrics_seg **v = m->lent_out ? &m->osegs : &m->tsegs;
	size_t *cap = m->lent_out ? &m->caposegs : &m->captsegs;
	bool ours = s && s == m->lent;
	m->lent = NULL; /* never matched again once given back or freed */
	if (!ours || *v) {
		free(s); /* not ours to keep, or the builder has one already */
		return;
	}
	*v = s;
	*cap = m->lent_cap;
}

void ctw_metrics_reserve(struct ctw_metrics *m, size_t bytes)
{
	struct ctw_outbuf *b = &m->text;
	if (m->to_fd || b->cap >= bytes + 1)
		return; /* fd mode: `text` never holds much more than DRAIN_AT */
	size_t old = b->cap;
	b->buf = xrealloc(b->buf, bytes + 1);
	b->cap = bytes + 1;
	ctw_mem_populate(b->buf + old, b->cap - old);
}

void ctw_metrics_set_max_series(struct ctw_metrics *m, size_t max_series)
{
	m->max_series = max_series;
}

void ctw_metrics_reset(struct ctw_metrics *m, size_t max_series)
{
	for (size_t i = 0; i < m->nfams; i++) {
		m->fams[i].body.len = 0;
		m->fams[i].nseries = 0;
		m->fams[i].declared = false;
		m->fams[i].nsegs = 0;
		m->fams[i].loose_runs = 0;
		m->fams[i].last_seg = 0;
		m->fams[i].in_text = false;
	}
	m->text.len = 0;
	m->ntsegs = m->tsealed = 0;
	if (m->fd >= 0)
		close(m->fd); /* a text never taken */
	m->fd = -1;
	m->base = 0;
	m->fd_err = 0;
	m->tail = NO_FAMILY;
	m->sides = false;
	if (m->set.cap)
		memset(m->set.slots, 0, m->set.cap * sizeof(*m->set.slots));
	m->set.n = 0;
	m->blk.open = false;
	m->nosegs = 0;
	m->max_series = max_series;
	m->nseries = 0;
	m->dropped = m->duplicates = m->invalid = 0;
	m->have_cur = false;
	m->rendered = false;
	/* the finished build's stamped blocks are what the next one skips */
	if (m->memo_done)
		m->memo_cur = !m->memo_cur;
	block_memo_clear(&m->memo[m->memo_cur]);
	m->memo_done = false;
	m->npend = 0;
	m->blk.stamped = false;
	m->held = NULL;
	m->skipped = 0;
}
